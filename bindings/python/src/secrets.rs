//! Secrets (issue 21): the native half of `KeyStore.create_secret` and the
//! other Secrets Manager operations, as module functions that take the
//! native key store (the pure-Python layer, `sealbox/_keystore.py`, makes
//! them methods and dataclasses). Text values cross as `str`, binary ones
//! as `bytes`. Every call runs with the GIL released; a rotation takes it
//! back to run the Python rotator's steps.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use sealbox::keystore::{
    CreateSecretOptions, PasswordSpec, PutSecretValueOptions, RotationStep, SecretMetadata,
    SecretRotation, SecretRotator, SecretValue, SecretVersionInfo,
};
use sealbox::Error;

use crate::buffer::Input;
use crate::error::{call, check};
use crate::keystore::PyKeyStore;

type Dict<'py> = PyResult<Bound<'py, PyDict>>;

/// `str` → a text value, any bytes-like object → a binary value.
fn to_value(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<SecretValue> {
    if let Ok(s) = obj.cast::<PyString>() {
        return check(py, SecretValue::text(s.to_str()?));
    }
    let input = Input::new(obj, "value")?;
    let mut bytes = zeroize::Zeroizing::new(input.to_vec());
    let v = check(py, SecretValue::binary(&bytes));
    zeroize::Zeroize::zeroize(&mut *bytes);
    v
}

fn from_value<'py>(py: Python<'py>, v: &SecretValue) -> Bound<'py, PyAny> {
    match v.as_str() {
        Some(t) => PyString::new(py, t).into_any(),
        None => PyBytes::new(py, v.as_bytes()).into_any(),
    }
}

fn version_info<'py>(py: Python<'py>, v: &SecretVersionInfo) -> Dict<'py> {
    let d = PyDict::new(py);
    d.set_item("version_id", &v.version_id)?;
    d.set_item("version_stages", &v.version_stages)?;
    d.set_item("created_at", v.created_at)?;
    d.set_item("binary", v.binary)?;
    d.set_item("key_id", &v.key_id)?;
    Ok(d)
}

fn metadata<'py>(py: Python<'py>, m: &SecretMetadata) -> Dict<'py> {
    let d = PyDict::new(py);
    d.set_item("name", &m.name)?;
    d.set_item("description", &m.description)?;
    d.set_item("key_id", &m.key_id)?;
    d.set_item("tags", &m.tags)?;
    d.set_item("created_at", m.created_at)?;
    d.set_item("last_changed_at", m.last_changed_at)?;
    d.set_item("last_rotated_at", m.last_rotated_at)?;
    d.set_item("deleted_date", m.deleted_date)?;
    d.set_item("deletion_date", m.deletion_date)?;
    d.set_item("version_ids_to_stages", &m.version_ids_to_stages)?;
    Ok(d)
}

/// (name, version_id or None, version_stages).
#[pyfunction]
#[pyo3(signature = (ks, name, value=None, *, key_id=None, description=String::new(), tags=None, client_request_token=None))]
#[allow(clippy::too_many_arguments)]
pub fn secret_create(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
    key_id: Option<String>,
    description: String,
    tags: Option<std::collections::BTreeMap<String, String>>,
    client_request_token: Option<String>,
) -> PyResult<(String, Option<String>, Vec<String>)> {
    let value = value.map(|v| to_value(py, v)).transpose()?;
    let opts = CreateSecretOptions {
        key_id,
        description,
        tags: tags.unwrap_or_default(),
        client_request_token,
    };
    let ks = &ks.inner;
    let r = call(py, true, || {
        Ok(ks.create_secret(name, value.as_ref(), &opts)?)
    })?;
    let vid = (!r.version_id.is_empty()).then_some(r.version_id);
    Ok((r.name, vid, r.version_stages))
}

/// (name, version_id, version_stages, created_at, value).
#[pyfunction]
#[pyo3(signature = (ks, name, version_id=None, version_stage=None))]
#[allow(clippy::type_complexity)]
pub fn secret_get<'py>(
    py: Python<'py>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    version_id: Option<String>,
    version_stage: Option<String>,
) -> PyResult<(String, String, Vec<String>, i64, Bound<'py, PyAny>)> {
    let ks = &ks.inner;
    let e = call(py, true, || {
        Ok(ks.get_secret_value(name, version_id.as_deref(), version_stage.as_deref())?)
    })?;
    let value = from_value(py, &e.value);
    Ok((e.name, e.version_id, e.version_stages, e.created_at, value))
}

/// (name, version_id, version_stages).
#[pyfunction]
#[pyo3(signature = (ks, name, value, *, version_stages=None, client_request_token=None))]
pub fn secret_put(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    value: &Bound<'_, PyAny>,
    version_stages: Option<Vec<String>>,
    client_request_token: Option<String>,
) -> PyResult<(String, String, Vec<String>)> {
    let value = to_value(py, value)?;
    let opts = PutSecretValueOptions {
        version_stages,
        client_request_token,
    };
    let ks = &ks.inner;
    let r = call(py, true, || Ok(ks.put_secret_value(name, &value, &opts)?))?;
    Ok((r.name, r.version_id, r.version_stages))
}

