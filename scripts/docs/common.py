"""What the pages of `make docs` share: the page shell with the site's
navigation, Markdown rendering (CommonMark with tables, GitHub-style
heading anchors) and source highlighting.

The site (target/docs) mirrors the repository: README.md is README.html,
docs/FORMAT.md is docs/FORMAT.html, a source file such as
examples/c/quickstart.c is examples/c/quickstart.c.html, a directory is
<dir>/index.html. The API references sit beside them in rust/, python/,
node/ and c/. Every page is written from the sources alone (no dates, no
absolute paths), so two runs give the same bytes.
"""

from __future__ import annotations

import html
import posixpath
import re
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

SITE_TITLE = "sealbox documentation"

# (label, site path) of the navigation bar on the site's own pages.
NAV = [
    ("Home", "index.html"),
    ("README", "README.html"),
    ("Architecture", "docs/ARCHITECTURE.html"),
    ("CLI", "docs/CLI.html"),
    ("Format", "docs/FORMAT.html"),
    ("Security", "docs/SECURITY.html"),
    ("Rust API", "rust/sealbox/index.html"),
    ("Python API", "python/sealbox.html"),
    ("Node API", "node/index.html"),
    ("C API", "c/index.html"),
    ("Examples", "examples/index.html"),
]

CSS_PATH = "site.css"


def rel(from_page: str, to_page: str) -> str:
    """The relative URL from one site path to another (both relative to
    the site root, '/'-separated)."""
    start = posixpath.dirname(from_page) or "."
    return posixpath.relpath(to_page, start)


def page(site_path: str, title: str, body: str, *, nav_current: str | None = None) -> str:
    """A complete HTML page at `site_path` (relative to the site root)."""
    links = []
    for label, target in NAV:
        cls = ' class="current"' if target == nav_current else ""
        links.append(f'<a href="{html.escape(rel(site_path, target))}"{cls}>{label}</a>')
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} - {SITE_TITLE}</title>\n"
        f'<link rel="stylesheet" href="{html.escape(rel(site_path, CSS_PATH))}">\n'
        "</head>\n<body>\n"
        f'<nav class="site">{" ".join(links)}</nav>\n'
        f'<main>\n{body}\n</main>\n</body>\n</html>\n'
    )


def write(root: Path, site_path: str, text: str) -> None:
    out = root / site_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


# ---- headings: GitHub's anchors -------------------------------------------

def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other
    than '-' and '_' dropped, each space a '-' (runs are not merged), so
    that links written for GitHub (`FORMAT.md#header-version-2`) resolve
    here too."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    out = []
    for ch in text:
        if ch == " ":
            out.append("-")
        elif ch in "-_" or unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
    return "".join(out)


def _heading_ids(md: MarkdownIt) -> None:
    """A core rule giving every heading GitHub's id (with -1, -2 ... on
    repeats, as GitHub does)."""

    def rule(state) -> None:  # type: ignore[no-untyped-def]
        seen: dict[str, int] = {}
        tokens = state.tokens
        for i, tok in enumerate(tokens):
            if tok.type != "heading_open":
                continue
            inline = tokens[i + 1]
            text = "".join(
                c.content for c in (inline.children or []) if c.type in ("text", "code_inline")
            )
            slug = github_slug(text)
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            tok.attrSet("id", slug if n == 0 else f"{slug}-{n}")

    md.core.ruler.push("github_heading_ids", rule)


# ---- highlighting ------------------------------------------------------------

FORMATTER_OPTS = {"cssclass": "highlight", "wrapcode": True}


def pygments_css() -> str:
    css: str = HtmlFormatter(**FORMATTER_OPTS).get_style_defs(".highlight")
    return css


def highlight_block(code: str, lang: str) -> str:
    """A fenced code block, highlighted when its language is known."""
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    body: str = highlight(code, lexer, HtmlFormatter(nowrap=True))
    # Starts with <pre: markdown-it then uses it as it is.
    return f'<pre class="highlight"><code>{body}</code></pre>'


def highlight_file(path: str, code: str) -> str:
    """A whole source file with line numbers; line N has the id L-N."""
    try:
        lexer = get_lexer_for_filename(path, code)
    except ClassNotFound:
        lexer = TextLexer()
    fmt = HtmlFormatter(
        linenos="table", lineanchors="L", anchorlinenos=True, **FORMATTER_OPTS
    )
    out: str = highlight(code, lexer, fmt)
    return out


def markdown() -> MarkdownIt:
    """CommonMark (what GitHub renders, less its HTML sanitising) with
    tables and strikethrough, highlighted code and GitHub heading ids."""

    def hl(code: str, lang: str, _attrs: str) -> str:
        return highlight_block(code, lang.strip())

    # Raw HTML is shown as text: these are documents and comments, not
    # templates (`libsealbox.so.<major>` is no tag).
    md = MarkdownIt("commonmark", {"highlight": hl, "html": False}).enable(["table", "strikethrough"])
    _heading_ids(md)
    return md


_TAG = re.compile(r"<[^>]+>")


def plain(text_html: str) -> str:
    """Text of an HTML fragment (for titles)."""
    return html.unescape(_TAG.sub("", text_html)).strip()
