//! Several processes on one key store, SQLite or PostgreSQL (issue 15):
//! four worker
//! processes of four threads each encrypt and decrypt while an operator
//! rotates, creates, disables, enables and schedules and cancels deletion;
//! workers are killed with SIGKILL and restarted; time moves on so that
//! automatic rotations fall due in every process at once; on PostgreSQL the
//! server is restarted once mid-traffic. Afterwards the one audit chain
//! verifies, every blob a worker was given decrypts, every due rotation
//! happened exactly once, and a disable was honoured by every process
//! within the propagation bound (SQLite: at once; PostgreSQL: the metadata
//! cache's bound), measured and printed.
//!
//! The worker is this test binary again (`worker_process`, run only with
//! SEALBOX_CUSTODY_DIR set).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealbox::audit::AuditAnchor;
use sealbox::keystore::{
    Clock, CreateKeyRequest, KeyId, KeyStore, KeyStoreOptions, MetadataStore, RootKey, SqliteStore,
};
use sealbox::{EncryptionContext, Error};

const ROOT: [u8; 32] = [0x42; 32];
const WORKERS: usize = 4;
const THREADS: usize = 4;

/// Time shared by every process: a base read from a file the operator
/// moves forward.
#[derive(Debug)]
struct FileClock(PathBuf);

impl Clock for FileClock {
    fn now_millis(&self) -> i64 {
        let read =
            |p: &Path| -> Option<i64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
        let offset = read(&self.0).unwrap_or(0);
        // With the CLI as operator the base is a month after the wall
        // clock (written by `soak`): the CLI runs on the wall clock, and
        // must never find the workers' rotations or deletions due.
        let base = read(&self.0.with_file_name("clock-base")).unwrap_or(1_795_000_000_000);
        base + offset
    }
}

fn wall_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

fn open(dir: &Path, principal: &str) -> Result<KeyStore, Error> {
    open_with(dir, principal, None)
}

/// The root key: the one `sealbox init` made (the CLI as operator), or
/// the test's own.
fn root_key(dir: &Path) -> Result<RootKey, Error> {
    let made = dir.join("cli").join("root.key");
    if made.exists() {
        RootKey::from_file(made)
    } else {
        RootKey::from_bytes(&ROOT)
    }
}

/// The CLI as operator (`SEALBOX_CLI`: the `sealbox` binary; `make test`
/// sets it): `sealbox <args>` on the soak's store, retried while the
/// database is unavailable (exit 12); panics on any other failure.
fn cli(dir: &Path, args: &[&str]) -> String {
    let bin = std::env::var_os("SEALBOX_CLI").expect("SEALBOX_CLI");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(&bin)
            .args(["--quiet", "--principal", "operator-cli"])
            .args(args)
            .env("SEALBOX_STORE", dir.join("cli"))
            .env_remove("SEALBOX_CONFIG")
            .output()
            .unwrap();
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        if out.status.code() == Some(12) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        panic!(
            "sealbox {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Where the soak's store is: `dir/keys.db`, or the database whose URL the
/// file `dir/location` holds.
fn location(dir: &Path) -> PathBuf {
    match std::fs::read_to_string(dir.join("location")) {
        Ok(url) => PathBuf::from(url),
        Err(_) => dir.join("keys.db"),
    }
}

/// Retries `f` while the store is unavailable (a server restarting), for
/// at most 60 s.
fn patiently<T>(mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        match f() {
            Err(Error::StoreUnavailable(_)) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(50))
            }
            r => return r,
        }
    }
}

/// [`open`], starting a new audit segment when `new_audit_segment` says why.
fn open_with(
    dir: &Path,
    principal: &str,
    new_audit_segment: Option<String>,
) -> Result<KeyStore, Error> {
    KeyStore::open(
        location(dir),
        &root_key(dir)?,
        KeyStoreOptions {
            principal: principal.into(),
            clock: Arc::new(FileClock(dir.join("clock"))),
            new_audit_segment,
            ..KeyStoreOptions::default()
        },
    )
}

/// For the single-process tests: a fresh store in its own directory, opened
/// by "app", and one key in it; `None` in a worker child process.
fn fresh_store(tag: &str) -> Option<(common::TempDir, KeyStore, KeyId)> {
    if std::env::var_os("SEALBOX_CUSTODY_DIR").is_some() {
        return None;
    }
    let dir = common::TempDir::new(tag);
    let ks = open(&dir.0, "app").unwrap();
    let key_id = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    Some((dir, ks, key_id))
}

