"""Secrets on top of the key store, with the operations of AWS Secrets
Manager: versioned values (passwords, API keys) sealed under a key-store
key, staging labels (``CURRENT``, ``PENDING``, ``PREVIOUS`` and your own),
deletion with a recovery window, and rotation in four steps through a
:class:`SecretRotator` that the application writes for its target system.

Text secrets are ``str``, binary ones ``bytes``; the type given when a
version is stored is the type read back.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _native

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._keystore import KeyStore

__all__ = [
    "RotationResult",
    "SecretList",
    "SecretMetadata",
    "SecretRotation",
    "SecretRotator",
    "SecretValue",
    "SecretVersion",
    "SecretVersionRef",
    "STAGE_CURRENT",
    "STAGE_PENDING",
    "STAGE_PREVIOUS",
]

#: The staging label of the version in use.
STAGE_CURRENT = "CURRENT"
#: The staging label of a version being rotated in.
STAGE_PENDING = "PENDING"
#: The staging label of the version that was CURRENT before.
STAGE_PREVIOUS = "PREVIOUS"

_UTC = datetime.timezone.utc


def _time(seconds: int | None) -> datetime.datetime | None:
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds, _UTC)


def _req_time(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, _UTC)


@dataclasses.dataclass(frozen=True, repr=False)
class SecretValue:
    """A version's value, from :meth:`KeyStore.get_secret_value`. Its
    ``repr`` never shows the value."""

    #: The secret's name.
    name: str
    #: The version's ID.
    version_id: str
    #: The version's staging labels (``CURRENT`` ...).
    version_stages: tuple[str, ...]
    #: When the version was stored (UTC).
    created_at: datetime.datetime
    #: ``str`` for a text secret, ``bytes`` for a binary one.
    value: str | bytes

    @property
    def secret_string(self) -> str | None:
        """The value of a text secret (AWS: SecretString)."""
        return self.value if isinstance(self.value, str) else None

    @property
    def secret_binary(self) -> bytes | None:
        """The value of a binary secret (AWS: SecretBinary)."""
        return self.value if isinstance(self.value, bytes) else None

    def __repr__(self) -> str:
        return (
            f"SecretValue(name={self.name!r}, version_id={self.version_id!r}, "
            f"version_stages={self.version_stages!r}, value=<{type(self.value).__name__}, hidden>)"
        )


@dataclasses.dataclass(frozen=True)
class SecretVersionRef:
    """The version a call stored (``version_id`` is None for a secret
    created without a value)."""

    #: The secret's name.
    name: str
    #: The version's ID.
    version_id: str | None
    #: Its staging labels after the call.
    version_stages: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SecretVersion:
    """One version in :meth:`KeyStore.list_secret_version_ids` (never its value)."""

    #: The version's ID.
    version_id: str
    #: Empty: a deprecated version.
    version_stages: tuple[str, ...]
    #: When the version was stored (UTC).
    created_at: datetime.datetime
    #: Whether the value is binary (``bytes``) rather than text.
    binary: bool
    #: The key-store key ID the value is sealed under.
    key_id: str

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> SecretVersion:
        return cls(
            version_id=d["version_id"],
            version_stages=tuple(d["version_stages"]),
            created_at=_req_time(d["created_at"]),
            binary=d["binary"],
            key_id=d["key_id"],
        )


@dataclasses.dataclass(frozen=True)
class SecretMetadata:
    """What :meth:`KeyStore.describe_secret` says: never a value."""

    #: The secret's name.
    name: str
    #: Free text.
    description: str
    #: The key new versions are sealed under, as named at creation.
    key_id: str
    #: The secret's tags.
    tags: Mapping[str, str]
    #: When the secret was created (UTC).
    created_at: datetime.datetime
    #: When the secret last changed (UTC).
    last_changed_at: datetime.datetime
    #: When its last rotation finished (None: never rotated).
    last_rotated_at: datetime.datetime | None
    #: When the deletion was requested (None: not deleted).
    deleted_date: datetime.datetime | None
    #: When the secret will be destroyed unless restored.
    deletion_date: datetime.datetime | None
    #: The versions that carry staging labels, with their labels.
    version_ids_to_stages: Mapping[str, tuple[str, ...]]

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> SecretMetadata:
        return cls(
            name=d["name"],
            description=d["description"],
            key_id=d["key_id"],
            tags=dict(d["tags"]),
            created_at=_req_time(d["created_at"]),
            last_changed_at=_req_time(d["last_changed_at"]),
            last_rotated_at=_time(d["last_rotated_at"]),
            deleted_date=_time(d["deleted_date"]),
            deletion_date=_time(d["deletion_date"]),
            version_ids_to_stages={k: tuple(v) for k, v in d["version_ids_to_stages"].items()},
        )


@dataclasses.dataclass(frozen=True)
class SecretList:
    """One page of :meth:`KeyStore.list_secrets_page`."""

    #: The secrets of this page, by name.
    secrets: tuple[SecretMetadata, ...]
    #: Pass as ``marker`` for the next page; None on the last page.
    next_marker: str | None


@dataclasses.dataclass(frozen=True)
class RotationResult:
    """A finished rotation."""

    #: The secret's name.
    name: str
    #: The new CURRENT version.
    version_id: str
    #: The version that is now PREVIOUS.
    previous_version_id: str


@dataclasses.dataclass(frozen=True)
class SecretRotation:
    """The rotation under way, given to every step of a :class:`SecretRotator`."""

    #: The key store (to read the CURRENT value, for example).
    key_store: KeyStore
    #: The name of the secret being rotated.
    secret_name: str
    #: The new (PENDING) version.
    version_id: str
    #: The CURRENT version when the rotation started.
    current_version_id: str

    def current_value(self) -> str | bytes:
        """The CURRENT value (an audited read)."""
        return self.key_store.get_secret_value(self.secret_name, version_id=self.current_version_id).value


class SecretRotator:
    """The target of a rotation, as a Secrets Manager rotation function:
    subclass it for what the secret opens (a database role, an API key)
    and pass an instance to :meth:`KeyStore.rotate_secret`.

    The steps run in order: :meth:`create_secret` (the new value, stored as
    the PENDING version), :meth:`set_secret` (set it in the target),
    :meth:`test_secret` (check that the target accepts it), then
    :meth:`finish_secret`; only when all of them returned does the new
    version become CURRENT (the old one PREVIOUS). An exception from any
    step stops the rotation with CURRENT unchanged and the new version
    PENDING; it propagates out of ``rotate_secret`` with a note naming the
    step.
    """

    def create_secret(self, rotation: SecretRotation) -> str | bytes:
        """The new value; by default a 32-character random password."""
        return rotation.key_store.get_random_password()

    def set_secret(self, rotation: SecretRotation, pending: str | bytes) -> None:
        """Sets ``pending`` in the target system (for example ALTER ROLE)."""
        raise NotImplementedError("a SecretRotator implements set_secret")

    def test_secret(self, rotation: SecretRotation, pending: str | bytes) -> None:
        """Checks that the target accepts ``pending`` (log in with it);
        raise if it does not."""
        raise NotImplementedError("a SecretRotator implements test_secret")

    def finish_secret(self, rotation: SecretRotation) -> None:
        """The last word before PENDING becomes CURRENT; by default nothing."""


class _RotatorAdapter:
    """What the native rotation calls: one method for every step."""

    __slots__ = ("_ks", "_rotator")

    def __init__(self, ks: KeyStore, rotator: SecretRotator) -> None:
        self._ks = ks
        self._rotator = rotator

    def step(
        self, step: str, name: str, version_id: str, current_version_id: str, pending: str | bytes | None
    ) -> str | bytes | None:
        r = SecretRotation(self._ks, name, version_id, current_version_id)
        if step == "createSecret":
            value = self._rotator.create_secret(r)
            if not isinstance(value, (str, bytes, bytearray, memoryview)):
                raise TypeError(f"create_secret must return str or bytes, not {type(value).__name__}")
            return value
        assert pending is not None or step == "finishSecret"
        if step == "setSecret":
            self._rotator.set_secret(r, pending)  # type: ignore[arg-type]
        elif step == "testSecret":
            self._rotator.test_secret(r, pending)  # type: ignore[arg-type]
        elif step == "finishSecret":
            self._rotator.finish_secret(r)
        else:  # pragma: no cover - the core names only these steps
            raise ValueError(f"unknown rotation step {step!r}")
        return None


class SecretsMixin:
    """The secret operations of :class:`KeyStore`."""

    __slots__ = ()
    _native: _native.KeyStore

    def create_secret(
        self,
        name: str,
        value: str | Buffer | None = None,
        *,
        key_id: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        client_request_token: str | None = None,
    ) -> SecretVersionRef:
        """CreateSecret: a new secret named ``name`` (1-512 of
        ``A-Z a-z 0-9 / _ + = . @ -``), with ``value`` as its first version
        (CURRENT) when given: ``str`` for text, bytes-like for binary, at
        most 65536 bytes. The value is sealed under ``key_id`` (default
        ``alias/sealbox/secrets``, created on first use). Raises
        ``AlreadyExists`` for a name in use."""
        name_, vid, stages = _native.secret_create(
            self._native,
            name,
            value,
            key_id=key_id,
            description=description,
            tags=None if tags is None else dict(tags),
            client_request_token=client_request_token,
        )
        return SecretVersionRef(name_, vid, tuple(stages))

    def get_secret_value(
        self, name: str, *, version_id: str | None = None, version_stage: str | None = None
    ) -> SecretValue:
        """GetSecretValue: the version ``version_id``, or the one labelled
        ``version_stage`` (default CURRENT). Raises ``KeyNotFound`` for a
        missing secret, version or label, ``InvalidKeyState`` for a secret
        scheduled for deletion, ``KeyDisabled`` when its key is disabled."""
        name_, vid, stages, created, value = _native.secret_get(self._native, name, version_id, version_stage)
        return SecretValue(name_, vid, tuple(stages), _req_time(created), value)

    def put_secret_value(
        self,
        name: str,
        value: str | Buffer,
        *,
        version_stages: Sequence[str] | None = None,
        client_request_token: str | None = None,
    ) -> SecretVersionRef:
        """PutSecretValue: a new version labelled ``version_stages``
        (default ``["CURRENT"]``); the labels move from the versions that
        had them, and the version that loses CURRENT becomes PREVIOUS. With
        ``client_request_token`` a retry is safe: the same token and value
        change nothing, another value raises ``AlreadyExists``."""
        name_, vid, stages = _native.secret_put(
            self._native,
            name,
            value,
            version_stages=None if version_stages is None else list(version_stages),
            client_request_token=client_request_token,
        )
        return SecretVersionRef(name_, vid, tuple(stages))

    def update_secret_version_stage(
        self,
        name: str,
        stage: str,
        *,
        move_to_version_id: str | None = None,
        remove_from_version_id: str | None = None,
    ) -> tuple[SecretVersion, ...]:
        """UpdateSecretVersionStage: moves ``stage`` to
        ``move_to_version_id`` (naming the version that holds it as
        ``remove_from_version_id``) or removes it. CURRENT can only be
        moved; the version it leaves becomes PREVIOUS, in the same
        transaction. Returns the versions after the change."""
        versions = _native.secret_update_stage(self._native, name, stage, move_to_version_id, remove_from_version_id)
        return tuple(SecretVersion._from_native(d) for d in versions)

    def list_secrets_page(
        self, limit: int = 100, marker: str | None = None, *, include_planned_deletion: bool = False
    ) -> SecretList:
        """ListSecrets: one page of at most ``limit`` (1-100) secrets by name."""
        secrets, next_marker = _native.secret_list(self._native, limit, marker, include_planned_deletion)
        return SecretList(tuple(SecretMetadata._from_native(d) for d in secrets), next_marker)

    def list_secrets(self, *, include_planned_deletion: bool = False) -> list[SecretMetadata]:
        """Every secret (never values); those scheduled for deletion only
        with ``include_planned_deletion``."""
        return list(self.iter_secrets(include_planned_deletion=include_planned_deletion))

    def iter_secrets(self, *, include_planned_deletion: bool = False, page_size: int = 100) -> Iterator[SecretMetadata]:
        """Every secret, fetched a page at a time."""
        marker: str | None = None
        while True:
            page = self.list_secrets_page(page_size, marker, include_planned_deletion=include_planned_deletion)
            yield from page.secrets
            if page.next_marker is None:
                return
            marker = page.next_marker

    def list_secret_version_ids(self, name: str, *, include_deprecated: bool = False) -> tuple[SecretVersion, ...]:
        """ListSecretVersionIds, newest first; versions without a label only
        with ``include_deprecated``."""
        return tuple(
            SecretVersion._from_native(d) for d in _native.secret_list_versions(self._native, name, include_deprecated)
        )

    def describe_secret(self, name: str) -> SecretMetadata:
        """DescribeSecret: metadata and labels, never values (also of a
        secret scheduled for deletion)."""
        return SecretMetadata._from_native(_native.secret_describe(self._native, name))

    def delete_secret(
        self,
        name: str,
        *,
        recovery_window_days: int | None = None,
        force_delete_without_recovery: bool = False,
    ) -> datetime.datetime:
        """DeleteSecret: after ``recovery_window_days`` (7-30, default 30),
        during which :meth:`restore_secret` brings it back; at once and for
        good with ``force_delete_without_recovery``. Returns when it is (or
        was) destroyed."""
        return _req_time(
            _native.secret_delete(self._native, name, recovery_window_days, force_delete_without_recovery)
        )

    def update_secret(
        self, name: str, *, description: str | None = None, key_id: str | None = None
    ) -> SecretMetadata:
        """UpdateSecret: a new description and/or the key that new versions
        are sealed under (existing versions stay under theirs, readable).
        Values change through :meth:`put_secret_value`."""
        return SecretMetadata._from_native(
            _native.secret_update(self._native, name, description=description, key_id=key_id)
        )

    def tag_secret(self, name: str, tags: Mapping[str, str]) -> None:
        """TagResource on a secret: adds or replaces tags (at most 50)."""
        _native.secret_tag(self._native, name, dict(tags))

    def untag_secret(self, name: str, tag_keys: Sequence[str]) -> None:
        """UntagResource on a secret: removes the tags with these keys."""
        _native.secret_untag(self._native, name, list(tag_keys))

    def put_resource_policy(
        self,
        name: str,
        policy: str | Mapping[str, Any],
        *,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> None:
        """PutResourcePolicy: attaches a resource policy to the secret (JSON
        text or a dict, the key-policy grammar over ``secretsmanager:``
        actions, e.g. ``secretsmanager:GetSecretValue``). With one, each
        operation on the secret needs the policy's permission as well as
        its key's. Refused (``InvalidArgument``) when it would not let this
        principal change it again, unless
        ``bypass_policy_lockout_safety_check=True``."""
        text = policy if isinstance(policy, str) else json.dumps(policy)
        _native.secret_put_policy(self._native, name, text, bypass_policy_lockout_safety_check)

    def get_resource_policy(self, name: str) -> dict[str, Any] | None:
        """GetResourcePolicy: the secret's policy as a dict, or ``None``."""
        text = _native.secret_get_policy(self._native, name)
        return None if text is None else json.loads(text)

    def delete_resource_policy(self, name: str) -> None:
        """DeleteResourcePolicy: the secret is governed by its key alone again."""
        _native.secret_delete_policy(self._native, name)

    def restore_secret(self, name: str) -> SecretMetadata:
        """RestoreSecret: cancels a scheduled deletion."""
        return SecretMetadata._from_native(_native.secret_restore(self._native, name))

    def purge_expired_secrets(self) -> list[str]:
        """Destroys the secrets whose recovery window ended (also done at
        open and whenever such a secret is named); their names."""
        return _native.purge_expired_secrets(self._native)

    def rotate_secret(self, name: str, rotator: SecretRotator) -> RotationResult:
        """RotateSecret: runs ``rotator``'s four steps (see
        :class:`SecretRotator`). On success the new version is CURRENT and
        the old one PREVIOUS; if a step raises, CURRENT is unchanged, the
        new version stays PENDING and the step's exception propagates."""
        if not isinstance(rotator, SecretRotator):
            raise TypeError("rotator must be a sealbox.SecretRotator")
        adapter = _RotatorAdapter(self, rotator)  # type: ignore[arg-type]
        name_, vid, previous = _native.secret_rotate(self._native, name, adapter)
        return RotationResult(name_, vid, previous)

    def get_random_password(
        self,
        length: int = 32,
        *,
        exclude_characters: str = "",
        exclude_numbers: bool = False,
        exclude_punctuation: bool = False,
        exclude_uppercase: bool = False,
        exclude_lowercase: bool = False,
        include_space: bool = False,
        require_each_included_type: bool = True,
    ) -> str:
        """GetRandomPassword, from the key store's random generator (as
        AWS: letters, digits and punctuation, one of each by default)."""
        return _native.random_password(
            self._native,
            length,
            exclude_characters=exclude_characters,
            exclude_numbers=exclude_numbers,
            exclude_punctuation=exclude_punctuation,
            exclude_uppercase=exclude_uppercase,
            exclude_lowercase=exclude_lowercase,
            include_space=include_space,
            require_each_included_type=require_each_included_type,
        )
