"""Embedding chunks in full batches across files, then storing them in the next segment.

A batch is embedded a slice at a time, and a set ``cancel`` event raises ``Cancelled``
before the next slice: a large file's thousands of chunks are minutes of work, a slice
about half a second. Part of indexing. Must not import textual or torch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..embedding import Encoders
from ..records import Chunk
from ..store.cancel import checkpoint
from ..store.chunk_table import FileRecord
from ..store.writer import SegmentWriter
from ..text.reflow import passage_text
from .rolling_writer import RollingWriter

_EMBED_BATCH = 256  # chunks buffered across files: bounds memory, keeps batches full
# Chunks embedded per call, cancel checked between calls: one batch of the ONNX embedder
# (32), ~0.5 s at the 50-77 chunks/s of two cores.
_SLICE = 32


class ChunkEmbedder:
    """Buffers chunks across files so the model sees full batches, then stores them."""

    def __init__(
        self,
        writer: SegmentWriter | RollingWriter,
        encoders: Encoders | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._writer = writer
        self._encoders = encoders
        self._cancel = cancel
        self._pending: list[tuple[FileRecord, list[Chunk]]] = []
        self._pending_chunks = 0
        self.embedded = 0

    def add(self, record: FileRecord, chunks: list[Chunk]) -> None:
        self._pending.append((record, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= _EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        batch = self._take()
        if batch is None:
            return
        vectors = np.zeros((0, 0), dtype=np.float32)
        if batch.unique:
            assert self._encoders is not None
            embed = self._encoders.passages.embed_documents
            parts = []
            for start in range(0, len(batch.unique), _SLICE):
                checkpoint(self._cancel)
                parts.append(embed(batch.unique[start : start + _SLICE]))
            vectors = np.concatenate(parts)
        self._store(batch, vectors)

    def finish(self) -> None:
        """Embed and store whatever is still buffered."""
        self.flush()

    def _take(self) -> Batch | None:
        """The buffered files as one batch to embed, or None when nothing is buffered."""
        if not self._pending:
            return None
        # What is embedded is the passage as it reads, under its heading path.
        texts = [
            passage_text(c.heading, c.text, c.column) for _, chunks in self._pending for c in chunks
        ]
        # Identical passages (boilerplate, repeated files) are embedded once; in order of
        # length, as the ONNX embedder orders a call's texts, so that slices of it are the
        # batches one call would make (padding stays as small).
        batch = Batch(self._pending, texts, sorted(dict.fromkeys(texts), key=len))
        self._pending, self._pending_chunks = [], 0
        return batch

    def _store(self, batch: Batch, vectors: np.ndarray) -> None:
        """Hand each file of ``batch`` to the writer with its rows of ``vectors``."""
        self.embedded += len(batch.unique)
        by_text = dict(zip(batch.unique, vectors, strict=True))
        at = 0
        for record, chunks in batch.files:
            rows = [by_text[text] for text in batch.texts[at : at + len(chunks)]]
            at += len(chunks)
            self._writer.add_file(record, chunks, np.stack(rows) if rows else np.zeros((0, 0)))


@dataclass
class Batch:
    """Files whose chunks are embedded together: every chunk's text, and each text once."""

    files: list[tuple[FileRecord, list[Chunk]]]
    texts: list[str]
    unique: list[str]
