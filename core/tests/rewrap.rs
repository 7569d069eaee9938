//! Rewrapping a message: new encrypted data keys, the body untouched.

use std::sync::Arc;

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::keyring::{KeyStoreKeyring, Keyring, MultiKeyring, RawAesKeyring};
use sealbox::keystore::CreateKeyRequest;
use sealbox::message::{
    decrypt, encrypt, rewrap, rewrap_stream, DecryptOptions, EncryptOptions, MaxEncryptedDataKeys,
    RewrapOptions, Rewrapper, ALL_SUITES,
};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, Error};

mod common;

fn aes(name: &str, key: u8) -> Arc<dyn Keyring> {
    Arc::new(RawAesKeyring::new("rewrap-tests", name, &[key; 32]).unwrap())
}

fn cmm(k: &Arc<dyn Keyring>) -> DefaultMaterialsManager {
    DefaultMaterialsManager::new(k.clone())
}

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy(suite: AlgorithmSuite) -> CommitmentPolicy {
    if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    }
}

fn options(suite: AlgorithmSuite) -> RewrapOptions {
    RewrapOptions {
        decrypt: DecryptOptions {
            commitment_policy: policy(suite),
            ..DecryptOptions::default()
        },
        ..RewrapOptions::default()
    }
}

fn open(ct: &[u8], k: &Arc<dyn Keyring>, suite: AlgorithmSuite) -> sealbox::Result<Vec<u8>> {
    let opts = DecryptOptions {
        commitment_policy: policy(suite),
        ..DecryptOptions::default()
    };
    decrypt(ct, &cmm(k), &opts).map(|r| r.plaintext)
}

fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + 7) as u8).collect()
}

#[test]
fn every_suite_frame_length_and_size_class() {
    let (a, b) = (aes("old", 1), aes("new", 2));
    for suite in ALL_SUITES {
        for frame in [1u32, 7, 64, 4096] {
            let f = frame as usize;
            for n in [0, 1, f.saturating_sub(1), f, f + 1, 3 * f + 5] {
                let pt = plaintext(n);
                let eo = EncryptOptions {
                    frame_length: frame,
                    encryption_context: ec(&[("tenant", "t1")]),
                    ..EncryptOptions::for_suite(suite)
                };
                let ct = encrypt(&pt, &cmm(&a), &eo).unwrap();
                let (re, summary) = rewrap(&ct, &cmm(&a), b.as_ref(), &options(suite)).unwrap();
                let what = format!("suite {suite} frame {frame} size {n}");
                assert_eq!(open(&re, &b, suite).unwrap(), pt, "{what}");
                assert!(
                    open(&re, &a, suite).is_err(),
                    "{what}: old key still opens it"
                );
                assert_eq!(
                    open(&ct, &a, suite).unwrap(),
                    pt,
                    "{what}: the input changed"
                );
                assert_eq!(summary.suite, suite);
                assert_eq!(summary.bytes_in, ct.len() as u64);
                assert_eq!(summary.bytes_out, re.len() as u64);
                assert_eq!(summary.encrypted_data_keys, 1);
                assert_eq!(summary.encryption_context.get("tenant").unwrap(), "t1");
                let (old_h, new_h) = summary.header_len;
                if suite.signature().is_none() {
                    assert!(!summary.resigned);
                    // The body, byte for byte.
                    assert_eq!(ct[old_h..], re[new_h..], "{what}: body changed");
                } else {
                    assert!(summary.resigned);
                    let footer = 2 + 103;
                    assert_eq!(
                        ct[old_h..ct.len() - footer],
                        re[new_h..re.len() - footer],
                        "{what}: frames changed"
                    );
                    assert_ne!(ct[ct.len() - footer..], re[re.len() - footer..]);
                }
            }
        }
    }
}

