"""The key store: custodian of master keys, with the operations of the AWS
KMS API (the names follow it so that users recognise them)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _native
from ._enums import KeySpec, KeyState, KeyUsage, Origin
from ._secrets import SecretsMixin

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = [
    "AuditEvent",
    "AuditReport",
    "DataKey",
    "Grant",
    "GrantConstraints",
    "KeyList",
    "KeyMetadata",
    "KeyStore",
    "KeyVersion",
    "Pkcs11",
    "RootKey",
    "audit_to_logging",
]

RootKey = _native.RootKey
Pkcs11 = _native.Pkcs11

_UTC = datetime.timezone.utc


def _time(seconds: int | None) -> datetime.datetime | None:
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds, _UTC)


def _context(ec: Mapping[str, str] | None) -> dict[str, str] | None:
    # The native layer takes a dict; any mapping will do here.
    return ec if ec is None or type(ec) is dict else dict(ec)


@dataclasses.dataclass(frozen=True)
class KeyVersion:
    """One version of a key's material."""

    version: int
    created_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class KeyMetadata:
    """Everything the key store knows about a key, except its material."""

    key_id: str
    aliases: tuple[str, ...]
    description: str
    key_spec: KeySpec
    key_usage: KeyUsage
    origin: Origin
    key_state: KeyState
    #: When the material will be destroyed (keys pending deletion).
    deletion_date: datetime.datetime | None
    created_at: datetime.datetime
    versions: tuple[KeyVersion, ...]
    primary_version: int
    rotation_period_days: int | None
    next_rotation_at: datetime.datetime | None
    #: ``soft`` or ``pkcs11``.
    backend: str
    tags: Mapping[str, str]

    @property
    def enabled(self) -> bool:
        return self.key_state is KeyState.ENABLED

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> KeyMetadata:
        created = _time(d["created_at"])
        assert created is not None
        return cls(
            key_id=d["key_id"],
            aliases=tuple(d["aliases"]),
            description=d["description"],
            key_spec=KeySpec(d["key_spec"]),
            key_usage=KeyUsage(d["key_usage"]),
            origin=Origin(d["origin"]),
            key_state=KeyState(d["key_state"]),
            deletion_date=_time(d["deletion_date"]),
            created_at=created,
            versions=tuple(
                KeyVersion(v, datetime.datetime.fromtimestamp(t, _UTC)) for v, t in d["versions"]
            ),
            primary_version=d["primary_version"],
            rotation_period_days=d["rotation_period_days"],
            next_rotation_at=_time(d["next_rotation_at"]),
            backend=d["backend"],
            tags=dict(d["tags"]),
        )


@dataclasses.dataclass(frozen=True)
class KeyList:
    """One page of :meth:`KeyStore.list_keys_page`."""

    keys: tuple[KeyMetadata, ...]
    #: Pass as ``marker`` for the next page; ``None`` on the last page.
    next_marker: str | None


