//! The PKCS#11 backend: master keys generated and kept inside an HSM, every
//! operation performed by it, through the `cryptoki` crate.
//!
//! - One process-wide context per module, initialised once with OS locking.
//! - A bounded pool of logged-in read-write sessions: a session is used by
//!   one thread at a time and returned; a login is paid once per session.
//! - Keys are persistent token objects with `CKA_SENSITIVE` true and
//!   `CKA_EXTRACTABLE` false, labelled `sealbox:<key id>:v<version>`, with
//!   `CKA_ID` = key ID (16 bytes) ‖ version (4 bytes, big-endian): that ID is
//!   the handle the key store persists.
//! - What the module cannot do is `Error::UnsupportedByHsm` naming the
//!   mechanism; there is no silent software fallback. (Public-key
//!   operations, which need no secret, run in process from the exported
//!   public key: Verify, and RSA encryption.)
//!
//! The token is found by label (or serial number), never by slot number:
//! slot numbers change when tokens are added.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;

use crate::crypto::{self, EcCurve, EcdsaVerifyingKey, HashAlg, RsaPublicKey};
use crate::error::{Error, Result};
use crate::keystore::types::{
    EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm,
};
use crate::secret::SecretBytes;

use super::{Backend, KeyRef};

/// Sessions opened at most per backend unless configured otherwise.
pub const DEFAULT_MAX_SESSIONS: usize = 8;
const AUDIT_KEY_LABEL: &str = "sealbox:audit-chain-key";
const AUDIT_KEY_ID: &[u8] = b"sealbox-audit";
/// Serialises object creation and destruction in this process: SoftHSM2's
/// file object store has been seen to fail concurrent C_GenerateKey calls
/// with CKR_GENERAL_ERROR. Key management is rare; crypto stays parallel.
static OBJECT_MANAGEMENT: Mutex<()> = Mutex::new(());

/// DER of the P-256 curve OID (prime256v1), for `CKA_EC_PARAMS`.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// A token PIN, held as a secret.
pub struct Pin(SecretBytes);

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

fn ck(function: &str, e: CkError) -> Error {
    match e {
        CkError::Pkcs11(rv, f) => Error::Pkcs11 {
            // The standard's name ("C_Login"), not cryptoki's ("Function::Login").
            function: format!("C_{f:?}"),
            rv: format!("{rv}"),
        },
        CkError::LibraryLoading(l) => Error::Pkcs11 {
            function: format!("loading the module ({function})"),
            rv: l.to_string(),
        },
        other => Error::Pkcs11 {
            function: function.to_owned(),
            rv: other.to_string(),
        },
    }
}

fn rv_of(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// One context per module path per process: `C_Initialize` exactly once.
fn context(module: &Path) -> Result<Arc<Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Arc<Pkcs11>>>> = OnceLock::new();
    let map = CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map
        .lock()
        .map_err(|_| Error::Storage("PKCS#11 context registry poisoned".into()))?;
    if let Some(c) = map.get(module) {
        return Ok(c.clone());
    }
    if !module.exists() {
        return Err(Error::InvalidArgument(format!(
            "PKCS#11 module {} does not exist",
            module.display()
        )));
    }
    let ctx = Pkcs11::new(module).map_err(|e| ck("C_GetFunctionList", e))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(e) if rv_of(&e) == Some(RvError::CryptokiAlreadyInitialized) => {}
        Err(e) => return Err(ck("C_Initialize", e)),
    }
    let ctx = Arc::new(ctx);
    map.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

struct Pool {
    idle: Vec<Session>,
    open: usize,
}

/// The HSM backend.
pub struct Pkcs11Backend {
    ctx: Arc<Pkcs11>,
    slot: Slot,
    pin: Pin,
    token: String,
    serial: String,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    handles: Mutex<HashMap<(Vec<u8>, u64), ObjectHandle>>,
}

impl std::fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("token", &self.token)
            .field("max_sessions", &self.max)
            .finish_non_exhaustive()
    }
}

/// A session borrowed from the pool; returned on drop unless it broke.
struct Lease<'a> {
    backend: &'a Pkcs11Backend,
    session: Option<Session>,
    broken: bool,
}

