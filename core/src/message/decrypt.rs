//! Streaming decryption.
//!
//! Plaintext of a frame is released only after that frame's tag verified;
//! with a signed suite the final frame (or the single block of a
//! non-framed body) is held until the footer signature verifies.

use std::sync::Arc;

use zeroize::Zeroize;

use crate::cmm::{DecryptMaterialsRequest, MaterialsManager};
use crate::crypto::{AesGcmKey, EcdsaVerifyingKey, Hasher, GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};

use super::body::{
    body_aad, derive_keys, frame_iv, AAD_FINAL_FRAME, AAD_FRAME, AAD_SINGLE_BLOCK, GCM_MAX_CONTENT,
    SEQUENCE_NUMBER_END,
};
use super::context::{self, EncryptionContext};
use super::header::{self, ContentType, Header, ParseError, Reader};
use super::{AlgorithmSuite, CommitmentPolicy, MaxEncryptedDataKeys};

/// Options for decryption.
#[derive(Debug, Clone, Default)]
pub struct DecryptOptions {
    /// The encryption context the caller expects. Every pair must be in the
    /// message: stored pairs must have the same value, pairs that were
    /// authenticated but not stored are supplied from here. `None` accepts
    /// whatever context the message carries (check the result's context).
    pub encryption_context: Option<EncryptionContext>,
    /// Default: require-encrypt-require-decrypt (committing suites only).
    pub commitment_policy: CommitmentPolicy,
    /// Reject messages with more encrypted data keys than this before any
    /// is unwrapped (default 100; `MaxEncryptedDataKeys::NoLimit`: no limit).
    pub max_encrypted_data_keys: MaxEncryptedDataKeys,
    /// Reject messages whose plaintext would exceed this many bytes
    /// (default: no limit).
    pub max_body_size: Option<u64>,
}

/// The result of a one-shot [`decrypt`].
pub struct DecryptResult {
    /// The authenticated plaintext.
    pub plaintext: Vec<u8>,
    /// The message's full encryption context (stored plus reproduced pairs).
    pub encryption_context: EncryptionContext,
    /// The suite the message was written with.
    pub suite: AlgorithmSuite,
}

impl std::fmt::Debug for DecryptResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptResult")
            .field("plaintext_len", &self.plaintext.len())
            .field("encryption_context", &self.encryption_context)
            .field("suite", &self.suite)
            .finish()
    }
}

/// What is known once the header has been authenticated.
struct Verified {
    header: Header,
    encryption_context: EncryptionContext,
    key: AesGcmKey,
    verifier: Option<(EcdsaVerifyingKey, Hasher)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Body,
    Footer,
    Done,
    Failed,
}

/// The decryption state machine without its materials manager, so that
/// the one-shot path can borrow one and the streaming path can own one.
pub(crate) struct DecryptCore {
    options: DecryptOptions,
    phase: Phase,
    buf: Vec<u8>,
    verified: Option<Verified>,
    seq: u32,
    body_len: u64,
    held: Vec<u8>,
    aad: Vec<u8>,
    /// Bytes the header needs at least before it is worth parsing again.
    header_need: usize,
}

impl DecryptCore {
    pub(crate) fn new(options: DecryptOptions) -> Self {
        DecryptCore {
            options,
            phase: Phase::Header,
            buf: Vec::new(),
            verified: None,
            seq: 1,
            body_len: 0,
            held: Vec::new(),
            aad: Vec::with_capacity(128),
            header_need: 0,
        }
    }

