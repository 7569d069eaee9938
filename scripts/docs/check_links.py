#!/usr/bin/env python3
"""Checks every relative link of a static site (the last step of `make docs`).

    check_links.py SITE_DIR [--optional GLOB]...

Walks every .html (and .css) file under SITE_DIR. Each relative href/src
(a, link, script, img, iframe, source, area; url() in CSS) must name a file
inside SITE_DIR (a directory counts when it has an index.html), and a
#fragment must be an id (or an <a name>) of the page it points into (a
range of lines, #12-20, needs both lines). A missing file that matches an --optional glob is allowed
(rustdoc refers every trait page to trait.impl/<path>.js, the list of
implementors in other crates, but writes that file only when there are
some). External links (http:, https:, mailto: ...) are not fetched:
there is no network where this runs; they are only counted.

Prints how many pages each top-level section has and how many links were
checked; prints every broken link and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import fnmatch
import posixpath
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src",),
    "iframe": ("src",),
    "source": ("src",),
    "embed": ("src",),
}
LINE_RANGE = re.compile(r"L?-?(\d+)-L?(\d+)")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = {k: v for k, v in attrs if v is not None}
        if "id" in d:
            self.ids.add(d["id"])
        if tag == "a" and "name" in d:
            self.ids.add(d["name"])
        for attr in LINK_ATTRS.get(tag, ()):
            if attr in d:
                self.links.append((self.getpos()[0], d[attr]))

    handle_startendtag = handle_starttag


def external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--optional", action="append", default=[], metavar="GLOB")
    args = ap.parse_args()
    root: Path = args.site.resolve()

    pages: dict[str, Page] = {}
    css_links: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".html":
            p = Page()
            p.feed(path.read_text(encoding="utf-8", errors="replace"))
            p.close()
            pages[rel] = p
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8", errors="replace")
            css_links[rel] = [
                (text.count("\n", 0, m.start()) + 1, m.group(2)) for m in CSS_URL.finditer(text)
            ]

    broken: list[str] = []
    optional_missing: set[str] = set()
    checked = fragments = externals = 0

    def check(source: str, line: int, url: str) -> None:
        nonlocal checked, fragments, externals
        url = url.strip()
        if not url or url.startswith(("javascript:", "data:")):
            return
        if external(url):
            externals += 1
            return
        checked += 1
        parts = urlsplit(url)
        if parts.path.startswith("/"):
            broken.append(f"{source}:{line}: {url} (absolute path: not portable)")
            return
        if parts.path:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(parts.path)))
        else:
            target = source
        if target == ".." or target.startswith("../"):
            broken.append(f"{source}:{line}: {url} (outside the site)")
            return
        full = root / target
        if full.is_dir():
            target = posixpath.join(target, "index.html")
            full = root / target
        if not full.is_file():
            if any(fnmatch.fnmatchcase(target, g) for g in args.optional):
                optional_missing.add(target)
                return
            broken.append(f"{source}:{line}: {url} (no file {target})")
            return
        frag = unquote(parts.fragment)
        if not frag or frag == "top" or not target.endswith(".html"):
            return
        fragments += 1
        ids = pages[target].ids
        if parts.fragment in ids or frag in ids:
            return
        lines = LINE_RANGE.fullmatch(frag)
        if lines and lines.group(1) in ids and lines.group(2) in ids:
            return  # a range of lines of a source page (rustdoc: #12-20)
        broken.append(f"{source}:{line}: {url} (no id '{frag}' in {target})")

    for source, page in pages.items():
        for line, url in page.links:
            check(source, line, url)
    for source, links in css_links.items():
        for line, url in links:
            check(source, line, url)

    sections = Counter(
        rel.split("/", 1)[0] if rel.split("/", 1)[0] in ("rust", "python", "node", "c") else "guides, examples, sources"
        for rel in pages
    )
    print(
        "pages: "
        + ", ".join(f"{name} {n}" for name, n in sorted(sections.items()))
        + f" ({len(pages)} in all)"
    )
    print(
        f"links: {checked} relative links checked ({fragments} with a #fragment), "
        f"{externals} external links not fetched, {len(broken)} broken"
        + (f" ({len(optional_missing)} optional files absent)" if optional_missing else "")
    )
    if broken:
        print("broken links:", file=sys.stderr)
        for b in broken:
            print("  " + b, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