#[test]
fn streaming_in_pieces_of_any_size() {
    let (a, b) = (aes("old", 1), aes("new", 2));
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        let pt = plaintext(10_000);
        let eo = EncryptOptions {
            frame_length: 1000,
            ..EncryptOptions::for_suite(suite)
        };
        let ct = encrypt(&pt, &cmm(&a), &eo).unwrap();
        let mut bad = Vec::new();
        for piece in [ct.len(), 4096, 1001, 1000, 999, 17, 3, 2, 1] {
            let mut rw = Rewrapper::new(Arc::new(cmm(&a)), b.clone(), options(suite));
            let mut out = Vec::new();
            let mut r = Ok(());
            for chunk in ct.chunks(piece) {
                r = r.and_then(|_| rw.update(chunk, &mut out));
            }
            if r.and_then(|_| rw.finish().map(|_| ())).is_err() {
                bad.push(piece);
            }
        }
        assert!(bad.is_empty(), "suite {suite}: pieces {bad:?} fail");
        for piece in [1usize, 2, 3, 17, 999, 1000, 1001, 4096, ct.len()] {
            let mut rw = Rewrapper::new(Arc::new(cmm(&a)), b.clone(), options(suite));
            let mut out = Vec::new();
            for chunk in ct.chunks(piece) {
                rw.update(chunk, &mut out).unwrap();
            }
            let s = rw
                .finish()
                .unwrap_or_else(|e| panic!("suite {suite} piece {piece}: {e}"));
            assert_eq!(s.bytes_out, out.len() as u64);
            assert_eq!(open(&out, &b, suite).unwrap(), pt, "piece {piece}");
        }
        // Through std::io.
        let mut out = Vec::new();
        let s = rewrap_stream(&ct[..], &mut out, &cmm(&a), b.as_ref(), &options(suite)).unwrap();
        assert_eq!(s.bytes_in, ct.len() as u64);
        assert_eq!(open(&out, &b, suite).unwrap(), pt);
    }
}

#[test]
fn drop_a_recipient_and_add_one() {
    let (a, b, c) = (aes("a", 1), aes("b", 2), aes("c", 3));
    let both: Arc<dyn Keyring> =
        Arc::new(MultiKeyring::new(Some(a.clone()), vec![b.clone()]).unwrap());
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let ct = encrypt(b"payroll", &cmm(&both), &EncryptOptions::default()).unwrap();
    assert_eq!(open(&ct, &b, suite).unwrap(), b"payroll");
    // Keep only A.
    let (only_a, s) = rewrap(&ct, &cmm(&a), a.as_ref(), &options(suite)).unwrap();
    assert_eq!(s.encrypted_data_keys, 1);
    assert!(open(&only_a, &b, suite).is_err(), "B was dropped");
    assert_eq!(open(&only_a, &a, suite).unwrap(), b"payroll");
    // A and C (a keyring without a generator adds wrappings to the key).
    let a_and_c: Arc<dyn Keyring> =
        Arc::new(MultiKeyring::new(None, vec![a.clone(), c.clone()]).unwrap());
    let (two, s) = rewrap(&only_a, &cmm(&a), a_and_c.as_ref(), &options(suite)).unwrap();
    assert_eq!(s.encrypted_data_keys, 2);
    assert_eq!(open(&two, &c, suite).unwrap(), b"payroll");
    assert_eq!(open(&two, &a, suite).unwrap(), b"payroll");
    // The output limit on encrypted data keys.
    let one = RewrapOptions {
        max_encrypted_data_keys: MaxEncryptedDataKeys::limit(1).unwrap(),
        ..options(suite)
    };
    assert!(matches!(
        rewrap(&only_a, &cmm(&a), a_and_c.as_ref(), &one),
        Err(Error::TooManyEncryptedDataKeys { max: 1, found: 2 })
    ));
}

