//! Helpers of plain std shared by the core's tests and benches and the
//! CLI's tests (the latter two include this file by path): a seedable
//! generator, fresh temporary directories, the openssl binary, and SoftHSM2 (the module under test, a private token
//! directory, `softhsm2-util --init-token`).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// SplitMix64: the next value from `state`. Small, seedable, good enough to
/// pick operations, inputs and timings.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A new empty directory `sealbox-{tag}-{pid}-{n}` in the temporary
/// directory (whatever was there under that name is removed first).
pub fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sealbox-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The PKCS#11 module under test (`SEALBOX_PKCS11_MODULE`, default SoftHSM2).
pub fn module() -> PathBuf {
    std::env::var_os("SEALBOX_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into())
}

/// The token of another module to run against instead of a SoftHSM2 one:
/// SEALBOX_PKCS11_TOKEN and SEALBOX_PKCS11_PIN, when both are set.
pub fn external_token() -> Option<(String, String)> {
    let token = std::env::var("SEALBOX_PKCS11_TOKEN").ok()?;
    Some((token, std::env::var("SEALBOX_PKCS11_PIN").ok()?))
}

/// Writes `dir/softhsm2.conf`, which keeps its tokens in `dir/tokens`;
/// returns its path (for SOFTHSM2_CONF).
pub fn write_conf(dir: &Path) -> std::io::Result<PathBuf> {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens)?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )?;
    Ok(conf)
}

/// `softhsm2-util --init-token --free`, under `conf` when given (else the
/// process's SOFTHSM2_CONF).
pub fn init_token(
    conf: Option<&Path>,
    label: &str,
    so_pin: &str,
    pin: &str,
) -> std::io::Result<Output> {
    let mut c = Command::new("softhsm2-util");
    if let Some(conf) = conf {
        c.env("SOFTHSM2_CONF", conf);
    }
    c.args(["--init-token", "--free", "--label", label])
        .args(["--so-pin", so_pin, "--pin", pin])
        .output()
}

/// [`init_token`] that must succeed.
pub fn must_init_token(conf: Option<&Path>, label: &str, so_pin: &str, pin: &str) {
    let out = init_token(conf, label, so_pin, pin)
        .expect("softhsm2-util (Debian package softhsm2; `make test` installs it)");
    assert!(
        out.status.success(),
        "softhsm2-util: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `openssl` with `args`; panics (never skips) if it is not installed.
pub fn openssl<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    Command::new("openssl").args(&args).stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("cannot run the openssl binary ({e}); it is required for this test: `make test` installs it (scripts/install-deps.sh)")
    })
}

/// Runs `openssl` and requires success; returns its stdout.
pub fn openssl_ok<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = openssl(&args);
    assert!(
        out.status.success(),
        "openssl {:?} failed ({}):\n{}{}",
        args,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
