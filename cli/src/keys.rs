//! `sealbox init`, `sealbox key ...`, `sign`, `verify`, `mac`.

use std::io::{Read, Write};
use std::path::Path;

use serde_json::{json, Value};

use sealbox::crypto::{Hasher, MlDsaVerifyingKey};
use sealbox::keystore::{
    der_to_pem, CreateKeyRequest, KeyAgreementAlgorithm, KeyMetadata, KeySpec, KeyState, KeyStore,
    KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm, MAX_LIST_LIMIT, MAX_MESSAGE,
};

use crate::atomic::{Privacy, Sink};
use crate::cli::{
    AliasCommand, CreateArgs, DeriveSharedSecretArgs, GenerateDataKeyArgs, ImportArgs,
    ImportMaterialArgs, InitArgs, KeyDecryptArgs, MacArgs, NewKeyArgs, PublicKeyArgs, RotateArgs,
    ScheduleDeletionArgs, SignArgs, VerifyArgs,
};
use crate::config::{Pkcs11File, Resolved};
use crate::error::{CliError, CliResult, Exit};
use crate::input;
use crate::store::{self, InitBackend};
use crate::Out;

fn time(secs: i64) -> String {
    sealbox::audit::rfc3339_millis(secs.saturating_mul(1000)).replace(".000Z", "Z")
}

fn metadata_json(m: &KeyMetadata) -> CliResult<Value> {
    serde_json::to_value(m).map_err(|e| CliError::failure(e.to_string()))
}

fn state_text(s: &KeyState) -> String {
    match s {
        KeyState::PendingDeletion { deletion_date } => {
            format!(
                "PendingDeletion (material destroyed at {})",
                time(*deletion_date)
            )
        }
        other => other.name().to_owned(),
    }
}

fn describe_text(m: &KeyMetadata) -> String {
    let mut t = String::new();
    let mut line = |k: &str, v: String| t.push_str(&format!("{k:<14}{v}\n"));
    line("Key ID:", m.key_id.to_string());
    line(
        "Aliases:",
        if m.aliases.is_empty() {
            "-".into()
        } else {
            m.aliases.join(", ")
        },
    );
    if !m.description.is_empty() {
        line("Description:", m.description.clone());
    }
    line("Spec:", m.key_spec.to_string());
    line("Usage:", m.key_usage.to_string());
    line("Origin:", m.origin.to_string());
    line("State:", state_text(&m.key_state));
    line("Backend:", m.backend.clone());
    line("Created:", time(m.created_at));
    if let Some(t) = m.valid_to {
        line(
            "Valid to:",
            format!("{} (imported material expires)", time(t)),
        );
    }
    let missing: Vec<String> = m
        .versions
        .iter()
        .filter(|v| !v.material_present)
        .map(|v| v.version.to_string())
        .collect();
    if !missing.is_empty() {
        line(
            "Material:",
            format!(
                "missing for version {} (import it again: sealbox key import-material)",
                missing.join(", ")
            ),
        );
    }
    line(
        "Versions:",
        format!("{} (primary: {})", m.versions.len(), m.primary_version),
    );
    line(
        "Rotation:",
        match (m.rotation_period_days, m.next_rotation_at) {
            (Some(d), Some(next)) => format!("every {d} days, next at {}", time(next)),
            (Some(d), None) => format!("every {d} days"),
            _ => "on demand only".into(),
        },
    );
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
    t
}

fn emit_key(out: Out, m: &KeyMetadata, headline: &str) -> CliResult<()> {
    out.emit(metadata_json(m)?, || {
        if headline.is_empty() {
            describe_text(m)
        } else {
            format!("{headline}\n{}", describe_text(m))
        }
    })
}

