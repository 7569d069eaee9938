"""The PostgreSQL metadata store from Python (issue 15, shared custody).

Runs against the test server of ``make pg-start`` (``SEALBOX_TEST_PG_URL``,
``SEALBOX_TEST_PG_CA``); each test gets a fresh database, dropped at its
end. Without a server the tests are skipped, except on CI (``CI`` set),
where a missing server is a failure.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sealbox

EC = {"purpose": "postgres-tests"}


def _root() -> sealbox.RootKey:
    return sealbox.RootKey.from_bytes(bytes(range(32)))


def _server() -> str:
    url = os.environ.get("SEALBOX_TEST_PG_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("SEALBOX_TEST_PG_URL is not set: on CI the PostgreSQL tests must run (make pg-start)")
        pytest.skip("no test PostgreSQL server (make pg-start; SEALBOX_TEST_PG_URL)")
    if shutil.which("psql") is None:
        pytest.fail("psql not found (Debian package postgresql-client; `make deps` installs it)")
    return url


def _with_database(url: str, db: str) -> str:
    """``url`` with its database replaced by ``db`` (the query kept)."""
    base, sep, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}" + (f"?{query}" if sep else "")


def _psql(url: str, sql: str) -> str:
    """Runs ``sql`` as the test server's owner role; its unaligned output."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    return out.stdout.strip()


@pytest.fixture
def server() -> str:
    return _server()


@pytest.fixture
def pg_url(server: str) -> Iterator[str]:
    """A fresh, empty database on the test server, by URL."""
    name = f"sbpy_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _psql(server, f"CREATE DATABASE {name}")
    yield _with_database(server, name)
    # The key stores of the test are gone (or going): end their sessions.
    # WITH (FORCE) is refused while an autovacuum worker (a superuser
    # process) works on the database; it soon ends: try again for up to 5 s,
    # then leave the database to the temporary server (cleaning up is not
    # what these tests test).
    for attempt in range(51):
        try:
            _psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except subprocess.CalledProcessError as e:
            if attempt == 50:
                print(f"left test database {name}: {e.stderr}", file=sys.stderr)
                return
            time.sleep(0.1)


def test_open_by_url_round_trip_and_rotate(pg_url: str) -> None:
    ks = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="app")
    assert ks.metadata_cache_ttl == pytest.approx(1.0)
    assert ks.audit_log_path is None
    location = ks.audit_log_location
    assert location is not None and "audit_log" in location
    key = ks.create_key(alias="alias/orders", description="pg").key_id

    with ks.generate_data_key("alias/orders", encryption_context=EC) as dk:
        assert dk.key_id == key and dk.key_version == 1
        assert ks.decrypt(dk.ciphertext, encryption_context=EC) == bytes(dk.plaintext)
        first = bytes(dk.plaintext), dk.ciphertext

    kr = ks.keyring("alias/orders")
    message = sealbox.encrypt(b"orders.csv", keyring=kr, encryption_context=EC)
    assert sealbox.decrypt(message, keyring=kr, encryption_context=EC).plaintext == b"orders.csv"

    assert ks.rotate_key(key) == 2
    dk2 = ks.generate_data_key(key, encryption_context=EC)
    assert dk2.key_version == 2
    # Both versions decrypt, and the message made under version 1 too.
    assert ks.decrypt(first[1], encryption_context=EC) == first[0]
    assert ks.decrypt(dk2.ciphertext, encryption_context=EC) == bytes(dk2.plaintext)
    assert sealbox.decrypt(message, keyring=kr).plaintext == b"orders.csv"
    assert ks.describe_key(key).primary_version == 2
    report = ks.verify_audit_log()
    assert report.ok, report
    del ks, kr

    # Reopened by another handle: the same keys, the same chain.
    again = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="app")
    assert again.decrypt(dk2.ciphertext, encryption_context=EC) == bytes(dk2.plaintext)
    after = again.verify_audit_log()
    assert after.ok and after.records == report.records + 1, after
    with pytest.raises(sealbox.WrongRootKey):
        sealbox.KeyStore.open(pg_url, root_key=sealbox.RootKey.from_bytes(bytes(32)))


