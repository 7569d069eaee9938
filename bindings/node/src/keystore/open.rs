//! Opening a key store: the soft backend's root key, or an HSM.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sealbox::keystore as ks;
use zeroize::Zeroizing;

use super::KeyStore;
use crate::args::{whole, Instance};
use crate::impls::{debug_fields, debug_opaque};
use crate::task::{twins, Job};
use crate::{boundary, invalid, js_error};

/// The 32-byte key that seals the soft backend's key material. It stays
/// inside sealbox: JS holds only this handle.
#[napi]
pub struct RootKey {
    pub(crate) inner: Arc<ks::RootKey>,
}

debug_opaque!(RootKey);

#[napi]
impl RootKey {
    /// Reads a root key file: 32 raw bytes, 64 hex digits or base64. The
    /// file must not be readable or writable by group or others (0600).
    #[napi(factory)]
    pub fn from_file(path: String) -> Result<Self> {
        boundary(|| wrap_root(ks::RootKey::from_file(path)))
    }

    /// A root key from 32 bytes the application holds (e.g. from its own
    /// secret manager). Wipe the source afterwards with `fill(0)`.
    #[napi(factory)]
    pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
        boundary(|| wrap_root(ks::RootKey::from_bytes(&bytes)))
    }

    /// A root key (hex or base64) from an environment variable.
    #[napi(factory)]
    pub fn from_env(name: String) -> Result<Self> {
        boundary(|| wrap_root(ks::RootKey::from_env(&name)))
    }

    /// A fresh random root key (save it with `writeNewFile`).
    #[napi(factory)]
    pub fn generate() -> Result<Self> {
        boundary(|| wrap_root(ks::RootKey::generate()))
    }

    /// Writes the key (hex) to a new file with mode 0600; fails if the file
    /// exists.
    #[napi]
    pub fn write_new_file(&self, path: String) -> Result<()> {
        boundary(|| self.inner.write_new_file(path).map_err(js_error))
    }
}

fn wrap_root(r: sealbox::Result<ks::RootKey>) -> Result<RootKey> {
    r.map(|k| RootKey { inner: Arc::new(k) }).map_err(js_error)
}

/// Where the HSM is and how to log in.
#[napi(object, object_to_js = false)]
pub struct Pkcs11Options {
    /// Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: String,
    /// The token's label (or give `tokenSerial`).
    pub token_label: Option<String>,
    /// The token's serial number.
    pub token_serial: Option<String>,
    /// The user PIN.
    #[napi(ts_type = "string | Uint8Array")]
    pub pin: Either<String, Uint8Array>,
    /// The most sessions to keep open and use at once (default 8).
    pub max_sessions: Option<f64>,
}

debug_fields!(Pkcs11Options {
    module,
    token_label,
    token_serial
});

/// How to open a key store: exactly one of `rootKey` (soft backend) or
/// `pkcs11` (keys in an HSM).
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct OpenOptions {
    /// The root key of the soft backend.
    #[napi(ts_type = "RootKey")]
    pub root_key: Option<Instance<RootKey>>,
    /// The HSM of the PKCS#11 backend.
    pub pkcs11: Option<Pkcs11Options>,
    /// The audit log file (default: the database path + `.audit.jsonl`; a
    /// PostgreSQL store keeps its audit trail in the database).
    pub audit_log: Option<String>,
    /// fsync every audit record (slower; survives power loss).
    pub audit_sync: Option<bool>,
    /// Who operations are attributed to in the audit trail (default: $USER).
    pub principal: Option<String>,
    /// The propagation bound, in milliseconds: how long this process may
    /// use key metadata (state, versions, alias targets) it read before
    /// reading it again, so that a change made by another process (a
    /// disable, a scheduled deletion, a rotation) is honoured here at most
    /// this much later. Default: the store's, 1000 on PostgreSQL, 0 (read
    /// every time) on SQLite. A negative or non-finite number is
    /// ERR_SEALBOX_INVALID_ARGUMENT.
    pub metadata_cache_ttl_ms: Option<f64>,
    /// The policy of keys created without one, a setting of the store (kept
    /// in it for every handle and process): `allow-all` (every principal may
    /// do everything, the default) or `creator` (only the creating
    /// principal). Absent: the store's current setting.
    #[napi(ts_type = "'allow-all' | 'creator'")]
    pub default_policy: Option<String>,
}

