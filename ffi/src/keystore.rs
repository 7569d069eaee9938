//! The key store: opening it (soft or PKCS#11 backend), key lifecycle,
//! aliases, tags, and every operation.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::PathBuf;
use std::sync::Arc;

use sealbox_core::audit::{AuditEvent, AuditSink};
use sealbox_core::keystore::{
    self as ks_api, CreateKeyRequest, EncryptionAlgorithm, KeyMetadata, KeySpec, KeyState,
    KeyStore, KeyStoreOptions, KeyUsage, MacAlgorithm, MessageType, Pin, Pkcs11Config, RootKey,
    SigningAlgorithm,
};
use sealbox_core::secret::SecretBytes;
use sealbox_core::Error;

use crate::error::{sealbox_result, Failure};
use crate::handle::{arc_handle, box_handle, free_arc, free_box};
use crate::values::{
    buffer, buffer_from_slice, sealbox_buffer, sealbox_string_map, texts, StringMap,
};

// ------------------------------------------------------------- handles --

/// A key store: the custodian of master keys (the "KMS").
///
/// Ownership: made by `sealbox_keystore_open` or `sealbox_keystore_open_pkcs11`;
/// the caller frees it with `sealbox_keystore_free`. Keyrings made from it
/// keep what they need alive, so it may be freed before them.
///
/// Thread safety: thread-safe. One key store serves every thread of the
/// application; all its functions may be called concurrently.
pub struct sealbox_keystore {
    _private: [u8; 0],
}

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

/// Options for opening a key store: audit log path, fsync of audit records,
/// principal. NULL wherever options are taken means the defaults.
///
/// Ownership: made by `sealbox_keystore_options_new`, freed by
/// `sealbox_keystore_options_free`; opening copies what it needs.
///
/// Thread safety: as `sealbox_pkcs11_config`.
pub struct sealbox_keystore_options {
    _private: [u8; 0],
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

/// Everything the key store knows about one key, except its material.
/// A snapshot: it does not change when the key does.
///
/// Ownership: returned by the library and freed by the caller with
/// `sealbox_key_metadata_free`, except the ones borrowed from a
/// `sealbox_key_list` (freed with the list). Strings from its accessors
/// borrow from it.
///
/// Thread safety: immutable; any thread may read it concurrently.
pub struct sealbox_key_metadata {
    _private: [u8; 0],
}

/// One page of `sealbox_keystore_list_keys`.
///
/// Ownership: freed by the caller with `sealbox_key_list_free`, which also
/// frees the metadata it lends out.
///
/// Thread safety: immutable; any thread may read it concurrently.
pub struct sealbox_key_list {
    _private: [u8; 0],
}

/// Receives every audit event of a key store, as one JSON object (the
/// fields of the audit log's records: time, operation, key_id, key_version,
/// principal, encryption_context, outcome, error, request_id).
///
/// Return 0 when the event is recorded; any other value makes the operation
/// fail with `SEALBOX_RESULT_AUDIT` (an operation whose audit write fails
/// does not happen).
///
/// Ownership: `event_json` (not NUL-terminated) belongs to the library and
/// is valid only during the call; copy what you keep.
///
/// Thread safety: called on whichever thread runs the operation, possibly
/// on several threads at once; `userdata` must allow that. It must not call
/// back into the key store.
pub type sealbox_audit_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        event_json: *const u8,
        event_json_len: usize,
    ) -> c_int,
>;

/// The Rust side of `sealbox_pkcs11_config`.
pub(crate) struct Pkcs11Settings {
    module: PathBuf,
    token_label: Option<String>,
    token_serial: Option<String>,
    pin: SecretBytes,
    max_sessions: usize,
}

/// The Rust side of `sealbox_keystore_options`.
#[derive(Debug, Default)]
pub(crate) struct OpenOptions {
    audit_log: Option<PathBuf>,
    audit_sync: bool,
    principal: Option<String>,
}

impl OpenOptions {
    fn to_core(&self) -> KeyStoreOptions {
        let mut o = KeyStoreOptions {
            audit_log: self.audit_log.clone(),
            audit_sync: self.audit_sync,
            ..KeyStoreOptions::default()
        };
        if let Some(p) = &self.principal {
            o.principal = p.clone();
        }
        o
    }
}

/// Text for C: a string with any NUL replaced (C strings end at NUL).
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// The Rust side of `sealbox_key_metadata`: the metadata plus C strings of
/// its text fields.
pub(crate) struct Metadata {
    md: KeyMetadata,
    key_id: CString,
    description: CString,
    key_spec: CString,
    key_usage: CString,
    origin: CString,
    key_state: CString,
    backend: CString,
    aliases: Vec<CString>,
    tags: StringMap,
}

impl Metadata {
    fn new(md: KeyMetadata) -> Self {
        Metadata {
            key_id: c_string(&md.key_id),
            description: c_string(&md.description),
            key_spec: c_string(md.key_spec.as_str()),
            key_usage: c_string(md.key_usage.as_str()),
            origin: c_string(md.origin.as_str()),
            key_state: c_string(md.state.name()),
            backend: c_string(&md.backend),
            aliases: md.aliases.iter().map(|a| c_string(a)).collect(),
            tags: StringMap::from_map(&md.tags),
            md,
        }
    }
}

