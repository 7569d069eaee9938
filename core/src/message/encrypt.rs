//! Streaming encryption.

use crate::cmm::{EncryptionMaterialsRequest, MaterialsManager};
use crate::crypto::{self, AesGcmKey, EcdsaSigningKey, Hasher, GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::materials::EncryptionMaterials;

use std::mem::MaybeUninit;

use super::body::{derive_keys, SEQUENCE_NUMBER_END};
use super::context::{self, EncryptionContext};
use super::header::{ContentType, Header};
use super::parallel::{self, frame_prefix_len, init_from, Parallelism};
use super::{AlgorithmSuite, CommitmentPolicy, MaxEncryptedDataKeys, DEFAULT_FRAME_LENGTH};

/// Options for encryption.
#[derive(Debug, Clone)]
pub struct EncryptOptions {
    /// Authenticated, unencrypted context stored in the message.
    pub encryption_context: EncryptionContext,
    /// Keys of the context to authenticate but not store: the decrypting
    /// party must supply their values.
    pub required_encryption_context_keys: Vec<String>,
    /// The suite; `None` picks the policy's default (0x0478).
    pub suite: Option<AlgorithmSuite>,
    /// Plaintext bytes per frame, 1 ..= 2^32 - 1 (default
    /// [`DEFAULT_FRAME_LENGTH`], 16 KiB).
    pub frame_length: u32,
    /// Default: require-encrypt-require-decrypt.
    pub commitment_policy: CommitmentPolicy,
    /// Refuse to write more encrypted data keys than this (default 100;
    /// `MaxEncryptedDataKeys::NoLimit`: the format's 65,535).
    pub max_encrypted_data_keys: MaxEncryptedDataKeys,
    /// The plaintext length, when known up front (lets a caching materials
    /// manager count bytes).
    pub plaintext_length: Option<u64>,
    /// Threads that seal the frames of a large message (default: the
    /// machine's cores from 1 MiB of whole frames per call). The output is
    /// the same byte for byte.
    pub parallelism: Parallelism,
}

impl EncryptOptions {
    /// Options to encrypt with `suite`, under the commitment policy that
    /// allows it (committing suites: require-encrypt-require-decrypt; the
    /// legacy ones: forbid-encrypt-allow-decrypt).
    pub fn for_suite(suite: AlgorithmSuite) -> Self {
        EncryptOptions {
            suite: Some(suite),
            commitment_policy: if suite.message_version() == 1 {
                CommitmentPolicy::ForbidEncryptAllowDecrypt
            } else {
                CommitmentPolicy::RequireEncryptRequireDecrypt
            },
            ..EncryptOptions::default()
        }
    }
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions {
            encryption_context: EncryptionContext::new(),
            required_encryption_context_keys: Vec::new(),
            suite: None,
            frame_length: DEFAULT_FRAME_LENGTH,
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: MaxEncryptedDataKeys::default(),
            plaintext_length: None,
            parallelism: Parallelism::default(),
        }
    }
}

/// Incremental encryption: feed plaintext with [`update`](Self::update),
/// collect ciphertext, call [`finish`](Self::finish) once. Memory stays
/// bounded by the frame length whatever the input size (by a batch of
/// [`Parallelism::stream_batch`] bytes when it
/// [gathers](Self::gather_batches) small pieces for several threads).
pub struct Encryptor {
    header: Header,
    key: AesGcmKey,
    signer: Option<(EcdsaSigningKey, Hasher)>,
    header_bytes: Option<Vec<u8>>,
    pending: Vec<u8>,
    aad: Vec<u8>,
    frame_length: usize,
    seq: u32,
    state: State,
    // The plaintext length the caller declared (`plaintext_length`), which
    // a caching materials manager counted against its byte limit: the
    // message must be exactly that long, as the AWS Encryption SDKs
    // enforce.
    declared: Option<u64>,
    consumed: u64,
    parallelism: Parallelism,
    /// Plaintext gathered into `pending` from small calls before whole
    /// frames are sealed, so that they make a batch worth several threads
    /// (0: every call seals what frames it completes). See
    /// [`gather_batches`](Encryptor::gather_batches).
    gather: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    Failed,
}

