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

/// A core error as a JS error (code in the message prefix).
pub(crate) fn js_error(e: sealbox::Error) -> napi::Error {
    coded(&e.kind().node_code(), &e.to_string())
}

/// A JS error with the given code.
pub(crate) fn coded(code: &str, message: &str) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("[{code}] {message}"))
}

/// An argument the binding itself rejects.
pub(crate) fn invalid(message: impl std::fmt::Display) -> napi::Error {
    coded(
        &sealbox::ErrorKind::InvalidArgument.node_code(),
        &message.to_string(),
    )
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> napi::Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    coded(
        &sealbox::ErrorKind::Panic.node_code(),
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

/// One kind of the core's errors (`sealbox::ErrorKind`): its stable number,
/// its name and the `error.code` this package gives it.
#[napi_derive::napi(object)]
#[derive(Debug)]
pub struct ErrorKindInfo {
    /// The stable number (the C ABI's result code).
    pub code: u32,
    /// The stable name (the Python exception class).
    pub name: String,
    /// `ERR_SEALBOX_…`, the `code` of a JS error of this kind.
    pub node_code: String,
}

/// Every error kind of the core, for tools and the contract test.
#[napi_derive::napi]
pub fn error_kinds() -> Vec<ErrorKindInfo> {
    sealbox::ErrorKind::ALL
        .iter()
        .map(|k| ErrorKindInfo {
            code: k.code(),
            name: k.name().to_owned(),
            node_code: k.node_code(),
        })
        .collect()
}

/// What this build of sealbox is: its version (the one version of every
/// sealbox package), its crypto provider and whether that provider runs in
/// FIPS mode. `sealbox --version` prints the same.
#[napi_derive::napi(object)]
#[derive(Debug)]
pub struct BuildInfo {
    /// The package version, e.g. `0.1.0`.
    pub version: String,
    /// The compiled-in crypto provider: `aws-lc`, `aws-lc (FIPS)` or
    /// `rustcrypto`.
    pub crypto_provider: String,
    /// Whether the provider runs in its FIPS 140-3 mode now.
    pub fips_mode: bool,
}

/// The version, crypto provider and FIPS mode of this build.
#[napi_derive::napi]
pub fn build_info() -> BuildInfo {
    let info = sealbox::build_info();
    BuildInfo {
        version: info.version.to_owned(),
        crypto_provider: info.crypto_provider.to_owned(),
        fips_mode: info.fips_mode,
    }
}

/// Throws, through the one conversion, the error of a representative core
/// error of kind `code` (the contract test walks every kind with it).
#[napi_derive::napi]
pub fn test_throw_kind(code: u32) -> Result<()> {
    let kind = sealbox::ErrorKind::from_code(code)
        .ok_or_else(|| invalid(format!("no error kind {code}")))?;
    match sealbox::Error::example_of(kind) {
        Some(e) => guarded(|| Err(e)),
        #[allow(clippy::panic)]
        None if kind == sealbox::ErrorKind::Panic => {
            guarded(|| -> sealbox::Result<()> { panic!("test panic") })
        }
        None => Err(coded(&kind.node_code(), kind.description())),
    }
}
