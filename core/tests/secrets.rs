//! Secrets on top of the key store (issue 21): every operation and label
//! transition, the refusals, key rotation under a secret, deletion and
//! recovery, no plaintext in the database (SQLite file bytes; PostgreSQL
//! `pg_dump`), the rotation workflow failing at each step, and the
//! end-to-end rotation of a real PostgreSQL role's password.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use common::{TempDir, TestClock, ROOT};
use sealbox::keystore::secrets::{
    DEFAULT_SECRETS_KEY_ALIAS, MAX_SECRET_VALUE, MAX_SECRET_VERSIONS, STAGE_CURRENT, STAGE_PENDING,
    STAGE_PREVIOUS,
};
use sealbox::keystore::{
    CreateKeyRequest, CreateSecretOptions, KeyStore, KeyStoreOptions, PasswordSpec,
    PutSecretValueOptions, RootKey, RotationStep, SecretRotation, SecretRotator, SecretValue,
};
use sealbox::{Error, ErrorKind, Result};

fn open_at(location: &std::path::Path, clock: Arc<TestClock>) -> KeyStore {
    KeyStore::open(
        location,
        &RootKey::from_bytes(&ROOT).unwrap(),
        KeyStoreOptions {
            clock,
            principal: "secrets-tests".into(),
            ..KeyStoreOptions::default()
        },
    )
    .unwrap()
}

fn text(s: &str) -> SecretValue {
    SecretValue::text(s).unwrap()
}

fn current(ks: &KeyStore, name: &str) -> String {
    ks.get_secret_value(name, None, None)
        .unwrap()
        .value
        .as_str()
        .unwrap()
        .to_owned()
}

fn stages(ks: &KeyStore, name: &str) -> BTreeMap<String, Vec<String>> {
    ks.describe_secret(name).unwrap().version_ids_to_stages
}

fn kind(r: Result<impl std::fmt::Debug>) -> ErrorKind {
    r.expect_err("refused").kind()
}

fn put(ks: &KeyStore, name: &str, value: &str, stages: &[&str]) -> String {
    ks.put_secret_value(
        name,
        &text(value),
        &PutSecretValueOptions {
            version_stages: Some(stages.iter().map(|s| s.to_string()).collect()),
            client_request_token: None,
        },
    )
    .unwrap()
    .version_id
}

