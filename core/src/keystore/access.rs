//! Access control in the key store (issue 16): every handle acts for one
//! principal; every operation on a key is decided by the key's policy and
//! grants before any key material is touched. A refusal is
//! [`Error::AccessDenied`] and an audit record with outcome `denied` that
//! names the deciding statement or the missing grant.
//!
//! Trust model (docs/SECURITY.md): in one process the host names its
//! principals (`principal` at open, [`KeyStore::as_principal`]), so
//! policies confine code paths and separate the duties of the components
//! that hold different handles; they are not a barrier against a hostile
//! host process.

use std::sync::Arc;

use super::*;
use crate::error::{Error, Result};

/// The policy a key gets when it is created without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultKeyPolicy {
    /// Every principal may do everything with the key (sealbox's behaviour
    /// before policies, and the policy of keys made before them).
    #[default]
    AllowAll,
    /// Only the creating principal may use and manage the key.
    Creator,
}

impl DefaultKeyPolicy {
    /// The stored name (`allow-all`, `creator`).
    pub fn name(self) -> &'static str {
        match self {
            DefaultKeyPolicy::AllowAll => "allow-all",
            DefaultKeyPolicy::Creator => "creator",
        }
    }
}

impl std::str::FromStr for DefaultKeyPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "allow-all" | "allow_all" => Ok(DefaultKeyPolicy::AllowAll),
            "creator" => Ok(DefaultKeyPolicy::Creator),
            other => Err(Error::InvalidArgument(format!(
                "default key policy {other:?} is not one of allow-all, creator"
            ))),
        }
    }
}

/// The metadata name of the store's default key policy.
pub(super) const DEFAULT_POLICY: &str = "default_key_policy";

/// A grant to create ([`KeyStore::create_grant`]).
#[derive(Debug, Clone, Default)]
pub struct GrantRequest {
    /// Who receives the permissions.
    pub grantee_principal: String,
    /// The operations (AWS names: `Decrypt`, `GenerateDataKey`, ...).
    pub operations: Vec<String>,
    /// Who besides the grantee (if it holds `RetireGrant`) may retire it.
    pub retiring_principal: Option<String>,
    /// A name (idempotency as in AWS: not enforced).
    pub name: Option<String>,
    /// Allowed only when the request's encryption context is exactly this.
    pub encryption_context_equals: Option<EncryptionContext>,
    /// Allowed only when the request's encryption context includes this.
    pub encryption_context_subset: Option<EncryptionContext>,
}

/// The largest principal name.
pub const MAX_PRINCIPAL_LEN: usize = 256;

pub(super) fn check_principal(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_PRINCIPAL_LEN || name.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(format!(
            "a principal is 1..={MAX_PRINCIPAL_LEN} characters without control characters"
        )));
    }
    Ok(())
}

impl KeyStore {
    /// The principal this handle acts for.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// A handle on the same store acting for `principal` (a service that
    /// serves several callers). Cheap; shares everything but the name.
    pub fn as_principal(&self, principal: &str) -> Result<KeyStore> {
        check_principal(principal)?;
        Ok(KeyStore {
            inner: self.inner.clone(),
            principal: Arc::from(principal),
        })
    }

    /// The policy of a key (its stored policy or the default one), for the
    /// data plane from the metadata cache while fresh.
    pub(super) fn policy_of(&self, key_id: &str) -> Result<Arc<KeyPolicy>> {
        self.inner.cache.policy(key_id, || self.load_policy(key_id))
    }

    /// The grants of a key, from the metadata cache while fresh.
    pub(super) fn grants_for(&self, key_id: &str) -> Result<Arc<Vec<Grant>>> {
        self.inner.cache.grants(key_id, || self.load_grants(key_id))
    }

