//! Where the HSM is and how to log in: the module path, the token and the
//! PIN.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// A token PIN, held as a secret.
pub struct Pin(pub(super) SecretBytes);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(..)")
    }
}

impl Pin {
    /// A PIN the application holds.
    pub fn from_bytes(pin: &[u8]) -> Result<Self> {
        Ok(Pin(SecretBytes::from_slice(pin)?))
    }

    /// A PIN from an environment variable.
    pub fn from_env(var: &str) -> Result<Self> {
        let mut v = std::env::var(var).map_err(|_| {
            Error::InvalidArgument(format!("environment variable {var} is not set"))
        })?;
        let p = Self::from_bytes(v.trim_end_matches(['\r', '\n']).as_bytes());
        zeroize::Zeroize::zeroize(&mut v);
        p
    }

    /// A PIN from a file (first line), refusing group/other access.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let raw = crate::secret::read_private_file(path.as_ref(), |why| {
            Error::InvalidArgument(format!("PIN file: {why}"))
        })?;
        let raw = raw.as_bytes();
        let end = raw
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(raw.len());
        Self::from_bytes(&raw[..end])
    }
}

impl Pin {
    /// The PIN from exactly one of its sources: the value itself, an
    /// environment variable or a file (see [`Pin::from_env`] and
    /// [`Pin::from_file`]). The one rule every surface applies.
    pub fn from_one_of(
        value: Option<&[u8]>,
        env: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Self> {
        match (value, env, file) {
            (Some(v), None, None) => Self::from_bytes(v),
            (None, Some(var), None) => Self::from_env(var),
            (None, None, Some(path)) => Self::from_file(path),
            _ => Err(Error::InvalidArgument(
                "give the PIN by exactly one of a value, an environment variable or a file".into(),
            )),
        }
    }

    /// A second copy of the PIN, for opening another store with it
    /// (explicit, since a PIN is a secret).
    pub fn try_clone(&self) -> Result<Self> {
        Self::from_bytes(self.0.as_bytes())
    }
}

/// Which token of the module to use: by label or by serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    /// The token with this label (`CKA_LABEL` of the token info, trimmed).
    Label(String),
    /// The token with this serial number.
    Serial(String),
}

impl TokenSelector {
    /// Exactly one of a label or a serial number: the one rule every
    /// surface applies.
    pub fn from_parts(label: Option<String>, serial: Option<String>) -> Result<Self> {
        match (label, serial) {
            (Some(l), None) => Ok(Self::Label(l)),
            (None, Some(s)) => Ok(Self::Serial(s)),
            _ => Err(Error::InvalidArgument(
                "name the token by exactly one of its label or its serial number".into(),
            )),
        }
    }

    /// Whether a token with this label and serial number is the one.
    pub fn matches(&self, label: &str, serial: &str) -> bool {
        match self {
            Self::Label(l) => l == label,
            Self::Serial(s) => s == serial,
        }
    }

    /// The label, when the token is named by one.
    pub fn label(&self) -> Option<&str> {
        match self {
            Self::Label(l) => Some(l),
            Self::Serial(_) => None,
        }
    }

    /// The serial number, when the token is named by one.
    pub fn serial(&self) -> Option<&str> {
        match self {
            Self::Serial(s) => Some(s),
            Self::Label(_) => None,
        }
    }
}

impl std::fmt::Display for TokenSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Label(l) => write!(f, "label {l:?}"),
            Self::Serial(s) => write!(f, "serial number {s:?}"),
        }
    }
}

/// How many sessions to keep open (and use at once) when none is said.
pub const DEFAULT_MAX_SESSIONS: NonZeroUsize = match NonZeroUsize::new(8) {
    Some(n) => n,
    None => unreachable!(),
};

/// The environment variable naming the PKCS#11 module when the caller
/// names none.
pub const MODULE_ENV: &str = "SEALBOX_PKCS11_MODULE";

/// Where the HSM is and how to log in.
#[derive(Debug)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token.
    pub token: TokenSelector,
    /// The user PIN.
    pub pin: Pin,
    /// The most sessions to keep open (and use at once).
    pub max_sessions: NonZeroUsize,
}

impl Pkcs11Config {
    /// A configuration with [`DEFAULT_MAX_SESSIONS`].
    pub fn new(module: impl Into<PathBuf>, token: TokenSelector, pin: Pin) -> Self {
        Pkcs11Config {
            module: module.into(),
            token,
            pin,
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }

    /// The module path given, or else the one [`MODULE_ENV`] names.
    pub fn module_or_env(module: Option<PathBuf>) -> Result<PathBuf> {
        module
            .or_else(|| std::env::var_os(MODULE_ENV).map(PathBuf::from))
            .ok_or_else(|| {
                Error::InvalidArgument(format!("name the PKCS#11 module or set {MODULE_ENV}"))
            })
    }

    /// A session limit: at least 1.
    pub fn sessions(n: usize) -> Result<NonZeroUsize> {
        NonZeroUsize::new(n)
            .ok_or_else(|| Error::InvalidArgument("max_sessions must be at least 1".into()))
    }
}
