//! Secrets (issue 21), with the operations of AWS Secrets Manager: values
//! sealed under a key-store key, versions with staging labels (`CURRENT`,
//! `PENDING`, `PREVIOUS` and the caller's own), deletion with a recovery
//! window, and the four-step rotation. Text values cross as `string`,
//! binary ones as `Buffer`; the Rust copies are wiped once JS has its own.
//!
//! Rotation runs the application's JS steps, so it runs on the JS thread:
//! only `rotateSecretSync` exists, and its steps must be synchronous (a
//! step that returns a Promise is refused: nothing would wait for it).

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi::{sys, Env, JsFunction, JsObject, JsUnknown, NapiRaw, ValueType};
use napi_derive::napi;
use sealbox::keystore::{self as ks, SecretRotation, SecretRotator};
use zeroize::{Zeroize, Zeroizing};

use super::metadata::Timestamp;
use super::KeyStore;
use crate::args::{map, whole, whole_u32, StringMap};
use crate::bytes::Buffer;
use crate::impls::{debug_fields, js_object_type};
use crate::task::{twins, Job};
use crate::{invalid, js_error};

/// Secret text on its way to JS as a `string`; the Rust copy is wiped.
pub struct SecretText(String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(..)")
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ToNapiValue for SecretText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        // SAFETY: `env` is the live environment of this call; the pointer
        // and length describe `val`'s UTF-8 bytes, which V8 copies.
        check_status!(unsafe {
            sys::napi_create_string_utf8(env, val.0.as_ptr().cast(), val.0.len(), &mut out)
        })?;
        Ok(out)
    }
}

js_object_type!(SecretText => "string");

/// A value from the core: text as a `string`, binary as a `Buffer`.
fn js_value(v: &ks::SecretValue) -> Either<SecretText, Buffer> {
    match v.as_str() {
        Some(t) => Either::A(SecretText(t.to_owned())),
        None => Either::B(Buffer::secret_copy(v.as_bytes())),
    }
}

/// A value from JS: a `string` is a text secret, bytes a binary one.
fn core_value(value: Either<String, Uint8Array>) -> Result<ks::SecretValue> {
    match value {
        Either::A(s) => {
            let s = Zeroizing::new(s);
            ks::SecretValue::text(&s).map_err(js_error)
        }
        Either::B(b) => {
            let bytes = Zeroizing::new(b.to_vec());
            ks::SecretValue::binary(&bytes).map_err(js_error)
        }
    }
}

/// Options of `createSecret`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct CreateSecretOptions {
    /// The key-store key (ID or alias) the values are sealed under;
    /// default `alias/sealbox/secrets` (created on first use).
    pub key_id: Option<String>,
    /// Free text (at most 2048 characters).
    pub description: Option<String>,
    /// Tags (at most 50).
    #[napi(ts_type = "Record<string, string>")]
    pub tags: Option<StringMap>,
    /// The first version's ID (idempotency: 32..=64 characters of
    /// `A-Z a-z 0-9 - _`); default a new UUID.
    pub client_request_token: Option<String>,
}

/// Options of `getSecretValue`: the version by ID or by staging label
/// (default `CURRENT`); given both, the version must carry the label.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct GetSecretValueOptions {
    /// A staging label (`CURRENT`, `PENDING`, `PREVIOUS` or your own).
    pub version_stage: Option<String>,
    /// A version ID.
    pub version_id: Option<String>,
}

/// Options of `putSecretValue`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct PutSecretValueOptions {
    /// The new version's staging labels; default `['CURRENT']` (the
    /// version that loses CURRENT becomes PREVIOUS).
    pub version_stages: Option<Vec<String>>,
    /// The version ID (idempotency: the same token and value change
    /// nothing; another value is refused).
    pub client_request_token: Option<String>,
}

/// Options of `updateSecretVersionStage`: at least one of them.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct UpdateSecretVersionStageOptions {
    /// The version that gets the label.
    pub move_to_version_id: Option<String>,
    /// The version that holds it now (required when it is held).
    pub remove_from_version_id: Option<String>,
}

