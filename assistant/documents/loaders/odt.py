"""Reading OpenDocument text (.odt) as plain zip and XML: ``content.xml``, in order.

Headings (``text:h``, with their outline level) and paragraphs become blocks with a
blank line between, as for .docx; lists are read item by item; a table becomes one
line per row with its header's names carried in. Spaces (``text:s``), tabs and line
breaks are spelled out. Macros (Basic, in the package's ``Basic/`` folder) are never
opened. The standard library's XML parser suffices; odfpy would add a dependency to
do the same walk.

Must not import textual, torch or click.
"""

from __future__ import annotations

from xml.etree import ElementTree

from assistant.documents.loaders.archive import open_zip, read_xml
from assistant.records import Document, Heading
from assistant.text.tables import table_lines

_KIND = "ODT"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_SEPARATOR = "\n\n"
# Elements whose text is not part of the flowing text where they stand.
_SKIP = {f"{_TEXT}note", f"{_TEXT}tracked-changes", f"{_OFFICE}annotation"}


def load_odt(data: bytes) -> Document:
    """Read an .odt file's body text.

    Raises:
        LoaderError: not a zip, a zip bomb, or without a readable content.xml.
    """
    with open_zip(data, _KIND) as archive:
        content = read_xml(archive, "content.xml", _KIND)
    blocks: list[tuple[str, int]] = []
    for body in content.iter(f"{_OFFICE}text"):
        _blocks(body, blocks)
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for text, level in blocks:
        if level:
            headings.append(Heading(offset, offset + len(text), level, " ".join(text.split())))
        parts.append(text)
        offset += len(text) + len(_SEPARATOR)
    return Document(path="", text=_SEPARATOR.join(parts), headings=tuple(headings))


def _blocks(element: ElementTree.Element, out: list[tuple[str, int]]) -> None:
    """Append (text, heading level) for each paragraph, heading and table, in order."""
    for child in element:
        if child.tag == f"{_TEXT}h":
            level = child.get(f"{_TEXT}outline-level", "1")
            text = _inline(child)
            if text.strip():
                out.append((text, min(int(level), 9) if level.isdigit() and level != "0" else 1))
        elif child.tag == f"{_TEXT}p":
            text = _inline(child)
            if text.strip():
                out.append((text, 0))
        elif child.tag == f"{_TABLE}table":
            rows = [
                [_cell(cell) for cell in row.iter(f"{_TABLE}table-cell")]
                for row in child.iter(f"{_TABLE}table-row")
            ]
            text = "\n".join(table_lines(rows))
            if text.strip():
                out.append((text, 0))
        elif child.tag not in _SKIP:
            _blocks(child, out)  # sections, lists, list items, frames


def _cell(cell: ElementTree.Element) -> str:
    parts: list[tuple[str, int]] = []
    _blocks(cell, parts)
    return " ".join(text for text, _ in parts)


def _inline(element: ElementTree.Element) -> str:
    parts: list[str] = [element.text or ""]
    for child in element:
        if child.tag == f"{_TEXT}s":
            count = child.get(f"{_TEXT}c", "1")
            parts.append(" " * min(int(count), 100) if count.isdigit() else " ")
        elif child.tag == f"{_TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif child.tag not in _SKIP:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)
