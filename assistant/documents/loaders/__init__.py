"""Reading one file of any supported format into a ``Document``.

``load_document`` picks the loader by file suffix and turns every way a file can be
unreadable into a ``LoaderError`` with a short reason, so the indexer can skip the
file and report why.

Must not import textual, torch or click.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from assistant.documents.loaders.text import PARSER_ERRORS, decode_text, describe, load_text
from assistant.errors import LoaderError
from assistant.records import Document

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TEXT_SUFFIXES",
    "decode_text",
    "load_document",
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


TEXT_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".markdown"})
"""Formats read as plain text: a document's lines are the file's lines."""

_LOADERS: dict[str, Callable[[bytes], Document]] = {
    ".txt": _text,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_LOADERS)

_NO_TEXT_HINTS = {".pdf": "it may be a scanned image; run OCR on it first"}


def unsupported_reason(suffix: str) -> str:
    """The skip reason for a file whose (lower-case) suffix has no loader."""
    return f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"


def load_document(path: Path, relpath: str) -> Document:
    """Read one file into a ``Document`` whose ``path`` is ``relpath``.

    Raises:
        LoaderError: the file can't be read, isn't what its suffix says, or holds no
            text. The message is a short reason such as "encrypted PDF".
    """
    suffix = path.suffix.lower()
    load = _LOADERS.get(suffix)
    if load is None:
        raise LoaderError(unsupported_reason(suffix))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        document = load(data)
    except LoaderError:
        raise
    except PARSER_ERRORS as exc:
        # The loaders catch their library's documented errors; this is for the
        # undocumented ones that hostile files provoke (see PARSER_ERRORS).
        raise LoaderError(
            f"cannot read {suffix[1:].upper()} file: {type(exc).__name__}: {describe(exc)}"
        ) from exc
    if not document.text.strip():
        raise LoaderError("no text found", hint=_NO_TEXT_HINTS.get(suffix, ""))
    return replace(document, path=relpath)
