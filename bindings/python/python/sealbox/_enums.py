"""Names of algorithms, policies and key attributes.

They are ``str``/``int`` enums, so a plain string (``"AES_256"``) or number
(``0x0478``) is accepted wherever one is expected.
"""

from __future__ import annotations

import enum

__all__ = [
    "AlgorithmSuite",
    "CommitmentPolicy",
    "EncryptionAlgorithm",
    "KeyAgreementAlgorithm",
    "KeySpec",
    "KeyState",
    "KeyUsage",
    "MacAlgorithm",
    "MessageType",
    "Operation",
    "Origin",
    "Outcome",
    "RsaPadding",
    "EcdhKeyAgreementScheme",
    "EcdhCurveSpec",
    "SigningAlgorithm",
]


class AlgorithmSuite(enum.IntEnum):
    """Algorithm suites of the AWS Encryption SDK message format (the value
    is the suite ID in the message header)."""

    #: AES-128-GCM, no key derivation (legacy; message format version 1).
    AES_128_GCM_IV12_TAG16 = 0x0014
    #: AES-192-GCM, no key derivation (legacy; version 1).
    AES_192_GCM_IV12_TAG16 = 0x0046
    #: AES-256-GCM, no key derivation (legacy; version 1).
    AES_256_GCM_IV12_TAG16 = 0x0078
    #: AES-128-GCM, HKDF-SHA256 (version 1).
    AES_128_GCM_IV12_TAG16_HKDF_SHA256 = 0x0114
    #: AES-192-GCM, HKDF-SHA256 (version 1).
    AES_192_GCM_IV12_TAG16_HKDF_SHA256 = 0x0146
    #: AES-256-GCM, HKDF-SHA256 (version 1).
    AES_256_GCM_IV12_TAG16_HKDF_SHA256 = 0x0178
    #: AES-128-GCM, HKDF-SHA256, ECDSA P-256 with SHA-256 (version 1).
    AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256 = 0x0214
    #: AES-192-GCM, HKDF-SHA384, ECDSA P-384 with SHA-384 (version 1).
    AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0346
    #: AES-256-GCM, HKDF-SHA384, ECDSA P-384 with SHA-384 (version 1): the
    #: default under ``FORBID_ENCRYPT_ALLOW_DECRYPT``.
    AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0378
    #: sealbox's default: key commitment, no signature.
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY = 0x0478
    #: The AWS Encryption SDKs' default: key commitment and an ECDSA P-384
    #: signature (slower; lets readers who cannot encrypt check the writer).
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 = 0x0578


class CommitmentPolicy(enum.StrEnum):
    """Which suites may encrypt and which are accepted on decrypt."""

    #: Encrypt with non-committing (version 1) suites; decrypt anything.
    #: Only for writing messages that old readers must understand.
    FORBID_ENCRYPT_ALLOW_DECRYPT = "FORBID_ENCRYPT_ALLOW_DECRYPT"
    #: Encrypt with committing suites; decrypt anything (to read old data).
    REQUIRE_ENCRYPT_ALLOW_DECRYPT = "REQUIRE_ENCRYPT_ALLOW_DECRYPT"
    #: The default: committing suites only, both ways.
    REQUIRE_ENCRYPT_REQUIRE_DECRYPT = "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"