/// Options of `listSecrets`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ListSecretsOptions {
    /// Secrets per page, 1..=100 (default 100).
    pub limit: Option<f64>,
    /// `nextMarker` of the previous page.
    pub marker: Option<String>,
    /// Also the secrets scheduled for deletion.
    pub include_planned_deletion: Option<bool>,
}

/// Options of `listSecretVersionIds`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ListSecretVersionIdsOptions {
    /// Also the versions without a staging label.
    pub include_deprecated: Option<bool>,
}

/// Options of `deleteSecret`: a recovery window, or a forced deletion.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct DeleteSecretOptions {
    /// 7..=30 days (default 30) during which `restoreSecret` brings it back.
    pub recovery_window_days: Option<f64>,
    /// Deletes it now and for good.
    pub force_delete_without_recovery: Option<bool>,
}

/// What `getRandomPassword` makes (defaults: 32 characters of every class
/// but space, at least one of each).
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct PasswordSpec {
    /// 1..=4096 (default 32).
    pub password_length: Option<f64>,
    /// Characters never used.
    pub exclude_characters: Option<String>,
    /// No digits.
    pub exclude_numbers: Option<bool>,
    /// No punctuation.
    pub exclude_punctuation: Option<bool>,
    /// No upper-case letters.
    pub exclude_uppercase: Option<bool>,
    /// No lower-case letters.
    pub exclude_lowercase: Option<bool>,
    /// Also the space character.
    pub include_space: Option<bool>,
    /// At least one character of each class included (default true).
    pub require_each_included_type: Option<bool>,
}

/// A version written by `createSecret` or `putSecretValue`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SecretVersionRef {
    /// The secret's name.
    pub name: String,
    /// The version's ID (empty when `createSecret` was given no value).
    pub version_id: String,
    /// Its staging labels after the call.
    pub version_stages: Vec<String>,
}

impl From<ks::SecretVersionRef> for SecretVersionRef {
    fn from(r: ks::SecretVersionRef) -> Self {
        SecretVersionRef {
            name: r.name,
            version_id: r.version_id,
            version_stages: r.version_stages,
        }
    }
}

/// A secret's value (`getSecretValue`).
#[napi(object, object_from_js = false)]
pub struct SecretValueEntry {
    /// The secret's name.
    pub name: String,
    /// The version read.
    pub version_id: String,
    /// Its staging labels.
    pub version_stages: Vec<String>,
    /// The value: a `string` for a text secret, a `Buffer` for a binary one
    /// (wipe it with `fill(0)` after use).
    #[napi(ts_type = "string | Buffer")]
    pub value: Either<SecretText, Buffer>,
    /// When the version was created.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
}

debug_fields!(SecretValueEntry {
    name,
    version_id,
    version_stages
});

/// One version of a secret (never its value).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SecretVersionInfo {
    /// The version ID.
    pub version_id: String,
    /// Its staging labels (none: deprecated).
    pub version_stages: Vec<String>,
    /// When it was created.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
    /// Whether the value is binary.
    pub binary: bool,
    /// The key-store key ID its value is sealed under.
    pub key_id: String,
}

impl From<ks::SecretVersionInfo> for SecretVersionInfo {
    fn from(v: ks::SecretVersionInfo) -> Self {
        SecretVersionInfo {
            version_id: v.version_id,
            version_stages: v.version_stages,
            created_at: Timestamp(v.created_at),
            binary: v.binary,
            key_id: v.key_id,
        }
    }
}

/// What `describeSecret` tells (never a value).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SecretMetadata {
    /// The name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The key new versions are sealed under, as named at creation.
    pub key_id: String,
    /// Tags.
    pub tags: HashMap<String, String>,
    /// When it was created.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
    /// When it last changed.
    #[napi(ts_type = "Date")]
    pub last_changed_at: Timestamp,
    /// When a rotation last finished.
    #[napi(ts_type = "Date")]
    pub last_rotated_at: Option<Timestamp>,
    /// When its deletion was requested.
    #[napi(ts_type = "Date")]
    pub deleted_date: Option<Timestamp>,
    /// When it will be purged.
    #[napi(ts_type = "Date")]
    pub deletion_date: Option<Timestamp>,
    /// The versions that carry staging labels, with their labels.
    pub version_ids_to_stages: HashMap<String, Vec<String>>,
}

