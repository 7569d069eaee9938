//! Key stores whose metadata and audit trail live in PostgreSQL: `sealbox
//! init --database URL`, every command through the store's config.toml,
//! `SEALBOX_DATABASE_URL`, the audit commands on the database trail, and
//! the errors of a wrong password, a missing database and a server that is
//! down. Needs the test server (`make pg-start`, SEALBOX_TEST_PG_URL);
//! skipped without it, except on CI.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{s, Sandbox};
use serde_json::Value;

/// The test server's URL; `None` (the test is skipped) when no server was
/// started, which is a failure on CI.
fn pg_server() -> Option<String> {
    match std::env::var("SEALBOX_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "SEALBOX_TEST_PG_URL is not set: on CI the PostgreSQL tests must run (make pg-start)"
            );
            eprintln!("skipped: no test PostgreSQL server (make pg-start; SEALBOX_TEST_PG_URL)");
            None
        }
    }
}

/// `url` with its database replaced by `db` and `query` as its parameters.
fn with_database(url: &str, db: &str, query: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    }
}

/// The password of `url` (the tests check that it is never shown).
fn password(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let auth = rest.split('/').next().unwrap();
    let user = auth.rsplit_once('@').unwrap().0;
    let pw = user.split_once(':').unwrap().1.to_owned();
    assert!(pw.len() >= 6, "the test server's password is a real one");
    pw
}

/// A fresh, empty database on the test server, dropped with the value.
struct Db {
    server: String,
    name: String,
    /// Its URL over TLS with the server's certificate verified.
    url: String,
}

