//! The aws-lc provider: AWS-LC through aws-lc-rs (the default provider).
//!
//! Same names, signatures and semantics as `rustcrypto.rs`; the two are run
//! side by side by `tests/differential.rs`. Where they differ, it is written
//! down here and in docs/SECURITY.md:
//!
//! * RSA moduli are 2048..=8192 bits (aws-lc-rs refuses larger RSA keys in
//!   every API; the rustcrypto provider takes up to 16384), and
//!   `RsaPrivateKey::generate` makes 2048, 3072, 4096 or 8192-bit keys (the
//!   sizes aws-lc-rs generates).
//! * `EcdsaVerifyingKey::from_sec1` takes compressed and uncompressed
//!   points; the rustcrypto provider also takes the rare "compact" form
//!   (tag 0x05), which AWS-LC does not know.
//!
//! aws-lc-rs has no API for RSA signatures over a digest with SHA-1, nor for
//! RSA-PSS with SHA-1 at all, and pins the PSS salt length itself; the RSA
//! signature operations therefore call AWS-LC's `RSA_sign`/`RSA_verify` and
//! `RSA_{sign,verify}_pss_mgf1` directly through aws-lc-sys (module `ffi`
//! below: the only `unsafe` of this provider). Every other operation goes
//! through aws-lc-rs.
//!
//! FIPS (feature `fips`): the same code links the FIPS 140-3 validated
//! AWS-LC module. Several operations sealbox needs are outside the module's
//! approved services (AES-GCM with caller-built IVs as the message format
//! requires, ECDSA/RSA over a digest, HKDF without salt): they run in the
//! validated module, but not as approved services. See docs/SECURITY.md.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::{aead, digest, hkdf as lc_hkdf, hmac as lc_hmac, rsa as lc_rsa, signature};
use zeroize::{Zeroize, Zeroizing};

use super::{invalid_key, EcCurve, HashAlg, RsaPadding, RsaSignatureScheme, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// Fills `buf` from AWS-LC's random generator (a DRBG seeded from the
/// operating system; in the FIPS build, the module's approved DRBG).
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(buf).map_err(|_| Error::Rng)
}

/// Whether AWS-LC runs as the FIPS 140-3 validated module in FIPS mode:
/// true only in a build with the `fips` feature.
pub fn fips_mode() -> bool {
    aws_lc_rs::try_fips_mode().is_ok()
}

fn digest_alg(alg: HashAlg) -> &'static digest::Algorithm {
    match alg {
        HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => &digest::SHA256,
        HashAlg::Sha384 => &digest::SHA384,
        HashAlg::Sha512 => &digest::SHA512,
    }
}

// ---------------------------------------------------------------- AES-GCM --

/// An AES-GCM key (128, 192 or 256 bits) with its expanded key schedule,
/// 12-byte nonces and 16-byte tags. The schedule lives in AWS-LC memory,
/// which AWS-LC wipes when it frees it.
pub struct AesGcmKey(aead::LessSafeKey);

impl std::fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmKey(..)")
    }
}

impl AesGcmKey {
    /// Expands a 16, 24 or 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            24 => &aead::AES_192_GCM,
            32 => &aead::AES_256_GCM,
            n => {
                return Err(invalid_key(format!(
                    "AES keys are 16, 24 or 32 bytes, not {n}"
                )))
            }
        };
        let key = aead::UnboundKey::new(alg, key).map_err(|_| invalid_key("bad AES key"))?;
        Ok(AesGcmKey(aead::LessSafeKey::new(key)))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN]> {
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), buf)
            .map_err(|_| Error::InvalidArgument("AES-GCM input too long".into()))?;
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Authenticates and decrypts `buf` in place. On failure `buf` holds no
    /// plaintext (it is zeroed) and the error is `DecryptionFailed`.
    pub fn open_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        if tag.len() != GCM_TAG_LEN {
            return Err(Error::DecryptionFailed);
        }
        let nonce = aead::Nonce::assume_unique_for_key(*iv);
        match self
            .0
            .open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag, buf)
        {
            Ok(_) => Ok(()),
            Err(_) => {
                buf.zeroize();
                Err(Error::DecryptionFailed)
            }
        }
    }
}

// ----------------------------------------------------------- HKDF / HMAC --

/// An HKDF output length: aws-lc-rs takes the length of the output keying
/// material as a `KeyType`.
struct OkmLen(usize);

