"""Remembered vectors of answer sentences: the same sentences recur across questions.

Must not import textual or torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from .protocol import Vectors


class VectorCache:
    """Embeds texts with ``embed``, remembering each text's vector (bounded in size)."""

    def __init__(
        self, embed: Callable[[Sequence[str]], Vectors], dimension: int, max_entries: int = 50_000
    ) -> None:
        self._embed = embed
        self._dimension = dimension
        self._max = max_entries
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> Vectors:
        """One row per text, in order; only texts not seen before are embedded."""
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = self._embed(missing)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                if len(self._vectors) + len(missing) > self._max:
                    self._vectors.clear()  # simple and bounded; it refills from use
                self._vectors.update(zip(missing, fresh, strict=True))
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)