pub fn init(r: &Resolved, a: InitArgs, out: Out) -> CliResult<()> {
    let backend = match a.pkcs11_module {
        None if r.root_key_flag.is_none() && std::env::var_os("SEALBOX_ROOT_KEY").is_some() => {
            InitBackend::SoftFromEnv
        }
        None => InitBackend::Soft {
            root_key_file: r.root_key_flag.clone(),
        },
        Some(module) => {
            if a.pin_env.is_none() && a.pin_file.is_none() {
                return Err(CliError::usage(
                    "a PKCS#11 store needs --pin-env VAR or --pin-file FILE",
                ));
            }
            InitBackend::Pkcs11(Pkcs11File {
                module,
                token_label: a.token_label,
                token_serial: a.token_serial,
                pin_env: a.pin_env,
                pin_file: a.pin_file,
            })
        }
    };
    let database = match (a.database, &r.database_url) {
        (Some(u), _) => store::InitDatabase::Flag(u),
        (None, Some((u, _))) => store::InitDatabase::Resolved(u.clone()),
        (None, None) => store::InitDatabase::Sqlite,
    };
    let report = store::init(r, backend, database, a.default_policy)?;
    let v = serde_json::to_value(&report).map_err(|e| CliError::failure(e.to_string()))?;
    out.emit(v, || {
        let what = if report.joined {
            format!(
                "Joined the {} key store in the database {} from {}",
                report.backend,
                report.database,
                report.store.display()
            )
        } else {
            format!(
                "Created a {} key store in {}",
                report.backend,
                report.store.display()
            )
        };
        let mut t = format!(
            "{what}\n  database:  {}\n  audit log: {}\n  config:    {}\n",
            report.database,
            report.audit_log,
            report.config.display()
        );
        if let Some(k) = &report.root_key_file {
            if report.root_key_created {
                t.push_str(&format!(
                    "  root key:  {} (mode 0600: back it up; without it the keys cannot be used)\n",
                    k.display()
                ));
            } else {
                t.push_str(&format!("  root key:  {} (existing)\n", k.display()));
            }
        }
        if let Some(p) = report.default_policy {
            t.push_str(&format!(
                "  keys created without a policy: {p} (the store's default policy)\n"
            ));
        }
        t
    })
}

fn parse<T: std::str::FromStr<Err = sealbox::Error>>(s: &str) -> CliResult<T> {
    Ok(s.parse::<T>()?)
}

impl NewKeyArgs {
    /// The request for a new key of `spec` with these settings.
    fn request(self, spec: KeySpec) -> CliResult<CreateKeyRequest> {
        Ok(CreateKeyRequest {
            key_spec: spec,
            key_usage: self.usage.as_deref().map(parse::<KeyUsage>).transpose()?,
            alias: self.alias,
            description: self.description,
            ..CreateKeyRequest::default()
        })
    }
}

pub fn create(ks: &KeyStore, a: CreateArgs, out: Out) -> CliResult<()> {
    let new_key = a.new_key.request(parse(&a.spec)?)?;
    let req = a.policy.apply(CreateKeyRequest {
        tags: input::pairs(&a.tags, "tag")?,
        rotation_period_days: a.rotation_period_days,
        ..new_key
    })?;
    let m = ks.create_key(&req)?;
    emit_key(out, &m, "Created key:")
}

pub fn list(ks: &KeyStore, out: Out) -> CliResult<()> {
    let mut keys = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = ks.list_keys(MAX_LIST_LIMIT, marker.as_deref())?;
        keys.extend(page.keys);
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    let v = json!({ "keys": keys.iter().map(metadata_json).collect::<CliResult<Vec<_>>>()? });
    out.emit(v, || {
        if keys.is_empty() {
            return "No keys yet: `sealbox key create` makes one.".into();
        }
        let mut t = format!(
            "{:<36}  {:<13}  {:<19}  {:<15}  {:>3}  {}\n",
            "KEY ID", "SPEC", "USAGE", "STATE", "VER", "ALIASES"
        );
        for k in &keys {
            t.push_str(&format!(
                "{:<36}  {:<13}  {:<19}  {:<15}  {:>3}  {}\n",
                k.key_id,
                k.key_spec.as_str(),
                k.key_usage.as_str(),
                k.key_state.name(),
                k.primary_version,
                k.aliases.join(",")
            ));
        }
        t
    })
}

