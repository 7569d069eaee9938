//! The default materials manager over one keyring.

use std::sync::Arc;

use base64::Engine;

use crate::crypto::{EcdsaSigningKey, EcdsaVerifyingKey};
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};
use crate::message::context::PUBLIC_KEY_FIELD;
use crate::message::{context, CommitmentPolicy};

use super::{DecryptMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager};

/// Materials from one keyring, as the AWS Encryption SDK's default CMM.
#[derive(Debug, Clone)]
pub struct DefaultMaterialsManager {
    keyring: Arc<dyn Keyring>,
}

impl DefaultMaterialsManager {
    /// Wraps a keyring.
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        DefaultMaterialsManager { keyring }
    }
}

impl MaterialsManager for DefaultMaterialsManager {
    fn is_in_memory(&self) -> bool {
        self.keyring.is_in_memory()
    }

    fn revocation_epoch(&self) -> u64 {
        self.keyring.revocation_epoch()
    }

    fn get_encryption_materials(
        &self,
        req: EncryptionMaterialsRequest,
    ) -> Result<EncryptionMaterials> {
        context::check_no_reserved_keys(&req.encryption_context)?;
        let suite = req.suite.unwrap_or(req.commitment_policy.default_suite());
        req.commitment_policy.check_encrypt(suite)?;
        for k in &req.required_encryption_context_keys {
            if !req.encryption_context.contains_key(k) {
                return Err(Error::InvalidArgument(format!(
                    "required encryption context key {k:?} is not in the encryption context"
                )));
            }
        }
        let mut encryption_context = req.encryption_context;
        let signing_key = suite
            .signature()
            .map(|(curve, _)| EcdsaSigningKey::generate(curve))
            .transpose()?;
        if let Some(sk) = &signing_key {
            let public = base64::engine::general_purpose::STANDARD
                .encode(sk.verifying_key().to_compressed());
            encryption_context.insert(PUBLIC_KEY_FIELD.to_owned(), public);
        }
        let mut materials = EncryptionMaterials {
            suite,
            encryption_context,
            required_encryption_context_keys: req.required_encryption_context_keys,
            plaintext_data_key: None,
            encrypted_data_keys: Vec::new(),
            signing_key,
        };
        self.keyring.on_encrypt(&mut materials)?;
        match &materials.plaintext_data_key {
            Some(dk) if dk.len() == suite.data_key_len() => {}
            _ => {
                return Err(Error::EncryptFailed(
                    "the keyring produced no data key of the right length".into(),
                ))
            }
        }
        if materials.encrypted_data_keys.is_empty() {
            return Err(Error::EncryptFailed(
                "the keyring produced no encrypted data key".into(),
            ));
        }
        Ok(materials)
    }

    fn decrypt_materials(&self, req: DecryptMaterialsRequest) -> Result<DecryptionMaterials> {
        req.commitment_policy.check_decrypt(req.suite)?;
        let mut encryption_context = req.encryption_context;
        let verification_key = match (
            req.suite.signature(),
            encryption_context.get(PUBLIC_KEY_FIELD),
        ) {
            (Some((curve, _)), Some(b64)) => {
                let point = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| Error::DecryptionFailed)?;
                Some(
                    EcdsaVerifyingKey::from_sec1(curve, &point)
                        .map_err(|_| Error::DecryptionFailed)?,
                )
            }
            (None, None) => None,
            // A signed suite without its key, or an unsigned one with a key.
            _ => return Err(Error::DecryptionFailed),
        };
        let mut required = Vec::new();
        if let Some(reproduced) = req.reproduced_encryption_context {
            for (k, v) in reproduced {
                match encryption_context.get(&k) {
                    Some(stored) if *stored == v => {}
                    Some(_) => return Err(Error::DecryptionFailed),
                    None => {
                        required.push(k.clone());
                        encryption_context.insert(k, v);
                    }
                }
            }
        }
        let mut materials = DecryptionMaterials {
            suite: req.suite,
            encryption_context,
            required_encryption_context_keys: required,
            plaintext_data_key: None,
            verification_key,
        };
        self.keyring
            .on_decrypt(&mut materials, &req.encrypted_data_keys)?;
        match &materials.plaintext_data_key {
            Some(dk) if dk.len() == req.suite.data_key_len() => Ok(materials),
            _ => Err(Error::DecryptionFailed),
        }
    }
}

impl CommitmentPolicy {
    /// Errors unless this policy allows encrypting with `suite`.
    pub fn check_encrypt(self, suite: crate::message::AlgorithmSuite) -> Result<()> {
        let ok = match self {
            CommitmentPolicy::ForbidEncryptAllowDecrypt => !suite.is_committing(),
            _ => suite.is_committing(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::CommitmentPolicyViolation(format!(
                "{self:?} does not allow encrypting with suite {suite}"
            )))
        }
    }

    /// Errors unless this policy allows decrypting `suite`.
    pub fn check_decrypt(self, suite: crate::message::AlgorithmSuite) -> Result<()> {
        if self == CommitmentPolicy::RequireEncryptRequireDecrypt && !suite.is_committing() {
            return Err(Error::CommitmentPolicyViolation(format!(
                "{self:?} does not allow decrypting the non-committing suite {suite}"
            )));
        }
        Ok(())
    }
}
