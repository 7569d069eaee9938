//! The key store's configuration types: what it is sealed with
//! (`sealbox_root_key`), how it is opened (`sealbox_keystore_options`),
//! where its HSM is (`sealbox_pkcs11_config`) and what key to create
//! (`sealbox_create_key_request`). All are Box-owned builders.

use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Duration;

use sealbox_core::keystore::{
    self as ks_api, CreateKeyRequest, DefaultKeyPolicy, KeyPolicy, KeyStoreOptions, Pin,
    Pkcs11Config, RootKey, TokenSelector,
};
use sealbox_core::secret::SecretBytes;

use crate::error::{sealbox_result, Failure};
use crate::handle::box_handle;
use crate::values::at_least_one;

/// The 32-byte secret that seals a soft key store.
///
/// Ownership: made by a `sealbox_root_key_*` constructor, freed (and wiped)
/// by `sealbox_root_key_free`. `sealbox_keystore_open` copies what it
/// needs, so the root key may be freed right after opening.
///
/// Thread safety: immutable after construction; may be read by several
/// threads at once. Free it once, when no thread uses it.
pub struct sealbox_root_key {
    _private: [u8; 0],
}

/// A root key from 32 bytes the application holds (e.g. from its own
/// secret manager).
///
/// Ownership: `bytes` is copied; the caller frees `*out` with
/// `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    with_out!([bytes = try_slice!(bytes, len)]
        out => box_handle(RootKey::from_bytes(bytes)?))
}

/// A root key read from a file (32 raw bytes, 64 hex digits, or base64).
/// A file that the group or others may access is refused
/// (`SEALBOX_RESULT_INVALID_KEY`): make it mode 0600.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_file(
    path: *const c_char,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    with_out!([path = try_str!(path)]
        out => box_handle(RootKey::from_file(path)?))
}

/// A root key (hex or base64) from the environment variable `name`.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: reads the environment; do not call while another thread
/// changes it (setenv).
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_from_env(
    name: *const c_char,
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    with_out!([name = try_str!(name)]
        out => box_handle(RootKey::from_env(name)?))
}

/// A fresh random root key.
///
/// Ownership: the caller frees `*out` with `sealbox_root_key_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_generate(
    out: *mut *mut sealbox_root_key,
) -> sealbox_result {
    with_out!([]
        out => box_handle(RootKey::generate()?))
}

/// Writes the root key (hex) to a new file with mode 0600. Fails if the
/// file exists (`SEALBOX_RESULT_IO_ERROR`).
///
/// Ownership: borrows `root_key` and `path` for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_write_new_file(
    root_key: *const sealbox_root_key,
    path: *const c_char,
) -> sealbox_result {
    with_ref! { root_key, |rk| rk.write_new_file(try_str!(path))? }
}

/// Frees (and wipes) a root key. NULL is a no-op.
///
/// Ownership: takes back `root_key`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_free(root_key: *mut sealbox_root_key) {
    free_handle!(box root_key)
}

/// Options for opening a key store: audit log path, fsync of audit records,
/// principal, propagation bound. NULL wherever options are taken means the
/// defaults.
///
/// Ownership: made by `sealbox_keystore_options_new`, freed by
/// `sealbox_keystore_options_free`; opening copies what it needs.
///
/// Thread safety: as `sealbox_pkcs11_config`.
pub struct sealbox_keystore_options {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_keystore_options`.
#[derive(Debug, Default)]
pub(crate) struct OpenOptions {
    audit_log: Option<PathBuf>,
    audit_sync: bool,
    principal: Option<String>,
    metadata_cache_ttl: Option<Duration>,
    default_key_policy: Option<DefaultKeyPolicy>,
}

impl OpenOptions {
    pub(super) fn to_core(&self) -> KeyStoreOptions {
        let mut o = KeyStoreOptions {
            audit_log: self.audit_log.clone(),
            audit_sync: self.audit_sync,
            metadata_cache_ttl: self.metadata_cache_ttl,
            default_key_policy: self.default_key_policy,
            ..KeyStoreOptions::default()
        };
        if let Some(p) = &self.principal {
            o.principal = p.clone();
        }
        o
    }
}

/// Default options: the audit log is the database path plus
/// `.audit.jsonl` (a PostgreSQL store keeps it in the database), records
/// are not fsynced, the principal is `$USER`, the propagation bound is the
/// store's default.
///
/// Ownership: the caller frees `*out` with `sealbox_keystore_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_new(
    out: *mut *mut sealbox_keystore_options,
) -> sealbox_result {
    new_handle!(out, OpenOptions::default())
}

/// Where the audit log goes. Not for a PostgreSQL store, which keeps its
/// audit trail in the database: opening one with this option set is
/// `SEALBOX_RESULT_INVALID_ARGUMENT`.
///
/// Ownership: `path` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_audit_log(
    options: *mut sealbox_keystore_options,
    path: *const c_char,
) -> sealbox_result {
    with_mut! { options, |o| o.audit_log = Some(PathBuf::from(try_str!(path))) }
}

