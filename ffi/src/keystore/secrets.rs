//! Secrets (issue 21), with the operations of AWS Secrets Manager: values
//! sealed under a key-store key, versions with staging labels (`CURRENT`,
//! `PENDING`, `PREVIOUS` and the caller's own), deletion with a recovery
//! window, and the four-step rotation with C callbacks
//! ([`sealbox_secret_rotator`]).
//!
//! Values cross as bytes with an `is_binary` flag (a text secret must be
//! UTF-8); values returned are in a `sealbox_buffer`, wiped by
//! `sealbox_buffer_free`. Metadata (DescribeSecret, ListSecrets,
//! ListSecretVersionIds) is returned as JSON text: records with optional
//! fields and maps are simplest to read in C with the JSON parser the
//! application already has.

use std::ffi::{c_char, c_void, CString};

use sealbox_core::keystore::{
    CreateSecretOptions, PutSecretValueOptions, SecretMetadata, SecretRotation, SecretRotator,
    SecretValue, SecretVersionInfo,
};
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::sealbox_keystore;
use crate::error::{sealbox_result, Failure};
use crate::string_map::sealbox_string_map;
use crate::values::{buffer, buffer_from_slice, sealbox_buffer, texts, utf8};

/// The options of `sealbox_keystore_create_secret`: a plain struct the
/// caller fills (zero it first: every NULL field is the default).
///
/// Ownership: the caller's; the library reads it during the call only.
///
/// Thread safety: read-only for the library.
#[repr(C)]
#[derive(Debug)]
pub struct sealbox_secret_options {
    /// The key-store key (ID or `alias/...`) the values are sealed under;
    /// NULL: `alias/sealbox/secrets` (created on first use).
    pub key_id: *const c_char,
    /// Free text (at most 2048 characters); NULL: none.
    pub description: *const c_char,
    /// Tags (at most 50); NULL: none.
    pub tags: *const sealbox_string_map,
    /// The first version's ID (idempotency: 32..=64 characters of
    /// `A-Z a-z 0-9 - _`); NULL: a new UUID.
    pub client_request_token: *const c_char,
}

/// A value from C: UTF-8 text unless `is_binary`.
fn value(bytes: &[u8], is_binary: bool) -> Result<SecretValue, Failure> {
    Ok(if is_binary {
        SecretValue::binary(bytes)?
    } else {
        SecretValue::text(utf8(bytes, "a text secret value")?)?
    })
}

fn json_buffer(v: &Value) -> Result<*mut sealbox_buffer, Failure> {
    serde_json::to_vec(v)
        .map(buffer)
        .map_err(|e| Failure::from(sealbox_core::Error::Storage(e.to_string())))
}

fn version_json(v: &SecretVersionInfo) -> Value {
    json!({
        "version_id": v.version_id,
        "version_stages": v.version_stages,
        "created_at": v.created_at,
        "binary": v.binary,
        "key_id": v.key_id,
    })
}

fn metadata_json(m: &SecretMetadata) -> Value {
    json!({
        "name": m.name,
        "description": m.description,
        "key_id": m.key_id,
        "tags": m.tags,
        "created_at": m.created_at,
        "last_changed_at": m.last_changed_at,
        "last_rotated_at": m.last_rotated_at,
        "deleted_date": m.deleted_date,
        "deletion_date": m.deletion_date,
        "version_ids_to_stages": m.version_ids_to_stages,
    })
}

/// CreateSecret: a new secret named `name` (1..=512 of
/// `A-Z a-z 0-9 / _ + = . @ -`), with its first version (labelled
/// `CURRENT`) when `value` is given: `value_len` bytes (1..=65536), UTF-8
/// text unless `is_binary`. `value` NULL with `value_len` 0: a secret
/// without a version yet. `options` may be NULL (the defaults).
/// `SEALBOX_RESULT_ALREADY_EXISTS` when the name is taken,
/// `SEALBOX_RESULT_KEY_DISABLED` when the key is disabled,
/// `SEALBOX_RESULT_INVALID_ARGUMENT` for an empty or oversized value.
///
/// Ownership: borrows the arguments for the call; when `version_id_out` is
/// not NULL, the caller frees `*version_id_out` (the new version's ID,
/// empty without a value) with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_create_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    value: *const u8,
    value_len: usize,
    is_binary: bool,
    options: *const sealbox_secret_options,
    version_id_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        let v = try_opt_slice!(value, value_len).map(|b| self::value(b, is_binary)).transpose()?;
        let mut o = CreateSecretOptions::default();
        if !options.is_null() {
            // SAFETY: non-NULL, a `sealbox_secret_options` per the caller.
            let opts = unsafe { &*options };
            let (key_id, description, tags, client_request_token) =
                (opts.key_id, opts.description, opts.tags, opts.client_request_token);
            o.key_id = try_opt_str!(key_id).map(str::to_owned);
            o.description = try_opt_str!(description).unwrap_or_default().to_owned();
            o.tags = try_opt_ref!(tags).map(|m| m.to_context()).unwrap_or_default();
            o.client_request_token = try_opt_str!(client_request_token).map(str::to_owned);
        }
        let out = opt_out!(version_id_out);
        let r = ks.create_secret(name, v.as_ref(), &o)?;
        if out.wanted() {
            out.write(buffer(r.version_id.into_bytes()));
        }
        Ok(())
    }
}

