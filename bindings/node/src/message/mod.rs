//! Envelope encryption in the AWS Encryption SDK message format: one-shot
//! `encrypt`/`decrypt` here, the incremental `Encryptor`/`Decryptor` under
//! the JS Transform streams in [`stream`].

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::JsObject;
use napi_derive::napi;
use sealbox::cmm::MaterialsManager;
use sealbox::message::{self as msg, AlgorithmSuite, CommitmentPolicy};

use crate::args::{map, whole, whole_u32, Instance, StringMap, MAX_SAFE};
use crate::bytes::{spare, Buffer};
use crate::impls::debug_fields;
use crate::keyring::{materials, AnyKeyring, CachingMaterialsManager};
use crate::task::{promise, DataOp, Job, INLINE_MAX};
use crate::{boundary, invalid, js_error};
#[allow(unused_imports)]
use sealbox::keyring::Keyring as _;

/// Options of `encrypt` and `createEncryptStream`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct EncryptOptions {
    /// The keyring that makes and wraps the data key (or give
    /// `materialsManager`).
    #[napi(
        ts_type = "RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring"
    )]
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
    /// Plaintext bytes per frame (default 16384).
    pub frame_length: Option<f64>,
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`.
    #[napi(
        ts_type = "'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'FORBID_ENCRYPT_ALLOW_DECRYPT'"
    )]
    pub commitment_policy: Option<String>,
    /// Refuse to write more encrypted data keys than this (default 100;
    /// `Infinity`: no limit).
    pub max_encrypted_data_keys: Option<f64>,
    /// Streams only: the plaintext length, when known up front (lets a
    /// caching materials manager serve the stream).
    pub plaintext_length: Option<f64>,
    /// At most this many threads seal the frames of a large message
    /// (default: the machine's cores from 1 MiB; `1`: one thread). The
    /// message is the same byte for byte.
    pub threads: Option<f64>,
}

/// Options of `decrypt` and `createDecryptStream`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct DecryptOptions {
    /// The keyring that unwraps the data key (or give `materialsManager`).
    #[napi(
        ts_type = "RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring"
    )]
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
    /// Reject messages with more encrypted data keys than this (default 100;
    /// `Infinity`: no limit, for messages from a trusted source).
    pub max_encrypted_data_keys: Option<f64>,
    /// Reject messages whose plaintext exceeds this many bytes.
    pub max_body_size: Option<f64>,
    /// At most this many threads open the frames of a large message
    /// (default: the machine's cores from 1 MiB; `1`: one thread).
    pub threads: Option<f64>,
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

debug_fields!(DecryptResult {
    encryption_context,
    algorithm_suite
});

/// `threads`: absent for the default, else a whole number of at least 1.
fn parallelism(n: Option<f64>) -> Result<msg::Parallelism> {
    match n {
        None => Ok(msg::Parallelism::Auto),
        Some(n) => {
            msg::Parallelism::threads(whole("threads", n, 1, 1024)? as usize).map_err(js_error)
        }
    }
}

fn policy(p: Option<String>) -> Result<CommitmentPolicy> {
    p.map_or(Ok(CommitmentPolicy::default()), |p| {
        CommitmentPolicy::from_name(&p).map_err(js_error)
    })
}

/// `maxEncryptedDataKeys`: absent for the default, `Infinity` for no
/// limit, else a whole number of at least 1.
fn max_edks(n: Option<f64>) -> Result<msg::MaxEncryptedDataKeys> {
    match n {
        None => Ok(msg::MaxEncryptedDataKeys::default()),
        Some(n) if n == f64::INFINITY => Ok(msg::MaxEncryptedDataKeys::NoLimit),
        Some(n) => {
            msg::MaxEncryptedDataKeys::limit(
                whole("maxEncryptedDataKeys", n, 1, u16::MAX.into())? as usize
            )
            .map_err(js_error)
        }
    }
}

pub(crate) fn encrypt_args(
    o: EncryptOptions,
) -> Result<(Arc<dyn MaterialsManager>, msg::EncryptOptions)> {
    let cmm = materials(o.keyring, o.materials_manager)?;
    let mut opts = msg::EncryptOptions {
        encryption_context: map(o.encryption_context),
        required_encryption_context_keys: o.required_encryption_context_keys.unwrap_or_default(),
        commitment_policy: policy(o.commitment_policy)?,
        max_encrypted_data_keys: max_edks(o.max_encrypted_data_keys)?,
        parallelism: parallelism(o.threads)?,
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

pub(crate) fn decrypt_args(
    o: DecryptOptions,
) -> Result<(Arc<dyn MaterialsManager>, msg::DecryptOptions)> {
    let cmm = materials(o.keyring, o.materials_manager)?;
    let opts = msg::DecryptOptions {
        encryption_context: o.encryption_context.map(|ec| map(Some(ec))),
        commitment_policy: policy(o.commitment_policy)?,
        max_encrypted_data_keys: max_edks(o.max_encrypted_data_keys)?,
        max_body_size: match o.max_body_size {
            Some(n) => Some(whole("maxBodySize", n, 0, MAX_SAFE)?),
            None => None,
        },
        parallelism: parallelism(o.threads)?,
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
        let mut out = spare::take();
        msg::encrypt_append(pt, cmm.as_ref(), &opts, &mut out)?;
        Ok(Buffer::from(out))
    })
}

/// The work of one `decrypt`.
fn decrypt_op(cmm: Arc<dyn MaterialsManager>, opts: msg::DecryptOptions) -> DataOp<DecryptResult> {
    Box::new(move |ct: &[u8]| {
        // Buffer::secret wipes the plaintext once JS has its copy, on
        // success; decrypt_append leaves nothing of it on failure.
        let mut plaintext = spare::take();
        let (suite, context) = msg::decrypt_append(
            ct,
            // JavaScript (or another worker) may write the Buffer meanwhile.
            msg::InputMemory::MayChange,
            cmm.as_ref(),
            &opts,
            &mut plaintext,
        )?;
        Ok(DecryptResult {
            algorithm_suite: u32::from(suite.id()),
            encryption_context: context.into_iter().collect(),
            plaintext: Buffer::secret(plaintext),
        })
    })
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
            return into_buffer::encrypt(env, plaintext, cmm.as_ref(), &opts);
        }
        // Small with materials from memory: worked at once; else the pool.
        promise(env, Job::over(plaintext, encrypt_op(cmm, opts)), in_memory)
    })
}

/// `encrypt`, blocking.
#[napi]
pub fn encrypt_sync(plaintext: Uint8Array, options: EncryptOptions) -> Result<Buffer> {
    boundary(|| {
        let (cmm, opts) = one_shot_encrypt_args(options)?;
        Job::over(plaintext, encrypt_op(cmm, opts)).run()
    })
}

/// Decrypts one complete message, on the libuv thread pool. Any failure
/// to authenticate is `ERR_SEALBOX_DECRYPTION_FAILED`.
/// Small messages with a raw keyring are worked at once (see `INLINE_MAX`).
#[napi(ts_return_type = "Promise<DecryptResult>")]
pub fn decrypt(env: Env, ciphertext: Uint8Array, options: DecryptOptions) -> Result<JsObject> {
    boundary(|| {
        let (cmm, opts) = decrypt_args(options)?;
        if ciphertext.len() > INLINE_MAX {
            // Large: straight into the Buffer the Promise resolves with,
            // when the message's structure gives the plaintext's length
            // within the caller's limit (else the general path reports
            // what is wrong).
            // (An empty plaintext: V8 may give no memory for an empty
            // Buffer; the general path serves it.)
            let len = msg::plaintext_len(&ciphertext, opts.max_encrypted_data_keys)
                .filter(|&n| n > 0 && opts.max_body_size.is_none_or(|max| n as u64 <= max));
            if let Some(len) = len {
                return into_buffer::decrypt(env, ciphertext, cmm, opts, len);
            }
        }
        let inline = cmm.is_in_memory() && ciphertext.len() <= INLINE_MAX;
        promise(env, Job::over(ciphertext, decrypt_op(cmm, opts)), inline)
    })
}

/// `decrypt`, blocking.
#[napi]
pub fn decrypt_sync(ciphertext: Uint8Array, options: DecryptOptions) -> Result<DecryptResult> {
    boundary(|| {
        let (cmm, opts) = decrypt_args(options)?;
        Job::over(ciphertext, decrypt_op(cmm, opts)).run()
    })
}

/// Options of `rewrap`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct RewrapOptions {
    /// The keyring that unwraps the message's data key (or give
    /// `decryptMaterialsManager`).
    #[napi(
        ts_type = "RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring"
    )]
    pub decrypt_with: Option<AnyKeyring>,
    /// A caching materials manager that opens the message (instead of
    /// `decryptWith`).
    #[napi(ts_type = "CachingMaterialsManager")]
    pub decrypt_materials_manager: Option<Instance<CachingMaterialsManager>>,
    /// The keyring that wraps the data key again: only its keys open the
    /// result (a `MultiKeyring` without a generator wraps with every child).
    #[napi(
        ts_type = "RawAesKeyring | RawRsaKeyring | RawEcdhKeyring | PqKeyring | MultiKeyring | KeyStoreKeyring"
    )]
    pub encrypt_with: AnyKeyring,
    /// The context the message must hold (as for `decrypt`).
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT` (committing suites only).
    #[napi(
        ts_type = "'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'FORBID_ENCRYPT_ALLOW_DECRYPT'"
    )]
    pub commitment_policy: Option<String>,
    /// Limits the encrypted data keys of the message read and of the one
    /// written (default 100; `Infinity`: no limit).
    pub max_encrypted_data_keys: Option<f64>,
    /// Reject messages whose plaintext exceeds this many bytes.
    pub max_body_size: Option<f64>,
}

