//! The OpenSSL command line as an independent oracle for the key store's
//! asymmetric operations: public keys sealbox exports parse in OpenSSL,
//! signatures sealbox makes verify in OpenSSL (and tampered ones do not),
//! ciphertexts OpenSSL makes decrypt in sealbox, and keys OpenSSL generates
//! work in sealbox after import, in both directions.
//!
//! The `openssl` binary is required: the test fails, not skips, without it
//! (`make test` installs it through scripts/install-deps.sh).

#[path = "common/shared.rs"]
mod shared;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Instant;

use shared::{openssl, openssl_ok};

use sealbox::keystore::{
    der_to_pem, CreateKeyRequest, EncryptionAlgorithm, KeyMetadata, KeySpec, KeyStore,
    KeyStoreOptions, KeyUsage, MessageType, Origin, RootKey, SigningAlgorithm,
};

const RSA_ALGS: [SigningAlgorithm; 6] = [
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
];

// --------------------------------------------------------------- helpers --

/// A unique scratch directory, removed however the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "sealbox-openssl-{tag}-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn store(&self) -> KeyStore {
        KeyStore::open(
            self.path("keys.db"),
            &RootKey::generate().unwrap(),
            KeyStoreOptions::default(),
        )
        .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Command-line arguments of mixed types (strings and paths).
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        vec![$(OsString::from(AsRef::<OsStr>::as_ref(&$arg))),*]
    };
}

/// OpenSSL's name for the hash of a signing algorithm, and its length.
fn hash_of(alg: SigningAlgorithm) -> (&'static str, usize) {
    match alg.as_str() {
        s if s.ends_with("SHA_256") => ("sha256", 32),
        s if s.ends_with("SHA_384") => ("sha384", 48),
        s if s.ends_with("SHA_512") => ("sha512", 64),
        s => panic!("unexpected algorithm {s}"),
    }
}

fn is_pss(alg: SigningAlgorithm) -> bool {
    alg.as_str().starts_with("RSASSA_PSS")
}

/// `-sigopt` arguments for PSS with the salt as long as the hash (as AWS
/// KMS and sealbox use it); OpenSSL then requires exactly that salt length.
fn pss_opts(alg: SigningAlgorithm, salt_len: usize) -> Vec<String> {
    if is_pss(alg) {
        vec![
            "-sigopt".into(),
            "rsa_padding_mode:pss".into(),
            "-sigopt".into(),
            format!("rsa_pss_saltlen:{salt_len}"),
            "-sigopt".into(),
            format!("rsa_mgf1_md:{}", hash_of(alg).0),
        ]
    } else {
        Vec::new()
    }
}

/// Whether `openssl dgst` verifies `sig` over `msg` with the public key `pem`.
fn openssl_verifies(
    pem: &Path,
    alg: SigningAlgorithm,
    salt_len: usize,
    msg: &Path,
    sig: &Path,
) -> bool {
    let hash = format!("-{}", hash_of(alg).0);
    let mut args = args!["dgst", hash, "-verify", pem, "-signature", sig];
    args.extend(pss_opts(alg, salt_len).into_iter().map(Into::into));
    args.push(msg.into());
    let out = openssl(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), text.contains("Verified OK")) {
        (true, true) => true,
        (false, false) => false,
        _ => panic!(
            "openssl dgst -verify said {} with status {}: {text}{}",
            text.trim(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `openssl dgst -<hash> -binary`: the digest, computed by OpenSSL.
fn openssl_digest(alg: SigningAlgorithm, msg: &Path) -> Vec<u8> {
    let hash = format!("-{}", hash_of(alg).0);
    openssl_ok(args!["dgst", hash, "-binary", msg])
}

/// Deterministic filler for test messages.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed % 31)) as u8
                ^ seed
        })
        .collect()
}

fn messages() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        (
            "short",
            b"The quick brown fox jumps over the lazy dog".to_vec(),
        ),
        ("max", pattern(4096, 7)),
    ]
}

fn tampered(m: &[u8]) -> Vec<u8> {
    let mut t = m.to_vec();
    match t.first_mut() {
        Some(b) => *b ^= 0x01,
        None => t.push(0),
    }
    t
}

/// Writes the SPKI `der` as a PEM file `name`; returns its path.
fn write_public_pem(s: &Scratch, name: &str, der: &[u8]) -> PathBuf {
    s.write(name, der_to_pem("PUBLIC KEY", der).as_bytes())
}

/// A request for a key of `spec` (for `usage`, or the spec's default).
fn request(spec: KeySpec, usage: Option<KeyUsage>) -> CreateKeyRequest {
    CreateKeyRequest {
        key_spec: spec,
        key_usage: usage,
        ..Default::default()
    }
}

/// `material` imported as a key of `spec` for `usage`.
fn import(ks: &KeyStore, spec: KeySpec, usage: KeyUsage, material: &[u8]) -> KeyMetadata {
    ks.import_key(&request(spec, Some(usage)), material)
        .unwrap()
}

/// A new key of `spec` for `usage`.
fn create(ks: &KeyStore, spec: KeySpec, usage: KeyUsage) -> KeyMetadata {
    ks.create_key(&request(spec, Some(usage))).unwrap()
}

