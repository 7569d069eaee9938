//! Key policies: who may do what with one key, in the grammar of AWS KMS
//! key policies (a documented subset), and the pure decision over them.
//!
//! Nothing here reads or writes storage: the key store hands a parsed
//! [`KeyPolicy`] and a [`RequestContext`] to [`KeyPolicy::evaluate`] (or,
//! with the key's grants, to [`decide`](super::decide)) before it touches
//! key material.
//!
//! # Grammar
//!
//! ```json
//! {
//!   "Version": "2012-10-17",
//!   "Id": "optional",
//!   "Statement": [{
//!     "Sid": "AppUsesItsTenant",
//!     "Effect": "Allow",
//!     "Principal": {"Sealbox": ["billing", "reports"]},
//!     "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
//!     "Resource": "*",
//!     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}
//!   }]
//! }
//! ```
//!
//! - `Version` is optional; when present it must be `"2012-10-17"` (the
//!   only version sealbox knows; absent means that version).
//! - `Statement` is one object or a non-empty array of them. Each has an
//!   optional `Sid` (any string), `Effect` (`"Allow"` or `"Deny"`, spelled
//!   exactly), `Principal`, `Action`, `Resource` and an optional
//!   `Condition`. `NotPrincipal`, `NotAction` and `NotResource` are not
//!   supported and, like every unknown field, refused by name.
//! - `Principal` is `"*"` (every principal), `{"Sealbox": "name"}` or
//!   `{"Sealbox": ["a", "b"]}`. Names are compared exactly (no wildcards;
//!   `"*"` in the list means every principal, as in AWS). `{"AWS": "*"}`
//!   is accepted as `"*"` so that AWS policies that open a key to everyone
//!   read the same; any other AWS principal (an ARN) is refused, since
//!   sealbox's principals are the names its handles act for.
//! - `Action` is a string or an array of `kms:<Action>` names, compared
//!   without regard to case as in AWS, with `*` (any run) and `?` (one
//!   character) wildcards. A name that is not a KMS action, or a pattern
//!   that matches none ([`KMS_ACTIONS`]), is refused: a typo would
//!   otherwise silently allow (or fail to deny) nothing.
//! - `Resource` must be `"*"` (or `["*"]`): a key policy applies to its
//!   own key.
//! - `Condition`: see [`condition`] for the operators and keys.
//! - The document is at most [`MAX_POLICY_BYTES`] bytes, as in AWS. A
//!   field given twice in one JSON object is refused (a JSON parser would
//!   keep one of them silently).
//!
//! [`KeyPolicy::to_json`] writes the canonical form: keys in a fixed
//! order, `Statement` always an array, a one-element list as a string.
//! Parsing the canonical form gives back an equal policy.
//!
//! # Evaluation
//!
//! A statement applies when its principal, one of its actions and all of
//! its conditions match. An applying `Deny` decides at once (explicit deny
//! wins over every allow); otherwise the first applying `Allow` decides;
//! otherwise nothing allows ([`Decision::NotAllowed`]): with a policy, what
//! it does not allow is denied.
//!
//! # The action of each operation
//!
//! The action checked for an [`Operation`] is `kms:` + its name, except:
//!
//! | Operation | Action | Why |
//! |---|---|---|
//! | `ImportKey` | `kms:ImportKeyMaterial` | sealbox's one-call form of ImportKeyMaterial |
//! | `RotateKey` | `kms:RotateKeyOnDemand` | AWS's name for rotation on request; automatic rotation is the store's own act |
//! | `ReEncrypt` | `kms:ReEncryptFrom` | checked on the source key; the destination key's policy must allow [`RE_ENCRYPT_TO`] |
//! | `CreateKey` | none | no key exists yet (in AWS an IAM-policy action, not a key-policy one) |
//! | `ListKeys`, `ListAliases` | none | not about one key (IAM-policy actions in AWS) |
//! | `GenerateRandom` | none | uses no key |
//! | `DeleteKey` | none | the end of a waiting period: authorised when `kms:ScheduleKeyDeletion` was |
//! | `ImportKeyMaterial` | `kms:ImportKeyMaterial` | as ImportKey |
//! | `DeleteExpiredKeyMaterial` | none | the end of the material's ValidTo, set when it was imported |
//! | `StartAuditSegment` | none | an operator's act on the audit log, not on a key |
//!
//! The operations of access control itself check `kms:PutKeyPolicy`,
//! `kms:GetKeyPolicy`, `kms:CreateGrant`, `kms:ListGrants`,
//! `kms:RetireGrant` and `kms:RevokeGrant` (strings, so that the engine
//! takes any action, not only an [`Operation`]).

