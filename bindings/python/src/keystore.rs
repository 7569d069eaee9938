//! The key store: `RootKey`, `Pkcs11`, `KeyStore` and every operation.
//!
//! Every key-store call runs with the GIL released: on the PKCS#11 backend
//! each one is an HSM round trip (and a soft-backend call writes the audit
//! log), and other Python threads should run meanwhile. Records (metadata,
//! audit events) go to Python as dicts; the pure-Python layer
//! (`sealbox/_keystore.py`) turns them into dataclasses with `datetime`s.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList};

use sealbox::audit::{AuditEvent, CallbackSink};
use sealbox::keystore::{
    der_to_pem, CreateKeyRequest, DefaultKeyPolicy, EncryptionAlgorithm, Grant, GrantRequest,
    KeyAgreementAlgorithm, KeyMetadata, KeySpec, KeyState, KeyStore, KeyStoreOptions, KeyUsage,
    MacAlgorithm, MessageType, Pin, Pkcs11Config, RootKey, SigningAlgorithm, TokenSelector,
    DEFAULT_DELETION_WINDOW_DAYS, DEFAULT_MAX_SESSIONS, DEFAULT_ROTATION_PERIOD_DAYS,
    MAX_LIST_LIMIT,
};
use sealbox::{EncryptionContext, Error};

use crate::buffer::Input;
use crate::error::{call, check, set_audit_cause};

/// What the metadata-returning methods hand back: a Python dict.
type Dict<'py> = PyResult<Bound<'py, PyDict>>;

fn parse<T: std::str::FromStr<Err = Error>>(py: Python<'_>, s: &str) -> PyResult<T> {
    check(py, s.parse::<T>())
}

/// The 32-byte secret that seals a soft key store.
#[derive(Debug)]
#[pyclass(frozen, module = "sealbox._native", name = "RootKey")]
pub struct PyRootKey {
    pub(crate) inner: RootKey,
}

#[pymethods]
impl PyRootKey {
    /// A root key from 32 bytes the application holds.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Self> {
        let key = Input::new(key, "key")?;
        let inner = key.with(py, false, |k| Ok(RootKey::from_bytes(k)?))?;
        Ok(PyRootKey { inner })
    }

    /// Reads a root key (32 raw bytes, hex or base64) from a file that only
    /// its owner may read.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = call(py, true, || Ok(RootKey::from_file(&path)?))?;
        Ok(PyRootKey { inner })
    }

    /// Reads a root key (hex or base64) from an environment variable.
    #[staticmethod]
    fn from_env(py: Python<'_>, name: &str) -> PyResult<Self> {
        let inner = check(py, RootKey::from_env(name))?;
        Ok(PyRootKey { inner })
    }

    /// A new random root key.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        let inner = check(py, RootKey::generate())?;
        Ok(PyRootKey { inner })
    }

    /// Writes the key (hex) to a new file with mode 0600; fails if it exists.
    fn write_new_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        call(py, true, || Ok(self.inner.write_new_file(&path)?))
    }

    fn __repr__(&self) -> &'static str {
        "RootKey(...)"
    }
}

/// Where an HSM is and how to log in.
#[pyclass(frozen, module = "sealbox._native", name = "Pkcs11")]
pub struct PyPkcs11 {
    module: PathBuf,
    token: TokenSelector,
    pin: Pin,
    max_sessions: NonZeroUsize,
}