crate::secret::debug_hiding_secrets!(Encryptor {
    suite: |e| e.header.suite,
    frame_length,
    state
});

impl Encryptor {
    /// Obtains materials and prepares the header. Nothing is written until
    /// the first call to `update` or `finish`.
    pub fn new(cmm: &dyn MaterialsManager, options: &EncryptOptions) -> Result<Self> {
        if options.frame_length == 0 {
            return Err(Error::InvalidArgument(
                "frame length must be at least 1".into(),
            ));
        }
        context::check_no_reserved_keys(&options.encryption_context)?;
        if let Some(s) = options.suite {
            options.commitment_policy.check_encrypt(s)?;
        }
        // One draw of the generator for the data key, the message ID and a
        // raw AES keyring's IV, instead of one each (crypto/random.rs).
        let _random = crypto::RandomReserve::open(match options.suite {
            Some(s) => s.data_key_len() + s.message_id_len() + GCM_IV_LEN,
            None => 32 + 32 + GCM_IV_LEN,
        })?;
        let materials = cmm.get_encryption_materials(EncryptionMaterialsRequest {
            encryption_context: options.encryption_context.clone(),
            suite: options.suite,
            commitment_policy: options.commitment_policy,
            required_encryption_context_keys: options.required_encryption_context_keys.clone(),
            plaintext_length: options.plaintext_length,
        })?;
        // The message ID is drawn here, while `_random` is open.
        Self::with_materials(materials, options, None)
    }

    /// The rest of [`new`](Self::new) once the materials are there; the
    /// message ID is random unless given (tests that compare two
    /// encryptions byte for byte give one).
    pub(crate) fn with_materials(
        mut materials: EncryptionMaterials,
        options: &EncryptOptions,
        message_id: Option<Vec<u8>>,
    ) -> Result<Self> {
        let suite = materials.suite;
        options.commitment_policy.check_encrypt(suite)?;
        let max = options
            .max_encrypted_data_keys
            .get()
            .unwrap_or(u16::MAX as usize);
        let found = materials.encrypted_data_keys.len();
        if found > max {
            return Err(Error::TooManyEncryptedDataKeys { max, found });
        }
        if suite.signature().is_some() != materials.signing_key.is_some() {
            return Err(Error::EncryptFailed(
                "materials do not match the suite's signing".into(),
            ));
        }
        let data_key = materials
            .plaintext_data_key
            .as_ref()
            .ok_or_else(|| Error::EncryptFailed("no data key".into()))?;
        let message_id = match message_id {
            Some(id) => id,
            None => crypto::random_vec(suite.message_id_len())?,
        };
        let keys = derive_keys(suite, data_key, &message_id)?;

        // Required keys are authenticated but not stored.
        let mut stored = std::mem::take(&mut materials.encryption_context);
        let mut only_authenticated = EncryptionContext::new();
        for k in &materials.required_encryption_context_keys {
            if let Some(v) = stored.remove(k) {
                only_authenticated.insert(k.clone(), v);
            }
        }
        let header = Header {
            suite,
            message_id,
            encryption_context: stored,
            encrypted_data_keys: materials.encrypted_data_keys,
            content_type: ContentType::Framed,
            frame_length: options.frame_length,
            commitment: keys.commitment,
        };
        let header_bytes =
            super::rewrap::authenticated_header(&header, &only_authenticated, &keys)?;

        let signer = match (materials.signing_key, suite.signature()) {
            (Some(k), Some((_, hash))) => {
                let mut h = Hasher::new(hash);
                h.update(&header_bytes);
                Some((k, h))
            }
            _ => None,
        };
        Ok(Encryptor {
            header,
            key: keys.content_key,
            signer,
            header_bytes: Some(header_bytes),
            pending: Vec::new(),
            aad: Vec::with_capacity(128),
            frame_length: options.frame_length as usize,
            seq: 1,
            state: State::Open,
            declared: options.plaintext_length,
            consumed: 0,
            parallelism: options.parallelism,
            gather: 0,
        })
    }

