//! Writes the seed corpora `fuzz/corpus/<target>/`: a handful of valid
//! inputs per target, each made by sealbox itself (messages, contexts,
//! key-store blob layouts, audit logs, DER keys and signatures).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --bin seeds -- fuzz/corpus`

use std::path::Path;

use sealbox::audit::AuditEvent;
use sealbox::crypto::{EcCurve, EcdsaSigningKey, RsaPrivateKey};
use sealbox::keystore::{blob, KeyId, Operation};
use sealbox::message::{context, AlgorithmSuite, EncryptionContext};
use sealbox_fuzz::targets::{encrypt_with, write_audit_log};

fn put(dir: &Path, target: &str, name: &str, data: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("corpus directory");
    std::fs::write(d.join(name), data).expect("seed file");
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    let dir = Path::new(&dir);
    let mut ec = EncryptionContext::new();
    ec.insert("tenant".into(), "acme".into());
    ec.insert("purpose".into(), "fuzz seed".into());

    // Messages: a committing suite (the default), the signed default of the
    // AWS SDKs, a version-1 suite and the legacy suite without KDF.
    let pt: Vec<u8> = (0..50u8).collect();
    let suites = [
        (AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, "0478"),
        (
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            "0578",
        ),
        (AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256, "0178"),
        (AlgorithmSuite::Aes128GcmIv12Tag16NoKdf, "0014"),
    ];
    for (i, (suite, id)) in suites.into_iter().enumerate() {
        let msg = encrypt_with(suite, 16, &ec, &pt);
        put(dir, "header", &format!("message-{id}"), &msg);
        let mut framed = vec![i as u8, 7];
        framed.extend_from_slice(&msg);
        put(dir, "decrypt_stream", &format!("message-{id}"), &framed);
    }
    let empty = encrypt_with(suites[0].0, 4096, &EncryptionContext::new(), b"");
    put(
        dir,
        "decrypt_stream",
        "empty-0478",
        &[[3u8, 1].as_slice(), &empty].concat(),
    );
    // Edits of valid messages: none; a flipped bit; a truncation; an
    // inserted byte (operation, position, value).
    put(dir, "decrypt_mutate", "unmodified", &[0, 0]);
    put(dir, "decrypt_mutate", "bit-flip", &[5, 1, 0, 0, 60, 0x01]);
    put(dir, "decrypt_mutate", "truncated", &[17, 2, 2, 0, 90, 0]);
    put(dir, "decrypt_mutate", "inserted", &[8, 3, 3, 0, 30, 0x42]);

    // Contexts.
    put(
        dir,
        "context",
        "empty",
        &context::serialize(&EncryptionContext::new()).expect("ec"),
    );
    put(
        dir,
        "context",
        "two-pairs",
        &context::serialize(&ec).expect("ec"),
    );
    let mut unicode = EncryptionContext::new();
    unicode.insert("clé".into(), "värde ✓".into());
    unicode.insert(String::new(), String::new());
    put(
        dir,
        "context",
        "unicode",
        &context::serialize(&unicode).expect("ec"),
    );

    // Key-store blobs: sealbox's prefix for a fresh key ID, version and
    // nonce, an IV and a sealed part (ciphertext and tag); and the layout
    // of format 1, which is still read.
    for (version, sealed_len) in [(1u32, 16usize), (7, 48)] {
        let id = KeyId::generate().expect("key id");
        let mut b = blob::prefix(id.as_str(), version, &[0x3c; blob::NONCE_LEN]).expect("prefix");
        b.extend_from_slice(&[0xa5; 12]);
        b.extend((0..sealed_len).map(|i| i as u8));
        put(dir, "blob", &format!("v2-version{version}"), &b);
    }
    let id = KeyId::generate().expect("key id");
    let v2 = blob::prefix(id.as_str(), 3, &[0; blob::NONCE_LEN]).expect("prefix");
    let mut b = vec![blob::BLOB_VERSION_1];
    b.extend_from_slice(&v2[1..21]);
    b.extend_from_slice(&[0x5a; 12]);
    b.extend_from_slice(&[0x77; 24]);
    put(dir, "blob", "v1-version3", &b);

    // Audit logs written by FileAuditLog with the targets' (empty) MAC.
    let event = |op: Operation, key: Option<&str>, ec: Option<EncryptionContext>| AuditEvent {
        time: "2026-01-02T03:04:05.678Z".into(),
        operation: op,
        key_id: key.map(str::to_owned),
        key_version: key.map(|_| 1),
        source_key_id: None,
        source_key_version: None,
        detail: None,
        principal: "fuzz".into(),
        encryption_context: ec,
        outcome: sealbox::audit::Outcome::Allowed,
        error: None,
        request_id: "00000000-0000-4000-8000-000000000000".into(),
    };
    let scratch = std::env::temp_dir().join(format!("sealbox-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let log = scratch.join("audit.log");
    let key = "11111111-2222-4333-8444-555555555555";
    write_audit_log(
        &log,
        &[
            event(Operation::CreateKey, Some(key), None),
            event(Operation::Encrypt, Some(key), Some(ec.clone())),
            event(Operation::ListKeys, None, None),
        ],
    );
    let lines = std::fs::read(&log).expect("log");
    put(dir, "audit", "three-records", &lines);
    let first_line = lines
        .split_inclusive(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    put(dir, "audit", "one-record", first_line);
    put(dir, "audit", "torn-tail", &lines[..lines.len() - 1]);
    let _ = std::fs::remove_dir_all(&scratch);

    // DER: keys and a signature.
    let rsa = RsaPrivateKey::generate(2048).expect("RSA key");
    put(
        dir,
        "der",
        "rsa-pkcs8",
        rsa.to_pkcs8_der().expect("pkcs8").as_bytes(),
    );
    put(
        dir,
        "der",
        "rsa-spki",
        &rsa.public_key().to_spki_der().expect("spki"),
    );
    for (curve, name) in [
        (EcCurve::P256, "p256"),
        (EcCurve::P384, "p384"),
        (EcCurve::P521, "p521"),
        (EcCurve::Secp256k1, "secp256k1"),
    ] {
        let k = EcdsaSigningKey::generate(curve).expect("EC key");
        put(
            dir,
            "der",
            &format!("ec-{name}-pkcs8"),
            k.to_pkcs8_der().expect("pkcs8").as_bytes(),
        );
        put(
            dir,
            "der",
            &format!("ec-{name}-spki"),
            &k.verifying_key().to_spki_der().expect("spki"),
        );
    }
    let k = EcdsaSigningKey::generate(EcCurve::P256).expect("EC key");
    put(
        dir,
        "der",
        "ecdsa-signature",
        &k.sign_digest_der(&[7; 32]).expect("signature"),
    );
    println!("seed corpora written under {}", dir.display());
}
