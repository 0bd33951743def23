"""Small files of each newer format, written on the fly by the library that writes them
(python-pptx, openpyxl, odfpy, the standard library's email and zipfile), for the loader,
format and hostile-corpus tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from functools import cache

import openpyxl
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableRow
from odf.text import H, P
from pptx import Presentation


def pptx_bytes(slides: Sequence[tuple[str, str]], notes: str = "") -> bytes:
    """A deck with one title-and-content slide per (title, body)."""
    deck = Presentation()
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with the given sheets, rows from row 1."""
    book = openpyxl.Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = book.active if first else book.create_sheet(name)
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def odt_bytes(heading: str, *paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    if table:
        odf_table = Table(name="T")
        for row in table:
            table_row = TableRow()
            for cell in row:
                table_cell = TableCell()
                table_cell.addElement(P(text=cell))
                table_row.addElement(table_cell)
            odf_table.addElement(table_row)
        document.text.addElement(odf_table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def epub_bytes(chapters: Sequence[tuple[str, str]], order: Sequence[int] | None = None) -> bytes:
    """An EPUB 3 with one XHTML file per (title, paragraph); ``order`` is the spine's."""
    order = list(order) if order is not None else list(range(len(chapters)))
    items = "".join(
        f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in order)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for i, (title, paragraph) in enumerate(chapters):
            archive.writestr(
                f"OEBPS/text/ch{i}.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml"><body>'
                f"<h1>{title}</h1><p>{paragraph}</p></body></html>",
            )
    return out.getvalue()


def mail(subject: str, body: str, attachments: dict[str, bytes] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ann Example <ann@example.org>"
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    message.set_content(body)
    for name, data in (attachments or {}).items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def eml_bytes(subject: str, body: str, attachments: dict[str, bytes] | None = None) -> bytes:
    return bytes(mail(subject, body, attachments))


def mbox_bytes(messages: Sequence[tuple[str, str]]) -> bytes:
    return b"".join(
        b"From ann@example.org Mon Mar  2 10:00:00 2026\n" + bytes(mail(s, b)) + b"\n"
        for s, b in messages
    )


@cache
def zip_bomb() -> bytes:
    """A zip of under 1 MB whose one member unpacks to 210 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", "<x>" + " " * 210_000_000 + "</x>")
    return out.getvalue()