/// The work of one `rewrap`, and whether both sides work in memory alone.
fn rewrap_op(o: RewrapOptions) -> Result<(DataOp<Buffer>, bool)> {
    let encrypt_with = o.encrypt_with.0;
    let limit = max_edks(o.max_encrypted_data_keys)?;
    let (cmm, decrypt) = decrypt_args(DecryptOptions {
        keyring: o.decrypt_with,
        materials_manager: o.decrypt_materials_manager,
        encryption_context: o.encryption_context,
        commitment_policy: o.commitment_policy,
        max_encrypted_data_keys: o.max_encrypted_data_keys,
        max_body_size: o.max_body_size,
        threads: None,
    })?;
    let in_memory = cmm.is_in_memory() && encrypt_with.is_in_memory();
    let opts = msg::RewrapOptions {
        decrypt,
        max_encrypted_data_keys: limit,
    };
    let work: DataOp<Buffer> = Box::new(move |m: &[u8]| {
        let mut out = spare::take();
        msg::rewrap_append(m, cmm.as_ref(), encrypt_with.as_ref(), &opts, &mut out)?;
        Ok(Buffer::from(out))
    });
    Ok((work, in_memory))
}

/// Gives a message new encrypted data keys without re-encrypting its body:
/// the data key is unwrapped with `decryptWith` and wrapped again by
/// `encryptWith`; the header is rewritten and authenticated again, the body
/// copied unchanged (signed suites are signed again after their old
/// signature verified). On the libuv thread pool; the result decrypts with
/// the AWS Encryption SDKs that hold the new keys.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn rewrap(env: Env, message: Uint8Array, options: RewrapOptions) -> Result<JsObject> {
    boundary(|| {
        let (work, in_memory) = rewrap_op(options)?;
        let inline = in_memory && message.len() <= INLINE_MAX;
        promise(env, Job::over(message, work), inline)
    })
}

/// `rewrap`, blocking.
#[napi]
pub fn rewrap_sync(message: Uint8Array, options: RewrapOptions) -> Result<Buffer> {
    boundary(|| {
        let (work, _) = rewrap_op(options)?;
        Job::over(message, work).run()
    })
}

// After the one-shot functions: napi-derive lists exports in the order it
// meets them, and index.js has always listed these classes last.
mod into_buffer;
mod stream;