impl lc_hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF (RFC 5869) extract-and-expand into `out`. `salt = None` means a
/// string of zeros as long as the hash, as the RFC says.
pub fn hkdf(
    alg: HashAlg,
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<()> {
    hkdf_expand_each(alg, salt, ikm, &mut [(info, out)])
}

/// HKDF with one extract and one expand per `(info, out)` pair: the keys
/// of one message share their PRK.
pub fn hkdf_expand_each(
    alg: HashAlg,
    salt: Option<&[u8]>,
    ikm: &[u8],
    outputs: &mut [(&[u8], &mut [u8])],
) -> Result<()> {
    let too_long = || Error::InvalidArgument("HKDF output too long".into());
    if outputs
        .iter()
        .any(|(_, out)| out.len() > 255 * alg.output_len())
    {
        return Err(too_long());
    }
    let a = match alg {
        HashAlg::Sha1 => lc_hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => lc_hkdf::HKDF_SHA256,
        HashAlg::Sha384 => lc_hkdf::HKDF_SHA384,
        HashAlg::Sha512 => lc_hkdf::HKDF_SHA512,
    };
    // An empty salt is the HMAC key "", which HMAC pads with zeros to the
    // block size, exactly as it pads HashLen zero bytes: the same PRK.
    let prk = lc_hkdf::Salt::new(a, salt.unwrap_or(&[])).extract(ikm);
    for (info, out) in outputs.iter_mut() {
        let info = [*info];
        prk.expand(&info, OkmLen(out.len()))
            .and_then(|okm| okm.fill(out))
            .map_err(|_| too_long())?;
    }
    Ok(())
}

/// HMAC of `data` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let a = match alg {
        HashAlg::Sha1 => lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => lc_hmac::HMAC_SHA256,
        HashAlg::Sha384 => lc_hmac::HMAC_SHA384,
        HashAlg::Sha512 => lc_hmac::HMAC_SHA512,
    };
    let key = lc_hmac::Key::new(a, key);
    Ok(lc_hmac::sign(&key, data).as_ref().to_vec())
}

/// An incremental message digest.
#[derive(Clone)]
pub struct Hasher(digest::Context);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher(..)")
    }
}

impl Hasher {
    /// Starts a digest.
    pub fn new(alg: HashAlg) -> Self {
        Hasher(digest::Context::new(digest_alg(alg)))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data)
    }

    /// Finishes and returns the digest.
    pub fn finalize(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

// --------------------------------------------------------------- DER bits --

/// The few DER structures this provider reads or writes itself: the
/// algorithm identifiers of RSA keys (aws-lc-rs would also take an
/// id-RSASSA-PSS key where sealbox takes only rsaEncryption, as the
/// rustcrypto provider does), PKCS#1 <-> PKCS#8/SPKI wrapping, and the two
/// integers of an ECDSA signature.
mod der {
    pub(super) const SEQUENCE: u8 = 0x30;
    pub(super) const INTEGER: u8 = 0x02;
    pub(super) const BIT_STRING: u8 = 0x03;
    pub(super) const OCTET_STRING: u8 = 0x04;

    /// AlgorithmIdentifier { rsaEncryption, NULL }: its only DER encoding.
    pub(super) const RSA_ENCRYPTION: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];

    /// Reads one element (single-byte tag, minimal definite length):
    /// `(tag, contents, rest)`.
    pub(super) fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (bytes, rest) = rest.split_at(n);
            if bytes[0] == 0 {
                return None;
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return None;
            }
            (len, rest)
        };
        if rest.len() < len {
            return None;
        }
        let (contents, rest) = rest.split_at(len);
        Some((tag, contents, rest))
    }

    /// Appends one element.
    pub(super) fn write(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
        out.push(tag);
        let len = contents.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(contents);
    }

    /// Appends an unsigned big-endian integer as a DER INTEGER.
    pub(super) fn write_uint(out: &mut Vec<u8>, value: &[u8]) {
        let skip = value.iter().take_while(|&&b| b == 0).count();
        let digits = &value[skip..];
        let mut contents = Vec::with_capacity(digits.len() + 1);
        if digits.first().is_none_or(|&b| b & 0x80 != 0) {
            contents.push(0);
        }
        contents.extend_from_slice(digits);
        write(out, INTEGER, &contents);
    }

    /// The RSAPublicKey inside a SubjectPublicKeyInfo whose algorithm is
    /// exactly rsaEncryption with NULL parameters.
    pub(super) fn spki_rsa_public_key(spki: &[u8]) -> Option<&[u8]> {
        let (SEQUENCE, body, []) = read(spki)? else {
            return None;
        };
        let (SEQUENCE, _, rest) = read(body)? else {
            return None;
        };
        if body[..body.len() - rest.len()] != RSA_ENCRYPTION {
            return None;
        }
        let (BIT_STRING, bits, []) = read(rest)? else {
            return None;
        };
        match bits.split_first()? {
            (0, key) => Some(key),
            _ => None,
        }
    }

    /// A SubjectPublicKeyInfo (rsaEncryption) around an RSAPublicKey.
    pub(super) fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
        let mut bits = Vec::with_capacity(pkcs1.len() + 1);
        bits.push(0);
        bits.extend_from_slice(pkcs1);
        let mut body = RSA_ENCRYPTION.to_vec();
        write(&mut body, BIT_STRING, &bits);
        let mut out = Vec::with_capacity(body.len() + 4);
        write(&mut out, SEQUENCE, &body);
        out
    }

    /// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (version 0 or 1)
    /// whose algorithm is exactly rsaEncryption with NULL parameters.
    pub(super) fn pkcs8_rsa_private_key(pkcs8: &[u8]) -> Option<&[u8]> {
        let (SEQUENCE, body, []) = read(pkcs8)? else {
            return None;
        };
        let (INTEGER, version, rest) = read(body)? else {
            return None;
        };
        if version != [0] && version != [1] {
            return None;
        }
        let (SEQUENCE, _, after_alg) = read(rest)? else {
            return None;
        };
        if rest[..rest.len() - after_alg.len()] != RSA_ENCRYPTION {
            return None;
        }
        let (OCTET_STRING, key, mut tail) = read(after_alg)? else {
            return None;
        };
        // Optional [0] attributes and (version 1) [1] publicKey.
        while !tail.is_empty() {
            let (tag, _, rest) = read(tail)?;
            if tag != 0xa0 && tag != 0x81 && tag != 0xa1 {
                return None;
            }
            tail = rest;
        }
        Some(key)
    }

    /// A PKCS#8 v1 PrivateKeyInfo (rsaEncryption) around an RSAPrivateKey.
    /// The result holds the private key: the caller keeps it in zeroizing
    /// memory.
    pub(super) fn rsa_pkcs8(pkcs1: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(pkcs1.len() + 32);
        body.extend_from_slice(&[INTEGER, 1, 0]);
        body.extend_from_slice(&RSA_ENCRYPTION);
        write(&mut body, OCTET_STRING, pkcs1);
        let mut out = Vec::with_capacity(body.len() + 4);
        write(&mut out, SEQUENCE, &body);
        zeroize::Zeroize::zeroize(&mut body);
        out
    }

    /// The two INTEGERs (r, s) of a DER ECDSA-Sig-Value, as unsigned
    /// big-endian bytes without leading zeros.
    pub(super) fn ecdsa_sig(sig: &[u8]) -> Option<(&[u8], &[u8])> {
        let (SEQUENCE, body, []) = read(sig)? else {
            return None;
        };
        let (INTEGER, r, rest) = read(body)? else {
            return None;
        };
        let (INTEGER, s, []) = read(rest)? else {
            return None;
        };
        Some((strip_zeros(r), strip_zeros(s)))
    }

    fn strip_zeros(v: &[u8]) -> &[u8] {
        let skip = v.iter().take_while(|&&b| b == 0).count();
        &v[skip..]
    }
}

