//! A secret's resource policy (issue 21): who may do what with one secret,
//! in the key-policy grammar over the `secretsmanager:` actions
//! ([`Vocabulary::SecretsManager`]), as AWS Secrets Manager's
//! `PutResourcePolicy` attaches one.
//!
//! A secret without a policy is governed by its key alone (reading and
//! changing it need `kms:Decrypt` on the key with the secret's context, as
//! before). A secret with one is governed by both: the policy decides each
//! operation on the secret first (an applying `Deny` wins; what it does not
//! allow is denied), then the key's policy and grants decide the key-store
//! operations its values go through. A refusal is [`Error::AccessDenied`]
//! and an audit record with outcome `denied` naming the deciding statement.
//!
//! The policy row carries a MAC under the backend's audit key over the
//! secret's name and the policy text: a policy edited outside sealbox is
//! refused ([`Error::StoreTampered`]). As for grants and aliases, a MAC
//! cannot show that a row was removed: a policy row deleted outside sealbox
//! leaves the secret governed by its key alone (docs/SECURITY.md).

use super::policy::{self, Decision, KeyPolicy, RequestContext, Vocabulary};
use super::*;
use crate::error::{Error, Result};

/// The action that changes a secret's policy (the lockout check's).
const PUT_ACTION: &str = "secretsmanager:PutResourcePolicy";

impl KeyStore {
    fn secret_policy_mac(&self, name: &str, policy: &str) -> Result<Vec<u8>> {
        self.inner.backend.audit_mac(&integrity::encode(
            "secret-policy",
            &[name.as_bytes(), policy.as_bytes()],
        ))
    }

    /// The secret's policy, parsed, once its MAC verifies; `None` without
    /// one.
    fn secret_policy_of(&self, name: &str) -> Result<Option<KeyPolicy>> {
        let Some((text, mac)) = self.secret_store()?.secret_policy(name)? else {
            return Ok(None);
        };
        let expected = self.secret_policy_mac(name, &text)?;
        if mac.is_empty() || !crypto::ct_eq(&mac, &expected) {
            return Err(Error::StoreTampered(format!(
                "the resource policy of secret {name} does not carry sealbox's MAC: it was \
                 changed outside sealbox; the secret is not used"
            )));
        }
        KeyPolicy::from_json_in(&text, Vocabulary::SecretsManager)
            .map(Some)
            .map_err(|e| {
                Error::StoreTampered(format!(
                    "the resource policy of secret {name} is not one sealbox wrote ({e})"
                ))
            })
    }

    /// Decides `action` on secret `name` for this handle's principal by
    /// the secret's resource policy (allowed when it has none).
    pub(super) fn authorize_secret(
        &self,
        a: &mut Audit<'_>,
        name: &str,
        action: &str,
    ) -> Result<()> {
        secrets::check_secret_name(name)?;
        let Some(policy) = self.secret_policy_of(name)? else {
            return Ok(());
        };
        let why = match policy.evaluate(&RequestContext::new(&self.principal, action)) {
            Decision::Allow { .. } => return Ok(()),
            Decision::Deny { sid, statement } => format!(
                "denied by resource policy statement {}",
                policy::statement_name(statement, sid.as_deref())
            ),
            Decision::NotAllowed => {
                "no statement of the secret's resource policy allows it".to_owned()
            }
        };
        a.denied = true;
        Err(Error::AccessDenied(format!(
            "secret {name}: {action} for principal {}: {why}",
            self.principal
        )))
    }

    /// PutResourcePolicy: attaches `policy` (JSON text, the key-policy
    /// grammar over `secretsmanager:` actions) to secret `name`, replacing
    /// any. Refused, unless `bypass_policy_lockout_safety_check`, when it
    /// would not let this principal change it again.
    pub fn put_secret_resource_policy(
        &self,
        name: &str,
        policy: &str,
        bypass_policy_lockout_safety_check: bool,
    ) -> Result<()> {
        self.run(Operation::PutResourcePolicy, None, |a| {
            a.event.detail = Some(format!("secret {name}"));
            let parsed = KeyPolicy::from_json_in(policy, Vocabulary::SecretsManager)?;
            if !bypass_policy_lockout_safety_check {
                parsed.check_lockout_of(&self.principal, PUT_ACTION, "resource policy")?;
            }
            let _g = self.lock_mutations()?;
            self.live_secret_locked(name)?;
            self.authorize_secret(a, name, PUT_ACTION)?;
            let text = parsed.to_json();
            let mac = self.secret_policy_mac(name, &text)?;
            a.allow()?;
            self.secret_store()?
                .set_secret_policy(name, Some((&text, &mac)))
        })
    }

    /// GetResourcePolicy: the secret's policy as canonical JSON text, or
    /// `None` when it has none.
    pub fn get_secret_resource_policy(&self, name: &str) -> Result<Option<String>> {
        self.run(Operation::GetResourcePolicy, None, |a| {
            a.event.detail = Some(format!("secret {name}"));
            self.secret_row(name)?;
            self.authorize_secret(a, name, "secretsmanager:GetResourcePolicy")?;
            Ok(self.secret_policy_of(name)?.map(|p| p.to_json()))
        })
    }

    /// DeleteResourcePolicy: the secret is governed by its key alone again.
    pub fn delete_secret_resource_policy(&self, name: &str) -> Result<()> {
        self.run(Operation::DeleteResourcePolicy, None, |a| {
            a.event.detail = Some(format!("secret {name}"));
            let _g = self.lock_mutations()?;
            self.secret_row_locked(name)?;
            self.authorize_secret(a, name, "secretsmanager:DeleteResourcePolicy")?;
            a.allow()?;
            self.secret_store()?.set_secret_policy(name, None)
        })
    }
}
