//! Streaming 1 GiB through encrypt and then decrypt keeps the peak resident
//! set (VmHWM, read from /proc) under 32 MiB. Alone in its own test binary
//! so that no other test's allocations count.

use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{DecryptOptions, Decryptor, EncryptOptions, Encryptor, Parallelism};
use sealbox::AlgorithmSuite;

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A cheap deterministic byte stream (xorshift) so input need not be stored.
struct Stream(u64);
impl Stream {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// One thread and 64 KiB chunks: 1 GiB under 32 MiB; then four frame
/// threads and 4 MiB chunks (the CLI's parallel read size): 256 MiB more,
/// under 64 MiB (a few chunks in flight, whatever the stream's length).
#[test]
fn one_gib_streams_through_encrypt_and_decrypt_in_constant_memory() {
    let total: usize = std::env::var("SEALBOX_STREAM_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    stream(total, 64 * 1024, Parallelism::SINGLE, 32);
    stream(total / 4, 4 << 20, Parallelism::threads(4).unwrap(), 64);
}

fn stream(total: usize, chunk: usize, parallelism: Parallelism, bound_mib: u64) {
    #[allow(non_snake_case)]
    let CHUNK = chunk;
    let keyring = Arc::new(RawAesKeyring::new("mem", "k", &[9u8; 32]).unwrap());
    let cmm: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(keyring));
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        let opts = EncryptOptions {
            suite: Some(suite),
            parallelism,
            ..EncryptOptions::default()
        };
        let mut enc = Encryptor::new(cmm.as_ref(), &opts).unwrap();
        let dopts = DecryptOptions {
            parallelism,
            ..DecryptOptions::default()
        };
        let mut dec = Decryptor::new(cmm.clone(), dopts);
        let (mut src, mut check) = (Stream(0x9E37_79B9_7F4A_7C15), Stream(0x9E37_79B9_7F4A_7C15));
        let mut input = vec![0u8; CHUNK];
        let mut expect = Vec::with_capacity(2 * CHUNK);
        let (mut ct, mut pt) = (Vec::with_capacity(2 * CHUNK), Vec::with_capacity(2 * CHUNK));
        let (mut fed, mut verified) = (0usize, 0usize);
        let mut compare = |pt: &mut Vec<u8>, verified: &mut usize| {
            expect.resize(pt.len(), 0);
            check.fill(&mut expect);
            assert!(pt == &expect, "plaintext differs near byte {verified}");
            *verified += pt.len();
            pt.clear();
        };
        while fed < total {
            let n = CHUNK.min(total - fed);
            src.fill(&mut input[..n]);
            enc.update(&input[..n], &mut ct).unwrap();
            dec.update(&ct, &mut pt).unwrap();
            ct.clear();
            compare(&mut pt, &mut verified);
            fed += n;
        }
        enc.finish(&mut ct).unwrap();
        dec.update(&ct, &mut pt).unwrap();
        dec.finish(&mut pt).unwrap();
        compare(&mut pt, &mut verified);
        assert_eq!(verified, total);
        let hwm = vm_hwm_kib();
        println!(
            "{suite} ({parallelism:?}, {} KiB chunks): streamed {} MiB through encrypt and decrypt; peak RSS {} KiB",
            chunk >> 10,
            total >> 20,
            hwm
        );
        assert!(
            hwm < bound_mib * 1024,
            "peak RSS {hwm} KiB is not under {bound_mib} MiB"
        );
    }
}
