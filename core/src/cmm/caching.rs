//! The caching materials manager: reuses data keys within limits, so a
//! service encrypting a million records calls its key store (or HSM) a
//! handful of times instead of a million.
//!
//! Encryption materials are cached per (partition, suite, commitment policy,
//! encryption context, required keys) and reused until the entry is older
//! than `max_age`, or has been used for `max_messages` messages or
//! `max_bytes` bytes; decryption materials per (partition, suite, encrypted
//! data keys, context). The least recently used entry is evicted beyond
//! `capacity`. Suites without key derivation are never cached (one data
//! key would then be one AES key across messages), nor is a request whose
//! plaintext length is unknown (the byte limit could not be kept).

use crate::sync::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::crypto::{self, HashAlg};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptionMaterials};
use crate::message::context;

use super::{DecryptMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager};

/// Limits of a [`CachingMaterialsManager`].
#[derive(Debug, Clone)]
pub struct CacheLimits {
    /// How long an entry may be used (required).
    pub max_age: Duration,
    /// Messages per data key (at most 2^32).
    pub max_messages: u64,
    /// Plaintext bytes per data key.
    pub max_bytes: u64,
    /// Entries kept (least recently used evicted first).
    pub capacity: usize,
    /// Caches sharing nothing: different partitions never share entries.
    pub partition: String,
}

impl CacheLimits {
    /// Limits with the given maximum age and generous defaults for the rest.
    pub fn with_max_age(max_age: Duration) -> Self {
        CacheLimits {
            max_age,
            max_messages: 1 << 32,
            max_bytes: i64::MAX as u64,
            capacity: 1000,
            partition: String::new(),
        }
    }
}

/// One cached set of materials. `messages` and `bytes` count the uses of
/// encryption materials against their limits; decryption entries leave them 0.
struct Entry<M> {
    materials: M,
    created: Instant,
    epoch: u64,
    messages: u64,
    bytes: u64,
    used: u64,
}

type Entries<M> = HashMap<Vec<u8>, Entry<M>>;

#[derive(Default)]
struct Cache {
    enc: Entries<EncryptionMaterials>,
    dec: Entries<DecryptionMaterials>,
    tick: u64,
    hits: u64,
    misses: u64,
}

impl Cache {
    fn evict(&mut self, capacity: usize) {
        while self.enc.len() + self.dec.len() > capacity {
            let oldest_enc = self
                .enc
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, e)| (k.clone(), e.used));
            let oldest_dec = self
                .dec
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, e)| (k.clone(), e.used));
            match (oldest_enc, oldest_dec) {
                (Some((k, a)), Some((_, b))) if a <= b => self.enc.remove(&k).map(|_| ()),
                (_, Some((k, _))) => self.dec.remove(&k).map(|_| ()),
                (Some((k, _)), None) => self.enc.remove(&k).map(|_| ()),
                (None, None) => return,
            };
        }
    }
}

/// A thread-safe caching materials manager over another one.
pub struct CachingMaterialsManager {
    underlying: Arc<dyn MaterialsManager>,
    limits: CacheLimits,
    cache: Mutex<Cache>,
}

