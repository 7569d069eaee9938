//! Messages in memory that another thread rewrites during a call
//! (`InputMemory::MayChange`, as a binding's shared buffer can be). A
//! header whose stored context switches to one its tag does not cover, and
//! a signed message whose first frame switches between the signer's and
//! one that a recipient (who holds the data key, not the signing key)
//! sealed itself. Whatever succeeds must be the authentic message: each
//! header and unit is read from the caller's bytes once, and parsed,
//! opened, hashed and written from that one copy.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::body::{body_aad, frame_iv, AAD_FRAME};
use super::decrypt::{decrypt_append, open_header, InputMemory};
use super::rewrap::{rewrap, RewrapOptions};
use super::{
    decrypt, encrypt, header, AlgorithmSuite, DecryptOptions, EncryptOptions, EncryptionContext,
    Parallelism,
};
use crate::cmm::DefaultMaterialsManager;
use crate::crypto::GCM_TAG_LEN;
use crate::error::Error;
use crate::keyring::{RawAesKeyring, RawRsaKeyring, RsaWrappingPadding};

/// A buffer that a writer thread switches between two versions of the
/// same length, as words, a few stores each time, leaving each version
/// whole for a while (about a microsecond) before the next switch.
struct Racing {
    cells: Arc<Vec<AtomicU64>>,
    len: usize,
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
}

impl Racing {
    fn new(a: &[u8], b: &[u8]) -> Self {
        assert_eq!(a.len(), b.len());
        let words = |b: &[u8]| -> Vec<u64> {
            let mut b = b.to_vec();
            b.resize(b.len().div_ceil(8) * 8, 0);
            b.chunks(8)
                .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
                .collect()
        };
        let (a, b) = (words(a), words(b));
        let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert!(!differ.is_empty());
        let len = a.len() * 8;
        let cells: Arc<Vec<AtomicU64>> = Arc::new(a.iter().map(|&w| AtomicU64::new(w)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (cells, stop) = (cells.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for v in [&b, &a] {
                        for &i in &differ {
                            cells[i].store(v[i], Ordering::Relaxed);
                        }
                        for _ in 0..20 {
                            std::hint::spin_loop();
                        }
                    }
                }
            })
        };
        Racing {
            cells,
            len,
            stop,
            writer: Some(writer),
        }
    }

    /// The buffer as the plain bytes a binding hands over. Formally these
    /// reads race with the writer's stores, as a binding's reads of a
    /// shared buffer do: which is what MayChange tells the core to expect.
    fn bytes(&self, len: usize) -> &[u8] {
        assert!(len <= self.len);
        // SAFETY (of the test's model): the words are `len` or more bytes
        // of initialised memory that lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.cells.as_ptr().cast::<u8>(), len) }
    }
}

impl Drop for Racing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.writer.take() {
            w.join().unwrap();
        }
    }
}

/// `rounds` decryptions of the first `len` bytes of `racing` as memory
/// that may change: `check` judges the plaintext and context of each that
/// succeeds; each that fails must fail with the one opaque error and
/// leave nothing in its output. Returns how many succeeded and failed.
fn decrypt_racing(
    racing: &Racing,
    len: usize,
    m: &DefaultMaterialsManager,
    d: &DecryptOptions,
    rounds: usize,
    check: impl Fn(&[u8], &EncryptionContext),
) -> (usize, usize) {
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..rounds {
        let mut out = Vec::new();
        match decrypt_append(racing.bytes(len), InputMemory::MayChange, m, d, &mut out) {
            Ok((_, context)) => {
                check(&out, &context);
                accepted += 1;
            }
            Err(e) => {
                assert_eq!(e, Error::DecryptionFailed);
                assert!(out.is_empty());
                refused += 1;
            }
        }
    }
    (accepted, refused)
}

fn cmm(key: u8) -> DefaultMaterialsManager {
    DefaultMaterialsManager::new(Arc::new(RawAesKeyring::new("ns", "k", &[key; 32]).unwrap()))
}

/// A signed message of 200 bytes in frames of 64, and the same message
/// with its first frame replaced by one sealed with the message's content
/// key (what a recipient can make).
fn signed_and_forged(m: &DefaultMaterialsManager) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let fl = 64usize;
    let eo = EncryptOptions {
        suite: Some(AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384),
        frame_length: fl as u32,
        ..EncryptOptions::default()
    };
    let pt: Vec<u8> = (0..200u8).collect();
    let ct = encrypt(&pt, m, &eo).unwrap();
    let parsed = header::parse(&ct, None).unwrap();
    let (_, keys) = open_header(m, &parsed, &DecryptOptions::default()).unwrap();
    let at = parsed.total_len + 4 + 12;
    let mut forged = ct.clone();
    let mut aad = Vec::new();
    body_aad(&mut aad, &parsed.header.message_id, AAD_FRAME, 1, fl as u64);
    forged[at..at + fl].fill(b'!');
    let tag = keys
        .content_key
        .seal_in_place(&frame_iv(1), &aad, &mut forged[at..at + fl])
        .unwrap();
    forged[at + fl..at + fl + GCM_TAG_LEN].copy_from_slice(tag.as_ref());
    // The forgery opens: only the signature tells it apart.
    let opened = decrypt(&forged, m, &DecryptOptions::default());
    assert_eq!(opened.err(), Some(Error::DecryptionFailed));
    (pt, ct, forged)
}

