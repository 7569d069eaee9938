//! Where the key store is and how to open it.
//!
//! Precedence, highest first: command-line flags, environment variables,
//! the user's config file, the store's own config file (written by
//! `sealbox init`), built-in defaults. docs/CLI.md has the details.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

/// The name of the store's config file inside the store directory.
pub const STORE_CONFIG: &str = "config.toml";
/// The metadata database inside the store directory.
pub const DATABASE: &str = "keys.db";
/// The default root key file inside the store directory.
pub const ROOT_KEY: &str = "root.key";

/// The keys a config file may hold. Unknown keys are refused so that a
/// typo does not silently fall back to a default. Written only as TOML,
/// which leaves unset (`None`) keys out.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The key store directory (meaningful in the user's config file).
    pub store: Option<PathBuf>,
    /// `soft` or `pkcs11`.
    pub backend: Option<String>,
    /// The root key file of a soft store (relative to the file's directory).
    pub root_key_file: Option<PathBuf>,
    /// Who operations are attributed to in the audit trail.
    pub principal: Option<String>,
    /// fsync every audit record before the operation returns (default true).
    pub audit_sync: Option<bool>,
    /// A PostgreSQL URL (`postgresql://user@host:port/db?sslmode=...`): the
    /// store's metadata and audit trail live in that database instead of
    /// `keys.db` and its log file. `SEALBOX_DATABASE_URL` overrides it.
    pub database: Option<String>,
    /// The HSM binding of a pkcs11 store.
    pub pkcs11: Option<Pkcs11File>,
}

/// `[pkcs11]` of a config file.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11File {
    /// Path of the PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: Option<String>,
    /// Or its serial number.
    pub token_serial: Option<String>,
    /// The environment variable that holds the user PIN.
    pub pin_env: Option<String>,
    /// Or a file (mode 0600) whose first line is the PIN.
    pub pin_file: Option<PathBuf>,
}

impl FileConfig {
    /// Reads a config file; relative paths in it are taken relative to the
    /// file's directory.
    pub fn load(path: &Path) -> CliResult<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::config(format!("config file {}: {e}", path.display())))?;
        let mut c: FileConfig = toml::from_str(&text)
            .map_err(|e| CliError::config(format!("config file {}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = c.store.as_mut() {
            fix(p)
        }
        if let Some(p) = c.root_key_file.as_mut() {
            fix(p)
        }
        if let Some(k) = c.pkcs11.as_mut() {
            if let Some(p) = k.pin_file.as_mut() {
                fix(p)
            }
        }
        Ok(c)
    }

    /// `self` where set, else `lower`.
    pub fn over(self, lower: FileConfig) -> FileConfig {
        FileConfig {
            store: self.store.or(lower.store),
            backend: self.backend.or(lower.backend),
            root_key_file: self.root_key_file.or(lower.root_key_file),
            principal: self.principal.or(lower.principal),
            audit_sync: self.audit_sync.or(lower.audit_sync),
            database: self.database.or(lower.database),
            pkcs11: self.pkcs11.or(lower.pkcs11),
        }
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home().map(|h| h.join(fallback)))
}

/// The user's config file: `--config` / `SEALBOX_CONFIG` (must exist), else
/// `$XDG_CONFIG_HOME/sealbox/config.toml` when it exists.
pub fn user_config(explicit: Option<&Path>) -> CliResult<FileConfig> {
    match explicit {
        Some(p) => FileConfig::load(p),
        None => match xdg("XDG_CONFIG_HOME", ".config").map(|d| d.join("sealbox/config.toml")) {
            Some(p) if p.is_file() => FileConfig::load(&p),
            _ => Ok(FileConfig::default()),
        },
    }
}

/// The default store directory: `$XDG_DATA_HOME/sealbox`, i.e.
/// `~/.local/share/sealbox`.
pub fn default_store() -> CliResult<PathBuf> {
    xdg("XDG_DATA_HOME", ".local/share")
        .map(|d| d.join("sealbox"))
        .ok_or_else(|| {
            CliError::config("no key store directory: pass --store DIR or set SEALBOX_STORE")
        })
}

/// The environment variable that overrides the `database` setting (so
/// that a password need not be written in a file).
pub const DATABASE_URL_ENV: &str = "SEALBOX_DATABASE_URL";

/// Whether `s` is a PostgreSQL URL rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgresql://") || s.starts_with("postgres://")
}

/// `url` without its password (`user:pw@` becomes `user@`, a `password`
/// parameter is dropped): the only form of a database URL that is shown.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a PostgreSQL URL)".to_owned();
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match base.find('/') {
        Some(i) => base.split_at(i),
        None => (base, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(q) = query {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| {
                let k = kv.split('=').next().unwrap_or("");
                !k.eq_ignore_ascii_case("password") && !k.is_empty()
            })
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

/// Where the store's metadata (and, for a database, its audit trail) lives.
#[derive(Debug, Clone)]
pub enum Database {
    /// `<store>/keys.db`, with its audit log `keys.db.audit.jsonl` beside it.
    Sqlite(PathBuf),
    /// A PostgreSQL URL; may hold a password, so shown only by `display()`.
    Postgres(String),
}

impl Database {
    /// For messages and `--json`: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(u) => redact_url(u),
        }
    }
}

/// Where a `database` URL came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    /// `SEALBOX_DATABASE_URL`.
    Env,
    /// A config file.
    File,
}

