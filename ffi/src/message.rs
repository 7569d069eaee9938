//! The envelope layer: AWS Encryption SDK messages, one-shot and streaming.

use std::ffi::c_char;

use sealbox_core::message::{
    decrypt, encrypt, DecryptOptions, Decryptor, EncryptOptions, Encryptor,
};
use sealbox_core::{AlgorithmSuite, CommitmentPolicy};

use crate::cmm::sealbox_cmm;
use crate::error::{sealbox_result, Failure};
use crate::handle::{box_handle, free_box};
use crate::values::{buffer, sealbox_buffer, sealbox_string_map, utf8, StringMap};

/// Options for encrypting a message (suite, frame length, commitment
/// policy, limits, required encryption-context keys). NULL wherever options
/// are taken means the defaults: suite 0x0478, 4096-byte frames,
/// REQUIRE_ENCRYPT_REQUIRE_DECRYPT, at most 100 encrypted data keys.
///
/// Ownership: made by `sealbox_encrypt_options_new`, freed by
/// `sealbox_encrypt_options_free`; calls that take options copy what they
/// need.
///
/// Thread safety: not thread-safe while being changed; once set up it may be
/// passed to calls on several threads at once.
pub struct sealbox_encrypt_options {
    _private: [u8; 0],
}

/// Options for decrypting a message (commitment policy, limits). NULL
/// wherever options are taken means the defaults:
/// REQUIRE_ENCRYPT_REQUIRE_DECRYPT, at most 100 encrypted data keys, no
/// body size limit.
///
/// Ownership: made by `sealbox_decrypt_options_new`, freed by
/// `sealbox_decrypt_options_free`.
///
/// Thread safety: as `sealbox_encrypt_options`.
pub struct sealbox_decrypt_options {
    _private: [u8; 0],
}

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

/// A streaming context plus a mark that stays set if a call panicked
/// midway, so that the half-updated state is never used again.
#[derive(Debug)]
pub(crate) struct Stream<T> {
    inner: T,
    poisoned: bool,
}

impl<T> Stream<T> {
    fn new(inner: T) -> Self {
        Stream {
            inner,
            poisoned: false,
        }
    }

    fn run<R>(&mut self, f: impl FnOnce(&mut T) -> sealbox_core::Result<R>) -> Result<R, Failure> {
        if self.poisoned {
            return Err(Failure::state(
                "an earlier call on this context panicked; free it",
            ));
        }
        self.poisoned = true;
        let r = f(&mut self.inner);
        self.poisoned = false;
        Ok(r?)
    }
}

/// Room for the ciphertext of `n` bytes of plaintext (plus the header or
/// footer that a call may also write), so that a call allocates once.
fn room(n: usize) -> usize {
    n.saturating_add(n / 64).saturating_add(8192)
}

/// Room for the plaintext a decryptor may release for `n` bytes of input:
/// the input plus one frame it may have been holding (bounded), so that
/// the output is not reallocated, which would leave a copy of plaintext
/// behind unwiped.
fn plaintext_room(d: &Decryptor, n: usize) -> usize {
    let frame = d.header().map_or(64 * 1024, |h| h.frame_length as usize);
    n.saturating_add(frame.min(1 << 20)).saturating_add(1)
}

// ------------------------------------------------------------- options --

/// Default encryption options.
///
/// Ownership: the caller frees `*out` with `sealbox_encrypt_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_new(
    out: *mut *mut sealbox_encrypt_options,
) -> sealbox_result {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(EncryptOptions::default()));
        Ok(())
    }
}

/// The algorithm suite by its two-byte ID: 0x0478 (default; committing),
/// 0x0578 (committing, ECDSA P-384 signature), or a version 1 suite when the
/// commitment policy is FORBID_ENCRYPT_ALLOW_DECRYPT.
/// `SEALBOX_RESULT_INVALID_ARGUMENT` for an unknown ID.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_algorithm_suite(
    options: *mut sealbox_encrypt_options,
    suite_id: u16,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        let suite = AlgorithmSuite::from_id(suite_id)
            .ok_or_else(|| Failure::arg(format!("unknown algorithm suite 0x{suite_id:04x}")))?;
        options.suite = Some(suite);
        Ok(())
    }
}

/// Plaintext bytes per frame (at least 1; default 4096).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_frame_length(
    options: *mut sealbox_encrypt_options,
    frame_length: u32,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        if frame_length == 0 {
            return Err(Failure::arg("frame length must be at least 1"));
        }
        options.frame_length = frame_length;
        Ok(())
    }
}

/// `"REQUIRE_ENCRYPT_REQUIRE_DECRYPT"` (default),
/// `"REQUIRE_ENCRYPT_ALLOW_DECRYPT"` or `"FORBID_ENCRYPT_ALLOW_DECRYPT"`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_commitment_policy(
    options: *mut sealbox_encrypt_options,
    policy: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        options.commitment_policy = CommitmentPolicy::from_name(try_str!(policy))?;
        Ok(())
    }
}

