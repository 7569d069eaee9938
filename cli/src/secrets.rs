//! `sealbox secret ...`: versioned secrets on top of the key store. Values
//! come from a file, stdin or the password generator, never from an
//! argument; `get` writes them only to stdout or to a new 0600 file.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use zeroize::Zeroizing;

use sealbox::keystore::secrets::MAX_SECRET_VALUE;
use sealbox::keystore::{
    CreateSecretOptions, KeyStore, PasswordSpec, PutSecretValueOptions, SecretMetadata,
    SecretRotation, SecretRotator, SecretValue, SecretVersionInfo,
};

use crate::atomic::{Privacy, Sink};
use crate::cli::{
    PasswordArgs, SecretCommand, SecretCreateArgs, SecretDeleteArgs, SecretGetArgs,
    SecretPolicyCommand, SecretPutArgs, SecretRotateArgs, SecretStageArgs, SecretValueArgs,
};
use crate::error::{CliError, CliResult};
use crate::input;
use crate::Out;

fn time(secs: i64) -> String {
    sealbox::audit::rfc3339_millis(secs.saturating_mul(1000)).replace(".000Z", "Z")
}

pub fn run(ks: &KeyStore, c: SecretCommand, out: Out) -> CliResult<()> {
    match c {
        SecretCommand::Create(a) => create(ks, a, out),
        SecretCommand::Get(a) => get(ks, a, out),
        SecretCommand::Put(a) => put(ks, a, out),
        SecretCommand::List(a) => list(ks, a.include_deleted, out),
        SecretCommand::Describe(a) => describe(ks, &a.name, out),
        SecretCommand::Stage(a) => stage(ks, a, out),
        SecretCommand::Rotate(a) => rotate(ks, a, out),
        SecretCommand::Delete(a) => delete(ks, a, out),
        SecretCommand::Update(a) => {
            let m = ks.update_secret(&a.name, a.description.as_deref(), a.key.as_deref())?;
            emit_metadata(ks, out, &m, "Updated.")
        }
        SecretCommand::Tag(a) => {
            if a.remove.is_empty() {
                ks.tag_secret(&a.name, &input::pairs(&a.tags, "--tag")?)?;
            } else {
                ks.untag_secret(&a.name, &a.remove)?;
            }
            let m = ks.describe_secret(&a.name)?;
            emit_metadata(ks, out, &m, "Tags changed.")
        }
        SecretCommand::Restore(a) => {
            let m = ks.restore_secret(&a.name)?;
            emit_metadata(ks, out, &m, "Restored.")
        }
        SecretCommand::Policy(p) => policy(ks, p, out),
    }
}

fn policy(ks: &KeyStore, c: SecretPolicyCommand, out: Out) -> CliResult<()> {
    match c {
        SecretPolicyCommand::Get(a) => match ks.get_secret_resource_policy(&a.name)? {
            Some(text) => {
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| CliError::failure(e.to_string()))?;
                let pretty = serde_json::to_string_pretty(&v)
                    .map_err(|e| CliError::failure(e.to_string()))?;
                out.emit(v, || pretty)
            }
            None => out.emit(serde_json::Value::Null, || {
                format!(
                    "Secret {} has no resource policy (its key alone decides).",
                    a.name
                )
            }),
        },
        SecretPolicyCommand::Put(a) => {
            let text = crate::access::read_policy(&a.file)?;
            ks.put_secret_resource_policy(&a.name, &text, a.bypass_policy_lockout_safety_check)?;
            out.emit(json!({"secret": a.name, "policy_replaced": true}), || {
                format!("Set the resource policy of secret {}.", a.name)
            })
        }
        SecretPolicyCommand::Delete(a) => {
            ks.delete_secret_resource_policy(&a.name)?;
            out.emit(json!({"secret": a.name, "policy_deleted": true}), || {
                format!("Removed the resource policy of secret {}.", a.name)
            })
        }
    }
}

fn password_spec(p: &PasswordArgs) -> PasswordSpec {
    PasswordSpec {
        length: p.length,
        exclude_punctuation: p.exclude_punctuation,
        exclude_characters: p.exclude_characters.clone(),
        ..PasswordSpec::default()
    }
}