impl Lease<'_> {
    fn s(&self) -> &Session {
        // Present from creation until drop.
        self.session.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// Marks the session unusable if the error says it is.
    fn check<T>(&mut self, r: std::result::Result<T, CkError>) -> std::result::Result<T, CkError> {
        if let Err(e) = &r {
            if matches!(
                rv_of(e),
                Some(
                    RvError::SessionHandleInvalid
                        | RvError::SessionClosed
                        | RvError::DeviceRemoved
                        | RvError::DeviceError
                        | RvError::TokenNotPresent
                )
            ) {
                self.broken = true;
            }
        }
        r
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            if let Ok(mut p) = self.backend.pool.lock() {
                if self.broken {
                    p.open -= 1;
                    drop(s);
                } else {
                    p.idle.push(s);
                }
            }
            self.backend.freed.notify_one();
        }
    }
}

impl Pkcs11Backend {
    /// Loads the module, finds the token, logs in once and checks the PIN.
    pub fn open(config: Pkcs11Config) -> Result<Self> {
        let ctx = context(&config.module)?;
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| ck("C_GetSlotList", e))?;
        let mut found = None;
        for slot in slots {
            let info = ctx
                .get_token_info(slot)
                .map_err(|e| ck("C_GetTokenInfo", e))?;
            let label_ok = config
                .token_label
                .as_deref()
                .is_none_or(|l| info.label().trim_end() == l);
            let serial_ok = config
                .token_serial
                .as_deref()
                .is_none_or(|s| info.serial_number().trim_end() == s);
            if label_ok
                && serial_ok
                && (config.token_label.is_some() || config.token_serial.is_some())
            {
                found = Some((
                    slot,
                    info.label().trim_end().to_owned(),
                    info.serial_number().trim_end().to_owned(),
                ));
                break;
            }
        }
        let (slot, token, serial) = found.ok_or_else(|| {
            Error::InvalidArgument(format!(
                "no PKCS#11 token with label {:?} / serial {:?} in {}",
                config.token_label,
                config.token_serial,
                config.module.display()
            ))
        })?;
        let b = Pkcs11Backend {
            ctx,
            slot,
            pin: config.pin,
            token,
            serial,
            max: config.max_sessions.max(1),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            handles: Mutex::new(HashMap::new()),
        };
        // Logs in (a wrong PIN fails here, before anything is touched).
        drop(b.lease()?);
        Ok(b)
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token
    }

    /// Sessions currently open (for tests and monitoring).
    pub fn open_sessions(&self) -> usize {
        self.pool.lock().map(|p| p.open).unwrap_or(0)
    }

    fn login(&self, s: &Session) -> Result<()> {
        // The login state belongs to the whole application: once one session
        // is logged in, C_Login on another answers "already logged in"
        // without checking the PIN. So this process remembers (a digest of)
        // the PIN that did log in to each token, and refuses another PIN.
        type Verified = Mutex<HashMap<(usize, String), Vec<u8>>>;
        static VERIFIED: OnceLock<Verified> = OnceLock::new();
        let verified = VERIFIED.get_or_init(|| Mutex::new(HashMap::new()));
        // Keyed by token serial number: slot numbers change.
        let key = (Arc::as_ptr(&self.ctx) as usize, self.serial.clone());
        let digest = crypto::digest(HashAlg::Sha256, self.pin.0.as_bytes());
        let pin = RawAuthPin::new(Box::new(self.pin.0.as_bytes().to_vec()));
        // Held across C_Login: otherwise a second thread could see "already
        // logged in" after the first thread's login succeeded but before
        // its digest was recorded, and refuse the right PIN. Logins happen
        // only when a session is opened, so this costs nothing in steady use.
        let mut verified = verified.lock().unwrap_or_else(|e| e.into_inner());
        match s.login_with_raw(UserType::User, &pin) {
            Ok(()) => {
                verified.insert(key, digest);
                Ok(())
            }
            Err(e) if rv_of(&e) == Some(RvError::UserAlreadyLoggedIn) => match verified.get(&key) {
                Some(d) if crypto::ct_eq(d, &digest) => Ok(()),
                _ => Err(Error::Pkcs11 {
                    function: "C_Login".into(),
                    rv: "CKR_PIN_INCORRECT (the token is logged in with another PIN)".into(),
                }),
            },
            Err(e) => Err(ck("C_Login", e)),
        }
    }

    fn lease(&self) -> Result<Lease<'_>> {
        let mut p = self
            .pool
            .lock()
            .map_err(|_| Error::Storage("session pool poisoned".into()))?;
        loop {
            if let Some(s) = p.idle.pop() {
                return Ok(Lease {
                    backend: self,
                    session: Some(s),
                    broken: false,
                });
            }
            if p.open < self.max {
                p.open += 1;
                drop(p);
                let opened = self
                    .ctx
                    .open_rw_session(self.slot)
                    .map_err(|e| ck("C_OpenSession", e))
                    .and_then(|s| {
                        self.login(&s)?;
                        Ok(s)
                    });
                return match opened {
                    Ok(s) => Ok(Lease {
                        backend: self,
                        session: Some(s),
                        broken: false,
                    }),
                    Err(e) => {
                        if let Ok(mut p) = self.pool.lock() {
                            p.open -= 1;
                        }
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            p = self
                .freed
                .wait(p)
                .map_err(|_| Error::Storage("session pool poisoned".into()))?;
        }
    }

    fn object_id(key: &KeyRef<'_>) -> Result<Vec<u8>> {
        let mut id = crate::keystore::blob::parse_uuid(key.key_id)?.to_vec();
        id.extend_from_slice(&key.version.to_be_bytes());
        Ok(id)
    }

    fn label(key: &KeyRef<'_>) -> Vec<u8> {
        format!("sealbox:{}:v{}", key.key_id, key.version).into_bytes()
    }

    /// The object of `class` with `CKA_ID` = `id`; a clear error if it was
    /// deleted behind sealbox's back.
    fn find(
        &self,
        lease: &mut Lease<'_>,
        id: &[u8],
        class: ObjectClass,
        fresh: bool,
    ) -> Result<ObjectHandle> {
        let cache_key = (id.to_vec(), class_code(class));
        if !fresh {
            if let Some(h) = self
                .handles
                .lock()
                .ok()
                .and_then(|m| m.get(&cache_key).copied())
            {
                return Ok(h);
            }
        }
        let r = lease.check(
            lease
                .s()
                .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())]),
        );
        let found = r.map_err(|e| ck("C_FindObjects", e))?;
        let h = *found.first().ok_or_else(|| {
            Error::KeyNotFound(format!(
                "the HSM object {} (CKA_ID {}) is missing from the token",
                class,
                hex(id)
            ))
        })?;
        if let Ok(mut m) = self.handles.lock() {
            m.insert(cache_key, h);
        }
        Ok(h)
    }

    /// Runs `op` on the key object; retries once with a fresh lookup if the
    /// cached handle went stale.
    fn with_object<T>(
        &self,
        key: &KeyRef<'_>,
        handle: &[u8],
        class: ObjectClass,
        op: impl Fn(&Session, ObjectHandle) -> std::result::Result<T, CkError>,
        map_err: impl Fn(CkError) -> Error,
    ) -> Result<T> {
        let _ = key;
        let mut lease = self.lease()?;
        for fresh in [false, true] {
            let obj = self.find(&mut lease, handle, class, fresh)?;
            let r = lease.check(op(lease.s(), obj));
            match r {
                Err(e)
                    if !fresh
                        && matches!(
                            rv_of(&e),
                            Some(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid)
                        ) =>
                {
                    if let Ok(mut m) = self.handles.lock() {
                        m.remove(&(handle.to_vec(), class_code(class)));
                    }
                    continue;
                }
                r => return r.map_err(map_err),
            }
        }
        Err(Error::KeyNotFound(format!("HSM object {}", hex(handle))))
    }

    fn audit_key(&self, lease: &mut Lease<'_>) -> Result<ObjectHandle> {
        // One audit key per token: find-or-create must not race between the
        // key stores of this process.
        let _g = OBJECT_MANAGEMENT
            .lock()
            .map_err(|_| Error::Storage("audit key lock poisoned".into()))?;
        match self.find(lease, AUDIT_KEY_ID, ObjectClass::SECRET_KEY, false) {
            Ok(h) => Ok(h),
            Err(Error::KeyNotFound(_)) => {
                let t = secret_template(
                    KeyType::GENERIC_SECRET,
                    32,
                    AUDIT_KEY_ID.to_vec(),
                    AUDIT_KEY_LABEL.as_bytes().to_vec(),
                    KeyUsage::GenerateVerifyMac,
                );
                let h = lease
                    .check(lease.s().generate_key(&Mechanism::GenericSecretKeyGen, &t))
                    .map_err(|e| ck("C_GenerateKey", e))?;
                Ok(h)
            }
            Err(e) => Err(e),
        }
    }
}

