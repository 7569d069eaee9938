//! Byte input from Python through the buffer protocol: `bytes`,
//! `bytearray`, `memoryview` and any other C-contiguous buffer, read in
//! place (no copy) where that is safe.

use std::mem::MaybeUninit;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyBufferError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use sealbox::message::InputMemory;

use crate::error::{call, Failure};

/// Above this many bytes, work runs with the GIL released (below it, the
/// cost of releasing and taking back the GIL is not worth it).
pub(crate) const RELEASE_THRESHOLD: usize = 2048;

/// A new `bytes` object of `len` bytes written by `fill`: as
/// `PyBytes::new_with`, without zeroing the memory first, a pass over a
/// 1 MiB message that is then overwritten.
///
/// # Safety
/// `fill` must initialize every byte of the slice when it returns `Ok`
/// (the core's `*_into_uninit` functions do; on error they write zeros,
/// and the object is dropped unread anyway).
pub(crate) unsafe fn bytes_written_by<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> PyResult<()>,
) -> PyResult<Bound<'py, PyBytes>> {
    let size = pyo3::ffi::Py_ssize_t::try_from(len)
        .map_err(|_| PyBufferError::new_err("message too large for a bytes object"))?;
    // SAFETY: PyBytes_FromStringAndSize with a NULL source returns a new
    // reference to a `bytes` object of `size` bytes whose contents are
    // unset, or NULL with an exception set (turned into the error). Its
    // buffer is `len` bytes at PyBytes_AsString; nothing else can see the
    // object until it is returned, so `fill` has the bytes to itself (also
    // with the GIL released). On error the object is dropped unread.
    unsafe {
        let ptr = pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size);
        let bytes = Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked::<PyBytes>();
        let buf = pyo3::ffi::PyBytes_AsString(ptr).cast::<MaybeUninit<u8>>();
        // The caller vouches that `Ok` means every byte was written.
        fill(std::slice::from_raw_parts_mut(buf, len))?;
        Ok(bytes)
    }
}

/// Bytes handed in by Python.
pub(crate) enum Input<'py> {
    /// Immutable: read in place even with the GIL released.
    Bytes(Bound<'py, PyBytes>),
    /// Any other buffer (bytearray, memoryview, array, mmap ...). Its owner
    /// may change it from another thread as soon as the GIL is released, so
    /// it is read in place only while the GIL is held, except a read-only
    /// buffer whose owner is a `bytes` (a memoryview of one). Decryption
    /// still counts any of them as memory that may change (`with_memory`).
    Buffer(PyUntypedBuffer),
}

impl<'py> Input<'py> {
    /// Accepts any C-contiguous buffer; `what` names the argument in errors.
    pub(crate) fn new(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Input::Bytes(b.clone()));
        }
        if obj.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "{what} must be bytes-like (bytes, bytearray, memoryview), not str: encode it first"
            )));
        }
        let buf = PyUntypedBuffer::get(obj).map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be bytes-like (bytes, bytearray, memoryview), not {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| "this type".into())
            ))
        })?;
        if !buf.is_c_contiguous() {
            return Err(PyBufferError::new_err(format!(
                "{what} must be a C-contiguous buffer"
            )));
        }
        Ok(Input::Buffer(buf))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Input::Bytes(b) => b.as_bytes().len(),
            Input::Buffer(b) => b.len_bytes(),
        }
    }

    /// The bytes, valid while `self` lives and the GIL is held.
    fn slice(&self) -> &[u8] {
        match self {
            Input::Bytes(b) => b.as_bytes(),
            Input::Buffer(b) => {
                let len = b.len_bytes();
                if len == 0 {
                    return &[];
                }
                // SAFETY: the buffer is held (exported) for as long as
                // `self` lives, it is C-contiguous (checked in `new`), so
                // its `len_bytes()` bytes start at `buf_ptr()`; the slice
                // does not outlive `self`.
                unsafe { std::slice::from_raw_parts(b.buf_ptr() as *const u8, len) }
            }
        }
    }

    /// Runs `f` over the bytes. The GIL is released when `release` is true
    /// or the input is larger than [`RELEASE_THRESHOLD`]. A mutable buffer
    /// is then copied first (into memory wiped afterwards), because another
    /// Python thread could change it while `f` reads it.
    pub(crate) fn with<T, F>(&self, py: Python<'_>, release: bool, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&[u8]) -> Result<T, Failure> + Send,
    {
        self.with_memory(py, release, |bytes, _| f(bytes))
    }

    /// As [`with`](Self::with), telling `f` whether the bytes it reads can
    /// change meanwhile: not those of a `bytes` object, nor the copy; any
    /// other buffer read in place can, as its memory need not be Python's
    /// alone (a file mapped in memory that another process writes; an
    /// exporter that names a `bytes` as its owner may still point
    /// elsewhere).
    pub(crate) fn with_memory<T, F>(&self, py: Python<'_>, release: bool, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&[u8], InputMemory) -> Result<T, Failure> + Send,
    {
        let release = release || self.len() > RELEASE_THRESHOLD;
        match self {
            Input::Buffer(b) if release && !b.readonly_immutable() => {
                let copy = Wiped(self.slice().to_vec());
                call(py, true, || f(&copy.0, InputMemory::Unchanging))
            }
            _ => {
                let memory = match self {
                    Input::Bytes(_) => InputMemory::Unchanging,
                    Input::Buffer(_) => InputMemory::MayChange,
                };
                let s = self.slice();
                call(py, release, || f(s, memory))
            }
        }
    }

    /// Runs `f` over the bytes with the GIL held (for a quick look, such as
    /// reading a message's structure: no copy of a mutable buffer).
    pub(crate) fn peek<T>(&self, f: impl FnOnce(&[u8]) -> T) -> T {
        f(self.slice())
    }

    /// The bytes, copied (for values kept beyond the call).
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.slice().to_vec()
    }
}

trait Immutable {
    fn readonly_immutable(&self) -> bool;
}

impl Immutable for PyUntypedBuffer {
    /// Whether nobody can change the bytes: a read-only buffer exported by
    /// `bytes` itself. (A read-only memoryview may still sit over a
    /// bytearray, so "read-only" alone does not say that.)
    fn readonly_immutable(&self) -> bool {
        Python::attach(|py| {
            self.readonly()
                && self
                    .obj(py)
                    .is_some_and(|o| o.is_exact_instance_of::<PyBytes>())
        })
    }
}

/// A copy of caller data, wiped when dropped. Bulk data (messages of many
/// MiB) is wiped with one `memset` kept by `black_box`: `zeroize`'s
/// volatile byte-by-byte writes cost about a millisecond per MiB, as much
/// as the encryption itself. Key material is held in `SecretBytes` or
/// `Zeroizing`, never here.
pub(crate) struct Wiped(pub(crate) Vec<u8>);

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

pub(crate) use sealbox::secret::wipe;
