//! The PostgreSQL metadata store: one database that every process of a
//! fleet shares (keys, versions, aliases, tags, sealed material or token
//! handles, and the audit trail).
//!
//! - Opened by URL (`postgresql://user:password@host:port/db?sslmode=...`);
//!   `sslmode` and `sslrootcert` are passed through (TLS by rustls on
//!   aws-lc; the server certificate is always verified, see
//!   [`PostgresStore::open`]).
//! - A small pool of connections; a connection the server closed (restart,
//!   failover) is dropped and the next call connects again, so one handle
//!   outlives a server restart. While the server is down every call fails
//!   fast with [`Error::StoreUnavailable`] and changes nothing.
//! - Every change is one transaction; the change lock that several
//!   processes take (`MetadataStore::change_lock`) is a session advisory
//!   lock, which the server releases by itself when a process dies.
//! - Schema migrations are numbered and applied at open under an advisory
//!   lock, so several processes starting together migrate once.
//! - The audit trail is the table `audit_log`: the same chained, MAC'd
//!   lines as the file log, appended in groups (one transaction per group
//!   of records from this process's threads) under a row lock on the
//!   anchor, which moves forward in the same transaction: the anchor and
//!   the log can never disagree, and rows cannot be updated or deleted
//!   (a trigger refuses it) without dropping the trigger first.

use crate::sync::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use super::{ChangeLock, KeyRecord, MacRow, MetadataStore, VersionRecord, AUDIT_ANCHOR};
use crate::audit::{self, AuditAnchor, AuditEvent, AuditLog, AuditReport, AuditSink, ChainMac};
use crate::error::{Error, Result};
use crate::keystore::types::KeyState;
use crate::keystore::KeyId;

mod secrets;

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgresql://") || location.starts_with("postgres://")
}

/// Schema migrations, applied in order; `schema_version` counts those done.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
     CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        spec TEXT NOT NULL,
        usage TEXT NOT NULL,
        origin TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('Enabled','Disabled','PendingDeletion')),
        deletion_date BIGINT,
        created_at BIGINT NOT NULL,
        primary_version BIGINT NOT NULL,
        rotation_period_days BIGINT,
        next_rotation_at BIGINT,
        backend TEXT NOT NULL);
     CREATE TABLE key_versions (
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        handle BYTEA NOT NULL,
        PRIMARY KEY (key_id, version));
     CREATE TABLE aliases (
        alias TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE);
     CREATE INDEX aliases_by_key ON aliases(key_id);
     CREATE TABLE tags (
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key));
     CREATE TABLE audit_log (
        segment BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (segment, seq));
     CREATE FUNCTION sealbox_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the sealbox audit log is append-only'; END $$;
     CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION sealbox_audit_append_only();
     CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION sealbox_audit_append_only();",
    // 2: key policies and grants (issue 16). A key without a policy row
    // has the default policy (every principal, every action).
    "CREATE TABLE key_policies (
        key_id TEXT PRIMARY KEY REFERENCES keys(key_id) ON DELETE CASCADE,
        policy TEXT NOT NULL);
     CREATE TABLE grants (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
        grant_json TEXT NOT NULL);
     CREATE INDEX grants_by_key ON grants(key_id);",
    // 3: secrets (issue 21): values sealed under a key-store key (never
    // plaintext), their versions and staging labels.
    "CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        key_id TEXT,
        tags TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_changed_at BIGINT NOT NULL,
        last_rotated_at BIGINT,
        deleted_at BIGINT,
        deletion_date BIGINT);
     CREATE TABLE secret_versions (
        name TEXT NOT NULL REFERENCES secrets(name) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('text','binary')),
        key_id TEXT NOT NULL,
        ciphertext BYTEA NOT NULL,
        PRIMARY KEY (name, version_id));
     CREATE TABLE secret_labels (
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (name, label),
        FOREIGN KEY (name, version_id) REFERENCES secret_versions(name, version_id) ON DELETE CASCADE);
     CREATE INDEX secrets_by_deletion ON secrets(deletion_date) WHERE deletion_date IS NOT NULL;",
    // 4: a MAC on every row whose change would change what a key may do
    // (issue 16): keys, versions, aliases, policies, grants. Empty in rows
    // written before; the key store seals them once, audited.
    "ALTER TABLE keys ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
     ALTER TABLE key_versions ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
     ALTER TABLE aliases ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
     ALTER TABLE key_policies ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
     ALTER TABLE grants ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;",
    // 5: a secret's resource policy (issue 21: `secretsmanager:` actions),
    // with a MAC under the backend's audit key binding it to the secret.
    "CREATE TABLE secret_policies (
        name TEXT PRIMARY KEY REFERENCES secrets(name) ON DELETE CASCADE,
        policy TEXT NOT NULL,
        mac BYTEA NOT NULL);",
    // 6: imported material that expires (issue 18): its expiration, and a
    // fingerprint so that only the same material is imported again.
    "ALTER TABLE key_versions ADD COLUMN valid_to BIGINT;
     ALTER TABLE key_versions ADD COLUMN fingerprint BYTEA NOT NULL DEFAULT ''::bytea;
     CREATE INDEX key_versions_by_valid_to ON key_versions(valid_to) WHERE valid_to IS NOT NULL;",
    // 7: one audit chain per writing process for data-plane records (issue
    // 15), beside the chain of changes to keys (writer 0): `writer`; the
    // position of each row (`pos`, rows from before numbered in their
    // chain's order) and the transaction that wrote it (`xid`), by which
    // tail and export read the trail in an order that a row committed late
    // cannot slip behind; each writer's anchor, which only moves forward.
    // Older sealbox processes must be stopped first: they would read the
    // writers' chains as one.
    "ALTER TABLE audit_log ADD COLUMN writer BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE audit_log ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
     ALTER TABLE audit_log ADD COLUMN pos BIGINT;
     ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
     UPDATE audit_log SET pos = o.n
       FROM (SELECT segment, seq, row_number() OVER (ORDER BY segment, seq) - 1 AS n FROM audit_log) o
       WHERE audit_log.segment = o.segment AND audit_log.seq = o.seq;
     ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;
     ALTER TABLE audit_log ALTER COLUMN pos SET NOT NULL;
     ALTER TABLE audit_log ALTER COLUMN pos ADD GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START WITH 0);
     SELECT setval(pg_get_serial_sequence('audit_log', 'pos'), max(pos)) FROM audit_log HAVING count(*) > 0;
     ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
     ALTER TABLE audit_log ADD PRIMARY KEY (segment, writer, seq);
     CREATE UNIQUE INDEX audit_log_by_pos ON audit_log(pos);
     CREATE INDEX audit_log_by_commit ON audit_log(segment, xid, pos);
     CREATE TABLE audit_writers (
        writer BIGINT PRIMARY KEY CHECK (writer > 0),
        segment BIGINT NOT NULL,
        head_seq BIGINT NOT NULL,
        head_mac TEXT NOT NULL,
        closed BOOLEAN NOT NULL DEFAULT false);
     CREATE FUNCTION sealbox_audit_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the sealbox audit anchors only move forward'; END $$;
     CREATE TRIGGER audit_writers_forward BEFORE UPDATE ON audit_writers
       FOR EACH ROW
       WHEN (NEW.writer <> OLD.writer OR NEW.segment <> OLD.segment
             OR NEW.head_seq < OLD.head_seq
             OR (NEW.head_seq = OLD.head_seq AND NEW.head_mac <> OLD.head_mac)
             OR (OLD.closed AND NOT NEW.closed))
       EXECUTE FUNCTION sealbox_audit_anchor_forward();
     CREATE TRIGGER audit_writers_no_delete BEFORE DELETE ON audit_writers
       FOR EACH ROW EXECUTE FUNCTION sealbox_audit_append_only();
     CREATE TRIGGER audit_writers_no_truncate BEFORE TRUNCATE ON audit_writers
       FOR EACH STATEMENT EXECUTE FUNCTION sealbox_audit_append_only();",
];

// Advisory lock keys (one 64-bit space per database): migrations, and the
// change lock of `MetadataStore::change_lock`.
const MIGRATION_LOCK: i64 = 0x5ea1_b0c5_0000_0001;
const CHANGE_LOCK: i64 = 0x5ea1_b0c5_0000_0002;
// Registration of audit writers, one at a time (`PgAuditLog::register_writer`).
const WRITER_LOCK: i64 = 0x5ea1_b0c5_0000_0003;

/// How long a connection attempt may take before the store is reported
/// unavailable (unless the URL sets `connect_timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Idle connections kept per store.
const MAX_IDLE: usize = 32;

/// Connections to one database.
struct Pool {
    config: Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    idle: Mutex<Vec<PgConn>>,
    // The URL without its password, for messages.
    display: String,
}

/// One connection and the statements prepared on it (the hot statements
/// are prepared once per connection, not once per call).
struct PgConn {
    client: Client,
    prepared: std::collections::HashMap<&'static str, postgres::Statement>,
}

impl PgConn {
    fn prepared(
        &mut self,
        sql: &'static str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }
}

/// A connection taken from the pool; back to it on drop unless broken.
struct Conn<'a> {
    pool: &'a Pool,
    client: Option<PgConn>,
    // Taken from the pool (may be stale after a server restart) rather
    // than connected just now.
    reused: bool,
    broken: bool,
}

impl Conn<'_> {
    fn pg(&mut self) -> &mut PgConn {
        // Present until drop.
        self.client.as_mut().unwrap_or_else(|| unreachable!())
    }

    fn client(&mut self) -> &mut Client {
        &mut self.pg().client
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !self.broken && !c.client.is_closed() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    if idle.len() < MAX_IDLE {
                        idle.push(c);
                    }
                }
            }
        }
    }
}

