//! The key store: every operation and state transition, the refusals,
//! rotation, import, audit, threads, and the key-store keyring with caching.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{assert_ecdsa_round_trip, is_pkcs11, open, TempDir, TestClock, ROOT};
use sealbox::cmm::{
    CacheLimits, CachingMaterialsManager, DefaultMaterialsManager, MaterialsManager,
};
use sealbox::crypto::{self, EcCurve, EcdsaSigningKey, HashAlg, RsaPrivateKey};
use sealbox::keyring::KeyStoreKeyring;
use sealbox::keystore::*;
use sealbox::message::{decrypt, encrypt, DecryptOptions, EncryptOptions};
use sealbox::{EncryptionContext, Error};

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn create(
    ks: &KeyStore,
    spec: KeySpec,
    usage: Option<KeyUsage>,
    alias: Option<&str>,
) -> KeyMetadata {
    ks.create_key(&CreateKeyRequest {
        key_spec: spec,
        key_usage: usage,
        alias: alias.map(str::to_owned),
        ..CreateKeyRequest::default()
    })
    .unwrap()
}

/// A test's directory `tag`, clock and key store.
/// Every audit event of `ks` from now on, in order.
fn record_events(ks: &KeyStore) -> Arc<std::sync::Mutex<Vec<sealbox::audit::AuditEvent>>> {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    ks.add_audit_sink(Arc::new(sealbox::audit::CallbackSink(Arc::new(
        move |e: &sealbox::audit::AuditEvent| {
            sink.lock().unwrap().push(e.clone());
            Ok(())
        },
    ))));
    events
}

fn start(tag: &str) -> (TempDir, Arc<TestClock>, KeyStore) {
    let dir = TempDir::new(tag);
    let clock = TestClock::new();
    let ks = open(&dir, clock.clone());
    (dir, clock, ks)
}

