//! AES-GCM through AWS-LC's EVP_AEAD (in place or from one buffer to
//! another); AES-256 blocks and CBC through aws-lc-rs.

use std::mem::MaybeUninit;

use super::ffi;
use crate::crypto::{invalid_key, GcmTag, GCM_TAG_LEN};
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
pub struct AesGcmKey(ffi::AeadKey);

crate::crypto::aes_gcm_key_api!();

impl AesGcmKey {
    fn expand(key: &[u8]) -> Option<Self> {
        ffi::AeadKey::aes_gcm(key).map(AesGcmKey)
    }

    fn seal_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<GcmTag> {
        let mut tag = [0u8; GCM_TAG_LEN];
        let p = buf.as_mut_ptr();
        // SAFETY: in place: one pointer, valid for `buf.len()` bytes.
        unsafe { self.0.seal(iv, aad, p, p, buf.len(), &mut tag) }.then_some(tag)
    }

    fn open_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        let p = buf.as_mut_ptr();
        // SAFETY: in place: one pointer, valid for `buf.len()` bytes.
        unsafe { self.0.open(iv, aad, p, p, buf.len(), tag) }
    }

    fn seal_detached_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> Option<GcmTag> {
        let mut tag = [0u8; GCM_TAG_LEN];
        // SAFETY: `input` is readable and `out` writable for `input.len()`
        // bytes (the API checked the lengths are equal); one is borrowed
        // shared and the other exclusively, so they do not overlap; AWS-LC
        // writes every byte of `out` on success.
        unsafe {
            self.0.seal(
                iv,
                aad,
                input.as_ptr(),
                out.as_mut_ptr().cast(),
                input.len(),
                &mut tag,
            )
        }
        .then_some(tag)
    }

    fn open_detached_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: &[u8],
        tag: &[u8; 16],
        out: &mut [MaybeUninit<u8>],
    ) -> bool {
        // SAFETY: as in `seal_detached_to`.
        unsafe {
            self.0.open(
                iv,
                aad,
                input.as_ptr(),
                out.as_mut_ptr().cast(),
                input.len(),
                tag,
            )
        }
    }
}
