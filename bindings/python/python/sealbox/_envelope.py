"""The envelope layer: encrypt data of any size with data keys, in the AWS
Encryption SDK message format (messages decrypt with the AWS Encryption
SDKs' raw AES and raw RSA keyrings, and the other way round)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from . import _native
from ._enums import AlgorithmSuite
from .exceptions import InvalidState

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = [
    "DecryptResult",
    "DecryptingReader",
    "EncryptingWriter",
    "RewrapSummary",
    "decrypt",
    "encrypt",
    "open_decryptor",
    "open_encryptor",
    "rewrap",
    "rewrap_stream",
]

#: Bytes read from the source per step of a decrypting stream.
READ_CHUNK = 64 * 1024

Keyring = _native.Keyring
MaterialsManager = _native.MaterialsManager


#: What :func:`decrypt` returns: ``plaintext`` (the authenticated bytes),
#: ``encryption_context`` (the message's full context, with the
#: ``aws-crypto-public-key`` pair of signed suites) and ``algorithm_suite``
#: (an :class:`AlgorithmSuite`). Immutable; made by the native module in one
#: step (a frozen dataclass built here cost more than decrypting 1 KiB).
DecryptResult = _native.DecryptResult


def encrypt(
    plaintext: Buffer,
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    algorithm_suite: AlgorithmSuite | int | None = None,
    frame_length: int = _native.DEFAULT_FRAME_LENGTH,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    required_encryption_context_keys: Sequence[str] | None = None,
    threads: int | None = None,
) -> bytes:
    """Encrypts ``plaintext`` into one message.

    Give exactly one of ``keyring`` and ``materials_manager``. The
    encryption context is stored in the message and authenticated; keys
    listed in ``required_encryption_context_keys`` are authenticated but
    not stored (the reader must supply them). The default suite is
    ``AES_256_GCM_HKDF_SHA512_COMMIT_KEY`` (0x0478). ``max_encrypted_data_keys=None``
    lifts the limit. ``threads`` caps the threads that seal the frames of a
    large message (default: the machine's cores from 1 MiB; ``1``: this
    thread only); the message is the same byte for byte.
    """
    # The options go to the native function as they are, positionally (no
    # options object per message: the fixed cost of a small message).
    return _native.encrypt(
        plaintext, keyring, materials_manager, encryption_context, algorithm_suite, frame_length,
        commitment_policy, max_encrypted_data_keys, required_encryption_context_keys, threads)


def decrypt(
    ciphertext: Buffer,
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    max_body_size: int | None = None,
    threads: int | None = None,
) -> DecryptResult:
    """Decrypts one message.

    With ``encryption_context``, every pair must be in the message (pairs
    that were authenticated but not stored are supplied from it); without,
    any context is accepted: check ``result.encryption_context``. Any
    failure raises the one opaque :class:`~sealbox.DecryptionFailed`.
    ``threads`` as for :func:`encrypt`.
    """
    return _native.decrypt(
        ciphertext, keyring, materials_manager, encryption_context, commitment_policy,
        max_encrypted_data_keys, max_body_size, threads)


def _open_target(target: Any, mode: str) -> tuple[Any, bool]:
    """A path is opened (and closed with the stream); a file object is used
    as it is (and left open)."""
    if isinstance(target, (str, os.PathLike)):
        return open(target, mode), True  # noqa: SIM115 - closed by the stream
    return target, False


class EncryptingWriter(io.BufferedIOBase):
    """A writable binary stream that encrypts into ``dst``: what
    :func:`open_encryptor` returns.

    The message is complete only after :meth:`close`: it writes the final
    frame (and the signature of signed suites). Leaving a ``with`` block by
    an exception, or calling :meth:`abort`, does **not** complete it: what
    was written to ``dst`` is then a truncated message that every reader
    (sealbox or the AWS Encryption SDK) rejects. ``dst`` is flushed, and
    closed only if it was given as a path.
    """

    def __init__(self, dst: Any, native: _native.StreamEncryptor, owns_dst: bool = False) -> None:
        super().__init__()
        if not callable(getattr(dst, "write", None)):
            raise TypeError("dst must be a binary file object (with a write method) or a path")
        self._dst = dst
        self._native = native
        self._owns_dst = owns_dst
        self._done = False

    @property
    def algorithm_suite(self) -> AlgorithmSuite:
        """The algorithm suite the message is written with."""
        return AlgorithmSuite(self._native.algorithm_suite)

    def writable(self) -> bool:
        return True

    def _write_out(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._dst.write(view)
            # Buffered files write everything; a raw file may write less.
            if n is None:
                raise BlockingIOError("the destination is non-blocking and not ready")
            view = view[n:]

    def write(self, data: Buffer) -> int:
        if self.closed or self._done:
            raise InvalidState("write to a closed encrypting stream")
        ct = self._native.update(data)
        if ct:
            self._write_out(ct)
        return memoryview(data).nbytes

    def flush(self) -> None:
        if not self.closed:
            flush = getattr(self._dst, "flush", None)
            if flush is not None:
                flush()

    def close(self) -> None:
        """Completes the message (final frame, signature) and flushes."""
        if self.closed:
            return
        try:
            if not self._done:
                self._done = True
                self._write_out(self._native.finish())
                self.flush()
        finally:
            self._release()

    def abort(self) -> None:
        """Closes without completing the message (see the class doc)."""
        if self.closed:
            return
        self._done = True
        self._release()

    def _release(self) -> None:
        try:
            super().close()  # flushes dst first
        finally:
            if self._owns_dst:
                self._dst.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:
        # io.IOBase would close() here, completing a message the program
        # may have abandoned half-way (an error between two writes): a
        # truncated plaintext would then decrypt as if whole. An unclosed
        # writer is aborted instead.
        if "_native" in self.__dict__ and not self.closed:
            warnings.warn(
                "an EncryptingWriter was never closed: its message is incomplete",
                ResourceWarning,
                stacklevel=2,
            )
            self.abort()


class DecryptingReader(io.BufferedIOBase):
    """A readable binary stream of the plaintext of the message in ``src``:
    what :func:`open_decryptor` returns. Supports ``read``, ``read1``,
    ``readinto``, iteration (lines, as any binary file) and ``with``.

    Plaintext is released frame by frame, each frame authenticated; the
    end of the message (and the signature of signed suites) is checked
    when ``src`` is exhausted, so the read that reaches the end raises
    :class:`~sealbox.DecryptionFailed` if the message is truncated,
    extended or forged. Until then, treat what you read as provisional
    (for example, write it to a temporary file and rename it only after
    the end). ``src`` is closed only if it was given as a path.
    """

    def __init__(self, src: Any, native: _native.StreamDecryptor, owns_src: bool = False) -> None:
        super().__init__()
        if not callable(getattr(src, "read", None)):
            raise TypeError("src must be a binary file object (with a read method) or a path")
        self._src = src
        self._native = native
        self._owns_src = owns_src
        self._buf = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        """One step: read a chunk of ``src`` and decrypt it."""
        chunk = self._src.read(READ_CHUNK)
        if chunk is None:
            raise BlockingIOError("the source is non-blocking and not ready")
        if chunk:
            self._buf += self._native.update(chunk)
        else:
            self._eof = True
            self._buf += self._native.finish()

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        if size is None or size < 0:
            while not self._eof:
                self._fill()
            return self._take(len(self._buf))
        while len(self._buf) < size and not self._eof:
            self._fill()
        return self._take(size)

    def read1(self, size: int = -1) -> bytes:
        self._check_open()
        while not self._buf and not self._eof:
            self._fill()
        return self._take(len(self._buf) if size < 0 else size)

    def readinto(self, buffer: Buffer) -> int:
        """Reads plaintext into ``buffer`` until it is full or the message
        ends; the number of bytes read (0 at the end)."""
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, buffer: Buffer) -> int:
        """Reads into ``buffer`` what one step of decryption gives (at
        most one read of ``src``); the number of bytes read (0 at the
        end)."""
        view = memoryview(buffer).cast("B")
        data = self.read1(len(view))
        view[: len(data)] = data
        return len(data)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed decrypting stream")

    def _read_header(self) -> None:
        while self._native.algorithm_suite is None and not self._eof:
            self._fill()

    @property
    def encryption_context(self) -> dict[str, str]:
        """The message's encryption context (reads the header if it has not
        been read yet)."""
        self._check_open()
        self._read_header()
        ec = self._native.encryption_context
        if ec is None:  # pragma: no cover - _read_header raises first
            raise InvalidState("the message has no header")
        return ec

    @property
    def algorithm_suite(self) -> AlgorithmSuite:
        """The algorithm suite of the message (reads the header if it has
        not been read yet)."""
        self._check_open()
        self._read_header()
        suite = self._native.algorithm_suite
        if suite is None:  # pragma: no cover - _read_header raises first
            raise InvalidState("the message has no header")
        return AlgorithmSuite(suite)

    def close(self) -> None:
        if self.closed or "_native" not in self.__dict__:
            return
        try:
            if self._buf:
                self._buf[:] = bytes(len(self._buf))
            if self._owns_src:
                self._src.close()
        finally:
            super().close()

    def __enter__(self) -> Self:
        return self


def open_encryptor(
    dst: IO[bytes] | str | os.PathLike[str],
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    frame_length: int = _native.DEFAULT_FRAME_LENGTH,
    algorithm_suite: AlgorithmSuite | int | None = None,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    required_encryption_context_keys: Sequence[str] | None = None,
    plaintext_length: int | None = None,
    threads: int | None = None,
) -> EncryptingWriter:
    """Opens a stream that encrypts what is written to it into ``dst`` (a
    binary file object, or a path to create), in constant memory.

    ``with open_encryptor(f, keyring=kr) as w: w.write(data)`` -- the
    message is completed when the block ends normally (see
    :class:`EncryptingWriter` for what an exception does).
    ``plaintext_length``, when known, lets a caching materials manager
    count bytes (without it, the caching manager does not cache).
    """
    options = _native.EncryptOptions(
        keyring=keyring, materials_manager=materials_manager, encryption_context=encryption_context,
        algorithm_suite=algorithm_suite, frame_length=frame_length, commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys,
        required_encryption_context_keys=required_encryption_context_keys, threads=threads)
    native = _native.StreamEncryptor(options, plaintext_length)
    target, owned = _open_target(dst, "wb")
    try:
        return EncryptingWriter(target, native, owned)
    except BaseException:
        if owned:
            target.close()
        raise


def open_decryptor(
    src: IO[bytes] | str | os.PathLike[str],
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    max_body_size: int | None = None,
    threads: int | None = None,
) -> DecryptingReader:
    """Opens a stream of the plaintext of the message in ``src`` (a binary
    file object, or a path), decrypted in constant memory. See
    :class:`DecryptingReader` for when the message counts as verified."""
    options = _native.DecryptOptions(
        keyring=keyring, materials_manager=materials_manager, encryption_context=encryption_context,
        commitment_policy=commitment_policy, max_encrypted_data_keys=max_encrypted_data_keys,
        max_body_size=max_body_size, threads=threads)
    native = _native.StreamDecryptor(options)
    source, owned = _open_target(src, "rb")
    try:
        return DecryptingReader(source, native, owned)
    except BaseException:
        if owned:
            source.close()
        raise


@dataclasses.dataclass(frozen=True)
class RewrapSummary:
    """What :func:`rewrap_stream` did."""

    #: The message's algorithm suite (a rewrap keeps it).
    algorithm_suite: AlgorithmSuite
    #: The new message's full encryption context (signed suites: with its
    #: new ``aws-crypto-public-key``).
    encryption_context: dict[str, str]
    #: Bytes of the message read.
    bytes_in: int
    #: Bytes of the new message written.
    bytes_out: int
    #: The old and the new header's length in bytes.
    header_lengths: tuple[int, int]
    #: How many encrypted data keys the new message carries.
    encrypted_data_keys: int
    #: Whether the message was signed again (signed suites).
    resigned: bool

    @classmethod
    def _of(cls, t: tuple[int, dict[str, str], int, int, tuple[int, int], int, bool]) -> RewrapSummary:
        suite, ec, bytes_in, bytes_out, header_lengths, edks, resigned = t
        return cls(AlgorithmSuite(suite), ec, bytes_in, bytes_out, header_lengths, edks, resigned)


def _opening(
    decrypt_with: Keyring | MaterialsManager,
    encryption_context: Mapping[str, str] | None,
    commitment_policy: str | None,
    max_encrypted_data_keys: int | None,
    max_body_size: int | None,
) -> _native.DecryptOptions:
    if isinstance(decrypt_with, _native.MaterialsManager):
        which: dict[str, Any] = {"materials_manager": decrypt_with}
    elif isinstance(decrypt_with, _native.Keyring):
        which = {"keyring": decrypt_with}
    else:
        raise TypeError("decrypt_with must be a sealbox keyring or materials manager")
    return _native.DecryptOptions(
        encryption_context=encryption_context, commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys, max_body_size=max_body_size, **which)


def rewrap(
    message: Buffer,
    *,
    decrypt_with: Keyring | MaterialsManager,
    encrypt_with: Keyring,
    encryption_context: Mapping[str, str] | None = None,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    max_body_size: int | None = None,
) -> bytes:
    """Gives a message new encrypted data keys without re-encrypting it.

    The data key is unwrapped with ``decrypt_with`` (options as for
    :func:`decrypt`: ``encryption_context`` must hold) and wrapped again by
    ``encrypt_with``; only ``encrypt_with``'s keys open the result. The
    header is rewritten and authenticated again and the body is copied
    unchanged; signed suites are signed again after their old signature
    verified. Use it after a master-key rotation, to move data to another
    key or store, or to drop a recipient. The result decrypts with any AWS
    Encryption SDK that has the new keys. ``max_encrypted_data_keys`` limits
    both the message read and the one written.
    """
    options = _opening(decrypt_with, encryption_context, commitment_policy,
                       max_encrypted_data_keys, max_body_size)
    out, _ = _native.rewrap(message, options, encrypt_with, max_encrypted_data_keys)
    return out


def rewrap_stream(
    src: IO[bytes] | str | os.PathLike[str],
    dst: IO[bytes] | str | os.PathLike[str],
    *,
    decrypt_with: Keyring | MaterialsManager,
    encrypt_with: Keyring,
    encryption_context: Mapping[str, str] | None = None,
    commitment_policy: str | None = None,
    max_encrypted_data_keys: int | None = _native.DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    max_body_size: int | None = None,
) -> RewrapSummary:
    """:func:`rewrap` from ``src`` to ``dst`` in constant memory.

    Each is a binary file object or a path. A ``dst`` path is written to a
    temporary file beside it, flushed to disk and renamed into place only
    when the whole message was rewrapped (on an error it is removed and an
    existing file stays as it was); ``dst`` may be the same path as ``src``
    to rewrap a file in place. A ``dst`` file object receives bytes as they
    are ready: on an error, what it received is not a message.
    """
    options = _opening(decrypt_with, encryption_context, commitment_policy,
                       max_encrypted_data_keys, max_body_size)
    native = _native.StreamRewrapper(options, encrypt_with, max_encrypted_data_keys)
    source, owns_source = _open_target(src, "rb")
    try:
        if not isinstance(dst, (str, os.PathLike)):
            return _pump_rewrap(source, dst, native)
        final = os.fspath(dst)
        directory = os.path.dirname(os.path.abspath(final))
        import tempfile

        fd, temp = tempfile.mkstemp(prefix=".sealbox-rewrap-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(src, (str, os.PathLike)) and os.path.exists(final):
                    os.chmod(temp, os.stat(final).st_mode & 0o7777)
                summary = _pump_rewrap(source, out, native)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return summary
    finally:
        if owns_source:
            source.close()


def _pump_rewrap(source: Any, out: Any, native: _native.StreamRewrapper) -> RewrapSummary:
    while True:
        chunk = source.read(READ_CHUNK * 4)
        if not chunk:
            break
        ready = native.update(chunk)
        if ready:
            out.write(ready)
    return RewrapSummary._of(native.finish())
