//! The fuzz targets. Each panics (`assert!`) when an invariant breaks.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use sealbox::audit::{self, AuditSink, ChainMac, FileAuditLog};
use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::crypto::{EcCurve, EcdsaSigningKey};
use sealbox::fuzzing::{der, parse_header, HeaderParse};
use sealbox::keyring::{
    EcdhCurveSpec, EcdhKeyAgreementScheme, MultiKeyring, RawAesKeyring, RawEcdhKeyring,
};
use sealbox::keystore::{blob, KeyId};
use sealbox::message::{
    self, context, CommitmentPolicy, DecryptOptions, Decryptor, EncryptOptions, EncryptionContext,
    ALL_SUITES,
};

use crate::harness::Rng;

/// The fixed wrapping key of every fuzzed message (raw AES keyring).
pub const WRAPPING_KEY: [u8; 32] = [0x11; 32];

/// The materials manager of every fuzzed message: a multi-keyring whose
/// generator is a raw ECDH keyring (a static P-256 pair made at start) and
/// whose child is the fixed raw AES keyring. Messages carry both encrypted
/// data keys; decryption tries the ECDH one first, so both unwrapping paths
/// see the mutated bytes (and a corpus message with the AES key alone still
/// opens).
pub fn cmm() -> Arc<DefaultMaterialsManager> {
    static CMM: OnceLock<Arc<DefaultMaterialsManager>> = OnceLock::new();
    CMM.get_or_init(|| {
        let aes = RawAesKeyring::new("sealbox-fuzz", "fixed-key", &WRAPPING_KEY)
            .expect("raw AES keyring");
        let pair = || {
            let key = EcdsaSigningKey::generate(EcCurve::P256).expect("P-256 key");
            let public = key.verifying_key().to_spki_der().expect("SPKI");
            (key.to_pkcs8_der().expect("PKCS#8"), public)
        };
        let ((sender, _), (_, recipient)) = (pair(), pair());
        let ecdh = RawEcdhKeyring::new(
            EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey,
            EcdhCurveSpec::EccNistP256,
            Some(sender.as_bytes()),
            Some(&recipient),
        )
        .expect("raw ECDH keyring");
        let multi =
            MultiKeyring::new(Some(Arc::new(ecdh)), vec![Arc::new(aes)]).expect("multi-keyring");
        Arc::new(DefaultMaterialsManager::new(Arc::new(multi)))
    })
    .clone()
}

/// Decrypt options accepting every suite.
pub fn decrypt_options() -> DecryptOptions {
    DecryptOptions {
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    }
}

/// Encrypts `plaintext` with `suite` (any suite: the policy follows it).
pub fn encrypt_with(
    suite: message::AlgorithmSuite,
    frame_length: u32,
    ec: &EncryptionContext,
    plaintext: &[u8],
) -> Vec<u8> {
    let options = EncryptOptions {
        frame_length,
        encryption_context: ec.clone(),
        ..EncryptOptions::for_suite(suite)
    };
    message::encrypt(plaintext, cmm().as_ref(), &options).expect("encrypt")
}

// ------------------------------------------------------------ header --

/// The message-header parser: no panic; a parsed header re-serializes to
/// bytes of the same length that parse to the same header, the same header is found in exactly its
/// own bytes, and `Incomplete` asks for more than was given.
pub fn header(data: &[u8]) {
    for max in [Some(100), Some(1), None] {
        match parse_header(data, max) {
            HeaderParse::Incomplete(n) => {
                assert!(n > data.len(), "Incomplete({n}) of {} bytes", data.len())
            }
            HeaderParse::Invalid(_) => {}
            HeaderParse::Parsed {
                header,
                body_bytes,
                total_len,
            } => {
                assert!(total_len <= data.len() && body_bytes.len() < total_len);
                assert_eq!(&data[..body_bytes.len()], &body_bytes[..]);
                // The context's pairs may come in any order in the input;
                // serializing sorts them. Same length, same header.
                let again = header.serialize_body().expect("a parsed header serializes");
                assert_eq!(
                    again.len(),
                    body_bytes.len(),
                    "header re-serializes to another length"
                );
                let mut whole = again;
                whole.extend_from_slice(&data[body_bytes.len()..total_len]);
                match parse_header(&whole, None) {
                    HeaderParse::Parsed { header: h, .. } => assert_eq!(h, header),
                    other => panic!("a re-serialized header does not parse: {other:?}"),
                }
                if let Some(m) = max {
                    assert!(header.encrypted_data_keys.len() <= m);
                }
                match parse_header(&data[..total_len], max) {
                    HeaderParse::Parsed { total_len: t, .. } => assert_eq!(t, total_len),
                    other => panic!("the header's own bytes do not parse: {other:?}"),
                }
                match parse_header(&data[..total_len - 1], max) {
                    HeaderParse::Incomplete(n) => assert!(n >= total_len),
                    other => panic!("a header less its last byte: {other:?}"),
                }
            }
        }
    }
}

