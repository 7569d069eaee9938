//! `sealbox encrypt` and `sealbox decrypt`: streaming, in memory bounded by
//! the frame length, whatever the size of the input.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use zeroize::Zeroize;

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::keyring::{
    KeyStoreKeyring, Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaWrappingPadding,
    KEYSTORE_PROVIDER_ID,
};
use sealbox::keystore::KeyStore;
use sealbox::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use sealbox::message::{DecryptOptions, Decryptor, EncryptOptions, Encryptor};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};

use crate::atomic::{Privacy, Sink};
use crate::cli::{DataArgs, DecryptArgs, EncryptArgs, KeyringArgs};
use crate::config::Resolved;
use crate::error::{CliError, CliResult};
use crate::input;
use crate::{store, Out};

/// Reads this much at a time: large enough for throughput, small enough
/// that memory stays flat.
const CHUNK: usize = 64 * 1024;
/// Inputs from this size up get a progress bar (on a terminal).
const PROGRESS_FROM: u64 = 16 * 1024 * 1024;

/// Decrypts with whichever key of the store a message names (as AWS KMS
/// discovery does): for `sealbox decrypt` without key options.
#[derive(Debug)]
struct KeyStoreDiscovery {
    store: KeyStore,
}

impl Keyring for KeyStoreDiscovery {
    fn on_encrypt(&self, _: &mut EncryptionMaterials) -> sealbox::Result<()> {
        Err(sealbox::Error::EncryptFailed(
            "encryption needs a named key (--key)".into(),
        ))
    }

    fn on_decrypt(
        &self,
        m: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> sealbox::Result<()> {
        if m.plaintext_data_key.is_some() {
            return Ok(());
        }
        for edk in edks
            .iter()
            .filter(|e| e.provider_id == KEYSTORE_PROVIDER_ID)
        {
            let Ok(key_id) = std::str::from_utf8(&edk.provider_info) else {
                continue;
            };
            // The named keyring checks that the blob names the same key and
            // unwraps under the message's context; failures stay opaque.
            let named = KeyStoreKeyring::new(self.store.clone(), key_id);
            if named.on_decrypt(m, std::slice::from_ref(edk)).is_ok()
                && m.plaintext_data_key.is_some()
            {
                return Ok(());
            }
        }
        Err(sealbox::Error::DecryptionFailed)
    }
}

fn names(a: &KeyringArgs) -> CliResult<(&str, &str)> {
    match (&a.key_namespace, &a.key_name) {
        (Some(ns), Some(n)) => Ok((ns, n)),
        _ => Err(CliError::usage(
            "raw keys need --key-namespace and --key-name",
        )),
    }
}

fn read_pem(path: &Path, secret: bool) -> CliResult<zeroize::Zeroizing<String>> {
    let bytes = if secret {
        input::read_secret_file(path)?
    } else {
        zeroize::Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| CliError::config(format!("key file {}: {e}", path.display())))?,
        )
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::config(format!("{} is not a PEM file", path.display())))?;
    Ok(zeroize::Zeroizing::new(text.to_owned()))
}

/// The raw keyring the arguments name, if any.
fn raw_keyring(a: &KeyringArgs) -> CliResult<Option<Arc<dyn Keyring>>> {
    if let Some(path) = &a.raw_aes_key {
        let (ns, name) = names(a)?;
        let raw = input::read_secret_file(path)?;
        let key = input::decode_symmetric(
            &raw,
            &[16, 24, 32],
            &format!("AES key file {}", path.display()),
        )?;
        return Ok(Some(Arc::new(RawAesKeyring::new(ns, name, &key)?)));
    }
    if a.raw_rsa_public_key.is_some() || a.raw_rsa_private_key.is_some() {
        let (ns, name) = names(a)?;
        let padding = RsaWrappingPadding::from_name(&a.rsa_padding)?;
        let public = a
            .raw_rsa_public_key
            .as_deref()
            .map(|p| read_pem(p, false))
            .transpose()?;
        let private = a
            .raw_rsa_private_key
            .as_deref()
            .map(|p| read_pem(p, true))
            .transpose()?;
        return Ok(Some(Arc::new(RawRsaKeyring::new(
            ns,
            name,
            padding,
            public.as_deref().map(String::as_str),
            private.as_deref().map(String::as_str),
        )?)));
    }
    if a.key_namespace.is_some() || a.key_name.is_some() {
        return Err(CliError::usage(
            "--key-namespace and --key-name name a raw key: add --raw-aes-key or --raw-rsa-*",
        ));
    }
    Ok(None)
}

