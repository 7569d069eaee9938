//! Secrets in the PostgreSQL store (see `store::secrets`).

use super::{is_unique_violation, PostgresStore, TxError};
use crate::error::{Error, Result};
use crate::keystore::store::secrets::{
    tags_from_json, tags_to_json, SecretChange, SecretRecord, SecretStore, SecretVersionRecord,
};

const SECRET_COLS: &str =
    "name, description, key_id, tags, created_at, last_changed_at, last_rotated_at, deleted_at, deletion_date";

fn secret_from_row(r: &postgres::Row) -> Result<SecretRecord> {
    let tags: String = r.get(3);
    Ok(SecretRecord {
        name: r.get(0),
        description: r.get(1),
        key_id: r.get(2),
        tags: tags_from_json(&tags)?,
        created_at: r.get(4),
        last_changed_at: r.get(5),
        last_rotated_at: r.get(6),
        deleted_at: r.get(7),
        deletion_date: r.get(8),
    })
}

fn version_from_row(r: &postgres::Row) -> SecretVersionRecord {
    let kind: String = r.get(3);
    SecretVersionRecord {
        version_id: r.get(0),
        seq: r.get(1),
        created_at: r.get(2),
        binary: kind == "binary",
        key_id: r.get(4),
        ciphertext: r.get(5),
    }
}

fn apply(
    tx: &mut postgres::Transaction<'_>,
    name: &str,
    change: &SecretChange<'_>,
) -> std::result::Result<(), TxError> {
    if let Some(v) = change.new_version {
        let kind = if v.binary { "binary" } else { "text" };
        match tx.execute(
            "INSERT INTO secret_versions (name, version_id, seq, created_at, kind, key_id, ciphertext)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&name, &v.version_id, &v.seq, &v.created_at, &kind, &v.key_id, &v.ciphertext],
        ) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(TxError::Refused(Error::AlreadyExists(format!(
                    "secret {name} version {}",
                    v.version_id
                ))))
            }
            Err(e) => return Err(e.into()),
        }
    }
    tx.execute("DELETE FROM secret_labels WHERE name = $1", &[&name])?;
    for (label, version_id) in &change.labels {
        tx.execute(
            "INSERT INTO secret_labels (name, label, version_id) VALUES ($1, $2, $3)",
            &[&name, label, version_id],
        )?;
    }
    for v in &change.delete_versions {
        tx.execute(
            "DELETE FROM secret_versions WHERE name = $1 AND version_id = $2",
            &[&name, v],
        )?;
    }
    tx.execute(
        "UPDATE secrets SET last_changed_at = $2, last_rotated_at = COALESCE($3, last_rotated_at)
         WHERE name = $1",
        &[&name, &change.changed_at, &change.rotated_at],
    )?;
    Ok(())
}

impl SecretStore for PostgresStore {
    fn create_secret(&self, s: &SecretRecord, change: &SecretChange<'_>) -> Result<()> {
        let tags = tags_to_json(&s.tags);
        self.pool.tx(|tx| {
            match tx.execute(
                &format!(
                    "INSERT INTO secrets ({SECRET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ),
                &[
                    &s.name,
                    &s.description,
                    &s.key_id,
                    &tags,
                    &s.created_at,
                    &s.last_changed_at,
                    &s.last_rotated_at,
                    &s.deleted_at,
                    &s.deletion_date,
                ],
            ) {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(TxError::Refused(Error::AlreadyExists(format!(
                        "secret {}",
                        s.name
                    ))))
                }
                Err(e) => return Err(e.into()),
            }
            apply(tx, &s.name, change)
        })
    }

    fn secret(&self, name: &str) -> Result<Option<SecretRecord>> {
        let row = self.pool.run(|c| {
            c.query_opt(
                &format!("SELECT {SECRET_COLS} FROM secrets WHERE name = $1"),
                &[&name],
            )
        })?;
        row.as_ref().map(secret_from_row).transpose()
    }

    fn list_secrets(&self, after: Option<&str>, limit: usize) -> Result<Vec<SecretRecord>> {
        let after = after.unwrap_or("");
        let limit = limit as i64;
        let rows = self.pool.run(|c| {
            c.query(
                &format!(
                    "SELECT {SECRET_COLS} FROM secrets WHERE name > $1 ORDER BY name LIMIT $2"
                ),
                &[&after, &limit],
            )
        })?;
        rows.iter().map(secret_from_row).collect()
    }

