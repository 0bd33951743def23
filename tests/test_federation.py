"""Federation: reciprocal rank fusion of hits, and answers merged across collections."""

from __future__ import annotations

from assistant.federation import fuse, merge_answers
from assistant.records import Answer, AnswerSpan, Chunk, Citation, Hit


def _hit(path: str, score: float) -> Hit:
    return Hit(Chunk(path, "text", 0, 4, 1, 1), score)


def _citation(n: int, path: str, score: float) -> Citation:
    return Citation(n, path, 1, 1, None, 0, 9, score, "excerpt", "sentence")


def test_fuse_interleaves_by_rank_and_names_the_collection() -> None:
    fused = fuse(
        [("a", [_hit("a1", 0.2), _hit("a2", 0.1)]), ("b", [_hit("b1", 0.9), _hit("b2", 0.8)])],
        3,
    )
    assert [(h.chunk.path, h.collection) for h in fused] == [
        ("b1", "b"),  # both rank 1: the higher score first
        ("a1", "a"),
        ("b2", "b"),
    ]


def test_merge_keeps_each_answer_most_confident_first_and_renumbers() -> None:
    a = Answer("q", "A says so. [1]", False, (_citation(1, "a.txt", 0.5),), 10.0, confidence=0.4)
    b = Answer(
        "q",
        "B says so. [1]",
        False,
        (_citation(1, "b.txt", 0.9), _citation(2, "b2.txt", 0.8)),
        5.0,
        confidence=0.9,
        span=AnswerSpan(1, "so", 7, 9),
    )
    merged = merge_answers([("a", a), ("b", b)])
    assert merged.text == "B says so. [1] A says so. [3]"
    assert [(c.n, c.path, c.collection) for c in merged.citations] == [
        (1, "b.txt", "b"),
        (2, "b2.txt", "b"),
        (3, "a.txt", "a"),
    ]
    assert merged.span is not None and merged.span.n == 1
    assert merged.elapsed_ms == 15.0


def test_merge_abstains_only_when_every_collection_does() -> None:
    none = Answer("q", "", True, elapsed_ms=1.0)
    a = Answer("q", "A. [1]", False, (_citation(1, "a.txt", 0.5),), 2.0, confidence=0.3)
    assert merge_answers([("x", none), ("y", none)]).abstained
    merged = merge_answers([("x", none), ("a", a)])
    assert not merged.abstained and merged.citations[0].collection == "a"