// ------------------------------------------------------------------ ECDSA --

/// P-256 group order n.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// P-384 group order n.
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

fn curve_order(curve: EcCurve) -> &'static [u8] {
    match curve {
        EcCurve::P256 => &P256_ORDER,
        EcCurve::P384 => &P384_ORDER,
    }
}

fn signing_alg(curve: EcCurve) -> &'static signature::EcdsaSigningAlgorithm {
    match curve {
        EcCurve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        EcCurve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    }
}

fn verification_alg(curve: EcCurve, fixed: bool) -> &'static signature::EcdsaVerificationAlgorithm {
    match (curve, fixed) {
        (EcCurve::P256, false) => &signature::ECDSA_P256_SHA256_ASN1,
        (EcCurve::P256, true) => &signature::ECDSA_P256_SHA256_FIXED,
        (EcCurve::P384, false) => &signature::ECDSA_P384_SHA384_ASN1,
        (EcCurve::P384, true) => &signature::ECDSA_P384_SHA384_FIXED,
    }
}

/// A precomputed digest of any length as the `Digest` aws-lc-rs signs and
/// verifies, which must be the hash its algorithm pairs with the curve
/// (SHA-256 on P-256, SHA-384 on P-384).
///
/// ECDSA uses the leftmost field-size bits of the digest as an integer
/// (FIPS 186-5 6.4, SEC 1 4.1.3): a longer digest is truncated to the
/// field size, and a shorter one has the same value left-padded with zero
/// bytes. So every digest maps to a field-size one that AWS-LC treats
/// identically. Digests shorter than half the field size are refused, as
/// the rustcrypto provider (RustCrypto's `bits2field`) refuses them.
fn curve_digest(curve: EcCurve, digest: &[u8]) -> Option<digest::Digest> {
    let n = curve.field_len();
    if digest.len() < n / 2 {
        return None;
    }
    let mut z = [0u8; 48];
    let z = &mut z[..n];
    if digest.len() >= n {
        z.copy_from_slice(&digest[..n]);
    } else {
        z[n - digest.len()..].copy_from_slice(digest);
    }
    let alg = match curve {
        EcCurve::P256 => &digest::SHA256,
        EcCurve::P384 => &digest::SHA384,
    };
    digest::Digest::import_less_safe(z, alg).ok()
}

/// An ECDSA private key on P-256 or P-384.
pub struct EcdsaSigningKey {
    curve: EcCurve,
    key: signature::EcdsaKeyPair,
    public: EcdsaVerifyingKey,
}

impl std::fmt::Debug for EcdsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcdsaSigningKey({:?})", self.curve)
    }
}

impl EcdsaSigningKey {
    fn from_key_pair(curve: EcCurve, key: signature::EcdsaKeyPair) -> Result<Self> {
        let public = EcdsaVerifyingKey::from_sec1(curve, key.public_key().as_ref())?;
        Ok(EcdsaSigningKey { curve, key, public })
    }

