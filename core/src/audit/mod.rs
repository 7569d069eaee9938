//! Audit: every key-store operation, allowed or failed, becomes one event.
//!
//! Sinks: an append-only JSON-lines file whose records are chained by an
//! HMAC under a key the backend holds (so an edited, inserted, removed or
//! reordered line is detected by [`verify_log`]), and callbacks into the
//! host application. Events never carry plaintext or key material.

use crate::sync::Mutex;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keystore::Operation;
use crate::message::EncryptionContext;
use crate::names::named_enum;

named_enum!(
    /// How an audited operation ended.
    Outcome {
        /// The operation was allowed and its result released (or its
        /// change committed).
        Allowed = "allowed",
        /// The operation failed; `error` says why.
        Failed = "failed",
        /// The principal was not allowed the operation (key policy and
        /// grants); `error` names the deciding statement or the missing
        /// grant. Nothing was done.
        Denied = "denied",
    }
);

/// One audited operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// RFC 3339 UTC time with milliseconds.
    pub time: String,
    /// The operation, named as in the AWS KMS API (`Encrypt`, `CreateKey`, ...).
    pub operation: Operation,
    /// The key, when the operation names one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
    /// The key version used, when one was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_version: Option<u32>,
    /// ReEncrypt: the key that decrypted the source blob (`key_id` is the
    /// destination key).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_key_id: Option<String>,
    /// ReEncrypt: the version of the source key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_key_version: Option<u32>,
    /// What else the record says (StartAuditSegment: the previous
    /// segment's head and why it was replaced).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    /// Who asked (configured per key store).
    pub principal: String,
    /// The encryption context of symmetric operations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub encryption_context: Option<EncryptionContext>,
    /// `allowed` or `failed`.
    pub outcome: Outcome,
    /// Why it failed (the detail that callers only see as an opaque error).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// A UUID per request.
    pub request_id: String,
}

/// A place audit events go. A sink that fails makes the operation fail.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Records one event durably enough for the sink's promise.
    fn record(&self, event: &AuditEvent) -> Result<()>;
}

/// A chained, MAC'd audit log that the key store writes every record to
/// and anchors: a JSON-lines file ([`FileAuditLog`]) or a table of the
/// metadata store's database (PostgreSQL). Every line is the same chained
/// record text (the [`AuditEvent`], its sequence number and the MAC of the
/// record before it) with its own MAC, whatever holds it; docs/FORMAT.md,
/// "Audit log", gives the bytes.
pub trait AuditLog: AuditSink {
    /// Where the log is, for messages (a path, or the database).
    fn location(&self) -> String;
    /// The file, for a log kept in one.
    fn path(&self) -> Option<&Path> {
        None
    }
    /// The sequence number the next record gets and the MAC of the last
    /// record written (the chain head).
    fn head(&self) -> Result<(u64, String)>;
    /// The anchor of the last record in `segment` that the key store must
    /// store in the metadata store; `None` when there is none to store (an
    /// empty log, or a log that anchors itself in the same transaction as
    /// its records).
    fn anchor(&self, segment: u64) -> Result<Option<AuditAnchor>>;
    /// Whether the log holds the record `anchor` names, with its MAC:
    /// `Ok(None)` if so, else why not.
    fn check_anchor(&self, anchor: &AuditAnchor) -> Result<Option<String>>;
    /// Verifies the chain of `segment` against `anchor` (sequence number and
    /// MAC of a record known to have been written).
    fn verify(&self, segment: u64, anchor: Option<(u64, String)>) -> Result<AuditReport>;
    /// The records of `segment` after position `after` (all with `None`),
    /// at most `limit`, as (position, line): in a file the sequence number;
    /// in a database a number naming the row, the records in the order of
    /// the transactions that wrote them (every writer's together).
    fn lines(&self, segment: u64, after: Option<u64>, limit: usize) -> Result<Vec<(u64, String)>>;
    /// The last `n` records of `segment`, in the order of [`AuditLog::lines`]
    /// (page on from the last one's position for what comes next).
    fn last_lines(&self, segment: u64, n: usize) -> Result<Vec<(u64, String)>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut kept = std::collections::VecDeque::with_capacity(n.min(10_000));
        let mut after = None;
        loop {
            let page = self.lines(segment, after, 5000)?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.0);
            for r in page {
                if kept.len() == n {
                    kept.pop_front();
                }
                kept.push_back(r);
            }
        }
        Ok(kept.into())
    }
    /// Starts segment `segment` (an operator's explicit, audited decision):
    /// the log that continues, and where the old segment's records are kept.
    fn new_segment(
        self: Box<Self>,
        segment: u64,
        now_ms: i64,
    ) -> Result<(Box<dyn AuditLog>, String)>;
}

