"""Issue 15 from Python: the audit anchor never moves backwards.

The tail-removal attack (write records, cut the log to its first five
lines, reopen, change a key) used to pass verification again; now the
reopen itself is refused, and only an operator's explicit, audited new
segment opens the store again. Records written by several processes on the
one store form one chain.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

import sealbox


def _root() -> sealbox.RootKey:
    return sealbox.RootKey.from_bytes(bytes(range(32)))


def test_a_cut_log_is_refused_and_a_new_segment_is_audited(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    ks = sealbox.KeyStore.open(db, root_key=_root(), principal="app")
    key = ks.create_key().key_id
    for _ in range(10):
        ks.generate_random(8)
    ks.rotate_key(key)
    log = Path(str(db) + ".audit.jsonl")
    del ks
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:5]))
    with pytest.raises(sealbox.AuditLogTampered, match="removed"):
        sealbox.KeyStore.open(db, root_key=_root(), principal="app")
    ks = sealbox.KeyStore.open(
        db, root_key=_root(), principal="operator", new_audit_segment="incident 7"
    )
    assert ks.verify_audit_log().ok
    first = log.read_text().splitlines()[0]
    assert "StartAuditSegment" in first and "incident 7" in first
    assert sealbox.Operation("StartAuditSegment") is sealbox.Operation.START_AUDIT_SEGMENT
    assert len(list(tmp_path.glob("keys.db.audit.jsonl.segment-0-*"))) == 1


def _worker(db: str, n: int) -> None:
    ks = sealbox.KeyStore.open(db, root_key=_root(), principal=f"worker-{os.getpid()}")
    for _ in range(n):
        dk = ks.generate_data_key("alias/shared", encryption_context={"p": str(os.getpid())})
        ks.decrypt(dk.ciphertext, encryption_context={"p": str(os.getpid())})


def test_processes_append_to_one_chain(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")
    ks = sealbox.KeyStore.open(db, root_key=_root(), principal="operator")
    ks.create_key(alias="alias/shared")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(db, 200)) for _ in range(3)]
    for p in procs:
        p.start()
    for _ in range(5):
        ks.rotate_key("alias/shared")
    for p in procs:
        p.join()
        assert p.exitcode == 0
    report = ks.verify_audit_log()
    assert report.ok, report
    assert report.records >= 3 * 200 * 2 + 6
