"""One-shot envelope encryption: keyrings, materials managers, suites,
policies, limits, and input of every buffer type and size."""

from __future__ import annotations

import copy
import os
import pickle
import struct
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import sealbox
from sealbox import AlgorithmSuite

EC = {"tenant": "acme", "purpose": "tests"}
PUBLIC_KEY_FIELD = "aws-crypto-public-key"


def header_suite(message: bytes) -> int:
    """The suite ID in the message header (version 2: after the version byte)."""
    version = message[0]
    return int(struct.unpack(">H", message[1:3])[0]) if version == 2 else int(struct.unpack(">H", message[2:4])[0])


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 16383, 16384, 16385, 100_000])
def test_round_trip_sizes(aes_keyring: sealbox.RawAesKeyring, size: int) -> None:
    pt = os.urandom(size)
    ct = sealbox.encrypt(pt, keyring=aes_keyring, encryption_context=EC)
    assert isinstance(ct, bytes) and header_suite(ct) == 0x0478
    res = sealbox.decrypt(ct, keyring=aes_keyring, encryption_context=EC)
    assert res.plaintext == pt and res.encryption_context == EC
    assert res.algorithm_suite is AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    assert f"<{size} bytes>" in repr(res)


def test_decrypt_result(aes_keyring: sealbox.RawAesKeyring) -> None:
    """The result is immutable, compares by its three fields, and carries
    the suite as an AlgorithmSuite member for every suite."""
    for suite in (AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, AlgorithmSuite.AES_128_GCM_IV12_TAG16):
        ct = sealbox.encrypt(b"x", keyring=aes_keyring, encryption_context=EC, algorithm_suite=suite,
                             commitment_policy="FORBID_ENCRYPT_ALLOW_DECRYPT" if suite < 0x0478 else None)
        res = sealbox.decrypt(ct, keyring=aes_keyring, commitment_policy="REQUIRE_ENCRYPT_ALLOW_DECRYPT")
        assert isinstance(res, sealbox.DecryptResult)
        assert res.algorithm_suite is suite and isinstance(res.algorithm_suite, AlgorithmSuite)
        assert res == sealbox.decrypt(ct, keyring=aes_keyring, commitment_policy="REQUIRE_ENCRYPT_ALLOW_DECRYPT")
        assert res != sealbox.decrypt(sealbox.encrypt(b"y", keyring=aes_keyring, encryption_context=EC,
                                      algorithm_suite=suite,
                                      commitment_policy="FORBID_ENCRYPT_ALLOW_DECRYPT" if suite < 0x0478 else None),
                                      keyring=aes_keyring, commitment_policy="REQUIRE_ENCRYPT_ALLOW_DECRYPT")
        fields: object = (res.plaintext, res.encryption_context, res.algorithm_suite)
        assert res != fields
        assert res.encryption_context == EC
        assert repr(res) == (f"DecryptResult(plaintext=<1 bytes>, encryption_context={res.encryption_context!r}, "
                             f"algorithm_suite={suite!r})")
        with pytest.raises(AttributeError):
            res.plaintext = b"other"  # type: ignore[misc]
        assert pickle.loads(pickle.dumps(res)) == res and copy.copy(res) == res
        assert sealbox.DecryptResult(res.plaintext, res.encryption_context, res.algorithm_suite) == res
        assert res == mock.ANY
        match res:
            case sealbox.DecryptResult(b"x", ctx, s):
                assert ctx == EC and s is suite
            case _:
                pytest.fail("DecryptResult does not match positionally")


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("size", [10, 1024 * 1024])
def test_buffer_types(aes_keyring: sealbox.RawAesKeyring, mib_payload: bytes, kind: type, size: int) -> None:
    pt = mib_payload[:size]
    ct = sealbox.encrypt(kind(pt), keyring=aes_keyring)
    assert sealbox.decrypt(kind(ct), keyring=aes_keyring).plaintext == pt


