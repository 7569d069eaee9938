//! Round trips, streaming, policies and tamper resistance of the envelope
//! layer.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::{
    pq_generate_key_pair, pq_public_key, EcdhCurveSpec, EcdhKeyAgreementScheme, Keyring,
    MultiKeyring, PqKeyring, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaWrappingPadding,
};
use sealbox::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use sealbox::message::{
    decrypt, decrypt_append, decrypt_into, decrypt_into_uninit, encrypt, plaintext_len,
    DecryptOptions, DecryptResult, DecryptingReader, Decryptor, EncryptOptions, EncryptingWriter,
    Encryptor, InputMemory, MaxEncryptedDataKeys, Parallelism, ALL_SUITES,
};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, Error};

const RSA_PRIVATE: &str = include_str!("data/rsa2048.pem");
const RSA_PUBLIC: &str = include_str!("data/rsa2048.pub.pem");

fn aes_keyring(key: u8) -> Arc<dyn Keyring> {
    Arc::new(RawAesKeyring::new("sealbox-tests", "aes-key", &[key; 32]).unwrap())
}

fn cmm(k: Arc<dyn Keyring>) -> DefaultMaterialsManager {
    DefaultMaterialsManager::new(k)
}

/// Decrypts `ct` with `keyring` and the default options.
fn decrypt_with(ct: &[u8], keyring: Arc<dyn Keyring>) -> sealbox::Result<DecryptResult> {
    decrypt(ct, &cmm(keyring), &DecryptOptions::default())
}

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy_for(suite: AlgorithmSuite) -> CommitmentPolicy {
    if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    }
}

fn options(suite: AlgorithmSuite, frame_length: u32) -> (EncryptOptions, DecryptOptions) {
    let e = EncryptOptions {
        suite: Some(suite),
        frame_length,
        commitment_policy: policy_for(suite),
        encryption_context: ec(&[("purpose", "test"), ("tenant", "t\u{e9}st")]),
        ..EncryptOptions::default()
    };
    let d = DecryptOptions {
        commitment_policy: policy_for(suite),
        ..DecryptOptions::default()
    };
    (e, d)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 251) as u8).collect()
}

#[test]
fn every_suite_round_trips_at_frame_boundaries() {
    let m = cmm(aes_keyring(1));
    for suite in ALL_SUITES {
        for (frame, sizes) in [
            (
                4096u32,
                &[0usize, 1, 4095, 4096, 4097, 3 * 4096, 70_000][..],
            ),
            (1, &[0, 1, 5]),
            (7, &[6, 7, 8, 49]),
        ] {
            let (eo, d) = options(suite, frame);
            for &n in sizes {
                let pt = pattern(n);
                let ct = encrypt(&pt, &m, &eo).unwrap();
                let res = decrypt(&ct, &m, &d).unwrap();
                assert_eq!(res.plaintext, pt, "{suite} frame {frame} size {n}");
                assert_eq!(res.suite, suite);
                assert_eq!(res.encryption_context["tenant"], "t\u{e9}st");
                assert_eq!(
                    res.encryption_context.contains_key("aws-crypto-public-key"),
                    suite.signature().is_some()
                );
                // Body size: ceil(n / frame) regular-or-final frames, one final frame at least.
                let frames = if n == 0 {
                    1
                } else {
                    n.div_ceil(frame as usize)
                };
                let overhead = ct.len() - n;
                assert!(
                    overhead >= frames * 32,
                    "{suite}: {overhead} bytes of overhead for {frames} frames"
                );
            }
        }
    }
}

#[test]
fn default_suite_is_0478_and_the_large_frame_limit_works() {
    let m = cmm(aes_keyring(2));
    let mut eo = EncryptOptions::default();
    let ct = encrypt(b"hello", &m, &eo).unwrap();
    assert_eq!(&ct[..3], &[0x02, 0x04, 0x78]);
    eo.frame_length = u32::MAX;
    let ct = encrypt(&pattern(10_000), &m, &eo).unwrap();
    assert_eq!(
        decrypt(&ct, &m, &DecryptOptions::default())
            .unwrap()
            .plaintext,
        pattern(10_000)
    );
    eo.frame_length = 0;
    assert!(matches!(
        encrypt(b"x", &m, &eo),
        Err(Error::InvalidArgument(_))
    ));
}

/// The two committing suites, unsigned first.
const COMMITTING: [AlgorithmSuite; 2] = [
    AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
];

#[test]
fn streaming_in_any_chunking_matches_one_shot() {
    let m = Arc::new(cmm(aes_keyring(3)));
    let pt = pattern(50_000);
    for suite in COMMITTING {
        let (eo, d) = options(suite, 1000);
        for enc_chunk in [1usize, 999, 1000, 1001, 65_536] {
            let mut enc = Encryptor::new(m.as_ref(), &eo).unwrap();
            let mut ct = Vec::new();
            for c in pt.chunks(enc_chunk) {
                enc.update(c, &mut ct).unwrap();
            }
            enc.finish(&mut ct).unwrap();
            assert!(matches!(
                enc.update(b"x", &mut ct),
                Err(Error::InvalidState(_))
            ));
            for dec_chunk in [1usize, 17, 1036, 100_000] {
                let mut dec = Decryptor::new(m.clone(), d.clone());
                let mut out = Vec::new();
                for c in ct.chunks(dec_chunk) {
                    dec.update(c, &mut out).unwrap();
                }
                dec.finish(&mut out).unwrap();
                assert_eq!(out, pt, "{suite} enc {enc_chunk} dec {dec_chunk}");
                assert_eq!(dec.encryption_context().unwrap()["purpose"], "test");
            }
        }
    }
}

#[test]
fn whole_message_into_a_caller_buffer_is_exactly_the_streamed_message() {
    let m = Arc::new(cmm(aes_keyring(5)));
    for suite in ALL_SUITES.iter().copied() {
        for fl in [1u32, 7, 4096] {
            let (eo, d) = options(suite, fl);
            let f = fl as usize;
            for n in [
                0usize,
                1,
                f.saturating_sub(1),
                f,
                f + 1,
                3 * f,
                3 * f + 5,
                20_000,
            ] {
                let pt = pattern(n);
                let mut enc = Encryptor::new(m.as_ref(), &eo).unwrap();
                let len = enc.exact_message_len(n).unwrap();
                // A buffer of any other length is refused and the encryptor
                // stays usable.
                for wrong in [len - 1, len + 1] {
                    let mut buf = vec![0u8; wrong];
                    assert!(matches!(
                        enc.encrypt_all_into(&pt, &mut buf),
                        Err(Error::InvalidArgument(_))
                    ));
                }
                let mut ct = vec![0u8; len];
                enc.encrypt_all_into(&pt, &mut ct).unwrap();
                assert!(matches!(
                    enc.encrypt_all_into(&pt, &mut ct),
                    Err(Error::InvalidState(_))
                ));
                assert_eq!(
                    decrypt(&ct, m.as_ref(), &d)
                        .unwrap_or_else(|e| panic!("{suite} fl {fl} n {n}: {e:?}"))
                        .plaintext,
                    pt,
                    "{suite} fl {fl} n {n}"
                );

                // The streamed message of the same plaintext has the same
                // length and the same frame boundaries.
                let mut enc = Encryptor::new(m.as_ref(), &eo).unwrap();
                let mut streamed = Vec::new();
                for c in pt.chunks(13) {
                    enc.update(c, &mut streamed).unwrap();
                }
                enc.finish(&mut streamed).unwrap();
                assert_eq!(streamed.len(), len, "{suite} fl {fl} n {n}");
            }
        }
    }
    // Not once streaming has begun, for any suite.
    for suite in COMMITTING {
        let (eo, _) = options(suite, 4096);
        let mut enc = Encryptor::new(m.as_ref(), &eo).unwrap();
        assert!(enc.exact_message_len(10).is_some());
        enc.update(b"abc", &mut Vec::new()).unwrap();
        assert_eq!(enc.exact_message_len(10), None);
    }
}

