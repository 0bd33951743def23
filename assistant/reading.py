"""Answers with a reader model: it backs sentences, marks the phrase, and reranks only
the passages it reads with confidence.

The reader reads a window of the best retrieved passages with the question (the
sentences that match the question best, ``reading_window``: part of the chunk) and marks
spans in each, with span scores and a "no answer" score. It reads fewer passages when
retrieval is sure of its first (``passages_to_read``). A passage moves ahead of
retrieval's order only where the reader's span clearly beats its "no answer"
(``passage_order``); otherwise retrieval's order stands, so on documents unlike those
the reader learned from (Wikipedia) it steps aside. Then the sentence scorer of
``answer.py`` picks the answer sentence among the passages, each sentence's score raised
by how sure the reader is that the answer phrase is in it. The answer abstains when
either is unsure: the scorer's confidence (a match at all) or the reader's "no answer"
winning in every passage (a near miss: the right passage, but it does not say what was
asked). The reader's best span in the answer sentence is marked as the answer phrase. A
request that asks for no phrase (a claim, keywords, a yes/no question:
``asks_for_a_phrase``) is not read.
Must not import textual, click or torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .answer import AnswerPolicy, compose_answer, sentences_to_embed
from .reader import Reader, Reading, Span
from .records import Answer, AnswerSpan, Citation, Hit
from .text.sentences import sentence_spans
from .text.terms import tokenize


@dataclass(frozen=True)
class ReadingPlan:
    """How much the reader reads of each question's passages, and how far it may reorder
    them. The defaults were chosen by ``training/tune_reading.py`` on SQuAD dev's tuning
    articles (see docs/reader.md)."""

    passages: int = 3
    """The most passages of a question read."""
    sure_gap: float = 0.04
    """Retrieval is sure of its first passage when its dense score beats the second's by
    this much; then only ``when_sure`` passages are read."""
    when_sure: int = 2
    window_chars: int = 480
    """About how much of a passage is read: the sentence that matches the question best
    and its neighbours (a chunk is ~700 characters; reading costs grow with its length)."""
    rank_weight: float = 2.0
    """How much retrieval's order counts beside the reader among the passages it reads
    with confidence: span score less no-answer score, less ``rank_weight * log2(rank + 1)``."""
    rerank_above: float = 0.0
    """A passage is reranked only where its span beats "no answer" by at least this much
    past the reader's margin (0: exactly where the reader would answer)."""


# A question word first, or after a preposition ("In which year ..."): "which" and "who"
# further on are as often relative pronouns of a statement ("Patients who ...").
_WH_WORD = re.compile(
    r"^\W*(?:(?:in|at|on|to|for|from|by|of|with|during|since|under|after|before)\s+)?"
    r"(who|whom|whose|what|when|where|which|why|how)\b",
    re.IGNORECASE,
)
_ASKS_FOR_A_LIST = re.compile(r"^\W*(name|list|give|tell|explain|describe)\b", re.IGNORECASE)
_YES_NO = re.compile(
    r"^\W*(is|are|was|were|do|does|did|can|could|will|would|should|shall|has|have|had|may|"
    r"might|must)\b",
    re.IGNORECASE,
)
_QUESTION_MARKS = ("?", "？", "؟")  # Latin, full-width, Arabic


def asks_for_a_phrase(text: str) -> bool:
    """Whether ``text`` asks for something a phrase of the documents can answer (a question
    word, "name ...", or a question mark), so that an extractive reader has a phrase to
    find. Claims, keywords and yes/no questions ("Is it true that ...?") are not read:
    the reader learned no "yes" or "no", and would only say "no answer"."""
    stripped = text.strip()
    if _YES_NO.match(stripped):
        return False
    return bool(
        _WH_WORD.match(stripped)
        or _ASKS_FOR_A_LIST.match(stripped)
        or stripped.endswith(_QUESTION_MARKS)
    )


