//! `sealbox_string_map`: pairs of UTF-8 strings, the one form in which an
//! encryption context (or tags, or aliases) crosses the boundary, in both
//! directions.

use std::collections::BTreeMap;

use sealbox_core::EncryptionContext;

use crate::error::{sealbox_result, Failure};
use crate::values::utf8;

/// Pairs of UTF-8 strings, sorted by key (bytewise), each key at most once:
/// an encryption context, tags, or aliases and the keys they name.
///
/// As input, an encryption context is a `const sealbox_string_map *`: build
/// one with `sealbox_string_map_new` and `sealbox_string_map_insert`, pass it
/// to any number of calls, free it with `sealbox_string_map_free`. NULL is
/// accepted wherever a context is taken and means the empty context (for
/// the decrypt functions: no expected pairs). A map the library returned
/// (e.g. the context of a decrypted message) can be passed as input too.
///
/// Ownership: the caller frees a map it made, or one the library returned
/// through an output argument, with `sealbox_string_map_free`. Maps
/// returned as `const sealbox_string_map *` (`sealbox_key_metadata_tags`)
/// borrow from another handle: never free or change them. The pointers that
/// `sealbox_string_map_get` gives out are valid until the map is changed or
/// freed.
///
/// Thread safety: not thread-safe while being changed
/// (`sealbox_string_map_insert`); otherwise any number of threads may read
/// it, or pass it to calls, at once.
pub struct sealbox_string_map {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_string_map`: sorted by key, each key and value
/// stored with a final NUL (for C) that `str` views leave out.
#[derive(Debug, Default)]
pub(crate) struct StringMap {
    entries: Vec<(String, String)>,
}

fn nul_terminated(s: &str) -> String {
    let mut v = String::with_capacity(s.len() + 1);
    v.push_str(s);
    v.push('\0');
    v
}

/// `s` without its final NUL.
fn text(s: &str) -> &str {
    &s[..s.len() - 1]
}

impl StringMap {
    pub(crate) fn from_map(map: &BTreeMap<String, String>) -> Self {
        Self::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    pub(crate) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        StringMap {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (nul_terminated(k), nul_terminated(v)))
                .collect(),
        }
    }

    /// Adds a pair, keeping the order; a key already present is refused.
    fn insert(&mut self, key: &str, value: &str) -> Result<(), Failure> {
        match self
            .entries
            .binary_search_by(|(k, _)| text(k).as_bytes().cmp(key.as_bytes()))
        {
            Ok(_) => Err(Failure::arg(format!(
                "the key {key:?} appears more than once (it is already in the map)"
            ))),
            Err(at) => {
                self.entries
                    .insert(at, (nul_terminated(key), nul_terminated(value)));
                Ok(())
            }
        }
    }

    /// The pairs as an encryption context.
    pub(crate) fn to_context(&self) -> EncryptionContext {
        self.entries
            .iter()
            .map(|(k, v)| (text(k).to_owned(), text(v).to_owned()))
            .collect()
    }
}

/// A new, empty map, to fill with `sealbox_string_map_insert` (e.g. an
/// encryption context to pass as input).
///
/// Ownership: the caller frees `*out` with `sealbox_string_map_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_new(
    out: *mut *mut sealbox_string_map,
) -> sealbox_result {
    new_handle!(out, StringMap::default())
}

/// Adds the pair `key` = `value` (byte strings with their lengths; both
/// must be UTF-8, may be empty, and a NULL pointer goes with length 0).
/// `SEALBOX_RESULT_INVALID_ARGUMENT` when either is not valid UTF-8 or when
/// `key` is already in the map (a pair is never replaced: a context is
/// built once, and a key given twice is a mistake to report). The map is
/// unchanged on failure.
///
/// Ownership: `key` and `value` are copied.
///
/// Thread safety: not while another thread uses `map`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_insert(
    map: *mut sealbox_string_map,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> sealbox_result {
    ffi_boundary! {
        let map = try_mut!(map);
        let key = utf8(try_slice!(key, key_len), "the key")?;
        let value = utf8(try_slice!(value, value_len), "the value")?;
        map.insert(key, value)
    }
}

/// The number of pairs in `map` (0 when `map` is NULL).
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_len(map: *const sealbox_string_map) -> usize {
    read_or!(map, 0, |m| m.entries.len())
}

/// The pair at `index` (0-based, in key order).
///
/// Writes pointers to the key and the value and their lengths in bytes
/// (each is also followed by a NUL byte, not counted). The pointers borrow
/// from `map`. `SEALBOX_RESULT_INVALID_ARGUMENT` when `index` is out of
/// range; nothing is written on failure.
///
/// Ownership: the pointers written borrow from `map` and are valid until
/// it is changed or freed; do not free them.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_get(
    map: *const sealbox_string_map,
    index: usize,
    out_key: *mut *const u8,
    out_key_len: *mut usize,
    out_value: *mut *const u8,
    out_value_len: *mut usize,
) -> sealbox_result {
    ffi_boundary! {
        let map = try_ref!(map);
        let (out_key, out_key_len) = (try_out!(out_key), try_out!(out_key_len));
        let (out_value, out_value_len) = (try_out!(out_value), try_out!(out_value_len));
        let (k, v) = map.entries.get(index).ok_or_else(|| {
            Failure::arg(format!("index {index} is out of range (the map has {} pairs)", map.entries.len()))
        })?;
        out_key.write(k.as_ptr());
        out_key_len.write(k.len() - 1);
        out_value.write(v.as_ptr());
        out_value_len.write(v.len() - 1);
        Ok(())
    }
}

/// Frees a string map (one the caller made or the library returned through
/// an output argument). NULL is a no-op.
///
/// Ownership: takes back the map; pointers obtained from it become invalid.
/// Never free a map borrowed from another handle.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_free(map: *mut sealbox_string_map) {
    free_handle!(box map)
}
