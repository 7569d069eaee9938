//! Key-store operations per second (soft backend, SQLite, audit log on),
//! and envelope messages per second through the key-store keyring with and
//! without the caching materials manager, side by side in one run.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use sealbox::cmm::{
    CacheLimits, CachingMaterialsManager, DefaultMaterialsManager, MaterialsManager,
};
use sealbox::keyring::KeyStoreKeyring;
use sealbox::keystore::{
    CreateKeyRequest, KeySpec, KeyStore, KeyStoreOptions, MessageType, RootKey, SigningAlgorithm,
};
use sealbox::message::{encrypt, EncryptOptions};
use sealbox::EncryptionContext;

fn bench(c: &mut Criterion, dir: &std::path::Path) {
    let ks = KeyStore::open(
        dir.join("bench.db"),
        &RootKey::generate().unwrap(),
        KeyStoreOptions::default(),
    )
    .unwrap();
    let aes = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let ecc = ks
        .create_key(&CreateKeyRequest {
            key_spec: KeySpec::EccNistP256,
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id;
    let ctx: EncryptionContext = [("tenant".to_string(), "acme".to_string())].into();
    let blob = ks.generate_data_key(&aes, 32, &ctx).unwrap().ciphertext;

    let mut g = c.benchmark_group("keystore");
    g.bench_function("GenerateDataKey", |b| {
        b.iter(|| black_box(ks.generate_data_key(&aes, 32, &ctx).unwrap()))
    });
    g.bench_function("Decrypt", |b| {
        b.iter(|| black_box(ks.decrypt(&blob, &ctx).unwrap()))
    });
    g.bench_function("Sign-ECDSA_SHA_256", |b| {
        b.iter(|| {
            black_box(
                ks.sign(
                    &ecc,
                    b"message",
                    SigningAlgorithm::EcdsaSha256,
                    MessageType::Raw,
                )
                .unwrap(),
            )
        })
    });
    g.finish();

    let plain: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(Arc::new(
        KeyStoreKeyring::new(ks.clone(), &aes),
    )));
    let limits = CacheLimits {
        max_messages: 10_000,
        ..CacheLimits::with_max_age(Duration::from_secs(60))
    };
    let cached = CachingMaterialsManager::new(plain.clone(), limits).unwrap();
    let opts = EncryptOptions {
        encryption_context: ctx.clone(),
        ..EncryptOptions::default()
    };
    let record = [7u8; 1024];
    let mut g = c.benchmark_group("envelope-1KiB-keystore");
    g.bench_function("without-cache", |b| {
        b.iter(|| black_box(encrypt(&record, plain.as_ref(), &opts).unwrap()))
    });
    g.bench_function("with-cache", |b| {
        b.iter(|| black_box(encrypt(&record, &cached, &opts).unwrap()))
    });
    g.finish();
}

fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("sealbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &dir);
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
    println!("\nkey store (soft backend, SQLite, audit log), operations per second:");
    for op in ["GenerateDataKey", "Decrypt", "Sign-ECDSA_SHA_256"] {
        if let Some(ns) = mean_ns("keystore", op) {
            println!("  {op:<22} {:>10.0} ops/s", 1e9 / ns);
        }
    }
    if let (Some(a), Some(b)) = (
        mean_ns("envelope-1KiB-keystore", "without-cache"),
        mean_ns("envelope-1KiB-keystore", "with-cache"),
    ) {
        println!("envelope messages (1 KiB, key-store keyring) per second:");
        println!("  without caching CMM    {:>10.0} msg/s", 1e9 / a);
        println!(
            "  with caching CMM       {:>10.0} msg/s   ({:.1}x)",
            1e9 / b,
            a / b
        );
    }
}
