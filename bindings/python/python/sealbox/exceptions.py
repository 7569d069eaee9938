"""The exceptions of sealbox.

Every error that sealbox raises is a :class:`SealboxError`; each kind of
failure of the core (``sealbox::ErrorKind``) has its own subclass named as
the kind, whose ``kind`` is the kind's stable number (the same number as the
C ABI's ``SEALBOX_RESULT_*`` code). The native module raises them through
one conversion (bindings/python/src/error.rs); a test walks every kind.
Wrong Python types raise :class:`TypeError` as usual.

Every failure to decrypt or authenticate -- a wrong key, a flipped bit, a
truncated stream, a wrong encryption context, a bad signature -- is the one
opaque :class:`DecryptionFailed`, so that a caller cannot be used as an
oracle. The detail is in the key store's audit log.
"""

from __future__ import annotations

__all__ = [
    "SealboxError",
    "DecryptionFailed",
    "InvalidArgument",
    "InvalidKey",
    "CommitmentPolicyViolation",
    "TooManyEncryptedDataKeys",
    "MessageTooLarge",
    "EncryptFailed",
    "InvalidState",
    "RngFailure",
    "IoError",
    "KeyNotFound",
    "KeyDisabled",
    "InvalidKeyState",
    "InvalidKeyUsage",
    "AlreadyExists",
    "WrongRootKey",
    "StorageError",
    "AuditError",
    "Unsupported",
    "UnsupportedByHsm",
    "Pkcs11Error",
    "AuditLogTampered",
    "StoreUnavailable",
    "AccessDenied",
    "StoreTampered",
    "NullParameter",
    "Panic",
]


class SealboxError(Exception):
    """Base class of every sealbox error."""

    #: The stable number of the error's kind (``sealbox::ErrorKind``).
    kind: int = 0


class DecryptionFailed(SealboxError):
    """A message or ciphertext could not be decrypted or authenticated.

    Deliberately opaque: wrong key, tampered byte, truncated input,
    mismatched encryption context and bad signature all look the same.
    """


class InvalidArgument(SealboxError, ValueError):
    """An argument was rejected before any work was done (bad length, bad
    option combination, unknown name, reserved encryption-context key ...)."""


class InvalidKey(SealboxError, ValueError):
    """A key (wrapping key, root key, RSA or EC key) could not be parsed, or
    has the wrong size or type for the operation."""


class CommitmentPolicyViolation(SealboxError):
    """The commitment policy forbids the requested algorithm suite."""


class TooManyEncryptedDataKeys(SealboxError):
    """Encryption would write more encrypted data keys than allowed.

    ``max`` is the limit, ``found`` the number the keyrings produced.
    """

    #: The most encrypted data keys a message may carry
    #: (``max_encrypted_data_keys``).
    max: int
    #: How many the keyrings produced.
    found: int


class MessageTooLarge(SealboxError):
    """A message body is larger than ``max_body_size`` (``max``, bytes)."""

    #: The limit that was exceeded, in bytes (``max_body_size``).
    max: int


class EncryptFailed(SealboxError):
    """No keyring could produce or wrap a data key."""


class InvalidState(SealboxError):
    """A stream was used out of order (write after close, ...)."""


class RngFailure(SealboxError):
    """The operating system's random number generator failed."""


class IoError(SealboxError, OSError):
    """An I/O error of the core's own readers and writers."""


class KeyNotFound(SealboxError, LookupError):
    """No key or alias by that name exists in the key store."""


class KeyDisabled(SealboxError):
    """The key is disabled or pending deletion, and cannot be used."""


class InvalidKeyState(SealboxError):
    """The key is in the wrong state for the request (e.g. cancelling a
    deletion that is not scheduled)."""


class InvalidKeyUsage(SealboxError):
    """The key's usage or spec does not allow the operation or algorithm."""


class AlreadyExists(SealboxError):
    """An alias or key with that name already exists."""


class WrongRootKey(SealboxError):
    """The root key does not open this key store."""


class StorageError(SealboxError):
    """The metadata store (SQLite) failed."""


class AuditError(SealboxError):
    """The audit record could not be written, so the operation did not
    happen.

    When an audit callback raised, its exception is the ``__cause__``.
    """


class Unsupported(SealboxError):
    """The key store's backend does not support this operation."""


class UnsupportedByHsm(Unsupported):
    """The HSM lacks a mechanism the request needs (``mechanism``)."""

    #: The PKCS#11 mechanism the HSM lacks (e.g. ``CKM_RSA_PKCS_OAEP with
    #: SHA-256``).
    mechanism: str


class Pkcs11Error(SealboxError):
    """A PKCS#11 call failed: ``function`` (e.g. ``C_Login``) returned
    ``rv`` (e.g. ``CKR_PIN_INCORRECT``)."""

    #: The PKCS#11 function that failed (e.g. ``C_Login``).
    function: str
    #: What it returned, by name (e.g. ``CKR_PIN_INCORRECT``).
    rv: str


class AuditLogTampered(SealboxError):
    """The audit log failed verification: a record was edited, inserted,
    removed or reordered, or the log ends before its anchor."""


class StoreUnavailable(SealboxError):
    """The key store's database cannot be reached (PostgreSQL down or
    restarting). Nothing was changed; the same key store works again once
    the database is back."""


class AccessDenied(SealboxError):
    """The key store's principal may not do this with the key: no statement
    of the key policy and no grant allows it, or a statement denies it. The
    message (and the audit record, outcome ``denied``) names which."""


class StoreTampered(SealboxError):
    """A row of key metadata (state, versions, aliases, policy, grants) does
    not carry sealbox's MAC: it was changed outside sealbox, and is not
    used. The finding is in the audit trail."""


class NullParameter(InvalidArgument):
    """A required pointer was NULL (raised by the C ABI only; declared so
    that every kind has its class)."""


class Panic(SealboxError):
    """A bug in sealbox (a Rust panic, caught at the boundary). The
    operation did not complete; the interpreter is unharmed."""


# The stable numbers of sealbox::ErrorKind (checked against the core by
# tests/contract).
_KINDS = {
    Panic: 1,
    NullParameter: 2,
    InvalidArgument: 3,
    InvalidState: 4,
    DecryptionFailed: 5,
    InvalidKey: 6,
    CommitmentPolicyViolation: 7,
    TooManyEncryptedDataKeys: 8,
    MessageTooLarge: 9,
    EncryptFailed: 10,
    RngFailure: 11,
    IoError: 12,
    KeyNotFound: 13,
    KeyDisabled: 14,
    InvalidKeyState: 15,
    InvalidKeyUsage: 16,
    AlreadyExists: 17,
    WrongRootKey: 18,
    StorageError: 19,
    AuditError: 20,
    Unsupported: 21,
    UnsupportedByHsm: 22,
    Pkcs11Error: 23,
    AuditLogTampered: 25,
    StoreUnavailable: 26,
    AccessDenied: 27,
    StoreTampered: 28,
}
for _cls, _kind in _KINDS.items():
    _cls.kind = _kind
del _cls, _kind
