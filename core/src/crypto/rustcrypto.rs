//! The RustCrypto provider: pure Rust, no C compiler needed.
//!
//! RSA private-key operations go only through the blinded calls
//! (`decrypt_blinded`, `BlindedSigningKey`, randomized PKCS#1 signing):
//! the `rsa` crate carries the unfixed Marvin timing advisory
//! (RUSTSEC-2023-0071), see docs/SECURITY.md.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use hmac::Mac;
use rand_core::OsRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use sha2::Digest;
use zeroize::Zeroize;

use super::{invalid_key, EcCurve, GcmTag, HashAlg, MlDsaParams, RsaPadding, RsaSignatureScheme};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

type Aes192Gcm = AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;

/// Runs `$body` with `$d` bound to the digest type for `$alg`.
macro_rules! with_digest {
    ($alg:expr, $d:ident => $body:expr) => {
        match $alg {
            HashAlg::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            HashAlg::Sha224 => {
                type $d = sha2::Sha224;
                $body
            }
            HashAlg::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            HashAlg::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            HashAlg::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}

/// AES-256 applied to each 16-byte block of `blocks` in place (the raw
/// block cipher as a PRF: the key store's blob-key derivation, never for
/// encrypting data).
pub fn aes256_prf_blocks(key: &[u8], blocks: &mut [u8]) -> Result<()> {
    use aes::cipher::{BlockEncrypt, KeyInit as _};
    if key.len() != 32 || !blocks.len().is_multiple_of(16) {
        return Err(invalid_key(
            "AES-256 PRF: 32-byte key, whole 16-byte blocks",
        ));
    }
    let cipher = aes::Aes256::new_from_slice(key).map_err(|_| invalid_key("bad AES key"))?;
    for block in blocks.chunks_exact_mut(16) {
        cipher.encrypt_block(aes::Block::from_mut_slice(block));
    }
    Ok(())
}

/// AES-256-CBC with PKCS#7 padding under a 16-byte IV the caller chose at
/// random: only for the CMS EnvelopedData that carries a plaintext to a
/// recipient (`crypto/cms.rs`).
pub fn aes256_cbc_encrypt(key: &[u8], iv: &[u8; 16], plaintext: &[u8]) -> Result<Vec<u8>> {
    use cbc::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
        .map_err(|_| invalid_key("bad AES-256 key"))?;
    Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

/// The inverse of [`aes256_cbc_encrypt`] (a wrong padding is
/// `DecryptionFailed`).
pub fn aes256_cbc_decrypt(key: &[u8], iv: &[u8; 16], ciphertext: &[u8]) -> Result<SecretBytes> {
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
        .map_err(|_| invalid_key("bad AES-256 key"))?;
    let mut buf = SecretBytes::from_slice(ciphertext)?;
    let n = dec
        .decrypt_padded_mut::<Pkcs7>(buf.as_mut_bytes())
        .map_err(|_| Error::DecryptionFailed)?
        .len();
    SecretBytes::from_slice(&buf.as_bytes()[..n])
}

/// Fills `buf` from the operating system's random generator.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|_| Error::Rng)
}

/// Whether a FIPS 140-3 validated module does the cryptography: never with
/// this provider.
pub fn fips_mode() -> bool {
    false
}

// ---------------------------------------------------------------- AES-GCM --

enum GcmInner {
    A128(Box<Aes128Gcm>),
    A192(Box<Aes192Gcm>),
    A256(Box<Aes256Gcm>),
}

/// An AES-GCM key (128, 192 or 256 bits) with its expanded key schedule,
/// 12-byte nonces and 16-byte tags.
pub struct AesGcmKey(GcmInner);

crate::crypto::aes_gcm_key_api!();

impl AesGcmKey {
    fn expand(key: &[u8]) -> Option<Self> {
        Some(AesGcmKey(match key.len() {
            16 => GcmInner::A128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            24 => GcmInner::A192(Box::new(Aes192Gcm::new_from_slice(key).ok()?)),
            32 => GcmInner::A256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            _ => return None,
        }))
    }

    fn seal_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<GcmTag> {
        let nonce = aes_gcm::Nonce::from_slice(iv);
        match &self.0 {
            GcmInner::A128(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            GcmInner::A192(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            GcmInner::A256(c) => c.encrypt_in_place_detached(nonce, aad, buf),
        }
        .ok()
        .map(Into::into)
    }

    fn open_detached(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        let nonce = aes_gcm::Nonce::from_slice(iv);
        let tag = aes_gcm::Tag::from_slice(tag);
        match &self.0 {
            GcmInner::A128(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            GcmInner::A192(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            GcmInner::A256(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
        }
        .is_ok()
    }

    // The aes-gcm crate works in place only: the input is copied to the
    // output first.
    fn seal_detached_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: &[u8],
        out: &mut [std::mem::MaybeUninit<u8>],
    ) -> Option<GcmTag> {
        self.seal_detached(iv, aad, crate::crypto::init_from(out, input))
    }

    fn open_detached_to(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        input: &[u8],
        tag: &[u8; 16],
        out: &mut [std::mem::MaybeUninit<u8>],
    ) -> bool {
        self.open_detached(iv, aad, crate::crypto::init_from(out, input), tag)
    }
}

// ----------------------------------------------------------- HKDF / HMAC --

/// HKDF with one extract and one expand per `(info, out)` pair: the keys
/// of one message share their PRK.
pub fn hkdf_expand_each(
    alg: HashAlg,
    salt: Option<&[u8]>,
    ikm: &[u8],
    outputs: &mut [(&[u8], &mut [u8])],
) -> Result<()> {
    with_digest!(alg, D => {
        let prk = hkdf::Hkdf::<D>::new(salt, ikm);
        for (info, out) in outputs.iter_mut() {
            prk.expand(info, out)
                .map_err(|_| Error::InvalidArgument("HKDF output too long".into()))?;
        }
        Ok(())
    })
}

/// HMAC of `data` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    with_digest!(alg, D => {
        let mut m = <hmac::Hmac<D> as Mac>::new_from_slice(key)
            .map_err(|_| invalid_key("bad HMAC key"))?;
        m.update(data);
        Ok(m.finalize().into_bytes().to_vec())
    })
}

/// An incremental message digest.
#[derive(Clone)]
pub struct Hasher(HasherInner);

#[derive(Clone)]
enum HasherInner {
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

crate::secret::debug_hiding_secrets!(Hasher(..));

impl Hasher {
    /// Starts a digest.
    pub fn new(alg: HashAlg) -> Self {
        Hasher(match alg {
            HashAlg::Sha1 => HasherInner::Sha1(sha1::Sha1::new()),
            HashAlg::Sha224 => HasherInner::Sha224(sha2::Sha224::new()),
            HashAlg::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => HasherInner::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => HasherInner::Sha512(sha2::Sha512::new()),
        })
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherInner::Sha1(h) => h.update(data),
            HasherInner::Sha224(h) => h.update(data),
            HasherInner::Sha256(h) => h.update(data),
            HasherInner::Sha384(h) => h.update(data),
            HasherInner::Sha512(h) => h.update(data),
        }
    }

    /// Finishes and returns the digest.
    pub fn finalize(self) -> Vec<u8> {
        match self.0 {
            HasherInner::Sha1(h) => h.finalize().to_vec(),
            HasherInner::Sha224(h) => h.finalize().to_vec(),
            HasherInner::Sha256(h) => h.finalize().to_vec(),
            HasherInner::Sha384(h) => h.finalize().to_vec(),
            HasherInner::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

// ------------------------------------------------------------------ ECDSA --

/// An ECDSA private key on P-256, P-384, P-521 or secp256k1.
pub enum EcdsaSigningKey {
    /// P-256.
    P256(p256::ecdsa::SigningKey),
    /// P-384.
    P384(p384::ecdsa::SigningKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::SigningKey),
    /// P-521 (the generic key: p521's own wrapper has no PKCS#8).
    P521(ecdsa::SigningKey<p521::NistP521>),
}

impl std::fmt::Debug for EcdsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcdsaSigningKey({:?})", self.curve())
    }
}

/// Re-signs until the DER signature has the static length the AWS
/// Encryption SDK writes; negating `s` flips its top bit, so at most a few
/// tries are needed (a leading zero byte in `r` forces a fresh signature).
macro_rules! sign_static {
    ($key:expr, $digest:expr, $target:expr, $sig:ty) => {{
        for _ in 0..64 {
            let sig: $sig = $key
                .sign_prehash_with_rng(&mut OsRng, $digest)
                .map_err(|_| Error::InvalidArgument("ECDSA signing failed".into()))?;
            let der = sig.to_der();
            if der.as_bytes().len() == $target {
                return Ok(der.as_bytes().to_vec());
            }
            let flipped = <$sig>::from_scalars(*sig.r(), -*sig.s())
                .map_err(|_| Error::InvalidArgument("ECDSA signing failed".into()))?;
            let der = flipped.to_der();
            if der.as_bytes().len() == $target {
                return Ok(der.as_bytes().to_vec());
            }
        }
        Err(Error::InvalidArgument(
            "could not produce a static-length ECDSA signature".into(),
        ))
    }};
}

impl EcdsaSigningKey {
    /// Generates a fresh key (rejection sampling of the scalar from the
    /// OS generator; an RNG failure is an error, not a panic).
    pub fn generate(curve: EcCurve) -> Result<Self> {
        let mut bytes = SecretBytes::zeroed(curve.field_len())?;
        for _ in 0..64 {
            fill_random(bytes.as_mut_bytes())?;
            if curve == EcCurve::P521 {
                // The order has 521 bits: 7 of the 528 drawn are dropped,
                // or nearly every draw would be out of range.
                bytes.as_mut_bytes()[0] &= 0x01;
            }
            let k = match curve {
                EcCurve::P256 => {
                    p256::ecdsa::SigningKey::from_slice(bytes.as_bytes()).map(Self::P256)
                }
                EcCurve::P384 => {
                    p384::ecdsa::SigningKey::from_slice(bytes.as_bytes()).map(Self::P384)
                }
                EcCurve::Secp256k1 => {
                    k256::ecdsa::SigningKey::from_slice(bytes.as_bytes()).map(Self::Secp256k1)
                }
                EcCurve::P521 => ecdsa::SigningKey::from_slice(bytes.as_bytes()).map(Self::P521),
            };
            if let Ok(k) = k {
                return Ok(k);
            }
        }
        Err(Error::Rng)
    }

    /// An explicit copy (the caching materials manager reuses a signing
    /// key across the messages of one cache entry).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(match self {
            Self::P256(k) => Self::P256(k.clone()),
            Self::P384(k) => Self::P384(k.clone()),
            Self::Secp256k1(k) => Self::Secp256k1(k.clone()),
            Self::P521(k) => Self::P521(k.clone()),
        })
    }

    /// Parses a PKCS#8 DER private key of either curve.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::P384(k));
        }
        if let Ok(k) = k256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::Secp256k1(k));
        }
        ecdsa::SigningKey::<p521::NistP521>::from_pkcs8_der(der)
            .map(Self::P521)
            .map_err(|_| invalid_key("not a PKCS#8 P-256, P-384, secp256k1 or P-521 private key"))
    }

    /// Encodes the private key as PKCS#8 DER, in secret memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        let doc = match self {
            Self::P256(k) => k.to_pkcs8_der(),
            Self::P384(k) => k.to_pkcs8_der(),
            Self::Secp256k1(k) => k.to_pkcs8_der(),
            Self::P521(k) => k.to_pkcs8_der(),
        }
        .map_err(|_| invalid_key("cannot encode EC key"))?;
        SecretBytes::from_slice(doc.as_bytes())
    }

    /// The curve of this key.
    pub fn curve(&self) -> EcCurve {
        match self {
            Self::P256(_) => EcCurve::P256,
            Self::P384(_) => EcCurve::P384,
            Self::Secp256k1(_) => EcCurve::Secp256k1,
            Self::P521(_) => EcCurve::P521,
        }
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> EcdsaVerifyingKey {
        match self {
            Self::P256(k) => EcdsaVerifyingKey::P256(*k.verifying_key()),
            Self::P384(k) => EcdsaVerifyingKey::P384(*k.verifying_key()),
            Self::Secp256k1(k) => EcdsaVerifyingKey::Secp256k1(*k.verifying_key()),
            Self::P521(k) => EcdsaVerifyingKey::P521(*k.verifying_key()),
        }
    }

    /// Signs a precomputed digest; DER (ASN.1 `ECDSA-Sig-Value`) output.
    /// Randomized (not RFC 6979) so that re-signing yields a new signature.
    pub fn sign_digest_der(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let bad = |_| Error::InvalidArgument("ECDSA signing failed".into());
        Ok(match self {
            Self::P256(k) => {
                let s: p256::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, digest).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
            Self::P384(k) => {
                let s: p384::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, digest).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
            Self::Secp256k1(k) => {
                let s: k256::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, digest).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
            Self::P521(k) => {
                // Signing goes through p521's wrapper (the generic key has
                // no randomized prehash signer on this curve).
                let k = p521::ecdsa::SigningKey::from(k.clone());
                let s: p521::ecdsa::Signature =
                    k.sign_prehash_with_rng(&mut OsRng, digest).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
        })
    }

    /// Signs a digest and returns a DER signature of exactly
    /// [`EcCurve::static_der_signature_len`] bytes, as the AWS Encryption
    /// SDK does for message footers.
    pub fn sign_digest_static_der(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let target = self.curve().static_der_signature_len();
        match self {
            Self::P256(k) => sign_static!(k, digest, target, p256::ecdsa::Signature),
            Self::P384(k) => sign_static!(k, digest, target, p384::ecdsa::Signature),
            Self::Secp256k1(k) => sign_static!(k, digest, target, k256::ecdsa::Signature),
            Self::P521(k) => {
                let k = p521::ecdsa::SigningKey::from(k.clone());
                sign_static!(k, digest, target, p521::ecdsa::Signature)
            }
        }
    }
}

/// An ECDSA public key on P-256, P-384, P-521 or secp256k1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EcdsaVerifyingKey {
    /// P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::VerifyingKey),
    /// P-521.
    P521(ecdsa::VerifyingKey<p521::NistP521>),
}