/// The Rust side of `sealbox_key_list`.
pub(crate) struct KeyList {
    keys: Vec<Metadata>,
    next_marker: Option<CString>,
}

/// An audit sink that calls into C.
#[derive(Debug)]
struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    // The caller promised the pointer may be used from any thread.
    userdata: usize,
}

impl AuditSink for CallbackSink {
    fn record(&self, event: &AuditEvent) -> sealbox_core::Result<()> {
        let json = serde_json::to_vec(event).map_err(|e| Error::Audit(e.to_string()))?;
        // SAFETY: the application registered this callback and userdata
        // for exactly this use; the JSON outlives the call.
        let rc =
            unsafe { (self.callback)(self.userdata as *mut c_void, json.as_ptr(), json.len()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(Error::Audit(format!("the audit callback returned {rc}")))
        }
    }
}

fn parse<T: std::str::FromStr<Err = Error>>(s: &str) -> Result<T, Failure> {
    s.parse::<T>().map_err(Failure::from)
}

// ------------------------------------------------------------ root key --

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
    ffi_boundary! {
        let bytes = try_slice!(bytes, len);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_bytes(bytes)?));
        Ok(())
    }
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
    ffi_boundary! {
        let path = try_str!(path);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_file(path)?));
        Ok(())
    }
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
    ffi_boundary! {
        let name = try_str!(name);
        let out = try_out!(out);
        out.write(box_handle(RootKey::from_env(name)?));
        Ok(())
    }
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
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(RootKey::generate()?));
        Ok(())
    }
}

/// Writes the root key (hex) to a new file with mode 0600. Fails if the
/// file exists (`SEALBOX_RESULT_IO`).
///
/// Ownership: borrows `root_key` and `path` for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_write_new_file(
    root_key: *const sealbox_root_key,
    path: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let root_key = try_ref!(root_key);
        let path = try_str!(path);
        root_key.write_new_file(path)?;
        Ok(())
    }
}

/// Frees (and wipes) a root key. NULL is a no-op.
///
/// Ownership: takes back `root_key`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_root_key_free(root_key: *mut sealbox_root_key) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live root key owned by the caller.
        unsafe { free_box(root_key) }
    }
}

// ------------------------------------------------------- PKCS#11 config --

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
            max_sessions: ks_api::DEFAULT_MAX_SESSIONS,
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
    ffi_boundary! {
        let config = try_mut!(config);
        config.token_label = Some(try_str!(label).to_owned());
        Ok(())
    }
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
    ffi_boundary! {
        let config = try_mut!(config);
        config.token_serial = Some(try_str!(serial).to_owned());
        Ok(())
    }
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
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live configuration owned by the caller.
        unsafe { free_box(config) }
    }
}

// ------------------------------------------------------- open options --

/// Default options: the audit log is the database path plus
/// `.audit.jsonl`, records are not fsynced, the principal is `$USER`.
///
/// Ownership: the caller frees `*out` with `sealbox_keystore_options_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_new(
    out: *mut *mut sealbox_keystore_options,
) -> sealbox_result {
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(OpenOptions::default()));
        Ok(())
    }
}

/// Where the audit log goes.
///
/// Ownership: `path` is copied.
///
/// Thread safety: not while another thread uses `options`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_options_set_audit_log(
    options: *mut sealbox_keystore_options,
    path: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let options = try_mut!(options);
        options.audit_log = Some(PathBuf::from(try_str!(path)));
        Ok(())
    }
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
    ffi_boundary! {
        try_mut!(options).audit_sync = sync;
        Ok(())
    }
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
    ffi_boundary! {
        let options = try_mut!(options);
        options.principal = Some(try_str!(principal).to_owned());
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
    ffi_boundary! { or () =>
        // SAFETY: NULL or live options owned by the caller.
        unsafe { free_box(options) }
    }
}

// ----------------------------------------------------------- open/free --

/// Opens (creating if needed) the key store in the SQLite file `path`, with
/// key material sealed under `root_key` (the embedded default, "soft"
/// backend). `options` may be NULL.
///
/// `SEALBOX_RESULT_WRONG_ROOT_KEY` when the store was created with another
/// root key.
///
/// Ownership: borrows the arguments for the call; the caller frees `*out`
/// with `sealbox_keystore_free`.
///
/// Thread safety: safe to call from any thread. Open a store once per
/// process and share the handle.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_open(
    path: *const c_char,
    root_key: *const sealbox_root_key,
    options: *const sealbox_keystore_options,
    out: *mut *const sealbox_keystore,
) -> sealbox_result {
    ffi_boundary! {
        let path = try_str!(path);
        let root_key = try_ref!(root_key);
        // SAFETY: NULL (defaults) or live options.
        let options = unsafe { crate::handle::try_ref(options) }
            .map(OpenOptions::to_core)
            .unwrap_or_default();
        let out = try_out!(out);
        let store = KeyStore::open(path, root_key, options)?;
        out.write(arc_handle(store));
        Ok(())
    }
}