    /// Decides whether this handle's principal may do `action` with `rec`;
    /// a refusal marks the audit record `denied` with the reason.
    pub(super) fn authorize(
        &self,
        a: &mut Audit<'_>,
        rec: &KeyRecord,
        action: &str,
        ec: Option<&EncryptionContext>,
        alias: Option<&str>,
    ) -> Result<()> {
        let policy = self.policy_of(&rec.key_id)?;
        let grants = self.grants_for(&rec.key_id)?;
        self.decide_with(a, rec, &policy, &grants, action, ec, alias)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_with(
        &self,
        a: &mut Audit<'_>,
        rec: &KeyRecord,
        policy: &KeyPolicy,
        grants: &[Grant],
        action: &str,
        ec: Option<&EncryptionContext>,
        alias: Option<&str>,
    ) -> Result<()> {
        let mut req = RequestContext::new(&self.principal, action);
        if let Some(ec) = ec {
            req = req.with_encryption_context(ec);
        }
        if let Some(al) = alias {
            req = req.with_request_alias(al);
        }
        let d = decide(policy, grants, &req);
        if d.is_allowed() {
            Ok(())
        } else {
            a.denied = true;
            Err(Error::AccessDenied(format!(
                "key {}: {}",
                rec.key_id,
                d.reason()
            )))
        }
    }

    /// [`authorize`](Self::authorize) for the request's own operation (no
    /// check for operations without a key-policy action).
    pub(super) fn authorize_op(
        &self,
        a: &mut Audit<'_>,
        rec: &KeyRecord,
        ec: Option<&EncryptionContext>,
        alias: Option<&str>,
    ) -> Result<()> {
        match a.event.operation.policy_action() {
            Some(action) => self.authorize(a, rec, action, ec, alias),
            None => Ok(()),
        }
    }

    /// The key `key` names, once this principal may do the request's
    /// operation with it (context-free operations: management, describe).
    ///
    /// Decided on the policy and grants as stored now, not as cached: these
    /// are management operations (and DescribeKey, GetPublicKey), where a
    /// permission taken away elsewhere must not linger for the bound.
    pub(super) fn authorized(&self, a: &mut Audit<'_>, key: &str) -> Result<KeyRecord> {
        let rec = self.record(key)?;
        a.key(&rec.key_id, None);
        let alias = key.starts_with("alias/").then_some(key);
        if let Some(action) = a.event.operation.policy_action() {
            let policy = self.load_policy(&rec.key_id)?;
            let grants = self.load_grants(&rec.key_id)?;
            self.decide_with(a, &rec, &policy, &grants, action, None, alias)?;
        }
        Ok(rec)
    }

    /// The policy a new key gets: `explicit` (checked, with the lockout
    /// check unless bypassed), else the store's default.
    pub(super) fn new_key_policy(
        &self,
        explicit: Option<&str>,
        bypass_lockout_check: bool,
    ) -> Result<String> {
        if let Some(text) = explicit {
            let p = KeyPolicy::from_json(text)?;
            if !bypass_lockout_check {
                p.check_lockout(&self.principal)?;
            }
            return Ok(p.to_json());
        }
        let default = match self.inner.store.meta(DEFAULT_POLICY)? {
            Some(v) => String::from_utf8_lossy(&v).parse()?,
            None => DefaultKeyPolicy::AllowAll,
        };
        // Every key has its policy row (a removed one is noticed).
        Ok(match default {
            DefaultKeyPolicy::AllowAll => KeyPolicy::default_allow_all().to_json(),
            DefaultKeyPolicy::Creator => KeyPolicy::creator_only(&self.principal).to_json(),
        })
    }

    // ---------------------------------------------------------- policies --

    /// PutKeyPolicy: replaces a key's policy (JSON text in the grammar of
    /// AWS KMS key policies; see [`KeyPolicy`]). Refused when it would leave
    /// this principal unable to change it again, unless
    /// `bypass_policy_lockout_safety_check`.
    pub fn put_key_policy(
        &self,
        key: &str,
        policy: &str,
        bypass_policy_lockout_safety_check: bool,
    ) -> Result<()> {
        self.run(Operation::PutKeyPolicy, None, |a| {
            let p = KeyPolicy::from_json(policy)?;
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            if !bypass_policy_lockout_safety_check {
                p.check_lockout(&self.principal)?;
            }
            let text = p.to_json();
            let mac = self.policy_mac(&rec.key_id, &text)?;
            a.allow()?;
            self.inner.store.set_key_policy(&rec.key_id, &text, &mac)
        })
    }

    /// GetKeyPolicy: the key's policy as JSON text (the default policy for
    /// a key that has none of its own).
    pub fn get_key_policy(&self, key: &str) -> Result<String> {
        self.run(Operation::GetKeyPolicy, None, |a| {
            let rec = self.authorized(a, key)?;
            self.verified_policy(&rec.key_id, self.inner.store.key_policy(&rec.key_id)?)
        })
    }

    // ------------------------------------------------------------ grants --

    /// CreateGrant: returns the grant ID. Allowed by the key policy
    /// (`kms:CreateGrant`), or by a grant of this principal that lists
    /// `CreateGrant` and is at least as broad as the new one.
    pub fn create_grant(&self, key: &str, req: &GrantRequest) -> Result<String> {
        self.run(Operation::CreateGrant, None, |a| {
            check_principal(&req.grantee_principal)?;
            if let Some(r) = &req.retiring_principal {
                check_principal(r)?;
            }
            let _g = self.lock_mutations()?;
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            let constraints = match (
                &req.encryption_context_equals,
                &req.encryption_context_subset,
            ) {
                (None, None) => None,
                (e, s) => Some(GrantConstraints {
                    encryption_context_equals: e.clone(),
                    encryption_context_subset: s.clone(),
                }),
            };
            let grant = Grant {
                grant_id: KeyId::generate()?.to_string(),
                name: req.name.clone(),
                key_id: rec.key_id.to_string(),
                grantee_principal: req.grantee_principal.clone(),
                retiring_principal: req.retiring_principal.clone(),
                operations: req.operations.clone(),
                constraints,
                issuing_principal: self.principal.to_string(),
                created_at: ms_to_s(self.now_ms()),
            };
            grant.validate()?;
            // The policy, or a grant of this principal broad enough.
            let policy = self.load_policy(&rec.key_id)?;
            let alias = key.starts_with("alias/").then_some(key);
            let mut r = RequestContext::new(&self.principal, "kms:CreateGrant");
            if let Some(al) = alias {
                r = r.with_request_alias(al);
            }
            match policy.evaluate(&r) {
                Decision::Allow { .. } => {}
                Decision::Deny { .. } => self.authorize(a, &rec, "kms:CreateGrant", None, alias)?,
                Decision::NotAllowed => {
                    let grants = self.grants_for(&rec.key_id)?;
                    let from_grant = grants.iter().any(|g| {
                        g.grantee_principal == *self.principal
                            && g.may_create(&grant.operations, grant.constraints.as_ref())
                    });
                    if !from_grant {
                        self.authorize(a, &rec, "kms:CreateGrant", None, alias)?;
                    }
                }
            }
            a.event.detail = Some(format!(
                "grant {} to {} for {}",
                grant.grant_id,
                grant.grantee_principal,
                grant.operations.join(",")
            ));
            let json = grant.to_json();
            let mac = self.grant_mac(&grant.grant_id, &rec.key_id, &json)?;
            a.allow()?;
            self.inner
                .store
                .add_grant(&grant.grant_id, &rec.key_id, &json, &mac)?;
            Ok(grant.grant_id)
        })
    }

    /// ListGrants: the grants of a key.
    pub fn list_grants(&self, key: &str) -> Result<Vec<Grant>> {
        self.run(Operation::ListGrants, None, |a| {
            let rec = self.authorized(a, key)?;
            Ok(self.load_grants(&rec.key_id)?.as_ref().clone())
        })
    }

    /// RetireGrant: by the grant's retiring principal, its grantee (when
    /// the grant lists `RetireGrant`), or a principal the key policy allows
    /// `kms:RetireGrant`.
    pub fn retire_grant(&self, key: &str, grant_id: &str) -> Result<()> {
        self.run(Operation::RetireGrant, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.record(key)?;
            a.key(&rec.key_id, None);
            let grant = self.stored_grant(&rec, grant_id)?;
            let policy = self.load_policy(&rec.key_id)?;
            let d = decide_retire(&policy, &grant, &self.principal);
            if !d.is_allowed() {
                a.denied = true;
                return Err(Error::AccessDenied(format!(
                    "grant {grant_id} of key {}: {}",
                    rec.key_id,
                    d.reason()
                )));
            }
            a.event.detail = Some(format!("grant {grant_id}"));
            a.allow()?;
            self.inner
                .store
                .delete_grant(&rec.key_id, grant_id)
                .and_then(|deleted| grant_row_gone(deleted, &rec, grant_id))
        })
    }

