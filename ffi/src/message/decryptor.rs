//! `sealbox_decryptor`: a message decrypted as a stream.

use sealbox_core::message::Decryptor;

use super::{decrypt_options, sealbox_decrypt_options, Stream};
use crate::cmm::sealbox_cmm;
use crate::error::{sealbox_result, Failure};
use crate::handle::box_handle;
use crate::string_map::{sealbox_string_map, StringMap};
use crate::values::sealbox_buffer;

/// A streaming decryption context: feed ciphertext with
/// `sealbox_decryptor_update`, receive authenticated plaintext frame by
/// frame, and call `sealbox_decryptor_finish` to learn whether the message
/// was complete and (for signed suites) genuine. Until `finish` succeeds,
/// treat released plaintext as unconfirmed; on any error discard it all.
///
/// Ownership: made by `sealbox_decryptor_new`; the caller frees it with
/// `sealbox_decryptor_free`.
///
/// Thread safety: NOT thread-safe, as `sealbox_encryptor`.
pub struct sealbox_decryptor {
    _private: [u8; 0],
}

/// Room for the plaintext a decryptor may release for `n` bytes of input:
/// the input plus one frame it may have been holding (bounded), so that
/// the output is not reallocated, which would leave a copy of plaintext
/// behind unwiped.
fn plaintext_room(d: &Decryptor, n: usize) -> usize {
    let frame = d.header().map_or(64 * 1024, |h| h.frame_length as usize);
    n.saturating_add(frame.min(1 << 20)).saturating_add(1)
}

/// Starts decrypting a streamed message with data keys from `cmm`. The
/// `context` holds the expected pairs, as in `sealbox_decrypt` (NULL or an
/// empty map: none); `options` may be NULL.
///
/// Ownership: the decryptor holds its own reference to `cmm`; the caller
/// frees `*out` with `sealbox_decryptor_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_new(
    cmm: *const sealbox_cmm,
    context: *const sealbox_string_map,
    options: *const sealbox_decrypt_options,
    out: *mut *mut sealbox_decryptor,
) -> sealbox_result {
    with_out!([
        cmm = try_ref!(cmm),
        options = decrypt_options(try_opt_ref!(options), try_expected_context!(context)),
    ] out => box_handle(Stream::new(Decryptor::new(cmm.inner.clone(), options))))
}

/// Feeds `input_len` bytes of the message (any split is fine); `*out`
/// receives the plaintext authenticated so far (possibly empty). On
/// `SEALBOX_RESULT_DECRYPTION_FAILED` discard all plaintext received; the
/// decryptor can then only be freed.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: not thread-safe (see `sealbox_decryptor`).
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_update(
    decryptor: *mut sealbox_decryptor,
    input: *const u8,
    input_len: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    stream_step!(decryptor, [input = try_slice!(input, input_len)] out,
        plaintext_room(&decryptor.inner, input.len()), |d, pt| d.update(input, pt))
}

/// Declares the end of the message: `*out` receives any plaintext held back
/// (the last frame of a signed message, released once the signature
/// verified). `SEALBOX_RESULT_DECRYPTION_FAILED` when the message is
/// incomplete, has extra bytes, or its signature does not verify.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: not thread-safe (see `sealbox_decryptor`).
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_finish(
    decryptor: *mut sealbox_decryptor,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    stream_step!(decryptor, [] out, plaintext_room(&decryptor.inner, 0), |d, pt| d.finish(pt))
}

/// The message's full encryption context, once its header has been read
/// and authenticated; `SEALBOX_RESULT_INVALID_STATE` before that.
///
/// Ownership: the caller frees `*out` with `sealbox_string_map_free`.
///
/// Thread safety: not thread-safe (see `sealbox_decryptor`).
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_encryption_context(
    decryptor: *const sealbox_decryptor,
    out: *mut *mut sealbox_string_map,
) -> sealbox_result {
    with_out!([decryptor = try_ref!(decryptor)] out => box_handle(StringMap::from_map(
        decryptor
            .inner
            .encryption_context()
            .ok_or_else(|| Failure::state("the message header has not been read yet"))?,
    )))
}

/// Frees a decryptor (finished or not). NULL is a no-op.
///
/// Ownership: takes back `decryptor`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_free(decryptor: *mut sealbox_decryptor) {
    free_handle!(box decryptor)
}