/// Refuse to write more than `max` encrypted data keys (at least 1;
/// default 100; `SIZE_MAX`: the format's limit of 65,535).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_max_encrypted_data_keys(
    options: *mut sealbox_encrypt_options,
    max: usize,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        options.max_encrypted_data_keys = max_encrypted_data_keys(max)?;
        Ok(())
    }
}

/// Marks an encryption-context key as required: its pair is authenticated
/// but not stored in the message, so the decrypting party must supply it.
/// The key must be in the context given to encrypt.
///
/// Ownership: `key` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_add_required_encryption_context_key(
    options: *mut sealbox_encrypt_options,
    key: *const u8,
    key_len: usize,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        let key = utf8(try_slice!(key, key_len), "the key")?;
        options.required_encryption_context_keys.push(key.to_owned());
        Ok(())
    }
}

/// Declares the plaintext length of a streamed message up front (lets a
/// caching CMM count bytes; the message must then be exactly that long).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_plaintext_length(
    options: *mut sealbox_encrypt_options,
    plaintext_length: u64,
) -> sealbox_result {
    ffi_boundary! {
        try_mut!(options).plaintext_length = Some(plaintext_length);
        Ok(())
    }
}

/// Frees encryption options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_free(options: *mut sealbox_encrypt_options) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or live options owned by the caller.
        unsafe { free_box(options) }
    }
}

/// Default decryption options.
///
/// Ownership: the caller frees `*out` with `sealbox_decrypt_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_new(
    out: *mut *mut sealbox_decrypt_options,
) -> sealbox_result {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(DecryptOptions::default()));
        Ok(())
    }
}

/// As `sealbox_encrypt_options_set_commitment_policy`;
/// `"REQUIRE_ENCRYPT_ALLOW_DECRYPT"` reads old (version 1) messages.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_set_commitment_policy(
    options: *mut sealbox_decrypt_options,
    policy: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        options.commitment_policy = CommitmentPolicy::from_name(try_str!(policy))?;
        Ok(())
    }
}

/// Reject messages with more than `max` encrypted data keys before any is
/// unwrapped (at least 1; default 100; `SIZE_MAX`: no limit).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_set_max_encrypted_data_keys(
    options: *mut sealbox_decrypt_options,
    max: usize,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        options.max_encrypted_data_keys = max_encrypted_data_keys(max)?;
        Ok(())
    }
}

/// Reject messages whose plaintext would exceed `max` bytes
/// (`SEALBOX_RESULT_MESSAGE_TOO_LARGE`; default and `UINT64_MAX`: no limit).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_set_max_body_size(
    options: *mut sealbox_decrypt_options,
    max: u64,
) -> sealbox_result {
    ffi_boundary! {
        try_mut!(options).max_body_size = (max != u64::MAX).then_some(max);
        Ok(())
    }
}

/// Frees decryption options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_free(options: *mut sealbox_decrypt_options) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or live options owned by the caller.
        unsafe { free_box(options) }
    }
}

// ------------------------------------------------------------ one-shot --

/// Encrypts `plaintext` into one AWS Encryption SDK message, with data keys
/// from `cmm`, bound to the encryption context given as `context_count`
/// key/value byte strings (UTF-8; stored in the message, authenticated).
/// `options` may be NULL.
///
/// Ownership: the caller frees `*out` (the message) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently, also with the same `cmm`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt(
    cmm: *const sealbox_cmm,
    plaintext: *const u8,
    plaintext_len: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    options: *const sealbox_encrypt_options,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let plaintext = try_slice!(plaintext, plaintext_len);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        // SAFETY: NULL (defaults) or live options.
        let mut options = unsafe { crate::handle::try_ref(options) }.cloned().unwrap_or_default();
        let out = try_out!(out);
        options.encryption_context = ec;
        out.write(buffer(encrypt(plaintext, cmm.inner.as_ref(), &options)?));
        Ok(())
    }
}

/// Decrypts one complete message. The context arrays give the pairs the
/// caller expects (`context_count` 0: accept whatever context the message
/// carries, and check `*out_context`): each must be in the message with
/// the same value, and pairs authenticated but not stored are supplied from
/// here. Any mismatch, tampering or wrong key is
/// `SEALBOX_RESULT_DECRYPTION_FAILED`. `options` may be NULL.
///
/// Ownership: the caller frees `*out_plaintext` with `sealbox_buffer_free`
/// (wiped on free) and, unless `out_context` is NULL, `*out_context` (the
/// message's full encryption context) with `sealbox_string_map_free`.
///
/// Thread safety: safe to call concurrently, also with the same `cmm`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt(
    cmm: *const sealbox_cmm,
    message: *const u8,
    message_len: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    options: *const sealbox_decrypt_options,
    out_plaintext: *mut *mut sealbox_buffer,
    out_context: *mut *mut sealbox_string_map,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let message = try_slice!(message, message_len);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        // SAFETY: NULL (defaults) or live options.
        let mut options = unsafe { crate::handle::try_ref(options) }.cloned().unwrap_or_default();
        let out_plaintext = try_out!(out_plaintext);
        let out_context = opt_out!(out_context);
        options.encryption_context = (context_count > 0).then_some(ec);
        let result = decrypt(message, cmm.inner.as_ref(), &options)?;
        if out_context.wanted() {
            out_context.write(box_handle(StringMap::from_map(&result.encryption_context)));
        }
        out_plaintext.write(buffer(result.plaintext));
        Ok(())
    }
}

