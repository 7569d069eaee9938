//! Cryptographic materials managers: between the message layer and the
//! keyrings. The default one picks the suite, makes the per-message signing
//! key and checks the encryption context on decrypt.

mod caching;
mod default;

pub use caching::{CacheLimits, CachingMaterialsManager};
pub use default::DefaultMaterialsManager;

use crate::error::Result;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::message::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};

/// What the message layer asks for to encrypt one message.
#[derive(Debug, Clone)]
pub struct EncryptionMaterialsRequest {
    /// The caller's encryption context (no reserved keys).
    pub encryption_context: EncryptionContext,
    /// The suite the caller asked for, if any.
    pub suite: Option<AlgorithmSuite>,
    /// The commitment policy in force.
    pub commitment_policy: CommitmentPolicy,
    /// Keys of the context to authenticate without storing them.
    pub required_encryption_context_keys: Vec<String>,
    /// The plaintext length when known in advance (used by caching).
    pub plaintext_length: Option<u64>,
}

/// What the message layer asks for to decrypt one message.
#[derive(Debug, Clone)]
pub struct DecryptMaterialsRequest {
    /// The suite named in the header.
    pub suite: AlgorithmSuite,
    /// The encrypted data keys from the header.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The encryption context stored in the header.
    pub encryption_context: EncryptionContext,
    /// The context the caller expects (the "reproduced" context).
    pub reproduced_encryption_context: Option<EncryptionContext>,
    /// The commitment policy in force.
    pub commitment_policy: CommitmentPolicy,
}

/// Supplies materials for encryption and decryption. Shared by threads.
pub trait MaterialsManager: Send + Sync + std::fmt::Debug {
    /// Materials to encrypt one message.
    fn get_encryption_materials(
        &self,
        request: EncryptionMaterialsRequest,
    ) -> Result<EncryptionMaterials>;
    /// Materials to decrypt one message.
    fn decrypt_materials(&self, request: DecryptMaterialsRequest) -> Result<DecryptionMaterials>;

    /// Whether materials come from memory alone (see
    /// [`Keyring::is_in_memory`](crate::keyring::Keyring::is_in_memory)).
    fn is_in_memory(&self) -> bool {
        false
    }

    /// See [`Keyring::revocation_epoch`](crate::keyring::Keyring::revocation_epoch).
    fn revocation_epoch(&self) -> u64 {
        0
    }
}
