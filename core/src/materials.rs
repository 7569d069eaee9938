//! Cryptographic materials: what a materials manager hands the message
//! layer, and what keyrings fill in.

use crate::crypto::{EcdsaSigningKey, EcdsaVerifyingKey};
use crate::error::Result;
use crate::message::{AlgorithmSuite, EncryptionContext};
use crate::secret::SecretBytes;

/// A data key encrypted by one keyring, as stored in the message header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// Names the kind of key that wrapped it (for raw keyrings: the key namespace).
    pub provider_id: String,
    /// Identifies the wrapping key (and, for raw AES, the IV).
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

/// Materials to encrypt one message.
pub struct EncryptionMaterials {
    /// The suite the message is written with.
    pub suite: AlgorithmSuite,
    /// The full encryption context, including `aws-crypto-public-key` for
    /// signed suites and any required-but-not-stored pairs.
    pub encryption_context: EncryptionContext,
    /// Keys of `encryption_context` that are authenticated but not stored
    /// in the message; the decrypting party must supply them.
    pub required_encryption_context_keys: Vec<String>,
    /// The data key, once a keyring generated it.
    pub plaintext_data_key: Option<SecretBytes>,
    /// The data key wrapped by each keyring.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The per-message signing key of signed suites.
    pub signing_key: Option<EcdsaSigningKey>,
}

crate::secret::debug_hiding_secrets!(EncryptionMaterials {
    suite,
    encryption_context,
    encrypted_data_keys: |m| m.encrypted_data_keys.len(),
    has_data_key: |m| m.plaintext_data_key.is_some(),
});

/// Materials to decrypt one message.
pub struct DecryptionMaterials {
    /// The suite named in the message header.
    pub suite: AlgorithmSuite,
    /// The stored context plus the reproduced pairs that were not stored.
    pub encryption_context: EncryptionContext,
    /// Keys of `encryption_context` that came from the caller, not from the
    /// message; they are authenticated with the header.
    pub required_encryption_context_keys: Vec<String>,
    /// The data key, once a keyring decrypted it.
    pub plaintext_data_key: Option<SecretBytes>,
    /// The verification key of signed suites.
    pub verification_key: Option<EcdsaVerifyingKey>,
}

crate::secret::debug_hiding_secrets!(DecryptionMaterials {
    suite,
    encryption_context,
    has_data_key: |m| m.plaintext_data_key.is_some(),
});

impl EncryptionMaterials {
    /// An explicit copy, secrets in secret memory (the caching materials
    /// manager hands out a copy of its entry per message).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(EncryptionMaterials {
            suite: self.suite,
            encryption_context: self.encryption_context.clone(),
            required_encryption_context_keys: self.required_encryption_context_keys.clone(),
            plaintext_data_key: try_clone_key(&self.plaintext_data_key)?,
            encrypted_data_keys: self.encrypted_data_keys.clone(),
            signing_key: self
                .signing_key
                .as_ref()
                .map(|k| k.try_clone())
                .transpose()?,
        })
    }
}

impl DecryptionMaterials {
    /// An explicit copy, secrets in secret memory (the caching materials
    /// manager hands out a copy of its entry per message).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(DecryptionMaterials {
            suite: self.suite,
            encryption_context: self.encryption_context.clone(),
            required_encryption_context_keys: self.required_encryption_context_keys.clone(),
            plaintext_data_key: try_clone_key(&self.plaintext_data_key)?,
            verification_key: self.verification_key.clone(),
        })
    }
}

fn try_clone_key(key: &Option<SecretBytes>) -> Result<Option<SecretBytes>> {
    key.as_ref().map(SecretBytes::try_clone).transpose()
}
