//! Backends hold key material and perform every operation that needs it.
//! Nothing above this trait ever sees master-key material.

pub mod pkcs11;
pub mod soft;

use crate::error::Result;
use crate::keystore::types::{
    EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm,
};
use crate::secret::SecretBytes;

/// Names one version of one key, for the backend's bookkeeping (the soft
/// backend binds sealed material to it; an HSM labels objects with it).
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    /// The key ID.
    pub key_id: &'a str,
    /// The version.
    pub version: u32,
    /// The key spec.
    pub spec: KeySpec,
    /// The key usage.
    pub usage: KeyUsage,
}

/// A place that keeps key material and uses it. `handle` is the opaque
/// value the backend returned when the version was made; the key store
/// persists it and hands it back.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// `soft` or `pkcs11`.
    fn kind(&self) -> &'static str;
    /// A value that identifies this backend's secret (root key, token):
    /// stored at creation, compared at every open.
    fn check_value(&self) -> Result<Vec<u8>>;
    /// Generates new material; returns its handle.
    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>>;
    /// Takes imported material (raw bytes for AES/HMAC, PKCS#8 DER for
    /// RSA/EC); returns its handle.
    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>>;
    /// Destroys the material for good.
    fn destroy(&self, key: KeyRef<'_>, handle: &[u8]) -> Result<()>;
    /// AES-256-GCM encryption; returns ciphertext ‖ tag.
    fn seal(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        iv: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>>;
    /// AES-256-GCM decryption of ciphertext ‖ tag; `DecryptionFailed` on any mismatch.
    fn open(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        iv: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes>;
    /// Signs a digest; ECDSA signatures are DER-encoded.
    fn sign_digest(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: SigningAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>>;
    /// The DER SubjectPublicKeyInfo of an asymmetric key.
    fn public_key_der(&self, key: KeyRef<'_>, handle: &[u8]) -> Result<Vec<u8>>;
    /// RSA decryption.
    fn rsa_decrypt(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes>;
    /// HMAC of a message.
    fn mac(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: MacAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>>;
    /// Random bytes from the backend's generator.
    fn random(&self, len: usize) -> Result<Vec<u8>>;
    /// HMAC-SHA-256 under the backend's audit-chain key.
    fn audit_mac(&self, data: &[u8]) -> Result<Vec<u8>>;
}
