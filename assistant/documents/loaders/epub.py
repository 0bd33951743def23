"""Reading e-books (.epub) as plain zip and XML: the chapters in reading order.

The package's ``META-INF/container.xml`` names the OPF file; its spine lists the
chapters in reading order, and each chapter (XHTML) is read like an HTML file (visible
text, headings, tables). Chapters are joined with a blank line between; their headings
carry the chapter titles into the passages. Scripts in a chapter are never run (the
HTML reader keeps only visible text). No e-book library is needed: ebooklib is
AGPL-licensed, and these few XML lookups are all it would do here.

Must not import textual, torch or click.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote
from xml.etree import ElementTree

from assistant.documents.loaders.archive import open_zip, read_member, read_xml
from assistant.documents.loaders.html import load_html
from assistant.errors import LoaderError
from assistant.records import Document, Heading

_KIND = "EPUB"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_SEPARATOR = "\n\n"
_MAX_CHAPTERS = 10_000


def load_epub(data: bytes) -> Document:
    """Read an .epub's chapters in spine order.

    Raises:
        LoaderError: not a zip, a zip bomb, or without the parts of an e-book.
    """
    archive = open_zip(data, _KIND)
    with archive:
        container = read_xml(archive, "META-INF/container.xml", _KIND)
        rootfile = container.find(f".//{_CONTAINER}rootfile")
        opf_path = rootfile.get("full-path", "") if rootfile is not None else ""
        if not opf_path:
            raise LoaderError("not valid EPUB: container.xml names no package file")
        opf = read_xml(archive, opf_path, _KIND)
        texts: list[str] = []
        headings: list[Heading] = []
        offset = 0
        for href in _spine(opf, posixpath.dirname(opf_path))[:_MAX_CHAPTERS]:
            chapter = load_html(read_member(archive, href, _KIND))
            if not chapter.text.strip():
                continue
            headings.extend(
                Heading(h.start + offset, h.end + offset, h.level, h.title)
                for h in chapter.headings
            )
            texts.append(chapter.text)
            offset += len(chapter.text) + len(_SEPARATOR)
    return Document(path="", text=_SEPARATOR.join(texts), headings=tuple(headings))


def _spine(opf: ElementTree.Element, base: str) -> list[str]:
    """The archive paths of the spine's documents, in reading order."""
    manifest = {
        item.get("id", ""): item.get("href", "")
        for item in opf.iter(f"{_OPF}item")
        if "html" in item.get("media-type", "")
    }
    paths: list[str] = []
    for ref in opf.iter(f"{_OPF}itemref"):
        href = manifest.get(ref.get("idref", ""))
        if href:
            path = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
            if path not in paths:
                paths.append(path)
    if not paths:
        raise LoaderError("not valid EPUB: its spine lists no chapters")
    return paths
