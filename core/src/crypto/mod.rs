//! The crypto seam: the only module that names primitive crates.
//!
//! Everything else in sealbox calls the small API below. A provider is a
//! sub-module that implements the same names (`AesGcmKey`,
//! `hkdf_expand_each`, `hmac`, `Hasher`, `EcdsaSigningKey`,
//! `EcdsaVerifyingKey`, `Ed25519KeyPair`, `ed25519_verify`, `MlDsaKeyPair`,
//! `mldsa_verify_mu`, `RsaPrivateKey`,
//! `RsaPublicKey`, `fill_random` (served through `random.rs`'s reserve),
//! `fips_mode`; `hkdf` and `digest` are derived from them here); exactly one
//! is compiled in, chosen by a Cargo feature, the way rustls swaps ring for
//! aws-lc-rs.
//!
//! Providers must give byte-identical results wherever the algorithm is
//! deterministic (AES-GCM, HKDF, HMAC, digests, RSA public-key checks).
//!
//! * `aws-lc` (the default): AWS-LC through aws-lc-rs (`awslc/`); with
//!   the `fips` feature, its FIPS 140-3 validated build.
//! * `rustcrypto`: the pure-Rust RustCrypto crates (`rustcrypto.rs`), for
//!   builds without a C compiler.
//!
//! What both providers share is written once, here and in `der.rs` (the
//! one strict DER/PKCS#8/SubjectPublicKeyInfo reader and writer, which the
//! PKCS#11 backend uses too).
//!
//! `tests/differential.rs` runs both side by side (feature `differential`,
//! which compiles the provider that is not selected as `crypto::other`).

use crate::error::{Error, Result};

// Exactly one provider is selected. (So `cargo test --all-features` does
// not build: select a provider, e.g. `--features differential`.)
#[cfg(all(feature = "aws-lc", feature = "rustcrypto"))]
compile_error!(
    "sealbox: enable exactly one crypto provider: `aws-lc` (the default) or \
     `rustcrypto` (with --no-default-features)"
);
#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!("sealbox needs a crypto provider: enable `aws-lc` (the default) or `rustcrypto`");

/// The functions every provider gets from its primitives in the same way:
/// written once, here, and instantiated beside the provider's own names
/// (for the selected provider and for `other`).
macro_rules! derived_from_provider {
    () => {
        /// HKDF (RFC 5869) extract-and-expand into `out`. `salt = None` means
        /// a string of zeros as long as the hash, as the RFC says.
        pub fn hkdf(
            alg: HashAlg,
            salt: Option<&[u8]>,
            ikm: &[u8],
            info: &[u8],
            out: &mut [u8],
        ) -> Result<()> {
            hkdf_expand_each(alg, salt, ikm, &mut [(info, out)])
        }

        /// ECDH (SEC 1 section 3.3.1) of a big-endian `scalar` of the field's
        /// length and a peer's SEC 1 point on `curve`: the x-coordinate, in
        /// secret memory (once; [`EcdhPrivateKey`] keeps a parsed key).
        pub fn ecdh(
            curve: $crate::crypto::EcCurve,
            scalar: &[u8],
            peer_point: &[u8],
        ) -> Result<$crate::secret::SecretBytes> {
            EcdhPrivateKey::from_scalar(curve, scalar)?.agree(peer_point)
        }

        /// Computes the digest of `data`.
        pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
            let mut h = Hasher::new(alg);
            h.update(data);
            h.finalize()
        }

        /// SHAKE256 of the concatenation of `parts`, as many bytes as
        /// `out` holds.
        pub fn shake256(parts: &[&[u8]], out: &mut [u8]) -> Result<()> {
            let mut h = Shake256::new()?;
            for p in parts {
                h.update(p)?;
            }
            h.finish(out)
        }
    };
}

