//! Streaming decryption.
//!
//! Plaintext of a frame is released only after that frame's tag verified;
//! with a signed suite the final frame (or the single block of a
//! non-framed body) is held until the footer signature verifies.

use std::mem::MaybeUninit;
use std::sync::Arc;

use zeroize::Zeroize;

use crate::cmm::{DecryptMaterialsRequest, MaterialsManager};
use crate::crypto::{AesGcmKey, EcdsaVerifyingKey, Hasher, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::materials::DecryptionMaterials;

use super::body::{self, body_aad, derive_keys, MessageKeys};
use super::context::{self, EncryptionContext};
use super::header::{self, ContentType, Header, ParseError, Reader};
use super::parallel::{self, Parallelism};
use super::{AlgorithmSuite, CommitmentPolicy, MaxEncryptedDataKeys};

#[cfg(test)]
thread_local! {
    /// Prefixes the multi-threaded path has read to count frames ahead, and
    /// the most a test allows before it fails rather than runs on (tests:
    /// each frame is counted about once).
    static COUNTED: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, u64::MAX)) };
}

/// The most bytes of frames that a signed message in memory that may
/// change has copied at once on the multi-threaded path (one frame at a
/// time otherwise), so that it is opened and hashed from one copy.
const SIGNED_COPY_MAX: usize = 4 << 20;

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
    /// Threads that open the frames of a large message (default: the
    /// machine's cores from 1 MiB of whole frames per call). The plaintext
    /// is the same, released in the same order.
    pub parallelism: Parallelism,
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
    /// What the caller's slices given to `update` are (`buf`, its own
    /// buffer of ciphertext not yet consumed, is always
    /// [`InputMemory::Unchanging`]).
    memory: InputMemory,
    phase: Phase,
    buf: Vec<u8>,
    verified: Option<Verified>,
    seq: u32,
    body_len: u64,
    held: Vec<u8>,
    aad: Vec<u8>,
    /// A signed message's units copied out of memory that may change, to
    /// be opened and hashed from one copy (see `read_body_copied`).
    copy: Vec<u8>,
    /// Frames before this sequence number were counted for the
    /// multi-threaded path and declined: they are read one by one, and not
    /// counted again for every one of them.
    serial_until: u64,
    /// Bytes the header needs at least before it is worth parsing again.
    header_need: usize,
}

impl DecryptCore {
    pub(crate) fn new(options: DecryptOptions, memory: InputMemory) -> Self {
        DecryptCore {
            options,
            memory,
            phase: Phase::Header,
            buf: Vec::new(),
            verified: None,
            seq: 1,
            body_len: 0,
            held: Vec::new(),
            aad: Vec::with_capacity(128),
            copy: Vec::new(),
            serial_until: 0,
            header_need: 0,
        }
    }

