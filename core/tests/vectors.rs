//! The official AWS Encryption SDK decrypt vectors, vendored in
//! ../shared/vectors (see its README): every manifest entry must give the
//! manifest's answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use serde_json::Value;

use sealbox::cmm::DefaultMaterialsManager;
use sealbox::keyring::{
    EcdhCurveSpec, EcdhKeyAgreementScheme, Keyring, MultiKeyring, RawAesKeyring, RawEcdhKeyring,
    RawRsaKeyring, RsaWrappingPadding,
};
use sealbox::message::{decrypt, decrypt_into, plaintext_len, DecryptOptions};
use sealbox::{CommitmentPolicy, EncryptionContext};

fn vectors_root() -> PathBuf {
    match std::env::var_os("SEALBOX_VECTORS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"),
    }
}

fn load_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn file_uri(dir: &Path, uri: &str) -> PathBuf {
    dir.join(uri.strip_prefix("file://").expect("file:// URI"))
}

fn padding(desc: &Value) -> RsaWrappingPadding {
    match (
        desc["padding-algorithm"].as_str(),
        desc["padding-hash"].as_str(),
    ) {
        (Some("pkcs1"), _) => RsaWrappingPadding::Pkcs1,
        (Some("oaep-mgf1"), Some("sha1")) => RsaWrappingPadding::OaepSha1Mgf1,
        (Some("oaep-mgf1"), Some("sha256")) => RsaWrappingPadding::OaepSha256Mgf1,
        (Some("oaep-mgf1"), Some("sha384")) => RsaWrappingPadding::OaepSha384Mgf1,
        (Some("oaep-mgf1"), Some("sha512")) => RsaWrappingPadding::OaepSha512Mgf1,
        other => panic!("unknown RSA padding {other:?}"),
    }
}

/// A raw keyring from a manifest key description (`type: raw`).
fn raw_keyring(desc: &Value, keys: &Value) -> Arc<dyn Keyring> {
    let key = &keys[desc["key"].as_str().unwrap()];
    let provider = desc["provider-id"].as_str().unwrap();
    let name = key["key-id"].as_str().unwrap();
    let material = key["material"].as_str().unwrap();
    match desc["encryption-algorithm"].as_str().unwrap() {
        "aes" => {
            let k = base64::engine::general_purpose::STANDARD
                .decode(material)
                .unwrap();
            Arc::new(RawAesKeyring::new(provider, name, &k).unwrap())
        }
        "rsa" => {
            let (public, private) = match key["type"].as_str().unwrap() {
                "private" => (None, Some(material)),
                _ => (Some(material), None),
            };
            Arc::new(RawRsaKeyring::new(provider, name, padding(desc), public, private).unwrap())
        }
        other => panic!("unknown algorithm {other}"),
    }
}

struct Tally {
    positive_ok: usize,
    negative_rejected: usize,
    failures: Vec<String>,
    skipped: BTreeMap<String, usize>,
}

fn run_parallel<T: Sync>(items: &[T], f: impl Fn(&T) -> Result<(), String> + Sync) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().filter_map(|t| f(t).err()).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The `keys` of `dir/keys.json` and the manifest's tests, by name.
fn keys_and_tests(dir: &Path, manifest: &Value) -> (Value, Vec<(String, Value)>) {
    let keys = load_json(&dir.join("keys.json"))["keys"].clone();
    let tests = manifest["tests"].as_object().unwrap().clone();
    (keys, tests.into_iter().collect())
}

