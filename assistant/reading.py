"""Answers with a reader model: it reranks the passages, backs sentences, marks the phrase.

The reader reads the best retrieved passages with the question and marks spans in each,
with span scores and a "no answer" score. The passages are reranked by how well the
reader reads them, retrieval's order weighed in (``passage_order``). Then the sentence
scorer of ``answer.py`` picks the answer sentence among the reranked passages, each
sentence's score raised by how sure the reader is that the answer phrase is in it: the
reader is a strong signal but a weak model, and the two err on different questions. The
answer abstains when either is unsure: the scorer's confidence (a match at all) or the
reader's "no answer" winning in every passage (a near miss: the right passage, but it
does not say what was asked). The reader's best span in the answer sentence is marked as
the answer phrase. Must not import textual, click or torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .answer import AnswerPolicy, compose_answer, sentences_to_embed
from .reader import Reader, Reading
from .records import Answer, AnswerSpan, Citation, Hit

READ_PASSAGES = 10
"""The most passages of a question the reader reads (all retrieved, up to this)."""
RANK_WEIGHT = 2.0
"""How much retrieval's order counts beside the reader when ranking passages: the
reader's span score less its no-answer score, less ``RANK_WEIGHT * log2(rank + 1)``.
Tuned on the held-out tuning articles (training/tune_reading.py): the span score alone
ranks passages worse than retrieval did (R@1 0.69 against 0.81); blended, 0.84."""


def passages_to_read(hits: Sequence[Hit]) -> list[Hit]:
    """The passages the reader reads for one question: the best ``READ_PASSAGES``."""
    return list(hits[:READ_PASSAGES])


def read_questions(
    reader: Reader, questions: Sequence[str], all_hits: Sequence[Sequence[Hit]]
) -> list[list[Reading]]:
    """Each question's readings of its ``passages_to_read``, read in one call: batches
    across questions pad less."""
    read = [passages_to_read(hits) for hits in all_hits]
    pairs = [(q, hit.chunk.text) for q, hits in zip(questions, read, strict=True) for hit in hits]
    flat = reader.read(pairs)
    readings, offset = [], 0
    for hits in read:
        readings.append(flat[offset : offset + len(hits)])
        offset += len(hits)
    return readings


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
) -> ReadPassages:
    """The passages reranked as the reader ranks them, with their readings.

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
    by_chunk: dict[tuple[str, int], Reading] = {}
    for hit, reading in zip(read, readings, strict=True):
        by_chunk.setdefault((hit.chunk.path, hit.chunk.char_start), reading)
    return ReadPassages(question, reranked, by_chunk, margin, policy or AnswerPolicy())


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
