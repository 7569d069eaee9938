//! The shared key store under load (issue 15): audited Decrypt and
//! GenerateDataKey per second, with p50/p99 latency, on SQLite and on
//! PostgreSQL, from 1, 2 and 4 processes of 4 threads each, side by side in
//! one run, with the PostgreSQL/SQLite ratios and the issue's targets
//! marked met or not. Metadata caches are warm (each process runs the
//! operation before the clock starts); every operation writes its audit
//! record before it returns.
//!
//!   cargo bench -p sealbox --bench fleet          (make bench-fleet)
//!
//! PostgreSQL is the test server of `make pg-start` (`SEALBOX_TEST_PG_URL`;
//! without it only SQLite is measured). `SEALBOX_FLEET_SECONDS` sets the
//! time per cell (default 3). Each worker process is this binary again
//! (`SEALBOX_FLEET_WORKER` set). Results: target/bench/fleet.json.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sealbox::keystore::{CreateKeyRequest, KeyStore, KeyStoreOptions, RootKey};
use sealbox::EncryptionContext;

const ROOT: [u8; 32] = [0x33; 32];
const THREADS: usize = 4;
const PROCESSES: [usize; 3] = [1, 2, 4];
const OPS: [&str; 2] = ["Decrypt", "GenerateDataKey"];

fn ctx() -> EncryptionContext {
    [("tenant".to_owned(), "bench".to_owned())]
        .into_iter()
        .collect()
}

fn open(location: &str) -> KeyStore {
    KeyStore::open(
        location,
        &RootKey::from_bytes(&ROOT).unwrap(),
        KeyStoreOptions {
            principal: "bench".into(),
            ..KeyStoreOptions::default()
        },
    )
    .unwrap()
}

