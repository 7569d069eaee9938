//! The PostgreSQL metadata store against a real server (`make pg-start`;
//! `SEALBOX_TEST_PG_URL`): opening by URL, errors for a wrong URL, password
//! or database, TLS, one audit trail for several handles that verifies
//! after any interleaving, and tampering with it detected.
#![cfg(feature = "postgres")]

mod common;

use std::sync::Arc;

use common::{
    ctx, delete_audit_rows, opts, pg_database, pg_server, psql, root, with_database, TestClock,
};
use sealbox::keystore::{
    CreateKeyRequest, KeyStore, KeyStoreOptions, RootKey, DEFAULT_METADATA_CACHE_TTL,
};
use sealbox::message::EncryptionContext;
use sealbox::Error;

/// Each writer's anchor: (writer, its last anchored record).
fn writer_anchors(c: &mut postgres::Client) -> Vec<(i64, i64)> {
    c.query(
        "SELECT writer, head_seq FROM audit_writers ORDER BY writer",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[test]
fn a_key_store_opens_by_url_and_works() {
    let Some(url) = pg_database("basic") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    assert_eq!(ks.metadata_cache_ttl(), DEFAULT_METADATA_CACHE_TTL);
    let k = ks
        .create_key(&CreateKeyRequest {
            alias: Some("alias/orders".into()),
            ..CreateKeyRequest::default()
        })
        .unwrap();
    let dk = ks.generate_data_key("alias/orders", 32, &ctx()).unwrap();
    let back = ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
    assert_eq!(back.as_bytes(), dk.plaintext.as_bytes());
    ks.rotate_key(k.key_id.as_str()).unwrap();
    let dk2 = ks.generate_data_key(k.key_id.as_str(), 32, &ctx()).unwrap();
    assert_eq!(dk2.key_version, 2);
    // Both versions still decrypt.
    ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
    ks.decrypt(&dk2.ciphertext, &ctx()).unwrap();
    assert!(ks.audit_log_path().is_none());
    assert!(ks.audit_log_location().unwrap().contains("audit_log"));
    let report = ks.verify_audit_log().unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.records >= 5, "{report:?}");
    // The records are the JSON lines of the file log.
    let lines = ks.audit_records(None, 1000).unwrap();
    assert_eq!(lines.len() as u64, report.records);
    assert!(
        lines[0].1.contains("\"operation\":\"CreateKey\""),
        "{}",
        lines[0].1
    );
    drop(ks);

    // Reopened: the same keys, the chain continues.
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    ks.decrypt(&dk2.ciphertext, &ctx()).unwrap();
    let again = ks.verify_audit_log().unwrap();
    assert!(
        again.ok() && again.records == report.records + 1,
        "{again:?}"
    );
    // A wrong root key does not open it.
    let wrong = RootKey::from_bytes(&[7u8; 32]).unwrap();
    assert!(matches!(
        KeyStore::open(&url, &wrong, opts("app")),
        Err(Error::WrongRootKey)
    ));
}

#[test]
fn clear_errors_for_a_wrong_url_password_or_database() {
    let Some(server) = pg_server() else { return };
    // Wrong password: the server's refusal, without the password.
    let bad = server.replacen(":sealbox-test-pw@", ":not-the-password@", 1);
    assert_ne!(bad, server, "the test URL carries the test password");
    match KeyStore::open(&bad, &root(), opts("app")) {
        Err(Error::Storage(m)) => {
            assert!(m.contains("refused the login"), "{m}");
            assert!(!m.contains("not-the-password"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // Missing database.
    match KeyStore::open(
        with_database(&server, "no_such_db_here"),
        &root(),
        opts("app"),
    ) {
        Err(Error::Storage(m)) => assert!(m.contains("no such database"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Malformed URL.
    assert!(matches!(
        KeyStore::open(
            "postgresql://sealbox:pw@127.0.0.1:99999999/x",
            &root(),
            opts("app")
        ),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        KeyStore::open(format!("{server}?sslmode=bogus"), &root(), opts("app")),
        Err(Error::InvalidArgument(_))
    ));
    // Nothing listening: unavailable, at once.
    let t = std::time::Instant::now();
    assert!(matches!(
        KeyStore::open(
            "postgresql://sealbox:pw@127.0.0.1:9/sealbox",
            &root(),
            opts("app")
        ),
        Err(Error::StoreUnavailable(_))
    ));
    assert!(t.elapsed().as_secs() < 5);
    // An audit log file cannot be set for a store that keeps its own.
    let url = pg_database("nofile").unwrap();
    let o = KeyStoreOptions {
        audit_log: Some(std::env::temp_dir().join("sealbox-not-used.jsonl")),
        ..opts("app")
    };
    assert!(matches!(
        KeyStore::open(&url, &root(), o),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn tls_is_verified_against_sslrootcert() {
    let Some(url) = pg_database("tls") else {
        return;
    };
    let Ok(ca) = std::env::var("SEALBOX_TEST_PG_CA") else {
        panic!("SEALBOX_TEST_PG_CA is set with SEALBOX_TEST_PG_URL by make pg-start")
    };
    // The test server's certificate names localhost and 127.0.0.1.
    let tls = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    let ks = KeyStore::open(&tls, &root(), opts("app")).unwrap();
    ks.create_key(&CreateKeyRequest::default()).unwrap();
    let mut c = psql(&url);
    let ssl: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'sealbox' AND a.datname = current_database() AND s.ssl",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl >= 1, "no TLS connection from sealbox");
    // verify-full without the test CA: the system's roots do not trust it.
    let untrusted = format!("{url}?sslmode=verify-full");
    match KeyStore::open(&untrusted, &root(), opts("app")) {
        Err(Error::StoreUnavailable(m)) | Err(Error::Storage(m)) => {
            assert!(
                m.contains("TLS") || m.to_lowercase().contains("certificate"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The CA, but a host name the certificate does not name: verify-full
    // refuses, verify-ca (the chain only) accepts.
    let by_name = |mode: &str| {
        format!(
            "{}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}",
            url.replace("@127.0.0.1:", "@sealbox-test.invalid:")
        )
    };
    assert!(KeyStore::open(by_name("verify-full"), &root(), opts("app")).is_err());
    KeyStore::open(by_name("verify-ca"), &root(), opts("app")).unwrap();
    // require without roots: encrypted, not authenticated (libpq's rule).
    KeyStore::open(format!("{url}?sslmode=require"), &root(), opts("app")).unwrap();
}

#[test]
fn several_handles_write_a_trail_that_verifies() {
    let Some(url) = pg_database("chain") else {
        return;
    };
    let a = KeyStore::open(&url, &root(), opts("a")).unwrap();
    let b = KeyStore::open(&url, &root(), opts("b")).unwrap();
    let k = a.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    std::thread::scope(|s| {
        for ks in [&a, &b, &a, &b] {
            let id = id.clone();
            s.spawn(move || {
                for _ in 0..100 {
                    let dk = ks.generate_data_key(&id, 32, &ctx()).unwrap();
                    ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
                }
            });
        }
        // A change to keys in the middle of the traffic.
        s.spawn(|| b.rotate_key(&id).unwrap());
    });
    let ra = a.verify_audit_log().unwrap();
    let rb = b.verify_audit_log().unwrap();
    assert!(ra.ok(), "{ra:?}");
    assert_eq!(ra, rb);
    // CreateKey + 800 data-plane records + the rotation.
    assert_eq!(ra.records, 1 + 800 + 1);
    let lines = a.audit_records(None, 10_000).unwrap();
    let by_b = lines
        .iter()
        .filter(|(_, l)| l.contains("\"principal\":\"b\""))
        .count();
    assert_eq!(by_b, 401);
}

#[test]
fn the_audit_table_refuses_updates_and_deletes() {
    let Some(url) = pg_database("appendonly") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    ks.create_key(&CreateKeyRequest::default()).unwrap();
    let mut c = psql(&url);
    for sql in [
        "DELETE FROM audit_log",
        "UPDATE audit_log SET line = 'x'",
        "TRUNCATE audit_log",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert!(
            e.to_string().contains("append-only") || format!("{e:?}").contains("append-only"),
            "{sql}: {e:?}"
        );
    }
}

#[test]
fn a_removed_tail_is_detected_at_open_and_by_verification() {
    let Some(url) = pg_database("tail") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    for _ in 0..10 {
        ks.generate_data_key(k.key_id.as_str(), 32, &ctx()).unwrap();
    }
    // Data-plane records after the last change to keys are removed: every
    // writer's chain from its record 5 on.
    delete_audit_rows(&mut psql(&url), "writer <> 0 AND seq >= 5");
    let r = ks.verify_audit_log().unwrap();
    assert!(!r.ok(), "{r:?}");
    assert!(r.first_error.unwrap().1.contains("tail removed"));
    drop(ks);
    match KeyStore::open(&url, &root(), opts("app")) {
        Err(Error::AuditLogTampered(m)) => assert!(m.contains("removed"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The operator's explicit, audited way on: a new segment that records
    // the old head; the old rows stay as evidence.
    let o = KeyStoreOptions {
        new_audit_segment: Some("tail of segment 0 lost in an incident".into()),
        ..opts("operator")
    };
    let ks = KeyStore::open(&url, &root(), o).unwrap();
    let r = ks.verify_audit_log().unwrap();
    assert!(r.ok() && r.records == 1, "{r:?}");
    let first = &ks.audit_records(None, 10).unwrap()[0].1;
    assert!(
        first.contains("StartAuditSegment") && first.contains("removed"),
        "{first}"
    );
    ks.generate_data_key(k.key_id.as_str(), 32, &ctx()).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());
    let kept: i64 = psql(&url)
        .query_one("SELECT count(*) FROM audit_log WHERE segment = 0", &[])
        .unwrap()
        .get(0);
    // CreateKey (the chain of changes to keys) and the writer's first 5.
    assert_eq!(kept, 6);
}

#[test]
fn an_edited_or_reordered_record_is_detected() {
    let Some(url) = pg_database("edit") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    for _ in 0..5 {
        ks.generate_data_key(k.key_id.as_str(), 32, &ctx()).unwrap();
    }
    let mut c = psql(&url);
    c.batch_execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        .unwrap();
    c.batch_execute(
        "UPDATE audit_log SET line = replace(line, '\"principal\":\"app\"', '\"principal\":\"eve\"') WHERE seq = 2",
    )
    .unwrap();
    let r = ks.verify_audit_log().unwrap();
    // CreateKey, then the writer's records 0 and 1 verify: its record 2 is
    // the fourth.
    assert_eq!(r.first_error.as_ref().map(|e| e.0), Some(4), "{r:?}");
    let why = r.first_error.unwrap().1;
    assert!(why.contains("writer 1") && why.contains("MAC"), "{why}");
    // Swap two records' lines back into place but in the other order.
    c.batch_execute(
        "UPDATE audit_log SET line = replace(line, '\"principal\":\"eve\"', '\"principal\":\"app\"') WHERE seq = 2;
         UPDATE audit_log SET seq = -1 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = -1;",
    )
    .unwrap();
    let r = ks.verify_audit_log().unwrap();
    assert!(r.first_error.unwrap().1.contains("chain broken"));
}

/// Each process writes its data-plane records to its own chain (issue 15),
/// anchored with every group: another process's removed tail, a
/// record moved between chains and a removed registration are noticed; an
/// anchor moved back or a registration deleted is refused by the database.
#[test]
fn every_writer_chain_is_anchored_and_checked() {
    let Some(url) = pg_database("writers") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    for who in ["a", "b"] {
        let other = KeyStore::open(&url, &root(), opts(who)).unwrap();
        for _ in 0..6 {
            other.generate_data_key(&id, 32, &ctx()).unwrap();
        }
        // Dropped: its writer's chain is anchored at its last record.
    }
    let mut c = psql(&url);
    let anchors = writer_anchors(&mut c);
    assert_eq!(anchors, [(1, 5), (2, 5)]);
    let r = ks.verify_audit_log().unwrap();
    assert!(r.ok() && r.records == 13, "{r:?}");
    // Every record, each chain in its own order, in the order stored.
    let all = ks.audit_records(None, 100).unwrap();
    assert_eq!(all.len(), 13);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(all[1].1.contains("\"writer\":1") && all[12].1.contains("\"writer\":2"));

    // Anchors only move forward, and no registration goes away (unless the
    // table's owner switches its triggers off).
    for sql in [
        "UPDATE audit_writers SET head_seq = 2 WHERE writer = 1",
        "UPDATE audit_writers SET head_mac = 'x' WHERE writer = 1",
        "DELETE FROM audit_writers WHERE writer = 2",
        "TRUNCATE audit_writers",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert!(
            format!("{e:?}").contains("only move forward")
                || format!("{e:?}").contains("append-only"),
            "{sql}: {e:?}"
        );
    }

    // The last records of writer 2 (another process, gone) are removed.
    c.batch_execute(
        "ALTER TABLE audit_log DISABLE TRIGGER USER;
         CREATE TEMP TABLE kept AS SELECT * FROM audit_log WHERE writer = 2 AND seq >= 4;
         DELETE FROM audit_log WHERE writer = 2 AND seq >= 4;",
    )
    .unwrap();
    let r = ks.verify_audit_log().unwrap();
    let why = r.first_error.unwrap().1;
    assert!(
        why.contains("writer 2") && why.contains("tail removed"),
        "{why}"
    );
    match KeyStore::open(&url, &root(), opts("app")) {
        Err(Error::AuditLogTampered(m)) => {
            assert!(m.contains("writer 2") && m.contains("removed"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    c.batch_execute(
        "INSERT INTO audit_log (segment, writer, seq, line) SELECT segment, writer, seq, line FROM kept",
    )
    .unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());

    // A record moved from one writer's chain to the other's: its MAC
    // names its writer.
    c.batch_execute(
        "UPDATE audit_log SET writer = 3 WHERE writer = 1 AND seq = 5;
         UPDATE audit_log SET writer = 1, seq = 5 WHERE writer = 2 AND seq = 5;
         UPDATE audit_log SET writer = 2 WHERE writer = 3;",
    )
    .unwrap();
    let why = ks.verify_audit_log().unwrap().first_error.unwrap().1;
    assert!(why.contains("moved between chains"), "{why}");
    c.batch_execute(
        "UPDATE audit_log SET writer = 3 WHERE writer = 2 AND seq = 5;
         UPDATE audit_log SET writer = 2 WHERE writer = 1 AND seq = 5;
         UPDATE audit_log SET writer = 1 WHERE writer = 3;",
    )
    .unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());

    // A whole writer removed, registration and records (its triggers
    // switched off first).
    c.batch_execute(
        "ALTER TABLE audit_writers DISABLE TRIGGER USER;
         DELETE FROM audit_writers WHERE writer = 1;
         DELETE FROM audit_log WHERE writer = 1;",
    )
    .unwrap();
    let why = ks.verify_audit_log().unwrap().first_error.unwrap().1;
    assert!(why.contains("registrations removed"), "{why}");
}

/// A writer whose last groups the server lost (a crash with
/// `synchronous_commit` off loses them with their anchor) goes on in a new
/// writer's chain, leaving no hole and no false alarm; a writer of a
/// segment an operator closed from another process goes on in the new one.
#[test]
fn a_writer_goes_on_after_a_lost_tail_and_a_new_segment() {
    let Some(url) = pg_database("lostgroup") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    for _ in 0..5 {
        ks.generate_data_key(&id, 32, &ctx()).unwrap();
    }
    // What the server has after losing the last two records (and the
    // anchor that moved with them).
    let mut c = psql(&url);
    c.batch_execute(
        "ALTER TABLE audit_log DISABLE TRIGGER USER;
         ALTER TABLE audit_writers DISABLE TRIGGER USER;
         DELETE FROM audit_log WHERE writer = 1 AND seq >= 3;
         UPDATE audit_writers SET head_seq = 2,
           head_mac = (SELECT substring(line from '\"mac\":\"([0-9a-f]{64})\"') FROM audit_log
                       WHERE writer = 1 AND seq = 2)
         WHERE writer = 1;
         ALTER TABLE audit_log ENABLE TRIGGER USER;
         ALTER TABLE audit_writers ENABLE TRIGGER USER;",
    )
    .unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());
    ks.generate_data_key(&id, 32, &ctx()).unwrap();
    let r = ks.verify_audit_log().unwrap();
    assert!(r.ok() && r.records == 1 + 3 + 1, "{r:?}");
    let writers = writer_anchors(&mut c);
    assert_eq!(writers, [(1, 2), (2, 0)]);
    drop(ks);
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    // Its writer (3) is in segment 0.
    ks.generate_data_key(&id, 32, &ctx()).unwrap();

    // An operator starts segment 1 from another process; this one's next
    // data-plane record is in it (writer 4).
    let o = KeyStoreOptions {
        new_audit_segment: Some("rotation of the trail".into()),
        ..opts("operator")
    };
    let operator = KeyStore::open(&url, &root(), o).unwrap();
    ks.generate_data_key(&id, 32, &ctx()).unwrap();
    let seen = operator.audit_records(None, 10).unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].1.contains("StartAuditSegment"));
    assert!(seen[1].1.contains("GenerateDataKey") && seen[1].1.contains("\"principal\":\"app\""));
    assert!(seen[1].1.contains("\"writer\":4"), "{}", seen[1].1);
    assert!(operator.verify_audit_log().unwrap().ok());
}

/// The chain of changes to keys, which every process continues, is
/// anchored too: its last record removed is refused at open.
#[test]
fn a_removed_change_to_keys_is_detected() {
    let Some(url) = pg_database("ctltail") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    ks.generate_data_key(k.key_id.as_str(), 32, &ctx()).unwrap();
    ks.rotate_key(k.key_id.as_str()).unwrap();
    let mut c = psql(&url);
    delete_audit_rows(&mut c, "writer = 0 AND seq = 1");
    let why = ks.verify_audit_log().unwrap().first_error.unwrap().1;
    assert!(why.contains("tail removed"), "{why}");
    drop(ks);
    match KeyStore::open(&url, &root(), opts("app")) {
        Err(Error::AuditLogTampered(m)) => assert!(m.contains("removed"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_disable_elsewhere_is_honoured_within_the_bound() {
    let Some(url) = pg_database("bound") else {
        return;
    };
    let bound = std::time::Duration::from_millis(300);
    let o = |p: &str| KeyStoreOptions {
        metadata_cache_ttl: Some(bound),
        clock: TestClock::new(),
        ..opts(p)
    };
    let app = KeyStore::open(&url, &root(), o("app")).unwrap();
    let admin = KeyStore::open(&url, &root(), o("admin")).unwrap();
    let k = admin.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    let dk = app.generate_data_key(&id, 32, &ctx()).unwrap();
    let epoch = app.epoch();
    admin.disable_key(&id).unwrap();
    let t = std::time::Instant::now();
    loop {
        // When the call began: a call that began within the bound may
        // still be allowed; one that began after it may not.
        let began = t.elapsed();
        match app.decrypt(&dk.ciphertext, &ctx()) {
            Err(Error::KeyDisabled(_)) => break,
            Ok(_) => assert!(began <= bound, "still usable {began:?} after the disable"),
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Caching materials managers over `app` see the revocation too, within
    // the bound.
    std::thread::sleep(bound);
    assert_ne!(app.epoch(), epoch);
    // A change made through the handle itself is honoured at once.
    admin.enable_key(&id).unwrap();
    std::thread::sleep(bound);
    app.decrypt(&dk.ciphertext, &ctx()).unwrap();
    app.disable_key(&id).unwrap();
    assert!(matches!(
        app.decrypt(&dk.ciphertext, &ctx()),
        Err(Error::KeyDisabled(_))
    ));
}

#[test]
fn the_hot_path_needs_no_metadata_round_trip_while_fresh() {
    let Some(url) = pg_database("hot") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    // Connected first: the rename below must follow the cache's load
    // closely, well within the bound.
    let mut c = psql(&url);
    let dk = ks.generate_data_key(&id, 32, &ctx()).unwrap();
    ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
    // With the metadata rows gone from under it (as if the database could
    // not be read for them), a fresh cache still serves the data plane...
    c.batch_execute("ALTER TABLE keys RENAME TO keys_away")
        .unwrap();
    ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
    // ...and a stale one reads the store again.
    std::thread::sleep(DEFAULT_METADATA_CACHE_TTL);
    assert!(ks.decrypt(&dk.ciphertext, &ctx()).is_err());
    c.batch_execute("ALTER TABLE keys_away RENAME TO keys")
        .unwrap();
    ks.decrypt(&dk.ciphertext, &ctx()).unwrap();
    let _ = Arc::new(());
}

#[test]
fn any_text_in_a_record_is_stored_exactly() {
    let Some(url) = pg_database("quoting") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("it's $$ me")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    let hostile = [
        "'); DROP TABLE audit_log; --",
        "$$ $sbx00$ $sbx$ \\' \\\\ \u{0}",
        "ünïcödé \u{202e} \n\r\t",
        "$sbx0123456789ab$",
    ];
    for v in hostile {
        let ec: EncryptionContext = [("k'\"$".to_string(), v.to_string())].into_iter().collect();
        let dk = ks.generate_data_key(k.key_id.as_str(), 32, &ec).unwrap();
        ks.decrypt(&dk.ciphertext, &ec).unwrap();
    }
    let r = ks.verify_audit_log().unwrap();
    assert!(r.ok() && r.records == 1 + 2 * hostile.len() as u64, "{r:?}");
    let lines = ks.audit_records(None, 100).unwrap();
    for (i, v) in hostile.iter().enumerate() {
        let (_, line) = &lines[1 + 2 * i];
        let ev: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(ev["encryption_context"]["k'\"$"], *v);
        assert_eq!(ev["principal"], "it's $$ me");
    }
}