def passages_to_read(hits: Sequence[Hit], plan: ReadingPlan = ReadingPlan()) -> list[Hit]:
    """The passages the reader reads for one question: the best ``plan.passages``, or
    only ``plan.when_sure`` where retrieval is sure of its first."""
    first, second = (hits[i].dense_score if i < len(hits) else None for i in (0, 1))
    sure = first is not None and second is not None and first - second >= plan.sure_gap
    return list(hits[: plan.when_sure if sure else plan.passages])


def reading_window(question: str, text: str, chars: int) -> tuple[int, int]:
    """The part of ``text`` the reader reads: the sentence that shares most of the
    question's words, then its neighbours (the next first) while they fit in ``chars``."""
    if len(text) <= chars:
        return 0, len(text)
    spans = sentence_spans(text) or [(0, len(text))]
    terms = set(tokenize([question])[0])
    overlap = [len(terms & set(words)) for words in tokenize([text[a:b] for a, b in spans])]
    best = max(range(len(spans)), key=lambda i: (overlap[i], -i))
    low = high = best
    grown = True
    while grown:
        grown = False
        for candidate in (high + 1, low - 1):
            if 0 <= candidate < len(spans):
                first, last = min(low, candidate), max(high, candidate)
                if spans[last][1] - spans[first][0] <= chars:
                    low, high, grown = first, last, True
    start, end = spans[low][0], spans[high][1]
    return start, min(end, start + chars)  # one sentence longer than the window: its start


def read_questions(
    reader: Reader,
    questions: Sequence[str],
    all_hits: Sequence[Sequence[Hit]],
    plan: ReadingPlan = ReadingPlan(),
) -> list[list[Reading]]:
    """Each question's readings of its ``passages_to_read`` (in the passage's offsets),
    read in one call: batches across questions pad less."""
    read = [passages_to_read(hits, plan) for hits in all_hits]
    windows = [
        [reading_window(q, hit.chunk.text, plan.window_chars) for hit in hits]
        for q, hits in zip(questions, read, strict=True)
    ]
    pairs = [
        (q, hit.chunk.text[a:b])
        for q, hits, spans in zip(questions, read, windows, strict=True)
        for hit, (a, b) in zip(hits, spans, strict=True)
    ]
    flat = iter(reader.read(pairs))
    return [[_shifted(next(flat), a) for a, _ in spans] for spans in windows]


def _shifted(reading: Reading, offset: int) -> Reading:
    """A window's reading in the offsets of the whole passage."""
    if offset == 0:
        return reading
    spans = tuple(Span(s.start + offset, s.end + offset, s.score) for s in reading.spans)
    return replace(reading, start=reading.start + offset, end=reading.end + offset, spans=spans)


