//! Rotation: new versions on demand (RotateKey) and on a schedule
//! (Enable/DisableKeyRotation); older versions keep decrypting.

use super::*;
use crate::error::{Error, Result};

impl KeyStore {
    pub(super) fn add_version(&self, a: Option<&mut Audit<'_>>, key_id: &str) -> Result<u32> {
        let _g = self.lock_mutations()?;
        self.add_version_locked(a, key_id)
    }

    /// `add_version` with the change lock already held (the next version
    /// number is computed under it).
    fn add_version_locked(&self, mut a: Option<&mut Audit<'_>>, key_id: &str) -> Result<u32> {
        let rec = self.record(key_id)?;
        // Checked again under the change lock: another process may have
        // disabled the key or scheduled its deletion since the caller looked.
        Self::require_enabled(&rec)?;
        let next = self
            .inner
            .store
            .versions(&rec.key_id)?
            .into_iter()
            .map(|v| self.verified_version(&rec.key_id, v))
            .collect::<Result<Vec<_>>>()?
            .last()
            .map(|v| v.version + 1)
            .unwrap_or(1);
        let kr = Self::key_ref(&rec, next);
        let handle = self.inner.backend.generate(kr).inspect_err(|_| {
            let _ = self.inner.backend.discard(kr);
        })?;
        let now = self.now_ms();
        let next_rotation = rec
            .rotation_period_days
            .map(|d| ms_to_s(now + i64::from(d) * DAY_MS));
        if let Some(a) = &mut a {
            a.key(&rec.key_id, Some(next));
        }
        // Nothing refers to the new material until the insert commits: a
        // failed audit record or insert destroys it (issue 17).
        let mut version = VersionRecord {
            version: next,
            created_at: ms_to_s(now),
            handle,
            valid_to: None,
            fingerprint: Vec::new(),
            mac: Vec::new(),
        };
        let macs = self.version_mac(&rec.key_id, &version).and_then(|vm| {
            let km = self.key_mac(&KeyRecord {
                primary_version: next,
                next_rotation_at: next_rotation,
                ..rec.clone()
            })?;
            Ok((vm, km))
        });
        let stored = macs.and_then(|(vm, km)| {
            version.mac = vm;
            a.map_or(Ok(()), |a| a.allow())?;
            self.inner
                .store
                .add_version(&rec.key_id, &version, next_rotation, &km)
        });
        if let Err(e) = stored {
            let _ = self.inner.backend.destroy(VersionRef {
                key: kr,
                handle: &version.handle,
            });
            return Err(e);
        }
        Ok(next)
    }

    /// Rotates `key_id` if its rotation is (still) due; whether it did.
    /// The check and the rotation happen under the store's change lock:
    /// another thread or process that found the key due too rotated it
    /// already, or waits and finds it no longer due, so a due rotation
    /// happens (and is audited) exactly once.
    pub(super) fn rotate_due(&self, key_id: &str) -> Result<bool> {
        let _g = self.lock_mutations()?;
        let due = self.load_key(key_id)?.is_some_and(|rec| {
            rec.state == KeyState::Enabled
                && rec
                    .next_rotation_at
                    .is_some_and(|t| t <= ms_to_s(self.now_ms()))
        });
        if !due {
            return Ok(false);
        }
        self.run(Operation::RotateKey, None, |a| {
            a.key(key_id, None);
            self.add_version_locked(Some(a), key_id).map(|_| true)
        })
    }

    /// RotateKey: a new version becomes primary; old versions keep
    /// decrypting. Returns the new version number.
    pub fn rotate_key(&self, key: &str) -> Result<u32> {
        self.run(Operation::RotateKey, None, |a| {
            let rec = self.authorized(a, key)?;
            Self::require_enabled(&rec)?;
            if !rec.spec.rotatable() {
                return Err(Error::Unsupported(format!(
                    "{} keys cannot be rotated (only {})",
                    rec.spec,
                    KeySpec::Aes256
                )));
            }
            if rec.origin == Origin::External {
                return Err(Error::Unsupported(
                    "imported key material cannot be rotated by sealbox".into(),
                ));
            }
            self.add_version(Some(a), &rec.key_id)
        })
    }

    /// Rotates every enabled key whose automatic rotation is due. Runs at
    /// open and before a due key is used. Returns how many were rotated.
    pub fn apply_due_rotations(&self) -> Result<usize> {
        let due = self.inner.store.due_rotations(ms_to_s(self.now_ms()))?;
        let mut rotated = 0;
        for id in &due {
            match self.rotate_due(id) {
                Ok(done) => rotated += usize::from(done),
                // A key whose row fails its MAC is not rotated, and does
                // not stop the others (nor the store from opening): the
                // refusal is audited, and every use of the key fails.
                Err(e @ Error::StoreTampered(_)) => {
                    let _ = self.run(Operation::RotateKey, None, |a| -> Result<()> {
                        a.key(id, None);
                        Err(e)
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(rotated)
    }

    /// EnableKeyRotation with a period in days (AES_256 only).
    pub fn enable_key_rotation(&self, key: &str, period_days: u32) -> Result<KeyMetadata> {
        self.run(Operation::EnableKeyRotation, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            Self::require_enabled(&rec)?;
            Self::check_rotation(rec.spec, rec.origin, Some(period_days))?;
            let next = ms_to_s(self.now_ms() + i64::from(period_days) * DAY_MS);
            let mac = self.key_mac(&KeyRecord {
                rotation_period_days: Some(period_days),
                next_rotation_at: Some(next),
                ..rec.clone()
            })?;
            a.allow()?;
            self.inner
                .store
                .set_rotation(&rec.key_id, Some(period_days), Some(next), &mac)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// DisableKeyRotation.
    pub fn disable_key_rotation(&self, key: &str) -> Result<KeyMetadata> {
        self.run(Operation::DisableKeyRotation, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            let mac = self.key_mac(&KeyRecord {
                rotation_period_days: None,
                next_rotation_at: None,
                ..rec.clone()
            })?;
            a.allow()?;
            self.inner
                .store
                .set_rotation(&rec.key_id, None, None, &mac)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }
}
