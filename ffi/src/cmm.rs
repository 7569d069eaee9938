//! Cryptographic materials managers: the default one over a keyring, and
//! the caching one.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use sealbox_core::cmm::{
    CacheLimits, CachingMaterialsManager, DefaultMaterialsManager, MaterialsManager,
};

use crate::error::{sealbox_result, Failure};
use crate::handle::arc_handle;
use crate::keyring::sealbox_keyring;

/// A cryptographic materials manager (CMM): what `sealbox_encrypt`,
/// `sealbox_decrypt` and the streaming contexts get their data keys from.
///
/// Ownership: made by `sealbox_default_cmm_new` or `sealbox_caching_cmm_new`;
/// the caller frees it with `sealbox_cmm_free`. Streaming contexts and
/// caching CMMs made from it keep it alive, so it may be freed before them.
///
/// Thread safety: thread-safe; one CMM (and its cache) serves any number of
/// threads at once.
pub struct sealbox_cmm {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_cmm`.
#[derive(Debug)]
pub(crate) struct Cmm {
    pub(crate) inner: Arc<dyn MaterialsManager>,
    caching: Option<Arc<CachingMaterialsManager>>,
}

/// The default CMM over one keyring (as the AWS Encryption SDK's).
///
/// Ownership: the CMM holds its own reference to the keyring; the caller
/// frees `*out` with `sealbox_cmm_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_default_cmm_new(
    keyring: *const sealbox_keyring,
    out: *mut *const sealbox_cmm,
) -> sealbox_result {
    with_out!([keyring = try_ref!(keyring)] out => arc_handle(Cmm {
        inner: Arc::new(DefaultMaterialsManager::new(keyring.inner.clone())),
        caching: None,
    }))
}

/// A caching CMM over `underlying`: data keys are reused until an entry is
/// `max_age_seconds` old (required, > 0) or has served `max_messages`
/// messages (0: 2^32) or `max_bytes` bytes (0: no practical limit); at most
/// `capacity` entries (0: 1000), least recently used evicted first.
/// `partition` (NULL: none) separates caches that must share nothing.
/// Only messages whose plaintext length is known are served from the cache
/// (one-shot `sealbox_encrypt`, or `sealbox_encrypt_options_set_plaintext_length`).
///
/// Ownership: the caching CMM holds its own reference to `underlying`; the
/// caller frees `*out` with `sealbox_cmm_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_caching_cmm_new(
    underlying: *const sealbox_cmm,
    max_age_seconds: f64,
    max_messages: u64,
    max_bytes: u64,
    capacity: usize,
    partition: *const c_char,
    out: *mut *const sealbox_cmm,
) -> sealbox_result {
    ffi_boundary! {
        let underlying = try_ref!(underlying);
        let partition = try_opt_str!(partition);
        let out = try_out!(out);
        let max_age = Duration::try_from_secs_f64(max_age_seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| Failure::arg("max_age_seconds must be a positive number of seconds"))?;
        let mut limits = CacheLimits::with_max_age(max_age);
        if max_messages != 0 {
            limits.max_messages = max_messages;
        }
        if max_bytes != 0 {
            limits.max_bytes = max_bytes;
        }
        if capacity != 0 {
            limits.capacity = capacity;
        }
        if let Some(p) = partition {
            limits.partition = p.to_owned();
        }
        let caching = Arc::new(CachingMaterialsManager::new(underlying.inner.clone(), limits)?);
        out.write(arc_handle(Cmm {
            inner: caching.clone(),
            caching: Some(caching),
        }));
        Ok(())
    }
}

/// The cache's hits and misses so far. `SEALBOX_RESULT_INVALID_ARGUMENT`
/// when `cmm` is not a caching CMM.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_cmm_cache_stats(
    cmm: *const sealbox_cmm,
    out_hits: *mut u64,
    out_misses: *mut u64,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let (out_hits, out_misses) = (try_out!(out_hits), try_out!(out_misses));
        let caching = cmm.caching.as_ref().ok_or_else(|| Failure::arg("not a caching CMM"))?;
        let (hits, misses) = caching.stats();
        out_hits.write(hits);
        out_misses.write(misses);
        Ok(())
    }
}

/// Drops every cache entry (e.g. after a key was rotated or disabled).
/// `SEALBOX_RESULT_INVALID_ARGUMENT` when `cmm` is not a caching CMM.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_cmm_cache_clear(cmm: *const sealbox_cmm) -> sealbox_result {
    with_ref!(cmm, |cmm| cmm
        .caching
        .as_ref()
        .ok_or_else(|| Failure::arg("not a caching CMM"))?
        .clear())
}

/// Releases the caller's reference to a CMM. NULL is a no-op.
///
/// Ownership: takes back `cmm`; contexts and CMMs made from it keep working.
///
/// Thread safety: call once per handle, when this holder no longer uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_cmm_free(cmm: *const sealbox_cmm) {
    free_handle!(arc cmm)
}
