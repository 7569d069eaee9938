"""The contract test: every surface agrees with the core.

The core owns the error kinds (stable numbers and names) and the name table
of every string enum (`sealbox::names`). This walks every kind and every
table through each surface and fails at the first disagreement:

- C: `include/sealbox.h` has `SEALBOX_RESULT_<CONSTANT> = <number>` for every
  kind and no other code but `OK`; every name a C function takes or returns
  is spelled in the header's documentation.
- Python: `sealbox.exceptions.<Name>` exists for every kind with `kind ==
  number`, the native module's one conversion raises exactly that class for
  an error of the kind, and `_enums.py` holds every table in the core's order.
- Node: the addon's `errorKinds()` matches, an error of every kind thrown
  through the package carries `code == ERR_SEALBOX_<CONSTANT>`, the
  `SealboxErrorCode` union lists exactly those codes, and every union of
  string literals in the TypeScript declarations that names values of a
  table names all of them and nothing else.
- CLI: `sealbox exit-codes --json` gives every kind the exit status that
  docs/CLI.md documents.

Usage: check_contract.py CONTRACT_JSON SEALBOX_BINARY (run by `make
test-contract`, with the Python package installed and the Node addon built).
Prints `N passed, 0 failed` at the end.
"""

from __future__ import annotations

import enum
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
failures: list[str] = []
passed = 0


def check(ok: bool, what: str) -> None:
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def c_header(contract: dict[str, Any]) -> None:
    header = (ROOT / "include" / "sealbox.h").read_text()
    codes = {m[0]: int(m[1]) for m in re.findall(r"\bSEALBOX_RESULT_([A-Z0-9_]+) = (\d+)", header)}
    expected = {k["constant"]: k["code"] for k in contract["error_kinds"]}
    expected["OK"] = 0
    check(codes == expected, f"C: sealbox_result codes {codes} != kinds {expected}")
    for k in contract["error_kinds"]:
        check(codes.get(k["constant"]) == k["code"], f"C: SEALBOX_RESULT_{k['constant']} is not {k['code']}")
    # Every name the C functions take or give is documented, spelled in full.
    for table in ("KeySpec", "KeyUsage", "KeyState", "SigningAlgorithm", "EncryptionAlgorithm",
                  "MacAlgorithm", "KeyAgreementAlgorithm", "MessageType", "CommitmentPolicy", "RsaPadding", "Origin",
                  "EcdhKeyAgreementScheme", "EcdhCurveSpec"):
        for value in contract["tables"][table]:
            check(f'"{value}"' in header or f"`{value}`" in header,
                  f"C: sealbox.h does not document {table} {value}")


def python(contract: dict[str, Any]) -> None:
    import sealbox
    from sealbox import _enums, _native, exceptions

    native_kinds = [list(t) for t in _native._error_kinds()]
    check(native_kinds == [[k["code"], k["name"]] for k in contract["error_kinds"]],
          "Python: _native._error_kinds() differs from the core")
    declared = {name for name in exceptions.__all__ if name != "SealboxError"}
    check(declared == {k["name"] for k in contract["error_kinds"]},
          f"Python: exception classes {sorted(declared)} != kinds")
    for k in contract["error_kinds"]:
        cls = getattr(exceptions, k["name"], None)
        check(isinstance(cls, type) and issubclass(cls, sealbox.SealboxError),
              f"Python: no exception class {k['name']}")
        if cls is None:
            continue
        check(cls.kind == k["code"], f"Python: {k['name']}.kind is {cls.kind}, not {k['code']}")
        check(getattr(sealbox, k["name"], None) is cls, f"Python: sealbox.{k['name']} is not exported")
        try:
            _native._raise_kind_for_test(k["code"])
            check(False, f"Python: kind {k['name']} raised nothing")
        except sealbox.SealboxError as e:
            check(type(e) is cls, f"Python: kind {k['name']} raised {type(e).__name__}")
    for table, values in contract["tables"].items():
        if table in ("ErrorKind",):
            continue
        cls = getattr(_enums, table, None)
        check(cls is not None, f"Python: _enums.py has no {table}")
        if cls is None:
            continue
        got = [m.value for m in cls]
        if issubclass(cls, enum.IntEnum):
            got = [f"0x{v:04X}" for v in got]
        check(got == values, f"Python: _enums.{table} {got} != core {values}")
    # String defaults in the stubs are names of some table.
    stub = (ROOT / "bindings/python/python/sealbox/_native.pyi").read_text()
    known = {v for vs in contract["tables"].values() for v in vs}
    for lit in re.findall(r'= "([A-Z][A-Z0-9_]+)"', stub):
        check(lit in known, f"Python: _native.pyi default {lit!r} is in no table")


