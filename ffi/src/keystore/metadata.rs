//! What the key store tells about keys: `sealbox_key_metadata` (one key)
//! and `sealbox_key_list` (one page of `sealbox_keystore_list_keys`).

use std::ffi::{c_char, CString};

use sealbox_core::keystore::{KeyMetadata, KeyState};
use sealbox_core::Error;

use super::c_string;
use crate::error::{sealbox_result, Failure};
use crate::string_map::{sealbox_string_map, StringMap};
use crate::values::{buffer, sealbox_buffer};

/// Everything the key store knows about one key, except its material.
/// A snapshot: it does not change when the key does.
///
/// Ownership: returned by the library and freed by the caller with
/// `sealbox_key_metadata_free`, except the ones borrowed from a
/// `sealbox_key_list` (freed with the list). Strings from its accessors
/// borrow from it.
///
/// Thread safety: immutable; any thread may read it concurrently.
pub struct sealbox_key_metadata {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_key_metadata`: the metadata plus C strings of
/// its text fields.
pub(crate) struct Metadata {
    md: KeyMetadata,
    key_id: CString,
    description: CString,
    key_spec: CString,
    key_usage: CString,
    origin: CString,
    key_state: CString,
    backend: CString,
    aliases: Vec<CString>,
    tags: StringMap,
}

impl Metadata {
    pub(super) fn new(md: KeyMetadata) -> Self {
        Metadata {
            key_id: c_string(&md.key_id),
            description: c_string(&md.description),
            key_spec: c_string(md.key_spec.as_str()),
            key_usage: c_string(md.key_usage.as_str()),
            origin: c_string(md.origin.as_str()),
            key_state: c_string(md.key_state.name()),
            backend: c_string(&md.backend),
            aliases: md.aliases.iter().map(|a| c_string(a)).collect(),
            tags: StringMap::from_map(&md.tags),
            md,
        }
    }
}

macro_rules! metadata_text {
    ($md:ident, $field:ident) => {
        read_or!($md, std::ptr::null(), |m| m.$field.as_ptr())
    };
}

/// The key ID (a UUID). NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_id(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_id)
}

/// The description. NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_description(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, description)
}

/// The key spec: `"AES_256"`, `"RSA_2048"`, `"RSA_3072"`, `"RSA_4096"`,
/// `"ECC_NIST_P256"`, `"ECC_NIST_P384"`, `"ECC_NIST_P521"`, `"ECC_SECG_P256K1"`, `"ECC_NIST_EDWARDS25519"`, `"HMAC_224"`, `"HMAC_256"`, `"HMAC_384"`, `"HMAC_512"`, `"ML_DSA_44"`, `"ML_DSA_65"` or `"ML_DSA_87"`. NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_spec(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_spec)
}

/// The key usage: `"ENCRYPT_DECRYPT"`, `"SIGN_VERIFY"`, `"GENERATE_VERIFY_MAC"`
/// or `"KEY_AGREEMENT"`. NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_usage(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_usage)
}

/// The origin: `"SEALBOX"` (generated) or `"EXTERNAL"` (imported). NULL when
/// `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_origin(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, origin)
}

/// The state: `"Enabled"`, `"Disabled"`, `"PendingDeletion"` or
/// `"PendingImport"` (an imported key some of whose material expired or
/// was deleted). NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_state(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_state)
}

/// The backend holding the material: `"soft"` or `"pkcs11"`. NULL when `md`
/// is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_backend(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, backend)
}

/// When a key pending deletion will be destroyed (Unix seconds); 0 for a
/// key that is not pending deletion, or a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_deletion_date(
    md: *const sealbox_key_metadata,
) -> i64 {
    read_or!(md, 0, |m| match m.md.key_state {
        KeyState::PendingDeletion { deletion_date } => deletion_date,
        _ => 0,
    })
}

/// When the key was created (Unix seconds); 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_created_at(md: *const sealbox_key_metadata) -> i64 {
    read_or!(md, 0, |m| m.md.created_at)
}

/// The version used for new encryptions and signatures (1, 2, ...); 0 for
/// a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_primary_version(
    md: *const sealbox_key_metadata,
) -> u32 {
    read_or!(md, 0, |m| m.md.primary_version)
}

