//! Crash safety of the key store.
//!
//! The test re-executes its own binary as a child process that opens a key
//! store and loops forever over CreateKey, RotateKey, GenerateDataKey and
//! Encrypt, printing one line per call *after* the call has returned. The
//! parent kills the child with SIGKILL at random points, many times, and
//! after every kill reopens the store and checks that everything the child
//! was told is still true: every reported key exists, versions are
//! contiguous, every reported blob decrypts to the reported plaintext under
//! its context, the audit log verifies and holds a record for every
//! reported operation, and SQLite's own integrity check passes.
//!
//! `SEALBOX_CRASH_SEED=<u64>` reproduces the parent's choices;
//! `SEALBOX_CRASH_ROUNDS=<n>` changes the number of kills.

#[path = "common/shared.rs"]
mod shared;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sealbox::keystore::{CreateKeyRequest, KeySpec, KeyState, KeyStore, KeyStoreOptions, RootKey};
use sealbox::{EncryptionContext, Error};

/// The environment variable that turns the test binary into the child; its
/// value is the store directory.
const CHILD_ENV: &str = "SEALBOX_CRASH_CHILD";
/// Marks the child's report lines (the test harness prints to stdout too).
const MARK: &str = "@@SBX";
const TEST_NAME: &str = "keystore_survives_sigkill";
/// The child gives up on its own after this long (a safety net should the
/// parent die without killing it).
const CHILD_MAX_LIFETIME: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------ PRNG --

/// SplitMix64: small, seedable, good enough to pick operations and timings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        shared::splitmix64(&mut self.0)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn fresh_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

// ----------------------------------------------------------------- paths --

struct Paths {
    dir: PathBuf,
    db: PathBuf,
    root: PathBuf,
    audit: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Paths {
        let mut audit = dir.join("keys.db").into_os_string();
        audit.push(".audit.jsonl");
        Paths {
            dir: dir.to_path_buf(),
            db: dir.join("keys.db"),
            root: dir.join("root.key"),
            audit: PathBuf::from(audit),
        }
    }
}

/// Removes the temporary directory however the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ----------------------------------------------------------------- child --

/// What the child reports, one line per returned call.
#[derive(Debug, Clone)]
enum Report {
    Create { key_id: String },
    Rotate { key_id: String, version: u32 },
    DataKey { version: u32, sealed: Sealed },
    Encrypt(Sealed),
}

/// A blob the child made under `key_id`, and what it decrypts to.
#[derive(Debug, Clone)]
struct Sealed {
    key_id: String,
    blob: Vec<u8>,
    plaintext: Vec<u8>,
    ec: EncryptionContext,
}

impl Sealed {
    /// `BLOB PLAINTEXT CONTEXT` of a report line.
    fn text(&self) -> String {
        let (blob, pt) = (hex::encode(&self.blob), hex::encode(&self.plaintext));
        format!("{blob} {pt} {}", ec_to_text(&self.ec))
    }

    /// An entry of [`Expected::blobs`].
    #[allow(clippy::type_complexity)]
    fn entry(self, data_key: bool) -> (String, Vec<u8>, Vec<u8>, EncryptionContext, bool) {
        (self.key_id, self.blob, self.plaintext, self.ec, data_key)
    }

    fn parse(id: &str, blob: &str, pt: &str, ec: &str) -> Sealed {
        Sealed {
            key_id: id.to_string(),
            blob: hex::decode(blob).unwrap(),
            plaintext: hex::decode(pt).unwrap(),
            ec: ec_from_text(ec),
        }
    }
}

fn ec_to_text(ec: &EncryptionContext) -> String {
    // Hex of the JSON, so that the line splits on spaces whatever the context holds.
    hex::encode(serde_json::to_vec(ec).unwrap())
}

fn ec_from_text(t: &str) -> EncryptionContext {
    serde_json::from_slice(&hex::decode(t).unwrap()).unwrap()
}

