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
    CreateKeyRequest, KeyAgreementAlgorithm, KeySpec, KeyStore, KeyStoreOptions, KeyUsage,
    MacAlgorithm, MessageType, Pin, Pkcs11Config, RootKey, SigningAlgorithm, TokenSelector,
};
use sealbox::message::{encrypt, EncryptOptions};
use sealbox::EncryptionContext;

/// The ECC, Edwards and ML-DSA specs, each with its signing algorithm.
const EC_SPECS: [(KeySpec, SigningAlgorithm); 8] = [
    (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
    (KeySpec::EccNistP384, SigningAlgorithm::EcdsaSha384),
    (KeySpec::EccNistP521, SigningAlgorithm::EcdsaSha512),
    (KeySpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256),
    (
        KeySpec::EccNistEdwards25519,
        SigningAlgorithm::Ed25519Sha512,
    ),
    (KeySpec::MlDsa44, SigningAlgorithm::MlDsaShake256),
    (KeySpec::MlDsa65, SigningAlgorithm::MlDsaShake256),
    (KeySpec::MlDsa87, SigningAlgorithm::MlDsaShake256),
];

/// pyca `cryptography`'s ML-DSA (OpenSSL 3.5 inside its wheel; the
/// system's OpenSSL 3.0 has none) signing and verifying a 32-byte message
/// for `seconds` each: sign/s and verify/s by key spec name, from the
/// interop virtualenv's Python when it exists. Empty otherwise.
fn pyca_mldsa_speed(seconds: f64) -> std::collections::HashMap<String, (f64, f64)> {
    const SCRIPT: &str = r#"
import sys, time
from cryptography.hazmat.primitives.asymmetric import mldsa
secs = float(sys.argv[1])
for spec, cls in (("ML_DSA_44", mldsa.MLDSA44PrivateKey), ("ML_DSA_65", mldsa.MLDSA65PrivateKey), ("ML_DSA_87", mldsa.MLDSA87PrivateKey)):
    key, msg = cls.generate(), b"\x5a" * 32
    pub, sig = key.public_key(), key.sign(msg)
    rates = []
    for op in (lambda: key.sign(msg), lambda: pub.verify(sig, msg)):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < secs:
            op(); n += 1
        rates.append(n / (time.perf_counter() - t0))
    print(spec, rates[0], rates[1])
"#;
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let mut out = std::collections::HashMap::new();
    let Ok(o) = std::process::Command::new(&python)
        .args(["-c", SCRIPT, &seconds.to_string()])
        .output()
    else {
        return out;
    };
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        if let [spec, sign, verify] = line.split(' ').collect::<Vec<_>>().as_slice() {
            if let (Ok(s), Ok(v)) = (sign.parse(), verify.parse()) {
                out.insert(spec.to_string(), (s, v));
            }
        }
    }
    out
}

/// The name of the same algorithm in `openssl speed`, and the key of its
/// result in [`openssl_speed`]'s map (none for secp256k1).
fn openssl_speed_name(spec: KeySpec) -> Option<(&'static str, &'static str)> {
    match spec {
        KeySpec::EccNistP256 => Some(("ecdsap256", "ecdsa-256")),
        KeySpec::EccNistP384 => Some(("ecdsap384", "ecdsa-384")),
        KeySpec::EccNistP521 => Some(("ecdsap521", "ecdsa-521")),
        KeySpec::EccNistEdwards25519 => Some(("ed25519", "ed25519")),
        _ => None,
    }
}

/// The HMAC specs, their algorithm, and OpenSSL's name of the hash.
const MAC_SPECS: [(KeySpec, MacAlgorithm, &str); 4] = [
    (KeySpec::Hmac224, MacAlgorithm::HmacSha224, "sha224"),
    (KeySpec::Hmac256, MacAlgorithm::HmacSha256, "sha256"),
    (KeySpec::Hmac384, MacAlgorithm::HmacSha384, "sha384"),
    (KeySpec::Hmac512, MacAlgorithm::HmacSha512, "sha512"),
];

/// The KEY_AGREEMENT specs and `openssl speed`'s name and bits of the curve.
const AGREEMENT_SPECS: [(KeySpec, &str, u32); 3] = [
    (KeySpec::EccNistP256, "ecdhp256", 256),
    (KeySpec::EccNistP384, "ecdhp384", 384),
    (KeySpec::EccNistP521, "ecdhp521", 521),
];

/// The length of the messages the MAC bench authenticates.
const MAC_MESSAGE: usize = 64;

/// `openssl speed -hmac <hash>` over `MAC_MESSAGE`-byte inputs: HMACs per
/// second, if OpenSSL said it.
fn openssl_hmac_speed(hash: &str, seconds: u32) -> Option<f64> {
    let o = std::process::Command::new("openssl")
        .args(["speed", "-mr", "-seconds", &seconds.to_string()])
        .args(["-bytes", &MAC_MESSAGE.to_string(), "-hmac", hash])
        .output()
        .ok()?;
    // `+F:<index>:hmac(<hash>):<bytes/s>`
    String::from_utf8_lossy(&o.stdout).lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        match f.as_slice() {
            ["+F", _, name, rate] if *name == format!("hmac({hash})") => {
                rate.parse::<f64>().ok().map(|r| r / MAC_MESSAGE as f64)
            }
            _ => None,
        }
    })
}

