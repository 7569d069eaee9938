//! Shared helpers of the key-store tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use sealbox::keystore::{Clock, KeyStore, KeyStoreOptions, RootKey};

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(pub AtomicI64);

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(TestClock(AtomicI64::new(1_795_000_000_000)))
    }
    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * 86_400_000, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "sealbox-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const ROOT: [u8; 32] = [0x5a; 32];

pub fn open(dir: &TempDir, clock: Arc<TestClock>) -> KeyStore {
    let opts = KeyStoreOptions {
        clock,
        principal: "tests".into(),
        ..KeyStoreOptions::default()
    };
    KeyStore::open(
        dir.path("keys.db"),
        &RootKey::from_bytes(&ROOT).unwrap(),
        opts,
    )
    .unwrap()
}
