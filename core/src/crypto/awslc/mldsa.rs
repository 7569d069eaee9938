//! ML-DSA through AWS-LC (`ffi.rs`): keys from a seed, signatures of an
//! external μ. aws-lc-rs signs only whole messages, and sealbox's μ is
//! computed once for both providers (`crypto/mldsa.rs`).

use super::ffi::Pkey;
use crate::crypto::{invalid_key, MlDsaParams};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// An ML-DSA key pair (AWS-LC's EVP_PKEY, wiped when freed).
pub struct MlDsaKeyPair {
    params: MlDsaParams,
    key: Pkey,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(MlDsaKeyPair(..));

impl MlDsaKeyPair {
    /// The key pair of a 32-byte seed.
    pub fn from_seed(params: MlDsaParams, seed: &[u8; 32]) -> Result<Self> {
        let bad = || invalid_key(format!("AWS-LC refused the {} seed", params.name()));
        let key = Pkey::mldsa_from_seed(params, seed).ok_or_else(bad)?;
        let public = key.raw_public_key(params.public_len()).ok_or_else(bad)?;
        Ok(MlDsaKeyPair {
            params,
            key,
            public,
        })
    }

    /// The raw public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The expanded private key (FIPS 204 skEncode), in secret memory.
    pub fn expanded_private_key(&self) -> Result<SecretBytes> {
        let raw = self
            .key
            .raw_private_key(self.params.expanded_private_len())
            .ok_or_else(|| invalid_key("AWS-LC gave no ML-DSA private key"))?;
        SecretBytes::from_slice(&raw)
    }

    /// The hedged signature of an external μ.
    pub fn sign_mu(&self, mu: &[u8; 64]) -> Result<Vec<u8>> {
        self.key
            .mldsa_sign_mu(mu, self.params.signature_len())
            .ok_or_else(|| Error::InvalidArgument("ML-DSA signing failed".into()))
    }
}

/// Whether `sig` is a valid signature of μ under the raw public key.
pub fn mldsa_verify_mu(params: MlDsaParams, public: &[u8], mu: &[u8; 64], sig: &[u8]) -> bool {
    Pkey::mldsa_public(params, public).is_some_and(|k| k.mldsa_verify_mu(mu, sig))
}
