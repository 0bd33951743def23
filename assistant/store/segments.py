"""Segments: immutable pieces of the index, searched together as one.

A segment folder holds the vectors (``vectors.faiss``, see vectors.py) and BM25 postings
(``bm25/``, see postings.py) of the chunks one update or merge wrote, keyed by global
chunk ids that never change or get reused. ``SegmentedVectors`` searches every segment
for its top k and merges the lists (inner products of normalized vectors compare
across segments), leaving out deleted chunks, and optionally all but an allowed set of
chunk ids, with a FAISS ID selector inside the search. Must not import textual or
torch; faiss is imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError
from .bm25_write import write_bm25
from .commits import BM25_DIR, VECTORS
from .postings import Postings
from .scope import Selection
from .vectors import VectorIndex


@dataclass
class Segment:
    """One segment opened for reading: its vectors, postings and sorted chunk ids."""

    name: str
    vectors: VectorIndex
    postings: Postings
    ids: np.ndarray  # sorted

    @classmethod
    def load(cls, folder: Path) -> Segment:
        vectors = VectorIndex.load(folder / VECTORS)
        postings = Postings.load(folder / BM25_DIR)
        ids = np.sort(postings.ids)
        if len(vectors) != len(ids):
            raise IndexCorruptError(f"segment {folder.name}'s files disagree", REBUILD_HINT)
        return cls(folder.name, vectors, postings, ids)


def write_segment(folder: Path, vectors: VectorIndex, rows: Iterable[tuple[int, str]]) -> None:
    """Write a segment's files into ``folder`` (the caller syncs and renames it).

    ``rows``: (chunk id, searched text) in id order, the same chunks as ``vectors``.
    """
    folder.mkdir(parents=True)
    write_bm25(folder / BM25_DIR, rows, term_frequencies=True)
    vectors.optimize()  # flat while small, IVF-SQ8 once large (see vectors.py)
    vectors.save(folder / VECTORS)


class SegmentedVectors:
    """Dense search over segments, with deleted chunks excluded.

    Args:
        segments: the segments of one commit.
        dead: for each segment, its deleted chunk ids (sorted), or an empty array.
    """

    def __init__(self, segments: Sequence[Segment], dead: Sequence[np.ndarray]) -> None:
        self._segments = list(segments)
        self._dead = list(dead)
        self._live = sum(len(s.ids) - len(d) for s, d in zip(segments, dead, strict=True))

    def __len__(self) -> int:
        return self._live

    @property
    def dimension(self) -> int:
        return self._segments[0].vectors.dimension if self._segments else 0

    @property
    def description(self) -> str:
        kinds = sorted({s.vectors.description for s in self._segments})
        return "; ".join(kinds) or "Flat"

    def search(
        self, vectors: np.ndarray, k: int, allowed: np.ndarray | Selection | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (len(vectors), k), best first; missing ids are -1.

        ``allowed``: sorted chunk ids to restrict the search to (None: every chunk), or a
        scope's ``Selection``: then each segment searches its live chunks in the scope as
        ``VectorIndex.search`` does a selection (a small one exactly, a large one through
        a FAISS bitmap, more IVF lists probed if too few turn up), and what it derives is
        kept in the selection for the next search.
        """
        queries = np.ascontiguousarray(vectors, dtype=np.float32)
        all_scores, all_ids = [], []
        for segment, dead in zip(self._segments, self._dead, strict=True):
            if len(segment.vectors) == 0:
                continue
            if isinstance(allowed, Selection):
                mine = _in_segment(allowed, segment, dead)
                if len(mine) == 0:
                    continue
                scores, ids = segment.vectors.search(queries, k, mine)
            else:
                selector = _selector(dead, allowed)
                scores, ids = segment.vectors.search(queries, k, selector=selector)
            all_scores.append(scores)
            all_ids.append(ids)
        if not all_scores:
            return (
                np.full((len(queries), k), -np.inf, np.float32),
                np.full((len(queries), k), -1, np.int64),
            )
        scores = np.concatenate(all_scores, axis=1)
        ids = np.concatenate(all_ids, axis=1)
        scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_scores = np.take_along_axis(scores, order, axis=1)
        top_ids = np.take_along_axis(ids, order, axis=1)
        top_ids[~np.isfinite(top_scores)] = -1
        return top_scores, top_ids

    def reconstruct(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of these chunk ids, one row each.

        Raises:
            RuntimeError: an id is in no segment.
        """
        keys = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(keys), self.dimension), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        for segment in self._segments:
            if len(segment.ids) == 0 or found.all():
                continue
            at = np.minimum(np.searchsorted(segment.ids, keys), len(segment.ids) - 1)
            mine = (segment.ids[at] == keys) & ~found
            if mine.any():
                out[mine] = segment.vectors.reconstruct(keys[mine])
                found |= mine
        if not found.all():
            raise RuntimeError(f"chunk ids not in any segment: {keys[~found][:5].tolist()}")
        return out


def _in_segment(selection: Selection, segment: Segment, dead: np.ndarray) -> Selection:
    """The selection's live chunks in ``segment``, as a selection of their own (made
    once, kept in ``selection``)."""

    def make() -> Selection:
        ids = np.intersect1d(selection.chunk_ids, segment.ids, assume_unique=True)
        if len(dead):
            ids = np.setdiff1d(ids, dead, assume_unique=True)
        return Selection(selection.globs, ids, selection.paths, selection.unmatched)

    return selection.derived(f"segment-{id(segment)}", make)


def _selector(dead: np.ndarray, allowed: np.ndarray | None) -> Any:
    """A FAISS ID selector leaving out ``dead`` ids and any not ``allowed``; None: all."""
    import faiss

    parts: list[Any] = []
    if len(dead):
        parts.append(faiss.IDSelectorNot(faiss.IDSelectorBatch(dead)))
    if allowed is not None:
        parts.append(faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
    if not parts:
        return None
    if len(parts) == 1:
        return _Kept(parts[0], parts)
    return _Kept(faiss.IDSelectorAnd(parts[0], parts[1]), parts)


class _Kept:
    """A selector with the selectors it wraps kept alive (SWIG holds no references)."""

    def __init__(self, selector: Any, parts: list[Any]) -> None:
        self.selector = selector
        self._parts = parts
