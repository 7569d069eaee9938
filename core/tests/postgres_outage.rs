//! A PostgreSQL server that goes away mid-traffic (issue 15): operations
//! fail fast with `StoreUnavailable` and change nothing; when the server is
//! back the same handles work again without being reopened, and the audit
//! trail verifies. The server is this test's own (it is stopped and
//! started), made by scripts/pg-server.sh.
#![cfg(feature = "postgres")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{PrivateServer, ROOT};
use sealbox::keystore::{CreateKeyRequest, KeyState, KeyStore, KeyStoreOptions, RootKey};
use sealbox::{EncryptionContext, Error};

fn ctx() -> EncryptionContext {
    [("purpose".to_owned(), "outage".to_owned())]
        .into_iter()
        .collect()
}

#[test]
fn operations_fail_fast_while_the_server_is_down_and_recover_after() {
    let Some(server) = PrivateServer::start("outage") else {
        return;
    };
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let opts = KeyStoreOptions {
        principal: "app".into(),
        ..KeyStoreOptions::default()
    };
    let ks = KeyStore::open(&server.url, &root, opts.clone()).unwrap();
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let id = key.to_string();
    let blob = ks.generate_data_key(&id, 32, &ctx()).unwrap();

    // Traffic from two threads while the server stops and starts again.
    let stop = AtomicBool::new(false);
    let (ok, unavailable, slowest_failure_ms) =
        (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let returned: std::sync::Mutex<Vec<Vec<u8>>> = Default::default();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let t = Instant::now();
                    match ks.generate_data_key(&id, 32, &ctx()) {
                        Ok(dk) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            returned.lock().unwrap().push(dk.ciphertext);
                        }
                        Err(Error::StoreUnavailable(_)) => {
                            unavailable.fetch_add(1, Ordering::SeqCst);
                            slowest_failure_ms
                                .fetch_max(t.elapsed().as_millis() as u64, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(e) => panic!("unexpected error during the outage: {e}"),
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        server.run("stop");
        // While it is down: reads, data plane and changes all fail at once,
        // with the kind that says "try again later".
        for attempt in [
            ks.decrypt(&blob.ciphertext, &ctx()).map(|_| ()),
            ks.create_key(&CreateKeyRequest::default()).map(|_| ()),
            ks.disable_key(&id).map(|_| ()),
            ks.describe_key(&id).map(|_| ()),
        ] {
            assert!(
                matches!(attempt, Err(Error::StoreUnavailable(_))),
                "{attempt:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
        server.run("start");
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
    });
    let slowest = slowest_failure_ms.load(Ordering::SeqCst);
    println!(
        "outage: {} operations succeeded, {} failed fast with StoreUnavailable (slowest failure {slowest} ms)",
        ok.load(Ordering::SeqCst),
        unavailable.load(Ordering::SeqCst)
    );
    assert!(
        unavailable.load(Ordering::SeqCst) > 0,
        "the outage was seen"
    );
    assert!(slowest < 5_000, "a failure took {slowest} ms");

    // The same handle works again; nothing changed while the server was
    // down (the key is still enabled; no key was created).
    let md = ks.describe_key(&id).unwrap();
    assert_eq!(md.key_state, KeyState::Enabled);
    assert_eq!(ks.list_keys(100, None).unwrap().keys.len(), 1);
    ks.decrypt(&blob.ciphertext, &ctx()).unwrap();
    // Everything that was returned decrypts.
    for b in returned.lock().unwrap().iter() {
        ks.decrypt(b, &ctx()).unwrap();
    }
    let report = ks.verify_audit_log().unwrap();
    assert!(report.ok(), "{report:?}");
    // A new handle agrees.
    let again = KeyStore::open(&server.url, &root, opts).unwrap();
    assert!(again.verify_audit_log().unwrap().ok());
}