pub fn describe(ks: &KeyStore, key: &str, out: Out) -> CliResult<()> {
    let m = ks.describe_key(key)?;
    emit_key(out, &m, "")
}

pub fn rotate(ks: &KeyStore, a: RotateArgs, out: Out) -> CliResult<()> {
    if let Some(days) = a.automatic_days {
        let m = ks.enable_key_rotation(&a.key, days)?;
        return emit_key(out, &m, &format!("Automatic rotation every {days} days:"));
    }
    if a.no_automatic {
        let m = ks.disable_key_rotation(&a.key)?;
        return emit_key(out, &m, "Automatic rotation turned off:");
    }
    let version = ks.rotate_key(&a.key)?;
    let id = ks.resolve_key_id(&a.key)?;
    out.emit(json!({"key_id": id, "version": version}), || {
        format!("Rotated key {id}: version {version} is now primary; older versions still decrypt.")
    })
}

pub fn enable(ks: &KeyStore, key: &str, out: Out) -> CliResult<()> {
    let m = ks.enable_key(key)?;
    emit_key(out, &m, "Enabled:")
}

pub fn disable(ks: &KeyStore, key: &str, out: Out) -> CliResult<()> {
    let m = ks.disable_key(key)?;
    emit_key(
        out,
        &m,
        "Disabled (nothing can use it until `sealbox key enable`):",
    )
}

pub fn schedule_deletion(ks: &KeyStore, a: ScheduleDeletionArgs, out: Out) -> CliResult<()> {
    let m = ks.schedule_key_deletion(&a.key, a.days)?;
    emit_key(
        out,
        &m,
        "Deletion scheduled (`sealbox key cancel-deletion` undoes it until then):",
    )
}

pub fn cancel_deletion(ks: &KeyStore, key: &str, out: Out) -> CliResult<()> {
    let m = ks.cancel_key_deletion(key)?;
    emit_key(
        out,
        &m,
        "Deletion cancelled; the key is disabled until `sealbox key enable`:",
    )
}

pub fn alias(ks: &KeyStore, a: AliasCommand, out: Out) -> CliResult<()> {
    match a {
        AliasCommand::Create { alias, key } => {
            ks.create_alias(&alias, &key)?;
            let id = ks.resolve_key_id(&alias)?;
            out.emit(json!({"alias": alias, "key_id": id}), || {
                format!("{alias} -> {id}")
            })
        }
        AliasCommand::Update { alias, key } => {
            ks.update_alias(&alias, &key)?;
            let id = ks.resolve_key_id(&alias)?;
            out.emit(json!({"alias": alias, "key_id": id}), || {
                format!("{alias} -> {id}")
            })
        }
        AliasCommand::Delete { alias } => {
            ks.delete_alias(&alias)?;
            out.emit(json!({"alias": alias, "deleted": true}), || {
                format!("Deleted {alias} (the key is untouched).")
            })
        }
        AliasCommand::List => {
            let list = ks.list_aliases()?;
            let v = json!({"aliases": list.iter().map(|(a, k)| json!({"alias": a, "key_id": k})).collect::<Vec<_>>()});
            out.emit(v, || {
                if list.is_empty() {
                    return "No aliases.".into();
                }
                list.iter()
                    .map(|(a, k)| format!("{a} -> {k}\n"))
                    .collect::<String>()
            })
        }
    }
}

