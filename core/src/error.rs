//! The one error type of sealbox.
//!
//! Every failure to decrypt or authenticate (a wrong key, a flipped bit, a
//! truncated stream, a wrong encryption context, a bad signature) collapses
//! into [`Error::DecryptionFailed`], so that a caller cannot be used as an
//! oracle. The detail stays inside the library and in the key store's
//! audit log.

use std::fmt;

/// A specialised `Result` for sealbox operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in sealbox.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A message or ciphertext could not be decrypted or authenticated.
    ///
    /// Deliberately opaque: wrong key, tampered byte, truncated input,
    /// mismatched encryption context and bad signature all look the same.
    DecryptionFailed,
    /// An argument was rejected before any work was done (bad length, bad
    /// option combination, reserved encryption-context key, ...).
    InvalidArgument(String),
    /// A key (wrapping key, RSA key, EC key) could not be parsed or has the
    /// wrong size or type for the operation.
    InvalidKey(String),
    /// The configured commitment policy forbids the requested algorithm suite.
    CommitmentPolicyViolation(String),
    /// Encryption would write more encrypted data keys than the configured
    /// maximum. (On decrypt, a message over the limit is refused with the
    /// opaque `DecryptionFailed`, before any key is unwrapped.)
    TooManyEncryptedDataKeys {
        /// The configured limit.
        max: usize,
        /// The number the message (or the keyrings) produced.
        found: usize,
    },
    /// A message body is larger than the configured maximum for decryption.
    MessageTooLarge {
        /// The configured limit in bytes.
        max: u64,
    },
    /// No keyring could produce or wrap a data key for encryption.
    EncryptFailed(String),
    /// A streaming context was used out of order (write after finish, ...).
    InvalidState(String),
    /// The random number generator of the operating system failed.
    Rng,
    /// An I/O error from a `Read` or `Write` adapter.
    Io(String),
    /// No key (or alias) by that name exists in the key store.
    KeyNotFound(String),
    /// The key is disabled, or pending deletion, and cannot be used.
    KeyDisabled(String),
    /// The key exists but is in the wrong state for the request (e.g.
    /// cancelling a deletion that is not scheduled).
    InvalidKeyState(String),
    /// The key's usage or spec does not allow the operation or algorithm.
    InvalidKeyUsage(String),
    /// An alias or key with that name already exists.
    AlreadyExists(String),
    /// The root key given to open a key store is not the one it was created
    /// with.
    WrongRootKey,
    /// The metadata store (SQLite) failed.
    Storage(String),
    /// The audit record could not be written, so the operation was not done.
    Audit(String),
    /// The audit log failed verification: a record was edited, inserted,
    /// removed or reordered, or the log ends before the anchor the metadata
    /// store holds.
    AuditLogTampered(String),
    /// The metadata store cannot be reached (the PostgreSQL server is down,
    /// restarting or unreachable): the operation failed fast and changed
    /// nothing; the same handle works again once the store is back.
    StoreUnavailable(String),
    /// The principal is not allowed the operation on the key: no key-policy
    /// statement or grant allows it, or a statement denies it (the detail
    /// names which; it is also in the audit record).
    AccessDenied(String),
    /// A row of key metadata (state, versions, aliases, policy, grants)
    /// does not carry sealbox's MAC: it was changed outside sealbox. It is
    /// not used.
    StoreTampered(String),
    /// The key store's backend does not support this operation.
    Unsupported(String),
    /// The HSM does not support a mechanism sealbox needs for this request.
    UnsupportedByHsm {
        /// The PKCS#11 mechanism, e.g. `CKM_RSA_PKCS_OAEP with SHA-256`.
        mechanism: String,
    },
    /// A PKCS#11 call failed.
    Pkcs11 {
        /// The PKCS#11 function, e.g. `C_Login`.
        function: String,
        /// The return value, e.g. `CKR_PIN_INCORRECT`.
        rv: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DecryptionFailed => f.write_str("decryption failed"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::InvalidKey(m) => write!(f, "invalid key: {m}"),
            Error::CommitmentPolicyViolation(m) => write!(f, "commitment policy violation: {m}"),
            Error::TooManyEncryptedDataKeys { max, found } => write!(
                f,
                "too many encrypted data keys: {found} (the maximum is {max})"
            ),
            Error::MessageTooLarge { max } => {
                write!(f, "message body exceeds the maximum of {max} bytes")
            }
            Error::EncryptFailed(m) => write!(f, "encryption failed: {m}"),
            Error::InvalidState(m) => write!(f, "invalid state: {m}"),
            Error::Rng => f.write_str("the operating system's random number generator failed"),
            Error::Io(m) => write!(f, "I/O error: {m}"),
            Error::KeyNotFound(k) => write!(f, "key not found: {k}"),
            Error::KeyDisabled(m) => write!(f, "key cannot be used: {m}"),
            Error::InvalidKeyState(m) => write!(f, "invalid key state: {m}"),
            Error::InvalidKeyUsage(m) => write!(f, "invalid key usage: {m}"),
            Error::AlreadyExists(m) => write!(f, "already exists: {m}"),
            Error::WrongRootKey => f.write_str("the root key does not open this key store"),
            Error::Storage(m) => write!(f, "key store storage error: {m}"),
            Error::Audit(m) => write!(f, "audit: {m}"),
            Error::AuditLogTampered(m) => write!(f, "audit log tampered: {m}"),
            Error::StoreUnavailable(m) => write!(f, "key store unavailable: {m}"),
            Error::AccessDenied(m) => write!(f, "access denied: {m}"),
            Error::StoreTampered(m) => write!(f, "key store tampered: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::UnsupportedByHsm { mechanism } => {
                write!(f, "not supported by this HSM: {mechanism}")
            }
            Error::Pkcs11 { function, rv } => write!(f, "PKCS#11 {function} failed: {rv}"),
        }
    }
}

