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
//!
//! Small secrets (up to 1 KiB: data keys, derived keys, HKDF PRKs) come from
//! a pool of slots carved out of 64 KiB chunks that are locked and marked
//! non-dumpable once, when the chunk is made, in the manner of Botan's
//! locking allocator: a page of its own per data key cost two `mlock`-family
//! system calls on every allocation and two on every release, about half of
//! the fixed cost of encrypting a message. A slot is zeroized before it
//! goes back to the pool; chunks are kept for reuse, so the pool's size is
//! the high-water mark of small secrets alive at once. Larger secrets
//! (private keys, imported material) still get whole pages of their own.

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
    backing: Backing,
    locked: bool,
}

/// Where a secret's bytes live.
enum Backing {
    /// A slot of `pool::SLOT_SIZES[class]` bytes in a pooled chunk.
    Pooled { class: usize },
    /// Whole pages of its own.
    Pages(Layout),
}

impl Backing {
    fn size(&self) -> usize {
        match self {
            Backing::Pooled { class } => pool::SLOT_SIZES[*class],
            Backing::Pages(layout) => layout.size(),
        }
    }
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
        if let Some((ptr, class, locked)) = pool::take(len) {
            return Ok(SecretBytes {
                ptr,
                len,
                backing: Backing::Pooled { class },
                locked,
            });
        }
        let page = page_size();
        // Round up to whole pages so that mlock/madvise cover exactly our
        // allocation and never a neighbour's.
        let size = len.max(1).div_ceil(page) * page;
        let layout = Layout::from_size_align(size, page)
            .map_err(|_| Error::InvalidArgument("secret too large".into()))?;
        let (ptr, locked) = locked_pages(layout);
        Ok(SecretBytes {
            ptr,
            len,
            backing: Backing::Pages(layout),
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
        // SAFETY: we own backing.size() bytes at ptr; zeroize all of them
        // (not only len) with volatile writes before anything else can get
        // them.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.backing.size()).zeroize();
        }
        match self.backing {
            Backing::Pooled { class } => pool::give_back(self.ptr, class, self.locked),
            Backing::Pages(layout) => {
                // SAFETY: ptr/layout came from locked_pages and are released
                // once, here.
                unsafe {
                    if self.locked {
                        libc::munlock(self.ptr.as_ptr().cast(), layout.size());
                    }
                    alloc::dealloc(self.ptr.as_ptr(), layout);
                }
            }
        }
    }
}

/// Allocates zeroed, page-aligned memory of `layout`, locks it and marks it
/// non-dumpable; returns whether the lock took.
fn locked_pages(layout: Layout) -> (NonNull<u8>, bool) {
    // SAFETY: layout has a non-zero size (callers round up to whole pages).
    let raw = unsafe { alloc::alloc_zeroed(layout) };
    let Some(ptr) = NonNull::new(raw) else {
        alloc::handle_alloc_error(layout);
    };
    // SAFETY: ptr..ptr+size is our own page-aligned allocation. Both calls
    // only change page attributes; failure is tolerated.
    let locked = unsafe {
        let locked = libc::mlock(ptr.as_ptr().cast(), layout.size()) == 0;
        #[cfg(target_os = "linux")]
        libc::madvise(ptr.as_ptr().cast(), layout.size(), libc::MADV_DONTDUMP);
        locked
    };
    (ptr, locked)
}

/// The pool of small secret slots.
mod pool {
    use crate::sync::Mutex;
    use std::alloc::Layout;
    use std::ptr::NonNull;

    /// Slot sizes, smallest first; a secret takes the smallest that fits.
    pub(super) const SLOT_SIZES: [usize; 5] = [64, 128, 256, 512, 1024];
    /// Bytes per chunk: whole pages, a multiple of every slot size.
    const CHUNK_SIZE: usize = 64 * 1024;

    /// Free slots per size class, as (address, locked). Addresses rather
    /// than pointers so the lists are `Send`; every one points into a chunk
    /// that is never freed.
    static FREE: Mutex<[Vec<(usize, bool)>; 5]> =
        Mutex::new([Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()]);

