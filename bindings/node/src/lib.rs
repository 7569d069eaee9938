//! The Node package of sealbox: the same API as the Rust core, in
//! camelCase, built with napi-rs.
//!
//! Every expensive operation is one [`task::Job`] run two ways: on the
//! libuv thread pool behind a Promise or on the calling thread for the
//! `…Sync` form ([`task::twins!`] exports both). Both run inside one panic
//! boundary, so a bug in
//! sealbox becomes a JS exception, never an abort. Errors carry their stable
//! code (`ERR_SEALBOX_…`) as a `[CODE] ` prefix of the message, which the JS
//! layer (sealbox.js) moves into `error.code`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// napi-derive registers the exported functions and classes only outside
// `cfg(test)`, so in the unit-test build they look unused.
#![cfg_attr(test, allow(dead_code))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;

mod args;
mod bytes;
mod impls;
mod keyring;
mod keystore;
mod message;
mod task;

use task::Job;

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

/// Runs `f` behind the panic boundary.
pub(crate) fn guarded<T>(f: impl FnOnce() -> sealbox::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(js_error(e)),
        Err(p) => Err(panic_error(p)),
    }
}

/// Runs a JS-facing closure (that may fail with a JS error) behind the
/// panic boundary: for constructors, and for the checks that build a
/// [`Job`].
pub(crate) fn boundary<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(panic_error(p)),
    }
}

/// Panics inside the binding, for the test that a panic becomes an
/// exception (the C ABI has `sealbox_test_panic` for the same reason).
/// `asynchronous`: panic on the thread pool rather than the calling thread.
#[napi_derive::napi(ts_return_type = "Promise<void> | void")]
pub fn test_panic(asynchronous: bool) -> Result<Either<AsyncTask<Job<()>>, ()>> {
    #[allow(clippy::panic)]
    let job = Job::new(|| -> sealbox::Result<()> { panic!("test panic requested by testPanic()") });
    if asynchronous {
        Ok(Either::A(AsyncTask::new(job)))
    } else {
        job.run().map(Either::B)
    }
}