mod action;
pub mod condition;
mod strict_json;

use serde::Deserialize;
use serde_json::{Map, Value};

#[cfg(doc)]
use super::Operation;
use crate::error::{Error, Result};
use crate::message::EncryptionContext;
pub(crate) use action::glob_match;
use action::{parse_action, ActionPattern};
pub use action::{Vocabulary, KMS_ACTIONS, RE_ENCRYPT_TO, SECRETS_MANAGER_ACTIONS};
use condition::Condition;
use strict_json::StrictJson;

/// Largest key policy document, in bytes of JSON text (as in AWS KMS).
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The one policy language version sealbox reads and writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// What a request asks, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestContext<'a> {
    /// The principal the handle acts for.
    pub principal: &'a str,
    /// The action, e.g. `kms:Decrypt` (see [`Operation::policy_action`]).
    pub action: &'a str,
    /// The request's encryption context, if it has one.
    pub encryption_context: Option<&'a EncryptionContext>,
    /// The alias the request named the key by, if it did (`alias/...`).
    pub request_alias: Option<&'a str>,
}

impl<'a> RequestContext<'a> {
    /// A request with no encryption context and no alias.
    pub fn new(principal: &'a str, action: &'a str) -> Self {
        Self {
            principal,
            action,
            encryption_context: None,
            request_alias: None,
        }
    }

    /// The same request with an encryption context.
    pub fn with_encryption_context(mut self, ec: &'a EncryptionContext) -> Self {
        self.encryption_context = Some(ec);
        self
    }

    /// The same request, naming the key by an alias.
    pub fn with_request_alias(mut self, alias: &'a str) -> Self {
        self.request_alias = Some(alias);
        self
    }
}

/// The outcome of evaluating one key policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A statement allows the request and none denies it.
    Allow {
        /// The deciding statement's `Sid`.
        sid: Option<String>,
        /// The deciding statement's index (from 0).
        statement: usize,
    },
    /// A statement denies the request explicitly (wins over every allow).
    Deny {
        /// The deciding statement's `Sid`.
        sid: Option<String>,
        /// The deciding statement's index (from 0).
        statement: usize,
    },
    /// No statement allows the request.
    NotAllowed,
}

impl Decision {
    /// Whether the request may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The statement allows what it matches.
    Allow,
    /// The statement denies what it matches, whatever else allows it.
    Deny,
}

impl Effect {
    /// The name as written in a policy.
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// Whom a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// Every principal (`"*"`).
    Any,
    /// These principals, by exact name.
    Named(Vec<String>),
}

impl Principals {
    fn matches(&self, principal: &str) -> bool {
        match self {
            Principals::Any => true,
            Principals::Named(names) => names.iter().any(|n| n == principal),
        }
    }
}

/// One statement of a key policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principals: Principals,
    actions: Vec<ActionPattern>,
    conditions: Vec<Condition>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// The principals it is about.
    pub fn principals(&self) -> &Principals {
        &self.principals
    }
    /// The action patterns, as written.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.text.as_str())
    }
    /// The conditions (all must hold).
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn applies(&self, req: &RequestContext<'_>, action_lower: &str) -> bool {
        self.principals.matches(req.principal)
            && self
                .actions
                .iter()
                .any(|a| glob_match(&a.lower, action_lower))
            && self.conditions.iter().all(|c| c.matches(req))
    }
}