crate::secret::debug_hiding_secrets!(CachingMaterialsManager { limits });

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl CachingMaterialsManager {
    /// Caches materials of `underlying` within `limits`.
    pub fn new(underlying: Arc<dyn MaterialsManager>, limits: CacheLimits) -> Result<Self> {
        if limits.max_age.is_zero() {
            return Err(Error::InvalidArgument("max_age must be positive".into()));
        }
        if limits.max_messages == 0 || limits.max_messages > 1 << 32 {
            return Err(Error::InvalidArgument(
                "max_messages must be 1..=2^32".into(),
            ));
        }
        if limits.capacity == 0 {
            return Err(Error::InvalidArgument("capacity must be at least 1".into()));
        }
        Ok(CachingMaterialsManager {
            underlying,
            limits,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        self.cache
            .lock()
            .map(|c| (c.hits, c.misses))
            .unwrap_or((0, 0))
    }

    /// Drops every entry.
    pub fn clear(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.enc.clear();
            c.dec.clear();
        }
    }

    fn lock(&self) -> Result<crate::sync::MutexGuard<'_, Cache>> {
        self.cache
            .lock()
            .map_err(|_| Error::InvalidState("materials cache lock poisoned".into()))
    }

    /// A copy of the materials cached under `key` in the map `pick` chooses,
    /// if `usable` accepts the entry (it may also count the use); a stale
    /// entry is dropped. Counts the hit or miss.
    fn lookup<M>(
        &self,
        key: &[u8],
        pick: fn(&mut Cache) -> &mut Entries<M>,
        copy: fn(&M) -> Result<M>,
        usable: impl FnOnce(&mut Entry<M>) -> bool,
    ) -> Result<Option<M>> {
        let mut c = self.lock()?;
        c.tick += 1;
        let tick = c.tick;
        let entries = pick(&mut c);
        let hit = match entries.get_mut(key) {
            Some(e) => {
                if usable(e) {
                    e.used = tick;
                    Some(copy(&e.materials))
                } else {
                    entries.remove(key);
                    None
                }
            }
            None => None,
        };
        match hit {
            Some(m) => {
                c.hits += 1;
                m.map(Some)
            }
            None => {
                c.misses += 1;
                Ok(None)
            }
        }
    }

    /// Caches fresh materials under `key`, with the (messages, bytes) they
    /// have been used for, and evicts beyond the capacity.
    fn store<M>(
        &self,
        key: Vec<u8>,
        pick: fn(&mut Cache) -> &mut Entries<M>,
        materials: M,
        epoch: u64,
        (messages, bytes): (u64, u64),
    ) -> Result<()> {
        let mut c = self.lock()?;
        c.tick += 1;
        let used = c.tick;
        pick(&mut c).insert(
            key,
            Entry {
                materials,
                created: Instant::now(),
                epoch,
                messages,
                bytes,
                used,
            },
        );
        c.evict(self.limits.capacity);
        Ok(())
    }

    fn enc_key(&self, r: &EncryptionMaterialsRequest) -> Result<Vec<u8>> {
        let mut k = b"enc".to_vec();
        field(&mut k, self.limits.partition.as_bytes());
        field(&mut k, &r.suite.map(|s| s.id()).unwrap_or(0).to_be_bytes());
        field(&mut k, format!("{:?}", r.commitment_policy).as_bytes());
        field(&mut k, &context::serialize(&r.encryption_context)?);
        for rk in &r.required_encryption_context_keys {
            field(&mut k, rk.as_bytes());
        }
        Ok(crypto::digest(HashAlg::Sha512, &k))
    }

    fn dec_key(&self, r: &DecryptMaterialsRequest) -> Result<Vec<u8>> {
        let mut k = b"dec".to_vec();
        field(&mut k, self.limits.partition.as_bytes());
        field(&mut k, &r.suite.id().to_be_bytes());
        let mut edks: Vec<Vec<u8>> = r
            .encrypted_data_keys
            .iter()
            .map(|e| {
                let mut b = Vec::new();
                field(&mut b, e.provider_id.as_bytes());
                field(&mut b, &e.provider_info);
                field(&mut b, &e.ciphertext);
                crypto::digest(HashAlg::Sha512, &b)
            })
            .collect();
        edks.sort();
        for e in &edks {
            field(&mut k, e);
        }
        field(&mut k, &context::serialize(&r.encryption_context)?);
        match &r.reproduced_encryption_context {
            Some(ec) => field(&mut k, &context::serialize(ec)?),
            None => field(&mut k, b"\xff"),
        }
        Ok(crypto::digest(HashAlg::Sha512, &k))
    }
}

impl MaterialsManager for CachingMaterialsManager {
    fn is_in_memory(&self) -> bool {
        self.underlying.is_in_memory()
    }

    fn revocation_epoch(&self) -> u64 {
        self.underlying.revocation_epoch()
    }

    fn get_encryption_materials(
        &self,
        req: EncryptionMaterialsRequest,
    ) -> Result<EncryptionMaterials> {
        let no_kdf = req.suite.is_some_and(|s| s.kdf_hash().is_none());
        let len = match req.plaintext_length {
            Some(n) if !no_kdf && n <= self.limits.max_bytes => n,
            _ => return self.underlying.get_encryption_materials(req),
        };
        let key = self.enc_key(&req)?;
        // Taken before the underlying call: a change during it makes the
        // new entry stale at once.
        let epoch = self.underlying.revocation_epoch();
        let limits = &self.limits;
        let hit = self.lookup(
            &key,
            |c| &mut c.enc,
            EncryptionMaterials::try_clone,
            |e| {
                let fresh = e.epoch == epoch
                    && e.created.elapsed() < limits.max_age
                    && e.messages < limits.max_messages
                    && e.bytes.saturating_add(len) <= limits.max_bytes;
                if fresh {
                    e.messages += 1;
                    e.bytes += len;
                }
                fresh
            },
        )?;
        if let Some(m) = hit {
            return Ok(m);
        }
        let fresh = self.underlying.get_encryption_materials(req)?;
        if fresh.suite.kdf_hash().is_none() {
            return Ok(fresh);
        }
        let out = fresh.try_clone()?;
        self.store(key, |c| &mut c.enc, fresh, epoch, (1, len))?;
        Ok(out)
    }

    fn decrypt_materials(&self, req: DecryptMaterialsRequest) -> Result<DecryptionMaterials> {
        if req.suite.kdf_hash().is_none() {
            return self.underlying.decrypt_materials(req);
        }
        let key = self.dec_key(&req)?;
        let epoch = self.underlying.revocation_epoch();
        let max_age = self.limits.max_age;
        let hit = self.lookup(
            &key,
            |c| &mut c.dec,
            DecryptionMaterials::try_clone,
            |e| e.epoch == epoch && e.created.elapsed() < max_age,
        )?;
        if let Some(m) = hit {
            return Ok(m);
        }
        let fresh = self.underlying.decrypt_materials(req)?;
        let out = fresh.try_clone()?;
        self.store(key, |c| &mut c.dec, fresh, epoch, (0, 0))?;
        Ok(out)
    }
}
