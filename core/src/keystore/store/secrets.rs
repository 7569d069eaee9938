//! The secrets' part of a metadata store (issue 21): secrets, their
//! versions (the values sealed under a key-store key, never plaintext) and
//! the staging labels that point at versions. The key store decides what
//! changes (label moves, pruning) under its change lock; a store applies
//! each change in one transaction.

use std::collections::BTreeMap;

use crate::error::Result;

/// A secret's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The name (unique in the store).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The key-store key (ID or alias) new versions are sealed under, as the
    /// caller named it; `None`: the store's default secrets key.
    pub key_id: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last change (value, labels, deletion).
    pub last_changed_at: i64,
    /// Unix seconds of the last successful rotation.
    pub last_rotated_at: Option<i64>,
    /// When the deletion was requested (Unix seconds); `None`: not deleted.
    pub deleted_at: Option<i64>,
    /// When the secret is purged (Unix seconds).
    pub deletion_date: Option<i64>,
}

/// One version of a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretVersionRecord {
    /// The version ID (a UUID, or the caller's client request token).
    pub version_id: String,
    /// Order of creation within the secret (1, 2, ...).
    pub seq: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Whether the value is binary (else UTF-8 text).
    pub binary: bool,
    /// The key-store key ID that sealed the value's data key.
    pub key_id: String,
    /// The sealed value (docs/FORMAT.md, "Secret values"); empty in
    /// listings, which do not read it.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SecretVersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretVersionRecord")
            .field("version_id", &self.version_id)
            .field("seq", &self.seq)
            .field("created_at", &self.created_at)
            .field("binary", &self.binary)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// One change to a secret's versions, applied in one transaction.
#[derive(Debug, Clone, Default)]
pub struct SecretChange<'a> {
    /// A version to add.
    pub new_version: Option<&'a SecretVersionRecord>,
    /// The complete set of staging labels after the change (label, version
    /// ID): it replaces the stored set.
    pub labels: Vec<(String, String)>,
    /// Versions to delete (deprecated versions pruned).
    pub delete_versions: Vec<String>,
    /// Unix seconds, the secret's new last-changed time.
    pub changed_at: i64,
    /// Unix seconds, set as the last rotation time (a finished rotation).
    pub rotated_at: Option<i64>,
}

/// Persistence of secrets. Every method is one transaction.
pub trait SecretStore: Send + Sync {
    /// Inserts a secret, with its first version and labels if any;
    /// `AlreadyExists` if the name is taken.
    fn create_secret(&self, secret: &SecretRecord, change: &SecretChange<'_>) -> Result<()>;
    /// A secret's row.
    fn secret(&self, name: &str) -> Result<Option<SecretRecord>>;
    /// Secrets in name order, after `after`, at most `limit`.
    fn list_secrets(&self, after: Option<&str>, limit: usize) -> Result<Vec<SecretRecord>>;
    /// A secret's versions, oldest first, without their ciphertext.
    fn secret_versions(&self, name: &str) -> Result<Vec<SecretVersionRecord>>;
    /// One version with its ciphertext.
    fn secret_version(&self, name: &str, version_id: &str) -> Result<Option<SecretVersionRecord>>;
    /// The staging labels of a secret: (label, version ID), by label.
    fn secret_labels(&self, name: &str) -> Result<Vec<(String, String)>>;
    /// Applies `change` to an existing secret (`KeyNotFound` if it is gone).
    fn change_secret(&self, name: &str, change: &SecretChange<'_>) -> Result<()>;
    /// Sets a secret's description and the key its new versions are sealed
    /// under (`None`: the default secrets key).
    fn update_secret(
        &self,
        name: &str,
        description: &str,
        key_id: Option<&str>,
        changed_at: i64,
    ) -> Result<()>;
    /// Replaces a secret's tags.
    fn set_secret_tags(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
        changed_at: i64,
    ) -> Result<()>;
    /// Sets or clears (restore) the deletion of a secret.
    fn set_secret_deletion(
        &self,
        name: &str,
        deleted_at: Option<i64>,
        deletion_date: Option<i64>,
        changed_at: i64,
    ) -> Result<()>;
    /// Deletes a secret with its versions and labels.
    fn purge_secret(&self, name: &str) -> Result<()>;

    /// The secret's resource policy and its MAC, if it has one.
    fn secret_policy(&self, name: &str) -> Result<Option<(String, Vec<u8>)>>;

    /// Sets (`Some((policy, mac))`) or removes (`None`) the secret's
    /// resource policy.
    fn set_secret_policy(&self, name: &str, policy: Option<(&str, &[u8])>) -> Result<()>;
    /// Secrets whose deletion date has passed.
    fn due_secret_deletions(&self, now: i64) -> Result<Vec<String>>;
}

/// Tags as stored (a JSON object).
pub(crate) fn tags_to_json(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

/// Tags from their stored form.
pub(crate) fn tags_from_json(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text)
        .map_err(|e| crate::error::Error::Storage(format!("a secret's tags cannot be read: {e}")))
}