/// The DER of a file that is either DER or one PEM block labelled `label`
/// (`what` names the expected content in the error, a configuration error
/// for key files). The DER is kept in wiped memory: it may be a private key.
fn pem_or_der(
    raw: &[u8],
    path: &Path,
    label: &str,
    what: &str,
) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Ok(zeroize::Zeroizing::new(raw.to_vec()));
    };
    let t = text.trim();
    if !t.starts_with("-----BEGIN") {
        return Ok(zeroize::Zeroizing::new(raw.to_vec()));
    }
    let body = t
        .strip_prefix(&format!("-----BEGIN {label}-----"))
        .and_then(|b| b.strip_suffix(&format!("-----END {label}-----")))
        .ok_or_else(|| CliError::config(format!("{}: expected {what}", path.display())))?;
    let b64: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    let der = input::base64(&b64, &format!("{}", path.display()))
        .map_err(|e| CliError::config(e.message))?;
    Ok(zeroize::Zeroizing::new(der))
}

/// PKCS#8 DER from a PEM `PRIVATE KEY` or a DER file.
fn pkcs8_der(raw: &[u8], path: &Path) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    pem_or_der(
        raw,
        path,
        "PRIVATE KEY",
        "a PKCS#8 `PRIVATE KEY` PEM (convert with `openssl pkcs8 -topk8 -nocrypt`)",
    )
}

pub fn import(ks: &KeyStore, a: ImportArgs, out: Out) -> CliResult<()> {
    let spec: KeySpec = parse(&a.spec)?;
    let material = material_of(spec, &a.material)?;
    let mut req = a.new_key.request(spec)?;
    req.valid_to = a.valid_to.as_deref().map(input::time_arg).transpose()?;
    let m = ks.import_key(&req, &material)?;
    emit_key(out, &m, "Imported key:")
}

/// The material of an imported key from its file, as `key import` reads it.
fn material_of(spec: KeySpec, path: &Path) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    let raw = input::read_secret_file(path)?;
    match spec.secret_len() {
        Some(len) => input::decode_symmetric(
            &raw,
            &[len],
            &format!("{} material {}", spec, path.display()),
        ),
        None => pkcs8_der(&raw, path),
    }
}

pub fn import_material(ks: &KeyStore, a: ImportMaterialArgs, out: Out) -> CliResult<()> {
    let spec = spec_of(ks, &a.key)?;
    let material = material_of(spec, &a.material)?;
    let valid_to = a.valid_to.as_deref().map(input::time_arg).transpose()?;
    let m = ks.import_key_material(&a.key, &material, valid_to)?;
    emit_key(out, &m, "Imported key material:")
}

pub fn delete_imported_material(ks: &KeyStore, key: &str, out: Out) -> CliResult<()> {
    let m = ks.delete_imported_key_material(key)?;
    emit_key(
        out,
        &m,
        "Deleted the imported key material (the key is PendingImport until it is imported again):",
    )
}

pub fn public_key(ks: &KeyStore, a: PublicKeyArgs, out: Out) -> CliResult<()> {
    let der = ks.get_public_key(&a.key)?;
    let pem = der_to_pem("PUBLIC KEY", &der);
    let id = ks.resolve_key_id(&a.key)?;
    match &a.output {
        Some(path) if path != Path::new("-") => {
            let mut f = Sink::open(Some(path), Privacy::Default, a.force)?;
            f.write_all(if a.der { &der } else { pem.as_bytes() })?;
            f.commit()?;
            out.emit(
                json!({"key_id": id, "output": path.display().to_string(), "format": if a.der {"DER"} else {"PEM"}}),
                || format!("Wrote the public key of {id} to {}.", path.display()),
            )
        }
        _ if a.der => {
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                return Err(CliError::usage(
                    "refusing to write DER to a terminal: pass -o FILE",
                ));
            }
            let mut s = std::io::stdout().lock();
            s.write_all(&der).and_then(|_| s.flush())?;
            Ok(())
        }
        _ => out.emit(json!({"key_id": id, "public_key_pem": pem}), || pem.clone()),
    }
}

fn spec_of(ks: &KeyStore, key: &str) -> CliResult<KeySpec> {
    Ok(ks.describe_key(key)?.key_spec)
}

