//! ML-DSA (FIPS 204), written once over the provider's `MlDsaKeyPair` (the
//! key pair of a 32-byte seed: `from_seed`, `public_key`,
//! `expanded_private_key`, `sign_mu`) and `mldsa_verify_mu`. Everything
//! above the signature of μ is here, once: μ itself (FIPS 204 section 5.2,
//! the "external μ" of section 6.2), the pure signature of a message with
//! the empty context (as AWS KMS signs `ML_DSA_SHAKE_256`), and the RFC 9881
//! PKCS#8 and SubjectPublicKeyInfo wrappings (read and written by [`der`]).
//!
//! Keys are kept as their 32-byte seed, as AWS KMS imports and exports
//! them; signing is hedged (fresh randomness in every signature, FIPS 204's
//! default).

use std::io::Read;

use super::{der, invalid_key, mldsa_verify_mu, shake256, MlDsaKeyPair, Shake256};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// Length of a seed (ξ of ML-DSA.KeyGen).
pub const MLDSA_SEED_LEN: usize = 32;
/// Length of μ, the message representative that is signed.
pub const MLDSA_MU_LEN: usize = 64;
/// Longest context string (FIPS 204 section 5.2).
pub const MLDSA_MAX_CONTEXT: usize = 255;

/// The three parameter sets of FIPS 204.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MlDsaParams {
    /// ML-DSA-44 (NIST security category 2).
    MlDsa44,
    /// ML-DSA-65 (category 3).
    MlDsa65,
    /// ML-DSA-87 (category 5).
    MlDsa87,
}

impl MlDsaParams {
    /// All three, smallest first.
    pub const ALL: [MlDsaParams; 3] = [Self::MlDsa44, Self::MlDsa65, Self::MlDsa87];

    /// Length of a public key.
    pub fn public_len(self) -> usize {
        match self {
            Self::MlDsa44 => 1312,
            Self::MlDsa65 => 1952,
            Self::MlDsa87 => 2592,
        }
    }

    /// Length of an expanded private key (FIPS 204 skEncode).
    pub fn expanded_private_len(self) -> usize {
        match self {
            Self::MlDsa44 => 2560,
            Self::MlDsa65 => 4032,
            Self::MlDsa87 => 4896,
        }
    }

    /// Length of a signature.
    pub fn signature_len(self) -> usize {
        match self {
            Self::MlDsa44 => 2420,
            Self::MlDsa65 => 3309,
            Self::MlDsa87 => 4627,
        }
    }

    /// The name FIPS 204 gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::MlDsa44 => "ML-DSA-44",
            Self::MlDsa65 => "ML-DSA-65",
            Self::MlDsa87 => "ML-DSA-87",
        }
    }

    /// The last byte of its OID (2.16.840.1.101.3.4.3.17 to .19).
    fn oid_last(self) -> u8 {
        match self {
            Self::MlDsa44 => 0x11,
            Self::MlDsa65 => 0x12,
            Self::MlDsa87 => 0x13,
        }
    }

    fn of_oid_last(last: u8) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.oid_last() == last)
            .ok_or_else(|| invalid_key("not an ML-DSA key"))
    }
}

/// tr = SHAKE256(public key, 64 bytes) (FIPS 204 Algorithm 7 line 6).
fn public_key_hash(public: &[u8]) -> Result<[u8; 64]> {
    let mut tr = [0u8; 64];
    shake256(&[public], &mut tr)?;
    Ok(tr)
}

/// μ = SHAKE256(tr ‖ 0 ‖ |ctx| ‖ ctx ‖ M, 64 bytes): the pure (not
/// pre-hash) message representative of FIPS 204 Algorithms 2, 3 and 7,
/// over a message read from `message` (of any length).
fn mu_of(tr: &[u8; 64], context: &[u8], message: &mut dyn Read) -> Result<[u8; MLDSA_MU_LEN]> {
    let ctx_len = u8::try_from(context.len()).map_err(|_| {
        Error::InvalidArgument(format!(
            "an ML-DSA context is at most {MLDSA_MAX_CONTEXT} bytes"
        ))
    })?;
    let mut h = Shake256::new()?;
    h.update(tr)?;
    h.update(&[0, ctx_len])?;
    h.update(context)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match message.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io(e.to_string())),
        }
    }
    let mut mu = [0u8; MLDSA_MU_LEN];
    h.finish(&mut mu)?;
    Ok(mu)
}

fn mu_ref(mu: &[u8]) -> Result<&[u8; MLDSA_MU_LEN]> {
    mu.try_into().map_err(|_| {
        Error::InvalidArgument(format!(
            "an ML-DSA external mu is {MLDSA_MU_LEN} bytes, not {}",
            mu.len()
        ))
    })
}

/// An ML-DSA private key (its seed and the provider's expanded key).
pub struct MlDsaSigningKey {
    params: MlDsaParams,
    seed: SecretBytes,
    pair: MlDsaKeyPair,
    tr: [u8; 64],
}

crate::secret::debug_hiding_secrets!(MlDsaSigningKey(..));

impl MlDsaSigningKey {
    /// A new key from 32 random bytes.
    pub fn generate(params: MlDsaParams) -> Result<Self> {
        Self::from_seed(params, SecretBytes::random(MLDSA_SEED_LEN)?.as_bytes())
    }

    /// The key of a 32-byte seed (ML-DSA.KeyGen_internal).
    pub fn from_seed(params: MlDsaParams, seed: &[u8]) -> Result<Self> {
        let seed: &[u8; MLDSA_SEED_LEN] = seed
            .try_into()
            .map_err(|_| invalid_key("an ML-DSA seed is 32 bytes"))?;
        let pair = MlDsaKeyPair::from_seed(params, seed)?;
        if pair.public_key().len() != params.public_len() {
            return Err(invalid_key("the ML-DSA public key has the wrong length"));
        }
        Ok(MlDsaSigningKey {
            params,
            tr: public_key_hash(pair.public_key())?,
            seed: SecretBytes::from_slice(seed)?,
            pair,
        })
    }

