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
    /// The audit record could not be written, so the operation was not done;
    /// or the audit log failed verification.
    Audit(String),
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
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::UnsupportedByHsm { mechanism } => {
                write!(f, "not supported by this HSM: {mechanism}")
            }
            Error::Pkcs11 { function, rv } => write!(f, "PKCS#11 {function} failed: {rv}"),
        }
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
