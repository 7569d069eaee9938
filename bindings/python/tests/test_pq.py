"""The post-quantum keyring (``sealbox-pq``) against an independent
implementation: X-Wing written here over pyca ``cryptography``'s ML-KEM-768
and X25519 and hashlib's SHA-3, the wrap over pyca's HKDF and AES-GCM
(docs/FORMAT.md, "Post-quantum keyring"), plugged into the AWS Encryption
SDK for Python as a master key. Messages go both ways: sealbox writes, the
AWS SDK reads with the pyca key; the AWS SDK writes with the pyca key,
sealbox reads."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import attr
import aws_encryption_sdk
import pytest
from aws_encryption_sdk import Algorithm, CommitmentPolicy
from aws_encryption_sdk.internal.formatting.encryption_context import serialize_encryption_context
from aws_encryption_sdk.key_providers.base import MasterKey, MasterKeyConfig
from aws_encryption_sdk.structures import DataKey, EncryptedDataKey, MasterKeyInfo, RawDataKey
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import sealbox
from sealbox import AlgorithmSuite

LABEL = b"\\.//^\\"
EC = {"tenant": "acme", "purpose": "post-quantum"}

# ---------------------------------------------------------------- X-Wing --


def xwing_expand(seed: bytes) -> tuple[MLKEM768PrivateKey, X25519PrivateKey, bytes]:
    """The ML-KEM and X25519 keys of an X-Wing seed, and the public key."""
    expanded = hashlib.shake_256(seed).digest(96)
    mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x25519 = X25519PrivateKey.from_private_bytes(expanded[64:])
    public = mlkem.public_key().public_bytes_raw() + x25519.public_key().public_bytes_raw()
    return mlkem, x25519, public


def combine(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + LABEL).digest()


def xwing_encapsulate(public: bytes) -> tuple[bytes, bytes]:
    pk_m, pk_x = public[:1184], public[1184:]
    ss_m, ct_m = MLKEM768PublicKey.from_public_bytes(pk_m).encapsulate()
    ephemeral = X25519PrivateKey.generate()
    ct_x = ephemeral.public_key().public_bytes_raw()
    ss_x = ephemeral.exchange(X25519PublicKey.from_public_bytes(pk_x))
    return ct_m + ct_x, combine(ss_m, ss_x, ct_x, pk_x)


def xwing_decapsulate(seed: bytes, ct: bytes) -> bytes:
    mlkem, x25519, public = xwing_expand(seed)
    ss_m = mlkem.decapsulate(ct[:1088])
    ss_x = x25519.exchange(X25519PublicKey.from_public_bytes(ct[1088:]))
    return combine(ss_m, ss_x, ct[1088:], public[1184:])


# ------------------------------------------------------ the sealbox-pq wrap --


def provider_info(public: bytes) -> bytes:
    return b"\x01" + hashlib.sha256(public).digest()


def wrapping_key(shared: bytes, info: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sealbox-pq v1\x00" + info).derive(shared)
    return AESGCM(key)


@attr.s(hash=True)
class PqMasterKeyConfig(MasterKeyConfig):  # type: ignore[misc]
    provider_id = "sealbox-pq"
    public_key: bytes = attr.ib(hash=True, validator=attr.validators.instance_of(bytes))
    seed: bytes | None = attr.ib(hash=True, default=None)


class PqMasterKey(MasterKey):  # type: ignore[misc]
    """sealbox-pq in pyca, as an AWS Encryption SDK master key."""

    provider_id = "sealbox-pq"
    _config_class = PqMasterKeyConfig

    def owns_data_key(self, data_key: Any) -> bool:
        return bool(data_key.key_provider == self.key_provider)

    def _generate_data_key(self, algorithm: Any, encryption_context: dict[str, str]) -> Any:
        plaintext = os.urandom(algorithm.kdf_input_len)
        edk = self._encrypt_data_key(RawDataKey(key_provider=self.key_provider, data_key=plaintext), algorithm, encryption_context)
        return DataKey(key_provider=edk.key_provider, data_key=plaintext, encrypted_data_key=edk.encrypted_data_key)

    def _encrypt_data_key(self, data_key: Any, algorithm: Any, encryption_context: dict[str, str]) -> Any:
        ct, shared = xwing_encapsulate(self.config.public_key)
        aad = serialize_encryption_context(encryption_context)
        sealed = wrapping_key(shared, self.key_id).encrypt(bytes(12), data_key.data_key, aad)
        return EncryptedDataKey(key_provider=self.key_provider, encrypted_data_key=ct + sealed)

    def _decrypt_data_key(self, encrypted_data_key: Any, algorithm: Any, encryption_context: dict[str, str]) -> Any:
        blob = encrypted_data_key.encrypted_data_key
        shared = xwing_decapsulate(self.config.seed, blob[:1120])
        aad = serialize_encryption_context(encryption_context)
        plaintext = wrapping_key(shared, self.key_id).decrypt(bytes(12), blob[1120:], aad)
        return DataKey(key_provider=self.key_provider, data_key=plaintext, encrypted_data_key=blob)


def pyca_master_key(public: bytes, seed: bytes | None = None) -> PqMasterKey:
    return PqMasterKey(key_id=provider_info(public), public_key=public, seed=seed)


@pytest.fixture(scope="module")
def client() -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)


# ------------------------------------------------------------------ tests --


def test_keys_agree_with_pyca() -> None:
    private, public = sealbox.PqKeyring.generate_key_pair()
    assert isinstance(private, bytearray) and len(private) == 32 and len(public) == 1216
    assert xwing_expand(bytes(private))[2] == public
    keyring = sealbox.PqKeyring(private_key=private)
    assert keyring.public_key == public
    assert keyring.key_id == hashlib.sha256(public).digest()
    seed = os.urandom(32)
    assert sealbox.PqKeyring(private_key=seed).public_key == xwing_expand(seed)[2]


SUITES = {
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}


@pytest.mark.parametrize("suite", list(SUITES))
def test_sealbox_to_pyca_and_back(client: Any, suite: AlgorithmSuite) -> None:
    private, public = sealbox.PqKeyring.generate_key_pair()
    plaintext = os.urandom(5000)
    # sealbox encapsulates; the AWS SDK decrypts with the pyca master key.
    ct = sealbox.encrypt(plaintext, keyring=sealbox.PqKeyring(public_key=public), encryption_context=EC, algorithm_suite=suite)
    got, header = client.decrypt(source=ct, key_provider=pyca_master_key(public, bytes(private)))
    assert got == plaintext
    assert header.encrypted_data_keys.pop().key_provider.provider_id == "sealbox-pq"
    # pyca encapsulates (through the AWS SDK); sealbox decrypts.
    aws_ct, _ = client.encrypt(
        source=plaintext, key_provider=pyca_master_key(public), encryption_context=EC, algorithm=SUITES[suite]
    )
    result = sealbox.decrypt(aws_ct, keyring=sealbox.PqKeyring(private_key=private), encryption_context=EC)
    assert result.plaintext == plaintext
    # Another key pair opens neither.
    other, _ = sealbox.PqKeyring.generate_key_pair()
    for message in (ct, aws_ct):
        with pytest.raises(sealbox.DecryptionFailed):
            sealbox.decrypt(message, keyring=sealbox.PqKeyring(private_key=other))


def test_tampered_encapsulations_are_refused(client: Any) -> None:
    private, public = sealbox.PqKeyring.generate_key_pair()
    ct, shared = xwing_encapsulate(public)
    # sealbox's key decapsulates what pyca made (checked through a whole
    # message below); pyca refuses what a changed byte makes.
    for at in (0, 700, 1087, 1088, 1119):
        bad = bytearray(ct)
        bad[at] ^= 1
        try:
            assert xwing_decapsulate(bytes(private), bytes(bad)) != shared
        except ValueError:
            pass  # pyca refuses a low-order X25519 point outright
    aws_ct, _ = client.encrypt(source=b"pq", key_provider=pyca_master_key(public), encryption_context=EC)
    keyring = sealbox.PqKeyring(private_key=private)
    assert sealbox.decrypt(aws_ct, keyring=keyring).plaintext == b"pq"
    # Every tenth byte of the message flipped: refused, never a wrong plaintext.
    for at in range(0, len(aws_ct), 10):
        bad = bytearray(aws_ct)
        bad[at] ^= 0x20
        with pytest.raises(sealbox.SealboxError):
            sealbox.decrypt(bytes(bad), keyring=keyring)


def test_multi_keyring_with_raw_aes_decrypts_with_either(client: Any) -> None:
    from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
    from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
    from aws_encryption_sdk.key_providers.raw import RawMasterKey

    private, public = sealbox.PqKeyring.generate_key_pair()
    aes_key = os.urandom(32)
    aes = sealbox.RawAesKeyring("ns", "aes", aes_key)
    multi = sealbox.MultiKeyring(aes, [sealbox.PqKeyring(public_key=public)])
    ct = sealbox.encrypt(b"either way", keyring=multi, encryption_context=EC)
    assert sealbox.decrypt(ct, keyring=aes).plaintext == b"either way"
    assert sealbox.decrypt(ct, keyring=sealbox.PqKeyring(private_key=private)).plaintext == b"either way"
    # The AWS SDK reads it through the AES key alone (it skips sealbox-pq)...
    aws_aes = RawMasterKey(
        provider_id="ns",
        key_id=b"aes",
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=aes_key,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )
    assert client.decrypt(source=ct, key_provider=aws_aes)[0] == b"either way"
    # ... and through the PQ key alone, with the pyca implementation.
    assert client.decrypt(source=ct, key_provider=pyca_master_key(public, bytes(private)))[0] == b"either way"


def test_bad_keys() -> None:
    private, public = sealbox.PqKeyring.generate_key_pair()
    other, _ = sealbox.PqKeyring.generate_key_pair()
    for kwargs in (
        {},
        {"public_key": public[:-1]},
        {"private_key": bytes(31)},
        {"public_key": public, "private_key": other},
    ):
        with pytest.raises(sealbox.InvalidKey):
            sealbox.PqKeyring(**kwargs)
    with pytest.raises(TypeError):
        sealbox.PqKeyring(public_key="text")  # type: ignore[arg-type]
    encrypt_only = sealbox.PqKeyring(public_key=public)
    ct = sealbox.encrypt(b"x", keyring=encrypt_only)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(ct, keyring=encrypt_only)