/// `from_pem` and `from_der` of an RSA key type, written once for both
/// providers over the provider's `from_pkcs1(pkcs1, bad)`: the PKCS#8 or
/// SubjectPublicKeyInfo wrapping is removed by [`der`], strictly.
macro_rules! rsa_key_decoders {
    ($kind:ident, $unwrap:ident, $pem_doc:literal, $der_doc:literal, $der_err:literal) => {
        #[doc = $pem_doc]
        pub fn from_pem(pem: &str) -> $crate::error::Result<Self> {
            use $crate::crypto::der::{rsa_key_from_pem, RsaPem};
            rsa_key_from_pem(pem, RsaPem::$kind, |pkcs1| {
                Self::from_pkcs1(pkcs1, || RsaPem::$kind.malformed())
            })
        }

        #[doc = $der_doc]
        pub fn from_der(der: &[u8]) -> $crate::error::Result<Self> {
            let pkcs1 = $crate::crypto::der::$unwrap(der).unwrap_or(der);
            Self::from_pkcs1(pkcs1, || $crate::crypto::invalid_key($der_err))
        }
    };
}

/// The `Debug` (which shows no key) and the public methods of `AesGcmKey`, written once for both providers over
/// the provider's `expand` (a key of a length checked here), `seal_detached`
/// and `seal_detached_to` (`None` when the input is too long),
/// `open_detached` and `open_detached_to` (`false` on any mismatch; the
/// `_to` forms read one buffer and write another of the same length): the
/// length checks, the errors, and the wiping of a buffer that failed to
/// seal or authenticate are the same whichever provider is compiled in.
macro_rules! aes_gcm_key_api {
    () => {
        $crate::secret::debug_hiding_secrets!(AesGcmKey(..));

        impl AesGcmKey {
            /// Expands a 16, 24 or 32-byte key.
            pub fn new(key: &[u8]) -> $crate::error::Result<Self> {
                match key.len() {
                    16 | 24 | 32 => {
                        Self::expand(key).ok_or_else(|| $crate::crypto::invalid_key("bad AES key"))
                    }
                    n => Err($crate::crypto::invalid_key(format!(
                        "AES keys are 16, 24 or 32 bytes, not {n}"
                    ))),
                }
            }

            /// Encrypts `buf` in place and returns the tag.
            pub fn seal_in_place(
                &self,
                iv: &[u8; $crate::crypto::GCM_IV_LEN],
                aad: &[u8],
                buf: &mut [u8],
            ) -> $crate::error::Result<$crate::crypto::GcmTag> {
                self.seal_detached(iv, aad, buf).ok_or_else(|| {
                    $crate::error::Error::InvalidArgument("AES-GCM input too long".into())
                })
            }

            /// Authenticates and decrypts `buf` in place. On failure `buf` holds no
            /// plaintext (it is zeroed) and the error is `DecryptionFailed`.
            pub fn open_in_place(
                &self,
                iv: &[u8; $crate::crypto::GCM_IV_LEN],
                aad: &[u8],
                buf: &mut [u8],
                tag: &[u8],
            ) -> $crate::error::Result<()> {
                if let Ok(tag) = tag.try_into() {
                    if self.open_detached(iv, aad, buf, tag) {
                        return Ok(());
                    }
                }
                zeroize::Zeroize::zeroize(buf);
                Err($crate::error::Error::DecryptionFailed)
            }

            /// Encrypts `plaintext` into `out`, which must be as long (and
            /// is written whole), and returns the tag: the plaintext is read
            /// once, not copied first.
            pub fn seal_to(
                &self,
                iv: &[u8; $crate::crypto::GCM_IV_LEN],
                aad: &[u8],
                plaintext: &[u8],
                out: &mut [std::mem::MaybeUninit<u8>],
            ) -> $crate::error::Result<$crate::crypto::GcmTag> {
                if plaintext.len() != out.len() {
                    return Err($crate::error::Error::InvalidArgument(
                        "AES-GCM: the output is not as long as the input".into(),
                    ));
                }
                match self.seal_detached_to(iv, aad, plaintext, out) {
                    Some(tag) => Ok(tag),
                    None => {
                        // A provider that copies first may have left
                        // plaintext in `out`.
                        zeroize::Zeroize::zeroize(out);
                        Err($crate::error::Error::InvalidArgument(
                            "AES-GCM input too long".into(),
                        ))
                    }
                }
            }

            /// Authenticates `ciphertext` and decrypts it into `out`, which
            /// must be as long, and returns `out` as the plaintext. On
            /// failure `out` is all zeros (no unauthenticated plaintext) and
            /// the error is `DecryptionFailed`. AES-GCM reads `ciphertext`
            /// more than once: it must not change during the call (memory
            /// another thread or process may write is copied first and
            /// opened in place, as the message decryptor does for
            /// `InputMemory::MayChange`).
            pub fn open_to<'o>(
                &self,
                iv: &[u8; $crate::crypto::GCM_IV_LEN],
                aad: &[u8],
                ciphertext: &[u8],
                tag: &[u8],
                out: &'o mut [std::mem::MaybeUninit<u8>],
            ) -> $crate::error::Result<&'o mut [u8]> {
                if ciphertext.len() != out.len() {
                    return Err($crate::error::Error::InvalidArgument(
                        "AES-GCM: the output is not as long as the input".into(),
                    ));
                }
                if let Ok(tag) = tag.try_into() {
                    if self.open_detached_to(iv, aad, ciphertext, tag, out) {
                        // SAFETY: a successful open wrote every byte of `out`.
                        return Ok(unsafe {
                            &mut *(out as *mut [std::mem::MaybeUninit<u8>] as *mut [u8])
                        });
                    }
                }
                zeroize::Zeroize::zeroize(out);
                Err($crate::error::Error::DecryptionFailed)
            }
        }
    };
}

