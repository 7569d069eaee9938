//! Shared helpers of the key-store tests.
#![allow(dead_code)]

pub mod shared;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use sealbox::keystore::{
    Clock, KeyStore, KeyStoreOptions, MessageType, Pin, Pkcs11Config, RootKey, SigningAlgorithm,
    TokenSelector, DEFAULT_MAX_SESSIONS,
};

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
        TempDir(shared::fresh_dir(tag))
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

/// Which backend the key-store suite runs against: `SEALBOX_TEST_BACKEND`
/// = `soft` (default) or `pkcs11`.
pub fn backend() -> String {
    std::env::var("SEALBOX_TEST_BACKEND").unwrap_or_else(|_| "soft".into())
}

pub fn is_pkcs11() -> bool {
    backend() == "pkcs11"
}

/// The PKCS#11 module under test (`SEALBOX_PKCS11_MODULE`, default SoftHSM2).
pub fn pkcs11_module() -> PathBuf {
    shared::module()
}

pub const TOKEN_LABEL: &str = "sealbox-tests";
pub const USER_PIN: &str = "3141592653";
pub const SO_PIN: &str = "2718281828";

/// Creates, once per process, a SoftHSM2 token in a private directory with
/// its own SOFTHSM2_CONF (set before the module is first initialised),
/// unless SEALBOX_PKCS11_TOKEN and SEALBOX_PKCS11_PIN name the token of
/// another module (SEALBOX_PKCS11_MODULE) to run against.
pub fn pkcs11_token() -> (String, String) {
    static INIT: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    INIT.get_or_init(|| {
        if let Some(t) = shared::external_token() {
            return t;
        }
        let dir = softhsm_dir();
        init_token(TOKEN_LABEL);
        hold_token_login(&dir);
        (TOKEN_LABEL.to_string(), USER_PIN.to_string())
    })
    .clone()
}

/// Keeps a key store on the test token open (and so the token logged in)
/// for the rest of the process, as a long-running application does.
///
/// Without it, the suite's tests (which open and drop key stores on the one
/// token in parallel) saw SoftHSM2 fail a C_GenerateKey with
/// CKR_GENERAL_ERROR, or once CKR_TEMPLATE_INCONSISTENT, in about one run
/// in five; never with this, never with one test at a time. Serialising
/// sealbox's own session opening/login and closing did not help, so the
/// cause lies in SoftHSM2's handling of logins coming and going under
/// concurrent use (see the notes of issue 9, session 3).
fn hold_token_login(dir: &std::path::Path) {
    static HOLDER: std::sync::OnceLock<KeyStore> = std::sync::OnceLock::new();
    HOLDER.get_or_init(|| {
        let config = token_config(TOKEN_LABEL, USER_PIN, 1);
        KeyStore::open_pkcs11(dir.join("holder.db"), config, KeyStoreOptions::default())
            .expect("open the token that was just initialised")
    });
}

/// The private SoftHSM2 directory of this process (SOFTHSM2_CONF set).
pub fn softhsm_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sealbox-softhsm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let conf = shared::write_conf(&dir).unwrap();
        std::env::set_var("SOFTHSM2_CONF", &conf);
        dir
    })
    .clone()
}

/// `softhsm2-util --init-token --free` with the test PINs.
pub fn init_token(label: &str) {
    softhsm_dir();
    shared::must_init_token(None, label, SO_PIN, USER_PIN);
}

pub fn pkcs11_config(max_sessions: usize) -> Pkcs11Config {
    let (token, pin) = pkcs11_token();
    token_config(&token, &pin, max_sessions)
}

fn token_config(token: &str, pin: &str, max_sessions: usize) -> Pkcs11Config {
    Pkcs11Config {
        module: pkcs11_module(),
        token: TokenSelector::Label(token.to_owned()),
        pin: Pin::from_bytes(pin.as_bytes()).unwrap(),
        max_sessions: Pkcs11Config::sessions(max_sessions).unwrap(),
    }
}