def test_memoryview_slices_and_readonly(aes_keyring: sealbox.RawAesKeyring, mib_payload: bytes) -> None:
    big = bytearray(mib_payload)
    view = memoryview(big)[1000:500_000]
    ct = sealbox.encrypt(view.toreadonly(), keyring=aes_keyring)
    assert sealbox.decrypt(ct, keyring=aes_keyring).plaintext == mib_payload[1000:500_000]
    ct = sealbox.encrypt(memoryview(mib_payload)[5:], keyring=aes_keyring)
    assert sealbox.decrypt(ct, keyring=aes_keyring).plaintext == mib_payload[5:]


def test_signed_suite(aes_keyring: sealbox.RawAesKeyring) -> None:
    suite = AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
    ct = sealbox.encrypt(b"signed", keyring=aes_keyring, encryption_context=EC, algorithm_suite=suite)
    assert header_suite(ct) == 0x0578
    res = sealbox.decrypt(ct, keyring=aes_keyring)
    assert res.algorithm_suite is suite and res.plaintext == b"signed"
    assert PUBLIC_KEY_FIELD in res.encryption_context
    tampered = bytearray(ct)
    tampered[-5] ^= 0x40  # inside the signature
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(tampered, keyring=aes_keyring)
    # The raw suite number works too.
    assert header_suite(sealbox.encrypt(b"x", keyring=aes_keyring, algorithm_suite=0x0578)) == 0x0578


def test_tampering_and_wrong_inputs(aes_keyring: sealbox.RawAesKeyring, aes_key: bytes) -> None:
    ct = sealbox.encrypt(os.urandom(10_000), keyring=aes_keyring, encryption_context=EC)
    for pos in (5, len(ct) // 2, len(ct) - 1):
        bad = bytearray(ct)
        bad[pos] ^= 1
        with pytest.raises(sealbox.DecryptionFailed):
            sealbox.decrypt(bad, keyring=aes_keyring)
    for cut in (0, 1, 100, len(ct) - 1):
        with pytest.raises(sealbox.DecryptionFailed):
            sealbox.decrypt(ct[:cut], keyring=aes_keyring)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct + b"\x00", keyring=aes_keyring)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=aes_keyring, encryption_context={"tenant": "other"})
    wrong_key = sealbox.RawAesKeyring("sealbox-python-tests", "aes-key", bytes(32))
    wrong_name = sealbox.RawAesKeyring("sealbox-python-tests", "other-name", aes_key)
    for kr in (wrong_key, wrong_name):
        with pytest.raises(sealbox.DecryptionFailed) as e:
            sealbox.decrypt(ct, keyring=kr)
        # One opaque error: the same words whatever went wrong.
        assert str(e.value) == "decryption failed"


def test_bad_arguments(aes_keyring: sealbox.RawAesKeyring) -> None:
    with pytest.raises(TypeError):
        sealbox.encrypt("str", keyring=aes_keyring)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sealbox.encrypt(None, keyring=aes_keyring)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sealbox.decrypt(42, keyring=aes_keyring)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sealbox.encrypt(b"x", keyring="not a keyring")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sealbox.encrypt(b"x", keyring=aes_keyring, encryption_context={"k": b"bytes"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        sealbox.encrypt(b"x", keyring=aes_keyring, algorithm_suite=True)
    with pytest.raises(ValueError):
        sealbox.encrypt(b"x")
    with pytest.raises(ValueError):
        cmm = sealbox.DefaultMaterialsManager(aes_keyring)
        sealbox.encrypt(b"x", keyring=aes_keyring, materials_manager=cmm)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, algorithm_suite=0x9999)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, frame_length=0)
    with pytest.raises(OverflowError):
        sealbox.encrypt(b"x", keyring=aes_keyring, frame_length=-1)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, encryption_context={"aws-crypto-x": "reserved"})
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, commitment_policy="SOMETIMES")
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.encrypt(b"x", keyring=aes_keyring, required_encryption_context_keys=["missing"])
    with pytest.raises(TypeError):
        sealbox.encrypt(b"x", keyring=aes_keyring, required_encryption_context_keys="tenant")
    # Keyring construction.
    for bad_len in (0, 15, 33):
        with pytest.raises(sealbox.InvalidKey):
            sealbox.RawAesKeyring("ns", "name", bytes(bad_len))
    with pytest.raises(TypeError):
        sealbox.RawAesKeyring("ns", "name", "0" * 32)  # type: ignore[arg-type]
    with pytest.raises(sealbox.SealboxError):
        sealbox.RawAesKeyring("aws-kms", "name", bytes(32))
    with pytest.raises(sealbox.InvalidKey):
        sealbox.RawRsaKeyring("ns", "name")
    with pytest.raises(sealbox.InvalidKey):
        sealbox.RawRsaKeyring("ns", "name", public_key_pem="not a pem")
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.RawRsaKeyring("ns", "name", public_key_pem="x", padding="OAEP_MD5")
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.MultiKeyring()