fn class_code(c: ObjectClass) -> u64 {
    if c == ObjectClass::SECRET_KEY {
        4
    } else if c == ObjectClass::PRIVATE_KEY {
        3
    } else {
        2
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The template of a persistent, sensitive, non-extractable secret key.
fn secret_template(
    kt: KeyType,
    len: usize,
    id: Vec<u8>,
    label: Vec<u8>,
    usage: KeyUsage,
) -> Vec<Attribute> {
    let (enc, mac) = (
        usage == KeyUsage::EncryptDecrypt,
        usage == KeyUsage::GenerateVerifyMac,
    );
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(kt),
        Attribute::ValueLen((len as u64).into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(enc),
        Attribute::Decrypt(enc),
        Attribute::Sign(mac),
        Attribute::Verify(mac),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Id(id),
        Attribute::Label(label),
    ]
}

/// Public and private templates of a key pair for `usage`.
fn pair_templates(
    spec: KeySpec,
    usage: KeyUsage,
    id: Vec<u8>,
    label: Vec<u8>,
) -> (Vec<Attribute>, Vec<Attribute>) {
    let (enc, sign) = (
        usage == KeyUsage::EncryptDecrypt,
        usage == KeyUsage::SignVerify,
    );
    let mut public = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Encrypt(enc),
        Attribute::Verify(sign),
        Attribute::Wrap(false),
        Attribute::Id(id.clone()),
        Attribute::Label(label.clone()),
    ];
    match spec.rsa_bits() {
        Some(bits) => {
            public.push(Attribute::KeyType(KeyType::RSA));
            public.push(Attribute::ModulusBits((bits as u64).into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
        }
        None => {
            public.push(Attribute::KeyType(KeyType::EC));
            public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
        }
    }
    let private = vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(if spec.rsa_bits().is_some() {
            KeyType::RSA
        } else {
            KeyType::EC
        }),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Decrypt(enc),
        Attribute::Sign(sign),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Id(id),
        Attribute::Label(label),
    ];
    (public, private)
}

fn hash_mech(h: HashAlg) -> (MechanismType, PkcsMgfType) {
    match h {
        HashAlg::Sha1 => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        HashAlg::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        HashAlg::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        HashAlg::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
    }
}

/// DigestInfo prefixes for PKCS#1 v1.5 signatures made with `CKM_RSA_PKCS`.
fn digest_info_prefix(h: HashAlg) -> &'static [u8] {
    match h {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// Is this failure the module saying "I cannot do that"?
fn unsupported(e: &CkError) -> bool {
    matches!(
        rv_of(e),
        Some(
            RvError::MechanismInvalid
                | RvError::MechanismParamInvalid
                | RvError::FunctionNotSupported
        )
    )
}

fn mech_err<'a>(mechanism: &'a str, function: &'a str) -> impl Fn(CkError) -> Error + 'a {
    move |e| {
        if unsupported(&e) {
            Error::UnsupportedByHsm {
                mechanism: mechanism.to_owned(),
            }
        } else {
            ck(function, e)
        }
    }
}

// ----------------------------------------------------------- minimal DER --

mod der {
    //! Just enough DER for SubjectPublicKeyInfo, ECDSA signatures and the
    //! PKCS#8 keys the HSM imports.

    pub fn len(out: &mut Vec<u8>, n: usize) {
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let b = (n as u64).to_be_bytes();
            let skip = b.iter().take_while(|&&x| x == 0).count();
            out.push(0x80 | (8 - skip) as u8);
            out.extend_from_slice(&b[skip..]);
        }
    }

    pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        len(&mut out, body.len());
        out.extend_from_slice(body);
        out
    }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    pub fn uint(bytes: &[u8]) -> Vec<u8> {
        let skip = bytes
            .iter()
            .take_while(|&&x| x == 0)
            .count()
            .min(bytes.len().saturating_sub(1));
        let mut v = bytes[skip..].to_vec();
        if v.is_empty() {
            v.push(0);
        }
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        tlv(0x02, &v)
    }

    /// Reads one TLV: (tag, value, rest).
    pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&l, mut rest) = rest.split_first()?;
        let n = if l < 0x80 {
            l as usize
        } else {
            let k = (l & 0x7f) as usize;
            if k == 0 || k > 4 || rest.len() < k {
                return None;
            }
            let n = rest[..k].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            rest = &rest[k..];
            n
        };
        if rest.len() < n {
            return None;
        }
        Some((tag, &rest[..n], &rest[n..]))
    }

    /// The magnitude of an INTEGER value (leading zero stripped).
    pub fn magnitude(v: &[u8]) -> &[u8] {
        match v {
            [0, rest @ ..] if !rest.is_empty() => rest,
            _ => v,
        }
    }
}

fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut key = der::uint(n);
    key.extend_from_slice(&der::uint(e));
    let key = der::tlv(0x30, &key);
    let mut bits = vec![0u8];
    bits.extend_from_slice(&key);
    let alg = [
        0x30, 0x0d, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut body = alg.to_vec();
    body.extend_from_slice(&der::tlv(0x03, &bits));
    der::tlv(0x30, &body)
}

/// (n, e, d, p, q, dp, dq, qinv) from PKCS#8 RSA DER.
fn rsa_components(pkcs8: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (_, outer, _) = der::read(pkcs8)?;
    let (_, _version, rest) = der::read(outer)?;
    let (_, _alg, rest) = der::read(rest)?;
    let (tag, key, _) = der::read(rest)?;
    if tag != 0x04 {
        return None;
    }
    let (_, mut seq, _) = der::read(key)?;
    let mut out = Vec::new();
    for i in 0..9 {
        let (tag, v, rest) = der::read(seq)?;
        if tag != 0x02 {
            return None;
        }
        if i > 0 {
            out.push(der::magnitude(v).to_vec());
        }
        seq = rest;
    }
    Some(out)
}

/// The private scalar from PKCS#8 EC DER.
fn ec_scalar(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (_, outer, _) = der::read(pkcs8)?;
    let (_, _version, rest) = der::read(outer)?;
    let (_, _alg, rest) = der::read(rest)?;
    let (tag, key, _) = der::read(rest)?;
    if tag != 0x04 {
        return None;
    }
    let (_, seq, _) = der::read(key)?;
    let (_, _v, rest) = der::read(seq)?;
    let (tag, d, _) = der::read(rest)?;
    (tag == 0x04).then(|| d.to_vec())
}

