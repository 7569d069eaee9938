"""Every key-store operation, on the soft backend and on PKCS#11 (SoftHSM2),
with results checked independently (pyca/cryptography, hmac) where an
outside check exists."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

import sealbox
from sealbox import KeySpec, KeyState, KeyUsage, MessageType


def test_create_describe_list(store: sealbox.KeyStore, backend: str) -> None:
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
    m = store.create_key(alias="alias/orders", description="orders table", tags={"team": "payments"})
    assert isinstance(m, sealbox.KeyMetadata)
    assert m.key_spec is KeySpec.AES_256 and m.key_usage is KeyUsage.ENCRYPT_DECRYPT
    assert m.key_state is KeyState.ENABLED and m.enabled
    assert m.aliases == ("alias/orders",)
    assert m.description == "orders table" and m.tags == {"team": "payments"}
    assert m.backend == backend and store.backend_kind == backend
    assert m.created_at.tzinfo is not None and m.created_at >= before.replace(microsecond=0)
    assert [v.version for v in m.versions] == [1] and m.primary_version == 1
    assert store.describe_key("alias/orders") == m
    assert store.describe_key(m.key_id) == m
    assert store.resolve_key_id("alias/orders") == m.key_id

    other = store.create_key(spec="HMAC_256")
    assert other.key_usage is KeyUsage.GENERATE_VERIFY_MAC
    ids = {k.key_id for k in store.list_keys()}
    assert ids == {m.key_id, other.key_id}
    page = store.list_keys_page(limit=1)
    assert len(page.keys) == 1 and page.next_marker is not None
    rest = store.list_keys_page(limit=1, marker=page.next_marker)
    assert rest.next_marker is None
    assert {page.keys[0].key_id, rest.keys[0].key_id} == ids
    assert {k.key_id for k in store.iter_keys(page_size=1)} == ids


def test_lifecycle(store: sealbox.KeyStore) -> None:
    k = store.create_key(alias="alias/life").key_id
    ct = store.encrypt(k, b"secret")
    assert store.disable_key(k).key_state is KeyState.DISABLED
    with pytest.raises(sealbox.KeyDisabled):
        store.encrypt(k, b"x")
    with pytest.raises(sealbox.KeyDisabled):
        store.decrypt(ct)
    assert store.enable_key(k).key_state is KeyState.ENABLED
    assert store.decrypt(ct) == b"secret"

    m = store.schedule_key_deletion(k, pending_window_days=7)
    assert m.key_state is KeyState.PENDING_DELETION
    assert m.deletion_date is not None
    in_7_days = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
    assert abs((m.deletion_date - in_7_days).total_seconds()) < 60
    with pytest.raises(sealbox.InvalidKeyState):
        store.enable_key(k)
    with pytest.raises(sealbox.InvalidKeyState):
        store.schedule_key_deletion(k, pending_window_days=7)
    with pytest.raises(sealbox.InvalidArgument):
        store.schedule_key_deletion(store.create_key().key_id, pending_window_days=6)
    assert store.purge_expired_keys() == []
    assert store.cancel_key_deletion(k).key_state is KeyState.DISABLED
    with pytest.raises(sealbox.InvalidKeyState):
        store.cancel_key_deletion(k)
    store.enable_key(k)
    assert store.decrypt(ct) == b"secret"


def test_rotation(store: sealbox.KeyStore) -> None:
    k = store.create_key().key_id
    old = store.encrypt(k, b"before rotation", encryption_context={"a": "1"})
    assert store.rotate_key(k) == 2
    m = store.describe_key(k)
    assert m.primary_version == 2 and [v.version for v in m.versions] == [1, 2]
    new = store.encrypt(k, b"after")
    assert store.decrypt(old, encryption_context={"a": "1"}) == b"before rotation"
    assert store.decrypt(new) == b"after"

    m = store.enable_key_rotation(k, rotation_period_days=90)
    assert m.rotation_period_days == 90 and m.next_rotation_at is not None
    assert store.apply_due_rotations() == 0
    assert store.disable_key_rotation(k).rotation_period_days is None
    with pytest.raises(sealbox.InvalidArgument):
        store.enable_key_rotation(k, rotation_period_days=0)
    ecc = store.create_key(spec="ECC_NIST_P256").key_id
    with pytest.raises(sealbox.Unsupported):
        store.rotate_key(ecc)


def test_aliases_tags_description(store: sealbox.KeyStore) -> None:
    a = store.create_key().key_id
    b = store.create_key().key_id
    store.create_alias("alias/current", a)
    with pytest.raises(sealbox.AlreadyExists):
        store.create_alias("alias/current", b)
    with pytest.raises(sealbox.InvalidArgument):
        store.create_alias("no-prefix", a)
    with pytest.raises(sealbox.InvalidArgument):
        store.create_alias("alias/aws/reserved", a)
    assert store.list_aliases() == {"alias/current": a}
    store.update_alias("alias/current", b)
    assert store.resolve_key_id("alias/current") == b
    store.delete_alias("alias/current")
    assert store.list_aliases() == {}
    with pytest.raises(sealbox.KeyNotFound):
        store.delete_alias("alias/current")

    store.tag_key(a, {"env": "prod", "owner": "ops"})
    store.untag_key(a, ["owner"])
    assert store.describe_key(a).tags == {"env": "prod"}
    with pytest.raises(sealbox.InvalidArgument):
        store.tag_key(a, {"": "empty key"})
    with pytest.raises(TypeError):
        store.untag_key(a, "env")
    store.update_key_description(a, "new words")
    assert store.describe_key(a).description == "new words"


def test_direct_encrypt_decrypt(store: sealbox.KeyStore) -> None:
    k = store.create_key().key_id
    ec = {"tenant": "acme", "purpose": "test"}
    for pt in (b"", b"x", os.urandom(4096)):
        ct = store.encrypt(k, pt, encryption_context=ec)
        assert store.decrypt(ct, encryption_context=ec) == pt
    ct = store.encrypt(k, bytearray(b"from a bytearray"), encryption_context=ec)
    assert store.decrypt(memoryview(ct), encryption_context=ec) == b"from a bytearray"
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt(ct, encryption_context={"tenant": "other"})
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt(ct)
    tampered = bytearray(ct)
    tampered[-1] ^= 1
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt(tampered, encryption_context=ec)
    with pytest.raises(sealbox.InvalidArgument):
        store.encrypt(k, bytes(4097))
    with pytest.raises(sealbox.KeyNotFound):
        store.encrypt("alias/missing", b"x")


def test_re_encrypt(store: sealbox.KeyStore) -> None:
    a, b = store.create_key().key_id, store.create_key().key_id
    ct = store.encrypt(a, b"moving", encryption_context={"from": "a"})
    ct2 = store.re_encrypt(
        ct, b, source_encryption_context={"from": "a"}, destination_encryption_context={"to": "b"}
    )
    assert store.decrypt(ct2, encryption_context={"to": "b"}) == b"moving"
    with pytest.raises(sealbox.DecryptionFailed):
        store.re_encrypt(ct, b)


def test_data_keys(store: sealbox.KeyStore) -> None:
    k = store.create_key(alias="alias/dk").key_id
    ec = {"table": "orders"}
    dk = store.generate_data_key("alias/dk", encryption_context=ec)
    assert isinstance(dk.plaintext, bytearray) and len(dk.plaintext) == 32
    assert dk.key_id == k and dk.key_version == 1
    assert "plaintext=<32 bytes>" in repr(dk) and dk.plaintext.hex() not in repr(dk)
    assert store.decrypt(dk.ciphertext, encryption_context=ec) == bytes(dk.plaintext)
    with dk:
        pass
    assert dk.plaintext == bytearray(32)  # wiped
    assert len(store.generate_data_key(k, number_of_bytes=64).plaintext) == 64
    with pytest.raises(sealbox.InvalidArgument):
        store.generate_data_key(k, number_of_bytes=0)
    blob = store.generate_data_key_without_plaintext(k, encryption_context=ec, number_of_bytes=16)
    assert len(store.decrypt(blob, encryption_context=ec)) == 16
    sign_key = store.create_key(spec="ECC_NIST_P256").key_id
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.generate_data_key(sign_key)


def test_ecdsa_p384(store: sealbox.KeyStore) -> None:
    """ECC_NIST_P384 keys sign with ECDSA_SHA_384 only; pyca verifies their
    signatures (RAW and DIGEST), and a key pyca makes works after import."""
    k = store.create_key(spec=KeySpec.ECC_NIST_P384).key_id
    md = store.describe_key(k)
    assert (md.key_spec, md.key_usage) == (KeySpec.ECC_NIST_P384, KeyUsage.SIGN_VERIFY)
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp384r1"
    sig = store.sign(k, b"message", algorithm=sealbox.SigningAlgorithm.ECDSA_SHA_384)
    pub.verify(sig, b"message", ec.ECDSA(hashes.SHA384()))  # raises if bad
    digest = hashlib.sha384(b"message").digest()
    dsig = store.sign(k, digest, algorithm="ECDSA_SHA_384", message_type="DIGEST")
    pub.verify(dsig, b"message", ec.ECDSA(hashes.SHA384()))
    assert store.verify(k, b"message", sig, algorithm="ECDSA_SHA_384")
    assert not store.verify(k, b"messagE", sig, algorithm="ECDSA_SHA_384")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.sign(k, b"m", algorithm="ECDSA_SHA_256")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, digest[:32], algorithm="ECDSA_SHA_384", message_type="DIGEST")

    theirs = ec.generate_private_key(ec.SECP384R1())
    pkcs8 = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = store.import_key(pkcs8, spec="ECC_NIST_P384", usage="SIGN_VERIFY").key_id
    assert store.get_public_key(imported) == theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs_sig = theirs.sign(b"from pyca", ec.ECDSA(hashes.SHA384()))
    assert store.verify(imported, b"from pyca", theirs_sig, algorithm="ECDSA_SHA_384")
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(pkcs8, spec="ECC_NIST_P256", usage="SIGN_VERIFY")


def test_ecdsa_p521(store: sealbox.KeyStore) -> None:
    """ECC_NIST_P521 keys sign with ECDSA_SHA_512 only; pyca verifies, and a
    pyca key works after import."""
    k = store.create_key(spec=KeySpec.ECC_NIST_P521).key_id
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp521r1"
    sig = store.sign(k, b"message", algorithm=sealbox.SigningAlgorithm.ECDSA_SHA_512)
    pub.verify(sig, b"message", ec.ECDSA(hashes.SHA512()))
    digest = hashlib.sha512(b"message").digest()
    dsig = store.sign(k, digest, algorithm="ECDSA_SHA_512", message_type="DIGEST")
    pub.verify(dsig, b"message", ec.ECDSA(hashes.SHA512()))
    for other in ("ECDSA_SHA_256", "ECDSA_SHA_384"):
        with pytest.raises(sealbox.InvalidKeyUsage):
            store.sign(k, b"m", algorithm=other)
    theirs = ec.generate_private_key(ec.SECP521R1())
    pkcs8 = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = store.import_key(pkcs8, spec="ECC_NIST_P521", usage="SIGN_VERIFY").key_id
    theirs_sig = theirs.sign(b"from pyca", ec.ECDSA(hashes.SHA512()))
    assert store.verify(imported, b"from pyca", theirs_sig, algorithm="ECDSA_SHA_512")
    assert not store.verify(imported, b"from pycA", theirs_sig, algorithm="ECDSA_SHA_512")


def test_ecdsa_secp256k1(store: sealbox.KeyStore) -> None:
    """ECC_SECG_P256K1 keys sign with ECDSA_SHA_256 (AWS KMS's blockchain
    key spec); pyca verifies, and a pyca key works after import."""
    k = store.create_key(spec=KeySpec.ECC_SECG_P256K1).key_id
    assert store.describe_key(k).key_usage is KeyUsage.SIGN_VERIFY
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256k1"
    for message in (b"", b"tx", os.urandom(4096)):
        sig = store.sign(k, message, algorithm="ECDSA_SHA_256")
        pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))  # raises if bad
        assert store.verify(k, message, sig, algorithm="ECDSA_SHA_256")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.sign(k, b"m", algorithm="ECDSA_SHA_384")
    theirs = ec.generate_private_key(ec.SECP256K1())
    pkcs8 = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = store.import_key(pkcs8, spec="ECC_SECG_P256K1", usage="SIGN_VERIFY").key_id
    for _ in range(8):  # pyca's s is not normalized: high and low s both verify
        theirs_sig = theirs.sign(b"from pyca", ec.ECDSA(hashes.SHA256()))
        assert store.verify(imported, b"from pyca", theirs_sig, algorithm="ECDSA_SHA_256")
    for spec in ("ECC_NIST_P256", "ECC_NIST_P384"):
        with pytest.raises(sealbox.InvalidKey):
            store.import_key(pkcs8, spec=spec, usage="SIGN_VERIFY")


def test_ed25519(store: sealbox.KeyStore) -> None:
    """ECC_NIST_EDWARDS25519 keys sign the message itself with
    ED25519_SHA_512 (RAW only); pyca verifies, and a pyca key imported signs
    exactly as pyca does (Ed25519 is deterministic)."""
    k = store.create_key(spec=KeySpec.ECC_NIST_EDWARDS25519).key_id
    assert store.describe_key(k).key_usage is KeyUsage.SIGN_VERIFY
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    alg = sealbox.SigningAlgorithm.ED25519_SHA_512
    for message in (b"", b"tx", os.urandom(4096)):
        sig = store.sign(k, message, algorithm=alg)
        assert len(sig) == 64
        pub.verify(sig, message)  # raises if bad
        assert store.verify(k, message, sig, algorithm=alg)
        changed = bytes([message[0] ^ 1]) + message[1:] if message else b"x"
        assert not store.verify(k, changed, sig, algorithm=alg)
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, hashlib.sha512(b"m").digest(), algorithm=alg, message_type="DIGEST")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, os.urandom(4097), algorithm=alg)
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.sign(k, b"m", algorithm="ECDSA_SHA_512")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.create_key(spec="ECC_NIST_EDWARDS25519", usage="ENCRYPT_DECRYPT")
    theirs = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = store.import_key(pkcs8, spec="ECC_NIST_EDWARDS25519").key_id
    assert store.get_public_key(imported) == theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert store.sign(imported, b"from pyca", algorithm=alg) == theirs.sign(b"from pyca")
    assert store.verify(imported, b"from pyca", theirs.sign(b"from pyca"), algorithm=alg)
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(pkcs8, spec="ECC_NIST_P256")


_MldsaPrivate = type[mldsa.MLDSA44PrivateKey] | type[mldsa.MLDSA65PrivateKey] | type[mldsa.MLDSA87PrivateKey]
_MldsaPublic = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
_MLDSA: dict[str, tuple[_MldsaPrivate, type[_MldsaPublic]]] = {
    "ML_DSA_44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    "ML_DSA_65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    "ML_DSA_87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}


@pytest.mark.parametrize("spec", sorted(_MLDSA))
def test_mldsa(store: sealbox.KeyStore, backend: str, spec: str) -> None:
    """ML_DSA_* keys sign with ML_DSA_SHAKE_256, RAW or EXTERNAL_MU; pyca
    (an independent ML-DSA) verifies sealbox's signatures, computes the same
    μ, and a pyca key imported (RFC 9881 seed PKCS#8) has pyca's public key
    and verifies pyca's signatures. SoftHSM2 has no ML-DSA: a clear
    refusal."""
    private_cls, public_cls = _MLDSA[spec]
    alg = sealbox.SigningAlgorithm.ML_DSA_SHAKE_256
    if backend == "pkcs11":
        with pytest.raises(sealbox.UnsupportedByHsm) as e:
            store.create_key(spec=spec)
        assert e.value.mechanism == "CKM_ML_DSA_KEY_PAIR_GEN"
        seed_pkcs8 = private_cls.generate().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with pytest.raises(sealbox.UnsupportedByHsm):
            store.import_key(seed_pkcs8, spec=spec)
        assert store.list_keys() == []
        return
    k = store.create_key(spec=spec).key_id
    assert store.describe_key(k).key_usage is KeyUsage.SIGN_VERIFY
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey))
    assert isinstance(pub, public_cls)
    for message in (b"", b"tx", os.urandom(4096)):
        sig = store.sign(k, message, algorithm=alg)
        pub.verify(sig, message)  # raises if bad
        assert store.verify(k, message, sig, algorithm=alg)
        changed = bytes([message[0] ^ 1]) + message[1:] if message else b"x"
        assert not store.verify(k, changed, sig, algorithm=alg)
    # A message of any size: pyca's μ, signed by the key store as
    # EXTERNAL_MU, is pyca's signature of the whole message.
    big = os.urandom(100_000)
    hasher = mldsa.MLDSAMuHasher(pub, b"")
    hasher.update(big)
    mu = hasher.finalize()
    sig = store.sign(k, mu, algorithm=alg, message_type=MessageType.EXTERNAL_MU)
    pub.verify(sig, big)
    assert store.verify(k, mu, sig, algorithm=alg, message_type="EXTERNAL_MU")
    for bad in (mu[:63], mu + b"x"):
        with pytest.raises(sealbox.InvalidArgument):
            store.sign(k, bad, algorithm=alg, message_type="EXTERNAL_MU")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, hashlib.sha512(b"m").digest(), algorithm=alg, message_type="DIGEST")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, os.urandom(4097), algorithm=alg)
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.sign(k, b"m", algorithm="ECDSA_SHA_512")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.create_key(spec=spec, usage="ENCRYPT_DECRYPT")
    theirs = private_cls.generate()
    pkcs8 = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = store.import_key(pkcs8, spec=spec).key_id
    assert store.get_public_key(imported) == theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert store.verify(imported, b"from pyca", theirs.sign(b"from pyca"), algorithm=alg)
    theirs.public_key().verify(store.sign(imported, b"from sealbox", algorithm=alg), b"from sealbox")
    other = next(s for s in _MLDSA if s != spec)
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(pkcs8, spec=other)


@pytest.mark.parametrize(
    ("spec", "curve"),
    [("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1()), ("ECC_NIST_P521", ec.SECP521R1())],
)
def test_derive_shared_secret(store: sealbox.KeyStore, spec: str, curve: ec.EllipticCurve) -> None:
    """DeriveSharedSecret (ECDH) gives the secret pyca's exchange computes on
    the peer's side; wrong curves, junk and signing keys are refused."""
    k = store.create_key(spec=spec, usage=KeyUsage.KEY_AGREEMENT).key_id
    assert store.describe_key(k).key_usage is KeyUsage.KEY_AGREEMENT
    ours = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(ours, ec.EllipticCurvePublicKey)
    peer = ec.generate_private_key(curve)
    peer_spki = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secret = store.derive_shared_secret(k, peer_spki)
    assert isinstance(secret, bytearray)
    assert secret == peer.exchange(ec.ECDH(), ours)
    assert store.derive_shared_secret(k, bytearray(peer_spki), algorithm=sealbox.KeyAgreementAlgorithm.ECDH) == secret
    other_curve = ec.SECP256K1() if spec != "ECC_NIST_P256" else ec.SECP384R1()
    wrong = ec.generate_private_key(other_curve).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for bad in (wrong, b"junk", b""):
        with pytest.raises(sealbox.InvalidArgument):
            store.derive_shared_secret(k, bad)
    with pytest.raises(sealbox.InvalidArgument):
        store.derive_shared_secret(k, peer_spki, algorithm="DH")
    signer = store.create_key(spec=spec).key_id
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.derive_shared_secret(signer, peer_spki)
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.create_key(spec="ECC_SECG_P256K1", usage="KEY_AGREEMENT")


def test_sign_verify_ecdsa(store: sealbox.KeyStore) -> None:
    k = store.create_key(spec="ECC_NIST_P256").key_id
    sig = store.sign(k, b"message", algorithm="ECDSA_SHA_256")
    assert store.verify(k, b"message", sig, algorithm="ECDSA_SHA_256")
    assert not store.verify(k, b"other message", sig, algorithm="ECDSA_SHA_256")
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(sig, b"message", ec.ECDSA(hashes.SHA256()))  # raises if bad
    pem = store.get_public_key_pem(k)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert serialization.load_pem_public_key(pem.encode()) == pub
    digest = hashlib.sha256(b"message").digest()
    dsig = store.sign(k, digest, algorithm=sealbox.SigningAlgorithm.ECDSA_SHA_256, message_type="DIGEST")
    pub.verify(dsig, b"message", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, digest[:31], algorithm="ECDSA_SHA_256", message_type="DIGEST")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, bytes(4097), algorithm="ECDSA_SHA_256")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.sign(k, b"m", algorithm="RSASSA_PSS_SHA_256")
    with pytest.raises(sealbox.InvalidArgument):
        store.sign(k, b"m", algorithm="ECDSA_SHA_999")
    aes = store.create_key().key_id
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.get_public_key(aes)


