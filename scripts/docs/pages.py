#!/usr/bin/env python3
"""The hand-written part of the documentation site (`make docs`).

    pages.py REPO_ROOT SITE_DIR

Writes into SITE_DIR (target/docs):

- the Markdown pages (README.md, docs/*.md, the packages' READMEs) as
  HTML at their own paths (docs/FORMAT.md -> docs/FORMAT.html);
- the examples, each file as a highlighted page with line numbers, and
  examples/index.html listing them with the first lines of their header
  comments;
- every other file or directory of the repository that a Markdown page
  links to, as a highlighted page (a file) or a listing of its files (a
  directory), so that no link leaves the site;
- index.html, which links everything, and site.css.

Relative links in the Markdown are rewritten to the pages: a link to
another .md file goes to its .html; `include/sealbox.h` goes to the C
reference (c/index.html); a directory with a rendered README.md goes to
that page; other files and directories go to their pages. Code spans
that name such a path (`examples/python/quickstart.py`) become links too.
A link to something that does not exist is left as written: the link
check (check_links.py) then reports it.

The API references (rust/, python/, node/, c/) are written by the other
steps of `make docs`; index.html links them.
"""

from __future__ import annotations

import ast
import html
import os
import posixpath
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

import common

# The Markdown that becomes pages: (path, one-line description for the index).
MD_PAGES = [
    ("README.md", "what sealbox is, its status, and a quickstart for each language"),
    ("docs/ARCHITECTURE.md", "the layers, where each concern lives, how a call travels"),
    ("docs/CLI.md", "the manual of the `sealbox` command line"),
    ("docs/FORMAT.md", "every byte that sealbox writes, and what it checks on read"),
    ("docs/SECURITY.md", "the threat model"),
    ("bindings/python/README.md", "the Python package"),
    ("bindings/node/README.md", "the Node package"),
]
MD_PATHS = {p for p, _ in MD_PAGES}

# Repository paths that have a page of their own elsewhere in the site.
SPECIAL = {"include/sealbox.h": "c/index.html"}

API = [
    ("Rust", "rust/sealbox/index.html", "crate <code>sealbox</code> (rustdoc): the core"),
    ("Python", "python/sealbox.html", "package <code>sealbox</code> (pdoc, from the docstrings and the type stubs)"),
    ("Node", "node/index.html", "package <code>sealbox</code> (TypeDoc, from <code>sealbox.d.ts</code> and the generated <code>index.d.ts</code>)"),
    ("C", "c/index.html", "<code>include/sealbox.h</code>: functions, types, enums and constants"),
]

# Never listed nor shown: build output, caches, tools' state.
SKIP_DIRS = {"node_modules", "target", "__pycache__", ".git", ".venv", ".tools"}
SKIP_SUFFIXES = (".node", ".so", ".a", ".pyc")