/// Whether every audit record is fsynced (slower; survives power loss).
///
/// Ownership: no pointers kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_audit_sync(
    options: *mut sealbox_keystore_options,
    sync: bool,
) -> sealbox_result {
    with_mut! { options, |o| o.audit_sync = sync }
}

/// Who the operations are attributed to in the audit trail.
///
/// Ownership: `principal` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_principal(
    options: *mut sealbox_keystore_options,
    principal: *const c_char,
) -> sealbox_result {
    with_mut! { options, |o| o.principal = Some(try_str!(principal).to_owned()) }
}

/// The propagation bound, in milliseconds: how long the key store may use
/// key metadata (state, versions, alias targets) it read before reading it
/// again, so that a change made by another process sharing the store (a
/// disable, a scheduled deletion, a rotation) is honoured at most this much
/// later. 0 reads the metadata every time. Unset: the store's default,
/// 1000 ms on PostgreSQL, 0 on SQLite.
///
/// Ownership: no pointers kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_metadata_cache_ttl_ms(
    options: *mut sealbox_keystore_options,
    ms: u64,
) -> sealbox_result {
    with_mut! { options, |o| o.metadata_cache_ttl = Some(Duration::from_millis(ms)) }
}

/// The policy of keys created without one, a setting of the store (kept in
/// it, for every handle and process that opens it): `"allow-all"` (every
/// principal may do everything with the key; the default) or `"creator"`
/// (only the creating principal may use and manage it). Unset: the store's
/// current setting. Another name is `SEALBOX_RESULT_INVALID_ARGUMENT` and
/// changes nothing.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_default_policy(
    options: *mut sealbox_keystore_options,
    name: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let o = try_mut!(options);
        let policy: DefaultKeyPolicy = try_parse!(name);
        o.default_key_policy = Some(policy);
        Ok(())
    }
}

/// Frees key store options. NULL is a no-op.
///
/// Ownership: takes back `options`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_free(options: *mut sealbox_keystore_options) {
    free_handle!(box options)
}

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
    with_out!([module = try_str!(module), pin = try_slice!(pin, pin_len)]
    out => box_handle(Pkcs11Settings {
        module: PathBuf::from(module),
        token_label: None,
        token_serial: None,
        pin: SecretBytes::from_slice(pin)?,
        max_sessions: ks_api::DEFAULT_MAX_SESSIONS.get(),
    }))
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
    with_mut! { config, |c| c.token_label = Some(try_str!(label).to_owned()) }
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
    with_mut! { config, |c| c.token_serial = Some(try_str!(serial).to_owned()) }
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
    with_mut! { config, |c| c.max_sessions = at_least_one(max_sessions, "max_sessions")? }
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

/// What key to create (spec, usage, alias, description, tags, rotation).
/// NULL wherever a request is taken means an `AES_256` `ENCRYPT_DECRYPT` key
/// with no alias.
///
/// Ownership: made by `sealbox_create_key_request_new`, freed by
/// `sealbox_create_key_request_free`.
///
/// Thread safety: as `sealbox_pkcs11_config`.
pub struct sealbox_create_key_request {
    _private: [u8; 0],
}

/// A request for an `AES_256` `ENCRYPT_DECRYPT` key with no alias, to be
/// changed with the setters.
///
/// Ownership: the caller frees `*out` with `sealbox_create_key_request_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_new(
    out: *mut *mut sealbox_create_key_request,
) -> sealbox_result {
    new_handle!(out, CreateKeyRequest::default())
}

