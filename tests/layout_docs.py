"""Report-like test documents written on the fly: PDFs with running heads, a contents
page, headings, wrapped and hyphenated lines, tables and two columns (reportlab), and
DOCX files with heading styles and tables (python-docx).

Lines are laid out by hand, so a test knows exactly where each printed line breaks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

RUNNING_HEAD = "Harbour Authority Annual Report 2024"
_TOP = 760
_LEADING = 13


@dataclass
class PdfPage:
    """What one page holds, top to bottom: ("h1"|"h2", text), ("p", [printed lines]),
    ("toc", [(title, page)]), ("table", [header, *rows]), ("columns", (left, right))."""

    blocks: list[tuple[str, object]] = field(default_factory=list)


def report_pdf(
    pages: list[PdfPage], *, running_head: str | None = RUNNING_HEAD, footer: bool = True
) -> bytes:
    """A PDF of ``pages``, with a running head and a "Page N" footer on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    for number, page in enumerate(pages, start=1):
        if running_head:
            canvas.setFont("Helvetica", 8)
            canvas.drawString(72, 800, running_head)
        y = _TOP
        for kind, value in page.blocks:
            y = _draw(canvas, kind, value, y)
        if footer:
            canvas.setFont("Helvetica", 8)
            canvas.drawString(290, 40, f"Page {number}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(canvas: object, kind: str, value: object, y: float) -> float:
    c = canvas  # reportlab's Canvas; typed loosely to keep reportlab out of mypy's way
    if kind in ("h1", "h2"):
        size = 16 if kind == "h1" else 13
        c.setFont("Helvetica-Bold", size)  # type: ignore[attr-defined]
        y -= 8
        c.drawString(72, y, str(value))  # type: ignore[attr-defined]
        return y - size - 6
    if kind == "p":
        c.setFont("Helvetica", 10)  # type: ignore[attr-defined]
        for line in value:  # type: ignore[attr-defined]
            c.drawString(72, y, line)  # type: ignore[attr-defined]
            y -= _LEADING
        return y - 8
    if kind == "toc":
        c.setFont("Helvetica", 10)  # type: ignore[attr-defined]
        for title, number in value:  # type: ignore[attr-defined]
            leader = " ." * int((380 - c.stringWidth(title, "Helvetica", 10)) / 5.6)  # type: ignore[attr-defined]
            c.drawString(72, y, f"{title}{leader}")  # type: ignore[attr-defined]
            c.drawRightString(500, y, str(number))  # type: ignore[attr-defined]
            y -= _LEADING
        return y - 8
    if kind == "table":
        for row_number, row in enumerate(value):  # type: ignore[arg-type]
            font = "Helvetica-Bold" if row_number == 0 else "Helvetica"
            c.setFont(font, 10)  # type: ignore[attr-defined]
            for column, cell in enumerate(row):
                c.drawString(72 + 150 * min(column, 1) + 90 * max(column - 1, 0), y, cell)  # type: ignore[attr-defined]
            y -= _LEADING + 2
        return y - 8
    if kind == "columns":
        left, right = value  # type: ignore[misc]
        c.setFont("Helvetica", 10)  # type: ignore[attr-defined]
        for x, lines in ((72, left), (310, right)):
            row_y = y
            for line in lines:
                c.drawString(x, row_y, line)  # type: ignore[attr-defined]
                row_y -= _LEADING
        return y - _LEADING * max(len(left), len(right)) - 8
    raise ValueError(kind)


def docx_bytes(blocks: list[tuple[str, object]]) -> bytes:
    """A DOCX of ("h1"|"h2"|"p", text) and ("table", [header, *rows]) blocks."""
    import docx

    document = docx.Document()
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            document.add_heading(str(value), level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for col, cell in enumerate(row):
                    table.cell(r, col).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
