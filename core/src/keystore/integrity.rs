//! Metadata integrity (issue 16): the rows that decide what a key may do --
//! the key's row (state, spec, usage, origin, deletion date, versions,
//! rotation schedule, description), each version, each alias, the key's
//! policy and its grants -- carry a MAC under a key the backend holds (the
//! audit key: derived from the root key, or an HMAC key in the HSM), over
//! a domain-separated encoding of the row. A row edited outside sealbox
//! (the `sqlite3` shell, `psql`) fails its check when it is used:
//! [`Error::StoreTampered`], recorded in the audit trail by the operation
//! that found it, and nothing is decrypted or signed on its strength.
//!
//! What a MAC cannot show is that a row was *removed*: a removed grant or
//! alias only takes a permission away; a removed policy row is refused
//! (every key has one once its store is sealed); a removed version makes
//! its blobs undecryptable.
//!
//! Rows written before rows had MACs are sealed once, when a store is first
//! opened by a sealbox that has them (`SealMetadata`, audited with what was
//! sealed). A second `SealMetadata` record in a store's trail means its
//! "sealed" mark was removed: rows changed before it cannot be vouched for.

use super::*;
use crate::error::{Error, Result};

/// Every row MAC's input starts with this (audit records start with `{`).
const DOMAIN: &[u8] = b"sealbox metadata row v1\0";
/// The store's mark that its rows carry MACs.
pub(super) const SEALED: &str = "metadata_sealed";

pub(super) fn encode(kind: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + fields.iter().map(|f| f.len() + 4).sum::<usize>());
    b.extend_from_slice(DOMAIN);
    b.extend_from_slice(kind.as_bytes());
    b.push(0);
    for f in fields {
        b.extend_from_slice(&(f.len() as u32).to_be_bytes());
        b.extend_from_slice(f);
    }
    b
}

fn opt_num(v: Option<i64>) -> Vec<u8> {
    v.map_or_else(|| b"-".to_vec(), |n| n.to_string().into_bytes())
}

impl KeyStore {
    fn row_mac(&self, kind: &str, fields: &[&[u8]]) -> Result<Vec<u8>> {
        self.inner.backend.audit_mac(&encode(kind, fields))
    }

    /// The MAC of a key's row.
    pub(super) fn key_mac(&self, r: &KeyRecord) -> Result<Vec<u8>> {
        let (state, deletion) = match r.state {
            KeyState::PendingDeletion { deletion_date } => ("PendingDeletion", Some(deletion_date)),
            ref s => (s.name(), None),
        };
        self.row_mac(
            "key",
            &[
                r.key_id.as_str().as_bytes(),
                r.description.as_bytes(),
                r.spec.as_str().as_bytes(),
                r.usage.as_str().as_bytes(),
                r.origin.as_str().as_bytes(),
                state.as_bytes(),
                &opt_num(deletion),
                r.created_at.to_string().as_bytes(),
                r.primary_version.to_string().as_bytes(),
                &opt_num(r.rotation_period_days.map(i64::from)),
                &opt_num(r.next_rotation_at),
                r.backend.as_bytes(),
            ],
        )
    }

    /// `r` with its MAC set.
    pub(super) fn sealed_key(&self, mut r: KeyRecord) -> Result<KeyRecord> {
        r.mac = self.key_mac(&r)?;
        Ok(r)
    }

    /// The MAC of a version's row.
    pub(super) fn version_mac(&self, key_id: &str, v: &VersionRecord) -> Result<Vec<u8>> {
        let (version, created_at) = (v.version.to_string(), v.created_at.to_string());
        let mut fields = vec![
            key_id.as_bytes(),
            version.as_bytes(),
            created_at.as_bytes(),
            &v.handle,
        ];
        // Imported material (issue 18) also binds its expiration and its
        // fingerprint; rows of generated material keep the MAC they had.
        if v.fingerprint.is_empty() && v.valid_to.is_none() {
            return self.row_mac("version", &fields);
        }
        let valid_to = opt_num(v.valid_to);
        fields.extend([valid_to.as_slice(), v.fingerprint.as_slice()]);
        self.row_mac("imported-version", &fields)
    }

    /// The MAC of an alias's row.
    pub(super) fn alias_mac(&self, alias: &str, key_id: &str) -> Result<Vec<u8>> {
        self.row_mac("alias", &[alias.as_bytes(), key_id.as_bytes()])
    }

    /// The MAC of a key's policy row.
    pub(super) fn policy_mac(&self, key_id: &str, policy: &str) -> Result<Vec<u8>> {
        self.row_mac("policy", &[key_id.as_bytes(), policy.as_bytes()])
    }

    /// The MAC of a grant's row.
    pub(super) fn grant_mac(&self, grant_id: &str, key_id: &str, json: &str) -> Result<Vec<u8>> {
        self.row_mac(
            "grant",
            &[grant_id.as_bytes(), key_id.as_bytes(), json.as_bytes()],
        )
    }

