"""sealbox: an embeddable key-management service.

Two layers, one package:

* the **key store** (the "KMS"): :class:`KeyStore` keeps master keys in a
  sealed software store (:class:`RootKey`) or an HSM (:class:`Pkcs11`),
  with the operations of the AWS KMS API and an audit trail of every use;
* the **envelope layer** (the "Encryption SDK"): :func:`encrypt`,
  :func:`decrypt`, :func:`open_encryptor` and :func:`open_decryptor` encrypt
  data of any size with data keys, in the AWS Encryption SDK message
  format, wrapped by keyrings (:class:`RawAesKeyring`,
  :class:`RawRsaKeyring`, :class:`RawEcdhKeyring`, :class:`PqKeyring`,
  :meth:`KeyStore.keyring`, :class:`MultiKeyring`) and optionally cached
  (:class:`CachingMaterialsManager`).

Quickstart::

    import sealbox
    ks = sealbox.KeyStore.open("keys.db", root_key=sealbox.RootKey.from_file("root.key"))
    ks.create_key(alias="alias/orders")
    kr = ks.keyring("alias/orders")
    ct = sealbox.encrypt(b"4111 1111 1111 1111", keyring=kr, encryption_context={"order": "1234"})
    assert sealbox.decrypt(ct, keyring=kr).plaintext == b"4111 1111 1111 1111"

Everything here is thread-safe unless its doc says otherwise (the stream
objects are used by one thread at a time). Byte arguments take any buffer
(``bytes``, ``bytearray``, ``memoryview``); the GIL is released around
key-store calls and around envelope work on more than about 2 KiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._enums import (
    AlgorithmSuite,
    CommitmentPolicy,
    EcdhCurveSpec,
    EcdhKeyAgreementScheme,
    EncryptionAlgorithm,
    KeyAgreementAlgorithm,
    KeySpec,
    KeyState,
    KeyUsage,
    MacAlgorithm,
    MessageType,
    Operation,
    Origin,
    Outcome,
    RsaPadding,
    SigningAlgorithm,
)
from ._envelope import (
    DecryptingReader,
    DecryptResult,
    EncryptingWriter,
    RewrapSummary,
    decrypt,
    encrypt,
    open_decryptor,
    open_encryptor,
    rewrap,
    rewrap_stream,
)
from ._keystore import (
    AuditEvent,
    AuditReport,
    DataKey,
    DataKeyForRecipient,
    Grant,
    GrantConstraints,
    KeyList,
    KeyMetadata,
    KeyStore,
    KeyVersion,
    Pkcs11,
    RootKey,
    audit_to_logging,
)
from ._secrets import (
    RotationResult,
    SecretList,
    SecretMetadata,
    SecretRotation,
    SecretRotator,
    SecretValue,
    SecretVersion,
    SecretVersionRef,
)
from . import _native
from ._native import (
    CachingMaterialsManager,
    DefaultMaterialsManager,
    Keyring,
    KeyStoreKeyring,
    MaterialsManager,
    MultiKeyring,
    PqKeyring,
    RawAesKeyring,
    RawEcdhKeyring,
    RawRsaKeyring,
)
from .exceptions import (
    AlreadyExists,
    AuditError,
    AuditLogTampered,
    StoreUnavailable,
    AccessDenied,
    StoreTampered,
    CommitmentPolicyViolation,
    DecryptionFailed,
    EncryptFailed,
    InvalidArgument,
    InvalidKey,
    InvalidKeyState,
    InvalidKeyUsage,
    InvalidState,
    KeyDisabled,
    KeyNotFound,
    MessageTooLarge,
    NullParameter,
    Panic,
    Pkcs11Error,
    RngFailure,
    SealboxError,
    StorageError,
    IoError,
    TooManyEncryptedDataKeys,
    Unsupported,
    UnsupportedByHsm,
    WrongRootKey,
)

#: The version of this package: the one version of every sealbox package
#: (the Rust workspace's), as compiled into the extension module.
__version__: str = _native.__version__


@dataclass(frozen=True)
class BuildInfo:
    """What this build of sealbox is (``sealbox.build_info()``)."""

    #: The package version (``sealbox.__version__``).
    version: str
    #: The compiled-in crypto provider: ``"aws-lc"``, ``"aws-lc (FIPS)"``
    #: or ``"rustcrypto"``.
    crypto_provider: str
    #: Whether the provider runs in its FIPS 140-3 mode now.
    fips_mode: bool

    def __str__(self) -> str:
        mode = "on" if self.fips_mode else "off"
        return f"{self.version} (crypto provider: {self.crypto_provider}, FIPS mode: {mode})"


def build_info() -> BuildInfo:
    """The version, crypto provider and FIPS mode of this build: the same
    text ``sealbox --version`` prints after the program name."""
    version, provider, fips = _native.build_info()
    return BuildInfo(version=version, crypto_provider=provider, fips_mode=fips)


__all__ = [
    "BuildInfo",
    "build_info",
    "AlgorithmSuite",
    "AlreadyExists",
    "AuditError",
    "AuditLogTampered",
    "StoreUnavailable",
    "AccessDenied",
    "StoreTampered",
    "AuditEvent",
    "AuditReport",
    "CachingMaterialsManager",
    "CommitmentPolicy",
    "CommitmentPolicyViolation",
    "DataKey",
    "DataKeyForRecipient",
    "DecryptResult",
    "DecryptingReader",
    "RewrapSummary",
    "rewrap",
    "rewrap_stream",
    "DecryptionFailed",
    "DefaultMaterialsManager",
    "Grant",
    "GrantConstraints",
    "EncryptFailed",
    "EncryptingWriter",
    "EncryptionAlgorithm",
    "EcdhCurveSpec",
    "EcdhKeyAgreementScheme",
    "InvalidArgument",
    "InvalidKey",
    "InvalidKeyState",
    "InvalidKeyUsage",
    "InvalidState",
    "KeyDisabled",
    "KeyList",
    "KeyMetadata",
    "KeyNotFound",
    "KeyAgreementAlgorithm",
    "KeySpec",
    "KeyState",
    "KeyStore",
    "KeyStoreKeyring",
    "KeyUsage",
    "KeyVersion",
    "Keyring",
    "MacAlgorithm",
    "MaterialsManager",
    "MessageTooLarge",
    "NullParameter",
    "Panic",
    "MessageType",
    "Operation",
    "Outcome",
    "MultiKeyring",
    "Origin",
    "Pkcs11",
    "Pkcs11Error",
    "RngFailure",
    "PqKeyring",
    "RawAesKeyring",
    "RawEcdhKeyring",
    "RawRsaKeyring",
    "RootKey",
    "RotationResult",
    "SecretList",
    "SecretMetadata",
    "SecretRotation",
    "SecretRotator",
    "SecretValue",
    "SecretVersion",
    "SecretVersionRef",
    "RsaPadding",
    "SealboxError",
    "SigningAlgorithm",
    "StorageError",
    "IoError",
    "TooManyEncryptedDataKeys",
    "Unsupported",
    "UnsupportedByHsm",
    "WrongRootKey",
    "audit_to_logging",
    "decrypt",
    "encrypt",
    "open_decryptor",
    "open_encryptor",
]