#[test]
fn signed_final_frame_is_held_until_the_signature_verifies() {
    let m = Arc::new(cmm(aes_keyring(4)));
    let pt = pattern(2500);
    for suite in COMMITTING.into_iter().rev() {
        let (eo, d) = options(suite, 1000);
        let mut ct = encrypt(&pt, m.as_ref(), &eo).unwrap();
        let last = ct.len() - 1;
        ct[last] ^= 1; // the signature's last byte, or the final frame's tag
        let mut dec = Decryptor::new(m.clone(), d.clone());
        let mut out = Vec::new();
        let (body, tail) = ct.split_at(last);
        let r = dec.update(body, &mut out);
        if suite.signature().is_some() {
            // Both regular frames are authenticated and released; the final
            // frame waits for the footer, whose bad signature ends the message.
            assert!(r.is_ok());
            assert_eq!(out, &pt[..2000]);
            assert_eq!(dec.update(tail, &mut out), Err(Error::DecryptionFailed));
            assert_eq!(out, &pt[..2000]);
        } else {
            // Unsigned: the final frame's tag is incomplete, nothing of it is out.
            assert!(r.is_ok());
            assert_eq!(out, &pt[..2000]);
            assert_eq!(dec.update(tail, &mut out), Err(Error::DecryptionFailed));
            assert_eq!(out, &pt[..2000]);
        }
        assert!(matches!(
            dec.update(b"", &mut out),
            Err(Error::InvalidState(_))
        ));
    }
}

/// A ciphertext that cannot change is opened straight from where it is; one
/// that may change (a binding's buffer) frame by frame from a private copy.
/// Both give the same plaintext, suite and context, on one thread and on
/// several, into a growing buffer and into one of the exact length; both
/// refuse every flipped bit of a small message, and a flipped bit in a
/// middle frame of a large one opened on several threads, leaving what was
/// appended to as it was and an exact buffer zeroed. (That the AES-GCM
/// calls themselves zero what they wrote on failure, in both forms, is
/// tests/differential.rs's and tests/wycheproof.rs's.)
#[test]
fn both_kinds_of_input_memory_open_alike() {
    let m = cmm(aes_keyring(4));
    let memories = [InputMemory::Unchanging, InputMemory::MayChange];
    for suite in ALL_SUITES {
        for (frame, sizes, threads) in [
            (16384u32, &[0usize, 1, 16383, 16384, 16385, 100_000][..], 1),
            (4096, &[2 << 20][..], 2),
            (7, &[0, 6, 7, 8, 49][..], 1),
        ] {
            let (eo, mut d) = options(suite, frame);
            d.parallelism = Parallelism::threads(threads).unwrap();
            for &n in sizes {
                let pt = pattern(n);
                let ct = encrypt(&pt, &m, &eo).unwrap();
                let expected = decrypt(&ct, &m, &d).unwrap();
                assert!(expected.plaintext == pt, "{suite} {frame} {n}");
                for memory in memories {
                    let what = format!("{suite} frame {frame} size {n} {memory:?}");
                    let mut out = b"kept".to_vec();
                    let (got_suite, context) =
                        decrypt_append(&ct, memory, &m, &d, &mut out).unwrap();
                    assert!(out[..4] == *b"kept" && out[4..] == pt[..], "{what}");
                    assert_eq!(got_suite, suite, "{what}");
                    assert_eq!(context, expected.encryption_context, "{what}");
                    let mut exact = vec![std::mem::MaybeUninit::new(0xAAu8); n];
                    let (got_suite, context) =
                        decrypt_into_uninit(&ct, memory, &m, &d, &mut exact).unwrap();
                    // SAFETY: initialized above and written by the call.
                    let exact: Vec<u8> = exact.iter().map(|b| unsafe { b.assume_init() }).collect();
                    assert!(exact == pt, "{what}: into");
                    assert_eq!(
                        (got_suite, context),
                        (suite, expected.encryption_context.clone())
                    );
                    for piece_len in pieces_for(ct.len()) {
                        let streamed = stream_with(&ct, memory, &m, &d, piece_len).unwrap();
                        assert!(streamed == pt, "{what}: stream in pieces of {piece_len}");
                    }
                }
                if threads > 1 {
                    let mut bad = ct.clone();
                    bad[ct.len() / 2] ^= 0x04;
                    for memory in memories {
                        let mut out = b"kept".to_vec();
                        assert!(
                            decrypt_append(&bad, memory, &m, &d, &mut out).is_err(),
                            "{suite} {memory:?}: a flip in a middle frame accepted"
                        );
                        assert_eq!(out, b"kept");
                        let mut exact = vec![std::mem::MaybeUninit::new(0xAAu8); n];
                        assert!(decrypt_into_uninit(&bad, memory, &m, &d, &mut exact).is_err());
                        // SAFETY: initialized above; a failure writes zeros.
                        assert!(exact.iter().all(|b| unsafe { b.assume_init() } == 0));
                        for piece_len in pieces_for(bad.len()) {
                            assert!(
                                stream_with(&bad, memory, &m, &d, piece_len).is_err(),
                                "{suite} {memory:?}: a flip in a middle frame accepted by a stream \
                                 in pieces of {piece_len}"
                            );
                        }
                    }
                }
            }
        }
        let (eo, d) = options(suite, 16);
        let ct = encrypt(&pattern(40), &m, &eo).unwrap();
        for bit in 0..ct.len() * 8 {
            let mut bad = ct.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            for memory in memories {
                let mut out = b"kept".to_vec();
                assert!(
                    decrypt_append(&bad, memory, &m, &d, &mut out).is_err(),
                    "{suite} {memory:?}: flip of bit {bit} accepted"
                );
                assert_eq!(out, b"kept", "{suite} {memory:?}: flip of bit {bit}");
                let mut exact = vec![std::mem::MaybeUninit::new(0xAAu8); 40];
                assert!(decrypt_into_uninit(&bad, memory, &m, &d, &mut exact).is_err());
                // SAFETY: initialized above; a failure writes zeros.
                assert!(
                    exact.iter().all(|b| unsafe { b.assume_init() } == 0),
                    "{suite} {memory:?}: flip of bit {bit} left bytes"
                );
            }
        }
    }
}

