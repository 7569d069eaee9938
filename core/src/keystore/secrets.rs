//! Secrets on top of the key store (issue 21), with the operations of AWS
//! Secrets Manager: versioned values sealed under a key-store key by
//! envelope encryption, staging labels (CURRENT, PENDING, PREVIOUS and the
//! caller's own), deletion with a recovery window, and the four-step
//! rotation workflow ([`SecretRotator`]).
//!
//! Every operation is one audited record naming the secret and version
//! (in `detail`), the key-store key and version used, and the encryption
//! context that binds the value to its secret and version. Changes are
//! made under the key store's change lock and committed in one
//! transaction. The value format is in docs/FORMAT.md, "Secret values".

use std::collections::BTreeMap;

use super::store::secrets::{SecretChange, SecretRecord, SecretStore, SecretVersionRecord};
use super::*;
use crate::crypto;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// Largest secret value, in bytes (as AWS Secrets Manager).
pub const MAX_SECRET_VALUE: usize = 65_536;
/// Longest secret name.
pub const MAX_SECRET_NAME: usize = 512;
/// Most staging labels on one version (as AWS).
pub const MAX_STAGES_PER_VERSION: usize = 20;
/// Versions kept per secret: past this, the oldest versions without a
/// staging label (deprecated) are deleted (as AWS).
pub const MAX_SECRET_VERSIONS: usize = 100;
/// Most tags on a secret.
pub const MAX_SECRET_TAGS: usize = 50;
/// Page size limit of ListSecrets.
pub const MAX_SECRET_LIST_LIMIT: usize = 100;
/// The recovery window of DeleteSecret, in days.
pub const SECRET_RECOVERY_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;
/// The recovery window when the caller names none (as AWS).
pub const DEFAULT_SECRET_RECOVERY_WINDOW_DAYS: u32 = 30;
/// The alias of the key that secrets are sealed under when their creator
/// names none; created on first use (AWS: `aws/secretsmanager`).
pub const DEFAULT_SECRETS_KEY_ALIAS: &str = "alias/sealbox/secrets";
/// The staging label of the version in use.
pub const STAGE_CURRENT: &str = "CURRENT";
/// The staging label of a version being rotated in.
pub const STAGE_PENDING: &str = "PENDING";
/// The staging label of the version that was CURRENT before it.
pub const STAGE_PREVIOUS: &str = "PREVIOUS";
/// The encryption-context key naming the secret.
pub const CONTEXT_SECRET: &str = "sealbox:secret";
/// The encryption-context key naming the version.
pub const CONTEXT_VERSION: &str = "sealbox:version";

const MAGIC: &[u8; 4] = b"SBSV";
const FORMAT_VERSION: u8 = 1;
const AAD_LABEL: &[u8] = b"sealbox secret value v1\0";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// A secret value: UTF-8 text or bytes, in memory that is wiped on drop.
pub struct SecretValue {
    bytes: SecretBytes,
    binary: bool,
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretValue")
            .field("binary", &self.binary)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl SecretValue {
    /// A text value (AWS: SecretString).
    pub fn text(text: &str) -> Result<Self> {
        Ok(SecretValue {
            bytes: SecretBytes::from_slice(text.as_bytes())?,
            binary: false,
        })
    }

    /// A binary value (AWS: SecretBinary).
    pub fn binary(bytes: &[u8]) -> Result<Self> {
        Ok(SecretValue {
            bytes: SecretBytes::from_slice(bytes)?,
            binary: true,
        })
    }

    /// A value from secret memory; text must be UTF-8.
    pub fn from_secret_bytes(bytes: SecretBytes, binary: bool) -> Result<Self> {
        if !binary && std::str::from_utf8(bytes.as_bytes()).is_err() {
            return Err(Error::InvalidArgument(
                "a text secret must be UTF-8 (store other bytes as a binary secret)".into(),
            ));
        }
        Ok(SecretValue { bytes, binary })
    }

    /// Whether the value is binary.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The value's bytes (text: UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_bytes()
    }

    /// The text, or `None` for a binary value.
    pub fn as_str(&self) -> Option<&str> {
        if self.binary {
            None
        } else {
            std::str::from_utf8(self.bytes.as_bytes()).ok()
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Constant-time comparison of kind and bytes.
    pub fn ct_eq(&self, other: &SecretValue) -> bool {
        self.binary == other.binary && self.bytes.ct_eq(other.as_bytes())
    }
}

/// GetSecretValue's answer.
#[derive(Debug)]
pub struct SecretValueEntry {
    /// The secret's name.
    pub name: String,
    /// The version read.
    pub version_id: String,
    /// The version's staging labels.
    pub version_stages: Vec<String>,
    /// When the version was created (Unix seconds).
    pub created_at: i64,
    /// The value.
    pub value: SecretValue,
}

/// A version written (CreateSecret, PutSecretValue, RotateSecret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVersionRef {
    /// The secret's name.
    pub name: String,
    /// The version ID (empty for a secret created without a value).
    pub version_id: String,
    /// Its staging labels after the call.
    pub version_stages: Vec<String>,
}

/// One version in ListSecretVersionIds (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVersionInfo {
    /// The version ID.
    pub version_id: String,
    /// Its staging labels (none: deprecated).
    pub version_stages: Vec<String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// Whether the value is binary.
    pub binary: bool,
    /// The key-store key ID its value is sealed under.
    pub key_id: String,
}

/// DescribeSecret's answer (never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    /// The name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The key new versions are sealed under, as named at creation (the
    /// default key's alias when none was named).
    pub key_id: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last change.
    pub last_changed_at: i64,
    /// Unix seconds of the last finished rotation.
    pub last_rotated_at: Option<i64>,
    /// When the deletion was requested (Unix seconds).
    pub deleted_date: Option<i64>,
    /// When the secret will be purged (Unix seconds).
    pub deletion_date: Option<i64>,
    /// The versions that carry staging labels, with their labels.
    pub version_ids_to_stages: BTreeMap<String, Vec<String>>,
}

