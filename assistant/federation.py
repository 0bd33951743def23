"""Several named collections answered as one: ``Federation([("work", a), ("home", b)])``.

Each collection keeps its own ``Assistant`` (its corpus and index); the model is loaded
once and shared where they use the same one. Searches are merged by reciprocal rank
fusion across the indexes; answers keep every collection's answer that didn't abstain,
the most confident first, with their citations numbered on. Citations and hits name the
collection they came from. Must not import textual, click or torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from .config import Settings
from .core import Answering, Assistant
from .records import Answer, Citation, Hit, SearchResult

RRF_K = 60
"""The constant of reciprocal rank fusion: a hit at rank r scores 1 / (RRF_K + r)."""

_MARKER = re.compile(r"\[(\d+)\]")


class Federation(Answering):
    """Question answering over several named collections at once.

    Args:
        members: each collection's name (``None`` for the unnamed corpus of a run
            without collections) and its assistant.
    """

    def __init__(self, members: Sequence[tuple[str | None, Assistant]]) -> None:
        if not members:
            raise ValueError("a federation needs at least one collection")
        self.members = list(members)

    @property
    def settings(self) -> Settings:
        """The first collection's settings; its ``k`` is how many fused hits a search keeps."""
        return self.members[0][1].settings

    def warm_up(self) -> None:
        """Load the model(s) now rather than on the first question."""
        for _, assistant in self.members:
            assistant.warm_up()

    def search_many(
        self, queries: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[SearchResult]:
        each = [
            (name, assistant.search_many(queries, k=k, mode=mode))
            for name, assistant in self.members
        ]
        wanted = k or self.settings.k
        return [
            SearchResult(
                query,
                fuse([(name, results[i].hits) for name, results in each], wanted),
                any(results[i].query_truncated for _, results in each),
            )
            for i, query in enumerate(queries)
        ]

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        each = [
            (name, assistant.ask_many(questions, k=k, mode=mode))
            for name, assistant in self.members
        ]
        return [
            merge_answers([(name, answers[i]) for name, answers in each])
            for i in range(len(questions))
        ]


def fuse(rankings: Sequence[tuple[str | None, Sequence[Hit]]], k: int) -> tuple[Hit, ...]:
    """The best ``k`` hits of several rankings by reciprocal rank fusion, each hit
    naming its collection; ties go to the higher score."""
    scored: list[tuple[float, float, int, Hit]] = []
    for order, (name, hits) in enumerate(rankings):
        for rank, hit in enumerate(hits, 1):
            fused = 1.0 / (RRF_K + rank)
            scored.append((fused, hit.score, -order, replace(hit, collection=name)))
    scored.sort(key=lambda item: item[:3], reverse=True)
    return tuple(hit for *_, hit in scored[:k])


def merge_answers(answers: Sequence[tuple[str | None, Answer]]) -> Answer:
    """One answer from each collection's: those that found something, most confident
    first, their citations numbered on and naming their collection. When every
    collection abstains, so does the merged answer."""
    elapsed = sum(answer.elapsed_ms for _, answer in answers)
    found = sorted(
        ((name, a) for name, a in answers if not a.abstained),
        key=lambda pair: pair[1].confidence,
        reverse=True,
    )
    truncated = any(answer.question_truncated for _, answer in answers)
    if not found:
        first = answers[0][1]
        return replace(first, elapsed_ms=elapsed, question_truncated=truncated)
    texts: list[str] = []
    citations: list[Citation] = []
    span = None
    for name, answer in found:
        offset = len(citations)
        numbers = {c.n: c.n + offset for c in answer.citations}
        citations.extend(replace(c, n=numbers[c.n], collection=name) for c in answer.citations)
        texts.append(_MARKER.sub(partial(_renumber, numbers=numbers), answer.text))
        if span is None and answer.span is not None:
            span = replace(answer.span, n=numbers.get(answer.span.n, answer.span.n))
    best = found[0][1]
    return replace(
        best,
        text=" ".join(texts),
        citations=tuple(citations),
        span=span,
        elapsed_ms=elapsed,
        question_truncated=truncated,
    )


def _renumber(match: re.Match[str], numbers: dict[int, int]) -> str:
    n = int(match.group(1))
    return f"[{numbers.get(n, n)}]"
