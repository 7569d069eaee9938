//! Digests, HKDF and HMAC through aws-lc-rs.

#[cfg(feature = "fips")]
use aws_lc_rs::hkdf as lc_hkdf;
use aws_lc_rs::{digest, hmac as lc_hmac};

use crate::crypto::HashAlg;
use crate::error::{Error, Result};

pub(super) fn digest_alg(alg: HashAlg) -> &'static digest::Algorithm {
    match alg {
        HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha224 => &digest::SHA224,
        HashAlg::Sha256 => &digest::SHA256,
        HashAlg::Sha384 => &digest::SHA384,
        HashAlg::Sha512 => &digest::SHA512,
    }
}

#[cfg(feature = "fips")]
/// An HKDF output length: aws-lc-rs takes the length of the output keying
/// material as a `KeyType`.
struct OkmLen(usize);

#[cfg(feature = "fips")]
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
    #[cfg(feature = "fips")]
    {
        // The validated module's own HKDF service (it extracts again for
        // every expand: ~16 compressions for two keys instead of 10).
        // An empty salt is the HMAC key "", which HMAC pads with zeros to
        // the block size, exactly as it pads HashLen zero bytes.
        let a = match alg {
            HashAlg::Sha1 => lc_hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha224 => {
                return Err(Error::InvalidArgument(
                    "HKDF with SHA-224 is not offered by the FIPS module".into(),
                ))
            }
            HashAlg::Sha256 => lc_hkdf::HKDF_SHA256,
            HashAlg::Sha384 => lc_hkdf::HKDF_SHA384,
            HashAlg::Sha512 => lc_hkdf::HKDF_SHA512,
        };
        let prk = lc_hkdf::Salt::new(a, salt.unwrap_or(&[])).extract(ikm);
        for (info, out) in outputs.iter_mut() {
            let info = [*info];
            prk.expand(&info, OkmLen(out.len()))
                .and_then(|okm| okm.fill(out))
                .map_err(|_| too_long())?;
        }
        Ok(())
    }
    #[cfg(not(feature = "fips"))]
    {
        // RFC 5869 on HMAC directly: aws-lc-rs's `Prk` runs the whole
        // HKDF (extract included) for every expand. Here the PRK is
        // extracted once and its HMAC key (the inner and outer pads,
        // one compression each) is set up once for every output: for
        // the two keys of a committing message 10 SHA-512 compressions
        // instead of 16, the largest fixed cost of a small message.
        // An empty salt is the HMAC key "": zero-padded to the block
        // size, the same key as HashLen zero bytes.
        let n = alg.output_len();
        let mut prk = zeroize::Zeroizing::new([0u8; 64]);
        let salt = salt.unwrap_or(&[]);
        if alg == HashAlg::Sha512 {
            // The committing suites' KDF: HMAC-SHA-512 on SHA-512's own
            // states (`HmacSha512`), without HMAC_CTX's set-up per MAC.
            super::ffi::HmacSha512::new(salt)?.mac(&[ikm], &mut prk[..n])?;
            let key = super::ffi::HmacSha512::new(&prk[..n])?;
            return expand_all(n, outputs, |parts, out| key.mac(parts, out));
        }
        super::ffi::HmacKey::new(alg, salt)?.mac(&[ikm], &mut prk[..n])?;
        let key = super::ffi::HmacKey::new(alg, &prk[..n])?;
        expand_all(n, outputs, |parts, out| key.mac(parts, out))
    }
}

/// HKDF-Expand of every `(info, out)` pair with `mac`, the HMAC keyed
/// with the PRK (output length `n`).
#[cfg(not(feature = "fips"))]
fn expand_all(
    n: usize,
    outputs: &mut [(&[u8], &mut [u8])],
    mac: impl Fn(&[&[u8]], &mut [u8]) -> Result<()>,
) -> Result<()> {
    // T(i-1) and T(i); wiped when dropped.
    let mut blocks = zeroize::Zeroizing::new([[0u8; 64]; 2]);
    for (info, out) in outputs.iter_mut() {
        for (i, chunk) in out.chunks_mut(n).enumerate() {
            // T(i) = HMAC(PRK, T(i-1) || info || i), i from 1 to at most
            // 255 (checked by the caller); T(0) is empty.
            let [previous, current] = &mut *blocks;
            let previous = if i == 0 { &[][..] } else { &previous[..n] };
            mac(&[previous, info, &[i as u8 + 1]], &mut current[..n])?;
            chunk.copy_from_slice(&current[..chunk.len()]);
            blocks.swap(0, 1);
        }
    }
    Ok(())
}

fn hmac_alg(alg: HashAlg) -> lc_hmac::Algorithm {
    match alg {
        HashAlg::Sha1 => lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha224 => lc_hmac::HMAC_SHA224,
        HashAlg::Sha256 => lc_hmac::HMAC_SHA256,
        HashAlg::Sha384 => lc_hmac::HMAC_SHA384,
        HashAlg::Sha512 => lc_hmac::HMAC_SHA512,
    }
}

/// HMAC of `data` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let key = lc_hmac::Key::new(hmac_alg(alg), key);
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