/// Opens (creating if needed) the key store in the SQLite file `path`, with
/// key material generated and kept inside a PKCS#11 token. `options` may
/// be NULL.
///
/// Ownership: borrows the arguments for the call; the caller frees `*out`
/// with `sealbox_keystore_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_open_pkcs11(
    path: *const c_char,
    config: *const sealbox_pkcs11_config,
    options: *const sealbox_keystore_options,
    out: *mut *const sealbox_keystore,
) -> sealbox_result {
    ffi_boundary! {
        let path = try_str!(path);
        let config = try_ref!(config);
        // SAFETY: NULL (defaults) or live options.
        let options = unsafe { crate::handle::try_ref(options) }
            .map(OpenOptions::to_core)
            .unwrap_or_default();
        let out = try_out!(out);
        let core_config = Pkcs11Config {
            module: config.module.clone(),
            token_label: config.token_label.clone(),
            token_serial: config.token_serial.clone(),
            pin: Pin::from_bytes(config.pin.as_bytes())?,
            max_sessions: config.max_sessions,
        };
        let store = KeyStore::open_pkcs11(path, core_config, options)?;
        out.write(arc_handle(store));
        Ok(())
    }
}

/// Releases the caller's reference to a key store. NULL is a no-op. The
/// store closes when keyrings made from it are freed too.
///
/// Ownership: takes back `keystore`.
///
/// Thread safety: call once per handle, when this holder no longer uses it;
/// other threads may go on using keyrings made from it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_free(keystore: *const sealbox_keystore) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live key store handle.
        unsafe { free_arc(keystore) }
    }
}

/// The backend: `"soft"` or `"pkcs11"` (NULL when `keystore` is NULL).
///
/// Ownership: a static string; do not free.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_backend_kind(
    keystore: *const sealbox_keystore,
) -> *const c_char {
    ffi_boundary! { or std::ptr::null() =>
        // SAFETY: NULL or a live key store handle.
        match unsafe { crate::handle::try_ref(keystore) }.map(|k| k.backend_kind()) {
            Some("soft") => c"soft".as_ptr(),
            Some("pkcs11") => c"pkcs11".as_ptr(),
            _ => std::ptr::null(),
        }
    }
}

/// How many times `operation` (named as in AWS KMS: `"Encrypt"`,
/// `"GenerateDataKey"`, ...) was allowed since this store was opened in
/// this process. 0 for NULL arguments or an unknown name.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_operation_count(
    keystore: *const sealbox_keystore,
    operation: *const c_char,
) -> u64 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live key store handle.
        let Some(ks) = (unsafe { crate::handle::try_ref(keystore) }) else { return 0 };
        // SAFETY: NULL or a NUL-terminated string.
        match unsafe { crate::values::text(operation, "operation") } {
            Ok(op) => ks.operation_count(op),
            Err(_) => 0,
        }
    }
}

/// Sends every later audit event of this store to `callback` as well (see
/// `sealbox_audit_callback`). Callbacks stay registered until the store
/// closes.
///
/// Ownership: `userdata` is passed back to `callback` and must stay valid
/// until the key store (and every keyring made from it) is freed.
///
/// Thread safety: safe to call concurrently; the callback itself runs on
/// any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_add_audit_callback(
    keystore: *const sealbox_keystore,
    callback: sealbox_audit_callback,
    userdata: *mut c_void,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        ks.add_audit_sink(Arc::new(CallbackSink {
            callback,
            userdata: userdata as usize,
        }));
        Ok(())
    }
}

// ------------------------------------------------- create-key request --

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
    ffi_boundary! {
        let out = try_out!(out);
        out.write(box_handle(CreateKeyRequest::default()));
        Ok(())
    }
}

/// The key spec: `"AES_256"`, `"RSA_2048"`, `"RSA_3072"`, `"RSA_4096"`,
/// `"ECC_NIST_P256"`, `"HMAC_256"` or `"HMAC_512"`.
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_spec(
    request: *mut sealbox_create_key_request,
    key_spec: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        request.key_spec = parse::<KeySpec>(try_str!(key_spec))?;
        Ok(())
    }
}

/// The key usage: `"ENCRYPT_DECRYPT"`, `"SIGN_VERIFY"` or
/// `"GENERATE_VERIFY_MAC"` (default: the spec's natural usage).
///
/// Ownership: nothing kept.
///
/// Thread safety: not while another thread uses `request`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_create_key_request_set_key_usage(
    request: *mut sealbox_create_key_request,
    key_usage: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        let request = try_mut!(request);
        request.key_usage = Some(parse::<KeyUsage>(try_str!(key_usage))?);
        Ok(())
    }
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
    ffi_boundary! {
        let request = try_mut!(request);
        request.description = try_str!(description).to_owned();
        Ok(())
    }
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
    ffi_boundary! {
        let request = try_mut!(request);
        let (key, value) = (try_str!(key), try_str!(value));
        request.tags.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
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
    ffi_boundary! {
        let request = try_mut!(request);
        request.rotation_period_days = (days != 0).then_some(days);
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
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live request owned by the caller.
        unsafe { free_box(request) }
    }
}