#[test]
fn root_key_sources_and_wrong_root_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("root");
    let f = dir.path("root.key");
    let root = RootKey::generate().unwrap();
    root.write_new_file(&f).unwrap();
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(root.write_new_file(&f).is_err(), "never overwrites");
    let ks = KeyStore::open(
        dir.path("a.db"),
        &RootKey::from_file(&f).unwrap(),
        KeyStoreOptions::default(),
    )
    .unwrap();
    let k = create(&ks, KeySpec::Aes256, None, None);
    let blob = ks
        .encrypt(&k.key_id, b"x", &EncryptionContext::new())
        .unwrap();
    drop(ks);

    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(RootKey::from_file(&f), Err(Error::InvalidKey(m)) if m.contains("chmod 600")));
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();

    // The same key as hex text, base64 and raw bytes.
    let hex = std::fs::read_to_string(&f).unwrap();
    std::env::set_var("SEALBOX_TEST_ROOT", hex.trim());
    let from_env = RootKey::from_env("SEALBOX_TEST_ROOT").unwrap();
    let ks = KeyStore::open(dir.path("a.db"), &from_env, KeyStoreOptions::default()).unwrap();
    assert_eq!(
        ks.decrypt(&blob, &EncryptionContext::new())
            .unwrap()
            .as_bytes(),
        b"x"
    );
    drop(ks);
    assert!(RootKey::from_env("SEALBOX_TEST_ROOT_UNSET").is_err());
    std::env::set_var("SEALBOX_TEST_ROOT", "c2hvcnQ=");
    assert!(RootKey::from_env("SEALBOX_TEST_ROOT").is_err());

    let wrong = RootKey::from_bytes(&[1; 32]).unwrap();
    assert_eq!(
        KeyStore::open(dir.path("a.db"), &wrong, KeyStoreOptions::default()).err(),
        Some(Error::WrongRootKey)
    );
    assert!(matches!(
        RootKey::from_bytes(&[1; 31]),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn lifecycle_states_and_refusals() {
    let (dir, clock, ks) = start("life");
    let k = create(&ks, KeySpec::Aes256, None, Some("alias/orders"));
    assert_eq!(k.key_state, KeyState::Enabled);
    assert_eq!(
        (k.key_usage, k.origin, k.primary_version, k.aliases.clone()),
        (
            KeyUsage::EncryptDecrypt,
            Origin::Generated,
            1,
            vec!["alias/orders".to_string()]
        )
    );
    let ctx = ec(&[("tenant", "acme")]);
    let blob = ks.encrypt("alias/orders", b"pan", &ctx).unwrap();

    ks.disable_key(&k.key_id).unwrap();
    assert!(matches!(
        ks.encrypt(&k.key_id, b"x", &ctx),
        Err(Error::KeyDisabled(_))
    ));
    assert!(matches!(
        ks.decrypt(&blob, &ctx),
        Err(Error::KeyDisabled(_))
    ));
    assert!(matches!(
        ks.generate_data_key(&k.key_id, 32, &ctx),
        Err(Error::KeyDisabled(_))
    ));
    ks.enable_key(&k.key_id).unwrap();
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"pan");

    for bad in [0, 6, 31] {
        assert!(matches!(
            ks.schedule_key_deletion(&k.key_id, bad),
            Err(Error::InvalidArgument(_))
        ));
    }
    let m = ks.schedule_key_deletion(&k.key_id, 7).unwrap();
    assert!(
        matches!(m.key_state, KeyState::PendingDeletion { deletion_date } if deletion_date == 1_795_000_000 + 7 * 86_400)
    );
    assert!(matches!(
        ks.schedule_key_deletion(&k.key_id, 7),
        Err(Error::InvalidKeyState(_))
    ));
    assert!(matches!(
        ks.decrypt(&blob, &ctx),
        Err(Error::KeyDisabled(_))
    ));
    assert!(matches!(
        ks.enable_key(&k.key_id),
        Err(Error::InvalidKeyState(_))
    ));
    assert!(matches!(
        ks.disable_key(&k.key_id),
        Err(Error::InvalidKeyState(_))
    ));
    assert_eq!(
        ks.cancel_key_deletion(&k.key_id).unwrap().key_state,
        KeyState::Disabled
    );
    assert!(matches!(
        ks.cancel_key_deletion(&k.key_id),
        Err(Error::InvalidKeyState(_))
    ));

    ks.schedule_key_deletion(&k.key_id, 7).unwrap();
    clock.advance_days(6);
    assert!(
        ks.purge_expired_keys().unwrap().is_empty(),
        "not before the window ends"
    );
    clock.advance_days(2);
    assert_eq!(ks.purge_expired_keys().unwrap(), vec![k.key_id.clone()]);
    assert!(matches!(
        ks.describe_key(&k.key_id),
        Err(Error::KeyNotFound(_))
    ));
    assert!(matches!(
        ks.describe_key("alias/orders"),
        Err(Error::KeyNotFound(_))
    ));
    assert!(matches!(
        ks.decrypt(&blob, &ctx),
        Err(Error::KeyNotFound(_))
    ));

    // Purge also runs at open.
    let k2 = create(&ks, KeySpec::Hmac256, None, None);
    ks.schedule_key_deletion(&k2.key_id, 30).unwrap();
    drop(ks);
    clock.advance_days(31);
    let ks = open(&dir, clock.clone());
    assert!(matches!(
        ks.describe_key(&k2.key_id),
        Err(Error::KeyNotFound(_))
    ));
    // The sealed material is gone from the database itself.
    let n: i64 = if common::is_postgres() {
        let url = common::location(&dir);
        let mut c = postgres::Client::connect(url.to_str().unwrap(), postgres::NoTls).unwrap();
        c.query_one("SELECT count(*) FROM key_versions", &[])
            .unwrap()
            .get(0)
    } else {
        let conn = rusqlite::Connection::open(dir.path("keys.db")).unwrap();
        conn.query_row("SELECT count(*) FROM key_versions", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(n, 0);
}

#[test]
fn describe_list_aliases_tags() {
    let (_dir, _, ks) = start("list");
    let mut ids: Vec<String> = (0..7)
        .map(|_| create(&ks, KeySpec::Aes256, None, None).key_id.to_string())
        .collect();
    ids.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ks.list_keys(3, marker.as_deref()).unwrap();
        assert!(page.keys.len() <= 3);
        seen.extend(page.keys.iter().map(|k| k.key_id.clone()));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert!(matches!(
        ks.list_keys(0, None),
        Err(Error::InvalidArgument(_))
    ));

    let (a, b) = (&ids[0], &ids[1]);
    ks.create_alias("alias/app/main", a).unwrap();
    assert!(matches!(
        ks.create_alias("alias/app/main", b),
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        ks.create_alias("app/main", b),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ks.create_alias("alias/aws/reserved", b),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ks.create_alias("alias/x", "00000000-0000-4000-8000-000000000000"),
        Err(Error::KeyNotFound(_))
    ));
    assert_eq!(&ks.describe_key("alias/app/main").unwrap().key_id, a);
    ks.update_alias("alias/app/main", b).unwrap();
    assert_eq!(&ks.describe_key("alias/app/main").unwrap().key_id, b);
    assert!(matches!(
        ks.update_alias("alias/none", b),
        Err(Error::KeyNotFound(_))
    ));
    assert_eq!(
        ks.list_aliases().unwrap(),
        vec![("alias/app/main".to_string(), b.clone())]
    );
    ks.delete_alias("alias/app/main").unwrap();
    assert!(matches!(
        ks.delete_alias("alias/app/main"),
        Err(Error::KeyNotFound(_))
    ));

    let tags: BTreeMap<String, String> = [
        ("team".to_string(), "payments".to_string()),
        ("env".into(), "prod".into()),
    ]
    .into();
    ks.tag_key(a, &tags).unwrap();
    ks.update_key_description(a, "card vault").unwrap();
    let d = ks.describe_key(a).unwrap();
    assert_eq!((d.tags, d.description.as_str()), (tags, "card vault"));
    ks.untag_key(a, &["env".to_string()]).unwrap();
    assert_eq!(ks.describe_key(a).unwrap().tags.len(), 1);
    assert!(matches!(
        ks.tag_key(a, &[(String::new(), "x".to_string())].into()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ks.describe_key("not-a-key"),
        Err(Error::KeyNotFound(_))
    ));

    // Requests refused: a spec and usage that do not go together,
    // rotation of a key that cannot rotate, an alias already taken.
    let taken = CreateKeyRequest {
        alias: Some("alias/dup".into()),
        ..CreateKeyRequest::default()
    };
    ks.create_key(&taken).unwrap();
    type Refusal = (CreateKeyRequest, fn(&Error) -> bool);
    let refused: [Refusal; 3] = [
        (
            CreateKeyRequest {
                key_spec: KeySpec::Aes256,
                key_usage: Some(KeyUsage::SignVerify),
                ..CreateKeyRequest::default()
            },
            |e| matches!(e, Error::InvalidKeyUsage(_)),
        ),
        (
            CreateKeyRequest {
                key_spec: KeySpec::EccNistP256,
                rotation_period_days: Some(90),
                ..CreateKeyRequest::default()
            },
            |e| matches!(e, Error::Unsupported(_)),
        ),
        (taken, |e| matches!(e, Error::AlreadyExists(_))),
    ];
    for (request, expected) in &refused {
        let e = ks.create_key(request).unwrap_err();
        assert!(expected(&e), "{request:?}: {e:?}");
    }
}

#[test]
fn symmetric_operations_and_context_binding() {
    let (_dir, _, ks) = start("sym");
    let k = create(&ks, KeySpec::Aes256, None, None).key_id;
    let k2 = create(&ks, KeySpec::Aes256, None, None).key_id;
    let ctx = ec(&[("record", "42"), ("table", "cards")]);
    let blob = ks.encrypt(&k, b"4111", &ctx).unwrap();
    assert_eq!(blob.len(), 4 + blob::BLOB_OVERHEAD);
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"4111");
    assert_eq!(
        ks.decrypt(&blob, &ec(&[("record", "43"), ("table", "cards")]))
            .err(),
        Some(Error::DecryptionFailed)
    );
    assert_eq!(
        ks.decrypt(&blob, &EncryptionContext::new()).err(),
        Some(Error::DecryptionFailed)
    );
    for bit in (0..blob.len() * 8).step_by(7) {
        let mut bad = blob.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        match ks.decrypt(&bad, &ctx) {
            Err(Error::DecryptionFailed) | Err(Error::KeyNotFound(_)) => {}
            other => panic!("bit {bit}: {:?}", other.map(|p| p.as_bytes().to_vec())),
        }
    }
    assert_eq!(
        ks.decrypt(&blob[..20], &ctx).err(),
        Some(Error::DecryptionFailed)
    );
    assert!(ks.encrypt(&k, &[0; 4096], &ctx).is_ok());
    assert!(matches!(
        ks.encrypt(&k, &[0; 4097], &ctx),
        Err(Error::InvalidArgument(_))
    ));
    assert!(ks.encrypt(&k, b"", &ctx).is_ok());

    let re = ks
        .re_encrypt(&blob, &ctx, &k2, &ec(&[("moved", "yes")]))
        .unwrap();
    assert_eq!(blob::parse(&re).unwrap().key_id, k2);
    assert_eq!(
        ks.decrypt(&re, &ec(&[("moved", "yes")]))
            .unwrap()
            .as_bytes(),
        b"4111"
    );
    assert_eq!(
        ks.re_encrypt(&blob, &EncryptionContext::new(), &k2, &ctx)
            .err(),
        Some(Error::DecryptionFailed)
    );

    let dk = ks.generate_data_key(&k, 32, &ctx).unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    assert_eq!((dk.key_id.as_str(), dk.key_version), (k.as_str(), 1));
    assert_eq!(
        ks.decrypt(&dk.ciphertext, &ctx).unwrap().as_bytes(),
        dk.plaintext.as_bytes()
    );
    let only = ks
        .generate_data_key_without_plaintext(&k, 16, &ctx)
        .unwrap();
    assert_eq!(ks.decrypt(&only, &ctx).unwrap().len(), 16);
    assert!(matches!(
        ks.generate_data_key(&k, 0, &ctx),
        Err(Error::InvalidArgument(_))
    ));

    let hmac = create(&ks, KeySpec::Hmac256, None, None).key_id;
    assert!(matches!(
        ks.encrypt(&hmac, b"x", &ctx),
        Err(Error::InvalidKeyUsage(_))
    ));
    let sign = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    assert!(matches!(
        ks.generate_data_key(&sign, 32, &ctx),
        Err(Error::InvalidKeyUsage(_))
    ));

    assert_eq!(ks.generate_random(32).unwrap().len(), 32);
    assert_ne!(
        ks.generate_random(32).unwrap(),
        ks.generate_random(32).unwrap()
    );
    assert!(matches!(
        ks.generate_random(0),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ks.generate_random(1025),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn rotation_keeps_every_version_decrypting() {
    let (dir, clock, ks) = start("rot");
    let k = create(&ks, KeySpec::Aes256, None, Some("alias/rot")).key_id;
    let ctx = ec(&[("v", "x")]);
    let mut blobs = vec![(1u32, ks.encrypt(&k, b"v1", &ctx).unwrap())];
    for n in 2..=6u32 {
        assert_eq!(ks.rotate_key("alias/rot").unwrap(), n);
        let b = ks.encrypt(&k, format!("v{n}").as_bytes(), &ctx).unwrap();
        assert_eq!(blob::parse(&b).unwrap().version, n);
        blobs.push((n, b));
    }
    let d = ks.describe_key(&k).unwrap();
    assert_eq!((d.primary_version, d.versions.len()), (6, 6));
    drop(ks);
    let ks = open(&dir, clock.clone());
    for (n, b) in &blobs {
        assert_eq!(
            ks.decrypt(b, &ctx).unwrap().as_bytes(),
            format!("v{n}").as_bytes()
        );
    }

    // Automatic rotation, applied when due: before use, and at open.
    let m = ks.enable_key_rotation(&k, 30).unwrap();
    assert_eq!(m.rotation_period_days, Some(30));
    clock.advance_days(29);
    assert_eq!(
        blob::parse(&ks.encrypt(&k, b"a", &ctx).unwrap())
            .unwrap()
            .version,
        6
    );
    clock.advance_days(2);
    assert_eq!(
        blob::parse(&ks.encrypt(&k, b"a", &ctx).unwrap())
            .unwrap()
            .version,
        7
    );
    drop(ks);
    clock.advance_days(31);
    let ks = open(&dir, clock.clone());
    assert_eq!(ks.describe_key(&k).unwrap().primary_version, 8);
    assert!(matches!(
        ks.enable_key_rotation(&k, 0),
        Err(Error::InvalidArgument(_))
    ));
    ks.disable_key_rotation(&k).unwrap();
    clock.advance_days(100);
    assert_eq!(
        blob::parse(&ks.encrypt(&k, b"a", &ctx).unwrap())
            .unwrap()
            .version,
        8
    );
    for (n, b) in &blobs {
        assert_eq!(
            ks.decrypt(b, &ctx).unwrap().as_bytes(),
            format!("v{n}").as_bytes()
        );
    }

    let ecc = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    assert!(matches!(ks.rotate_key(&ecc), Err(Error::Unsupported(_))));
    ks.disable_key(&k).unwrap();
    assert!(matches!(ks.rotate_key(&k), Err(Error::KeyDisabled(_))));
}

#[test]
fn signatures_public_keys_rsa_decrypt_and_macs() {
    let (_dir, _, ks) = start("asym");
    let ecc = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    let ecc384 = create(&ks, KeySpec::EccNistP384, None, None).key_id;
    let k1 = create(&ks, KeySpec::EccSecgP256k1, None, None).key_id;
    let ecc521 = create(&ks, KeySpec::EccNistP521, None, None).key_id;
    let rsa_sign = create(&ks, KeySpec::Rsa2048, Some(KeyUsage::SignVerify), None).key_id;
    let rsa_enc = create(&ks, KeySpec::Rsa2048, None, None).key_id;
    let msg = b"transfer 100 to bob";
    for (key, alg) in [
        (&ecc, SigningAlgorithm::EcdsaSha256),
        (&ecc384, SigningAlgorithm::EcdsaSha384),
        (&k1, SigningAlgorithm::EcdsaSha256),
        (&ecc521, SigningAlgorithm::EcdsaSha512),
        (&rsa_sign, SigningAlgorithm::RsassaPssSha256),
        (&rsa_sign, SigningAlgorithm::RsassaPssSha384),
        (&rsa_sign, SigningAlgorithm::RsassaPssSha512),
        (&rsa_sign, SigningAlgorithm::RsassaPkcs1V15Sha256),
        (&rsa_sign, SigningAlgorithm::RsassaPkcs1V15Sha384),
        (&rsa_sign, SigningAlgorithm::RsassaPkcs1V15Sha512),
    ] {
        let sig = ks.sign(key, msg, alg, MessageType::Raw).unwrap();
        assert!(
            ks.verify(key, msg, &sig, alg, MessageType::Raw).unwrap(),
            "{alg}"
        );
        assert!(
            !ks.verify(key, b"transfer 900 to eve", &sig, alg, MessageType::Raw)
                .unwrap(),
            "{alg}"
        );
        let digest = crypto::digest(alg.hash().unwrap(), msg);
        assert!(
            ks.verify(key, &digest, &sig, alg, MessageType::Digest)
                .unwrap(),
            "{alg}"
        );
        let sig2 = ks.sign(key, &digest, alg, MessageType::Digest).unwrap();
        assert!(
            ks.verify(key, msg, &sig2, alg, MessageType::Raw).unwrap(),
            "{alg}"
        );
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(!ks.verify(key, msg, &bad, alg, MessageType::Raw).unwrap());
        assert!(matches!(
            ks.sign(key, &digest[1..], alg, MessageType::Digest),
            Err(Error::InvalidArgument(_))
        ));
    }
    // RSA-PSS with an ECC key or an ENCRYPT_DECRYPT key; a message longer
    // than 4096 bytes.
    let sign = |key, m: &[u8], alg| ks.sign(key, m, alg, MessageType::Raw).err();
    let usage = |e: Option<Error>| matches!(e, Some(Error::InvalidKeyUsage(_)));
    assert!(usage(sign(&ecc, msg, SigningAlgorithm::RsassaPssSha256)));
    assert!(usage(sign(
        &rsa_enc,
        msg,
        SigningAlgorithm::RsassaPssSha256
    )));
    assert!(usage(sign(&ecc, msg, SigningAlgorithm::EcdsaSha384)));
    assert!(usage(sign(&ecc384, msg, SigningAlgorithm::EcdsaSha256)));
    assert!(usage(sign(&k1, msg, SigningAlgorithm::EcdsaSha384)));
    assert!(usage(sign(&ecc521, msg, SigningAlgorithm::EcdsaSha384)));
    assert!(usage(sign(&ecc, msg, SigningAlgorithm::EcdsaSha512)));
    let too_long = sign(&ecc, &[0; 4097], SigningAlgorithm::EcdsaSha256);
    assert!(matches!(too_long, Some(Error::InvalidArgument(_))));

    let der = ks.get_public_key(&ecc).unwrap();
    let vk = crypto::EcdsaVerifyingKey::from_spki_der(&der).unwrap();
    let sig = ks
        .sign(&ecc, msg, SigningAlgorithm::EcdsaSha256, MessageType::Raw)
        .unwrap();
    assert!(vk.verify_digest_der(&crypto::digest(HashAlg::Sha256, msg), &sig));
    let der384 = ks.get_public_key(&ecc384).unwrap();
    let vk384 = crypto::EcdsaVerifyingKey::from_spki_der(&der384).unwrap();
    assert_eq!(vk384.curve(), crypto::EcCurve::P384);
    let sig384 = ks
        .sign(
            &ecc384,
            msg,
            SigningAlgorithm::EcdsaSha384,
            MessageType::Raw,
        )
        .unwrap();
    assert!(vk384.verify_digest_der(&crypto::digest(HashAlg::Sha384, msg), &sig384));
    let vk1 = crypto::EcdsaVerifyingKey::from_spki_der(&ks.get_public_key(&k1).unwrap()).unwrap();
    assert_eq!(vk1.curve(), crypto::EcCurve::Secp256k1);
    let sig1 = ks
        .sign(&k1, msg, SigningAlgorithm::EcdsaSha256, MessageType::Raw)
        .unwrap();
    assert!(vk1.verify_digest_der(&crypto::digest(HashAlg::Sha256, msg), &sig1));
    // A P-256 key's verifier does not take the secp256k1 signature.
    assert!(!vk.verify_digest_der(&crypto::digest(HashAlg::Sha256, msg), &sig1));
    assert!(der_to_pem("PUBLIC KEY", &der).starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let aes = create(&ks, KeySpec::Aes256, None, None).key_id;
    assert!(matches!(
        ks.get_public_key(&aes),
        Err(Error::InvalidKeyUsage(_))
    ));

    for alg in [
        EncryptionAlgorithm::RsaesOaepSha1,
        EncryptionAlgorithm::RsaesOaepSha256,
    ] {
        let ct = ks.encrypt_rsa(&rsa_enc, b"wrapped secret", alg).unwrap();
        if is_pkcs11() && alg == EncryptionAlgorithm::RsaesOaepSha256 {
            // SoftHSM 2.6 does OAEP with SHA-1 only: a clear refusal naming
            // the mechanism, no software fallback.
            match ks.decrypt_rsa(&rsa_enc, &ct, alg) {
                Err(Error::UnsupportedByHsm { mechanism }) => {
                    assert!(
                        mechanism.contains("OAEP") && mechanism.contains("Sha256"),
                        "{mechanism}"
                    )
                }
                other => panic!(
                    "expected UnsupportedByHsm, got {:?}",
                    other.map(|p| p.len())
                ),
            }
            continue;
        }
        assert_eq!(
            ks.decrypt_rsa(&rsa_enc, &ct, alg).unwrap().as_bytes(),
            b"wrapped secret"
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(
            ks.decrypt_rsa(&rsa_enc, &bad, alg).err(),
            Some(Error::DecryptionFailed)
        );
    }
    assert!(matches!(
        ks.decrypt_rsa(&rsa_sign, &[0; 256], EncryptionAlgorithm::RsaesOaepSha256),
        Err(Error::InvalidKeyUsage(_))
    ));

    for (spec, alg) in [
        (KeySpec::Hmac224, MacAlgorithm::HmacSha224),
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256),
        (KeySpec::Hmac384, MacAlgorithm::HmacSha384),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512),
    ] {
        let k = create(&ks, spec, None, None).key_id;
        let mac = ks.generate_mac(&k, msg, alg).unwrap();
        assert_eq!(mac.len(), alg.hash().output_len());
        assert!(ks.verify_mac(&k, msg, &mac, alg).unwrap());
        assert!(!ks.verify_mac(&k, b"other", &mac, alg).unwrap());
        assert!(!ks.verify_mac(&k, msg, &mac[1..], alg).unwrap());
        let other = if alg == MacAlgorithm::HmacSha256 {
            MacAlgorithm::HmacSha512
        } else {
            MacAlgorithm::HmacSha256
        };
        assert!(matches!(
            ks.generate_mac(&k, msg, other),
            Err(Error::InvalidKeyUsage(_))
        ));
    }
}

#[test]
fn ed25519_keys_sign_the_message_itself() {
    let (_dir, _, ks) = start("ed25519");
    let md = create(&ks, KeySpec::EccNistEdwards25519, None, None);
    assert_eq!(md.key_usage, KeyUsage::SignVerify);
    let k = md.key_id;
    let alg = SigningAlgorithm::Ed25519Sha512;
    let spki = ks.get_public_key(&k).unwrap();
    assert_eq!(spki.len(), 44);
    let vk = crypto::Ed25519VerifyingKey::from_spki_der(&spki).unwrap();
    for msg in [&b""[..], b"transfer 100 to bob", &[0xa5; 4096]] {
        let sig = ks.sign(&k, msg, alg, MessageType::Raw).unwrap();
        assert_eq!(sig.len(), 64);
        // Deterministic (RFC 8032), and valid for an independent verifier.
        assert_eq!(ks.sign(&k, msg, alg, MessageType::Raw).unwrap(), sig);
        assert!(vk.verify(msg, &sig));
        assert!(ks.verify(&k, msg, &sig, alg, MessageType::Raw).unwrap());
        assert!(!ks
            .verify(&k, b"other", &sig, alg, MessageType::Raw)
            .unwrap());
        let mut bad = sig.clone();
        bad[40] ^= 1;
        assert!(!ks.verify(&k, msg, &bad, alg, MessageType::Raw).unwrap());
        assert!(!ks
            .verify(&k, msg, &sig[..63], alg, MessageType::Raw)
            .unwrap());
    }
    // Only RAW (the message is hashed inside the signature), at most 4096
    // bytes; no other algorithm; no ECDSA algorithm on it and no Ed25519 on
    // an ECDSA key; no encryption.
    let digest = crypto::digest(HashAlg::Sha512, b"m");
    for r in [
        ks.sign(&k, &digest, alg, MessageType::Digest).err(),
        ks.verify(&k, &digest, &[0; 64], alg, MessageType::Digest)
            .err(),
        ks.sign(&k, &[0; 4097], alg, MessageType::Raw).err(),
    ] {
        assert!(matches!(r, Some(Error::InvalidArgument(_))), "{r:?}");
    }
    let ecc = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    for (key, alg) in [
        (&k, SigningAlgorithm::EcdsaSha256),
        (&k, SigningAlgorithm::EcdsaSha512),
        (&k, SigningAlgorithm::RsassaPssSha512),
        (&ecc, SigningAlgorithm::Ed25519Sha512),
    ] {
        assert!(matches!(
            ks.sign(key, b"m", alg, MessageType::Raw),
            Err(Error::InvalidKeyUsage(_))
        ));
    }
    assert!(matches!(
        ks.encrypt_rsa(&k, b"m", EncryptionAlgorithm::RsaesOaepSha256),
        Err(Error::InvalidKeyUsage(_))
    ));
    let enc = CreateKeyRequest {
        key_spec: KeySpec::EccNistEdwards25519,
        key_usage: Some(KeyUsage::EncryptDecrypt),
        ..CreateKeyRequest::default()
    };
    assert!(matches!(
        ks.create_key(&enc),
        Err(Error::InvalidKeyUsage(_))
    ));

    // Imported material: the key signs as the independent key does
    // (Ed25519 is deterministic, so the signatures are equal).
    let own = crypto::Ed25519SigningKey::generate().unwrap();
    let req = CreateKeyRequest {
        key_spec: KeySpec::EccNistEdwards25519,
        ..CreateKeyRequest::default()
    };
    let imported = ks
        .import_key(&req, own.to_pkcs8_der().unwrap().as_bytes())
        .unwrap();
    assert_eq!(imported.origin, Origin::External);
    assert_eq!(
        ks.get_public_key(&imported.key_id).unwrap(),
        own.verifying_key().to_spki_der()
    );
    assert_eq!(
        ks.sign(&imported.key_id, b"m", alg, MessageType::Raw)
            .unwrap(),
        own.sign(b"m").unwrap()
    );
    // An EC key is not an Ed25519 key, nor the other way round.
    let p256 = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    assert!(matches!(
        ks.import_key(&req, p256.to_pkcs8_der().unwrap().as_bytes()),
        Err(Error::InvalidKey(_))
    ));
    let as_p256 = CreateKeyRequest {
        key_spec: KeySpec::EccNistP256,
        ..CreateKeyRequest::default()
    };
    assert!(matches!(
        ks.import_key(&as_p256, own.to_pkcs8_der().unwrap().as_bytes()),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn mldsa_keys_sign_messages_and_external_mu() {
    let (_dir, _, ks) = start("mldsa");
    let alg = SigningAlgorithm::MlDsaShake256;
    let specs = [
        (KeySpec::MlDsa44, crypto::MlDsaParams::MlDsa44),
        (KeySpec::MlDsa65, crypto::MlDsaParams::MlDsa65),
        (KeySpec::MlDsa87, crypto::MlDsaParams::MlDsa87),
    ];
    if is_pkcs11() {
        // SoftHSM2 2.6 has no ML-DSA (PKCS#11 3.2): generated and imported
        // keys are refused, naming what the token lacks, and nothing is made.
        for (spec, params) in specs {
            let req = CreateKeyRequest {
                key_spec: spec,
                ..CreateKeyRequest::default()
            };
            let r = ks.create_key(&req);
            assert!(
                matches!(&r, Err(Error::UnsupportedByHsm { mechanism }) if mechanism == "CKM_ML_DSA_KEY_PAIR_GEN"),
                "{r:?}"
            );
            let own = crypto::MlDsaSigningKey::generate(params).unwrap();
            let r = ks.import_key(&req, own.to_pkcs8_der().unwrap().as_bytes());
            assert!(matches!(&r, Err(Error::UnsupportedByHsm { .. })), "{r:?}");
        }
        assert!(ks.list_keys(100, None).unwrap().keys.is_empty());
        return;
    }
    for (spec, params) in specs {
        let md = create(&ks, spec, None, None);
        assert_eq!(md.key_usage, KeyUsage::SignVerify);
        let k = md.key_id;
        let vk = crypto::MlDsaVerifyingKey::from_spki_der(&ks.get_public_key(&k).unwrap()).unwrap();
        assert_eq!(vk.params(), params);
        for msg in [&b""[..], b"transfer 100 to bob", &[0xa5; 4096]] {
            let sig = ks.sign(&k, msg, alg, MessageType::Raw).unwrap();
            assert_eq!(sig.len(), params.signature_len());
            // Hedged: two signatures differ, both valid for an independent
            // verifier and for the key store.
            assert_ne!(ks.sign(&k, msg, alg, MessageType::Raw).unwrap(), sig);
            assert!(vk.verify(msg, &sig));
            assert!(ks.verify(&k, msg, &sig, alg, MessageType::Raw).unwrap());
            assert!(!ks
                .verify(&k, b"other", &sig, alg, MessageType::Raw)
                .unwrap());
            let mut bad = sig.clone();
            bad[100] ^= 1;
            assert!(!ks.verify(&k, msg, &bad, alg, MessageType::Raw).unwrap());
            assert!(!ks
                .verify(&k, msg, &sig[..sig.len() - 1], alg, MessageType::Raw)
                .unwrap());
            // The signature of the message is the signature of its μ, in
            // both directions.
            let mu = vk.mu(&[], msg).unwrap();
            assert!(ks
                .verify(&k, &mu, &sig, alg, MessageType::ExternalMu)
                .unwrap());
            let by_mu = ks.sign(&k, &mu, alg, MessageType::ExternalMu).unwrap();
            assert!(vk.verify(msg, &by_mu));
            assert!(ks.verify(&k, msg, &by_mu, alg, MessageType::Raw).unwrap());
        }
        // A message of any size through EXTERNAL_MU.
        let big = vec![7u8; 1 << 20];
        let mu = vk.mu_of_reader(&mut &big[..]).unwrap();
        assert_eq!(mu, vk.mu(&[], &big).unwrap());
        let sig = ks.sign(&k, &mu, alg, MessageType::ExternalMu).unwrap();
        assert!(vk.verify(&big, &sig));
        // Not DIGEST; a μ of 64 bytes only; RAW at most 4096 bytes.
        for r in [
            ks.sign(&k, &[0; 64], alg, MessageType::Digest).err(),
            ks.verify(&k, &[0; 64], &sig, alg, MessageType::Digest)
                .err(),
            ks.sign(&k, &[0; 63], alg, MessageType::ExternalMu).err(),
            ks.verify(&k, &[0; 65], &sig, alg, MessageType::ExternalMu)
                .err(),
            ks.sign(&k, &[0; 4097], alg, MessageType::Raw).err(),
        ] {
            assert!(matches!(r, Some(Error::InvalidArgument(_))), "{r:?}");
        }
        // No other algorithm on it, no ML-DSA on another key, no EXTERNAL_MU
        // for another algorithm, no encryption or key agreement.
        let ecc = create(&ks, KeySpec::EccNistP256, None, None).key_id;
        for (key, a) in [
            (&k, SigningAlgorithm::EcdsaSha256),
            (&k, SigningAlgorithm::Ed25519Sha512),
            (&k, SigningAlgorithm::RsassaPssSha256),
            (&ecc, SigningAlgorithm::MlDsaShake256),
        ] {
            let r = ks.sign(key, b"m", a, MessageType::Raw);
            assert!(matches!(r, Err(Error::InvalidKeyUsage(_))), "{a} {r:?}");
        }
        let r = ks.sign(
            &ecc,
            &[0; 64],
            SigningAlgorithm::EcdsaSha256,
            MessageType::ExternalMu,
        );
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        for usage in [
            KeyUsage::EncryptDecrypt,
            KeyUsage::KeyAgreement,
            KeyUsage::GenerateVerifyMac,
        ] {
            let req = CreateKeyRequest {
                key_spec: spec,
                key_usage: Some(usage),
                ..CreateKeyRequest::default()
            };
            assert!(matches!(
                ks.create_key(&req),
                Err(Error::InvalidKeyUsage(_))
            ));
        }
        // Disabled: no signature.
        ks.disable_key(&k).unwrap();
        assert!(matches!(
            ks.sign(&k, b"m", alg, MessageType::Raw),
            Err(Error::KeyDisabled(_))
        ));
    }

    // Imported material (RFC 9881 seed form, as pyca writes it; or `both`):
    // the key's public key is the seed's; a key of another parameter set
    // or type, or the expanded form alone, is refused.
    let own = crypto::MlDsaSigningKey::generate(crypto::MlDsaParams::MlDsa65).unwrap();
    let req = CreateKeyRequest {
        key_spec: KeySpec::MlDsa65,
        ..CreateKeyRequest::default()
    };
    let imported = ks
        .import_key(&req, own.to_pkcs8_der().unwrap().as_bytes())
        .unwrap();
    assert_eq!(imported.origin, Origin::External);
    assert_eq!(
        ks.get_public_key(&imported.key_id).unwrap(),
        own.verifying_key().to_spki_der()
    );
    let sig = ks
        .sign(&imported.key_id, b"m", alg, MessageType::Raw)
        .unwrap();
    assert!(own.verifying_key().verify(b"m", &sig));
    let as44 = CreateKeyRequest {
        key_spec: KeySpec::MlDsa44,
        ..CreateKeyRequest::default()
    };
    assert!(matches!(
        ks.import_key(&as44, own.to_pkcs8_der().unwrap().as_bytes()),
        Err(Error::InvalidKey(_))
    ));
    let p256 = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    assert!(matches!(
        ks.import_key(&req, p256.to_pkcs8_der().unwrap().as_bytes()),
        Err(Error::InvalidKey(_))
    ));
    // PKCS#8 { 0, id-ml-dsa-65, OCTET STRING { OCTET STRING expandedKey } }.
    let seed_form = own.to_pkcs8_der().unwrap();
    let head = &seed_form.as_bytes()[..18];
    let mut expanded_only = vec![0x30, 0x82, 0x0f, 0xd8];
    expanded_only.extend_from_slice(&head[2..18]);
    expanded_only.extend_from_slice(&[0x04, 0x82, 0x0f, 0xc4, 0x04, 0x82, 0x0f, 0xc0]);
    expanded_only.extend_from_slice(&[0u8; 4032]);
    let r = ks.import_key(&req, &expanded_only);
    assert!(
        matches!(&r, Err(Error::InvalidKey(m)) if m.contains("seed")),
        "{r:?}"
    );
}

#[test]
fn imported_material_expires_is_deleted_and_imported_again() {
    let (dir, clock, ks) = start("expiry");
    let events = record_events(&ks);
    let now = || clock.0.load(std::sync::atomic::Ordering::SeqCst) / 1000;
    let ctx = ec(&[("tenant", "acme")]);
    let material = [0x42u8; 32];
    let day = 86_400;

    // ValidTo must be in the future, and only for imported material.
    let mut req = CreateKeyRequest {
        valid_to: Some(now() - 1),
        ..CreateKeyRequest::default()
    };
    assert!(matches!(
        ks.import_key(&req, &material),
        Err(Error::InvalidArgument(_))
    ));
    req.valid_to = Some(now() + 10 * day);
    assert!(matches!(
        ks.create_key(&req),
        Err(Error::InvalidArgument(_))
    ));
    let md = ks.import_key(&req, &material).unwrap();
    let k = md.key_id.to_string();
    assert_eq!(md.valid_to, Some(now() + 10 * day));
    assert_eq!(md.versions[0].valid_to, md.valid_to);
    assert!(md.versions[0].material_present);
    assert_eq!(md.key_state, KeyState::Enabled);
    let blob = ks.encrypt(&k, b"card 4111", &ctx).unwrap();

    // Nine days on: still usable. Ten: refused everywhere material is
    // needed, and DescribeKey says PendingImport, before any purge.
    clock.advance_days(9);
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"card 4111");
    clock.advance_days(1);
    let refused = |r: Result<Vec<u8>, Error>| {
        assert!(
            matches!(&r, Err(Error::KeyDisabled(m)) if m.contains("pending import")),
            "{r:?}"
        );
    };
    refused(ks.decrypt(&blob, &ctx).map(|p| p.as_bytes().to_vec()));
    refused(ks.encrypt(&k, b"x", &ctx));
    refused(ks.generate_data_key(&k, 32, &ctx).map(|d| d.ciphertext));
    assert_eq!(
        ks.describe_key(&k).unwrap().key_state,
        KeyState::PendingImport
    );
    // The purge destroys the material (audited as AWS does) and says so.
    assert_eq!(ks.purge_expired_material().unwrap(), 1);
    assert_eq!(ks.purge_expired_material().unwrap(), 0);
    let md = ks.describe_key(&k).unwrap();
    assert!(!md.versions[0].material_present);
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.operation == Operation::DeleteExpiredKeyMaterial
            && e.key_id.as_deref() == Some(k.as_str())));
    refused(ks.decrypt(&blob, &ctx).map(|p| p.as_bytes().to_vec()));

    // Other material is refused; the same material restores the key and
    // what was encrypted under it decrypts again.
    assert!(matches!(
        ks.import_key_material(&k, &[0x43; 32], None),
        Err(Error::InvalidKey(_))
    ));
    let md = ks
        .import_key_material(&k, &material, Some(now() + 30 * day))
        .unwrap();
    assert_eq!(md.key_state, KeyState::Enabled);
    assert_eq!(md.valid_to, Some(now() + 30 * day));
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"card 4111");
    // The same material again only moves the expiration (here: never).
    let md = ks.import_key_material(&k, &material, None).unwrap();
    assert_eq!((md.valid_to, md.versions.len()), (None, 1));

    // On-demand rotation of an imported key: new material is a new
    // primary version; the old one keeps decrypting.
    let md = ks
        .import_key_material(&k, &[0x44; 32], Some(now() + day))
        .unwrap();
    assert_eq!((md.primary_version, md.versions.len()), (2, 2));
    let blob2 = ks.encrypt(&k, b"card 5500", &ctx).unwrap();
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"card 4111");

    // DeleteImportedKeyMaterial: every version goes; PendingImport until
    // each version's material is back (in any order).
    let md = ks.delete_imported_key_material(&k).unwrap();
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert!(md.versions.iter().all(|v| !v.material_present));
    refused(ks.decrypt(&blob2, &ctx).map(|p| p.as_bytes().to_vec()));
    // A disabled key stays disabled through it.
    ks.disable_key(&k).unwrap();
    assert_eq!(
        ks.describe_key(&k).unwrap().key_state,
        KeyState::PendingImport
    );
    ks.import_key_material(&k, &[0x44; 32], None).unwrap();
    let md = ks.import_key_material(&k, &material, None).unwrap();
    assert_eq!(md.key_state, KeyState::Disabled);
    ks.enable_key(&k).unwrap();
    assert_eq!(ks.decrypt(&blob2, &ctx).unwrap().as_bytes(), b"card 5500");
    assert_eq!(ks.decrypt(&blob, &ctx).unwrap().as_bytes(), b"card 4111");

    // Reopened (and on the PostgreSQL store): the same state.
    drop(ks);
    let ks = open(&dir, clock.clone());
    assert_eq!(ks.describe_key(&k).unwrap().key_state, KeyState::Enabled);
    assert_eq!(ks.decrypt(&blob2, &ctx).unwrap().as_bytes(), b"card 5500");

    // Generated keys take no material; asymmetric imported keys take only
    // their own again (no new versions).
    let generated = create(&ks, KeySpec::Aes256, None, None).key_id;
    assert!(matches!(
        ks.import_key_material(&generated, &material, None),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        ks.delete_imported_key_material(&generated),
        Err(Error::Unsupported(_))
    ));
    let ec_key = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    let pkcs8 = ec_key.to_pkcs8_der().unwrap();
    let sreq = CreateKeyRequest {
        key_spec: KeySpec::EccNistP256,
        valid_to: Some(now() + day),
        ..CreateKeyRequest::default()
    };
    let s = ks
        .import_key(&sreq, pkcs8.as_bytes())
        .unwrap()
        .key_id
        .to_string();
    let other = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    assert!(matches!(
        ks.import_key_material(&s, other.to_pkcs8_der().unwrap().as_bytes(), None),
        Err(Error::InvalidKey(_))
    ));
    clock.advance_days(1);
    assert!(matches!(ks.get_public_key(&s), Err(Error::KeyDisabled(_))));
    assert!(matches!(
        ks.sign(&s, b"m", SigningAlgorithm::EcdsaSha256, MessageType::Raw),
        Err(Error::KeyDisabled(_))
    ));
    ks.import_key_material(&s, pkcs8.as_bytes(), None).unwrap();
    assert_ecdsa_round_trip(&ks, &s, b"back");
}

/// A caching CMM stops serving materials of an imported key at its ValidTo,
/// not at the cache's max age: the key store's epoch moves when a ValidTo
/// it has seen passes.
#[test]
fn a_caching_cmm_stops_serving_a_key_whose_material_expired() {
    use sealbox::cmm::{CacheLimits, CachingMaterialsManager, DefaultMaterialsManager};
    let (_dir, clock, ks) = start("expiry-cmm");
    let now = clock.0.load(std::sync::atomic::Ordering::SeqCst) / 1000;
    let req = CreateKeyRequest {
        valid_to: Some(now + 86_400),
        ..CreateKeyRequest::default()
    };
    let k = ks.import_key(&req, &[7u8; 32]).unwrap().key_id.to_string();
    let cmm = CachingMaterialsManager::new(
        Arc::new(DefaultMaterialsManager::new(Arc::new(
            KeyStoreKeyring::new(ks.clone(), &k),
        ))),
        CacheLimits::with_max_age(Duration::from_secs(600)),
    )
    .unwrap();
    let options = EncryptOptions {
        encryption_context: ec(&[("tenant", "t1")]),
        ..Default::default()
    };
    encrypt(b"one", &cmm, &options).unwrap();
    encrypt(b"two", &cmm, &options).unwrap();
    assert_eq!(
        ks.count(Operation::GenerateDataKey),
        1,
        "the second came from the cache"
    );
    clock.advance_days(1);
    assert!(
        encrypt(b"three", &cmm, &options).is_err(),
        "served from the cache after ValidTo"
    );
}

#[test]
fn derive_shared_secret_agrees_with_the_peer() {
    let (_dir, _, ks) = start("ecdh");
    let events = record_events(&ks);
    let ecdh = KeyAgreementAlgorithm::Ecdh;
    for (spec, curve) in [
        (KeySpec::EccNistP256, EcCurve::P256),
        (KeySpec::EccNistP384, EcCurve::P384),
        (KeySpec::EccNistP521, EcCurve::P521),
    ] {
        let k = create(&ks, spec, Some(KeyUsage::KeyAgreement), None).key_id;
        let ours = ks.get_public_key(&k).unwrap();
        // The peer computes the same secret from its private key and our
        // public key.
        let peer = EcdsaSigningKey::generate(curve).unwrap();
        let peer_spki = peer.verifying_key().to_spki_der().unwrap();
        let secret = ks.derive_shared_secret(&k, ecdh, &peer_spki).unwrap();
        assert_eq!(secret.len(), curve.field_len());
        let theirs = crypto::ecdh_derive(peer.to_pkcs8_der().unwrap().as_bytes(), &ours).unwrap();
        assert_eq!(secret.as_bytes(), theirs.as_bytes(), "{spec}");
        // Another peer, another secret.
        let other = EcdsaSigningKey::generate(curve).unwrap();
        let other_spki = other.verifying_key().to_spki_der().unwrap();
        assert_ne!(
            ks.derive_shared_secret(&k, ecdh, &other_spki)
                .unwrap()
                .as_bytes(),
            secret.as_bytes()
        );
        // A key of agreement does not sign.
        assert!(matches!(
            ks.sign(&k, b"m", SigningAlgorithm::EcdsaSha256, MessageType::Raw),
            Err(Error::InvalidKeyUsage(_))
        ));
    }
    let k256 = create(
        &ks,
        KeySpec::EccNistP256,
        Some(KeyUsage::KeyAgreement),
        None,
    )
    .key_id;
    // A peer on another curve, a bad encoding, an RSA or Ed25519 key: refused.
    let p384 = EcdsaSigningKey::generate(EcCurve::P384).unwrap();
    let rsa = RsaPrivateKey::from_pem(include_str!("data/rsa2048.pem")).unwrap();
    let ed = crypto::Ed25519SigningKey::generate().unwrap();
    for bad in [
        p384.verifying_key().to_spki_der().unwrap(),
        b"not a key".to_vec(),
        rsa.public_key().to_spki_der().unwrap(),
        ed.verifying_key().to_spki_der(),
        Vec::new(),
    ] {
        let r = ks.derive_shared_secret(&k256, ecdh, &bad);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{:?}", r.err());
    }
    // A signing key does not agree; secp256k1, Ed25519, RSA and symmetric
    // keys cannot be made for key agreement (as in AWS KMS).
    let signing = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    let peer = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    let peer_spki = peer.verifying_key().to_spki_der().unwrap();
    assert!(matches!(
        ks.derive_shared_secret(&signing, ecdh, &peer_spki),
        Err(Error::InvalidKeyUsage(_))
    ));
    for spec in [
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::Rsa2048,
        KeySpec::Aes256,
        KeySpec::Hmac256,
    ] {
        let req = CreateKeyRequest {
            key_spec: spec,
            key_usage: Some(KeyUsage::KeyAgreement),
            ..CreateKeyRequest::default()
        };
        assert!(
            matches!(ks.create_key(&req), Err(Error::InvalidKeyUsage(_))),
            "{spec}"
        );
    }
    // A disabled key does not agree.
    ks.disable_key(&k256).unwrap();
    assert!(matches!(
        ks.derive_shared_secret(&k256, ecdh, &peer_spki),
        Err(Error::KeyDisabled(_))
    ));
    // Imported material agrees as the original key does.
    let own = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    let req = CreateKeyRequest {
        key_spec: KeySpec::EccNistP256,
        key_usage: Some(KeyUsage::KeyAgreement),
        ..CreateKeyRequest::default()
    };
    let imported = ks
        .import_key(&req, own.to_pkcs8_der().unwrap().as_bytes())
        .unwrap();
    assert_eq!(
        ks.derive_shared_secret(&imported.key_id, ecdh, &peer_spki)
            .unwrap()
            .as_bytes(),
        crypto::ecdh_derive(own.to_pkcs8_der().unwrap().as_bytes(), &peer_spki)
            .unwrap()
            .as_bytes()
    );
    // Every call is audited, the refused ones too.
    let ev = events.lock().unwrap();
    let derive: Vec<&str> = ev
        .iter()
        .filter(|e| e.operation.as_str() == "DeriveSharedSecret")
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(derive.iter().filter(|o| **o == "allowed").count(), 7);
    assert_eq!(derive.len(), 7 + 5 + 2, "{derive:?}");
}

#[test]
fn import_key_material_for_every_spec() {
    let (_dir, _, ks) = start("import");
    let req = |spec, usage| CreateKeyRequest {
        key_spec: spec,
        key_usage: usage,
        ..CreateKeyRequest::default()
    };

    let aes = ks
        .import_key(&req(KeySpec::Aes256, None), &[7; 32])
        .unwrap();
    assert_eq!(aes.origin, Origin::External);
    let b = ks
        .encrypt(&aes.key_id, b"byok", &EncryptionContext::new())
        .unwrap();
    assert_eq!(
        ks.decrypt(&b, &EncryptionContext::new())
            .unwrap()
            .as_bytes(),
        b"byok"
    );
    assert!(matches!(
        ks.rotate_key(&aes.key_id),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        ks.import_key(&req(KeySpec::Aes256, None), &[7; 16]),
        Err(Error::InvalidKey(_))
    ));

    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlgorithm::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithm::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512, 64),
    ] {
        let k = ks.import_key(&req(spec, None), &vec![9; len]).unwrap();
        // The imported bytes are exactly what the key computes with.
        assert_eq!(
            ks.generate_mac(&k.key_id, b"m", alg).unwrap(),
            crypto::hmac(alg.hash(), &vec![9; len], b"m").unwrap()
        );
        assert!(matches!(
            ks.import_key(&req(spec, None), &vec![9; len - 1]),
            Err(Error::InvalidKey(_))
        ));
    }

    let ec_key = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
    let k = ks
        .import_key(
            &req(KeySpec::EccNistP256, None),
            ec_key.to_pkcs8_der().unwrap().as_bytes(),
        )
        .unwrap();
    assert_eq!(
        ks.get_public_key(&k.key_id).unwrap(),
        ec_key.verifying_key().to_spki_der().unwrap()
    );
    let sig = ks
        .sign(
            &k.key_id,
            b"m",
            SigningAlgorithm::EcdsaSha256,
            MessageType::Raw,
        )
        .unwrap();
    assert!(ec_key
        .verifying_key()
        .verify_digest_der(&crypto::digest(HashAlg::Sha256, b"m"), &sig));
    let p384 = EcdsaSigningKey::generate(EcCurve::P384).unwrap();
    assert!(matches!(
        ks.import_key(
            &req(KeySpec::EccNistP256, None),
            p384.to_pkcs8_der().unwrap().as_bytes()
        ),
        Err(Error::InvalidKey(_))
    ));

    let rsa = RsaPrivateKey::from_pem(include_str!("data/rsa2048.pem")).unwrap();
    let k = ks
        .import_key(
            &req(KeySpec::Rsa2048, Some(KeyUsage::EncryptDecrypt)),
            rsa.to_pkcs8_der().unwrap().as_bytes(),
        )
        .unwrap();
    assert_eq!(
        ks.get_public_key(&k.key_id).unwrap(),
        rsa.public_key().to_spki_der().unwrap()
    );
    // SoftHSM does OAEP with SHA-1 only; the software store does both.
    let (hash, alg) = if is_pkcs11() {
        (HashAlg::Sha1, EncryptionAlgorithm::RsaesOaepSha1)
    } else {
        (HashAlg::Sha256, EncryptionAlgorithm::RsaesOaepSha256)
    };
    let ct = rsa
        .public_key()
        .encrypt(crypto::RsaPadding::Oaep(hash), b"hello")
        .unwrap();
    assert_eq!(
        ks.decrypt_rsa(&k.key_id, &ct, alg).unwrap().as_bytes(),
        b"hello"
    );
    assert!(matches!(
        ks.import_key(
            &req(KeySpec::Rsa3072, None),
            rsa.to_pkcs8_der().unwrap().as_bytes()
        ),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        ks.import_key(&req(KeySpec::Rsa2048, None), b"not a key"),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn audit_trail_records_everything_and_detects_tampering() {
    let (dir, _, ks) = start("audit");
    let events = record_events(&ks);
    let k = create(&ks, KeySpec::Aes256, None, None).key_id;
    let ctx = ec(&[("purpose", "audit")]);
    let blob = ks.encrypt(&k, b"secret-plaintext", &ctx).unwrap();
    assert!(ks.decrypt(&blob, &ec(&[("purpose", "wrong")])).is_err());
    ks.decrypt(&blob, &ctx).unwrap();
    for _ in 0..5 {
        ks.generate_random(8).unwrap();
    }
    {
        let ev = events.lock().unwrap();
        let ops: Vec<(&str, &str)> = ev
            .iter()
            .map(|e| (e.operation.as_str(), e.outcome.as_str()))
            .collect();
        assert_eq!(
            &ops[..4],
            &[
                ("CreateKey", "allowed"),
                ("Encrypt", "allowed"),
                ("Decrypt", "failed"),
                ("Decrypt", "allowed")
            ]
        );
        assert_eq!(ev[1].key_id.as_deref(), Some(k.as_str()));
        assert_eq!(ev[1].key_version, Some(1));
        assert_eq!(ev[1].encryption_context, Some(ctx.clone()));
        assert_eq!(ev[1].principal, "tests");
        assert_eq!(ev[2].error.as_deref(), Some("decryption failed"));
        assert_ne!(ev[1].request_id, ev[2].request_id);
    }
    let records = ks.audit_records(None, 100).unwrap();
    assert_eq!(records.len(), 9);
    assert!(records.iter().all(|(_, l)| !l.contains("secret-plaintext")));
    let report = ks.verify_audit_log().unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.records, 9);
    if common::is_postgres() {
        // Tampering with the table: tests/postgres.rs.
        return;
    }
    let path = ks.audit_log_path().unwrap().to_path_buf();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 9);

    let lines: Vec<&str> = text.lines().collect();
    let check = |new: Vec<String>, expect_line: u64| {
        std::fs::write(&path, new.join("\n") + "\n").unwrap();
        let r = ks.verify_audit_log().unwrap();
        assert_eq!(
            r.first_error.as_ref().map(|e| e.0),
            Some(expect_line),
            "{r:?}"
        );
    };
    let owned: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let mut edited = owned.clone();
    edited[3] = edited[3].replace("\"allowed\"", "\"failed\"");
    check(edited, 4);
    let mut removed = owned.clone();
    removed.remove(5);
    check(removed, 6);
    let mut reordered = owned.clone();
    reordered.swap(2, 3);
    check(reordered, 3);
    let mut inserted = owned.clone();
    inserted.insert(4, owned[4].replace("GenerateRandom", "DescribeKey"));
    check(inserted, 5);
    // A replayed copy of a genuine record breaks the chain right after it.
    let mut replayed = owned.clone();
    replayed.insert(4, owned[4].clone());
    check(replayed, 6);
    std::fs::write(&path, text).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());

    // The chain continues across reopen.
    drop(ks);
    let ks = open(&dir, TestClock::new());
    ks.generate_random(1).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());

    // Removing the tail past the last key change is detected through the
    // anchor kept in the metadata store.
    ks.rotate_key(&k).unwrap();
    ks.generate_random(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, lines[..lines.len() - 2].join("\n") + "\n").unwrap();
    let r = ks.verify_audit_log().unwrap();
    assert!(
        r.first_error
            .as_ref()
            .is_some_and(|e| e.1.contains("tail removed")),
        "{r:?}"
    );
    std::fs::write(&path, &text).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());

    // A damaged line in the middle is kept as evidence at reopen, not cut.
    drop(ks);
    let mut damaged: Vec<String> = text.lines().map(str::to_owned).collect();
    damaged[2] = "{garbage".into();
    std::fs::write(&path, damaged.join("\n") + "\n").unwrap();
    let ks = open(&dir, TestClock::new());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().lines().count(),
        damaged.len()
    );
    assert_eq!(
        ks.verify_audit_log().unwrap().first_error.map(|e| e.0),
        Some(3)
    );
}

