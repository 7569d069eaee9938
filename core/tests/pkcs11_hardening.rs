//! Hardening of the PKCS#11 backend (issue 17), on SoftHSM2:
//!
//! - leftover objects (an orphan of a failed or killed rotation) are
//!   destroyed before a version's object is made, and a lookup that finds
//!   two objects of one `CKA_ID` is refused instead of picking one;
//! - fault injection: a backend and a metadata store that fail at each step
//!   of each mutating operation (create, import, rotate, schedule deletion,
//!   purge) in turn, and an audit sink that refuses the "allowed" record;
//!   afterwards every object on the token belongs to a version the store
//!   knows, every live version has exactly one object, and a retry succeeds.
//!
//! Objects are counted by an independent client, OpenSC's pkcs11-tool.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{pkcs11_config, pkcs11_module, pkcs11_token, TempDir, TestClock};
use sealbox::audit::{AuditEvent, AuditSink, Outcome};
use sealbox::keystore::*;
use sealbox::secret::SecretBytes;
use sealbox::{EncryptionContext, Error, Result};

/// The tests take turns on the token: objects are counted between steps.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn tool(args: &[&str]) -> String {
    let (token, pin) = pkcs11_token();
    let out = Command::new("pkcs11-tool")
        .arg("--module")
        .arg(pkcs11_module())
        .args(["--token-label", &token, "--login", "--pin", &pin])
        .args(args)
        .output()
        .expect("pkcs11-tool (Debian package opensc; `make deps` installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pkcs11-tool {args:?}: {text}");
    text
}

/// The token's objects as (label, hex CKA_ID) pairs.
fn objects() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for line in tool(&["--list-objects"]).lines() {
        if !line.starts_with(' ') && line.contains("Object") {
            all.push((String::new(), String::new()));
        } else if let (Some(last), Some((name, value))) = (all.last_mut(), line.split_once(':')) {
            match name.trim() {
                "label" => last.0 = value.trim().to_owned(),
                "ID" => last.1 = value.trim().to_lowercase(),
                _ => {}
            }
        }
    }
    all
}

/// The `CKA_ID` of a key version, in hex: key ID bytes ‖ version (big-endian).
fn object_id(key_id: &str, version: u32) -> String {
    format!("{}{version:08x}", key_id.replace('-', ""))
}

fn count_id(id: &str) -> usize {
    objects().iter().filter(|(_, i)| i == id).count()
}

/// An AES key object made by pkcs11-tool with `CKA_ID` = `id`.
fn make_object(id: &str, label: &str) {
    tool(&[
        "--keygen",
        "--key-type",
        "AES:32",
        "--id",
        id,
        "--label",
        label,
    ]);
}

fn options(dir: &TempDir, clock: Arc<TestClock>) -> KeyStoreOptions {
    KeyStoreOptions {
        clock,
        principal: "hardening".into(),
        audit_log: Some(dir.path("audit.jsonl")),
        ..KeyStoreOptions::default()
    }
}

fn open(dir: &TempDir) -> KeyStore {
    KeyStore::open_pkcs11(
        dir.path("keys.db"),
        pkcs11_config(2),
        options(dir, TestClock::new()),
    )
    .unwrap()
}

fn create(ks: &KeyStore) -> String {
    ks.create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_id
        .into()
}

/// The serialising guard, a fresh store on the test token and one AES key.
fn store_with_key(
    tag: &str,
) -> (
    std::sync::MutexGuard<'static, ()>,
    TempDir,
    KeyStore,
    String,
) {
    let guard = serial();
    let dir = TempDir::new(tag);
    let ks = open(&dir);
    let key = create(&ks);
    (guard, dir, ks, key)
}

fn round_trip(ks: &KeyStore, key: &str) {
    let ec = EncryptionContext::new();
    let blob = ks.encrypt(key, b"hardening", &ec).unwrap();
    assert_eq!(ks.decrypt(&blob, &ec).unwrap().as_bytes(), b"hardening");
}

// ------------------------------------------------- defect 1: leftovers --

