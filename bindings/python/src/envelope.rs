//! The envelope layer: keyrings, materials managers, one-shot
//! `encrypt`/`decrypt` and the incremental stream objects under
//! `open_encryptor`/`open_decryptor` (`sealbox/_envelope.py`).

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyList, PyString};
use pyo3::PyClassInitializer;

use sealbox::cmm::{
    CacheLimits, CachingMaterialsManager, DefaultMaterialsManager, MaterialsManager,
};
use sealbox::keyring::{
    pq_generate_key_pair, EcdhCurveSpec, EcdhKeyAgreementScheme, KeyStoreKeyring, Keyring,
    MultiKeyring, PqKeyring, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaWrappingPadding,
};
use sealbox::message::{
    self, DecryptOptions, Decryptor, EncryptOptions, Encryptor, MaxEncryptedDataKeys, Parallelism,
    RewrapOptions, RewrapSummary, Rewrapper, DEFAULT_FRAME_LENGTH, DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, Error};

use crate::buffer::{bytes_written_by, Input, Wiped, RELEASE_THRESHOLD};
use crate::error::{call, check};
use crate::keystore::PyKeyStore;

/// What the functions that return message or plaintext bytes hand back.
type Bytes<'py> = PyResult<Bound<'py, PyBytes>>;

// ------------------------------------------------------------ keyrings --

/// Base class of every keyring.
#[derive(Debug)]
#[pyclass(frozen, subclass, module = "sealbox._native", name = "Keyring")]
pub struct PyKeyring {
    inner: Arc<dyn Keyring>,
    // Whether wrapping or unwrapping may call a key store (and so an HSM
    // and the audit callback): such calls always release the GIL.
    uses_key_store: bool,
    // The default materials manager over `inner`, made once: `keyring=`
    // of every call uses it.
    cmm: Arc<dyn MaterialsManager>,
}

fn keyring(inner: Arc<dyn Keyring>, uses_key_store: bool) -> PyKeyring {
    PyKeyring {
        cmm: Arc::new(DefaultMaterialsManager::new(inner.clone())),
        inner,
        uses_key_store,
    }
}

/// Wraps data keys with AES-256-GCM under a wrapping key the application
/// holds (byte-compatible with the AWS Encryption SDK's raw AES keyring).
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "RawAesKeyring")]
pub struct PyRawAesKeyring;

#[pymethods]
impl PyRawAesKeyring {
    #[new]
    fn new(
        py: Python<'_>,
        key_namespace: &str,
        key_name: &str,
        wrapping_key: &Bound<'_, PyAny>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let key = Input::new(wrapping_key, "wrapping_key")?;
        let kr = key.with(py, false, |k| {
            Ok(RawAesKeyring::new(key_namespace, key_name, k)?)
        })?;
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), false)).add_subclass(PyRawAesKeyring))
    }
}

fn pem(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    let Some(obj) = obj else { return Ok(None) };
    if let Ok(s) = obj.extract::<String>() {
        return Ok(Some(s));
    }
    let bytes = Input::new(obj, what)?.to_vec();
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| PyValueError::new_err(format!("{what} is not PEM text")))
}

/// Wraps data keys with RSA (byte-compatible with the AWS Encryption SDK's
/// raw RSA keyring). A public key alone encrypts; a private key decrypts.
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "RawRsaKeyring")]
pub struct PyRawRsaKeyring;

#[pymethods]
impl PyRawRsaKeyring {
    #[new]
    #[pyo3(signature = (key_namespace, key_name, *, public_key_pem=None, private_key_pem=None, padding="OAEP_SHA256_MGF1"))]
    fn new(
        py: Python<'_>,
        key_namespace: &str,
        key_name: &str,
        public_key_pem: Option<&Bound<'_, PyAny>>,
        private_key_pem: Option<&Bound<'_, PyAny>>,
        padding: &str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let padding = check(py, RsaWrappingPadding::from_name(padding))?;
        let public = zeroize::Zeroizing::new(pem(public_key_pem, "public_key_pem")?);
        let private = zeroize::Zeroizing::new(pem(private_key_pem, "private_key_pem")?);
        let kr = call(py, true, || {
            Ok(RawRsaKeyring::new(
                key_namespace,
                key_name,
                padding,
                public.as_deref(),
                private.as_deref(),
            )?)
        })?;
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), false)).add_subclass(PyRawRsaKeyring))
    }
}

/// Wraps data keys under a key agreed by ECDH between a sender and a
/// recipient (byte-compatible with the AWS Material Providers Library's raw
/// ECDH keyring).
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "RawEcdhKeyring")]
pub struct PyRawEcdhKeyring;

/// PEM text or DER bytes of a key, wiped when dropped.
fn key_bytes(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let Some(obj) = obj else { return Ok(None) };
    if let Ok(s) = obj.extract::<String>() {
        return Ok(Some(zeroize::Zeroizing::new(s.into_bytes())));
    }
    Ok(Some(zeroize::Zeroizing::new(
        Input::new(obj, what)?.to_vec(),
    )))
}

