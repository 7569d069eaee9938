//! AES-GCM through aws-lc-rs.

use aws_lc_rs::aead;

use crate::crypto::{invalid_key, GcmTag};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

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

/// AES-256-CBC with PKCS#7 padding under a 16-byte IV the caller chose at
/// random: only for the CMS EnvelopedData that carries a plaintext to a
/// recipient (`crypto/cms.rs`), which RFC 5652 and AWS KMS define with it.
pub fn aes256_cbc_encrypt(key: &[u8], iv: &[u8; 16], plaintext: &[u8]) -> Result<Vec<u8>> {
    use aws_lc_rs::cipher::{
        EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey, AES_256,
    };
    use aws_lc_rs::iv::FixedLength;
    let k = UnboundCipherKey::new(&AES_256, key).map_err(|_| invalid_key("bad AES-256 key"))?;
    let k = PaddedBlockEncryptingKey::cbc_pkcs7(k).map_err(|_| invalid_key("bad AES-256 key"))?;
    let mut out = Vec::with_capacity(plaintext.len() + 16);
    out.extend_from_slice(plaintext);
    k.less_safe_encrypt(&mut out, EncryptionContext::Iv128(FixedLength::from(*iv)))
        .map_err(|_| Error::EncryptFailed("AES-256-CBC failed".into()))?;
    Ok(out)
}

/// The inverse of [`aes256_cbc_encrypt`] (a wrong padding is
/// `DecryptionFailed`).
pub fn aes256_cbc_decrypt(key: &[u8], iv: &[u8; 16], ciphertext: &[u8]) -> Result<SecretBytes> {
    use aws_lc_rs::cipher::{
        DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey, AES_256,
    };
    use aws_lc_rs::iv::FixedLength;
    let k = UnboundCipherKey::new(&AES_256, key).map_err(|_| invalid_key("bad AES-256 key"))?;
    let k = PaddedBlockDecryptingKey::cbc_pkcs7(k).map_err(|_| invalid_key("bad AES-256 key"))?;
    let mut buf = SecretBytes::from_slice(ciphertext)?;
    let n = k
        .decrypt(
            buf.as_mut_bytes(),
            DecryptionContext::Iv128(FixedLength::from(*iv)),
        )
        .map_err(|_| Error::DecryptionFailed)?
        .len();
    SecretBytes::from_slice(&buf.as_bytes()[..n])
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
