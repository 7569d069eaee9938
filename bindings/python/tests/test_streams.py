"""Streaming: open_encryptor / open_decryptor over files of several MiB,
file-like behaviour, and what an incomplete stream does."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest

import sealbox
from sealbox import AlgorithmSuite

MIB = 1024 * 1024
EC = {"file": "export.csv"}


def write_random(path: Path, size: int) -> str:
    """Writes `size` random bytes to `path`; returns their SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


@pytest.mark.parametrize(
    "suite",
    [AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384],
)
def test_files_of_several_mib(tmp_path: Path, aes_keyring: sealbox.RawAesKeyring, suite: AlgorithmSuite) -> None:
    src, enc, out = tmp_path / "plain.bin", tmp_path / "plain.bin.sealed", tmp_path / "out.bin"
    digest = write_random(src, 6 * MIB + 123)
    with open(src, "rb") as fin, open(enc, "wb") as fout:
        with sealbox.open_encryptor(fout, keyring=aes_keyring, encryption_context=EC, algorithm_suite=suite) as w:
            assert w.writable() and not w.readable()
            assert w.algorithm_suite is suite
            shutil.copyfileobj(fin, w, length=300_000)
        assert not fout.closed  # a file object given is left open
    # The one-shot decrypt reads what the stream wrote.
    whole = sealbox.decrypt(enc.read_bytes(), keyring=aes_keyring, encryption_context=EC)
    assert hashlib.sha256(whole.plaintext).hexdigest() == digest
    # And the streaming decryptor, from a path, into a file.
    with sealbox.open_decryptor(enc, keyring=aes_keyring, encryption_context=EC) as r, open(out, "wb") as fout:
        assert r.readable() and not r.writable() and not r.seekable()
        assert r.encryption_context["file"] == "export.csv"
        assert r.algorithm_suite is suite
        shutil.copyfileobj(r, fout)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest


def test_paths_and_small_writes(tmp_path: Path, aes_keyring: sealbox.RawAesKeyring) -> None:
    target = tmp_path / "small.sealed"
    pieces: list[bytes | bytearray | memoryview] = [b"", b"a", bytearray(b"bc"), memoryview(b"defg"), os.urandom(10_000)]
    with sealbox.open_encryptor(str(target), keyring=aes_keyring, frame_length=7) as w:
        for p in pieces:
            assert w.write(p) == len(p)
    expected = b"".join(bytes(p) for p in pieces)
    with sealbox.open_decryptor(target, keyring=aes_keyring) as r:
        got = bytearray()
        while True:
            chunk = r.read(333)
            if not chunk:
                break
            assert len(chunk) <= 333
            got += chunk
    assert bytes(got) == expected


def test_reader_api(aes_keyring: sealbox.RawAesKeyring) -> None:
    text = b"".join(b"line %d of the ledger\n" % i for i in range(5000))
    ct = sealbox.encrypt(text, keyring=aes_keyring, encryption_context=EC)
    with sealbox.open_decryptor(io.BytesIO(ct), keyring=aes_keyring) as r:
        assert list(r)[:2] == [b"line 0 of the ledger\n", b"line 1 of the ledger\n"]
    with sealbox.open_decryptor(io.BytesIO(ct), keyring=aes_keyring) as r:
        buf = bytearray(1000)
        assert r.readinto(buf) == 1000 and bytes(buf) == text[:1000]
        assert r.read1(10) == text[1000:1010]
        assert r.readline() == text[1010 : text.index(b"\n", 1010) + 1]
        rest = r.read()
        assert rest.endswith(b"line 4999 of the ledger\n")
        assert r.read() == b"" and r.read(10) == b""
    assert r.closed
    with pytest.raises(ValueError):
        r.read()
    empty = sealbox.encrypt(b"", keyring=aes_keyring)
    with sealbox.open_decryptor(io.BytesIO(empty), keyring=aes_keyring) as r:
        assert r.read() == b""


def test_exception_in_with_block_leaves_an_incomplete_message(aes_keyring: sealbox.RawAesKeyring) -> None:
    sink = io.BytesIO()
    with pytest.raises(RuntimeError):
        with sealbox.open_encryptor(sink, keyring=aes_keyring) as w:
            w.write(os.urandom(50_000))
            raise RuntimeError("the producer failed half-way")
    assert w.closed and len(sink.getvalue()) > 40_000
    # What was written is not a message that decrypts, in any form.
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(sink.getvalue(), keyring=aes_keyring)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.open_decryptor(io.BytesIO(sink.getvalue()), keyring=aes_keyring).read()
    with pytest.raises(sealbox.InvalidState):
        w.write(b"after close")


