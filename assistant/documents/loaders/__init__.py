"""Reading one file of any supported format into a ``Document``.

``load_document`` picks the loader by file suffix and turns every way a file can be
unreadable into a ``LoaderError`` with a short reason, so the indexer can skip the
file and report why.

Must not import textual, torch or click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from assistant.documents.loaders.ocr import NO_TEXT_LAYER
from assistant.documents.loaders.text import PARSER_ERRORS, decode_text, describe, load_text
from assistant.errors import LoaderError
from assistant.records import Document

__all__ = [
    "IMAGE_SUFFIXES",
    "NO_TEXT_LAYER",
    "NO_TEXT_REASONS",
    "SUPPORTED_SUFFIXES",
    "TEXT_SUFFIXES",
    "decode_text",
    "load_document",
    "normalise_suffixes",
    "unsupported_reason",
]

# The format libraries are imported when a file of that format is first read: pypdf,
# python-docx and selectolax add ~80 ms to every start-up, and asking a question
# never needs them. Each loader returns a Document whose path the caller fills in.


def _text(data: bytes) -> Document:
    return Document(path="", text=load_text(data))


def _markdown(data: bytes) -> Document:
    from assistant.documents.loaders.markdown import markdown_document

    return markdown_document(load_text(data))


def _html(data: bytes) -> Document:
    from assistant.documents.loaders.html import load_html

    return load_html(data)


def _pdf(data: bytes) -> Document:
    from assistant.documents.loaders.pdf import load_pdf

    return load_pdf(data)


def _docx(data: bytes) -> Document:
    from assistant.documents.loaders.docx import load_docx

    return load_docx(data)


def _pptx(data: bytes) -> Document:
    from assistant.documents.loaders.pptx import load_pptx

    return load_pptx(data)


def _xlsx(data: bytes) -> Document:
    from assistant.documents.loaders.sheets import load_xlsx

    return load_xlsx(data)


def _csv(data: bytes) -> Document:
    from assistant.documents.loaders.sheets import load_delimited

    return load_delimited(data, ",")


def _tsv(data: bytes) -> Document:
    from assistant.documents.loaders.sheets import load_delimited

    return load_delimited(data, "\t")


def _epub(data: bytes) -> Document:
    from assistant.documents.loaders.epub import load_epub

    return load_epub(data)


def _odt(data: bytes) -> Document:
    from assistant.documents.loaders.odt import load_odt

    return load_odt(data)


def _rst(data: bytes) -> Document:
    from assistant.documents.loaders.rst import rst_document

    return rst_document(load_text(data))


def _eml(data: bytes) -> Document:
    from assistant.documents.loaders.mail import load_eml

    return load_eml(data, _attachment)


def _mbox(data: bytes) -> Document:
    from assistant.documents.loaders.mail import load_mbox

    return load_mbox(data, _attachment)


def _image(data: bytes) -> Document:
    from assistant.documents.loaders.ocr import load_image

    document: Document = load_image(data)
    return document


TEXT_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".markdown", ".rst"})
"""Formats read as plain text: a document's lines are the file's lines."""

IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
"""Images: read by OCR where the ``ocr`` extra is installed, else skipped with a reason."""

_LOADERS: dict[str, Callable[[bytes], Document]] = {
    ".txt": _text,
    ".md": _markdown,
    ".markdown": _markdown,
    ".rst": _rst,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".pptx": _pptx,
    ".xlsx": _xlsx,
    ".csv": _csv,
    ".tsv": _tsv,
    ".epub": _epub,
    ".odt": _odt,
    ".eml": _eml,
    ".mbox": _mbox,
    **dict.fromkeys(IMAGE_SUFFIXES, _image),
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_LOADERS)

_NO_TEXT_HINTS = {".pdf": "it may be a scanned image; run OCR on it first"}
NO_TEXT = "no text found"
NO_TEXT_REASONS = (NO_TEXT, NO_TEXT_LAYER)
"""The skip reasons of files that were read but gave no text."""


def _attachment(data: bytes, suffix: str) -> Document:
    """Read a mail attachment by its file name's suffix (never another mail)."""
    load = _LOADERS.get(suffix)
    if load is None or suffix in {".eml", ".mbox"}:
        raise LoaderError(unsupported_reason(suffix))
    return _guarded(load, data, suffix)


def normalise_suffixes(suffixes: Iterable[str]) -> frozenset[str]:
    """User-named text suffixes ("py", ".LOG") as lower-case ".py", ".log"."""
    return frozenset("." + s.strip().lower().lstrip(".") for s in suffixes if s.strip(". "))


def unsupported_reason(suffix: str) -> str:
    """The skip reason for a file whose (lower-case) suffix has no loader."""
    return f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"


def load_document(
    path: Path, relpath: str, *, text_suffixes: frozenset[str] = frozenset()
) -> Document:
    """Read one file into a ``Document`` whose ``path`` is ``relpath``.

    ``text_suffixes`` names further suffixes to read as plain text (the
    ``text_extensions`` setting).

    Raises:
        LoaderError: the file can't be read, isn't what its suffix says, or holds no
            text. The message is a short reason such as "encrypted PDF".
    """
    suffix = path.suffix.lower()
    load = _LOADERS.get(suffix) or (_text if suffix in text_suffixes else None)
    if load is None:
        raise LoaderError(unsupported_reason(suffix))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"cannot read file: {exc.strerror or exc}") from exc
    document = _guarded(load, data, suffix)
    if not document.text.strip():
        raise LoaderError(NO_TEXT, hint=_NO_TEXT_HINTS.get(suffix, ""))
    return replace(document, path=relpath)


def _guarded(load: Callable[[bytes], Document], data: bytes, suffix: str) -> Document:
    try:
        return load(data)
    except LoaderError:
        raise
    except PARSER_ERRORS as exc:
        # The loaders catch their library's documented errors; this is for the
        # undocumented ones that hostile files provoke (see PARSER_ERRORS).
        raise LoaderError(
            f"cannot read {suffix[1:].upper()} file: {type(exc).__name__}: {describe(exc)}"
        ) from exc