/// GetSecretValue: the version `version_id`, or the one labelled
/// `version_stage` (NULL: `CURRENT`); given both, the version must carry
/// the label. `SEALBOX_RESULT_KEY_NOT_FOUND` for a missing secret, version
/// or label; `SEALBOX_RESULT_INVALID_KEY_STATE` for a secret scheduled for
/// deletion.
///
/// Ownership: the caller frees `*value_out` (the value, wiped on free) and,
/// when `version_id_out` is not NULL, `*version_id_out` with
/// `sealbox_buffer_free`. `is_binary` may be NULL.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_secret_value(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    version_stage: *const c_char,
    version_id: *const c_char,
    value_out: *mut *mut sealbox_buffer,
    is_binary: *mut bool,
    version_id_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        let stage = try_opt_str!(version_stage);
        let id = try_opt_str!(version_id);
        let out = try_out!(value_out);
        let binary_out = opt_out!(is_binary);
        let id_out = opt_out!(version_id_out);
        let e = ks.get_secret_value(name, id, stage)?;
        out.write(buffer_from_slice(e.value.as_bytes()));
        binary_out.write(e.value.is_binary());
        if id_out.wanted() {
            id_out.write(buffer(e.version_id.into_bytes()));
        }
        Ok(())
    }
}

/// PutSecretValue: a new version of `name` with `value` (as in
/// `sealbox_keystore_create_secret`), labelled with the `stage_count`
/// labels of `version_stages`; `version_stages` NULL: `CURRENT` (the
/// version that loses CURRENT becomes PREVIOUS). `client_request_token`
/// (NULL: a new UUID) is the version ID: a repeated request with the same
/// value changes nothing, with another value it is
/// `SEALBOX_RESULT_ALREADY_EXISTS`.
///
/// Ownership: borrows the arguments for the call; when `version_id_out` is
/// not NULL, the caller frees `*version_id_out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sealbox_keystore_put_secret_value(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    value: *const u8,
    value_len: usize,
    is_binary: bool,
    version_stages: *const *const c_char,
    stage_count: usize,
    client_request_token: *const c_char,
    version_id_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        let v = self::value(try_slice!(value, value_len), is_binary)?;
        let stages = if version_stages.is_null() && stage_count == 0 {
            None
        } else {
            // SAFETY: `stage_count` strings per the caller.
            Some(unsafe { texts(version_stages, stage_count, "version_stages") }?
                .into_iter()
                .map(str::to_owned)
                .collect())
        };
        let o = PutSecretValueOptions {
            version_stages: stages,
            client_request_token: try_opt_str!(client_request_token).map(str::to_owned),
        };
        let out = opt_out!(version_id_out);
        let r = ks.put_secret_value(name, &v, &o)?;
        if out.wanted() {
            out.write(buffer(r.version_id.into_bytes()));
        }
        Ok(())
    }
}

/// UpdateSecretVersionStage: moves `stage` to `move_to_version_id` (naming
/// the version that holds it as `remove_from_version_id`), or removes it
/// from `remove_from_version_id`; either may be NULL, not both. `CURRENT`
/// can only be moved; the version it leaves becomes PREVIOUS.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_update_secret_version_stage(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    stage: *const c_char,
    move_to_version_id: *const c_char,
    remove_from_version_id: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.update_secret_version_stage(
        try_str!(name),
        try_str!(stage),
        try_opt_str!(move_to_version_id),
        try_opt_str!(remove_from_version_id),
    )? }
}

