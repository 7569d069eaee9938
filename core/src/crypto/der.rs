//! The DER that sealbox reads and writes itself: one strict implementation
//! for both providers and the PKCS#11 backend.
//!
//! Only what sealbox needs: PKCS#8 `PrivateKeyInfo` around RSA and EC keys,
//! PKCS#1 `RSAPrivateKey` components, `SubjectPublicKeyInfo` of RSA and EC
//! keys, ECDSA `ECDSA-Sig-Value`, and the PKCS#1 v1.5 `DigestInfo` prefixes.
//!
//! Reading is strict DER (X.690 10): single-byte tags, definite lengths in
//! their shortest form (at most 4 length bytes), minimal non-negative
//! INTEGERs, BIT STRINGs without unused bits, and no bytes after the outer
//! element. Anything else is a [`DerError`] that says what was wrong.

use std::fmt;

use zeroize::Zeroizing;

use super::{invalid_key, EcCurve, HashAlg};

/// Tag of an INTEGER.
pub const INTEGER: u8 = 0x02;
/// Tag of a BIT STRING.
pub const BIT_STRING: u8 = 0x03;
/// Tag of an OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Tag of an OBJECT IDENTIFIER.
pub const OBJECT_IDENTIFIER: u8 = 0x06;
/// Tag of a SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;

/// AlgorithmIdentifier { rsaEncryption, NULL }: its only DER encoding.
pub const RSA_ENCRYPTION: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
/// The OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1), whole element.
const ID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// The OBJECT IDENTIFIER prime256v1 (1.2.840.10045.3.1.7), whole element.
const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// The OBJECT IDENTIFIER secp384r1 (1.3.132.0.34), whole element.
const SECP384R1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// secp521r1: 1.3.132.0.35.
const SECP521R1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
/// secp256k1: 1.3.132.0.10.
const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

/// The AlgorithmIdentifier of Ed25519 keys (RFC 8410): the OID
/// 1.3.101.112, no parameters.
const ED25519_ALGORITHM: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
/// id-Ed25519 alone, whole element: PKCS#11's `CKA_EC_PARAMS` of an
/// Edwards key (PKCS#11 3.0 allows the OID or the printable curve name).
pub const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// Why a DER input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerError {
    /// The input ends inside a tag, a length or contents.
    Truncated,
    /// A multi-byte (high tag number) tag, which sealbox never reads.
    UnsupportedTag,
    /// The indefinite length form (BER, not DER).
    IndefiniteLength,
    /// A length in the long form where the short form fits, or with
    /// leading zero bytes.
    NonMinimalLength,
    /// A length of more than 4 bytes.
    LengthTooLarge,
    /// Another element than the one the structure has here.
    UnexpectedTag {
        /// The tag the structure has here.
        expected: u8,
        /// The tag in the input.
        found: u8,
    },
    /// Bytes after the end of the structure.
    TrailingData,
    /// An INTEGER that is empty, not minimally encoded, or negative where
    /// only non-negative values are allowed.
    InvalidInteger,
    /// A BIT STRING with unused bits where a whole number of bytes belongs.
    InvalidBitString,
    /// A version number this structure does not have.
    UnsupportedVersion,
    /// An algorithm identifier or curve other than the expected ones.
    UnsupportedAlgorithm,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerError::Truncated => f.write_str("truncated DER"),
            DerError::UnsupportedTag => f.write_str("multi-byte DER tag"),
            DerError::IndefiniteLength => f.write_str("indefinite length (BER, not DER)"),
            DerError::NonMinimalLength => f.write_str("DER length not minimally encoded"),
            DerError::LengthTooLarge => f.write_str("DER length over 4 bytes"),
            DerError::UnexpectedTag { expected, found } => {
                write!(f, "expected DER tag 0x{expected:02x}, found 0x{found:02x}")
            }
            DerError::TrailingData => f.write_str("trailing data after DER"),
            DerError::InvalidInteger => f.write_str("invalid DER INTEGER"),
            DerError::InvalidBitString => f.write_str("BIT STRING with unused bits"),
            DerError::UnsupportedVersion => f.write_str("unsupported structure version"),
            DerError::UnsupportedAlgorithm => f.write_str("unsupported algorithm identifier"),
        }
    }
}

impl std::error::Error for DerError {}

/// Result of DER reading.
pub type DerResult<T> = std::result::Result<T, DerError>;

// ---------------------------------------------------------------- reading --

/// Reads the first element of `input`: `(tag, contents, rest)`.
pub fn read_element(input: &[u8]) -> DerResult<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first().ok_or(DerError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DerError::UnsupportedTag);
    }
    let (&first, rest) = rest.split_first().ok_or(DerError::Truncated)?;
    let (len, rest) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x80 => return Err(DerError::IndefiniteLength),
        _ => {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(DerError::LengthTooLarge);
            }
            if rest.len() < n {
                return Err(DerError::Truncated);
            }
            let (bytes, rest) = rest.split_at(n);
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if bytes[0] == 0 || len < 0x80 {
                return Err(DerError::NonMinimalLength);
            }
            (len, rest)
        }
    };
    if rest.len() < len {
        return Err(DerError::Truncated);
    }
    let (contents, rest) = rest.split_at(len);
    Ok((tag, contents, rest))
}