// ------------------------------------------------------ key lifecycle --

/// CreateKey: a new key generated by the backend. `request` may be NULL
/// (an `AES_256` encryption key).
///
/// Ownership: the caller frees `*out` with `sealbox_key_metadata_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_create_key(
    keystore: *const sealbox_keystore,
    request: *const sealbox_create_key_request,
    out: *mut *mut sealbox_key_metadata,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let default = CreateKeyRequest::default();
        // SAFETY: NULL (defaults) or a live request.
        let request = unsafe { crate::handle::try_ref(request) }.unwrap_or(&default);
        let out = try_out!(out);
        let md = ks.create_key(request)?;
        out.write(box_handle(Metadata::new(md)));
        Ok(())
    }
}

/// ImportKey (bring your own key): a key whose material the application
/// supplies (32 bytes for `AES_256`/`HMAC_256`, 64 for `HMAC_512`, a DER
/// PKCS#8 private key for RSA and ECC). `request` may be NULL (`AES_256`).
///
/// Ownership: `material` is copied into the store (sealed); the caller
/// should wipe its copy. The caller frees `*out` with
/// `sealbox_key_metadata_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_import_key(
    keystore: *const sealbox_keystore,
    request: *const sealbox_create_key_request,
    material: *const u8,
    material_len: usize,
    out: *mut *mut sealbox_key_metadata,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let default = CreateKeyRequest::default();
        // SAFETY: NULL (defaults) or a live request.
        let request = unsafe { crate::handle::try_ref(request) }.unwrap_or(&default);
        let material = try_slice!(material, material_len);
        let out = try_out!(out);
        let md = ks.import_key(request, material)?;
        out.write(box_handle(Metadata::new(md)));
        Ok(())
    }
}

/// DescribeKey: the metadata of a key named by key ID or alias.
///
/// Ownership: the caller frees `*out` with `sealbox_key_metadata_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_describe_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_key_metadata,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let out = try_out!(out);
        out.write(box_handle(Metadata::new(ks.describe_key(key)?)));
        Ok(())
    }
}

/// ListKeys: one page of at most `limit` (1..=1000) keys, in key-ID order,
/// starting after `marker` (NULL: from the start; otherwise the
/// `sealbox_key_list_next_marker` of the previous page).
///
/// Ownership: the caller frees `*out` with `sealbox_key_list_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_list_keys(
    keystore: *const sealbox_keystore,
    limit: usize,
    marker: *const c_char,
    out: *mut *mut sealbox_key_list,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let marker = try_opt_str!(marker);
        let out = try_out!(out);
        let page = ks.list_keys(limit, marker)?;
        out.write(box_handle(KeyList {
            keys: page.keys.into_iter().map(Metadata::new).collect(),
            next_marker: page.next_marker.as_deref().map(c_string),
        }));
        Ok(())
    }
}

/// EnableKey.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_enable_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).enable_key(try_str!(key))?;
        Ok(())
    }
}

/// DisableKey: the key cannot be used until enabled again.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_disable_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).disable_key(try_str!(key))?;
        Ok(())
    }
}

/// ScheduleKeyDeletion: the key becomes unusable now and its material is
/// destroyed after `pending_window_days` (7..=30) unless the deletion is
/// cancelled. Writes the deletion time (Unix seconds) to
/// `out_deletion_date` unless it is NULL.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_schedule_key_deletion(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    pending_window_days: u32,
    out_deletion_date: *mut i64,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let out = opt_out!(out_deletion_date);
        let md = ks.schedule_key_deletion(key, pending_window_days)?;
        if let KeyState::PendingDeletion { deletion_date } = md.state {
            out.write(deletion_date);
        }
        Ok(())
    }
}

/// CancelKeyDeletion: the key returns to the Disabled state.
/// `SEALBOX_RESULT_INVALID_KEY_STATE` when no deletion is scheduled.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_cancel_key_deletion(
    keystore: *const sealbox_keystore,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).cancel_key_deletion(try_str!(key))?;
        Ok(())
    }
}

/// RotateKey (on demand): a new primary version for new encryptions; old
/// versions keep decrypting. Writes the new version number to
/// `out_version` unless it is NULL.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_rotate_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out_version: *mut u32,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let out = opt_out!(out_version);
        out.write(ks.rotate_key(key)?);
        Ok(())
    }
}

/// EnableKeyRotation: rotate automatically every `period_days` (1..=2560).
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_enable_key_rotation(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    period_days: u32,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).enable_key_rotation(try_str!(key), period_days)?;
        Ok(())
    }
}

/// DisableKeyRotation.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_disable_key_rotation(
    keystore: *const sealbox_keystore,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).disable_key_rotation(try_str!(key))?;
        Ok(())
    }
}

