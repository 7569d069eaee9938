//! `sealbox_root_key`: the secret that seals a soft key store.

use std::ffi::c_char;

use sealbox_core::keystore::RootKey;

use crate::error::sealbox_result;
use crate::handle::box_handle;

/// The 32-byte secret that seals a soft key store.
///
/// Ownership: made by a `sealbox_root_key_*` constructor, freed (and wiped)
/// by `sealbox_root_key_free`. `sealbox_keystore_open` copies what it
/// needs, so the root key may be freed right after opening.
///
/// Thread safety: immutable after construction; may be read by several
/// threads at once. Free it once, when no thread uses it.
pub struct sealbox_root_key {
    _private: [u8; 0],
}

/// A root key from 32 bytes the application holds (e.g. from its own
/// secret manager).
///
/// Ownership: `bytes` is copied; the caller frees `*out` with
/// `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    ffi_boundary! {
        let bytes = try_slice!(bytes, len);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_bytes(bytes)?));
        Ok(())
    }
}

/// A root key read from a file (32 raw bytes, 64 hex digits, or base64).
/// A file that the group or others may access is refused
/// (`SEALBOX_RESULT_INVALID_KEY`): make it mode 0600.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_file(
    path: *const c_char,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    ffi_boundary! {
        let path = try_str!(path);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_file(path)?));
        Ok(())
    }
}

/// A root key (hex or base64) from the environment variable `name`.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: reads the environment; do not call while another thread
/// changes it (setenv).
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_env(
    name: *const c_char,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    ffi_boundary! {
        let name = try_str!(name);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_env(name)?));
        Ok(())
    }
}

/// A fresh random root key.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_generate(
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(RootKey::generate()?));
        Ok(())
    }
}

/// Writes the root key (hex) to a new file with mode 0600. Fails if the
/// file exists (`SEALBOX_RESULT_IO_ERROR`).
///
/// Ownership: borrows `root_key` and `path` for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_write_new_file(
    root_key: *const sealbox_root_key,
    path: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let root_key = try_ref!(root_key);
        let path = try_str!(path);
        root_key.write_new_file(path)?;
        Ok(())
    }
}

/// Frees (and wipes) a root key. NULL is a no-op.
///
/// Ownership: takes back `root_key`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_free(root_key: *mut sealbox_root_key) {
    free_handle!(box root_key)
}
