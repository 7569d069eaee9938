//! Opening the key store, and `sealbox init`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sealbox::keystore::store::postgres::PostgresStore;
use sealbox::keystore::{
    Backend, DefaultKeyPolicy, KeyStore, KeyStoreOptions, MetadataStore, Pin, Pkcs11Backend,
    Pkcs11Config, RootKey, SoftBackend, TokenSelector,
};

use crate::config::{
    redact_url, Database, FileConfig, Pkcs11File, Resolved, UrlSource, DATABASE_URL_ENV, ROOT_KEY,
    STORE_CONFIG,
};
use crate::error::{CliError, CliResult, Exit};

fn options(r: &Resolved) -> KeyStoreOptions {
    let mut o = KeyStoreOptions {
        audit_sync: r.file.audit_sync.unwrap_or(true),
        ..KeyStoreOptions::default()
    };
    if let Some(p) = r.principal() {
        o.principal = p;
    }
    o
}

/// The root key, from (highest first) `--root-key-file` /
/// `SEALBOX_ROOT_KEY_FILE`, `SEALBOX_ROOT_KEY` (hex or base64), the config
/// files' `root_key_file`, or `<store>/root.key`.
fn root_key(r: &Resolved) -> CliResult<RootKey> {
    if let Some(p) = &r.root_key_flag {
        return Ok(RootKey::from_file(p)?);
    }
    if std::env::var_os("SEALBOX_ROOT_KEY").is_some() {
        return Ok(RootKey::from_env("SEALBOX_ROOT_KEY")?);
    }
    let p = r
        .file
        .root_key_file
        .clone()
        .unwrap_or_else(|| r.store.join(ROOT_KEY));
    Ok(RootKey::from_file(p)?)
}

fn pin(p: &Pkcs11File) -> CliResult<Pin> {
    match (&p.pin_env, &p.pin_file) {
        (Some(var), _) => Ok(Pin::from_env(var).map_err(|_| {
            CliError::config(format!(
                "the token PIN is read from the environment variable {var}, which is not set"
            ))
        })?),
        (None, Some(f)) => Ok(Pin::from_file(f).map_err(|e| CliError::config(e.to_string()))?),
        (None, None) => Err(CliError::config(
            "[pkcs11] needs pin_env or pin_file to log in to the token",
        )),
    }
}

fn pkcs11_config(p: &Pkcs11File) -> CliResult<Pkcs11Config> {
    let token =
        TokenSelector::from_parts(p.token_label.clone(), p.token_serial.clone()).map_err(|e| {
            CliError::config(format!(
                "[pkcs11]: {e} (token_label or token_serial; tokens are never found by slot number)"
            ))
        })?;
    Ok(Pkcs11Config::new(p.module.clone(), token, pin(p)?))
}

/// What seals the store's keys, ready to open it.
enum Sealer {
    Soft(RootKey),
    Pkcs11(Pkcs11Config),
}

impl Sealer {
    fn of(r: &Resolved) -> CliResult<Sealer> {
        match r.file.backend.as_deref().unwrap_or("soft") {
            "soft" => Ok(Sealer::Soft(root_key(r)?)),
            "pkcs11" => {
                let p = r.file.pkcs11.as_ref().ok_or_else(|| {
                    CliError::config("backend = \"pkcs11\" needs a [pkcs11] section")
                })?;
                Ok(Sealer::Pkcs11(pkcs11_config(p)?))
            }
            other => Err(CliError::config(format!(
                "unknown backend {other:?} (soft or pkcs11)"
            ))),
        }
    }

    fn backend(self) -> CliResult<Arc<dyn Backend>> {
        Ok(match self {
            Sealer::Soft(k) => Arc::new(SoftBackend::new(&k)?),
            Sealer::Pkcs11(c) => Arc::new(Pkcs11Backend::open(c)?),
        })
    }
}

/// The name of the meta entry every initialised store has (the check value
/// of its root key or token).
const STORE_MARK: &str = "backend_check";