/// The new value: read from the file or stdin, or generated.
fn read_value(ks: &KeyStore, v: &SecretValueArgs) -> CliResult<Option<SecretValue>> {
    if v.generate_password {
        if v.binary {
            return Err(CliError::usage(
                "a generated password is text: drop --binary",
            ));
        }
        return Ok(Some(ks.get_random_password(&password_spec(&v.password))?));
    }
    let Some(path) = &v.value_file else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(input::read_bounded(path, MAX_SECRET_VALUE)?);
    if bytes.is_empty() {
        return Err(CliError::usage(format!(
            "{} is empty: a secret value is 1 to {MAX_SECRET_VALUE} bytes",
            shown(path)
        )));
    }
    let value = if v.binary {
        SecretValue::binary(&bytes)?
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            CliError::usage(format!(
                "{} is not UTF-8 text: pass --binary to store bytes",
                shown(path)
            ))
        })?;
        SecretValue::text(text)?
    };
    Ok(Some(value))
}

fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

fn create(ks: &KeyStore, a: SecretCreateArgs, out: Out) -> CliResult<()> {
    let value = read_value(ks, &a.value)?;
    let opts = CreateSecretOptions {
        key_id: a.key,
        description: a.description,
        tags: input::pairs(&a.tags, "--tag")?,
        client_request_token: a.client_request_token,
    };
    let r = ks.create_secret(&a.name, value.as_ref(), &opts)?;
    out.emit(
        json!({"name": r.name, "version_id": nullable(&r.version_id), "version_stages": r.version_stages}),
        || {
            if r.version_id.is_empty() {
                format!("Created secret {} (no value yet).", r.name)
            } else {
                format!(
                    "Created secret {} version {} ({}).",
                    r.name,
                    r.version_id,
                    r.version_stages.join(", ")
                )
            }
        },
    )
}

fn nullable(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_owned())
    }
}

fn put(ks: &KeyStore, a: SecretPutArgs, out: Out) -> CliResult<()> {
    let value = read_value(ks, &a.value)?.ok_or_else(|| {
        CliError::usage("the new value: --value-file FILE (- for stdin) or --generate-password")
    })?;
    let opts = PutSecretValueOptions {
        version_stages: (!a.stages.is_empty()).then_some(a.stages),
        client_request_token: a.client_request_token,
    };
    let r = ks.put_secret_value(&a.name, &value, &opts)?;
    out.emit(
        json!({"name": r.name, "version_id": r.version_id, "version_stages": r.version_stages}),
        || {
            format!(
                "Secret {} version {} ({}).",
                r.name,
                r.version_id,
                if r.version_stages.is_empty() {
                    "no staging label".into()
                } else {
                    r.version_stages.join(", ")
                }
            )
        },
    )
}

fn get(ks: &KeyStore, a: SecretGetArgs, out: Out) -> CliResult<()> {
    let e = ks.get_secret_value(&a.name, a.version_id.as_deref(), a.stage.as_deref())?;
    let summary = json!({
        "name": e.name,
        "version_id": e.version_id,
        "version_stages": e.version_stages,
        "created_date": time(e.created_at),
        "binary": e.value.is_binary(),
    });
    let to_file = a.output.as_deref().is_some_and(|p| p != Path::new("-"));
    if out.json && !to_file {
        // The value in the JSON document, as AWS's CLI prints it.
        let mut doc = summary;
        match e.value.as_str() {
            Some(t) => doc["secret_string"] = Value::String(t.to_owned()),
            None => doc["secret_binary"] = Value::String(input::to_base64(e.value.as_bytes())),
        }
        return out.emit(doc, String::new);
    }
    let mut sink = Sink::open(a.output.as_deref(), Privacy::Owner, a.force)?;
    sink.write_all(e.value.as_bytes())
        .map_err(|err| CliError::failure(format!("writing the value: {err}")))?;
    sink.commit()?;
    if to_file {
        out.emit(summary, || {
            format!(
                "Wrote secret {} version {} to {} (mode 0600).",
                e.name,
                e.version_id,
                a.output.as_deref().map(shown).unwrap_or_default()
            )
        })
    } else {
        Ok(())
    }
}

fn versions_json(v: &[SecretVersionInfo]) -> Value {
    Value::Array(
        v.iter()
            .map(|v| {
                json!({
                    "version_id": v.version_id,
                    "version_stages": v.version_stages,
                    "created_date": time(v.created_at),
                    "binary": v.binary,
                    "key_id": v.key_id,
                })
            })
            .collect(),
    )
}

