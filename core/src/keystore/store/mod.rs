//! Metadata stores: where key metadata, versions, aliases, tags and
//! sealed material handles live. One trait; SQLite is the embedded default.

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod secrets;
pub mod sqlite;

use std::collections::BTreeMap;

use crate::audit::{AuditAnchor, AuditLog, ChainMac};
use crate::error::Result;
use crate::keystore::types::{KeySpec, KeyState, KeyUsage, Origin};
use crate::keystore::KeyId;

/// A key's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key ID.
    pub key_id: KeyId,
    /// Free text.
    pub description: String,
    /// Spec.
    pub spec: KeySpec,
    /// Usage.
    pub usage: KeyUsage,
    /// Origin.
    pub origin: Origin,
    /// State.
    pub state: KeyState,
    /// Unix seconds.
    pub created_at: i64,
    /// The primary version.
    pub primary_version: u32,
    /// Automatic rotation period.
    pub rotation_period_days: Option<u32>,
    /// When the next automatic rotation is due.
    pub next_rotation_at: Option<i64>,
    /// The backend kind holding the material.
    pub backend: String,
    /// The row's MAC (see `KeyStore`'s metadata integrity): empty in rows
    /// written before rows had one.
    pub mac: Vec<u8>,
}

/// One version's row.
#[derive(Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// Version number.
    pub version: u32,
    /// Unix seconds.
    pub created_at: i64,
    /// The backend's handle (soft: sealed material); empty once imported
    /// material was deleted or purged after it expired.
    pub handle: Vec<u8>,
    /// Imported material: when it expires (Unix seconds).
    pub valid_to: Option<i64>,
    /// Imported material: a MAC of the material under the backend's audit
    /// key (`KeyStore::material_fingerprint`), so that only the same
    /// material can be imported again. Empty for generated material.
    pub fingerprint: Vec<u8>,
    /// The row's MAC.
    pub mac: Vec<u8>,
}

impl VersionRecord {
    /// Whether the material can be used at `now` (Unix seconds): it is
    /// there and has not expired.
    pub fn usable_at(&self, now: i64) -> bool {
        !self.handle.is_empty() && self.valid_to.is_none_or(|t| now < t)
    }
}