/// The chained form written to the log file: the event plus its position
/// and the MAC of the previous record. The line is this JSON object with a
/// final `"mac"` member appended; the MAC covers the object without it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChainedRecord {
    seq: u64,
    prev: String,
    /// The writer whose chain the record is in, in a database that keeps
    /// one chain per writing process for data-plane records (absent in
    /// the one chain of a file and in a database's chain of changes to
    /// keys). Under the MAC: a record cannot move to another chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    writer: Option<u64>,
    #[serde(flatten)]
    event: AuditEvent,
}

/// Computes the chain MAC (the backend's audit key does the work).
pub type ChainMac = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>> + Send + Sync>;

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Splits a line into (the bytes the MAC covers, the MAC hex).
fn split_line(line: &str) -> Option<(String, &str)> {
    let at = line.rfind(",\"mac\":\"")?;
    let mac = line[at + ",\"mac\":\"".len()..].strip_suffix("\"}")?;
    Some((format!("{}}}", &line[..at]), mac))
}

struct FileState {
    file: File,
    /// The next record's sequence number.
    seq: u64,
    /// The MAC of the last record (the chain head).
    prev: String,
    /// Where the last complete record ends: what this process has read.
    end: u64,
    /// Where the last complete record starts.
    last_start: u64,
}

/// A record of the log that the metadata store keeps, so that a log cut
/// short or rewritten is noticed: its position in the chain, its MAC and
/// where its line starts. It only moves forward: to a later record of the
/// same segment, or to a new segment an operator started explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    /// The log segment (0 until an operator replaces a lost or damaged log).
    pub segment: u64,
    /// The record's sequence number.
    pub seq: u64,
    /// The record's MAC (hex).
    pub mac: String,
    /// Byte offset of the record's line (None in anchors written before
    /// offsets were kept).
    pub offset: Option<u64>,
}

impl AuditAnchor {
    /// The stored form: `segment:seq:mac:offset`.
    pub fn encode(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.segment,
            self.seq,
            self.mac,
            self.offset.map_or(String::new(), |o| o.to_string())
        )
    }

    /// Reads the stored form (also the older `seq:mac`).
    pub fn decode(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [seq, mac] => Some(AuditAnchor {
                segment: 0,
                seq: seq.parse().ok()?,
                mac: (*mac).to_owned(),
                offset: None,
            }),
            [segment, seq, mac, offset] => Some(AuditAnchor {
                segment: segment.parse().ok()?,
                seq: seq.parse().ok()?,
                mac: (*mac).to_owned(),
                offset: if offset.is_empty() {
                    None
                } else {
                    Some(offset.parse().ok()?)
                },
            }),
            _ => None,
        }
    }

    /// Whether this anchor is ahead of `other` (a later record or segment).
    pub fn is_after(&self, other: &AuditAnchor) -> bool {
        (self.segment, self.seq) > (other.segment, other.seq)
    }
}

/// The append-only, HMAC-chained JSON-lines audit log.
pub struct FileAuditLog {
    path: PathBuf,
    mac: ChainMac,
    sync: bool,
    state: Mutex<FileState>,
    syncs: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for FileAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileAuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileAuditLog {
    /// Opens (or creates, mode 0600) the log at `path` and continues its
    /// chain. With `sync`, every record is fsync'd before the operation
    /// returns; otherwise it is written to the OS before it returns.
    pub fn open(path: impl AsRef<Path>, mac: ChainMac, sync: bool) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = path.as_ref().to_path_buf();
        let io = |e: std::io::Error| Error::Audit(format!("{}: {e}", path.display()));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        let log = FileAuditLog {
            path,
            mac,
            sync,
            syncs: std::sync::atomic::AtomicU64::new(0),
            state: Mutex::new(FileState {
                file,
                seq: 0,
                prev: GENESIS.to_owned(),
                end: 0,
                last_start: 0,
            }),
        };
        log.locked(|_| Ok(()))?;
        Ok(log)
    }

