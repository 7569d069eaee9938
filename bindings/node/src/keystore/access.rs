//! Access control (issue 16): the handle's principal, handles for other
//! principals, key policies and grants. A refusal is
//! ERR_SEALBOX_ACCESS_DENIED and an audit event with outcome `denied`.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi::{sys, JsFunction, JsObject, JsString, JsUnknown, NapiRaw, NapiValue};
use napi_derive::napi;
use sealbox::keystore as ks;

use super::metadata::Timestamp;
use super::KeyStore;
use crate::args::{context, StringMap};
use crate::impls::js_object_type;
use crate::task::{twins, Job};
use crate::{boundary, guarded, invalid, js_error};

/// A key policy from JS: JSON text as is, or an object (a policy document)
/// turned into JSON text with `JSON.stringify`. Anything else is refused.
#[derive(Debug)]
pub struct PolicyText(pub String);

/// `JSON[name]`, a function of the global `JSON` object.
fn json_function(env: &Env, name: &str) -> Result<(JsObject, JsFunction)> {
    let json: JsObject = env.get_global()?.get_named_property("JSON")?;
    let f: JsFunction = json.get_named_property(name)?;
    Ok((json, f))
}

impl FromNapiValue for PolicyText {
    unsafe fn from_napi_value(raw: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut t = 0;
        // SAFETY: `raw` and `value` come from napi for the current call.
        check_status!(unsafe { sys::napi_typeof(raw, value, &mut t) })?;
        let mut is_array = false;
        // SAFETY: as above.
        check_status!(unsafe { sys::napi_is_array(raw, value, &mut is_array) })?;
        if t == sys::ValueType::napi_string {
            // SAFETY: as above; the value is a string.
            return Ok(PolicyText(unsafe { String::from_napi_value(raw, value)? }));
        }
        if t != sys::ValueType::napi_object || is_array {
            return Err(invalid(
                "a key policy is JSON text or a policy document object",
            ));
        }
        // SAFETY: `raw` is the live env of this call.
        let env = unsafe { Env::from_raw(raw) };
        let (json, stringify) = json_function(&env, "stringify")?;
        // SAFETY: `value` is a live value of this env.
        let arg = unsafe { JsUnknown::from_raw_unchecked(raw, value) };
        let out = stringify.call(Some(&json), &[arg])?;
        if out.get_type()? != ValueType::String {
            return Err(invalid("the key policy object has no JSON form"));
        }
        // SAFETY: just checked to be a string.
        let s: JsString = unsafe { out.cast() };
        Ok(PolicyText(s.into_utf8()?.into_owned()?))
    }
}

impl ValidateNapiValue for PolicyText {}

js_object_type!(PolicyText => "string | Record<string, any>");

/// A key policy for JS: the document, parsed with `JSON.parse` (on the
/// JS thread, when the result is handed over).
#[derive(Debug)]
pub struct PolicyDocument(pub(crate) String);

impl ToNapiValue for PolicyDocument {
    unsafe fn to_napi_value(raw: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: `raw` is the live env of this call.
        let env = unsafe { Env::from_raw(raw) };
        let (json, parse) = json_function(&env, "parse")?;
        let text = env.create_string(&val.0)?;
        let out = parse.call(Some(&json), &[text])?;
        // SAFETY: a value of this env.
        Ok(unsafe { out.raw() })
    }
}

js_object_type!(PolicyDocument => "Record<string, any>");

/// Options of `putKeyPolicy`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct PutKeyPolicyOptions {
    /// Store the policy even if it leaves this principal unable to change
    /// it again (otherwise ERR_SEALBOX_INVALID_ARGUMENT).
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

/// What `createGrant` grants.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct GrantOptions {
    /// Who receives the permissions.
    pub grantee_principal: String,
    /// The operations, named as in AWS KMS (`Decrypt`, `Encrypt`,
    /// `GenerateDataKey`, `RetireGrant`, ...).
    pub operations: Vec<String>,
    /// Who besides the grantee may retire the grant.
    pub retiring_principal: Option<String>,
    /// A name (letters, digits, `:/_-`).
    pub name: Option<String>,
    /// Allowed only when the request's encryption context is exactly this.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context_equals: Option<StringMap>,
    /// Allowed only when the request's encryption context includes these pairs.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context_subset: Option<StringMap>,
}

/// One grant of a key, as `listGrants` returns it.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct Grant {
    /// The grant ID (what `createGrant` returned).
    pub grant_id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// The key it is on.
    pub key_id: String,
    /// The principal it lets act.
    pub grantee_principal: String,
    /// A principal that may retire it besides the grantee.
    pub retiring_principal: Option<String>,
    /// The operations it allows.
    pub operations: Vec<String>,
    /// Its constraint: the request's encryption context must be exactly this.
    pub encryption_context_equals: Option<HashMap<String, String>>,
    /// Its constraint: the request's encryption context must include this.
    pub encryption_context_subset: Option<HashMap<String, String>>,
    /// The principal that created it.
    pub issuing_principal: String,
    /// When it was created.
    #[napi(ts_type = "Date")]
    pub created_at: Timestamp,
}

