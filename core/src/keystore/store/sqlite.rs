//! The SQLite metadata store: one file, WAL journal, `synchronous=FULL`,
//! every change in one transaction, so a crash at any point leaves either
//! the old or the new state. The schema is versioned through
//! `PRAGMA user_version` and migrated forward at open.

use crate::sync::{Mutex, MutexGuard};
use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Error, Result};
use crate::keystore::types::KeyState;

use super::{ChangeLock, KeyRecord, MacRow, MetadataStore, VersionRecord, AUDIT_ANCHOR};
use crate::audit::AuditAnchor;

mod secrets;

/// Schema migrations, applied in order; `user_version` counts those done.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
     CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        spec TEXT NOT NULL,
        usage TEXT NOT NULL,
        origin TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('Enabled','Disabled','PendingDeletion')),
        deletion_date INTEGER,
        created_at INTEGER NOT NULL,
        primary_version INTEGER NOT NULL,
        rotation_period_days INTEGER,
        next_rotation_at INTEGER,
        backend TEXT NOT NULL);
     CREATE TABLE key_versions (
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        handle BLOB NOT NULL,
        PRIMARY KEY (key_id, version));
     CREATE TABLE aliases (
        alias TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE);
     CREATE TABLE tags (
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key));
     CREATE INDEX aliases_by_key ON aliases(key_id);",
    // 2: key policies and grants (issue 16). A key without a policy row
    // has the default policy (every principal, every action).
    "CREATE TABLE key_policies (
        key_id TEXT PRIMARY KEY REFERENCES keys(key_id) ON DELETE CASCADE,
        policy TEXT NOT NULL);
     CREATE TABLE grants (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        grant_json TEXT NOT NULL);
     CREATE INDEX grants_by_key ON grants(key_id);",
    // 3: secrets (issue 21): values sealed under a key-store key (never
    // plaintext), their versions and staging labels.
    "CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        key_id TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_changed_at INTEGER NOT NULL,
        last_rotated_at INTEGER,
        deleted_at INTEGER,
        deletion_date INTEGER);
     CREATE TABLE secret_versions (
        name TEXT NOT NULL REFERENCES secrets(name) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('text','binary')),
        key_id TEXT NOT NULL,
        ciphertext BLOB NOT NULL,
        PRIMARY KEY (name, version_id));
     CREATE TABLE secret_labels (
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (name, label),
        FOREIGN KEY (name, version_id) REFERENCES secret_versions(name, version_id) ON DELETE CASCADE);
     CREATE INDEX secrets_by_deletion ON secrets(deletion_date) WHERE deletion_date IS NOT NULL;",
    // 4: a MAC on every row whose change would change what a key may do
    // (issue 16): keys, versions, aliases, policies, grants. Empty in rows
    // written before; the key store seals them once, audited.
    "ALTER TABLE keys ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
     ALTER TABLE key_versions ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
     ALTER TABLE aliases ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
     ALTER TABLE key_policies ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
     ALTER TABLE grants ADD COLUMN mac BLOB NOT NULL DEFAULT x'';",
    // 5: a secret's resource policy (issue 21: `secretsmanager:` actions),
    // with a MAC under the backend's audit key binding it to the secret.
    "CREATE TABLE secret_policies (
        name TEXT PRIMARY KEY REFERENCES secrets(name) ON DELETE CASCADE,
        policy TEXT NOT NULL,
        mac BLOB NOT NULL);",
    // 6: imported material that expires (issue 18): its expiration, and a
    // fingerprint so that only the same material is imported again.
    "ALTER TABLE key_versions ADD COLUMN valid_to INTEGER;
     ALTER TABLE key_versions ADD COLUMN fingerprint BLOB NOT NULL DEFAULT x'';
     CREATE INDEX key_versions_by_valid_to ON key_versions(valid_to) WHERE valid_to IS NOT NULL;",
];

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    // `<database>.lock`: the change lock every process of this store takes
    // (`MetadataStore::change_lock`); `None` for an in-memory store.
    change_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore(..)")
    }
}

fn state_cols(s: &KeyState) -> (&'static str, Option<i64>) {
    match s {
        KeyState::PendingDeletion { deletion_date } => ("PendingDeletion", Some(*deletion_date)),
        other => (other.name(), None),
    }
}

