//! The order in which a PostgreSQL store's audit trail is read (`audit
//! tail --follow`, `audit export --after`): writers commit side by side, and
//! a record committed late must not be missed by a reader paging on. Its own
//! test binary: it holds a transaction open, which holds back what every
//! reader of the server may see as settled for a moment.
#![cfg(feature = "postgres")]

mod common;

use common::{ctx, delete_audit_rows, opts, pg_database, psql, root};
use sealbox::keystore::{CreateKeyRequest, KeyStore};

/// Writers commit side by side, so a row can become visible after rows
/// stored after it. Paging on with the last position (`audit tail
/// --follow`, `audit export --after`) still misses nothing: records come in
/// the order of the transactions that wrote them, once settled.
#[test]
fn paging_misses_no_record_committed_late() {
    let Some(url) = pg_database("late") else {
        return;
    };
    let ks = KeyStore::open(&url, &root(), opts("app")).unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap();
    let id = k.key_id.to_string();
    ks.generate_data_key(&id, 32, &ctx()).unwrap();
    let seen = ks.audit_records(None, 100).unwrap();
    assert_eq!(seen.len(), 2);
    // A writer whose insert is slow to commit: it takes its position first.
    let mut slow = psql(&url);
    let mut tx = slow.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO audit_log (segment, writer, seq, line) VALUES (0, 1000, 0, 'late')",
    )
    .unwrap();
    // Records stored after it, committed before it.
    for _ in 0..3 {
        ks.generate_data_key(&id, 32, &ctx()).unwrap();
    }
    let t = std::time::Instant::now();
    let before = ks.audit_records(Some(seen[1].0), 100).unwrap();
    // Nothing after the unsettled row yet (it was waited for a moment).
    assert!(before.is_empty(), "{before:?}");
    assert!(t.elapsed() >= std::time::Duration::from_millis(400));
    tx.commit().unwrap();
    let after = ks.audit_records(Some(seen[1].0), 100).unwrap();
    assert_eq!(after.len(), 4, "{after:?}");
    assert_eq!(after[0].1, "late");
    assert!(after[1..].iter().all(|(p, _)| *p > after[0].0));
    // The last records, as `audit tail -n` shows them, in the same order.
    assert_eq!(ks.audit_last_records(4).unwrap(), after);
    assert_eq!(ks.audit_last_records(100).unwrap().len(), 6);
    // A position whose row is gone (a server crash lost it): paging goes
    // on after it.
    assert_eq!(ks.audit_records(Some(1_000_000), 10).unwrap(), []);
    let mut c = psql(&url);
    delete_audit_rows(&mut c, &format!("pos = {}", after[1].0));
    assert_eq!(ks.audit_records(Some(after[1].0), 100).unwrap(), after[2..]);
}
