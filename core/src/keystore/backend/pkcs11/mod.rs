//! The PKCS#11 backend: master keys generated and kept inside an HSM, every
//! operation performed by it, through the `cryptoki` crate.
//!
//! - One process-wide context per module, initialised once with OS locking.
//! - A bounded pool of logged-in read-write sessions: a session is used by
//!   one thread at a time and returned; a login is paid once per session.
//! - Keys are persistent token objects with `CKA_SENSITIVE` true and
//!   `CKA_EXTRACTABLE` false, labelled `sealbox:<key id>:v<version>`, with
//!   `CKA_ID` = key ID (16 bytes) ‖ version (4 bytes, big-endian): that ID is
//!   the handle the key store persists.
//! - What the module cannot do is `Error::UnsupportedByHsm` naming the
//!   mechanism; there is no silent software fallback. (Public-key
//!   operations, which need no secret, run in process from the exported
//!   public key: Verify, and RSA encryption.)
//!
//! The token is found by label (or serial number), never by slot number:
//! slot numbers change when tokens are added.
//!
//! Files by concern: `config` (module, token, PIN), `session` (context,
//! session pool, object lookup), `templates` (key attributes), `objects`
//! (generate, import, destroy), `gcm` (AES-GCM and the IV a module may
//! write back), `errors` (PKCS#11 return values as sealbox errors); the
//! operations on keys are here.

mod config;
mod errors;
mod gcm;
mod objects;
mod session;
mod templates;

use crate::sync::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::Arc;

use cryptoki::context::Pkcs11;
use cryptoki::error::RvError;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::rsa::{PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::slot::Slot;

pub use self::config::{Pin, Pkcs11Config, TokenSelector, DEFAULT_MAX_SESSIONS, MODULE_ENV};
use self::errors::{ck, decrypt_err, mech_err, rv_of, stale_handle};
use self::gcm::{gcm_encrypt, iv_kept};
use self::objects::AUDIT_KEY_ID;
use self::session::{context, Pool};
use self::templates::hash_mech;
use super::{Backend, Gcm, KeyRef, VersionRef};
use crate::crypto::{self, der, EcdsaVerifyingKey, HashAlg, RsaPublicKey};
use crate::error::{Error, Result};
use crate::keystore::types::{EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm};
use crate::secret::SecretBytes;

/// The HSM backend.
pub struct Pkcs11Backend {
    ctx: Arc<Pkcs11>,
    slot: Slot,
    pin: Pin,
    token: String,
    serial: String,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    handles: Mutex<HashMap<(Vec<u8>, u64), ObjectHandle>>,
}

impl std::fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("token", &self.token)
            .field("max_sessions", &self.max)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Backend {
    /// Loads the module, finds the token, logs in once and checks the PIN.
    pub fn open(config: Pkcs11Config) -> Result<Self> {
        let ctx = context(&config.module)?;
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| ck("C_GetSlotList", e))?;
        let mut found = None;
        for slot in slots {
            let info = ctx
                .get_token_info(slot)
                .map_err(|e| ck("C_GetTokenInfo", e))?;
            if config
                .token
                .matches(info.label().trim_end(), info.serial_number().trim_end())
            {
                found = Some((
                    slot,
                    info.label().trim_end().to_owned(),
                    info.serial_number().trim_end().to_owned(),
                ));
                break;
            }
        }
        let (slot, token, serial) = found.ok_or_else(|| {
            Error::InvalidArgument(format!(
                "no PKCS#11 token with {} in {}",
                config.token,
                config.module.display()
            ))
        })?;
        let b = Pkcs11Backend {
            ctx,
            slot,
            pin: config.pin,
            token,
            serial,
            max: config.max_sessions.get(),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            handles: Mutex::new(HashMap::new()),
        };
        // Logs in (a wrong PIN fails here, before anything is touched) and
        // checks that the module seals and opens AES-GCM under the IV given.
        b.gcm_self_test()?;
        Ok(b)
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token
    }

    /// Sessions currently open (for tests and monitoring).
    pub fn open_sessions(&self) -> usize {
        self.pool.lock().map(|p| p.open).unwrap_or(0)
    }
}