#[pymethods]
impl PyPkcs11 {
    #[new]
    #[pyo3(signature = (module=None, *, token_label=None, token_serial=None, pin=None, pin_env=None, pin_file=None, max_sessions=DEFAULT_MAX_SESSIONS.get()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        module: Option<PathBuf>,
        token_label: Option<String>,
        token_serial: Option<String>,
        pin: Option<&Bound<'_, PyAny>>,
        pin_env: Option<&str>,
        pin_file: Option<PathBuf>,
        max_sessions: usize,
    ) -> PyResult<Self> {
        // The rules (exactly one token name, exactly one PIN source, a
        // session limit of at least 1, the module's environment variable)
        // are the core's; a missing variable or a file readable by others
        // is an error here, at construction, not at open.
        let value = match pin {
            Some(p) => Some(zeroize::Zeroizing::new(
                if let Ok(s) = p.extract::<&str>() {
                    s.as_bytes().to_vec()
                } else {
                    Input::new(p, "pin")?.to_vec()
                },
            )),
            None => None,
        };
        check(
            py,
            (|| {
                Ok(PyPkcs11 {
                    module: Pkcs11Config::module_or_env(module)?,
                    token: TokenSelector::from_parts(token_label, token_serial)?,
                    pin: Pin::from_one_of(
                        value.as_deref().map(Vec::as_slice),
                        pin_env,
                        pin_file.as_deref(),
                    )?,
                    max_sessions: Pkcs11Config::sessions(max_sessions)?,
                })
            })(),
        )
    }

    /// The path of the PKCS#11 module (the one given, or else the one
    /// `SEALBOX_PKCS11_MODULE` names).
    #[getter]
    fn module(&self) -> PathBuf {
        self.module.clone()
    }

    /// The label of the token to use, when it is chosen by label.
    #[getter]
    fn token_label(&self) -> Option<String> {
        self.token.label().map(str::to_owned)
    }

    /// The serial number of the token to use, when it is chosen by serial.
    #[getter]
    fn token_serial(&self) -> Option<String> {
        self.token.serial().map(str::to_owned)
    }

    fn __repr__(&self) -> String {
        format!(
            "Pkcs11(module={:?}, token_label={:?}, token_serial={:?}, pin=...)",
            self.module.display().to_string(),
            self.token.label(),
            self.token.serial()
        )
    }
}

impl std::fmt::Debug for PyPkcs11 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11")
            .field("module", &self.module)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl PyPkcs11 {
    fn config(&self) -> sealbox::Result<Pkcs11Config> {
        Ok(Pkcs11Config {
            module: self.module.clone(),
            token: self.token.clone(),
            pin: self.pin.try_clone()?,
            max_sessions: self.max_sessions,
        })
    }
}

fn state_name(s: &KeyState) -> (&'static str, Option<i64>) {
    match s {
        KeyState::PendingDeletion { deletion_date } => (s.name(), Some(*deletion_date)),
        other => (other.name(), None),
    }
}

/// Key metadata as a dict (times in Unix seconds).
fn metadata<'py>(py: Python<'py>, m: &KeyMetadata) -> Dict<'py> {
    let d = PyDict::new(py);
    d.set_item("key_id", m.key_id.as_str())?;
    d.set_item("aliases", &m.aliases)?;
    d.set_item("description", &m.description)?;
    d.set_item("key_spec", m.key_spec.as_str())?;
    d.set_item("key_usage", m.key_usage.as_str())?;
    d.set_item("origin", m.origin.as_str())?;
    let (state, deletion_date) = state_name(&m.key_state);
    d.set_item("key_state", state)?;
    d.set_item("deletion_date", deletion_date)?;
    d.set_item("created_at", m.created_at)?;
    let versions = PyList::empty(py);
    for v in &m.versions {
        versions.append((v.version, v.created_at, v.valid_to, v.material_present))?;
    }
    d.set_item("valid_to", m.valid_to)?;
    d.set_item("versions", versions)?;
    d.set_item("primary_version", m.primary_version)?;
    d.set_item("rotation_period_days", m.rotation_period_days)?;
    d.set_item("next_rotation_at", m.next_rotation_at)?;
    d.set_item("backend", &m.backend)?;
    d.set_item("tags", &m.tags)?;
    Ok(d)
}

fn event<'py>(py: Python<'py>, e: &AuditEvent) -> Dict<'py> {
    let d = PyDict::new(py);
    d.set_item("time", &e.time)?;
    d.set_item("operation", e.operation.as_str())?;
    d.set_item("key_id", &e.key_id)?;
    d.set_item("key_version", e.key_version)?;
    d.set_item("source_key_id", &e.source_key_id)?;
    d.set_item("source_key_version", e.source_key_version)?;
    d.set_item("detail", &e.detail)?;
    d.set_item("principal", &e.principal)?;
    d.set_item("encryption_context", &e.encryption_context)?;
    d.set_item("outcome", e.outcome.as_str())?;
    d.set_item("error", &e.error)?;
    d.set_item("request_id", &e.request_id)?;
    Ok(d)
}

