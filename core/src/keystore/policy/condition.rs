//! The `Condition` element of a key-policy statement.
//!
//! ```json
//! "Condition": {
//!   "StringEquals": {"kms:EncryptionContext:tenant": ["acme", "globex"]},
//!   "Null": {"kms:EncryptionContext:purpose": "false"}
//! }
//! ```
//!
//! Every operator/key pair must hold (AND); the values listed for one
//! pair are alternatives (OR).
//!
//! # Operators
//!
//! Spelled exactly as here; anything else is refused by name.
//!
//! | Operator | Holds when |
//! |---|---|
//! | `StringEquals` | the key is present and one of its values equals one listed |
//! | `StringLike` | the key is present and one of its values matches one listed pattern (`*` any run, `?` one character) |
//! | `ForAnyValue:StringEquals`, `ForAnyValue:StringLike` | as above: some value of the key matches (false when absent) |
//! | `ForAllValues:StringEquals`, `ForAllValues:StringLike` | every value of the key matches; **true when the key is absent or empty**, as in AWS |
//! | `Null` | `"true"` (or `true`): the key is absent; `"false"` (or `false`): it is present |
//!
//! Value comparisons are case-sensitive (use `StringLike` for patterns).
//! Without a `ForAllValues:`/`ForAnyValue:` qualifier, a key with several
//! values (`kms:EncryptionContextKeys`) holds when any of them matches.
//!
//! # Keys
//!
//! The `kms:` prefix and the key names are read without regard to case,
//! as AWS reads condition keys.
//!
//! | Key | Values in a request |
//! |---|---|
//! | `kms:EncryptionContext:<key>` | the value of `<key>` in the request's encryption context; absent when it has no such key. `<key>` is matched **without regard to ASCII case**, as AWS matches it (AWS documents the context-key part of this condition key as case-insensitive); require an exact key with `kms:EncryptionContextKeys` |
//! | `kms:EncryptionContextKeys` | every key of the request's encryption context (case-sensitive); absent when the context is missing or empty |
//! | `kms:CallerPrincipal` | the principal the handle acts for (always present) |
//! | `kms:RequestAlias` | the alias the request named the key by (`alias/...`); absent when the key was named by id |

use serde_json::{Map, Value};

use super::{glob_match, invalid, strings, RequestContext};
use crate::error::Result;

/// How a condition compares request values with the listed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// `StringEquals` (`like` false) or `StringLike` (`like` true), with an
    /// optional set qualifier.
    String {
        /// How a key with several values is read.
        set: SetQualifier,
        /// Whether the listed values are patterns.
        like: bool,
    },
    /// `Null`: whether the key is absent.
    Null,
}

/// The `ForAllValues:` / `ForAnyValue:` prefix of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SetQualifier {
    /// No prefix: some value matches (false when absent).
    Single,
    /// `ForAllValues:`: every value matches (true when absent).
    ForAllValues,
    /// `ForAnyValue:`: some value matches (false when absent).
    ForAnyValue,
}

/// The supported operators, as written.
pub const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLike",
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:StringEquals",
    "ForAnyValue:StringLike",
    "Null",
];

impl Operator {
    /// The operator as written in a policy.
    pub const fn as_str(self) -> &'static str {
        use SetQualifier::*;
        match self {
            Operator::Null => "Null",
            Operator::String {
                set: Single,
                like: false,
            } => "StringEquals",
            Operator::String {
                set: Single,
                like: true,
            } => "StringLike",
            Operator::String {
                set: ForAllValues,
                like: false,
            } => "ForAllValues:StringEquals",
            Operator::String {
                set: ForAllValues,
                like: true,
            } => "ForAllValues:StringLike",
            Operator::String {
                set: ForAnyValue,
                like: false,
            } => "ForAnyValue:StringEquals",
            Operator::String {
                set: ForAnyValue,
                like: true,
            } => "ForAnyValue:StringLike",
        }
    }

    fn parse(name: &str) -> Result<Self> {
        use SetQualifier::*;
        let (set, base) = match name.split_once(':') {
            Some(("ForAllValues", base)) => (ForAllValues, base),
            Some(("ForAnyValue", base)) => (ForAnyValue, base),
            // Another prefix: refused below, whole.
            Some(_) => (Single, ""),
            None => (Single, name),
        };
        match (set, base) {
            (Single, "Null") => Ok(Operator::Null),
            (_, "StringEquals") => Ok(Operator::String { set, like: false }),
            (_, "StringLike") => Ok(Operator::String { set, like: true }),
            _ => Err(invalid(format!(
                "unknown condition operator {name:?} (sealbox supports {})",
                OPERATORS.join(", ")
            ))),
        }
    }
}

/// What a condition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionKey {
    /// `kms:EncryptionContext:<key>`: the value of one context key.
    EncryptionContext(String),
    /// `kms:EncryptionContextKeys`: the context's keys.
    EncryptionContextKeys,
    /// `kms:CallerPrincipal`.
    CallerPrincipal,
    /// `kms:RequestAlias`.
    RequestAlias,
}

