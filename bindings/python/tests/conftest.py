"""Shared fixtures: key stores on both backends (a SoftHSM2 token of this
test run for PKCS#11), keyrings and payloads."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import sealbox

TOKEN_LABEL = "sealbox-python-tests"
USER_PIN = "4321"
SO_PIN = "87654321"
MODULE = os.environ.get("SEALBOX_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")


def _softhsm_token() -> tuple[str, str]:
    """The token the PKCS#11 tests use: SEALBOX_PKCS11_TOKEN/_PIN name one
    of another module; otherwise a fresh SoftHSM2 token in a private
    directory (SOFTHSM2_CONF is set before the module is first loaded)."""
    token, pin = os.environ.get("SEALBOX_PKCS11_TOKEN"), os.environ.get("SEALBOX_PKCS11_PIN")
    if token and pin:
        return token, pin
    util = shutil.which("softhsm2-util")
    if util is None:
        raise RuntimeError("softhsm2-util not found (Debian package softhsm2; `make deps` installs it)")
    base = Path(tempfile.mkdtemp(prefix="sealbox-py-softhsm-"))
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--so-pin", SO_PIN, "--pin", USER_PIN],
        check=True,
        capture_output=True,
    )
    return TOKEN_LABEL, USER_PIN


@pytest.fixture(scope="session")
def hsm() -> sealbox.Pkcs11:
    token, pin = _softhsm_token()
    return sealbox.Pkcs11(MODULE, token_label=token, pin=pin)


@pytest.fixture(params=["soft", "pkcs11"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> sealbox.KeyStore:
    """A fresh key store (its own SQLite file) on each backend."""
    if backend == "soft":
        return sealbox.KeyStore.open(tmp_path / "keys.db", root_key=sealbox.RootKey.generate())
    hsm = request.getfixturevalue("hsm")
    return sealbox.KeyStore.open(tmp_path / "keys.db", pkcs11=hsm)


@pytest.fixture
def soft_store(tmp_path: Path) -> sealbox.KeyStore:
    return sealbox.KeyStore.open(tmp_path / "soft.db", root_key=sealbox.RootKey.generate())


@pytest.fixture
def aes_key() -> bytes:
    return bytes(range(32))


@pytest.fixture
def aes_keyring(aes_key: bytes) -> sealbox.RawAesKeyring:
    return sealbox.RawAesKeyring("sealbox-python-tests", "aes-key", aes_key)


@pytest.fixture(scope="session")
def mib_payload() -> bytes:
    return os.urandom(1024 * 1024)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
