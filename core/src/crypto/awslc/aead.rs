//! AES-GCM through aws-lc-rs.

use aws_lc_rs::aead;
use zeroize::Zeroize;

use crate::crypto::{invalid_key, GCM_TAG_LEN};
use crate::error::{Error, Result};

/// AES-256 applied to each 16-byte block of `blocks` in place (the raw
/// block cipher as a PRF: the key store's blob-key derivation, never for
/// encrypting data).
pub fn aes256_prf_blocks(key: &[u8], blocks: &mut [u8]) -> Result<()> {
    use aws_lc_rs::cipher::{EncryptingKey, UnboundCipherKey, AES_256};
    if key.len() != 32 || blocks.len() % 16 != 0 {
        return Err(invalid_key("AES-256 PRF: 32-byte key, whole 16-byte blocks"));
    }
    let k = UnboundCipherKey::new(&AES_256, key).map_err(|_| invalid_key("bad AES key"))?;
    let k = EncryptingKey::ecb(k).map_err(|_| invalid_key("bad AES key"))?;
    k.encrypt(blocks)
        .map(|_| ())
        .map_err(|_| Error::InvalidArgument("AES-256 PRF failed".into()))
}

/// An AES-GCM key (128, 192 or 256 bits) with its expanded key schedule,
/// 12-byte nonces and 16-byte tags. The schedule lives in AWS-LC memory,
/// which AWS-LC wipes when it frees it.
pub struct AesGcmKey(aead::LessSafeKey);

impl std::fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmKey(..)")
    }
}

impl AesGcmKey {
    /// Expands a 16, 24 or 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            24 => &aead::AES_192_GCM,
            32 => &aead::AES_256_GCM,
            n => {
                return Err(invalid_key(format!(
                    "AES keys are 16, 24 or 32 bytes, not {n}"
                )))
            }
        };
        let key = aead::UnboundKey::new(alg, key).map_err(|_| invalid_key("bad AES key"))?;
        Ok(AesGcmKey(aead::LessSafeKey::new(key)))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN]> {
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), buf)
            .map_err(|_| Error::InvalidArgument("AES-GCM input too long".into()))?;
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Authenticates and decrypts `buf` in place. On failure `buf` holds no
    /// plaintext (it is zeroed) and the error is `DecryptionFailed`.
    pub fn open_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        if tag.len() != GCM_TAG_LEN {
            return Err(Error::DecryptionFailed);
        }
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        match self
            .0
            .open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag, buf)
        {
            Ok(_) => Ok(()),
            Err(_) => {
                buf.zeroize();
                Err(Error::DecryptionFailed)
            }
        }
    }
}