/// A row that carries a MAC, for [`MetadataStore::set_row_mac`].
#[derive(Debug, Clone, Copy)]
pub enum MacRow<'a> {
    /// A key's row.
    Key(&'a str),
    /// A version of a key.
    Version(&'a str, u32),
    /// An alias.
    Alias(&'a str),
    /// A key's policy.
    Policy(&'a str),
    /// A grant.
    Grant(&'a str),
}

impl std::fmt::Debug for VersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionRecord")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Persistence for the key store. Every method is one transaction.
pub trait MetadataStore: Send + Sync + std::fmt::Debug {
    /// A store-wide value (schema facts, backend check value, audit anchor).
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Sets a store-wide value.
    fn set_meta(&self, name: &str, value: &[u8]) -> Result<()>;
    /// Inserts a key with its first version, optional alias, tags and
    /// policy (JSON text; `None`: the default policy), in one transaction.
    fn create_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        alias: Option<(&str, &[u8])>,
        tags: &BTreeMap<String, String>,
        policy: Option<(&str, &[u8])>,
    ) -> Result<()>;
    /// A key's row.
    fn key(&self, key_id: &str) -> Result<Option<KeyRecord>>;
    /// The key an alias points at.
    fn alias_target(&self, alias: &str) -> Result<Option<String>>;
    /// The aliases of a key.
    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>>;
    /// All aliases and their keys.
    fn all_aliases(&self) -> Result<Vec<(String, String)>>;
    /// The tags of a key.
    fn tags_of(&self, key_id: &str) -> Result<BTreeMap<String, String>>;
    /// Key IDs in order, after `after`, at most `limit`.
    fn list_keys(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    /// All versions of a key, oldest first.
    fn versions(&self, key_id: &str) -> Result<Vec<VersionRecord>>;
    /// One version.
    fn version(&self, key_id: &str, version: u32) -> Result<Option<VersionRecord>>;
    /// Adds a version, makes it primary and sets the next rotation time;
    /// `key_mac` is the key row's new MAC.
    fn add_version(
        &self,
        key_id: &str,
        version: &VersionRecord,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()>;
    /// Replaces a version's material handle (empty: deleted; the old
    /// bytes are overwritten where the store can), expiration, fingerprint
    /// and MAC.
    fn set_version_material(
        &self,
        key_id: &str,
        version: u32,
        handle: &[u8],
        valid_to: Option<i64>,
        fingerprint: &[u8],
        mac: &[u8],
    ) -> Result<()>;
    /// Versions whose material expired before `now` and is still there:
    /// (key ID, version).
    fn expired_material(&self, now: i64) -> Result<Vec<(String, u32)>>;
    /// Sets the state (and the row's MAC).
    fn set_state(&self, key_id: &str, state: KeyState, key_mac: &[u8]) -> Result<()>;
    /// Sets the rotation schedule (and the row's MAC).
    fn set_rotation(
        &self,
        key_id: &str,
        period_days: Option<u32>,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()>;
    /// Sets the description (and the row's MAC).
    fn set_description(&self, key_id: &str, description: &str, key_mac: &[u8]) -> Result<()>;
    /// Creates an alias, or repoints it when `replace`.
    fn put_alias(&self, alias: &str, key_id: &str, replace: bool, mac: &[u8]) -> Result<()>;
    /// The key an alias points at, with the alias row's MAC.
    fn alias_row(&self, alias: &str) -> Result<Option<(String, Vec<u8>)>>;
    /// Sets the MAC of one row (sealing rows written before rows had one).
    fn set_row_mac(&self, row: MacRow<'_>, mac: &[u8]) -> Result<()>;
    /// Deletes an alias; whether it existed.
    fn delete_alias(&self, alias: &str) -> Result<bool>;
    /// Adds or replaces tags.
    fn set_tags(&self, key_id: &str, tags: &BTreeMap<String, String>) -> Result<()>;
    /// Removes tags.
    fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<()>;
    /// A key's policy (JSON text) and its row's MAC.
    fn key_policy(&self, key_id: &str) -> Result<Option<(String, Vec<u8>)>>;
    /// Sets a key's policy.
    fn set_key_policy(&self, key_id: &str, policy: &str, mac: &[u8]) -> Result<()>;
    /// The grants of a key (JSON text each, with the row's MAC).
    fn grants_of(&self, key_id: &str) -> Result<Vec<(String, Vec<u8>)>>;
    /// Adds a grant (`AlreadyExists` for a grant ID in use).
    fn add_grant(&self, grant_id: &str, key_id: &str, grant_json: &str, mac: &[u8]) -> Result<()>;
    /// Deletes a grant of a key; whether it existed.
    fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<bool>;
    /// Deletes a key, its versions (sealed material included), aliases and tags.
    fn delete_key(&self, key_id: &str) -> Result<()>;
    /// Keys pending deletion whose date has passed.
    fn due_deletions(&self, now: i64) -> Result<Vec<String>>;
    /// Enabled keys whose automatic rotation is due.
    fn due_rotations(&self, now: i64) -> Result<Vec<String>>;

    /// The audit anchor: the last record of the audit log known to have
    /// been written.
    fn audit_anchor(&self) -> Result<Option<AuditAnchor>> {
        Ok(self
            .meta(AUDIT_ANCHOR)?
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|t| AuditAnchor::decode(&t)))
    }

    /// Moves the audit anchor forward to `anchor`; an anchor that is not
    /// after the stored one leaves it as it is (several processes anchor
    /// the one log, in any order). Stores that several processes share
    /// override this with one atomic compare-and-set.
    fn advance_audit_anchor(&self, anchor: &AuditAnchor) -> Result<()> {
        match self.audit_anchor()? {
            Some(stored) if !anchor.is_after(&stored) => Ok(()),
            _ => self.set_meta(AUDIT_ANCHOR, anchor.encode().as_bytes()),
        }
    }

    /// Takes the store's change lock, which every process that changes
    /// keys holds while it reads what it changes and writes it: work that
    /// falls due (rotation, purge) is checked and done under it, so it
    /// happens once however many processes find it due, and version numbers
    /// are never computed twice. `None`: a store of one process (the key
    /// store's own mutex suffices).
    fn change_lock(&self) -> Result<Option<ChangeLock<'_>>> {
        Ok(None)
    }

    /// How long key metadata read from this store may be used before it
    /// is read again, unless the key store's options say otherwise: zero
    /// for a local file (reads are cheap), the propagation bound for a
    /// database that a fleet shares.
    fn default_cache_ttl(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// The audit log this store keeps itself (PostgreSQL: a table), chained
    /// with `mac`; `None` for stores whose log is a file beside them.
    fn audit_log(&self, mac: ChainMac, sync: bool) -> Option<Result<Box<dyn AuditLog>>> {
        let _ = (mac, sync);
        None
    }

    // ------------------------------------------------ secrets (issue 21) --
    /// The secrets this store keeps (see [`secrets::SecretStore`]); `None`
    /// for a store without them (secret operations are then `Unsupported`).
    fn secrets(&self) -> Option<&dyn secrets::SecretStore> {
        None
    }
}

/// A held change lock (see [`MetadataStore::change_lock`]); released on drop.
#[derive(Debug)]
pub struct ChangeLock<'a> {
    held: Held<'a>,
}

enum Held<'a> {
    // An exclusive lock on a file beside the database (SQLite).
    File(&'a std::fs::File),
    // A guard whose drop releases the lock (PostgreSQL: a session advisory
    // lock on a connection of its own, which the server also releases when
    // the process dies).
    Guard(#[allow(dead_code)] Box<dyn Send + 'a>),
}

impl std::fmt::Debug for Held<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Held::File(_) => "File",
            Held::Guard(_) => "Guard",
        })
    }
}

impl<'a> ChangeLock<'a> {
    /// Takes an exclusive lock on `file` (waiting for other processes).
    pub fn exclusive(file: &'a std::fs::File) -> Result<Self> {
        file.lock().map_err(|e| {
            crate::error::Error::Storage(format!("taking the key store's change lock: {e}"))
        })?;
        Ok(ChangeLock {
            held: Held::File(file),
        })
    }

    /// A lock that `guard` holds and releases when it is dropped.
    pub fn held_by(guard: impl Send + 'a) -> Self {
        ChangeLock {
            held: Held::Guard(Box::new(guard)),
        }
    }
}

impl Drop for ChangeLock<'_> {
    fn drop(&mut self) {
        if let Held::File(file) = self.held {
            let _ = file.unlock();
        }
    }
}

/// The metadata name of the audit anchor.
pub const AUDIT_ANCHOR: &str = "audit_anchor";
