//! Grants, as in AWS KMS: a grant lets one principal (the grantee) call
//! some operations on one key, optionally only with a given encryption
//! context, beside what the key policy allows. A grant can only allow,
//! never deny; it is ended by retiring or revoking it.
//!
//! - **Operations** are AWS's grant operations ([`GRANT_OPERATIONS`]),
//!   named without the `kms:` prefix. A request's action `kms:X` is
//!   covered when `X` is listed (compared without regard to case, as
//!   actions are); ReEncrypt checks `ReEncryptFrom` on its source key and
//!   `ReEncryptTo` on its destination key.
//! - **Constraints** ([`GrantConstraints`]): at most one of
//!   `encryption_context_equals` (the request's context must be exactly
//!   these pairs) and `encryption_context_subset` (it must contain these
//!   pairs, and may hold more). As in AWS they apply to the operations
//!   that take an encryption context ([`CONSTRAINABLE_OPERATIONS`]); a
//!   constrained grant may also list `DescribeKey` and `RetireGrant`, to
//!   which the constraint does not apply, and `CreateGrant`, in which case
//!   every grant made through it must be at least as constrained
//!   ([`Grant::may_create`]). Any other operation (Sign, Verify, GenerateMac,
//!   ...) takes no encryption context and is refused beside constraints.
//!   Constraint keys are compared without regard to ASCII case and values
//!   exactly, as in AWS; two keys of one constraint that differ only in
//!   case are refused. Each constraint holds 1 to 8 pairs, values of at
//!   most 384 characters.
//! - **Retiring** ([`Grant::can_retire`]): the retiring principal, and the
//!   grantee when the grant lists `RetireGrant` (AWS's rule). A key policy
//!   allowing `kms:RetireGrant` also lets a principal retire the key's
//!   grants ([`decide_retire`]); revoking is `kms:RevokeGrant`, a policy
//!   action only.
//!
//! [`decide`] combines a key's policy and grants into the one decision an
//! operation asks for.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::policy::{statement_name, Decision, KeyPolicy, RequestContext};
use crate::error::{Error, Result};
use crate::message::EncryptionContext;

/// AWS KMS's grant operations: the only names a grant may list.
pub const GRANT_OPERATIONS: &[&str] = &[
    "CreateGrant",
    "Decrypt",
    "DeriveSharedSecret",
    "DescribeKey",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GetPublicKey",
    "ReEncryptFrom",
    "ReEncryptTo",
    "RetireGrant",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// The grant operations that take an encryption context, to which
/// constraints apply.
pub const CONSTRAINABLE_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
];

/// Operations a constrained grant may list although the constraint does
/// not apply to them (for `CreateGrant` it binds the grants made).
const ALONGSIDE_CONSTRAINTS: &[&str] = &["CreateGrant", "DescribeKey", "RetireGrant"];

/// Most pairs in one constraint (AWS's limit).
pub const MAX_CONSTRAINT_PAIRS: usize = 8;
/// Longest constraint value, in characters (AWS's limit).
pub const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;
/// Longest grant name, in characters (AWS's limit).
pub const MAX_GRANT_NAME_CHARS: usize = 256;
/// Longest grant id, in characters (AWS's limit).
pub const MAX_GRANT_ID_CHARS: usize = 128;

/// The encryption-context constraint of a grant: at most one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConstraints {
    /// The request's encryption context must be exactly these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
    /// The request's encryption context must contain these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
}

