//! Differential tests of the two crypto providers: random inputs through
//! both, and each one's output given to the other.
//!
//! Built only with the `differential` feature, which compiles the provider
//! that is not selected as `sealbox::crypto::other` (the selected one is
//! `sealbox::crypto`). Run in both directions:
//!
//! ```text
//! cargo test -p sealbox --features differential --test differential
//! cargo test -p sealbox --no-default-features --features rustcrypto,differential --test differential
//! ```
//!
//! Deterministic algorithms (AES-GCM, HKDF, HMAC, digests, RSA PKCS#1 v1.5
//! signatures, key encodings) must give byte-identical output; randomized
//! ones (ECDSA, RSA-PSS, RSA encryption) must be accepted by the other
//! provider. Every failure must be the same failure on both sides.
//!
//! Inputs come from a seeded generator: the seed is printed, and
//! `SEALBOX_DIFF_SEED=<n>` replays a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/shared.rs"]
mod shared;

use sealbox::crypto::{self, other, EcCurve, HashAlg, RsaPadding, RsaSignatureScheme};
use sealbox::Error;
use std::mem::MaybeUninit;

const HASHES: [HashAlg; 5] = [
    HashAlg::Sha1,
    HashAlg::Sha224,
    HashAlg::Sha256,
    HashAlg::Sha384,
    HashAlg::Sha512,
];

const RSA_PEM: &str = include_str!("data/rsa2048.pem");
const RSA_OTHER_PEM: &str = include_str!("data/rsa2048-other.pem");

/// SplitMix64: a small, seedable generator for test inputs.
struct Gen(u64);

