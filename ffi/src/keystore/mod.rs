//! The key store: opening it (soft or PKCS#11 backend) and sharing it.
//! The C types are grouped by concern, after rustls-ffi: [`config`] (what
//! opens a store or creates a key), [`metadata`] (what it tells about keys),
//! and the key store's own functions in [`lifecycle`] (keys, aliases, tags),
//! [`crypto`] (the cryptographic operations), [`access`] (principals, key
//! policies, grants) and [`audit`].

mod access;
mod audit;
mod config;
mod crypto;
mod lifecycle;
mod metadata;
mod secrets;

use std::ffi::{c_char, CString};

use sealbox_core::keystore::KeyStore;

use crate::error::sealbox_result;
use crate::handle::arc_handle;

pub use config::{
    sealbox_create_key_request, sealbox_keystore_options, sealbox_pkcs11_config, sealbox_root_key,
};
pub(crate) use config::{OpenOptions, Pkcs11Settings};
pub use metadata::{sealbox_key_list, sealbox_key_metadata};
pub(crate) use metadata::{KeyList, Metadata};

/// A key store: the custodian of master keys (the "KMS").
///
/// Ownership: made by `sealbox_keystore_open` or `sealbox_keystore_open_pkcs11`;
/// the caller frees it with `sealbox_keystore_free`. Keyrings made from it
/// keep what they need alive, so it may be freed before them.
///
/// Thread safety: thread-safe. One key store serves every thread of the
/// application; all its functions may be called concurrently.
pub struct sealbox_keystore {
    _private: [u8; 0],
}

/// Text for C: a string with any NUL replaced (C strings end at NUL).
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Opens (creating if needed) the key store in the SQLite file `path`, with
/// key material sealed under `root_key` (the embedded default, "soft"
/// backend). `options` may be NULL.
///
/// `path` may instead be a PostgreSQL URL,
/// `postgresql://user:password@host:port/db` (with
/// `?sslmode=verify-full&sslrootcert=ca.pem` as libpq reads them): a store
/// several processes share, whose audit trail is kept in the database.
/// `SEALBOX_RESULT_STORE_UNAVAILABLE` when its server cannot be reached.
///
/// `SEALBOX_RESULT_WRONG_ROOT_KEY` when the store was created with another
/// root key.
///
/// Ownership: borrows the arguments for the call; the caller frees `*out`
/// with `sealbox_keystore_free`.
///
/// Thread safety: safe to call from any thread. Open a store once per
/// process and share the handle.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_open(
    path: *const c_char,
    root_key: *const sealbox_root_key,
    options: *const sealbox_keystore_options,
    out: *mut *const sealbox_keystore,
) -> sealbox_result {
    with_out!([path = try_str!(path), root_key = try_ref!(root_key), options = try_opt_ref!(options).map(OpenOptions::to_core).unwrap_or_default()]
        out => arc_handle(KeyStore::open(path, root_key, options)?))
}

/// Opens (creating if needed) the key store in the SQLite file `path` (or
/// the PostgreSQL database `path` names, as in `sealbox_keystore_open`),
/// with key material generated and kept inside a PKCS#11 token. `options`
/// may be NULL.
///
/// Ownership: borrows the arguments for the call; the caller frees `*out`
/// with `sealbox_keystore_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_open_pkcs11(
    path: *const c_char,
    config: *const sealbox_pkcs11_config,
    options: *const sealbox_keystore_options,
    out: *mut *const sealbox_keystore,
) -> sealbox_result {
    with_out!([path = try_str!(path), config = try_ref!(config),
        options = try_opt_ref!(options).map(OpenOptions::to_core).unwrap_or_default()]
        out => arc_handle(KeyStore::open_pkcs11(path, config.to_core()?, options)?))
}

/// Releases the caller's reference to a key store. NULL is a no-op. The
/// store closes when keyrings made from it are freed too.
///
/// Ownership: takes back `keystore`.
///
/// Thread safety: call once per handle, when this holder no longer uses it;
/// other threads may go on using keyrings made from it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_free(keystore: *const sealbox_keystore) {
    free_handle!(arc keystore)
}

/// The backend: `"soft"` or `"pkcs11"` (NULL when `keystore` is NULL).
///
/// Ownership: a static string; do not free.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_backend_kind(
    keystore: *const sealbox_keystore,
) -> *const c_char {
    read_or!(keystore, std::ptr::null(), |ks| match ks.backend_kind() {
        "soft" => c"soft".as_ptr(),
        "pkcs11" => c"pkcs11".as_ptr(),
        _ => std::ptr::null(),
    })
}

/// The propagation bound the key store works with, in milliseconds (see
/// `sealbox_keystore_options_set_metadata_cache_ttl_ms`).
///
/// Ownership: borrows `keystore`; writes `*out_ms`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_metadata_cache_ttl_ms(
    keystore: *const sealbox_keystore,
    out_ms: *mut u64,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore)]
        out_ms => u64::try_from(ks.metadata_cache_ttl().as_millis()).unwrap_or(u64::MAX))
}

/// How many times `operation` (named as in AWS KMS: `"Encrypt"`,
/// `"GenerateDataKey"`, ...) was allowed since this store was opened in
/// this process. 0 for NULL arguments or an unknown name.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_operation_count(
    keystore: *const sealbox_keystore,
    operation: *const c_char,
) -> u64 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live key store handle.
        let Some(ks) = (unsafe { crate::handle::try_ref(keystore) }) else { return 0 };
        // SAFETY: NULL or a NUL-terminated string.
        match unsafe { crate::values::text(operation, "operation") } {
            Ok(op) => ks.operation_count(op),
            Err(_) => 0,
        }
    }
}
