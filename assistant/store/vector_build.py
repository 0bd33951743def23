"""Building FAISS indexes for :mod:`.vectors`: flat ones, and IVF-SQ8 ones trained and
calibrated, rebuilt through a spill file so that two large indexes never share memory.

A flat index is ``IndexIDMap2(IndexFlatIP)``. An IVF index is an
``IndexIVFScalarQuantizer`` (8-bit codes) trained on a sample of the vectors, whose 8-bit
ranges are widened so that later topics are not clipped, with a hashtable from chunk id to
list position (to remove ids and reconstruct vectors) and ``nprobe`` calibrated so that
recall@10 against exact search is at least ``recall.RECALL_TARGET``. Rebuilding an IVF
index first moves its codes out to a temporary file (:class:`_Spill`), leaving it empty.
Searching lives in :mod:`.vectors`; this module knows nothing of scopes or queries.

Must not import textual or torch; faiss is imported lazily (at the point of use) so that
``import assistant`` stays light.
"""

from __future__ import annotations

import io
import math
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from .cancel import checkpoint
from .recall import ExactTopK, calibrated_nprobe, perturbed_queries

_TRAIN_PER_LIST = 64  # k-means sample size per list (FAISS warns below 39)
_CALIBRATION_QUERIES = 200
_RANGE_MARGIN = 0.5  # widen 8-bit ranges by this share of them on each side (see build_ivf)
_BLOCK = 16_384  # vectors copied at a time while rebuilding: ~25 MB of floats, ~100 MB in all