/// The contents of `input`, which must be exactly one element tagged `tag`.
pub fn read_single(tag: u8, input: &[u8]) -> DerResult<&[u8]> {
    let mut r = Reader::new(input);
    let contents = r.read(tag)?;
    r.finish()?;
    Ok(contents)
}

/// Reads the elements of one structure in order.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over the contents of a structure (or a whole input).
    pub fn new(input: &'a [u8]) -> Self {
        Reader { rest: input }
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The contents of the next element, which must be tagged `tag`.
    pub fn read(&mut self, tag: u8) -> DerResult<&'a [u8]> {
        Ok(self.read_encoded(tag)?.1)
    }

    /// The next element tagged `tag`: `(whole encoding, contents)`, for
    /// comparing an element with its one valid encoding.
    pub fn read_encoded(&mut self, tag: u8) -> DerResult<(&'a [u8], &'a [u8])> {
        let start = self.rest;
        let (found, contents, rest) = read_element(start)?;
        if found != tag {
            return Err(DerError::UnexpectedTag {
                expected: tag,
                found,
            });
        }
        self.rest = rest;
        Ok((&start[..start.len() - rest.len()], contents))
    }

    /// The contents of the next element if it is tagged `tag`.
    pub fn read_optional(&mut self, tag: u8) -> DerResult<Option<&'a [u8]>> {
        if self.peek_tag() == Some(tag) {
            self.read(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A non-negative INTEGER as its big-endian magnitude (the sign byte
    /// stripped; zero is `[0]`).
    pub fn uint(&mut self) -> DerResult<&'a [u8]> {
        uint_magnitude(self.read(INTEGER)?)
    }

    /// A BIT STRING of whole bytes.
    pub fn bit_string(&mut self) -> DerResult<&'a [u8]> {
        match self.read(BIT_STRING)?.split_first() {
            Some((0, bits)) => Ok(bits),
            Some(_) => Err(DerError::InvalidBitString),
            None => Err(DerError::Truncated),
        }
    }

    /// Ends the structure: no element may be left.
    pub fn finish(self) -> DerResult<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DerError::TrailingData)
        }
    }
}

/// The magnitude of the contents of a non-negative, minimally encoded
/// INTEGER.
fn uint_magnitude(v: &[u8]) -> DerResult<&[u8]> {
    match v {
        [] => Err(DerError::InvalidInteger),
        [b, ..] if b & 0x80 != 0 => Err(DerError::InvalidInteger),
        [0, next, ..] if next & 0x80 == 0 => Err(DerError::InvalidInteger),
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        _ => Ok(v),
    }
}

// ---------------------------------------------------------------- writing --

/// Appends one element.
pub fn write(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
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

/// One element.
pub fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    write(&mut out, tag, contents);
    out
}

/// Appends an unsigned big-endian integer (leading zeros allowed) as a DER
/// INTEGER.
pub fn write_uint(out: &mut Vec<u8>, value: &[u8]) {
    let skip = value.iter().take_while(|&&b| b == 0).count();
    let digits = &value[skip..];
    let mut contents = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|&b| b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(digits);
    write(out, INTEGER, &contents);
}

// ------------------------------------------------------------------- RSA --

/// An RSAPublicKey (PKCS#1) from the modulus and public exponent.
pub fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 12);
    write_uint(&mut body, n);
    write_uint(&mut body, e);
    tlv(SEQUENCE, &body)
}

/// A SubjectPublicKeyInfo: the whole AlgorithmIdentifier `algorithm`, then
/// `key` as a BIT STRING of whole bytes.
fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key);
    let mut body = algorithm.to_vec();
    write(&mut body, BIT_STRING, &bits);
    tlv(SEQUENCE, &body)
}

/// A SubjectPublicKeyInfo (rsaEncryption) around an RSAPublicKey.
pub fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    spki(RSA_ENCRYPTION, pkcs1)
}

/// The RSAPublicKey inside a SubjectPublicKeyInfo whose algorithm is
/// exactly rsaEncryption with NULL parameters.
pub fn spki_rsa_public_key(spki: &[u8]) -> DerResult<&[u8]> {
    let (algorithm, key) = spki_parts(spki)?;
    if algorithm != RSA_ENCRYPTION {
        return Err(DerError::UnsupportedAlgorithm);
    }
    Ok(key)
}

/// The parts of a PKCS#8 PrivateKeyInfo (version 0) or OneAsymmetricKey
/// (version 1).
struct Pkcs8Parts<'a> {
    /// The whole AlgorithmIdentifier.
    algorithm: &'a [u8],
    /// The privateKey OCTET STRING's contents.
    key: &'a [u8],
    /// The contents of the optional `[1]` publicKey.
    public: Option<&'a [u8]>,
}

