"""BM25 over the chunk texts, with bm25s (MIT) and a Snowball stemmer.

``LexicalIndex.save`` writes exactly the files ``bm25s.BM25.save`` would (the CSC score
matrix as .npy, loaded without pickle; the vocabulary and parameters as JSON), plus a side
array mapping BM25 row numbers to chunk ids, in bounded memory (see bm25_build.py).
``LexicalIndex.load`` is bm25s's own loader.
Must not import textual or torch; bm25s is imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError

IDS_FILE = "chunk_ids.npy"  # BM25 row number -> chunk id
# NLTK's English stopword list (bm25s's own list misses words such as "from" and "been").
STOPWORDS = tuple(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma
    mightn mustn needn shan shouldn wasn weren won wouldn""".split()
)
K1 = 0.9
B = 0.4


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: fast Snowball stemming

    return Stemmer.Stemmer("english")


def bm25s_tokenize(texts: Sequence[str], return_ids: bool) -> Any:
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords=list(STOPWORDS),
        stemmer=_stemmer(),
        return_ids=return_ids,
        show_progress=False,
    )


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed words without English stopwords."""
    return [list(t) for t in bm25s_tokenize(texts, return_ids=False)]


class LexicalIndex:
    """A BM25 index whose hits are chunk ids."""

    def __init__(self, retriever: Any, ids: np.ndarray) -> None:
        self._retriever = retriever
        self._ids = ids

    @staticmethod
    def save(folder: Path, rows: Iterable[tuple[int, str]], **sizes: int) -> None:
        """Build the BM25 index of ``rows`` (chunk id, text) into ``folder``, in bounded
        memory: the same files and scores as bm25s's own build. ``sizes``: write_bm25's
        batch_size and bucket_entries (see bm25_build.py)."""
        from .bm25_build import write_bm25

        write_bm25(folder, rows, **sizes)

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
            raise IndexCorruptError(
                f"BM25 index in {folder} unreadable", "rebuild it: excerpta index --full"
            ) from exc

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score."""
        if len(self._ids) == 0:
            return [[] for _ in queries]
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
            if len(rows) > k:
                rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
            rows = rows[np.argsort(-scores[rows], kind="stable")]
            results.append([(int(self._ids[r]), float(scores[r])) for r in rows])
        return results
