"""What the indexer, the retriever and the answerer need from a model: the Embedder
protocol. Vectors are float32 rows, L2-normalized. Must not import textual or torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """What the indexer and retriever need from a model. Vectors are L2-normalized."""

    @property
    def name(self) -> str: ...

    @property
    def max_tokens(self) -> int:
        """The most model tokens (without special tokens) a text may have untruncated."""
        ...

    def dimension(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...
