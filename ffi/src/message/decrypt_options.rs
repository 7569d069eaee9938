//! `sealbox_decrypt_options`: how a message is decrypted.

use std::ffi::c_char;

use sealbox_core::message::DecryptOptions;
use sealbox_core::CommitmentPolicy;

use super::max_encrypted_data_keys;
use crate::error::sealbox_result;

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
    with_mut!(options, |options| options.commitment_policy =
        CommitmentPolicy::from_name(try_str!(policy))?)
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
    with_mut!(options, |options| options.max_encrypted_data_keys =
        max_encrypted_data_keys(max)?)
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
    with_mut!(options, |o| o.max_body_size =
        (max != u64::MAX).then_some(max))
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
