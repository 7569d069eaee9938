//! `sealbox init` bound to a PKCS#11 token (SoftHSM2 in a private
//! directory; SEALBOX_PKCS11_MODULE names another module), then keys,
//! envelope encryption, signatures and the audit trail on it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::{s, shared, Sandbox};

const LABEL: &str = "sealbox-cli-tests";
const PIN: &str = "1357924680";

/// A SoftHSM2 configuration and token of this sandbox alone.
fn softhsm(sb: &Sandbox) -> PathBuf {
    let conf = shared::write_conf(&sb.dir).unwrap();
    shared::must_init_token(Some(&conf), LABEL, "0000000000", PIN);
    conf
}

#[test]
fn a_store_on_a_pkcs11_token() {
    let sb = Sandbox::new("pkcs11");
    let conf = softhsm(&sb);
    let m = shared::module();
    let run = |args: &[&str], pin: Option<&str>| {
        let mut c = sb.cmd();
        c.env("SOFTHSM2_CONF", &conf).args(args);
        match pin {
            Some(p) => c.env("TOKEN_PIN", p),
            None => c.env_remove("TOKEN_PIN"),
        };
        c.output().unwrap()
    };
    let ok = |args: &[&str]| {
        let out = run(args, Some(PIN));
        assert!(out.status.success(), "{args:?}: {}", common::stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let init = [
        "--json",
        "init",
        "--pkcs11-module",
        s(&m),
        "--token-label",
        LABEL,
        "--pin-env",
        "TOKEN_PIN",
    ];
    // A wrong PIN fails and leaves no store behind.
    let out = run(&init, Some("0000"));
    assert_eq!(
        out.status.code(),
        Some(9),
        "a wrong PIN is a configuration error: {}",
        common::stderr(&out)
    );
    assert!(
        common::stderr(&out).contains("PIN is incorrect"),
        "{}",
        common::stderr(&out)
    );
    assert!(!sb.store().join("config.toml").exists());

    let v: serde_json::Value = serde_json::from_str(&ok(&init)).unwrap();
    assert_eq!(v["backend"], "pkcs11");
    assert!(
        v["root_key_file"].is_null(),
        "no root key file for an HSM store"
    );
    let cfg = std::fs::read_to_string(sb.store().join("config.toml")).unwrap();
    assert!(
        cfg.contains("pin_env = \"TOKEN_PIN\"") && !cfg.contains(PIN),
        "{cfg}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&ok(&["--json", "key", "create", "--alias", "alias/hsm"])).unwrap();
    assert_eq!(v["backend"], "pkcs11");
    std::fs::write(sb.path("secret.txt"), common::data(50_000)).unwrap();
    ok(&[
        "encrypt",
        "--key",
        "alias/hsm",
        "-c",
        "app=test",
        "secret.txt",
        "-o",
        "secret.sbx",
    ]);
    ok(&["key", "rotate", "alias/hsm"]);
    ok(&[
        "decrypt",
        "-c",
        "app=test",
        "secret.sbx",
        "-o",
        "secret.out",
    ]);
    assert_eq!(
        std::fs::read(sb.path("secret.out")).unwrap(),
        common::data(50_000)
    );

    ok(&[
        "key",
        "create",
        "--spec",
        "ECC_NIST_P256",
        "--alias",
        "alias/hsm-sign",
    ]);
    let sig = ok(&["sign", "--key", "alias/hsm-sign", "secret.txt"]);
    ok(&[
        "verify",
        "--key",
        "alias/hsm-sign",
        "--signature-base64",
        sig.trim(),
        "secret.txt",
    ]);
    ok(&[
        "key",
        "create",
        "--spec",
        "HMAC_256",
        "--alias",
        "alias/hsm-mac",
    ]);
    std::fs::write(sb.path("small.txt"), b"hello").unwrap();
    let mac = ok(&["mac", "--key", "alias/hsm-mac", "small.txt"]);
    ok(&[
        "mac",
        "--key",
        "alias/hsm-mac",
        "--verify",
        mac.trim(),
        "small.txt",
    ]);

    let v: serde_json::Value = serde_json::from_str(&ok(&["--json", "audit", "verify"])).unwrap();
    assert_eq!(v["ok"], true);

    // Without the PIN variable: a clear configuration error.
    let out = run(&["key", "list"], None);
    assert_eq!(out.status.code(), Some(9));
    assert!(
        common::stderr(&out).contains("TOKEN_PIN"),
        "{}",
        common::stderr(&out)
    );

    // A wrong PIN for an existing store: the same, and the store is left
    // as it was (the right PIN still works).
    let out = run(&["--json", "key", "list"], Some("2468013579"));
    assert_eq!(out.status.code(), Some(9), "{}", common::stderr(&out));
    let e: serde_json::Value = serde_json::from_str(common::stderr(&out).trim()).unwrap();
    assert_eq!(e["error"]["code"], "ConfigurationError", "{e}");
    ok(&["key", "list"]);

    // A PIN file works as well (and must be private).
    let pin_file = sb.path("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let other = sb.path("store2");
    let out = sb
        .cmd()
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--store",
            s(&other),
            "init",
            "--pkcs11-module",
            s(&m),
            "--token-label",
            LABEL,
            "--pin-file",
            s(&pin_file),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = sb
        .cmd()
        .env("SOFTHSM2_CONF", &conf)
        .args(["--store", s(&other), "key", "create"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
}