    fn secret_versions(&self, name: &str) -> Result<Vec<SecretVersionRecord>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT version_id, seq, created_at, kind, key_id, ''::bytea FROM secret_versions
                 WHERE name = $1 ORDER BY seq",
                &[&name],
            )
        })?;
        Ok(rows.iter().map(version_from_row).collect())
    }

    fn secret_version(&self, name: &str, version_id: &str) -> Result<Option<SecretVersionRecord>> {
        let row = self.pool.run(|c| {
            c.query_opt(
                "SELECT version_id, seq, created_at, kind, key_id, ciphertext FROM secret_versions
                 WHERE name = $1 AND version_id = $2",
                &[&name, &version_id],
            )
        })?;
        Ok(row.as_ref().map(version_from_row))
    }

    fn secret_labels(&self, name: &str) -> Result<Vec<(String, String)>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT label, version_id FROM secret_labels WHERE name = $1 ORDER BY label",
                &[&name],
            )
        })?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn change_secret(&self, name: &str, change: &SecretChange<'_>) -> Result<()> {
        self.pool.tx(|tx| {
            // The row lock orders this change after any other on the secret.
            if tx
                .query_opt("SELECT 1 FROM secrets WHERE name = $1 FOR UPDATE", &[&name])?
                .is_none()
            {
                return Err(TxError::Refused(Error::KeyNotFound(format!(
                    "secret {name}"
                ))));
            }
            apply(tx, name, change)
        })
    }

    fn update_secret(
        &self,
        name: &str,
        description: &str,
        key_id: Option<&str>,
        changed_at: i64,
    ) -> Result<()> {
        self.pool.tx(|tx| {
            let n = tx.execute(
                "UPDATE secrets SET description = $2, key_id = $3, last_changed_at = $4 WHERE name = $1",
                &[&name, &description, &key_id, &changed_at],
            )?;
            if n != 1 {
                return Err(TxError::Refused(Error::KeyNotFound(format!("secret {name}"))));
            }
            Ok(())
        })
    }

    fn set_secret_tags(
        &self,
        name: &str,
        tags: &std::collections::BTreeMap<String, String>,
        changed_at: i64,
    ) -> Result<()> {
        let tags = tags_to_json(tags);
        self.pool.tx(|tx| {
            let n = tx.execute(
                "UPDATE secrets SET tags = $2, last_changed_at = $3 WHERE name = $1",
                &[&name, &tags, &changed_at],
            )?;
            if n != 1 {
                return Err(TxError::Refused(Error::KeyNotFound(format!(
                    "secret {name}"
                ))));
            }
            Ok(())
        })
    }

    fn set_secret_deletion(
        &self,
        name: &str,
        deleted_at: Option<i64>,
        deletion_date: Option<i64>,
        changed_at: i64,
    ) -> Result<()> {
        self.pool.tx(|tx| {
            let n = tx.execute(
                "UPDATE secrets SET deleted_at = $2, deletion_date = $3, last_changed_at = $4
                 WHERE name = $1",
                &[&name, &deleted_at, &deletion_date, &changed_at],
            )?;
            if n != 1 {
                return Err(TxError::Refused(Error::KeyNotFound(format!(
                    "secret {name}"
                ))));
            }
            Ok(())
        })
    }

    fn purge_secret(&self, name: &str) -> Result<()> {
        self.pool.tx(|tx| {
            tx.execute("DELETE FROM secret_labels WHERE name = $1", &[&name])?;
            tx.execute("DELETE FROM secret_versions WHERE name = $1", &[&name])?;
            tx.execute("DELETE FROM secret_policies WHERE name = $1", &[&name])?;
            tx.execute("DELETE FROM secrets WHERE name = $1", &[&name])?;
            Ok(())
        })
    }

    fn secret_policy(&self, name: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row = self.pool.run(|c| {
            c.query_opt(
                "SELECT policy, mac FROM secret_policies WHERE name = $1",
                &[&name],
            )
        })?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    fn set_secret_policy(&self, name: &str, policy: Option<(&str, &[u8])>) -> Result<()> {
        self.pool.run(|c| match policy {
            Some((text, mac)) => c.execute(
                "INSERT INTO secret_policies (name, policy, mac) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, mac = excluded.mac",
                &[&name, &text, &mac],
            ),
            None => c.execute("DELETE FROM secret_policies WHERE name = $1", &[&name]),
        })?;
        Ok(())
    }

    fn due_secret_deletions(&self, now: i64) -> Result<Vec<String>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT name FROM secrets WHERE deletion_date IS NOT NULL AND deletion_date <= $1
                 ORDER BY name",
                &[&now],
            )
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
