//! Key policies and grants: the decision engine alone, table by table.

use sealbox::keystore::policy::MAX_POLICY_BYTES;
use sealbox::keystore::{
    decide, decide_retire, AccessDecision, Decision, Grant, GrantConstraints, KeyPolicy, Operation,
    RequestContext,
};
use sealbox::{EncryptionContext, Error};
use serde_json::{json, Value};

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy(statements: Value) -> KeyPolicy {
    KeyPolicy::from_value(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One request: principal, action, encryption context, alias.
struct Req {
    principal: &'static str,
    action: &'static str,
    ec: Option<EncryptionContext>,
    alias: Option<&'static str>,
}

fn req(principal: &'static str, action: &'static str) -> Req {
    Req {
        principal,
        action,
        ec: None,
        alias: None,
    }
}

impl Req {
    fn ec(mut self, pairs: &[(&str, &str)]) -> Self {
        self.ec = Some(ec(pairs));
        self
    }
    fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }
    fn ctx(&self) -> RequestContext<'_> {
        RequestContext {
            principal: self.principal,
            action: self.action,
            encryption_context: self.ec.as_ref(),
            request_alias: self.alias,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Want {
    Allow(usize),
    Deny(usize),
    No,
}

fn check(table: Vec<(&str, &KeyPolicy, Req, Want)>) {
    for (name, p, r, want) in table {
        let got = match p.evaluate(&r.ctx()) {
            Decision::Allow { statement, .. } => Want::Allow(statement),
            Decision::Deny { statement, .. } => Want::Deny(statement),
            Decision::NotAllowed => Want::No,
        };
        assert_eq!(got, want, "case {name:?}");
    }
}

fn allow(principal: Value, action: Value) -> Value {
    json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"})
}

fn with_condition(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

#[test]
fn allow_deny_and_explicit_deny_over_allow() {
    let p = policy(json!([
        {"Sid": "AppUses", "Effect": "Allow", "Principal": {"Sealbox": ["app", "ops"]},
         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
        {"Sid": "OpsManages", "Effect": "Allow", "Principal": {"Sealbox": "ops"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "OpsNeverDecrypts", "Effect": "Deny", "Principal": {"Sealbox": "ops"},
         "Action": "kms:Decrypt", "Resource": "*"},
    ]));
    check(vec![
        (
            "listed principal and action",
            &p,
            req("app", "kms:Decrypt"),
            Want::Allow(0),
        ),
        (
            "action not listed",
            &p,
            req("app", "kms:ScheduleKeyDeletion"),
            Want::No,
        ),
        (
            "principal not listed",
            &p,
            req("mallory", "kms:Encrypt"),
            Want::No,
        ),
        (
            "principal is case-sensitive",
            &p,
            req("APP", "kms:Encrypt"),
            Want::No,
        ),
        (
            "deny wins over two allows",
            &p,
            req("ops", "kms:Decrypt"),
            Want::Deny(2),
        ),
        (
            "first allow decides",
            &p,
            req("ops", "kms:Encrypt"),
            Want::Allow(0),
        ),
        (
            "wildcard allow",
            &p,
            req("ops", "kms:DisableKey"),
            Want::Allow(1),
        ),
        (
            "action case does not count",
            &p,
            req("app", "KMS:dEcRyPt"),
            Want::Allow(0),
        ),
    ]);
    // The decision names the Sid.
    assert_eq!(
        p.evaluate(&req("ops", "kms:Decrypt").ctx()),
        Decision::Deny {
            sid: Some("OpsNeverDecrypts".into()),
            statement: 2
        }
    );
}

#[test]
fn action_wildcards_and_principals() {
    let star = policy(json!([allow(json!("*"), json!("kms:*"))]));
    let gdk = policy(json!([allow(
        json!({"Sealbox": "a"}),
        json!("kms:GenerateDataKey*")
    )]));
    let re = policy(json!([allow(json!({"AWS": "*"}), json!("kms:Re*"))]));
    let q = policy(json!([allow(
        json!({"Sealbox": ["x", "*"]}),
        json!("kms:?ign")
    )]));
    let one = policy(json!([allow(json!({"Sealbox": "a"}), json!("kms:Sign"))]));
    check(vec![
        (
            "kms:* anything",
            &star,
            req("anyone", "kms:PutKeyPolicy"),
            Want::Allow(0),
        ),
        (
            "kms:* needs kms:",
            &star,
            req("anyone", "s3:GetObject"),
            Want::No,
        ),
        (
            "prefix, bare",
            &gdk,
            req("a", "kms:GenerateDataKey"),
            Want::Allow(0),
        ),
        (
            "prefix, longer",
            &gdk,
            req("a", "kms:GenerateDataKeyWithoutPlaintext"),
            Want::Allow(0),
        ),
        (
            "prefix, other action",
            &gdk,
            req("a", "kms:Decrypt"),
            Want::No,
        ),
        (
            "prefix, other principal",
            &gdk,
            req("b", "kms:GenerateDataKey"),
            Want::No,
        ),
        (
            "Re*: ReEncryptFrom",
            &re,
            req("b", "kms:ReEncryptFrom"),
            Want::Allow(0),
        ),
        (
            "Re*: RetireGrant",
            &re,
            req("b", "kms:RetireGrant"),
            Want::Allow(0),
        ),
        (
            "Re*: RevokeGrant",
            &re,
            req("b", "kms:RevokeGrant"),
            Want::Allow(0),
        ),
        ("Re*: not Decrypt", &re, req("b", "kms:Decrypt"), Want::No),
        ("? one char", &q, req("z", "kms:Sign"), Want::Allow(0)),
        ("? not none", &q, req("z", "kms:ign"), Want::No),
        ("exact name only", &one, req("a", "kms:SignX"), Want::No),
    ]);
}

#[test]
fn condition_operators_with_present_absent_and_mismatched_keys() {
    let c = |cond: Value| {
        policy(json!([with_condition(
            allow(json!("*"), json!("kms:*")),
            cond
        )]))
    };
    let eq = c(json!({"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}));
    let eq_or = c(json!({"StringEquals": {"kms:EncryptionContext:tenant": ["acme", "globex"]}}));
    let like = c(json!({"StringLike": {"kms:EncryptionContext:tenant": "ac?e-*"}}));
    let all = c(
        json!({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant", "purpose"]}}),
    );
    let any = c(
        json!({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["tenant", "purpose"]}}),
    );
    let null_t = c(json!({"Null": {"kms:EncryptionContext:tenant": "true"}}));
    let null_f = c(json!({"Null": {"kms:EncryptionContext:tenant": false}}));
    let caller = c(json!({"StringEquals": {"kms:CallerPrincipal": "billing"}}));
    let alias = c(json!({"StringLike": {"kms:RequestAlias": "alias/app-*"}}));
    let and = c(json!({
        "StringEquals": {"kms:EncryptionContext:tenant": "acme", "kms:EncryptionContext:purpose": "backup"},
        "Null": {"kms:EncryptionContext:debug": "true"}
    }));
    let keys_lc = c(json!({"StringEquals": {"KMS:encryptioncontext:Tenant": "acme"}}));
    let d = "kms:Decrypt";
    check(vec![
        (
            "StringEquals present",
            &eq,
            req("p", d).ec(&[("tenant", "acme")]),
            Want::Allow(0),
        ),
        (
            "StringEquals extra keys",
            &eq,
            req("p", d).ec(&[("tenant", "acme"), ("x", "y")]),
            Want::Allow(0),
        ),
        (
            "StringEquals mismatch",
            &eq,
            req("p", d).ec(&[("tenant", "evil")]),
            Want::No,
        ),
        (
            "StringEquals value case",
            &eq,
            req("p", d).ec(&[("tenant", "ACME")]),
            Want::No,
        ),
        (
            "StringEquals absent key",
            &eq,
            req("p", d).ec(&[("other", "acme")]),
            Want::No,
        ),
        ("StringEquals no context", &eq, req("p", d), Want::No),
        (
            "StringEquals literal *",
            &c(json!({"StringEquals": {"kms:EncryptionContext:t": "*"}})),
            req("p", d).ec(&[("t", "x")]),
            Want::No,
        ),
        (
            "values OR first",
            &eq_or,
            req("p", d).ec(&[("tenant", "acme")]),
            Want::Allow(0),
        ),
        (
            "values OR second",
            &eq_or,
            req("p", d).ec(&[("tenant", "globex")]),
            Want::Allow(0),
        ),
        (
            "values OR none",
            &eq_or,
            req("p", d).ec(&[("tenant", "initech")]),
            Want::No,
        ),
        (
            "StringLike match",
            &like,
            req("p", d).ec(&[("tenant", "acme-eu")]),
            Want::Allow(0),
        ),
        (
            "StringLike ? any char",
            &like,
            req("p", d).ec(&[("tenant", "acne-")]),
            Want::Allow(0),
        ),
        (
            "StringLike mismatch",
            &like,
            req("p", d).ec(&[("tenant", "acme")]),
            Want::No,
        ),
        ("StringLike absent", &like, req("p", d), Want::No),
        (
            "ForAllValues subset",
            &all,
            req("p", d).ec(&[("tenant", "a")]),
            Want::Allow(0),
        ),
        (
            "ForAllValues all",
            &all,
            req("p", d).ec(&[("tenant", "a"), ("purpose", "b")]),
            Want::Allow(0),
        ),
        (
            "ForAllValues extra key",
            &all,
            req("p", d).ec(&[("tenant", "a"), ("debug", "1")]),
            Want::No,
        ),
        (
            "ForAllValues empty context",
            &all,
            req("p", d).ec(&[]),
            Want::Allow(0),
        ),
        ("ForAllValues no context", &all, req("p", d), Want::Allow(0)),
        (
            "ForAllValues key case",
            &all,
            req("p", d).ec(&[("Tenant", "a")]),
            Want::No,
        ),
        (
            "ForAnyValue one",
            &any,
            req("p", d).ec(&[("debug", "1"), ("purpose", "b")]),
            Want::Allow(0),
        ),
        (
            "ForAnyValue none",
            &any,
            req("p", d).ec(&[("debug", "1")]),
            Want::No,
        ),
        ("ForAnyValue absent", &any, req("p", d), Want::No),
        (
            "Null true, absent",
            &null_t,
            req("p", d).ec(&[("x", "y")]),
            Want::Allow(0),
        ),
        (
            "Null true, no context",
            &null_t,
            req("p", d),
            Want::Allow(0),
        ),
        (
            "Null true, present",
            &null_t,
            req("p", d).ec(&[("tenant", "a")]),
            Want::No,
        ),
        (
            "Null false, present",
            &null_f,
            req("p", d).ec(&[("tenant", "a")]),
            Want::Allow(0),
        ),
        ("Null false, absent", &null_f, req("p", d), Want::No),
        (
            "CallerPrincipal match",
            &caller,
            req("billing", d),
            Want::Allow(0),
        ),
        (
            "CallerPrincipal other",
            &caller,
            req("reports", d),
            Want::No,
        ),
        (
            "RequestAlias like",
            &alias,
            req("p", d).alias("alias/app-eu"),
            Want::Allow(0),
        ),
        (
            "RequestAlias other",
            &alias,
            req("p", d).alias("alias/ops"),
            Want::No,
        ),
        ("RequestAlias by key id", &alias, req("p", d), Want::No),
        (
            "AND all hold",
            &and,
            req("p", d).ec(&[("tenant", "acme"), ("purpose", "backup")]),
            Want::Allow(0),
        ),
        (
            "AND one key fails",
            &and,
            req("p", d).ec(&[("tenant", "acme"), ("purpose", "x")]),
            Want::No,
        ),
        (
            "AND other operator fails",
            &and,
            req("p", d).ec(&[("tenant", "acme"), ("purpose", "backup"), ("debug", "1")]),
            Want::No,
        ),
        (
            "context key without regard to case",
            &keys_lc,
            req("p", d).ec(&[("TENANT", "acme")]),
            Want::Allow(0),
        ),
        (
            "…but the value exactly",
            &keys_lc,
            req("p", d).ec(&[("TENANT", "Acme")]),
            Want::No,
        ),
    ]);
}

#[test]
fn conditions_in_deny_statements() {
    // Deny decryption outside the caller's own tenant; a deny whose
    // condition does not hold leaves the allow standing.
    let p = policy(json!([
        allow(
            json!({"Sealbox": ["a", "b"]}),
            json!(["kms:Decrypt", "kms:Encrypt"])
        ),
        with_condition(
            json!({"Sid": "NoContextNoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}),
            json!({"Null": {"kms:EncryptionContextKeys": "true"}}),
        ),
    ]));
    check(vec![
        ("deny applies", &p, req("a", "kms:Decrypt"), Want::Deny(1)),
        (
            "deny does not apply",
            &p,
            req("a", "kms:Decrypt").ec(&[("k", "v")]),
            Want::Allow(0),
        ),
        (
            "deny is for Decrypt only",
            &p,
            req("b", "kms:Encrypt"),
            Want::Allow(0),
        ),
    ]);
}

#[test]
fn parse_errors_name_the_problem() {
    let base = || json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"});
    let with = |field: &str, v: Value| {
        let mut s = base();
        s[field] = v;
        json!({"Statement": [s]}).to_string()
    };
    let big = json!({"Statement": [base()], "Id": "x".repeat(MAX_POLICY_BYTES)}).to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "{\"Statement\": [".into(), "not valid JSON"),
        ("trailing text", format!("{} x", json!({"Statement": base()})), "not valid JSON"),
        ("not an object", "[1]".into(), "a key policy is a JSON object, not an array"),
        ("unknown operator", with("Condition", json!({"StringNotEquals": {"kms:CallerPrincipal": "a"}})),
            "unknown condition operator \"StringNotEquals\""),
        ("unknown set operator", with("Condition", json!({"ForSomeValues:StringEquals": {"kms:CallerPrincipal": "a"}})),
            "unknown condition operator \"ForSomeValues:StringEquals\""),
        ("unknown key", with("Condition", json!({"StringEquals": {"aws:SourceIp": "1.2.3.4"}})),
            "unknown condition key \"aws:SourceIp\""),
        ("empty context key", with("Condition", json!({"StringEquals": {"kms:EncryptionContext:": "a"}})),
            "names no encryption context key"),
        ("bad Null value", with("Condition", json!({"Null": {"kms:RequestAlias": "yes"}})),
            "Null kms:RequestAlias must be \"true\" or \"false\""),
        ("number value", with("Condition", json!({"StringEquals": {"kms:CallerPrincipal": 3}})),
            "must be a string or a non-empty array of strings"),
        ("Resource not *", with("Resource", json!("arn:aws:kms:eu-west-1:1:key/x")),
            "Resource must be \"*\" (a key policy applies to its own key)"),
        ("bad Effect", with("Effect", json!("allow")), "Effect must be \"Allow\" or \"Deny\", not \"allow\""),
        ("unknown statement field", with("NotAction", json!("kms:Decrypt")), "unknown field \"NotAction\""),
        ("unknown action", with("Action", json!("kms:Decrpyt")), "action \"kms:Decrpyt\" is not a KMS action"),
        ("pattern matching nothing", with("Action", json!("kms:Foo*")), "action \"kms:Foo*\" matches no KMS action"),
        ("not a kms action", with("Action", json!("s3:*")), "action \"s3:*\" is not a KMS action"),
        ("AWS principal", with("Principal", json!({"AWS": "arn:aws:iam::1:root"})), "names AWS principals"),
        ("unknown principal type", with("Principal", json!({"Service": "x"})), "unknown principal type \"Service\""),
        ("bad principal", with("Principal", json!("app")), "Principal must be \"*\""),
        ("missing Resource", json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*"}}).to_string(),
            "statement 0: Resource is missing"),
        ("bad version", json!({"Version": "2008-10-17", "Statement": base()}).to_string(), "Version must be \"2012-10-17\""),
        ("unknown top field", json!({"Statement": base(), "Extra": 1}).to_string(), "unknown field \"Extra\""),
        ("empty Statement", json!({"Statement": []}).to_string(), "Statement is an empty array"),
        ("no Statement", json!({"Version": "2012-10-17"}).to_string(), "Statement is missing"),
        ("oversized", big.clone(), "the limit is 32768"),
        ("duplicate field",
            r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Effect": "Allow"}}"#.into(),
            "field \"Effect\" appears twice"),
    ];
    for (name, text, want) in cases {
        match KeyPolicy::from_json(&text) {
            Err(Error::InvalidArgument(m)) => {
                assert!(
                    m.contains(want),
                    "case {name:?}: {m:?} does not contain {want:?}"
                )
            }
            other => panic!("case {name:?}: {other:?}"),
        }
    }
    // The statement is named by Sid in errors.
    let e = KeyPolicy::from_json(
        &json!({"Statement": [base(), {"Sid": "Two", "Effect": "Maybe", "Principal": "*", "Action": "kms:*", "Resource": "*"}]})
            .to_string(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("statement 1 (\"Two\")"), "{e}");
    // A value is measured as its JSON text too.
    let v: Value = serde_json::from_str(&big).unwrap();
    assert!(KeyPolicy::from_value(&v)
        .unwrap_err()
        .to_string()
        .contains("the limit is 32768"));
}

#[test]
fn to_json_is_canonical_and_round_trips() {
    let text = r#"{
      "Id": "key-policy-1",
      "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"Sealbox": "app"}, "Action": "kms:Decrypt",
         "Resource": ["*"], "Condition": {"StringLike": {"kms:RequestAlias": "alias/*"},
         "Null": {"kms:EncryptionContext:t": true}, "StringEquals": {"kms:EncryptionContext:t": ["x", "y"]}}},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["kms:Re*", "kms:Sign"], "Resource": "*"}
      ]
    }"#;
    let p = KeyPolicy::from_json(text).unwrap();
    let canonical = p.to_json();
    let q = KeyPolicy::from_json(&canonical).unwrap();
    assert_eq!(p, q);
    assert_eq!(q.to_json(), canonical);
    assert_eq!(
        serde_json::from_str::<Value>(&canonical).unwrap(),
        json!({
            "Version": "2012-10-17",
            "Id": "key-policy-1",
            "Statement": [
                {"Sid": "A", "Effect": "Allow", "Principal": {"Sealbox": "app"}, "Action": "kms:Decrypt",
                 "Resource": "*", "Condition": {
                    "Null": {"kms:EncryptionContext:t": "true"},
                    "StringEquals": {"kms:EncryptionContext:t": ["x", "y"]},
                    "StringLike": {"kms:RequestAlias": "alias/*"}}},
                {"Effect": "Deny", "Principal": "*", "Action": ["kms:Re*", "kms:Sign"], "Resource": "*"}
            ]
        })
    );
    for p in [
        KeyPolicy::default_allow_all(),
        KeyPolicy::creator_only("alice"),
    ] {
        assert_eq!(KeyPolicy::from_json(&p.to_json()).unwrap(), p);
    }
}

#[test]
fn default_and_creator_policies_and_the_lockout_check() {
    let all = KeyPolicy::default_allow_all();
    let mine = KeyPolicy::creator_only("alice");
    for op in Operation::ALL {
        let Some(action) = op.policy_action() else {
            continue;
        };
        assert!(
            all.evaluate(&RequestContext::new("anyone", action))
                .is_allowed(),
            "{op}"
        );
        assert!(
            mine.evaluate(&RequestContext::new("alice", action))
                .is_allowed(),
            "{op}"
        );
        assert!(
            !mine
                .evaluate(&RequestContext::new("bob", action))
                .is_allowed(),
            "{op}"
        );
    }
    assert!(all.check_lockout("anyone").is_ok());
    assert!(mine.check_lockout("alice").is_ok());
    let e = mine.check_lockout("bob").unwrap_err().to_string();
    assert!(
        e.contains("\"bob\"") && e.contains("bypass_policy_lockout_safety_check"),
        "{e}"
    );

    // Allowed only with an encryption context: the check asks with none.
    let ctx_only = policy(json!([with_condition(
        allow(json!({"Sealbox": "alice"}), json!("kms:PutKeyPolicy")),
        json!({"Null": {"kms:EncryptionContextKeys": "false"}})
    )]));
    assert!(ctx_only.check_lockout("alice").is_err());
    // An explicit deny is named.
    let denied = policy(json!([
        allow(json!("*"), json!("kms:*")),
        {"Sid": "Frozen", "Effect": "Deny", "Principal": "*", "Action": "kms:Put*", "Resource": "*"}
    ]));
    let e = denied.check_lockout("alice").unwrap_err().to_string();
    assert!(e.contains("statement 1 (\"Frozen\") denies it"), "{e}");
}

#[test]
fn operation_actions() {
    for (op, want) in [
        (Operation::Decrypt, Some("kms:Decrypt")),
        (Operation::ImportKey, Some("kms:ImportKeyMaterial")),
        (Operation::RotateKey, Some("kms:RotateKeyOnDemand")),
        (Operation::ReEncrypt, Some("kms:ReEncryptFrom")),
        (Operation::CreateKey, None),
        (Operation::ListKeys, None),
        (Operation::ListAliases, None),
        (Operation::GenerateRandom, None),
        (Operation::StartAuditSegment, None),
        (Operation::DeleteKey, None),
    ] {
        assert_eq!(op.policy_action(), want, "{op}");
    }
}

fn grant(ops: &[&str], constraints: Option<GrantConstraints>) -> Grant {
    Grant {
        grant_id: "g1".into(),
        name: Some("app-decrypt".into()),
        key_id: "k1".into(),
        grantee_principal: "app".into(),
        retiring_principal: Some("janitor".into()),
        operations: ops.iter().map(|s| s.to_string()).collect(),
        constraints,
        issuing_principal: "admin".into(),
        created_at: 1_700_000_000_000,
    }
}

fn equals(pairs: &[(&str, &str)]) -> Option<GrantConstraints> {
    Some(GrantConstraints {
        encryption_context_equals: Some(ec(pairs)),
        encryption_context_subset: None,
    })
}

fn subset(pairs: &[(&str, &str)]) -> Option<GrantConstraints> {
    Some(GrantConstraints {
        encryption_context_equals: None,
        encryption_context_subset: Some(ec(pairs)),
    })
}

#[test]
fn grants_allow_only_inside_their_constraints() {
    let eq = grant(&["Decrypt", "DescribeKey"], equals(&[("tenant", "acme")]));
    let sub = grant(
        &["Encrypt", "GenerateDataKey"],
        subset(&[("tenant", "acme")]),
    );
    let free = grant(&["Sign", "Verify"], None);
    for g in [&eq, &sub, &free] {
        g.validate().unwrap();
    }
    let d = "kms:Decrypt";
    let table: Vec<(&str, &Grant, Req, bool)> = vec![
        (
            "equals: exact",
            &eq,
            req("app", d).ec(&[("tenant", "acme")]),
            true,
        ),
        (
            "equals: key case",
            &eq,
            req("app", d).ec(&[("TENANT", "acme")]),
            true,
        ),
        (
            "equals: value case",
            &eq,
            req("app", d).ec(&[("tenant", "Acme")]),
            false,
        ),
        (
            "equals: extra pair",
            &eq,
            req("app", d).ec(&[("tenant", "acme"), ("x", "y")]),
            false,
        ),
        (
            "equals: other value",
            &eq,
            req("app", d).ec(&[("tenant", "globex")]),
            false,
        ),
        ("equals: no context", &eq, req("app", d), false),
        (
            "equals: not for DescribeKey",
            &eq,
            req("app", "kms:DescribeKey"),
            true,
        ),
        (
            "equals: wrong grantee",
            &eq,
            req("bob", d).ec(&[("tenant", "acme")]),
            false,
        ),
        (
            "equals: operation not listed",
            &eq,
            req("app", "kms:Encrypt").ec(&[("tenant", "acme")]),
            false,
        ),
        (
            "subset: exact",
            &sub,
            req("app", "kms:Encrypt").ec(&[("tenant", "acme")]),
            true,
        ),
        (
            "subset: superset",
            &sub,
            req("app", "kms:GenerateDataKey").ec(&[("tenant", "acme"), ("x", "y")]),
            true,
        ),
        (
            "subset: other value",
            &sub,
            req("app", "kms:Encrypt").ec(&[("tenant", "globex")]),
            false,
        ),
        (
            "subset: missing",
            &sub,
            req("app", "kms:Encrypt").ec(&[("x", "y")]),
            false,
        ),
        ("subset: no context", &sub, req("app", "kms:Encrypt"), false),
        (
            "subset: GenerateDataKey* not implied",
            &sub,
            req("app", "kms:GenerateDataKeyWithoutPlaintext").ec(&[("tenant", "acme")]),
            false,
        ),
        ("free: Sign", &free, req("app", "kms:Sign"), true),
        ("free: action case", &free, req("app", "KMS:sign"), true),
        ("free: not Decrypt", &free, req("app", d), false),
        ("free: not a kms action", &free, req("app", "Sign"), false),
    ];
    for (name, g, r, want) in table {
        assert_eq!(g.allows(&r.ctx()), want, "case {name:?}");
    }
}

#[test]
fn grant_validation() {
    let ok = grant(
        &["Decrypt", "RetireGrant", "CreateGrant"],
        subset(&[("t", "x")]),
    );
    ok.validate().unwrap();
    let long = "v".repeat(385);
    let mut nine = EncryptionContext::new();
    for i in 0..9 {
        nine.insert(format!("k{i}"), "v".into());
    }
    let cases: Vec<(&str, Grant, &str)> = vec![
        (
            "unknown operation",
            grant(&["Decrypt", "ScheduleKeyDeletion"], None),
            "\"ScheduleKeyDeletion\" is not a grant operation",
        ),
        ("no operation", grant(&[], None), "at least one operation"),
        (
            "duplicate operation",
            grant(&["Decrypt", "Decrypt"], None),
            "listed twice",
        ),
        (
            "constraint on Sign",
            grant(&["Decrypt", "Sign"], equals(&[("t", "x")])),
            "Sign takes no encryption context",
        ),
        (
            "constraint on GenerateMac",
            grant(&["GenerateMac"], subset(&[("t", "x")])),
            "GenerateMac takes no encryption context",
        ),
        (
            "both constraints",
            grant(
                &["Decrypt"],
                Some(GrantConstraints {
                    encryption_context_equals: Some(ec(&[("t", "x")])),
                    encryption_context_subset: Some(ec(&[("t", "x")])),
                }),
            ),
            "at most one of encryption_context_equals and encryption_context_subset",
        ),
        (
            "neither constraint",
            grant(&["Decrypt"], Some(GrantConstraints::default())),
            "name neither",
        ),
        (
            "empty constraint",
            grant(&["Decrypt"], equals(&[])),
            "holds 0 pairs",
        ),
        (
            "nine pairs",
            grant(
                &["Decrypt"],
                Some(GrantConstraints {
                    encryption_context_equals: None,
                    encryption_context_subset: Some(nine),
                }),
            ),
            "holds 9 pairs",
        ),
        (
            "keys differing in case",
            grant(&["Decrypt"], equals(&[("t", "x"), ("T", "y")])),
            "differ only in case",
        ),
        (
            "value too long",
            grant(&["Decrypt"], subset(&[("t", &long)])),
            "longer than 384 characters",
        ),
        (
            "bad name",
            Grant {
                name: Some("has space".into()),
                ..grant(&["Decrypt"], None)
            },
            "grant name \"has space\"",
        ),
        (
            "empty grantee",
            Grant {
                grantee_principal: String::new(),
                ..grant(&["Decrypt"], None)
            },
            "grantee_principal is empty",
        ),
        (
            "empty retiring",
            Grant {
                retiring_principal: Some(String::new()),
                ..grant(&["Decrypt"], None)
            },
            "retiring_principal is empty",
        ),
        (
            "empty id",
            Grant {
                grant_id: String::new(),
                ..grant(&["Decrypt"], None)
            },
            "grant_id is empty",
        ),
    ];
    for (name, g, want) in cases {
        match g.validate() {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(want), "case {name:?}: {m:?}"),
            other => panic!("case {name:?}: {other:?}"),
        }
    }
}

#[test]
fn grant_storage_round_trip() {
    let g = grant(&["Decrypt", "RetireGrant"], equals(&[("tenant", "acme")]));
    let text = g.to_json();
    assert_eq!(Grant::from_json(&text).unwrap(), g);
    let bare = Grant {
        name: None,
        retiring_principal: None,
        ..grant(&["Sign"], None)
    };
    let text = bare.to_json();
    assert!(
        !text.contains("constraints") && !text.contains("name"),
        "{text}"
    );
    assert_eq!(Grant::from_json(&text).unwrap(), bare);
    // Unknown fields and invalid records are refused.
    let mut v: Value = serde_json::from_str(&g.to_json()).unwrap();
    v["colour"] = json!("red");
    assert!(Grant::from_json(&v.to_string())
        .unwrap_err()
        .to_string()
        .contains("colour"));
    v = serde_json::from_str(&g.to_json()).unwrap();
    v["operations"] = json!(["Frobnicate"]);
    assert!(Grant::from_json(&v.to_string())
        .unwrap_err()
        .to_string()
        .contains("Frobnicate"));
}

#[test]
fn retire_rules() {
    let with_retire = grant(&["Decrypt", "RetireGrant"], None);
    let without = grant(&["Decrypt"], None);
    for (name, g, caller, want) in [
        ("retiring principal", &without, "janitor", true),
        ("grantee without RetireGrant", &without, "app", false),
        ("grantee with RetireGrant", &with_retire, "app", true),
        ("issuer is not enough", &without, "admin", false),
        ("stranger", &with_retire, "mallory", false),
    ] {
        assert_eq!(g.can_retire(caller), want, "case {name:?}");
    }
    // Through decide_retire: a policy deny wins; a policy allow of
    // kms:RetireGrant suffices; else the grant's rule.
    let none = policy(json!([allow(
        json!({"Sealbox": "root"}),
        json!("kms:PutKeyPolicy")
    )]));
    let admin = policy(json!([allow(
        json!({"Sealbox": "admin"}),
        json!("kms:RetireGrant")
    )]));
    let deny = policy(
        json!([{"Effect": "Deny", "Principal": "*", "Action": "kms:RetireGrant", "Resource": "*"}]),
    );
    assert!(matches!(
        decide_retire(&none, &without, "janitor"),
        AccessDecision::Granted { .. }
    ));
    assert!(!decide_retire(&none, &without, "admin").is_allowed());
    assert!(matches!(
        decide_retire(&admin, &without, "admin"),
        AccessDecision::PolicyAllow { statement: 0, .. }
    ));
    assert!(matches!(
        decide_retire(&deny, &without, "janitor"),
        AccessDecision::PolicyDeny { .. }
    ));
}

#[test]
fn grants_made_from_grants_are_no_wider() {
    let parent = grant(
        &["CreateGrant", "Decrypt", "Encrypt"],
        subset(&[("tenant", "acme")]),
    );
    let ops = |o: &[&str]| o.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(parent.may_create(
        &ops(&["Decrypt"]),
        (subset(&[("tenant", "acme"), ("x", "y")])).as_ref()
    ));
    assert!(parent.may_create(&ops(&["Decrypt"]), (equals(&[("tenant", "acme")])).as_ref()));
    assert!(!parent.may_create(&ops(&["Decrypt"]), None));
    assert!(!parent.may_create(&ops(&["Decrypt"]), (subset(&[("x", "y")])).as_ref()));
    assert!(!parent.may_create(&ops(&["Sign"]), (subset(&[("tenant", "acme")])).as_ref()));
    let no_create = grant(&["Decrypt"], None);
    assert!(!no_create.may_create(&ops(&["Decrypt"]), None));
    let eq_parent = grant(&["CreateGrant", "Decrypt"], equals(&[("tenant", "acme")]));
    assert!(!eq_parent.may_create(&ops(&["Decrypt"]), (subset(&[("tenant", "acme")])).as_ref()));
    assert!(eq_parent.may_create(&ops(&["Decrypt"]), (equals(&[("tenant", "acme")])).as_ref()));
}

#[test]
fn decide_combines_policy_and_grants() {
    let p = policy(json!([
        {"Sid": "OpsManages", "Effect": "Allow", "Principal": {"Sealbox": "ops"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "OpsNeverDecrypts", "Effect": "Deny", "Principal": {"Sealbox": "ops"}, "Action": "kms:Decrypt", "Resource": "*"},
    ]));
    let app = grant(&["Decrypt"], subset(&[("tenant", "acme")]));
    let ops_grant = Grant {
        grant_id: "g-ops".into(),
        grantee_principal: "ops".into(),
        ..grant(&["Decrypt"], None)
    };
    let grants = vec![app, ops_grant];
    let acme = ec(&[("tenant", "acme")]);
    let r = |principal, action| RequestContext::new(principal, action);

    let d = decide(
        &p,
        &grants,
        &r("app", "kms:Decrypt").with_encryption_context(&acme),
    );
    assert_eq!(
        d,
        AccessDecision::Granted {
            grant_id: "g1".into()
        }
    );
    assert_eq!(d.reason(), "allowed by grant g1");
    assert!(d.is_allowed());

    let d = decide(&p, &grants, &r("app", "kms:Decrypt"));
    assert!(!d.is_allowed());
    assert_eq!(
        d.reason(),
        "no statement or grant allows kms:Decrypt for principal \"app\""
    );

    // The explicit deny wins over the grant to ops.
    let d = decide(
        &p,
        &grants,
        &r("ops", "kms:Decrypt").with_encryption_context(&acme),
    );
    assert!(!d.is_allowed());
    assert_eq!(
        d.reason(),
        "denied by key policy statement 1 (\"OpsNeverDecrypts\")"
    );

    let d = decide(&p, &grants, &r("ops", "kms:DisableKey"));
    assert_eq!(
        d.to_string(),
        "allowed by key policy statement 0 (\"OpsManages\")"
    );

    let unnamed = policy(json!([allow(json!("*"), json!("kms:Encrypt"))]));
    assert_eq!(
        decide(&unnamed, &[], &r("x", "kms:Encrypt")).reason(),
        "allowed by key policy statement 0"
    );
    assert_eq!(
        decide(
            &unnamed,
            &[],
            &r("x", "kms:Decrypt").with_request_alias("alias/a")
        ),
        AccessDecision::NotAllowed {
            action: "kms:Decrypt".into(),
            principal: "x".into()
        }
    );
}