/// The key spec: `"AES_256"`, `"RSA_2048"`, `"RSA_3072"`, `"RSA_4096"`,
/// `"ECC_NIST_P256"`, `"ECC_NIST_P384"`, `"ECC_NIST_P521"`, `"ECC_SECG_P256K1"`, `"ECC_NIST_EDWARDS25519"`, `"HMAC_224"`, `"HMAC_256"`, `"HMAC_384"`, `"HMAC_512"`, `"ML_DSA_44"`, `"ML_DSA_65"` or `"ML_DSA_87"`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_spec(
    request: *mut sealbox_create_key_request,
    key_spec: *const c_char,
) -> sealbox_result {
    with_mut! { request, |r| r.key_spec = try_parse!(key_spec) }
}

/// The key usage: `"ENCRYPT_DECRYPT"`, `"SIGN_VERIFY"`, `"GENERATE_VERIFY_MAC"`
/// or `"KEY_AGREEMENT"` (default: the spec's natural usage).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_usage(
    request: *mut sealbox_create_key_request,
    key_usage: *const c_char,
) -> sealbox_result {
    with_mut! { request, |r| r.key_usage = Some(try_parse!(key_usage)) }
}

/// An alias (`alias/...`) to point at the new key.
///
/// Ownership: `alias` is copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_alias(
    request: *mut sealbox_create_key_request,
    alias: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        let alias = try_str!(alias);
        ks_api::check_alias(alias)?;
        request.alias = Some(alias.to_owned());
        Ok(())
    }
}

/// Free text describing the key.
///
/// Ownership: `description` is copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_description(
    request: *mut sealbox_create_key_request,
    description: *const c_char,
) -> sealbox_result {
    with_mut! { request, |r| r.description = try_str!(description).to_owned() }
}

/// Adds (or replaces) one tag.
///
/// Ownership: `key` and `value` are copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_tag(
    request: *mut sealbox_create_key_request,
    key: *const c_char,
    value: *const c_char,
) -> sealbox_result {
    with_mut! { request, |r| r.tags.insert(try_str!(key).to_owned(), try_str!(value).to_owned()) }
}

/// Automatic rotation every `days` days (1..=2560; `AES_256` keys only);
/// 0 turns it off (the default).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_rotation_period_days(
    request: *mut sealbox_create_key_request,
    days: u32,
) -> sealbox_result {
    with_mut! { request, |r| r.rotation_period_days = (days != 0).then_some(days) }
}

/// ImportKey only: when the imported material expires (Unix seconds, in
/// the future; AWS KMS's ValidTo). After it the key is `"PendingImport"`
/// until the material is imported again
/// (`sealbox_keystore_import_key_material`). 0 (the default): it does not
/// expire. Creating a key (not importing one) with it set is
/// `SEALBOX_RESULT_INVALID_ARGUMENT`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_valid_to(
    request: *mut sealbox_create_key_request,
    valid_to: i64,
) -> sealbox_result {
    with_mut! { request, |r| r.valid_to = (valid_to != 0).then_some(valid_to) }
}

/// The new key's policy: JSON text in the grammar of AWS KMS key policies
/// (see `sealbox_keystore_put_key_policy`), checked here (a policy that does
/// not parse is `SEALBOX_RESULT_INVALID_ARGUMENT` and leaves the request as
/// it was). Creating the key refuses a policy that would leave the creating
/// principal unable to change it, unless
/// `bypass_policy_lockout_safety_check`. Unset: the store's default policy.
///
/// Ownership: `policy_json` is copied.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_policy(
    request: *mut sealbox_create_key_request,
    policy_json: *const c_char,
    bypass_policy_lockout_safety_check: bool,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        let policy = try_str!(policy_json);
        KeyPolicy::from_json(policy)?;
        request.policy = Some(policy.to_owned());
        request.bypass_policy_lockout_safety_check = bypass_policy_lockout_safety_check;
        Ok(())
    }
}

/// Frees a create-key request. NULL is a no-op.
///
/// Ownership: takes back `request`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_free(request: *mut sealbox_create_key_request) {
    free_handle!(box request)
}
