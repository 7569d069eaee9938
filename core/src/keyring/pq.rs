//! The post-quantum keyring (provider ID `sealbox-pq`): data keys wrapped
//! to an X-Wing public key (ML-KEM-768 + X25519, `crypto/xwing.rs`), so
//! that messages stored today stay confidential if a quantum computer one
//! day breaks X25519, and stay as safe as X25519 if ML-KEM is ever broken.
//!
//! Encrypted data key (docs/FORMAT.md, "Post-quantum keyring"):
//! - provider ID: `sealbox-pq`;
//! - provider info: version `0x01` ‖ SHA-256 of the recipient's 1216-byte
//!   X-Wing public key (32 bytes);
//! - ciphertext: X-Wing ciphertext (1120 bytes) ‖ AES-256-GCM(data key) ‖
//!   tag (16).
//!
//! The wrapping key is HKDF-SHA-256 of the X-Wing shared secret (no salt,
//! info `sealbox-pq v1` ‖ 0x00 ‖ provider info, 32 bytes), used once with a
//! zero IV and the serialized encryption context as AAD.
//!
//! Not an AWS format: the AWS Encryption SDKs skip these data keys (they
//! do not know the provider ID), so a message whose other data keys they
//! can open (a multi-keyring with an AWS-compatible child) still reads
//! there.

use crate::crypto::{
    self, xwing_encapsulate, AesGcmKey, HashAlg, XWingDecapsulationKey, GCM_IV_LEN, GCM_TAG_LEN,
    XWING_CIPHERTEXT_LEN, XWING_PUBLIC_LEN,
};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::message::context;
use crate::secret::SecretBytes;

use super::{add_wrapped_data_key, decrypt_first, Keyring};

/// The provider ID of every encrypted data key of this keyring.
pub const PROVIDER_ID: &str = "sealbox-pq";
const VERSION: u8 = 1;
const KDF_INFO: &[u8] = b"sealbox-pq v1";
const ZERO_IV: [u8; GCM_IV_LEN] = [0; GCM_IV_LEN];

/// A keyring that wraps data keys to an X-Wing public key.
pub struct PqKeyring {
    public_key: Vec<u8>,
    provider_info: Vec<u8>,
    private_key: Option<XWingDecapsulationKey>,
}

impl std::fmt::Debug for PqKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PqKeyring")
            .field("key_id", &hex(&self.provider_info[1..]))
            .field("decrypts", &self.private_key.is_some())
            .finish()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A new X-Wing key pair for [`PqKeyring`]: (the 32-byte private key, to
/// keep secret; the 1216-byte public key, to give to senders).
pub fn pq_generate_key_pair() -> Result<(SecretBytes, Vec<u8>)> {
    let (seed, key) = XWingDecapsulationKey::generate()?;
    Ok((seed, key.public_key().to_vec()))
}

/// The public key of a 32-byte X-Wing private key.
pub fn pq_public_key(private_key: &[u8]) -> Result<Vec<u8>> {
    Ok(XWingDecapsulationKey::from_seed(private_key)?
        .public_key()
        .to_vec())
}

impl PqKeyring {
    /// Creates a keyring from the recipient's 1216-byte public key (to
    /// encrypt) and/or 32-byte private key (to decrypt, and encrypt); when
    /// both are given they must be one key pair.
    pub fn new(public_key: Option<&[u8]>, private_key: Option<&[u8]>) -> Result<Self> {
        let private_key = private_key
            .map(XWingDecapsulationKey::from_seed)
            .transpose()?;
        let public_key = match (public_key, &private_key) {
            (None, None) => {
                return Err(Error::InvalidKey(
                    "a post-quantum keyring needs a public or a private key".into(),
                ))
            }
            (Some(p), Some(k)) if p != k.public_key() => {
                return Err(Error::InvalidKey(
                    "the public and private keys are not one key pair".into(),
                ))
            }
            (Some(p), _) => {
                if p.len() != XWING_PUBLIC_LEN {
                    return Err(Error::InvalidKey(format!(
                        "a post-quantum (X-Wing) public key is {XWING_PUBLIC_LEN} bytes, not {}",
                        p.len()
                    )));
                }
                // Checks the ML-KEM half (FIPS 203 section 7.2) and the
                // X25519 half now rather than at the first message.
                xwing_encapsulate(p)?;
                p.to_vec()
            }
            (None, Some(k)) => k.public_key().to_vec(),
        };
        let mut provider_info = vec![VERSION];
        provider_info.extend_from_slice(&crypto::digest(HashAlg::Sha256, &public_key));
        Ok(PqKeyring {
            public_key,
            provider_info,
            private_key,
        })
    }

    /// The key's ID in encrypted data keys: SHA-256 of the public key.
    pub fn key_id(&self) -> &[u8] {
        &self.provider_info[1..]
    }

    /// The recipient's public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn wrapping_key(&self, shared: &SecretBytes) -> Result<AesGcmKey> {
        let mut info = Vec::with_capacity(KDF_INFO.len() + 1 + self.provider_info.len());
        info.extend_from_slice(KDF_INFO);
        info.push(0);
        info.extend_from_slice(&self.provider_info);
        let mut key = SecretBytes::zeroed(32)?;
        crypto::hkdf(
            HashAlg::Sha256,
            None,
            shared.as_bytes(),
            &info,
            key.as_mut_bytes(),
        )?;
        AesGcmKey::new(key.as_bytes())
    }
}

impl Keyring for PqKeyring {
    fn is_in_memory(&self) -> bool {
        true
    }

    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()> {
        add_wrapped_data_key(materials, PROVIDER_ID, |dk, encryption_context| {
            let aad = context::serialize(encryption_context)?;
            let (mut ciphertext, shared) = xwing_encapsulate(&self.public_key)?;
            let key = self.wrapping_key(&shared)?;
            ciphertext.reserve(dk.len() + GCM_TAG_LEN);
            ciphertext.extend_from_slice(dk.as_bytes());
            let tag = key.seal_in_place(&ZERO_IV, &aad, &mut ciphertext[XWING_CIPHERTEXT_LEN..])?;
            ciphertext.extend_from_slice(&tag);
            Ok((self.provider_info.clone(), ciphertext))
        })
    }

    fn on_decrypt(&self, m: &mut DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<()> {
        decrypt_first(
            m,
            edks,
            |m| {
                // A public key alone decrypts nothing.
                let key = self.private_key.as_ref().ok_or(Error::DecryptionFailed)?;
                Ok((key, context::serialize(&m.encryption_context)?))
            },
            |(private_key, aad), m, edk| {
                let want = m.suite.data_key_len();
                if edk.provider_id != PROVIDER_ID
                    || edk.provider_info != self.provider_info
                    || edk.ciphertext.len() != XWING_CIPHERTEXT_LEN + want + GCM_TAG_LEN
                {
                    return Ok(None);
                }
                let (kem_ct, rest) = edk.ciphertext.split_at(XWING_CIPHERTEXT_LEN);
                let Ok(shared) = private_key.decapsulate(kem_ct) else {
                    return Ok(None);
                };
                let (wrapped, tag) = rest.split_at(want);
                let mut dk = SecretBytes::from_slice(wrapped)?;
                let opened = self
                    .wrapping_key(&shared)?
                    .open_in_place(&ZERO_IV, aad, dk.as_mut_bytes(), tag)
                    .is_ok();
                Ok(opened.then_some(dk))
            },
        )
    }
}