#[pymethods]
impl PyRawEcdhKeyring {
    #[new]
    #[pyo3(signature = (scheme, curve, *, private_key=None, public_key=None))]
    fn new(
        py: Python<'_>,
        scheme: &str,
        curve: &str,
        private_key: Option<&Bound<'_, PyAny>>,
        public_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let scheme: EcdhKeyAgreementScheme = check(py, scheme.parse())?;
        let curve: EcdhCurveSpec = check(py, curve.parse())?;
        let private = key_bytes(private_key, "private_key")?;
        let public = key_bytes(public_key, "public_key")?;
        let kr = call(py, true, || {
            Ok(RawEcdhKeyring::new(
                scheme,
                curve,
                private.as_deref().map(Vec::as_slice),
                public.as_deref().map(Vec::as_slice),
            )?)
        })?;
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), false)).add_subclass(PyRawEcdhKeyring))
    }
}

/// Wraps data keys to an X-Wing (ML-KEM-768 + X25519) public key
/// (provider ID `sealbox-pq`): confidential against a future quantum
/// computer. The AWS SDKs do not read it: pair it with an AWS-compatible
/// keyring in a :class:`MultiKeyring` where they must.
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "PqKeyring")]
pub struct PyPqKeyring {
    public_key: Vec<u8>,
    key_id: Vec<u8>,
}

#[pymethods]
impl PyPqKeyring {
    #[new]
    #[pyo3(signature = (*, public_key=None, private_key=None))]
    fn new(
        py: Python<'_>,
        public_key: Option<&Bound<'_, PyAny>>,
        private_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let public = public_key
            .map(|k| Input::new(k, "public_key").map(|i| i.to_vec()))
            .transpose()?;
        let private = private_key
            .map(|k| Input::new(k, "private_key").map(|i| zeroize::Zeroizing::new(i.to_vec())))
            .transpose()?;
        let kr = call(py, true, || {
            Ok(PqKeyring::new(
                public.as_deref(),
                private.as_deref().map(Vec::as_slice),
            )?)
        })?;
        let this = PyPqKeyring {
            public_key: kr.public_key().to_vec(),
            key_id: kr.key_id().to_vec(),
        };
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), false)).add_subclass(this))
    }

    /// A new key pair: (private key, 32 bytes as a bytearray the caller can
    /// wipe; public key, 1216 bytes).
    #[staticmethod]
    fn generate_key_pair<'py>(
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyByteArray>, Bound<'py, PyBytes>)> {
        let (private, public) = check(py, pq_generate_key_pair())?;
        Ok((
            PyByteArray::new(py, private.as_bytes()),
            PyBytes::new(py, &public),
        ))
    }

    /// The recipient's 1216-byte X-Wing public key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.public_key)
    }

    /// The key's ID in messages: SHA-256 of the public key.
    #[getter]
    fn key_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key_id)
    }
}

/// Wraps data keys with a key-store key: the master key never leaves the
/// key store (or its HSM).
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "KeyStoreKeyring")]
pub struct PyKeyStoreKeyring;

/// The native key store of `sealbox.KeyStore` (or of `_native.KeyStore`).
pub(crate) fn native_key_store(obj: &Bound<'_, PyAny>) -> PyResult<sealbox::keystore::KeyStore> {
    if let Ok(ks) = obj.cast::<PyKeyStore>() {
        return Ok(ks.get().inner.clone());
    }
    if let Ok(inner) = obj.getattr("_native") {
        if let Ok(ks) = inner.cast::<PyKeyStore>() {
            return Ok(ks.get().inner.clone());
        }
    }
    Err(PyTypeError::new_err("key_store must be a sealbox.KeyStore"))
}

#[pymethods]
impl PyKeyStoreKeyring {
    #[new]
    fn new(key_store: &Bound<'_, PyAny>, key_id: &str) -> PyResult<PyClassInitializer<Self>> {
        let ks = native_key_store(key_store)?;
        let kr = KeyStoreKeyring::new(ks, key_id);
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), true)).add_subclass(PyKeyStoreKeyring))
    }
}

/// A generator keyring plus children: every one wraps the data key, any
/// one can unwrap it. Without a generator it only decrypts (or adds
/// wrappings to materials that already hold a data key).
#[derive(Debug)]
#[pyclass(frozen, extends = PyKeyring, module = "sealbox._native", name = "MultiKeyring")]
pub struct PyMultiKeyring;

#[pymethods]
impl PyMultiKeyring {
    #[new]
    #[pyo3(signature = (generator=None, children=Vec::new()))]
    fn new(
        py: Python<'_>,
        generator: Option<PyRef<'_, PyKeyring>>,
        children: Vec<PyRef<'_, PyKeyring>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let uses = generator.as_ref().is_some_and(|g| g.uses_key_store)
            || children.iter().any(|c| c.uses_key_store);
        let kr = check(
            py,
            MultiKeyring::new(
                generator.map(|g| g.inner.clone()),
                children.iter().map(|c| c.inner.clone()).collect(),
            ),
        )?;
        Ok(PyClassInitializer::from(keyring(Arc::new(kr), uses)).add_subclass(PyMultiKeyring))
    }
}

// ------------------------------------------------- materials managers --