impl Report {
    fn to_line(&self) -> String {
        match self {
            Report::Create { key_id } => format!("{MARK} CREATE {key_id}\n"),
            Report::Rotate { key_id, version } => format!("{MARK} ROTATE {key_id} {version}\n"),
            Report::DataKey { version, sealed } => {
                let (key_id, rest) = (&sealed.key_id, sealed.text());
                format!("{MARK} DATAKEY {key_id} {version} {rest}\n")
            }
            Report::Encrypt(sealed) => {
                format!("{MARK} ENCRYPT {} {}\n", sealed.key_id, sealed.text())
            }
        }
    }

    /// Parses a complete report line; `None` for anything else (harness output).
    fn parse(line: &str) -> Option<Report> {
        let rest = line.strip_prefix(MARK)?.strip_prefix(' ')?;
        let f: Vec<&str> = rest.split(' ').collect();
        let r = match f.as_slice() {
            ["CREATE", id] => Report::Create {
                key_id: id.to_string(),
            },
            ["ROTATE", id, v] => Report::Rotate {
                key_id: id.to_string(),
                version: v.parse().unwrap(),
            },
            ["DATAKEY", id, v, blob, pt, ec] => Report::DataKey {
                version: v.parse().unwrap(),
                sealed: Sealed::parse(id, blob, pt, ec),
            },
            ["ENCRYPT", id, blob, pt, ec] => Report::Encrypt(Sealed::parse(id, blob, pt, ec)),
            _ => panic!("malformed report line from the child: {line:?}"),
        };
        Some(r)
    }

    fn key_id(&self) -> &str {
        match self {
            Report::Create { key_id } | Report::Rotate { key_id, .. } => key_id,
            Report::DataKey { sealed, .. } | Report::Encrypt(sealed) => &sealed.key_id,
        }
    }
}

/// The child: opens the store and works on it until it is killed.
fn child_main(dir: &Path) -> ! {
    let p = Paths::new(dir);
    let started = Instant::now();
    let mut rng = Rng(fresh_seed());
    let root = RootKey::from_file(&p.root).expect("child: root key file");
    // Alternate fsync'd and unsynced audit records: SIGKILL must not lose
    // either (both are in the kernel before the call returns).
    let options = KeyStoreOptions {
        audit_sync: rng.next().is_multiple_of(2),
        principal: "crash-child".into(),
        ..KeyStoreOptions::default()
    };
    let ks = KeyStore::open(&p.db, &root, options).expect("child: open");

    // Work on the keys of earlier rounds as well as new ones.
    let mut keys: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ks
            .list_keys(100, marker.as_deref())
            .expect("child: list_keys");
        keys.extend(page.keys.into_iter().map(|k| k.key_id.to_string()));
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }

    let stdout = std::io::stdout();
    let mut seq = 0u64;
    loop {
        if started.elapsed() > CHILD_MAX_LIFETIME {
            eprintln!("crash child: nobody killed me; exiting");
            std::process::exit(3);
        }
        seq += 1;
        let dice = rng.range(0, 99);
        let report = if keys.is_empty() || dice < 15 {
            let md = ks
                .create_key(&CreateKeyRequest {
                    key_spec: KeySpec::Aes256,
                    description: format!("crash test key {seq}"),
                    ..CreateKeyRequest::default()
                })
                .expect("child: create_key");
            keys.push(md.key_id.to_string());
            Report::Create {
                key_id: md.key_id.into(),
            }
        } else {
            let key_id = keys[rng.range(0, keys.len() as u64 - 1) as usize].clone();
            let mut ec = EncryptionContext::new();
            if !rng.next().is_multiple_of(5) {
                ec.insert("purpose".into(), "crash-test".into());
                ec.insert("seq".into(), seq.to_string());
                let (name, len) = (rng.range(0, 9), rng.range(0, 12) as usize);
                ec.insert(format!("n{name}"), hex::encode(rng.bytes(len)));
            }
            if dice < 35 {
                let version = ks.rotate_key(&key_id).expect("child: rotate_key");
                Report::Rotate { key_id, version }
            } else if dice < 70 {
                let len = if rng.next().is_multiple_of(2) {
                    32
                } else {
                    rng.range(1, 64) as usize
                };
                let dk = ks
                    .generate_data_key(&key_id, len, &ec)
                    .expect("child: generate_data_key");
                assert_eq!(dk.key_id, key_id);
                Report::DataKey {
                    version: dk.key_version,
                    sealed: Sealed {
                        key_id,
                        blob: dk.ciphertext.clone(),
                        plaintext: dk.plaintext.as_bytes().to_vec(),
                        ec,
                    },
                }
            } else {
                let len = rng.range(1, 300) as usize;
                let plaintext = rng.bytes(len);
                let blob = ks
                    .encrypt(&key_id, &plaintext, &ec)
                    .expect("child: encrypt");
                Report::Encrypt(Sealed {
                    key_id,
                    blob,
                    plaintext,
                    ec,
                })
            }
        };
        let mut out = stdout.lock();
        if out
            .write_all(report.to_line().as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            // The parent is gone.
            std::process::exit(4);
        }
    }
}