#[test]
fn create_get_put_and_the_labels_move() {
    let dir = TempDir::new("secrets-basic");
    let ks = common::open(&dir, TestClock::new());
    let v1 = ks
        .create_secret(
            "prod/db/password",
            Some(&text("hunter2")),
            &CreateSecretOptions {
                description: "the app's database".into(),
                tags: BTreeMap::from([("team".into(), "payments".into())]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(v1.version_stages, vec![STAGE_CURRENT]);
    // The default key was made on first use, with its alias.
    let m = ks.describe_key(DEFAULT_SECRETS_KEY_ALIAS).unwrap();
    assert!(m.aliases.contains(&DEFAULT_SECRETS_KEY_ALIAS.to_string()));
    let got = ks.get_secret_value("prod/db/password", None, None).unwrap();
    assert_eq!(got.value.as_str(), Some("hunter2"));
    assert!(!got.value.is_binary());
    assert_eq!(got.version_id, v1.version_id);
    assert_eq!(got.version_stages, vec![STAGE_CURRENT]);

    // PutSecretValue: CURRENT moves, the old CURRENT becomes PREVIOUS.
    let v2 = put(&ks, "prod/db/password", "correct horse", &[STAGE_CURRENT]);
    assert_eq!(current(&ks, "prod/db/password"), "correct horse");
    let prev = ks
        .get_secret_value("prod/db/password", None, Some(STAGE_PREVIOUS))
        .unwrap();
    assert_eq!(prev.value.as_str(), Some("hunter2"));
    assert_eq!(prev.version_id, v1.version_id);
    // A third version: PREVIOUS moves on; v1 is deprecated (no label).
    let v3 = put(&ks, "prod/db/password", "battery staple", &[]);
    // No stages named: the version has none (deprecated at once) ...
    let all = ks
        .list_secret_version_ids("prod/db/password", true)
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].version_id, v3, "newest first");
    assert!(all[0].version_stages.is_empty());
    // ... and is listed only with the deprecated ones, readable by ID.
    let labelled = ks
        .list_secret_version_ids("prod/db/password", false)
        .unwrap();
    assert_eq!(labelled.len(), 2);
    assert_eq!(
        ks.get_secret_value("prod/db/password", Some(&v3), None)
            .unwrap()
            .value
            .as_str(),
        Some("battery staple")
    );
    // PENDING and a custom label on a new version; CURRENT unchanged.
    let v4 = put(
        &ks,
        "prod/db/password",
        "pending pw",
        &[STAGE_PENDING, "canary"],
    );
    assert_eq!(current(&ks, "prod/db/password"), "correct horse");
    let s = stages(&ks, "prod/db/password");
    assert_eq!(s[&v4], vec!["PENDING".to_string(), "canary".into()]);
    assert_eq!(s[&v2], vec![STAGE_CURRENT.to_string()]);
    assert_eq!(s[&v1.version_id], vec![STAGE_PREVIOUS.to_string()]);
    // By ID and stage together: the version must carry the stage.
    assert_eq!(
        ks.get_secret_value("prod/db/password", Some(&v4), Some("canary"))
            .unwrap()
            .value
            .as_str(),
        Some("pending pw")
    );
    assert_eq!(
        kind(ks.get_secret_value("prod/db/password", Some(&v2), Some("canary"))),
        ErrorKind::KeyNotFound
    );

    let d = ks.describe_secret("prod/db/password").unwrap();
    assert_eq!(d.description, "the app's database");
    assert_eq!(d.tags["team"], "payments");
    assert_eq!(d.key_id, DEFAULT_SECRETS_KEY_ALIAS);
    assert!(d.deletion_date.is_none());

    // Binary secrets stay binary.
    ks.create_secret(
        "tls/key",
        Some(&SecretValue::binary(&[0, 159, 146, 150, 255]).unwrap()),
        &CreateSecretOptions::default(),
    )
    .unwrap();
    let b = ks.get_secret_value("tls/key", None, None).unwrap();
    assert!(b.value.is_binary());
    assert_eq!(b.value.as_str(), None);
    assert_eq!(b.value.as_bytes(), &[0, 159, 146, 150, 255]);

    let list = ks.list_secrets(1, None, false).unwrap();
    assert_eq!(list.secrets.len(), 1);
    assert_eq!(list.secrets[0].name, "prod/db/password");
    let next = ks
        .list_secrets(1, list.next_marker.as_deref(), false)
        .unwrap();
    assert_eq!(next.secrets[0].name, "tls/key");
    assert!(next.next_marker.is_none());
}

#[test]
fn update_secret_version_stage_moves_and_refuses() {
    let dir = TempDir::new("secrets-stage");
    let ks = common::open(&dir, TestClock::new());
    let v1 = ks
        .create_secret("s", Some(&text("one")), &CreateSecretOptions::default())
        .unwrap()
        .version_id;
    let v2 = put(&ks, "s", "two", &[STAGE_PENDING]);
    // CURRENT is on v1: moving it needs v1 named as the one it leaves.
    assert_eq!(
        kind(ks.update_secret_version_stage("s", STAGE_CURRENT, Some(&v2), None)),
        ErrorKind::InvalidArgument
    );
    // Naming the wrong version is refused; nothing changed.
    assert_eq!(
        kind(ks.update_secret_version_stage("s", STAGE_CURRENT, Some(&v2), Some(&v2))),
        ErrorKind::InvalidArgument
    );
    assert_eq!(current(&ks, "s"), "one");
    // CURRENT cannot be removed, only moved.
    assert_eq!(
        kind(ks.update_secret_version_stage("s", STAGE_CURRENT, None, Some(&v1))),
        ErrorKind::InvalidArgument
    );
    // A version that does not exist.
    assert_eq!(
        kind(ks.update_secret_version_stage(
            "s",
            STAGE_CURRENT,
            Some("00000000-0000-4000-8000-000000000000"),
            Some(&v1)
        )),
        ErrorKind::KeyNotFound
    );
    // Promote: CURRENT to v2, PREVIOUS to v1 at once.
    ks.update_secret_version_stage("s", STAGE_CURRENT, Some(&v2), Some(&v1))
        .unwrap();
    assert_eq!(current(&ks, "s"), "two");
    let s = stages(&ks, "s");
    assert_eq!(s[&v1], vec![STAGE_PREVIOUS.to_string()]);
    assert_eq!(
        s[&v2],
        vec![STAGE_CURRENT.to_string(), STAGE_PENDING.to_string()]
    );
    // Remove a label; add a custom one; move it.
    ks.update_secret_version_stage("s", STAGE_PENDING, None, Some(&v2))
        .unwrap();
    ks.update_secret_version_stage("s", "blue", Some(&v1), None)
        .unwrap();
    ks.update_secret_version_stage("s", "blue", Some(&v2), Some(&v1))
        .unwrap();
    let s = stages(&ks, "s");
    assert_eq!(s[&v2], vec!["CURRENT".to_string(), "blue".into()]);
    assert_eq!(s[&v1], vec!["PREVIOUS".to_string()]);
    // Exactly one version holds CURRENT through all of it.
    let holders: Vec<_> = s
        .values()
        .filter(|l| l.contains(&STAGE_CURRENT.to_string()))
        .collect();
    assert_eq!(holders.len(), 1);
    // Bad label names, and too many labels on a version.
    assert_eq!(
        kind(ks.update_secret_version_stage("s", "no spaces", Some(&v1), None)),
        ErrorKind::InvalidArgument
    );
    for i in 0..17 {
        ks.update_secret_version_stage("s", &format!("l{i}"), Some(&v2), None)
            .unwrap();
    }
    // v2 has CURRENT, blue and 17 more: 19; the 20th fits, the 21st not.
    ks.update_secret_version_stage("s", "l17", Some(&v2), None)
        .unwrap();
    assert_eq!(
        kind(ks.update_secret_version_stage("s", "l18", Some(&v2), None)),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn refusals_change_nothing() {
    let dir = TempDir::new("secrets-refusals");
    let clock = TestClock::new();
    let ks = common::open(&dir, clock.clone());
    let o = CreateSecretOptions::default();
    // Missing secret.
    assert_eq!(
        kind(ks.get_secret_value("nope", None, None)),
        ErrorKind::KeyNotFound
    );
    assert_eq!(
        kind(ks.put_secret_value("nope", &text("x"), &Default::default())),
        ErrorKind::KeyNotFound
    );
    assert_eq!(kind(ks.describe_secret("nope")), ErrorKind::KeyNotFound);
    // Bad names.
    for bad in ["", "has space", "semi;colon", &"x".repeat(513)] {
        assert_eq!(
            kind(ks.create_secret(bad, Some(&text("v")), &o)),
            ErrorKind::InvalidArgument,
            "{bad:?}"
        );
    }
    ks.create_secret(&"n".repeat(512), Some(&text("v")), &o)
        .unwrap();
    // Oversized and empty values.
    let big = SecretValue::binary(&vec![7u8; MAX_SECRET_VALUE + 1]).unwrap();
    assert_eq!(
        kind(ks.create_secret("big", Some(&big), &o)),
        ErrorKind::InvalidArgument
    );
    assert_eq!(kind(ks.describe_secret("big")), ErrorKind::KeyNotFound);
    let max = SecretValue::binary(&vec![7u8; MAX_SECRET_VALUE]).unwrap();
    ks.create_secret("big", Some(&max), &o).unwrap();
    assert_eq!(
        ks.get_secret_value("big", None, None).unwrap().value.len(),
        MAX_SECRET_VALUE
    );
    assert_eq!(
        kind(ks.put_secret_value("big", &big, &Default::default())),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(ks.create_secret("empty", Some(&text("")), &o)),
        ErrorKind::InvalidArgument
    );
    // A name taken.
    ks.create_secret("app", Some(&text("v1")), &o).unwrap();
    assert_eq!(
        kind(ks.create_secret("app", Some(&text("other")), &o)),
        ErrorKind::AlreadyExists
    );
    assert_eq!(current(&ks, "app"), "v1");
    // A stage no version has.
    assert_eq!(
        kind(ks.get_secret_value("app", None, Some(STAGE_PENDING))),
        ErrorKind::KeyNotFound
    );
    assert_eq!(
        kind(ks.get_secret_value("app", Some("00000000-0000-4000-8000-000000000000"), None)),
        ErrorKind::KeyNotFound
    );
    // A key that does not exist.
    assert_eq!(
        kind(ks.create_secret(
            "k",
            Some(&text("v")),
            &CreateSecretOptions {
                key_id: Some("alias/missing".into()),
                ..Default::default()
            }
        )),
        ErrorKind::KeyNotFound
    );
    // A disabled key: no new version, no read; enabled again, both work.
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    ks.create_secret(
        "on-key",
        Some(&text("v1")),
        &CreateSecretOptions {
            key_id: Some(key.to_string()),
            ..Default::default()
        },
    )
    .unwrap();
    ks.disable_key(&key).unwrap();
    assert_eq!(
        kind(ks.get_secret_value("on-key", None, None)),
        ErrorKind::KeyDisabled
    );
    assert_eq!(
        kind(ks.put_secret_value("on-key", &text("v2"), &Default::default())),
        ErrorKind::KeyDisabled
    );
    ks.enable_key(&key).unwrap();
    assert_eq!(current(&ks, "on-key"), "v1");
    assert_eq!(ks.list_secret_version_ids("on-key", true).unwrap().len(), 1);

    // Idempotent puts: the same token and value change nothing; another
    // value under the same token is refused.
    let token = "0123456789abcdef0123456789abcdef";
    let put_token = |v: &str| {
        ks.put_secret_value(
            "app",
            &text(v),
            &PutSecretValueOptions {
                version_stages: None,
                client_request_token: Some(token.into()),
            },
        )
    };
    assert_eq!(put_token("v2").unwrap().version_id, token);
    assert_eq!(put_token("v2").unwrap().version_id, token);
    assert_eq!(ks.list_secret_version_ids("app", true).unwrap().len(), 2);
    assert_eq!(kind(put_token("v3")), ErrorKind::AlreadyExists);
    assert_eq!(current(&ks, "app"), "v2");
    assert_eq!(
        kind(ks.put_secret_value(
            "app",
            &text("v"),
            &PutSecretValueOptions {
                version_stages: None,
                client_request_token: Some("short".into()),
            }
        )),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn deletion_recovery_window_restore_and_purge() {
    let dir = TempDir::new("secrets-delete");
    let clock = TestClock::new();
    let ks = common::open(&dir, clock.clone());
    let o = CreateSecretOptions::default();
    ks.create_secret("a", Some(&text("va")), &o).unwrap();
    ks.create_secret("b", Some(&text("vb")), &o).unwrap();
    for bad in [6, 31] {
        assert_eq!(
            kind(ks.delete_secret("a", Some(bad), false)),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(
        kind(ks.delete_secret("a", Some(7), true)),
        ErrorKind::InvalidArgument
    );
    let at = ks.delete_secret("a", Some(7), false).unwrap();
    // Deleted: reads and writes refused, clearly; describe still answers.
    let e = ks.get_secret_value("a", None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidKeyState);
    assert!(e.to_string().contains("scheduled for deletion"), "{e}");
    assert_eq!(
        kind(ks.put_secret_value("a", &text("x"), &Default::default())),
        ErrorKind::InvalidKeyState
    );
    assert_eq!(
        kind(ks.delete_secret("a", None, false)),
        ErrorKind::InvalidKeyState
    );
    assert_eq!(ks.describe_secret("a").unwrap().deletion_date, Some(at));
    assert_eq!(ks.list_secrets(100, None, false).unwrap().secrets.len(), 1);
    assert_eq!(ks.list_secrets(100, None, true).unwrap().secrets.len(), 2);
    // Restored: as before.
    assert_eq!(kind(ks.restore_secret("b")), ErrorKind::InvalidKeyState);
    ks.restore_secret("a").unwrap();
    assert_eq!(current(&ks, "a"), "va");
    // Deleted again; past the window it is purged (at open).
    ks.delete_secret("a", Some(7), false).unwrap();
    clock.advance_days(8);
    drop(ks);
    let ks = common::open(&dir, clock.clone());
    assert_eq!(kind(ks.describe_secret("a")), ErrorKind::KeyNotFound);
    // The name is free again.
    ks.create_secret("a", Some(&text("new")), &o).unwrap();
    // Forced deletion: gone at once.
    ks.delete_secret("b", None, true).unwrap();
    assert_eq!(kind(ks.describe_secret("b")), ErrorKind::KeyNotFound);
    // Past its window a secret is gone for every operation (those that
    // take the change lock too), and purged when named (no reopen).
    ks.delete_secret("a", Some(7), false).unwrap();
    clock.advance_days(7);
    assert_eq!(kind(ks.restore_secret("a")), ErrorKind::KeyNotFound);
    assert_eq!(
        kind(ks.delete_secret("a", None, false)),
        ErrorKind::KeyNotFound
    );
    assert_eq!(
        kind(ks.update_secret_version_stage(
            "a",
            "x",
            Some("00000000-0000-4000-8000-000000000000"),
            None
        )),
        ErrorKind::KeyNotFound
    );
    assert_eq!(kind(ks.describe_secret("a")), ErrorKind::KeyNotFound);
    assert!(ks.list_secrets(100, None, true).unwrap().secrets.is_empty());
    ks.create_secret("a", Some(&text("reborn")), &o).unwrap();
    assert_eq!(current(&ks, "a"), "reborn");
}

#[test]
fn key_rotation_keeps_every_version_readable_and_reads_are_audited() {
    let dir = TempDir::new("secrets-keyrot");
    let ks = common::open(&dir, TestClock::new());
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    ks.create_alias("alias/app-secrets", &key).unwrap();
    let v1 = ks
        .create_secret(
            "svc",
            Some(&text("before rotation")),
            &CreateSecretOptions {
                key_id: Some("alias/app-secrets".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .version_id;
    ks.rotate_key(&key).unwrap();
    let v2 = put(&ks, "svc", "after one rotation", &[STAGE_CURRENT]);
    ks.rotate_key(&key).unwrap();
    ks.rotate_key(&key).unwrap();
    assert_eq!(
        ks.get_secret_value("svc", Some(&v1), None)
            .unwrap()
            .value
            .as_str(),
        Some("before rotation")
    );
    assert_eq!(current(&ks, "svc"), "after one rotation");
    let versions = ks.list_secret_version_ids("svc", true).unwrap();
    assert!(versions.iter().all(|v| v.key_id == key));
    // Reopened (a new process), still readable.
    drop(ks);
    let ks = common::open(&dir, TestClock::new());
    assert_eq!(
        ks.get_secret_value("svc", None, Some(STAGE_PREVIOUS))
            .unwrap()
            .value
            .as_str(),
        Some("before rotation")
    );
    // Who read which secret and version: the trail says, and never the value.
    let records = ks.audit_records(None, 10_000).unwrap();
    let reads: Vec<&String> = records
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains("\"GetSecretValue\""))
        .collect();
    assert!(reads
        .iter()
        .any(|l| l.contains(&format!("secret svc version {v1}"))
            && l.contains("\"tests\"")
            && l.contains(&key.to_string())));
    assert!(reads.iter().any(|l| l.contains(&format!("version {v2}"))));
    assert!(records
        .iter()
        .all(|(_, l)| !l.contains("before rotation") && !l.contains("after one rotation")));
    assert!(records.iter().any(|(_, l)| l.contains("\"CreateSecret\"")));
    assert!(records
        .iter()
        .any(|(_, l)| l.contains("\"PutSecretValue\"")));
    ks.verify_audit_log().unwrap();
}

#[test]
fn deprecated_versions_are_pruned_past_the_limit() {
    let dir = TempDir::new("secrets-prune");
    let ks = common::open(&dir, TestClock::new());
    let first = ks
        .create_secret("many", Some(&text("v0")), &CreateSecretOptions::default())
        .unwrap()
        .version_id;
    for i in 1..=(MAX_SECRET_VERSIONS + 2) {
        put(&ks, "many", &format!("v{i}"), &[STAGE_CURRENT]);
    }
    let all = ks.list_secret_version_ids("many", true).unwrap();
    assert_eq!(all.len(), MAX_SECRET_VERSIONS);
    assert!(all.iter().all(|v| v.version_id != first));
    assert_eq!(
        current(&ks, "many"),
        format!("v{}", MAX_SECRET_VERSIONS + 2)
    );
}

/// Scans `bytes` for any of `needles`.
fn holds_any(bytes: &[u8], needles: &[&str]) -> Option<String> {
    needles
        .iter()
        .find(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(|n| n.to_string())
}

const PLAINTEXTS: [&str; 3] = [
    "plaintext-canary-7f3a9c1e",
    "second-canary-value-0b4d2e88",
    "binary-canary-55aa55aa55aa",
];

fn write_canaries(ks: &KeyStore) {
    let o = CreateSecretOptions::default();
    ks.create_secret("canary/a", Some(&text(PLAINTEXTS[0])), &o)
        .unwrap();
    put(ks, "canary/a", PLAINTEXTS[1], &[STAGE_CURRENT]);
    ks.create_secret(
        "canary/b",
        Some(&SecretValue::binary(PLAINTEXTS[2].as_bytes()).unwrap()),
        &o,
    )
    .unwrap();
    // Read back too, so that a leak on the read path would show.
    assert_eq!(
        ks.get_secret_value("canary/b", None, None)
            .unwrap()
            .value
            .as_bytes(),
        PLAINTEXTS[2].as_bytes()
    );
    assert_eq!(current(ks, "canary/a"), PLAINTEXTS[1]);
}

#[test]
fn the_sqlite_file_holds_no_plaintext() {
    let dir = TempDir::new("secrets-scan");
    let db = dir.path("keys.db");
    let ks = open_at(&db, TestClock::new());
    write_canaries(&ks);
    drop(ks);
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let p = entry.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        scanned += bytes.len();
        assert_eq!(holds_any(&bytes, &PLAINTEXTS), None, "{}", p.display());
    }
    assert!(scanned > 0);
    // The scan does find what is there (the names are stored in clear).
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.path("keys.db-wal")).unwrap_or_default();
    assert!(holds_any(&[bytes, wal].concat(), &["canary/a"]).is_some());
}

#[cfg(feature = "postgres")]
#[test]
fn a_pg_dump_holds_no_plaintext() {
    let Some(url) = common::pg_database("secrets_dump") else {
        return;
    };
    let ks = open_at(std::path::Path::new(&url), TestClock::new());
    write_canaries(&ks);
    // Labels work the same on PostgreSQL.
    let v = put(&ks, "canary/a", "third-value", &[STAGE_PENDING]);
    ks.update_secret_version_stage(
        "canary/a",
        STAGE_CURRENT,
        Some(&v),
        Some(
            &ks.get_secret_value("canary/a", None, None)
                .unwrap()
                .version_id,
        ),
    )
    .unwrap();
    assert_eq!(current(&ks, "canary/a"), "third-value");
    assert_eq!(
        ks.get_secret_value("canary/a", None, Some(STAGE_PREVIOUS))
            .unwrap()
            .value
            .as_str(),
        Some(PLAINTEXTS[1])
    );
    drop(ks);
    let out = std::process::Command::new("pg_dump")
        .arg("--dbname")
        .arg(&url)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(holds_any(&out.stdout, &["canary/a", "secret_versions"]).is_some());
    assert_eq!(holds_any(&out.stdout, &PLAINTEXTS), None);
    assert_eq!(holds_any(&out.stdout, &["third-value"]), None);
}

#[test]
fn random_passwords_follow_their_spec() {
    let dir = TempDir::new("secrets-random");
    let ks = common::open(&dir, TestClock::new());
    let p = ks.get_random_password(&PasswordSpec::default()).unwrap();
    let s = p.as_str().unwrap();
    assert_eq!(s.len(), 32);
    assert!(s.chars().any(|c| c.is_ascii_lowercase()));
    assert!(s.chars().any(|c| c.is_ascii_uppercase()));
    assert!(s.chars().any(|c| c.is_ascii_digit()));
    assert!(s.chars().any(|c| c.is_ascii_punctuation()));
    let q = ks
        .get_random_password(&PasswordSpec {
            length: 64,
            exclude_punctuation: true,
            exclude_characters: "0O1lI".into(),
            ..Default::default()
        })
        .unwrap();
    let q = q.as_str().unwrap();
    assert_eq!(q.len(), 64);
    assert!(q
        .chars()
        .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)));
    assert_ne!(
        q,
        ks.get_random_password(&PasswordSpec {
            length: 64,
            exclude_punctuation: true,
            exclude_characters: "0O1lI".into(),
            ..Default::default()
        })
        .unwrap()
        .as_str()
        .unwrap()
    );
    for bad in [
        PasswordSpec {
            length: 0,
            ..Default::default()
        },
        PasswordSpec {
            length: 3,
            ..Default::default()
        },
        PasswordSpec {
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..Default::default()
        },
    ] {
        assert_eq!(
            kind(ks.get_random_password(&bad)),
            ErrorKind::InvalidArgument
        );
    }
}

/// A rotator whose target is a value in memory; it fails at `fail_at`.
struct MemoryTarget {
    fail_at: Option<RotationStep>,
    target: RefCell<String>,
    steps: RefCell<Vec<RotationStep>>,
}

impl MemoryTarget {
    fn new(initial: &str, fail_at: Option<RotationStep>) -> Self {
        MemoryTarget {
            fail_at,
            target: RefCell::new(initial.into()),
            steps: RefCell::new(Vec::new()),
        }
    }
    fn step(&self, s: RotationStep) -> Result<()> {
        self.steps.borrow_mut().push(s);
        if self.fail_at == Some(s) {
            return Err(Error::InvalidState(format!(
                "target refused at {}",
                s.as_str()
            )));
        }
        Ok(())
    }
}

impl SecretRotator for MemoryTarget {
    fn create_secret(&self, r: &SecretRotation<'_>) -> Result<SecretValue> {
        self.step(RotationStep::CreateSecret)?;
        r.key_store.get_random_password(&PasswordSpec::default())
    }
    fn set_secret(&self, _: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        self.step(RotationStep::SetSecret)?;
        *self.target.borrow_mut() = pending.as_str().unwrap().to_owned();
        Ok(())
    }
    fn test_secret(&self, _: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        self.step(RotationStep::TestSecret)?;
        assert_eq!(*self.target.borrow(), pending.as_str().unwrap());
        Ok(())
    }
    fn finish_secret(&self, _: &SecretRotation<'_>) -> Result<()> {
        self.step(RotationStep::FinishSecret)
    }
}

#[test]
fn a_rotation_failing_at_any_step_leaves_current_alone() {
    let dir = TempDir::new("secrets-rotate-fail");
    let ks = common::open(&dir, TestClock::new());
    let v1 = ks
        .create_secret("r", Some(&text("initial")), &CreateSecretOptions::default())
        .unwrap()
        .version_id;
    let steps = [
        RotationStep::CreateSecret,
        RotationStep::SetSecret,
        RotationStep::TestSecret,
        RotationStep::FinishSecret,
    ];
    for (i, step) in steps.iter().enumerate() {
        let t = MemoryTarget::new("initial", Some(*step));
        let e = ks.rotate_secret("r", &t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
        assert!(e.to_string().contains(step.as_str()), "{e}");
        assert_eq!(*t.steps.borrow(), steps[..=i].to_vec());
        // CURRENT untouched.
        let cur = ks.get_secret_value("r", None, None).unwrap();
        assert_eq!(cur.version_id, v1);
        assert_eq!(cur.value.as_str(), Some("initial"));
        // After step 1 the new value is there, PENDING.
        let pending = ks.get_secret_value("r", None, Some(STAGE_PENDING));
        if *step == RotationStep::CreateSecret {
            assert!(pending.is_err());
        } else {
            let p = pending.unwrap();
            assert_eq!(p.version_stages, vec![STAGE_PENDING]);
            assert_ne!(p.value.as_str(), Some("initial"));
        }
    }
    let records = ks.audit_records(None, 10_000).unwrap();
    assert!(records
        .iter()
        .any(|(_, l)| l.contains("\"RotateSecret\"") && l.contains("failed at testSecret")));
    // A rotation that succeeds: PENDING becomes CURRENT, CURRENT PREVIOUS,
    // PENDING is gone; the target holds the new CURRENT.
    let t = MemoryTarget::new("initial", None);
    let r = ks.rotate_secret("r", &t).unwrap();
    assert_eq!(r.previous_version_id, v1);
    let cur = ks.get_secret_value("r", None, None).unwrap();
    assert_eq!(cur.version_id, r.version_id);
    assert_eq!(cur.version_stages, vec![STAGE_CURRENT]);
    assert_eq!(cur.value.as_str(), Some(t.target.borrow().as_str()));
    assert_eq!(
        ks.get_secret_value("r", None, Some(STAGE_PREVIOUS))
            .unwrap()
            .value
            .as_str(),
        Some("initial")
    );
    assert_eq!(
        kind(ks.get_secret_value("r", None, Some(STAGE_PENDING))),
        ErrorKind::KeyNotFound
    );
    assert!(ks.describe_secret("r").unwrap().last_rotated_at.is_some());
    // Refused: a deleted secret, a secret without a value.
    ks.create_secret("empty", None, &CreateSecretOptions::default())
        .unwrap();
    assert_eq!(
        kind(ks.rotate_secret("empty", &MemoryTarget::new("", None))),
        ErrorKind::InvalidArgument
    );
    ks.delete_secret("r", Some(7), false).unwrap();
    assert_eq!(
        kind(ks.rotate_secret("r", &MemoryTarget::new("", None))),
        ErrorKind::InvalidKeyState
    );
}

/// Rotates the password of a real PostgreSQL role: the role changes its
/// own password, logged in with the CURRENT one (single-user rotation).
#[cfg(feature = "postgres")]
struct PgRole {
    host: String,
    port: u16,
    dbname: String,
    role: String,
}

#[cfg(feature = "postgres")]
impl PgRole {
    fn connect(&self, password: &str) -> std::result::Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .dbname(&self.dbname)
            .user(&self.role)
            .password(password)
            .connect(postgres::NoTls)
    }
}

#[cfg(feature = "postgres")]
fn pg_err(e: postgres::Error) -> Error {
    Error::InvalidState(format!("PostgreSQL: {e}"))
}

#[cfg(feature = "postgres")]
impl SecretRotator for PgRole {
    fn set_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        let cur = r
            .key_store
            .get_secret_value(r.secret_name, Some(r.current_version_id), None)?;
        let mut c = self.connect(cur.value.as_str().unwrap()).map_err(pg_err)?;
        let pw = pending.as_str().unwrap().replace('\'', "''");
        c.batch_execute(&format!("ALTER ROLE \"{}\" PASSWORD '{pw}'", self.role))
            .map_err(pg_err)
    }
    fn test_secret(&self, _: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        let mut c = self.connect(pending.as_str().unwrap()).map_err(pg_err)?;
        let one: i32 = c.query_one("SELECT 1", &[]).map_err(pg_err)?.get(0);
        if one != 1 {
            return Err(Error::InvalidState("the test query failed".into()));
        }
        Ok(())
    }
}

#[cfg(feature = "postgres")]
#[test]
fn rotating_a_real_postgresql_role_password_end_to_end() {
    let Some(url) = common::pg_database("secrets_role") else {
        return;
    };
    // The test server's role may not create roles: the superuser does it,
    // through the server's socket (scripts/pg-server.sh), for the set-up.
    let dir = std::env::var("SEALBOX_TEST_PG_DIR").expect("SEALBOX_TEST_PG_DIR");
    let port: u16 = std::env::var("SEALBOX_TEST_PG_PORT")
        .expect("SEALBOX_TEST_PG_PORT")
        .parse()
        .unwrap();
    let role = format!("sbt_app_{}", std::process::id());
    let mut admin = postgres::Config::new()
        .host_path(&dir)
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect(postgres::NoTls)
        .expect("the superuser through the socket");
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));

    let ks = open_at(std::path::Path::new(&url), TestClock::new());
    let initial = ks.get_random_password(&PasswordSpec::default()).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{}'",
            initial.as_str().unwrap().replace('\'', "''")
        ))
        .unwrap();
    ks.create_secret(
        "prod/app_user",
        Some(&initial),
        &CreateSecretOptions::default(),
    )
    .unwrap();
    drop(initial);
    let target = PgRole {
        host: "127.0.0.1".into(),
        port,
        dbname: url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .into(),
        role: role.clone(),
    };
    // The application reads CURRENT and connects.
    let old = current(&ks, "prod/app_user");
    target.connect(&old).expect("the app connects with CURRENT");
    // The rotation runs.
    let r = ks.rotate_secret("prod/app_user", &target).unwrap();
    // The application reads the new CURRENT and connects.
    let new = current(&ks, "prod/app_user");
    assert_ne!(new, old);
    assert_eq!(
        ks.get_secret_value("prod/app_user", None, None)
            .unwrap()
            .version_id,
        r.version_id
    );
    target
        .connect(&new)
        .expect("the app connects with the new CURRENT");
    // The old password no longer works.
    assert!(
        target.connect(&old).is_err(),
        "the old password still works"
    );
    // PREVIOUS still reads the old value.
    assert_eq!(
        ks.get_secret_value("prod/app_user", None, Some(STAGE_PREVIOUS))
            .unwrap()
            .value
            .as_str(),
        Some(old.as_str())
    );
    // A rotation whose test fails (the target is down for the role):
    // CURRENT stays what works.
    admin
        .batch_execute(&format!("ALTER ROLE {role} NOLOGIN"))
        .unwrap();
    let e = ks.rotate_secret("prod/app_user", &target).unwrap_err();
    assert!(e.to_string().contains("setSecret"), "{e}");
    assert_eq!(current(&ks, "prod/app_user"), new);
    admin
        .batch_execute(&format!("ALTER ROLE {role} LOGIN"))
        .unwrap();
    target.connect(&new).expect("CURRENT still opens the role");
    drop(ks);
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}

#[test]
fn reading_and_writing_a_secret_needs_the_key_policy_s_permission() {
    let dir = TempDir::new("secrets-policy");
    let admin = common::open(&dir, TestClock::new())
        .as_principal("admin")
        .unwrap();
    // admin: everything; app: Decrypt only when the context names the
    // secret "app/db".
    let policy = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "App", "Effect": "Allow", "Principal": {"Sealbox": "app"},
         "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:sealbox:secret": "app/db"}}}
      ]
    }"#;
    let key = admin
        .create_key(&CreateKeyRequest {
            policy: Some(policy.into()),
            ..Default::default()
        })
        .unwrap()
        .key_id
        .to_string();
    let o = CreateSecretOptions {
        key_id: Some(key.clone()),
        ..Default::default()
    };
    admin
        .create_secret("app/db", Some(&text("db-pw")), &o)
        .unwrap();
    admin
        .create_secret("other", Some(&text("other-pw")), &o)
        .unwrap();
    let app = admin.as_principal("app").unwrap();
    assert_eq!(current(&app, "app/db"), "db-pw");
    let e = app.get_secret_value("other", None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    assert_eq!(
        kind(app.put_secret_value("app/db", &text("mine"), &Default::default())),
        ErrorKind::AccessDenied
    );
    assert_eq!(current(&admin, "app/db"), "db-pw");
    let records = admin.audit_records(None, 10_000).unwrap();
    assert!(records.iter().any(|(_, l)| l.contains("\"GetSecretValue\"")
        && l.contains("\"app\"")
        && l.contains("denied")));
}