/// A grant as a dict (`created_at` in Unix seconds; `constraints` None or
/// a dict with `encryption_context_equals` / `encryption_context_subset`).
fn grant<'py>(py: Python<'py>, g: &Grant) -> Dict<'py> {
    let d = PyDict::new(py);
    d.set_item("grant_id", &g.grant_id)?;
    d.set_item("name", &g.name)?;
    d.set_item("key_id", &g.key_id)?;
    d.set_item("grantee_principal", &g.grantee_principal)?;
    d.set_item("retiring_principal", &g.retiring_principal)?;
    d.set_item("operations", &g.operations)?;
    match &g.constraints {
        None => d.set_item("constraints", py.None())?,
        Some(c) => {
            let cd = PyDict::new(py);
            cd.set_item("encryption_context_equals", &c.encryption_context_equals)?;
            cd.set_item("encryption_context_subset", &c.encryption_context_subset)?;
            d.set_item("constraints", cd)?;
        }
    }
    d.set_item("issuing_principal", &g.issuing_principal)?;
    d.set_item("created_at", g.created_at)?;
    Ok(d)
}

fn context(ec: Option<EncryptionContext>) -> EncryptionContext {
    ec.unwrap_or_default()
}

/// The key store (the native half; `sealbox.KeyStore` wraps it).
#[derive(Debug)]
#[pyclass(frozen, module = "sealbox._native", name = "KeyStore")]
pub struct PyKeyStore {
    pub(crate) inner: KeyStore,
}

