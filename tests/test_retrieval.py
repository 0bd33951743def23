"""Dense, lexical and hybrid search, on a stub index whose search results are chosen.

With the real index a small corpus has fewer chunks than the candidate depth, so every
chunk comes back from both sides and the fusion of one-sided candidates never runs.
Here each side returns exactly the ids a test names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.embedding import Embedder, Encoders
from assistant.records import Chunk, Hit
from assistant.retrieval import DENSE_WEIGHT, Retriever
from assistant.store import StoredIndex
from tests.fakes import FakeEmbedder

QUERY = np.array([1.0, 0.0, 0.0], dtype=np.float32)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def with_cosine(cosine: float) -> np.ndarray:
    """A unit vector whose cosine with ``QUERY`` is ``cosine``."""
    return np.array([cosine, np.sqrt(1 - cosine**2), 0.0], dtype=np.float32)


class Queries:
    """Embeds every query as ``QUERY``, recording the queries."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.calls = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.queries.extend(texts)
        return np.tile(QUERY, (len(texts), 1))


class StubVectors:
    """Stored vectors; ``search`` returns the ids of ``dense`` (per query row) and their
    cosines, padded with FAISS's -1 ids up to the depth asked for."""

    def __init__(self, stored: Mapping[int, np.ndarray], dense: Sequence[Sequence[int]]) -> None:
        self.stored = dict(stored)
        self.dense = dense
        self.searched: list[int] = []  # the depth of each search
        self.reconstructed: list[list[int]] = []

    def __len__(self) -> int:
        return len(self.stored)

    def search(
        self, vectors: np.ndarray, k: int, allowed: object = None
    ) -> tuple[np.ndarray, np.ndarray]:
        self.searched.append(k)
        scores = np.full((len(vectors), k), -3.4e38, dtype=np.float32)
        ids = np.full((len(vectors), k), -1, dtype=np.int64)
        for row, vector in enumerate(vectors):
            chosen = list(self.dense[row])[:k]
            ids[row, : len(chosen)] = chosen
            scores[row, : len(chosen)] = [float(self.stored[c] @ vector) for c in chosen]
        return scores, ids

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        self.reconstructed.append(list(ids))
        return np.stack([self.stored[int(i)] for i in ids]).astype(np.float32)


class StubLexical:
    """BM25 results chosen per query: (chunk id, score) pairs, best first."""

    def __init__(self, results: Mapping[str, list[tuple[int, float]]]) -> None:
        self.results = results
        self.searched: list[int] = []

    def search(
        self, queries: Sequence[str], k: int, allowed: object = None
    ) -> list[list[tuple[int, float]]]:
        self.searched.append(k)
        return [self.results.get(q, [])[:k] for q in queries]


class StubTable:
    def __init__(self, ids: Iterable[int]) -> None:
        self.chunks = {i: Chunk(f"doc{i}.txt", f"chunk {i}", 0, 7, 1, 1) for i in ids}

    def get(self, ids: Iterable[int]) -> dict[int, Chunk]:
        return {i: self.chunks[i] for i in ids if i in self.chunks}


class StubIndex:
    def __init__(
        self,
        stored: Mapping[int, np.ndarray],
        dense: Sequence[Sequence[int]],
        lexical: Mapping[str, list[tuple[int, float]]],
    ) -> None:
        self.manifest: dict[str, Any] = {}
        self.vectors = StubVectors(stored, dense)
        self.lexical = StubLexical(lexical)
        self.table = StubTable(stored)


def retriever(index: StubIndex, embedder: Queries | None = None) -> Retriever:
    return Retriever(cast(StoredIndex, index), cast(Embedder, embedder or Queries()))


def ranked(hits: list[Hit]) -> list[int]:
    return [int(h.chunk.path.removeprefix("doc").removesuffix(".txt")) for h in hits]


@pytest.fixture
def one_sided() -> StubIndex:
    """Dense search finds 1 and 2 but misses 3, which BM25 ranks first."""
    stored = {1: with_cosine(0.9), 2: with_cosine(0.5), 3: with_cosine(0.8), 4: with_cosine(0.1)}
    return StubIndex(stored, dense=[[1, 2]], lexical={"q": [(3, 10.0), (2, 4.0)]})


def test_a_lexical_only_hit_gets_its_exact_cosine_and_can_rank_first(one_sided: StubIndex) -> None:
    hits = retriever(one_sided).search(["q"], k=3, mode="hybrid", vectors=QUERY[None, :])[0]
    assert ranked(hits) == [3, 1, 2]
    top = hits[0]
    assert top.dense_score == pytest.approx(0.8, abs=1e-6)  # reconstructed, not 0 or None
    assert top.lexical_score == 10.0
    # Only the candidate the dense side missed is reconstructed.
    assert one_sided.vectors.reconstructed == [[3]]


def test_hybrid_mixes_min_max_cosines_with_bm25_over_its_best(one_sided: StubIndex) -> None:
    hits = retriever(one_sided).search(["q"], k=3, mode="hybrid", vectors=QUERY[None, :])[0]
    # Cosines 0.9, 0.5, 0.8 span 0.5..0.9; BM25 scores are divided by the best, 10.
    w = DENSE_WEIGHT
    expected = {
        3: w * (0.8 - 0.5) / 0.4 + (1 - w) * 10 / 10,
        1: w * (0.9 - 0.5) / 0.4 + (1 - w) * 0,
        2: w * 0.0 + (1 - w) * 4 / 10,
    }
    scores = {c: h.score for c, h in zip(ranked(hits), hits, strict=True)}
    assert scores == pytest.approx(expected, abs=1e-5)
    assert hits[1].lexical_score == 0.0  # found by the dense side alone


