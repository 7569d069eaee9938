//! The Promise form of a large `encrypt` whose materials come from memory
//! (raw keyrings, and multi/caching managers over them): the pool thread
//! writes the message straight into a `Buffer` that V8 allocated, at its
//! exact length, on the calling thread.
//!
//! The general path ([`promise`]) builds the message in a Rust `Vec` on
//! the pool and copies it into V8's memory when the Promise settles: for
//! 1 MiB, a copy of memory last written by another core, made on the one
//! thread that runs all of the application's JavaScript (`make bench-node`
//! measured it at more than half of the Promise's cost). Here the calling
//! thread only gets the materials (no I/O: microseconds), allocates the
//! `Buffer` and later resolves the Promise with it. For suites with a
//! signature that means an ECDSA P-384 key pair made on the calling thread
//! (~50 µs; the signature itself is made on the pool).
//!
//! Key-store keyrings may do I/O to get materials: they stay on the
//! general path. (Not to be confused with the key store's own `encrypt`,
//! which encrypts at most 4096 bytes directly under a master key.)
//!
//! The Promise form of a large `decrypt` does the same the other way: the
//! calling thread reads the plaintext's exact length from the message's
//! structure (`sealbox::message::plaintext_len`: the header and each
//! frame's length, nothing decrypted), allocates the `Buffer`, and the
//! pool thread gets the data key and decrypts straight into it (any
//! materials manager: all of its work, I/O included, is on the pool).

use std::sync::Arc;

use napi::bindgen_prelude::{check_status, Result, ToNapiValue, Uint8Array};
use napi::{sys, Env, JsObject, Task};
use sealbox::cmm::MaterialsManager;
use sealbox::message as msg;

use super::DecryptResult;

use crate::bytes::{spare, Buffer};
use crate::impls::js_object_type;
use crate::task::{promise, settled, DataOp, Job};
use crate::{coded, guarded};

/// Starts `encrypt` of `input` with materials from memory; a Promise of
/// the message, rejected (never thrown) on failure.
pub(crate) fn encrypt(
    env: Env,
    input: Uint8Array,
    cmm: &dyn MaterialsManager,
    opts: &msg::EncryptOptions,
) -> Result<JsObject> {
    let mut encryptor = match guarded(|| msg::Encryptor::new(cmm, opts)) {
        Ok(e) => Box::new(e),
        Err(e) => return settled::<Buffer>(env, Err(e)),
    };
    let Some(len) = encryptor.exact_message_len(input.len()) else {
        // Not known ahead (more frames than the format numbers: the
        // encryptor refuses them): through a Vec as on the general path.
        let work: DataOp<Buffer> = Box::new(move |pt: &[u8]| {
            let mut out = spare::take();
            encryptor.encrypt_all_append(pt, &mut out)?;
            Ok(Buffer::from(out))
        });
        return promise(env, Job::over(input, work), false);
    };
    let out = JsOutput::new(env, len)?;
    env.spawn(EncryptInto {
        input,
        encryptor: Some(encryptor),
        out,
    })
    .map(|task| task.promise_object())
}

/// A `Buffer` that V8 allocated and that no JavaScript has seen yet, kept
/// alive by a reference until the task ends.
struct JsOutput {
    data: *mut u8,
    len: usize,
    reference: sys::napi_ref,
}

// SAFETY: the pool thread only writes through `data` (see
// `EncryptInto::compute`); `reference` is used and released on the JS
// thread alone, in `resolve` and `finally`.
unsafe impl Send for JsOutput {}

impl JsOutput {
    fn new(env: Env, len: usize) -> Result<Self> {
        let raw = env.raw();
        let mut data = std::ptr::null_mut();
        let mut value = std::ptr::null_mut();
        let mut reference = std::ptr::null_mut();
        // SAFETY: `raw` is the live env of this call; napi fills the out
        // pointers on success. The reference (count 1) keeps the Buffer,
        // and so its memory, alive until `release`.
        unsafe {
            check_status!(sys::napi_create_buffer(raw, len, &mut data, &mut value))?;
            check_status!(sys::napi_create_reference(raw, value, 1, &mut reference))?;
        }
        if data.is_null() {
            // SAFETY: as above.
            unsafe { sys::napi_delete_reference(raw, reference) };
            return Err(coded(
                "ERR_SEALBOX_INTERNAL",
                "V8 gave no memory for the Buffer",
            ));
        }
        Ok(JsOutput {
            data: data.cast(),
            len,
            reference,
        })
    }

    /// The Buffer, for the Promise to resolve with.
    fn value(&self, env: Env) -> Result<sys::napi_value> {
        let mut value = std::ptr::null_mut();
        // SAFETY: the reference is alive (released only in `finally`).
        check_status!(unsafe {
            sys::napi_get_reference_value(env.raw(), self.reference, &mut value)
        })?;
        Ok(value)
    }