    /// Parses an ML-DSA PKCS#8 key (RFC 9881) that holds the seed: the
    /// `seed` form, or `both`, whose expanded key must then be the seed's
    /// (and a v2 key's public key too).
    /// The `expandedKey` form alone is refused: sealbox keeps seeds, as
    /// AWS KMS does.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self> {
        let parts = der::pkcs8_mldsa_key(pkcs8)
            .map_err(|e| invalid_key(format!("not a PKCS#8 ML-DSA private key: {e}")))?;
        let params = MlDsaParams::of_oid_last(parts.oid_last)?;
        let seed = parts.seed.ok_or_else(|| {
            invalid_key(
                "the PKCS#8 ML-DSA key holds only the expanded private key; \
                 sealbox needs its 32-byte seed (the RFC 9881 seed or both form)",
            )
        })?;
        let key = Self::from_seed(params, seed)?;
        if parts.public.is_some_and(|p| p != key.pair.public_key()) {
            return Err(invalid_key(
                "the PKCS#8 ML-DSA key's public key does not match its seed",
            ));
        }
        if let Some(expanded) = parts.expanded {
            let ours = key.pair.expanded_private_key()?;
            if !crate::crypto::ct_eq(ours.as_bytes(), expanded) {
                return Err(invalid_key(
                    "the PKCS#8 ML-DSA key's expanded key does not match its seed",
                ));
            }
        }
        Ok(key)
    }

    /// The PKCS#8 v1 encoding in the RFC 9881 `seed` form, in secret
    /// memory.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes> {
        SecretBytes::from_slice(&der::mldsa_pkcs8(
            self.params.oid_last(),
            self.seed.as_bytes(),
        ))
    }

    /// The parameter set.
    pub fn params(&self) -> MlDsaParams {
        self.params
    }

    /// The pure ML-DSA signature of `message` with the empty context
    /// (ML-DSA.Sign, hedged), as AWS KMS's `ML_DSA_SHAKE_256` with message
    /// type RAW.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.pair.sign_mu(&mu_of(&self.tr, &[], &mut &message[..])?)
    }

    /// The signature of an external μ (64 bytes, FIPS 204 section 6.2), as
    /// AWS KMS's message type EXTERNAL_MU.
    pub fn sign_mu(&self, mu: &[u8]) -> Result<Vec<u8>> {
        self.pair.sign_mu(mu_ref(mu)?)
    }

    /// The public key.
    pub fn verifying_key(&self) -> MlDsaVerifyingKey {
        MlDsaVerifyingKey {
            params: self.params,
            key: self.pair.public_key().to_vec(),
            tr: self.tr,
        }
    }
}

/// An ML-DSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlDsaVerifyingKey {
    params: MlDsaParams,
    key: Vec<u8>,
    tr: [u8; 64],
}

impl MlDsaVerifyingKey {
    /// Parses a SubjectPublicKeyInfo with an ML-DSA algorithm (RFC 9881).
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        let (last, key) = der::spki_mldsa_public(spki)
            .map_err(|e| invalid_key(format!("not an ML-DSA SubjectPublicKeyInfo: {e}")))?;
        Self::from_bytes(MlDsaParams::of_oid_last(last)?, key)
    }

    /// The key of its raw encoding (FIPS 204 pkEncode).
    pub fn from_bytes(params: MlDsaParams, key: &[u8]) -> Result<Self> {
        if key.len() != params.public_len() {
            return Err(invalid_key(format!(
                "an {} public key is {} bytes, not {}",
                params.name(),
                params.public_len(),
                key.len()
            )));
        }
        Ok(MlDsaVerifyingKey {
            params,
            tr: public_key_hash(key)?,
            key: key.to_vec(),
        })
    }

    /// The parameter set.
    pub fn params(&self) -> MlDsaParams {
        self.params
    }

    /// The raw encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    /// The SubjectPublicKeyInfo (RFC 9881).
    pub fn to_spki_der(&self) -> Vec<u8> {
        der::mldsa_spki(self.params.oid_last(), &self.key)
    }

    /// μ of `message` under `context` (at most 255 bytes): what
    /// [`MlDsaSigningKey::sign_mu`] signs for a pure signature with that
    /// context. AWS KMS signs with the empty context.
    pub fn mu(&self, context: &[u8], message: &[u8]) -> Result<[u8; MLDSA_MU_LEN]> {
        mu_of(&self.tr, context, &mut &message[..])
    }

    /// μ of the message read from `message` (of any length; read to its
    /// end) with the empty context: what AWS KMS's message type
    /// EXTERNAL_MU takes.
    pub fn mu_of_reader(&self, message: &mut dyn Read) -> Result<[u8; MLDSA_MU_LEN]> {
        mu_of(&self.tr, &[], message)
    }

    /// Whether `signature` is a valid pure signature of `message` with the
    /// empty context.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.mu(&[], message)
            .is_ok_and(|mu| self.verify_mu(&mu, signature))
    }

    /// Whether `signature` is a valid signature of the external μ `mu` (a
    /// μ of another length is not).
    pub fn verify_mu(&self, mu: &[u8], signature: &[u8]) -> bool {
        signature.len() == self.params.signature_len()
            && mu_ref(mu).is_ok_and(|mu| mldsa_verify_mu(self.params, &self.key, mu, signature))
    }
}