/// The stable identity of an error, shared by every surface.
///
/// Each kind has a number and a name that never change and are never given
/// to another meaning. Every surface derives its projection mechanically:
/// the C ABI's `SEALBOX_RESULT_<CONSTANT>` with the same number, the Python
/// exception class `sealbox.<Name>`, the Node error code
/// `ERR_SEALBOX_<CONSTANT>` and the command line's exit status. New kinds
/// are added at the end with the next free number.
///
/// Two kinds are raised by the surfaces rather than by [`Error`]: a panic
/// caught at a language boundary ([`ErrorKind::Panic`]) and a NULL pointer
/// given to the C ABI ([`ErrorKind::NullParameter`]).
///
/// Deliberately not `#[non_exhaustive]`: a surface matches on it without a
/// fallback arm, so a new kind does not compile until every surface has
/// given it its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum ErrorKind {
    /// sealbox panicked (a bug). The call failed; nothing it did may be
    /// relied on.
    Panic = 1,
    /// A required pointer argument was NULL (C ABI only).
    NullParameter = 2,
    /// An argument was rejected before any work was done.
    InvalidArgument = 3,
    /// A handle or stream was used in the wrong state.
    InvalidState = 4,
    /// A message or ciphertext could not be decrypted or authenticated.
    DecryptionFailed = 5,
    /// A key could not be parsed or has the wrong size or type.
    InvalidKey = 6,
    /// The commitment policy forbids the algorithm suite.
    CommitmentPolicyViolation = 7,
    /// More encrypted data keys than allowed.
    TooManyEncryptedDataKeys = 8,
    /// A message body exceeds the configured maximum.
    MessageTooLarge = 9,
    /// No keyring could produce or wrap a data key.
    EncryptFailed = 10,
    /// The operating system's random number generator failed.
    RngFailure = 11,
    /// An I/O error of a stream or file.
    IoError = 12,
    /// No key or alias by that name exists.
    KeyNotFound = 13,
    /// The key is disabled or pending deletion.
    KeyDisabled = 14,
    /// The key is in the wrong state for the request.
    InvalidKeyState = 15,
    /// The key's usage or spec does not allow the operation.
    InvalidKeyUsage = 16,
    /// An alias or key with that name already exists.
    AlreadyExists = 17,
    /// The root key does not open this key store.
    WrongRootKey = 18,
    /// The metadata store failed.
    StorageError = 19,
    /// An audit record could not be written (the operation was not done).
    AuditError = 20,
    /// The key store's backend does not support the operation.
    Unsupported = 21,
    /// The HSM lacks a mechanism the request needs.
    UnsupportedByHsm = 22,
    /// A PKCS#11 call failed.
    Pkcs11Error = 23,
    // 24 was "unknown error" in the C ABI before kinds were exhaustive;
    // it is retired and never reused.
    /// The audit log failed verification: a record was edited, inserted,
    /// removed or reordered, or the log ends before its anchor.
    AuditLogTampered = 25,
    /// The metadata store cannot be reached; nothing was changed. Retry
    /// later with the same handle.
    StoreUnavailable = 26,
    /// The principal may not do this with the key (key policy or grants).
    AccessDenied = 27,
    /// Key metadata was changed outside sealbox (a row's MAC fails).
    StoreTampered = 28,
}

