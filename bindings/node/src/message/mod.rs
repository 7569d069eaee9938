//! Envelope encryption in the AWS Encryption SDK message format: one-shot
//! `encrypt`/`decrypt` and the incremental `Encryptor`/`Decryptor` under
//! the JS Transform streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;

use crate::bytes::Buffer;
use napi_derive::napi;
use sealbox::cmm::MaterialsManager;
use sealbox::message::{self as msg, AlgorithmSuite, CommitmentPolicy};
use zeroize::Zeroize;

use crate::args::{map, whole, whole_u32, Instance, StringMap};
use crate::keyring::{materials, AnyKeyring, CachingMaterialsManager};
use crate::{
    boundary, coded, guarded, invalid, js_error, op, promise_with, spawn, spawn_with, DataJob,
    DataOp, Job, INLINE_MAX,
};
use napi::JsObject;

/// Options of `encrypt` and `createEncryptStream`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct EncryptOptions {
    /// The keyring that makes and wraps the data key (or give
    /// `materialsManager`).
    #[napi(ts_type = "RawAesKeyring | RawRsaKeyring | MultiKeyring | KeyStoreKeyring")]
    pub keyring: Option<AnyKeyring>,
    /// A caching materials manager (instead of `keyring`).
    #[napi(ts_type = "CachingMaterialsManager")]
    pub materials_manager: Option<Instance<CachingMaterialsManager>>,
    /// Authenticated, unencrypted context stored in the message.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// Keys of the context to authenticate but not store: the decrypting
    /// party must supply their values.
    pub required_encryption_context_keys: Option<Vec<String>>,
    /// The algorithm suite ID, e.g. `0x0478` (default) or `0x0578` (with an
    /// ECDSA P-384 signature).
    pub algorithm_suite: Option<f64>,
    /// Plaintext bytes per frame (default 4096).
    pub frame_length: Option<f64>,
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`.
    #[napi(
        ts_type = "'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'FORBID_ENCRYPT_ALLOW_DECRYPT'"
    )]
    pub commitment_policy: Option<String>,
    /// Refuse to write more encrypted data keys than this (default 100).
    pub max_encrypted_data_keys: Option<f64>,
    /// Streams only: the plaintext length, when known up front (lets a
    /// caching materials manager serve the stream).
    pub plaintext_length: Option<f64>,
}

/// Options of `decrypt` and `createDecryptStream`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct DecryptOptions {
    /// The keyring that unwraps the data key (or give `materialsManager`).
    #[napi(ts_type = "RawAesKeyring | RawRsaKeyring | MultiKeyring | KeyStoreKeyring")]
    pub keyring: Option<AnyKeyring>,
    /// A caching materials manager (instead of `keyring`).
    #[napi(ts_type = "CachingMaterialsManager")]
    pub materials_manager: Option<Instance<CachingMaterialsManager>>,
    /// The context the caller expects: every pair must be in the message
    /// (pairs authenticated but not stored are supplied from here).
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT` (committing suites only).
    #[napi(
        ts_type = "'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'FORBID_ENCRYPT_ALLOW_DECRYPT'"
    )]
    pub commitment_policy: Option<String>,
    /// Reject messages with more encrypted data keys than this (default 100).
    pub max_encrypted_data_keys: Option<f64>,
    /// Reject messages whose plaintext exceeds this many bytes.
    pub max_body_size: Option<f64>,
}

/// What `decrypt` returns.
#[napi(object, object_from_js = false)]
pub struct DecryptResult {
    /// The authenticated plaintext.
    pub plaintext: Buffer,
    /// The message's full encryption context.
    pub encryption_context: HashMap<String, String>,
    /// The suite the message was written with (e.g. `0x0478`).
    pub algorithm_suite: u32,
}

impl std::fmt::Debug for DecryptResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptResult")
            .field("encryption_context", &self.encryption_context)
            .field("algorithm_suite", &self.algorithm_suite)
            .finish_non_exhaustive()
    }
}

const MAX_SAFE: u64 = (1 << 53) - 1;

fn policy(p: Option<String>) -> Result<CommitmentPolicy> {
    p.map_or(Ok(CommitmentPolicy::default()), |p| {
        CommitmentPolicy::from_name(&p).map_err(js_error)
    })
}

fn max_edks(n: Option<f64>) -> Result<Option<usize>> {
    Ok(match n {
        Some(n) => Some(whole("maxEncryptedDataKeys", n, 1, u16::MAX.into())? as usize),
        None => Some(msg::DEFAULT_MAX_ENCRYPTED_DATA_KEYS),
    })
}

