//! The metadata cache of the data plane: key rows, alias targets and key
//! versions read by Encrypt, Decrypt, GenerateDataKey, Sign and the MAC
//! operations are kept for at most the propagation bound
//! (`KeyStoreOptions::metadata_cache_ttl`), so that the hot path needs no
//! round trip to a shared database while its entries are fresh. A change
//! made through this key store clears the cache at once; a change made by
//! another process (disable, scheduled deletion, rotation, an alias
//! repointed) is honoured here within the bound. Changes to keys always
//! read the store itself, under the change lock.

use crate::sync::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::store::{KeyRecord, MetadataStore, VersionRecord};
use super::{Grant, KeyPolicy};
use crate::error::Result;

/// A verified policy row: its text, its MAC, the policy parsed.
type VerifiedPolicy = (String, Vec<u8>, Arc<KeyPolicy>);
/// The store-wide counter of revoking changes to keys: disable, scheduled
/// or done deletion (see [`MetaCache::counter`]).
pub(super) const REVOCATIONS: &str = "revocations";
/// The store-wide counter of aliases repointed or deleted (keyrings that
/// name their key by alias watch it).
pub(super) const ALIAS_CHANGES: &str = "alias_changes";

/// Entries are dropped wholesale when the cache grows past this (a store
/// with more hot keys than this reads the database more often).
const MAX_ENTRIES: usize = 10_000;

/// A cached value and when its read began.
type Timed<T> = (Instant, T);

#[derive(Debug)]
pub(super) struct MetaCache {
    ttl: Duration,
    keys: RwLock<HashMap<String, (Instant, KeyRecord)>>,
    aliases: RwLock<HashMap<String, (Instant, String)>>,
    versions: RwLock<HashMap<(String, u32), (Instant, VersionRecord)>>,
    counters: RwLock<HashMap<&'static str, (Instant, u64)>>,
    // How often a counter could not be read (each time moves it).
    unreadable: std::sync::atomic::AtomicU64,
    // Parsed policies by their text (parsing is the costly part of a
    // policy decision; texts are verified before they get here).
    parsed: RwLock<HashMap<String, Arc<KeyPolicy>>>,
    // Moved by every `clear`: a load that began before it is not cached.
    generation: std::sync::atomic::AtomicU64,
    policies: RwLock<HashMap<String, (Instant, Arc<KeyPolicy>)>>,
    // The policy row verified last for each key: (text, MAC, parsed).
    verified: RwLock<HashMap<String, VerifiedPolicy>>,
    grants: RwLock<HashMap<String, Timed<Arc<Vec<Grant>>>>>,
}

impl MetaCache {
    pub(super) fn new(ttl: Duration) -> Self {
        MetaCache {
            ttl,
            keys: RwLock::new(HashMap::new()),
            aliases: RwLock::new(HashMap::new()),
            versions: RwLock::new(HashMap::new()),
            counters: RwLock::new(HashMap::new()),
            unreadable: std::sync::atomic::AtomicU64::new(0),
            parsed: RwLock::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            policies: RwLock::new(HashMap::new()),
            verified: RwLock::new(HashMap::new()),
            grants: RwLock::new(HashMap::new()),
        }
    }

    fn now(&self) -> (Instant, u64) {
        (
            Instant::now(),
            self.generation.load(std::sync::atomic::Ordering::SeqCst),
        )
    }

    /// The propagation bound.
    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    fn get<K: std::hash::Hash + Eq, T: Clone>(
        &self,
        map: &RwLock<HashMap<K, (Instant, T)>>,
        key: &K,
    ) -> Option<T> {
        if self.ttl.is_zero() {
            return None;
        }
        let m = map.read().ok()?;
        let (at, v) = m.get(key)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn put<K: std::hash::Hash + Eq, T>(
        &self,
        map: &RwLock<HashMap<K, (Instant, T)>>,
        key: K,
        at: (Instant, u64),
        value: T,
    ) {
        // A change made through this key store while the row was read: the
        // row may predate it.
        if self.ttl.is_zero() || self.generation.load(std::sync::atomic::Ordering::SeqCst) != at.1 {
            return;
        }
        let at = at.0;
        if let Ok(mut m) = map.write() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(key, (at, value));
        }
    }

    /// A key's row (`None`: no such key; misses are not cached), read
    /// (and verified) by `load` when not fresh here.
    pub(super) fn key(
        &self,
        key_id: &str,
        load: impl FnOnce() -> Result<Option<KeyRecord>>,
    ) -> Result<Option<KeyRecord>> {
        if let Some(r) = self.get(&self.keys, &key_id.to_owned()) {
            return Ok(Some(r));
        }
        // The time of the read, not of its answer: an entry never outlives
        // the bound counted from before the database was asked.
        let at = self.now();
        let r = load()?;
        if let Some(rec) = &r {
            self.put(&self.keys, key_id.to_owned(), at, rec.clone());
        }
        Ok(r)
    }

    /// The key an alias names.
    pub(super) fn alias(
        &self,
        alias: &str,
        load: impl FnOnce() -> Result<Option<String>>,
    ) -> Result<Option<String>> {
        if let Some(t) = self.get(&self.aliases, &alias.to_owned()) {
            return Ok(Some(t));
        }
        let at = self.now();
        let t = load()?;
        if let Some(t) = &t {
            self.put(&self.aliases, alias.to_owned(), at, t.clone());
        }
        Ok(t)
    }