impl Db {
    fn new(tag: &str) -> Option<Db> {
        static N: AtomicU32 = AtomicU32::new(0);
        let server = pg_server()?;
        let name = format!(
            "sbt_cli_{}_{}_{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = postgres::Client::connect(&server, postgres::NoTls)
            .expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let query = match std::env::var("SEALBOX_TEST_PG_CA") {
            Ok(ca) if !ca.is_empty() => format!("sslmode=verify-full&sslrootcert={ca}"),
            _ => String::new(),
        };
        let url = with_database(&server, &name, &query);
        Some(Db { server, name, url })
    }

    /// Rows of the database's audit_log table.
    fn audit_rows(&self) -> i64 {
        let url = with_database(&self.server, &self.name, "");
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query_one("SELECT count(*) FROM audit_log", &[])
            .unwrap()
            .get(0)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Asserts that the password shows nowhere in a command's output.
fn no_password(pw: &str, out: &std::process::Output) {
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains(pw), "the password is on {what}: {text}");
    }
}

/// Runs and requires exit `code`; checks that the password is not shown.
fn run_checked(
    sb: &Sandbox,
    pw: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut c = sb.cmd();
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.args(args).stdin(Stdio::null()).output().unwrap();
    no_password(pw, &out);
    out
}

fn ok(sb: &Sandbox, pw: &str, args: &[&str]) -> String {
    let out = run_checked(sb, pw, args, &[]);
    assert!(
        out.status.success(),
        "sealbox {args:?} failed ({:?}):\n{}",
        out.status.code(),
        common::stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn a_key_store_in_postgresql() {
    let Some(db) = Db::new("life") else { return };
    let pw = password(&db.url);
    let sb = Sandbox::new("pg-life");
    let init = ok(&sb, &pw, &["--json", "init", "--database", &db.url]);
    let v: Value = serde_json::from_str(&init).unwrap();
    assert_eq!(v["backend"], "soft");
    assert_eq!(v["joined"], false);
    assert!(
        v["database"].as_str().unwrap().starts_with("postgresql://")
            && v["database"].as_str().unwrap().contains(&db.name),
        "{v}"
    );
    assert!(
        v["audit_log"].as_str().unwrap().contains("audit_log table"),
        "{v}"
    );
    // The store directory: config.toml (0600, naming the database) and the
    // root key; no SQLite file, no log file.
    let cfg = sb.store().join("config.toml");
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains(&format!("database = \"{}\"", db.url)),
        "{text}"
    );
    let mut names: Vec<String> = std::fs::read_dir(sb.store())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.toml", "root.key"]);

    // The key's life, every command finding the database through config.toml.
    let key = ok(
        &sb,
        &pw,
        &["--json", "key", "create", "--alias", "alias/pg"],
    );
    let key_id = serde_json::from_str::<Value>(&key).unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = common::data(100_000);
    std::fs::write(sb.path("plain"), &data).unwrap();
    ok(
        &sb,
        &pw,
        &[
            "encrypt", "--key", "alias/pg", "-c", "dept=ops", "plain", "-o", "c1",
        ],
    );
    ok(&sb, &pw, &["key", "rotate", "alias/pg"]);
    ok(
        &sb,
        &pw,
        &["encrypt", "--key", "alias/pg", "plain", "-o", "c2"],
    );
    ok(&sb, &pw, &["decrypt", "c1", "-o", "p1"]);
    ok(&sb, &pw, &["decrypt", "c2", "-o", "p2"]);
    assert_eq!(std::fs::read(sb.path("p1")).unwrap(), data);
    assert_eq!(std::fs::read(sb.path("p2")).unwrap(), data);
    let d: Value =
        serde_json::from_str(&ok(&sb, &pw, &["--json", "key", "describe", "alias/pg"])).unwrap();
    assert_eq!(d["key_id"], key_id.as_str());
    assert_eq!(d["versions"].as_array().map(Vec::len), Some(2), "{d}");
    ok(&sb, &pw, &["key", "disable", "alias/pg"]);
    let out = run_checked(
        &sb,
        &pw,
        &["encrypt", "--key", "alias/pg", "plain", "-o", "c3"],
        &[],
    );
    assert_eq!(out.status.code(), Some(5), "{}", common::stderr(&out));
    assert!(!sb.path("c3").exists());
    ok(&sb, &pw, &["key", "enable", "alias/pg"]);
    ok(
        &sb,
        &pw,
        &["encrypt", "--key", "alias/pg", "plain", "-o", "c3"],
    );

    // The trail is in the database and verifies.
    let v: Value = serde_json::from_str(&ok(&sb, &pw, &["--json", "audit", "verify"])).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["audit_log"].as_str().unwrap().contains("audit_log table"));
    assert!(ok(&sb, &pw, &["audit", "verify"]).contains("verified"));

    // export: every record as stored, each with its MAC, in the order
    // stored: the chain of changes to keys and each process's chain of
    // data-plane records (`writer`) interleaved, each chain seq 0, 1, 2, ...
    let exported = ok(&sb, &pw, &["audit", "export"]);
    let records = lines(&exported);
    let n = records.len();
    assert!(n >= 9, "{exported}");
    assert_eq!(i64::try_from(n).unwrap(), db.audit_rows(), "every row");
    let mut chains: std::collections::BTreeMap<Option<u64>, Vec<&Value>> = Default::default();
    for r in &records {
        assert_eq!(r["mac"].as_str().map(str::len), Some(64), "{r}");
        assert!(r["prev"].is_string(), "{r}");
        chains.entry(r["writer"].as_u64()).or_default().push(r);
    }
    // One CLI process per command: every data-plane command its writer.
    assert!(chains.len() >= 3, "{:?}", chains.keys());
    for chain in chains.values() {
        for (i, r) in chain.iter().enumerate() {
            assert_eq!(r["seq"], i as u64, "consecutive seq in a chain: {r}");
        }
        for (a, b) in chain.iter().zip(chain.iter().skip(1)) {
            assert_eq!(b["prev"], a["mac"], "the chain");
        }
    }
    let ops: Vec<&str> = records
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops[0], "CreateKey");
    assert!(
        ops.contains(&"RotateKey") && ops.contains(&"DisableKey"),
        "{ops:?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["outcome"] == "failed" && r["operation"] == "GenerateDataKey"),
        "the refused encrypt is in the trail"
    );
    // To a file: the same bytes, mode 0600, the summary on stdout.
    let summary: Value = serde_json::from_str(&ok(
        &sb,
        &pw,
        &["--json", "audit", "export", "-o", "trail.jsonl"],
    ))
    .unwrap();
    assert_eq!(summary["records"], n as u64);
    assert_eq!(summary["first_seq"], 0);
    assert_eq!(summary["last_seq"], n as u64 - 1);
    let file = sb.path("trail.jsonl");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), exported);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Never over an existing file without --force.
    let out = run_checked(&sb, &pw, &["audit", "export", "-o", "trail.jsonl"], &[]);
    assert_eq!(out.status.code(), Some(10));
    // --after: only what came after that record.
    let after = ok(&sb, &pw, &["audit", "export", "--after", "5"]);
    assert_eq!(
        after,
        exported
            .lines()
            .skip(6)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );

    // tail: the last records, as stored with --json.
    let tail = ok(&sb, &pw, &["--json", "audit", "tail", "-n", "3"]);
    assert_eq!(
        tail,
        exported
            .lines()
            .skip(n - 3)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let text = ok(&sb, &pw, &["audit", "tail", "-n", "3"]);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("Encrypt") || text.contains("GenerateDataKey"),
        "{text}"
    );
    let all = ok(&sb, &pw, &["--json", "audit", "tail", "-n", "1000"]);
    assert_eq!(all, exported, "-n larger than the trail: all of it");
}

