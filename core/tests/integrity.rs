//! Key metadata that cannot be edited behind the store's back (issue 16):
//! a row changed with the `sqlite3` shell or `psql` -- a disabled key
//! re-enabled, an alias repointed, a deletion date moved, a policy
//! loosened, a grant forged, a version's material swapped -- is detected
//! when used (`StoreTampered`, recorded in the audit trail) and nothing is
//! decrypted or signed on its strength. Rows of stores written before rows
//! had MACs are sealed once, audited.

mod common;

use common::{location, open, TempDir, TestClock};
use sealbox::keystore::{CreateKeyRequest, GrantRequest, KeyStore};
use sealbox::{EncryptionContext, Error};

fn ec() -> EncryptionContext {
    [("purpose".to_string(), "integrity".to_string())]
        .into_iter()
        .collect()
}

/// Runs SQL on the store's database behind sealbox's back.
fn sql(dir: &TempDir, statements: &str) {
    let loc = location(dir);
    let loc = loc.to_str().unwrap();
    if loc.starts_with("postgresql://") {
        let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
        c.batch_execute(&statements.replace("X''", "''::bytea"))
            .unwrap();
        // What a handle read before is used for the propagation bound.
        std::thread::sleep(
            sealbox::keystore::DEFAULT_METADATA_CACHE_TTL + std::time::Duration::from_millis(50),
        );
    } else {
        let c = rusqlite::Connection::open(loc).unwrap();
        c.execute_batch(statements).unwrap();
    }
}

fn tampered<T>(r: sealbox::Result<T>) -> String {
    match r {
        Err(Error::StoreTampered(m)) => m,
        Err(e) => panic!("expected StoreTampered, got {e:?}"),
        Ok(_) => panic!("expected StoreTampered, got a result"),
    }
}

fn fresh(tag: &str) -> (TempDir, KeyStore) {
    let dir = TempDir::new(tag);
    let ks = open(&dir, TestClock::new());
    (dir, ks)
}

#[test]
fn a_disabled_key_enabled_behind_the_stores_back_is_not_used() {
    let (dir, ks) = fresh("tamper-state");
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let blob = ks.encrypt(k.as_str(), b"pan", &ec()).unwrap();
    ks.disable_key(k.as_str()).unwrap();
    sql(
        &dir,
        &format!("UPDATE keys SET state = 'Enabled' WHERE key_id = '{k}'"),
    );
    drop(ks);
    let ks = open(&dir, TestClock::new());
    let m = tampered(ks.decrypt(&blob, &ec()));
    assert!(m.contains(k.as_str()), "{m}");
    tampered(ks.describe_key(k.as_str()));
    // The finding is in the audit trail, and the trail still verifies.
    let last = ks.audit_records(None, 1000).unwrap();
    let (_, line) = last.last().unwrap();
    assert!(
        line.contains("\"outcome\":\"failed\"") && line.contains("changed outside sealbox"),
        "{line}"
    );
    assert!(ks.verify_audit_log().unwrap().ok());
}

#[test]
fn a_moved_deletion_date_and_a_swapped_version_are_detected() {
    let (dir, ks) = fresh("tamper-date");
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let blob = ks.encrypt(k.as_str(), b"x", &ec()).unwrap();
    ks.rotate_key(k.as_str()).unwrap();
    let other = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    ks.schedule_key_deletion(other.as_str(), 30).unwrap();
    sql(
        &dir,
        &format!("UPDATE keys SET deletion_date = deletion_date + 86400 WHERE key_id = '{other}'"),
    );
    tampered(ks.describe_key(other.as_str()));
    // Version 1's material replaced by version 2's: the blob of version 1
    // is not opened with other material.
    sql(
        &dir,
        &format!(
            "UPDATE key_versions SET handle = (SELECT handle FROM key_versions WHERE key_id = '{k}' AND version = 2) WHERE key_id = '{k}' AND version = 1"
        ),
    );
    tampered(ks.decrypt(&blob, &ec()));
}

