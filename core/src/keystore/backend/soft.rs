//! The soft backend: key material sealed with AES-256-GCM under a 32-byte
//! root key that the application supplies. The embedded default.
//!
//! Sealed handle: `0x01` ‖ IV (12) ‖ AES-256-GCM(material) ‖ tag (16), with
//! AAD `"sealbox/soft/v1"` ‖ key ID ‖ version (u32) ‖ spec name, so sealed
//! material cannot be moved to another key, version or spec. The sealing,
//! audit and check keys are derived from the root key with HKDF-SHA-256 and
//! distinct labels; the root key itself is used for nothing else.

use crate::sync::Mutex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::crypto::{
    self, AesGcmKey, EcCurve, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey,
    Ed25519SigningKey, HashAlg, MlDsaSigningKey, RsaPrivateKey,
};
use crate::error::{Error, Result};
use crate::keystore::types::EncryptionAlgorithm as EncAlg;
use crate::keystore::types::{KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm};
use crate::secret::SecretBytes;

use super::{check_material, Backend, Gcm, KeyRef, VersionRef};

const HANDLE_VERSION: u8 = 1;
const SEAL_LABEL: &[u8] = b"sealbox/soft/v1";

/// The 32-byte secret that seals a soft key store.
pub struct RootKey(SecretBytes);

crate::secret::debug_hiding_secrets!(RootKey(..));

fn decode_key_text(text: &[u8]) -> Result<SecretBytes> {
    use base64::Engine;
    let t = std::str::from_utf8(text)
        .map_err(|_| Error::InvalidKey("root key is not 32 raw bytes, hex or base64".into()))?;
    let t = t.trim();
    let mut raw = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect::<Vec<u8>>()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| Error::InvalidKey("root key is not 32 raw bytes, hex or base64".into()))?
    };
    let r = if raw.len() == 32 {
        SecretBytes::from_slice(&raw)
    } else {
        Err(Error::InvalidKey(format!(
            "a root key is 32 bytes, not {}",
            raw.len()
        )))
    };
    zeroize::Zeroize::zeroize(&mut raw);
    r
}

impl RootKey {
    /// A root key from 32 bytes the application holds (e.g. from its own
    /// secret manager).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::InvalidKey(format!(
                "a root key is 32 bytes, not {}",
                bytes.len()
            )));
        }
        Ok(RootKey(SecretBytes::from_slice(bytes)?))
    }

    /// A fresh random root key.
    pub fn generate() -> Result<Self> {
        Ok(RootKey(SecretBytes::random(32)?))
    }

    /// Reads a root key file: 32 raw bytes, or 64 hex digits, or base64.
    /// Refuses a file that the group or others can read or write.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = crate::secret::read_private_file(path.as_ref(), |why| {
            Error::InvalidKey(format!("root key file: {why}"))
        })?;
        Ok(RootKey(if bytes.len() == 32 {
            bytes
        } else {
            decode_key_text(bytes.as_bytes())?
        }))
    }

    /// Reads a root key (hex or base64) from an environment variable.
    pub fn from_env(var: &str) -> Result<Self> {
        let mut v = std::env::var(var)
            .map_err(|_| Error::InvalidKey(format!("environment variable {var} is not set")))?;
        let r = decode_key_text(v.as_bytes());
        zeroize::Zeroize::zeroize(&mut v);
        Ok(RootKey(r?))
    }

    /// Writes the key (hex) to a new file with mode 0600; fails if it exists.
    pub fn write_new_file(&self, path: impl AsRef<Path>) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path.as_ref())
            .map_err(|e| Error::Io(format!("{}: {e}", path.as_ref().display())))?;
        let mut hex: String = self
            .0
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hex.push('\n');
        let r = f.write_all(hex.as_bytes()).and_then(|_| f.sync_all());
        zeroize::Zeroize::zeroize(&mut hex);
        r.map_err(|e| Error::Io(e.to_string()))
    }

    fn derive(&self, label: &str) -> Result<SecretBytes> {
        let mut k = SecretBytes::zeroed(32)?;
        crypto::hkdf(
            HashAlg::Sha256,
            None,
            self.0.as_bytes(),
            label.as_bytes(),
            k.as_mut_bytes(),
        )?;
        Ok(k)
    }
}

