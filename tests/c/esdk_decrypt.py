"""Decrypts a message written by tests/c/stream_large.c with the AWS
Encryption SDK for Python (streaming, its own raw AES master key), and
checks the plaintext against the original file by SHA-256.

    python esdk_decrypt.py MESSAGE ORIGINAL

Run by tests/c/run.sh with the interop virtualenv ($ROOT/.venv).
"""

from __future__ import annotations

import hashlib
import sys

import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

# The same key, namespace and name as stream_large.c.
WRAPPING_KEY = bytes([0x5E, 0xA1, 0xB0, 0xC5, *range(1, 29)])
CHUNK = 1 << 20


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def main() -> int:
    message, original = sys.argv[1], sys.argv[2]
    key = RawMasterKey(
        provider_id="sealbox-c-stream",
        key_id=b"aes-256",
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=WRAPPING_KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    h = hashlib.sha256()
    size = 0
    with open(message, "rb") as src, client.stream(mode="d", source=src, key_provider=key) as dec:
        for block in dec:
            h.update(block)
            size += len(block)
        header = dec.header
    suite = header.algorithm.algorithm_id
    context = dict(header.encryption_context)
    if suite != 0x0478:
        print(f"esdk_decrypt: suite 0x{suite:04x}, expected 0x0478", file=sys.stderr)
        return 1
    if context != {"purpose": "c-stream"}:
        print(f"esdk_decrypt: encryption context {context}", file=sys.stderr)
        return 1
    want = sha256_of(original)
    if h.hexdigest() != want:
        print(f"esdk_decrypt: SHA-256 {h.hexdigest()} != original {want}", file=sys.stderr)
        return 1
    print(f"esdk_decrypt: AWS Encryption SDK for Python decrypted {size} bytes; SHA-256 matches the original ({want[:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
