//! The key store: custodian of master keys, with the operations of the AWS
//! KMS API. Metadata lives in a [`MetadataStore`] (SQLite by default);
//! material lives in a [`Backend`] (sealed software store, or an HSM) and
//! never leaves it. Every operation, allowed or failed, is audited; an
//! operation whose audit record cannot be written does not happen.

mod access;
mod aliases;
mod asymmetric;
mod audit_trail;
pub mod backend;
pub mod blob;
mod cache;
pub mod grant;
mod imported;
mod integrity;
mod key_id;
mod lifecycle;
mod mac;
mod operation;
pub mod policy;
mod rotation;
mod secret_policy;
pub mod secrets;
pub mod store;
mod symmetric;
pub mod types;

use crate::sync::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audit::{self, AuditEvent, AuditLog, AuditSink, ChainMac, FileAuditLog, Outcome};
use crate::crypto;
use crate::error::{Error, Result};
use crate::message::EncryptionContext;
use crate::secret::SecretBytes;

pub use access::{DefaultKeyPolicy, GrantRequest, MAX_PRINCIPAL_LEN};
pub use asymmetric::der_to_pem;
pub use backend::pkcs11::{
    Pin, Pkcs11Backend, Pkcs11Config, TokenSelector, DEFAULT_MAX_SESSIONS, MODULE_ENV,
};
pub use backend::soft::{RootKey, SoftBackend};
pub use backend::{Backend, Gcm, KeyRef, VersionRef};
pub use grant::{decide, decide_retire, AccessDecision, Grant, GrantConstraints};
pub use key_id::KeyId;
pub use operation::Operation;
pub use policy::{Decision, Effect, KeyPolicy, Principals, RequestContext};
pub use secrets::{
    CreateSecretOptions, PasswordSpec, PutSecretValueOptions, RotateSecretResult, RotationStep,
    SecretList, SecretMetadata, SecretRotation, SecretRotator, SecretValue, SecretValueEntry,
    SecretVersionInfo, SecretVersionRef,
};
pub use store::sqlite::SqliteStore;
pub use store::{KeyRecord, MacRow, MetadataStore, VersionRecord};
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
/// The deletion waiting period when the caller names none (as AWS KMS).
pub const DEFAULT_DELETION_WINDOW_DAYS: u32 = 30;
/// The automatic rotation period when the caller names none (as AWS KMS).
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
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
    /// fsync every audit record (slower, survives power loss). Records of
    /// changes to keys are fsync'd whatever this says.
    pub audit_sync: bool,
    /// Who the operations are attributed to in the audit trail.
    pub principal: String,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// How often the audit log's head is anchored in the metadata store
    /// after data-plane records (changes to keys anchor at once).
    pub audit_anchoring: AnchorPolicy,
    /// An operator's explicit, audited decision to start a new audit log
    /// segment, with its reason: the current log is moved aside (kept as
    /// evidence) and a new one starts with a `StartAuditSegment` record that
    /// names the previous segment's anchored head. The way to open a store
    /// whose log was lost or damaged (otherwise refused: `AuditLogTampered`).
    pub new_audit_segment: Option<String>,
    /// The propagation bound: how long this process may use key metadata
    /// (state, versions, alias targets) it read for the data plane before
    /// reading it again. A change made by another process (disable,
    /// scheduled deletion, rotation, alias repointed) is honoured here
    /// within this time; changes made through this key store at once.
    /// `None`: the store's default, [`DEFAULT_METADATA_CACHE_TTL`] for a
    /// shared database (PostgreSQL), zero (read every time) for SQLite.
    pub metadata_cache_ttl: Option<std::time::Duration>,
    /// The policy keys created without one get, stored as the store's
    /// setting (every process follows it); `None`: leave the store's
    /// setting as it is (by default [`DefaultKeyPolicy::AllowAll`]).
    pub default_key_policy: Option<DefaultKeyPolicy>,
}

/// The default propagation bound of a store shared through a database.
pub const DEFAULT_METADATA_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// When data-plane audit records are anchored: after at most this many
/// records or this much time, whichever comes first (and when the store is
/// dropped). A removed tail is detected back to the last anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorPolicy {
    /// Records at most between anchors (1: after every record).
    pub max_records: u64,
    /// Time at most between anchors.
    pub max_interval: std::time::Duration,
}

