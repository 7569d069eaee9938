//! `sealbox audit tail`, `audit export` and `audit verify`.
//!
//! The trail of a SQLite store is its log file, read here directly: no key
//! store is opened, so reading it needs no root key and adds nothing to
//! it, and a damaged log can still be read. The trail of a database store
//! is the database's `audit_log` table, read through the key store
//! (`KeyStore::audit_records`).

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use sealbox::keystore::KeyStore;
use sealbox::ErrorKind;

use crate::atomic::{Privacy, Sink};
use crate::cli::{ExportArgs, TailArgs};
use crate::config::Resolved;
use crate::error::{CliError, CliResult, Exit};
use crate::store;
use crate::Out;

/// Records asked of the database at a time.
const PAGE: usize = 5000;
/// How often `tail --follow` looks for new records.
const POLL: Duration = Duration::from_millis(200);

/// One record for people: time, operation, outcome, key, context, error.
fn record_text(line: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return format!("(not an audit record) {line}");
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut t = format!("{}  {:<22} {:<7}", s("time"), s("operation"), s("outcome"));
    if let Some(k) = v.get("key_id").and_then(Value::as_str) {
        t.push_str(&format!("  key={k}"));
        if let Some(n) = v.get("key_version").and_then(Value::as_u64) {
            t.push_str(&format!(" v{n}"));
        }
    }
    t.push_str(&format!("  by={}", s("principal")));
    if let Some(ec) = v.get("encryption_context").and_then(Value::as_object) {
        let pairs: Vec<String> = ec
            .iter()
            .filter(|(k, _)| !k.starts_with("aws-crypto-"))
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        if !pairs.is_empty() {
            t.push_str(&format!("  context={{{}}}", pairs.join(",")));
        }
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        t.push_str(&format!("  error=\"{e}\""));
    }
    t
}

fn print(out: Out, line: &str) -> CliResult<()> {
    let mut s = std::io::stdout().lock();
    if out.json {
        writeln!(s, "{line}")?;
    } else {
        writeln!(s, "{}", record_text(line))?;
    }
    s.flush()?;
    Ok(())
}

/// The sequence number of a stored line (`None`: not a readable record).
fn seq_of(line: &str) -> Option<u64> {
    serde_json::from_str::<Value>(line)
        .ok()?
        .get("seq")?
        .as_u64()
}

/// A log file read line by line; a line still being written (no newline
/// yet) is left for a later read.
struct LogFile {
    path: PathBuf,
    reader: BufReader<File>,
    buf: String,
}

impl LogFile {
    fn open(path: PathBuf, store: &Path) -> CliResult<Self> {
        let file = File::open(&path).map_err(|e| {
            CliError::config(format!(
                "audit log {}: {e} (is {} a key store? `sealbox init` makes one)",
                path.display(),
                store.display()
            ))
        })?;
        Ok(LogFile {
            path,
            reader: BufReader::new(file),
            buf: String::new(),
        })
    }

    /// The next complete line without its newline; `None` at the end.
    fn next_line(&mut self) -> CliResult<Option<String>> {
        self.buf.clear();
        let n = self
            .reader
            .read_line(&mut self.buf)
            .map_err(|e| CliError::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        if !self.buf.ends_with('\n') {
            // A record being written right now: read it again later.
            let back = i64::try_from(n).unwrap_or(0);
            self.reader
                .seek(SeekFrom::Current(-back))
                .map_err(|e| CliError::io(&self.path, e))?;
            return Ok(None);
        }
        Ok(Some(self.buf[..self.buf.len() - 1].to_owned()))
    }
}

/// Where the records of the current segment are read from.
enum Trail {
    File(LogFile),
    Store(KeyStore),
}

impl Trail {
    fn open(r: &Resolved) -> CliResult<Trail> {
        match r.audit_log() {
            Some(path) => Ok(Trail::File(LogFile::open(path, &r.store)?)),
            None => Ok(Trail::Store(store::open(r)?)),
        }
    }

