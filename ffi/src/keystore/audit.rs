//! `sealbox_audit_callback`: audit events delivered to C, the audit log's
//! records read back (`sealbox_audit_record_callback`), and its
//! verification.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use sealbox_core::audit::{AuditEvent, AuditSink};
use sealbox_core::Error;

use super::sealbox_keystore;
use crate::error::{sealbox_result, Failure};
use crate::values::{at_least_one, buffer, sealbox_buffer};

/// Receives every audit event of a key store, as one JSON object (the
/// fields of the audit log's records: time, operation, key_id, key_version,
/// principal, encryption_context, outcome, error, request_id).
///
/// Return 0 when the event is recorded; any other value makes the operation
/// fail with `SEALBOX_RESULT_AUDIT_ERROR` (an operation whose audit write fails
/// does not happen).
///
/// Ownership: `event_json` (not NUL-terminated) belongs to the library and
/// is valid only during the call; copy what you keep.
///
/// Thread safety: called on whichever thread runs the operation, possibly
/// on several threads at once; `userdata` must allow that. It must not call
/// back into the key store.
pub type sealbox_audit_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        event_json: *const u8,
        event_json_len: usize,
    ) -> c_int,
>;

/// An audit sink that calls into C.
#[derive(Debug)]
struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    // The caller promised the pointer may be used from any thread.
    userdata: usize,
}

impl AuditSink for CallbackSink {
    fn record(&self, event: &AuditEvent) -> sealbox_core::Result<()> {
        let json = serde_json::to_vec(event).map_err(|e| Error::Audit(e.to_string()))?;
        // SAFETY: the application registered this callback and userdata
        // for exactly this use; the JSON outlives the call.
        let rc =
            unsafe { (self.callback)(self.userdata as *mut c_void, json.as_ptr(), json.len()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(Error::Audit(format!("the audit callback returned {rc}")))
        }
    }
}

/// Sends every later audit event of this store to `callback` as well (see
/// `sealbox_audit_callback`). Callbacks stay registered until the store
/// closes.
///
/// Ownership: `userdata` is passed back to `callback` and must stay valid
/// until the key store (and every keyring made from it) is freed.
///
/// Thread safety: safe to call concurrently; the callback itself runs on
/// any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_add_audit_callback(
    keystore: *const sealbox_keystore,
    callback: sealbox_audit_callback,
    userdata: *mut c_void,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        ks.add_audit_sink(Arc::new(CallbackSink {
            callback,
            userdata: userdata as usize,
        }));
        Ok(())
    }
}

/// Verifies the HMAC chain of the audit log. The call succeeds when the log
/// could be read: `*out_records` is the number of records that verified and
/// `*out_first_bad_line` is 0 when the whole log verified, otherwise the
/// 1-based line of the first edited, inserted or missing record; then
/// `*out_problem` (unless NULL) receives a description (NULL when the log
/// verified).
///
/// Ownership: the caller frees `*out_problem` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify_audit_log(
    keystore: *const sealbox_keystore,
    out_records: *mut u64,
    out_first_bad_line: *mut u64,
    out_problem: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out_records = try_out!(out_records);
        let out_first_bad_line = try_out!(out_first_bad_line);
        let out_problem = opt_out!(out_problem);
        let report = ks.verify_audit_log()?;
        out_records.write(report.records);
        match report.first_error {
            None => {
                out_first_bad_line.write(0);
                out_problem.write(std::ptr::null_mut());
            }
            Some((line, what)) => {
                out_first_bad_line.write(line.max(1));
                if out_problem.wanted() {
                    out_problem.write(buffer(what.into_bytes()));
                }
            }
        }
        Ok(())
    }
}

/// Receives one record of the audit log from `sealbox_keystore_audit_records`:
/// its position in the current segment (in a log file its sequence number;
/// in a database a number naming the row: records come in the order of the
/// transactions that wrote them, every writer's together) and the record as
/// the log holds it (one JSON object with its chain `mac`).
///
/// Return 0 to go on; any other value stops the walk early (the call still
/// succeeds).
///
/// Ownership: `line` (not NUL-terminated) belongs to the library and is
/// valid only during the call; copy what you keep.
///
/// Thread safety: called on the thread that called
/// `sealbox_keystore_audit_records`, once per record, in order. It must not
/// call back into the key store.
pub type sealbox_audit_record_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        seq: u64,
        line: *const u8,
        line_len: usize,
    ) -> c_int,
>;

/// Reads the records of the current audit segment (the log file, or the
/// database of a PostgreSQL store) after position `*after` (from the first
/// when `after` is NULL), at most `limit` (at least 1), and hands each to
/// `callback` in order. `*out_count` (unless NULL) is the number of calls
/// made. Page on with the last position received.
///
/// Ownership: borrows the arguments for the call; `userdata` is only
/// passed back to `callback` during it.
///
/// Thread safety: safe to call concurrently; `callback` runs on the
/// calling thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_audit_records(
    keystore: *const sealbox_keystore,
    after: *const u64,
    limit: usize,
    callback: sealbox_audit_record_callback,
    userdata: *mut c_void,
    out_count: *mut usize,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        let limit = at_least_one(limit, "limit")?;
        // SAFETY: the caller passes NULL or a readable `uint64_t`.
        let after = unsafe { after.as_ref() }.copied();
        let out_count = opt_out!(out_count);
        let records = ks.audit_records(after, limit)?;
        let mut calls = 0;
        for (seq, line) in &records {
            calls += 1;
            // SAFETY: the application gave this callback and userdata for
            // this call; the line outlives the callback.
            let rc = unsafe { callback(userdata, *seq, line.as_ptr(), line.len()) };
            if rc != 0 {
                break;
            }
        }
        out_count.write(calls);
        Ok(())
    }
}