/// The stored context's value switches between the authentic `tenant-A`
/// and a `tenant-B` that the header tag does not authenticate. Every
/// decryption that succeeds must hand back `tenant-A`, for an unsigned and
/// a signed suite. The keyring is RSA's: its wrapping, unlike raw AES's,
/// does not bind the context, so only the header tag stands between a
/// changed context and the caller. (With the fields read apart from the
/// body the tag covers, `tenant-B` was handed back.)
#[test]
#[cfg_attr(
    not(feature = "aws-lc"),
    ignore = "the header's one read does not depend on the provider: run in the aws-lc pass"
)]
fn a_context_changed_during_decryption_is_never_handed_back() {
    let m = DefaultMaterialsManager::new(Arc::new(
        RawRsaKeyring::new(
            "ns",
            "rsa",
            RsaWrappingPadding::OaepSha256Mgf1,
            Some(include_str!("../../tests/data/rsa2048.pub.pem")),
            Some(include_str!("../../tests/data/rsa2048.pem")),
        )
        .unwrap(),
    ));
    let pt = vec![7u8; 100];
    for (suite, rounds) in [
        (AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, 600),
        (AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384, 400),
    ] {
        let eo = EncryptOptions {
            suite: Some(suite),
            encryption_context: [("tenant".to_string(), "tenant-A".to_string())].into(),
            ..EncryptOptions::default()
        };
        let ct = encrypt(&pt, &m, &eo).unwrap();
        let at = ct.windows(8).position(|w| w == b"tenant-A").unwrap() + 7;
        let mut other = ct.clone();
        other[at] = b'B';
        let racing = Racing::new(&ct, &other);
        let d = DecryptOptions::default();
        let (accepted, refused) =
            decrypt_racing(&racing, ct.len(), &m, &d, rounds, |out, context| {
                assert_eq!(
                    context.get("tenant").map(String::as_str),
                    Some("tenant-A"),
                    "{suite}: a context the header tag did not cover was handed back"
                );
                assert_eq!(out, pt);
            });
        println!("{suite}: {accepted} accepted, {refused} refused");
        // The authentic message must still decrypt while the byte is `A`.
        assert!(accepted > 0, "{suite}: nothing was accepted");
    }
}

/// A decryption that succeeds hands back the signer's plaintext, on one
/// thread (frame by frame) and on two (frames in batches). (Opened from
/// one read and hashed from another, the recipient's frame was accepted
/// under the signer's signature.)
#[test]
#[cfg_attr(
    not(feature = "aws-lc"),
    ignore = "one read per unit does not depend on the provider: run in the aws-lc pass"
)]
fn a_signed_message_changed_during_decryption_keeps_its_signers_frames() {
    let m = cmm(3);
    let (pt, ct, forged) = signed_and_forged(&m);
    let racing = Racing::new(&ct, &forged);
    for threads in [1, 2] {
        let d = DecryptOptions {
            parallelism: Parallelism::threads(threads).unwrap(),
            ..DecryptOptions::default()
        };
        let (accepted, refused) = decrypt_racing(&racing, ct.len(), &m, &d, 1_000, |out, _| {
            assert!(
                out == pt,
                "{threads} threads: a frame the signer did not sign was accepted"
            );
        });
        println!("{threads} threads: {accepted} accepted, {refused} refused");
        // The signer's message must still decrypt while it is whole.
        assert!(accepted > 0, "{threads} threads: nothing was accepted");
    }
}

/// A rewrap that succeeds writes the signer's message under its new
/// signature. (Written from one read and hashed for the old signature
/// from another, the rewrap put out messages it had not verified: torn
/// ones, or the recipient's frame under the rewrap's new signature.)
#[test]
#[cfg_attr(
    not(feature = "aws-lc"),
    ignore = "one read per unit does not depend on the provider: run in the aws-lc pass"
)]
fn a_signed_message_changed_during_a_rewrap_is_rewrapped_as_signed() {
    let m = cmm(5);
    let (pt, ct, forged) = signed_and_forged(&m);
    let racing = Racing::new(&ct, &forged);
    let to = RawAesKeyring::new("ns", "k2", &[6; 32]).unwrap();
    let new_cmm =
        DefaultMaterialsManager::new(Arc::new(RawAesKeyring::new("ns", "k2", &[6; 32]).unwrap()));
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..400 {
        match rewrap(racing.bytes(ct.len()), &m, &to, &RewrapOptions::default()) {
            Ok((out, _)) => {
                let opened = decrypt(&out, &new_cmm, &DecryptOptions::default())
                    .expect("a rewrapped message that does not decrypt");
                assert!(
                    opened.plaintext == pt,
                    "a frame the signer did not sign was rewrapped as signed"
                );
                accepted += 1;
            }
            Err(e) => {
                assert_eq!(e, Error::DecryptionFailed);
                refused += 1;
            }
        }
    }
    println!("rewrap: {accepted} accepted, {refused} refused");
    assert!(accepted > 0, "nothing was rewrapped");
}
