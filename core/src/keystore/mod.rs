//! The key store: custodian of master keys, with the operations of the AWS
//! KMS API. Metadata lives in a [`MetadataStore`] (SQLite by default);
//! material lives in a [`Backend`] (sealed software store, or an HSM) and
//! never leaves it. Every operation, allowed or failed, is audited; an
//! operation whose audit record cannot be written does not happen.

pub mod backend;
pub mod blob;
mod operation;
pub mod store;
pub mod types;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::audit::{self, AuditEvent, AuditReport, AuditSink, ChainMac, FileAuditLog, Outcome};
use crate::crypto::{self, EcdsaVerifyingKey, RsaPublicKey};
use crate::error::{Error, Result};
use crate::message::EncryptionContext;
use crate::secret::SecretBytes;

pub use backend::pkcs11::{Pin, Pkcs11Backend, Pkcs11Config, DEFAULT_MAX_SESSIONS};
pub use backend::soft::{RootKey, SoftBackend};
pub use backend::{Backend, KeyRef};
pub use store::sqlite::SqliteStore;
pub use store::{KeyRecord, MetadataStore, VersionRecord};
pub use operation::Operation;
pub use types::*;

/// Largest plaintext of a direct Encrypt, as in AWS KMS.
pub const MAX_DIRECT_PLAINTEXT: usize = 4096;
/// Largest raw message for Sign, Verify and GenerateMac.
pub const MAX_MESSAGE: usize = 4096;
/// Largest GenerateRandom request.
pub const MAX_RANDOM: usize = 1024;
/// Deletion waiting period bounds, in days.
pub const DELETION_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;
/// Automatic rotation period bounds, in days.
pub const ROTATION_PERIOD_DAYS: std::ops::RangeInclusive<u32> = 1..=2560;
/// Page size limit of ListKeys.
pub const MAX_LIST_LIMIT: usize = 1000;
const DAY_MS: i64 = 86_400_000;
/// The time source; tests substitute one that they move forward.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// How a key store is opened.
#[derive(Debug, Clone)]
pub struct KeyStoreOptions {
    /// The audit log file; default: the database path plus `.audit.jsonl`.
    /// `None` in [`KeyStore::open_with`] means no file sink.
    pub audit_log: Option<PathBuf>,
    /// fsync every audit record (slower, survives power loss).
    pub audit_sync: bool,
    /// Who the operations are attributed to in the audit trail.
    pub principal: String,
    /// The time source.
    pub clock: Arc<dyn Clock>,
}

impl Default for KeyStoreOptions {
    fn default() -> Self {
        KeyStoreOptions {
            audit_log: None,
            audit_sync: false,
            principal: std::env::var("USER").unwrap_or_else(|_| "local".into()),
            clock: Arc::new(SystemClock),
        }
    }
}

/// A data key from GenerateDataKey.
pub struct DataKey {
    /// The plaintext data key (use it, then drop it).
    pub plaintext: SecretBytes,
    /// The data key encrypted under the key-store key (a blob).
    pub ciphertext: Vec<u8>,
    /// The key that encrypted it.
    pub key_id: String,
    /// The version that encrypted it.
    pub key_version: u32,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// A page of ListKeys.
#[derive(Debug, Clone)]
pub struct KeyList {
    /// The keys of this page.
    pub keys: Vec<KeyMetadata>,
    /// Pass as `marker` for the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

struct Inner {
    store: Box<dyn MetadataStore>,
    backend: Arc<dyn Backend>,
    audit_file: Option<FileAuditLog>,
    sinks: RwLock<Vec<Arc<dyn AuditSink>>>,
    principal: String,
    clock: Arc<dyn Clock>,
    // Serialises this process's lifecycle changes (version numbering).
    mutate: Mutex<()>,
    counts: Mutex<HashMap<Operation, u64>>,
}

/// The key store. Cheap to clone; one instance is shared by many threads.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("backend", &self.inner.backend.kind())
            .finish_non_exhaustive()
    }
}

/// The audit record being built for one request.
struct Audit<'a> {
    ks: &'a Inner,
    event: AuditEvent,
    written: bool,
}

impl Audit<'_> {
    fn key(&mut self, key_id: &str, version: Option<u32>) {
        self.event.key_id = Some(key_id.to_owned());
        if version.is_some() {
            self.event.key_version = version;
        }
    }

    /// Writes the "allowed" record. Called at the point of no return: just
    /// before a change is committed or a result is released.
    fn allow(&mut self) -> Result<()> {
        if !self.written {
            self.event.outcome = Outcome::Allowed;
            self.ks.write_audit(&self.event)?;
            self.written = true;
        }
        Ok(())
    }
}