/// Performs the automatic rotations that are due (opening a store does this
/// too). Writes how many keys were rotated to `out_rotated` unless NULL.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_apply_due_rotations(
    keystore: *const sealbox_keystore,
    out_rotated: *mut usize,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out = opt_out!(out_rotated);
        out.write(ks.apply_due_rotations()?);
        Ok(())
    }
}

/// Destroys the material of keys whose deletion date has passed (opening a
/// store does this too). Writes how many keys were deleted to
/// `out_deleted` unless NULL.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_purge_expired_keys(
    keystore: *const sealbox_keystore,
    out_deleted: *mut usize,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out = opt_out!(out_deleted);
        out.write(ks.purge_expired_keys()?.len());
        Ok(())
    }
}

/// UpdateKeyDescription.
///
/// Ownership: `description` is copied into the store.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_update_key_description(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    description: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).update_key_description(try_str!(key), try_str!(description))?;
        Ok(())
    }
}

// -------------------------------------------------------- aliases, tags --

/// CreateAlias: `alias` (`alias/...`) names `key` from now on.
/// `SEALBOX_RESULT_ALREADY_EXISTS` when the alias exists.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_create_alias(
    keystore: *const sealbox_keystore,
    alias: *const c_char,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).create_alias(try_str!(alias), try_str!(key))?;
        Ok(())
    }
}

/// UpdateAlias: points an existing alias at another key.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_update_alias(
    keystore: *const sealbox_keystore,
    alias: *const c_char,
    key: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).update_alias(try_str!(alias), try_str!(key))?;
        Ok(())
    }
}

/// DeleteAlias (the key is untouched).
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_delete_alias(
    keystore: *const sealbox_keystore,
    alias: *const c_char,
) -> sealbox_result {
    ffi_boundary! {
        try_ref!(keystore).delete_alias(try_str!(alias))?;
        Ok(())
    }
}

/// ListAliases: every alias and the key ID it names.
///
/// Ownership: the caller frees `*out` with `sealbox_string_map_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_list_aliases(
    keystore: *const sealbox_keystore,
    out: *mut *mut sealbox_string_map,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out = try_out!(out);
        let aliases = ks.list_aliases()?;
        out.write(box_handle(StringMap::from_pairs(
            aliases.iter().map(|(a, k)| (a.as_str(), k.as_str())),
        )));
        Ok(())
    }
}

/// TagResource: adds or replaces `count` tags (`tag_keys[i]` =
/// `tag_values[i]`; keys 1..=128, values 0..=256 characters).
///
/// Ownership: the strings are copied into the store.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_tag_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    tag_keys: *const *const c_char,
    tag_values: *const *const c_char,
    count: usize,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        // SAFETY: the array holds `count` NUL-terminated strings.
        let names = unsafe { texts(tag_keys, count, "tag_keys") }?;
        // SAFETY: as `tag_keys`.
        let values = unsafe { texts(tag_values, count, "tag_values") }?;
        let tags: BTreeMap<String, String> = names
            .into_iter()
            .zip(values)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        ks.tag_key(key, &tags)?;
        Ok(())
    }
}

/// UntagResource: removes the tags named in `tag_keys` (`count` strings).
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_untag_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    tag_keys: *const *const c_char,
    count: usize,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        // SAFETY: the array holds `count` NUL-terminated strings.
        let names: Vec<String> = unsafe { texts(tag_keys, count, "tag_keys") }?
            .into_iter()
            .map(str::to_owned)
            .collect();
        ks.untag_key(key, &names)?;
        Ok(())
    }
}

// ---------------------------------------------------------- operations --

/// Encrypt: at most 4096 bytes of plaintext under `key` (a symmetric
/// `ENCRYPT_DECRYPT` key), bound to the encryption context given as `count`
/// key/value byte strings (UTF-8; `count` may be 0 and the arrays NULL).
///
/// Ownership: the caller frees `*out` (the ciphertext blob) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_encrypt(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let plaintext = try_slice!(plaintext, plaintext_len);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        let out = try_out!(out);
        out.write(buffer(ks.encrypt(key, plaintext, &ec)?));
        Ok(())
    }
}

/// Decrypt a key-store ciphertext blob (the blob names its key and
/// version). The encryption context must be the one it was encrypted with;
/// anything else is `SEALBOX_RESULT_DECRYPTION_FAILED`.
///
/// Ownership: the caller frees `*out` (the plaintext) with
/// `sealbox_buffer_free`, which wipes it.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_decrypt(
    keystore: *const sealbox_keystore,
    ciphertext: *const u8,
    ciphertext_len: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let ciphertext = try_slice!(ciphertext, ciphertext_len);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        let out = try_out!(out);
        let plaintext = ks.decrypt(ciphertext, &ec)?;
        out.write(buffer_from_slice(plaintext.as_bytes()));
        Ok(())
    }
}

