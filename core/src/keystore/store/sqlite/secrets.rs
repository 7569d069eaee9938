//! Secrets in the SQLite store (see `store::secrets`).

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::keystore::store::secrets::{
    tags_from_json, tags_to_json, SecretChange, SecretRecord, SecretStore, SecretVersionRecord,
};

const SECRET_COLS: &str =
    "name, description, key_id, tags, created_at, last_changed_at, last_rotated_at, deleted_at, deletion_date";

fn secret_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(SecretRecord, String)> {
    let tags: String = r.get(3)?;
    Ok((
        SecretRecord {
            name: r.get(0)?,
            description: r.get(1)?,
            key_id: r.get(2)?,
            tags: Default::default(),
            created_at: r.get(4)?,
            last_changed_at: r.get(5)?,
            last_rotated_at: r.get(6)?,
            deleted_at: r.get(7)?,
            deletion_date: r.get(8)?,
        },
        tags,
    ))
}

fn with_tags((mut s, tags): (SecretRecord, String)) -> Result<SecretRecord> {
    s.tags = tags_from_json(&tags)?;
    Ok(s)
}

fn version_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SecretVersionRecord> {
    let kind: String = r.get(3)?;
    Ok(SecretVersionRecord {
        version_id: r.get(0)?,
        seq: r.get(1)?,
        created_at: r.get(2)?,
        binary: kind == "binary",
        key_id: r.get(4)?,
        ciphertext: r.get(5)?,
    })
}

/// The version rows, labels and times of `change` (the secret exists).
fn apply(tx: &Transaction<'_>, name: &str, change: &SecretChange<'_>) -> Result<()> {
    if let Some(v) = change.new_version {
        tx.execute(
            "INSERT INTO secret_versions (name, version_id, seq, created_at, kind, key_id, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                name,
                v.version_id,
                v.seq,
                v.created_at,
                if v.binary { "binary" } else { "text" },
                v.key_id,
                v.ciphertext
            ],
        )?;
    }
    tx.execute("DELETE FROM secret_labels WHERE name = ?1", [name])?;
    for (label, version_id) in &change.labels {
        tx.execute(
            "INSERT INTO secret_labels (name, label, version_id) VALUES (?1, ?2, ?3)",
            params![name, label, version_id],
        )?;
    }
    for v in &change.delete_versions {
        tx.execute(
            "DELETE FROM secret_versions WHERE name = ?1 AND version_id = ?2",
            params![name, v],
        )?;
    }
    tx.execute(
        "UPDATE secrets SET last_changed_at = ?2, last_rotated_at = COALESCE(?3, last_rotated_at)
         WHERE name = ?1",
        params![name, change.changed_at, change.rotated_at],
    )?;
    Ok(())
}

