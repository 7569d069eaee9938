//! `sealbox init`, `sealbox key ...`, `sign`, `verify`, `mac`, driven as a
//! user would, with `--json` output parsed.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::shared::openssl_ok;
use common::{s, Sandbox};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_makes_a_private_store_and_never_overwrites() {
    let sb = Sandbox::new("init");
    let v = sb.json(&["init"]);
    assert_eq!(v["backend"], "soft");
    let root = std::path::PathBuf::from(v["root_key_file"].as_str().unwrap());
    assert_eq!(root, sb.store().join("root.key"));
    assert_eq!(mode(&root), 0o600);
    assert_eq!(mode(&sb.store()), 0o700);
    assert_eq!(mode(&sb.store().join("keys.db")), 0o600);
    assert_eq!(mode(&sb.store().join("config.toml")), 0o600);
    let before = std::fs::read(&root).unwrap();

    let err = sb.fails(&["init"], 10);
    assert!(err.contains("already a key store"), "{err}");
    assert_eq!(std::fs::read(&root).unwrap(), before, "root key untouched");

    // A root key file elsewhere that exists already is refused too, and
    // the half-made store is cleaned up.
    let other = Sandbox::new("init2");
    let taken = other.secret_file("taken.key", b"x");
    let err = other.fails(&["init", "--root-key-file", s(&taken)], 10);
    assert!(err.contains("never overwrites a root key"), "{err}");
    assert!(!other.store().exists(), "nothing left behind");
    assert_eq!(std::fs::read(&taken).unwrap(), b"x");

    // With the root key elsewhere, the config file remembers where.
    let third = Sandbox::new("init3");
    let v = third.json(&["init", "--root-key-file", s(&third.path("vault.key"))]);
    assert_eq!(v["root_key_file"], s(&third.path("vault.key")));
    assert_eq!(mode(&third.path("vault.key")), 0o600);
    third.json(&["key", "create"]);
}

#[test]
fn a_root_key_from_the_environment() {
    let sb = Sandbox::new("envroot");
    let hex = "5a".repeat(32);
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = sb.cmd();
        if let Some(k) = key {
            c.env("SEALBOX_ROOT_KEY", k);
        }
        c.args(args).output().unwrap()
    };
    let out = run(&["--json", "init"], Some(&hex));
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["root_key_file"].is_null());
    assert!(!sb.store().join("root.key").exists(), "no key file written");
    assert!(run(&["key", "create"], Some(&hex)).status.success());
    let out = run(&["key", "list"], None);
    assert_eq!(out.status.code(), Some(9), "no root key anywhere");
    let out = run(&["key", "list"], Some(&"5b".repeat(32)));
    assert_eq!(out.status.code(), Some(9));
    assert!(common::stderr(&out).contains("root key does not open"));
    let out = run(&["init"], Some("not a key"));
    assert_eq!(out.status.code(), Some(10), "the store exists already");
    let other = Sandbox::new("envroot2");
    let out = other
        .cmd()
        .env("SEALBOX_ROOT_KEY", "short")
        .args(["init"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
    assert!(!other.store().join("config.toml").exists());
}

#[test]
fn a_missing_store_or_a_wrong_root_key_says_what_to_do() {
    let sb = Sandbox::new("nostore");
    let err = sb.fails(&["key", "list"], 9);
    assert!(err.contains("sealbox init"), "{err}");
    assert!(
        !sb.store().exists(),
        "commands other than init create nothing"
    );

    sb.init();
    sb.ok(&["key", "create"]);
    let wrong = sb.secret_file("wrong.key", &[7u8; 32]);
    let err = sb.fails(&["--root-key-file", s(&wrong), "key", "list"], 9);
    assert!(err.contains("root key"), "{err}");

    let loose = sb.store().join("root.key");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = sb.fails(&["key", "list"], 9);
    assert!(err.contains("chmod 600"), "{err}");
}

/// `key import --valid-to`, expiry, `key import-material` (only the same
/// material restores the key; new AES material is a new version) and
/// `key delete-imported-material`.
#[test]
fn imported_material_expires_and_is_imported_again() {
    let sb = Sandbox::new("expiry");
    sb.json(&["init"]);
    let aes = sb.secret_file("aes.hex", "ab".repeat(32).as_bytes());
    let other = sb.secret_file("other.hex", "cd".repeat(32).as_bytes());
    let import = |valid_to: &str| {
        sb.run(&[
            "--json",
            "key",
            "import",
            "--spec",
            "AES_256",
            "--material",
            s(&aes),
            "--alias",
            "alias/byok",
            "--valid-to",
            valid_to,
        ])
    };
    // Bad times and past times are usage errors; nothing is made.
    assert_eq!(import("tomorrow").status.code(), Some(2));
    assert_eq!(import("2020-01-01T00:00:00Z").status.code(), Some(2));
    sb.fails(&["key", "describe", "alias/byok"], 4);
    let out = import("+3s");
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let valid_to = v["valid_to"].as_i64().unwrap();
    assert_eq!(v["versions"][0]["valid_to"].as_i64(), Some(valid_to));
    let text = sb.ok(&["key", "describe", "alias/byok"]);
    assert!(text.contains("Valid to:"), "{text}");
    std::fs::write(sb.path("p.txt"), b"expiring").unwrap();
    sb.ok(&["encrypt", "--key", "alias/byok", "p.txt", "-o", "p.sbx"]);
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        <= valid_to
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Expired: refused (exit 5), PendingImport, the material purged when the
    // store opens; other material is refused; the same material restores it.
    // (A message's keyring failure is opaque: exit 3; the key store's
    // own refusal says why.)
    sb.fails(&["decrypt", "p.sbx", "-o", "p.out"], 3);
    let err = sb.fails(
        &["encrypt", "--key", "alias/byok", "p.txt", "-o", "q.sbx"],
        5,
    );
    assert!(err.contains("pending import"), "{err}");
    let v = sb.json(&["key", "describe", "alias/byok"]);
    assert_eq!(v["key_state"]["state"], "PendingImport");
    assert_eq!(v["versions"][0]["material_present"], false);
    assert!(sb
        .ok(&["key", "describe", "alias/byok"])
        .contains("Material:"));
    sb.fails(
        &[
            "key",
            "import-material",
            "alias/byok",
            "--material",
            s(&other),
        ],
        9,
    );
    let v = sb.json(&[
        "key",
        "import-material",
        "alias/byok",
        "--material",
        s(&aes),
    ]);
    assert_eq!(v["key_state"]["state"], "Enabled");
    assert!(v.get("valid_to").is_none(), "{v}");
    sb.ok(&["decrypt", "p.sbx", "-o", "p.out"]);
    assert_eq!(std::fs::read(sb.path("p.out")).unwrap(), b"expiring");
    // New material: a new version (on-demand rotation of an imported key).
    let v = sb.json(&[
        "key",
        "import-material",
        "alias/byok",
        "--material",
        s(&other),
        "--valid-to",
        "+30d",
    ]);
    assert_eq!(v["primary_version"], 2);
    // Deleted on request: nothing decrypts until both come back.
    let v = sb.json(&["key", "delete-imported-material", "alias/byok"]);
    assert_eq!(v["key_state"]["state"], "PendingImport");
    sb.fails(&["decrypt", "p.sbx", "-o", "p2.out"], 3);
    sb.json(&[
        "key",
        "import-material",
        "alias/byok",
        "--material",
        s(&aes),
    ]);
    sb.fails(&["decrypt", "p.sbx", "-o", "p2.out"], 3);
    sb.json(&[
        "key",
        "import-material",
        "alias/byok",
        "--material",
        s(&other),
    ]);
    sb.ok(&["decrypt", "p.sbx", "-o", "p2.out"]);
    // A generated key has no imported material.
    sb.json(&["key", "create", "--alias", "alias/gen"]);
    sb.fails(&["key", "delete-imported-material", "alias/gen"], 6);
}

/// `key generate-data-key --recipient` and `key decrypt --recipient`:
/// OpenSSL (the recipient) opens what the CLI wrote; the blob decrypts
/// again for the recipient; a wrong context or a non-RSA recipient fails.
#[test]
fn data_keys_and_decryption_for_a_recipient() {
    let sb = Sandbox::new("recipient");
    sb.json(&["init"]);
    sb.json(&["key", "create", "--alias", "alias/dk"]);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&sb.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "r.pem",
    ]);
    openssl(&["pkey", "-in", "r.pem", "-pubout", "-out", "r.pub.pem"]);
    let v = sb.json(&[
        "key",
        "generate-data-key",
        "alias/dk",
        "--recipient",
        "r.pub.pem",
        "--ciphertext-for-recipient",
        "dk.cms",
        "-o",
        "dk.blob",
        "-c",
        "tenant=acme",
    ]);
    assert_eq!(v["key_version"], 1);
    let key = openssl(&[
        "cms", "-decrypt", "-inform", "DER", "-in", "dk.cms", "-inkey", "r.pem",
    ]);
    assert_eq!(key.len(), 32);
    sb.json(&[
        "key",
        "decrypt",
        "dk.blob",
        "--recipient",
        "r.pub.pem",
        "-c",
        "tenant=acme",
        "-o",
        "again.cms",
    ]);
    assert_eq!(
        openssl(&[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "again.cms",
            "-inkey",
            "r.pem"
        ]),
        key
    );
    // The wrong context; a recipient that is not RSA; no --recipient.
    sb.fails(
        &[
            "key",
            "decrypt",
            "dk.blob",
            "--recipient",
            "r.pub.pem",
            "-o",
            "x.cms",
        ],
        3,
    );
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "ec.pem",
    ]);
    openssl(&["pkey", "-in", "ec.pem", "-pubout", "-out", "ec.pub.pem"]);
    sb.fails(
        &[
            "key",
            "decrypt",
            "dk.blob",
            "--recipient",
            "ec.pub.pem",
            "-c",
            "tenant=acme",
            "-o",
            "y.cms",
        ],
        9,
    );
    sb.fails(&["key", "decrypt", "dk.blob", "-o", "z.cms"], 2);
    assert!(!sb.path("x.cms").exists() && !sb.path("y.cms").exists());
}

#[test]
fn key_lifecycle() {
    let sb = Sandbox::new("lifecycle");
    sb.init();
    let k = sb.json(&[
        "key",
        "create",
        "--alias",
        "alias/orders",
        "--description",
        "order records",
        "--tag",
        "team=payments",
    ]);
    let id = k["key_id"].as_str().unwrap().to_owned();
    assert_eq!(k["key_spec"], "AES_256");
    assert_eq!(k["key_usage"], "ENCRYPT_DECRYPT");
    assert_eq!(k["key_state"]["state"], "Enabled");
    assert_eq!(k["aliases"][0], "alias/orders");
    assert_eq!(k["tags"]["team"], "payments");

    let d = sb.json(&["key", "describe", "alias/orders"]);
    assert_eq!(d["key_id"], id.as_str());
    assert_eq!(d["description"], "order records");
    let text = sb.ok(&["key", "describe", &id]);
    assert!(
        text.contains("order records") && text.contains("Enabled"),
        "{text}"
    );

    sb.json(&["key", "create", "--spec", "ECC_NIST_P256"]);
    let l = sb.json(&["key", "list"]);
    assert_eq!(l["keys"].as_array().unwrap().len(), 2);
    assert!(sb.ok(&["key", "list"]).contains("alias/orders"));

    let r = sb.json(&["key", "rotate", "alias/orders"]);
    assert_eq!(r["version"], 2);
    let d = sb.json(&["key", "describe", &id]);
    assert_eq!(d["primary_version"], 2);
    assert_eq!(d["versions"].as_array().unwrap().len(), 2);
    let d = sb.json(&["key", "rotate", &id, "--automatic-days", "90"]);
    assert_eq!(d["rotation_period_days"], 90);
    let d = sb.json(&["key", "rotate", &id, "--no-automatic"]);
    assert!(d["rotation_period_days"].is_null());

    let d = sb.json(&["key", "disable", "alias/orders"]);
    assert_eq!(d["key_state"]["state"], "Disabled");
    sb.ok(&["key", "enable", "alias/orders"]);

    let d = sb.json(&["key", "schedule-deletion", &id, "--days", "7"]);
    assert_eq!(d["key_state"]["state"], "PendingDeletion");
    assert!(d["key_state"]["deletion_date"].as_i64().unwrap() > 0);
    let err = sb.fails(&["key", "schedule-deletion", &id, "--days", "7"], 6);
    assert!(err.contains("already pending deletion"), "{err}");
    let d = sb.json(&["key", "cancel-deletion", &id]);
    assert_eq!(d["key_state"]["state"], "Disabled");
    let err = sb.fails(&["key", "cancel-deletion", &id], 6);
    assert!(err.contains("not pending deletion"), "{err}");
    sb.fails(&["key", "schedule-deletion", &id, "--days", "3"], 2);
    let d = sb.json(&["key", "enable", &id]);
    assert_eq!(d["key_state"]["state"], "Enabled");

    let err = sb.fails(&["key", "describe", "alias/nope"], 4);
    assert!(err.contains("alias/nope"), "{err}");
    sb.fails(&["key", "create", "--spec", "AES_128"], 2);
    sb.fails(
        &[
            "key",
            "create",
            "--spec",
            "AES_256",
            "--usage",
            "SIGN_VERIFY",
        ],
        6,
    );
    let err = sb.fails(&["key", "create", "--alias", "alias/orders"], 10);
    assert!(err.contains("alias/orders"), "{err}");
    sb.fails(&["key", "create", "--tag", "novalue"], 2);
}

