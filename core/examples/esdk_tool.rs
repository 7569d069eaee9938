//! A tiny command-line front end to sealbox's envelope layer, used only by
//! the live interoperability tests in `tests/interop/` (Python and Node
//! AWS Encryption SDKs on the other side).
//!
//! ```text
//! esdk_tool encrypt|decrypt --keyring aes|rsa|multi --in FILE --out FILE [options]
//!
//!   --aes-key FILE         raw 16/24/32-byte AES wrapping key (aes, multi)
//!   --rsa-public FILE      PEM public key (rsa, multi; encrypt)
//!   --rsa-private FILE     PEM private key (rsa, multi; decrypt, or encrypt)
//!   --rsa-padding NAME     PKCS1 | OAEP_SHA1_MGF1 | OAEP_SHA256_MGF1 (default) | ...
//!   --namespace NS         key namespace / provider id (default "sealbox-interop")
//!   --aes-name N           AES key name (default "aes-key")
//!   --rsa-name N           RSA key name (default "rsa-key")
//!   --suite 0x0478|0x0578  algorithm suite (encrypt; default: the policy's default)
//!   --frame-length N       plaintext bytes per frame (encrypt; default 16384)
//!   --commitment-policy P  REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default), ...
//!   --context-json FILE    JSON object of strings: the encryption context on
//!                          encrypt, the expected (required) pairs on decrypt
//!   --context-out FILE     decrypt: write the message's full encryption
//!                          context as a JSON object
//! ```
//!
//! Both directions stream (`EncryptingWriter` / `DecryptingReader`), so memory
//! stays bounded by the frame length whatever the input size. Exit status 0
//! on success, 1 (with a message on stderr) on any failure; a failed decrypt
//! removes the partial output file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::{Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaWrappingPadding};
use sealbox::message::{DecryptOptions, DecryptingReader, EncryptOptions, EncryptingWriter};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};

type Res<T> = Result<T, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Encrypt,
    Decrypt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyringKind {
    Aes,
    Rsa,
    Multi,
}

#[derive(Debug)]
struct Args {
    mode: Mode,
    keyring: KeyringKind,
    aes_key: Option<PathBuf>,
    rsa_private: Option<PathBuf>,
    rsa_public: Option<PathBuf>,
    rsa_padding: String,
    namespace: String,
    aes_name: String,
    rsa_name: String,
    suite: Option<AlgorithmSuite>,
    frame_length: Option<u32>,
    commitment_policy: Option<CommitmentPolicy>,
    context_json: Option<PathBuf>,
    context_out: Option<PathBuf>,
    input: PathBuf,
    output: PathBuf,
}

const USAGE: &str =
    "usage: esdk_tool encrypt|decrypt --keyring aes|rsa|multi --in FILE --out FILE \
[--aes-key FILE] [--rsa-public FILE] [--rsa-private FILE] [--rsa-padding NAME] [--namespace NS] \
[--aes-name N] [--rsa-name N] [--suite 0x0478|0x0578] [--frame-length N] [--commitment-policy P] \
[--context-json FILE] [--context-out FILE]";

fn parse_suite(s: &str) -> Res<AlgorithmSuite> {
    AlgorithmSuite::from_hex(s).map_err(|e| format!("--suite: {e}"))
}

