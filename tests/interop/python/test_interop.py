"""Live interoperability tests: sealbox <-> AWS Encryption SDK for Python.

Every case runs in both directions:

* ``sealbox->aws``: the sealbox example binary (``$SEALBOX_ESDK_TOOL``,
  built from ``core/examples/esdk_tool.rs``) encrypts, the AWS SDK decrypts;
* ``aws->sealbox``: the AWS SDK encrypts, the sealbox binary decrypts.

and against two independent keyring implementations of the Python SDK:

* ``legacy``: the SDK's own raw master keys (``RawMasterKey``), pure Python;
* ``mpl``: the keyrings of the AWS Cryptographic Material Providers Library
  (the Dafny-generated implementation shared with the Java/.NET/Rust SDKs).

Both are fully offline: raw AES and raw RSA keys only, no AWS calls.

Each case asserts the exact plaintext, the algorithm suite in the message
header, and the encryption context (exactly the caller's pairs, plus the
``aws-crypto-public-key`` pair that the signing suite 0x0578 adds).

Run through ``tests/interop/run.sh``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import aws_encryption_sdk
from aws_encryption_sdk import Algorithm, CommitmentPolicy
from aws_encryption_sdk.exceptions import InvalidKeyIdError
from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.base import MasterKeyProvider, MasterKeyProviderConfig
from aws_encryption_sdk.key_providers.raw import RawMasterKey

from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    AesWrappingAlg,
    CreateMultiKeyringInput,
    CreateRawAesKeyringInput,
    CreateRawRsaKeyringInput,
    PaddingScheme,
)

# ---------------------------------------------------------------------------
# Constants

NAMESPACE = "sealbox-interop-python"
AES_NAME = "aes-256-wrapping-key"
RSA_NAME = "rsa-4096-wrapping-key"
RSA_BITS = 4096
PUBLIC_KEY_FIELD = "aws-crypto-public-key"

SUITE_COMMIT = 0x0478  # AES-256-GCM, HKDF-SHA512, key commitment
SUITE_COMMIT_SIG = 0x0578  # ... plus an ECDSA P-384 signature
SUITES = [SUITE_COMMIT, SUITE_COMMIT_SIG]
ALGORITHMS = {
    SUITE_COMMIT: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    SUITE_COMMIT_SIG: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}
MIB = 1024 * 1024

# RSA padding: sealbox name -> (legacy wrapping algorithm, MPL padding scheme)
RSA_PADDINGS = {
    "OAEP_SHA256_MGF1": (WrappingAlgorithm.RSA_OAEP_SHA256_MGF1, PaddingScheme.OAEP_SHA256_MGF1),
    "OAEP_SHA1_MGF1": (WrappingAlgorithm.RSA_OAEP_SHA1_MGF1, PaddingScheme.OAEP_SHA1_MGF1),
    "PKCS1": (WrappingAlgorithm.RSA_PKCS1, PaddingScheme.PKCS1),
}

CONTEXT_SIMPLE = {"purpose": "interop", "tenant": "acme"}
CONTEXT_UNICODE = {
    # Orders differently in UTF-8 bytes and in UTF-16 code units (U+FF21 vs
    # a supplementary-plane character), and in locale order (case).
    "\uff21-fullwidth": "\uff41",
    "\U0001f510-lock": "\U0001d11e clef",
    "Zebra": "upper case first in bytes",
    "apple": "lower case",
    "\u00fcn\u00efc\u00f6d\u00e9": "\u503c",
    "\u65e5\u672c\u8a9e": "\u30c6\u30b9\u30c8",
    "e\u0301": "combining acute (not normalised)",
    "\u00e9": "precomposed",
    "spaces and = signs": "a = b; c",
}
CONTEXT_MANY = {f"key-{i:03d}-{'x' * (i % 7)}": f"value-{i}-{'y' * (i % 11)}" for i in range(100)}
CONTEXTS = {
    "empty": {},
    "simple": CONTEXT_SIMPLE,
    "unicode": CONTEXT_UNICODE,
    "many100": CONTEXT_MANY,
}


# ---------------------------------------------------------------------------
# Fixtures: the sealbox tool and the keys (generated once per session)


@dataclass(frozen=True)
class Keys:
    dir: Path
    aes: bytes
    rsa_private_pem: bytes
    rsa_public_pem: bytes

    @property
    def aes_file(self) -> Path:
        return self.dir / "aes.key"

    @property
    def rsa_private_file(self) -> Path:
        return self.dir / "rsa_private.pem"

    @property
    def rsa_public_file(self) -> Path:
        return self.dir / "rsa_public.pem"


@pytest.fixture(scope="session")
def tool() -> str:
    path = os.environ.get("SEALBOX_ESDK_TOOL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "SEALBOX_ESDK_TOOL must name the built esdk_tool example "
            "(run tests/interop/run.sh)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    d = tmp_path_factory.mktemp("keys")
    aes = os.urandom(32)
    private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    k = Keys(d, aes, private_pem, public_pem)
    k.aes_file.write_bytes(aes)
    k.rsa_private_file.write_bytes(private_pem)
    k.rsa_public_file.write_bytes(public_pem)
    return k


@pytest.fixture(scope="session")
def big_payload() -> bytes:
    return os.urandom(5 * MIB)


def payload(size: int) -> bytes:
    return os.urandom(size)


# ---------------------------------------------------------------------------
# The AWS side: two keyring implementations behind one interface


class _StaticProvider(MasterKeyProvider):
    """A legacy master key provider holding fixed master keys: the first
    generates the data key, every one wraps it."""

    provider_id = "sealbox-interop-static"
    _config_class = MasterKeyProviderConfig
    vend_masterkey_on_decrypt = False

    def _new_master_key(self, key_id):  # pragma: no cover - never vended
        raise InvalidKeyIdError(f"unknown key {key_id!r}")


def client(policy=None):
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=policy or CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


class _SdkImpl:
    """What the legacy and MPL paths share; they differ in how they build
    the AES, RSA and multi keyrings and in the client's argument that takes
    them."""

    #: The ESDK client's argument that takes ``keyring()``'s result.
    keyring_arg = ""

    def _aes(self):
        raise NotImplementedError

    def _rsa(self, padding: str, encrypt: bool):
        raise NotImplementedError

    def _multi(self, padding: str, encrypt: bool):
        raise NotImplementedError

    def keyring(self, kind: str, padding: str, encrypt: bool):
        if kind == "aes":
            return self._aes()
        if kind == "rsa":
            return self._rsa(padding, encrypt)
        if kind == "multi":
            return self._multi(padding, encrypt)
        raise ValueError(kind)

    def encrypt(self, pt, kind, padding, context, suite, frame_length, policy=None):
        ct, _header = client(policy).encrypt(
            source=pt,
            encryption_context=dict(context),
            algorithm=suite,
            frame_length=frame_length,
            **{self.keyring_arg: self.keyring(kind, padding, encrypt=True)},
        )
        return ct


class LegacyImpl(_SdkImpl):
    name = "legacy"
    keyring_arg = "key_provider"

    def __init__(self, keys: Keys):
        self.keys = keys

    def _aes(self):
        return RawMasterKey(
            provider_id=NAMESPACE,
            key_id=AES_NAME.encode(),
            wrapping_key=WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=self.keys.aes,
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            ),
        )

    def _rsa(self, padding: str, encrypt: bool):
        return RawMasterKey(
            provider_id=NAMESPACE,
            key_id=RSA_NAME.encode(),
            wrapping_key=WrappingKey(
                wrapping_algorithm=RSA_PADDINGS[padding][0],
                wrapping_key=self.keys.rsa_public_pem if encrypt else self.keys.rsa_private_pem,
                wrapping_key_type=EncryptionKeyType.PUBLIC if encrypt else EncryptionKeyType.PRIVATE,
            ),
        )

    def _multi(self, padding: str, encrypt: bool):
        p = _StaticProvider()
        p.add_master_key_provider(self._aes())
        p.add_master_key_provider(self._rsa(padding, encrypt))
        return p

    def decrypt(self, ct, kind, padding, expected_context):
        # The legacy API takes no expected context: the caller checks it.
        pt, header = client().decrypt(source=ct, key_provider=self.keyring(kind, padding, encrypt=False))
        return pt, dict(header.encryption_context), header.algorithm.algorithm_id


class MplImpl(_SdkImpl):
    name = "mpl"
    keyring_arg = "keyring"

    def __init__(self, keys: Keys):
        self.keys = keys
        self.mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())

    def _aes(self):
        return self.mpl.create_raw_aes_keyring(
            CreateRawAesKeyringInput(
                key_namespace=NAMESPACE,
                key_name=AES_NAME,
                wrapping_key=self.keys.aes,
                wrapping_alg=AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
            )
        )

    def _rsa(self, padding: str, encrypt: bool):
        args = dict(key_namespace=NAMESPACE, key_name=RSA_NAME, padding_scheme=RSA_PADDINGS[padding][1])
        if encrypt:
            args["public_key"] = self.keys.rsa_public_pem
        else:
            args["private_key"] = self.keys.rsa_private_pem
        return self.mpl.create_raw_rsa_keyring(CreateRawRsaKeyringInput(**args))

    def _multi(self, padding: str, encrypt: bool):
        return self.mpl.create_multi_keyring(
            CreateMultiKeyringInput(generator=self._aes(), child_keyrings=[self._rsa(padding, encrypt)])
        )

    def decrypt(self, ct, kind, padding, expected_context):
        # The MPL path also checks the expected context itself.
        pt, header = client().decrypt(
            source=ct,
            keyring=self.keyring(kind, padding, encrypt=False),
            encryption_context=dict(expected_context),
        )
        return pt, dict(header.encryption_context), header.algorithm.algorithm_id


@pytest.fixture(scope="session", params=["legacy", "mpl"])
def impl(request, keys):
    return LegacyImpl(keys) if request.param == "legacy" else MplImpl(keys)


# ---------------------------------------------------------------------------
# The sealbox side


def keyring_args(keys: Keys, kind: str, padding: str, encrypt: bool) -> list[str]:
    args = ["--keyring", kind, "--namespace", NAMESPACE, "--aes-name", AES_NAME, "--rsa-name", RSA_NAME]
    if kind in ("aes", "multi"):
        args += ["--aes-key", str(keys.aes_file)]
    if kind in ("rsa", "multi"):
        args += ["--rsa-padding", padding]
        if encrypt:
            args += ["--rsa-public", str(keys.rsa_public_file)]
        else:
            args += ["--rsa-private", str(keys.rsa_private_file)]
    return args


def run_tool(tool: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=300)


def sealbox_encrypt(tool, keys, work: Path, pt: bytes, kind, padding, context, suite, frame_length) -> bytes:
    (work / "pt").write_bytes(pt)
    (work / "ctx.json").write_text(json.dumps(context), encoding="utf-8")
    args = ["encrypt", *keyring_args(keys, kind, padding, True)]
    args += ["--suite", f"0x{suite:04x}", "--frame-length", str(frame_length)]
    args += ["--context-json", str(work / "ctx.json"), "--in", str(work / "pt"), "--out", str(work / "ct")]
    r = run_tool(tool, args)
    assert r.returncode == 0, f"sealbox encrypt failed ({r.returncode}): {r.stderr}"
    return (work / "ct").read_bytes()


def sealbox_decrypt(tool, keys, work: Path, ct: bytes, kind, padding, expected_context, extra=()):
    """Returns (returncode, stderr, plaintext or None, full context or None)."""
    (work / "in.ct").write_bytes(ct)
    (work / "expect.json").write_text(json.dumps(expected_context), encoding="utf-8")
    for f in ("out.pt", "out.json"):
        (work / f).unlink(missing_ok=True)
    args = ["decrypt", *keyring_args(keys, kind, padding, False), *extra]
    args += ["--context-json", str(work / "expect.json"), "--context-out", str(work / "out.json")]
    args += ["--in", str(work / "in.ct"), "--out", str(work / "out.pt")]
    r = run_tool(tool, args)
    pt = (work / "out.pt").read_bytes() if (work / "out.pt").exists() else None
    ctx = json.loads((work / "out.json").read_text(encoding="utf-8")) if (work / "out.json").exists() else None
    return r.returncode, r.stderr, pt, ctx


# ---------------------------------------------------------------------------
# Assertions


def header_suite(ct: bytes) -> int:
    """The suite id of a message: version 2 puts it at bytes 1..3, version 1 at 2..4."""
    if ct[0] == 0x02:
        return int.from_bytes(ct[1:3], "big")
    assert ct[0] == 0x01 and ct[1] == 0x80, f"not an ESDK message (starts {ct[:4].hex()})"
    return int.from_bytes(ct[2:4], "big")


# Signing suites -> length of the compressed public key in the context.
SIGNING_SUITES = {0x0578: 49, 0x0378: 49, 0x0346: 49, 0x0214: 33}


def assert_context(actual: dict, expected: dict, suite: int):
    actual = dict(actual)
    if suite in SIGNING_SUITES:
        assert PUBLIC_KEY_FIELD in actual, "signing suite without aws-crypto-public-key in the context"
        pub = base64.b64decode(actual.pop(PUBLIC_KEY_FIELD), validate=True)
        # A compressed SEC1 point: P-384 (49 bytes) or P-256 (33 bytes).
        assert len(pub) == SIGNING_SUITES[suite] and pub[0] in (2, 3)
    else:
        assert PUBLIC_KEY_FIELD not in actual
    assert actual == expected


def flip(ct: bytes, pos: int) -> bytes:
    b = bytearray(ct)
    b[pos] ^= 0x01
    return bytes(b)


# ---------------------------------------------------------------------------
# The round trips


def sealbox_to_aws(tool, keys, impl, work, pt, enc_kind, dec_kind, padding, context, suite, frame_length=4096):
    ct = sealbox_encrypt(tool, keys, work, pt, enc_kind, padding, context, suite, frame_length)
    assert header_suite(ct) == suite
    got, ctx, suite_id = impl.decrypt(ct, dec_kind, padding, context)
    assert suite_id == suite
    assert len(got) == len(pt) and got == pt
    assert_context(ctx, context, suite)
    return ct


def aws_to_sealbox(tool, keys, impl, work, pt, enc_kind, dec_kind, padding, context, suite, frame_length=4096):
    ct = impl.encrypt(pt, enc_kind, padding, context, ALGORITHMS[suite], frame_length)
    assert header_suite(ct) == suite
    rc, err, got, ctx = sealbox_decrypt(tool, keys, work, ct, dec_kind, padding, context)
    assert rc == 0, f"sealbox decrypt failed ({rc}): {err}"
    assert got is not None and len(got) == len(pt) and got == pt
    assert_context(ctx, context, suite)
    return ct


DIRECTIONS = {"sealbox->aws": sealbox_to_aws, "aws->sealbox": aws_to_sealbox}


# Keyrings: (encrypting keyring, decrypting keyring, RSA padding)
KEYRING_CASES = {
    "aes": ("aes", "aes", "OAEP_SHA256_MGF1"),
    "rsa-oaep-sha256": ("rsa", "rsa", "OAEP_SHA256_MGF1"),
    "rsa-oaep-sha1": ("rsa", "rsa", "OAEP_SHA1_MGF1"),
    "rsa-pkcs1": ("rsa", "rsa", "PKCS1"),
    "multi->multi": ("multi", "multi", "OAEP_SHA256_MGF1"),
    "multi->aes-only": ("multi", "aes", "OAEP_SHA256_MGF1"),
    "multi->rsa-only": ("multi", "rsa", "OAEP_SHA256_MGF1"),
}


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@pytest.mark.parametrize("keyring", list(KEYRING_CASES))
def test_keyrings(tool, keys, impl, tmp_path, keyring, suite, direction):
    enc_kind, dec_kind, padding = KEYRING_CASES[keyring]
    pt = payload(10_000)
    DIRECTIONS[direction](tool, keys, impl, tmp_path, pt, enc_kind, dec_kind, padding, CONTEXT_SIMPLE, suite)


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
@pytest.mark.parametrize("keyring", ["aes", "multi->rsa-only"])
@pytest.mark.parametrize("context", list(CONTEXTS))
def test_contexts(tool, keys, impl, tmp_path, context, keyring, suite, direction):
    enc_kind, dec_kind, padding = KEYRING_CASES[keyring]
    pt = payload(5000)
    DIRECTIONS[direction](tool, keys, impl, tmp_path, pt, enc_kind, dec_kind, padding, CONTEXTS[context], suite)


# (payload size, frame length)
SIZE_CASES = {
    "0B": (0, 4096),
    "1B": (1, 4096),
    "4095B": (4095, 4096),
    "4096B-one-frame": (4096, 4096),
    "4097B-one-over": (4097, 4096),
    "8192B-two-frames": (8192, 4096),
    "5MiB": (5 * MIB, 4096),
    "5MiB-frame-1MiB": (5 * MIB, MIB),
    "4097B-frame-128": (4097, 128),
    "0B-frame-128": (0, 128),
    # The Python SDK refuses to *write* frame lengths that are not a multiple
    # of 128 (it checks against the AES block size in bits), so these odd
    # frame lengths run in the sealbox->aws direction only.
    "4097B-frame-1": (4097, 1),
    "1000B-frame-100": (1000, 100),
}
SIZE_PARAMS = [
    pytest.param(size, suite, direction, id=f"{size}-0x{suite:04x}-{direction}")
    for size, (_n, fl) in SIZE_CASES.items()
    for suite in SUITES
    for direction in DIRECTIONS
    if fl % 128 == 0 or direction == "sealbox->aws"
]


@pytest.mark.parametrize("size, suite, direction", SIZE_PARAMS)
def test_sizes(tool, keys, impl, tmp_path, big_payload, size, suite, direction):
    n, frame_length = SIZE_CASES[size]
    pt = big_payload if n == len(big_payload) else payload(n)
    DIRECTIONS[direction](
        tool, keys, impl, tmp_path, pt, "aes", "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE, suite, frame_length
    )


def _flip_positions(ct: bytes) -> dict[str, int]:
    """Byte offsets of interesting fields of a version 2 message."""
    assert ct[0] == 0x02
    u16 = lambda o: int.from_bytes(ct[o : o + 2], "big")  # noqa: E731
    pos = 1 + 2 + 32  # version, suite, message id
    aad_len = u16(pos)
    context = pos + 2 + aad_len - 1  # last byte of the serialized context
    pos += 2 + aad_len
    pos += 2  # EDK count
    pos += 2 + u16(pos)  # provider id
    pos += 2 + u16(pos)  # provider info
    edk = pos + 2 + u16(pos) - 1  # last byte of the first EDK's ciphertext
    pos += 2 + u16(pos)
    assert ct[pos] == 0x02 and int.from_bytes(ct[pos + 1 : pos + 5], "big") == 4096, "header parse went astray"
    pos += 1 + 4  # content type (framed), frame length
    commitment = pos + 31  # last byte of the 32-byte key commitment
    header_tag = pos + 32 + 15  # last byte of the header authentication tag
    body = pos + 32 + 16
    assert ct[body : body + 4] == b"\x00\x00\x00\x01", "first frame must have sequence number 1"
    return {
        "message-id": 5,
        "context": context,
        "edk": edk,
        "commitment": commitment,
        "header-tag": header_tag,
        "frame-seq": body + 3,
        "middle": len(ct) // 2,
        "last": len(ct) - 1,  # the footer signature (0x0578) or final frame tag (0x0478)
    }


FLIP_WHERE = ["message-id", "context", "edk", "commitment", "header-tag", "frame-seq", "middle", "last"]


def _each_tampering(test):
    """Runs ``test`` for every suite and every place of FLIP_WHERE."""
    test = pytest.mark.parametrize("where", FLIP_WHERE)(test)
    return pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")(test)


def _tampered(direction, tool, keys, impl, tmp_path, where, suite):
    """A message made by ``direction`` (sealbox_to_aws or aws_to_sealbox),
    with one bit flipped at ``where``."""
    pt = payload(10_000)
    ct = direction(tool, keys, impl, tmp_path, pt, "aes", "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE, suite)
    return flip(ct, _flip_positions(ct)[where])


@_each_tampering
def test_tampered_sealbox_message_rejected_by_aws(tool, keys, impl, tmp_path, where, suite):
    bad = _tampered(sealbox_to_aws, tool, keys, impl, tmp_path, where, suite)
    with pytest.raises(Exception) as info:
        impl.decrypt(bad, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE)
    assert not isinstance(info.value, (AssertionError, NameError, TypeError))


@_each_tampering
def test_tampered_aws_message_rejected_by_sealbox(tool, keys, impl, tmp_path, where, suite):
    bad = _tampered(aws_to_sealbox, tool, keys, impl, tmp_path, where, suite)
    rc, err, got, _ctx = sealbox_decrypt(tool, keys, tmp_path, bad, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE)
    assert rc == 1, f"sealbox accepted a tampered message (rc={rc})"
    assert err.strip(), "no message on stderr"
    assert got is None, "sealbox left plaintext of a rejected message behind"


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"0x{s:04x}")
def test_sealbox_rejects_wrong_expected_context(tool, keys, impl, tmp_path, suite):
    ct = impl.encrypt(payload(100), "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE, ALGORITHMS[suite], 4096)
    wrong = dict(CONTEXT_SIMPLE, tenant="someone-else")
    rc, _err, got, _ctx = sealbox_decrypt(tool, keys, tmp_path, ct, "aes", "OAEP_SHA256_MGF1", wrong)
    assert rc == 1 and got is None


def test_sealbox_rejects_wrong_key(tool, keys, impl, tmp_path):
    ct = impl.encrypt(payload(100), "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE, ALGORITHMS[SUITE_COMMIT], 4096)
    other = tmp_path / "other"
    other.mkdir()
    other_keys = Keys(other, os.urandom(32), keys.rsa_private_pem, keys.rsa_public_pem)
    other_keys.aes_file.write_bytes(other_keys.aes)
    rc, _err, got, _ctx = sealbox_decrypt(tool, other_keys, tmp_path, ct, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE)
    assert rc == 1 and got is None


# Version 1 (non-committing) messages: sealbox must read them for old data
# when the policy allows it, and refuse them under the default policy.
@pytest.mark.parametrize(
    "legacy_suite",
    [Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256, Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384],
    ids=lambda a: f"0x{a.algorithm_id:04x}",
)
def test_sealbox_reads_v1_messages(tool, keys, impl, tmp_path, legacy_suite):
    pt = payload(9000)
    ct = impl.encrypt(
        pt, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE, legacy_suite, 4096,
        policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    )
    suite = legacy_suite.algorithm_id
    assert header_suite(ct) == suite
    rc, _err, got, _ctx = sealbox_decrypt(tool, keys, tmp_path, ct, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE)
    assert rc == 1 and got is None, "the default policy must refuse non-committing suites"
    rc, err, got, ctx = sealbox_decrypt(
        tool, keys, tmp_path, ct, "aes", "OAEP_SHA256_MGF1", CONTEXT_SIMPLE,
        extra=["--commitment-policy", "REQUIRE_ENCRYPT_ALLOW_DECRYPT"],
    )
    assert rc == 0, err
    assert got == pt
    assert_context(ctx, CONTEXT_SIMPLE, suite)