fn metadata_json(m: &SecretMetadata) -> Value {
    json!({
        "name": m.name,
        "description": m.description,
        "key_id": m.key_id,
        "tags": m.tags,
        "created_date": time(m.created_at),
        "last_changed_date": time(m.last_changed_at),
        "last_rotated_date": m.last_rotated_at.map(time),
        "deleted_date": m.deleted_date.map(time),
        "deletion_date": m.deletion_date.map(time),
        "version_ids_to_stages": m.version_ids_to_stages,
    })
}

fn metadata_text(m: &SecretMetadata, versions: &[SecretVersionInfo]) -> String {
    let mut t = String::new();
    let mut line = |k: &str, v: String| t.push_str(&format!("{k:<14}{v}\n"));
    line("Name:", m.name.clone());
    if !m.description.is_empty() {
        line("Description:", m.description.clone());
    }
    line("Key:", m.key_id.clone());
    line("Created:", time(m.created_at));
    line("Changed:", time(m.last_changed_at));
    if let Some(r) = m.last_rotated_at {
        line("Rotated:", time(r));
    }
    if let Some(d) = m.deletion_date {
        line(
            "DELETED:",
            format!("destroyed at {} unless restored", time(d)),
        );
    }
    if !m.tags.is_empty() {
        line(
            "Tags:",
            m.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    line("Versions:", versions.len().to_string());
    for v in versions {
        t.push_str(&format!(
            "  {}  {}  {}{}\n",
            v.version_id,
            time(v.created_at),
            if v.version_stages.is_empty() {
                "(deprecated)".into()
            } else {
                v.version_stages.join(", ")
            },
            if v.binary { "  binary" } else { "" }
        ));
    }
    t
}

fn emit_metadata(ks: &KeyStore, out: Out, m: &SecretMetadata, headline: &str) -> CliResult<()> {
    let versions = ks.list_secret_version_ids(&m.name, true)?;
    let mut doc = metadata_json(m);
    doc["versions"] = versions_json(&versions);
    out.emit(doc, || {
        let body = metadata_text(m, &versions);
        if headline.is_empty() {
            body
        } else {
            format!("{headline}\n{body}")
        }
    })
}

fn describe(ks: &KeyStore, name: &str, out: Out) -> CliResult<()> {
    let m = ks.describe_secret(name)?;
    emit_metadata(ks, out, &m, "")
}

fn list(ks: &KeyStore, include_deleted: bool, out: Out) -> CliResult<()> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ks.list_secrets(
            sealbox::keystore::secrets::MAX_SECRET_LIST_LIMIT,
            marker.as_deref(),
            include_deleted,
        )?;
        all.extend(page.secrets);
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    out.emit(
        json!({"secrets": all.iter().map(metadata_json).collect::<Vec<_>>()}),
        || {
            if all.is_empty() {
                return "No secrets.".into();
            }
            let mut t = String::new();
            for m in &all {
                t.push_str(&format!(
                    "{:<40} changed {}{}\n",
                    m.name,
                    time(m.last_changed_at),
                    if m.deletion_date.is_some() {
                        "  (scheduled for deletion)"
                    } else {
                        ""
                    }
                ));
            }
            t
        },
    )
}

fn stage(ks: &KeyStore, a: SecretStageArgs, out: Out) -> CliResult<()> {
    if a.move_to.is_none() && a.remove_from.is_none() {
        return Err(CliError::usage(
            "name the version: --move-to ID, --remove-from ID, or both",
        ));
    }
    let versions = ks.update_secret_version_stage(
        &a.name,
        &a.stage,
        a.move_to.as_deref(),
        a.remove_from.as_deref(),
    )?;
    out.emit(
        json!({"name": a.name, "versions": versions_json(&versions)}),
        || {
            let mut t = format!("Secret {}: {} moved.\n", a.name, a.stage);
            for v in versions.iter().filter(|v| !v.version_stages.is_empty()) {
                t.push_str(&format!(
                    "  {}  {}\n",
                    v.version_id,
                    v.version_stages.join(", ")
                ));
            }
            t
        },
    )
}

fn delete(ks: &KeyStore, a: SecretDeleteArgs, out: Out) -> CliResult<()> {
    let at = ks.delete_secret(
        &a.name,
        a.recovery_window_days,
        a.force_delete_without_recovery,
    )?;
    out.emit(
        json!({"name": a.name, "deletion_date": time(at), "recoverable": !a.force_delete_without_recovery}),
        || {
            if a.force_delete_without_recovery {
                format!("Deleted secret {} for good.", a.name)
            } else {
                format!(
                    "Secret {} is scheduled for deletion at {} (`sealbox secret restore {}` until then).",
                    a.name,
                    time(at),
                    a.name
                )
            }
        },
    )
}

/// The command line's rotator: a generated password, set and tested by a
/// hook program (or by nothing, with --no-target).
struct HookRotator {
    spec: PasswordSpec,
    hook: Option<(std::path::PathBuf, Vec<String>)>,
    timeout: std::time::Duration,
}

impl HookRotator {
    fn call(&self, step: &str, r: &SecretRotation<'_>, value: &SecretValue) -> sealbox::Result<()> {
        let Some((program, args)) = &self.hook else {
            return Ok(());
        };
        let failed = |what: String| {
            sealbox::Error::InvalidState(format!("hook {}: {what}", program.display()))
        };
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(program);
        // The hook gets a clean environment: sealbox's own holds the root
        // key (SEALBOX_ROOT_KEY), PINs and the database URL. Only what a
        // program needs to run is passed through.
        cmd.env_clear();
        for var in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"] {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        // And what the operator meant for the hook.
        for (k, v) in std::env::vars_os() {
            if k.to_str().is_some_and(|k| k.starts_with("SEALBOX_HOOK_")) {
                cmd.env(k, v);
            }
        }
        // Its own process group, so that a timeout kills what it started
        // too (a psql left running could still change the target).
        cmd.process_group(0);
        let mut child = cmd
            .args(args)
            .env("SEALBOX_ROTATION_STEP", step)
            .env("SEALBOX_SECRET_NAME", r.secret_name)
            .env("SEALBOX_SECRET_VERSION_ID", r.version_id)
            .env("SEALBOX_SECRET_CURRENT_VERSION_ID", r.current_version_id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| failed(format!("cannot start: {e}")))?;
        let stdin = child.stdin.take();
        let bytes = Zeroizing::new(value.as_bytes().to_vec());
        // A thread feeds stdin while the hook's output is read, so that
        // neither side blocks on a full pipe.
        let writer = std::thread::spawn(move || {
            if let Some(mut s) = stdin {
                // A hook that does not read its stdin closes the pipe.
                let _ = s.write_all(&bytes);
            }
        });
        let reader = child.stdout.take().map(|mut o| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = o.read_to_end(&mut buf);
                buf
            })
        });
        let deadline = std::time::Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if std::time::Instant::now() >= deadline => {
                    // SIGKILL to the hook's whole process group.
                    if let Ok(pid) = i32::try_from(child.id()) {
                        // SAFETY: kill(2) with a negative pid signals the
                        // process group the child leads (made above).
                        unsafe {
                            libc::kill(-pid, libc::SIGKILL);
                        }
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(failed(format!(
                        "{step} did not finish within {} s; killed",
                        self.timeout.as_secs()
                    )));
                }
                Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
                Err(e) => return Err(failed(format!("waiting for it: {e}"))),
            }
        };
        // Whatever the hook left running in its group goes too, so that its
        // output pipe closes and the reader below ends.
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: as above; the group may be gone already (ESRCH).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = writer.join();
        let hook_out = Zeroizing::new(reader.and_then(|r| r.join().ok()).unwrap_or_default());
        // The hook's own output goes to stderr, apart from sealbox's.
        let _ = std::io::stderr().write_all(&hook_out[..]);
        if status.success() {
            Ok(())
        } else {
            Err(failed(format!("{step} failed ({status})")))
        }
    }
}

impl SecretRotator for HookRotator {
    fn create_secret(&self, r: &SecretRotation<'_>) -> sealbox::Result<SecretValue> {
        r.key_store.get_random_password(&self.spec)
    }
    fn set_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> sealbox::Result<()> {
        self.call("setSecret", r, pending)
    }
    fn test_secret(&self, r: &SecretRotation<'_>, pending: &SecretValue) -> sealbox::Result<()> {
        self.call("testSecret", r, pending)
    }
}

fn rotate(ks: &KeyStore, a: SecretRotateArgs, out: Out) -> CliResult<()> {
    let rotator = HookRotator {
        spec: password_spec(&a.password),
        hook: a.command.map(|c| (c, a.args)),
        timeout: std::time::Duration::from_secs(a.hook_timeout),
    };
    let r = ks.rotate_secret(&a.name, &rotator)?;
    out.emit(
        json!({"name": r.name, "version_id": r.version_id, "previous_version_id": r.previous_version_id}),
        || {
            format!(
                "Rotated secret {}: CURRENT is version {} (PREVIOUS: {}).",
                r.name, r.version_id, r.previous_version_id
            )
        },
    )
}
