//! Sessions: one process-wide context per module, a bounded pool of
//! logged-in read-write sessions, and finding key objects through them.
//!
//! Lock order, the same on every path: the process-wide object-management
//! lock (`objects::OBJECT_MANAGEMENT`, for generate, import, destroy and
//! making the audit key) is taken *before* a session is leased, never while
//! one is held. A lease with `max_sessions` = 1 is itself a lock: a thread
//! holding the only session while waiting for object management, and one
//! holding object management while waiting for a session, would wait for
//! each other for good (issue 17: the audit MAC once did the former while
//! CreateKey/RotateKey did the latter). The pool, the handle cache and the
//! verified-PIN map are leaves: held only briefly, nothing is acquired
//! under them (the pool's lock is released before a session is opened and
//! logged in).

use crate::sync::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::RawAuthPin;

use super::errors::{ck, rv_of, stale_handle};
use super::Pkcs11Backend;
use crate::crypto::{self, HashAlg};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// One context per module path per process: `C_Initialize` exactly once.
pub(super) fn context(module: &Path) -> Result<Arc<Pkcs11>> {
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

pub(super) struct Pool {
    pub(super) idle: Vec<Session>,
    pub(super) open: usize,
}

/// A session borrowed from the pool; returned on drop unless it broke.
pub(super) struct Lease<'a> {
    backend: &'a Pkcs11Backend,
    session: Option<Session>,
    broken: bool,
}

impl Lease<'_> {
    pub(super) fn s(&self) -> &Session {
        // Present from creation until drop.
        self.session.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// Marks the session unusable if the error says it is.
    pub(super) fn check<T>(
        &mut self,
        r: std::result::Result<T, CkError>,
    ) -> std::result::Result<T, CkError> {
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
            let pool = self.backend.pool.lock();
            if let Ok(mut p) = pool {
                if self.broken {
                    p.open -= 1;
                    drop(s);
                } else {
                    p.idle.push(s);
                }
                // Notified under the pool lock (`p` lives to the end of
                // this block): a waiter then sees the session or the free
                // slot as soon as it wakes, and helgrind (make
                // test-lock-check) sees the signal ordered by the lock it
                // belongs to.
                self.backend.freed.notify_one();
            } else {
                self.backend.freed.notify_one();
            }
        }
    }
}

impl Pkcs11Backend {
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
        // Keyed with a random key of this process, so that the value kept
        // for the life of the process is no unsalted hash to guess PINs
        // against (a PIN has few digits).
        static PIN_KEY: OnceLock<Vec<u8>> = OnceLock::new();
        let pin_key = match PIN_KEY.get() {
            Some(k) => k,
            None => {
                let fresh = crypto::random_vec(32)?;
                PIN_KEY.get_or_init(|| fresh)
            }
        };
        let digest = crypto::hmac(HashAlg::Sha256, pin_key, self.pin.0.as_bytes())?;
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

    pub(super) fn lease(&self) -> Result<Lease<'_>> {
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
                        let pool = self.pool.lock();
                        if let Ok(mut p) = pool {
                            p.open -= 1;
                            self.freed.notify_one(); // under the lock, as in Lease::drop
                        } else {
                            self.freed.notify_one();
                        }
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

    /// The object of `class` with `CKA_ID` = `id`; a clear error if it was
    /// deleted behind sealbox's back.
    pub(super) fn find(
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
        if found.len() > 1 {
            // PKCS#11 fixes no order: taking the first could give two
            // processes two different keys for one version.
            return Err(Error::Pkcs11 {
                function: "C_FindObjects".into(),
                rv: format!(
                    "{} {} objects share CKA_ID {}; sealbox uses none of them \
                     (remove those that are not the key store's)",
                    found.len(),
                    class,
                    hex(id)
                ),
            });
        }
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
    pub(super) fn with_object<T>(
        &self,
        handle: &[u8],
        class: ObjectClass,
        op: impl Fn(&Session, ObjectHandle) -> std::result::Result<T, CkError>,
        map_err: impl Fn(CkError) -> Error,
    ) -> Result<T> {
        let mut lease = self.lease()?;
        for fresh in [false, true] {
            let obj = self.find(&mut lease, handle, class, fresh)?;
            let r = lease.check(op(lease.s(), obj));
            match r {
                Err(e) if !fresh && stale_handle(&e) => {
                    self.forget_handle(handle, class);
                    continue;
                }
                r => return r.map_err(map_err),
            }
        }
        Err(Error::KeyNotFound(format!("HSM object {}", hex(handle))))
    }

    /// [`Self::with_object`] for an operation whose output is a secret: it
    /// leaves the module only in secret memory.
    pub(super) fn with_object_secret(
        &self,
        handle: &[u8],
        class: ObjectClass,
        op: impl Fn(&Session, ObjectHandle) -> std::result::Result<Vec<u8>, CkError>,
        map_err: impl Fn(CkError) -> Error,
    ) -> Result<SecretBytes> {
        let mut out = self.with_object(handle, class, op, map_err)?;
        let secret = SecretBytes::from_slice(&out);
        zeroize::Zeroize::zeroize(&mut out);
        secret
    }

    /// Forgets the cached handle of the object (`CKA_ID` = `id`, `class`).
    pub(super) fn forget_handle(&self, id: &[u8], class: ObjectClass) {
        if let Ok(mut m) = self.handles.lock() {
            m.remove(&(id.to_vec(), class_code(class)));
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
