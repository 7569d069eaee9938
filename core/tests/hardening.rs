//! Regression tests for the defects of the security review (issue 17):
//! each fails on the code before its fix.

use std::io::Read;
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{encrypt, DecryptOptions, DecryptingReader, EncryptOptions};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sealbox-h-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn materials() -> Arc<dyn MaterialsManager> {
    let kr = Arc::new(RawAesKeyring::new("ns", "k", &[7u8; 32]).unwrap());
    Arc::new(DefaultMaterialsManager::new(kr))
}

/// Reads until the first error, then `n` more times: each later read must
/// fail too (before the fix, the read after a truncation error returned a
/// clean end of file).
fn errors_stick(message: &[u8], n: usize) {
    let mut r = DecryptingReader::new(message, materials(), DecryptOptions::default());
    let mut buf = vec![0u8; 4096];
    let first = loop {
        match r.read(&mut buf) {
            Ok(0) => panic!("a damaged message ended cleanly"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(first.kind(), std::io::ErrorKind::InvalidData);
    for _ in 0..n {
        let again = r
            .read(&mut buf)
            .expect_err("a read after a failure must fail again");
        assert_eq!(again.kind(), first.kind());
    }
}

#[test]
fn decrypting_reader_errors_stick_after_truncation_and_tampering() {
    let m = materials();
    let pt = vec![0x5au8; 50_000];
    let ct = encrypt(&pt, m.as_ref(), &EncryptOptions::default()).unwrap();
    // Truncated at the end (the failure comes at finish) and in the middle.
    errors_stick(&ct[..ct.len() - 1], 3);
    errors_stick(&ct[..ct.len() / 2], 3);
    // A flipped byte in the body (the failure comes at update).
    let mut bad = ct.clone();
    let at = bad.len() - 100;
    bad[at] ^= 1;
    errors_stick(&bad, 3);
}

mod blobs {
    use std::sync::Arc;

    use sealbox::crypto::aes256_prf_blocks;
    use sealbox::keystore::blob::{self, BLOB_VERSION_1};
    use sealbox::keystore::{
        Backend, CreateKeyRequest, Gcm, KeyRef, KeyStore, KeyStoreOptions, MetadataStore, RootKey,
        SoftBackend, SqliteStore, VersionRef,
    };
    use sealbox::{EncryptionContext, Error};

    fn ctx() -> EncryptionContext {
        [("tenant".to_owned(), "a".to_owned())]
            .into_iter()
            .collect()
    }

    /// The AES-256 PRF of the blob-key derivation is the FIPS-197 block
    /// function (C.3 known answer), in both providers.
    #[test]
    fn prf_is_aes256() {
        let key: Vec<u8> = (0u8..32).collect();
        let mut block = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        aes256_prf_blocks(&key, &mut block).unwrap();
        assert_eq!(hex::encode(block), "8ea2b7ca516745bfeafc49904b496089");
    }

    /// Format 2 is written; every blob has its own nonce; a format-1 blob
    /// (sealed directly under the key version, as before) still decrypts;
    /// a changed nonce, format byte or context is refused.
    #[test]
    fn format_2_is_written_and_format_1_still_reads() {
        let dir = super::scratch("blob");
        let root = RootKey::from_bytes(&[3u8; 32]).unwrap();
        let backend = Arc::new(SoftBackend::new(&root).unwrap());
        let db = dir.join("keys.db");
        let ks = KeyStore::open_with(
            Box::new(SqliteStore::open(&db).unwrap()),
            backend.clone(),
            KeyStoreOptions::default(),
        )
        .unwrap();
        let key = ks.create_key(&CreateKeyRequest::default()).unwrap();
        let a = ks.encrypt(&key.key_id, b"card 4111", &ctx()).unwrap();
        let b = ks.encrypt(&key.key_id, b"card 4111", &ctx()).unwrap();
        assert_eq!(a[0], blob::BLOB_VERSION);
        assert_eq!(a.len(), blob::BLOB_OVERHEAD + 9);
        assert_ne!(
            blob::parse(&a).unwrap().nonce,
            blob::parse(&b).unwrap().nonce
        );
        assert_eq!(ks.decrypt(&a, &ctx()).unwrap().as_bytes(), b"card 4111");

        // A format-1 blob, made the way sealbox made them before format 2.
        let store = SqliteStore::open(&db).unwrap();
        let v = store.version(&key.key_id, 1).unwrap().unwrap();
        let kr = KeyRef {
            key_id: &key.key_id,
            version: 1,
            spec: key.key_spec,
            usage: key.key_usage,
        };
        let mut v1 = vec![BLOB_VERSION_1];
        v1.extend_from_slice(&key.key_id.to_bytes());
        v1.extend_from_slice(&1u32.to_be_bytes());
        let aad = blob::aad(&v1, &ctx()).unwrap();
        let iv = [7u8; 12];
        let vr = VersionRef {
            key: kr,
            handle: &v.handle,
        };
        let gcm = Gcm {
            iv: &iv,
            aad: &aad,
            data: b"old blob",
        };
        let sealed = backend.seal(vr, gcm).unwrap();
        v1.extend_from_slice(&iv);
        v1.extend_from_slice(&sealed);
        assert_eq!(ks.decrypt(&v1, &ctx()).unwrap().as_bytes(), b"old blob");

        // Each change is refused: nonce, format byte, context.
        let refused = |blob: &[u8], ec: &EncryptionContext| {
            matches!(ks.decrypt(blob, ec), Err(Error::DecryptionFailed))
        };
        let mut bad = a.clone();
        bad[21] ^= 1;
        assert!(refused(&bad, &ctx()));
        let mut bad = a.clone();
        bad[0] = BLOB_VERSION_1;
        assert!(refused(&bad, &ctx()));
        assert!(refused(&a, &EncryptionContext::new()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod declared_length {
    use std::sync::Arc;
    use std::time::Duration;

    use sealbox::cmm::{CacheLimits, CachingMaterialsManager, MaterialsManager};
    use sealbox::message::{EncryptOptions, Encryptor};
    use sealbox::Error;

    fn caching(max_bytes: u64) -> CachingMaterialsManager {
        let mut limits = CacheLimits::with_max_age(Duration::from_secs(60));
        limits.max_bytes = max_bytes;
        CachingMaterialsManager::new(super::materials(), limits).unwrap()
    }

    fn declared(n: u64) -> EncryptOptions {
        EncryptOptions {
            plaintext_length: Some(n),
            ..EncryptOptions::default()
        }
    }

    /// A stream may not carry more (or less) plaintext than it declared:
    /// the caching CMM counted the declared length against `max_bytes`
    /// (before the fix, 1,000 bytes went through a stream that declared 10,
    /// past a 100-byte limit).
    #[test]
    fn a_stream_is_exactly_as_long_as_declared() {
        let cmm = caching(100);
        let mut out = Vec::new();
        let mut e = Encryptor::new(&cmm, &declared(10)).unwrap();
        let err = e.update(&[1u8; 1000], &mut out).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(ref m) if m.contains("declared")),
            "{err:?}"
        );
        assert!(e.finish(&mut out).is_err(), "a failed stream stays failed");

        let mut e = Encryptor::new(&cmm, &declared(10)).unwrap();
        e.update(&[1u8; 4], &mut out).unwrap();
        assert!(matches!(e.finish(&mut out), Err(Error::InvalidArgument(_))));

        let mut e = Encryptor::new(&cmm, &declared(10)).unwrap();
        let mut msg = Vec::new();
        e.update(&[1u8; 6], &mut msg).unwrap();
        e.update(&[1u8; 4], &mut msg).unwrap();
        e.finish(&mut msg).unwrap();
        let m: Arc<dyn MaterialsManager> = Arc::new(caching(100));
        let back = sealbox::message::decrypt(&msg, m.as_ref(), &Default::default()).unwrap();
        assert_eq!(back.plaintext.as_slice(), &[1u8; 10]);
    }

    /// `encrypt_all_into` checks the declared length too.
    #[test]
    fn whole_message_paths_check_the_declared_length() {
        let cmm = caching(1 << 20);
        let mut e = Encryptor::new(&cmm, &declared(8)).unwrap();
        let n = e.exact_message_len(9).unwrap();
        let mut out = vec![0u8; n];
        assert!(matches!(
            e.encrypt_all_into(&[2u8; 9], &mut out),
            Err(Error::InvalidArgument(_))
        ));
        assert!(out.iter().all(|b| *b == 0));
    }
}

mod cache_revocation {
    use std::sync::Arc;
    use std::time::Duration;

    use sealbox::cmm::{CacheLimits, CachingMaterialsManager, DefaultMaterialsManager};
    use sealbox::keyring::KeyStoreKeyring;
    use sealbox::keystore::{CreateKeyRequest, KeyStore, KeyStoreOptions, Operation, RootKey};
    use sealbox::message::{decrypt, encrypt, DecryptOptions, EncryptOptions};
    use sealbox::Error;

    /// A key disabled in this process stops a caching CMM at the next
    /// message, with a failed audit record, instead of working on until
    /// the entry's max_age (before the fix: the third encrypt succeeded,
    /// unaudited, for the whole hour).
    #[test]
    fn disable_empties_the_cache_of_this_process() {
        let dir = super::scratch("cache");
        let root = RootKey::from_bytes(&[4u8; 32]).unwrap();
        let ks = KeyStore::open(dir.join("keys.db"), &root, KeyStoreOptions::default()).unwrap();
        let key = ks.create_key(&CreateKeyRequest::default()).unwrap();
        let kr = Arc::new(KeyStoreKeyring::new(ks.clone(), &key.key_id));
        let cmm = CachingMaterialsManager::new(
            Arc::new(DefaultMaterialsManager::new(kr)),
            CacheLimits::with_max_age(Duration::from_secs(3600)),
        )
        .unwrap();
        let opts = EncryptOptions {
            plaintext_length: Some(5),
            ..EncryptOptions::default()
        };
        let m1 = encrypt(b"hello", &cmm, &opts).unwrap();
        let _m2 = encrypt(b"hello", &cmm, &opts).unwrap();
        assert_eq!(cmm.stats(), (1, 1), "the second message is a cache hit");
        assert_eq!(ks.count(Operation::GenerateDataKey), 1);
        decrypt(&m1, &cmm, &DecryptOptions::default()).unwrap();
        decrypt(&m1, &cmm, &DecryptOptions::default()).unwrap();

        ks.disable_key(&key.key_id).unwrap();
        assert!(matches!(
            encrypt(b"hello", &cmm, &opts),
            Err(Error::KeyDisabled(_))
        ));
        assert!(decrypt(&m1, &cmm, &DecryptOptions::default()).is_err());
        let log = std::fs::read_to_string(ks.audit_log_path().unwrap()).unwrap();
        let last_failed = log
            .lines()
            .filter(|l| l.contains("\"outcome\":\"failed\""))
            .count();
        assert!(last_failed >= 2, "the refusals are audited");

        ks.enable_key(&key.key_id).unwrap();
        encrypt(b"hello", &cmm, &opts).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod files_and_audit {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::sync::Arc;

    use sealbox::audit::{AuditEvent, AuditSink, FileAuditLog, Outcome};
    use sealbox::keystore::{CreateKeyRequest, KeyStore, KeyStoreOptions, Operation, Pin, RootKey};
    use sealbox::EncryptionContext;

    use super::scratch;

    fn private_file(path: &std::path::Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Secret files are opened once without following links and checked on
    /// the open file: a link to a good key file, or a file of another user,
    /// is refused (before: both were read, the mode checked by path).
    #[test]
    fn root_key_and_pin_files_refuse_links_and_other_owners() {
        let d = scratch("files");
        let key = d.join("root.key");
        private_file(&key, &[9u8; 32]);
        assert!(RootKey::from_file(&key).is_ok());
        let link = d.join("link.key");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let err = RootKey::from_file(&link).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        let pin = d.join("pin");
        private_file(&pin, b"1234\n");
        assert!(Pin::from_file(&pin).is_ok());
        let pin_link = d.join("pin-link");
        std::os::unix::fs::symlink(&pin, &pin_link).unwrap();
        assert!(Pin::from_file(&pin_link).is_err());
        // Another user's file (needs root to make one).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(&key, Some(65534), Some(65534)).unwrap();
            let err = RootKey::from_file(&key).unwrap_err().to_string();
            assert!(err.contains("belongs to user 65534"), "{err}");
            std::os::unix::fs::chown(&pin, Some(65534), Some(65534)).unwrap();
            assert!(Pin::from_file(&pin).is_err());
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A database the library creates is 0600 whatever the umask (before:
    /// 0644 under the usual 022).
    #[test]
    fn a_new_database_is_private() {
        let d = scratch("mode");
        let db = d.join("keys.db");
        let root = RootKey::from_bytes(&[5u8; 32]).unwrap();
        let ks = KeyStore::open(&db, &root, KeyStoreOptions::default()).unwrap();
        ks.create_key(&CreateKeyRequest::default()).unwrap();
        assert_eq!(std::fs::metadata(&db).unwrap().mode() & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A change to keys has its record on disk before the change commits,
    /// even with `audit_sync` off (before: never fsync'd, while SQLite
    /// commits with synchronous=FULL); data-plane records follow the setting.
    #[test]
    fn records_of_changes_are_synced() {
        let d = scratch("sync");
        let mac: sealbox::audit::ChainMac = Arc::new(|b: &[u8]| Ok(b[..b.len().min(32)].to_vec()));
        let log = FileAuditLog::open(d.join("a.jsonl"), mac, false).unwrap();
        let event = |op| AuditEvent {
            time: "2026-12-05T00:00:00.000Z".into(),
            operation: op,
            key_id: None,
            key_version: None,
            source_key_id: None,
            source_key_version: None,
            detail: None,
            principal: "p".into(),
            encryption_context: None,
            outcome: Outcome::Allowed,
            error: None,
            request_id: "r".into(),
        };
        log.record(&event(Operation::Decrypt)).unwrap();
        assert_eq!(log.sync_count(), 0);
        log.record(&event(Operation::DisableKey)).unwrap();
        assert_eq!(log.sync_count(), 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// ReEncrypt's record names the source key and version beside the
    /// destination (before: the destination overwrote them).
    #[test]
    fn re_encrypt_audits_its_source() {
        let d = scratch("reenc");
        let root = RootKey::from_bytes(&[6u8; 32]).unwrap();
        let ks = KeyStore::open(d.join("keys.db"), &root, KeyStoreOptions::default()).unwrap();
        let src = ks.create_key(&CreateKeyRequest::default()).unwrap();
        let dst = ks.create_key(&CreateKeyRequest::default()).unwrap();
        let ec = EncryptionContext::new();
        let blob = ks.encrypt(&src.key_id, b"x", &ec).unwrap();
        ks.re_encrypt(&blob, &ec, &dst.key_id, &ec).unwrap();
        let log = std::fs::read_to_string(ks.audit_log_path().unwrap()).unwrap();
        let line = log.lines().find(|l| l.contains("\"ReEncrypt\"")).unwrap();
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["key_id"], dst.key_id.as_str());
        assert_eq!(v["source_key_id"], src.key_id.as_str());
        assert_eq!(v["source_key_version"], 1);
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// Found by the audit fuzz target's author: a log whose lines end in CRLF
/// verified (the verifier stripped "\r\n") while the writer, reopening it,
/// found no record and restarted the chain at 0. The verifier now reads
/// lines exactly as the writer does: such a log does not verify.
#[test]
fn a_crlf_audit_log_does_not_verify() {
    use sealbox::keystore::{KeyStore, KeyStoreOptions, RootKey};
    let dir = scratch("crlf");
    let root = RootKey::from_bytes(&[8u8; 32]).unwrap();
    let ks = KeyStore::open(dir.join("keys.db"), &root, KeyStoreOptions::default()).unwrap();
    ks.generate_random(4).unwrap();
    ks.generate_random(4).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());
    let log = ks.audit_log_path().unwrap().to_path_buf();
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replace('\n', "\r\n")).unwrap();
    let report = ks.verify_audit_log().unwrap();
    assert_eq!(
        report.first_error.map(|e| e.0),
        Some(1),
        "a CRLF log verified"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