/// Anchor at least every 1,000 records.
pub const DEFAULT_ANCHOR_MAX_RECORDS: u64 = 1000;
/// Anchor at least every second.
pub const DEFAULT_ANCHOR_MAX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for AnchorPolicy {
    fn default() -> Self {
        AnchorPolicy {
            max_records: DEFAULT_ANCHOR_MAX_RECORDS,
            max_interval: DEFAULT_ANCHOR_MAX_INTERVAL,
        }
    }
}

impl Default for KeyStoreOptions {
    fn default() -> Self {
        KeyStoreOptions {
            audit_log: None,
            audit_sync: false,
            principal: std::env::var("USER").unwrap_or_else(|_| "local".into()),
            clock: Arc::new(SystemClock),
            audit_anchoring: AnchorPolicy::default(),
            new_audit_segment: None,
            metadata_cache_ttl: None,
            default_key_policy: None,
        }
    }
}

/// What GenerateDataKey for a recipient returns: no plaintext.
#[derive(Debug, Clone)]
pub struct DataKeyForRecipient {
    /// The data key as a CMS EnvelopedData for the recipient (DER).
    pub ciphertext_for_recipient: Vec<u8>,
    /// The data key encrypted under the key-store key (a blob).
    pub ciphertext: Vec<u8>,
    /// The key that encrypted it.
    pub key_id: KeyId,
    /// The version that encrypted it.
    pub key_version: u32,
}

/// A data key from GenerateDataKey.
pub struct DataKey {
    /// The plaintext data key (use it, then drop it).
    pub plaintext: SecretBytes,
    /// The data key encrypted under the key-store key (a blob).
    pub ciphertext: Vec<u8>,
    /// The key that encrypted it.
    pub key_id: KeyId,
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

pub(super) struct Inner {
    store: Box<dyn MetadataStore>,
    backend: Arc<dyn Backend>,
    audit_log: Option<Box<dyn AuditLog>>,
    sinks: RwLock<Vec<Arc<dyn AuditSink>>>,
    clock: Arc<dyn Clock>,
    // Serialises this process's lifecycle changes (version numbering).
    mutate: Mutex<()>,
    counts: Mutex<HashMap<Operation, u64>>,
    // Bumped after every revoking change in this process; see `epoch`.
    epoch: std::sync::atomic::AtomicU64,
    // The ValidTo times (Unix seconds) of imported material this process
    // has used and that are still ahead: `epoch` moves when one passes, so
    // that materials cached from such a key stop being served then.
    expiries: Mutex<std::collections::BTreeSet<i64>>,
    // Bumped after an alias is repointed or deleted; see `alias_epoch`.
    alias_epoch: std::sync::atomic::AtomicU64,
    anchoring: AnchorPolicy,
    // The audit log segment this process writes (see `AuditAnchor`).
    segment: std::sync::atomic::AtomicU64,
    // Records written since the last anchor, and when that anchor was.
    unanchored: Mutex<(u64, std::time::Instant)>,
    // Key metadata of the data plane, kept for the propagation bound.
    cache: cache::MetaCache,
}

/// The key store. Cheap to clone; one instance is shared by many threads.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
    // Who this handle acts for (see `as_principal`).
    principal: Arc<str>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("backend", &self.inner.backend.kind())
            .finish_non_exhaustive()
    }
}

/// The audit record being built for one request.
pub(super) struct Audit<'a> {
    ks: &'a Inner,
    event: AuditEvent,
    written: bool,
    // The principal was refused (the record's outcome is `denied`).
    denied: bool,
    // Nothing happened that needs a record (an internal no-op).
    quiet: bool,
    // The failure as the trail records it, when it differs from what the
    // caller is told (words that must not be kept).
    audit_error: Option<String>,
}