/// ListSecrets: every secret (with those scheduled for deletion when
/// `include_planned_deletion`), by name, as one JSON array of the objects
/// `sealbox_keystore_describe_secret` returns. Never values.
///
/// Ownership: the caller frees `*json_out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_list_secrets(
    keystore: *const sealbox_keystore,
    include_planned_deletion: bool,
    json_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore)] json_out => {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = ks.list_secrets(100, marker.as_deref(), include_planned_deletion)?;
            all.extend(page.secrets.iter().map(metadata_json));
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        json_buffer(&Value::Array(all))?
    })
}

/// DescribeSecret: the secret's metadata as a JSON object with `name`,
/// `description`, `key_id`, `tags` (an object), `created_at`,
/// `last_changed_at`, `last_rotated_at`, `deleted_date`, `deletion_date`
/// (Unix seconds; the last three `null` when unset) and
/// `version_ids_to_stages` (version ID to an array of labels). Never values.
///
/// Ownership: the caller frees `*json_out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_describe_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    json_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), name = try_str!(name)] json_out =>
        json_buffer(&metadata_json(&ks.describe_secret(name)?))?)
}

/// ListSecretVersionIds: the versions of `name`, newest first (those
/// without a label too when `include_deprecated`), as a JSON array of
/// objects with `version_id`, `version_stages`, `created_at` (Unix seconds),
/// `binary` and `key_id`. Never values.
///
/// Ownership: the caller frees `*json_out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_list_secret_version_ids(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    include_deprecated: bool,
    json_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), name = try_str!(name)] json_out => {
        let versions = ks.list_secret_version_ids(name, include_deprecated)?;
        json_buffer(&Value::Array(versions.iter().map(version_json).collect()))?
    })
}

/// DeleteSecret: scheduled after `recovery_window_days` (7..=30), during
/// which `sealbox_keystore_restore_secret` brings it back; 0 deletes it now
/// and for good. `*deletion_date_out` (may be NULL): when it will be (or
/// was) deleted, Unix seconds.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_delete_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    recovery_window_days: u32,
    deletion_date_out: *mut i64,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        let out = opt_out!(deletion_date_out);
        let at = if recovery_window_days == 0 {
            ks.delete_secret(name, None, true)?
        } else {
            ks.delete_secret(name, Some(recovery_window_days), false)?
        };
        out.write(at);
        Ok(())
    }
}

/// RestoreSecret: cancels a scheduled deletion.
/// `SEALBOX_RESULT_INVALID_KEY_STATE` when none is scheduled.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_restore_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.restore_secret(try_str!(name))? }
}

/// UpdateSecret: a new `description` and/or the key (`key_id`: ID or
/// alias) that new versions are sealed under; NULL leaves that one as it
/// is (at least one must be given). Existing versions stay under their
/// key, readable.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_update_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    description: *const c_char,
    key_id: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| {
        ks.update_secret(try_str!(name), try_opt_str!(description), try_opt_str!(key_id))?;
    } }
}

/// TagResource on a secret: adds or replaces the tags in `tags` (at most 50
/// in all).
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_tag_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    tags: *const sealbox_string_map,
) -> sealbox_result {
    with_ref! { keystore, |ks| {
        let tags: std::collections::BTreeMap<String, String> = try_ref!(tags).to_context();
        ks.tag_secret(try_str!(name), &tags)?
    } }
}

/// UntagResource on a secret: removes the tags whose keys are the
/// `key_count` strings of `tag_keys`.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_untag_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    tag_keys: *const *const c_char,
    key_count: usize,
) -> sealbox_result {
    with_ref! { keystore, |ks| {
        // SAFETY: `key_count` NUL-terminated strings per the caller.
        let keys: Vec<String> = unsafe { texts(tag_keys, key_count, "tag_keys") }?
            .into_iter()
            .map(str::to_owned)
            .collect();
        ks.untag_secret(try_str!(name), &keys)?
    } }
}

/// PutResourcePolicy: attaches `policy_json` to secret `name`: the grammar
/// of key policies over `secretsmanager:` actions
/// (`"secretsmanager:GetSecretValue"`, `"secretsmanager:*"`, ...). With a
/// policy, each operation on the secret needs its permission as well as
/// the key's (`SEALBOX_RESULT_ACCESS_DENIED`). A policy that would leave
/// this principal unable to change it again is
/// `SEALBOX_RESULT_INVALID_ARGUMENT` unless
/// `bypass_policy_lockout_safety_check`.
///
/// Ownership: `policy_json` is copied into the store.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_put_secret_resource_policy(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    policy_json: *const c_char,
    bypass_policy_lockout_safety_check: bool,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.put_secret_resource_policy(
        try_str!(name),
        try_str!(policy_json),
        bypass_policy_lockout_safety_check,
    )? }
}