#[test]
fn tail_follow_reads_new_records_from_the_database() {
    let Some(db) = Db::new("follow") else { return };
    let pw = password(&db.url);
    let sb = Sandbox::new("pg-follow");
    ok(&sb, &pw, &["init", "--database", &db.url]);
    ok(&sb, &pw, &["key", "create", "--alias", "alias/f"]);
    let mut child = sb
        .cmd()
        .args(["--json", "audit", "tail", "-n", "1", "--follow"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("tail --follow printed no {what}"))
    };
    let first: Value = serde_json::from_str(&next("first record")).unwrap();
    assert_eq!(first["operation"], "CreateKey");
    // Records written by other processes show up.
    ok(&sb, &pw, &["key", "disable", "alias/f"]);
    ok(&sb, &pw, &["key", "enable", "alias/f"]);
    let a: Value = serde_json::from_str(&next("DisableKey")).unwrap();
    let b: Value = serde_json::from_str(&next("EnableKey")).unwrap();
    assert_eq!(a["operation"], "DisableKey");
    assert_eq!(b["operation"], "EnableKey");
    assert_eq!(a["seq"], first["seq"].as_u64().unwrap() + 1);
    assert_eq!(b["seq"], first["seq"].as_u64().unwrap() + 2);
    // SIGTERM stops it: exit 128 + 15.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let out = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "tail --follow did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(out.code(), Some(143));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("interrupted"), "{err}");
    assert!(!err.contains(&pw));
}