fn parse_args(argv: &[String]) -> Res<Args> {
    let mut it = argv.iter();
    let mode = match it.next().map(String::as_str) {
        Some("encrypt") => Mode::Encrypt,
        Some("decrypt") => Mode::Decrypt,
        Some(other) => return Err(format!("unknown subcommand {other:?}\n{USAGE}")),
        None => return Err(USAGE.to_owned()),
    };
    let mut keyring = None;
    let mut aes_key = None;
    let mut rsa_private = None;
    let mut rsa_public = None;
    let mut rsa_padding = "OAEP_SHA256_MGF1".to_owned();
    let mut namespace = "sealbox-interop".to_owned();
    let mut aes_name = "aes-key".to_owned();
    let mut rsa_name = "rsa-key".to_owned();
    let mut suite = None;
    let mut frame_length = None;
    let mut commitment_policy = None;
    let mut context_json = None;
    let mut context_out = None;
    let mut input = None;
    let mut output = None;

    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?
            .clone();
        match flag.as_str() {
            "--keyring" => {
                keyring = Some(match value.as_str() {
                    "aes" => KeyringKind::Aes,
                    "rsa" => KeyringKind::Rsa,
                    "multi" => KeyringKind::Multi,
                    other => {
                        return Err(format!(
                            "--keyring: expected aes, rsa or multi, got {other:?}"
                        ))
                    }
                })
            }
            "--aes-key" => aes_key = Some(PathBuf::from(value)),
            "--rsa-private" => rsa_private = Some(PathBuf::from(value)),
            "--rsa-public" => rsa_public = Some(PathBuf::from(value)),
            "--rsa-padding" => rsa_padding = value,
            "--namespace" => namespace = value,
            "--aes-name" => aes_name = value,
            "--rsa-name" => rsa_name = value,
            "--suite" => suite = Some(parse_suite(&value)?),
            "--frame-length" => {
                frame_length = Some(value.parse::<u32>().map_err(|_| {
                    format!("--frame-length: not a 32-bit unsigned integer: {value:?}")
                })?)
            }
            "--commitment-policy" => {
                commitment_policy =
                    Some(CommitmentPolicy::from_name(&value).map_err(|e| e.to_string())?)
            }
            "--context-json" => context_json = Some(PathBuf::from(value)),
            "--context-out" => context_out = Some(PathBuf::from(value)),
            "--in" => input = Some(PathBuf::from(value)),
            "--out" => output = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }

    Ok(Args {
        mode,
        keyring: keyring.ok_or_else(|| format!("--keyring is required\n{USAGE}"))?,
        aes_key,
        rsa_private,
        rsa_public,
        rsa_padding,
        namespace,
        aes_name,
        rsa_name,
        suite,
        frame_length,
        commitment_policy,
        context_json,
        context_out,
        input: input.ok_or_else(|| format!("--in is required\n{USAGE}"))?,
        output: output.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
    })
}

fn read_file(path: &PathBuf, what: &str) -> Res<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

fn read_pem(path: &Option<PathBuf>, what: &str) -> Res<Option<String>> {
    match path {
        None => Ok(None),
        Some(p) => String::from_utf8(read_file(p, what)?)
            .map(Some)
            .map_err(|_| format!("{what} {} is not UTF-8 PEM", p.display())),
    }
}

fn aes_keyring(a: &Args) -> Res<Arc<dyn Keyring>> {
    let path = a
        .aes_key
        .as_ref()
        .ok_or("--aes-key is required for this keyring")?;
    let key = read_file(path, "AES key")?;
    let k = RawAesKeyring::new(&a.namespace, &a.aes_name, &key)
        .map_err(|e| format!("AES keyring: {e}"))?;
    Ok(Arc::new(k))
}

fn rsa_keyring(a: &Args) -> Res<Arc<dyn Keyring>> {
    let public = read_pem(&a.rsa_public, "RSA public key")?;
    let private = read_pem(&a.rsa_private, "RSA private key")?;
    if public.is_none() && private.is_none() {
        return Err("--rsa-public and/or --rsa-private is required for this keyring".into());
    }
    let padding = RsaWrappingPadding::from_name(&a.rsa_padding).map_err(|e| e.to_string())?;
    let k = RawRsaKeyring::new(
        &a.namespace,
        &a.rsa_name,
        padding,
        public.as_deref(),
        private.as_deref(),
    )
    .map_err(|e| format!("RSA keyring: {e}"))?;
    Ok(Arc::new(k))
}

