//! The PKCS#11 backend against SoftHSM2, seen by independent clients
//! (OpenSC's pkcs11-tool, OpenSSL), with the SoftHSM2 limits pinned.
//! The module comes from SEALBOX_PKCS11_MODULE (default SoftHSM2's), so the
//! same tests run against another PKCS#11 module.

mod common;

use std::ffi::OsString;
use std::process::Command;
use std::sync::Arc;

use common::{
    assert_ecdsa_round_trip, pkcs11_config, pkcs11_module, pkcs11_token, TempDir, TestClock,
};
use sealbox::keystore::*;
use sealbox::{EncryptionContext, Error};

/// pkcs11-tool runs in another process and reads the token files: the
/// tests of this file run one at a time so that it never sees a half-written
/// object.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn tool(args: &[&str]) -> (bool, String) {
    let (token, pin) = pkcs11_token();
    let module = pkcs11_module();
    let out = Command::new("pkcs11-tool")
        .arg("--module")
        .arg(&module)
        .args(["--token-label", &token, "--login", "--pin", &pin])
        .args(args)
        .output()
        .expect("pkcs11-tool (Debian package opensc; `make test` installs it)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A key store on the test token with its database and audit log in `dir`,
/// and its backend (to count sessions).
fn open(dir: &TempDir, max_sessions: usize) -> (KeyStore, Arc<Pkcs11Backend>) {
    open_at(dir, max_sessions, TestClock::new())
}

/// [`open`] with `clock`.
fn open_at(
    dir: &TempDir,
    max_sessions: usize,
    clock: Arc<TestClock>,
) -> (KeyStore, Arc<Pkcs11Backend>) {
    let backend = Arc::new(Pkcs11Backend::open(pkcs11_config(max_sessions)).unwrap());
    let store = SqliteStore::open(dir.path("keys.db")).unwrap();
    let o = KeyStoreOptions {
        clock,
        principal: "pkcs11-tests".into(),
        audit_log: Some(dir.path("audit.jsonl")),
        ..KeyStoreOptions::default()
    };
    let ks = KeyStore::open_with(Box::new(store), backend.clone(), o).unwrap();
    (ks, backend)
}

/// The start of a test: its turn on the token (see [`SERIAL`]), a
/// directory `tag` and a key store in it.
fn start(
    tag: &str,
    max_sessions: usize,
) -> (
    std::sync::MutexGuard<'static, ()>,
    TempDir,
    KeyStore,
    Arc<Pkcs11Backend>,
) {
    let serial = serial();
    let dir = TempDir::new(tag);
    let (ks, backend) = open(&dir, max_sessions);
    (serial, dir, ks, backend)
}

fn create(ks: &KeyStore, spec: KeySpec, usage: Option<KeyUsage>) -> String {
    ks.create_key(&CreateKeyRequest {
        key_spec: spec,
        key_usage: usage,
        ..CreateKeyRequest::default()
    })
    .unwrap()
    .key_id
    .into()
}

#[test]
fn an_independent_client_sees_the_keys_and_cannot_read_secrets() {
    let (_serial, dir, ks, _) = start("p11-see", 4);
    let aes = create(&ks, KeySpec::Aes256, None);
    let ecc = create(&ks, KeySpec::EccNistP256, None);
    let ecc384 = create(&ks, KeySpec::EccNistP384, None);
    let k1 = create(&ks, KeySpec::EccSecgP256k1, None);
    let ecc521 = create(&ks, KeySpec::EccNistP521, None);
    let rsa = create(&ks, KeySpec::Rsa2048, Some(KeyUsage::SignVerify));
    let hmac = create(&ks, KeySpec::Hmac256, None);
    let hmac384 = create(&ks, KeySpec::Hmac384, None);
    let hmac224 = create(&ks, KeySpec::Hmac224, None);
    let ed = create(&ks, KeySpec::EccNistEdwards25519, None);
    assert_eq!(ks.rotate_key(&aes).unwrap(), 2);

    let (ok, listing) = tool(&["--list-objects"]);
    assert!(ok, "{listing}");
    for (id, v) in [
        (&aes, 1),
        (&aes, 2),
        (&ecc, 1),
        (&ecc384, 1),
        (&k1, 1),
        (&ecc521, 1),
        (&rsa, 1),
        (&hmac, 1),
        (&hmac384, 1),
        (&hmac224, 1),
        (&ed, 1),
    ] {
        assert!(
            listing.contains(&format!("sealbox:{id}:v{v}")),
            "{id} v{v} missing from:\n{listing}"
        );
    }
    // Secret and private keys are sensitive and were never extractable.
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in listing.lines() {
        if let Some(at) = line.find(" Key Object;") {
            blocks.push((line[..at].trim().to_string(), String::new()));
        } else if let Some(b) = blocks.last_mut() {
            b.1.push_str(line);
            b.1.push('\n');
        }
    }
    for id in [
        &aes, &ecc, &ecc384, &k1, &ecc521, &rsa, &hmac, &hmac384, &hmac224, &ed,
    ] {
        let label = format!("label:      sealbox:{id}:v1\n");
        let (kind, body) = blocks
            .iter()
            .find(|(kind, body)| kind != "Public" && body.contains(&label))
            .unwrap_or_else(|| panic!("no private or secret object for {id} in:\n{listing}"));
        assert!(
            body.contains("Access:     sensitive, always sensitive, never extractable"),
            "{kind} {id}:\n{body}"
        );
    }
    // Reading a secret key's value is refused by the token.
    for id in [&aes, &hmac] {
        let label = format!("sealbox:{id}:v1");
        let out_file = dir.path("leak");
        let (ok, out) = tool(&[
            "--read-object",
            "--type",
            "secrkey",
            "--label",
            &label,
            "--output-file",
            out_file.to_str().unwrap(),
        ]);
        let leaked = std::fs::read(&out_file)
            .map(|b| !b.is_empty())
            .unwrap_or(false);
        assert!(!ok && !leaked, "reading {label} must be refused: {out}");
    }

    // A signature made in the HSM verifies with OpenSSL against the exported key.
    let msg = b"signed inside the HSM";
    std::fs::write(dir.path("msg"), msg).unwrap();
    for (key, alg, extra) in [
        (&ecc, SigningAlgorithm::EcdsaSha256, vec![]),
        (&ecc384, SigningAlgorithm::EcdsaSha384, vec![]),
        (&k1, SigningAlgorithm::EcdsaSha256, vec![]),
        (&ecc521, SigningAlgorithm::EcdsaSha512, vec![]),
        (&rsa, SigningAlgorithm::RsassaPkcs1V15Sha256, vec![]),
        (
            &rsa,
            SigningAlgorithm::RsassaPssSha256,
            vec![
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ],
        ),
    ] {
        let sig = ks.sign(key, msg, alg, MessageType::Raw).unwrap();
        assert!(ks.verify(key, msg, &sig, alg, MessageType::Raw).unwrap());
        std::fs::write(dir.path("sig"), &sig).unwrap();
        std::fs::write(
            dir.path("pub.pem"),
            der_to_pem("PUBLIC KEY", &ks.get_public_key(key).unwrap()),
        )
        .unwrap();
        let hash = match alg.hash().unwrap().output_len() {
            32 => "-sha256",
            48 => "-sha384",
            _ => "-sha512",
        };
        let mut args: Vec<OsString> = vec!["dgst".into(), hash.into(), "-verify".into()];
        args.push(dir.path("pub.pem").into());
        args.extend(extra.iter().map(OsString::from));
        args.extend([
            "-signature".into(),
            dir.path("sig").into(),
            dir.path("msg").into(),
        ]);
        common::shared::openssl_ok(args);
    }
    // The token's Ed25519 signature (CKM_EDDSA) verifies in OpenSSL.
    let alg = SigningAlgorithm::Ed25519Sha512;
    let sig = ks.sign(&ed, msg, alg, MessageType::Raw).unwrap();
    assert_eq!(sig.len(), 64);
    std::fs::write(dir.path("sig"), &sig).unwrap();
    std::fs::write(
        dir.path("pub.pem"),
        der_to_pem("PUBLIC KEY", &ks.get_public_key(&ed).unwrap()),
    )
    .unwrap();
    let out = common::shared::openssl_ok([
        OsString::from("pkeyutl"),
        "-verify".into(),
        "-pubin".into(),
        "-inkey".into(),
        dir.path("pub.pem").into(),
        "-rawin".into(),
        "-in".into(),
        dir.path("msg").into(),
        "-sigfile".into(),
        dir.path("sig").into(),
    ]);
    assert!(String::from_utf8_lossy(&out).contains("Signature Verified Successfully"));

    // Deletion destroys the objects once the window has passed.
    ks.schedule_key_deletion(&aes, 7).unwrap();
    drop(ks);
    let clock = TestClock::new();
    clock.advance_days(8);
    let (ks, _) = open_at(&dir, 2, clock);
    assert!(matches!(ks.describe_key(&aes), Err(Error::KeyNotFound(_))));
    let (_, listing) = tool(&["--list-objects"]);
    assert!(
        !listing.contains(&format!("sealbox:{aes}:")),
        "destroyed objects still listed"
    );
    assert!(listing.contains(&format!("sealbox:{ecc}:v1")));
}

#[test]
fn many_threads_with_a_bounded_number_of_sessions() {
    let (_serial, _dir, ks, backend) = start("p11-threads", 3);
    let aes = create(&ks, KeySpec::Aes256, None);
    let ecc = create(&ks, KeySpec::EccNistP256, None);
    let hmac = create(&ks, KeySpec::Hmac512, None);
    let peak = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (ks, aes, ecc, hmac, backend, peak) = (
                ks.clone(),
                aes.clone(),
                ecc.clone(),
                hmac.clone(),
                backend.clone(),
                &peak,
            );
            s.spawn(move || {
                let ctx: EncryptionContext = [("thread".to_string(), t.to_string())].into();
                for i in 0..60 {
                    let pt = format!("{t}:{i}");
                    let b = ks.encrypt(&aes, pt.as_bytes(), &ctx).unwrap();
                    assert_eq!(ks.decrypt(&b, &ctx).unwrap().as_bytes(), pt.as_bytes());
                    assert_ecdsa_round_trip(&ks, &ecc, pt.as_bytes());
                    let mac = ks
                        .generate_mac(&hmac, pt.as_bytes(), MacAlgorithm::HmacSha512)
                        .unwrap();
                    assert!(ks
                        .verify_mac(&hmac, pt.as_bytes(), &mac, MacAlgorithm::HmacSha512)
                        .unwrap());
                    peak.fetch_max(backend.open_sessions(), std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    let peak = peak.into_inner();
    println!(
        "8 threads, 480 rounds of encrypt/decrypt/sign/verify/mac: peak {peak} sessions (limit 3)"
    );
    assert!((1..=3).contains(&peak), "{peak} sessions");
    assert!(ks.verify_audit_log().unwrap().ok());
}

#[test]
fn wrong_pin_missing_token_missing_module_and_deleted_objects_are_clear_errors() {
    let (_serial, dir, ks, _) = start("p11-errors", 2);
    let aes = create(&ks, KeySpec::Aes256, None);
    let ctx = EncryptionContext::new();
    let blob = ks.encrypt(&aes, b"kept", &ctx).unwrap();
    drop(ks);
    let db = std::fs::read(dir.path("keys.db")).unwrap();

    let mut c = pkcs11_config(2);
    c.pin = Pin::from_bytes(b"0000000000").unwrap();
    match Pkcs11Backend::open(c) {
        Err(Error::Pkcs11 { function, rv }) => assert!(
            function.contains("Login") && rv.to_lowercase().contains("pin"),
            "{function} {rv}"
        ),
        other => panic!("wrong PIN: {other:?}"),
    }
    let mut c = pkcs11_config(2);
    c.token = sealbox::keystore::TokenSelector::Label("no-such-token".into());
    assert!(
        matches!(Pkcs11Backend::open(c), Err(Error::InvalidArgument(m)) if m.contains("no-such-token"))
    );
    let mut c = pkcs11_config(2);
    c.module = "/nonexistent/libpkcs11.so".into();
    assert!(
        matches!(Pkcs11Backend::open(c), Err(Error::InvalidArgument(m)) if m.contains("does not exist"))
    );
    let mut c = pkcs11_config(2);
    c.module = "/etc/hostname".into();
    assert!(matches!(Pkcs11Backend::open(c), Err(Error::Pkcs11 { .. })));
    assert_eq!(
        std::fs::read(dir.path("keys.db")).unwrap(),
        db,
        "failed opens leave the store unchanged"
    );

    // An object deleted behind sealbox's back.
    let (ok, out) = tool(&[
        "--delete-object",
        "--type",
        "secrkey",
        "--label",
        &format!("sealbox:{aes}:v1"),
    ]);
    assert!(ok, "{out}");
    let (ks, _) = open(&dir, 2);
    match ks.decrypt(&blob, &ctx) {
        Err(Error::KeyNotFound(m)) => assert!(m.contains("missing from the token"), "{m}"),
        other => panic!("{:?}", other.map(|p| p.len())),
    }
    assert!(matches!(
        ks.encrypt(&aes, b"x", &ctx),
        Err(Error::KeyNotFound(_))
    ));
    let d = ks.describe_key(&aes).unwrap();
    assert_eq!(
        (d.key_state, d.primary_version),
        (KeyState::Enabled, 1),
        "metadata unchanged"
    );
}

#[test]
fn softhsm_limits_are_pinned() {
    let (_serial, dir, ks, _) = start("p11-limits", 2);
    // OAEP only with SHA-1 (SHA-256: CKR_ARGUMENTS_BAD, reported as unsupported).
    let rsa = create(&ks, KeySpec::Rsa2048, None);
    for (alg, supported) in [
        (EncryptionAlgorithm::RsaesOaepSha1, true),
        (EncryptionAlgorithm::RsaesOaepSha256, false),
    ] {
        let ct = ks.encrypt_rsa(&rsa, b"x", alg).unwrap();
        match (ks.decrypt_rsa(&rsa, &ct, alg), supported) {
            (Ok(p), true) => assert_eq!(p.as_bytes(), b"x"),
            (Err(Error::UnsupportedByHsm { mechanism }), false) => {
                assert!(mechanism.starts_with("CKM_RSA_PKCS_OAEP"))
            }
            (r, _) => panic!("{alg}: {:?}", r.map(|p| p.len())),
        }
    }
    // No CKM_ECDSA_SHA256: sealbox hashes in process and uses CKM_ECDSA.
    let (ok, mechs) = tool(&["--list-mechanisms"]);
    assert!(ok, "{mechs}");
    assert!(
        mechs.contains("ECDSA,") || mechs.contains("ECDSA "),
        "{mechs}"
    );
    assert!(
        !mechs.contains("ECDSA-SHA256"),
        "SoftHSM gained CKM_ECDSA_SHA256: revisit the in-process hashing"
    );
    // HMAC keys shorter than the hash are refused (SoftHSM needs >= 32 / 64).
    let short = CreateKeyRequest {
        key_spec: KeySpec::Hmac256,
        ..CreateKeyRequest::default()
    };
    assert!(matches!(
        ks.import_key(&short, &[1; 16]),
        Err(Error::InvalidKey(_))
    ));
    let k = ks.import_key(&short, &[1; 32]).unwrap().key_id;
    assert_eq!(
        ks.generate_mac(&k, b"m", MacAlgorithm::HmacSha256).unwrap(),
        sealbox::crypto::hmac(sealbox::crypto::HashAlg::Sha256, &[1; 32], b"m").unwrap()
    );
    // Initialising another token renumbers slots; sealbox finds its token by label.
    common::init_token("sealbox-other-token");
    let (ks2, _) = open(&dir, 2);
    assert_eq!(
        ks2.generate_mac(&k, b"m", MacAlgorithm::HmacSha256)
            .unwrap()
            .len(),
        32
    );
    // Random bytes come from the token.
    assert_eq!(ks.generate_random(64).unwrap().len(), 64);
}