    fn check(
        &self,
        what: impl FnOnce() -> String,
        stored: &[u8],
        expected: Result<Vec<u8>>,
    ) -> Result<()> {
        let expected = expected?;
        if !stored.is_empty() && crypto::ct_eq(stored, &expected) {
            Ok(())
        } else {
            Err(Error::StoreTampered(format!(
                "{} does not carry sealbox's MAC: it was changed outside sealbox; it is not used",
                what()
            )))
        }
    }

    /// `r`, once its MAC verifies.
    pub(super) fn verified_key(&self, r: KeyRecord) -> Result<KeyRecord> {
        self.check(
            || format!("the row of key {}", r.key_id),
            &r.mac,
            self.key_mac(&r),
        )?;
        Ok(r)
    }

    /// `v`, once its MAC verifies.
    pub(super) fn verified_version(&self, key_id: &str, v: VersionRecord) -> Result<VersionRecord> {
        self.check(
            || format!("version {} of key {key_id}", v.version),
            &v.mac,
            self.version_mac(key_id, &v),
        )?;
        Ok(v)
    }

    /// The key an alias row names, once its MAC verifies.
    pub(super) fn verified_alias(&self, alias: &str, row: (String, Vec<u8>)) -> Result<String> {
        self.check(
            || format!("alias {alias}"),
            &row.1,
            self.alias_mac(alias, &row.0),
        )?;
        Ok(row.0)
    }

    /// A key's policy text, once its MAC verifies. A key without a policy
    /// row in a sealed store lost it outside sealbox.
    pub(super) fn verified_policy(
        &self,
        key_id: &str,
        row: Option<(String, Vec<u8>)>,
    ) -> Result<String> {
        match row {
            Some((text, mac)) => {
                self.check(|| format!("the policy of key {key_id}"), &mac, self.policy_mac(key_id, &text))?;
                Ok(text)
            }
            None => Err(Error::StoreTampered(format!(
                "key {key_id} has no policy row: it was removed outside sealbox; the key is not used"
            ))),
        }
    }

    /// A grant's JSON, once its MAC verifies.
    pub(super) fn verified_grant(&self, key_id: &str, row: (String, Vec<u8>)) -> Result<Grant> {
        let g = Grant::from_json(&row.0).map_err(|e| {
            Error::StoreTampered(format!(
                "a grant of key {key_id} is not one sealbox wrote ({e}); it is not used"
            ))
        })?;
        self.check(
            || format!("grant {} of key {key_id}", g.grant_id),
            &row.1,
            self.grant_mac(&g.grant_id, key_id, &row.0),
        )?;
        if g.key_id != key_id {
            return Err(Error::StoreTampered(format!(
                "grant {} names key {}, not {key_id}",
                g.grant_id, g.key_id
            )));
        }
        Ok(g)
    }

    /// A key's row from the store, verified.
    pub(super) fn load_key(&self, key_id: &str) -> Result<Option<KeyRecord>> {
        self.inner
            .store
            .key(key_id)?
            .map(|r| self.verified_key(r))
            .transpose()
    }

    /// The key an alias names, verified.
    pub(super) fn load_alias(&self, alias: &str) -> Result<Option<String>> {
        self.inner
            .store
            .alias_row(alias)?
            .map(|r| self.verified_alias(alias, r))
            .transpose()
    }

    /// One version from the store, verified.
    pub(super) fn load_version(&self, key_id: &str, version: u32) -> Result<Option<VersionRecord>> {
        self.inner
            .store
            .version(key_id, version)?
            .map(|v| self.verified_version(key_id, v))
            .transpose()
    }

    /// A key's policy from the store, verified and parsed.
    ///
    /// Parsed policies are kept by their text: a policy read again (every
    /// operation, where the metadata cache is off) is parsed once.
    ///
    /// A row byte for byte the one verified last for this key (text and
    /// MAC) is not verified again: the MAC of a long policy costs more than
    /// the decision it feeds.
    pub(super) fn load_policy(&self, key_id: &str) -> Result<std::sync::Arc<KeyPolicy>> {
        let row = self.inner.store.key_policy(key_id)?;
        if let Some((text, mac)) = &row {
            if let Some(p) = self.inner.cache.verified_policy(key_id, text, mac) {
                return Ok(p);
            }
        }
        let mac = row.as_ref().map(|(_, m)| m.clone());
        let text = self.verified_policy(key_id, row)?;
        let p = self.inner.cache.parsed_policy(&text)?;
        if let Some(mac) = mac {
            self.inner
                .cache
                .remember_verified_policy(key_id, text, mac, p.clone());
        }
        Ok(p)
    }