impl Gen {
    fn new(test: &str) -> Self {
        let seed = std::env::var("SEALBOX_DIFF_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut b = [0u8; 8];
                crypto::fill_random(&mut b).unwrap();
                u64::from_le_bytes(b)
            });
        println!(
            "{test}: SEALBOX_DIFF_SEED={seed} ({} vs {})",
            crypto::PROVIDER,
            other::PROVIDER
        );
        Gen(seed)
    }

    fn next(&mut self) -> u64 {
        shared::splitmix64(&mut self.0)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Random bytes of a random length below `max`.
    fn bytes_below(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max);
        self.bytes(len)
    }

    /// Flips one random bit of `buf`.
    fn flip(&mut self, buf: &mut [u8]) {
        let at = self.below(buf.len());
        buf[at] ^= 1 << self.below(8);
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------- AES-GCM --

/// The out-of-place AES-GCM calls of either provider, side by side.
trait SealTo {
    fn seal_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        pt: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> [u8; 16];
    fn open_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> bool;
}

macro_rules! seal_to_of {
    ($t:ty) => {
        impl SealTo for $t {
            fn seal_to(
                &self,
                iv: &[u8; 12],
                aad: &[u8],
                pt: &[u8],
                out: &mut [MaybeUninit<u8>],
            ) -> [u8; 16] {
                <$t>::seal_to(self, iv, aad, pt, out).unwrap()
            }
            fn open_to(
                &self,
                iv: &[u8; 12],
                aad: &[u8],
                ct: &[u8],
                tag: &[u8],
                out: &mut [MaybeUninit<u8>],
            ) -> bool {
                match <$t>::open_to(self, iv, aad, ct, tag, out) {
                    Ok(_) => true,
                    Err(e) => {
                        assert_eq!(e, Error::DecryptionFailed);
                        false
                    }
                }
            }
        }
    };
}
seal_to_of!(crypto::AesGcmKey);
seal_to_of!(other::AesGcmKey);

#[test]
fn aes_gcm_identical_and_cross_open() {
    let mut g = Gen::new("aes_gcm");
    // Lengths around the block size and the providers' bulk strides.
    let mut lens: Vec<usize> = vec![
        0,
        1,
        15,
        16,
        17,
        63,
        64,
        65,
        255,
        256,
        257,
        4096,
        65_536 + 3,
    ];
    lens.extend((0..150).map(|_| g.below(5000)));
    let mut n = 0;
    for (i, len) in lens.into_iter().enumerate() {
        let key = g.bytes([16, 24, 32][i % 3]);
        let iv: [u8; 12] = g.bytes(12).try_into().unwrap();
        let aad_len = g.pick(&[0, 1, 13, 16, 100, 1000]);
        let aad = g.bytes(aad_len);
        let pt = g.bytes(len);
        let ka = crypto::AesGcmKey::new(&key).unwrap();
        let kb = other::AesGcmKey::new(&key).unwrap();

        let mut ca = pt.clone();
        let ta = ka.seal_in_place(&iv, &aad, &mut ca).unwrap();
        let mut cb = pt.clone();
        let tb = kb.seal_in_place(&iv, &aad, &mut cb).unwrap();
        assert_eq!(ca, cb, "ciphertexts differ: key {} len {len}", hex(&key));
        assert_eq!(ta, tb, "tags differ: key {} len {len}", hex(&key));

        // From one buffer into another: the same bytes in both providers.
        let fresh = |n: usize| vec![MaybeUninit::new(0x5a_u8); n];
        let init = |v: &[MaybeUninit<u8>]| -> Vec<u8> {
            // SAFETY: every element was initialized by `fresh`.
            v.iter().map(|b| unsafe { b.assume_init() }).collect()
        };
        for k in [&ka as &dyn SealTo, &kb] {
            let mut to = fresh(len);
            assert_eq!(k.seal_to(&iv, &aad, &pt, &mut to), ta);
            assert_eq!(init(&to), ca, "seal_to: key {} len {len}", hex(&key));
            let mut back = fresh(len);
            assert!(k.open_to(&iv, &aad, &ca, &ta, &mut back));
            assert_eq!(init(&back), pt);
            let mut bad = ta;
            bad[0] ^= 1;
            let mut back = fresh(len);
            assert!(!k.open_to(&iv, &aad, &ca, &bad, &mut back));
            assert!(init(&back).iter().all(|&b| b == 0));
        }

        // Each opens the other's output.
        let mut oa = cb.clone();
        ka.open_in_place(&iv, &aad, &mut oa, &tb).unwrap();
        assert_eq!(oa, pt);
        let mut ob = ca.clone();
        kb.open_in_place(&iv, &aad, &mut ob, &ta).unwrap();
        assert_eq!(ob, pt);

        // One flipped bit (ciphertext, tag or AAD): both refuse the same
        // way and leave no plaintext behind.
        let mut bad_ct = ca.clone();
        let mut bad_tag = ta;
        let mut bad_aad = aad.clone();
        match g.below(3) {
            0 if !bad_ct.is_empty() => {
                let at = g.below(bad_ct.len());
                bad_ct[at] ^= 1 << g.below(8);
            }
            1 if !bad_aad.is_empty() => {
                let at = g.below(bad_aad.len());
                bad_aad[at] ^= 1 << g.below(8);
            }
            _ => g.flip(&mut bad_tag),
        }
        let mut xa = bad_ct.clone();
        let mut xb = bad_ct.clone();
        assert_eq!(
            ka.open_in_place(&iv, &bad_aad, &mut xa, &bad_tag),
            Err(Error::DecryptionFailed)
        );
        assert_eq!(
            kb.open_in_place(&iv, &bad_aad, &mut xb, &bad_tag),
            Err(Error::DecryptionFailed)
        );
        assert!(xa.iter().chain(&xb).all(|&b| b == 0));
        // A short tag is refused by both.
        let mut s = ca.clone();
        assert_eq!(
            ka.open_in_place(&iv, &aad, &mut s, &ta[..12]),
            Err(Error::DecryptionFailed)
        );
        let mut s = ca.clone();
        assert_eq!(
            kb.open_in_place(&iv, &aad, &mut s, &ta[..12]),
            Err(Error::DecryptionFailed)
        );
        n += 1;
    }
    // Bad key sizes: the same refusal.
    for len in [0, 15, 20, 31, 33, 64] {
        let k = vec![7u8; len];
        assert!(matches!(
            crypto::AesGcmKey::new(&k),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            other::AesGcmKey::new(&k),
            Err(Error::InvalidKey(_))
        ));
    }
    println!("aes_gcm: {n} random messages byte-identical and cross-opened");
}

// ---------------------------------------------------- HKDF, HMAC, digests --

#[test]
fn hkdf_identical() {
    let mut g = Gen::new("hkdf");
    let mut n = 0;
    for i in 0..300 {
        let alg = HASHES[i % HASHES.len()];
        let ikm_len = g.below(200);
        let ikm = g.bytes(ikm_len);
        let info_len = g.pick(&[0, 1, 32, 77, 300]);
        let info = g.bytes(info_len);
        let salt_bytes = g.bytes_below(150);
        let salt: Option<&[u8]> = match g.below(3) {
            0 => None,
            1 => Some(&[]),
            _ => Some(&salt_bytes),
        };
        let max = 255 * alg.output_len();
        let len = match i % 10 {
            0 => 0,
            1 => max,
            _ => g.below(600),
        };
        let mut a = vec![0u8; len];
        let mut b = vec![0u8; len];
        crypto::hkdf(alg, salt, &ikm, &info, &mut a).unwrap();
        other::hkdf(alg, salt, &ikm, &info, &mut b).unwrap();
        assert_eq!(a, b, "HKDF {alg:?} salt {salt:?} len {len}");
        // No salt and an empty salt are the same PRK (RFC 5869).
        if salt.is_none() {
            let mut c = vec![0u8; len];
            other::hkdf(alg, Some(&[]), &ikm, &info, &mut c).unwrap();
            assert_eq!(a, c);
        }
        // One byte over the limit: the same error on both.
        let mut over = vec![0u8; max + 1];
        let ea = crypto::hkdf(alg, salt, &ikm, &info, &mut over).unwrap_err();
        let eb = other::hkdf(alg, salt, &ikm, &info, &mut over).unwrap_err();
        assert_eq!(ea, eb);
        assert!(matches!(ea, Error::InvalidArgument(_)));
        n += 1;
    }
    println!("hkdf: {n} random derivations identical");
}

#[test]
fn hmac_and_digests_identical() {
    let mut g = Gen::new("hmac_digest");
    for i in 0..400 {
        let alg = HASHES[i % HASHES.len()];
        // Keys shorter than, equal to and longer than the block size.
        let key_len = g.pick(&[0, 1, 20, 32, 64, 65, 128, 129, 200]);
        let key = g.bytes(key_len);
        let data_len = g.below(3000);
        let data = g.bytes(data_len);
        let a = crypto::hmac(alg, &key, &data).unwrap();
        let b = other::hmac(alg, &key, &data).unwrap();
        assert_eq!(a, b, "HMAC {alg:?} key {key_len} data {data_len}");
        assert!(crypto::hmac_verify(alg, &key, &data, &b).unwrap());

        // Incremental digest in random pieces against the other's one-shot.
        let mut h = crypto::Hasher::new(alg);
        let mut at = 0;
        while at < data.len() {
            let step = 1 + g.below(700);
            let end = (at + step).min(data.len());
            h.update(&data[at..end]);
            at = end;
        }
        let fork = h.clone();
        let da = h.finalize();
        assert_eq!(
            da,
            other::digest(alg, &data),
            "digest {alg:?} len {data_len}"
        );
        assert_eq!(fork.finalize(), da, "cloned hasher");
        assert_eq!(crypto::digest(alg, &data), da);
        assert_eq!(da.len(), alg.output_len());
    }
    println!("hmac/digests: 400 random inputs identical");
}

// ---------------------------------------------------------------- Ed25519 --

#[test]
fn ed25519_identical_signatures_and_verdicts() {
    let mut g = Gen::new("ed25519");
    let (mut signed, mut refused) = (0, 0);
    for _ in 0..200 {
        let seed: [u8; 32] = g.bytes(32).try_into().unwrap();
        let a = crypto::Ed25519KeyPair::from_seed(&seed).unwrap();
        let b = other::Ed25519KeyPair::from_seed(&seed).unwrap();
        assert_eq!(a.public_key(), b.public_key(), "seed {}", hex(&seed));
        let msg = g.bytes_below(2000);
        // Deterministic: the two providers make the same signature.
        let sig = a.sign(&msg).unwrap();
        assert_eq!(sig, b.sign(&msg).unwrap(), "seed {}", hex(&seed));
        assert!(crypto::ed25519_verify(a.public_key(), &msg, &sig));
        assert!(other::ed25519_verify(a.public_key(), &msg, &sig));
        signed += 1;
        // Every change (a bit of the signature or message, S + L, random
        // bytes) gets the same verdict from both: refused.
        let mut bad = sig.clone();
        g.flip(&mut bad);
        let mut other_msg = msg.clone();
        other_msg.push(g.next() as u8);
        let mut malleable = sig.clone();
        add_group_order(&mut malleable[32..]);
        for (m, s) in [
            (&msg, bad),
            (&other_msg, sig.clone()),
            (&msg, malleable),
            (&msg, g.bytes(64)),
        ] {
            let va = crypto::ed25519_verify(a.public_key(), m, &s);
            assert_eq!(va, other::ed25519_verify(a.public_key(), m, &s));
            assert!(!va, "seed {} sig {}", hex(&seed), hex(&s));
            refused += 1;
        }
    }
    println!(
        "ed25519: {signed} identical signatures cross-verified, {refused} changes refused by both"
    );
}

#[test]
fn mlkem_x25519_sha3_identical_and_cross_decapsulate() {
    let mut g = Gen::new("ml-kem");
    let mut n = 0;
    for _ in 0..50 {
        // ML-KEM-768 from one seed: the same encapsulation key; each
        // provider opens what the other encapsulated; a changed byte gives
        // both the same (implicit-rejection) secret.
        let seed: [u8; 64] = g.bytes(64).try_into().unwrap();
        let a = crypto::MlKem768DecapsulationKey::from_seed(&seed).unwrap();
        let b = other::MlKem768DecapsulationKey::from_seed(&seed).unwrap();
        assert_eq!(
            a.encapsulation_key(),
            b.encapsulation_key(),
            "seed {}",
            hex(&seed)
        );
        let (ct, ss) = crypto::mlkem768_encapsulate(a.encapsulation_key()).unwrap();
        assert_eq!(b.decapsulate(&ct).unwrap().as_bytes(), ss.as_bytes());
        let (ct2, ss2) = other::mlkem768_encapsulate(b.encapsulation_key()).unwrap();
        assert_eq!(a.decapsulate(&ct2).unwrap().as_bytes(), ss2.as_bytes());
        let mut bad = ct.clone();
        g.flip(&mut bad);
        let (ra, rb) = (a.decapsulate(&bad).unwrap(), b.decapsulate(&bad).unwrap());
        assert_eq!(ra.as_bytes(), rb.as_bytes(), "implicit rejection differs");
        assert_ne!(ra.as_bytes(), ss.as_bytes());
        // X25519, SHAKE256 and SHA3-256.
        let (x, y): ([u8; 32], [u8; 32]) = (
            g.bytes(32).try_into().unwrap(),
            g.bytes(32).try_into().unwrap(),
        );
        let (px, py) = (
            crypto::x25519_public(&x).unwrap(),
            other::x25519_public(&y).unwrap(),
        );
        assert_eq!(px, other::x25519_public(&x).unwrap());
        assert_eq!(
            crypto::x25519(&x, &py).unwrap().as_bytes(),
            other::x25519(&y, &px).unwrap().as_bytes()
        );
        let data = g.bytes_below(300);
        let (mut sa, mut sb) = (vec![0u8; 1 + g.below(200)], Vec::new());
        sb.resize(sa.len(), 0);
        // In one piece, and in two (the streaming form).
        let cut = g.below(data.len() + 1);
        crypto::shake256(&[&data], &mut sa).unwrap();
        other::shake256(&[&data[..cut], &data[cut..]], &mut sb).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(
            crypto::sha3_256(&[&data, &seed]),
            other::sha3_256(&[&data, &seed])
        );
        n += 1;
    }
    // Both refuse a low-order X25519 point (an all-zero share).
    let x = [7u8; 32];
    assert!(crypto::x25519(&x, &[0; 32]).is_err() && other::x25519(&x, &[0; 32]).is_err());
    let mut one = [0u8; 32];
    one[0] = 1;
    assert!(crypto::x25519(&x, &one).is_err() && other::x25519(&x, &one).is_err());
    println!("ml-kem/x25519/sha3: {n} seeds, identical keys, cross-decapsulated");
}

#[test]
fn mldsa_identical_keys_and_cross_verified_signatures() {
    let mut g = Gen::new("ml-dsa");
    let (mut signed, mut refused) = (0, 0);
    for i in 0..60 {
        // One seed gives both providers the same public and expanded keys;
        // each verifies the other's (hedged, so different) signatures of
        // the same μ; every change is refused by both.
        let params = crypto::MlDsaParams::ALL[i % 3];
        let seed: [u8; 32] = g.bytes(32).try_into().unwrap();
        let a = crypto::MlDsaKeyPair::from_seed(params, &seed).unwrap();
        let b = other::MlDsaKeyPair::from_seed(params, &seed).unwrap();
        assert_eq!(a.public_key(), b.public_key(), "seed {}", hex(&seed));
        assert_eq!(
            a.expanded_private_key().unwrap().as_bytes(),
            b.expanded_private_key().unwrap().as_bytes()
        );
        let mu: [u8; 64] = g.bytes(64).try_into().unwrap();
        let pk = a.public_key();
        for sig in [a.sign_mu(&mu).unwrap(), b.sign_mu(&mu).unwrap()] {
            assert_eq!(sig.len(), params.signature_len());
            assert!(crypto::mldsa_verify_mu(params, pk, &mu, &sig));
            assert!(other::mldsa_verify_mu(params, pk, &mu, &sig));
            signed += 1;
            let mut bad = sig.clone();
            g.flip(&mut bad);
            let mut other_mu = mu;
            g.flip(&mut other_mu);
            for (m, s) in [(&mu, &bad), (&other_mu, &sig), (&mu, &g.bytes(sig.len()))] {
                let va = crypto::mldsa_verify_mu(params, pk, m, s);
                assert_eq!(va, other::mldsa_verify_mu(params, pk, m, s));
                assert!(!va, "seed {}", hex(&seed));
                refused += 1;
            }
        }
    }
    println!("ml-dsa: {signed} signatures cross-verified, {refused} changes refused by both");
}

/// Adds L, the order of the Ed25519 group, to the little-endian scalar S:
/// the same point equation, a non-canonical S that RFC 8032 refuses.
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let v = u16::from(*b) + u16::from(l) + carry;
        *b = v as u8;
        carry = v >> 8;
    }
}

