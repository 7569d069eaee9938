//! Result codes, the panic boundary, and the thread-local detail of the
//! last failure.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use sealbox_core::{Error, ErrorKind};

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
    RngFailure = 11,
    /// An I/O error (a file could not be read or written).
    IoError = 12,
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
    /// The key store's metadata store failed.
    StorageError = 19,
    /// An audit record could not be written, so the operation was not done.
    AuditError = 20,
    /// The key store's backend does not support the operation.
    Unsupported = 21,
    /// The HSM does not support a mechanism sealbox needs.
    UnsupportedByHsm = 22,
    /// A PKCS#11 call failed.
    Pkcs11Error = 23,
    // 24 ("unknown error") is retired: every core error has its own code.
    /// The audit log failed verification (a record edited, inserted,
    /// removed or reordered, or the log ends before its anchor).
    AuditLogTampered = 25,
    /// The key store's database cannot be reached (PostgreSQL down or
    /// restarting): nothing was changed; retry with the same handle.
    StoreUnavailable = 26,
    /// The principal may not do this with the key: no key-policy statement
    /// or grant allows it, or a statement denies it.
    AccessDenied = 27,
    /// Key metadata was changed outside sealbox (a row's MAC fails); the
    /// row is not used.
    StoreTampered = 28,
}

impl From<ErrorKind> for sealbox_result {
    /// The C code of each kind: the same number, the same name. Exhaustive,
    /// so a new kind does not compile until it has its code here.
    fn from(kind: ErrorKind) -> Self {
        use sealbox_result as R;
        match kind {
            ErrorKind::Panic => R::Panic,
            ErrorKind::NullParameter => R::NullParameter,
            ErrorKind::InvalidArgument => R::InvalidArgument,
            ErrorKind::InvalidState => R::InvalidState,
            ErrorKind::DecryptionFailed => R::DecryptionFailed,
            ErrorKind::InvalidKey => R::InvalidKey,
            ErrorKind::CommitmentPolicyViolation => R::CommitmentPolicyViolation,
            ErrorKind::TooManyEncryptedDataKeys => R::TooManyEncryptedDataKeys,
            ErrorKind::MessageTooLarge => R::MessageTooLarge,
            ErrorKind::EncryptFailed => R::EncryptFailed,
            ErrorKind::RngFailure => R::RngFailure,
            ErrorKind::IoError => R::IoError,
            ErrorKind::KeyNotFound => R::KeyNotFound,
            ErrorKind::KeyDisabled => R::KeyDisabled,
            ErrorKind::InvalidKeyState => R::InvalidKeyState,
            ErrorKind::InvalidKeyUsage => R::InvalidKeyUsage,
            ErrorKind::AlreadyExists => R::AlreadyExists,
            ErrorKind::WrongRootKey => R::WrongRootKey,
            ErrorKind::StorageError => R::StorageError,
            ErrorKind::AuditError => R::AuditError,
            ErrorKind::Unsupported => R::Unsupported,
            ErrorKind::UnsupportedByHsm => R::UnsupportedByHsm,
            ErrorKind::Pkcs11Error => R::Pkcs11Error,
            ErrorKind::AuditLogTampered => R::AuditLogTampered,
            ErrorKind::StoreUnavailable => R::StoreUnavailable,
            ErrorKind::AccessDenied => R::AccessDenied,
            ErrorKind::StoreTampered => R::StoreTampered,
        }
    }
}

impl sealbox_result {
    /// The fixed text of a code (no detail of any one failure).
    pub(crate) fn message_of(code: u32) -> Option<&'static str> {
        if code == Self::Ok as u32 {
            return Some("success");
        }
        ErrorKind::from_code(code).map(ErrorKind::description)
    }
}

/// The code of a core error: its kind's.
pub(crate) fn code_of(e: &Error) -> sealbox_result {
    e.kind().into()
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

    /// The numbers are ABI: each C code is its kind's number, and every
    /// kind has one.
    #[test]
    fn every_kind_has_its_code() {
        assert_eq!(sealbox_result::Ok as u32, 0);
        for kind in ErrorKind::ALL {
            assert_eq!(sealbox_result::from(*kind) as u32, kind.code(), "{kind:?}");
            if let Some(e) = Error::example_of(*kind) {
                assert_eq!(code_of(&e) as u32, kind.code(), "{e:?}");
            }
        }
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
