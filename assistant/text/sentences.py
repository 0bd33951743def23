"""Sentence spans in a text, with character offsets.

Blank lines always end a sentence. A single line break ends one when it is a hard
break (see ``reflow.soft_breaks``: titles, captions, list items, table rows, contents
lines, a paragraph's short last line), and is read as a space when it only wraps a
printed line, so a sentence wrapped over lines (a PDF's) is one sentence. Spans index
the original text, line breaks and hyphens included. Inside a run of wrapped lines the
segmenter is `sentencex` (MIT), which knows abbreviations such as "Dec. 7", "Gen." and
"U.S."; it splits by the document's language's rules where it has them. A CJK full
stop, exclamation or question mark (。！？) always ends a sentence, whatever follows.
Must not import textual or torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sentencex

from .reflow import BLANK_LINE, soft_breaks

_NON_SPACE = re.compile(r"\S")
# Bigger blocks than this are first cut at line breaks; it bounds the segmenter's work.
_MAX_BLOCK = 20_000
# Text with none of these inside holds one sentence at most: no need to segment it.
_INNER_END = re.compile(r"[.!?…][\"'”’)\]]*\s|[。！？؟।][」』”’)\]]*\S")
# Ends of sentences in scripts written without spaces: always ends, then the closing
# quotes or brackets that follow them.
_CJK_END = re.compile(r"[。！？][」』”’)）\]]*")


def sentence_spans(
    text: str,
    start: int = 0,
    end: int | None = None,
    *,
    lead: int | None = None,
    language: str = "",
) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in ``text[start:end]``.

    Spans are absolute offsets into ``text``, exclude surrounding whitespace, are in
    order, and never overlap. ``lead``: how many characters of the first printed line
    precede ``start`` (a passage cut from the middle of a line); by default, counted in
    ``text`` itself. ``language``: the text's (ISO 639-1); "" reads as English.
    """
    stop = len(text) if end is None else end
    if lead is None:
        lead = start - (text.rfind("\n", 0, start) + 1)
    spans: list[tuple[int, int]] = []
    for number, (block_start, block_end) in enumerate(_blocks(text, start, stop)):
        units = _units(text, block_start, block_end, lead if number == 0 else 0)
        for unit_start, unit_end in units:
            for found_start, found_end in _segment(text, unit_start, unit_end, language or "en"):
                spans.extend(_split_cjk(text, found_start, found_end))
    return spans


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Paragraphs: stretches between blank lines."""
    pos = start
    for match in BLANK_LINE.finditer(text, start, end):
        yield pos, match.start()
        pos = match.end()
    yield pos, end


def _units(text: str, start: int, end: int, lead: int) -> Iterator[tuple[int, int]]:
    """Runs of lines joined by soft breaks; a hard break ends a run (and a sentence)."""
    block = text[start:end]
    if "\n" not in block:
        yield start, end
        return
    lines = block.split("\n")
    unit_start = pos = start
    for line, soft in zip(lines, [*soft_breaks(lines, lead=lead), False], strict=True):
        pos += len(line)
        # A run is bounded, so the segmenter's work stays linear on huge paragraphs.
        if not soft or pos - unit_start > _MAX_BLOCK:
            yield unit_start, pos
            unit_start = pos + 1
        pos += 1


def _split_cjk(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A sentence cut after each CJK sentence end inside it (the segmenter misses some:
    a Japanese 。 before a digit)."""
    pos = start
    for match in _CJK_END.finditer(text, start, end):
        if match.end() < end and text[match.end() : end].strip():
            yield pos, match.end()
            pos = match.end()
            while pos < end and text[pos].isspace():
                pos += 1
    yield pos, end


def _segment(text: str, start: int, end: int, language: str) -> Iterator[tuple[int, int]]:
    """Run the segmenter on one unit and map its sentences back to offsets."""
    unit = text[start:end]
    if not _NON_SPACE.search(unit):
        return
    if not _INNER_END.search(unit):  # the common short line: skip the segmenter's cost
        lead = len(unit) - len(unit.lstrip())
        yield start + lead, start + len(unit.rstrip())
        return
    pos = 0
    for sentence in sentencex.segment(language, unit):
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
