//! Keyrings and the caching materials manager.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use sealbox::cmm::{CacheLimits, DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::{
    self as kr, EcdhCurveSpec, EcdhKeyAgreementScheme, Keyring as CoreKeyring, RsaWrappingPadding,
};
use zeroize::Zeroizing;

use crate::args::{is_instance, whole, Instance, MAX_SAFE};
use crate::impls::{debug_inner, js_object_type};
use crate::keystore::KeyStore;
use crate::{boundary, invalid, js_error};

/// A keyring class: the core keyring it holds, and a `kind` getter with
/// the class's name, typed as that literal so that TypeScript takes no
/// other object for a keyring. (Doc comments are written `#[doc = "..."]`:
/// see [`crate::task::twins!`].)
macro_rules! keyring_class {
    (
        $(#[doc = $doc:tt])*
        $class:ident, $kind:tt, $(#[doc = $kind_doc:tt])*
    ) => {
        $(#[doc = $doc])*
        #[napi]
        pub struct $class {
            pub(crate) inner: Arc<dyn CoreKeyring>,
        }

        debug_inner!($class);

        #[napi]
        impl $class {
            $(#[doc = $kind_doc])*
            #[napi(getter, ts_return_type = $kind)]
            pub fn kind(&self) -> String {
                stringify!($class).to_owned()
            }
        }

        impl $class {
            fn wrap(k: impl CoreKeyring + 'static) -> Self {
                $class { inner: Arc::new(k) }
            }
        }
    };
}

keyring_class! {
    #[doc = " A keyring that wraps data keys with AES-GCM under a key the application"]
    #[doc = " holds; byte-compatible with the AWS Encryption SDK's raw AES keyring."]
    RawAesKeyring, "'RawAesKeyring'",
    #[doc = " The class's name, `'RawAesKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl RawAesKeyring {
    /// `wrappingKey`: 16, 24 or 32 bytes. The namespace and name identify
    /// the key in messages (the AWS SDKs call them key namespace and key
    /// name); a decrypting keyring must use the same ones.
    #[napi(constructor)]
    pub fn new(key_namespace: String, key_name: String, wrapping_key: Uint8Array) -> Result<Self> {
        boundary(|| {
            let k = kr::RawAesKeyring::new(&key_namespace, &key_name, &wrapping_key)
                .map_err(js_error)?;
            Ok(RawAesKeyring::wrap(k))
        })
    }
}

/// The PEM keys and padding of a raw RSA keyring.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct RawRsaKeyringOptions {
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`); needed to
    /// encrypt. Derived from the private key when absent.
    pub public_key_pem: Option<String>,
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); needed to decrypt.
    pub private_key_pem: Option<String>,
    /// Default `OAEP_SHA256_MGF1`.
    #[napi(
        ts_type = "'OAEP_SHA256_MGF1' | 'OAEP_SHA1_MGF1' | 'OAEP_SHA384_MGF1' | 'OAEP_SHA512_MGF1' | 'PKCS1'"
    )]
    pub padding: Option<String>,
}

keyring_class! {
    #[doc = " A keyring that wraps data keys with RSA; byte-compatible with the AWS"]
    #[doc = " Encryption SDK's raw RSA keyring."]
    RawRsaKeyring, "'RawRsaKeyring'",
    #[doc = " The class's name, `'RawRsaKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl RawRsaKeyring {
    /// A public key alone makes an encrypt-only keyring, a private key a
    /// keyring that also decrypts.
    #[napi(constructor)]
    pub fn new(
        key_namespace: String,
        key_name: String,
        options: RawRsaKeyringOptions,
    ) -> Result<Self> {
        boundary(|| {
            let padding = RsaWrappingPadding::from_name(
                options.padding.as_deref().unwrap_or("OAEP_SHA256_MGF1"),
            )
            .map_err(js_error)?;
            let private = options.private_key_pem.map(Zeroizing::new);
            let k = kr::RawRsaKeyring::new(
                &key_namespace,
                &key_name,
                padding,
                options.public_key_pem.as_deref(),
                private.as_deref().map(|s| s.as_str()),
            )
            .map_err(js_error)?;
            Ok(RawRsaKeyring::wrap(k))
        })
    }
}

/// The scheme, curve and keys of a raw ECDH keyring.
#[napi(object, object_to_js = false)]
pub struct RawEcdhKeyringOptions {
    /// `RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY` (the sender's private key and
    /// the recipient's public key; encrypts, and decrypts what either side
    /// of the pair wrote), `EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY` (the
    /// recipient's public key; a new key pair per message; encrypts only)
    /// or `PUBLIC_KEY_DISCOVERY` (the recipient's private key; decrypts
    /// only).
    #[napi(
        ts_type = "'RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY' | 'EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY' | 'PUBLIC_KEY_DISCOVERY'"
    )]
    pub scheme: String,
    /// The curve of both keys.
    #[napi(ts_type = "'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521'")]
    pub curve: String,
    /// PKCS#8, as PEM text or DER bytes: the sender's (static scheme) or
    /// the recipient's (discovery).
    pub private_key: Option<Either<String, Uint8Array>>,
    /// SubjectPublicKeyInfo, as PEM text or DER bytes: the recipient's.
    pub public_key: Option<Either<String, Uint8Array>>,
}

impl std::fmt::Debug for RawEcdhKeyringOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEcdhKeyringOptions")
            .field("scheme", &self.scheme)
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// A key's bytes, wiped when dropped (the JavaScript copy is the caller's).
fn key_bytes(key: Option<Either<String, Uint8Array>>) -> Option<Zeroizing<Vec<u8>>> {
    key.map(|k| {
        Zeroizing::new(match k {
            Either::A(text) => text.into_bytes(),
            Either::B(bytes) => bytes.to_vec(),
        })
    })
}

keyring_class! {
    #[doc = " A keyring that wraps data keys under a key agreed by ECDH between a"]
    #[doc = " sender and a recipient; byte-compatible with the raw ECDH keyring of the"]
    #[doc = " AWS Cryptographic Material Providers Library."]
    RawEcdhKeyring, "'RawEcdhKeyring'",
    #[doc = " The class's name, `'RawEcdhKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl RawEcdhKeyring {
    /// Keys are on `curve`; which ones `scheme` takes is said on
    /// `RawEcdhKeyringOptions`.
    #[napi(constructor)]
    pub fn new(options: RawEcdhKeyringOptions) -> Result<Self> {
        boundary(|| {
            let scheme: EcdhKeyAgreementScheme = options.scheme.parse().map_err(js_error)?;
            let curve: EcdhCurveSpec = options.curve.parse().map_err(js_error)?;
            let private = key_bytes(options.private_key);
            let public = key_bytes(options.public_key);
            let k = kr::RawEcdhKeyring::new(
                scheme,
                curve,
                private.as_deref().map(Vec::as_slice),
                public.as_deref().map(Vec::as_slice),
            )
            .map_err(js_error)?;
            Ok(RawEcdhKeyring::wrap(k))
        })
    }
}

/// The keys of a post-quantum keyring.
#[napi(object, object_to_js = false)]
pub struct PqKeyringOptions {
    /// The recipient's 1216-byte X-Wing public key: encrypts.
    pub public_key: Option<Uint8Array>,
    /// The recipient's 32-byte private key: decrypts (and encrypts).
    pub private_key: Option<Uint8Array>,
}

impl std::fmt::Debug for PqKeyringOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PqKeyringOptions").finish_non_exhaustive()
    }
}