/// Connects to a database store; `Some(true)` if it holds a key store.
fn connect(url: &str) -> CliResult<(PostgresStore, bool)> {
    let hint = |e: sealbox::Error| -> CliError {
        let mut c = CliError::from(e);
        // A URL without a password (as `init` writes it when the URL came
        // from SEALBOX_DATABASE_URL): say where the password goes.
        if c.exit == Exit::Failure && redact_url(url) == url {
            c.message.push_str(&format!(
                " (the URL has no password: set {DATABASE_URL_ENV} to the URL with it)"
            ));
        }
        c
    };
    let store = PostgresStore::open(url).map_err(hint)?;
    let initialised = store.meta(STORE_MARK).map_err(hint)?.is_some();
    Ok((store, initialised))
}

/// A database that holds no key store: opening it would make one, which
/// only `init` does.
fn not_a_store(url: &str) -> CliError {
    CliError::config(format!(
        "the database {} holds no sealbox key store: run `sealbox init --database URL` to make one",
        redact_url(url)
    ))
}

fn open_backend_with(
    r: &Resolved,
    options: KeyStoreOptions,
    existing: bool,
) -> CliResult<KeyStore> {
    match r.database() {
        Database::Sqlite(db) => match Sealer::of(r)? {
            Sealer::Soft(k) => Ok(KeyStore::open(&db, &k, options)?),
            Sealer::Pkcs11(c) => Ok(KeyStore::open_pkcs11(&db, c, options)?),
        },
        Database::Postgres(url) => {
            let sealer = Sealer::of(r)?;
            let (store, initialised) = connect(&url)?;
            if existing && !initialised {
                return Err(not_a_store(&url));
            }
            Ok(KeyStore::open_with(
                Box::new(store),
                sealer.backend()?,
                options,
            )?)
        }
    }
}

/// Opens an initialised key store. Never creates one: a missing store is
/// an error that says how to make one.
pub fn open(r: &Resolved) -> CliResult<KeyStore> {
    open_backend_with(r, options(r), must_exist(r)?)
}

/// Checks what can be checked before connecting: a SQLite store's file.
fn must_exist(r: &Resolved) -> CliResult<bool> {
    match r.database() {
        Database::Sqlite(db) if !db.is_file() => Err(CliError::config(format!(
            "no key store at {}: run `sealbox init` (or pass --store DIR / set SEALBOX_STORE)",
            r.store.display()
        ))),
        Database::Sqlite(_) => Ok(true),
        Database::Postgres(url) => {
            if r.sqlite_path().exists() {
                let from = match r.database_url.as_ref().map(|(_, s)| *s) {
                    Some(UrlSource::Env) => DATABASE_URL_ENV,
                    _ => "`database` of the user's config file",
                };
                return Err(CliError::config(format!(
                    "{from} names the database {}, but the key store in {} is a SQLite store ({}): \
                     unset it to use that store",
                    redact_url(&url),
                    r.store.display(),
                    r.sqlite_path().display()
                )));
            }
            Ok(true)
        }
    }
}

/// Opens the store starting a new audit log segment (`sealbox audit
/// new-segment`): the operator's explicit, audited way to continue after
/// the log was lost or damaged. The old log is kept beside the new one
/// (a file moves aside; a database keeps the old segment's rows).
pub fn open_new_audit_segment(r: &Resolved, reason: &str) -> CliResult<KeyStore> {
    let existing = must_exist(r)?;
    let mut o = options(r);
    o.new_audit_segment = Some(reason.to_owned());
    open_backend_with(r, o, existing)
}

/// What `sealbox init` binds the store to.
#[derive(Debug)]
pub enum InitBackend {
    /// A fresh root key in this file (default `<store>/root.key`). With a
    /// database, an existing file is used instead: the root key of the
    /// store already in that database, for another host to join it.
    Soft { root_key_file: Option<PathBuf> },
    /// The root key in `SEALBOX_ROOT_KEY` (from the application's own
    /// secret manager): no root key file is written.
    SoftFromEnv,
    /// A PKCS#11 token.
    Pkcs11(Pkcs11File),
}