/// Base class of the materials managers.
#[derive(Debug)]
#[pyclass(
    frozen,
    subclass,
    module = "sealbox._native",
    name = "MaterialsManager"
)]
pub struct PyMaterialsManager {
    inner: Arc<dyn MaterialsManager>,
    uses_key_store: bool,
}

/// Materials straight from one keyring (what `keyring=` uses).
#[derive(Debug)]
#[pyclass(frozen, extends = PyMaterialsManager, module = "sealbox._native", name = "DefaultMaterialsManager")]
pub struct PyDefaultMaterialsManager;

#[pymethods]
impl PyDefaultMaterialsManager {
    #[new]
    fn new(keyring: PyRef<'_, PyKeyring>) -> PyClassInitializer<Self> {
        PyClassInitializer::from(PyMaterialsManager {
            inner: Arc::new(DefaultMaterialsManager::new(keyring.inner.clone())),
            uses_key_store: keyring.uses_key_store,
        })
        .add_subclass(PyDefaultMaterialsManager)
    }
}

/// Reuses data keys within limits, so that many messages cost one call to
/// the key store (or HSM). Thread-safe: share one between threads.
#[derive(Debug)]
#[pyclass(frozen, extends = PyMaterialsManager, module = "sealbox._native", name = "CachingMaterialsManager")]
pub struct PyCachingMaterialsManager {
    cache: Arc<CachingMaterialsManager>,
}

#[pymethods]
impl PyCachingMaterialsManager {
    #[new]
    #[pyo3(signature = (source, *, max_age, max_messages=None, max_bytes=None, capacity=1000, partition=None))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        max_age: f64,
        max_messages: Option<u64>,
        max_bytes: Option<u64>,
        capacity: usize,
        partition: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let (underlying, uses): (Arc<dyn MaterialsManager>, bool) =
            if let Ok(kr) = source.cast::<PyKeyring>() {
                let kr = kr.get();
                (
                    Arc::new(DefaultMaterialsManager::new(kr.inner.clone())),
                    kr.uses_key_store,
                )
            } else if let Ok(cmm) = source.cast::<PyMaterialsManager>() {
                let cmm = cmm.get();
                (cmm.inner.clone(), cmm.uses_key_store)
            } else {
                return Err(PyTypeError::new_err(
                    "source must be a sealbox keyring or materials manager",
                ));
            };
        if !max_age.is_finite() || max_age <= 0.0 || max_age > 1e12 {
            return Err(PyValueError::new_err(
                "max_age must be a positive number of seconds",
            ));
        }
        let mut limits = CacheLimits::with_max_age(Duration::from_secs_f64(max_age));
        if let Some(m) = max_messages {
            limits.max_messages = m;
        }
        if let Some(b) = max_bytes {
            limits.max_bytes = b;
        }
        limits.capacity = capacity;
        if let Some(p) = partition {
            limits.partition = p;
        }
        let cache = Arc::new(check(py, CachingMaterialsManager::new(underlying, limits))?);
        Ok(PyClassInitializer::from(PyMaterialsManager {
            inner: cache.clone(),
            uses_key_store: uses,
        })
        .add_subclass(PyCachingMaterialsManager { cache }))
    }

    /// Cache hits so far.
    #[getter]
    fn hits(&self) -> u64 {
        self.cache.stats().0
    }

    /// Cache misses so far.
    #[getter]
    fn misses(&self) -> u64 {
        self.cache.stats().1
    }

    /// Drops every cached entry.
    fn clear(&self) {
        self.cache.clear()
    }
}

/// The materials manager named by exactly one of `keyring=` and
/// `materials_manager=`, and whether it may reach a key store.
fn materials(
    keyring: Option<PyRef<'_, PyKeyring>>,
    materials_manager: Option<PyRef<'_, PyMaterialsManager>>,
) -> PyResult<(Arc<dyn MaterialsManager>, bool)> {
    match (keyring, materials_manager) {
        (Some(kr), None) => Ok((kr.cmm.clone(), kr.uses_key_store)),
        (None, Some(cmm)) => Ok((cmm.inner.clone(), cmm.uses_key_store)),
        _ => Err(PyValueError::new_err(
            "give exactly one of keyring= or materials_manager=",
        )),
    }
}

/// An encryption context from any mapping of str to str (a dict as it is).
fn context(py: Python<'_>, ec: Option<&Bound<'_, PyAny>>) -> PyResult<Option<EncryptionContext>> {
    let Some(ec) = ec else { return Ok(None) };
    if ec.is_instance_of::<PyDict>() {
        return ec.extract().map(Some);
    }
    py.get_type::<PyDict>().call1((ec,))?.extract().map(Some)
}

/// The required keys from any sequence of str, but not from one str.
fn required_keys(py: Python<'_>, keys: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(keys) = keys else {
        return Ok(Vec::new());
    };
    if keys.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "required_encryption_context_keys must be a sequence of str, not one str",
        ));
    }
    py.get_type::<PyList>().call1((keys,))?.extract()
}