#[test]
fn another_host_joins_with_the_root_key_and_only_with_it() {
    let Some(db) = Db::new("join") else { return };
    let pw = password(&db.url);
    let first = Sandbox::new("pg-join-a");
    ok(&first, &pw, &["init", "--database", &db.url]);
    ok(&first, &pw, &["key", "create", "--alias", "alias/shared"]);
    std::fs::write(first.path("plain"), b"shared custody").unwrap();
    ok(
        &first,
        &pw,
        &["encrypt", "--key", "alias/shared", "plain", "-o", "c"],
    );

    let second = Sandbox::new("pg-join-b");
    // A new root key cannot open the store in that database: refused
    // before anything is written.
    let out = run_checked(&second, &pw, &["init", "--database", &db.url], &[]);
    assert_eq!(out.status.code(), Some(10), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("already holds a sealbox key store"),
        "{}",
        common::stderr(&out)
    );
    assert!(!second.store().exists(), "no half-made store is left");
    // Another root key: the core's WrongRootKey, said clearly; nothing left.
    let other = second.secret_file("other.key", &[7u8; 32]);
    let out = run_checked(
        &second,
        &pw,
        &["init", "--database", &db.url, "--root-key-file", s(&other)],
        &[],
    );
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("another root key"),
        "{}",
        common::stderr(&out)
    );
    assert!(!second.store().exists(), "no half-made store is left");
    assert_eq!(
        std::fs::read(&other).unwrap(),
        [7u8; 32],
        "the key file is untouched"
    );

    // A copy of the store's root key: joins, and sees the same keys.
    let copy = second.secret_file(
        "copy.key",
        &std::fs::read(first.store().join("root.key")).unwrap(),
    );
    let v: Value = serde_json::from_str(&ok(
        &second,
        &pw,
        &[
            "--json",
            "init",
            "--database",
            &db.url,
            "--root-key-file",
            s(&copy),
        ],
    ))
    .unwrap();
    assert_eq!(v["joined"], true, "{v}");
    assert_eq!(v["root_key_created"], false, "{v}");
    std::fs::copy(first.path("c"), second.path("c")).unwrap();
    ok(&second, &pw, &["decrypt", "c", "-o", "p"]);
    assert_eq!(std::fs::read(second.path("p")).unwrap(), b"shared custody");
    // A change made from one host is seen from the other.
    ok(&second, &pw, &["key", "disable", "alias/shared"]);
    let out = run_checked(
        &first,
        &pw,
        &["encrypt", "--key", "alias/shared", "plain", "-o", "c2"],
        &[],
    );
    assert_eq!(out.status.code(), Some(5), "{}", common::stderr(&out));
    // One trail for both.
    let a = ok(&first, &pw, &["audit", "export"]);
    let b = ok(&second, &pw, &["audit", "export"]);
    assert_eq!(a, b);
    assert!(a.contains("\"principal\":\"cli-tests\""));
}

#[test]
fn the_password_can_stay_out_of_the_config_file() {
    let Some(db) = Db::new("envurl") else { return };
    let pw = password(&db.url);
    let sb = Sandbox::new("pg-env");
    let env = [("SEALBOX_DATABASE_URL", db.url.as_str())];
    let out = run_checked(&sb, &pw, &["--json", "init"], &env);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = std::fs::read_to_string(sb.store().join("config.toml")).unwrap();
    assert!(!text.contains(&pw), "{text}");
    assert!(
        text.contains("database = \"postgresql://") && text.contains(&db.name),
        "{text}"
    );
    assert!(!sb.store().join("keys.db").exists());
    let out = run_checked(&sb, &pw, &["key", "create", "--alias", "alias/e"], &env);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // Without the variable, the URL of config.toml has no password: the
    // login fails, with a message that says so, and nothing else happens.
    let out = run_checked(&sb, &pw, &["key", "list"], &[]);
    assert_ne!(out.status.code(), Some(0));
    let err = common::stderr(&out);
    assert!(
        err.contains(&db.name) && err.contains("the URL has no password"),
        "{err}"
    );
    // With it, the store is there.
    let out = run_checked(&sb, &pw, &["--json", "key", "list"], &env);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"].as_array().map(Vec::len), Some(1), "{v}");

    // The variable does not turn a SQLite store into a database store.
    let lite = Sandbox::new("pg-env-lite");
    lite.init();
    let out = run_checked(&lite, &pw, &["key", "list"], &env);
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("SQLite"),
        "{}",
        common::stderr(&out)
    );
    // And it must be a PostgreSQL URL.
    let out = run_checked(
        &lite,
        &pw,
        &["key", "list"],
        &[("SEALBOX_DATABASE_URL", "/var/lib/keys.db")],
    );
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
}

