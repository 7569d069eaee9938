//! Random bytes, with one draw per message.
//!
//! Every call of the provider's generator has a fixed cost far above its
//! per-byte cost: AWS-LC draws fresh entropy (RDRAND, for prediction
//! resistance) and re-keys its CTR-DRBG on each call, about 0.45 µs for
//! 32 bytes and 0.52 µs for 76 on the machines `make bench` ran on. A
//! message needs three draws (its data key, its message ID, the wrapping
//! IV of a raw AES keyring), so an [`Encryptor`](crate::message::Encryptor)
//! opens a [`RandomReserve`] first: one draw of every byte it will need,
//! handed out by [`fill_random`] on the same thread, each byte once, and
//! the rest wiped when the reserve goes out of scope.
//!
//! Nothing is kept across operations: the reserve lives for one call on
//! one thread. A process that forks during that call (a keyring or
//! materials manager written in Python or JavaScript may) must not hand
//! the same reserved bytes, a message ID say, to both processes: a fork
//! handler (`pthread_atfork`) counts forks, and a reserve opened before the
//! last fork is not served from; the child draws from the generator, which
//! detects the fork itself. Bytes that are public (a message ID, an IV)
//! and secret (a data key) come from one output of the DRBG, as they do
//! from one DRBG across calls: a DRBG's outputs reveal nothing of each
//! other. The reserve is ordinary thread-local memory, wiped as each byte
//! is taken and when the call ends (docs/SECURITY.md).

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use zeroize::Zeroize;

use crate::error::Result;

/// The most bytes a reserve holds: a message ID and a data key of 32 bytes
/// each and a 12-byte IV, with room to spare.
pub(crate) const RESERVE_MAX: usize = 128;

struct Reserve {
    bytes: [u8; RESERVE_MAX],
    /// `bytes[next..end]` are reserved and not yet handed out.
    next: usize,
    end: usize,
    /// [`forks`] when the bytes were drawn.
    forks: u64,
}

thread_local! {
    static RESERVE: RefCell<Reserve> = const {
        RefCell::new(Reserve {
            bytes: [0; RESERVE_MAX],
            next: 0,
            end: 0,
            forks: 0,
        })
    };
}

/// Forks of this process so far (its ancestors' included), counted by a
/// `pthread_atfork` child handler registered with the first reserve.
static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork() {
    FORKS.fetch_add(1, Ordering::SeqCst);
}

/// The fork count, or `None` when the fork handler could not be
/// registered: then no reserve is ever served from (fail safe).
fn forks() -> Option<u64> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        // SAFETY: registers a child handler that only increments an
        // atomic (async-signal-safe, as a fork handler must be).
        unsafe { libc::pthread_atfork(None, None, Some(count_fork)) == 0 }
    });
    registered.then(|| FORKS.load(Ordering::SeqCst))
}

/// Fills `buf` with random bytes: from this thread's open
/// `RandomReserve` when it still holds enough, otherwise from the
/// provider's generator.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    let taken = RESERVE
        .try_with(|r| {
            let mut r = r.borrow_mut();
            let Reserve {
                bytes,
                next,
                end,
                forks: drawn_at,
            } = &mut *r;
            if buf.is_empty() || *end - *next < buf.len() {
                return false;
            }
            if *drawn_at != FORKS.load(Ordering::SeqCst) {
                // Drawn before a fork: the other process holds the same
                // bytes. Never served; wiped now.
                bytes.zeroize();
                *next = *end;
                return false;
            }
            let from = &mut bytes[*next..*next + buf.len()];
            buf.copy_from_slice(from);
            from.zeroize();
            *next += buf.len();
            true
        })
        .unwrap_or(false);
    if taken {
        Ok(())
    } else {
        draw(buf)
    }
}

/// One call of the provider's generator.
fn draw(buf: &mut [u8]) -> Result<()> {
    #[cfg(test)]
    tests::DRAWS.with(|d| d.set(d.get() + 1));
    super::provider_fill_random(buf)
}

/// Bytes drawn at once for the calls of [`fill_random`] that follow on
/// this thread, until it is dropped (which wipes what was not taken).
/// While a reserve is open, opening another one on the same thread draws
/// nothing and leaves the first in charge.
#[must_use = "the reserve serves fill_random only while it is alive"]
pub(crate) struct RandomReserve {
    active: bool,
    // Tied to the thread whose reserve it fills.
    _not_send: PhantomData<*const ()>,
}

impl RandomReserve {
    /// Draws `n` bytes (at most [`RESERVE_MAX`]) in one call of the
    /// provider's generator.
    pub(crate) fn open(n: usize) -> Result<Self> {
        let n = n.min(RESERVE_MAX);
        let active = RESERVE
            .try_with(|r| -> Result<bool> {
                let mut r = r.borrow_mut();
                if r.next < r.end {
                    return Ok(false);
                }
                let Some(forks) = forks() else {
                    return Ok(false);
                };
                r.forks = forks;
                draw(&mut r.bytes[..n])?;
                r.next = 0;
                r.end = n;
                Ok(true)
            })
            .unwrap_or(Ok(false))?;
        Ok(RandomReserve {
            active,
            _not_send: PhantomData,
        })
    }
}

