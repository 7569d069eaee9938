//! Values crossing the boundary: byte buffers the library returns, and the
//! checks on what the caller passes in (maps of strings: [`crate::string_map`]).

use std::ffi::{c_char, CStr};

use crate::error::Failure;

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
        sealbox_core::secret::wipe_vec(&mut bytes);
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
        // Wipes the whole allocation, spare capacity included: memsets the
        // optimiser keeps (`zeroize`'s byte-wise volatile writes cost
        // 0.3 ms per MiB, as long as decrypting it).
        sealbox_core::secret::wipe_vec(&mut alloc.storage);
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

/// A value from its name (key specs, algorithms, message types).
pub(crate) fn parse<T: std::str::FromStr<Err = sealbox_core::Error>>(
    s: &str,
) -> Result<T, Failure> {
    s.parse::<T>().map_err(Failure::from)
}

/// `n` when it is at least 1; otherwise an invalid-argument failure saying
/// "`what` must be at least 1" (frame lengths, session limits).
pub(crate) fn at_least_one<T: PartialEq + From<u8>>(n: T, what: &str) -> Result<T, Failure> {
    if n == T::from(0) {
        return Err(Failure::arg(format!("{what} must be at least 1")));
    }
    Ok(n)
}