// ---------------------------------------------------------------- parent --

/// Kills the child if the parent test panics mid-round.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Everything the parent knows the child was told.
#[derive(Default)]
struct Expected {
    /// Key ID → highest version the child saw (1 at creation).
    keys: BTreeMap<String, u32>,
    /// Reports that must have an audit record.
    created: Vec<String>,
    rotated: Vec<(String, u32)>,
    /// (key ID, blob, plaintext, context, data key?).
    #[allow(clippy::type_complexity)]
    blobs: Vec<(String, Vec<u8>, Vec<u8>, EncryptionContext, bool)>,
}

impl Expected {
    fn add(&mut self, r: Report) {
        let min_version = |keys: &mut BTreeMap<String, u32>, id: &str, v: u32| {
            let e = keys.entry(id.to_owned()).or_insert(1);
            *e = (*e).max(v);
        };
        match r {
            Report::Create { key_id } => {
                min_version(&mut self.keys, &key_id, 1);
                self.created.push(key_id);
            }
            Report::Rotate { key_id, version } => {
                min_version(&mut self.keys, &key_id, version);
                self.rotated.push((key_id, version));
            }
            Report::DataKey { version, sealed } => {
                min_version(&mut self.keys, &sealed.key_id, version);
                self.blobs.push(sealed.entry(true));
            }
            Report::Encrypt(sealed) => {
                min_version(&mut self.keys, &sealed.key_id, 1);
                self.blobs.push(sealed.entry(false));
            }
        }
    }
}

#[derive(Default, Debug)]
struct Counts {
    rounds: usize,
    kills_by_time: usize,
    kills_by_lines: usize,
    killed_before_first_report: usize,
    reports: usize,
    torn_report_lines: usize,
    torn_audit_tails: usize,
    audit_records: u64,
}

/// How a round ends.
#[derive(Debug, Clone, Copy)]
enum KillPlan {
    AfterMillis(u64),
    AfterLines(usize),
}

/// Runs one child until the plan says to kill it; returns the complete
/// report lines it printed, and whether its last line was torn.
fn run_child(p: &Paths, plan: KillPlan) -> (Vec<Report>, bool) {
    let exe = std::env::current_exe().unwrap();
    let mut child = ChildGuard(Some(
        Command::new(exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &p.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child"),
    ));
    let c = child.0.as_mut().unwrap();
    let mut stdout = BufReader::new(c.stdout.take().unwrap());
    let mut stderr = c.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<Report>();
    let reader = std::thread::spawn(move || {
        let mut torn = false;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match stdout.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if buf.last() != Some(&b'\n') {
                // Killed mid-line: the child never finished reporting this one.
                torn = buf.starts_with(MARK.as_bytes());
                break;
            }
            let line = String::from_utf8_lossy(&buf[..buf.len() - 1]).into_owned();
            if let Some(r) = Report::parse(&line) {
                if tx.send(r).is_err() {
                    break;
                }
            }
        }
        torn
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let mut reports = Vec::new();
    match plan {
        KillPlan::AfterMillis(ms) => std::thread::sleep(Duration::from_millis(ms)),
        KillPlan::AfterLines(n) => {
            let deadline = Instant::now() + Duration::from_secs(20);
            while reports.len() < n {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(r) => reports.push(r),
                    Err(_) => break, // the child died or is stuck: judged below
                }
            }
        }
    }
    let c = child.0.as_mut().unwrap();
    let early_exit = c.try_wait().unwrap();
    c.kill().expect("SIGKILL the child"); // Child::kill is SIGKILL on unix
    let status = c.wait().unwrap();
    child.0 = None;
    let torn = reader.join().unwrap();
    let err = err_reader.join().unwrap();
    reports.extend(rx.try_iter());
    assert!(
        early_exit.is_none(),
        "the child exited by itself ({early_exit:?}) before the kill:\n{err}"
    );
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "the child did not die of SIGKILL ({status:?}):\n{err}"
    );
    (reports, torn)
}

