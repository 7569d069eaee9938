//! `sealbox encrypt` / `decrypt`: key-store keys, raw AES, RSA and ECDH keys,
//! stdin/stdout, and that no partial output ever takes the final name.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::shared::openssl_ok;
use common::{data, raw_key, s, Sandbox};

#[test]
fn key_store_round_trip_survives_rotation_and_checks_the_context() {
    let (sb, _) = Sandbox::with_key("env-ks", "alias/orders");
    let plain = data(300_000);
    std::fs::write(sb.path("orders.csv"), &plain).unwrap();
    let v = sb.json(&[
        "encrypt",
        "--key",
        "alias/orders",
        "-c",
        "dept=billing",
        "-c",
        "year=2026",
        "orders.csv",
        "-o",
        "orders.sbx",
    ]);
    assert_eq!(v["plaintext_bytes"], 300_000);
    assert_eq!(v["suite"], "0x0478");
    assert_eq!(v["encryption_context"]["dept"], "billing");
    let ct = std::fs::read(sb.path("orders.sbx")).unwrap();
    assert_eq!(ct.len() as u64, v["ciphertext_bytes"].as_u64().unwrap());
    assert_eq!(
        &ct[..3],
        &[0x02, 0x04, 0x78],
        "message version 2, suite 0x0478"
    );

    // Rotate, then the old file still decrypts (key found from the message).
    sb.json(&["key", "rotate", "alias/orders"]);
    let v = sb.json(&[
        "decrypt",
        "-c",
        "dept=billing",
        "orders.sbx",
        "-o",
        "orders.out",
    ]);
    assert_eq!(v["plaintext_bytes"], 300_000);
    assert_eq!(v["encryption_context"]["year"], "2026");
    assert_eq!(std::fs::read(sb.path("orders.out")).unwrap(), plain);
    let m = std::fs::metadata(sb.path("orders.out"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(m & 0o777, 0o600, "plaintext is private");

    // `CMD --key KEY INPUT -o OUTPUT`
    let keyed = |cmd: &'static str, key, input, output| [cmd, "--key", key, input, "-o", output];
    // Naming the key works; a wrong context or another key fails with exit
    // 3 and leaves no file.
    sb.ok(&keyed("decrypt", "alias/orders", "orders.sbx", "named.out"));
    let err = sb.fails(
        &["decrypt", "-c", "dept=hr", "orders.sbx", "-o", "x.out"],
        3,
    );
    assert!(err.contains("decryption failed"), "{err}");
    sb.json(&["key", "create", "--alias", "alias/other"]);
    sb.fails(&keyed("decrypt", "alias/other", "orders.sbx", "x.out"), 3);
    assert!(!sb.path("x.out").exists());
    assert!(sb.files_containing("sealbox-partial").is_empty());

    // A disabled key: encrypt says so (5); decrypt fails opaquely (3).
    sb.ok(&["key", "disable", "alias/orders"]);
    let err = sb.fails(&keyed("encrypt", "alias/orders", "orders.csv", "y.sbx"), 5);
    assert!(err.contains("disabled"), "{err}");
    sb.fails(&["decrypt", "orders.sbx", "-o", "y.out"], 3);
    assert!(!sb.path("y.sbx").exists() && !sb.path("y.out").exists());
    let tail = sb.ok(&["audit", "tail", "-n", "3"]);
    assert!(
        tail.contains("is disabled"),
        "the audit trail has the reason:\n{tail}"
    );
    sb.ok(&["key", "enable", "alias/orders"]);

    // Unknown key: 4, before any output exists. Existing output: 10.
    sb.fails(&keyed("encrypt", "alias/nope", "orders.csv", "z.sbx"), 4);
    assert!(!sb.path("z.sbx").exists());
    let overwrite = keyed("encrypt", "alias/orders", "orders.csv", "orders.sbx");
    let err = sb.fails(&overwrite, 10);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read(sb.path("orders.sbx")).unwrap(),
        ct,
        "untouched"
    );
    sb.ok(&[&overwrite[..], &["--force"]].concat());
    assert_ne!(std::fs::read(sb.path("orders.sbx")).unwrap(), ct);
}

#[test]
fn stdin_to_stdout_and_the_signed_suite() {
    let (sb, _) = Sandbox::with_key("env-pipe", "alias/pipe");
    let plain = data(70_000);
    let out = sb.run_stdin(
        &[
            "encrypt",
            "--key",
            "alias/pipe",
            "--suite",
            "0x0578",
            "-o",
            "-",
            "--frame-length",
            "1024",
        ],
        &plain,
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let ct = out.stdout;
    assert_eq!(&ct[..3], &[0x02, 0x05, 0x78]);
    let out = sb.run_stdin(&["decrypt"], &ct);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(out.stdout, plain);
    // With --json and data on stdout, the summary goes to stderr.
    let out = sb.run_stdin(&["--json", "decrypt", "-o", "-"], &ct);
    assert_eq!(out.stdout, plain);
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["suite"], "0x0578");
    assert!(v["encryption_context"]["aws-crypto-public-key"].is_string());

    // Truncated: exit 3; stdout saw at most the frames before the cut.
    let out = sb.run_stdin(&["decrypt"], &ct[..ct.len() - 10]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.len() < plain.len());
}

/// `--threads 1` and `--threads 2` write messages of the same length
/// (the same frames, sealed on one thread or two) that each decrypt with
/// the other count, for both suites and a file of several batches;
/// `--threads 0` is a usage error.
#[test]
fn threads_one_and_two_write_and_read_the_same_frames() {
    let sb = Sandbox::new("env-threads");
    let key = sb.secret_file("aes.key", &[0x24; 32]);
    let raw = raw_key("--raw-aes-key", &key, "acme", "threads");
    let plain = data(9 * 1024 * 1024 + 4321);
    std::fs::write(sb.path("big.bin"), &plain).unwrap();
    for suite in ["0x0478", "0x0578"] {
        let mut lens = Vec::new();
        for t in ["1", "2"] {
            let out = format!("big-{suite}-{t}.sbx");
            sb.ok(&[
                &[
                    "encrypt",
                    "--suite",
                    suite,
                    "--threads",
                    t,
                    "big.bin",
                    "-o",
                    &out,
                ][..],
                &raw,
            ]
            .concat());
            lens.push(std::fs::metadata(sb.path(&out)).unwrap().len());
            let other = if t == "1" { "2" } else { "1" };
            let back = format!("big-{suite}-{t}.out");
            sb.ok(&[
                &["decrypt", "--threads", other, &out, "-o", &back][..],
                &raw,
            ]
            .concat());
            assert!(
                std::fs::read(sb.path(&back)).unwrap() == plain,
                "{suite} threads {t}"
            );
        }
        assert_eq!(lens[0], lens[1], "{suite}");
    }
    sb.fails(
        &[
            &["encrypt", "--threads", "0", "big.bin", "-o", "z.sbx"][..],
            &raw,
        ]
        .concat(),
        2,
    );
    assert!(!sb.path("z.sbx").exists());
}

#[test]
fn raw_aes_key_without_a_key_store() {
    let sb = Sandbox::new("env-aes");
    let key = sb.secret_file("aes.key", &[0x42; 32]);
    std::fs::write(sb.path("in.bin"), data(10_000)).unwrap();
    let raw = raw_key("--raw-aes-key", &key, "acme", "2026");
    sb.ok(&[&["encrypt", "in.bin", "-o", "in.sbx"][..], &raw].concat());
    sb.ok(&[&["decrypt", "in.sbx", "-o", "in.out"][..], &raw].concat());
    assert_eq!(std::fs::read(sb.path("in.out")).unwrap(), data(10_000));
    assert!(!sb.store().exists(), "raw keys need no key store");

    // The wrong key, or the right key under another name: exit 3.
    let wrong = sb.secret_file("wrong.key", &[0x43; 32]);
    for (k, name) in [(&wrong, "2026"), (&key, "2025")] {
        let raw = raw_key("--raw-aes-key", k, "acme", name);
        sb.fails(
            &[&["decrypt", "in.sbx", "-o", "w.out"][..], &raw].concat(),
            3,
        );
    }
    assert!(!sb.path("w.out").exists());
    // Hex and base64 key files are the same key.
    let hex = sb.secret_file("aes.hex", format!("{}\n", "42".repeat(32)).as_bytes());
    let raw = raw_key("--raw-aes-key", &hex, "acme", "2026");
    sb.ok(&[&["decrypt", "in.sbx", "-o", "h.out"][..], &raw].concat());
    // Bad key files: clear message, exit 9.
    let short = sb.secret_file("short.key", &[1; 20]);
    let encrypt_with = |k: &Path, extra: &[&str], code: i32| {
        let args = [&["encrypt", "in.bin", "-o", "s.sbx"][..], extra].concat();
        sb.fails(
            &[&args[..], &raw_key("--raw-aes-key", k, "a", "b")].concat(),
            code,
        )
    };
    let err = encrypt_with(&short, &[], 9);
    assert!(err.contains("16, 24, 32"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = encrypt_with(&key, &[], 9);
    assert!(err.contains("chmod 600"), "{err}");
    // Usage errors: a raw key without names, names without a key, no key.
    sb.fails(
        &["encrypt", "in.bin", "-o", "s.sbx", "--raw-aes-key", s(&hex)],
        2,
    );
    let names = ["--key-namespace", "a", "--key-name", "b"];
    sb.fails(
        &[&["encrypt", "in.bin", "-o", "s.sbx"][..], &names].concat(),
        2,
    );
    let err = sb.fails(&["decrypt", "in.sbx", "-o", "s.out"], 9);
    assert!(err.contains("sealbox init"), "{err}");
    encrypt_with(&hex, &["-c", "nopair"], 2);
    encrypt_with(&hex, &["--suite", "0x9999"], 2);
    let raw = raw_key("--raw-aes-key", &hex, "a", "b");
    sb.fails(
        &[&["encrypt", "missing.bin", "-o", "s.sbx"][..], &raw].concat(),
        1,
    );
    assert!(!sb.path("s.sbx").exists());
}

#[test]
fn raw_rsa_keys_and_a_key_store_key_together() {
    let (sb, _) = Sandbox::with_key("env-rsa", "alias/main");
    let private = sb.path("rsa.pem");
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            s(&private),
        ])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = sb.path("rsa.pub.pem");
    let out = Command::new("openssl")
        .args(["pkey", "-in", s(&private), "-pubout", "-out", s(&public)])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(sb.path("doc.txt"), b"recoverable document").unwrap();
    // Key-store key first (makes the data key), RSA recovery key second.
    let public_key = raw_key("--raw-rsa-public-key", &public, "recovery", "rsa-2026");
    let to = ["doc.txt", "-o", "doc.sbx"];
    sb.ok(&[&["encrypt", "--key", "alias/main"][..], &public_key, &to].concat());
    // Either one alone decrypts.
    sb.ok(&["decrypt", "doc.sbx", "-o", "a.txt"]);
    let private_key = raw_key("--raw-rsa-private-key", &private, "recovery", "rsa-2026");
    sb.ok(&[&["decrypt"][..], &private_key, &["doc.sbx", "-o", "b.txt"]].concat());
    for out in ["a.txt", "b.txt"] {
        assert_eq!(
            std::fs::read(sb.path(out)).unwrap(),
            b"recoverable document"
        );
    }
    // The wrong padding cannot unwrap it.
    for (padding, code) in [("OAEP_SHA1_MGF1", 3), ("NOPE", 2)] {
        let padding = ["--rsa-padding", padding, "doc.sbx", "-o", "c.txt"];
        sb.fails(&[&["decrypt"][..], &private_key, &padding].concat(), code);
    }
    assert!(!sb.path("c.txt").exists());
}

#[test]
fn raw_ecdh_keys_from_openssl() {
    let sb = Sandbox::new("env-ecdh");
    // Bob: OpenSSL's `EC PRIVATE KEY` PEM (after its EC PARAMETERS block)
    // on P-384; Alice: PKCS#8 PEM; Carol: a bystander.
    let bob = sb.path("bob.pem");
    openssl_ok(["ecparam", "-genkey", "-name", "secp384r1", "-out", s(&bob)]);
    let alice = sb.path("alice.pem");
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        s(&alice),
    ]);
    let carol = sb.path("carol.der");
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-outform",
        "DER",
        "-out",
        s(&carol),
    ]);
    for k in [&bob, &alice, &carol] {
        std::fs::set_permissions(k, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let bob_pub = sb.path("bob.pub.der");
    openssl_ok([
        "pkey",
        "-in",
        s(&bob),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        s(&bob_pub),
    ]);
    let alice_pub = sb.path("alice.pub.pem");
    openssl_ok(["pkey", "-in", s(&alice), "-pubout", "-out", s(&alice_pub)]);
    std::fs::write(sb.path("in.bin"), data(70_000)).unwrap();
    let private = |k: &Path| ["--raw-ecdh-private-key".to_owned(), s(k).to_owned()];
    let public = |k: &Path| ["--raw-ecdh-public-key".to_owned(), s(k).to_owned()];
    let run = |args: Vec<String>, code: i32| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if code == 0 {
            sb.ok(&args);
        } else {
            sb.fails(&args, code);
        }
    };
    let cmd = |verb: &str, file: &str, out: &str, keys: &[[String; 2]]| {
        let mut v = vec![
            verb.to_owned(),
            file.to_owned(),
            "-o".into(),
            out.into(),
            "--force".into(),
        ];
        v.extend(keys.iter().flatten().cloned());
        v
    };
    // An ephemeral sender key to Bob: only Bob's private key reads it.
    run(cmd("encrypt", "in.bin", "eph.sbx", &[public(&bob_pub)]), 0);
    run(cmd("decrypt", "eph.sbx", "eph.out", &[private(&bob)]), 0);
    assert_eq!(std::fs::read(sb.path("eph.out")).unwrap(), data(70_000));
    run(cmd("decrypt", "eph.sbx", "x.out", &[private(&carol)]), 3);
    // Alice's static key to Bob: Bob reads it, and so does Alice with her
    // key and Bob's public key (and Bob with his key and Alice's).
    run(
        cmd(
            "encrypt",
            "in.bin",
            "static.sbx",
            &[private(&alice), public(&bob_pub)],
        ),
        0,
    );
    for keys in [
        vec![private(&bob)],
        vec![private(&alice), public(&bob_pub)],
        vec![private(&bob), public(&alice_pub)],
    ] {
        run(cmd("decrypt", "static.sbx", "s.out", &keys), 0);
        assert_eq!(std::fs::read(sb.path("s.out")).unwrap(), data(70_000));
    }
    run(cmd("decrypt", "static.sbx", "x.out", &[private(&alice)]), 3);
    run(
        cmd(
            "decrypt",
            "static.sbx",
            "x.out",
            &[private(&carol), public(&bob_pub)],
        ),
        3,
    );
    assert!(!sb.path("x.out").exists());
    // Rewrap to Carol (ephemeral): her key now reads it, Bob's no longer.
    let carol_pub = sb.path("carol.pub.pem");
    openssl_ok([
        "pkey",
        "-inform",
        "DER",
        "-in",
        s(&carol),
        "-pubout",
        "-out",
        s(&carol_pub),
    ]);
    let mut rewrap = cmd("rewrap", "static.sbx", "carol.sbx", &[private(&bob)]);
    rewrap.extend(["--to-raw-ecdh-public-key".into(), s(&carol_pub).into()]);
    run(rewrap, 0);
    run(cmd("decrypt", "carol.sbx", "c.out", &[private(&carol)]), 0);
    assert_eq!(std::fs::read(sb.path("c.out")).unwrap(), data(70_000));
    run(cmd("decrypt", "carol.sbx", "x.out", &[private(&bob)]), 3);
    // Keys of different curves, an RSA key, a P-384 key with a P-256 peer,
    // or a raw ECDH key beside a raw AES key: clear errors.
    let p256 = sb.path("p256.pub.pem");
    let p256_key = sb.path("p256.pem");
    openssl_ok([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s(&p256_key),
    ]);
    openssl_ok(["pkey", "-in", s(&p256_key), "-pubout", "-out", s(&p256)]);
    run(
        cmd(
            "encrypt",
            "in.bin",
            "y.sbx",
            &[private(&alice), public(&p256)],
        ),
        9,
    );
    let rsa = sb.path("rsa.pem");
    let rsa_key = sb.path("rsa.key.pem");
    openssl_ok([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        s(&rsa_key),
    ]);
    openssl_ok(["pkey", "-in", s(&rsa_key), "-pubout", "-out", s(&rsa)]);
    let err = sb.fails(
        &[
            "encrypt",
            "in.bin",
            "-o",
            "y.sbx",
            "--raw-ecdh-public-key",
            s(&rsa),
        ],
        9,
    );
    assert!(err.contains("P-256, P-384 or P-521"), "{err}");
    // A private key alone does not encrypt, a public key alone does not
    // decrypt, raw ECDH keys have no names: usage errors.
    run(cmd("encrypt", "in.bin", "y.sbx", &[private(&alice)]), 2);
    run(cmd("decrypt", "eph.sbx", "x.out", &[public(&bob_pub)]), 2);
    let mut named = cmd("encrypt", "in.bin", "y.sbx", &[public(&bob_pub)]);
    named.extend([
        "--key-namespace".into(),
        "a".into(),
        "--key-name".into(),
        "b".into(),
    ]);
    run(named, 2);
    let aes = sb.secret_file("aes.key", &[7; 32]);
    let mut both = cmd("encrypt", "in.bin", "y.sbx", &[public(&bob_pub)]);
    both.extend(raw_key("--raw-aes-key", &aes, "a", "b").map(str::to_owned));
    run(both, 2);
    assert!(!sb.path("y.sbx").exists());
}