/// A parsed, validated key policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    id: Option<String>,
    statements: Vec<Statement>,
}

impl KeyPolicy {
    /// Parses a key policy from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_json_in(text, Vocabulary::Kms)
    }

    /// Parses a policy over `vocabulary`'s actions from JSON text (a
    /// secret's resource policy: [`Vocabulary::SecretsManager`]).
    pub fn from_json_in(text: &str, vocabulary: Vocabulary) -> Result<Self> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(too_large(text.len()));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let StrictJson(value) = StrictJson::deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        Self::parse(&value, vocabulary)
    }

    /// Parses a key policy from a JSON value (a dict from Python, an object
    /// from Node). Its size is that of its compact JSON text.
    pub fn from_value(value: &Value) -> Result<Self> {
        Self::from_value_in(value, Vocabulary::Kms)
    }

    /// [`from_value`](Self::from_value) over `vocabulary`'s actions.
    pub fn from_value_in(value: &Value, vocabulary: Vocabulary) -> Result<Self> {
        let len = serde_json::to_string(value)
            .map_err(|e| invalid(format!("not valid JSON: {e}")))?
            .len();
        if len > MAX_POLICY_BYTES {
            return Err(too_large(len));
        }
        Self::parse(value, vocabulary)
    }

    /// The policy of keys made before access control, and of keys created
    /// without one: every principal may do everything (`kms:*`).
    pub fn default_allow_all() -> Self {
        Self::single("AllowEveryPrincipal", Principals::Any, "kms:*".to_owned())
    }

    /// Only `principal` may do anything with the key (the store setting
    /// `default_policy="creator"`).
    pub fn creator_only(principal: &str) -> Self {
        Self::single(
            "AllowCreatingPrincipal",
            Principals::Named(vec![principal.to_owned()]),
            "kms:*".to_owned(),
        )
    }

    fn single(sid: &str, principals: Principals, action: String) -> Self {
        Self {
            id: None,
            statements: vec![Statement {
                sid: Some(sid.to_owned()),
                effect: Effect::Allow,
                principals,
                actions: vec![ActionPattern {
                    lower: action.to_ascii_lowercase(),
                    text: action,
                }],
                conditions: Vec::new(),
            }],
        }
    }

    /// The policy's `Id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Decides `req`: an applying `Deny` wins, then the first applying
    /// `Allow`, else [`Decision::NotAllowed`].
    pub fn evaluate(&self, req: &RequestContext<'_>) -> Decision {
        let action = req.action.to_ascii_lowercase();
        let mut allow = None;
        for (i, s) in self.statements.iter().enumerate() {
            if !s.applies(req, &action) {
                continue;
            }
            match s.effect {
                Effect::Deny => {
                    return Decision::Deny {
                        sid: s.sid.clone(),
                        statement: i,
                    }
                }
                Effect::Allow if allow.is_none() => allow = Some((i, s)),
                Effect::Allow => {}
            }
        }
        match allow {
            Some((i, s)) => Decision::Allow {
                sid: s.sid.clone(),
                statement: i,
            },
            None => Decision::NotAllowed,
        }
    }

    /// AWS's lockout safety check: refuses a policy under which `caller`
    /// could not call `kms:PutKeyPolicy` (with no encryption context and no
    /// alias), since nobody might be able to change it again.
    pub fn check_lockout(&self, caller: &str) -> Result<()> {
        self.check_lockout_of(caller, "kms:PutKeyPolicy", "key policy")
    }

    /// The lockout check for the action that changes the policy (`what`
    /// names the policy in the message).
    pub fn check_lockout_of(&self, caller: &str, put_action: &str, what: &str) -> Result<()> {
        let req = RequestContext::new(caller, put_action);
        match self.evaluate(&req) {
            Decision::Allow { .. } => Ok(()),
            d => {
                let why = match d {
                    Decision::Deny { sid, statement } => {
                        format!(
                            "statement {} denies it",
                            statement_name(statement, sid.as_deref())
                        )
                    }
                    _ => "no statement allows it".to_owned(),
                };
                Err(invalid(format!(
                    "the new {what} would not allow principal {caller:?} to call \
                     {put_action} ({why}), so it might never be changed again; \
                     pass bypass_policy_lockout_safety_check=true to set it anyway"
                )))
            }
        }
    }

    /// The canonical JSON text (see the [module docs](self)).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The canonical JSON value.
    pub fn to_value(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("Version".into(), POLICY_VERSION.into());
        if let Some(id) = &self.id {
            doc.insert("Id".into(), id.as_str().into());
        }
        let statements = self.statements.iter().map(statement_value).collect();
        doc.insert("Statement".into(), Value::Array(statements));
        Value::Object(doc)
    }

    fn parse(value: &Value, vocabulary: Vocabulary) -> Result<Self> {
        let doc = value.as_object().ok_or_else(|| {
            invalid(format!(
                "a key policy is a JSON object, not {}",
                kind(value)
            ))
        })?;
        let mut id = None;
        let mut statements = None;
        for (field, v) in doc {
            match field.as_str() {
                "Version" => match v.as_str() {
                    Some(POLICY_VERSION) => {}
                    _ => {
                        return Err(invalid(format!(
                            "Version must be \"{POLICY_VERSION}\", not {v}"
                        )))
                    }
                },
                "Id" => id = Some(string(v, "Id")?.to_owned()),
                "Statement" => statements = Some(v),
                other => {
                    return Err(invalid(format!(
                        "unknown field {other:?} (a key policy has Version, Id and Statement)"
                    )))
                }
            }
        }
        let statements = match statements {
            None => return Err(invalid("Statement is missing".into())),
            Some(Value::Array(list)) if list.is_empty() => {
                return Err(invalid("Statement is an empty array".into()))
            }
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(one) => vec![one],
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| parse_statement(i, s, vocabulary))
            .collect::<Result<_>>()?;
        Ok(Self { id, statements })
    }
}

