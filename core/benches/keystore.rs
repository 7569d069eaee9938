//! Key-store operations per second (soft backend, SQLite, audit log on),
//! and envelope messages per second through the key-store keyring with and
//! without the caching materials manager, side by side in one run.

mod common;
#[path = "../tests/common/shared.rs"]
mod shared;
use common::mean_ns;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use sealbox::cmm::{
    CacheLimits, CachingMaterialsManager, DefaultMaterialsManager, MaterialsManager,
};
use sealbox::keyring::KeyStoreKeyring;
use sealbox::keystore::{
    CreateKeyRequest, KeySpec, KeyStore, KeyStoreOptions, MessageType, Pin, Pkcs11Config, RootKey,
    SigningAlgorithm, TokenSelector,
};
use sealbox::message::{encrypt, EncryptOptions};
use sealbox::EncryptionContext;

fn bench(c: &mut Criterion, ks: &KeyStore, backend: &str) {
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

    let mut g = c.benchmark_group(format!("keystore-{backend}"));
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
    let mut g = c.benchmark_group(format!("envelope-1KiB-{backend}"));
    g.bench_function("without-cache", |b| {
        b.iter(|| black_box(encrypt(&record, plain.as_ref(), &opts).unwrap()))
    });
    g.bench_function("with-cache", |b| {
        b.iter(|| black_box(encrypt(&record, &cached, &opts).unwrap()))
    });
    g.finish();
}

/// A SoftHSM2 token in `dir` (SOFTHSM2_CONF set before the module loads),
/// or the module named by SEALBOX_PKCS11_MODULE with SEALBOX_PKCS11_TOKEN
/// and SEALBOX_PKCS11_PIN.
fn pkcs11_store(dir: &std::path::Path) -> Option<KeyStore> {
    let (token, pin) = match shared::external_token() {
        Some(t) => t,
        None => {
            let conf = shared::write_conf(dir).ok()?;
            std::env::set_var("SOFTHSM2_CONF", &conf);
            let out = shared::init_token(None, "sealbox-bench", "12345678", "87654321").ok()?;
            if !out.status.success() {
                return None;
            }
            ("sealbox-bench".into(), "87654321".into())
        }
    };
    let mut config = Pkcs11Config::new(
        shared::module(),
        TokenSelector::Label(token),
        Pin::from_bytes(pin.as_bytes()).ok()?,
    );
    config.max_sessions = Pkcs11Config::sessions(4).ok()?;
    KeyStore::open_pkcs11(dir.join("bench-hsm.db"), config, KeyStoreOptions::default()).ok()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("sealbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = Criterion::default().configure_from_args();
    let soft = KeyStore::open(
        dir.join("bench.db"),
        &RootKey::generate().unwrap(),
        KeyStoreOptions::default(),
    )
    .unwrap();
    bench(&mut c, &soft, "soft");
    let hsm = pkcs11_store(&dir);
    match &hsm {
        Some(ks) => bench(&mut c, ks, "pkcs11"),
        None => println!("(no PKCS#11 token: install softhsm2 to compare the HSM backend)"),
    }
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
    println!("\nkey store operations per second (SQLite metadata, audit log on):");
    println!(
        "  {:<22} {:>12} {:>12} {:>10}",
        "operation", "soft", "pkcs11", "soft/hsm"
    );
    for op in ["GenerateDataKey", "Decrypt", "Sign-ECDSA_SHA_256"] {
        let s = mean_ns("keystore-soft", op);
        let h = mean_ns("keystore-pkcs11", op);
        let fmt = |v: Option<f64>| {
            v.map(|ns| format!("{:.0}", 1e9 / ns))
                .unwrap_or_else(|| "-".into())
        };
        let ratio = match (s, h) {
            (Some(s), Some(h)) => format!("{:.1}x", h / s),
            _ => "-".into(),
        };
        println!("  {op:<22} {:>12} {:>12} {:>10}", fmt(s), fmt(h), ratio);
    }
    println!("envelope messages (1 KiB, key-store keyring) per second:");
    for backend in ["soft", "pkcs11"] {
        let g = format!("envelope-1KiB-{backend}");
        if let (Some(a), Some(b)) = (mean_ns(&g, "without-cache"), mean_ns(&g, "with-cache")) {
            println!("  {backend:<7} without caching CMM {:>10.0} msg/s   with caching CMM {:>10.0} msg/s   ({:.1}x)", 1e9 / a, 1e9 / b, a / b);
        }
    }
}