#[pymethods]
impl PyKeyStore {
    /// Opens (creating if needed) the key store in the SQLite file `path`
    /// or the PostgreSQL database `postgresql://...`, with the soft backend
    /// (`root_key`) or an HSM (`pkcs11`). `metadata_cache_ttl`: the
    /// propagation bound in seconds (None: the store's default).
    #[staticmethod]
    #[pyo3(signature = (path, *, root_key=None, pkcs11=None, audit_log=None, audit_sync=false, principal=None, new_audit_segment=None, metadata_cache_ttl=None, default_policy=None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        root_key: Option<PyRef<'_, PyRootKey>>,
        pkcs11: Option<PyRef<'_, PyPkcs11>>,
        audit_log: Option<PathBuf>,
        audit_sync: bool,
        principal: Option<String>,
        new_audit_segment: Option<String>,
        metadata_cache_ttl: Option<f64>,
        default_policy: Option<&str>,
    ) -> PyResult<Self> {
        let metadata_cache_ttl = metadata_cache_ttl
            .map(|s| check(py, cache_ttl(s)))
            .transpose()?;
        let default_key_policy = default_policy
            .map(|p| parse::<DefaultKeyPolicy>(py, p))
            .transpose()?;
        let mut options = KeyStoreOptions {
            audit_log,
            audit_sync,
            new_audit_segment,
            metadata_cache_ttl,
            default_key_policy,
            ..KeyStoreOptions::default()
        };
        if let Some(p) = principal {
            options.principal = p;
        }
        let inner = match (root_key, pkcs11) {
            (Some(root), None) => {
                let root = &root.inner;
                call(py, true, || Ok(KeyStore::open(&path, root, options)?))?
            }
            (None, Some(hsm)) => {
                let config = check(py, hsm.config())?;
                call(py, true, || {
                    Ok(KeyStore::open_pkcs11(&path, config, options)?)
                })?
            }
            _ => {
                return Err(PyValueError::new_err(
                    "give exactly one of root_key= (soft backend) or pkcs11= (HSM)",
                ))
            }
        };
        Ok(PyKeyStore { inner })
    }

    /// Calls `callback(event: dict)` for every audited operation, on the
    /// thread that runs it, with the GIL held. If the callback raises, the
    /// operation does not happen and fails with `AuditError` (whose
    /// `__cause__` is the callback's exception).
    fn add_audit_callback(&self, callback: Bound<'_, PyAny>) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "the audit callback must be callable",
            ));
        }
        let callback = callback.unbind();
        let sink = CallbackSink(Arc::new(move |e: &AuditEvent| {
            Python::attach(|py| {
                let r = event(py, e).and_then(|d| callback.call1(py, (d,)));
                r.map(|_| ()).map_err(|err| {
                    let m = format!("the audit callback raised {err}");
                    set_audit_cause(err);
                    Error::Audit(m)
                })
            })
        }));
        self.inner.add_audit_sink(Arc::new(sink));
        Ok(())
    }

    #[getter]
    fn backend_kind(&self) -> &'static str {
        self.inner.backend_kind()
    }

    #[getter]
    fn audit_log_path(&self) -> Option<PathBuf> {
        self.inner.audit_log_path().map(|p| p.to_path_buf())
    }

    /// Where the audit log is: its file, or the database (for messages).
    #[getter]
    fn audit_log_location(&self) -> Option<String> {
        self.inner.audit_log_location()
    }

    /// The propagation bound this store works with, in seconds.
    #[getter]
    fn metadata_cache_ttl(&self) -> f64 {
        self.inner.metadata_cache_ttl().as_secs_f64()
    }

    /// The records of the current audit segment after position `after`
    /// (from the first with None), at most `limit` (at least 1):
    /// [(position, line)].
    #[pyo3(signature = (after=None, limit=1000))]
    fn audit_records(
        &self,
        py: Python<'_>,
        after: Option<u64>,
        limit: usize,
    ) -> PyResult<Vec<(u64, String)>> {
        if limit == 0 {
            return check(
                py,
                Err(Error::InvalidArgument(
                    "limit must be at least 1 record".into(),
                )),
            );
        }
        call(py, true, || Ok(self.inner.audit_records(after, limit)?))
    }

    fn operation_count(&self, operation: &str) -> u64 {
        self.inner.operation_count(operation)
    }

    fn resolve_key_id(&self, py: Python<'_>, key_id: &str) -> PyResult<String> {
        call(py, true, || Ok(self.inner.resolve_key_id(key_id)?.into()))
    }

    #[pyo3(signature = (*, key_spec="AES_256", key_usage=None, alias=None, description=String::new(), tags=None, rotation_period_days=None, policy=None, bypass_policy_lockout_safety_check=false))]
    #[allow(clippy::too_many_arguments)]
    fn create_key<'py>(
        &self,
        py: Python<'py>,
        key_spec: &str,
        key_usage: Option<&str>,
        alias: Option<String>,
        description: String,
        tags: Option<BTreeMap<String, String>>,
        rotation_period_days: Option<u32>,
        policy: Option<String>,
        bypass_policy_lockout_safety_check: bool,
    ) -> Dict<'py> {
        let req = CreateKeyRequest {
            policy,
            bypass_policy_lockout_safety_check,
            ..request(
                py,
                key_spec,
                key_usage,
                alias,
                description,
                tags,
                rotation_period_days,
            )?
        };
        self.key_metadata(py, |ks| ks.create_key(&req))
    }

    #[pyo3(signature = (material, *, key_spec="AES_256", key_usage=None, alias=None, description=String::new(), tags=None, valid_to=None))]
    #[allow(clippy::too_many_arguments)]
    fn import_key<'py>(
        &self,
        py: Python<'py>,
        material: &Bound<'py, PyAny>,
        key_spec: &str,
        key_usage: Option<&str>,
        alias: Option<String>,
        description: String,
        tags: Option<BTreeMap<String, String>>,
        valid_to: Option<i64>,
    ) -> Dict<'py> {
        let material = Input::new(material, "material")?;
        let mut req = request(py, key_spec, key_usage, alias, description, tags, None)?;
        req.valid_to = valid_to;
        let m = material.with(py, true, |k| Ok(self.inner.import_key(&req, k)?))?;
        metadata(py, &m)
    }

    /// ImportKeyMaterial (`valid_to`: Unix seconds, or None).
    #[pyo3(signature = (key_id, material, valid_to=None))]
    fn import_key_material<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        material: &Bound<'py, PyAny>,
        valid_to: Option<i64>,
    ) -> Dict<'py> {
        let material = Input::new(material, "material")?;
        let m = material.with(py, true, |k| {
            Ok(self.inner.import_key_material(key_id, k, valid_to)?)
        })?;
        metadata(py, &m)
    }

    fn delete_imported_key_material<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.delete_imported_key_material(key_id))
    }

    fn purge_expired_material(&self, py: Python<'_>) -> PyResult<usize> {
        call(py, true, || Ok(self.inner.purge_expired_material()?))
    }

    fn describe_key<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.describe_key(key_id))
    }

    /// One page: (metadata dicts, next marker or None).
    #[pyo3(signature = (limit=100, marker=None))]
    fn list_keys_page<'py>(
        &self,
        py: Python<'py>,
        limit: usize,
        marker: Option<&str>,
    ) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
        let page = call(py, true, || Ok(self.inner.list_keys(limit, marker)?))?;
        let keys = PyList::empty(py);
        for k in &page.keys {
            keys.append(metadata(py, k)?)?;
        }
        Ok((keys, page.next_marker))
    }

    /// Every key (pages of the largest size until the last).
    fn list_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = call(py, true, || {
            let mut all = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let page = self.inner.list_keys(MAX_LIST_LIMIT, marker.as_deref())?;
                all.extend(page.keys);
                match page.next_marker {
                    Some(m) => marker = Some(m),
                    None => return Ok(all),
                }
            }
        })?;
        let keys = PyList::empty(py);
        for k in &all {
            keys.append(metadata(py, k)?)?;
        }
        Ok(keys)
    }

    fn enable_key<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.enable_key(key_id))
    }

    fn disable_key<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.disable_key(key_id))
    }

    #[pyo3(signature = (key_id, pending_window_days=DEFAULT_DELETION_WINDOW_DAYS))]
    fn schedule_key_deletion<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        pending_window_days: u32,
    ) -> Dict<'py> {
        self.key_metadata(py, |ks| {
            ks.schedule_key_deletion(key_id, pending_window_days)
        })
    }

    fn cancel_key_deletion<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.cancel_key_deletion(key_id))
    }

    fn purge_expired_keys(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        call(py, true, || Ok(self.inner.purge_expired_keys()?))
    }

    fn rotate_key(&self, py: Python<'_>, key_id: &str) -> PyResult<u32> {
        call(py, true, || Ok(self.inner.rotate_key(key_id)?))
    }

    fn apply_due_rotations(&self, py: Python<'_>) -> PyResult<usize> {
        call(py, true, || Ok(self.inner.apply_due_rotations()?))
    }

    #[pyo3(signature = (key_id, rotation_period_days=DEFAULT_ROTATION_PERIOD_DAYS))]
    fn enable_key_rotation<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        rotation_period_days: u32,
    ) -> Dict<'py> {
        self.key_metadata(py, |ks| {
            ks.enable_key_rotation(key_id, rotation_period_days)
        })
    }

    fn disable_key_rotation<'py>(&self, py: Python<'py>, key_id: &str) -> Dict<'py> {
        self.key_metadata(py, |ks| ks.disable_key_rotation(key_id))
    }

    fn update_key_description(
        &self,
        py: Python<'_>,
        key_id: &str,
        description: &str,
    ) -> PyResult<()> {
        call(py, true, || {
            Ok(self.inner.update_key_description(key_id, description)?)
        })
    }

    fn create_alias(&self, py: Python<'_>, alias: &str, key_id: &str) -> PyResult<()> {
        call(py, true, || Ok(self.inner.create_alias(alias, key_id)?))
    }

    fn update_alias(&self, py: Python<'_>, alias: &str, key_id: &str) -> PyResult<()> {
        call(py, true, || Ok(self.inner.update_alias(alias, key_id)?))
    }

    fn delete_alias(&self, py: Python<'_>, alias: &str) -> PyResult<()> {
        call(py, true, || Ok(self.inner.delete_alias(alias)?))
    }

    /// {alias: key_id}
    fn list_aliases(&self, py: Python<'_>) -> PyResult<BTreeMap<String, String>> {
        let pairs = call(py, true, || Ok(self.inner.list_aliases()?))?;
        Ok(pairs.into_iter().collect())
    }

    fn tag_key(
        &self,
        py: Python<'_>,
        key_id: &str,
        tags: BTreeMap<String, String>,
    ) -> PyResult<()> {
        call(py, true, || Ok(self.inner.tag_key(key_id, &tags)?))
    }

    fn untag_key(&self, py: Python<'_>, key_id: &str, tag_keys: Vec<String>) -> PyResult<()> {
        call(py, true, || Ok(self.inner.untag_key(key_id, &tag_keys)?))
    }

    /// Direct encryption: AES keys with an encryption context (at most 4096
    /// bytes), or RSA keys with `algorithm` (RSAES_OAEP_SHA_1/256).
    #[pyo3(signature = (key_id, plaintext, *, encryption_context=None, algorithm=None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        plaintext: &Bound<'py, PyAny>,
        encryption_context: Option<EncryptionContext>,
        algorithm: Option<&str>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pt = Input::new(plaintext, "plaintext")?;
        let ct = match algorithm {
            None => {
                let ec = context(encryption_context);
                pt.with(py, true, |p| Ok(self.inner.encrypt(key_id, p, &ec)?))?
            }
            Some(alg) => {
                if encryption_context.is_some() {
                    return Err(PyValueError::new_err(
                        "RSA encryption takes no encryption context",
                    ));
                }
                let alg: EncryptionAlgorithm = parse(py, alg)?;
                pt.with(py, true, |p| Ok(self.inner.encrypt_rsa(key_id, p, alg)?))?
            }
        };
        Ok(PyBytes::new(py, &ct))
    }

    /// Direct decryption of a key-store blob (the key is named inside it),
    /// or of RSA ciphertext with `key_id` and `algorithm`.
    #[pyo3(signature = (ciphertext, *, encryption_context=None, key_id=None, algorithm=None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        ciphertext: &Bound<'py, PyAny>,
        encryption_context: Option<EncryptionContext>,
        key_id: Option<&str>,
        algorithm: Option<&str>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ct = Input::new(ciphertext, "ciphertext")?;
        let pt = match (key_id, algorithm) {
            (None, None) => {
                let ec = context(encryption_context);
                ct.with(py, true, |c| Ok(self.inner.decrypt(c, &ec)?))?
            }
            (Some(key_id), Some(alg)) => {
                if encryption_context.is_some() {
                    return Err(PyValueError::new_err(
                        "RSA decryption takes no encryption context",
                    ));
                }
                let alg: EncryptionAlgorithm = parse(py, alg)?;
                ct.with(py, true, |c| Ok(self.inner.decrypt_rsa(key_id, c, alg)?))?
            }
            _ => return Err(PyValueError::new_err(
                "RSA decryption needs both key_id= and algorithm=; a key-store blob needs neither",
            )),
        };
        Ok(PyBytes::new(py, pt.as_bytes()))
    }

    /// The plaintext of a blob as a CMS EnvelopedData for the recipient.
    #[pyo3(signature = (ciphertext, recipient_public_key, *, encryption_context=None))]
    fn decrypt_for_recipient<'py>(
        &self,
        py: Python<'py>,
        ciphertext: &Bound<'py, PyAny>,
        recipient_public_key: Vec<u8>,
        encryption_context: Option<EncryptionContext>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ct = Input::new(ciphertext, "ciphertext")?;
        let ec = context(encryption_context);
        let cms = ct.with(py, true, |c| {
            Ok(self
                .inner
                .decrypt_for_recipient(c, &ec, &recipient_public_key)?)
        })?;
        Ok(PyBytes::new(py, &cms))
    }

    /// (ciphertext for the recipient, ciphertext blob, key id, key version).
    #[pyo3(signature = (key_id, recipient_public_key, *, encryption_context=None, number_of_bytes=32))]
    fn generate_data_key_for_recipient<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        recipient_public_key: Vec<u8>,
        encryption_context: Option<EncryptionContext>,
        number_of_bytes: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, String, u32)> {
        let ec = context(encryption_context);
        let dk = call(py, true, || {
            Ok(self.inner.generate_data_key_for_recipient(
                key_id,
                number_of_bytes,
                &ec,
                &recipient_public_key,
            )?)
        })?;
        Ok((
            PyBytes::new(py, &dk.ciphertext_for_recipient),
            PyBytes::new(py, &dk.ciphertext),
            dk.key_id.to_string(),
            dk.key_version,
        ))
    }

    #[pyo3(signature = (ciphertext, destination_key_id, *, source_encryption_context=None, destination_encryption_context=None))]
    fn re_encrypt<'py>(
        &self,
        py: Python<'py>,
        ciphertext: &Bound<'py, PyAny>,
        destination_key_id: &str,
        source_encryption_context: Option<EncryptionContext>,
        destination_encryption_context: Option<EncryptionContext>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ct = Input::new(ciphertext, "ciphertext")?;
        let (src, dst) = (
            context(source_encryption_context),
            context(destination_encryption_context),
        );
        let out = ct.with(py, true, |c| {
            Ok(self.inner.re_encrypt(c, &src, destination_key_id, &dst)?)
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// (plaintext as a bytearray the caller can wipe, ciphertext, key id,
    /// key version).
    #[pyo3(signature = (key_id, *, encryption_context=None, number_of_bytes=32))]
    fn generate_data_key<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        encryption_context: Option<EncryptionContext>,
        number_of_bytes: usize,
    ) -> PyResult<(Bound<'py, PyByteArray>, Bound<'py, PyBytes>, String, u32)> {
        let ec = context(encryption_context);
        let dk = call(py, true, || {
            Ok(self.inner.generate_data_key(key_id, number_of_bytes, &ec)?)
        })?;
        let plaintext = PyByteArray::new(py, dk.plaintext.as_bytes());
        let ciphertext = PyBytes::new(py, &dk.ciphertext);
        Ok((plaintext, ciphertext, dk.key_id.to_string(), dk.key_version))
    }

    #[pyo3(signature = (key_id, *, encryption_context=None, number_of_bytes=32))]
    fn generate_data_key_without_plaintext<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        encryption_context: Option<EncryptionContext>,
        number_of_bytes: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ec = context(encryption_context);
        let ct = call(py, true, || {
            Ok(self
                .inner
                .generate_data_key_without_plaintext(key_id, number_of_bytes, &ec)?)
        })?;
        Ok(PyBytes::new(py, &ct))
    }

    #[pyo3(signature = (key_id, message, *, algorithm, message_type="RAW"))]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        message: &Bound<'py, PyAny>,
        algorithm: &str,
        message_type: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let msg = Input::new(message, "message")?;
        let alg: SigningAlgorithm = parse(py, algorithm)?;
        let mt: MessageType = parse(py, message_type)?;
        let sig = msg.with(py, true, |m| Ok(self.inner.sign(key_id, m, alg, mt)?))?;
        Ok(PyBytes::new(py, &sig))
    }

    #[pyo3(signature = (key_id, message, signature, *, algorithm, message_type="RAW"))]
    fn verify(
        &self,
        py: Python<'_>,
        key_id: &str,
        message: &Bound<'_, PyAny>,
        signature: &Bound<'_, PyAny>,
        algorithm: &str,
        message_type: &str,
    ) -> PyResult<bool> {
        let msg = Input::new(message, "message")?;
        let sig = Input::new(signature, "signature")?.to_vec();
        let alg: SigningAlgorithm = parse(py, algorithm)?;
        let mt: MessageType = parse(py, message_type)?;
        msg.with(py, true, |m| {
            Ok(self.inner.verify(key_id, m, &sig, alg, mt)?)
        })
    }

    /// SubjectPublicKeyInfo, DER.
    fn get_public_key<'py>(&self, py: Python<'py>, key_id: &str) -> PyResult<Bound<'py, PyBytes>> {
        let der = call(py, true, || Ok(self.inner.get_public_key(key_id)?))?;
        Ok(PyBytes::new(py, &der))
    }

    /// SubjectPublicKeyInfo, PEM (`-----BEGIN PUBLIC KEY-----`).
    fn get_public_key_pem(&self, py: Python<'_>, key_id: &str) -> PyResult<String> {
        let der = call(py, true, || Ok(self.inner.get_public_key(key_id)?))?;
        Ok(der_to_pem("PUBLIC KEY", &der))
    }

    #[pyo3(signature = (key_id, peer_public_key, *, algorithm="ECDH"))]
    fn derive_shared_secret<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        peer_public_key: &Bound<'py, PyAny>,
        algorithm: &str,
    ) -> PyResult<Bound<'py, PyByteArray>> {
        let peer = Input::new(peer_public_key, "peer_public_key")?;
        let alg: KeyAgreementAlgorithm = parse(py, algorithm)?;
        let secret = peer.with(py, true, |p| {
            Ok(self.inner.derive_shared_secret(key_id, alg, p)?)
        })?;
        // A bytearray, as data keys: the caller can wipe it.
        Ok(PyByteArray::new(py, secret.as_bytes()))
    }

    #[pyo3(signature = (key_id, message, *, algorithm))]
    fn generate_mac<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        message: &Bound<'py, PyAny>,
        algorithm: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let msg = Input::new(message, "message")?;
        let alg: MacAlgorithm = parse(py, algorithm)?;
        let mac = msg.with(py, true, |m| Ok(self.inner.generate_mac(key_id, m, alg)?))?;
        Ok(PyBytes::new(py, &mac))
    }

    #[pyo3(signature = (key_id, message, mac, *, algorithm))]
    fn verify_mac(
        &self,
        py: Python<'_>,
        key_id: &str,
        message: &Bound<'_, PyAny>,
        mac: &Bound<'_, PyAny>,
        algorithm: &str,
    ) -> PyResult<bool> {
        let msg = Input::new(message, "message")?;
        let mac = Input::new(mac, "mac")?.to_vec();
        let alg: MacAlgorithm = parse(py, algorithm)?;
        msg.with(py, true, |m| {
            Ok(self.inner.verify_mac(key_id, m, &mac, alg)?)
        })
    }

    fn generate_random<'py>(
        &self,
        py: Python<'py>,
        number_of_bytes: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let r = call(py, true, || {
            Ok(self.inner.generate_random(number_of_bytes)?)
        })?;
        Ok(PyBytes::new(py, &r))
    }

    /// (records verified, first error as (line, reason) or None).
    fn verify_audit_log(&self, py: Python<'_>) -> PyResult<(u64, Option<(u64, String)>)> {
        let r = call(py, true, || Ok(self.inner.verify_audit_log()?))?;
        Ok((r.records, r.first_error))
    }

    // -- access control (issue 16) --

    /// The principal this handle acts for.
    #[getter]
    fn principal(&self) -> String {
        self.inner.principal().to_owned()
    }

    /// A handle on the same store acting for another principal.
    fn as_principal(&self, py: Python<'_>, principal: &str) -> PyResult<Self> {
        let inner = check(py, self.inner.as_principal(principal))?;
        Ok(PyKeyStore { inner })
    }

    #[pyo3(signature = (key_id, policy, *, bypass_policy_lockout_safety_check=false))]
    fn put_key_policy(
        &self,
        py: Python<'_>,
        key_id: &str,
        policy: &str,
        bypass_policy_lockout_safety_check: bool,
    ) -> PyResult<()> {
        call(py, true, || {
            Ok(self
                .inner
                .put_key_policy(key_id, policy, bypass_policy_lockout_safety_check)?)
        })
    }

    /// The key's policy as JSON text.
    fn get_key_policy(&self, py: Python<'_>, key_id: &str) -> PyResult<String> {
        call(py, true, || Ok(self.inner.get_key_policy(key_id)?))
    }

    /// The new grant's id.
    #[pyo3(signature = (key_id, grantee_principal, operations, *, retiring_principal=None, name=None, encryption_context_equals=None, encryption_context_subset=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_grant(
        &self,
        py: Python<'_>,
        key_id: &str,
        grantee_principal: String,
        operations: Vec<String>,
        retiring_principal: Option<String>,
        name: Option<String>,
        encryption_context_equals: Option<EncryptionContext>,
        encryption_context_subset: Option<EncryptionContext>,
    ) -> PyResult<String> {
        let req = GrantRequest {
            grantee_principal,
            operations,
            retiring_principal,
            name,
            encryption_context_equals,
            encryption_context_subset,
        };
        call(py, true, || Ok(self.inner.create_grant(key_id, &req)?))
    }

    /// The key's grants, as dicts.
    fn list_grants<'py>(&self, py: Python<'py>, key_id: &str) -> PyResult<Bound<'py, PyList>> {
        let grants = call(py, true, || Ok(self.inner.list_grants(key_id)?))?;
        let out = PyList::empty(py);
        for g in &grants {
            out.append(grant(py, g)?)?;
        }
        Ok(out)
    }

    fn retire_grant(&self, py: Python<'_>, key_id: &str, grant_id: &str) -> PyResult<()> {
        call(py, true, || {
            Ok(self.inner.retire_grant(key_id, grant_id)?)
        })
    }

    fn revoke_grant(&self, py: Python<'_>, key_id: &str, grant_id: &str) -> PyResult<()> {
        call(py, true, || {
            Ok(self.inner.revoke_grant(key_id, grant_id)?)
        })
    }

    fn __repr__(&self) -> String {
        format!("KeyStore(backend={:?})", self.inner.backend_kind())
    }
}