#[test]
fn refusals_change_nothing_and_are_clear() {
    let (a, b) = (aes("a", 1), aes("b", 2));
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        let opts = options(suite);
        let eo = EncryptOptions {
            frame_length: 100,
            encryption_context: ec(&[("purpose", "backup")]),
            ..EncryptOptions::for_suite(suite)
        };
        let ct = encrypt(&plaintext(1000), &cmm(&a), &eo).unwrap();
        let fails = |m: &[u8], o: &RewrapOptions| {
            let mut out = b"kept".to_vec();
            let r = sealbox::message::rewrap_append(m, &cmm(&a), b.as_ref(), o, &mut out);
            assert_eq!(out, b"kept", "output left as it was");
            r.unwrap_err()
        };
        // Wrong key.
        assert!(matches!(
            rewrap(&ct, &cmm(&b), b.as_ref(), &opts).unwrap_err(),
            Error::DecryptionFailed
        ));
        // Wrong context.
        let wrong = RewrapOptions {
            decrypt: DecryptOptions {
                encryption_context: Some(ec(&[("purpose", "other")])),
                ..opts.decrypt.clone()
            },
            ..opts.clone()
        };
        assert!(matches!(fails(&ct, &wrong), Error::DecryptionFailed));
        // A tampered header (a byte of the stored context).
        let mut bad = ct.clone();
        let at = ct.windows(6).position(|w| w == b"backup").unwrap();
        bad[at] ^= 1;
        assert!(matches!(fails(&bad, &opts), Error::DecryptionFailed));
        // Truncated anywhere after the header, or bytes after the end.
        let h = rewrap(&ct, &cmm(&a), b.as_ref(), &opts)
            .unwrap()
            .1
            .header_len
            .0;
        for cut in [h + 1, h + 30, ct.len() - 1] {
            assert!(
                matches!(fails(&ct[..cut], &opts), Error::DecryptionFailed),
                "cut {cut}"
            );
        }
        let mut long = ct.clone();
        long.push(0);
        assert!(matches!(fails(&long, &opts), Error::DecryptionFailed));
        // A frame whose structure is wrong (sequence number).
        let mut bad = ct.clone();
        bad[h + 3] ^= 1;
        assert!(matches!(fails(&bad, &opts), Error::DecryptionFailed));
        // A frame whose content was changed: the structure holds, so an
        // unsigned message is rewrapped, and fails to decrypt as before; a
        // signed one fails its old signature and is refused.
        let mut bad = ct.clone();
        bad[h + 20] ^= 1;
        if suite.signature().is_some() {
            assert!(matches!(fails(&bad, &opts), Error::DecryptionFailed));
        } else {
            let (re, _) = rewrap(&bad, &cmm(&a), b.as_ref(), &opts).unwrap();
            assert!(open(&re, &b, suite).is_err());
        }
        // A body larger than allowed.
        let small = RewrapOptions {
            decrypt: DecryptOptions {
                max_body_size: Some(999),
                ..opts.decrypt.clone()
            },
            ..opts.clone()
        };
        assert!(matches!(
            fails(&ct, &small),
            Error::MessageTooLarge { max: 999 }
        ));
        // A used rewrapper stays failed.
        let mut rw = Rewrapper::new(Arc::new(cmm(&b)), b.clone(), opts.clone());
        let mut out = Vec::new();
        assert!(rw.update(&ct, &mut out).is_err());
        assert!(out.is_empty());
        assert!(matches!(
            rw.update(&ct, &mut out),
            Err(Error::InvalidState(_))
        ));
    }
}

#[test]
fn required_context_keys_stay_unstored() {
    let (a, b) = (aes("a", 1), aes("b", 2));
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let eo = EncryptOptions {
        encryption_context: ec(&[("tenant", "t9"), ("row", "42")]),
        required_encryption_context_keys: vec!["row".into()],
        ..EncryptOptions::default()
    };
    let ct = encrypt(b"ssn", &cmm(&a), &eo).unwrap();
    // Without the unstored pair the header does not authenticate.
    assert!(rewrap(&ct, &cmm(&a), b.as_ref(), &options(suite)).is_err());
    let mut opts = options(suite);
    opts.decrypt.encryption_context = Some(ec(&[("row", "42")]));
    let (re, _) = rewrap(&ct, &cmm(&a), b.as_ref(), &opts).unwrap();
    assert!(
        !re.windows(2).any(|w| w == b"42"),
        "the unstored value was written"
    );
    let with = DecryptOptions {
        encryption_context: Some(ec(&[("row", "42")])),
        ..DecryptOptions::default()
    };
    assert_eq!(decrypt(&re, &cmm(&b), &with).unwrap().plaintext, b"ssn");
    let wrong = DecryptOptions {
        encryption_context: Some(ec(&[("row", "43")])),
        ..DecryptOptions::default()
    };
    assert!(decrypt(&re, &cmm(&b), &wrong).is_err());
}

#[test]
fn key_store_keys_rotation_and_move_to_another_key() {
    let dir = common::TempDir::new("rewrap-ks");
    let ks = common::open(&dir, common::TestClock::new());
    let k1 = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let k2 = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let r1: Arc<dyn Keyring> = Arc::new(KeyStoreKeyring::new(ks.clone(), &k1));
    let r2: Arc<dyn Keyring> = Arc::new(KeyStoreKeyring::new(ks.clone(), &k2));
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let ct = encrypt(b"ledger", &cmm(&r1), &EncryptOptions::default()).unwrap();
    // After a rotation, a rewrap under the same key wraps with its newest
    // version.
    ks.rotate_key(&k1).unwrap();
    let (same, _) = rewrap(&ct, &cmm(&r1), r1.as_ref(), &options(suite)).unwrap();
    assert_eq!(open(&same, &r1, suite).unwrap(), b"ledger");
    // Moved to another key: the first key can be disabled.
    let (moved, _) = rewrap(&ct, &cmm(&r1), r2.as_ref(), &options(suite)).unwrap();
    ks.disable_key(&k1).unwrap();
    assert_eq!(open(&moved, &r2, suite).unwrap(), b"ledger");
    assert!(open(&ct, &r1, suite).is_err());
    // A disabled source key: refused, nothing written.
    assert!(rewrap(&ct, &cmm(&r1), r2.as_ref(), &options(suite)).is_err());
    ks.verify_audit_log().unwrap();
}
