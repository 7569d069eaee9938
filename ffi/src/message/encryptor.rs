//! `sealbox_encryptor`: a message encrypted as a stream.

use sealbox_core::message::Encryptor;

use super::{encrypt_options, room, sealbox_encrypt_options, Stream};
use crate::cmm::sealbox_cmm;
use crate::error::sealbox_result;
use crate::handle::box_handle;
use crate::string_map::sealbox_string_map;
use crate::values::sealbox_buffer;

/// A streaming encryption context: feed plaintext with
/// `sealbox_encryptor_update`, receive ciphertext, end with
/// `sealbox_encryptor_finish`. Memory stays bounded by the frame length
/// whatever the message size.
///
/// Ownership: made by `sealbox_encryptor_new`; the caller frees it with
/// `sealbox_encryptor_free` (also when abandoning a message midway).
///
/// Thread safety: NOT thread-safe: it holds one message's state. Use it from
/// one thread at a time (it may move between threads between calls).
pub struct sealbox_encryptor {
    _private: [u8; 0],
}

/// Starts a streamed message: gets materials from `cmm` now (so a bad key
/// fails here), writes nothing until the first update. `context` is as in
/// `sealbox_encrypt` (NULL: the empty context); `options` may be NULL.
///
/// Ownership: the encryptor keeps no reference to `cmm` or the arguments;
/// the caller frees `*out` with `sealbox_encryptor_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_new(
    cmm: *const sealbox_cmm,
    context: *const sealbox_string_map,
    options: *const sealbox_encrypt_options,
    out: *mut *mut sealbox_encryptor,
) -> sealbox_result {
    with_out!([cmm = try_ref!(cmm), options = encrypt_options(try_opt_ref!(options), try_context!(context))]
        out => box_handle(Stream::new(Encryptor::new(cmm.inner.as_ref(), &options)?)))
}

/// Feeds `input_len` bytes of plaintext (0 is fine); `*out` receives the
/// ciphertext completed so far (the header on the first call, then whole
/// frames; possibly empty). `SEALBOX_RESULT_INVALID_STATE` after `finish`
/// or after a failed call.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: not thread-safe (see `sealbox_encryptor`).
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_update(
    encryptor: *mut sealbox_encryptor,
    input: *const u8,
    input_len: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    stream_step!(encryptor, [input = try_slice!(input, input_len)] out, room(input.len()),
        |e, ct| e.update(input, ct))
}

/// Ends the message: `*out` receives the final frame (and the signature
/// footer of signed suites). The encryptor cannot be used afterwards
/// (`SEALBOX_RESULT_INVALID_STATE`), only freed.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: not thread-safe (see `sealbox_encryptor`).
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_finish(
    encryptor: *mut sealbox_encryptor,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    stream_step!(encryptor, [] out, room(0), |e, ct| e.finish(ct))
}

/// Frees an encryptor (finished or not). NULL is a no-op.
///
/// Ownership: takes back `encryptor`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_free(encryptor: *mut sealbox_encryptor) {
    free_handle!(box encryptor)
}