impl From<ks::SecretMetadata> for SecretMetadata {
    fn from(m: ks::SecretMetadata) -> Self {
        SecretMetadata {
            name: m.name,
            description: m.description,
            key_id: m.key_id,
            tags: m.tags.into_iter().collect(),
            created_at: Timestamp(m.created_at),
            last_changed_at: Timestamp(m.last_changed_at),
            last_rotated_at: m.last_rotated_at.map(Timestamp),
            deleted_date: m.deleted_date.map(Timestamp),
            deletion_date: m.deletion_date.map(Timestamp),
            version_ids_to_stages: m.version_ids_to_stages.into_iter().collect(),
        }
    }
}

/// A page of `listSecrets`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SecretList {
    /// The secrets of this page, by name.
    pub secrets: Vec<SecretMetadata>,
    /// Pass as `marker` for the next page; absent on the last page.
    pub next_marker: Option<String>,
}

/// What `rotateSecretSync` did.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct RotateSecretResult {
    /// The secret's name.
    pub name: String,
    /// The new CURRENT version.
    pub version_id: String,
    /// The version that is now PREVIOUS.
    pub previous_version_id: String,
}

fn password_spec(spec: Option<PasswordSpec>) -> Result<ks::PasswordSpec> {
    let d = ks::PasswordSpec::default();
    let Some(s) = spec else { return Ok(d) };
    Ok(ks::PasswordSpec {
        length: match s.password_length {
            Some(n) => whole("passwordLength", n, 1, 4096)? as usize,
            None => d.length,
        },
        exclude_characters: s.exclude_characters.unwrap_or_default(),
        exclude_numbers: s.exclude_numbers.unwrap_or(d.exclude_numbers),
        exclude_punctuation: s.exclude_punctuation.unwrap_or(d.exclude_punctuation),
        exclude_uppercase: s.exclude_uppercase.unwrap_or(d.exclude_uppercase),
        exclude_lowercase: s.exclude_lowercase.unwrap_or(d.exclude_lowercase),
        include_space: s.include_space.unwrap_or(d.include_space),
        require_each_included_type: s
            .require_each_included_type
            .unwrap_or(d.require_each_included_type),
    })
}

/// Options of `updateSecret`: at least one.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct UpdateSecretOptions {
    /// A new description (at most 2048 characters).
    pub description: Option<String>,
    /// The key new versions are sealed under (ID or alias).
    pub key_id: Option<String>,
}