fn suite(py: Python<'_>, id: Option<&Bound<'_, PyAny>>) -> PyResult<Option<AlgorithmSuite>> {
    let Some(id) = id else { return Ok(None) };
    // bool is an int; refuse it rather than read True as suite 0x0001.
    if id.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(
            "algorithm_suite must be an AlgorithmSuite or a suite ID",
        ));
    }
    let id: u16 = id.extract()?;
    AlgorithmSuite::from_id(id).map(Some).ok_or_else(|| {
        crate::error::to_py_err(
            py,
            Error::InvalidArgument(format!("unknown algorithm suite 0x{id:04x}")).into(),
        )
    })
}

fn policy(py: Python<'_>, name: Option<&str>) -> PyResult<CommitmentPolicy> {
    name.map(|n| check(py, CommitmentPolicy::from_name(n)))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn edk_limit(py: Python<'_>, limit: Option<usize>) -> PyResult<MaxEncryptedDataKeys> {
    check(py, MaxEncryptedDataKeys::from_option(limit))
}

/// What one message is encrypted with, checked once: the options of
/// `sealbox.encrypt` and `sealbox.open_encryptor` (one-shot and stream).
#[derive(Debug)]
#[pyclass(frozen, module = "sealbox._native", name = "EncryptOptions")]
pub struct PyEncryptOptions {
    cmm: Arc<dyn MaterialsManager>,
    uses_key_store: bool,
    options: EncryptOptions,
}

#[pymethods]
impl PyEncryptOptions {
    #[new]
    #[pyo3(signature = (*, keyring=None, materials_manager=None, encryption_context=None, algorithm_suite=None, frame_length=DEFAULT_FRAME_LENGTH, commitment_policy=None, max_encrypted_data_keys=Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS), required_encryption_context_keys=None, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        keyring: Option<PyRef<'_, PyKeyring>>,
        materials_manager: Option<PyRef<'_, PyMaterialsManager>>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        algorithm_suite: Option<&Bound<'_, PyAny>>,
        frame_length: u32,
        commitment_policy: Option<&str>,
        max_encrypted_data_keys: Option<usize>,
        required_encryption_context_keys: Option<&Bound<'_, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        encrypt_options(
            py,
            keyring,
            materials_manager,
            encryption_context,
            algorithm_suite,
            frame_length,
            commitment_policy,
            max_encrypted_data_keys,
            required_encryption_context_keys,
            threads,
        )
    }
}

/// The options of one encryption, checked: `EncryptOptions(...)` and the
/// one-shot `encrypt`, which takes them as arguments (no object per call).
#[allow(clippy::too_many_arguments)]
fn encrypt_options(
    py: Python<'_>,
    keyring: Option<PyRef<'_, PyKeyring>>,
    materials_manager: Option<PyRef<'_, PyMaterialsManager>>,
    encryption_context: Option<&Bound<'_, PyAny>>,
    algorithm_suite: Option<&Bound<'_, PyAny>>,
    frame_length: u32,
    commitment_policy: Option<&str>,
    max_encrypted_data_keys: Option<usize>,
    required_encryption_context_keys: Option<&Bound<'_, PyAny>>,
    threads: Option<usize>,
) -> PyResult<PyEncryptOptions> {
    let (cmm, uses_key_store) = materials(keyring, materials_manager)?;
    let options = EncryptOptions {
        parallelism: check(py, Parallelism::from_option(threads))?,
        encryption_context: context(py, encryption_context)?.unwrap_or_default(),
        required_encryption_context_keys: required_keys(py, required_encryption_context_keys)?,
        suite: suite(py, algorithm_suite)?,
        frame_length,
        commitment_policy: policy(py, commitment_policy)?,
        max_encrypted_data_keys: edk_limit(py, max_encrypted_data_keys)?,
        plaintext_length: None,
    };
    Ok(PyEncryptOptions {
        cmm,
        uses_key_store,
        options,
    })
}

impl PyEncryptOptions {
    /// An encryptor for a message of `plaintext_length` bytes (if known).
    fn encryptor(
        &self,
        py: Python<'_>,
        plaintext_length: Option<u64>,
        release: bool,
    ) -> PyResult<Encryptor> {
        let mut options = self.options.clone();
        options.plaintext_length = plaintext_length;
        Self::encryptor_with(&self.cmm, &options, py, release || self.uses_key_store)
    }

    fn encryptor_with(
        cmm: &Arc<dyn MaterialsManager>,
        options: &EncryptOptions,
        py: Python<'_>,
        release: bool,
    ) -> PyResult<Encryptor> {
        call(py, release, || Ok(Encryptor::new(cmm.as_ref(), options)?))
    }
}

/// What one message is decrypted with, checked once: the options of
/// `sealbox.decrypt` and `sealbox.open_decryptor` (one-shot and stream).
#[derive(Debug)]
#[pyclass(frozen, module = "sealbox._native", name = "DecryptOptions")]
pub struct PyDecryptOptions {
    cmm: Arc<dyn MaterialsManager>,
    uses_key_store: bool,
    options: DecryptOptions,
}