def test_rsa_sign_encrypt(store: sealbox.KeyStore, backend: str) -> None:
    k = store.create_key(spec="RSA_2048", usage="SIGN_VERIFY").key_id
    pub = serialization.load_der_public_key(store.get_public_key(k))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    sig = store.sign(k, b"invoice", algorithm="RSASSA_PSS_SHA_256")
    pub.verify(
        sig, b"invoice", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    )
    sig = store.sign(k, b"invoice", algorithm="RSASSA_PKCS1_V1_5_SHA_256")
    pub.verify(sig, b"invoice", padding.PKCS1v15(), hashes.SHA256())
    assert store.verify(k, b"invoice", sig, algorithm="RSASSA_PKCS1_V1_5_SHA_256")

    # Asymmetric decryption of data encrypted outside, with OAEP.
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = priv.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    enc = store.import_key(der, spec="RSA_2048", usage="ENCRYPT_DECRYPT").key_id
    oaep1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    oaep256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ct1 = priv.public_key().encrypt(b"hello", oaep1)
    assert store.decrypt(ct1, key_id=enc, algorithm="RSAES_OAEP_SHA_1") == b"hello"
    ct256 = priv.public_key().encrypt(b"hello", oaep256)
    if backend == "pkcs11":
        # SoftHSM2 2.6 does OAEP with SHA-1 only: a clear refusal.
        with pytest.raises(sealbox.UnsupportedByHsm) as e:
            store.decrypt(ct256, key_id=enc, algorithm="RSAES_OAEP_SHA_256")
        assert "OAEP" in e.value.mechanism
    else:
        assert store.decrypt(ct256, key_id=enc, algorithm="RSAES_OAEP_SHA_256") == b"hello"
    # Encryption under the store's public key, decrypted outside.
    ct = store.encrypt(enc, b"to outside", algorithm="RSAES_OAEP_SHA_256")
    assert priv.decrypt(ct, oaep256) == b"to outside"
    with pytest.raises(ValueError):
        store.decrypt(ct1, key_id=enc)
    with pytest.raises(ValueError):
        store.encrypt(enc, b"x", algorithm="RSAES_OAEP_SHA_1", encryption_context={"a": "b"})


