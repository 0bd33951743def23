"""Reading PDF files with pypdf: the text of each page and where it sits in the whole.

The document text is the pages' text joined by a blank line; each ``Page`` gives one
page's span, so citations can name the page. Each page keeps one line per printed line,
except that the cells of a table row are one line (pdf_layout.py); headings (by font)
and running heads and footers are recorded with their spans.

Must not import textual, torch or click.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from assistant.documents.loaders.ocr import NO_TEXT_LAYER, ocr_available, pdf_page_lines
from assistant.documents.loaders.pdf_layout import LineCollector, PageLayout, PdfLine, lay_out
from assistant.documents.loaders.text import PARSER_ERRORS, describe
from assistant.errors import LoaderError
from assistant.records import Document, Heading, Page

PAGE_SEPARATOR = "\n\n"
_ENCRYPTED_HINT = "save an unprotected copy to index it"
_PAGE_ERRORS: tuple[type[BaseException], ...] = (PyPdfError, *PARSER_ERRORS)


def _silence_pypdf() -> None:
    # pypdf logs a warning for every quirk of real-world PDFs ("incorrect startxref
    # pointer", ...). That would garble the CLI's stderr and the TUI; what matters
    # reaches the user as a LoaderError instead. Only this module uses pypdf.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


def load_pdf(data: bytes) -> Document:
    """Read a PDF into its text and page spans.

    Returns:
        The text, and one ``Page`` per page with ``text[page.start:page.end]`` being
        that page's text (empty for pages without text).

    Raises:
        LoaderError: not a PDF, broken beyond repair, or encrypted with a password.
    """
    _silence_pypdf()
    if b"%PDF-" not in data[:1024]:
        raise LoaderError("not valid PDF: no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError("encrypted PDF", hint=_ENCRYPTED_HINT)
        page_objects = list(reader.pages)
    except DependencyError as exc:
        # AES needs the optional 'cryptography' package, even for an empty password.
        raise LoaderError("encrypted PDF", hint=f"{_ENCRYPTED_HINT} ({exc})") from exc
    except FileNotDecryptedError as exc:
        raise LoaderError("encrypted PDF", hint=_ENCRYPTED_HINT) from exc
    except PyPdfError as exc:
        if b"%%EOF" not in data[-1024:]:
            raise LoaderError("not valid PDF: EOF marker not found (truncated?)") from exc
        raise LoaderError(f"not valid PDF: {describe(exc)}") from exc

    pages: list[list[PdfLine]] = []
    first_error: BaseException | None = None
    for page in page_objects:
        try:
            pages.append(_page_lines(page))
        except _PAGE_ERRORS as exc:
            # One unreadable page shouldn't cost the others; if no page yields text
            # the first error becomes the reason below.
            first_error = first_error or exc
            pages.append([])
    if first_error is not None and not any(line.text.strip() for p in pages for line in p):
        raise LoaderError(f"could not extract text: {describe(first_error)}") from first_error
    scanned = [n for n, p in enumerate(pages, start=1) if not any(line.text.strip() for line in p)]
    note = ""
    if scanned and not ocr_available():
        if len(scanned) == len(pages):
            raise LoaderError(NO_TEXT_LAYER)
        note = f"{len(scanned)} pages without a text layer left out ({NO_TEXT_LAYER[15:-1]})"
        scanned = []
    for number, lines in _ocr(data, scanned).items():
        pages[number - 1] = [PdfLine(line) for line in lines]
    document = _document(lay_out(pages))
    read = {n for n in scanned if pages[n - 1]}
    ocr = tuple((p.start, p.end) for p in document.pages if p.number in read and p.end > p.start)
    return replace(document, note=note, ocr=ocr)


def _ocr(data: bytes, numbers: list[int]) -> dict[int, list[str]]:
    """The OCR'd lines of the pages without a text layer (none if rendering fails)."""
    if not numbers:
        return {}
    try:
        return pdf_page_lines(data, numbers)
    except PARSER_ERRORS:
        return {}  # pdfium can't render it: those pages stay empty, as without OCR


def _page_lines(page: Any) -> list[PdfLine]:
    """The page's printed lines, with position and font where pypdf reports them."""
    collector = LineCollector()
    text = _clean(page.extract_text(visitor_text=collector))
    lines = collector.finish()
    plain = text.split("\n")
    if plain and not plain[-1]:
        plain.pop()
    if [_clean(line.text) for line in lines] != plain:  # pieces that don't add up: no layout
        return [PdfLine(line) for line in plain]
    for line in lines:
        line.text = _clean(line.text)
    return lines


def _document(layouts: list[PageLayout]) -> Document:
    texts: list[str] = []
    headings: list[Heading] = []
    furniture: list[tuple[int, int]] = []
    pages: list[Page] = []
    start = 0
    for number, layout in enumerate(layouts, start=1):
        offsets = []
        pos = start
        for line in layout.lines:
            offsets.append(pos)
            pos += len(line) + 1
        text = "\n".join(layout.lines)
        for i, level in layout.headings:
            end = offsets[i] + len(layout.lines[i])
            headings.append(Heading(offsets[i], end, level, layout.lines[i].strip()))
        furniture.extend((offsets[i], offsets[i] + len(layout.lines[i])) for i in layout.furniture)
        pages.append(Page(number=number, start=start, end=start + len(text)))
        texts.append(text)
        start += len(text) + len(PAGE_SEPARATOR)
    return Document(
        path="",
        text=PAGE_SEPARATOR.join(texts),
        pages=tuple(pages),
        headings=tuple(headings),
        furniture=tuple(furniture),
    )


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
