//! The key store's side of the audit trail: writing every record to the
//! file and the sinks, anchoring the head in the metadata store, verifying.

use std::path::Path;

use super::*;
use crate::audit::{self, AuditEvent, AuditLog, AuditReport};
use crate::error::{Error, Result};

impl KeyStore {
    // ------------------------------------------------------------- audit --

    /// Records the audit log's head in the metadata store (moving the
    /// anchor forward only), so that a log whose tail was removed is
    /// refused at open and fails verification. Done after every change to
    /// keys and, for data-plane records, as the anchoring policy says.
    pub(super) fn store_audit_anchor(&self) -> Result<()> {
        if let Some(f) = &self.inner.audit_log {
            let segment = self.inner.segment.load(std::sync::atomic::Ordering::SeqCst);
            if let Some(anchor) = f.anchor(segment)? {
                self.inner.store.advance_audit_anchor(&anchor)?;
            }
        }
        if let Ok(mut u) = self.inner.unanchored.lock() {
            *u = (0, std::time::Instant::now());
        }
        Ok(())
    }

    /// After a data-plane record: anchors when the policy's count or time
    /// has been reached. A failure to anchor (the metadata store is busy or
    /// gone) leaves the records for the next anchor; it does not undo an
    /// operation whose record was written.
    pub(super) fn anchor_when_due(&self) {
        if self.inner.audit_log.is_none() {
            return;
        }
        let due = match self.inner.unanchored.lock() {
            Ok(mut u) => {
                u.0 += 1;
                let p = self.inner.anchoring;
                u.0 >= p.max_records || u.1.elapsed() >= p.max_interval
            }
            Err(_) => false,
        };
        if due {
            let _ = self.store_audit_anchor();
        }
    }

    /// Verifies the audit log: reports the first edited, inserted,
    /// removed or reordered record, and a log that ends before the last
    /// record anchored in the metadata store.
    pub fn verify_audit_log(&self) -> Result<AuditReport> {
        let f = self.log()?;
        let (segment, anchor) = self.current_segment()?;
        f.verify(segment, anchor)
    }

    fn log(&self) -> Result<&dyn AuditLog> {
        self.inner
            .audit_log
            .as_deref()
            .ok_or_else(|| Error::Audit("this key store has no audit log".into()))
    }

    /// The segment being written and the anchor (sequence number and MAC)
    /// of its last record known to have been written.
    fn current_segment(&self) -> Result<(u64, Option<(u64, String)>)> {
        let mine = self.inner.segment.load(std::sync::atomic::Ordering::SeqCst);
        let stored = self.inner.store.audit_anchor()?;
        // Another process may have started a newer segment in a log that
        // the database holds.
        let segment = match (&stored, self.audit_log_path()) {
            (Some(a), None) => a.segment.max(mine),
            _ => mine,
        };
        let anchor = stored
            .filter(|a| a.segment == segment)
            .map(|a| (a.seq, a.mac));
        Ok((segment, anchor))
    }

    /// The records of the current audit segment after position `after`
    /// (from the first with `None`), at most `limit`, as (position, JSON
    /// line): for `sealbox audit tail` and `audit export`. In a log file the
    /// position is the record's sequence number; in a PostgreSQL store, a
    /// number naming the row, the records in the order of the transactions
    /// that wrote them, every writer's chain together (a record's own chain
    /// and `seq` are in its line).
    pub fn audit_records(&self, after: Option<u64>, limit: usize) -> Result<Vec<(u64, String)>> {
        let f = self.log()?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (segment, _) = self.current_segment()?;
        f.lines(segment, after, limit)
    }

    /// The last `n` records of the current audit segment, in the order of
    /// [`KeyStore::audit_records`]: `sealbox audit tail -n N` (page on with
    /// the last one's position to follow the trail).
    pub fn audit_last_records(&self, n: usize) -> Result<Vec<(u64, String)>> {
        let f = self.log()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let (segment, _) = self.current_segment()?;
        f.last_lines(segment, n)
    }

    /// Where the audit log is, for messages (a path, or the database).
    pub fn audit_log_location(&self) -> Option<String> {
        self.inner.audit_log.as_ref().map(|f| f.location())
    }

    /// The audit log file, if the log is a file.
    pub fn audit_log_path(&self) -> Option<&Path> {
        self.inner.audit_log.as_ref().and_then(|f| f.path())
    }
}

/// Starts a new audit log segment (an operator's explicit decision, see
/// `KeyStoreOptions::new_audit_segment`): the current segment is kept as
/// evidence (a file moves aside; a database keeps its rows) and the log
/// continues in a new one. Returns the log and the detail its first record
/// (`StartAuditSegment`) carries.
pub(super) fn replace_log(
    old: Box<dyn AuditLog>,
    options: &KeyStoreOptions,
    anchor: &Option<audit::AuditAnchor>,
    damage: Option<String>,
    reason: &str,
) -> Result<(Box<dyn AuditLog>, String)> {
    if reason.trim().is_empty() {
        return Err(Error::InvalidArgument(
            "a new audit segment needs a reason".into(),
        ));
    }
    let segment = anchor.as_ref().map_or(0, |a| a.segment);
    let head = old.head()?;
    let (log, kept) = old.new_segment(segment + 1, options.clock.now_millis())?;
    let anchored = match anchor {
        Some(a) => format!("anchored head record {} (MAC {})", a.seq, a.mac),
        None => "no anchored head".to_owned(),
    };
    let state = match damage {
        Some(why) => format!("damaged: {why}"),
        None => "intact".to_owned(),
    };
    let detail = format!(
        "segment {} begins; segment {segment}: {anchored}, log ends at record {} (MAC {}), \
         {state}; kept as {kept}; reason: {reason}",
        segment + 1,
        head.0 as i64 - 1,
        head.1,
    );
    Ok((log, detail))
}

impl Inner {
    pub(super) fn write_audit(&self, event: &AuditEvent) -> Result<()> {
        if let Some(f) = &self.audit_log {
            f.record(event)?;
        }
        let sinks = self
            .sinks
            .read()
            .map_err(|_| Error::Audit("sink list poisoned".into()))?;
        for s in sinks.iter() {
            s.record(event).map_err(|e| match e {
                Error::Audit(m) => Error::Audit(m),
                other => Error::Audit(format!("audit sink failed: {other}")),
            })?;
        }
        Ok(())
    }
}

impl Drop for Inner {
    /// The last records of this process are anchored when its store goes
    /// away (best effort: the anchoring policy bounds what a crash leaves).
    fn drop(&mut self) {
        if let Some(f) = &self.audit_log {
            let segment = self.segment.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(Some(anchor)) = f.anchor(segment) {
                let _ = self.store.advance_audit_anchor(&anchor);
            }
        }
    }
}