const ECDSA: SigningAlgorithm = SigningAlgorithm::EcdsaSha256;
const ECDSA_384: SigningAlgorithm = SigningAlgorithm::EcdsaSha384;

/// What `openssl pkey -text` says of a P-256 public key.
const P256_TEXT: [&str; 2] = ["Public-Key: (256 bit)", "P-256"];
/// What `openssl pkey -text` says of a P-384 public key.
const P384_TEXT: [&str; 2] = ["Public-Key: (384 bit)", "P-384"];
/// What `openssl pkey -text` says of a P-521 public key.
const P521_TEXT: [&str; 2] = ["Public-Key: (521 bit)", "P-521"];
/// What `openssl pkey -text` says of a secp256k1 public key.
const K1_TEXT: [&str; 2] = ["Public-Key: (256 bit)", "secp256k1"];

/// What `openssl pkey -text` says of an RSA public key of `bits`.
fn rsa_text(bits: usize) -> [String; 2] {
    [
        format!("Public-Key: ({bits} bit)"),
        "Exponent: 65537".into(),
    ]
}

/// Checks a sealbox public key (DER SPKI) in OpenSSL; returns the PEM path.
fn check_public_key(
    s: &Scratch,
    ks: &KeyStore,
    key_id: &str,
    name: &str,
    expect: &[impl AsRef<str>],
) -> PathBuf {
    let der = ks.get_public_key(key_id).unwrap();
    let pem_text = der_to_pem("PUBLIC KEY", &der);
    assert!(
        pem_text.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && pem_text.ends_with("-----END PUBLIC KEY-----\n")
    );
    let pem = s.write(&format!("{name}.pub.pem"), pem_text.as_bytes());
    let der_path = s.write(&format!("{name}.pub.der"), &der);

    let text = openssl_ok(args!["pkey", "-pubin", "-in", &pem, "-noout", "-text"]);
    let text = String::from_utf8(text).unwrap();
    for e in expect.iter().map(AsRef::as_ref) {
        assert!(
            text.contains(e),
            "{name}: openssl pkey -text does not mention {e:?}:\n{text}"
        );
    }
    // OpenSSL re-encodes the key to exactly the same DER, from the PEM and from the DER.
    let from_pem = openssl_ok(args!["pkey", "-pubin", "-in", &pem, "-outform", "DER"]);
    assert_eq!(
        from_pem, der,
        "{name}: OpenSSL's DER of sealbox's PEM differs from sealbox's DER"
    );
    let from_der = args!["pkey", "-pubin", "-inform", "DER", "-in", &der_path, "-outform", "PEM"];
    let from_der = openssl_ok(from_der);
    assert_eq!(
        String::from_utf8(from_der).unwrap(),
        pem_text,
        "{name}: OpenSSL's PEM of sealbox's DER differs from der_to_pem"
    );
    pem
}

#[derive(Default, Debug)]
struct Tally {
    sealbox_signatures_verified_by_openssl: usize,
    tampered_rejected_by_openssl: usize,
    openssl_signatures_verified_by_sealbox: usize,
    tampered_rejected_by_sealbox: usize,
    openssl_ciphertexts_decrypted_by_sealbox: usize,
    sealbox_ciphertexts_decrypted_by_openssl: usize,
}

impl Tally {
    /// Prints what was checked and how long it took, and asserts that
    /// signatures and ciphertexts really went both ways.
    fn report(&self, what: &str, keygen: std::time::Duration, started: Instant) {
        println!(
            "{what} vs openssl: {self:?}; key generation {:.2} s; total {:.1} s",
            keygen.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        assert!(
            self.sealbox_signatures_verified_by_openssl > 0
                && self.openssl_ciphertexts_decrypted_by_sealbox > 0
        );
    }
}

/// Signs every message with `alg` in sealbox, RAW and DIGEST, and checks
/// the signatures in OpenSSL against `pem`; tampered messages and
/// signatures must fail there.
/// One signing key checked against openssl: where files go, the store, the
/// key, its PEM (public or private, as the direction needs) and the
/// algorithm.
#[derive(Clone, Copy)]
struct SignCase<'a> {
    s: &'a Scratch,
    ks: &'a KeyStore,
    key_id: &'a str,
    pem: &'a Path,
    alg: SigningAlgorithm,
}