class Site:
    def __init__(self, repo: Path, out: Path) -> None:
        self.repo = repo
        self.out = out
        self.md = common.markdown()
        self.source_files: set[str] = set()
        self.source_dirs: set[str] = set()

    # ---- where a repository path is shown -----------------------------------

    def exists(self, repo_path: str) -> bool:
        return (self.repo / repo_path).exists()

    def is_dir(self, repo_path: str) -> bool:
        return repo_path == "" or (self.repo / repo_path).is_dir()

    def page_of(self, repo_path: str) -> str | None:
        """The site path showing `repo_path` ('' is the repository root),
        which is then written; None when the path does not exist or is not
        text."""
        if repo_path in MD_PATHS:
            return repo_path[:-3] + ".html"
        if repo_path in SPECIAL:
            return SPECIAL[repo_path]
        if not self.exists(repo_path):
            return None
        if self.is_dir(repo_path):
            readme = posixpath.join(repo_path, "README.md") if repo_path else "README.md"
            if readme in MD_PATHS:
                return readme[:-3] + ".html"
            self.source_dirs.add(repo_path)
            return posixpath.join(repo_path, "index.html")
        if not self.shown(repo_path):
            return None
        self.source_files.add(repo_path)
        return repo_path + ".html"

    def shown(self, repo_path: str) -> bool:
        """Whether a file gets a page: text, not a build artefact."""
        if repo_path.endswith(SKIP_SUFFIXES):
            return False
        try:
            (self.repo / repo_path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            return False
        return True

    def files_under(self, repo_dir: str) -> list[str]:
        found = []
        base = self.repo / repo_dir
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = Path(dirpath) / name
                found.append(full.relative_to(self.repo).as_posix())
        return found

    # ---- Markdown ------------------------------------------------------------

    def rewrite_url(self, url: str, md_path: str, page_path: str) -> str:
        """A link of the Markdown file `md_path`, as seen from its page."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "/")) or not parts.path:
            return url
        target = posixpath.normpath(posixpath.join(posixpath.dirname(md_path), unquote(parts.path)))
        if target == ".":
            target = ""
        if target.startswith("../"):
            return url  # outside the repository: reported by the link check
        dest = self.page_of(target)
        if dest is None:
            return url
        new = common.rel(page_path, dest)
        if parts.fragment:
            new += "#" + parts.fragment
        return new

    def code_link(self, text: str, md_path: str) -> str | None:
        """The repository path that a code span names, if it is one that
        has a page (an .md page, the header, an example): e.g.
        `examples/python/quickstart.py`, `docs/FORMAT.md`."""
        if not re.fullmatch(r"[A-Za-z0-9_./-]+", text) or "/" not in text.rstrip("/"):
            return None
        for base in ("", posixpath.dirname(md_path)):
            cand = posixpath.normpath(posixpath.join(base, text))
            if cand.startswith("../") or not self.exists(cand):
                continue
            if cand in MD_PATHS or cand in SPECIAL or cand == "examples" or cand.startswith("examples/"):
                return cand
        return None

    def render_markdown(self, md_path: str) -> tuple[str, str]:
        """(title, body HTML) of a Markdown file, links rewritten."""
        text = (self.repo / md_path).read_text(encoding="utf-8")
        page_path = md_path[:-3] + ".html"
        tokens = self.md.parse(text)
        title = md_path
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open" and tok.tag == "h1":
                title = tokens[i + 1].content
                break
        for tok in tokens:
            if tok.type != "inline" or not tok.children:
                continue
            children: list[Token] = []
            in_link = 0
            for child in tok.children:
                if child.type == "link_open":
                    in_link += 1
                    href = str(child.attrGet("href") or "")
                    child.attrSet("href", self.rewrite_url(href, md_path, page_path))
                elif child.type == "link_close":
                    in_link -= 1
                elif child.type == "image":
                    src = str(child.attrGet("src") or "")
                    child.attrSet("src", self.rewrite_url(src, md_path, page_path))
                elif child.type == "code_inline" and not in_link:
                    target = self.code_link(child.content, md_path)
                    dest = self.page_of(target) if target is not None else None
                    if dest is not None:
                        link = Token("link_open", "a", 1)
                        link.attrSet("href", common.rel(page_path, dest))
                        children += [link, child, Token("link_close", "a", -1)]
                        continue
                children.append(child)
            tok.children = children
        body = self.md.renderer.render(tokens, self.md.options, {})
        return title, body

    # ---- source pages ----------------------------------------------------------

    def listing_of(self, repo_path: str) -> str | None:
        """The nearest directory above `repo_path` that has a listing."""
        d = posixpath.dirname(repo_path)
        while d:
            if d in self.source_dirs:
                return d
            d = posixpath.dirname(d)
        return None

    def breadcrumb(self, repo_path: str, page_path: str) -> str:
        up = self.listing_of(repo_path)
        if up is None:
            return ""
        href = common.rel(page_path, posixpath.join(up, "index.html"))
        return f'<p class="crumb">in <a href="{html.escape(href)}">{html.escape(up)}/</a></p>\n'

    def write_source_page(self, repo_path: str) -> None:
        page_path = repo_path + ".html"
        code = (self.repo / repo_path).read_text(encoding="utf-8")
        body = (
            f"<h1><code>{html.escape(repo_path)}</code></h1>\n"
            + self.breadcrumb(repo_path, page_path)
            + common.highlight_file(repo_path, code)
        )
        common.write(self.out, page_path, common.page(page_path, repo_path, body))

    def write_listing(self, repo_dir: str, *, title: str | None = None, intro: str = "") -> None:
        page_path = posixpath.join(repo_dir, "index.html")
        rows = []
        for f in self.files_under(repo_dir):
            name = html.escape(posixpath.relpath(f, repo_dir))
            dest = self.page_of(f)
            cell = f'<a href="{html.escape(common.rel(page_path, dest))}"><code>{name}</code></a>' if dest else f"<code>{name}</code>"
            summary = self.md.renderInline(leading_comment(self.repo / f)) if dest else ""
            rows.append(f"<tr><td>{cell}</td><td>{summary}</td></tr>")
        heading = html.escape(title) if title else f"<code>{html.escape(repo_dir)}/</code>"
        body = (
            f"<h1>{heading}</h1>\n{intro}"
            + self.breadcrumb(repo_dir, page_path)
            + '<table class="listing">\n<tr><th>file</th><th>what it is</th></tr>\n'
            + "\n".join(rows)
            + "\n</table>"
        )
        nav = "examples/index.html" if repo_dir == "examples" else None
        common.write(
            self.out, page_path,
            common.page(page_path, title or repo_dir + "/", body, nav_current=nav),
        )

    # ---- the whole ---------------------------------------------------------------

    def build(self) -> dict[str, int]:
        counts = {"markdown": 0, "examples": 0, "source": 0}
        common.write(self.out, common.CSS_PATH, SITE_CSS + common.pygments_css())

        self.source_dirs.add("examples")
        for f in self.files_under("examples"):
            self.page_of(f)

        titles = {}
        for md_path, _ in MD_PAGES:
            title, body = self.render_markdown(md_path)
            titles[md_path] = title
            page_path = md_path[:-3] + ".html"
            source_note = f'<p class="crumb">from <code>{html.escape(md_path)}</code></p>\n'
            common.write(
                self.out, page_path,
                common.page(
                    page_path, common.plain(self.md.renderInline(title)), source_note + body,
                    nav_current=page_path,
                ),
            )
            counts["markdown"] += 1

        # Listing a directory adds its files; a file's page needs nothing more.
        for d in sorted(self.source_dirs):
            for f in self.files_under(d):
                self.page_of(f)
        for d in sorted(self.source_dirs):
            if d == "examples":
                self.write_listing(
                    d, title="Examples",
                    intro="<p>Runnable programs, one per way in: the C library, the Python and "
                    "Node packages and the command line (<code>make demo</code> runs them all).</p>\n",
                )
            else:
                self.write_listing(d)
        for f in sorted(self.source_files):
            self.write_source_page(f)
            counts["examples" if f.startswith("examples/") else "source"] += 1

        self.write_index(titles)
        return counts

    def write_index(self, titles: dict[str, str]) -> None:
        guides = []
        for md_path, what in MD_PAGES:
            href = md_path[:-3] + ".html"
            what_html = self.md.renderInline(what)
            guides.append(
                f'<li><a href="{href}">{self.md.renderInline(titles[md_path])}</a> '
                f"(<code>{html.escape(md_path)}</code>): {what_html}</li>"
            )
        apis = [
            f'<li><a href="{href}">{lang}</a>: {what}</li>' for lang, href, what in API
        ]
        examples = []
        for f in self.files_under("examples"):
            if f in self.source_files:
                examples.append(
                    f'<li><a href="{html.escape(f)}.html"><code>{html.escape(f)}</code></a>: '
                    f"{self.md.renderInline(leading_comment(self.repo / f))}</li>"
                )
        intro = (
            "<p>sealbox is an embeddable key-management service: a Rust core with a key "
            "store for master keys and envelope encryption in the AWS Encryption SDK "
            "message format, wrapped by a C library, a Python package, a Node package "
            "and a command line.</p>"
        )
        body = (
            f"<h1>{common.SITE_TITLE}</h1>\n{intro}\n"
            "<h2>Guides</h2>\n<ul>\n" + "\n".join(guides) + "\n</ul>\n"
            "<h2>API reference</h2>\n<ul>\n" + "\n".join(apis) + "\n</ul>\n"
            '<h2>Examples</h2>\n<p>All of them: <a href="examples/index.html">examples/</a>.</p>\n'
            "<ul>\n" + "\n".join(examples) + "\n</ul>\n"
        )
        common.write(self.out, "index.html", common.page("index.html", "Home", body, nav_current="index.html"))


_COMMENT = re.compile(r"^(?:/\*+|\*+(?!/)|//[/!]?|#+)\s?(.*?)\s*(?:\*+/)?$")


def leading_comment(path: Path) -> str:
    """The first paragraph of a file's header comment (a Python module's
    docstring), on one line; '' when it has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""
    if path.suffix in (".py", ".pyi"):
        try:
            doc = ast.get_docstring(ast.parse(text)) or ""
        except SyntaxError:
            return ""
        return " ".join(doc.split("\n\n")[0].split())
    para: list[str] = []
    for line in text.splitlines()[:60]:
        s = line.strip()
        if not para and (s.startswith("#!") or s in ("", "'use strict'", '"use strict"')):
            continue
        m = _COMMENT.match(s)
        if not m or s == "*/":
            break
        if not m.group(1):
            if para:
                break
            continue
        para.append(m.group(1).removeprefix("# "))
    return " ".join(para)