    /// Generates a fresh key (AWS-LC's generator; a failure is an error,
    /// not a panic).
    pub fn generate(curve: EcCurve) -> Result<Self> {
        let key = signature::EcdsaKeyPair::generate(signing_alg(curve)).map_err(|_| Error::Rng)?;
        Self::from_key_pair(curve, key)
    }

    /// An explicit copy (the caching materials manager reuses a signing
    /// key across the messages of one cache entry).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(EcdsaSigningKey {
            curve: self.curve,
            key: self.key.clone(),
            public: self.public.clone(),
        })
    }

    /// Parses a PKCS#8 DER private key of either curve.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        for curve in [EcCurve::P256, EcCurve::P384] {
            if let Ok(k) = signature::EcdsaKeyPair::from_pkcs8(signing_alg(curve), der) {
                return Self::from_key_pair(curve, k);
            }
        }
        Err(invalid_key("not a PKCS#8 P-256 or P-384 private key"))
    }

    /// Encodes the private key as PKCS#8 DER, in secret memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        // The `Document` wipes itself on drop.
        let doc = self
            .key
            .to_pkcs8v1()
            .map_err(|_| invalid_key("cannot encode EC key"))?;
        SecretBytes::from_slice(doc.as_ref())
    }

    /// The curve of this key.
    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> EcdsaVerifyingKey {
        self.public.clone()
    }

    /// Signs a precomputed digest; DER (ASN.1 `ECDSA-Sig-Value`) output.
    /// Randomized (not RFC 6979) so that re-signing yields a new signature.
    pub fn sign_digest_der(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let bad = || Error::InvalidArgument("ECDSA signing failed".into());
        let d = curve_digest(self.curve, digest).ok_or_else(bad)?;
        self.key
            .sign_digest(&d)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| bad())
    }

    /// Signs a digest and returns a DER signature of exactly
    /// [`EcCurve::static_der_signature_len`] bytes, as the AWS Encryption
    /// SDK does for message footers. (r, n - s) is as valid as (r, s) and
    /// has the top bit of `s` flipped, so at most a few tries are needed
    /// (a leading zero byte in `r` forces a fresh signature).
    pub fn sign_digest_static_der(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let target = self.curve.static_der_signature_len();
        let bad = || Error::InvalidArgument("ECDSA signing failed".into());
        for _ in 0..64 {
            let sig = self.sign_digest_der(digest)?;
            if sig.len() == target {
                return Ok(sig);
            }
            let (r, s) = der::ecdsa_sig(&sig).ok_or_else(bad)?;
            let neg_s = sub_be(curve_order(self.curve), s).ok_or_else(bad)?;
            let mut body = Vec::with_capacity(target);
            der::write_uint(&mut body, r);
            der::write_uint(&mut body, &neg_s);
            let mut flipped = Vec::with_capacity(target);
            der::write(&mut flipped, der::SEQUENCE, &body);
            if flipped.len() == target {
                return Ok(flipped);
            }
        }
        Err(Error::InvalidArgument(
            "could not produce a static-length ECDSA signature".into(),
        ))
    }
}

/// `a - b` for big-endian unsigned integers with `b <= a`, as many bytes as
/// `a`; `None` if `b > a`.
fn sub_be(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    if b.len() > a.len() {
        return None;
    }
    let mut out = a.to_vec();
    let mut borrow = 0i16;
    for i in 0..a.len() {
        let ai = a.len() - 1 - i;
        let bv = if i < b.len() {
            i16::from(b[b.len() - 1 - i])
        } else {
            0
        };
        let mut v = i16::from(a[ai]) - bv - borrow;
        borrow = 0;
        if v < 0 {
            v += 256;
            borrow = 1;
        }
        out[ai] = v as u8;
    }
    (borrow == 0).then_some(out)
}

/// An ECDSA public key on P-256 or P-384.
#[derive(Clone)]
pub struct EcdsaVerifyingKey {
    curve: EcCurve,
    /// The uncompressed SEC 1 point (the key's identity).
    point: Vec<u8>,
    /// SubjectPublicKeyInfo DER as AWS-LC writes it (uncompressed point).
    spki: Vec<u8>,
    key: signature::ParsedPublicKey,
}

impl std::fmt::Debug for EcdsaVerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.point.iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "EcdsaVerifyingKey({:?}, {hex})", self.curve)
    }
}

impl PartialEq for EcdsaVerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.curve == other.curve && self.point == other.point
    }
}

impl Eq for EcdsaVerifyingKey {}

impl EcdsaVerifyingKey {
    fn from_parsed(curve: EcCurve, key: signature::ParsedPublicKey) -> Result<Self> {
        let bad = || invalid_key("cannot encode EC public key");
        let spki = key.as_der().map_err(|_| bad())?.as_ref().to_vec();
        // AWS-LC writes the point uncompressed, at the end of the SPKI.
        let point_len = 1 + 2 * curve.field_len();
        let point = spki
            .len()
            .checked_sub(point_len)
            .map(|at| spki[at..].to_vec())
            .filter(|p| p[0] == 0x04)
            .ok_or_else(bad)?;
        Ok(EcdsaVerifyingKey {
            curve,
            point,
            spki,
            key,
        })
    }