/// Everything needed to open the key store, resolved.
#[derive(Debug)]
pub struct Resolved {
    /// The store directory.
    pub store: PathBuf,
    /// The merged file configuration (user's over the store's).
    pub file: FileConfig,
    /// `--root-key-file` / `SEALBOX_ROOT_KEY_FILE`.
    pub root_key_flag: Option<PathBuf>,
    /// `--principal` / `SEALBOX_PRINCIPAL`.
    pub principal_flag: Option<String>,
    /// The PostgreSQL URL (`SEALBOX_DATABASE_URL` over the config files'
    /// `database`) and where it came from; `None`: a SQLite store.
    pub database_url: Option<(String, UrlSource)>,
}

impl Resolved {
    pub fn database(&self) -> Database {
        match &self.database_url {
            Some((u, _)) => Database::Postgres(u.clone()),
            None => Database::Sqlite(self.sqlite_path()),
        }
    }

    /// `<store>/keys.db`, whether or not the store uses it.
    pub fn sqlite_path(&self) -> PathBuf {
        self.store.join(DATABASE)
    }

    /// The audit log file of a SQLite store (`None` for a database store,
    /// whose trail is the database's `audit_log` table).
    pub fn audit_log(&self) -> Option<PathBuf> {
        match self.database() {
            Database::Sqlite(db) => {
                let mut p = db.into_os_string();
                p.push(".audit.jsonl");
                Some(PathBuf::from(p))
            }
            Database::Postgres(_) => None,
        }
    }

    pub fn principal(&self) -> Option<String> {
        self.principal_flag
            .clone()
            .or_else(|| self.file.principal.clone())
    }
}

/// Resolves the store directory and reads both config files.
pub fn resolve(
    store_flag: Option<&Path>,
    config_flag: Option<&Path>,
    root_key_flag: Option<&Path>,
    principal_flag: Option<&str>,
) -> CliResult<Resolved> {
    let user = user_config(config_flag)?;
    let store = match store_flag {
        Some(s) => s.to_path_buf(),
        None => match &user.store {
            Some(s) => s.clone(),
            None => default_store()?,
        },
    };
    let store_file = store.join(STORE_CONFIG);
    let store_cfg = if store_file.is_file() {
        let c = FileConfig::load(&store_file)?;
        if c.store.is_some() {
            return Err(CliError::config(format!(
                "{}: `store` belongs in the user's config file, not in the store's",
                store_file.display()
            )));
        }
        c
    } else {
        FileConfig::default()
    };
    let file = user.over(store_cfg);
    let env_url = std::env::var(DATABASE_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty());
    let database_url = match (env_url, &file.database) {
        (Some(u), _) => Some((u, UrlSource::Env)),
        (None, Some(u)) => Some((u.clone(), UrlSource::File)),
        (None, None) => None,
    };
    if let Some((u, source)) = &database_url {
        if !is_url(u) {
            let from = match source {
                UrlSource::Env => DATABASE_URL_ENV.to_owned(),
                UrlSource::File => "`database` in the config file".to_owned(),
            };
            return Err(CliError::config(format!(
                "{from} must be a PostgreSQL URL (postgresql://user@host:port/db?sslmode=verify-full), not {}",
                redact_url(u)
            )));
        }
    }
    Ok(Resolved {
        store,
        file,
        root_key_flag: root_key_flag.map(Path::to_path_buf),
        principal_flag: principal_flag.map(str::to_owned),
        database_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_wins_field_by_field() {
        let upper = FileConfig {
            principal: Some("alice".into()),
            ..FileConfig::default()
        };
        let lower = FileConfig {
            principal: Some("bob".into()),
            backend: Some("soft".into()),
            ..FileConfig::default()
        };
        let m = upper.over(lower);
        assert_eq!(m.principal.as_deref(), Some("alice"));
        assert_eq!(m.backend.as_deref(), Some("soft"));
    }

    #[test]
    fn unset_keys_are_not_written() {
        let c = FileConfig {
            backend: Some("pkcs11".into()),
            pkcs11: Some(Pkcs11File {
                module: "/m.so".into(),
                token_label: Some("t".into()),
                ..Pkcs11File::default()
            }),
            ..FileConfig::default()
        };
        assert_eq!(
            toml::to_string(&c).unwrap(),
            "backend = \"pkcs11\"\n\n[pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\n"
        );
        assert_eq!(toml::to_string(&FileConfig::default()).unwrap(), "");
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgresql://sealbox:s3cr@t@db.example:5432/keys?sslmode=verify-full&sslrootcert=/ca.crt"),
            "postgresql://sealbox@db.example:5432/keys?sslmode=verify-full&sslrootcert=/ca.crt"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?password=x&sslmode=require"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://h:5432/db"),
            "postgresql://h:5432/db"
        );
        assert_eq!(redact_url("postgresql://u:pw@h"), "postgresql://u@h");
        assert_eq!(
            redact_url("postgresql://h/db?PASSWORD=x"),
            "postgresql://h/db"
        );
        assert!(!redact_url("nonsense:pw@x").contains("pw"));
    }

    #[test]
    fn the_database_url_is_read_from_the_config_file() {
        let c: FileConfig = toml::from_str("database = \"postgresql://u@h/db\"\n").unwrap();
        assert_eq!(c.database.as_deref(), Some("postgresql://u@h/db"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let r: Result<FileConfig, _> = toml::from_str("backend = \"soft\"\nroot_key = \"x\"\n");
        assert!(r.is_err());
        let r: Result<FileConfig, _> =
            toml::from_str("[pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\npin_env = \"P\"\n");
        assert_eq!(r.unwrap().pkcs11.unwrap().pin_env.as_deref(), Some("P"));
    }
}