#[test]
fn update_secret_changes_the_key_of_new_versions_only() {
    let dir = TempDir::new("secrets-update");
    let ks = common::open(&dir, TestClock::new());
    let v1 = ks
        .create_secret(
            "u",
            Some(&text("under default")),
            &CreateSecretOptions::default(),
        )
        .unwrap()
        .version_id;
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    assert_eq!(
        kind(ks.update_secret("u", None, None)),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(ks.update_secret("u", None, Some("alias/none"))),
        ErrorKind::KeyNotFound
    );
    assert_eq!(
        kind(ks.update_secret("none", Some("d"), None)),
        ErrorKind::KeyNotFound
    );
    let m = ks
        .update_secret("u", Some("now on its own key"), Some(key.as_str()))
        .unwrap();
    assert_eq!(m.key_id, key.to_string());
    assert_eq!(m.description, "now on its own key");
    let v2 = put(&ks, "u", "under the new key", &[STAGE_CURRENT]);
    let versions = ks.list_secret_version_ids("u", true).unwrap();
    let default_key = ks.resolve_key_id(DEFAULT_SECRETS_KEY_ALIAS).unwrap();
    assert_eq!(versions[0].version_id, v2);
    assert_eq!(versions[0].key_id, key.to_string());
    assert_eq!(versions[1].key_id, default_key.to_string());
    // The old version stays readable under its own key.
    assert_eq!(
        ks.get_secret_value("u", Some(&v1), None)
            .unwrap()
            .value
            .as_str(),
        Some("under default")
    );
    // The description alone leaves the key.
    assert_eq!(
        ks.update_secret("u", Some("d2"), None).unwrap().key_id,
        key.to_string()
    );
    // Tags: added, replaced, removed; refused past 50.
    ks.tag_secret(
        "u",
        &BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
    )
    .unwrap();
    ks.tag_secret("u", &BTreeMap::from([("a".into(), "one".into())]))
        .unwrap();
    ks.untag_secret("u", &["b".into(), "absent".into()])
        .unwrap();
    assert_eq!(
        ks.describe_secret("u").unwrap().tags,
        BTreeMap::from([("a".to_string(), "one".to_string())])
    );
    let many: BTreeMap<String, String> = (0..50).map(|i| (format!("t{i}"), "v".into())).collect();
    assert_eq!(kind(ks.tag_secret("u", &many)), ErrorKind::InvalidArgument);
    assert_eq!(ks.describe_secret("u").unwrap().tags.len(), 1);
    assert_eq!(
        kind(ks.tag_secret("none", &BTreeMap::new())),
        ErrorKind::KeyNotFound
    );
    ks.delete_secret("u", Some(7), false).unwrap();
    assert_eq!(
        kind(ks.update_secret("u", Some("d3"), None)),
        ErrorKind::InvalidKeyState
    );
}

