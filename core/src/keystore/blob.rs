//! The key store's ciphertext blob: names its key and version so old
//! versions keep decrypting after rotation.
//!
//! ```text
//! 0      1 byte   format version, 0x01
//! 1      16 bytes key ID (the UUID's 16 bytes)
//! 17     4 bytes  key version, big-endian
//! 21     12 bytes AES-GCM IV (random)
//! 33     n bytes  AES-256-GCM ciphertext
//! 33+n   16 bytes tag
//! ```
//! AAD: bytes 0..21 ‖ `"sealbox/keystore/blob/v1"` ‖ serialized
//! encryption context (the AWS Encryption SDK serialization).

use super::KeyId;
use crate::error::{Error, Result};
use crate::message::context::{self, EncryptionContext};

/// Format byte of blobs written now.
pub const BLOB_VERSION: u8 = 1;
/// Bytes before the ciphertext.
pub const BLOB_HEADER_LEN: usize = 1 + 16 + 4 + 12;
/// Overhead of a blob over its plaintext.
pub const BLOB_OVERHEAD: usize = BLOB_HEADER_LEN + 16;
const AAD_LABEL: &[u8] = b"sealbox/keystore/blob/v1";

/// A parsed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob<'a> {
    /// The key ID as text.
    pub key_id: KeyId,
    /// The key version.
    pub version: u32,
    /// The IV.
    pub iv: [u8; 12],
    /// Ciphertext ‖ tag.
    pub sealed: &'a [u8],
    /// Bytes 0..21, part of the AAD.
    pub prefix: &'a [u8],
}

/// Parses a blob; anything malformed is `DecryptionFailed`.
pub fn parse(bytes: &[u8]) -> Result<Blob<'_>> {
    if bytes.len() < BLOB_OVERHEAD || bytes[0] != BLOB_VERSION {
        return Err(Error::DecryptionFailed);
    }
    let id: [u8; 16] = bytes[1..17]
        .try_into()
        .map_err(|_| Error::DecryptionFailed)?;
    let version = u32::from_be_bytes(
        bytes[17..21]
            .try_into()
            .map_err(|_| Error::DecryptionFailed)?,
    );
    Ok(Blob {
        key_id: KeyId::from_bytes(&id),
        version,
        iv: bytes[21..33]
            .try_into()
            .map_err(|_| Error::DecryptionFailed)?,
        sealed: &bytes[33..],
        prefix: &bytes[..21],
    })
}

/// The first 21 bytes of a blob for `key_id` (a UUID) and `version`.
pub fn prefix(key_id: &str, version: u32) -> Result<Vec<u8>> {
    let mut p = Vec::with_capacity(21);
    p.push(BLOB_VERSION);
    p.extend_from_slice(&KeyId::bytes_of(key_id)?);
    p.extend_from_slice(&version.to_be_bytes());
    Ok(p)
}

/// The AAD of a blob.
pub fn aad(prefix: &[u8], ec: &EncryptionContext) -> Result<Vec<u8>> {
    let mut a = prefix.to_vec();
    a.extend_from_slice(AAD_LABEL);
    a.extend_from_slice(&context::serialize(ec)?);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_layout() {
        let u = KeyId::generate().unwrap();
        let mut b = prefix(&u, 7).unwrap();
        b.extend_from_slice(&[1; 12]);
        b.extend_from_slice(&[2; 20]);
        let p = parse(&b).unwrap();
        assert_eq!(
            (p.key_id.as_str(), p.version, p.iv, p.sealed.len()),
            (u.as_str(), 7, [1; 12], 20)
        );
        assert!(parse(&b[..40]).is_err());
        b[0] = 2;
        assert!(parse(&b).is_err());
    }
}
