//! The builders of the envelope layer: `sealbox_encrypt_options` (how a
//! message is encrypted) and `sealbox_decrypt_options` (how one is
//! decrypted).

use std::ffi::c_char;

use sealbox_core::message::{DecryptOptions, EncryptOptions, Parallelism};
use sealbox_core::{AlgorithmSuite, CommitmentPolicy};

use super::max_encrypted_data_keys;
use crate::error::{sealbox_result, Failure};
use crate::values::{at_least_one, utf8};

/// Options for encrypting a message (suite, frame length, commitment
/// policy, limits, required encryption-context keys). NULL wherever options
/// are taken means the defaults: suite 0x0478, 16384-byte frames,
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

/// The suite with the two-byte ID `id`; an invalid argument when unknown.
fn suite_by_id(id: u16) -> Result<AlgorithmSuite, Failure> {
    AlgorithmSuite::from_id(id)
        .ok_or_else(|| Failure::arg(format!("unknown algorithm suite 0x{id:04x}")))
}

/// Default encryption options.
///
/// Ownership: the caller frees `*out` with `sealbox_encrypt_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_new(
    out: *mut *mut sealbox_encrypt_options,
) -> sealbox_result {
    new_handle!(out, EncryptOptions::default())
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
    with_mut! { options, |o| o.suite = Some(suite_by_id(suite_id)?) }
}

/// Plaintext bytes per frame (at least 1; default 16384).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_frame_length(
    options: *mut sealbox_encrypt_options,
    frame_length: u32,
) -> sealbox_result {
    with_mut! { options, |o| o.frame_length = at_least_one(frame_length, "frame length")? }
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
    with_mut! { options, |o| o.commitment_policy = CommitmentPolicy::from_name(try_str!(policy))? }
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
    with_mut! { options, |o| o.max_encrypted_data_keys = max_encrypted_data_keys(max)? }
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
    with_mut! { options, |o| o.plaintext_length = Some(plaintext_length) }
}

/// At most `threads` threads seal the frames of a large message (`0`: the
/// default, the machine's cores from 1 MiB of whole frames per call; `1`:
/// the calling thread only). The message is the same byte for byte.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_set_threads(
    options: *mut sealbox_encrypt_options,
    threads: usize,
) -> sealbox_result {
    with_mut! { options, |o| o.parallelism = Parallelism::from_option((threads != 0).then_some(threads))? }
}

/// Frees encryption options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt_options_free(options: *mut sealbox_encrypt_options) {
    free_handle!(box options)
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

/// Default decryption options.
///
/// Ownership: the caller frees `*out` with `sealbox_decrypt_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_new(
    out: *mut *mut sealbox_decrypt_options,
) -> sealbox_result {
    new_handle!(out, DecryptOptions::default())
}

/// `"REQUIRE_ENCRYPT_REQUIRE_DECRYPT"` (default),
/// `"REQUIRE_ENCRYPT_ALLOW_DECRYPT"` (also reads old, version 1, messages)
/// or `"FORBID_ENCRYPT_ALLOW_DECRYPT"`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_set_commitment_policy(
    options: *mut sealbox_decrypt_options,
    policy: *const c_char,
) -> sealbox_result {
    with_mut! { options, |o| o.commitment_policy = CommitmentPolicy::from_name(try_str!(policy))? }
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
    with_mut! { options, |o| o.max_encrypted_data_keys = max_encrypted_data_keys(max)? }
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
    with_mut! { options, |o| o.max_body_size = (max != u64::MAX).then_some(max) }
}

/// At most `threads` threads open the frames of a large message (`0`: the
/// default, the machine's cores from 1 MiB of whole frames per call; `1`:
/// the calling thread only).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_set_threads(
    options: *mut sealbox_decrypt_options,
    threads: usize,
) -> sealbox_result {
    with_mut! { options, |o| o.parallelism = Parallelism::from_option((threads != 0).then_some(threads))? }
}

/// Frees decryption options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt_options_free(options: *mut sealbox_decrypt_options) {
    free_handle!(box options)
}