fn encrypt_args(o: EncryptOptions) -> Result<(Arc<dyn MaterialsManager>, msg::EncryptOptions)> {
    let cmm = materials(o.keyring, o.materials_manager)?;
    let mut opts = msg::EncryptOptions {
        encryption_context: map(o.encryption_context),
        required_encryption_context_keys: o.required_encryption_context_keys.unwrap_or_default(),
        commitment_policy: policy(o.commitment_policy)?,
        max_encrypted_data_keys: max_edks(o.max_encrypted_data_keys)?,
        ..Default::default()
    };
    if let Some(id) = o.algorithm_suite {
        let id = whole_u32("algorithmSuite", id, 0, u16::MAX.into())? as u16;
        opts.suite = Some(
            AlgorithmSuite::from_id(id)
                .ok_or_else(|| invalid(format!("unknown algorithm suite {id:#06x}")))?,
        );
    }
    if let Some(n) = o.frame_length {
        opts.frame_length = whole_u32("frameLength", n, 1, u32::MAX)?;
    }
    if let Some(n) = o.plaintext_length {
        opts.plaintext_length = Some(whole("plaintextLength", n, 0, MAX_SAFE)?);
    }
    Ok((cmm, opts))
}

fn decrypt_args(o: DecryptOptions) -> Result<(Arc<dyn MaterialsManager>, msg::DecryptOptions)> {
    let cmm = materials(o.keyring, o.materials_manager)?;
    let opts = msg::DecryptOptions {
        encryption_context: o.encryption_context.map(|ec| map(Some(ec))),
        commitment_policy: policy(o.commitment_policy)?,
        max_encrypted_data_keys: max_edks(o.max_encrypted_data_keys)?,
        max_body_size: match o.max_body_size {
            Some(n) => Some(whole("maxBodySize", n, 0, MAX_SAFE)?),
            None => None,
        },
    };
    Ok((cmm, opts))
}

/// The materials manager and options of one `encrypt`.
fn one_shot_encrypt_args(
    options: EncryptOptions,
) -> Result<(Arc<dyn MaterialsManager>, msg::EncryptOptions)> {
    if options.plaintext_length.is_some() {
        return Err(invalid(
            "plaintextLength is for streams; encrypt knows the length",
        ));
    }
    encrypt_args(options)
}

/// The work of one `encrypt`.
fn encrypt_op(cmm: Arc<dyn MaterialsManager>, opts: msg::EncryptOptions) -> DataOp<Buffer> {
    Box::new(move |pt: &[u8]| {
        let mut out = crate::bytes::spare::take();
        msg::encrypt_append(pt, cmm.as_ref(), &opts, &mut out)?;
        Ok(Buffer::from(out))
    })
}

/// The work of one `decrypt`, and whether its materials come from memory
/// alone.
fn decrypt_op(options: DecryptOptions) -> Result<(DataOp<DecryptResult>, bool)> {
    let (cmm, opts) = decrypt_args(options)?;
    let in_memory = cmm.is_in_memory();
    let work: DataOp<DecryptResult> = Box::new(move |ct: &[u8]| {
        // Buffer::secret wipes the plaintext once JS has its copy, on
        // success; decrypt_append leaves nothing of it on failure.
        let mut plaintext = crate::bytes::spare::take();
        let (suite, context) = msg::decrypt_append(ct, cmm.as_ref(), &opts, &mut plaintext)?;
        Ok(DecryptResult {
            algorithm_suite: u32::from(suite.id()),
            encryption_context: context.into_iter().collect(),
            plaintext: Buffer::secret(plaintext),
        })
    });
    Ok((work, in_memory))
}

/// Encrypts `plaintext` into one message (AWS Encryption SDK format), on
/// the libuv thread pool. Do not modify `plaintext` until the Promise
/// settles.
/// Small inputs with a raw keyring are worked at once (see `INLINE_MAX`).
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn encrypt(env: Env, plaintext: Uint8Array, options: EncryptOptions) -> Result<JsObject> {
    boundary(|| {
        let (cmm, opts) = one_shot_encrypt_args(options)?;
        let in_memory = cmm.is_in_memory();
        if in_memory && plaintext.len() > INLINE_MAX {
            return crate::direct::encrypt(env, plaintext, cmm.as_ref(), &opts);
        }
        // Small with materials from memory: worked at once; else the pool.
        promise_with(env, plaintext, encrypt_op(cmm, opts), in_memory)
    })
}

/// `encrypt`, blocking.
#[napi]
pub fn encrypt_sync(plaintext: Uint8Array, options: EncryptOptions) -> Result<Buffer> {
    boundary(|| {
        let (cmm, opts) = one_shot_encrypt_args(options)?;
        guarded(|| encrypt_op(cmm, opts)(&plaintext))
    })
}

/// Decrypts one complete message, on the libuv thread pool. Any failure
/// to authenticate is `ERR_SEALBOX_DECRYPTION_FAILED`.
/// Small messages with a raw keyring are worked at once (see `INLINE_MAX`).
#[napi(ts_return_type = "Promise<DecryptResult>")]
pub fn decrypt(env: Env, ciphertext: Uint8Array, options: DecryptOptions) -> Result<JsObject> {
    boundary(|| {
        let (work, in_memory) = decrypt_op(options)?;
        let inline = in_memory && ciphertext.len() <= INLINE_MAX;
        promise_with(env, ciphertext, work, inline)
    })
}