fn parse_statement(index: usize, value: &Value, vocabulary: Vocabulary) -> Result<Statement> {
    let obj = value.as_object().ok_or_else(|| {
        invalid(format!(
            "statement {index} is a JSON object, not {}",
            kind(value)
        ))
    })?;
    let sid = match obj.get("Sid") {
        Some(v) => Some(string(v, "Sid").map_err(|e| at(index, None, e))?.to_owned()),
        None => None,
    };
    let here = |e: Error| at(index, sid.as_deref(), e);
    for field in obj.keys() {
        if !matches!(
            field.as_str(),
            "Sid" | "Effect" | "Principal" | "Action" | "Resource" | "Condition"
        ) {
            return Err(here(invalid(format!(
                "unknown field {field:?} (a statement has Sid, Effect, Principal, Action, \
                 Resource and Condition)"
            ))));
        }
    }
    let required = |name: &str| {
        obj.get(name)
            .ok_or_else(|| here(invalid(format!("{name} is missing"))))
    };
    let effect = match required("Effect")?.as_str() {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => {
            return Err(here(invalid(format!(
                "Effect must be \"Allow\" or \"Deny\", not {}",
                obj["Effect"]
            ))))
        }
    };
    let principals = parse_principal(required("Principal")?).map_err(here)?;
    let actions = strings(required("Action")?, "Action")
        .and_then(|list| {
            list.into_iter()
                .map(|a| parse_action(a, vocabulary))
                .collect()
        })
        .map_err(here)?;
    parse_resource(required("Resource")?).map_err(here)?;
    let conditions = match obj.get("Condition") {
        Some(v) => condition::parse(v).map_err(here)?,
        None => Vec::new(),
    };
    Ok(Statement {
        sid,
        effect,
        principals,
        actions,
        conditions,
    })
}