fn pkcs8_parts(pkcs8: &[u8]) -> DerResult<Pkcs8Parts<'_>> {
    let mut r = Reader::new(read_single(SEQUENCE, pkcs8)?);
    if !matches!(r.uint()?, [0] | [1]) {
        return Err(DerError::UnsupportedVersion);
    }
    let (algorithm, _) = r.read_encoded(SEQUENCE)?;
    let key = r.read(OCTET_STRING)?;
    // Optional [0] attributes, then (version 1) [1] publicKey.
    r.read_optional(0xa0)?;
    let public = r.read_optional(0x81)?;
    r.finish()?;
    Ok(Pkcs8Parts {
        algorithm,
        key,
        public,
    })
}

/// A PKCS#8 v1 PrivateKeyInfo: version 0, the whole AlgorithmIdentifier
/// `algorithm`, `key` as the privateKey OCTET STRING; in zeroizing memory
/// (it holds the private key).
fn pkcs8_v1(algorithm: &[u8], key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(key.len() + 32));
    body.extend_from_slice(&[INTEGER, 1, 0]);
    body.extend_from_slice(algorithm);
    write(&mut body, OCTET_STRING, key);
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 4));
    write(&mut out, SEQUENCE, &body);
    out
}

/// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo whose algorithm is
/// exactly rsaEncryption with NULL parameters.
pub fn pkcs8_rsa_private_key(pkcs8: &[u8]) -> DerResult<&[u8]> {
    let Pkcs8Parts { algorithm, key, .. } = pkcs8_parts(pkcs8)?;
    if algorithm != RSA_ENCRYPTION {
        return Err(DerError::UnsupportedAlgorithm);
    }
    Ok(key)
}

/// A PKCS#8 v1 PrivateKeyInfo (rsaEncryption) around an RSAPrivateKey, in
/// zeroizing memory (it holds the private key).
#[cfg_attr(not(feature = "aws-lc"), allow(dead_code))] // only the aws-lc provider
pub fn rsa_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    pkcs8_v1(RSA_ENCRYPTION, pkcs1)
}

/// The integers of a two-prime RSAPrivateKey, as big-endian magnitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaPrivateKeyComponents<'a> {
    /// Modulus n.
    pub n: &'a [u8],
    /// Public exponent e.
    pub e: &'a [u8],
    /// Private exponent d.
    pub d: &'a [u8],
    /// Prime p.
    pub p: &'a [u8],
    /// Prime q.
    pub q: &'a [u8],
    /// d mod (p - 1).
    pub dp: &'a [u8],
    /// d mod (q - 1).
    pub dq: &'a [u8],
    /// q⁻¹ mod p.
    pub qinv: &'a [u8],
}

/// The components of the RSA key in a PKCS#8 PrivateKeyInfo
/// (rsaEncryption; a two-prime, version 0 RSAPrivateKey).
pub fn pkcs8_rsa_components(pkcs8: &[u8]) -> DerResult<RsaPrivateKeyComponents<'_>> {
    let mut r = Reader::new(read_single(SEQUENCE, pkcs8_rsa_private_key(pkcs8)?)?);
    if r.uint()? != [0] {
        return Err(DerError::UnsupportedVersion);
    }
    let c = RsaPrivateKeyComponents {
        n: r.uint()?,
        e: r.uint()?,
        d: r.uint()?,
        p: r.uint()?,
        q: r.uint()?,
        dp: r.uint()?,
        dq: r.uint()?,
        qinv: r.uint()?,
    };
    r.finish()?;
    Ok(c)
}

// -------------------------------------------------------------------- EC --

/// The named-curve OBJECT IDENTIFIER of `curve`, whole element (the
/// ECParameters of a key; PKCS#11 `CKA_EC_PARAMS`).
pub fn ec_named_curve(curve: EcCurve) -> &'static [u8] {
    match curve {
        EcCurve::P256 => PRIME256V1,
        EcCurve::P384 => SECP384R1,
        EcCurve::Secp256k1 => SECP256K1,
        EcCurve::P521 => SECP521R1,
    }
}

/// The curve of an AlgorithmIdentifier { id-ecPublicKey, namedCurve }.
fn ec_algorithm_curve(algorithm: &[u8]) -> DerResult<EcCurve> {
    let mut r = Reader::new(read_single(SEQUENCE, algorithm)?);
    let (oid, _) = r.read_encoded(OBJECT_IDENTIFIER)?;
    let (params, _) = r.read_encoded(OBJECT_IDENTIFIER)?;
    r.finish()?;
    if oid != ID_EC_PUBLIC_KEY {
        return Err(DerError::UnsupportedAlgorithm);
    }
    EcCurve::ALL
        .into_iter()
        .find(|&c| ec_named_curve(c) == params)
        .ok_or(DerError::UnsupportedAlgorithm)
}

