//! Errors of the command line and the exit codes that scripts rely on.
//!
//! The table is documented in docs/CLI.md; numbers are never reused.

use std::fmt;

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

impl From<sealbox::Error> for CliError {
    fn from(e: sealbox::Error) -> Self {
        use sealbox::Error as E;
        let exit = match &e {
            E::DecryptionFailed => Exit::DecryptionFailed,
            E::KeyNotFound(_) => Exit::KeyNotFound,
            E::KeyDisabled(_) => Exit::KeyDisabled,
            E::InvalidKeyUsage(_)
            | E::InvalidKeyState(_)
            | E::Unsupported(_)
            | E::UnsupportedByHsm { .. } => Exit::InvalidKeyUsage,
            E::InvalidArgument(_) | E::CommitmentPolicyViolation(_) => Exit::Usage,
            E::InvalidKey(_) | E::WrongRootKey => Exit::Configuration,
            // A wrong, locked or expired PIN: the store cannot be used with
            // the credentials it was given, as with a wrong root key.
            E::Pkcs11 { function, .. } if function == "C_Login" => Exit::Configuration,
            E::AlreadyExists(_) => Exit::AlreadyExists,
            _ => Exit::Failure,
        };
        let message = match e {
            // One message for every cause, as the library intends; say where
            // the detail is instead.
            E::DecryptionFailed => "decryption failed: the key(s) given cannot decrypt this \
                message, or it was altered, truncated or written under another encryption \
                context (for key-store keys, `sealbox audit tail` shows the key store's reason)"
                .to_owned(),
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