/// The versions after the change.
#[pyfunction]
#[pyo3(signature = (ks, name, stage, move_to_version_id=None, remove_from_version_id=None))]
pub fn secret_update_stage<'py>(
    py: Python<'py>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    stage: &str,
    move_to_version_id: Option<String>,
    remove_from_version_id: Option<String>,
) -> PyResult<Bound<'py, PyList>> {
    let ks = &ks.inner;
    let versions = call(py, true, || {
        Ok(ks.update_secret_version_stage(
            name,
            stage,
            move_to_version_id.as_deref(),
            remove_from_version_id.as_deref(),
        )?)
    })?;
    let out = PyList::empty(py);
    for v in &versions {
        out.append(version_info(py, v)?)?;
    }
    Ok(out)
}

/// (metadata dicts, next marker).
#[pyfunction]
#[pyo3(signature = (ks, limit=100, marker=None, include_planned_deletion=false))]
pub fn secret_list<'py>(
    py: Python<'py>,
    ks: PyRef<'_, PyKeyStore>,
    limit: usize,
    marker: Option<String>,
    include_planned_deletion: bool,
) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
    let ks = &ks.inner;
    let page = call(py, true, || {
        Ok(ks.list_secrets(limit, marker.as_deref(), include_planned_deletion)?)
    })?;
    let out = PyList::empty(py);
    for m in &page.secrets {
        out.append(metadata(py, m)?)?;
    }
    Ok((out, page.next_marker))
}

#[pyfunction]
#[pyo3(signature = (ks, name, include_deprecated=false))]
pub fn secret_list_versions<'py>(
    py: Python<'py>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    include_deprecated: bool,
) -> PyResult<Bound<'py, PyList>> {
    let ks = &ks.inner;
    let versions = call(py, true, || {
        Ok(ks.list_secret_version_ids(name, include_deprecated)?)
    })?;
    let out = PyList::empty(py);
    for v in &versions {
        out.append(version_info(py, v)?)?;
    }
    Ok(out)
}

#[pyfunction]
pub fn secret_describe<'py>(py: Python<'py>, ks: PyRef<'_, PyKeyStore>, name: &str) -> Dict<'py> {
    let ks = &ks.inner;
    let m = call(py, true, || Ok(ks.describe_secret(name)?))?;
    metadata(py, &m)
}

/// The deletion date (Unix seconds).
#[pyfunction]
#[pyo3(signature = (ks, name, recovery_window_days=None, force_delete_without_recovery=false))]
pub fn secret_delete(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    recovery_window_days: Option<u32>,
    force_delete_without_recovery: bool,
) -> PyResult<i64> {
    let ks = &ks.inner;
    call(py, true, || {
        Ok(ks.delete_secret(name, recovery_window_days, force_delete_without_recovery)?)
    })
}

#[pyfunction]
#[pyo3(signature = (ks, name, *, description=None, key_id=None))]
pub fn secret_update<'py>(
    py: Python<'py>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    description: Option<String>,
    key_id: Option<String>,
) -> Dict<'py> {
    let ks = &ks.inner;
    let m = call(py, true, || {
        Ok(ks.update_secret(name, description.as_deref(), key_id.as_deref())?)
    })?;
    metadata(py, &m)
}

#[pyfunction]
pub fn secret_tag(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    tags: std::collections::BTreeMap<String, String>,
) -> PyResult<()> {
    let ks = &ks.inner;
    call(py, true, || Ok(ks.tag_secret(name, &tags)?))
}

#[pyfunction]
#[pyo3(signature = (ks, name, policy, bypass_policy_lockout_safety_check=false))]
pub fn secret_put_policy(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    policy: &str,
    bypass_policy_lockout_safety_check: bool,
) -> PyResult<()> {
    let ks = &ks.inner;
    call(py, true, || {
        Ok(ks.put_secret_resource_policy(name, policy, bypass_policy_lockout_safety_check)?)
    })
}

#[pyfunction]
pub fn secret_get_policy(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
) -> PyResult<Option<String>> {
    let ks = &ks.inner;
    call(py, true, || Ok(ks.get_secret_resource_policy(name)?))
}

#[pyfunction]
pub fn secret_delete_policy(py: Python<'_>, ks: PyRef<'_, PyKeyStore>, name: &str) -> PyResult<()> {
    let ks = &ks.inner;
    call(py, true, || Ok(ks.delete_secret_resource_policy(name)?))
}

#[pyfunction]
pub fn secret_untag(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    tag_keys: Vec<String>,
) -> PyResult<()> {
    let ks = &ks.inner;
    call(py, true, || Ok(ks.untag_secret(name, &tag_keys)?))
}