/// The propagation bound from milliseconds: a finite number, zero or more.
pub(crate) fn cache_ttl_ms(ms: f64) -> Result<std::time::Duration> {
    let bad = || {
        invalid(format!(
            "metadataCacheTtlMs must be a finite number of milliseconds, zero or more, not {ms}"
        ))
    };
    if !ms.is_finite() || ms < 0.0 {
        return Err(bad());
    }
    std::time::Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| bad())
}

enum Backend {
    Soft(Arc<ks::RootKey>),
    Pkcs11(ks::Pkcs11Config),
}

fn pkcs11_config(p: Pkcs11Options) -> Result<ks::Pkcs11Config> {
    let pin = match &p.pin {
        Either::A(s) => {
            let s = Zeroizing::new(s.clone());
            ks::Pin::from_bytes(s.as_bytes())
        }
        Either::B(b) => ks::Pin::from_bytes(b),
    }
    .map_err(js_error)?;
    let token = ks::TokenSelector::from_parts(p.token_label, p.token_serial).map_err(js_error)?;
    let max_sessions = match p.max_sessions {
        Some(n) => ks::Pkcs11Config::sessions(whole("maxSessions", n, 1, 1024)? as usize)
            .map_err(js_error)?,
        None => ks::DEFAULT_MAX_SESSIONS,
    };
    Ok(ks::Pkcs11Config {
        module: PathBuf::from(p.module),
        token,
        pin,
        max_sessions,
    })
}

fn open_job(path: String, options: OpenOptions) -> Result<Job<KeyStore>> {
    let backend = match (options.root_key, options.pkcs11) {
        (Some(r), None) => Backend::Soft(r.inner.clone()),
        (None, Some(p)) => Backend::Pkcs11(pkcs11_config(p)?),
        _ => return Err(invalid("give exactly one of rootKey or pkcs11")),
    };
    let metadata_cache_ttl = options
        .metadata_cache_ttl_ms
        .map(cache_ttl_ms)
        .transpose()?;
    let default_key_policy = options
        .default_policy
        .as_deref()
        .map(super::access::default_policy)
        .transpose()?;
    let mut ko = ks::KeyStoreOptions {
        audit_log: options.audit_log.map(PathBuf::from),
        audit_sync: options.audit_sync.unwrap_or(false),
        metadata_cache_ttl,
        default_key_policy,
        ..Default::default()
    };
    if let Some(p) = options.principal {
        ko.principal = p;
    }
    Ok(Job::new(move || {
        let inner = match backend {
            Backend::Soft(root) => ks::KeyStore::open(&path, &root, ko)?,
            Backend::Pkcs11(config) => ks::KeyStore::open_pkcs11(&path, config, ko)?,
        };
        Ok(KeyStore { inner })
    }))
}

twins! {
    impl KeyStore {
        #[doc = " Opens (creating if needed) the key store in the SQLite file `path`, or in"]
        #[doc = " the PostgreSQL database `postgresql://user:password@host:port/db` (with"]
        #[doc = " `?sslmode=verify-full&sslrootcert=ca.pem` as libpq reads them), whose audit"]
        #[doc = " trail is kept in the database (`auditLog` is then refused). A server that"]
        #[doc = " cannot be reached is ERR_SEALBOX_STORE_UNAVAILABLE."]
        #[doc = " With `pkcs11`, logging in to the HSM happens on the thread pool."]
        #[promise("Promise<KeyStore>")]
        #[doc = " `open`, blocking until the store is open."]
        fn open, open_sync(path: String, options: OpenOptions) -> KeyStore {
            open_job(path, options)
        }
    }
}