impl SecretStore for SqliteStore {
    fn create_secret(&self, s: &SecretRecord, change: &SecretChange<'_>) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM secrets WHERE name = ?1", [&s.name], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_some() {
            return Err(Error::AlreadyExists(format!("secret {}", s.name)));
        }
        tx.execute(
            &format!(
                "INSERT INTO secrets ({SECRET_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                s.name,
                s.description,
                s.key_id,
                tags_to_json(&s.tags),
                s.created_at,
                s.last_changed_at,
                s.last_rotated_at,
                s.deleted_at,
                s.deletion_date
            ],
        )?;
        apply(&tx, &s.name, change)?;
        tx.commit()?;
        Ok(())
    }

    fn secret(&self, name: &str) -> Result<Option<SecretRecord>> {
        self.lock()?
            .query_row(
                &format!("SELECT {SECRET_COLS} FROM secrets WHERE name = ?1"),
                [name],
                secret_from_row,
            )
            .optional()?
            .map(with_tags)
            .transpose()
    }

    fn list_secrets(&self, after: Option<&str>, limit: usize) -> Result<Vec<SecretRecord>> {
        let c = self.lock()?;
        let mut st = c.prepare(&format!(
            "SELECT {SECRET_COLS} FROM secrets WHERE name > ?1 ORDER BY name LIMIT ?2"
        ))?;
        let rows = st
            .query_map(params![after.unwrap_or(""), limit as i64], secret_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(with_tags).collect()
    }

    fn secret_versions(&self, name: &str) -> Result<Vec<SecretVersionRecord>> {
        let c = self.lock()?;
        let mut st = c.prepare(
            "SELECT version_id, seq, created_at, kind, key_id, X'' FROM secret_versions
             WHERE name = ?1 ORDER BY seq",
        )?;
        let rows = st
            .query_map([name], version_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn secret_version(&self, name: &str, version_id: &str) -> Result<Option<SecretVersionRecord>> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT version_id, seq, created_at, kind, key_id, ciphertext FROM secret_versions
                 WHERE name = ?1 AND version_id = ?2",
                params![name, version_id],
                version_from_row,
            )
            .optional()?)
    }

    fn secret_labels(&self, name: &str) -> Result<Vec<(String, String)>> {
        let c = self.lock()?;
        let mut st = c.prepare(
            "SELECT label, version_id FROM secret_labels WHERE name = ?1 ORDER BY label",
        )?;
        let rows = st
            .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn change_secret(&self, name: &str, change: &SecretChange<'_>) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Err(Error::KeyNotFound(format!("secret {name}")));
        }
        apply(&tx, name, change)?;
        tx.commit()?;
        Ok(())
    }

    fn update_secret(
        &self,
        name: &str,
        description: &str,
        key_id: Option<&str>,
        changed_at: i64,
    ) -> Result<()> {
        let n = self.lock()?.execute(
            "UPDATE secrets SET description = ?2, key_id = ?3, last_changed_at = ?4 WHERE name = ?1",
            params![name, description, key_id, changed_at],
        )?;
        if n != 1 {
            return Err(Error::KeyNotFound(format!("secret {name}")));
        }
        Ok(())
    }

    fn set_secret_tags(
        &self,
        name: &str,
        tags: &std::collections::BTreeMap<String, String>,
        changed_at: i64,
    ) -> Result<()> {
        let n = self.lock()?.execute(
            "UPDATE secrets SET tags = ?2, last_changed_at = ?3 WHERE name = ?1",
            params![name, tags_to_json(tags), changed_at],
        )?;
        if n != 1 {
            return Err(Error::KeyNotFound(format!("secret {name}")));
        }
        Ok(())
    }

    fn set_secret_deletion(
        &self,
        name: &str,
        deleted_at: Option<i64>,
        deletion_date: Option<i64>,
        changed_at: i64,
    ) -> Result<()> {
        let n = self.lock()?.execute(
            "UPDATE secrets SET deleted_at = ?2, deletion_date = ?3, last_changed_at = ?4
             WHERE name = ?1",
            params![name, deleted_at, deletion_date, changed_at],
        )?;
        if n != 1 {
            return Err(Error::KeyNotFound(format!("secret {name}")));
        }
        Ok(())
    }

    fn purge_secret(&self, name: &str) -> Result<()> {
        let mut c = self.lock()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM secret_labels WHERE name = ?1", [name])?;
        tx.execute("DELETE FROM secret_versions WHERE name = ?1", [name])?;
        tx.execute("DELETE FROM secret_policies WHERE name = ?1", [name])?;
        tx.execute("DELETE FROM secrets WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    fn secret_policy(&self, name: &str) -> Result<Option<(String, Vec<u8>)>> {
        let c = self.lock()?;
        Ok(c.query_row(
            "SELECT policy, mac FROM secret_policies WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
    }

    fn set_secret_policy(&self, name: &str, policy: Option<(&str, &[u8])>) -> Result<()> {
        let c = self.lock()?;
        match policy {
            Some((text, mac)) => c.execute(
                "INSERT INTO secret_policies (name, policy, mac) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET policy = excluded.policy, mac = excluded.mac",
                rusqlite::params![name, text, mac],
            )?,
            None => c.execute("DELETE FROM secret_policies WHERE name = ?1", [name])?,
        };
        Ok(())
    }

    fn due_secret_deletions(&self, now: i64) -> Result<Vec<String>> {
        let c = self.lock()?;
        let mut st = c.prepare(
            "SELECT name FROM secrets WHERE deletion_date IS NOT NULL AND deletion_date <= ?1
             ORDER BY name",
        )?;
        let rows = st
            .query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }
}