    /// Runs `f` on the log's state under the process-wide mutex and the
    /// exclusive file lock that every process appending to this log takes,
    /// after catching up with what other processes appended: each writer
    /// continues the one chain from the head it reads under the lock.
    fn locked<T>(&self, f: impl FnOnce(&mut FileState) -> Result<T>) -> Result<T> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::Audit("log lock poisoned".into()))?;
        let io = |e: std::io::Error| Error::Audit(format!("{}: {e}", self.path.display()));
        st.file.lock().map_err(io)?;
        let r = catch_up(&mut st)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::Other => {
                    Error::AuditLogTampered(format!("{}: {e}", self.path.display()))
                }
                _ => io(e),
            })
            .and_then(|()| f(&mut st));
        let unlocked = st.file.unlock().map_err(io);
        let v = r?;
        unlocked?;
        Ok(v)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sequence number and MAC of the last record written (the anchor
    /// the key store keeps to notice a truncated tail).
    pub fn head(&self) -> Result<(u64, String)> {
        self.locked(|st| Ok((st.seq, st.prev.clone())))
    }

    /// The anchor of the last record in `segment` (`None` while the log is
    /// empty).
    pub fn anchor(&self, segment: u64) -> Result<Option<AuditAnchor>> {
        self.locked(|st| {
            // The anchor is committed durably; the records it vouches for
            // must be on disk first, or a power loss would leave a correct
            // log that ends before its anchor.
            st.file
                .sync_data()
                .map_err(|e| Error::Audit(format!("{}: {e}", self.path.display())))?;
            Ok((st.seq > 0).then(|| AuditAnchor {
                segment,
                seq: st.seq - 1,
                mac: st.prev.clone(),
                offset: Some(st.last_start),
            }))
        })
    }

    /// Whether the log holds the record `anchor` names, with its MAC:
    /// `Ok(None)` if so, else why not (the log was cut short, rewritten or
    /// replaced).
    pub fn check_anchor(&self, anchor: &AuditAnchor) -> Result<Option<String>> {
        self.locked(|st| {
            if st.seq <= anchor.seq {
                return Ok(Some(format!(
                    "the log ends at record {} but record {} was written (records were removed from its end)",
                    st.seq as i64 - 1,
                    anchor.seq
                )));
            }
            let io = |e: std::io::Error| Error::Audit(format!("{}: {e}", self.path.display()));
            // The offset is the fast way; a line damaged earlier in the log
            // (kept as evidence, for verification to report) moves the
            // records after it, so a miss there searches by number.
            let at_offset = match anchor.offset {
                Some(offset) => read_record_at(&st.file, offset).map_err(io)?,
                None => None,
            };
            let found = match at_offset {
                Some((seq, mac)) if seq == anchor.seq => Some((seq, mac)),
                _ => find_record(&st.file, anchor.seq).map_err(io)?,
            };
            Ok(match found {
                Some((seq, mac)) if seq == anchor.seq && mac == anchor.mac => None,
                _ => Some(format!(
                    "record {} is not the one that was written (the log was edited or replaced)",
                    anchor.seq
                )),
            })
        })
    }
}

