//! Where the HSM is and how to log in: the module path, the token and the
//! PIN.

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
        use std::os::unix::fs::MetadataExt;
        let p = path.as_ref();
        let meta = std::fs::metadata(p)
            .map_err(|e| Error::InvalidArgument(format!("PIN file {}: {e}", p.display())))?;
        if meta.mode() & 0o077 != 0 {
            return Err(Error::InvalidArgument(format!(
                "PIN file {} must not be accessible by group or others (chmod 600)",
                p.display()
            )));
        }
        let mut raw = std::fs::read(p)
            .map_err(|e| Error::InvalidArgument(format!("PIN file {}: {e}", p.display())))?;
        let end = raw
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(raw.len());
        let pin = Self::from_bytes(&raw[..end]);
        zeroize::Zeroize::zeroize(&mut raw);
        pin
    }
}

/// Where the HSM is and how to log in.
#[derive(Debug)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: Option<String>,
    /// Or the token's serial number.
    pub token_serial: Option<String>,
    /// The user PIN.
    pub pin: Pin,
    /// The most sessions to keep open (and use at once).
    pub max_sessions: usize,
}