fn sealbox_signs_openssl_verifies(case: SignCase<'_>, t: &mut Tally) {
    let (s, ks, key_id, pem, alg) = (case.s, case.ks, case.key_id, case.pem, case.alg);
    let (_, hlen) = hash_of(alg);
    for (mname, msg) in messages() {
        let tag = format!("{key_id}-{alg}-{mname}");
        let msg_path = s.write(&format!("{tag}.msg"), &msg);
        let bad_path = s.write(&format!("{tag}.bad"), &tampered(&msg));
        let digest = openssl_digest(alg, &msg_path);
        assert_eq!(digest.len(), hlen);

        let raw_sig = ks.sign(key_id, &msg, alg, MessageType::Raw).unwrap();
        let dig_sig = ks.sign(key_id, &digest, alg, MessageType::Digest).unwrap();
        if let Some(k) = modulus_bytes(ks, key_id) {
            assert_eq!(
                raw_sig.len(),
                k,
                "{tag}: an RSA signature is as long as the modulus"
            );
            assert_eq!(dig_sig.len(), k);
        }
        if !is_pss(alg) && !alg.as_str().starts_with("ECDSA") {
            // PKCS#1 v1.5 is deterministic: signing the message or its digest is the same.
            assert_eq!(raw_sig, dig_sig, "{tag}: RAW and DIGEST signatures differ");
        }
        for (kind, sig) in [("raw", &raw_sig), ("digest", &dig_sig)] {
            let sig_path = s.write(&format!("{tag}.{kind}.sig"), sig);
            assert!(
                openssl_verifies(pem, alg, hlen, &msg_path, &sig_path),
                "{tag}: OpenSSL rejects sealbox's {kind} signature"
            );
            t.sealbox_signatures_verified_by_openssl += 1;
            assert!(
                !openssl_verifies(pem, alg, hlen, &bad_path, &sig_path),
                "{tag}: OpenSSL accepts sealbox's {kind} signature over a tampered message"
            );
            let mut bad_sig = sig.clone();
            let last = bad_sig.len() - 1;
            bad_sig[last] ^= 0x01;
            let bad_sig_path = s.write(&format!("{tag}.{kind}.badsig"), &bad_sig);
            assert!(
                !openssl_verifies(pem, alg, hlen, &msg_path, &bad_sig_path),
                "{tag}: OpenSSL accepts a tampered {kind} signature"
            );
            t.tampered_rejected_by_openssl += 2;
            // sealbox agrees with itself, both ways of naming the message.
            assert!(
                ks.verify(key_id, &msg, sig, alg, MessageType::Raw).unwrap(),
                "{tag}: sealbox rejects its own {kind} signature"
            );
            assert!(ks
                .verify(key_id, &digest, sig, alg, MessageType::Digest)
                .unwrap());
        }
        if is_pss(alg) {
            // The salt is exactly as long as the hash: OpenSSL checks the
            // length it is told, so another length must fail.
            let sig_path = s.path(&format!("{tag}.raw.sig"));
            assert!(
                !openssl_verifies(pem, alg, hlen - 1, &msg_path, &sig_path),
                "{tag}: the PSS salt is not {hlen} bytes long"
            );
        }
    }
}

/// Signs every message with `alg` in OpenSSL with the private key `priv_pem`
/// and checks the signatures in sealbox; tampered ones must not verify.
fn openssl_signs_sealbox_verifies(case: SignCase<'_>, t: &mut Tally) {
    let (s, ks, key_id, priv_pem, alg) = (case.s, case.ks, case.key_id, case.pem, case.alg);
    let (hname, hlen) = hash_of(alg);
    for (mname, msg) in messages() {
        let tag = format!("ossl-{key_id}-{alg}-{mname}");
        let msg_path = s.write(&format!("{tag}.msg"), &msg);
        let sig_path = s.path(&format!("{tag}.sig"));
        let hash = format!("-{hname}");
        let mut args = args!["dgst", hash, "-sign", priv_pem, "-out", &sig_path];
        args.extend(pss_opts(alg, hlen).into_iter().map(Into::into));
        args.push(msg_path.clone().into());
        openssl_ok(&args);
        let sig = std::fs::read(&sig_path).unwrap();
        let digest = openssl_digest(alg, &msg_path);

        assert!(
            ks.verify(key_id, &msg, &sig, alg, MessageType::Raw)
                .unwrap(),
            "{tag}: sealbox rejects OpenSSL's signature (RAW)"
        );
        assert!(
            ks.verify(key_id, &digest, &sig, alg, MessageType::Digest)
                .unwrap(),
            "{tag}: sealbox rejects OpenSSL's signature (DIGEST)"
        );
        t.openssl_signatures_verified_by_sealbox += 2;
        assert!(
            !ks.verify(key_id, &tampered(&msg), &sig, alg, MessageType::Raw)
                .unwrap(),
            "{tag}: sealbox accepts a tampered message"
        );
        let mut bad_sig = sig.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 0x01;
        assert!(
            !ks.verify(key_id, &msg, &bad_sig, alg, MessageType::Raw)
                .unwrap(),
            "{tag}: sealbox accepts a tampered signature"
        );
        t.tampered_rejected_by_sealbox += 2;
    }
}

const OAEP: [(EncryptionAlgorithm, &str, usize); 2] = [
    (EncryptionAlgorithm::RsaesOaepSha256, "sha256", 32),
    (EncryptionAlgorithm::RsaesOaepSha1, "sha1", 20),
];

fn oaep_opts(md: &str) -> [String; 6] {
    [
        "-pkeyopt".into(),
        "rsa_padding_mode:oaep".into(),
        "-pkeyopt".into(),
        format!("rsa_oaep_md:{md}"),
        "-pkeyopt".into(),
        format!("rsa_mgf1_md:{md}"),
    ]
}

/// The RSA modulus length in bytes of a key, `None` for EC keys.
fn modulus_bytes(ks: &KeyStore, key_id: &str) -> Option<usize> {
    ks.describe_key(key_id)
        .unwrap()
        .key_spec
        .rsa_bits()
        .map(|b| b / 8)
}

/// Plaintext lengths for OAEP with a `k`-byte modulus and a hash of `hlen`
/// bytes: the largest is k - 2·hlen - 2.
fn oaep_lengths(k: usize, hlen: usize) -> [usize; 4] {
    [0, 1, 32, k - 2 * hlen - 2]
}