/// Reopens the store after a kill and checks everything the child was told.
fn check_store(p: &Paths, root: &RootKey, exp: &Expected, counts: &mut Counts, round: usize) {
    // SQLite's own view first, before sealbox touches the file.
    {
        let conn = rusqlite::Connection::open(&p.db).unwrap();
        let ic: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            ic,
            vec!["ok".to_string()],
            "round {round}: PRAGMA integrity_check"
        );
        let fk: usize = conn
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |_| Ok(()))
            .unwrap()
            .count();
        assert_eq!(
            fk, 0,
            "round {round}: PRAGMA foreign_key_check found dangling rows"
        );
        // Every key has its primary version and no gaps (checked again via the API below).
        let orphans: i64 = conn
            .query_row(
                "SELECT count(*) FROM keys k WHERE NOT EXISTS (SELECT 1 FROM key_versions v WHERE v.key_id = k.key_id AND v.version = k.primary_version)",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        assert_eq!(
            orphans, 0,
            "round {round}: keys whose primary version has no row"
        );
    }

    let audit_before = {
        let t = std::fs::read(&p.audit).unwrap_or_default();
        t.iter().filter(|&&b| b == b'\n').count() as u64
    };
    let ks = KeyStore::open(
        &p.db,
        root,
        KeyStoreOptions {
            principal: "crash-parent".into(),
            ..KeyStoreOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("round {round}: reopening after SIGKILL failed: {e}"));

    // The audit log: the chain verifies, nothing that was there before the
    // round is lost, and each reported lifecycle change has its record.
    let report = ks.verify_audit_log().unwrap();
    assert!(
        report.ok(),
        "round {round}: audit log does not verify: {:?}",
        report.first_error
    );
    assert!(
        report.records >= counts.audit_records,
        "round {round}: audit log lost records: {} now, {} verified after the previous round",
        report.records,
        counts.audit_records
    );
    assert!(report.records >= audit_before, "round {round}: open cut more than a torn line ({audit_before} lines before, {} records after)", report.records);
    check_audit_records(p, exp, round);

    // Every key: it describes, versions are 1..=n, primary is n, and n is
    // at least what the child was told.
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ks.list_keys(1000, marker.as_deref()).unwrap();
        all.extend(page.keys);
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    let listed: HashSet<&str> = all.iter().map(|k| k.key_id.as_str()).collect();
    for md in &all {
        let n = md.versions.len() as u32;
        assert!(n >= 1, "round {round}: key {} has no versions", md.key_id);
        let got: Vec<u32> = md.versions.iter().map(|v| v.version).collect();
        assert_eq!(
            got,
            (1..=n).collect::<Vec<_>>(),
            "round {round}: versions of {} are not contiguous",
            md.key_id
        );
        assert_eq!(
            md.primary_version, n,
            "round {round}: primary of {} is not its newest version",
            md.key_id
        );
        assert_eq!(md.key_spec, KeySpec::Aes256);
        assert_eq!(md.key_state, KeyState::Enabled);
    }
    for (id, min_version) in &exp.keys {
        assert!(
            listed.contains(id.as_str()),
            "round {round}: reported key {id} is not listed"
        );
        let md = ks
            .describe_key(id)
            .unwrap_or_else(|e| panic!("round {round}: reported key {id} does not describe: {e}"));
        assert!(
            md.primary_version >= *min_version,
            "round {round}: key {id} has primary version {} but the child was given version {min_version}",
            md.primary_version
        );
    }

    // Every blob decrypts to exactly what the child was given.
    let mut decrypted = 0usize;
    for (key_id, blob, plaintext, ec, _) in &exp.blobs {
        let pt = ks
            .decrypt(blob, ec)
            .unwrap_or_else(|e| panic!("round {round}: a blob of key {key_id} that the child was given does not decrypt: {e}"));
        assert_eq!(
            pt.as_bytes(),
            plaintext.as_slice(),
            "round {round}: a blob of key {key_id} decrypts to other bytes"
        );
        decrypted += 1;
    }
    // And the context is bound: one blob with a changed context fails.
    if let Some((_, blob, _, ec, _)) = exp.blobs.last() {
        let mut other = ec.clone();
        other.insert("tampered".into(), "yes".into());
        assert_eq!(
            ks.decrypt(blob, &other).err(),
            Some(Error::DecryptionFailed)
        );
    }
    assert_eq!(decrypted, exp.blobs.len());

    // The parent's own operations went to the log too; the next round must keep them.
    let report = ks.verify_audit_log().unwrap();
    assert!(
        report.ok(),
        "round {round}: audit log does not verify after the checks: {:?}",
        report.first_error
    );
    counts.audit_records = report.records;
}