/// A rotator whose set step starts a second rotation of the same secret
/// (as another process would, at the same time).
struct Reentrant {
    inner: MemoryTarget,
    second: RefCell<Option<ErrorKind>>,
}

impl SecretRotator for Reentrant {
    fn create_secret(&self, r: &SecretRotation<'_>) -> Result<SecretValue> {
        self.inner.create_secret(r)
    }
    fn set_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        let other = MemoryTarget::new("x", None);
        let e = r.key_store.rotate_secret(r.secret_name, &other).map(|_| ());
        *self.second.borrow_mut() = Some(kind(e));
        self.inner.set_secret(r, pending)
    }
    fn test_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> Result<()> {
        self.inner.test_secret(r, pending)
    }
    fn finish_secret(&self, r: &SecretRotation<'_>) -> Result<()> {
        self.inner.finish_secret(r)
    }
}

#[test]
fn one_rotation_of_a_secret_at_a_time_and_the_trail_keeps_no_rotator_words() {
    let dir = TempDir::new("secrets-rotate-once");
    let ks = common::open(&dir, TestClock::new());
    ks.create_secret(
        "db",
        Some(&text("initial")),
        &CreateSecretOptions::default(),
    )
    .unwrap();
    let r = Reentrant {
        inner: MemoryTarget::new("initial", None),
        second: RefCell::new(None),
    };
    let done = ks.rotate_secret("db", &r).unwrap();
    // The second rotation, started while the first held its lease, was
    // refused; the first completed.
    assert_eq!(*r.second.borrow(), Some(ErrorKind::InvalidState));
    assert_eq!(current(&ks, "db"), *r.inner.target.borrow());
    assert_eq!(
        stages(&ks, "db")[&done.version_id],
        vec!["CURRENT".to_string()]
    );
    // The lease is released: the next rotation runs.
    ks.rotate_secret("db", &MemoryTarget::new("y", None))
        .unwrap();
    // A failing step's words (which may quote a password) stay out of the
    // trail; the caller still gets them.
    let e = ks
        .rotate_secret("db", &MemoryTarget::new("z", Some(RotationStep::SetSecret)))
        .unwrap_err();
    assert!(e.to_string().contains("target refused"), "{e}");
    let trail = ks.audit_records(None, 10_000).unwrap();
    assert!(!trail.iter().any(|(_, l)| l.contains("target refused")));
    assert!(trail
        .iter()
        .any(|(_, l)| l.contains("failed at setSecret") && l.contains("\"RotateSecret\"")));
}