class KeySpec(enum.StrEnum):
    """What kind of key material a key holds."""

    #: AES-256: symmetric encryption and data keys.
    AES_256 = "AES_256"
    #: RSA with a 2048-bit modulus (encryption or signing).
    RSA_2048 = "RSA_2048"
    #: RSA with a 3072-bit modulus (encryption or signing).
    RSA_3072 = "RSA_3072"
    #: RSA with a 4096-bit modulus (encryption or signing).
    RSA_4096 = "RSA_4096"
    #: ECDSA on NIST P-256 (signing).
    ECC_NIST_P256 = "ECC_NIST_P256"
    #: ECDSA on NIST P-384 (signing).
    ECC_NIST_P384 = "ECC_NIST_P384"
    #: ECDSA on NIST P-521 (signing).
    ECC_NIST_P521 = "ECC_NIST_P521"
    #: ECDSA on secp256k1 (signing; blockchain keys).
    ECC_SECG_P256K1 = "ECC_SECG_P256K1"
    #: EdDSA on edwards25519 (Ed25519, RFC 8032; signing).
    ECC_NIST_EDWARDS25519 = "ECC_NIST_EDWARDS25519"
    #: HMAC with a 224-bit key (HMAC-SHA-224).
    HMAC_224 = "HMAC_224"
    #: HMAC with a 256-bit key (HMAC-SHA-256).
    HMAC_256 = "HMAC_256"
    #: HMAC with a 384-bit key (HMAC-SHA-384).
    HMAC_384 = "HMAC_384"
    #: HMAC with a 512-bit key (HMAC-SHA-512).
    HMAC_512 = "HMAC_512"
    #: ML-DSA-44 (FIPS 204; post-quantum signing, NIST category 2).
    ML_DSA_44 = "ML_DSA_44"
    #: ML-DSA-65 (FIPS 204; category 3).
    ML_DSA_65 = "ML_DSA_65"
    #: ML-DSA-87 (FIPS 204; category 5).
    ML_DSA_87 = "ML_DSA_87"


class KeyUsage(enum.StrEnum):
    """What a key may be used for (fixed when the key is created)."""

    #: Encrypt, Decrypt, ReEncrypt and GenerateDataKey (AES and RSA keys).
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
    #: Sign and Verify (RSA, ECC, Ed25519 and ML-DSA keys).
    SIGN_VERIFY = "SIGN_VERIFY"
    #: GenerateMac and VerifyMac (HMAC keys).
    GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
    #: DeriveSharedSecret (ECDH; P-256, P-384 and P-521 keys).
    KEY_AGREEMENT = "KEY_AGREEMENT"


class KeyState(enum.StrEnum):
    """The lifecycle state of a key."""

    #: Usable.
    ENABLED = "Enabled"
    #: Not usable until enabled again.
    DISABLED = "Disabled"
    #: Not usable; the material is destroyed at the key's ``deletion_date``
    #: unless the deletion is cancelled.
    PENDING_DELETION = "PendingDeletion"
    #: An imported key some of whose material expired or was deleted: not
    #: usable until that material is imported again.
    PENDING_IMPORT = "PendingImport"


class Origin(enum.StrEnum):
    """Where a key's material came from."""

    #: Generated by the key store's backend.
    SEALBOX = "SEALBOX"
    #: Imported by the application (BYOK).
    EXTERNAL = "EXTERNAL"


class SigningAlgorithm(enum.StrEnum):
    """Signing algorithms of :meth:`KeyStore.sign` and :meth:`KeyStore.verify`."""

    #: ECDSA with SHA-256 (P-256 and secp256k1 keys).
    ECDSA_SHA_256 = "ECDSA_SHA_256"
    #: ECDSA on P-384 with SHA-384.
    ECDSA_SHA_384 = "ECDSA_SHA_384"
    #: ECDSA on P-521 with SHA-512.
    ECDSA_SHA_512 = "ECDSA_SHA_512"
    #: Ed25519 (pure EdDSA; ``ECC_NIST_EDWARDS25519`` keys): signs the
    #: message itself, so only :attr:`MessageType.RAW`; 64-byte signatures.
    ED25519_SHA_512 = "ED25519_SHA_512"
    #: ML-DSA (FIPS 204, pure, empty context; ``ML_DSA_*`` keys): signs the
    #: message (:attr:`MessageType.RAW`) or its μ
    #: (:attr:`MessageType.EXTERNAL_MU`), never a digest.
    ML_DSA_SHAKE_256 = "ML_DSA_SHAKE_256"
    #: RSASSA-PSS with SHA-256 (salt 32 bytes).
    RSASSA_PSS_SHA_256 = "RSASSA_PSS_SHA_256"
    #: RSASSA-PSS with SHA-384 (salt 48 bytes).
    RSASSA_PSS_SHA_384 = "RSASSA_PSS_SHA_384"
    #: RSASSA-PSS with SHA-512 (salt 64 bytes).
    RSASSA_PSS_SHA_512 = "RSASSA_PSS_SHA_512"
    #: RSASSA-PKCS1-v1_5 with SHA-256.
    RSASSA_PKCS1_V1_5_SHA_256 = "RSASSA_PKCS1_V1_5_SHA_256"
    #: RSASSA-PKCS1-v1_5 with SHA-384.
    RSASSA_PKCS1_V1_5_SHA_384 = "RSASSA_PKCS1_V1_5_SHA_384"
    #: RSASSA-PKCS1-v1_5 with SHA-512.
    RSASSA_PKCS1_V1_5_SHA_512 = "RSASSA_PKCS1_V1_5_SHA_512"