enum Parsed {
    Rsa(RsaPrivateKey),
    Ec(EcdsaSigningKey),
    /// A KEY_AGREEMENT key, parsed for ECDH (and its SubjectPublicKeyInfo).
    Ecdh(EcdhPrivateKey, Vec<u8>),
    Ed25519(Ed25519SigningKey),
    MlDsa(MlDsaSigningKey),
}

/// The soft backend.
pub struct SoftBackend {
    sealing_key: AesGcmKey,
    audit_key: SecretBytes,
    check: Vec<u8>,
    // Parsing an RSA key (and checking it) costs far more than using it;
    // parsed private keys are kept per handle.
    parsed: Mutex<HashMap<Vec<u8>, Arc<Parsed>>>,
}

crate::secret::debug_hiding_secrets!(SoftBackend(..));

impl SoftBackend {
    /// A backend sealed under `root`.
    pub fn new(root: &RootKey) -> Result<Self> {
        let sealing = root.derive("sealbox/soft/sealing-key/v1")?;
        let check_key = root.derive("sealbox/soft/check-key/v1")?;
        let check = crypto::hmac(
            HashAlg::Sha256,
            check_key.as_bytes(),
            b"sealbox root key check value",
        )?;
        Ok(SoftBackend {
            sealing_key: AesGcmKey::new(sealing.as_bytes())?,
            audit_key: root.derive("sealbox/soft/audit-key/v1")?,
            check,
            parsed: Mutex::new(HashMap::new()),
        })
    }

    fn aad(key: &KeyRef<'_>) -> Vec<u8> {
        let mut aad = SEAL_LABEL.to_vec();
        aad.extend_from_slice(key.key_id.as_bytes());
        aad.extend_from_slice(&key.version.to_be_bytes());
        aad.extend_from_slice(key.spec.as_str().as_bytes());
        aad
    }

    fn seal_material(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        let mut iv = [0u8; 12];
        crypto::fill_random(&mut iv)?;
        let mut out = Vec::with_capacity(1 + 12 + material.len() + 16);
        out.push(HANDLE_VERSION);
        out.extend_from_slice(&iv);
        let start = out.len();
        out.extend_from_slice(material.as_bytes());
        let tag = self
            .sealing_key
            .seal_in_place(&iv, &Self::aad(&key), &mut out[start..])?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unseal(&self, v: VersionRef<'_>) -> Result<SecretBytes> {
        let (key, handle) = (v.key, v.handle);
        let corrupt = || {
            Error::Storage(format!(
                "sealed material of {} v{} is corrupt or belongs elsewhere",
                key.key_id, key.version
            ))
        };
        if handle.len() < 1 + 12 + 16 || handle[0] != HANDLE_VERSION {
            return Err(corrupt());
        }
        let iv: [u8; 12] = handle[1..13].try_into().map_err(|_| corrupt())?;
        let (ct, tag) = handle[13..].split_at(handle.len() - 13 - 16);
        let mut m = SecretBytes::from_slice(ct)?;
        self.sealing_key
            .open_in_place(&iv, &Self::aad(&key), m.as_mut_bytes(), tag)
            .map_err(|_| corrupt())?;
        Ok(m)
    }

    fn parsed(&self, v: VersionRef<'_>) -> Result<Arc<Parsed>> {
        let (key, handle) = (v.key, v.handle);
        let mut cache = self
            .parsed
            .lock()
            .map_err(|_| Error::Storage("poisoned cache".into()))?;
        if let Some(p) = cache.get(handle) {
            return Ok(p.clone());
        }
        let der = self.unseal(v)?;
        let p = Arc::new(if key.spec.rsa_bits().is_some() {
            Parsed::Rsa(RsaPrivateKey::from_der(der.as_bytes())?)
        } else if key.spec.ec_curve().is_some() && key.usage == KeyUsage::KeyAgreement {
            let (curve, scalar) = crypto::pkcs8_ec_scalar(der.as_bytes())?;
            let k = EcdhPrivateKey::from_scalar(
                curve,
                crypto::fixed_scalar(curve, scalar)?.as_bytes(),
            )?;
            let spki = EcdsaVerifyingKey::from_sec1(curve, k.public_point())?.to_spki_der()?;
            Parsed::Ecdh(k, spki)
        } else if key.spec.ec_curve().is_some() {
            Parsed::Ec(EcdsaSigningKey::from_pkcs8_der(der.as_bytes())?)
        } else if key.spec.is_ed25519() {
            Parsed::Ed25519(Ed25519SigningKey::from_pkcs8_der(der.as_bytes())?)
        } else if key.spec.mldsa().is_some() {
            Parsed::MlDsa(MlDsaSigningKey::from_pkcs8_der(der.as_bytes())?)
        } else {
            return Err(Error::InvalidKeyUsage(format!(
                "{} is not an asymmetric key",
                key.spec
            )));
        });
        cache.insert(handle.to_vec(), p.clone());
        Ok(p)
    }

    fn symmetric(&self, v: VersionRef<'_>) -> Result<SecretBytes> {
        if v.key.spec.secret_len().is_none() {
            return Err(Error::InvalidKeyUsage(format!(
                "{} is not a symmetric key",
                v.key.spec
            )));
        }
        self.unseal(v)
    }
}

impl Backend for SoftBackend {
    fn kind(&self) -> &'static str {
        "soft"
    }