    /// RevokeGrant: by a principal the key policy allows `kms:RevokeGrant`.
    /// Takes effect for the next operation (within the propagation bound
    /// in other processes).
    pub fn revoke_grant(&self, key: &str, grant_id: &str) -> Result<()> {
        self.run(Operation::RevokeGrant, None, |a| {
            let _g = self.lock_mutations()?;
            let rec = self.authorized(a, key)?;
            self.stored_grant(&rec, grant_id)?;
            a.event.detail = Some(format!("grant {grant_id}"));
            a.allow()?;
            self.inner
                .store
                .delete_grant(&rec.key_id, grant_id)
                .and_then(|deleted| grant_row_gone(deleted, &rec, grant_id))
        })
    }

    fn stored_grant(&self, rec: &KeyRecord, grant_id: &str) -> Result<Grant> {
        for g in self.load_grants(&rec.key_id)?.iter() {
            if g.grant_id == grant_id {
                return Ok(g.clone());
            }
        }
        Err(Error::KeyNotFound(format!(
            "grant {grant_id} of key {}",
            rec.key_id
        )))
    }
}

/// A grant row that verified but could not be deleted by its ID was edited
/// outside sealbox (its ID column no longer matches the grant it holds).
fn grant_row_gone(deleted: bool, rec: &KeyRecord, grant_id: &str) -> Result<()> {
    if deleted {
        Ok(())
    } else {
        Err(Error::StoreTampered(format!(
            "grant {grant_id} of key {} is stored under another ID: it was changed outside sealbox",
            rec.key_id
        )))
    }
}