    /// A key's grants from the store, verified.
    pub(super) fn load_grants(&self, key_id: &str) -> Result<std::sync::Arc<Vec<Grant>>> {
        let rows = self.inner.store.grants_of(key_id)?;
        Ok(std::sync::Arc::new(
            rows.into_iter()
                .map(|r| self.verified_grant(key_id, r))
                .collect::<Result<Vec<_>>>()?,
        ))
    }

    /// Seals the rows written before rows had MACs, once per store (at
    /// open, under the change lock), and gives every key a policy row (the
    /// default policy for keys made before policies). Audited.
    pub(super) fn seal_legacy_rows(&self) -> Result<()> {
        if self.inner.store.meta(SEALED)?.is_some() {
            return Ok(());
        }
        let _g = self.lock_mutations()?;
        let mark = self.inner.store.meta(SEALED)?;
        if mark.as_deref() == Some(b"1") {
            return Ok(());
        }
        // "sealing": a sealing that did not finish (it resumes). No mark but
        // rows that carry MACs: the mark was removed, to have rows edited
        // outside sealbox sealed as if they were old. Refused.
        let resuming = mark.as_deref() == Some(b"sealing");
        self.run(Operation::SealMetadata, None, |a| {
            let s = &*self.inner.store;
            let (mut keys, mut versions, mut aliases, mut policies, mut grants) = (0, 0, 0, 0, 0);
            let mut work: Vec<Box<dyn FnOnce() -> Result<()> + '_>> = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let ids = s.list_keys(marker.as_deref(), MAX_LIST_LIMIT)?;
                let Some(last) = ids.last().cloned() else {
                    break;
                };
                for id in ids {
                    let Some(rec) = s.key(&id)? else { continue };
                    if rec.mac.is_empty() {
                        let mac = self.key_mac(&rec)?;
                        let id2 = id.clone();
                        work.push(Box::new(move || s.set_row_mac(MacRow::Key(&id2), &mac)));
                        keys += 1;
                    }
                    for v in s.versions(&id)? {
                        if v.mac.is_empty() {
                            let mac = self.version_mac(&id, &v)?;
                            let id2 = id.clone();
                            work.push(Box::new(move || {
                                s.set_row_mac(MacRow::Version(&id2, v.version), &mac)
                            }));
                            versions += 1;
                        }
                    }
                    match s.key_policy(&id)? {
                        Some((text, mac)) if mac.is_empty() => {
                            let mac = self.policy_mac(&id, &text)?;
                            let id2 = id.clone();
                            work.push(Box::new(move || s.set_row_mac(MacRow::Policy(&id2), &mac)));
                            policies += 1;
                        }
                        Some(_) => {}
                        None => {
                            let text = KeyPolicy::default_allow_all().to_json();
                            let mac = self.policy_mac(&id, &text)?;
                            let id2 = id.clone();
                            work.push(Box::new(move || s.set_key_policy(&id2, &text, &mac)));
                            policies += 1;
                        }
                    }
                    for (json, mac) in s.grants_of(&id)? {
                        if mac.is_empty() {
                            let g = Grant::from_json(&json)?;
                            let mac = self.grant_mac(&g.grant_id, &id, &json)?;
                            work.push(Box::new(move || {
                                s.set_row_mac(MacRow::Grant(&g.grant_id), &mac)
                            }));
                            grants += 1;
                        }
                    }
                }
                marker = Some(last);
            }
            if !resuming && (keys, versions, aliases, policies, grants) != (0, 0, 0, 0, 0) {
                let macs_present = s
                    .list_keys(None, 1)?
                    .first()
                    .and_then(|id| s.key(id).ok().flatten())
                    .is_some_and(|r| !r.mac.is_empty());
                if macs_present {
                    return Err(Error::StoreTampered(
                        "the store's rows carry MACs but its sealed mark is gone: rows \
                         without one were added or cleared outside sealbox; they are not \
                         sealed"
                            .into(),
                    ));
                }
            }
            for (alias, key_id) in s.all_aliases()? {
                if let Some((_, mac)) = s.alias_row(&alias)? {
                    if mac.is_empty() {
                        let mac = self.alias_mac(&alias, &key_id)?;
                        work.push(Box::new(move || s.set_row_mac(MacRow::Alias(&alias), &mac)));
                        aliases += 1;
                    }
                }
            }
            if work.is_empty() {
                // A new store, or one with nothing to seal: no record.
                a.quiet = true;
                return s.set_meta(SEALED, b"1");
            }
            a.event.detail = Some(format!(
                "sealed with MACs: {keys} key rows, {versions} versions, {aliases} aliases, \
                 {policies} policies (keys without one got the default policy), {grants} grants"
            ));
            a.allow()?;
            s.set_meta(SEALED, b"sealing")?;
            for w in work {
                w()?;
            }
            s.set_meta(SEALED, b"1")
        })
    }
}
