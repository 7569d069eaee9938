//! How an expensive operation runs: as one [`Job`], exported twice, on the
//! libuv thread pool behind a Promise (`AsyncTask<Job<T>>`) or on the
//! calling thread for the `…Sync` form ([`Job::run`]). [`twins!`] writes
//! both exported methods from one declaration.

use napi::bindgen_prelude::*;
use napi::{JsObject, NapiValue};

use crate::{coded, guarded};

/// Self-contained work, run once, on whichever thread.
pub(crate) type Op<T> = Box<dyn FnOnce() -> sealbox::Result<T> + Send + 'static>;

/// Work over one input buffer that JS passed in.
pub(crate) type DataOp<T> = Box<dyn FnOnce(&[u8]) -> sealbox::Result<T> + Send + 'static>;

/// Inputs up to this size, with materials from memory alone (raw keyrings),
/// are worked on the calling thread in the Promise forms: a few
/// microseconds of work, where the hand-off to the libuv pool and back
/// costs tens. Anything that may do I/O (a key store, maybe an HSM) always
/// goes to the pool.
pub(crate) const INLINE_MAX: usize = 16 * 1024;

enum Work<T> {
    Alone(Op<T>),
    /// Reads [`Job::input`] in place.
    Over(DataOp<T>),
}

/// One operation as a napi task; its value is handed to JS as is.
///
/// Work over a large input does not copy it: the job holds the caller's
/// `Uint8Array` (a reference that keeps it alive, released on the JS
/// thread when the task is dropped) and the work reads it on the pool. As
/// with Node's own asynchronous APIs, the caller must not modify the
/// buffer until the Promise settles.
pub struct Job<T> {
    input: Option<Uint8Array>,
    work: Option<Work<T>>,
}

impl<T> Job<T> {
    /// A job of self-contained work.
    pub(crate) fn new(f: impl FnOnce() -> sealbox::Result<T> + Send + 'static) -> Self {
        Job {
            input: None,
            work: Some(Work::Alone(Box::new(f))),
        }
    }

    /// A job that reads `input` in place.
    pub(crate) fn over(input: Uint8Array, work: DataOp<T>) -> Self {
        Job {
            input: Some(input),
            work: Some(Work::Over(work)),
        }
    }

    /// Does the work now, behind the panic boundary (the `…Sync` form).
    pub(crate) fn run(mut self) -> Result<T> {
        self.work_once()
    }

    fn work_once(&mut self) -> Result<T> {
        match (self.work.take(), &self.input) {
            (Some(Work::Alone(f)), _) => guarded(f),
            (Some(Work::Over(f)), Some(input)) => guarded(|| f(input)),
            _ => Err(coded("ERR_SEALBOX_INVALID_STATE", "task already ran")),
        }
    }
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("input_len", &self.input.as_ref().map(|i| i.len()))
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
        self.work_once()
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// The Promise form of `job`: worked now when `inline`, else on the pool;
/// a Promise either way, rejected (never thrown) on failure.
pub(crate) fn promise<T>(env: Env, job: Job<T>, inline: bool) -> Result<JsObject>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    if inline {
        return settled(env, job.run());
    }
    env.spawn(job).map(|task| task.promise_object())
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

/// Exports each operation of a class twice from one declaration: `name`,
/// returning a Promise (the job runs on the libuv pool), and `nameSync`
/// (the job runs now). The body checks the arguments and returns the
/// `Job`; it runs inside the panic boundary, so a bad argument throws
/// from both forms alike.
///
/// Each entry: the Promise form's doc comment, `#[promise("Promise<T>")]`
/// (its TypeScript type: napi-derive cannot see through the generic
/// task), the `…Sync` form's doc comment, optionally
/// `#[ts_args("...")]` (both forms' TypeScript arguments), then
/// `fn name, name_sync(args) -> T { body }`. The macro writes the
/// `#[napi] impl` block itself, so napi-derive sees (and types) every
/// method as if written out.
///
/// Doc comments are written `#[doc = " ..."]`: a `///` comment passed
/// through a `macro_rules!` reaches napi-derive as a raw string, which it
/// copies into index.d.ts with its `r"`.
macro_rules! twins {
    (impl $class:ident { $(
        $(#[doc = $doc:tt])*
        #[promise($promise:tt)]
        $(#[doc = $sync_doc:tt])*
        $(#[ts_args($ts_args:tt)])?
        fn $name:ident, $sync:ident ($($params:tt)*) -> $out:ty $body:block
    )* }) => {
        #[napi_derive::napi]
        impl $class { $(
            $(#[doc = $doc])*
            #[napi(ts_return_type = $promise $(, ts_args_type = $ts_args)?)]
            pub fn $name($($params)*) -> napi::Result<
                napi::bindgen_prelude::AsyncTask<$crate::task::Job<$out>>,
            > {
                $crate::boundary(|| $body).map(napi::bindgen_prelude::AsyncTask::new)
            }

            $(#[doc = $sync_doc])*
            #[napi($(ts_args_type = $ts_args)?)]
            pub fn $sync($($params)*) -> napi::Result<$out> {
                $crate::boundary(|| $body).and_then($crate::task::Job::run)
            }
        )* }
    };
}
pub(crate) use twins;