def test_commitment_policy(aes_keyring: sealbox.RawAesKeyring) -> None:
    legacy = AlgorithmSuite.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
    with pytest.raises(sealbox.CommitmentPolicyViolation):
        sealbox.encrypt(b"x", keyring=aes_keyring, algorithm_suite=legacy)
    ct = sealbox.encrypt(
        b"old style",
        keyring=aes_keyring,
        algorithm_suite=legacy,
        commitment_policy=sealbox.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    )
    assert header_suite(ct) == 0x0378
    with pytest.raises(sealbox.CommitmentPolicyViolation):
        sealbox.decrypt(ct, keyring=aes_keyring)  # default policy: committing only
    res = sealbox.decrypt(ct, keyring=aes_keyring, commitment_policy="REQUIRE_ENCRYPT_ALLOW_DECRYPT")
    assert res.plaintext == b"old style" and res.algorithm_suite is legacy


def test_required_encryption_context_keys(aes_keyring: sealbox.RawAesKeyring) -> None:
    ct = sealbox.encrypt(
        b"x", keyring=aes_keyring, encryption_context=EC, required_encryption_context_keys=["tenant"]
    )
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=aes_keyring)
    res = sealbox.decrypt(ct, keyring=aes_keyring, encryption_context={"tenant": "acme"})
    assert res.encryption_context == EC


def rsa_pems() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode(), private


def test_rsa_and_multi_keyrings(aes_keyring: sealbox.RawAesKeyring) -> None:
    public, private = rsa_pems()
    enc_only = sealbox.RawRsaKeyring("ns", "rsa", public_key_pem=public)
    dec = sealbox.RawRsaKeyring("ns", "rsa", private_key_pem=private, padding=sealbox.RsaPadding.OAEP_SHA256_MGF1)
    ct = sealbox.encrypt(b"rsa", keyring=enc_only)
    assert sealbox.decrypt(ct, keyring=dec).plaintext == b"rsa"
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=enc_only)  # no private key

    # Generator AES plus an RSA recovery key: either one decrypts.
    multi = sealbox.MultiKeyring(generator=aes_keyring, children=[enc_only])
    ct = sealbox.encrypt(b"two ways", keyring=multi)
    assert sealbox.decrypt(ct, keyring=aes_keyring).plaintext == b"two ways"
    assert sealbox.decrypt(ct, keyring=dec).plaintext == b"two ways"
    decrypt_only = sealbox.MultiKeyring(children=[dec])
    assert sealbox.decrypt(ct, keyring=decrypt_only).plaintext == b"two ways"
    with pytest.raises(sealbox.SealboxError):
        sealbox.encrypt(b"x", keyring=decrypt_only)
    with pytest.raises(sealbox.TooManyEncryptedDataKeys) as e:
        sealbox.encrypt(b"x", keyring=multi, max_encrypted_data_keys=1)
    assert e.value.max == 1 and e.value.found == 2
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=aes_keyring, max_encrypted_data_keys=1)
    assert isinstance(multi, sealbox.Keyring) and isinstance(dec, sealbox.Keyring)


