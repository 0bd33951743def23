"""Reading Word (.docx) files with python-docx: body paragraphs and tables, in order.

Paragraphs are separated by a blank line; a paragraph styled as a heading ("Heading 2",
"Title") is recorded as one; a table becomes one line per row with its header's names
carried in (text/tables.py). Headers, footers, footnotes and comments are not read.

Must not import textual, torch or click.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import docx
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn

from assistant.documents.loaders.text import describe
from assistant.errors import LoaderError
from assistant.records import Document, Heading
from assistant.text.tables import table_lines

_P = qn("w:p")
_TBL = qn("w:tbl")
_TR = qn("w:tr")
_TC = qn("w:tc")
# Word stores a text box twice, as DrawingML and as a VML fallback; read it once.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_STYLE = qn("w:pStyle")
_VAL = qn("w:val")
_BLOCK_SEPARATOR = "\n\n"
# The signature of the binary .doc format that preceded .docx.
_OLE = b"\xd0\xcf\x11\xe0"
# A zip bomb posing as a document: refuse before decompressing more than this.
MAX_UNPACKED_BYTES = 200_000_000


def _refuse_zip_bomb(data: bytes) -> None:
    """Check the sizes the zip declares; python-docx would inflate every part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return  # not a zip at all: python-docx reports that with its own reason below
    if unpacked > MAX_UNPACKED_BYTES:
        raise LoaderError(
            f"DOCX unpacks to {unpacked // 1_000_000} MB, over the"
            f" {MAX_UNPACKED_BYTES // 1_000_000} MB limit (a zip bomb?)"
        )


def load_docx(data: bytes) -> Document:
    """Read a .docx file into text.

    Raises:
        LoaderError: not a zip file, or a zip without the parts of a Word document.
    """
    _refuse_zip_bomb(data)
    try:
        body = docx.Document(io.BytesIO(data)).element.body
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        hint = "old .doc files can't be read; save it as .docx" if data[:4] == _OLE else ""
        raise LoaderError(f"not valid DOCX: {_detail(exc)}", hint=hint) from exc
    except KeyError as exc:
        # zipfile's way of saying a part the package lists is missing; str(KeyError)
        # would wrap the message in quotes.
        missing = str(exc.args[0]) if exc.args else "a part is missing"
        raise LoaderError(f"not valid DOCX: {missing}") from exc
    except OpcError as exc:
        raise LoaderError(f"not valid DOCX: {_detail(exc)}") from exc
    except SyntaxError as exc:
        # lxml's XMLSyntaxError is a SyntaxError; lxml itself is python-docx's business.
        raise LoaderError(f"not valid DOCX: broken XML ({_detail(exc)})") from exc
    except ValueError as exc:
        # python-docx raises it for a spreadsheet or presentation; zipfile for a
        # corrupt directory ("negative seek value").
        if "not a Word file" in str(exc):
            raise LoaderError("not valid DOCX: not a Word document") from exc
        raise LoaderError(f"not valid DOCX: damaged file ({_detail(exc)})") from exc
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for text, level in _blocks(body):
        if level:
            headings.append(Heading(offset, offset + len(text), level, text.strip()))
        parts.append(text)
        offset += len(text) + len(_BLOCK_SEPARATOR)
    return Document(path="", text=_BLOCK_SEPARATOR.join(parts), headings=tuple(headings))


def _detail(exc: BaseException) -> str:
    return describe(exc).removeprefix("File is ")  # "File is not a zip file"


def _blocks(body: Any) -> list[tuple[str, int]]:
    """The text of each paragraph and table, with its heading level (0: not a heading)."""
    blocks: list[tuple[str, int]] = []
    # lxml's iter() walks the tree in document order without recursing in Python.
    for element in body.iter(_P, _TBL):
        if next(element.iterancestors(_TBL, _FALLBACK), None) is not None:
            continue  # inside a table (read with its table) or a duplicate text box
        if element.tag == _TBL:
            text, level = _table_text(element), 0
        else:
            text, level = _paragraph_text(element), _heading_level(element)
        if text.strip():
            blocks.append((text, level))
    return blocks


def _heading_level(p: Any) -> int:
    """1-9 for Word's "Heading N" styles and 1 for "Title"; 0 for any other paragraph."""
    style = next(p.iter(_STYLE), None)
    name = str(style.get(_VAL, "")) if style is not None else ""
    name = name.replace(" ", "").lower()
    if name == "title":
        return 1
    if name.startswith("heading") and name[7:].isdigit():
        return min(int(name[7:]), 9)
    return 0


def _paragraph_text(p: Any) -> str:
    return str(p.text)


def _table_text(table: Any) -> str:
    rows: list[list[str]] = []
    for tr in table.iterchildren(_TR):
        cells: list[str] = []
        for tc in tr.iterchildren(_TC):
            # Nested tables are flattened into their cell.
            parts = (_paragraph_text(p).strip() for p in tc.iter(_P))
            cells.append(" ".join(part for part in parts if part))
        rows.append(cells)
    return "\n".join(table_lines(rows))
