"""The key store: custodian of master keys, with the operations of the AWS
KMS API (the names follow it so that users recognise them)."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _native
from ._enums import KeySpec, KeyState, KeyUsage, Origin

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = [
    "AuditEvent",
    "AuditReport",
    "DataKey",
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
    #: ``allowed`` or ``failed``.
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
class AuditReport:
    """What :meth:`KeyStore.verify_audit_log` found."""

    #: Records that verified.
    records: int
    #: The first problem: (1-based line number, what is wrong).
    first_error: tuple[int, str] | None

    @property
    def ok(self) -> bool:
        return self.first_error is None


class KeyStore:
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
        beside the new one, whose first record names its head."""
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
    ) -> KeyMetadata:
        """Creates a key; ``usage`` defaults to the spec's usual one."""
        return KeyMetadata._from_native(
            self._native.create_key(
                key_spec=spec,
                key_usage=usage,
                alias=alias,
                description=description,
                tags=_context(tags),
                rotation_period_days=rotation_period_days,
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
