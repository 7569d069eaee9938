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
mod parallel;
#[cfg(test)]
mod race_tests;
mod rewrap;
mod suite;

pub use context::EncryptionContext;

pub use decrypt::{
    decrypt, decrypt_append, decrypt_into, decrypt_into_uninit, plaintext_len, DecryptOptions,
    DecryptResult, Decryptor, InputMemory,
};
pub use encrypt::{encrypt, encrypt_append, EncryptOptions, Encryptor};
pub use header::{ContentType, Header};
pub use io::{DecryptingReader, EncryptingWriter};
pub use parallel::{Parallelism, PARALLEL_MIN_BYTES, STREAM_BATCH};
pub use rewrap::{
    rewrap, rewrap_append, rewrap_header, rewrap_stream, HeaderRewrap, RewrapOptions,
    RewrapSummary, Rewrapper,
};
pub use suite::{AlgorithmSuite, ALL_SUITES};

/// Default frame length: 16 KiB of plaintext per frame.
///
/// Chosen by measurement (`make bench-envelope`, group `bulk`): the
/// smallest power of two whose 1 MiB messages, on one thread, encrypt and
/// decrypt at 85% or more of one raw AES-256-GCM call over the same bytes,
/// with a margin over the spread between runs on a shared machine. Each
/// frame costs one AES-GCM set-up (its IV, its AAD, its tag) and 28 bytes.
/// At the AWS SDKs' 4096 that was 79-89% of the raw call over the runs of
/// several sessions; in three runs on 2026-12-06, 8 KiB gave 86.6-89.6%
/// (encrypt) and 89.6-90.9% (decrypt), within that spread of the target,
/// and 16 KiB 90.4-95.1% and 91.7-93.7%. Messages up to 16 KiB are one
/// frame, and a stream holds at most one frame of plaintext. Every AWS
/// Encryption SDK reads any frame length.
pub const DEFAULT_FRAME_LENGTH: u32 = 16 * 1024;

/// Default limit on the number of encrypted data keys in one message, on
/// encrypt and on decrypt. A header can name up to 65,535 of them; each one
/// may cost an RSA or HSM operation, so an untrusted message must not be
/// allowed to ask for that many.
pub const DEFAULT_MAX_ENCRYPTED_DATA_KEYS: usize = 100;

/// A limit on the encrypted data keys of one message: a number of at least
/// one, or explicitly none. Applies on encrypt (more keyrings' keys than
/// this is an error) and on decrypt (a header naming more is refused before
/// any key is unwrapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaxEncryptedDataKeys {
    /// At most this many.
    Limit(std::num::NonZeroUsize),
    /// No limit (a header can name up to 65,535): only for messages from a
    /// trusted source.
    NoLimit,
}

impl Default for MaxEncryptedDataKeys {
    /// [`DEFAULT_MAX_ENCRYPTED_DATA_KEYS`].
    fn default() -> Self {
        match std::num::NonZeroUsize::new(DEFAULT_MAX_ENCRYPTED_DATA_KEYS) {
            Some(n) => Self::Limit(n),
            None => Self::NoLimit,
        }
    }
}

impl MaxEncryptedDataKeys {
    /// A limit of `n` (at least 1: a message always has one data key).
    pub fn limit(n: usize) -> crate::Result<Self> {
        std::num::NonZeroUsize::new(n)
            .map(Self::Limit)
            .ok_or_else(|| {
                crate::Error::InvalidArgument(
                    "the maximum number of encrypted data keys must be at least 1 (or no limit)"
                        .into(),
                )
            })
    }

    /// `Some(n)` as [`limit`](Self::limit), `None` as no limit.
    pub fn from_option(n: Option<usize>) -> crate::Result<Self> {
        n.map_or(Ok(Self::NoLimit), Self::limit)
    }

    /// The number, or `None` for no limit.
    pub fn get(self) -> Option<usize> {
        match self {
            Self::Limit(n) => Some(n.get()),
            Self::NoLimit => None,
        }
    }
}

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