impl AuditLog for FileAuditLog {
    fn location(&self) -> String {
        self.path.display().to_string()
    }
    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }
    fn head(&self) -> Result<(u64, String)> {
        FileAuditLog::head(self)
    }
    fn anchor(&self, segment: u64) -> Result<Option<AuditAnchor>> {
        FileAuditLog::anchor(self, segment)
    }
    fn check_anchor(&self, anchor: &AuditAnchor) -> Result<Option<String>> {
        FileAuditLog::check_anchor(self, anchor)
    }
    fn verify(&self, _segment: u64, anchor: Option<(u64, String)>) -> Result<AuditReport> {
        verify_log(&self.path, &self.mac, anchor)
    }
    fn lines(&self, _segment: u64, after: Option<u64>, limit: usize) -> Result<Vec<(u64, String)>> {
        let io = |e: std::io::Error| Error::Audit(format!("{}: {e}", self.path.display()));
        let reader = BufReader::new(File::open(&self.path).map_err(io)?);
        let mut out = Vec::new();
        for raw in reader.split(b'\n') {
            let raw = raw.map_err(io)?;
            let line = String::from_utf8_lossy(&raw).into_owned();
            if let Some((seq, _)) = parse_head(&line) {
                if after.is_none_or(|a| seq > a) {
                    out.push((seq, line));
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
    fn new_segment(
        self: Box<Self>,
        segment: u64,
        now_ms: i64,
    ) -> Result<(Box<dyn AuditLog>, String)> {
        let (path, mac, sync) = (self.path.clone(), self.mac.clone(), self.sync);
        drop(self);
        // The current file moves aside, kept as evidence; a new, empty log
        // takes its place.
        let mut moved = path.as_os_str().to_owned();
        moved.push(format!(".segment-{}-{now_ms}", segment.saturating_sub(1)));
        let moved = PathBuf::from(moved);
        std::fs::rename(&path, &moved)
            .map_err(|e| Error::Audit(format!("moving {} aside: {e}", path.display())))?;
        let log = FileAuditLog::open(&path, mac, sync)?;
        Ok((Box::new(log), moved.display().to_string()))
    }
}

impl FileAuditLog {
    /// How many records were fsync'd since the log was opened (for tests
    /// and monitoring).
    pub fn sync_count(&self) -> u64 {
        self.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The line of record `seq` after the record whose MAC is `prev` (without
/// the newline), and its MAC.
pub(crate) fn chained_line(
    mac: &ChainMac,
    seq: u64,
    prev: &str,
    event: &AuditEvent,
) -> Result<(String, String)> {
    writer_line(mac, None, seq, prev, event)
}

/// [`chained_line`] for the chain of `writer` (`None`: the one chain of a
/// file, or a database's chain of changes to keys).
pub(crate) fn writer_line(
    mac: &ChainMac,
    writer: Option<u64>,
    seq: u64,
    prev: &str,
    event: &AuditEvent,
) -> Result<(String, String)> {
    let rec = ChainedRecord {
        seq,
        prev: prev.to_owned(),
        writer,
        event: event.clone(),
    };
    let body = serde_json::to_string(&rec).map_err(|e| Error::Audit(e.to_string()))?;
    let m = hex(&mac(body.as_bytes())?);
    let mut line = body;
    line.pop(); // the closing brace
    line.push_str(&format!(",\"mac\":\"{m}\"}}"));
    Ok((line, m))
}

/// The (sequence number, MAC) a line holds, if it is a record.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn line_head(line: &str) -> Option<(u64, String)> {
    parse_head(line)
}

impl AuditSink for FileAuditLog {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        self.locked(|st| {
            let (mut line, mac) = chained_line(&self.mac, st.seq, &st.prev, event)?;
            line.push('\n');
            let io = |e: std::io::Error| Error::Audit(format!("{}: {e}", self.path.display()));
            st.file.write_all(line.as_bytes()).map_err(io)?;
            // A change to keys is committed to the metadata store right after
            // its record (which SQLite makes durable, synchronous=FULL): the
            // record is made durable first, so a power loss cannot keep the
            // change and lose its record. Other records follow `sync`.
            if self.sync || event.operation.is_mutation() {
                st.file.sync_data().map_err(io)?;
                self.syncs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            st.seq += 1;
            st.prev = mac;
            st.last_start = st.end;
            st.end += line.len() as u64;
            Ok(())
        })
    }
}

/// The (seq, MAC) of the record whose line starts at `offset`.
fn read_record_at(file: &File, offset: u64) -> std::io::Result<Option<(u64, String)>> {
    use std::io::{Seek, SeekFrom};
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(offset))?;
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(parse_head(&String::from_utf8_lossy(&line)))
}

/// The (seq, MAC) of record `seq`, searched from the start.
fn find_record(file: &File, seq: u64) -> std::io::Result<Option<(u64, String)>> {
    use std::io::{Seek, SeekFrom};
    // Read as `catch_up` reads: a damaged (even non-UTF-8) line is only
    // "not this record".
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if let Some(found) = parse_head(&String::from_utf8_lossy(&line)) {
            if found.0 == seq {
                return Ok(Some(found));
            }
        }
    }
}

fn parse_head(line: &str) -> Option<(u64, String)> {
    let (body, mac) = split_line(line)?;
    let rec: ChainedRecord = serde_json::from_str(&body).ok()?;
    Some((rec.seq, mac.to_owned()))
}

/// Reads what was appended to the log since `st.end` (by this process
/// before it opened the log, or by other processes since): the chain head
/// moves to the last complete record. Called under the file lock, so a
/// torn tail (bytes after the last newline) can only be what a writer that
/// died mid-write left: it is cut off, unless it is a whole record but for
/// its newline, which is kept. A damaged line in the middle is left in
/// place as evidence, for `verify_log` to report.
fn catch_up(st: &mut FileState) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let len = st.file.metadata()?.len();
    if len == st.end {
        return Ok(());
    }
    if len < st.end {
        return Err(std::io::Error::other(format!(
            "the audit log shrank from {} to {len} bytes while in use (records were removed)",
            st.end
        )));
    }
    let mut reader = BufReader::new(&st.file);
    reader.seek(SeekFrom::Start(st.end))?;
    let (mut seq, mut prev) = (st.seq, st.prev.clone());
    let (mut complete_end, mut pos) = (st.end, st.end);
    let mut last_start = st.last_start;
    let mut line = Vec::new();
    let mut add_newline = false;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            let text = String::from_utf8_lossy(&line);
            let whole = split_line(&text)
                .and_then(|(body, m)| {
                    serde_json::from_str::<ChainedRecord>(&body)
                        .ok()
                        .map(|r| (r, m.to_owned()))
                })
                .filter(|(r, _)| r.seq == seq && r.prev == prev);
            if let Some((r, m)) = whole {
                add_newline = true;
                seq = r.seq + 1;
                prev = m;
                last_start = pos;
                complete_end = pos + n as u64 + 1;
            }
            break;
        }
        let start = pos;
        pos += n as u64;
        complete_end = pos;
        let text = String::from_utf8_lossy(&line[..n - 1]);
        if let Some((body, m)) = split_line(&text) {
            if let Ok(rec) = serde_json::from_str::<ChainedRecord>(&body) {
                seq = rec.seq + 1;
                prev = m.to_owned();
                last_start = start;
            }
        }
    }
    drop(reader);
    if add_newline {
        (&st.file).write_all(b"\n")?;
    } else if len > complete_end {
        st.file.set_len(complete_end)?;
    }
    st.seq = seq;
    st.prev = prev;
    st.end = complete_end;
    st.last_start = last_start;
    Ok(())
}

