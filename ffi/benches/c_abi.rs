//! What the C ABI costs per call, beside the Rust call it wraps, for 64-byte
//! and 1 KiB messages: envelope encrypt/decrypt (AWS Encryption SDK
//! messages, raw AES keyring) and key-store Encrypt/Decrypt (soft backend,
//! audit log on).
//!
//! The C side is the real shared library, `libsealbox.so`, loaded with
//! `dlopen` and called through the same function pointers a C program uses;
//! it pays what a C caller pays: the panic boundary, pointer checks, the
//! encryption context converted from a `sealbox_string_map`, the result copied into a
//! `sealbox_buffer` and zeroized on free. The Rust side calls the core with
//! options built once, as a Rust program would. Both run in one process,
//! interleaved round by round; the medians are reported with their
//! difference (the overhead) and ratio.
//!
//! `make bench` builds the library and runs this; alone:
//! `cargo build --release -p sealbox-ffi && cargo bench -p sealbox-ffi --bench c_abi`.
//! `SEALBOX_LIB` names another libsealbox.so.

use std::ffi::{c_char, c_void, CStr, CString};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealbox_core::cmm::DefaultMaterialsManager;
use sealbox_core::keyring::RawAesKeyring;
use sealbox_core::keystore::{KeyStore, KeyStoreOptions, RootKey};
use sealbox_core::message::{decrypt, encrypt, DecryptOptions, EncryptOptions};
use sealbox_core::EncryptionContext;

type Handle = *const c_void;
type Out = *mut *mut Buffer;

#[repr(C)]
struct Buffer {
    data: *const u8,
    len: usize,
}

/// The functions of the C ABI this bench calls.
struct Abi {
    _lib: *mut c_void,
    raw_aes_keyring_new:
        unsafe extern "C" fn(*const c_char, *const c_char, *const u8, usize, *mut Handle) -> u32,
    default_cmm_new: unsafe extern "C" fn(Handle, *mut Handle) -> u32,
    encrypt: unsafe extern "C" fn(Handle, *const u8, usize, Handle, Handle, Out) -> u32,
    decrypt:
        unsafe extern "C" fn(Handle, *const u8, usize, Handle, Handle, Out, *mut Handle) -> u32,
    string_map_new: unsafe extern "C" fn(*mut Handle) -> u32,
    string_map_insert: unsafe extern "C" fn(Handle, *const u8, usize, *const u8, usize) -> u32,
    string_map_free: unsafe extern "C" fn(Handle),
    root_key_from_bytes: unsafe extern "C" fn(*const u8, usize, *mut Handle) -> u32,
    root_key_free: unsafe extern "C" fn(Handle),
    keystore_options_new: unsafe extern "C" fn(*mut Handle) -> u32,
    keystore_options_set_audit_log: unsafe extern "C" fn(Handle, *const c_char) -> u32,
    keystore_options_free: unsafe extern "C" fn(Handle),
    keystore_open: unsafe extern "C" fn(*const c_char, Handle, Handle, *mut Handle) -> u32,
    keystore_encrypt:
        unsafe extern "C" fn(Handle, *const c_char, *const u8, usize, Handle, Out) -> u32,
    keystore_decrypt: unsafe extern "C" fn(Handle, *const u8, usize, Handle, Out) -> u32,
    keystore_free: unsafe extern "C" fn(Handle),
    keystore_create_key: unsafe extern "C" fn(Handle, Handle, *mut Handle) -> u32,
    key_metadata_key_id: unsafe extern "C" fn(Handle) -> *const c_char,
    key_metadata_free: unsafe extern "C" fn(Handle),
    buffer_free: unsafe extern "C" fn(*mut Buffer),
    keyring_free: unsafe extern "C" fn(Handle),
    cmm_free: unsafe extern "C" fn(Handle),
}

fn library_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SEALBOX_LIB") {
        return p.into();
    }
    // target/<profile>/deps/c_abi-<hash> -> target/<profile>/libsealbox.so
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("libsealbox.so")
}