/// `decrypt_into` a buffer of the length the structure gives agrees with
/// `decrypt`: the plaintext `want` of a positive vector (and that length),
/// a failure with the buffer left zeroed for a negative one.
fn into_agrees(
    id: &str,
    ct: &[u8],
    cmm: &DefaultMaterialsManager,
    opts: &DecryptOptions,
    want: Option<&[u8]>,
) -> Result<(), String> {
    let len = plaintext_len(ct, opts.max_encrypted_data_keys);
    match (want, len) {
        (Some(w), Some(n)) if n == w.len() => {
            let mut out = vec![0xAAu8; n];
            match decrypt_into(ct, cmm, opts, &mut out) {
                Ok(_) if out == w => Ok(()),
                Ok(_) => Err(format!("{id}: decrypt_into gave another plaintext")),
                Err(e) => Err(format!("{id}: decrypt_into failed: {e}")),
            }
        }
        (Some(_), n) => Err(format!("{id}: plaintext_len {n:?}")),
        (None, n) => {
            let mut out = vec![0xAAu8; n.unwrap_or(16)];
            match decrypt_into(ct, cmm, opts, &mut out) {
                Ok(_) => Err(format!("{id}: negative vector decrypted into a buffer")),
                Err(_) if out.iter().all(|&b| b == 0) => Ok(()),
                Err(_) => Err(format!("{id}: buffer not zeroed after a failure")),
            }
        }
    }
}

