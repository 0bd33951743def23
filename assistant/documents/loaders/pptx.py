"""Reading PowerPoint (.pptx) files with python-pptx: one page per slide.

A slide's title is its heading; then the text of its shapes in the order they are
stored (group shapes opened, tables as rows with the header's names carried in), then
its speaker notes. Macros are never run: python-pptx only reads XML parts, and a
.pptm's VBA project is a part it never opens.

Must not import textual, torch or click.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from assistant.documents.loaders.archive import open_zip
from assistant.documents.loaders.paged import PageText, paged_document, split_lines
from assistant.documents.loaders.text import describe
from assistant.errors import LoaderError
from assistant.records import Document
from assistant.text.tables import table_lines

_KIND = "PPTX"


def load_pptx(data: bytes) -> Document:
    """Read a .pptx file: a page per slide.

    Raises:
        LoaderError: not a zip, a zip bomb, or not a presentation.
    """
    open_zip(data, _KIND).close()
    from pptx import Presentation
    from pptx.exc import PythonPptxError

    try:
        presentation = Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    # PythonPptxError: python-pptx's own, e.g. InvalidXmlError for a relationship with no Id
    except (zipfile.BadZipFile, zlib.error, EOFError, PythonPptxError) as exc:
        raise LoaderError(f"not valid PPTX: {describe(exc)}") from exc
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else "a part is missing"
        raise LoaderError(f"not valid PPTX: {missing}") from exc
    except SyntaxError as exc:  # lxml's XMLSyntaxError
        raise LoaderError(f"not valid PPTX: broken XML ({describe(exc)})") from exc
    except ValueError as exc:
        raise LoaderError(f"not valid PPTX: {describe(exc)}") from exc
    return paged_document([_slide(slide) for slide in slides])


def _slide(slide: Any) -> PageText:
    page = PageText()
    title = slide.shapes.title
    if title is not None and title.has_text_frame and title.text_frame.text.strip():
        page.add_heading(title.text_frame.text)
    for shape in _shapes(slide.shapes):
        if title is not None and shape.shape_id == title.shape_id:
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            page.lines.extend(table_lines(rows))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            page.lines.extend(p for p in split_lines(shape.text_frame.text) if p.strip())
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            page.lines.append("")
            page.lines.extend(split_lines(notes.text))
    return page


def _shapes(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape
