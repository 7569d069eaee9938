//! `sealbox audit`, configuration precedence, usage errors and `--help`.

mod common;

use common::{s, Sandbox};

#[test]
fn audit_tail_and_verify_and_a_tampered_log() {
    let sb = Sandbox::new("audit");
    sb.init();
    let id = sb.json(&["key", "create", "--alias", "alias/a"])["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(sb.path("f"), b"x").unwrap();
    sb.ok(&[
        "encrypt", "--key", "alias/a", "-c", "who=me", "f", "-o", "f.sbx",
    ]);
    sb.ok(&["key", "rotate", "alias/a"]);
    sb.ok(&["decrypt", "f.sbx", "-o", "f.out"]);

    let out = sb.ok(&["--json", "audit", "tail", "-n", "50"]);
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ops: Vec<&str> = records
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["CreateKey", "GenerateDataKey", "RotateKey", "Decrypt"],
        "the trail, in order"
    );
    assert!(records.iter().all(|r| r["key_id"] == id.as_str()));
    assert!(records.iter().all(|r| r["principal"] == "cli-tests"));
    assert_eq!(records[1]["encryption_context"]["who"], "me");
    assert_eq!(records[3]["key_version"], 1, "the old version decrypted");
    let text = sb.ok(&["audit", "tail", "-n", "2"]);
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.contains("RotateKey") && text.contains("Decrypt"),
        "{text}"
    );

    let v = sb.json(&["audit", "verify"]);
    assert_eq!(v["ok"], true);
    assert!(v["records"].as_u64().unwrap() >= 4);
    assert!(sb.ok(&["audit", "verify"]).contains("verified"));

    // Edit one record in the middle: exit 8, the line is named.
    let log = sb.store().join("keys.db.audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let edited = text.replacen("\"who\":\"me\"", "\"who\":\"you\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&log, &edited).unwrap();
    let err = sb.fails(&["audit", "verify"], 8);
    assert!(err.contains("line 2") && err.contains("edited"), "{err}");
    let out = sb.run(&["--json", "audit", "verify"]);
    assert_eq!(out.status.code(), Some(8));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_error"]["line"], 2);

    // Remove the last lines instead: also detected (the store anchored them).
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log, format!("{}\n", lines[..2].join("\n"))).unwrap();
    let err = sb.fails(&["audit", "verify"], 8);
    assert!(err.contains("removed"), "{err}");
    // The store refuses every other command too, until an operator starts
    // a new, audited segment; then it works again and the old log is kept.
    sb.fails(&["key", "list"], 8);
    sb.fails(&["audit", "new-segment"], 2);
    assert!(sb
        .ok(&["audit", "new-segment", "--reason", "restored from backup"])
        .contains("verified"));
    let first = sb.ok(&["--json", "audit", "tail", "-n", "1"]);
    assert!(
        first.contains("StartAuditSegment") && first.contains("restored from backup"),
        "{first}"
    );
    sb.ok(&["key", "list"]);
    let kept = std::fs::read_dir(sb.store())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".segment-0-")
        })
        .count();
    assert_eq!(kept, 1, "the old log is kept");
}