// --------------------------------------------------------- decryption --

/// Chunk sizes for feeding `len` bytes, chosen by `mode` and `rng`.
fn chunks(mode: u8, rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        let n = match mode % 5 {
            0 => 1,
            1 => 1 + rng.below(16),
            2 => 1 + rng.below(4096),
            3 => 1 + rng.below(left),
            _ => [1, 2, 3, 7, 16, 17, 4095, 4096, 4097][rng.below(9)],
        };
        let n = n.min(left);
        out.push(n);
        left -= n;
    }
    out
}

/// Decrypts `msg` with a [`Decryptor`] fed in the given chunks, and in one
/// call; both must agree (success and plaintext). Returns the plaintext
/// when the message decrypted.
fn decrypt_both(msg: &[u8], sizes: &[usize]) -> Option<Vec<u8>> {
    let cmm = cmm();
    let options = decrypt_options();
    let one_shot = message::decrypt(msg, cmm.as_ref(), &options);
    let mut d = Decryptor::new(cmm.clone() as Arc<dyn MaterialsManager>, options);
    let (mut out, mut pos) = (Vec::new(), 0usize);
    let mut streamed = Ok(());
    for &n in sizes {
        streamed = d.update(&msg[pos..pos + n], &mut out);
        pos += n;
        if streamed.is_err() {
            break;
        }
    }
    if streamed.is_ok() {
        streamed = d.finish(&mut out);
    }
    match (&one_shot, &streamed) {
        (Ok(r), Ok(())) => {
            assert_eq!(r.plaintext, out, "streaming and one-shot plaintexts differ");
            assert_eq!(d.encryption_context(), Some(&r.encryption_context));
            Some(out)
        }
        (Err(_), Err(_)) => None,
        (a, b) => panic!(
            "one-shot decrypt {:?} but streaming decrypt {:?} (chunks {sizes:?})",
            a.as_ref().map(|_| ()),
            b
        ),
    }
}

/// The streaming decryptor on arbitrary bytes: byte 0 chooses how the
/// rest is cut into chunks (byte 1 seeds the sizes); the rest is the
/// message. Streaming and one-shot decryption must agree.
pub fn decrypt_stream(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let msg = &data[2..];
    let mut rng = Rng::new(u64::from(data[1]));
    let sizes = chunks(data[0], &mut rng, msg.len());
    decrypt_both(msg, &sizes);
}

/// The valid messages [`decrypt_mutate`] starts from: every suite, framed
/// in small frames with a context, and empty in one frame without.
pub fn valid_messages() -> &'static [(Vec<u8>, Vec<u8>)] {
    static MESSAGES: OnceLock<Vec<(Vec<u8>, Vec<u8>)>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let mut ec = EncryptionContext::new();
        ec.insert("tenant".into(), "acme".into());
        let mut out = Vec::new();
        for suite in ALL_SUITES {
            let pt: Vec<u8> = (0..40u8).collect();
            out.push((encrypt_with(suite, 16, &ec, &pt), pt));
            out.push((
                encrypt_with(suite, 4096, &EncryptionContext::new(), b""),
                Vec::new(),
            ));
        }
        out
    })
}

/// The streaming decryptor on a valid message that the input mutates:
/// byte 0 picks the message, byte 1 the chunking, then each 4 bytes are one
/// edit (operation, position high and low byte, value). The unmodified
/// message must decrypt to its plaintext; a modified one must fail; and
/// streaming must agree with one-shot decryption.
pub fn decrypt_mutate(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let messages = valid_messages();
    let (original, plaintext) = &messages[usize::from(data[0]) % messages.len()];
    let mut msg = original.clone();
    for edit in data[2..].chunks_exact(4) {
        let len = msg.len();
        let pos = usize::from(u16::from_be_bytes([edit[1], edit[2]]));
        let v = edit[3];
        match edit[0] % 5 {
            0 if len > 0 => msg[pos % len] ^= v.max(1),
            1 if len > 0 => msg[pos % len] = v,
            2 => msg.truncate(pos % (len + 1)),
            3 => msg.insert(pos % (len + 1), v),
            4 if len > 0 => {
                msg.remove(pos % len);
            }
            _ => {}
        }
    }
    let mut rng = Rng::new(u64::from(data[1]) << 8 | data.len() as u64);
    let sizes = chunks(data[1], &mut rng, msg.len());
    let result = decrypt_both(&msg, &sizes);
    if msg == *original {
        assert_eq!(
            result.as_ref(),
            Some(plaintext),
            "a valid message did not decrypt"
        );
    } else {
        assert!(result.is_none(), "a modified message decrypted");
    }
}