/// One worker process: warm up, wait for the start signal, run the
/// operation from THREADS threads until the deadline, write latencies (µs).
fn worker(dir: &Path, id: usize) {
    let location = std::fs::read_to_string(dir.join("location")).unwrap();
    let op = std::fs::read_to_string(dir.join("op")).unwrap();
    let seconds: f64 = std::fs::read_to_string(dir.join("seconds"))
        .unwrap()
        .parse()
        .unwrap();
    let key = std::fs::read_to_string(dir.join("key")).unwrap();
    let blob = std::fs::read(dir.join("blob")).unwrap();
    let ks = open(&location);
    let ec = ctx();
    let run = |ks: &KeyStore| match op.as_str() {
        "Decrypt" => {
            ks.decrypt(&blob, &ec).unwrap();
        }
        _ => {
            ks.generate_data_key(&key, 32, &ec).unwrap();
        }
    };
    for _ in 0..50 {
        run(&ks);
    }
    std::fs::write(dir.join(format!("ready-{id}")), b"").unwrap();
    while !dir.join("go").exists() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let lat: Vec<Vec<u32>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let ks = ks.clone();
                s.spawn(move || {
                    let mut v = Vec::with_capacity(100_000);
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        run(&ks);
                        v.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    v
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut out = std::fs::File::create(dir.join(format!("lat-{id}"))).unwrap();
    for v in lat.iter().flatten() {
        out.write_all(&v.to_le_bytes()).unwrap();
    }
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    per_second: f64,
    p50_us: u32,
    p99_us: u32,
}

fn measure(location: &str, op: &str, processes: usize, seconds: f64, scratch: &Path) -> Cell {
    let dir = scratch.join(format!("{op}-{processes}-{}", location.len()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ks = open(location);
    let key = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let blob = ks.generate_data_key(key.as_str(), 32, &ctx()).unwrap();
    drop(ks);
    std::fs::write(dir.join("location"), location).unwrap();
    std::fs::write(dir.join("op"), op).unwrap();
    std::fs::write(dir.join("seconds"), seconds.to_string()).unwrap();
    std::fs::write(dir.join("key"), key.as_str()).unwrap();
    std::fs::write(dir.join("blob"), &blob.ciphertext).unwrap();
    let children: Vec<_> = (0..processes)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .env("SEALBOX_FLEET_WORKER", i.to_string())
                .env("SEALBOX_FLEET_DIR", &dir)
                .spawn()
                .unwrap()
        })
        .collect();
    while (0..processes).any(|i| !dir.join(format!("ready-{i}")).exists()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(dir.join("go"), b"").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a bench worker failed");
    }
    let mut all: Vec<u32> = Vec::new();
    for i in 0..processes {
        let b = std::fs::read(dir.join(format!("lat-{i}"))).unwrap();
        all.extend(
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    let _ = std::fs::remove_dir_all(&dir);
    Cell {
        per_second: all.len() as f64 / seconds,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

/// A policy of ten statements, the allowing one last (every statement is
/// evaluated): denies for other principals and contexts, conditions on the
/// encryption context, wildcards.
fn ten_statement_policy() -> String {
    let mut st = Vec::new();
    for i in 0..7 {
        st.push(format!(
            r#"{{"Sid":"Other{i}","Effect":"Allow","Principal":{{"Sealbox":["svc-{i}","svc-{i}b"]}},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{{"StringEquals":{{"kms:EncryptionContext:tenant":"t{i}"}}}}}}"#
        ));
    }
    st.push(r#"{"Sid":"Admin","Effect":"Allow","Principal":{"Sealbox":"bench"},"Action":["kms:PutKeyPolicy","kms:GetKeyPolicy","kms:DescribeKey","kms:Enable*","kms:Disable*"],"Resource":"*"}"#.to_string());
    st.push(r#"{"Sid":"NoExport","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:purpose":"export"}}}"#.to_string());
    st.push(r#"{"Sid":"Bench","Effect":"Allow","Principal":{"Sealbox":"bench"},"Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey*","kms:*"],"Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:tenant":"ben*"}}}"#.to_string());
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        st.join(",")
    )
}

/// Audited Decrypt/s and GenerateDataKey/s from THREADS threads of this
/// process on `location`, for a key with the default policy and for one
/// with ten statements: ((Decrypt none, ten), (GenerateDataKey none, ten)).
fn policy_cost(location: &str, seconds: f64) -> ((f64, f64), (f64, f64)) {
    let ks = open(location);
    let plain = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let ten = ks
        .create_key(&CreateKeyRequest {
            policy: Some(ten_statement_policy()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id;
    let ec = ctx();
    let rate = |key: &str, decrypt: bool| {
        let blob = ks.generate_data_key(key, 32, &ec).unwrap().ciphertext;
        let op = |ks: &KeyStore| {
            if decrypt {
                ks.decrypt(&blob, &ec).map(|_| ())
            } else {
                ks.generate_data_key(key, 32, &ec).map(|_| ())
            }
        };
        for _ in 0..100 {
            op(&ks).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let n: u64 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (ks, op) = (ks.clone(), &op);
                    s.spawn(move || {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            op(&ks).unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        n as f64 / seconds
    };
    // Interleaved, twice, to even out the machine's drift.
    let both = |decrypt: bool| {
        let (a1, b1) = (rate(plain.as_str(), decrypt), rate(ten.as_str(), decrypt));
        let (b2, a2) = (rate(ten.as_str(), decrypt), rate(plain.as_str(), decrypt));
        ((a1 + a2) / 2.0, (b1 + b2) / 2.0)
    };
    (both(true), both(false))
}

/// Group commits per second of the audit's shape on one connection.
fn commit_floor(url: &str, seconds: f64) -> f64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(
        "SET synchronous_commit TO off;
         CREATE TEMP TABLE floor_log (seq BIGINT PRIMARY KEY, line TEXT NOT NULL);
         CREATE TEMP TABLE floor_head (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
         INSERT INTO floor_head VALUES ('h', '0');",
    )
    .unwrap();
    let st = c
        .prepare(
            "WITH moved AS (UPDATE floor_head SET value = $1 WHERE name = 'h' RETURNING 1)
             INSERT INTO floor_log (seq, line) SELECT s, l FROM unnest($2::bigint[], $3::text[]) AS t(s, l)
             WHERE EXISTS (SELECT 1 FROM moved)",
        )
        .unwrap();
    let line = "x".repeat(420);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut n, mut seq) = (0u64, 0i64);
    while Instant::now() < deadline {
        let seqs: Vec<i64> = (0..THREADS as i64).map(|i| seq + i).collect();
        let lines: Vec<&str> = vec![line.as_str(); THREADS];
        c.execute(&st, &[&seq.to_string().as_bytes(), &seqs, &lines])
            .unwrap();
        seq += THREADS as i64;
        n += 1;
    }
    n as f64 / seconds
}

fn main() {
    if let (Ok(id), Ok(dir)) = (
        std::env::var("SEALBOX_FLEET_WORKER"),
        std::env::var("SEALBOX_FLEET_DIR"),
    ) {
        worker(Path::new(&dir), id.parse().unwrap());
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // of the kind: run one short cell then, as a smoke.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("SEALBOX_FLEET_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 0.2 } else { 3.0 });
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    let scratch = std::env::temp_dir().join(format!("sealbox-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut stores: Vec<(&str, String)> = vec![(
        "SQLite",
        scratch.join("keys.db").to_string_lossy().into_owned(),
    )];
    match std::env::var("SEALBOX_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => {
            let db = format!("sealbox_fleet_bench_{}", std::process::id());
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {db}"))
                .unwrap();
            let base = url.split('?').next().unwrap();
            let base = &base[..base.rfind('/').unwrap()];
            stores.push(("PostgreSQL", format!("{base}/{db}")));
        }
        _ => println!("(no SEALBOX_TEST_PG_URL: PostgreSQL not measured; make pg-start)"),
    }
    let procs: &[usize] = if smoke { &[1] } else { &PROCESSES };
    let mut results = Vec::new();
    println!(
        "\nshared key store: audited operations/s and latency, {THREADS} threads per process, {seconds} s per cell, warm metadata caches"
    );
    println!(
        "{:<16} {:>5} {:>12} {:>12} {:>9} {:>9}",
        "operation", "procs", "store", "ops/s", "p50 µs", "p99 µs"
    );
    for op in OPS {
        for &p in procs {
            let mut row = Vec::new();
            for (name, loc) in &stores {
                let c = measure(loc, op, p, seconds, &scratch);
                println!(
                    "{op:<16} {p:>5} {name:>12} {:>12.0} {:>9} {:>9}",
                    c.per_second, c.p50_us, c.p99_us
                );
                row.push((*name, c));
            }
            results.push((op, p, row));
        }
    }
    // What a key policy costs: Decrypt with the default policy and with a
    // ten-statement one, side by side (target: at most 10% slower).
    println!(
        "\nkey policy cost: audited Decrypt/s and GenerateDataKey/s, one process of {THREADS} threads"
    );
    let mut policy_rows = Vec::new();
    for (name, loc) in &stores {
        let loc = if *name == "SQLite" {
            scratch.join("policy.db").to_string_lossy().into_owned()
        } else {
            loc.clone()
        };
        let ((none, ten), (gnone, gten)) = policy_cost(&loc, seconds);
        let cost = 1.0 - ten / none;
        let mark = if cost <= 0.10 { "met" } else { "NOT met" };
        println!(
            "{name:>12}: Decrypt: default policy {none:.0}/s, ten statements {ten:.0}/s: {:.1}% slower (target <= 10%: {mark})",
            cost * 100.0
        );
        println!(
            "{:>12}  GenerateDataKey: default policy {gnone:.0}/s, ten statements {gten:.0}/s: {:.1}% slower",
            "",
            (1.0 - gten / gnone) * 100.0
        );
        policy_rows.push(serde_json::json!({"store": name, "default_policy_per_second": none, "ten_statements_per_second": ten, "generate_data_key_default_policy_per_second": gnone, "generate_data_key_ten_statements_per_second": gten}));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    // The floor under the PostgreSQL rate: one process commits its threads'
    // records in groups, one round trip per group on one connection, and a
    // group holds at most one record per thread. The fastest such loop this
    // machine runs (a prepared insert of THREADS audit-sized rows and a
    // one-row update, synchronous_commit off, nothing else) bounds the
    // audited operations per second of one process.
    let floor = stores.get(1).map(|(_, url)| commit_floor(url, seconds));
    if let Some(f) = floor {
        println!(
            "\nPostgreSQL commit floor: {:.0} group commits/s on one connection = {:.0} records/s for {THREADS} threads (the ceiling of one process's audited ops/s)",
            f,
            f * THREADS as f64
        );
    }
    if stores.len() == 2 {
        println!("\nPostgreSQL / SQLite (target: >= 0.50 with warm caches)");
        for (op, p, row) in &results {
            let r = row[1].1.per_second / row[0].1.per_second;
            let mark = if r >= 0.5 { "met" } else { "NOT met" };
            println!("{op:<16} {p} process(es): {r:.2}  {mark}");
        }
        if let Some((_, _, row)) = results
            .iter()
            .find(|(op, p, _)| *op == "Decrypt" && *p == 1)
        {
            let d = row[1].1.per_second;
            let mark = if d >= 5000.0 { "met" } else { "NOT met" };
            println!(
                "audited Decrypt/s on PostgreSQL, one process of {THREADS} threads: {d:.0} (target >= 5,000: {mark})"
            );
        }
    }
    if !smoke {
        let json: Vec<serde_json::Value> = results
            .iter()
            .flat_map(|(op, p, row)| {
                row.iter().map(move |(store, c)| {
                    serde_json::json!({
                        "operation": op, "processes": p, "threads_per_process": THREADS,
                        "store": store, "per_second": c.per_second,
                        "p50_us": c.p50_us, "p99_us": c.p99_us,
                    })
                })
            })
            .collect();
        let json: Vec<serde_json::Value> = json.into_iter().chain(policy_rows).collect();
        let out = target.join("bench");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("fleet.json"),
            serde_json::to_string_pretty(&json).unwrap(),
        )
        .unwrap();
    }
}
