"""Measuring recall of an approximate (IVF) vector index against exact search, to pick
the smallest ``nprobe`` that reaches ``RECALL_TARGET``. Used when an IVF index is built
(vector_build.py) and by benchmarks/scale.py. Must not import textual or torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RECALL_TARGET = 0.97  # above the 0.95 goal: calibration queries are only a proxy for real ones
_NPROBE_STEPS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
_MIN_NPROBE = 8
_QUERY_NOISE = 1.2  # a query's cosine with the chunk it was made from is 1/sqrt(1+1.2^2) = 0.64
_TIE = 1e-3  # 8-bit codes blur scores by about this much: closer hits count as found


def perturbed_queries(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Queries near stored vectors but not on them, as real questions are."""
    noise = rng.standard_normal(vectors.shape).astype(np.float32)
    noise *= _QUERY_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    queries = vectors + noise
    return np.asarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), np.float32)


class ExactTopK:
    """Exact top-k by inner product, accumulated over blocks of vectors."""

    def __init__(self, queries: np.ndarray, k: int) -> None:
        self.queries = queries
        self.k = k
        self.scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        self.ids = np.empty((len(queries), 0), dtype=np.int64)

    def update(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        block = self.queries @ vectors.T
        keep = min(self.k, block.shape[1])
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        scores = np.concatenate([self.scores, np.take_along_axis(block, top, axis=1)], axis=1)
        labels = np.concatenate([self.ids, ids[top]], axis=1)
        keep = min(self.k, scores.shape[1])
        best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        self.scores = np.take_along_axis(scores, best, axis=1)
        self.ids = np.take_along_axis(labels, best, axis=1)

    def recall(self, found_ids: np.ndarray, found_scores: np.ndarray) -> float:
        """Share of the true top-k found; hits tied with the k-th within _TIE count too."""
        kth = self.scores.min(axis=1, keepdims=True)
        hit = np.array(
            [np.isin(row, truth) for row, truth in zip(found_ids, self.ids, strict=True)]
        )
        hit |= (found_ids >= 0) & (found_scores >= kth - _TIE)
        return float(hit[:, : self.k].sum() / self.ids.size)


def calibrated_nprobe(ivf: Any, queries: np.ndarray, truth: ExactTopK) -> int:
    """The smallest nprobe reaching RECALL_TARGET, doubled as a margin for real queries."""
    nlist = int(ivf.nlist)
    for nprobe in (*(s for s in _NPROBE_STEPS if s < nlist), nlist):
        ivf.nprobe = nprobe
        scores, ids = ivf.search(queries, truth.k)
        if truth.recall(ids, scores) >= RECALL_TARGET:
            return min(nlist, max(_MIN_NPROBE, 2 * nprobe))
    return nlist