impl EcdsaVerifyingKey {
    /// Parses a SEC 1 point (compressed or uncompressed) on `curve`.
    pub fn from_sec1(curve: EcCurve, bytes: &[u8]) -> Result<Self> {
        let bad = |_| invalid_key("not a valid EC point");
        Ok(match curve {
            EcCurve::P256 => {
                Self::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            EcCurve::P384 => {
                Self::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            EcCurve::Secp256k1 => {
                Self::Secp256k1(k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            EcCurve::P521 => Self::P521(ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?),
        })
    }

    /// Parses a DER SubjectPublicKeyInfo of either curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::P384(k));
        }
        if let Ok(k) = k256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(Self::Secp256k1(k));
        }
        ecdsa::VerifyingKey::<p521::NistP521>::from_public_key_der(der)
            .map(Self::P521)
            .map_err(|_| invalid_key("not a P-256, P-384, secp256k1 or P-521 SubjectPublicKeyInfo"))
    }

    /// The curve of this key.
    pub fn curve(&self) -> EcCurve {
        match self {
            Self::P256(_) => EcCurve::P256,
            Self::P384(_) => EcCurve::P384,
            Self::Secp256k1(_) => EcCurve::Secp256k1,
            Self::P521(_) => EcCurve::P521,
        }
    }

    /// The SEC 1 compressed encoding of the point.
    pub fn to_compressed(&self) -> Vec<u8> {
        match self {
            Self::P256(k) => k.to_encoded_point(true).as_bytes().to_vec(),
            Self::P384(k) => k.to_encoded_point(true).as_bytes().to_vec(),
            Self::Secp256k1(k) => k.to_encoded_point(true).as_bytes().to_vec(),
            Self::P521(k) => k.to_encoded_point(true).as_bytes().to_vec(),
        }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        match self {
            Self::P256(k) => k.to_public_key_der(),
            Self::P384(k) => k.to_public_key_der(),
            Self::Secp256k1(k) => k.to_public_key_der(),
            Self::P521(k) => k.to_public_key_der(),
        }
        .map(|d| d.as_bytes().to_vec())
        .map_err(|_| invalid_key("cannot encode EC public key"))
    }

    /// Verifies a strict-DER signature over a precomputed digest.
    pub fn verify_digest_der(&self, digest: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::P256(k) => verify_prehash(k, digest, p256::ecdsa::Signature::from_der(sig)),
            Self::P384(k) => verify_prehash(k, digest, p384::ecdsa::Signature::from_der(sig)),
            Self::Secp256k1(k) => {
                verify_prehash(k, digest, k256::ecdsa::Signature::from_der(sig).map(low_s))
            }
            Self::P521(k) => verify_prehash(k, digest, p521::ecdsa::Signature::from_der(sig)),
        }
    }

    /// Verifies a fixed-size (r || s, IEEE P1363) signature over a digest.
    pub fn verify_digest_fixed(&self, digest: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::P256(k) => verify_prehash(k, digest, p256::ecdsa::Signature::from_slice(sig)),
            Self::P384(k) => verify_prehash(k, digest, p384::ecdsa::Signature::from_slice(sig)),
            Self::Secp256k1(k) => verify_prehash(
                k,
                digest,
                k256::ecdsa::Signature::from_slice(sig).map(low_s),
            ),
            Self::P521(k) => verify_prehash(k, digest, p521::ecdsa::Signature::from_slice(sig)),
        }
    }
}

/// `sig` with `s` in the lower half of the group order: k256 verifies only
/// that form (Bitcoin's rule), ECDSA (and OpenSSL, AWS-LC, AWS KMS) accepts
/// both `s` and `n - s`, which verify alike.
fn low_s(sig: k256::ecdsa::Signature) -> k256::ecdsa::Signature {
    sig.normalize_s().unwrap_or(sig)
}

/// Whether `sig` decoded and verifies over `digest` under `key`.
fn verify_prehash<S, E>(
    key: &impl PrehashVerifier<S>,
    digest: &[u8],
    sig: std::result::Result<S, E>,
) -> bool {
    sig.is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
}