impl GrantConstraints {
    /// Checks the shape: exactly one of the two, 1 to 8 pairs, values of
    /// at most 384 characters, no two keys equal but for case.
    pub fn validate(&self) -> Result<()> {
        let (name, pairs) =
            match (
                &self.encryption_context_equals,
                &self.encryption_context_subset,
            ) {
                (Some(_), Some(_)) => return Err(invalid(
                    "give at most one of encryption_context_equals and encryption_context_subset"
                        .into(),
                )),
                (None, None) => {
                    return Err(invalid(
                        "constraints name neither encryption_context_equals nor \
                     encryption_context_subset"
                            .into(),
                    ))
                }
                (Some(e), None) => ("encryption_context_equals", e),
                (None, Some(s)) => ("encryption_context_subset", s),
            };
        if pairs.is_empty() || pairs.len() > MAX_CONSTRAINT_PAIRS {
            return Err(invalid(format!(
                "{name} holds {} pairs; it must hold 1 to {MAX_CONSTRAINT_PAIRS}",
                pairs.len()
            )));
        }
        for (k, v) in pairs {
            if k.is_empty() {
                return Err(invalid(format!("{name} has an empty key")));
            }
            if v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS {
                return Err(invalid(format!(
                    "{name}: the value of {k:?} is longer than {MAX_CONSTRAINT_VALUE_CHARS} characters"
                )));
            }
            if let Some(other) = pairs.keys().find(|o| *o != k && o.eq_ignore_ascii_case(k)) {
                return Err(invalid(format!(
                    "{name} has keys {k:?} and {other:?}, which differ only in case \
                     (constraint keys are compared without regard to case)"
                )));
            }
        }
        Ok(())
    }

    /// Whether a request's encryption context satisfies the constraint
    /// (keys compared without regard to ASCII case, values exactly).
    pub fn matches(&self, ec: Option<&EncryptionContext>) -> bool {
        let empty = EncryptionContext::new();
        let ec = ec.unwrap_or(&empty);
        if let Some(want) = &self.encryption_context_equals {
            if ec.len() != want.len() || !contains_all(ec, want) || !contains_all(want, ec) {
                return false;
            }
        }
        if let Some(want) = &self.encryption_context_subset {
            if !contains_all(ec, want) {
                return false;
            }
        }
        true
    }

    /// Whether `self` is at least as strict as `parent` (`None`: no
    /// constraint): every context `self` admits, `parent` admits too.
    pub fn at_least_as_strict_as(&self, parent: Option<&GrantConstraints>) -> bool {
        let Some(parent) = parent else { return true };
        match (
            &self.encryption_context_equals,
            &self.encryption_context_subset,
        ) {
            // An exact context is admitted by the parent iff it matches it.
            (Some(eq), _) => parent.matches(Some(eq)),
            // A subset constraint admits any superset of it: only a parent
            // subset contained in it admits them all.
            (None, Some(sub)) => match (
                &parent.encryption_context_equals,
                &parent.encryption_context_subset,
            ) {
                (None, Some(psub)) => contains_all(sub, psub),
                _ => false,
            },
            (None, None) => false,
        }
    }
}

/// Whether `ec` holds every pair of `want` (keys without regard to case).
fn contains_all(ec: &EncryptionContext, want: &EncryptionContext) -> bool {
    want.iter().all(|(k, v)| {
        ec.get(k) == Some(v)
            || ec
                .iter()
                .any(|(ek, ev)| ek.eq_ignore_ascii_case(k) && ev == v)
    })
}

/// A grant on one key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The grant's id (made by the key store).
    pub grant_id: String,
    /// An optional name (letters, digits, `:/_-`; at most 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key it is on.
    pub key_id: String,
    /// The principal it lets act.
    pub grantee_principal: String,
    /// A principal that may retire it besides the grantee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    /// The grant operations it allows (AWS names, e.g. `Decrypt`).
    pub operations: Vec<String>,
    /// Its encryption-context constraint, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
    /// The principal that created it.
    pub issuing_principal: String,
    /// When it was created, in seconds since the Unix epoch.
    pub created_at: i64,
}

