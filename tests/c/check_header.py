"""Checks include/sealbox.h against the library and the C tests:

1. every function and type in the header has a doc comment that says who
   owns what ("Ownership") and whether it is thread-safe ("Thread safety");
2. the shared library exports exactly the functions the header declares;
3. every function of the header is called somewhere in tests/c/*.c.

    python3 check_header.py HEADER LIBSEALBOX_SO TESTS_DIR

Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FUNCTION = re.compile(r"^[a-z][\w\s\*]*?\b(sealbox_\w+)\(")
TYPE = re.compile(r"^(?:typedef\s+(?:struct|enum)?\s*[\w\s\*\(]*?\b(sealbox_\w+)\b|enum\s+(sealbox_\w+))")


def items(header: str):
    """(kind, name, doc) for each function and type, doc being the comment
    block right above it ("" if none)."""
    lines = header.splitlines()
    for i, line in enumerate(lines):
        m = FUNCTION.match(line)
        kind = "function"
        name = m.group(1) if m else None
        if not m:
            t = TYPE.match(line)
            if not t:
                continue
            kind, name = "type", t.group(1) or t.group(2)
            # `typedef uint32_t sealbox_result;` and the C23 form repeat the
            # enum, documented above it.
            if line.startswith("typedef") and "sealbox_result" in line and "{" not in line:
                continue
        j = i - 1
        while j >= 0 and lines[j].startswith("#"):
            j -= 1
        doc = []
        if j >= 0 and lines[j].strip() == "*/":
            while j >= 0 and not lines[j].lstrip().startswith("/**"):
                doc.append(lines[j])
                j -= 1
        yield kind, name, "\n".join(reversed(doc))


def main() -> int:
    header_path, lib, tests_dir = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    header = header_path.read_text()
    problems = []
    functions = set()
    seen_types = set()
    for kind, name, doc in items(header):
        if kind == "function":
            functions.add(name)
        else:
            if name in seen_types:
                continue
            seen_types.add(name)
        if not doc:
            problems.append(f"{kind} {name}: no doc comment")
            continue
        for word in ("Ownership", "Thread safety"):
            if word not in doc:
                problems.append(f"{kind} {name}: the doc comment does not say {word!r}")

    nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True)
    exported = {l.split()[-1] for l in nm.stdout.splitlines() if l.split() and l.split()[-1].startswith("sealbox_")}
    for name in sorted(exported - functions):
        problems.append(f"{name}: exported by the library but not in the header")
    for name in sorted(functions - exported):
        problems.append(f"{name}: in the header but not exported by the library")

    used = set()
    for src in sorted(tests_dir.glob("*.c")):
        used |= set(re.findall(r"\b(sealbox_\w+)\s*\(", src.read_text()))
    for name in sorted(functions - used):
        problems.append(f"{name}: no C test calls it")

    for p in problems:
        print(f"check_header: {p}")
    print(
        f"check_header: {len(functions)} functions, {len(seen_types)} types; "
        f"{len(exported)} exported; {len(functions & used)} called from tests/c; "
        f"{len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
