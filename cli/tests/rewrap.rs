//! `sealbox rewrap`: new encrypted data keys, the body copied unchanged,
//! to another file or in place, and nothing changed on a failure.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{data, s, Sandbox};

fn header_lens(v: &serde_json::Value) -> (usize, usize) {
    let h = v["header_bytes"].as_array().unwrap();
    (
        h[0].as_u64().unwrap() as usize,
        h[1].as_u64().unwrap() as usize,
    )
}

#[test]
fn to_another_key_in_place_and_refusals() {
    let (sb, _) = Sandbox::with_key("rewrap-ks", "alias/orders");
    sb.json(&["key", "create", "--alias", "alias/archive"]);
    let plain = data(300_000);
    std::fs::write(sb.path("orders.csv"), &plain).unwrap();
    sb.json(&[
        "encrypt",
        "--key",
        "alias/orders",
        "-c",
        "dept=billing",
        "orders.csv",
        "-o",
        "orders.sbx",
    ]);
    let ct = std::fs::read(sb.path("orders.sbx")).unwrap();

    // To another file, under another key.
    let v = sb.json(&[
        "rewrap",
        "--to-key",
        "alias/archive",
        "orders.sbx",
        "-o",
        "archived.sbx",
    ]);
    assert_eq!(v["encrypted_data_keys"], 1);
    assert_eq!(v["resigned"], false);
    assert_eq!(v["bytes_in"].as_u64().unwrap(), ct.len() as u64);
    let re = std::fs::read(sb.path("archived.sbx")).unwrap();
    let (old_h, new_h) = header_lens(&v);
    assert_eq!(ct[old_h..], re[new_h..], "the body is copied unchanged");
    sb.ok(&[
        "decrypt",
        "--key",
        "alias/archive",
        "archived.sbx",
        "-o",
        "a.out",
    ]);
    assert_eq!(std::fs::read(sb.path("a.out")).unwrap(), plain);
    sb.fails(
        &[
            "decrypt",
            "--key",
            "alias/orders",
            "archived.sbx",
            "-o",
            "b.out",
        ],
        3,
    );
    // Without key options the store finds the key.
    sb.ok(&[
        "decrypt",
        "-c",
        "dept=billing",
        "archived.sbx",
        "-o",
        "c.out",
    ]);

    // Refusals: a wrong context, a truncated message; the input stays, no
    // output and no partial file.
    std::fs::set_permissions(
        sb.path("orders.sbx"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    sb.fails(
        &[
            "rewrap",
            "-c",
            "dept=hr",
            "--to-key",
            "alias/archive",
            "--in-place",
            "orders.sbx",
        ],
        3,
    );
    std::fs::write(sb.path("cut.sbx"), &ct[..ct.len() - 7]).unwrap();
    sb.fails(
        &[
            "rewrap",
            "--to-key",
            "alias/archive",
            "cut.sbx",
            "-o",
            "cut.out",
        ],
        3,
    );
    assert!(!sb.path("cut.out").exists());
    let err = sb.fails(&["rewrap", "orders.sbx", "-o", "x.sbx"], 2);
    assert!(err.contains("--to-key"), "{err}");
    sb.fails(
        &[
            "rewrap",
            "--to-key",
            "alias/nope",
            "orders.sbx",
            "-o",
            "x.sbx",
        ],
        4,
    );
    assert_eq!(std::fs::read(sb.path("orders.sbx")).unwrap(), ct);
    assert!(sb.files_containing("sealbox-partial").is_empty());

    // In place: same name, same permissions, the new key.
    let v = sb.json(&[
        "rewrap",
        "--to-key",
        "alias/archive",
        "--in-place",
        "orders.sbx",
    ]);
    assert_eq!(v["output"], "orders.sbx");
    let mode = std::fs::metadata(sb.path("orders.sbx"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    sb.ok(&[
        "decrypt",
        "--key",
        "alias/archive",
        "orders.sbx",
        "-o",
        "d.out",
    ]);
    assert_eq!(std::fs::read(sb.path("d.out")).unwrap(), plain);
    sb.fails(
        &[
            "decrypt",
            "--key",
            "alias/orders",
            "orders.sbx",
            "-o",
            "e.out",
        ],
        3,
    );

    // A disabled source key: refused (the key store says why in the trail).
    sb.ok(&["key", "disable", "alias/archive"]);
    sb.fails(
        &[
            "rewrap",
            "--to-key",
            "alias/orders",
            "--in-place",
            "orders.sbx",
        ],
        3,
    );
    sb.ok(&["audit", "verify"]);
}

#[test]
fn signed_suite_stdin_and_raw_keys() {
    let (sb, _) = Sandbox::with_key("rewrap-raw", "alias/pipe");
    let plain = data(70_000);
    let out = sb.run_stdin(
        &[
            "encrypt",
            "--key",
            "alias/pipe",
            "--suite",
            "0x0578",
            "--frame-length",
            "1024",
            "-o",
            "-",
        ],
        &plain,
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let aes = sb.secret_file("aes.key", &[7u8; 32]);
    // stdin to stdout, to a raw AES key and the store key both.
    let out = sb.run_stdin(
        &[
            "rewrap",
            "--to-key",
            "alias/pipe",
            "--to-raw-aes-key",
            s(&aes),
            "--to-key-namespace",
            "acme",
            "--to-key-name",
            "k1",
            "-o",
            "-",
        ],
        &out.stdout,
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let re = out.stdout;
    assert_eq!(&re[..3], &[0x02, 0x05, 0x78]);
    std::fs::write(sb.path("re.sbx"), &re).unwrap();
    let raw = [
        "--raw-aes-key",
        s(&aes),
        "--key-namespace",
        "acme",
        "--key-name",
        "k1",
    ];
    sb.ok(&[&["decrypt"][..], &raw, &["re.sbx", "-o", "r.out"]].concat());
    assert_eq!(std::fs::read(sb.path("r.out")).unwrap(), plain);
    sb.ok(&["decrypt", "re.sbx", "-o", "k.out"]);
    // From the raw key only, dropping the store key: signed again.
    let v = sb.json(
        &[
            &["rewrap"][..],
            &raw,
            &[
                "--to-raw-aes-key",
                s(&aes),
                "--to-key-namespace",
                "acme",
                "--to-key-name",
                "k1",
            ],
            &["re.sbx", "-o", "raw-only.sbx"],
        ]
        .concat(),
    );
    assert_eq!(v["resigned"], true);
    assert_eq!(v["encrypted_data_keys"], 1);
    sb.fails(&["decrypt", "raw-only.sbx", "-o", "n.out"], 3);
    sb.ok(&[&["decrypt"][..], &raw, &["raw-only.sbx", "-o", "m.out"]].concat());
    assert_eq!(std::fs::read(sb.path("m.out")).unwrap(), plain);
    // A flipped byte in a frame of a signed message: its old signature
    // fails, nothing is written.
    let mut bad = re.clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    std::fs::write(sb.path("bad.sbx"), &bad).unwrap();
    sb.fails(
        &[
            &["rewrap"][..],
            &raw,
            &["--to-key", "alias/pipe", "bad.sbx", "-o", "bad.out"],
        ]
        .concat(),
        3,
    );
    assert!(!sb.path("bad.out").exists());
}

/// `--in-place` on an unsigned message whose header keeps its length: only
/// the header is replaced, through a journal; a journal left by a crash is
/// finished or undone by the next in-place rewrap.
#[test]
fn in_place_header_only_and_crash_recovery() {
    let (sb, _) = Sandbox::with_key("rewrap-journal", "alias/a");
    sb.json(&["key", "create", "--alias", "alias/b"]);
    let plain = data(200_000);
    std::fs::write(sb.path("p"), &plain).unwrap();
    sb.json(&["encrypt", "--key", "alias/a", "p", "-o", "f.sbx"]);
    let original = std::fs::read(sb.path("f.sbx")).unwrap();

    // The new header, as a rewrap to another file makes it (same message
    // ID, same length for the same kind of key).
    let v = sb.json(&["rewrap", "--to-key", "alias/b", "f.sbx", "-o", "g.sbx"]);
    let (old_h, new_h) = header_lens(&v);
    assert_eq!(old_h, new_h);
    let g = std::fs::read(sb.path("g.sbx")).unwrap();
    let (old, new) = (&original[..old_h], &g[..new_h]);
    let journal = sb.path(".f.sbx.sealbox-rewrap-journal");
    let write_journal = || {
        let mut j = b"sealbox rewrap journal v1\n".to_vec();
        j.extend_from_slice(&(old_h as u64).to_be_bytes());
        j.extend_from_slice(old);
        j.extend_from_slice(new);
        std::fs::write(&journal, j).unwrap();
    };

    // A crash in the middle of the header write: half new, half old.
    let mut torn = original.clone();
    torn[..old_h / 2].copy_from_slice(&new[..old_h / 2]);
    std::fs::write(sb.path("f.sbx"), &torn).unwrap();
    write_journal();
    sb.fails(&["decrypt", "f.sbx", "-o", "x.out"], 3);
    let v = sb.json(&["rewrap", "--to-key", "alias/b", "--in-place", "f.sbx"]);
    assert_eq!(v["recovered"], "put the old header back");
    assert_eq!(v["mode"], "header in place");
    assert!(!journal.exists());
    let now = std::fs::read(sb.path("f.sbx")).unwrap();
    assert_eq!(now[old_h..], original[old_h..], "the body is untouched");
    sb.ok(&["decrypt", "--key", "alias/b", "f.sbx", "-o", "y.out"]);
    assert_eq!(std::fs::read(sb.path("y.out")).unwrap(), plain);
    sb.fails(&["decrypt", "--key", "alias/a", "f.sbx", "-o", "z.out"], 3);

    // A crash after the new header was on disk: the journal is finished.
    std::fs::write(sb.path("f.sbx"), &g).unwrap();
    write_journal();
    let v = sb.json(&["rewrap", "--to-key", "alias/a", "--in-place", "f.sbx"]);
    assert_eq!(v["recovered"], "found the new header complete");
    sb.ok(&["decrypt", "--key", "alias/a", "f.sbx", "-o", "w.out"]);
    assert_eq!(std::fs::read(sb.path("w.out")).unwrap(), plain);

    // A journal cut short (the crash came before it was flushed): dropped.
    std::fs::write(&journal, b"sealbox rewrap journal v1\n\0\0").unwrap();
    let v = sb.json(&["rewrap", "--to-key", "alias/b", "--in-place", "f.sbx"]);
    assert!(
        v["recovered"].as_str().unwrap().starts_with("discarded"),
        "{v}"
    );
    sb.ok(&["decrypt", "--key", "alias/b", "f.sbx", "-o", "v.out"]);

    // A signed message is rewritten whole (its footer signs the header).
    sb.json(&[
        "encrypt", "--key", "alias/a", "--suite", "0x0578", "p", "-o", "s.sbx",
    ]);
    let v = sb.json(&["rewrap", "--to-key", "alias/b", "--in-place", "s.sbx"]);
    assert_eq!(v["mode"], "whole message");
    assert_eq!(v["resigned"], true);
    sb.ok(&["decrypt", "--key", "alias/b", "s.sbx", "-o", "u.out"]);
    assert_eq!(std::fs::read(sb.path("u.out")).unwrap(), plain);
    assert!(sb.files_containing("journal").is_empty());
}