/// GetResourcePolicy: the policy of secret `name` as JSON text in `*out`,
/// or NULL in `*out` when it has none.
///
/// Ownership: the caller frees a non-NULL `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_secret_resource_policy(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        let out = try_out!(out);
        let policy = ks.get_secret_resource_policy(name)?;
        out.write(policy.map_or(std::ptr::null_mut(), |p| buffer(p.into_bytes())));
        Ok(())
    }
}

/// DeleteResourcePolicy: secret `name` is governed by its key alone again.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_delete_secret_resource_policy(
    keystore: *const sealbox_keystore,
    name: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.delete_secret_resource_policy(try_str!(name))? }
}

/// Step 1 of a rotation: write the new value into `value` (room for
/// `value_cap` bytes, 65536), its length to `*value_len`, and whether it is
/// binary to `*is_binary` (false: UTF-8 text). Return 0 on success.
///
/// Ownership: the strings are the library's, valid during the call; `value`
/// is the library's buffer (wiped afterwards), which the step fills.
///
/// Thread safety: called on the thread that called
/// `sealbox_keystore_rotate_secret`.
pub type sealbox_rotation_create_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        secret_name: *const c_char,
        version_id: *const c_char,
        current_version_id: *const c_char,
        value: *mut u8,
        value_cap: usize,
        value_len: *mut usize,
        is_binary: *mut bool,
    ) -> i32,
>;

/// Steps 2 and 3 of a rotation: set the pending value in the target system,
/// then test it. Return 0 on success.
///
/// Ownership: the strings and `pending` are the library's, valid during the
/// call (copy what must outlive it).
///
/// Thread safety: called on the thread that called
/// `sealbox_keystore_rotate_secret`.
pub type sealbox_rotation_value_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        secret_name: *const c_char,
        version_id: *const c_char,
        current_version_id: *const c_char,
        pending: *const u8,
        pending_len: usize,
        is_binary: bool,
    ) -> i32,
>;

/// Step 4 of a rotation: the last word before PENDING becomes CURRENT.
/// Return 0 on success.
///
/// Ownership: the strings are the library's, valid during the call.
///
/// Thread safety: called on the thread that called
/// `sealbox_keystore_rotate_secret`.
pub type sealbox_rotation_finish_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        secret_name: *const c_char,
        version_id: *const c_char,
        current_version_id: *const c_char,
    ) -> i32,
>;

/// The application's side of a rotation, as the four steps of a Secrets
/// Manager rotation function. Each step returns 0 on success; any other
/// number stops the rotation with CURRENT unchanged and the new version
/// left PENDING (`SEALBOX_RESULT_INVALID_STATE`, the message naming the
/// step and the number). The strings passed are valid during the call
/// only; the pending value is wiped after the rotation.
///
/// Ownership: the caller's; the library calls the steps during
/// `sealbox_keystore_rotate_secret` only, on the calling thread, with
/// `userdata` as given.
///
/// Thread safety: the steps run on the thread that called
/// `sealbox_keystore_rotate_secret`.
#[repr(C)]
#[derive(Debug)]
pub struct sealbox_secret_rotator {
    /// Passed to every step.
    pub userdata: *mut c_void,
    /// The new value; NULL: a random password (32 characters).
    pub create_secret: sealbox_rotation_create_fn,
    /// Sets the pending value in the target system (required).
    pub set_secret: sealbox_rotation_value_fn,
    /// Checks that the target accepts the pending value (required).
    pub test_secret: sealbox_rotation_value_fn,
    /// The last check; NULL: nothing to do.
    pub finish_secret: sealbox_rotation_finish_fn,
}

struct CRotator<'a>(&'a sealbox_secret_rotator);

struct StepNames {
    name: CString,
    version: CString,
    current: CString,
}

fn names(r: &SecretRotation<'_>) -> StepNames {
    StepNames {
        name: super::c_string(r.secret_name),
        version: super::c_string(r.version_id),
        current: super::c_string(r.current_version_id),
    }
}

fn step_result(step: &str, rc: i32) -> sealbox_core::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(sealbox_core::Error::InvalidState(format!(
            "the rotator's {step} returned {rc}"
        )))
    }
}