// ------------------------------------------------------------------- ECDH --

/// An ECDH private key on P-256, P-384 or P-521, parsed once (the crates'
/// secret keys wipe themselves on drop) and used for any number of
/// agreements.
pub struct EcdhPrivateKey {
    key: EcdhScalar,
    public: Vec<u8>,
}

enum EcdhScalar {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

crate::secret::debug_hiding_secrets!(EcdhPrivateKey(..));

impl EcdhPrivateKey {
    /// The key of a big-endian scalar exactly the field's length.
    pub fn from_scalar(curve: EcCurve, scalar: &[u8]) -> Result<Self> {
        use p256::elliptic_curve::sec1::ToEncodedPoint as _;
        let bad_key = || invalid_key("not a private key on the curve");
        macro_rules! make {
            ($c:ident, $v:ident) => {{
                let sk = $c::SecretKey::from_slice(scalar).map_err(|_| bad_key())?;
                let public = sk.public_key().to_encoded_point(false).as_bytes().to_vec();
                EcdhPrivateKey {
                    key: EcdhScalar::$v(sk),
                    public,
                }
            }};
        }
        Ok(match curve {
            EcCurve::P256 => make!(p256, P256),
            EcCurve::P384 => make!(p384, P384),
            EcCurve::P521 => make!(p521, P521),
            EcCurve::Secp256k1 => {
                return Err(Error::Unsupported(
                    "ECDH on secp256k1 (AWS KMS allows key agreement on the NIST curves only)"
                        .into(),
                ))
            }
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
        macro_rules! agree {
            ($c:ident, $sk:expr, $name:literal) => {{
                let pk = $c::PublicKey::from_sec1_bytes(peer_point).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "the peer's public key is not a point on {}",
                        $name
                    ))
                })?;
                let shared = $c::ecdh::diffie_hellman($sk.to_nonzero_scalar(), pk.as_affine());
                SecretBytes::from_slice(shared.raw_secret_bytes())
            }};
        }
        match &self.key {
            EcdhScalar::P256(sk) => agree!(p256, sk, "P256"),
            EcdhScalar::P384(sk) => agree!(p384, sk, "P384"),
            EcdhScalar::P521(sk) => agree!(p521, sk, "P521"),
        }
    }
}

