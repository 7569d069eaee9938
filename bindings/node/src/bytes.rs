//! The `Buffer` that sealbox hands to JS.
//!
//! napi-rs's own `Buffer::from(Vec<u8>)` lends the Vec to V8 as an external
//! buffer without telling V8 its size, so V8 sees a tiny object and
//! collects it late: a loop encrypting 1 MiB messages grew the process by
//! a megabyte per call. This `Buffer` copies the bytes into memory that V8
//! allocates and accounts for, and wipes the Rust copy of secrets
//! (plaintext, data keys) right away. It has the same name as napi's, so the
//! generated TypeScript says `Buffer`.

use napi::bindgen_prelude::{check_status, Result, ToNapiValue};
use napi::sys;

use crate::impls::js_object_type;

/// Bytes on their way to JS as a `Buffer`.
pub struct Buffer {
    data: Vec<u8>,
    secret: bool,
}

impl Buffer {
    /// Plaintext or key material: the Rust copy is wiped once JS has its own.
    pub fn secret(data: Vec<u8>) -> Self {
        Buffer { data, secret: true }
    }

    /// Bytes the caller holds secret (plaintext, key material) from a slice.
    pub fn secret_copy(data: &[u8]) -> Self {
        Buffer::secret(data.to_vec())
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(data: Vec<u8>) -> Self {
        Buffer {
            data,
            secret: false,
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if self.secret {
            sealbox::secret::wipe(&mut self.data);
        }
        spare::give_back(std::mem::take(&mut self.data));
    }
}

/// Output buffers kept for reuse. A result of 1 MiB made on a pool thread in
/// fresh memory cost page faults, and its release unmapped pages under
/// the other threads' feet: more than the encryption itself. Results are
/// copied into V8's memory (see `ToNapiValue` below), so their Vec can
/// serve the next message.
pub(crate) mod spare {
    use std::sync::Mutex;

    /// Buffers kept at most; one per libuv pool thread.
    const KEEP: usize = 4;
    /// The largest buffer kept.
    const MAX_KEPT: usize = 8 << 20;

    static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

    /// An empty Vec, with the capacity of an earlier result when one is free.
    pub(crate) fn take() -> Vec<u8> {
        SPARE
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_default()
    }

    /// Keeps `buf` (already wiped if it held a secret) for the next `take`.
    pub(crate) fn give_back(mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > MAX_KEPT {
            return;
        }
        buf.clear();
        if let Ok(mut s) = SPARE.lock() {
            if s.len() < KEEP {
                s.push(buf);
            }
        }
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({} bytes)", self.data.len())
    }
}

impl ToNapiValue for Buffer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        let mut copy = std::ptr::null_mut();
        // SAFETY: `env` is the live environment of this call; the source
        // pointer and length describe `val.data`, alive until `val` drops
        // at the end of this function.
        check_status!(unsafe {
            sys::napi_create_buffer_copy(
                env,
                val.data.len(),
                val.data.as_ptr().cast(),
                &mut copy,
                &mut out,
            )
        })?;
        Ok(out)
    }
}

js_object_type!(Buffer => "Buffer");