    /// Parses a SEC 1 point (compressed or uncompressed) on `curve`.
    pub fn from_sec1(curve: EcCurve, bytes: &[u8]) -> Result<Self> {
        // aws-lc-rs also takes a SubjectPublicKeyInfo here: only points.
        if !matches!(bytes.first(), Some(0x02..=0x04)) {
            return Err(invalid_key("not a valid EC point"));
        }
        let key = signature::ParsedPublicKey::new(verification_alg(curve, false), bytes)
            .map_err(|_| invalid_key("not a valid EC point"))?;
        Self::from_parsed(curve, key)
    }

    /// Parses a DER SubjectPublicKeyInfo of either curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        // aws-lc-rs also takes a bare SEC 1 point here: only a SEQUENCE.
        if der.first() == Some(&der::SEQUENCE) {
            for curve in [EcCurve::P256, EcCurve::P384] {
                if let Ok(k) = signature::ParsedPublicKey::new(verification_alg(curve, false), der)
                {
                    return Self::from_parsed(curve, k);
                }
            }
        }
        Err(invalid_key("not a P-256 or P-384 SubjectPublicKeyInfo"))
    }

    /// The curve of this key.
    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The SEC 1 compressed encoding of the point.
    pub fn to_compressed(&self) -> Vec<u8> {
        let n = self.curve.field_len();
        let mut out = Vec::with_capacity(1 + n);
        out.push(0x02 | (self.point[2 * n] & 1));
        out.extend_from_slice(&self.point[1..=n]);
        out
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        Ok(self.spki.clone())
    }

    /// Verifies a strict-DER signature over a precomputed digest.
    pub fn verify_digest_der(&self, digest: &[u8], sig: &[u8]) -> bool {
        curve_digest(self.curve, digest)
            .is_some_and(|d| self.key.verify_digest_sig(&d, sig).is_ok())
    }

    /// Verifies a fixed-size (r || s, IEEE P1363) signature over a digest.
    pub fn verify_digest_fixed(&self, digest: &[u8], sig: &[u8]) -> bool {
        let Some(d) = curve_digest(self.curve, digest) else {
            return false;
        };
        signature::ParsedPublicKey::new(verification_alg(self.curve, true), &self.point)
            .is_ok_and(|k| k.verify_digest_sig(&d, sig).is_ok())
    }
}

// -------------------------------------------------------------------- RSA --

/// The smallest RSA modulus sealbox accepts.
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus this provider accepts (aws-lc-rs's bound; the
/// rustcrypto provider goes to 16384).
const MAX_RSA_BITS: usize = 8192;

fn check_rsa_size(bits: usize) -> Result<()> {
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(invalid_key(format!(
            "RSA keys must be 2048..8192 bits with the aws-lc provider, not {bits}"
        )));
    }
    Ok(())
}

fn oaep_alg(h: HashAlg) -> &'static lc_rsa::OaepAlgorithm {
    match h {
        HashAlg::Sha1 => &lc_rsa::OAEP_SHA1_MGF1SHA1,
        HashAlg::Sha256 => &lc_rsa::OAEP_SHA256_MGF1SHA256,
        HashAlg::Sha384 => &lc_rsa::OAEP_SHA384_MGF1SHA384,
        HashAlg::Sha512 => &lc_rsa::OAEP_SHA512_MGF1SHA512,
    }
}

/// An RSA private key. AWS-LC blinds every private-key operation.
pub struct RsaPrivateKey {
    decrypting: lc_rsa::PrivateDecryptingKey,
    signing: ffi::Rsa,
    public: RsaPublicKey,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey({} bits)", self.bits())
    }
}

