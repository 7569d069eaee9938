#!/usr/bin/env python3
"""The Python reference of the documentation site (pdoc).

    python_api.py SITE_DIR        # with the venv's python, sealbox installed

Documents the installed package `sealbox` (and its public submodule
`sealbox.exceptions`) into SITE_DIR/python with pdoc, from the docstrings
and the type stubs, with these additions to what pdoc does by itself:

- `#:` comments above an attribute (an enum member, a dataclass field, a
  class attribute) are its documentation, as Sphinx reads them; pdoc reads
  only a string after the attribute;
- the classes of the native module, re-exported by `sealbox`, take their
  signatures and any docstring their runtime object lacks from
  `_native.pyi` (pdoc applies a stub file only to its own module);
- an attribute that a subclass sets again (`kind` of every exception)
  keeps the documentation of the base class's attribute;
- what a class inherits from a base that is not part of the API
  (`KeyStore`'s secrets methods, from a private mixin) is shown, and
  checked, as the class's own.

Then every public class, function, method, property and attribute must
have documentation (dunder methods and `__init__`, which the class's
docstring covers, excepted). If one has none, it is named and the script
exits 1 before writing anything.
"""

from __future__ import annotations

import __future__
import ast
import io
import sys
import tokenize
import types
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import pdoc
import pdoc.doc
import pdoc.doc_pyi
import pdoc.extract
import pdoc.render

MODULES = ["sealbox", "sealbox.exceptions"]
NATIVE = "sealbox._native"