#[test]
fn aliases() {
    let sb = Sandbox::new("alias");
    sb.init();
    let a = sb.json(&["key", "create"])["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = sb.json(&["key", "create"])["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = sb.json(&["key", "alias", "create", "alias/app", &a]);
    assert_eq!(v["key_id"], a.as_str());
    sb.fails(&["key", "alias", "create", "alias/app", &b], 10);
    sb.fails(&["key", "alias", "create", "not-an-alias", &b], 2);
    let v = sb.json(&["key", "alias", "update", "alias/app", &b]);
    assert_eq!(v["key_id"], b.as_str());
    let v = sb.json(&["key", "alias", "list"]);
    assert_eq!(v["aliases"][0]["alias"], "alias/app");
    assert_eq!(v["aliases"][0]["key_id"], b.as_str());
    sb.json(&["key", "alias", "delete", "alias/app"]);
    assert_eq!(
        sb.json(&["key", "alias", "list"])["aliases"],
        serde_json::json!([])
    );
    sb.fails(&["key", "alias", "delete", "alias/app"], 4);
    // The key is untouched.
    sb.json(&["key", "describe", &b]);
}

#[test]
fn sign_and_verify_with_openssl_as_the_independent_check() {
    let sb = Sandbox::new("sign");
    sb.init();
    std::fs::write(sb.path("msg.txt"), common::data(100_000)).unwrap();
    for (spec, alg, dgst_opts) in [
        ("ECC_NIST_P256", "ECDSA_SHA_256", &[][..]),
        ("ECC_NIST_P384", "ECDSA_SHA_384", &[][..]),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256", &[][..]),
        ("ECC_NIST_P521", "ECDSA_SHA_512", &[][..]),
        (
            "RSA_2048",
            "RSASSA_PSS_SHA_256",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ][..],
        ),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", &[][..]),
    ] {
        let alias = format!("alias/sig-{spec}-{alg}")
            .to_lowercase()
            .replace('_', "-");
        sb.json(&[
            "key",
            "create",
            "--spec",
            spec,
            "--usage",
            "SIGN_VERIFY",
            "--alias",
            &alias,
        ]);
        let sig = sb.path("msg.sig");
        let _ = std::fs::remove_file(&sig);
        let v = sb.json(&[
            "sign",
            "--key",
            &alias,
            "--algorithm",
            alg,
            "msg.txt",
            "-o",
            s(&sig),
        ]);
        assert_eq!(v["algorithm"], alg);
        // Without --algorithm the key's spec picks one; for RSA that is PSS.
        if alg != "RSASSA_PKCS1_V1_5_SHA_256" {
            sb.ok(&["verify", "--key", &alias, "--signature", s(&sig), "msg.txt"]);
        }
        // `verify --key ALIAS --algorithm ALG` then `rest`.
        let verify = |rest: &[&'static str]| {
            let head = ["verify", "--key", alias.as_str(), "--algorithm", alg];
            [&head[..], rest].concat()
        };
        let text = sb.ok(&[&verify(&["--signature"])[..], &[s(&sig), "msg.txt"]].concat());
        assert!(text.contains("valid"), "{text}");

        let pem = sb.path("pub.pem");
        let _ = std::fs::remove_file(&pem);
        sb.ok(&["key", "public-key", &alias, "-o", s(&pem)]);
        let hash = format!("-sha{}", &alg[alg.len() - 3..]);
        let mut args = vec![
            "dgst",
            hash.as_str(),
            "-verify",
            s(&pem),
            "-signature",
            s(&sig),
        ];
        args.extend_from_slice(dgst_opts);
        args.push("msg.txt");
        let mut c = Command::new("openssl");
        c.args(&args).current_dir(&sb.dir);
        let out = c.output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
            "openssl does not accept the {alg} signature: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // The base64 form of sign's output verifies too; a changed message
        // or signature gives exit 7 and says so.
        let b64 = sb.ok(&["sign", "--key", &alias, "--algorithm", alg, "msg.txt"]);
        sb.ok(&[
            &verify(&["--signature-base64"])[..],
            &[b64.trim(), "msg.txt"],
        ]
        .concat());
        std::fs::write(sb.path("other.txt"), b"another message").unwrap();
        let changed = [&verify(&["--signature"])[..], &[s(&sig), "other.txt"]].concat();
        let err = sb.fails(&changed, 7);
        assert!(err.contains("NOT valid"), "{err}");
        let out = sb.run(&[&["--json"][..], &changed].concat());
        assert_eq!(out.status.code(), Some(7));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["valid"], false);
        let e: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["error"]["code"], "VerificationFailed");
    }
    // An AES key cannot sign; ECDSA with an RSA key is refused.
    sb.json(&["key", "create", "--alias", "alias/aes"]);
    sb.fails(&["sign", "--key", "alias/aes", "msg.txt"], 6);
    ed25519_signs_the_file_itself(&sb);
    sb.fails(
        &[
            "sign",
            "--key",
            "alias/sig-rsa-2048-rsassa-pss-sha-256",
            "--algorithm",
            "ECDSA_SHA_256",
            "msg.txt",
        ],
        6,
    );
    sb.fails(
        &[
            "sign",
            "--key",
            "alias/aes",
            "--algorithm",
            "NOPE",
            "msg.txt",
        ],
        2,
    );
    sb.fails(&["verify", "--key", "alias/aes", "msg.txt"], 2);
}