/// Closes `ks` and cuts its audit log to its first `keep(number of lines)`
/// lines; returns the log's path.
fn cut_audit_log(ks: KeyStore, keep: impl FnOnce(usize) -> usize) -> PathBuf {
    let log_path = ks.audit_log_path().unwrap().to_path_buf();
    drop(ks);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept: String = lines[..keep(lines.len())]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log_path, kept).unwrap();
    log_path
}

/// A worker's record file, opened to append. A line that a SIGKILLed
/// predecessor left unfinished is ended first, so that it cannot run into
/// the next one (every whole line ends in " .").
fn record_file(path: &Path) -> std::fs::File {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .unwrap();
    let len = f.metadata().unwrap().len();
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1)).unwrap();
        f.read_exact(&mut last).unwrap();
        if last[0] != b'\n' {
            f.write_all(b"\n").unwrap();
        }
    }
    f
}

fn ctx(worker: usize, thread: usize, n: u64) -> EncryptionContext {
    [("tenant".to_owned(), format!("{worker}-{thread}-{n}"))]
        .into_iter()
        .collect()
}

/// One worker process (run by `shared_custody_across_processes`).
#[test]
fn worker_process() {
    let Some(dir) = std::env::var_os("SEALBOX_CUSTODY_DIR").map(PathBuf::from) else {
        return;
    };
    let me: usize = std::env::var("SEALBOX_CUSTODY_WORKER")
        .unwrap()
        .parse()
        .unwrap();
    let ks = patiently(|| open(&dir, &format!("worker-{me}"))).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let ks = ks.clone();
            let dir = dir.clone();
            s.spawn(move || {
                let mut blobs = record_file(&dir.join(format!("blobs-{me}-{t}.txt")));
                let mut ops = record_file(&dir.join(format!("ops-{me}-{t}.txt")));
                let mut n = 0u64;
                while !dir.join("stop").exists() {
                    n += 1;
                    let ec = ctx(me, t, n);
                    let started = wall_ms();
                    let r = ks.generate_data_key("alias/app", 32, &ec);
                    let ended = wall_ms();
                    let outcome = match &r {
                        Ok(_) => "ok",
                        Err(Error::KeyDisabled(_)) => "disabled",
                        Err(Error::StoreUnavailable(_)) => "unavailable",
                        Err(e) => panic!("worker {me}: {e}"),
                    };
                    writeln!(ops, "{started} {ended} {outcome} .").unwrap();
                    if let Ok(dk) = r {
                        // What was returned is recorded at once: it must
                        // decrypt later, whatever happens to this process.
                        writeln!(blobs, "{} {} .", hex::encode(&dk.ciphertext), ec["tenant"])
                            .unwrap();
                        // The key may have been disabled meanwhile.
                        match ks.decrypt(&dk.ciphertext, &ec) {
                            Ok(pt) => assert_eq!(pt.as_bytes(), dk.plaintext.as_bytes()),
                            Err(e) => assert!(
                                matches!(e, Error::KeyDisabled(_) | Error::StoreUnavailable(_)),
                                "{e:?}"
                            ),
                        }
                    }
                }
            });
        }
    });
}

fn spawn_worker(dir: &Path, id: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_process",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("SEALBOX_CUSTODY_DIR", dir)
        .env("SEALBOX_CUSTODY_WORKER", id.to_string())
        .spawn()
        .unwrap()
}

fn advance_days(dir: &Path, days: i64) {
    let p = dir.join("clock");
    let now: i64 = std::fs::read_to_string(&p)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    std::fs::write(&p, (now + days * 86_400_000).to_string()).unwrap();
}

#[test]
fn shared_custody_across_processes() {
    if std::env::var_os("SEALBOX_CUSTODY_DIR").is_some() {
        return;
    }
    let dir = common::TempDir::new("custody");
    soak(&dir.0, None);
}

#[cfg(feature = "postgres")]
#[test]
fn shared_custody_on_postgres() {
    if std::env::var_os("SEALBOX_CUSTODY_DIR").is_some() {
        return;
    }
    // A server of this test's own: it is restarted mid-run.
    let Some(server) = common::PrivateServer::start("custody-pg") else {
        return;
    };
    let dir = common::TempDir::new("custody-pg");
    std::fs::write(dir.0.join("location"), &server.url).unwrap();
    soak(&dir.0, Some(&server));
}

