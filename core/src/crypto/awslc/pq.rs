//! ML-KEM-768 (aws-lc-rs `kem`, with keys made from a seed by AWS-LC:
//! `ffi.rs`), X25519 (aws-lc-rs `agreement`), SHA3-256 and SHAKE256: the
//! parts of X-Wing (`crypto/xwing.rs`).

use aws_lc_rs::{agreement, digest, kem};

use super::ffi;
use crate::crypto::invalid_key;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// An ML-KEM-768 decapsulation key and its 1184-byte encapsulation key.
pub struct MlKem768DecapsulationKey {
    key: kem::DecapsulationKey<kem::AlgorithmId>,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(MlKem768DecapsulationKey(..));

impl MlKem768DecapsulationKey {
    /// The key of a 64-byte seed d ‖ z (FIPS 203 ML-KEM.KeyGen_internal).
    pub fn from_seed(seed: &[u8; 64]) -> Result<Self> {
        // AWS-LC's FIPS module (aws-lc-fips-sys 0.14) does not read the seed
        // form of an ML-KEM key yet.
        if cfg!(feature = "fips") {
            return Err(Error::Unsupported(
                "ML-KEM-768 keys from a seed (X-Wing) in the FIPS build".into(),
            ));
        }
        let bad = || invalid_key("ML-KEM-768 key generation failed");
        let (public, private) = ffi::mlkem768_keypair_from_seed(seed).ok_or_else(bad)?;
        let key = kem::DecapsulationKey::new(&kem::ML_KEM_768, &private).map_err(|_| bad())?;
        Ok(MlKem768DecapsulationKey { key, public })
    }

    /// The 1184-byte encapsulation key.
    pub fn encapsulation_key(&self) -> &[u8] {
        &self.public
    }

    /// The 32-byte shared secret of a 1088-byte ciphertext (a wrong
    /// ciphertext gives an unrelated secret: implicit rejection).
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes> {
        if ciphertext.len() != 1088 {
            return Err(Error::DecryptionFailed);
        }
        let ss = self
            .key
            .decapsulate(kem::Ciphertext::from(ciphertext))
            .map_err(|_| Error::DecryptionFailed)?;
        SecretBytes::from_slice(ss.as_ref())
    }
}

/// ML-KEM-768 encapsulation to a 1184-byte encapsulation key (checked as
/// FIPS 203 section 7.2 asks): (1088-byte ciphertext, 32-byte secret).
pub fn mlkem768_encapsulate(encapsulation_key: &[u8]) -> Result<(Vec<u8>, SecretBytes)> {
    let ek = kem::EncapsulationKey::new(&kem::ML_KEM_768, encapsulation_key)
        .map_err(|_| invalid_key("not an ML-KEM-768 encapsulation key"))?;
    let (ct, ss) = ek
        .encapsulate()
        .map_err(|_| Error::EncryptFailed("ML-KEM-768 encapsulation failed".into()))?;
    Ok((ct.as_ref().to_vec(), SecretBytes::from_slice(ss.as_ref())?))
}

fn x25519_key(secret: &[u8; 32]) -> Result<agreement::PrivateKey> {
    agreement::PrivateKey::from_private_key(&agreement::X25519, secret)
        .map_err(|_| invalid_key("not an X25519 private key"))
}

/// The X25519 public key of a 32-byte secret (RFC 7748; clamped).
pub fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32]> {
    let public = x25519_key(secret)?
        .compute_public_key()
        .map_err(|_| invalid_key("X25519 public key"))?;
    public
        .as_ref()
        .try_into()
        .map_err(|_| invalid_key("X25519 public key"))
}

/// X25519 of a 32-byte secret and a peer's 32-byte public key; AWS-LC
/// refuses an all-zero result (a low-order peer point).
pub fn x25519(secret: &[u8; 32], peer: &[u8]) -> Result<SecretBytes> {
    if peer.len() != 32 {
        return Err(Error::InvalidArgument(
            "an X25519 public key is 32 bytes".into(),
        ));
    }
    let key = x25519_key(secret)?;
    agreement::agree(
        &key,
        agreement::UnparsedPublicKey::new(&agreement::X25519, peer),
        Error::InvalidArgument("the X25519 public key is of low order".into()),
        SecretBytes::from_slice,
    )
}

/// A SHAKE256 computation fed in pieces.
#[allow(missing_debug_implementations)] // its state is the input's
pub struct Shake256(ffi::Shake256);

impl Shake256 {
    /// A new computation.
    pub fn new() -> Result<Self> {
        ffi::Shake256::new()
            .map(Shake256)
            .ok_or_else(|| Error::InvalidArgument("SHAKE256 failed".into()))
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        if self.0.update(data) {
            Ok(())
        } else {
            Err(Error::InvalidArgument("SHAKE256 failed".into()))
        }
    }

    /// As many output bytes as `out` holds.
    pub fn finish(self, out: &mut [u8]) -> Result<()> {
        if self.0.finish(out) {
            Ok(())
        } else {
            out.fill(0);
            Err(Error::InvalidArgument("SHAKE256 failed".into()))
        }
    }
}

/// SHA3-256 of the concatenation of `parts`.
pub fn sha3_256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA3_256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
