//! The actions of key policies: the KMS vocabulary, the action each
//! [`Operation`] checks, and `*`/`?` patterns over them.

use super::invalid;
use crate::error::Result;
use crate::keystore::Operation;

/// The action ReEncrypt checks on its destination key.
pub const RE_ENCRYPT_TO: &str = "kms:ReEncryptTo";

/// Every AWS KMS action a key policy may name (`Action` entries must be
/// one of these, or a pattern matching at least one). Includes the
/// actions of AWS KMS that sealbox does not implement, so that a policy
/// written for AWS reads unchanged.
pub const KMS_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:ConnectCustomKeyStore",
    "kms:CreateAlias",
    "kms:CreateCustomKeyStore",
    "kms:CreateGrant",
    "kms:CreateKey",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteCustomKeyStore",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:DescribeCustomKeyStores",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DisconnectCustomKeyStore",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GenerateRandom",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:ImportKeyMaterial",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateCustomKeyStore",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:Verify",
    "kms:VerifyMac",
];

impl Operation {
    /// The key-policy action this operation checks, or `None` for the
    /// operations that are not about one existing key (see the table in
    /// [`crate::keystore::policy`]). A new operation does not compile until
    /// it says which.
    pub const fn policy_action(self) -> Option<&'static str> {
        Some(match self {
            Self::CreateKey
            | Self::ListKeys
            | Self::ListAliases
            | Self::GenerateRandom
            | Self::DeleteKey
            | Self::DeleteExpiredKeyMaterial
            | Self::StartAuditSegment
            | Self::SealMetadata => return None,
            // Secrets are not keys: their own operations have no key-policy
            // action; the key-store operations a secret's value goes
            // through (GenerateDataKey, Decrypt) are decided on its key.
            Self::CreateSecret
            | Self::GetSecretValue
            | Self::PutSecretValue
            | Self::UpdateSecretVersionStage
            | Self::ListSecrets
            | Self::ListSecretVersionIds
            | Self::DescribeSecret
            | Self::DeleteSecret
            | Self::RestoreSecret
            | Self::RotateSecret
            | Self::GetRandomPassword
            | Self::UpdateSecret
            | Self::PutResourcePolicy
            | Self::GetResourcePolicy
            | Self::DeleteResourcePolicy => return None,
            Self::ImportKey | Self::ImportKeyMaterial => "kms:ImportKeyMaterial",
            Self::DeleteImportedKeyMaterial => "kms:DeleteImportedKeyMaterial",
            Self::RotateKey => "kms:RotateKeyOnDemand",
            Self::ReEncrypt => "kms:ReEncryptFrom",
            Self::DescribeKey => "kms:DescribeKey",
            Self::EnableKey => "kms:EnableKey",
            Self::DisableKey => "kms:DisableKey",
            Self::ScheduleKeyDeletion => "kms:ScheduleKeyDeletion",
            Self::CancelKeyDeletion => "kms:CancelKeyDeletion",
            Self::EnableKeyRotation => "kms:EnableKeyRotation",
            Self::DisableKeyRotation => "kms:DisableKeyRotation",
            Self::UpdateKeyDescription => "kms:UpdateKeyDescription",
            Self::CreateAlias => "kms:CreateAlias",
            Self::UpdateAlias => "kms:UpdateAlias",
            Self::DeleteAlias => "kms:DeleteAlias",
            Self::TagResource => "kms:TagResource",
            Self::UntagResource => "kms:UntagResource",
            Self::Encrypt => "kms:Encrypt",
            Self::Decrypt => "kms:Decrypt",
            Self::GenerateDataKey => "kms:GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "kms:GenerateDataKeyWithoutPlaintext",
            Self::Sign => "kms:Sign",
            Self::Verify => "kms:Verify",
            Self::DeriveSharedSecret => "kms:DeriveSharedSecret",
            Self::GetPublicKey => "kms:GetPublicKey",
            Self::GenerateMac => "kms:GenerateMac",
            Self::VerifyMac => "kms:VerifyMac",
            Self::PutKeyPolicy => "kms:PutKeyPolicy",
            Self::GetKeyPolicy => "kms:GetKeyPolicy",
            Self::CreateGrant => "kms:CreateGrant",
            Self::ListGrants => "kms:ListGrants",
            Self::RetireGrant => "kms:RetireGrant",
            Self::RevokeGrant => "kms:RevokeGrant",
        })
    }
}