#[test]
fn a_leftover_object_of_the_next_version_is_destroyed_before_rotating() {
    let (_s, dir, ks, key) = store_with_key("p11-leftover");
    let ec = EncryptionContext::new();
    let old = ks.encrypt(&key, b"v1", &ec).unwrap();
    // What a rotation killed between C_GenerateKey and the metadata insert
    // leaves behind: an object with the CKA_ID version 2 will use.
    let v2 = object_id(&key, 2);
    make_object(&v2, "sealbox:leftover");
    assert_eq!(count_id(&v2), 1);
    assert_eq!(ks.rotate_key(&key).unwrap(), 2);
    assert_eq!(
        count_id(&v2),
        1,
        "the leftover was kept beside the new object"
    );
    let leftover = objects().into_iter().any(|(l, _)| l == "sealbox:leftover");
    assert!(!leftover, "the leftover object is still on the token");
    let new = ks.encrypt(&key, b"v2", &ec).unwrap();
    drop(ks);
    // A fresh process (no cached handles) reads both versions.
    let ks = open(&dir);
    assert_eq!(ks.decrypt(&old, &ec).unwrap().as_bytes(), b"v1");
    assert_eq!(ks.decrypt(&new, &ec).unwrap().as_bytes(), b"v2");
}

#[test]
fn a_lookup_that_finds_two_objects_of_one_id_is_refused() {
    let (_s, dir, ks, key) = store_with_key("p11-duplicate");
    drop(ks);
    let v1 = object_id(&key, 1);
    make_object(&v1, "sealbox:duplicate");
    assert_eq!(count_id(&v1), 2);
    // A fresh key store has no cached handle: it must look the object up.
    let ks = open(&dir);
    let err = ks
        .encrypt(&key, b"x", &EncryptionContext::new())
        .expect_err("encrypted with one of two objects of the same CKA_ID");
    assert!(
        err.to_string().contains("objects share CKA_ID"),
        "unclear error: {err}"
    );
    // Cleaning up: the key's objects go with its deletion.
    tool(&[
        "--delete-object",
        "--type",
        "secrkey",
        "--label",
        "sealbox:duplicate",
    ]);
    round_trip(&ks, &key);
}

// ------------------------------------------------- fault injection --

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Generate,
    Import,
    Destroy,
}

/// Where to fail: a backend step (before or after the real call, on the
/// `skip`+1-th such call), a metadata-store method, or the audit record.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Backend { step: Step, after: bool, skip: u32 },
    Store(&'static str),
    Audit,
}

fn injected(what: &str) -> Error {
    Error::Storage(format!("injected failure: {what}"))
}

#[derive(Debug)]
struct FaultyBackend {
    inner: Arc<dyn Backend>,
    fault: Mutex<Option<Fault>>,
}

impl FaultyBackend {
    /// Runs `call` unless this is the step to fail.
    fn step<T>(&self, step: Step, call: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut f = self.fault.lock().unwrap();
        if let Some(Fault::Backend {
            step: s,
            after,
            skip,
        }) = *f
        {
            if s == step {
                if skip > 0 {
                    *f = Some(Fault::Backend {
                        step: s,
                        after,
                        skip: skip - 1,
                    });
                } else {
                    *f = None;
                    drop(f);
                    if after {
                        call()?;
                    }
                    return Err(injected(&format!("{step:?}")));
                }
            }
        }
        drop(f);
        call()
    }
}

/// Methods passed to the wrapped backend as they are.
macro_rules! delegate {
    ($($name:ident($($a:ident: $t:ty),*) -> $r:ty;)*) => {
        $(fn $name(&self, $($a: $t),*) -> $r { self.inner.$name($($a),*) })*
    };
}

