//! Key lifecycle: CreateKey, ImportKey, DescribeKey, ListKeys, Enable/
//! DisableKey, deletion scheduling and the purge of due deletions,
//! UpdateKeyDescription and tags.

use std::collections::BTreeMap;

use super::*;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// `state`, unless the key is pending deletion (`advice` ends the error).
pub(super) fn unless_pending(r: &KeyRecord, state: KeyState, advice: &str) -> Result<KeyState> {
    match r.state {
        KeyState::PendingDeletion { .. } => Err(Error::InvalidKeyState(format!(
            "key {} is pending deletion{advice}",
            r.key_id
        ))),
        _ => Ok(state),
    }
}

/// Both locks of a change to keys. Fields drop in declaration order: the
/// store's (cross-process) change lock is released before this process's
/// mutex, so that another thread never takes the mutex while the shared
/// lock file is still held and then has it unlocked under its feet
/// (`flock` belongs to the open file, which the threads share).
pub(super) struct MutationGuard<'a> {
    change_lock: Option<super::store::ChangeLock<'a>>,
    _local: crate::sync::MutexGuard<'a, ()>,
}

impl Drop for MutationGuard<'_> {
    fn drop(&mut self) {
        drop(self.change_lock.take());
    }
}

impl KeyStore {
    /// Serialises the changes to keys and versions (state, new versions,
    /// deletion): among this process's threads, then among every process
    /// that shares the store (the store's change lock).
    pub(super) fn lock_mutations(&self) -> Result<MutationGuard<'_>> {
        let local = self
            .inner
            .mutate
            .lock()
            .map_err(|_| Error::Storage("lock poisoned".into()))?;
        Ok(MutationGuard {
            change_lock: self.inner.store.change_lock()?,
            _local: local,
        })
    }

    // --------------------------------------------------------- lifecycle --

    pub(super) fn check_rotation(spec: KeySpec, origin: Origin, period: Option<u32>) -> Result<()> {
        if let Some(p) = period {
            if !spec.rotatable() || origin == Origin::External {
                return Err(Error::Unsupported(format!(
                    "automatic rotation is only for generated {} keys",
                    KeySpec::Aes256
                )));
            }
            if !ROTATION_PERIOD_DAYS.contains(&p) {
                return Err(Error::InvalidArgument(format!(
                    "rotation period must be {ROTATION_PERIOD_DAYS:?} days"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn new_key(
        &self,
        a: &mut Audit<'_>,
        req: &CreateKeyRequest,
        material: Option<&SecretBytes>,
    ) -> Result<KeyMetadata> {
        let usage = req.key_usage.unwrap_or(req.key_spec.default_usage());
        if !req.key_spec.allows(usage) {
            return Err(Error::InvalidKeyUsage(format!(
                "{} keys cannot have usage {usage}",
                req.key_spec
            )));
        }
        let origin = if material.is_some() {
            Origin::External
        } else {
            Origin::Generated
        };
        Self::check_rotation(req.key_spec, origin, req.rotation_period_days)?;
        let policy = self.new_key_policy(
            req.policy.as_deref(),
            req.bypass_policy_lockout_safety_check,
        )?;
        if let Some(al) = &req.alias {
            check_alias(al)?;
            if self.inner.store.alias_target(al)?.is_some() {
                return Err(Error::AlreadyExists(format!("alias {al}")));
            }
        }
        if material.is_none() && req.valid_to.is_some() {
            return Err(Error::InvalidArgument(
                "only imported material expires: ValidTo is for ImportKey".into(),
            ));
        }
        self.check_valid_to(req.valid_to)?;
        // Imported material: its fingerprint kept so that only
        // the same material is imported again after it expires.
        let fingerprint = match material {
            // (The backend checks the material against the spec as it
            // takes it; the fingerprint parses asymmetric material itself.)
            Some(m) => self.material_fingerprint(req.key_spec, m)?,
            None => Vec::new(),
        };
        let key_id = KeyId::generate()?;
        a.key(&key_id, Some(1));
        let now = self.now_ms();
        let rec = self.sealed_key(KeyRecord {
            mac: Vec::new(),
            key_id: key_id.clone(),
            description: req.description.clone(),
            spec: req.key_spec,
            usage,
            origin,
            state: KeyState::Enabled,
            created_at: ms_to_s(now),
            primary_version: 1,
            rotation_period_days: req.rotation_period_days,
            next_rotation_at: req
                .rotation_period_days
                .map(|d| ms_to_s(now + i64::from(d) * DAY_MS)),
            backend: self.inner.backend.kind().to_owned(),
        })?;
        let kr = Self::key_ref(&rec, 1);
        let made = match material {
            Some(m) => self.inner.backend.import(kr, m),
            None => self.inner.backend.generate(kr),
        };
        let handle = made.inspect_err(|_| {
            let _ = self.inner.backend.discard(kr);
        })?;
        let mut version = VersionRecord {
            version: 1,
            created_at: ms_to_s(now),
            handle,
            valid_to: req.valid_to,
            fingerprint,
            mac: Vec::new(),
        };
        version.mac = self.version_mac(&rec.key_id, &version)?;
        let alias_mac = match &req.alias {
            Some(al) => self.alias_mac(al, &rec.key_id)?,
            None => Vec::new(),
        };
        let policy_mac = self.policy_mac(&rec.key_id, &policy)?;
        // Nothing refers to the new material until the insert commits: a
        // failed audit record or insert destroys it (issue 17).
        let stored = a.allow().and_then(|()| {
            self.inner.store.create_key(
                &rec,
                &version,
                req.alias.as_deref().map(|a| (a, alias_mac.as_slice())),
                &req.tags,
                Some((policy.as_str(), policy_mac.as_slice())),
            )
        });
        if let Err(e) = stored {
            let _ = self.inner.backend.destroy(VersionRef {
                key: kr,
                handle: &version.handle,
            });
            return Err(e);
        }
        self.metadata(rec)
    }

    /// CreateKey: generates material in the backend.
    pub fn create_key(&self, req: &CreateKeyRequest) -> Result<KeyMetadata> {
        self.run(Operation::CreateKey, None, |a| self.new_key(a, req, None))
    }

    /// ImportKey (BYOK): raw bytes for AES_256 (32) and HMAC (≥ 32 / ≥ 64),
    /// PKCS#8 DER for RSA, ECC, Ed25519 and ML-DSA keys. With
    /// `req.valid_to` the material expires then (the key becomes
    /// PendingImport; see [`KeyStore::import_key_material`]).
    pub fn import_key(&self, req: &CreateKeyRequest, material: &[u8]) -> Result<KeyMetadata> {
        let m = SecretBytes::from_slice(material)?;
        self.run(Operation::ImportKey, None, |a| {
            self.new_key(a, req, Some(&m))
        })
    }

    /// DescribeKey.
    pub fn describe_key(&self, key: &str) -> Result<KeyMetadata> {
        self.run(Operation::DescribeKey, None, |a| {
            let rec = self.authorized(a, key)?;
            self.metadata(rec)
        })
    }

    /// ListKeys, in key ID order, `limit` (1..=1000) per page.
    pub fn list_keys(&self, limit: usize, marker: Option<&str>) -> Result<KeyList> {
        self.run(Operation::ListKeys, None, |_| {
            if !(1..=MAX_LIST_LIMIT).contains(&limit) {
                return Err(Error::InvalidArgument(format!(
                    "limit must be 1..={MAX_LIST_LIMIT}"
                )));
            }
            let ids = self.inner.store.list_keys(marker, limit + 1)?;
            let more = ids.len() > limit;
            let mut keys = Vec::with_capacity(limit);
            for id in ids.into_iter().take(limit) {
                if let Some(rec) = self.load_key(&id)? {
                    keys.push(self.metadata(rec)?);
                }
            }
            let next_marker = if more {
                keys.last().map(|k| k.key_id.to_string())
            } else {
                None
            };
            Ok(KeyList { keys, next_marker })
        })
    }

    pub(super) fn set_state(
        &self,
        op: Operation,
        key: &str,
        check: impl FnOnce(&KeyRecord) -> Result<KeyState>,
    ) -> Result<KeyMetadata> {
        self.run(op, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            let state = check(&rec)?;
            let mac = self.key_mac(&KeyRecord {
                state,
                ..rec.clone()
            })?;
            a.allow()?;
            self.inner.store.set_state(&rec.key_id, state, &mac)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// EnableKey.
    pub fn enable_key(&self, key: &str) -> Result<KeyMetadata> {
        self.set_state(Operation::EnableKey, key, |r| {
            unless_pending(r, KeyState::Enabled, ": cancel the deletion first")
        })
    }

    /// DisableKey.
    pub fn disable_key(&self, key: &str) -> Result<KeyMetadata> {
        self.set_state(Operation::DisableKey, key, |r| {
            unless_pending(r, KeyState::Disabled, "")
        })
    }

    /// ScheduleKeyDeletion: after `pending_window_days` (7..=30) the
    /// material is destroyed by the next purge.
    pub fn schedule_key_deletion(
        &self,
        key: &str,
        pending_window_days: u32,
    ) -> Result<KeyMetadata> {
        let at = ms_to_s(self.now_ms() + i64::from(pending_window_days) * DAY_MS);
        self.set_state(Operation::ScheduleKeyDeletion, key, |r| {
            if !DELETION_WINDOW_DAYS.contains(&pending_window_days) {
                return Err(Error::InvalidArgument(format!(
                    "the pending window must be {DELETION_WINDOW_DAYS:?} days"
                )));
            }
            match r.state {
                KeyState::PendingDeletion { .. } => Err(Error::InvalidKeyState(format!(
                    "key {} is already pending deletion",
                    r.key_id
                ))),
                _ => Ok(KeyState::PendingDeletion { deletion_date: at }),
            }
        })
    }

    /// CancelKeyDeletion: the key comes back Disabled, as in AWS KMS.
    pub fn cancel_key_deletion(&self, key: &str) -> Result<KeyMetadata> {
        self.set_state(Operation::CancelKeyDeletion, key, |r| match r.state {
            KeyState::PendingDeletion { .. } => Ok(KeyState::Disabled),
            _ => Err(Error::InvalidKeyState(format!(
                "key {} is not pending deletion",
                r.key_id
            ))),
        })
    }

    /// Destroys the material and metadata of every key whose deletion date
    /// has passed. Runs at open; call it periodically in long-lived
    /// processes. Returns the IDs deleted.
    pub fn purge_expired_keys(&self) -> Result<Vec<String>> {
        let due = self.inner.store.due_deletions(ms_to_s(self.now_ms()))?;
        let mut done = Vec::new();
        for id in due {
            // Checked again under the change lock: another thread or process
            // may have purged it (or the deletion was cancelled) since the
            // list was read; then there is nothing to do or to audit.
            let _g = self.lock_mutations()?;
            // A key whose row fails its MAC is not purged (nothing is
            // destroyed on the strength of it); the refusal is audited.
            let loaded = match self.load_key(&id) {
                Err(e @ Error::StoreTampered(_)) => {
                    let _ = self.run(Operation::DeleteKey, None, |a| -> Result<()> {
                        a.key(&id, None);
                        Err(e)
                    });
                    continue;
                }
                r => r?,
            };
            let still_due = loaded.is_some_and(|rec| {
                matches!(rec.state, KeyState::PendingDeletion { deletion_date } if deletion_date <= ms_to_s(self.now_ms()))
            });
            if !still_due {
                continue;
            }
            self.run(Operation::DeleteKey, None, |a| {
                let rec = self.record(&id)?;
                a.key(&rec.key_id, None);
                a.allow()?;
                let versions = self.all_versions(&rec)?;
                // (Imported material already deleted has nothing left.)
                for v in versions.iter().filter(|v| !v.handle.is_empty()) {
                    self.inner.backend.destroy(Self::version_ref(&rec, v))?;
                }
                self.inner.store.delete_key(&rec.key_id)
            })?;
            done.push(id);
        }
        Ok(done)
    }

    /// UpdateKeyDescription.
    pub fn update_key_description(&self, key: &str, description: &str) -> Result<()> {
        self.run(Operation::UpdateKeyDescription, None, |a| {
            // Every writer of a key's row holds the change lock: its MAC is
            // computed over the row as read under it.
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            let mac = self.key_mac(&KeyRecord {
                description: description.to_owned(),
                ..rec.clone()
            })?;
            a.allow()?;
            self.inner
                .store
                .set_description(&rec.key_id, description, &mac)
        })
    }

    /// TagResource: adds or replaces tags.
    pub fn tag_key(&self, key: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.run(Operation::TagResource, None, |a| {
            let rec = self.authorized(a, key)?;
            if tags.keys().any(|k| k.is_empty() || k.len() > 128)
                || tags.values().any(|v| v.len() > 256)
            {
                return Err(Error::InvalidArgument(
                    "tag keys are 1..=128 and values 0..=256 characters".into(),
                ));
            }
            a.allow()?;
            self.inner.store.set_tags(&rec.key_id, tags)
        })
    }

    /// UntagResource.
    pub fn untag_key(&self, key: &str, tag_keys: &[String]) -> Result<()> {
        self.run(Operation::UntagResource, None, |a| {
            let rec = self.authorized(a, key)?;
            a.allow()?;
            self.inner.store.remove_tags(&rec.key_id, tag_keys)
        })
    }
}