fn signing_algorithm(ks: &KeyStore, key: &str, given: Option<&str>) -> CliResult<SigningAlgorithm> {
    match given {
        Some(s) => parse(s),
        None => match spec_of(ks, key)? {
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => Ok(SigningAlgorithm::EcdsaSha256),
            KeySpec::EccNistP384 => Ok(SigningAlgorithm::EcdsaSha384),
            KeySpec::EccNistP521 => Ok(SigningAlgorithm::EcdsaSha512),
            KeySpec::EccNistEdwards25519 => Ok(SigningAlgorithm::Ed25519Sha512),
            s if s.mldsa().is_some() => Ok(SigningAlgorithm::MlDsaShake256),
            s if s.rsa_bits().is_some() => Ok(SigningAlgorithm::RsassaPssSha256),
            s => Err(CliError::new(
                Exit::InvalidKeyUsage,
                format!("{s} keys cannot sign: use an ECC, Ed25519, ML-DSA or RSA key"),
            )),
        },
    }
}

/// What the key store signs, and as what: the digest of the input,
/// computed here so that inputs of any size can be signed, or the input
/// itself with --digest; for Ed25519, which signs the message itself, the
/// input of at most 4096 bytes (AWS KMS's bound for RAW). ML-DSA signs
/// inputs of up to 4096 bytes as RAW and longer ones through their μ,
/// computed here from the key's public key (EXTERNAL_MU): the same
/// signature of the whole input either way. With --digest the input is μ.
fn signed_input(
    ks: &KeyStore,
    key: &str,
    path: &Path,
    alg: SigningAlgorithm,
    is_digest: bool,
) -> CliResult<(Vec<u8>, MessageType)> {
    if alg == SigningAlgorithm::MlDsaShake256 {
        if is_digest {
            return Ok((input::read_bounded(path, 64)?, MessageType::ExternalMu));
        }
        let src = input::open(path)?;
        let mut reader = src.reader;
        let mut head = Vec::with_capacity(MAX_MESSAGE + 1);
        (&mut reader)
            .take(MAX_MESSAGE as u64 + 1)
            .read_to_end(&mut head)
            .map_err(|e| CliError::io(path, e))?;
        if head.len() <= MAX_MESSAGE {
            return Ok((head, MessageType::Raw));
        }
        let public = MlDsaVerifyingKey::from_spki_der(&ks.get_public_key(key)?)?;
        let mu = public.mu_of_reader(&mut head.as_slice().chain(reader))?;
        return Ok((mu.to_vec(), MessageType::ExternalMu));
    }
    if alg.signs_message() {
        if is_digest {
            return Err(CliError::usage(format!(
                "{alg} signs the message itself: --digest does not apply"
            )));
        }
        return Ok((input::read_bounded(path, 4096)?, MessageType::Raw));
    }
    Ok((message_digest(path, alg, is_digest)?, MessageType::Digest))
}

/// The digest of the input, or the input itself with --digest.
fn message_digest(path: &Path, alg: SigningAlgorithm, is_digest: bool) -> CliResult<Vec<u8>> {
    if is_digest {
        return input::read_bounded(path, 64);
    }
    let mut src = input::open(path)?;
    let hash = alg
        .hash()
        .ok_or_else(|| CliError::usage(format!("{alg} does not sign a digest")))?;
    let mut h = Hasher::new(hash);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match src.reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CliError::failure(format!("{}: {e}", src.name))),
        }
    }
    Ok(h.finalize())
}