def test_mac(store: sealbox.KeyStore) -> None:
    material = os.urandom(32)
    k = store.import_key(material, spec="HMAC_256", usage="GENERATE_VERIFY_MAC").key_id
    assert store.describe_key(k).origin is sealbox.Origin.EXTERNAL
    mac = store.generate_mac(k, b"message", algorithm="HMAC_SHA_256")
    assert mac == hmac.new(material, b"message", hashlib.sha256).digest()
    assert store.verify_mac(k, b"message", mac, algorithm="HMAC_SHA_256")
    assert not store.verify_mac(k, b"message", mac[:-1] + bytes([mac[-1] ^ 1]), algorithm="HMAC_SHA_256")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.generate_mac(k, b"m", algorithm="HMAC_SHA_512")
    k512 = store.create_key(spec="HMAC_512").key_id
    assert len(store.generate_mac(k512, b"", algorithm="HMAC_SHA_512")) == 64
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(b"short", spec="HMAC_256")


@pytest.mark.parametrize(
    ("spec", "algorithm", "length", "digest"),
    [
        ("HMAC_224", "HMAC_SHA_224", 28, hashlib.sha224),
        ("HMAC_384", "HMAC_SHA_384", 48, hashlib.sha384),
    ],
)
def test_hmac_224_and_384(
    store: sealbox.KeyStore, spec: str, algorithm: str, length: int, digest: Callable[[], Any]
) -> None:
    """HMAC_224 and HMAC_384 keys (AWS KMS's specs): material of the hash's
    length, only their own HMAC, checked against Python's hmac module."""
    material = os.urandom(length)
    k = store.import_key(material, spec=sealbox.KeySpec(spec)).key_id
    md = store.describe_key(k)
    assert md.key_spec is sealbox.KeySpec(spec)
    assert md.key_usage is KeyUsage.GENERATE_VERIFY_MAC
    for message in (b"", b"message", os.urandom(4095)):
        mac = store.generate_mac(k, message, algorithm=sealbox.MacAlgorithm(algorithm))
        assert mac == hmac.new(material, message, digest).digest()
        assert store.verify_mac(k, message, mac, algorithm=algorithm)
        assert not store.verify_mac(k, message + b"x", mac, algorithm=algorithm)
    for other in {"HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"} - {algorithm}:
        with pytest.raises(sealbox.InvalidKeyUsage):
            store.generate_mac(k, b"m", algorithm=other)
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(os.urandom(length - 1), spec=spec)
    created = store.create_key(spec=spec).key_id
    assert len(store.generate_mac(created, b"m", algorithm=algorithm)) == length
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.create_key(spec=spec, usage="ENCRYPT_DECRYPT")