/// Copies `src` into `dst` (of its length) and returns `dst`, now
/// initialized, as bytes.
pub(crate) fn init_from<'a>(dst: &'a mut [std::mem::MaybeUninit<u8>], src: &[u8]) -> &'a mut [u8] {
    assert_eq!(dst.len(), src.len(), "init_from: lengths differ");
    // SAFETY: `src.len()` bytes are copied into `dst`, which has that
    // length and does not overlap `src` (one is borrowed mutably); every
    // byte of `dst` is then initialized, so it may be viewed as `[u8]`.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len());
        &mut *(dst as *mut [std::mem::MaybeUninit<u8>] as *mut [u8])
    }
}

/// [`rsa_key_decoders`] of `RsaPrivateKey`.
macro_rules! rsa_private_key_decoders {
    () => {
        $crate::crypto::rsa_key_decoders!(
            Private,
            pkcs8_rsa_private_key,
            "Parses a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).",
            "Parses a DER private key (PKCS#8 or PKCS#1).",
            "not a DER RSA private key"
        );
    };
}

/// [`rsa_key_decoders`] of `RsaPublicKey`.
macro_rules! rsa_public_key_decoders {
    () => {
        $crate::crypto::rsa_key_decoders!(
            Public,
            spki_rsa_public_key,
            "Parses a PEM public key (SubjectPublicKeyInfo `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).",
            "Parses a DER public key (SubjectPublicKeyInfo or PKCS#1). Only rsaEncryption keys: an id-RSASSA-PSS SubjectPublicKeyInfo is refused.",
            "not a DER RSA public key"
        );
    };
}
pub(crate) use {
    aes_gcm_key_api, rsa_key_decoders, rsa_private_key_decoders, rsa_public_key_decoders,
};

// A provider module is compiled when it is selected, or, for the
// differential tests only, as `other` beside the selected one.
#[cfg(any(feature = "aws-lc", feature = "differential"))]
mod awslc;
#[cfg(any(feature = "rustcrypto", feature = "differential"))]
mod rustcrypto;

mod cms;
pub(crate) mod der;
mod ed25519;
mod mldsa;
mod random;
mod xwing;

pub use cms::{envelope_for_recipient, open_envelope, RecipientKey, MIN_RECIPIENT_BITS};
pub use ed25519::{
    Ed25519SigningKey, Ed25519VerifyingKey, ED25519_PUBLIC_LEN, ED25519_SEED_LEN,
    ED25519_SIGNATURE_LEN,
};
pub use mldsa::{
    MlDsaParams, MlDsaSigningKey, MlDsaVerifyingKey, MLDSA_MAX_CONTEXT, MLDSA_MU_LEN,
    MLDSA_SEED_LEN,
};
pub use random::fill_random;
pub(crate) use random::RandomReserve;
pub use xwing::{
    xwing_encapsulate, XWingDecapsulationKey, XWING_CIPHERTEXT_LEN, XWING_PUBLIC_LEN,
    XWING_SEED_LEN,
};