/// A function of the library, as the function pointer type `F`.
///
/// # Safety
/// `F` is the `unsafe extern "C" fn` type of that symbol in the header.
unsafe fn symbol<F: Copy>(lib: *mut c_void, name: &str) -> F {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    let c = CString::new(name).expect("name");
    // SAFETY: a live handle from dlopen and a C string.
    let s = unsafe { libc::dlsym(lib, c.as_ptr()) };
    assert!(!s.is_null(), "{name} is not exported");
    // SAFETY: the caller names the right function type for the symbol.
    unsafe { std::mem::transmute_copy::<*mut c_void, F>(&s) }
}

impl Abi {
    fn load() -> Abi {
        let path = library_path();
        let c = CString::new(path.to_str().expect("utf-8 path")).expect("path");
        // SAFETY: dlopen/dlsym with valid C strings; each symbol is cast to
        // the signature include/sealbox.h declares for it.
        unsafe {
            let lib = libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            assert!(
                !lib.is_null(),
                "cannot load {} (cargo build --release -p sealbox-ffi): {:?}",
                path.display(),
                CStr::from_ptr(libc::dlerror())
            );
            Abi {
                _lib: lib,
                raw_aes_keyring_new: symbol(lib, "sealbox_raw_aes_keyring_new"),
                default_cmm_new: symbol(lib, "sealbox_default_cmm_new"),
                encrypt: symbol(lib, "sealbox_encrypt"),
                decrypt: symbol(lib, "sealbox_decrypt"),
                string_map_new: symbol(lib, "sealbox_string_map_new"),
                string_map_insert: symbol(lib, "sealbox_string_map_insert"),
                string_map_free: symbol(lib, "sealbox_string_map_free"),
                root_key_from_bytes: symbol(lib, "sealbox_root_key_from_bytes"),
                root_key_free: symbol(lib, "sealbox_root_key_free"),
                keystore_options_new: symbol(lib, "sealbox_keystore_options_new"),
                keystore_options_set_audit_log: symbol(
                    lib,
                    "sealbox_keystore_options_set_audit_log",
                ),
                keystore_options_free: symbol(lib, "sealbox_keystore_options_free"),
                keystore_open: symbol(lib, "sealbox_keystore_open"),
                keystore_encrypt: symbol(lib, "sealbox_keystore_encrypt"),
                keystore_decrypt: symbol(lib, "sealbox_keystore_decrypt"),
                keystore_free: symbol(lib, "sealbox_keystore_free"),
                keystore_create_key: symbol(lib, "sealbox_keystore_create_key"),
                key_metadata_key_id: symbol(lib, "sealbox_key_metadata_key_id"),
                key_metadata_free: symbol(lib, "sealbox_key_metadata_free"),
                buffer_free: symbol(lib, "sealbox_buffer_free"),
                keyring_free: symbol(lib, "sealbox_keyring_free"),
                cmm_free: symbol(lib, "sealbox_cmm_free"),
            }
        }
    }
}

/// The encryption context both sides use: two pairs.
const PAIRS: [(&str, &str); 2] = [("tenant", "acme"), ("purpose", "bench")];

/// The context as a `sealbox_string_map`, built once as a C program would.
fn c_context(abi: &Abi) -> Handle {
    let mut map = std::ptr::null();
    // SAFETY: an output slot, then byte strings with their lengths.
    unsafe {
        ok((abi.string_map_new)(&mut map), "string map");
        for (k, v) in PAIRS {
            ok(
                (abi.string_map_insert)(map, k.as_ptr(), k.len(), v.as_ptr(), v.len()),
                "string map insert",
            );
        }
    }
    map
}

/// One C call that writes a buffer, which is then freed (what a C caller
/// does per message).
fn c_call(abi: &Abi, what: &str, call: impl FnOnce(Out) -> u32) {
    let mut out = std::ptr::null_mut();
    ok(call(&mut out), what);
    // SAFETY: a buffer the library returned, freed once.
    unsafe { (abi.buffer_free)(black_box(out)) };
}

fn ok(rc: u32, what: &str) {
    assert_eq!(rc, 0, "{what} failed with sealbox_result {rc}");
}

/// Median ns per call of `f` over `rounds` batches sized to ~`target`.
struct Timer {
    rounds: usize,
    target: Duration,
}