/// OpenSSL encrypts to the public key `pem`; sealbox decrypts.
fn openssl_encrypts_sealbox_decrypts(
    s: &Scratch,
    ks: &KeyStore,
    key_id: &str,
    pem: &Path,
    t: &mut Tally,
) {
    let k = modulus_bytes(ks, key_id).unwrap();
    for (alg, md, hlen) in OAEP {
        for len in oaep_lengths(k, hlen) {
            let tag = format!("{key_id}-{md}-{len}");
            let pt = pattern(len, len as u8);
            let pt_path = s.write(&format!("{tag}.pt"), &pt);
            let ct_path = s.path(&format!("{tag}.ct"));
            let mut args = args!["pkeyutl", "-encrypt", "-pubin", "-inkey", pem];
            args.extend(args!["-in", pt_path, "-out", &ct_path]);
            args.extend(oaep_opts(md).iter().map(Into::into));
            openssl_ok(&args);
            let ct = std::fs::read(&ct_path).unwrap();
            assert_eq!(ct.len(), k);
            let got = ks.decrypt_rsa(key_id, &ct, alg).unwrap_or_else(|e| {
                panic!("{tag}: sealbox cannot decrypt OpenSSL's {alg} ciphertext: {e}")
            });
            assert_eq!(
                got.as_bytes(),
                pt.as_slice(),
                "{tag}: sealbox decrypts OpenSSL's ciphertext to other bytes"
            );
            t.openssl_ciphertexts_decrypted_by_sealbox += 1;
            // The other OAEP hash, or a flipped bit, must not decrypt.
            let other = if alg == EncryptionAlgorithm::RsaesOaepSha256 {
                EncryptionAlgorithm::RsaesOaepSha1
            } else {
                EncryptionAlgorithm::RsaesOaepSha256
            };
            assert!(
                ks.decrypt_rsa(key_id, &ct, other).is_err(),
                "{tag}: a {alg} ciphertext decrypts as {other}"
            );
            let mut bad = ct.clone();
            bad[100] ^= 0x04;
            assert!(
                ks.decrypt_rsa(key_id, &bad, alg).is_err(),
                "{tag}: a tampered ciphertext decrypts"
            );
        }
    }
}

/// Generates a key with `openssl genpkey` (`opt`: a `-pkeyopt`, if not
/// empty); returns (private PEM, PKCS#8 DER,
/// public SPKI DER), all made by OpenSSL.
fn openssl_key(s: &Scratch, name: &str, alg: &str, opt: &str) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let pem = s.path(&format!("{name}.pem"));
    let mut args = args!["genpkey", "-algorithm", alg, "-out", &pem];
    if !opt.is_empty() {
        args.extend(args!["-pkeyopt", opt]);
    }
    openssl_ok(&args);
    let pkcs8 = args!["pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER"];
    let pkcs8 = openssl_ok(pkcs8);
    let spki = openssl_ok(args!["pkey", "-in", &pem, "-pubout", "-outform", "DER"]);
    (pem, pkcs8, spki)
}

// ----------------------------------------------------------------- tests --

/// A test's start: its clock, scratch directory, key store and tally.
fn start(tag: &str) -> (Instant, Scratch, KeyStore, Tally) {
    let started = Instant::now();
    let s = Scratch::new(tag);
    let ks = s.store();
    (started, s, ks, Tally::default())
}

/// Keys sealbox generates, checked by OpenSSL.
#[test]
fn sealbox_keys_checked_by_openssl() {
    let (started, s, ks, mut t) = start("gen");

    let ec = create(&ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let ec384 = create(&ks, KeySpec::EccNistP384, KeyUsage::SignVerify);
    let k1 = create(&ks, KeySpec::EccSecgP256k1, KeyUsage::SignVerify);
    let ec521 = create(&ks, KeySpec::EccNistP521, KeyUsage::SignVerify);
    let t0 = Instant::now();
    let rsa_sign = create(&ks, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let rsa_enc = create(&ks, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let keygen = t0.elapsed();

    let ec_pem = check_public_key(&s, &ks, &ec.key_id, "ec", &P256_TEXT);
    let ec384_pem = check_public_key(&s, &ks, &ec384.key_id, "ec384", &P384_TEXT);
    let k1_pem = check_public_key(&s, &ks, &k1.key_id, "k1", &K1_TEXT);
    let ec521_pem = check_public_key(&s, &ks, &ec521.key_id, "ec521", &P521_TEXT);
    sealbox_signs_openssl_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &ec521.key_id,
            pem: &ec521_pem,
            alg: SigningAlgorithm::EcdsaSha512,
        },
        &mut t,
    );
    sealbox_signs_openssl_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &k1.key_id,
            pem: &k1_pem,
            alg: ECDSA,
        },
        &mut t,
    );
    let rsa_sign_pem = check_public_key(&s, &ks, &rsa_sign.key_id, "rsa-sign", &rsa_text(2048));
    let rsa_enc_pem = check_public_key(&s, &ks, &rsa_enc.key_id, "rsa-enc", &rsa_text(2048));

    sealbox_signs_openssl_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &ec.key_id,
            pem: &ec_pem,
            alg: ECDSA,
        },
        &mut t,
    );
    sealbox_signs_openssl_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &ec384.key_id,
            pem: &ec384_pem,
            alg: ECDSA_384,
        },
        &mut t,
    );
    // Each curve signs with its own hash only (as AWS KMS).
    for (key, alg) in [(&ec.key_id, ECDSA_384), (&ec384.key_id, ECDSA)] {
        assert!(matches!(
            ks.sign(key, b"x", alg, MessageType::Raw),
            Err(sealbox::Error::InvalidKeyUsage(_))
        ));
    }
    for alg in RSA_ALGS {
        sealbox_signs_openssl_verifies(
            SignCase {
                s: &s,
                ks: &ks,
                key_id: &rsa_sign.key_id,
                pem: &rsa_sign_pem,
                alg,
            },
            &mut t,
        );
    }
    openssl_encrypts_sealbox_decrypts(&s, &ks, &rsa_enc.key_id, &rsa_enc_pem, &mut t);

    // The ENCRYPT_DECRYPT key does not sign; the SIGN_VERIFY key does not decrypt.
    assert!(ks
        .sign(
            &rsa_enc.key_id,
            b"x",
            SigningAlgorithm::RsassaPssSha256,
            MessageType::Raw
        )
        .is_err());
    assert!(ks
        .decrypt_rsa(
            &rsa_sign.key_id,
            &[0u8; 256],
            EncryptionAlgorithm::RsaesOaepSha256
        )
        .is_err());

    t.report("sealbox keys (2 RSA-2048 generated)", keygen, started);
    assert!(t.tampered_rejected_by_openssl > 0);
}

