//! The key store: every operation in a Promise form and a `…Sync` form.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;

use crate::bytes::Buffer;
use napi::threadsafe_function::{
    ErrorStrategy, ThreadSafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::JsFunction;
use napi_derive::napi;
use sealbox::audit::AuditSink;
use sealbox::keystore::{self as ks, MAX_LIST_LIMIT, MAX_RANDOM};
use zeroize::Zeroizing;

use crate::args::{map, named, whole, whole_u32, Instance, StringMap};
use crate::keyring::KeyStoreKeyring;
use crate::values::{AliasEntry, AuditEvent, AuditReport, DataKey, KeyList, KeyMetadata};
use crate::{boundary, invalid, js_error, op, run, spawn, Job, Op};

/// The 32-byte key that seals the soft backend's key material. It stays
/// inside sealbox: JS holds only this handle.
#[napi]
pub struct RootKey {
    pub(crate) inner: Arc<ks::RootKey>,
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(..)")
    }
}

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

impl std::fmt::Debug for Pkcs11Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Options")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("token_serial", &self.token_serial)
            .finish_non_exhaustive()
    }
}

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
    /// The audit log file (default: the database path + `.audit.jsonl`).
    pub audit_log: Option<String>,
    /// fsync every audit record (slower; survives power loss).
    pub audit_sync: Option<bool>,
    /// Who operations are attributed to in the audit trail (default: $USER).
    pub principal: Option<String>,
}

enum Backend {
    Soft(Arc<ks::RootKey>),
    Pkcs11(ks::Pkcs11Config),
}

fn open_op(path: String, options: OpenOptions) -> Result<Op<KeyStore>> {
    let backend = match (options.root_key, options.pkcs11) {
        (Some(r), None) => Backend::Soft(r.inner.clone()),
        (None, Some(p)) => {
            let pin = match &p.pin {
                Either::A(s) => {
                    let s = Zeroizing::new(s.clone());
                    ks::Pin::from_bytes(s.as_bytes())
                }
                Either::B(b) => ks::Pin::from_bytes(b),
            }
            .map_err(js_error)?;
            if p.token_label.is_none() == p.token_serial.is_none() {
                return Err(invalid(
                    "pkcs11 needs exactly one of tokenLabel or tokenSerial",
                ));
            }
            let max_sessions = match p.max_sessions {
                Some(n) => whole("maxSessions", n, 1, 1024)? as usize,
                None => ks::DEFAULT_MAX_SESSIONS,
            };
            Backend::Pkcs11(ks::Pkcs11Config {
                module: PathBuf::from(p.module),
                token_label: p.token_label,
                token_serial: p.token_serial,
                pin,
                max_sessions,
            })
        }
        _ => return Err(invalid("give exactly one of rootKey or pkcs11")),
    };
    let mut ko = ks::KeyStoreOptions {
        audit_log: options.audit_log.map(PathBuf::from),
        audit_sync: options.audit_sync.unwrap_or(false),
        ..Default::default()
    };
    if let Some(p) = options.principal {
        ko.principal = p;
    }
    Ok(op(move || {
        let inner = match backend {
            Backend::Soft(root) => ks::KeyStore::open(&path, &root, ko)?,
            Backend::Pkcs11(config) => ks::KeyStore::open_pkcs11(&path, config, ko)?,
        };
        Ok(KeyStore { inner })
    }))
}

/// Options of `createKey` and `importKey`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct CreateKeyOptions {
    /// Default `AES_256`.
    #[napi(
        ts_type = "'AES_256' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'HMAC_256' | 'HMAC_512'"
    )]
    pub key_spec: Option<String>,
    /// Default: the spec's usual usage.
    #[napi(ts_type = "'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC'")]
    pub key_usage: Option<String>,
    /// An alias (`alias/...`) to point at the new key.
    pub alias: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Tags.
    #[napi(ts_type = "Record<string, string>")]
    pub tags: Option<StringMap>,
    /// Rotate automatically every this many days (AES_256 only).
    pub rotation_period_days: Option<f64>,
}

fn create_request(o: Option<CreateKeyOptions>) -> Result<ks::CreateKeyRequest> {
    let o = o.unwrap_or_default();
    let mut req = ks::CreateKeyRequest::default();
    if let Some(s) = o.key_spec {
        req.key_spec = named(&s)?;
    }
    if let Some(u) = o.key_usage {
        req.key_usage = Some(named(&u)?);
    }
    req.alias = o.alias;
    req.description = o.description.unwrap_or_default();
    req.tags = map(o.tags);
    if let Some(d) = o.rotation_period_days {
        req.rotation_period_days = Some(whole_u32("rotationPeriodDays", d, 0, u32::MAX)?);
    }
    Ok(req)
}

