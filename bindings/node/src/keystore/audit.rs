//! The audit trail as JS sees it: the `onAudit` callback, operation counts,
//! and the check of the audit log file.

use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
    ErrorStrategy, ThreadSafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::JsFunction;
use napi_derive::napi;
use sealbox::audit::AuditSink;

use super::KeyStore;
use crate::args::{whole, MAX_SAFE};
use crate::impls::debug_opaque;
use crate::task::{twins, Job};

/// The first problem `verifyAuditLog` found.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditProblem {
    /// 1-based line number in the log file.
    pub line: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// What `verifyAuditLog` found.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditReport {
    /// Whether the whole log verified.
    pub ok: bool,
    /// Records that verified.
    pub records: i64,
    /// The first edited, inserted, removed or reordered record, if any.
    pub first_error: Option<AuditProblem>,
}

impl From<sealbox::audit::AuditReport> for AuditReport {
    fn from(r: sealbox::audit::AuditReport) -> Self {
        AuditReport {
            ok: r.ok(),
            records: r.records as i64,
            first_error: r.first_error.map(|(line, reason)| AuditProblem {
                line: line as i64,
                reason,
            }),
        }
    }
}

/// One record of the audit log, as `auditRecords` returns it.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditRecord {
    /// Its position in the current segment: in a log file its sequence
    /// number; in a database a number naming the row (records come in the
    /// order of the transactions that wrote them; the record's own chain
    /// and `seq` are in `line`).
    pub seq: i64,
    /// The record: one JSON object, as the log file holds it (with its
    /// chain `mac`).
    pub line: String,
}

/// One audited key-store operation, as the `onAudit` callback gets it.
/// Never carries plaintext or key material.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AuditEvent {
    /// RFC 3339 UTC time with milliseconds.
    pub time: String,
    /// The operation, named as in the AWS KMS API (`Encrypt`, `CreateKey`, ...).
    pub operation: String,
    /// The key, when the operation names one.
    pub key_id: Option<String>,
    /// The key version used, when one was.
    pub key_version: Option<u32>,
    /// ReEncrypt: the key that decrypted the source blob.
    pub source_key_id: Option<String>,
    /// ReEncrypt: the version of the source key.
    pub source_key_version: Option<u32>,
    /// StartAuditSegment: the previous segment's head and the reason.
    pub detail: Option<String>,
    /// Who asked (the key store's principal).
    pub principal: String,
    /// The encryption context of symmetric operations.
    pub encryption_context: Option<HashMap<String, String>>,
    /// `allowed`, `denied` (refused by the key's policy and grants) or
    /// `failed`.
    #[napi(ts_type = "'allowed' | 'denied' | 'failed'")]
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// A UUID per request.
    pub request_id: String,
}

impl From<&sealbox::audit::AuditEvent> for AuditEvent {
    fn from(e: &sealbox::audit::AuditEvent) -> Self {
        AuditEvent {
            time: e.time.clone(),
            operation: e.operation.as_str().to_owned(),
            key_id: e.key_id.clone(),
            key_version: e.key_version,
            source_key_id: e.source_key_id.clone(),
            source_key_version: e.source_key_version,
            detail: e.detail.clone(),
            principal: e.principal.clone(),
            encryption_context: e
                .encryption_context
                .as_ref()
                .map(|ec| ec.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            outcome: e.outcome.as_str().to_owned(),
            error: e.error.clone(),
            request_id: e.request_id.clone(),
        }
    }
}

/// The `onAudit` sink: hands each event to the JS callback on the event
/// loop. Node runs JS on one thread, and operations run on the thread pool
/// while that thread may itself wait on the key store, so the callback is
/// a notification, queued in order: it cannot veto or delay the operation.
/// The durable, tamper-evident record is the audit log file, written
/// before the operation takes effect.
struct JsAuditSink(ThreadsafeFunction<AuditEvent, ErrorStrategy::Fatal>);

debug_opaque!(JsAuditSink);

impl AuditSink for JsAuditSink {
    fn record(&self, event: &sealbox::audit::AuditEvent) -> sealbox::Result<()> {
        match self.0.call(
            AuditEvent::from(event),
            ThreadsafeFunctionCallMode::NonBlocking,
        ) {
            Status::Ok => Ok(()),
            s => Err(sealbox::Error::Audit(format!(
                "the audit callback could not be queued ({s})"
            ))),
        }
    }
}

#[napi]
impl KeyStore {
    /// How many times `operation` (e.g. `GenerateDataKey`) was allowed since
    /// this store was opened.
    #[napi]
    pub fn operation_count(&self, operation: String) -> i64 {
        self.inner.operation_count(&operation) as i64
    }

