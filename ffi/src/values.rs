//! Values crossing the boundary: byte buffers the library returns, maps of
//! strings, and the checks on what the caller passes in.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};

use sealbox_core::EncryptionContext;
use zeroize::Zeroize;

use crate::error::{sealbox_result, Failure};
use crate::handle::free_box;

/// Bytes returned by the library: a ciphertext, a plaintext, a key, a
/// signature, PEM or JSON text.
///
/// Ownership: the caller owns the buffer and frees it with
/// `sealbox_buffer_free`, which zeroizes the bytes first (buffers may hold
/// plaintext or data keys). Never free it with `free()`, never change `data`
/// or `len`, and never pass a `sealbox_buffer` the library did not return.
///
/// `data[len]` is always a NUL byte (not counted in `len`), so text (PEM,
/// JSON) can be used as a C string; binary data may contain NUL bytes too.
/// When `len` is 0, `data` is still a valid, non-NULL pointer.
///
/// Thread safety: immutable; any thread may read it. Free it once.
#[repr(C)]
#[derive(Debug)]
pub struct sealbox_buffer {
    /// The bytes (read-only), followed by a NUL byte.
    pub data: *const u8,
    /// The number of bytes at `data`, not counting the final NUL.
    pub len: usize,
}

/// What a `sealbox_buffer *` really points at: the public part first.
#[repr(C)]
struct BufferAlloc {
    public: sealbox_buffer,
    storage: Vec<u8>,
}

/// Hands `bytes` to C as a buffer (appends the NUL).
pub(crate) fn buffer(mut bytes: Vec<u8>) -> *mut sealbox_buffer {
    let len = bytes.len();
    if len == bytes.capacity() {
        // Growing in place could move the bytes and free the old block
        // unwiped; they may be plaintext.
        let mut grown = Vec::with_capacity(len + 1);
        grown.extend_from_slice(&bytes);
        bytes.zeroize();
        bytes = grown;
    }
    bytes.push(0);
    let alloc = Box::new(BufferAlloc {
        public: sealbox_buffer {
            data: bytes.as_ptr(),
            len,
        },
        storage: bytes,
    });
    // The Vec's heap block does not move with the Box, so `data` stays valid.
    Box::into_raw(alloc).cast::<sealbox_buffer>()
}

/// A buffer with a copy of `bytes` (for secrets held in locked memory: the
/// copy is what C gets, and it is zeroized on free).
pub(crate) fn buffer_from_slice(bytes: &[u8]) -> *mut sealbox_buffer {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    buffer(v)
}

/// Frees a buffer returned by the library, zeroizing its bytes first.
///
/// Ownership: takes back the buffer; `buf` must not be used afterwards.
/// NULL is a no-op.
///
/// Thread safety: free each buffer once, from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_buffer_free(buf: *mut sealbox_buffer) {
    ffi_boundary! { or () =>
        if buf.is_null() {
            return;
        }
        // SAFETY: non-NULL buffers are only made by `buffer`, which boxed a
        // `BufferAlloc` whose first field (repr(C)) is the public part.
        let mut alloc = unsafe { Box::from_raw(buf.cast::<BufferAlloc>()) };
        // Wipes the whole allocation, spare capacity included.
        alloc.storage.zeroize();
    }
}