class EncryptionAlgorithm(enum.StrEnum):
    """Encryption algorithms of RSA keys (:meth:`KeyStore.encrypt` with
    ``algorithm``)."""

    #: RSA-OAEP with SHA-1 and MGF1-SHA-1.
    RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1"
    #: RSA-OAEP with SHA-256 and MGF1-SHA-256.
    RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256"


class MacAlgorithm(enum.StrEnum):
    """MAC algorithms of :meth:`KeyStore.generate_mac` and
    :meth:`KeyStore.verify_mac`."""

    #: HMAC-SHA-224 (``HMAC_224`` keys).
    HMAC_SHA_224 = "HMAC_SHA_224"
    #: HMAC-SHA-256 (``HMAC_256`` keys).
    HMAC_SHA_256 = "HMAC_SHA_256"
    #: HMAC-SHA-384 (``HMAC_384`` keys).
    HMAC_SHA_384 = "HMAC_SHA_384"
    #: HMAC-SHA-512 (``HMAC_512`` keys).
    HMAC_SHA_512 = "HMAC_SHA_512"


class KeyAgreementAlgorithm(enum.StrEnum):
    """Key agreement algorithms of :meth:`KeyStore.derive_shared_secret`."""

    #: Elliptic-curve Diffie-Hellman; the shared secret is the x-coordinate.
    ECDH = "ECDH"


class MessageType(enum.StrEnum):
    """Whether the input of :meth:`KeyStore.sign` and
    :meth:`KeyStore.verify` is the message or its digest."""

    #: The message itself (at most 4096 bytes); sealbox hashes it.
    RAW = "RAW"
    #: A digest the caller computed, as long as the algorithm's hash.
    DIGEST = "DIGEST"
    #: ML-DSA only: μ (64 bytes, FIPS 204 section 6.2) that the caller
    #: computed from the public key and a message of any size.
    EXTERNAL_MU = "EXTERNAL_MU"


class RsaPadding(enum.StrEnum):
    """Paddings of the raw RSA keyring (as in the AWS Encryption SDK)."""

    #: PKCS#1 v1.5 encryption padding (legacy; kept for compatibility).
    PKCS1 = "PKCS1"
    #: OAEP with SHA-1 and MGF1-SHA-1.
    OAEP_SHA1_MGF1 = "OAEP_SHA1_MGF1"
    #: OAEP with SHA-256 and MGF1-SHA-256.
    OAEP_SHA256_MGF1 = "OAEP_SHA256_MGF1"
    #: OAEP with SHA-384 and MGF1-SHA-384.
    OAEP_SHA384_MGF1 = "OAEP_SHA384_MGF1"
    #: OAEP with SHA-512 and MGF1-SHA-512.
    OAEP_SHA512_MGF1 = "OAEP_SHA512_MGF1"


class EcdhKeyAgreementScheme(enum.StrEnum):
    """Key agreement schemes of :class:`RawEcdhKeyring` (as in the AWS
    Cryptographic Material Providers Library)."""

    #: The sender's static private key and the recipient's public key:
    #: encrypts, and decrypts what either side of the pair wrote.
    RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY = "RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY"
    #: A new key pair for every message and the recipient's public key:
    #: encrypts only.
    EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY = "EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY"
    #: The recipient's private key: decrypts whatever was wrapped to it.
    PUBLIC_KEY_DISCOVERY = "PUBLIC_KEY_DISCOVERY"


