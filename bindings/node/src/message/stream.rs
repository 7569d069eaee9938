//! The incremental `Encryptor` and `Decryptor` under the JS Transform
//! streams (`createEncryptStream`, `createDecryptStream`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sealbox::message as msg;
use zeroize::Zeroize;

use super::{decrypt_args, encrypt_args, DecryptOptions, EncryptOptions};
use crate::bytes::Buffer;
use crate::impls::debug_opaque;
use crate::task::{twins, Job};
use crate::{boundary, coded};

/// One step of a stream: a chunk (`update`) or the end (`finish`).
type Step<S> = fn(&Mutex<S>, Option<&[u8]>) -> sealbox::Result<Buffer>;

/// The job of one step over the stream's `state`. The JS stream never
/// overlaps calls; a direct user of these classes who does gets an error
/// instead of a wait.
fn step_job<S: Send + 'static>(
    state: &Arc<Mutex<S>>,
    chunk: Option<Uint8Array>,
    step: Step<S>,
) -> Result<Job<Buffer>> {
    if state.try_lock().is_err() {
        return Err(coded(
            "ERR_SEALBOX_INVALID_STATE",
            "another call on this stream is still running: await it first",
        ));
    }
    let state = state.clone();
    Ok(match chunk {
        Some(c) => Job::over(c, Box::new(move |c: &[u8]| step(&state, Some(c)))),
        None => Job::new(move || step(&state, None)),
    })
}

/// Locks a stream's state for one step (never waits: see [`step_job`]).
fn lock<S>(state: &Mutex<S>) -> sealbox::Result<std::sync::MutexGuard<'_, S>> {
    state
        .try_lock()
        .map_err(|_| sealbox::Error::InvalidState("concurrent call on one stream".into()))
}

fn finished() -> sealbox::Error {
    sealbox::Error::InvalidState("the stream is already finished".into())
}

/// `update`, `finish` and their `…Sync` forms of a stream class, over its
/// step function; the doc comments of the Promise forms are the class's.
macro_rules! stream_methods {
    (
        $class:ident, $step:ident,
        update: $(#[doc = $update_doc:tt])*
        finish: $(#[doc = $finish_doc:tt])*
    ) => {
        twins! {
            impl $class {
                $(#[doc = $update_doc])*
                #[promise("Promise<Buffer>")]
                #[doc = " `update`, blocking."]
                fn update, update_sync(&self, chunk: Uint8Array) -> Buffer {
                    step_job(&self.state, Some(chunk), $step)
                }

                $(#[doc = $finish_doc])*
                #[promise("Promise<Buffer>")]
                #[doc = " `finish`, blocking."]
                fn finish, finish_sync(&self) -> Buffer {
                    step_job(&self.state, None, $step)
                }
            }
        }
    };
}

enum EncState {
    /// Materials are fetched with the first chunk (it may take an HSM
    /// call), on the thread pool like the rest.
    Pending(
        Arc<dyn sealbox::cmm::MaterialsManager>,
        Box<msg::EncryptOptions>,
    ),
    Open(Box<msg::Encryptor>),
    Done,
}

/// The incremental encryptor under `createEncryptStream`: feed plaintext
/// with `update`, get ciphertext; `finish` once. Memory stays bounded by
/// the frame length whatever the message size.
#[napi]
pub struct Encryptor {
    state: Arc<Mutex<EncState>>,
}

fn encrypt_step(state: &Mutex<EncState>, chunk: Option<&[u8]>) -> sealbox::Result<Buffer> {
    let mut st = lock(state)?;
    if let EncState::Pending(cmm, opts) = &*st {
        let enc = msg::Encryptor::new(cmm.as_ref(), opts);
        match enc {
            Ok(e) => *st = EncState::Open(Box::new(e)),
            Err(e) => {
                *st = EncState::Done;
                return Err(e);
            }
        }
    }
    let EncState::Open(enc) = &mut *st else {
        return Err(finished());
    };
    let mut out = Vec::new();
    match chunk {
        Some(c) => enc.update(c, &mut out)?,
        None => {
            let r = enc.finish(&mut out);
            *st = EncState::Done;
            r?
        }
    }
    Ok(Buffer::from(out))
}

#[napi]
impl Encryptor {
    /// Prepares a message; nothing is done until the first `update`.
    #[napi(constructor)]
    pub fn new(options: EncryptOptions) -> Result<Self> {
        boundary(|| {
            let (cmm, opts) = encrypt_args(options)?;
            Ok(Encryptor {
                state: Arc::new(Mutex::new(EncState::Pending(cmm, Box::new(opts)))),
            })
        })
    }
}

stream_methods! {
    Encryptor, encrypt_step,
    update:
    #[doc = " Encrypts a chunk on the thread pool; resolves to the ciphertext that"]
    #[doc = " is complete so far (maybe empty)."]
    #[doc = " Do not modify `chunk` until the Promise settles."]
    finish:
    #[doc = " Writes the final frame (and the signature of signed suites)."]
}

struct DecState {
    dec: Option<msg::Decryptor>,
    /// Kept apart from the decryptor so that JS can read it while a chunk
    /// is being decrypted.
    context: Arc<Mutex<Option<HashMap<String, String>>>>,
}

/// The incremental decryptor under `createDecryptStream`. It releases only
/// authenticated plaintext, holds back the final frame of signed suites
/// until the signature verified, and fails `finish` on a truncated message.
#[napi]
pub struct Decryptor {
    state: Arc<Mutex<DecState>>,
    context: Arc<Mutex<Option<HashMap<String, String>>>>,
}

debug_opaque!(Encryptor, Decryptor);

fn decrypt_step(state: &Mutex<DecState>, chunk: Option<&[u8]>) -> sealbox::Result<Buffer> {
    let mut st = lock(state)?;
    let dec = st.dec.as_mut().ok_or_else(finished)?;
    let mut out = Vec::new();
    let r = match chunk {
        Some(c) => dec.update(c, &mut out),
        None => dec.finish(&mut out),
    };
    if let Err(e) = r {
        out.zeroize();
        st.dec = None;
        return Err(e);
    }
    let ec: Option<HashMap<String, String>> = dec
        .encryption_context()
        .map(|ec| ec.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    if chunk.is_none() {
        st.dec = None;
    }
    if let (Some(ec), Ok(mut slot)) = (ec, st.context.lock()) {
        if slot.is_none() {
            *slot = Some(ec);
        }
    }
    Ok(Buffer::secret(out))
}

#[napi]
impl Decryptor {
    /// Prepares to decrypt one message.
    #[napi(constructor)]
    pub fn new(options: DecryptOptions) -> Result<Self> {
        boundary(|| {
            let (cmm, opts) = decrypt_args(options)?;
            let context = Arc::new(Mutex::new(None));
            Ok(Decryptor {
                state: Arc::new(Mutex::new(DecState {
                    dec: Some(msg::Decryptor::new(cmm, opts)),
                    context: context.clone(),
                })),
                context,
            })
        })
    }
}

stream_methods! {
    Decryptor, decrypt_step,
    update:
    #[doc = " Decrypts a chunk of ciphertext on the thread pool; resolves to the"]
    #[doc = " plaintext authenticated so far (maybe empty)."]
    finish:
    #[doc = " Declares the end of the ciphertext: resolves to the held-back"]
    #[doc = " plaintext, or fails if the message is incomplete."]
}

#[napi]
impl Decryptor {
    /// The message's encryption context once its header is authenticated;
    /// `null` before.
    #[napi(getter)]
    pub fn encryption_context(&self) -> Option<HashMap<String, String>> {
        self.context.lock().ok().and_then(|c| c.clone())
    }
}
