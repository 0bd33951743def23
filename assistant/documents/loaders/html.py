"""Reading HTML files: the visible text, laid out in lines and paragraphs.

Scripts, styles and other invisible parts are dropped, entities are decoded and block
elements become line breaks, with a blank line between paragraphs so the chunker sees
paragraph boundaries. ``h1``-``h6`` are recorded as headings; a table becomes one line
per row with its header's names carried in (text/tables.py). The tree is walked with an
explicit stack, never by recursion, because real-world HTML can nest deeper than
Python's recursion limit.

Must not import textual, torch or click.
"""

from __future__ import annotations

import codecs
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from assistant.documents.loaders.text import decode_text
from assistant.records import Document, Heading
from assistant.text.tables import table_lines

# Elements whose content is never shown as text.
_INVISIBLE = frozenset(
    {
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "canvas",
        "audio",
        "video",
    }
)
# Elements that start and end a line.
_LINE_BLOCKS = frozenset({"li", "tr", "dt", "dd", "caption", "figcaption", "summary", "option"})
# Elements that start and end a paragraph (a blank line around them).
_PARAGRAPH_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "div",
        "dl",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "legend",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    }
)
_CELLS = frozenset({"td", "th"})
_CELL_SEPARATOR = " | "
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# HTML collapses ASCII whitespace only; a no-break space stays.
_SPACE_RE = re.compile(r"[ \t\n\r\f]+")
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


class _TextBuilder:
    """Collects text runs and breaks, and lays them out as lines and paragraphs."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._line: list[str] = []
        self._pending = 0  # the strongest break since the last text: 0, 1 line, 2 paragraph
        self._length = 0  # characters in _parts
        self.headings: list[Heading] = []
        self._heading: tuple[int, int] | None = None  # (level, start) of an open heading

    def begin_heading(self, level: int) -> None:
        self.line_break(2)
        self._heading = (level, -1)

    def end_heading(self) -> None:
        self.line_break(2)
        if self._heading is not None and self._heading[1] >= 0:
            level, start = self._heading
            title = "".join(self._parts)[start:] if self._length > start else ""
            if title:
                self.headings.append(Heading(start, self._length, level, title))
        self._heading = None

    def text(self, run: str, *, preformatted: bool = False) -> None:
        if not preformatted:
            run = _SPACE_RE.sub(" ", run)
            if not self._line or self._line[-1].endswith(" "):
                run = run.lstrip(" ")
        if not run:
            return
        if not self._line and self._parts:
            self._append("\n\n" if self._pending >= 2 else "\n")
            self._pending = 0
        if not self._line and self._heading is not None and self._heading[1] < 0:
            self._heading = (self._heading[0], self._length)
        self._line.append(run)

    def _append(self, part: str) -> None:
        self._parts.append(part)
        self._length += len(part)

    def line_break(self, level: int) -> None:
        if self._line:
            self._flush()
        if self._parts:
            self._pending = max(self._pending, level)

    def br(self) -> None:
        # Two <br> in a row make an empty line, which reads as a paragraph break.
        self.line_break(1 if self._line else 2)

    def cell(self) -> None:
        if self._line and self._line[-1] != _CELL_SEPARATOR:
            self._line.append(_CELL_SEPARATOR)

    def result(self) -> str:
        self._flush()
        return "".join(self._parts)

    def _flush(self) -> None:
        while self._line and self._line[-1] == _CELL_SEPARATOR:
            self._line.pop()
        line = "".join(self._line).rstrip(" \t\n")
        self._line.clear()
        if line:
            self._append(line)
        elif self._parts and self._parts[-1] in ("\n", "\n\n"):
            self._length -= len(self._parts.pop())  # no dangling separator for an empty line


def html_to_text(html: str) -> Document:
    """Return the visible text of an HTML document, ``<title>`` first, with its headings."""
    tree = LexborHTMLParser(html)
    builder = _TextBuilder()
    if tree.head is not None:
        for child in tree.head.iter():
            if child.tag == "title":
                builder.text(child.text(deep=True))
                builder.line_break(2)
                break
    root = tree.root
    if root is not None:
        _walk(root, builder)
    text = builder.result()
    return Document(path="", text=text, headings=tuple(builder.headings))


def _walk(root: LexborNode, builder: _TextBuilder) -> None:
    # Each stack entry is a node and whether we are leaving it (True) or entering it.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    pre_depth = 0
    while stack:
        node, leaving = stack.pop()
        tag = node.tag or ""
        if leaving:
            if tag == "pre":
                pre_depth -= 1
            if tag in _HEADINGS:
                builder.end_heading()
            elif tag in _PARAGRAPH_BLOCKS:
                builder.line_break(2)
            elif tag in _LINE_BLOCKS:
                builder.line_break(1)
            continue
        if tag == "-text":
            builder.text(node.text(deep=False), preformatted=pre_depth > 0)
            continue
        # Comments, doctypes and processing instructions are not text.
        if tag.startswith(("-", "_", "!")) or tag in _INVISIBLE or "hidden" in node.attributes:
            continue
        if tag == "br":
            builder.br()
            continue
        if tag == "pre":
            pre_depth += 1
        if tag == "table":
            _table(node, builder)
            continue
        if tag in _HEADINGS:
            builder.begin_heading(_HEADINGS[tag])
        elif tag in _PARAGRAPH_BLOCKS:
            builder.line_break(2)
        elif tag in _LINE_BLOCKS:
            builder.line_break(1)
        elif tag in _CELLS:
            builder.cell()
        stack.append((node, True))
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))


def _table(table: LexborNode, builder: _TextBuilder) -> None:
    """A table as one line per row, the header's names carried into each row."""
    rows = [
        [cell.text(deep=True, separator=" ") for cell in row.iter() if cell.tag in _CELLS]
        for row in table.css("tr")
    ]
    builder.line_break(2)
    for line in table_lines(rows):
        builder.text(line)
        builder.line_break(1)
    builder.line_break(2)


def _declared_charset(data: bytes) -> str | None:
    """The encoding named by a ``<meta charset>`` near the start, as the HTML spec reads it."""
    match = _META_CHARSET_RE.search(data[:4096])
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # Browsers read these labels as windows-1252, and a UTF-16 label in a page that
    # is readable as ASCII can only be wrong (a real UTF-16 page has a BOM).
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def load_html(data: bytes) -> Document:
    """Read an HTML file into its visible text.

    Raises:
        LoaderError: the file is binary rather than text.
    """
    return html_to_text(decode_text(data, declared=_declared_charset(data)))
