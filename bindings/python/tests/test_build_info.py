"""One version for every package (issue 20): the extension reports the
workspace version of Cargo.toml, which is also the distribution's version,
and the crypto provider and FIPS mode of the default build."""

from __future__ import annotations

import importlib.metadata
import os
import tomllib
from pathlib import Path

import sealbox

ROOT = Path(__file__).resolve().parents[3]


def workspace_version() -> str:
    with open(ROOT / "Cargo.toml", "rb") as f:
        version = tomllib.load(f)["workspace"]["package"]["version"]
    assert isinstance(version, str)
    return version


def test_one_version_everywhere() -> None:
    info = sealbox.build_info()
    assert info.version == workspace_version()
    assert sealbox.__version__ == info.version
    assert importlib.metadata.version("sealbox") == info.version


def test_provider_and_fips_mode() -> None:
    info = sealbox.build_info()
    assert info.crypto_provider == os.environ.get("SEALBOX_EXPECT_PROVIDER", "aws-lc")
    assert info.fips_mode == ("FIPS" in info.crypto_provider)
    mode = "on" if info.fips_mode else "off"
    assert str(info) == f"{info.version} (crypto provider: {info.crypto_provider}, FIPS mode: {mode})"