    /// A zeroed slot for a secret of `len` bytes, or `None` when `len` is
    /// too large for the pool.
    pub(super) fn take(len: usize) -> Option<(NonNull<u8>, usize, bool)> {
        let class = SLOT_SIZES.iter().position(|&s| len <= s)?;
        // The lists hold plain addresses: a panic elsewhere while the lock
        // was held cannot leave them inconsistent.
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        if free[class].is_empty() {
            let page = super::page_size();
            let layout = Layout::from_size_align(CHUNK_SIZE.max(page), page).ok()?;
            let (chunk, locked) = super::locked_pages(layout);
            let base = chunk.as_ptr() as usize;
            // Reversed so that slots are handed out in address order.
            free[class].extend(
                (0..layout.size() / SLOT_SIZES[class])
                    .rev()
                    .map(|i| (base + i * SLOT_SIZES[class], locked)),
            );
        }
        let (addr, locked) = free[class].pop()?;
        // Slots are zeroized when they come back, and chunks start zeroed.
        NonNull::new(addr as *mut u8).map(|p| (p, class, locked))
    }

    /// Returns a slot (already zeroized) to its class.
    pub(super) fn give_back(ptr: NonNull<u8>, class: usize, locked: bool) {
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        free[class].push((ptr.as_ptr() as usize, locked));
    }
}

/// `Debug` for a type that holds secrets: shows only the fields named,
/// each either as it is (`name`) or through a view of the value
/// (`name: |v| v.data.len()`), and prints `..` for the rest; `Name(..)`
/// shows nothing but the type's name. One way to write it, so that a secret
/// field cannot slip in through a derive.
macro_rules! debug_hiding_secrets {
    ($ty:ident(..)) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($ty), "(..)"))
            }
        }
    };
    ($ty:ident { $($field:ident $(: |$v:ident| $view:expr)?),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(
                        stringify!($field),
                        &$crate::secret::debug_hiding_secrets!(@shown self, $field $(, |$v| $view)?),
                    ))*
                    .finish_non_exhaustive()
            }
        }
    };
    (@shown $this:ident, $field:ident) => {
        &$this.$field
    };
    (@shown $this:ident, $field:ident, |$v:ident| $view:expr) => {{
        let $v = $this;
        $view
    }};
}
pub(crate) use debug_hiding_secrets;

/// Overwrites `buf` with zeros in a way the optimiser cannot remove: one
/// memset kept alive by `black_box`, for large buffers (decrypted
/// plaintext in the bindings) where `zeroize`'s byte-at-a-time volatile
/// writes cost ~0.3 ms per MiB.
pub fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Wipes all of `buf`'s allocation (its length and its spare capacity,
/// where earlier contents may lie) and empties it, keeping the allocation.
/// Two memsets: `zeroize`'s byte-wise volatile writes took 10 µs for the
/// 64 KiB frame buffer an encryptor drops (7% of a 1 MiB message). The
/// memsets are kept as [`wipe`] keeps its own: the buffer is handed to
/// `black_box` (an opaque use the compiler must assume reads it), and a
/// compiler fence orders them before the memory is reused or freed.
pub fn wipe_vec(buf: &mut Vec<u8>) {
    buf.spare_capacity_mut().fill(std::mem::MaybeUninit::new(0));
    wipe(buf);
    std::hint::black_box(buf.spare_capacity_mut());
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    buf.clear();
}

