//! Result codes, the panic boundary, and the thread-local detail of the
//! last failure.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use sealbox_core::Error;

/// The result of every fallible call: `SEALBOX_RESULT_OK` (0) or an error
/// code.
///
/// The numbers are part of the ABI: a code keeps its number forever, and a
/// number that was used is never given to another meaning. New codes are
/// added at the end.
///
/// Text for a code: `sealbox_error_message`. More detail about the last
/// failure on the calling thread: `sealbox_last_error_detail`.
///
/// Ownership: a plain value; nothing to free.
///
/// Thread safety: a value, usable on any thread.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sealbox_result {
    /// Success.
    Ok = 0,
    /// The library panicked (a bug in sealbox). The call did nothing that
    /// the caller can rely on; a streaming context it was using is unusable.
    Panic = 1,
    /// A required pointer argument was NULL.
    NullParameter = 2,
    /// An argument was rejected before any work was done: bad length, text
    /// that is not UTF-8, an unknown algorithm name, a bad option combination.
    InvalidArgument = 3,
    /// A handle was used in the wrong state (e.g. `update` after `finish`).
    InvalidState = 4,
    /// A message or ciphertext could not be decrypted or authenticated.
    /// Deliberately opaque: wrong key, tampered byte, truncated input and
    /// wrong encryption context all give this code.
    DecryptionFailed = 5,
    /// A key could not be parsed or has the wrong size or type.
    InvalidKey = 6,
    /// The commitment policy forbids the algorithm suite.
    CommitmentPolicyViolation = 7,
    /// Encryption would write more encrypted data keys than allowed.
    TooManyEncryptedDataKeys = 8,
    /// A message body exceeds the configured maximum.
    MessageTooLarge = 9,
    /// No keyring could produce or wrap a data key.
    EncryptFailed = 10,
    /// The operating system's random number generator failed.
    Rng = 11,
    /// An I/O error (a file could not be read or written).
    Io = 12,
    /// No key or alias by that name exists in the key store.
    KeyNotFound = 13,
    /// The key is disabled or pending deletion.
    KeyDisabled = 14,
    /// The key is in the wrong state for the request.
    InvalidKeyState = 15,
    /// The key's usage or spec does not allow the operation or algorithm.
    InvalidKeyUsage = 16,
    /// An alias or key with that name already exists.
    AlreadyExists = 17,
    /// The root key does not open this key store.
    WrongRootKey = 18,
    /// The key store's metadata store (SQLite) failed.
    Storage = 19,
    /// An audit record could not be written (so the operation was not done),
    /// or the audit log failed verification.
    Audit = 20,
    /// The key store's backend does not support the operation.
    Unsupported = 21,
    /// The HSM does not support a mechanism sealbox needs.
    UnsupportedByHsm = 22,
    /// A PKCS#11 call failed.
    Pkcs11 = 23,
    /// An error this version of the C ABI has no code for (a newer core).
    Unknown = 24,
}

impl sealbox_result {
    /// Every code, for `sealbox_error_message` and the tests.
    pub(crate) const ALL: [sealbox_result; 25] = [
        Self::Ok,
        Self::Panic,
        Self::NullParameter,
        Self::InvalidArgument,
        Self::InvalidState,
        Self::DecryptionFailed,
        Self::InvalidKey,
        Self::CommitmentPolicyViolation,
        Self::TooManyEncryptedDataKeys,
        Self::MessageTooLarge,
        Self::EncryptFailed,
        Self::Rng,
        Self::Io,
        Self::KeyNotFound,
        Self::KeyDisabled,
        Self::InvalidKeyState,
        Self::InvalidKeyUsage,
        Self::AlreadyExists,
        Self::WrongRootKey,
        Self::Storage,
        Self::Audit,
        Self::Unsupported,
        Self::UnsupportedByHsm,
        Self::Pkcs11,
        Self::Unknown,
    ];

