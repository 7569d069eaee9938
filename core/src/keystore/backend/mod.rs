//! Backends hold key material and perform every operation that needs it.
//! Nothing above this trait ever sees master-key material.

pub mod pkcs11;
pub mod soft;

use crate::crypto::{EcdsaSigningKey, Ed25519SigningKey, MlDsaSigningKey, RsaPrivateKey};
use crate::error::{Error, Result};
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

impl KeyRef<'_> {
    /// The key ID's 16 bytes.
    pub(crate) fn id_bytes(&self) -> Result<[u8; 16]> {
        parse_key_id(self.key_id)
    }
}

/// One stored version of one key: its name and the opaque handle the
/// backend returned when the version was made.
#[derive(Debug, Clone, Copy)]
pub struct VersionRef<'a> {
    /// The key version.
    pub key: KeyRef<'a>,
    /// The backend's handle.
    pub handle: &'a [u8],
}

/// The inputs of one AES-256-GCM operation.
#[derive(Debug, Clone, Copy)]
pub struct Gcm<'a> {
    /// The 96-bit IV.
    pub iv: &'a [u8; 12],
    /// The additional authenticated data.
    pub aad: &'a [u8],
    /// Plaintext to seal, or ciphertext ‖ tag to open.
    pub data: &'a [u8],
}

/// The 16 bytes of a key ID (a hyphenated UUID); `KeyNotFound` if it is not
/// one.
pub(crate) fn parse_key_id(s: &str) -> Result<[u8; 16]> {
    super::KeyId::bytes_of(s)
}

/// Checks imported material against the spec, before any backend keeps it.
pub(crate) fn check_material(spec: KeySpec, material: &SecretBytes) -> Result<()> {
    match spec {
        KeySpec::Aes256
        | KeySpec::Hmac224
        | KeySpec::Hmac256
        | KeySpec::Hmac384
        | KeySpec::Hmac512 => {
            let want = spec.secret_len().unwrap_or(32);
            let ok = if spec == KeySpec::Aes256 {
                material.len() == 32
            } else {
                material.len() >= want && material.len() <= 128
            };
            if !ok {
                return Err(Error::InvalidKey(format!(
                    "{spec} material must be {want} bytes"
                )));
            }
        }
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let k = RsaPrivateKey::from_der(material.as_bytes())?;
            if Some(k.bits()) != spec.rsa_bits() {
                return Err(Error::InvalidKey(format!(
                    "the RSA key has {} bits, not the {} of {spec}",
                    k.bits(),
                    spec.rsa_bits().unwrap_or(0)
                )));
            }
        }
        KeySpec::EccNistP256
        | KeySpec::EccNistP384
        | KeySpec::EccNistP521
        | KeySpec::EccSecgP256k1 => {
            let k = EcdsaSigningKey::from_pkcs8_der(material.as_bytes())?;
            if Some(k.curve()) != spec.ec_curve() {
                return Err(Error::InvalidKey(format!(
                    "the EC key is not on the curve of {spec}"
                )));
            }
        }
        KeySpec::EccNistEdwards25519 => {
            Ed25519SigningKey::from_pkcs8_der(material.as_bytes())?;
        }
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
            let k = MlDsaSigningKey::from_pkcs8_der(material.as_bytes())?;
            if Some(k.params()) != spec.mldsa() {
                return Err(Error::InvalidKey(format!(
                    "the key is {}, not {spec}",
                    k.params().name()
                )));
            }
        }
    }
    Ok(())
}

/// A place that keeps key material and uses it. A `VersionRef`'s handle is
/// the opaque value the backend returned when the version was made; the
/// key store persists it and hands it back.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// `soft` or `pkcs11`.
    fn kind(&self) -> &'static str;
    /// A value that identifies this backend's secret (root key, token):
    /// stored at creation, compared at every open.
    fn check_value(&self) -> Result<Vec<u8>>;
    /// Generates new material; returns its handle.
    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>>;
    /// Takes imported material (raw bytes for AES/HMAC, PKCS#8 DER for
    /// RSA, EC, Ed25519 and ML-DSA); returns its handle.
    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>>;
    /// Destroys the material for good.
    fn destroy(&self, v: VersionRef<'_>) -> Result<()>;
    /// Destroys whatever a failed or interrupted `generate`/`import` of this
    /// key version may have left, when no handle came back. The key store
    /// calls it only for a version its metadata store has no record of, so
    /// nothing can have been sealed under that material. The default does
    /// nothing: a backend whose material lives only in the returned handle
    /// (the soft backend) leaves nothing behind.
    fn discard(&self, key: KeyRef<'_>) -> Result<()> {
        let _ = key;
        Ok(())
    }
    /// AES-256-GCM encryption of `gcm.data`; returns ciphertext ‖ tag.
    fn seal(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<Vec<u8>>;
    /// AES-256-GCM decryption of `gcm.data` (ciphertext ‖ tag);
    /// `DecryptionFailed` on any mismatch.
    fn open(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<SecretBytes>;
    /// Signs a digest; ECDSA signatures are DER-encoded. For ML-DSA the
    /// "digest" is an external μ (64 bytes).
    fn sign_digest(&self, v: VersionRef<'_>, alg: SigningAlgorithm, d: &[u8]) -> Result<Vec<u8>>;
    /// Signs the message itself, for the algorithms that hash inside the
    /// signature ([`SigningAlgorithm::signs_message`]: Ed25519, ML-DSA).
    fn sign_message(
        &self,
        v: VersionRef<'_>,
        alg: SigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>>;
    /// ECDH with an EC key of usage KEY_AGREEMENT and a peer's public key
    /// (a SubjectPublicKeyInfo on the key's curve, checked and re-encoded
    /// with an uncompressed point by the key store): the x-coordinate.
    fn derive_shared_secret(&self, v: VersionRef<'_>, peer_spki: &[u8]) -> Result<SecretBytes>;
    /// The DER SubjectPublicKeyInfo of an asymmetric key.
    fn public_key_der(&self, v: VersionRef<'_>) -> Result<Vec<u8>>;
    /// RSA decryption.
    fn rsa_decrypt(
        &self,
        v: VersionRef<'_>,
        alg: EncryptionAlgorithm,
        ct: &[u8],
    ) -> Result<SecretBytes>;
    /// HMAC of a message.
    fn mac(&self, v: VersionRef<'_>, alg: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>>;
    /// Random bytes from the backend's generator.
    fn random(&self, len: usize) -> Result<Vec<u8>>;
    /// HMAC-SHA-256 under the backend's audit-chain key.
    fn audit_mac(&self, data: &[u8]) -> Result<Vec<u8>>;
    /// The AES-256 block function of an AES_256 key version applied to two
    /// 16-byte blocks (ECB, no padding): the PRF of the per-blob key
    /// derivation of blob format 2 (blob.rs). The version key stays in the
    /// backend; only the derived blob key comes out.
    fn prf_blocks(&self, v: VersionRef<'_>, blocks: &[u8; 32]) -> Result<SecretBytes>;
}
