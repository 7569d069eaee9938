//! `sealbox encrypt` and `sealbox decrypt`: streaming, in memory bounded by
//! the frame length, whatever the size of the input.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::keyring::{
    pq_generate_key_pair, EcdhCurveSpec, EcdhKeyAgreementScheme, KeyStoreKeyring, Keyring,
    MultiKeyring, PqKeyring, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaWrappingPadding,
    KEYSTORE_PROVIDER_ID,
};
use sealbox::keystore::KeyStore;
use sealbox::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use sealbox::message::{
    rewrap_header, DecryptOptions, Decryptor, EncryptOptions, Encryptor, HeaderRewrap, InputMemory,
    Parallelism, RewrapOptions, Rewrapper,
};
use sealbox::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};

use crate::atomic::{Privacy, Sink};
use crate::cli::{DataArgs, DecryptArgs, EncryptArgs, KeyringArgs, RewrapArgs};
use crate::config::Resolved;
use crate::error::{CliError, CliResult};
use crate::input;
use crate::{store, Out};
use sealbox::crypto::{XWING_PUBLIC_LEN, XWING_SEED_LEN};

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

/// A key file's bytes: a secret one must be private to its owner (0600).
fn read_key_file(path: &Path, secret: bool) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    if secret {
        return input::read_secret_file(path);
    }
    std::fs::read(path)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| CliError::config(format!("key file {}: {e}", path.display())))
}

fn read_pem(path: &Path, secret: bool) -> CliResult<zeroize::Zeroizing<String>> {
    let bytes = read_key_file(path, secret)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::config(format!("{} is not a PEM file", path.display())))?;
    Ok(zeroize::Zeroizing::new(text.to_owned()))
}

/// The raw keyring the arguments name, if any, to encrypt with (`encrypting`)
/// or to open messages with.
fn raw_keyring(a: &KeyringArgs, encrypting: bool) -> CliResult<Option<Arc<dyn Keyring>>> {
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
    if a.raw_ecdh_private_key.is_some() || a.raw_ecdh_public_key.is_some() {
        if a.key_namespace.is_some() || a.key_name.is_some() {
            return Err(CliError::usage(
                "raw ECDH keys have no namespace or name: drop --key-namespace and --key-name",
            ));
        }
        match (&a.raw_ecdh_private_key, &a.raw_ecdh_public_key, encrypting) {
            (Some(_), None, true) => {
                return Err(CliError::usage(
                    "raw ECDH encrypts to a recipient: add --raw-ecdh-public-key (the recipient's \
                     key; with --raw-ecdh-private-key, yours as a static sender key)",
                ))
            }
            (None, Some(_), false) => {
                return Err(CliError::usage(
                    "raw ECDH decrypts with a private key: add --raw-ecdh-private-key (the \
                     recipient's; with --raw-ecdh-public-key, a static pair)",
                ))
            }
            _ => {}
        }
        let private = a
            .raw_ecdh_private_key
            .as_deref()
            .map(|p| read_key_file(p, true))
            .transpose()?;
        let public = a
            .raw_ecdh_public_key
            .as_deref()
            .map(|p| read_key_file(p, false))
            .transpose()?;
        // The keys say which scheme and which curve.
        let scheme = match (&private, &public) {
            (Some(_), Some(_)) => EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey,
            (None, _) => EcdhKeyAgreementScheme::EphemeralPrivateKeyToStaticPublicKey,
            (Some(_), None) => EcdhKeyAgreementScheme::PublicKeyDiscovery,
        };
        let either = private
            .as_deref()
            .or(public.as_deref())
            .map_or(&[][..], Vec::as_slice);
        let curve = EcdhCurveSpec::of_key(either)?;
        return Ok(Some(Arc::new(RawEcdhKeyring::new(
            scheme,
            curve,
            private.as_deref().map(Vec::as_slice),
            public.as_deref().map(Vec::as_slice),
        )?)));
    }
    if a.key_namespace.is_some() || a.key_name.is_some() {
        return Err(CliError::usage(
            "--key-namespace and --key-name name a raw key: add --raw-aes-key or --raw-rsa-*",
        ));
    }
    Ok(None)
}

