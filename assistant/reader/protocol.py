"""What answering needs from a reader model: the Reader protocol and what it returns.

A reader reads a question with one passage and marks where in the passage the answer
is, with two scores: the span's and the "no answer" one. Must not import textual, click
or torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Span:
    """A span the reader marked in a passage: character offsets and its score."""

    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Reading:
    """What a reader found in one passage.

    ``start`` / ``end`` are character offsets of the best span inside the passage (equal
    when the passage holds no span at all). The reader says "no answer" for the passage
    when ``no_answer_score - span_score`` is above its ``no_answer_margin``. ``spans``
    are the passage's best spans that do not overlap, best first (the best is
    ``start:end``), so that each sentence of the passage can be weighed by how well the
    reader reads it; a reader may give none beyond the best.
    """

    start: int
    end: int
    span_score: float
    no_answer_score: float
    spans: tuple[Span, ...] = ()

    def best_within(self, start: int, end: int) -> Span | None:
        """The best span that starts inside ``start:end``, if any."""
        spans = self.spans or (Span(self.start, self.end, self.span_score),)
        inside = [s for s in spans if start <= s.start < end and s.end > s.start]
        return max(inside, key=lambda s: s.score, default=None)

    def answers(self, margin: float) -> bool:
        """Whether the span beats "no answer" by the reader's calibrated margin."""
        return self.end > self.start and self.no_answer_score - self.span_score <= margin


class Reader(Protocol):
    """Reads (question, passage) pairs; the answering layer decides what to do with them."""

    @property
    def no_answer_margin(self) -> float:
        """How far the no-answer score may exceed the span score before it wins."""
        ...

    def fit_question(self, question: str) -> str:
        """The question as it is read: cut to the reader's limit, so that a passage keeps
        room beside it (``read`` cuts every question so)."""
        ...

    def read(self, pairs: Sequence[tuple[str, str]]) -> list[Reading]:
        """One ``Reading`` per (question, passage) pair, in order."""
        ...