/// `decrypt`, blocking.
#[napi]
pub fn decrypt_sync(ciphertext: Uint8Array, options: DecryptOptions) -> Result<DecryptResult> {
    boundary(|| {
        let (work, _) = decrypt_op(options)?;
        guarded(|| work(&ciphertext))
    })
}

// ------------------------------------------------------------ streams --

enum EncState {
    /// Materials are fetched with the first chunk (it may take an HSM
    /// call), on the thread pool like the rest.
    Pending(Arc<dyn MaterialsManager>, Box<msg::EncryptOptions>),
    Open(Box<msg::Encryptor>),
    Done,
}

fn busy() -> napi::Error {
    coded(
        "ERR_SEALBOX_INVALID_STATE",
        "another call on this stream is still running: await it first",
    )
}

/// The incremental encryptor under `createEncryptStream`: feed plaintext
/// with `update`, get ciphertext; `finish` once. Memory stays bounded by
/// the frame length whatever the message size.
#[napi]
pub struct Encryptor {
    state: Arc<Mutex<EncState>>,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Encryptor(..)")
    }
}

fn encrypt_step(state: &Mutex<EncState>, chunk: Option<&[u8]>) -> sealbox::Result<Buffer> {
    let mut st = state
        .try_lock()
        .map_err(|_| sealbox::Error::InvalidState("concurrent call on one stream".into()))?;
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
        return Err(sealbox::Error::InvalidState(
            "the stream is already finished".into(),
        ));
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

impl Encryptor {
    fn check_idle(&self) -> Result<()> {
        // The JS stream never overlaps calls; a direct user of this class
        // who does gets an error instead of a wait.
        self.state.try_lock().map(|_| ()).map_err(|_| busy())
    }
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

    /// Encrypts a chunk on the thread pool; resolves to the ciphertext that
    /// is complete so far (maybe empty).
    /// Do not modify `chunk` until the Promise settles.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn update(&self, chunk: Uint8Array) -> Result<AsyncTask<DataJob<Buffer>>> {
        self.check_idle()?;
        let state = self.state.clone();
        Ok(spawn_with(
            chunk,
            Box::new(move |c: &[u8]| encrypt_step(&state, Some(c))),
        ))
    }

    /// `update`, blocking.
    #[napi]
    pub fn update_sync(&self, chunk: Uint8Array) -> Result<Buffer> {
        self.check_idle()?;
        guarded(|| encrypt_step(&self.state, Some(&chunk)))
    }

    /// Writes the final frame (and the signature of signed suites).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn finish(&self) -> Result<AsyncTask<Job<Buffer>>> {
        self.check_idle()?;
        let state = self.state.clone();
        Ok(spawn(op(move || encrypt_step(&state, None))))
    }

    /// `finish`, blocking.
    #[napi]
    pub fn finish_sync(&self) -> Result<Buffer> {
        self.check_idle()?;
        guarded(|| encrypt_step(&self.state, None))
    }
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

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decryptor(..)")
    }
}

fn decrypt_step(state: &Mutex<DecState>, chunk: Option<&[u8]>) -> sealbox::Result<Buffer> {
    let mut st = state
        .try_lock()
        .map_err(|_| sealbox::Error::InvalidState("concurrent call on one stream".into()))?;
    let dec = st
        .dec
        .as_mut()
        .ok_or_else(|| sealbox::Error::InvalidState("the stream is already finished".into()))?;
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

impl Decryptor {
    fn check_idle(&self) -> Result<()> {
        self.state.try_lock().map(|_| ()).map_err(|_| busy())
    }
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

    /// Decrypts a chunk of ciphertext on the thread pool; resolves to the
    /// plaintext authenticated so far (maybe empty).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn update(&self, chunk: Uint8Array) -> Result<AsyncTask<DataJob<Buffer>>> {
        self.check_idle()?;
        let state = self.state.clone();
        Ok(spawn_with(
            chunk,
            Box::new(move |c: &[u8]| decrypt_step(&state, Some(c))),
        ))
    }

    /// `update`, blocking.
    #[napi]
    pub fn update_sync(&self, chunk: Uint8Array) -> Result<Buffer> {
        self.check_idle()?;
        guarded(|| decrypt_step(&self.state, Some(&chunk)))
    }

    /// Declares the end of the ciphertext: resolves to the held-back
    /// plaintext, or fails if the message is incomplete.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn finish(&self) -> Result<AsyncTask<Job<Buffer>>> {
        self.check_idle()?;
        let state = self.state.clone();
        Ok(spawn(op(move || decrypt_step(&state, None))))
    }

    /// `finish`, blocking.
    #[napi]
    pub fn finish_sync(&self) -> Result<Buffer> {
        self.check_idle()?;
        guarded(|| decrypt_step(&self.state, None))
    }

    /// The message's encryption context once its header is authenticated;
    /// `null` before.
    #[napi(getter)]
    pub fn encryption_context(&self) -> Option<HashMap<String, String>> {
        self.context.lock().ok().and_then(|c| c.clone())
    }
}