#[pymethods]
impl PyDecryptOptions {
    // Keyword-only arguments of a Python constructor, one per option.
    #[allow(clippy::too_many_arguments)]
    #[new]
    #[pyo3(signature = (*, keyring=None, materials_manager=None, encryption_context=None, commitment_policy=None, max_encrypted_data_keys=Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS), max_body_size=None, threads=None))]
    fn new(
        py: Python<'_>,
        keyring: Option<PyRef<'_, PyKeyring>>,
        materials_manager: Option<PyRef<'_, PyMaterialsManager>>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<&str>,
        max_encrypted_data_keys: Option<usize>,
        max_body_size: Option<u64>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        decrypt_options(
            py,
            keyring,
            materials_manager,
            encryption_context,
            commitment_policy,
            max_encrypted_data_keys,
            max_body_size,
            threads,
        )
    }
}

/// The options of one decryption, checked: `DecryptOptions(...)` and the
/// one-shot `decrypt`, which takes them as arguments.
#[allow(clippy::too_many_arguments)]
fn decrypt_options(
    py: Python<'_>,
    keyring: Option<PyRef<'_, PyKeyring>>,
    materials_manager: Option<PyRef<'_, PyMaterialsManager>>,
    encryption_context: Option<&Bound<'_, PyAny>>,
    commitment_policy: Option<&str>,
    max_encrypted_data_keys: Option<usize>,
    max_body_size: Option<u64>,
    threads: Option<usize>,
) -> PyResult<PyDecryptOptions> {
    let (cmm, uses_key_store) = materials(keyring, materials_manager)?;
    let options = DecryptOptions {
        parallelism: check(py, Parallelism::from_option(threads))?,
        encryption_context: context(py, encryption_context)?,
        commitment_policy: policy(py, commitment_policy)?,
        max_encrypted_data_keys: edk_limit(py, max_encrypted_data_keys)?,
        max_body_size,
    };
    Ok(PyDecryptOptions {
        cmm,
        uses_key_store,
        options,
    })
}

fn context_dict<'py>(py: Python<'py>, ec: &EncryptionContext) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in ec {
        d.set_item(k, v)?;
    }
    Ok(d)
}

// ------------------------------------------------------------ one-shot --

/// Encrypts `plaintext` into one message (AWS Encryption SDK format). The
/// options are positional, in `EncryptOptions`' order: `sealbox.encrypt`
/// passes them on without making an options object per message.
#[pyfunction]
#[pyo3(signature = (plaintext, keyring, materials_manager, encryption_context, algorithm_suite, frame_length, commitment_policy, max_encrypted_data_keys, required_encryption_context_keys, threads, /))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn encrypt<'py>(
    py: Python<'py>,
    plaintext: &Bound<'py, PyAny>,
    keyring: Option<PyRef<'py, PyKeyring>>,
    materials_manager: Option<PyRef<'py, PyMaterialsManager>>,
    encryption_context: Option<&Bound<'py, PyAny>>,
    algorithm_suite: Option<&Bound<'py, PyAny>>,
    frame_length: u32,
    commitment_policy: Option<&str>,
    max_encrypted_data_keys: Option<usize>,
    required_encryption_context_keys: Option<&Bound<'py, PyAny>>,
    threads: Option<usize>,
) -> Bytes<'py> {
    let mut options = encrypt_options(
        py,
        keyring,
        materials_manager,
        encryption_context,
        algorithm_suite,
        frame_length,
        commitment_policy,
        max_encrypted_data_keys,
        required_encryption_context_keys,
        threads,
    )?;
    let input = Input::new(plaintext, "plaintext")?;
    let len = input.len();
    let release = options.uses_key_store || len > RELEASE_THRESHOLD;
    options.options.plaintext_length = Some(len as u64);
    let mut enc = PyEncryptOptions::encryptor_with(&options.cmm, &options.options, py, release)?;
    match enc.exact_message_len(len) {
        // Straight into the bytes object that is returned: no copy of the
        // message (every suite: signatures are made at their static length).
        // SAFETY: `encrypt_all_into_uninit` writes every byte of `out`
        // when it succeeds (and zeros when it fails).
        Some(n) => unsafe {
            bytes_written_by(py, n, |out| {
                input.with(py, release, |pt| Ok(enc.encrypt_all_into_uninit(pt, out)?))
            })
        },
        None => {
            let out = input.with(py, release, |pt| {
                let mut out = Vec::new();
                enc.encrypt_all_append(pt, &mut out)?;
                Ok(out)
            })?;
            Ok(PyBytes::new(py, &out))
        }
    }
}

/// What `sealbox.decrypt` returns: made here, in one step (a frozen
/// dataclass built in Python cost more than the decryption of 1 KiB).
#[derive(Debug)]
#[pyclass(frozen, module = "sealbox", name = "DecryptResult")]
pub struct PyDecryptResult {
    /// The authenticated plaintext.
    #[pyo3(get)]
    plaintext: Py<PyBytes>,
    /// The message's full encryption context (with the
    /// `aws-crypto-public-key` pair of signed suites).
    #[pyo3(get)]
    encryption_context: Py<PyDict>,
    /// The algorithm suite the message was written with (an
    /// `AlgorithmSuite`).
    #[pyo3(get)]
    algorithm_suite: Py<PyAny>,
}

