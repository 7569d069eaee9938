//! What a build of sealbox is: its version and its crypto provider.
//!
//! Every package (the crate, the C library, the Python and Node packages,
//! the `sealbox` command) takes its version from the one workspace version
//! in `Cargo.toml` and reports it with the provider it was built with, so
//! that a bug report or an audit can tell exactly which build ran.

use std::fmt;

/// The version of this library: the workspace version, the same for every
/// package built from this source tree.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version and crypto provider of this build, and whether the provider
/// runs in FIPS mode now. [`build_info`] returns it; its `Display` form is
/// what `sealbox --version` prints after the program name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo {
    /// [`VERSION`].
    pub version: &'static str,
    /// The compiled-in crypto provider ([`crate::crypto::PROVIDER`]):
    /// `aws-lc`, `aws-lc (FIPS)` or `rustcrypto`.
    pub crypto_provider: &'static str,
    /// Whether the provider reports that it runs in its FIPS 140-3 mode
    /// ([`crate::crypto::fips_mode`]); only a `fips` build can.
    pub fips_mode: bool,
}

/// This build's version, crypto provider and FIPS mode.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: VERSION,
        crypto_provider: crate::crypto::PROVIDER,
        fips_mode: crate::crypto::fips_mode(),
    }
}

impl fmt::Display for BuildInfo {
    /// `0.1.0 (crypto provider: aws-lc, FIPS mode: off)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (crypto provider: {}, FIPS mode: {})",
            self.version,
            self.crypto_provider,
            if self.fips_mode { "on" } else { "off" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_crate_version_and_the_compiled_provider() {
        let info = build_info();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.crypto_provider, crate::crypto::PROVIDER);
        assert_eq!(info.fips_mode, cfg!(feature = "fips"));
        let text = info.to_string();
        assert!(
            text.starts_with(&format!("{} (crypto provider: ", VERSION)),
            "{text}"
        );
        assert!(
            text.ends_with(if info.fips_mode {
                "FIPS mode: on)"
            } else {
                "FIPS mode: off)"
            }),
            "{text}"
        );
    }
}
