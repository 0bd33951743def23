"""The layout of PDF pages: printed lines with their position and font, read into
headings, running heads and footers, table rows and columns.

pypdf reports each piece of text it extracts with its text matrix and font
(``visitor_text``); the pieces add up to the page's text, so each printed line gets the
position and size of the text that starts it. From those:

- cells printed on one baseline are one row: a run of such rows is a table, read as
  "Label: Header value; ..." lines (text/tables.py); two long cells per row on every
  row are two columns printed line by line, read left column first;
- a line in a bigger font than the body text, or bold in a body of regular text, is a
  heading (bigger is higher);
- a line among the first or last two of a page that repeats (digits aside) on at least
  half of the pages is a running head or footer ("Page 4", the report's title).

Must not import textual, torch or click.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.text.reflow import LEADER
from assistant.text.tables import CELL_SEPARATOR, table_lines

_SAME_BASELINE = 1.0  # points
_HEADING_RATIO = 1.15  # a heading's font is at least this much bigger than the body's
_MAX_HEADING_CHARS = 120
_EDGE_LINES = 2  # running heads and footers are among a page's first and last lines
_COLUMN_CELL_CHARS = 25  # cells this long on every row are columns, not a table
_DIGITS = re.compile(r"\d+")


@dataclass
class PdfLine:
    """One printed line: its text, where it starts, its font size, and if it is bold."""

    text: str
    x: float = 0.0
    y: float = 0.0
    size: float = 0.0
    bold: bool = False
    cells: list[str] = field(default_factory=list)


@dataclass
class PageLayout:
    """A page's lines as read, which are headings (index, level) and furniture."""

    lines: list[str]
    headings: list[tuple[int, int]] = field(default_factory=list)
    furniture: list[int] = field(default_factory=list)