/// The curve and private scalar of the EC key in a PKCS#8 PrivateKeyInfo
/// (id-ecPublicKey on a curve of [`EcCurve::ALL`]; a version 1 ECPrivateKey).
pub fn pkcs8_ec_private_key(pkcs8: &[u8]) -> DerResult<(EcCurve, &[u8])> {
    let Pkcs8Parts { algorithm, key, .. } = pkcs8_parts(pkcs8)?;
    let curve = ec_algorithm_curve(algorithm)?;
    let mut r = Reader::new(read_single(SEQUENCE, key)?);
    if r.uint()? != [1] {
        return Err(DerError::UnsupportedVersion);
    }
    let scalar = r.read(OCTET_STRING)?;
    // Optional [0] parameters and [1] publicKey (both explicit).
    r.read_optional(0xa0)?;
    r.read_optional(0xa1)?;
    r.finish()?;
    Ok((curve, scalar))
}

/// An EC private key as PKCS#8 DER, from PEM or DER holding PKCS#8
/// (`PRIVATE KEY`) or an RFC 5915 ECPrivateKey on a named curve (`EC
/// PRIVATE KEY`, what `openssl ecparam -genkey` and OpenSSL's EC DER
/// write); `None` if it is neither.
pub fn ec_private_key_pkcs8(key: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if let Some(pkcs8) = pem_or_der(key, "PRIVATE KEY") {
        if pkcs8_ec_private_key(&pkcs8).is_ok() {
            return Some(pkcs8);
        }
    }
    let sec1 = pem_or_der(key, "EC PRIVATE KEY")?;
    let mut r = Reader::new(read_single(SEQUENCE, &sec1).ok()?);
    if r.uint().ok()? != [1] {
        return None;
    }
    let scalar = r.read(OCTET_STRING).ok()?;
    let params = r.read_optional(0xa0).ok()??;
    let public = r.read_optional(0xa1).ok()?;
    r.finish().ok()?;
    let curve = EcCurve::ALL
        .into_iter()
        .find(|&c| ec_named_curve(c) == params)?;
    // The ECPrivateKey inside PKCS#8 names its curve in the algorithm.
    let mut inner = Zeroizing::new(Vec::with_capacity(sec1.len()));
    inner.extend_from_slice(&[INTEGER, 1, 1]);
    write(&mut inner, OCTET_STRING, scalar);
    if let Some(public) = public {
        write(&mut inner, 0xa1, public);
    }
    let mut ec_key = Zeroizing::new(Vec::with_capacity(inner.len() + 4));
    write(&mut ec_key, SEQUENCE, &inner);
    let mut algorithm = ID_EC_PUBLIC_KEY.to_vec();
    algorithm.extend_from_slice(ec_named_curve(curve));
    let pkcs8 = pkcs8_v1(&tlv(SEQUENCE, &algorithm), &ec_key);
    pkcs8_ec_private_key(&pkcs8).is_ok().then_some(pkcs8)
}

/// The curve and SEC 1 point of an EC SubjectPublicKeyInfo.
pub fn spki_ec_point(spki: &[u8]) -> DerResult<(EcCurve, &[u8])> {
    let (algorithm, point) = spki_parts(spki)?;
    Ok((ec_algorithm_curve(algorithm)?, point))
}

/// `(whole AlgorithmIdentifier, subjectPublicKey bytes)` of a
/// SubjectPublicKeyInfo.
fn spki_parts(spki: &[u8]) -> DerResult<(&[u8], &[u8])> {
    let mut r = Reader::new(read_single(SEQUENCE, spki)?);
    let (algorithm, _) = r.read_encoded(SEQUENCE)?;
    let key = r.bit_string()?;
    r.finish()?;
    Ok((algorithm, key))
}

// --------------------------------------------------------------- Ed25519 --

/// The private key (the 32-byte seed of RFC 8032) of an Ed25519 PKCS#8
/// PrivateKeyInfo or OneAsymmetricKey (RFC 8410 section 7), and the public
/// key a OneAsymmetricKey carries, if any. Lengths are the caller's to check.
pub fn pkcs8_ed25519_key(pkcs8: &[u8]) -> DerResult<(&[u8], Option<&[u8]>)> {
    let Pkcs8Parts {
        algorithm,
        key,
        public,
    } = pkcs8_parts(pkcs8)?;
    if algorithm != ED25519_ALGORITHM {
        return Err(DerError::UnsupportedAlgorithm);
    }
    // CurvePrivateKey ::= OCTET STRING, inside the privateKey OCTET STRING.
    let seed = read_single(OCTET_STRING, key)?;
    // [1] IMPLICIT BIT STRING: the unused-bits byte, then the key.
    let public = match public {
        None => None,
        Some([0, key @ ..]) => Some(key),
        Some([]) => return Err(DerError::Truncated),
        Some(_) => return Err(DerError::InvalidBitString),
    };
    Ok((seed, public))
}

/// A PKCS#8 v1 PrivateKeyInfo of an Ed25519 seed (as OpenSSL writes it), in
/// zeroizing memory.
pub fn ed25519_pkcs8(seed: &[u8]) -> Zeroizing<Vec<u8>> {
    pkcs8_v1(ED25519_ALGORITHM, &Zeroizing::new(tlv(OCTET_STRING, seed)))
}

