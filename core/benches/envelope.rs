//! Envelope encryption beside raw AES-256-GCM of the same crypto provider,
//! on the same sizes, reported as ratios at the end of the run.
//!
//! `make bench` runs this; `cargo bench -p sealbox --bench envelope`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};
use sealbox::cmm::DefaultMaterialsManager;
use sealbox::crypto::AesGcmKey;
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{decrypt, encrypt, DecryptOptions, EncryptOptions};
use sealbox::AlgorithmSuite;

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (1 << 20, "1MiB")];
const SUITES: [(AlgorithmSuite, &str); 2] = [
    (AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, "0x0478"),
    (
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        "0x0578",
    ),
];

fn bench(c: &mut Criterion) {
    let keyring = Arc::new(RawAesKeyring::new("bench", "k", &[1u8; 32]).unwrap());
    let cmm = DefaultMaterialsManager::new(keyring);
    let key = AesGcmKey::new(&[2u8; 32]).unwrap();
    let iv = [0u8; 12];
    for (size, label) in SIZES {
        let pt: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut g = c.benchmark_group(format!("encrypt/{label}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter("raw-aes-256-gcm"), |b| {
            let mut buf = Vec::with_capacity(size);
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(&pt);
                black_box(key.seal_in_place(&iv, b"", &mut buf).unwrap());
            })
        });
        for (suite, name) in SUITES {
            let opts = EncryptOptions {
                suite: Some(suite),
                ..EncryptOptions::default()
            };
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| black_box(encrypt(&pt, &cmm, &opts).unwrap()))
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("decrypt/{label}"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut sealed = pt.clone();
        let tag = key.seal_in_place(&iv, b"", &mut sealed).unwrap();
        g.bench_function(BenchmarkId::from_parameter("raw-aes-256-gcm"), |b| {
            let mut buf = Vec::with_capacity(size);
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(&sealed);
                key.open_in_place(&iv, b"", &mut buf, &tag).unwrap();
                black_box(&buf);
            })
        });
        for (suite, name) in SUITES {
            let opts = EncryptOptions {
                suite: Some(suite),
                ..EncryptOptions::default()
            };
            let ct = encrypt(&pt, &cmm, &opts).unwrap();
            let d = DecryptOptions::default();
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| black_box(decrypt(&ct, &cmm, &d).unwrap()))
            });
        }
        g.finish();
    }
}

/// Reads criterion's mean estimate (ns) for one benchmark of this run.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = dir
        .join("criterion")
        .join(group.replace('/', "_"))
        .join(id)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn report() {
    println!("\nprovider: {}", sealbox::crypto::PROVIDER);
    println!(
        "{:<9} {:<6} {:>16} {:>14} {:>14} {:>12}",
        "op", "size", "raw AES-GCM", "suite", "envelope", "raw/envelope"
    );
    for op in ["encrypt", "decrypt"] {
        for (size, label) in SIZES {
            let group = format!("{op}/{label}");
            let Some(raw) = mean_ns(&group, "raw-aes-256-gcm") else {
                continue;
            };
            for (_, name) in SUITES {
                let Some(env) = mean_ns(&group, name) else {
                    continue;
                };
                let mbps = |ns: f64| size as f64 / ns * 1e9 / 1e6;
                println!(
                    "{op:<9} {label:<6} {:>11.0} MB/s {name:>14} {:>9.0} MB/s {:>11.1}%",
                    mbps(raw),
                    mbps(env),
                    raw / env * 100.0
                );
            }
        }
    }
    println!(
        "(raw/envelope: the envelope's throughput as a share of raw AES-256-GCM on the same bytes)"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    report();
}