def node(contract: dict[str, Any]) -> None:
    script = r"""
const s = require(process.argv[1]);
const out = {kinds: s.errorKinds(), thrown: {}};
for (const k of out.kinds) {
  try { s.testThrowKind(k.code); out.thrown[k.code] = null; }
  catch (e) { out.thrown[k.code] = [e.code, e instanceof s.SealboxError]; }
}
console.log(JSON.stringify(out));
"""
    r = subprocess.run(["node", "-e", script, str(ROOT / "bindings/node/sealbox.js")],
                       capture_output=True, text=True, check=False)
    check(r.returncode == 0, f"Node: the probe failed: {r.stderr}")
    if r.returncode != 0:
        return
    got = json.loads(r.stdout)
    check([[k["code"], k["name"], k["nodeCode"]] for k in got["kinds"]]
          == [[k["code"], k["name"], k["node_code"]] for k in contract["error_kinds"]],
          "Node: errorKinds() differs from the core")
    for k in contract["error_kinds"]:
        check(got["thrown"].get(str(k["code"])) == [k["node_code"], True],
              f"Node: kind {k['name']} threw {got['thrown'].get(str(k['code']))}, not {k['node_code']}")
    dts = (ROOT / "bindings/node/sealbox.d.ts").read_text()
    m = re.search(r"export type SealboxErrorCode =([^\n]*(?:\n\s*\|[^\n]*)*)", dts)
    union = set(re.findall(r"'(ERR_SEALBOX_[A-Z0-9_]+)'", m.group(1) if m else ""))
    check(union == {k["node_code"] for k in contract["error_kinds"]},
          f"Node: SealboxErrorCode {sorted(union)} != the kinds' codes")
    text = (ROOT / "bindings/node/index.d.ts").read_text() + dts
    tables = {t: set(v) for t, v in contract["tables"].items() if t not in ("ErrorKind", "AlgorithmSuite")}
    unions = re.findall(r"'[^'\n]+'(?:\s*\|\s*'[^'\n]+')+", text)
    for u in unions:
        values = set(re.findall(r"'([^'\n]+)'", u))
        # A union that names values of some table is exactly one of the
        # tables it shares names with (EcdhCurveSpec's names are also KeySpecs).
        near = {t: names for t, names in tables.items() if values & names}
        check(not near or values in near.values(),
              f"Node: TypeScript union {sorted(values)} is none of the tables {sorted(near)}")


def cli(contract: dict[str, Any], binary: str) -> None:
    r = subprocess.run([binary, "exit-codes", "--json"], capture_output=True, text=True, check=False)
    check(r.returncode == 0, f"CLI: exit-codes failed: {r.stderr}")
    rows = {row["kind"]: row for row in json.loads(r.stdout or "[]")}
    doc = (ROOT / "docs/CLI.md").read_text()
    documented = {m[0]: int(m[1]) for m in re.findall(r"^\| `(\w+)` \| (\d+) \|$", doc, re.M)}
    for k in contract["error_kinds"]:
        row = rows.get(k["name"])
        check(row is not None and row["kind_code"] == k["code"], f"CLI: no exit status for kind {k['name']}")
        check(row is not None and documented.get(k["name"]) == row["exit_code"],
              f"CLI: kind {k['name']} exits {row and row['exit_code']}, docs/CLI.md says {documented.get(k['name'])}")
    check(set(documented) == {k["name"] for k in contract["error_kinds"]},
          "CLI: docs/CLI.md's table names other kinds than the core's")


def main() -> int:
    contract = json.loads(Path(sys.argv[1]).read_text())
    check(len(contract["error_kinds"]) > 20, "the contract lists the error kinds")
    c_header(contract)
    python(contract)
    node(contract)
    cli(contract, sys.argv[2])
    print(f"contract: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
