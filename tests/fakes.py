"""Test doubles: a deterministic bag-of-words embedder that records what it embedded."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from assistant.embedding import Vectors
from assistant.text.terms import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
DIMENSION = 256


class FakeEmbedder:
    """Hashes words into a small vector; texts sharing words are similar.

    ``embedded`` lists every document text it was asked to embed, so tests can assert
    what an index update re-embedded. ``fail_after`` makes it raise after that many
    document texts, to simulate a crash mid-update.
    """

    def __init__(
        self, name: str = "all-MiniLM-L6-v2", max_tokens: int = 254, fail_after: int | None = None
    ) -> None:
        self._name = name
        self._max_tokens = max_tokens
        self.fail_after = fail_after
        self.embedded: list[str] = []
        self.queries: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def dimension(self) -> int:
        return DIMENSION

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # Roughly word pieces: words plus punctuation marks.
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if self.fail_after is not None and len(self.embedded) + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.embedded.extend(texts)
        return self._vectors(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._vectors(texts)

    @staticmethod
    def _vectors(texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word not in STOPWORDS:  # content words only, so related texts score high
                    out[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