/// The URL of the test PostgreSQL server (`make pg-start` writes it to
/// target/pg/env; `SEALBOX_TEST_PG_URL`). `None` when no server was
/// started, which is a failure on CI (`CI` set), where the tests must run.
pub fn pg_server() -> Option<String> {
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

/// A fresh, empty database on the test server, by URL (`None`: no server;
/// see [`pg_server`]).
pub fn pg_database(tag: &str) -> Option<String> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let url = pg_server()?;
    let name = format!(
        "sbt_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        tag.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(30)
            .collect::<String>()
    );
    let mut admin =
        postgres::Client::connect(&url, postgres::NoTls).expect("connect to the test server");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    Some(with_database(&url, &name))
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// The soft backend's root key of the tests.
pub fn root() -> RootKey {
    RootKey::from_bytes(&ROOT).unwrap()
}

/// Options that only name the principal.
pub fn opts(principal: &str) -> KeyStoreOptions {
    KeyStoreOptions {
        principal: principal.into(),
        ..KeyStoreOptions::default()
    }
}

/// The encryption context of the PostgreSQL tests' operations.
pub fn ctx() -> sealbox::message::EncryptionContext {
    sealbox::message::EncryptionContext::from([("purpose".to_string(), "tests".to_string())])
}

/// A connection to `url` as the database's owner (for the tests that
/// tamper with the tables).
pub fn psql(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

/// Deletes the audit rows that match `condition` the way an attacker who
/// owns the tables would: the table's triggers switched off for the while.
pub fn delete_audit_rows(c: &mut postgres::Client, condition: &str) {
    c.batch_execute(&format!(
        "ALTER TABLE audit_log DISABLE TRIGGER USER;
         DELETE FROM audit_log WHERE {condition};
         ALTER TABLE audit_log ENABLE TRIGGER USER;"
    ))
    .unwrap();
}

/// Which metadata store the key-store suite runs on: `SEALBOX_TEST_STORE`
/// = `sqlite` (default) or `postgres`.
pub fn is_postgres() -> bool {
    std::env::var("SEALBOX_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// Where the suite's key store lives: the SQLite file `dir/keys.db`, or a
/// fresh PostgreSQL database (`SEALBOX_TEST_STORE=postgres`).
pub fn location(dir: &TempDir) -> PathBuf {
    if is_postgres() {
        // One database per directory, so that a test that reopens its
        // store finds it again.
        let remembered = dir.path("postgres-url");
        if let Ok(u) = std::fs::read_to_string(&remembered) {
            return PathBuf::from(u);
        }
        let u =
            pg_database("suite").expect("SEALBOX_TEST_STORE=postgres needs SEALBOX_TEST_PG_URL");
        std::fs::write(&remembered, &u).unwrap();
        PathBuf::from(u)
    } else {
        dir.path("keys.db")
    }
}

pub fn open(dir: &TempDir, clock: Arc<TestClock>) -> KeyStore {
    let opts = KeyStoreOptions {
        clock,
        principal: "tests".into(),
        ..KeyStoreOptions::default()
    };
    if is_pkcs11() {
        KeyStore::open_pkcs11(
            location(dir),
            pkcs11_config(DEFAULT_MAX_SESSIONS.get()),
            opts,
        )
        .unwrap()
    } else {
        KeyStore::open(location(dir), &RootKey::from_bytes(&ROOT).unwrap(), opts).unwrap()
    }
}

/// Signs `msg` (raw) with `key` by ECDSA P-256 SHA-256 and asserts that the
/// signature verifies.
pub fn assert_ecdsa_round_trip(ks: &KeyStore, key: &str, msg: &[u8]) {
    let alg = SigningAlgorithm::EcdsaSha256;
    let sig = ks.sign(key, msg, alg, MessageType::Raw).unwrap();
    assert!(ks.verify(key, msg, &sig, alg, MessageType::Raw).unwrap());
}

/// A PostgreSQL server of one test's own (scripts/pg-server.sh in a fresh
/// directory), for the tests that stop and restart it; stopped and removed
/// on drop. `None` where the tests have no server (see [`pg_server`]).
pub struct PrivateServer {
    pub dir: PathBuf,
    pub url: String,
    pub ca: String,
}

impl PrivateServer {
    pub fn start(tag: &str) -> Option<Self> {
        pg_server()?;
        let dir = shared::fresh_dir(tag);
        // The script makes the cluster in an empty directory of its own.
        let _ = std::fs::remove_dir(&dir);
        let mut s = PrivateServer {
            dir: dir.clone(),
            url: String::new(),
            ca: String::new(),
        };
        s.run("start");
        let env = std::fs::read_to_string(dir.join("env")).expect("the server's env file");
        let get = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
                .expect(name)
        };
        s.url = get("SEALBOX_TEST_PG_URL");
        s.ca = get("SEALBOX_TEST_PG_CA");
        Some(s)
    }

    /// `scripts/pg-server.sh <cmd> <dir>`, which must succeed.
    pub fn run(&self, cmd: &str) {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-server.sh");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .arg(cmd)
            .arg(&self.dir)
            .output()
            .expect("run scripts/pg-server.sh");
        assert!(
            out.status.success(),
            "pg-server.sh {cmd}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            self.run("stop");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