@dataclass(frozen=True)
class ReadPassages:
    """One question's passages as the reader read them: reranked, each with its reading.

    Use ``sentences_to_embed`` to learn which sentences to embed, then ``answer``.
    """

    question: str
    hits: list[Hit]
    """The passages read, best read first, then those not read in retrieval order."""
    readings: dict[tuple[str, int], Reading]
    """Each read passage's reading, by (path, char_start) of its chunk."""
    margin: float
    policy: AnswerPolicy

    def support(self, hit: Hit, start: int, end: int) -> float:
        """How sure the reader is that its answer is in ``start:end`` of the passage."""
        reading = self.readings.get((hit.chunk.path, hit.chunk.char_start))
        span = None if reading is None else reading.best_within(start, end)
        if reading is None or span is None:
            return 0.0
        return _sigmoid(span.score - reading.no_answer_score + self.margin)

    def confidence(self) -> float:
        """How sure the reader is that some passage answers: 0.5 exactly at its margin."""
        return max((confidence(r, self.margin) for r in self.readings.values()), default=0.0)

    def sentences_to_embed(self) -> list[str]:
        return sentences_to_embed(self.question, self.hits, self.policy, self.support)

    def answer(self, query_vector: np.ndarray, sentence_vectors: np.ndarray) -> Answer:
        """The scorer's answer with the reader's support; abstains where either is unsure."""
        scorer = replace(self.policy, abstain_below=self.policy.read_abstain_below)
        answer = compose_answer(
            self.question, query_vector, self.hits, sentence_vectors, scorer, self.support
        )
        read = self.confidence()
        if answer.abstained or read < 0.5:
            return Answer(self.question, "", True, confidence=min(answer.confidence, read))
        return replace(answer, confidence=min(answer.confidence, read), span=self._phrase(answer))

    def backing(self, citation: Citation) -> tuple[Hit, Reading] | None:
        """The read passage that holds the cited sentence, and its reading."""
        for hit in self.hits:
            chunk = hit.chunk
            if chunk.path == citation.path and chunk.char_start <= citation.char_start < (
                chunk.char_end
            ):
                reading = self.readings.get((chunk.path, chunk.char_start))
                if reading is not None:
                    return hit, reading
        return None

    def _phrase(self, answer: Answer) -> AnswerSpan | None:
        """The reader's best span inside the first citation, where it is sure of it."""
        first = answer.citations[0]
        backing = self.backing(first)
        if backing is None:
            return None
        chunk, reading = backing[0].chunk, backing[1]
        end = first.char_end - chunk.char_start
        span = reading.best_within(first.char_start - chunk.char_start, end)
        if span is None or span.score - reading.no_answer_score + self.margin < 0:
            return None
        low, high = _trimmed(chunk.text, span.start, min(span.end, end))
        if high <= low:
            return None
        offset = chunk.char_start
        return AnswerSpan(first.n, chunk.text[low:high], offset + low, offset + high)


def read_passages(
    question: str,
    hits: Sequence[Hit],
    readings: Sequence[Reading],
    margin: float,
    policy: AnswerPolicy | None = None,
    order: Sequence[int] | None = None,
    plan: ReadingPlan = ReadingPlan(),
) -> ReadPassages:
    """The passages reranked as the reader ranks them, with their readings.

    Args:
        readings: one per passage of ``passages_to_read(hits, plan)``, in that order.
        margin: the reader's ``no_answer_margin``.
        order: the passages' ranking (indices into ``readings``); default
            ``passage_order`` with the plan's weights.
    """
    read = passages_to_read(hits, plan)
    if len(readings) != len(read):
        raise ValueError("readings must match passages_to_read")
    if order is None:
        order = passage_order(readings, margin, plan.rank_weight, plan.rerank_above)
    reranked = [read[i] for i in order] + list(hits[len(read) :])
    by_chunk: dict[tuple[str, int], Reading] = {}
    for hit, reading in zip(read, readings, strict=True):
        by_chunk.setdefault((hit.chunk.path, hit.chunk.char_start), reading)
    return ReadPassages(question, reranked, by_chunk, margin, policy or AnswerPolicy())


def passage_order(
    readings: Sequence[Reading],
    margin: float = 0.0,
    rank_weight: float = ReadingPlan.rank_weight,
    rerank_above: float = ReadingPlan.rerank_above,
) -> list[int]:
    """Passage indices, best first. Passages the reader reads with confidence (its span
    beats "no answer" by ``rerank_above`` past ``margin``) come first, ordered by how far
    the span beats "no answer" less ``rank_weight`` times log2 of one plus the retrieval
    rank; the rest follow in retrieval order (``readings`` are in retrieval order)."""

    def gap(i: int) -> float:
        return readings[i].span_score - readings[i].no_answer_score

    sure = [
        i for i, r in enumerate(readings) if r.end > r.start and gap(i) + margin >= rerank_above
    ]
    ranked = sorted(sure, key=lambda i: gap(i) - rank_weight * math.log2(i + 2), reverse=True)
    return ranked + [i for i in range(len(readings)) if i not in sure]


def confidence(reading: Reading, margin: float) -> float:
    """How sure the reader is that the passage answers: 0.5 exactly at its margin."""
    if reading.end <= reading.start:
        return 0.0
    return _sigmoid(reading.span_score - reading.no_answer_score + margin)


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` without the white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