def test_import_aes(store: sealbox.KeyStore) -> None:
    k = store.import_key(bytearray(os.urandom(32)), alias="alias/imported").key_id
    ct = store.encrypt("alias/imported", b"byok")
    assert store.decrypt(ct) == b"byok"
    with pytest.raises(sealbox.Unsupported):
        store.rotate_key(k)
    with pytest.raises(sealbox.InvalidKey):
        store.import_key(bytes(31))


def test_imported_material_expires_and_comes_back(store: sealbox.KeyStore) -> None:
    """valid_to: the key is PendingImport from then on (refused before any
    purge), the purge destroys the material, and only the same material
    brings it back; deletion on request; new material as a new version."""
    material = os.urandom(32)
    utc = datetime.timezone.utc
    with pytest.raises(ValueError):
        store.import_key(material, valid_to=datetime.datetime.now() + datetime.timedelta(days=1))
    with pytest.raises(sealbox.InvalidArgument):
        store.import_key(material, valid_to=datetime.datetime.now(utc) - datetime.timedelta(seconds=5))
    valid_to = datetime.datetime.fromtimestamp(int(time.time()) + 2, utc)
    md = store.import_key(bytearray(material), valid_to=valid_to)
    assert md.valid_to == valid_to and md.versions[0].valid_to == valid_to
    assert md.versions[0].material_present and md.key_state is KeyState.ENABLED
    ct = store.encrypt(md.key_id, b"pan")
    while time.time() < valid_to.timestamp() + 0.05:
        time.sleep(0.1)
    with pytest.raises(sealbox.KeyDisabled, match="pending import"):
        store.decrypt(ct)
    assert store.describe_key(md.key_id).key_state is KeyState.PENDING_IMPORT
    assert store.purge_expired_material() == 1
    assert not store.describe_key(md.key_id).versions[0].material_present
    with pytest.raises(sealbox.InvalidKey):
        store.import_key_material(md.key_id, os.urandom(32))
    back = store.import_key_material(md.key_id, material)
    assert back.key_state is KeyState.ENABLED and back.valid_to is None
    assert store.decrypt(ct) == b"pan"
    # On-demand rotation with new material, then deletion of all of it.
    rotated = store.import_key_material(md.key_id, os.urandom(32), valid_to=datetime.datetime.now(utc) + datetime.timedelta(days=1))
    assert rotated.primary_version == 2 and rotated.valid_to is not None
    gone = store.delete_imported_key_material(md.key_id)
    assert gone.key_state is KeyState.PENDING_IMPORT
    assert not any(v.material_present for v in gone.versions)
    with pytest.raises(sealbox.KeyDisabled):
        store.encrypt(md.key_id, b"x")
    with pytest.raises(sealbox.Unsupported):
        store.delete_imported_key_material(store.create_key().key_id)