/// Appends an incomplete record to the audit log, as a crash in the middle
/// of writing one would leave it. Never the whole line without its newline:
/// see `torn_final_newline_does_not_break_the_chain`.
fn tear_audit_tail(p: &Paths, rng: &mut Rng) {
    let text = std::fs::read(&p.audit).unwrap_or_default();
    let last = text
        .strip_suffix(b"\n")
        .and_then(|t| t.split(|&b| b == b'\n').next_back())
        .filter(|l| l.len() > 2);
    let fragment = match last {
        Some(line) if rng.next().is_multiple_of(2) => {
            line[..rng.range(1, line.len() as u64 - 2) as usize].to_vec()
        }
        _ => vec![0u8; rng.range(1, 300) as usize],
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&p.audit)
        .unwrap();
    f.write_all(&fragment).unwrap();
}

/// Each reported CreateKey and RotateKey has its "allowed" record.
fn check_audit_records(p: &Paths, exp: &Expected, round: usize) {
    let text = std::fs::read_to_string(&p.audit).unwrap();
    let mut created = HashSet::new();
    let mut rotated = HashSet::new();
    let mut allowed: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("round {round}: audit line is not JSON ({e}): {line}"));
        if v["outcome"] != "allowed" {
            continue;
        }
        let op = v["operation"].as_str().unwrap_or_default().to_owned();
        let key = v["key_id"].as_str().map(str::to_owned);
        match (op.as_str(), key) {
            ("CreateKey", Some(k)) => {
                created.insert(k);
            }
            ("RotateKey", Some(k)) => {
                rotated.insert((k, v["key_version"].as_u64().unwrap_or(0) as u32));
            }
            _ => {}
        }
        *allowed.entry(op).or_default() += 1;
    }
    for k in &exp.created {
        assert!(
            created.contains(k),
            "round {round}: no allowed CreateKey record for reported key {k}"
        );
    }
    for (k, v) in &exp.rotated {
        assert!(
            rotated.contains(&(k.clone(), *v)),
            "round {round}: no allowed RotateKey record for {k} version {v}"
        );
    }
    let data_keys = exp.blobs.iter().filter(|b| b.4).count();
    assert!(
        allowed.get("GenerateDataKey").copied().unwrap_or(0) >= data_keys,
        "round {round}: fewer GenerateDataKey records than data keys reported"
    );
    let encrypts = exp.blobs.len() - data_keys;
    assert!(
        allowed.get("Encrypt").copied().unwrap_or(0) >= encrypts,
        "round {round}: fewer Encrypt records than encryptions reported"
    );
}