twins! {
    impl KeyStore {
        #[doc = " CreateSecret: a new secret and its first version (labelled CURRENT)"]
        #[doc = " when `value` is given: a `string` is a text secret, a `Buffer` a"]
        #[doc = " binary one, 1..=65536 bytes. `ERR_SEALBOX_ALREADY_EXISTS` when the"]
        #[doc = " name is taken; `ERR_SEALBOX_KEY_DISABLED` when the key is disabled."]
        #[promise("Promise<SecretVersionRef>")]
        #[doc = " CreateSecret, blocking."]
        #[ts_args("name: string, value?: string | Uint8Array | undefined | null, options?: CreateSecretOptions | undefined | null")]
        fn create_secret, create_secret_sync(
            &self,
            name: String,
            value: Option<Either<String, Uint8Array>>,
            options: Option<CreateSecretOptions>,
        ) -> SecretVersionRef {
            let value = value.map(core_value).transpose()?;
            let o = options.map_or_else(ks::CreateSecretOptions::default, |o| {
                ks::CreateSecretOptions {
                    key_id: o.key_id,
                    description: o.description.unwrap_or_default(),
                    tags: map(o.tags),
                    client_request_token: o.client_request_token,
                }
            });
            let k = self.ks();
            Ok(Job::new(move || {
                k.create_secret(&name, value.as_ref(), &o).map(Into::into)
            }))
        }

        #[doc = " GetSecretValue: the CURRENT version, or the one `versionStage` or"]
        #[doc = " `versionId` names. `ERR_SEALBOX_KEY_NOT_FOUND` for a missing secret,"]
        #[doc = " version or label; `ERR_SEALBOX_INVALID_KEY_STATE` for a secret"]
        #[doc = " scheduled for deletion."]
        #[promise("Promise<SecretValueEntry>")]
        #[doc = " GetSecretValue, blocking."]
        fn get_secret_value, get_secret_value_sync(
            &self,
            name: String,
            options: Option<GetSecretValueOptions>,
        ) -> SecretValueEntry {
            let (stage, id) = options.map_or((None, None), |o| (o.version_stage, o.version_id));
            let k = self.ks();
            Ok(Job::new(move || {
                let e = k.get_secret_value(&name, id.as_deref(), stage.as_deref())?;
                Ok(SecretValueEntry {
                    value: js_value(&e.value),
                    name: e.name,
                    version_id: e.version_id,
                    version_stages: e.version_stages,
                    created_at: Timestamp(e.created_at),
                })
            }))
        }

        #[doc = " PutSecretValue: a new version, labelled `versionStages` (default"]
        #[doc = " CURRENT: the old CURRENT becomes PREVIOUS)."]
        #[promise("Promise<SecretVersionRef>")]
        #[doc = " PutSecretValue, blocking."]
        #[ts_args("name: string, value: string | Uint8Array, options?: PutSecretValueOptions | undefined | null")]
        fn put_secret_value, put_secret_value_sync(
            &self,
            name: String,
            value: Either<String, Uint8Array>,
            options: Option<PutSecretValueOptions>,
        ) -> SecretVersionRef {
            let value = core_value(value)?;
            let o = options.map_or_else(ks::PutSecretValueOptions::default, |o| {
                ks::PutSecretValueOptions {
                    version_stages: o.version_stages,
                    client_request_token: o.client_request_token,
                }
            });
            let k = self.ks();
            Ok(Job::new(move || k.put_secret_value(&name, &value, &o).map(Into::into)))
        }

        #[doc = " UpdateSecretVersionStage: moves `stage` to `moveToVersionId` (naming"]
        #[doc = " its holder as `removeFromVersionId`), or removes it from"]
        #[doc = " `removeFromVersionId`. CURRENT can only be moved; the version it"]
        #[doc = " leaves becomes PREVIOUS. Returns the versions with labels."]
        #[promise("Promise<Array<SecretVersionInfo>>")]
        #[doc = " UpdateSecretVersionStage, blocking."]
        fn update_secret_version_stage, update_secret_version_stage_sync(
            &self,
            name: String,
            stage: String,
            options: UpdateSecretVersionStageOptions,
        ) -> Vec<SecretVersionInfo> {
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(k.update_secret_version_stage(
                    &name,
                    &stage,
                    options.move_to_version_id.as_deref(),
                    options.remove_from_version_id.as_deref(),
                )?
                .into_iter()
                .map(Into::into)
                .collect())
            }))
        }

        #[doc = " ListSecrets, by name (never values)."]
        #[promise("Promise<SecretList>")]
        #[doc = " ListSecrets, blocking."]
        fn list_secrets, list_secrets_sync(&self, options: Option<ListSecretsOptions>) -> SecretList {
            let (limit, marker, planned) = match options {
                Some(o) => (
                    match o.limit {
                        Some(n) => whole("limit", n, 1, 100)? as usize,
                        None => 100,
                    },
                    o.marker,
                    o.include_planned_deletion.unwrap_or(false),
                ),
                None => (100, None, false),
            };
            let k = self.ks();
            Ok(Job::new(move || {
                let l = k.list_secrets(limit, marker.as_deref(), planned)?;
                Ok(SecretList {
                    secrets: l.secrets.into_iter().map(Into::into).collect(),
                    next_marker: l.next_marker,
                })
            }))
        }

        #[doc = " ListSecretVersionIds, newest first (never values)."]
        #[promise("Promise<Array<SecretVersionInfo>>")]
        #[doc = " ListSecretVersionIds, blocking."]
        fn list_secret_version_ids, list_secret_version_ids_sync(
            &self,
            name: String,
            options: Option<ListSecretVersionIdsOptions>,
        ) -> Vec<SecretVersionInfo> {
            let all = options.and_then(|o| o.include_deprecated).unwrap_or(false);
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(k.list_secret_version_ids(&name, all)?
                    .into_iter()
                    .map(Into::into)
                    .collect())
            }))
        }

        #[doc = " DescribeSecret: metadata and the versions' labels, never values."]
        #[promise("Promise<SecretMetadata>")]
        #[doc = " DescribeSecret, blocking."]
        fn describe_secret, describe_secret_sync(&self, name: String) -> SecretMetadata {
            let k = self.ks();
            Ok(Job::new(move || k.describe_secret(&name).map(Into::into)))
        }

        #[doc = " PutResourcePolicy: attaches a resource policy to the secret (JSON text"]
        #[doc = " or a document: the key-policy grammar over `secretsmanager:` actions)."]
        #[doc = " With one, each operation on the secret needs its permission as well as"]
        #[doc = " the key's. A policy that would leave this principal unable to change"]
        #[doc = " it again is ERR_SEALBOX_INVALID_ARGUMENT unless"]
        #[doc = " `bypassPolicyLockoutSafetyCheck`."]
        #[promise("Promise<void>")]
        #[doc = " PutResourcePolicy, blocking."]
        #[ts_args("name: string, policy: string | Record<string, any>, options?: PutKeyPolicyOptions | undefined | null")]
        fn put_resource_policy, put_resource_policy_sync(
            &self,
            name: String,
            policy: crate::keystore::access::PolicyText,
            options: Option<crate::keystore::access::PutKeyPolicyOptions>,
        ) -> () {
            let bypass = options
                .and_then(|o| o.bypass_policy_lockout_safety_check)
                .unwrap_or(false);
            let k = self.ks();
            Ok(Job::new(move || k.put_secret_resource_policy(&name, &policy.0, bypass)))
        }

        #[doc = " UpdateSecret: a new description, and/or the key that new versions are"]
        #[doc = " sealed under (existing versions stay under theirs, readable)."]
        #[promise("Promise<SecretMetadata>")]
        #[doc = " UpdateSecret, blocking."]
        fn update_secret, update_secret_sync(
            &self,
            name: String,
            options: UpdateSecretOptions,
        ) -> SecretMetadata {
            let k = self.ks();
            Ok(Job::new(move || {
                k.update_secret(&name, options.description.as_deref(), options.key_id.as_deref())
                    .map(Into::into)
            }))
        }

        #[doc = " TagResource on a secret: adds or replaces tags (at most 50)."]
        #[promise("Promise<void>")]
        #[doc = " TagResource on a secret, blocking."]
        #[ts_args("name: string, tags: Record<string, string>")]
        fn tag_secret, tag_secret_sync(&self, name: String, tags: StringMap) -> () {
            let tags = map(Some(tags));
            let k = self.ks();
            Ok(Job::new(move || k.tag_secret(&name, &tags)))
        }

        #[doc = " UntagResource on a secret: removes the tags with these keys."]
        #[promise("Promise<void>")]
        #[doc = " UntagResource on a secret, blocking."]
        fn untag_secret, untag_secret_sync(&self, name: String, tag_keys: Vec<String>) -> () {
            let k = self.ks();
            Ok(Job::new(move || k.untag_secret(&name, &tag_keys)))
        }

        #[doc = " DeleteResourcePolicy: the secret is governed by its key alone again."]
        #[promise("Promise<void>")]
        #[doc = " DeleteResourcePolicy, blocking."]
        fn delete_resource_policy, delete_resource_policy_sync(&self, name: String) -> () {
            let k = self.ks();
            Ok(Job::new(move || k.delete_secret_resource_policy(&name)))
        }

        #[doc = " RestoreSecret: cancels a scheduled deletion."]
        #[promise("Promise<SecretMetadata>")]
        #[doc = " RestoreSecret, blocking."]
        fn restore_secret, restore_secret_sync(&self, name: String) -> SecretMetadata {
            let k = self.ks();
            Ok(Job::new(move || k.restore_secret(&name).map(Into::into)))
        }

    }
}