/// The soak on the store of `d` (see the module's comment); `server`: the
/// PostgreSQL server to restart once.
fn soak(d: &Path, server: Option<&common::PrivateServer>) {
    let d = d.to_path_buf();
    let seconds: u64 = std::env::var("SEALBOX_CUSTODY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    // The CLI as a second operator, when the binary is given: the store is
    // made by `sealbox init` (its root key, its config), in d/cli.
    let with_cli = std::env::var_os("SEALBOX_CLI").is_some();
    if with_cli {
        let month_ahead = wall_ms() as i64 + 30 * 86_400_000;
        std::fs::write(d.join("clock-base"), month_ahead.to_string()).unwrap();
        match server {
            Some(s) => {
                cli(&d, &["init", "--database", &s.url]);
            }
            None => {
                cli(&d, &["init"]);
                std::fs::write(
                    d.join("location"),
                    d.join("cli").join("keys.db").to_string_lossy().as_bytes(),
                )
                .unwrap();
            }
        }
    } else {
        println!("(SEALBOX_CLI not set: the library is the only operator)");
    }
    let mut cli_steps = 0u32;
    let mut cli_rotations = 0u32;
    let op = open(&d, "operator").unwrap();
    // How long a disable may take to reach another process.
    let bound = op.metadata_cache_ttl();
    let mut restarted = false;
    let app = op
        .create_key(&CreateKeyRequest {
            alias: Some("alias/app".into()),
            rotation_period_days: Some(1),
            ..CreateKeyRequest::default()
        })
        .unwrap();
    let mut children: Vec<Child> = (0..WORKERS).map(|i| spawn_worker(&d, i)).collect();
    let mut disabled: Vec<(u128, u128)> = Vec::new();
    let mut manual_rotations = 0u32;
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut step = 0u32;
    let started = Instant::now();
    while Instant::now() < deadline {
        step += 1;
        std::thread::sleep(Duration::from_millis(150));
        if let Some(server) = server {
            if !restarted && started.elapsed() * 2 >= deadline - started {
                server.run("restart");
                restarted = true;
            }
        }
        // Every other round of steps, the CLI does the operator's work.
        let by_cli = with_cli && (step / 8) % 2 == 1;
        match step % 8 {
            0 => {
                if by_cli {
                    cli(&d, &["key", "rotate", "alias/app"]);
                    cli_rotations += 1;
                    cli_steps += 1;
                } else {
                    patiently(|| op.rotate_key("alias/app")).unwrap();
                }
                manual_rotations += 1;
            }
            1 => {
                if by_cli {
                    cli(&d, &["key", "create"]);
                    cli_steps += 1;
                } else {
                    patiently(|| op.create_key(&CreateKeyRequest::default())).unwrap();
                }
            }
            2 => {
                if by_cli {
                    cli(&d, &["key", "disable", "alias/app"]);
                } else {
                    patiently(|| op.disable_key("alias/app")).unwrap();
                }
                let from = wall_ms();
                // Long enough for the bound to pass inside the window.
                std::thread::sleep(Duration::from_millis(200) + bound * 2);
                let until = wall_ms();
                if by_cli {
                    cli(&d, &["key", "enable", "alias/app"]);
                    cli_steps += 2;
                } else {
                    patiently(|| op.enable_key("alias/app")).unwrap();
                }
                disabled.push((from, until));
            }
            3 => {
                // Every process finds the automatic rotation due at once.
                advance_days(&d, 2);
            }
            4 => {
                let other = patiently(|| op.create_key(&CreateKeyRequest::default())).unwrap();
                patiently(|| op.schedule_key_deletion(&other.key_id, 7)).unwrap();
                patiently(|| op.cancel_key_deletion(&other.key_id)).unwrap();
            }
            5 if kills < 3 => {
                let victim = step as usize % WORKERS;
                children[victim].kill().unwrap(); // SIGKILL
                children[victim].wait().unwrap();
                children[victim] = spawn_worker(&d, victim);
                kills += 1;
            }
            _ => {}
        }
    }
    std::fs::write(d.join("stop"), b"").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    drop(op);

    // The one chain verifies, and its anchor is where the log ends.
    let ks = open(&d, "checker").unwrap();
    let report = ks.verify_audit_log().unwrap();
    assert!(report.ok(), "{report:?}");
    let mut log = String::new();
    let mut after = None;
    loop {
        let page = ks.audit_records(after, 5000).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        for (_, line) in &page {
            log.push_str(line);
            log.push('\n');
        }
    }
    assert_eq!(log.lines().count() as u64, report.records);
    if server.is_none() {
        let anchor: Option<AuditAnchor> = SqliteStore::open(location(&d))
            .unwrap()
            .audit_anchor()
            .unwrap();
        assert!(
            anchor.is_some_and(|a| a.seq + 20 >= report.records),
            "anchored near the end"
        );
    }

    // Every blob a worker was given decrypts.
    let mut blobs = 0;
    for entry in std::fs::read_dir(&d).unwrap() {
        let p = entry.unwrap().path();
        if !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("blobs-")
        {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for line in text.lines() {
            // A line cut by SIGKILL was never fully recorded.
            let Some(line) = line.strip_suffix(" .") else {
                continue;
            };
            let Some((hex_blob, tenant)) = line.split_once(' ') else {
                continue;
            };
            let Ok(blob) = hex::decode(hex_blob) else {
                continue;
            };
            let ec: EncryptionContext = [("tenant".to_owned(), tenant.to_owned())]
                .into_iter()
                .collect();
            ks.decrypt(&blob, &ec).unwrap();
            blobs += 1;
        }
    }
    assert!(blobs > 100, "workers did work ({blobs} blobs)");

    // Every due rotation exactly once: versions = 1 + manual + due, and
    // every new version has its allowed RotateKey record. That record is
    // written at the point of no return, just before the version commits:
    // a rotation cut short there (its process SIGKILLed, or the server
    // restarting before the commit, when the `failed` record that should
    // follow cannot be written either) leaves an allowed record whose
    // version a later rotation then made again. Such records are bounded
    // by the interruptions; a failed record of the same request clears one.
    let md = ks.describe_key(&app.key_id).unwrap();
    let rotations: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["operation"] == "RotateKey" && r["key_id"] == app.key_id.as_str())
        .collect();
    let failed: std::collections::HashSet<&str> = rotations
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .filter_map(|r| r["request_id"].as_str())
        .collect();
    let mut named = std::collections::BTreeMap::<u64, u32>::new();
    for r in rotations.iter().filter(|r| {
        r["outcome"] == "allowed" && !failed.contains(r["request_id"].as_str().unwrap_or(""))
    }) {
        *named
            .entry(
                r["key_version"]
                    .as_u64()
                    .expect("a RotateKey record names its version"),
            )
            .or_default() += 1;
    }
    for v in 2..=u64::from(md.primary_version) {
        assert!(
            named.contains_key(&v),
            "version {v} was made without its audit record"
        );
    }
    // A cut-short rotation names the version it was about to make: one
    // that exists, made again later, or the next one. (A version cannot be
    // made twice: the store's key on (key, version) refuses the second.)
    assert!(
        named
            .keys()
            .all(|&v| (2..=u64::from(md.primary_version) + 1).contains(&v)),
        "a RotateKey record names a version that was never due: {named:?}"
    );
    let surplus: u32 = named.values().sum::<u32>() - (md.primary_version - 1);
    let interruptions = kills + u32::from(restarted);
    assert!(
        surplus <= interruptions,
        "{surplus} RotateKey records beyond the {} new versions, for {interruptions} interruptions: {named:?}",
        md.primary_version - 1
    );
    assert!(
        md.primary_version - 1 > manual_rotations,
        "due rotations happened ({} versions, {manual_rotations} manual)",
        md.primary_version
    );
    let due_rotations = md.primary_version - 1 - manual_rotations;
    // A rotation by the CLI (on the wall clock) sets the next one a day
    // after the wall clock, which the workers' clock has passed: one due
    // rotation may follow each.
    let advances = (step / 8) + u32::from(step % 8 >= 3) + cli_rotations;
    assert!(
        due_rotations <= advances,
        "{due_rotations} due rotations for {advances} advances of the clock: one each at most"
    );

    // A disable is honoured by every process within the bound: no
    // operation that started later than the bound after the disable
    // succeeded. The lag is the latest start of a successful operation
    // after a disable began.
    let mut lag_violations = 0;
    let mut refused = 0;
    let mut unavailable = 0;
    let mut max_lag_ms: u128 = 0;
    let bound_ms = bound.as_millis();
    for entry in std::fs::read_dir(&d).unwrap() {
        let p = entry.unwrap().path();
        if !p.file_name().unwrap().to_string_lossy().starts_with("ops-") {
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            // Only whole lines (a line cut by SIGKILL lacks its end mark).
            let Some(line) = line.strip_suffix(" .") else {
                continue;
            };
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() != 3 {
                continue;
            }
            let (Some(Ok(start)), Some(Ok(end)), Some(outcome)) = (
                f.first().map(|s| s.parse::<u128>()),
                f.get(1).map(|s| s.parse::<u128>()),
                f.get(2),
            ) else {
                continue;
            };
            if *outcome == "unavailable" {
                unavailable += 1;
            }
            for (from, until) in &disabled {
                // Strictly after: milliseconds are coarse, and an operation
                // that began in the millisecond the disable committed may
                // have read the key before it.
                if start > *from && end <= *until {
                    if *outcome == "ok" {
                        max_lag_ms = max_lag_ms.max(start - from);
                        if start > from + bound_ms {
                            eprintln!(
                                "allowed {} ms into a disable ({from}..{until}), bound {bound_ms} ms: {line} ({})",
                                start - from,
                                p.display()
                            );
                            lag_violations += 1;
                        }
                    } else {
                        refused += 1;
                    }
                }
            }
        }
    }
    println!(
        "shared custody ({}): {WORKERS} processes x {THREADS} threads, {seconds} s, {kills} SIGKILLs, \
         {} server restarts, {unavailable} operations refused while it restarted, \
         {} records, {blobs} blobs decrypted, {} versions ({manual_rotations} manual, \
         {due_rotations} due), {} disables: {refused} operations refused inside them, \
         {lag_violations} allowed after the bound; propagation bound {bound_ms} ms, \
         latest success after a disable began: {max_lag_ms} ms; {cli_steps} operator steps by the CLI",
        if server.is_some() { "PostgreSQL" } else { "SQLite" },
        u32::from(restarted),
        report.records,
        md.primary_version,
        disabled.len()
    );
    assert_eq!(server.is_some(), restarted, "the server was restarted");
    assert_eq!(
        lag_violations, 0,
        "an operation succeeded while the key was disabled"
    );
}

/// The tail-removal attack of the issue: cut the log to its first lines
/// and reopen: refused, whatever happens next (before: the next key change
/// re-anchored at the shorter head and verification passed).
#[test]
fn a_removed_tail_is_refused_at_open() {
    let Some((dir, ks, key_id)) = fresh_store("tail") else {
        return;
    };
    let d = dir.0.clone();
    for _ in 0..10 {
        ks.generate_random(8).unwrap();
    }
    ks.rotate_key(&key_id).unwrap();
    let log_path = cut_audit_log(ks, |_| 5);
    match open(&d, "app") {
        Err(Error::AuditLogTampered(m)) => assert!(m.contains("removed"), "{m}"),
        other => panic!("a cut log was accepted: {:?}", other.map(|_| ())),
    }
    // The operator's explicit, audited way out: a new segment that names
    // the old head; the damaged log is kept.
    let why = "log cut by an intruder; incident 42";
    let ks = open_with(&d, "operator", Some(why.into())).unwrap();
    assert!(ks.verify_audit_log().unwrap().ok());
    let new_log = std::fs::read_to_string(&log_path).unwrap();
    let first = new_log.lines().next().unwrap();
    assert!(
        first.contains("StartAuditSegment") && first.contains("incident 42"),
        "{first}"
    );
    assert!(first.contains("anchored head record 11"), "{first}");
    let kept = std::fs::read_dir(&d)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".segment-0-")
        })
        .count();
    assert_eq!(kept, 1, "the damaged log is kept");
    drop(ks);
    open(&d, "app").unwrap().generate_random(1).unwrap();
}

/// Data-plane records after the last key change are anchored too (when
/// the store goes away, and every second or 1,000 records): removing them
/// is refused at open.
#[test]
fn removed_data_plane_records_are_refused_at_open() {
    let Some((dir, ks, key_id)) = fresh_store("dataplane") else {
        return;
    };
    let ec = EncryptionContext::new();
    let blob = ks.encrypt(&key_id, b"x", &ec).unwrap();
    for _ in 0..20 {
        ks.decrypt(&blob, &ec).unwrap();
    }
    cut_audit_log(ks, |n| n - 10);
    assert!(matches!(
        open(&dir.0, "app"),
        Err(Error::AuditLogTampered(_))
    ));
}
