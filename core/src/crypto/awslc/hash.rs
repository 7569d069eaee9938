//! Digests, HKDF and HMAC through aws-lc-rs.

use aws_lc_rs::{digest, hkdf as lc_hkdf, hmac as lc_hmac};

use crate::crypto::HashAlg;
use crate::error::{Error, Result};

fn digest_alg(alg: HashAlg) -> &'static digest::Algorithm {
    match alg {
        HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => &digest::SHA256,
        HashAlg::Sha384 => &digest::SHA384,
        HashAlg::Sha512 => &digest::SHA512,
    }
}

/// An HKDF output length: aws-lc-rs takes the length of the output keying
/// material as a `KeyType`.
struct OkmLen(usize);

impl lc_hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF with one extract and one expand per `(info, out)` pair: the keys
/// of one message share their PRK.
pub fn hkdf_expand_each(
    alg: HashAlg,
    salt: Option<&[u8]>,
    ikm: &[u8],
    outputs: &mut [(&[u8], &mut [u8])],
) -> Result<()> {
    let too_long = || Error::InvalidArgument("HKDF output too long".into());
    if outputs
        .iter()
        .any(|(_, out)| out.len() > 255 * alg.output_len())
    {
        return Err(too_long());
    }
    let a = match alg {
        HashAlg::Sha1 => lc_hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => lc_hkdf::HKDF_SHA256,
        HashAlg::Sha384 => lc_hkdf::HKDF_SHA384,
        HashAlg::Sha512 => lc_hkdf::HKDF_SHA512,
    };
    // An empty salt is the HMAC key "", which HMAC pads with zeros to the
    // block size, exactly as it pads HashLen zero bytes: the same PRK.
    let prk = lc_hkdf::Salt::new(a, salt.unwrap_or(&[])).extract(ikm);
    for (info, out) in outputs.iter_mut() {
        let info = [*info];
        prk.expand(&info, OkmLen(out.len()))
            .and_then(|okm| okm.fill(out))
            .map_err(|_| too_long())?;
    }
    Ok(())
}

/// HMAC of `data` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let a = match alg {
        HashAlg::Sha1 => lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => lc_hmac::HMAC_SHA256,
        HashAlg::Sha384 => lc_hmac::HMAC_SHA384,
        HashAlg::Sha512 => lc_hmac::HMAC_SHA512,
    };
    let key = lc_hmac::Key::new(a, key);
    Ok(lc_hmac::sign(&key, data).as_ref().to_vec())
}

/// An incremental message digest.
#[derive(Clone)]
pub struct Hasher(digest::Context);

crate::secret::debug_hiding_secrets!(Hasher(..));

impl Hasher {
    /// Starts a digest.
    pub fn new(alg: HashAlg) -> Self {
        Hasher(digest::Context::new(digest_alg(alg)))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data)
    }

    /// Finishes and returns the digest.
    pub fn finalize(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}