impl RsaPrivateKey {
    /// Parses a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let bad = || invalid_key("not a PEM RSA private key");
        let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|_| bad())?;
        let der = Zeroizing::new(der);
        let pkcs1 = match label {
            "PRIVATE KEY" => der::pkcs8_rsa_private_key(&der).ok_or_else(bad)?,
            "RSA PRIVATE KEY" => &der[..],
            _ => return Err(bad()),
        };
        Self::from_pkcs1(pkcs1, bad)
    }

    /// Parses a DER private key (PKCS#8 or PKCS#1).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let pkcs1 = der::pkcs8_rsa_private_key(der).unwrap_or(der);
        Self::from_pkcs1(pkcs1, || invalid_key("not a DER RSA private key"))
    }

    fn from_pkcs1(pkcs1: &[u8], bad: impl Fn() -> Error) -> Result<Self> {
        // AWS-LC's parser checks the key's consistency (RSA_check_key).
        let signing = ffi::Rsa::private_from_pkcs1(pkcs1).ok_or_else(&bad)?;
        check_rsa_size(signing.bits())?;
        let pkcs8 = Zeroizing::new(der::rsa_pkcs8(pkcs1));
        let decrypting = lc_rsa::PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|_| bad())?;
        let spki = decrypting
            .public_key()
            .as_der()
            .map_err(|_| invalid_key("cannot encode RSA public key"))?;
        let public = RsaPublicKey::from_der(spki.as_ref())?;
        Ok(RsaPrivateKey {
            decrypting,
            signing,
            public,
        })
    }

    /// Generates a new key of `bits` bits (public exponent 65537): 2048,
    /// 3072, 4096 or 8192 bits, the sizes AWS-LC generates here.
    pub fn generate(bits: usize) -> Result<Self> {
        check_rsa_size(bits)?;
        let size = match bits {
            2048 => lc_rsa::KeySize::Rsa2048,
            3072 => lc_rsa::KeySize::Rsa3072,
            4096 => lc_rsa::KeySize::Rsa4096,
            8192 => lc_rsa::KeySize::Rsa8192,
            _ => {
                return Err(invalid_key(format!(
                    "the aws-lc provider generates RSA keys of 2048, 3072, 4096 or 8192 bits, not {bits}"
                )))
            }
        };
        let key = lc_rsa::PrivateDecryptingKey::generate(size)
            .map_err(|_| invalid_key("RSA key generation failed"))?;
        let pkcs8 = key
            .as_der()
            .map_err(|_| invalid_key("RSA key generation failed"))?;
        Self::from_der(pkcs8.as_ref())
    }

    /// Encodes the key as PKCS#8 DER, in secret memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        // The aws-lc-rs buffer wipes itself on drop.
        let der = self
            .decrypting
            .as_der()
            .map_err(|_| invalid_key("cannot encode RSA key"))?;
        SecretBytes::from_slice(der.as_ref())
    }

    /// The public half.
    pub fn public_key(&self) -> RsaPublicKey {
        self.public.clone()
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// Decryption (blinded by AWS-LC). Every failure is `DecryptionFailed`.
    pub fn decrypt(&self, padding: RsaPadding, ciphertext: &[u8]) -> Result<SecretBytes> {
        // Exactly as long as the modulus (CVE-2020-14967 class: no leading
        // zero bytes prepended); AWS-LC checks this too.
        let k = self.public.bits() / 8;
        if ciphertext.len() != k {
            return Err(Error::DecryptionFailed);
        }
        let mut buf = Zeroizing::new(vec![0u8; k]);
        let pt = match padding {
            RsaPadding::Pkcs1v15 => lc_rsa::Pkcs1PrivateDecryptingKey::new(self.decrypting.clone())
                .and_then(|d| d.decrypt(ciphertext, &mut buf[..])),
            RsaPadding::Oaep(h) => lc_rsa::OaepPrivateDecryptingKey::new(self.decrypting.clone())
                .and_then(|d| d.decrypt(oaep_alg(h), ciphertext, &mut buf[..], None)),
        }
        .map_err(|_| Error::DecryptionFailed)?;
        SecretBytes::from_slice(pt)
    }

    /// Signature over a precomputed digest (blinded by AWS-LC).
    pub fn sign_digest(&self, scheme: RsaSignatureScheme, digest: &[u8]) -> Result<Vec<u8>> {
        let bad = || Error::InvalidArgument("RSA signing failed (digest length?)".into());
        let (RsaSignatureScheme::Pss(h) | RsaSignatureScheme::Pkcs1v15(h)) = scheme;
        if digest.len() != h.output_len() {
            return Err(bad());
        }
        match scheme {
            RsaSignatureScheme::Pss(h) => self.signing.sign_pss(h, digest),
            RsaSignatureScheme::Pkcs1v15(h) => self.signing.sign_pkcs1(h, digest),
        }
        .ok_or_else(bad)
    }
}

/// An RSA public key.
#[derive(Clone)]
pub struct RsaPublicKey {
    bits: usize,
    /// Canonical SubjectPublicKeyInfo DER (the key's identity).
    spki: Vec<u8>,
    encrypting: lc_rsa::PublicEncryptingKey,
    verifying: std::sync::Arc<ffi::Rsa>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.bits)
    }
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for RsaPublicKey {}

