"""Reading PDF files with pypdf: the text of each page and where it sits in the whole.

The document text is the pages' text joined by a blank line; each ``Page`` gives one
page's span, so citations can name the page.

Must not import textual, torch or click.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from assistant.documents.loaders.text import PARSER_ERRORS, describe
from assistant.errors import LoaderError
from assistant.records import Document, Page

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

    texts: list[str] = []
    first_error: BaseException | None = None
    for page in page_objects:
        try:
            texts.append(_clean(page.extract_text()))
        except _PAGE_ERRORS as exc:
            # One unreadable page shouldn't cost the others; if no page yields text
            # the first error becomes the reason below.
            first_error = first_error or exc
            texts.append("")
    if first_error is not None and not any(t.strip() for t in texts):
        raise LoaderError(f"could not extract text: {describe(first_error)}") from first_error
    text, pages = _join(texts)
    return Document(path="", text=text, pages=pages)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _join(texts: list[str]) -> tuple[str, tuple[Page, ...]]:
    pages: list[Page] = []
    start = 0
    for number, text in enumerate(texts, start=1):
        pages.append(Page(number=number, start=start, end=start + len(text)))
        start += len(text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(texts), tuple(pages)