@dataclasses.dataclass(frozen=True, repr=False)
class DataKey:
    """A data key from :meth:`KeyStore.generate_data_key`.

    ``plaintext`` is a ``bytearray`` so that it can be wiped: call
    :meth:`wipe` (or use the data key as a context manager) as soon as it
    has been used.
    """

    plaintext: bytearray
    #: The data key encrypted under the key-store key (store this).
    ciphertext: bytes
    key_id: str
    key_version: int

    def wipe(self) -> None:
        """Overwrites the plaintext with zeros."""
        self.plaintext[:] = bytes(len(self.plaintext))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.wipe()

    def __repr__(self) -> str:
        # Never the plaintext.
        return f"DataKey(key_id={self.key_id!r}, key_version={self.key_version}, plaintext=<{len(self.plaintext)} bytes>)"


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """One audited key-store operation. Never carries plaintext or keys."""

    time: datetime.datetime
    #: As in the AWS KMS API: ``Encrypt``, ``CreateKey`` ...
    operation: str
    key_id: str | None
    key_version: int | None
    #: ReEncrypt: the key (and version) that decrypted the source blob.
    source_key_id: str | None
    source_key_version: int | None
    #: StartAuditSegment: the previous segment's head and the reason.
    detail: str | None
    principal: str
    encryption_context: Mapping[str, str] | None
    #: ``allowed``, ``failed``, or ``denied`` (the key's policy and grants
    #: refused the principal; ``error`` names the deciding statement or the
    #: missing grant).
    outcome: str
    #: Why it failed (detail the caller only saw as an opaque error).
    error: str | None
    request_id: str

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> AuditEvent:
        return cls(
            time=datetime.datetime.fromisoformat(d["time"]),
            operation=d["operation"],
            key_id=d["key_id"],
            key_version=d["key_version"],
            source_key_id=d["source_key_id"],
            source_key_version=d["source_key_version"],
            detail=d["detail"],
            principal=d["principal"],
            encryption_context=d["encryption_context"],
            outcome=d["outcome"],
            error=d["error"],
            request_id=d["request_id"],
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (time as RFC 3339 text)."""
        d = dataclasses.asdict(self)
        d["time"] = self.time.isoformat().replace("+00:00", "Z")
        return d


@dataclasses.dataclass(frozen=True)
class GrantConstraints:
    """The encryption-context constraint of a grant: exactly one of the two
    is set."""

    #: The request's encryption context must be exactly these pairs.
    encryption_context_equals: Mapping[str, str] | None
    #: The request's encryption context must contain these pairs.
    encryption_context_subset: Mapping[str, str] | None


@dataclasses.dataclass(frozen=True)
class Grant:
    """A grant (:meth:`KeyStore.create_grant`): lets ``grantee_principal``
    call ``operations`` on one key, within ``constraints``, beside what the
    key policy allows."""

    grant_id: str
    name: str | None
    key_id: str
    grantee_principal: str
    #: Who besides the grantee may retire it.
    retiring_principal: str | None
    #: Grant operations (AWS names without ``kms:``, e.g. ``Decrypt``).
    operations: tuple[str, ...]
    constraints: GrantConstraints | None
    #: The principal that created it.
    issuing_principal: str
    created_at: datetime.datetime

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> Grant:
        created = _time(d["created_at"])
        assert created is not None
        c = d["constraints"]
        return cls(
            grant_id=d["grant_id"],
            name=d["name"],
            key_id=d["key_id"],
            grantee_principal=d["grantee_principal"],
            retiring_principal=d["retiring_principal"],
            operations=tuple(d["operations"]),
            constraints=None
            if c is None
            else GrantConstraints(c["encryption_context_equals"], c["encryption_context_subset"]),
            issuing_principal=d["issuing_principal"],
            created_at=created,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``created_at`` as RFC 3339 text)."""
        d = dataclasses.asdict(self)
        d["operations"] = list(self.operations)
        d["created_at"] = self.created_at.isoformat().replace("+00:00", "Z")
        return d


def _policy_text(policy: str | Mapping[str, Any]) -> str:
    # A key policy as JSON text: text as it is, a mapping serialised.
    if isinstance(policy, str):
        return policy
    if isinstance(policy, Mapping):
        return json.dumps(dict(policy))
    raise TypeError(f"a key policy is JSON text or a dict, not {type(policy).__name__}")


@dataclasses.dataclass(frozen=True)
class AuditReport:
    """What :meth:`KeyStore.verify_audit_log` found."""

    #: Records that verified.
    records: int
    #: The first problem: (1-based line number, what is wrong).
    first_error: tuple[int, str] | None

    @property
    def ok(self) -> bool:
        return self.first_error is None


class KeyStore(SecretsMixin):
    """The key store (the "KMS"). Thread-safe: one instance serves every
    thread. Every call releases the GIL while it runs.

    Open it with :meth:`open`. ``key_id`` arguments take a key ID or an
    alias (``alias/...``).
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.KeyStore) -> None:
        self._native = native

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        root_key: RootKey | None = None,
        pkcs11: Pkcs11 | None = None,
        audit_log: str | os.PathLike[str] | None = None,
        audit_sync: bool = False,
        principal: str | None = None,
        audit_callback: Callable[[AuditEvent], object] | None = None,
        new_audit_segment: str | None = None,
        metadata_cache_ttl: float | None = None,
        default_policy: Literal["allow-all", "creator"] | None = None,
    ) -> KeyStore:
        """Opens (creating if needed) the key store in the SQLite file
        ``path``, or in a PostgreSQL database shared by several processes
        (``path`` a URL ``postgresql://user:password@host:port/db``, with
        ``?sslmode=verify-full&sslrootcert=ca.pem`` as libpq reads them):
        the soft backend sealed under ``root_key``, or an HSM (``pkcs11``).
        The audit log is ``path + ".audit.jsonl"`` unless ``audit_log``
        names another file; ``audit_sync`` fsyncs each record. A PostgreSQL
        store keeps its audit trail in the database (``audit_log`` is then
        refused with :class:`~sealbox.InvalidArgument`). ``principal`` is
        who the audit trail names (default: ``$USER``).

        ``metadata_cache_ttl`` is the propagation bound, in seconds: how
        long this process may use key metadata (state, versions, alias
        targets) it read before reading it again, so a change made by
        another process (a disable, a scheduled deletion, a rotation) is
        honoured here at most this much later. ``None`` is the store's
        default: 1 s on PostgreSQL, 0 (read every time) on SQLite. A
        negative, NaN or infinite value is
        :class:`~sealbox.InvalidArgument`. A server that cannot be reached
        raises :class:`~sealbox.StoreUnavailable`.

        A log that no longer holds the record the store anchored (cut
        short, rewritten, lost) is refused with
        :class:`~sealbox.AuditLogTampered`. ``new_audit_segment="reason"``
        is an operator's explicit, audited way out: the damaged log is kept
        beside the new one, whose first record names its head.

        ``default_policy`` sets the store's setting for keys created without
        a policy (every process that opens the store follows it; ``None``
        leaves it as it is): ``"allow-all"`` (the default: every principal
        may do everything, as before key policies) or ``"creator"`` (only
        the creating principal may use and manage the key)."""
        ks = cls(
            _native.KeyStore.open(
                path,
                root_key=root_key,
                pkcs11=pkcs11,
                audit_log=audit_log,
                audit_sync=audit_sync,
                principal=principal,
                new_audit_segment=new_audit_segment,
                metadata_cache_ttl=metadata_cache_ttl,
                default_policy=default_policy,
            )
        )
        if audit_callback is not None:
            ks.add_audit_callback(audit_callback)
        return ks

    def add_audit_callback(self, callback: Callable[[AuditEvent], object]) -> None:
        """Calls ``callback(event)`` for every audited operation, on the
        thread that runs it.

        An audit sink that fails makes the operation fail: if the callback
        raises, the operation does not happen (nothing changes, no result
        is released) and raises :class:`~sealbox.AuditError` with the
        callback's exception as ``__cause__``. Keep callbacks quick: the
        operation waits for them.
        """
        if not callable(callback):
            raise TypeError("the audit callback must be callable")

        def deliver(d: dict[str, Any]) -> None:
            callback(AuditEvent._from_native(d))

        self._native.add_audit_callback(deliver)

    @property
    def backend_kind(self) -> str:
        """``soft`` or ``pkcs11``."""
        return self._native.backend_kind

    @property
    def audit_log_path(self) -> str | None:
        """The audit log file; ``None`` when the log is in the database
        (PostgreSQL)."""
        p = self._native.audit_log_path
        return None if p is None else os.fspath(p)

    @property
    def audit_log_location(self) -> str | None:
        """Where the audit log is, for messages: its file, or the database."""
        return self._native.audit_log_location

    @property
    def metadata_cache_ttl(self) -> float:
        """The propagation bound this store works with, in seconds (see
        :meth:`open`)."""
        return self._native.metadata_cache_ttl

    def audit_records(self, after: int | None = None, limit: int = 1000) -> list[tuple[int, str]]:
        """The records of the current audit segment, file or database, as
        ``(sequence number, JSON line)``: those after sequence number
        ``after`` (from the first with ``None``), at most ``limit`` (at least
        1). Page on with the last sequence number returned."""
        return self._native.audit_records(after, limit)

    def operation_count(self, operation: str) -> int:
        """How many times ``operation`` (e.g. ``"GenerateDataKey"``) was
        allowed since this store was opened."""
        return self._native.operation_count(operation)

    def resolve_key_id(self, key_id: str) -> str:
        """The key ID an ID or alias names."""
        return self._native.resolve_key_id(key_id)

    # -- lifecycle ---------------------------------------------------------

    def create_key(
        self,
        *,
        spec: KeySpec | str = KeySpec.AES_256,
        usage: KeyUsage | str | None = None,
        alias: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        rotation_period_days: int | None = None,
        policy: str | Mapping[str, Any] | None = None,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> KeyMetadata:
        """Creates a key; ``usage`` defaults to the spec's usual one.

        ``policy`` is the key's policy (JSON text or a dict, see
        :meth:`put_key_policy`; checked the same way, lockout check
        included); without one the key gets the store's default policy
        (``default_policy`` of :meth:`open`)."""
        return KeyMetadata._from_native(
            self._native.create_key(
                key_spec=spec,
                key_usage=usage,
                alias=alias,
                description=description,
                tags=_context(tags),
                rotation_period_days=rotation_period_days,
                policy=None if policy is None else _policy_text(policy),
                bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
            )
        )

    def import_key(
        self,
        material: Buffer,
        *,
        spec: KeySpec | str = KeySpec.AES_256,
        usage: KeyUsage | str | None = None,
        alias: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> KeyMetadata:
        """Imports key material (BYOK): raw bytes for AES and HMAC, PKCS#8
        DER for RSA and EC keys."""
        return KeyMetadata._from_native(
            self._native.import_key(
                material,
                key_spec=spec,
                key_usage=usage,
                alias=alias,
                description=description,
                tags=_context(tags),
            )
        )

    def describe_key(self, key_id: str) -> KeyMetadata:
        return KeyMetadata._from_native(self._native.describe_key(key_id))

    def list_keys(self) -> list[KeyMetadata]:
        """Every key in the store."""
        return [KeyMetadata._from_native(d) for d in self._native.list_keys()]

    def list_keys_page(self, limit: int = 100, marker: str | None = None) -> KeyList:
        """One page of at most ``limit`` keys after ``marker``."""
        keys, next_marker = self._native.list_keys_page(limit, marker)
        return KeyList(tuple(KeyMetadata._from_native(d) for d in keys), next_marker)

    def iter_keys(self, page_size: int = 100) -> Iterator[KeyMetadata]:
        """Every key, fetched a page at a time."""
        marker: str | None = None
        while True:
            page = self.list_keys_page(page_size, marker)
            yield from page.keys
            if page.next_marker is None:
                return
            marker = page.next_marker

    def enable_key(self, key_id: str) -> KeyMetadata:
        return KeyMetadata._from_native(self._native.enable_key(key_id))

    def disable_key(self, key_id: str) -> KeyMetadata:
        return KeyMetadata._from_native(self._native.disable_key(key_id))

    def schedule_key_deletion(self, key_id: str, pending_window_days: int = _native.DEFAULT_DELETION_WINDOW_DAYS) -> KeyMetadata:
        """Schedules destruction of the key's material in 7..30 days; the
        key is unusable meanwhile. Deletion really destroys the material:
        everything encrypted under the key is then lost."""
        return KeyMetadata._from_native(self._native.schedule_key_deletion(key_id, pending_window_days))

    def cancel_key_deletion(self, key_id: str) -> KeyMetadata:
        """Cancels a scheduled deletion; the key is left disabled."""
        return KeyMetadata._from_native(self._native.cancel_key_deletion(key_id))

    def purge_expired_keys(self) -> list[str]:
        """Destroys keys whose deletion date has passed; their IDs."""
        return self._native.purge_expired_keys()

    def rotate_key(self, key_id: str) -> int:
        """Makes a new primary version (AES keys); returns its number. Old
        versions keep decrypting."""
        return self._native.rotate_key(key_id)

    def apply_due_rotations(self) -> int:
        """Rotates every key whose automatic rotation is due; how many."""
        return self._native.apply_due_rotations()

    def enable_key_rotation(self, key_id: str, rotation_period_days: int = _native.DEFAULT_ROTATION_PERIOD_DAYS) -> KeyMetadata:
        return KeyMetadata._from_native(self._native.enable_key_rotation(key_id, rotation_period_days))

    def disable_key_rotation(self, key_id: str) -> KeyMetadata:
        return KeyMetadata._from_native(self._native.disable_key_rotation(key_id))

    def update_key_description(self, key_id: str, description: str) -> None:
        self._native.update_key_description(key_id, description)

    # -- aliases and tags --------------------------------------------------

    def create_alias(self, alias: str, key_id: str) -> None:
        self._native.create_alias(alias, key_id)

    def update_alias(self, alias: str, key_id: str) -> None:
        self._native.update_alias(alias, key_id)

    def delete_alias(self, alias: str) -> None:
        self._native.delete_alias(alias)

    def list_aliases(self) -> dict[str, str]:
        """``{alias: key_id}``"""
        return self._native.list_aliases()

    def tag_key(self, key_id: str, tags: Mapping[str, str]) -> None:
        self._native.tag_key(key_id, dict(tags))

    def untag_key(self, key_id: str, tag_keys: Sequence[str]) -> None:
        if isinstance(tag_keys, str):
            raise TypeError("tag_keys must be a sequence of tag names, not one str")
        self._native.untag_key(key_id, list(tag_keys))

    # -- cryptographic operations -------------------------------------------

    def encrypt(
        self,
        key_id: str,
        plaintext: Buffer,
        *,
        encryption_context: Mapping[str, str] | None = None,
        algorithm: str | None = None,
    ) -> bytes:
        """Direct encryption of at most 4096 bytes under an AES key (the
        encryption context is authenticated), or under an RSA key with
        ``algorithm`` (``RSAES_OAEP_SHA_1``/``_256``)."""
        return self._native.encrypt(
            key_id, plaintext, encryption_context=_context(encryption_context), algorithm=algorithm
        )

    def decrypt(
        self,
        ciphertext: Buffer,
        *,
        encryption_context: Mapping[str, str] | None = None,
        key_id: str | None = None,
        algorithm: str | None = None,
    ) -> bytes:
        """Decrypts a key-store ciphertext (it names its key and version),
        or RSA ciphertext with ``key_id`` and ``algorithm``."""
        return self._native.decrypt(
            ciphertext,
            encryption_context=_context(encryption_context),
            key_id=key_id,
            algorithm=algorithm,
        )

    def re_encrypt(
        self,
        ciphertext: Buffer,
        destination_key_id: str,
        *,
        source_encryption_context: Mapping[str, str] | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
    ) -> bytes:
        """Decrypts and encrypts again under another key, inside the key
        store: the plaintext never leaves it."""
        return self._native.re_encrypt(
            ciphertext,
            destination_key_id,
            source_encryption_context=_context(source_encryption_context),
            destination_encryption_context=_context(destination_encryption_context),
        )

    def generate_data_key(
        self,
        key_id: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int = 32,
    ) -> DataKey:
        """A new data key, in plaintext (a wipeable ``bytearray``) and
        encrypted under ``key_id``."""
        pt, ct, kid, version = self._native.generate_data_key(
            key_id, encryption_context=_context(encryption_context), number_of_bytes=number_of_bytes
        )
        return DataKey(pt, ct, kid, version)

    def generate_data_key_without_plaintext(
        self,
        key_id: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        number_of_bytes: int = 32,
    ) -> bytes:
        """A new data key, only encrypted under ``key_id``."""
        return self._native.generate_data_key_without_plaintext(
            key_id, encryption_context=_context(encryption_context), number_of_bytes=number_of_bytes
        )

    def sign(self, key_id: str, message: Buffer, *, algorithm: str, message_type: str = "RAW") -> bytes:
        """Signs ``message`` (at most 4096 bytes), or a digest with
        ``message_type="DIGEST"``. ECDSA signatures are DER."""
        return self._native.sign(key_id, message, algorithm=algorithm, message_type=message_type)

    def verify(
        self,
        key_id: str,
        message: Buffer,
        signature: Buffer,
        *,
        algorithm: str,
        message_type: str = "RAW",
    ) -> bool:
        """Whether ``signature`` is valid; a bad signature is ``False``."""
        return self._native.verify(key_id, message, signature, algorithm=algorithm, message_type=message_type)

    def get_public_key(self, key_id: str) -> bytes:
        """The public key as SubjectPublicKeyInfo DER."""
        return self._native.get_public_key(key_id)

    def get_public_key_pem(self, key_id: str) -> str:
        """The public key as PEM (``-----BEGIN PUBLIC KEY-----``)."""
        return self._native.get_public_key_pem(key_id)

    def generate_mac(self, key_id: str, message: Buffer, *, algorithm: str) -> bytes:
        return self._native.generate_mac(key_id, message, algorithm=algorithm)

    def verify_mac(self, key_id: str, message: Buffer, mac: Buffer, *, algorithm: str) -> bool:
        """Whether ``mac`` is right (compared in constant time)."""
        return self._native.verify_mac(key_id, message, mac, algorithm=algorithm)

    def generate_random(self, number_of_bytes: int) -> bytes:
        """1..1024 random bytes from the backend (the HSM's generator on
        PKCS#11)."""
        return self._native.generate_random(number_of_bytes)

    def verify_audit_log(self) -> AuditReport:
        """Checks the HMAC chain of the audit log (its file, or its table on
        PostgreSQL): an edited, inserted, removed or reordered record shows
        as ``first_error``."""
        records, first_error = self._native.verify_audit_log()
        return AuditReport(records, first_error)

    # -- access control ----------------------------------------------------

    @property
    def principal(self) -> str:
        """The principal this handle acts for: the one key policies and
        grants decide about, and audit records name."""
        return self._native.principal

    def as_principal(self, principal: str) -> KeyStore:
        """A handle on the same store (same connection, caches and audit
        callbacks) acting for ``principal``: for a service that serves
        several callers. An empty name, one longer than 256 characters or
        one with control characters is :class:`~sealbox.InvalidArgument`.

        In one process the host names its principals: policies confine
        code paths and separate duties, they are no barrier against hostile
        code in the same process."""
        return KeyStore(self._native.as_principal(principal))

    def put_key_policy(
        self,
        key_id: str,
        policy: str | Mapping[str, Any],
        *,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> None:
        """Replaces the key's policy: JSON text, or a dict (serialised with
        :func:`json.dumps`), in the grammar of AWS KMS key policies (the
        subset docs/SECURITY.md describes; principals as
        ``{"Sealbox": ["name", ...]}`` or ``"*"``). A policy that does not
        parse is :class:`~sealbox.InvalidArgument` and changes nothing; so
        is one that would leave this principal unable to change it again,
        unless ``bypass_policy_lockout_safety_check=True``. Needs
        ``kms:PutKeyPolicy`` (else :class:`~sealbox.AccessDenied`)."""
        self._native.put_key_policy(
            key_id,
            _policy_text(policy),
            bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
        )

    @overload
    def get_key_policy(self, key_id: str, *, as_text: Literal[False] = False) -> dict[str, Any]: ...
    @overload
    def get_key_policy(self, key_id: str, *, as_text: Literal[True]) -> str: ...
    def get_key_policy(self, key_id: str, *, as_text: bool = False) -> dict[str, Any] | str:
        """The key's policy, parsed (or its JSON text with
        ``as_text=True``); a key without its own policy shows the default
        one, which allows every principal everything. Needs
        ``kms:GetKeyPolicy``."""
        text = self._native.get_key_policy(key_id)
        if as_text:
            return text
        parsed: dict[str, Any] = json.loads(text)
        return parsed

    def create_grant(
        self,
        key_id: str,
        grantee_principal: str,
        operations: Sequence[str],
        *,
        retiring_principal: str | None = None,
        name: str | None = None,
        encryption_context_equals: Mapping[str, str] | None = None,
        encryption_context_subset: Mapping[str, str] | None = None,
    ) -> str:
        """Lets ``grantee_principal`` call ``operations`` (AWS grant
        operations without ``kms:``: ``Encrypt``, ``Decrypt``,
        ``GenerateDataKey``, ``ReEncryptFrom``, ``Sign``, ``RetireGrant``,
        ...) on the key beside what its policy allows; returns the grant
        id. With ``encryption_context_equals`` the request's context must be
        exactly these pairs, with ``encryption_context_subset`` it must
        contain them (at most one of the two). Needs ``kms:CreateGrant``,
        or a grant of this principal that lists ``CreateGrant`` and is at
        least as broad."""
        if isinstance(operations, str):
            raise TypeError("operations must be a sequence of operation names, not one str")
        return self._native.create_grant(
            key_id,
            grantee_principal,
            list(operations),
            retiring_principal=retiring_principal,
            name=name,
            encryption_context_equals=_context(encryption_context_equals),
            encryption_context_subset=_context(encryption_context_subset),
        )

    def list_grants(self, key_id: str) -> list[Grant]:
        """The key's grants. Needs ``kms:ListGrants``."""
        return [Grant._from_native(d) for d in self._native.list_grants(key_id)]

    def retire_grant(self, key_id: str, grant_id: str) -> None:
        """Ends a grant: by its retiring principal, its grantee (when the
        grant lists ``RetireGrant``), or a principal the key policy allows
        ``kms:RetireGrant``. Takes effect for the next call. An unknown
        grant is :class:`~sealbox.KeyNotFound`."""
        self._native.retire_grant(key_id, grant_id)

    def revoke_grant(self, key_id: str, grant_id: str) -> None:
        """Ends a grant, by a principal the key policy allows
        ``kms:RevokeGrant``. Takes effect for the next call here (in other
        processes within the propagation bound, ``metadata_cache_ttl``)."""
        self._native.revoke_grant(key_id, grant_id)

    # -- envelope layer ----------------------------------------------------

    def keyring(self, key_id: str) -> _native.KeyStoreKeyring:
        """A keyring whose data keys this store generates and wraps under
        ``key_id``: the master key never leaves the store."""
        return _native.KeyStoreKeyring(self._native, key_id)

    def __repr__(self) -> str:
        return f"KeyStore(backend={self.backend_kind!r})"


def audit_to_logging(
    key_store: KeyStore,
    logger: logging.Logger | None = None,
    *,
    level: int = logging.INFO,
    failed_level: int = logging.WARNING,
) -> None:
    """Sends every audit event of ``key_store`` to ``logger`` (default:
    ``logging.getLogger("sealbox.audit")``): allowed operations at
    ``level``, failed ones at ``failed_level``. The event is attached to
    the record as ``record.audit`` (an :class:`AuditEvent`), for handlers
    and formatters that want the fields.

    The standard handlers report their own write errors through
    ``Handler.handleError`` and do not raise; a handler that does raise
    counts as a failed audit write, and the operation does not happen
    (see :meth:`KeyStore.add_audit_callback`).
    """
    log = logger if logger is not None else logging.getLogger("sealbox.audit")

    def emit(event: AuditEvent) -> None:
        lvl = level if event.outcome == "allowed" else failed_level
        if not log.isEnabledFor(lvl):
            return
        key = f" key={event.key_id}" if event.key_id else ""
        if event.key_version is not None:
            key += f" version={event.key_version}"
        why = f" error={event.error!r}" if event.error else ""
        log.log(
            lvl,
            "%s %s%s principal=%s request=%s%s",
            event.operation,
            event.outcome,
            key,
            event.principal,
            event.request_id,
            why,
            extra={"audit": event},
        )

    key_store.add_audit_callback(emit)