impl KeyStore {
    fn delete_secret_job(
        &self,
        name: String,
        options: Option<DeleteSecretOptions>,
    ) -> Result<Job<Timestamp>> {
        let (days, force) = match options {
            Some(o) => (
                o.recovery_window_days
                    .map(|d| whole_u32("recoveryWindowDays", d, 7, 30))
                    .transpose()?,
                o.force_delete_without_recovery.unwrap_or(false),
            ),
            None => (None, false),
        };
        let k = self.ks();
        Ok(Job::new(move || {
            k.delete_secret(&name, days, force).map(Timestamp)
        }))
    }

    fn resource_policy_job(
        &self,
        name: String,
    ) -> Job<Option<crate::keystore::access::PolicyDocument>> {
        let k = self.ks();
        Job::new(move || {
            Ok(k.get_secret_resource_policy(&name)?
                .map(crate::keystore::access::PolicyDocument))
        })
    }

    fn random_password_job(&self, spec: Option<PasswordSpec>) -> Result<Job<SecretText>> {
        let spec = password_spec(spec)?;
        let k = self.ks();
        Ok(Job::new(move || {
            let v = k.get_random_password(&spec)?;
            Ok(SecretText(v.as_str().unwrap_or_default().to_owned()))
        }))
    }
}

// Written out rather than with `twins!`: the Sync forms return a `Date`
// and a `string`, which napi-derive would otherwise name by their Rust
// types in index.d.ts.
#[napi]
impl KeyStore {
    /// GetResourcePolicy: the secret's policy document, or `null` when it
    /// has none.
    #[napi(ts_return_type = "Promise<Record<string, any> | null>")]
    pub fn get_resource_policy(
        &self,
        name: String,
    ) -> Result<AsyncTask<Job<Option<crate::keystore::access::PolicyDocument>>>> {
        crate::boundary(|| Ok(AsyncTask::new(self.resource_policy_job(name))))
    }

