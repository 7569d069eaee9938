//! Access control on the command line (issue 16): `--principal` on every
//! command, `key create --policy`, `key policy get|put` with the lockout
//! check, `grant create|list|retire|revoke`, `init --default-policy`, exit
//! status 11 for a refusal and the `denied` record in the audit trail.

mod common;

use serde_json::Value;

use common::{s, Sandbox};

/// admin: everything; app: Encrypt, Decrypt and GenerateDataKey* only for
/// tenant t1.
const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "AppTenantT1", "Effect": "Allow", "Principal": {"Sealbox": ["app"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "t1"}}}
  ]
}"#;

const ADMIN_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
   "Action": "kms:*", "Resource": "*"}]}"#;

/// `sealbox --principal P ARGS...`
fn as_p<'a>(p: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--principal", p];
    v.extend_from_slice(args);
    v
}

/// The last `n` audit records.
fn tail(sb: &Sandbox, n: usize) -> Vec<Value> {
    let n = n.to_string();
    sb.ok(&["--json", "audit", "tail", "-n", &n])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A store with a key (alias/t) under [`POLICY`], made by admin.
fn store_with_policy(tag: &str) -> (Sandbox, String) {
    let sb = Sandbox::new(tag);
    sb.init();
    std::fs::write(sb.path("policy.json"), POLICY).unwrap();
    let policy = sb.path("policy.json");
    let k = sb.json(&as_p(
        "admin",
        &[
            "key",
            "create",
            "--alias",
            "alias/t",
            "--policy",
            s(&policy),
        ],
    ));
    (sb, k["key_id"].as_str().unwrap().to_owned())
}

#[test]
fn the_app_may_encrypt_and_decrypt_inside_its_condition_only() {
    let (sb, key) = store_with_policy("acl-app");
    std::fs::write(sb.path("in.txt"), b"card 4111").unwrap();
    let enc = |p: &str, tenant: &str, out: &str| {
        let ctx = format!("tenant={tenant}");
        sb.run(&as_p(
            p,
            &[
                "encrypt", "--key", "alias/t", "-c", &ctx, "in.txt", "-o", out,
            ],
        ))
    };
    // Inside the condition: encrypt and decrypt.
    assert!(enc("app", "t1", "a.sbx").status.success());
    let out = sb.ok(&as_p("app", &["decrypt", "a.sbx", "-o", "-"]));
    assert_eq!(out, "card 4111");
    // Outside it: refused with exit 11 before any output exists.
    let r = enc("app", "t2", "b.sbx");
    assert_eq!(r.status.code(), Some(11), "{r:?}");
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("access denied") && err.contains("kms:GenerateDataKey"),
        "{err}"
    );
    assert!(!sb.path("b.sbx").exists());
    // A message of tenant t2 (the admin's): the app cannot decrypt it. The
    // envelope layer keeps the reason opaque (exit 3); the trail says why.
    assert!(enc("admin", "t2", "b.sbx").status.success());
    sb.fails(&as_p("app", &["decrypt", "b.sbx", "-o", "-"]), 3);
    let last = tail(&sb, 1).pop().unwrap();
    assert_eq!(last["operation"], "Decrypt");
    assert_eq!(last["outcome"], "denied");
    assert_eq!(last["principal"], "app");
    assert_eq!(last["key_id"], key.as_str());
    assert!(
        last["error"].as_str().unwrap().contains("kms:Decrypt"),
        "{last}"
    );
    // The admin may (the admin statement has no condition).
    assert_eq!(
        sb.ok(&as_p("admin", &["decrypt", "b.sbx", "-o", "-"])),
        "card 4111"
    );
    // Management is not the app's: exit 11, nothing changed, a denied record.
    let err = sb.fails(&as_p("app", &["key", "disable", "alias/t"]), 11);
    assert!(err.contains("kms:DisableKey"), "{err}");
    let last = tail(&sb, 1).pop().unwrap();
    assert_eq!(
        (&last["operation"], &last["outcome"], &last["principal"]),
        (
            &Value::from("DisableKey"),
            &Value::from("denied"),
            &Value::from("app")
        )
    );
    sb.fails(&as_p("app", &["key", "describe", "alias/t"]), 11);
    sb.fails(&as_p("app", &["key", "policy", "get", "alias/t"]), 11);
    sb.fails(&as_p("app", &["grant", "list", "alias/t"]), 11);
    let d = sb.json(&as_p("admin", &["key", "describe", "alias/t"]));
    assert_eq!(d["key_state"]["state"], "Enabled", "{d}");
    // --json errors name the kind.
    let r = sb.run(&as_p("app", &["--json", "key", "rotate", "alias/t"]));
    assert_eq!(r.status.code(), Some(11));
    let e: Value = serde_json::from_slice(&r.stderr).unwrap();
    assert_eq!(e["error"]["code"], "AccessDenied");
    // SEALBOX_PRINCIPAL names the principal too.
    let r = sb
        .cmd()
        .env("SEALBOX_PRINCIPAL", "app")
        .args(["key", "enable", "alias/t"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(11));
    assert_eq!(tail(&sb, 1)[0]["principal"], "app");
}

#[test]
fn policy_get_put_round_trip_and_the_lockout_check() {
    let (sb, _key) = store_with_policy("acl-policy");
    let human = sb.ok(&as_p("admin", &["key", "policy", "get", "alias/t"]));
    let got: Value = serde_json::from_str(&human).unwrap();
    assert_eq!(got["Statement"][1]["Sid"], "AppTenantT1");
    let compact = sb.json(&as_p("admin", &["key", "policy", "get", "alias/t"]));
    assert_eq!(got, compact);
    // What `get` prints, `put` takes back (from a file and from stdin).
    std::fs::write(sb.path("got.json"), &human).unwrap();
    let v = sb.json(&as_p(
        "admin",
        &["key", "policy", "put", "alias/t", s(&sb.path("got.json"))],
    ));
    assert_eq!(v["policy_replaced"], true);
    let out = sb.run_stdin(
        &as_p("admin", &["key", "policy", "put", "alias/t", "-"]),
        ADMIN_ONLY.as_bytes(),
    );
    assert!(out.status.success(), "{out:?}");
    let now = sb.json(&as_p("admin", &["key", "policy", "get", "alias/t"]));
    assert_eq!(now["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(now["Statement"][0]["Sid"], "Admin");
    // A bad policy: exit 2, nothing changed.
    std::fs::write(sb.path("bad.json"), r#"{"Statement": 3}"#).unwrap();
    sb.fails(
        &as_p(
            "admin",
            &["key", "policy", "put", "alias/t", s(&sb.path("bad.json"))],
        ),
        2,
    );
    std::fs::write(sb.path("big.json"), vec![b' '; 40 * 1024]).unwrap();
    let err = sb.fails(
        &as_p(
            "admin",
            &["key", "policy", "put", "alias/t", s(&sb.path("big.json"))],
        ),
        2,
    );
    assert!(err.contains("larger than"), "{err}");
    assert_eq!(
        sb.json(&as_p("admin", &["key", "policy", "get", "alias/t"])),
        now
    );
    // A policy that would lock the admin out: refused (exit 2)...
    let app_only = ADMIN_ONLY.replace("\"admin\"", "\"app\"");
    std::fs::write(sb.path("app-only.json"), &app_only).unwrap();
    let app_only_path = sb.path("app-only.json");
    let put = |extra: &[&str]| {
        let mut a = vec![
            "--principal",
            "admin",
            "key",
            "policy",
            "put",
            "alias/t",
            s(&app_only_path),
        ];
        a.extend_from_slice(extra);
        sb.run(&a)
    };
    let r = put(&[]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("bypass_policy_lockout_safety_check"));
    assert_eq!(
        sb.json(&as_p("admin", &["key", "policy", "get", "alias/t"])),
        now
    );
    // ...and so is a new key with it, unless the caller says so.
    sb.fails(
        &as_p("admin", &["key", "create", "--policy", s(&app_only_path)]),
        2,
    );
    sb.fails(
        &as_p(
            "admin",
            &["key", "create", "--bypass-policy-lockout-safety-check"],
        ),
        2,
    );
    let k2 = sb.json(&as_p(
        "admin",
        &[
            "key",
            "create",
            "--policy",
            s(&app_only_path),
            "--bypass-policy-lockout-safety-check",
        ],
    ));
    let k2 = k2["key_id"].as_str().unwrap();
    sb.fails(&as_p("admin", &["key", "describe", k2]), 11);
    // The bypass on put: then the admin is locked out and the app is in.
    assert!(put(&["--bypass-policy-lockout-safety-check"])
        .status
        .success());
    sb.fails(&as_p("admin", &["key", "policy", "get", "alias/t"]), 11);
    let p = sb.json(&as_p("app", &["key", "policy", "get", "alias/t"]));
    assert_eq!(p["Statement"][0]["Principal"]["Sealbox"], "app");
    // A key made without a policy shows the default policy: everyone.
    let open = sb.json(&["key", "create"]);
    let open = open["key_id"].as_str().unwrap();
    let p = sb.json(&as_p("nobody", &["key", "policy", "get", open]));
    assert_eq!(p["Statement"][0]["Principal"], "*");
}

#[test]
fn grants_create_list_retire_revoke() {
    let sb = Sandbox::new("acl-grants");
    sb.init();
    std::fs::write(sb.path("admin.json"), ADMIN_ONLY).unwrap();
    let admin_json = sb.path("admin.json");
    sb.json(&as_p(
        "admin",
        &[
            "key",
            "create",
            "--alias",
            "alias/g",
            "--policy",
            s(&admin_json),
        ],
    ));
    std::fs::write(sb.path("in.txt"), b"batch data").unwrap();
    let enc = |p: &str, ctx: &[&str]| {
        let mut a = vec!["--principal", p, "encrypt", "--key", "alias/g"];
        for c in ctx {
            a.extend_from_slice(&["-c", c]);
        }
        a.extend_from_slice(&["in.txt", "-o", "-"]);
        sb.run(&a).status.code()
    };
    assert_eq!(enc("batch", &["tenant=t1"]), Some(11));
    // Equals: exactly tenant=t1.
    let g = sb.json(&as_p(
        "admin",
        &[
            "grant",
            "create",
            "alias/g",
            "--grantee",
            "batch",
            "--operations",
            "GenerateDataKey,Encrypt",
            "--context-equals",
            "tenant=t1",
            "--name",
            "nightly",
        ],
    ));
    let equals = g["grant_id"].as_str().unwrap().to_owned();
    assert_eq!(enc("batch", &["tenant=t1"]), Some(0));
    assert_eq!(enc("batch", &["tenant=t1", "job=x"]), Some(11));
    assert_eq!(enc("batch", &["tenant=t2"]), Some(11));
    // Subset: any context that holds tenant=t2; retired by ops. Without
    // --json the grant ID alone is printed.
    let subset = sb
        .ok(&as_p(
            "admin",
            &[
                "grant",
                "create",
                "alias/g",
                "--grantee",
                "batch",
                "--operations",
                "GenerateDataKey",
                "--context-subset",
                "tenant=t2",
                "--retiring-principal",
                "ops",
            ],
        ))
        .trim()
        .to_owned();
    assert_eq!(subset.len(), 36, "{subset}");
    assert_eq!(enc("batch", &["tenant=t2", "job=x"]), Some(0));
    assert_eq!(enc("batch", &["job=x"]), Some(11));
    // List: both, with their fields; the human table names them.
    let l = sb.json(&as_p("admin", &["grant", "list", "alias/g"]));
    let grants = l["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2, "{l}");
    let eq = grants
        .iter()
        .find(|g| g["grant_id"] == equals.as_str())
        .unwrap();
    assert_eq!(eq["grantee_principal"], "batch");
    assert_eq!(eq["name"], "nightly");
    assert_eq!(eq["issuing_principal"], "admin");
    assert_eq!(
        eq["operations"],
        serde_json::json!(["GenerateDataKey", "Encrypt"])
    );
    assert_eq!(
        eq["constraints"]["encryption_context_equals"]["tenant"],
        "t1"
    );
    let table = sb.ok(&as_p("admin", &["grant", "list", "alias/g"]));
    assert!(
        table.contains(&equals) && table.contains(&subset),
        "{table}"
    );
    assert!(
        table.contains("subset tenant=t2") && table.contains("equals tenant=t1"),
        "{table}"
    );
    // Retire: not by the grantee (the grant lacks RetireGrant); by ops.
    sb.fails(&as_p("batch", &["grant", "retire", "alias/g", &subset]), 11);
    assert_eq!(enc("batch", &["tenant=t2"]), Some(0));
    let v = sb.json(&as_p("ops", &["grant", "retire", "alias/g", &subset]));
    assert_eq!(v["retired"], true);
    assert_eq!(enc("batch", &["tenant=t2"]), Some(11));
    // Revoke: not by the grantee; by the admin; the next call is refused.
    sb.fails(&as_p("batch", &["grant", "revoke", "alias/g", &equals]), 11);
    assert_eq!(enc("batch", &["tenant=t1"]), Some(0));
    sb.ok(&as_p("admin", &["grant", "revoke", "alias/g", &equals]));
    assert_eq!(enc("batch", &["tenant=t1"]), Some(11));
    let l = sb.json(&as_p("admin", &["grant", "list", "alias/g"]));
    assert_eq!(l["grants"], serde_json::json!([]));
    assert!(sb
        .ok(&as_p("admin", &["grant", "list", "alias/g"]))
        .contains("No grants"));
    sb.fails(&as_p("admin", &["grant", "revoke", "alias/g", &equals]), 4);
    // Bad grants: exit 2, nothing made.
    let bad = |extra: &[&str]| {
        let mut a = vec![
            "--principal",
            "admin",
            "grant",
            "create",
            "alias/g",
            "--grantee",
            "x",
        ];
        a.extend_from_slice(extra);
        sb.fails(&a, 2)
    };
    bad(&["--operations", "Launch"]);
    bad(&[
        "--operations",
        "Decrypt",
        "--context-equals",
        "a=1",
        "--context-subset",
        "a=1",
    ]);
    bad(&["--operations", "Decrypt", "--context-subset", "novalue"]);
    bad(&[]);
    let l = sb.json(&as_p("admin", &["grant", "list", "alias/g"]));
    assert_eq!(l["grants"], serde_json::json!([]));
}

#[test]
fn init_with_default_policy_creator() {
    let sb = Sandbox::new("acl-creator");
    let err = sb.fails(&["init", "--default-policy", "everyone"], 2);
    assert!(err.contains("allow-all, creator"), "{err}");
    assert!(!sb.store().exists(), "a refused init makes nothing");
    let v = sb.json(&["init", "--default-policy", "creator"]);
    assert_eq!(v["default_policy"], "creator");
    let k = sb.json(&as_p("team-a", &["key", "create"]));
    let k = k["key_id"].as_str().unwrap();
    sb.ok(&as_p("team-a", &["key", "describe", k]));
    std::fs::write(sb.path("in.txt"), b"x").unwrap();
    sb.ok(&as_p(
        "team-a",
        &["encrypt", "--key", k, "in.txt", "-o", "a.sbx"],
    ));
    sb.fails(
        &as_p("team-b", &["encrypt", "--key", k, "in.txt", "-o", "b.sbx"]),
        11,
    );
    sb.fails(&as_p("team-b", &["key", "describe", k]), 11);
    // Every later command follows the store's setting.
    let kb = sb.json(&as_p("team-b", &["key", "create"]));
    let kb = kb["key_id"].as_str().unwrap();
    sb.fails(&as_p("team-a", &["key", "disable", kb]), 11);
    let p = sb.json(&as_p("team-b", &["key", "policy", "get", kb]));
    assert!(p.to_string().contains("team-b"), "{p}");
    // A store made without the option: keys allow everyone.
    let plain = Sandbox::new("acl-plain");
    let v = plain.json(&["init"]);
    assert!(v.get("default_policy").is_none(), "{v}");
    let k = plain.json(&as_p("team-a", &["key", "create"]));
    plain.ok(&as_p(
        "team-b",
        &["key", "describe", k["key_id"].as_str().unwrap()],
    ));
}