def empty_flat(dimension: int) -> Any:
    """An empty exact index keyed by chunk id."""
    import faiss  # deferred: only needed to search or update

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def stored_ids(index: Any) -> np.ndarray:
    """Every chunk id stored in a flat or IVF ``index``, in no particular order."""
    import faiss

    if is_flat(index):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    lists = index.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(lists.nlist)
        if lists.list_size(i)
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def stored_vectors(index: Any, ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """The stored vectors of these chunk ids, one row each (decoded from 8 bits if IVF).

    Raises:
        RuntimeError: an id is not in the index (FAISS's own error).
    """
    keys = np.asarray(ids, dtype=np.int64)
    if len(keys) == 0:
        return np.empty((0, int(index.d)), dtype=np.float32)
    return np.asarray(index.reconstruct_batch(keys), dtype=np.float32)


def _blocks(index: Any, ids: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(ids), _BLOCK):
        block = ids[start : start + _BLOCK]
        yield block, stored_vectors(index, block)


def build_flat(index: Any) -> Any:
    """A new flat index of the vectors ``index`` stores."""
    flat = empty_flat(int(index.d))
    for block_ids, vectors in _blocks(index, stored_ids(index)):
        flat.add_with_ids(vectors, block_ids)
    return flat


def build_ivf(
    index: Any,
    nlist: int,
    seed: int,
    *,
    scratch: Path | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    """A new IVF index of the vectors ``index`` stores, trained and calibrated.

    An IVF ``index`` is emptied on the way: its codes are spilled to a temporary file in
    ``scratch`` (the system's temporary folder when None) and read back from there.

    Args:
        nlist: the IVF lists to train.
        seed: for the training sample and the calibration queries.
        cancel: stops the build between blocks (the old index is then left empty).
    """
    import faiss

    dimension = int(index.d)
    rng = np.random.default_rng(seed)
    ids = stored_ids(index)
    chosen = np.sort(rng.choice(ids, min(len(ids), _TRAIN_PER_LIST * nlist), replace=False))
    with ExitStack() as stack:
        if is_flat(index):
            sample, blocks = stored_vectors(index, chosen), _blocks(index, ids)
        else:
            spill = _Spill(index, stack.enter_context(tempfile.TemporaryFile(dir=scratch)))
            sample, blocks = spill.select(chosen), spill.blocks()
        ivf = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dimension),
            dimension,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
        ivf.cp.seed = seed
        # Widen each dimension's 8-bit range by half on both sides: vectors added after
        # training (new topics) would otherwise be clipped, badly, for 2x coarser steps.
        ivf.sq.rangestat_arg = _RANGE_MARGIN
        ivf.train(sample)
        ivf.set_direct_map_type(_hashtable())  # id -> list position: remove, reconstruct
        queries = perturbed_queries(sample[:_CALIBRATION_QUERIES], rng)
        del sample  # ~100 MB at 1024 lists
        truth = ExactTopK(queries, k=10)
        for block_ids, vectors in blocks:
            checkpoint(cancel)
            ivf.add_with_ids(vectors, block_ids)
            truth.update(block_ids, vectors)
    ivf.nprobe = calibrated_nprobe(ivf, queries, truth)
    return ivf


class _Spill:
    """An IVF index's codes moved out to a temporary file, so that its lists are freed.

    Two IVF indexes of a million vectors take ~0.45 GB each: with the old one's codes on
    disk, the new one fills the memory the old one freed. The old index is left empty.
    """

    def __init__(self, index: Any, file: io.BufferedRandom) -> None:
        import faiss

        self._index, self._file = index, file
        nlist, self._code_size = int(index.nlist), int(index.code_size)
        self._pieces: list[tuple[int, int]] = []  # (list, vectors) in the order written
        index.set_direct_map_type(int(faiss.DirectMap.NoMap))  # type: ignore[attr-defined]
        for i in range(nlist):
            size = index.invlists.list_size(i)
            if size == 0:
                continue
            codes = faiss.rev_swig_ptr(index.invlists.get_codes(i), size * self._code_size)
            ids = faiss.rev_swig_ptr(index.invlists.get_ids(i), size)
            for start in range(0, size, _BLOCK):
                end = min(size, start + _BLOCK)
                file.write(codes[start * self._code_size : end * self._code_size].tobytes())
                file.write(ids[start:end].tobytes())
                self._pieces.append((i, end - start))
        empty = faiss.ArrayInvertedLists(nlist, self._code_size)
        index.replace_invlists(empty, True)  # frees the old lists
        empty.this.disown()  # type: ignore[attr-defined]  # the index owns it now
        index.ntotal = 0
        self._centroids = index.quantizer.reconstruct_n(0, nlist)

    def _read(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        self._file.seek(0)
        for i, count in self._pieces:
            codes = np.frombuffer(self._file.read(count * self._code_size), dtype=np.uint8)
            ids = np.frombuffer(self._file.read(count * 8), dtype=np.int64)
            if len(codes) != count * self._code_size or len(ids) != count:
                raise OSError("temporary vector file truncated")
            yield i, ids, codes.reshape(count, self._code_size)

    def _decoded(self, i: int, codes: np.ndarray) -> np.ndarray:
        vectors = np.asarray(self._index.sq.decode(codes), dtype=np.float32)
        return vectors + self._centroids[i] if self._index.by_residual else vectors

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every stored vector, a list or ``_BLOCK`` at a time."""
        for i, ids, codes in self._read():
            yield ids, self._decoded(i, codes)

    def select(self, wanted: np.ndarray) -> np.ndarray:
        """The vectors of the ``wanted`` ids (sorted), in that order."""
        found_ids, found = [], []
        for i, ids, codes in self._read():
            at = np.minimum(np.searchsorted(wanted, ids), len(wanted) - 1)
            keep = wanted[at] == ids
            if keep.any():
                found_ids.append(ids[keep])
                found.append(self._decoded(i, codes[keep]))
        return np.concatenate(found)[np.argsort(np.concatenate(found_ids))]


def empty_copy(ivf: Any) -> Any:
    """A new IVF-SQ8 index with ``ivf``'s centroids, 8-bit ranges and nprobe, no vectors
    (FAISS's clone would copy every code first)."""
    import faiss

    nlist, dimension = int(ivf.nlist), int(ivf.d)
    empty = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dimension),
        dimension,
        nlist,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    empty.quantizer.add(ivf.quantizer.reconstruct_n(0, nlist))
    faiss.copy_array_to_vector(faiss.vector_to_array(ivf.sq.trained), empty.sq.trained)
    empty.by_residual = ivf.by_residual
    empty.is_trained = True
    empty.set_direct_map_type(_hashtable())
    empty.nprobe = int(ivf.nprobe)
    return empty


def is_flat(index: Any) -> bool:
    """Whether ``index`` is a flat index as :func:`empty_flat` makes them."""
    import faiss

    return isinstance(index, faiss.IndexIDMap2) and isinstance(
        faiss.downcast_index(index.index), faiss.IndexFlatIP
    )


def is_ivf(index: Any) -> bool:
    """Whether ``index`` is an IVF-SQ8 index as :func:`build_ivf` makes them."""
    import faiss

    return isinstance(index, faiss.IndexIVFScalarQuantizer) and (
        index.direct_map.type == _hashtable()
    )


def _hashtable() -> int:
    import faiss

    return int(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # not in faiss's stubs


def outgrows(lists: int, n: int) -> bool:
    """Whether ``n`` vectors call for twice an IVF training's ``lists`` (~4x its size)."""
    return nlist_for(n) >= 2 * lists


def nlist_for(n: int) -> int:
    """About sqrt(n) lists, a power of two: ~1000 vectors a list at a million."""
    return int(2 ** round(math.log2(max(n, 1) ** 0.5)))