/// Options of `listKeys`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ListKeysOptions {
    /// Keys per page, 1..=1000 (default 1000).
    pub limit: Option<f64>,
    /// `nextMarker` of the previous page.
    pub marker: Option<String>,
}

/// Options of the key store's `encrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct KeyEncryptOptions {
    /// Authenticated data: the same context is needed to decrypt.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// For RSA keys: `RSAES_OAEP_SHA_256` or `RSAES_OAEP_SHA_1`.
    #[napi(ts_type = "'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'")]
    pub algorithm: Option<String>,
}

/// Options of the key store's `decrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct KeyDecryptOptions {
    /// The context the ciphertext was made with (symmetric keys).
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// The RSA key, for RSA ciphertext (with `algorithm`).
    pub key_id: Option<String>,
    /// For RSA ciphertext: `RSAES_OAEP_SHA_256` or `RSAES_OAEP_SHA_1`.
    #[napi(ts_type = "'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'")]
    pub algorithm: Option<String>,
}

/// Options of `reEncrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ReEncryptOptions {
    /// The context the ciphertext was made with.
    #[napi(ts_type = "Record<string, string>")]
    pub source_encryption_context: Option<StringMap>,
    /// The context to bind the new ciphertext to.
    #[napi(ts_type = "Record<string, string>")]
    pub destination_encryption_context: Option<StringMap>,
}

/// Options of `generateDataKey` and `generateDataKeyWithoutPlaintext`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct DataKeyOptions {
    /// Authenticated data for the encrypted copy.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// Length of the data key, 1..=1024 (default 32).
    pub number_of_bytes: Option<f64>,
}

fn data_key_args(o: Option<DataKeyOptions>) -> Result<(usize, BTreeMap<String, String>)> {
    let (n, ec) = match o {
        Some(o) => (o.number_of_bytes, o.encryption_context),
        None => (None, None),
    };
    let n = match n {
        Some(n) => whole("numberOfBytes", n, 1, 1024)? as usize,
        None => 32,
    };
    Ok((n, map(ec)))
}

type SignAlg = String;

fn message_type(t: Option<String>) -> Result<ks::MessageType> {
    t.map_or(Ok(ks::MessageType::Raw), |t| named(&t))
}

fn to_buffer(v: Vec<u8>) -> Buffer {
    Buffer::from(v)
}

/// The key store: custodian of master keys (soft backend sealed under a
/// root key, or an HSM through PKCS#11), with the operations of the AWS
/// KMS API. Every operation is audited. Share one instance: it is safe to
/// use from many concurrent Promises.
#[napi]
pub struct KeyStore {
    pub(crate) inner: ks::KeyStore,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

/// The `onAudit` sink: hands each event to the JS callback on the event
/// loop. Node runs JS on one thread, and operations run on the thread pool
/// while that thread may itself wait on the key store, so the callback is
/// a notification, queued in order: it cannot veto or delay the operation.
/// The durable, tamper-evident record is the audit log file, written
/// before the operation takes effect.
struct JsAuditSink(ThreadsafeFunction<AuditEvent, ErrorStrategy::Fatal>);

impl std::fmt::Debug for JsAuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsAuditSink(..)")
    }
}

impl AuditSink for JsAuditSink {
    fn record(&self, event: &sealbox::audit::AuditEvent) -> sealbox::Result<()> {
        match self.0.call(
            AuditEvent::from(event),
            ThreadsafeFunctionCallMode::NonBlocking,
        ) {
            Status::Ok => Ok(()),
            s => Err(sealbox::Error::Audit(format!(
                "the audit callback could not be queued ({s})"
            ))),
        }
    }
}

impl KeyStore {
    fn ks(&self) -> ks::KeyStore {
        self.inner.clone()
    }

    fn op_create_key(&self, options: Option<CreateKeyOptions>) -> Result<Op<KeyMetadata>> {
        let req = create_request(options)?;
        let k = self.ks();
        Ok(op(move || Ok(k.create_key(&req)?.into())))
    }

    fn op_import_key(
        &self,
        material: Uint8Array,
        options: Option<CreateKeyOptions>,
    ) -> Result<Op<KeyMetadata>> {
        let req = create_request(options)?;
        let material = Zeroizing::new(material.to_vec());
        let k = self.ks();
        Ok(op(move || Ok(k.import_key(&req, &material)?.into())))
    }

    fn op_key(
        &self,
        key: String,
        f: fn(&ks::KeyStore, &str) -> sealbox::Result<ks::KeyMetadata>,
    ) -> Op<KeyMetadata> {
        let k = self.ks();
        op(move || Ok(f(&k, &key)?.into()))
    }