fn build_keyring(a: &Args) -> Res<Arc<dyn Keyring>> {
    match a.keyring {
        KeyringKind::Aes => aes_keyring(a),
        KeyringKind::Rsa => rsa_keyring(a),
        KeyringKind::Multi => {
            let k = MultiKeyring::new(Some(aes_keyring(a)?), vec![rsa_keyring(a)?])
                .map_err(|e| format!("multi-keyring: {e}"))?;
            Ok(Arc::new(k))
        }
    }
}

fn read_context(path: &PathBuf) -> Res<EncryptionContext> {
    let bytes = read_file(path, "context JSON")?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
    let obj = value.as_object().ok_or_else(|| {
        format!(
            "{}: the encryption context must be a JSON object",
            path.display()
        )
    })?;
    let mut ctx = EncryptionContext::new();
    for (k, v) in obj {
        let s = v
            .as_str()
            .ok_or_else(|| format!("{}: value of {k:?} is not a string", path.display()))?;
        ctx.insert(k.clone(), s.to_owned());
    }
    Ok(ctx)
}

fn write_context(path: &PathBuf, ctx: &EncryptionContext) -> Res<()> {
    let map: BTreeMap<&String, &String> = ctx.iter().collect();
    let json = serde_json::to_vec(&map).map_err(|e| e.to_string())?;
    std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn open_in(path: &PathBuf) -> Res<BufReader<File>> {
    File::open(path)
        .map(|f| BufReader::with_capacity(64 * 1024, f))
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

fn create_out(path: &PathBuf) -> Res<BufWriter<File>> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(64 * 1024, f))
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn run_encrypt(a: &Args, cmm: &DefaultMaterialsManager) -> Res<()> {
    let mut options = EncryptOptions::default();
    if let Some(p) = &a.context_json {
        options.encryption_context = read_context(p)?;
    }
    options.suite = a.suite;
    if let Some(fl) = a.frame_length {
        options.frame_length = fl;
    }
    if let Some(cp) = a.commitment_policy {
        options.commitment_policy = cp;
    }
    let mut input = open_in(&a.input)?;
    let out = create_out(&a.output)?;
    let mut writer =
        EncryptingWriter::new(out, cmm, &options).map_err(|e| format!("encrypt: {e}"))?;
    io::copy(&mut input, &mut writer).map_err(|e| format!("encrypt: {e}"))?;
    let mut out = writer.finish().map_err(|e| format!("encrypt: {e}"))?;
    out.flush().map_err(|e| format!("encrypt: {e}"))?;
    Ok(())
}

fn run_decrypt(a: &Args, cmm: DefaultMaterialsManager) -> Res<()> {
    let mut options = DecryptOptions::default();
    if let Some(p) = &a.context_json {
        options.encryption_context = Some(read_context(p)?);
    }
    if let Some(cp) = a.commitment_policy {
        options.commitment_policy = cp;
    }
    let input = open_in(&a.input)?;
    let cmm: Arc<dyn MaterialsManager> = Arc::new(cmm);
    let mut reader = DecryptingReader::new(input, cmm, options);
    let mut out = create_out(&a.output)?;
    let copied = io::copy(&mut reader, &mut out).and_then(|_| out.flush());
    if let Err(e) = copied {
        drop(out);
        // Never leave plaintext of a message that failed to authenticate.
        let _ = std::fs::remove_file(&a.output);
        return Err(format!("decrypt: {e}"));
    }
    if let Some(p) = &a.context_out {
        let ctx = reader
            .encryption_context()
            .ok_or("decrypt: no encryption context after a complete message")?;
        write_context(p, ctx)?;
    }
    Ok(())
}

fn run(argv: &[String]) -> Res<()> {
    let a = parse_args(argv)?;
    let cmm = DefaultMaterialsManager::new(build_keyring(&a)?);
    match a.mode {
        Mode::Encrypt => run_encrypt(&a, &cmm),
        Mode::Decrypt => run_decrypt(&a, cmm),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("esdk_tool: {msg}");
            ExitCode::from(1)
        }
    }
}
