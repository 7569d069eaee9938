//! The locks of the core: `Mutex`, `Condvar` and `RwLock`.
//!
//! Normally these are `std::sync`'s. With the feature `lock-check` they are
//! the same API over pthread mutexes, condition variables and read-write
//! locks, which is what valgrind's helgrind and DRD understand: std's locks
//! are built on atomics and raw futex calls since Rust 1.62, invisible to
//! those tools, so that every access a std lock orders looks like a race to
//! them. `make test-lock-check` builds the lock-order test with this feature
//! and runs it under helgrind and DRD, which then check sealbox's own locks
//! (order and races) together with SQLite's, SoftHSM2's and glibc's.
//!
//! The pthread variant keeps std's contract where the core relies on it:
//! `lock`/`read`/`write`/`wait` return `LockResult`, a guard dropped while
//! its thread panics poisons the lock (`PoisonError` is std's), guards are
//! not `Send` (a pthread lock is unlocked by the thread that locked it). It
//! is a checking build, not a product one: no product build enables it.

#[cfg(not(feature = "lock-check"))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard, RwLock};

#[cfg(feature = "lock-check")]
pub(crate) use pthread::{Condvar, Mutex, MutexGuard, RwLock};

/// The control of `make test-lock-check`: takes two of the core's locks in
/// one order on one thread, then in the other order on another (one after
/// the other: it never deadlocks). Run under helgrind, a `lock-check` build
/// must be reported ("lock order violated"): that shows the tool sees the
/// core's locks, so that its silence on the real tests means something.
#[cfg(feature = "lock-check")]
#[doc(hidden)]
pub fn lock_order_control() {
    let a = std::sync::Arc::new((Mutex::new(0u8), Mutex::new(0u8)));
    for reversed in [false, true] {
        let a = std::sync::Arc::clone(&a);
        let t = std::thread::spawn(move || {
            let (first, second) = if reversed { (&a.1, &a.0) } else { (&a.0, &a.1) };
            let g1 = first.lock();
            let g2 = second.lock();
            drop((g2, g1));
        });
        let _ = t.join();
    }
}

#[cfg(feature = "lock-check")]
mod pthread {
    use std::cell::UnsafeCell;
    use std::fmt;
    use std::marker::PhantomData;
    use std::ops::{Deref, DerefMut};
    use std::ptr;
    use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
    use std::sync::{LockResult, PoisonError};

    /// A pthread call that cannot fail on a correctly used lock failed: the
    /// lock is broken (or misused) and nothing it guards can be trusted.
    fn check(what: &str, rc: libc::c_int) {
        if rc != 0 {
            eprintln!("sealbox lock-check: {what} failed with error {rc}");
            std::process::abort();
        }
    }

