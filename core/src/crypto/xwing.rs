//! X-Wing: the hybrid KEM of ML-KEM-768 and X25519 of
//! draft-connolly-cfrg-xwing-kem (versions 05 to 10 define the same bytes),
//! over the selected provider's ML-KEM-768, X25519, SHAKE256 and SHA3-256.
//!
//! - Decapsulation key: a 32-byte seed sk. SHAKE256(sk) gives 96 bytes: the
//!   first 64 are the ML-KEM-768 seed d ‖ z, the last 32 the X25519 secret.
//! - Encapsulation key (1216 bytes): the ML-KEM-768 encapsulation key
//!   (1184) ‖ the X25519 public key (32).
//! - Ciphertext (1120 bytes): the ML-KEM-768 ciphertext (1088) ‖ an
//!   ephemeral X25519 public key (32).
//! - Shared secret: SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ `\.//^\`).
//!
//! The secret stays safe while either ML-KEM-768 or X25519 holds. An X25519
//! share that comes out all zero (a low-order point) is refused by both
//! providers.

use super::{
    mlkem768_encapsulate, sha3_256, shake256, x25519, x25519_public, MlKem768DecapsulationKey,
};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// Length of an X-Wing decapsulation key (the seed).
pub const XWING_SEED_LEN: usize = 32;
/// Length of an X-Wing encapsulation (public) key.
pub const XWING_PUBLIC_LEN: usize = MLKEM768_PUBLIC_LEN + 32;
/// Length of an X-Wing ciphertext.
pub const XWING_CIPHERTEXT_LEN: usize = MLKEM768_CIPHERTEXT_LEN + 32;
const MLKEM768_PUBLIC_LEN: usize = 1184;
const MLKEM768_CIPHERTEXT_LEN: usize = 1088;
/// The combiner's label, `\.//^\`.
const LABEL: &[u8] = br"\.//^\";

/// An X-Wing decapsulation key, expanded from its seed once.
pub struct XWingDecapsulationKey {
    mlkem: MlKem768DecapsulationKey,
    x25519_secret: SecretBytes,
    public: Vec<u8>,
}

crate::secret::debug_hiding_secrets!(XWingDecapsulationKey(..));

impl XWingDecapsulationKey {
    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        if seed.len() != XWING_SEED_LEN {
            return Err(Error::InvalidKey(format!(
                "an X-Wing private key is a {XWING_SEED_LEN}-byte seed, not {} bytes",
                seed.len()
            )));
        }
        let mut expanded = SecretBytes::zeroed(96)?;
        shake256(&[seed], expanded.as_mut_bytes())?;
        let (mlkem_seed, x) = expanded.as_bytes().split_at(64);
        let mlkem_seed: &[u8; 64] = mlkem_seed.try_into().map_err(|_| Error::Rng)?;
        let mlkem = MlKem768DecapsulationKey::from_seed(mlkem_seed)?;
        let x25519_secret = SecretBytes::from_slice(x)?;
        let mut public = Vec::with_capacity(XWING_PUBLIC_LEN);
        public.extend_from_slice(mlkem.encapsulation_key());
        public.extend_from_slice(&x25519_public(secret32(&x25519_secret)?)?);
        Ok(XWingDecapsulationKey {
            mlkem,
            x25519_secret,
            public,
        })
    }

    /// A new key: its 32-byte seed (the private key to keep) and the key.
    pub fn generate() -> Result<(SecretBytes, Self)> {
        let seed = SecretBytes::random(XWING_SEED_LEN)?;
        let key = Self::from_seed(seed.as_bytes())?;
        Ok((seed, key))
    }

    /// The 1216-byte encapsulation (public) key.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The 32-byte shared secret of a 1120-byte ciphertext. A ciphertext
    /// that was altered gives an unrelated secret (ML-KEM's implicit
    /// rejection), or `DecryptionFailed`.
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes> {
        if ciphertext.len() != XWING_CIPHERTEXT_LEN {
            return Err(Error::DecryptionFailed);
        }
        let (ct_m, ct_x) = ciphertext.split_at(MLKEM768_CIPHERTEXT_LEN);
        let ss_m = self.mlkem.decapsulate(ct_m)?;
        let ss_x =
            x25519(secret32(&self.x25519_secret)?, ct_x).map_err(|_| Error::DecryptionFailed)?;
        combine(&ss_m, &ss_x, ct_x, &self.public[MLKEM768_PUBLIC_LEN..])
    }
}

