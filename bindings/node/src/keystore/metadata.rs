//! Values handed to JS: key metadata, audit events and reports.

use std::collections::HashMap;

use napi::bindgen_prelude::*;

use crate::bytes::Buffer;
use napi::sys;
use napi_derive::napi;
use sealbox::keystore as ks;

/// A time from the core (Unix seconds) as a JS `Date`.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub i64);

impl ToNapiValue for Timestamp {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        // SAFETY: `env` is the live environment of this call.
        check_status!(unsafe { sys::napi_create_date(env, val.0 as f64 * 1000.0, &mut out) })?;
        Ok(out)
    }
}

impl TypeName for Timestamp {
    fn type_name() -> &'static str {
        "Date"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// One version of a key's material.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyVersion {
    /// 1, 2, ... in creation order.
    pub version: u32,
    /// When the version was made.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
}

/// Everything the key store knows about a key, except its material.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyMetadata {
    /// The key ID (a UUID).
    pub key_id: String,
    /// Aliases pointing at the key (`alias/...`).
    pub aliases: Vec<String>,
    /// Free text.
    pub description: String,
    /// Kind of key material.
    #[napi(
        ts_type = "'AES_256' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'HMAC_256' | 'HMAC_512'"
    )]
    pub key_spec: String,
    /// What the key may be used for.
    #[napi(ts_type = "'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC'")]
    pub key_usage: String,
    /// `SEALBOX` (generated) or `EXTERNAL` (imported).
    #[napi(ts_type = "'SEALBOX' | 'EXTERNAL'")]
    pub origin: String,
    /// Lifecycle state.
    #[napi(ts_type = "'Enabled' | 'Disabled' | 'PendingDeletion'")]
    pub key_state: String,
    /// When the material will be destroyed, for a key pending deletion.
    #[napi(ts_type = "Date")]
    pub deletion_date: Option<Timestamp>,
    /// When the key was created.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
    /// All versions, oldest first.
    pub versions: Vec<KeyVersion>,
    /// The version used for new encryptions and signatures.
    pub primary_version: u32,
    /// Automatic rotation period in days, if enabled.
    pub rotation_period_days: Option<u32>,
    /// When the next automatic rotation is due.
    #[napi(ts_type = "Date")]
    pub next_rotation_at: Option<Timestamp>,
    /// Which backend holds the material (`soft` or `pkcs11`).
    pub backend: String,
    /// Tags.
    pub tags: HashMap<String, String>,
}

impl From<ks::KeyMetadata> for KeyMetadata {
    fn from(m: ks::KeyMetadata) -> Self {
        let deletion_date = match m.state {
            ks::KeyState::PendingDeletion { deletion_date } => Some(Timestamp(deletion_date)),
            _ => None,
        };
        KeyMetadata {
            key_id: m.key_id,
            aliases: m.aliases,
            description: m.description,
            key_spec: m.key_spec.as_str().to_owned(),
            key_usage: m.key_usage.as_str().to_owned(),
            origin: m.origin.as_str().to_owned(),
            key_state: m.state.name().to_owned(),
            deletion_date,
            created_at: Timestamp(m.created_at),
            versions: m
                .versions
                .into_iter()
                .map(|v| KeyVersion {
                    version: v.version,
                    created_at: Timestamp(v.created_at),
                })
                .collect(),
            primary_version: m.primary_version,
            rotation_period_days: m.rotation_period_days,
            next_rotation_at: m.next_rotation_at.map(Timestamp),
            backend: m.backend,
            tags: m.tags.into_iter().collect(),
        }
    }
}

/// A page of `listKeys`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyList {
    /// The keys of this page, in key ID order.
    pub keys: Vec<KeyMetadata>,
    /// Pass as `marker` for the next page; absent on the last page.
    pub next_marker: Option<String>,
}

/// An alias and the key it points at.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AliasEntry {
    /// `alias/...`.
    pub alias_name: String,
    /// The key ID it names.
    pub key_id: String,
}

/// A data key from `generateDataKey`.
#[napi(object, object_from_js = false)]
pub struct DataKey {
    /// The plaintext data key: use it, then wipe it with `plaintext.fill(0)`.
    pub plaintext: Buffer,
    /// The data key encrypted under the key-store key; `decrypt` returns
    /// the plaintext again.
    pub ciphertext: Buffer,
    /// The key that encrypted it.
    pub key_id: String,
    /// The version that encrypted it.
    pub key_version: u32,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// The first problem `verifyAuditLog` found.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditProblem {
    /// 1-based line number in the log file.
    pub line: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// What `verifyAuditLog` found.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditReport {
    /// Whether the whole log verified.
    pub ok: bool,
    /// Records that verified.
    pub records: i64,
    /// The first edited, inserted, removed or reordered record, if any.
    pub first_error: Option<AuditProblem>,
}

impl From<sealbox::audit::AuditReport> for AuditReport {
    fn from(r: sealbox::audit::AuditReport) -> Self {
        AuditReport {
            ok: r.ok(),
            records: r.records as i64,
            first_error: r.first_error.map(|(line, reason)| AuditProblem {
                line: line as i64,
                reason,
            }),
        }
    }
}

/// One audited key-store operation, as the `onAudit` callback gets it.
/// Never carries plaintext or key material.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditEvent {
    /// RFC 3339 UTC time with milliseconds.
    pub time: String,
    /// The operation, named as in the AWS KMS API (`Encrypt`, `CreateKey`, ...).
    pub operation: String,
    /// The key, when the operation names one.
    pub key_id: Option<String>,
    /// The key version used, when one was.
    pub key_version: Option<u32>,
    /// Who asked (the key store's principal).
    pub principal: String,
    /// The encryption context of symmetric operations.
    pub encryption_context: Option<HashMap<String, String>>,
    /// `allowed` or `failed`.
    #[napi(ts_type = "'allowed' | 'failed'")]
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// A UUID per request.
    pub request_id: String,
}

impl From<&sealbox::audit::AuditEvent> for AuditEvent {
    fn from(e: &sealbox::audit::AuditEvent) -> Self {
        AuditEvent {
            time: e.time.clone(),
            operation: e.operation.clone(),
            key_id: e.key_id.clone(),
            key_version: e.key_version,
            principal: e.principal.clone(),
            encryption_context: e
                .encryption_context
                .as_ref()
                .map(|ec| ec.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            outcome: e.outcome.clone(),
            error: e.error.clone(),
            request_id: e.request_id.clone(),
        }
    }
}
