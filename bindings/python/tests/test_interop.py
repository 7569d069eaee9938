"""Interoperability with the AWS Encryption SDK for Python, in the same
process: its raw AES keyring (MPL) and raw master keys (legacy API) read
what sealbox writes, and sealbox reads what they write, with and without
the signing suite; also the raw RSA keyring, the three kinds of raw ECDH
keyring and sealbox's streams."""

from __future__ import annotations

import io
import os
from typing import Any

import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    AesWrappingAlg,
    CreateRawAesKeyringInput,
    CreateRawEcdhKeyringInput,
    CreateRawRsaKeyringInput,
    EphemeralPrivateKeyToStaticPublicKeyInput,
    PaddingScheme,
    PublicKeyDiscoveryInput,
    RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey,
    RawEcdhStaticConfigurationsPublicKeyDiscovery,
    RawEcdhStaticConfigurationsRawPrivateKeyToStaticPublicKey,
    RawPrivateKeyToStaticPublicKeyInput,
)
from aws_cryptography_primitives.smithygenerated.aws_cryptography_primitives.models import ECDHCurveSpec
from aws_encryption_sdk import Algorithm, CommitmentPolicy
from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import sealbox
from sealbox import AlgorithmSuite

NAMESPACE = "sealbox-python-interop"
NAME = "aes-wrapping-key"
EC = {"tenant": "acme", "purpose": "interop"}
PUBLIC_KEY_FIELD = "aws-crypto-public-key"
SUITES = {
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}
KEY = bytes(range(100, 132))


@pytest.fixture(scope="module")
def client() -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


@pytest.fixture(scope="module")
def mpl() -> Any:
    return AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())


@pytest.fixture(scope="module")
def aws_aes(mpl: Any) -> Any:
    return mpl.create_raw_aes_keyring(
        CreateRawAesKeyringInput(
            key_namespace=NAMESPACE, key_name=NAME, wrapping_key=KEY, wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16
        )
    )


