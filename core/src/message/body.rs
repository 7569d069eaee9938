//! Message body pieces shared by encrypt and decrypt: key derivation, the
//! frame IV and the body AAD.

use crate::crypto::{self, AesGcmKey, HashAlg, GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

use super::header::{ContentType, Header, ParseError, Reader, COMMITMENT_LEN};
use super::AlgorithmSuite;

/// Sequence-number field value that marks the final frame.
pub(crate) const SEQUENCE_NUMBER_END: u32 = 0xFFFF_FFFF;

/// Body AAD content strings.
pub(crate) const AAD_FRAME: &[u8] = b"AWSKMSEncryptionClient Frame";
pub(crate) const AAD_FINAL_FRAME: &[u8] = b"AWSKMSEncryptionClient Final Frame";
pub(crate) const AAD_SINGLE_BLOCK: &[u8] = b"AWSKMSEncryptionClient Single Block";

/// The largest plaintext one AES-GCM invocation may process (2^36 - 32).
pub(crate) const GCM_MAX_CONTENT: u64 = (1 << 36) - 32;

/// The message's content key and, for committing suites, commitment key.
pub(crate) struct MessageKeys {
    pub(crate) content_key: AesGcmKey,
    pub(crate) commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// Derives the content key (and commitment key) from the data key.
///
/// - identity KDF suites: the data key itself;
/// - version 1 HKDF suites: HKDF(hash, salt = zeros, info = suite ID ‖ message ID);
/// - version 2: HKDF-SHA512(salt = message ID, info = suite ID ‖ "DERIVEKEY")
///   and the commitment key with info "COMMITKEY".
pub(crate) fn derive_keys(
    suite: AlgorithmSuite,
    data_key: &SecretBytes,
    message_id: &[u8],
) -> Result<MessageKeys> {
    let len = suite.data_key_len();
    match suite.kdf_hash() {
        None => Ok(MessageKeys {
            content_key: AesGcmKey::new(data_key.as_bytes())?,
            commitment: None,
        }),
        Some(hash) if !suite.is_committing() => {
            let mut info = suite.id().to_be_bytes().to_vec();
            info.extend_from_slice(message_id);
            let mut k = SecretBytes::zeroed(len)?;
            crypto::hkdf(hash, None, data_key.as_bytes(), &info, k.as_mut_bytes())?;
            Ok(MessageKeys {
                content_key: AesGcmKey::new(k.as_bytes())?,
                commitment: None,
            })
        }
        Some(_) => {
            let mut info = suite.id().to_be_bytes().to_vec();
            info.extend_from_slice(b"DERIVEKEY");
            let mut k = SecretBytes::zeroed(len)?;
            let mut c = [0u8; COMMITMENT_LEN];
            crypto::hkdf_expand_each(
                HashAlg::Sha512,
                Some(message_id),
                data_key.as_bytes(),
                &mut [(&info, k.as_mut_bytes()), (b"COMMITKEY", &mut c)],
            )?;
            Ok(MessageKeys {
                content_key: AesGcmKey::new(k.as_bytes())?,
                commitment: Some(c),
            })
        }
    }
}

/// The IV of frame `seq`: the sequence number, big-endian, right-aligned in
/// twelve bytes.
pub(crate) fn frame_iv(seq: u32) -> [u8; GCM_IV_LEN] {
    let mut iv = [0u8; GCM_IV_LEN];
    iv[GCM_IV_LEN - 4..].copy_from_slice(&seq.to_be_bytes());
    iv
}

/// Body AAD: message ID ‖ content string ‖ sequence number (4) ‖ content
/// length (8).
pub(crate) fn body_aad(aad: &mut Vec<u8>, message_id: &[u8], content: &[u8], seq: u32, len: u64) {
    aad.clear();
    aad.extend_from_slice(message_id);
    aad.extend_from_slice(content);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&len.to_be_bytes());
}

/// What precedes the content of one body unit (a frame, or the single block
/// of a non-framed body).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitPrefix {
    /// The AAD content string.
    pub(crate) content: &'static [u8],
    /// The sequence number (1 for a single block).
    pub(crate) seq: u32,
    /// The IV.
    pub(crate) iv: [u8; GCM_IV_LEN],
    /// The content length.
    pub(crate) len: u64,
    /// The final frame, or the single block.
    pub(crate) last: bool,
}

impl UnitPrefix {
    /// Bytes of content and tag that follow the prefix.
    pub(crate) fn rest_len(&self) -> u64 {
        self.len + GCM_TAG_LEN as u64
    }
}

/// Reads the prefix of the body unit expected next (`seq`, counting
/// from one) and checks its structure: the sequence number, the frame IV,
/// a final frame no longer than the frame length, a single block within
/// GCM's limit. Nothing is decrypted.
pub(crate) fn parse_unit_prefix(
    r: &mut Reader<'_>,
    header: &Header,
    seq: u32,
) -> Result<UnitPrefix, ParseError> {
    let invalid = || ParseError::Invalid(Error::DecryptionFailed);
    match header.content_type {
        ContentType::NonFramed => {
            let iv: [u8; GCM_IV_LEN] = r.array()?;
            let len = r.u64()?;
            if len > GCM_MAX_CONTENT || seq != 1 {
                return Err(invalid());
            }
            Ok(UnitPrefix {
                content: AAD_SINGLE_BLOCK,
                seq: 1,
                iv,
                len,
                last: true,
            })
        }
        ContentType::Framed => {
            let mut found = r.u32()?;
            let last = found == SEQUENCE_NUMBER_END;
            if last {
                found = r.u32()?;
            }
            if found != seq || seq == SEQUENCE_NUMBER_END {
                return Err(invalid());
            }
            let iv: [u8; GCM_IV_LEN] = r.array()?;
            if iv != frame_iv(seq) {
                return Err(invalid());
            }
            let len = if last {
                let l = r.u32()?;
                if l > header.frame_length {
                    return Err(invalid());
                }
                l
            } else {
                header.frame_length
            };
            Ok(UnitPrefix {
                content: if last { AAD_FINAL_FRAME } else { AAD_FRAME },
                seq,
                iv,
                len: len as u64,
                last,
            })
        }
    }
}
