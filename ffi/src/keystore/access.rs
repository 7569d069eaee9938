//! Access control (issue 16): the principal a key-store handle acts for,
//! handles for other principals, key policies and grants. A refusal is
//! `SEALBOX_RESULT_ACCESS_DENIED` and an audit record with outcome
//! `"denied"` that names the deciding statement or the missing grant.

use std::ffi::c_char;

use sealbox_core::keystore::GrantRequest;

use super::sealbox_keystore;
use crate::error::{sealbox_result, Failure};
use crate::handle::arc_handle;
use crate::string_map::{sealbox_string_map, StringMap};
use crate::values::{buffer, buffer_from_slice, sealbox_buffer, texts};

/// A handle on the same key store acting for `principal` (a service that
/// serves several callers). Cheap: it shares the store, its caches and its
/// audit callbacks; audit records name `principal`, and key policies and
/// grants decide what it may do. An empty principal, one longer than 256
/// bytes or one with control characters is
/// `SEALBOX_RESULT_INVALID_ARGUMENT`.
///
/// Ownership: borrows the arguments for the call; the caller frees `*out`
/// with `sealbox_keystore_free` (independently of `keystore`).
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_as_principal(
    keystore: *const sealbox_keystore,
    principal: *const c_char,
    out: *mut *const sealbox_keystore,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), principal = try_str!(principal)]
        out => arc_handle(ks.as_principal(principal)?))
}

/// The principal this handle acts for, as text (UTF-8, NUL-terminated).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_principal(
    keystore: *const sealbox_keystore,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore)] out => buffer_from_slice(ks.principal().as_bytes()))
}

/// PutKeyPolicy: replaces the policy of `key` with `policy_json`, a key
/// policy in the grammar of AWS KMS key policies (`Version`, `Statement`
/// with `Sid`, `Effect`, `Principal` as `{"Sealbox": [...]}` or `"*"`,
/// `Action`, `Resource: "*"`, `Condition`). A policy that would leave this
/// principal unable to change it again is `SEALBOX_RESULT_INVALID_ARGUMENT`
/// unless `bypass_policy_lockout_safety_check`; a policy that does not parse
/// is `SEALBOX_RESULT_INVALID_ARGUMENT` and changes nothing.
///
/// Ownership: `policy_json` is copied into the store.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_put_key_policy(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    policy_json: *const c_char,
    bypass_policy_lockout_safety_check: bool,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.put_key_policy(
        try_str!(key),
        try_str!(policy_json),
        bypass_policy_lockout_safety_check,
    )? }
}

/// GetKeyPolicy: the policy of `key` as JSON text (the default policy,
/// which allows every principal everything, for a key without one of its
/// own).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_key_policy(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key)]
        out => buffer(ks.get_key_policy(key)?.into_bytes()))
}

/// CreateGrant: lets `grantee_principal` do the `operation_count`
/// operations in `operations` (AWS names: `"Decrypt"`, `"Encrypt"`,
/// `"GenerateDataKey"`, `"RetireGrant"`, ...) with `key`, and writes the
/// new grant's ID (text) to `*out_grant_id`. Optional (NULL: absent):
/// `retiring_principal`, who besides the grantee may retire it; `name`;
/// `encryption_context_equals`, allowed only when the request's encryption
/// context is exactly this map; `encryption_context_subset`, allowed only
/// when it includes these pairs.
///
/// Ownership: the strings and maps are copied; the caller frees
/// `*out_grant_id` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_create_grant(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    grantee_principal: *const c_char,
    operations: *const *const c_char,
    operation_count: usize,
    retiring_principal: *const c_char,
    name: *const c_char,
    encryption_context_equals: *const sealbox_string_map,
    encryption_context_subset: *const sealbox_string_map,
    out_grant_id: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let grantee = try_str!(grantee_principal);
        if operation_count == 0 {
            return Err(Failure::arg("a grant lists at least one operation"));
        }
        // SAFETY: the array holds `operation_count` NUL-terminated strings.
        let ops = unsafe { texts(operations, operation_count, "operations") }?;
        let retiring = try_opt_str!(retiring_principal);
        let name = try_opt_str!(name);
        let equals = try_opt_ref!(encryption_context_equals).map(StringMap::to_context);
        let subset = try_opt_ref!(encryption_context_subset).map(StringMap::to_context);
        let out = try_out!(out_grant_id);
        let req = GrantRequest {
            grantee_principal: grantee.to_owned(),
            operations: ops.into_iter().map(str::to_owned).collect(),
            retiring_principal: retiring.map(str::to_owned),
            name: name.map(str::to_owned),
            encryption_context_equals: equals,
            encryption_context_subset: subset,
        };
        let id = ks.create_grant(key, &req)?;
        out.write(buffer(id.into_bytes()));
        Ok(())
    }
}

/// ListGrants: the grants of `key` as one JSON array (text), each grant an
/// object with `grant_id`, `key_id`, `grantee_principal`, `operations`,
/// `issuing_principal`, `created_at` (Unix seconds) and, when set, `name`,
/// `retiring_principal` and `constraints` (`encryption_context_equals`,
/// `encryption_context_subset`). JSON, because a list of records with
/// optional fields is simplest to read in C with the JSON parser the
/// application already has.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_list_grants(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key)] out => {
        let grants = ks.list_grants(key)?;
        let json = serde_json::to_vec(&grants)
            .map_err(|e| Failure::from(sealbox_core::Error::Storage(e.to_string())))?;
        buffer(json)
    })
}

/// RetireGrant: by the grant's retiring principal, its grantee (when the
/// grant lists `RetireGrant`), or a principal the key policy allows
/// `kms:RetireGrant`. `SEALBOX_RESULT_KEY_NOT_FOUND` for an unknown grant.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_retire_grant(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    grant_id: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.retire_grant(try_str!(key), try_str!(grant_id))? }
}

/// RevokeGrant: by a principal the key policy allows `kms:RevokeGrant`.
/// Takes effect for the next operation (within the propagation bound in
/// other processes). `SEALBOX_RESULT_KEY_NOT_FOUND` for an unknown grant.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_revoke_grant(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    grant_id: *const c_char,
) -> sealbox_result {
    with_ref! { keystore, |ks| ks.revoke_grant(try_str!(key), try_str!(grant_id))? }
}