fn combine(mut rings: Vec<Arc<dyn Keyring>>, generator: bool) -> CliResult<Arc<dyn Keyring>> {
    if rings.len() == 1 {
        return Ok(rings.remove(0));
    }
    if generator {
        let first = rings.remove(0);
        Ok(Arc::new(MultiKeyring::new(Some(first), rings)?))
    } else {
        Ok(Arc::new(MultiKeyring::new(None, rings)?))
    }
}

fn progress(out: Out, size: Option<u64>) -> Option<indicatif::ProgressBar> {
    let size = size?;
    if out.quiet || out.json || size < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

fn parse_suite(s: &str) -> CliResult<AlgorithmSuite> {
    AlgorithmSuite::from_hex(s)
        .map_err(|_| CliError::usage(format!("unknown suite {s:?} (try 0x0478 or 0x0578)")))
}

fn suite_name(s: AlgorithmSuite) -> String {
    format!("0x{:04X}", s.id())
}

/// Where the output goes, refusing binary ciphertext on a terminal.
fn sink(data: &DataArgs, privacy: Privacy, binary: bool) -> CliResult<Sink> {
    let (output, force) = (data.output.as_deref(), data.force);
    let to_stdout = output.is_none_or(|p| p == Path::new("-"));
    if to_stdout && binary && output.is_none() && std::io::stdout().is_terminal() {
        return Err(CliError::usage(
            "refusing to write binary ciphertext to a terminal: pass -o FILE (or -o - to insist)",
        ));
    }
    Sink::open(output, privacy, force)
}

/// The output for people: its path, or "stdout".
fn output_text(output: Option<&Path>) -> String {
    output
        .filter(|p| *p != Path::new("-"))
        .map(|p| p.display().to_string())
        .unwrap_or("stdout".into())
}

/// The summary of an encryption or decryption: on stderr when the data went
/// to stdout, none with --quiet (unless --json).
fn report(
    out: Out,
    to_stdout: bool,
    summary: serde_json::Value,
    human: impl FnOnce() -> String,
) -> CliResult<()> {
    if to_stdout {
        out.emit_aside(summary, human)
    } else if out.quiet && !out.json {
        Ok(())
    } else {
        out.emit(summary, human)
    }
}

pub fn encrypt(
    resolve: &dyn Fn() -> CliResult<Resolved>,
    a: EncryptArgs,
    out: Out,
) -> CliResult<()> {
    let mut options = EncryptOptions {
        encryption_context: input::pairs(&a.data.context, "context")?,
        frame_length: a.frame_length,
        ..EncryptOptions::default()
    };
    if let Some(s) = &a.suite {
        options.suite = Some(parse_suite(s)?);
    }
    let mut rings: Vec<Arc<dyn Keyring>> = Vec::new();
    if !a.data.keyring.keys.is_empty() {
        let ks = store::open(&resolve()?)?;
        for k in &a.data.keyring.keys {
            // Resolving here turns a wrong name into "key not found"
            // before any output exists.
            ks.resolve_key_id(k)?;
            rings.push(Arc::new(KeyStoreKeyring::new(ks.clone(), k)));
        }
    }
    rings.extend(raw_keyring(&a.data.keyring)?);
    if rings.is_empty() {
        return Err(CliError::usage(
            "no key to encrypt with: pass --key KEY, or --raw-aes-key / --raw-rsa-public-key \
             with --key-namespace and --key-name",
        ));
    }
    let cmm = DefaultMaterialsManager::new(combine(rings, true)?);
    let mut src = input::open(&a.data.input)?;
    options.plaintext_length = src.size;
    // Materials first: a wrong or disabled key fails before any output
    // file exists.
    let mut enc = Encryptor::new(&cmm, &options)?;
    let mut dst = sink(&a.data, Privacy::Default, true)?;
    let bar = progress(out, src.size);
    let mut buf = vec![0u8; CHUNK];
    let mut ct = Vec::with_capacity(CHUNK + 4096);
    let (mut read, mut written) = (0u64, 0u64);
    while let n @ 1.. = src.read_some(&mut buf)? {
        ct.clear();
        enc.update(&buf[..n], &mut ct)?;
        buf[..n].zeroize();
        dst.write_all(&ct)?;
        read += n as u64;
        written += ct.len() as u64;
        if let Some(b) = &bar {
            b.set_position(read);
        }
    }
    ct.clear();
    enc.finish(&mut ct)?;
    dst.write_all(&ct)?;
    written += ct.len() as u64;
    let to_stdout = dst.is_stdout();
    dst.commit()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let suite = options
        .suite
        .unwrap_or(options.commitment_policy.default_suite());
    let summary = json!({
        "input": src.name,
        "output": a.data.output.as_deref().map(|p| p.display().to_string()).unwrap_or("-".into()),
        "plaintext_bytes": read,
        "ciphertext_bytes": written,
        "suite": suite_name(suite),
        "encryption_context": options.encryption_context,
    });
    let human = || {
        format!(
            "Encrypted {} ({read} bytes) to {} ({written} bytes, suite {}).",
            src.name,
            output_text(a.data.output.as_deref()),
            suite_name(suite)
        )
    };
    report(out, to_stdout, summary, human)
}

pub fn decrypt(
    resolve: &dyn Fn() -> CliResult<Resolved>,
    a: DecryptArgs,
    out: Out,
) -> CliResult<()> {
    let expect: EncryptionContext = input::pairs(&a.data.context, "context")?;
    let mut rings: Vec<Arc<dyn Keyring>> = Vec::new();
    let raw = raw_keyring(&a.data.keyring)?;
    if !a.data.keyring.keys.is_empty() {
        let ks = store::open(&resolve()?)?;
        for k in &a.data.keyring.keys {
            ks.resolve_key_id(k)?;
            rings.push(Arc::new(KeyStoreKeyring::new(ks.clone(), k)));
        }
    } else if raw.is_none() {
        let ks = store::open(&resolve()?)?;
        rings.push(Arc::new(KeyStoreDiscovery { store: ks }));
    }
    rings.extend(raw);
    let keyring = combine(rings, false)?;
    let options = DecryptOptions {
        encryption_context: (!a.data.context.is_empty()).then_some(expect),
        commitment_policy: if a.allow_non_committing {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        },
        ..DecryptOptions::default()
    };
    let mut src = input::open(&a.data.input)?;
    let mut dec = Decryptor::new(Arc::new(DefaultMaterialsManager::new(keyring)), options);
    let mut dst = sink(&a.data, Privacy::Owner, false)?;
    let bar = progress(out, src.size);
    let mut buf = vec![0u8; CHUNK];
    let mut pt = zeroize::Zeroizing::new(Vec::with_capacity(CHUNK + 4096));
    let (mut read, mut written) = (0u64, 0u64);
    let result = (|| -> CliResult<()> {
        while let n @ 1.. = src.read_some(&mut buf)? {
            pt.clear();
            dec.update(&buf[..n], &mut pt)?;
            dst.write_all(&pt)?;
            written += pt.len() as u64;
            pt.zeroize();
            read += n as u64;
            if let Some(b) = &bar {
                b.set_position(read);
            }
        }
        pt.clear();
        dec.finish(&mut pt)?;
        dst.write_all(&pt)?;
        Ok(())
    })();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // On failure `dst` is dropped unfinished: its temporary file goes.
    result?;
    written += pt.len() as u64;
    pt.zeroize();
    let suite = dec
        .header()
        .map(|h| suite_name(h.suite))
        .unwrap_or_default();
    let ec = dec.encryption_context().cloned().unwrap_or_default();
    let to_stdout = dst.is_stdout();
    dst.commit()?;
    let summary = json!({
        "input": src.name,
        "output": a.data.output.as_deref().map(|p| p.display().to_string()).unwrap_or("-".into()),
        "ciphertext_bytes": read,
        "plaintext_bytes": written,
        "suite": suite,
        "encryption_context": ec,
    });
    let human = || {
        let ctx = ec
            .iter()
            .filter(|(k, _)| !k.starts_with("aws-crypto-"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "Decrypted {} to {} ({written} bytes, suite {suite}, context: {}).",
            src.name,
            output_text(a.data.output.as_deref()),
            if ctx.is_empty() { "none".into() } else { ctx }
        )
    };
    report(out, to_stdout, summary, human)
}
