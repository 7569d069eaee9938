//! Streaming 1 GiB through encrypt and then decrypt keeps the peak resident
//! set (VmHWM, read from /proc) under 32 MiB, and larger pieces on four
//! threads under 64 MiB. Alone in its own test binary
//! so that no other test's allocations count.

use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{
    DecryptOptions, DecryptingReader, Decryptor, EncryptOptions, EncryptingWriter, Encryptor,
    Parallelism,
};
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

/// The plaintext a stage expects: the deterministic stream from `seed`,
/// checked piece by piece as it comes out.
struct Expected {
    stream: Stream,
    buf: Vec<u8>,
    verified: usize,
}

impl Expected {
    fn new(seed: u64) -> Self {
        Expected {
            stream: Stream(seed),
            buf: Vec::new(),
            verified: 0,
        }
    }

    /// Checks that `got` is what the stream holds next.
    fn check(&mut self, got: &[u8]) {
        self.buf.resize(got.len(), 0);
        self.stream.fill(&mut self.buf);
        assert!(
            got == &self.buf[..],
            "plaintext differs near byte {}",
            self.verified
        );
        self.verified += got.len();
    }
}

/// Prints the peak resident set after `what` and holds it under
/// `bound_mib`.
fn peak_under(what: &str, bound_mib: u64) {
    let hwm = vm_hwm_kib();
    println!("{what}; peak RSS {hwm} KiB");
    assert!(
        hwm < bound_mib * 1024,
        "peak RSS {hwm} KiB is not under {bound_mib} MiB"
    );
}

/// One thread and 64 KiB chunks: 1 GiB under 32 MiB; then four frame
/// threads and 4 MiB chunks (a caller's large pieces; the CLI reads 8 MiB):
/// 256 MiB more, under 64 MiB (a few chunks in flight, whatever the
/// stream's length); then, the peak reset, the `std::io` adapters fed and
/// read 8 KiB at a time with four threads allowed: 256 MiB more, under
/// 32 MiB.
#[test]
fn one_gib_streams_through_encrypt_and_decrypt_in_constant_memory() {
    let total: usize = std::env::var("SEALBOX_STREAM_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    stream(total, 64 * 1024, Parallelism::SINGLE, 32);
    stream(total / 4, 4 << 20, Parallelism::threads(4).unwrap(), 64);
    // The peak so far is forgotten (Linux: `5` to clear_refs resets
    // VmHWM), so that the adapters' own peak is what is measured.
    // Where it cannot be reset, the bound of the stage before holds.
    let bound = match std::fs::write("/proc/self/clear_refs", "5") {
        Ok(()) => 32,
        Err(e) => {
            println!("peak RSS not reset ({e}): the adapters are held to 64 MiB");
            64
        }
    };
    through_adapters(total / 4, Parallelism::threads(4).unwrap(), bound);
}

/// A `Write` that decrypts what it is given and checks the plaintext
/// against the same deterministic stream.
struct Checking {
    dec: Decryptor,
    pt: Vec<u8>,
    expected: Expected,
}

impl std::io::Write for Checking {
    fn write(&mut self, ct: &[u8]) -> std::io::Result<usize> {
        self.dec.update(ct, &mut self.pt)?;
        self.expected.check(&self.pt);
        self.pt.clear();
        Ok(ct.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `Read` of the message an encryptor makes of `left` bytes of the
/// deterministic stream, 64 KiB of plaintext at a time.
struct Sealing {
    enc: Option<Encryptor>,
    src: Stream,
    left: usize,
    input: Vec<u8>,
    ct: Vec<u8>,
    at: usize,
}

impl std::io::Read for Sealing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.ct.len() {
            self.ct.clear();
            self.at = 0;
            let Some(enc) = self.enc.as_mut() else {
                return Ok(0);
            };
            if self.left == 0 {
                enc.finish(&mut self.ct)?;
                self.enc = None;
            } else {
                let n = self.left.min(self.input.len());
                self.src.fill(&mut self.input[..n]);
                enc.update(&self.input[..n], &mut self.ct)?;
                self.left -= n;
            }
        }
        let n = buf.len().min(self.ct.len() - self.at);
        buf[..n].copy_from_slice(&self.ct[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn through_adapters(total: usize, parallelism: Parallelism, bound_mib: u64) {
    use std::io::{Read, Write};
    let keyring = Arc::new(RawAesKeyring::new("mem", "k", &[9u8; 32]).unwrap());
    let cmm: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(keyring));
    let dopts = DecryptOptions {
        parallelism,
        ..DecryptOptions::default()
    };
    let opts = EncryptOptions {
        parallelism,
        ..EncryptOptions::default()
    };
    let seed = 0x2545_F491_4F6C_DD1D;
    // Writer: 8 KiB writes.
    let sink = Checking {
        dec: Decryptor::new(cmm.clone(), dopts.clone()),
        pt: Vec::new(),
        expected: Expected::new(seed),
    };
    let mut w = EncryptingWriter::new(sink, cmm.as_ref(), &opts).unwrap();
    let (mut src, mut piece) = (Stream(seed), vec![0u8; 8192]);
    let mut fed = 0;
    while fed < total {
        let n = piece.len().min(total - fed);
        src.fill(&mut piece[..n]);
        w.write_all(&piece[..n]).unwrap();
        fed += n;
    }
    let mut sink = w.finish().unwrap();
    sink.dec.finish(&mut sink.pt).unwrap();
    sink.expected.check(&sink.pt);
    assert_eq!(sink.expected.verified, total);
    // Reader: read out 8 KiB at a time.
    let source = Sealing {
        enc: Some(Encryptor::new(cmm.as_ref(), &EncryptOptions::default()).unwrap()),
        src: Stream(seed),
        left: total,
        input: vec![0u8; 64 * 1024],
        ct: Vec::new(),
        at: 0,
    };
    let mut r = DecryptingReader::new(source, cmm.clone(), dopts);
    let mut expected = Expected::new(seed);
    let mut got = vec![0u8; 8192];
    loop {
        let n = r.read(&mut got).unwrap();
        if n == 0 {
            break;
        }
        expected.check(&got[..n]);
    }
    assert_eq!(expected.verified, total);
    peak_under(
        &format!(
            "EncryptingWriter and DecryptingReader ({parallelism:?} allowed, 8 KiB pieces): streamed {} MiB",
            total >> 20
        ),
        bound_mib,
    );
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
        let seed = 0x9E37_79B9_7F4A_7C15;
        let (mut src, mut expected) = (Stream(seed), Expected::new(seed));
        expected.buf.reserve(2 * CHUNK);
        let mut input = vec![0u8; CHUNK];
        let (mut ct, mut pt) = (Vec::with_capacity(2 * CHUNK), Vec::with_capacity(2 * CHUNK));
        let mut fed = 0usize;
        while fed < total {
            let n = CHUNK.min(total - fed);
            src.fill(&mut input[..n]);
            enc.update(&input[..n], &mut ct).unwrap();
            dec.update(&ct, &mut pt).unwrap();
            ct.clear();
            expected.check(&pt);
            pt.clear();
            fed += n;
        }
        enc.finish(&mut ct).unwrap();
        dec.update(&ct, &mut pt).unwrap();
        dec.finish(&mut pt).unwrap();
        expected.check(&pt);
        assert_eq!(expected.verified, total);
        peak_under(
            &format!(
                "{suite} ({parallelism:?}, {} KiB chunks): streamed {} MiB through encrypt and decrypt",
                chunk >> 10,
                total >> 20
            ),
            bound_mib,
        );
    }
}