impl Timer {
    /// Times `rust` and `c` batch by batch, alternating; returns the median
    /// ns/call of each.
    fn compare(&self, mut rust: impl FnMut(), mut c: impl FnMut()) -> (f64, f64) {
        // Calibrate on the slower side so both batches take about `target`.
        for _ in 0..50 {
            rust();
            c();
        }
        let t = Instant::now();
        let mut n = 0u32;
        while t.elapsed() < Duration::from_millis(20) {
            c();
            n += 1;
        }
        let per = t.elapsed() / n;
        let batch = (self.target.as_nanos() / per.as_nanos().max(1)).clamp(10, 1_000_000) as u32;
        let (mut rs, mut cs) = (Vec::new(), Vec::new());
        for _ in 0..self.rounds {
            let t = Instant::now();
            for _ in 0..batch {
                rust();
            }
            rs.push(t.elapsed().as_nanos() as f64 / batch as f64);
            let t = Instant::now();
            for _ in 0..batch {
                c();
            }
            cs.push(t.elapsed().as_nanos() as f64 / batch as f64);
        }
        (median(&mut rs), median(&mut cs))
    }

    /// One row of the table: `compare` of the Rust call `rust` (its result
    /// dropped) and the C call `c` (through `c_call`), both named `what`
    /// when they fail.
    fn case<T, E: std::fmt::Debug>(
        &self,
        abi: &Abi,
        name: String,
        what: &str,
        mut rust: impl FnMut() -> Result<T, E>,
        c: impl Fn(Out) -> u32,
    ) -> (String, (f64, f64)) {
        let times = self.compare(
            || drop(black_box(rust().expect(what))),
            || c_call(abi, what, &c),
        );
        (name, times)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs benches once in test mode: nothing to
    // measure there, and the release library may not be built.
    if !std::env::args().any(|a| a == "--bench") {
        println!("c_abi: a benchmark; run it with `make bench` (cargo bench -p sealbox-ffi --bench c_abi)");
        return;
    }
    let abi = Abi::load();
    let timer = Timer {
        rounds: 21,
        target: Duration::from_millis(25),
    };
    let ec: EncryptionContext = PAIRS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let c_ec = c_context(&abi);
    let wrapping_key = [0x42u8; 32];
    let dir = std::env::temp_dir().join(format!("sealbox-c-abi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    // Rust: the core, as a Rust program uses it.
    let keyring = Arc::new(RawAesKeyring::new("bench", "k", &wrapping_key).expect("keyring"));
    let cmm = DefaultMaterialsManager::new(keyring);
    let enc_opts = EncryptOptions {
        encryption_context: ec.clone(),
        ..EncryptOptions::default()
    };
    let dec_opts = DecryptOptions {
        encryption_context: Some(ec.clone()),
        ..DecryptOptions::default()
    };
    let root = RootKey::from_bytes(&[7u8; 32]).expect("root key");
    let ks = KeyStore::open(
        dir.join("rust.db"),
        &root,
        KeyStoreOptions {
            audit_log: Some(dir.join("rust.audit.jsonl")),
            ..KeyStoreOptions::default()
        },
    )
    .expect("key store");
    let key = ks.create_key(&Default::default()).expect("key").key_id;

    // C: the same objects through the ABI.
    let (mut c_keyring, mut c_cmm, mut c_root, mut c_opts, mut c_ks) = (
        std::ptr::null(),
        std::ptr::null(),
        std::ptr::null(),
        std::ptr::null(),
        std::ptr::null(),
    );
    let c_db = CString::new(dir.join("c.db").to_str().expect("path")).expect("path");
    let c_audit = CString::new(dir.join("c.audit.jsonl").to_str().expect("path")).expect("path");
    let c_key;
    // SAFETY: every pointer passed is valid as include/sealbox.h requires.
    unsafe {
        ok(
            (abi.raw_aes_keyring_new)(
                c"bench".as_ptr(),
                c"k".as_ptr(),
                wrapping_key.as_ptr(),
                32,
                &mut c_keyring,
            ),
            "keyring",
        );
        ok((abi.default_cmm_new)(c_keyring, &mut c_cmm), "cmm");
        ok(
            (abi.root_key_from_bytes)([7u8; 32].as_ptr(), 32, &mut c_root),
            "root key",
        );
        ok((abi.keystore_options_new)(&mut c_opts), "options");
        ok(
            (abi.keystore_options_set_audit_log)(c_opts, c_audit.as_ptr()),
            "audit log",
        );
        ok(
            (abi.keystore_open)(c_db.as_ptr(), c_root, c_opts, &mut c_ks),
            "open",
        );
        let mut md = std::ptr::null();
        ok(
            (abi.keystore_create_key)(c_ks, std::ptr::null(), &mut md),
            "create key",
        );
        c_key = CStr::from_ptr((abi.key_metadata_key_id)(md)).to_owned();
        (abi.key_metadata_free)(md);
    }

    println!();
    println!(
        "C ABI (libsealbox.so via dlopen) against the Rust call, median of {} rounds, ns per call",
        timer.rounds
    );
    println!(
        "{:<34} {:>12} {:>12} {:>12} {:>8}",
        "operation", "Rust", "C ABI", "overhead", "ratio"
    );
    let mut rows = Vec::new();
    for (size, label) in [(64usize, "64 B"), (1024, "1 KiB")] {
        let pt: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let message = encrypt(&pt, &cmm, &enc_opts).expect("encrypt");
        let blob = ks.encrypt(&key, &pt, &ec).expect("ks encrypt");
        let mut c_blob: *mut Buffer = std::ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            ok(
                (abi.keystore_encrypt)(
                    c_ks,
                    c_key.as_ptr(),
                    pt.as_ptr(),
                    pt.len(),
                    c_ec,
                    &mut c_blob,
                ),
                "ks encrypt",
            );
        }

        // SAFETY (the C closures): every pointer passed is valid as
        // include/sealbox.h requires; `c_blob` is a live buffer.
        let cases = [
            timer.case(
                &abi,
                format!("envelope encrypt {label}"),
                "encrypt",
                || encrypt(black_box(&pt), &cmm, &enc_opts),
                |out| unsafe {
                    (abi.encrypt)(c_cmm, pt.as_ptr(), pt.len(), c_ec, std::ptr::null(), out)
                },
            ),
            timer.case(
                &abi,
                format!("envelope decrypt {label}"),
                "decrypt",
                || decrypt(black_box(&message), &cmm, &dec_opts),
                |out| unsafe {
                    (abi.decrypt)(
                        c_cmm,
                        message.as_ptr(),
                        message.len(),
                        c_ec,
                        std::ptr::null(),
                        out,
                        std::ptr::null_mut(),
                    )
                },
            ),
            timer.case(
                &abi,
                format!("key store Encrypt {label}"),
                "ks encrypt",
                || ks.encrypt(&key, black_box(&pt), &ec),
                |out| unsafe {
                    (abi.keystore_encrypt)(c_ks, c_key.as_ptr(), pt.as_ptr(), pt.len(), c_ec, out)
                },
            ),
            timer.case(
                &abi,
                format!("key store Decrypt {label}"),
                "ks decrypt",
                || ks.decrypt(black_box(&blob), &ec),
                |out| unsafe {
                    (abi.keystore_decrypt)(c_ks, (*c_blob).data, (*c_blob).len, c_ec, out)
                },
            ),
        ];
        // SAFETY: freed once.
        unsafe { (abi.buffer_free)(c_blob) };
        for (name, (rust, c)) in cases {
            println!(
                "{:<34} {:>12.0} {:>12.0} {:>+12.0} {:>7.3}x",
                name,
                rust,
                c,
                c - rust,
                c / rust
            );
            rows.push((name, rust, c));
        }
    }
    let worst = rows.iter().map(|(_, r, c)| c / r).fold(0.0f64, f64::max);
    println!("(overhead = C ABI - Rust; ratio = C ABI / Rust; worst ratio {worst:.3}x)");

    // SAFETY: each handle freed once.
    unsafe {
        (abi.string_map_free)(c_ec);
        (abi.keystore_free)(c_ks);
        (abi.keystore_options_free)(c_opts);
        (abi.root_key_free)(c_root);
        (abi.cmm_free)(c_cmm);
        (abi.keyring_free)(c_keyring);
    }
    drop(ks);
    let _ = std::fs::remove_dir_all(&dir);
}
