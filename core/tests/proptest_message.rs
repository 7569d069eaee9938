//! Property tests of the message format (issue 17): round trips over every
//! suite, frame lengths, encryption contexts and chunkings. A message made
//! by the streaming `Encryptor` fed in random chunks, decrypted by the
//! streaming `Decryptor` fed in random chunks, gives what the one-shot
//! functions give.

use std::sync::Arc;

use proptest::prelude::*;
use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{
    decrypt, encrypt, CommitmentPolicy, DecryptOptions, Decryptor, EncryptOptions, Encryptor,
    ALL_SUITES,
};
use sealbox::{AlgorithmSuite, EncryptionContext};

fn cmm() -> Arc<DefaultMaterialsManager> {
    let keyring = RawAesKeyring::new("proptest", "key", &[0x24; 32]).unwrap();
    Arc::new(DefaultMaterialsManager::new(Arc::new(keyring)))
}

fn encrypt_options(
    suite: AlgorithmSuite,
    frame_length: u32,
    ec: &EncryptionContext,
) -> EncryptOptions {
    EncryptOptions {
        frame_length,
        encryption_context: ec.clone(),
        ..EncryptOptions::for_suite(suite)
    }
}

fn decrypt_options(ec: &EncryptionContext) -> DecryptOptions {
    DecryptOptions {
        encryption_context: Some(ec.clone()),
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    }
}

/// `data` cut at the given sizes (cycled; each at least 1 byte).
fn pieces<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let (mut out, mut pos, mut i) = (Vec::new(), 0, 0);
    while pos < data.len() {
        let n = sizes[i % sizes.len()].max(1).min(data.len() - pos);
        out.push(&data[pos..pos + n]);
        pos += n;
        i += 1;
    }
    out
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Contexts without the reserved prefix (a key never starts with `aws`).
fn contexts() -> impl Strategy<Value = EncryptionContext> {
    prop::collection::btree_map(text(6).prop_map(|k| format!("k{k}")), text(10), 0..4)
}

fn frame_lengths() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..=40, Just(4096u32), 100u32..=1000]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn streaming_round_trip_equals_one_shot(
        suite in prop::sample::select(ALL_SUITES.to_vec()),
        frame_length in frame_lengths(),
        ec in contexts(),
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
        enc_chunks in prop::collection::vec(1usize..300, 1..8),
        dec_chunks in prop::collection::vec(1usize..300, 1..8),
    ) {
        let cmm = cmm();
        let options = encrypt_options(suite, frame_length, &ec);

        // Encrypt in chunks.
        let mut enc = Encryptor::new(cmm.as_ref(), &options).unwrap();
        let mut streamed = Vec::new();
        for p in pieces(&plaintext, &enc_chunks) {
            enc.update(p, &mut streamed).unwrap();
        }
        enc.finish(&mut streamed).unwrap();
        let one_shot = encrypt(&plaintext, cmm.as_ref(), &options).unwrap();
        if suite.signature().is_none() {
            // Only the ECDSA signature's DER encoding varies in length.
            prop_assert_eq!(streamed.len(), one_shot.len());
        }

        // Both messages decrypt, in one call and in chunks, to the plaintext.
        let dopts = decrypt_options(&ec);
        for message in [&streamed, &one_shot] {
            let whole = decrypt(message, cmm.as_ref(), &dopts).unwrap();
            prop_assert_eq!(&whole.plaintext, &plaintext);
            prop_assert_eq!(whole.suite, suite);
            let mut dec = Decryptor::new(cmm.clone() as Arc<dyn MaterialsManager>, dopts.clone());
            let mut out = Vec::new();
            for p in pieces(message, &dec_chunks) {
                dec.update(p, &mut out).unwrap();
            }
            dec.finish(&mut out).unwrap();
            prop_assert_eq!(&out, &plaintext);
            prop_assert_eq!(dec.encryption_context(), Some(&whole.encryption_context));
            for (k, v) in &ec {
                prop_assert_eq!(whole.encryption_context.get(k), Some(v));
            }
            let header = dec.header().unwrap();
            prop_assert_eq!(header.suite, suite);
            prop_assert_eq!(header.frame_length, frame_length);
        }
    }

    #[test]
    fn a_truncated_message_never_decrypts(
        suite in prop::sample::select(ALL_SUITES.to_vec()),
        frame_length in 1u32..=64,
        plaintext in prop::collection::vec(any::<u8>(), 0..200),
        cut in any::<prop::sample::Index>(),
    ) {
        let cmm = cmm();
        let ec = EncryptionContext::new();
        let message = encrypt(&plaintext, cmm.as_ref(), &encrypt_options(suite, frame_length, &ec)).unwrap();
        let short = &message[..cut.index(message.len())];
        prop_assert!(decrypt(short, cmm.as_ref(), &decrypt_options(&ec)).is_err());
    }
}
