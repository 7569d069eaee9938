//! Errors of the command line and the exit codes that scripts rely on.
//!
//! The table is documented in docs/CLI.md; numbers are never reused.

use std::fmt;

use sealbox::ErrorKind;

/// Exit codes. `2` is also what clap uses for a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not listed below (I/O, storage, HSM errors, ...).
    Failure = 1,
    /// Wrong arguments: detected before any work was done.
    Usage = 2,
    /// A message or blob could not be decrypted (deliberately opaque).
    DecryptionFailed = 3,
    /// No key or alias by that name.
    KeyNotFound = 4,
    /// The key is disabled or pending deletion.
    KeyDisabled = 5,
    /// The key (or its backend) does not allow this operation or is in the
    /// wrong state for it.
    InvalidKeyUsage = 6,
    /// A signature or MAC did not verify.
    VerificationFailed = 7,
    /// The audit log failed verification (edited, removed or reordered records).
    AuditLogTampered = 8,
    /// The key store or a key file cannot be used: not initialised, wrong
    /// root key or PIN, unreadable or loosely protected key file, bad
    /// config file.
    Configuration = 9,
    /// Something by that name already exists (alias, output file, key store).
    AlreadyExists = 10,
    /// The principal may not do this with the key (key policy, grants).
    AccessDenied = 11,
    /// The key store's database cannot be reached (PostgreSQL down or
    /// restarting); nothing was changed: retry later.
    StoreUnavailable = 12,
    /// Key metadata was changed outside sealbox (a row's MAC fails).
    StoreTampered = 13,
}

impl Exit {
    /// The stable name printed with `--json` errors.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Failure => "Failure",
            Exit::Usage => "UsageError",
            Exit::DecryptionFailed => "DecryptionFailed",
            Exit::KeyNotFound => "KeyNotFound",
            Exit::KeyDisabled => "KeyDisabled",
            Exit::InvalidKeyUsage => "InvalidKeyUsage",
            Exit::VerificationFailed => "VerificationFailed",
            Exit::AuditLogTampered => "AuditLogTampered",
            Exit::Configuration => "ConfigurationError",
            Exit::AlreadyExists => "AlreadyExists",
            Exit::StoreUnavailable => "StoreUnavailable",
            Exit::AccessDenied => "AccessDenied",
            Exit::StoreTampered => "StoreTampered",
        }
    }
}

/// A failure of one command: what to tell the user and how to exit.
#[derive(Debug)]
pub struct CliError {
    /// How the process exits.
    pub exit: Exit,
    /// One sentence for people (scripts use the exit code).
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Exit::Configuration, message)
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }

    /// The same error, its message naming other options (`--key-` as
    /// `--to-key-`, say).
    pub fn reworded(mut self, from: &str, to: &str) -> Self {
        self.message = self.message.replace(from, to);
        self
    }

    /// An I/O error on a named file.
    pub fn io(what: &std::path::Path, e: std::io::Error) -> Self {
        Self::failure(format!("{}: {e}", what.display()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Exit {
    /// The exit status of each kind of the core's errors. Exhaustive: a new
    /// kind does not compile until it has its status here.
    pub fn of_kind(kind: ErrorKind) -> Exit {
        match kind {
            ErrorKind::DecryptionFailed => Exit::DecryptionFailed,
            ErrorKind::KeyNotFound => Exit::KeyNotFound,
            ErrorKind::KeyDisabled => Exit::KeyDisabled,
            ErrorKind::InvalidKeyUsage
            | ErrorKind::InvalidKeyState
            | ErrorKind::Unsupported
            | ErrorKind::UnsupportedByHsm => Exit::InvalidKeyUsage,
            ErrorKind::InvalidArgument
            | ErrorKind::NullParameter
            | ErrorKind::CommitmentPolicyViolation => Exit::Usage,
            ErrorKind::InvalidKey | ErrorKind::WrongRootKey => Exit::Configuration,
            ErrorKind::AlreadyExists => Exit::AlreadyExists,
            ErrorKind::AuditLogTampered => Exit::AuditLogTampered,
            ErrorKind::StoreUnavailable => Exit::StoreUnavailable,
            ErrorKind::AccessDenied => Exit::AccessDenied,
            ErrorKind::StoreTampered => Exit::StoreTampered,
            ErrorKind::Panic
            | ErrorKind::InvalidState
            | ErrorKind::TooManyEncryptedDataKeys
            | ErrorKind::MessageTooLarge
            | ErrorKind::EncryptFailed
            | ErrorKind::RngFailure
            | ErrorKind::IoError
            | ErrorKind::StorageError
            | ErrorKind::AuditError
            | ErrorKind::Pkcs11Error => Exit::Failure,
        }
    }
}

/// `sealbox exit-codes`: every error kind of the core, its number and the
/// exit status it gives.
pub fn print_exit_codes(json: bool) {
    let rows: Vec<(ErrorKind, Exit)> = ErrorKind::ALL
        .iter()
        .map(|k| (*k, Exit::of_kind(*k)))
        .collect();
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(k, e)| {
                serde_json::json!({
                    "kind": k.name(),
                    "kind_code": k.code(),
                    "exit_code": *e as u8,
                    "exit_name": e.name(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        for (k, e) in rows {
            println!("{:<28} {:>2}  {}", k.name(), e as u8, e.name());
        }
    }
}

impl From<sealbox::Error> for CliError {
    fn from(e: sealbox::Error) -> Self {
        let exit = match &e {
            // A wrong, locked or expired PIN: the store cannot be used with
            // the credentials it was given, as with a wrong root key.
            sealbox::Error::Pkcs11 { function, .. } if function == "C_Login" => Exit::Configuration,
            other => Exit::of_kind(other.kind()),
        };
        let message = match e {
            // One message for every cause, as the library intends; say where
            // the detail is instead.
            sealbox::Error::DecryptionFailed => {
                "decryption failed: the key(s) given cannot decrypt this \
                message, or it was altered, truncated or written under another encryption \
                context (for key-store keys, `sealbox audit tail` shows the key store's reason)"
                    .to_owned()
            }
            other => other.to_string(),
        };
        CliError { exit, message }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        // The streaming adapters wrap a library error in an io::Error.
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<sealbox::Error>()) {
            return inner.clone().into();
        }
        Self::failure(format!("I/O error: {e}"))
    }
}

pub type CliResult<T> = Result<T, CliError>;
