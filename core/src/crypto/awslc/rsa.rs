//! RSA through aws-lc-rs, and AWS-LC's own RSA signature calls (`ffi`).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa as lc_rsa;
use zeroize::Zeroizing;

use super::ffi;
use crate::crypto::der;
use crate::crypto::{self, invalid_key, HashAlg, RsaPadding, RsaSignatureScheme};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// The largest RSA modulus this provider accepts (aws-lc-rs's bound; the
/// rustcrypto provider goes to 16384).
const MAX_RSA_BITS: usize = 8192;

fn check_rsa_size(bits: usize) -> Result<()> {
    crypto::check_rsa_size(bits, MAX_RSA_BITS, " with the aws-lc provider")
}

fn oaep_alg(h: HashAlg) -> Result<&'static lc_rsa::OaepAlgorithm> {
    crypto::check_oaep_hash(h)?;
    Ok(match h {
        HashAlg::Sha1 => &lc_rsa::OAEP_SHA1_MGF1SHA1,
        HashAlg::Sha256 => &lc_rsa::OAEP_SHA256_MGF1SHA256,
        HashAlg::Sha384 => &lc_rsa::OAEP_SHA384_MGF1SHA384,
        HashAlg::Sha512 => &lc_rsa::OAEP_SHA512_MGF1SHA512,
        // Refused by check_oaep_hash.
        HashAlg::Sha224 => return Err(Error::Unsupported("RSA-OAEP with SHA-224".into())),
    })
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
    crate::crypto::rsa_private_key_decoders!();

    fn from_pkcs1(pkcs1: &[u8], bad: impl Fn() -> Error) -> Result<Self> {
        // AWS-LC's parser checks the key's consistency (RSA_check_key).
        let signing = ffi::Rsa::private_from_pkcs1(pkcs1).ok_or_else(&bad)?;
        check_rsa_size(signing.bits())?;
        let pkcs8 = der::rsa_pkcs8(pkcs1);
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
            RsaPadding::Oaep(h) => {
                let alg = oaep_alg(h)?;
                lc_rsa::OaepPrivateDecryptingKey::new(self.decrypting.clone())
                    .and_then(|d| d.decrypt(alg, ciphertext, &mut buf[..], None))
            }
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
    crate::crypto::rsa_public_key_decoders!();

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
            RsaPadding::Oaep(h) => {
                let alg = oaep_alg(h)?;
                lc_rsa::OaepPublicEncryptingKey::new(self.encrypting.clone())
                    .and_then(|e| e.encrypt(alg, plaintext, &mut out, None).map(|c| c.len()))
            }
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
