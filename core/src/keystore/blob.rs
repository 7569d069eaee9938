//! The key store's ciphertext blob: names its key and version so old
//! versions keep decrypting after rotation.
//!
//! Format 2 (written now): every blob is sealed under a key of its own,
//! derived in the backend from the key version and a random nonce, so the
//! number of blobs under one version is not bounded by AES-GCM's limit on
//! random 96-bit IVs under one key (about 2^32).
//!
//! ```text
//! 0      1 byte   format, 0x02
//! 1      16 bytes key ID (the UUID's 16 bytes)
//! 17     4 bytes  key version, big-endian
//! 21     15 bytes derivation nonce N (random)
//! 36     12 bytes AES-GCM IV (random)
//! 48     n bytes  AES-256-GCM ciphertext under the blob key
//! 48+n   16 bytes tag
//! ```
//! Blob key: `AES-256_K(N ‖ 0x01) ‖ AES-256_K(N ‖ 0x02)` with K the key
//! version (the block cipher as a PRF in counter mode, computed by the
//! backend: in an HSM with `CKM_AES_ECB`, so K never leaves it).
//! AAD: bytes 0..36 ‖ `"sealbox/keystore/blob/v2"` ‖ serialized
//! encryption context (the AWS Encryption SDK serialization).
//!
//! Format 1 (read only): `0x01`, key ID, version, IV, ciphertext ‖ tag,
//! sealed directly under the key version; AAD bytes 0..21 ‖
//! `"sealbox/keystore/blob/v1"` ‖ context. docs/FORMAT.md has both.

use super::KeyId;
use crate::error::{Error, Result};
use crate::message::context::{self, EncryptionContext};

/// Format byte of blobs written now.
pub const BLOB_VERSION: u8 = 2;
/// Format byte of the first blobs (still read).
pub const BLOB_VERSION_1: u8 = 1;
/// Length of the derivation nonce of format 2.
pub const NONCE_LEN: usize = 15;
/// Bytes before the ciphertext (format 2).
pub const BLOB_HEADER_LEN: usize = 1 + 16 + 4 + NONCE_LEN + 12;
/// Overhead of a blob over its plaintext (format 2).
pub const BLOB_OVERHEAD: usize = BLOB_HEADER_LEN + 16;
/// Overhead of a format-1 blob.
pub const BLOB_V1_OVERHEAD: usize = 1 + 16 + 4 + 12 + 16;

/// A parsed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob<'a> {
    /// The format byte (1 or 2).
    pub format: u8,
    /// The key ID.
    pub key_id: KeyId,
    /// The key version.
    pub version: u32,
    /// The derivation nonce (format 2; `None` for format 1).
    pub nonce: Option<[u8; NONCE_LEN]>,
    /// The IV.
    pub iv: [u8; 12],
    /// Ciphertext ‖ tag.
    pub sealed: &'a [u8],
    /// The bytes before the IV, part of the AAD.
    pub prefix: &'a [u8],
}

/// Parses a blob of either format; anything malformed is `DecryptionFailed`.
pub fn parse(bytes: &[u8]) -> Result<Blob<'_>> {
    let bad = || Error::DecryptionFailed;
    let (format, nonce_len) = match bytes.first() {
        Some(&BLOB_VERSION) if bytes.len() >= BLOB_OVERHEAD => (BLOB_VERSION, NONCE_LEN),
        Some(&BLOB_VERSION_1) if bytes.len() >= BLOB_V1_OVERHEAD => (BLOB_VERSION_1, 0),
        _ => return Err(bad()),
    };
    let id: [u8; 16] = bytes[1..17].try_into().map_err(|_| bad())?;
    let version = u32::from_be_bytes(bytes[17..21].try_into().map_err(|_| bad())?);
    let iv_at = 21 + nonce_len;
    let nonce = if nonce_len > 0 {
        Some(bytes[21..iv_at].try_into().map_err(|_| bad())?)
    } else {
        None
    };
    Ok(Blob {
        format,
        key_id: KeyId::from_bytes(&id),
        version,
        nonce,
        iv: bytes[iv_at..iv_at + 12].try_into().map_err(|_| bad())?,
        sealed: &bytes[iv_at + 12..],
        prefix: &bytes[..iv_at],
    })
}

/// The first 36 bytes of a format-2 blob for `key_id` (a UUID), `version`
/// and the derivation nonce.
pub fn prefix(key_id: &str, version: u32, nonce: &[u8; NONCE_LEN]) -> Result<Vec<u8>> {
    let mut p = Vec::with_capacity(BLOB_HEADER_LEN);
    p.push(BLOB_VERSION);
    p.extend_from_slice(&KeyId::bytes_of(key_id)?);
    p.extend_from_slice(&version.to_be_bytes());
    p.extend_from_slice(nonce);
    Ok(p)
}

/// The two PRF input blocks of a format-2 blob key.
pub fn prf_input(nonce: &[u8; NONCE_LEN]) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..NONCE_LEN].copy_from_slice(nonce);
    b[NONCE_LEN] = 1;
    b[16..16 + NONCE_LEN].copy_from_slice(nonce);
    b[31] = 2;
    b
}

/// The AAD of a blob (its format decides the label).
pub fn aad(prefix: &[u8], ec: &EncryptionContext) -> Result<Vec<u8>> {
    let label: &[u8] = match prefix.first() {
        Some(&BLOB_VERSION_1) => b"sealbox/keystore/blob/v1",
        _ => b"sealbox/keystore/blob/v2",
    };
    let mut a = prefix.to_vec();
    a.extend_from_slice(label);
    a.extend_from_slice(&context::serialize(ec)?);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_layout() {
        let u = KeyId::generate().unwrap();
        let mut b = prefix(&u, 7, &[9; NONCE_LEN]).unwrap();
        b.extend_from_slice(&[1; 12]);
        b.extend_from_slice(&[2; 20]);
        let p = parse(&b).unwrap();
        assert_eq!(
            (
                p.format,
                p.key_id.as_str(),
                p.version,
                p.nonce,
                p.iv,
                p.sealed.len()
            ),
            (2, u.as_str(), 7, Some([9; NONCE_LEN]), [1; 12], 20)
        );
        assert_eq!(p.prefix.len(), 36);
        assert!(parse(&b[..BLOB_OVERHEAD - 1]).is_err());
        b[0] = 3;
        assert!(parse(&b).is_err());
        // Format 1: no nonce, the IV at 21.
        let mut v1 = vec![1u8];
        v1.extend_from_slice(&u.to_bytes());
        v1.extend_from_slice(&7u32.to_be_bytes());
        v1.extend_from_slice(&[1; 12]);
        v1.extend_from_slice(&[2; 16]);
        let p = parse(&v1).unwrap();
        assert_eq!(
            (p.format, p.nonce, p.iv, p.prefix.len()),
            (1, None, [1; 12], 21)
        );
        assert!(parse(&v1[..v1.len() - 1]).is_err());
        // The two PRF blocks differ only in their counter byte.
        let blocks = prf_input(&[5; NONCE_LEN]);
        assert_eq!((blocks[15], blocks[31]), (1, 2));
        assert_eq!(blocks[..15], blocks[16..31]);
    }
}
