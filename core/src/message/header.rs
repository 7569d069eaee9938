//! The message header: serialization and incremental parsing.
//!
//! Version 1 header body: version (0x01) ‖ type (0x80) ‖ suite ID (2) ‖
//! message ID (16) ‖ AAD length (2) ‖ AAD ‖ EDK count (2) ‖ EDKs ‖ content
//! type (1) ‖ reserved (4 × 0x00) ‖ IV length (1, = 12) ‖ frame length (4),
//! then the header auth: IV (12) ‖ tag (16).
//!
//! Version 2 header body: version (0x02) ‖ suite ID (2) ‖ message ID (32)
//! ‖ AAD length (2) ‖ AAD ‖ EDK count (2) ‖ EDKs ‖ content type (1) ‖ frame
//! length (4) ‖ suite data (32: the commitment key), then the header auth:
//! tag (16), computed with an all-zero IV.
//!
//! Each EDK is provider ID length (2) ‖ provider ID ‖ provider info length
//! (2) ‖ provider info ‖ ciphertext length (2) ‖ ciphertext. All integers
//! are big-endian.

use crate::crypto::{GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::materials::EncryptedDataKey;

use super::context::{self, EncryptionContext};
use super::AlgorithmSuite;

/// Length of the commitment key stored in version-2 headers.
pub const COMMITMENT_LEN: usize = 32;

/// How the message body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// One AES-GCM block for the whole plaintext (legacy; decrypt only).
    NonFramed = 1,
    /// A sequence of frames.
    Framed = 2,
}

/// A parsed or to-be-written header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The algorithm suite (which fixes the format version).
    pub suite: AlgorithmSuite,
    /// 16 bytes (version 1) or 32 bytes (version 2).
    pub message_id: Vec<u8>,
    /// The stored encryption context.
    pub encryption_context: EncryptionContext,
    /// The wrapped data keys.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// Framed or not.
    pub content_type: ContentType,
    /// Frame length (0 when non-framed).
    pub frame_length: u32,
    /// Version 2: the commitment key.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// A header as read from a message, with the exact bytes it came from.
#[derive(Debug, Clone)]
pub(crate) struct ParsedHeader {
    /// The header fields.
    pub header: Header,
    /// The whole header as read (its body, then the header auth), copied
    /// once from the message: what a signed suite's signature hashes.
    pub bytes: Vec<u8>,
    /// How much of `bytes` is the header body (the AAD of the auth tag).
    pub body_len: usize,
    /// Version 1: the IV of the header auth tag; version 2: zeros.
    pub auth_iv: [u8; GCM_IV_LEN],
    /// The header auth tag.
    pub auth_tag: [u8; GCM_TAG_LEN],
    /// Bytes consumed: header body plus header auth (`bytes.len()`).
    pub total_len: usize,
}

impl ParsedHeader {
    /// The serialized header body (the AAD of the header auth tag).
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[..self.body_len]
    }
}