fn parse<T: std::str::FromStr>(s: String) -> rusqlite::Result<T> {
    s.parse()
        .map_err(|_| rusqlite::Error::InvalidColumnType(0, s, rusqlite::types::Type::Text))
}

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let state: String = r.get(5)?;
    let deletion: Option<i64> = r.get(6)?;
    let state = match (state.as_str(), deletion) {
        ("Enabled", _) => KeyState::Enabled,
        ("Disabled", _) => KeyState::Disabled,
        (_, Some(d)) => KeyState::PendingDeletion { deletion_date: d },
        _ => KeyState::Disabled,
    };
    Ok(KeyRecord {
        key_id: r.get(0)?,
        description: r.get(1)?,
        spec: parse(r.get(2)?)?,
        usage: parse(r.get(3)?)?,
        origin: parse(r.get(4)?)?,
        state,
        created_at: r.get(7)?,
        primary_version: r.get(8)?,
        rotation_period_days: r.get(9)?,
        next_rotation_at: r.get(10)?,
        backend: r.get(11)?,
        mac: r.get(12)?,
    })
}

fn version_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        version: r.get(0)?,
        created_at: r.get(1)?,
        handle: r.get(2)?,
        mac: r.get(3)?,
        valid_to: r.get(4)?,
        fingerprint: r.get(5)?,
    })
}

