//! What the key store says about its keys: metadata, pages of keys,
//! aliases, and the `Date`s in them.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use sealbox::keystore as ks;

use crate::impls::js_object_type;

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

js_object_type!(Timestamp => "Date");

/// One version of a key's material.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyVersion {
    /// 1, 2, ... in creation order.
    pub version: u32,
    /// When the version was made.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
    /// Imported material: when it expires.
    #[napi(ts_type = "Date")]
    pub valid_to: Option<Timestamp>,
    /// Whether the material is there (false once imported material expired
    /// and was purged, or was deleted, until it is imported again).
    pub material_present: bool,
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
        ts_type = "'AES_256' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1' | 'ECC_NIST_EDWARDS25519' | 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512' | 'ML_DSA_44' | 'ML_DSA_65' | 'ML_DSA_87'"
    )]
    pub key_spec: String,
    /// What the key may be used for.
    #[napi(
        ts_type = "'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT'"
    )]
    pub key_usage: String,
    /// `SEALBOX` (generated) or `EXTERNAL` (imported).
    #[napi(ts_type = "'SEALBOX' | 'EXTERNAL'")]
    pub origin: String,
    /// Lifecycle state.
    #[napi(ts_type = "'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport'")]
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
    /// Imported keys: the earliest expiration of their material (AWS KMS's
    /// ValidTo).
    #[napi(ts_type = "Date")]
    pub valid_to: Option<Timestamp>,
}

impl From<ks::KeyMetadata> for KeyMetadata {
    fn from(m: ks::KeyMetadata) -> Self {
        let deletion_date = match m.key_state {
            ks::KeyState::PendingDeletion { deletion_date } => Some(Timestamp(deletion_date)),
            _ => None,
        };
        KeyMetadata {
            key_id: m.key_id.into(),
            aliases: m.aliases,
            description: m.description,
            key_spec: m.key_spec.as_str().to_owned(),
            key_usage: m.key_usage.as_str().to_owned(),
            origin: m.origin.as_str().to_owned(),
            key_state: m.key_state.name().to_owned(),
            deletion_date,
            created_at: Timestamp(m.created_at),
            versions: m
                .versions
                .into_iter()
                .map(|v| KeyVersion {
                    version: v.version,
                    created_at: Timestamp(v.created_at),
                    valid_to: v.valid_to.map(Timestamp),
                    material_present: v.material_present,
                })
                .collect(),
            primary_version: m.primary_version,
            rotation_period_days: m.rotation_period_days,
            next_rotation_at: m.next_rotation_at.map(Timestamp),
            backend: m.backend,
            tags: m.tags.into_iter().collect(),
            valid_to: m.valid_to.map(Timestamp),
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
