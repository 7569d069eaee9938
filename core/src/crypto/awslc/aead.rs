//! AES-GCM through aws-lc-rs.

use aws_lc_rs::aead;

use crate::crypto::{invalid_key, GcmTag};
use crate::error::{Error, Result};

/// AES-256 applied to each 16-byte block of `blocks` in place (the raw
/// block cipher as a PRF: the key store's blob-key derivation, never for
/// encrypting data).
pub fn aes256_prf_blocks(key: &[u8], blocks: &mut [u8]) -> Result<()> {
    use aws_lc_rs::cipher::{EncryptingKey, UnboundCipherKey, AES_256};
    if key.len() != 32 || !blocks.len().is_multiple_of(16) {
        return Err(invalid_key(
            "AES-256 PRF: 32-byte key, whole 16-byte blocks",
        ));
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

crate::crypto::aes_gcm_key_api!();

impl AesGcmKey {
    fn expand(key: &[u8]) -> Option<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            24 => &aead::AES_192_GCM,
            32 => &aead::AES_256_GCM,
            _ => return None,
        };
        let key = aead::UnboundKey::new(alg, key).ok()?;
        Some(AesGcmKey(aead::LessSafeKey::new(key)))
    }

    fn seal_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<GcmTag> {
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), buf)
            .ok()?;
        tag.as_ref().try_into().ok()
    }

    fn open_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        self.0
            .open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag, buf)
            .is_ok()
    }
}