    fn release(&mut self, env: Env) {
        if !self.reference.is_null() {
            // SAFETY: the reference was made in this env and is deleted once.
            unsafe { sys::napi_delete_reference(env.raw(), self.reference) };
            self.reference = std::ptr::null_mut();
        }
    }
}

/// The pool's part of [`encrypt`].
struct EncryptInto {
    input: Uint8Array,
    encryptor: Option<Box<msg::Encryptor>>,
    out: JsOutput,
}

/// The `Buffer` a finished [`EncryptInto`] resolves with.
struct Message(sys::napi_value);

impl ToNapiValue for Message {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

js_object_type!(Message => "Buffer");

impl Task for EncryptInto {
    type Output = ();
    type JsValue = Message;

    fn compute(&mut self) -> Result<()> {
        let Some(mut encryptor) = self.encryptor.take() else {
            return Err(coded("ERR_SEALBOX_INVALID_STATE", "task already ran"));
        };
        let input: &[u8] = &self.input;
        // SAFETY: `data` and `len` describe the memory of the Buffer made
        // in `JsOutput::new`, which the reference keeps alive until
        // `finally`; no JavaScript has the Buffer before `resolve`, so this
        // is the only access to that memory meanwhile.
        // Viewed as possibly uninitialized: napi does not promise zeroed
        // memory, and every byte is written (zeros on failure).
        let out = unsafe { std::slice::from_raw_parts_mut(self.out.data.cast(), self.out.len) };
        // On failure the Buffer holds no plaintext and is never handed out.
        guarded(|| encryptor.encrypt_all_into_uninit(input, out))
    }

    fn resolve(&mut self, env: Env, _: ()) -> Result<Message> {
        self.out.value(env).map(Message)
    }

    fn finally(&mut self, env: Env) -> Result<()> {
        self.out.release(env);
        Ok(())
    }
}

/// Starts `decrypt` of `input`, whose plaintext is `len` bytes (from
/// `msg::plaintext_len`), into a `Buffer` of that length; a Promise of the
/// `DecryptResult`, rejected (never thrown) on failure.
pub(crate) fn decrypt(
    env: Env,
    input: Uint8Array,
    cmm: Arc<dyn MaterialsManager>,
    opts: msg::DecryptOptions,
    len: usize,
) -> Result<JsObject> {
    // A Buffer V8 cannot give is a rejection, as every failure here.
    let out = match JsOutput::new(env, len) {
        Ok(out) => out,
        Err(e) => return settled::<Decrypted>(env, Err(e)),
    };
    env.spawn(DecryptInto {
        input,
        cmm,
        opts,
        out,
    })
    .map(|task| task.promise_object())
}

/// The pool's part of [`decrypt`].
struct DecryptInto {
    input: Uint8Array,
    cmm: Arc<dyn MaterialsManager>,
    opts: msg::DecryptOptions,
    out: JsOutput,
}

/// The `DecryptResult` object a finished [`DecryptInto`] resolves with.
struct Decrypted(sys::napi_value);

impl ToNapiValue for Decrypted {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

js_object_type!(Decrypted => "DecryptResult");

impl Task for DecryptInto {
    type Output = (msg::AlgorithmSuite, msg::EncryptionContext);
    type JsValue = Decrypted;

    fn compute(&mut self) -> Result<Self::Output> {
        let input: &[u8] = &self.input;
        // SAFETY: as in `EncryptInto::compute`: the Buffer's memory, kept
        // alive by the reference, seen by no JavaScript before `resolve`.
        // Possibly uninitialized, as there.
        let out = unsafe { std::slice::from_raw_parts_mut(self.out.data.cast(), self.out.len) };
        // On failure `decrypt_into_uninit` leaves the Buffer zeroed, and it
        // is never handed out.
        // JavaScript runs meanwhile and may write the input Buffer.
        guarded(|| {
            msg::decrypt_into_uninit(
                input,
                msg::InputMemory::MayChange,
                self.cmm.as_ref(),
                &self.opts,
                out,
            )
        })
    }

    fn resolve(&mut self, env: Env, (suite, context): Self::Output) -> Result<Decrypted> {
        let raw = env.raw();
        let plaintext = self.out.value(env)?;
        // The object as `decryptSync` makes it, then its `plaintext` set to
        // the Buffer written in place (the placeholder is empty).
        let result = DecryptResult {
            plaintext: Buffer::from(Vec::new()),
            encryption_context: context.into_iter().collect(),
            algorithm_suite: u32::from(suite.id()),
        };
        // SAFETY: `raw` is the live env of this callback.
        let object = unsafe { DecryptResult::to_napi_value(raw, result) }?;
        // SAFETY: `object` is the object just made; the name is a C string.
        check_status!(unsafe {
            sys::napi_set_named_property(raw, object, c"plaintext".as_ptr(), plaintext)
        })?;
        Ok(Decrypted(object))
    }

    fn finally(&mut self, env: Env) -> Result<()> {
        self.out.release(env);
        Ok(())
    }
}