fn ms_to_s(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl KeyStore {
    /// Opens (creating if needed) a key store in the SQLite file `path`
    /// with the soft backend sealed under `root`. The audit log is
    /// `path` + `.audit.jsonl` unless `options.audit_log` says otherwise.
    pub fn open(
        path: impl AsRef<Path>,
        root: &RootKey,
        mut options: KeyStoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref();
        if options.audit_log.is_none() {
            let mut p = path.as_os_str().to_owned();
            p.push(".audit.jsonl");
            options.audit_log = Some(PathBuf::from(p));
        }
        let backend: Arc<dyn Backend> = Arc::new(SoftBackend::new(root)?);
        Self::open_with(Box::new(SqliteStore::open(path)?), backend, options)
    }

    /// Opens (creating if needed) a key store in the SQLite file `path`
    /// whose keys live in a PKCS#11 token.
    pub fn open_pkcs11(
        path: impl AsRef<Path>,
        config: Pkcs11Config,
        mut options: KeyStoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref();
        if options.audit_log.is_none() {
            let mut p = path.as_os_str().to_owned();
            p.push(".audit.jsonl");
            options.audit_log = Some(PathBuf::from(p));
        }
        let backend: Arc<dyn Backend> = Arc::new(Pkcs11Backend::open(config)?);
        Self::open_with(Box::new(SqliteStore::open(path)?), backend, options)
    }

    /// Opens a key store over any metadata store and backend.
    pub fn open_with(
        store: Box<dyn MetadataStore>,
        backend: Arc<dyn Backend>,
        options: KeyStoreOptions,
    ) -> Result<Self> {
        let check = backend.check_value()?;
        match store.meta("backend_check")? {
            None => {
                store.set_meta("backend_kind", backend.kind().as_bytes())?;
                store.set_meta("backend_check", &check)?;
            }
            Some(stored) => {
                let kind = store.meta("backend_kind")?.unwrap_or_default();
                if kind != backend.kind().as_bytes() {
                    return Err(Error::InvalidArgument(format!(
                        "this key store uses the {} backend, not {}",
                        String::from_utf8_lossy(&kind),
                        backend.kind()
                    )));
                }
                if !crypto::ct_eq(&stored, &check) {
                    return Err(if backend.kind() == "soft" {
                        Error::WrongRootKey
                    } else {
                        Error::InvalidKey(
                            "this token is not the one the key store was created with".into(),
                        )
                    });
                }
            }
        }
        let audit_file = match &options.audit_log {
            Some(p) => {
                let b = backend.clone();
                let mac: ChainMac = Arc::new(move |d: &[u8]| b.audit_mac(d));
                Some(FileAuditLog::open(p, mac, options.audit_sync)?)
            }
            None => None,
        };
        let ks = KeyStore {
            inner: Arc::new(Inner {
                store,
                backend,
                audit_file,
                sinks: RwLock::new(Vec::new()),
                principal: options.principal,
                clock: options.clock,
                mutate: Mutex::new(()),
                counts: Mutex::new(HashMap::new()),
            }),
        };
        ks.purge_expired_keys()?;
        ks.apply_due_rotations()?;
        Ok(ks)
    }

    /// Adds an audit sink (e.g. a callback into the host language).
    pub fn add_audit_sink(&self, sink: Arc<dyn AuditSink>) {
        if let Ok(mut s) = self.inner.sinks.write() {
            s.push(sink);
        }
    }

    /// The backend kind (`soft` or `pkcs11`).
    pub fn backend_kind(&self) -> &'static str {
        self.inner.backend.kind()
    }

    /// How many times the operation named `operation` (an AWS KMS name such
    /// as `GenerateDataKey`) was allowed since this store was opened, for
    /// tests and monitoring; 0 for a name that is no operation.
    pub fn operation_count(&self, operation: &str) -> u64 {
        operation.parse().map_or(0, |op| self.count(op))
    }

    /// How many times `operation` was allowed since this store was opened.
    pub fn count(&self, operation: Operation) -> u64 {
        self.inner
            .counts
            .lock()
            .map(|c| c.get(&operation).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn now_ms(&self) -> i64 {
        self.inner.clock.now_millis()
    }

    /// Runs one audited operation.
    fn run<T>(
        &self,
        operation: Operation,
        ec: Option<&EncryptionContext>,
        f: impl FnOnce(&mut Audit<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut a = Audit {
            ks: &self.inner,
            event: AuditEvent {
                time: audit::rfc3339_millis(self.now_ms()),
                operation,
                key_id: None,
                key_version: None,
                principal: self.inner.principal.clone(),
                encryption_context: ec.cloned(),
                outcome: Outcome::Failed,
                error: None,
                request_id: blob::new_uuid()?,
            },
            written: false,
        };
        match f(&mut a) {
            Ok(v) => {
                a.allow()?;
                if let Ok(mut c) = self.inner.counts.lock() {
                    *c.entry(operation).or_default() += 1;
                }
                if operation.is_mutation() {
                    self.store_audit_anchor()?;
                }
                Ok(v)
            }
            Err(e) => {
                // An audit failure before the point of no return has been
                // reported already; anything else is recorded as failed.
                if !matches!(e, Error::Audit(_)) || a.written {
                    a.event.outcome = Outcome::Failed;
                    a.event.error = Some(e.to_string());
                    if let Err(ae) = self.inner.write_audit(&a.event) {
                        if !a.written {
                            return Err(ae);
                        }
                    }
                }
                Err(e)
            }
        }
    }

    // ------------------------------------------------------------ lookup --

    /// The key ID an ID or alias names (not audited: no key is used).
    pub fn resolve_key_id(&self, key: &str) -> Result<String> {
        Ok(self.record(key)?.key_id)
    }

    fn resolve_id(&self, key: &str) -> Result<String> {
        if key.starts_with("alias/") {
            return self
                .inner
                .store
                .alias_target(key)?
                .ok_or_else(|| Error::KeyNotFound(key.to_owned()));
        }
        Ok(key.to_owned())
    }

    fn record(&self, key: &str) -> Result<KeyRecord> {
        let id = self.resolve_id(key)?;
        self.inner.store.key(&id)?.ok_or(Error::KeyNotFound(id))
    }

    fn require_enabled(rec: &KeyRecord) -> Result<()> {
        match rec.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(Error::KeyDisabled(format!(
                "key {} is disabled",
                rec.key_id
            ))),
            KeyState::PendingDeletion { .. } => Err(Error::KeyDisabled(format!(
                "key {} is pending deletion",
                rec.key_id
            ))),
        }
    }

    fn require_usage(rec: &KeyRecord, usage: KeyUsage) -> Result<()> {
        if rec.usage != usage {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} has usage {}, not {usage}",
                rec.key_id, rec.usage
            )));
        }
        Ok(())
    }

    fn key_ref<'a>(rec: &'a KeyRecord, version: u32) -> KeyRef<'a> {
        KeyRef {
            key_id: &rec.key_id,
            version,
            spec: rec.spec,
            usage: rec.usage,
        }
    }

    fn version(&self, rec: &KeyRecord, version: u32) -> Result<VersionRecord> {
        self.inner
            .store
            .version(&rec.key_id, version)?
            .ok_or_else(|| Error::KeyNotFound(format!("{} version {version}", rec.key_id)))
    }

    /// An enabled key of `usage`, rotated first if its rotation is due.
    fn usable(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        usage: KeyUsage,
    ) -> Result<(KeyRecord, VersionRecord)> {
        let mut rec = self.record(key)?;
        a.key(&rec.key_id, None);
        Self::require_enabled(&rec)?;
        Self::require_usage(&rec, usage)?;
        if rec
            .next_rotation_at
            .is_some_and(|t| t <= ms_to_s(self.now_ms()))
        {
            self.rotate_due(&rec.key_id)?;
            rec = self.record(&rec.key_id)?;
        }
        let v = self.version(&rec, rec.primary_version)?;
        a.key(&rec.key_id, Some(v.version));
        Ok((rec, v))
    }

    fn metadata(&self, rec: KeyRecord) -> Result<KeyMetadata> {
        let s = &self.inner.store;
        Ok(KeyMetadata {
            aliases: s.aliases_of(&rec.key_id)?,
            tags: s.tags_of(&rec.key_id)?,
            versions: s
                .versions(&rec.key_id)?
                .into_iter()
                .map(|v| KeyVersion {
                    version: v.version,
                    created_at: v.created_at,
                })
                .collect(),
            key_id: rec.key_id,
            description: rec.description,
            key_spec: rec.spec,
            key_usage: rec.usage,
            origin: rec.origin,
            state: rec.state,
            created_at: rec.created_at,
            primary_version: rec.primary_version,
            rotation_period_days: rec.rotation_period_days,
            next_rotation_at: rec.next_rotation_at,
            backend: rec.backend,
        })
    }

    // --------------------------------------------------------- lifecycle --

    fn check_rotation(spec: KeySpec, origin: Origin, period: Option<u32>) -> Result<()> {
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

    fn new_key(
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
        if let Some(al) = &req.alias {
            check_alias(al)?;
            if self.inner.store.alias_target(al)?.is_some() {
                return Err(Error::AlreadyExists(format!("alias {al}")));
            }
        }
        let key_id = blob::new_uuid()?;
        a.key(&key_id, Some(1));
        let now = self.now_ms();
        let rec = KeyRecord {
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
        };
        let kr = Self::key_ref(&rec, 1);
        let handle = match material {
            Some(m) => self.inner.backend.import(kr, m)?,
            None => self.inner.backend.generate(kr)?,
        };
        let version = VersionRecord {
            version: 1,
            created_at: ms_to_s(now),
            handle,
        };
        a.allow()?;
        if let Err(e) = self
            .inner
            .store
            .create_key(&rec, &version, req.alias.as_deref(), &req.tags)
        {
            let _ = self.inner.backend.destroy(kr, &version.handle);
            return Err(e);
        }
        self.metadata(rec)
    }

    /// CreateKey: generates material in the backend.
    pub fn create_key(&self, req: &CreateKeyRequest) -> Result<KeyMetadata> {
        self.run(Operation::CreateKey, None, |a| self.new_key(a, req, None))
    }

    /// ImportKey (BYOK): raw bytes for AES_256 (32) and HMAC (≥ 32 / ≥ 64),
    /// PKCS#8 DER for RSA and ECC keys.
    pub fn import_key(&self, req: &CreateKeyRequest, material: &[u8]) -> Result<KeyMetadata> {
        let m = SecretBytes::from_slice(material)?;
        self.run(Operation::ImportKey, None, |a| self.new_key(a, req, Some(&m)))
    }

    /// DescribeKey.
    pub fn describe_key(&self, key: &str) -> Result<KeyMetadata> {
        self.run(Operation::DescribeKey, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
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
                if let Some(rec) = self.inner.store.key(&id)? {
                    keys.push(self.metadata(rec)?);
                }
            }
            let next_marker = if more {
                keys.last().map(|k| k.key_id.clone())
            } else {
                None
            };
            Ok(KeyList { keys, next_marker })
        })
    }

    fn set_state(
        &self,
        op: Operation,
        key: &str,
        check: impl FnOnce(&KeyRecord) -> Result<KeyState>,
    ) -> Result<KeyMetadata> {
        self.run(op, None, |a| {
            let _g = self
                .inner
                .mutate
                .lock()
                .map_err(|_| Error::Storage("lock poisoned".into()))?;
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            let state = check(&rec)?;
            a.allow()?;
            self.inner.store.set_state(&rec.key_id, state)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// EnableKey.
    pub fn enable_key(&self, key: &str) -> Result<KeyMetadata> {
        self.set_state(Operation::EnableKey, key, |r| match r.state {
            KeyState::PendingDeletion { .. } => Err(Error::InvalidKeyState(format!(
                "key {} is pending deletion: cancel the deletion first",
                r.key_id
            ))),
            _ => Ok(KeyState::Enabled),
        })
    }

    /// DisableKey.
    pub fn disable_key(&self, key: &str) -> Result<KeyMetadata> {
        self.set_state(Operation::DisableKey, key, |r| match r.state {
            KeyState::PendingDeletion { .. } => Err(Error::InvalidKeyState(format!(
                "key {} is pending deletion",
                r.key_id
            ))),
            _ => Ok(KeyState::Disabled),
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
            self.run(Operation::DeleteKey, None, |a| {
                let _g = self.inner.mutate.lock().map_err(|_| Error::Storage("lock poisoned".into()))?;
                let rec = self.record(&id)?;
                a.key(&rec.key_id, None);
                if !matches!(rec.state, KeyState::PendingDeletion { deletion_date } if deletion_date <= ms_to_s(self.now_ms())) {
                    return Err(Error::InvalidKeyState(format!("key {id} is no longer due for deletion")));
                }
                a.allow()?;
                for v in self.inner.store.versions(&rec.key_id)? {
                    self.inner.backend.destroy(Self::key_ref(&rec, v.version), &v.handle)?;
                }
                self.inner.store.delete_key(&rec.key_id)
            })?;
            done.push(id);
        }
        Ok(done)
    }

    fn add_version(&self, a: Option<&mut Audit<'_>>, key_id: &str) -> Result<u32> {
        let _g = self
            .inner
            .mutate
            .lock()
            .map_err(|_| Error::Storage("lock poisoned".into()))?;
        let rec = self.record(key_id)?;
        let next = self
            .inner
            .store
            .versions(&rec.key_id)?
            .last()
            .map(|v| v.version + 1)
            .unwrap_or(1);
        let handle = self.inner.backend.generate(Self::key_ref(&rec, next))?;
        let now = self.now_ms();
        let next_rotation = rec
            .rotation_period_days
            .map(|d| ms_to_s(now + i64::from(d) * DAY_MS));
        if let Some(a) = a {
            a.key(&rec.key_id, Some(next));
            a.allow()?;
        }
        self.inner.store.add_version(
            &rec.key_id,
            &VersionRecord {
                version: next,
                created_at: ms_to_s(now),
                handle,
            },
            next_rotation,
        )?;
        Ok(next)
    }

    fn rotate_due(&self, key_id: &str) -> Result<()> {
        self.run(Operation::RotateKey, None, |a| {
            // Another thread may have rotated it already.
            let rec = self.record(key_id)?;
            if rec
                .next_rotation_at
                .is_some_and(|t| t <= ms_to_s(self.now_ms()))
            {
                self.add_version(Some(a), key_id)?;
            }
            Ok(())
        })
    }

    /// RotateKey: a new version becomes primary; old versions keep
    /// decrypting. Returns the new version number.
    pub fn rotate_key(&self, key: &str) -> Result<u32> {
        self.run(Operation::RotateKey, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
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
        for id in &due {
            self.rotate_due(id)?;
        }
        Ok(due.len())
    }

    /// EnableKeyRotation with a period in days (AES_256 only).
    pub fn enable_key_rotation(&self, key: &str, period_days: u32) -> Result<KeyMetadata> {
        self.run(Operation::EnableKeyRotation, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            Self::require_enabled(&rec)?;
            Self::check_rotation(rec.spec, rec.origin, Some(period_days))?;
            a.allow()?;
            let next = ms_to_s(self.now_ms() + i64::from(period_days) * DAY_MS);
            self.inner
                .store
                .set_rotation(&rec.key_id, Some(period_days), Some(next))?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// DisableKeyRotation.
    pub fn disable_key_rotation(&self, key: &str) -> Result<KeyMetadata> {
        self.run(Operation::DisableKeyRotation, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            a.allow()?;
            self.inner.store.set_rotation(&rec.key_id, None, None)?;
            self.metadata(self.record(&rec.key_id)?)
        })
    }

    /// UpdateKeyDescription.
    pub fn update_key_description(&self, key: &str, description: &str) -> Result<()> {
        self.run(Operation::UpdateKeyDescription, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            a.allow()?;
            self.inner.store.set_description(&rec.key_id, description)
        })
    }

    /// CreateAlias.
    pub fn create_alias(&self, alias: &str, key: &str) -> Result<()> {
        self.run(Operation::CreateAlias, None, |a| {
            check_alias(alias)?;
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            if self.inner.store.alias_target(alias)?.is_some() {
                return Err(Error::AlreadyExists(format!("alias {alias}")));
            }
            a.allow()?;
            self.inner.store.put_alias(alias, &rec.key_id, false)
        })
    }

    /// UpdateAlias: points an existing alias at another key.
    pub fn update_alias(&self, alias: &str, key: &str) -> Result<()> {
        self.run(Operation::UpdateAlias, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            if self.inner.store.alias_target(alias)?.is_none() {
                return Err(Error::KeyNotFound(alias.to_owned()));
            }
            a.allow()?;
            self.inner.store.put_alias(alias, &rec.key_id, true)
        })
    }

    /// DeleteAlias (the key is untouched).
    pub fn delete_alias(&self, alias: &str) -> Result<()> {
        self.run(Operation::DeleteAlias, None, |a| {
            let target = self
                .inner
                .store
                .alias_target(alias)?
                .ok_or_else(|| Error::KeyNotFound(alias.to_owned()))?;
            a.key(&target, None);
            a.allow()?;
            self.inner.store.delete_alias(alias).map(|_| ())
        })
    }

    /// ListAliases: (alias, key ID) pairs.
    pub fn list_aliases(&self) -> Result<Vec<(String, String)>> {
        self.run(Operation::ListAliases, None, |_| self.inner.store.all_aliases())
    }

    /// TagResource: adds or replaces tags.
    pub fn tag_key(&self, key: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.run(Operation::TagResource, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
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
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            a.allow()?;
            self.inner.store.remove_tags(&rec.key_id, tag_keys)
        })
    }

    // -------------------------------------------------------- symmetric --

    fn seal_blob(
        &self,
        rec: &KeyRecord,
        v: &VersionRecord,
        plaintext: &[u8],
        ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        let mut out = blob::prefix(&rec.key_id, v.version)?;
        let aad = blob::aad(&out, ec)?;
        let mut iv = [0u8; 12];
        crypto::fill_random(&mut iv)?;
        let sealed = self.inner.backend.seal(
            Self::key_ref(rec, v.version),
            &v.handle,
            &iv,
            &aad,
            plaintext,
        )?;
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_blob(
        &self,
        a: &mut Audit<'_>,
        ciphertext: &[u8],
        ec: &EncryptionContext,
    ) -> Result<SecretBytes> {
        let b = blob::parse(ciphertext)?;
        let rec = self
            .inner
            .store
            .key(&b.key_id)?
            .ok_or_else(|| Error::KeyNotFound(b.key_id.clone()))?;
        a.key(&rec.key_id, Some(b.version));
        Self::require_enabled(&rec)?;
        Self::require_usage(&rec, KeyUsage::EncryptDecrypt)?;
        if rec.spec != KeySpec::Aes256 {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} is asymmetric: use decrypt_rsa",
                rec.key_id
            )));
        }
        let v = self
            .inner
            .store
            .version(&rec.key_id, b.version)?
            .ok_or(Error::DecryptionFailed)?;
        let aad = blob::aad(b.prefix, ec)?;
        self.inner.backend.open(
            Self::key_ref(&rec, v.version),
            &v.handle,
            &b.iv,
            &aad,
            b.sealed,
        )
    }

    /// Encrypt (at most 4096 bytes) under the key's primary version.
    pub fn encrypt(&self, key: &str, plaintext: &[u8], ec: &EncryptionContext) -> Result<Vec<u8>> {
        self.run(Operation::Encrypt, Some(ec), |a| {
            if plaintext.len() > MAX_DIRECT_PLAINTEXT {
                return Err(Error::InvalidArgument(format!(
                    "Encrypt takes at most {MAX_DIRECT_PLAINTEXT} bytes; use envelope encryption"
                )));
            }
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec != KeySpec::Aes256 {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is asymmetric: use encrypt_rsa",
                    rec.key_id
                )));
            }
            self.seal_blob(&rec, &v, plaintext, ec)
        })
    }

    /// Decrypt a blob; the blob names its key and version. A tampered blob
    /// or a wrong context is `DecryptionFailed`.
    pub fn decrypt(&self, ciphertext: &[u8], ec: &EncryptionContext) -> Result<SecretBytes> {
        self.run(Operation::Decrypt, Some(ec), |a| self.open_blob(a, ciphertext, ec))
    }

    /// ReEncrypt: decrypts inside the store and encrypts under another key;
    /// the plaintext never leaves.
    pub fn re_encrypt(
        &self,
        ciphertext: &[u8],
        source_ec: &EncryptionContext,
        destination_key: &str,
        destination_ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.run(Operation::ReEncrypt, Some(destination_ec), |a| {
            let pt = self.open_blob(a, ciphertext, source_ec)?;
            let (rec, v) = self.usable(a, destination_key, KeyUsage::EncryptDecrypt)?;
            if rec.spec != KeySpec::Aes256 {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is asymmetric",
                    rec.key_id
                )));
            }
            self.seal_blob(&rec, &v, pt.as_bytes(), destination_ec)
        })
    }

    fn data_key(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        len: usize,
        ec: &EncryptionContext,
    ) -> Result<DataKey> {
        if !(1..=1024).contains(&len) {
            return Err(Error::InvalidArgument(
                "data keys are 1..=1024 bytes".into(),
            ));
        }
        let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
        if rec.spec != KeySpec::Aes256 {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} is asymmetric",
                rec.key_id
            )));
        }
        let mut plaintext = SecretBytes::zeroed(len)?;
        let r = self.inner.backend.random(len)?;
        plaintext.as_mut_bytes().copy_from_slice(&r);
        let mut r = r;
        zeroize::Zeroize::zeroize(&mut r);
        let ciphertext = self.seal_blob(&rec, &v, plaintext.as_bytes(), ec)?;
        Ok(DataKey {
            plaintext,
            ciphertext,
            key_id: rec.key_id,
            key_version: v.version,
        })
    }

    /// GenerateDataKey: a fresh data key, in plaintext and encrypted.
    pub fn generate_data_key(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
    ) -> Result<DataKey> {
        self.run(Operation::GenerateDataKey, Some(ec), |a| {
            self.data_key(a, key, number_of_bytes, ec)
        })
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    pub fn generate_data_key_without_plaintext(
        &self,
        key: &str,
        number_of_bytes: usize,
        ec: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.run(Operation::GenerateDataKeyWithoutPlaintext, Some(ec), |a| {
            Ok(self.data_key(a, key, number_of_bytes, ec)?.ciphertext)
        })
    }

    // ------------------------------------------------------- asymmetric --

    fn digest_for(
        alg_hash: crypto::HashAlg,
        message: &[u8],
        message_type: MessageType,
    ) -> Result<Vec<u8>> {
        match message_type {
            MessageType::Raw => {
                if message.len() > MAX_MESSAGE {
                    return Err(Error::InvalidArgument(format!(
                        "raw messages are at most {MAX_MESSAGE} bytes; pass a digest"
                    )));
                }
                Ok(crypto::digest(alg_hash, message))
            }
            MessageType::Digest => {
                if message.len() != alg_hash.output_len() {
                    return Err(Error::InvalidArgument(format!(
                        "a {alg_hash:?} digest is {} bytes, not {}",
                        alg_hash.output_len(),
                        message.len()
                    )));
                }
                Ok(message.to_vec())
            }
        }
    }

    fn signing_key(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        alg: SigningAlgorithm,
    ) -> Result<(KeyRecord, VersionRecord)> {
        let (rec, v) = self.usable(a, key, KeyUsage::SignVerify)?;
        if !alg.fits(rec.spec) {
            return Err(Error::InvalidKeyUsage(format!(
                "{alg} cannot be used with {} keys",
                rec.spec
            )));
        }
        Ok((rec, v))
    }

    /// Sign a message (RAW, at most 4096 bytes) or a digest. ECDSA
    /// signatures are DER-encoded.
    pub fn sign(
        &self,
        key: &str,
        message: &[u8],
        alg: SigningAlgorithm,
        message_type: MessageType,
    ) -> Result<Vec<u8>> {
        self.run(Operation::Sign, None, |a| {
            let (rec, v) = self.signing_key(a, key, alg)?;
            let digest = Self::digest_for(alg.hash(), message, message_type)?;
            self.inner
                .backend
                .sign_digest(Self::key_ref(&rec, v.version), &v.handle, alg, &digest)
        })
    }

    /// Verify a signature; `Ok(false)` when it does not verify.
    pub fn verify(
        &self,
        key: &str,
        message: &[u8],
        signature: &[u8],
        alg: SigningAlgorithm,
        message_type: MessageType,
    ) -> Result<bool> {
        self.run(Operation::Verify, None, |a| {
            let (rec, v) = self.signing_key(a, key, alg)?;
            let digest = Self::digest_for(alg.hash(), message, message_type)?;
            let der = self
                .inner
                .backend
                .public_key_der(Self::key_ref(&rec, v.version), &v.handle)?;
            Ok(match alg.rsa_scheme() {
                None => {
                    EcdsaVerifyingKey::from_spki_der(&der)?.verify_digest_der(&digest, signature)
                }
                Some(scheme) => {
                    RsaPublicKey::from_der(&der)?.verify_digest(scheme, &digest, signature)
                }
            })
        })
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo (see [`der_to_pem`]).
    pub fn get_public_key(&self, key: &str) -> Result<Vec<u8>> {
        self.run(Operation::GetPublicKey, None, |a| {
            let rec = self.record(key)?;
            a.key(&rec.key_id, Some(rec.primary_version));
            if matches!(rec.state, KeyState::PendingDeletion { .. }) {
                Self::require_enabled(&rec)?;
            }
            if !rec.spec.is_asymmetric() {
                return Err(Error::InvalidKeyUsage(format!(
                    "key {} is symmetric and has no public key",
                    rec.key_id
                )));
            }
            let v = self.version(&rec, rec.primary_version)?;
            self.inner
                .backend
                .public_key_der(Self::key_ref(&rec, v.version), &v.handle)
        })
    }

    /// Encrypts with an RSA key's public half (RSAES_OAEP_SHA_1/256).
    pub fn encrypt_rsa(
        &self,
        key: &str,
        plaintext: &[u8],
        alg: EncryptionAlgorithm,
    ) -> Result<Vec<u8>> {
        self.run(Operation::Encrypt, None, |a| {
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec.rsa_bits().is_none() {
                return Err(Error::InvalidKeyUsage(format!("{alg} needs an RSA key")));
            }
            let der = self
                .inner
                .backend
                .public_key_der(Self::key_ref(&rec, v.version), &v.handle)?;
            RsaPublicKey::from_der(&der)?.encrypt(alg.padding(), plaintext)
        })
    }

    /// Decrypts RSA-OAEP ciphertext with an RSA key of usage ENCRYPT_DECRYPT.
    pub fn decrypt_rsa(
        &self,
        key: &str,
        ciphertext: &[u8],
        alg: EncryptionAlgorithm,
    ) -> Result<SecretBytes> {
        self.run(Operation::Decrypt, None, |a| {
            let (rec, v) = self.usable(a, key, KeyUsage::EncryptDecrypt)?;
            if rec.spec.rsa_bits().is_none() {
                return Err(Error::InvalidKeyUsage(format!("{alg} needs an RSA key")));
            }
            self.inner.backend.rsa_decrypt(
                Self::key_ref(&rec, v.version),
                &v.handle,
                alg,
                ciphertext,
            )
        })
    }

    /// GenerateMac over at most 4096 bytes.
    pub fn generate_mac(&self, key: &str, message: &[u8], alg: MacAlgorithm) -> Result<Vec<u8>> {
        self.run(Operation::GenerateMac, None, |a| self.mac(a, key, message, alg))
    }

    fn mac(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        message: &[u8],
        alg: MacAlgorithm,
    ) -> Result<Vec<u8>> {
        let (rec, v) = self.usable(a, key, KeyUsage::GenerateVerifyMac)?;
        if !alg.fits(rec.spec) {
            return Err(Error::InvalidKeyUsage(format!(
                "{alg} cannot be used with {} keys",
                rec.spec
            )));
        }
        if message.len() > MAX_MESSAGE {
            return Err(Error::InvalidArgument(format!(
                "messages are at most {MAX_MESSAGE} bytes"
            )));
        }
        self.inner
            .backend
            .mac(Self::key_ref(&rec, v.version), &v.handle, alg, message)
    }

    /// VerifyMac; `Ok(false)` when the MAC does not match.
    pub fn verify_mac(
        &self,
        key: &str,
        message: &[u8],
        mac: &[u8],
        alg: MacAlgorithm,
    ) -> Result<bool> {
        self.run(Operation::VerifyMac, None, |a| {
            Ok(crypto::ct_eq(&self.mac(a, key, message, alg)?, mac))
        })
    }

    /// GenerateRandom: 1..=1024 bytes from the backend's generator.
    pub fn generate_random(&self, number_of_bytes: usize) -> Result<Vec<u8>> {
        self.run(Operation::GenerateRandom, None, |_| {
            if !(1..=MAX_RANDOM).contains(&number_of_bytes) {
                return Err(Error::InvalidArgument(format!(
                    "GenerateRandom takes 1..={MAX_RANDOM} bytes"
                )));
            }
            self.inner.backend.random(number_of_bytes)
        })
    }

    // ------------------------------------------------------------- audit --

    /// Records the audit log's head in the metadata store, so that a log
    /// whose tail was removed fails verification. Done after every change
    /// to keys (which writes the metadata store anyway), not after every use.
    fn store_audit_anchor(&self) -> Result<()> {
        if let Some(f) = &self.inner.audit_file {
            let (next, mac) = f.head()?;
            if next > 0 {
                self.inner
                    .store
                    .set_meta("audit_anchor", format!("{}:{mac}", next - 1).as_bytes())?;
            }
        }
        Ok(())
    }

    /// Verifies the audit log file: reports the first edited, inserted,
    /// removed or reordered record, and a log that ends before the last
    /// record anchored in the metadata store.
    pub fn verify_audit_log(&self) -> Result<AuditReport> {
        let f = self
            .inner
            .audit_file
            .as_ref()
            .ok_or_else(|| Error::Audit("this key store has no audit log file".into()))?;
        let b = self.inner.backend.clone();
        let mac: ChainMac = Arc::new(move |d: &[u8]| b.audit_mac(d));
        let anchor = self.inner.store.meta("audit_anchor")?.and_then(|v| {
            let t = String::from_utf8(v).ok()?;
            let (seq, mac) = t.split_once(':')?;
            Some((seq.parse().ok()?, mac.to_owned()))
        });
        audit::verify_log(f.path(), &mac, anchor)
    }

    /// The audit log file, if any.
    pub fn audit_log_path(&self) -> Option<&Path> {
        self.inner.audit_file.as_ref().map(|f| f.path())
    }
}

impl Inner {
    fn write_audit(&self, event: &AuditEvent) -> Result<()> {
        if let Some(f) = &self.audit_file {
            f.record(event)?;
        }
        let sinks = self
            .sinks
            .read()
            .map_err(|_| Error::Audit("sink list poisoned".into()))?;
        for s in sinks.iter() {
            s.record(event).map_err(|e| match e {
                Error::Audit(m) => Error::Audit(m),
                other => Error::Audit(format!("audit sink failed: {other}")),
            })?;
        }
        Ok(())
    }
}

/// PEM-encodes DER with the given label (e.g. `PUBLIC KEY`).
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