/// Keys OpenSSL generates, imported into sealbox: signatures and
/// ciphertexts cross in both directions.
#[test]
fn openssl_keys_imported_into_sealbox() {
    let (started, s, ks, mut t) = start("import");

    // ECDSA P-256.
    let (ec_priv, ec_pkcs8, ec_spki) = openssl_key(&s, "ec", "EC", "ec_paramgen_curve:P-256");
    let ec = import(&ks, KeySpec::EccNistP256, KeyUsage::SignVerify, &ec_pkcs8);
    assert_eq!(ec.origin, Origin::External);
    assert_eq!(
        ks.get_public_key(&ec.key_id).unwrap(),
        ec_spki,
        "sealbox's public key of the imported EC key differs from OpenSSL's"
    );
    let ec_pub = write_public_pem(&s, "ec.openssl.pub.pem", &ec_spki);
    openssl_signs_sealbox_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &ec.key_id,
            pem: &ec_priv,
            alg: ECDSA,
        },
        &mut t,
    );
    sealbox_signs_openssl_verifies(
        SignCase {
            s: &s,
            ks: &ks,
            key_id: &ec.key_id,
            pem: &ec_pub,
            alg: ECDSA,
        },
        &mut t,
    );

    // The other curves, each with its algorithm: OpenSSL's key imported,
    // signatures both ways.
    let mut pkcs8_of = std::collections::HashMap::new();
    for (name, curve, spec, alg) in [
        ("ec384", "P-384", KeySpec::EccNistP384, ECDSA_384),
        ("k1", "secp256k1", KeySpec::EccSecgP256k1, ECDSA),
        (
            "ec521",
            "P-521",
            KeySpec::EccNistP521,
            SigningAlgorithm::EcdsaSha512,
        ),
    ] {
        let (private, pkcs8, spki) =
            openssl_key(&s, name, "EC", &format!("ec_paramgen_curve:{curve}"));
        let key = import(&ks, spec, KeyUsage::SignVerify, &pkcs8);
        assert_eq!(ks.get_public_key(&key.key_id).unwrap(), spki, "{curve}");
        let public = write_public_pem(&s, &format!("{name}.openssl.pub.pem"), &spki);
        let case = |pem| SignCase {
            s: &s,
            ks: &ks,
            key_id: &key.key_id,
            pem,
            alg,
        };
        openssl_signs_sealbox_verifies(case(&private), &mut t);
        sealbox_signs_openssl_verifies(case(&public), &mut t);
        pkcs8_of.insert(spec, pkcs8);
    }
    let (ec384_pkcs8, k1_pkcs8, p521_pkcs8) = (
        &pkcs8_of[&KeySpec::EccNistP384],
        &pkcs8_of[&KeySpec::EccSecgP256k1],
        &pkcs8_of[&KeySpec::EccNistP521],
    );
    // A key of one curve is refused as another spec's material.
    for (spec, material) in [
        (KeySpec::EccNistP521, ec384_pkcs8),
        (KeySpec::EccNistP384, p521_pkcs8),
        (KeySpec::EccNistP384, &ec_pkcs8),
        (KeySpec::EccNistP256, ec384_pkcs8),
        (KeySpec::EccNistP256, k1_pkcs8),
        (KeySpec::EccSecgP256k1, &ec_pkcs8),
    ] {
        assert!(matches!(
            ks.import_key(&request(spec, Some(KeyUsage::SignVerify)), material),
            Err(sealbox::Error::InvalidKey(_))
        ));
    }

    // RSA-2048, imported once for signing and once for encryption.
    let (rsa_priv, rsa_pkcs8, rsa_spki) = openssl_key(&s, "rsa", "RSA", "rsa_keygen_bits:2048");
    let rsa_sign = import(&ks, KeySpec::Rsa2048, KeyUsage::SignVerify, &rsa_pkcs8);
    assert_eq!(ks.get_public_key(&rsa_sign.key_id).unwrap(), rsa_spki);
    let rsa_pub = write_public_pem(&s, "rsa.openssl.pub.pem", &rsa_spki);
    for alg in RSA_ALGS {
        openssl_signs_sealbox_verifies(
            SignCase {
                s: &s,
                ks: &ks,
                key_id: &rsa_sign.key_id,
                pem: &rsa_priv,
                alg,
            },
            &mut t,
        );
        sealbox_signs_openssl_verifies(
            SignCase {
                s: &s,
                ks: &ks,
                key_id: &rsa_sign.key_id,
                pem: &rsa_pub,
                alg,
            },
            &mut t,
        );
    }

    let rsa_enc = import(&ks, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, &rsa_pkcs8);
    openssl_encrypts_sealbox_decrypts(&s, &ks, &rsa_enc.key_id, &rsa_pub, &mut t);
    // sealbox encrypts (public half), OpenSSL decrypts with the private key.
    for (alg, md, hlen) in OAEP {
        for len in oaep_lengths(256, hlen) {
            let tag = format!("sbx-{md}-{len}");
            let pt = pattern(len, 3 + len as u8);
            let ct = ks
                .encrypt_rsa(&rsa_enc.key_id, &pt, alg)
                .unwrap_or_else(|e| panic!("{tag}: encrypt_rsa: {e}"));
            let ct_path = s.write(&format!("{tag}.ct"), &ct);
            let mut args = args!["pkeyutl", "-decrypt", "-inkey", &rsa_priv, "-in", ct_path];
            args.extend(oaep_opts(md).iter().map(Into::into));
            assert_eq!(
                openssl_ok(&args),
                pt,
                "{tag}: OpenSSL decrypts sealbox's {alg} ciphertext to other bytes"
            );
            t.sealbox_ciphertexts_decrypted_by_openssl += 1;
        }
        // One byte over the OAEP limit is refused.
        assert!(
            ks.encrypt_rsa(&rsa_enc.key_id, &pattern(256 - 2 * hlen - 1, 1), alg)
                .is_err(),
            "{alg}: plaintext over the OAEP limit accepted"
        );
    }

    // Material of the wrong kind is refused at import.
    assert!(ks
        .import_key(&request(KeySpec::EccNistP256, None), &rsa_pkcs8)
        .is_err());
    assert!(ks
        .import_key(
            &request(KeySpec::Rsa3072, Some(KeyUsage::SignVerify)),
            &rsa_pkcs8
        )
        .is_err());

    println!(
        "openssl keys imported into sealbox: {t:?}; total {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(t.openssl_signatures_verified_by_sealbox > 0 && t.tampered_rejected_by_sealbox > 0);
    assert!(
        t.sealbox_signatures_verified_by_openssl > 0
            && t.sealbox_ciphertexts_decrypted_by_openssl > 0
            && t.openssl_ciphertexts_decrypted_by_sealbox > 0
    );
}