    /// GetResourcePolicy, blocking.
    #[napi(ts_return_type = "Record<string, any> | null")]
    pub fn get_resource_policy_sync(
        &self,
        name: String,
    ) -> Result<Option<crate::keystore::access::PolicyDocument>> {
        crate::boundary(|| self.resource_policy_job(name).run())
    }

    /// DeleteSecret: scheduled after `recoveryWindowDays` (7..=30, default
    /// 30), or at once and for good with `forceDeleteWithoutRecovery`.
    /// Resolves to the deletion date.
    #[napi(ts_return_type = "Promise<Date>")]
    pub fn delete_secret(
        &self,
        name: String,
        options: Option<DeleteSecretOptions>,
    ) -> Result<AsyncTask<Job<Timestamp>>> {
        crate::boundary(|| self.delete_secret_job(name, options)).map(AsyncTask::new)
    }

    /// DeleteSecret, blocking.
    #[napi(ts_return_type = "Date")]
    pub fn delete_secret_sync(
        &self,
        name: String,
        options: Option<DeleteSecretOptions>,
    ) -> Result<Timestamp> {
        crate::boundary(|| self.delete_secret_job(name, options)).and_then(Job::run)
    }

    /// GetRandomPassword, from the backend's random generator.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_random_password(
        &self,
        spec: Option<PasswordSpec>,
    ) -> Result<AsyncTask<Job<SecretText>>> {
        crate::boundary(|| self.random_password_job(spec)).map(AsyncTask::new)
    }

    /// GetRandomPassword, blocking.
    #[napi(ts_return_type = "string")]
    pub fn get_random_password_sync(&self, spec: Option<PasswordSpec>) -> Result<SecretText> {
        crate::boundary(|| self.random_password_job(spec)).and_then(Job::run)
    }
}