// ------------------------------------------------------------------ ECDSA --

/// DER ECDSA signature to fixed-size r || s.
fn der_to_fixed(sig: &[u8], field_len: usize) -> Vec<u8> {
    assert_eq!(sig[0], 0x30);
    // Short-form length, or 0x81 and one byte (P-521's signatures).
    let body = if sig[1] == 0x81 { &sig[3..] } else { &sig[2..] };
    let mut out = Vec::new();
    let mut rest = body;
    for _ in 0..2 {
        assert_eq!(rest[0], 0x02);
        let len = rest[1] as usize;
        let v = &rest[2..2 + len];
        let v = &v[v.iter().take_while(|&&b| b == 0).count()..];
        out.extend(std::iter::repeat_n(0u8, field_len - v.len()));
        out.extend_from_slice(v);
        rest = &rest[2 + len..];
    }
    out
}

#[test]
fn ecdsa_cross_sign_verify_and_keys() {
    let mut g = Gen::new("ecdsa");
    let mut sigs = 0;
    for curve in EcCurve::ALL {
        for round in 0..6 {
            // Keys made by each provider, in turn.
            let (ka, kb) = if round % 2 == 0 {
                let a = crypto::EcdsaSigningKey::generate(curve).unwrap();
                let der = a.to_pkcs8_der().unwrap();
                let b = other::EcdsaSigningKey::from_pkcs8_der(der.as_bytes()).unwrap();
                (a, b)
            } else {
                let b = other::EcdsaSigningKey::generate(curve).unwrap();
                let der = b.to_pkcs8_der().unwrap();
                let a = crypto::EcdsaSigningKey::from_pkcs8_der(der.as_bytes()).unwrap();
                (a, b)
            };
            assert_eq!(ka.curve(), curve);
            assert_eq!(kb.curve(), curve);
            let va = ka.verifying_key();
            let vb = kb.verifying_key();
            // Public encodings are byte-identical, and parse back.
            let spki = va.to_spki_der().unwrap();
            assert_eq!(spki, vb.to_spki_der().unwrap(), "SPKI differs");
            assert_eq!(
                va.to_compressed(),
                vb.to_compressed(),
                "compressed point differs"
            );
            assert_eq!(va.to_compressed().len(), 1 + curve.field_len());
            assert_eq!(crypto::EcdsaVerifyingKey::from_spki_der(&spki).unwrap(), va);
            assert_eq!(other::EcdsaVerifyingKey::from_spki_der(&spki).unwrap(), vb);
            assert_eq!(
                crypto::EcdsaVerifyingKey::from_sec1(curve, &vb.to_compressed()).unwrap(),
                va
            );
            assert_eq!(
                other::EcdsaVerifyingKey::from_sec1(curve, &va.to_compressed()).unwrap(),
                vb
            );
            // PKCS#8 of each parses in the other to the same public key.
            let pa = ka.to_pkcs8_der().unwrap();
            let pb = kb.to_pkcs8_der().unwrap();
            assert_eq!(
                other::EcdsaSigningKey::from_pkcs8_der(pa.as_bytes())
                    .unwrap()
                    .verifying_key(),
                vb
            );
            assert_eq!(
                crypto::EcdsaSigningKey::from_pkcs8_der(pb.as_bytes())
                    .unwrap()
                    .verifying_key(),
                va
            );

            // Digests of every length the API meets, truncated or padded by
            // ECDSA's rules the same way on both sides.
            for h in HASHES {
                let msg = g.bytes_below(500);
                let d = crypto::digest(h, &msg);
                if d.len() < curve.field_len() / 2 {
                    // SHA-1 on P-384: shorter than half the field, refused.
                    assert!(ka.sign_digest_der(&d).is_err());
                    assert!(kb.sign_digest_der(&d).is_err());
                    continue;
                }
                let sa = ka.sign_digest_der(&d).unwrap();
                let sb = kb.sign_digest_der(&d).unwrap();
                let ssa = ka.sign_digest_static_der(&d).unwrap();
                let ssb = kb.sign_digest_static_der(&d).unwrap();
                assert_eq!(ssa.len(), curve.static_der_signature_len());
                assert_eq!(ssb.len(), curve.static_der_signature_len());
                for s in [&sa, &sb, &ssa, &ssb] {
                    assert!(va.verify_digest_der(&d, s), "{curve:?} {h:?} {}", hex(s));
                    assert!(vb.verify_digest_der(&d, s), "{curve:?} {h:?} {}", hex(s));
                    let fixed = der_to_fixed(s, curve.field_len());
                    assert!(va.verify_digest_fixed(&d, &fixed));
                    assert!(vb.verify_digest_fixed(&d, &fixed));
                    // A DER signature is not a fixed one and vice versa.
                    assert!(!va.verify_digest_fixed(&d, s));
                    assert!(!vb.verify_digest_fixed(&d, s));
                    assert!(!va.verify_digest_der(&d, &fixed));
                    assert!(!vb.verify_digest_der(&d, &fixed));
                    // Another digest, a flipped bit: refused by both.
                    // (Within the field size: ECDSA ignores the rest of
                    // a longer digest.)
                    let mut d2 = d.clone();
                    let used = d2.len().min(curve.field_len());
                    g.flip(&mut d2[..used]);
                    assert!(!va.verify_digest_der(&d2, s));
                    assert!(!vb.verify_digest_der(&d2, s));
                    let mut s2 = s.clone();
                    let at = 4 + g.below(s2.len() - 4);
                    s2[at] ^= 1 << g.below(8);
                    assert!(!va.verify_digest_der(&d, &s2));
                    assert!(!vb.verify_digest_der(&d, &s2));
                    sigs += 1;
                }
            }
            // A digest shorter than half the field: refused by both.
            let short = vec![1u8; curve.field_len() / 2 - 1];
            assert!(ka.sign_digest_der(&short).is_err());
            assert!(kb.sign_digest_der(&short).is_err());
            let any = ka
                .sign_digest_der(&crypto::digest(curve.hash(), b"x"))
                .unwrap();
            assert!(!va.verify_digest_der(&short, &any));
            assert!(!vb.verify_digest_der(&short, &any));
        }
    }
    // Points that are not on the curve, or not points: refused by both.
    for bad in [
        vec![],
        vec![0x00],
        vec![0x04; 65],
        vec![0x06; 65],
        vec![0x02; 32],
        vec![0x30, 0x00],
    ] {
        let a = crypto::EcdsaVerifyingKey::from_sec1(EcCurve::P256, &bad);
        let b = other::EcdsaVerifyingKey::from_sec1(EcCurve::P256, &bad);
        assert!(
            matches!(
                (&a, &b),
                (Err(Error::InvalidKey(_)), Err(Error::InvalidKey(_)))
            ),
            "{}: {a:?} / {b:?}",
            hex(&bad)
        );
    }
    // Random x coordinates: about half are on the curve; both agree.
    let mut agreed = 0;
    for _ in 0..64 {
        let mut p = g.bytes(33);
        p[0] = 2 + (p[0] & 1);
        let a = crypto::EcdsaVerifyingKey::from_sec1(EcCurve::P256, &p);
        let b = other::EcdsaVerifyingKey::from_sec1(EcCurve::P256, &p);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.to_compressed(), p);
                assert_eq!(b.to_compressed(), p);
                assert_eq!(a.to_spki_der().unwrap(), b.to_spki_der().unwrap());
                agreed += 1;
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{}: {a:?} / {b:?}", hex(&p)),
        }
    }
    assert!(agreed > 0);
    println!("ecdsa: {sigs} signatures cross-verified (DER, static DER, fixed)");
}