/// How many versions the key has; 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_version_count(
    md: *const sealbox_key_metadata,
) -> usize {
    read_or!(md, 0, |m| m.md.versions.len())
}

/// The version at `index` (oldest first): its number and creation time
/// (Unix seconds). `SEALBOX_RESULT_INVALID_ARGUMENT` when out of range.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_version(
    md: *const sealbox_key_metadata,
    index: usize,
    out_version: *mut u32,
    out_created_at: *mut i64,
) -> sealbox_result {
    ffi_boundary! {
        let md = try_ref!(md);
        let (out_version, out_created_at) = (try_out!(out_version), try_out!(out_created_at));
        let v = md.md.versions.get(index).ok_or_else(|| Failure::arg(format!("index {index} is out of range")))?;
        out_version.write(v.version);
        out_created_at.write(v.created_at);
        Ok(())
    }
}

/// An imported key's earliest material expiration (Unix seconds; AWS KMS's
/// ValidTo); 0 when no material expires or `md` is NULL.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_valid_to(md: *const sealbox_key_metadata) -> i64 {
    read_or!(md, 0, |m| m.md.valid_to.unwrap_or(0))
}

/// The material of the version at `index` (oldest first): whether it is
/// there (false once imported material expired and was purged, or was
/// deleted, until it is imported again) and when it expires (Unix seconds;
/// 0: it does not). `SEALBOX_RESULT_INVALID_ARGUMENT` when out of range.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_version_material(
    md: *const sealbox_key_metadata,
    index: usize,
    out_present: *mut bool,
    out_valid_to: *mut i64,
) -> sealbox_result {
    ffi_boundary! {
        let md = try_ref!(md);
        let (out_present, out_valid_to) = (try_out!(out_present), try_out!(out_valid_to));
        let v = md.md.versions.get(index).ok_or_else(|| Failure::arg(format!("index {index} is out of range")))?;
        out_present.write(v.material_present);
        out_valid_to.write(v.valid_to.unwrap_or(0));
        Ok(())
    }
}

/// The automatic rotation period in days; 0 when automatic rotation is off
/// or `md` is NULL.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_rotation_period_days(
    md: *const sealbox_key_metadata,
) -> u32 {
    read_or!(md, 0, |m| m.md.rotation_period_days.unwrap_or(0))
}

/// When the next automatic rotation is due (Unix seconds); 0 when none is
/// scheduled or `md` is NULL.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_next_rotation_at(
    md: *const sealbox_key_metadata,
) -> i64 {
    read_or!(md, 0, |m| m.md.next_rotation_at.unwrap_or(0))
}

/// How many aliases point at the key; 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_alias_count(
    md: *const sealbox_key_metadata,
) -> usize {
    read_or!(md, 0, |m| m.aliases.len())
}

/// The alias at `index`; NULL when out of range or `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_alias(
    md: *const sealbox_key_metadata,
    index: usize,
) -> *const c_char {
    read_or!(md, std::ptr::null(), |m| m
        .aliases
        .get(index)
        .map_or(std::ptr::null(), |a| a.as_ptr()))
}

/// The key's tags. NULL when `md` is NULL.
///
/// Ownership: borrows from `md` (do not free it); valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_tags(
    md: *const sealbox_key_metadata,
) -> *const sealbox_string_map {
    read_or!(md, std::ptr::null(), |m| (&m.tags as *const StringMap)
        .cast())
}

/// All of the metadata as one JSON object (the same fields as the Python
/// and Node bindings' key metadata).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_to_json(
    md: *const sealbox_key_metadata,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([md = try_ref!(md)]
        out => buffer(serde_json::to_vec(&md.md).map_err(|e| Failure::from(Error::InvalidState(format!("key metadata could not be written as JSON: {e}"))))?))
}

/// Frees key metadata returned by the library. NULL is a no-op. Never free
/// metadata borrowed from a `sealbox_key_list`.
///
/// Ownership: takes back `md`; strings obtained from it become invalid.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_free(md: *mut sealbox_key_metadata) {
    free_handle!(box md)
}

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