class EcdhCurveSpec(enum.StrEnum):
    """Curves of :class:`RawEcdhKeyring`."""

    #: NIST P-256.
    ECC_NIST_P256 = "ECC_NIST_P256"
    #: NIST P-384.
    ECC_NIST_P384 = "ECC_NIST_P384"
    #: NIST P-521.
    ECC_NIST_P521 = "ECC_NIST_P521"


class Operation(enum.StrEnum):
    """Key-store operations as audit records name them (AWS KMS names)."""

    #: :meth:`KeyStore.create_key`.
    CREATE_KEY = "CreateKey"
    #: :meth:`KeyStore.import_key` (sealbox's one-call form of
    #: ImportKeyMaterial).
    IMPORT_KEY = "ImportKey"
    #: :meth:`KeyStore.import_key_material`.
    IMPORT_KEY_MATERIAL = "ImportKeyMaterial"
    #: :meth:`KeyStore.delete_imported_key_material`.
    DELETE_IMPORTED_KEY_MATERIAL = "DeleteImportedKeyMaterial"
    #: The store destroying imported material whose ``valid_to`` passed
    #: (:meth:`KeyStore.purge_expired_material`).
    DELETE_EXPIRED_KEY_MATERIAL = "DeleteExpiredKeyMaterial"
    #: :meth:`KeyStore.describe_key`.
    DESCRIBE_KEY = "DescribeKey"
    #: :meth:`KeyStore.list_keys`, :meth:`KeyStore.list_keys_page`.
    LIST_KEYS = "ListKeys"
    #: :meth:`KeyStore.enable_key`.
    ENABLE_KEY = "EnableKey"
    #: :meth:`KeyStore.disable_key`.
    DISABLE_KEY = "DisableKey"
    #: :meth:`KeyStore.schedule_key_deletion`.
    SCHEDULE_KEY_DELETION = "ScheduleKeyDeletion"
    #: :meth:`KeyStore.cancel_key_deletion`.
    CANCEL_KEY_DELETION = "CancelKeyDeletion"
    #: The deletion of a key whose waiting period ended
    #: (:meth:`KeyStore.purge_expired_keys`).
    DELETE_KEY = "DeleteKey"
    #: :meth:`KeyStore.rotate_key`, or an automatic rotation
    #: (:meth:`KeyStore.apply_due_rotations`).
    ROTATE_KEY = "RotateKey"
    #: :meth:`KeyStore.enable_key_rotation`.
    ENABLE_KEY_ROTATION = "EnableKeyRotation"
    #: :meth:`KeyStore.disable_key_rotation`.
    DISABLE_KEY_ROTATION = "DisableKeyRotation"
    #: :meth:`KeyStore.update_key_description`.
    UPDATE_KEY_DESCRIPTION = "UpdateKeyDescription"
    #: :meth:`KeyStore.create_alias`.
    CREATE_ALIAS = "CreateAlias"
    #: :meth:`KeyStore.update_alias`.
    UPDATE_ALIAS = "UpdateAlias"
    #: :meth:`KeyStore.delete_alias`.
    DELETE_ALIAS = "DeleteAlias"
    #: :meth:`KeyStore.list_aliases`.
    LIST_ALIASES = "ListAliases"
    #: :meth:`KeyStore.tag_key`, :meth:`KeyStore.tag_secret`.
    TAG_RESOURCE = "TagResource"
    #: :meth:`KeyStore.untag_key`, :meth:`KeyStore.untag_secret`.
    UNTAG_RESOURCE = "UntagResource"
    #: :meth:`KeyStore.encrypt`.
    ENCRYPT = "Encrypt"
    #: :meth:`KeyStore.decrypt`.
    DECRYPT = "Decrypt"
    #: :meth:`KeyStore.re_encrypt`.
    RE_ENCRYPT = "ReEncrypt"
    #: :meth:`KeyStore.generate_data_key`.
    GENERATE_DATA_KEY = "GenerateDataKey"
    #: :meth:`KeyStore.generate_data_key_without_plaintext`.
    GENERATE_DATA_KEY_WITHOUT_PLAINTEXT = "GenerateDataKeyWithoutPlaintext"
    #: :meth:`KeyStore.sign`.
    SIGN = "Sign"
    #: :meth:`KeyStore.verify`.
    VERIFY = "Verify"
    #: :meth:`KeyStore.get_public_key`, :meth:`KeyStore.get_public_key_pem`.
    GET_PUBLIC_KEY = "GetPublicKey"
    #: :meth:`KeyStore.derive_shared_secret`.
    DERIVE_SHARED_SECRET = "DeriveSharedSecret"
    #: :meth:`KeyStore.generate_mac`.
    GENERATE_MAC = "GenerateMac"
    #: :meth:`KeyStore.verify_mac`.
    VERIFY_MAC = "VerifyMac"
    #: :meth:`KeyStore.generate_random`.
    GENERATE_RANDOM = "GenerateRandom"
    #: An operator replaced the audit log with a new segment
    #: (``new_audit_segment`` of :meth:`KeyStore.open`); the record names the
    #: previous segment's head.
    START_AUDIT_SEGMENT = "StartAuditSegment"
    #: Rows written before rows had MACs were sealed (once per store).
    SEAL_METADATA = "SealMetadata"
    #: :meth:`KeyStore.put_key_policy`.
    PUT_KEY_POLICY = "PutKeyPolicy"
    #: :meth:`KeyStore.get_key_policy`.
    GET_KEY_POLICY = "GetKeyPolicy"
    #: :meth:`KeyStore.create_grant`.
    CREATE_GRANT = "CreateGrant"
    #: :meth:`KeyStore.list_grants`.
    LIST_GRANTS = "ListGrants"
    #: :meth:`KeyStore.retire_grant`.
    RETIRE_GRANT = "RetireGrant"
    #: :meth:`KeyStore.revoke_grant`.
    REVOKE_GRANT = "RevokeGrant"
    #: :meth:`KeyStore.create_secret` (AWS Secrets Manager names, as all
    #: below).
    CREATE_SECRET = "CreateSecret"
    #: :meth:`KeyStore.get_secret_value`.
    GET_SECRET_VALUE = "GetSecretValue"
    #: :meth:`KeyStore.put_secret_value`.
    PUT_SECRET_VALUE = "PutSecretValue"
    #: :meth:`KeyStore.update_secret_version_stage`.
    UPDATE_SECRET_VERSION_STAGE = "UpdateSecretVersionStage"
    #: :meth:`KeyStore.list_secrets`, :meth:`KeyStore.list_secrets_page`.
    LIST_SECRETS = "ListSecrets"
    #: :meth:`KeyStore.list_secret_version_ids`.
    LIST_SECRET_VERSION_IDS = "ListSecretVersionIds"
    #: :meth:`KeyStore.describe_secret`.
    DESCRIBE_SECRET = "DescribeSecret"
    #: :meth:`KeyStore.delete_secret` (scheduled or forced), or the purge of a
    #: secret whose recovery window ended
    #: (:meth:`KeyStore.purge_expired_secrets`).
    DELETE_SECRET = "DeleteSecret"
    #: :meth:`KeyStore.restore_secret`.
    RESTORE_SECRET = "RestoreSecret"
    #: :meth:`KeyStore.rotate_secret` (the whole four-step rotation).
    ROTATE_SECRET = "RotateSecret"
    #: :meth:`KeyStore.get_random_password`.
    GET_RANDOM_PASSWORD = "GetRandomPassword"
    #: :meth:`KeyStore.update_secret` (description, key of new versions).
    UPDATE_SECRET = "UpdateSecret"
    #: :meth:`KeyStore.put_resource_policy` (a secret's resource policy).
    PUT_RESOURCE_POLICY = "PutResourcePolicy"
    #: :meth:`KeyStore.get_resource_policy`.
    GET_RESOURCE_POLICY = "GetResourcePolicy"
    #: :meth:`KeyStore.delete_resource_policy`.
    DELETE_RESOURCE_POLICY = "DeleteResourcePolicy"


class Outcome(enum.StrEnum):
    """How an audited operation ended."""

    #: Allowed, and its result released (or its change committed).
    ALLOWED = "allowed"
    #: It failed; :attr:`AuditEvent.error` says why.
    FAILED = "failed"
    #: The key's policy and grants refused the principal.
    DENIED = "denied"