/// A page of ListSecrets.
#[derive(Debug, Clone)]
pub struct SecretList {
    /// The secrets of this page, by name.
    pub secrets: Vec<SecretMetadata>,
    /// Pass as `marker` for the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

/// CreateSecret's options.
#[derive(Debug, Clone, Default)]
pub struct CreateSecretOptions {
    /// The key-store key (ID or alias); default: [`DEFAULT_SECRETS_KEY_ALIAS`].
    pub key_id: Option<String>,
    /// Free text (at most 2048 characters).
    pub description: String,
    /// Tags (at most 50; keys 1..=128, values 0..=256 characters).
    pub tags: BTreeMap<String, String>,
    /// The first version's ID (idempotency, as AWS ClientRequestToken:
    /// 32..=64 characters); default: a new UUID.
    pub client_request_token: Option<String>,
}

/// PutSecretValue's options.
#[derive(Debug, Clone, Default)]
pub struct PutSecretValueOptions {
    /// Labels of the new version; default `[CURRENT]`.
    pub version_stages: Option<Vec<String>>,
    /// The version ID (idempotency): a request repeated with the same token
    /// and value changes nothing; with another value it is refused.
    pub client_request_token: Option<String>,
}

/// What GetRandomPassword makes (defaults as AWS: 32 characters of every
/// class but space, at least one of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordSpec {
    /// 1..=4096 characters.
    pub length: usize,
    /// Characters never used.
    pub exclude_characters: String,
    /// No digits.
    pub exclude_numbers: bool,
    /// No punctuation (`` !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ ``).
    pub exclude_punctuation: bool,
    /// No upper-case letters.
    pub exclude_uppercase: bool,
    /// No lower-case letters.
    pub exclude_lowercase: bool,
    /// Also the space character.
    pub include_space: bool,
    /// At least one character of every class included.
    pub require_each_included_type: bool,
}

impl Default for PasswordSpec {
    fn default() -> Self {
        PasswordSpec {
            length: 32,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

/// The steps of a rotation, named as in AWS Secrets Manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// Make the new value (stored as the PENDING version).
    CreateSecret,
    /// Set the new value in the target system.
    SetSecret,
    /// Check that the target accepts the new value.
    TestSecret,
    /// The last check before the PENDING version becomes CURRENT.
    FinishSecret,
}

impl RotationStep {
    /// The AWS name of the step (`createSecret`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => "createSecret",
            RotationStep::SetSecret => "setSecret",
            RotationStep::TestSecret => "testSecret",
            RotationStep::FinishSecret => "finishSecret",
        }
    }
}

/// The rotation under way, given to each step of a [`SecretRotator`].
#[derive(Debug, Clone, Copy)]
pub struct SecretRotation<'a> {
    /// The key store (to read the CURRENT value, for example).
    pub key_store: &'a KeyStore,
    /// The secret being rotated.
    pub secret_name: &'a str,
    /// The new (PENDING) version's ID.
    pub version_id: &'a str,
    /// The CURRENT version's ID when the rotation started.
    pub current_version_id: &'a str,
}

/// A rotation's target system, as a Secrets Manager rotation function: the
/// application implements it for what the secret opens (a database role,
/// an API key). [`KeyStore::rotate_secret`] runs the steps in order; an
/// error from any step stops the rotation with CURRENT untouched and the
/// new version left PENDING (a later rotation replaces it). Return any
/// [`Error`]; its kind is what `rotate_secret` returns.
pub trait SecretRotator {
    /// Step 1: the new value. Default: a password from
    /// [`KeyStore::get_random_password`] with the default [`PasswordSpec`].
    fn create_secret(&self, rotation: &SecretRotation<'_>) -> Result<SecretValue> {
        rotation
            .key_store
            .get_random_password(&PasswordSpec::default())
    }

    /// Step 2: set `pending` in the target system (for example ALTER ROLE).
    fn set_secret(&self, rotation: &SecretRotation<'_>, pending: &SecretValue) -> Result<()>;

    /// Step 3: check that the target accepts `pending` (log in with it).
    fn test_secret(&self, rotation: &SecretRotation<'_>, pending: &SecretValue) -> Result<()>;

    /// Step 4: the last word before the key store promotes the PENDING
    /// version to CURRENT (the old CURRENT becomes PREVIOUS). Default:
    /// nothing to do.
    fn finish_secret(&self, rotation: &SecretRotation<'_>) -> Result<()> {
        let _ = rotation;
        Ok(())
    }
}

/// RotateSecret's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateSecretResult {
    /// The secret's name.
    pub name: String,
    /// The new CURRENT version.
    pub version_id: String,
    /// The version that is now PREVIOUS.
    pub previous_version_id: String,
}

// -------------------------------------------------------------- checks --

fn name_chars_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

/// Validates a secret name: 1..=512 of `[A-Za-z0-9/_+=.@-]` (as AWS).
pub fn check_secret_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_SECRET_NAME || !name_chars_ok(name) {
        return Err(Error::InvalidArgument(format!(
            "secret names are 1..={MAX_SECRET_NAME} characters of A-Z a-z 0-9 / _ + = . @ -: {:?}",
            truncate(name)
        )));
    }
    Ok(())
}

/// Validates a staging label: 1..=256 of `[A-Za-z0-9/_+=.@-]`.
pub fn check_stage(stage: &str) -> Result<()> {
    if stage.is_empty() || stage.len() > 256 || !name_chars_ok(stage) {
        return Err(Error::InvalidArgument(format!(
            "staging labels are 1..=256 characters of A-Z a-z 0-9 / _ + = . @ -: {:?}",
            truncate(stage)
        )));
    }
    Ok(())
}

fn check_token(token: &str) -> Result<()> {
    if !(32..=64).contains(&token.len())
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::InvalidArgument(format!(
            "a client request token (version ID) is 32..=64 characters of A-Z a-z 0-9 - _: {:?}",
            truncate(token)
        )));
    }
    Ok(())
}

