"""Scoped search: the chunks that globs over corpus-relative paths select.

``select_scope`` turns globs into a ``Selection`` of chunk ids, once per index and scope;
searches take it as ``allowed`` and filter before their top-k (FAISS through an
IDSelector in ``SearchParameters``, BM25 through a row mask), so a scoped question still
gets k passages. A selection caches what each search derives from it (the FAISS
parameters, the BM25 mask), so repeated questions in one scope pay for that once.

Globs themselves (their syntax, and matching in linear time) are ``globs.py``'s. Must
not import textual or torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from ..globs import glob_pattern

T = TypeVar("T")


@dataclass(eq=False)
class Selection:
    """The chunks of the files some globs match.

    ``chunk_ids`` is sorted; ``paths`` are the matched files; ``unmatched`` names the
    globs that match no indexed file (a face warns about each).
    """

    globs: tuple[str, ...]
    chunk_ids: np.ndarray
    paths: tuple[str, ...]
    unmatched: tuple[str, ...]
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """What a search derives from the selection (a mask, a FAISS selector), made once."""
        if key not in self._derived:
            self._derived[key] = make()
        value: T = self._derived[key]
        return value


def matching(paths: Iterable[str], globs: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    """The paths any glob matches, and the globs that match none of them."""
    patterns = [(glob, glob_pattern(glob)) for glob in globs]
    matched: list[str] = []
    used: set[str] = set()
    for path in paths:
        hits = [glob for glob, pattern in patterns if pattern.fullmatch(path + "/")]
        if hits:
            matched.append(path)
            used.update(hits)
    return matched, tuple(glob for glob in globs if glob not in used)


def select_scope(
    paths: Iterable[str], chunk_ids_of: Callable[[list[str]], np.ndarray], globs: Sequence[str]
) -> Selection:
    """The selection of ``globs`` among ``paths`` (the indexed files), with their chunk ids
    from ``chunk_ids_of`` (the chunk table's)."""
    matched, unmatched = matching(paths, globs)
    ids = np.sort(np.asarray(chunk_ids_of(matched), dtype=np.int64)) if matched else _NONE
    return Selection(tuple(globs), ids, tuple(matched), unmatched)


def exact_top_k(
    queries: np.ndarray, stored: np.ndarray, chunk_ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the ``k`` best of ``stored`` (the vectors of ``chunk_ids``) for
    each query, padded with -1 ids as FAISS pads."""
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if len(chunk_ids) == 0:
        return scores, ids
    products = queries @ stored.T
    top = min(k, len(chunk_ids))
    best = np.argsort(-products, axis=1, kind="stable")[:, :top]
    scores[:, :top] = np.take_along_axis(products, best, axis=1)
    ids[:, :top] = chunk_ids[best]
    return scores, ids


def id_bitmap(chunk_ids: np.ndarray) -> np.ndarray:
    """A bit per id up to the largest (FAISS's IDSelectorBitmap: 125 kB a million ids),
    cheaper for a search to test than a hash set of the ids."""
    mask = np.zeros(int(chunk_ids[-1]) + 1 if len(chunk_ids) else 0, dtype=bool)
    mask[chunk_ids] = True
    bits: np.ndarray = np.packbits(mask, bitorder="little")
    return bits


_NONE = np.empty(0, dtype=np.int64)