/// `ct` through a `Decryptor` made for `memory`, in pieces of
/// `piece_len` bytes.
fn stream_with(
    ct: &[u8],
    memory: InputMemory,
    m: &DefaultMaterialsManager,
    d: &DecryptOptions,
    piece_len: usize,
) -> sealbox::Result<Vec<u8>> {
    let mut dec = Decryptor::with_memory(Arc::new(m.clone()), d.clone(), memory);
    let mut out = Vec::new();
    for piece in ct.chunks(piece_len) {
        dec.update(piece, &mut out)?;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

/// Pieces a stream is fed in: a header, frames and a footer split across
/// them (1000 bytes), and many whole frames at once (65,537 bytes and
/// 3 MiB: the multi-threaded path, for the 2 MiB message of 4 KiB frames).
const PIECES: [usize; 3] = [1000, 65_537, 3 << 20];

/// The piece lengths of [`PIECES`] that split a message of `len` bytes
/// differently (all of them from `len` up are one piece).
fn pieces_for(len: usize) -> Vec<usize> {
    let mut p: Vec<usize> = PIECES.iter().map(|&p| p.min(len.max(1))).collect();
    p.dedup();
    p
}

/// A message's structure gives its plaintext's exact length, and
/// `decrypt_into` a buffer of that length yields what `decrypt` does, for
/// every suite, frame length and size class (the parallel path included);
/// every failure leaves the buffer zeroed.
#[test]
fn decrypt_into_a_buffer_of_the_length_the_structure_gives() {
    let m = cmm(aes_keyring(4));
    let limit = MaxEncryptedDataKeys::default();
    for suite in ALL_SUITES {
        for (frame, sizes) in [
            (4096u32, &[0usize, 1, 4095, 4096, 4097, 70_000, 2 << 20][..]),
            (1, &[0, 1, 5]),
            (7, &[6, 7, 8, 49]),
        ] {
            // (Non-framed bodies, which sealbox does not write: the AWS
            // vectors in tests/vectors.rs.)
            let (eo, d) = options(suite, frame);
            for &n in sizes {
                let pt = pattern(n);
                let ct = encrypt(&pt, &m, &eo).unwrap();
                assert_eq!(
                    plaintext_len(&ct, limit),
                    Some(n),
                    "{suite} frame {frame} size {n}"
                );
                let mut out = vec![0xAAu8; n];
                let (got_suite, context) = decrypt_into(&ct, &m, &d, &mut out).unwrap();
                assert!(
                    out == pt,
                    "{suite} frame {frame} size {n}: plaintext differs"
                );
                assert_eq!(got_suite, suite);
                assert_eq!(context, decrypt(&ct, &m, &d).unwrap().encryption_context);
                // A buffer of another length is refused and left zeroed.
                for wrong in [n + 1, n.saturating_sub(1)] {
                    if wrong == n {
                        continue;
                    }
                    let mut out = vec![0xAAu8; wrong];
                    assert!(matches!(
                        decrypt_into(&ct, &m, &d, &mut out),
                        Err(Error::InvalidArgument(_))
                    ));
                    assert!(
                        out.iter().all(|&b| b == 0),
                        "{suite} {n}: buffer of {wrong} not zeroed"
                    );
                }
                // Truncated or with a trailing byte: no length.
                if n < 5000 {
                    for cut in 0..ct.len() {
                        assert_eq!(
                            plaintext_len(&ct[..cut], limit),
                            None,
                            "{suite} {n} cut {cut}"
                        );
                    }
                }
                let mut longer = ct.clone();
                longer.push(0);
                assert_eq!(plaintext_len(&longer, limit), None);
            }
        }
        // A flipped bit anywhere: refused as decrypt refuses it, the buffer
        // zeroed (the length, when the structure still gives one, is the
        // buffer's).
        let (eo, d) = options(suite, 16);
        let ct = encrypt(&pattern(40), &m, &eo).unwrap();
        for bit in 0..ct.len() * 8 {
            let mut bad = ct.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut out = vec![0xAAu8; plaintext_len(&bad, limit).unwrap_or(40)];
            match decrypt_into(&bad, &m, &d, &mut out) {
                Err(Error::DecryptionFailed) | Err(Error::InvalidArgument(_)) => {}
                other => panic!("{suite}: flip of bit {bit} gave {other:?}"),
            }
            assert!(
                out.iter().all(|&b| b == 0),
                "{suite}: flip of bit {bit} left bytes"
            );
        }
    }
    // A damaged late frame of a 2 MiB message opened on four threads (the
    // parallel path into the caller's buffer): refused, the buffer zeroed
    // although the frames before it had been written.
    let pt = pattern(2 << 20);
    let d = DecryptOptions {
        parallelism: sealbox::message::Parallelism::threads(4).unwrap(),
        ..DecryptOptions::default()
    };
    let ct = encrypt(&pt, &m, &EncryptOptions::default()).unwrap();
    for at in [ct.len() / 2, ct.len() - 5000, ct.len() - 20] {
        let mut bad = ct.clone();
        bad[at] ^= 0x10;
        let mut out = vec![0xAAu8; pt.len()];
        assert_eq!(
            plaintext_len(&bad, limit),
            Some(pt.len()),
            "a flip inside a frame's content or tag"
        );
        assert!(matches!(
            decrypt_into(&bad, &m, &d, &mut out),
            Err(Error::DecryptionFailed)
        ));
        assert!(
            out.iter().all(|&b| b == 0),
            "flip at {at}: plaintext left in the buffer"
        );
    }
    let mut out = vec![0u8; pt.len()];
    decrypt_into(&ct, &m, &d, &mut out).unwrap();
    assert!(out == pt);
    // More encrypted data keys than the limit: no length (the header is
    // refused as decryption refuses it).
    let two = cmm(Arc::new(
        MultiKeyring::new(Some(aes_keyring(4)), vec![aes_keyring(5)]).unwrap(),
    ));
    let ct = encrypt(&pattern(10), &two, &EncryptOptions::default()).unwrap();
    assert_eq!(
        plaintext_len(&ct, MaxEncryptedDataKeys::default()),
        Some(10)
    );
    let one = MaxEncryptedDataKeys::from_option(Some(1)).unwrap();
    assert_eq!(plaintext_len(&ct, one), None);
}

/// Every single-bit flip and every truncation of a small message of every
/// suite is refused with the one opaque error.
#[test]
fn every_bit_flip_and_truncation_is_rejected_opaquely() {
    let m = cmm(aes_keyring(5));
    let mut checked = 0usize;
    for suite in ALL_SUITES {
        let (mut eo, d) = options(suite, 16);
        eo.encryption_context = ec(&[("k", "v")]);
        let ct = encrypt(&pattern(40), &m, &eo).unwrap();
        assert_eq!(decrypt(&ct, &m, &d).unwrap().plaintext, pattern(40));
        for bit in 0..ct.len() * 8 {
            let mut bad = ct.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            match decrypt(&bad, &m, &d) {
                Err(Error::DecryptionFailed) => {}
                other => panic!(
                    "{suite}: flip of bit {bit} gave {:?}",
                    other.map(|r| r.plaintext)
                ),
            }
            checked += 1;
        }
        for cut in 0..ct.len() {
            assert_eq!(
                decrypt(&ct[..cut], &m, &d).err(),
                Some(Error::DecryptionFailed),
                "{suite} cut {cut}"
            );
            checked += 1;
        }
        let mut longer = ct.clone();
        longer.push(0);
        assert_eq!(
            decrypt(&longer, &m, &d).err(),
            Some(Error::DecryptionFailed),
            "{suite} trailing byte"
        );
    }
    println!("{checked} tampered messages rejected");
    assert!(checked > 20_000);
}

#[test]
fn wrong_key_and_wrong_context_are_opaque_failures() {
    let ct = encrypt(
        b"secret",
        &cmm(aes_keyring(6)),
        &options(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, 4096).0,
    )
    .unwrap();
    let d = DecryptOptions::default();
    assert_eq!(
        decrypt(&ct, &cmm(aes_keyring(7)), &d).err(),
        Some(Error::DecryptionFailed)
    );
    let other_name: Arc<dyn Keyring> =
        Arc::new(RawAesKeyring::new("sealbox-tests", "other", &[6; 32]).unwrap());
    assert_eq!(
        decrypt(&ct, &cmm(other_name), &d).err(),
        Some(Error::DecryptionFailed)
    );

    let m = cmm(aes_keyring(6));
    let expect = |pairs: &[(&str, &str)]| DecryptOptions {
        encryption_context: Some(ec(pairs)),
        ..DecryptOptions::default()
    };
    assert!(decrypt(
        &ct,
        &m,
        &expect(&[("purpose", "test"), ("tenant", "t\u{e9}st")])
    )
    .is_ok());
    assert!(
        decrypt(&ct, &m, &expect(&[("purpose", "test")])).is_ok(),
        "a subset is fine"
    );
    assert_eq!(
        decrypt(&ct, &m, &expect(&[("purpose", "prod")])).err(),
        Some(Error::DecryptionFailed)
    );
    assert_eq!(
        decrypt(&ct, &m, &expect(&[("missing", "x")])).err(),
        Some(Error::DecryptionFailed)
    );
}

#[test]
fn required_context_keys_are_authenticated_but_not_stored() {
    let m = cmm(aes_keyring(8));
    let eo = EncryptOptions {
        encryption_context: ec(&[("tenant", "acme"), ("row", "42")]),
        required_encryption_context_keys: vec!["row".into()],
        ..EncryptOptions::default()
    };
    let ct = encrypt(b"field", &m, &eo).unwrap();
    assert!(
        !ct.windows(3).any(|w| w == b"row"),
        "the required pair must not be stored"
    );
    assert_eq!(
        decrypt(&ct, &m, &DecryptOptions::default()).err(),
        Some(Error::DecryptionFailed)
    );
    let with = |row: &str| DecryptOptions {
        encryption_context: Some(ec(&[("row", row)])),
        ..DecryptOptions::default()
    };
    let r = decrypt(&ct, &m, &with("42")).unwrap();
    assert_eq!(r.plaintext, b"field");
    assert_eq!(
        r.encryption_context,
        ec(&[("tenant", "acme"), ("row", "42")])
    );
    assert_eq!(
        decrypt(&ct, &m, &with("43")).err(),
        Some(Error::DecryptionFailed)
    );
    let bad = EncryptOptions {
        required_encryption_context_keys: vec!["absent".into()],
        ..eo.clone()
    };
    assert!(matches!(
        encrypt(b"x", &m, &bad),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn commitment_policy_is_enforced_both_ways() {
    let m = cmm(aes_keyring(9));
    let v1 = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384;
    let default = EncryptOptions {
        suite: Some(v1),
        ..EncryptOptions::default()
    };
    assert!(matches!(
        encrypt(b"x", &m, &default),
        Err(Error::CommitmentPolicyViolation(_))
    ));
    let forbid = EncryptOptions {
        suite: Some(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey),
        commitment_policy: CommitmentPolicy::ForbidEncryptAllowDecrypt,
        ..EncryptOptions::default()
    };
    assert!(matches!(
        encrypt(b"x", &m, &forbid),
        Err(Error::CommitmentPolicyViolation(_))
    ));

    let (eo, _) = options(v1, 4096);
    let old = encrypt(b"legacy", &m, &eo).unwrap();
    assert!(matches!(
        decrypt(&old, &m, &DecryptOptions::default()),
        Err(Error::CommitmentPolicyViolation(_))
    ));
    let allow = DecryptOptions {
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    };
    assert_eq!(decrypt(&old, &m, &allow).unwrap().plaintext, b"legacy");
    assert_eq!(
        CommitmentPolicy::from_name("require-encrypt-allow-decrypt").unwrap(),
        CommitmentPolicy::RequireEncryptAllowDecrypt
    );
}

#[test]
fn reserved_context_prefix_is_refused() {
    let m = cmm(aes_keyring(10));
    let eo = EncryptOptions {
        encryption_context: ec(&[("aws-crypto-public-key", "x")]),
        ..EncryptOptions::default()
    };
    assert!(matches!(
        encrypt(b"x", &m, &eo),
        Err(Error::InvalidArgument(_))
    ));
}

/// Counts unwrap attempts so a test can prove none happened.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Keyring>,
    decrypts: AtomicUsize,
}

impl Keyring for Counting {
    fn on_encrypt(&self, m: &mut EncryptionMaterials) -> sealbox::Result<()> {
        self.inner.on_encrypt(m)
    }
    fn on_decrypt(
        &self,
        m: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> sealbox::Result<()> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        self.inner.on_decrypt(m, edks)
    }
}

#[test]
fn too_many_data_keys_are_refused_before_any_unwrap() {
    let children: Vec<Arc<dyn Keyring>> = (0..3).map(|i| aes_keyring(20 + i)).collect();
    let multi = Arc::new(MultiKeyring::new(Some(aes_keyring(19)), children).unwrap());
    let m = cmm(multi);
    let capped = EncryptOptions {
        max_encrypted_data_keys: MaxEncryptedDataKeys::limit(3).unwrap(),
        ..EncryptOptions::default()
    };
    assert_eq!(
        encrypt(b"x", &m, &capped).err(),
        Some(Error::TooManyEncryptedDataKeys { max: 3, found: 4 })
    );
    let ct = encrypt(b"four keys", &m, &EncryptOptions::default()).unwrap();
    let counting = Arc::new(Counting {
        inner: aes_keyring(21),
        decrypts: AtomicUsize::new(0),
    });
    let dm = cmm(counting.clone());
    let limited = DecryptOptions {
        max_encrypted_data_keys: MaxEncryptedDataKeys::limit(3).unwrap(),
        ..DecryptOptions::default()
    };
    assert_eq!(
        decrypt(&ct, &dm, &limited).err(),
        Some(Error::DecryptionFailed)
    );
    assert_eq!(
        counting.decrypts.load(Ordering::SeqCst),
        0,
        "no unwrap may happen"
    );
    assert_eq!(
        decrypt(&ct, &dm, &DecryptOptions::default())
            .unwrap()
            .plaintext,
        b"four keys"
    );
    assert_eq!(counting.decrypts.load(Ordering::SeqCst), 1);
}

#[test]
fn max_body_size_is_enforced() {
    let m = cmm(aes_keyring(11));
    let ct = encrypt(&pattern(10_000), &m, &EncryptOptions::default()).unwrap();
    let small = DecryptOptions {
        max_body_size: Some(9_999),
        ..DecryptOptions::default()
    };
    assert_eq!(
        decrypt(&ct, &m, &small).err(),
        Some(Error::MessageTooLarge { max: 9_999 })
    );
    let exact = DecryptOptions {
        max_body_size: Some(10_000),
        ..DecryptOptions::default()
    };
    assert!(decrypt(&ct, &m, &exact).is_ok());
}

#[test]
fn rsa_keyrings_with_every_padding_and_multi_keyring_recovery() {
    for padding in [
        "PKCS1",
        "OAEP_SHA1_MGF1",
        "OAEP_SHA256_MGF1",
        "OAEP_SHA384_MGF1",
        "OAEP_SHA512_MGF1",
    ] {
        let p = RsaWrappingPadding::from_name(padding).unwrap();
        let enc_only: Arc<dyn Keyring> =
            Arc::new(RawRsaKeyring::new("ns", "rsa", p, Some(RSA_PUBLIC), None).unwrap());
        let dec: Arc<dyn Keyring> = Arc::new(
            RawRsaKeyring::new("ns", "rsa", p, Some(RSA_PUBLIC), Some(RSA_PRIVATE)).unwrap(),
        );
        let ct = encrypt(b"rsa", &cmm(enc_only.clone()), &EncryptOptions::default()).unwrap();
        assert_eq!(decrypt_with(&ct, dec).unwrap().plaintext, b"rsa");
        assert_eq!(
            decrypt_with(&ct, enc_only).err(),
            Some(Error::DecryptionFailed)
        );
    }
    assert!(RsaWrappingPadding::from_name("OAEP_MD5").is_err());
    let p = RsaWrappingPadding::OaepSha256Mgf1;
    assert!(matches!(
        RawRsaKeyring::new("ns", "rsa", p, None, None),
        Err(Error::InvalidKey(_))
    ));
    let other_private = include_str!("data/rsa2048-other.pem");
    assert!(matches!(
        RawRsaKeyring::new("ns", "rsa", p, Some(RSA_PUBLIC), Some(other_private)),
        Err(Error::InvalidKey(_))
    ));
    assert!(RawRsaKeyring::new("aws-kms", "rsa", p, Some(RSA_PUBLIC), None).is_err());

    let rsa: Arc<dyn Keyring> = Arc::new(
        RawRsaKeyring::new(
            "recovery",
            "offline",
            p,
            Some(RSA_PUBLIC),
            Some(RSA_PRIVATE),
        )
        .unwrap(),
    );
    let multi = Arc::new(MultiKeyring::new(Some(aes_keyring(12)), vec![rsa.clone()]).unwrap());
    let ct = encrypt(b"both", &cmm(multi), &EncryptOptions::default()).unwrap();
    assert_eq!(
        decrypt_with(&ct, aes_keyring(12)).unwrap().plaintext,
        b"both"
    );
    assert_eq!(decrypt_with(&ct, rsa.clone()).unwrap().plaintext, b"both");
    let decrypt_only = Arc::new(MultiKeyring::new(None, vec![aes_keyring(99), rsa]).unwrap());
    assert_eq!(
        decrypt_with(&ct, decrypt_only.clone()).unwrap().plaintext,
        b"both"
    );
    assert!(matches!(
        encrypt(b"x", &cmm(decrypt_only), &EncryptOptions::default()),
        Err(Error::EncryptFailed(_))
    ));
}

#[test]
fn wrapping_key_sizes() {
    for n in [16usize, 24, 32] {
        let k: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("ns", "n", &vec![3u8; n]).unwrap());
        let ct = encrypt(b"k", &cmm(k.clone()), &EncryptOptions::default()).unwrap();
        assert_eq!(decrypt_with(&ct, k).unwrap().plaintext, b"k");
    }
    for n in [0usize, 15, 31, 33, 64] {
        assert!(matches!(
            RawAesKeyring::new("ns", "n", &vec![3u8; n]),
            Err(Error::InvalidKey(_))
        ));
    }
}

#[test]
fn io_adapters_round_trip_and_refuse_truncation() {
    let m: Arc<dyn MaterialsManager> = Arc::new(cmm(aes_keyring(13)));
    let pt = pattern(300_000);
    let mut w = EncryptingWriter::new(Vec::new(), m.as_ref(), &EncryptOptions::default()).unwrap();
    for c in pt.chunks(777) {
        w.write_all(c).unwrap();
    }
    let ct = w.finish().unwrap();
    let mut r = DecryptingReader::new(&ct[..], m.clone(), DecryptOptions::default());
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(out, pt);
    assert!(r.encryption_context().is_some());

    let mut r = DecryptingReader::new(&ct[..ct.len() - 1], m.clone(), DecryptOptions::default());
    let mut out = Vec::new();
    let e = r.read_to_end(&mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn one_keyring_is_shared_by_many_threads() {
    let m: Arc<dyn MaterialsManager> = Arc::new(cmm(aes_keyring(14)));
    std::thread::scope(|s| {
        for t in 0..8 {
            let m = m.clone();
            s.spawn(move || {
                for i in 0..50 {
                    let pt = pattern(t * 1000 + i);
                    let ct = encrypt(&pt, m.as_ref(), &EncryptOptions::default()).unwrap();
                    assert_eq!(
                        decrypt(&ct, m.as_ref(), &DecryptOptions::default())
                            .unwrap()
                            .plaintext,
                        pt
                    );
                }
            });
        }
    });
}

#[test]
fn in_memory_keyrings_and_materials_managers_say_so() {
    use sealbox::cmm::{CacheLimits, CachingMaterialsManager};
    use std::time::Duration;
    let aes = aes_keyring(9);
    let rsa: Arc<dyn Keyring> = Arc::new(
        RawRsaKeyring::new(
            "ns",
            "rsa",
            RsaWrappingPadding::OaepSha256Mgf1,
            Some(RSA_PUBLIC),
            Some(RSA_PRIVATE),
        )
        .unwrap(),
    );
    // A keyring that does not say (as a key-store keyring, or a user's):
    // taken to block.
    let unknown: Arc<dyn Keyring> = Arc::new(Counting {
        inner: aes_keyring(9),
        decrypts: AtomicUsize::new(0),
    });
    assert!(aes.is_in_memory() && rsa.is_in_memory());
    assert!(!unknown.is_in_memory());
    let multi = |g: &Arc<dyn Keyring>, c: &Arc<dyn Keyring>| -> Arc<dyn Keyring> {
        Arc::new(MultiKeyring::new(Some(g.clone()), vec![c.clone()]).unwrap())
    };
    assert!(multi(&aes, &rsa).is_in_memory());
    assert!(!multi(&aes, &unknown).is_in_memory());
    assert!(!multi(&unknown, &rsa).is_in_memory());
    let in_memory: Arc<dyn MaterialsManager> = Arc::new(cmm(multi(&aes, &rsa)));
    let blocking: Arc<dyn MaterialsManager> = Arc::new(cmm(unknown));
    assert!(in_memory.is_in_memory() && !blocking.is_in_memory());
    let caching = |u: &Arc<dyn MaterialsManager>| {
        CachingMaterialsManager::new(
            u.clone(),
            CacheLimits::with_max_age(Duration::from_secs(60)),
        )
        .unwrap()
    };
    assert!(caching(&in_memory).is_in_memory());
    assert!(!caching(&blocking).is_in_memory());
}

/// An EC key pair on `curve` as (PKCS#8 DER, SubjectPublicKeyInfo DER).
fn ec_pair(curve: sealbox::crypto::EcCurve) -> (Vec<u8>, Vec<u8>) {
    let key = sealbox::crypto::EcdsaSigningKey::generate(curve).unwrap();
    (
        key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
        key.verifying_key().to_spki_der().unwrap(),
    )
}

fn ecdh(
    scheme: EcdhKeyAgreementScheme,
    curve: EcdhCurveSpec,
    private: Option<&[u8]>,
    public: Option<&[u8]>,
) -> Arc<dyn Keyring> {
    Arc::new(RawEcdhKeyring::new(scheme, curve, private, public).unwrap())
}

#[test]
fn raw_ecdh_keyrings_every_scheme_and_curve() {
    use sealbox::crypto::EcCurve;
    use EcdhKeyAgreementScheme::*;
    for (curve, spec) in [
        (EcCurve::P256, EcdhCurveSpec::EccNistP256),
        (EcCurve::P384, EcdhCurveSpec::EccNistP384),
        (EcCurve::P521, EcdhCurveSpec::EccNistP521),
    ] {
        let (alice, alice_pub) = ec_pair(curve);
        let (bob, bob_pub) = ec_pair(curve);
        let (eve, _) = ec_pair(curve);
        // Alice to Bob with her static key; Bob discovers it; Alice's own
        // keyring reads it back, and so does Bob's static keyring towards
        // Alice (the pair the other way round); Eve cannot.
        let alice_to_bob = ecdh(
            RawPrivateKeyToStaticPublicKey,
            spec,
            Some(&alice),
            Some(&bob_pub),
        );
        let bob_to_alice = ecdh(
            RawPrivateKeyToStaticPublicKey,
            spec,
            Some(&bob),
            Some(&alice_pub),
        );
        let bob_discovery = ecdh(PublicKeyDiscovery, spec, Some(&bob), None);
        let alice_discovery = ecdh(PublicKeyDiscovery, spec, Some(&alice), None);
        let eve_discovery = ecdh(PublicKeyDiscovery, spec, Some(&eve), None);
        let ephemeral_to_bob = ecdh(
            EphemeralPrivateKeyToStaticPublicKey,
            spec,
            None,
            Some(&bob_pub),
        );
        for suite in [
            ALL_SUITES[0],
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            let (mut eo, d) = options(suite, 512);
            let plain = pattern(1500);
            let from_static = encrypt(&plain, &cmm(alice_to_bob.clone()), &eo).unwrap();
            for reader in [&alice_to_bob, &bob_to_alice, &bob_discovery] {
                let r = decrypt(&from_static, &cmm(reader.clone()), &d).unwrap();
                assert_eq!(r.plaintext, plain);
            }
            for outsider in [&eve_discovery, &alice_discovery, &ephemeral_to_bob] {
                assert!(matches!(
                    decrypt(&from_static, &cmm(outsider.clone()), &d),
                    Err(Error::DecryptionFailed)
                ));
            }
            // A new key pair for every message: two messages, two senders.
            let e1 = encrypt(&plain, &cmm(ephemeral_to_bob.clone()), &eo).unwrap();
            let e2 = encrypt(&plain, &cmm(ephemeral_to_bob.clone()), &eo).unwrap();
            assert_eq!(
                decrypt(&e1, &cmm(bob_discovery.clone()), &d)
                    .unwrap()
                    .plaintext,
                plain
            );
            assert_eq!(
                decrypt(&e2, &cmm(bob_discovery.clone()), &d)
                    .unwrap()
                    .plaintext,
                plain
            );
            for outsider in [&alice_to_bob, &eve_discovery] {
                assert!(decrypt(&e1, &cmm(outsider.clone()), &d).is_err());
            }
            // Another encryption context travels with its message (the
            // binding to the wrapped key is checked byte by byte in
            // raw_ecdh_tampering_with_any_byte_of_the_data_key_is_refused).
            eo.encryption_context
                .insert("tenant".into(), "other".into());
            let other_ctx = encrypt(&plain, &cmm(alice_to_bob.clone()), &eo).unwrap();
            let r = decrypt(&other_ctx, &cmm(bob_discovery.clone()), &d).unwrap();
            assert_eq!(r.encryption_context["tenant"], "other");
            // A discovery keyring cannot encrypt.
            assert!(matches!(
                encrypt(&plain, &cmm(bob_discovery.clone()), &eo),
                Err(Error::EncryptFailed(_))
            ));
        }
    }
}

fn enc_materials(
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
) -> EncryptionMaterials {
    EncryptionMaterials {
        suite,
        encryption_context,
        required_encryption_context_keys: Vec::new(),
        plaintext_data_key: None,
        encrypted_data_keys: Vec::new(),
        signing_key: None,
    }
}

fn dec_materials(
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
) -> DecryptionMaterials {
    DecryptionMaterials {
        suite,
        encryption_context,
        required_encryption_context_keys: Vec::new(),
        plaintext_data_key: None,
        verification_key: None,
    }
}

/// One encrypted data key of `keyring`, changed by `tamper`, unwrapped by
/// `reader` directly (bypassing the header's own authentication), which
/// must give the data key `keyring` made.
fn edk_after(
    keyring: &Arc<dyn Keyring>,
    reader: &Arc<dyn Keyring>,
    tamper: impl Fn(&mut EncryptedDataKey),
) -> sealbox::Result<()> {
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384;
    let context = ec(&[("purpose", "test")]);
    let mut em = enc_materials(suite, context.clone());
    keyring.on_encrypt(&mut em)?;
    let mut edk = em.encrypted_data_keys.remove(0);
    tamper(&mut edk);
    let mut dm = dec_materials(suite, context);
    reader.on_decrypt(&mut dm, &[edk])?;
    assert_eq!(
        dm.plaintext_data_key.unwrap().as_bytes(),
        em.plaintext_data_key.unwrap().as_bytes()
    );
    Ok(())
}

/// Each byte of `edk`'s provider info and ciphertext changed in turn (in
/// entries `keyring` makes anew): `reader` refuses every one.
fn every_changed_byte_is_refused(
    keyring: &Arc<dyn Keyring>,
    reader: &Arc<dyn Keyring>,
    edk: &EncryptedDataKey,
) {
    for i in 0..edk.provider_info.len() {
        let r = edk_after(keyring, reader, |e| e.provider_info[i] ^= 0x01);
        assert!(
            matches!(r, Err(Error::DecryptionFailed)),
            "provider info byte {i}"
        );
    }
    for (i, flip) in (0..edk.ciphertext.len()).zip([0x80u8, 0x40, 0x01].into_iter().cycle()) {
        let r = edk_after(keyring, reader, |e| e.ciphertext[i] ^= flip);
        assert!(
            matches!(r, Err(Error::DecryptionFailed)),
            "ciphertext byte {i}"
        );
    }
}

#[test]
fn raw_ecdh_tampering_with_any_byte_of_the_data_key_is_refused() {
    use sealbox::crypto::EcCurve;
    use EcdhKeyAgreementScheme::*;
    let spec = EcdhCurveSpec::EccNistP256;
    let (bob, bob_pub) = ec_pair(EcCurve::P256);
    let sender = ecdh(
        EphemeralPrivateKeyToStaticPublicKey,
        spec,
        None,
        Some(&bob_pub),
    );
    let reader = ecdh(PublicKeyDiscovery, spec, Some(&bob), None);
    edk_after(&sender, &reader, |_| {}).unwrap();
    let mut em = enc_materials(
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ec(&[("purpose", "test")]),
    );
    sender.on_encrypt(&mut em).unwrap();
    let edk = &em.encrypted_data_keys[0];
    assert_eq!(edk.provider_id, "raw-ecdh");
    // Version, two u32 lengths and two 33-byte compressed points.
    assert_eq!(edk.provider_info.len(), 75);
    assert_eq!(edk.provider_info[0], 1);
    // Salt, commitment key, a 32-byte data key and the tag.
    assert_eq!(edk.ciphertext.len(), 32 + 32 + 32 + 16);
    every_changed_byte_is_refused(&sender, &reader, edk);
    for cut in [1, 16, 48] {
        let r = edk_after(&sender, &reader, |e| {
            e.ciphertext.truncate(e.ciphertext.len() - cut)
        });
        assert!(matches!(r, Err(Error::DecryptionFailed)));
    }
    // Keyrings that cannot decrypt leave materials that already hold a
    // data key alone (as every keyring does), else fail.
    let mut cannot_decrypt = vec![sender.clone()];
    if !cfg!(feature = "fips") {
        // (No X-Wing keys in the FIPS build.)
        let public = pq_generate_key_pair().unwrap().1;
        cannot_decrypt.push(Arc::new(PqKeyring::new(Some(&public), None).unwrap()));
    }
    for k in &cannot_decrypt {
        let mut dm = dec_materials(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey, ec(&[]));
        assert!(matches!(
            k.on_decrypt(&mut dm, &[]),
            Err(Error::DecryptionFailed)
        ));
        dm.plaintext_data_key = Some(sealbox::secret::SecretBytes::random(32).unwrap());
        k.on_decrypt(&mut dm, &[]).unwrap();
    }
    // A provider info whose keys are not compressed points of the curve.
    let r = edk_after(&sender, &reader, |e| {
        e.provider_info.truncate(38);
        e.provider_info.extend_from_slice(&[0, 0, 0, 0]);
    });
    assert!(matches!(r, Err(Error::DecryptionFailed)));
    let r = edk_after(&sender, &reader, |e| e.provider_id = "raw-ecdh2".into());
    assert!(matches!(r, Err(Error::DecryptionFailed)));
    // The AWS KMS ECDH keyring's data keys have the same format.
    edk_after(&sender, &reader, |e| e.provider_id = "aws-kms-ecdh".into()).unwrap();
    // Another encryption context.
    let mut em = enc_materials(
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ec(&[("purpose", "test")]),
    );
    sender.on_encrypt(&mut em).unwrap();
    let mut dm = dec_materials(
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ec(&[("purpose", "other")]),
    );
    assert!(matches!(
        reader.on_decrypt(&mut dm, &em.encrypted_data_keys),
        Err(Error::DecryptionFailed)
    ));
}

#[test]
fn raw_ecdh_keyring_arguments_are_checked() {
    use sealbox::crypto::EcCurve;
    use EcdhKeyAgreementScheme::*;
    let p256 = EcdhCurveSpec::EccNistP256;
    let (key, public) = ec_pair(EcCurve::P256);
    let (key384, public384) = ec_pair(EcCurve::P384);
    let (k1, p1) = ec_pair(EcCurve::Secp256k1);
    let rsa = RSA_PUBLIC.as_bytes();
    type Case<'a> = (EcdhKeyAgreementScheme, Option<&'a [u8]>, Option<&'a [u8]>);
    let bad: Vec<Case> = vec![
        (RawPrivateKeyToStaticPublicKey, Some(&key), None),
        (RawPrivateKeyToStaticPublicKey, None, Some(&public)),
        (RawPrivateKeyToStaticPublicKey, Some(&key384), Some(&public)),
        (RawPrivateKeyToStaticPublicKey, Some(&key), Some(&public384)),
        (RawPrivateKeyToStaticPublicKey, Some(&k1), Some(&p1)),
        (RawPrivateKeyToStaticPublicKey, Some(&key), Some(rsa)),
        (RawPrivateKeyToStaticPublicKey, Some(&public), Some(&key)),
        (
            EphemeralPrivateKeyToStaticPublicKey,
            Some(&key),
            Some(&public),
        ),
        (EphemeralPrivateKeyToStaticPublicKey, None, None),
        (
            EphemeralPrivateKeyToStaticPublicKey,
            None,
            Some(b"-----BEGIN PRIVATE KEY-----\n"),
        ),
        (PublicKeyDiscovery, None, Some(&public)),
        (PublicKeyDiscovery, Some(&key), Some(&public)),
        (PublicKeyDiscovery, Some(&key[..key.len() - 1]), None),
        (PublicKeyDiscovery, Some(&key384), None),
    ];
    for (i, (scheme, private, public)) in bad.into_iter().enumerate() {
        let r = RawEcdhKeyring::new(scheme, p256, private, public);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_) | Error::InvalidKey(_))),
            "case {i}: {r:?}"
        );
    }
    // PEM as well as DER; the curve of a key is found from it.
    let pem = |label: &str, der: &[u8]| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    let keyring = RawEcdhKeyring::new(
        RawPrivateKeyToStaticPublicKey,
        p256,
        Some(pem("PRIVATE KEY", &key).as_bytes()),
        Some(pem("PUBLIC KEY", &public).as_bytes()),
    )
    .unwrap();
    assert_eq!(keyring.scheme(), RawPrivateKeyToStaticPublicKey);
    assert_eq!(
        EcdhCurveSpec::of_key(&key384).unwrap(),
        EcdhCurveSpec::EccNistP384
    );
    assert_eq!(
        EcdhCurveSpec::of_key(&public384).unwrap(),
        EcdhCurveSpec::EccNistP384
    );
    assert_eq!(
        EcdhCurveSpec::of_key(pem("PRIVATE KEY", &key).as_bytes()).unwrap(),
        p256
    );
    assert!(EcdhCurveSpec::of_key(&p1).is_err());
    assert!(EcdhCurveSpec::of_key(rsa).is_err());
    // An ephemeral keyring decrypts nothing; in a multi-keyring beside a
    // raw AES keyring, either child's data key opens the message.
    let (bob, bob_pub) = ec_pair(EcCurve::P256);
    let multi: Arc<dyn Keyring> = Arc::new(
        MultiKeyring::new(
            Some(aes_keyring(7)),
            vec![ecdh(
                EphemeralPrivateKeyToStaticPublicKey,
                p256,
                None,
                Some(&bob_pub),
            )],
        )
        .unwrap(),
    );
    let ct = encrypt(b"both", &cmm(multi.clone()), &EncryptOptions::default()).unwrap();
    assert_eq!(
        decrypt_with(&ct, aes_keyring(7)).unwrap().plaintext,
        b"both"
    );
    let bob = ecdh(PublicKeyDiscovery, p256, Some(&bob), None);
    assert_eq!(decrypt_with(&ct, bob).unwrap().plaintext, b"both");
    assert!(decrypt_with(
        &ct,
        ecdh(
            EphemeralPrivateKeyToStaticPublicKey,
            p256,
            None,
            Some(&bob_pub)
        )
    )
    .is_err());
}

#[test]
#[cfg(not(feature = "fips"))] // no X-Wing keys in the FIPS build
fn pq_keyring_round_trips_and_refuses_other_keys() {
    let (private, public) = pq_generate_key_pair().unwrap();
    let (other_private, _) = pq_generate_key_pair().unwrap();
    let sender: Arc<dyn Keyring> = Arc::new(PqKeyring::new(Some(&public), None).unwrap());
    let reader: Arc<dyn Keyring> =
        Arc::new(PqKeyring::new(None, Some(private.as_bytes())).unwrap());
    let both: Arc<dyn Keyring> =
        Arc::new(PqKeyring::new(Some(&public), Some(private.as_bytes())).unwrap());
    let stranger: Arc<dyn Keyring> =
        Arc::new(PqKeyring::new(None, Some(other_private.as_bytes())).unwrap());
    assert_eq!(pq_public_key(private.as_bytes()).unwrap(), public);
    for suite in ALL_SUITES {
        let (eo, d) = options(suite, 1024);
        let plain = pattern(3000);
        let ct = encrypt(&plain, &cmm(sender.clone()), &eo).unwrap();
        for r in [&reader, &both] {
            assert_eq!(
                decrypt(&ct, &cmm(r.clone()), &d).unwrap().plaintext,
                plain,
                "{suite:?}"
            );
        }
        for r in [&sender, &stranger] {
            assert!(matches!(
                decrypt(&ct, &cmm(r.clone()), &d),
                Err(Error::DecryptionFailed)
            ));
        }
    }
    // A multi-keyring with a raw AES child (AWS-compatible) and the PQ
    // child: either one alone opens the message.
    let multi: Arc<dyn Keyring> =
        Arc::new(MultiKeyring::new(Some(aes_keyring(9)), vec![sender.clone()]).unwrap());
    let ct = encrypt(b"hybrid", &cmm(multi), &EncryptOptions::default()).unwrap();
    assert_eq!(
        decrypt_with(&ct, aes_keyring(9)).unwrap().plaintext,
        b"hybrid"
    );
    assert_eq!(
        decrypt_with(&ct, reader.clone()).unwrap().plaintext,
        b"hybrid"
    );
    // Bad keys.
    let mismatched = PqKeyring::new(Some(&public), Some(other_private.as_bytes()));
    assert!(matches!(mismatched, Err(Error::InvalidKey(_))));
    for bad in [&public[..1215], &[0u8; 1216][..], b"".as_slice()] {
        assert!(matches!(
            PqKeyring::new(Some(bad), None),
            Err(Error::InvalidKey(_))
        ));
    }
    assert!(matches!(
        PqKeyring::new(None, Some(&[1; 31])),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        PqKeyring::new(None, None),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
#[cfg(not(feature = "fips"))] // no X-Wing keys in the FIPS build
fn pq_keyring_tampering_with_any_byte_is_refused() {
    let (private, public) = pq_generate_key_pair().unwrap();
    let sender: Arc<dyn Keyring> = Arc::new(PqKeyring::new(Some(&public), None).unwrap());
    let reader: Arc<dyn Keyring> =
        Arc::new(PqKeyring::new(None, Some(private.as_bytes())).unwrap());
    edk_after(&sender, &reader, |_| {}).unwrap();
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384;
    let mut em = enc_materials(suite, ec(&[("purpose", "test")]));
    sender.on_encrypt(&mut em).unwrap();
    let edk = &em.encrypted_data_keys[0];
    assert_eq!(edk.provider_id, "sealbox-pq");
    assert_eq!(edk.provider_info.len(), 33);
    assert_eq!(edk.ciphertext.len(), 1120 + 32 + 16);
    every_changed_byte_is_refused(&sender, &reader, edk);
    let r = edk_after(&sender, &reader, |e| e.ciphertext.truncate(1160));
    assert!(matches!(r, Err(Error::DecryptionFailed)));
    let mut dm = dec_materials(suite, ec(&[("purpose", "other")]));
    assert!(matches!(
        reader.on_decrypt(&mut dm, &em.encrypted_data_keys),
        Err(Error::DecryptionFailed)
    ));
}
