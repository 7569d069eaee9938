//! The multi-keyring: one generator and any number of children.
//!
//! On encrypt the generator makes the data key and every keyring wraps it,
//! so any one of them can decrypt (e.g. an HSM key plus an offline RSA
//! recovery key). On decrypt the keyrings are tried in order until one
//! succeeds.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};

use super::Keyring;

/// A generator keyring plus child keyrings.
#[derive(Debug, Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl MultiKeyring {
    /// Creates a multi-keyring. Without a generator it can only encrypt
    /// materials that already hold a data key, and decrypt.
    pub fn new(
        generator: Option<Arc<dyn Keyring>>,
        children: Vec<Arc<dyn Keyring>>,
    ) -> Result<Self> {
        if generator.is_none() && children.is_empty() {
            return Err(Error::InvalidArgument(
                "a multi-keyring needs a generator or children".into(),
            ));
        }
        Ok(MultiKeyring {
            generator,
            children,
        })
    }
}

impl Keyring for MultiKeyring {
    fn is_in_memory(&self) -> bool {
        self.generator
            .iter()
            .chain(&self.children)
            .all(|k| k.is_in_memory())
    }

    fn revocation_epoch(&self) -> u64 {
        // Each child's number only grows, so the sum changes when any does.
        self.generator
            .iter()
            .chain(&self.children)
            .fold(0u64, |sum, k| sum.wrapping_add(k.revocation_epoch()))
    }

    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()> {
        match &self.generator {
            Some(g) => {
                g.on_encrypt(materials)?;
                if materials.plaintext_data_key.is_none() {
                    return Err(Error::EncryptFailed(
                        "the generator keyring produced no data key".into(),
                    ));
                }
            }
            None if materials.plaintext_data_key.is_none() => {
                return Err(Error::EncryptFailed(
                    "a multi-keyring without a generator cannot create a data key".into(),
                ))
            }
            None => {}
        }
        for child in &self.children {
            child.on_encrypt(materials)?;
        }
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<()> {
        if materials.plaintext_data_key.is_some() {
            return Ok(());
        }
        for k in self.generator.iter().chain(self.children.iter()) {
            if k.on_decrypt(materials, edks).is_ok() && materials.plaintext_data_key.is_some() {
                return Ok(());
            }
        }
        Err(Error::DecryptionFailed)
    }
}