#[test]
fn post_quantum_keys_beside_a_key_store_key() {
    let (sb, _) = Sandbox::with_key("env-pq", "alias/main");
    let v = sb.json(&[
        "pq-keygen",
        "--private-key",
        "pq.key",
        "--public-key",
        "pq.pub",
        "--json",
    ]);
    assert_eq!(v["key_id"].as_str().unwrap().len(), 64);
    let mode = std::fs::metadata(sb.path("pq.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read(sb.path("pq.key")).unwrap().len(), 32);
    assert_eq!(std::fs::read(sb.path("pq.pub")).unwrap().len(), 1216);
    let err = sb.fails(
        &[
            "pq-keygen",
            "--private-key",
            "pq.key",
            "--public-key",
            "pq.pub",
        ],
        10,
    );
    assert!(err.contains("--force"), "{err}");
    // Neither file is written when one of them exists.
    let err = sb.fails(
        &[
            "pq-keygen",
            "--private-key",
            "new.key",
            "--public-key",
            "pq.pub",
        ],
        10,
    );
    assert!(err.contains("pq.pub exists"), "{err}");
    assert!(!sb.path("new.key").exists());
    // The same file for both, or stdout, is refused: the private key
    // would be lost or printed.
    sb.fails(
        &[
            "pq-keygen",
            "--private-key",
            "one",
            "--public-key",
            "one",
            "--force",
        ],
        2,
    );
    sb.fails(
        &["pq-keygen", "--private-key", "-", "--public-key", "p.pub"],
        2,
    );
    assert!(!sb.path("one").exists() && !sb.path("p.pub").exists());
    sb.ok(&[
        "pq-keygen",
        "--private-key",
        "b64.key",
        "--public-key",
        "b64.pub",
        "--base64",
    ]);
    std::fs::write(sb.path("doc.txt"), data(100_000)).unwrap();
    // The key-store key makes the data key; the PQ key wraps it as well.
    sb.ok(&[
        "encrypt",
        "--key",
        "alias/main",
        "--pq-public-key",
        "pq.pub",
        "doc.txt",
        "-o",
        "doc.sbx",
    ]);
    sb.ok(&["decrypt", "doc.sbx", "-o", "a.txt"]);
    sb.ok(&[
        "decrypt",
        "--pq-private-key",
        "pq.key",
        "doc.sbx",
        "-o",
        "b.txt",
    ]);
    for f in ["a.txt", "b.txt"] {
        assert_eq!(std::fs::read(sb.path(f)).unwrap(), data(100_000));
    }
    // Another PQ key cannot; a public key cannot decrypt.
    sb.fails(
        &[
            "decrypt",
            "--pq-private-key",
            "b64.key",
            "doc.sbx",
            "-o",
            "x.txt",
        ],
        3,
    );
    sb.fails(
        &[
            "decrypt",
            "--pq-public-key",
            "pq.pub",
            "doc.sbx",
            "-o",
            "x.txt",
        ],
        3,
    );
    assert!(!sb.path("x.txt").exists());
    // Rewrap to the other (base64) PQ key alone: only it opens the result.
    sb.ok(&[
        "rewrap",
        "doc.sbx",
        "-o",
        "moved.sbx",
        "--to-pq-public-key",
        "b64.pub",
    ]);
    sb.ok(&[
        "decrypt",
        "--pq-private-key",
        "b64.key",
        "moved.sbx",
        "-o",
        "c.txt",
    ]);
    assert_eq!(std::fs::read(sb.path("c.txt")).unwrap(), data(100_000));
    sb.fails(
        &[
            "decrypt",
            "--pq-private-key",
            "pq.key",
            "moved.sbx",
            "-o",
            "x.txt",
        ],
        3,
    );
    sb.fails(&["decrypt", "moved.sbx", "-o", "x.txt"], 3);
    // Bad key files: a short public key, a world-readable private key.
    std::fs::write(sb.path("short.pub"), [1u8; 100]).unwrap();
    let err = sb.fails(
        &[
            "encrypt",
            "--pq-public-key",
            "short.pub",
            "doc.txt",
            "-o",
            "y.sbx",
        ],
        9,
    );
    assert!(err.contains("1216"), "{err}");
    std::fs::set_permissions(sb.path("pq.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = sb.fails(
        &[
            "decrypt",
            "--pq-private-key",
            "pq.key",
            "doc.sbx",
            "-o",
            "x.txt",
        ],
        9,
    );
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!sb.path("y.sbx").exists() && !sb.path("x.txt").exists());
}

/// A multi-frame message whose last frame is damaged: the earlier frames
/// authenticate, but the output file must never appear.
#[test]
fn failed_decrypt_leaves_no_output() {
    let sb = Sandbox::new("env-tamper");
    let key = sb.secret_file("aes.key", &[0x11; 32]);
    let raw = raw_key("--raw-aes-key", &key, "n", "k");
    std::fs::write(sb.path("big.bin"), data(1 << 20)).unwrap();
    sb.ok(&[&["encrypt", "big.bin", "-o", "big.sbx"][..], &raw].concat());
    let mut ct = std::fs::read(sb.path("big.sbx")).unwrap();
    let n = ct.len();
    ct[n - 20] ^= 1;
    std::fs::write(sb.path("bad.sbx"), &ct).unwrap();
    std::fs::write(sb.path("short.sbx"), &ct[..n / 2]).unwrap();
    for input in ["bad.sbx", "short.sbx"] {
        sb.fails(
            &[&["decrypt", input, "-o", "big.out"][..], &raw].concat(),
            3,
        );
        assert!(
            !sb.path("big.out").exists(),
            "{input}: no output under the final name"
        );
        assert!(
            sb.files_containing("sealbox-partial").is_empty(),
            "{input}: no temp file"
        );
    }
}

/// Starts `sealbox encrypt` reading a slow stdin, waits until its partial
/// file exists (so it is mid-stream), and returns the child.
fn encrypt_mid_stream(sb: &Sandbox, out: &str) -> (std::process::Child, std::process::ChildStdin) {
    let key = sb.secret_file(&format!("{out}.key"), &[0x22; 32]);
    let raw = raw_key("--raw-aes-key", &key, "n", "k");
    let mut child = sb.spawn(&[&["encrypt", "-o", out][..], &raw].concat(), Stdio::null());
    let mut stdin = child.stdin.take().unwrap();
    let chunk = data(256 * 1024);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        stdin.write_all(&chunk).unwrap();
        if !sb
            .files_containing(&format!(".{out}.sealbox-partial"))
            .is_empty()
        {
            // Some ciphertext is in the partial file.
            let f = &sb.files_containing(&format!(".{out}.sealbox-partial"))[0];
            if std::fs::metadata(sb.path(f)).map(|m| m.len()).unwrap_or(0) > 0 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "no partial file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, stdin)
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn interrupted_encrypt_never_leaves_output_under_the_final_name() {
    use std::os::unix::process::ExitStatusExt;
    let sb = Sandbox::new("env-signal");

    // SIGTERM (and SIGINT): the partial file is removed, exit 128 + signal.
    for (sig, num, out) in [("-TERM", 15, "term.sbx"), ("-INT", 2, "int.sbx")] {
        let (mut child, stdin) = encrypt_mid_stream(&sb, out);
        signal(child.id(), sig);
        let status = child.wait().unwrap();
        drop(stdin);
        assert_eq!(status.code(), Some(128 + num), "{sig}: {status:?}");
        assert!(!sb.path(out).exists(), "{sig}: final name exists");
        assert!(
            sb.files_containing(&format!(".{out}.sealbox-partial"))
                .is_empty(),
            "{sig}: partial file left"
        );
    }

    // SIGKILL cannot be caught: a partial file may stay, the final name
    // never appears.
    let (mut child, stdin) = encrypt_mid_stream(&sb, "kill.sbx");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.signal(), Some(9));
    assert!(!sb.path("kill.sbx").exists());

    // Closing stdin normally completes the message.
    let (mut child, stdin) = encrypt_mid_stream(&sb, "done.sbx");
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(sb.path("done.sbx").exists());
    assert!(sb.files_containing(".done.sbx.sealbox-partial").is_empty());
}

/// Streaming in constant memory: after 64 MiB went through, the peak
/// resident size of the process is still a small fraction of that.
#[test]
fn encrypt_streams_in_constant_memory() {
    let sb = Sandbox::new("env-memory");
    let key = sb.secret_file("aes.key", &[0x33; 32]);
    let raw = raw_key("--raw-aes-key", &key, "n", "k");
    let mut child = sb.spawn(
        &[&["encrypt", "-o", "mem.sbx"][..], &raw].concat(),
        Stdio::inherit(),
    );
    let mut stdin = child.stdin.take().unwrap();
    let chunk = data(1 << 20);
    for _ in 0..64 {
        stdin.write_all(&chunk).unwrap();
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(std::fs::metadata(sb.path("mem.sbx")).unwrap().len() > 64 << 20);
    assert!(
        peak_kib < 24 * 1024,
        "peak RSS {peak_kib} KiB after 64 MiB of input"
    );
}