impl Backend for Pkcs11Backend {
    fn kind(&self) -> &'static str {
        "pkcs11"
    }

    fn check_value(&self) -> Result<Vec<u8>> {
        self.audit_mac(b"sealbox token check value")
    }

    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>> {
        self.generate_object(key)
    }

    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        self.import_object(key, material)
    }

    fn destroy(&self, v: VersionRef<'_>) -> Result<()> {
        self.destroy_objects(v.handle)
    }

    fn discard(&self, key: KeyRef<'_>) -> Result<()> {
        self.discard_object(key)
    }

    fn seal(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<Vec<u8>> {
        let sealed = self.with_object(
            v.handle,
            ObjectClass::SECRET_KEY,
            |s, obj| gcm_encrypt(gcm.iv, gcm.aad, |m| s.encrypt(m, obj, gcm.data)),
            mech_err("CKM_AES_GCM", "C_Encrypt"),
        )?;
        iv_kept(gcm.iv, sealed)
    }

    fn open(&self, v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<SecretBytes> {
        if gcm.data.len() < 16 {
            return Err(Error::DecryptionFailed);
        }
        self.with_object_secret(
            v.handle,
            ObjectClass::SECRET_KEY,
            |s, obj| {
                let mut iv = *gcm.iv;
                let params = GcmParams::new(&mut iv, gcm.aad, 128.into())?;
                s.decrypt(&Mechanism::AesGcm(params), obj, gcm.data)
            },
            // SoftHSM 2.6 reports a GCM tag mismatch as CKR_GENERAL_ERROR.
            decrypt_err(
                "CKM_AES_GCM".into(),
                &[
                    RvError::EncryptedDataInvalid,
                    RvError::EncryptedDataLenRange,
                    RvError::GeneralError,
                ],
            ),
        )
    }

    fn sign_digest(&self, v: VersionRef<'_>, alg: SigningAlgorithm, d: &[u8]) -> Result<Vec<u8>> {
        match alg.rsa_scheme() {
            None => {
                // SoftHSM has no CKM_ECDSA_SHA256: the digest is made in
                // process and signed with CKM_ECDSA, which returns r ‖ s.
                let rs = self.with_object(
                    v.handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::Ecdsa, obj, d),
                    mech_err("CKM_ECDSA", "C_Sign"),
                )?;
                let n = v.key.spec.ec_curve().map_or(32, |c| c.field_len());
                if rs.len() != 2 * n {
                    return Err(Error::Pkcs11 {
                        function: "C_Sign".into(),
                        rv: format!("CKM_ECDSA returned {} bytes", rs.len()),
                    });
                }
                let (r, s) = rs.split_at(n);
                Ok(der::ecdsa_signature_from_scalars(r, s))
            }
            Some(crypto::RsaSignatureScheme::Pss(h)) => {
                let (hash_alg, mgf) = hash_mech(h);
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: (h.output_len() as u64).into(),
                };
                self.with_object(
                    v.handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::RsaPkcsPss(params), obj, d),
                    mech_err("CKM_RSA_PKCS_PSS", "C_Sign"),
                )
            }
            Some(crypto::RsaSignatureScheme::Pkcs1v15(h)) => {
                let info = der::digest_info(h, d);
                self.with_object(
                    v.handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::RsaPkcs, obj, &info),
                    mech_err("CKM_RSA_PKCS", "C_Sign"),
                )
            }
        }
    }

    fn sign_message(&self, v: VersionRef<'_>, alg: SigningAlgorithm, m: &[u8]) -> Result<Vec<u8>> {
        if alg != SigningAlgorithm::Ed25519Sha512 || !v.key.spec.is_ed25519() {
            return Err(Error::InvalidKeyUsage(format!(
                "{alg} does not fit {}",
                v.key.spec
            )));
        }
        // Pure Ed25519: CKM_EDDSA without parameters (PKCS#11 3.0).
        let sig = self.with_object(
            v.handle,
            ObjectClass::PRIVATE_KEY,
            |s, obj| {
                let params = EddsaParams::new(EddsaSignatureScheme::Pure);
                s.sign(&Mechanism::Eddsa(params), obj, m)
            },
            mech_err("CKM_EDDSA", "C_Sign"),
        )?;
        if sig.len() != crypto::ED25519_SIGNATURE_LEN {
            return Err(Error::Pkcs11 {
                function: "C_Sign".into(),
                rv: format!("CKM_EDDSA returned {} bytes", sig.len()),
            });
        }
        Ok(sig)
    }

    fn derive_shared_secret(&self, v: VersionRef<'_>, peer_spki: &[u8]) -> Result<SecretBytes> {
        let Some(curve) = v.key.spec.ec_curve() else {
            return Err(Error::InvalidKeyUsage(format!(
                "{} keys cannot derive shared secrets",
                v.key.spec
            )));
        };
        let (_, point) = der::spki_ec_point(peer_spki)
            .map_err(|e| Error::InvalidArgument(format!("the peer's public key: {e}")))?;
        // CKM_ECDH1_DERIVE with no KDF into a session object (not on the
        // token) that may be read: the shared secret is what the caller
        // asked for. It is read once and destroyed.
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::ValueLen((curve.field_len() as u64).into()),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ];
        self.with_object_secret(
            v.handle,
            ObjectClass::PRIVATE_KEY,
            |s, obj| {
                let params = Ecdh1DeriveParams::new(EcKdf::null(), point);
                let derived = s.derive_key(&Mechanism::Ecdh1Derive(params), obj, &template)?;
                let value = s.get_attributes(derived, &[AttributeType::Value]);
                // Destroyed whatever the read gave; the value is wiped on
                // every path (with_object_secret wipes what it returns).
                let destroyed = s.destroy_object(derived);
                let mut value = zeroize::Zeroizing::new(match value?.pop() {
                    Some(Attribute::Value(v)) => v,
                    _ => Vec::new(),
                });
                destroyed?;
                if value.is_empty() {
                    return Err(cryptoki::error::Error::NotSupported);
                }
                Ok(std::mem::take(&mut *value))
            },
            mech_err("CKM_ECDH1_DERIVE", "C_DeriveKey"),
        )
    }

    fn public_key_der(&self, v: VersionRef<'_>) -> Result<Vec<u8>> {
        if v.key.spec.ec_curve().is_some() || v.key.spec.is_ed25519() {
            let attrs = self.with_object(
                v.handle,
                ObjectClass::PUBLIC_KEY,
                |s, obj| s.get_attributes(obj, &[AttributeType::EcPoint]),
                |e| ck("C_GetAttributeValue", e),
            )?;
            let point = attrs
                .into_iter()
                .find_map(|a| {
                    if let Attribute::EcPoint(p) = a {
                        Some(p)
                    } else {
                        None
                    }
                })
                .ok_or_else(|| Error::Pkcs11 {
                    function: "C_GetAttributeValue".into(),
                    rv: "no CKA_EC_POINT".into(),
                })?;
            // CKA_EC_POINT is a DER OCTET STRING around the point.
            // (Some modules give the bare point.)
            match v.key.spec.ec_curve() {
                Some(curve) => {
                    let raw = der::read_single(der::OCTET_STRING, &point).unwrap_or(&point);
                    EcdsaVerifyingKey::from_sec1(curve, raw)?.to_spki_der()
                }
                None => {
                    // An Edwards point is 32 bytes; a 34-byte value is one
                    // in an OCTET STRING.
                    let raw = if point.len() == crypto::ED25519_PUBLIC_LEN {
                        &point[..]
                    } else {
                        der::read_single(der::OCTET_STRING, &point).unwrap_or(&point)
                    };
                    Ok(crypto::Ed25519VerifyingKey::from_bytes(raw)?.to_spki_der())
                }
            }
        } else {
            let attrs = self.with_object(
                v.handle,
                ObjectClass::PUBLIC_KEY,
                |s, obj| {
                    s.get_attributes(
                        obj,
                        &[AttributeType::Modulus, AttributeType::PublicExponent],
                    )
                },
                |e| ck("C_GetAttributeValue", e),
            )?;
            let (mut n, mut e) = (Vec::new(), Vec::new());
            for a in attrs {
                match a {
                    Attribute::Modulus(m) => n = m,
                    Attribute::PublicExponent(x) => e = x,
                    _ => {}
                }
            }
            let spki = der::rsa_spki(&der::rsa_public_key(&n, &e));
            RsaPublicKey::from_der(&spki)?;
            Ok(spki)
        }
    }

    fn rsa_decrypt(
        &self,
        v: VersionRef<'_>,
        alg: EncryptionAlgorithm,
        ct: &[u8],
    ) -> Result<SecretBytes> {
        let crypto::RsaPadding::Oaep(h) = alg.padding() else {
            return Err(Error::Unsupported(format!("{alg}")));
        };
        let (hash_alg, mgf) = hash_mech(h);
        let name = format!("CKM_RSA_PKCS_OAEP with {h:?}");
        // SoftHSM 2.6 reports an OAEP padding failure as CKR_GENERAL_ERROR.
        let failed = decrypt_err(
            name.clone(),
            &[
                RvError::EncryptedDataInvalid,
                RvError::EncryptedDataLenRange,
                RvError::ArgumentsBad,
                RvError::GeneralError,
            ],
        );
        self.with_object_secret(
            v.handle,
            ObjectClass::PRIVATE_KEY,
            |s, obj| {
                s.decrypt(
                    &Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
                        hash_alg,
                        mgf,
                        PkcsOaepSource::empty(),
                    )),
                    obj,
                    ct,
                )
            },
            |e| match rv_of(&e) {
                // SoftHSM answers CKR_ARGUMENTS_BAD to OAEP with anything but SHA-1.
                Some(RvError::ArgumentsBad) if h != HashAlg::Sha1 => Error::UnsupportedByHsm {
                    mechanism: name.clone(),
                },
                _ => failed(e),
            },
        )
    }

    fn mac(&self, v: VersionRef<'_>, alg: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        let (mech, name) = match alg {
            MacAlgorithm::HmacSha224 => (Mechanism::Sha224Hmac, "CKM_SHA224_HMAC"),
            MacAlgorithm::HmacSha256 => (Mechanism::Sha256Hmac, "CKM_SHA256_HMAC"),
            MacAlgorithm::HmacSha384 => (Mechanism::Sha384Hmac, "CKM_SHA384_HMAC"),
            MacAlgorithm::HmacSha512 => (Mechanism::Sha512Hmac, "CKM_SHA512_HMAC"),
        };
        self.with_object(
            v.handle,
            ObjectClass::SECRET_KEY,
            |s, obj| s.sign(&mech, obj, message),
            mech_err(name, "C_Sign"),
        )
    }

    fn random(&self, len: usize) -> Result<Vec<u8>> {
        let mut lease = self.lease()?;
        let n = u32::try_from(len)
            .map_err(|_| Error::InvalidArgument("too many random bytes".into()))?;
        lease
            .check(lease.s().generate_random_vec(n))
            .map_err(|e| ck("C_GenerateRandom", e))
    }

    fn audit_mac(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut lease = self.lease()?;
        let k = match self.find(&mut lease, AUDIT_KEY_ID, ObjectClass::SECRET_KEY, false) {
            Ok(k) => k,
            Err(Error::KeyNotFound(_)) => {
                // Made under the object-management lock, which comes
                // before a session (see `session`): this one goes back first.
                drop(lease);
                let (l, k) = self.audit_key()?;
                lease = l;
                k
            }
            Err(e) => return Err(e),
        };
        let r = lease.check(lease.s().sign(&Mechanism::Sha256Hmac, k, data));
        match r {
            Err(e) if stale_handle(&e) => {
                let k = self.find(&mut lease, AUDIT_KEY_ID, ObjectClass::SECRET_KEY, true)?;
                lease
                    .check(lease.s().sign(&Mechanism::Sha256Hmac, k, data))
                    .map_err(|e| ck("C_Sign", e))
            }
            r => r.map_err(|e| ck("C_Sign", e)),
        }
    }

    fn prf_blocks(&self, v: VersionRef<'_>, blocks: &[u8; 32]) -> Result<SecretBytes> {
        let mut out = self.with_object(
            v.handle,
            ObjectClass::SECRET_KEY,
            |s, obj| s.encrypt(&Mechanism::AesEcb, obj, blocks),
            mech_err("CKM_AES_ECB", "C_Encrypt"),
        )?;
        let derived = SecretBytes::from_slice(&out);
        zeroize::Zeroize::zeroize(&mut out);
        let derived = derived?;
        if derived.len() != 32 {
            return Err(Error::Pkcs11 {
                function: "C_Encrypt".into(),
                rv: format!("CKM_AES_ECB returned {} bytes for 32", derived.len()),
            });
        }
        Ok(derived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EcCurve;

    #[test]
    fn pkcs8_components_match_the_crypto_layer() {
        let k = crypto::RsaPrivateKey::from_pem(include_str!("../../../../tests/data/rsa2048.pem"))
            .unwrap();
        let pkcs8 = k.to_pkcs8_der().unwrap();
        let c = der::pkcs8_rsa_components(pkcs8.as_bytes()).unwrap();
        let spki = der::rsa_spki(&der::rsa_public_key(c.n, c.e));
        assert_eq!(spki, k.public_key().to_spki_der().unwrap());
        let e = crypto::EcdsaSigningKey::generate(EcCurve::P256).unwrap();
        let ec_pkcs8 = e.to_pkcs8_der().unwrap();
        let (curve, d) = der::pkcs8_ec_private_key(ec_pkcs8.as_bytes()).unwrap();
        assert_eq!((curve, d.len()), (EcCurve::P256, 32));
    }
}