#[pymethods]
impl PyDecryptResult {
    #[new]
    fn new(
        plaintext: Py<PyBytes>,
        encryption_context: Py<PyDict>,
        algorithm_suite: Py<PyAny>,
    ) -> Self {
        PyDecryptResult {
            plaintext,
            encryption_context,
            algorithm_suite,
        }
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str) {
        ("plaintext", "encryption_context", "algorithm_suite")
    }

    /// Pickled (and copied) as its three fields.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (
        Bound<'py, pyo3::types::PyType>,
        (Py<PyBytes>, Py<PyDict>, Py<PyAny>),
    ) {
        let py = slf.py();
        let me = slf.get();
        (
            slf.get_type(),
            (
                me.plaintext.clone_ref(py),
                me.encryption_context.clone_ref(py),
                me.algorithm_suite.clone_ref(py),
            ),
        )
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "DecryptResult(plaintext=<{} bytes>, encryption_context={}, algorithm_suite={})",
            self.plaintext.bind(py).as_bytes().len(),
            self.encryption_context.bind(py).repr()?,
            self.algorithm_suite.bind(py).repr()?,
        ))
    }

    /// Equal when the three fields are (as the dataclass it replaces);
    /// another type gets NotImplemented (PyO3 answers so when `other` is
    /// not a DecryptResult).
    fn __eq__(&self, py: Python<'_>, other: PyRef<'_, PyDecryptResult>) -> PyResult<bool> {
        Ok(self
            .plaintext
            .bind(py)
            .as_any()
            .eq(other.plaintext.bind(py))?
            && self
                .encryption_context
                .bind(py)
                .as_any()
                .eq(other.encryption_context.bind(py))?
            && self
                .algorithm_suite
                .bind(py)
                .eq(other.algorithm_suite.bind(py))?)
    }
}

/// The `sealbox.AlgorithmSuite` member of a suite, from a table of the
/// enum's members made on first use.
pub(crate) fn suite_member(py: Python<'_>, suite: AlgorithmSuite) -> PyResult<Py<PyAny>> {
    static MEMBERS: pyo3::sync::PyOnceLock<Py<PyDict>> = pyo3::sync::PyOnceLock::new();
    let members = MEMBERS.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
        let d = PyDict::new(py);
        let class = py.import("sealbox._enums")?.getattr("AlgorithmSuite")?;
        for m in class.try_iter()? {
            let m = m?;
            d.set_item(m.getattr("value")?, m)?;
        }
        Ok(d.unbind())
    })?;
    match members.bind(py).get_item(suite.id())? {
        Some(m) => Ok(m.unbind()),
        // Every suite of the core is a member: the enum is checked against
        // the core's table by the contract test.
        None => Err(crate::error::to_py_err(
            py,
            Error::InvalidState(format!(
                "suite 0x{:04x} is not in AlgorithmSuite",
                suite.id()
            ))
            .into(),
        )),
    }
}

/// Decrypts one message. The options are positional, in
/// `DecryptOptions`' order (as for `encrypt`).
#[pyfunction]
#[pyo3(signature = (ciphertext, keyring, materials_manager, encryption_context, commitment_policy, max_encrypted_data_keys, max_body_size, threads, /))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn decrypt<'py>(
    py: Python<'py>,
    ciphertext: &Bound<'py, PyAny>,
    keyring: Option<PyRef<'py, PyKeyring>>,
    materials_manager: Option<PyRef<'py, PyMaterialsManager>>,
    encryption_context: Option<&Bound<'py, PyAny>>,
    commitment_policy: Option<&str>,
    max_encrypted_data_keys: Option<usize>,
    max_body_size: Option<u64>,
    threads: Option<usize>,
) -> PyResult<PyDecryptResult> {
    let options = decrypt_options(
        py,
        keyring,
        materials_manager,
        encryption_context,
        commitment_policy,
        max_encrypted_data_keys,
        max_body_size,
        threads,
    )?;
    let input = Input::new(ciphertext, "ciphertext")?;
    let (cmm, opts) = (options.cmm.as_ref(), &options.options);
    // A large message is decrypted straight into the bytes object that is
    // returned, at the plaintext's length read from the message's
    // structure (no copy of the plaintext, no scratch buffer to wipe).
    let exact = if input.len() > DECRYPT_INTO_MIN {
        input
            .peek(|ct| message::plaintext_len(ct, opts.max_encrypted_data_keys))
            .filter(|&n| opts.max_body_size.is_none_or(|max| n as u64 <= max))
    } else {
        None
    };
    if let Some(n) = exact {
        let mut header = None;
        // SAFETY: `decrypt_into_uninit` succeeds only once it wrote every
        // byte of `out` (on failure it zeroes `out`, which is dropped).
        let out = unsafe {
            bytes_written_by(py, n, |out| {
                header = Some(input.with_memory(py, options.uses_key_store, |ct, memory| {
                    Ok(message::decrypt_into_uninit(ct, memory, cmm, opts, out)?)
                })?);
                Ok(())
            })
        }?;
        let (suite, context) = header.ok_or_else(|| PyValueError::new_err("no plaintext"))?;
        return Ok(PyDecryptResult {
            plaintext: out.unbind(),
            encryption_context: context_dict(py, &context)?.unbind(),
            algorithm_suite: suite_member(py, suite)?,
        });
    }
    // A small one goes through this thread's scratch buffer: a fresh Vec
    // per message costs page faults (glibc hands the pages back between
    // messages) that take longer than the decryption itself.
    let mut scratch = Wiped(DECRYPT_SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut())));
    scratch.0.clear();
    let (suite, context) = input.with_memory(py, options.uses_key_store, |ct, memory| {
        Ok(message::decrypt_append(
            ct,
            memory,
            cmm,
            opts,
            &mut scratch.0,
        )?)
    })?;
    let out = PyBytes::new(py, &scratch.0);
    crate::buffer::wipe(&mut scratch.0);
    if scratch.0.capacity() <= MAX_KEPT_SCRATCH {
        let kept = std::mem::take(&mut scratch.0);
        DECRYPT_SCRATCH.with(|s| *s.borrow_mut() = kept);
    }
    Ok(PyDecryptResult {
        plaintext: out.unbind(),
        encryption_context: context_dict(py, &context)?.unbind(),
        algorithm_suite: suite_member(py, suite)?,
    })
}