impl ErrorKind {
    /// Every kind, in number order.
    pub const ALL: &'static [ErrorKind] = &[
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
        Self::RngFailure,
        Self::IoError,
        Self::KeyNotFound,
        Self::KeyDisabled,
        Self::InvalidKeyState,
        Self::InvalidKeyUsage,
        Self::AlreadyExists,
        Self::WrongRootKey,
        Self::StorageError,
        Self::AuditError,
        Self::Unsupported,
        Self::UnsupportedByHsm,
        Self::Pkcs11Error,
        Self::AuditLogTampered,
        Self::StoreUnavailable,
        Self::AccessDenied,
        Self::StoreTampered,
    ];

    /// Numbers that were used once and must never be given out again.
    pub const RETIRED: &'static [u32] = &[24];

    /// The stable number (the C ABI's result code).
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The kind with this number.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// The stable name in UpperCamelCase: the Python exception class and
    /// the `"error"` member of the command line's JSON errors.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Panic => "Panic",
            Self::NullParameter => "NullParameter",
            Self::InvalidArgument => "InvalidArgument",
            Self::InvalidState => "InvalidState",
            Self::DecryptionFailed => "DecryptionFailed",
            Self::InvalidKey => "InvalidKey",
            Self::CommitmentPolicyViolation => "CommitmentPolicyViolation",
            Self::TooManyEncryptedDataKeys => "TooManyEncryptedDataKeys",
            Self::MessageTooLarge => "MessageTooLarge",
            Self::EncryptFailed => "EncryptFailed",
            Self::RngFailure => "RngFailure",
            Self::IoError => "IoError",
            Self::KeyNotFound => "KeyNotFound",
            Self::KeyDisabled => "KeyDisabled",
            Self::InvalidKeyState => "InvalidKeyState",
            Self::InvalidKeyUsage => "InvalidKeyUsage",
            Self::AlreadyExists => "AlreadyExists",
            Self::WrongRootKey => "WrongRootKey",
            Self::StorageError => "StorageError",
            Self::AuditError => "AuditError",
            Self::Unsupported => "Unsupported",
            Self::UnsupportedByHsm => "UnsupportedByHsm",
            Self::Pkcs11Error => "Pkcs11Error",
            Self::AuditLogTampered => "AuditLogTampered",
            Self::StoreUnavailable => "StoreUnavailable",
            Self::AccessDenied => "AccessDenied",
            Self::StoreTampered => "StoreTampered",
        }
    }

    /// The name in SCREAMING_SNAKE_CASE: `SEALBOX_RESULT_<this>` in C and
    /// `ERR_SEALBOX_<this>` in Node.
    pub fn constant(self) -> String {
        let mut out = String::new();
        let name = self.name();
        let bytes = name.as_bytes();
        for (i, c) in name.char_indices() {
            // A word starts at an upper-case letter that follows a lower-case
            // one or a digit ("Pkcs11Error" -> PKCS11_ERROR).
            if i > 0 && c.is_ascii_uppercase() && !bytes[i - 1].is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }

    /// The Node error code, `ERR_SEALBOX_<CONSTANT>`.
    pub fn node_code(self) -> String {
        format!("ERR_SEALBOX_{}", self.constant())
    }

    /// A fixed one-line description (no detail of any one failure).
    pub const fn description(self) -> &'static str {
        match self {
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
            Self::RngFailure => "the operating system's random number generator failed",
            Self::IoError => "I/O error",
            Self::KeyNotFound => "key not found",
            Self::KeyDisabled => "the key is disabled or pending deletion",
            Self::InvalidKeyState => "the key is in the wrong state for this request",
            Self::InvalidKeyUsage => "the key's usage or spec does not allow this operation",
            Self::AlreadyExists => "already exists",
            Self::WrongRootKey => "the root key does not open this key store",
            Self::StorageError => "key store storage error",
            Self::AuditError => "audit failure",
            Self::Unsupported => "not supported by this key store's backend",
            Self::UnsupportedByHsm => "not supported by this HSM",
            Self::Pkcs11Error => "a PKCS#11 call failed",
            Self::AuditLogTampered => "the audit log failed verification",
            Self::StoreUnavailable => "the key store's database cannot be reached",
            Self::AccessDenied => "access denied by the key policy and grants",
            Self::StoreTampered => "key metadata was changed outside sealbox",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// The stable kind of this error. Exhaustive: a new variant does not
    /// compile until it has a kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::DecryptionFailed => ErrorKind::DecryptionFailed,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::InvalidKey(_) => ErrorKind::InvalidKey,
            Error::CommitmentPolicyViolation(_) => ErrorKind::CommitmentPolicyViolation,
            Error::TooManyEncryptedDataKeys { .. } => ErrorKind::TooManyEncryptedDataKeys,
            Error::MessageTooLarge { .. } => ErrorKind::MessageTooLarge,
            Error::EncryptFailed(_) => ErrorKind::EncryptFailed,
            Error::InvalidState(_) => ErrorKind::InvalidState,
            Error::Rng => ErrorKind::RngFailure,
            Error::Io(_) => ErrorKind::IoError,
            Error::KeyNotFound(_) => ErrorKind::KeyNotFound,
            Error::KeyDisabled(_) => ErrorKind::KeyDisabled,
            Error::InvalidKeyState(_) => ErrorKind::InvalidKeyState,
            Error::InvalidKeyUsage(_) => ErrorKind::InvalidKeyUsage,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::WrongRootKey => ErrorKind::WrongRootKey,
            Error::Storage(_) => ErrorKind::StorageError,
            Error::Audit(_) => ErrorKind::AuditError,
            Error::AuditLogTampered(_) => ErrorKind::AuditLogTampered,
            Error::StoreUnavailable(_) => ErrorKind::StoreUnavailable,
            Error::AccessDenied(_) => ErrorKind::AccessDenied,
            Error::StoreTampered(_) => ErrorKind::StoreTampered,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::UnsupportedByHsm { .. } => ErrorKind::UnsupportedByHsm,
            Error::Pkcs11 { .. } => ErrorKind::Pkcs11Error,
        }
    }

    /// A representative error of `kind`, for the tests that walk every kind
    /// through every surface. `None` for the kinds only surfaces raise
    /// ([`ErrorKind::Panic`], [`ErrorKind::NullParameter`]).
    #[doc(hidden)]
    pub fn example_of(kind: ErrorKind) -> Option<Error> {
        let m = || format!("example {}", kind.name());
        Some(match kind {
            ErrorKind::Panic | ErrorKind::NullParameter => return None,
            ErrorKind::InvalidArgument => Error::InvalidArgument(m()),
            ErrorKind::InvalidState => Error::InvalidState(m()),
            ErrorKind::DecryptionFailed => Error::DecryptionFailed,
            ErrorKind::InvalidKey => Error::InvalidKey(m()),
            ErrorKind::CommitmentPolicyViolation => Error::CommitmentPolicyViolation(m()),
            ErrorKind::TooManyEncryptedDataKeys => {
                Error::TooManyEncryptedDataKeys { max: 1, found: 2 }
            }
            ErrorKind::MessageTooLarge => Error::MessageTooLarge { max: 1 },
            ErrorKind::EncryptFailed => Error::EncryptFailed(m()),
            ErrorKind::RngFailure => Error::Rng,
            ErrorKind::IoError => Error::Io(m()),
            ErrorKind::KeyNotFound => Error::KeyNotFound(m()),
            ErrorKind::KeyDisabled => Error::KeyDisabled(m()),
            ErrorKind::InvalidKeyState => Error::InvalidKeyState(m()),
            ErrorKind::InvalidKeyUsage => Error::InvalidKeyUsage(m()),
            ErrorKind::AlreadyExists => Error::AlreadyExists(m()),
            ErrorKind::WrongRootKey => Error::WrongRootKey,
            ErrorKind::StorageError => Error::Storage(m()),
            ErrorKind::AuditError => Error::Audit(m()),
            ErrorKind::AuditLogTampered => Error::AuditLogTampered(m()),
            ErrorKind::StoreUnavailable => Error::StoreUnavailable(m()),
            ErrorKind::AccessDenied => Error::AccessDenied(m()),
            ErrorKind::StoreTampered => Error::StoreTampered(m()),
            ErrorKind::Unsupported => Error::Unsupported(m()),
            ErrorKind::UnsupportedByHsm => Error::UnsupportedByHsm { mechanism: m() },
            ErrorKind::Pkcs11Error => Error::Pkcs11 {
                function: "C_Login".into(),
                rv: "CKR_PIN_INCORRECT".into(),
            },
        })
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(m) => std::io::Error::other(m),
            Error::DecryptionFailed => std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            other => std::io::Error::other(other),
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn numbers_and_names_are_unique_and_stable() {
        let mut codes: Vec<u32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for r in ErrorKind::RETIRED {
            assert!(
                ErrorKind::from_code(*r).is_none(),
                "retired number {r} reused"
            );
        }
        assert_eq!(ErrorKind::from_code(0), None, "0 is success in C");
        // Pinned: changing these breaks every surface's users.
        assert_eq!(ErrorKind::DecryptionFailed.code(), 5);
        assert_eq!(ErrorKind::Pkcs11Error.constant(), "PKCS11_ERROR");
        assert_eq!(
            ErrorKind::TooManyEncryptedDataKeys.constant(),
            "TOO_MANY_ENCRYPTED_DATA_KEYS"
        );
        assert_eq!(
            ErrorKind::UnsupportedByHsm.node_code(),
            "ERR_SEALBOX_UNSUPPORTED_BY_HSM"
        );
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(k.code()), Some(*k));
            if let Some(e) = Error::example_of(*k) {
                assert_eq!(e.kind(), *k);
            }
        }
    }
}