/// ReEncrypt: decrypts a blob and encrypts it under `destination_key` with
/// the destination context, without the plaintext leaving the store.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_re_encrypt(
    keystore: *const sealbox_keystore,
    ciphertext: *const u8,
    ciphertext_len: usize,
    source_context_keys: *const *const u8,
    source_context_key_lens: *const usize,
    source_context_values: *const *const u8,
    source_context_value_lens: *const usize,
    source_context_count: usize,
    destination_key: *const c_char,
    destination_context_keys: *const *const u8,
    destination_context_key_lens: *const usize,
    destination_context_values: *const *const u8,
    destination_context_value_lens: *const usize,
    destination_context_count: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let ciphertext = try_slice!(ciphertext, ciphertext_len);
        let source = try_context!(source_context_keys, source_context_key_lens, source_context_values, source_context_value_lens, source_context_count);
        let destination_key = try_str!(destination_key);
        let destination = try_context!(destination_context_keys, destination_context_key_lens, destination_context_values, destination_context_value_lens, destination_context_count);
        let out = try_out!(out);
        out.write(buffer(ks.re_encrypt(ciphertext, &source, destination_key, &destination)?));
        Ok(())
    }
}

/// GenerateDataKey: a fresh data key of `number_of_bytes` (1..=1024; 32 for
/// AES-256), as plaintext and encrypted under `key`.
///
/// Ownership: the caller frees `*out_plaintext` (wiped on free) and
/// `*out_ciphertext` with `sealbox_buffer_free`. Both are written, or
/// neither.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_data_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    number_of_bytes: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    out_plaintext: *mut *mut sealbox_buffer,
    out_ciphertext: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        let out_plaintext = try_out!(out_plaintext);
        let out_ciphertext = try_out!(out_ciphertext);
        let dk = ks.generate_data_key(key, number_of_bytes, &ec)?;
        out_plaintext.write(buffer_from_slice(dk.plaintext.as_bytes()));
        out_ciphertext.write(buffer(dk.ciphertext));
        Ok(())
    }
}

/// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_data_key_without_plaintext(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    number_of_bytes: usize,
    context_keys: *const *const u8,
    context_key_lens: *const usize,
    context_values: *const *const u8,
    context_value_lens: *const usize,
    context_count: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let ec = try_context!(context_keys, context_key_lens, context_values, context_value_lens, context_count);
        let out = try_out!(out);
        out.write(buffer(ks.generate_data_key_without_plaintext(key, number_of_bytes, &ec)?));
        Ok(())
    }
}

/// Sign with an asymmetric `SIGN_VERIFY` key. `algorithm`:
/// `"ECDSA_SHA_256"`, `"RSASSA_PSS_SHA_256|384|512"` or
/// `"RSASSA_PKCS1_V1_5_SHA_256|384|512"`. `message_type`: `"RAW"` (at most
/// 4096 bytes, hashed by sealbox; NULL means RAW) or `"DIGEST"`.
///
/// Ownership: the caller frees `*out` (the DER or raw signature) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_sign(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    algorithm: *const c_char,
    message_type: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let message = try_slice!(message, message_len);
        let algorithm = parse::<SigningAlgorithm>(try_str!(algorithm))?;
        let message_type = try_opt_str!(message_type).map(parse::<MessageType>).transpose()?.unwrap_or(MessageType::Raw);
        let out = try_out!(out);
        out.write(buffer(ks.sign(key, message, algorithm, message_type)?));
        Ok(())
    }
}

/// Verify a signature. A signature that does not verify is not an error:
/// the call succeeds and writes `false` to `*out_valid`.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    signature: *const u8,
    signature_len: usize,
    algorithm: *const c_char,
    message_type: *const c_char,
    out_valid: *mut bool,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let message = try_slice!(message, message_len);
        let signature = try_slice!(signature, signature_len);
        let algorithm = parse::<SigningAlgorithm>(try_str!(algorithm))?;
        let message_type = try_opt_str!(message_type).map(parse::<MessageType>).transpose()?.unwrap_or(MessageType::Raw);
        let out_valid = try_out!(out_valid);
        out_valid.write(ks.verify(key, message, signature, algorithm, message_type)?);
        Ok(())
    }
}

/// GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_public_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let out = try_out!(out);
        out.write(buffer(ks.get_public_key(key)?));
        Ok(())
    }
}

/// GetPublicKey as PEM text (`-----BEGIN PUBLIC KEY-----`).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`; its data
/// is NUL-terminated text.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_public_key_pem(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let out = try_out!(out);
        let der = ks.get_public_key(key)?;
        out.write(buffer(ks_api::der_to_pem("PUBLIC KEY", &der).into_bytes()));
        Ok(())
    }
}

/// Encrypt with the public half of an RSA `ENCRYPT_DECRYPT` key.
/// `algorithm`: `"RSAES_OAEP_SHA_256"` or `"RSAES_OAEP_SHA_1"`.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_encrypt_rsa(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let plaintext = try_slice!(plaintext, plaintext_len);
        let algorithm = parse::<EncryptionAlgorithm>(try_str!(algorithm))?;
        let out = try_out!(out);
        out.write(buffer(ks.encrypt_rsa(key, plaintext, algorithm)?));
        Ok(())
    }
}