fn check_value(value: &SecretValue) -> Result<()> {
    if value.is_empty() || value.len() > MAX_SECRET_VALUE {
        return Err(Error::InvalidArgument(format!(
            "a secret value is 1..={MAX_SECRET_VALUE} bytes, not {}",
            value.len()
        )));
    }
    Ok(())
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_SECRET_TAGS
        || tags.keys().any(|k| k.is_empty() || k.chars().count() > 128)
        || tags.values().any(|v| v.chars().count() > 256)
    {
        return Err(Error::InvalidArgument(format!(
            "a secret has at most {MAX_SECRET_TAGS} tags, keys 1..=128 and values 0..=256 characters"
        )));
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

fn new_version_id() -> Result<String> {
    Ok(KeyId::generate()?.to_string())
}

/// The encryption context that binds a value to its secret and version.
pub fn secret_context(name: &str, version_id: &str) -> EncryptionContext {
    let mut ec = EncryptionContext::new();
    ec.insert(CONTEXT_SECRET.into(), name.into());
    ec.insert(CONTEXT_VERSION.into(), version_id.into());
    ec
}

fn value_aad(header: &[u8], name: &str, version_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + header.len() + name.len() + 48);
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(header);
    for part in [name, version_id] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

/// label → version ID.
type Labels = BTreeMap<String, String>;

/// Points `label` at `to`; moving CURRENT away from a version makes that
/// version PREVIOUS.
fn move_label(labels: &mut Labels, label: &str, to: &str) {
    if label == STAGE_CURRENT {
        if let Some(old) = labels.get(STAGE_CURRENT).cloned() {
            if old != to {
                labels.insert(STAGE_PREVIOUS.into(), old);
            }
        }
    }
    labels.insert(label.into(), to.into());
}

fn stages_of(labels: &Labels, version_id: &str) -> Vec<String> {
    labels
        .iter()
        .filter(|(_, v)| v.as_str() == version_id)
        .map(|(l, _)| l.clone())
        .collect()
}

fn check_label_counts(labels: &Labels) -> Result<()> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in labels.values() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    if let Some((v, _)) = counts.iter().find(|(_, n)| **n > MAX_STAGES_PER_VERSION) {
        return Err(Error::InvalidArgument(format!(
            "version {v} would have more than {MAX_STAGES_PER_VERSION} staging labels"
        )));
    }
    Ok(())
}

/// The error of a failed rotation step: the same kind, its message saying
/// which step failed.
/// How long a rotation's lease lasts if its process dies without
/// releasing it.
const ROTATION_LEASE_MS: i64 = 15 * 60 * 1000;

fn step_error(e: Error, name: &str, step: RotationStep) -> Error {
    let prefix = format!(
        "rotation of secret {name} failed at {} (CURRENT is unchanged)",
        step.as_str()
    );
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{prefix}: {m}")),
        Error::InvalidState(m) => Error::InvalidState(format!("{prefix}: {m}")),
        Error::Io(m) => Error::Io(format!("{prefix}: {m}")),
        Error::KeyNotFound(m) => Error::KeyNotFound(format!("{prefix}: {m}")),
        Error::KeyDisabled(m) => Error::KeyDisabled(format!("{prefix}: {m}")),
        Error::InvalidKeyState(m) => Error::InvalidKeyState(format!("{prefix}: {m}")),
        Error::InvalidKeyUsage(m) => Error::InvalidKeyUsage(format!("{prefix}: {m}")),
        Error::AlreadyExists(m) => Error::AlreadyExists(format!("{prefix}: {m}")),
        Error::Storage(m) => Error::Storage(format!("{prefix}: {m}")),
        Error::StoreUnavailable(m) => Error::StoreUnavailable(format!("{prefix}: {m}")),
        Error::Unsupported(m) => Error::Unsupported(format!("{prefix}: {m}")),
        other => other,
    }
}

impl KeyStore {
    pub(super) fn secret_store(&self) -> Result<&dyn SecretStore> {
        self.inner.store.secrets().ok_or_else(|| {
            Error::Unsupported("this key store's metadata store keeps no secrets".into())
        })
    }

    fn note(a: &mut Audit<'_>, detail: String) {
        a.event.detail = Some(detail);
    }

    /// The secret's row, whatever its state (`KeyNotFound` if there is none,
    /// or if its recovery window has ended: then it is purged now, unless
    /// the caller holds the change lock, `locked`: the purge takes it).
    fn secret_row_with(&self, name: &str, locked: bool) -> Result<SecretRecord> {
        check_secret_name(name)?;
        let s = self
            .secret_store()?
            .secret(name)?
            .ok_or_else(|| Error::KeyNotFound(format!("secret {name}")))?;
        if s.deletion_date.is_some_and(|d| d <= ms_to_s(self.now_ms())) {
            if !locked {
                self.purge_expired_secrets()?;
            }
            return Err(Error::KeyNotFound(format!("secret {name}")));
        }
        Ok(s)
    }

    pub(super) fn secret_row(&self, name: &str) -> Result<SecretRecord> {
        self.secret_row_with(name, false)
    }

    /// [`secret_row`](Self::secret_row) under the change lock.
    pub(super) fn secret_row_locked(&self, name: &str) -> Result<SecretRecord> {
        self.secret_row_with(name, true)
    }

    /// The secret's row; a secret scheduled for deletion is refused.
    fn live_secret(&self, name: &str) -> Result<SecretRecord> {
        Self::refuse_deleted(self.secret_row(name)?)
    }

    /// [`live_secret`](Self::live_secret) under the change lock.
    pub(super) fn live_secret_locked(&self, name: &str) -> Result<SecretRecord> {
        Self::refuse_deleted(self.secret_row_locked(name)?)
    }

    fn refuse_deleted(s: SecretRecord) -> Result<SecretRecord> {
        if let Some(d) = s.deletion_date {
            return Err(Error::InvalidKeyState(format!(
                "secret {} is scheduled for deletion (at {}); restore it first (restore_secret)",
                s.name,
                audit::rfc3339_millis(d * 1000)
            )));
        }
        Ok(s)
    }

    fn labels(&self, name: &str) -> Result<Labels> {
        Ok(self
            .secret_store()?
            .secret_labels(name)?
            .into_iter()
            .collect())
    }

    /// The key new versions of `secret` are sealed under (the default
    /// secrets key is created on first use).
    /// Changing a secret (its key, labels, deletion, tags) is for those who
    /// may read it: `action` (`kms:Decrypt` unless said) on the secret's key
    /// with the context that names the secret (the version is not named).
    fn authorize_secret_change(
        &self,
        a: &mut Audit<'_>,
        name: &str,
        key: Option<&str>,
        action: &str,
    ) -> Result<()> {
        let key = match key {
            Some(k) => k.to_owned(),
            None => match self.load_alias(DEFAULT_SECRETS_KEY_ALIAS)? {
                Some(k) => k,
                // No default key yet: no value was ever sealed under it.
                None => return Ok(()),
            },
        };
        let rec = self.record(&key)?;
        let mut ec = EncryptionContext::new();
        ec.insert(CONTEXT_SECRET.into(), name.into());
        let alias = key.starts_with("alias/").then_some(key.as_str());
        // Decided on the stored policy and grants (a change, not the data
        // plane).
        let policy = self.load_policy(&rec.key_id)?;
        let grants = self.load_grants(&rec.key_id)?;
        self.decide_with(a, &rec, &policy, &grants, action, Some(&ec), alias)
    }

    fn secret_key(&self, configured: Option<&str>) -> Result<String> {
        if let Some(k) = configured {
            return Ok(k.to_owned());
        }
        // Verified: an alias repointed outside sealbox must not choose the
        // key new secret values are sealed under.
        if let Some(id) = self.load_alias(DEFAULT_SECRETS_KEY_ALIAS)? {
            return Ok(id);
        }
        let req = CreateKeyRequest {
            alias: Some(DEFAULT_SECRETS_KEY_ALIAS.into()),
            description: "The default key of sealbox secrets (created on first use)".into(),
            ..Default::default()
        };
        match self.create_key(&req) {
            Ok(m) => Ok(m.key_id.to_string()),
            // Another process created it first.
            Err(Error::AlreadyExists(_)) => self
                .load_alias(DEFAULT_SECRETS_KEY_ALIAS)?
                .ok_or_else(|| Error::KeyNotFound(DEFAULT_SECRETS_KEY_ALIAS.into())),
            Err(e) => Err(e),
        }
    }