/// The SubjectPublicKeyInfo of an Ed25519 public key.
pub fn ed25519_spki(public: &[u8]) -> Vec<u8> {
    spki(ED25519_ALGORITHM, public)
}

/// The public key of an Ed25519 SubjectPublicKeyInfo.
pub fn spki_ed25519_public(spki: &[u8]) -> DerResult<&[u8]> {
    let (algorithm, key) = spki_parts(spki)?;
    if algorithm != ED25519_ALGORITHM {
        return Err(DerError::UnsupportedAlgorithm);
    }
    Ok(key)
}

// ---------------------------------------------------------------- ML-DSA --

/// The AlgorithmIdentifier of ML-DSA keys (RFC 9881): id-ml-dsa-44, -65 and
/// -87 are 2.16.840.1.101.3.4.3.17, .18 and .19, with no parameters. The
/// last OID byte is `last`.
fn mldsa_algorithm(last: u8) -> [u8; 13] {
    [
        0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, last,
    ]
}

/// The last OID byte of an ML-DSA AlgorithmIdentifier (17, 18 or 19).
fn mldsa_algorithm_last(algorithm: &[u8]) -> DerResult<u8> {
    match algorithm {
        [prefix @ .., last @ (0x11..=0x13)] if *prefix == mldsa_algorithm(*last)[..12] => Ok(*last),
        _ => Err(DerError::UnsupportedAlgorithm),
    }
}

/// What an ML-DSA PKCS#8 key holds (RFC 9881 `ML-DSA-PrivateKey`): the
/// 32-byte seed, the expanded private key, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlDsaPrivateKeyParts<'a> {
    /// The last OID byte: 17 (ML-DSA-44), 18 (-65) or 19 (-87).
    pub oid_last: u8,
    /// `seed [0] IMPLICIT OCTET STRING (SIZE (32))`, or the seed of `both`.
    pub seed: Option<&'a [u8]>,
    /// `expandedKey OCTET STRING`, or the expanded key of `both`.
    pub expanded: Option<&'a [u8]>,
    /// The public key a OneAsymmetricKey (v2) carries, if any.
    pub public: Option<&'a [u8]>,
}

/// Reads an ML-DSA PKCS#8 PrivateKeyInfo (RFC 9881 section 6): the CHOICE
/// of `seed` (as pyca `cryptography` and AWS KMS write it), `expandedKey`
/// or `both` (as OpenSSL 3.5 writes it by default), and the public key of
/// a v2 OneAsymmetricKey. Lengths and the public key's match are the
/// caller's to check.
pub fn pkcs8_mldsa_key(pkcs8: &[u8]) -> DerResult<MlDsaPrivateKeyParts<'_>> {
    let Pkcs8Parts {
        algorithm,
        key,
        public,
    } = pkcs8_parts(pkcs8)?;
    let public = match public {
        None => None,
        Some([0, key @ ..]) => Some(key),
        Some([]) => return Err(DerError::Truncated),
        Some(_) => return Err(DerError::InvalidBitString),
    };
    let oid_last = mldsa_algorithm_last(algorithm)?;
    let (tag, contents, rest) = read_element(key)?;
    if !rest.is_empty() {
        return Err(DerError::TrailingData);
    }
    let (seed, expanded) = match tag {
        0x80 => (Some(contents), None),
        OCTET_STRING => (None, Some(contents)),
        SEQUENCE => {
            let mut r = Reader::new(contents);
            let seed = r.read(OCTET_STRING)?;
            let expanded = r.read(OCTET_STRING)?;
            r.finish()?;
            (Some(seed), Some(expanded))
        }
        found => {
            return Err(DerError::UnexpectedTag {
                expected: 0x80,
                found,
            })
        }
    };
    Ok(MlDsaPrivateKeyParts {
        oid_last,
        seed,
        expanded,
        public,
    })
}

/// The PKCS#8 v1 PrivateKeyInfo of an ML-DSA seed in the `seed` form (as
/// pyca `cryptography` writes it), in zeroizing memory.
pub fn mldsa_pkcs8(oid_last: u8, seed: &[u8]) -> Zeroizing<Vec<u8>> {
    pkcs8_v1(&mldsa_algorithm(oid_last), &Zeroizing::new(tlv(0x80, seed)))
}

/// The SubjectPublicKeyInfo of an ML-DSA public key.
pub fn mldsa_spki(oid_last: u8, public: &[u8]) -> Vec<u8> {
    spki(&mldsa_algorithm(oid_last), public)
}

/// The last OID byte and the public key of an ML-DSA SubjectPublicKeyInfo.
pub fn spki_mldsa_public(spki: &[u8]) -> DerResult<(u8, &[u8])> {
    let (algorithm, key) = spki_parts(spki)?;
    Ok((mldsa_algorithm_last(algorithm)?, key))
}

/// The two INTEGERs (r, s) of a DER ECDSA-Sig-Value, as big-endian
/// magnitudes.
#[cfg_attr(not(feature = "aws-lc"), allow(dead_code))] // only the aws-lc provider
pub fn ecdsa_signature(sig: &[u8]) -> DerResult<(&[u8], &[u8])> {
    let mut rd = Reader::new(read_single(SEQUENCE, sig)?);
    let r = rd.uint()?;
    let s = rd.uint()?;
    rd.finish()?;
    Ok((r, s))
}