    /// One version of a key.
    pub(super) fn version(
        &self,
        key_id: &str,
        version: u32,
        load: impl FnOnce() -> Result<Option<VersionRecord>>,
    ) -> Result<Option<VersionRecord>> {
        let k = (key_id.to_owned(), version);
        if let Some(v) = self.get(&self.versions, &k) {
            return Ok(Some(v));
        }
        let at = self.now();
        let v = load()?;
        if let Some(v) = &v {
            self.put(&self.versions, k, at, v.clone());
        }
        Ok(v)
    }

    /// A store-wide counter ([`REVOCATIONS`] or [`ALIAS_CHANGES`]) moved
    /// by any process, read at most once per bound: caching materials
    /// managers drop their entries when it moves.
    pub(super) fn counter(&self, store: &dyn MetadataStore, name: &'static str) -> u64 {
        let known = self.counters.read().ok().and_then(|c| c.get(name).copied());
        if let Some((at, n)) = known {
            if !self.ttl.is_zero() && at.elapsed() < self.ttl {
                return n;
            }
        }
        let at = Instant::now();
        // A store that cannot be read past the bound counts as changed:
        // caches built on it drop their entries (and the operations that
        // need the store report the failure).
        let Ok(n) = read_counter(store, name) else {
            let moved = self
                .unreadable
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1;
            return known.map_or(0, |(_, n)| n).wrapping_add(moved << 32);
        };
        if let Ok(mut c) = self.counters.write() {
            c.insert(name, (at, n));
        }
        n
    }

    /// The policy of `key_id` when its row (`text`, `mac`) is the one
    /// verified last for it.
    pub(super) fn verified_policy(
        &self,
        key_id: &str,
        text: &str,
        mac: &[u8],
    ) -> Option<Arc<KeyPolicy>> {
        let m = self.verified.read().ok()?;
        let (t, k, p) = m.get(key_id)?;
        (t == text && crate::crypto::ct_eq(k, mac)).then(|| p.clone())
    }

    /// Remembers the verified policy row of `key_id`.
    pub(super) fn remember_verified_policy(
        &self,
        key_id: &str,
        text: String,
        mac: Vec<u8>,
        policy: Arc<KeyPolicy>,
    ) {
        if let Ok(mut m) = self.verified.write() {
            if m.len() >= 10_000 {
                m.clear();
            }
            m.insert(key_id.to_owned(), (text, mac, policy));
        }
    }

    /// `text` parsed, once per distinct text.
    pub(super) fn parsed_policy(&self, text: &str) -> Result<Arc<KeyPolicy>> {
        if let Some(p) = self.parsed.read().ok().and_then(|m| m.get(text).cloned()) {
            return Ok(p);
        }
        let p = Arc::new(KeyPolicy::from_json(text)?);
        if let Ok(mut m) = self.parsed.write() {
            if m.len() >= 1000 {
                m.clear();
            }
            m.insert(text.to_owned(), p.clone());
        }
        Ok(p)
    }

    /// A key's policy.
    pub(super) fn policy(
        &self,
        key_id: &str,
        load: impl FnOnce() -> Result<Arc<KeyPolicy>>,
    ) -> Result<Arc<KeyPolicy>> {
        if let Some(p) = self.get(&self.policies, &key_id.to_owned()) {
            return Ok(p);
        }
        let at = self.now();
        let p = load()?;
        self.put(&self.policies, key_id.to_owned(), at, p.clone());
        Ok(p)
    }

    /// A key's grants.
    pub(super) fn grants(
        &self,
        key_id: &str,
        load: impl FnOnce() -> Result<Arc<Vec<Grant>>>,
    ) -> Result<Arc<Vec<Grant>>> {
        if let Some(g) = self.get(&self.grants, &key_id.to_owned()) {
            return Ok(g);
        }
        let at = self.now();
        let g = load()?;
        self.put(&self.grants, key_id.to_owned(), at, g.clone());
        Ok(g)
    }

    /// Forgets everything (after a change made through this key store).
    pub(super) fn clear(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut m) = self.keys.write() {
            m.clear();
        }
        if let Ok(mut m) = self.aliases.write() {
            m.clear();
        }
        if let Ok(mut m) = self.versions.write() {
            m.clear();
        }
        if let Ok(mut c) = self.counters.write() {
            c.clear();
        }
        if let Ok(mut m) = self.policies.write() {
            m.clear();
        }
        if let Ok(mut m) = self.grants.write() {
            m.clear();
        }
    }
}

fn read_counter(store: &dyn MetadataStore, name: &str) -> Result<u64> {
    Ok(store
        .meta(name)?
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(0))
}

/// The counter a revoking operation moves.
pub(super) fn revocation_counter(op: super::Operation) -> &'static str {
    match op {
        super::Operation::UpdateAlias | super::Operation::DeleteAlias => ALIAS_CHANGES,
        _ => REVOCATIONS,
    }
}

/// Moves a store-wide counter (after a revoking change was committed). Two
/// processes bumping at once may both write the same next number: the
/// counter still moves, which is all its readers need.
pub(super) fn bump(store: &dyn MetadataStore, name: &str) -> Result<()> {
    let n = read_counter(store, name)?.wrapping_add(1);
    store.set_meta(name, n.to_string().as_bytes())
}