#[pyfunction]
pub fn secret_restore<'py>(py: Python<'py>, ks: PyRef<'_, PyKeyStore>, name: &str) -> Dict<'py> {
    let ks = &ks.inner;
    let m = call(py, true, || Ok(ks.restore_secret(name)?))?;
    metadata(py, &m)
}

#[pyfunction]
pub fn purge_expired_secrets(py: Python<'_>, ks: PyRef<'_, PyKeyStore>) -> PyResult<Vec<String>> {
    let ks = &ks.inner;
    call(py, true, || Ok(ks.purge_expired_secrets()?))
}

#[pyfunction]
#[pyo3(signature = (ks, length=32, *, exclude_characters=String::new(), exclude_numbers=false, exclude_punctuation=false, exclude_uppercase=false, exclude_lowercase=false, include_space=false, require_each_included_type=true))]
#[allow(clippy::too_many_arguments)]
pub fn random_password(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    length: usize,
    exclude_characters: String,
    exclude_numbers: bool,
    exclude_punctuation: bool,
    exclude_uppercase: bool,
    exclude_lowercase: bool,
    include_space: bool,
    require_each_included_type: bool,
) -> PyResult<String> {
    let spec = PasswordSpec {
        length,
        exclude_characters,
        exclude_numbers,
        exclude_punctuation,
        exclude_uppercase,
        exclude_lowercase,
        include_space,
        require_each_included_type,
    };
    let ks = &ks.inner;
    let v = call(py, true, || Ok(ks.get_random_password(&spec)?))?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// The Python rotator behind a rotation: `step(name, version_id,
/// current_version_id, pending)` of the adapter that `_keystore.py` makes
/// returns the new value (createSecret) or None. The first exception a step
/// raises is kept and raised to the caller of `rotate_secret` (with a note
/// naming the step); the core sees an `InvalidState` and stops.
struct PyRotator {
    adapter: Py<PyAny>,
    raised: Mutex<Option<(PyErr, RotationStep)>>,
}

impl PyRotator {
    fn step(
        &self,
        step: RotationStep,
        r: &SecretRotation<'_>,
        pending: Option<&SecretValue>,
    ) -> sealbox::Result<Option<SecretValue>> {
        Python::attach(|py| {
            let arg = pending.map(|v| from_value(py, v));
            let result = self
                .adapter
                .call_method1(
                    py,
                    "step",
                    (
                        step.as_str(),
                        r.secret_name,
                        r.version_id,
                        r.current_version_id,
                        arg,
                    ),
                )
                .and_then(|v| {
                    let v = v.bind(py);
                    if v.is_none() {
                        Ok(None)
                    } else {
                        to_value(py, v).map(Some)
                    }
                });
            result.map_err(|err| {
                let message = err.to_string();
                if let Ok(mut slot) = self.raised.lock() {
                    if slot.is_none() {
                        *slot = Some((err, step));
                    }
                }
                Error::InvalidState(format!("the rotator raised {message}"))
            })
        })
    }
}

impl SecretRotator for PyRotator {
    fn create_secret(&self, r: &SecretRotation<'_>) -> sealbox::Result<SecretValue> {
        self.step(RotationStep::CreateSecret, r, None)?
            .ok_or_else(|| Error::InvalidArgument("create_secret returned no value".into()))
    }
    fn set_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> sealbox::Result<()> {
        self.step(RotationStep::SetSecret, r, Some(pending))
            .map(|_| ())
    }
    fn test_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> sealbox::Result<()> {
        self.step(RotationStep::TestSecret, r, Some(pending))
            .map(|_| ())
    }
    fn finish_secret(&self, r: &SecretRotation<'_>) -> sealbox::Result<()> {
        self.step(RotationStep::FinishSecret, r, None).map(|_| ())
    }
}

/// (name, version_id, previous_version_id).
#[pyfunction]
pub fn secret_rotate(
    py: Python<'_>,
    ks: PyRef<'_, PyKeyStore>,
    name: &str,
    adapter: Py<PyAny>,
) -> PyResult<(String, String, String)> {
    let rotator = PyRotator {
        adapter,
        raised: Mutex::new(None),
    };
    let ks = &ks.inner;
    let r = call(py, true, || Ok(ks.rotate_secret(name, &rotator)?));
    match r {
        Ok(r) => Ok((r.name, r.version_id, r.previous_version_id)),
        Err(e) => {
            let raised = rotator.raised.lock().ok().and_then(|mut s| s.take());
            match raised {
                Some((err, step)) => {
                    let note = format!(
                        "sealbox: the rotation of secret {name} failed at {}; CURRENT is unchanged",
                        step.as_str()
                    );
                    let _ = err.value(py).call_method1("add_note", (note,));
                    Err(err)
                }
                None => Err(e),
            }
        }
    }
}