impl Audit<'_> {
    pub(super) fn key(&mut self, key_id: &str, version: Option<u32>) {
        self.event.key_id = Some(key_id.to_owned());
        if version.is_some() {
            self.event.key_version = version;
        }
    }

    /// Moves the key named so far into the source fields (ReEncrypt: the
    /// source blob's key, before the destination key is named).
    pub(super) fn key_is_source(&mut self) {
        self.event.source_key_id = self.event.key_id.take();
        self.event.source_key_version = self.event.key_version.take();
    }

    /// Writes the "allowed" record. Called at the point of no return: just
    /// before a change is committed or a result is released.
    pub(super) fn allow(&mut self) -> Result<()> {
        if !self.written {
            self.event.outcome = Outcome::Allowed;
            self.ks.write_audit(&self.event)?;
            self.written = true;
        }
        Ok(())
    }
}

pub(super) fn ms_to_s(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl KeyStore {
    /// Opens (creating if needed) a key store in the SQLite file `path`
    /// with the soft backend sealed under `root`. The audit log is
    /// `path` + `.audit.jsonl` unless `options.audit_log` says otherwise.
    ///
    /// `path` may instead be a PostgreSQL URL (`postgresql://...`): the key
    /// store of a fleet, whose audit trail is kept in the database (see
    /// [`store::postgres::PostgresStore`]).
    pub fn open(path: impl AsRef<Path>, root: &RootKey, options: KeyStoreOptions) -> Result<Self> {
        Self::open_location(path.as_ref(), Arc::new(SoftBackend::new(root)?), options)
    }

    /// A SQLite file or a PostgreSQL URL.
    fn open_location(
        location: &Path,
        backend: Arc<dyn Backend>,
        options: KeyStoreOptions,
    ) -> Result<Self> {
        match location.to_str() {
            Some(url) if url.starts_with("postgresql://") || url.starts_with("postgres://") => {
                Self::open_postgres(url, backend, options)
            }
            _ => Self::open_sqlite(location, backend, options),
        }
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(
        url: &str,
        backend: Arc<dyn Backend>,
        options: KeyStoreOptions,
    ) -> Result<Self> {
        let store = store::postgres::PostgresStore::open(url)?;
        Self::open_with(Box::new(store), backend, options)
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres(_: &str, _: Arc<dyn Backend>, _: KeyStoreOptions) -> Result<Self> {
        Err(Error::Unsupported(
            "this build of sealbox has no PostgreSQL support (feature `postgres`)".into(),
        ))
    }

    /// Opens (creating if needed) a key store in the SQLite file `path`
    /// whose keys live in a PKCS#11 token.
    pub fn open_pkcs11(
        path: impl AsRef<Path>,
        config: Pkcs11Config,
        options: KeyStoreOptions,
    ) -> Result<Self> {
        Self::open_location(
            path.as_ref(),
            Arc::new(Pkcs11Backend::open(config)?),
            options,
        )
    }

    /// A key store in the SQLite file `path` over `backend`; the audit log
    /// is `path` + `.audit.jsonl` unless `options.audit_log` says otherwise.
    fn open_sqlite(
        path: &Path,
        backend: Arc<dyn Backend>,
        mut options: KeyStoreOptions,
    ) -> Result<Self> {
        if options.audit_log.is_none() {
            let mut p = path.as_os_str().to_owned();
            p.push(".audit.jsonl");
            options.audit_log = Some(PathBuf::from(p));
        }
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
        let anchor = store.audit_anchor()?;
        let mut new_segment = None;
        let b = backend.clone();
        let mac: ChainMac = Arc::new(move |d: &[u8]| b.audit_mac(d));
        let log: Option<Box<dyn AuditLog>> = match (
            &options.audit_log,
            store.audit_log(mac.clone(), options.audit_sync),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidArgument(
                    "this key store keeps its audit trail in its database; an audit log file \
                     cannot be set"
                        .into(),
                ))
            }
            (Some(p), None) => Some(Box::new(FileAuditLog::open(p, mac, options.audit_sync)?)),
            (None, Some(log)) => Some(log?),
            (None, None) => None,
        };
        let audit_log = match log {
            Some(log) => {
                // The anchor never moves backwards: a log that does not hold
                // the anchored record was cut short or rewritten.
                let damage = match &anchor {
                    // An unreadable log is damage too: the operator's new
                    // segment is the way on from it as well.
                    Some(a) => match log.check_anchor(a) {
                        Ok(d) => d,
                        Err(e @ Error::StoreUnavailable(_)) => return Err(e),
                        Err(e) => Some(format!("it cannot be read: {e}")),
                    },
                    None => None,
                };
                match (&options.new_audit_segment, damage) {
                    (None, None) => Some(log),
                    (None, Some(why)) => {
                        return Err(Error::AuditLogTampered(format!(
                            "{}: {why}; the key store will not write to it. If the log was \
                             lost or damaged, an operator starts a new, audited log segment \
                             (`sealbox audit new-segment --reason ...`)",
                            log.location()
                        )))
                    }
                    (Some(reason), damage) => {
                        let (log, detail) =
                            audit_trail::replace_log(log, &options, &anchor, damage, reason)?;
                        new_segment = Some(detail);
                        Some(log)
                    }
                }
            }
            None => None,
        };
        let segment = anchor.as_ref().map_or(0, |a| a.segment) + u64::from(new_segment.is_some());
        let ttl = options
            .metadata_cache_ttl
            .unwrap_or_else(|| store.default_cache_ttl());
        let ks = KeyStore {
            inner: Arc::new(Inner {
                store,
                backend,
                audit_log,
                sinks: RwLock::new(Vec::new()),
                clock: options.clock,
                mutate: Mutex::new(()),
                counts: Mutex::new(HashMap::new()),
                epoch: std::sync::atomic::AtomicU64::new(0),
                expiries: Mutex::new(std::collections::BTreeSet::new()),
                alias_epoch: std::sync::atomic::AtomicU64::new(0),
                anchoring: options.audit_anchoring,
                segment: std::sync::atomic::AtomicU64::new(segment),
                unanchored: Mutex::new((0, std::time::Instant::now())),
                cache: cache::MetaCache::new(ttl),
            }),
            principal: Arc::from(options.principal.as_str()),
        };
        if let Some(p) = options.default_key_policy {
            ks.inner
                .store
                .set_meta(access::DEFAULT_POLICY, p.name().as_bytes())?;
        }
        if let Some(detail) = new_segment {
            ks.run(Operation::StartAuditSegment, None, |a| {
                a.event.detail = Some(detail);
                Ok(())
            })?;
        }
        ks.seal_legacy_rows()?;
        ks.purge_expired_keys()?;
        ks.purge_expired_material()?;
        ks.purge_expired_secrets()?;
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

    /// A number that grows with every change that may revoke a use of a key
    /// (disable, scheduled or done deletion, an alias repointed or deleted)
    /// made through this store in this process: caching
    /// materials managers over a key-store keyring drop their entries when
    /// it moves (see [`Keyring::revocation_epoch`](crate::keyring::Keyring::revocation_epoch)).
    ///
    /// Changes made by other processes sharing the store move it too, once
    /// this process reads the store's revocation counter again (at most the
    /// propagation bound later; see `KeyStoreOptions::metadata_cache_ttl`).
    pub fn epoch(&self) -> u64 {
        self.pass_expiries();
        self.inner
            .epoch
            .load(std::sync::atomic::Ordering::SeqCst)
            .wrapping_add(
                self.inner
                    .cache
                    .counter(&*self.inner.store, cache::REVOCATIONS),
            )
    }

    /// The propagation bound this key store works with.
    pub fn metadata_cache_ttl(&self) -> std::time::Duration {
        self.inner.cache.ttl()
    }

    /// A number that grows whenever an alias is repointed or deleted
    /// through this store in this process (for keyrings that name their key
    /// by alias).
    ///
    /// Aliases repointed or deleted by other processes sharing the store
    /// move it too, within the propagation bound.
    pub fn alias_epoch(&self) -> u64 {
        self.inner
            .alias_epoch
            .load(std::sync::atomic::Ordering::SeqCst)
            .wrapping_add(
                self.inner
                    .cache
                    .counter(&*self.inner.store, cache::ALIAS_CHANGES),
            )
    }

    /// How many times `operation` was allowed since this store was opened.
    pub fn count(&self, operation: Operation) -> u64 {
        self.inner
            .counts
            .lock()
            .map(|c| c.get(&operation).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub(super) fn now_ms(&self) -> i64 {
        self.inner.clock.now_millis()
    }

    /// Runs one audited operation.
    pub(super) fn run<T>(
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
                source_key_id: None,
                source_key_version: None,
                detail: None,
                principal: self.principal.to_string(),
                encryption_context: ec.cloned(),
                outcome: Outcome::Failed,
                error: None,
                request_id: KeyId::generate()?.into(),
            },
            written: false,
            denied: false,
            quiet: false,
            audit_error: None,
        };
        match f(&mut a) {
            Ok(v) if a.quiet && !a.written => Ok(v),
            Ok(v) => {
                a.allow()?;
                if let Ok(mut c) = self.inner.counts.lock() {
                    *c.entry(operation).or_default() += 1;
                }
                if operation.revokes() {
                    // An alias repointed or deleted matters only to those
                    // who name keys by alias.
                    let counter = match operation {
                        Operation::UpdateAlias | Operation::DeleteAlias => &self.inner.alias_epoch,
                        _ => &self.inner.epoch,
                    };
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                if operation.is_mutation() {
                    self.inner.cache.clear();
                    if operation.revokes() {
                        // Other processes' caching materials managers see
                        // it within their bound (see `epoch`).
                        let _ =
                            cache::bump(&*self.inner.store, cache::revocation_counter(operation));
                    }
                    // The change is committed and its record written: an
                    // anchor that cannot be stored now (the database is
                    // busy) is stored by the next one, and must not make a
                    // done change look failed.
                    let _ = self.store_audit_anchor();
                } else {
                    self.anchor_when_due();
                }
                Ok(v)
            }
            Err(e) => {
                if operation.is_mutation() && a.written {
                    // The change may have been committed before a later
                    // step failed: what was cached no longer holds.
                    self.inner.cache.clear();
                    if operation.revokes() {
                        let _ =
                            cache::bump(&*self.inner.store, cache::revocation_counter(operation));
                    }
                }
                // An audit failure before the point of no return has been
                // reported already; anything else is recorded as failed.
                if !matches!(e, Error::Audit(_)) || a.written {
                    a.event.outcome = if a.denied {
                        Outcome::Denied
                    } else {
                        Outcome::Failed
                    };
                    a.event.error = Some(a.audit_error.take().unwrap_or_else(|| e.to_string()));
                    if let Err(ae) = self.inner.write_audit(&a.event) {
                        if !a.written {
                            return Err(ae);
                        }
                    }
                    self.anchor_when_due();
                }
                Err(e)
            }
        }
    }

    // ------------------------------------------------------------ lookup --

    /// The key ID an ID or alias names (not audited: no key is used).
    pub fn resolve_key_id(&self, key: &str) -> Result<KeyId> {
        Ok(self.record(key)?.key_id)
    }

    pub(super) fn resolve_id(&self, key: &str) -> Result<String> {
        if key.starts_with("alias/") {
            return self
                .inner
                .store
                .alias_row(key)?
                .map(|r| self.verified_alias(key, r))
                .transpose()?
                .ok_or_else(|| Error::KeyNotFound(key.to_owned()));
        }
        Ok(key.to_owned())
    }

    pub(super) fn record(&self, key: &str) -> Result<KeyRecord> {
        let id = self.resolve_id(key)?;
        self.load_key(&id)?.ok_or(Error::KeyNotFound(id))
    }

    /// A key's row for the data plane: from the metadata cache while fresh.
    pub(super) fn cached_record(&self, key: &str) -> Result<KeyRecord> {
        let c = &self.inner.cache;
        let id = if key.starts_with("alias/") {
            c.alias(key, || self.load_alias(key))?
                .ok_or_else(|| Error::KeyNotFound(key.to_owned()))?
        } else {
            key.to_owned()
        };
        c.key(&id, || self.load_key(&id))?
            .ok_or(Error::KeyNotFound(id))
    }

    /// One version for the data plane: from the metadata cache while fresh.
    pub(super) fn cached_version(&self, rec: &KeyRecord, version: u32) -> Result<VersionRecord> {
        self.inner
            .cache
            .version(&rec.key_id, version, || {
                self.load_version(&rec.key_id, version)
            })?
            .ok_or_else(|| Error::KeyNotFound(format!("{} version {version}", rec.key_id)))
    }

    pub(super) fn require_enabled(rec: &KeyRecord) -> Result<()> {
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
            KeyState::PendingImport => Err(Error::KeyDisabled(format!(
                "key {} is pending import",
                rec.key_id
            ))),
        }
    }

    pub(super) fn require_usage(rec: &KeyRecord, usage: KeyUsage) -> Result<()> {
        if rec.usage != usage {
            return Err(Error::InvalidKeyUsage(format!(
                "key {} has usage {}, not {usage}",
                rec.key_id, rec.usage
            )));
        }
        Ok(())
    }

    pub(super) fn key_ref<'a>(rec: &'a KeyRecord, version: u32) -> KeyRef<'a> {
        KeyRef {
            key_id: &rec.key_id,
            version,
            spec: rec.spec,
            usage: rec.usage,
        }
    }

    pub(super) fn version_ref<'a>(rec: &'a KeyRecord, v: &'a VersionRecord) -> VersionRef<'a> {
        VersionRef {
            key: Self::key_ref(rec, v.version),
            handle: &v.handle,
        }
    }

    pub(super) fn version(&self, rec: &KeyRecord, version: u32) -> Result<VersionRecord> {
        self.load_version(&rec.key_id, version)?
            .ok_or_else(|| Error::KeyNotFound(format!("{} version {version}", rec.key_id)))
    }

    /// An enabled key of `usage`, rotated first if its rotation is due.
    pub(super) fn usable(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        usage: KeyUsage,
    ) -> Result<(KeyRecord, VersionRecord)> {
        let mut rec = self.cached_record(key)?;
        a.key(&rec.key_id, None);
        // ReEncrypt's destination (the source key was named first).
        let action = match a.event.operation {
            Operation::ReEncrypt if a.event.source_key_id.is_some() => Some(policy::RE_ENCRYPT_TO),
            op => op.policy_action(),
        };
        if let Some(action) = action {
            let ec = a.event.encryption_context.clone();
            let alias = key.starts_with("alias/").then_some(key);
            self.authorize(a, &rec, action, ec.as_ref(), alias)?;
        }
        Self::require_enabled(&rec)?;
        Self::require_usage(&rec, usage)?;
        self.require_material(&rec)?;
        if rec
            .next_rotation_at
            .is_some_and(|t| t <= ms_to_s(self.now_ms()))
        {
            self.rotate_due(&rec.key_id)?;
            // Read again after waiting for the change lock: another
            // process may have disabled the key meanwhile.
            rec = self.record(&rec.key_id)?;
            Self::require_enabled(&rec)?;
        }
        let v = self.cached_version(&rec, rec.primary_version)?;
        a.key(&rec.key_id, Some(v.version));
        Ok((rec, v))
    }

    pub(super) fn metadata(&self, rec: KeyRecord) -> Result<KeyMetadata> {
        let s = &self.inner.store;
        let versions = self.all_versions(&rec)?;
        let now = ms_to_s(self.now_ms());
        // An imported key missing some material is PendingImport, whatever
        // its row says (which applies again once the material is back); a
        // pending deletion says more.
        let key_state = match rec.state {
            KeyState::Enabled | KeyState::Disabled
                if versions.iter().any(|v| !v.usable_at(now)) =>
            {
                KeyState::PendingImport
            }
            state => state,
        };
        Ok(KeyMetadata {
            aliases: s.aliases_of(&rec.key_id)?,
            tags: s.tags_of(&rec.key_id)?,
            valid_to: versions.iter().filter_map(|v| v.valid_to).min(),
            versions: versions
                .into_iter()
                .map(|v| KeyVersion {
                    version: v.version,
                    created_at: v.created_at,
                    valid_to: v.valid_to,
                    material_present: !v.handle.is_empty(),
                })
                .collect(),
            key_id: rec.key_id,
            description: rec.description,
            key_spec: rec.spec,
            key_usage: rec.usage,
            origin: rec.origin,
            key_state,
            created_at: rec.created_at,
            primary_version: rec.primary_version,
            rotation_period_days: rec.rotation_period_days,
            next_rotation_at: rec.next_rotation_at,
            backend: rec.backend,
        })
    }
}