impl Header {
    /// Serializes the header body (everything the auth tag covers).
    pub fn serialize_body(&self) -> Result<Vec<u8>> {
        let too_long =
            |what: &str| Error::InvalidArgument(format!("{what} longer than 65535 bytes"));
        let v2 = self.suite.message_version() == 2;
        let aad = context::serialize(&self.encryption_context)?;
        let mut out = Vec::with_capacity(128 + aad.len());
        if v2 {
            out.push(2);
        } else {
            out.push(1);
            out.push(0x80);
        }
        out.extend_from_slice(&self.suite.id().to_be_bytes());
        out.extend_from_slice(&self.message_id);
        out.extend_from_slice(&(aad.len() as u16).to_be_bytes());
        out.extend_from_slice(&aad);
        let count =
            u16::try_from(self.encrypted_data_keys.len()).map_err(|_| too_long("EDK list"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for edk in &self.encrypted_data_keys {
            for field in [
                edk.provider_id.as_bytes(),
                &edk.provider_info,
                &edk.ciphertext,
            ] {
                let n =
                    u16::try_from(field.len()).map_err(|_| too_long("encrypted data key field"))?;
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(field);
            }
        }
        out.push(self.content_type as u8);
        if !v2 {
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.push(GCM_IV_LEN as u8);
        }
        out.extend_from_slice(&self.frame_length.to_be_bytes());
        if v2 {
            let c = self.commitment.ok_or_else(|| {
                Error::InvalidArgument("version 2 header without commitment".into())
            })?;
            out.extend_from_slice(&c);
        }
        Ok(out)
    }
}

/// Why a parse stopped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// More bytes are needed: at least this many from the start of the
    /// slice that was parsed.
    Incomplete(usize),
    /// The bytes can never form a valid header or frame.
    Invalid(Error),
}

impl From<Error> for ParseError {
    fn from(e: Error) -> Self {
        ParseError::Invalid(e)
    }
}

/// A cursor over buffered message bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(ParseError::Invalid(Error::DecryptionFailed))?;
        if end > self.buf.len() {
            return Err(ParseError::Incomplete(end));
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ParseError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ParseError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

fn invalid() -> ParseError {
    ParseError::Invalid(Error::DecryptionFailed)
}

/// A header's fields as slices of the bytes they were read from, checked
/// for structure (not yet for UTF-8 or the context's encoding).
struct Fields<'a> {
    suite: AlgorithmSuite,
    message_id: &'a [u8],
    aad: &'a [u8],
    /// The encrypted data keys, `count` of them back to back, each read
    /// by [`next_edk`].
    edks: &'a [u8],
    count: usize,
    content_type: ContentType,
    frame_length: u32,
    commitment: Option<[u8; COMMITMENT_LEN]>,
    body_len: usize,
    auth_iv: [u8; GCM_IV_LEN],
    auth_tag: [u8; GCM_TAG_LEN],
    total_len: usize,
}

/// An encrypted data key as read: provider ID, provider info, ciphertext.
type EdkParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// One encrypted data key from the front of `r`.
fn next_edk<'a>(r: &mut Reader<'a>) -> Result<EdkParts<'a>, ParseError> {
    let n = r.u16()? as usize;
    let provider_id = r.take(n)?;
    let n = r.u16()? as usize;
    let provider_info = r.take(n)?;
    let n = r.u16()? as usize;
    Ok((provider_id, provider_info, r.take(n)?))
}

impl<'a> Fields<'a> {
    /// Reads the header at the start of `buf`, allocating nothing: a
    /// header arriving in small pieces is read again with every piece.
    fn read(buf: &'a [u8], max_edks: Option<usize>) -> Result<Self, ParseError> {
        let mut r = Reader::new(buf);
        let version = r.u8()?;
        match version {
            1 => {
                if r.u8()? != 0x80 {
                    return Err(invalid());
                }
            }
            2 => {}
            _ => return Err(invalid()),
        }
        let suite = AlgorithmSuite::from_id(r.u16()?).ok_or_else(invalid)?;
        if suite.message_version() != version {
            return Err(invalid());
        }
        let message_id = r.take(suite.message_id_len())?;
        let aad_len = r.u16()? as usize;
        let aad = r.take(aad_len)?;
        let count = r.u16()? as usize;
        if count == 0 {
            return Err(invalid());
        }
        // Too many keys is refused before any of them is even read. The
        // error is the opaque one, like every other rejection of a message:
        // from the outside, a flipped bit in the count and a hostile count
        // look alike.
        if max_edks.is_some_and(|max| count > max) {
            return Err(invalid());
        }
        let edks_at = r.pos;
        for _ in 0..count {
            next_edk(&mut r)?;
        }
        let edks = &buf[edks_at..r.pos];
        let content_type = match r.u8()? {
            1 => ContentType::NonFramed,
            2 => ContentType::Framed,
            _ => return Err(invalid()),
        };
        if version == 1 && (r.take(4)? != [0, 0, 0, 0] || r.u8()? as usize != GCM_IV_LEN) {
            return Err(invalid());
        }
        let frame_length = r.u32()?;
        match content_type {
            ContentType::Framed if frame_length == 0 => return Err(invalid()),
            ContentType::NonFramed if frame_length != 0 => return Err(invalid()),
            _ => {}
        }
        let commitment = if version == 2 {
            Some(r.array::<COMMITMENT_LEN>()?)
        } else {
            None
        };
        let body_len = r.pos;
        let auth_iv = if version == 1 {
            r.array::<GCM_IV_LEN>()?
        } else {
            [0u8; GCM_IV_LEN]
        };
        let auth_tag = r.array::<GCM_TAG_LEN>()?;
        Ok(Fields {
            suite,
            message_id,
            aad,
            edks,
            count,
            content_type,
            frame_length,
            commitment,
            body_len,
            auth_iv,
            auth_tag,
            total_len: r.pos,
        })
    }
}

