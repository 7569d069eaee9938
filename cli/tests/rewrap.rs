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
