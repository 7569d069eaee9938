//! `sealbox_pkcs11_config`: where an HSM is and how to log in.

use std::ffi::c_char;
use std::path::PathBuf;

use sealbox_core::keystore::{self as ks_api, Pin, Pkcs11Config, TokenSelector};
use sealbox_core::secret::SecretBytes;

use crate::error::{sealbox_result, Failure};
use crate::handle::box_handle;

/// Where an HSM is and how to log in, for `sealbox_keystore_open_pkcs11`.
///
/// Ownership: made by `sealbox_pkcs11_config_new`, freed (PIN wiped) by
/// `sealbox_pkcs11_config_free`; opening copies what it needs.
///
/// Thread safety: not thread-safe while being changed; once set up it may be
/// read (passed to `sealbox_keystore_open_pkcs11`) by several threads at once.
pub struct sealbox_pkcs11_config {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_pkcs11_config`.
pub(crate) struct Pkcs11Settings {
    module: PathBuf,
    token_label: Option<String>,
    token_serial: Option<String>,
    pin: SecretBytes,
    max_sessions: usize,
}

impl Pkcs11Settings {
    /// The core's configuration (a copy; the PIN into locked memory).
    pub(super) fn to_core(&self) -> Result<Pkcs11Config, Failure> {
        let token = TokenSelector::from_parts(self.token_label.clone(), self.token_serial.clone())?;
        Ok(Pkcs11Config {
            module: self.module.clone(),
            token,
            pin: Pin::from_bytes(self.pin.as_bytes())?,
            max_sessions: Pkcs11Config::sessions(self.max_sessions)?,
        })
    }
}

/// A PKCS#11 configuration: the module (e.g.
/// `/usr/lib/softhsm/libsofthsm2.so`) and the user PIN. Name the token with
/// `sealbox_pkcs11_config_set_token_label` or `_set_token_serial` (never by
/// slot number: slots are renumbered).
///
/// Ownership: `module` and `pin` are copied (the PIN into locked memory);
/// the caller frees `*out` with `sealbox_pkcs11_config_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pkcs11_config_new(
    module: *const c_char,
    pin: *const u8,
    pin_len: usize,
    out: *mut *mut sealbox_pkcs11_config,
) -> sealbox_result {
    ffi_boundary! {
        let module = try_str!(module);
        let pin = try_slice!(pin, pin_len);
        let out = try_out!(out);
        out.write(box_handle(Pkcs11Settings {
            module: PathBuf::from(module),
            token_label: None,
            token_serial: None,
            pin: SecretBytes::from_slice(pin)?,
            max_sessions: ks_api::DEFAULT_MAX_SESSIONS.get(),
        }));
        Ok(())
    }
}

/// Finds the token by its label.
///
/// Ownership: `label` is copied.
///
/// Thread safety: not while another thread uses `config`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pkcs11_config_set_token_label(
    config: *mut sealbox_pkcs11_config,
    label: *const c_char,
) -> sealbox_result {
    with_mut!(config, |config| config.token_label =
        Some(try_str!(label).to_owned()))
}

/// Finds the token by its serial number.
///
/// Ownership: `serial` is copied.
///
/// Thread safety: not while another thread uses `config`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pkcs11_config_set_token_serial(
    config: *mut sealbox_pkcs11_config,
    serial: *const c_char,
) -> sealbox_result {
    with_mut!(config, |config| config.token_serial =
        Some(try_str!(serial).to_owned()))
}

/// The most HSM sessions to keep open and use at once (default 8; at least 1).
///
/// Ownership: no pointers kept.
///
/// Thread safety: not while another thread uses `config`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pkcs11_config_set_max_sessions(
    config: *mut sealbox_pkcs11_config,
    max_sessions: usize,
) -> sealbox_result {
    ffi_boundary! {
        let config = try_mut!(config);
        if max_sessions == 0 {
            return Err(Failure::arg("max_sessions must be at least 1"));
        }
        config.max_sessions = max_sessions;
        Ok(())
    }
}

/// Frees a PKCS#11 configuration (the PIN is wiped). NULL is a no-op.
///
/// Ownership: takes back `config`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pkcs11_config_free(config: *mut sealbox_pkcs11_config) {
    free_handle!(box config)
}
