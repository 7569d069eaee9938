//! The frames of one large message sealed or opened on several threads.
//!
//! Frames are independent: each is sealed under the message's content key
//! with its own IV (its sequence number) and AAD (message ID, content
//! string, sequence number, length), so a run of whole frames can be split
//! between threads by frame and the bytes come out exactly as one thread
//! makes them. What stays sequential: the layout of the output (one pass
//! over fresh memory), the signature hash of signed suites (SHA-384 over
//! the message in order), and the final frame.

use std::mem::MaybeUninit;

pub(crate) use crate::crypto::init_from;
use std::num::NonZeroUsize;
use std::sync::OnceLock;

use crate::crypto::{AesGcmKey, GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};

use super::body::{body_aad, frame_iv, AAD_FINAL_FRAME, AAD_FRAME, SEQUENCE_NUMBER_END};
use super::decrypt::{open_unit, InputMemory, Sink};

/// How many threads seal or open the frames of one large message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Parallelism {
    /// The machine's cores, for a call that has at least
    /// [`PARALLEL_MIN_BYTES`] of whole frames to work on; one thread below
    /// that (the default).
    #[default]
    Auto,
    /// At most this many threads whenever a call has two or more whole
    /// frames (`1`: always the caller's thread alone).
    Threads(NonZeroUsize),
}

/// With [`Parallelism::Auto`], a call works on several threads from this
/// many bytes of whole frames up (below it, starting threads costs more
/// than it saves: `make bench-parallel` prints where two threads start to
/// pay, 1.1-1.2x at 1 MiB and 0.5-0.8x at 256-512 KiB on its 2 cores).
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// How much an encryptor that [gathers](super::Encryptor::gather_batches)
/// small pieces holds before it seals them on several threads: four times
/// [`PARALLEL_MIN_BYTES`], so that one thread start serves a few
/// milliseconds of work on each core. It bounds the memory such a stream
/// holds.
pub const STREAM_BATCH: usize = 4 * PARALLEL_MIN_BYTES;

impl Parallelism {
    /// One thread: the caller's.
    pub const SINGLE: Parallelism = Parallelism::Threads(NonZeroUsize::MIN);

    /// The batch a gathering stream collects from small pieces so that its
    /// frames are worked on by several threads ([`STREAM_BATCH`] bytes), or
    /// `None` when these options use one thread for it (`Threads(1)`, or
    /// `Auto` on one core); the CLI reads two batches at a time.
    pub fn stream_batch(self) -> Option<usize> {
        (self.threads_for(usize::MAX, STREAM_BATCH) > 1).then_some(STREAM_BATCH)
    }

    /// At most `n` threads (`0` is refused).
    pub fn threads(n: usize) -> Result<Self> {
        NonZeroUsize::new(n)
            .map(Parallelism::Threads)
            .ok_or_else(|| {
                Error::InvalidArgument("the number of threads must be at least 1".into())
            })
    }

    /// `Some(n)` as [`threads`](Self::threads), `None` as `Auto`.
    pub fn from_option(n: Option<usize>) -> Result<Self> {
        n.map_or(Ok(Parallelism::Auto), Self::threads)
    }

    /// Threads for `frames` whole frames of `bytes` bytes in all.
    pub(crate) fn threads_for(self, frames: usize, bytes: usize) -> usize {
        if frames < 2 {
            return 1;
        }
        match self {
            Parallelism::Auto if bytes < PARALLEL_MIN_BYTES => 1,
            Parallelism::Auto => cores().min(frames),
            Parallelism::Threads(n) => n.get().min(frames),
        }
    }
}

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Bytes of one regular frame: sequence number, IV, content, tag. The
/// frame length is read from a message's header (any `u32`): where `usize`
/// has 32 bits the sum saturates, a size no buffer holds, so that no frame
/// is counted instead of a wrapped, small size dividing the input.
pub(crate) const fn regular_frame_len(content: usize) -> usize {
    content.saturating_add(4 + GCM_IV_LEN + GCM_TAG_LEN)
}

