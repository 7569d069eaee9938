//! HMAC keys (GenerateMac, VerifyMac) and GenerateRandom.

use super::*;
use crate::crypto;
use crate::error::{Error, Result};

impl KeyStore {
    /// GenerateMac over at most 4096 bytes.
    pub fn generate_mac(&self, key: &str, message: &[u8], alg: MacAlgorithm) -> Result<Vec<u8>> {
        self.run(Operation::GenerateMac, None, |a| {
            self.mac(a, key, message, alg)
        })
    }

    pub(super) fn mac(
        &self,
        a: &mut Audit<'_>,
        key: &str,
        message: &[u8],
        alg: MacAlgorithm,
    ) -> Result<Vec<u8>> {
        let (rec, v) = self.usable(a, key, KeyUsage::GenerateVerifyMac)?;
        if !alg.fits(rec.spec) {
            return Err(Error::InvalidKeyUsage(format!(
                "{alg} cannot be used with {} keys",
                rec.spec
            )));
        }
        if message.len() > MAX_MESSAGE {
            return Err(Error::InvalidArgument(format!(
                "messages are at most {MAX_MESSAGE} bytes"
            )));
        }
        self.inner
            .backend
            .mac(Self::version_ref(&rec, &v), alg, message)
    }

    /// VerifyMac; `Ok(false)` when the MAC does not match.
    pub fn verify_mac(
        &self,
        key: &str,
        message: &[u8],
        mac: &[u8],
        alg: MacAlgorithm,
    ) -> Result<bool> {
        self.run(Operation::VerifyMac, None, |a| {
            Ok(crypto::ct_eq(&self.mac(a, key, message, alg)?, mac))
        })
    }

    /// GenerateRandom: 1..=1024 bytes from the backend's generator.
    pub fn generate_random(&self, number_of_bytes: usize) -> Result<Vec<u8>> {
        self.run(Operation::GenerateRandom, None, |_| {
            if !(1..=MAX_RANDOM).contains(&number_of_bytes) {
                return Err(Error::InvalidArgument(format!(
                    "GenerateRandom takes 1..={MAX_RANDOM} bytes"
                )));
            }
            self.inner.backend.random(number_of_bytes)
        })
    }
}