#[cfg(feature = "aws-lc")]
use awslc::fill_random as provider_fill_random;
#[cfg(feature = "aws-lc")]
pub use awslc::{
    aes256_cbc_decrypt, aes256_cbc_encrypt, aes256_prf_blocks, ed25519_verify, fips_mode,
    hkdf_expand_each, hmac, mldsa_verify_mu, mlkem768_encapsulate, sha3_256, x25519, x25519_public,
    AesGcmKey, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey, Ed25519KeyPair, Hasher,
    MlDsaKeyPair, MlKem768DecapsulationKey, RsaPrivateKey, RsaPublicKey, Shake256,
};
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc")))]
use rustcrypto::fill_random as provider_fill_random;
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc")))]
pub use rustcrypto::{
    aes256_cbc_decrypt, aes256_cbc_encrypt, aes256_prf_blocks, ed25519_verify, fips_mode,
    hkdf_expand_each, hmac, mldsa_verify_mu, mlkem768_encapsulate, sha3_256, x25519, x25519_public,
    AesGcmKey, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey, Ed25519KeyPair, Hasher,
    MlDsaKeyPair, MlKem768DecapsulationKey, RsaPrivateKey, RsaPublicKey, Shake256,
};

/// Name of the compiled-in provider, for diagnostics and benchmarks.
#[cfg(feature = "aws-lc")]
pub const PROVIDER: &str = if cfg!(feature = "fips") {
    "aws-lc (FIPS)"
} else {
    "aws-lc"
};
/// Name of the compiled-in provider, for diagnostics and benchmarks.
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc")))]
pub const PROVIDER: &str = "rustcrypto";

/// The provider that is *not* selected, for differential tests only
/// (feature `differential`): the same API, so that tests can feed one
/// provider's output to the other. Never part of a product build.
#[cfg(feature = "differential")]
pub mod other {
    #[cfg(not(feature = "aws-lc"))]
    pub use super::awslc::{
        aes256_cbc_decrypt, aes256_cbc_encrypt, aes256_prf_blocks, ed25519_verify, fill_random,
        fips_mode, hkdf_expand_each, hmac, mldsa_verify_mu, mlkem768_encapsulate, sha3_256, x25519,
        x25519_public, AesGcmKey, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey,
        Ed25519KeyPair, Hasher, MlDsaKeyPair, MlKem768DecapsulationKey, RsaPrivateKey,
        RsaPublicKey, Shake256,
    };
    #[cfg(feature = "aws-lc")]
    pub use super::rustcrypto::{
        aes256_cbc_decrypt, aes256_cbc_encrypt, aes256_prf_blocks, ed25519_verify, fill_random,
        fips_mode, hkdf_expand_each, hmac, mldsa_verify_mu, mlkem768_encapsulate, sha3_256, x25519,
        x25519_public, AesGcmKey, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey,
        Ed25519KeyPair, Hasher, MlDsaKeyPair, MlKem768DecapsulationKey, RsaPrivateKey,
        RsaPublicKey, Shake256,
    };

    /// Name of this provider.
    #[cfg(not(feature = "aws-lc"))]
    pub const PROVIDER: &str = "aws-lc";
    /// Name of this provider.
    #[cfg(feature = "aws-lc")]
    pub const PROVIDER: &str = "rustcrypto";

    use super::HashAlg;
    use crate::error::Result;
    derived_from_provider!();
}

/// Length in bytes of every AES-GCM nonce sealbox uses.
pub const GCM_IV_LEN: usize = 12;
/// Length in bytes of every AES-GCM tag sealbox uses.
pub const GCM_TAG_LEN: usize = 16;
/// An AES-GCM tag.
pub type GcmTag = [u8; GCM_TAG_LEN];

/// Hash functions used by HKDF, HMAC, signatures and RSA-OAEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1: only for RSA-OAEP (as the AWS Encryption SDK allows it).
    Sha1,
    /// SHA-224: for HMAC (AWS KMS's HMAC_224 keys) and digests; RSA-OAEP
    /// refuses it in both providers, and the FIPS build's HKDF too.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

/// The elliptic curves sealbox signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// secp256k1 (SEC 2; the curve of Bitcoin and Ethereum).
    Secp256k1,
    /// NIST P-521 (secp521r1).
    P521,
}