impl Drop for RandomReserve {
    fn drop(&mut self) {
        if self.active {
            let _ = RESERVE.try_with(|r| {
                let mut r = r.borrow_mut();
                r.bytes.zeroize();
                r.next = 0;
                r.end = 0;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::Arc;

    thread_local! {
        /// Calls of the provider's generator on this thread.
        pub(super) static DRAWS: Cell<usize> = const { Cell::new(0) };
    }

    /// The fork test moves the process-wide fork count, which would
    /// disown the reserve of a test running beside it: one at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn draws() -> usize {
        DRAWS.with(Cell::get)
    }

    #[test]
    fn a_message_costs_one_draw_of_the_generator() {
        let _serial = serial();
        use crate::cmm::DefaultMaterialsManager;
        use crate::keyring::RawAesKeyring;
        use crate::message::{decrypt, encrypt, AlgorithmSuite, DecryptOptions, EncryptOptions};
        let cmm = DefaultMaterialsManager::new(Arc::new(
            RawAesKeyring::new("ns", "k", &[7u8; 32]).unwrap(),
        ));
        let mut seen = std::collections::HashSet::new();
        for mut opts in [
            EncryptOptions::default(),
            EncryptOptions::for_suite(AlgorithmSuite::Aes128GcmIv12Tag16NoKdf),
        ] {
            opts.encryption_context.insert("a".into(), "b".into());
            for _ in 0..20 {
                let before = draws();
                let ct = encrypt(b"one draw", &cmm, &opts).unwrap();
                assert_eq!(draws() - before, 1, "suite {:?}", opts.suite);
                assert_eq!(left(), (0, true));
                // Every message has its own ID and wrapped key.
                assert!(seen.insert(ct.clone()));
                let d = decrypt(
                    &ct,
                    &cmm,
                    &DecryptOptions {
                        commitment_policy: opts.commitment_policy,
                        ..DecryptOptions::default()
                    },
                )
                .unwrap();
                assert_eq!(d.plaintext, b"one draw");
            }
        }
    }

    fn left() -> (usize, bool) {
        RESERVE.with(|r| {
            let r = r.borrow();
            (r.end - r.next, r.bytes.iter().all(|&b| b == 0))
        })
    }

    #[test]
    fn a_reserve_hands_each_byte_out_once_and_wipes_the_rest() {
        let _serial = serial();
        let guard = RandomReserve::open(76).unwrap();
        let before = RESERVE.with(|r| r.borrow().bytes);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        // The two come from the one draw, in order, and are gone from it.
        assert_eq!(a, before[..32]);
        assert_eq!(b, before[32..64]);
        assert_ne!(a, b);
        assert_eq!(left().0, 12);
        RESERVE.with(|r| assert!(r.borrow().bytes[..64].iter().all(|&x| x == 0)));
        // More than what is left comes from the generator, the reserve
        // untouched.
        let mut c = [0u8; 16];
        fill_random(&mut c).unwrap();
        assert_eq!(left().0, 12);
        let mut d = [0u8; 12];
        fill_random(&mut d).unwrap();
        assert_eq!(d, before[64..76]);
        assert_eq!(left().0, 0);
        drop(guard);
        assert_eq!(left(), (0, true));
    }

    #[test]
    fn a_nested_reserve_leaves_the_first_in_charge_and_dropping_wipes() {
        let _serial = serial();
        let outer = RandomReserve::open(64).unwrap();
        let inner = RandomReserve::open(64).unwrap();
        assert!(outer.active && !inner.active);
        drop(inner);
        assert_eq!(left().0, 64);
        drop(outer);
        assert_eq!(left(), (0, true));
        // Without a reserve, bytes come from the generator.
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        fill_random(&mut x).unwrap();
        fill_random(&mut y).unwrap();
        assert_ne!(x, y);
    }

    #[test]
    fn a_reserve_drawn_before_a_fork_is_not_served_after_it() {
        let _serial = serial();
        let _g = RandomReserve::open(64).unwrap();
        let before = RESERVE.with(|r| r.borrow().bytes);
        // What the fork handler does in a child process.
        count_fork();
        let mut x = [0u8; 32];
        fill_random(&mut x).unwrap();
        assert_ne!(x, before[..32]);
        assert_eq!(left(), (0, true));
    }

    #[test]
    fn a_reserve_serves_only_its_own_thread() {
        let _serial = serial();
        let _g = RandomReserve::open(64).unwrap();
        std::thread::spawn(|| {
            let mut x = [0u8; 32];
            fill_random(&mut x).unwrap();
            assert_eq!(left().0, 0);
        })
        .join()
        .unwrap();
        assert_eq!(left().0, 64);
    }
}
