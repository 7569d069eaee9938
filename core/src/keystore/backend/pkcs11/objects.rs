//! Key objects: generating, importing and destroying them, and the
//! token's audit-chain key. Object creation and destruction are serialised
//! in this process (see `OBJECT_MANAGEMENT`, taken before a session: the
//! lock order in `session`). A version's object is made only after any
//! leftover with its `CKA_ID` is destroyed, and a failed generate/import
//! leaves nothing behind.

use crate::sync::Mutex;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};

use cryptoki::mechanism::aead::GcmParams;

use super::errors::{ck, mech_err};
use super::gcm::{gcm_encrypt, iv_kept};
use super::session::Lease;
use super::templates::{ec_params, pair_templates, secret_template};
use super::Pkcs11Backend;
use crate::crypto::{self, der};
use crate::error::{Error, Result};
use crate::keystore::backend::{check_material, KeyRef};
use crate::keystore::types::{KeySpec, KeyUsage};
use crate::secret::SecretBytes;

const AUDIT_KEY_LABEL: &str = "sealbox:audit-chain-key";
pub(super) const AUDIT_KEY_ID: &[u8] = b"sealbox-audit";
const GCM_CHECK_KEY_LABEL: &str = "sealbox:gcm-check-key";
const GCM_CHECK_KEY_ID: &[u8] = b"sealbox-gcm-check";
/// Serialises object creation and destruction in this process: SoftHSM2's
/// file object store has been seen to fail concurrent C_GenerateKey calls
/// with CKR_GENERAL_ERROR. Key management is rare; crypto stays parallel.
static OBJECT_MANAGEMENT: Mutex<()> = Mutex::new(());

fn object_management() -> Result<crate::sync::MutexGuard<'static, ()>> {
    OBJECT_MANAGEMENT
        .lock()
        .map_err(|_| Error::Storage("object management lock poisoned".into()))
}

/// `CKA_ID` of a key version: key ID (16 bytes) ‖ version (big-endian).
/// Zeroizes the values of the attributes that hold key material.
fn wipe_secret_attributes(template: &mut [Attribute]) {
    use zeroize::Zeroize;
    for a in template {
        match a {
            Attribute::Value(v)
            | Attribute::PrivateExponent(v)
            | Attribute::Prime1(v)
            | Attribute::Prime2(v)
            | Attribute::Exponent1(v)
            | Attribute::Exponent2(v)
            | Attribute::Coefficient(v) => v.zeroize(),
            _ => {}
        }
    }
}

fn object_id(key: &KeyRef<'_>) -> Result<Vec<u8>> {
    let mut id = key.id_bytes()?.to_vec();
    id.extend_from_slice(&key.version.to_be_bytes());
    Ok(id)
}

fn label(key: &KeyRef<'_>) -> Vec<u8> {
    format!("sealbox:{}:v{}", key.key_id, key.version).into_bytes()
}

impl Pkcs11Backend {
    /// Generates the key (pair) of a key version; returns its `CKA_ID`.
    pub(super) fn generate_object(&self, key: KeyRef<'_>) -> Result<Vec<u8>> {
        self.make_object(&key, |lease, id, label| {
            self.generate_with(lease, &key, id, label)
        })
    }

