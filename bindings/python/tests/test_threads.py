"""Threads: many threads sharing one key store and one caching materials
manager; and proof that the GIL is released during the work."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

import sealbox

MIB = 1024 * 1024


def test_many_threads_share_a_key_store_and_a_cache(store: sealbox.KeyStore) -> None:
    store.create_key(alias="alias/shared")
    cmm = sealbox.CachingMaterialsManager(store.keyring("alias/shared"), max_age=300.0, max_messages=1000)
    direct_key = store.create_key().key_id

    def worker(n: int) -> int:
        ec = {"worker": str(n % 2)}  # two cache entries shared by all threads
        for i in range(20):
            pt = os.urandom(100 + 997 * i)
            ct = sealbox.encrypt(pt, materials_manager=cmm, encryption_context=ec)
            assert sealbox.decrypt(ct, materials_manager=cmm, encryption_context=ec).plaintext == pt
            blob = store.encrypt(direct_key, pt[:64], encryption_context=ec)
            assert store.decrypt(blob, encryption_context=ec) == pt[:64]
        return n

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(worker, range(16))) == list(range(16))
    # 320 messages under two contexts: the key store made a data key per
    # context, give or take threads that missed the cache at the same time.
    made = store.operation_count("GenerateDataKey")
    assert 2 <= made <= 16
    assert cmm.hits >= 320 - 16
    assert store.operation_count("Encrypt") == 320
    assert store.verify_audit_log().ok


def test_threads_streaming_and_one_shot_together(aes_keyring: sealbox.RawAesKeyring) -> None:
    import io

    errors: list[BaseException] = []

    def run() -> None:
        try:
            data = os.urandom(300_000)
            sink = io.BytesIO()
            with sealbox.open_encryptor(sink, keyring=aes_keyring) as w:
                for off in range(0, len(data), 50_000):
                    w.write(data[off : off + 50_000])
            assert sealbox.decrypt(sink.getvalue(), keyring=aes_keyring).plaintext == data
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.fixture
def long_switch_interval() -> Iterator[None]:
    # With a switch interval far longer than the test, the interpreter never
    # takes the GIL from a thread that runs Python code: another thread runs
    # only while the running one has released it (blocking or native code
    # that releases it). Every call below releases it, so nothing waits long.
    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def overlap_seen(work_a: Callable[[], object], work_b: Callable[[], object], rounds: int = 500) -> bool:
    """Thread A runs `work_a` up to `rounds` times and reads, just before and just
    after each call, how many calls thread B has finished. If the GIL stays
    held during A's call, B cannot finish anything between the two reads
    (A holds the GIL from the first read to the second, since the switch
    interval is long): both reads are equal. A difference proves that B ran
    while A was inside the call."""
    b_done = 0
    stop = threading.Event()
    b_warm = threading.Event()
    seen: list[bool] = []

    def b() -> None:
        nonlocal b_done
        while not stop.is_set():
            work_b()
            b_done += 1
            if b_done == 2:
                b_warm.set()
            # Lets the main thread in to set `stop` when A is done (this
            # gives up the GIL only between B's calls, never inside A's).
            time.sleep(0)

    def a() -> None:
        # B's first calls may be slow (first use of a session, a page
        # cache ...): measure once B is running at its usual pace.
        if not b_warm.wait(timeout=60):
            raise TimeoutError("thread B made no progress")
        # Until the first overlap: on a busy machine thread B may get no CPU
        # for a while, so give it many chances (when the GIL is held during
        # the call, no number of rounds can show an overlap).
        for _ in range(rounds):
            before = b_done
            work_a()
            seen.append(b_done != before)
            if seen[-1]:
                return

    failures: list[BaseException] = []

    def guarded(f: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                f()
            except BaseException as e:  # noqa: BLE001 - re-raised below
                failures.append(e)
                b_warm.set()

        return run

    tb = threading.Thread(target=guarded(b))
    tb.start()
    try:
        ta = threading.Thread(target=guarded(a))
        ta.start()
        ta.join()
    finally:
        stop.set()
        tb.join()
    if failures:
        raise failures[0]
    return any(seen)


def test_gil_released_during_1_mib_encryptions(
    long_switch_interval: None, aes_keyring: sealbox.RawAesKeyring, mib_payload: bytes
) -> None:
    def enc() -> bytes:
        return sealbox.encrypt(mib_payload, keyring=aes_keyring)

    assert overlap_seen(enc, enc)
    ct = enc()

    def dec() -> object:
        return sealbox.decrypt(ct, keyring=aes_keyring)

    assert overlap_seen(dec, dec)


def test_gil_released_around_key_store_calls(long_switch_interval: None, store: sealbox.KeyStore) -> None:
    # An RSA signature (a millisecond or so, in the HSM on PKCS#11): a call
    # long enough that the other thread surely wakes up while it runs. (For
    # calls of a few microseconds the waiting thread can lose every race for
    # the GIL to the one that just released it, which proves nothing.)
    k = store.create_key(spec="RSA_2048", usage="SIGN_VERIFY").key_id

    def call() -> object:
        return store.sign(k, b"ledger entry", algorithm="RSASSA_PSS_SHA_256")

    assert overlap_seen(call, call, rounds=300)


def test_gil_kept_for_small_inputs(long_switch_interval: None, aes_keyring: sealbox.RawAesKeyring) -> None:
    # The control: below sealbox's threshold (about 2 KiB) the work keeps the
    # GIL (releasing it would cost more than the work), and the same method
    # then sees no overlap -- so it does tell the two cases apart.
    small = os.urandom(100)
    assert len(small) < sealbox._native.RELEASE_THRESHOLD

    def enc() -> object:
        return sealbox.encrypt(small, keyring=aes_keyring)

    assert not overlap_seen(enc, enc, rounds=50)
