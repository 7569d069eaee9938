//! The key-store keyring: data keys generated and wrapped by a key-store
//! key, so the master key never leaves the key store (or its HSM).
//!
//! Encrypted data key: provider ID `sealbox`, provider info = the key ID
//! (UTF-8), ciphertext = the key store's blob (docs/FORMAT.md), encrypted
//! with the message's encryption context as AAD.

use crate::error::Result;
use crate::keystore::{blob, KeyStore};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

use super::{decrypt_first, Keyring};

/// Provider ID of encrypted data keys made by a key-store keyring.
pub const PROVIDER_ID: &str = "sealbox";

/// A keyring over one key-store key (named by ID or alias).
#[derive(Debug, Clone)]
pub struct KeyStoreKeyring {
    store: KeyStore,
    key: String,
}

impl KeyStoreKeyring {
    /// A keyring for `key` (a key ID or `alias/...`) of `store`.
    pub fn new(store: KeyStore, key: &str) -> Self {
        KeyStoreKeyring {
            store,
            key: key.to_owned(),
        }
    }
}

impl Keyring for KeyStoreKeyring {
    fn revocation_epoch(&self) -> u64 {
        let by_alias = if self.key.starts_with("alias/") {
            self.store.alias_epoch()
        } else {
            0
        };
        self.store.epoch().wrapping_add(by_alias)
    }

    fn on_encrypt(&self, m: &mut EncryptionMaterials) -> Result<()> {
        let (key_id, ciphertext) = match &m.plaintext_data_key {
            None => {
                let dk = self.store.generate_data_key(
                    &self.key,
                    m.suite.data_key_len(),
                    &m.encryption_context,
                )?;
                m.plaintext_data_key = Some(dk.plaintext);
                (dk.key_id, dk.ciphertext)
            }
            Some(pt) => {
                let ct = self
                    .store
                    .encrypt(&self.key, pt.as_bytes(), &m.encryption_context)?;
                (blob::parse(&ct)?.key_id, ct)
            }
        };
        m.encrypted_data_keys.push(EncryptedDataKey {
            provider_id: PROVIDER_ID.to_owned(),
            provider_info: String::from(key_id).into_bytes(),
            ciphertext,
        });
        Ok(())
    }

    fn on_decrypt(&self, m: &mut DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<()> {
        decrypt_first(
            m,
            edks,
            |_| self.store.resolve_key_id(&self.key),
            |want, m, edk| {
                // The blob must name the same key as the provider info.
                if edk.provider_id != PROVIDER_ID
                    || edk.provider_info != want.as_bytes()
                    || !blob::parse(&edk.ciphertext).is_ok_and(|b| b.key_id == *want)
                {
                    return Ok(None);
                }
                Ok(self
                    .store
                    .decrypt(&edk.ciphertext, &m.encryption_context)
                    .ok())
            },
        )
    }
}