/// One action pattern as written, with its lower-case form for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ActionPattern {
    pub(super) text: String,
    pub(super) lower: String,
}

/// Every AWS Secrets Manager action a secret's resource policy may name.
pub const SECRETS_MANAGER_ACTIONS: &[&str] = &[
    "secretsmanager:BatchGetSecretValue",
    "secretsmanager:CancelRotateSecret",
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetRandomPassword",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:GetSecretValue",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:ListSecrets",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:PutSecretValue",
    "secretsmanager:RemoveRegionsFromReplication",
    "secretsmanager:ReplicateSecretToRegions",
    "secretsmanager:RestoreSecret",
    "secretsmanager:RotateSecret",
    "secretsmanager:StopReplicationToReplica",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:ValidateResourcePolicy",
];

/// Which actions a policy speaks of: a key policy's `kms:` actions, or a
/// secret's resource policy's `secretsmanager:` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// `kms:` (key policies).
    Kms,
    /// `secretsmanager:` (secrets' resource policies).
    SecretsManager,
}

impl Vocabulary {
    fn prefix(self) -> &'static str {
        match self {
            Vocabulary::Kms => "kms:",
            Vocabulary::SecretsManager => "secretsmanager:",
        }
    }

    fn actions(self) -> &'static [&'static str] {
        match self {
            Vocabulary::Kms => KMS_ACTIONS,
            Vocabulary::SecretsManager => SECRETS_MANAGER_ACTIONS,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Vocabulary::Kms => "KMS",
            Vocabulary::SecretsManager => "Secrets Manager",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Vocabulary::Kms => "kms:Decrypt",
            Vocabulary::SecretsManager => "secretsmanager:GetSecretValue",
        }
    }
}

pub(super) fn parse_action(text: &str, vocabulary: Vocabulary) -> Result<ActionPattern> {
    let lower = text.to_ascii_lowercase();
    let known = |a: &&str| glob_match(&lower, &a.to_ascii_lowercase());
    let (prefix, name) = (vocabulary.prefix(), vocabulary.name());
    if !lower.starts_with(prefix) {
        return Err(invalid(format!(
            "action {text:?} is not a {name} action (actions are {prefix}<Name>, e.g. {})",
            vocabulary.example()
        )));
    }
    if !vocabulary.actions().iter().any(known) {
        let what = if text.contains(['*', '?']) {
            format!("matches no {name} action")
        } else {
            format!("is not a {name} action")
        };
        return Err(invalid(format!("action {text:?} {what}")));
    }
    Ok(ActionPattern {
        text: text.to_owned(),
        lower,
    })
}

/// Whether `text` matches `pattern`, where `*` matches any run of
/// characters (also none) and `?` exactly one. Case-sensitive: callers
/// lower-case both sides where case does not count.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern after it, text from).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(text, ti);
                continue;
            }
            Some(_) => {
                let n = char_len(pattern, pi);
                if t[ti..].starts_with(&p[pi..pi + n]) {
                    pi += n;
                    ti += n;
                    continue;
                }
            }
            None => {}
        }
        match star {
            Some((sp, st)) => {
                let next = st + char_len(text, st);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// The length in bytes of the character at byte `i` (a char boundary).
fn char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        for (p, t, want) in [
            ("kms:*", "kms:decrypt", true),
            ("kms:generatedatakey*", "kms:generatedatakey", true),
            (
                "kms:generatedatakey*",
                "kms:generatedatakeywithoutplaintext",
                true,
            ),
            ("kms:re*", "kms:reencryptfrom", true),
            ("kms:re*", "kms:decrypt", false),
            ("kms:?ign", "kms:sign", true),
            ("kms:?ign", "kms:ign", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("t-?", "t-é", true),
            ("t-?", "t-éé", false),
            ("*é", "ééé", true),
            ("", "", true),
            ("", "a", false),
            ("**", "", true),
        ] {
            assert_eq!(glob_match(p, t), want, "{p:?} ~ {t:?}");
        }
    }

    #[test]
    fn every_operation_action_is_known() {
        for op in Operation::ALL {
            if let Some(a) = op.policy_action() {
                assert!(KMS_ACTIONS.contains(&a), "{op}: {a}");
            }
        }
        assert!(KMS_ACTIONS.contains(&RE_ENCRYPT_TO));
        assert_eq!(
            Operation::ImportKey.policy_action(),
            Some("kms:ImportKeyMaterial")
        );
        assert_eq!(Operation::CreateKey.policy_action(), None);
    }
}
