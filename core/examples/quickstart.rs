//! Envelope-encrypts a file with a raw AES wrapping key and decrypts it
//! again, streaming in constant memory.
//!
//! `cargo run -p sealbox --example quickstart -- [FILE]`

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{DecryptOptions, DecryptingReader, EncryptOptions, EncryptingWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("sealbox-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input = match std::env::args().nth(1) {
        Some(p) => p.into(),
        None => {
            let p = dir.join("orders.csv");
            let rows: String = (0..20_000)
                .map(|i| format!("{i},4111-1111-1111-{:04},{}.00\n", i % 10_000, i % 500))
                .collect();
            std::fs::write(&p, rows)?;
            p
        }
    };
    // In production the wrapping key comes from your secret manager or,
    // better, stays in sealbox's key store; here it is random for the demo.
    let mut wrapping_key = [0u8; 32];
    sealbox::crypto::fill_random(&mut wrapping_key)?;
    let keyring = Arc::new(RawAesKeyring::new("quickstart", "demo-key", &wrapping_key)?);
    let cmm: Arc<dyn MaterialsManager> = Arc::new(DefaultMaterialsManager::new(keyring));

    let mut options = EncryptOptions::default();
    options
        .encryption_context
        .insert("purpose".into(), "quickstart".into());
    let sealed = dir.join("orders.csv.sealed");
    let mut writer = EncryptingWriter::new(
        BufWriter::new(File::create(&sealed)?),
        cmm.as_ref(),
        &options,
    )?;
    std::io::copy(&mut BufReader::new(File::open(&input)?), &mut writer)?;
    writer.finish()?;
    let (in_len, out_len) = (
        std::fs::metadata(&input)?.len(),
        std::fs::metadata(&sealed)?.len(),
    );
    println!(
        "encrypted {} ({in_len} bytes) -> {} ({out_len} bytes, suite 0x0478, 16 KiB frames)",
        input.display(),
        sealed.display()
    );

    let expect = DecryptOptions {
        encryption_context: Some(options.encryption_context.clone()),
        ..DecryptOptions::default()
    };
    let mut reader =
        DecryptingReader::new(BufReader::new(File::open(&sealed)?), cmm.clone(), expect);
    let mut plaintext = Vec::new();
    reader.read_to_end(&mut plaintext)?;
    assert_eq!(plaintext, std::fs::read(&input)?);
    println!(
        "decrypted and verified {} bytes; encryption context {:?}",
        plaintext.len(),
        reader.encryption_context()
    );

    let mut tampered = std::fs::read(&sealed)?;
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    let r = sealbox::message::decrypt(&tampered, cmm.as_ref(), &DecryptOptions::default());
    println!(
        "one flipped bit in the middle: {}",
        match r {
            Err(e) => format!("rejected ({e})"),
            Ok(_) => "ACCEPTED (bug!)".into(),
        }
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
