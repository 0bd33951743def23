"""Dense (FAISS), lexical (BM25) and hybrid search over the stored chunks.

Hybrid fuses scores, not only ranks: each list is normalized (cosine min-max over the
candidates, BM25 by its best score) and mixed by a weight. Candidates found by only one
side get their exact cosine from the stored vector, so nothing is scored as zero just
for being missed. Must not import textual or torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .embedding import Embedder, Vectors
from .records import Hit
from .store import StoredIndex
from .store.scope import Selection

DENSE_WEIGHT = 0.5
_CANDIDATES = 50


@dataclass(frozen=True)
class _Scored:
    chunk_id: int
    score: float
    dense: float | None
    lexical: float | None


class Retriever:
    """Searches one opened index with one embedder."""

    def __init__(
        self, index: StoredIndex, embedder: Embedder, allowed: Selection | None = None
    ) -> None:
        self._index = index
        self._embedder = embedder
        # A scope: only these chunks are searched, before the top k is taken.
        self._allowed = allowed

    def embed(self, queries: Sequence[str]) -> Vectors:
        return self._embedder.embed_queries(queries)

    def search(
        self,
        queries: Sequence[str],
        k: int,
        mode: str,
        vectors: Vectors | None = None,
        allowed: np.ndarray | Selection | None = None,
    ) -> list[list[Hit]]:
        """Top ``k`` hits for each query. ``vectors`` are the query embeddings, if known;
        ``allowed``: sorted chunk ids (or a ``Selection``) to restrict the search to
        (None: the retriever's scope, if it has one, else all chunks)."""
        if not queries:
            return []
        depth = max(_CANDIDATES, 4 * k)
        if mode != "lexical" and vectors is None:
            vectors = self.embed(queries)
        if allowed is None:
            allowed = self._allowed  # the searches keep what they derive from it
        dense = (
            self._dense(vectors, depth, allowed)
            if vectors is not None and mode != "lexical"
            else None
        )
        lexical = self._index.lexical.search(queries, depth, allowed) if mode != "dense" else None
        results: list[list[Hit]] = []
        for i in range(len(queries)):
            if mode == "dense":
                assert dense is not None
                scored = [_Scored(c, s, s, None) for c, s in dense[i]]
            elif mode == "lexical":
                assert lexical is not None
                cosines = self._cosines([c for c, _ in lexical[i]], vectors, i)
                scored = [_Scored(c, s, cosines.get(c), s) for c, s in lexical[i]]
            else:
                assert dense is not None and lexical is not None and vectors is not None
                scored = self._fuse(dense[i], lexical[i], vectors[i])
            scored.sort(key=lambda s: s.score, reverse=True)
            results.append(self._hits(scored[:k]))
        return results

    def _cosines(self, chunk_ids: list[int], vectors: Vectors | None, row: int) -> dict[int, float]:
        """Exact cosines of stored chunks with a query, when its vector is known."""
        if vectors is None or not chunk_ids:
            return {}
        stored = self._index.vectors.reconstruct(chunk_ids)
        return dict(zip(chunk_ids, (stored @ vectors[row]).tolist(), strict=True))

    def _dense(
        self, vectors: Vectors, depth: int, allowed: np.ndarray | Selection | None
    ) -> list[list[tuple[int, float]]]:
        if len(self._index.vectors) == 0:
            return [[] for _ in range(len(vectors))]
        scores, ids = self._index.vectors.search(vectors, depth, allowed)
        return [
            [(int(c), float(s)) for c, s in zip(row_ids, row_scores, strict=True) if c >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def _fuse(
        self,
        dense: list[tuple[int, float]],
        lexical: list[tuple[int, float]],
        query_vector: np.ndarray,
    ) -> list[_Scored]:
        cosine = dict(dense)
        missing = [c for c, _ in lexical if c not in cosine]
        if missing:
            stored = self._index.vectors.reconstruct(missing)
            cosine.update(zip(missing, (stored @ query_vector).tolist(), strict=True))
        bm25 = dict(lexical)
        low = min(cosine.values(), default=0.0)
        high = max(cosine.values(), default=1.0)
        spread = (high - low) or 1.0
        best_bm25 = max(bm25.values(), default=1.0) or 1.0
        fused: list[_Scored] = []
        for chunk_id, cos in cosine.items():
            lex = bm25.get(chunk_id, 0.0)
            score = DENSE_WEIGHT * (cos - low) / spread + (1 - DENSE_WEIGHT) * lex / best_bm25
            fused.append(_Scored(chunk_id, score, cos, lex))
        return fused

    def _hits(self, scored: list[_Scored]) -> list[Hit]:
        chunks = self._index.table.get(s.chunk_id for s in scored)
        return [
            Hit(chunks[s.chunk_id], s.score, s.dense, s.lexical)
            for s in scored
            if s.chunk_id in chunks
        ]