    /// Poisons `flag` if the current thread is panicking now but was not
    /// when it took the lock (std's rule).
    fn poison_if_panicking(flag: &AtomicBool, panicking_at_lock: bool) {
        if !panicking_at_lock && std::thread::panicking() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// `guard` as std returns it: in a `PoisonError` when the lock was
    /// poisoned (read after locking: the lock orders the flag).
    fn with_poison<G>(poisoned: &AtomicBool, guard: G) -> LockResult<G> {
        if poisoned.load(Ordering::Relaxed) {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        }
    }

    /// A kind of pthread object: its static initialiser and how to destroy
    /// one.
    trait Object {
        type Raw;
        fn init() -> Self::Raw;
        /// Destroys `raw` unless it is still held (a guard leaked with
        /// `mem::forget`), which POSIX leaves undefined: then it is leaked.
        /// Whether it was destroyed.
        ///
        /// # Safety
        /// `raw` is an initialised object that nobody else can reach.
        unsafe fn destroy(raw: *mut Self::Raw) -> bool;
    }

    struct MutexObject;
    impl Object for MutexObject {
        type Raw = libc::pthread_mutex_t;
        fn init() -> Self::Raw {
            libc::PTHREAD_MUTEX_INITIALIZER
        }
        unsafe fn destroy(raw: *mut Self::Raw) -> bool {
            // SAFETY: (caller) an initialised mutex nobody else reaches.
            unsafe {
                if libc::pthread_mutex_trylock(raw) != 0 {
                    return false;
                }
                libc::pthread_mutex_unlock(raw);
                libc::pthread_mutex_destroy(raw);
            }
            true
        }
    }

    struct RwLockObject;
    impl Object for RwLockObject {
        type Raw = libc::pthread_rwlock_t;
        fn init() -> Self::Raw {
            libc::PTHREAD_RWLOCK_INITIALIZER
        }
        unsafe fn destroy(raw: *mut Self::Raw) -> bool {
            // SAFETY: (caller) an initialised lock nobody else reaches.
            unsafe {
                if libc::pthread_rwlock_trywrlock(raw) != 0 {
                    return false;
                }
                libc::pthread_rwlock_unlock(raw);
                libc::pthread_rwlock_destroy(raw);
            }
            true
        }
    }

    struct CondObject;
    impl Object for CondObject {
        type Raw = libc::pthread_cond_t;
        fn init() -> Self::Raw {
            libc::PTHREAD_COND_INITIALIZER
        }
        unsafe fn destroy(raw: *mut Self::Raw) -> bool {
            // SAFETY: (caller) nobody can wait on it any more.
            unsafe { libc::pthread_cond_destroy(raw) };
            true
        }
    }

    /// A pthread object on the heap, made on first use. The Rust value
    /// that holds it may move (the core builds a lock, uses it, then moves
    /// it into an `Arc`), a pthread object may not: POSIX leaves a copy
    /// undefined, and helgrind and DRD know a lock by its address. Made on
    /// first use, `new` stays `const` (locks in a `static`), and an object
    /// never used is never destroyed (DRD refuses to see an object it never
    /// saw initialised destroyed).
    struct Lazy<O: Object> {
        ptr: AtomicPtr<O::Raw>,
        _kind: PhantomData<O>,
    }

    impl<O: Object> Lazy<O> {
        const fn new() -> Self {
            Self {
                ptr: AtomicPtr::new(ptr::null_mut()),
                _kind: PhantomData,
            }
        }

        fn get(&self) -> *mut O::Raw {
            let p = self.ptr.load(Ordering::Acquire);
            if !p.is_null() {
                return p;
            }
            let new = Box::into_raw(Box::new(O::init()));
            match self.ptr.compare_exchange(
                ptr::null_mut(),
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => new,
                Err(theirs) => {
                    // SAFETY: `new` was never shared.
                    drop(unsafe { Box::from_raw(new) });
                    theirs
                }
            }
        }
    }

    impl<O: Object> Drop for Lazy<O> {
        fn drop(&mut self) {
            let p = *self.ptr.get_mut();
            // SAFETY: `&mut self`: nobody else reaches the object; it came
            // from `Box::into_raw`.
            if !p.is_null() && unsafe { O::destroy(p) } {
                drop(unsafe { Box::from_raw(p) });
            }
        }
    }

    /// `std::sync::Mutex` over `pthread_mutex_t`.
    pub struct Mutex<T: ?Sized> {
        raw: Lazy<MutexObject>,
        poisoned: AtomicBool,
        data: UnsafeCell<T>,
    }

    // SAFETY: as std's Mutex: the data is reached only through a guard,
    // which exists only while the pthread mutex is held.
    unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
    // SAFETY: as above.
    unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

    impl<T> Mutex<T> {
        /// A new unlocked mutex (usable in a `static`).
        pub const fn new(value: T) -> Self {
            Self {
                raw: Lazy::new(),
                poisoned: AtomicBool::new(false),
                data: UnsafeCell::new(value),
            }
        }
    }

    impl<T: ?Sized> Mutex<T> {
        /// Blocks until the mutex is held by this thread.
        pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
            // SAFETY: an initialised mutex that lives as long as `self`;
            // the guard unlocks it on this thread.
            check("pthread_mutex_lock", unsafe {
                libc::pthread_mutex_lock(self.raw.get())
            });
            let guard = MutexGuard {
                lock: self,
                panicking: std::thread::panicking(),
                _not_send: PhantomData,
            };
            with_poison(&self.poisoned, guard)
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Self::new(T::default())
        }
    }

