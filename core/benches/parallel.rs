//! Frames on every core: 64 MiB encrypted and decrypted on one thread and
//! on all of them, side by side in one run, as ratios with the target
//! (≥ 1.6x on two cores for 0x0478) marked; and 1 MiB at several frame
//! lengths beside one raw AES-256-GCM call over 1 MiB (the basis of the
//! default frame length).
//!
//! `cargo bench -p sealbox --bench parallel` (`make bench-parallel`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::crypto::{AesGcmKey, HashAlg, Hasher};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{
    decrypt, encrypt, DecryptOptions, Decryptor, EncryptOptions, Encryptor, InputMemory,
    Parallelism, PARALLEL_MIN_BYTES, STREAM_BATCH,
};
use sealbox::AlgorithmSuite;

/// Best of 5 rounds of about `budget / 5`; seconds per call.
fn time(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < budget / 5 || n == 0 {
            f();
            n += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / n as f64);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` nothing: then
    // a smoke run, small and short.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cmm = DefaultMaterialsManager::new(Arc::new(
        RawAesKeyring::new("bench", "k", &[1u8; 32]).unwrap(),
    ));
    let budget = Duration::from_millis(if smoke { 20 } else { 3000 });
    let size: usize = if smoke { 2 << 20 } else { 64 << 20 };
    let pt = vec![0x3cu8; size];
    println!(
        "\n== {} MiB on one thread and on {cores} (one-shot, default {} KiB frames) ==",
        size >> 20,
        sealbox::message::DEFAULT_FRAME_LENGTH >> 10
    );
    println!(
        "{:<8} {:<8} {:>12} {:>12} {:>9} {:>14}",
        "suite", "op", "1 thread", "all cores", "speedup", "target 1.6x"
    );
    let mut sha_floor = None;
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        let enc = |p: Parallelism| EncryptOptions {
            parallelism: p,
            ..EncryptOptions::for_suite(suite)
        };
        let dec = |p: Parallelism| DecryptOptions {
            parallelism: p,
            ..DecryptOptions::default()
        };
        let ct = encrypt(&pt, &cmm, &enc(Parallelism::SINGLE)).unwrap();
        let rows = [
            (
                "encrypt",
                time(budget, || {
                    black_box(encrypt(&pt, &cmm, &enc(Parallelism::SINGLE)).unwrap());
                }),
                time(budget, || {
                    black_box(encrypt(&pt, &cmm, &enc(Parallelism::Auto)).unwrap());
                }),
            ),
            (
                "decrypt",
                time(budget, || {
                    black_box(decrypt(&ct, &cmm, &dec(Parallelism::SINGLE)).unwrap());
                }),
                time(budget, || {
                    black_box(decrypt(&ct, &cmm, &dec(Parallelism::Auto)).unwrap());
                }),
            ),
        ];
        for (op, one, all) in rows {
            let mbs = |t: f64| size as f64 / t / 1e6;
            let ratio = one / all;
            let target = if cores < 2 {
                "(one core)"
            } else if suite.signature().is_none() {
                if ratio >= 1.6 {
                    "met"
                } else {
                    "NOT met"
                }
            } else {
                "(signed)"
            };
            println!(
                "{:<8} {:<8} {:>8.0} MB/s {:>8.0} MB/s {:>8.2}x {:>14}",
                format!("{suite}"),
                op,
                mbs(one),
                mbs(all),
                ratio,
                target
            );
        }
        if suite.signature().is_some() {
            // What stays sequential in a signed message: SHA-384 over it.
            let t = time(budget, || {
                let mut h = Hasher::new(HashAlg::Sha384);
                h.update(&ct);
                black_box(h.finalize());
            });
            sha_floor = Some(t);
        }
    }
    if let Some(t) = sha_floor {
        println!(
            "signed suites: SHA-384 over the whole message alone takes {:.1} ms ({:.0} MB/s) \
             on one thread; no number of frame threads makes 0x0578 faster than that",
            t * 1e3,
            size as f64 / t / 1e6
        );
    }

    if cores >= 2 {
        threshold(&cmm, budget, smoke, cores);
        streams(&cmm, budget, size, cores);
    }

    println!("\n== 1 MiB at several frame lengths, one thread, beside one raw AES-256-GCM call ==");
    let mib = vec![7u8; 1 << 20];
    let key = AesGcmKey::new(&[2u8; 32]).unwrap();
    let mut buf = mib.clone();
    let raw = time(budget, || {
        buf.copy_from_slice(&mib);
        black_box(key.seal_in_place(&[0u8; 12], b"", &mut buf).unwrap());
    });
    println!("raw AES-256-GCM, 1 MiB in one call: {:.0} µs", raw * 1e6);
    println!(
        "{:<14} {:>10} {:>10} {:>16}",
        "frame length", "encrypt", "decrypt", "raw / encrypt"
    );
    for frame in [1024u32, 4096, 16384, 65536, 262144] {
        let eo = EncryptOptions {
            frame_length: frame,
            parallelism: Parallelism::SINGLE,
            ..EncryptOptions::default()
        };
        let dopts = DecryptOptions {
            parallelism: Parallelism::SINGLE,
            ..DecryptOptions::default()
        };
        let ct = encrypt(&mib, &cmm, &eo).unwrap();
        let e = time(budget / 2, || {
            black_box(encrypt(&mib, &cmm, &eo).unwrap());
        });
        let d = time(budget / 2, || {
            black_box(decrypt(&ct, &cmm, &dopts).unwrap());
        });
        println!(
            "{:<14} {:>7.0} µs {:>7.0} µs {:>15.0}%",
            frame,
            e * 1e6,
            d * 1e6,
            raw / e * 100.0
        );
    }
}

/// Where threads start to pay: one-shot messages of growing size on one
/// thread and on every core (forced, whatever `Auto` would do), beside
/// `PARALLEL_MIN_BYTES`, the size from which `Auto` uses them.
fn threshold(cmm: &DefaultMaterialsManager, budget: Duration, smoke: bool, cores: usize) {
    println!(
        "\n== where {cores} threads pay: 0x0478, default frames, one-shot (Auto uses them from {} KiB) ==",
        PARALLEL_MIN_BYTES >> 10
    );
    println!(
        "{:<9} {:>12} {:>12} {:>12} {:>12}",
        "size", "enc 1 thr", "enc speedup", "dec 1 thr", "dec speedup"
    );
    let all = Parallelism::threads(cores).unwrap();
    let sizes: &[usize] = if smoke {
        &[256 << 10]
    } else {
        &[
            64 << 10,
            128 << 10,
            256 << 10,
            512 << 10,
            1 << 20,
            2 << 20,
            4 << 20,
        ]
    };
    for &size in sizes {
        let pt = vec![0x5au8; size];
        let enc = |p: Parallelism| EncryptOptions {
            parallelism: p,
            ..EncryptOptions::default()
        };
        let dec = |p: Parallelism| DecryptOptions {
            parallelism: p,
            ..DecryptOptions::default()
        };
        let ct = encrypt(&pt, cmm, &enc(Parallelism::SINGLE)).unwrap();
        let per = budget / 4;
        let e1 = time(per, || {
            black_box(encrypt(&pt, cmm, &enc(Parallelism::SINGLE)).unwrap());
        });
        let en = time(per, || {
            black_box(encrypt(&pt, cmm, &enc(all)).unwrap());
        });
        let d1 = time(per, || {
            black_box(decrypt(&ct, cmm, &dec(Parallelism::SINGLE)).unwrap());
        });
        let dn = time(per, || {
            black_box(decrypt(&ct, cmm, &dec(all)).unwrap());
        });
        println!(
            "{:<9} {:>9.0} µs {:>11.2}x {:>9.0} µs {:>11.2}x",
            format!("{} KiB", size >> 10),
            e1 * 1e6,
            e1 / en,
            d1 * 1e6,
            d1 / dn
        );
    }
}

/// Streams fed 64 KiB pieces, as a file or a pipe gives them: one thread
/// sealing or opening each piece as it comes (what the streams of every
/// binding do with pieces below `PARALLEL_MIN_BYTES` of whole frames),
/// against an `Encryptor` that gathers batches of `STREAM_BATCH` for every
/// core (`gather_batches`, opt-in) and a `Decryptor` fed a batch at a time:
/// why the streams do not gather by default.
fn streams(cmm: &DefaultMaterialsManager, budget: Duration, size: usize, cores: usize) {
    println!(
        "\n== a {} MiB stream in 64 KiB pieces: one thread, and {cores} threads on batches of {} MiB ==",
        size >> 20,
        STREAM_BATCH >> 20
    );
    println!(
        "{:<8} {:<8} {:>12} {:>12} {:>9}",
        "suite", "op", "1 thread", "batches", "speedup"
    );
    let pt = vec![0x6bu8; size];
    let cmm_arc: Arc<dyn sealbox::cmm::MaterialsManager> = Arc::new(cmm.clone());
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        let encrypt_stream = |p: Parallelism| {
            let opts = EncryptOptions {
                parallelism: p,
                ..EncryptOptions::for_suite(suite)
            };
            let mut e = Encryptor::new(cmm, &opts).unwrap();
            e.gather_batches();
            black_box(pump(&pt, 64 << 10, |piece, out| {
                match piece {
                    Some(piece) => e.update(piece, out),
                    None => e.finish(out),
                }
                .unwrap()
            }));
        };
        let ct = encrypt(&pt, cmm, &EncryptOptions::for_suite(suite)).unwrap();
        // One piece at a time, as a reader pulls them: 64 KiB on one
        // thread, a batch on every core.
        let decrypt_stream = |p: Parallelism| {
            let d = DecryptOptions {
                parallelism: p,
                ..DecryptOptions::default()
            };
            let mut dec = Decryptor::with_memory(cmm_arc.clone(), d, InputMemory::Unchanging);
            let piece_len = p.stream_batch().unwrap_or(64 << 10);
            black_box(pump(&ct, piece_len, |piece, out| {
                match piece {
                    Some(piece) => dec.update(piece, out),
                    None => dec.finish(out),
                }
                .unwrap()
            }));
        };
        let rows = [
            (
                "encrypt",
                time(budget, || encrypt_stream(Parallelism::SINGLE)),
                time(budget, || encrypt_stream(Parallelism::Auto)),
            ),
            (
                "decrypt",
                time(budget, || decrypt_stream(Parallelism::SINGLE)),
                time(budget, || decrypt_stream(Parallelism::Auto)),
            ),
        ];
        for (op, one, all) in rows {
            let mbs = |t: f64| size as f64 / t / 1e6;
            println!(
                "{:<8} {:<8} {:>7.0} MB/s {:>7.0} MB/s {:>8.2}x",
                format!("{suite}"),
                op,
                mbs(one),
                mbs(all),
                one / all
            );
        }
    }
}

/// Feeds `input` to a stream `piece` bytes at a time (`step(Some(piece))`),
/// then ends it (`step(None)`), each output into one reused buffer; returns
/// how many bytes came out.
fn pump(input: &[u8], piece: usize, mut step: impl FnMut(Option<&[u8]>, &mut Vec<u8>)) -> usize {
    let mut out = Vec::with_capacity(2 * STREAM_BATCH);
    let mut n = 0;
    for p in input.chunks(piece).map(Some).chain([None]) {
        out.clear();
        step(p, &mut out);
        n += out.len();
    }
    n
}