impl EcCurve {
    /// Every curve, in the order parsers try them.
    pub const ALL: [EcCurve; 4] = [
        EcCurve::P256,
        EcCurve::P384,
        EcCurve::Secp256k1,
        EcCurve::P521,
    ];

    /// Size of a field element / scalar in bytes.
    pub const fn field_len(self) -> usize {
        match self {
            EcCurve::P256 | EcCurve::Secp256k1 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }

    /// The hash ECDSA pairs with the curve (AWS KMS's signing algorithm
    /// for keys on it).
    pub const fn hash(self) -> HashAlg {
        match self {
            EcCurve::P256 | EcCurve::Secp256k1 => HashAlg::Sha256,
            EcCurve::P384 => HashAlg::Sha384,
            EcCurve::P521 => HashAlg::Sha512,
        }
    }

    /// Length of the DER signature the AWS Encryption SDK writes for this
    /// curve: one of r, s has its top bit set, the other not.
    pub const fn static_der_signature_len(self) -> usize {
        match self {
            EcCurve::P256 | EcCurve::Secp256k1 => 71,
            EcCurve::P384 => 103,
            // No suite signs with P-521: the longest DER signature (r and s
            // of 66 bytes each).
            EcCurve::P521 => 139,
        }
    }
}

/// RSA encryption paddings. OAEP uses MGF1 with the same hash and an empty
/// label, as the AWS Encryption SDK and AWS KMS do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// PKCS#1 v1.5 encryption padding (legacy; kept for compatibility).
    Pkcs1v15,
    /// OAEP with the given hash for both the label hash and MGF1.
    Oaep(HashAlg),
}

/// RSA signature schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaSignatureScheme {
    /// RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash.
    Pss(HashAlg),
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15(HashAlg),
}

derived_from_provider!();

/// ECDH between an EC private key (PKCS#8) and a peer's public key
/// (SubjectPublicKeyInfo) on the same NIST curve: the shared secret, the
/// x-coordinate of the product (what AWS KMS's DeriveSharedSecret returns;
/// apply a KDF before using it as a key).
pub fn ecdh_derive(private_pkcs8: &[u8], peer_spki: &[u8]) -> Result<crate::secret::SecretBytes> {
    let (curve, scalar) = pkcs8_ec_scalar(private_pkcs8)?;
    ecdh_spki(curve, scalar, peer_spki)
}

/// ECDH between a parsed key and a peer key [`ecdh_peer_spki`] has already
/// checked on the key's curve (the key store checks every peer key before
/// a backend sees it): the point is not decoded and checked a second time
/// (the provider still refuses a point that is not on the curve).
pub(crate) fn ecdh_with_checked(
    key: &EcdhPrivateKey,
    checked_peer_spki: &[u8],
) -> Result<crate::secret::SecretBytes> {
    let (_, point) = der::spki_ec_point(checked_peer_spki)
        .map_err(|e| Error::InvalidArgument(format!("the peer's public key: {e}")))?;
    key.agree(point)
}

/// The curve and scalar of a PKCS#8 EC private key.
pub(crate) fn pkcs8_ec_scalar(private_pkcs8: &[u8]) -> Result<(EcCurve, &[u8])> {
    der::pkcs8_ec_private_key(private_pkcs8)
        .map_err(|e| invalid_key(format!("not a PKCS#8 EC private key: {e}")))
}

/// An RFC 5915 scalar in exactly the field's length: a shorter encoding is
/// padded, leading zeros beyond the length are dropped, a longer value is
/// refused.
pub(crate) fn fixed_scalar(curve: EcCurve, scalar: &[u8]) -> Result<crate::secret::SecretBytes> {
    let n = curve.field_len();
    let skip = scalar.len().saturating_sub(n);
    if scalar[..skip].iter().any(|&b| b != 0) {
        return Err(invalid_key("EC private key longer than the field"));
    }
    let scalar = &scalar[skip..];
    let mut fixed = crate::secret::SecretBytes::zeroed(n)?;
    fixed.as_mut_bytes()[n - scalar.len()..].copy_from_slice(scalar);
    Ok(fixed)
}

