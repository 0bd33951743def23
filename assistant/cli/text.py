"""The CLI's plain-text output: answers, passages and metrics as lines for a terminal.

Document text and file names are data: control characters in them are shown escaped, so
printing them can't move the cursor or retitle the window. No click here; cli.py prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..records import NOT_FOUND, Answer, SearchResult, page_word

# C0 and C1 control characters other than tab and newline: in a file name or a document
# they could move the cursor, retitle the window or hide text when printed raw.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Text for the terminal: control characters shown escaped, lines kept."""
    return _CONTROL.sub(_escaped, text)


def safe_path(path: str) -> str:
    """A path for the terminal, on one line: newlines and tabs are escaped too."""
    return _CONTROL_OR_BREAK.sub(_escaped, path)


def _escaped(match: re.Match[str]) -> str:
    return {"\n": "\\n", "\t": "\\t"}.get(match.group(), f"\\x{ord(match.group()):02x}")


def metrics_table(table: dict[str, dict[str, Any]]) -> str:
    """One row of metrics per retrieval mode, as `excerpta eval` prints them."""
    from ..evaluation import METRIC_COLUMNS  # deferred: only `eval` needs it

    read = any(row.get("span_em") is not None for row in table.values())
    keys = [*METRIC_COLUMNS, *(("span_em", "span_f1") if read else ()), "abstained"]
    keys.append("latency_ms_p50")
    lines = ["mode     " + "".join(f"{k:>15}" for k in keys)]
    for mode, row in table.items():
        cells = "".join(
            f"{'-':>15}"
            if row[k] is None
            else f"{row[k]:>15.3f}"
            if k != "latency_ms_p50"
            else f"{row[k]:>15.1f}"
            for k in keys
        )
        lines.append(f"{mode:<9}{cells}")
    lines.append(f"({next(iter(table.values()))['questions']} questions)")
    return "\n".join(lines)


def answer_text(answer: Answer, mark: Callable[[str], str] = str) -> str:
    """The answer and its numbered citations, each with its excerpt; ``mark`` styles the
    phrase a reader marked as the answer (bold on a terminal)."""
    if answer.abstained:
        return NOT_FOUND
    lines = [_marked(answer, mark), ""]
    for c in answer.citations:
        where = f"{safe_path(c.path)}:{c.start_line}" + (
            f"-{c.end_line}" if c.end_line != c.start_line else ""
        )
        if c.page is not None:
            where += f" ({page_word(c.path)} {c.page})"
        lines.append(f"[{c.n}] {where}  score {c.score:.2f}" + ("  (OCR)" if c.ocr else ""))
        lines.extend("    " + safe(part) for part in c.excerpt.splitlines() if part.strip())
    return "\n".join(lines)


def _marked(answer: Answer, mark: Callable[[str], str]) -> str:
    span = answer.span_in_answer()
    text = answer.text
    if span is None:
        return safe(text)
    start, end = span
    return safe(text[:start]) + mark(safe(text[start:end])) + safe(text[end:])


def hits_text(result: SearchResult) -> str:
    """The ranked passages, each under its location and score."""
    if not result.hits:
        return "No matching passages."
    blocks = []
    for rank, hit in enumerate(result.hits, 1):
        c = hit.chunk
        page = f" ({page_word(c.path)} {c.page})" if c.page is not None else ""
        head = f"{rank}. {safe_path(c.path)}:{c.start_line}-{c.end_line}{page}"
        head += f"  score {hit.score:.3f}" + ("  (OCR)" if c.ocr else "")
        lines = ("    " + safe(line) for line in c.text.splitlines())
        blocks.append(head + "\n" + "\n".join(lines))
    return "\n\n".join(blocks)