impl Grant {
    /// Checks every field (see the [module docs](self)).
    pub fn validate(&self) -> Result<()> {
        let non_empty = |what: &str, v: &str| {
            if v.is_empty() {
                Err(invalid(format!("{what} is empty")))
            } else {
                Ok(())
            }
        };
        non_empty("grant_id", &self.grant_id)?;
        if self.grant_id.chars().count() > MAX_GRANT_ID_CHARS {
            return Err(invalid(format!(
                "grant_id is longer than {MAX_GRANT_ID_CHARS} characters"
            )));
        }
        non_empty("key_id", &self.key_id)?;
        non_empty("grantee_principal", &self.grantee_principal)?;
        non_empty("issuing_principal", &self.issuing_principal)?;
        if let Some(r) = &self.retiring_principal {
            non_empty("retiring_principal", r)?;
        }
        if let Some(name) = &self.name {
            let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-');
            if name.is_empty()
                || name.chars().count() > MAX_GRANT_NAME_CHARS
                || !name.chars().all(ok_char)
            {
                return Err(invalid(format!(
                    "grant name {name:?} must be 1 to {MAX_GRANT_NAME_CHARS} letters, digits, \
                     ':', '/', '_' or '-'"
                )));
            }
        }
        if self.operations.is_empty() {
            return Err(invalid("a grant lists at least one operation".into()));
        }
        for (i, op) in self.operations.iter().enumerate() {
            if !GRANT_OPERATIONS.contains(&op.as_str()) {
                return Err(invalid(format!(
                    "{op:?} is not a grant operation (expected one of: {})",
                    GRANT_OPERATIONS.join(", ")
                )));
            }
            if self.operations[..i].contains(op) {
                return Err(invalid(format!("operation {op} is listed twice")));
            }
        }
        if let Some(c) = &self.constraints {
            c.validate()?;
            if let Some(op) = self.operations.iter().find(|op| {
                !CONSTRAINABLE_OPERATIONS.contains(&op.as_str())
                    && !ALONGSIDE_CONSTRAINTS.contains(&op.as_str())
            }) {
                return Err(invalid(format!(
                    "{op} takes no encryption context, so a grant for it cannot have \
                     encryption-context constraints"
                )));
            }
        }
        Ok(())
    }

    /// Reads a stored grant (JSON), validated.
    pub fn from_json(text: &str) -> Result<Self> {
        let grant: Grant = serde_json::from_str(text)
            .map_err(|e| invalid(format!("not a valid grant record: {e}")))?;
        grant.validate()?;
        Ok(grant)
    }

    /// The grant as JSON, for storage.
    pub fn to_json(&self) -> String {
        // A struct of strings, maps and an integer always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The grant operation an action names (`kms:Decrypt` → `Decrypt`),
    /// if the grant lists it.
    fn listed(&self, action: &str) -> Option<&str> {
        let name = action
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("kms:"))
            .map(|_| &action[4..])?;
        self.operations
            .iter()
            .map(String::as_str)
            .find(|op| op.eq_ignore_ascii_case(name))
    }

    /// Whether this grant allows `req`: its grantee, a listed operation,
    /// and (for operations that take an encryption context) a context
    /// inside the constraint.
    pub fn allows(&self, req: &RequestContext<'_>) -> bool {
        if req.principal != self.grantee_principal {
            return false;
        }
        let Some(op) = self.listed(req.action) else {
            return false;
        };
        match &self.constraints {
            Some(c) if CONSTRAINABLE_OPERATIONS.contains(&op) => c.matches(req.encryption_context),
            _ => true,
        }
    }

    /// Whether `caller` may retire this grant by the grant alone: its
    /// retiring principal, or its grantee if it lists `RetireGrant`.
    pub fn can_retire(&self, caller: &str) -> bool {
        self.retiring_principal.as_deref() == Some(caller)
            || (self.grantee_principal == caller
                && self.operations.iter().any(|o| o == "RetireGrant"))
    }

