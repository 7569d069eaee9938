//! The crypto seam: the only module that names primitive crates.
//!
//! Everything else in sealbox calls the small API below. A provider is a
//! sub-module that implements the same names (`AesGcmKey`, `hkdf`, `hmac`,
//! `Hasher`, `EcdsaSigningKey`, `EcdsaVerifyingKey`, `RsaPrivateKey`,
//! `RsaPublicKey`, `fill_random`); exactly one is compiled in, chosen by a
//! Cargo feature, the way rustls swaps ring for aws-lc-rs.
//!
//! Providers must give byte-identical results wherever the algorithm is
//! deterministic (AES-GCM, HKDF, HMAC, digests, RSA public-key checks).

use crate::error::{Error, Result};

#[cfg(feature = "rustcrypto")]
mod rustcrypto;
#[cfg(feature = "rustcrypto")]
pub use rustcrypto::{
    fill_random, hkdf, hmac, AesGcmKey, EcdsaSigningKey, EcdsaVerifyingKey, Hasher, RsaPrivateKey,
    RsaPublicKey,
};

#[cfg(not(feature = "rustcrypto"))]
compile_error!("sealbox needs a crypto provider: enable the `rustcrypto` feature");

/// Name of the compiled-in provider, for diagnostics and benchmarks.
#[cfg(feature = "rustcrypto")]
pub const PROVIDER: &str = "rustcrypto";

/// Length in bytes of every AES-GCM nonce sealbox uses.
pub const GCM_IV_LEN: usize = 12;
/// Length in bytes of every AES-GCM tag sealbox uses.
pub const GCM_TAG_LEN: usize = 16;

/// Hash functions used by HKDF, HMAC, signatures and RSA-OAEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1: only for RSA-OAEP (as the AWS Encryption SDK allows it).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

/// The elliptic curves sealbox signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl EcCurve {
    /// Size of a field element / scalar in bytes.
    pub const fn field_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }

    /// Length of the DER signature the AWS Encryption SDK writes for this
    /// curve: one of r, s has its top bit set, the other not.
    pub const fn static_der_signature_len(self) -> usize {
        match self {
            EcCurve::P256 => 71,
            EcCurve::P384 => 103,
        }
    }
}

/// RSA encryption paddings. OAEP uses MGF1 with the same hash and an empty
/// label, as the AWS Encryption SDK and AWS KMS do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// PKCS#1 v1.5 encryption padding (legacy; kept for compatibility).
    Pkcs1v15,
    /// OAEP with the given hash for both the label hash and MGF1.
    Oaep(HashAlg),
}

/// RSA signature schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaSignatureScheme {
    /// RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash.
    Pss(HashAlg),
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15(HashAlg),
}

/// Computes the digest of `data`.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(alg);
    h.update(data);
    h.finalize()
}

/// Constant-time comparison of two byte strings (the lengths are public).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Verifies an HMAC tag in constant time.
pub fn hmac_verify(alg: HashAlg, key: &[u8], data: &[u8], tag: &[u8]) -> Result<bool> {
    let expected = hmac(alg, key, data)?;
    Ok(ct_eq(&expected, tag))
}

/// Returns `n` random bytes (not for key material: use `SecretBytes::random`).
pub fn random_vec(n: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    fill_random(&mut v)?;
    Ok(v)
}

pub(crate) fn invalid_key(msg: impl Into<String>) -> Error {
    Error::InvalidKey(msg.into())
}
