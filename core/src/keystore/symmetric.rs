//! Symmetric operations on AES_256 keys: Encrypt, Decrypt, ReEncrypt and
//! GenerateDataKey*, over the key store's blob format (see blob.rs).

use super::*;
use crate::crypto;
use crate::error::{Error, Result};
use crate::message::EncryptionContext;
use crate::secret::SecretBytes;

impl KeyStore {
    // -------------------------------------------------------- symmetric --

    /// The AES-256-GCM key of one format-2 blob: derived by the backend
    /// from the key version and the blob's nonce.
    fn blob_key(
        &self,
        rec: &KeyRecord,
        v: &VersionRecord,
        nonce: &[u8; blob::NONCE_LEN],
    ) -> Result<crypto::AesGcmKey> {
        let k = self
            .inner
            .backend
            .prf_blocks(Self::version_ref(rec, v), &blob::prf_input(nonce))?;
        crypto::AesGcmKey::new(k.as_bytes())
    }

    pub(super) fn seal_blob(
        &self,
        rec: &KeyRecord,
        v: &VersionRecord,
        plaintext: &[u8],
        ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        let mut nonce = [0u8; blob::NONCE_LEN];
        crypto::fill_random(&mut nonce)?;
        let mut iv = [0u8; 12];
        crypto::fill_random(&mut iv)?;
        let key = self.blob_key(rec, v, &nonce)?;
        let mut out = blob::prefix(&rec.key_id, v.version, &nonce)?;
        let aad = blob::aad(&out, ec)?;
        out.reserve(12 + plaintext.len() + 16);
        out.extend_from_slice(&iv);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = key.seal_in_place(&iv, &aad, &mut out[start..])?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    pub(super) fn open_blob(
        &self,
        a: &mut Audit<'_>,
        ciphertext: &[u8],
        ec: &EncryptionContext,
    ) -> Result<SecretBytes> {
        let b = blob::parse(ciphertext)?;
        let rec = self
            .inner
            .cache
            .key(b.key_id.as_str(), || self.load_key(b.key_id.as_str()))?
            .ok_or_else(|| Error::KeyNotFound(b.key_id.to_string()))?;
        a.key(&rec.key_id, Some(b.version));
        self.authorize_op(a, &rec, Some(ec), None)?;
        Self::require_enabled(&rec)?;
        Self::require_usage(&rec, KeyUsage::EncryptDecrypt)?;
        self.require_material(&rec)?;
        if rec.spec != KeySpec::Aes256 {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} is asymmetric: use decrypt_rsa",
                rec.key_id
            )));
        }
        let v = self
            .inner
            .cache
            .version(&rec.key_id, b.version, || {
                self.load_version(&rec.key_id, b.version)
            })?
            .ok_or(Error::DecryptionFailed)?;
        let aad = blob::aad(b.prefix, ec)?;
        match b.nonce {
            // Format 2: the blob's own key, derived in the backend.
            Some(nonce) => {
                if b.sealed.len() < 16 {
                    return Err(Error::DecryptionFailed);
                }
                let key = self.blob_key(&rec, &v, &nonce)?;
                let (ct, tag) = b.sealed.split_at(b.sealed.len() - 16);
                let mut pt = SecretBytes::from_slice(ct)?;
                key.open_in_place(&b.iv, &aad, pt.as_mut_bytes(), tag)?;
                Ok(pt)
            }
            // Format 1: sealed directly under the key version.
            None => {
                let gcm = Gcm {
                    iv: &b.iv,
                    aad: &aad,
                    data: b.sealed,
                };
                self.inner.backend.open(Self::version_ref(&rec, &v), gcm)
            }
        }
    }

    /// Encrypt (at most 4096 bytes) under the key's primary version.
    pub fn encrypt(&self, key: &str, plaintext: &[u8], ec: &EncryptionContext) -> Result<Vec<u8>> {
        self.run(Operation::Encrypt, Some(ec), |a| {
            if plaintext.len() > MAX_DIRECT_PLAINTEXT {
                return Err(Error::InvalidArgument(format!(
                    "Encrypt takes at most {MAX_DIRECT_PLAINTEXT} bytes; use envelope encryption"
                )));
            }
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec != KeySpec::Aes256 {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is asymmetric: use encrypt_rsa",
                    rec.key_id
                )));
            }
            self.seal_blob(&rec, &v, plaintext, ec)
        })
    }

    /// Decrypt a blob; the blob names its key and version. A tampered blob
    /// or a wrong context is `DecryptionFailed`.
    pub fn decrypt(&self, ciphertext: &[u8], ec: &EncryptionContext) -> Result<SecretBytes> {
        self.run(Operation::Decrypt, Some(ec), |a| {
            self.open_blob(a, ciphertext, ec)
        })
    }

    /// Decrypt for a recipient: the plaintext comes back encrypted to the
    /// recipient's RSA public key (a DER SubjectPublicKeyInfo of at least
    /// 2048 bits) as a CMS EnvelopedData (RSAES_OAEP_SHA_256 and
    /// AES-256-CBC, AWS KMS's `CiphertextForRecipient`), never in the clear:
    /// the calling process does not see it. The audit record names the
    /// recipient by its key identifier.
    pub fn decrypt_for_recipient(
        &self,
        ciphertext: &[u8],
        ec: &EncryptionContext,
        recipient_public_key: &[u8],
    ) -> Result<Vec<u8>> {
        self.run(Operation::Decrypt, Some(ec), |a| {
            let recipient = Self::recipient(a, recipient_public_key)?;
            let pt = self.open_blob(a, ciphertext, ec)?;
            crypto::envelope_for_recipient(&recipient, pt.as_bytes())
        })
    }

    /// The recipient's key, named in the audit record.
    fn recipient(a: &mut Audit<'_>, spki: &[u8]) -> Result<crypto::RecipientKey> {
        let recipient = crypto::RecipientKey::from_spki_der(spki)?;
        a.event.detail = Some(format!(
            "for recipient {} (RSAES_OAEP_SHA_256)",
            crate::audit::hex(recipient.key_id())
        ));
        Ok(recipient)
    }

    /// GenerateDataKey for a recipient: the data key encrypted under the
    /// key-store key (as GenerateDataKey) and encrypted to the recipient
    /// (as [`Self::decrypt_for_recipient`]); no plaintext comes back.
    pub fn generate_data_key_for_recipient(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
        recipient_public_key: &[u8],
    ) -> Result<DataKeyForRecipient> {
        self.run(Operation::GenerateDataKey, Some(ec), |a| {
            let recipient = Self::recipient(a, recipient_public_key)?;
            let dk = self.data_key(a, key, number_of_bytes, ec)?;
            Ok(DataKeyForRecipient {
                ciphertext_for_recipient: crypto::envelope_for_recipient(
                    &recipient,
                    dk.plaintext.as_bytes(),
                )?,
                ciphertext: dk.ciphertext,
                key_id: dk.key_id,
                key_version: dk.key_version,
            })
        })
    }

    /// ReEncrypt: decrypts inside the store and encrypts under another key;
    /// the plaintext never leaves.
    pub fn re_encrypt(
        &self,
        ciphertext: &[u8],
        source_ec: &EncryptionContext,
        destination_key: &str,
        destination_ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.run(Operation::ReEncrypt, Some(destination_ec), |a| {
            let pt = self.open_blob(a, ciphertext, source_ec)?;
            a.key_is_source();
            let (rec, v) = self.usable(a, destination_key, KeyUsage::EncryptDecrypt)?;
            if rec.spec != KeySpec::Aes256 {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is asymmetric",
                    rec.key_id
                )));
            }
            self.seal_blob(&rec, &v, pt.as_bytes(), destination_ec)
        })
    }

    pub(super) fn data_key(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        len: usize,
        ec: &EncryptionContext,
    ) -> Result<DataKey> {
        if !(1..=1024).contains(&len) {
            return Err(Error::InvalidArgument(
                "data keys are 1..=1024 bytes".into(),
            ));
        }
        let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
        if rec.spec != KeySpec::Aes256 {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} is asymmetric",
                rec.key_id
            )));
        }
        let mut plaintext = SecretBytes::zeroed(len)?;
        let r = self.inner.backend.random(len)?;
        plaintext.as_mut_bytes().copy_from_slice(&r);
        let mut r = r;
        zeroize::Zeroize::zeroize(&mut r);
        let ciphertext = self.seal_blob(&rec, &v, plaintext.as_bytes(), ec)?;
        Ok(DataKey {
            plaintext,
            ciphertext,
            key_id: rec.key_id,
            key_version: v.version,
        })
    }

    /// GenerateDataKey: a fresh data key, in plaintext and encrypted.
    pub fn generate_data_key(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
    ) -> Result<DataKey> {
        self.run(Operation::GenerateDataKey, Some(ec), |a| {
            self.data_key(a, key, number_of_bytes, ec)
        })
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    pub fn generate_data_key_without_plaintext(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.run(Operation::GenerateDataKeyWithoutPlaintext, Some(ec), |a| {
            Ok(self.data_key(a, key, number_of_bytes, ec)?.ciphertext)
        })
    }
}