    /// Calls `callback` with every audit event (allowed or failed) of this
    /// key store, in order, on the event loop. The callback observes; it
    /// cannot stop an operation (the audit log file is the durable record).
    /// An exception thrown by the callback is raised as an uncaught
    /// exception, as an event listener's would be.
    #[napi(ts_args_type = "callback: (event: AuditEvent) => void")]
    pub fn on_audit(&self, env: Env, callback: JsFunction) -> Result<()> {
        let mut tsfn: ThreadsafeFunction<AuditEvent, ErrorStrategy::Fatal> = callback
            .create_threadsafe_function(0, |ctx: ThreadSafeCallContext<AuditEvent>| {
                Ok(vec![ctx.value])
            })?;
        // A listener must not keep the process alive on its own.
        tsfn.unref(&env)?;
        self.inner.add_audit_sink(Arc::new(JsAuditSink(tsfn)));
        Ok(())
    }

    /// The audit log file, if the store has one (none on PostgreSQL, whose
    /// audit trail is in the database).
    #[napi(getter)]
    pub fn audit_log_path(&self) -> Option<String> {
        self.inner
            .audit_log_path()
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// Where the audit log is, for messages: its file, or the database.
    #[napi(getter)]
    pub fn audit_log_location(&self) -> Option<String> {
        self.inner.audit_log_location()
    }

    /// The propagation bound this store works with, in milliseconds (see
    /// `metadataCacheTtlMs` of `OpenOptions`).
    #[napi]
    pub fn metadata_cache_ttl_ms(&self) -> f64 {
        self.inner.metadata_cache_ttl().as_secs_f64() * 1000.0
    }
}

/// The checked arguments of `auditRecords`.
fn records_job(after: Option<f64>, limit: Option<f64>) -> Result<(Option<u64>, usize)> {
    let after = after.map(|a| whole("after", a, 0, MAX_SAFE)).transpose()?;
    let limit = match limit {
        Some(l) => whole("limit", l, 1, MAX_SAFE)? as usize,
        None => 1000,
    };
    Ok((after, limit))
}

twins! {
    impl KeyStore {
        #[doc = " Verifies the audit log's HMAC chain (its file, or its table on"]
        #[doc = " PostgreSQL): reports the first edited, inserted, removed or"]
        #[doc = " reordered record."]
        #[promise("Promise<AuditReport>")]
        #[doc = " verifyAuditLog, blocking."]
        fn verify_audit_log, verify_audit_log_sync(&self) -> AuditReport {
            let k = self.ks();
            Ok(Job::new(move || Ok(k.verify_audit_log()?.into())))
        }

        #[doc = " The records of the current audit segment (file or database) after"]
        #[doc = " position `after` (from the first when absent), at most `limit`"]
        #[doc = " (default 1000). Page on with the last `seq` returned."]
        #[promise("Promise<Array<AuditRecord>>")]
        #[doc = " auditRecords, blocking."]
        fn audit_records, audit_records_sync(&self, after: Option<f64>, limit: Option<f64>) -> Vec<AuditRecord> {
            let (after, limit) = records_job(after, limit)?;
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(k.audit_records(after, limit)?
                    .into_iter()
                    .map(|(seq, line)| AuditRecord { seq: seq as i64, line })
                    .collect())
            }))
        }
    }
}