/// A new post-quantum key pair.
#[napi(object, object_from_js = false)]
pub struct PqKeyPair {
    /// 32 bytes: keep it secret (and `fill(0)` it when done).
    pub private_key: Buffer,
    /// 1216 bytes: give it to senders.
    pub public_key: Buffer,
}

impl std::fmt::Debug for PqKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PqKeyPair").finish_non_exhaustive()
    }
}

keyring_class! {
    #[doc = " A keyring that wraps data keys to an X-Wing (ML-KEM-768 + X25519) public"]
    #[doc = " key (provider ID `sealbox-pq`): confidential against a future quantum"]
    #[doc = " computer. The AWS SDKs do not read it: pair it with an AWS-compatible"]
    #[doc = " keyring in a `MultiKeyring` where they must."]
    PqKeyring, "'PqKeyring'",
    #[doc = " The class's name, `'PqKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl PqKeyring {
    /// A public key alone encrypts; a private key decrypts too; both must
    /// be one key pair.
    #[napi(constructor)]
    pub fn new(options: PqKeyringOptions) -> Result<Self> {
        boundary(|| {
            let private = options.private_key.map(|k| Zeroizing::new(k.to_vec()));
            let k = kr::PqKeyring::new(
                options.public_key.as_deref(),
                private.as_deref().map(Vec::as_slice),
            )
            .map_err(js_error)?;
            Ok(PqKeyring::wrap(k))
        })
    }

    /// A new key pair.
    #[napi]
    pub fn generate_key_pair() -> Result<PqKeyPair> {
        boundary(|| {
            let (private, public) = kr::pq_generate_key_pair().map_err(js_error)?;
            Ok(PqKeyPair {
                private_key: Buffer::from(private.as_bytes()),
                public_key: Buffer::from(public),
            })
        })
    }
}

