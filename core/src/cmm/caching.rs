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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

struct EncEntry {
    materials: EncryptionMaterials,
    created: Instant,
    epoch: u64,
    messages: u64,
    bytes: u64,
    used: u64,
}

struct DecEntry {
    materials: DecryptionMaterials,
    created: Instant,
    epoch: u64,
    used: u64,
}

#[derive(Default)]
struct Cache {
    enc: HashMap<Vec<u8>, EncEntry>,
    dec: HashMap<Vec<u8>, DecEntry>,
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

impl std::fmt::Debug for CachingMaterialsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingMaterialsManager")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn clone_enc(m: &EncryptionMaterials) -> Result<EncryptionMaterials> {
    Ok(EncryptionMaterials {
        suite: m.suite,
        encryption_context: m.encryption_context.clone(),
        required_encryption_context_keys: m.required_encryption_context_keys.clone(),
        plaintext_data_key: m
            .plaintext_data_key
            .as_ref()
            .map(|k| k.try_clone())
            .transpose()?,
        encrypted_data_keys: m.encrypted_data_keys.clone(),
        signing_key: m.signing_key.as_ref().map(|k| k.try_clone()).transpose()?,
    })
}

fn clone_dec(m: &DecryptionMaterials) -> Result<DecryptionMaterials> {
    Ok(DecryptionMaterials {
        suite: m.suite,
        encryption_context: m.encryption_context.clone(),
        required_encryption_context_keys: m.required_encryption_context_keys.clone(),
        plaintext_data_key: m
            .plaintext_data_key
            .as_ref()
            .map(|k| k.try_clone())
            .transpose()?,
        verification_key: m.verification_key.clone(),
    })
}

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

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Cache>> {
        self.cache
            .lock()
            .map_err(|_| Error::InvalidState("materials cache lock poisoned".into()))
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
        {
            let mut c = self.lock()?;
            c.tick += 1;
            let tick = c.tick;
            let (max_age, max_msgs, max_bytes) = (
                self.limits.max_age,
                self.limits.max_messages,
                self.limits.max_bytes,
            );
            if let Some(e) = c.enc.get_mut(&key) {
                let fresh = e.epoch == epoch
                    && e.created.elapsed() < max_age
                    && e.messages < max_msgs
                    && e.bytes.saturating_add(len) <= max_bytes;
                if fresh {
                    e.messages += 1;
                    e.bytes += len;
                    e.used = tick;
                    let m = clone_enc(&e.materials);
                    c.hits += 1;
                    return m;
                }
                c.enc.remove(&key);
            }
            c.misses += 1;
        }
        let fresh = self.underlying.get_encryption_materials(req)?;
        if fresh.suite.kdf_hash().is_none() {
            return Ok(fresh);
        }
        let out = clone_enc(&fresh)?;
        let mut c = self.lock()?;
        c.tick += 1;
        let used = c.tick;
        c.enc.insert(
            key,
            EncEntry {
                materials: fresh,
                created: Instant::now(),
                epoch,
                messages: 1,
                bytes: len,
                used,
            },
        );
        c.evict(self.limits.capacity);
        Ok(out)
    }

    fn decrypt_materials(&self, req: DecryptMaterialsRequest) -> Result<DecryptionMaterials> {
        if req.suite.kdf_hash().is_none() {
            return self.underlying.decrypt_materials(req);
        }
        let key = self.dec_key(&req)?;
        let epoch = self.underlying.revocation_epoch();
        {
            let mut c = self.lock()?;
            c.tick += 1;
            let tick = c.tick;
            if let Some(e) = c.dec.get_mut(&key) {
                if e.epoch == epoch && e.created.elapsed() < self.limits.max_age {
                    e.used = tick;
                    let m = clone_dec(&e.materials);
                    c.hits += 1;
                    return m;
                }
                c.dec.remove(&key);
            }
            c.misses += 1;
        }
        let fresh = self.underlying.decrypt_materials(req)?;
        let out = clone_dec(&fresh)?;
        let mut c = self.lock()?;
        c.tick += 1;
        let used = c.tick;
        c.dec.insert(
            key,
            DecEntry {
                materials: fresh,
                created: Instant::now(),
                epoch,
                used,
            },
        );
        c.evict(self.limits.capacity);
        Ok(out)
    }
}