    fn op_list_keys(&self, options: Option<ListKeysOptions>) -> Result<Op<KeyList>> {
        let (limit, marker) = match options {
            Some(o) => (o.limit, o.marker),
            None => (None, None),
        };
        let limit = match limit {
            Some(l) => whole("limit", l, 1, MAX_LIST_LIMIT as u64)? as usize,
            None => MAX_LIST_LIMIT,
        };
        let k = self.ks();
        Ok(op(move || {
            let page = k.list_keys(limit, marker.as_deref())?;
            Ok(KeyList {
                keys: page.keys.into_iter().map(Into::into).collect(),
                next_marker: page.next_marker,
            })
        }))
    }

    fn op_schedule(&self, key: String, days: Option<f64>) -> Result<Op<KeyMetadata>> {
        let days = match days {
            Some(d) => whole_u32("pendingWindowDays", d, 0, u32::MAX)?,
            None => 30,
        };
        let k = self.ks();
        Ok(op(move || Ok(k.schedule_key_deletion(&key, days)?.into())))
    }

    fn op_enable_rotation(&self, key: String, days: f64) -> Result<Op<KeyMetadata>> {
        let days = whole_u32("periodDays", days, 0, u32::MAX)?;
        let k = self.ks();
        Ok(op(move || Ok(k.enable_key_rotation(&key, days)?.into())))
    }

    fn op_encrypt(
        &self,
        key: String,
        plaintext: Uint8Array,
        options: Option<KeyEncryptOptions>,
    ) -> Result<Op<Buffer>> {
        let (ec, alg) = match options {
            Some(o) => (o.encryption_context, o.algorithm),
            None => (None, None),
        };
        let pt = Zeroizing::new(plaintext.to_vec());
        let k = self.ks();
        match alg {
            None => {
                let ec = map(ec);
                Ok(op(move || k.encrypt(&key, &pt, &ec).map(to_buffer)))
            }
            Some(a) => {
                if ec.is_some() {
                    return Err(invalid(
                        "RSA encryption takes no encryption context (RSA has no associated data)",
                    ));
                }
                let alg: ks::EncryptionAlgorithm = named(&a)?;
                Ok(op(move || k.encrypt_rsa(&key, &pt, alg).map(to_buffer)))
            }
        }
    }

    fn op_decrypt(
        &self,
        ciphertext: Uint8Array,
        options: Option<KeyDecryptOptions>,
    ) -> Result<Op<Buffer>> {
        let ct = ciphertext.to_vec();
        let k = self.ks();
        let (ec, key_id, alg) = match options {
            Some(o) => (o.encryption_context, o.key_id, o.algorithm),
            None => (None, None, None),
        };
        match (key_id, alg) {
            (None, None) => {
                let ec = map(ec);
                Ok(op(move || {
                    k.decrypt(&ct, &ec)
                        .map(|pt| Buffer::secret_copy(pt.as_bytes()))
                }))
            }
            (Some(key), Some(a)) => {
                if ec.is_some() {
                    return Err(invalid("RSA decryption takes no encryption context"));
                }
                let alg: ks::EncryptionAlgorithm = named(&a)?;
                Ok(op(move || {
                    k.decrypt_rsa(&key, &ct, alg)
                        .map(|pt| Buffer::secret_copy(pt.as_bytes()))
                }))
            }
            _ => Err(invalid(
                "RSA decryption needs both keyId and algorithm; symmetric decryption neither",
            )),
        }
    }

    fn op_re_encrypt(
        &self,
        ciphertext: Uint8Array,
        destination_key_id: String,
        options: Option<ReEncryptOptions>,
    ) -> Op<Buffer> {
        let ct = ciphertext.to_vec();
        let (src, dst) = match options {
            Some(o) => (
                map(o.source_encryption_context),
                map(o.destination_encryption_context),
            ),
            None => Default::default(),
        };
        let k = self.ks();
        op(move || {
            k.re_encrypt(&ct, &src, &destination_key_id, &dst)
                .map(to_buffer)
        })
    }