#[test]
fn audit_export_and_tail_of_a_sqlite_store() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new("audit-export");
    sb.init();
    let out = sb.ok(&["audit", "tail"]);
    assert!(out.contains("is empty"), "{out}");
    assert_eq!(
        sb.ok(&["audit", "export"]),
        "",
        "an empty trail exports nothing"
    );
    sb.ok(&["key", "create", "--alias", "alias/x"]);
    std::fs::write(sb.path("f"), b"x").unwrap();
    for _ in 0..3 {
        sb.ok(&["encrypt", "--key", "alias/x", "f", "-o", "f.sbx", "--force"]);
    }
    sb.ok(&["key", "rotate", "alias/x"]);
    let log = sb.store().join("keys.db.audit.jsonl");
    let stored = std::fs::read_to_string(&log).unwrap();
    // export: exactly the stored lines.
    let exported = sb.ok(&["audit", "export"]);
    assert_eq!(exported, stored);
    let n = exported.lines().count();
    assert_eq!(n, 5);
    for (i, l) in exported.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["seq"], i as u64);
        assert!(v["mac"].is_string());
    }
    let v = sb.json(&["audit", "export", "-o", "out.jsonl"]);
    assert_eq!(v["records"], 5);
    assert_eq!(v["first_seq"], 0);
    assert_eq!(v["last_seq"], 4);
    assert_eq!(v["audit_log"], s(&log));
    assert_eq!(
        std::fs::read_to_string(sb.path("out.jsonl")).unwrap(),
        stored
    );
    assert_eq!(
        std::fs::metadata(sb.path("out.jsonl"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    sb.fails(&["audit", "export", "-o", "out.jsonl"], 10);
    sb.ok(&["audit", "export", "-o", "out.jsonl", "--force"]);
    let after = sb.ok(&["audit", "export", "--after", "2"]);
    assert_eq!(
        after.lines().collect::<Vec<_>>(),
        stored.lines().skip(3).collect::<Vec<_>>()
    );
    assert_eq!(sb.ok(&["audit", "export", "--after", "4"]), "");
    // tail: the last lines as stored.
    let tail = sb.ok(&["--json", "audit", "tail", "-n", "3"]);
    assert_eq!(
        tail.lines().collect::<Vec<_>>(),
        stored.lines().skip(2).collect::<Vec<_>>()
    );
    // The log file is read directly: no root key needed.
    std::fs::rename(sb.store().join("root.key"), sb.path("away.key")).unwrap();
    assert_eq!(sb.ok(&["audit", "export"]), stored);
    assert_eq!(sb.ok(&["--json", "audit", "tail", "-n", "3"]), tail);
    sb.fails(&["audit", "verify"], 9);
}

#[test]
fn audit_tail_follow_of_a_sqlite_store_stops_on_sigint() {
    use std::io::BufRead;
    let sb = Sandbox::new("audit-follow");
    sb.init();
    sb.ok(&["key", "create", "--alias", "alias/x"]);
    let mut child = sb.spawn(
        &["--json", "audit", "tail", "-n", "1", "--follow"],
        std::process::Stdio::piped(),
    );
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["operation"], "CreateKey");
    sb.ok(&["key", "disable", "alias/x"]);
    let next: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(next["operation"], "DisableKey");
    assert_eq!(next["seq"], 1);
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(common::stderr(&out).contains("interrupted"));
}

#[test]
fn flags_beat_environment_beat_config_file() {
    let sb = Sandbox::new("config");
    let a = sb.path("store-a");
    let b = sb.path("store-b");
    let c = sb.path("store-c");
    for st in [&a, &b, &c] {
        let mut cmd = sb.cmd();
        let out = cmd
            .env("SEALBOX_STORE", st)
            .args(["init"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    }
    // Each store gets a key with its own alias, to tell them apart.
    for (st, alias) in [(&a, "alias/a"), (&b, "alias/b"), (&c, "alias/c")] {
        let out = sb
            .cmd()
            .args(["--store", s(st), "key", "create", "--alias", alias])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let cfg = sb.path("sealbox.toml");
    std::fs::write(
        &cfg,
        format!("store = \"{}\"\nprincipal = \"from-config\"\n", s(&a)),
    )
    .unwrap();
    let which = |cmd: &mut std::process::Command| -> String {
        let out = cmd
            .args(["--json", "key", "alias", "list"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["aliases"][0]["alias"].as_str().unwrap().to_owned()
    };
    // Config file alone.
    let mut cmd = sb.cmd();
    cmd.env_remove("SEALBOX_STORE").env("SEALBOX_CONFIG", &cfg);
    assert_eq!(which(&mut cmd), "alias/a");
    // Environment over the config file.
    let mut cmd = sb.cmd();
    cmd.env("SEALBOX_STORE", &b).env("SEALBOX_CONFIG", &cfg);
    assert_eq!(which(&mut cmd), "alias/b");
    // Flag over the environment.
    let mut cmd = sb.cmd();
    cmd.env("SEALBOX_STORE", &b)
        .env("SEALBOX_CONFIG", &cfg)
        .args(["--store", s(&c)]);
    assert_eq!(which(&mut cmd), "alias/c");
    // ~/.config/sealbox/config.toml is read when no config is named.
    let user_cfg = sb.path("home/.config/sealbox");
    std::fs::create_dir_all(&user_cfg).unwrap();
    std::fs::copy(&cfg, user_cfg.join("config.toml")).unwrap();
    let mut cmd = sb.cmd();
    cmd.env_remove("SEALBOX_STORE");
    assert_eq!(which(&mut cmd), "alias/a");

    // The principal comes from the config file unless a flag says otherwise.
    let run = |args: &[&str]| {
        let mut c = sb.cmd();
        c.env_remove("SEALBOX_STORE").args(args).output().unwrap()
    };
    let last_principal = || {
        let out = run(&["--json", "audit", "tail", "-n", "1"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["principal"].clone()
    };
    assert_eq!(last_principal(), "from-config");
    let out = run(&["--principal", "from-flag", "key", "list"]);
    assert!(out.status.success());
    assert_eq!(last_principal(), "from-flag");

    // A typo in a config file is an error, not a silent default.
    std::fs::write(&cfg, "stor = \"/tmp\"\n").unwrap();
    let out = sb
        .cmd()
        .env("SEALBOX_CONFIG", &cfg)
        .args(["key", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
    assert!(
        common::stderr(&out).contains("unknown field"),
        "{}",
        common::stderr(&out)
    );
    // A named config file that does not exist is an error too.
    let out = sb
        .cmd()
        .args(["--config", "/nonexistent/sealbox.toml", "key", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
}

#[test]
fn usage_errors_are_exit_2_with_a_message() {
    let sb = Sandbox::new("usage");
    sb.fails(&[], 2);
    sb.fails(&["frobnicate"], 2);
    sb.fails(&["key"], 2);
    sb.fails(&["key", "create", "--no-such-flag"], 2);
    sb.fails(&["key", "describe"], 2);
    sb.fails(&["encrypt", "--suite"], 2);
    sb.fails(&["init", "--token-label", "x"], 2);
    sb.fails(&["verify", "--key", "k"], 2);
    let out = sb.run(&["--json", "encrypt", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["code"], "UsageError");
    assert_eq!(v["error"]["exit_code"], 2);
    // SEALBOX_JSON=1 is --json; =0 is not.
    let key_list = |json| {
        let out = sb
            .cmd()
            .env("SEALBOX_JSON", json)
            .args(["key", "list"])
            .output();
        let out = out.unwrap();
        assert_eq!(out.status.code(), Some(9));
        out
    };
    let out = key_list("1");
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["code"], "ConfigurationError");
    let out = key_list("0");
    assert!(common::stderr(&out).starts_with("sealbox: "));
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let sb = Sandbox::new("help");
    let top = sb.ok(&["--help"]);
    assert!(top.contains("Exit codes"), "{top}");
    for cmd in [
        &["init"][..],
        &["key", "create"],
        &["key", "list"],
        &["key", "describe"],
        &["key", "rotate"],
        &["key", "enable"],
        &["key", "disable"],
        &["key", "schedule-deletion"],
        &["key", "cancel-deletion"],
        &["key", "alias", "create"],
        &["key", "alias", "update"],
        &["key", "alias", "delete"],
        &["key", "alias", "list"],
        &["key", "import"],
        &["key", "public-key"],
        &["encrypt"],
        &["decrypt"],
        &["sign"],
        &["verify"],
        &["mac"],
        &["audit", "tail"],
        &["audit", "verify"],
        &["audit", "export"],
        &["completions"],
    ] {
        let mut a = cmd.to_vec();
        a.push("--help");
        let text = sb.ok(&a);
        assert!(
            text.contains("Examples:"),
            "sealbox {cmd:?} --help has no examples"
        );
        assert!(
            text.contains(&format!("sealbox {}", cmd.join(" ")))
                || text.contains(&format!("sealbox {}", cmd[0])),
            "{cmd:?}"
        );
    }
    assert!(sb.ok(&["--version"]).starts_with("sealbox "));
}

/// `--version` names the version every package shares and the crypto
/// provider; the completion scripts and man pages come from the grammar.
#[test]
fn version_completions_and_man_pages() {
    let sb = Sandbox::new("version");
    let version = sb.ok(&["--version"]);
    assert_eq!(
        version.trim_end(),
        format!(
            "sealbox {} (crypto provider: aws-lc, FIPS mode: off)",
            env!("CARGO_PKG_VERSION")
        )
    );
    let bash = sb.ok(&["completions", "bash"]);
    assert!(
        bash.contains("complete -F _sealbox") && bash.contains("schedule-deletion"),
        "{bash}"
    );
    let zsh = sb.ok(&["completions", "zsh"]);
    assert!(
        zsh.starts_with("#compdef sealbox") && zsh.contains("rewrap"),
        "{zsh}"
    );
    let fish = sb.ok(&["completions", "fish"]);
    assert!(
        fish.contains("complete -c sealbox") && fish.contains("audit"),
        "{fish}"
    );
    let out = sb.run(&["completions", "powershell"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    let dir = sb.dir.join("man");
    sb.ok(&["man", "--out-dir", common::s(&dir)]);
    let page = std::fs::read_to_string(dir.join("sealbox.1")).expect("sealbox.1");
    assert!(page.contains(".TH sealbox 1 "), "{page}");
    assert!(
        page.contains(env!("CARGO_PKG_VERSION")),
        "the page names the version"
    );
    for sub in [
        "sealbox-encrypt.1",
        "sealbox-key-create.1",
        "sealbox-secret-policy-put.1",
        "sealbox-audit-verify.1",
    ] {
        let text = std::fs::read_to_string(dir.join(sub)).unwrap_or_else(|e| panic!("{sub}: {e}"));
        assert!(text.contains(".SH SYNOPSIS"), "{sub}");
    }
    assert!(
        !dir.join("sealbox-man.1").exists(),
        "the hidden command has no page"
    );
    // Not in --help either.
    let help = sb.ok(&["--help"]);
    assert!(help.contains("completions"));
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("man ")),
        "{help}"
    );
}
