"""Writing the next generation: the previous one's rows, minus what left, plus what came.

A ``GenerationWriter`` starts from a copy of the live generation's chunk table and
vectors (or from nothing, for a full rebuild), takes removals and new chunks with their
vectors, then writes BM25 and the FAISS file and commits (see generations.py). It
reports each stage through ``on_stage`` before doing it, so a caller can show progress
or a test can stop there; an error or Ctrl-C before the commit leaves the previous
generation live and this one's folder deleted. Must not import textual or torch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexUnusableError
from ..records import Chunk
from .bm25_write import write_bm25
from .chunk_table import ChunkTable, FileRecord
from .generations import (
    BM25_DIR,
    CHUNKS_DB,
    VECTORS,
    commit_generation,
    current_generation,
    discard_generation,
    new_generation,
)
from .vectors import VectorIndex

StageCallback = Callable[[str], None]
"""Called with a stage name ("bm25", "vectors", "commit", "swap", "prune") before it."""


class GenerationWriter:
    """Builds one new generation of the index in ``index_dir``.

    Args:
        previous: the live generation to start from, or None to start empty.
        on_stage: told each stage's name before the stage runs.
    """

    def __init__(
        self, index_dir: Path, previous: Path | None, on_stage: StageCallback | None = None
    ) -> None:
        self._index_dir = index_dir
        self._on_stage = on_stage or (lambda stage: None)
        self.generation = new_generation(index_dir)
        self._table: ChunkTable | None = None
        try:
            if previous is not None:
                source = ChunkTable(previous / CHUNKS_DB, read_only=True)
                try:
                    source.copy_to(self.generation / CHUNKS_DB)
                finally:
                    source.close()
            self._table = ChunkTable(self.generation / CHUNKS_DB, read_only=False)
            self.vectors = VectorIndex.load(previous / VECTORS) if previous is not None else None
        except BaseException:
            self.abandon()
            raise
        self._next_id = self.table.max_id() + 1

    @property
    def table(self) -> ChunkTable:
        assert self._table is not None, "the writer was closed"
        return self._table

    def remove_file(self, path: str) -> None:
        """Drop a file's chunks and vectors (it was deleted, changed or became unreadable)."""
        if self.vectors is not None:
            self.vectors.remove(self.table.chunk_ids(path))
        self.table.remove_file(path)
        self.table.clear_skipped(path)

    def add_file(self, record: FileRecord, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Store a file's chunks (numbered here) with their vectors, one row per chunk."""
        numbered = [replace(c, id=self._next_id + i) for i, c in enumerate(chunks)]
        self._next_id += len(chunks)
        hashes = [hashlib.sha256(c.text.encode()).hexdigest()[:16] for c in numbered]
        self.table.clear_skipped(record.path)
        self.table.add_file(replace(record, chunks=len(numbered)), numbered, hashes)
        if numbered:
            if self.vectors is None:
                # VectorIndex.optimize's temporary file goes in the index folder, not /tmp.
                self.vectors = VectorIndex.empty(int(vectors.shape[1]), scratch=self._index_dir)
            self.vectors.add([c.id for c in numbered], vectors)

    def commit(self, manifest: dict[str, Any], dimension: int) -> dict[str, Any]:
        """Write BM25 and the vectors, then make this generation live.

        Returns ``manifest`` completed with the vector index and chunk and file counts,
        as written. ``dimension``: of the vectors, used when there are none at all.
        """
        self.table.commit()
        self._on_stage("bm25")
        write_bm25(self.generation / BM25_DIR, self.table.texts_in_id_order())
        vectors = self.vectors or VectorIndex.empty(dimension)
        self._on_stage("vectors")
        vectors.optimize()  # flat while small, IVF-SQ8 once large (see vectors.py)
        vectors.save(self.generation / VECTORS)
        manifest = {
            **manifest,
            "dimension": vectors.dimension,
            "vector_index": vectors.description,
            "chunks": self.table.count(),
            "files": len(self.table.files()),
        }
        self.close()
        self._on_stage("commit")
        commit_generation(self._index_dir, self.generation, manifest, on_stage=self._on_stage)
        return manifest

    def close(self) -> None:
        if self._table is not None:
            self._table.close()
            self._table = None

    def abandon(self) -> None:
        """Delete this generation, unless it already went live (a Ctrl-C while pruning
        must not delete what is now the index)."""
        self.close()
        if not _is_live(self._index_dir, self.generation):
            discard_generation(self.generation)


def _is_live(index_dir: Path, generation: Path) -> bool:
    try:
        return current_generation(index_dir) == generation
    except IndexUnusableError:
        return False