impl Backend for Pkcs11Backend {
    fn kind(&self) -> &'static str {
        "pkcs11"
    }

    fn check_value(&self) -> Result<Vec<u8>> {
        self.audit_mac(b"sealbox token check value")
    }

    fn generate(&self, key: KeyRef<'_>) -> Result<Vec<u8>> {
        let _g = OBJECT_MANAGEMENT
            .lock()
            .map_err(|_| Error::Storage("lock poisoned".into()))?;
        let id = Self::object_id(&key)?;
        let label = Self::label(&key);
        let mut lease = self.lease()?;
        match key.spec {
            KeySpec::Aes256 => {
                let t = secret_template(KeyType::AES, 32, id.clone(), label, key.usage);
                lease
                    .check(lease.s().generate_key(&Mechanism::AesKeyGen, &t))
                    .map_err(mech_err("CKM_AES_KEY_GEN", "C_GenerateKey"))?;
            }
            KeySpec::Hmac256 | KeySpec::Hmac512 => {
                // HMAC keys are generic secrets of at least the hash length.
                let len = key.spec.secret_len().unwrap_or(32);
                let t = secret_template(KeyType::GENERIC_SECRET, len, id.clone(), label, key.usage);
                lease
                    .check(lease.s().generate_key(&Mechanism::GenericSecretKeyGen, &t))
                    .map_err(mech_err("CKM_GENERIC_SECRET_KEY_GEN", "C_GenerateKey"))?;
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 | KeySpec::EccNistP256 => {
                let (public, private) = pair_templates(key.spec, key.usage, id.clone(), label);
                let (mech, name) = if key.spec == KeySpec::EccNistP256 {
                    (Mechanism::EccKeyPairGen, "CKM_EC_KEY_PAIR_GEN")
                } else {
                    (Mechanism::RsaPkcsKeyPairGen, "CKM_RSA_PKCS_KEY_PAIR_GEN")
                };
                lease
                    .check(lease.s().generate_key_pair(&mech, &public, &private))
                    .map_err(mech_err(name, "C_GenerateKeyPair"))?;
            }
        }
        Ok(id)
    }

    fn import(&self, key: KeyRef<'_>, material: &SecretBytes) -> Result<Vec<u8>> {
        super::soft::check_material(key.spec, material)?;
        let _g = OBJECT_MANAGEMENT
            .lock()
            .map_err(|_| Error::Storage("lock poisoned".into()))?;
        let id = Self::object_id(&key)?;
        let label = Self::label(&key);
        let bad = || Error::InvalidKey("could not read the key's PKCS#8 structure".into());
        let mut lease = self.lease()?;
        let create = |lease: &mut Lease<'_>, t: Vec<Attribute>| {
            lease
                .check(lease.s().create_object(&t))
                .map_err(|e| ck("C_CreateObject", e))
        };
        match key.spec {
            KeySpec::Aes256 | KeySpec::Hmac256 | KeySpec::Hmac512 => {
                let kt = if key.spec == KeySpec::Aes256 {
                    KeyType::AES
                } else {
                    KeyType::GENERIC_SECRET
                };
                let mut t = secret_template(kt, material.len(), id.clone(), label, key.usage);
                t.retain(|a| !matches!(a, Attribute::ValueLen(_)));
                t.push(Attribute::Value(material.as_bytes().to_vec()));
                create(&mut lease, t)?;
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let c = rsa_components(material.as_bytes()).ok_or_else(bad)?;
                let (mut public, mut private) =
                    pair_templates(key.spec, key.usage, id.clone(), label);
                public.retain(|a| {
                    !matches!(a, Attribute::ModulusBits(_) | Attribute::PublicExponent(_))
                });
                public.extend([
                    Attribute::Modulus(c[0].clone()),
                    Attribute::PublicExponent(c[1].clone()),
                ]);
                private.extend([
                    Attribute::Modulus(c[0].clone()),
                    Attribute::PublicExponent(c[1].clone()),
                    Attribute::PrivateExponent(c[2].clone()),
                    Attribute::Prime1(c[3].clone()),
                    Attribute::Prime2(c[4].clone()),
                    Attribute::Exponent1(c[5].clone()),
                    Attribute::Exponent2(c[6].clone()),
                    Attribute::Coefficient(c[7].clone()),
                ]);
                create(&mut lease, private)?;
                create(&mut lease, public)?;
            }
            KeySpec::EccNistP256 => {
                let d = ec_scalar(material.as_bytes()).ok_or_else(bad)?;
                let spki = crypto::EcdsaSigningKey::from_pkcs8_der(material.as_bytes())?
                    .verifying_key()
                    .to_spki_der()?;
                let point = spki
                    .get(spki.len().saturating_sub(65)..)
                    .ok_or_else(bad)?
                    .to_vec();
                let (mut public, mut private) =
                    pair_templates(key.spec, key.usage, id.clone(), label);
                public.push(Attribute::EcPoint(der::tlv(0x04, &point)));
                private.extend([
                    Attribute::EcParams(P256_PARAMS.to_vec()),
                    Attribute::Value(d),
                ]);
                create(&mut lease, private)?;
                create(&mut lease, public)?;
            }
        }
        Ok(id)
    }

    fn destroy(&self, key: KeyRef<'_>, handle: &[u8]) -> Result<()> {
        let _g = OBJECT_MANAGEMENT
            .lock()
            .map_err(|_| Error::Storage("lock poisoned".into()))?;
        let mut lease = self.lease()?;
        for class in [
            ObjectClass::SECRET_KEY,
            ObjectClass::PRIVATE_KEY,
            ObjectClass::PUBLIC_KEY,
        ] {
            let found = lease
                .check(
                    lease
                        .s()
                        .find_objects(&[Attribute::Class(class), Attribute::Id(handle.to_vec())]),
                )
                .map_err(|e| ck("C_FindObjects", e))?;
            for obj in found {
                lease
                    .check(lease.s().destroy_object(obj))
                    .map_err(|e| ck("C_DestroyObject", e))?;
            }
            if let Ok(mut m) = self.handles.lock() {
                m.remove(&(handle.to_vec(), class_code(class)));
            }
        }
        let _ = key;
        Ok(())
    }

    fn seal(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        iv: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        self.with_object(
            &key,
            handle,
            ObjectClass::SECRET_KEY,
            |s, obj| {
                let mut iv = *iv;
                let params = GcmParams::new(&mut iv, aad, 128.into())?;
                s.encrypt(&Mechanism::AesGcm(params), obj, plaintext)
            },
            mech_err("CKM_AES_GCM", "C_Encrypt"),
        )
    }

    fn open(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        iv: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes> {
        if ciphertext.len() < 16 {
            return Err(Error::DecryptionFailed);
        }
        let mut pt = self.with_object(
            &key,
            handle,
            ObjectClass::SECRET_KEY,
            |s, obj| {
                let mut iv = *iv;
                let params = GcmParams::new(&mut iv, aad, 128.into())?;
                s.decrypt(&Mechanism::AesGcm(params), obj, ciphertext)
            },
            |e| match rv_of(&e) {
                // SoftHSM 2.6 reports a GCM tag mismatch as CKR_GENERAL_ERROR.
                Some(
                    RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::GeneralError,
                ) => Error::DecryptionFailed,
                _ if unsupported(&e) => Error::UnsupportedByHsm {
                    mechanism: "CKM_AES_GCM".into(),
                },
                _ => ck("C_Decrypt", e),
            },
        )?;
        let out = SecretBytes::from_slice(&pt);
        zeroize::Zeroize::zeroize(&mut pt);
        out
    }

    fn sign_digest(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: SigningAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>> {
        match alg.rsa_scheme() {
            None => {
                // SoftHSM has no CKM_ECDSA_SHA256: the digest is made in
                // process and signed with CKM_ECDSA, which returns r ‖ s.
                let rs = self.with_object(
                    &key,
                    handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::Ecdsa, obj, digest),
                    mech_err("CKM_ECDSA", "C_Sign"),
                )?;
                if rs.len() != 64 {
                    return Err(Error::Pkcs11 {
                        function: "C_Sign".into(),
                        rv: format!("CKM_ECDSA returned {} bytes", rs.len()),
                    });
                }
                let mut body = der::uint(&rs[..32]);
                body.extend_from_slice(&der::uint(&rs[32..]));
                Ok(der::tlv(0x30, &body))
            }
            Some(crypto::RsaSignatureScheme::Pss(h)) => {
                let (hash_alg, mgf) = hash_mech(h);
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: (h.output_len() as u64).into(),
                };
                self.with_object(
                    &key,
                    handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::RsaPkcsPss(params), obj, digest),
                    mech_err("CKM_RSA_PKCS_PSS", "C_Sign"),
                )
            }
            Some(crypto::RsaSignatureScheme::Pkcs1v15(h)) => {
                let mut info = digest_info_prefix(h).to_vec();
                info.extend_from_slice(digest);
                self.with_object(
                    &key,
                    handle,
                    ObjectClass::PRIVATE_KEY,
                    |s, obj| s.sign(&Mechanism::RsaPkcs, obj, &info),
                    mech_err("CKM_RSA_PKCS", "C_Sign"),
                )
            }
        }
    }

    fn public_key_der(&self, key: KeyRef<'_>, handle: &[u8]) -> Result<Vec<u8>> {
        if key.spec == KeySpec::EccNistP256 {
            let attrs = self.with_object(
                &key,
                handle,
                ObjectClass::PUBLIC_KEY,
                |s, obj| s.get_attributes(obj, &[AttributeType::EcPoint]),
                |e| ck("C_GetAttributeValue", e),
            )?;
            let point = attrs
                .into_iter()
                .find_map(|a| {
                    if let Attribute::EcPoint(p) = a {
                        Some(p)
                    } else {
                        None
                    }
                })
                .ok_or_else(|| Error::Pkcs11 {
                    function: "C_GetAttributeValue".into(),
                    rv: "no CKA_EC_POINT".into(),
                })?;
            // CKA_EC_POINT is a DER OCTET STRING around the point.
            let raw = match der::read(&point) {
                Some((0x04, inner, [])) => inner.to_vec(),
                _ => point,
            };
            EcdsaVerifyingKey::from_sec1(EcCurve::P256, &raw)?.to_spki_der()
        } else {
            let attrs = self.with_object(
                &key,
                handle,
                ObjectClass::PUBLIC_KEY,
                |s, obj| {
                    s.get_attributes(
                        obj,
                        &[AttributeType::Modulus, AttributeType::PublicExponent],
                    )
                },
                |e| ck("C_GetAttributeValue", e),
            )?;
            let (mut n, mut e) = (Vec::new(), Vec::new());
            for a in attrs {
                match a {
                    Attribute::Modulus(m) => n = m,
                    Attribute::PublicExponent(x) => e = x,
                    _ => {}
                }
            }
            let spki = rsa_spki(&n, &e);
            RsaPublicKey::from_der(&spki)?;
            Ok(spki)
        }
    }

    fn rsa_decrypt(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<SecretBytes> {
        let crypto::RsaPadding::Oaep(h) = alg.padding() else {
            return Err(Error::Unsupported(format!("{alg}")));
        };
        let (hash_alg, mgf) = hash_mech(h);
        let name = format!("CKM_RSA_PKCS_OAEP with {h:?}");
        let mut pt = self.with_object(
            &key,
            handle,
            ObjectClass::PRIVATE_KEY,
            |s, obj| {
                s.decrypt(
                    &Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
                        hash_alg,
                        mgf,
                        PkcsOaepSource::empty(),
                    )),
                    obj,
                    ciphertext,
                )
            },
            |e| match rv_of(&e) {
                // SoftHSM answers CKR_ARGUMENTS_BAD to OAEP with anything but SHA-1.
                Some(RvError::ArgumentsBad) if h != HashAlg::Sha1 => Error::UnsupportedByHsm {
                    mechanism: name.clone(),
                },
                _ if unsupported(&e) => Error::UnsupportedByHsm {
                    mechanism: name.clone(),
                },
                // SoftHSM 2.6 reports an OAEP padding failure as CKR_GENERAL_ERROR.
                Some(
                    RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::ArgumentsBad
                    | RvError::GeneralError,
                ) => Error::DecryptionFailed,
                _ => ck("C_Decrypt", e),
            },
        )?;
        let out = SecretBytes::from_slice(&pt);
        zeroize::Zeroize::zeroize(&mut pt);
        out
    }

    fn mac(
        &self,
        key: KeyRef<'_>,
        handle: &[u8],
        alg: MacAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        let (mech, name) = match alg {
            MacAlgorithm::HmacSha256 => (Mechanism::Sha256Hmac, "CKM_SHA256_HMAC"),
            MacAlgorithm::HmacSha512 => (Mechanism::Sha512Hmac, "CKM_SHA512_HMAC"),
        };
        self.with_object(
            &key,
            handle,
            ObjectClass::SECRET_KEY,
            |s, obj| s.sign(&mech, obj, message),
            mech_err(name, "C_Sign"),
        )
    }

    fn random(&self, len: usize) -> Result<Vec<u8>> {
        let mut lease = self.lease()?;
        let n = u32::try_from(len)
            .map_err(|_| Error::InvalidArgument("too many random bytes".into()))?;
        lease
            .check(lease.s().generate_random_vec(n))
            .map_err(|e| ck("C_GenerateRandom", e))
    }

    fn audit_mac(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut lease = self.lease()?;
        let k = self.audit_key(&mut lease)?;
        let r = lease.check(lease.s().sign(&Mechanism::Sha256Hmac, k, data));
        match r {
            Err(e)
                if matches!(
                    rv_of(&e),
                    Some(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid)
                ) =>
            {
                let k = self.find(&mut lease, AUDIT_KEY_ID, ObjectClass::SECRET_KEY, true)?;
                lease
                    .check(lease.s().sign(&Mechanism::Sha256Hmac, k, data))
                    .map_err(|e| ck("C_Sign", e))
            }
            r => r.map_err(|e| ck("C_Sign", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_helpers() {
        assert_eq!(der::uint(&[0, 0, 0x7f]), vec![2, 1, 0x7f]);
        assert_eq!(der::uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(der::uint(&[0]), vec![2, 1, 0]);
        let long = der::tlv(0x04, &[1; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (t, v, rest) = der::read(&long).unwrap();
        assert_eq!((t, v.len(), rest.len()), (4, 300, 0));
    }

    #[test]
    fn pkcs8_components_match_the_crypto_layer() {
        let k = crypto::RsaPrivateKey::from_pem(include_str!("../../../tests/data/rsa2048.pem"))
            .unwrap();
        let der = k.to_pkcs8_der().unwrap();
        let c = rsa_components(der.as_bytes()).unwrap();
        assert_eq!(c.len(), 8);
        let spki = rsa_spki(&c[0], &c[1]);
        assert_eq!(spki, k.public_key().to_spki_der().unwrap());
        let e = crypto::EcdsaSigningKey::generate(EcCurve::P256).unwrap();
        assert_eq!(
            ec_scalar(e.to_pkcs8_der().unwrap().as_bytes())
                .unwrap()
                .len(),
            32
        );
    }
}