// ------------------------------------------------------------ streaming --

/// Starts a streamed message: gets materials from `cmm` now (so a bad key
/// fails here), writes nothing until the first update. The context arrays
/// are as in `sealbox_encrypt`; `options` may be NULL.
///
/// Ownership: the encryptor keeps no reference to `cmm` or the arguments;
/// the caller frees `*out` with `sealbox_encryptor_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_new(
    cmm: *const sealbox_cmm,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    options: *const sealbox_encrypt_options,
    out: *mut *mut sealbox_encryptor,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        // SAFETY: NULL (defaults) or live options.
        let mut options = unsafe { crate::handle::try_ref(options) }.cloned().unwrap_or_default();
        let out = try_out!(out);
        options.encryption_context = ec;
        let encryptor = Encryptor::new(cmm.inner.as_ref(), &options)?;
        out.write(box_handle(Stream::new(encryptor)));
        Ok(())
    }
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
    ffi_boundary! {
        let encryptor = try_mut!(encryptor);
        let input = try_slice!(input, input_len);
        let out = try_out!(out);
        let mut ciphertext = Vec::with_capacity(room(input.len()));
        encryptor.run(|e| e.update(input, &mut ciphertext))?;
        out.write(buffer(ciphertext));
        Ok(())
    }
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
    ffi_boundary! {
        let encryptor = try_mut!(encryptor);
        let out = try_out!(out);
        let mut ciphertext = Vec::with_capacity(room(0));
        encryptor.run(|e| e.finish(&mut ciphertext))?;
        out.write(buffer(ciphertext));
        Ok(())
    }
}

/// Frees an encryptor (finished or not). NULL is a no-op.
///
/// Ownership: takes back `encryptor`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encryptor_free(encryptor: *mut sealbox_encryptor) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live encryptor owned by the caller.
        unsafe { free_box(encryptor) }
    }
}

/// Starts decrypting a streamed message with data keys from `cmm`. The
/// context arrays are the expected pairs, as in `sealbox_decrypt`;
/// `options` may be NULL.
///
/// Ownership: the decryptor holds its own reference to `cmm`; the caller
/// frees `*out` with `sealbox_decryptor_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_new(
    cmm: *const sealbox_cmm,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    options: *const sealbox_decrypt_options,
    out: *mut *mut sealbox_decryptor,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        // SAFETY: NULL (defaults) or live options.
        let mut options = unsafe { crate::handle::try_ref(options) }.cloned().unwrap_or_default();
        let out = try_out!(out);
        options.encryption_context = (context_count > 0).then_some(ec);
        out.write(box_handle(Stream::new(Decryptor::new(cmm.inner.clone(), options))));
        Ok(())
    }
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
    ffi_boundary! {
        let decryptor = try_mut!(decryptor);
        let input = try_slice!(input, input_len);
        let out = try_out!(out);
        let mut plaintext = Vec::with_capacity(plaintext_room(&decryptor.inner, input.len()));
        decryptor.run(|d| d.update(input, &mut plaintext))?;
        out.write(buffer(plaintext));
        Ok(())
    }
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
    ffi_boundary! {
        let decryptor = try_mut!(decryptor);
        let out = try_out!(out);
        let mut plaintext = Vec::with_capacity(plaintext_room(&decryptor.inner, 0));
        decryptor.run(|d| d.finish(&mut plaintext))?;
        out.write(buffer(plaintext));
        Ok(())
    }
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
    ffi_boundary! {
        let decryptor = try_ref!(decryptor);
        let out = try_out!(out);
        let ec = decryptor
            .inner
            .encryption_context()
            .ok_or_else(|| Failure::state("the message header has not been read yet"))?;
        out.write(box_handle(StringMap::from_map(ec)));
        Ok(())
    }
}

/// Frees a decryptor (finished or not). NULL is a no-op.
///
/// Ownership: takes back `decryptor`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decryptor_free(decryptor: *mut sealbox_decryptor) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live decryptor owned by the caller.
        unsafe { free_box(decryptor) }
    }
}

/// The C form of a data-key limit: at least 1, `SIZE_MAX` meaning none.
fn max_encrypted_data_keys(max: usize) -> Result<Option<usize>, Failure> {
    if max == 0 {
        return Err(Failure::arg(
            "the maximum number of encrypted data keys must be at least 1",
        ));
    }
    Ok((max != usize::MAX).then_some(max))
}