def test_two_handles_from_threads_write_one_trail(pg_url: str) -> None:
    a = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="a")
    b = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="b")
    a.create_key(alias="alias/shared")
    before = a.verify_audit_log()
    assert before.ok, before

    rounds, per_handle = 25, 2
    errors: list[BaseException] = []

    def work(ks: sealbox.KeyStore, who: str) -> None:
        try:
            for i in range(rounds):
                ec = {"who": who, "i": str(i)}
                dk = ks.generate_data_key("alias/shared", encryption_context=ec)
                assert ks.decrypt(dk.ciphertext, encryption_context=ec) == bytes(dk.plaintext)
        except BaseException as e:  # re-raised on the main thread
            errors.append(e)

    threads = [
        threading.Thread(target=work, args=(ks, f"{name}{n}"))
        for ks, name in ((a, "a"), (b, "b"))
        for n in range(per_handle)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    # Every operation (GenerateDataKey + Decrypt per round) is one record,
    # whichever handle wrote it; both handles see the one trail.
    expected = before.records + len(threads) * rounds * 2
    for ks in (a, b):
        report = ks.verify_audit_log()
        assert report.ok and report.records == expected, (report, expected)

    records = b.audit_records()
    assert len(records) == expected
    # Positions name the records (in the order of the transactions that
    # wrote them); each chain (changes to keys, and each handle's writer)
    # numbers its own records 0, 1, 2, ...
    seqs = [seq for seq, _ in records]
    assert len(set(seqs)) == expected
    principals = set()
    chains: dict[object, list[int]] = {}
    for _, line in records:
        rec = json.loads(line)
        assert isinstance(rec.get("mac"), str) and rec["mac"], line
        principals.add(rec["principal"])
        chains.setdefault(rec.get("writer"), []).append(rec["seq"])
    assert principals == {"a", "b"}
    assert len(chains) >= 3, chains.keys()
    for numbers in chains.values():
        assert numbers == list(range(len(numbers)))
    # Paging: after the 10th record, at most 5.
    page = a.audit_records(after=seqs[9], limit=5)
    assert page == records[10:15]
    assert a.audit_records(after=seqs[-1]) == []


def test_a_disable_is_seen_by_another_handle_within_the_bound(pg_url: str) -> None:
    ttl = 0.3
    admin = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="admin")
    app = sealbox.KeyStore.open(pg_url, root_key=_root(), principal="app", metadata_cache_ttl=ttl)
    assert app.metadata_cache_ttl == pytest.approx(ttl)
    key = admin.create_key(alias="alias/revoked").key_id
    # The app reads (and may cache) the key's metadata.
    app.generate_data_key("alias/revoked", encryption_context=EC)
    admin.disable_key(key)
    disabled_at = time.monotonic()
    while True:
        try:
            app.generate_data_key("alias/revoked", encryption_context=EC)
        except sealbox.KeyDisabled:
            seen_after = time.monotonic() - disabled_at
            break
        if time.monotonic() - disabled_at > 5 * ttl + 2:
            pytest.fail("the other handle still uses the disabled key")
        time.sleep(0.01)
    # The bound, plus the scheduling slack of a loaded 2-core machine.
    assert seen_after <= ttl + 0.25, seen_after
    # Enabled again: the app may use it again, within the bound too.
    admin.enable_key(key)
    deadline = time.monotonic() + ttl + 2
    while True:
        try:
            app.generate_data_key("alias/revoked", encryption_context=EC)
            break
        except sealbox.KeyDisabled:
            assert time.monotonic() < deadline, "the enable was not seen"
            time.sleep(0.01)


