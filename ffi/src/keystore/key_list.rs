//! `sealbox_key_list`: one page of `sealbox_keystore_list_keys`.

use std::ffi::{c_char, CString};

use super::{sealbox_key_metadata, Metadata};

/// One page of `sealbox_keystore_list_keys`.
///
/// Ownership: freed by the caller with `sealbox_key_list_free`, which also
/// frees the metadata it lends out.
///
/// Thread safety: immutable; any thread may read it concurrently.
pub struct sealbox_key_list {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_key_list`.
pub(crate) struct KeyList {
    pub(super) keys: Vec<Metadata>,
    pub(super) next_marker: Option<CString>,
}

/// The number of keys on this page; 0 for a NULL `list`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_len(list: *const sealbox_key_list) -> usize {
    read_or!(list, 0, |l| l.keys.len())
}

/// The metadata of the key at `index`; NULL when out of range or `list` is
/// NULL.
///
/// Ownership: borrows from `list` (do not free it); valid until `list` is
/// freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_get(
    list: *const sealbox_key_list,
    index: usize,
) -> *const sealbox_key_metadata {
    read_or!(list, std::ptr::null(), |l| l
        .keys
        .get(index)
        .map_or(std::ptr::null(), |m| (m as *const Metadata).cast()))
}

/// The marker to pass to `sealbox_keystore_list_keys` for the next page;
/// NULL on the last page (or when `list` is NULL).
///
/// Ownership: borrows from `list`; valid until `list` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_next_marker(
    list: *const sealbox_key_list,
) -> *const c_char {
    read_or!(list, std::ptr::null(), |l| l
        .next_marker
        .as_ref()
        .map_or(std::ptr::null(), |m| m.as_ptr()))
}

/// Frees a key list and the metadata it lends out. NULL is a no-op.
///
/// Ownership: takes back `list`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_free(list: *mut sealbox_key_list) {
    free_handle!(box list)
}