    fn op_generate_data_key(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<Op<DataKey>> {
        let (n, ec) = data_key_args(options)?;
        let k = self.ks();
        Ok(op(move || {
            let dk = k.generate_data_key(&key, n, &ec)?;
            Ok(DataKey {
                plaintext: Buffer::secret_copy(dk.plaintext.as_bytes()),
                ciphertext: to_buffer(dk.ciphertext),
                key_id: dk.key_id,
                key_version: dk.key_version,
            })
        }))
    }

    fn op_generate_data_key_without_plaintext(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<Op<Buffer>> {
        let (n, ec) = data_key_args(options)?;
        let k = self.ks();
        Ok(op(move || {
            k.generate_data_key_without_plaintext(&key, n, &ec)
                .map(to_buffer)
        }))
    }

    fn op_sign(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: SignAlg,
        message_type_: Option<String>,
    ) -> Result<Op<Buffer>> {
        let alg: ks::SigningAlgorithm = named(&algorithm)?;
        let mt = message_type(message_type_)?;
        let msg = message.to_vec();
        let k = self.ks();
        Ok(op(move || k.sign(&key, &msg, alg, mt).map(to_buffer)))
    }

    fn op_verify(
        &self,
        key: String,
        message: Uint8Array,
        signature: Uint8Array,
        algorithm: SignAlg,
        message_type_: Option<String>,
    ) -> Result<Op<bool>> {
        let alg: ks::SigningAlgorithm = named(&algorithm)?;
        let mt = message_type(message_type_)?;
        let (msg, sig) = (message.to_vec(), signature.to_vec());
        let k = self.ks();
        Ok(op(move || k.verify(&key, &msg, &sig, alg, mt)))
    }

    fn op_generate_mac(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: String,
    ) -> Result<Op<Buffer>> {
        let alg: ks::MacAlgorithm = named(&algorithm)?;
        let msg = message.to_vec();
        let k = self.ks();
        Ok(op(move || k.generate_mac(&key, &msg, alg).map(to_buffer)))
    }

    fn op_verify_mac(
        &self,
        key: String,
        message: Uint8Array,
        mac: Uint8Array,
        algorithm: String,
    ) -> Result<Op<bool>> {
        let alg: ks::MacAlgorithm = named(&algorithm)?;
        let (msg, mac) = (message.to_vec(), mac.to_vec());
        let k = self.ks();
        Ok(op(move || k.verify_mac(&key, &msg, &mac, alg)))
    }

    fn op_generate_random(&self, number_of_bytes: f64) -> Result<Op<Buffer>> {
        let n = whole("numberOfBytes", number_of_bytes, 1, MAX_RANDOM as u64)? as usize;
        let k = self.ks();
        Ok(op(move || k.generate_random(n).map(Buffer::secret)))
    }

    fn op_unit(
        &self,
        f: impl FnOnce(&ks::KeyStore) -> sealbox::Result<()> + Send + 'static,
    ) -> Op<()> {
        let k = self.ks();
        op(move || f(&k))
    }
}

#[napi]
impl KeyStore {
    /// Opens (creating if needed) the key store in the SQLite file `path`.
    /// With `pkcs11`, logging in to the HSM happens on the thread pool.
    #[napi(ts_return_type = "Promise<KeyStore>")]
    pub fn open(path: String, options: OpenOptions) -> Result<AsyncTask<Job<KeyStore>>> {
        boundary(|| open_op(path, options).map(spawn))
    }

    /// `open`, blocking until the store is open.
    #[napi]
    pub fn open_sync(path: String, options: OpenOptions) -> Result<KeyStore> {
        boundary(|| open_op(path, options).and_then(run))
    }

    /// `soft` or `pkcs11`.
    #[napi(getter)]
    pub fn backend_kind(&self) -> &'static str {
        self.inner.backend_kind()
    }

    /// How many times `operation` (e.g. `GenerateDataKey`) was allowed since
    /// this store was opened.
    #[napi]
    pub fn operation_count(&self, operation: String) -> i64 {
        self.inner.operation_count(&operation) as i64
    }

    /// Calls `callback` with every audit event (allowed or failed) of this
    /// key store, in order, on the event loop. The callback observes; it
    /// cannot stop an operation (the audit log file is the durable record).
    /// An exception thrown by the callback is raised as an uncaught
    /// exception, as an event listener's would be.
    #[napi(ts_args_type = "callback: (event: AuditEvent) => void")]
    pub fn on_audit(&self, env: Env, callback: JsFunction) -> Result<()> {
        let mut tsfn: ThreadsafeFunction<AuditEvent, ErrorStrategy::Fatal> = callback
            .create_threadsafe_function(0, |ctx: ThreadSafeCallContext<AuditEvent>| {
                Ok(vec![ctx.value])
            })?;
        // A listener must not keep the process alive on its own.
        tsfn.unref(&env)?;
        self.inner.add_audit_sink(Arc::new(JsAuditSink(tsfn)));
        Ok(())
    }

    /// A keyring over `key` (key ID or `alias/...`) of this store.
    #[napi]
    pub fn keyring(&self, key: String) -> KeyStoreKeyring {
        KeyStoreKeyring::over(&self.inner, &key)
    }

    /// The audit log file, if the store has one.
    #[napi(getter)]
    pub fn audit_log_path(&self) -> Option<String> {
        self.inner
            .audit_log_path()
            .map(|p| p.to_string_lossy().into_owned())
    }

    // ----------------------------------------------------------- keys --

    /// CreateKey.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn create_key(
        &self,
        options: Option<CreateKeyOptions>,
    ) -> Result<AsyncTask<Job<KeyMetadata>>> {
        self.op_create_key(options).map(spawn)
    }
    /// CreateKey, blocking.
    #[napi]
    pub fn create_key_sync(&self, options: Option<CreateKeyOptions>) -> Result<KeyMetadata> {
        self.op_create_key(options).and_then(run)
    }

