//! Helpers of the tests that drive the `sealbox` binary.
#![allow(dead_code)]

#[path = "../../../core/tests/common/shared.rs"]
pub mod shared;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_sealbox");

/// A private directory with a key store location, HOME and XDG dirs of its
/// own, so that nothing of the user running the tests leaks in.
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(tag: &str) -> Self {
        let dir = shared::fresh_dir(&format!("cli-{tag}"));
        std::fs::create_dir_all(dir.join("home")).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn store(&self) -> PathBuf {
        self.path("store")
    }

    /// A command with a clean environment: only the sandbox's store.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SEALBOX_") {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.path("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env("SEALBOX_STORE", self.store())
            .env("USER", "cli-tests")
            .current_dir(&self.dir);
        c
    }

    /// Runs with `args`, stdin empty.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).stdin(Stdio::null()).output().unwrap()
    }

    /// Starts `sealbox` with `args`, stdin and stderr piped.
    pub fn spawn(&self, args: &[&str], stdout: Stdio) -> Child {
        let mut c = self.cmd();
        c.args(args).stdin(Stdio::piped()).stdout(stdout);
        c.stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Runs with `args`, feeding `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self.spawn(args, Stdio::piped());
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sealbox {args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs with --json and requires success; returns the parsed stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let s = self.ok(&a);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    /// Runs, requires exit `code` and a message on stderr; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "sealbox {args:?}: expected exit {code}; stderr:\n{err}\nstdout:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            !err.trim().is_empty(),
            "sealbox {args:?}: no message on stderr"
        );
        err
    }

    /// A sandbox with an initialized soft store and one key under `alias`;
    /// returns `key create`'s JSON too.
    pub fn with_key(tag: &str, alias: &str) -> (Self, serde_json::Value) {
        let sb = Sandbox::new(tag);
        sb.init();
        let key = sb.json(&["key", "create", "--alias", alias]);
        (sb, key)
    }

    /// `sealbox init` for a soft store.
    pub fn init(&self) {
        self.ok(&["init"]);
    }

    /// Writes a key file with mode 0600.
    pub fn secret_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// Files in the sandbox directory whose name contains `part`.
    pub fn files_containing(&self, part: &str) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(part))
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A raw wrapping key's arguments: `FLAG FILE --key-namespace NS --key-name NAME`.
pub fn raw_key<'a>(flag: &'a str, file: &'a Path, ns: &'a str, name: &'a str) -> [&'a str; 6] {
    [flag, s(file), "--key-namespace", ns, "--key-name", name]
}

/// Deterministic non-trivial test data.
pub fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