    pub(crate) fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u32 == code)
    }

    /// The fixed text of a code (no detail of any one failure).
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Ok => "success",
            Self::Panic => "sealbox panicked (a bug); the call failed",
            Self::NullParameter => "a required pointer argument was NULL",
            Self::InvalidArgument => "invalid argument",
            Self::InvalidState => "the handle is in the wrong state for this call",
            Self::DecryptionFailed => "decryption failed",
            Self::InvalidKey => "invalid key",
            Self::CommitmentPolicyViolation => "the commitment policy forbids this algorithm suite",
            Self::TooManyEncryptedDataKeys => "too many encrypted data keys",
            Self::MessageTooLarge => "the message exceeds the maximum body size",
            Self::EncryptFailed => "encryption failed: no data key could be made or wrapped",
            Self::Rng => "the operating system's random number generator failed",
            Self::Io => "I/O error",
            Self::KeyNotFound => "key not found",
            Self::KeyDisabled => "the key is disabled or pending deletion",
            Self::InvalidKeyState => "the key is in the wrong state for this request",
            Self::InvalidKeyUsage => "the key's usage or spec does not allow this operation",
            Self::AlreadyExists => "already exists",
            Self::WrongRootKey => "the root key does not open this key store",
            Self::Storage => "key store storage error",
            Self::Audit => "audit failure",
            Self::Unsupported => "not supported by this key store's backend",
            Self::UnsupportedByHsm => "not supported by this HSM",
            Self::Pkcs11 => "a PKCS#11 call failed",
            Self::Unknown => "unknown error",
        }
    }
}

/// The code for each core error. Every variant is named so that a new one
/// shows up here (as `Unknown` until it gets its own code).
pub(crate) fn code_of(e: &Error) -> sealbox_result {
    use sealbox_result as R;
    match e {
        Error::DecryptionFailed => R::DecryptionFailed,
        Error::InvalidArgument(_) => R::InvalidArgument,
        Error::InvalidKey(_) => R::InvalidKey,
        Error::CommitmentPolicyViolation(_) => R::CommitmentPolicyViolation,
        Error::TooManyEncryptedDataKeys { .. } => R::TooManyEncryptedDataKeys,
        Error::MessageTooLarge { .. } => R::MessageTooLarge,
        Error::EncryptFailed(_) => R::EncryptFailed,
        Error::InvalidState(_) => R::InvalidState,
        Error::Rng => R::Rng,
        Error::Io(_) => R::Io,
        Error::KeyNotFound(_) => R::KeyNotFound,
        Error::KeyDisabled(_) => R::KeyDisabled,
        Error::InvalidKeyState(_) => R::InvalidKeyState,
        Error::InvalidKeyUsage(_) => R::InvalidKeyUsage,
        Error::AlreadyExists(_) => R::AlreadyExists,
        Error::WrongRootKey => R::WrongRootKey,
        Error::Storage(_) => R::Storage,
        Error::Audit(_) => R::Audit,
        Error::Unsupported(_) => R::Unsupported,
        Error::UnsupportedByHsm { .. } => R::UnsupportedByHsm,
        Error::Pkcs11 { .. } => R::Pkcs11,
        _ => R::Unknown,
    }
}

/// Why a call failed: its code and the detail kept for
/// `sealbox_last_error_detail`.
#[derive(Debug)]
pub(crate) struct Failure {
    code: sealbox_result,
    detail: String,
}

impl Failure {
    pub(crate) fn new(code: sealbox_result, detail: impl Into<String>) -> Self {
        Failure {
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Self::new(
            sealbox_result::NullParameter,
            format!("`{what}` must not be NULL"),
        )
    }

    pub(crate) fn arg(detail: impl Into<String>) -> Self {
        Self::new(sealbox_result::InvalidArgument, detail)
    }

    pub(crate) fn state(detail: impl Into<String>) -> Self {
        Self::new(sealbox_result::InvalidState, detail)
    }

    fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        Self::new(
            sealbox_result::Panic,
            format!("panic inside sealbox: {what}"),
        )
    }

    /// Keeps the detail for this thread and returns the code.
    fn record(self) -> sealbox_result {
        // `try_with`: during thread teardown the slot may be gone already;
        // the code still reaches the caller.
        let _ = LAST_ERROR.try_with(|slot| {
            if let Ok(mut s) = slot.try_borrow_mut() {
                *s = self.detail;
            }
        });
        self.code
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::new(code_of(&e), e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The detail of the last failure on this thread (empty if none).
pub(crate) fn last_error_detail() -> String {
    LAST_ERROR
        .try_with(|s| s.try_borrow().map(|s| s.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// The panic boundary of every function that returns a `sealbox_result`:
/// runs `f`, turns a panic into `SEALBOX_RESULT_PANIC` and a failure into
/// its code, keeping the detail for `sealbox_last_error_detail`.
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), Failure>) -> sealbox_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => sealbox_result::Ok,
        Ok(Err(failure)) => failure.record(),
        Err(payload) => Failure::from_panic(payload).record(),
    }
}

/// The panic boundary of functions that return a value (accessors,
/// destructors): a panic gives `default`.
pub(crate) fn boundary_or<T>(default: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            Failure::from_panic(payload).record();
            default
        }
    }
}