// ---------------------------------------------------------------- Ed25519 --

/// An Ed25519 key pair (ed25519-dalek; its key wipes itself on drop).
pub struct Ed25519KeyPair {
    key: ed25519_dalek::SigningKey,
    public: [u8; 32],
}

crate::secret::debug_hiding_secrets!(Ed25519KeyPair(..));

impl Ed25519KeyPair {
    /// The key pair of a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self> {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = key.verifying_key().to_bytes();
        Ok(Ed25519KeyPair { key, public })
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes().to_vec())
    }
}

/// RFC 8032 verification: ed25519-dalek's `verify` (S must be below the
/// group order; the cofactorless equation, as AWS-LC).
pub fn ed25519_verify(public: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    use ed25519_dalek::Verifier as _;
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    ed25519_dalek::VerifyingKey::from_bytes(public).is_ok_and(|k| k.verify(message, &sig).is_ok())
}

// ----------------------------------------------------------------- ML-DSA --

/// The operating system's generator, as ml-dsa's hedged signing asks for it
/// (rand_core 0.10).
struct OsRng10;

impl ml_dsa::signature::rand_core::TryRng for OsRng10 {
    type Error = Error;
    fn try_next_u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        fill_random(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        fill_random(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
        fill_random(dst)
    }
}

impl ml_dsa::signature::rand_core::TryCryptoRng for OsRng10 {}

/// μ as ml-dsa takes it.
type Mu = ml_dsa::common::array::Array<u8, ml_dsa::common::typenum::U64>;

/// One ml-dsa key of any parameter set.
enum MlDsaKey {
    P44(Box<ml_dsa::SigningKey<ml_dsa::MlDsa44>>),
    P65(Box<ml_dsa::SigningKey<ml_dsa::MlDsa65>>),
    P87(Box<ml_dsa::SigningKey<ml_dsa::MlDsa87>>),
}

/// Runs `$body` with `$k` bound to the key of whichever parameter set.
macro_rules! with_mldsa_key {
    ($key:expr, $k:ident => $body:expr) => {
        match $key {
            MlDsaKey::P44($k) => $body,
            MlDsaKey::P65($k) => $body,
            MlDsaKey::P87($k) => $body,
        }
    };
}

/// An ML-DSA key pair (ml-dsa; its keys wipe themselves on drop).
pub struct MlDsaKeyPair {
    key: MlDsaKey,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(MlDsaKeyPair(..));

impl MlDsaKeyPair {
    /// The key pair of a 32-byte seed.
    pub fn from_seed(params: MlDsaParams, seed: &[u8; 32]) -> Result<Self> {
        let mut xi = ml_dsa::Seed::from(*seed);
        let key = match params {
            MlDsaParams::MlDsa44 => MlDsaKey::P44(Box::new(ml_dsa::SigningKey::from_seed(&xi))),
            MlDsaParams::MlDsa65 => MlDsaKey::P65(Box::new(ml_dsa::SigningKey::from_seed(&xi))),
            MlDsaParams::MlDsa87 => MlDsaKey::P87(Box::new(ml_dsa::SigningKey::from_seed(&xi))),
        };
        zeroize::Zeroize::zeroize(xi.as_mut_slice());
        let public = with_mldsa_key!(&key, k => ml_dsa::signature::Keypair::verifying_key(&**k).encode().to_vec());
        Ok(MlDsaKeyPair { key, public })
    }