def test_for_recipient(store: sealbox.KeyStore, tmp_path: Path) -> None:
    """Decrypt and GenerateDataKey for a recipient: the CMS EnvelopedData
    opens with the recipient's private key in OpenSSL (and not with another
    key); a non-RSA recipient is refused."""
    recipient = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "r.pem").write_bytes(
        recipient.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    spki = recipient.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "s.pem").write_bytes(
        stranger.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    def opened(cms: bytes, key: str = "r.pem") -> bytes:
        (tmp_path / "c.der").write_bytes(cms)
        out = subprocess.run(
            # -debug_decrypt: a wrong key fails (not OpenSSL's random-key decryption).
            ["openssl", "cms", "-decrypt", "-debug_decrypt", "-inform", "DER", "-in", str(tmp_path / "c.der"), "-inkey", str(tmp_path / key)],
            capture_output=True,
            check=True,
        )
        return out.stdout

    k = store.create_key().key_id
    blob = store.encrypt(k, b"for the enclave", encryption_context={"t": "1"})
    cms = store.decrypt_for_recipient(blob, spki, encryption_context={"t": "1"})
    assert b"for the enclave" not in cms
    assert opened(cms) == b"for the enclave"
    with pytest.raises(subprocess.CalledProcessError):
        opened(cms, "s.pem")
    dk = store.generate_data_key_for_recipient(k, spki, number_of_bytes=32)
    assert opened(dk.ciphertext_for_recipient) == store.decrypt(dk.ciphertext)
    assert dk.key_id == k and dk.key_version == 1
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt_for_recipient(blob, spki)
    ec_spki = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(sealbox.InvalidKey):
        store.decrypt_for_recipient(blob, ec_spki, encryption_context={"t": "1"})


def test_random(store: sealbox.KeyStore) -> None:
    r = store.generate_random(32)
    assert len(r) == 32 and r != store.generate_random(32)
    for bad in (0, 1025):
        with pytest.raises(sealbox.InvalidArgument):
            store.generate_random(bad)
    with pytest.raises(OverflowError):
        store.generate_random(-1)


def test_audit_log_and_counts(store: sealbox.KeyStore) -> None:
    k = store.create_key().key_id
    store.encrypt(k, b"x")
    with pytest.raises(sealbox.KeyNotFound):
        store.describe_key("alias/none")
    assert store.operation_count("Encrypt") == 1
    report = store.verify_audit_log()
    assert report.ok and report.records >= 3
    path = store.audit_log_path
    assert path is not None and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = Path(path).read_text().splitlines()
    assert '"DescribeKey"' in lines[-1] and '"failed"' in lines[-1]
    # An edited record is found.
    lines[1] = lines[1].replace('"allowed"', '"failed"', 1)
    Path(path).write_text("\n".join(lines) + "\n")
    report = store.verify_audit_log()
    assert not report.ok and report.first_error is not None and report.first_error[0] == 2


def test_bad_types_and_values(store: sealbox.KeyStore) -> None:
    k = store.create_key().key_id
    with pytest.raises(TypeError):
        store.encrypt(k, "text, not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.encrypt(k, 12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.encrypt(k, b"x", encryption_context={"a": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        store.describe_key(None)  # type: ignore[arg-type]
    with pytest.raises(sealbox.InvalidArgument):
        store.create_key(spec="AES_128")
    with pytest.raises(sealbox.InvalidKeyUsage):
        store.create_key(spec="AES_256", usage="SIGN_VERIFY")
    # Garbage is a ciphertext that does not decrypt: the one opaque error.
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt(b"")
    with pytest.raises(sealbox.DecryptionFailed):
        store.decrypt(b"\x00" * 10)
    # A non-contiguous buffer is refused, a typed array is read as bytes.
    with pytest.raises(BufferError):
        store.encrypt(k, memoryview(b"abcdef")[::2])
    import array

    ct = store.encrypt(k, array.array("I", [1, 2, 3]))
    assert store.decrypt(ct) == array.array("I", [1, 2, 3]).tobytes()


def test_root_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = sealbox.RootKey.generate()
    assert repr(root) == "RootKey(...)"
    path = tmp_path / "root.key"
    root.write_new_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(sealbox.SealboxError):
        root.write_new_file(path)  # never overwrites
    db = tmp_path / "k.db"
    ks = sealbox.KeyStore.open(db, root_key=sealbox.RootKey.from_file(path))
    ct = ks.encrypt(ks.create_key(alias="alias/r").key_id, b"sealed")
    del ks
    hex_key = path.read_text().strip()
    monkeypatch.setenv("SEALBOX_TEST_ROOT", hex_key)
    again = sealbox.KeyStore.open(db, root_key=sealbox.RootKey.from_env("SEALBOX_TEST_ROOT"))
    assert again.decrypt(ct) == b"sealed"
    again2 = sealbox.KeyStore.open(db, root_key=sealbox.RootKey.from_bytes(bytes.fromhex(hex_key)))
    assert again2.decrypt(ct) == b"sealed"
    with pytest.raises(sealbox.WrongRootKey):
        sealbox.KeyStore.open(db, root_key=sealbox.RootKey.generate())
    with pytest.raises(sealbox.InvalidKey):
        sealbox.RootKey.from_bytes(bytes(31))
    loose = tmp_path / "loose.key"
    loose.write_text(hex_key)
    loose.chmod(0o644)
    with pytest.raises(sealbox.SealboxError):
        sealbox.RootKey.from_file(loose)
    with pytest.raises(ValueError):
        sealbox.KeyStore.open(tmp_path / "x.db")
    with pytest.raises(TypeError):
        sealbox.KeyStore.open(tmp_path / "x.db", root_key=b"raw bytes")  # type: ignore[arg-type]


def test_pkcs11_config(hsm: sealbox.Pkcs11, tmp_path: Path) -> None:
    assert "pin=..." in repr(hsm) and hsm.token_label is not None
    with pytest.raises(ValueError):
        sealbox.Pkcs11(hsm.module, pin="1")  # no token named
    with pytest.raises(ValueError):
        sealbox.Pkcs11(hsm.module, token_label="t")  # no PIN
    with pytest.raises(ValueError):
        sealbox.Pkcs11(hsm.module, token_label="t", pin_env="SEALBOX_NO_SUCH_VARIABLE")
    bad_pin = sealbox.Pkcs11(hsm.module, token_label=hsm.token_label, pin="99999999")
    with pytest.raises(sealbox.Pkcs11Error) as e:
        sealbox.KeyStore.open(tmp_path / "bad.db", pkcs11=bad_pin)
    assert "Login" in e.value.function and "PIN" in e.value.rv.upper()
    missing = sealbox.Pkcs11(hsm.module, token_label="no-such-token", pin="1234")
    with pytest.raises(sealbox.SealboxError):
        sealbox.KeyStore.open(tmp_path / "missing.db", pkcs11=missing)
    pin_file = tmp_path / "pin"
    pin_file.write_text("1234\n")
    pin_file.chmod(0o644)
    with pytest.raises(sealbox.InvalidArgument):
        sealbox.Pkcs11(hsm.module, token_label="t", pin_file=pin_file)
