//! Keyrings: wrap and unwrap data keys.
//!
//! A keyring's `on_encrypt` makes sure the materials hold a plaintext data
//! key (generating one if it is the first) and adds its own encrypted copy;
//! `on_decrypt` tries the encrypted data keys it recognises until one
//! yields the data key. The raw keyrings here are byte-compatible with
//! those of the AWS Encryption SDK.

mod keystore;
mod multi;
mod pq;
mod raw_aes;
mod raw_ecdh;
mod raw_rsa;

pub use keystore::{KeyStoreKeyring, PROVIDER_ID as KEYSTORE_PROVIDER_ID};
pub use multi::MultiKeyring;
pub use pq::{pq_generate_key_pair, pq_public_key, PqKeyring, PROVIDER_ID as PQ_PROVIDER_ID};
pub use raw_aes::RawAesKeyring;
pub use raw_ecdh::{
    EcdhCurveSpec, EcdhKeyAgreementScheme, RawEcdhKeyring, PROVIDER_ID as RAW_ECDH_PROVIDER_ID,
};
pub use raw_rsa::{RawRsaKeyring, RsaWrappingPadding};

use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::message::EncryptionContext;
use crate::secret::SecretBytes;

/// Wraps and unwraps data keys. Implementations are shared between threads.
pub trait Keyring: Send + Sync + std::fmt::Debug {
    /// Adds an encrypted data key to `materials`, generating the plaintext
    /// data key first if there is none yet.
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()>;

    /// Sets `materials.plaintext_data_key` from one of `edks`. Does nothing
    /// if the materials already hold a data key. Fails with
    /// `DecryptionFailed` if no encrypted data key could be decrypted.
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<()>;

    /// Whether the keyring works in memory alone: no file, database,
    /// network or HSM (a raw key). The bindings run small work with such a
    /// keyring on the calling thread instead of a thread pool. Unknown
    /// keyrings are taken to block.
    fn is_in_memory(&self) -> bool {
        false
    }

    /// A number that changes whenever a key this keyring uses may have
    /// changed in this process (disabled, scheduled for deletion, rotated,
    /// an alias repointed). A caching materials manager drops the entries it
    /// made under another number, so such a change takes effect on the next
    /// message instead of after the entry's `max_age`. Keyrings over keys
    /// that cannot change (raw keys) keep 0.
    fn revocation_epoch(&self) -> u64 {
        0
    }
}

/// Generates the data key for the materials' suite if none is there yet.
pub(crate) fn ensure_data_key(materials: &mut EncryptionMaterials) -> Result<()> {
    if materials.plaintext_data_key.is_none() {
        materials.plaintext_data_key = Some(SecretBytes::random(materials.suite.data_key_len())?);
    }
    Ok(())
}

/// The data key of materials that must already have one.
pub(crate) fn data_key(materials: &EncryptionMaterials) -> Result<&SecretBytes> {
    materials
        .plaintext_data_key
        .as_ref()
        .ok_or_else(|| Error::EncryptFailed("no data key to wrap".into()))
}

/// How the raw keyrings encrypt: the data key is generated if there is none
/// yet, `wrap` returns its provider info and its wrapped copy, and that is
/// added to the materials under `provider_id`.
pub(crate) fn add_wrapped_data_key(
    materials: &mut EncryptionMaterials,
    provider_id: &str,
    wrap: impl FnOnce(&SecretBytes, &EncryptionContext) -> Result<(Vec<u8>, Vec<u8>)>,
) -> Result<()> {
    ensure_data_key(materials)?;
    let (provider_info, ciphertext) = wrap(data_key(materials)?, &materials.encryption_context)?;
    materials.encrypted_data_keys.push(EncryptedDataKey {
        provider_id: provider_id.to_owned(),
        provider_info,
        ciphertext,
    });
    Ok(())
}

/// How the keyrings here decrypt: nothing to do when the materials already
/// hold a data key; otherwise `prepare` runs once (what every candidate
/// needs: the AAD, the private key, the resolved key ID) and the first of
/// `edks` that `unwrap` opens to a data key of the suite's length becomes
/// the data key. `unwrap` gives `None` for an encrypted data key that is not
/// its own or does not open; when none opens, `DecryptionFailed`.
pub(crate) fn decrypt_first<P>(
    materials: &mut DecryptionMaterials,
    edks: &[EncryptedDataKey],
    prepare: impl FnOnce(&DecryptionMaterials) -> Result<P>,
    unwrap: impl Fn(&P, &DecryptionMaterials, &EncryptedDataKey) -> Result<Option<SecretBytes>>,
) -> Result<()> {
    if materials.plaintext_data_key.is_some() {
        return Ok(());
    }
    let prepared = prepare(materials)?;
    for edk in edks {
        match unwrap(&prepared, materials, edk)? {
            Some(dk) if dk.len() == materials.suite.data_key_len() => {
                materials.plaintext_data_key = Some(dk);
                return Ok(());
            }
            _ => {}
        }
    }
    Err(Error::DecryptionFailed)
}