#[test]
fn an_operation_whose_audit_fails_does_not_happen() {
    let (_dir, _, ks) = start("auditfail");
    let k = create(&ks, KeySpec::Aes256, None, None).key_id;
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let f = fail.clone();
    ks.add_audit_sink(Arc::new(sealbox::audit::CallbackSink(Arc::new(
        move |_e: &sealbox::audit::AuditEvent| {
            if f.load(std::sync::atomic::Ordering::SeqCst) {
                Err(Error::Audit("sink offline".into()))
            } else {
                Ok(())
            }
        },
    ))));
    assert!(matches!(
        ks.encrypt(&k, b"x", &EncryptionContext::new()),
        Err(Error::Audit(_))
    ));
    assert!(matches!(
        ks.create_key(&CreateKeyRequest::default()),
        Err(Error::Audit(_))
    ));
    assert!(matches!(ks.rotate_key(&k), Err(Error::Audit(_))));
    assert!(matches!(ks.disable_key(&k), Err(Error::Audit(_))));
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    let list = ks.list_keys(100, None).unwrap();
    assert_eq!(
        list.keys.len(),
        1,
        "the refused CreateKey left nothing behind"
    );
    let d = ks.describe_key(&k).unwrap();
    assert_eq!((d.primary_version, d.key_state), (1, KeyState::Enabled));
}

