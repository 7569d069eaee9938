//! Rewrapping: a message's encrypted data keys replaced without
//! re-encrypting its body.
//!
//! The data key is unwrapped once (with the materials manager given as
//! `decrypt_with`) and wrapped again by the keyring given as
//! `encrypt_with`; the header is rewritten with the new encrypted data keys
//! and authenticated again under the same message key. The body is copied
//! byte for byte: its frames are authenticated with a key derived from the
//! data key and the message ID, neither of which changes. Its structure is
//! checked on the way (sequence numbers, IVs, lengths, the end of the
//! message), not its tags: a frame that was damaged before the rewrap fails
//! to decrypt after it, exactly as before.
//!
//! Signed suites: the signature covers the header, so the message is
//! signed again, with a new per-message key whose public half replaces the
//! old one in the encryption context. The old signature is verified first
//! (over the old header and the body as it streams by), so a rewrap never
//! puts a new signature on a message whose old one did not hold. That costs
//! two SHA-384 passes over the body and one ECDSA P-384 key pair, signature
//! and verification.

use std::io::{Read, Write};
use std::sync::Arc;

use base64::Engine;

use crate::cmm::MaterialsManager;
use crate::crypto::{EcdsaSigningKey, EcdsaVerifyingKey, Hasher, GCM_IV_LEN};
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::materials::EncryptionMaterials;

use super::body::{self, MessageKeys, UnitPrefix};
use super::context::{self, EncryptionContext, PUBLIC_KEY_FIELD};
use super::decrypt::{header_verifier, only_authenticated, open_header};
use super::header::{self, Header, ParseError, Reader};
use super::{AlgorithmSuite, DecryptOptions, MaxEncryptedDataKeys};

/// Options for rewrapping.
#[derive(Debug, Clone, Default)]
pub struct RewrapOptions {
    /// How the message is opened: the encryption context the caller
    /// expects (and the pairs that were authenticated but not stored), the
    /// commitment policy, the limit on the encrypted data keys read, and on
    /// the body's plaintext length.
    pub decrypt: DecryptOptions,
    /// Refuse to write more encrypted data keys than this (default 100).
    pub max_encrypted_data_keys: MaxEncryptedDataKeys,
}

/// What a finished rewrap did.
#[derive(Debug, Clone)]
pub struct RewrapSummary {
    /// The message's suite (unchanged).
    pub suite: AlgorithmSuite,
    /// The full encryption context of the new message (for signed suites,
    /// with its new `aws-crypto-public-key`).
    pub encryption_context: EncryptionContext,
    /// Bytes read and written, whole messages.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// The old and the new header's length.
    pub header_len: (usize, usize),
    /// How many encrypted data keys the new header carries.
    pub encrypted_data_keys: usize,
    /// Whether the message was signed again (signed suites).
    pub resigned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Prefix,
    Pass(u64),
    Footer,
    Done,
    Failed,
}

/// The rewrap state machine without its materials manager and keyring.
struct RewrapCore {
    options: RewrapOptions,
    phase: Phase,
    /// Bytes of a header, unit prefix or footer that arrived in pieces.
    pending: Vec<u8>,
    /// How many bytes `pending` must hold before it is worth parsing again.
    pending_need: usize,
    header: Option<Header>,
    old_verifier: Option<(EcdsaVerifyingKey, Hasher)>,
    new_signer: Option<(EcdsaSigningKey, Hasher)>,
    seq: u32,
    /// The unit being passed through is the last one.
    in_last: bool,
    body_len: u64,
    bytes_in: u64,
    bytes_out: u64,
    summary: Option<RewrapSummary>,
}

impl RewrapCore {
    fn new(options: RewrapOptions) -> Self {
        RewrapCore {
            options,
            phase: Phase::Header,
            pending: Vec::new(),
            pending_need: 0,
            header: None,
            old_verifier: None,
            new_signer: None,
            seq: 1,
            in_last: false,
            body_len: 0,
            bytes_in: 0,
            bytes_out: 0,
            summary: None,
        }
    }

