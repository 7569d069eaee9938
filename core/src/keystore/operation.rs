//! The vocabulary of audited key-store operations: which operation
//! ([`Operation`], named as in the AWS KMS API) and how it ended
//! ([`Outcome`](crate::audit::Outcome)).

use crate::names::named_enum;

named_enum!(
    /// An operation of the key store, named as in the AWS KMS API. Every
    /// audit record names one.
    Operation {
        /// CreateKey.
        CreateKey = "CreateKey",
        /// ImportKey (sealbox's one-call form of ImportKeyMaterial).
        ImportKey = "ImportKey",
        /// ImportKeyMaterial into an existing imported key: its material
        /// again (after it expired or was deleted), or new material as a
        /// new version (on-demand rotation of an imported key).
        ImportKeyMaterial = "ImportKeyMaterial",
        /// DeleteImportedKeyMaterial: the key becomes PendingImport.
        DeleteImportedKeyMaterial = "DeleteImportedKeyMaterial",
        /// The store deleting imported material whose ValidTo passed (as
        /// AWS KMS records DeleteExpiredKeyMaterial).
        DeleteExpiredKeyMaterial = "DeleteExpiredKeyMaterial",
        /// DescribeKey.
        DescribeKey = "DescribeKey",
        /// ListKeys.
        ListKeys = "ListKeys",
        /// EnableKey.
        EnableKey = "EnableKey",
        /// DisableKey.
        DisableKey = "DisableKey",
        /// ScheduleKeyDeletion.
        ScheduleKeyDeletion = "ScheduleKeyDeletion",
        /// CancelKeyDeletion.
        CancelKeyDeletion = "CancelKeyDeletion",
        /// The deletion of a key whose waiting period ended.
        DeleteKey = "DeleteKey",
        /// RotateKey (on demand or automatic).
        RotateKey = "RotateKey",
        /// EnableKeyRotation.
        EnableKeyRotation = "EnableKeyRotation",
        /// DisableKeyRotation.
        DisableKeyRotation = "DisableKeyRotation",
        /// UpdateKeyDescription.
        UpdateKeyDescription = "UpdateKeyDescription",
        /// CreateAlias.
        CreateAlias = "CreateAlias",
        /// UpdateAlias.
        UpdateAlias = "UpdateAlias",
        /// DeleteAlias.
        DeleteAlias = "DeleteAlias",
        /// ListAliases.
        ListAliases = "ListAliases",
        /// TagResource.
        TagResource = "TagResource",
        /// UntagResource.
        UntagResource = "UntagResource",
        /// Encrypt.
        Encrypt = "Encrypt",
        /// Decrypt.
        Decrypt = "Decrypt",
        /// ReEncrypt.
        ReEncrypt = "ReEncrypt",
        /// GenerateDataKey.
        GenerateDataKey = "GenerateDataKey",
        /// GenerateDataKeyWithoutPlaintext.
        GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
        /// Sign.
        Sign = "Sign",
        /// Verify.
        Verify = "Verify",
        /// GetPublicKey.
        GetPublicKey = "GetPublicKey",
        /// DeriveSharedSecret.
        DeriveSharedSecret = "DeriveSharedSecret",
        /// GenerateMac.
        GenerateMac = "GenerateMac",
        /// VerifyMac.
        VerifyMac = "VerifyMac",
        /// GenerateRandom.
        GenerateRandom = "GenerateRandom",
        /// An operator replaced the audit log with a new segment (the
        /// record names the previous segment's head).
        StartAuditSegment = "StartAuditSegment",
        /// Rows written before rows had MACs were sealed (once per store).
        SealMetadata = "SealMetadata",
        /// PutKeyPolicy.
        PutKeyPolicy = "PutKeyPolicy",
        /// GetKeyPolicy.
        GetKeyPolicy = "GetKeyPolicy",
        /// CreateGrant.
        CreateGrant = "CreateGrant",
        /// ListGrants.
        ListGrants = "ListGrants",
        /// RetireGrant.
        RetireGrant = "RetireGrant",
        /// RevokeGrant.
        RevokeGrant = "RevokeGrant",
        /// CreateSecret (AWS Secrets Manager; so are those below).
        CreateSecret = "CreateSecret",
        /// GetSecretValue.
        GetSecretValue = "GetSecretValue",
        /// PutSecretValue.
        PutSecretValue = "PutSecretValue",
        /// UpdateSecretVersionStage.
        UpdateSecretVersionStage = "UpdateSecretVersionStage",
        /// ListSecrets.
        ListSecrets = "ListSecrets",
        /// ListSecretVersionIds.
        ListSecretVersionIds = "ListSecretVersionIds",
        /// DescribeSecret.
        DescribeSecret = "DescribeSecret",
        /// DeleteSecret (scheduled, forced, or the purge of a secret whose
        /// recovery window ended).
        DeleteSecret = "DeleteSecret",
        /// RestoreSecret.
        RestoreSecret = "RestoreSecret",
        /// RotateSecret (the whole four-step rotation).
        RotateSecret = "RotateSecret",
        /// GetRandomPassword.
        GetRandomPassword = "GetRandomPassword",
        /// UpdateSecret (description, key of new versions).
        UpdateSecret = "UpdateSecret",
        /// PutResourcePolicy: a secret's resource policy.
        PutResourcePolicy = "PutResourcePolicy",
        /// GetResourcePolicy.
        GetResourcePolicy = "GetResourcePolicy",
        /// DeleteResourcePolicy.
        DeleteResourcePolicy = "DeleteResourcePolicy",
    }
);