/// The post-quantum keyring the arguments name, if any.
fn pq_keyring(a: &KeyringArgs) -> CliResult<Option<Arc<dyn Keyring>>> {
    if a.pq_public_key.is_none() && a.pq_private_key.is_none() {
        return Ok(None);
    }
    let public = a
        .pq_public_key
        .as_deref()
        .map(|p| {
            let raw = read_key_file(p, false)?;
            input::decode_symmetric(
                &raw,
                &[XWING_PUBLIC_LEN],
                &format!("post-quantum public key {}", p.display()),
            )
        })
        .transpose()?;
    let private = a
        .pq_private_key
        .as_deref()
        .map(|p| {
            let raw = input::read_secret_file(p)?;
            input::decode_symmetric(
                &raw,
                &[XWING_SEED_LEN],
                &format!("post-quantum private key {}", p.display()),
            )
        })
        .transpose()?;
    Ok(Some(Arc::new(PqKeyring::new(
        public.as_deref().map(Vec::as_slice),
        private.as_deref().map(Vec::as_slice),
    )?)))
}

/// `sealbox pq-keygen`: a new X-Wing key pair in two files.
pub fn pq_keygen(a: crate::cli::PqKeygenArgs, out: Out) -> CliResult<()> {
    if a.private_key == Path::new("-") || a.public_key == Path::new("-") {
        return Err(CliError::usage(
            "pq-keygen writes files: name them (the private key never goes to stdout)",
        ));
    }
    let same = a.private_key == a.public_key
        || matches!(
            (std::fs::canonicalize(&a.private_key), std::fs::canonicalize(&a.public_key)),
            (Ok(x), Ok(y)) if x == y
        );
    if same {
        return Err(CliError::usage(
            "--private-key and --public-key name the same file",
        ));
    }
    // Neither file is written when either would be refused.
    for path in [&a.private_key, &a.public_key] {
        if !a.force && path.exists() {
            return Err(CliError::new(
                crate::error::Exit::AlreadyExists,
                format!("{} exists; pass --force to replace it", path.display()),
            ));
        }
    }
    let (private, public) = pq_generate_key_pair()?;
    let encode = |b: &[u8]| -> zeroize::Zeroizing<Vec<u8>> {
        if a.base64 {
            let text = zeroize::Zeroizing::new(input::to_base64(b));
            let mut out = zeroize::Zeroizing::new(Vec::with_capacity(text.len() + 1));
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
            out
        } else {
            zeroize::Zeroizing::new(b.to_vec())
        }
    };
    for (path, bytes, privacy) in [
        (&a.private_key, encode(private.as_bytes()), Privacy::Owner),
        (&a.public_key, encode(&public), Privacy::Default),
    ] {
        let mut f = Sink::open(Some(path), privacy, a.force)?;
        f.write_all(&bytes)?;
        f.commit()?;
    }
    let key_id = PqKeyring::new(Some(&public), None)?
        .key_id()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let v = json!({
        "private_key": a.private_key.display().to_string(),
        "public_key": a.public_key.display().to_string(),
        "key_id": key_id,
    });
    out.emit(v, || {
        format!(
            "Post-quantum key pair: private key {} (keep it secret), public key {} (key ID {key_id}).",
            a.private_key.display(),
            a.public_key.display()
        )
    })
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

/// `--threads`: absent for every core.
fn parallelism(threads: Option<u16>) -> CliResult<Parallelism> {
    Ok(Parallelism::from_option(threads.map(usize::from))?)
}

/// Bytes read per step: enough whole frames per call for the frame threads
/// to pay (8 MiB) when several may run (not `--threads 1`, not one core);
/// memory stays bounded by this and the frame length.
fn chunk_len(p: Parallelism) -> usize {
    // Two batches of a stream (8 MiB) when several threads may work.
    p.stream_batch().map_or(CHUNK, |batch| 2 * batch)
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
        parallelism: parallelism(a.data.threads)?,
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
    rings.extend(raw_keyring(&a.data.keyring, true)?);
    rings.extend(pq_keyring(&a.data.keyring)?);
    if rings.is_empty() {
        return Err(CliError::usage(
            "no key to encrypt with: pass --key KEY, --raw-aes-key / --raw-rsa-public-key \
             with --key-namespace and --key-name, --raw-ecdh-public-key or --pq-public-key",
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
    let mut buf = vec![0u8; chunk_len(options.parallelism)];
    let mut ct = Vec::with_capacity(buf.len() + buf.len() / 64 + 4096);
    let (mut read, mut written) = (0u64, 0u64);
    while let n @ 1.. = src.read_some(&mut buf)? {
        ct.clear();
        let sealed = enc.update(&buf[..n], &mut ct);
        // The plaintext read, wiped whatever the outcome (a failed read
        // writes none): one memset (`zeroize`'s byte-wise volatile writes
        // took longer than sealing the chunk on two threads).
        sealbox::secret::wipe(&mut buf[..n]);
        sealed?;
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

/// The keyring that opens messages: the named key-store and raw keys, or
/// without any, whichever key of the store a message names.
fn opening_keyring(
    resolve: &dyn Fn() -> CliResult<Resolved>,
    args: &KeyringArgs,
) -> CliResult<Arc<dyn Keyring>> {
    let mut rings: Vec<Arc<dyn Keyring>> = Vec::new();
    let mut raw: Vec<Arc<dyn Keyring>> = raw_keyring(args, false)?.into_iter().collect();
    raw.extend(pq_keyring(args)?);
    if !args.keys.is_empty() {
        let ks = store::open(&resolve()?)?;
        for k in &args.keys {
            ks.resolve_key_id(k)?;
            rings.push(Arc::new(KeyStoreKeyring::new(ks.clone(), k)));
        }
    } else if raw.is_empty() {
        let ks = store::open(&resolve()?)?;
        rings.push(Arc::new(KeyStoreDiscovery { store: ks }));
    }
    rings.extend(raw);
    combine(rings, false)
}

/// How messages are opened: the context they must hold, and whether
/// non-committing suites are accepted.
fn opening_options(context: &[String], allow_non_committing: bool) -> CliResult<DecryptOptions> {
    let expect: EncryptionContext = input::pairs(context, "context")?;
    Ok(DecryptOptions {
        encryption_context: (!context.is_empty()).then_some(expect),
        commitment_policy: if allow_non_committing {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        },
        ..DecryptOptions::default()
    })
}

pub fn decrypt(
    resolve: &dyn Fn() -> CliResult<Resolved>,
    a: DecryptArgs,
    out: Out,
) -> CliResult<()> {
    let keyring = opening_keyring(resolve, &a.data.keyring)?;
    let options = DecryptOptions {
        parallelism: parallelism(a.data.threads)?,
        ..opening_options(&a.data.context, a.allow_non_committing)?
    };
    let mut src = input::open(&a.data.input)?;
    let dec_parallelism = options.parallelism;
    // The ciphertext is read into `buf`, this function's own buffer, which
    // nothing writes while `update` reads it.
    let mut dec = Decryptor::with_memory(
        Arc::new(DefaultMaterialsManager::new(keyring)),
        options,
        InputMemory::Unchanging,
    );
    let mut dst = sink(&a.data, Privacy::Owner, false)?;
    let bar = progress(out, src.size);
    let mut buf = vec![0u8; chunk_len(dec_parallelism)];
    // Plaintext: wiped after every chunk and once more below, on success
    // and on failure (memsets over what was used, not a byte-wise walk of
    // the whole 8 MiB when dropped).
    let mut pt = Vec::with_capacity(buf.len() + 4096);
    let (mut read, mut written) = (0u64, 0u64);
    let result = (|| -> CliResult<()> {
        while let n @ 1.. = src.read_some(&mut buf)? {
            pt.clear();
            dec.update(&buf[..n], &mut pt)?;
            dst.write_all(&pt)?;
            written += pt.len() as u64;
            sealbox::secret::wipe_vec(&mut pt);
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
    let last = pt.len() as u64;
    sealbox::secret::wipe_vec(&mut pt);
    // On failure `dst` is dropped unfinished: its temporary file goes.
    result?;
    written += last;
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

pub fn rewrap(resolve: &dyn Fn() -> CliResult<Resolved>, a: RewrapArgs, out: Out) -> CliResult<()> {
    let to = KeyringArgs {
        keys: a.to_keys.clone(),
        raw_aes_key: a.to_raw_aes_key.clone(),
        raw_rsa_public_key: a.to_raw_rsa_public_key.clone(),
        raw_rsa_private_key: None,
        rsa_padding: a.to_rsa_padding.clone(),
        raw_ecdh_private_key: None,
        raw_ecdh_public_key: a.to_raw_ecdh_public_key.clone(),
        pq_public_key: a.to_pq_public_key.clone(),
        pq_private_key: None,
        key_namespace: a.to_key_namespace.clone(),
        key_name: a.to_key_name.clone(),
    };
    let mut rings: Vec<Arc<dyn Keyring>> = Vec::new();
    if !to.keys.is_empty() {
        let ks = store::open(&resolve()?)?;
        for k in &to.keys {
            ks.resolve_key_id(k)?;
            rings.push(Arc::new(KeyStoreKeyring::new(ks.clone(), k)));
        }
    }
    rings.extend(raw_keyring(&to, true).map_err(|e| {
        e.reworded("--key-", "--to-key-")
            .reworded("--raw-", "--to-raw-")
    })?);
    rings.extend(pq_keyring(&to)?);
    if rings.is_empty() {
        return Err(CliError::usage(
            "no key to wrap with: pass --to-key KEY, --to-raw-aes-key / \
             --to-raw-rsa-public-key with --to-key-namespace and --to-key-name, \
             --to-raw-ecdh-public-key or --to-pq-public-key",
        ));
    }
    // Every key wraps the data key the message already has.
    let encrypt_with: Arc<dyn Keyring> = if rings.len() == 1 {
        rings.remove(0)
    } else {
        Arc::new(MultiKeyring::new(None, rings)?)
    };
    let decrypt_with = opening_keyring(resolve, &a.from)?;
    let options = RewrapOptions {
        decrypt: opening_options(&a.context, a.allow_non_committing)?,
        ..RewrapOptions::default()
    };
    if a.in_place && a.input == Path::new("-") {
        return Err(CliError::usage("--in-place needs a file, not stdin"));
    }
    let mut recovered = None;
    if a.in_place {
        recovered = crate::inplace::recover(&a.input)?;
        if let Some(done) = header_in_place(
            &a,
            &decrypt_with,
            encrypt_with.as_ref(),
            &options,
            out,
            recovered,
        )? {
            return Ok(done);
        }
    }
    let mut src = input::open(&a.input)?;
    let output = if a.in_place {
        Some(a.input.clone())
    } else {
        a.output.clone()
    };
    let data = DataArgs {
        input: a.input.clone(),
        output: output.clone(),
        force: a.force || a.in_place,
        keyring: to,
        context: Vec::new(),
        threads: None,
    };
    let mut dst = sink(&data, Privacy::Default, true)?;
    if a.in_place {
        if let Sink::File(f) = &dst {
            let mode = std::fs::metadata(&a.input)
                .map_err(|e| CliError::io(&a.input, e))?
                .permissions();
            f.set_permissions(mode)?;
        }
    }
    let started = std::time::Instant::now();
    let mut rw = Rewrapper::new(
        Arc::new(DefaultMaterialsManager::new(decrypt_with)),
        encrypt_with,
        options,
    );
    let bar = progress(out, src.size);
    let mut buf = vec![0u8; 4 * CHUNK];
    let mut chunk = Vec::with_capacity(4 * CHUNK + 4096);
    let mut read = 0u64;
    let result = (|| -> CliResult<sealbox::message::RewrapSummary> {
        while let n @ 1.. = src.read_some(&mut buf)? {
            chunk.clear();
            rw.update(&buf[..n], &mut chunk)?;
            dst.write_all(&chunk)?;
            read += n as u64;
            if let Some(b) = &bar {
                b.set_position(read);
            }
        }
        Ok(rw.finish()?)
    })();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // On failure `dst` is dropped unfinished: its temporary file goes, and
    // an in-place input stays as it was.
    let summary = result?;
    let to_stdout = dst.is_stdout();
    dst.commit()?;
    let elapsed = started.elapsed();
    let json = json!({
        "input": src.name,
        "output": output.as_deref().map(|p| p.display().to_string()).unwrap_or("-".into()),
        "bytes_in": summary.bytes_in,
        "bytes_out": summary.bytes_out,
        "suite": suite_name(summary.suite),
        "encrypted_data_keys": summary.encrypted_data_keys,
        "resigned": summary.resigned,
        "header_bytes": [summary.header_len.0, summary.header_len.1],
        "mode": "whole message",
        "recovered": recovered,
        "seconds": elapsed.as_secs_f64(),
    });
    let human = || {
        format!(
            "Rewrapped {} to {} ({} bytes, suite {}, {} encrypted data key{}{}, {:.3} s).",
            src.name,
            output_text(output.as_deref()),
            summary.bytes_out,
            suite_name(summary.suite),
            summary.encrypted_data_keys,
            if summary.encrypted_data_keys == 1 {
                ""
            } else {
                "s"
            },
            if summary.resigned {
                ", signed again"
            } else {
                ""
            },
            elapsed.as_secs_f64()
        )
    };
    report(out, to_stdout, json, human)
}

/// `--in-place` for an unsigned message whose new header has the old one's
/// length: only the header is replaced (through a journal, see
/// [`crate::inplace`]); the body, whatever its size, is not read. `None`
/// when the whole message must be rewritten instead (a signed suite, or a
/// header of another length).
fn header_in_place(
    a: &RewrapArgs,
    decrypt_with: &Arc<dyn Keyring>,
    encrypt_with: &dyn Keyring,
    options: &RewrapOptions,
    out: Out,
    recovered: Option<&'static str>,
) -> CliResult<Option<()>> {
    let started = std::time::Instant::now();
    let cmm = DefaultMaterialsManager::new(decrypt_with.clone());
    let mut result = None;
    let prefix = crate::inplace::read_prefix(&a.input, |bytes| {
        match rewrap_header(bytes, &cmm, encrypt_with, options) {
            Ok(HeaderRewrap::NeedMore(n)) => Ok(Some(n)),
            Ok(done) => {
                result = Some(done);
                Ok(None)
            }
            // A signed suite: the whole message is signed again below.
            Err(sealbox::Error::InvalidArgument(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })?;
    let Some(HeaderRewrap::Done {
        old_len,
        header,
        summary,
    }) = result
    else {
        return Ok(None);
    };
    if header.len() != old_len {
        return Ok(None);
    }
    crate::inplace::replace_header(&a.input, &prefix[..old_len], &header)?;
    let size = std::fs::metadata(&a.input)
        .map_err(|e| CliError::io(&a.input, e))?
        .len();
    let elapsed = started.elapsed();
    let name = a.input.display().to_string();
    let json = json!({
        "input": name,
        "output": name,
        "bytes_in": size,
        "bytes_out": size,
        "suite": suite_name(summary.suite),
        "encrypted_data_keys": summary.encrypted_data_keys,
        "resigned": false,
        "header_bytes": [old_len, header.len()],
        "mode": "header in place",
        "recovered": recovered,
        "seconds": elapsed.as_secs_f64(),
    });
    let human = || {
        format!(
            "Rewrapped {name} in place ({size} bytes; only its {old_len}-byte header was \
             replaced; suite {}, {} encrypted data key{}, {:.3} s).",
            suite_name(summary.suite),
            summary.encrypted_data_keys,
            if summary.encrypted_data_keys == 1 {
                ""
            } else {
                "s"
            },
            elapsed.as_secs_f64()
        )
    };
    out.emit(json, human)?;
    Ok(Some(()))
}
