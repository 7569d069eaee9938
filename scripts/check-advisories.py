#!/usr/bin/env python3
"""Checks lock files against an offline copy of the RustSec advisory database.

The same decision cargo-audit makes, without building cargo-audit (which
costs minutes on a fresh machine): for every crates.io package in each
Cargo.lock, every advisory in `<db>/crates/<name>/` that is not withdrawn
applies unless the version is in `patched` or `unaffected`. Vulnerabilities
and `unsound` advisories fail the check; other informational ones
(unmaintained, notice) are printed. Ids listed in `.cargo/audit.toml`
(`[advisories] ignore`) are skipped; each must still name an advisory that
applies, so a stale entry fails too.

Usage: check-advisories.py DB CONFIG LOCK [LOCK ...]
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def parse_version(text: str) -> tuple[int, int, int, bool]:
    """(major, minor, patch, is_release); a pre-release sorts before its release."""
    core, _, pre = text.strip().partition("-")
    nums = [int(x) for x in re.findall(r"\d+", core)[:3]]
    nums += [0] * (3 - len(nums))
    return nums[0], nums[1], nums[2], not pre


def matches(version: str, requirement: str) -> bool:
    """Whether `version` meets a semver requirement such as ">= 1.2, < 2"."""
    v = parse_version(version)
    for part in requirement.split(","):
        part = part.strip()
        m = re.match(r"^(>=|<=|>|<|=|\^|~)?\s*(.+)$", part)
        if not m:
            return False
        op, bound_text = m.group(1) or "^", m.group(2)
        given = len(re.findall(r"\d+", bound_text.partition("-")[0]))
        b = parse_version(bound_text)
        ok = {
            ">=": v >= b,
            "<=": v <= b,
            ">": v > b,
            "<": v < b,
            "=": v[:given] == b[:given],
        }.get(op)
        if ok is None:
            if op == "~":
                upper = (b[0], b[1] + 1, 0, False) if given >= 2 else (b[0] + 1, 0, 0, False)
            elif b[0] > 0 or given == 1:
                upper = (b[0] + 1, 0, 0, False)
            elif b[1] > 0 or given == 2:
                upper = (0, b[1] + 1, 0, False)
            else:
                upper = (0, 0, b[2] + 1, False)
            ok = b <= v < upper
        if not ok:
            return False
    return True


def front_matter(path: Path) -> dict:
    """The advisory's TOML front matter, with its title (the first heading)."""
    text = path.read_text()
    m = re.search(r"```toml\n(.*?)\n```", text, re.S)
    adv = tomllib.loads(m.group(1)) if m else {}
    title = re.search(r"^# (.+)$", text, re.M)
    if title:
        adv.setdefault("advisory", {}).setdefault("title", title.group(1))
    return adv


def main() -> int:
    db, config, locks = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    ignore = set(tomllib.loads(config.read_text()).get("advisories", {}).get("ignore", []))
    failures, used_ignores, total = [], set(), 0
    for lock in locks:
        packages = [
            p for p in tomllib.loads(Path(lock).read_text()).get("package", [])
            if "registry+" in p.get("source", "")
        ]
        total += len(packages)
        print(f"   {lock}: {len(packages)} crates")
        for pkg in packages:
            folder = db / "crates" / pkg["name"]
            if not folder.is_dir():
                continue
            for adv_path in sorted(folder.glob("RUSTSEC-*.md")):
                adv = front_matter(adv_path)
                a, versions = adv.get("advisory", {}), adv.get("versions", {})
                if a.get("withdrawn"):
                    continue
                safe = versions.get("patched", []) + versions.get("unaffected", [])
                if any(matches(pkg["version"], r) for r in safe):
                    continue
                what = f'{a.get("id")} {pkg["name"]} {pkg["version"]}: {a.get("title", "").strip()}'
                kind = a.get("informational")
                if a.get("id") in ignore:
                    used_ignores.add(a.get("id"))
                    print(f"   ignored  {what}")
                elif kind is None or kind == "unsound":
                    failures.append(what)
                    print(f"   APPLIES  {what} (patched: {versions.get('patched', [])})")
                else:
                    print(f"   note     {what} ({kind})")
    for stale in sorted(ignore - used_ignores):
        failures.append(f"{stale}: ignored in {config} but applies to nothing any more")
        print(f"   STALE    {stale}")
    print(f"advisories: {total} crates checked, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