impl PyKeyStore {
    /// Runs `op` (GIL released) and returns the metadata of the key it
    /// created or changed, as a dict.
    fn key_metadata<'py>(
        &self,
        py: Python<'py>,
        op: impl FnOnce(&KeyStore) -> sealbox::Result<KeyMetadata> + Send,
    ) -> Dict<'py> {
        let m = call(py, true, || Ok(op(&self.inner)?))?;
        metadata(py, &m)
    }
}

/// The propagation bound from seconds: a finite number, zero or more.
fn cache_ttl(seconds: f64) -> sealbox::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::InvalidArgument(format!(
            "metadata_cache_ttl must be a finite number of seconds, zero or more, not {seconds}"
        ))
    })
}

fn request(
    py: Python<'_>,
    key_spec: &str,
    key_usage: Option<&str>,
    alias: Option<String>,
    description: String,
    tags: Option<BTreeMap<String, String>>,
    rotation_period_days: Option<u32>,
) -> PyResult<CreateKeyRequest> {
    Ok(CreateKeyRequest {
        key_spec: parse::<KeySpec>(py, key_spec)?,
        key_usage: key_usage.map(|u| parse::<KeyUsage>(py, u)).transpose()?,
        alias,
        description,
        tags: tags.unwrap_or_default(),
        rotation_period_days,
        ..CreateKeyRequest::default()
    })
}
