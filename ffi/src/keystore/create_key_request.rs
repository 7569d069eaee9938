//! `sealbox_create_key_request`: what key to create.

use std::ffi::c_char;

use sealbox_core::keystore::{self as ks_api, CreateKeyRequest};

use crate::error::sealbox_result;

/// What key to create (spec, usage, alias, description, tags, rotation).
/// NULL wherever a request is taken means an `AES_256` `ENCRYPT_DECRYPT` key
/// with no alias.
///
/// Ownership: made by `sealbox_create_key_request_new`, freed by
/// `sealbox_create_key_request_free`.
///
/// Thread safety: as `sealbox_pkcs11_config`.
pub struct sealbox_create_key_request {
    _private: [u8; 0],
}

/// A request for an `AES_256` `ENCRYPT_DECRYPT` key with no alias, to be
/// changed with the setters.
///
/// Ownership: the caller frees `*out` with `sealbox_create_key_request_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_new(
    out: *mut *mut sealbox_create_key_request,
) -> sealbox_result {
    new_handle!(out, CreateKeyRequest::default())
}

/// The key spec: `"AES_256"`, `"RSA_2048"`, `"RSA_3072"`, `"RSA_4096"`,
/// `"ECC_NIST_P256"`, `"HMAC_256"` or `"HMAC_512"`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_spec(
    request: *mut sealbox_create_key_request,
    key_spec: *const c_char,
) -> sealbox_result {
    with_mut!(request, |request| request.key_spec = try_parse!(key_spec))
}

/// The key usage: `"ENCRYPT_DECRYPT"`, `"SIGN_VERIFY"` or
/// `"GENERATE_VERIFY_MAC"` (default: the spec's natural usage).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_usage(
    request: *mut sealbox_create_key_request,
    key_usage: *const c_char,
) -> sealbox_result {
    with_mut!(request, |request| request.key_usage =
        Some(try_parse!(key_usage)))
}

/// An alias (`alias/...`) to point at the new key.
///
/// Ownership: `alias` is copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_alias(
    request: *mut sealbox_create_key_request,
    alias: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        let alias = try_str!(alias);
        ks_api::check_alias(alias)?;
        request.alias = Some(alias.to_owned());
        Ok(())
    }
}

/// Free text describing the key.
///
/// Ownership: `description` is copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_description(
    request: *mut sealbox_create_key_request,
    description: *const c_char,
) -> sealbox_result {
    with_mut!(request, |request| request.description =
        try_str!(description).to_owned())
}

/// Adds (or replaces) one tag.
///
/// Ownership: `key` and `value` are copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_tag(
    request: *mut sealbox_create_key_request,
    key: *const c_char,
    value: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        let (key, value) = (try_str!(key), try_str!(value));
        request.tags.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// Automatic rotation every `days` days (1..=2560; `AES_256` keys only);
/// 0 turns it off (the default).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_rotation_period_days(
    request: *mut sealbox_create_key_request,
    days: u32,
) -> sealbox_result {
    with_mut!(request, |request| request.rotation_period_days =
        (days != 0).then_some(days))
}

/// Frees a create-key request. NULL is a no-op.
///
/// Ownership: takes back `request`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_free(request: *mut sealbox_create_key_request) {
    free_handle!(box request)
}