    pub(crate) fn update(
        &mut self,
        cmm: &dyn MaterialsManager,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match self.phase {
            Phase::Failed => return Err(Error::InvalidState("a previous call failed".into())),
            Phase::Done if input.is_empty() => return Ok(()),
            _ => {}
        }
        let mark = out.len();
        let r = if self.buf.is_empty() {
            // Fast path: work straight from the caller's slice.
            self.process(cmm, input, out)
                .map(|used| self.buf.extend_from_slice(&input[used..]))
        } else {
            self.buf.extend_from_slice(input);
            let data = std::mem::take(&mut self.buf);
            let r = self.process(cmm, &data, out);
            let mut data = data;
            if let Ok(used) = r {
                data.drain(..used);
            }
            self.buf = data;
            r.map(|_| ())
        };
        if let Err(e) = r {
            out[mark..].zeroize();
            out.truncate(mark);
            self.fail();
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        match self.phase {
            Phase::Done if self.buf.is_empty() => {
                crate::secret::reserve_wiping(out, self.held.len());
                out.extend_from_slice(&self.held);
                self.held.zeroize();
                self.held.clear();
                Ok(())
            }
            Phase::Failed => Err(Error::InvalidState("a previous call failed".into())),
            // Truncated, or trailing bytes after the message.
            _ => {
                self.fail();
                Err(Error::DecryptionFailed)
            }
        }
    }

    fn fail(&mut self) {
        self.phase = Phase::Failed;
        self.held.zeroize();
        self.buf.zeroize();
        self.verified = None;
    }

    /// Consumes as much of `data` as forms complete units; returns how much.
    fn process(
        &mut self,
        cmm: &dyn MaterialsManager,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<usize> {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            let step = match self.phase {
                Phase::Header if rest.len() < self.header_need => return Ok(used),
                Phase::Header => self.read_header(cmm, rest),
                Phase::Body => self.read_body(rest, out),
                Phase::Footer => self.read_footer(rest),
                Phase::Done if rest.is_empty() => return Ok(used),
                // Bytes after the end of the message.
                Phase::Done | Phase::Failed => return Err(Error::DecryptionFailed),
            };
            match step {
                Ok(n) => used += n,
                Err(ParseError::Incomplete(need)) => {
                    if self.phase == Phase::Header {
                        self.header_need = need;
                    }
                    return Ok(used);
                }
                Err(ParseError::Invalid(e)) => return Err(e),
            }
        }
    }

    fn read_header(
        &mut self,
        cmm: &dyn MaterialsManager,
        data: &[u8],
    ) -> Result<usize, ParseError> {
        let parsed = header::parse(data, self.options.max_encrypted_data_keys.get())?;
        let h = &parsed.header;
        self.options.commitment_policy.check_decrypt(h.suite)?;
        let materials = cmm.decrypt_materials(DecryptMaterialsRequest {
            suite: h.suite,
            encrypted_data_keys: h.encrypted_data_keys.clone(),
            encryption_context: h.encryption_context.clone(),
            reproduced_encryption_context: self.options.encryption_context.clone(),
            commitment_policy: self.options.commitment_policy,
        })?;
        if materials.suite != h.suite {
            return Err(Error::DecryptionFailed.into());
        }
        let data_key = materials
            .plaintext_data_key
            .as_ref()
            .ok_or(Error::DecryptionFailed)?;
        let keys = derive_keys(h.suite, data_key, &h.message_id)?;
        if let Some(expected) = &h.commitment {
            let derived = keys.commitment.ok_or(Error::DecryptionFailed)?;
            if !crate::crypto::ct_eq(&derived, expected) {
                return Err(Error::DecryptionFailed.into());
            }
        }
        // Header auth: AAD = header body ‖ serialized pairs that were
        // authenticated but not stored.
        let mut only_authenticated = EncryptionContext::new();
        for k in &materials.required_encryption_context_keys {
            if let Some(v) = materials.encryption_context.get(k) {
                only_authenticated.insert(k.clone(), v.clone());
            }
        }
        let mut aad = parsed.body_bytes.clone();
        aad.extend_from_slice(&context::serialize(&only_authenticated)?);
        keys.content_key
            .open_in_place(&parsed.auth_iv, &aad, &mut [], &parsed.auth_tag)?;

        let verifier = match (h.suite.signature(), materials.verification_key) {
            (Some((_, hash)), Some(vk)) => {
                let mut hasher = Hasher::new(hash);
                hasher.update(&data[..parsed.total_len]);
                Some((vk, hasher))
            }
            (None, None) => None,
            _ => return Err(Error::DecryptionFailed.into()),
        };
        self.verified = Some(Verified {
            header: parsed.header,
            encryption_context: materials.encryption_context,
            key: keys.content_key,
            verifier,
        });
        self.phase = Phase::Body;
        Ok(parsed.total_len)
    }

    fn check_body_size(&self, more: u64) -> Result<(), ParseError> {
        if let Some(max) = self.options.max_body_size {
            if self.body_len.saturating_add(more) > max {
                return Err(Error::MessageTooLarge { max }.into());
            }
        }
        Ok(())
    }

    fn read_body(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<usize, ParseError> {
        let v = self.verified.as_ref().ok_or(Error::DecryptionFailed)?;
        let signed = v.verifier.is_some();
        let mut r = Reader::new(data);
        let (content, seq, len, last) = match v.header.content_type {
            ContentType::NonFramed => {
                let iv: [u8; GCM_IV_LEN] = r.array()?;
                let len = r.u64()?;
                if len > GCM_MAX_CONTENT {
                    return Err(Error::DecryptionFailed.into());
                }
                self.check_body_size(len)?;
                (AAD_SINGLE_BLOCK, 1, len, Some(iv))
            }
            ContentType::Framed => {
                let mut seq = r.u32()?;
                let last = seq == SEQUENCE_NUMBER_END;
                if last {
                    seq = r.u32()?;
                }
                if seq != self.seq || seq == SEQUENCE_NUMBER_END {
                    return Err(Error::DecryptionFailed.into());
                }
                let iv: [u8; GCM_IV_LEN] = r.array()?;
                if iv != frame_iv(seq) {
                    return Err(Error::DecryptionFailed.into());
                }
                let len = if last {
                    let l = r.u32()?;
                    if l > v.header.frame_length {
                        return Err(Error::DecryptionFailed.into());
                    }
                    l as u64
                } else {
                    v.header.frame_length as u64
                };
                self.check_body_size(len)?;
                (
                    if last { AAD_FINAL_FRAME } else { AAD_FRAME },
                    seq,
                    len,
                    last.then_some(iv),
                )
            }
        };
        let len_usize = usize::try_from(len).map_err(|_| Error::DecryptionFailed)?;
        let ct = r.take(len_usize)?;
        let tag = r.take(GCM_TAG_LEN)?;
        let iv = last.unwrap_or_else(|| frame_iv(seq));
        let is_last = last.is_some();
        let consumed = r.pos;

        body_aad(&mut self.aad, &v.header.message_id, content, seq, len);
        // Hold the final frame of a signed message until the footer verifies.
        let dst = if is_last && signed {
            &mut self.held
        } else {
            &mut *out
        };
        let start = dst.len();
        crate::secret::reserve_wiping(dst, ct.len());
        dst.extend_from_slice(ct);
        v.key
            .open_in_place(&iv, &self.aad, &mut dst[start..], tag)?;

        let v = self.verified.as_mut().ok_or(Error::DecryptionFailed)?;
        if let Some((_, h)) = &mut v.verifier {
            h.update(&data[..consumed]);
        }
        self.body_len += len;
        self.seq = self.seq.wrapping_add(1);
        if is_last {
            self.phase = if signed { Phase::Footer } else { Phase::Done };
        }
        Ok(consumed)
    }

    fn read_footer(&mut self, data: &[u8]) -> Result<usize, ParseError> {
        let mut r = Reader::new(data);
        let n = r.u16()? as usize;
        let sig = r.take(n)?;
        let v = self.verified.as_mut().ok_or(Error::DecryptionFailed)?;
        let (vk, hasher) = v.verifier.take().ok_or(Error::DecryptionFailed)?;
        let digest = hasher.finalize();
        if !vk.verify_digest_der(&digest, sig) {
            return Err(Error::DecryptionFailed.into());
        }
        self.phase = Phase::Done;
        Ok(r.pos)
    }

    pub(crate) fn header_info(&self) -> Option<(&Header, &EncryptionContext)> {
        match self.phase {
            Phase::Failed => None,
            _ => self
                .verified
                .as_ref()
                .map(|v| (&v.header, &v.encryption_context)),
        }
    }
}

impl Drop for DecryptCore {
    fn drop(&mut self) {
        self.held.zeroize();
        self.buf.zeroize();
    }
}

/// Incremental decryption: feed ciphertext with [`update`](Self::update),
/// receive authenticated plaintext, and call [`finish`](Self::finish) to
/// learn whether the message was complete.
///
/// Plaintext handed out by `update` is authenticated frame by frame; the
/// message as a whole (its end, and its signature) is only confirmed by a
/// successful `finish`. Discard everything on an error.
pub struct Decryptor {
    cmm: Arc<dyn MaterialsManager>,
    core: DecryptCore,
}

crate::secret::debug_hiding_secrets!(Decryptor {
    phase: |d| &d.core.phase
});

impl Decryptor {
    /// A decryptor that gets its data key from `cmm`.
    pub fn new(cmm: Arc<dyn MaterialsManager>, options: DecryptOptions) -> Self {
        Decryptor {
            cmm,
            core: DecryptCore::new(options),
        }
    }

    /// Feeds ciphertext; appends any newly authenticated plaintext to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.core.update(self.cmm.as_ref(), input, out)
    }

    /// Declares the end of the ciphertext; appends held-back plaintext.
    /// Fails with `DecryptionFailed` if the message is incomplete or is
    /// followed by extra bytes.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.core.finish(out)
    }

