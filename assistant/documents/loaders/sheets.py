"""Reading spreadsheets: .xlsx with openpyxl (a page per sheet) and .csv/.tsv (stdlib csv).

Each row is one line, so a citation's line is the row number; the first row with
content is the header, and every row below it names its columns ("Harbour master:
Name Ada Lovelace; Phone 555-0101") so that a question about one cell finds its row.
The header row itself is recorded as a heading titled with the sheet's name, so it is
carried into every passage of the sheet rather than quoted.

openpyxl reads in read-only mode (rows streamed, not the whole workbook in memory) with
``data_only``: a formula is read as the value Excel last saved, never evaluated, and
macros (a .xlsm's VBA project) are never opened. Past ``MAX_ROWS`` rows or
``MAX_CELLS`` cells in one file the rest is left out, and the document's note says so.

Must not import textual, torch or click.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from assistant.documents.loaders.archive import open_zip
from assistant.documents.loaders.paged import PageText, paged_document
from assistant.documents.loaders.text import decode_text, describe
from assistant.errors import LoaderError
from assistant.records import Document
from assistant.text.tables import CELL_SEPARATOR, row_line

MAX_ROWS = 200_000
"""Rows read from one file (all sheets together), blank rows included."""
MAX_CELLS = 2_000_000
"""Cells read from one file, empty ones inside a row included."""
_MAX_COLUMNS = 1_000


class _Budget:
    """Rows and cells left to read in one file; remembers whether it ran out."""

    def __init__(self) -> None:
        self.rows = MAX_ROWS
        self.cells = MAX_CELLS
        self.exhausted = False

    def take(self, width: int) -> bool:
        if self.rows <= 0 or self.cells < width:
            self.exhausted = True
            return False
        self.rows -= 1
        self.cells -= max(width, 1)
        return True

    def note(self) -> str:
        if not self.exhausted:
            return ""
        read = MAX_ROWS - self.rows
        return f"read the first {read:,} rows only (limit {MAX_ROWS:,} rows, {MAX_CELLS:,} cells)"


def load_xlsx(data: bytes) -> Document:
    """Read a workbook: a page per sheet, a line per row.

    Raises:
        LoaderError: not a zip, a zip bomb, or not a workbook.
    """
    open_zip(data, "XLSX").close()
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    budget = _Budget()
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_vba=False, keep_links=False
        )
        try:
            pages = [
                _sheet_page(sheet.title, sheet.iter_rows(values_only=True), budget)
                for sheet in workbook.worksheets
            ]
        finally:
            workbook.close()
    except (zipfile.BadZipFile, zlib.error, EOFError, InvalidFileException) as exc:
        raise LoaderError(f"not valid XLSX: {describe(exc)}") from exc
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else "a part is missing"
        raise LoaderError(f"not valid XLSX: {missing}") from exc
    except SyntaxError as exc:  # lxml's XMLSyntaxError, expat's ParseError
        raise LoaderError(f"not valid XLSX: broken XML ({describe(exc)})") from exc
    return paged_document(pages, note=budget.note())


def load_delimited(data: bytes, delimiter: str) -> Document:
    """Read a .csv or .tsv file: one sheet, a line per record, no page numbers.

    Raises:
        LoaderError: binary data, or a record ``csv`` refuses (a field past its limit).
    """
    text = decode_text(data)
    if delimiter == ",":
        delimiter = _sniff(text[:8192])
    budget = _Budget()
    try:
        page = _sheet_page("", csv.reader(io.StringIO(text), delimiter=delimiter), budget)
    except csv.Error as exc:
        raise LoaderError(f"not valid CSV: {describe(exc)}") from exc
    return paged_document([page], numbered=False, note=budget.note())


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _sheet_page(name: str, rows: Iterable[Iterable[Any]], budget: _Budget) -> PageText:
    page = PageText()
    header: list[str] | None = None
    for raw in rows:
        cells = list(_cells(raw))
        if not budget.take(len(cells)):
            break
        while cells and not cells[-1]:
            cells.pop()
        if header is None and any(cells):
            header = cells
            page.headings[len(page.lines)] = (1, name or CELL_SEPARATOR.join(c for c in cells if c))
            page.lines.append(CELL_SEPARATOR.join(c for c in cells if c))
        elif any(cells):
            assert header is not None
            page.lines.append(row_line(header, cells) if len(header) > 1 else " ".join(cells))
        else:
            page.lines.append("")
    return page


def _cells(raw: Iterable[Any]) -> Iterator[str]:
    for n, value in enumerate(raw):
        if n >= _MAX_COLUMNS:
            return
        yield " ".join(_format(value).split())


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
