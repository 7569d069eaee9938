//! The one error type of sealbox.
//!
//! Every failure to decrypt or authenticate (a wrong key, a flipped bit, a
//! truncated stream, a wrong encryption context, a bad signature) collapses
//! into [`Error::DecryptionFailed`], so that a caller cannot be used as an
//! oracle. The detail stays inside the library (and, once the key store
//! exists, in its audit log).

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
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(m) => std::io::Error::other(m),
            Error::DecryptionFailed => std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            other => std::io::Error::other(other),
        }
    }
}
