"""sealbox beside its peers, in one run: the AWS Encryption SDK for Python
(raw AES keyring of the Material Providers Library; committing suite
0x0478 without signing and 0x0578 with) and pyca/cryptography's AESGCM
(the lower bound: one AES-256-GCM call, no message format), for 1 KiB and
1 MiB messages. Prints operations per second and the ratios against the
targets of the Python package; reports, never fails.

Run: make bench-python (or .venv/bin/python bindings/python/bench/compare.py)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_encryption_sdk
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import AesWrappingAlg, CreateRawAesKeyringInput
from aws_encryption_sdk import Algorithm, CommitmentPolicy
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import sealbox
from sealbox import AlgorithmSuite

KIB, MIB = 1024, 1024 * 1024
SIZES = {"1 KiB": KIB, "1 MiB": MIB}
KEY = os.urandom(32)
EC = {"bench": "python"}
# Targets of the Python package (issue 6): sealbox at least this many times
# faster than the AWS SDK; pyca AESGCM at most this many times faster than
# sealbox (default crypto provider).
TARGET_VS_AWS = {"1 KiB": 20.0, "1 MiB": 10.0}
TARGET_VS_AESGCM = (3.0, 1.5)


def signing_floor_s(op: str, size: int) -> float | None:
    """Seconds that one 0x0578 message of `size` bytes cannot do without on
    the default provider (aws-lc): P-384 keygen + sign to encrypt,
    decompress + verify to decrypt, and SHA-384 over the message, as
    `make bench-envelope` measured them (core/benches/envelope.rs). None
    when that bench has not run."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parents[3] / "target"))
    floor = target / "criterion" / "envelope-aws-lc_signing_floor"

    def fastest_ns(bench_id: str) -> float | None:
        # The fastest of criterion's samples: a floor, not a typical time.
        try:
            d = json.loads((floor / bench_id / "new" / "sample.json").read_text())
            return float(min(t / n for t, n in zip(d["times"], d["iters"])))
        except (OSError, ValueError, KeyError, ZeroDivisionError):
            return None

    fixed = fastest_ns("p384-keygen-sign" if op == "encrypt" else "p384-decompress-verify")
    hash_ns = fastest_ns("sha384-1MiB")
    if fixed is None or hash_ns is None:
        return None
    return (fixed + hash_ns * size / MIB) / 1e9


def ops_per_second(fn: Callable[[], object], budget: float) -> float:
    """Best of three timed batches, each at least `budget` / 3 seconds."""
    fn()  # warm up
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget / 3:
                break
        best = max(best, n / elapsed)
    return best


def main() -> None:
    keyring = sealbox.RawAesKeyring("bench", "aes", KEY)
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    aws_keyring = mpl.create_raw_aes_keyring(
        CreateRawAesKeyringInput(
            key_namespace="bench", key_name="aes", wrapping_key=KEY, wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16
        )
    )
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    aesgcm = AESGCM(KEY)
    suites = {
        "0x0478": (AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY),
        "0x0578 (signed)": (
            AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
            Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        ),
    }

    rows: list[tuple[str, str, str, float, float, float]] = []
    verdicts: list[str] = []
    print(f"sealbox {sealbox.__version__} beside aws-encryption-sdk {aws_encryption_sdk.__version__} and pyca AESGCM")
    print("operations per second (best of 3); higher is better\n")
    header = f"{'size':<7} {'suite':<16} {'op':<8} {'sealbox':>12} {'AWS SDK':>12} {'sealbox/AWS':>12}"
    print(header)
    print("-" * len(header))
    sealbox_enc_0478: dict[str, float] = {}
    for label, size in SIZES.items():
        pt = os.urandom(size)
        budget = 1.5
        for sname, (ours, theirs) in suites.items():
            ct = sealbox.encrypt(pt, keyring=keyring, encryption_context=EC, algorithm_suite=ours)
            aws_ct, _ = client.encrypt(source=pt, keyring=aws_keyring, encryption_context=EC, algorithm=theirs)
            assert client.decrypt(source=ct, keyring=aws_keyring)[0] == pt
            assert sealbox.decrypt(aws_ct, keyring=keyring).plaintext == pt

            def s_enc() -> Any:
                return sealbox.encrypt(pt, keyring=keyring, encryption_context=EC, algorithm_suite=ours)

            def a_enc() -> Any:
                return client.encrypt(source=pt, keyring=aws_keyring, encryption_context=EC, algorithm=theirs)

            def s_dec() -> Any:
                return sealbox.decrypt(ct, keyring=keyring)

            def a_dec() -> Any:
                return client.decrypt(source=aws_ct, keyring=aws_keyring)

            for op, ours_fn, theirs_fn in (("encrypt", s_enc, a_enc), ("decrypt", s_dec, a_dec)):
                s = ops_per_second(ours_fn, budget)
                a = ops_per_second(theirs_fn, budget)
                ratio = s / a
                rows.append((label, sname, op, s, a, ratio))
                print(f"{label:<7} {sname:<16} {op:<8} {s:>12,.0f} {a:>12,.1f} {ratio:>11.1f}x")
                target = TARGET_VS_AWS[label]
                verdict = f"{'met    ' if ratio >= target else 'NOT met'}  sealbox >= {target:.0f}x AWS SDK, {label} {sname} {op}: {ratio:.1f}x"
                floor = signing_floor_s(op, size) if "signed" in sname else None
                if floor is not None:
                    # The AWS SDK's time over the floor: no implementation on
                    # AWS-LC's P-384 and SHA-384 on this machine does better.
                    verdict += f" (ceiling here {1 / (a * floor):.1f}x: P-384 and SHA-384 alone take {floor * 1e6:,.0f} us)"
                elif "signed" in sname:
                    verdict += " (run make bench-envelope for the ceiling set by P-384 and SHA-384)"
                verdicts.append(verdict)
                if sname == "0x0478" and op == "encrypt":
                    sealbox_enc_0478[label] = s

    print("\nlower bound: pyca/cryptography AESGCM.encrypt (one AES-256-GCM call, no message format)")
    for label, size in SIZES.items():
        pt = os.urandom(size)
        nonce = os.urandom(12)
        g = ops_per_second(lambda: aesgcm.encrypt(nonce, pt, None), 1.5)
        s = sealbox_enc_0478[label]
        slower = g / s
        print(f"{label:<7} AESGCM {g:>12,.0f} ops/s; sealbox encrypt 0x0478 {s:>10,.0f} ops/s: AESGCM is {slower:.2f}x faster")
        if label == "1 MiB":
            for target in TARGET_VS_AESGCM:
                verdicts.append(
                    f"{'met    ' if slower <= target else 'NOT met'}  sealbox within {target}x of pyca AESGCM, 1 MiB encrypt: {slower:.2f}x"
                )
    print("\ntargets (reported, not enforced):")
    for v in verdicts:
        print("  " + v)


if __name__ == "__main__":
    main()
