"""Exceptions (one hierarchy, raised through one conversion; a panic is an
exception), the audit callback and audit events through `logging`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import sealbox
from sealbox import exceptions


def test_exception_hierarchy() -> None:
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, sealbox.SealboxError), name
        assert getattr(sealbox, name) is cls
    assert issubclass(sealbox.InvalidArgument, ValueError)
    assert issubclass(sealbox.KeyNotFound, LookupError)
    assert issubclass(sealbox.UnsupportedByHsm, sealbox.Unsupported)
    assert not issubclass(sealbox.DecryptionFailed, ValueError)


def test_panic_becomes_internal_error_and_the_interpreter_lives() -> None:
    for _ in range(3):
        with pytest.raises(sealbox.Panic) as e:
            sealbox._native._panic_for_test()
        assert "deliberate panic" in str(e.value)
    # Still fully working afterwards.
    kr = sealbox.RawAesKeyring("ns", "k", bytes(32))
    assert sealbox.decrypt(sealbox.encrypt(b"alive", keyring=kr), keyring=kr).plaintext == b"alive"


def test_audit_callback_receives_every_operation(tmp_path: Path) -> None:
    events: list[sealbox.AuditEvent] = []
    ks = sealbox.KeyStore.open(
        tmp_path / "k.db", root_key=sealbox.RootKey.generate(), principal="billing-service", audit_callback=events.append
    )
    k = ks.create_key(alias="alias/audited").key_id
    ct = ks.encrypt(k, b"card", encryption_context={"order": "7"})
    with pytest.raises(sealbox.DecryptionFailed):
        ks.decrypt(ct, encryption_context={"order": "8"})
    ops = [(e.operation, e.outcome) for e in events]
    assert ops == [("CreateKey", "allowed"), ("Encrypt", "allowed"), ("Decrypt", "failed")]
    enc = events[1]
    assert enc.key_id == k and enc.key_version == 1 and enc.principal == "billing-service"
    assert enc.encryption_context == {"order": "7"} and enc.error is None
    assert enc.time.tzinfo is not None and len(enc.request_id) == 36
    assert events[2].error  # the detail the caller only saw as DecryptionFailed
    d = enc.as_dict()
    assert d["time"].endswith("Z") and d["operation"] == "Encrypt"
    # Never plaintext or key material.
    assert all(b"card" not in repr(e).encode() for e in events)


def test_failing_audit_callback_stops_the_operation(tmp_path: Path) -> None:
    ks = sealbox.KeyStore.open(tmp_path / "k.db", root_key=sealbox.RootKey.generate())
    k = ks.create_key().key_id
    refuse = {"on": False}

    def callback(event: sealbox.AuditEvent) -> None:
        if refuse["on"]:
            raise RuntimeError("audit pipeline down")

    ks.add_audit_callback(callback)
    refuse["on"] = True
    with pytest.raises(sealbox.AuditError) as e:
        ks.create_key(alias="alias/not-made")
    assert isinstance(e.value.__cause__, RuntimeError)
    assert "audit pipeline down" in str(e.value)
    with pytest.raises(sealbox.AuditError):
        ks.encrypt(k, b"x")
    refuse["on"] = False
    # Nothing happened while the audit sink failed.
    assert ks.list_aliases() == {}
    assert len(ks.list_keys()) == 1
    assert ks.operation_count("Encrypt") == 0
    with pytest.raises(TypeError):
        ks.add_audit_callback("not callable")  # type: ignore[arg-type]


def test_audit_to_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ks = sealbox.KeyStore.open(tmp_path / "k.db", root_key=sealbox.RootKey.generate())
    sealbox.audit_to_logging(ks)
    with caplog.at_level(logging.INFO, logger="sealbox.audit"):
        k = ks.create_key().key_id
        with pytest.raises(sealbox.KeyNotFound):
            ks.describe_key("alias/ghost")
    records = [r for r in caplog.records if r.name == "sealbox.audit"]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    assert records[0].getMessage().startswith(f"CreateKey allowed key={k}")
    assert "DescribeKey failed" in records[1].getMessage() and "error=" in records[1].getMessage()
    event = getattr(records[0], "audit")
    assert isinstance(event, sealbox.AuditEvent) and event.key_id == k

    # A logger of the caller's whose handler raises: the audit write
    # failed, so the operation does not happen.
    own = logging.getLogger("tests.audit.own")
    own.propagate = False

    class Broken(logging.Handler):
        on = True

        def emit(self, record: logging.LogRecord) -> None:
            if self.on:
                raise OSError("disk full")

    broken = Broken()
    own.addHandler(broken)
    own.setLevel(logging.INFO)
    sealbox.audit_to_logging(ks, own)
    with pytest.raises(sealbox.AuditError) as e:
        ks.create_key(alias="alias/never")
    assert isinstance(e.value.__cause__, OSError)
    broken.on = False
    assert "alias/never" not in ks.list_aliases()