    /// Makes the object(s) of a key version by `make` (given a session, the
    /// `CKA_ID` and the label) under the object-management lock: leftovers
    /// with that `CKA_ID` are destroyed first, and whatever part of a
    /// failed `make` reached the token (a key pair's first half) after.
    fn make_object(
        &self,
        key: &KeyRef<'_>,
        make: impl FnOnce(&mut Lease<'_>, Vec<u8>, Vec<u8>) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let _g = object_management()?;
        let id = object_id(key)?;
        let mut lease = self.lease()?;
        self.destroy_leftovers(&mut lease, &id)?;
        let made = make(&mut lease, id.clone(), label(key));
        if made.is_err() {
            let _ = self.destroy_with(&mut lease, &id);
        }
        made
    }

    fn generate_with(
        &self,
        lease: &mut Lease<'_>,
        key: &KeyRef<'_>,
        id: Vec<u8>,
        label: Vec<u8>,
    ) -> Result<Vec<u8>> {
        match key.spec {
            KeySpec::Aes256 => {
                let t = secret_template(KeyType::AES, 32, id.clone(), label, key.usage);
                lease
                    .check(lease.s().generate_key(&Mechanism::AesKeyGen, &t))
                    .map_err(mech_err("CKM_AES_KEY_GEN", "C_GenerateKey"))?;
            }
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                // HMAC keys are generic secrets of at least the hash length.
                let len = key.spec.secret_len().unwrap_or(32);
                let t = secret_template(KeyType::GENERIC_SECRET, len, id.clone(), label, key.usage);
                lease
                    .check(lease.s().generate_key(&Mechanism::GenericSecretKeyGen, &t))
                    .map_err(mech_err("CKM_GENERIC_SECRET_KEY_GEN", "C_GenerateKey"))?;
            }
            KeySpec::Rsa2048
            | KeySpec::Rsa3072
            | KeySpec::Rsa4096
            | KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519 => {
                let (public, private) = pair_templates(key.spec, key.usage, id.clone(), label);
                let (mech, name) = if key.spec.is_ed25519() {
                    (
                        Mechanism::EccEdwardsKeyPairGen,
                        "CKM_EC_EDWARDS_KEY_PAIR_GEN",
                    )
                } else if key.spec.ec_curve().is_some() {
                    (Mechanism::EccKeyPairGen, "CKM_EC_KEY_PAIR_GEN")
                } else {
                    (Mechanism::RsaPkcsKeyPairGen, "CKM_RSA_PKCS_KEY_PAIR_GEN")
                };
                lease
                    .check(lease.s().generate_key_pair(&mech, &public, &private))
                    .map_err(mech_err(name, "C_GenerateKeyPair"))?;
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                return Err(mldsa_unsupported("CKM_ML_DSA_KEY_PAIR_GEN"))
            }
        }
        Ok(id)
    }

    /// Imports checked material as the key (pair) of a key version.
    pub(super) fn import_object(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        check_material(key.spec, material)?;
        self.make_object(&key, |lease, id, label| {
            self.import_with(lease, &key, material, id, label)
        })
    }