const VERSION_COLS: &str = "version, created_at, handle, mac, valid_to, fingerprint";
const INSERT_VERSION: &str = "INSERT INTO key_versions (key_id, version, created_at, handle, mac, valid_to, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const KEY_COLS: &str = "key_id, description, spec, usage, origin, state, deletion_date, created_at, primary_version, rotation_period_days, next_rotation_at, backend, mac";

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        // A new database is created with mode 0600 whatever the umask
        // (SQLite gives its -wal and -shm files the database's mode).
        {
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path.as_ref())
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::Storage(format!("{}: {e}", path.as_ref().display()))),
            }
        }
        let conn = Connection::open(path.as_ref())
            .map_err(|e| Error::Storage(format!("{}: {e}", path.as_ref().display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;")?;
        let lock_path = {
            let mut p = path.as_ref().as_os_str().to_owned();
            p.push(".lock");
            std::path::PathBuf::from(p)
        };
        let change_lock = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&lock_path)
                .map_err(|e| Error::Storage(format!("{}: {e}", lock_path.display())))?
        };
        let store = SqliteStore {
            conn: Mutex::new(conn),
            change_lock: Some(change_lock),
        };
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory store (tests, ephemeral use).
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys=ON;")?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
            change_lock: None,
        };
        store.migrate()?;
        Ok(store)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Storage("connection lock poisoned".into()))
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let done =
            usize::try_from(done).map_err(|_| Error::Storage("bad schema version".into()))?;
        if done > MIGRATIONS.len() {
            return Err(Error::Storage(format!(
                "this key store has schema version {done}; this sealbox knows up to {}: upgrade sealbox",
                MIGRATIONS.len()
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
            tx.execute_batch(m)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .lock()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn one_row_changed(n: usize, key_id: &str) -> Result<()> {
        if n == 1 {
            Ok(())
        } else {
            Err(Error::KeyNotFound(key_id.to_owned()))
        }
    }
}

impl MetadataStore for SqliteStore {
    fn secrets(&self) -> Option<&dyn super::secrets::SecretStore> {
        Some(self)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .lock()?
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        self.lock()?
            .execute("INSERT INTO meta(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![name, value])?;
        Ok(())
    }

    fn create_key(
        &self,
        k: &KeyRecord,
        v: &VersionRecord,
        alias: Option<(&str, &[u8])>,
        tags: &BTreeMap<String, String>,
        policy: Option<(&str, &[u8])>,
    ) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (state, deletion) = state_cols(&k.state);
        tx.execute(
            &format!("INSERT INTO keys ({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
            params![
                k.key_id,
                k.description,
                k.spec.as_str(),
                k.usage.as_str(),
                k.origin.as_str(),
                state,
                deletion,
                k.created_at,
                k.primary_version,
                k.rotation_period_days,
                k.next_rotation_at,
                k.backend,
                k.mac
            ],
        )?;
        tx.execute(
            INSERT_VERSION,
            params![
                k.key_id,
                v.version,
                v.created_at,
                v.handle,
                v.mac,
                v.valid_to,
                v.fingerprint
            ],
        )?;
        if let Some((a, mac)) = alias {
            let exists: Option<String> = tx
                .query_row("SELECT key_id FROM aliases WHERE alias = ?1", [a], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_some() {
                return Err(Error::AlreadyExists(format!("alias {a}")));
            }
            tx.execute(
                "INSERT INTO aliases (alias, key_id, mac) VALUES (?1, ?2, ?3)",
                params![a, k.key_id, mac],
            )?;
        }
        for (tk, tv) in tags {
            tx.execute(
                "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)",
                params![k.key_id, tk, tv],
            )?;
        }
        if let Some((p, mac)) = policy {
            tx.execute(
                "INSERT INTO key_policies (key_id, policy, mac) VALUES (?1, ?2, ?3)",
                params![k.key_id, p, mac],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn key_policy(&self, key_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT policy, mac FROM key_policies WHERE key_id = ?1")?;
        Ok(st
            .query_row([key_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn alias_row(&self, alias: &str) -> Result<Option<(String, Vec<u8>)>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT key_id, mac FROM aliases WHERE alias = ?1")?;
        Ok(st
            .query_row([alias], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn set_row_mac(&self, row: MacRow<'_>, mac: &[u8]) -> Result<()> {
        let c = self.lock()?;
        let n = match row {
            MacRow::Key(id) => c.execute(
                "UPDATE keys SET mac = ?2 WHERE key_id = ?1",
                params![id, mac],
            )?,
            MacRow::Version(id, v) => c.execute(
                "UPDATE key_versions SET mac = ?3 WHERE key_id = ?1 AND version = ?2",
                params![id, v, mac],
            )?,
            MacRow::Alias(a) => c.execute(
                "UPDATE aliases SET mac = ?2 WHERE alias = ?1",
                params![a, mac],
            )?,
            MacRow::Policy(id) => c.execute(
                "UPDATE key_policies SET mac = ?2 WHERE key_id = ?1",
                params![id, mac],
            )?,
            MacRow::Grant(g) => c.execute(
                "UPDATE grants SET mac = ?2 WHERE grant_id = ?1",
                params![g, mac],
            )?,
        };
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Storage(format!("no row {row:?} to seal")))
        }
    }

    fn set_key_policy(&self, key_id: &str, policy: &str, mac: &[u8]) -> Result<()> {
        let n = self.lock()?.execute(
            "INSERT INTO key_policies (key_id, policy, mac) SELECT key_id, ?2, ?3 FROM keys WHERE key_id = ?1
             ON CONFLICT(key_id) DO UPDATE SET policy = excluded.policy, mac = excluded.mac",
            params![key_id, policy, mac],
        )?;
        Self::one_row_changed(n, key_id)
    }

    fn grants_of(&self, key_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(
            "SELECT grant_json, mac FROM grants WHERE key_id = ?1 ORDER BY grant_id",
        )?;
        let rows = st.query_map([key_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_grant(&self, grant_id: &str, key_id: &str, grant_json: &str, mac: &[u8]) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT key_id FROM grants WHERE grant_id = ?1",
                [grant_id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(Error::AlreadyExists(format!("grant {grant_id}")));
        }
        let n = tx.execute(
            "INSERT INTO grants (grant_id, key_id, grant_json, mac) SELECT ?1, key_id, ?3, ?4 FROM keys WHERE key_id = ?2",
            params![grant_id, key_id, grant_json, mac],
        )?;
        Self::one_row_changed(n, key_id)?;
        tx.commit()?;
        Ok(())
    }

    fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<bool> {
        Ok(self.lock()?.execute(
            "DELETE FROM grants WHERE key_id = ?1 AND grant_id = ?2",
            params![key_id, grant_id],
        )? == 1)
    }

    fn key(&self, key_id: &str) -> Result<Option<KeyRecord>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(&format!("SELECT {KEY_COLS} FROM keys WHERE key_id = ?1"))?;
        Ok(st.query_row([key_id], key_from_row).optional()?)
    }

    fn alias_target(&self, alias: &str) -> Result<Option<String>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT key_id FROM aliases WHERE alias = ?1")?;
        Ok(st.query_row([alias], |r| r.get(0)).optional()?)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        let c = self.lock()?;
        let mut st =
            c.prepare_cached("SELECT alias FROM aliases WHERE key_id = ?1 ORDER BY alias")?;
        let rows = st.query_map([key_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn all_aliases(&self) -> Result<Vec<(String, String)>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT alias, key_id FROM aliases ORDER BY alias")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn tags_of(&self, key_id: &str) -> Result<BTreeMap<String, String>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT tag_key, tag_value FROM tags WHERE key_id = ?1")?;
        let rows = st.query_map([key_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list_keys(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let c = self.lock()?;
        let mut st =
            c.prepare_cached("SELECT key_id FROM keys WHERE key_id > ?1 ORDER BY key_id LIMIT ?2")?;
        let rows = st.query_map(params![after.unwrap_or(""), limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn versions(&self, key_id: &str) -> Result<Vec<VersionRecord>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(&format!(
            "SELECT {VERSION_COLS} FROM key_versions WHERE key_id = ?1 ORDER BY version"
        ))?;
        let rows = st.query_map([key_id], version_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn version(&self, key_id: &str, version: u32) -> Result<Option<VersionRecord>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(&format!(
            "SELECT {VERSION_COLS} FROM key_versions WHERE key_id = ?1 AND version = ?2"
        ))?;
        Ok(st
            .query_row(params![key_id, version], version_from_row)
            .optional()?)
    }

    fn add_version(
        &self,
        key_id: &str,
        v: &VersionRecord,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            INSERT_VERSION,
            params![
                key_id,
                v.version,
                v.created_at,
                v.handle,
                v.mac,
                v.valid_to,
                v.fingerprint
            ],
        )?;
        let n = tx.execute(
            "UPDATE keys SET primary_version = ?2, next_rotation_at = ?3, mac = ?4 WHERE key_id = ?1",
            params![key_id, v.version, next_rotation_at, key_mac],
        )?;
        Self::one_row_changed(n, key_id)?;
        tx.commit()?;
        Ok(())
    }

    fn set_version_material(
        &self,
        key_id: &str,
        version: u32,
        handle: &[u8],
        valid_to: Option<i64>,
        fingerprint: &[u8],
        mac: &[u8],
    ) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if handle.is_empty() {
            // Deleted material: its sealed bytes are overwritten in place
            // first (as delete_key does), then the WAL is checkpointed.
            tx.execute(
                "UPDATE key_versions SET handle = zeroblob(length(handle)) WHERE key_id = ?1 AND version = ?2",
                params![key_id, version],
            )?;
        }
        let n = tx.execute(
            "UPDATE key_versions SET handle = ?3, valid_to = ?4, fingerprint = ?5, mac = ?6 WHERE key_id = ?1 AND version = ?2",
            params![key_id, version, handle, valid_to, fingerprint, mac],
        )?;
        Self::one_row_changed(n, key_id)?;
        tx.commit()?;
        if handle.is_empty() {
            let _ = c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        }
        Ok(())
    }

    fn expired_material(&self, now: i64) -> Result<Vec<(String, u32)>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(
            "SELECT key_id, version FROM key_versions WHERE valid_to IS NOT NULL AND valid_to <= ?1 AND length(handle) > 0 ORDER BY key_id, version",
        )?;
        let rows = st.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_state(&self, key_id: &str, state: KeyState, key_mac: &[u8]) -> Result<()> {
        let (s, d) = state_cols(&state);
        let n = self.lock()?.execute(
            "UPDATE keys SET state = ?2, deletion_date = ?3, mac = ?4 WHERE key_id = ?1",
            params![key_id, s, d, key_mac],
        )?;
        Self::one_row_changed(n, key_id)
    }

    fn set_rotation(
        &self,
        key_id: &str,
        period_days: Option<u32>,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()> {
        let n = self.lock()?.execute(
            "UPDATE keys SET rotation_period_days = ?2, next_rotation_at = ?3, mac = ?4 WHERE key_id = ?1",
            params![key_id, period_days, next_rotation_at, key_mac],
        )?;
        Self::one_row_changed(n, key_id)
    }

    fn set_description(&self, key_id: &str, description: &str, key_mac: &[u8]) -> Result<()> {
        let n = self.lock()?.execute(
            "UPDATE keys SET description = ?2, mac = ?3 WHERE key_id = ?1",
            params![key_id, description, key_mac],
        )?;
        Self::one_row_changed(n, key_id)
    }

    fn put_alias(&self, alias: &str, key_id: &str, replace: bool, mac: &[u8]) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT key_id FROM aliases WHERE alias = ?1",
                [alias],
                |r| r.get(0),
            )
            .optional()?;
        match (exists, replace) {
            (Some(_), false) => return Err(Error::AlreadyExists(format!("alias {alias}"))),
            (None, true) => return Err(Error::KeyNotFound(alias.to_owned())),
            _ => {}
        }
        tx.execute(
            "INSERT INTO aliases (alias, key_id, mac) VALUES (?1, ?2, ?3) ON CONFLICT(alias) DO UPDATE SET key_id = excluded.key_id, mac = excluded.mac",
            params![alias, key_id, mac],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn delete_alias(&self, alias: &str) -> Result<bool> {
        Ok(self
            .lock()?
            .execute("DELETE FROM aliases WHERE alias = ?1", [alias])?
            == 1)
    }

    fn set_tags(&self, key_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (k, v) in tags {
            tx.execute(
                "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3) ON CONFLICT(key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                params![key_id, k, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for k in tag_keys {
            tx.execute(
                "DELETE FROM tags WHERE key_id = ?1 AND tag_key = ?2",
                params![key_id, k],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn delete_key(&self, key_id: &str) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Overwrite the sealed material before the rows go, so it does not
        // linger in free pages of the database file.
        tx.execute(
            "UPDATE key_versions SET handle = zeroblob(length(handle)) WHERE key_id = ?1",
            [key_id],
        )?;
        tx.execute("DELETE FROM key_versions WHERE key_id = ?1", [key_id])?;
        tx.execute("DELETE FROM aliases WHERE key_id = ?1", [key_id])?;
        tx.execute("DELETE FROM tags WHERE key_id = ?1", [key_id])?;
        tx.execute("DELETE FROM key_policies WHERE key_id = ?1", [key_id])?;
        tx.execute("DELETE FROM grants WHERE key_id = ?1", [key_id])?;
        let n = tx.execute("DELETE FROM keys WHERE key_id = ?1", [key_id])?;
        Self::one_row_changed(n, key_id)?;
        tx.commit()?;
        // With secure_delete on, freed pages are zeroed; a checkpoint moves
        // that into the main file and empties the WAL.
        let _ = c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        Ok(())
    }

    fn due_deletions(&self, now: i64) -> Result<Vec<String>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached("SELECT key_id FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ?1 ORDER BY key_id")?;
        let rows = st.query_map([now], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn advance_audit_anchor(&self, anchor: &AuditAnchor) -> Result<()> {
        // Read, compare and write in one IMMEDIATE transaction: with
        // several processes anchoring, the anchor only ever moves forward.
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<Vec<u8>> = tx
            .query_row(
                "SELECT value FROM meta WHERE name = ?1",
                params![AUDIT_ANCHOR],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|t| AuditAnchor::decode(&t));
        if stored.is_none_or(|s| anchor.is_after(&s)) {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![AUDIT_ANCHOR, anchor.encode().as_bytes()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn change_lock(&self) -> Result<Option<ChangeLock<'_>>> {
        self.change_lock
            .as_ref()
            .map(ChangeLock::exclusive)
            .transpose()
    }

    fn due_rotations(&self, now: i64) -> Result<Vec<String>> {
        let c = self.lock()?;
        let mut st = c.prepare_cached(
            "SELECT key_id FROM keys WHERE state = 'Enabled' AND next_rotation_at IS NOT NULL AND next_rotation_at <= ?1 ORDER BY key_id",
        )?;
        let rows = st.query_map([now], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

// Key IDs are stored as their text; a row that holds anything else was not
// written by sealbox.
impl rusqlite::types::ToSql for crate::keystore::KeyId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
    }
}

impl rusqlite::types::FromSql for crate::keystore::KeyId {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = v.as_str()?;
        crate::keystore::KeyId::parse(text)
            .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}