impl Pool {
    /// Runs `f` in one transaction (committed when it returns `Ok`).
    fn tx<T>(
        &self,
        mut f: impl FnMut(&mut postgres::Transaction<'_>) -> std::result::Result<T, TxError>,
    ) -> Result<T> {
        let mut refused = None;
        let r = self.run(|c| {
            let mut tx = c.transaction()?;
            match f(&mut tx) {
                Ok(v) => {
                    tx.commit()?;
                    Ok(Some(v))
                }
                Err(TxError::Db(e)) => Err(e),
                Err(TxError::Refused(e)) => {
                    refused = Some(e);
                    Ok(None)
                }
            }
        })?;
        match (r, refused) {
            (Some(v), _) => Ok(v),
            (None, Some(e)) => Err(e),
            (None, None) => Err(Error::Storage("transaction ended without a result".into())),
        }
    }

    fn connect(&self) -> Result<PgConn> {
        let r = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        Ok(PgConn {
            client: r.map_err(|e| self.error(&e))?,
            prepared: Default::default(),
        })
    }

    fn get(&self) -> Result<Conn<'_>> {
        let pooled = self
            .idle
            .lock()
            .map_err(|_| Error::Storage("connection pool poisoned".into()))?
            .pop();
        let (client, reused) = match pooled {
            Some(c) if !c.client.is_closed() => (c, true),
            _ => (self.connect()?, false),
        };
        Ok(Conn {
            pool: self,
            client: Some(client),
            reused,
            broken: false,
        })
    }

    /// Runs `f` on a connection. A connection the server had closed (it
    /// restarted since the connection was pooled) is replaced once; any
    /// other failure is reported. After a connection failure the idle
    /// connections are dropped too: they are most likely dead as well.
    fn run<T>(&self, mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>) -> Result<T> {
        self.run_pg(|c| f(&mut c.client))
    }

    /// [`Pool::run`] with the connection's prepared statements.
    fn run_pg<T>(&self, mut f: impl FnMut(&mut PgConn) -> Result<T, postgres::Error>) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.get()?;
            match f(conn.pg()) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = self.error(&e);
                    if matches!(err, Error::StoreUnavailable(_)) {
                        conn.broken = true;
                        if let Ok(mut idle) = self.idle.lock() {
                            idle.clear();
                        }
                        if conn.reused && attempt == 1 {
                            continue;
                        }
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Maps a client error to sealbox's: what the server refused (login,
    /// database, constraint) is a storage error with the server's words;
    /// a server that cannot be reached is `StoreUnavailable`.
    fn error(&self, e: &postgres::Error) -> Error {
        if let Some(db) = e.as_db_error() {
            let code = db.code().code();
            let what = format!("{} ({}): {}", self.display, code, db.message());
            return match code {
                // Authentication failed / no such role.
                "28P01" | "28000" => {
                    Error::Storage(format!("PostgreSQL refused the login: {what}"))
                }
                "3D000" => Error::Storage(format!("no such database: {what}")),
                // Shutting down, starting up, too many connections, and the
                // connection exceptions of class 08.
                c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                    Error::StoreUnavailable(what)
                }
                _ => Error::Storage(what),
            };
        }
        if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
            return Error::StoreUnavailable(format!("{}: {e}", self.display));
        }
        let text = e.to_string();
        // Connection-level failures without an I/O source (timeouts, TLS).
        if text.contains("timed out") || text.contains("error connecting") {
            return Error::StoreUnavailable(format!("{}: {text}", self.display));
        }
        Error::Storage(format!("{}: {text}", self.display))
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.pool.display)
            .finish_non_exhaustive()
    }
}

/// `url` without its password.
fn redact(url: &str) -> String {
    let Some(rest) = url.split_once("://").map(|(_, r)| r) else {
        return "(a PostgreSQL URL)".into();
    };
    let scheme = &url[..url.len() - rest.len()];
    let (auth_host, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let tail = tail.split('?').next().unwrap_or("");
    match auth_host.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            format!("{scheme}{user}@{host}{tail}")
        }
        None => format!("{scheme}{auth_host}{tail}"),
    }
}

/// libpq's `sslmode`: whether TLS is used, and what of the server's
/// certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    // `allow` and `prefer`: TLS when the server offers it.
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// What the client is given to connect: its own URL (with the `sslmode`
/// values it knows), the mode, and the root certificate file.
fn split_tls(url: &str) -> Result<(String, SslMode, Option<String>)> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut mode = SslMode::Prefer;
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                mode = match v {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(Error::InvalidArgument(format!(
                            "sslmode={other} is not one of disable, allow, prefer, require, \
                             verify-ca, verify-full"
                        )))
                    }
                };
                let client_mode = match mode {
                    SslMode::Disable => "disable",
                    SslMode::Prefer => "prefer",
                    _ => "require",
                };
                kept.push(format!("sslmode={client_mode}"));
            }
            "sslrootcert" => root = Some(percent_decode(v)),
            _ => kept.push(pair.to_owned()),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, mode, root))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What of the server's certificate is checked (libpq's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    // Encryption only: `prefer` and `require` without `sslrootcert`.
    Nothing,
    // The chain to a trusted root, not the host name: `verify-ca`, and
    // `prefer`/`require` with `sslrootcert`.
    Chain,
    // The chain and the host name: `verify-full`.
    Full,
}