    /// Whether the grantee may, through this grant, create a grant with
    /// `operations` and `constraints`: the grant lists `CreateGrant`, every
    /// operation is one it lists, and the new constraint is at least as
    /// strict as its own (AWS's rule for grants made from grants).
    pub fn may_create(
        &self,
        operations: &[String],
        constraints: Option<&GrantConstraints>,
    ) -> bool {
        let listed = |op: &str| self.operations.iter().any(|o| o == op);
        listed("CreateGrant")
            && operations.iter().all(|op| listed(op))
            && match (&self.constraints, constraints) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(mine), Some(theirs)) => theirs.at_least_as_strict_as(Some(mine)),
            }
    }
}

/// The decision of a key's policy and grants on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDecision {
    /// A policy statement allows it and none denies it.
    PolicyAllow {
        /// The statement's `Sid`.
        sid: Option<String>,
        /// The statement's index (from 0).
        statement: usize,
    },
    /// A policy statement denies it (wins over every allow and grant).
    PolicyDeny {
        /// The statement's `Sid`.
        sid: Option<String>,
        /// The statement's index (from 0).
        statement: usize,
    },
    /// No statement allows it, a grant does.
    Granted {
        /// The grant.
        grant_id: String,
    },
    /// Nothing allows it.
    NotAllowed {
        /// The action asked for.
        action: String,
        /// The principal that asked.
        principal: String,
    },
}

impl AccessDecision {
    /// Whether the request may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::PolicyAllow { .. } | Self::Granted { .. })
    }

    /// The reason, for the audit record and the `AccessDenied` message:
    /// the deciding statement or grant, or what nothing allows.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    fn from_policy(d: Decision) -> Option<Self> {
        match d {
            Decision::Allow { sid, statement } => Some(Self::PolicyAllow { sid, statement }),
            Decision::Deny { sid, statement } => Some(Self::PolicyDeny { sid, statement }),
            Decision::NotAllowed => None,
        }
    }
}

impl fmt::Display for AccessDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PolicyAllow { sid, statement } => write!(
                f,
                "allowed by key policy statement {}",
                statement_name(*statement, sid.as_deref())
            ),
            Self::PolicyDeny { sid, statement } => write!(
                f,
                "denied by key policy statement {}",
                statement_name(*statement, sid.as_deref())
            ),
            Self::Granted { grant_id } => write!(f, "allowed by grant {grant_id}"),
            Self::NotAllowed { action, principal } => write!(
                f,
                "no statement or grant allows {action} for principal {principal:?}"
            ),
        }
    }
}

/// Decides `req` on a key with `policy` and `grants` (the key's own): an
/// explicit policy deny wins, then a policy allow, then the first grant
/// that allows, else nothing allows.
pub fn decide(policy: &KeyPolicy, grants: &[Grant], req: &RequestContext<'_>) -> AccessDecision {
    if let Some(d) = AccessDecision::from_policy(policy.evaluate(req)) {
        return d;
    }
    match grants.iter().find(|g| g.allows(req)) {
        Some(g) => AccessDecision::Granted {
            grant_id: g.grant_id.clone(),
        },
        None => not_allowed(req),
    }
}

/// Decides whether `principal` may retire `grant`: an explicit policy deny
/// of `kms:RetireGrant` wins, then the grant's own rule
/// ([`Grant::can_retire`]), then a policy allow of `kms:RetireGrant`.
pub fn decide_retire(policy: &KeyPolicy, grant: &Grant, principal: &str) -> AccessDecision {
    let req = RequestContext::new(principal, "kms:RetireGrant");
    match policy.evaluate(&req) {
        Decision::Deny { sid, statement } => AccessDecision::PolicyDeny { sid, statement },
        _ if grant.can_retire(principal) => AccessDecision::Granted {
            grant_id: grant.grant_id.clone(),
        },
        d => AccessDecision::from_policy(d).unwrap_or_else(|| not_allowed(&req)),
    }
}

fn not_allowed(req: &RequestContext<'_>) -> AccessDecision {
    AccessDecision::NotAllowed {
        action: req.action.to_owned(),
        principal: req.principal.to_owned(),
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(format!("grant: {message}"))
}
