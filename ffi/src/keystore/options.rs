//! `sealbox_keystore_options`: how a key store is opened.

use std::ffi::c_char;
use std::path::PathBuf;

use sealbox_core::keystore::KeyStoreOptions;

use crate::error::sealbox_result;

/// Options for opening a key store: audit log path, fsync of audit records,
/// principal. NULL wherever options are taken means the defaults.
///
/// Ownership: made by `sealbox_keystore_options_new`, freed by
/// `sealbox_keystore_options_free`; opening copies what it needs.
///
/// Thread safety: as `sealbox_pkcs11_config`.
pub struct sealbox_keystore_options {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_keystore_options`.
#[derive(Debug, Default)]
pub(crate) struct OpenOptions {
    audit_log: Option<PathBuf>,
    audit_sync: bool,
    principal: Option<String>,
}

impl OpenOptions {
    pub(super) fn to_core(&self) -> KeyStoreOptions {
        let mut o = KeyStoreOptions {
            audit_log: self.audit_log.clone(),
            audit_sync: self.audit_sync,
            ..KeyStoreOptions::default()
        };
        if let Some(p) = &self.principal {
            o.principal = p.clone();
        }
        o
    }
}

/// Default options: the audit log is the database path plus
/// `.audit.jsonl`, records are not fsynced, the principal is `$USER`.
///
/// Ownership: the caller frees `*out` with `sealbox_keystore_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_new(
    out: *mut *mut sealbox_keystore_options,
) -> sealbox_result {
    new_handle!(out, OpenOptions::default())
}

/// Where the audit log goes.
///
/// Ownership: `path` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_audit_log(
    options: *mut sealbox_keystore_options,
    path: *const c_char,
) -> sealbox_result {
    with_mut!(options, |options| options.audit_log =
        Some(PathBuf::from(try_str!(path))))
}

/// Whether every audit record is fsynced (slower; survives power loss).
///
/// Ownership: no pointers kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_audit_sync(
    options: *mut sealbox_keystore_options,
    sync: bool,
) -> sealbox_result {
    with_mut!(options, |o| o.audit_sync = sync)
}

/// Who the operations are attributed to in the audit trail.
///
/// Ownership: `principal` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_principal(
    options: *mut sealbox_keystore_options,
    principal: *const c_char,
) -> sealbox_result {
    with_mut!(options, |options| options.principal =
        Some(try_str!(principal).to_owned()))
}

/// Frees key store options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_free(options: *mut sealbox_keystore_options) {
    free_handle!(box options)
}
