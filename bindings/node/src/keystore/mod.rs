//! The key store: every operation in a Promise form and a `…Sync` form
//! (see [`twins!`](crate::task::twins)), one file per group of the AWS KMS
//! API it mirrors.

use napi_derive::napi;
use sealbox::keystore as ks;

use crate::impls::debug_inner;
use crate::keyring::KeyStoreKeyring;

mod open;

mod keys;

mod aliases;

mod encryption;

mod signing;

mod mac;

mod audit;

mod secrets;

mod access;

pub(crate) mod metadata;

/// The key store: custodian of master keys (soft backend sealed under a
/// root key, or an HSM through PKCS#11), with the operations of the AWS
/// KMS API. Every operation is audited. Share one instance: it is safe to
/// use from many concurrent Promises.
#[napi]
pub struct KeyStore {
    pub(crate) inner: ks::KeyStore,
}

debug_inner!(KeyStore);

impl KeyStore {
    /// A handle on the store for a job to own.
    fn ks(&self) -> ks::KeyStore {
        self.inner.clone()
    }
}

#[napi]
impl KeyStore {
    /// `soft` or `pkcs11`.
    #[napi(getter)]
    pub fn backend_kind(&self) -> &'static str {
        self.inner.backend_kind()
    }

    /// A keyring over `key` (key ID or `alias/...`) of this store.
    #[napi]
    pub fn keyring(&self, key: String) -> KeyStoreKeyring {
        KeyStoreKeyring::over(&self.inner, &key)
    }
}