/// RSA_3072 and RSA_4096 keys sealbox generates (generation in pure Rust
/// takes about a second or two each even with optimised dependencies).
#[test]
fn larger_rsa_keys_checked_by_openssl() {
    let (started, s, ks, mut t) = start("big");
    let t0 = Instant::now();
    let sign3072 = create(&ks, KeySpec::Rsa3072, KeyUsage::SignVerify);
    let enc4096 = create(&ks, KeySpec::Rsa4096, KeyUsage::EncryptDecrypt);
    let keygen = t0.elapsed();
    let sign_pem = check_public_key(&s, &ks, &sign3072.key_id, "rsa3072", &rsa_text(3072));
    let enc_pem = check_public_key(&s, &ks, &enc4096.key_id, "rsa4096", &rsa_text(4096));
    for alg in RSA_ALGS {
        sealbox_signs_openssl_verifies(
            SignCase {
                s: &s,
                ks: &ks,
                key_id: &sign3072.key_id,
                pem: &sign_pem,
                alg,
            },
            &mut t,
        );
    }
    openssl_encrypts_sealbox_decrypts(&s, &ks, &enc4096.key_id, &enc_pem, &mut t);
    t.report("RSA-3072/4096 keys", keygen, started);
}

/// Whether `openssl pkeyutl -verify -rawin` verifies the Ed25519 `sig` over
/// `msg` with the public key `pem`.
fn openssl_ed25519_verifies(pem: &Path, msg: &Path, sig: &Path) -> bool {
    let out = openssl(args![
        "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", msg, "-sigfile", sig
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    match (
        out.status.success(),
        text.contains("Signature Verified Successfully"),
    ) {
        (true, true) => true,
        (false, false) => false,
        _ => panic!(
            "openssl pkeyutl -verify said {text} with status {}",
            out.status
        ),
    }
}

/// Ed25519 (ECC_NIST_EDWARDS25519 / ED25519_SHA_512) against OpenSSL both
/// ways: sealbox's public key and signatures in OpenSSL; OpenSSL's key
/// imported, with the same public key and (Ed25519 being deterministic)
/// byte-identical signatures, which sealbox verifies. OpenSSL 3.0's
/// `pkeyutl -rawin` cannot read an empty message, so the empty message is
/// left to the Wycheproof and key-store suites.
#[test]
fn ed25519_both_ways_with_openssl() {
    let (started, s, ks, mut t) = start("ed25519");
    let alg = SigningAlgorithm::Ed25519Sha512;
    let text = ["ED25519 Public-Key:", "pub:"];
    let made = create(&ks, KeySpec::EccNistEdwards25519, KeyUsage::SignVerify);
    let made_pem = check_public_key(&s, &ks, &made.key_id, "ed", &text);

    let (priv_pem, pkcs8, spki) = openssl_key(&s, "ed.openssl", "ED25519", "");
    let imported = import(
        &ks,
        KeySpec::EccNistEdwards25519,
        KeyUsage::SignVerify,
        &pkcs8,
    );
    assert_eq!(ks.get_public_key(&imported.key_id).unwrap(), spki);
    let imported_pub = write_public_pem(&s, "ed.openssl.pub.pem", &spki);

    for (name, m) in messages().into_iter().filter(|(_, m)| !m.is_empty()) {
        let msg = s.write(&format!("ed-{name}.msg"), &m);
        let other = s.write(&format!("ed-{name}.other"), &tampered(&m));
        for (key_id, pem) in [(&made.key_id, &made_pem), (&imported.key_id, &imported_pub)] {
            let sig = ks.sign(key_id, &m, alg, MessageType::Raw).unwrap();
            let sig_file = s.write(&format!("ed-{name}.sig"), &sig);
            assert!(openssl_ed25519_verifies(pem, &msg, &sig_file), "{name}");
            assert!(!openssl_ed25519_verifies(pem, &other, &sig_file), "{name}");
            let mut bad = sig.clone();
            bad[0] ^= 0x80;
            let bad_file = s.write(&format!("ed-{name}.bad"), &bad);
            assert!(!openssl_ed25519_verifies(pem, &msg, &bad_file), "{name}");
            t.sealbox_signatures_verified_by_openssl += 1;
            t.tampered_rejected_by_openssl += 2;
        }
        let theirs = openssl_ok(args![
            "pkeyutl", "-sign", "-inkey", &priv_pem, "-rawin", "-in", &msg
        ]);
        let ours = ks
            .sign(&imported.key_id, &m, alg, MessageType::Raw)
            .unwrap();
        assert_eq!(theirs, ours, "{name}: Ed25519 is deterministic");
        assert!(ks
            .verify(&imported.key_id, &m, &theirs, alg, MessageType::Raw)
            .unwrap());
        assert!(!ks
            .verify(
                &imported.key_id,
                &tampered(&m),
                &theirs,
                alg,
                MessageType::Raw
            )
            .unwrap());
        t.openssl_signatures_verified_by_sealbox += 1;
        t.tampered_rejected_by_sealbox += 1;
    }
    // OpenSSL's Ed25519 key is not a P-256 key, and its P-256 key is not an
    // Ed25519 key.
    let (_, ec_pkcs8, _) = openssl_key(&s, "ec", "EC", "ec_paramgen_curve:P-256");
    for (spec, material) in [
        (KeySpec::EccNistP256, &pkcs8),
        (KeySpec::EccNistEdwards25519, &ec_pkcs8),
    ] {
        let r = ks.import_key(&request(spec, None), material);
        assert!(r.is_err(), "{spec} took another curve's key");
    }
    println!(
        "Ed25519 vs openssl: {t:?}; total {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        t.sealbox_signatures_verified_by_openssl == 4
            && t.openssl_signatures_verified_by_sealbox == 2
    );
}

/// DeriveSharedSecret agrees with `openssl pkeyutl -derive` on every NIST
/// curve, for keys sealbox generates and for OpenSSL's keys imported for
/// KEY_AGREEMENT; a peer on another curve is refused.
#[test]
fn derive_shared_secret_agrees_with_openssl() {
    let (started, s, ks, _) = start("ecdh");
    let ecdh = sealbox::keystore::KeyAgreementAlgorithm::Ecdh;
    let mut agreed = 0;
    for (spec, curve) in [
        (KeySpec::EccNistP256, "P-256"),
        (KeySpec::EccNistP384, "P-384"),
        (KeySpec::EccNistP521, "P-521"),
    ] {
        let opt = format!("ec_paramgen_curve:{curve}");
        let (peer_pem, _, peer_spki) = openssl_key(&s, &format!("peer-{curve}"), "EC", &opt);
        let (_, own_pkcs8, _) = openssl_key(&s, &format!("own-{curve}"), "EC", &opt);
        let generated = create(&ks, spec, KeyUsage::KeyAgreement);
        let imported = import(&ks, spec, KeyUsage::KeyAgreement, &own_pkcs8);
        for key in [&generated, &imported] {
            let ours = ks.get_public_key(&key.key_id).unwrap();
            let ours_pem = write_public_pem(&s, &format!("{curve}.pub.pem"), &ours);
            let openssl_secret = openssl_ok(args![
                "pkeyutl", "-derive", "-inkey", &peer_pem, "-peerkey", &ours_pem
            ]);
            let secret = ks
                .derive_shared_secret(&key.key_id, ecdh, &peer_spki)
                .unwrap();
            assert_eq!(secret.as_bytes(), &openssl_secret[..], "{spec}");
            agreed += 1;
        }
    }
    let (_, _, p384_spki) = openssl_key(&s, "p384", "EC", "ec_paramgen_curve:P-384");
    let p256 = create(&ks, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    assert!(ks
        .derive_shared_secret(&p256.key_id, ecdh, &p384_spki)
        .is_err());
    println!(
        "ECDH vs openssl pkeyutl -derive: {agreed} secrets identical; total {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(agreed, 6);
}

// -------------------------------------------------------- for a recipient --

/// Decrypt and GenerateDataKey for a recipient: OpenSSL (`cms -decrypt`,
/// the recipient's side) opens the CMS EnvelopedData with the recipient's
/// private key and gets the plaintext (the data key the key store's blob
/// holds); another key cannot; keys that are not RSA of 2048 bits or more
/// are refused before anything is decrypted, and the audit record names
/// the recipient.
#[test]
fn decrypt_and_generate_data_key_for_a_recipient_open_with_openssl() {
    let s = Scratch::new("recipient");
    let ks = s.store();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    ks.add_audit_sink(std::sync::Arc::new(sealbox::audit::CallbackSink(
        std::sync::Arc::new(move |e: &sealbox::audit::AuditEvent| {
            sink.lock().unwrap().push(e.clone());
            Ok(())
        }),
    )));
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let ctx: sealbox::EncryptionContext = [("tenant".to_string(), "acme".to_string())].into();
    let recipient_key = s.path("recipient.pem");
    let stranger_key = s.path("stranger.pem");
    for (path, bits) in [(&recipient_key, "3072"), (&stranger_key, "2048")] {
        openssl_ok(args![
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            format!("rsa_keygen_bits:{bits}"),
            "-out",
            path
        ]);
    }
    let spki = openssl_ok(args![
        "pkey",
        "-in",
        &recipient_key,
        "-pubout",
        "-outform",
        "DER"
    ]);
    let open = |cms: &[u8], key: &Path| {
        let ct = s.write("for-recipient.der", cms);
        // -debug_decrypt: a wrong key fails instead of OpenSSL's random-key
        // decryption (its defence against padding oracles), which a wrong
        // key survives one time in 256.
        openssl(args![
            "cms",
            "-decrypt",
            "-debug_decrypt",
            "-inform",
            "DER",
            "-in",
            &ct,
            "-inkey",
            key
        ])
    };

    let blob = ks.encrypt(&key, b"card 4111 1111 1111 1111", &ctx).unwrap();
    let cms = ks.decrypt_for_recipient(&blob, &ctx, &spki).unwrap();
    let out = open(&cms, &recipient_key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"card 4111 1111 1111 1111");
    assert!(
        !open(&cms, &stranger_key).status.success(),
        "another key opened it"
    );
    // sealbox's own opener agrees.
    let private =
        sealbox::crypto::RsaPrivateKey::from_pem(&std::fs::read_to_string(&recipient_key).unwrap())
            .unwrap();
    assert_eq!(
        sealbox::crypto::open_envelope(&private, &cms)
            .unwrap()
            .as_bytes(),
        b"card 4111 1111 1111 1111"
    );

    let dk = ks
        .generate_data_key_for_recipient(&key, 32, &ctx, &spki)
        .unwrap();
    let out = open(&dk.ciphertext_for_recipient, &recipient_key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout,
        ks.decrypt(&dk.ciphertext, &ctx).unwrap().as_bytes()
    );

    // The wrong context, a tampered blob: refused as Decrypt is.
    let other: sealbox::EncryptionContext = [("tenant".to_string(), "evil".to_string())].into();
    assert!(ks.decrypt_for_recipient(&blob, &other, &spki).is_err());
    // Not a recipient key: EC, RSA below 2048 bits, junk.
    openssl_ok(args![
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        s.path("small.pem")
    ]);
    let small = openssl_ok(args![
        "pkey",
        "-in",
        s.path("small.pem"),
        "-pubout",
        "-outform",
        "DER"
    ]);
    openssl_ok(args![
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s.path("ec.pem")
    ]);
    let ec = openssl_ok(args![
        "pkey",
        "-in",
        s.path("ec.pem"),
        "-pubout",
        "-outform",
        "DER"
    ]);
    for bad in [&small[..], &ec[..], b"junk"] {
        let r = ks.decrypt_for_recipient(&blob, &ctx, bad);
        assert!(matches!(r, Err(sealbox::Error::InvalidKey(_))), "{r:?}");
        let r = ks.generate_data_key_for_recipient(&key, 32, &ctx, bad);
        assert!(matches!(r, Err(sealbox::Error::InvalidKey(_))), "{r:?}");
    }
    // A disabled key gives nothing to anyone.
    ks.disable_key(&key).unwrap();
    assert!(matches!(
        ks.decrypt_for_recipient(&blob, &ctx, &spki),
        Err(sealbox::Error::KeyDisabled(_))
    ));
    let events = events.lock().unwrap();
    let named = events
        .iter()
        .filter(|e| {
            e.detail
                .as_deref()
                .is_some_and(|d| d.contains("for recipient"))
        })
        .count();
    assert!(named >= 3, "{named} audit records name the recipient");
}