/// Parses a header from the start of `buf`. `Incomplete` means: call again
/// with more bytes. The EDK count is checked against `max_edks` as soon as
/// it is read, before anything is unwrapped or even buffered further.
///
/// What is decided is decided from one copy of `buf`: a first pass only
/// measures the header (refusing a malformed structure; the context's
/// encoding and the provider IDs' UTF-8 are checked in the copy), then the
/// header is copied, and its fields, the body that its auth tag covers and
/// the bytes that a signature hashes are all taken from that one copy.
/// Taken from two reads of memory that someone else may write during the
/// call (a binding's shared buffer), the context handed to the caller
/// could otherwise differ from the context the tag authenticated.
pub(crate) fn parse(buf: &[u8], max_edks: Option<usize>) -> Result<ParsedHeader, ParseError> {
    let len = Fields::read(buf, max_edks)?.total_len;
    let bytes = buf[..len].to_vec();
    // The copy was measured as a whole header; if it is not one now (the
    // memory changed in between), or not of that length, it is refused.
    let f = match Fields::read(&bytes, max_edks) {
        Ok(f) if f.total_len == len => f,
        _ => return Err(invalid()),
    };
    let encryption_context = context::deserialize(f.aad).map_err(ParseError::Invalid)?;
    let mut r = Reader::new(f.edks);
    let mut encrypted_data_keys = Vec::with_capacity(f.count);
    for _ in 0..f.count {
        let (id, info, ct) = next_edk(&mut r).map_err(|_| invalid())?;
        encrypted_data_keys.push(EncryptedDataKey {
            provider_id: std::str::from_utf8(id).map_err(|_| invalid())?.to_owned(),
            provider_info: info.to_vec(),
            ciphertext: ct.to_vec(),
        });
    }
    let header = Header {
        suite: f.suite,
        message_id: f.message_id.to_vec(),
        encryption_context,
        encrypted_data_keys,
        content_type: f.content_type,
        frame_length: f.frame_length,
        commitment: f.commitment,
    };
    let (body_len, auth_iv, auth_tag) = (f.body_len, f.auth_iv, f.auth_tag);
    Ok(ParsedHeader {
        header,
        bytes,
        body_len,
        auth_iv,
        auth_tag,
        total_len: len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(suite: AlgorithmSuite) -> Header {
        let mut ec = EncryptionContext::new();
        ec.insert("purpose".into(), "test".into());
        Header {
            suite,
            message_id: vec![7; suite.message_id_len()],
            encryption_context: ec,
            encrypted_data_keys: vec![EncryptedDataKey {
                provider_id: "ns".into(),
                provider_info: b"name".to_vec(),
                ciphertext: vec![1, 2, 3],
            }],
            content_type: ContentType::Framed,
            frame_length: 4096,
            commitment: suite.is_committing().then_some([9; 32]),
        }
    }

    #[test]
    fn round_trip_both_versions_and_incomplete_prefixes() {
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256,
        ] {
            let h = sample(suite);
            let mut bytes = h.serialize_body().unwrap();
            if suite.message_version() == 1 {
                bytes.extend_from_slice(&[0; 12]);
            }
            bytes.extend_from_slice(&[5; 16]);
            let p = parse(&bytes, None).unwrap();
            assert_eq!(p.header, h);
            assert_eq!(p.total_len, bytes.len());
            assert_eq!(p.auth_tag, [5; 16]);
            for cut in 0..bytes.len() {
                match parse(&bytes[..cut], None).unwrap_err() {
                    ParseError::Incomplete(need) => {
                        assert!(need > cut && need <= bytes.len(), "cut {cut} need {need}")
                    }
                    e => panic!("cut {cut}: {e:?}"),
                }
            }
            assert_eq!(parse(&bytes, Some(0)).unwrap_err(), invalid());
            assert!(parse(&bytes, Some(1)).is_ok());
        }
    }
}
