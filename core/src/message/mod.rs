//! The AWS Encryption SDK message format: header, framed body, footer.
//!
//! [`Encryptor`] and [`Decryptor`] are incremental ("feed bytes, get
//! bytes") state machines that run in memory bounded by the frame length;
//! [`encrypt`] and [`decrypt`] are one-shot conveniences over them, and
//! [`EncryptingWriter`] / [`DecryptingReader`] adapt them to `std::io`.
//! The byte layout is documented in docs/FORMAT.md.

mod body;
pub mod context;
mod decrypt;
mod encrypt;
pub mod header;
mod io;
mod suite;

pub use context::EncryptionContext;
pub use decrypt::{decrypt, decrypt_append, DecryptOptions, DecryptResult, Decryptor};
pub use encrypt::{encrypt, encrypt_append, EncryptOptions, Encryptor};
pub use header::{ContentType, Header};
pub use io::{DecryptingReader, EncryptingWriter};
pub use suite::{AlgorithmSuite, ALL_SUITES};

/// Default frame length: 4096 bytes of plaintext per frame.
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

/// Default limit on the number of encrypted data keys in one message, on
/// encrypt and on decrypt. A header can name up to 65,535 of them; each one
/// may cost an RSA or HSM operation, so an untrusted message must not be
/// allowed to ask for that many.
pub const DEFAULT_MAX_ENCRYPTED_DATA_KEYS: usize = 100;

/// Which suites may be used to encrypt and which accepted on decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CommitmentPolicy {
    /// Encrypt with non-committing (version 1) suites; decrypt anything.
    /// Only for writing messages that old readers must understand.
    ForbidEncryptAllowDecrypt,
    /// Encrypt with committing suites; decrypt anything (to read old data).
    RequireEncryptAllowDecrypt,
    /// Encrypt and decrypt committing suites only. The default.
    #[default]
    RequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// The suite used when the caller names none.
    pub fn default_suite(self) -> AlgorithmSuite {
        match self {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => {
                AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            }
            _ => AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        }
    }

    /// Every policy.
    pub const ALL: &'static [CommitmentPolicy] = &[
        Self::ForbidEncryptAllowDecrypt,
        Self::RequireEncryptAllowDecrypt,
        Self::RequireEncryptRequireDecrypt,
    ];

    /// The canonical name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ForbidEncryptAllowDecrypt => "FORBID_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptAllowDecrypt => "REQUIRE_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptRequireDecrypt => "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
        }
    }

    /// Every canonical name.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|p| p.as_str()).collect()
    }

    /// Parses `FORBID_ENCRYPT_ALLOW_DECRYPT`, `REQUIRE_ENCRYPT_ALLOW_DECRYPT`
    /// or `REQUIRE_ENCRYPT_REQUIRE_DECRYPT` (case-insensitive).
    pub fn from_name(name: &str) -> crate::Result<Self> {
        let wanted = name.to_ascii_uppercase().replace('-', "_");
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| {
                crate::Error::InvalidArgument(format!(
                    "unknown commitment policy {name:?} (expected one of: {})",
                    Self::names().join(", ")
                ))
            })
    }
}