def test_hybrid_with_equal_cosines_and_zero_bm25_divides_by_nothing() -> None:
    stored = {1: with_cosine(0.6), 2: with_cosine(0.6)}
    index = StubIndex(stored, dense=[[1, 2]], lexical={"q": [(1, 0.0)]})
    hits = retriever(index).search(["q"], k=2, mode="hybrid", vectors=QUERY[None, :])[0]
    assert [h.score for h in hits] == [0.0, 0.0]


def test_hybrid_embeds_the_queries_when_not_given(one_sided: StubIndex) -> None:
    embedder = Queries()
    one_sided.lexical.results = {"q": [(3, 1.0)]}
    retriever(one_sided, embedder).search(["q"], k=2, mode="hybrid")
    assert embedder.queries == ["q"]


def test_dense_mode_ranks_by_cosine_and_never_asks_bm25(one_sided: StubIndex) -> None:
    hits = retriever(one_sided).search(["q"], k=5, mode="dense", vectors=QUERY[None, :])[0]
    assert ranked(hits) == [1, 2]  # FAISS's -1 padding is dropped
    assert [h.score for h in hits] == pytest.approx([0.9, 0.5])
    assert all(h.dense_score == h.score and h.lexical_score is None for h in hits)
    assert one_sided.lexical.searched == []


def test_lexical_mode_ranks_by_bm25_and_never_searches_vectors(one_sided: StubIndex) -> None:
    embedder = Queries()
    hits = retriever(one_sided, embedder).search(["q"], k=5, mode="lexical")[0]
    assert ranked(hits) == [3, 2]
    assert [h.score for h in hits] == [10.0, 4.0]
    assert all(h.dense_score is None for h in hits)  # no query vector: no cosine
    assert embedder.calls == 0 and one_sided.vectors.searched == []


def test_lexical_mode_with_query_vectors_reports_their_cosines(one_sided: StubIndex) -> None:
    hits = retriever(one_sided).search(["q"], k=5, mode="lexical", vectors=QUERY[None, :])[0]
    assert [h.dense_score for h in hits] == pytest.approx([0.8, 0.5])
    assert one_sided.vectors.searched == []


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_k_is_respected_and_enough_candidates_are_fetched(mode: str) -> None:
    stored = {i: with_cosine(i / 100) for i in range(1, 81)}
    dense = [sorted(stored, reverse=True)]
    lexical = {"q": [(i, float(i)) for i in sorted(stored, reverse=True)]}
    index = StubIndex(stored, dense=dense, lexical=lexical)
    search = retriever(index).search
    assert len(search(["q"], k=3, mode=mode, vectors=QUERY[None, :])[0]) == 3
    hits = search(["q"], k=20, mode=mode, vectors=QUERY[None, :])[0]
    assert ranked(hits) == list(range(80, 60, -1))
    # Each side is asked for several times k candidates, so fusion has some to choose from.
    asked = index.vectors.searched[-1:] + index.lexical.searched[-1:]
    assert asked and all(depth >= 4 * 20 for depth in asked)


def test_each_query_gets_its_own_results() -> None:
    stored = {1: unit(1, 0, 0), 2: unit(0, 1, 0)}
    index = StubIndex(stored, dense=[[1], [2]], lexical={"a": [(1, 2.0)], "b": [(2, 3.0)]})
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0)])
    results = retriever(index).search(["a", "b"], k=1, mode="hybrid", vectors=vectors)
    assert [ranked(hits) for hits in results] == [[1], [2]]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_an_empty_index_finds_nothing(mode: str) -> None:
    index = StubIndex({}, dense=[[]], lexical={})
    assert retriever(index).search(["q"], k=5, mode=mode) == [[]]
    assert index.vectors.searched == []  # FAISS is not asked to search nothing


def test_no_queries_no_results(one_sided: StubIndex) -> None:
    embedder = Queries()
    assert retriever(one_sided, embedder).search([], k=5, mode="hybrid") == []
    assert embedder.calls == 0 and one_sided.lexical.searched == []


def test_a_chunk_missing_from_the_table_is_dropped(one_sided: StubIndex) -> None:
    del one_sided.table.chunks[3]
    hits = retriever(one_sided).search(["q"], k=3, mode="hybrid", vectors=QUERY[None, :])[0]
    assert ranked(hits) == [1, 2]


# --- on a real index of the fixture corpus --------------------------------------------


@pytest.fixture
def built(settings: Settings, embedder: FakeEmbedder) -> Assistant:
    assistant = Assistant(settings, encoders=Encoders.single(embedder))
    assistant.update_index()
    return assistant


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_ranks_the_matching_file_first(built: Assistant, mode: str) -> None:
    result = built.search("sourdough starter flour water", k=3, mode=mode)
    assert result.hits[0].chunk.path == "recipes.txt"
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_scores_carry_both_sides(built: Assistant) -> None:
    top = built.search("tomatoes planted in May", k=3, mode="hybrid").hits[0]
    assert top.chunk.path == "notes/garden.md"
    assert top.dense_score is not None and top.lexical_score is not None
    assert top.lexical_score > 0
