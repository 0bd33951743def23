"""Sentence spans in a text, with character offsets.

Blank lines always end a sentence. Single line breaks end one too, unless the block
looks hard-wrapped (prose broken at a fixed width), so titles, captions and bullet
lists don't run into the next line. Inside a block the segmenter is `sentencex`
(MIT), which knows abbreviations such as "Dec. 7", "Gen." and "U.S.".
Must not import textual or torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sentencex

_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
_NON_SPACE = re.compile(r"\S")
# Bigger blocks than this are first cut at line breaks; it bounds the segmenter's work.
_MAX_BLOCK = 20_000
# Text with none of these inside holds one sentence at most: no need to segment it.
_INNER_END = re.compile(r"[.!?…][\"'”’)\]]*\s")
_BULLET = re.compile(r"\s*(?:[-*•·▪◦–]|\d{1,3}[.)])\s")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in ``text[start:end]``.

    Spans are absolute offsets into ``text``, exclude surrounding whitespace, are in
    order, and never overlap.
    """
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, start, stop):
        for unit_start, unit_end in _units(text, block_start, block_end):
            spans.extend(_segment(text, unit_start, unit_end))
    return spans


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Paragraphs: stretches between blank lines."""
    pos = start
    for match in _BLANK_LINE.finditer(text, start, end):
        yield pos, match.start()
        pos = match.end()
    yield pos, end


def _units(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split a paragraph at line breaks unless its lines are hard-wrapped prose."""
    block = text[start:end]
    if "\n" not in block:
        yield start, end
        return
    lines = block.split("\n")
    if _looks_wrapped(lines) and len(block) <= _MAX_BLOCK:
        yield start, end
        return
    pos = start
    for line in lines:
        yield pos, pos + len(line)
        pos += len(line) + 1


def _looks_wrapped(lines: list[str]) -> bool:
    """Prose wrapped at a fixed width: every line but the last is long, none a bullet."""
    if any(_BULLET.match(line) for line in lines):
        return False
    widths = [len(line.rstrip()) for line in lines]
    return min(widths[:-1]) >= 40 and max(widths) <= 110


def _segment(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Run the segmenter on one unit and map its sentences back to offsets."""
    unit = text[start:end]
    if not _NON_SPACE.search(unit):
        return
    if not _INNER_END.search(unit):  # the common short line: skip the segmenter's cost
        lead = len(unit) - len(unit.lstrip())
        yield start + lead, start + len(unit.rstrip())
        return
    pos = 0
    for sentence in sentencex.segment("en", unit):
        stripped = sentence.strip()
        if not stripped:
            continue
        found = unit.find(stripped, pos)
        if found < 0:  # the segmenter altered the text; fall back to the rest as one
            break
        yield start + found, start + found + len(stripped)
        pos = found + len(stripped)
    rest = unit[pos:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        yield start + pos + lead, start + pos + len(rest.rstrip())