#[test]
fn one_key_store_shared_by_many_threads() {
    let (_dir, _, ks) = start("threads");
    let k = create(&ks, KeySpec::Aes256, None, None).key_id;
    let sign = create(&ks, KeySpec::EccNistP256, None, None).key_id;
    std::thread::scope(|s| {
        for t in 0..8 {
            let (ks, k, sign) = (ks.clone(), k.clone(), sign.clone());
            s.spawn(move || {
                let ctx = ec(&[("thread", &t.to_string())]);
                for i in 0..40 {
                    let pt = format!("{t}-{i}");
                    let b = ks.encrypt(&k, pt.as_bytes(), &ctx).unwrap();
                    assert_eq!(ks.decrypt(&b, &ctx).unwrap().as_bytes(), pt.as_bytes());
                    let dk = ks.generate_data_key(&k, 32, &ctx).unwrap();
                    assert_eq!(
                        ks.decrypt(&dk.ciphertext, &ctx).unwrap().as_bytes(),
                        dk.plaintext.as_bytes()
                    );
                    assert_ecdsa_round_trip(&ks, &sign, pt.as_bytes());
                    if t == 0 && i % 10 == 0 {
                        ks.rotate_key(&k).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(ks.describe_key(&k).unwrap().primary_version, 5);
    assert!(ks.verify_audit_log().unwrap().ok());
}

#[test]
fn keystore_keyring_envelopes_and_the_caching_cmm_saves_backend_calls() {
    let (_dir, _, ks) = start("cache");
    let k = create(&ks, KeySpec::Aes256, None, Some("alias/envelope")).key_id;
    let keyring = Arc::new(KeyStoreKeyring::new(ks.clone(), "alias/envelope"));
    // The key store does I/O (and may be an HSM): bindings must not run
    // its work on an event loop.
    assert!(!sealbox::keyring::Keyring::is_in_memory(keyring.as_ref()));
    let plain: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(keyring.clone()));
    let mut opts = EncryptOptions::default();
    opts.encryption_context
        .insert("tenant".into(), "acme".into());
    let ct = encrypt(b"envelope", plain.as_ref(), &opts).unwrap();
    assert_eq!(
        decrypt(&ct, plain.as_ref(), &DecryptOptions::default())
            .unwrap()
            .plaintext,
        b"envelope"
    );
    // Bound to the key store key: another key's keyring cannot open it.
    let other = create(&ks, KeySpec::Aes256, None, None).key_id;
    let wrong = DefaultMaterialsManager::new(Arc::new(KeyStoreKeyring::new(ks.clone(), &other)));
    assert_eq!(
        decrypt(&ct, &wrong, &DecryptOptions::default()).err(),
        Some(Error::DecryptionFailed)
    );
    ks.disable_key(&k).unwrap();
    assert_eq!(
        decrypt(&ct, plain.as_ref(), &DecryptOptions::default()).err(),
        Some(Error::DecryptionFailed)
    );
    ks.enable_key(&k).unwrap();

    const N: u64 = 100_000;
    let before = ks.operation_count("GenerateDataKey");
    let limits = CacheLimits {
        max_messages: 10_000,
        ..CacheLimits::with_max_age(Duration::from_secs(60))
    };
    let cached = CachingMaterialsManager::new(plain.clone(), limits).unwrap();
    let small = EncryptOptions {
        frame_length: 4096,
        ..opts.clone()
    };
    let mut last = Vec::new();
    for i in 0..N {
        last = encrypt(&i.to_be_bytes(), &cached, &small).unwrap();
    }
    let with_cache = ks.operation_count("GenerateDataKey") - before;
    println!(
        "{N} messages with the caching CMM: {with_cache} GenerateDataKey calls; cache stats {:?}",
        cached.stats()
    );
    assert!(with_cache <= 10, "{with_cache} backend calls");
    assert_eq!(with_cache, 10);
    assert_eq!(
        decrypt(&last, plain.as_ref(), &DecryptOptions::default())
            .unwrap()
            .plaintext,
        (N - 1).to_be_bytes()
    );

    let before = ks.operation_count("GenerateDataKey");
    for i in 0..N {
        encrypt(&i.to_be_bytes(), plain.as_ref(), &small).unwrap();
    }
    let without = ks.operation_count("GenerateDataKey") - before;
    println!("{N} messages without it: {without} GenerateDataKey calls");
    assert_eq!(without, N);

    // Decrypt materials are cached too.
    let cached = CachingMaterialsManager::new(
        plain.clone(),
        CacheLimits::with_max_age(Duration::from_secs(60)),
    )
    .unwrap();
    let before = ks.operation_count("Decrypt");
    for _ in 0..100 {
        decrypt(&ct, &cached, &DecryptOptions::default()).unwrap();
    }
    assert_eq!(ks.operation_count("Decrypt") - before, 1);
    let _ = ROOT;
}
