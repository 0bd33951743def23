"""Committing a long build as it goes: a segment every ``commit_every`` chunks.

A ``RollingWriter`` stands in for one ``SegmentWriter``: once the chunks it has stored
since the last commit reach ``commit_every``, it commits them (a complete generation:
their files are in the index) and opens the next writer. A run killed or failed later
leaves a usable index, and the next run's plan embeds only the files not yet committed.
Must not import textual or torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..records import Chunk
from ..store.chunk_table import ChunkTable, FileRecord
from ..store.writer import SegmentWriter, StageCallback


class RollingWriter:
    """A ``SegmentWriter`` that commits every ``commit_every`` chunks and goes on.

    Args:
        full: the first commit starts from nothing (see ``SegmentWriter``).
        manifest: the manifest of each commit; dimension: of the vectors.
        cancel: stops a commit under way (``Cancelled``; see ``SegmentWriter``).
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        full: bool,
        commit_every: int,
        manifest: Callable[[], dict[str, Any]],
        dimension: Callable[[], int],
        on_stage: StageCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._index_dir = index_dir
        self._commit_every = commit_every
        self._manifest = manifest
        self._dimension = dimension
        self._on_stage = on_stage
        self._cancel = cancel
        self._writer = SegmentWriter(index_dir, full=full, on_stage=on_stage, cancel=cancel)
        self._since_commit = 0
        self.commits = 0  # made before the last one

    @property
    def table(self) -> ChunkTable:
        return self._writer.table

    def remove_file(self, path: str) -> None:
        self._writer.remove_file(path)

    def add_file(self, record: FileRecord, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Store a file's chunks; commit once ``commit_every`` chunks wait."""
        self._writer.add_file(record, chunks, vectors)
        self._since_commit += len(chunks)
        if self._since_commit >= self._commit_every:
            self._writer.commit(self._manifest(), self._dimension())
            self.commits += 1
            self._since_commit = 0
            self._writer = SegmentWriter(
                self._index_dir, full=False, on_stage=self._on_stage, cancel=self._cancel
            )

    def commit(self, manifest: dict[str, Any], dimension: int) -> dict[str, Any]:
        """Commit what is left (see ``SegmentWriter.commit``)."""
        return self._writer.commit(manifest, dimension)

    def abandon(self) -> None:
        """Roll back what came since the last commit; earlier commits stay."""
        self._writer.abandon()
