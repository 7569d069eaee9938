//! The one type that holds plaintext key bytes.
//!
//! [`SecretBytes`] owns a page-aligned allocation that is `mlock`ed (kept out
//! of swap) and `madvise(MADV_DONTDUMP)`ed (kept out of core dumps), is
//! zeroized before it is released, and implements neither `Debug` nor
//! `Clone`: a copy must be asked for by name ([`SecretBytes::try_clone`]).
//!
//! Locking is best effort: when `RLIMIT_MEMLOCK` is exhausted the bytes are
//! still zeroized on drop and still excluded from dumps where the kernel
//! allows it; [`SecretBytes::is_locked`] tells which.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Plaintext key material in locked, non-dumpable, zeroized-on-drop memory.
// No Debug on purpose: a secret must never end up in a log line.
#[allow(missing_debug_implementations)]
pub struct SecretBytes {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
    locked: bool,
}

// SAFETY: SecretBytes uniquely owns its allocation (like Box<[u8]>); the raw
// pointer is never shared outside of borrows tied to &self / &mut self.
unsafe impl Send for SecretBytes {}
// SAFETY: shared references only permit reads of the owned bytes.
unsafe impl Sync for SecretBytes {}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p <= 0 {
        4096
    } else {
        p as usize
    }
}

impl SecretBytes {
    /// Allocates `len` zero bytes of secret memory.
    pub fn zeroed(len: usize) -> Result<Self> {
        let page = page_size();
        // Round up to whole pages so that mlock/madvise cover exactly our
        // allocation and never a neighbour's. A zero-length secret still
        // gets one page so the pointer is always valid.
        let size = len.max(1).div_ceil(page) * page;
        let layout = Layout::from_size_align(size, page)
            .map_err(|_| Error::InvalidArgument("secret too large".into()))?;
        // SAFETY: layout has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout);
        };
        // SAFETY: ptr..ptr+size is our own page-aligned allocation. Both
        // calls only change page attributes; failure is tolerated.
        let locked = unsafe {
            let locked = libc::mlock(ptr.as_ptr().cast(), size) == 0;
            #[cfg(target_os = "linux")]
            libc::madvise(ptr.as_ptr().cast(), size, libc::MADV_DONTDUMP);
            locked
        };
        Ok(SecretBytes {
            ptr,
            len,
            layout,
            locked,
        })
    }

    /// Copies `bytes` into new secret memory. The caller remains responsible
    /// for wiping its own copy.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut s = Self::zeroed(bytes.len())?;
        s.as_mut_bytes().copy_from_slice(bytes);
        Ok(s)
    }

    /// Fills new secret memory of `len` bytes from the operating system's
    /// random number generator.
    pub fn random(len: usize) -> Result<Self> {
        let mut s = Self::zeroed(len)?;
        crate::crypto::fill_random(s.as_mut_bytes())?;
        Ok(s)
    }

    /// An explicit copy into a new locked allocation.
    pub fn try_clone(&self) -> Result<Self> {
        Self::from_slice(self.as_bytes())
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: ptr is valid for len (<= layout.size()) initialised bytes
        // for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The secret bytes, writable (to build a secret in place).
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: as above, and &mut self guarantees exclusivity.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// Number of secret bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `mlock` succeeded for this allocation.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Constant-time equality with another byte string.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        crate::crypto::ct_eq(self.as_bytes(), other)
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // SAFETY: we own layout.size() bytes at ptr; zeroize the whole
        // allocation (not only len) with volatile writes, then unlock and free.
        unsafe {
            let all = std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.layout.size());
            all.zeroize();
            if self.locked {
                libc::munlock(self.ptr.as_ptr().cast(), self.layout.size());
            }
            alloc::dealloc(self.ptr.as_ptr(), self.layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_copies_bytes() {
        let s = SecretBytes::from_slice(b"0123456789abcdef").unwrap();
        assert_eq!(s.as_bytes(), b"0123456789abcdef");
        assert_eq!(s.len(), 16);
        let c = s.try_clone().unwrap();
        assert_eq!(c.as_bytes(), s.as_bytes());
        assert_ne!(c.as_bytes().as_ptr(), s.as_bytes().as_ptr());
        assert!(s.ct_eq(b"0123456789abcdef"));
        assert!(!s.ct_eq(b"0123456789abcdeF"));
        assert!(!s.ct_eq(b"short"));
    }

    #[test]
    fn allocation_is_page_aligned_and_random_differs() {
        let a = SecretBytes::random(32).unwrap();
        let b = SecretBytes::random(32).unwrap();
        assert_eq!(a.as_bytes().as_ptr() as usize % page_size(), 0);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let e = SecretBytes::zeroed(0).unwrap();
        assert!(e.is_empty());
    }

    #[test]
    fn memory_is_locked_when_the_limit_allows() {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } == 0;
        let s = SecretBytes::random(32).unwrap();
        if ok && lim.rlim_cur >= 1 << 20 {
            assert!(
                s.is_locked(),
                "mlock failed although RLIMIT_MEMLOCK allows it"
            );
        }
    }
}
