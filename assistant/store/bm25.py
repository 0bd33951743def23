"""BM25 search over the chunk texts, with bm25s (MIT) and a Snowball stemmer.

An index folder holds the files ``bm25s.BM25.save`` writes (the CSC score matrix as .npy,
loaded without pickle; the vocabulary and parameters as JSON) plus a side array mapping
BM25 row numbers to chunk ids; ``bm25_write.py`` builds it in bounded memory and
``LexicalIndex.load`` is bm25s's own loader. Must not import textual or torch; bm25s is
imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError
from ..text.terms import tokenize
from .scope import Selection

IDS_FILE = "chunk_ids.npy"  # BM25 row number -> chunk id
LENGTHS_FILE = "lengths.npy"  # BM25 row number -> tokens (segments: postings.py)
K1 = 0.9
B = 0.4


class LexicalIndex:
    """A BM25 index whose hits are chunk ids."""

    def __init__(self, retriever: Any, ids: np.ndarray) -> None:
        self._retriever = retriever
        self._ids = ids

    @staticmethod
    def load_library() -> None:
        """Import bm25s now (~0.15 s, mostly scipy) rather than on first use."""
        import bm25s  # noqa: F401

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        try:
            ids = np.load(folder / IDS_FILE, allow_pickle=False)
            if len(ids) == 0:
                return cls(bm25s.BM25(k1=K1, b=B), ids)
            return cls(bm25s.BM25.load(str(folder), mmap=False), ids)
        # bm25s reports a damaged file as whatever its parsing trips on.
        except (OSError, ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
            raise IndexCorruptError(f"BM25 index in {folder} unreadable", REBUILD_HINT) from exc

    def search(
        self, queries: Sequence[str], k: int, allowed: Selection | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score,
        among the ``allowed`` chunks only when a selection is given."""
        if len(self._ids) == 0 or (allowed is not None and len(allowed) == 0):
            return [[] for _ in queries]
        mask = None
        if allowed is not None:
            # Per BM25 row: is its chunk in scope? Made once per selection and index.
            mask = allowed.derived(f"bm25-rows-{id(self)}", lambda: self._rows_of(allowed))
        results: list[list[tuple[int, float]]] = []
        for tokens in tokenize(queries):
            # bm25s.retrieve's top-k is np.argpartition over every document; with most
            # scores 0 that takes ~45 ms at a million chunks. Only matching rows can rank.
            term_ids = self._retriever.get_tokens_ids(tokens)
            if not term_ids:  # only stopwords, or words no chunk contains
                results.append([])
                continue
            scores = self._retriever.get_scores_from_ids(term_ids)
            rows = np.flatnonzero(scores > 0)
            if mask is not None:
                rows = rows[mask[rows]]
            if len(rows) > k:
                rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
            rows = rows[np.argsort(-scores[rows], kind="stable")]
            results.append([(int(self._ids[r]), float(scores[r])) for r in rows])
        return results

    def _rows_of(self, allowed: Selection) -> np.ndarray:
        at = np.searchsorted(allowed.chunk_ids, self._ids)
        at = np.minimum(at, len(allowed.chunk_ids) - 1)
        mask: np.ndarray = allowed.chunk_ids[at] == self._ids
        return mask