    /// The raw public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The expanded private key (FIPS 204 skEncode), in secret memory.
    #[allow(deprecated)] // the expanded form is read only to compare it
    pub fn expanded_private_key(&self) -> Result<SecretBytes> {
        with_mldsa_key!(&self.key, k => {
            let mut e = k.expanded_key().to_expanded();
            let out = SecretBytes::from_slice(&e);
            zeroize::Zeroize::zeroize(e.as_mut_slice());
            out
        })
    }

    /// The hedged signature of an external μ.
    pub fn sign_mu(&self, mu: &[u8; 64]) -> Result<Vec<u8>> {
        let mu = Mu::from(*mu);
        with_mldsa_key!(&self.key, k => k
            .expanded_key()
            .sign_mu_randomized(&mu, &mut OsRng10)
            .map(|s| s.encode().to_vec())
            .map_err(|_| Error::InvalidArgument("ML-DSA signing failed".into())))
    }
}

/// Whether `sig` is a valid signature of μ under the raw public key.
pub fn mldsa_verify_mu(params: MlDsaParams, public: &[u8], mu: &[u8; 64], sig: &[u8]) -> bool {
    fn verify<P: ml_dsa::MlDsaParams>(public: &[u8], mu: &Mu, sig: &[u8]) -> bool {
        let (Ok(pk), Ok(sig)) = (
            ml_dsa::EncodedVerifyingKey::<P>::try_from(public),
            ml_dsa::EncodedSignature::<P>::try_from(sig),
        ) else {
            return false;
        };
        ml_dsa::Signature::<P>::decode(&sig)
            .is_some_and(|sig| ml_dsa::VerifyingKey::<P>::decode(&pk).verify_mu(mu, &sig))
    }
    let mu = Mu::from(*mu);
    match params {
        MlDsaParams::MlDsa44 => verify::<ml_dsa::MlDsa44>(public, &mu, sig),
        MlDsaParams::MlDsa65 => verify::<ml_dsa::MlDsa65>(public, &mu, sig),
        MlDsaParams::MlDsa87 => verify::<ml_dsa::MlDsa87>(public, &mu, sig),
    }
}

// -------------------------------------------------------------------- RSA --

/// An RSA private key. Private operations are always blinded.
pub struct RsaPrivateKey(rsa::RsaPrivateKey);

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey({} bits)", self.0.size() * 8)
    }
}

/// The largest RSA modulus sealbox accepts.
const MAX_RSA_BITS: usize = 16384;

fn check_rsa_size(bits: usize) -> Result<()> {
    super::check_rsa_size(bits, MAX_RSA_BITS, "")
}

impl RsaPrivateKey {
    crate::crypto::rsa_private_key_decoders!();