    /// The authenticated header, once it has been read.
    pub fn header(&self) -> Option<&Header> {
        self.core.header_info().map(|(h, _)| h)
    }

    /// The full encryption context, once the header has been authenticated.
    pub fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.core.header_info().map(|(_, ec)| ec)
    }
}

/// Decrypts one complete message.
pub fn decrypt(
    ciphertext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
) -> Result<DecryptResult> {
    let mut plaintext = Vec::with_capacity(ciphertext.len());
    let (suite, encryption_context) = decrypt_append(ciphertext, cmm, options, &mut plaintext)?;
    Ok(DecryptResult {
        suite,
        encryption_context,
        plaintext,
    })
}

/// Decrypts one complete message, appending the plaintext to `out`: for
/// callers that keep one buffer across messages (the Python package does,
/// per thread, so that a 1 MiB message does not cost fresh pages every
/// time). Returns the suite and the encryption context. On error `out`
/// is as it was (nothing of the plaintext stays in it).
pub fn decrypt_append(
    ciphertext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
    out: &mut Vec<u8>,
) -> Result<(AlgorithmSuite, EncryptionContext)> {
    let mark = out.len();
    let mut core = DecryptCore::new(options.clone());
    let r = core
        .update(cmm, ciphertext, out)
        .and_then(|()| core.finish(out))
        .and_then(|()| {
            let (header, ec) = core.header_info().ok_or(Error::DecryptionFailed)?;
            Ok((header.suite, ec.clone()))
        });
    if r.is_err() {
        out[mark..].zeroize();
        out.truncate(mark);
    }
    r
}