/// Appends `count` units of `unit` bytes to `out`, each written by
/// `work(unit index, unit)` on `threads` scoped threads (the caller's
/// thread takes the first piece). The units are written into `out`'s spare
/// capacity: the threads touch the fresh memory first, so its page faults
/// and the kernel's zeroing are shared between them rather than done by one
/// thread in a `resize`. `work` must write its whole unit. On error
/// nothing is appended and the whole region is zeroed (it may hold
/// plaintext).
fn append_units<F>(
    out: &mut impl Sink,
    unit: usize,
    count: usize,
    threads: usize,
    work: F,
) -> Result<()>
where
    F: Fn(usize, &mut [MaybeUninit<u8>], &mut Vec<u8>) -> Result<()> + Sync,
{
    let len = unit
        .checked_mul(count)
        .ok_or_else(|| Error::InvalidArgument("message too long".into()))?;
    // Reserved first (a Vec's is wiping: a reallocation must not leave a
    // copy behind).
    let base = out.region(len)?.as_mut_ptr() as usize;
    let per = count.div_ceil(threads.max(1)).max(1);
    let run = |first: usize| -> Result<()> {
        let last = (first + per).min(count);
        let mut scratch = Vec::with_capacity(128);
        for i in first..last {
            // SAFETY: unit `i` lies within the `len` bytes of spare
            // capacity reserved above, and each index is handed to exactly
            // one thread: no two slices overlap.
            let slot = unsafe {
                std::slice::from_raw_parts_mut((base as *mut MaybeUninit<u8>).add(i * unit), unit)
            };
            work(i, slot, &mut scratch)?;
        }
        Ok(())
    };
    let result = in_pieces(
        (0..threads)
            .map(|t| (t * per, t * per))
            .filter(|&(f, _)| f < count),
        |_, first| run(first),
    );
    match result {
        Ok(()) => {
            // SAFETY: every unit of the `len` bytes of the region was
            // written whole by the threads above (`work`'s contract).
            unsafe { out.commit(len) };
            Ok(())
        }
        Err(e) => {
            // SAFETY: the region lies within the reserved capacity; writing
            // zeros initializes whatever a failing thread did not reach.
            unsafe { std::ptr::write_bytes(base as *mut u8, 0, len) };
            Err(e)
        }
    }
}