impl RsaPublicKey {
    /// Parses a PEM public key (SubjectPublicKeyInfo `PUBLIC KEY` or PKCS#1
    /// `RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let bad = || invalid_key("not a PEM RSA public key");
        let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|_| bad())?;
        let pkcs1 = match label {
            "PUBLIC KEY" => der::spki_rsa_public_key(&der).ok_or_else(bad)?,
            "RSA PUBLIC KEY" => &der[..],
            _ => return Err(bad()),
        };
        Self::from_pkcs1(pkcs1, bad)
    }

    /// Parses a DER public key (SubjectPublicKeyInfo or PKCS#1). Only
    /// rsaEncryption keys: an id-RSASSA-PSS SubjectPublicKeyInfo is refused.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let pkcs1 = der::spki_rsa_public_key(der).unwrap_or(der);
        Self::from_pkcs1(pkcs1, || invalid_key("not a DER RSA public key"))
    }

    fn from_pkcs1(pkcs1: &[u8], bad: impl Fn() -> Error) -> Result<Self> {
        // Strict DER, no trailing bytes, sane modulus and exponent.
        let verifying = ffi::Rsa::public_from_pkcs1(pkcs1).ok_or_else(&bad)?;
        let bits = verifying.bits();
        check_rsa_size(bits)?;
        let spki = der::rsa_spki(pkcs1);
        let encrypting = lc_rsa::PublicEncryptingKey::from_der(&spki).map_err(|_| bad())?;
        Ok(RsaPublicKey {
            bits,
            spki,
            encrypting,
            verifying: std::sync::Arc::new(verifying),
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        Ok(self.spki.clone())
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Encrypts a short message (a data key).
    pub fn encrypt(&self, padding: RsaPadding, plaintext: &[u8]) -> Result<Vec<u8>> {
        let bad = || Error::InvalidArgument("message too long for this RSA key and padding".into());
        let k = self.bits / 8;
        let max = match padding {
            RsaPadding::Pkcs1v15 => k.checked_sub(11),
            RsaPadding::Oaep(h) => k.checked_sub(2 * h.output_len() + 2),
        };
        if max.is_none_or(|max| plaintext.len() > max) {
            return Err(bad());
        }
        let mut out = vec![0u8; k];
        let n = match padding {
            RsaPadding::Pkcs1v15 => lc_rsa::Pkcs1PublicEncryptingKey::new(self.encrypting.clone())
                .and_then(|e| e.encrypt(plaintext, &mut out).map(|c| c.len())),
            RsaPadding::Oaep(h) => lc_rsa::OaepPublicEncryptingKey::new(self.encrypting.clone())
                .and_then(|e| {
                    e.encrypt(oaep_alg(h), plaintext, &mut out, None)
                        .map(|c| c.len())
                }),
        }
        .map_err(|_| bad())?;
        out.truncate(n);
        Ok(out)
    }

    /// Verifies a signature over a precomputed digest.
    pub fn verify_digest(&self, scheme: RsaSignatureScheme, digest: &[u8], sig: &[u8]) -> bool {
        let (RsaSignatureScheme::Pss(h) | RsaSignatureScheme::Pkcs1v15(h)) = scheme;
        if digest.len() != h.output_len() {
            return false;
        }
        match scheme {
            RsaSignatureScheme::Pss(h) => self.verifying.verify_pss(h, digest, sig),
            RsaSignatureScheme::Pkcs1v15(h) => self.verifying.verify_pkcs1(h, digest, sig),
        }
    }
}

/// The RSA signature calls of AWS-LC that aws-lc-rs does not expose, on an
/// `RSA` object of AWS-LC's own (parsed from the same DER as the aws-lc-rs
/// keys). The only `unsafe` code of the aws-lc provider.
mod ffi {
    use std::os::raw::{c_int, c_uint};
    use std::ptr::NonNull;

    #[cfg(feature = "fips")]
    use aws_lc_fips_sys as sys;
    #[cfg(not(feature = "fips"))]
    use aws_lc_sys as sys;

    use crate::crypto::HashAlg;

    /// An owned AWS-LC `RSA` (public, or private with its CRT values).
    pub(super) struct Rsa(NonNull<sys::RSA>);

    // SAFETY: after construction the only functions called on the `RSA` are
    // RSA_size, RSA_sign, RSA_verify, RSA_sign_pss_mgf1 and
    // RSA_verify_pss_mgf1, which <openssl/rsa.h> documents as non-mutating
    // for thread-safety purposes ("may be used concurrently"); RSA_free
    // runs in `Drop`, with exclusive access.
    unsafe impl Send for Rsa {}
    // SAFETY: as for `Send` above.
    unsafe impl Sync for Rsa {}

    impl Drop for Rsa {
        fn drop(&mut self) {
            // SAFETY: `self.0` is the one reference returned by an
            // RSA_*_from_bytes call and is not used after this. AWS-LC wipes
            // the private values as it frees them.
            unsafe { sys::RSA_free(self.0.as_ptr()) }
        }
    }

    fn md(h: HashAlg) -> *const sys::EVP_MD {
        // SAFETY: these return pointers to static, immutable EVP_MD tables.
        unsafe {
            match h {
                HashAlg::Sha1 => sys::EVP_sha1(),
                HashAlg::Sha256 => sys::EVP_sha256(),
                HashAlg::Sha384 => sys::EVP_sha384(),
                HashAlg::Sha512 => sys::EVP_sha512(),
            }
        }
    }

    fn nid(h: HashAlg) -> c_int {
        (match h {
            HashAlg::Sha1 => sys::NID_sha1,
            HashAlg::Sha256 => sys::NID_sha256,
            HashAlg::Sha384 => sys::NID_sha384,
            HashAlg::Sha512 => sys::NID_sha512,
        }) as c_int
    }

    /// Failures leave entries on AWS-LC's thread-local error queue; sealbox
    /// reports its own errors, so they are dropped.
    fn clear_errors() {
        // SAFETY: no arguments; touches only this thread's error queue.
        unsafe { sys::ERR_clear_error() }
    }

    impl Rsa {
        /// Parses a DER RSAPrivateKey (PKCS#1); AWS-LC runs RSA_check_key
        /// and refuses trailing bytes.
        pub(super) fn private_from_pkcs1(der: &[u8]) -> Option<Self> {
            // SAFETY: `der` is valid for reads of `der.len()` bytes for the
            // duration of the call, which does not keep the pointer. The
            // result is a new owned RSA or NULL.
            let p = unsafe { sys::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
            let r = NonNull::new(p).map(Rsa);
            if r.is_none() {
                clear_errors();
            }
            r
        }

        /// Parses a DER RSAPublicKey (PKCS#1); strict DER, no trailing
        /// bytes, modulus and exponent checked.
        pub(super) fn public_from_pkcs1(der: &[u8]) -> Option<Self> {
            // SAFETY: as in `private_from_pkcs1`.
            let p = unsafe { sys::RSA_public_key_from_bytes(der.as_ptr(), der.len()) };
            let r = NonNull::new(p).map(Rsa);
            if r.is_none() {
                clear_errors();
            }
            r
        }

        /// Modulus length in bytes.
        fn size(&self) -> usize {
            // SAFETY: `self.0` is a valid RSA for the life of `self`.
            unsafe { sys::RSA_size(self.0.as_ptr()) as usize }
        }

        /// Modulus size in bits, as a whole number of bytes (as the
        /// rustcrypto provider counts).
        pub(super) fn bits(&self) -> usize {
            self.size() * 8
        }

        /// RSASSA-PKCS1-v1_5 over a digest of `h`'s length.
        pub(super) fn sign_pkcs1(&self, h: HashAlg, digest: &[u8]) -> Option<Vec<u8>> {
            let mut out = vec![0u8; self.size()];
            let mut out_len: c_uint = 0;
            // SAFETY: `out` has RSA_size bytes, the most RSA_sign writes;
            // `digest` is valid for reads of its length; `self.0` is a valid
            // private RSA. Nothing keeps the pointers after the call.
            let ok = unsafe {
                sys::RSA_sign(
                    nid(h),
                    digest.as_ptr(),
                    digest.len(),
                    out.as_mut_ptr(),
                    &mut out_len,
                    self.0.as_ptr(),
                )
            };
            self.finish_sig(ok, out, out_len as usize)
        }

        /// RSASSA-PSS with MGF1 of the same hash and a salt as long as the
        /// hash, over a digest of `h`'s length.
        pub(super) fn sign_pss(&self, h: HashAlg, digest: &[u8]) -> Option<Vec<u8>> {
            let mut out = vec![0u8; self.size()];
            let mut out_len: usize = 0;
            // SAFETY: `out` is valid for writes of `max_out` = its length;
            // `digest` for reads of its length; the EVP_MDs are static;
            // `self.0` is a valid private RSA.
            let ok = unsafe {
                sys::RSA_sign_pss_mgf1(
                    self.0.as_ptr(),
                    &mut out_len,
                    out.as_mut_ptr(),
                    out.len(),
                    digest.as_ptr(),
                    digest.len(),
                    md(h),
                    md(h),
                    h.output_len() as c_int,
                )
            };
            self.finish_sig(ok, out, out_len)
        }

        fn finish_sig(&self, ok: c_int, mut out: Vec<u8>, len: usize) -> Option<Vec<u8>> {
            if ok != 1 || len != out.len() {
                clear_errors();
                return None;
            }
            out.truncate(len);
            Some(out)
        }

        /// Verifies RSASSA-PKCS1-v1_5 (the one DER DigestInfo encoding).
        pub(super) fn verify_pkcs1(&self, h: HashAlg, digest: &[u8], sig: &[u8]) -> bool {
            // SAFETY: `digest` and `sig` are valid for reads of their
            // lengths; `self.0` is a valid RSA; nothing is kept.
            let ok = unsafe {
                sys::RSA_verify(
                    nid(h),
                    digest.as_ptr(),
                    digest.len(),
                    sig.as_ptr(),
                    sig.len(),
                    self.0.as_ptr(),
                )
            };
            if ok != 1 {
                clear_errors();
            }
            ok == 1
        }

        /// Verifies RSASSA-PSS, MGF1 of the same hash, salt length exactly
        /// the hash length.
        pub(super) fn verify_pss(&self, h: HashAlg, digest: &[u8], sig: &[u8]) -> bool {
            // SAFETY: as in `verify_pkcs1`; the EVP_MDs are static.
            let ok = unsafe {
                sys::RSA_verify_pss_mgf1(
                    self.0.as_ptr(),
                    digest.as_ptr(),
                    digest.len(),
                    md(h),
                    md(h),
                    h.output_len() as c_int,
                    sig.as_ptr(),
                    sig.len(),
                )
            };
            if ok != 1 {
                clear_errors();
            }
            ok == 1
        }
    }
}