// ------------------------------------------------------------ context --

/// The encryption-context codec: parsing arbitrary bytes, then the round
/// trip of what parsed and of a context made from the input.
pub fn context(data: &[u8]) {
    if let Ok(ec) = context::deserialize(data) {
        let bytes = context::serialize(&ec).expect("a parsed context serializes");
        assert_eq!(bytes.len(), data.len(), "same pairs, same length");
        assert_eq!(context::deserialize(&bytes).expect("re-parse"), ec);
    }
    // A context of the input's 0xff-separated pieces, as (key, value) pairs.
    let mut ec = EncryptionContext::new();
    let mut pieces = data.split(|&b| b == 0xff);
    while let (Some(k), Some(v)) = (pieces.next(), pieces.next()) {
        ec.insert(
            String::from_utf8_lossy(k).into(),
            String::from_utf8_lossy(v).into(),
        );
    }
    match context::serialize(&ec) {
        Ok(bytes) => {
            assert_eq!(bytes.is_empty(), ec.is_empty());
            assert_eq!(
                context::deserialize(&bytes).expect("serialized context parses"),
                ec
            );
        }
        Err(_) => {
            let size: usize = 2 + ec.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>();
            assert!(
                size > usize::from(u16::MAX),
                "refused a context of {size} bytes"
            );
        }
    }
}

// --------------------------------------------------------------- blob --

/// The key-store blob parser (both formats): no panic; a parsed blob's
/// parts tile the input, its key ID and version are the input's bytes, and
/// a blob of the format written now starts with what `blob::prefix` writes
/// for its key, version and nonce.
pub fn blob(data: &[u8]) {
    let Ok(b) = blob::parse(data) else {
        return;
    };
    let tiled = [b.prefix, &b.iv[..], b.sealed].concat();
    assert_eq!(tiled, data, "the parts of a blob do not tile it");
    assert_eq!(b.prefix[0], b.format);
    assert!(b.sealed.len() >= 16, "no room for the tag");
    let id: [u8; 16] = data[1..17].try_into().expect("16 bytes");
    assert_eq!(KeyId::from_bytes(&id), b.key_id);
    assert_eq!(b.version.to_be_bytes(), data[17..21]);
    if let Some(nonce) = b.nonce {
        assert_eq!(b.format, blob::BLOB_VERSION);
        let prefix = blob::prefix(b.key_id.as_str(), b.version, &nonce).expect("prefix");
        assert_eq!(prefix, b.prefix);
    }
    let ec: EncryptionContext = [("k".to_string(), "v".to_string())].into();
    let aad = blob::aad(b.prefix, &ec).expect("aad");
    assert!(aad.starts_with(b.prefix));
}

// -------------------------------------------------------------- audit --

/// The audit-log MAC of the fuzz targets: empty, so that a line whose
/// `"mac"` is `""` passes the MAC check and reaches the record parser.
pub fn empty_mac() -> ChainMac {
    Arc::new(|_: &[u8]| Ok(Vec::new()))
}

fn audit_path() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("sealbox-fuzz-audit-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("audit scratch directory");
        d
    });
    dir.join("audit.log")
}