    /// Seals `value` for version `version_id` of `name` under `key`.
    fn seal_secret(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        name: &str,
        version_id: &str,
        value: &SecretValue,
    ) -> Result<(Vec<u8>, String)> {
        let ec = secret_context(name, version_id);
        a.event.encryption_context = Some(ec.clone());
        // The principal needs kms:GenerateDataKey on the secret's key, with
        // the context that names the secret and version.
        let rec = self.cached_record(key)?;
        a.key(&rec.key_id, None);
        let alias = key.starts_with("alias/").then_some(key);
        self.authorize(a, &rec, "kms:GenerateDataKey", Some(&ec), alias)?;
        let dk = self.data_key(a, key, 32, &ec)?;
        let mut out =
            Vec::with_capacity(10 + dk.ciphertext.len() + crypto::GCM_IV_LEN + value.len() + 16);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(u8::from(value.is_binary()));
        out.extend_from_slice(&(dk.ciphertext.len() as u32).to_be_bytes());
        out.extend_from_slice(&dk.ciphertext);
        let aad = value_aad(&out, name, version_id);
        let mut iv = [0u8; crypto::GCM_IV_LEN];
        crypto::fill_random(&mut iv)?;
        out.extend_from_slice(&iv);
        let start = out.len();
        // Capacity was reserved: the plaintext is copied once, into the
        // buffer that is encrypted in place at once.
        out.extend_from_slice(value.as_bytes());
        let sealed = crypto::AesGcmKey::new(dk.plaintext.as_bytes())
            .and_then(|gcm| gcm.seal_in_place(&iv, &aad, &mut out[start..]));
        let tag = match sealed {
            Ok(tag) => tag,
            Err(e) => {
                // The buffer may still hold the plaintext.
                zeroize::Zeroize::zeroize(&mut out);
                return Err(e);
            }
        };
        out.extend_from_slice(&tag);
        Ok((out, dk.key_id.to_string()))
    }

    /// Opens a sealed value of version `version_id` of `name`.
    fn open_secret(
        &self,
        a: &mut Audit<'_>,
        name: &str,
        version: &SecretVersionRecord,
    ) -> Result<SecretValue> {
        let ct = &version.ciphertext;
        if ct.len() < 10 || &ct[..4] != MAGIC || ct[4] != FORMAT_VERSION || ct[5] > 1 {
            return Err(Error::DecryptionFailed);
        }
        let binary = ct[5] == 1;
        let n = u32::from_be_bytes([ct[6], ct[7], ct[8], ct[9]]) as usize;
        let header_end = 10usize.checked_add(n).ok_or(Error::DecryptionFailed)?;
        if binary != version.binary || ct.len() < header_end + crypto::GCM_IV_LEN + 16 {
            return Err(Error::DecryptionFailed);
        }
        let ec = secret_context(name, &version.version_id);
        a.event.encryption_context = Some(ec.clone());
        let wrapped = &ct[10..header_end];
        // The principal needs kms:Decrypt on the key that sealed the value.
        let key_id = blob::parse(wrapped)?.key_id;
        let rec = self
            .inner
            .cache
            .key(key_id.as_str(), || self.load_key(key_id.as_str()))?
            .ok_or_else(|| Error::KeyNotFound(key_id.to_string()))?;
        a.key(&rec.key_id, None);
        self.authorize(a, &rec, "kms:Decrypt", Some(&ec), None)?;
        let dk = self.open_blob(a, wrapped, &ec)?;
        let aad = value_aad(&ct[..header_end], name, &version.version_id);
        let mut iv = [0u8; crypto::GCM_IV_LEN];
        iv.copy_from_slice(&ct[header_end..header_end + crypto::GCM_IV_LEN]);
        let body = &ct[header_end + crypto::GCM_IV_LEN..];
        let (sealed, tag) = body.split_at(body.len() - 16);
        let mut pt = SecretBytes::from_slice(sealed)?;
        crypto::AesGcmKey::new(dk.as_bytes())?.open_in_place(&iv, &aad, pt.as_mut_bytes(), tag)?;
        SecretValue::from_secret_bytes(pt, binary).map_err(|_| Error::DecryptionFailed)
    }

    fn version_record(&self, name: &str, version_id: &str) -> Result<SecretVersionRecord> {
        self.secret_store()?
            .secret_version(name, version_id)?
            .ok_or_else(|| Error::KeyNotFound(format!("secret {name} version {version_id}")))
    }

    fn secret_metadata(&self, s: SecretRecord) -> Result<SecretMetadata> {
        let labels = self.labels(&s.name)?;
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (label, v) in labels {
            map.entry(v).or_default().push(label);
        }
        Ok(SecretMetadata {
            key_id: s
                .key_id
                .unwrap_or_else(|| DEFAULT_SECRETS_KEY_ALIAS.to_owned()),
            name: s.name,
            description: s.description,
            tags: s.tags,
            created_at: s.created_at,
            last_changed_at: s.last_changed_at,
            last_rotated_at: s.last_rotated_at,
            deleted_date: s.deleted_at,
            deletion_date: s.deletion_date,
            version_ids_to_stages: map,
        })
    }

    /// Deprecated versions to delete once `count` versions exist.
    fn prune(versions: &[SecretVersionRecord], count: usize, labels: &Labels) -> Vec<String> {
        let mut excess = count.saturating_sub(MAX_SECRET_VERSIONS);
        let mut out = Vec::new();
        for v in versions {
            if excess == 0 {
                break;
            }
            if !labels.values().any(|x| *x == v.version_id) {
                out.push(v.version_id.clone());
                excess -= 1;
            }
        }
        out
    }

    // -------------------------------------------------------- operations --

    /// CreateSecret: a new secret, with its first version (labelled
    /// CURRENT) when `value` is given. The value is sealed under
    /// `options.key_id` (default [`DEFAULT_SECRETS_KEY_ALIAS`]).
    pub fn create_secret(
        &self,
        name: &str,
        value: Option<&SecretValue>,
        options: &CreateSecretOptions,
    ) -> Result<SecretVersionRef> {
        self.run(Operation::CreateSecret, None, |a| {
            check_secret_name(name)?;
            if options.description.chars().count() > 2048 {
                return Err(Error::InvalidArgument(
                    "a secret's description is at most 2048 characters".into(),
                ));
            }
            check_tags(&options.tags)?;
            if let Some(k) = &options.key_id {
                // Named keys must exist now.
                self.resolve_key_id(k)?;
            }
            let version_id = match &options.client_request_token {
                Some(t) => {
                    check_token(t)?;
                    t.clone()
                }
                None => new_version_id()?,
            };
            Self::note(a, format!("secret {name} version {version_id}"));
            let store = self.secret_store()?;
            if store.secret(name)?.is_some() {
                return Err(Error::AlreadyExists(format!("secret {name}")));
            }
            let now = ms_to_s(self.now_ms());
            let sealed = match value {
                Some(v) => {
                    check_value(v)?;
                    let key = self.secret_key(options.key_id.as_deref())?;
                    let (ct, key_id) = self.seal_secret(a, &key, name, &version_id, v)?;
                    Some(SecretVersionRecord {
                        version_id: version_id.clone(),
                        seq: 1,
                        created_at: now,
                        binary: v.is_binary(),
                        key_id,
                        ciphertext: ct,
                    })
                }
                None => None,
            };
            let rec = SecretRecord {
                name: name.to_owned(),
                description: options.description.clone(),
                key_id: options.key_id.clone(),
                tags: options.tags.clone(),
                created_at: now,
                last_changed_at: now,
                last_rotated_at: None,
                deleted_at: None,
                deletion_date: None,
            };
            let change = SecretChange {
                new_version: sealed.as_ref(),
                labels: if sealed.is_some() {
                    vec![(STAGE_CURRENT.into(), version_id.clone())]
                } else {
                    Vec::new()
                },
                changed_at: now,
                ..Default::default()
            };
            a.allow()?;
            store.create_secret(&rec, &change)?;
            Ok(SecretVersionRef {
                name: name.to_owned(),
                version_stages: if sealed.is_some() {
                    vec![STAGE_CURRENT.into()]
                } else {
                    Vec::new()
                },
                version_id: if sealed.is_some() {
                    version_id
                } else {
                    String::new()
                },
            })
        })
    }

