//! `sealbox audit tail` and `sealbox audit verify`.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::time::Duration;

use serde_json::{json, Value};

use sealbox::keystore::KeyStore;

use crate::cli::TailArgs;
use crate::config::Resolved;
use crate::error::{CliError, CliResult, Exit};
use crate::Out;

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

/// Reads the log file directly (no key store is opened, so reading the
/// trail adds nothing to it).
/// Reads the next line (or what there is of it) into `line`, replacing
/// what it held; 0 at the end of the file.
fn next_line(
    reader: &mut BufReader<File>,
    line: &mut String,
    path: &std::path::Path,
) -> CliResult<usize> {
    line.clear();
    reader.read_line(line).map_err(|e| CliError::io(path, e))
}

pub fn tail(r: &Resolved, a: TailArgs, out: Out) -> CliResult<()> {
    let path = r.audit_log();
    let file = File::open(&path).map_err(|e| {
        CliError::config(format!(
            "audit log {}: {e} (is {} a key store? `sealbox init` makes one)",
            path.display(),
            r.store.display()
        ))
    })?;
    let mut reader = BufReader::new(file);
    let mut last: VecDeque<String> = VecDeque::with_capacity(a.lines.min(10_000));
    let mut line = String::new();
    loop {
        let n = next_line(&mut reader, &mut line, &path)?;
        if n == 0 {
            break;
        }
        if !line.ends_with('\n') {
            // A record being written right now: read it again later.
            let back = i64::try_from(n).unwrap_or(0);
            reader
                .seek(SeekFrom::Current(-back))
                .map_err(|e| CliError::io(&path, e))?;
            break;
        }
        if a.lines > 0 {
            if last.len() == a.lines {
                last.pop_front();
            }
            last.push_back(line.trim_end().to_owned());
        }
    }
    if last.is_empty() && !out.json && !a.follow {
        println!("The audit log {} is empty.", path.display());
    }
    for l in &last {
        print(out, l)?;
    }
    if !a.follow {
        return Ok(());
    }
    let mut partial = String::new();
    loop {
        let n = next_line(&mut reader, &mut line, &path)?;
        if n == 0 {
            std::thread::sleep(Duration::from_millis(250));
            continue;
        }
        partial.push_str(&line);
        if partial.ends_with('\n') {
            print(out, partial.trim_end())?;
            partial.clear();
        }
    }
}

pub fn verify(ks: &KeyStore, out: Out) -> CliResult<()> {
    let report = ks.verify_audit_log()?;
    let path = ks
        .audit_log_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
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