def comment_docs(source: str, module: str) -> dict[tuple[str, str], str]:
    """{(module, qualname): text} of the `#:` comments of a module: the
    block of `#:` lines right above an assignment, or one after it on the
    same line."""
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.string.startswith("#:"):
            comments[tok.start[0]] = tok.string[2:].strip()
    lines = source.splitlines()
    found: dict[tuple[str, str], str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
                continue
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if not names:
                continue
            block: list[str] = []
            n = node.lineno - 1
            while n in comments and lines[n - 1].lstrip().startswith("#:"):
                block.insert(0, comments[n])
                n -= 1
            if not block and node.lineno in comments:
                block = [comments[node.lineno]]
            if block:
                for name in names:
                    found[(module, prefix + name)] = " ".join(block).strip()

    visit(ast.parse(source).body, "")
    return found


def package_comment_docs() -> dict[tuple[str, str], str]:
    import sealbox

    found: dict[tuple[str, str], str] = {}
    pkg_dir = Path(sealbox.__file__).parent
    for path in sorted(pkg_dir.glob("*.py")):
        mod = "sealbox" if path.stem == "__init__" else f"sealbox.{path.stem}"
        found.update(comment_docs(path.read_text(encoding="utf-8"), mod))
    return found


def native_stub() -> tuple[pdoc.doc.Module, object] | None:
    stub_file = pdoc.doc_pyi.find_stub_file(NATIVE)
    if stub_file is None:
        return None
    # Executed as if it began with `from __future__ import annotations`:
    # a stub may name a class in its own body (`-> RootKey`), which a type
    # checker reads and plain execution does not.
    imported = types.ModuleType(NATIVE)
    imported.__file__ = str(stub_file)
    code = compile(
        stub_file.read_text(encoding="utf-8"), str(stub_file), "exec",
        flags=__future__.annotations.compiler_flag, dont_inherit=True,
    )
    exec(code, imported.__dict__)
    return pdoc.doc.Module(imported), imported


def inherited_doc(obj: object, name: str, docs: dict[tuple[str, str], str]) -> str:
    """The documentation of attribute `name` on the first base class of
    `obj` that documents it."""
    for base in getattr(obj, "__mro__", ())[1:]:
        key = (base.__module__, f"{base.__qualname__}.{name}")
        if key in docs:
            return docs[key]
    return ""


def fold_private_bases(cls: pdoc.doc.Class) -> None:
    """Shows what a class inherits from a base that is not part of the
    API (`KeyStore` from `_secrets.SecretsMixin`) as the class's own
    members: pdoc lists inherited members only as links to the base's
    page, and a private base has none."""
    import sealbox

    folded = []
    for (mod, qualname), members in list(cls.inherited_members.items()):
        base = getattr(sys.modules.get(mod), qualname, None)
        exported = getattr(sealbox, qualname.split(".")[-1], None) is base
        if mod.startswith("sealbox.") and base is not None and not exported:
            folded += members
            del cls.inherited_members[(mod, qualname)]
    if folded:
        names = {m.name for m in cls.own_members}
        cls.own_members = cls.own_members + [m for m in folded if m.name not in names]


def in_stub_order(cls: pdoc.doc.Class, stub_mod: pdoc.doc.Module) -> None:
    """Orders a native class's members as its stub declares them. PyO3
    fills a class's dict from a hash map (properties, at least), in an
    order that changes from one process to the next; the stub's is fixed."""
    stub_cls = stub_mod.get(cls.qualname)
    order = {name: i for i, name in enumerate(stub_cls.members)} if isinstance(stub_cls, pdoc.doc.Class) else {}

    def key(m: pdoc.doc.Doc[Any]) -> tuple[int, str]:
        return order.get(m.name, len(order)), m.name

    cls.own_members = sorted(cls.own_members, key=key)
    cls.members = dict(sorted(cls.members.items(), key=lambda kv: key(kv[1])))


def public(d: pdoc.doc.Doc[Any]) -> bool:
    return not d.name.startswith("_")


def complete(module: pdoc.doc.Module, docs: dict[tuple[str, str], str], stub) -> None:  # type: ignore[no-untyped-def]
    """Applies the additions (module docstring) to `module`."""

    def walk(ns: pdoc.doc.Namespace[Any], owner: object) -> None:
        for member in ns.own_members:
            if isinstance(member, pdoc.doc.Variable) and not member.docstring.strip():
                member.docstring = docs.get(member.taken_from, "") or inherited_doc(owner, member.name, docs)
            if isinstance(member, pdoc.doc.Class):
                fold_private_bases(member)
                if stub is not None and member.taken_from[0] == NATIVE:
                    stub_mod, imported = stub
                    pdoc.doc_pyi._prepare_module(member)
                    with mock.patch.dict("sys.modules", {NATIVE: imported}):
                        pdoc.doc_pyi._patch_doc(member, stub_mod)
                    in_stub_order(member, stub_mod)
                walk(member, member.obj)

    walk(module, None)


def missing_docs(module: pdoc.doc.Module) -> list[str]:
    out = []

    def walk(ns: pdoc.doc.Namespace[Any]) -> None:
        for member in ns.own_members:
            if not public(member):
                continue
            if not member.docstring.strip():
                out.append(f"{member.kind} {member.fullname} (from {member.taken_from[0]})")
            if isinstance(member, pdoc.doc.Class):
                walk(member)

    if not module.docstring.strip():
        out.append(f"module {module.fullname}")
    walk(module)
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(sys.argv[1])
    # Type-stub or annotation trouble is a failure, not a note in passing.
    warnings.simplefilter("error")

    pdoc.render.configure(
        docformat="restructuredtext",
        show_source=False,
        footer_text="sealbox: the Python package",
        # module.html.jinja2: pdoc's own, with a link to the site's home.
        template_directory=Path(__file__).parent / "pdoc",
    )
    docs = package_comment_docs()
    stub = native_stub()
    modules = {name: pdoc.doc.Module.from_name(name) for name in MODULES}
    problems = []
    for mod in modules.values():
        complete(mod, docs, stub)
        problems += missing_docs(mod)
    if problems:
        print(f"{len(problems)} public Python items without documentation:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1

    pages = 0
    for mod in modules.values():
        path = out_dir / f"{mod.fullname.replace('.', '/')}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pdoc.render.html_module(mod, modules), encoding="utf-8")
        pages += 1
    (out_dir / "index.html").write_text(pdoc.render.html_index(modules), encoding="utf-8")
    search = pdoc.render.search_index(modules)
    if search:
        (out_dir / "search.js").write_text(search, encoding="utf-8")
    print(f"python: {pages} module pages ({', '.join(modules)}), every public item documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