    /// GetSecretValue: the version `version_id`, or the one labelled
    /// `version_stage` (default CURRENT); given both, the version must
    /// carry the label.
    pub fn get_secret_value(
        &self,
        name: &str,
        version_id: Option<&str>,
        version_stage: Option<&str>,
    ) -> Result<SecretValueEntry> {
        self.run(Operation::GetSecretValue, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:GetSecretValue")?;
            if let Some(s) = version_stage {
                check_stage(s)?;
            }
            self.live_secret(name)?;
            let labels = self.labels(name)?;
            let vid = match (version_id, version_stage) {
                (Some(v), stage) => {
                    if let Some(s) = stage {
                        if labels.get(s).map(String::as_str) != Some(v) {
                            return Err(Error::KeyNotFound(format!(
                                "secret {name} version {v} does not have the staging label {s}"
                            )));
                        }
                    }
                    v.to_owned()
                }
                (None, stage) => {
                    let s = stage.unwrap_or(STAGE_CURRENT);
                    labels.get(s).cloned().ok_or_else(|| {
                        Error::KeyNotFound(format!(
                            "secret {name} has no version with the staging label {s}"
                        ))
                    })?
                }
            };
            let stages = stages_of(&labels, &vid);
            Self::note(
                a,
                format!("secret {name} version {vid} stages [{}]", stages.join(",")),
            );
            let rec = self.version_record(name, &vid)?;
            let value = self.open_secret(a, name, &rec)?;
            Ok(SecretValueEntry {
                name: name.to_owned(),
                version_id: vid,
                version_stages: stages,
                created_at: rec.created_at,
                value,
            })
        })
    }

    /// PutSecretValue: a new version with `version_stages` (default
    /// `[CURRENT]`; the labels move from the versions that had them, and
    /// the version that loses CURRENT becomes PREVIOUS). The first version
    /// of a secret is CURRENT whatever the stages say.
    pub fn put_secret_value(
        &self,
        name: &str,
        value: &SecretValue,
        options: &PutSecretValueOptions,
    ) -> Result<SecretVersionRef> {
        self.run(Operation::PutSecretValue, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:PutSecretValue")?;
            check_value(value)?;
            let stages = options
                .version_stages
                .clone()
                .unwrap_or_else(|| vec![STAGE_CURRENT.into()]);
            if stages.len() > MAX_STAGES_PER_VERSION {
                return Err(Error::InvalidArgument(format!(
                    "a version has at most {MAX_STAGES_PER_VERSION} staging labels"
                )));
            }
            for s in &stages {
                check_stage(s)?;
            }
            let secret = self.live_secret(name)?;
            let store = self.secret_store()?;
            let version_id = match &options.client_request_token {
                Some(t) => {
                    check_token(t)?;
                    t.clone()
                }
                None => new_version_id()?,
            };
            Self::note(a, format!("secret {name} version {version_id}"));
            // A repeated request: the same value changes nothing.
            if let Some(existing) = store.secret_version(name, &version_id)? {
                let old = self.open_secret(a, name, &existing)?;
                if !old.ct_eq(value) {
                    return Err(Error::AlreadyExists(format!(
                        "secret {name} version {version_id} exists with another value"
                    )));
                }
                let labels = self.labels(name)?;
                return Ok(SecretVersionRef {
                    name: name.to_owned(),
                    version_stages: stages_of(&labels, &version_id),
                    version_id,
                });
            }
            let key = self.secret_key(secret.key_id.as_deref())?;
            let (ct, key_id) = self.seal_secret(a, &key, name, &version_id, value)?;
            let _g = self.lock_mutations()?;
            // Read again under the lock: another writer may have come first.
            self.live_secret_locked(name)?;
            if store.secret_version(name, &version_id)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "secret {name} version {version_id}"
                )));
            }
            let versions = store.secret_versions(name)?;
            let mut labels = self.labels(name)?;
            let first = !labels.contains_key(STAGE_CURRENT);
            let mut order: Vec<&str> = stages.iter().map(String::as_str).collect();
            if first && !order.contains(&STAGE_CURRENT) {
                order.push(STAGE_CURRENT);
            }
            // CURRENT first, so that an explicit PREVIOUS wins over the
            // automatic one.
            order.sort_by_key(|s| *s != STAGE_CURRENT);
            order.dedup();
            for s in &order {
                move_label(&mut labels, s, &version_id);
            }
            check_label_counts(&labels)?;
            let now = ms_to_s(self.now_ms());
            let rec = SecretVersionRecord {
                version_id: version_id.clone(),
                seq: versions.iter().map(|v| v.seq).max().unwrap_or(0) + 1,
                created_at: now,
                binary: value.is_binary(),
                key_id,
                ciphertext: ct,
            };
            let delete_versions = Self::prune(&versions, versions.len() + 1, &labels);
            let version_stages = stages_of(&labels, &version_id);
            Self::note(
                a,
                format!(
                    "secret {name} version {version_id} stages [{}]",
                    version_stages.join(",")
                ),
            );
            a.allow()?;
            store.change_secret(
                name,
                &SecretChange {
                    new_version: Some(&rec),
                    labels: labels.into_iter().collect(),
                    delete_versions,
                    changed_at: now,
                    rotated_at: None,
                },
            )?;
            Ok(SecretVersionRef {
                name: name.to_owned(),
                version_id,
                version_stages,
            })
        })
    }

    /// UpdateSecretVersionStage: moves `stage` to `move_to_version_id`
    /// (naming the version that holds it as `remove_from_version_id`), or
    /// removes it from `remove_from_version_id`. CURRENT can only be
    /// moved; the version it leaves becomes PREVIOUS. One transaction.
    pub fn update_secret_version_stage(
        &self,
        name: &str,
        stage: &str,
        move_to_version_id: Option<&str>,
        remove_from_version_id: Option<&str>,
    ) -> Result<Vec<SecretVersionInfo>> {
        self.run(Operation::UpdateSecretVersionStage, None, |a| {
            self.authorize_secret(a, name, "secretsmanager:UpdateSecretVersionStage")?;
            Self::note(
                a,
                format!(
                    "secret {name} stage {stage} to {} from {}",
                    move_to_version_id.unwrap_or("-"),
                    remove_from_version_id.unwrap_or("-")
                ),
            );
            check_stage(stage)?;
            if move_to_version_id.is_none() && remove_from_version_id.is_none() {
                return Err(Error::InvalidArgument(
                    "name the version to move the label to, or the one to remove it from".into(),
                ));
            }
            let _g = self.lock_mutations()?;
            let s = self.live_secret_locked(name)?;
            self.authorize_secret_change(a, name, s.key_id.as_deref(), "kms:Decrypt")?;
            let store = self.secret_store()?;
            let versions = store.secret_versions(name)?;
            let mut labels = self.labels(name)?;
            let holder = labels.get(stage).cloned();
            if let Some(rf) = remove_from_version_id {
                if holder.as_deref() != Some(rf) {
                    return Err(Error::InvalidArgument(format!(
                        "the staging label {stage} of secret {name} is not on version {rf}"
                    )));
                }
            }
            match move_to_version_id {
                Some(to) => {
                    if !versions.iter().any(|v| v.version_id == to) {
                        return Err(Error::KeyNotFound(format!("secret {name} version {to}")));
                    }
                    if let Some(h) = &holder {
                        if h != to && remove_from_version_id != Some(h.as_str()) {
                            return Err(Error::InvalidArgument(format!(
                                "the staging label {stage} is on version {h}: name it as the \
                                 version to remove it from"
                            )));
                        }
                    }
                    move_label(&mut labels, stage, to);
                }
                None => {
                    if stage == STAGE_CURRENT {
                        return Err(Error::InvalidArgument(
                            "CURRENT can only be moved to another version, not removed".into(),
                        ));
                    }
                    labels.remove(stage);
                }
            }
            check_label_counts(&labels)?;
            let now = ms_to_s(self.now_ms());
            let delete_versions = Self::prune(&versions, versions.len(), &labels);
            a.allow()?;
            store.change_secret(
                name,
                &SecretChange {
                    new_version: None,
                    labels: labels.clone().into_iter().collect(),
                    delete_versions: delete_versions.clone(),
                    changed_at: now,
                    rotated_at: None,
                },
            )?;
            Ok(versions
                .into_iter()
                .filter(|v| !delete_versions.contains(&v.version_id))
                .map(|v| SecretVersionInfo {
                    version_stages: stages_of(&labels, &v.version_id),
                    version_id: v.version_id,
                    created_at: v.created_at,
                    binary: v.binary,
                    key_id: v.key_id,
                })
                .collect())
        })
    }

    /// ListSecrets, by name, `limit` (1..=100) per page; secrets scheduled
    /// for deletion only when `include_planned_deletion`.
    pub fn list_secrets(
        &self,
        limit: usize,
        marker: Option<&str>,
        include_planned_deletion: bool,
    ) -> Result<SecretList> {
        self.run(Operation::ListSecrets, None, |_| {
            if !(1..=MAX_SECRET_LIST_LIMIT).contains(&limit) {
                return Err(Error::InvalidArgument(format!(
                    "limit must be 1..={MAX_SECRET_LIST_LIMIT}"
                )));
            }
            let store = self.secret_store()?;
            let now = ms_to_s(self.now_ms());
            let mut out = Vec::new();
            let mut after = marker.map(str::to_owned);
            let mut more = false;
            'pages: loop {
                let page = store.list_secrets(after.as_deref(), limit + 1)?;
                let last = page.len() <= limit;
                for s in page {
                    after = Some(s.name.clone());
                    if s.deletion_date.is_some_and(|d| d <= now)
                        || (s.deletion_date.is_some() && !include_planned_deletion)
                    {
                        continue;
                    }
                    if out.len() == limit {
                        more = true;
                        break 'pages;
                    }
                    out.push(self.secret_metadata(s)?);
                }
                if last {
                    break;
                }
            }
            let next_marker = if more {
                out.last().map(|s: &SecretMetadata| s.name.clone())
            } else {
                None
            };
            Ok(SecretList {
                secrets: out,
                next_marker,
            })
        })
    }

    /// ListSecretVersionIds, newest first; versions without labels only
    /// when `include_deprecated`. Never values.
    pub fn list_secret_version_ids(
        &self,
        name: &str,
        include_deprecated: bool,
    ) -> Result<Vec<SecretVersionInfo>> {
        self.run(Operation::ListSecretVersionIds, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:ListSecretVersionIds")?;
            self.secret_row(name)?;
            let labels = self.labels(name)?;
            let mut out: Vec<SecretVersionInfo> = self
                .secret_store()?
                .secret_versions(name)?
                .into_iter()
                .map(|v| SecretVersionInfo {
                    version_stages: stages_of(&labels, &v.version_id),
                    version_id: v.version_id,
                    created_at: v.created_at,
                    binary: v.binary,
                    key_id: v.key_id,
                })
                .filter(|v| include_deprecated || !v.version_stages.is_empty())
                .collect();
            out.reverse();
            Ok(out)
        })
    }

    /// DescribeSecret: metadata and the versions' labels, never values
    /// (also of a secret scheduled for deletion).
    pub fn describe_secret(&self, name: &str) -> Result<SecretMetadata> {
        self.run(Operation::DescribeSecret, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:DescribeSecret")?;
            let s = self.secret_row(name)?;
            self.secret_metadata(s)
        })
    }

    /// DeleteSecret: scheduled after `recovery_window_days` (7..=30,
    /// default 30), during which [`restore_secret`](Self::restore_secret)
    /// brings it back; or at once and for good when
    /// `force_delete_without_recovery`. Returns the deletion date (Unix
    /// seconds).
    pub fn delete_secret(
        &self,
        name: &str,
        recovery_window_days: Option<u32>,
        force_delete_without_recovery: bool,
    ) -> Result<i64> {
        self.run(Operation::DeleteSecret, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:DeleteSecret")?;
            if force_delete_without_recovery && recovery_window_days.is_some() {
                return Err(Error::InvalidArgument(
                    "a recovery window and a forced deletion exclude each other".into(),
                ));
            }
            let days = recovery_window_days.unwrap_or(DEFAULT_SECRET_RECOVERY_WINDOW_DAYS);
            if !SECRET_RECOVERY_WINDOW_DAYS.contains(&days) {
                return Err(Error::InvalidArgument(format!(
                    "the recovery window must be {SECRET_RECOVERY_WINDOW_DAYS:?} days"
                )));
            }
            let _g = self.lock_mutations()?;
            let s = self.secret_row_locked(name)?;
            self.authorize_secret_change(a, name, s.key_id.as_deref(), "kms:Decrypt")?;
            let now_ms = self.now_ms();
            let store = self.secret_store()?;
            if force_delete_without_recovery {
                Self::note(a, format!("secret {name}: deleted without recovery"));
                a.allow()?;
                store.purge_secret(name)?;
                return Ok(ms_to_s(now_ms));
            }
            if s.deletion_date.is_some() {
                return Err(Error::InvalidKeyState(format!(
                    "secret {name} is already scheduled for deletion"
                )));
            }
            let at = ms_to_s(now_ms + i64::from(days) * DAY_MS);
            Self::note(
                a,
                format!(
                    "secret {name}: scheduled for deletion at {}",
                    audit::rfc3339_millis(at * 1000)
                ),
            );
            a.allow()?;
            store.set_secret_deletion(name, Some(ms_to_s(now_ms)), Some(at), ms_to_s(now_ms))?;
            Ok(at)
        })
    }

    /// UpdateSecret: a new description, and/or the key that new versions are
    /// sealed under (`key_id`: an ID or alias that must exist now; existing
    /// versions stay under the key that sealed them and stay readable).
    /// Values change through [`put_secret_value`](Self::put_secret_value).
    pub fn update_secret(
        &self,
        name: &str,
        description: Option<&str>,
        key_id: Option<&str>,
    ) -> Result<SecretMetadata> {
        self.run(Operation::UpdateSecret, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:UpdateSecret")?;
            if description.is_none() && key_id.is_none() {
                return Err(Error::InvalidArgument(
                    "name a new description or key for the secret".into(),
                ));
            }
            if description.is_some_and(|d| d.chars().count() > 2048) {
                return Err(Error::InvalidArgument(
                    "a secret's description is at most 2048 characters".into(),
                ));
            }
            if let Some(k) = key_id {
                self.resolve_key_id(k)?;
            }
            let _g = self.lock_mutations()?;
            let s = self.live_secret_locked(name)?;
            // Who may read the secret may change it; a new key must be one
            // this principal may seal the secret's values under (else the
            // owner's next value would go where someone else can read it).
            self.authorize_secret_change(a, name, s.key_id.as_deref(), "kms:Decrypt")?;
            if let Some(k) = key_id {
                self.authorize_secret_change(a, name, Some(k), "kms:GenerateDataKey")?;
            }
            let description = description.unwrap_or(&s.description);
            let key = key_id.or(s.key_id.as_deref());
            Self::note(
                a,
                format!(
                    "secret {name}: key {}",
                    key.unwrap_or(DEFAULT_SECRETS_KEY_ALIAS)
                ),
            );
            a.allow()?;
            self.secret_store()?
                .update_secret(name, description, key, ms_to_s(self.now_ms()))?;
            self.secret_metadata(self.secret_row_locked(name)?)
        })
    }

    /// TagResource on a secret: adds or replaces tags (at most 50 in all).
    pub fn tag_secret(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.run(Operation::TagResource, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:TagResource")?;
            check_tags(tags)?;
            let _g = self.lock_mutations()?;
            let s = self.secret_row_locked(name)?;
            let mut all = s.tags;
            all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            check_tags(&all)?;
            a.allow()?;
            self.secret_store()?
                .set_secret_tags(name, &all, ms_to_s(self.now_ms()))
        })
    }

    /// UntagResource on a secret: removes the tags with these keys.
    pub fn untag_secret(&self, name: &str, tag_keys: &[String]) -> Result<()> {
        self.run(Operation::UntagResource, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:UntagResource")?;
            let _g = self.lock_mutations()?;
            let mut tags = self.secret_row_locked(name)?.tags;
            for k in tag_keys {
                tags.remove(k);
            }
            a.allow()?;
            self.secret_store()?
                .set_secret_tags(name, &tags, ms_to_s(self.now_ms()))
        })
    }

    /// RestoreSecret: cancels a scheduled deletion.
    pub fn restore_secret(&self, name: &str) -> Result<SecretMetadata> {
        self.run(Operation::RestoreSecret, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:RestoreSecret")?;
            let _g = self.lock_mutations()?;
            let s = self.secret_row_locked(name)?;
            if s.deletion_date.is_none() {
                return Err(Error::InvalidKeyState(format!(
                    "secret {name} is not scheduled for deletion"
                )));
            }
            a.allow()?;
            self.secret_store()?
                .set_secret_deletion(name, None, None, ms_to_s(self.now_ms()))?;
            self.secret_metadata(self.secret_row_locked(name)?)
        })
    }

    /// Purges the secrets whose recovery window has ended (each an audited
    /// DeleteSecret). Runs at open and whenever such a secret is named.
    pub fn purge_expired_secrets(&self) -> Result<Vec<String>> {
        let Some(store) = self.inner.store.secrets() else {
            return Ok(Vec::new());
        };
        let due = store.due_secret_deletions(ms_to_s(self.now_ms()))?;
        let mut done = Vec::new();
        for name in due {
            let _g = self.lock_mutations()?;
            let still_due = store
                .secret(&name)?
                .is_some_and(|s| s.deletion_date.is_some_and(|d| d <= ms_to_s(self.now_ms())));
            if !still_due {
                continue;
            }
            self.run(Operation::DeleteSecret, None, |a| {
                Self::note(
                    a,
                    format!("secret {name}: purged, its recovery window ended"),
                );
                a.allow()?;
                store.purge_secret(&name)
            })?;
            done.push(name);
        }
        Ok(done)
    }

    /// GetRandomPassword, from the backend's random generator.
    pub fn get_random_password(&self, spec: &PasswordSpec) -> Result<SecretValue> {
        self.run(Operation::GetRandomPassword, None, |a| {
            Self::note(a, format!("length {}", spec.length));
            if !(1..=4096).contains(&spec.length) {
                return Err(Error::InvalidArgument(
                    "a password is 1..=4096 characters".into(),
                ));
            }
            let excluded = |c: char| spec.exclude_characters.contains(c);
            let mut classes: Vec<Vec<u8>> = Vec::new();
            let mut add = |chars: &mut dyn Iterator<Item = char>| {
                let v: Vec<u8> = chars.filter(|c| !excluded(*c)).map(|c| c as u8).collect();
                if !v.is_empty() {
                    classes.push(v);
                }
            };
            if !spec.exclude_lowercase {
                add(&mut ('a'..='z'));
            }
            if !spec.exclude_uppercase {
                add(&mut ('A'..='Z'));
            }
            if !spec.exclude_numbers {
                add(&mut ('0'..='9'));
            }
            if !spec.exclude_punctuation {
                add(&mut PUNCTUATION.chars());
            }
            if spec.include_space {
                add(&mut std::iter::once(' '));
            }
            let alphabet: Vec<u8> = classes.iter().flatten().copied().collect();
            if alphabet.is_empty() {
                return Err(Error::InvalidArgument(
                    "the password's options exclude every character".into(),
                ));
            }
            if spec.require_each_included_type && spec.length < classes.len() {
                return Err(Error::InvalidArgument(format!(
                    "a password with a character of each of {} classes is at least {} long",
                    classes.len(),
                    classes.len()
                )));
            }
            // Unbiased: bytes at or past the last whole multiple of the
            // alphabet's size are drawn again.
            let limit = 256 - (256 % alphabet.len());
            let mut out = SecretBytes::zeroed(spec.length)?;
            for _attempt in 0..1000 {
                let mut filled = 0;
                while filled < spec.length {
                    let mut r = self.inner.backend.random(spec.length.min(1024))?;
                    for b in r.iter() {
                        if filled == spec.length {
                            break;
                        }
                        if usize::from(*b) < limit {
                            out.as_mut_bytes()[filled] = alphabet[usize::from(*b) % alphabet.len()];
                            filled += 1;
                        }
                    }
                    zeroize::Zeroize::zeroize(&mut r);
                }
                let ok = !spec.require_each_included_type
                    || classes
                        .iter()
                        .all(|c| out.as_bytes().iter().any(|b| c.contains(b)));
                if ok {
                    return SecretValue::from_secret_bytes(out, false);
                }
            }
            Err(Error::InvalidState(
                "no password with every class was drawn in 1000 attempts".into(),
            ))
        })
    }

    /// RotateSecret: runs `rotator`'s four steps (see [`SecretRotator`]).
    /// The new value is stored as a PENDING version before the target is
    /// changed; only when every step succeeded does it become CURRENT, the
    /// old CURRENT PREVIOUS, in one transaction. A failed step leaves
    /// CURRENT as it was and the new version PENDING; the error keeps its
    /// kind and says which step failed.
    pub fn rotate_secret(
        &self,
        name: &str,
        rotator: &dyn SecretRotator,
    ) -> Result<RotateSecretResult> {
        self.run(Operation::RotateSecret, None, |a| {
            Self::note(a, format!("secret {name}"));
            self.authorize_secret(a, name, "secretsmanager:RotateSecret")?;
            self.live_secret(name)?;
            // One rotation of a secret at a time, across processes: two
            // interleaved rotations could leave the target holding a value
            // that no label names. The lease is released when this one
            // ends, or lapses after ROTATION_LEASE_MS if its process died.
            let lease_name = format!("secret_rotation:{name}");
            let lease = new_version_id()?;
            {
                let _g = self.lock_mutations()?;
                let now = self.now_ms();
                let held = self
                    .inner
                    .store
                    .meta(&lease_name)?
                    .and_then(|v| String::from_utf8(v).ok())
                    .and_then(|t| {
                        let (who, until) = t.split_once(' ')?;
                        Some((who.to_owned(), until.parse::<i64>().ok()?))
                    })
                    .filter(|(_, until)| *until > now);
                if let Some((who, _)) = held {
                    return Err(Error::InvalidState(format!(
                        "secret {name} is being rotated (rotation {who}); try again when it ends"
                    )));
                }
                self.inner.store.set_meta(
                    &lease_name,
                    format!("{lease} {}", now + ROTATION_LEASE_MS).as_bytes(),
                )?;
            }
            let r = self.rotate_secret_steps(a, name, rotator);
            if let Ok(_g) = self.lock_mutations() {
                let mine = self
                    .inner
                    .store
                    .meta(&lease_name)
                    .ok()
                    .flatten()
                    .is_some_and(|v| v.starts_with(lease.as_bytes()));
                if mine {
                    let _ = self.inner.store.set_meta(&lease_name, b"");
                }
            }
            r
        })
    }

    fn rotate_secret_steps(
        &self,
        a: &mut Audit<'_>,
        name: &str,
        rotator: &dyn SecretRotator,
    ) -> Result<RotateSecretResult> {
        {
            let current = self
                .labels(name)?
                .get(STAGE_CURRENT)
                .cloned()
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "secret {name} has no CURRENT version to rotate: put a value first"
                    ))
                })?;
            let token = new_version_id()?;
            Self::note(a, format!("secret {name} version {token}"));
            let ctx = SecretRotation {
                key_store: self,
                secret_name: name,
                version_id: &token,
                current_version_id: &current,
            };
            let fail = |a: &mut Audit<'_>, step: RotationStep, e: Error| {
                Self::note(
                    a,
                    format!("secret {name} version {token}: failed at {}", step.as_str()),
                );
                // The trail keeps the step and the kind, not the rotator's
                // words: a driver's error may quote the new password.
                a.audit_error = Some(format!(
                    "rotation of secret {name} failed at {} ({})",
                    step.as_str(),
                    e.kind()
                ));
                step_error(e, name, step)
            };
            let pending = match rotator.create_secret(&ctx).and_then(|v| {
                self.put_secret_value(
                    name,
                    &v,
                    &PutSecretValueOptions {
                        version_stages: Some(vec![STAGE_PENDING.into()]),
                        client_request_token: Some(token.clone()),
                    },
                )?;
                Ok(v)
            }) {
                Ok(v) => v,
                Err(e) => return Err(fail(a, RotationStep::CreateSecret, e)),
            };
            if let Err(e) = rotator.set_secret(&ctx, &pending) {
                return Err(fail(a, RotationStep::SetSecret, e));
            }
            if let Err(e) = rotator.test_secret(&ctx, &pending) {
                return Err(fail(a, RotationStep::TestSecret, e));
            }
            drop(pending);
            if let Err(e) = rotator.finish_secret(&ctx) {
                return Err(fail(a, RotationStep::FinishSecret, e));
            }
            let _g = self.lock_mutations()?;
            self.live_secret_locked(name)?;
            let mut labels = self.labels(name)?;
            if labels.get(STAGE_PENDING) != Some(&token) {
                return Err(fail(
                    a,
                    RotationStep::FinishSecret,
                    Error::InvalidState(format!(
                        "version {token} is no longer PENDING (another rotation or a label change)"
                    )),
                ));
            }
            let previous = labels.get(STAGE_CURRENT).cloned().unwrap_or(current);
            move_label(&mut labels, STAGE_CURRENT, &token);
            labels.remove(STAGE_PENDING);
            let now = ms_to_s(self.now_ms());
            Self::note(
                a,
                format!("secret {name} version {token}: CURRENT (was {previous})"),
            );
            a.allow()?;
            self.secret_store()?.change_secret(
                name,
                &SecretChange {
                    new_version: None,
                    labels: labels.into_iter().collect(),
                    delete_versions: Vec::new(),
                    changed_at: now,
                    rotated_at: Some(now),
                },
            )?;
            Ok(RotateSecretResult {
                name: name.to_owned(),
                version_id: token,
                previous_version_id: previous,
            })
        }
    }
}