/// Asymmetric Decrypt with the private half of an RSA key (it never leaves
/// the store).
///
/// Ownership: the caller frees `*out` (wiped on free) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_decrypt_rsa(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    ciphertext: *const u8,
    ciphertext_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let ciphertext = try_slice!(ciphertext, ciphertext_len);
        let algorithm = parse::<EncryptionAlgorithm>(try_str!(algorithm))?;
        let out = try_out!(out);
        let plaintext = ks.decrypt_rsa(key, ciphertext, algorithm)?;
        out.write(buffer_from_slice(plaintext.as_bytes()));
        Ok(())
    }
}

/// GenerateMac with an HMAC key. `algorithm`: `"HMAC_SHA_256"` or
/// `"HMAC_SHA_512"`; `message` at most 4096 bytes.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_mac(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let message = try_slice!(message, message_len);
        let algorithm = parse::<MacAlgorithm>(try_str!(algorithm))?;
        let out = try_out!(out);
        out.write(buffer(ks.generate_mac(key, message, algorithm)?));
        Ok(())
    }
}

/// VerifyMac (compared in constant time). A MAC that does not match is not
/// an error: the call succeeds and writes `false` to `*out_valid`.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify_mac(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    mac: *const u8,
    mac_len: usize,
    algorithm: *const c_char,
    out_valid: *mut bool,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let message = try_slice!(message, message_len);
        let mac = try_slice!(mac, mac_len);
        let algorithm = parse::<MacAlgorithm>(try_str!(algorithm))?;
        let out_valid = try_out!(out_valid);
        out_valid.write(ks.verify_mac(key, message, mac, algorithm)?);
        Ok(())
    }
}

/// GenerateRandom: `number_of_bytes` (1..=1024) random bytes.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_random(
    keystore: *const sealbox_keystore,
    number_of_bytes: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out = try_out!(out);
        out.write(buffer(ks.generate_random(number_of_bytes)?));
        Ok(())
    }
}

/// Verifies the HMAC chain of the audit log. The call succeeds when the log
/// could be read: `*out_records` is the number of records that verified and
/// `*out_first_bad_line` is 0 when the whole log verified, otherwise the
/// 1-based line of the first edited, inserted or missing record; then
/// `*out_problem` (unless NULL) receives a description (NULL when the log
/// verified).
///
/// Ownership: the caller frees `*out_problem` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify_audit_log(
    keystore: *const sealbox_keystore,
    out_records: *mut u64,
    out_first_bad_line: *mut u64,
    out_problem: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let out_records = try_out!(out_records);
        let out_first_bad_line = try_out!(out_first_bad_line);
        let out_problem = opt_out!(out_problem);
        let report = ks.verify_audit_log()?;
        out_records.write(report.records);
        match report.first_error {
            None => {
                out_first_bad_line.write(0);
                out_problem.write(std::ptr::null_mut());
            }
            Some((line, what)) => {
                out_first_bad_line.write(line.max(1));
                if out_problem.wanted() {
                    out_problem.write(buffer(what.into_bytes()));
                }
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------- key metadata --

macro_rules! metadata_text {
    ($md:ident, $field:ident) => {
        ffi_boundary! { or std::ptr::null() =>
            // SAFETY: NULL or a live metadata handle.
            unsafe { crate::handle::try_ref($md) }.map_or(std::ptr::null(), |m| m.$field.as_ptr())
        }
    };
}

/// The key ID (a UUID). NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_id(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_id)
}

/// The description. NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_description(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, description)
}

/// The key spec (`"AES_256"`, ...). NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_spec(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_spec)
}

/// The key usage (`"ENCRYPT_DECRYPT"`, ...). NULL when `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_usage(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_usage)
}

/// The origin: `"SEALBOX"` (generated) or `"EXTERNAL"` (imported). NULL when
/// `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_origin(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, origin)
}

/// The state: `"Enabled"`, `"Disabled"` or `"PendingDeletion"`. NULL when
/// `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_key_state(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, key_state)
}

/// The backend holding the material: `"soft"` or `"pkcs11"`. NULL when `md`
/// is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_backend(
    md: *const sealbox_key_metadata,
) -> *const c_char {
    metadata_text!(md, backend)
}

/// When a key pending deletion will be destroyed (Unix seconds); 0 for a
/// key that is not pending deletion, or a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_deletion_date(
    md: *const sealbox_key_metadata,
) -> i64 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        match unsafe { crate::handle::try_ref(md) }.map(|m| m.md.state) {
            Some(KeyState::PendingDeletion { deletion_date }) => deletion_date,
            _ => 0,
        }
    }
}

/// When the key was created (Unix seconds); 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_created_at(md: *const sealbox_key_metadata) -> i64 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.map_or(0, |m| m.md.created_at)
    }
}

/// The version used for new encryptions and signatures (1, 2, ...); 0 for
/// a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_primary_version(
    md: *const sealbox_key_metadata,
) -> u32 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.map_or(0, |m| m.md.primary_version)
    }
}

/// How many versions the key has; 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_version_count(
    md: *const sealbox_key_metadata,
) -> usize {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.map_or(0, |m| m.md.versions.len())
    }
}