/// Messages above this many bytes are decrypted straight into the returned
/// bytes object (below it, reading the structure first costs more than the
/// copy it saves).
const DECRYPT_INTO_MIN: usize = 64 * 1024;

/// The largest scratch buffer a thread keeps between decryptions.
const MAX_KEPT_SCRATCH: usize = 8 << 20;

thread_local! {
    /// Plaintext of the last one-shot decryption on this thread, wiped:
    /// only its capacity is reused.
    static DECRYPT_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

// ----------------------------------------------------------- streaming --

/// The last bytes of a stream, as `finish` of either direction writes
/// them (no key-store call: the GIL stays held).
fn finish_stream<'py>(
    py: Python<'py>,
    finish: impl FnOnce(&mut Vec<u8>) -> sealbox::Result<()> + Send,
) -> Bytes<'py> {
    let out = call(py, false, || {
        let mut out = Vec::new();
        finish(&mut out)?;
        Ok(out)
    })?;
    Ok(PyBytes::new(py, &out))
}

/// One `update` of a stream: `data` through `update` into a buffer of
/// `capacity(data length)` bytes, kept in memory wiped once copied out (it
/// holds plaintext on the decrypting side). `release` as in [`Input::with`].
fn update_stream<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    release: bool,
    capacity: impl FnOnce(usize) -> usize + Send,
    update: impl FnOnce(&[u8], &mut Vec<u8>) -> sealbox::Result<()> + Send,
) -> Bytes<'py> {
    let input = Input::new(data, "data")?;
    let out = input.with(py, release, |d| {
        let mut out = Wiped(Vec::with_capacity(capacity(d.len())));
        update(d, &mut out.0)?;
        Ok(out)
    })?;
    Ok(PyBytes::new(py, &out.0))
}

/// Incremental encryption (the engine of `sealbox.open_encryptor`): bytes
/// in, message bytes out. One thread at a time.
#[derive(Debug)]
#[pyclass(module = "sealbox._native", name = "StreamEncryptor")]
pub struct PyStreamEncryptor {
    inner: Encryptor,
    uses_key_store: bool,
}

#[pymethods]
impl PyStreamEncryptor {
    #[new]
    #[pyo3(signature = (options, plaintext_length=None))]
    fn new(
        py: Python<'_>,
        options: PyRef<'_, PyEncryptOptions>,
        plaintext_length: Option<u64>,
    ) -> PyResult<Self> {
        Ok(PyStreamEncryptor {
            inner: options.encryptor(py, plaintext_length, false)?,
            uses_key_store: options.uses_key_store,
        })
    }

    /// Encrypts `data`; returns the message bytes that are complete.
    fn update<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> Bytes<'py> {
        let inner = &mut self.inner;
        let capacity = |n: usize| n + n / 64 + 64;
        update_stream(py, data, self.uses_key_store, capacity, |d, out| {
            inner.update(d, out)
        })
    }

    /// Ends the message: returns the final frame (and signature).
    fn finish<'py>(&mut self, py: Python<'py>) -> Bytes<'py> {
        let inner = &mut self.inner;
        finish_stream(py, |out| inner.finish(out))
    }

    /// The suite id of the message being written.
    #[getter]
    fn algorithm_suite(&self) -> u16 {
        self.inner.header().suite.id()
    }
}

/// Incremental decryption (the engine of `sealbox.open_decryptor`):
/// message bytes in, authenticated plaintext out. One thread at a time.
#[derive(Debug)]
#[pyclass(module = "sealbox._native", name = "StreamDecryptor")]
pub struct PyStreamDecryptor {
    inner: Decryptor,
    uses_key_store: bool,
}

#[pymethods]
impl PyStreamDecryptor {
    #[new]
    fn new(options: PyRef<'_, PyDecryptOptions>) -> Self {
        PyStreamDecryptor {
            inner: Decryptor::new(options.cmm.clone(), options.options.clone()),
            uses_key_store: options.uses_key_store,
        }
    }

