//! The Node package of sealbox: the same API as the Rust core, in
//! camelCase, built with napi-rs.
//!
//! Every expensive operation is one closure run two ways: on the libuv
//! thread pool behind a Promise ([`spawn`]) or on the calling thread for the
//! `…Sync` form ([`run`]). Both run inside one panic boundary, so a bug in
//! sealbox becomes a JS exception, never an abort. Errors carry their stable
//! code (`ERR_SEALBOX_…`) as a `[CODE] ` prefix of the message, which the JS
//! layer (sealbox.js) moves into `error.code`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// napi-derive registers the exported functions and classes only outside
// `cfg(test)`, so in the unit-test build they look unused.
#![cfg_attr(test, allow(dead_code))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi::{JsObject, NapiValue};

mod args;
mod bytes;
mod direct;
mod keyring;
mod keystore;
mod message;
mod values;

/// The stable code of each core error, as the JS `error.code`.
pub(crate) fn error_code(e: &sealbox::Error) -> &'static str {
    use sealbox::Error as E;
    match e {
        E::DecryptionFailed => "ERR_SEALBOX_DECRYPTION_FAILED",
        E::InvalidArgument(_) => "ERR_SEALBOX_INVALID_ARGUMENT",
        E::InvalidKey(_) => "ERR_SEALBOX_INVALID_KEY",
        E::CommitmentPolicyViolation(_) => "ERR_SEALBOX_COMMITMENT_POLICY_VIOLATION",
        E::TooManyEncryptedDataKeys { .. } => "ERR_SEALBOX_TOO_MANY_ENCRYPTED_DATA_KEYS",
        E::MessageTooLarge { .. } => "ERR_SEALBOX_MESSAGE_TOO_LARGE",
        E::EncryptFailed(_) => "ERR_SEALBOX_ENCRYPT_FAILED",
        E::InvalidState(_) => "ERR_SEALBOX_INVALID_STATE",
        E::Rng => "ERR_SEALBOX_RNG",
        E::Io(_) => "ERR_SEALBOX_IO",
        E::KeyNotFound(_) => "ERR_SEALBOX_KEY_NOT_FOUND",
        E::KeyDisabled(_) => "ERR_SEALBOX_KEY_DISABLED",
        E::InvalidKeyState(_) => "ERR_SEALBOX_INVALID_KEY_STATE",
        E::InvalidKeyUsage(_) => "ERR_SEALBOX_INVALID_KEY_USAGE",
        E::AlreadyExists(_) => "ERR_SEALBOX_ALREADY_EXISTS",
        E::WrongRootKey => "ERR_SEALBOX_WRONG_ROOT_KEY",
        E::Storage(_) => "ERR_SEALBOX_STORAGE",
        E::Audit(_) => "ERR_SEALBOX_AUDIT",
        E::Unsupported(_) => "ERR_SEALBOX_UNSUPPORTED",
        E::UnsupportedByHsm { .. } => "ERR_SEALBOX_UNSUPPORTED_BY_HSM",
        E::Pkcs11 { .. } => "ERR_SEALBOX_PKCS11",
        // The enum is non-exhaustive: a variant added to the core later
        // still gets a code until it gets its own.
        _ => "ERR_SEALBOX_INTERNAL",
    }
}

/// A core error as a JS error (code in the message prefix).
pub(crate) fn js_error(e: sealbox::Error) -> napi::Error {
    coded(error_code(&e), &e.to_string())
}

/// A JS error with the given code.
pub(crate) fn coded(code: &str, message: &str) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("[{code}] {message}"))
}

/// An argument the binding itself rejects.
pub(crate) fn invalid(message: impl std::fmt::Display) -> napi::Error {
    coded("ERR_SEALBOX_INVALID_ARGUMENT", &message.to_string())
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> napi::Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    coded(
        "ERR_SEALBOX_PANIC",
        &format!("internal error in sealbox (a bug; please report it): {what}"),
    )
}

/// One unit of work, run once, on whichever thread.
pub(crate) type Op<T> = Box<dyn FnOnce() -> sealbox::Result<T> + Send + 'static>;

/// Wraps a closure as an [`Op`].
pub(crate) fn op<T>(f: impl FnOnce() -> sealbox::Result<T> + Send + 'static) -> Op<T> {
    Box::new(f)
}

/// Runs `f` behind the panic boundary.
pub(crate) fn guarded<T>(f: impl FnOnce() -> sealbox::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(js_error(e)),
        Err(p) => Err(panic_error(p)),
    }
}

/// Runs a JS-facing closure (that may fail with a JS error) behind the
/// panic boundary: for constructors and other calls that do no core work
/// through an [`Op`].
pub(crate) fn boundary<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(panic_error(p)),
    }
}