class LineCollector:
    """A ``visitor_text`` for pypdf that records where each printed line starts."""

    def __init__(self) -> None:
        self.lines: list[PdfLine] = []
        self._open: PdfLine | None = None

    def __call__(self, text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if not text:
            return
        scale = abs(float(tm[3]) or 1.0) * abs(float(cm[3]) or 1.0)
        name = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
        x = float(tm[4]) * (float(cm[0]) or 1.0) + float(cm[4])
        y = float(tm[5]) * (float(cm[3]) or 1.0) + float(cm[5])
        pieces = text.split("\n")
        for number, piece in enumerate(pieces):
            if self._open is None:
                if number == len(pieces) - 1 and not piece:
                    break
                self._open = PdfLine("", x, y, float(size) * scale, "bold" in name.lower())
            line = self._open
            line.text += piece
            if piece.strip():
                line.size = max(line.size, float(size) * scale)
                line.bold = line.bold and "bold" in name.lower()
            if number < len(pieces) - 1:
                self.lines.append(line)
                self._open = None

    def finish(self) -> list[PdfLine]:
        if self._open is not None:
            self.lines.append(self._open)
            self._open = None
        return self.lines


def lay_out(pages: list[list[PdfLine]]) -> list[PageLayout]:
    """Read the pages' lines into rows, headings and running heads (see the module)."""
    merged = [_rows(lines) for lines in pages]
    furniture = _furniture(merged)
    body = _body_size(merged)
    heading_sizes = sorted(
        {
            round(line.size)
            for lines in merged
            for line in lines
            if _heading_font(line, body) and line.size > body.size * _HEADING_RATIO
        },
        reverse=True,
    )
    layouts = []
    for page, lines in enumerate(merged):
        dropped = furniture.get(page, set())
        layout = PageLayout([_text(line) for line in lines], furniture=sorted(dropped))
        for i, line in enumerate(lines):
            if i in dropped or not _is_heading(line, body):
                continue
            size = round(line.size)
            level = (
                heading_sizes.index(size) + 1 if size in heading_sizes else len(heading_sizes) + 1
            )
            layout.headings.append((i, level))
        layouts.append(layout)
    return layouts


def _text(line: PdfLine) -> str:
    return line.text.rstrip()


def _rows(lines: list[PdfLine]) -> list[PdfLine]:
    """Lines printed on one baseline become one row of cells; runs of rows are tables."""
    rows: list[PdfLine] = []
    for line in lines:
        last = rows[-1] if rows else None
        if (
            last is not None
            and line.text.strip()
            and abs(line.y - last.y) < _SAME_BASELINE
            and line.x > last.x
        ):
            last.cells.append(line.text.strip())
            last.bold = last.bold and line.bold
            continue
        line.cells = [line.text.strip()]
        rows.append(line)
    out: list[PdfLine] = []
    i = 0
    while i < len(rows):
        end = i
        while end < len(rows) and len(rows[end].cells) > 1:
            end += 1
        if end == i:
            out.append(rows[i])
            i += 1
            continue
        out.extend(_table(rows[i:end]))
        i = end
    return out


def _table(rows: list[PdfLine]) -> list[PdfLine]:
    """A run of multi-cell rows: contents lines, two columns, or a table."""
    if any(LEADER.search(" ".join(row.cells)) or LEADER.search(row.cells[0]) for row in rows):
        for row in rows:
            row.text = " ".join(row.cells)
        return rows
    if all(len(r.cells) == 2 and min(map(len, r.cells)) >= _COLUMN_CELL_CHARS for r in rows):
        left = [PdfLine(r.cells[0], r.x, r.y, r.size, r.bold) for r in rows]
        right = [PdfLine(r.cells[1], r.x + 1, r.y, r.size, r.bold) for r in rows]
        return left + right
    if len(rows) == 1:
        rows[0].text = CELL_SEPARATOR.join(rows[0].cells)
        return rows
    texts = table_lines([row.cells for row in rows])
    if len(texts) != len(rows):  # a row had no text at all: keep the cells as printed
        texts = [CELL_SEPARATOR.join(row.cells) for row in rows]
    for row, text in zip(rows, texts, strict=True):
        row.text, row.bold = text, False
    return rows


@dataclass(frozen=True)
class _Body:
    size: float
    bold: bool


def _body_size(pages: list[list[PdfLine]]) -> _Body:
    """The font size and weight of most of the text."""
    sizes: Counter[float] = Counter()
    bold: Counter[bool] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size, 1)] += len(line.text)
            bold[line.bold] += len(line.text)
    if not sizes:
        return _Body(0.0, False)
    return _Body(sizes.most_common(1)[0][0], bold.most_common(1)[0][0])


def _heading_font(line: PdfLine, body: _Body) -> bool:
    return line.size > body.size * _HEADING_RATIO or (line.bold and not body.bold)


def _is_heading(line: PdfLine, body: _Body) -> bool:
    text = line.text.strip()
    return (
        body.size > 0
        and len(line.cells) == 1
        and _heading_font(line, body)
        and 0 < len(text) <= _MAX_HEADING_CHARS
        and any(c.isalpha() for c in text)
        and not text.endswith((".", ","))
    )


def _furniture(pages: list[list[PdfLine]]) -> dict[int, set[int]]:
    """Lines at the top or bottom of pages that repeat on at least half of them."""
    with_text = [p for p in pages if len(p) > _EDGE_LINES]
    if len(with_text) < 2:
        return {}
    seen: Counter[str] = Counter()
    edges: dict[int, list[tuple[int, str]]] = {}
    for page, lines in enumerate(pages):
        if len(lines) <= _EDGE_LINES:
            continue
        count = len(lines)
        picked = sorted(
            {*range(min(_EDGE_LINES, count)), *range(max(0, count - _EDGE_LINES), count)}
        )
        keys = [(i, _DIGITS.sub("#", lines[i].text.strip().lower())) for i in picked]
        edges[page] = [(i, key) for i, key in keys if key]
        seen.update({key for _, key in edges[page]})
    needed = max(2, (len(with_text) + 1) // 2)
    return {page: {i for i, key in keys if seen[key] >= needed} for page, keys in edges.items()}
