//! `sealbox secret ...` driven as a user would: values from files and
//! stdin only, `get` to stdout or a 0600 file, labels, rotation with a hook
//! program (and its failure leaving CURRENT), deletion and restore, and the
//! exit codes of the refusals.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{s, stderr, Sandbox};

fn store(tag: &str) -> Sandbox {
    let sb = Sandbox::new(tag);
    sb.init();
    sb
}

fn create_from_stdin(sb: &Sandbox, name: &str, value: &[u8]) -> serde_json::Value {
    let out = sb.run_stdin(
        &["--json", "secret", "create", name, "--value-file", "-"],
        value,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn create_get_put_describe_list() {
    let sb = store("secret-basic");
    let v1 = create_from_stdin(&sb, "prod/db/password", b"s3cret pw");
    assert_eq!(v1["version_stages"][0], "CURRENT");
    // get prints the value exactly, nothing added.
    assert_eq!(sb.ok(&["secret", "get", "prod/db/password"]), "s3cret pw");
    // put from a file: CURRENT moves, PREVIOUS keeps the old value.
    std::fs::write(sb.path("new.txt"), "n3w pw").unwrap();
    let v2 = sb.json(&[
        "secret",
        "put",
        "prod/db/password",
        "--value-file",
        s(&sb.path("new.txt")),
    ]);
    assert_eq!(sb.ok(&["secret", "get", "prod/db/password"]), "n3w pw");
    assert_eq!(
        sb.ok(&["secret", "get", "prod/db/password", "--stage", "PREVIOUS"]),
        "s3cret pw"
    );
    assert_eq!(
        sb.ok(&[
            "secret",
            "get",
            "prod/db/password",
            "--version-id",
            v1["version_id"].as_str().unwrap()
        ]),
        "s3cret pw"
    );
    // --json carries the value as AWS's CLI does.
    let j = sb.json(&["secret", "get", "prod/db/password"]);
    assert_eq!(j["secret_string"], "n3w pw");
    assert_eq!(j["version_id"], v2["version_id"]);
    // describe and list never show values.
    let d = sb.json(&["secret", "describe", "prod/db/password"]);
    assert_eq!(d["versions"].as_array().unwrap().len(), 2);
    assert_eq!(d["key_id"], "alias/sealbox/secrets");
    let text = sb.ok(&["secret", "describe", "prod/db/password"]);
    assert!(text.contains("PREVIOUS") && !text.contains("pw"), "{text}");
    let l = sb.json(&["secret", "list"]);
    assert_eq!(l["secrets"][0]["name"], "prod/db/password");
    assert!(!l.to_string().contains("pw\""));
    // Binary values, with base64 in JSON.
    std::fs::write(sb.path("key.der"), [0u8, 255, 1, 254]).unwrap();
    sb.ok(&[
        "secret",
        "create",
        "tls/key",
        "--binary",
        "--value-file",
        s(&sb.path("key.der")),
        "--tag",
        "team=web",
    ]);
    let j = sb.json(&["secret", "get", "tls/key"]);
    assert_eq!(j["secret_binary"], "AP8B/g==");
    // Text that is not UTF-8 without --binary: refused, nothing made.
    let err = sb.fails(
        &[
            "secret",
            "create",
            "bad",
            "--value-file",
            s(&sb.path("key.der")),
        ],
        2,
    );
    assert!(err.contains("--binary"), "{err}");
    sb.fails(&["secret", "describe", "bad"], 4);
    // A generated password.
    let g = sb.json(&[
        "secret",
        "create",
        "gen",
        "--generate-password",
        "--length",
        "40",
        "--exclude-punctuation",
    ]);
    assert_eq!(g["version_stages"][0], "CURRENT");
    let pw = sb.ok(&["secret", "get", "gen"]);
    assert_eq!(pw.len(), 40);
    assert!(pw.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn get_to_a_file_is_0600_and_never_overwrites() {
    let sb = store("secret-file");
    create_from_stdin(&sb, "api", b"token-123");
    let dest = sb.path("api.token");
    let out = sb.json(&["secret", "get", "api", "-o", s(&dest)]);
    assert_eq!(out["name"], "api");
    assert!(out.get("secret_string").is_none());
    assert_eq!(std::fs::read(&dest).unwrap(), b"token-123");
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
    sb.fails(&["secret", "get", "api", "-o", s(&dest)], 10);
    sb.ok(&["secret", "get", "api", "-o", s(&dest), "--force"]);
    assert!(sb.files_containing("sealbox-partial").is_empty());
}

#[test]
fn values_never_come_from_arguments() {
    let sb = store("secret-args");
    // There is no flag that takes a value; a stray positional is refused.
    let out = sb.run(&["secret", "create", "x", "the-value"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sb.run(&["secret", "create", "x", "--value", "v"]);
    assert_eq!(out.status.code(), Some(2));
    // put needs a value source.
    sb.ok(&["secret", "create", "x"]);
    let err = sb.fails(&["secret", "put", "x"], 2);
    assert!(err.contains("--value-file"), "{err}");
}

#[test]
fn stages_move_and_refusals_exit_with_their_codes() {
    let sb = store("secret-stage");
    let v1 = create_from_stdin(&sb, "s", b"one");
    let v1 = v1["version_id"].as_str().unwrap().to_owned();
    let out = sb.run_stdin(
        &[
            "--json",
            "secret",
            "put",
            "s",
            "--value-file",
            "-",
            "--stage",
            "PENDING",
        ],
        b"two",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v2: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v2 = v2["version_id"].as_str().unwrap().to_owned();
    assert_eq!(sb.ok(&["secret", "get", "s"]), "one");
    assert_eq!(sb.ok(&["secret", "get", "s", "--stage", "PENDING"]), "two");
    // Moving CURRENT without naming where it is: refused (usage, 2).
    sb.fails(&["secret", "stage", "s", "CURRENT", "--move-to", &v2], 2);
    let j = sb.json(&[
        "secret",
        "stage",
        "s",
        "CURRENT",
        "--move-to",
        &v2,
        "--remove-from",
        &v1,
    ]);
    assert_eq!(j["versions"].as_array().unwrap().len(), 2);
    assert_eq!(sb.ok(&["secret", "get", "s"]), "two");
    assert_eq!(sb.ok(&["secret", "get", "s", "--stage", "PREVIOUS"]), "one");
    // Refusals.
    sb.fails(&["secret", "get", "missing"], 4);
    sb.fails(&["secret", "get", "s", "--stage", "NOPE"], 4);
    sb.fails(&["secret", "create", "bad name"], 2);
    let big = vec![b'x'; 65_537];
    let out = sb.run_stdin(&["secret", "put", "s", "--value-file", "-"], &big);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("65536"));
    let out = sb.run_stdin(&["secret", "create", "s", "--value-file", "-"], b"again");
    assert_eq!(out.status.code(), Some(10));
    // A disabled key: exit 5, and the value is still there afterwards.
    let key = sb.json(&["key", "create"]);
    let key = key["key_id"].as_str().unwrap();
    let out = sb.run_stdin(
        &["secret", "create", "k", "--key", key, "--value-file", "-"],
        b"kv",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    sb.ok(&["key", "disable", key]);
    sb.fails(&["secret", "get", "k"], 5);
    sb.ok(&["key", "enable", key]);
    assert_eq!(sb.ok(&["secret", "get", "k"]), "kv");
    // update: new versions under another key; the old one still reads.
    sb.fails(&["secret", "update", "k"], 2);
    let other = sb.json(&["key", "create", "--alias", "alias/other"]);
    let u = sb.json(&[
        "secret",
        "update",
        "k",
        "--key",
        "alias/other",
        "--description",
        "d",
    ]);
    assert_eq!(u["key_id"], "alias/other");
    assert_eq!(u["description"], "d");
    let out = sb.run_stdin(
        &["--json", "secret", "put", "k", "--value-file", "-"],
        b"kv2",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let d = sb.json(&["secret", "describe", "k"]);
    assert_eq!(d["versions"][0]["key_id"], other["key_id"]);
    assert_eq!(d["versions"][1]["key_id"], key);
    assert_eq!(sb.ok(&["secret", "get", "k", "--stage", "PREVIOUS"]), "kv");
    let t = sb.json(&["secret", "tag", "k", "--tag", "env=prod", "--tag", "team=x"]);
    assert_eq!(t["tags"]["env"], "prod");
    let t = sb.json(&["secret", "tag", "k", "--remove", "env"]);
    assert_eq!(t["tags"], serde_json::json!({"team": "x"}));
    sb.fails(&["secret", "tag", "k"], 2);
}

#[test]
fn delete_and_restore() {
    let sb = store("secret-delete");
    create_from_stdin(&sb, "old", b"v");
    sb.fails(
        &["secret", "delete", "old", "--recovery-window-days", "3"],
        2,
    );
    let d = sb.json(&["secret", "delete", "old", "--recovery-window-days", "7"]);
    assert_eq!(d["recoverable"], true);
    let err = sb.fails(&["secret", "get", "old"], 6);
    assert!(err.contains("scheduled for deletion"), "{err}");
    assert!(sb.json(&["secret", "list"])["secrets"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        sb.json(&["secret", "list", "--include-deleted"])["secrets"][0]["name"],
        "old"
    );
    sb.ok(&["secret", "restore", "old"]);
    assert_eq!(sb.ok(&["secret", "get", "old"]), "v");
    sb.ok(&["secret", "delete", "old", "--force-delete-without-recovery"]);
    sb.fails(&["secret", "describe", "old"], 4);
}

/// A hook that "sets" the value by writing it to `target` (mode 0600) and
/// "tests" it by comparing; it fails at the step named in
/// SEALBOX_HOOK_FAIL_AT, and if a variable of sealbox's environment
/// reached it.
fn hook(sb: &Sandbox) -> std::path::PathBuf {
    let p = sb.path("hook.sh");
    std::fs::write(
        &p,
        r#"#!/bin/sh
set -eu
target="$1"
value=$(cat)
[ -z "${SEALBOX_PIN_CANARY:-}" ] || { echo "sealbox's environment reached the hook" >&2; exit 7; }
[ "${SEALBOX_HOOK_FAIL_AT:-}" = "$SEALBOX_ROTATION_STEP" ] && { echo "refusing $SEALBOX_ROTATION_STEP" >&2; exit 3; }
case "$SEALBOX_ROTATION_STEP" in
  setSecret) umask 077; printf '%s' "$value" > "$target" ;;
  testSecret) [ "$(cat "$target")" = "$value" ] ;;
  *) exit 9 ;;
esac
echo "hook did $SEALBOX_ROTATION_STEP for $SEALBOX_SECRET_NAME"
"#,
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

#[test]
fn rotate_with_a_hook_and_failures_leave_current() {
    let sb = store("secret-rotate");
    let target = sb.path("target.pw");
    std::fs::write(&target, "initial").unwrap();
    create_from_stdin(&sb, "db", b"initial");
    let h = hook(&sb);
    // Neither a hook nor --no-target: refused.
    sb.fails(&["secret", "rotate", "db"], 2);
    for step in ["setSecret", "testSecret"] {
        let mut c = sb.cmd();
        c.env("SEALBOX_HOOK_FAIL_AT", step);
        // sealbox's environment (root key, PINs, database URL) never
        // reaches the hook: only PATH, HOME, locale and SEALBOX_HOOK_*.
        c.env("SEALBOX_PIN_CANARY", "1234");
        let out = c
            .args([
                "secret",
                "rotate",
                "db",
                "--command",
                s(&h),
                "--arg",
                s(&target),
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(step), "{}", stderr(&out));
        assert_eq!(sb.ok(&["secret", "get", "db"]), "initial");
        let pending = sb.ok(&["secret", "get", "db", "--stage", "PENDING"]);
        assert_eq!(pending.len(), 32);
    }
    // The hook's output goes to stderr; stdout has the JSON alone.
    let out = sb
        .cmd()
        .args([
            "--json",
            "secret",
            "rotate",
            "db",
            "--command",
            s(&h),
            "--arg",
            s(&target),
            "--length",
            "24",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("hook did testSecret for db"));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let new = sb.ok(&["secret", "get", "db"]);
    assert_eq!(new.len(), 24);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), new);
    assert_eq!(
        sb.ok(&["secret", "get", "db", "--stage", "PREVIOUS"]),
        "initial"
    );
    sb.fails(&["secret", "get", "db", "--stage", "PENDING"], 4);
    assert_eq!(
        sb.json(&["secret", "get", "db"])["version_id"],
        r["version_id"]
    );
    // A hook that hangs is killed after --hook-timeout; CURRENT stays.
    let hang = sb.path("hang.sh");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o700)).unwrap();
    let started = std::time::Instant::now();
    let err = sb.fails(
        &[
            "secret",
            "rotate",
            "db",
            "--command",
            s(&hang),
            "--hook-timeout",
            "1",
        ],
        1,
    );
    assert!(err.contains("did not finish within 1 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(sb.ok(&["secret", "get", "db"]), new);
    // --no-target: a new value with nothing to update.
    sb.ok(&["secret", "rotate", "db", "--no-target"]);
    assert_ne!(sb.ok(&["secret", "get", "db"]), new);
    // The trail names the secret operations.
    let trail = sb.ok(&["audit", "tail", "-n", "200", "--json"]);
    assert!(trail.contains("\"RotateSecret\"") && trail.contains("failed at setSecret"));
    assert!(!trail.contains("initial"));
}

#[test]
fn a_resource_policy_from_the_command_line() {
    let sb = store("secret-policy");
    fn admin<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [&["--principal", "admin"][..], args].concat()
    }
    let out = sb.run_stdin(
        &admin(&["secret", "create", "svc/api", "--value-file", "-"]),
        b"k-1",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let none = sb.json(&admin(&["secret", "policy", "get", "svc/api"]));
    assert!(none.is_null());
    let policy = r#"{"Version": "2012-10-17", "Statement": [
      {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
       "Action": "secretsmanager:*", "Resource": "*"},
      {"Sid": "Read", "Effect": "Allow", "Principal": {"Sealbox": "reader"},
       "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}"#;
    std::fs::write(sb.path("policy.json"), policy).unwrap();
    // The lockout check (exit 2), then as admin.
    let err = sb.fails(
        &[
            "--principal",
            "reader",
            "secret",
            "policy",
            "put",
            "svc/api",
            "policy.json",
        ],
        2,
    );
    assert!(err.contains("PutResourcePolicy"), "{err}");
    sb.ok(&admin(&[
        "secret",
        "policy",
        "put",
        "svc/api",
        "policy.json",
    ]));
    let v = sb.json(&admin(&["secret", "policy", "get", "svc/api"]));
    assert_eq!(v["Statement"][1]["Sid"], "Read");
    let got = sb.ok(&["--principal", "reader", "secret", "get", "svc/api"]);
    assert_eq!(got, "k-1");
    sb.fails(&["--principal", "other", "secret", "get", "svc/api"], 11);
    let out = sb.run_stdin(
        &[
            "--principal",
            "reader",
            "secret",
            "put",
            "svc/api",
            "--value-file",
            "-",
        ],
        b"evil",
    );
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    sb.ok(&admin(&["secret", "policy", "delete", "svc/api"]));
    assert_eq!(
        sb.ok(&["--principal", "other", "secret", "get", "svc/api"]),
        "k-1"
    );
}