/// The audit-line parser, through the two readers of a log file:
/// `verify_log` and `FileAuditLog::open` (which continues the chain). No
/// panic; when the log verifies, opening it continues after its last
/// record and leaves a log that still verifies.
pub fn audit(data: &[u8]) {
    let path = audit_path();
    std::fs::write(&path, data).expect("write the log");
    let mac = empty_mac();
    let before = audit::verify_log(&path, &mac, None);
    let opened = FileAuditLog::open(&path, mac.clone(), false);
    if let Ok(report) = &before {
        if report.ok() {
            let log = opened.expect("a log that verifies opens");
            let (seq, _) = log.head().expect("head");
            assert_eq!(
                seq, report.records,
                "open continues after the last verified record"
            );
            let after = audit::verify_log(&path, &mac, None).expect("verify after open");
            assert!(
                after.ok(),
                "opening a verified log damaged it: {:?}",
                after.first_error
            );
            assert_eq!(after.records, report.records);
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// Appends records to an audit log with the fuzz targets' MAC (the seed
/// generator's use).
pub fn write_audit_log(path: &std::path::Path, events: &[audit::AuditEvent]) {
    let log = FileAuditLog::open(path, empty_mac(), false).expect("open the log");
    for e in events {
        log.record(e).expect("record");
    }
}

// ---------------------------------------------------------------- DER --

/// The DER helpers: no panic; what parses re-encodes to the same bytes.
pub fn der(data: &[u8]) {
    if let Ok((tag, contents, rest)) = der::read_element(data) {
        let mut again = der::tlv(tag, contents);
        again.extend_from_slice(rest);
        assert_eq!(again, data, "an element re-encodes differently");
    }
    let mut r = der::Reader::new(data);
    while let Some(tag) = r.peek_tag() {
        if r.read_optional(tag).is_err() {
            break;
        }
    }
    let mut r = der::Reader::new(data);
    if let Ok(m) = r.uint() {
        if r.finish().is_ok() {
            let mut again = Vec::new();
            der::write_uint(&mut again, m);
            assert_eq!(again, data, "an INTEGER re-encodes differently");
        }
    }
    let _ = der::Reader::new(data).bit_string();
    for tag in [der::SEQUENCE, der::INTEGER, der::OCTET_STRING] {
        let _ = der::read_single(tag, data);
    }
    if let Ok(pkcs1) = der::spki_rsa_public_key(data) {
        assert_eq!(
            der::spki_rsa_public_key(&der::rsa_spki(pkcs1)).ok(),
            Some(pkcs1)
        );
    }
    if let Ok(pkcs1) = der::pkcs8_rsa_private_key(data) {
        let wrapped = der::rsa_pkcs8(pkcs1);
        assert_eq!(der::pkcs8_rsa_private_key(&wrapped).ok(), Some(pkcs1));
    }
    let _ = der::pkcs8_rsa_components(data);
    if let Ok((curve, _)) = der::pkcs8_ec_private_key(data) {
        let _ = der::ec_named_curve(curve);
    }
    let _ = der::spki_ec_point(data);
    // An EC private key in any form (PKCS#8 or SEC 1, PEM or DER) comes
    // back as a PKCS#8 key that reads, of the curve the keyring finds.
    if let Some(pkcs8) = der::ec_private_key_pkcs8(data) {
        let (curve, _) = der::pkcs8_ec_private_key(&pkcs8).expect("the PKCS#8 made reads");
        assert_eq!(
            der::ec_private_key_pkcs8(&pkcs8).as_deref().map(|v| &v[..]),
            Some(&pkcs8[..])
        );
        if curve != EcCurve::Secp256k1 {
            assert!(
                EcdhCurveSpec::of_key(data).is_ok(),
                "a P-256/384/521 key of no curve"
            );
        }
    }
    let _ = EcdhCurveSpec::of_key(data);
    if let Ok((r, s)) = der::ecdsa_signature(data) {
        assert_eq!(
            der::ecdsa_signature_from_scalars(r, s),
            data,
            "a signature re-encodes differently"
        );
    }
    // Ed25519 (RFC 8410): any key's seed re-wrapped reads back; a version 0
    // key without attributes (as long as its re-encoding) re-encodes to
    // itself.
    if let Ok((seed, public)) = der::pkcs8_ed25519_key(data) {
        let wrapped = der::ed25519_pkcs8(seed);
        assert_eq!(der::pkcs8_ed25519_key(&wrapped).ok(), Some((seed, None)));
        let version = der::read_single(der::SEQUENCE, data)
            .ok()
            .and_then(|body| der::Reader::new(body).uint().ok());
        if public.is_none() && version == Some(&[0][..]) && wrapped.len() == data.len() {
            assert_eq!(
                &wrapped[..],
                data,
                "an Ed25519 PKCS#8 v1 key re-encodes differently"
            );
        }
    }
    if let Ok(public) = der::spki_ed25519_public(data) {
        assert_eq!(
            der::ed25519_spki(public),
            data,
            "an Ed25519 SPKI re-encodes differently"
        );
    }
    // The key decoders built on these helpers.
    let _ = sealbox::crypto::RsaPublicKey::from_der(data);
    let _ = sealbox::crypto::EcdsaVerifyingKey::from_spki_der(data);
    let _ = sealbox::crypto::Ed25519SigningKey::from_pkcs8_der(data);
    let _ = sealbox::crypto::Ed25519VerifyingKey::from_spki_der(data);
}