    fn from_pkcs1(pkcs1: &[u8], bad: impl Fn() -> Error) -> Result<Self> {
        let k = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1).map_err(|_| bad())?;
        Self::checked(k)
    }

    fn checked(k: rsa::RsaPrivateKey) -> Result<Self> {
        check_rsa_size(k.size() * 8)?;
        k.validate()
            .map_err(|_| invalid_key("inconsistent RSA private key"))?;
        Ok(RsaPrivateKey(k))
    }

    /// Generates a new key of `bits` bits (public exponent 65537).
    pub fn generate(bits: usize) -> Result<Self> {
        check_rsa_size(bits)?;
        rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map(RsaPrivateKey)
            .map_err(|_| invalid_key("RSA key generation failed"))
    }

    /// Encodes the key as PKCS#8 DER, in secret memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        let doc = self
            .0
            .to_pkcs8_der()
            .map_err(|_| invalid_key("cannot encode RSA key"))?;
        SecretBytes::from_slice(doc.as_bytes())
    }

    /// The public half.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.to_public_key())
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// Blinded decryption. Every failure is `DecryptionFailed`.
    pub fn decrypt(&self, padding: RsaPadding, ciphertext: &[u8]) -> Result<SecretBytes> {
        // The ciphertext must be exactly as long as the modulus: the `rsa`
        // crate checks this for OAEP but not for PKCS#1 v1.5, which would
        // otherwise accept zero bytes prepended to a ciphertext
        // (CVE-2020-14967 class; Wycheproof rsa_pkcs1_* tc 33).
        if ciphertext.len() != self.0.size() {
            return Err(Error::DecryptionFailed);
        }
        if let RsaPadding::Oaep(h) = padding {
            super::check_oaep_hash(h)?;
        }
        let mut pt = match padding {
            RsaPadding::Pkcs1v15 => self.0.decrypt_blinded(&mut OsRng, rsa::Pkcs1v15Encrypt, ciphertext),
            RsaPadding::Oaep(h) => with_digest!(h, D => self.0.decrypt_blinded(&mut OsRng, rsa::Oaep::new::<D>(), ciphertext)),
        }
        .map_err(|_| Error::DecryptionFailed)?;
        let out = SecretBytes::from_slice(&pt);
        pt.zeroize();
        out
    }

    /// Blinded signature over a precomputed digest.
    pub fn sign_digest(&self, scheme: RsaSignatureScheme, digest: &[u8]) -> Result<Vec<u8>> {
        use rsa::signature::SignatureEncoding;
        let bad = |_| Error::InvalidArgument("RSA signing failed (digest length?)".into());
        match scheme {
            RsaSignatureScheme::Pss(h) => with_digest!(h, D => {
                let k = rsa::pss::BlindedSigningKey::<D>::new(self.0.clone());
                k.sign_prehash_with_rng(&mut OsRng, digest).map(|s| s.to_vec()).map_err(bad)
            }),
            RsaSignatureScheme::Pkcs1v15(h) => with_digest!(h, D => {
                // With an RNG the private operation is blinded.
                self.0.sign_with_rng(&mut OsRng, rsa::Pkcs1v15Sign::new::<D>(), digest)
                    .map_err(|_| Error::InvalidArgument("RSA signing failed (digest length?)".into()))
            }),
        }
    }
}

/// An RSA public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublicKey(rsa::RsaPublicKey);

impl RsaPublicKey {
    crate::crypto::rsa_public_key_decoders!();

    /// Decodes an RSAPublicKey up to [`MAX_RSA_BITS`] (the `rsa` crate's own
    /// decoders refuse moduli over 4096 bits, which broke public keys of the
    /// 8192-bit private keys sealbox accepts).
    fn from_pkcs1(pkcs1: &[u8], bad: impl Fn() -> Error) -> Result<Self> {
        let k = rsa::pkcs1::RsaPublicKey::try_from(pkcs1).map_err(|_| bad())?;
        let n = rsa::BigUint::from_bytes_be(k.modulus.as_bytes());
        let e = rsa::BigUint::from_bytes_be(k.public_exponent.as_bytes());
        let k = rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).map_err(|_| bad())?;
        check_rsa_size(k.size() * 8)?;
        Ok(RsaPublicKey(k))
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        self.0
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|_| invalid_key("cannot encode RSA public key"))
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// Encrypts a short message (a data key).
    pub fn encrypt(&self, padding: RsaPadding, plaintext: &[u8]) -> Result<Vec<u8>> {
        let bad =
            |_| Error::InvalidArgument("message too long for this RSA key and padding".into());
        if let RsaPadding::Oaep(h) = padding {
            super::check_oaep_hash(h)?;
        }
        match padding {
            RsaPadding::Pkcs1v15 => self
                .0
                .encrypt(&mut OsRng, rsa::Pkcs1v15Encrypt, plaintext)
                .map_err(bad),
            RsaPadding::Oaep(h) => {
                with_digest!(h, D => self.0.encrypt(&mut OsRng, rsa::Oaep::new::<D>(), plaintext).map_err(bad))
            }
        }
    }

    /// Verifies a signature over a precomputed digest.
    pub fn verify_digest(&self, scheme: RsaSignatureScheme, digest: &[u8], sig: &[u8]) -> bool {
        match scheme {
            RsaSignatureScheme::Pss(h) => with_digest!(h, D => {
                let Ok(s) = rsa::pss::Signature::try_from(sig) else { return false };
                rsa::pss::VerifyingKey::<D>::new(self.0.clone()).verify_prehash(digest, &s).is_ok()
            }),
            RsaSignatureScheme::Pkcs1v15(h) => with_digest!(h, D => {
                let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) else { return false };
                rsa::pkcs1v15::VerifyingKey::<D>::new(self.0.clone()).verify_prehash(digest, &s).is_ok()
            }),
        }
    }
}

// ------------------------------------------------- ML-KEM, X25519, SHA-3 --

