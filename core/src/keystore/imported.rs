//! Imported key material that expires, is deleted and is imported again
//! (AWS KMS's ImportKeyMaterial with ValidTo, DeleteImportedKeyMaterial
//! and the PendingImport state), and on-demand rotation of an imported key
//! by importing new material as a new version.
//!
//! Each version of an imported key (origin EXTERNAL) keeps a fingerprint
//! of its material: a MAC under the backend's audit key of the spec and
//! the material (its public key for asymmetric specs, so that any encoding
//! of the same key matches). When a version's material has expired (its
//! `valid_to` passed) or was deleted, the key is PendingImport: every
//! operation that needs material is refused until that same material is
//! imported again. Expired material is destroyed by
//! [`KeyStore::purge_expired_material`] (at open, as due deletions are),
//! and refused from the moment it expires either way.

use super::backend::check_material;
use super::*;
use crate::crypto::{EcdsaSigningKey, Ed25519SigningKey, MlDsaSigningKey, RsaPrivateKey};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use zeroize::Zeroizing;

impl KeyStore {
    /// The fingerprint of imported material for `spec` (see the module
    /// documentation); the material must have passed `check_material`.
    pub(super) fn material_fingerprint(
        &self,
        spec: KeySpec,
        material: &SecretBytes,
    ) -> Result<Vec<u8>> {
        let identity = match Self::public_identity(spec, material)? {
            Some(spki) => Zeroizing::new(spki),
            None => Zeroizing::new(material.as_bytes().to_vec()),
        };
        let input = Zeroizing::new(integrity::encode(
            "material-fingerprint",
            &[spec.as_str().as_bytes(), &identity],
        ));
        self.inner.backend.audit_mac(&input)
    }

    /// The public key (SubjectPublicKeyInfo) of asymmetric material; `None`
    /// for symmetric material.
    fn public_identity(spec: KeySpec, material: &SecretBytes) -> Result<Option<Vec<u8>>> {
        let m = material.as_bytes();
        Ok(Some(if spec.rsa_bits().is_some() {
            RsaPrivateKey::from_der(m)?.public_key().to_spki_der()?
        } else if spec.ec_curve().is_some() {
            EcdsaSigningKey::from_pkcs8_der(m)?
                .verifying_key()
                .to_spki_der()?
        } else if spec.is_ed25519() {
            Ed25519SigningKey::from_pkcs8_der(m)?
                .verifying_key()
                .to_spki_der()
        } else if spec.mldsa().is_some() {
            MlDsaSigningKey::from_pkcs8_der(m)?
                .verifying_key()
                .to_spki_der()
        } else {
            return Ok(None);
        }))
    }

    /// Whether `material` is what a version imported before versions kept
    /// a fingerprint holds (its material still there): the same public key,
    /// or for symmetric keys the same output on a fixed input (the AES
    /// block function, or the HMAC), computed in the backend.
    fn same_material(
        &self,
        rec: &KeyRecord,
        v: &VersionRecord,
        material: &SecretBytes,
    ) -> Result<bool> {
        const PROBE: [u8; 32] = *b"sealbox: is this the same key?!!";
        let vr = Self::version_ref(rec, v);
        if let Some(spki) = Self::public_identity(rec.spec, material)? {
            return Ok(self.inner.backend.public_key_der(vr)? == spki);
        }
        if rec.spec == KeySpec::Aes256 {
            let mut ours = Zeroizing::new(PROBE);
            crypto::aes256_prf_blocks(material.as_bytes(), &mut ours[..])?;
            let theirs = self.inner.backend.prf_blocks(vr, &PROBE)?;
            return Ok(crypto::ct_eq(&ours[..], theirs.as_bytes()));
        }
        let alg = MacAlgorithm::ALL
            .iter()
            .copied()
            .find(|a| a.fits(rec.spec))
            .ok_or_else(|| Error::InvalidKeyUsage(format!("{} has no MAC algorithm", rec.spec)))?;
        let ours = Zeroizing::new(crypto::hmac(alg.hash(), material.as_bytes(), &PROBE)?);
        let theirs = self.inner.backend.mac(vr, alg, &PROBE)?;
        Ok(crypto::ct_eq(&ours, &theirs))
    }