    pub(crate) fn update(
        &mut self,
        cmm: &dyn MaterialsManager,
        input: &[u8],
        out: &mut impl Sink,
    ) -> Result<()> {
        match self.phase {
            Phase::Failed => return Err(Error::InvalidState("a previous call failed".into())),
            Phase::Done if input.is_empty() => return Ok(()),
            _ => {}
        }
        let mark = out.written();
        let r = if self.buf.is_empty() {
            // Fast path: work straight from the caller's slice.
            self.process(cmm, input, self.memory, out)
                .map(|used| self.buf.extend_from_slice(&input[used..]))
        } else {
            self.buf.extend_from_slice(input);
            let data = std::mem::take(&mut self.buf);
            let r = self.process(cmm, &data, InputMemory::Unchanging, out);
            let mut data = data;
            if let Ok(used) = r {
                data.drain(..used);
            }
            self.buf = data;
            r.map(|_| ())
        };
        if let Err(e) = r {
            out.unwind(mark);
            self.fail();
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, out: &mut impl Sink) -> Result<()> {
        match self.phase {
            Phase::Done if self.buf.is_empty() => {
                let r = out.append_copy(&self.held).map(|_| ());
                crate::secret::wipe_vec(&mut self.held);
                if r.is_err() {
                    self.fail();
                }
                r
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
        crate::secret::wipe_vec(&mut self.held);
        crate::secret::wipe_vec(&mut self.buf);
        self.copy = Vec::new();
        self.verified = None;
    }

    /// Consumes as much of `data` as forms complete units; returns how much.
    fn process(
        &mut self,
        cmm: &dyn MaterialsManager,
        data: &[u8],
        memory: InputMemory,
        out: &mut impl Sink,
    ) -> Result<usize> {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            let step = match self.phase {
                Phase::Header if rest.len() < self.header_need => return Ok(used),
                Phase::Header => self.read_header(cmm, rest),
                Phase::Body => match self.read_frames_parallel(rest, memory, out) {
                    Ok(0) => self.read_body(rest, memory, out),
                    r => r,
                },
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
        let (materials, keys) = open_header(cmm, &parsed, &self.options)?;
        // The signature covers the header as parsed: its one copy, not the
        // caller's bytes read again.
        let verifier = header_verifier(
            parsed.header.suite,
            materials.verification_key,
            &parsed.bytes,
        )?;
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

    fn read_body(
        &mut self,
        data: &[u8],
        memory: InputMemory,
        out: &mut impl Sink,
    ) -> Result<usize, ParseError> {
        let v = self.verified.as_ref().ok_or(Error::DecryptionFailed)?;
        let signed = v.verifier.is_some();
        if signed && memory == InputMemory::MayChange {
            return self.read_body_copied(data, out);
        }
        let Unit {
            prefix: unit,
            ct,
            tag,
            consumed,
        } = self.next_unit(data)?;
        let (len, iv, is_last) = (unit.len, unit.iv, unit.last);

        body_aad(
            &mut self.aad,
            &v.header.message_id,
            unit.content,
            unit.seq,
            len,
        );
        // Hold the final frame of a signed message until the footer verifies.
        if is_last && signed {
            open_onto(&mut self.held, &v.key, &iv, &self.aad, ct, tag, memory)?;
        } else {
            open_onto(out, &v.key, &iv, &self.aad, ct, tag, memory)?;
        }

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

    /// The unit at the start of `data`, its prefix checked against the
    /// header and the sequence number expected, and its length against
    /// `max_body_size`.
    fn next_unit<'d>(&self, data: &'d [u8]) -> Result<Unit<'d>, ParseError> {
        let v = self.verified.as_ref().ok_or(Error::DecryptionFailed)?;
        let mut r = Reader::new(data);
        let prefix = body::parse_unit_prefix(&mut r, &v.header, self.seq)?;
        self.check_body_size(prefix.len)?;
        let ct = r.take(usize::try_from(prefix.len).map_err(|_| Error::DecryptionFailed)?)?;
        let tag = r.take(GCM_TAG_LEN)?;
        Ok(Unit {
            prefix,
            ct,
            tag,
            consumed: r.pos,
        })
    }

    /// `read_body` for a signed message in memory that may change: the
    /// unit is measured in the caller's bytes, copied once, and then parsed,
    /// opened and hashed from the copy. Read twice from the caller's
    /// memory, the bytes the signature covers could differ from the bytes
    /// that were opened: a recipient who may write that memory during the
    /// call could then pass off frames of its own as the signer's.
    fn read_body_copied(&mut self, data: &[u8], out: &mut impl Sink) -> Result<usize, ParseError> {
        // Measured (and a unit too large refused) before it is copied.
        let n = self.next_unit(data)?.consumed;
        let copy = copy_into_kept(&mut self.copy, &data[..n]);
        let r = self.read_body(&copy, InputMemory::Unchanging, out);
        self.keep_copy(copy);
        match r {
            Ok(m) if m == n => Ok(n),
            // The copy is not the unit that was measured: the memory
            // changed in between.
            Ok(_) | Err(ParseError::Incomplete(_)) => Err(Error::DecryptionFailed.into()),
            Err(e) => Err(e),
        }
    }

    /// Keeps the buffer of `copy` for the next unit while there are units
    /// to read, unless it grew past what one batch of frames needs (a
    /// large frame or non-framed body).
    fn keep_copy(&mut self, mut copy: Vec<u8>) {
        if self.phase == Phase::Body && copy.capacity() <= SIGNED_COPY_MAX + SIGNED_COPY_MAX / 4 {
            copy.clear();
            self.copy = copy;
        }
    }

    /// Opens the whole regular frames at the start of `data` on several
    /// threads when there are enough of them (`Ok(0)`: none were, the
    /// frame-by-frame path goes on). Their structure is checked here, in
    /// order, as `read_body` checks it; a frame that is not a valid regular
    /// frame ends the run and is left to `read_body`.
    fn read_frames_parallel(
        &mut self,
        data: &[u8],
        memory: InputMemory,
        out: &mut impl Sink,
    ) -> Result<usize, ParseError> {
        let Some(v) = self.verified.as_ref() else {
            return Ok(0);
        };
        if v.header.content_type != ContentType::Framed || u64::from(self.seq) < self.serial_until {
            return Ok(0);
        }
        let fl = v.header.frame_length as usize;
        let size = parallel::regular_frame_len(fl);
        let available = data.len() / size;
        if self
            .options
            .parallelism
            .threads_for(available, available * fl)
            < 2
        {
            return Ok(0);
        }
        // A signed message in memory that may change is opened and hashed
        // from one copy (as in `read_body_copied`), a batch of at most
        // SIGNED_COPY_MAX bytes (or two frames) at a time.
        let copied = v.verifier.is_some() && memory == InputMemory::MayChange;
        let cap = if copied {
            available.min((SIGNED_COPY_MAX / size).max(2))
        } else {
            available
        };
        let mut count = 0;
        while count < cap {
            #[cfg(test)]
            COUNTED.with(|c| {
                let (n, most) = c.get();
                assert!(n < most, "{n} frame prefixes counted ahead");
                c.set((n + 1, most));
            });
            let mut r = Reader::new(&data[count * size..]);
            let seq = self.seq.wrapping_add(count as u32);
            match body::parse_unit_prefix(&mut r, &v.header, seq) {
                Ok(u) if !u.last => count += 1,
                _ => break,
            }
        }
        let threads = self.options.parallelism.threads_for(count, count * fl);
        if threads < 2 {
            // Too few after all (the final frame, or a batch of small
            // frames): these go one by one, without being counted again.
            self.serial_until = u64::from(self.seq) + count as u64;
            return Ok(0);
        }
        self.check_body_size((count * fl) as u64)?;
        let copy = copied.then(|| copy_into_kept(&mut self.copy, &data[..count * size]));
        let frames = copy.as_deref().unwrap_or(&data[..count * size]);
        let opened = parallel::open_frames(
            &v.key,
            &v.header.message_id,
            self.seq,
            fl,
            frames,
            if copied {
                InputMemory::Unchanging
            } else {
                memory
            },
            out,
            threads,
        );
        if opened.is_ok() {
            let v = self.verified.as_mut().ok_or(Error::DecryptionFailed)?;
            if let Some((_, h)) = &mut v.verifier {
                h.update(frames);
            }
        }
        if let Some(copy) = copy {
            self.keep_copy(copy);
        }
        opened?;
        self.body_len += (count * fl) as u64;
        self.seq = self.seq.wrapping_add(count as u32);
        Ok(count * size)
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

    /// The suite and the encryption context of a message decrypted whole,
    /// taken out of the core (which a one-shot call drops next).
    fn take_header_info(&mut self) -> Option<(AlgorithmSuite, EncryptionContext)> {
        match self.phase {
            Phase::Done => self
                .verified
                .as_mut()
                .map(|v| (v.header.suite, std::mem::take(&mut v.encryption_context))),
            _ => None,
        }
    }
}

/// A unit of the body as read from the ciphertext.
struct Unit<'d> {
    prefix: body::UnitPrefix,
    ct: &'d [u8],
    tag: &'d [u8],
    /// Bytes it takes: prefix, ciphertext and tag.
    consumed: usize,
}

/// `src` copied into the buffer that `kept` holds (taken out of it, to be
/// handed back by `DecryptCore::keep_copy`).
fn copy_into_kept(kept: &mut Vec<u8>, src: &[u8]) -> Vec<u8> {
    let mut copy = std::mem::take(kept);
    copy.clear();
    copy.extend_from_slice(src);
    copy
}

/// Opens a parsed header: the commitment policy allows its suite, the
/// materials manager gives the data key for its encrypted data keys (and
/// checks the caller's context), the commitment key matches and the header
/// auth tag verifies. Returns the materials and the message keys. Shared by
/// decryption and rewrapping.
pub(crate) fn open_header(
    cmm: &dyn MaterialsManager,
    parsed: &header::ParsedHeader,
    options: &DecryptOptions,
) -> Result<(DecryptionMaterials, MessageKeys)> {
    let h = &parsed.header;
    options.commitment_policy.check_decrypt(h.suite)?;
    let materials = cmm.decrypt_materials(DecryptMaterialsRequest {
        suite: h.suite,
        encrypted_data_keys: h.encrypted_data_keys.clone(),
        encryption_context: h.encryption_context.clone(),
        reproduced_encryption_context: options.encryption_context.clone(),
        commitment_policy: options.commitment_policy,
    })?;
    if materials.suite != h.suite {
        return Err(Error::DecryptionFailed);
    }
    let data_key = materials
        .plaintext_data_key
        .as_ref()
        .ok_or(Error::DecryptionFailed)?;
    let keys = derive_keys(h.suite, data_key, &h.message_id)?;
    if let Some(expected) = &h.commitment {
        let derived = keys.commitment.ok_or(Error::DecryptionFailed)?;
        if !crate::crypto::ct_eq(&derived, expected) {
            return Err(Error::DecryptionFailed);
        }
    }
    // Header auth: AAD = header body ‖ serialized pairs that were
    // authenticated but not stored.
    let mut aad = parsed.body_bytes().to_vec();
    aad.extend_from_slice(&context::serialize(&only_authenticated(
        &materials.encryption_context,
        &materials.required_encryption_context_keys,
    ))?);
    keys.content_key
        .open_in_place(&parsed.auth_iv, &aad, &mut [], &parsed.auth_tag)?;
    Ok((materials, keys))
}

/// The pairs of `context` named in `required`: authenticated with the
/// header, not stored in it.
pub(crate) fn only_authenticated(
    context: &EncryptionContext,
    required: &[String],
) -> EncryptionContext {
    required
        .iter()
        .filter_map(|k| context.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

/// The signature check of a signed suite, started over the header's bytes;
/// `None` for an unsigned one. A signed suite without a verification key,
/// or an unsigned one with one, is refused.
pub(crate) fn header_verifier(
    suite: AlgorithmSuite,
    verification_key: Option<EcdsaVerifyingKey>,
    header_bytes: &[u8],
) -> Result<Option<(EcdsaVerifyingKey, Hasher)>> {
    match (suite.signature(), verification_key) {
        (Some((_, hash)), Some(vk)) => {
            let mut hasher = Hasher::new(hash);
            hasher.update(header_bytes);
            Ok(Some((vk, hasher)))
        }
        (None, None) => Ok(None),
        _ => Err(Error::DecryptionFailed),
    }
}

impl Drop for DecryptCore {
    fn drop(&mut self) {
        crate::secret::wipe_vec(&mut self.held);
        crate::secret::wipe_vec(&mut self.buf);
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
    /// A decryptor that gets its data key from `cmm`, for slices in memory
    /// that may change during `update` ([`InputMemory::MayChange`]: a
    /// stream's slices come from bindings' buffers too, which their owners
    /// may write meanwhile).
    pub fn new(cmm: Arc<dyn MaterialsManager>, options: DecryptOptions) -> Self {
        Self::with_memory(cmm, options, InputMemory::MayChange)
    }

    /// A decryptor whose `update` slices are in `memory`:
    /// [`InputMemory::Unchanging`] for buffers that nothing else writes
    /// while `update` reads them (a `Vec` of the caller's own that a file
    /// is read into), whose frames are then opened where they are, without
    /// the copy that memory which may change needs.
    pub fn with_memory(
        cmm: Arc<dyn MaterialsManager>,
        options: DecryptOptions,
        memory: InputMemory,
    ) -> Self {
        Decryptor {
            cmm,
            core: DecryptCore::new(options, memory),
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

/// Whether the memory a ciphertext is read from can change while a call
/// reads it: what decides if each frame is opened straight from it or from
/// a private copy. AES-GCM reads a frame twice (the tag's GHASH, then the
/// decryption): bytes that changed in between would give plaintext of
/// bytes the tag never authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMemory {
    /// Nothing writes it during the call: what Rust promises of a `&[u8]`
    /// it owns or borrows (a `Vec`, a Python `bytes`, a copy the caller
    /// made). Frames are opened from it straight into the plaintext.
    Unchanging,
    /// Something else may write it meanwhile: a Node `Uint8Array` that
    /// JavaScript or another worker holds, a C caller's buffer, a Python
    /// `bytearray` or `memoryview`, a file mapped in memory. Each frame is
    /// copied into the plaintext's place first and opened there, so the
    /// bytes decrypted are the bytes the tag authenticated; a signed
    /// message's frames are copied whole first and opened and hashed from
    /// that copy, so the signature covers the bytes decrypted. (The header
    /// is read once, as a copy, whatever the memory.)
    MayChange,
}

/// Decrypts one complete message.
pub fn decrypt(
    ciphertext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
) -> Result<DecryptResult> {
    let mut plaintext = Vec::with_capacity(ciphertext.len());
    let (suite, encryption_context) = decrypt_append(
        ciphertext,
        InputMemory::Unchanging,
        cmm,
        options,
        &mut plaintext,
    )?;
    Ok(DecryptResult {
        suite,
        encryption_context,
        plaintext,
    })
}

/// Decrypts one complete message, appending the plaintext to `out`: for
/// callers that keep one buffer across messages (the Python package does,
/// per thread, so that a 1 MiB message does not cost fresh pages every
/// time) and for the bindings. `memory` says whether anything may write
/// the ciphertext during the call: [`InputMemory::Unchanging`] for Rust's
/// own slices, [`InputMemory::MayChange`] for memory shared with other
/// code (another process's mapping, a foreign caller's buffer). Returns
/// the suite and the encryption context. On error `out` is as it was
/// (nothing of the plaintext stays in it).
pub fn decrypt_append(
    ciphertext: &[u8],
    memory: InputMemory,
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
    out: &mut Vec<u8>,
) -> Result<(AlgorithmSuite, EncryptionContext)> {
    decrypt_to(ciphertext, memory, cmm, options, out)
}

/// Decrypts one complete message into `out`, which must be exactly as
/// long as its plaintext ([`plaintext_len`]): for callers whose result
/// buffer is allocated first, so that the plaintext is written once.
/// Returns the suite and the encryption context. On error `out` is all
/// zeros; a buffer of another length is `InvalidArgument`.
pub fn decrypt_into(
    ciphertext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
    out: &mut [u8],
) -> Result<(AlgorithmSuite, EncryptionContext)> {
    // SAFETY: initialized bytes viewed as possibly uninitialized ones;
    // `decrypt_into_uninit` writes only initialized bytes through the view.
    let out = unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
    decrypt_into_uninit(ciphertext, InputMemory::Unchanging, cmm, options, out)
}

/// [`decrypt_into`] into memory that need not be initialized (the Node
/// package's Promise `decrypt` writes into the `Buffer` it resolves with,
/// the Python package into the returned `bytes`), of a ciphertext in
/// `memory` (as for [`decrypt_append`]): every byte of `out` is written,
/// the plaintext on success, zeros on error.
pub fn decrypt_into_uninit(
    ciphertext: &[u8],
    memory: InputMemory,
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
    out: &mut [MaybeUninit<u8>],
) -> Result<(AlgorithmSuite, EncryptionContext)> {
    // Zeroes the whole buffer unless the decryption succeeds, a panic
    // (caught by the bindings) included.
    let mut guard = ZeroUnlessDone {
        buf: out,
        done: false,
    };
    let mut sink = Fixed {
        buf: &mut *guard.buf,
        len: 0,
    };
    let r = decrypt_to(ciphertext, memory, cmm, options, &mut sink).and_then(|r| {
        if sink.len == sink.buf.len() {
            Ok(r)
        } else {
            Err(Error::InvalidArgument(
                "the output buffer is longer than the plaintext".into(),
            ))
        }
    });
    guard.done = r.is_ok();
    r
}

/// See [`decrypt_into_uninit`].
struct ZeroUnlessDone<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    done: bool,
}

impl Drop for ZeroUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.buf.zeroize();
        }
    }
}

fn decrypt_to(
    ciphertext: &[u8],
    memory: InputMemory,
    cmm: &dyn MaterialsManager,
    options: &DecryptOptions,
    out: &mut impl Sink,
) -> Result<(AlgorithmSuite, EncryptionContext)> {
    let mark = out.written();
    let mut core = DecryptCore::new(options.clone(), memory);
    let r = core
        .update(cmm, ciphertext, out)
        .and_then(|()| core.finish(out))
        .and_then(|()| core.take_header_info().ok_or(Error::DecryptionFailed));
    if r.is_err() {
        out.unwind(mark);
    }
    r
}

/// The exact length of the plaintext of one complete message, read from
/// its structure alone (the header, then each frame's sequence number and
/// length, the footer's length): nothing is decrypted or authenticated.
/// For callers that allocate the output before [`decrypt_into`]. `None`
/// when `ciphertext` is not one complete, well-formed message (whose
/// decryption would fail anyway) or has more encrypted data keys than
/// `max_encrypted_data_keys`.
pub fn plaintext_len(
    ciphertext: &[u8],
    max_encrypted_data_keys: MaxEncryptedDataKeys,
) -> Option<usize> {
    let parsed = header::parse(ciphertext, max_encrypted_data_keys.get()).ok()?;
    let h = &parsed.header;
    let body = ciphertext.get(parsed.total_len..)?;
    let mut r = Reader::new(body);
    let mut total: u64 = 0;
    let mut seq: u32 = 1;
    loop {
        let unit = body::parse_unit_prefix(&mut r, h, seq).ok()?;
        r.take(usize::try_from(unit.len).ok()?).ok()?;
        r.take(GCM_TAG_LEN).ok()?;
        total = total.checked_add(unit.len)?;
        if unit.last {
            break;
        }
        seq = seq.wrapping_add(1);
    }
    if h.suite.signature().is_some() {
        let n = r.u16().ok()? as usize;
        r.take(n).ok()?;
    }
    if r.pos != body.len() {
        return None;
    }
    usize::try_from(total).ok()
}

/// Opens one body unit onto `dst`, into its next region, counted as
/// written only once its tag verified (a failed open leaves zeros, not
/// written); see [`open_unit`].
fn open_onto(
    dst: &mut impl Sink,
    key: &AesGcmKey,
    iv: &[u8; crate::crypto::GCM_IV_LEN],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    memory: InputMemory,
) -> Result<()> {
    open_unit(key, iv, aad, ct, tag, dst.region(ct.len())?, memory)?;
    // SAFETY: `open_unit` wrote the whole region when it succeeded.
    unsafe { dst.commit(ct.len()) };
    Ok(())
}

/// Authenticates and decrypts one body unit into `slot` (as long as `ct`),
/// which is then initialized: the plaintext, or zeros on failure.
///
/// AES-GCM reads its input more than once (the tag's GHASH, then the
/// decryption). Input that cannot change ([`InputMemory::Unchanging`]) is
/// opened from where it is, straight into `slot`. Input that may change
/// during the call (a Node `Uint8Array` written by JavaScript meanwhile, a
/// C caller's buffer, a file mapped in memory that another process writes)
/// is copied into `slot` first and opened there, so that the bytes
/// decrypted are the bytes the tag authenticated.
pub(crate) fn open_unit(
    key: &AesGcmKey,
    iv: &[u8; crate::crypto::GCM_IV_LEN],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    slot: &mut [MaybeUninit<u8>],
    memory: InputMemory,
) -> Result<()> {
    match memory {
        InputMemory::Unchanging => key.open_to(iv, aad, ct, tag, slot).map(|_| ()),
        InputMemory::MayChange => {
            let slot = parallel::init_from(slot, ct);
            key.open_in_place(iv, aad, slot, tag)
        }
    }
}

/// Where decryption writes plaintext: a growing `Vec` (streams,
/// [`decrypt_append`]) or a caller's buffer of the plaintext's exact
/// length ([`decrypt_into`]). Plaintext is written into a region first and
/// counted as written only once it has been authenticated.
///
/// A region may be memory that already holds initialized bytes, viewed as
/// `MaybeUninit`: write only initialized bytes through it (never
/// `MaybeUninit::uninit()`), as `parallel::init_from` does.
pub(crate) trait Sink {
    /// Bytes written so far.
    fn written(&self) -> usize;
    /// Room for `n` more bytes after those written (not yet initialized as
    /// far as Rust knows): written whole, then [`commit`](Self::commit)ted.
    /// A fixed buffer without that room is an error.
    fn region(&mut self, n: usize) -> Result<&mut [MaybeUninit<u8>]>;
    /// Counts the `n` bytes of the last [`region`](Self::region) as
    /// written.
    ///
    /// # Safety
    /// All `n` bytes of that region must have been initialized.
    unsafe fn commit(&mut self, n: usize);
    /// Zeroes what was written from `mark` on and forgets it.
    fn unwind(&mut self, mark: usize);
    /// Appends a copy of `src`.
    fn append_copy(&mut self, src: &[u8]) -> Result<()> {
        parallel::init_from(self.region(src.len())?, src);
        // SAFETY: `init_from` wrote the whole region.
        unsafe { self.commit(src.len()) };
        Ok(())
    }
}

impl Sink for Vec<u8> {
    fn written(&self) -> usize {
        self.len()
    }

    fn region(&mut self, n: usize) -> Result<&mut [MaybeUninit<u8>]> {
        // Reserved wiping: a reallocation must not leave a copy behind.
        crate::secret::reserve_wiping(self, n);
        Ok(&mut self.spare_capacity_mut()[..n])
    }

    unsafe fn commit(&mut self, n: usize) {
        // SAFETY: the caller initialized the `n` bytes of spare capacity
        // that `region(n)` returned, which lie within the capacity.
        unsafe { self.set_len(self.len() + n) }
    }

    fn unwind(&mut self, mark: usize) {
        self[mark..].zeroize();
        self.truncate(mark);
    }
}

/// A caller's buffer, filled from its start; `buf[..len]` is written.
struct Fixed<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    len: usize,
}

impl Sink for Fixed<'_> {
    fn written(&self) -> usize {
        self.len
    }

    fn region(&mut self, n: usize) -> Result<&mut [MaybeUninit<u8>]> {
        let end = self
            .len
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| {
                Error::InvalidArgument("the output buffer is shorter than the plaintext".into())
            })?;
        Ok(&mut self.buf[self.len..end])
    }

    unsafe fn commit(&mut self, n: usize) {
        self.len += n;
    }

    fn unwind(&mut self, mark: usize) {
        self.buf[mark..self.len].zeroize();
        self.len = mark;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cmm::DefaultMaterialsManager;
    use crate::keyring::RawAesKeyring;
    use crate::message::{encrypt, EncryptOptions};

    /// Frames of one byte, a million or more, on the default parallelism:
    /// the multi-threaded path counts the frames ahead and may decline them
    /// (just under `PARALLEL_MIN_BYTES` of regular frames before the final
    /// one, or a signed message's copied batch of small frames, 127,100 of
    /// one byte). Declined frames are read one by one and not counted
    /// again: counted again for each, the signed 1.25 MiB message below
    /// took some 3·10^10 prefix reads (it did not finish in two minutes).
    #[test]
    #[cfg_attr(
        not(feature = "aws-lc"),
        ignore = "the counting does not depend on the provider: run in the aws-lc pass"
    )]
    fn a_million_tiny_frames_are_counted_once() {
        if Parallelism::Auto.threads_for(2, 2 << 20) < 2 {
            println!("one core: the multi-threaded path is never tried");
            return;
        }
        let m = DefaultMaterialsManager::new(Arc::new(
            RawAesKeyring::new("ns", "k", &[4; 32]).unwrap(),
        ));
        for (suite, n, memory) in [
            (
                AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
                1 << 20,
                InputMemory::Unchanging,
            ),
            (
                AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
                1 << 20,
                InputMemory::MayChange,
            ),
            (
                AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
                (1 << 20) + (1 << 18),
                InputMemory::MayChange,
            ),
        ] {
            let eo = EncryptOptions {
                suite: Some(suite),
                frame_length: 1,
                ..EncryptOptions::default()
            };
            let pt: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let ct = encrypt(&pt, &m, &eo).unwrap();
            // At most one count per frame, and a few for the final one:
            // past that, the count panics in the loop.
            COUNTED.with(|c| c.set((0, n as u64 + 8)));
            let mut out = Vec::new();
            decrypt_append(&ct, memory, &m, &DecryptOptions::default(), &mut out).unwrap();
            assert!(out == pt, "{suite} {memory:?}");
            let (counted, _) = COUNTED.with(|c| c.replace((0, u64::MAX)));
            println!("{suite} {memory:?}: {n} frames, {counted} prefixes counted");
            assert!(
                counted > 0,
                "{suite} {memory:?}: the multi-threaded path was not tried"
            );
        }
    }
}