#[cfg(test)]
thread_local! {
    /// How many times this thread ran work on more than one thread (tests
    /// that must show a path reached several threads read it).
    pub(crate) static SPREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `work(first unit, piece)` for every piece on scoped threads, the
/// first piece on the caller's thread; the first error wins (a panicking
/// thread is an error).
fn in_pieces<T: Send>(
    pieces: impl Iterator<Item = (usize, T)>,
    work: impl Fn(usize, T) -> Result<()> + Sync,
) -> Result<()> {
    let mut pieces = pieces;
    let first = pieces.next();
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = pieces
            .map(|(at, piece)| s.spawn(move || work(at, piece)))
            .collect();
        #[cfg(test)]
        if !handles.is_empty() {
            SPREAD.with(|c| c.set(c.get() + 1));
        }
        let mut result = first.map_or(Ok(()), |(at, piece)| work(at, piece));
        for h in handles {
            let r = h
                .join()
                .unwrap_or_else(|_| Err(Error::InvalidState("a frame thread panicked".into())));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// Seals `plaintext` (whole frames of `content` bytes) as regular frames
/// numbered from `first_seq`, appended to `out` exactly as one thread
/// writes them.
pub(crate) fn seal_frames(
    key: &AesGcmKey,
    message_id: &[u8],
    first_seq: u32,
    content: usize,
    plaintext: &[u8],
    out: &mut Vec<u8>,
    threads: usize,
) -> Result<()> {
    let size = regular_frame_len(content);
    let count = plaintext.len() / content;
    if plaintext.len() != count * content {
        return Err(Error::InvalidState("frame layout".into()));
    }
    append_units(out, size, count, threads, |i, frame, aad| {
        let pt = &plaintext[i * content..(i + 1) * content];
        seal_frame(key, message_id, first_seq + i as u32, false, pt, frame, aad)
    })
}

/// Writes frame `seq` of `plaintext` into `frame` (its exact length, every
/// byte written): for a regular frame the sequence number and the IV, for
/// the final frame (`last`) the end marker, the sequence number, the IV and
/// the content length; then the content, sealed straight from
/// `plaintext`, and the tag.
pub(crate) fn seal_frame(
    key: &AesGcmKey,
    message_id: &[u8],
    seq: u32,
    last: bool,
    plaintext: &[u8],
    frame: &mut [MaybeUninit<u8>],
    aad: &mut Vec<u8>,
) -> Result<()> {
    let iv = frame_iv(seq);
    let mut prefix = [0u8; FINAL_FRAME_PREFIX_LEN];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        prefix[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    if last {
        put(&SEQUENCE_NUMBER_END.to_be_bytes());
    }
    put(&seq.to_be_bytes());
    put(&iv);
    if last {
        let len = u32::try_from(plaintext.len())
            .map_err(|_| Error::InvalidState("frame layout".into()))?;
        put(&len.to_be_bytes());
    }
    let (head, rest) = frame.split_at_mut(at);
    init_from(head, &prefix[..at]);
    let (body, tag_room) = rest.split_at_mut(plaintext.len());
    let content = if last { AAD_FINAL_FRAME } else { AAD_FRAME };
    body_aad(aad, message_id, content, seq, plaintext.len() as u64);
    let tag = key.seal_to(&iv, aad, plaintext, body)?;
    init_from(tag_room, &tag);
    Ok(())
}

/// Bytes before a frame's content: the sequence number and IV of a
/// regular frame; the end marker, sequence number, IV and content length
/// of the final frame.
pub(crate) const fn frame_prefix_len(last: bool) -> usize {
    if last {
        FINAL_FRAME_PREFIX_LEN
    } else {
        4 + GCM_IV_LEN
    }
}

const FINAL_FRAME_PREFIX_LEN: usize = 4 + 4 + GCM_IV_LEN + 4;

/// [`seal_frames`] into `out`, a buffer the caller owns that is exactly
/// the frames' length (the exact-length one-shot path), every byte of
/// which is written on success.
pub(crate) fn seal_frames_into(
    key: &AesGcmKey,
    message_id: &[u8],
    first_seq: u32,
    content: usize,
    plaintext: &[u8],
    out: &mut [MaybeUninit<u8>],
    threads: usize,
) -> Result<()> {
    let size = regular_frame_len(content);
    let count = plaintext.len() / content;
    if plaintext.len() != count * content || out.len() != count * size {
        return Err(Error::InvalidState("frame layout".into()));
    }
    let per = count.div_ceil(threads.max(1)).max(1);
    let seal = |first: usize, piece: &mut [MaybeUninit<u8>]| -> Result<()> {
        let mut aad = Vec::with_capacity(128);
        for (j, frame) in piece.chunks_exact_mut(size).enumerate() {
            let i = first + j;
            let pt = &plaintext[i * content..(i + 1) * content];
            seal_frame(
                key,
                message_id,
                first_seq + i as u32,
                false,
                pt,
                frame,
                &mut aad,
            )?;
        }
        Ok(())
    };
    in_pieces(
        out.chunks_mut(per * size)
            .enumerate()
            .map(|(t, piece)| (t * per, piece)),
        seal,
    )
}

/// Opens regular frames laid out in `frames` (already checked: sequence
/// numbers from `first_seq`, IVs, whole frames of `content` bytes),
/// appending their plaintext to `out`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn open_frames(
    key: &AesGcmKey,
    message_id: &[u8],
    first_seq: u32,
    content: usize,
    frames: &[u8],
    memory: InputMemory,
    out: &mut impl Sink,
    threads: usize,
) -> Result<()> {
    let size = regular_frame_len(content);
    let count = frames.len() / size;
    if frames.len() != count * size {
        return Err(Error::InvalidState("frame layout".into()));
    }
    append_units(out, content, count, threads, |i, slot, aad| {
        let seq = first_seq + i as u32;
        let frame = &frames[i * size..(i + 1) * size];
        let ct = &frame[4 + GCM_IV_LEN..4 + GCM_IV_LEN + content];
        let tag = &frame[4 + GCM_IV_LEN + content..];
        body_aad(aad, message_id, AAD_FRAME, seq, content as u64);
        open_unit(key, &frame_iv(seq), aad, ct, tag, slot, memory)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cmm::{DefaultMaterialsManager, EncryptionMaterialsRequest, MaterialsManager};
    use crate::keyring::RawAesKeyring;
    use crate::message::{
        decrypt, CommitmentPolicy, DecryptOptions, EncryptOptions, Encryptor, ALL_SUITES,
    };

    fn cmm() -> DefaultMaterialsManager {
        DefaultMaterialsManager::new(Arc::new(
            RawAesKeyring::new("parallel", "k", &[9; 32]).unwrap(),
        ))
    }

    #[test]
    fn a_frame_length_near_the_top_of_usize_saturates() {
        assert_eq!(regular_frame_len(4096), 4096 + 32);
        assert_eq!(regular_frame_len(usize::MAX - 31), usize::MAX);
        // What a 32-bit usize would meet with a header's largest length.
        assert_eq!(regular_frame_len(usize::MAX - 4), usize::MAX);
        assert_eq!(regular_frame_len(usize::MAX), usize::MAX);
    }

    /// Materials for `suite` under `base`'s commitment policy, to encrypt
    /// the same message ID and data key more than once.
    fn materials(
        cmm: &DefaultMaterialsManager,
        suite: crate::AlgorithmSuite,
        base: &EncryptOptions,
    ) -> crate::materials::EncryptionMaterials {
        cmm.get_encryption_materials(EncryptionMaterialsRequest {
            encryption_context: Default::default(),
            suite: Some(suite),
            commitment_policy: base.commitment_policy,
            required_encryption_context_keys: Vec::new(),
            plaintext_length: None,
        })
        .unwrap()
    }

    fn policy(suite: crate::AlgorithmSuite) -> CommitmentPolicy {
        if suite.is_committing() {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        }
    }

    /// One message of `pt` with `parallelism`, from the given materials and
    /// message ID, fed to `update` in `pieces`.
    fn encrypt_with(
        m: &crate::materials::EncryptionMaterials,
        id: &[u8],
        options: &EncryptOptions,
        pt: &[u8],
        pieces: usize,
        exact: bool,
    ) -> Vec<u8> {
        let mut e =
            Encryptor::with_materials(m.try_clone().unwrap(), options, Some(id.to_vec())).unwrap();
        if exact {
            let n = e.exact_message_len(pt.len()).unwrap();
            let mut out = vec![0u8; n];
            e.encrypt_all_into(pt, &mut out).unwrap();
            return out;
        }
        let mut out = Vec::new();
        for chunk in pt.chunks(pt.len().div_ceil(pieces).max(1)) {
            e.update(chunk, &mut out).unwrap();
        }
        e.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn parallel_and_single_threaded_outputs_are_byte_identical() {
        let cmm = cmm();
        for suite in ALL_SUITES {
            for frame in [1u32, 64, 4096] {
                let f = frame as usize;
                for n in [0, 1, f, f + 1, 2 * f, 7 * f + 3, 40 * f] {
                    let pt: Vec<u8> = (0..n).map(|i| (i * 13) as u8).collect();
                    let base = EncryptOptions {
                        frame_length: frame,
                        parallelism: Parallelism::SINGLE,
                        ..EncryptOptions::for_suite(suite)
                    };
                    let m = materials(&cmm, suite, &base);
                    let id = vec![3u8; suite.message_id_len()];
                    let single = encrypt_with(&m, &id, &base, &pt, 1, false);
                    let sig = if suite.signature().is_some() { 105 } else { 0 };
                    for threads in [2usize, 3, 8] {
                        let opts = EncryptOptions {
                            parallelism: Parallelism::threads(threads).unwrap(),
                            ..base.clone()
                        };
                        for (pieces, exact) in [(1, false), (3, false), (1, true)] {
                            let par = encrypt_with(&m, &id, &opts, &pt, pieces, exact);
                            let what = format!(
                                "suite {suite} frame {frame} size {n} threads {threads} pieces {pieces} exact {exact}"
                            );
                            assert_eq!(par.len(), single.len(), "{what}");
                            // ECDSA signatures are randomized: everything
                            // before the footer is the same, and both verify.
                            assert_eq!(
                                par[..par.len() - sig],
                                single[..single.len() - sig],
                                "{what}"
                            );
                            for p in [Parallelism::SINGLE, Parallelism::threads(threads).unwrap()] {
                                let d = DecryptOptions {
                                    commitment_policy: policy(suite),
                                    parallelism: p,
                                    ..DecryptOptions::default()
                                };
                                assert_eq!(
                                    decrypt(&par, &cmm, &d).unwrap().plaintext,
                                    pt,
                                    "{what}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `f`, returning what it returned and how many times it spread
    /// work over several threads.
    fn spread<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = SPREAD.with(|c| c.get());
        let r = f();
        (r, SPREAD.with(|c| c.get()) - before)
    }

    #[test]
    fn a_stream_in_small_pieces_is_sealed_in_batches_on_several_threads() {
        assert_eq!(Parallelism::SINGLE.stream_batch(), None);
        assert_eq!(
            Parallelism::threads(2).unwrap().stream_batch(),
            Some(STREAM_BATCH)
        );
        let cmm = cmm();
        let two = Parallelism::threads(2).unwrap();
        for suite in [
            crate::AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            crate::AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            let sig = if suite.signature().is_some() { 105 } else { 0 };
            for frame in [4096u32, crate::message::DEFAULT_FRAME_LENGTH, 1 << 20] {
                let base = EncryptOptions {
                    frame_length: frame,
                    parallelism: Parallelism::SINGLE,
                    ..EncryptOptions::for_suite(suite)
                };
                let m = materials(&cmm, suite, &base);
                let id = vec![5u8; suite.message_id_len()];
                let n = 2 * STREAM_BATCH + 12_345;
                let pt: Vec<u8> = (0..n).map(|i| (i * 7 + i / 4099) as u8).collect();
                let single = encrypt_with(&m, &id, &base, &pt, 1, false);
                let opts = EncryptOptions {
                    parallelism: two,
                    ..base.clone()
                };
                // Small pieces only (8 KiB and odd sizes), then small
                // pieces with one larger than a batch among them; a flush
                // half-way in both.
                let mut par = Vec::new();
                for sizes in [
                    &[8192usize, 65_537, 3, 1, 8192][..],
                    &[8192, STREAM_BATCH + 7, 1],
                ] {
                    let mut cuts = vec![0usize];
                    while cuts[cuts.len() - 1] < n {
                        let at = cuts[cuts.len() - 1] + sizes[(cuts.len() - 1) % sizes.len()];
                        cuts.push(at.min(n));
                    }
                    let (out, spread_count) = spread(|| {
                        let mut e = Encryptor::with_materials(
                            m.try_clone().unwrap(),
                            &opts,
                            Some(id.clone()),
                        )
                        .unwrap();
                        e.gather_batches();
                        let mut out = Vec::new();
                        for (i, w) in cuts.windows(2).enumerate() {
                            e.update(&pt[w[0]..w[1]], &mut out).unwrap();
                            // At most a batch (and a byte) waits, in a
                            // buffer of that size.
                            let (held, room) = e.held();
                            assert!(held <= STREAM_BATCH + 1, "{held}");
                            assert_eq!(room, STREAM_BATCH + 1);
                            if i == cuts.len() / 2 {
                                e.flush(&mut out).unwrap();
                                assert!(e.held().0 <= frame as usize);
                            }
                        }
                        e.finish(&mut out).unwrap();
                        out
                    });
                    let what = format!("suite {suite} frame {frame} pieces {sizes:?}");
                    assert_eq!(out.len(), single.len(), "{what}");
                    assert_eq!(
                        out[..out.len() - sig],
                        single[..single.len() - sig],
                        "{what}"
                    );
                    // Sealed a batch at a time on two threads: a few times,
                    // not once per piece (two threads take any piece of two
                    // frames or more when nothing is gathered).
                    assert!(
                        (2..=n / STREAM_BATCH + 3).contains(&spread_count),
                        "{what}: {spread_count} runs on several threads"
                    );
                    par = out;
                }
                let what = format!("suite {suite} frame {frame}");
                let d = DecryptOptions {
                    commitment_policy: policy(suite),
                    ..DecryptOptions::default()
                };
                assert_eq!(decrypt(&par, &cmm, &d).unwrap().plaintext, pt, "{what}");
                // Read back through the reader, on two threads.
                let d2 = DecryptOptions {
                    parallelism: two,
                    ..d.clone()
                };
                let mut r =
                    crate::message::DecryptingReader::new(&par[..], Arc::new(cmm.clone()), d2);
                let mut read = Vec::new();
                std::io::Read::read_to_end(&mut r, &mut read).unwrap();
                assert_eq!(read, pt, "{what}");
            }
        }
        // With one thread nothing is gathered: each piece's frames come out.
        let mut e = Encryptor::new(
            &cmm,
            &EncryptOptions {
                parallelism: Parallelism::SINGLE,
                frame_length: 1024,
                ..EncryptOptions::default()
            },
        )
        .unwrap();
        e.gather_batches();
        let mut out = Vec::new();
        e.update(&[1u8; 4096], &mut out).unwrap();
        assert!(e.held().0 <= 1024);
        // Edges of a gathering stream, against one thread byte for byte:
        // nothing, whole frames only, exactly a batch, a batch and a byte,
        // and a declared length.
        let base = EncryptOptions {
            frame_length: 4096,
            parallelism: Parallelism::SINGLE,
            ..EncryptOptions::default()
        };
        let m = materials(
            &cmm,
            crate::AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            &base,
        );
        let id = vec![6u8; 32];
        for n in [
            0usize,
            1,
            40 * 4096,
            STREAM_BATCH,
            STREAM_BATCH + 1,
            STREAM_BATCH + 4096,
        ] {
            let pt: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let single = encrypt_with(&m, &id, &base, &pt, 1, false);
            for declared in [None, Some(n as u64)] {
                let opts = EncryptOptions {
                    parallelism: Parallelism::threads(2).unwrap(),
                    plaintext_length: declared,
                    ..base.clone()
                };
                let mut e =
                    Encryptor::with_materials(m.try_clone().unwrap(), &opts, Some(id.clone()))
                        .unwrap();
                e.gather_batches();
                let mut out = Vec::new();
                for piece in pt.chunks(8192) {
                    e.update(piece, &mut out).unwrap();
                }
                e.finish(&mut out).unwrap();
                assert!(out == single, "size {n} declared {declared:?}");
            }
        }
    }

    #[test]
    fn a_damaged_frame_fails_on_every_thread_count_and_leaves_nothing() {
        let cmm = cmm();
        let pt = vec![0x42u8; 64 * 1024];
        let opts = EncryptOptions {
            frame_length: 1024,
            ..EncryptOptions::default()
        };
        let ct = crate::message::encrypt(&pt, &cmm, &opts).unwrap();
        for at in [ct.len() / 3, ct.len() / 2, ct.len() - 200] {
            let mut bad = ct.clone();
            bad[at] ^= 1;
            for threads in [1usize, 2, 4] {
                let d = DecryptOptions {
                    parallelism: Parallelism::threads(threads).unwrap(),
                    ..DecryptOptions::default()
                };
                let mut out = b"kept".to_vec();
                let mut dec = crate::message::Decryptor::new(Arc::new(cmm.clone()), d);
                assert!(dec
                    .update(&bad, &mut out)
                    .and_then(|_| dec.finish(&mut out))
                    .is_err());
                // The failing update took back everything it wrote.
                assert_eq!(out, b"kept");
            }
        }
        assert!(Parallelism::threads(0).is_err());
        assert_eq!(Parallelism::Auto.threads_for(1000, 1000), 1);
        assert_eq!(Parallelism::threads(4).unwrap().threads_for(1, 1 << 30), 1);
    }
}
