"""Chunk vectors in FAISS, keyed by chunk id: exact while small, IVF-SQ8 when large.

Vectors are L2-normalized, so inner product is cosine. Up to ``FLAT_LIMIT`` vectors the
index is ``IndexIDMap2(IndexFlatIP)``: exact search, exact stored vectors. Past it, the
index becomes an ``IndexIVFScalarQuantizer`` (8-bit codes: a quarter of the memory of
float32), trained on a sample of the vectors, with ``nprobe`` calibrated so that recall@10
against exact search is at least ``recall.RECALL_TARGET`` on queries near the stored vectors.
The switch happens inside :meth:`VectorIndex.add`, as soon as a flat index would pass the
limit, so a build never holds more than ``FLAT_LIMIT`` float vectors however large the
corpus. That index is provisional: :meth:`VectorIndex.optimize` retrains it on a sample of
all the vectors before a generation is saved, moving the codes out to a temporary file
first so that the old and the new index are never both in memory. The IVF index keeps the
chunk ids itself and a hashtable from id to list position, so it can remove ids and
reconstruct vectors. (``IndexIDMap2`` around an IVF index is not an option: IDMap2 assumes
the inner index renumbers after a removal, which IVF doesn't, and returns wrong ids.)
FAISS stores ``nprobe`` and the hashtable in the file, so a loaded index searches as saved.

IVF is trained once per index: the segments written after it (an update's, a merge's)
reuse its trained lists and 8-bit ranges (:meth:`VectorIndex.trained_like`, or the
empty trained index saved beside it, :meth:`VectorIndex.save_trained`), so a small
segment is searched in a few probed lists rather than exhaustively, and a merge re-adds
codes without k-means. Only growth past 4x (twice the lists) trains again.

This module searches and holds the index; building, training, calibrating and spilling
live in :mod:`.vector_build`.

Must not import textual or torch; faiss is imported lazily (at the point of use) so that
``import assistant`` stays light.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError
from .scope import Selection, exact_top_k, id_bitmap
from .vector_build import (
    build_flat,
    build_ivf,
    empty_copy,
    empty_flat,
    is_flat,
    is_ivf,
    nlist_for,
    outgrows,
    stored_ids,
    stored_vectors,
)

FLAT_LIMIT = 200_000
"""Largest vector count kept in an exact flat index (~300 MB at 384 dimensions)."""
_PARALLEL_FROM = 8  # queries per search call from which FAISS may use several threads
# A scope of at most this many chunks is searched exactly: scoring its vectors costs less
# than a FAISS pass, and an IVF index's probed lists might hold too few of them.
_EXACT_SCOPE = 20_000


class VectorIndex:
    """FAISS inner-product index keyed by chunk id (so chunks can be removed).

    Args:
        index: the FAISS index, flat or IVF (see the module docstring).
        flat_limit: the most vectors a flat index holds before :meth:`add` turns it into
            IVF-SQ8, and the default limit of :meth:`optimize`; ``FLAT_LIMIT`` when None.
        scratch: the folder for the temporary file of :meth:`optimize` (~0.4 GB at a
            million vectors); the system's temporary folder when None.
    """

    def __init__(
        self, index: Any, *, flat_limit: int | None = None, scratch: Path | None = None
    ) -> None:
        self._index = index
        self._flat_limit = flat_limit
        self.scratch = scratch
        self._provisional = False  # trained by add() on the first vectors only
        self._shared = False  # trained for another segment: kept unless it grows 4x

    @classmethod
    def empty(
        cls, dimension: int, *, flat_limit: int | None = None, scratch: Path | None = None
    ) -> VectorIndex:
        return cls(empty_flat(dimension), flat_limit=flat_limit, scratch=scratch)

    @classmethod
    def trained_like(cls, other: VectorIndex, *, scratch: Path | None = None) -> VectorIndex:
        """An empty index trained as ``other`` (IVF), or an empty flat one if it is flat."""
        if other.kind == "flat":
            return cls.empty(other.dimension, scratch=scratch)
        shared = cls(empty_copy(other._index), scratch=scratch)
        shared._shared = True
        return shared

    @classmethod
    def load_trained(cls, path: Path, *, scratch: Path | None = None) -> VectorIndex:
        """An empty index trained as the one whose :meth:`save_trained` wrote ``path``."""
        loaded = cls.load(path)
        if loaded.kind != "ivf" or len(loaded):
            raise IndexCorruptError(f"{path} is not an empty trained index", REBUILD_HINT)
        loaded.scratch = scratch
        loaded._shared = True
        return loaded

    @classmethod
    def load(cls, path: Path, *, flat_limit: int | None = None) -> VectorIndex:
        """The index saved at ``path``; its folder is the scratch folder."""
        import faiss

        if not path.exists():
            raise IndexCorruptError(f"missing {path}", REBUILD_HINT)
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:  # faiss reports a bad file as RuntimeError
            raise IndexCorruptError(f"vector index {path} unreadable", REBUILD_HINT) from exc
        if not is_flat(index) and not is_ivf(index):
            raise IndexCorruptError(f"vector index {path} is of an unknown kind", REBUILD_HINT)
        return cls(index, flat_limit=flat_limit, scratch=path.parent)

    @property
    def flat_limit(self) -> int:
        """The most vectors kept flat (read when used, so ``FLAT_LIMIT`` can be patched)."""
        return max(1, FLAT_LIMIT if self._flat_limit is None else self._flat_limit)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> str:
        """``"flat"`` (exact) or ``"ivf"`` (approximate, 8-bit codes)."""
        return "flat" if is_flat(self._index) else "ivf"

    @property
    def lists(self) -> int:
        """IVF lists (0 for a flat index)."""
        return int(self._index.nlist) if self.kind == "ivf" else 0

    @property
    def shares_training(self) -> bool:
        """Whether this IVF index reuses another segment's training (see trained_like)."""
        return self._shared

    @property
    def nprobe(self) -> int:
        """Lists searched per query (0 for a flat index)."""
        return int(self._index.nprobe) if self.kind == "ivf" else 0

    @property
    def description(self) -> str:
        """The index type for the manifest: ``"Flat"`` or ``"IVF1024,SQ8 nprobe=16"``."""
        if self.kind == "flat":
            return "Flat"
        return f"IVF{self._index.nlist},SQ8 nprobe={self._index.nprobe}"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray, *, seed: int = 0) -> None:
        """Store ``vectors`` under chunk ``ids``, turning a flat index into IVF past the limit.

        The flat index is filled up to :attr:`flat_limit`, trained into IVF-SQ8 on what it
        holds (``seed`` for the sample), and the rest is added as 8-bit codes: float
        vectors never pile up beyond the limit, whatever the corpus size. The IVF index is
        searchable at once but provisional: :meth:`optimize` retrains it.
        """
        keys = np.asarray(ids, dtype=np.int64)
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.kind == "flat" and len(self) + len(keys) > self.flat_limit:
            room = self.flat_limit - len(self)  # > 0 unless loaded past the limit
            if room > 0:
                self._index.add_with_ids(rows[:room], keys[:room])
                keys, rows = keys[room:], rows[room:]
            self._index = self._build_ivf(nlist_for(len(self)), seed)
            self._provisional = True
        if len(keys):
            self._index.add_with_ids(rows, keys)

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(
        self,
        vectors: np.ndarray,
        k: int,
        allowed: Selection | None = None,
        *,
        selector: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids) arrays of shape (len(vectors), k); missing ids are -1.

        With ``allowed``, only those chunks are searched, before the top k: a small scope
        exactly, a large one by a FAISS IDSelector (probing more IVF lists if need be).
        ``selector``: instead, an object whose ``selector`` attribute is a FAISS
        ``IDSelector``; only the ids it selects are searched (segments.py leaves deleted
        chunks, and those outside a scope, out so).
        """
        k = max(1, min(k, len(self)))
        queries = np.ascontiguousarray(vectors, dtype=np.float32)
        if selector is not None:
            return self._search(queries, k, self._params_of(selector.selector, 1))
        if allowed is None:
            return self._search(queries, k, None)
        chosen = allowed.chunk_ids
        if len(chosen) <= _EXACT_SCOPE:  # its vectors kept: at most ~30 MB
            stored = allowed.derived(f"vectors-{id(self)}", lambda: self.reconstruct(chosen))
            return exact_top_k(queries, stored, chosen, k)
        params = allowed.derived(f"faiss-{id(self)}", lambda: self._params(allowed, 1))
        scores, ids = self._search(queries, k, params)
        wanted = min(k, len(allowed))
        if self.kind == "ivf" and int((ids >= 0).sum(axis=1).min()) < wanted:
            wider = allowed.derived(f"faiss-wide-{id(self)}", lambda: self._params(allowed, 8))
            scores, ids = self._search(queries, k, wider)
        return scores, ids

    def _params(self, allowed: Selection, widen: int) -> Any:
        import faiss

        selector: Any = faiss.IDSelectorBitmap  # its wrapper takes an array, and keeps it
        return self._params_of(selector(id_bitmap(allowed.chunk_ids)), widen)

    def _params_of(self, selector: Any, widen: int) -> Any:
        import faiss

        ivf = self.kind == "ivf"
        params: Any = faiss.SearchParametersIVF() if ivf else faiss.SearchParameters()
        params.sel = selector
        if ivf:
            params.nprobe = min(int(self._index.nlist), self.nprobe * widen)
        return params

    def _search(self, queries: np.ndarray, k: int, params: Any) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        if len(queries) >= _PARALLEL_FROM:
            scores, ids = self._index.search(queries, k, params=params)
            return scores, ids
        # A question or two is one thread's work. Waking OpenMP's other threads costs more
        # than it saves, up to 20x more when another process keeps the cores busy. The
        # setting is per calling thread in OpenMP, so concurrent work is unaffected.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self._index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        return scores, ids

    def reconstruct(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of these chunk ids, one row each (decoded from 8 bits if IVF).

        Raises:
            RuntimeError: an id is not in the index (FAISS's own error).
        """
        return stored_vectors(self._index, ids)

    def ids(self) -> np.ndarray:
        """Every stored chunk id, in no particular order."""
        return stored_ids(self._index)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    def save_trained(self, path: Path) -> bool:
        """Save an IVF index's training (lists, 8-bit ranges, nprobe) without its vectors,
        ~1.5 MB at 1,024 lists, for later segments to share; nothing for a flat index."""
        import faiss

        if self.kind == "flat":
            return False
        faiss.write_index(empty_copy(self._index), str(path))
        return True

    def optimize(
        self, *, flat_limit: int | None = None, seed: int = 0, cancel: threading.Event | None = None
    ) -> bool:
        """Pick the index type for the current size, rebuilding if it changes.

        Flat up to ``flat_limit`` vectors; IVF-SQ8 above it, rebuilt with more lists once
        the size calls for at least twice as many as the index has (about 4x growth); back
        to flat only below half the limit, so a corpus near the limit doesn't flip-flop.
        An IVF index that :meth:`add` trained on the first vectors is always retrained on
        a sample of all: later ones may be on topics the first never covered (recall@10
        fell to 0.50 at 500,000 vectors added topic by topic, 0.97 once retrained).
        Takes about half a minute at a million vectors on two cores. Rebuilding an IVF
        index moves its codes to a temporary file in :attr:`scratch` first; if the
        rebuild then fails or ``cancel`` stops it, the index is left empty: discard it.

        Args:
            flat_limit: the size limit of a flat index; :attr:`flat_limit` when None.
            seed: for the training sample and the calibration queries.

        Returns:
            Whether the index was rebuilt.
        """
        flat_limit = self.flat_limit if flat_limit is None else flat_limit
        n = len(self)
        if self._shared:  # keep the index's one training until it has grown 4x
            if not outgrows(int(self._index.nlist), n):
                return False
            self._index = self._build_ivf(nlist_for(n), seed, cancel)
            self._shared = False
            return True
        if self.kind == "flat":
            if n <= flat_limit:
                return False
            self._index = self._build_ivf(nlist_for(n), seed, cancel)
            return True
        if n < flat_limit // 2:
            self._index = self._build_flat()
        elif self._provisional or outgrows(int(self._index.nlist), n):
            self._index = self._build_ivf(nlist_for(n), seed, cancel)
        else:
            return False
        self._provisional = False
        return True

    def _build_flat(self) -> Any:
        return build_flat(self._index)

    def _build_ivf(self, nlist: int, seed: int, cancel: threading.Event | None = None) -> Any:
        """A new IVF index of these vectors; an IVF index is emptied on the way (see
        :func:`.vector_build.build_ivf`)."""
        return build_ivf(self._index, nlist, seed, scratch=self.scratch, cancel=cancel)