const EC_PREFIX: &str = "kms:encryptioncontext:";

impl ConditionKey {
    fn parse(text: &str) -> Result<Self> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with(EC_PREFIX) {
            let key = &text[EC_PREFIX.len()..];
            if key.is_empty() {
                return Err(invalid(format!(
                    "condition key {text:?} names no encryption context key"
                )));
            }
            return Ok(ConditionKey::EncryptionContext(key.to_owned()));
        }
        match lower.as_str() {
            "kms:encryptioncontextkeys" => Ok(ConditionKey::EncryptionContextKeys),
            "kms:callerprincipal" => Ok(ConditionKey::CallerPrincipal),
            "kms:requestalias" => Ok(ConditionKey::RequestAlias),
            _ => Err(invalid(format!(
                "unknown condition key {text:?} (sealbox supports kms:EncryptionContext:<key>, \
                 kms:EncryptionContextKeys, kms:CallerPrincipal and kms:RequestAlias)"
            ))),
        }
    }

    /// The key's values in `req` (empty when absent).
    fn values<'a>(&self, req: &RequestContext<'a>) -> Vec<&'a str> {
        match self {
            ConditionKey::EncryptionContext(key) => req
                .encryption_context
                .map(|ec| {
                    ec.iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v.as_str())
                        .collect()
                })
                .unwrap_or_default(),
            ConditionKey::EncryptionContextKeys => req
                .encryption_context
                .map(|ec| ec.keys().map(String::as_str).collect())
                .unwrap_or_default(),
            ConditionKey::CallerPrincipal => vec![req.principal],
            ConditionKey::RequestAlias => req.request_alias.into_iter().collect(),
        }
    }
}

/// One operator/key pair with its listed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    operator: Operator,
    key: ConditionKey,
    key_text: String,
    values: Vec<String>,
}

impl Condition {
    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }
    /// The key.
    pub fn key(&self) -> &ConditionKey {
        &self.key
    }
    /// The listed values (for `Null`, `"true"` or `"false"`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether the condition holds for `req`.
    pub(super) fn matches(&self, req: &RequestContext<'_>) -> bool {
        let present = self.key.values(req);
        match self.operator {
            Operator::Null => self
                .values
                .iter()
                .any(|v| (v == "true") == present.is_empty()),
            Operator::String { set, like } => {
                let one = |v: &str| {
                    self.values
                        .iter()
                        .any(|p| if like { glob_match(p, v) } else { p == v })
                };
                match set {
                    SetQualifier::ForAllValues => present.iter().all(|v| one(v)),
                    SetQualifier::Single | SetQualifier::ForAnyValue => {
                        present.iter().any(|v| one(v))
                    }
                }
            }
        }
    }
}

/// Parses a statement's `Condition` element. The conditions come back in
/// a fixed order (operator, then key as written), that of [`to_value`].
pub(super) fn parse(value: &Value) -> Result<Vec<Condition>> {
    let block = value.as_object().ok_or_else(|| {
        invalid(format!(
            "Condition must be an object of operators, not {value}"
        ))
    })?;
    let mut out = Vec::new();
    for (op_name, keys) in block {
        let operator = Operator::parse(op_name)?;
        let keys = match keys.as_object() {
            Some(k) if !k.is_empty() => k,
            _ => {
                return Err(invalid(format!(
                    "condition operator {op_name} must map condition keys to values, not {keys}"
                )))
            }
        };
        for (key_text, v) in keys {
            let key = ConditionKey::parse(key_text)?;
            let values = match operator {
                Operator::Null => null_values(v, key_text)?,
                Operator::String { .. } => strings(v, &format!("{op_name} {key_text}"))?
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            };
            out.push(Condition {
                operator,
                key,
                key_text: key_text.clone(),
                values,
            });
        }
    }
    out.sort_by(|a, b| (a.operator.as_str(), &a.key_text).cmp(&(b.operator.as_str(), &b.key_text)));
    Ok(out)
}

fn null_values(v: &Value, key: &str) -> Result<Vec<String>> {
    let one = |v: &Value| match v {
        Value::Bool(b) => Ok(b.to_string()),
        Value::String(s) if s == "true" || s == "false" => Ok(s.clone()),
        _ => Err(invalid(format!(
            "Null {key} must be \"true\" or \"false\", not {v}"
        ))),
    };
    match v {
        Value::Array(list) if !list.is_empty() => list.iter().map(one).collect(),
        Value::Array(_) => Err(invalid(format!("Null {key} lists no value"))),
        v => Ok(vec![one(v)?]),
    }
}

/// The canonical JSON of a statement's conditions.
pub(super) fn to_value(conditions: &[Condition]) -> Value {
    let mut block = Map::new();
    for c in conditions {
        let keys = block
            .entry(c.operator.as_str())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = keys {
            keys.insert(
                c.key_text.clone(),
                super::one_or_many(c.values.iter().map(String::as_str)),
            );
        }
    }
    Value::Object(block)
}
