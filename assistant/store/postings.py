"""BM25 over segments, scored as one index: statistics summed at query time.

Each segment stores term frequencies rather than scores (``write_bm25(...,
term_frequencies=True)``): the CSC columns bm25s's files use, plus each chunk's length.
A query sums the number of chunks, their total length and each term's document
frequency over all segments, then each segment scores its postings with those global
values (tantivy's rule), in bm25s's Lucene formulas and dtypes, with bm25s's tokenizer
and k1/b. So with no deleted chunks the scores equal those of one index holding every
segment's chunks. Deleted chunks (tombstones) still count in the statistics until a
merge drops them, as in Lucene; they are never returned. Must not import textual or
torch.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError
from ..text.language import question_language
from ..text.terms import tokenize
from .bm25 import IDS_FILE, K1, LENGTHS_FILE, B
from .scope import Selection

_DATA, _INDICES, _INDPTR, _VOCAB = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
)


class Postings:
    """One segment's BM25 postings: term frequencies by term, chunk lengths and ids."""

    def __init__(
        self,
        vocab: dict[str, int],
        tf: np.ndarray,
        docs: np.ndarray,
        indptr: np.ndarray,
        lengths: np.ndarray,
        ids: np.ndarray,
    ) -> None:
        self.vocab, self.tf, self.docs, self.indptr = vocab, tf, docs, indptr
        self.lengths, self.ids = lengths, ids
        self.total_length = int(lengths.sum(dtype=np.int64))

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """Read a segment's ``bm25/`` folder (no pickle: .npy arrays and JSON)."""
        try:
            ids = np.load(folder / IDS_FILE, allow_pickle=False)
            if len(ids) == 0:
                empty = np.zeros(0, dtype=np.int64)
                return cls({}, empty.astype(np.float32), empty, np.zeros(1, np.int64), empty, ids)
            vocab = json.loads((folder / _VOCAB).read_text(encoding="utf-8"))
            postings = cls(
                vocab,
                np.load(folder / _DATA, allow_pickle=False),
                np.load(folder / _INDICES, allow_pickle=False),
                np.load(folder / _INDPTR, allow_pickle=False),
                np.load(folder / LENGTHS_FILE, allow_pickle=False),
                ids,
            )
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"BM25 postings in {folder} unreadable", REBUILD_HINT) from exc
        if not isinstance(vocab, dict) or len(postings.lengths) != len(ids):
            raise IndexCorruptError(f"BM25 postings in {folder} are damaged", REBUILD_HINT)
        return postings

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of the chunks holding ``stem``; empty when none do."""
        term = self.vocab.get(stem)
        if term is None or term + 1 >= len(self.indptr):
            return self.docs[:0], self.tf[:0]
        start, end = int(self.indptr[term]), int(self.indptr[term + 1])
        return self.docs[start:end], self.tf[start:end]


class SegmentedLexical:
    """BM25 search over several segments' postings, scored as one index.

    Args:
        segments: each segment's postings.
        dead: for each segment, a boolean mask of its rows that are deleted (or None).
        languages: the languages of the indexed documents: a query is tokenized in the
            one it is written in (text/language.py), as its documents were.
    """

    def __init__(
        self,
        segments: Sequence[Postings],
        dead: Sequence[np.ndarray | None],
        languages: Collection[str] = (),
    ) -> None:
        self._languages = frozenset(languages)
        self._scratches = threading.local()
        self._segments = list(segments)
        self._dead = list(dead)
        self._docs = sum(len(p) for p in self._segments)
        self._avg_length = (
            np.float64(sum(p.total_length for p in self._segments)) / self._docs
            if self._docs
            else np.float64(1.0)
        )
        # Each chunk's length normalization with the global average, once per opening.
        self._norms = [
            K1 * ((1 - B) + B * p.lengths.astype(np.int64) / self._avg_length)
            for p in self._segments
        ]

    def search(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | Selection | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score.

        ``allowed``: sorted chunk ids to restrict the search to (None: every chunk), or a
        scope's ``Selection``, which keeps the row masks made from it for later searches.
        """
        if self._docs == 0:
            return [[] for _ in queries]
        masks = self._masks(allowed)
        languages = [question_language(query, self._languages) for query in queries]
        return [self._one(tokens, k, masks) for tokens in tokenize(queries, languages)]

    def _masks(self, allowed: np.ndarray | Selection | None) -> list[np.ndarray] | None:
        """For each segment, which of its rows are allowed; None: all."""
        if allowed is None:
            return None
        if isinstance(allowed, Selection):
            chosen = allowed
            return chosen.derived(
                f"bm25-masks-{id(self)}", lambda: self._masks(chosen.chunk_ids) or []
            )
        return [_member(p.ids, allowed) for p in self._segments]

    def _one(
        self, tokens: list[str], k: int, masks: list[np.ndarray] | None
    ) -> list[tuple[int, float]]:
        # bm25s keeps the query's terms found in its vocabulary, repeats included.
        stems = [t for t in tokens if any(t in p.vocab for p in self._segments)]
        if not stems:
            return []
        columns = [[p.column(stem) for stem in stems] for p in self._segments]
        df = dict.fromkeys(stems, 0)
        for postings in self._segments:
            for stem in df:  # each distinct term once, however often the query repeats it
                df[stem] += len(postings.column(stem)[0])
        idf = {stem: np.float32(self._idf(count)) for stem, count in df.items()}
        found_ids: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        for i, (postings, norms, dead, segment) in enumerate(
            zip(self._segments, self._norms, self._dead, columns, strict=True)
        ):
            rows, scores = _score_postings(stems, segment, norms, idf, self._scratch(i))
            keep = scores > 0
            if dead is not None:
                keep &= ~dead[rows]
            if masks is not None:
                keep &= masks[i][rows]
            rows, scores = _best(rows[keep], scores[keep], k, len(stems))
            found_ids.append(postings.ids[rows])
            found_scores.append(scores)
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        # Equal scores keep chunk-id order, as one index's row order would.
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def _scratch(self, segment: int) -> np.ndarray:
        """This thread's zeroed score array for a segment (questions may be searched
        from several threads at once)."""
        arrays: dict[int, np.ndarray] = self._scratches.__dict__.setdefault("arrays", {})
        if segment not in arrays:
            arrays[segment] = np.zeros(len(self._segments[segment]), dtype=np.float32)
        return arrays[segment]

    def _idf(self, df: int) -> float:
        """Lucene's idf as bm25s computes it (math.log on Python floats)."""
        return math.log(1 + (self._docs - df + 0.5) / (df + 0.5))