// -------------------------------------------------------------------- RSA --

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 RSA key: the test's own
/// small DER walk, so that PKCS#1 input is tested too.
fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Vec<u8> {
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let (len, hdr) = match b[1] {
            l if l < 0x80 => (l as usize, 2),
            0x81 => (b[2] as usize, 3),
            0x82 => (((b[2] as usize) << 8) | b[3] as usize, 4),
            l => panic!("length form {l:#x}"),
        };
        (b[0], &b[hdr..hdr + len], &b[hdr + len..])
    }
    let (_, body, _) = tlv(pkcs8);
    let (_, _, rest) = tlv(body); // version
    let (_, _, rest) = tlv(rest); // algorithm
    let (tag, key, _) = tlv(rest);
    assert_eq!(tag, 0x04);
    key.to_vec()
}

/// One provider's `RsaPrivateKey` parsed from each encoding of one key:
/// PKCS#8 and PKCS#1 DER, and both as PEM.
macro_rules! from_each_encoding {
    ($provider:ident, $pkcs8:expr, $pkcs1:expr) => {
        [
            $provider::RsaPrivateKey::from_der($pkcs8).unwrap(),
            $provider::RsaPrivateKey::from_der($pkcs1).unwrap(),
            $provider::RsaPrivateKey::from_pem(&pem("PRIVATE KEY", $pkcs8)).unwrap(),
            $provider::RsaPrivateKey::from_pem(&pem("RSA PRIVATE KEY", $pkcs1)).unwrap(),
        ]
    };
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s + &format!("-----END {label}-----\n")
}

