"""Reading Markdown: its text line for line, its ``#`` headings, its tables as rows.

Lines stay where they are in the file (the source pane shows the file's own lines):
a heading stays as written and is recorded with its span; a pipe table's rows are
rewritten in place as "Label: Header value; ..." and its ``|---|`` line is left blank.
Fenced code is left alone.

Must not import textual, torch or click.
"""

from __future__ import annotations

import re

from assistant.records import Document, Heading
from assistant.text.tables import table_lines

_ATX = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_TABLE_RULE = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def markdown_document(text: str) -> Document:
    """``text`` (a decoded Markdown file) with its headings found and tables read as rows."""
    lines = text.split("\n")
    _rewrite_tables(lines)
    headings: list[Heading] = []
    offset = 0
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _ATX.match(line)) and match.group(2):
            headings.append(
                Heading(offset, offset + len(line), len(match.group(1)), match.group(2))
            )
        offset += len(line) + 1
    return Document(path="", text="\n".join(lines), headings=tuple(headings))


def _rewrite_tables(lines: list[str]) -> None:
    """Rewrite each pipe table in place, keeping the number of lines."""
    i = 1
    while i < len(lines):
        if not (_TABLE_RULE.match(lines[i]) and "|" in lines[i - 1] and "-" in lines[i]):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and "|" in lines[end] and lines[end].strip():
            end += 1
        rows = [_cells(lines[i - 1])] + [_cells(line) for line in lines[i + 1 : end]]
        rewritten = table_lines(rows)
        if len(rewritten) == len(rows):
            lines[i - 1] = rewritten[0]
            lines[i] = ""
            lines[i + 1 : end] = rewritten[1:]
        i = end


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [cell.strip() for cell in body.split("|")]