    fn update(
        &mut self,
        cmm: &dyn MaterialsManager,
        keyring: &dyn Keyring,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match self.phase {
            Phase::Failed => return Err(Error::InvalidState("a previous call failed".into())),
            Phase::Done if input.is_empty() => return Ok(()),
            _ => {}
        }
        let mark = out.len();
        let r = self.process(cmm, keyring, input, out);
        if r.is_err() {
            out.truncate(mark);
            self.fail();
        }
        self.bytes_in += input.len() as u64;
        self.bytes_out += (out.len() - mark) as u64;
        r
    }

    fn finish(&mut self) -> Result<RewrapSummary> {
        match self.phase {
            Phase::Done if self.pending.is_empty() => {
                let mut s = self.summary.clone().ok_or(Error::DecryptionFailed)?;
                s.bytes_in = self.bytes_in;
                s.bytes_out = self.bytes_out;
                Ok(s)
            }
            Phase::Failed => Err(Error::InvalidState("a previous call failed".into())),
            // Truncated.
            _ => {
                self.fail();
                Err(Error::DecryptionFailed)
            }
        }
    }

    fn fail(&mut self) {
        self.phase = Phase::Failed;
        self.pending.clear();
        self.old_verifier = None;
        self.new_signer = None;
    }

    fn process(
        &mut self,
        cmm: &dyn MaterialsManager,
        keyring: &dyn Keyring,
        mut input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        loop {
            // Gathered bytes that are all a parse asked for are parsed even
            // when the input has run out (a footer completed by the last
            // byte of the message).
            let ready = !self.pending.is_empty() && self.pending.len() >= self.pending_need;
            if input.is_empty() && !ready {
                break;
            }
            if let Phase::Pass(left) = self.phase {
                let n = left.min(input.len() as u64) as usize;
                self.emit_body(&input[..n], out);
                input = &input[n..];
                self.phase = if left > n as u64 {
                    Phase::Pass(left - n as u64)
                } else {
                    self.after_unit()
                };
                continue;
            }
            if matches!(self.phase, Phase::Done | Phase::Failed) {
                // Bytes after the end of the message.
                return Err(Error::DecryptionFailed);
            }
            // A header, unit prefix or footer: parsed from the input when
            // it is all there, else gathered in `pending` exactly up to
            // what the parser said it needs next.
            if self.pending.is_empty() {
                match self.parse(cmm, keyring, input, out) {
                    Ok(n) => input = &input[n..],
                    Err(ParseError::Incomplete(need)) => {
                        self.pending.extend_from_slice(input);
                        self.pending_need = need;
                        return Ok(());
                    }
                    Err(ParseError::Invalid(e)) => return Err(e),
                }
            } else {
                let data = std::mem::take(&mut self.pending);
                match self.parse(cmm, keyring, &data, out) {
                    Ok(n) if n == data.len() => {}
                    Ok(_) => return Err(Error::DecryptionFailed),
                    // A parser asks for more than it has, always; anything
                    // else would loop here.
                    Err(ParseError::Incomplete(need)) if need <= data.len() => {
                        return Err(Error::DecryptionFailed)
                    }
                    Err(ParseError::Incomplete(need)) => {
                        let take = need.saturating_sub(data.len()).min(input.len());
                        self.pending = data;
                        self.pending.extend_from_slice(&input[..take]);
                        self.pending_need = need;
                        input = &input[take..];
                    }
                    Err(ParseError::Invalid(e)) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Parses what the phase expects at the start of `data`; returns the
    /// bytes it used.
    fn parse(
        &mut self,
        cmm: &dyn MaterialsManager,
        keyring: &dyn Keyring,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<usize, ParseError> {
        match self.phase {
            Phase::Header => {
                let parsed =
                    header::parse(data, self.options.decrypt.max_encrypted_data_keys.get())?;
                let new_bytes = self.rewrap_header(cmm, keyring, &parsed)?;
                out.extend_from_slice(&new_bytes);
                self.phase = Phase::Prefix;
                Ok(parsed.total_len)
            }
            Phase::Prefix => {
                let header = self.header.take().ok_or(Error::DecryptionFailed)?;
                let r = self.read_prefix(&header, data, out);
                self.header = Some(header);
                r
            }
            Phase::Footer => {
                let mut r = Reader::new(data);
                let n = r.u16()? as usize;
                let sig = r.take(n)?;
                let (vk, hasher) = self.old_verifier.take().ok_or(Error::DecryptionFailed)?;
                if !vk.verify_digest_der(&hasher.finalize(), sig) {
                    return Err(Error::DecryptionFailed.into());
                }
                let (sk, hasher) = self.new_signer.take().ok_or(Error::DecryptionFailed)?;
                let sig = sk.sign_digest_static_der(&hasher.finalize())?;
                out.extend_from_slice(&(sig.len() as u16).to_be_bytes());
                out.extend_from_slice(&sig);
                self.phase = Phase::Done;
                Ok(r.pos)
            }
            Phase::Pass(_) | Phase::Done | Phase::Failed => Err(Error::DecryptionFailed.into()),
        }
    }

    /// A unit's prefix: measured in `data`, copied out (and hashed from
    /// the copy), then read from that copy, so that the lengths followed
    /// are those of the bytes written and signed.
    fn read_prefix(
        &mut self,
        header: &Header,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<usize, ParseError> {
        let mut r = Reader::new(data);
        let measured: UnitPrefix = body::parse_unit_prefix(&mut r, header, self.seq)?;
        let n = r.pos;
        let body_len = self.body_len.saturating_add(measured.len);
        if let Some(max) = self.options.decrypt.max_body_size {
            if body_len > max {
                return Err(Error::MessageTooLarge { max }.into());
            }
        }
        let at = out.len();
        self.emit_body(&data[..n], out);
        let mut r = Reader::new(&out[at..]);
        let unit = match body::parse_unit_prefix(&mut r, header, self.seq) {
            Ok(u) if r.pos == n && u.len == measured.len && u.last == measured.last => u,
            // The copy is not the prefix that was measured: the memory
            // changed in between.
            _ => return Err(Error::DecryptionFailed.into()),
        };
        self.body_len = body_len;
        self.in_last = unit.last;
        self.phase = Phase::Pass(unit.rest_len());
        Ok(n)
    }

    fn after_unit(&mut self) -> Phase {
        if !self.in_last {
            self.seq = self.seq.wrapping_add(1);
            Phase::Prefix
        } else if self.old_verifier.is_some() {
            Phase::Footer
        } else {
            Phase::Done
        }
    }

    /// Body bytes: copied, and hashed for the old and the new signature
    /// from that copy, so that what both signatures cover is what is
    /// written, even when the input is memory someone else may write.
    fn emit_body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(bytes);
        let copied = &out[at..];
        if let Some((_, h)) = &mut self.old_verifier {
            h.update(copied);
        }
        if let Some((_, h)) = &mut self.new_signer {
            h.update(copied);
        }
    }

    /// Opens the old header, wraps its data key again and returns the new
    /// header's bytes (body and auth).
    fn rewrap_header(
        &mut self,
        cmm: &dyn MaterialsManager,
        keyring: &dyn Keyring,
        parsed: &header::ParsedHeader,
    ) -> Result<Vec<u8>> {
        let (mut dm, keys) = open_header(cmm, parsed, &self.options.decrypt)?;
        let old = &parsed.header;
        let suite = old.suite;
        let old_verifier = header_verifier(suite, dm.verification_key.take(), &parsed.bytes)?;
        let data_key = dm
            .plaintext_data_key
            .take()
            .ok_or(Error::DecryptionFailed)?;

        // The full context, with a new signing key's public half in place
        // of the old one.
        let mut encryption_context = std::mem::take(&mut dm.encryption_context);
        let signing_key = match suite.signature() {
            Some((curve, _)) => {
                let sk = EcdsaSigningKey::generate(curve)?;
                let public = base64::engine::general_purpose::STANDARD
                    .encode(sk.verifying_key().to_compressed());
                encryption_context.insert(PUBLIC_KEY_FIELD.to_owned(), public);
                Some(sk)
            }
            None => None,
        };
        let required = std::mem::take(&mut dm.required_encryption_context_keys);
        let mut materials = EncryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys: required,
            plaintext_data_key: Some(data_key),
            encrypted_data_keys: Vec::new(),
            signing_key,
        };
        let kept = materials
            .plaintext_data_key
            .as_ref()
            .map(|k| k.try_clone())
            .transpose()?;
        keyring.on_encrypt(&mut materials)?;
        // A keyring adds wrappings of the data key it was given; one that
        // replaced the key would make the body unreadable.
        match (&kept, &materials.plaintext_data_key) {
            (Some(a), Some(b)) if crate::crypto::ct_eq(a.as_bytes(), b.as_bytes()) => {}
            _ => {
                return Err(Error::EncryptFailed(
                    "the keyring replaced the data key instead of wrapping it".into(),
                ))
            }
        }
        let found = materials.encrypted_data_keys.len();
        if found == 0 {
            return Err(Error::EncryptFailed(
                "the keyring produced no encrypted data key".into(),
            ));
        }
        let max = self
            .options
            .max_encrypted_data_keys
            .get()
            .unwrap_or(u16::MAX as usize);
        if found > max {
            return Err(Error::TooManyEncryptedDataKeys { max, found });
        }

        let authenticated_only = only_authenticated(
            &materials.encryption_context,
            &materials.required_encryption_context_keys,
        );
        let mut stored = materials.encryption_context.clone();
        for k in authenticated_only.keys() {
            stored.remove(k);
        }
        let header = Header {
            suite,
            message_id: old.message_id.clone(),
            encryption_context: stored,
            encrypted_data_keys: std::mem::take(&mut materials.encrypted_data_keys),
            content_type: old.content_type,
            frame_length: old.frame_length,
            commitment: old.commitment,
        };
        let bytes = authenticated_header(&header, &authenticated_only, &keys)?;
        self.new_signer = match (materials.signing_key.take(), suite.signature()) {
            (Some(sk), Some((_, hash))) => {
                let mut h = Hasher::new(hash);
                h.update(&bytes);
                Some((sk, h))
            }
            (None, None) => None,
            _ => return Err(Error::EncryptFailed("signing key missing".into())),
        };
        self.old_verifier = old_verifier;
        self.summary = Some(RewrapSummary {
            suite,
            encryption_context: materials.encryption_context.clone(),
            bytes_in: 0,
            bytes_out: 0,
            header_len: (parsed.total_len, bytes.len()),
            encrypted_data_keys: found,
            resigned: suite.signature().is_some(),
        });
        self.header = Some(header);
        Ok(bytes)
    }
}

/// A header's bytes with its auth: the body, then (version 1) the zero IV
/// and the tag over body ‖ the pairs authenticated but not stored.
pub(crate) fn authenticated_header(
    header: &Header,
    authenticated_only: &EncryptionContext,
    keys: &MessageKeys,
) -> Result<Vec<u8>> {
    let mut bytes = header.serialize_body()?;
    let mut aad = bytes.clone();
    aad.extend_from_slice(&context::serialize(authenticated_only)?);
    let iv = [0u8; GCM_IV_LEN];
    let tag = keys.content_key.seal_in_place(&iv, &aad, &mut [])?;
    if header.suite.message_version() == 1 {
        bytes.extend_from_slice(&iv);
    }
    bytes.extend_from_slice(&tag);
    Ok(bytes)
}

/// Incremental rewrapping: feed a message with [`update`](Self::update),
/// collect the rewrapped message, and call [`finish`](Self::finish) to
/// learn whether the message was complete. Memory stays bounded by the
/// header whatever the size of the body. On an error, discard what was
/// written.
pub struct Rewrapper {
    cmm: Arc<dyn MaterialsManager>,
    keyring: Arc<dyn Keyring>,
    core: RewrapCore,
}

impl std::fmt::Debug for Rewrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rewrapper")
            .field("phase", &self.core.phase)
            .finish_non_exhaustive()
    }
}

impl Rewrapper {
    /// A rewrapper that opens messages with `decrypt_with` and wraps their
    /// data key with `encrypt_with`.
    pub fn new(
        decrypt_with: Arc<dyn MaterialsManager>,
        encrypt_with: Arc<dyn Keyring>,
        options: RewrapOptions,
    ) -> Self {
        Rewrapper {
            cmm: decrypt_with,
            keyring: encrypt_with,
            core: RewrapCore::new(options),
        }
    }

    /// Consumes message bytes, appending the rewrapped bytes that are ready.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.core
            .update(self.cmm.as_ref(), self.keyring.as_ref(), input, out)
    }

    /// Confirms the message was complete; returns what was done.
    pub fn finish(&mut self) -> Result<RewrapSummary> {
        self.core.finish()
    }
}

/// Rewraps one message in memory.
pub fn rewrap(
    message: &[u8],
    decrypt_with: &dyn MaterialsManager,
    encrypt_with: &dyn Keyring,
    options: &RewrapOptions,
) -> Result<(Vec<u8>, RewrapSummary)> {
    let mut out = Vec::with_capacity(message.len().saturating_add(1024));
    let summary = rewrap_append(message, decrypt_with, encrypt_with, options, &mut out)?;
    Ok((out, summary))
}

/// What [`rewrap_header`] found.
#[derive(Debug)]
pub enum HeaderRewrap {
    /// The prefix does not hold the whole header: read at least this many
    /// bytes from the start of the message and call again.
    NeedMore(usize),
    /// The new header.
    Done {
        /// The old header's length: the new header replaces exactly these
        /// bytes, the rest of the message stays as it is.
        old_len: usize,
        /// The new header (body and auth).
        header: Vec<u8>,
        /// What was done (`bytes_in`/`bytes_out`: the headers' lengths).
        summary: RewrapSummary,
    },
}

/// Rewraps only the header of a message whose first bytes are `prefix`:
/// for unsigned suites the rest of the message (its body) is the same
/// after a rewrap, so a file can be rewrapped by replacing its header
/// alone. The body is not read, so its structure is not checked (a
/// truncated message stays truncated). Signed suites are refused
/// (`InvalidArgument`): their footer signs the header, so the whole message
/// must be rewrapped ([`rewrap_stream`]).
pub fn rewrap_header(
    prefix: &[u8],
    decrypt_with: &dyn MaterialsManager,
    encrypt_with: &dyn Keyring,
    options: &RewrapOptions,
) -> Result<HeaderRewrap> {
    // The suite first, before any key is used.
    let parsed = match header::parse(prefix, options.decrypt.max_encrypted_data_keys.get()) {
        Err(ParseError::Incomplete(need)) => return Ok(HeaderRewrap::NeedMore(need)),
        Err(ParseError::Invalid(e)) => return Err(e),
        Ok(p) if p.header.suite.signature().is_some() => {
            return Err(Error::InvalidArgument(format!(
                "suite {} signs the whole message: its header cannot be replaced alone; \
                 rewrap the whole message",
                p.header.suite
            )))
        }
        Ok(p) => p,
    };
    // The header just checked, not `prefix` read (or parsed) again.
    let mut core = RewrapCore::new(options.clone());
    let header = core.rewrap_header(decrypt_with, encrypt_with, &parsed)?;
    let old_len = parsed.total_len;
    let mut summary = core.summary.take().ok_or(Error::DecryptionFailed)?;
    summary.bytes_in = old_len as u64;
    summary.bytes_out = header.len() as u64;
    Ok(HeaderRewrap::Done {
        old_len,
        header,
        summary,
    })
}

/// Rewraps one message, appending it to `out` (left as it was on error).
pub fn rewrap_append(
    message: &[u8],
    decrypt_with: &dyn MaterialsManager,
    encrypt_with: &dyn Keyring,
    options: &RewrapOptions,
    out: &mut Vec<u8>,
) -> Result<RewrapSummary> {
    let mark = out.len();
    let mut core = RewrapCore::new(options.clone());
    let r = core
        .update(decrypt_with, encrypt_with, message, out)
        .and_then(|()| core.finish());
    if r.is_err() {
        out.truncate(mark);
    }
    r
}

/// Rewraps a message from `input` to `output` in bounded memory. What was
/// written before an error is not a message: write to a temporary file and
/// rename it when this returns `Ok`.
pub fn rewrap_stream(
    mut input: impl Read,
    mut output: impl Write,
    decrypt_with: &dyn MaterialsManager,
    encrypt_with: &dyn Keyring,
    options: &RewrapOptions,
) -> Result<RewrapSummary> {
    const CHUNK: usize = 256 * 1024;
    let mut core = RewrapCore::new(options.clone());
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::with_capacity(CHUNK + 4096);
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io(e.to_string())),
        };
        out.clear();
        core.update(decrypt_with, encrypt_with, &buf[..n], &mut out)?;
        output
            .write_all(&out)
            .map_err(|e| Error::Io(e.to_string()))?;
    }
    let summary = core.finish()?;
    output.flush().map_err(|e| Error::Io(e.to_string()))?;
    Ok(summary)
}
