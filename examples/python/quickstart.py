"""sealbox quickstart (Python): a key store in a local directory sealed by a
root key file, a key with an alias, and envelope encryption of bytes and of
a stream with it.

Run: make demo-python (installs the package into .venv first), or
     pip install ./bindings/python && python examples/python/quickstart.py
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import sealbox


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sealbox-quickstart-"))
    try:
        run(workdir)
    finally:
        shutil.rmtree(workdir)


def run(workdir: Path) -> None:
    root_key_file = workdir / "root.key"

    # 1. The root key: 32 random bytes in a file only its owner can read.
    #    (In production it comes from your secret manager.)
    sealbox.RootKey.generate().write_new_file(root_key_file)
    root_key = sealbox.RootKey.from_file(root_key_file)

    # 2. The key store: key metadata in SQLite, key material sealed under
    #    the root key, every operation in an HMAC-chained audit log.
    ks = sealbox.KeyStore.open(workdir / "keys.db", root_key=root_key)
    logging.basicConfig(level=logging.INFO, format="  audit: %(message)s", stream=sys.stdout)
    sealbox.audit_to_logging(ks)
    key = ks.create_key(alias="alias/orders", description="card numbers of the orders table")
    print(f"created key {key.key_id} ({key.key_spec}, alias {key.aliases[0]}) at {key.created_at:%Y-%m-%d %H:%M} UTC")

    # 3. Envelope encryption of bytes: a data key per message, wrapped by the
    #    key store; the encryption context is authenticated.
    keyring = ks.keyring("alias/orders")
    context = {"table": "orders", "order_id": "1234"}
    message = sealbox.encrypt(b"4111 1111 1111 1111", keyring=keyring, encryption_context=context)
    print(f"encrypted 19 bytes into a {len(message)}-byte message (AWS Encryption SDK format)")
    result = sealbox.decrypt(message, keyring=keyring, encryption_context=context)
    print(f"decrypted: {result.plaintext.decode()} (context {result.encryption_context})")
    try:
        sealbox.decrypt(message, keyring=keyring, encryption_context={"table": "orders", "order_id": "9999"})
    except sealbox.DecryptionFailed:
        print("the same message under another order id does not decrypt, as it should")

    # 4. A stream: a 3 MiB export encrypted in constant memory.
    export = os.urandom(3 * 1024 * 1024)
    sealed = workdir / "export.bin.sealed"
    with sealbox.open_encryptor(sealed, keyring=keyring, encryption_context={"file": "export.bin"}) as w:
        for offset in range(0, len(export), 256 * 1024):
            w.write(export[offset : offset + 256 * 1024])
    with sealbox.open_decryptor(sealed, keyring=keyring) as r:
        restored = io.BytesIO()
        while chunk := r.read(256 * 1024):
            restored.write(chunk)
    same = restored.getvalue() == export
    print(f"streamed 3 MiB into {sealed.stat().st_size} bytes and back: {'identical' if same else 'DIFFERENT'}")

    # 5. The audit log is intact.
    report = ks.verify_audit_log()
    print(f"audit log {ks.audit_log_path}: {report.records} records, {'verified' if report.ok else 'TAMPERED'}")
    if not (same and report.ok):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
