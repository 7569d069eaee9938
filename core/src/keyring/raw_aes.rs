//! The raw AES keyring: data keys wrapped with AES-GCM under a key the
//! application holds, bound to the encryption context.
//!
//! Encrypted data key, byte-compatible with the AWS Encryption SDK:
//! - provider ID: the key namespace;
//! - provider info: key name ‖ tag length in bits (u32, 128) ‖ IV length
//!   (u32, 12) ‖ IV (12 bytes);
//! - ciphertext: AES-GCM(data key) ‖ tag, with the serialized encryption
//!   context as AAD.

use crate::crypto::{self, AesGcmKey, GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::message::context;
use crate::secret::SecretBytes;

use super::{add_wrapped_data_key, decrypt_first, Keyring};

/// A keyring that wraps data keys with an AES-128/192/256 key.
pub struct RawAesKeyring {
    key_namespace: String,
    key_name: String,
    wrapping_key: AesGcmKey,
}

crate::secret::debug_hiding_secrets!(RawAesKeyring {
    key_namespace,
    key_name
});

impl RawAesKeyring {
    /// Creates a keyring. `wrapping_key` must be 16, 24 or 32 bytes; the
    /// namespace must not start with `aws-kms` (reserved by AWS).
    pub fn new(key_namespace: &str, key_name: &str, wrapping_key: &[u8]) -> Result<Self> {
        check_names(key_namespace, key_name)?;
        Ok(RawAesKeyring {
            key_namespace: key_namespace.to_owned(),
            key_name: key_name.to_owned(),
            wrapping_key: AesGcmKey::new(wrapping_key)?,
        })
    }

    fn provider_info(&self, iv: &[u8; GCM_IV_LEN]) -> Vec<u8> {
        let mut info = Vec::with_capacity(self.key_name.len() + 8 + GCM_IV_LEN);
        info.extend_from_slice(self.key_name.as_bytes());
        info.extend_from_slice(&((GCM_TAG_LEN * 8) as u32).to_be_bytes());
        info.extend_from_slice(&(GCM_IV_LEN as u32).to_be_bytes());
        info.extend_from_slice(iv);
        info
    }

    /// The IV of an encrypted data key that this keyring wrote, if it is one.
    fn matching_iv(&self, edk: &EncryptedDataKey) -> Option<[u8; GCM_IV_LEN]> {
        let name = self.key_name.as_bytes();
        let info = &edk.provider_info;
        if edk.provider_id != self.key_namespace
            || info.len() != name.len() + 8 + GCM_IV_LEN
            || !info.starts_with(name)
        {
            return None;
        }
        let rest = &info[name.len()..];
        if rest[..4] != ((GCM_TAG_LEN * 8) as u32).to_be_bytes()
            || rest[4..8] != (GCM_IV_LEN as u32).to_be_bytes()
        {
            return None;
        }
        rest[8..].try_into().ok()
    }
}

pub(crate) fn check_names(key_namespace: &str, key_name: &str) -> Result<()> {
    if key_namespace.starts_with("aws-kms") {
        return Err(Error::InvalidArgument(
            "key namespaces starting with \"aws-kms\" are reserved".into(),
        ));
    }
    if key_namespace.len() > u16::MAX as usize || key_name.len() > (u16::MAX as usize - 32) {
        return Err(Error::InvalidArgument(
            "key namespace or name too long".into(),
        ));
    }
    Ok(())
}

impl Keyring for RawAesKeyring {
    fn is_in_memory(&self) -> bool {
        true
    }

    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()> {
        add_wrapped_data_key(materials, &self.key_namespace, |dk, encryption_context| {
            let aad = context::serialize(encryption_context)?;
            let mut iv = [0u8; GCM_IV_LEN];
            crypto::fill_random(&mut iv)?;
            let mut ciphertext = Vec::with_capacity(dk.len() + GCM_TAG_LEN);
            ciphertext.extend_from_slice(dk.as_bytes());
            let tag = self
                .wrapping_key
                .seal_in_place(&iv, &aad, &mut ciphertext)?;
            ciphertext.extend_from_slice(&tag);
            Ok((self.provider_info(&iv), ciphertext))
        })
    }

    fn on_decrypt(&self, m: &mut DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<()> {
        decrypt_first(
            m,
            edks,
            |m| context::serialize(&m.encryption_context),
            |aad, m, edk| {
                let want = m.suite.data_key_len();
                let Some(iv) = self.matching_iv(edk) else {
                    return Ok(None);
                };
                if edk.ciphertext.len() != want + GCM_TAG_LEN {
                    return Ok(None);
                }
                let (ct, tag) = edk.ciphertext.split_at(want);
                let mut dk = SecretBytes::from_slice(ct)?;
                let opened = self
                    .wrapping_key
                    .open_in_place(&iv, aad, dk.as_mut_bytes(), tag)
                    .is_ok();
                Ok(opened.then_some(dk))
            },
        )
    }
}
