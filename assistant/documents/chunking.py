"""Token-aware, sentence-aware chunks with exact character offsets.

Chunks are packed from whole sentences up to a budget of tiktoken tokens, with a few
sentences of overlap inside a paragraph and a fresh start at paragraph breaks when the
paragraph fits. Every chunk is then checked against the embedding model's window in
the model's own tokens and split until it fits, so the model never truncates one.
Must not import textual or torch.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..config import ChunkingSettings
from ..records import Chunk, Document, Heading
from ..text.bpe import get_encoding
from ..text.sentences import sentence_spans

TokenCounter = Callable[[Sequence[str]], list[int]]

# A sentence longer than this is cut at spaces first: it keeps tokenizer work linear on
# pathological input (a multi-megabyte line with no spaces).
_MAX_UNIT_CHARS = 1_000


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    paragraph: int


def chunk_document(
    doc: Document,
    settings: ChunkingSettings,
    *,
    model_max_tokens: int,
    count_model_tokens: TokenCounter,
    language: str = "",
) -> list[Chunk]:
    """Cut ``doc`` into chunks.

    Args:
        doc: the document; chunks never cross its pages.
        settings: token budget, overlap and tiktoken encoding.
        model_max_tokens: the most tokens of the model's own tokenizer a chunk may hold.
        count_model_tokens: counts the model's tokens of each text (no special tokens).
        language: the document's language (ISO 639-1, "" unknown): sentences are split
            by its rules, and each chunk carries it.
    """
    encoding = get_encoding(settings.encoding)

    def count(texts: Sequence[str]) -> list[int]:
        # A plain loop: tiktoken's batch call submits a thread-pool task per text, which
        # costs more than encoding a sentence (seconds on a file of many short lines).
        return [len(encoding.encode_ordinary(t)) for t in texts]

    lines = _LineIndex(doc.text)
    pages: list[tuple[int, int, int | None]] = [(p.start, p.end, p.number) for p in doc.pages] or [
        (0, len(doc.text), None)
    ]
    chunks: list[Chunk] = []
    for seg_start, seg_end, page, heading in _segments(doc, pages):
        units = _units(doc.text, seg_start, seg_end, settings.chunk_tokens, count, language)
        spans = _pack(units, settings.chunk_tokens, settings.overlap_tokens)
        spans = _fit_model(doc.text, spans, model_max_tokens, count_model_tokens)
        for start, end in spans:
            base = _page_start(pages, page)
            first = lines.line_of(start) - lines.line_of(base) + 1
            chunks.append(
                Chunk(
                    path=doc.path,
                    text=doc.text[start:end],
                    char_start=start,
                    char_end=end,
                    start_line=first,
                    end_line=first + doc.text.count("\n", start, end),
                    page=page,
                    column=start - lines.start_of(start),
                    heading=heading,
                    ocr=any(s < end and start < e for s, e in doc.ocr),
                    language=language,
                )
            )
    return chunks


_PATH_SEPARATOR = " > "


def _segments(
    doc: Document, pages: list[tuple[int, int, int | None]]
) -> Iterator[tuple[int, int, int | None, str]]:
    """Stretches of a page between headings and running lines, with their heading path.

    Headings and running heads are left out of every chunk: a heading is carried as the
    context of the chunks below it instead, and is never quoted as an answer.
    """
    cuts = sorted(
        [(h.start, h.end, h) for h in doc.headings] + [(s, e, None) for s, e in doc.furniture],
        key=lambda cut: cut[0],
    )
    path: list[Heading] = []
    at = 0
    for page_start, page_end, page in pages:
        pos = page_start
        while at < len(cuts) and cuts[at][0] < page_end:
            cut_start, cut_end, heading = cuts[at]
            at += 1
            if cut_start > pos:
                yield pos, cut_start, page, _PATH_SEPARATOR.join(h.title for h in path)
            pos = max(pos, cut_end)
            if heading is not None:
                path = [h for h in path if h.level < heading.level] + [heading]
        if pos < page_end:
            yield pos, page_end, page, _PATH_SEPARATOR.join(h.title for h in path)


def _page_start(pages: list[tuple[int, int, int | None]], page: int | None) -> int:
    return 0 if page is None else pages[page - 1][0]


class _LineIndex:
    """0-based line number of any character offset, by bisection."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset) - 1

    def start_of(self, offset: int) -> int:
        """Where the line holding ``offset`` starts."""
        return self._starts[self.line_of(offset)]