/// A DER ECDSA-Sig-Value from the big-endian integers r and s.
pub fn ecdsa_signature_from_scalars(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(r.len() + s.len() + 6);
    write_uint(&mut body, r);
    write_uint(&mut body, s);
    tlv(SEQUENCE, &body)
}

// ------------------------------------------------------------------- PEM --

/// Which RSA key a PEM document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPem {
    /// `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1).
    Public,
    /// `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
    Private,
}

impl RsaPem {
    /// The error for a PEM document that is not such a key.
    pub fn malformed(self) -> crate::error::Error {
        match self {
            RsaPem::Public => invalid_key("not a PEM RSA public key"),
            RsaPem::Private => invalid_key("not a PEM RSA private key"),
        }
    }
}

/// The label and the document of a PEM (RFC 7468) text, `None` if it is not
/// one. The document is wiped when dropped: it may hold a private key.
pub fn pem_decode(pem: &[u8]) -> Option<(String, Zeroizing<Vec<u8>>)> {
    // The same RFC 7468 decoder for both providers (the rustcrypto build
    // reaches it through the `der` crate).
    #[cfg(feature = "aws-lc")]
    use pem_rfc7468 as pem_codec;
    #[cfg(not(feature = "aws-lc"))]
    use rsa::pkcs8::der::pem as pem_codec;
    let (label, doc) = pem_codec::decode_vec(pem).ok()?;
    Some((label.to_owned(), Zeroizing::new(doc)))
}

/// A key given as PEM with `label` or as DER: the DER bytes (wiped when
/// dropped), or `None` if PEM text has no block with that label or the
/// block does not decode. Other blocks (OpenSSL's `EC PARAMETERS` before an
/// `EC PRIVATE KEY`) are passed over.
pub fn pem_or_der(key: &[u8], label: &str) -> Option<Zeroizing<Vec<u8>>> {
    let text = key.trim_ascii_start();
    if !text.starts_with(b"-----BEGIN ") {
        return Some(Zeroizing::new(key.to_vec()));
    }
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let begin = find(text, format!("-----BEGIN {label}-----").as_bytes())?;
    let end_line = format!("-----END {label}-----");
    let end = begin + find(&text[begin..], end_line.as_bytes())? + end_line.len();
    let (l, doc) = pem_decode(&text[begin..end])?;
    (l == label).then_some(doc)
}

/// An RSA key from PEM: the PKCS#1 key in the document (unwrapped from
/// PKCS#8 or SubjectPublicKeyInfo when the label says so) read by `parse`;
/// [`RsaPem::malformed`] if the PEM, its label or its wrapping is wrong.
pub fn rsa_key_from_pem<T>(
    pem: &str,
    kind: RsaPem,
    parse: impl FnOnce(&[u8]) -> crate::error::Result<T>,
) -> crate::error::Result<T> {
    let (label, doc) = pem_decode(pem.as_bytes()).ok_or_else(|| kind.malformed())?;
    let key = match (kind, label.as_str()) {
        (RsaPem::Public, "PUBLIC KEY") => spki_rsa_public_key(&doc),
        (RsaPem::Private, "PRIVATE KEY") => pkcs8_rsa_private_key(&doc),
        (RsaPem::Public, "RSA PUBLIC KEY") | (RsaPem::Private, "RSA PRIVATE KEY") => Ok(&doc[..]),
        _ => return Err(kind.malformed()),
    }
    .map_err(|_| kind.malformed())?;
    parse(key)
}

// ------------------------------------------------------------ DigestInfo --

