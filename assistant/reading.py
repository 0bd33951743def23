"""Answers from a reader model: the sentence that holds the answer, its phrase marked.

The reader reads the best retrieved passages with the question and marks a span in each,
with a span score and a "no answer" score. The passages are reranked by how well the
reader reads them, retrieval's order weighed in (``passage_order``); the answer is the
sentence holding the best span (not the sentence that best repeats the question), cited
exactly as ``answer.py`` cites, with the span as the answer phrase. Where the reader's
"no answer" wins in every passage, the answer abstains. Must not import textual, click
or torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .answer import AnswerPolicy, cite
from .reader import Reading
from .records import Answer, AnswerSpan, Citation, Hit
from .text.sentences import sentence_spans

READ_PASSAGES = 10
"""The most passages of a question the reader reads (all retrieved, up to this)."""
RANK_WEIGHT = 2.0
"""How much retrieval's order counts beside the reader when ranking passages: the
reader's span score less its no-answer score, less ``RANK_WEIGHT * log2(rank + 1)``.
Tuned on the held-out tuning articles (training/tune_reading.py): the span score alone
ranks passages worse than retrieval did (R@1 0.69 against 0.81); blended, 0.84."""
_LIST_LOOKBACK = 8  # sentences to look back for one ending in ":" that introduces a list


def passages_to_read(hits: Sequence[Hit]) -> list[Hit]:
    """The passages the reader reads for one question: the best ``READ_PASSAGES``."""
    return list(hits[:READ_PASSAGES])


def compose_read_answer(
    question: str,
    hits: Sequence[Hit],
    readings: Sequence[Reading],
    margin: float,
    policy: AnswerPolicy | None = None,
    order: Sequence[int] | None = None,
) -> tuple[Answer, list[Hit]]:
    """The answer the readings point to, and the passages reranked as the reader ranks them.

    Args:
        readings: one per passage of ``passages_to_read(hits)``, in that order.
        margin: the reader's ``no_answer_margin``.
        order: the passages' ranking (indices into ``readings``); default
            ``passage_order(readings)``.
    """
    read = passages_to_read(hits)
    if len(readings) != len(read):
        raise ValueError("readings must match passages_to_read")
    order = list(order) if order is not None else passage_order(readings)
    reranked = [read[i] for i in order] + list(hits[len(read) :])
    answering = [i for i in order if readings[i].answers(margin)]
    if not answering:
        best = max((confidence(r, margin) for r in readings), default=0.0)
        return Answer(question, "", True, confidence=best), reranked
    most = (policy or AnswerPolicy()).max_citations
    citations: list[Citation] = []
    span: AnswerSpan | None = None
    for i in answering:
        if len(citations) == most:
            break
        n = len(citations) + 1
        citation, phrase = _cite_span(n, read[i], readings[i], confidence(readings[i], margin))
        if any((c.path, c.char_start) == (citation.path, citation.char_start) for c in citations):
            continue  # overlapping chunks: the same sentence once
        citations.append(citation)
        if n == 1:
            span = phrase
    answer = Answer(
        question,
        f"{citations[0].sentence} [1]",
        False,
        tuple(citations),
        confidence=citations[0].score,
        span=span,
    )
    return answer, reranked


def passage_order(readings: Sequence[Reading], rank_weight: float = RANK_WEIGHT) -> list[int]:
    """Passage indices, best first: how far the reader's span beats its "no answer" (the
    score is relative to each passage), less ``rank_weight`` times log2 of one plus the
    retrieval rank (``readings`` are in retrieval order)."""

    def key(i: int) -> float:
        margin = readings[i].span_score - readings[i].no_answer_score
        return margin - rank_weight * math.log2(i + 2)

    return sorted(range(len(readings)), key=key, reverse=True)


def confidence(reading: Reading, margin: float) -> float:
    """How sure the reader is that the passage answers: 0.5 exactly at its margin."""
    logit = reading.span_score - reading.no_answer_score + margin
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def _cite_span(
    n: int, hit: Hit, reading: Reading, score: float
) -> tuple[Citation, AnswerSpan | None]:
    """Cite the sentence holding the span (or the list holding it), and the span in it."""
    text = hit.chunk.text
    start, end = reading.start, reading.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    spans = sentence_spans(text) or [(0, len(text))]
    # The sentence the span starts in (or, between sentences, the one before it).
    holder = max((k for k, (first, _) in enumerate(spans) if first <= start), default=0)
    citation = cite(n, hit, *spans[holder], score)
    # A list item is cited with the sentence that introduces the list ("demanding:").
    for k in range(holder - 1, max(-1, holder - 1 - _LIST_LOOKBACK), -1):
        if text[spans[k][0] : spans[k][1]].endswith(":"):
            wider = cite(n, hit, *spans[k], score)
            if wider.char_end - hit.chunk.char_start >= end:
                citation = wider
            break
    # The phrase, clipped to the cited sentence, in the document's offsets.
    low = max(start, citation.char_start - hit.chunk.char_start)
    high = min(end, citation.char_end - hit.chunk.char_start)
    if high <= low:
        return citation, None
    offset = hit.chunk.char_start
    return citation, AnswerSpan(n, text[low:high], offset + low, offset + high)
