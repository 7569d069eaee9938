//! Opening the key store, and `sealbox init`.

use std::path::{Path, PathBuf};

use sealbox::keystore::{
    KeyStore, KeyStoreOptions, Pin, Pkcs11Config, RootKey, TokenSelector,
};

use crate::config::{FileConfig, Pkcs11File, Resolved, ROOT_KEY, STORE_CONFIG};
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
    let token = TokenSelector::from_parts(p.token_label.clone(), p.token_serial.clone())
        .map_err(|e| {
            CliError::config(format!(
                "[pkcs11]: {e} (token_label or token_serial; tokens are never found by slot number)"
            ))
        })?;
    Ok(Pkcs11Config::new(p.module.clone(), token, pin(p)?))
}

fn open_backend(r: &Resolved) -> CliResult<KeyStore> {
    open_backend_with(r, options(r))
}

fn open_backend_with(r: &Resolved, options: KeyStoreOptions) -> CliResult<KeyStore> {
    let db = r.database();
    match r.file.backend.as_deref().unwrap_or("soft") {
        "soft" => Ok(KeyStore::open(&db, &root_key(r)?, options)?),
        "pkcs11" => {
            let p =
                r.file.pkcs11.as_ref().ok_or_else(|| {
                    CliError::config("backend = \"pkcs11\" needs a [pkcs11] section")
                })?;
            Ok(KeyStore::open_pkcs11(&db, pkcs11_config(p)?, options)?)
        }
        other => Err(CliError::config(format!(
            "unknown backend {other:?} (soft or pkcs11)"
        ))),
    }
}

/// Opens an initialised key store. Never creates one: a missing store is
/// an error that says how to make one.
pub fn open(r: &Resolved) -> CliResult<KeyStore> {
    if !r.database().is_file() {
        return Err(CliError::config(format!(
            "no key store at {}: run `sealbox init` (or pass --store DIR / set SEALBOX_STORE)",
            r.store.display()
        )));
    }
    open_backend(r)
}

/// Opens the store starting a new audit log segment (`sealbox audit
/// new-segment`): the operator's explicit, audited way to continue after
/// the log was lost or damaged. The old log is kept beside the new one.
pub fn open_new_audit_segment(r: &Resolved, reason: &str) -> CliResult<KeyStore> {
    if !r.database().is_file() {
        return Err(CliError::config(format!(
            "no key store at {}",
            r.store.display()
        )));
    }
    let mut o = options(r);
    o.new_audit_segment = Some(reason.to_owned());
    open_backend_with(r, o)
}

/// What `sealbox init` binds the store to.
#[derive(Debug)]
pub enum InitBackend {
    /// A fresh root key in this file (default `<store>/root.key`).
    Soft { root_key_file: Option<PathBuf> },
    /// The root key in `SEALBOX_ROOT_KEY` (from the application's own
    /// secret manager): no root key file is written.
    SoftFromEnv,
    /// A PKCS#11 token.
    Pkcs11(Pkcs11File),
}

/// What `sealbox init` made.
#[derive(Debug, serde::Serialize)]
pub struct InitReport {
    pub store: PathBuf,
    pub database: PathBuf,
    pub audit_log: PathBuf,
    pub config: PathBuf,
    pub backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_key_file: Option<PathBuf>,
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
/// binding, the config file, the database and the audit log. Refuses to
/// touch anything that exists already; on failure removes what it made.
pub fn init(r: &Resolved, backend: InitBackend) -> CliResult<InitReport> {
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
    match backend {
        InitBackend::Soft { root_key_file } => {
            let path = absolute(&root_key_file.unwrap_or_else(|| store.join(ROOT_KEY)));
            if path.exists() {
                return Err(CliError::new(
                    Exit::AlreadyExists,
                    format!(
                        "root key file {} exists; init never overwrites a root key",
                        path.display()
                    ),
                ));
            }
            RootKey::generate()?.write_new_file(&path)?;
            undo.0.push(path.clone());
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
    let text = format!(
        "# Written by `sealbox init`: how this key store is opened. See docs/CLI.md.\n{}",
        toml::to_string(&file).map_err(|e| CliError::failure(e.to_string()))?
    );
    write_new(&config_path, text.as_bytes())?;
    undo.0.push(config_path.clone());
    let opened = Resolved {
        store: store.clone(),
        // The user's settings (principal, ...) still apply, but the
        // backend is the one just written.
        file: file.over(r.file.clone()),
        root_key_flag: root_file.clone(),
        principal_flag: r.principal_flag.clone(),
    };
    undo.0.push(opened.audit_log());
    undo.0.push(db.clone());
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        undo.0.push(PathBuf::from(p));
    }
    // An empty file is a new SQLite database; creating it here gives it
    // (and the -wal/-shm files SQLite derives from it) mode 0600.
    write_new(&db, b"")?;
    let ks = open_backend(&opened)?;
    let report = InitReport {
        backend: ks.backend_kind(),
        store,
        database: db,
        audit_log: opened.audit_log(),
        config: config_path,
        root_key_file: root_file,
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