/// The version at `index` (oldest first): its number and creation time
/// (Unix seconds). `SEALBOX_RESULT_INVALID_ARGUMENT` when out of range.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_version(
    md: *const sealbox_key_metadata,
    index: usize,
    out_version: *mut u32,
    out_created_at: *mut i64,
) -> sealbox_result {
    ffi_boundary! {
        let md = try_ref!(md);
        let (out_version, out_created_at) = (try_out!(out_version), try_out!(out_created_at));
        let v = md.md.versions.get(index).ok_or_else(|| Failure::arg(format!("index {index} is out of range")))?;
        out_version.write(v.version);
        out_created_at.write(v.created_at);
        Ok(())
    }
}

/// The automatic rotation period in days; 0 when automatic rotation is off
/// or `md` is NULL.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_rotation_period_days(
    md: *const sealbox_key_metadata,
) -> u32 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.and_then(|m| m.md.rotation_period_days).unwrap_or(0)
    }
}

/// When the next automatic rotation is due (Unix seconds); 0 when none is
/// scheduled or `md` is NULL.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_next_rotation_at(
    md: *const sealbox_key_metadata,
) -> i64 {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.and_then(|m| m.md.next_rotation_at).unwrap_or(0)
    }
}

/// How many aliases point at the key; 0 for a NULL `md`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_alias_count(
    md: *const sealbox_key_metadata,
) -> usize {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }.map_or(0, |m| m.aliases.len())
    }
}

/// The alias at `index`; NULL when out of range or `md` is NULL.
///
/// Ownership: borrows from `md`; valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_alias(
    md: *const sealbox_key_metadata,
    index: usize,
) -> *const c_char {
    ffi_boundary! { or std::ptr::null() =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }
            .and_then(|m| m.aliases.get(index))
            .map_or(std::ptr::null(), |a| a.as_ptr())
    }
}

/// The key's tags. NULL when `md` is NULL.
///
/// Ownership: borrows from `md` (do not free it); valid until `md` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_tags(
    md: *const sealbox_key_metadata,
) -> *const sealbox_string_map {
    ffi_boundary! { or std::ptr::null() =>
        // SAFETY: NULL or a live metadata handle.
        unsafe { crate::handle::try_ref(md) }
            .map_or(std::ptr::null(), |m| (&m.tags as *const StringMap).cast())
    }
}

/// All of the metadata as one JSON object (the same fields as the Python
/// and Node bindings' key metadata).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_to_json(
    md: *const sealbox_key_metadata,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let md = try_ref!(md);
        let out = try_out!(out);
        let json = serde_json::to_vec(&md.md).map_err(|e| Failure::new(sealbox_result::Unknown, e.to_string()))?;
        out.write(buffer(json));
        Ok(())
    }
}

/// Frees key metadata returned by the library. NULL is a no-op. Never free
/// metadata borrowed from a `sealbox_key_list`.
///
/// Ownership: takes back `md`; strings obtained from it become invalid.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_metadata_free(md: *mut sealbox_key_metadata) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or live, owned metadata.
        unsafe { free_box(md) }
    }
}

// ------------------------------------------------------------ key list --

/// The number of keys on this page; 0 for a NULL `list`.
///
/// Ownership: nothing kept.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_len(list: *const sealbox_key_list) -> usize {
    ffi_boundary! { or 0 =>
        // SAFETY: NULL or a live key list.
        unsafe { crate::handle::try_ref(list) }.map_or(0, |l| l.keys.len())
    }
}

/// The metadata of the key at `index`; NULL when out of range or `list` is
/// NULL.
///
/// Ownership: borrows from `list` (do not free it); valid until `list` is
/// freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_get(
    list: *const sealbox_key_list,
    index: usize,
) -> *const sealbox_key_metadata {
    ffi_boundary! { or std::ptr::null() =>
        // SAFETY: NULL or a live key list.
        unsafe { crate::handle::try_ref(list) }
            .and_then(|l| l.keys.get(index))
            .map_or(std::ptr::null(), |m| (m as *const Metadata).cast())
    }
}

/// The marker to pass to `sealbox_keystore_list_keys` for the next page;
/// NULL on the last page (or when `list` is NULL).
///
/// Ownership: borrows from `list`; valid until `list` is freed.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_next_marker(
    list: *const sealbox_key_list,
) -> *const c_char {
    ffi_boundary! { or std::ptr::null() =>
        // SAFETY: NULL or a live key list.
        unsafe { crate::handle::try_ref(list) }
            .and_then(|l| l.next_marker.as_ref())
            .map_or(std::ptr::null(), |m| m.as_ptr())
    }
}

/// Frees a key list and the metadata it lends out. NULL is a no-op.
///
/// Ownership: takes back `list`.
///
/// Thread safety: free it once, when no other thread uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_key_list_free(list: *mut sealbox_key_list) {
    ffi_boundary! { or () =>
        // SAFETY: NULL or a live, owned key list.
        unsafe { free_box(list) }
    }
}
