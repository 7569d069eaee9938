//! The key store's side of the audit trail: writing every record to the
//! file and the sinks, anchoring the head in the metadata store, verifying.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::audit::{self, AuditEvent, AuditReport, ChainMac};
use crate::error::{Error, Result};

impl KeyStore {
    // ------------------------------------------------------------- audit --

    /// Records the audit log's head in the metadata store, so that a log
    /// whose tail was removed fails verification. Done after every change
    /// to keys (which writes the metadata store anyway), not after every use.
    pub(super) fn store_audit_anchor(&self) -> Result<()> {
        if let Some(f) = &self.inner.audit_file {
            let (next, mac) = f.head()?;
            if next > 0 {
                self.inner
                    .store
                    .set_meta("audit_anchor", format!("{}:{mac}", next - 1).as_bytes())?;
            }
        }
        Ok(())
    }

    /// Verifies the audit log file: reports the first edited, inserted,
    /// removed or reordered record, and a log that ends before the last
    /// record anchored in the metadata store.
    pub fn verify_audit_log(&self) -> Result<AuditReport> {
        let f = self
            .inner
            .audit_file
            .as_ref()
            .ok_or_else(|| Error::Audit("this key store has no audit log file".into()))?;
        let b = self.inner.backend.clone();
        let mac: ChainMac = Arc::new(move |d: &[u8]| b.audit_mac(d));
        let anchor = self.inner.store.meta("audit_anchor")?.and_then(|v| {
            let t = String::from_utf8(v).ok()?;
            let (seq, mac) = t.split_once(':')?;
            Some((seq.parse().ok()?, mac.to_owned()))
        });
        audit::verify_log(f.path(), &mac, anchor)
    }

    /// The audit log file, if any.
    pub fn audit_log_path(&self) -> Option<&Path> {
        self.inner.audit_file.as_ref().map(|f| f.path())
    }
}

impl Inner {
    pub(super) fn write_audit(&self, event: &AuditEvent) -> Result<()> {
        if let Some(f) = &self.audit_file {
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