#[test]
fn a_repointed_alias_a_loosened_policy_and_a_forged_grant_are_detected() {
    let (dir, ks) = fresh("tamper-policy");
    let admin = ks.as_principal("admin").unwrap();
    let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"Sealbox":"admin"},"Action":"kms:*","Resource":"*"}]}"#;
    let k = admin
        .create_key(&CreateKeyRequest {
            alias: Some("alias/payments".into()),
            policy: Some(policy.into()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id;
    let decoy = admin
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_id;
    admin.encrypt("alias/payments", b"x", &ec()).unwrap();
    // The alias pointed at another key behind the store's back.
    sql(
        &dir,
        &format!("UPDATE aliases SET key_id = '{decoy}' WHERE alias = 'alias/payments'"),
    );
    tampered(admin.encrypt("alias/payments", b"x", &ec()));
    sql(
        &dir,
        &format!("UPDATE aliases SET key_id = '{k}' WHERE alias = 'alias/payments'"),
    );
    admin.encrypt("alias/payments", b"x", &ec()).unwrap();
    // The policy opened to everyone.
    let mallory = ks.as_principal("mallory").unwrap();
    assert!(matches!(
        mallory.encrypt(k.as_str(), b"x", &ec()),
        Err(Error::AccessDenied(_))
    ));
    sql(&dir, &format!("UPDATE key_policies SET policy = replace(policy, '\"admin\"', '\"*\"') WHERE key_id = '{k}'"));
    tampered(mallory.encrypt(k.as_str(), b"x", &ec()));
    tampered(admin.encrypt(k.as_str(), b"x", &ec()));
    // Policy row removed: not "no policy, so everyone".
    sql(
        &dir,
        &format!("DELETE FROM key_policies WHERE key_id = '{k}'"),
    );
    tampered(mallory.encrypt(k.as_str(), b"x", &ec()));
}

#[test]
fn a_forged_grant_is_detected() {
    let (dir, ks) = fresh("tamper-grant");
    let admin = ks.as_principal("admin").unwrap();
    let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"Sealbox":"admin"},"Action":"kms:*","Resource":"*"}]}"#;
    let k = admin
        .create_key(&CreateKeyRequest {
            policy: Some(policy.into()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id;
    admin
        .create_grant(
            k.as_str(),
            &GrantRequest {
                grantee_principal: "batch".into(),
                operations: vec!["Decrypt".into()],
                ..GrantRequest::default()
            },
        )
        .unwrap();
    // The grant widened to Encrypt for mallory.
    sql(
        &dir,
        "UPDATE grants SET grant_json = replace(replace(grant_json, '\"batch\"', '\"mallory\"'), '\"Decrypt\"', '\"Encrypt\"')",
    );
    let mallory = ks.as_principal("mallory").unwrap();
    tampered(mallory.encrypt(k.as_str(), b"x", &ec()));
}

#[test]
fn rows_written_before_macs_are_sealed_once_and_audited() {
    let (dir, ks) = fresh("tamper-legacy");
    let k = ks
        .create_key(&CreateKeyRequest {
            alias: Some("alias/old".into()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id;
    let blob = ks.encrypt("alias/old", b"kept", &ec()).unwrap();
    drop(ks);
    // As a store written by a sealbox without row MACs or policies.
    sql(
        &dir,
        "UPDATE keys SET mac = X''; UPDATE key_versions SET mac = X''; UPDATE aliases SET mac = X'';
         DELETE FROM key_policies; DELETE FROM meta WHERE name = 'metadata_sealed';",
    );
    let ks = open(&dir, TestClock::new());
    assert_eq!(ks.decrypt(&blob, &ec()).unwrap().as_bytes(), b"kept");
    assert!(ks.get_key_policy(k.as_str()).unwrap().contains("\"*\""));
    let records = ks.audit_records(None, 1000).unwrap();
    let sealed: Vec<_> = records
        .iter()
        .filter(|(_, l)| l.contains("\"operation\":\"SealMetadata\""))
        .collect();
    assert_eq!(sealed.len(), 1, "{records:?}");
    assert!(
        sealed[0]
            .1
            .contains("1 key rows, 1 versions, 1 aliases, 1 policies"),
        "{}",
        sealed[0].1
    );
    drop(ks);
    // Once: the next open seals nothing and records nothing.
    let ks = open(&dir, TestClock::new());
    let again = ks.audit_records(None, 1000).unwrap();
    assert_eq!(
        again
            .iter()
            .filter(|(_, l)| l.contains("SealMetadata"))
            .count(),
        1
    );
    // After sealing, a blanked MAC is tampering, not "legacy".
    sql(
        &dir,
        &format!("UPDATE keys SET mac = X'' WHERE key_id = '{k}'"),
    );
    tampered(ks.decrypt(&blob, &ec()));
}
