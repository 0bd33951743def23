"""Embedding chunks in full batches across files, then storing them in the next segment.

Part of indexing. Must not import textual or torch.
"""

from __future__ import annotations

import numpy as np

from ..embedding import Encoders
from ..records import Chunk
from ..store.chunk_table import FileRecord
from ..store.writer import SegmentWriter
from ..text.reflow import passage_text

_EMBED_BATCH = 256  # chunks embedded per call: bounds memory, keeps batches full


class ChunkEmbedder:
    """Buffers chunks across files so the model sees full batches, then stores them."""

    def __init__(self, writer: SegmentWriter, encoders: Encoders | None) -> None:
        self._writer = writer
        self._encoders = encoders
        self._pending: list[tuple[FileRecord, list[Chunk]]] = []
        self._pending_chunks = 0
        self.embedded = 0

    def add(self, record: FileRecord, chunks: list[Chunk]) -> None:
        self._pending.append((record, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= _EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        # What is embedded is the passage as it reads, under its heading path.
        texts = [
            passage_text(c.heading, c.text, c.column) for _, chunks in self._pending for c in chunks
        ]
        # Identical passages (boilerplate, repeated files) are embedded once.
        unique = list(dict.fromkeys(texts))
        by_text: dict[str, np.ndarray] = {}
        if unique:
            assert self._encoders is not None
            vectors = self._encoders.passages.embed_documents(unique)
            self.embedded += len(unique)
            by_text = dict(zip(unique, vectors, strict=True))
        at = 0
        for record, chunks in self._pending:
            rows = [by_text[text] for text in texts[at : at + len(chunks)]]
            at += len(chunks)
            self._writer.add_file(record, chunks, np.stack(rows) if rows else np.zeros((0, 0)))
        self._pending, self._pending_chunks = [], 0