impl Operation {
    /// What each operation does, in one exhaustive table: (it changes keys,
    /// aliases or tags; it may take away a use that a cached data key still
    /// allows). A new operation does not compile until it says both.
    const fn effects(self) -> (bool, bool) {
        match self {
            // Secrets (issue 21): changes to secrets are mutations (their
            // records are anchored at once); none takes a use of a key away.
            Self::CreateSecret
            | Self::PutSecretValue
            | Self::UpdateSecretVersionStage
            | Self::DeleteSecret
            | Self::RestoreSecret
            | Self::RotateSecret
            | Self::UpdateSecret
            | Self::PutResourcePolicy
            | Self::DeleteResourcePolicy => (true, false),
            Self::GetResourcePolicy
            | Self::GetSecretValue
            | Self::ListSecrets
            | Self::ListSecretVersionIds
            | Self::DescribeSecret
            | Self::GetRandomPassword => (false, false),
            Self::DisableKey
            | Self::ScheduleKeyDeletion
            | Self::DeleteKey
            | Self::UpdateAlias
            | Self::DeleteAlias
            | Self::PutKeyPolicy
            | Self::RetireGrant
            | Self::RevokeGrant
            | Self::DeleteImportedKeyMaterial
            | Self::DeleteExpiredKeyMaterial => (true, true),
            Self::CreateKey
            | Self::ImportKey
            | Self::ImportKeyMaterial
            | Self::EnableKey
            | Self::CancelKeyDeletion
            | Self::RotateKey
            | Self::EnableKeyRotation
            | Self::DisableKeyRotation
            | Self::UpdateKeyDescription
            | Self::CreateAlias
            | Self::TagResource
            | Self::UntagResource
            | Self::StartAuditSegment
            | Self::SealMetadata
            | Self::CreateGrant => (true, false),
            Self::DescribeKey
            | Self::ListKeys
            | Self::ListAliases
            | Self::Encrypt
            | Self::Decrypt
            | Self::ReEncrypt
            | Self::GenerateDataKey
            | Self::GenerateDataKeyWithoutPlaintext
            | Self::Sign
            | Self::Verify
            | Self::GetPublicKey
            | Self::DeriveSharedSecret
            | Self::GenerateMac
            | Self::VerifyMac
            | Self::GenerateRandom
            | Self::GetKeyPolicy
            | Self::ListGrants => (false, false),
        }
    }

    /// Whether the operation changes keys, aliases or tags. After each
    /// mutation the audit head is anchored in the metadata store.
    pub const fn is_mutation(self) -> bool {
        self.effects().0
    }

    /// Whether the operation may take away a use that a cached data key
    /// still allows (a disabled or deleted key, an alias pointed elsewhere):
    /// caches of materials from the key store drop their entries after it.
    pub const fn revokes(self) -> bool {
        self.effects().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_mutations() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>().unwrap(), *op);
        }
        assert!(Operation::RotateKey.is_mutation());
        assert!(!Operation::Decrypt.is_mutation());
        assert!("Frobnicate".parse::<Operation>().is_err());
    }
}
