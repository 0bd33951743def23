"""BM25 over the chunk texts, with bm25s (MIT) and a Snowball stemmer.

bm25s stores its sparse matrices as .npy files (loaded without pickle) and its
vocabulary as JSON; a side array maps BM25 row numbers to chunk ids.
Must not import textual or torch; bm25s is imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError

_IDS_FILE = "chunk_ids.npy"
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


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed words without English stopwords."""
    import bm25s

    tokens = bm25s.tokenize(
        list(texts),
        stopwords=list(STOPWORDS),
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return [list(t) for t in tokens]


class LexicalIndex:
    """A BM25 index whose hits are chunk ids."""

    def __init__(self, retriever: Any, ids: np.ndarray) -> None:
        self._retriever = retriever
        self._ids = ids

    @classmethod
    def build(cls, rows: Iterable[tuple[int, str]]) -> LexicalIndex:
        import bm25s

        ids: list[int] = []
        texts: list[str] = []
        for chunk_id, text in rows:
            ids.append(chunk_id)
            texts.append(text)
        retriever = bm25s.BM25(k1=K1, b=B)
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        try:
            ids = np.load(folder / _IDS_FILE, allow_pickle=False)
            if len(ids) == 0:
                return cls(bm25s.BM25(k1=K1, b=B), ids)
            return cls(bm25s.BM25.load(str(folder), mmap=False), ids)
        # bm25s reports a damaged file as whatever its parsing trips on.
        except (OSError, ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
            raise IndexCorruptError(
                f"BM25 index in {folder} unreadable", "rebuild it: excerpta index --full"
            ) from exc

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _IDS_FILE, self._ids, allow_pickle=False)
        if len(self._ids):
            self._retriever.save(str(folder))

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score."""
        if len(self._ids) == 0:
            return [[] for _ in queries]
        results: list[list[tuple[int, float]]] = []
        for tokens in tokenize(queries):
            # bm25s.retrieve's top-k is np.argpartition over every document; with most
            # scores 0 that takes ~45 ms at a million chunks. Only matching rows can rank.
            if not tokens:  # only stopwords
                results.append([])
                continue
            scores = self._retriever.get_scores(tokens)
            rows = np.flatnonzero(scores > 0)
            if len(rows) > k:
                rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
            rows = rows[np.argsort(-scores[rows], kind="stable")]
            results.append([(int(self._ids[r]), float(scores[r])) for r in rows])
        return results
