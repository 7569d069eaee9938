//! ECDSA on P-256, P-384, P-521 and secp256k1 through aws-lc-rs.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::{digest, signature};

use crate::crypto::{der, invalid_key, EcCurve};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

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

/// secp256k1 group order n.
const SECP256K1_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// P-521 group order n.
const P521_ORDER: [u8; 66] = [
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
    0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
    0x64, 0x09,
];

fn curve_order(curve: EcCurve) -> &'static [u8] {
    match curve {
        EcCurve::P256 => &P256_ORDER,
        EcCurve::P384 => &P384_ORDER,
        EcCurve::Secp256k1 => &SECP256K1_ORDER,
        EcCurve::P521 => &P521_ORDER,
    }
}

fn signing_alg(curve: EcCurve) -> &'static signature::EcdsaSigningAlgorithm {
    match curve {
        EcCurve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        EcCurve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        EcCurve::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        EcCurve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    }
}

fn verification_alg(curve: EcCurve, fixed: bool) -> &'static signature::EcdsaVerificationAlgorithm {
    match (curve, fixed) {
        (EcCurve::P256, false) => &signature::ECDSA_P256_SHA256_ASN1,
        (EcCurve::P256, true) => &signature::ECDSA_P256_SHA256_FIXED,
        (EcCurve::P384, false) => &signature::ECDSA_P384_SHA384_ASN1,
        (EcCurve::P384, true) => &signature::ECDSA_P384_SHA384_FIXED,
        (EcCurve::Secp256k1, false) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (EcCurve::Secp256k1, true) => &signature::ECDSA_P256K1_SHA256_FIXED,
        (EcCurve::P521, false) => &signature::ECDSA_P521_SHA512_ASN1,
        (EcCurve::P521, true) => &signature::ECDSA_P521_SHA512_FIXED,
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
/// the rustcrypto provider (RustCrypto's `bits2field`) refuses them. The
/// digest goes in as the curve's own hash ([`EcCurve::hash`]), which on
/// P-521 (SHA-512, 64 bytes) is shorter than the field: it holds the value
/// of any digest up to its length, and a longer one, which would have to be
/// cut to 521 bits rather than to whole bytes, is refused.
fn curve_digest(curve: EcCurve, digest: &[u8]) -> Option<digest::Digest> {
    let field = curve.field_len();
    if digest.len() < field / 2 {
        return None;
    }
    let hash = curve.hash();
    let n = field.min(hash.output_len());
    if n < field && digest.len() > n {
        return None;
    }
    let mut z = [0u8; 64];
    let z = &mut z[..n];
    if digest.len() >= n {
        z.copy_from_slice(&digest[..n]);
    } else {
        z[n - digest.len()..].copy_from_slice(digest);
    }
    digest::Digest::import_less_safe(z, super::hash::digest_alg(hash)).ok()
}

/// An ECDSA private key on P-256, P-384, P-521 or secp256k1.
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
        for curve in EcCurve::ALL {
            if let Ok(k) = signature::EcdsaKeyPair::from_pkcs8(signing_alg(curve), der) {
                return Self::from_key_pair(curve, k);
            }
        }
        Err(invalid_key(
            "not a PKCS#8 P-256, P-384, secp256k1 or P-521 private key",
        ))
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
            let (r, s) = der::ecdsa_signature(&sig).map_err(|_| bad())?;
            let neg_s = sub_be(curve_order(self.curve), s).ok_or_else(bad)?;
            let flipped = der::ecdsa_signature_from_scalars(r, &neg_s);
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

/// An ECDSA public key on P-256, P-384, P-521 or secp256k1.
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
            for curve in EcCurve::ALL {
                if let Ok(k) = signature::ParsedPublicKey::new(verification_alg(curve, false), der)
                {
                    return Self::from_parsed(curve, k);
                }
            }
        }
        Err(invalid_key(
            "not a P-256, P-384, secp256k1 or P-521 SubjectPublicKeyInfo",
        ))
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

/// An ECDH private key on P-256, P-384 or P-521, parsed once (its public
/// point computed once) and used for any number of agreements.
pub struct EcdhPrivateKey {
    curve: EcCurve,
    alg: &'static aws_lc_rs::agreement::Algorithm,
    key: aws_lc_rs::agreement::PrivateKey,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(EcdhPrivateKey(..));

impl EcdhPrivateKey {
    /// The key of a big-endian scalar exactly the field's length.
    pub fn from_scalar(curve: EcCurve, scalar: &[u8]) -> Result<Self> {
        use aws_lc_rs::agreement;
        let alg = match curve {
            EcCurve::P256 => &agreement::ECDH_P256,
            EcCurve::P384 => &agreement::ECDH_P384,
            EcCurve::P521 => &agreement::ECDH_P521,
            EcCurve::Secp256k1 => {
                return Err(Error::Unsupported(
                    "ECDH on secp256k1 (AWS KMS allows key agreement on the NIST curves only)"
                        .into(),
                ))
            }
        };
        let key = agreement::PrivateKey::from_private_key(alg, scalar)
            .map_err(|_| invalid_key("not a private key on the curve"))?;
        let public = key
            .compute_public_key()
            .map_err(|_| invalid_key("not a private key on the curve"))?
            .as_ref()
            .to_vec();
        Ok(EcdhPrivateKey {
            curve,
            alg,
            key,
            public,
        })
    }

    /// The public point, SEC 1 uncompressed.
    pub fn public_point(&self) -> &[u8] {
        &self.public
    }

    /// ECDH (SEC 1 section 3.3.1, cofactor 1 on the NIST curves): the
    /// x-coordinate of this key times the peer's point (SEC 1, compressed or
    /// uncompressed), in secret memory. The point must be on the key's curve.
    pub fn agree(&self, peer_point: &[u8]) -> Result<SecretBytes> {
        use aws_lc_rs::agreement;
        agreement::agree(
            &self.key,
            agreement::UnparsedPublicKey::new(self.alg, peer_point),
            Error::InvalidArgument(format!(
                "the peer's public key is not a point on {:?}",
                self.curve
            )),
            SecretBytes::from_slice,
        )
    }
}