def legacy_aes() -> RawMasterKey:
    return RawMasterKey(
        provider_id=NAMESPACE,
        key_id=NAME.encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


@pytest.fixture
def sealbox_aes() -> sealbox.RawAesKeyring:
    return sealbox.RawAesKeyring(NAMESPACE, NAME, KEY)


def expected_context(actual: dict[str, str], suite: AlgorithmSuite) -> None:
    extra = {k: v for k, v in actual.items() if k not in EC}
    assert {k: actual[k] for k in EC} == EC
    if suite is AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384:
        assert list(extra) == [PUBLIC_KEY_FIELD]
    else:
        assert extra == {}


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize("size", [0, 1024, 300_000])
def test_sealbox_to_aws(client: Any, aws_aes: Any, sealbox_aes: sealbox.RawAesKeyring, suite: AlgorithmSuite, size: int) -> None:
    pt = os.urandom(size)
    ct = sealbox.encrypt(pt, keyring=sealbox_aes, encryption_context=EC, algorithm_suite=suite)
    out, header = client.decrypt(source=ct, keyring=aws_aes, encryption_context=EC)
    assert out == pt and header.algorithm.algorithm_id == int(suite)
    # sealbox's default frame length (16 KiB, not the SDKs' 4096) is read
    # by the SDK: 300 kB is 18 frames of it and a final one.
    assert header.frame_length == 16384
    expected_context(dict(header.encryption_context), suite)
    out, header = client.decrypt(source=ct, key_provider=legacy_aes())
    assert out == pt


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize("size", [0, 1024, 300_000])
def test_aws_to_sealbox(client: Any, aws_aes: Any, sealbox_aes: sealbox.RawAesKeyring, suite: AlgorithmSuite, size: int) -> None:
    pt = os.urandom(size)
    ct, _ = client.encrypt(source=pt, keyring=aws_aes, encryption_context=EC, algorithm=SUITES[suite])
    res = sealbox.decrypt(ct, keyring=sealbox_aes, encryption_context=EC)
    assert res.plaintext == pt and res.algorithm_suite is suite
    expected_context(res.encryption_context, suite)
    ct, _ = client.encrypt(source=pt, key_provider=legacy_aes(), encryption_context=EC, algorithm=SUITES[suite])
    assert sealbox.decrypt(ct, keyring=sealbox_aes).plaintext == pt
    # Streamed by sealbox, in pieces.
    with sealbox.open_decryptor(io.BytesIO(ct), keyring=sealbox_aes) as r:
        assert b"".join(iter(lambda: r.read(7777), b"")) == pt


def test_sealbox_stream_to_aws(client: Any, aws_aes: Any, sealbox_aes: sealbox.RawAesKeyring) -> None:
    pt = os.urandom(3 * 1024 * 1024 + 17)
    sink = io.BytesIO()
    with sealbox.open_encryptor(sink, keyring=sealbox_aes, encryption_context=EC, frame_length=65536) as w:
        for off in range(0, len(pt), 500_000):
            w.write(memoryview(pt)[off : off + 500_000])
    out, _ = client.decrypt(source=sink.getvalue(), keyring=aws_aes, encryption_context=EC)
    assert out == pt


def test_tampered_messages_rejected_both_ways(client: Any, aws_aes: Any, sealbox_aes: sealbox.RawAesKeyring) -> None:
    ct = bytearray(sealbox.encrypt(b"x" * 5000, keyring=sealbox_aes, encryption_context=EC))
    ct[len(ct) // 2] ^= 1
    # The AWS SDK lets pyca's InvalidTag through for a bad frame.
    with pytest.raises((aws_encryption_sdk.exceptions.AWSEncryptionSDKClientError, InvalidTag)):
        client.decrypt(source=bytes(ct), keyring=aws_aes)
    aws_ct, _ = client.encrypt(source=b"y" * 5000, keyring=aws_aes, encryption_context=EC)
    bad = bytearray(aws_ct)
    bad[-10] ^= 1
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(bad, keyring=sealbox_aes)


def test_raw_rsa_both_ways(client: Any, mpl: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    aws_rsa = mpl.create_raw_rsa_keyring(
        CreateRawRsaKeyringInput(
            key_namespace=NAMESPACE,
            key_name="rsa",
            padding_scheme=PaddingScheme.OAEP_SHA256_MGF1,
            public_key=public_pem,
            private_key=private_pem,
        )
    )
    ours = sealbox.RawRsaKeyring(NAMESPACE, "rsa", public_key_pem=public_pem, private_key_pem=private_pem)
    ct = sealbox.encrypt(b"rsa wrapped", keyring=ours, encryption_context=EC)
    assert client.decrypt(source=ct, keyring=aws_rsa)[0] == b"rsa wrapped"
    aws_ct, _ = client.encrypt(source=b"from aws", keyring=aws_rsa, encryption_context=EC)
    assert sealbox.decrypt(aws_ct, keyring=ours, encryption_context=EC).plaintext == b"from aws"


ECDH_CURVES = {
    "ECC_NIST_P256": (ec.SECP256R1(), ECDHCurveSpec.ECC_NIST_P256),
    "ECC_NIST_P384": (ec.SECP384R1(), ECDHCurveSpec.ECC_NIST_P384),
    "ECC_NIST_P521": (ec.SECP521R1(), ECDHCurveSpec.ECC_NIST_P521),
}


def ec_pair(curve: ec.EllipticCurve) -> tuple[bytes, bytes]:
    """A key pair as the AWS library takes it: PKCS#8 PEM, SubjectPublicKeyInfo DER."""
    key = ec.generate_private_key(curve)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_der


@pytest.mark.parametrize("curve", sorted(ECDH_CURVES))
@pytest.mark.parametrize("suite", list(SUITES))
def test_raw_ecdh_all_three_schemes_both_ways(client: Any, mpl: Any, curve: str, suite: AlgorithmSuite) -> None:
    pyca_curve, aws_curve = ECDH_CURVES[curve]
    alice, alice_pub = ec_pair(pyca_curve)
    bob, bob_pub = ec_pair(pyca_curve)

    def aws(scheme: Any) -> Any:
        return mpl.create_raw_ecdh_keyring(CreateRawEcdhKeyringInput(curve_spec=aws_curve, key_agreement_scheme=scheme))

    aws_static = aws(
        RawEcdhStaticConfigurationsRawPrivateKeyToStaticPublicKey(
            RawPrivateKeyToStaticPublicKeyInput(sender_static_private_key=alice, recipient_public_key=bob_pub)
        )
    )
    aws_ephemeral = aws(
        RawEcdhStaticConfigurationsEphemeralPrivateKeyToStaticPublicKey(
            EphemeralPrivateKeyToStaticPublicKeyInput(recipient_public_key=bob_pub)
        )
    )
    aws_discovery = aws(
        RawEcdhStaticConfigurationsPublicKeyDiscovery(PublicKeyDiscoveryInput(recipient_static_private_key=bob))
    )
    S = sealbox.EcdhKeyAgreementScheme
    ours_static = sealbox.RawEcdhKeyring(S.RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, curve, private_key=alice, public_key=bob_pub)
    ours_ephemeral = sealbox.RawEcdhKeyring(S.EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, curve, public_key=bob_pub)
    ours_discovery = sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, curve, private_key=bob.decode())
    # Bob's static keyring towards Alice: the same pair the other way round.
    ours_reverse = sealbox.RawEcdhKeyring(S.RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, curve, private_key=bob, public_key=alice_pub)
    plaintext = os.urandom(3000)

    # sealbox writes, AWS reads: static (read by Bob's discovery keyring and
    # by Alice's own static one) and ephemeral (read by discovery).
    aws_readers: tuple[tuple[sealbox.Keyring, tuple[Any, ...]], ...] = (
        (ours_static, (aws_discovery, aws_static)),
        (ours_ephemeral, (aws_discovery,)),
    )
    for writer, readers in aws_readers:
        ct = sealbox.encrypt(plaintext, keyring=writer, encryption_context=EC, algorithm_suite=suite)
        for reader in readers:
            got, header = client.decrypt(source=ct, keyring=reader)
            assert got == plaintext
            expected_context(header.encryption_context, suite)
    # AWS writes, sealbox reads.
    ours_readers: tuple[tuple[Any, tuple[sealbox.Keyring, ...]], ...] = (
        (aws_static, (ours_discovery, ours_static, ours_reverse)),
        (aws_ephemeral, (ours_discovery,)),
    )
    for writer, readers in ours_readers:
        aws_ct, _ = client.encrypt(source=plaintext, keyring=writer, encryption_context=EC, algorithm=SUITES[suite])
        for reader in readers:
            assert sealbox.decrypt(aws_ct, keyring=reader, encryption_context=EC).plaintext == plaintext
    # Neither side reads what was wrapped to someone else.
    ct = sealbox.encrypt(plaintext, keyring=ours_ephemeral, encryption_context=EC, algorithm_suite=suite)
    stranger = aws(
        RawEcdhStaticConfigurationsPublicKeyDiscovery(PublicKeyDiscoveryInput(recipient_static_private_key=alice))
    )
    with pytest.raises(Exception):
        client.decrypt(source=ct, keyring=stranger)
    aws_ct, _ = client.encrypt(source=plaintext, keyring=aws_ephemeral, encryption_context=EC)
    with pytest.raises(sealbox.DecryptionFailed):
        sealbox.decrypt(aws_ct, keyring=sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, curve, private_key=alice))


def test_raw_ecdh_in_a_multi_keyring_with_raw_aes(client: Any, mpl: Any, aws_aes: Any, sealbox_aes: sealbox.RawAesKeyring) -> None:
    bob, bob_pub = ec_pair(ec.SECP384R1())
    S = sealbox.EcdhKeyAgreementScheme
    ephemeral = sealbox.RawEcdhKeyring(S.EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, "ECC_NIST_P384", public_key=bob_pub)
    ct = sealbox.encrypt(b"two ways in", keyring=sealbox.MultiKeyring(sealbox_aes, [ephemeral]), encryption_context=EC)
    aws_discovery = mpl.create_raw_ecdh_keyring(
        CreateRawEcdhKeyringInput(
            curve_spec=ECDHCurveSpec.ECC_NIST_P384,
            key_agreement_scheme=RawEcdhStaticConfigurationsPublicKeyDiscovery(
                PublicKeyDiscoveryInput(recipient_static_private_key=bob)
            ),
        )
    )
    assert client.decrypt(source=ct, keyring=aws_aes)[0] == b"two ways in"
    assert client.decrypt(source=ct, keyring=aws_discovery)[0] == b"two ways in"


def test_raw_ecdh_keyring_arguments() -> None:
    bob, bob_pub = ec_pair(ec.SECP256R1())
    S = sealbox.EcdhKeyAgreementScheme
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.RawEcdhKeyring("STATIC", "ECC_NIST_P256", private_key=bob, public_key=bob_pub)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, "ECC_SECG_P256K1", private_key=bob)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.RawEcdhKeyring(S.RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, "ECC_NIST_P256", private_key=bob)
    with pytest.raises(sealbox.InvalidKey):
        sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, "ECC_NIST_P384", private_key=bob)
    with pytest.raises(sealbox.InvalidKey):
        sealbox.RawEcdhKeyring(S.EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY, "ECC_NIST_P256", public_key=b"not a key")
    with pytest.raises(TypeError):
        sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, "ECC_NIST_P256", private_key=42)  # type: ignore[arg-type]
    discovery = sealbox.RawEcdhKeyring(S.PUBLIC_KEY_DISCOVERY, sealbox.EcdhCurveSpec.ECC_NIST_P256, private_key=bob)
    with pytest.raises(sealbox.EncryptFailed):
        sealbox.encrypt(b"x", keyring=discovery)
