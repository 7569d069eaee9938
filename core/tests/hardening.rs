//! Regression tests for the defects of the security review (issue 17):
//! each fails on the code before its fix.

use std::io::Read;
use std::sync::Arc;

use sealbox::cmm::{DefaultMaterialsManager, MaterialsManager};
use sealbox::keyring::RawAesKeyring;
use sealbox::message::{encrypt, DecryptOptions, DecryptingReader, EncryptOptions};

fn materials() -> Arc<dyn MaterialsManager> {
    let kr = Arc::new(RawAesKeyring::new("ns", "k", &[7u8; 32]).unwrap());
    Arc::new(DefaultMaterialsManager::new(kr))
}

/// Reads until the first error, then `n` more times: each later read must
/// fail too (before the fix, the read after a truncation error returned a
/// clean end of file).
fn errors_stick(message: &[u8], n: usize) {
    let mut r = DecryptingReader::new(message, materials(), DecryptOptions::default());
    let mut buf = vec![0u8; 4096];
    let first = loop {
        match r.read(&mut buf) {
            Ok(0) => panic!("a damaged message ended cleanly"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(first.kind(), std::io::ErrorKind::InvalidData);
    for _ in 0..n {
        let again = r.read(&mut buf).expect_err("a read after a failure must fail again");
        assert_eq!(again.kind(), first.kind());
    }
}

#[test]
fn decrypting_reader_errors_stick_after_truncation_and_tampering() {
    let m = materials();
    let pt = vec![0x5au8; 50_000];
    let ct = encrypt(&pt, m.as_ref(), &EncryptOptions::default()).unwrap();
    // Truncated at the end (the failure comes at finish) and in the middle.
    errors_stick(&ct[..ct.len() - 1], 3);
    errors_stick(&ct[..ct.len() / 2], 3);
    // A flipped byte in the body (the failure comes at update).
    let mut bad = ct.clone();
    let at = bad.len() - 100;
    bad[at] ^= 1;
    errors_stick(&bad, 3);
}