keyring_class! {
    #[doc = " A generator keyring plus children: every keyring wraps the data key, so"]
    #[doc = " any one of them decrypts (e.g. an HSM key plus an offline RSA recovery"]
    #[doc = " key)."]
    MultiKeyring, "'MultiKeyring'",
    #[doc = " The class's name, `'MultiKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl MultiKeyring {
    /// `generator` makes the data key; `null` gives a keyring that can only
    /// decrypt.
    #[napi(
        constructor,
        ts_args_type = "generator: RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring | null, children?: Array<RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring>"
    )]
    pub fn new(generator: Option<AnyKeyring>, children: Option<Vec<AnyKeyring>>) -> Result<Self> {
        boundary(|| {
            let children = children
                .unwrap_or_default()
                .into_iter()
                .map(|k| k.0)
                .collect();
            let k = kr::MultiKeyring::new(generator.map(|g| g.0), children).map_err(js_error)?;
            Ok(MultiKeyring::wrap(k))
        })
    }
}

keyring_class! {
    #[doc = " A keyring over one key-store key: data keys are generated and wrapped"]
    #[doc = " by the key store (or its HSM); the master key never leaves it."]
    KeyStoreKeyring, "'KeyStoreKeyring'",
    #[doc = " The class's name, `'KeyStoreKeyring'`: it also keeps TypeScript from taking"]
    #[doc = " any object for a keyring."]
}

#[napi]
impl KeyStoreKeyring {
    /// Same as `keyStore.keyring(key)`; `key` is a key ID or `alias/...`.
    #[napi(constructor, ts_args_type = "keyStore: KeyStore, key: string")]
    pub fn new(key_store: Instance<KeyStore>, key: String) -> Self {
        KeyStoreKeyring::over(&key_store.inner, &key)
    }
}

impl KeyStoreKeyring {
    pub(crate) fn over(store: &sealbox::keystore::KeyStore, key: &str) -> Self {
        KeyStoreKeyring::wrap(kr::KeyStoreKeyring::new(store.clone(), key))
    }
}

/// Any of the keyring classes, as an argument.
#[derive(Debug)]
pub struct AnyKeyring(pub(crate) Arc<dyn CoreKeyring>);

impl FromNapiValue for AnyKeyring {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        macro_rules! try_class {
            ($($t:ty),*) => {$(
                if is_instance::<$t>(env, value) {
                    // SAFETY: checked to be an instance of this class.
                    let c = unsafe { ClassInstance::<$t>::from_napi_value(env, value)? };
                    return Ok(AnyKeyring(c.inner.clone()));
                }
            )*};
        }
        try_class!(
            RawAesKeyring,
            RawRsaKeyring,
            RawEcdhKeyring,
            PqKeyring,
            MultiKeyring,
            KeyStoreKeyring
        );
        Err(invalid(
            "expected a keyring (RawAesKeyring, RawRsaKeyring, RawEcdhKeyring, PqKeyring, MultiKeyring or KeyStoreKeyring)",
        ))
    }
}