    fn location(&self) -> String {
        match self {
            Trail::File(f) => f.path.display().to_string(),
            Trail::Store(ks) => ks
                .audit_log_location()
                .unwrap_or_else(|| "(no audit log)".to_owned()),
        }
    }
}

pub fn tail(r: &Resolved, a: TailArgs, out: Out) -> CliResult<()> {
    let mut trail = Trail::open(r)?;
    let location = trail.location();
    let mut shown = 0usize;
    let mut last = None;
    match &mut trail {
        Trail::File(f) => {
            let mut kept = std::collections::VecDeque::with_capacity(a.lines.min(10_000));
            while let Some(line) = f.next_line()? {
                if a.lines > 0 {
                    if kept.len() == a.lines {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            }
            for l in &kept {
                print(out, l)?;
            }
            shown = kept.len();
        }
        Trail::Store(ks) => {
            // Following goes on after the last record there is now.
            let n = a.lines.max(1);
            let records = ks.audit_last_records(n)?;
            last = records.last().map(|(pos, _)| *pos);
            if a.lines > 0 {
                for (_, line) in &records {
                    print(out, line)?;
                    shown += 1;
                }
            }
        }
    }
    if shown == 0 && !out.json && !a.follow {
        println!("The audit log {location} is empty.");
    }
    if !a.follow {
        return Ok(());
    }
    // Until SIGINT/SIGTERM/SIGHUP, which the signal thread turns into an
    // exit (128 + signal) between two records.
    let mut down = false;
    loop {
        std::thread::sleep(POLL);
        match &mut trail {
            Trail::File(f) => {
                while let Some(line) = f.next_line()? {
                    print(out, &line)?;
                }
            }
            Trail::Store(ks) => match ks.audit_records(last, PAGE) {
                Ok(records) => {
                    if down {
                        eprintln!("sealbox: the database is back; following {location}");
                        down = false;
                    }
                    for (seq, line) in records {
                        print(out, &line)?;
                        last = Some(seq);
                    }
                }
                // A database restart or failover: keep following.
                Err(e) if e.kind() == ErrorKind::StoreUnavailable => {
                    if !down {
                        eprintln!("sealbox: {e}; retrying");
                        down = true;
                    }
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
}

/// `sealbox audit export`: the stored lines of the current segment after
/// `--after`, to stdout or atomically to a file (0600).
pub fn export(r: &Resolved, a: ExportArgs, out: Out) -> CliResult<()> {
    let mut trail = Trail::open(r)?;
    let location = trail.location();
    let mut sink = Sink::open(a.output.as_deref(), Privacy::Owner, a.force)?;
    let mut count = 0u64;
    let mut first = None;
    let mut last = None;
    let mut unreadable = 0u64;
    let mut write = |seq: Option<u64>, line: &str, sink: &mut Sink| -> CliResult<()> {
        sink.write_all(line.as_bytes())?;
        sink.write_all(b"\n")?;
        count += 1;
        match seq {
            Some(s) => {
                first = first.or(Some(s));
                last = Some(s);
            }
            None => unreadable += 1,
        }
        Ok(())
    };
    match &mut trail {
        Trail::File(f) => {
            // A line that is not a record (a damaged log) goes out as it
            // is, for the receiver's verification to report, once the
            // export has reached the records after `--after`.
            let mut past = a.after.is_none();
            while let Some(line) = f.next_line()? {
                let seq = seq_of(&line);
                if let (Some(s), Some(after)) = (seq, a.after) {
                    past = s > after;
                }
                if past {
                    write(seq, &line, &mut sink)?;
                }
            }
        }
        Trail::Store(ks) => {
            let mut after = a.after;
            loop {
                let page = ks.audit_records(after, PAGE)?;
                let full = page.len() == PAGE;
                for (seq, line) in &page {
                    write(Some(*seq), line, &mut sink)?;
                    after = Some(*seq);
                }
                if !full {
                    break;
                }
            }
        }
    }
    let to_stdout = sink.is_stdout();
    sink.commit()?;
    let output = a
        .output
        .as_ref()
        .filter(|_| !to_stdout)
        .map(|p| p.display().to_string());
    let v = json!({
        "audit_log": location,
        "records": count,
        "first_seq": first,
        "last_seq": last,
        "unreadable_lines": unreadable,
        "output": output.clone().unwrap_or_else(|| "-".to_owned()),
    });
    let human = || {
        let range = match (first, last) {
            (Some(f), Some(l)) => format!(" (seq {f} to {l})"),
            _ => String::new(),
        };
        let mut t = format!(
            "Exported {count} audit records{range} of {location} to {}",
            output.clone().unwrap_or_else(|| "stdout".to_owned())
        );
        if unreadable > 0 {
            t.push_str(&format!(
                "; {unreadable} lines are not readable records (run `sealbox audit verify`)"
            ));
        }
        t
    };
    if to_stdout {
        out.emit_aside(v, human)
    } else {
        out.emit(v, human)
    }
}

pub fn verify(ks: &KeyStore, out: Out) -> CliResult<()> {
    let report = ks.verify_audit_log()?;
    let path = ks.audit_log_location().unwrap_or_default();
    let v = json!({
        "audit_log": path,
        "ok": report.ok(),
        "records": report.records,
        "first_error": report.first_error.as_ref().map(|(line, why)| json!({"line": line, "reason": why})),
    });
    out.emit(v, || {
        if report.ok() {
            format!(
                "Audit log {path} verified: {} records, HMAC chain intact, nothing edited, inserted, removed or reordered.",
                report.records
            )
        } else {
            String::new()
        }
    })?;
    match report.first_error {
        None => Ok(()),
        Some((line, why)) => Err(CliError::new(
            Exit::AuditLogTampered,
            format!(
                "audit log {path} FAILED verification at line {line}: {why} ({} records verified before it)",
                report.records
            ),
        )),
    }
}