/// A peer's public key for ECDH on `curve`, checked: a SubjectPublicKeyInfo
/// (strict DER) on that named curve (explicit curve parameters are
/// refused) whose point, compressed or uncompressed, lies on the curve.
/// Returned re-encoded with an uncompressed point; `InvalidArgument`
/// otherwise. The key store checks every peer key with this, and
/// [`ecdh_spki`] (which the Wycheproof suite runs) does too.
pub fn ecdh_peer_spki(curve: EcCurve, peer_spki: &[u8]) -> Result<Vec<u8>> {
    let (peer_curve, point) = der::spki_ec_point(peer_spki).map_err(|e| {
        Error::InvalidArgument(format!(
            "the peer's public key is not an EC SubjectPublicKeyInfo on a named curve: {e}"
        ))
    })?;
    if peer_curve != curve {
        return Err(Error::InvalidArgument(format!(
            "the peer's public key is on {peer_curve:?}, the key on {curve:?}"
        )));
    }
    EcdsaVerifyingKey::from_sec1(curve, point)
        .map_err(|_| {
            Error::InvalidArgument(format!("the peer's public key is not a point on {curve:?}"))
        })?
        .to_spki_der()
}

/// ECDH between the private `scalar` (big-endian) on `curve` and a peer's
/// SubjectPublicKeyInfo, checked by [`ecdh_peer_spki`].
pub fn ecdh_spki(
    curve: EcCurve,
    scalar: &[u8],
    peer_spki: &[u8],
) -> Result<crate::secret::SecretBytes> {
    ecdh_scalar(curve, scalar, &ecdh_peer_spki(curve, peer_spki)?)
}

/// ECDH between `scalar` on `curve` and a peer key checked by
/// [`ecdh_peer_spki`].
fn ecdh_scalar(
    curve: EcCurve,
    scalar: &[u8],
    checked_peer_spki: &[u8],
) -> Result<crate::secret::SecretBytes> {
    let key = EcdhPrivateKey::from_scalar(curve, fixed_scalar(curve, scalar)?.as_bytes())?;
    ecdh_with_checked(&key, checked_peer_spki)
}

/// RSA-OAEP takes SHA-1, SHA-256, SHA-384 or SHA-512: SHA-224 (kept for
/// HMAC_224 keys) is refused by both providers alike.
pub(crate) fn check_oaep_hash(h: HashAlg) -> Result<()> {
    if h == HashAlg::Sha224 {
        return Err(Error::InvalidArgument(
            "RSA-OAEP with SHA-224 is not supported".into(),
        ));
    }
    Ok(())
}

/// Constant-time comparison of two byte strings (the lengths are public).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Verifies an HMAC tag in constant time.
pub fn hmac_verify(alg: HashAlg, key: &[u8], data: &[u8], tag: &[u8]) -> Result<bool> {
    let expected = hmac(alg, key, data)?;
    Ok(ct_eq(&expected, tag))
}

/// Returns `n` random bytes (not for key material: use `SecretBytes::random`).
pub fn random_vec(n: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    fill_random(&mut v)?;
    Ok(v)
}

/// The smallest RSA modulus sealbox accepts.
const MIN_RSA_BITS: usize = 2048;

/// Refuses RSA moduli outside `MIN_RSA_BITS..=max` (`max` is the
/// provider's bound; `qualifier` names the provider when it matters).
fn check_rsa_size(bits: usize, max: usize, qualifier: &str) -> Result<()> {
    if !(MIN_RSA_BITS..=max).contains(&bits) {
        return Err(invalid_key(format!(
            "RSA keys must be {MIN_RSA_BITS}..{max} bits{qualifier}, not {bits}"
        )));
    }
    Ok(())
}

pub(crate) fn invalid_key(msg: impl Into<String>) -> Error {
    Error::InvalidKey(msg.into())
}

#[cfg(test)]
mod tests {
    /// `make fips` runs this: the FIPS build must really run AWS-LC in FIPS
    /// mode, and no other build may claim to.
    #[test]
    fn fips_mode_matches_the_build() {
        assert_eq!(super::fips_mode(), cfg!(feature = "fips"));
        let expected = if cfg!(feature = "fips") {
            "aws-lc (FIPS)"
        } else if cfg!(feature = "aws-lc") {
            "aws-lc"
        } else {
            "rustcrypto"
        };
        assert_eq!(super::PROVIDER, expected);
    }
}