/// An ML-KEM-768 decapsulation key (FIPS 203; ml-kem, which wipes it on
/// drop) and its 1184-byte encapsulation key.
pub struct MlKem768DecapsulationKey {
    key: ml_kem::ml_kem_768::DecapsulationKey,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(MlKem768DecapsulationKey(..));

impl MlKem768DecapsulationKey {
    /// The key of a 64-byte seed d ‖ z (FIPS 203 ML-KEM.KeyGen_internal).
    pub fn from_seed(seed: &[u8; 64]) -> Result<Self> {
        let mut seed_copy = ml_kem::Seed::from(*seed);
        let key = ml_kem::ml_kem_768::DecapsulationKey::from_seed(seed_copy);
        zeroize::Zeroize::zeroize(seed_copy.as_mut_slice());
        let public = ml_kem::KeyExport::to_bytes(key.encapsulation_key()).to_vec();
        Ok(MlKem768DecapsulationKey { key, public })
    }

    /// The 1184-byte encapsulation key.
    pub fn encapsulation_key(&self) -> &[u8] {
        &self.public
    }

    /// The 32-byte shared secret of a 1088-byte ciphertext (a wrong
    /// ciphertext gives an unrelated secret: implicit rejection).
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes> {
        use ml_kem::Decapsulate as _;
        let ct = ml_kem::Ciphertext::<ml_kem::MlKem768>::try_from(ciphertext)
            .map_err(|_| Error::DecryptionFailed)?;
        let mut ss = self.key.decapsulate(&ct);
        let out = SecretBytes::from_slice(&ss);
        zeroize::Zeroize::zeroize(ss.as_mut_slice());
        out
    }
}

/// ML-KEM-768 encapsulation to a 1184-byte encapsulation key (checked as
/// FIPS 203 section 7.2 asks): (1088-byte ciphertext, 32-byte secret).
pub fn mlkem768_encapsulate(encapsulation_key: &[u8]) -> Result<(Vec<u8>, SecretBytes)> {
    let bad = || invalid_key("not an ML-KEM-768 encapsulation key");
    let bytes = ml_kem::Key::<ml_kem::ml_kem_768::EncapsulationKey>::try_from(encapsulation_key)
        .map_err(|_| bad())?;
    let ek = ml_kem::ml_kem_768::EncapsulationKey::new(&bytes).map_err(|_| bad())?;
    // FIPS 203 ML-KEM.Encaps: m is 32 bytes from the approved RNG.
    let mut m = SecretBytes::random(32)?;
    let mut m_arr = ml_kem::B32::try_from(m.as_bytes()).map_err(|_| Error::Rng)?;
    let (ct, mut ss) = ek.encapsulate_deterministic(&m_arr);
    zeroize::Zeroize::zeroize(m.as_mut_bytes());
    zeroize::Zeroize::zeroize(m_arr.as_mut_slice());
    let out = SecretBytes::from_slice(&ss);
    zeroize::Zeroize::zeroize(ss.as_mut_slice());
    Ok((ct.to_vec(), out?))
}

/// The X25519 public key of a 32-byte secret (RFC 7748; clamped).
pub fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32]> {
    let secret = x25519_dalek::StaticSecret::from(*secret);
    Ok(x25519_dalek::PublicKey::from(&secret).to_bytes())
}

/// X25519 of a 32-byte secret and a peer's 32-byte public key; an all-zero
/// result (a low-order peer point) is refused, as AWS-LC refuses it.
pub fn x25519(secret: &[u8; 32], peer: &[u8]) -> Result<SecretBytes> {
    let peer: [u8; 32] = peer
        .try_into()
        .map_err(|_| Error::InvalidArgument("an X25519 public key is 32 bytes".into()))?;
    let secret = x25519_dalek::StaticSecret::from(*secret);
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
    if !shared.was_contributory() {
        return Err(Error::InvalidArgument(
            "the X25519 public key is of low order".into(),
        ));
    }
    SecretBytes::from_slice(shared.as_bytes())
}

/// A SHAKE256 computation fed in pieces.
#[allow(missing_debug_implementations)] // its state is the input's
pub struct Shake256(shake::Shake256);

impl Shake256 {
    /// A new computation.
    pub fn new() -> Result<Self> {
        Ok(Shake256(shake::Shake256::default()))
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        use shake::Update as _;
        self.0.update(data);
        Ok(())
    }

    /// As many output bytes as `out` holds.
    pub fn finish(self, out: &mut [u8]) -> Result<()> {
        use shake::{ExtendableOutput as _, XofReader as _};
        self.0.finalize_xof().read(out);
        Ok(())
    }
}

/// SHA3-256 of the concatenation of `parts`.
pub fn sha3_256(parts: &[&[u8]]) -> [u8; 32] {
    use sha3::Digest as _;
    let mut h = sha3::Sha3_256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}
