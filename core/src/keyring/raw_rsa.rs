//! The raw RSA keyring: data keys wrapped with an RSA public key and
//! unwrapped with the private key, both held by the application.
//!
//! Encrypted data key, byte-compatible with the AWS Encryption SDK:
//! provider ID = key namespace, provider info = key name, ciphertext =
//! RSA-encrypt(data key). The encryption context is not bound here (RSA
//! has no AAD); the message header authenticates it.

use crate::crypto::{HashAlg, RsaPadding, RsaPrivateKey, RsaPublicKey};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

use super::raw_aes::check_names;
use super::{add_wrapped_data_key, decrypt_first, Keyring};

/// The paddings the AWS Encryption SDK's raw RSA keyring supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaWrappingPadding {
    /// PKCS#1 v1.5 (legacy: prefer OAEP).
    Pkcs1,
    /// OAEP with SHA-1 and MGF1-SHA-1.
    OaepSha1Mgf1,
    /// OAEP with SHA-256 and MGF1-SHA-256.
    OaepSha256Mgf1,
    /// OAEP with SHA-384 and MGF1-SHA-384.
    OaepSha384Mgf1,
    /// OAEP with SHA-512 and MGF1-SHA-512.
    OaepSha512Mgf1,
}

impl RsaWrappingPadding {
    fn padding(self) -> RsaPadding {
        match self {
            Self::Pkcs1 => RsaPadding::Pkcs1v15,
            Self::OaepSha1Mgf1 => RsaPadding::Oaep(HashAlg::Sha1),
            Self::OaepSha256Mgf1 => RsaPadding::Oaep(HashAlg::Sha256),
            Self::OaepSha384Mgf1 => RsaPadding::Oaep(HashAlg::Sha384),
            Self::OaepSha512Mgf1 => RsaPadding::Oaep(HashAlg::Sha512),
        }
    }

    /// Every padding.
    pub const ALL: &'static [RsaWrappingPadding] = &[
        Self::Pkcs1,
        Self::OaepSha1Mgf1,
        Self::OaepSha256Mgf1,
        Self::OaepSha384Mgf1,
        Self::OaepSha512Mgf1,
    ];

    /// The canonical name (the one every surface spells).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pkcs1 => "PKCS1",
            Self::OaepSha1Mgf1 => "OAEP_SHA1_MGF1",
            Self::OaepSha256Mgf1 => "OAEP_SHA256_MGF1",
            Self::OaepSha384Mgf1 => "OAEP_SHA384_MGF1",
            Self::OaepSha512Mgf1 => "OAEP_SHA512_MGF1",
        }
    }

    /// Every canonical name.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|p| p.as_str()).collect()
    }

    /// Parses the names used across sealbox's bindings
    /// (`PKCS1`, `OAEP_SHA1_MGF1`, `OAEP_SHA256_MGF1`, ...).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_uppercase().replace('-', "_").as_str() {
            "PKCS1" | "PKCS1_V1_5" => Self::Pkcs1,
            "OAEP_SHA1_MGF1" | "OAEP_SHA1" => Self::OaepSha1Mgf1,
            "OAEP_SHA256_MGF1" | "OAEP_SHA256" => Self::OaepSha256Mgf1,
            "OAEP_SHA384_MGF1" | "OAEP_SHA384" => Self::OaepSha384Mgf1,
            "OAEP_SHA512_MGF1" | "OAEP_SHA512" => Self::OaepSha512Mgf1,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown RSA padding {other:?}"
                )))
            }
        })
    }
}

/// A keyring that wraps data keys with RSA.
#[derive(Debug)]
pub struct RawRsaKeyring {
    key_namespace: String,
    key_name: String,
    padding: RsaWrappingPadding,
    public_key: Option<RsaPublicKey>,
    private_key: Option<RsaPrivateKey>,
}

impl RawRsaKeyring {
    /// Creates a keyring from PEM keys. Either may be absent (an
    /// encrypt-only or a decrypt-only keyring), not both; when both are
    /// given they must be halves of one key pair.
    pub fn new(
        key_namespace: &str,
        key_name: &str,
        padding: RsaWrappingPadding,
        public_key_pem: Option<&str>,
        private_key_pem: Option<&str>,
    ) -> Result<Self> {
        check_names(key_namespace, key_name)?;
        let private_key = private_key_pem.map(RsaPrivateKey::from_pem).transpose()?;
        let mut public_key = public_key_pem.map(RsaPublicKey::from_pem).transpose()?;
        match (&public_key, &private_key) {
            (None, None) => {
                return Err(Error::InvalidKey(
                    "a raw RSA keyring needs a public or a private key".into(),
                ))
            }
            (Some(p), Some(s)) if *p != s.public_key() => {
                return Err(Error::InvalidKey(
                    "the public and private keys are not one key pair".into(),
                ))
            }
            (None, Some(s)) => public_key = Some(s.public_key()),
            _ => {}
        }
        Ok(RawRsaKeyring {
            key_namespace: key_namespace.to_owned(),
            key_name: key_name.to_owned(),
            padding,
            public_key,
            private_key,
        })
    }
}

impl Keyring for RawRsaKeyring {
    fn is_in_memory(&self) -> bool {
        true
    }

    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()> {
        let public_key = self
            .public_key
            .as_ref()
            .ok_or_else(|| Error::EncryptFailed("this RSA keyring has no public key".into()))?;
        add_wrapped_data_key(materials, &self.key_namespace, |dk, _| {
            let ciphertext = public_key.encrypt(self.padding.padding(), dk.as_bytes())?;
            Ok((self.key_name.as_bytes().to_vec(), ciphertext))
        })
    }

    fn on_decrypt(&self, m: &mut DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<()> {
        decrypt_first(
            m,
            edks,
            |_| self.private_key.as_ref().ok_or(Error::DecryptionFailed),
            |private_key, _, edk| {
                if edk.provider_id != self.key_namespace
                    || edk.provider_info != self.key_name.as_bytes()
                {
                    return Ok(None);
                }
                Ok(private_key
                    .decrypt(self.padding.padding(), &edk.ciphertext)
                    .ok())
            },
        )
    }
}