#[test]
fn wrong_password_missing_database_and_a_server_that_is_down() {
    let Some(db) = Db::new("errors") else { return };
    let pw = password(&db.url);
    let sb = Sandbox::new("pg-errors");
    // A wrong password: refused, said so, the password never shown.
    let wrong = db.url.replacen(&format!(":{pw}@"), ":Wr0ngPassw0rd@", 1);
    assert_ne!(wrong, db.url);
    let out = run_checked(&sb, "Wr0ngPassw0rd", &["init", "--database", &wrong], &[]);
    no_password(&pw, &out);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("refused the login"),
        "{}",
        common::stderr(&out)
    );
    assert!(!sb.store().exists(), "nothing is left behind");
    // A database that does not exist.
    let missing = with_database(&db.url, "sbt_cli_no_such_database", "");
    let out = run_checked(&sb, &pw, &["init", "--database", &missing], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("no such database"),
        "{}",
        common::stderr(&out)
    );
    assert!(!sb.store().exists());
    // Not a PostgreSQL URL: a usage error.
    let out = run_checked(&sb, &pw, &["init", "--database", "/tmp/keys.db"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(!sb.store().exists());

    // Nothing listening: StoreUnavailable, exit 12, at init and later.
    let down = format!("postgresql://sealbox:{pw}@127.0.0.1:9/{}", db.name);
    let out = run_checked(&sb, &pw, &["--json", "init", "--database", &down], &[]);
    assert_eq!(out.status.code(), Some(12), "{}", common::stderr(&out));
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["code"], "StoreUnavailable");
    assert!(!sb.store().exists());
    ok(&sb, &pw, &["init", "--database", &db.url]);
    ok(&sb, &pw, &["key", "create", "--alias", "alias/x"]);
    let cfg = sb.store().join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace(&db.url, &down)).unwrap();
    for args in [
        &["key", "list"][..],
        &["audit", "verify"],
        &["audit", "tail"],
        &["audit", "export"],
    ] {
        let out = run_checked(&sb, &pw, args, &[]);
        assert_eq!(
            out.status.code(),
            Some(12),
            "{args:?}: {}",
            common::stderr(&out)
        );
    }
    // An existing but empty database is not opened as a store (that would
    // make one): only init does that.
    let empty = Db::new("empty").unwrap();
    std::fs::write(&cfg, text.replace(&db.url, &empty.url)).unwrap();
    let out = run_checked(&sb, &pw, &["key", "list"], &[]);
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("holds no sealbox key store"),
        "{}",
        common::stderr(&out)
    );
    std::fs::write(&cfg, text).unwrap();
    ok(&sb, &pw, &["key", "list"]);
}

#[test]
fn a_pkcs11_store_in_postgresql() {
    let Some(db) = Db::new("hsm") else { return };
    let pw = password(&db.url);
    let sb = Sandbox::new("pg-hsm");
    let conf = common::shared::write_conf(&sb.dir).unwrap();
    common::shared::must_init_token(Some(&conf), "sealbox-cli-pg", "0000000000", "1357924680");
    let module = common::shared::module();
    let env = [("SOFTHSM2_CONF", s(&conf)), ("TOKEN_PIN", "1357924680")];
    let run = |args: &[&str]| {
        let out = run_checked(&sb, &pw, args, &env);
        assert!(
            out.status.success(),
            "sealbox {args:?}: {}",
            common::stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let v: Value = serde_json::from_str(&run(&[
        "--json",
        "init",
        "--database",
        &db.url,
        "--pkcs11-module",
        s(&module),
        "--token-label",
        "sealbox-cli-pg",
        "--pin-env",
        "TOKEN_PIN",
    ]))
    .unwrap();
    assert_eq!(v["backend"], "pkcs11");
    assert!(v["root_key_file"].is_null());
    let text = std::fs::read_to_string(sb.store().join("config.toml")).unwrap();
    assert!(
        text.contains("backend = \"pkcs11\"") && text.contains(&db.name),
        "{text}"
    );
    run(&["key", "create", "--alias", "alias/hsm"]);
    std::fs::write(sb.path("plain"), b"in the token").unwrap();
    run(&["encrypt", "--key", "alias/hsm", "plain", "-o", "c"]);
    run(&["decrypt", "c", "-o", "p"]);
    assert_eq!(std::fs::read(sb.path("p")).unwrap(), b"in the token");
    let v: Value = serde_json::from_str(&run(&["--json", "audit", "verify"])).unwrap();
    assert_eq!(v["ok"], true);
    let records = lines(&run(&["audit", "export"]));
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(i64::try_from(records.len()).unwrap(), db.audit_rows());
    assert!(!sb.store().join("keys.db").exists());
}