impl Backend for FaultyBackend {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>> {
        self.step(Step::Generate, || self.inner.generate(key))
    }
    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        self.step(Step::Import, || self.inner.import(key, material))
    }
    fn destroy(&self, v: VersionRef<'_>) -> Result<()> {
        self.step(Step::Destroy, || self.inner.destroy(v))
    }
    delegate! {
        check_value() -> Result<Vec<u8>>;
        discard(key: KeyRef<'_>) -> Result<()>;
        seal(v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<Vec<u8>>;
        open(v: VersionRef<'_>, gcm: Gcm<'_>) -> Result<SecretBytes>;
        sign_digest(v: VersionRef<'_>, alg: SigningAlgorithm, d: &[u8]) -> Result<Vec<u8>>;
        sign_message(v: VersionRef<'_>, alg: SigningAlgorithm, m: &[u8]) -> Result<Vec<u8>>;
        derive_shared_secret(v: VersionRef<'_>, peer_spki: &[u8]) -> Result<SecretBytes>;
        public_key_der(v: VersionRef<'_>) -> Result<Vec<u8>>;
        rsa_decrypt(v: VersionRef<'_>, alg: EncryptionAlgorithm, ct: &[u8]) -> Result<SecretBytes>;
        mac(v: VersionRef<'_>, alg: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>>;
        random(len: usize) -> Result<Vec<u8>>;
        audit_mac(data: &[u8]) -> Result<Vec<u8>>;
        prf_blocks(v: VersionRef<'_>, blocks: &[u8; 32]) -> Result<SecretBytes>;
    }
}

/// The SQLite store, failing the method named in `fault` once.
#[derive(Debug)]
struct FaultyStore {
    inner: Arc<SqliteStore>,
    fault: Arc<Mutex<Option<&'static str>>>,
}

impl FaultyStore {
    fn check(&self, method: &'static str) -> Result<()> {
        let mut f = self.fault.lock().unwrap();
        if *f == Some(method) {
            *f = None;
            return Err(injected(method));
        }
        Ok(())
    }
}

macro_rules! faulty {
    ($($name:ident($($a:ident: $t:ty),*) -> $r:ty;)*) => {
        impl MetadataStore for FaultyStore {
            $(fn $name(&self, $($a: $t),*) -> $r {
                self.check(stringify!($name))?;
                self.inner.$name($($a),*)
            })*
        }
    };
}

faulty! {
    meta(name: &str) -> Result<Option<Vec<u8>>>;
    set_meta(name: &str, value: &[u8]) -> Result<()>;
    create_key(key: &KeyRecord, version: &VersionRecord, alias: Option<(&str, &[u8])>, tags: &BTreeMap<String, String>, policy: Option<(&str, &[u8])>) -> Result<()>;
    key(key_id: &str) -> Result<Option<KeyRecord>>;
    alias_target(alias: &str) -> Result<Option<String>>;
    aliases_of(key_id: &str) -> Result<Vec<String>>;
    all_aliases() -> Result<Vec<(String, String)>>;
    tags_of(key_id: &str) -> Result<BTreeMap<String, String>>;
    list_keys(after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    versions(key_id: &str) -> Result<Vec<VersionRecord>>;
    version(key_id: &str, version: u32) -> Result<Option<VersionRecord>>;
    add_version(key_id: &str, version: &VersionRecord, next_rotation_at: Option<i64>, key_mac: &[u8]) -> Result<()>;
    set_version_material(key_id: &str, version: u32, handle: &[u8], valid_to: Option<i64>, fingerprint: &[u8], mac: &[u8]) -> Result<()>;
    expired_material(now: i64) -> Result<Vec<(String, u32)>>;
    set_state(key_id: &str, state: KeyState, key_mac: &[u8]) -> Result<()>;
    set_rotation(key_id: &str, period_days: Option<u32>, next_rotation_at: Option<i64>, key_mac: &[u8]) -> Result<()>;
    set_description(key_id: &str, description: &str, key_mac: &[u8]) -> Result<()>;
    put_alias(alias: &str, key_id: &str, replace: bool, mac: &[u8]) -> Result<()>;
    alias_row(alias: &str) -> Result<Option<(String, Vec<u8>)>>;
    set_row_mac(row: MacRow<'_>, mac: &[u8]) -> Result<()>;
    delete_alias(alias: &str) -> Result<bool>;
    set_tags(key_id: &str, tags: &BTreeMap<String, String>) -> Result<()>;
    remove_tags(key_id: &str, tag_keys: &[String]) -> Result<()>;
    delete_key(key_id: &str) -> Result<()>;
    due_deletions(now: i64) -> Result<Vec<String>>;
    due_rotations(now: i64) -> Result<Vec<String>>;
    key_policy(key_id: &str) -> Result<Option<(String, Vec<u8>)>>;
    set_key_policy(key_id: &str, policy: &str, mac: &[u8]) -> Result<()>;
    grants_of(key_id: &str) -> Result<Vec<(String, Vec<u8>)>>;
    add_grant(grant_id: &str, key_id: &str, grant_json: &str, mac: &[u8]) -> Result<()>;
    delete_grant(key_id: &str, grant_id: &str) -> Result<bool>;
}

/// Refuses the next "allowed" record when armed.
#[derive(Debug, Default)]
struct FaultySink {
    armed: AtomicBool,
}

impl AuditSink for FaultySink {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        if event.outcome == Outcome::Allowed && self.armed.swap(false, Ordering::SeqCst) {
            return Err(Error::Audit("injected failure: audit record".into()));
        }
        Ok(())
    }
}

struct Harness {
    _dir: TempDir,
    clock: Arc<TestClock>,
    ks: KeyStore,
    backend: Arc<FaultyBackend>,
    store: Arc<SqliteStore>,
    store_fault: Arc<Mutex<Option<&'static str>>>,
    sink: Arc<FaultySink>,
    /// Object labels on the token before this harness (other tests').
    before: BTreeSet<(String, String)>,
    /// The soft backend (no token objects to count) instead of SoftHSM2.
    soft: bool,
}

impl Harness {
    fn new(tag: &str, soft: bool) -> Self {
        let dir = TempDir::new(&format!("{}-{tag}", if soft { "soft" } else { "p11" }));
        let clock = TestClock::new();
        let store = Arc::new(SqliteStore::open(dir.path("keys.db")).unwrap());
        let store_fault = Arc::new(Mutex::new(None));
        let faulty_store = FaultyStore {
            inner: store.clone(),
            fault: store_fault.clone(),
        };
        let inner: Arc<dyn Backend> = if soft {
            Arc::new(SoftBackend::new(&RootKey::from_bytes(&[9u8; 32]).unwrap()).unwrap())
        } else {
            Arc::new(Pkcs11Backend::open(pkcs11_config(2)).unwrap())
        };
        let backend = Arc::new(FaultyBackend {
            inner,
            fault: Mutex::new(None),
        });
        let ks = KeyStore::open_with(
            Box::new(faulty_store),
            backend.clone(),
            options(&dir, clock.clone()),
        )
        .unwrap();
        let sink = Arc::new(FaultySink::default());
        ks.add_audit_sink(sink.clone());
        let before = if soft {
            BTreeSet::new()
        } else {
            objects().into_iter().collect()
        };
        Harness {
            _dir: dir,
            clock,
            ks,
            backend,
            store,
            store_fault,
            sink,
            before,
            soft,
        }
    }

    /// The token's objects (none for the soft backend, whose material
    /// lives in the metadata store's rows).
    fn token_objects(&self) -> Vec<(String, String)> {
        if self.soft {
            Vec::new()
        } else {
            objects()
        }
    }

    fn arm(&self, fault: Fault) {
        match fault {
            Fault::Backend { .. } => *self.backend.fault.lock().unwrap() = Some(fault),
            Fault::Store(m) => *self.store_fault.lock().unwrap() = Some(m),
            Fault::Audit => self.sink.armed.store(true, Ordering::SeqCst),
        }
    }

    fn disarm(&self) {
        *self.backend.fault.lock().unwrap() = None;
        *self.store_fault.lock().unwrap() = None;
        self.sink.armed.store(false, Ordering::SeqCst);
    }

    /// Every object this harness's store made belongs to a version the
    /// store knows, and every version of a live key has exactly one object.
    fn assert_consistent(&self, when: &str) {
        let mut known = BTreeMap::new();
        for key in self.store.list_keys(None, 1000).unwrap() {
            let rec = self.store.key(&key).unwrap().unwrap();
            let pending = matches!(rec.state, KeyState::PendingDeletion { .. });
            let versions = self.store.versions(&key).unwrap();
            // Versions 1..=primary, no gap and nothing past the primary.
            let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
            assert_eq!(
                numbers,
                (1..=rec.primary_version).collect::<Vec<_>>(),
                "{when}: versions of {key}"
            );
            for v in versions {
                known.insert(object_id(&key, v.version), pending);
            }
        }
        let report = self.ks.verify_audit_log().unwrap();
        assert!(report.ok(), "{when}: {report:?}");
        let mut found: BTreeMap<String, usize> = BTreeMap::new();
        for o in self.token_objects() {
            if self.before.contains(&o)
                || ["sealbox:audit-chain-key", "sealbox:gcm-check-key"].contains(&o.0.as_str())
            {
                continue;
            }
            assert!(
                known.contains_key(&o.1),
                "{when}: orphan object {} (CKA_ID {}) on the token",
                o.0,
                o.1
            );
            *found.entry(o.1).or_default() += 1;
        }
        for (id, pending) in known {
            if self.soft {
                break;
            }
            let n = found.get(&id).copied().unwrap_or(0);
            assert!(
                n == 1 || (pending && n == 0),
                "{when}: {n} objects for CKA_ID {id}"
            );
        }
    }

    /// Runs `op` with `fault` armed (it must fail), checks the store, then
    /// runs it again unarmed (it must succeed) and checks again.
    fn fail_then_retry<T: std::fmt::Debug>(
        &self,
        what: &str,
        fault: Fault,
        op: impl Fn(&KeyStore) -> Result<T>,
    ) -> T {
        let when = format!("{what} with {fault:?}");
        self.arm(fault);
        let r = op(&self.ks);
        self.disarm();
        let e = r.expect_err(&format!("{when}: did not fail"));
        assert!(e.to_string().contains("injected failure"), "{when}: {e}");
        self.assert_consistent(&format!("{when}, after the failure"));
        let v = op(&self.ks).unwrap_or_else(|e| panic!("{when}: the retry failed: {e}"));
        self.assert_consistent(&format!("{when}, after the retry"));
        v
    }
}

fn backend_fault(step: Step, after: bool) -> Fault {
    Fault::Backend {
        step,
        after,
        skip: 0,
    }
}

/// Runs a fault-injection scenario on SoftHSM2 and on the soft backend.
fn on_both_backends(scenario: fn(bool)) {
    let _s = serial();
    for soft in [false, true] {
        scenario(soft);
    }
}

#[test]
fn create_and_import_fail_cleanly_at_every_step() {
    on_both_backends(create_and_import_fail_cleanly_at_every_step_on);
}

fn create_and_import_fail_cleanly_at_every_step_on(soft: bool) {
    let h = Harness::new("faults-create", soft);
    let material = [7u8; 32];
    type Make<'a> = &'a dyn Fn(&KeyStore) -> sealbox::Result<sealbox::keystore::KeyMetadata>;
    let create: Make<'_> = &|ks| ks.create_key(&CreateKeyRequest::default());
    let import: Make<'_> = &|ks| ks.import_key(&CreateKeyRequest::default(), &material);
    for (op, step, make) in [
        ("CreateKey", Step::Generate, create),
        ("ImportKey", Step::Import, import),
    ] {
        for fault in [
            Fault::Audit,
            Fault::Store("create_key"),
            backend_fault(step, false),
            backend_fault(step, true),
        ] {
            let k = h.fail_then_retry(op, fault, make);
            round_trip(&h.ks, k.key_id.as_ref());
        }
    }
}

#[test]
fn rotation_fails_cleanly_at_every_step() {
    on_both_backends(rotation_fails_cleanly_at_every_step_on);
}

fn rotation_fails_cleanly_at_every_step_on(soft: bool) {
    let h = Harness::new("faults-rotate", soft);
    let key = create(&h.ks);
    let ec = EncryptionContext::new();
    let first = h.ks.encrypt(&key, b"v1", &ec).unwrap();
    let mut expected = 1;
    for fault in [
        Fault::Audit,
        Fault::Store("add_version"),
        backend_fault(Step::Generate, false),
        backend_fault(Step::Generate, true),
    ] {
        expected += 1;
        let v = h.fail_then_retry("RotateKey", fault, |ks| ks.rotate_key(&key));
        assert_eq!(v, expected, "{fault:?}");
        round_trip(&h.ks, &key);
    }
    assert_eq!(h.ks.decrypt(&first, &ec).unwrap().as_bytes(), b"v1");
}

#[test]
fn deletion_fails_cleanly_at_every_step() {
    on_both_backends(deletion_fails_cleanly_at_every_step_on);
}

fn deletion_fails_cleanly_at_every_step_on(soft: bool) {
    let h = Harness::new("faults-delete", soft);
    let faults = [
        backend_fault(Step::Destroy, false),
        backend_fault(Step::Destroy, true),
        // The second version's destruction, after the first's.
        Fault::Backend {
            step: Step::Destroy,
            after: false,
            skip: 1,
        },
        Fault::Store("delete_key"),
        Fault::Audit,
    ];
    for fault in faults {
        let key = create(&h.ks);
        h.ks.rotate_key(&key).unwrap();
        let scheduled = h.fail_then_retry("ScheduleKeyDeletion", Fault::Store("set_state"), |ks| {
            ks.schedule_key_deletion(&key, 7)
        });
        assert!(matches!(
            scheduled.key_state,
            KeyState::PendingDeletion { .. }
        ));
        h.ks.cancel_key_deletion(&key).unwrap();
        h.fail_then_retry("ScheduleKeyDeletion", Fault::Audit, |ks| {
            ks.schedule_key_deletion(&key, 7)
        });
        h.clock.advance_days(8);
        let done = h.fail_then_retry("purge (DeleteKey)", fault, |ks| ks.purge_expired_keys());
        assert_eq!(done, vec![key.clone()], "{fault:?}");
        assert!(h.store.key(&key).unwrap().is_none());
        for v in 1..=2 {
            assert_eq!(
                h.token_objects()
                    .iter()
                    .filter(|(_, i)| *i == object_id(&key, v))
                    .count(),
                0,
                "{fault:?}"
            );
        }
    }
}