#[test]
fn esdk_python_4_0_7_decrypt_vectors() {
    let dir = vectors_root().join("esdk-python-4.0.7");
    let manifest = load_json(&dir.join("manifest.json"));
    assert_eq!(manifest["manifest"]["type"], "awses-decrypt");
    let (keys, tests) = keys_and_tests(&dir, &manifest);
    assert_eq!(tests.len(), 4759);

    let positives = tests
        .iter()
        .filter(|(_, t)| t["result"].get("output").is_some())
        .count();
    let failures = run_parallel(&tests, |(id, t)| {
        let ct = std::fs::read(file_uri(&dir, t["ciphertext"].as_str().unwrap())).unwrap();
        let children: Vec<Arc<dyn Keyring>> = t["master-keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|mk| raw_keyring(mk, &keys))
            .collect();
        let keyring = Arc::new(MultiKeyring::new(None, children).unwrap());
        let cmm = DefaultMaterialsManager::new(keyring);
        let opts = DecryptOptions::default();
        let got = decrypt(&ct, &cmm, &opts);
        let want = match &t["result"]["output"]["plaintext"] {
            Value::String(uri) => Some(std::fs::read(file_uri(&dir, uri)).unwrap()),
            _ => None,
        };
        into_agrees(id, &ct, &cmm, &opts, want.as_deref())?;
        match (&t["result"]["output"]["plaintext"], got) {
            (Value::String(_), Ok(res)) => {
                let want = want.unwrap_or_default();
                if res.plaintext != want {
                    return Err(format!("{id}: wrong plaintext"));
                }
                let ec: EncryptionContext =
                    serde_json::from_value(t["encryption-context"].clone()).unwrap();
                for (k, v) in ec {
                    if res.encryption_context.get(&k) != Some(&v) {
                        return Err(format!("{id}: encryption context lacks {k:?}"));
                    }
                }
                Ok(())
            }
            (Value::String(_), Err(e)) => Err(format!("{id}: positive vector failed: {e}")),
            (_, Ok(_)) => Err(format!(
                "{id}: negative vector ({}) decrypted",
                t["result"]["error"]["error-description"]
            )),
            (_, Err(sealbox::Error::DecryptionFailed)) => Ok(()),
            (_, Err(e)) => Err(format!(
                "{id}: negative vector rejected with a non-opaque error: {e}"
            )),
        }
    });
    let tally = Tally {
        positive_ok: positives - failures.iter().filter(|f| f.contains("positive")).count(),
        negative_rejected: tests.len() - positives,
        failures,
        skipped: BTreeMap::new(),
    };
    println!(
        "esdk-python-4.0.7: {} positive decrypted, {} negative rejected, {} failures",
        tally.positive_ok,
        tally.negative_rejected,
        tally.failures.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{:#?}",
        &tally.failures[..tally.failures.len().min(20)]
    );
    assert_eq!(positives, 520);
    assert!(tally.skipped.is_empty());
}

/// The raw ECDH keyring that decrypts a Dafny `raw-ecdh` vector: for the
/// `discovery` schema the recipient's private key; for `static`, the
/// sender's private key and the recipient's public key (the pair that
/// encrypted, which decrypts its own messages).
fn raw_ecdh_keyring(desc: &Value, keys: &Value) -> Arc<dyn Keyring> {
    let curve = match desc["ecc-curve"].as_str().unwrap() {
        "ecc-256" => EcdhCurveSpec::EccNistP256,
        "ecc-384" => EcdhCurveSpec::EccNistP384,
        "ecc-521" => EcdhCurveSpec::EccNistP521,
        c => panic!("unknown curve {c}"),
    };
    let text = |key: &str, field: &str| keys[key][field].as_str().unwrap().as_bytes().to_vec();
    let der = |key: &str, field: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(keys[key][field].as_str().unwrap())
            .unwrap()
    };
    let recipient = desc["recipient"].as_str().unwrap();
    let keyring = match desc["schema"].as_str().unwrap() {
        "discovery" => RawEcdhKeyring::new(
            EcdhKeyAgreementScheme::PublicKeyDiscovery,
            curve,
            Some(&text(recipient, "recipient-material")),
            None,
        ),
        "static" => RawEcdhKeyring::new(
            EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey,
            curve,
            Some(&text(desc["sender"].as_str().unwrap(), "sender-material")),
            Some(&der(
                recipient,
                desc["recipient-public-key"].as_str().unwrap(),
            )),
        ),
        s => panic!("unknown raw-ecdh schema {s}"),
    };
    Arc::new(keyring.unwrap())
}

/// Builds a keyring for a Dafny key description, or says why it cannot be
/// built offline.
fn dafny_keyring(desc: &Value, keys: &Value) -> Result<Arc<dyn Keyring>, String> {
    match desc["type"].as_str().unwrap() {
        "raw" => Ok(raw_keyring(desc, keys)),
        "multi-keyring" => {
            let generator = match desc.get("generator") {
                Some(Value::Null) | None => None,
                Some(g) => Some(dafny_keyring(g, keys)?),
            };
            let children = desc["childKeyrings"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .map(|d| dafny_keyring(d, keys))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok(Arc::new(MultiKeyring::new(generator, children).unwrap()))
        }
        "required-encryption-context-cmm" => dafny_keyring(&desc["underlying"], keys),
        t if t.starts_with("aws-kms") => Err(format!("{t}: needs AWS KMS")),
        "raw-ecdh" => Ok(raw_ecdh_keyring(desc, keys)),
        t => Err(format!("{t}: unknown key description")),
    }
}

#[test]
fn esdk_dafny_4_1_0_raw_key_decrypt_vectors() {
    let dir = vectors_root().join("esdk-dafny-4.1.0");
    let manifest = load_json(&dir.join("decrypt-manifest.json"));
    let (keys, tests) = keys_and_tests(&dir, &manifest);
    assert_eq!(tests.len(), 487);

    let mut runnable = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (id, t) in &tests {
        let s = &t["decryption-scenario"];
        assert_eq!(s["type"], "positive-esdk", "{id}");
        match dafny_keyring(&s["decryptKeyDescription"], &keys) {
            Ok(k) => runnable.push((id.clone(), s.clone(), k)),
            Err(why) => *skipped.entry(why).or_default() += 1,
        }
    }
    let mut by_suite: BTreeMap<String, usize> = BTreeMap::new();
    for (_, s, _) in &runnable {
        *by_suite
            .entry(s["algorithmSuiteId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let failures = run_parallel(&runnable, |(id, s, keyring)| {
        let ct = std::fs::read(file_uri(&dir, s["ciphertext"].as_str().unwrap())).unwrap();
        let want = std::fs::read(file_uri(&dir, s["result"].as_str().unwrap())).unwrap();
        let reproduced: EncryptionContext =
            serde_json::from_value(s["reproduced-encryption-context"].clone()).unwrap_or_default();
        let cmm = DefaultMaterialsManager::new(keyring.clone());
        let opts = DecryptOptions {
            encryption_context: (!reproduced.is_empty()).then_some(reproduced),
            commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
            ..DecryptOptions::default()
        };
        into_agrees(id, &ct, &cmm, &opts, Some(&want))?;
        match decrypt(&ct, &cmm, &opts) {
            Ok(r)
                if r.plaintext == want
                    && format!("{:04X}", r.suite.id())
                        == s["algorithmSuiteId"].as_str().unwrap().to_uppercase() =>
            {
                Ok(())
            }
            Ok(_) => Err(format!("{id}: wrong plaintext or suite")),
            Err(e) => Err(format!("{id} ({}): {e}", s["description"])),
        }
    });
    println!(
        "esdk-dafny-4.1.0: {} raw-key vectors decrypted, by suite {by_suite:?}",
        runnable.len() - failures.len()
    );
    for (why, n) in &skipped {
        println!("esdk-dafny-4.1.0: skipped {n}: {why}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Every one of the eleven suites is exercised by the raw-key vectors.
    assert_eq!(by_suite.len(), 11, "{by_suite:?}");
    assert_eq!(runnable.len() + skipped.values().sum::<usize>(), 487);
    // 88 raw, 44 multi-keyring and 55 required-context vectors, and the 99
    // raw ECDH ones (66 discovery, 33 static): only those needing AWS KMS
    // are skipped (201; 300 before the raw ECDH keyring).
    assert_eq!(
        runnable.len(),
        286,
        "raw, multi, required-context and raw ECDH vectors"
    );
    assert!(
        skipped.keys().all(|why| why.starts_with("aws-kms")),
        "{skipped:?}"
    );
}

/// Every esdk-python vector rewrapped to a fresh raw AES key: a positive
/// one decrypts to its plaintext under the new key (the body of an
/// unsigned one is byte for byte the old body); a negative one is refused
/// by the rewrap or, if only its body is damaged, still refused on decrypt.
/// A rewrap never turns a bad message into a good one.
#[test]
fn esdk_python_4_0_7_vectors_rewrapped() {
    use sealbox::message::{rewrap, RewrapOptions};
    let dir = vectors_root().join("esdk-python-4.0.7");
    let manifest = load_json(&dir.join("manifest.json"));
    let (keys, tests) = keys_and_tests(&dir, &manifest);
    let fresh: Arc<dyn Keyring> =
        Arc::new(RawAesKeyring::new("sealbox-rewrap", "fresh", &[0x33; 32]).unwrap());
    let opts = RewrapOptions {
        decrypt: DecryptOptions {
            commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
            ..DecryptOptions::default()
        },
        ..RewrapOptions::default()
    };
    let open = DecryptOptions {
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    };
    let rewrapped = std::sync::atomic::AtomicUsize::new(0);
    let failures = run_parallel(&tests, |(id, t)| {
        let ct = std::fs::read(file_uri(&dir, t["ciphertext"].as_str().unwrap())).unwrap();
        let children: Vec<Arc<dyn Keyring>> = t["master-keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|mk| raw_keyring(mk, &keys))
            .collect();
        let old =
            DefaultMaterialsManager::new(Arc::new(MultiKeyring::new(None, children).unwrap()));
        let new = DefaultMaterialsManager::new(fresh.clone());
        let got = rewrap(&ct, &old, fresh.as_ref(), &opts);
        match (&t["result"]["output"]["plaintext"], got) {
            (Value::String(uri), Ok((re, s))) => {
                let want = std::fs::read(file_uri(&dir, uri)).unwrap();
                let res = decrypt(&re, &new, &open)
                    .map_err(|e| format!("{id}: rewrapped message failed: {e}"))?;
                if res.plaintext != want {
                    return Err(format!("{id}: wrong plaintext after rewrap"));
                }
                if !s.resigned && ct[s.header_len.0..] != re[s.header_len.1..] {
                    return Err(format!("{id}: the body changed"));
                }
                if decrypt(&re, &old, &open).is_ok() {
                    return Err(format!(
                        "{id}: the old keys still open the rewrapped message"
                    ));
                }
                rewrapped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            (Value::String(_), Err(e)) => Err(format!("{id}: positive vector not rewrapped: {e}")),
            (_, Ok((re, _))) => match decrypt(&re, &new, &open) {
                Err(_) => Ok(()),
                Ok(_) => Err(format!("{id}: a negative vector decrypts after rewrap")),
            },
            (_, Err(_)) => Ok(()),
        }
    });
    assert!(
        failures.is_empty(),
        "{:#?}",
        &failures[..failures.len().min(20)]
    );
    assert_eq!(rewrapped.into_inner(), 520);
}