#[test]
fn rsa_cross_encrypt_sign_and_keys() {
    let mut g = Gen::new("rsa");
    // Two fixed keys, and one generated by each provider.
    let gen_a = crypto::RsaPrivateKey::generate(2048).unwrap();
    let gen_b = other::RsaPrivateKey::generate(2048).unwrap();
    let mut pairs = Vec::new();
    for pem_text in [RSA_PEM, RSA_OTHER_PEM] {
        pairs.push((
            crypto::RsaPrivateKey::from_pem(pem_text).unwrap(),
            other::RsaPrivateKey::from_pem(pem_text).unwrap(),
        ));
    }
    let der = gen_a.to_pkcs8_der().unwrap();
    pairs.push((
        gen_a,
        other::RsaPrivateKey::from_der(der.as_bytes()).unwrap(),
    ));
    let der = gen_b.to_pkcs8_der().unwrap();
    pairs.push((
        crypto::RsaPrivateKey::from_der(der.as_bytes()).unwrap(),
        gen_b,
    ));

    let (mut enc, mut sig) = (0, 0);
    for (ka, kb) in &pairs {
        assert_eq!(ka.bits(), 2048);
        assert_eq!(kb.bits(), 2048);
        let (pa, pb) = (ka.public_key(), kb.public_key());
        let spki = pa.to_spki_der().unwrap();
        assert_eq!(spki, pb.to_spki_der().unwrap(), "SPKI differs");

        // Key encodings: each one's PKCS#8, its PKCS#1 inside, and both
        // as PEM, parse in the other to the same key.
        let p8a = ka.to_pkcs8_der().unwrap();
        let p8b = kb.to_pkcs8_der().unwrap();
        for p8 in [p8a.as_bytes(), p8b.as_bytes()] {
            let p1 = pkcs8_to_pkcs1(p8);
            for k in from_each_encoding!(crypto, p8, &p1) {
                assert_eq!(k.public_key(), pa);
            }
            for k in from_each_encoding!(other, p8, &p1) {
                assert_eq!(k.public_key(), pb);
            }
            // The wrong PEM label is refused by both.
            assert!(crypto::RsaPrivateKey::from_pem(&pem("RSA PRIVATE KEY", p8)).is_err());
            assert!(other::RsaPrivateKey::from_pem(&pem("RSA PRIVATE KEY", p8)).is_err());
        }
        assert_eq!(
            crypto::RsaPublicKey::from_pem(&pem("PUBLIC KEY", &spki)).unwrap(),
            pa
        );
        assert_eq!(
            other::RsaPublicKey::from_pem(&pem("PUBLIC KEY", &spki)).unwrap(),
            pb
        );
        let mut trailing = spki.clone();
        trailing.push(0);
        assert!(crypto::RsaPublicKey::from_der(&trailing).is_err());
        assert!(other::RsaPublicKey::from_der(&trailing).is_err());

        // Encryption both ways, every padding, lengths up to the maximum.
        let k = 2048 / 8;
        for padding in [
            RsaPadding::Pkcs1v15,
            RsaPadding::Oaep(HashAlg::Sha1),
            RsaPadding::Oaep(HashAlg::Sha256),
            RsaPadding::Oaep(HashAlg::Sha384),
            RsaPadding::Oaep(HashAlg::Sha512),
        ] {
            let max = match padding {
                RsaPadding::Pkcs1v15 => k - 11,
                RsaPadding::Oaep(h) => k - 2 * h.output_len() - 2,
            };
            for len in [0, 1, 32, g.below(max + 1), max] {
                let pt = g.bytes(len);
                let ca = pa.encrypt(padding, &pt).unwrap();
                let cb = pb.encrypt(padding, &pt).unwrap();
                assert_eq!(ca.len(), k);
                assert_eq!(cb.len(), k);
                assert_eq!(kb.decrypt(padding, &ca).unwrap().as_bytes(), &pt[..]);
                assert_eq!(ka.decrypt(padding, &cb).unwrap().as_bytes(), &pt[..]);
                // A flipped bit, or a PKCS#1 v1.5 ciphertext read as OAEP:
                // the one opaque error. (A damaged PKCS#1 v1.5 ciphertext
                // has valid padding with probability ~2^-16, and an OAEP
                // ciphertext read as PKCS#1 v1.5 ~1/256: then both
                // providers must give the same bytes.)
                let mut bad = ca.clone();
                g.flip(&mut bad);
                let same = |c: &[u8], p: RsaPadding| {
                    let a = ka.decrypt(p, c).map(|s| s.as_bytes().to_vec());
                    let b = kb.decrypt(p, c).map(|s| s.as_bytes().to_vec());
                    assert_eq!(a, b, "{p:?}");
                    if let Err(e) = &a {
                        assert_eq!(e, &Error::DecryptionFailed);
                    }
                    a.is_err()
                };
                let refused = same(&bad, padding);
                assert!(refused || padding == RsaPadding::Pkcs1v15);
                match padding {
                    RsaPadding::Pkcs1v15 => {
                        assert!(same(&ca, RsaPadding::Oaep(HashAlg::Sha256)));
                    }
                    RsaPadding::Oaep(_) => {
                        same(&ca, RsaPadding::Pkcs1v15);
                    }
                }
                // With a zero byte in front (k + 1 bytes): refused.
                let mut longer = vec![0u8];
                longer.extend_from_slice(&ca);
                assert_eq!(
                    ka.decrypt(padding, &longer).err(),
                    Some(Error::DecryptionFailed)
                );
                assert_eq!(
                    kb.decrypt(padding, &longer).err(),
                    Some(Error::DecryptionFailed)
                );
                enc += 1;
            }
            let too_long = g.bytes(max + 1);
            assert!(matches!(
                pa.encrypt(padding, &too_long),
                Err(Error::InvalidArgument(_))
            ));
            assert!(matches!(
                pb.encrypt(padding, &too_long),
                Err(Error::InvalidArgument(_))
            ));
        }

        // Signatures both ways. PKCS#1 v1.5 is deterministic: identical.
        for h in HASHES {
            let d = crypto::digest(h, &g.bytes_below(300));
            for scheme in [RsaSignatureScheme::Pss(h), RsaSignatureScheme::Pkcs1v15(h)] {
                let sa = ka.sign_digest(scheme, &d).unwrap();
                let sb = kb.sign_digest(scheme, &d).unwrap();
                if let RsaSignatureScheme::Pkcs1v15(_) = scheme {
                    assert_eq!(sa, sb, "PKCS#1 v1.5 {h:?} signatures differ");
                }
                for s in [&sa, &sb] {
                    assert_eq!(s.len(), k);
                    assert!(pa.verify_digest(scheme, &d, s), "{scheme:?}");
                    assert!(pb.verify_digest(scheme, &d, s), "{scheme:?}");
                    let mut s2 = s.clone();
                    g.flip(&mut s2);
                    assert!(!pa.verify_digest(scheme, &d, &s2));
                    assert!(!pb.verify_digest(scheme, &d, &s2));
                    let mut d2 = d.clone();
                    d2[0] ^= 1;
                    assert!(!pa.verify_digest(scheme, &d2, s));
                    assert!(!pb.verify_digest(scheme, &d2, s));
                    // The other scheme does not take it.
                    let swapped = match scheme {
                        RsaSignatureScheme::Pss(h) => RsaSignatureScheme::Pkcs1v15(h),
                        RsaSignatureScheme::Pkcs1v15(h) => RsaSignatureScheme::Pss(h),
                    };
                    assert!(!pa.verify_digest(swapped, &d, s));
                    assert!(!pb.verify_digest(swapped, &d, s));
                    sig += 1;
                }
                // A digest of the wrong length: refused by both.
                let wrong = &d[..d.len() - 1];
                assert!(ka.sign_digest(scheme, wrong).is_err());
                assert!(kb.sign_digest(scheme, wrong).is_err());
                assert!(!pa.verify_digest(scheme, wrong, &sa));
                assert!(!pb.verify_digest(scheme, wrong, &sa));
            }
        }
    }
    // Keys below 2048 bits: refused by both.
    for bits in [1024, 2047] {
        assert!(matches!(
            crypto::RsaPrivateKey::generate(bits),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            other::RsaPrivateKey::generate(bits),
            Err(Error::InvalidKey(_))
        ));
    }
    println!(
        "rsa: {enc} encryptions and {sig} signatures cross-checked over {} keys",
        pairs.len()
    );
}

#[test]
fn random_bytes_from_both() {
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    crypto::fill_random(&mut a).unwrap();
    other::fill_random(&mut b).unwrap();
    assert_ne!(a, [0u8; 64]);
    assert_ne!(b, [0u8; 64]);
    assert_ne!(a, b);
}