    /// Feeds message bytes; returns newly authenticated plaintext.
    fn update<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> Bytes<'py> {
        // The header (read from the first bytes) may need the key store.
        let release = self.uses_key_store && self.inner.header().is_none();
        let inner = &mut self.inner;
        update_stream(py, data, release, |n| n, |d, out| inner.update(d, out))
    }

    /// Declares the end of the message; fails if it is incomplete.
    fn finish<'py>(&mut self, py: Python<'py>) -> Bytes<'py> {
        let inner = &mut self.inner;
        finish_stream(py, |out| inner.finish(out))
    }

    /// The message's encryption context once its header is authenticated.
    #[getter]
    fn encryption_context<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .encryption_context()
            .map(|ec| context_dict(py, ec))
            .transpose()
    }

    /// The suite id, once the header is read.
    #[getter]
    fn algorithm_suite(&self) -> Option<u16> {
        self.inner.header().map(|h| h.suite.id())
    }
}

// ------------------------------------------------------------- rewrap --

/// The rewrap summary as a tuple: (suite id, context, bytes in, bytes out,
/// (old header length, new header length), encrypted data keys, resigned).
type SummaryTuple<'py> = (
    u16,
    Bound<'py, PyDict>,
    u64,
    u64,
    (usize, usize),
    usize,
    bool,
);

fn summary_tuple<'py>(py: Python<'py>, s: &RewrapSummary) -> PyResult<SummaryTuple<'py>> {
    Ok((
        s.suite.id(),
        context_dict(py, &s.encryption_context)?,
        s.bytes_in,
        s.bytes_out,
        s.header_len,
        s.encrypted_data_keys,
        s.resigned,
    ))
}

fn rewrap_options(
    py: Python<'_>,
    options: &PyDecryptOptions,
    max_encrypted_data_keys: Option<usize>,
) -> PyResult<RewrapOptions> {
    Ok(RewrapOptions {
        decrypt: options.options.clone(),
        max_encrypted_data_keys: edk_limit(py, max_encrypted_data_keys)?,
    })
}

/// Rewraps one message: (new message, summary tuple).
#[pyfunction]
#[pyo3(signature = (message, options, encrypt_with, max_encrypted_data_keys=Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS)))]
pub(crate) fn rewrap<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    options: PyRef<'py, PyDecryptOptions>,
    encrypt_with: PyRef<'py, PyKeyring>,
    max_encrypted_data_keys: Option<usize>,
) -> PyResult<(Bound<'py, PyBytes>, SummaryTuple<'py>)> {
    let input = Input::new(message, "message")?;
    let opts = rewrap_options(py, &options, max_encrypted_data_keys)?;
    let release = options.uses_key_store || encrypt_with.uses_key_store;
    let keyring = encrypt_with.inner.clone();
    let cmm = options.cmm.clone();
    let (out, summary) = input.with(py, release, |m| {
        Ok(message::rewrap(m, cmm.as_ref(), keyring.as_ref(), &opts)?)
    })?;
    Ok((PyBytes::new(py, &out), summary_tuple(py, &summary)?))
}

/// Incremental rewrapping (the engine of `sealbox.rewrap_stream`): message
/// bytes in, rewrapped message bytes out. One thread at a time.
#[derive(Debug)]
#[pyclass(module = "sealbox._native", name = "StreamRewrapper")]
pub struct PyStreamRewrapper {
    inner: Rewrapper,
    uses_key_store: bool,
    header_done: bool,
}

#[pymethods]
impl PyStreamRewrapper {
    #[new]
    #[pyo3(signature = (options, encrypt_with, max_encrypted_data_keys=Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS)))]
    fn new(
        py: Python<'_>,
        options: PyRef<'_, PyDecryptOptions>,
        encrypt_with: PyRef<'_, PyKeyring>,
        max_encrypted_data_keys: Option<usize>,
    ) -> PyResult<Self> {
        let opts = rewrap_options(py, &options, max_encrypted_data_keys)?;
        Ok(PyStreamRewrapper {
            inner: Rewrapper::new(options.cmm.clone(), encrypt_with.inner.clone(), opts),
            uses_key_store: options.uses_key_store || encrypt_with.uses_key_store,
            header_done: false,
        })
    }

    /// Feeds message bytes; returns the rewrapped bytes that are ready.
    fn update<'py>(&mut self, py: Python<'py>, data: &Bound<'py, PyAny>) -> Bytes<'py> {
        // The header (read from the first bytes) may need the key store.
        let release = self.uses_key_store && !self.header_done;
        let inner = &mut self.inner;
        let r = update_stream(
            py,
            data,
            release,
            |n| n + 4096,
            |d, out| inner.update(d, out),
        );
        if r.as_ref().is_ok_and(|b| !b.as_bytes().is_empty()) {
            self.header_done = true;
        }
        r
    }

    /// Declares the end of the message (fails if it is incomplete);
    /// returns the summary tuple.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<SummaryTuple<'py>> {
        let s = check(py, self.inner.finish())?;
        summary_tuple(py, &s)
    }
}