/// Reads a small file that holds a secret (a root key, a PIN): opened once
/// without following a symbolic link, then checked on the open file (no
/// race between the check and the read): a regular file, owned by this
/// user, not readable or writable by group or others. At most 64 KiB.
/// `fail` turns a reason into the caller's error.
pub fn read_private_file(
    path: &std::path::Path,
    fail: impl Fn(String) -> Error,
) -> Result<SecretBytes> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let shown = path.display();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        // O_NONBLOCK: a FIFO put in the file's place must not block the
        // open before the checks below refuse it.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                fail(format!("{shown} is a symbolic link; name the file itself"))
            } else {
                fail(format!("{shown}: {e}"))
            }
        })?;
    let meta = file.metadata().map_err(|e| fail(format!("{shown}: {e}")))?;
    if !meta.file_type().is_file() {
        return Err(fail(format!("{shown} is not a regular file")));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(fail(format!(
            "{shown} belongs to user {}, not to this process's user {me}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(fail(format!(
            "{shown} has mode {:o}; it must not be accessible by group or others (chmod 600)",
            meta.mode() & 0o777
        )));
    }
    if meta.len() > 64 * 1024 {
        return Err(fail(format!("{shown} is too large for a secret")));
    }
    // A fixed buffer: a file that grows meanwhile cannot make it
    // reallocate (and leave a copy behind); more than it holds is refused.
    const MAX: usize = 64 * 1024;
    let mut raw = zeroize::Zeroizing::new(vec![0u8; MAX + 1]);
    let mut n = 0;
    loop {
        match file.read(&mut raw[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n > MAX {
                    return Err(fail(format!("{shown} is too large for a secret")));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(format!("{shown}: {e}"))),
        }
    }
    SecretBytes::from_slice(&raw[..n])
}

/// Makes room for `additional` more bytes in a buffer that may hold
/// plaintext: when the buffer must move to a larger allocation, the old
/// allocation is wiped before it is freed (a plain `reserve` would leave
/// its bytes behind in freed memory).
pub fn reserve_wiping(buf: &mut Vec<u8>, additional: usize) {
    if buf.capacity() - buf.len() >= additional {
        return;
    }
    let want = buf
        .len()
        .saturating_add(additional)
        .max(buf.capacity().saturating_mul(2));
    let mut bigger = Vec::with_capacity(want);
    bigger.extend_from_slice(buf);
    let mut old = std::mem::replace(buf, bigger);
    // The whole old allocation, not only its length: earlier contents may
    // lie beyond it.
    wipe_vec(&mut old);
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
    fn small_secrets_share_locked_slots_large_ones_get_pages() {
        let a = SecretBytes::random(32).unwrap();
        let b = SecretBytes::random(32).unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(a.as_bytes().as_ptr() as usize % 64, 0);
        let e = SecretBytes::zeroed(0).unwrap();
        assert!(e.is_empty());
        for len in [1usize, 64, 65, 1024, 1025, 5000] {
            let s = SecretBytes::random(len).unwrap();
            assert_eq!(s.len(), len);
            if len > 1024 {
                assert_eq!(s.as_bytes().as_ptr() as usize % page_size(), 0);
            }
        }
    }

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut v = vec![0xA5u8; 3 * 4096 + 7];
        wipe(&mut v);
        assert!(v.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_slot_comes_back_zeroed() {
        // Fill slots of one class with secrets, release them, take them
        // again: every byte of every reused slot must be zero.
        let held: Vec<SecretBytes> = (0..64)
            .map(|_| SecretBytes::from_slice(&[0xA5; 200]).unwrap())
            .collect();
        let addrs: Vec<usize> = held
            .iter()
            .map(|s| s.as_bytes().as_ptr() as usize)
            .collect();
        drop(held);
        let again: Vec<SecretBytes> = (0..64).map(|_| SecretBytes::zeroed(256).unwrap()).collect();
        let reused = again
            .iter()
            .filter(|s| addrs.contains(&(s.as_bytes().as_ptr() as usize)))
            .count();
        assert!(reused > 0, "released slots are reused");
        for s in &again {
            assert!(s.as_bytes().iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn many_threads_take_and_release_slots() {
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..2000usize {
                        let fill = t.wrapping_mul(31).wrapping_add(i as u8) | 1;
                        let s = SecretBytes::from_slice(&[fill; 48]).unwrap();
                        // Nobody else writes into a slot we hold.
                        assert!(s.as_bytes().iter().all(|&b| b == fill));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
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
