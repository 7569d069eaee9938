//! Asymmetric operations: Sign, Verify, GetPublicKey and RSA encryption.

use super::*;
use crate::crypto::{
    self, EcdsaVerifyingKey, Ed25519VerifyingKey, MlDsaVerifyingKey, RsaPublicKey,
};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

impl KeyStore {
    // ------------------------------------------------------- asymmetric --

    /// The digest an algorithm that signs digests signs: of a RAW message
    /// (at most 4096 bytes), or the caller's DIGEST. EXTERNAL_MU is for
    /// ML-DSA only.
    pub(super) fn digest_for(
        alg: SigningAlgorithm,
        message: &[u8],
        message_type: MessageType,
    ) -> Result<Vec<u8>> {
        let alg_hash = match (alg.hash(), message_type) {
            (Some(h), MessageType::Raw | MessageType::Digest) => h,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "message type {message_type} is for ML-DSA only; {alg} takes RAW or DIGEST"
                )))
            }
        };
        if message_type == MessageType::Raw {
            if message.len() > MAX_MESSAGE {
                return Err(Error::InvalidArgument(format!(
                    "raw messages are at most {MAX_MESSAGE} bytes; pass a digest"
                )));
            }
            return Ok(crypto::digest(alg_hash, message));
        }
        if message.len() != alg_hash.output_len() {
            return Err(Error::InvalidArgument(format!(
                "a {alg_hash:?} digest is {} bytes, not {}",
                alg_hash.output_len(),
                message.len()
            )));
        }
        Ok(message.to_vec())
    }

    pub(super) fn signing_key(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        alg: SigningAlgorithm,
    ) -> Result<(KeyRecord, VersionRecord)> {
        let (rec, v) = self.usable(a, key, KeyUsage::SignVerify)?;
        if !alg.fits(rec.spec) {
            return Err(Error::InvalidKeyUsage(format!(
                "{alg} cannot be used with {} keys",
                rec.spec
            )));
        }
        Ok((rec, v))
    }

    /// The input of an algorithm that signs the message itself (Ed25519,
    /// ML-DSA): message type RAW, at most 4096 bytes, as AWS KMS; for
    /// ML-DSA also EXTERNAL_MU, a 64-byte μ. `Ok(true)` for a μ.
    fn whole_message(
        alg: SigningAlgorithm,
        message: &[u8],
        message_type: MessageType,
    ) -> Result<bool> {
        match message_type {
            MessageType::Raw if message.len() > MAX_MESSAGE => Err(Error::InvalidArgument(
                format!("raw messages are at most {MAX_MESSAGE} bytes"),
            )),
            MessageType::Raw => Ok(false),
            MessageType::ExternalMu if alg == SigningAlgorithm::MlDsaShake256 => {
                if message.len() != crypto::MLDSA_MU_LEN {
                    return Err(Error::InvalidArgument(format!(
                        "an EXTERNAL_MU message is {} bytes, not {}",
                        crypto::MLDSA_MU_LEN,
                        message.len()
                    )));
                }
                Ok(true)
            }
            MessageType::ExternalMu | MessageType::Digest => {
                let allowed = if alg == SigningAlgorithm::MlDsaShake256 {
                    "RAW or EXTERNAL_MU"
                } else {
                    "RAW"
                };
                Err(Error::InvalidArgument(format!(
                    "{alg} signs the message itself: use message type {allowed}"
                )))
            }
        }
    }

    /// Sign a message (RAW, at most 4096 bytes) or a digest. ECDSA
    /// signatures are DER-encoded; Ed25519 signatures are R ‖ S (64
    /// bytes) of the message itself (RAW only); ML-DSA signatures (FIPS
    /// 204 encoding) are of the message (RAW) or of a 64-byte μ
    /// (EXTERNAL_MU, computed with [`crate::crypto::MlDsaVerifyingKey::mu`]
    /// from the key's public key), never of a digest.
    pub fn sign(
        &self,
        key: &str,
        message: &[u8],
        alg: SigningAlgorithm,
        message_type: MessageType,
    ) -> Result<Vec<u8>> {
        self.run(Operation::Sign, None, |a| {
            let (rec, v) = self.signing_key(a, key, alg)?;
            let version = Self::version_ref(&rec, &v);
            if alg.signs_message() {
                return if Self::whole_message(alg, message, message_type)? {
                    // An external μ is what ML-DSA signs in place of a digest.
                    self.inner.backend.sign_digest(version, alg, message)
                } else {
                    self.inner.backend.sign_message(version, alg, message)
                };
            }
            let digest = Self::digest_for(alg, message, message_type)?;
            self.inner.backend.sign_digest(version, alg, &digest)
        })
    }

    /// Verify a signature; `Ok(false)` when it does not verify.
    pub fn verify(
        &self,
        key: &str,
        message: &[u8],
        signature: &[u8],
        alg: SigningAlgorithm,
        message_type: MessageType,
    ) -> Result<bool> {
        self.run(Operation::Verify, None, |a| {
            let (rec, v) = self.signing_key(a, key, alg)?;
            let der = self
                .inner
                .backend
                .public_key_der(Self::version_ref(&rec, &v))?;
            if alg == SigningAlgorithm::MlDsaShake256 {
                let key = MlDsaVerifyingKey::from_spki_der(&der)?;
                return Ok(if Self::whole_message(alg, message, message_type)? {
                    key.verify_mu(message, signature)
                } else {
                    key.verify(message, signature)
                });
            }
            if alg.signs_message() {
                Self::whole_message(alg, message, message_type)?;
                return Ok(Ed25519VerifyingKey::from_spki_der(&der)?.verify(message, signature));
            }
            let digest = Self::digest_for(alg, message, message_type)?;
            Ok(match alg.rsa_scheme() {
                None => {
                    EcdsaVerifyingKey::from_spki_der(&der)?.verify_digest_der(&digest, signature)
                }
                Some(scheme) => {
                    RsaPublicKey::from_der(&der)?.verify_digest(scheme, &digest, signature)
                }
            })
        })
    }

    /// DeriveSharedSecret: ECDH between a KEY_AGREEMENT key (NIST P-256,
    /// P-384 or P-521) and the peer's public key, a DER
    /// SubjectPublicKeyInfo on the same curve. Returns the raw shared
    /// secret (the x-coordinate, as AWS KMS does), in secret memory: derive
    /// keys from it with a KDF (for example HKDF) rather than using it
    /// directly.
    pub fn derive_shared_secret(
        &self,
        key: &str,
        algorithm: KeyAgreementAlgorithm,
        peer_public_key: &[u8],
    ) -> Result<SecretBytes> {
        self.run(Operation::DeriveSharedSecret, None, |a| {
            let (rec, v) = self.usable(a, key, KeyUsage::KeyAgreement)?;
            let KeyAgreementAlgorithm::Ecdh = algorithm;
            let curve = rec.spec.ec_curve().ok_or_else(|| {
                Error::InvalidKeyUsage(format!("{} keys cannot derive shared secrets", rec.spec))
            })?;
            let canonical = crypto::ecdh_peer_spki(curve, peer_public_key)?;
            self.inner
                .backend
                .derive_shared_secret(Self::version_ref(&rec, &v), &canonical)
        })
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo (see [`der_to_pem`]).
    pub fn get_public_key(&self, key: &str) -> Result<Vec<u8>> {
        self.run(Operation::GetPublicKey, None, |a| {
            let rec = self.authorized(a, key)?;
            a.key(&rec.key_id, Some(rec.primary_version));
            if matches!(rec.state, KeyState::PendingDeletion { .. }) {
                Self::require_enabled(&rec)?;
            }
            if !rec.spec.is_asymmetric() {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is symmetric and has no public key",
                    rec.key_id
                )));
            }
            self.require_material(&rec)?;
            let v = self.version(&rec, rec.primary_version)?;
            self.inner
                .backend
                .public_key_der(Self::version_ref(&rec, &v))
        })
    }

    /// Encrypts with an RSA key's public half (RSAES_OAEP_SHA_1/256).
    pub fn encrypt_rsa(
        &self,
        key: &str,
        plaintext: &[u8],
        alg: EncryptionAlgorithm,
    ) -> Result<Vec<u8>> {
        self.run(Operation::Encrypt, None, |a| {
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec.rsa_bits().is_none() {
                return Err(Error::InvalidKeyUsage(format!("{alg} needs an RSA key")));
            }
            let der = self
                .inner
                .backend
                .public_key_der(Self::version_ref(&rec, &v))?;
            RsaPublicKey::from_der(&der)?.encrypt(alg.padding(), plaintext)
        })
    }

    /// Decrypts RSA-OAEP ciphertext with an RSA key of usage ENCRYPT_DECRYPT.
    pub fn decrypt_rsa(
        &self,
        key: &str,
        ciphertext: &[u8],
        alg: EncryptionAlgorithm,
    ) -> Result<SecretBytes> {
        self.run(Operation::Decrypt, None, |a| {
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec.rsa_bits().is_none() {
                return Err(Error::InvalidKeyUsage(format!("{alg} needs an RSA key")));
            }
            self.inner
                .backend
                .rsa_decrypt(Self::version_ref(&rec, &v), alg, ciphertext)
        })
    }
}

/// PEM-encodes DER with the given label (e.g. `PUBLIC KEY`).
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