    /// ImportKey (BYOK): 32 raw bytes for AES_256, ≥ 32 / ≥ 64 for HMAC,
    /// PKCS#8 DER for RSA and ECC keys. Wipe `material` afterwards.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn import_key(
        &self,
        material: Uint8Array,
        options: Option<CreateKeyOptions>,
    ) -> Result<AsyncTask<Job<KeyMetadata>>> {
        self.op_import_key(material, options).map(spawn)
    }
    /// ImportKey, blocking.
    #[napi]
    pub fn import_key_sync(
        &self,
        material: Uint8Array,
        options: Option<CreateKeyOptions>,
    ) -> Result<KeyMetadata> {
        self.op_import_key(material, options).and_then(run)
    }

    /// DescribeKey (key ID or alias).
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn describe_key(&self, key: String) -> AsyncTask<Job<KeyMetadata>> {
        spawn(self.op_key(key, ks::KeyStore::describe_key))
    }
    /// DescribeKey, blocking.
    #[napi]
    pub fn describe_key_sync(&self, key: String) -> Result<KeyMetadata> {
        run(self.op_key(key, ks::KeyStore::describe_key))
    }

    /// ListKeys: one page, in key ID order.
    #[napi(ts_return_type = "Promise<KeyList>")]
    pub fn list_keys(&self, options: Option<ListKeysOptions>) -> Result<AsyncTask<Job<KeyList>>> {
        self.op_list_keys(options).map(spawn)
    }
    /// ListKeys, blocking.
    #[napi]
    pub fn list_keys_sync(&self, options: Option<ListKeysOptions>) -> Result<KeyList> {
        self.op_list_keys(options).and_then(run)
    }

    /// EnableKey.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn enable_key(&self, key: String) -> AsyncTask<Job<KeyMetadata>> {
        spawn(self.op_key(key, ks::KeyStore::enable_key))
    }
    /// EnableKey, blocking.
    #[napi]
    pub fn enable_key_sync(&self, key: String) -> Result<KeyMetadata> {
        run(self.op_key(key, ks::KeyStore::enable_key))
    }

    /// DisableKey.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn disable_key(&self, key: String) -> AsyncTask<Job<KeyMetadata>> {
        spawn(self.op_key(key, ks::KeyStore::disable_key))
    }
    /// DisableKey, blocking.
    #[napi]
    pub fn disable_key_sync(&self, key: String) -> Result<KeyMetadata> {
        run(self.op_key(key, ks::KeyStore::disable_key))
    }

    /// ScheduleKeyDeletion: the material is destroyed after
    /// `pendingWindowDays` (7..=30, default 30) unless cancelled.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn schedule_key_deletion(
        &self,
        key: String,
        pending_window_days: Option<f64>,
    ) -> Result<AsyncTask<Job<KeyMetadata>>> {
        self.op_schedule(key, pending_window_days).map(spawn)
    }
    /// ScheduleKeyDeletion, blocking.
    #[napi]
    pub fn schedule_key_deletion_sync(
        &self,
        key: String,
        pending_window_days: Option<f64>,
    ) -> Result<KeyMetadata> {
        self.op_schedule(key, pending_window_days).and_then(run)
    }

    /// CancelKeyDeletion: the key comes back disabled.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn cancel_key_deletion(&self, key: String) -> AsyncTask<Job<KeyMetadata>> {
        spawn(self.op_key(key, ks::KeyStore::cancel_key_deletion))
    }
    /// CancelKeyDeletion, blocking.
    #[napi]
    pub fn cancel_key_deletion_sync(&self, key: String) -> Result<KeyMetadata> {
        run(self.op_key(key, ks::KeyStore::cancel_key_deletion))
    }

    /// RotateKey (AES_256): a new primary version; returns its number.
    /// Older versions keep decrypting.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn rotate_key(&self, key: String) -> AsyncTask<Job<u32>> {
        let k = self.ks();
        spawn(op(move || k.rotate_key(&key)))
    }
    /// RotateKey, blocking.
    #[napi]
    pub fn rotate_key_sync(&self, key: String) -> Result<u32> {
        let k = self.ks();
        run(op(move || k.rotate_key(&key)))
    }

    /// EnableKeyRotation every `periodDays` (AES_256 only).
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn enable_key_rotation(
        &self,
        key: String,
        period_days: f64,
    ) -> Result<AsyncTask<Job<KeyMetadata>>> {
        self.op_enable_rotation(key, period_days).map(spawn)
    }
    /// EnableKeyRotation, blocking.
    #[napi]
    pub fn enable_key_rotation_sync(&self, key: String, period_days: f64) -> Result<KeyMetadata> {
        self.op_enable_rotation(key, period_days).and_then(run)
    }

    /// DisableKeyRotation.
    #[napi(ts_return_type = "Promise<KeyMetadata>")]
    pub fn disable_key_rotation(&self, key: String) -> AsyncTask<Job<KeyMetadata>> {
        spawn(self.op_key(key, ks::KeyStore::disable_key_rotation))
    }
    /// DisableKeyRotation, blocking.
    #[napi]
    pub fn disable_key_rotation_sync(&self, key: String) -> Result<KeyMetadata> {
        run(self.op_key(key, ks::KeyStore::disable_key_rotation))
    }

    /// Rotates every key whose rotation period has passed; returns how many.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn apply_due_rotations(&self) -> AsyncTask<Job<u32>> {
        let k = self.ks();
        spawn(op(move || Ok(k.apply_due_rotations()? as u32)))
    }
    /// applyDueRotations, blocking.
    #[napi]
    pub fn apply_due_rotations_sync(&self) -> Result<u32> {
        let k = self.ks();
        run(op(move || Ok(k.apply_due_rotations()? as u32)))
    }

    /// Destroys the keys whose deletion date has passed; returns their IDs.
    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub fn purge_expired_keys(&self) -> AsyncTask<Job<Vec<String>>> {
        let k = self.ks();
        spawn(op(move || k.purge_expired_keys()))
    }
    /// purgeExpiredKeys, blocking.
    #[napi]
    pub fn purge_expired_keys_sync(&self) -> Result<Vec<String>> {
        let k = self.ks();
        run(op(move || k.purge_expired_keys()))
    }

    /// UpdateKeyDescription.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_key_description(&self, key: String, description: String) -> AsyncTask<Job<()>> {
        spawn(self.op_unit(move |k| k.update_key_description(&key, &description)))
    }
    /// UpdateKeyDescription, blocking.
    #[napi]
    pub fn update_key_description_sync(&self, key: String, description: String) -> Result<()> {
        run(self.op_unit(move |k| k.update_key_description(&key, &description)))
    }

    // -------------------------------------------------- aliases, tags --

    /// CreateAlias: `alias/` + letters, digits, `/ _ -`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_alias(&self, alias: String, key: String) -> AsyncTask<Job<()>> {
        spawn(self.op_unit(move |k| k.create_alias(&alias, &key)))
    }
    /// CreateAlias, blocking.
    #[napi]
    pub fn create_alias_sync(&self, alias: String, key: String) -> Result<()> {
        run(self.op_unit(move |k| k.create_alias(&alias, &key)))
    }

    /// UpdateAlias: points an existing alias at another key.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_alias(&self, alias: String, key: String) -> AsyncTask<Job<()>> {
        spawn(self.op_unit(move |k| k.update_alias(&alias, &key)))
    }
    /// UpdateAlias, blocking.
    #[napi]
    pub fn update_alias_sync(&self, alias: String, key: String) -> Result<()> {
        run(self.op_unit(move |k| k.update_alias(&alias, &key)))
    }

    /// DeleteAlias.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_alias(&self, alias: String) -> AsyncTask<Job<()>> {
        spawn(self.op_unit(move |k| k.delete_alias(&alias)))
    }
    /// DeleteAlias, blocking.
    #[napi]
    pub fn delete_alias_sync(&self, alias: String) -> Result<()> {
        run(self.op_unit(move |k| k.delete_alias(&alias)))
    }

    /// ListAliases.
    #[napi(ts_return_type = "Promise<Array<AliasEntry>>")]
    pub fn list_aliases(&self) -> AsyncTask<Job<Vec<AliasEntry>>> {
        spawn(self.op_list_aliases())
    }
    /// ListAliases, blocking.
    #[napi]
    pub fn list_aliases_sync(&self) -> Result<Vec<AliasEntry>> {
        run(self.op_list_aliases())
    }

    /// TagResource: adds or replaces tags.
    #[napi(
        ts_args_type = "key: string, tags: Record<string, string>",
        ts_return_type = "Promise<void>"
    )]
    pub fn tag_key(&self, key: String, tags: StringMap) -> AsyncTask<Job<()>> {
        let tags = map(Some(tags));
        spawn(self.op_unit(move |k| k.tag_key(&key, &tags)))
    }
    /// TagResource, blocking.
    #[napi(ts_args_type = "key: string, tags: Record<string, string>")]
    pub fn tag_key_sync(&self, key: String, tags: StringMap) -> Result<()> {
        let tags = map(Some(tags));
        run(self.op_unit(move |k| k.tag_key(&key, &tags)))
    }

    /// UntagResource: removes the named tags.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn untag_key(&self, key: String, tag_keys: Vec<String>) -> AsyncTask<Job<()>> {
        spawn(self.op_unit(move |k| k.untag_key(&key, &tag_keys)))
    }
    /// UntagResource, blocking.
    #[napi]
    pub fn untag_key_sync(&self, key: String, tag_keys: Vec<String>) -> Result<()> {
        run(self.op_unit(move |k| k.untag_key(&key, &tag_keys)))
    }

    // ---------------------------------------------------- cryptography --

    /// Encrypt at most 4096 bytes under the key's primary version (AES),
    /// or with an RSA key's public half (`algorithm`).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn encrypt(
        &self,
        key: String,
        plaintext: Uint8Array,
        options: Option<KeyEncryptOptions>,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_encrypt(key, plaintext, options).map(spawn)
    }
    /// Encrypt, blocking.
    #[napi]
    pub fn encrypt_sync(
        &self,
        key: String,
        plaintext: Uint8Array,
        options: Option<KeyEncryptOptions>,
    ) -> Result<Buffer> {
        self.op_encrypt(key, plaintext, options).and_then(run)
    }

    /// Decrypt a ciphertext of `encrypt` (it names its key and version), or
    /// RSA-OAEP ciphertext with `keyId` and `algorithm`. Any failure to
    /// authenticate is `ERR_SEALBOX_DECRYPTION_FAILED`.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn decrypt(
        &self,
        ciphertext: Uint8Array,
        options: Option<KeyDecryptOptions>,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_decrypt(ciphertext, options).map(spawn)
    }
    /// Decrypt, blocking.
    #[napi]
    pub fn decrypt_sync(
        &self,
        ciphertext: Uint8Array,
        options: Option<KeyDecryptOptions>,
    ) -> Result<Buffer> {
        self.op_decrypt(ciphertext, options).and_then(run)
    }

    /// ReEncrypt: decrypts inside the store and encrypts under
    /// `destinationKeyId`; the plaintext never leaves the store.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn re_encrypt(
        &self,
        ciphertext: Uint8Array,
        destination_key_id: String,
        options: Option<ReEncryptOptions>,
    ) -> AsyncTask<Job<Buffer>> {
        spawn(self.op_re_encrypt(ciphertext, destination_key_id, options))
    }
    /// ReEncrypt, blocking.
    #[napi]
    pub fn re_encrypt_sync(
        &self,
        ciphertext: Uint8Array,
        destination_key_id: String,
        options: Option<ReEncryptOptions>,
    ) -> Result<Buffer> {
        run(self.op_re_encrypt(ciphertext, destination_key_id, options))
    }

    /// GenerateDataKey: a fresh data key in plaintext and encrypted.
    #[napi(ts_return_type = "Promise<DataKey>")]
    pub fn generate_data_key(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<AsyncTask<Job<DataKey>>> {
        self.op_generate_data_key(key, options).map(spawn)
    }
    /// GenerateDataKey, blocking.
    #[napi]
    pub fn generate_data_key_sync(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<DataKey> {
        self.op_generate_data_key(key, options).and_then(run)
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn generate_data_key_without_plaintext(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_generate_data_key_without_plaintext(key, options)
            .map(spawn)
    }
    /// GenerateDataKeyWithoutPlaintext, blocking.
    #[napi]
    pub fn generate_data_key_without_plaintext_sync(
        &self,
        key: String,
        options: Option<DataKeyOptions>,
    ) -> Result<Buffer> {
        self.op_generate_data_key_without_plaintext(key, options)
            .and_then(run)
    }

    /// Sign a message (`RAW`, at most 4096 bytes; default) or a `DIGEST`.
    /// ECDSA signatures are DER.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST'",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn sign(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: String,
        message_type: Option<String>,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_sign(key, message, algorithm, message_type)
            .map(spawn)
    }
    /// Sign, blocking.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST'"
    )]
    pub fn sign_sync(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: String,
        message_type: Option<String>,
    ) -> Result<Buffer> {
        self.op_sign(key, message, algorithm, message_type)
            .and_then(run)
    }

    /// Verify a signature: `false` when it does not verify (an error only
    /// for a bad request, such as an unknown key).
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, signature: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST'",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn verify(
        &self,
        key: String,
        message: Uint8Array,
        signature: Uint8Array,
        algorithm: String,
        message_type: Option<String>,
    ) -> Result<AsyncTask<Job<bool>>> {
        self.op_verify(key, message, signature, algorithm, message_type)
            .map(spawn)
    }
    /// Verify, blocking.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, signature: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST'"
    )]
    pub fn verify_sync(
        &self,
        key: String,
        message: Uint8Array,
        signature: Uint8Array,
        algorithm: String,
        message_type: Option<String>,
    ) -> Result<bool> {
        self.op_verify(key, message, signature, algorithm, message_type)
            .and_then(run)
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn get_public_key(&self, key: String) -> AsyncTask<Job<Buffer>> {
        let k = self.ks();
        spawn(op(move || k.get_public_key(&key).map(to_buffer)))
    }
    /// GetPublicKey, blocking.
    #[napi]
    pub fn get_public_key_sync(&self, key: String) -> Result<Buffer> {
        let k = self.ks();
        run(op(move || k.get_public_key(&key).map(to_buffer)))
    }

    /// GetPublicKey as PEM (`-----BEGIN PUBLIC KEY-----`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_public_key_pem(&self, key: String) -> AsyncTask<Job<String>> {
        let k = self.ks();
        spawn(op(move || {
            Ok(ks::der_to_pem("PUBLIC KEY", &k.get_public_key(&key)?))
        }))
    }
    /// GetPublicKey as PEM, blocking.
    #[napi]
    pub fn get_public_key_pem_sync(&self, key: String) -> Result<String> {
        let k = self.ks();
        run(op(move || {
            Ok(ks::der_to_pem("PUBLIC KEY", &k.get_public_key(&key)?))
        }))
    }

    /// GenerateMac over at most 4096 bytes.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, algorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512'",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn generate_mac(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: String,
    ) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_generate_mac(key, message, algorithm).map(spawn)
    }
    /// GenerateMac, blocking.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, algorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512'"
    )]
    pub fn generate_mac_sync(
        &self,
        key: String,
        message: Uint8Array,
        algorithm: String,
    ) -> Result<Buffer> {
        self.op_generate_mac(key, message, algorithm).and_then(run)
    }

    /// VerifyMac: `false` when the MAC does not match.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, mac: Uint8Array, algorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512'",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn verify_mac(
        &self,
        key: String,
        message: Uint8Array,
        mac: Uint8Array,
        algorithm: String,
    ) -> Result<AsyncTask<Job<bool>>> {
        self.op_verify_mac(key, message, mac, algorithm).map(spawn)
    }
    /// VerifyMac, blocking.
    #[napi(
        ts_args_type = "key: string, message: Uint8Array, mac: Uint8Array, algorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512'"
    )]
    pub fn verify_mac_sync(
        &self,
        key: String,
        message: Uint8Array,
        mac: Uint8Array,
        algorithm: String,
    ) -> Result<bool> {
        self.op_verify_mac(key, message, mac, algorithm)
            .and_then(run)
    }

    /// GenerateRandom: 1..=1024 bytes from the backend's generator.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn generate_random(&self, number_of_bytes: f64) -> Result<AsyncTask<Job<Buffer>>> {
        self.op_generate_random(number_of_bytes).map(spawn)
    }
    /// GenerateRandom, blocking.
    #[napi]
    pub fn generate_random_sync(&self, number_of_bytes: f64) -> Result<Buffer> {
        self.op_generate_random(number_of_bytes).and_then(run)
    }

    /// Verifies the audit log file's HMAC chain: reports the first edited,
    /// inserted, removed or reordered record.
    #[napi(ts_return_type = "Promise<AuditReport>")]
    pub fn verify_audit_log(&self) -> AsyncTask<Job<AuditReport>> {
        let k = self.ks();
        spawn(op(move || Ok(k.verify_audit_log()?.into())))
    }
    /// verifyAuditLog, blocking.
    #[napi]
    pub fn verify_audit_log_sync(&self) -> Result<AuditReport> {
        let k = self.ks();
        run(op(move || Ok(k.verify_audit_log()?.into())))
    }
}

impl KeyStore {
    fn op_list_aliases(&self) -> Op<Vec<AliasEntry>> {
        let k = self.ks();
        op(move || {
            Ok(k.list_aliases()?
                .into_iter()
                .map(|(alias_name, key_id)| AliasEntry { alias_name, key_id })
                .collect())
        })
    }
}
