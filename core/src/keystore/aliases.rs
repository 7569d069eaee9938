//! Aliases: `alias/...` names that point at keys.

use super::*;
use crate::error::{Error, Result};

impl KeyStore {
    /// CreateAlias.
    pub fn create_alias(&self, alias: &str, key: &str) -> Result<()> {
        self.run(Operation::CreateAlias, None, |a| {
            check_alias(alias)?;
            let rec = self.authorized(a, key)?;
            if self.inner.store.alias_target(alias)?.is_some() {
                return Err(Error::AlreadyExists(format!("alias {alias}")));
            }
            let mac = self.alias_mac(alias, &rec.key_id)?;
            a.allow()?;
            self.inner.store.put_alias(alias, &rec.key_id, false, &mac)
        })
    }

    /// UpdateAlias: points an existing alias at another key.
    pub fn update_alias(&self, alias: &str, key: &str) -> Result<()> {
        self.run(Operation::UpdateAlias, None, |a| {
            // As AWS: UpdateAlias on the key it points at now and on the new key.
            let old = self
                .load_alias(alias)?
                .ok_or_else(|| Error::KeyNotFound(alias.to_owned()))?;
            let old = self.authorized(a, &old)?;
            let rec = self.authorized(a, key)?;
            let _ = old;
            let mac = self.alias_mac(alias, &rec.key_id)?;
            a.allow()?;
            self.inner.store.put_alias(alias, &rec.key_id, true, &mac)
        })
    }

    /// DeleteAlias (the key is untouched).
    pub fn delete_alias(&self, alias: &str) -> Result<()> {
        self.run(Operation::DeleteAlias, None, |a| {
            let target = self
                .inner
                .store
                .alias_row(alias)?
                .map(|r| self.verified_alias(alias, r))
                .transpose()?
                .ok_or_else(|| Error::KeyNotFound(alias.to_owned()))?;
            let rec = self.authorized(a, &target)?;
            a.key(&rec.key_id, None);
            a.allow()?;
            self.inner.store.delete_alias(alias).map(|_| ())
        })
    }

    /// ListAliases: (alias, key ID) pairs.
    pub fn list_aliases(&self) -> Result<Vec<(String, String)>> {
        self.run(Operation::ListAliases, None, |_| {
            self.inner.store.all_aliases()
        })
    }
}
