//! Algorithm suites of the AWS Encryption SDK message format.

use crate::crypto::{EcCurve, HashAlg};

/// An algorithm suite: which cipher, key derivation, commitment and
/// signature a message uses. The discriminant is the two-byte suite ID
/// written in the message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum AlgorithmSuite {
    /// `0x0014`: AES-128-GCM, no key derivation (legacy, decrypt only by default).
    Aes128GcmIv12Tag16NoKdf = 0x0014,
    /// `0x0046`: AES-192-GCM, no key derivation.
    Aes192GcmIv12Tag16NoKdf = 0x0046,
    /// `0x0078`: AES-256-GCM, no key derivation.
    Aes256GcmIv12Tag16NoKdf = 0x0078,
    /// `0x0114`: AES-128-GCM, HKDF-SHA256.
    Aes128GcmIv12Tag16HkdfSha256 = 0x0114,
    /// `0x0146`: AES-192-GCM, HKDF-SHA256.
    Aes192GcmIv12Tag16HkdfSha256 = 0x0146,
    /// `0x0178`: AES-256-GCM, HKDF-SHA256.
    Aes256GcmIv12Tag16HkdfSha256 = 0x0178,
    /// `0x0214`: AES-128-GCM, HKDF-SHA256, ECDSA P-256 with SHA-256.
    Aes128GcmIv12Tag16HkdfSha256EcdsaP256 = 0x0214,
    /// `0x0346`: AES-192-GCM, HKDF-SHA384, ECDSA P-384 with SHA-384.
    Aes192GcmIv12Tag16HkdfSha384EcdsaP384 = 0x0346,
    /// `0x0378`: AES-256-GCM, HKDF-SHA384, ECDSA P-384 with SHA-384.
    Aes256GcmIv12Tag16HkdfSha384EcdsaP384 = 0x0378,
    /// `0x0478`: AES-256-GCM, HKDF-SHA512, key commitment. sealbox's default.
    Aes256GcmHkdfSha512CommitKey = 0x0478,
    /// `0x0578`: AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384.
    /// The default of the AWS Encryption SDKs.
    Aes256GcmHkdfSha512CommitKeyEcdsaP384 = 0x0578,
}

/// All suites, oldest first.
pub const ALL_SUITES: [AlgorithmSuite; 11] = [
    AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
    AlgorithmSuite::Aes192GcmIv12Tag16NoKdf,
    AlgorithmSuite::Aes256GcmIv12Tag16NoKdf,
    AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256,
    AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256,
    AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256,
    AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256,
    AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384,
    AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
    AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
];

impl AlgorithmSuite {
    /// The two-byte suite ID.
    pub const fn id(self) -> u16 {
        self as u16
    }

    /// Parses a suite ID as written in hex (`0x0478`, `0478`); an unknown
    /// or malformed one is `InvalidArgument`.
    pub fn from_hex(text: &str) -> crate::Result<Self> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        u16::from_str_radix(digits, 16)
            .ok()
            .and_then(Self::from_id)
            .ok_or_else(|| {
                crate::Error::InvalidArgument(format!(
                    "unknown algorithm suite {text:?} (for example 0x0478 or 0x0578)"
                ))
            })
    }

    /// Looks a suite up by its ID.
    pub fn from_id(id: u16) -> Option<Self> {
        ALL_SUITES.into_iter().find(|s| s.id() == id)
    }

    /// The message format version this suite is written in (1 or 2).
    pub const fn message_version(self) -> u8 {
        if self.is_committing() {
            2
        } else {
            1
        }
    }

    /// Whether the suite commits to its data key (format version 2).
    pub const fn is_committing(self) -> bool {
        matches!(
            self,
            Self::Aes256GcmHkdfSha512CommitKey | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384
        )
    }

    /// Length of the plaintext data key and of the AES key, in bytes.
    pub const fn data_key_len(self) -> usize {
        match self {
            Self::Aes128GcmIv12Tag16NoKdf
            | Self::Aes128GcmIv12Tag16HkdfSha256
            | Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => 16,
            Self::Aes192GcmIv12Tag16NoKdf
            | Self::Aes192GcmIv12Tag16HkdfSha256
            | Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => 24,
            _ => 32,
        }
    }

    /// The HKDF hash, or `None` for the identity KDF of the oldest suites.
    pub const fn kdf_hash(self) -> Option<HashAlg> {
        match self {
            Self::Aes128GcmIv12Tag16NoKdf
            | Self::Aes192GcmIv12Tag16NoKdf
            | Self::Aes256GcmIv12Tag16NoKdf => None,
            Self::Aes128GcmIv12Tag16HkdfSha256
            | Self::Aes192GcmIv12Tag16HkdfSha256
            | Self::Aes256GcmIv12Tag16HkdfSha256
            | Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => Some(HashAlg::Sha256),
            Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => Some(HashAlg::Sha384),
            Self::Aes256GcmHkdfSha512CommitKey | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => {
                Some(HashAlg::Sha512)
            }
        }
    }

    /// The footer signature: curve and hash, or `None` for unsigned suites.
    pub const fn signature(self) -> Option<(EcCurve, HashAlg)> {
        match self {
            Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => Some((EcCurve::P256, HashAlg::Sha256)),
            Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => Some((EcCurve::P384, HashAlg::Sha384)),
            _ => None,
        }
    }

    /// Length of the message ID for this suite's format version.
    pub const fn message_id_len(self) -> usize {
        if self.is_committing() {
            32
        } else {
            16
        }
    }
}

impl std::fmt::Display for AlgorithmSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:04X}", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_versions() {
        for s in ALL_SUITES {
            assert_eq!(AlgorithmSuite::from_id(s.id()), Some(s));
        }
        assert_eq!(AlgorithmSuite::from_id(0x0479), None);
        assert_eq!(
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey.message_version(),
            2
        );
        assert_eq!(
            AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384.message_version(),
            1
        );
        assert_eq!(AlgorithmSuite::Aes192GcmIv12Tag16NoKdf.data_key_len(), 24);
        assert_eq!(
            format!("{}", AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384),
            "0x0578"
        );
    }
}
