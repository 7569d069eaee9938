//! Ed25519 (RFC 8032, "pure": the message itself is signed), written once
//! over the provider's `Ed25519KeyPair` (a key pair from a 32-byte seed:
//! `from_seed`, `public_key`, `sign`) and `ed25519_verify`. The PKCS#8 and
//! SubjectPublicKeyInfo wrappings are read and written by [`der`], so both
//! providers accept and produce exactly the same encodings.

use super::{der, invalid_key, Ed25519KeyPair};
use crate::error::Result;
use crate::secret::SecretBytes;

/// Length of a seed (the private key of RFC 8032).
pub const ED25519_SEED_LEN: usize = 32;
/// Length of a public key.
pub const ED25519_PUBLIC_LEN: usize = 32;
/// Length of a signature (R ‖ S).
pub const ED25519_SIGNATURE_LEN: usize = 64;

/// An Ed25519 private key.
pub struct Ed25519SigningKey {
    seed: SecretBytes,
    pair: Ed25519KeyPair,
}

crate::secret::debug_hiding_secrets!(Ed25519SigningKey(..));

impl Ed25519SigningKey {
    /// A new key from 32 random bytes.
    pub fn generate() -> Result<Self> {
        Self::from_seed(SecretBytes::random(ED25519_SEED_LEN)?.as_bytes())
    }

    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        let seed: &[u8; ED25519_SEED_LEN] = seed
            .try_into()
            .map_err(|_| invalid_key("an Ed25519 private key is 32 bytes"))?;
        Ok(Ed25519SigningKey {
            pair: Ed25519KeyPair::from_seed(seed)?,
            seed: SecretBytes::from_slice(seed)?,
        })
    }

    /// Parses an Ed25519 PKCS#8 key (v1, or v2 whose public key must then
    /// be the seed's).
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self> {
        let (seed, public) = der::pkcs8_ed25519_key(pkcs8)
            .map_err(|e| invalid_key(format!("not a PKCS#8 Ed25519 private key: {e}")))?;
        let key = Self::from_seed(seed)?;
        if public.is_some_and(|p| p != key.pair.public_key()) {
            return Err(invalid_key(
                "the PKCS#8 Ed25519 key's public key does not match its private key",
            ));
        }
        Ok(key)
    }

    /// The PKCS#8 v1 encoding (as OpenSSL writes it), in secret memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        SecretBytes::from_slice(&der::ed25519_pkcs8(self.seed.as_bytes()))
    }

    /// Signs `message` (R ‖ S, 64 bytes; deterministic).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.pair.sign(message)
    }

    /// The public key.
    pub fn verifying_key(&self) -> Ed25519VerifyingKey {
        Ed25519VerifyingKey(*self.pair.public_key())
    }
}

/// An Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519VerifyingKey([u8; ED25519_PUBLIC_LEN]);

impl Ed25519VerifyingKey {
    /// Parses a SubjectPublicKeyInfo with the Ed25519 algorithm.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        let key = der::spki_ed25519_public(spki)
            .map_err(|e| invalid_key(format!("not an Ed25519 SubjectPublicKeyInfo: {e}")))?;
        Self::from_bytes(key)
    }

    /// The key of its 32-byte encoding (RFC 8032 section 5.1.2).
    pub fn from_bytes(key: &[u8]) -> Result<Self> {
        key.try_into()
            .map(Ed25519VerifyingKey)
            .map_err(|_| invalid_key("an Ed25519 public key is 32 bytes"))
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; ED25519_PUBLIC_LEN] {
        &self.0
    }

    /// The SubjectPublicKeyInfo (RFC 8410).
    pub fn to_spki_der(&self) -> Vec<u8> {
        der::ed25519_spki(&self.0)
    }

    /// Whether `signature` is a valid signature of `message` (RFC 8032
    /// verification with S < L; a signature of any other length is
    /// invalid).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature.len() == ED25519_SIGNATURE_LEN
            && super::ed25519_verify(&self.0, message, signature)
    }
}