def test_metadata_cache_ttl_is_validated_and_defaults_per_store(tmp_path: Path) -> None:
    # No server needed: the SQLite store's default is 0 (read every time).
    db = tmp_path / "keys.db"
    ks = sealbox.KeyStore.open(db, root_key=_root())
    assert ks.metadata_cache_ttl == 0.0
    assert ks.audit_log_location == str(db) + ".audit.jsonl"
    del ks
    ks = sealbox.KeyStore.open(db, root_key=_root(), metadata_cache_ttl=2.5)
    assert ks.metadata_cache_ttl == pytest.approx(2.5)
    ks.create_key()
    n = ks.verify_audit_log().records
    records = ks.audit_records()
    assert len(records) == n and all("mac" in json.loads(line) for _, line in records)
    assert ks.audit_records(limit=1) == records[:1]
    with pytest.raises(sealbox.InvalidArgument, match="limit"):
        ks.audit_records(limit=0)
    del ks
    for bad in (-1.0, -0.001, math.nan, math.inf, -math.inf):
        with pytest.raises(sealbox.InvalidArgument, match="metadata_cache_ttl"):
            sealbox.KeyStore.open(db, root_key=_root(), metadata_cache_ttl=bad)
    with pytest.raises(TypeError):
        sealbox.KeyStore.open(db, root_key=_root(), metadata_cache_ttl="1")  # type: ignore[arg-type]
    # A refused option changed nothing: the store opens with its records.
    assert sealbox.KeyStore.open(db, root_key=_root()).verify_audit_log().records == n


def test_wrong_password_is_a_storage_error_without_the_password(server: str) -> None:
    assert ":sealbox-test-pw@" in server, "the test URL carries the test password"
    bad = server.replace(":sealbox-test-pw@", ":not-the-password-42@", 1)
    with pytest.raises(sealbox.StorageError) as e:
        sealbox.KeyStore.open(bad, root_key=_root())
    assert "not-the-password-42" not in str(e.value)
    assert "not-the-password-42" not in repr(e.value)


def test_nothing_listening_is_store_unavailable(server: str) -> None:
    url = "postgresql://sealbox:pw@127.0.0.1:9/sealbox"
    started = time.monotonic()
    with pytest.raises(sealbox.StoreUnavailable) as e:
        sealbox.KeyStore.open(url, root_key=_root())
    assert time.monotonic() - started < 10
    assert e.value.kind == 26
    assert isinstance(e.value, sealbox.SealboxError)


def test_an_audit_log_file_is_refused_for_a_database_store(pg_url: str, tmp_path: Path) -> None:
    log = tmp_path / "not-used.jsonl"
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.KeyStore.open(pg_url, root_key=_root(), audit_log=log)
    assert not log.exists()


def test_tls_verify_full_with_the_test_ca(pg_url: str) -> None:
    ca = os.environ.get("SEALBOX_TEST_PG_CA", "")
    assert ca, "SEALBOX_TEST_PG_CA is set with SEALBOX_TEST_PG_URL by make pg-start"
    sep = "&" if "?" in pg_url else "?"
    tls = f"{pg_url}{sep}sslmode=verify-full&sslrootcert={ca}"
    ks = sealbox.KeyStore.open(tls, root_key=_root(), principal="tls")
    key = ks.create_key().key_id
    ct = ks.encrypt(key, b"over TLS", encryption_context=EC)
    assert ks.decrypt(ct, encryption_context=EC) == b"over TLS"
    db = pg_url.split("?", 1)[0].rsplit("/", 1)[1]
    encrypted = _psql(
        pg_url,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        f"WHERE a.datname = '{db}' AND s.ssl AND a.pid <> pg_backend_pid()",
    )
    assert int(encrypted) >= 1, "no TLS connection from sealbox"
    # Without the test CA, verify-full refuses the server's certificate.
    with pytest.raises((sealbox.StoreUnavailable, sealbox.StorageError)):
        sealbox.KeyStore.open(f"{pg_url}{sep}sslmode=verify-full", root_key=_root())