impl From<ks::Grant> for Grant {
    fn from(g: ks::Grant) -> Self {
        let (equals, subset) = match g.constraints {
            Some(c) => (c.encryption_context_equals, c.encryption_context_subset),
            None => (None, None),
        };
        let to_map = |m: Option<sealbox::EncryptionContext>| m.map(|m| m.into_iter().collect());
        Grant {
            grant_id: g.grant_id,
            name: g.name,
            key_id: g.key_id,
            grantee_principal: g.grantee_principal,
            retiring_principal: g.retiring_principal,
            operations: g.operations,
            encryption_context_equals: to_map(equals),
            encryption_context_subset: to_map(subset),
            issuing_principal: g.issuing_principal,
            created_at: Timestamp(g.created_at),
        }
    }
}

fn grant_request(o: GrantOptions) -> ks::GrantRequest {
    ks::GrantRequest {
        grantee_principal: o.grantee_principal,
        operations: o.operations,
        retiring_principal: o.retiring_principal,
        name: o.name,
        encryption_context_equals: o.encryption_context_equals.map(|m| context(Some(m.0))),
        encryption_context_subset: o.encryption_context_subset.map(|m| context(Some(m.0))),
    }
}

#[napi]
impl KeyStore {
    /// The principal this handle acts for (audit records name it; key
    /// policies and grants decide what it may do).
    #[napi(getter)]
    pub fn principal(&self) -> String {
        self.inner.principal().to_owned()
    }

    /// A handle on the same store acting for `principal` (a service that
    /// serves several callers). Cheap: it shares the store, its caches and
    /// its audit callbacks. An empty name, one longer than 256 characters
    /// or one with control characters is ERR_SEALBOX_INVALID_ARGUMENT.
    #[napi]
    pub fn as_principal(&self, principal: String) -> Result<KeyStore> {
        boundary(|| guarded(|| self.inner.as_principal(&principal)).map(|inner| KeyStore { inner }))
    }

    /// GetKeyPolicy: the key's policy document (the default policy, which
    /// allows every principal everything, for a key without one of its own).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn get_key_policy(&self, key: String) -> Result<AsyncTask<Job<PolicyDocument>>> {
        boundary(|| Ok(AsyncTask::new(self.policy_job(key))))
    }

    /// GetKeyPolicy, blocking.
    #[napi(ts_return_type = "Record<string, any>")]
    pub fn get_key_policy_sync(&self, key: String) -> Result<PolicyDocument> {
        boundary(|| self.policy_job(key).run())
    }
}

impl KeyStore {
    fn policy_job(&self, key: String) -> Job<PolicyDocument> {
        let k = self.ks();
        Job::new(move || Ok(PolicyDocument(k.get_key_policy(&key)?)))
    }
}

twins! {
    impl KeyStore {
        #[doc = " PutKeyPolicy: replaces the key's policy (JSON text or a document in the"]
        #[doc = " grammar of AWS KMS key policies). A policy that would leave this"]
        #[doc = " principal unable to change it again is ERR_SEALBOX_INVALID_ARGUMENT"]
        #[doc = " unless `bypassPolicyLockoutSafetyCheck`."]
        #[promise("Promise<void>")]
        #[doc = " PutKeyPolicy, blocking."]
        #[ts_args("key: string, policy: string | Record<string, any>, options?: PutKeyPolicyOptions | undefined | null")]
        fn put_key_policy, put_key_policy_sync(
            &self,
            key: String,
            policy: PolicyText,
            options: Option<PutKeyPolicyOptions>,
        ) -> () {
            let bypass = options
                .and_then(|o| o.bypass_policy_lockout_safety_check)
                .unwrap_or(false);
            let k = self.ks();
            Ok(Job::new(move || k.put_key_policy(&key, &policy.0, bypass)))
        }

        #[doc = " CreateGrant: lets `granteePrincipal` do `operations` with the key (within"]
        #[doc = " the encryption-context constraints, if given); returns the grant ID."]
        #[promise("Promise<string>")]
        #[doc = " CreateGrant, blocking."]
        fn create_grant, create_grant_sync(&self, key: String, grant: GrantOptions) -> String {
            let req = grant_request(grant);
            let k = self.ks();
            Ok(Job::new(move || k.create_grant(&key, &req)))
        }

        #[doc = " ListGrants: the grants of a key."]
        #[promise("Promise<Array<Grant>>")]
        #[doc = " ListGrants, blocking."]
        fn list_grants, list_grants_sync(&self, key: String) -> Vec<Grant> {
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(k.list_grants(&key)?.into_iter().map(Grant::from).collect())
            }))
        }

        #[doc = " RetireGrant: by its retiring principal, its grantee (when the grant"]
        #[doc = " lists `RetireGrant`), or a principal the key policy allows"]
        #[doc = " `kms:RetireGrant`."]
        #[promise("Promise<void>")]
        #[doc = " RetireGrant, blocking."]
        fn retire_grant, retire_grant_sync(&self, key: String, grant_id: String) -> () {
            let k = self.ks();
            Ok(Job::new(move || k.retire_grant(&key, &grant_id)))
        }

        #[doc = " RevokeGrant: by a principal the key policy allows `kms:RevokeGrant`;"]
        #[doc = " takes effect for the next operation."]
        #[promise("Promise<void>")]
        #[doc = " RevokeGrant, blocking."]
        fn revoke_grant, revoke_grant_sync(&self, key: String, grant_id: String) -> () {
            let k = self.ks();
            Ok(Job::new(move || k.revoke_grant(&key, &grant_id)))
        }
    }
}

/// The `defaultPolicy` open option.
pub(crate) fn default_policy(name: &str) -> Result<ks::DefaultKeyPolicy> {
    name.parse::<ks::DefaultKeyPolicy>().map_err(js_error)
}
