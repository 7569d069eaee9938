#!/usr/bin/env python3
"""The C reference of the documentation site, from include/sealbox.h.

    c_header.py HEADER SITE_DIR

Reads the header that cbindgen writes (`make header`): its preamble, then
each declaration with the doc comment (/** ... */) above it: constants
(#define), the result enum and its codes, handle and struct types (with
their fields), callback types and functions. Writes SITE_DIR/c/index.html
(the preamble, an index by kind and by the handle a function acts on,
then every item with its declaration and its documentation, anchored by
its C name) and SITE_DIR/c/sealbox.h.html (the header itself, highlighted,
with line numbers; each item links to its line).

Fails, naming them, when a constant, type, enum code, struct field or
function has no doc comment: the header is generated, so the fix is a
doc comment on the Rust item in ffi/src, then `make header`.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

import common

PAGE = "c/index.html"
SOURCE_PAGE = "c/sealbox.h.html"


@dataclass
class Member:
    name: str
    decl: str
    doc: str
    line: int


@dataclass
class Item:
    kind: str  # constant, enum, opaque, struct, callback, typedef, function
    name: str
    decl: str
    doc: str
    line: int
    members: list[Member] = field(default_factory=list)


KIND_TITLES = [
    ("constant", "Constants"),
    ("enum", "Enums"),
    ("opaque", "Handle types"),
    ("struct", "Structs"),
    ("callback", "Callback types"),
    ("typedef", "Other types"),
    ("function", "Functions"),
]


def clean_doc(lines: list[str]) -> str:
    """The text of a /** ... */ comment: the ' * ' prefixes removed."""
    out = []
    for raw in lines:
        s = raw.strip()
        if s.startswith("/**"):
            s = s[3:]
        if s.endswith("*/"):
            s = s[:-2]
        s = s.rstrip()
        if s.startswith("* "):
            s = s[2:]
        elif s.strip() == "*":
            s = ""
        elif s.startswith("*"):
            s = s[1:]
        out.append(s.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)



def read_doc_block(lines: list[str], i: int) -> tuple[list[str], int]:
    """The `/** ... */` block starting at line `i`, and the index after it."""
    block: list[str] = []
    start = i
    while True:
        if i >= len(lines):
            raise SystemExit(f"sealbox.h:{start + 1}: unterminated /** comment")
        block.append(lines[i])
        if lines[i].rstrip().endswith("*/"):
            return block, i + 1
        i += 1

def parse(text: str) -> tuple[str, list[Item]]:
    lines = text.splitlines()
    i = 0
    # The preamble: the first /* */ block (cbindgen's `header`).
    preamble: list[str] = []
    if lines and lines[0].startswith("/*") and not lines[0].startswith("/**"):
        while i < len(lines):
            preamble.append(lines[i])
            i += 1
            if preamble[-1].rstrip().endswith("*/"):
                break
    items: list[Item] = []
    doc: list[str] | None = None
    doc_line = 0
    # Conditions of the open #if blocks: a declaration inside a
    # __cplusplus / __STDC_VERSION__ block is the C/C++ plumbing of an
    # item documented elsewhere (typedef aliases, extern "C").
    cond: list[str] = []
    guard = None
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("/**"):
            doc_line = i + 1
            doc, i = read_doc_block(lines, i)
            continue
        if s.startswith("/*") or s.startswith("//") or not s:
            i += 1
            continue
        if s.startswith("#"):
            directive = s[1:].split(None, 1)
            word = directive[0] if directive else ""
            rest = directive[1] if len(directive) > 1 else ""
            if word in ("if", "ifdef", "ifndef"):
                if guard is None and word == "ifndef":
                    guard = rest.strip()
                cond.append(rest)
            elif word == "endif":
                if cond:
                    cond.pop()
            elif word == "define":
                m = re.match(r"#\s*define\s+(\w+)\s+(.+)$", s)
                if m and m.group(1) != guard:
                    items.append(Item("constant", m.group(1), s, clean_doc(doc) if doc else "", i + 1))
                doc = None
            i += 1
            continue
        if s.startswith('extern "C"') or s == "}":
            i += 1  # the C++ linkage block around the functions
            continue
        plumbing = any("__cplusplus" in c or "__STDC_VERSION__" in c for c in cond)
        # A declaration: up to the ';' that closes it at brace depth 0.
        start = i
        decl_lines: list[str] = []
        member_doc: list[str] | None = None
        members: list[Member] = []
        depth = 0
        while i < len(lines):
            cur = lines[i]
            cs = cur.strip()
            if depth > 0 and cs.startswith("/**"):
                member_doc, i = read_doc_block(lines, i)
                continue
            decl_lines.append(cur)
            if depth > 0 and cs and not cs.startswith(("#", "}")):
                m = re.search(r"(\w+)\s*(?:=\s*[^,]+)?[,;]?\s*$", cs)
                if m:
                    members.append(
                        Member(m.group(1), cs.rstrip(","), clean_doc(member_doc) if member_doc else "", i + 1)
                    )
                member_doc = None
            depth += cur.count("{") - cur.count("}")
            i += 1
            if depth == 0 and cs.endswith(";"):
                break
        decl = "\n".join(decl_lines)
        if plumbing:
            doc = None
            continue
        items.append(classify(decl, clean_doc(doc) if doc else "", start + 1, members))
        doc = None
    if preamble:
        preamble[0] = preamble[0].replace("/*", "/**", 1)
    pre = clean_doc(preamble) if preamble else ""
    return pre, items


def classify(decl: str, doc: str, line: int, members: list[Member]) -> Item:
    flat = " ".join(decl.split())
    if flat.startswith("enum "):
        name = flat.split()[1]
        return Item("enum", name, decl, doc, line, members)
    m = re.match(r"typedef struct (\w+) (\w+);$", flat)
    if m:
        return Item("opaque", m.group(2), decl, doc, line)
    m = re.match(r"typedef struct (\w+) \{.*\} (\w+);$", flat)
    if m:
        return Item("struct", m.group(2), decl, doc, line, members)
    m = re.match(r"typedef .*\(\*(\w+)\)\(.*\);$", flat)
    if m:
        return Item("callback", m.group(1), decl, doc, line)
    m = re.match(r"typedef .* (\w+);$", flat)
    if m:
        return Item("typedef", m.group(1), decl, doc, line)
    m = re.match(r"(.*?)(\w+)\((.*)\);$", flat)
    if m:
        if len(flat) > 80 and m.group(3):
            # One parameter a line, as a reader would write it.
            params = ",\n    ".join(p.strip() for p in m.group(3).split(","))
            flat = f"{m.group(1)}{m.group(2)}(\n    {params});"
        return Item("function", m.group(2), flat, doc, line)
    raise SystemExit(f"sealbox.h:{line}: cannot classify declaration: {flat}")


# ---- rendering --------------------------------------------------------------

def link_names(md_text: str, names: set[str]) -> str:
    """Puts the header's names that a doc mentions in plain text into code
    spans (outside fenced code), so that they become links below."""
    ident = re.compile(r"(?<![\w`])((?:sealbox|SEALBOX)_\w+)(\(\))?(?![\w`])")
    out, fenced = [], False
    for line in md_text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = re.split(r"(`[^`]*`)", line)
        for k in range(0, len(parts), 2):
            parts[k] = ident.sub(
                lambda m: f"`{m.group(1)}{m.group(2) or ''}`" if m.group(1) in names else m.group(0),
                parts[k],
            )
        out.append("".join(parts))
    return "\n".join(out)


def render_doc(md: MarkdownIt, text: str, names: set[str], self_name: str | None = None) -> str:
    out = md.render(link_names(text, names))

    def code(m: re.Match[str]) -> str:
        name = html.unescape(m.group(1))
        base = re.sub(r"\(\)$", "", name)
        if base in names and base != self_name:
            return f'<a href="#{base}">{m.group(0)}</a>'
        return m.group(0)

    return re.sub(r"<code>([^<]+)</code>", code, out)


def group_of(fn: str, types: list[str]) -> str:
    """The handle type a function acts on: the longest type name that
    prefixes it (sealbox_keystore_options_new -> sealbox_keystore_options)."""
    best = ""
    for t in types:
        if fn.startswith(t + "_") and len(t) > len(best):
            best = t
    return best or "general"


def render(pre: str, items: list[Item], header_name: str) -> str:
    md = common.markdown()
    names = {it.name for it in items} | {m.name for it in items if it.kind == "enum" for m in it.members}
    src = common.rel(PAGE, SOURCE_PAGE)

    # The index: kinds, and the functions by the handle they act on.
    type_names = sorted(it.name for it in items if it.kind in ("opaque", "struct", "enum"))
    idx = ['<div class="c-index">']
    for kind, title in KIND_TITLES:
        of_kind = [it for it in items if it.kind == kind]
        if not of_kind or kind == "function":
            continue
        idx.append(f"<h3>{title}</h3>\n<ul>")
        idx += [f'<li><a href="#{it.name}"><code>{it.name}</code></a></li>' for it in sorted(of_kind, key=lambda x: x.name)]
        idx.append("</ul>")
    groups: dict[str, list[Item]] = {}
    for it in items:
        if it.kind == "function":
            groups.setdefault(group_of(it.name, type_names), []).append(it)
    idx.append("<h3>Functions, by the type they act on</h3>")
    for g in sorted(groups, key=lambda g: (g == "general", g)):
        label = "general" if g == "general" else f'<a href="#{g}"><code>{g}</code></a>'
        idx.append(f"<h4>{label}</h4>\n<ul>")
        idx += [f'<li><a href="#{it.name}"><code>{it.name}</code></a></li>' for it in groups[g]]
        idx.append("</ul>")
    idx.append("</div>")

    sections = []
    for kind, title in KIND_TITLES:
        of_kind = [it for it in items if it.kind == kind]
        if not of_kind:
            continue
        sections.append(f'<h2 id="{kind}s">{title}</h2>')
        for it in of_kind:
            decl = common.highlight_block(it.decl.strip(), "c")
            body = [
                f'<section class="c-item">\n<h3 id="{it.name}"><code>{it.name}</code></h3>',
                f'<p class="c-where">{kind}, <a href="{src}#L-{it.line}">{header_name}:{it.line}</a></p>',
                decl,
                render_doc(md, it.doc, names, it.name),
            ]
            if it.members:
                label = "Codes" if it.kind == "enum" else "Fields"
                body.append(f"<h4>{label}</h4>\n<dl class=\"c-members\">")
                for mem in it.members:
                    anchor = f' id="{mem.name}"' if it.kind == "enum" else f' id="{it.name}.{mem.name}"'
                    body.append(
                        f"<dt{anchor}><code>{html.escape(mem.decl)}</code></dt>\n"
                        f"<dd>{render_doc(md, mem.doc, names, mem.name)}</dd>"
                    )
                body.append("</dl>")
            body.append("</section>")
            sections.append("\n".join(body))

    counts = ", ".join(
        f"{t.lower()}: {sum(1 for it in items if it.kind == k)}" for k, t in KIND_TITLES if any(it.kind == k for it in items)
    )
    head = (
        f"<h1>C API: <code>{header_name}</code></h1>\n"
        f'<p class="crumb">generated by cbindgen from <code>ffi/</code> (<code>make header</code>); '
        f'<a href="{src}">the header itself</a>; {counts}</p>\n'
    )
    return head + render_doc(md, pre, names) + "\n<h2>Index</h2>\n" + "\n".join(idx) + "\n" + "\n".join(sections)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    header, site = Path(sys.argv[1]), Path(sys.argv[2])
    text = header.read_text(encoding="utf-8")
    pre, items = parse(text)
    missing = [f"{header.name}:{it.line}: {it.kind} {it.name}" for it in items if not it.doc.strip()]
    missing += [
        f"{header.name}:{m.line}: {'code' if it.kind == 'enum' else 'field'} {it.name}.{m.name}"
        for it in items
        for m in it.members
        if not m.doc.strip()
    ]
    seen: dict[str, int] = {}
    for it in items:
        if it.name in seen:
            missing.append(f"{header.name}:{it.line}: {it.name} declared twice (line {seen[it.name]})")
        seen[it.name] = it.line
    if missing:
        print(f"{len(missing)} items of {header.name} without documentation (add a doc comment in ffi/src, then `make header`):", file=sys.stderr)
        for m in missing:
            print("  " + m, file=sys.stderr)
        return 1
    name = header.name
    common.write(site, PAGE, common.page(PAGE, f"C API ({name})", render(pre, items, name), nav_current=PAGE))
    code = common.highlight_file(name, text)
    body = f'<h1><code>include/{name}</code></h1>\n<p class="crumb"><a href="index.html">the C reference</a></p>\n{code}'
    common.write(site, SOURCE_PAGE, common.page(SOURCE_PAGE, name, body, nav_current=PAGE))
    n = sum(1 for it in items if it.kind == "function")
    print(f"c: {len(items)} items documented ({n} functions) from {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