    fn check_value(&self) -> Result<Vec<u8>> {
        Ok(self.check.clone())
    }

    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>> {
        let material = match key.spec {
            KeySpec::Aes256
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512 => SecretBytes::random(key.spec.secret_len().unwrap_or(32))?,
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                RsaPrivateKey::generate(key.spec.rsa_bits().unwrap_or(2048))?.to_pkcs8_der()?
            }
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1 => {
                let curve = key.spec.ec_curve().unwrap_or(EcCurve::P256);
                EcdsaSigningKey::generate(curve)?.to_pkcs8_der()?
            }
            KeySpec::EccNistEdwards25519 => Ed25519SigningKey::generate()?.to_pkcs8_der()?,
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                let params = key.spec.mldsa().ok_or_else(|| {
                    Error::InvalidKeyUsage(format!("{} is not an ML-DSA spec", key.spec))
                })?;
                MlDsaSigningKey::generate(params)?.to_pkcs8_der()?
            }
        };
        self.seal_material(key, &material)
    }

    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        check_material(key.spec, material)?;
        if key.spec.is_ed25519() {
            // Kept as the RFC 8410 v1 encoding of the seed, whatever
            // encoding (v2, attributes) came in (docs/FORMAT.md).
            let v1 = Ed25519SigningKey::from_pkcs8_der(material.as_bytes())?.to_pkcs8_der()?;
            return self.seal_material(key, &v1);
        }
        if key.spec.mldsa().is_some() {
            // Kept as the RFC 9881 seed form, whichever form came in.
            let seed = MlDsaSigningKey::from_pkcs8_der(material.as_bytes())?.to_pkcs8_der()?;
            return self.seal_material(key, &seed);
        }
        self.seal_material(key, material)
    }

    fn destroy(&self, v: VersionRef<'_>) -> Result<()> {
        // The sealed bytes live only in the metadata store, which deletes
        // them; drop any parsed copy here.
        if let Ok(mut cache) = self.parsed.lock() {
            cache.remove(v.handle);
        }
        Ok(())
    }

    fn seal(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<Vec<u8>> {
        let k = AesGcmKey::new(self.symmetric(v)?.as_bytes())?;
        let mut out = gcm.data.to_vec();
        let tag = k.seal_in_place(gcm.iv, gcm.aad, &mut out)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn open(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<SecretBytes> {
        if gcm.data.len() < 16 {
            return Err(Error::DecryptionFailed);
        }
        let k = AesGcmKey::new(self.symmetric(v)?.as_bytes())?;
        let (ct, tag) = gcm.data.split_at(gcm.data.len() - 16);
        let mut pt = SecretBytes::from_slice(ct)?;
        k.open_in_place(gcm.iv, gcm.aad, pt.as_mut_bytes(), tag)?;
        Ok(pt)
    }

    fn sign_digest(&self, v: VersionRef<'_>, alg: SigningAlgorithm, d: &[u8]) -> Result<Vec<u8>> {
        match (&*self.parsed(v)?, alg.rsa_scheme()) {
            (Parsed::Ec(k), None) => k.sign_digest_der(d),
            // The key store passes ML-DSA's external μ as the digest.
            (Parsed::MlDsa(k), None) if alg == SigningAlgorithm::MlDsaShake256 => k.sign_mu(d),
            (Parsed::Rsa(k), Some(scheme)) => k.sign_digest(scheme, d),
            _ => Err(Error::InvalidKeyUsage(format!(
                "{alg} does not fit {}",
                v.key.spec
            ))),
        }
    }

    fn sign_message(&self, v: VersionRef<'_>, alg: SigningAlgorithm, m: &[u8]) -> Result<Vec<u8>> {
        match &*self.parsed(v)? {
            Parsed::Ed25519(k) if alg == SigningAlgorithm::Ed25519Sha512 => k.sign(m),
            Parsed::MlDsa(k) if alg == SigningAlgorithm::MlDsaShake256 => k.sign(m),
            _ => Err(Error::InvalidKeyUsage(format!(
                "{alg} does not fit {}",
                v.key.spec
            ))),
        }
    }

    fn derive_shared_secret(&self, v: VersionRef<'_>, peer_spki: &[u8]) -> Result<SecretBytes> {
        if v.key.spec.ec_curve().is_none() {
            return Err(Error::InvalidKeyUsage(format!(
                "{} keys cannot derive shared secrets",
                v.key.spec
            )));
        }
        match &*self.parsed(v)? {
            Parsed::Ecdh(k, _) => crypto::ecdh_with_checked(k, peer_spki),
            _ => Err(Error::InvalidKeyUsage(format!(
                "{} v{} is not a KEY_AGREEMENT key",
                v.key.key_id, v.key.version
            ))),
        }
    }

    fn public_key_der(&self, v: VersionRef<'_>) -> Result<Vec<u8>> {
        match &*self.parsed(v)? {
            Parsed::Ec(k) => k.verifying_key().to_spki_der(),
            Parsed::Ecdh(_, spki) => Ok(spki.clone()),
            Parsed::Ed25519(k) => Ok(k.verifying_key().to_spki_der()),
            Parsed::MlDsa(k) => Ok(k.verifying_key().to_spki_der()),
            Parsed::Rsa(k) => k.public_key().to_spki_der(),
        }
    }

    fn rsa_decrypt(&self, v: VersionRef<'_>, alg: EncAlg, ct: &[u8]) -> Result<SecretBytes> {
        match &*self.parsed(v)? {
            Parsed::Rsa(k) => k.decrypt(alg.padding(), ct),
            Parsed::Ec(_) | Parsed::Ecdh(..) | Parsed::Ed25519(_) | Parsed::MlDsa(_) => Err(
                Error::InvalidKeyUsage(format!("{} cannot decrypt", v.key.spec)),
            ),
        }
    }

    fn mac(&self, v: VersionRef<'_>, alg: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        crypto::hmac(alg.hash(), self.symmetric(v)?.as_bytes(), message)
    }

    fn random(&self, len: usize) -> Result<Vec<u8>> {
        crypto::random_vec(len)
    }

    fn audit_mac(&self, data: &[u8]) -> Result<Vec<u8>> {
        crypto::hmac(HashAlg::Sha256, self.audit_key.as_bytes(), data)
    }

    fn prf_blocks(&self, v: VersionRef<'_>, blocks: &[u8; 32]) -> Result<SecretBytes> {
        let k = self.symmetric(v)?;
        let mut out = SecretBytes::from_slice(blocks)?;
        crypto::aes256_prf_blocks(k.as_bytes(), out.as_mut_bytes())?;
        Ok(out)
    }
}