/// `openssl speed` (machine-readable) for `names`: sign/s and verify/s by
/// `ecdsa-<bits>` (ECDSA lines) or the lowercase EdDSA name (`ed25519`).
/// Empty when OpenSSL is missing or says something else.
fn openssl_speed(names: &[&str], seconds: u32) -> std::collections::HashMap<String, (f64, f64)> {
    let mut out = std::collections::HashMap::new();
    let Ok(o) = std::process::Command::new("openssl")
        .args(["speed", "-mr", "-seconds", &seconds.to_string()])
        .args(names)
        .output()
    else {
        return out;
    };
    // ECDSA: `+F4:<index>:<bits>:<sign/s>:<verify/s>`; EdDSA:
    // `+F6:<index>:<bits>:<name>:<sign/s>:<verify/s>`; ECDH:
    // `+F5:<index>:<bits>:<ops/s>:<seconds per op>` (kept as (ops/s, ops/s)).
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let f: Vec<&str> = line.split(':').collect();
        let (key, sign, verify) = match f.as_slice() {
            ["+F4", _, bits, sign, verify] => (format!("ecdsa-{bits}"), sign, verify),
            ["+F6", _, _, name, sign, verify] => (name.to_lowercase(), sign, verify),
            ["+F5", _, bits, ops, _] => (format!("ecdh-{bits}"), ops, ops),
            _ => continue,
        };
        if let (Ok(s), Ok(v)) = (sign.parse(), verify.parse()) {
            out.insert(key, (s, v));
        }
    }
    out
}

/// A new key of `spec` (for `usage`, or the spec's default); its ID.
fn new_key(ks: &KeyStore, spec: KeySpec, usage: Option<KeyUsage>) -> String {
    ks.create_key(&CreateKeyRequest {
        key_spec: spec,
        key_usage: usage,
        ..CreateKeyRequest::default()
    })
    .unwrap()
    .key_id
    .to_string()
}

