"""Tables as rows a sentence can answer from: each row names its columns.

"Harbour fees | 120,000 | 135,500" under the header "Item | 2023 | 2024" becomes
"Harbour fees: 2023 120,000; 2024 135,500", so a question about one cell finds the
row with the words of its header. Must not import textual or torch.
"""

from __future__ import annotations

from collections.abc import Sequence

CELL_SEPARATOR = " | "


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per row; the first row is the header, kept as its cells joined.

    Empty cells are left out; a row whose label (first cell) is empty lists only its
    named cells. A table of one row or one column is its cells joined.
    """
    cleaned = [[" ".join(cell.split()) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    header = cleaned[0]
    if len(cleaned) == 1 or len(header) < 2:
        return [CELL_SEPARATOR.join(c for c in row if c) for row in cleaned]
    lines = [CELL_SEPARATOR.join(c for c in header if c)]
    lines.extend(row_line(header, row) for row in cleaned[1:])
    return lines


def row_line(header: Sequence[str], row: Sequence[str]) -> str:
    """One row under ``header`` as "Label: Header value; ...", for cells already cleaned."""
    if not row:
        return ""
    label, cells = row[0], row[1:]
    named = [
        f"{name} {value}".strip() if name else value
        for name, value in zip(header[1:], cells, strict=False)
        if value
    ]
    named += [value for value in cells[len(header) - 1 :] if value]
    body = "; ".join(named)
    return f"{label}: {body}" if label and body else label or body