#[test]
fn changing_a_secret_needs_the_right_to_read_it() {
    let dir = TempDir::new("secrets-change-policy");
    let admin = common::open(&dir, TestClock::new())
        .as_principal("admin")
        .unwrap();
    let admin_only = r#"{"Statement":[{"Effect":"Allow","Principal":{"Sealbox":"admin"},"Action":"kms:*","Resource":"*"}]}"#;
    let open_to_all =
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    let mk = |p: &str| {
        admin
            .create_key(&CreateKeyRequest {
                policy: Some(p.into()),
                ..Default::default()
            })
            .unwrap()
            .key_id
            .to_string()
    };
    let (guarded, leaky) = (mk(admin_only), mk(open_to_all));
    admin
        .create_secret(
            "db",
            Some(&text("pw")),
            &CreateSecretOptions {
                key_id: Some(guarded.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    let eve = admin.as_principal("eve").unwrap();
    // Eve cannot point the secret at a key she can read, move its labels or
    // destroy it.
    assert_eq!(
        kind(eve.update_secret("db", None, Some(&leaky))),
        ErrorKind::AccessDenied
    );
    let v = current_version(&admin, "db");
    assert_eq!(
        kind(eve.update_secret_version_stage("db", "CURRENT", Some(&v), None)),
        ErrorKind::AccessDenied
    );
    assert_eq!(
        kind(eve.delete_secret("db", None, true)),
        ErrorKind::AccessDenied
    );
    assert_eq!(current(&admin, "db"), "pw");
    // The admin may change the key.
    admin.update_secret("db", None, Some(&leaky)).unwrap();
}

fn current_version(ks: &KeyStore, name: &str) -> String {
    ks.get_secret_value(name, None, None)
        .unwrap()
        .version_id
        .clone()
}

/// A secret's resource policy (`secretsmanager:` actions): decides each
/// operation on the secret before its key does; explicit deny wins; the
/// lockout check; a policy edited in the database is refused; deleting the
/// policy leaves the key alone in charge; purging the secret drops it.
#[test]
fn a_secret_resource_policy_decides_each_operation() {
    let dir = TempDir::new("secrets-resource-policy");
    let ks = common::open(&dir, TestClock::new());
    let admin = ks.as_principal("admin").unwrap();
    admin
        .create_secret("svc/api", Some(&text("k-1")), &Default::default())
        .unwrap();
    let reader = admin.as_principal("reader").unwrap();
    let intruder = admin.as_principal("intruder").unwrap();
    // Without a policy, the key alone decides (the default key allows all).
    assert_eq!(current(&intruder, "svc/api"), "k-1");
    assert_eq!(admin.get_secret_resource_policy("svc/api").unwrap(), None);

    let policy = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
         "Action": "secretsmanager:*", "Resource": "*"},
        {"Sid": "Read", "Effect": "Allow", "Principal": {"Sealbox": ["reader", "intruder"]},
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
         "Resource": "*"},
        {"Sid": "NoIntruder", "Effect": "Deny", "Principal": {"Sealbox": "intruder"},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
      ]
    }"#;
    // Key-policy actions are not secret actions, and the other way round.
    let e = admin
        .put_secret_resource_policy(
            "svc/api",
            &policy.replace("secretsmanager:*", "kms:*"),
            false,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(
        e.to_string().contains("not a Secrets Manager action"),
        "{e}"
    );
    // The lockout check: a policy that would not let the caller change it.
    let e = reader
        .put_secret_resource_policy("svc/api", policy, false)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(
        e.to_string().contains("secretsmanager:PutResourcePolicy"),
        "{e}"
    );
    admin
        .put_secret_resource_policy("svc/api", policy, false)
        .unwrap();
    let stored = admin
        .get_secret_resource_policy("svc/api")
        .unwrap()
        .unwrap();
    assert!(stored.contains("NoIntruder"), "{stored}");

    assert_eq!(current(&reader, "svc/api"), "k-1");
    reader.describe_secret("svc/api").unwrap();
    // Explicit deny wins over the allow.
    let e = intruder
        .get_secret_value("svc/api", None, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    assert!(e.to_string().contains("NoIntruder"), "{e}");
    intruder.describe_secret("svc/api").unwrap();
    // What the policy does not allow is denied, and changes nothing.
    for r in [
        kind(reader.put_secret_value("svc/api", &text("evil"), &Default::default())),
        kind(reader.delete_secret("svc/api", Some(7), false)),
        kind(reader.update_secret("svc/api", Some("mine"), None)),
        kind(reader.get_secret_resource_policy("svc/api")),
        kind(reader.delete_secret_resource_policy("svc/api")),
        kind(reader.list_secret_version_ids("svc/api", false)),
    ] {
        assert_eq!(r, ErrorKind::AccessDenied);
    }
    assert_eq!(current(&admin, "svc/api"), "k-1");
    let records = admin.audit_records(None, 10_000).unwrap();
    assert!(records.iter().any(|(_, l)| l.contains("\"PutSecretValue\"")
        && l.contains("\"reader\"")
        && l.contains("denied")));

    // A policy edited in the database (SQLite) is refused.
    if !common::is_postgres() && !common::is_pkcs11() {
        let conn = rusqlite::Connection::open(dir.path("keys.db")).unwrap();
        conn.execute(
            "UPDATE secret_policies SET policy = replace(policy, 'intruder', 'nobody')",
            [],
        )
        .unwrap();
        let e = intruder
            .get_secret_value("svc/api", None, None)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StoreTampered, "{e}");
        let e = admin.get_secret_value("svc/api", None, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StoreTampered, "{e}");
        // The admin puts it back.
        conn.execute("DELETE FROM secret_policies", []).unwrap();
        admin
            .put_secret_resource_policy("svc/api", policy, false)
            .unwrap();
    }

    // Deleting the policy: the key alone decides again.
    admin.delete_secret_resource_policy("svc/api").unwrap();
    assert_eq!(current(&intruder, "svc/api"), "k-1");
    // A purged secret's policy goes with it: a new secret of the name
    // starts without one.
    admin
        .put_secret_resource_policy("svc/api", policy, false)
        .unwrap();
    admin.delete_secret("svc/api", None, true).unwrap();
    admin
        .create_secret("svc/api", Some(&text("k-2")), &Default::default())
        .unwrap();
    assert_eq!(admin.get_secret_resource_policy("svc/api").unwrap(), None);
    assert_eq!(current(&intruder, "svc/api"), "k-2");
}