/// The rotation under way, as each JS step sees it.
#[napi(object, object_from_js = false)]
pub struct SecretRotationStep {
    /// `createSecret`, `setSecret`, `testSecret` or `finishSecret`.
    pub step: String,
    /// The secret being rotated.
    pub secret_name: String,
    /// The new (PENDING) version.
    pub version_id: String,
    /// The CURRENT version when the rotation started.
    pub current_version_id: String,
    /// The new value (setSecret and testSecret).
    #[napi(ts_type = "string | Buffer")]
    pub pending: Option<Either<SecretText, Buffer>>,
}

/// The JS rotator: an object with the methods `createSecret` (optional:
/// default a random password), `setSecret`, `testSecret` and
/// `finishSecret` (optional), called on the JS thread.
struct JsRotator {
    env: Env,
    object: JsObject,
}

impl JsRotator {
    fn method(&self, name: &str) -> Result<Option<JsFunction>> {
        let v: JsUnknown = self.object.get_named_property(name)?;
        match v.get_type()? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            // SAFETY: the type was just checked.
            ValueType::Function => Ok(Some(unsafe { v.cast() })),
            _ => Err(invalid(format!("the rotator's {name} must be a function"))),
        }
    }

    /// Calls the step's method; `Ok(None)` when the rotator has none.
    fn call(
        &self,
        step: ks::RotationStep,
        r: &SecretRotation<'_>,
        pending: Option<&ks::SecretValue>,
    ) -> Result<Option<JsUnknown>> {
        let Some(f) = self.method(step.as_str())? else {
            return Ok(None);
        };
        let arg = SecretRotationStep {
            step: step.as_str().to_owned(),
            secret_name: r.secret_name.to_owned(),
            version_id: r.version_id.to_owned(),
            current_version_id: r.current_version_id.to_owned(),
            pending: pending.map(js_value),
        };
        // SAFETY: `env` is the live environment of the synchronous call
        // that is running this rotation.
        let arg = unsafe {
            JsUnknown::from_napi_value(
                self.env.raw(),
                SecretRotationStep::to_napi_value(self.env.raw(), arg)?,
            )?
        };
        let out: JsUnknown = f.call(Some(&self.object), &[arg])?;
        if out.get_type()? == ValueType::Object {
            // SAFETY: the type was just checked.
            let o: JsObject = unsafe { out.cast() };
            let then: JsUnknown = o.get_named_property("then")?;
            if then.get_type()? == ValueType::Function {
                return Err(invalid(format!(
                    "the rotator's {} returned a Promise: rotateSecretSync runs \
                     synchronous steps only",
                    step.as_str()
                )));
            }
            return Ok(Some(o.into_unknown()));
        }
        Ok(Some(out))
    }

    /// A required step (set, test) whose method was gone when it was due
    /// (a getter, a deleted property) fails: it is never skipped.
    fn required(&self, step: ks::RotationStep, out: Option<JsUnknown>) -> sealbox::Result<()> {
        match out {
            Some(_) => Ok(()),
            None => Err(sealbox::Error::InvalidState(format!(
                "the rotator has no {} method",
                step.as_str()
            ))),
        }
    }

    /// An `async` step is refused before the rotation begins (a Promise
    /// still running after the rotation reported failure could change the
    /// target).
    fn refuse_async(&self, name: &str) -> Result<()> {
        if let Some(f) = self.method(name)? {
            let ctor: JsUnknown = f.coerce_to_object()?.get_named_property("constructor")?;
            if ctor.get_type()? == ValueType::Function {
                // SAFETY: the type was just checked.
                let ctor: JsFunction = unsafe { ctor.cast() };
                let n: JsUnknown = ctor.coerce_to_object()?.get_named_property("name")?;
                if n.get_type()? == ValueType::String {
                    let n = n.coerce_to_string()?.into_utf8()?.into_owned()?;
                    if n == "AsyncFunction" {
                        return Err(invalid(format!(
                            "the rotator's {name} is async: rotateSecretSync runs synchronous steps only"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs a step; a JS error becomes the core's refusal of the step (its
    /// message kept), and napi-rs's reference to a thrown JS error object
    /// is released.
    fn step<T>(&self, step: ks::RotationStep, f: impl FnOnce() -> Result<T>) -> sealbox::Result<T> {
        f().map_err(|e| {
            let msg = e.reason.clone();
            // SAFETY: `env` is the live environment of this call; turning
            // the error into a value deletes the reference (the value is
            // dropped).
            let _ = unsafe { napi::Error::to_napi_value(self.env.raw(), e) };
            sealbox::Error::InvalidState(format!("the rotator's {} failed: {msg}", step.as_str()))
        })
    }
}

impl SecretRotator for JsRotator {
    fn create_secret(&self, r: &SecretRotation<'_>) -> sealbox::Result<ks::SecretValue> {
        let step = ks::RotationStep::CreateSecret;
        match self.step(step, || self.call(step, r, None))? {
            None => r
                .key_store
                .get_random_password(&ks::PasswordSpec::default()),
            Some(v) => self.step(step, || {
                // SAFETY: `v` is a value of this call's environment.
                let value = unsafe {
                    Either::<String, Uint8Array>::from_napi_value(self.env.raw(), v.raw())
                }
                .map_err(|_| invalid("createSecret must return a string or a Uint8Array"))?;
                core_value(value)
            }),
        }
    }

    fn set_secret(&self, r: &SecretRotation<'_>, pending: &ks::SecretValue) -> sealbox::Result<()> {
        let step = ks::RotationStep::SetSecret;
        self.required(step, self.step(step, || self.call(step, r, Some(pending)))?)
    }

    fn test_secret(
        &self,
        r: &SecretRotation<'_>,
        pending: &ks::SecretValue,
    ) -> sealbox::Result<()> {
        let step = ks::RotationStep::TestSecret;
        self.required(step, self.step(step, || self.call(step, r, Some(pending)))?)
    }

    fn finish_secret(&self, r: &SecretRotation<'_>) -> sealbox::Result<()> {
        let step = ks::RotationStep::FinishSecret;
        self.step(step, || self.call(step, r, None)).map(|_| ())
    }
}

#[napi]
impl KeyStore {
    /// RotateSecret, on the calling (JS) thread: runs `rotator`'s steps in
    /// order, each called with `{ step, secretName, versionId,
    /// currentVersionId, pending }` and synchronous: `createSecret(r)`
    /// returns the new value (optional: default a random password; it is
    /// stored as the PENDING version), `setSecret(r)` sets `r.pending` in
    /// the target system, `testSecret(r)` checks it, `finishSecret(r)`
    /// (optional) has the last word; then PENDING becomes CURRENT and the
    /// old CURRENT PREVIOUS. A step that throws (or returns a Promise)
    /// stops the rotation with CURRENT unchanged and the new version left
    /// PENDING: `ERR_SEALBOX_INVALID_STATE` naming the step, with the
    /// step's message. There is no Promise form: the steps are JS code,
    /// which runs on this thread.
    #[napi(
        ts_args_type = "name: string, rotator: { createSecret?: (r: SecretRotationStep) => string | Uint8Array, setSecret: (r: SecretRotationStep) => void, testSecret: (r: SecretRotationStep) => void, finishSecret?: (r: SecretRotationStep) => void }"
    )]
    pub fn rotate_secret_sync(
        &self,
        env: Env,
        name: String,
        rotator: JsObject,
    ) -> Result<RotateSecretResult> {
        crate::boundary(|| {
            let r = JsRotator {
                env,
                object: rotator,
            };
            for m in ["setSecret", "testSecret"] {
                if r.method(m)?.is_none() {
                    return Err(invalid(format!("the rotator has no {m} method")));
                }
            }
            for m in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
                r.refuse_async(m)?;
            }
            let out = self.inner.rotate_secret(&name, &r).map_err(js_error)?;
            Ok(RotateSecretResult {
                name: out.name,
                version_id: out.version_id,
                previous_version_id: out.previous_version_id,
            })
        })
    }
}