/// Encapsulation to a 1216-byte X-Wing public key: (1120-byte ciphertext,
/// 32-byte shared secret).
pub fn xwing_encapsulate(public_key: &[u8]) -> Result<(Vec<u8>, SecretBytes)> {
    if public_key.len() != XWING_PUBLIC_LEN {
        return Err(Error::InvalidKey(format!(
            "an X-Wing public key is {XWING_PUBLIC_LEN} bytes, not {}",
            public_key.len()
        )));
    }
    let (pk_m, pk_x) = public_key.split_at(MLKEM768_PUBLIC_LEN);
    let (mut ciphertext, ss_m) = mlkem768_encapsulate(pk_m)?;
    let ephemeral = SecretBytes::random(32)?;
    let ct_x = x25519_public(secret32(&ephemeral)?)?;
    let ss_x = x25519(secret32(&ephemeral)?, pk_x).map_err(|_| {
        Error::InvalidKey("the X-Wing public key's X25519 half is of low order".into())
    })?;
    let ss = combine(&ss_m, &ss_x, &ct_x, pk_x)?;
    ciphertext.extend_from_slice(&ct_x);
    Ok((ciphertext, ss))
}

/// The X-Wing combiner.
fn combine(
    ss_m: &SecretBytes,
    ss_x: &SecretBytes,
    ct_x: &[u8],
    pk_x: &[u8],
) -> Result<SecretBytes> {
    let mut ss = sha3_256(&[ss_m.as_bytes(), ss_x.as_bytes(), ct_x, pk_x, LABEL]);
    let out = SecretBytes::from_slice(&ss);
    zeroize::Zeroize::zeroize(&mut ss);
    out
}

/// A 32-byte secret as an array (every caller's secret is 32 bytes).
fn secret32(s: &SecretBytes) -> Result<&[u8; 32]> {
    s.as_bytes()
        .try_into()
        .map_err(|_| Error::InvalidKey("an X25519 secret is 32 bytes".into()))
}

// The FIPS build refuses X-Wing keys (see `MlKem768DecapsulationKey`).
#[cfg(all(test, not(feature = "fips")))]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_and_tampering() {
        let (seed, key) = XWingDecapsulationKey::generate().unwrap();
        assert_eq!(key.public_key().len(), XWING_PUBLIC_LEN);
        let again = XWingDecapsulationKey::from_seed(seed.as_bytes()).unwrap();
        assert_eq!(
            again.public_key(),
            key.public_key(),
            "the seed is the whole key"
        );
        let (ct, ss) = xwing_encapsulate(key.public_key()).unwrap();
        assert_eq!(ct.len(), XWING_CIPHERTEXT_LEN);
        assert_eq!(key.decapsulate(&ct).unwrap().as_bytes(), ss.as_bytes());
        let (ct2, ss2) = xwing_encapsulate(key.public_key()).unwrap();
        assert_ne!(ct, ct2);
        assert_ne!(ss.as_bytes(), ss2.as_bytes());
        // A changed byte in either half gives another secret (or an error).
        for i in [0, 500, 1087, 1088, 1100, 1119] {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            if let Ok(other) = key.decapsulate(&bad) {
                assert_ne!(other.as_bytes(), ss.as_bytes(), "byte {i}");
            }
        }
        assert!(key.decapsulate(&ct[..1119]).is_err());
        assert!(XWingDecapsulationKey::from_seed(&[0; 31]).is_err());
        assert!(xwing_encapsulate(&key.public_key()[..1215]).is_err());
        // A low-order X25519 half (all zero) is refused.
        let mut low = key.public_key().to_vec();
        low[MLKEM768_PUBLIC_LEN..].fill(0);
        assert!(xwing_encapsulate(&low).is_err());
    }

    /// The draft's test vectors (spec/test-vectors.json of
    /// draft-connolly-cfrg-xwing-kem), when `SEALBOX_XWING_VECTORS` names
    /// a copy: they are not kept in this repository.
    #[test]
    fn draft_test_vectors_when_given() {
        let Some(path) = std::env::var_os("SEALBOX_XWING_VECTORS") else {
            eprintln!("SEALBOX_XWING_VECTORS not set: the draft's vectors are not run");
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert!(!vectors.is_empty());
        for v in &vectors {
            let field = |k: &str| hex(v[k].as_str().unwrap());
            let key = XWingDecapsulationKey::from_seed(&field("sk")).unwrap();
            assert_eq!(key.public_key(), &field("pk")[..]);
            assert_eq!(
                key.decapsulate(&field("ct")).unwrap().as_bytes(),
                &field("ss")[..]
            );
        }
        eprintln!("X-Wing: {} draft vectors passed", vectors.len());
    }
}