#[test]
fn keystore_survives_sigkill() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child_main(Path::new(&dir));
    }
    let started = Instant::now();
    let seed = std::env::var("SEALBOX_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(fresh_seed);
    let rounds: usize = std::env::var("SEALBOX_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    println!(
        "keystore crash test: seed {seed} (SEALBOX_CRASH_SEED={seed} to repeat), {rounds} rounds"
    );
    let mut rng = Rng(seed);

    let dir = std::env::temp_dir().join(format!("sealbox-crash-{}-{seed:x}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let p = Paths::new(&dir);
    RootKey::generate()
        .unwrap()
        .write_new_file(&p.root)
        .unwrap();
    let root = RootKey::from_file(&p.root).unwrap();

    let mut exp = Expected::default();
    let mut counts = Counts::default();
    for round in 1..=rounds {
        // Mostly kill after a number of reports (so that every round does
        // real work); sometimes at a random time, which also lands in
        // process start-up and KeyStore::open.
        let plan = if rng.next().is_multiple_of(3) {
            KillPlan::AfterMillis(rng.range(5, 80))
        } else {
            KillPlan::AfterLines(rng.range(1, 120) as usize)
        };
        let (reports, torn) = run_child(&p, plan);
        match plan {
            KillPlan::AfterMillis(_) => counts.kills_by_time += 1,
            KillPlan::AfterLines(_) => counts.kills_by_lines += 1,
        }
        if reports.is_empty() {
            counts.killed_before_first_report += 1;
        }
        counts.torn_report_lines += usize::from(torn);
        // SIGKILL cannot tear a write(2) to a file, but a power cut can:
        // sometimes leave a torn record (a strict prefix of a record, or
        // zeros from delayed allocation) at the end of the audit log.
        if rng.next().is_multiple_of(4) {
            tear_audit_tail(&p, &mut rng);
            counts.torn_audit_tails += 1;
        }
        counts.reports += reports.len();
        for r in reports {
            assert!(!r.key_id().is_empty());
            exp.add(r);
        }
        check_store(&p, &root, &exp, &mut counts, round);
        counts.rounds += 1;
    }

    // The store refuses another root key, and still opens with the right one.
    let wrong = RootKey::generate().unwrap();
    assert_eq!(
        KeyStore::open(&p.db, &wrong, KeyStoreOptions::default()).err(),
        Some(Error::WrongRootKey)
    );
    KeyStore::open(&p.db, &root, KeyStoreOptions::default()).unwrap();

    let data_keys = exp.blobs.iter().filter(|b| b.4).count();
    let rotations = exp.rotated.len();
    println!(
        "keystore crash test: {} kills ({} at a random time, {} after a random number of reports, {} before any report), \
         {} reports, {} torn report lines, {} simulated torn audit tails; checked {} keys ({} created and {} rotations reported), {} blobs ({} data keys, {} encrypts), \
         {} audit records; {:.1} s",
        counts.rounds,
        counts.kills_by_time,
        counts.kills_by_lines,
        counts.killed_before_first_report,
        counts.reports,
        counts.torn_report_lines,
        counts.torn_audit_tails,
        exp.keys.len(),
        exp.created.len(),
        rotations,
        exp.blobs.len(),
        data_keys,
        exp.blobs.len() - data_keys,
        counts.audit_records,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(counts.rounds, rounds);
    assert!(
        counts.rounds > 0 && !exp.keys.is_empty() && !exp.blobs.is_empty(),
        "nothing was checked: {counts:?}"
    );
    assert!(
        data_keys > 0 && rotations > 0,
        "the mix did not exercise data keys and rotations"
    );
    assert!(counts.audit_records > 0);
}

/// A crash that leaves a whole record but not its newline (the last byte of
/// the write lost to a power cut) must not break the chain for good: the
/// record is either kept (and the newline restored) or cut as torn.
#[test]
fn torn_final_newline_does_not_break_the_chain() {
    let dir = std::env::temp_dir().join(format!(
        "sealbox-torn-newline-{}-{:x}",
        std::process::id(),
        fresh_seed()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let p = Paths::new(&dir);
    let root = RootKey::generate().unwrap();
    {
        let ks = KeyStore::open(&p.db, &root, KeyStoreOptions::default()).unwrap();
        ks.create_key(&CreateKeyRequest::default()).unwrap();
        ks.create_key(&CreateKeyRequest::default()).unwrap();
    }
    let mut log = std::fs::read(&p.audit).unwrap();
    assert_eq!(log.pop(), Some(b'\n'));
    std::fs::write(&p.audit, &log).unwrap();

    let ks = KeyStore::open(&p.db, &root, KeyStoreOptions::default()).unwrap();
    ks.create_key(&CreateKeyRequest::default()).unwrap();
    let report = ks.verify_audit_log().unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.records >= 2, "{report:?}");
}