impl SecretRotator for CRotator<'_> {
    fn create_secret(&self, r: &SecretRotation<'_>) -> sealbox_core::Result<SecretValue> {
        let Some(f) = self.0.create_secret else {
            return r
                .key_store
                .get_random_password(&sealbox_core::keystore::PasswordSpec::default());
        };
        let n = names(r);
        let cap = sealbox_core::keystore::secrets::MAX_SECRET_VALUE;
        let mut buf = vec![0u8; cap];
        let mut len = 0usize;
        let mut binary = false;
        // SAFETY: the caller supplied a step with this signature; every
        // pointer is valid for the call, `buf` writable for `cap` bytes.
        let rc = unsafe {
            f(
                self.0.userdata,
                n.name.as_ptr(),
                n.version.as_ptr(),
                n.current.as_ptr(),
                buf.as_mut_ptr(),
                cap,
                &mut len,
                &mut binary,
            )
        };
        let out = step_result("createSecret", rc).and_then(|()| {
            if len > cap {
                return Err(sealbox_core::Error::InvalidArgument(format!(
                    "the rotator's createSecret wrote a length of {len}, past {cap}"
                )));
            }
            let bytes = &buf[..len];
            if binary {
                SecretValue::binary(bytes)
            } else {
                std::str::from_utf8(bytes)
                    .map_err(|_| {
                        sealbox_core::Error::InvalidArgument(
                            "the rotator's createSecret wrote text that is not UTF-8".into(),
                        )
                    })
                    .and_then(SecretValue::text)
            }
        });
        buf.zeroize();
        out
    }

    fn set_secret(
        &self,
        r: &SecretRotation<'_>,
        pending: &SecretValue,
    ) -> sealbox_core::Result<()> {
        self.value_step("setSecret", self.0.set_secret, r, pending)
    }

    fn test_secret(
        &self,
        r: &SecretRotation<'_>,
        pending: &SecretValue,
    ) -> sealbox_core::Result<()> {
        self.value_step("testSecret", self.0.test_secret, r, pending)
    }

    fn finish_secret(&self, r: &SecretRotation<'_>) -> sealbox_core::Result<()> {
        let Some(f) = self.0.finish_secret else {
            return Ok(());
        };
        let n = names(r);
        // SAFETY: as in `create_secret`.
        let rc = unsafe {
            f(
                self.0.userdata,
                n.name.as_ptr(),
                n.version.as_ptr(),
                n.current.as_ptr(),
            )
        };
        step_result("finishSecret", rc)
    }
}

impl CRotator<'_> {
    fn value_step(
        &self,
        step: &str,
        f: sealbox_rotation_value_fn,
        r: &SecretRotation<'_>,
        pending: &SecretValue,
    ) -> sealbox_core::Result<()> {
        let Some(f) = f else {
            return Err(sealbox_core::Error::InvalidArgument(format!(
                "the rotator has no {step}"
            )));
        };
        let n = names(r);
        // SAFETY: as in `create_secret`; `pending` is readable for its length.
        let rc = unsafe {
            f(
                self.0.userdata,
                n.name.as_ptr(),
                n.version.as_ptr(),
                n.current.as_ptr(),
                pending.as_bytes().as_ptr(),
                pending.len(),
                pending.is_binary(),
            )
        };
        step_result(step, rc)
    }
}

/// RotateSecret: runs `rotator`'s steps on this thread: the new value
/// (step 1) is stored as the PENDING version, set in the target (2) and
/// tested (3); after step 4 it becomes CURRENT and the old CURRENT
/// PREVIOUS, in one transaction. A failed step leaves CURRENT unchanged and
/// the new version PENDING. `*version_id_out` (may be NULL): the new
/// CURRENT version's ID.
///
/// Ownership: borrows the arguments for the call; when `version_id_out` is
/// not NULL, the caller frees `*version_id_out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently; the steps run on the calling
/// thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_rotate_secret(
    keystore: *const sealbox_keystore,
    name: *const c_char,
    rotator: *const sealbox_secret_rotator,
    version_id_out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let name = try_str!(name);
        if rotator.is_null() {
            return Err(Failure::null("rotator"));
        }
        // SAFETY: non-NULL, a `sealbox_secret_rotator` per the caller.
        let rot = unsafe { &*rotator };
        if rot.set_secret.is_none() || rot.test_secret.is_none() {
            return Err(Failure::null("rotator->set_secret / rotator->test_secret"));
        }
        let out = opt_out!(version_id_out);
        let r = ks.rotate_secret(name, &CRotator(rot))?;
        if out.wanted() {
            out.write(buffer(r.version_id.into_bytes()));
        }
        Ok(())
    }
}