fn bench(c: &mut Criterion, ks: &KeyStore, backend: &str) {
    let aes = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let ecc = new_key(ks, KeySpec::EccNistP256, None);
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

    // Sign and Verify for every ECC spec (issue 18), one 32-byte RAW
    // message; beside `openssl speed` in the summary.
    let msg = [0x5a; 32];
    let mut g = c.benchmark_group(format!("sign-verify-{backend}"));
    for (spec, alg) in EC_SPECS {
        let req = CreateKeyRequest {
            key_spec: spec,
            ..CreateKeyRequest::default()
        };
        let key = match ks.create_key(&req) {
            Ok(md) => md.key_id.to_string(),
            // SoftHSM2 has no ML-DSA (the key store says so): no column.
            Err(sealbox::Error::UnsupportedByHsm { .. }) if backend == "pkcs11" => continue,
            Err(e) => panic!("{spec}: {e}"),
        };
        let sig = ks.sign(&key, &msg, alg, MessageType::Raw).unwrap();
        g.bench_function(format!("Sign-{spec}"), |b| {
            b.iter(|| black_box(ks.sign(&key, &msg, alg, MessageType::Raw).unwrap()))
        });
        g.bench_function(format!("Verify-{spec}"), |b| {
            b.iter(|| {
                assert!(ks.verify(&key, &msg, &sig, alg, MessageType::Raw).unwrap());
            })
        });
    }
    g.finish();

    // GenerateMac for every HMAC spec over a 64-byte message, and
    // DeriveSharedSecret on every NIST curve; beside `openssl speed`.
    let mut g = c.benchmark_group(format!("mac-agreement-{backend}"));
    let msg = [0x3c; MAC_MESSAGE];
    for (spec, alg, _) in MAC_SPECS {
        let key = new_key(ks, spec, None);
        g.bench_function(format!("GenerateMac-{spec}"), |b| {
            b.iter(|| black_box(ks.generate_mac(&key, &msg, alg).unwrap()))
        });
    }
    for (spec, _, _) in AGREEMENT_SPECS {
        let key = new_key(ks, spec, Some(KeyUsage::KeyAgreement));
        let peer = new_key(ks, spec, Some(KeyUsage::KeyAgreement));
        let peer = ks.get_public_key(&peer).unwrap();
        g.bench_function(format!("DeriveSharedSecret-{spec}"), |b| {
            b.iter(|| {
                black_box(
                    ks.derive_shared_secret(&key, KeyAgreementAlgorithm::Ecdh, &peer)
                        .unwrap(),
                )
            })
        });
    }
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
    // The same curves in OpenSSL (a raw primitive: no key store, no audit
    // record), measured now, in this run. `cargo test --benches` (the
    // smoke) asks for a short measurement.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let names: Vec<&str> = EC_SPECS
        .iter()
        .filter_map(|(s, _)| openssl_speed_name(*s).map(|n| n.0))
        .chain(AGREEMENT_SPECS.iter().map(|a| a.1))
        .collect();
    // The smoke measures ECDSA and ECDH on P-256, Ed25519 and HMAC-SHA-256
    // for a second each, and must read every kind of line.
    let names = if smoke {
        vec!["ecdsap256", "ed25519", "ecdhp256"]
    } else {
        names
    };
    let seconds = if smoke { 1 } else { 3 };
    let speed = openssl_speed(&names, seconds);
    let pyca = pyca_mldsa_speed(if smoke { 0.1 } else { f64::from(seconds) });
    let hmac_speed: std::collections::HashMap<&str, f64> = MAC_SPECS
        .iter()
        .filter(|(_, _, h)| !smoke || *h == "sha256")
        .filter_map(|(_, _, h)| openssl_hmac_speed(h, seconds).map(|r| (*h, r)))
        .collect();
    if smoke {
        for key in ["ecdsa-256", "ed25519", "ecdh-256"] {
            assert!(
                speed.contains_key(key),
                "no {key} line read from `openssl speed -mr`: {speed:?}"
            );
        }
        assert!(
            hmac_speed.contains_key("sha256"),
            "no hmac(sha256) line read from `openssl speed -mr -hmac sha256`"
        );
    }
    println!(
        "\nsign and verify per second (32-byte RAW message; sealbox's include the audit record;\n\
         the peer is `openssl speed`, or pyca's ML-DSA where OpenSSL 3.0 has none):"
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>14}",
        "spec", "soft sign", "verify", "hsm sign", "verify", "peer sign", "verify", "soft/peer"
    );
    for (spec, _) in EC_SPECS {
        let per_s = |g: &str, op: &str| mean_ns(g, &format!("{op}-{spec}")).map(|ns| 1e9 / ns);
        let (ss, sv) = (
            per_s("sign-verify-soft", "Sign"),
            per_s("sign-verify-soft", "Verify"),
        );
        let (hs, hv) = (
            per_s("sign-verify-pkcs11", "Sign"),
            per_s("sign-verify-pkcs11", "Verify"),
        );
        let o = openssl_speed_name(spec)
            .and_then(|(_, key)| speed.get(key).copied())
            .or_else(|| pyca.get(spec.as_str()).copied());
        let f = |v: Option<f64>| v.map_or_else(|| "-".into(), |x| format!("{x:.0}"));
        let ratio = match (ss, sv, o) {
            (Some(a), Some(b), Some((os, ov))) => format!("{:.2}x / {:.2}x", a / os, b / ov),
            _ => "-".into(),
        };
        println!(
            "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>14}",
            spec.as_str(),
            f(ss),
            f(sv),
            f(hs),
            f(hv),
            f(o.map(|x| x.0)),
            f(o.map(|x| x.1)),
            ratio
        );
    }
    let f = |v: Option<f64>| v.map_or_else(|| "-".into(), |x| format!("{x:.0}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "-".into(),
    };
    println!(
        "\nGenerateMac ({MAC_MESSAGE}-byte message) and DeriveSharedSecret per second (sealbox's include the audit record):"
    );
    println!(
        "  {:<34} {:>10} {:>10} {:>12} {:>14}",
        "operation", "soft", "hsm", "openssl", "soft/openssl"
    );
    let rows = MAC_SPECS
        .iter()
        .map(|(spec, _, h)| (format!("GenerateMac-{spec}"), hmac_speed.get(h).copied()))
        .chain(AGREEMENT_SPECS.iter().map(|(spec, _, bits)| {
            (
                format!("DeriveSharedSecret-{spec}"),
                speed.get(&format!("ecdh-{bits}")).map(|x| x.0),
            )
        }));
    for (op, o) in rows {
        let s = mean_ns("mac-agreement-soft", &op).map(|ns| 1e9 / ns);
        let h = mean_ns("mac-agreement-pkcs11", &op).map(|ns| 1e9 / ns);
        println!(
            "  {op:<34} {:>10} {:>10} {:>12} {:>14}",
            f(s),
            f(h),
            f(o),
            ratio(s, o)
        );
    }
    println!("envelope messages (1 KiB, key-store keyring) per second:");
    for backend in ["soft", "pkcs11"] {
        let g = format!("envelope-1KiB-{backend}");
        if let (Some(a), Some(b)) = (mean_ns(&g, "without-cache"), mean_ns(&g, "with-cache")) {
            println!("  {backend:<7} without caching CMM {:>10.0} msg/s   with caching CMM {:>10.0} msg/s   ({:.1}x)", 1e9 / a, 1e9 / b, a / b);
        }
    }
}