/// Copies `text` to a caller's buffer the way `snprintf` does: at most
/// `len - 1` bytes (cut at a UTF-8 character boundary) and a NUL; returns
/// the full length of `text`.
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes when `len > 0`.
pub(crate) unsafe fn copy_text(text: &str, buf: *mut c_char, len: usize) -> usize {
    if len > 0 {
        let mut n = text.len().min(len - 1);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: the caller guarantees `buf` is writable for `len` bytes;
        // `n + 1 <= len`, and `text` cannot overlap a buffer the caller owns.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers are ABI: this table must only ever grow.
    #[test]
    fn codes_are_pinned_and_distinct() {
        let pinned: &[(sealbox_result, u32)] = &[
            (sealbox_result::Ok, 0),
            (sealbox_result::Panic, 1),
            (sealbox_result::NullParameter, 2),
            (sealbox_result::InvalidArgument, 3),
            (sealbox_result::InvalidState, 4),
            (sealbox_result::DecryptionFailed, 5),
            (sealbox_result::InvalidKey, 6),
            (sealbox_result::CommitmentPolicyViolation, 7),
            (sealbox_result::TooManyEncryptedDataKeys, 8),
            (sealbox_result::MessageTooLarge, 9),
            (sealbox_result::EncryptFailed, 10),
            (sealbox_result::Rng, 11),
            (sealbox_result::Io, 12),
            (sealbox_result::KeyNotFound, 13),
            (sealbox_result::KeyDisabled, 14),
            (sealbox_result::InvalidKeyState, 15),
            (sealbox_result::InvalidKeyUsage, 16),
            (sealbox_result::AlreadyExists, 17),
            (sealbox_result::WrongRootKey, 18),
            (sealbox_result::Storage, 19),
            (sealbox_result::Audit, 20),
            (sealbox_result::Unsupported, 21),
            (sealbox_result::UnsupportedByHsm, 22),
            (sealbox_result::Pkcs11, 23),
            (sealbox_result::Unknown, 24),
        ];
        assert_eq!(pinned.len(), sealbox_result::ALL.len());
        for (r, n) in pinned {
            assert_eq!(*r as u32, *n, "{r:?}");
            assert_eq!(sealbox_result::from_code(*n), Some(*r));
        }
    }

    #[test]
    fn every_core_error_has_its_own_code() {
        let s = || String::from("x");
        let errors = [
            Error::DecryptionFailed,
            Error::InvalidArgument(s()),
            Error::InvalidKey(s()),
            Error::CommitmentPolicyViolation(s()),
            Error::TooManyEncryptedDataKeys { max: 1, found: 2 },
            Error::MessageTooLarge { max: 1 },
            Error::EncryptFailed(s()),
            Error::InvalidState(s()),
            Error::Rng,
            Error::Io(s()),
            Error::KeyNotFound(s()),
            Error::KeyDisabled(s()),
            Error::InvalidKeyState(s()),
            Error::InvalidKeyUsage(s()),
            Error::AlreadyExists(s()),
            Error::WrongRootKey,
            Error::Storage(s()),
            Error::Audit(s()),
            Error::Unsupported(s()),
            Error::UnsupportedByHsm { mechanism: s() },
            Error::Pkcs11 {
                function: s(),
                rv: s(),
            },
        ];
        let mut codes: Vec<u32> = errors.iter().map(|e| code_of(e) as u32).collect();
        assert!(!codes.contains(&(sealbox_result::Unknown as u32)));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let mut buf = [0x7f as c_char; 4];
        // "é" is two bytes: 3 bytes of room keep "aé" whole, 2 keep "a".
        // SAFETY: `buf` has 4 writable bytes.
        let n = unsafe { copy_text("aéz", buf.as_mut_ptr(), 4) };
        assert_eq!(n, 4);
        assert_eq!(buf[3], 0);
        // SAFETY: `buf` has 4 writable bytes.
        let n = unsafe { copy_text("aéz", buf.as_mut_ptr(), 3) };
        assert_eq!(n, 4);
        assert_eq!((buf[0] as u8, buf[1]), (b'a', 0));
    }
}
