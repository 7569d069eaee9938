"""Secrets through Python (issue 21): text as str and binary as bytes, every
operation and label transition, the refusals as sealbox exceptions,
deletion and restore, key rotation under a secret, and the rotation
workflow with a Python rotator (success, and failure at each step leaving
CURRENT)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sealbox
from sealbox import SecretRotation, SecretRotator


@pytest.fixture
def ks(tmp_path: Path) -> sealbox.KeyStore:
    return sealbox.KeyStore.open(tmp_path / "keys.db", root_key=sealbox.RootKey.generate(), principal="py-tests")


def test_text_and_binary_round_trip_and_labels(ks: sealbox.KeyStore) -> None:
    v1 = ks.create_secret("prod/db", "hunter2", description="db", tags={"team": "pay"})
    assert v1.version_stages == ("CURRENT",)
    got = ks.get_secret_value("prod/db")
    assert got.value == "hunter2" and isinstance(got.value, str)
    assert got.secret_string == "hunter2" and got.secret_binary is None
    assert "hunter2" not in repr(got)
    v2 = ks.put_secret_value("prod/db", "new-pw")
    assert ks.get_secret_value("prod/db").value == "new-pw"
    prev = ks.get_secret_value("prod/db", version_stage="PREVIOUS")
    assert prev.value == "hunter2" and prev.version_id == v1.version_id
    assert ks.get_secret_value("prod/db", version_id=v1.version_id).value == "hunter2"

    ks.create_secret("tls/key", b"\x00\xff\x01")
    b = ks.get_secret_value("tls/key")
    assert b.value == b"\x00\xff\x01" and isinstance(b.value, bytes)
    ks.put_secret_value("tls/key", bytearray(b"\x02\x03"))
    assert ks.get_secret_value("tls/key").secret_binary == b"\x02\x03"

    v3 = ks.put_secret_value("prod/db", "pending", version_stages=["PENDING", "canary"])
    assert v3.version_stages == ("PENDING", "canary")
    assert ks.get_secret_value("prod/db").value == "new-pw"
    # Promote: CURRENT to v3, PREVIOUS to v2, in one change.
    ks.update_secret_version_stage(
        "prod/db", "CURRENT", move_to_version_id=v3.version_id, remove_from_version_id=v2.version_id
    )
    d = ks.describe_secret("prod/db")
    assert d.version_ids_to_stages[v3.version_id or ""] == ("CURRENT", "PENDING", "canary")
    assert d.version_ids_to_stages[v2.version_id or ""] == ("PREVIOUS",)
    assert d.description == "db" and d.tags == {"team": "pay"}
    assert d.key_id == "alias/sealbox/secrets"
    versions = ks.list_secret_version_ids("prod/db", include_deprecated=True)
    assert [v.version_id for v in versions][0] == v3.version_id
    assert len(ks.list_secret_version_ids("prod/db")) == 2
    assert [s.name for s in ks.list_secrets()] == ["prod/db", "tls/key"]
    page = ks.list_secrets_page(1)
    assert page.next_marker == "prod/db"


def test_refusals(ks: sealbox.KeyStore) -> None:
    with pytest.raises(sealbox.KeyNotFound):
        ks.get_secret_value("missing")
    with pytest.raises(sealbox.InvalidArgument):
        ks.create_secret("has space", "v")
    with pytest.raises(sealbox.InvalidArgument):
        ks.create_secret("big", b"x" * 65537)
    ks.create_secret("big", b"x" * 65536)
    with pytest.raises(sealbox.InvalidArgument):
        ks.create_secret("empty", "")
    ks.create_secret("app", "v1")
    with pytest.raises(sealbox.AlreadyExists):
        ks.create_secret("app", "v2")
    with pytest.raises(sealbox.KeyNotFound):
        ks.get_secret_value("app", version_stage="PENDING")
    with pytest.raises(sealbox.InvalidArgument):
        ks.update_secret_version_stage("app", "CURRENT", remove_from_version_id=ks.get_secret_value("app").version_id)
    with pytest.raises(TypeError):
        ks.create_secret("n", 42)  # type: ignore[arg-type]
    # Idempotent puts.
    token = "0123456789abcdef0123456789abcdef"
    assert ks.put_secret_value("app", "v2", client_request_token=token).version_id == token
    assert ks.put_secret_value("app", "v2", client_request_token=token).version_id == token
    with pytest.raises(sealbox.AlreadyExists):
        ks.put_secret_value("app", "v3", client_request_token=token)
    # A disabled key.
    key = ks.create_key().key_id
    ks.create_secret("on-key", "kv", key_id=key)
    ks.disable_key(key)
    with pytest.raises(sealbox.KeyDisabled):
        ks.get_secret_value("on-key")
    with pytest.raises(sealbox.KeyDisabled):
        ks.put_secret_value("on-key", "x")
    ks.enable_key(key)
    assert ks.get_secret_value("on-key").value == "kv"


def test_delete_restore_and_force(ks: sealbox.KeyStore) -> None:
    ks.create_secret("old", "v")
    with pytest.raises(sealbox.InvalidArgument):
        ks.delete_secret("old", recovery_window_days=3)
    when = ks.delete_secret("old", recovery_window_days=7)
    assert ks.describe_secret("old").deletion_date == when
    with pytest.raises(sealbox.InvalidKeyState, match="scheduled for deletion"):
        ks.get_secret_value("old")
    with pytest.raises(sealbox.InvalidKeyState):
        ks.put_secret_value("old", "x")
    assert ks.list_secrets() == []
    assert [s.name for s in ks.list_secrets(include_planned_deletion=True)] == ["old"]
    ks.restore_secret("old")
    assert ks.get_secret_value("old").value == "v"
    ks.delete_secret("old", force_delete_without_recovery=True)
    with pytest.raises(sealbox.KeyNotFound):
        ks.describe_secret("old")
    assert ks.purge_expired_secrets() == []


def test_key_rotation_keeps_versions_readable(ks: sealbox.KeyStore) -> None:
    key = ks.create_key(alias="alias/app").key_id
    v1 = ks.create_secret("svc", "one", key_id="alias/app")
    ks.rotate_key(key)
    ks.put_secret_value("svc", "two")
    ks.rotate_key(key)
    assert ks.get_secret_value("svc", version_id=v1.version_id or "").value == "one"
    assert ks.get_secret_value("svc").value == "two"
    assert all(v.key_id == key for v in ks.list_secret_version_ids("svc"))
    # UpdateSecret: new versions under another key, old ones still readable.
    other = ks.create_key().key_id
    m = ks.update_secret("svc", description="moved", key_id=other)
    assert m.key_id == other and m.description == "moved"
    ks.put_secret_value("svc", "three")
    assert ks.list_secret_version_ids("svc")[0].key_id == other
    assert ks.get_secret_value("svc", version_id=v1.version_id or "").value == "one"
    with pytest.raises(sealbox.InvalidArgument):
        ks.update_secret("svc")
    ks.tag_secret("svc", {"env": "prod", "team": "x"})
    ks.untag_secret("svc", ["env"])
    assert ks.describe_secret("svc").tags == {"team": "x"}
    with pytest.raises(sealbox.InvalidArgument):
        ks.tag_secret("svc", {f"t{i}": "v" for i in range(50)})


class Target(SecretRotator):
    """A target in memory that fails at ``fail_at``."""

    def __init__(self, value: str, fail_at: str | None = None) -> None:
        self.value = value
        self.fail_at = fail_at
        self.steps: list[str] = []

    def _step(self, name: str) -> None:
        self.steps.append(name)
        if self.fail_at == name:
            raise ConnectionError(f"target down at {name}")

    def create_secret(self, rotation: SecretRotation) -> str | bytes:
        self._step("create")
        assert rotation.current_value() == self.value
        return super().create_secret(rotation)

    def set_secret(self, rotation: SecretRotation, pending: str | bytes) -> None:
        self._step("set")
        assert isinstance(pending, str)
        self.value = pending

    def test_secret(self, rotation: SecretRotation, pending: str | bytes) -> None:
        self._step("test")
        assert self.value == pending

    def finish_secret(self, rotation: SecretRotation) -> None:
        self._step("finish")


def test_rotation_with_a_python_rotator(ks: sealbox.KeyStore) -> None:
    v1 = ks.create_secret("db", "initial")
    for i, step in enumerate(["create", "set", "test", "finish"]):
        t = Target("initial", fail_at=step)
        with pytest.raises(ConnectionError, match=f"target down at {step}") as info:
            ks.rotate_secret("db", t)
        assert any("CURRENT is unchanged" in n for n in getattr(info.value, "__notes__", []))
        assert t.steps == ["create", "set", "test", "finish"][: i + 1]
        cur = ks.get_secret_value("db")
        assert cur.value == "initial" and cur.version_id == v1.version_id
        if step != "create":
            pending = ks.get_secret_value("db", version_stage="PENDING")
            assert pending.version_stages == ("PENDING",)
            assert pending.value != "initial"
    t = Target("initial")
    r = ks.rotate_secret("db", t)
    assert r.previous_version_id == v1.version_id
    cur = ks.get_secret_value("db")
    assert cur.version_id == r.version_id and cur.value == t.value and cur.version_stages == ("CURRENT",)
    assert ks.get_secret_value("db", version_stage="PREVIOUS").value == "initial"
    with pytest.raises(sealbox.KeyNotFound):
        ks.get_secret_value("db", version_stage="PENDING")
    assert ks.describe_secret("db").last_rotated_at is not None

    class Incomplete(SecretRotator):
        pass

    with pytest.raises(NotImplementedError):
        ks.rotate_secret("db", Incomplete())
    assert ks.get_secret_value("db").value == t.value
    with pytest.raises(TypeError):
        ks.rotate_secret("db", object())  # type: ignore[arg-type]


def test_reads_are_audited_and_passwords_follow_their_spec(ks: sealbox.KeyStore) -> None:
    events: list[sealbox.AuditEvent] = []
    ks.add_audit_callback(events.append)
    v = ks.create_secret("audited", "a-value")
    ks.get_secret_value("audited")
    reads = [e for e in events if e.operation == "GetSecretValue"]
    assert len(reads) == 1
    assert reads[0].detail is not None and f"version {v.version_id}" in reads[0].detail
    assert reads[0].principal == "py-tests"
    assert reads[0].encryption_context == {"sealbox:secret": "audited", "sealbox:version": v.version_id}
    pw = ks.get_random_password(48, exclude_punctuation=True, exclude_characters="0O")
    assert len(pw) == 48 and pw.isalnum() and "0" not in pw and "O" not in pw
    with pytest.raises(sealbox.InvalidArgument):
        ks.get_random_password(0)


def test_a_resource_policy_decides_each_operation(ks: sealbox.KeyStore) -> None:
    admin = ks.as_principal("admin")
    admin.create_secret("svc/api", "k-1")
    reader, other = admin.as_principal("reader"), admin.as_principal("other")
    assert admin.get_resource_policy("svc/api") is None
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
             "Action": "secretsmanager:*", "Resource": "*"},
            {"Sid": "Read", "Effect": "Allow", "Principal": {"Sealbox": "reader"},
             "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
        ],
    }
    with pytest.raises(sealbox.InvalidArgument, match="PutResourcePolicy"):
        reader.put_resource_policy("svc/api", policy)
    admin.put_resource_policy("svc/api", policy)
    stored = admin.get_resource_policy("svc/api")
    assert stored is not None and stored["Statement"][1]["Sid"] == "Read"
    assert reader.get_secret_value("svc/api").secret_string == "k-1"
    with pytest.raises(sealbox.AccessDenied):
        other.get_secret_value("svc/api")
    with pytest.raises(sealbox.AccessDenied):
        reader.put_secret_value("svc/api", "evil")
    assert admin.get_secret_value("svc/api").secret_string == "k-1"
    admin.delete_resource_policy("svc/api")
    assert other.get_secret_value("svc/api").secret_string == "k-1"