js_object_type!(AnyKeyring => "Keyring");

impl ValidateNapiValue for AnyKeyring {}

/// Limits of a caching materials manager.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct CachingOptions {
    /// Seconds a cached data key may be used (required, > 0).
    pub max_age: f64,
    /// Messages per data key (default and maximum 2^32).
    pub max_messages: Option<f64>,
    /// Plaintext bytes per data key (default: no practical limit).
    pub max_bytes: Option<f64>,
    /// Entries kept, least recently used evicted first (default 1000).
    pub capacity: Option<f64>,
    /// Caches with different partitions never share entries.
    pub partition: Option<String>,
}

/// Hits and misses of a caching materials manager.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct CacheStats {
    /// Requests served from the cache.
    pub hits: i64,
    /// Requests passed to the keyring.
    pub misses: i64,
}

/// Reuses data keys within limits, so that a service encrypting a million
/// records calls its key store (or HSM) a handful of times. Only messages
/// whose length is known up front are served from the cache (`encrypt`,
/// or a stream given `plaintextLength`).
#[napi]
pub struct CachingMaterialsManager {
    pub(crate) inner: Arc<sealbox::cmm::CachingMaterialsManager>,
}

debug_inner!(CachingMaterialsManager);

#[napi]
impl CachingMaterialsManager {
    /// A cache in front of `keyring`.
    #[napi(
        constructor,
        ts_args_type = "keyring: RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring, options: CachingOptions"
    )]
    pub fn new(keyring: AnyKeyring, options: CachingOptions) -> Result<Self> {
        boundary(|| {
            if !(options.max_age.is_finite() && options.max_age > 0.0) {
                return Err(invalid("maxAge must be a number of seconds above 0"));
            }
            let mut limits = CacheLimits::with_max_age(
                Duration::try_from_secs_f64(options.max_age).map_err(invalid)?,
            );
            if let Some(n) = options.max_messages {
                limits.max_messages = whole("maxMessages", n, 1, 1 << 32)?;
            }
            if let Some(n) = options.max_bytes {
                limits.max_bytes = whole("maxBytes", n, 1, MAX_SAFE)?;
            }
            if let Some(n) = options.capacity {
                limits.capacity = whole("capacity", n, 1, MAX_SAFE)? as usize;
            }
            if let Some(p) = options.partition {
                limits.partition = p;
            }
            let underlying: Arc<dyn MaterialsManager> =
                Arc::new(DefaultMaterialsManager::new(keyring.0));
            let cmm =
                sealbox::cmm::CachingMaterialsManager::new(underlying, limits).map_err(js_error)?;
            Ok(CachingMaterialsManager {
                inner: Arc::new(cmm),
            })
        })
    }

    /// Hits and misses so far.
    #[napi]
    pub fn stats(&self) -> CacheStats {
        let (hits, misses) = self.inner.stats();
        CacheStats {
            hits: hits as i64,
            misses: misses as i64,
        }
    }

    /// Drops every cached entry.
    #[napi]
    pub fn clear(&self) {
        self.inner.clear()
    }
}

/// Where a message's data key comes from: exactly one of a keyring or a
/// materials manager.
pub(crate) fn materials(
    keyring: Option<AnyKeyring>,
    materials_manager: Option<Instance<CachingMaterialsManager>>,
) -> Result<Arc<dyn MaterialsManager>> {
    match (keyring, materials_manager) {
        (Some(k), None) => Ok(Arc::new(DefaultMaterialsManager::new(k.0))),
        (None, Some(m)) => Ok(m.inner.clone()),
        (Some(_), Some(_)) => Err(invalid("give either keyring or materialsManager, not both")),
        (None, None) => Err(invalid("a keyring or a materialsManager is required")),
    }
}