/// The DER DigestInfo before the digest, for RSASSA-PKCS1-v1_5 over a
/// digest of `h` (RFC 8017 9.2, note 1).
pub fn digest_info_prefix(h: HashAlg) -> &'static [u8] {
    match h {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// The DER DigestInfo of `digest` under `h`.
pub fn digest_info(h: HashAlg, digest: &[u8]) -> Vec<u8> {
    let mut info = digest_info_prefix(h).to_vec();
    info.extend_from_slice(digest);
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_wrappings_round_trip() {
        // RFC 8410 section 10.3: OpenSSL's encoding of a seed.
        let rfc = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20, 0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1,
            0xf7, 0x69, 0xf8, 0xad, 0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97,
            0xa8, 0x8f, 0x44, 0x75, 0x58, 0x42,
        ];
        let (seed, public) = pkcs8_ed25519_key(&rfc).unwrap();
        assert_eq!((seed.len(), public), (32, None));
        assert_eq!(&ed25519_pkcs8(seed)[..], &rfc[..]);
        // A OneAsymmetricKey (version 1) with its public key.
        let mut v2 = vec![0x02, 0x01, 0x01];
        v2.extend_from_slice(ED25519_ALGORITHM);
        v2.extend_from_slice(&tlv(OCTET_STRING, &tlv(OCTET_STRING, &[7; 32])));
        v2.extend_from_slice(&tlv(0x81, &[[0].as_slice(), &[9; 32]].concat()));
        let v2 = tlv(SEQUENCE, &v2);
        assert_eq!(
            pkcs8_ed25519_key(&v2).unwrap(),
            (&[7u8; 32][..], Some(&[9u8; 32][..]))
        );
        // Another algorithm, or trailing bytes, are refused.
        let mut ec = rfc;
        ec[10] = 0x71; // id-Ed448
        assert_eq!(pkcs8_ed25519_key(&ec), Err(DerError::UnsupportedAlgorithm));
        let mut long = rfc.to_vec();
        long.push(0);
        assert!(pkcs8_ed25519_key(&long).is_err());
        let spki = ed25519_spki(&[5; 32]);
        assert_eq!(spki.len(), 44);
        assert_eq!(spki_ed25519_public(&spki).unwrap(), &[5; 32]);
        assert_eq!(
            spki_ed25519_public(&rsa_spki(&rsa_public_key(&[1], &[3]))),
            Err(DerError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn writes_minimal_lengths_and_integers() {
        let mut v = Vec::new();
        write_uint(&mut v, &[0, 0, 0x7f]);
        assert_eq!(v, [2, 1, 0x7f]);
        v.clear();
        write_uint(&mut v, &[0x80]);
        assert_eq!(v, [2, 2, 0, 0x80]);
        v.clear();
        write_uint(&mut v, &[0]);
        assert_eq!(v, [2, 1, 0]);
        v.clear();
        write_uint(&mut v, &[]);
        assert_eq!(v, [2, 1, 0]);
        assert_eq!(tlv(OCTET_STRING, &[1; 0x7f])[..2], [0x04, 0x7f]);
        assert_eq!(tlv(OCTET_STRING, &[1; 0x80])[..3], [0x04, 0x81, 0x80]);
        let long = tlv(OCTET_STRING, &[1; 300]);
        assert_eq!(long[..4], [0x04, 0x82, 0x01, 0x2c]);
        let (t, v, rest) = read_element(&long).unwrap();
        assert_eq!((t, v.len(), rest.len()), (4, 300, 0));
    }

    #[test]
    fn refuses_malformed_elements() {
        use DerError::*;
        // Truncated: no tag, no length, short length bytes, short contents.
        assert_eq!(read_element(&[]), Err(Truncated));
        assert_eq!(read_element(&[0x04]), Err(Truncated));
        assert_eq!(read_element(&[0x04, 0x82, 0x01]), Err(Truncated));
        assert_eq!(read_element(&[0x04, 0x03, 1, 2]), Err(Truncated));
        // Indefinite, overlong (5 length bytes) and non-minimal lengths.
        assert_eq!(read_element(&[0x30, 0x80, 0, 0]), Err(IndefiniteLength));
        assert_eq!(
            read_element(&[0x04, 0x85, 0, 0, 0, 0, 1, 0]),
            Err(LengthTooLarge)
        );
        assert_eq!(
            read_element(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]),
            Err(NonMinimalLength)
        );
        let mut padded = vec![0x04, 0x82, 0x00, 0x80];
        padded.extend_from_slice(&[0; 0x80]);
        assert_eq!(read_element(&padded), Err(NonMinimalLength));
        assert_eq!(read_element(&[0x1f, 0x01, 0x00]), Err(UnsupportedTag));
        // Trailing bytes after a single element; wrong tag.
        assert_eq!(
            read_single(OCTET_STRING, &[0x04, 0x01, 7, 0]),
            Err(TrailingData)
        );
        assert_eq!(read_single(OCTET_STRING, &[0x04, 0x01, 7]), Ok(&[7u8][..]));
        assert_eq!(
            read_single(SEQUENCE, &[0x04, 0x00]),
            Err(UnexpectedTag {
                expected: SEQUENCE,
                found: OCTET_STRING
            })
        );
    }

    #[test]
    fn integers_are_minimal_and_non_negative() {
        fn uint(b: &[u8]) -> DerResult<&[u8]> {
            Reader::new(b).uint()
        }
        assert_eq!(uint(&[2, 1, 0]), Ok(&[0u8][..]));
        assert_eq!(uint(&[2, 2, 0, 0x80]), Ok(&[0x80u8][..]));
        assert_eq!(uint(&[2, 1, 0x7f]), Ok(&[0x7fu8][..]));
        assert_eq!(uint(&[2, 0]), Err(DerError::InvalidInteger));
        assert_eq!(uint(&[2, 2, 0, 0x7f]), Err(DerError::InvalidInteger));
        assert_eq!(uint(&[2, 1, 0x80]), Err(DerError::InvalidInteger));
    }

    #[test]
    fn ecdsa_signatures_round_trip() {
        let sig = ecdsa_signature_from_scalars(&[0, 0x80, 1], &[0x01, 2]);
        assert_eq!(sig, [0x30, 0x09, 2, 3, 0, 0x80, 1, 2, 2, 1, 2]);
        assert_eq!(ecdsa_signature(&sig), Ok((&[0x80, 1][..], &[1, 2][..])));
        let mut trailing = sig.clone();
        trailing.push(0);
        assert_eq!(ecdsa_signature(&trailing), Err(DerError::TrailingData));
        // A third integer inside the SEQUENCE.
        let three = tlv(SEQUENCE, &[2, 1, 1, 2, 1, 1, 2, 1, 1]);
        assert_eq!(ecdsa_signature(&three), Err(DerError::TrailingData));
    }

    #[test]
    fn rsa_spki_round_trip() {
        let pkcs1 = rsa_public_key(&[0x80, 0, 1], &[1, 0, 1]);
        let spki = rsa_spki(&pkcs1);
        assert_eq!(spki_rsa_public_key(&spki), Ok(&pkcs1[..]));
        let mut trailing = spki.clone();
        trailing.push(0);
        assert_eq!(spki_rsa_public_key(&trailing), Err(DerError::TrailingData));
        // Unused bits in the BIT STRING.
        let mut unused = spki.clone();
        let at = 2 + RSA_ENCRYPTION.len() + 2;
        unused[at] = 1;
        assert_eq!(
            spki_rsa_public_key(&unused),
            Err(DerError::InvalidBitString)
        );
        // Another algorithm (the EC one) is refused.
        let mut body = tlv(SEQUENCE, &[ID_EC_PUBLIC_KEY, PRIME256V1].concat());
        write(&mut body, BIT_STRING, &[0, 4, 1, 2]);
        let ec = tlv(SEQUENCE, &body);
        assert_eq!(
            spki_rsa_public_key(&ec),
            Err(DerError::UnsupportedAlgorithm)
        );
        assert_eq!(spki_ec_point(&ec), Ok((EcCurve::P256, &[4u8, 1, 2][..])));
    }

    #[test]
    fn pkcs8_rsa_round_trip_and_components() {
        let pkcs1 = tlv(
            SEQUENCE,
            &[
                2, 1, 0, 2, 1, 9, 2, 1, 3, 2, 1, 4, 2, 1, 5, 2, 1, 6, 2, 1, 7, 2, 1, 8, 2, 1, 10,
            ],
        );
        let pkcs8 = rsa_pkcs8(&pkcs1);
        assert_eq!(pkcs8_rsa_private_key(&pkcs8), Ok(&pkcs1[..]));
        let c = pkcs8_rsa_components(&pkcs8).unwrap();
        assert_eq!(
            [c.n, c.e, c.d, c.p, c.q, c.dp, c.dq, c.qinv],
            [[9], [3], [4], [5], [6], [7], [8], [10]].map(|x: [u8; 1]| x.to_vec())
        );
        // Truncated anywhere inside.
        for cut in 0..pkcs8.len() {
            assert!(pkcs8_rsa_components(&pkcs8[..cut]).is_err(), "cut {cut}");
        }
        // Trailing bytes after the outer SEQUENCE.
        let mut trailing = pkcs8.to_vec();
        trailing.push(0);
        assert_eq!(
            pkcs8_rsa_private_key(&trailing),
            Err(DerError::TrailingData)
        );
        // Version 2 is not PKCS#8.
        let mut v2 = pkcs8.to_vec();
        v2[4] = 2;
        assert_eq!(
            pkcs8_rsa_private_key(&v2),
            Err(DerError::UnsupportedVersion)
        );
    }

    #[test]
    fn digest_info_prefixes_announce_the_digest() {
        for h in [
            HashAlg::Sha1,
            HashAlg::Sha224,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            let info = digest_info(h, &vec![0xab; h.output_len()]);
            let mut r = Reader::new(read_single(SEQUENCE, &info).unwrap());
            r.read(SEQUENCE).unwrap();
            assert_eq!(r.read(OCTET_STRING).unwrap().len(), h.output_len());
            r.finish().unwrap();
        }
    }

    #[test]
    fn keys_of_the_provider_parse() {
        let k =
            crate::crypto::RsaPrivateKey::from_pem(include_str!("../../tests/data/rsa2048.pem"))
                .unwrap();
        let der = k.to_pkcs8_der().unwrap();
        let c = pkcs8_rsa_components(der.as_bytes()).unwrap();
        let spki = rsa_spki(&rsa_public_key(c.n, c.e));
        assert_eq!(spki, k.public_key().to_spki_der().unwrap());
        for curve in EcCurve::ALL {
            let e = crate::crypto::EcdsaSigningKey::generate(curve).unwrap();
            let pkcs8 = e.to_pkcs8_der().unwrap();
            let (got, d) = pkcs8_ec_private_key(pkcs8.as_bytes()).unwrap();
            assert_eq!((got, d.len()), (curve, curve.field_len()));
            let spki = e.verifying_key().to_spki_der().unwrap();
            let (got, point) = spki_ec_point(&spki).unwrap();
            assert_eq!((got, point.len()), (curve, 1 + 2 * curve.field_len()));
        }
    }
}
