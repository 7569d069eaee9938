//! Ed25519 through aws-lc-rs: the key pair of a seed, and verification.

use aws_lc_rs::signature::{self, KeyPair as _};

use crate::crypto::invalid_key;
use crate::error::{Error, Result};

/// An Ed25519 key pair (AWS-LC's EVP_PKEY, wiped when freed).
pub struct Ed25519KeyPair {
    key: signature::Ed25519KeyPair,
    public: [u8; 32],
}

crate::secret::debug_hiding_secrets!(Ed25519KeyPair(..));

impl Ed25519KeyPair {
    /// The key pair of a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self> {
        let key = signature::Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| invalid_key("AWS-LC refused the Ed25519 seed"))?;
        let public = key
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| invalid_key("AWS-LC gave an Ed25519 public key of another length"))?;
        Ok(Ed25519KeyPair { key, public })
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key
            .try_sign(message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::InvalidArgument("Ed25519 signing failed".into()))
    }
}

/// RFC 8032 verification (AWS-LC: S must be below the group order; the
/// cofactorless equation).
pub fn ed25519_verify(public: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    signature::UnparsedPublicKey::new(&signature::ED25519, public)
        .verify(message, signature)
        .is_ok()
}