def test_abort_and_unclosed_writer(aes_keyring: sealbox.RawAesKeyring) -> None:
    sink = io.BytesIO()
    w = sealbox.open_encryptor(sink, keyring=aes_keyring)
    w.write(b"x" * 10_000)
    w.abort()
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(sink.getvalue(), keyring=aes_keyring)
    # Dropped without close: aborted (with a ResourceWarning), not completed.
    sink2 = io.BytesIO()
    w2 = sealbox.open_encryptor(sink2, keyring=aes_keyring)
    w2.write(b"y" * 10_000)
    with pytest.warns(ResourceWarning):
        w2.__del__()
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(sink2.getvalue(), keyring=aes_keyring)


def test_truncated_and_tampered_streams(aes_keyring: sealbox.RawAesKeyring) -> None:
    pt = os.urandom(200_000)
    ct = sealbox.encrypt(pt, keyring=aes_keyring)
    for cut in (10, len(ct) // 2, len(ct) - 1):
        with pytest.raises(sealbox.DecryptionFailed):
            with sealbox.open_decryptor(io.BytesIO(ct[:cut]), keyring=aes_keyring) as r:
                r.read()
    bad = bytearray(ct)
    bad[len(ct) // 2] ^= 0x80
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.open_decryptor(io.BytesIO(bytes(bad)), keyring=aes_keyring).read()
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.open_decryptor(io.BytesIO(ct), keyring=aes_keyring, encryption_context={"a": "b"}).read()


def test_bad_stream_arguments(aes_keyring: sealbox.RawAesKeyring) -> None:
    with pytest.raises(TypeError):
        sealbox.open_encryptor(object(), keyring=aes_keyring)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sealbox.open_decryptor(object(), keyring=aes_keyring)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sealbox.open_encryptor(io.BytesIO())
    with sealbox.open_encryptor(io.BytesIO(), keyring=aes_keyring) as w:
        with pytest.raises(TypeError):
            w.write("text")  # type: ignore[arg-type]
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.open_encryptor(io.BytesIO(), keyring=aes_keyring, frame_length=0)


def test_stream_with_key_store_and_cache(soft_store: sealbox.KeyStore) -> None:
    soft_store.create_key(alias="alias/stream")
    cmm = sealbox.CachingMaterialsManager(soft_store.keyring("alias/stream"), max_age=60.0)
    outputs = []
    for i in range(3):
        sink = io.BytesIO()
        data = os.urandom(70_000)
        with sealbox.open_encryptor(sink, materials_manager=cmm, plaintext_length=len(data), encryption_context=EC) as w:
            w.write(data)
        outputs.append((data, sink.getvalue()))
    assert soft_store.operation_count("GenerateDataKey") == 1
    for data, ct in outputs:
        with sealbox.open_decryptor(io.BytesIO(ct), materials_manager=cmm) as r:
            assert r.read() == data


def test_threads_one_and_two_write_and_read_the_same_frames(aes_keyring: sealbox.RawAesKeyring) -> None:
    """Writes of 1 MiB (64 frames: with threads=2 the multi-threaded path)
    and of 8 KiB (one frame at a time), with threads=1 and threads=2:
    messages of the same length that read back to the same plaintext with
    either count, as a stream and in one call. (That the frames are the
    same bytes is shown by the core's tests, which can fix the message ID.)"""
    data = os.urandom(3 * MIB + 77)
    for piece in (MIB, 8192):
        sealed = []
        for threads in (1, 2):
            dst = io.BytesIO()
            with sealbox.open_encryptor(dst, keyring=aes_keyring, encryption_context=EC, threads=threads) as w:
                for at in range(0, len(data), piece):
                    w.write(data[at : at + piece])
            sealed.append(dst.getvalue())
        assert len(sealed[0]) == len(sealed[1])
        for ct in sealed:
            for threads in (1, 2):
                with sealbox.open_decryptor(io.BytesIO(ct), keyring=aes_keyring, threads=threads) as r:
                    assert r.read() == data
                assert sealbox.decrypt(ct, keyring=aes_keyring, threads=threads).plaintext == data


def test_threads_must_be_at_least_one(aes_keyring: sealbox.RawAesKeyring) -> None:
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, threads=0)
    ct = sealbox.encrypt(b"x", keyring=aes_keyring)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.decrypt(ct, keyring=aes_keyring, threads=0)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.open_encryptor(io.BytesIO(), keyring=aes_keyring, threads=0)
