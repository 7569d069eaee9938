//! The one conversion from sealbox's errors (and panics) to the exception
//! classes declared in Python (`sealbox/exceptions.py`), and the one way
//! every call into the core is made: inside a panic boundary, with the GIL
//! released when asked.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use sealbox::{Error, ErrorKind};

/// Why a call into the core did not return a value.
pub(crate) enum Failure {
    /// The core said no.
    Core(Error),
    /// A bug: the core (or this crate) panicked. Caught here so that the
    /// interpreter survives and the caller gets a `sealbox.Panic`.
    Panic(String),
    /// A kind that only a surface raises (the C ABI's NULL pointer); the
    /// Python package never does, but the contract test walks every kind.
    Kind(ErrorKind),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

thread_local! {
    // The exception an audit callback raised on this thread: the key-store
    // operation fails with `AuditError`, and this becomes its `__cause__`.
    // The core runs the callback on the thread of the operation, so a
    // thread-local carries it from the callback to the conversion below.
    static AUDIT_CAUSE: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Remembers the exception of a failed audit callback (see `AUDIT_CAUSE`).
pub(crate) fn set_audit_cause(err: PyErr) {
    AUDIT_CAUSE.with(|c| *c.borrow_mut() = Some(err));
}

fn take_audit_cause() -> Option<PyErr> {
    AUDIT_CAUSE.with(|c| c.borrow_mut().take())
}

fn panic_message(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs `f` inside a panic boundary.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(Failure::Panic(panic_message(p))),
    }
}

/// Runs core work `f` inside a panic boundary, with the GIL released when
/// `release` is true, and converts its failure into the Python exception.
pub(crate) fn call<T, F>(py: Python<'_>, release: bool, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Failure> + Send,
{
    let r = if release {
        py.detach(|| guard(f))
    } else {
        guard(f)
    };
    r.map_err(|e| to_py_err(py, e))
}

/// The exception class `name` of `sealbox.exceptions`.
fn exception_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module =
        MODULE.get_or_try_init(py, || py.import("sealbox.exceptions").map(Bound::unbind))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
}

/// The extra attributes the exception of a core error carries. Its class
/// is the error's kind: `sealbox.exceptions.<ErrorKind::name()>`.
fn attributes(e: &Error) -> Vec<(&'static str, Attr)> {
    match e {
        Error::TooManyEncryptedDataKeys { max, found } => vec![
            ("max", Attr::Int(*max as u64)),
            ("found", Attr::Int(*found as u64)),
        ],
        Error::MessageTooLarge { max } => vec![("max", Attr::Int(*max))],
        Error::UnsupportedByHsm { mechanism } => {
            vec![("mechanism", Attr::Str(mechanism.clone()))]
        }
        Error::Pkcs11 { function, rv } => vec![
            ("function", Attr::Str(function.clone())),
            ("rv", Attr::Str(rv.clone())),
        ],
        // Every other kind is its class and message alone.
        _ => Vec::new(),
    }
}

enum Attr {
    Int(u64),
    Str(String),
}

fn build(
    py: Python<'_>,
    class: &str,
    message: String,
    attrs: Vec<(&str, Attr)>,
) -> PyResult<PyErr> {
    let cls = exception_class(py, class)?;
    let exc = cls.call1((message,))?;
    for (name, value) in attrs {
        match value {
            Attr::Int(v) => exc.setattr(name, v)?,
            Attr::Str(v) => exc.setattr(name, v)?,
        }
    }
    Ok(PyErr::from_value(exc))
}

/// The one conversion of a failure into the Python exception it raises.
pub(crate) fn to_py_err(py: Python<'_>, failure: Failure) -> PyErr {
    let r = match failure {
        Failure::Core(e) => {
            let is_audit = matches!(e, Error::Audit(_));
            build(py, e.kind().name(), e.to_string(), attributes(&e)).inspect(|err| {
                if is_audit {
                    if let Some(cause) = take_audit_cause() {
                        err.set_cause(py, Some(cause));
                    }
                }
            })
        }
        Failure::Kind(k) => build(py, k.name(), k.description().to_owned(), vec![]),
        Failure::Panic(m) => build(
            py,
            ErrorKind::Panic.name(),
            format!("internal error in sealbox (a bug, please report it): {m}"),
            vec![],
        ),
    };
    // Only if sealbox.exceptions itself cannot be imported.
    r.unwrap_or_else(|import_err| {
        let e = PyRuntimeError::new_err("sealbox.exceptions could not be loaded");
        e.set_cause(py, Some(import_err));
        e
    })
}

/// Converts a core result, for calls made with the GIL held.
pub(crate) fn check<T>(py: Python<'_>, r: sealbox::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_py_err(py, Failure::Core(e)))
}