    /// Moves the epoch once for every watched ValidTo that has passed (see
    /// `Inner::expiries`): materials a caching CMM holds for a key whose
    /// material expired are dropped at its ValidTo, not at their max age.
    pub(super) fn pass_expiries(&self) {
        let now = ms_to_s(self.now_ms());
        let passed = match self.inner.expiries.lock() {
            Ok(mut watch) => {
                let ahead = watch.split_off(&(now + 1));
                let passed = watch.len();
                *watch = ahead;
                passed
            }
            Err(_) => 0,
        };
        if passed > 0 {
            self.inner
                .epoch
                .fetch_add(passed as u64, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Checks a ValidTo: in the future.
    pub(super) fn check_valid_to(&self, valid_to: Option<i64>) -> Result<()> {
        match valid_to {
            Some(t) if t <= ms_to_s(self.now_ms()) => Err(Error::InvalidArgument(format!(
                "ValidTo {t} is not in the future"
            ))),
            _ => Ok(()),
        }
    }

    /// The verified versions of a key.
    pub(super) fn all_versions(&self, rec: &KeyRecord) -> Result<Vec<VersionRecord>> {
        self.inner
            .store
            .versions(&rec.key_id)?
            .into_iter()
            .map(|v| self.verified_version(&rec.key_id, v))
            .collect()
    }

    /// Refuses an imported key some of whose material expired or was
    /// deleted (PendingImport): nothing that needs its material runs.
    /// Generated keys pass without a read; the versions of imported keys
    /// come from the metadata cache (versions are 1 to the primary one),
    /// and their ValidTo times are watched so that the key store's epoch
    /// moves when one passes ([`Self::pass_expiries`]).
    pub(super) fn require_material(&self, rec: &KeyRecord) -> Result<()> {
        if rec.origin != Origin::External {
            return Ok(());
        }
        let now = ms_to_s(self.now_ms());
        let versions = (1..=rec.primary_version)
            .map(|n| self.cached_version(rec, n))
            .collect::<Result<Vec<_>>>()?;
        if let Ok(mut watch) = self.inner.expiries.lock() {
            watch.extend(
                versions
                    .iter()
                    .filter_map(|v| v.valid_to)
                    .filter(|t| *t > now),
            );
        }
        match versions.iter().find(|v| !v.usable_at(now)) {
            None => Ok(()),
            Some(v) => Err(Error::KeyDisabled(format!(
                "key {} is pending import: the material of version {} {}; import it again",
                rec.key_id,
                v.version,
                match v.valid_to {
                    Some(t) if !v.handle.is_empty() => format!("expired at {t}"),
                    _ => "was deleted".to_owned(),
                }
            ))),
        }
    }

    /// Refuses a generated key (`why`: what it lacks) and a key pending
    /// deletion: only those the two material operations work on pass.
    fn imported_key(rec: &KeyRecord, why: &str) -> Result<()> {
        if rec.origin != Origin::External {
            return Err(Error::Unsupported(format!(
                "key {} was generated by sealbox: {why}",
                rec.key_id
            )));
        }
        lifecycle::unless_pending(rec, rec.state, "").map(|_| ())
    }

    /// ImportKeyMaterial into an existing imported key:
    ///
    /// * the material of a version whose material expired or was deleted
    ///   (the same material only: its fingerprint must match) restores that
    ///   version, with `valid_to` as its new expiration;
    /// * the material a version already has sets that version's
    ///   expiration to `valid_to`;
    /// * new material, for an `AES_256` key that is not pending import,
    ///   becomes a new primary version (on-demand rotation of an imported
    ///   key; older versions keep decrypting).
    ///
    /// `valid_to` (Unix seconds, in the future) or `None` (the material
    /// does not expire). Only keys of origin EXTERNAL take material.
    pub fn import_key_material(
        &self,
        key: &str,
        material: &[u8],
        valid_to: Option<i64>,
    ) -> Result<KeyMetadata> {
        let material = SecretBytes::from_slice(material)?;
        self.run(Operation::ImportKeyMaterial, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            Self::imported_key(&rec, "only imported keys take key material")?;
            self.check_valid_to(valid_to)?;
            check_material(rec.spec, &material)?;
            let fingerprint = self.material_fingerprint(rec.spec, &material)?;
            let mut versions = self.all_versions(&rec)?;
            let now = ms_to_s(self.now_ms());
            // Versions imported before versions kept a fingerprint: the
            // material they still hold tells whether this is it, and then
            // the version keeps its fingerprint from now on.
            for v in versions
                .iter_mut()
                .filter(|v| v.fingerprint.is_empty() && !v.handle.is_empty())
            {
                if self.same_material(&rec, v, &material)? {
                    v.fingerprint = fingerprint.clone();
                }
            }
            if let Some(v) = versions
                .iter()
                .find(|v| !v.fingerprint.is_empty() && crypto::ct_eq(&v.fingerprint, &fingerprint))
            {
                a.key(&rec.key_id, Some(v.version));
                let handle = if v.usable_at(now) {
                    v.handle.clone()
                } else {
                    // Whatever the backend still holds for this version goes
                    // first: an expired version not yet purged, or a token
                    // object an earlier deletion failed to destroy (by name).
                    let kr = Self::key_ref(&rec, v.version);
                    if v.handle.is_empty() {
                        self.inner.backend.discard(kr)?;
                    } else {
                        self.inner.backend.destroy(Self::version_ref(&rec, v))?;
                    }
                    self.inner.backend.import(kr, &material).inspect_err(|_| {
                        let _ = self.inner.backend.discard(kr);
                    })?
                };
                self.store_material(a, &rec, v, handle, valid_to)?;
                return self.metadata(self.record(&rec.key_id)?);
            }
            if let Some(v) = versions.iter().find(|v| !v.usable_at(now)) {
                return Err(Error::InvalidKey(format!(
                    "key {} is pending import of version {}: this is other material",
                    rec.key_id, v.version
                )));
            }
            if !rec.spec.rotatable() {
                return Err(Error::InvalidKey(format!(
                    "this is not the material of key {}; only {} keys take new material as a new version",
                    rec.key_id,
                    KeySpec::Aes256
                )));
            }
            Self::require_enabled(&rec)?;
            self.add_imported_version(a, &rec, &versions, &material, valid_to, fingerprint)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// Writes a version's new handle and expiration, audited first; a
    /// failed write destroys material imported for it.
    fn store_material(
        &self,
        a: &mut Audit<'_>,
        rec: &KeyRecord,
        v: &VersionRecord,
        handle: Vec<u8>,
        valid_to: Option<i64>,
    ) -> Result<()> {
        let updated = VersionRecord {
            handle,
            valid_to,
            ..v.clone()
        };
        let stored = self.version_mac(&rec.key_id, &updated).and_then(|mac| {
            a.allow()?;
            self.inner.store.set_version_material(
                &rec.key_id,
                v.version,
                &updated.handle,
                valid_to,
                &updated.fingerprint,
                &mac,
            )
        });
        if stored.is_err() && updated.handle != v.handle && !updated.handle.is_empty() {
            let _ = self.inner.backend.destroy(Self::version_ref(rec, &updated));
        }
        stored
    }

    /// A new primary version holding imported material.
    fn add_imported_version(
        &self,
        a: &mut Audit<'_>,
        rec: &KeyRecord,
        versions: &[VersionRecord],
        material: &SecretBytes,
        valid_to: Option<i64>,
        fingerprint: Vec<u8>,
    ) -> Result<()> {
        let next = versions.last().map_or(1, |v| v.version + 1);
        a.key(&rec.key_id, Some(next));
        let kr = Self::key_ref(rec, next);
        let handle = self.inner.backend.import(kr, material).inspect_err(|_| {
            let _ = self.inner.backend.discard(kr);
        })?;
        let mut version = VersionRecord {
            version: next,
            created_at: ms_to_s(self.now_ms()),
            handle,
            valid_to,
            fingerprint,
            mac: Vec::new(),
        };
        let stored = self.version_mac(&rec.key_id, &version).and_then(|vm| {
            version.mac = vm;
            let km = self.key_mac(&KeyRecord {
                primary_version: next,
                ..rec.clone()
            })?;
            a.allow()?;
            self.inner
                .store
                .add_version(&rec.key_id, &version, rec.next_rotation_at, &km)
        });
        if let Err(e) = stored {
            let _ = self.inner.backend.destroy(VersionRef {
                key: kr,
                handle: &version.handle,
            });
            return Err(e);
        }
        Ok(())
    }

    /// DeleteImportedKeyMaterial: destroys the material of every version of
    /// an imported key at once. The key is PendingImport until the same
    /// material is imported again ([`Self::import_key_material`]); what was
    /// encrypted under it cannot be decrypted until then.
    pub fn delete_imported_key_material(&self, key: &str) -> Result<KeyMetadata> {
        self.run(Operation::DeleteImportedKeyMaterial, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            Self::imported_key(&rec, "it has no imported material to delete")?;
            let versions = self.all_versions(&rec)?;
            if let Some(v) = versions.iter().find(|v| v.fingerprint.is_empty()) {
                // Without a fingerprint the material could never be taken
                // back: it would be lost for good.
                return Err(Error::InvalidKeyState(format!(
                    "version {} of key {} was imported before sealbox kept a fingerprint of \
                     imported material: import the same material once with import_key_material \
                     (which records it), then delete it",
                    v.version, rec.key_id
                )));
            }
            a.allow()?;
            for v in &versions {
                self.delete_version_material(&rec, v)?;
            }
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// Destroys one version's material and empties its handle (the row
    /// first, so that a crash between the two leaves no row naming
    /// destroyed material as usable).
    fn delete_version_material(&self, rec: &KeyRecord, v: &VersionRecord) -> Result<()> {
        if v.handle.is_empty() {
            // Deleted before; a token may have failed to destroy its object
            // then: whatever is left of this version goes, by its name.
            return self.inner.backend.discard(Self::key_ref(rec, v.version));
        }
        let emptied = VersionRecord {
            handle: Vec::new(),
            ..v.clone()
        };
        let mac = self.version_mac(&rec.key_id, &emptied)?;
        self.inner.store.set_version_material(
            &rec.key_id,
            v.version,
            &[],
            v.valid_to,
            &v.fingerprint,
            &mac,
        )?;
        self.inner.backend.destroy(Self::version_ref(rec, v))
    }

    /// Destroys imported material whose ValidTo has passed (audited as
    /// DeleteExpiredKeyMaterial, one record per version). Runs at open;
    /// call it periodically in long-lived processes. The material is
    /// refused from the moment it expires whether or not this has run.
    /// Returns how many versions lost their material.
    pub fn purge_expired_material(&self) -> Result<usize> {
        let due = self.inner.store.expired_material(ms_to_s(self.now_ms()))?;
        let mut done = 0;
        for (id, version) in due {
            let _g = self.lock_mutations()?;
            // Checked again under the change lock (another process may have
            // purged it or imported the material again meanwhile). A row
            // that fails its MAC, or a token that fails, is audited and
            // stops neither the others nor the store from opening: the
            // material is refused from its ValidTo on either way.
            let purged = self.run(Operation::DeleteExpiredKeyMaterial, None, |a| {
                a.key(&id, Some(version));
                let (Some(rec), Some(v)) = (self.load_key(&id)?, self.load_version(&id, version)?)
                else {
                    a.quiet = true;
                    return Ok(false);
                };
                if v.handle.is_empty() || v.usable_at(ms_to_s(self.now_ms())) {
                    a.quiet = true;
                    return Ok(false);
                }
                a.allow()?;
                self.delete_version_material(&rec, &v)?;
                Ok(true)
            });
            match purged {
                Ok(true) => done += 1,
                Ok(false) | Err(Error::StoreTampered(_)) | Err(Error::Pkcs11 { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::crypto::EcCurve;

    /// A version row as a store from before fingerprints holds it (no
    /// fingerprint, the MAC of the old encoding) is recognised by its
    /// material before it can be deleted, so that nothing is lost.
    #[test]
    fn material_imported_before_fingerprints_is_recognised_before_deletion() {
        let dir = std::env::temp_dir().join(format!(
            "sealbox-legacy-import-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ks = KeyStore::open(
            dir.join("keys.db"),
            &RootKey::generate().unwrap(),
            KeyStoreOptions::default(),
        )
        .unwrap();
        let ec = EcdsaSigningKey::generate(EcCurve::P256).unwrap();
        let cases = [
            (KeySpec::Aes256, vec![0x11u8; 32], vec![0x12u8; 32]),
            (KeySpec::Hmac256, vec![0x21u8; 32], vec![0x22u8; 32]),
            (
                KeySpec::EccNistP256,
                ec.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                EcdsaSigningKey::generate(EcCurve::P256)
                    .unwrap()
                    .to_pkcs8_der()
                    .unwrap()
                    .as_bytes()
                    .to_vec(),
            ),
        ];
        for (spec, material, other) in cases {
            let req = CreateKeyRequest {
                key_spec: spec,
                ..CreateKeyRequest::default()
            };
            let id = ks.import_key(&req, &material).unwrap().key_id.to_string();
            let rec = ks.record(&id).unwrap();
            let mut v = ks.version(&rec, 1).unwrap();
            v.fingerprint.clear();
            let mac = ks.version_mac(&id, &v).unwrap();
            ks.inner
                .store
                .set_version_material(&id, 1, &v.handle, None, &[], &mac)
                .unwrap();
            let r = ks.delete_imported_key_material(&id);
            assert!(matches!(r, Err(Error::InvalidKeyState(_))), "{spec}: {r:?}");
            if spec != KeySpec::Aes256 {
                let r = ks.import_key_material(&id, &other, None);
                assert!(matches!(r, Err(Error::InvalidKey(_))), "{spec}: {r:?}");
            }
            // The same material: recognised (no new version), fingerprinted.
            let md = ks.import_key_material(&id, &material, None).unwrap();
            assert_eq!(md.versions.len(), 1, "{spec}");
            assert!(!ks.version(&rec, 1).unwrap().fingerprint.is_empty());
            // Now it can go and come back.
            let md = ks.delete_imported_key_material(&id).unwrap();
            assert_eq!(md.key_state, KeyState::PendingImport);
            let md = ks.import_key_material(&id, &material, None).unwrap();
            assert_eq!(md.key_state, KeyState::Enabled, "{spec}");
        }
        drop(ks);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