    impl<T: ?Sized> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Mutex")
                .field("poisoned", &self.poisoned.load(Ordering::Relaxed))
                .finish_non_exhaustive()
        }
    }

    /// The guard of a held [`Mutex`]; unlocks it when dropped.
    pub struct MutexGuard<'a, T: ?Sized> {
        lock: &'a Mutex<T>,
        panicking: bool,
        _not_send: PhantomData<*const ()>,
    }

    // SAFETY: sharing the guard shares `&T` only.
    unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

    impl<T: ?Sized> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the mutex is held by this guard.
            unsafe { &*self.lock.data.get() }
        }
    }

    impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the mutex is held by this guard, exclusively.
            unsafe { &mut *self.lock.data.get() }
        }
    }

    impl<T: ?Sized> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            poison_if_panicking(&self.lock.poisoned, self.panicking);
            // SAFETY: this thread holds the mutex (the guard is not Send).
            check("pthread_mutex_unlock", unsafe {
                libc::pthread_mutex_unlock(self.lock.raw.get())
            });
        }
    }

    impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&**self, f)
        }
    }

    /// `std::sync::Condvar` over `pthread_cond_t`.
    pub struct Condvar {
        raw: Lazy<CondObject>,
    }

    // SAFETY: a pthread condition variable is meant to be shared by threads.
    unsafe impl Send for Condvar {}
    // SAFETY: as above.
    unsafe impl Sync for Condvar {}

    impl Condvar {
        /// A new condition variable.
        pub const fn new() -> Self {
            Self { raw: Lazy::new() }
        }

        /// Unlocks the guard's mutex, waits for a notification (or a
        /// spurious wake-up), locks it again.
        pub fn wait<'a, T: ?Sized>(
            &self,
            guard: MutexGuard<'a, T>,
        ) -> LockResult<MutexGuard<'a, T>> {
            // SAFETY: the guard holds its mutex on this thread.
            check("pthread_cond_wait", unsafe {
                libc::pthread_cond_wait(self.raw.get(), guard.lock.raw.get())
            });
            let lock = guard.lock;
            with_poison(&lock.poisoned, guard)
        }

        /// Wakes one waiter.
        pub fn notify_one(&self) {
            // SAFETY: an initialised condition variable.
            check("pthread_cond_signal", unsafe {
                libc::pthread_cond_signal(self.raw.get())
            });
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            // SAFETY: an initialised condition variable.
            check("pthread_cond_broadcast", unsafe {
                libc::pthread_cond_broadcast(self.raw.get())
            });
        }
    }

    impl Default for Condvar {
        fn default() -> Self {
            Self::new()
        }
    }

    impl fmt::Debug for Condvar {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Condvar").finish_non_exhaustive()
        }
    }

    /// `std::sync::RwLock` over `pthread_rwlock_t`. One difference from
    /// std: glibc's default read-write lock lets new readers in while a
    /// writer waits (std's does not), so a thread that takes a read lock
    /// twice while a writer waits deadlocks natively but not here; the
    /// native run of the lock-order test covers that case.
    pub struct RwLock<T: ?Sized> {
        raw: Lazy<RwLockObject>,
        poisoned: AtomicBool,
        data: UnsafeCell<T>,
    }

    // SAFETY: as std's RwLock.
    unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
    // SAFETY: as std's RwLock: readers share `&T`, so T: Sync too.
    unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

    impl<T> RwLock<T> {
        /// A new unlocked lock.
        pub const fn new(value: T) -> Self {
            Self {
                raw: Lazy::new(),
                poisoned: AtomicBool::new(false),
                data: UnsafeCell::new(value),
            }
        }
    }

    impl<T: ?Sized> RwLock<T> {
        /// Shared access.
        pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
            // SAFETY: an initialised lock, released by the guard.
            check("pthread_rwlock_rdlock", unsafe {
                libc::pthread_rwlock_rdlock(self.raw.get())
            });
            let guard = RwLockReadGuard {
                lock: self,
                _not_send: PhantomData,
            };
            with_poison(&self.poisoned, guard)
        }

        /// Exclusive access.
        pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
            // SAFETY: an initialised lock, released by the guard.
            check("pthread_rwlock_wrlock", unsafe {
                libc::pthread_rwlock_wrlock(self.raw.get())
            });
            let guard = RwLockWriteGuard {
                lock: self,
                panicking: std::thread::panicking(),
                _not_send: PhantomData,
            };
            with_poison(&self.poisoned, guard)
        }
    }

    impl<T: Default> Default for RwLock<T> {
        fn default() -> Self {
            Self::new(T::default())
        }
    }

    impl<T: ?Sized> fmt::Debug for RwLock<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RwLock")
                .field("poisoned", &self.poisoned.load(Ordering::Relaxed))
                .finish_non_exhaustive()
        }
    }

    /// Shared access to a [`RwLock`]'s data; released when dropped.
    pub struct RwLockReadGuard<'a, T: ?Sized> {
        lock: &'a RwLock<T>,
        _not_send: PhantomData<*const ()>,
    }

    // SAFETY: sharing the guard shares `&T` only.
    unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

    impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the lock is held for reading.
            unsafe { &*self.lock.data.get() }
        }
    }

    impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this thread holds the lock for reading.
            check("pthread_rwlock_unlock", unsafe {
                libc::pthread_rwlock_unlock(self.lock.raw.get())
            });
        }
    }

    /// Exclusive access to a [`RwLock`]'s data; released when dropped.
    pub struct RwLockWriteGuard<'a, T: ?Sized> {
        lock: &'a RwLock<T>,
        panicking: bool,
        _not_send: PhantomData<*const ()>,
    }

    // SAFETY: sharing the guard shares `&T` only.
    unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

    impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the lock is held for writing.
            unsafe { &*self.lock.data.get() }
        }
    }

    impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the lock is held for writing, exclusively.
            unsafe { &mut *self.lock.data.get() }
        }
    }

    impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
        fn drop(&mut self) {
            poison_if_panicking(&self.lock.poisoned, self.panicking);
            // SAFETY: this thread holds the lock for writing.
            check("pthread_rwlock_unlock", unsafe {
                libc::pthread_rwlock_unlock(self.lock.raw.get())
            });
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::Arc;

        #[test]
        fn mutex_condvar_and_rwlock_behave_as_std() {
            let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
            let waiter = {
                let pair = Arc::clone(&pair);
                std::thread::spawn(move || {
                    let (m, c) = &*pair;
                    let mut g = m.lock().unwrap();
                    while *g < 3 {
                        g = c.wait(g).unwrap();
                    }
                    *g
                })
            };
            for _ in 0..3 {
                let (m, c) = &*pair;
                *m.lock().unwrap() += 1;
                c.notify_all();
            }
            assert_eq!(waiter.join().unwrap(), 3);

            let rw = Arc::new(RwLock::new(vec![1]));
            {
                let a = rw.read().unwrap();
                let b = rw.read().unwrap();
                assert_eq!(a.len() + b.len(), 2);
            }
            rw.write().unwrap().push(2);
            assert_eq!(*rw.read().unwrap(), vec![1, 2]);
        }

        #[test]
        fn a_lock_moved_after_use_and_a_leaked_guard() {
            let m = Mutex::new(vec![1]);
            m.lock().unwrap().push(2);
            let moved = Box::new(m); // the pthread object stays where it is
            moved.lock().unwrap().push(3);
            assert_eq!(*moved.lock().unwrap(), vec![1, 2, 3]);
            let held = Mutex::new(0);
            std::mem::forget(held.lock().unwrap());
            drop(held); // still locked: leaked, not destroyed
        }

        #[test]
        fn a_panic_under_the_lock_poisons_it() {
            let m = Arc::new(Mutex::new(1));
            let m2 = Arc::clone(&m);
            let r = std::thread::spawn(move || {
                let _g = m2.lock().unwrap();
                panic!("under the lock");
            })
            .join();
            assert!(r.is_err());
            let e = m.lock().unwrap_err();
            assert_eq!(*e.into_inner(), 1, "the data stays reachable");

            let rw = Arc::new(RwLock::new(1));
            let rw2 = Arc::clone(&rw);
            let _ = std::thread::spawn(move || {
                let _g = rw2.write().unwrap();
                panic!("under the write lock");
            })
            .join();
            assert!(rw.read().is_err());
        }
    }
}