SITE_CSS = """\
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
nav.site { background: #24292f; padding: .6em 1.2em; position: sticky; top: 0; z-index: 1; }
nav.site a { color: #e6edf3; text-decoration: none; margin-right: 1.1em; font-size: .95em; }
nav.site a.current, nav.site a:hover { color: #fff; text-decoration: underline; }
main { max-width: 60em; margin: 0 auto; padding: 1em 1.5em 4em; }
a { color: #0969da; }
h1, h2, h3, h4 { line-height: 1.25; }
h1 { border-bottom: 1px solid #d8dee4; padding-bottom: .3em; }
code { font: .9em/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; }
pre { background: #f6f8fa; padding: .8em 1em; overflow-x: auto; border-radius: 6px;
      font: .9em/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre code { background: none; padding: 0; font: inherit; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: .35em .7em; vertical-align: top; text-align: left; }
tr:nth-child(even) td { background: #f6f8fa; }
.crumb { color: #57606a; font-size: .9em; margin-top: -.5em; }
table.highlighttable, table.highlighttable td { border: none; padding: 0; background: none; }
table.highlighttable { width: 100%; table-layout: fixed; }
table.highlighttable td.linenos { width: 3.5em; text-align: right; color: #8c959f; user-select: none; }
table.highlighttable td.linenos pre { background: none; padding-right: .6em; }
td.linenos a { color: #8c959f; text-decoration: none; }
.highlighttable td.code pre { border-radius: 0 6px 6px 0; }
table.listing td:first-child { white-space: nowrap; }
dl.c-members dt { font-family: ui-monospace, monospace; font-weight: 600; margin-top: .6em; }
dl.c-members dd { margin-left: 1.5em; }
section.c-item { border-top: 1px solid #d8dee4; margin-top: 1.5em; }
section.c-item h3 code { font-size: 1em; }
.c-where { font-size: .85em; color: #57606a; }
.c-index ul { columns: 2; }
"""


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    site = Site(Path(sys.argv[1]).resolve(), Path(sys.argv[2]))
    counts = site.build()
    print(
        f"pages: {counts['markdown']} Markdown pages, {counts['examples']} examples, "
        f"{counts['source']} source pages, {len(site.source_dirs)} listings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