/// Where `sealbox init` puts the store's metadata.
#[derive(Debug)]
pub enum InitDatabase {
    /// `<store>/keys.db` (the default).
    Sqlite,
    /// `--database URL`: the URL is written to config.toml as given.
    Flag(String),
    /// `SEALBOX_DATABASE_URL` or a user config's `database`: the URL is
    /// written to config.toml without its password (which later commands
    /// take from the same place).
    Resolved(String),
}

/// What `sealbox init` made.
#[derive(Debug, serde::Serialize)]
pub struct InitReport {
    pub store: PathBuf,
    /// The SQLite file, or the database URL without its password.
    pub database: String,
    /// The audit log file, or where in the database the trail is kept.
    pub audit_log: String,
    pub config: PathBuf,
    pub backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_key_file: Option<PathBuf>,
    /// The root key file was made by this init (false: an existing one,
    /// the root key of a store already in the database).
    pub root_key_created: bool,
    /// The database already held this key store: this store directory is
    /// one more way into it (another host of the fleet).
    pub joined: bool,
    /// `--default-policy`, now the store's setting (none: left as it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_policy: Option<&'static str>,
}

/// Removes what a failed init created, newest first.
struct Undo(Vec<PathBuf>);

impl Undo {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            if p.is_dir() {
                let _ = std::fs::remove_dir(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Creates the store directory (0700), the root key file (0600) or the HSM
/// binding, the config file (0600), and the database and the audit log
/// (a SQLite file and its log, or the schema in a PostgreSQL database).
/// Refuses to touch anything that exists already; on failure removes what
/// it made. `default_policy` becomes the store's setting for keys created
/// without a policy.
pub fn init(
    r: &Resolved,
    backend: InitBackend,
    database: InitDatabase,
    default_policy: Option<DefaultKeyPolicy>,
) -> CliResult<InitReport> {
    use std::os::unix::fs::DirBuilderExt;
    let store = absolute(&r.store);
    let config_path = store.join(STORE_CONFIG);
    let db = store.join(crate::config::DATABASE);
    for p in [&config_path, &db] {
        if p.exists() {
            return Err(CliError::new(
                Exit::AlreadyExists,
                format!(
                    "{} exists: {} is already a key store (init never overwrites one)",
                    p.display(),
                    store.display()
                ),
            ));
        }
    }
    let (url, written_url) = match &database {
        InitDatabase::Sqlite => (None, None),
        InitDatabase::Flag(u) => (Some(u.clone()), Some(u.clone())),
        InitDatabase::Resolved(u) => (Some(u.clone()), Some(redact_url(u))),
    };
    if let Some(u) = &url {
        if !crate::config::is_url(u) {
            return Err(CliError::usage(format!(
                "--database takes a PostgreSQL URL (postgresql://user:password@host:port/db?sslmode=verify-full), not {}",
                redact_url(u)
            )));
        }
    }
    // A database is reached before anything is written: one that is down
    // or refuses the login leaves nothing behind. One that holds a store
    // already can only be joined with that store's root key or token.
    let joined = match &url {
        Some(u) => {
            let (_, initialised) = connect(u)?;
            if initialised {
                if let InitBackend::Soft { root_key_file } = &backend {
                    let path = absolute(
                        &root_key_file
                            .clone()
                            .unwrap_or_else(|| store.join(ROOT_KEY)),
                    );
                    if !path.exists() {
                        return Err(CliError::new(
                            Exit::AlreadyExists,
                            format!(
                                "the database {} already holds a sealbox key store, which a new \
                                 root key cannot open: to use it from here, init with its root key \
                                 (--root-key-file FILE naming a copy of it, or SEALBOX_ROOT_KEY)",
                                redact_url(u)
                            ),
                        ));
                    }
                }
            }
            initialised
        }
        None => false,
    };
    let mut undo = Undo(Vec::new());
    if !store.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&store)
            .map_err(|e| CliError::io(&store, e))?;
        undo.0.push(store.clone());
    }
    let mut file = FileConfig::default();
    let mut root_file = None;
    let mut root_key_created = false;
    match backend {
        InitBackend::Soft { root_key_file } => {
            let path = absolute(&root_key_file.unwrap_or_else(|| store.join(ROOT_KEY)));
            if path.exists() {
                if url.is_none() {
                    return Err(CliError::new(
                        Exit::AlreadyExists,
                        format!(
                            "root key file {} exists; init never overwrites a root key",
                            path.display()
                        ),
                    ));
                }
                // A database store: the file is the root key of the store
                // (to be) in the database; it is read, never rewritten.
                RootKey::from_file(&path)?;
            } else {
                RootKey::generate()?.write_new_file(&path)?;
                undo.0.push(path.clone());
                root_key_created = true;
            }
            file.backend = Some("soft".into());
            if path != store.join(ROOT_KEY) {
                file.root_key_file = Some(path.clone());
            }
            root_file = Some(path);
        }
        InitBackend::SoftFromEnv => {
            RootKey::from_env("SEALBOX_ROOT_KEY")?;
            file.backend = Some("soft".into());
        }
        InitBackend::Pkcs11(p) => {
            file.backend = Some("pkcs11".into());
            file.pkcs11 = Some(Pkcs11File {
                module: absolute(&p.module),
                pin_file: p.pin_file.as_deref().map(absolute),
                ..p
            });
        }
    }
    file.database = written_url;
    let text = format!(
        "# Written by `sealbox init`: how this key store is opened. See docs/CLI.md.\n{}",
        toml::to_string(&file).map_err(|e| CliError::failure(e.to_string()))?
    );
    write_new(&config_path, text.as_bytes())?;
    undo.0.push(config_path.clone());
    let opened = Resolved {
        store: store.clone(),
        // The user's settings (principal, ...) still apply, but the
        // backend and database are the ones just written.
        file: file.over(r.file.clone()),
        root_key_flag: root_file.clone(),
        principal_flag: r.principal_flag.clone(),
        database_url: url.clone().map(|u| (u, UrlSource::Env)),
    };
    let mut init_options = options(&opened);
    init_options.default_key_policy = default_policy;
    let ks = match &url {
        None => {
            if let Some(log) = opened.audit_log() {
                undo.0.push(log);
            }
            undo.0.push(db.clone());
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                undo.0.push(PathBuf::from(p));
            }
            // An empty file is a new SQLite database; creating it here gives
            // it (and the -wal/-shm files SQLite derives from it) mode 0600.
            write_new(&db, b"")?;
            open_backend_with(&opened, init_options, false)?
        }
        Some(u) => {
            let sealer = Sealer::of(&opened)?;
            let (pg, _) = connect(u)?;
            KeyStore::open_with(Box::new(pg), sealer.backend()?, init_options).map_err(
                |e| match e {
                    sealbox::Error::WrongRootKey => CliError::config(format!(
                        "the root key does not open the key store in the database {}: \
                         that store was made with another root key",
                        redact_url(u)
                    )),
                    other => other.into(),
                },
            )?
        }
    };
    let report = InitReport {
        backend: ks.backend_kind(),
        store,
        database: opened.database().display(),
        audit_log: ks
            .audit_log_location()
            .unwrap_or_else(|| "(none)".to_owned()),
        config: config_path,
        root_key_file: root_file,
        root_key_created,
        joined,
        default_policy: default_policy.map(DefaultKeyPolicy::name),
    };
    drop(ks);
    undo.keep();
    Ok(report)
}

fn write_new(path: &Path, data: &[u8]) -> CliResult<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CliError::io(path, e))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| CliError::io(path, e))
}