pub fn sign(ks: &KeyStore, a: SignArgs, out: Out) -> CliResult<()> {
    let alg = signing_algorithm(ks, &a.message.key, a.algorithm.as_deref())?;
    let (signed, kind) = signed_input(ks, &a.message.key, &a.message.input, alg, a.digest)?;
    let sig = ks.sign(&a.message.key, &signed, alg, kind)?;
    let id = ks.resolve_key_id(&a.message.key)?;
    let mut v =
        json!({"key_id": id, "algorithm": alg.as_str(), "signature": input::to_base64(&sig)});
    match &a.output {
        Some(path) if path != Path::new("-") => {
            let mut f = Sink::open(Some(path), Privacy::Default, a.force)?;
            f.write_all(&sig)?;
            f.commit()?;
            v["output"] = json!(path.display().to_string());
            out.emit(v, || {
                format!("Signed with {id} ({alg}); signature in {}.", path.display())
            })
        }
        _ => out.emit(v, || input::to_base64(&sig)),
    }
}

pub fn verify(ks: &KeyStore, a: VerifyArgs, out: Out) -> CliResult<()> {
    let sig = match (&a.signature, &a.signature_base64) {
        (Some(p), _) => input::read_bounded(p, 8192)?,
        (None, Some(b)) => input::base64(b, "--signature-base64")?,
        (None, None) => return Err(CliError::usage("pass --signature or --signature-base64")),
    };
    let alg = signing_algorithm(ks, &a.message.key, a.algorithm.as_deref())?;
    let (signed, kind) = signed_input(ks, &a.message.key, &a.message.input, alg, a.digest)?;
    let valid = ks.verify(&a.message.key, &signed, &sig, alg, kind)?;
    let id = ks.resolve_key_id(&a.message.key)?;
    verdict(
        out,
        "Signature",
        "signature",
        &id,
        alg.as_str(),
        &alg,
        valid,
    )
}

/// Reports a verification: `{"key_id", "algorithm", "valid"}` (or a line
/// saying it is valid), and a VerificationFailed error when it is not.
fn verdict(
    out: Out,
    what: &str,
    what_lower: &str,
    id: &str,
    alg_name: &str,
    alg: &dyn std::fmt::Display,
    valid: bool,
) -> CliResult<()> {
    out.emit(
        json!({"key_id": id, "algorithm": alg_name, "valid": valid}),
        || {
            if valid {
                format!("{what} is valid ({alg}, key {id}).")
            } else {
                String::new()
            }
        },
    )?;
    if valid {
        Ok(())
    } else {
        Err(CliError::new(
            Exit::VerificationFailed,
            format!("{what_lower} is NOT valid for this message and key {id} ({alg})"),
        ))
    }
}

pub fn mac(ks: &KeyStore, a: MacArgs, out: Out) -> CliResult<()> {
    let alg: MacAlgorithm = match a.algorithm.as_deref() {
        Some(s) => parse(s)?,
        None => match spec_of(ks, &a.key)? {
            KeySpec::Hmac256 => MacAlgorithm::HmacSha256,
            KeySpec::Hmac224 => MacAlgorithm::HmacSha224,
            KeySpec::Hmac384 => MacAlgorithm::HmacSha384,
            KeySpec::Hmac512 => MacAlgorithm::HmacSha512,
            s => {
                return Err(CliError::new(
                    Exit::InvalidKeyUsage,
                    format!("{s} keys cannot make MACs: use an HMAC_224, HMAC_256, HMAC_384 or HMAC_512 key"),
                ))
            }
        },
    };
    let message = input::read_bounded(&a.input, MAX_MESSAGE)?;
    let id = ks.resolve_key_id(&a.key)?;
    match &a.verify {
        None => {
            let mac = ks.generate_mac(&a.key, &message, alg)?;
            out.emit(
                json!({"key_id": id, "algorithm": alg.as_str(), "mac": input::to_base64(&mac)}),
                || input::to_base64(&mac),
            )
        }
        Some(b64) => {
            let mac = input::base64(b64, "--verify")?;
            let valid = ks.verify_mac(&a.key, &message, &mac, alg)?;
            verdict(out, "MAC", "MAC", &id, alg.as_str(), &alg, valid)
        }
    }
}