fn parse_principal(value: &Value) -> Result<Principals> {
    let bad = || {
        invalid(format!(
            "Principal must be \"*\", {{\"Sealbox\": \"name\"}} or {{\"Sealbox\": [\"name\", ...]}}, \
             not {value}"
        ))
    };
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(map) if map.len() == 1 => {
            let (kind, v) = map.iter().next().ok_or_else(bad)?;
            match kind.as_str() {
                "Sealbox" => {
                    let names = strings(v, "Principal.Sealbox")?;
                    if names.iter().any(|n| n.is_empty()) {
                        return Err(invalid("Principal.Sealbox names an empty principal".into()));
                    }
                    if names.contains(&"*") {
                        return Ok(Principals::Any);
                    }
                    Ok(Principals::Named(
                        names.into_iter().map(str::to_owned).collect(),
                    ))
                }
                "AWS" if v.as_str() == Some("*") => Ok(Principals::Any),
                "AWS" => Err(invalid(format!(
                    "Principal {{\"AWS\": {v}}} names AWS principals, which sealbox does not \
                     have; name sealbox principals with {{\"Sealbox\": [...]}}"
                ))),
                other => Err(invalid(format!(
                    "unknown principal type {other:?} (sealbox knows \"Sealbox\", and \
                     {{\"AWS\": \"*\"}} as \"*\")"
                ))),
            }
        }
        _ => Err(bad()),
    }
}

fn parse_resource(value: &Value) -> Result<()> {
    let ok = match value {
        Value::String(s) => s == "*",
        Value::Array(list) => list.len() == 1 && list[0].as_str() == Some("*"),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "Resource must be \"*\" (a key policy applies to its own key), not {value}"
        )))
    }
}

fn statement_value(s: &Statement) -> Value {
    let mut obj = Map::new();
    if let Some(sid) = &s.sid {
        obj.insert("Sid".into(), sid.as_str().into());
    }
    obj.insert("Effect".into(), s.effect.as_str().into());
    let principal = match &s.principals {
        Principals::Any => Value::from("*"),
        Principals::Named(names) => {
            let mut m = Map::new();
            m.insert(
                "Sealbox".into(),
                one_or_many(names.iter().map(String::as_str)),
            );
            Value::Object(m)
        }
    };
    obj.insert("Principal".into(), principal);
    obj.insert("Action".into(), one_or_many(s.actions()));
    obj.insert("Resource".into(), "*".into());
    if !s.conditions.is_empty() {
        obj.insert("Condition".into(), condition::to_value(&s.conditions));
    }
    Value::Object(obj)
}

/// One value as a string, several as an array (the canonical form).
fn one_or_many<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    let mut list: Vec<Value> = items.map(Value::from).collect();
    if list.len() == 1 {
        list.remove(0)
    } else {
        Value::Array(list)
    }
}

/// A string, or a non-empty array of strings.
fn strings<'a>(value: &'a Value, what: &str) -> Result<Vec<&'a str>> {
    match value {
        Value::String(s) => Ok(vec![s]),
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid(format!("{what} lists {v}, which is not a string")))
            })
            .collect(),
        _ => Err(invalid(format!(
            "{what} must be a string or a non-empty array of strings, not {value}"
        ))),
    }
}

fn string<'a>(value: &'a Value, what: &str) -> Result<&'a str> {
    value
        .as_str()
        .ok_or_else(|| invalid(format!("{what} must be a string, not {value}")))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `0 ("Sid")` or `0`.
pub(crate) fn statement_name(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("{index} ({sid:?})"),
        None => index.to_string(),
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(format!("key policy: {message}"))
}

fn too_large(len: usize) -> Error {
    invalid(format!(
        "the document is {len} bytes; the limit is {MAX_POLICY_BYTES}"
    ))
}

/// Prefixes an error with the statement it is about.
fn at(index: usize, sid: Option<&str>, e: Error) -> Error {
    match e {
        Error::InvalidArgument(m) => {
            let m = m.strip_prefix("key policy: ").unwrap_or(&m);
            invalid(format!("statement {}: {m}", statement_name(index, sid)))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_fields_are_refused() {
        let e = KeyPolicy::from_json(
            r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("\"Effect\" appears twice"), "{e}");
    }
}