    fn import_with(
        &self,
        lease: &mut Lease<'_>,
        key: &KeyRef<'_>,
        material: &SecretBytes,
        id: Vec<u8>,
        label: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let bad = |e: der::DerError| {
            Error::InvalidKey(format!("could not read the key's PKCS#8 structure: {e}"))
        };
        // Templates that carry key material are wiped once the token has
        // them (cryptoki's attributes are plain vectors).
        let create = |lease: &mut Lease<'_>, mut t: Vec<Attribute>| {
            let r = lease
                .check(lease.s().create_object(&t))
                .map_err(|e| ck("C_CreateObject", e));
            wipe_secret_attributes(&mut t);
            r
        };
        match key.spec {
            KeySpec::Aes256
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512 => {
                let kt = if key.spec == KeySpec::Aes256 {
                    KeyType::AES
                } else {
                    KeyType::GENERIC_SECRET
                };
                let mut t = secret_template(kt, material.len(), id.clone(), label, key.usage);
                t.retain(|a| !matches!(a, Attribute::ValueLen(_)));
                t.push(Attribute::Value(material.as_bytes().to_vec()));
                create(lease, t)?;
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let c = der::pkcs8_rsa_components(material.as_bytes()).map_err(bad)?;
                let (mut public, mut private) =
                    pair_templates(key.spec, key.usage, id.clone(), label);
                public.retain(|a| {
                    !matches!(a, Attribute::ModulusBits(_) | Attribute::PublicExponent(_))
                });
                public.extend([
                    Attribute::Modulus(c.n.to_vec()),
                    Attribute::PublicExponent(c.e.to_vec()),
                ]);
                private.extend([
                    Attribute::Modulus(c.n.to_vec()),
                    Attribute::PublicExponent(c.e.to_vec()),
                    Attribute::PrivateExponent(c.d.to_vec()),
                    Attribute::Prime1(c.p.to_vec()),
                    Attribute::Prime2(c.q.to_vec()),
                    Attribute::Exponent1(c.dp.to_vec()),
                    Attribute::Exponent2(c.dq.to_vec()),
                    Attribute::Coefficient(c.qinv.to_vec()),
                ]);
                create(lease, private)?;
                create(lease, public)?;
            }
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1 => {
                let (curve, d) = der::pkcs8_ec_private_key(material.as_bytes()).map_err(bad)?;
                let spki = crypto::EcdsaSigningKey::from_pkcs8_der(material.as_bytes())?
                    .verifying_key()
                    .to_spki_der()?;
                let (_, point) = der::spki_ec_point(&spki).map_err(bad)?;
                let (mut public, mut private) =
                    pair_templates(key.spec, key.usage, id.clone(), label);
                public.push(Attribute::EcPoint(der::tlv(der::OCTET_STRING, point)));
                private.extend([
                    Attribute::EcParams(ec_params(curve)),
                    Attribute::Value(d.to_vec()),
                ]);
                create(lease, private)?;
                create(lease, public)?;
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                return Err(mldsa_unsupported("CKK_ML_DSA"))
            }
            KeySpec::EccNistEdwards25519 => {
                // PKCS#11 3.0: CKA_VALUE of a CKK_EC_EDWARDS private key is
                // the RFC 8032 private key (the seed); CKA_EC_POINT is the
                // encoded public key in a DER OCTET STRING, as for EC.
                let (seed, _) = der::pkcs8_ed25519_key(material.as_bytes()).map_err(bad)?;
                let public_key =
                    crypto::Ed25519SigningKey::from_pkcs8_der(material.as_bytes())?.verifying_key();
                let (mut public, mut private) =
                    pair_templates(key.spec, key.usage, id.clone(), label);
                public.push(Attribute::EcPoint(der::tlv(
                    der::OCTET_STRING,
                    public_key.as_bytes(),
                )));
                private.extend([
                    Attribute::EcParams(der::ED25519_OID.to_vec()),
                    Attribute::Value(seed.to_vec()),
                ]);
                create(lease, private)?;
                create(lease, public)?;
            }
        }
        Ok(id)
    }

    /// Destroys every object with `CKA_ID` = `handle`.
    pub(super) fn destroy_objects(&self, handle: &[u8]) -> Result<()> {
        let _g = object_management()?;
        let mut lease = self.lease()?;
        self.destroy_with(&mut lease, handle)
    }

    /// Destroys what a failed or interrupted generate/import of `key` may
    /// have left on the token.
    pub(super) fn discard_object(&self, key: KeyRef<'_>) -> Result<()> {
        self.destroy_objects(&object_id(&key)?)
    }

    /// Before a version's object is made: destroys any object that already
    /// has its `CKA_ID`, the leftover of a generate/import whose metadata
    /// insert or audit record failed, or whose process was killed in
    /// between. Safe only because the key store asks for a version's
    /// object only while its metadata store has no record of that version
    /// (the next version number under the store's mutation lock, or a
    /// fresh random key ID), so no blob can have been sealed under a
    /// leftover; keeping it would give two objects one `CKA_ID`, and
    /// processes that found different ones would lose each other's blobs.
    fn destroy_leftovers(&self, lease: &mut Lease<'_>, id: &[u8]) -> Result<()> {
        self.destroy_with(lease, id)
    }

    fn destroy_with(&self, lease: &mut Lease<'_>, handle: &[u8]) -> Result<()> {
        for class in [
            ObjectClass::SECRET_KEY,
            ObjectClass::PRIVATE_KEY,
            ObjectClass::PUBLIC_KEY,
        ] {
            let found = lease
                .check(
                    lease
                        .s()
                        .find_objects(&[Attribute::Class(class), Attribute::Id(handle.to_vec())]),
                )
                .map_err(|e| ck("C_FindObjects", e))?;
            for obj in found {
                lease
                    .check(lease.s().destroy_object(obj))
                    .map_err(|e| ck("C_DestroyObject", e))?;
            }
            self.forget_handle(handle, class);
        }
        Ok(())
    }

    /// The token's audit-chain key, found again or made on first use, and
    /// the session it was found in.
    pub(super) fn audit_key(&self) -> Result<(Lease<'_>, ObjectHandle)> {
        self.token_key(
            AUDIT_KEY_ID,
            AUDIT_KEY_LABEL,
            KeyType::GENERIC_SECRET,
            KeyUsage::GenerateVerifyMac,
        )
    }

    /// A key of sealbox's own on the token (one per token), found again or
    /// made on first use, and the session it was found in. Takes the
    /// object-management lock before the session (the one lock order: see
    /// `session`), so that find-or-create does not race between the key
    /// stores of this process.
    fn token_key(
        &self,
        id: &[u8],
        label: &str,
        kt: KeyType,
        usage: KeyUsage,
    ) -> Result<(Lease<'_>, ObjectHandle)> {
        let _g = object_management()?;
        let mut lease = self.lease()?;
        let h = match self.find(&mut lease, id, ObjectClass::SECRET_KEY, true) {
            Ok(h) => h,
            Err(Error::KeyNotFound(_)) => {
                let t = secret_template(kt, 32, id.to_vec(), label.as_bytes().to_vec(), usage);
                let mech = if kt == KeyType::AES {
                    Mechanism::AesKeyGen
                } else {
                    Mechanism::GenericSecretKeyGen
                };
                lease
                    .check(lease.s().generate_key(&mech, &t))
                    .map_err(|e| ck("C_GenerateKey", e))?
            }
            Err(e) => return Err(e),
        };
        Ok((lease, h))
    }

    /// At open: one AES-GCM encryption and decryption under the token's
    /// GCM check key, so that a module that writes its own IV (see `gcm`)
    /// or cannot open what it sealed is refused before any blob is written.
    pub(super) fn gcm_self_test(&self) -> Result<()> {
        let (mut lease, key) = self.token_key(
            GCM_CHECK_KEY_ID,
            GCM_CHECK_KEY_LABEL,
            KeyType::AES,
            KeyUsage::EncryptDecrypt,
        )?;
        self.gcm_round_trip(&mut lease, key)
    }

    fn gcm_round_trip(&self, lease: &mut Lease<'_>, key: ObjectHandle) -> Result<()> {
        let (iv, aad, text) = (
            [0x5a; 12],
            b"sealbox".as_slice(),
            b"GCM self-test".as_slice(),
        );
        let sealed = gcm_encrypt(&iv, aad, |m| lease.s().encrypt(m, key, text));
        let sealed = lease
            .check(sealed)
            .map_err(mech_err("CKM_AES_GCM", "C_Encrypt"))?;
        let sealed = iv_kept(&iv, sealed)?;
        let mut iv_copy = iv;
        let params =
            GcmParams::new(&mut iv_copy, aad, 128.into()).map_err(|e| ck("C_DecryptInit", e))?;
        let opened = lease.check(lease.s().decrypt(&Mechanism::AesGcm(params), key, &sealed));
        match opened {
            Ok(p) if p == text => Ok(()),
            Ok(_) => Err(Error::Pkcs11 {
                function: "C_Decrypt".into(),
                rv: "the GCM self-test decrypted to other bytes".into(),
            }),
            Err(e) => Err(mech_err("CKM_AES_GCM", "C_Decrypt")(e)),
        }
    }
}

/// ML-DSA keys stay in the soft backend: SoftHSM2 2.6 has no ML-DSA
/// (PKCS#11 3.2's CKM_ML_DSA_KEY_PAIR_GEN / CKK_ML_DSA), and sealbox does
/// not drive PKCS#11 3.2 ML-DSA tokens yet (docs/SECURITY.md).
fn mldsa_unsupported(mechanism: &str) -> Error {
    Error::UnsupportedByHsm {
        mechanism: mechanism.to_owned(),
    }
}
