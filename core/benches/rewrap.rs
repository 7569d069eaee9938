//! Rewrapping beside re-encrypting: what `rewrap` saves, side by side in
//! one run, as ratios; and a 1 GiB file rewrapped through a temporary file
//! and a rename, beside a plain copy of the same file (the floor of any
//! rewrap that keeps the original until the new file is complete).
//!
//! `cargo bench -p sealbox --bench rewrap` (`make bench-rewrap`).

use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::crypto::{EcCurve, EcdsaSigningKey, HashAlg, Hasher};
use sealbox::keyring::{Keyring, RawAesKeyring};
use sealbox::message::{
    decrypt, encrypt, rewrap, rewrap_header, rewrap_stream, DecryptOptions, EncryptOptions,
    HeaderRewrap, RewrapOptions,
};
use sealbox::AlgorithmSuite;

/// Runs `f` for about `budget`, best of 5 rounds; returns seconds per call.
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

fn keyring(name: &str, byte: u8) -> Arc<dyn Keyring> {
    Arc::new(RawAesKeyring::new("bench", name, &[byte; 32]).unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` nothing: then
    // a smoke run, small and short.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let old = keyring("old", 1);
    let new = keyring("new", 2);
    let old_cmm = DefaultMaterialsManager::new(old.clone());
    let new_cmm = DefaultMaterialsManager::new(new.clone());
    let budget = Duration::from_millis(if smoke { 20 } else { 1500 });
    println!("\n== rewrap beside re-encryption (raw AES keyrings, one thread) ==");
    println!(
        "{:<26} {:>14} {:>16} {:>12}",
        "message", "rewrap", "decrypt+encrypt", "speedup"
    );
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        for (size, label) in [(1024usize, "1 KiB"), (1 << 20, "1 MiB")] {
            let pt = vec![0x5au8; size];
            let eo = EncryptOptions::for_suite(suite);
            let ct = encrypt(&pt, &old_cmm, &eo).unwrap();
            let ro = RewrapOptions::default();
            let t_rewrap = time(budget, || {
                black_box(rewrap(&ct, &old_cmm, new.as_ref(), &ro).unwrap());
            });
            let t_again = time(budget, || {
                let p = decrypt(&ct, &old_cmm, &DecryptOptions::default()).unwrap();
                black_box(encrypt(&p.plaintext, &new_cmm, &eo).unwrap());
            });
            println!(
                "{:<26} {:>11.1} µs {:>13.1} µs {:>11.1}x",
                format!("{suite} {label}"),
                t_rewrap * 1e6,
                t_again * 1e6,
                t_again / t_rewrap
            );
        }
    }
    // What a signed rewrap cannot avoid: the old signature checked and a
    // new one made over the whole message (two SHA-384 passes), a P-384 key
    // pair, a signature and a verification.
    let mib = vec![0u8; 1 << 20];
    let t_floor = time(budget, || {
        for _ in 0..2 {
            let mut h = Hasher::new(HashAlg::Sha384);
            h.update(&mib);
            black_box(h.finalize());
        }
        let k = EcdsaSigningKey::generate(EcCurve::P384).unwrap();
        let d = [1u8; 48];
        let sig = k.sign_digest_static_der(&d).unwrap();
        black_box(k.verifying_key().verify_digest_der(&d, &sig));
    });
    println!(
        "signed 1 MiB floor (2x SHA-384 of 1 MiB, P-384 keygen+sign+verify): {:.1} µs",
        t_floor * 1e6
    );

    // A 1 GiB file (8 MiB in a smoke run).
    let file_mib: usize = if smoke { 8 } else { 1024 };
    let dir = std::env::temp_dir().join(format!("sealbox-rewrap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("big.sbx");
    {
        let f = std::fs::File::create(&src).unwrap();
        let mut w = sealbox::message::EncryptingWriter::new(
            std::io::BufWriter::with_capacity(1 << 20, f),
            &old_cmm,
            &EncryptOptions {
                frame_length: 64 * 1024,
                ..EncryptOptions::default()
            },
        )
        .unwrap();
        let chunk = vec![0x77u8; 1 << 20];
        for _ in 0..file_mib {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap();
    }
    let len = std::fs::metadata(&src).unwrap().len();
    let dst = dir.join("big.rewrapped.sbx");
    let start = Instant::now();
    let f_in = std::fs::File::open(&src).unwrap();
    let mut f_out = std::fs::File::create(&dst).unwrap();
    let s = rewrap_stream(
        std::io::BufReader::with_capacity(1 << 20, f_in),
        &mut f_out,
        &old_cmm,
        new.as_ref(),
        &RewrapOptions::default(),
    )
    .unwrap();
    f_out.sync_all().unwrap();
    std::fs::rename(&dst, &src).unwrap();
    let t_rewrap = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let copy = dir.join("copy.sbx");
    std::fs::copy(&src, &copy).unwrap();
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    let t_copy = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let p = std::fs::read(&src).unwrap();
    let ct_check = decrypt(&p, &new_cmm, &DecryptOptions::default()).unwrap();
    let t_decrypt = start.elapsed().as_secs_f64();
    assert_eq!(ct_check.plaintext.len(), file_mib << 20);
    println!(
        "\n{file_mib} MiB file ({len} bytes, 64 KiB frames): rewrap to a new file + fsync + rename {:.0} ms; \
         copy + fsync of the same file {:.0} ms (the floor of a rewrap that keeps the old \
         file until the new one is complete: {:.2}x of it); read + decrypt {:.0} ms; \
         header {} -> {} bytes",
        t_rewrap * 1e3,
        t_copy * 1e3,
        t_rewrap / t_copy,
        t_decrypt * 1e3,
        s.header_len.0,
        s.header_len.1
    );
    // The same file rewrapped back in place, its header alone replaced
    // (what `sealbox rewrap --in-place` does for an unsigned message whose
    // header keeps its length; the CLI adds a journal of two headers).
    let start = Instant::now();
    let mut prefix = vec![0u8; 64 * 1024];
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&src)
        .unwrap();
    use std::os::unix::fs::FileExt;
    let n = f.read_at(&mut prefix, 0).unwrap();
    let done = rewrap_header(
        &prefix[..n],
        &new_cmm,
        old.as_ref(),
        &RewrapOptions::default(),
    )
    .unwrap();
    let HeaderRewrap::Done {
        old_len, header, ..
    } = done
    else {
        panic!("header longer than 64 KiB")
    };
    assert_eq!(old_len, header.len());
    f.write_all_at(&header, 0).unwrap();
    f.sync_data().unwrap();
    let t_header = start.elapsed().as_secs_f64();
    let p = std::fs::read(&src).unwrap();
    assert_eq!(
        decrypt(&p, &old_cmm, &DecryptOptions::default())
            .unwrap()
            .plaintext
            .len(),
        file_mib << 20
    );
    println!(
        "the same file rewrapped back in place, its {old_len}-byte header alone replaced: {:.2} ms",
        t_header * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