def _score_postings(
    stems: list[str],
    columns: list[tuple[np.ndarray, np.ndarray]],
    norms: np.ndarray,
    idf: dict[str, np.float32],
    scratch: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows holding the query's terms (a row once per term it holds) and each one's
    summed BM25 score.

    Work follows the terms' postings, not the segment's size: scores accumulate in
    ``scratch`` (one zeroed float32 per row, kept from query to query), in the query's
    term order as a full score array would sum them, and only the rows touched are read
    and zeroed again.
    """
    present = [
        (stem, rows, tf) for stem, (rows, tf) in zip(stems, columns, strict=True) if len(rows)
    ]
    if not present:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    for stem, rows, tf in present:
        # A term's rows are distinct (one CSC column), so += touches each at most once.
        scratch[rows] += _scores(tf, norms[rows], idf[stem])
    touched = np.concatenate([rows for _, rows, _ in present])
    scores = scratch[touched]
    scratch[touched] = 0
    return touched, scores


def _best(
    rows: np.ndarray, scores: np.ndarray, k: int, repeats: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best distinct rows of ``rows`` (each listed at most ``repeats`` times,
    always with the same score): the best ``k * repeats`` entries hold them."""
    if len(rows) > k * repeats:
        chosen = np.argpartition(-scores, k * repeats - 1)[: k * repeats]
        rows, scores = rows[chosen], scores[chosen]
    rows, first = np.unique(rows, return_index=True)
    scores = scores[first]
    if len(rows) > k:
        top = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[top], scores[top]
    return rows, scores


def _scores(tf: np.ndarray, norms: np.ndarray, idf: np.float32) -> np.ndarray:
    """bm25s's Lucene term score in its dtypes (see bm25_write._scores): float32 tf,
    float64 length normalization k1 (1 - b + b l / l_avg), float32 idf."""
    tfc = tf / (norms + tf)
    scores: np.ndarray = (idf * tfc).astype(np.float32)
    return scores


def _member(ids: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Which of ``ids`` are in the sorted array ``allowed``."""
    if len(allowed) == 0:
        return np.zeros(len(ids), dtype=bool)
    at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
    return np.asarray(allowed[at] == ids)