/// A function of the host application that receives audit events.
pub type AuditCallback = Arc<dyn Fn(&AuditEvent) -> Result<()> + Send + Sync>;

/// A sink that calls a function of the host application.
pub struct CallbackSink(pub AuditCallback);

impl std::fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackSink(..)")
    }
}

impl AuditSink for CallbackSink {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        (self.0)(event)
    }
}

/// What [`verify_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Records that verified.
    pub records: u64,
    /// The first problem: (1-based line number, what is wrong). `None`
    /// when the whole log verifies.
    pub first_error: Option<(u64, String)>,
}

impl AuditReport {
    /// Whether the log verified completely.
    pub fn ok(&self) -> bool {
        self.first_error.is_none()
    }
}

/// Verifies the chain of a log file. `anchor` is the (sequence number,
/// MAC) of a record the key store knows was written, to detect a removed
/// tail.
pub fn verify_log(
    path: impl AsRef<Path>,
    mac: &ChainMac,
    anchor: Option<(u64, String)>,
) -> Result<AuditReport> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::Audit(format!("{}: {e}", path.display())))?;
    // Lines end in exactly "\n", as the writer (and `catch_up`) read them: a
    // "\r" before it is not part of any record the writer made.
    let mut reader = BufReader::new(file);
    verify_lines(
        || {
            let mut raw = Vec::new();
            let got = reader
                .read_until(b'\n', &mut raw)
                .map_err(|e| Error::Audit(e.to_string()))?;
            if got == 0 {
                return Ok(None);
            }
            if raw.last() == Some(&b'\n') {
                raw.pop();
            }
            Ok(Some(raw))
        },
        mac,
        anchor,
    )
}