def _units(
    text: str,
    start: int,
    end: int,
    budget: int,
    count: Callable[[Sequence[str]], list[int]],
    language: str,
) -> list[_Unit]:
    """Sentences of the segment, each cut to at most ``budget`` tokens."""
    paragraph_of = _paragraph_numbers(text, start, end)
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, start, end, language=language):
        pieces.extend(_cut(text, s, e, _MAX_UNIT_CHARS, lambda a, b: b - a))
    tokens = count([text[s:e] for s, e in pieces])
    units: list[_Unit] = []
    for (s, e), n in zip(pieces, tokens, strict=True):
        if n > budget:
            for a, b in _cut(text, s, e, budget, lambda a, b: count([text[a:b]])[0]):
                units.append(_Unit(a, b, count([text[a:b]])[0], paragraph_of(s)))
        else:
            units.append(_Unit(s, e, n, paragraph_of(s)))
    return units


def _paragraph_numbers(text: str, start: int, end: int) -> Callable[[int], int]:
    # A paragraph that ends with a colon introduces the next one (a list): keep them as one.
    breaks = [m.start() for m in re.finditer(r"(?<!:)\n[ \t]*\n", text[start:end])]
    return lambda offset: bisect.bisect_right(breaks, offset - start)


def _cut(
    text: str, start: int, end: int, limit: int, size: Callable[[int, int], int]
) -> list[tuple[int, int]]:
    """Halve ``text[start:end]`` at the space nearest its middle until each piece fits."""
    if size(start, end) <= limit or end - start < 2:
        return [(start, end)]
    middle = (start + end) // 2
    split = _nearest_space(text, start, end, middle)
    left_end, right_start = split, split
    while left_end > start and text[left_end - 1].isspace():
        left_end -= 1
    while right_start < end and text[right_start].isspace():
        right_start += 1
    if left_end <= start or right_start >= end:  # only spaces on one side: cut mid-word
        left_end = right_start = middle
    return _cut(text, start, left_end, limit, size) + _cut(text, right_start, end, limit, size)


def _nearest_space(text: str, start: int, end: int, middle: int) -> int:
    """Where to cut near ``middle``, within the middle half of the span: after the
    clause mark nearest it (Chinese and Japanese write long sentences without spaces),
    else at the nearest whitespace, else at ``middle``."""
    window = max(1, (end - start) // 4)
    low, high = max(start + 1, middle - window), min(end, middle + window)
    for pattern in _CUTS:
        found = [m.end() for m in pattern.finditer(text, low, high)]
        if found:
            return min(found, key=lambda p: abs(p - middle))
    return middle


# Best first: after a clause mark (CJK and Arabic commas, semicolons and colons, or a
# comma or semicolon before a space), then after the list comma 、, then at whitespace.
_CUTS = (re.compile(r"[，；：،؛]|[,;](?=\s)"), re.compile("、"), re.compile(r"(?=\s)"))


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedily pack units into spans of at most ``budget`` tokens."""
    paragraph_tokens: dict[int, int] = {}
    for u in units:
        paragraph_tokens[u.paragraph] = paragraph_tokens.get(u.paragraph, 0) + u.tokens
    spans: list[tuple[int, int]] = []
    current: list[_Unit] = []
    total = 0
    for unit in units:
        starts_paragraph = bool(current) and unit.paragraph != current[-1].paragraph
        whole_fits_alone = paragraph_tokens[unit.paragraph] <= budget
        if starts_paragraph and total + paragraph_tokens[unit.paragraph] > budget:
            if whole_fits_alone:  # start the paragraph afresh rather than split it
                spans.append((current[0].start, current[-1].end))
                current, total = [], 0
        if current and total + unit.tokens > budget:
            spans.append((current[0].start, current[-1].end))
            current = _tail(current, overlap) if not starts_paragraph else []
            total = sum(u.tokens for u in current)
            while current and total + unit.tokens > budget:
                total -= current.pop(0).tokens
        current.append(unit)
        total += unit.tokens
    if current:
        spans.append((current[0].start, current[-1].end))
    return spans


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The last units of a chunk that fit in the overlap budget (never all of them)."""
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(units[1:]):
        if total + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        total += unit.tokens
    return tail


def _fit_model(
    text: str, spans: list[tuple[int, int]], limit: int, count_model_tokens: TokenCounter
) -> list[tuple[int, int]]:
    """Split any span the model would truncate, until every piece fits its window."""
    sizes = count_model_tokens([text[s:e] for s, e in spans])
    fitted: list[tuple[int, int]] = []
    for (start, end), size in zip(spans, sizes, strict=True):
        if size <= limit:
            fitted.append((start, end))
        else:
            fitted.extend(
                _cut(text, start, end, limit, lambda a, b: count_model_tokens([text[a:b]])[0])
            )
    return fitted