/// A server certificate verifier with libpq's `sslmode` semantics. The
/// handshake signature is always verified (the server holds the key of the
/// certificate it sent); what is checked of the certificate follows
/// [`Check`].
#[derive(Debug)]
struct LibpqVerifier {
    check: Check,
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for LibpqVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::client::danger::ServerCertVerified;
        use rustls::CertificateError as C;
        let Some(webpki) = &self.webpki else {
            return match self.check {
                Check::Nothing => Ok(ServerCertVerified::assertion()),
                _ => Err(rustls::Error::General(
                    "no trusted root certificates".into(),
                )),
            };
        };
        if self.check == Check::Nothing {
            return Ok(ServerCertVerified::assertion());
        }
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls client configuration for `mode`: the roots are `root` (a PEM
/// file) or, for `verify-ca`/`verify-full` without one, the system's trust
/// store.
fn tls_config(
    mode: SslMode,
    root: Option<&str>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let check = match (mode, root) {
        (SslMode::VerifyFull, _) => Check::Full,
        (SslMode::VerifyCa, _) | (_, Some(_)) => Check::Chain,
        _ => Check::Nothing,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| Error::InvalidArgument(format!("sslrootcert {path}: {e}")))?;
            let mut rd = &pem[..];
            for cert in rustls_pemfile::certs(&mut rd) {
                let cert = cert.map_err(|e| {
                    Error::InvalidArgument(format!("sslrootcert {path}: not PEM certificates: {e}"))
                })?;
                roots
                    .add(cert)
                    .map_err(|e| Error::InvalidArgument(format!("sslrootcert {path}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "sslrootcert {path}: no certificate in it"
                )));
            }
        }
        None if check != Check::Nothing => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
        None => {}
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        Some(
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| Error::InvalidArgument(format!("TLS roots: {e}")))?,
        )
    };
    let verifier = LibpqVerifier {
        check,
        webpki,
        algorithms: provider.signature_verification_algorithms,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Storage(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn key_from_row(r: &postgres::Row) -> Result<KeyRecord> {
    let bad = |what: &str| Error::Storage(format!("a key row holds a bad {what}"));
    let state: String = r.get(5);
    let deletion: Option<i64> = r.get(6);
    let state = match (state.as_str(), deletion) {
        ("Enabled", _) => KeyState::Enabled,
        ("Disabled", _) => KeyState::Disabled,
        ("PendingDeletion", Some(d)) => KeyState::PendingDeletion { deletion_date: d },
        _ => return Err(bad("state")),
    };
    let id: String = r.get(0);
    let u32_of = |v: i64, what: &str| u32::try_from(v).map_err(|_| bad(what));
    Ok(KeyRecord {
        key_id: KeyId::parse(&id)?,
        description: r.get(1),
        spec: r.get::<_, String>(2).parse().map_err(|_| bad("spec"))?,
        usage: r.get::<_, String>(3).parse().map_err(|_| bad("usage"))?,
        origin: r.get::<_, String>(4).parse().map_err(|_| bad("origin"))?,
        state,
        created_at: r.get(7),
        primary_version: u32_of(r.get(8), "primary version")?,
        rotation_period_days: r
            .get::<_, Option<i64>>(9)
            .map(|v| u32_of(v, "rotation period"))
            .transpose()?,
        next_rotation_at: r.get(10),
        backend: r.get(11),
        mac: r.get(12),
    })
}

fn version_from_row(r: &postgres::Row) -> Result<VersionRecord> {
    Ok(VersionRecord {
        version: u32::try_from(r.get::<_, i64>(0))
            .map_err(|_| Error::Storage("a version row holds a bad number".into()))?,
        created_at: r.get(1),
        handle: r.get(2),
        mac: r.get(3),
        valid_to: r.get(4),
        fingerprint: r.get(5),
    })
}

const VERSION_COLS: &str = "version, created_at, handle, mac, valid_to, fingerprint";
const INSERT_VERSION: &str = "INSERT INTO key_versions (key_id, version, created_at, handle, mac, valid_to, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7)";

const KEY_COLS: &str = "key_id, description, spec, usage, origin, state, deletion_date, created_at, primary_version, rotation_period_days, next_rotation_at, backend, mac";

fn state_cols(s: &KeyState) -> (&'static str, Option<i64>) {
    match s {
        KeyState::PendingDeletion { deletion_date } => ("PendingDeletion", Some(*deletion_date)),
        other => (other.name(), None),
    }
}

/// A unique-key violation (an alias or key that exists already).
fn is_unique_violation(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| d.code().code() == "23505")
}

/// What a transaction closure returns: a database error, or a refusal of
/// sealbox's own (a missing key, an alias that exists) that rolls it back.
enum TxError {
    Db(postgres::Error),
    Refused(Error),
}

impl From<postgres::Error> for TxError {
    fn from(e: postgres::Error) -> Self {
        TxError::Db(e)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (creating sealbox's tables on
    /// first use, migrating them forward otherwise).
    ///
    /// `sslmode` and `sslrootcert` mean what they mean to libpq: `disable`;
    /// `allow`/`prefer` (the default: TLS when the server offers it) and
    /// `require` (TLS or nothing) check the server's certificate chain only
    /// when `sslrootcert` names the roots; `verify-ca` checks the chain
    /// (against `sslrootcert` or the system's trust store), `verify-full`
    /// the chain and the host name. Across a network use `verify-full`.
    pub fn open(url: &str) -> Result<Self> {
        if !is_url(url) {
            return Err(Error::InvalidArgument(format!(
                "not a PostgreSQL URL (postgresql://...): {}",
                redact(url)
            )));
        }
        let display = redact(url);
        let (client_url, mode, root) = split_tls(url)?;
        let mut config: Config = client_url.parse().map_err(|e: postgres::Error| {
            Error::InvalidArgument(format!("{display}: not a valid PostgreSQL URL: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        // A server that goes silent (a partition, a frozen host) fails
        // calls within seconds instead of hanging them: unacknowledged
        // data times out after 15 s, idle connections are probed.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(15));
        config.tcp_user_timeout(Duration::from_secs(15));
        if config.get_application_name().is_none() {
            config.application_name("sealbox");
        }
        let tls = match mode {
            SslMode::Disable => None,
            _ => Some(tls_config(mode, root.as_deref())?),
        };
        let store = PostgresStore {
            pool: Arc::new(Pool {
                config,
                tls,
                idle: Mutex::new(Vec::new()),
                display,
            }),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The URL without its password.
    pub fn display_url(&self) -> &str {
        &self.pool.display
    }

    fn migrate(&self) -> Result<()> {
        let done = self.pool.tx(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS sealbox_schema (version BIGINT NOT NULL);
                 INSERT INTO sealbox_schema (version)
                   SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM sealbox_schema);",
            )?;
            let done: i64 = tx
                .query_one("SELECT version FROM sealbox_schema", &[])?
                .get(0);
            let done = usize::try_from(done).unwrap_or(usize::MAX);
            if done > MIGRATIONS.len() {
                return Err(TxError::Refused(Error::Storage(format!(
                    "this key store has schema version {done}; this sealbox knows up to {}: \
                     upgrade sealbox",
                    MIGRATIONS.len()
                ))));
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
                tx.batch_execute(m)?;
                tx.execute(
                    "UPDATE sealbox_schema SET version = $1",
                    &[&((i + 1) as i64)],
                )?;
            }
            Ok(done)
        })?;
        let _ = done;
        Ok(())
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.pool.run(|c| {
            Ok(c.query_one("SELECT version FROM sealbox_schema", &[])?
                .get(0))
        })
    }

    fn one_row_changed(n: u64, key_id: &str) -> std::result::Result<(), TxError> {
        if n == 1 {
            Ok(())
        } else {
            Err(TxError::Refused(Error::KeyNotFound(key_id.to_owned())))
        }
    }

    fn update_key(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        key_id: &str,
    ) -> Result<()> {
        self.pool
            .tx(|tx| Self::one_row_changed(tx.execute(sql, params)?, key_id))
    }

    /// The audit log of this database (the table `audit_log`), whose
    /// records are chained with `mac`. Records of changes to keys, and every
    /// record when `sync` is set, are committed with `synchronous_commit`
    /// on before the operation goes on; other records are committed with it
    /// off (on the server in the same order, but a crash of the server, not
    /// of the client, may lose the last few hundred milliseconds of them,
    /// as the file log without `sync` may lose what the OS had not written).
    pub fn audit_log(&self, mac: ChainMac, sync: bool) -> Result<PgAuditLog> {
        PgAuditLog::new(self.pool.clone(), mac, sync)
    }
}

impl MetadataStore for PostgresStore {
    fn secrets(&self) -> Option<&dyn super::secrets::SecretStore> {
        Some(self)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.pool.run(|c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE name = $1", &[&name])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn set_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        self.pool.run(|c| {
            c.execute(
                "INSERT INTO meta (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[&name, &value],
            )?;
            Ok(())
        })
    }

    fn create_key(
        &self,
        k: &KeyRecord,
        v: &VersionRecord,
        alias: Option<(&str, &[u8])>,
        tags: &BTreeMap<String, String>,
        policy: Option<(&str, &[u8])>,
    ) -> Result<()> {
        let (state, deletion) = state_cols(&k.state);
        self.pool.tx(|tx| {
            tx.execute(
                &format!("INSERT INTO keys ({KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
                &[
                    &k.key_id.as_str(),
                    &k.description,
                    &k.spec.as_str(),
                    &k.usage.as_str(),
                    &k.origin.as_str(),
                    &state,
                    &deletion,
                    &k.created_at,
                    &i64::from(k.primary_version),
                    &k.rotation_period_days.map(i64::from),
                    &k.next_rotation_at,
                    &k.backend,
                    &k.mac,
                ],
            )?;
            tx.execute(
                INSERT_VERSION,
                &[&k.key_id.as_str(), &i64::from(v.version), &v.created_at, &v.handle, &v.mac, &v.valid_to, &v.fingerprint],
            )?;
            if let Some((a, mac)) = alias {
                match tx.execute(
                    "INSERT INTO aliases (alias, key_id, mac) VALUES ($1, $2, $3)",
                    &[&a, &k.key_id.as_str(), &mac],
                ) {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        return Err(TxError::Refused(Error::AlreadyExists(format!("alias {a}"))))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            for (tk, tv) in tags {
                tx.execute(
                    "INSERT INTO tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3)",
                    &[&k.key_id.as_str(), tk, tv],
                )?;
            }
            if let Some((p, mac)) = policy {
                tx.execute(
                    "INSERT INTO key_policies (key_id, policy, mac) VALUES ($1, $2, $3)",
                    &[&k.key_id.as_str(), &p, &mac],
                )?;
            }
            Ok(())
        })
    }

    fn key_policy(&self, key_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.pool.run(|c| {
            Ok(c.query_opt(
                "SELECT policy, mac FROM key_policies WHERE key_id = $1",
                &[&key_id],
            )?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn alias_row(&self, alias: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.pool.run(|c| {
            Ok(c.query_opt(
                "SELECT key_id, mac FROM aliases WHERE alias = $1",
                &[&alias],
            )?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn set_row_mac(&self, row: MacRow<'_>, mac: &[u8]) -> Result<()> {
        let n = self.pool.run(|c| match row {
            MacRow::Key(id) => {
                c.execute("UPDATE keys SET mac = $2 WHERE key_id = $1", &[&id, &mac])
            }
            MacRow::Version(id, v) => c.execute(
                "UPDATE key_versions SET mac = $3 WHERE key_id = $1 AND version = $2",
                &[&id, &i64::from(v), &mac],
            ),
            MacRow::Alias(a) => {
                c.execute("UPDATE aliases SET mac = $2 WHERE alias = $1", &[&a, &mac])
            }
            MacRow::Policy(id) => c.execute(
                "UPDATE key_policies SET mac = $2 WHERE key_id = $1",
                &[&id, &mac],
            ),
            MacRow::Grant(g) => c.execute(
                "UPDATE grants SET mac = $2 WHERE grant_id = $1",
                &[&g, &mac],
            ),
        })?;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Storage(format!("no row {row:?} to seal")))
        }
    }

    fn set_key_policy(&self, key_id: &str, policy: &str, mac: &[u8]) -> Result<()> {
        self.update_key(
            "INSERT INTO key_policies (key_id, policy, mac) SELECT key_id, $2, $3 FROM keys WHERE key_id = $1
             ON CONFLICT (key_id) DO UPDATE SET policy = excluded.policy, mac = excluded.mac",
            &[&key_id, &policy, &mac],
            key_id,
        )
    }

    fn grants_of(&self, key_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT grant_json, mac FROM grants WHERE key_id = $1 ORDER BY grant_id",
                &[&key_id],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn add_grant(&self, grant_id: &str, key_id: &str, grant_json: &str, mac: &[u8]) -> Result<()> {
        self.pool.tx(|tx| {
            match tx.execute(
                "INSERT INTO grants (grant_id, key_id, grant_json, mac) SELECT $1, key_id, $3, $4 FROM keys WHERE key_id = $2",
                &[&grant_id, &key_id, &grant_json, &mac],
            ) {
                Ok(n) => Self::one_row_changed(n, key_id),
                Err(e) if is_unique_violation(&e) => Err(TxError::Refused(Error::AlreadyExists(
                    format!("grant {grant_id}"),
                ))),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<bool> {
        self.pool.run(|c| {
            Ok(c.execute(
                "DELETE FROM grants WHERE key_id = $1 AND grant_id = $2",
                &[&key_id, &grant_id],
            )? == 1)
        })
    }

    fn key(&self, key_id: &str) -> Result<Option<KeyRecord>> {
        let row = self.pool.run(|c| {
            c.query_opt(
                &format!("SELECT {KEY_COLS} FROM keys WHERE key_id = $1"),
                &[&key_id],
            )
        })?;
        row.as_ref().map(key_from_row).transpose()
    }

    fn alias_target(&self, alias: &str) -> Result<Option<String>> {
        self.pool.run(|c| {
            Ok(
                c.query_opt("SELECT key_id FROM aliases WHERE alias = $1", &[&alias])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT alias FROM aliases WHERE key_id = $1 ORDER BY alias",
                &[&key_id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn all_aliases(&self) -> Result<Vec<(String, String)>> {
        self.pool.run(|c| {
            Ok(
                c.query("SELECT alias, key_id FROM aliases ORDER BY alias", &[])?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect(),
            )
        })
    }

    fn tags_of(&self, key_id: &str) -> Result<BTreeMap<String, String>> {
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT tag_key, tag_value FROM tags WHERE key_id = $1",
                &[&key_id],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn list_keys(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT key_id FROM keys WHERE key_id > $1 ORDER BY key_id COLLATE \"C\" LIMIT $2",
                &[&after.unwrap_or(""), &limit],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn versions(&self, key_id: &str) -> Result<Vec<VersionRecord>> {
        let rows = self.pool.run(|c| {
            c.query(
                &format!(
                    "SELECT {VERSION_COLS} FROM key_versions WHERE key_id = $1 ORDER BY version"
                ),
                &[&key_id],
            )
        })?;
        rows.iter().map(version_from_row).collect()
    }

    fn version(&self, key_id: &str, version: u32) -> Result<Option<VersionRecord>> {
        let row = self.pool.run(|c| {
            c.query_opt(
                &format!(
                    "SELECT {VERSION_COLS} FROM key_versions WHERE key_id = $1 AND version = $2"
                ),
                &[&key_id, &i64::from(version)],
            )
        })?;
        row.as_ref().map(version_from_row).transpose()
    }

    fn add_version(
        &self,
        key_id: &str,
        v: &VersionRecord,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()> {
        self.pool.tx(|tx| {
            tx.execute(
                INSERT_VERSION,
                &[&key_id, &i64::from(v.version), &v.created_at, &v.handle, &v.mac, &v.valid_to, &v.fingerprint],
            )?;
            let n = tx.execute(
                "UPDATE keys SET primary_version = $2, next_rotation_at = $3, mac = $4 WHERE key_id = $1",
                &[&key_id, &i64::from(v.version), &next_rotation_at, &key_mac],
            )?;
            Self::one_row_changed(n, key_id)
        })
    }

    fn set_version_material(
        &self,
        key_id: &str,
        version: u32,
        handle: &[u8],
        valid_to: Option<i64>,
        fingerprint: &[u8],
        mac: &[u8],
    ) -> Result<()> {
        self.update_key(
            "UPDATE key_versions SET handle = $3, valid_to = $4, fingerprint = $5, mac = $6 WHERE key_id = $1 AND version = $2",
            &[&key_id, &i64::from(version), &handle, &valid_to, &fingerprint, &mac],
            key_id,
        )
    }

    fn expired_material(&self, now: i64) -> Result<Vec<(String, u32)>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT key_id, version FROM key_versions WHERE valid_to IS NOT NULL AND valid_to <= $1 AND length(handle) > 0 ORDER BY key_id, version",
                &[&now],
            )
        })?;
        rows.iter()
            .map(|r| {
                let v = u32::try_from(r.get::<_, i64>(1))
                    .map_err(|_| Error::Storage("a version row holds a bad number".into()))?;
                Ok((r.get(0), v))
            })
            .collect()
    }

    fn set_state(&self, key_id: &str, state: KeyState, key_mac: &[u8]) -> Result<()> {
        let (s, d) = state_cols(&state);
        self.update_key(
            "UPDATE keys SET state = $2, deletion_date = $3, mac = $4 WHERE key_id = $1",
            &[&key_id, &s, &d, &key_mac],
            key_id,
        )
    }

    fn set_rotation(
        &self,
        key_id: &str,
        period_days: Option<u32>,
        next_rotation_at: Option<i64>,
        key_mac: &[u8],
    ) -> Result<()> {
        self.update_key(
            "UPDATE keys SET rotation_period_days = $2, next_rotation_at = $3, mac = $4 WHERE key_id = $1",
            &[&key_id, &period_days.map(i64::from), &next_rotation_at, &key_mac],
            key_id,
        )
    }

    fn set_description(&self, key_id: &str, description: &str, key_mac: &[u8]) -> Result<()> {
        self.update_key(
            "UPDATE keys SET description = $2, mac = $3 WHERE key_id = $1",
            &[&key_id, &description, &key_mac],
            key_id,
        )
    }

    fn put_alias(&self, alias: &str, key_id: &str, replace: bool, mac: &[u8]) -> Result<()> {
        self.pool.tx(|tx| {
            let exists = tx
                .query_opt(
                    "SELECT key_id FROM aliases WHERE alias = $1 FOR UPDATE",
                    &[&alias],
                )?
                .is_some();
            match (exists, replace) {
                (true, false) => {
                    return Err(TxError::Refused(Error::AlreadyExists(format!(
                        "alias {alias}"
                    ))))
                }
                (false, true) => {
                    return Err(TxError::Refused(Error::KeyNotFound(alias.to_owned())))
                }
                _ => {}
            }
            match tx.execute(
                "INSERT INTO aliases (alias, key_id, mac) VALUES ($1, $2, $3)
                 ON CONFLICT (alias) DO UPDATE SET key_id = excluded.key_id, mac = excluded.mac",
                &[&alias, &key_id, &mac],
            ) {
                Ok(_) => Ok(()),
                // The key went away meanwhile.
                Err(e) if e.as_db_error().is_some_and(|d| d.code().code() == "23503") => {
                    Err(TxError::Refused(Error::KeyNotFound(key_id.to_owned())))
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete_alias(&self, alias: &str) -> Result<bool> {
        self.pool
            .run(|c| Ok(c.execute("DELETE FROM aliases WHERE alias = $1", &[&alias])? == 1))
    }

    fn set_tags(&self, key_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.pool.tx(|tx| {
            for (k, v) in tags {
                tx.execute(
                    "INSERT INTO tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3)
                     ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                    &[&key_id, k, v],
                )?;
            }
            Ok(())
        })
    }

    fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<()> {
        self.pool.tx(|tx| {
            for k in tag_keys {
                tx.execute(
                    "DELETE FROM tags WHERE key_id = $1 AND tag_key = $2",
                    &[&key_id, k],
                )?;
            }
            Ok(())
        })
    }

    fn delete_key(&self, key_id: &str) -> Result<()> {
        self.pool.tx(|tx| {
            // Overwrite the sealed material before the rows go (PostgreSQL
            // keeps dead row versions until VACUUM; this leaves zeros there).
            tx.execute(
                "UPDATE key_versions SET handle = decode(repeat('00', length(handle)), 'hex') WHERE key_id = $1",
                &[&key_id],
            )?;
            tx.execute("DELETE FROM key_versions WHERE key_id = $1", &[&key_id])?;
            tx.execute("DELETE FROM aliases WHERE key_id = $1", &[&key_id])?;
            tx.execute("DELETE FROM tags WHERE key_id = $1", &[&key_id])?;
            tx.execute("DELETE FROM key_policies WHERE key_id = $1", &[&key_id])?;
            tx.execute("DELETE FROM grants WHERE key_id = $1", &[&key_id])?;
            let n = tx.execute("DELETE FROM keys WHERE key_id = $1", &[&key_id])?;
            Self::one_row_changed(n, key_id)
        })
    }

    fn due_deletions(&self, now: i64) -> Result<Vec<String>> {
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT key_id FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= $1 ORDER BY key_id",
                &[&now],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn due_rotations(&self, now: i64) -> Result<Vec<String>> {
        self.pool.run(|c| {
            Ok(c.query(
                "SELECT key_id FROM keys WHERE state = 'Enabled' AND next_rotation_at IS NOT NULL AND next_rotation_at <= $1 ORDER BY key_id",
                &[&now],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn advance_audit_anchor(&self, anchor: &AuditAnchor) -> Result<()> {
        self.pool.tx(|tx| {
            let stored = tx
                .query_opt(
                    "SELECT value FROM meta WHERE name = $1 FOR UPDATE",
                    &[&AUDIT_ANCHOR],
                )?
                .and_then(|r| String::from_utf8(r.get(0)).ok())
                .and_then(|t| AuditAnchor::decode(&t));
            if stored.is_none_or(|s| anchor.is_after(&s)) {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[&AUDIT_ANCHOR, &anchor.encode().as_bytes()],
                )?;
            }
            Ok(())
        })
    }

    fn change_lock(&self) -> Result<Option<ChangeLock<'_>>> {
        let mut conn = self.pool.get()?;
        if let Err(e) = conn
            .client()
            .execute("SELECT pg_advisory_lock($1)", &[&CHANGE_LOCK])
        {
            conn.broken = true;
            return Err(self.pool.error(&e));
        }
        Ok(Some(ChangeLock::held_by(AdvisoryLock { conn })))
    }

    fn default_cache_ttl(&self) -> Duration {
        crate::keystore::DEFAULT_METADATA_CACHE_TTL
    }

    fn audit_log(&self, mac: ChainMac, sync: bool) -> Option<Result<Box<dyn AuditLog>>> {
        Some(
            self.audit_log(mac, sync)
                .map(|l| Box::new(l) as Box<dyn AuditLog>),
        )
    }
}

/// The change lock: released on drop (and by the server if the process or
/// its connection dies first).
struct AdvisoryLock<'a> {
    conn: Conn<'a>,
}

impl Drop for AdvisoryLock<'_> {
    fn drop(&mut self) {
        if self
            .conn
            .client()
            .execute("SELECT pg_advisory_unlock($1)", &[&CHANGE_LOCK])
            .is_err()
        {
            // The connection is gone, and the server released the lock.
            self.conn.broken = true;
        }
    }
}

// ------------------------------------------------------------ audit log --

/// Records waiting to be committed by whichever of this process's threads
/// commits the next group.
struct Group {
    waiting: Vec<(u64, AuditEvent)>,
    next_ticket: u64,
    // Results of committed groups, by ticket.
    done: std::collections::HashMap<u64, Result<()>>,
    committing: bool,
    // The segment the next record must start (an operator's new segment).
    start_segment: Option<u64>,
    // The anchor this process last wrote or read: the chain head, unless
    // another process has written since.
    head: Option<AuditAnchor>,
    // How many records the last group committed: the next leader waits a
    // moment for as many (see `GATHER`).
    last_group: usize,
    // This process's chain of data-plane records (`None` until its first
    // one, and again after a group that failed: a new writer continues).
    writer: Option<Writer>,
}

/// A chain's last record: (sequence number, MAC).
type ChainHead = (u64, String);

/// One writer's chain of data-plane records (issue 15): its own sequence
/// numbers and MACs, so that the processes of a fleet do not wait for one
/// another's records. Its anchor (its row of `audit_writers`) moves with
/// every group, in the statement that inserts it.
#[derive(Clone, Debug)]
struct Writer {
    id: u64,
    segment: u64,
    // The next record's sequence number.
    next: u64,
    // The MAC of the last record committed (the genesis before the first).
    prev: String,
}

/// How long the thread that commits the next group may wait for the
/// records of the threads that were in the last one: threads that all
/// waited for one commit append their next records moments apart, and the
/// first to arrive would otherwise commit alone while the others wait a
/// whole round trip for the next group (groups alternating 1 and n-1
/// records halve the throughput of n threads). Far below one round trip.
const GATHER: std::time::Duration = std::time::Duration::from_micros(80);

/// The audit trail in the database: see [`PostgresStore::audit_log`].
pub struct PgAuditLog {
    pool: Arc<Pool>,
    mac: ChainMac,
    sync: bool,
    group: Mutex<Group>,
    turn: Condvar,
    // The connection of data-plane groups (synchronous_commit off).
    async_conn: Mutex<Option<PgConn>>,
}

impl std::fmt::Debug for PgAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAuditLog")
            .field("url", &self.pool.display)
            .finish_non_exhaustive()
    }
}

/// The stored anchor of the chain of changes to keys, read where a commit
/// or a registration continues from it: one that cannot be read is
/// tampering, not a fresh chain.
fn readable_anchor(value: Vec<u8>) -> Result<AuditAnchor> {
    String::from_utf8(value)
        .ok()
        .and_then(|t| AuditAnchor::decode(&t))
        .ok_or_else(|| Error::AuditLogTampered("the stored audit anchor is not readable".into()))
}

/// Rows of (position or sequence number, line).
fn numbered(rows: &[postgres::Row]) -> Vec<(u64, String)> {
    rows.iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
        .collect()
}

/// The rows of `segment` read per query.
const PAGE: i64 = 5000;

impl PgAuditLog {
    fn new(pool: Arc<Pool>, mac: ChainMac, sync: bool) -> Result<Self> {
        Ok(PgAuditLog {
            pool,
            mac,
            sync,
            group: Mutex::new(Group {
                waiting: Vec::new(),
                next_ticket: 0,
                done: std::collections::HashMap::new(),
                committing: false,
                start_segment: None,
                head: None,
                last_group: 1,
                writer: None,
            }),
            turn: Condvar::new(),
            async_conn: Mutex::new(None),
        })
    }

    /// The stored anchor: the last record written, in the latest segment.
    fn stored_anchor(&self) -> Result<Option<AuditAnchor>> {
        self.pool.run(|c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE name = $1", &[&AUDIT_ANCHOR])?
                    .and_then(|r| String::from_utf8(r.get(0)).ok())
                    .and_then(|t| AuditAnchor::decode(&t)),
            )
        })
    }

    /// The next record starts segment `segment` (an operator's explicit,
    /// audited decision; see `KeyStoreOptions::new_audit_segment`).
    pub fn start_segment(&self, segment: u64) -> Result<()> {
        let mut g = self
            .group
            .lock()
            .map_err(|_| Error::Audit("audit group lock poisoned".into()))?;
        g.start_segment = Some(segment);
        Ok(())
    }

    /// Registers a new writer in the current segment: the next id after
    /// the highest (ids are dense, so a writer whose registration was
    /// removed is noticed), with no record anchored yet. One transaction,
    /// one registration at a time (however many processes start at once),
    /// under a share lock on the anchor of the chain of changes to keys: a
    /// new segment (which takes that row's lock to begin and closes the
    /// writers of older segments) is either seen, or closes this writer.
    fn register_writer(&self) -> Result<Writer> {
        const ANCHOR: &str = "SELECT value FROM meta WHERE name = $1 FOR SHARE";
        const REGISTER: &str = "INSERT INTO audit_writers (writer, segment, head_seq, head_mac)
             SELECT COALESCE(MAX(writer), 0) + 1, $1::bigint, -1, '' FROM audit_writers
             RETURNING writer";
        let registered = self.pool.tx(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])?;
            let segment = match tx.query_opt(ANCHOR, &[&AUDIT_ANCHOR])? {
                None => 0,
                Some(r) => readable_anchor(r.get(0)).map_err(TxError::Refused)?.segment,
            };
            let id: i64 = tx.query_one(REGISTER, &[&(segment as i64)])?.get(0);
            Ok((id as u64, segment))
        });
        match registered {
            Ok((id, segment)) => Ok(Writer {
                id,
                segment,
                next: 0,
                prev: audit::GENESIS.to_owned(),
            }),
            Err(e @ (Error::StoreUnavailable(_) | Error::AuditLogTampered(_))) => Err(e),
            Err(e) => Err(Error::Audit(format!("registering an audit writer: {e}"))),
        }
    }

    /// Commits data-plane records to this process's own chain: one
    /// statement that moves the writer's anchor (its own row: no other
    /// writer waits for it) and inserts the records, so that the chain and
    /// its anchor never disagree. It only happens if the anchor is still
    /// the last record this writer committed (a server that crashed with
    /// `synchronous_commit` off may have lost its last groups, anchor and
    /// all: the chain would have a hole) and the writer was not closed by a
    /// later segment (an operator's, from any process: the row lock makes
    /// the two wait for each other); otherwise the writer is retired and
    /// the group goes to a new one, registered in the current segment,
    /// unless the group turns out to be committed already (a try whose
    /// answer the connection lost). A writer whose group failed is retired
    /// too (whether the server kept the rows is not known). Returns the
    /// result and the writer that goes on.
    fn commit_writer(
        &self,
        batch: &[(u64, AuditEvent)],
        mut writer: Option<Writer>,
    ) -> (Result<()>, Option<Writer>) {
        const APPEND: &str = "WITH moved AS (
               UPDATE audit_writers SET head_seq = $6, head_mac = $7
               WHERE writer = $2 AND head_seq = $5 AND NOT closed
               RETURNING 1)
             INSERT INTO audit_log (segment, writer, seq, line)
             SELECT $1, $2, s, l FROM unnest($3::bigint[], $4::text[]) AS t(s, l)
             WHERE EXISTS (SELECT 1 FROM moved)";
        for _ in 0..2 {
            let mut w = match writer.take() {
                Some(w) => w,
                None => match self.register_writer() {
                    Ok(w) => w,
                    Err(e) => return (Err(e), None),
                },
            };
            let (mut seq, mut prev) = (w.next, w.prev.clone());
            let mut seqs: Vec<i64> = Vec::with_capacity(batch.len());
            let mut texts: Vec<String> = Vec::with_capacity(batch.len());
            for (_, event) in batch {
                match audit::writer_line(&self.mac, Some(w.id), seq, &prev, event) {
                    Ok((line, m)) => {
                        seqs.push(seq as i64);
                        texts.push(line);
                        prev = m;
                        seq += 1;
                    }
                    // Nothing was written: the writer goes on as it was.
                    Err(e) => return (Err(e), Some(w)),
                }
            }
            let (segment, id, last) = (w.segment as i64, w.id as i64, w.next as i64 - 1);
            let head = seq as i64 - 1;
            let mut run = |pc: &mut PgConn| -> std::result::Result<u64, postgres::Error> {
                let st = pc.prepared(APPEND)?;
                pc.client
                    .execute(&st, &[&segment, &id, &seqs, &texts, &last, &head, &prev])
            };
            let inserted = if self.sync {
                self.pool.run_pg(run)
            } else {
                self.on_async_connection(&mut run)
            };
            let committed = match inserted {
                Ok(n) if n == batch.len() as u64 => true,
                // The chain lost its last group, a new segment began, or
                // this group was committed by a try whose answer was lost
                // (the connection went away after the commit).
                Ok(0) => match self.pool.run(|c| {
                    c.query_opt(
                        "SELECT 1 FROM audit_writers WHERE writer = $1 AND head_seq = $2 AND head_mac = $3",
                        &[&id, &head, &prev],
                    )
                    .map(|r| r.is_some())
                }) {
                    Ok(committed) => committed,
                    Err(e) => return (Err(e), None),
                },
                Ok(n) => {
                    return (
                        Err(Error::Audit(format!(
                            "writing the audit records: {n} of {} were inserted",
                            batch.len()
                        ))),
                        None,
                    )
                }
                Err(Error::StoreUnavailable(m)) => return (Err(Error::StoreUnavailable(m)), None),
                Err(e) => {
                    return (
                        Err(Error::Audit(format!("writing the audit record: {e}"))),
                        None,
                    )
                }
            };
            if committed {
                w.next = seq;
                w.prev = prev;
                return (Ok(()), Some(w));
            }
            // Again with a new writer.
        }
        (
            Err(Error::Audit(
                "writing the audit records: a new writer's chain was refused too".into(),
            )),
            None,
        )
    }

    /// Commits a group: in one round trip when `head` is still the chain's
    /// head (the anchor is moved from it by compare-and-set, and the
    /// records are inserted only if it moved), else under the anchor's row
    /// lock. Returns the result and the new head (`None`: unknown).
    fn commit_group(
        &self,
        batch: &[(u64, AuditEvent)],
        start: Option<u64>,
        head: Option<AuditAnchor>,
    ) -> (Result<()>, Option<AuditAnchor>) {
        if let (Some(h), None) = (&head, start) {
            match self.commit_fast(batch, h) {
                Ok(Some(new_head)) => return (Ok(()), Some(new_head)),
                // Another process wrote since: the locked way.
                Ok(None) => {}
                Err(e) => return (Err(e), None),
            }
        }
        match self.commit(batch, start) {
            Ok(h) => (Ok(()), Some(h)),
            Err(e) => (Err(e), None),
        }
    }

    /// The one-round-trip commit: one prepared statement, its own
    /// transaction, that moves the anchor from `head` by compare-and-set
    /// and inserts the records only if it moved. Records of changes to keys
    /// only, committed durably (a pooled connection, `synchronous_commit`
    /// on). `Ok(None)`: the anchor was not `head` (nothing was written).
    fn commit_fast(
        &self,
        batch: &[(u64, AuditEvent)],
        head: &AuditAnchor,
    ) -> Result<Option<AuditAnchor>> {
        const APPEND_IF_HEAD: &str = "WITH moved AS (
               UPDATE meta SET value = $1 WHERE name = $2 AND value = $3 RETURNING 1)
             INSERT INTO audit_log (segment, seq, line)
             SELECT $4, s, l FROM unnest($5::bigint[], $6::text[]) AS t(s, l)
             WHERE EXISTS (SELECT 1 FROM moved)";
        let (mut seq, mut prev) = (head.seq + 1, head.mac.clone());
        let mut seqs: Vec<i64> = Vec::with_capacity(batch.len());
        let mut texts: Vec<String> = Vec::with_capacity(batch.len());
        for (_, event) in batch {
            let (line, m) = audit::chained_line(&self.mac, seq, &prev, event)?;
            seqs.push(seq as i64);
            texts.push(line);
            prev = m;
            seq += 1;
        }
        let new_head = AuditAnchor {
            segment: head.segment,
            seq: seq - 1,
            mac: prev,
            offset: None,
        };
        let (old_text, new_text) = (head.encode(), new_head.encode());
        let run = |pc: &mut PgConn| -> std::result::Result<u64, postgres::Error> {
            let st = pc.prepared(APPEND_IF_HEAD)?;
            pc.client.execute(
                &st,
                &[
                    &new_text.as_bytes(),
                    &AUDIT_ANCHOR,
                    &old_text.as_bytes(),
                    &(head.segment as i64),
                    &seqs,
                    &texts,
                ],
            )
        };
        let inserted = self.pool.run_pg(run);
        match inserted {
            Ok(n) if n == batch.len() as u64 => Ok(Some(new_head)),
            Ok(0) => Ok(None),
            Ok(n) => Err(Error::Audit(format!(
                "writing the audit records: {n} of {} were inserted",
                batch.len()
            ))),
            Err(Error::StoreUnavailable(m)) => Err(Error::StoreUnavailable(m)),
            Err(e) => Err(Error::Audit(format!("writing the audit record: {e}"))),
        }
    }

    /// Runs `f` on this log's own connection, whose session commits with
    /// `synchronous_commit` off (connected on first use and again after
    /// the server went away; a stale connection is replaced once).
    fn on_async_connection<T>(
        &self,
        f: &mut impl FnMut(&mut PgConn) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut slot = self
            .async_conn
            .lock()
            .map_err(|_| Error::Audit("audit connection lock poisoned".into()))?;
        for attempt in 0..2 {
            let reused = slot.as_ref().is_some_and(|c| !c.client.is_closed());
            if !reused {
                let mut c = self.pool.connect()?;
                c.client
                    .batch_execute("SET synchronous_commit TO off")
                    .map_err(|e| self.pool.error(&e))?;
                *slot = Some(c);
            }
            let Some(c) = slot.as_mut() else {
                return Err(Error::Audit("no audit connection".into()));
            };
            match f(c) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = self.pool.error(&e);
                    if matches!(err, Error::StoreUnavailable(_)) {
                        *slot = None;
                        if reused && attempt == 0 {
                            continue;
                        }
                    }
                    return Err(err);
                }
            }
        }
        Err(Error::Audit("no audit connection".into()))
    }

    /// Commits `batch` in one transaction: under the row lock of the
    /// anchor, continue the chain from it, insert the lines, move it. Four
    /// round trips (begin, lock and read the anchor, insert and move the
    /// anchor, commit), the last three with the lock held.
    fn commit(&self, batch: &[(u64, AuditEvent)], start: Option<u64>) -> Result<AuditAnchor> {
        const LOCK_ANCHOR: &str = "SELECT value FROM meta WHERE name = $1 FOR UPDATE";
        const APPEND: &str = "WITH appended AS (
               INSERT INTO audit_log (segment, seq, line)
               SELECT $1, s, l FROM unnest($2::bigint[], $3::text[]) AS t(s, l))
             INSERT INTO meta (name, value) VALUES ($4, $5)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        let mut refused: Option<Error> = None;
        let mut written: Option<AuditAnchor> = None;
        let r = self.pool.run_pg(|pc| {
            refused = None;
            pc.client.batch_execute("BEGIN")?;
            let mut body = || -> std::result::Result<(), postgres::Error> {
                let lock = pc.prepared(LOCK_ANCHOR)?;
                let anchor = pc
                    .client
                    .query_opt(&lock, &[&AUDIT_ANCHOR])?
                    .map(|r| r.get::<_, Vec<u8>>(0));
                let anchor = match anchor.map(readable_anchor).transpose() {
                    Ok(a) => a,
                    Err(e) => {
                        refused = Some(e);
                        return Ok(());
                    }
                };
                let (segment, mut seq, mut prev) = match (&anchor, start) {
                    (Some(a), Some(s)) if s > a.segment => (s, 0u64, audit::GENESIS.to_owned()),
                    (None, Some(s)) => (s, 0, audit::GENESIS.to_owned()),
                    (Some(a), _) => (a.segment, a.seq + 1, a.mac.clone()),
                    (None, None) => (0, 0, audit::GENESIS.to_owned()),
                };
                let mut seqs: Vec<i64> = Vec::with_capacity(batch.len());
                let mut texts: Vec<String> = Vec::with_capacity(batch.len());
                for (_, event) in batch {
                    let (line, m) = match audit::chained_line(&self.mac, seq, &prev, event) {
                        Ok(x) => x,
                        Err(e) => {
                            refused = Some(e);
                            return Ok(());
                        }
                    };
                    seqs.push(seq as i64);
                    texts.push(line);
                    prev = m;
                    seq += 1;
                }
                let last = AuditAnchor {
                    segment,
                    seq: seq - 1,
                    mac: prev,
                    offset: None,
                };
                let append = pc.prepared(APPEND)?;
                pc.client.execute(
                    &append,
                    &[
                        &(segment as i64),
                        &seqs,
                        &texts,
                        &AUDIT_ANCHOR,
                        &last.encode().as_bytes(),
                    ],
                )?;
                if start.is_some() {
                    // The writers of older segments write no more (one
                    // that is committing now is waited for, and then
                    // finds its row closed: see `commit_writer`).
                    pc.client.execute(
                        "UPDATE audit_writers SET closed = true WHERE segment < $1 AND NOT closed",
                        &[&(segment as i64)],
                    )?;
                }
                written = Some(last);
                Ok(())
            };
            let r = body();
            match (&r, &refused) {
                (Ok(()), None) => pc.client.batch_execute("COMMIT"),
                _ => {
                    // Nothing of the group is kept; a connection that
                    // failed is dropped by the pool anyway.
                    let _ = pc.client.batch_execute("ROLLBACK");
                    r
                }
            }
        });
        match (r, refused, written) {
            (_, Some(e), _) => Err(e),
            (Ok(()), None, Some(w)) => Ok(w),
            (Ok(()), None, None) => Err(Error::Audit("the audit group was not written".into())),
            (Err(Error::StoreUnavailable(m)), None, _) => Err(Error::StoreUnavailable(m)),
            (Err(e), None, _) => Err(Error::Audit(format!("writing the audit record: {e}"))),
        }
    }

    /// Verifies one chain of `segment` (writer 0: changes to keys) against
    /// `anchor`, page by page.
    fn verify_chain(
        &self,
        segment: u64,
        writer: u64,
        anchor: Option<(u64, String)>,
    ) -> Result<AuditReport> {
        let mut page: std::collections::VecDeque<(u64, String)> = Default::default();
        let mut last: Option<u64> = None;
        let mut exhausted = false;
        let mut failure = None;
        let report = audit::verify_chain(
            || {
                if page.is_empty() && !exhausted {
                    match self.rows(segment, writer, last, PAGE) {
                        Ok(rows) => {
                            exhausted = (rows.len() as i64) < PAGE;
                            page.extend(rows);
                        }
                        Err(e) => {
                            failure = Some(e.clone());
                            return Err(e);
                        }
                    }
                }
                Ok(page.pop_front().map(|(s, l)| {
                    last = Some(s);
                    l.into_bytes()
                }))
            },
            &self.mac,
            anchor,
            (writer != 0).then_some(writer),
        );
        match failure {
            Some(e) => Err(e),
            None => report,
        }
    }

    /// The writers registered in `segment`, with their anchors (sequence
    /// number and MAC of the last record anchored, if any), by id.
    fn writer_anchors(&self, segment: u64) -> Result<Vec<(u64, Option<ChainHead>)>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT writer, head_seq, head_mac FROM audit_writers WHERE segment = $1 ORDER BY writer",
                &[&(segment as i64)],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                let seq: i64 = r.get(1);
                (
                    r.get::<_, i64>(0) as u64,
                    u64::try_from(seq).ok().map(|s| (s, r.get::<_, String>(2))),
                )
            })
            .collect())
    }

    /// Whether every writer of `segment` still holds its anchored record,
    /// with its MAC: `Ok(None)` if so, else why not (at open).
    fn check_writer_anchors(&self, segment: u64) -> Result<Option<String>> {
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT w.writer, w.head_seq, w.head_mac, l.line FROM audit_writers w
                 LEFT JOIN audit_log l
                   ON l.segment = w.segment AND l.writer = w.writer AND l.seq = w.head_seq
                 WHERE w.segment = $1 AND w.head_seq >= 0",
                &[&(segment as i64)],
            )
        })?;
        for r in &rows {
            let (writer, seq, mac): (i64, i64, String) = (r.get(0), r.get(1), r.get(2));
            let line: Option<String> = r.get(3);
            match line {
                None => {
                    return Ok(Some(format!(
                        "the chain of audit writer {writer} in segment {segment} lacks record \
                         {seq}, which was written (records were removed from its end)"
                    )))
                }
                Some(l)
                    if !audit::line_head(&l).is_some_and(|(s, m)| s as i64 == seq && m == mac) =>
                {
                    return Ok(Some(format!(
                        "record {seq} of audit writer {writer} is not the one that was written \
                         (the log was edited or replaced)"
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(None)
    }

    /// The oldest transaction still running and the next to begin (as
    /// text: `xid8`): rows of transactions older than the first can no
    /// longer appear.
    fn snapshot_bounds(&self) -> Result<(String, String)> {
        self.pool.run(|c| {
            c.query_one(
                "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text FROM pg_current_snapshot() s",
                &[],
            )
            .map(|r| (r.get(0), r.get(1)))
        })
    }

    /// The transaction horizon below which the trail is settled, given the
    /// bounds of [`PgAuditLog::snapshot_bounds`]: every transaction older
    /// than it has ended, so no row of one can still appear. It is `xmax`
    /// once every transaction running at `xmin..xmax` has ended (they are
    /// short: a millisecond or so is waited); if one outlasts `SETTLE`, the
    /// oldest still running.
    fn settled(&self, mut xmin: String, xmax: String) -> Result<String> {
        const SETTLE: Duration = Duration::from_millis(500);
        let until = std::time::Instant::now() + SETTLE;
        while xmin != xmax {
            let (now, done): (String, bool) = self.pool.run(|c| {
                c.query_one(
                    "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmin(s) >= $1::text::xid8
                     FROM pg_current_snapshot() s",
                    &[&xmax],
                )
                .map(|r| (r.get(0), r.get(1)))
            })?;
            if done {
                return Ok(xmax);
            }
            xmin = now;
            if std::time::Instant::now() >= until {
                return Ok(xmin);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(xmax)
    }

    /// The rows of one chain of `segment` (writer 0: changes to keys)
    /// after sequence number `after`, in order.
    fn rows(
        &self,
        segment: u64,
        writer: u64,
        after: Option<u64>,
        limit: i64,
    ) -> Result<Vec<(u64, String)>> {
        let from = after.map_or(0i64, |a| a as i64 + 1);
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT seq, line FROM audit_log WHERE segment = $1 AND writer = $2 AND seq >= $3
                 ORDER BY seq LIMIT $4",
                &[&(segment as i64), &(writer as i64), &from, &limit],
            )
        })?;
        Ok(numbered(&rows))
    }
}

impl AuditSink for PgAuditLog {
    /// Group commit: the record joins the group waiting; the first thread
    /// to find no commit under way commits everything waiting in one
    /// transaction, the others wait for its result. Returns once this
    /// record is committed (or with the reason it could not be).
    fn record(&self, event: &AuditEvent) -> Result<()> {
        let poisoned = || Error::Audit("audit group lock poisoned".into());
        let mut g = self.group.lock().map_err(|_| poisoned())?;
        let ticket = g.next_ticket;
        g.next_ticket += 1;
        g.waiting.push((ticket, event.clone()));
        loop {
            if let Some(r) = g.done.remove(&ticket) {
                return r;
            }
            if !g.committing {
                g.committing = true;
                let want = g.last_group;
                if g.waiting.len() < want {
                    // Gather: the lock is let go so that the others can
                    // append (they wait for this commit: `committing`).
                    let until = std::time::Instant::now() + GATHER;
                    loop {
                        drop(g);
                        std::thread::yield_now();
                        g = self.group.lock().map_err(|_| poisoned())?;
                        if g.waiting.len() >= want || std::time::Instant::now() >= until {
                            break;
                        }
                    }
                }
                let batch = std::mem::take(&mut g.waiting);
                g.last_group = batch.len().max(1);
                let start = g.start_segment;
                let head = g.head.take();
                let writer = g.writer.take();
                drop(g);
                // Changes to keys go to the one chain everybody shares
                // (durable, in order); data-plane records to this
                // process's own.
                let (control, data): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .partition(|(_, e)| e.operation.is_mutation());
                let (rc, head) = if control.is_empty() {
                    (Ok(()), head)
                } else {
                    self.commit_group(&control, start, head)
                };
                let (rd, writer) = if data.is_empty() {
                    (Ok(()), writer)
                } else {
                    self.commit_writer(&data, writer)
                };
                g = self.group.lock().map_err(|_| poisoned())?;
                g.head = head;
                g.writer = writer;
                if rc.is_ok() && start.is_some() && !control.is_empty() {
                    g.start_segment = None;
                }
                for (t, _) in &control {
                    g.done.insert(*t, rc.clone());
                }
                for (t, _) in &data {
                    g.done.insert(*t, rd.clone());
                }
                g.committing = false;
                self.turn.notify_all();
                continue;
            }
            g = self.turn.wait(g).map_err(|_| poisoned())?;
        }
    }
}

impl AuditLog for PgAuditLog {
    fn location(&self) -> String {
        format!("the audit_log table of {}", self.pool.display)
    }

    fn head(&self) -> Result<(u64, String)> {
        Ok(match self.stored_anchor()? {
            Some(a) => (a.seq + 1, a.mac),
            None => (0, audit::GENESIS.to_owned()),
        })
    }

    fn anchor(&self, _segment: u64) -> Result<Option<AuditAnchor>> {
        // Every chain is anchored in the statement that writes its records.
        Ok(None)
    }

    fn check_anchor(&self, anchor: &AuditAnchor) -> Result<Option<String>> {
        if let Some(why) = self.check_writer_anchors(anchor.segment)? {
            return Ok(Some(why));
        }
        let last = self.pool.run(|c| {
            c.query_opt(
                "SELECT seq, line FROM audit_log WHERE segment = $1 AND writer = 0
                 ORDER BY seq DESC LIMIT 1",
                &[&(anchor.segment as i64)],
            )
        })?;
        let at = self.rows(anchor.segment, 0, anchor.seq.checked_sub(1), 1)?;
        let last_seq = last.as_ref().map(|r| r.get::<_, i64>(0));
        if last_seq.is_none_or(|s| (s as u64) < anchor.seq) {
            return Ok(Some(format!(
                "the log of segment {} ends at record {} but record {} was written (records \
                 were removed from its end)",
                anchor.segment,
                last_seq.unwrap_or(-1),
                anchor.seq
            )));
        }
        Ok(match at.first() {
            Some((seq, line))
                if *seq == anchor.seq
                    && audit::line_head(line)
                        .is_some_and(|(s, m)| s == anchor.seq && m == anchor.mac) =>
            {
                None
            }
            _ => Some(format!(
                "record {} is not the one that was written (the log was edited or replaced)",
                anchor.seq
            )),
        })
    }

    fn verify(&self, segment: u64, anchor: Option<(u64, String)>) -> Result<AuditReport> {
        // The chain of changes to keys, then every writer's chain.
        let control = self.verify_chain(segment, 0, anchor)?;
        if !control.ok() {
            return Ok(control);
        }
        let mut records = control.records;
        let fail = |records: u64, why: String| AuditReport {
            records,
            first_error: Some((records + 1, why)),
        };
        // Writers are registered one at a time, each segment's after the
        // last of the segments before: the ids of this segment's writers
        // follow those of the earlier ones without a gap.
        let (registered, lowest, highest, before): (i64, i64, i64, i64) = self.pool.run(|c| {
            c.query_one(
                "SELECT count(*), COALESCE(min(writer), 0), COALESCE(max(writer), 0),
                        (SELECT COALESCE(max(writer), 0) FROM audit_writers WHERE segment < $1)
                 FROM audit_writers WHERE segment = $1",
                &[&(segment as i64)],
            )
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        })?;
        if registered > 0 && (registered != highest - lowest + 1 || lowest != before + 1) {
            return Ok(fail(
                records,
                format!(
                    "{} of the audit writers {}..={highest} of segment {segment} had their \
                     registrations removed",
                    highest - before - registered,
                    before + 1
                ),
            ));
        }
        let stray: Option<i64> = self.pool.run(|c| {
            c.query_opt(
                "SELECT l.writer FROM audit_log l WHERE l.segment = $1 AND l.writer <> 0
                 AND NOT EXISTS (SELECT 1 FROM audit_writers w
                                 WHERE w.writer = l.writer AND w.segment = l.segment)
                 LIMIT 1",
                &[&(segment as i64)],
            )
            .map(|r| r.map(|r| r.get(0)))
        })?;
        if let Some(w) = stray {
            return Ok(fail(
                records,
                format!("records of writer {w}, which is not registered in segment {segment} (inserted)"),
            ));
        }
        for (id, anchor) in self.writer_anchors(segment)? {
            let r = self.verify_chain(segment, id, anchor)?;
            let before = records;
            records += r.records;
            if let Some((n, why)) = r.first_error {
                return Ok(AuditReport {
                    records,
                    first_error: Some((before + n, format!("writer {id}: {why}"))),
                });
            }
        }
        Ok(AuditReport {
            records,
            first_error: None,
        })
    }

    /// In the order of the transactions that wrote the rows (then by
    /// position), and only rows whose transaction is older than every one
    /// still running: a row committed late can never come before one
    /// already returned, so paging on with the last position misses
    /// nothing (see `PgAuditLog::settled`).
    fn lines(&self, segment: u64, after: Option<u64>, limit: usize) -> Result<Vec<(u64, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Where the page starts: after the cursor's row. If that row is
        // gone (a server crash lost it), after its position: positions are
        // never given twice.
        let from: Option<(Option<String>, i64)> = match after {
            None => None,
            Some(after) => {
                let at = i64::try_from(after).unwrap_or(i64::MAX);
                let xid: Option<String> = self.pool.run(|c| {
                    c.query_opt("SELECT xid::text FROM audit_log WHERE pos = $1", &[&at])
                        .map(|r| r.map(|r| r.get(0)))
                })?;
                Some((xid, at))
            }
        };
        let page = |horizon: &str| -> Result<Vec<(u64, String)>> {
            let seg = segment as i64;
            let rows = self.pool.run(|c| match &from {
                None => c.query(
                    "SELECT pos, line FROM audit_log WHERE segment = $1 AND xid < $2::text::xid8
                     ORDER BY segment, xid, pos LIMIT $3",
                    &[&seg, &horizon, &limit],
                ),
                Some((Some(xid), at)) => c.query(
                    "SELECT pos, line FROM audit_log
                     WHERE (segment, xid, pos) > ($1, $2::text::xid8, $3) AND segment = $1
                       AND xid < $4::text::xid8
                     ORDER BY segment, xid, pos LIMIT $5",
                    &[&seg, xid, at, &horizon, &limit],
                ),
                Some((None, at)) => c.query(
                    "SELECT pos, line FROM audit_log
                     WHERE segment = $1 AND pos > $2 AND xid < $3::text::xid8
                     ORDER BY segment, xid, pos LIMIT $4",
                    &[&seg, at, &horizon, &limit],
                ),
            })?;
            Ok(numbered(&rows))
        };
        // What is settled now; a short page waits for the transactions
        // under way to end, and is read again.
        let (xmin, xmax) = self.snapshot_bounds()?;
        let first = page(&xmin)?;
        if xmin == xmax || first.len() as i64 >= limit {
            return Ok(first);
        }
        page(&self.settled(xmin, xmax)?)
    }

    fn last_lines(&self, segment: u64, n: usize) -> Result<Vec<(u64, String)>> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let (xmin, xmax) = self.snapshot_bounds()?;
        let horizon = self.settled(xmin, xmax)?;
        let rows = self.pool.run(|c| {
            c.query(
                "SELECT pos, line FROM (
                   SELECT xid, pos, line FROM audit_log WHERE segment = $1 AND xid < $2::text::xid8
                   ORDER BY segment DESC, xid DESC, pos DESC LIMIT $3) t
                 ORDER BY xid, pos",
                &[&(segment as i64), &horizon, &n],
            )
        })?;
        Ok(numbered(&rows))
    }

    fn new_segment(
        self: Box<Self>,
        segment: u64,
        _now_ms: i64,
    ) -> Result<(Box<dyn AuditLog>, String)> {
        self.start_segment(segment)?;
        let kept = format!(
            "segment {} of {}",
            segment.saturating_sub(1),
            self.location()
        );
        Ok((self, kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database of `MIGRATIONS[..version]` on the test server
    /// (`SEALBOX_TEST_PG_URL`, from `make pg-start`), or `None` without it.
    fn database_at_schema(tag: &str, version: usize) -> Option<String> {
        let Some(url) = std::env::var("SEALBOX_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "SEALBOX_TEST_PG_URL is not set: on CI the PostgreSQL tests must run (make pg-start)"
            );
            return None;
        };
        let name = format!("sbu_{}_{tag}", std::process::id());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, query) = url
            .split_once('?')
            .map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
        let at = base.rfind('/').unwrap();
        let db = format!(
            "{}/{name}{}",
            &base[..at],
            query.map_or(String::new(), |q| format!("?{q}"))
        );
        let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "CREATE TABLE sealbox_schema (version BIGINT NOT NULL);
             INSERT INTO sealbox_schema (version) VALUES ({version});"
        ))
        .unwrap();
        for m in &MIGRATIONS[..version] {
            c.batch_execute(m).unwrap();
        }
        Some(db)
    }

    fn event(operation: crate::keystore::Operation) -> AuditEvent {
        AuditEvent {
            time: "2026-12-06T00:00:00.000Z".into(),
            operation,
            key_id: None,
            key_version: None,
            source_key_id: None,
            source_key_version: None,
            detail: None,
            principal: "old".into(),
            encryption_context: None,
            outcome: crate::audit::Outcome::Allowed,
            error: None,
            request_id: "r".into(),
        }
    }

    /// A trail written before migration 7 (one chain, no writers) keeps
    /// verifying after it: its rows become the chain of changes to keys, in
    /// their order, and new data-plane records go to a writer's chain.
    #[test]
    fn a_trail_from_before_writer_chains_still_verifies() {
        use crate::keystore::Operation;
        let Some(url) = database_at_schema("schema6", 6) else {
            return;
        };
        let mac: ChainMac =
            Arc::new(|d: &[u8]| Ok(crate::crypto::digest(crate::crypto::HashAlg::Sha256, d)));
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut prev = audit::GENESIS.to_owned();
        let mut old = Vec::new();
        for (seq, op) in [Operation::CreateKey, Operation::Decrypt, Operation::Decrypt]
            .into_iter()
            .enumerate()
        {
            let (line, m) = audit::chained_line(&mac, seq as u64, &prev, &event(op)).unwrap();
            old.push((seq as i64, line));
            prev = m;
        }
        // Stored out of their order (as a table whose aborted inserts were
        // vacuumed may hold them): record 2 first.
        for i in [2, 0, 1] {
            c.execute(
                "INSERT INTO audit_log (segment, seq, line) VALUES (0, $1, $2)",
                &[&old[i].0, &old[i].1],
            )
            .unwrap();
        }
        let anchor = AuditAnchor {
            segment: 0,
            seq: 2,
            mac: prev.clone(),
            offset: None,
        };
        c.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2)",
            &[&AUDIT_ANCHOR, &anchor.encode().as_bytes()],
        )
        .unwrap();

        let store = PostgresStore::open(&url).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let log = store.audit_log(mac, false).unwrap();
        assert_eq!(log.check_anchor(&anchor).unwrap(), None);
        let lines = log.lines(0, None, 10).unwrap();
        assert_eq!(
            lines,
            old.iter()
                .enumerate()
                .map(|(i, (_, l))| (i as u64, l.clone()))
                .collect::<Vec<_>>(),
            "positions in the chain's order"
        );
        let r = log.verify(0, Some((2, prev.clone()))).unwrap();
        assert!(r.ok() && r.records == 3, "{r:?}");
        // New records: a change to keys continues the old chain, a
        // data-plane record starts writer 1's.
        log.record(&event(Operation::Decrypt)).unwrap();
        log.record(&event(Operation::DisableKey)).unwrap();
        let r = log.verify(0, None).unwrap();
        assert!(r.ok() && r.records == 5, "{r:?}");
        let rows: Vec<(i64, i64)> = c
            .query("SELECT writer, seq FROM audit_log ORDER BY xid, pos", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(rows, [(0, 0), (0, 1), (0, 2), (1, 0), (0, 3)]);
    }

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("postgresql://sealbox:s3cret@db.example:5432/keys?sslmode=require"),
            "postgresql://sealbox@db.example:5432/keys"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("postgresql://u@h"), "postgresql://u@h");
    }

    #[test]
    fn libpq_tls_parameters_are_passed_through() {
        let (u, m, r) =
            split_tls("postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.crt&connect_timeout=2")
                .unwrap();
        assert_eq!(u, "postgresql://u:p@h/db?sslmode=require&connect_timeout=2");
        assert_eq!(m, SslMode::VerifyFull);
        assert_eq!(r.as_deref(), Some("/tmp/ca.crt"));
        assert_eq!(split_tls("postgresql://h/db").unwrap().1, SslMode::Prefer);
        assert_eq!(
            split_tls("postgresql://h/db?sslmode=disable").unwrap().1,
            SslMode::Disable
        );
        assert!(matches!(
            split_tls("postgresql://h/db?sslmode=sometimes"),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn a_bad_url_is_an_invalid_argument_without_the_password() {
        match PostgresStore::open("postgresql://u:hunter2@h:notaport/db") {
            Err(Error::InvalidArgument(m)) => assert!(!m.contains("hunter2"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            PostgresStore::open("mysql://h/db"),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn an_unreachable_server_is_unavailable_and_fails_fast() {
        // A port nothing listens on (connection refused at once).
        let t = std::time::Instant::now();
        match PostgresStore::open("postgresql://u:p@127.0.0.1:1/db?sslmode=disable") {
            Err(Error::StoreUnavailable(m)) => assert!(!m.contains(":p@"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