#[test]
fn mac_generate_and_verify() {
    let sb = Sandbox::new("mac");
    sb.init();
    sb.json(&[
        "key",
        "create",
        "--spec",
        "HMAC_256",
        "--alias",
        "alias/hook",
    ]);
    std::fs::write(sb.path("payload.json"), br#"{"order":1234}"#).unwrap();
    let v = sb.json(&["mac", "--key", "alias/hook", "payload.json"]);
    assert_eq!(v["algorithm"], "HMAC_SHA_256");
    let mac = v["mac"].as_str().unwrap().to_owned();
    let out = sb.run_stdin(&["mac", "--key", "alias/hook"], br#"{"order":1234}"#);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        mac,
        "stdin gives the same MAC"
    );
    let verify = |mac| {
        [
            "mac",
            "--key",
            "alias/hook",
            "--verify",
            mac,
            "payload.json",
        ]
    };
    let v = sb.json(&verify(&mac));
    assert_eq!(v["valid"], true);

    std::fs::write(sb.path("payload.json"), br#"{"order":1235}"#).unwrap();
    let err = sb.fails(&verify(&mac), 7);
    assert!(err.contains("NOT valid"), "{err}");
    sb.fails(&verify("%%%"), 2);
    std::fs::write(sb.path("big"), vec![0u8; 4097]).unwrap();
    let err = sb.fails(&["mac", "--key", "alias/hook", "big"], 2);
    assert!(err.contains("4096"), "{err}");
    sb.fails(
        &[
            "mac",
            "--key",
            "alias/hook",
            "--algorithm",
            "HMAC_SHA_512",
            "payload.json",
        ],
        6,
    );
}

#[test]
fn import_and_public_key() {
    let sb = Sandbox::new("import");
    sb.init();
    // AES material, hex.
    let aes = sb.secret_file("aes.hex", "ab".repeat(32).as_bytes());
    let v = sb.json(&[
        "key",
        "import",
        "--spec",
        "AES_256",
        "--material",
        s(&aes),
        "--alias",
        "alias/byok",
    ]);
    assert_eq!(v["origin"], "EXTERNAL");
    std::fs::write(sb.path("p.txt"), b"imported key at work").unwrap();
    sb.ok(&["encrypt", "--key", "alias/byok", "p.txt", "-o", "p.sbx"]);
    sb.ok(&["decrypt", "p.sbx", "-o", "p.out"]);
    assert_eq!(
        std::fs::read(sb.path("p.out")).unwrap(),
        b"imported key at work"
    );

    // Loose permissions and wrong sizes are refused, and nothing is made.
    std::fs::set_permissions(&aes, std::fs::Permissions::from_mode(0o644)).unwrap();
    sb.fails(
        &["key", "import", "--spec", "AES_256", "--material", s(&aes)],
        9,
    );
    let short = sb.secret_file("short.key", &[1u8; 31]);
    sb.fails(
        &[
            "key",
            "import",
            "--spec",
            "AES_256",
            "--material",
            s(&short),
        ],
        9,
    );
    assert_eq!(
        sb.json(&["key", "list"])["keys"].as_array().unwrap().len(),
        1
    );

    // An EC key from OpenSSL (PKCS#8 PEM): the public key sealbox reports
    // is the one OpenSSL derives.
    let pem = sb.path("ec.pem");
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s(&pem),
    ]);
    std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o600)).unwrap();
    let v = sb.json(&[
        "key",
        "import",
        "--spec",
        "ECC_NIST_P256",
        "--material",
        s(&pem),
    ]);
    let id = v["key_id"].as_str().unwrap().to_owned();
    assert_eq!(v["key_usage"], "SIGN_VERIFY");
    let ours = sb.json(&["key", "public-key", &id])["public_key_pem"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = String::from_utf8(openssl_ok(["pkey", "-in", s(&pem), "-pubout"])).unwrap();
    assert_eq!(ours, theirs);
    let der = sb.path("pub.der");
    sb.ok(&["key", "public-key", &id, "--der", "-o", s(&der)]);
    let theirs_der = openssl_ok(["pkey", "-in", s(&pem), "-pubout", "-outform", "DER"]);
    assert_eq!(std::fs::read(&der).unwrap(), theirs_der);
    // -o refuses to replace a file unless --force.
    sb.fails(&["key", "public-key", &id, "--der", "-o", s(&der)], 10);
    sb.ok(&["key", "public-key", &id, "-o", s(&der), "--force"]);

    // A traditional (non-PKCS#8) PEM gets a hint on how to convert it.
    let trad = sb.path("ec-trad.pem");
    openssl_ok(["ec", "-in", s(&pem), "-out", s(&trad)]);
    std::fs::set_permissions(&trad, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = sb.fails(
        &[
            "key",
            "import",
            "--spec",
            "ECC_NIST_P256",
            "--material",
            s(&trad),
        ],
        9,
    );
    assert!(err.contains("pkcs8"), "{err}");

    // Symmetric keys have no public key.
    sb.fails(&["key", "public-key", "alias/byok"], 6);
}

/// Ed25519: the key signs the file itself (at most 4096 bytes; `--digest`
/// refused), the algorithm defaults from the spec, and OpenSSL verifies.
fn ed25519_signs_the_file_itself(sb: &Sandbox) {
    let alias = "alias/ed";
    sb.json(&[
        "key",
        "create",
        "--spec",
        "ECC_NIST_EDWARDS25519",
        "--alias",
        alias,
    ]);
    std::fs::write(sb.path("small.txt"), common::data(4096)).unwrap();
    let sig = sb.path("small.sig");
    let v = sb.json(&["sign", "--key", alias, "small.txt", "-o", s(&sig)]);
    assert_eq!(v["algorithm"], "ED25519_SHA_512");
    assert_eq!(std::fs::read(&sig).unwrap().len(), 64);
    sb.ok(&[
        "verify",
        "--key",
        alias,
        "--signature",
        s(&sig),
        "small.txt",
    ]);
    let pem = sb.path("ed.pem");
    sb.ok(&["key", "public-key", alias, "-o", s(&pem)]);
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", s(&pem), "-rawin"])
        .args(["-in", "small.txt", "-sigfile", s(&sig)])
        .current_dir(&sb.dir)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"),
        "openssl does not accept the Ed25519 signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(sb.path("other.txt"), b"another message").unwrap();
    sb.fails(
        &[
            "verify",
            "--key",
            alias,
            "--signature",
            s(&sig),
            "other.txt",
        ],
        7,
    );
    // Larger than AWS KMS's RAW bound, or given as a digest: usage errors.
    sb.fails(&["sign", "--key", alias, "msg.txt"], 2);
    sb.fails(&["sign", "--key", alias, "--digest", "small.txt"], 2);
}

/// derive-shared-secret: the secret OpenSSL derives on the other side,
/// from a PEM or a DER peer key, printed in base64 or written to a file.
#[test]
fn derive_shared_secret_agrees_with_openssl() {
    let sb = Sandbox::new("ecdh");
    sb.init();
    let alias = "alias/agree";
    let v = sb.json(&[
        "key",
        "create",
        "--spec",
        "ECC_NIST_P384",
        "--usage",
        "KEY_AGREEMENT",
        "--alias",
        alias,
    ]);
    assert_eq!(v["key_usage"], "KEY_AGREEMENT");
    let ours = sb.path("ours.pem");
    sb.ok(&["key", "public-key", alias, "-o", s(&ours)]);
    let path = |name: &str| sb.path(name).to_str().unwrap().to_owned();
    let (peer, peer_pem, peer_der) = (path("peer.pem"), path("peer.pub.pem"), path("peer.pub.der"));
    let curve = "ec_paramgen_curve:P-384";
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        curve,
        "-out",
        &peer,
    ]);
    openssl_ok(["pkey", "-in", &peer, "-pubout", "-out", &peer_pem]);
    openssl_ok([
        "pkey", "-in", &peer, "-pubout", "-outform", "DER", "-out", &peer_der,
    ]);
    let expected = openssl_ok(["pkeyutl", "-derive", "-inkey", &peer, "-peerkey", s(&ours)]);
    assert_eq!(expected.len(), 48);
    let v = sb.json(&[
        "derive-shared-secret",
        "--key",
        alias,
        "--public-key",
        "peer.pub.pem",
    ]);
    assert_eq!(v["key_agreement_algorithm"], "ECDH");
    let b64 = v["shared_secret"].as_str().unwrap();
    use base64::Engine as _;
    assert_eq!(
        b64,
        base64::engine::general_purpose::STANDARD.encode(&expected)
    );
    let out = sb.path("secret.bin");
    sb.json(&[
        "derive-shared-secret",
        "--key",
        alias,
        "--public-key",
        "peer.pub.der",
        "-o",
        s(&out),
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A P-256 peer, a file that is no key, a signing key: refused.
    let (p256, p256_pem) = (path("p256.pem"), path("p256.pub.pem"));
    let curve = "ec_paramgen_curve:P-256";
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        curve,
        "-out",
        &p256,
    ]);
    openssl_ok(["pkey", "-in", &p256, "-pubout", "-out", &p256_pem]);
    sb.fails(
        &[
            "derive-shared-secret",
            "--key",
            alias,
            "--public-key",
            "p256.pub.pem",
        ],
        2,
    );
    std::fs::write(sb.path("junk.txt"), "not a key").unwrap();
    sb.fails(
        &[
            "derive-shared-secret",
            "--key",
            alias,
            "--public-key",
            "junk.txt",
        ],
        2,
    );
    sb.json(&[
        "key",
        "create",
        "--spec",
        "ECC_NIST_P384",
        "--alias",
        "alias/signer",
    ]);
    sb.fails(
        &[
            "derive-shared-secret",
            "--key",
            "alias/signer",
            "--public-key",
            "peer.pub.pem",
        ],
        6,
    );
}
