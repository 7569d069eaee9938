//! # sealbox-ffi: the C ABI of sealbox
//!
//! Builds `libsealbox.so` (soname `libsealbox.so.<major>`) and
//! `libsealbox.a`; `include/sealbox.h` is generated from this crate by a
//! pinned cbindgen (`make header`) and committed.
//!
//! Conventions, after rustls-ffi (../STYLE.md):
//! - symbols `sealbox_<type>_<verb>`; the object first, then inputs, then
//!   outputs; a byte buffer is always followed by its `size_t` length;
//! - opaque handles; [`handle`]'s table alone decides Box or Arc;
//! - every exported function runs inside `ffi_boundary!` (a panic becomes
//!   `SEALBOX_RESULT_PANIC`) and checks its pointers with the macros of
//!   [`macros`], so a NULL is `SEALBOX_RESULT_NULL_PARAMETER`, never a crash;
//! - outputs are written only on success;
//! - memory the library returns is freed by the library.
//!
//! # Safety
//!
//! Every exported function is `unsafe`: the C caller promises that each
//! pointer is NULL or valid for what its documentation says (a live handle
//! of the named type, `len` readable bytes, a NUL-terminated string, a
//! writable output slot), and that Box handles are not used by two threads
//! at once. NULL pointers and bad lengths are detected; dangling pointers
//! cannot be.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// C names: `sealbox_keystore`, `sealbox_result`.
#![allow(non_camel_case_types)]
// The handle marker types are never instantiated; there is nothing to show.
#![allow(missing_debug_implementations)]
// The safety contract is the same for every function and is stated once,
// above and in the header's preamble, rather than on ~130 functions.
#![allow(clippy::missing_safety_doc)]
// The C signatures are the API (a byte buffer is two arguments).
#![allow(clippy::too_many_arguments)]

// A panic must unwind to the boundary to become an error code; with
// panic=abort it would kill the host process instead.
#[cfg(panic = "abort")]
compile_error!("sealbox-ffi must be built with panic=unwind");

#[macro_use]
mod macros;

// In the order the header presents them.
mod cmm;
mod error;
mod handle;
mod keyring;
mod keystore;
mod message;
mod string_map;
mod values;

use std::ffi::c_char;

pub use error::sealbox_result;

/// The major version of this library (semantic versioning), at compile
/// time; `sealbox_version()` tells the version loaded at run time. The
/// soname is `libsealbox.so.<major>`.
pub const SEALBOX_VERSION_MAJOR: u32 = 0;
/// The minor version of this library, at compile time.
pub const SEALBOX_VERSION_MINOR: u32 = 1;
/// The patch version of this library, at compile time.
pub const SEALBOX_VERSION_PATCH: u32 = 0;

const fn number(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header's macros must match the crate version (bump both together).
const _: () = assert!(SEALBOX_VERSION_MAJOR == number(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(SEALBOX_VERSION_MINOR == number(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(SEALBOX_VERSION_PATCH == number(env!("CARGO_PKG_VERSION_PATCH")));

/// The version of the library actually loaded, as `"MAJOR.MINOR.PATCH"`;
/// compare with the `SEALBOX_VERSION_*` macros the program was built with.
///
/// Ownership: a static string; do not free.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn sealbox_version() -> *const c_char {
    ffi_boundary! { or std::ptr::null() =>
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}

/// The crypto provider the loaded library was built with: `"aws-lc"`,
/// `"aws-lc (FIPS)"` or `"rustcrypto"` (what `sealbox --version` and the
/// Python and Node packages report too).
///
/// Ownership: a static string; do not free.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn sealbox_crypto_provider() -> *const c_char {
    ffi_boundary! { or std::ptr::null() =>
        static PROVIDER: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
        PROVIDER
            .get_or_init(|| std::ffi::CString::new(sealbox_core::crypto::PROVIDER).unwrap_or_default())
            .as_ptr()
    }
}

/// Whether the crypto provider runs in its FIPS 140-3 mode now (only a
/// build with the `fips` feature can).
///
/// Ownership: nothing.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn sealbox_fips_mode() -> bool {
    ffi_boundary! { or false =>
        sealbox_core::build_info().fips_mode
    }
}

/// The fixed text for a result code, copied into `buf` the way `snprintf`
/// does: at most `len - 1` bytes (cut at a UTF-8 character boundary) and a
/// terminating NUL. `*out_n` receives the full length of the text (without
/// the NUL), so `*out_n >= len` means it was cut. `buf` may be NULL when
/// `len` is 0 (to learn the length). An unknown code gets a text saying so.
///
/// Ownership: writes into the caller's `buf`; keeps nothing.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_error_message(
    code: u32,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> sealbox_result {
    ffi_boundary! {
        if buf.is_null() && len > 0 {
            return Err(error::Failure::null("buf"));
        }
        let out_n = try_out!(out_n);
        let text = sealbox_result::message_of(code).unwrap_or("unknown sealbox_result code");
        // SAFETY: `buf` is writable for `len` bytes per the caller.
        out_n.write(unsafe { error::copy_text(text, buf, len) });
        Ok(())
    }
}

/// The detail of the last failed call on the calling thread (e.g. which
/// argument was NULL, which key was not found; for decryption failures only
/// the opaque "decryption failed"), copied as by `sealbox_error_message`.
/// Empty if no call failed on this thread yet. Successful calls leave it
/// unchanged.
///
/// Ownership: writes into the caller's `buf`; keeps nothing.
///
/// Thread safety: safe to call from any thread; each thread has its own.
#[no_mangle]
pub unsafe extern "C" fn sealbox_last_error_detail(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> sealbox_result {
    // Read before the boundary can record a failure of this very call.
    let detail = error::last_error_detail();
    ffi_boundary! {
        if buf.is_null() && len > 0 {
            return Err(error::Failure::null("buf"));
        }
        let out_n = try_out!(out_n);
        // SAFETY: `buf` is writable for `len` bytes per the caller.
        out_n.write(unsafe { error::copy_text(&detail, buf, len) });
        Ok(())
    }
}

/// Test hook: panics inside the library on purpose, to show that the panic
/// boundary turns a panic into `SEALBOX_RESULT_PANIC` (with the panic
/// message as the last error detail) instead of aborting the process. Has
/// no other effect; never useful in production code.
///
/// Ownership: nothing.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn sealbox_test_panic() -> sealbox_result {
    ffi_boundary! {
        #[allow(clippy::panic)]
        {
            panic!("sealbox_test_panic was called");
        }
    }
}