/// The `…Sync` form: runs the work now, on the calling thread.
pub(crate) fn run<T>(work: Op<T>) -> Result<T> {
    guarded(work)
}

/// The Promise form: runs the work on the libuv thread pool.
pub(crate) fn spawn<T>(work: Op<T>) -> AsyncTask<Job<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    AsyncTask::new(Job { work: Some(work) })
}

/// An [`Op`] as a napi task; its value is handed to JS as is.
pub struct Job<T> {
    work: Option<Op<T>>,
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("pending", &self.work.is_some())
            .finish()
    }
}

impl<T> Task for Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        match self.work.take() {
            Some(work) => guarded(work),
            None => Err(coded("ERR_SEALBOX_INVALID_STATE", "task already ran")),
        }
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// Work over one input buffer that JS passed in.
pub(crate) type DataOp<T> = Box<dyn FnOnce(&[u8]) -> sealbox::Result<T> + Send + 'static>;

/// The Promise form of work over a large input, without copying it: the
/// task holds the caller's `Uint8Array` (a reference that keeps it alive,
/// released on the JS thread when the task completes) and the work reads
/// it on the thread pool. As with Node's own asynchronous APIs, the caller
/// must not modify the buffer until the Promise settles.
pub(crate) fn spawn_with<T>(input: Uint8Array, work: DataOp<T>) -> AsyncTask<DataJob<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    AsyncTask::new(DataJob {
        input,
        work: Some(work),
    })
}

/// Inputs up to this size, with materials from memory alone (raw keyrings),
/// are worked on the calling thread in the Promise forms: a few
/// microseconds of work, where the hand-off to the libuv pool and back
/// costs tens. Anything that may do I/O (a key store, maybe an HSM) always
/// goes to the pool.
pub(crate) const INLINE_MAX: usize = 16 * 1024;

/// The Promise form of a [`DataOp`]: worked now when `inline`, else on the
/// pool; a Promise either way, rejected (never thrown) on failure.
pub(crate) fn promise_with<T>(
    env: Env,
    input: Uint8Array,
    work: DataOp<T>,
    inline: bool,
) -> Result<JsObject>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    if !inline {
        return env
            .spawn(DataJob {
                input,
                work: Some(work),
            })
            .map(|task| task.promise_object());
    }
    settled(env, guarded(|| work(&input)))
}

/// A Promise already settled with `result`: resolved with its value, or
/// rejected with its error (never thrown).
pub(crate) fn settled<T: ToNapiValue>(env: Env, result: Result<T>) -> Result<JsObject> {
    let raw = env.raw();
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    // SAFETY: `raw` is the live env of this call; napi fills both out
    // pointers on success.
    check_status!(unsafe { napi::sys::napi_create_promise(raw, &mut deferred, &mut promise) })?;
    // SAFETY: as above; `deferred` is settled exactly once, here.
    let value = result.and_then(|v| unsafe { T::to_napi_value(raw, v) });
    match value {
        Ok(v) => check_status!(unsafe { napi::sys::napi_resolve_deferred(raw, deferred, v) })?,
        Err(e) => {
            // SAFETY: as above.
            let error = unsafe { napi::JsError::from(e).into_value(raw) };
            check_status!(unsafe { napi::sys::napi_reject_deferred(raw, deferred, error) })?
        }
    }
    // SAFETY: `promise` is the object napi_create_promise made in `raw`.
    Ok(unsafe { JsObject::from_raw_unchecked(raw, promise) })
}

/// A [`DataOp`] with its input, as a napi task.
pub struct DataJob<T> {
    input: Uint8Array,
    work: Option<DataOp<T>>,
}

impl<T> std::fmt::Debug for DataJob<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataJob")
            .field("input_len", &self.input.len())
            .field("pending", &self.work.is_some())
            .finish()
    }
}

impl<T> Task for DataJob<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let input: &[u8] = &self.input;
        match self.work.take() {
            Some(work) => guarded(|| work(input)),
            None => Err(coded("ERR_SEALBOX_INVALID_STATE", "task already ran")),
        }
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// Panics inside the binding, for the test that a panic becomes an
/// exception (the C ABI has `sealbox_test_panic` for the same reason).
/// `asynchronous`: panic on the thread pool rather than the calling thread.
#[napi_derive::napi(ts_return_type = "Promise<void> | void")]
pub fn test_panic(asynchronous: bool) -> Result<Either<AsyncTask<Job<()>>, ()>> {
    #[allow(clippy::panic)]
    let work = op(|| -> sealbox::Result<()> { panic!("test panic requested by testPanic()") });
    if asynchronous {
        Ok(Either::A(spawn(work)))
    } else {
        run(work).map(Either::B)
    }
}