/// The DER of a public key file: PEM (`PUBLIC KEY`) or DER.
fn public_key_der(path: &Path) -> CliResult<Vec<u8>> {
    let raw = input::read_bounded(path, 64 * 1024)?;
    Ok(pem_or_der(
        &raw,
        path,
        "PUBLIC KEY",
        "a SubjectPublicKeyInfo `PUBLIC KEY` PEM",
    )?
    .to_vec())
}

/// Writes bytes to a new file (or replaces one with --force).
fn write_file(path: &Path, bytes: &[u8], force: bool) -> CliResult<()> {
    let mut f = Sink::open(Some(path), Privacy::Default, force)?;
    f.write_all(bytes)?;
    f.commit()
}

pub fn generate_data_key(ks: &KeyStore, a: GenerateDataKeyArgs, out: Out) -> CliResult<()> {
    let recipient = public_key_der(&a.recipient)?;
    let ec = input::pairs(&a.context, "--context")?;
    let dk = ks.generate_data_key_for_recipient(&a.key, a.bytes, &ec, &recipient)?;
    write_file(
        &a.ciphertext_for_recipient,
        &dk.ciphertext_for_recipient,
        a.force,
    )?;
    let mut v = json!({
        "key_id": dk.key_id,
        "key_version": dk.key_version,
        "ciphertext_for_recipient": a.ciphertext_for_recipient.display().to_string(),
    });
    match &a.output {
        Some(path) if path != Path::new("-") => {
            write_file(path, &dk.ciphertext, a.force)?;
            v["output"] = json!(path.display().to_string());
        }
        _ => v["ciphertext_blob"] = json!(input::to_base64(&dk.ciphertext)),
    }
    out.emit(v.clone(), || {
        format!(
            "Data key for the recipient in {}; its blob under {} (version {}){}",
            a.ciphertext_for_recipient.display(),
            dk.key_id,
            dk.key_version,
            match (&a.output, v.get("ciphertext_blob")) {
                (_, Some(b)) => format!(":\n{}", b.as_str().unwrap_or_default()),
                (Some(p), None) => format!(" in {}.", p.display()),
                (None, None) => ".".into(),
            }
        )
    })
}

pub fn decrypt_for_recipient(ks: &KeyStore, a: KeyDecryptArgs, out: Out) -> CliResult<()> {
    let recipient = public_key_der(&a.recipient)?;
    let ec = input::pairs(&a.context, "--context")?;
    let blob = input::read_bounded(&a.blob, 64 * 1024)?;
    let cms = ks.decrypt_for_recipient(&blob, &ec, &recipient)?;
    write_file(&a.output, &cms, a.force)?;
    out.emit(json!({"output": a.output.display().to_string()}), || {
        format!(
            "The plaintext for the recipient is in {}.",
            a.output.display()
        )
    })
}

pub fn derive_shared_secret(ks: &KeyStore, a: DeriveSharedSecretArgs, out: Out) -> CliResult<()> {
    let alg: KeyAgreementAlgorithm = parse(a.algorithm.as_deref().unwrap_or("ECDH"))?;
    let peer = public_key_der(&a.public_key)?;
    let secret = ks.derive_shared_secret(&a.key, alg, &peer)?;
    let id = ks.resolve_key_id(&a.key)?;
    let mut v = json!({"key_id": id, "key_agreement_algorithm": alg.as_str()});
    match &a.output {
        Some(path) if path != Path::new("-") => {
            let mut f = Sink::open(Some(path), Privacy::Owner, a.force)?;
            f.write_all(secret.as_bytes())?;
            f.commit()?;
            v["output"] = json!(path.display().to_string());
            out.emit(v, || {
                format!("Shared secret with {id} ({alg}) in {}.", path.display())
            })
        }
        _ => {
            let b64 = input::to_base64(secret.as_bytes());
            v["shared_secret"] = json!(b64);
            out.emit(v, || b64.clone())
        }
    }
}
