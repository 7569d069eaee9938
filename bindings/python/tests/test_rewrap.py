"""sealbox.rewrap / rewrap_stream: new encrypted data keys for a message
without re-encrypting its body; the result decrypts with the AWS
Encryption SDK for Python, a message written by that SDK can be rewrapped,
and a dropped recipient can no longer open it."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import AesWrappingAlg, CreateRawAesKeyringInput
from aws_encryption_sdk import CommitmentPolicy

import sealbox
from sealbox import AlgorithmSuite

NS = "sealbox-rewrap"
OLD, NEW = bytes(range(32)), bytes(range(32, 64))
EC = {"tenant": "acme"}
SUITES = [
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
]


@pytest.fixture(scope="module")
def client() -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


def aws_keyring(name: str, key: bytes) -> Any:
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return mpl.create_raw_aes_keyring(
        CreateRawAesKeyringInput(
            key_namespace=NS, key_name=name, wrapping_key=key, wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16
        )
    )


def old() -> sealbox.RawAesKeyring:
    return sealbox.RawAesKeyring(NS, "old", OLD)


def new() -> sealbox.RawAesKeyring:
    return sealbox.RawAesKeyring(NS, "new", NEW)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("size", [0, 1, 4096, 300_000])
def test_rewrapped_message_decrypts_with_the_aws_sdk(client: Any, suite: AlgorithmSuite, size: int) -> None:
    pt = os.urandom(size)
    ct = sealbox.encrypt(pt, keyring=old(), encryption_context=EC, algorithm_suite=suite)
    re = sealbox.rewrap(ct, decrypt_with=old(), encrypt_with=new(), encryption_context=EC)
    out, header = client.decrypt(source=re, keyring=aws_keyring("new", NEW), encryption_context=EC)
    assert out == pt and header.algorithm.algorithm_id == int(suite)
    with pytest.raises(Exception):
        client.decrypt(source=re, keyring=aws_keyring("old", OLD))
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(re, keyring=old())
    assert sealbox.decrypt(re, keyring=new()).plaintext == pt


@pytest.mark.parametrize("suite", SUITES)
def test_a_message_from_the_aws_sdk_rewrapped(client: Any, suite: AlgorithmSuite) -> None:
    from aws_encryption_sdk import Algorithm

    algorithm = {
        SUITES[0]: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        SUITES[1]: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    }[suite]
    pt = os.urandom(100_000)
    ct, _ = client.encrypt(source=pt, keyring=aws_keyring("old", OLD), encryption_context=EC, algorithm=algorithm)
    re = sealbox.rewrap(ct, decrypt_with=old(), encrypt_with=new())
    out, _ = client.decrypt(source=re, keyring=aws_keyring("new", NEW))
    assert out == pt


def test_body_unchanged_and_a_recipient_dropped() -> None:
    both = sealbox.MultiKeyring(generator=old(), children=[new()])
    pt = os.urandom(50_000)
    ct = sealbox.encrypt(pt, keyring=both, algorithm_suite=SUITES[0])
    assert sealbox.decrypt(ct, keyring=new()).plaintext == pt
    sink = io.BytesIO()
    summary = sealbox.rewrap_stream(io.BytesIO(ct), sink, decrypt_with=old(), encrypt_with=old())
    re = sink.getvalue()
    assert summary.encrypted_data_keys == 1 and not summary.resigned
    assert summary.bytes_in == len(ct) and summary.bytes_out == len(re)
    h_old, h_new = summary.header_lengths
    assert ct[h_old:] == re[h_new:], "the body is copied unchanged"
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(re, keyring=new())
    assert sealbox.decrypt(re, keyring=old()).plaintext == pt


def test_refusals() -> None:
    ct = sealbox.encrypt(b"x" * 5000, keyring=old(), encryption_context=EC, frame_length=512)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.rewrap(ct, decrypt_with=new(), encrypt_with=new())
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.rewrap(ct, decrypt_with=old(), encrypt_with=new(), encryption_context={"tenant": "other"})
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.rewrap(ct[:-1], decrypt_with=old(), encrypt_with=new())
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.rewrap(ct + b"\0", decrypt_with=old(), encrypt_with=new())
    with pytest.raises(TypeError):
        sealbox.rewrap(ct, decrypt_with="old", encrypt_with=new())  # type: ignore[arg-type]
    two = sealbox.MultiKeyring(children=[old(), new()])
    with pytest.raises(sealbox.TooManyEncryptedDataKeys):
        sealbox.rewrap(ct, decrypt_with=old(), encrypt_with=two, max_encrypted_data_keys=1)
    # A materials manager opens it too.
    cmm = sealbox.DefaultMaterialsManager(old())
    assert sealbox.decrypt(sealbox.rewrap(ct, decrypt_with=cmm, encrypt_with=new()), keyring=new()).plaintext == b"x" * 5000


def test_a_file_in_place_keeps_its_mode_and_a_failure_changes_nothing(tmp_path: Path) -> None:
    pt = os.urandom(1_000_000)
    f = tmp_path / "data.sbx"
    f.write_bytes(sealbox.encrypt(pt, keyring=old(), encryption_context=EC))
    f.chmod(0o640)
    before = f.read_bytes()
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.rewrap_stream(f, f, decrypt_with=new(), encrypt_with=new())
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["data.sbx"], "no temporary file left"
    summary = sealbox.rewrap_stream(str(f), str(f), decrypt_with=old(), encrypt_with=new(), encryption_context=EC)
    assert summary.encryption_context["tenant"] == "acme"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert sealbox.decrypt(f.read_bytes(), keyring=new()).plaintext == pt
    # Key-store keys: move from one key to another, then disable the first.
    ks = sealbox.KeyStore.open(tmp_path / "keys.db", root_key=sealbox.RootKey.from_bytes(bytes(32)))
    a = ks.create_key().key_id
    b = ks.create_key().key_id
    ct = sealbox.encrypt(pt, keyring=sealbox.KeyStoreKeyring(ks, a))
    re = sealbox.rewrap(ct, decrypt_with=sealbox.KeyStoreKeyring(ks, a), encrypt_with=sealbox.KeyStoreKeyring(ks, b))
    ks.disable_key(a)
    assert sealbox.decrypt(re, keyring=sealbox.KeyStoreKeyring(ks, b)).plaintext == pt
    ks.verify_audit_log()