def test_key_store_keyring(store: sealbox.KeyStore) -> None:
    store.create_key(alias="alias/env")
    kr = store.keyring("alias/env")
    ct = sealbox.encrypt(b"via the key store", keyring=kr, encryption_context=EC)
    assert sealbox.decrypt(ct, keyring=kr, encryption_context=EC).plaintext == b"via the key store"
    assert store.operation_count("GenerateDataKey") == 1
    # The keyring of another constructor path works the same.
    same = sealbox.KeyStoreKeyring(store, "alias/env")
    assert sealbox.decrypt(ct, keyring=same).plaintext == b"via the key store"
    store.disable_key("alias/env")
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=kr)
    with pytest.raises(sealbox.KeyDisabled):
        sealbox.encrypt(b"x", keyring=kr)
    with pytest.raises(TypeError):
        sealbox.KeyStoreKeyring(object(), "alias/env")


def test_caching_materials_manager(soft_store: sealbox.KeyStore) -> None:
    soft_store.create_key(alias="alias/cached")
    cmm = sealbox.CachingMaterialsManager(
        soft_store.keyring("alias/cached"), max_age=60.0, max_messages=10, capacity=10
    )
    assert isinstance(cmm, sealbox.MaterialsManager)
    cts = [sealbox.encrypt(b"record %d" % i, materials_manager=cmm, encryption_context=EC) for i in range(25)]
    # 25 messages, at most 10 per data key: 3 data keys from the store.
    assert soft_store.operation_count("GenerateDataKey") == 3
    assert cmm.misses >= 3 and cmm.hits >= 22
    for i, ct in enumerate(cts):
        assert sealbox.decrypt(ct, materials_manager=cmm).plaintext == b"record %d" % i
    assert soft_store.operation_count("Decrypt") == 3
    cmm.clear()
    sealbox.encrypt(b"x", materials_manager=cmm, encryption_context=EC)
    assert soft_store.operation_count("GenerateDataKey") == 4
    # Different contexts never share data keys.
    sealbox.encrypt(b"x", materials_manager=cmm, encryption_context={"other": "ctx"})
    assert soft_store.operation_count("GenerateDataKey") == 5
    # Over another materials manager, and the limits checked.
    inner = sealbox.DefaultMaterialsManager(soft_store.keyring("alias/cached"))
    stacked = sealbox.CachingMaterialsManager(inner, max_age=1.0, max_bytes=10)
    ct = sealbox.encrypt(b"0123456789abcdef", materials_manager=stacked)
    assert sealbox.decrypt(ct, materials_manager=stacked).plaintext == b"0123456789abcdef"
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            sealbox.CachingMaterialsManager(inner, max_age=bad)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.CachingMaterialsManager(inner, max_age=1.0, capacity=0)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.CachingMaterialsManager(inner, max_age=1.0, max_messages=0)
    with pytest.raises(TypeError):
        sealbox.CachingMaterialsManager("keyring", max_age=1.0)  # type: ignore[arg-type]


def test_max_body_size(aes_keyring: sealbox.RawAesKeyring) -> None:
    ct = sealbox.encrypt(bytes(10_000), keyring=aes_keyring)
    with pytest.raises(sealbox.SealboxError):
        sealbox.decrypt(ct, keyring=aes_keyring, max_body_size=9_999)
    assert len(sealbox.decrypt(ct, keyring=aes_keyring, max_body_size=10_000).plaintext) == 10_000


def test_frame_lengths(aes_keyring: sealbox.RawAesKeyring) -> None:
    pt = os.urandom(10_000)
    for fl in (1, 100, 4096, 1 << 20):
        ct = sealbox.encrypt(pt, keyring=aes_keyring, frame_length=fl)
        assert sealbox.decrypt(ct, keyring=aes_keyring).plaintext == pt