/// Pairs of strings: an encryption context, tags, or aliases and the keys
/// they name. Sorted by key (bytewise).
///
/// Ownership: returned by the library; the caller frees it with
/// `sealbox_string_map_free` (except maps borrowed from another handle, as
/// `sealbox_key_metadata_tags` says). The pointers that
/// `sealbox_string_map_get` gives out are valid until the map is freed.
///
/// Thread safety: immutable; any thread may read it concurrently.
pub struct sealbox_string_map {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_string_map`: each entry NUL-terminated.
#[derive(Debug, Default)]
pub(crate) struct StringMap {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

fn nul_terminated(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
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
}

/// The number of pairs in `map` (0 when `map` is NULL).
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_len(map: *const sealbox_string_map) -> usize {
    ffi_boundary! { or 0 =>
        // SAFETY: `map` is NULL or a live string map.
        unsafe { crate::handle::try_ref(map) }.map_or(0, |m| m.entries.len())
    }
}

/// The pair at `index` (0-based, in key order).
///
/// Writes pointers to the key and the value and their lengths in bytes
/// (each is also followed by a NUL byte, not counted). The pointers borrow
/// from `map`. `SEALBOX_RESULT_INVALID_ARGUMENT` when `index` is out of
/// range; nothing is written on failure.
///
/// Ownership: the pointers written borrow from `map` and are valid until
/// it is freed; do not free them.
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

/// Frees a string map the library returned. NULL is a no-op.
///
/// Ownership: takes back the map; pointers obtained from it become invalid.
/// Never free a map borrowed from another handle.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_string_map_free(map: *mut sealbox_string_map) {
    ffi_boundary! { or () =>
        // SAFETY: `map` is NULL or a live, owned string map.
        unsafe { free_box(map) }
    }
}

// ------------------------------------------------------------- inputs --

/// # Safety
/// `p` is readable for `len` bytes when `len > 0`.
pub(crate) unsafe fn slice<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if len > isize::MAX as usize {
        return Err(Failure::arg(format!("`{name}`: length {len} is too large")));
    }
    // SAFETY: non-NULL, length bounded, readable per the caller.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| Failure::arg(format!("`{name}` is not valid UTF-8")))
}

/// Bytes that must be UTF-8 (encryption-context keys and values).
pub(crate) fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|_| Failure::arg(format!("{what} is not valid UTF-8")))
}

/// # Safety
/// `p` is readable for `count` pointers when `count > 0`.
pub(crate) unsafe fn array<'a, T>(
    p: *const T,
    count: usize,
    name: &str,
) -> Result<&'a [T], Failure> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if count > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Failure::arg(format!(
            "`{name}`: count {count} is too large"
        )));
    }
    // SAFETY: non-NULL, size bounded, readable per the caller.
    Ok(unsafe { std::slice::from_raw_parts(p, count) })
}

/// An encryption context from parallel arrays of byte strings. Keys and
/// values must be UTF-8; a key may appear once.
///
/// # Safety
/// Each array holds `count` entries; entry `i` is readable for its length.
pub(crate) unsafe fn context(
    keys: *const *const u8,
    key_lens: *const usize,
    values: *const *const u8,
    value_lens: *const usize,
    count: usize,
) -> Result<EncryptionContext, Failure> {
    let mut ec = EncryptionContext::new();
    // SAFETY: each of the four arrays holds `count` entries per the caller.
    let keys = unsafe { array(keys, count, "keys") }?;
    // SAFETY: as `keys`.
    let key_lens = unsafe { array(key_lens, count, "key_lens") }?;
    // SAFETY: as `keys`.
    let values = unsafe { array(values, count, "values") }?;
    // SAFETY: as `keys`.
    let value_lens = unsafe { array(value_lens, count, "value_lens") }?;
    for i in 0..count {
        let (kp, kl, vp, vl) = (keys[i], key_lens[i], values[i], value_lens[i]);
        // SAFETY: entry `i` is readable for its length per the caller.
        let k = unsafe { slice(kp, kl, "keys[i]") }?;
        // SAFETY: as `keys[i]`.
        let v = unsafe { slice(vp, vl, "values[i]") }?;
        let k = utf8(k, "an encryption context key")?;
        let v = utf8(v, "an encryption context value")?;
        if ec.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(Failure::arg(format!(
                "encryption context key {k:?} appears more than once"
            )));
        }
    }
    Ok(ec)
}

/// A list of NUL-terminated strings.
///
/// # Safety
/// `p` holds `count` pointers to NUL-terminated strings.
pub(crate) unsafe fn texts<'a>(
    p: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: `count` entries per the caller.
    let ptrs = unsafe { array(p, count, name) }?;
    ptrs.iter()
        // SAFETY: each entry is NULL (refused) or NUL-terminated.
        .map(|&s| unsafe { text(s, name) })
        .collect()
}