/// Verifies a chain given line by line (`next` yields each line without its
/// newline, `None` at the end), from record 0. `anchor` is the (sequence
/// number, MAC) of a record known to have been written, to detect a
/// removed tail.
pub fn verify_lines(
    next: impl FnMut() -> Result<Option<Vec<u8>>>,
    mac: &ChainMac,
    anchor: Option<(u64, String)>,
) -> Result<AuditReport> {
    verify_chain(next, mac, anchor, None)
}

/// [`verify_lines`] for the chain of `writer`: every record must name it
/// (`None`: name none).
pub(crate) fn verify_chain(
    mut next: impl FnMut() -> Result<Option<Vec<u8>>>,
    mac: &ChainMac,
    anchor: Option<(u64, String)>,
    writer: Option<u64>,
) -> Result<AuditReport> {
    let (mut expect_seq, mut prev, mut n) = (0u64, GENESIS.to_owned(), 0u64);
    let mut macs_seen: Option<(u64, String)> = None;
    let fail = |n: u64, why: String, records: u64| {
        Ok(AuditReport {
            records,
            first_error: Some((n, why)),
        })
    };
    let mut i = 0u64;
    while let Some(raw) = next()? {
        i += 1;
        let lineno = i;
        let line = String::from_utf8_lossy(&raw).into_owned();
        let Some((body, m)) = split_line(&line) else {
            return fail(lineno, "not an audit record (no MAC)".into(), n);
        };
        let expected = hex(&mac(body.as_bytes())?);
        if !crate::crypto::ct_eq(expected.as_bytes(), m.as_bytes()) {
            return fail(
                lineno,
                "MAC does not verify: the record was edited or inserted".into(),
                n,
            );
        }
        let rec: ChainedRecord = match serde_json::from_str(&body) {
            Ok(r) => r,
            Err(e) => return fail(lineno, format!("malformed record: {e}"), n),
        };
        if rec.writer != writer {
            return fail(
                lineno,
                format!(
                    "record of {} found in the chain of {} (moved between chains)",
                    chain_name(rec.writer),
                    chain_name(writer)
                ),
                n,
            );
        }
        if rec.seq != expect_seq || rec.prev != prev {
            return fail(lineno, format!("chain broken: expected record {expect_seq}, found {} (records removed or reordered)", rec.seq), n);
        }
        expect_seq += 1;
        prev = m.to_owned();
        n += 1;
        macs_seen = Some((rec.seq, prev.clone()));
        if let Some((aseq, amac)) = &anchor {
            if rec.seq == *aseq && &prev != amac {
                return fail(
                    lineno,
                    "record differs from the one the key store anchored".into(),
                    n,
                );
            }
        }
    }
    if let Some((aseq, _)) = anchor {
        if macs_seen.as_ref().is_none_or(|(s, _)| *s < aseq) {
            return fail(n + 1, format!("log ends before record {aseq}, which the key store knows was written (tail removed)"), n);
        }
    }
    Ok(AuditReport {
        records: n,
        first_error: None,
    })
}

fn chain_name(writer: Option<u64>) -> String {
    match writer {
        Some(w) => format!("writer {w}"),
        None => "the main chain".to_owned(),
    }
}

/// RFC 3339 UTC with milliseconds for a Unix time in milliseconds.
pub fn rfc3339_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_795_000_000_123),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
