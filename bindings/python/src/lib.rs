//! `sealbox._native`: the extension module under the Python package
//! `sealbox` (bindings/python/python/sealbox). The package re-exports a
//! clean API over it; import `sealbox`, not this module.
//!
//! Conventions (after pyca/cryptography):
//! - bytes in through the buffer protocol, read in place ([`buffer`]);
//! - every call into the core goes through one panic boundary and one
//!   error conversion to the exception classes declared in Python
//!   ([`error`]);
//! - the GIL is released around every key-store call (HSM round trips) and
//!   around envelope work on more than [`buffer::RELEASE_THRESHOLD`] bytes.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod buffer;
mod envelope;
mod error;
mod keystore;
mod secrets;

use pyo3::prelude::*;

/// Test hook: panics inside the panic boundary, so that the tests can show
/// a panic becomes `sealbox.Panic` and the interpreter lives on.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    error::call(py, true, || -> Result<(), error::Failure> {
        #[allow(clippy::panic)]
        {
            panic!("deliberate panic (test hook)")
        }
    })
}

/// The core's error kinds as (number, name) pairs: what the contract test
/// compares with `sealbox.exceptions`.
#[pyfunction]
fn _error_kinds() -> Vec<(u32, &'static str)> {
    sealbox::ErrorKind::ALL
        .iter()
        .map(|k| (k.code(), k.name()))
        .collect()
}

/// Test hook: raises, through the one conversion, the exception of a
/// representative core error of kind `code` (a panic for `Panic`).
#[pyfunction]
fn _raise_kind_for_test(py: Python<'_>, code: u32) -> PyResult<()> {
    let kind = sealbox::ErrorKind::from_code(code)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("no kind {code}")))?;
    error::call(py, false, || -> Result<(), error::Failure> {
        match sealbox::Error::example_of(kind) {
            Some(e) => Err(e.into()),
            None if kind == sealbox::ErrorKind::Panic => Err(error::Failure::Panic("test".into())),
            None => Err(error::Failure::Kind(kind)),
        }
    })
}

/// `(version, crypto_provider, fips_mode)` of this build
/// (`sealbox.build_info()` wraps it).
#[pyfunction]
fn build_info() -> (&'static str, &'static str, bool) {
    let info = sealbox::build_info();
    (info.version, info.crypto_provider, info.fips_mode)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add_classes {
        ($($class:ty),* $(,)?) => { $(m.add_class::<$class>()?;)* };
    }
    add_classes!(
        keystore::PyRootKey,
        keystore::PyPkcs11,
        keystore::PyKeyStore,
        envelope::PyKeyring,
        envelope::PyRawAesKeyring,
        envelope::PyRawRsaKeyring,
        envelope::PyRawEcdhKeyring,
        envelope::PyPqKeyring,
        envelope::PyKeyStoreKeyring,
        envelope::PyMultiKeyring,
        envelope::PyMaterialsManager,
        envelope::PyDefaultMaterialsManager,
        envelope::PyCachingMaterialsManager,
        envelope::PyEncryptOptions,
        envelope::PyDecryptOptions,
        envelope::PyDecryptResult,
        envelope::PyStreamEncryptor,
        envelope::PyStreamDecryptor,
        envelope::PyStreamRewrapper,
    );
    m.add_function(wrap_pyfunction!(envelope::encrypt, m)?)?;
    for f in [
        wrap_pyfunction!(secrets::secret_create, m)?,
        wrap_pyfunction!(secrets::secret_get, m)?,
        wrap_pyfunction!(secrets::secret_put, m)?,
        wrap_pyfunction!(secrets::secret_update_stage, m)?,
        wrap_pyfunction!(secrets::secret_list, m)?,
        wrap_pyfunction!(secrets::secret_list_versions, m)?,
        wrap_pyfunction!(secrets::secret_describe, m)?,
        wrap_pyfunction!(secrets::secret_delete, m)?,
        wrap_pyfunction!(secrets::secret_restore, m)?,
        wrap_pyfunction!(secrets::secret_update, m)?,
        wrap_pyfunction!(secrets::secret_tag, m)?,
        wrap_pyfunction!(secrets::secret_untag, m)?,
        wrap_pyfunction!(secrets::secret_put_policy, m)?,
        wrap_pyfunction!(secrets::secret_get_policy, m)?,
        wrap_pyfunction!(secrets::secret_delete_policy, m)?,
        wrap_pyfunction!(secrets::secret_rotate, m)?,
        wrap_pyfunction!(secrets::purge_expired_secrets, m)?,
        wrap_pyfunction!(secrets::random_password, m)?,
    ] {
        m.add_function(f)?;
    }
    m.add_function(wrap_pyfunction!(envelope::decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::rewrap, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add("__version__", sealbox::VERSION)?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_raise_kind_for_test, m)?)?;
    // Defaults owned by the core, one named constant each (Python ints).
    let constants: [(&str, u64); 6] = [
        ("RELEASE_THRESHOLD", buffer::RELEASE_THRESHOLD as u64),
        (
            "DEFAULT_FRAME_LENGTH",
            sealbox::message::DEFAULT_FRAME_LENGTH.into(),
        ),
        (
            "DEFAULT_MAX_ENCRYPTED_DATA_KEYS",
            sealbox::message::DEFAULT_MAX_ENCRYPTED_DATA_KEYS as u64,
        ),
        (
            "DEFAULT_MAX_SESSIONS",
            sealbox::keystore::DEFAULT_MAX_SESSIONS.get() as u64,
        ),
        (
            "DEFAULT_DELETION_WINDOW_DAYS",
            sealbox::keystore::DEFAULT_DELETION_WINDOW_DAYS.into(),
        ),
        (
            "DEFAULT_ROTATION_PERIOD_DAYS",
            sealbox::keystore::DEFAULT_ROTATION_PERIOD_DAYS.into(),
        ),
    ];
    for (name, value) in constants {
        m.add(name, value)?;
    }
    Ok(())
}
