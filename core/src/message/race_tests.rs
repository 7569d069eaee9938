//! A signed message in memory that another thread rewrites during a call
//! (`InputMemory::MayChange`, as a binding's shared buffer can be): its
//! first frame switches between the signer's and one that a recipient
//! (who holds the data key, not the signing key) sealed itself. Whatever
//! succeeds must be the signer's message: each unit is read from the
//! caller's bytes once, and opened, hashed and written from that one copy.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::body::{body_aad, frame_iv, AAD_FRAME};
use super::decrypt::{decrypt_append, open_header, InputMemory};
use super::rewrap::{rewrap, RewrapOptions};
use super::{
    decrypt, encrypt, header, AlgorithmSuite, DecryptOptions, EncryptOptions, Parallelism,
};
use crate::cmm::DefaultMaterialsManager;
use crate::crypto::GCM_TAG_LEN;
use crate::error::Error;
use crate::keyring::RawAesKeyring;

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
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..1_000 {
            let mut out = Vec::new();
            match decrypt_append(
                racing.bytes(ct.len()),
                InputMemory::MayChange,
                &m,
                &d,
                &mut out,
            ) {
                Ok(_) => {
                    assert!(
                        out == pt,
                        "{threads} threads: a frame the signer did not sign was accepted"
                    );
                    accepted += 1;
                }
                Err(e) => {
                    assert_eq!(e, Error::DecryptionFailed);
                    assert!(out.is_empty());
                    refused += 1;
                }
            }
        }
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