    /// The header this message is written with.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Encrypts `input`, appending whatever ciphertext is complete to `out`.
    /// The last (up to one frame of) plaintext is held back for `finish`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        let r = self
            .count(input.len())
            .and_then(|()| self.update_inner(input, out));
        if r.is_err() {
            self.fail();
        }
        r
    }

    /// For streams fed in small pieces, on many cores: `update` gathers
    /// plaintext until it holds more than a batch of
    /// [`Parallelism::stream_batch`] bytes, then seals its whole frames at
    /// once, on several threads. Ciphertext then comes out a batch at a time
    /// (or at [`flush`](Self::flush)), and the encryptor holds up to a batch
    /// of plaintext (wiped) instead of one frame. The ciphertext is the same
    /// bytes either way. Does nothing when the options allow one thread
    /// only (`threads=1`, or one core) or when two frames do not fit in a
    /// batch.
    ///
    /// Not what the writers of the bindings do: on the 2-core machine of
    /// `make bench-parallel`, gathered batches on two threads ran at 0.67x
    /// to 1.21x the speed of one thread sealing each 64 KiB piece as it
    /// comes (its buffers stay in the core's cache), over three runs: no
    /// steady gain for 4 MiB of plaintext held per stream. Measure on
    /// yours.
    pub fn gather_batches(&mut self) {
        let batch = self.parallelism.stream_batch();
        self.gather = match batch {
            Some(b) if self.frame_length <= b / 2 => b,
            _ => 0,
        };
        // At most a batch and one byte wait: reserved once, exactly (grown
        // by doubling, it would end at twice that).
        crate::secret::reserve_wiping(&mut self.pending, self.gather + 1);
    }

    /// Plaintext bytes held back, and the capacity holding them (tests of
    /// the memory bound).
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.pending.len(), self.pending.capacity())
    }

    /// Seals the whole frames of the plaintext gathered so far (see
    /// [`gather_batches`](Self::gather_batches)), keeping back at most one
    /// frame for [`finish`](Self::finish): for a writer over a gathering
    /// encryptor to call from its own `flush`.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        self.emit_header(out);
        let r = self.write_pending(out);
        if r.is_err() {
            self.fail();
        }
        r
    }

    fn update_inner(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        if self.gather > 0 {
            if input.len() > self.gather {
                // A piece larger than a batch is sealed from where it is
                // (below), after the whole frames that wait: at most one
                // frame is left, which it completes first.
                self.write_pending(out)?;
            } else {
                // A smaller one is gathered, up to a batch and one byte (a
                // frame followed by nothing must become the final frame);
                // each time that is reached, its whole frames are sealed.
                while !input.is_empty() {
                    let take = (self.gather + 1)
                        .saturating_sub(self.pending.len())
                        .min(input.len());
                    crate::secret::reserve_wiping(&mut self.pending, take);
                    self.pending.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if self.pending.len() > self.gather {
                        // Leaves at most one frame (and at least one byte).
                        self.write_pending(out)?;
                    }
                }
                return Ok(());
            }
        }
        let fl = self.frame_length;
        // Complete a partial frame first.
        if !self.pending.is_empty() {
            let need = fl - self.pending.len();
            if input.len() <= need {
                crate::secret::reserve_wiping(&mut self.pending, input.len());
                self.pending.extend_from_slice(input);
                return Ok(());
            }
            crate::secret::reserve_wiping(&mut self.pending, need);
            self.pending.extend_from_slice(&input[..need]);
            input = &input[need..];
            self.with_pending(|e, frame| e.write_frame(frame, false, out))?;
            self.pending.clear();
        }
        let used = self.write_whole_frames(input, out)?;
        input = &input[used..];
        crate::secret::reserve_wiping(&mut self.pending, input.len());
        self.pending.extend_from_slice(input);
        Ok(())
    }

    /// Seals the whole frames of `input` straight from where it is (on
    /// several threads when they are enough), keeping at least one byte
    /// back: a frame followed by nothing must become the final frame.
    /// Returns how many bytes it sealed; at most one frame is left.
    fn write_whole_frames(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let fl = self.frame_length;
        let whole = input.len().saturating_sub(1) / fl;
        let threads = self.parallelism.threads_for(whole, whole * fl);
        let mut used = 0;
        if threads > 1 {
            self.write_frames_parallel(&input[..whole * fl], out, threads)?;
            used = whole * fl;
        }
        while input.len() - used > fl {
            self.write_frame(&input[used..used + fl], false, out)?;
            used += fl;
        }
        Ok(used)
    }

    /// Runs `work` over the plaintext waiting in `pending`, sealed from
    /// where it is, and puts the buffer back whatever the outcome: the
    /// encryptor wipes it, also after an error.
    fn with_pending<T>(&mut self, work: impl FnOnce(&mut Self, &[u8]) -> Result<T>) -> Result<T> {
        let pending = std::mem::take(&mut self.pending);
        let r = work(self, &pending);
        self.pending = pending;
        r
    }

    /// Seals the whole frames waiting in `pending` (at most one frame, and
    /// at least one byte if there was any, stays), and moves the rest to
    /// its start.
    fn write_pending(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.pending.len() <= self.frame_length {
            return Ok(());
        }
        let used = self.with_pending(|e, pending| e.write_whole_frames(pending, out))?;
        let rest = self.pending.len() - used;
        self.pending.copy_within(used.., 0);
        // What lies beyond stays in the buffer's capacity until the next
        // batch overwrites it; all of it is wiped with the encryptor (a
        // volatile wipe of every batch cost more than sealing it).
        self.pending.truncate(rest);
        Ok(())
    }

    /// Writes the final frame (and the footer of signed suites). The
    /// encryptor cannot be used afterwards.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        let r = self.check_complete().and_then(|()| self.finish_inner(out));
        if self.settle(&r) {
            self.fail();
        }
        r
    }

    fn finish_inner(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        // What gathering left waiting, but the final frame.
        self.write_pending(out)?;
        self.with_pending(|e, last| e.write_frame(last, true, out))?;
        if let Some(footer) = self.footer()? {
            out.extend_from_slice(&footer);
        }
        Ok(())
    }

    /// Counts `n` more bytes of plaintext against the declared length.
    fn count(&mut self, n: usize) -> Result<()> {
        self.consumed = self.consumed.saturating_add(n as u64);
        match self.declared {
            Some(d) if self.consumed > d => Err(Error::InvalidArgument(format!(
                "more plaintext than the declared plaintext_length of {d} bytes"
            ))),
            _ => Ok(()),
        }
    }

    /// At the end: the plaintext was as long as declared.
    fn check_complete(&self) -> Result<()> {
        match self.declared {
            Some(d) if self.consumed != d => Err(Error::InvalidArgument(format!(
                "the plaintext was {} bytes, not the declared plaintext_length of {d}",
                self.consumed
            ))),
            _ => Ok(()),
        }
    }

    fn check_open(&self) -> Result<()> {
        match self.state {
            State::Open => Ok(()),
            State::Finished => Err(Error::InvalidState(
                "the message is already finished".into(),
            )),
            State::Failed => Err(Error::InvalidState("a previous call failed".into())),
        }
    }

    /// Ends the message with the outcome of its last call: finished, or
    /// failed. Returns whether it failed (the caller then wipes).
    fn settle(&mut self, r: &Result<()>) -> bool {
        self.state = if r.is_ok() {
            State::Finished
        } else {
            State::Failed
        };
        r.is_err()
    }

    fn fail(&mut self) {
        self.state = State::Failed;
        crate::secret::wipe_vec(&mut self.pending);
    }

    fn emit_header(&mut self, out: &mut Vec<u8>) {
        if let Some(h) = self.header_bytes.take() {
            out.extend_from_slice(&h);
        }
    }

    fn write_frame(&mut self, plaintext: &[u8], last: bool, out: &mut Vec<u8>) -> Result<()> {
        let len = frame_prefix_len(last) + plaintext.len() + GCM_TAG_LEN;
        out.reserve(len);
        let start = out.len();
        self.seal_frame(plaintext, last, &mut out.spare_capacity_mut()[..len])?;
        // SAFETY: `seal_frame` wrote all `len` bytes, within the capacity
        // reserved above.
        unsafe { out.set_len(start + len) };
        self.hash(&out[start..]);
        Ok(())
    }

    /// Feeds message bytes to the signature's hash (signed suites).
    fn hash(&mut self, bytes: &[u8]) {
        if let Some((_, h)) = &mut self.signer {
            h.update(bytes);
        }
    }

    /// Seals whole regular frames of `plaintext` on `threads` threads,
    /// appended to `out` exactly as one thread writes them.
    fn write_frames_parallel(
        &mut self,
        plaintext: &[u8],
        out: &mut Vec<u8>,
        threads: usize,
    ) -> Result<()> {
        let fl = self.frame_length;
        let count = plaintext.len() / fl;
        let last_seq = u32::try_from(count)
            .ok()
            .and_then(|c| self.seq.checked_add(c))
            .filter(|&s| s < SEQUENCE_NUMBER_END);
        if last_seq.is_none() {
            return Err(Error::InvalidArgument(
                "message too long: out of frame sequence numbers".into(),
            ));
        }
        let start = out.len();
        parallel::seal_frames(
            &self.key,
            &self.header.message_id,
            self.seq,
            fl,
            plaintext,
            out,
            threads,
        )?;
        self.hash(&out[start..]);
        self.seq += count as u32;
        Ok(())
    }

    /// Writes the next frame of `plaintext` into `frame` (exactly its
    /// length; every byte written on success).
    fn seal_frame(
        &mut self,
        plaintext: &[u8],
        last: bool,
        frame: &mut [MaybeUninit<u8>],
    ) -> Result<()> {
        let seq = self.seq;
        if seq == SEQUENCE_NUMBER_END {
            return Err(Error::InvalidArgument(
                "message too long: out of frame sequence numbers".into(),
            ));
        }
        parallel::seal_frame(
            &self.key,
            &self.header.message_id,
            seq,
            last,
            plaintext,
            frame,
            &mut self.aad,
        )?;
        self.seq += 1;
        Ok(())
    }

    /// The exact length of what [`encrypt_all_into`](Self::encrypt_all_into)
    /// writes for `plaintext_len` bytes: header, every frame and, for suites
    /// with a signature, the footer (its signature is made at the static
    /// DER length, as the AWS Encryption SDK does). `None` once anything
    /// has been written, or when the plaintext needs more frames than the
    /// format numbers.
    pub fn exact_message_len(&self, plaintext_len: usize) -> Option<usize> {
        if self.state != State::Open || !self.pending.is_empty() {
            return None;
        }
        let header = self.header_bytes.as_ref()?.len();
        let fl = self.frame_length;
        let regular = self.regular_frames(plaintext_len);
        if regular >= (SEQUENCE_NUMBER_END - 1) as usize {
            return None;
        }
        let final_len = plaintext_len - regular * fl;
        header
            .checked_add(regular.checked_mul(frame_prefix_len(false) + fl + GCM_TAG_LEN)?)?
            .checked_add(frame_prefix_len(true) + final_len + GCM_TAG_LEN)?
            .checked_add(self.footer_len())
    }

    /// The footer's length: the signature's length (2 bytes) and the
    /// signature at its static DER length; 0 without a signature.
    fn footer_len(&self) -> usize {
        self.signer
            .as_ref()
            .map_or(0, |(key, _)| 2 + key.curve().static_der_signature_len())
    }

    /// Signs what the hasher has seen (header and every frame) and returns
    /// the footer: the signature's length, then the signature.
    fn footer(&mut self) -> Result<Option<Vec<u8>>> {
        let Some((key, hasher)) = self.signer.take() else {
            return Ok(None);
        };
        let sig = key.sign_digest_static_der(&hasher.finalize())?;
        let mut footer = Vec::with_capacity(2 + sig.len());
        footer.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        footer.extend_from_slice(&sig);
        Ok(Some(footer))
    }

    /// Encrypts all of `plaintext` as the whole message straight into `out`,
    /// which must be exactly [`exact_message_len`](Self::exact_message_len)
    /// bytes: for callers that own the output buffer (the Python package
    /// writes into a `bytes` object), saving a copy of the message. The
    /// encryptor is finished afterwards; on error `out` holds no plaintext.
    pub fn encrypt_all_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        // Refused (a finished encryptor, a wrong length): `out` untouched.
        self.check_into(plaintext, out.len())?;
        // SAFETY: initialized bytes viewed as possibly uninitialized ones;
        // `encrypt_checked` writes only initialized bytes through the view.
        self.encrypt_checked(plaintext, unsafe {
            &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>])
        })
    }

    /// [`encrypt_all_into`](Self::encrypt_all_into) into memory that need
    /// not be initialized (the Python package's fresh `bytes` object):
    /// every byte is written, the message on success, zeros on any error.
    pub fn encrypt_all_into_uninit(
        &mut self,
        plaintext: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> Result<()> {
        if let Err(e) = self.check_into(plaintext, out.len()) {
            use zeroize::Zeroize;
            out.zeroize();
            return Err(e);
        }
        self.encrypt_checked(plaintext, out)
    }

    /// Whether a whole message of `plaintext` may be written into `len`
    /// bytes now.
    fn check_into(&self, plaintext: &[u8], len: usize) -> Result<()> {
        self.check_open()?;
        if self.exact_message_len(plaintext.len()) != Some(len) {
            return Err(Error::InvalidArgument(
                "the output buffer is not exactly the message length".into(),
            ));
        }
        Ok(())
    }

    /// Both `encrypt_all_into` forms once `check_into` passed: on error
    /// `out` is all zeros and the encryptor is failed.
    fn encrypt_checked(&mut self, plaintext: &[u8], out: &mut [MaybeUninit<u8>]) -> Result<()> {
        let r = self
            .count(plaintext.len())
            .and_then(|()| self.check_complete())
            .and_then(|()| self.encrypt_all_into_inner(plaintext, out));
        if self.settle(&r) {
            use zeroize::Zeroize;
            out.zeroize();
        }
        r
    }

    fn encrypt_all_into_inner(
        &mut self,
        plaintext: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> Result<()> {
        let header = self.header_bytes.take().unwrap_or_default();
        init_from(&mut out[..header.len()], &header);
        let mut at = header.len();
        let fl = self.frame_length;
        let regular = self.regular_frames(plaintext.len());
        let (whole, last) = plaintext.split_at(regular * fl);
        let threads = self.parallelism.threads_for(regular, whole.len());
        if threads > 1 {
            let len = regular * parallel::regular_frame_len(fl);
            let frames = &mut out[at..at + len];
            parallel::seal_frames_into(
                &self.key,
                &self.header.message_id,
                self.seq,
                fl,
                whole,
                frames,
                threads,
            )?;
            // SAFETY: `seal_frames_into` wrote every byte of `frames`.
            self.hash(unsafe { &*(frames as *const [MaybeUninit<u8>] as *const [u8]) });
            self.seq += regular as u32;
            at += len;
        } else {
            for chunk in whole.chunks_exact(fl) {
                at += self.put_frame(chunk, false, &mut out[at..])?;
            }
        }
        at += self.put_frame(last, true, &mut out[at..])?;
        let footer = self.footer()?;
        // Every byte is written: the layout is exactly what
        // exact_message_len counted, or this is an error (zeros).
        if at + footer.as_ref().map_or(0, Vec::len) != out.len() {
            return Err(Error::InvalidState("message of unexpected length".into()));
        }
        if let Some(footer) = footer {
            // sign_digest_static_der makes exactly the static length that
            // exact_message_len counted; a different one is refused rather
            // than written past or short of the message.
            let room = out
                .get_mut(at..)
                .filter(|rest| rest.len() == footer.len())
                .ok_or_else(|| Error::InvalidState("signature of unexpected length".into()))?;
            init_from(room, &footer);
        }
        Ok(())
    }

    /// How many regular frames a whole message of `plaintext_len` bytes
    /// has, as `update` + `finish` cut it: whole frames while more than one
    /// frame's worth remains, then a final frame of 0 ..= frame length.
    fn regular_frames(&self, plaintext_len: usize) -> usize {
        plaintext_len.saturating_sub(1) / self.frame_length
    }

    /// Encrypts all of `plaintext` as the whole message, appended to `out`
    /// (reserved up front, exactly). The
    /// encryptor is finished afterwards; on error `out` is as it was.
    pub fn encrypt_all_append(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let capacity = self.exact_message_len(plaintext.len()).unwrap_or_else(|| {
            let frames = self.regular_frames(plaintext.len()) + 1;
            plaintext.len() + frames * 36 + 1024
        });
        out.reserve(capacity);
        let mark = out.len();
        let r = self.update(plaintext, out).and_then(|()| self.finish(out));
        if r.is_err() {
            // A frame that failed to seal may hold plaintext.
            use zeroize::Zeroize;
            out[mark..].zeroize();
            out.truncate(mark);
        }
        r
    }

    /// Seals the next frame of `plaintext` into the start of `out`;
    /// returns the frame's length.
    fn put_frame(
        &mut self,
        plaintext: &[u8],
        last: bool,
        out: &mut [MaybeUninit<u8>],
    ) -> Result<usize> {
        let len = frame_prefix_len(last) + plaintext.len() + GCM_TAG_LEN;
        let frame = out
            .get_mut(..len)
            .ok_or_else(|| Error::InvalidState("frame layout".into()))?;
        self.seal_frame(plaintext, last, frame)?;
        // SAFETY: `seal_frame` wrote every byte of `frame`.
        self.hash(unsafe { &*(frame as *const [MaybeUninit<u8>] as *const [u8]) });
        Ok(len)
    }
}

impl Drop for Encryptor {
    fn drop(&mut self) {
        crate::secret::wipe_vec(&mut self.pending);
    }
}

/// Encrypts `plaintext` into one message.
///
/// ```
/// use std::sync::Arc;
/// use sealbox::{cmm::DefaultMaterialsManager, keyring::RawAesKeyring, message};
/// let keyring = Arc::new(RawAesKeyring::new("my-app", "key-1", &[7u8; 32])?);
/// let cmm = DefaultMaterialsManager::new(keyring);
/// let mut opts = message::EncryptOptions::default();
/// opts.encryption_context.insert("tenant".into(), "acme".into());
/// let ct = message::encrypt(b"card number", &cmm, &opts)?;
/// let res = message::decrypt(&ct, &cmm, &message::DecryptOptions::default())?;
/// assert_eq!(res.plaintext, b"card number");
/// assert_eq!(res.encryption_context["tenant"], "acme");
/// # Ok::<(), sealbox::Error>(())
/// ```
pub fn encrypt(
    plaintext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &EncryptOptions,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encrypt_append(plaintext, cmm, options, &mut out)?;
    Ok(out)
}

/// Encrypts `plaintext` into one message appended to `out`: for callers
/// that keep buffers across messages (the Node package does, so that a
/// 1 MiB message does not cost fresh pages every time). On error `out` is
/// as it was.
pub fn encrypt_append(
    plaintext: &[u8],
    cmm: &dyn MaterialsManager,
    options: &EncryptOptions,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut opts = options.clone();
    opts.plaintext_length = Some(plaintext.len() as u64);
    // Not `encrypt_all_into`: a zero-filled buffer costs a pass over the
    // memory that capacity alone does not.
    Encryptor::new(cmm, &opts)?.encrypt_all_append(plaintext, out)
}
