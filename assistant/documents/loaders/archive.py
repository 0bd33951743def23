"""Opening zip-based formats (.pptx, .xlsx, .epub, .odt) without trusting their sizes.

``open_zip`` refuses a zip bomb by the sizes its directory declares before anything is
inflated (zipfile never reads past a member's declared size, so those sizes bound what
is unpacked), and turns a file that isn't a zip into a ``LoaderError``. ``read_xml``
parses one member with the standard library's expat, which refuses external entities
and, since expat 2.4, entity-expansion bombs.

Must not import textual, torch or click.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.etree import ElementTree

from assistant.documents.loaders.text import describe
from assistant.errors import LoaderError

# A zip bomb posing as a document: refuse before decompressing more than this.
MAX_UNPACKED_BYTES = 200_000_000


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive in ``data``, checked against ``MAX_UNPACKED_BYTES``.

    Raises:
        LoaderError: not a zip, a damaged one, or one that unpacks past the limit.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise LoaderError(f"not valid {kind}: {_detail(exc)}") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise LoaderError(
            f"{kind} unpacks to {unpacked // 1_000_000} MB, over the"
            f" {MAX_UNPACKED_BYTES // 1_000_000} MB limit (a zip bomb?)"
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    """The bytes of one member.

    Raises:
        LoaderError: the member is missing or damaged.
    """
    try:
        return archive.read(name)
    except KeyError as exc:
        raise LoaderError(f"not valid {kind}: no {name} in the archive") from exc
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        raise LoaderError(f"not valid {kind}: damaged {name} ({_detail(exc)})") from exc


def read_xml(archive: zipfile.ZipFile, name: str, kind: str) -> ElementTree.Element:
    """One member parsed as XML.

    Raises:
        LoaderError: the member is missing, damaged or not well-formed XML.
    """
    data = read_member(archive, name, kind)
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise LoaderError(f"not valid {kind}: broken XML in {name} ({describe(exc)})") from exc


def _detail(exc: BaseException) -> str:
    return describe(exc).removeprefix("File is ")  # "File is not a zip file"
