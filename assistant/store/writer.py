"""Writing one update: a new segment for what came, tombstones for what left, one commit.

A ``SegmentWriter`` opens a write transaction on the commit point, deletes the rows of
removed and changed files (tombstoning their chunk ids, still in older segments), adds
new chunk rows numbered from a counter that never goes back, and collects their
vectors. ``commit`` writes the new segment's BM25 postings and vectors into a temporary
folder, syncs and renames it, then commits the transaction that lists it with the new
generation's manifest (see commits.py). It reports each stage through ``on_stage``
before doing it ("bm25", "vectors", "rename", "commit", "prune"), so a caller can show
progress or a test can stop there; an error or Ctrl-C before the SQLite commit leaves
the previous commit as it was. A set ``cancel`` event raises ``Cancelled`` between
stages and between BM25 batches and vector blocks, with the same effect (the caller
abandons the writer). Must not import textual or torch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Chunk
from .bm25_write import write_bm25
from .cancel import checkpoint
from .chunk_table import ChunkTable, FileRecord
from .commits import (
    BM25_DIR,
    FORMAT_VERSION,
    INDEX_DB,
    SEGMENTS,
    TRAINED,
    VECTORS,
    clean_up,
    connect,
    latest_generation,
    live_segments,
    manifest_of,
    meta_int,
    next_segment_name,
    publish_segment,
    remove_segment_folders,
    set_meta,
    trained_vectors,
)
from .vectors import VectorIndex

StageCallback = Callable[[str], None]
"""Called with a stage name ("bm25", "vectors", "rename", "commit", "prune") before it."""


class SegmentWriter:
    """Builds one commit of the index in ``index_dir``.

    Args:
        full: start from nothing (every listed segment is dropped by this commit).
        on_stage: told each stage's name before the stage runs.
        cancel: once set, ``commit`` raises ``Cancelled`` at its next check; then call
            ``abandon``.
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        full: bool,
        on_stage: StageCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._index_dir = index_dir
        self._on_stage = on_stage or (lambda stage: None)
        self._cancel = cancel
        self._db = _open_for_writing(index_dir, full=full)
        self._temporary: Path | None = None
        self._published: Path | None = None
        self._committed = False
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self.table = ChunkTable(self._db)
            self.generation = latest_generation(self._db) + 1
            if full:
                for name in ("chunks", "files", "skipped", "tombstones"):
                    self._db.execute(f"DELETE FROM {name}")
                self._db.execute(
                    "UPDATE segments SET dropped = ? WHERE dropped IS NULL", (self.generation,)
                )
        except BaseException:
            self._db.close()
            raise
        self._next_id = max(meta_int(self._db, "next_chunk_id", 0), self.table.max_id() + 1)
        self._first_id = self._next_id
        self.vectors: VectorIndex | None = None
        # An index past the flat limit trained IVF once; this segment's vectors share it.
        self._trained = None if full else trained_vectors(index_dir, self._db)

    def remove_file(self, path: str) -> None:
        """Drop a file's chunks (it was deleted, changed or became unreadable)."""
        ids = self.table.chunk_ids(path)
        self._db.executemany(
            "INSERT OR REPLACE INTO tombstones VALUES (?, ?)",
            [(i, self.generation) for i in ids if i < self._first_id],
        )
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
                self.vectors = self._new_vectors(int(vectors.shape[1]))
            self.vectors.add([c.id for c in numbered], vectors)

    def _new_vectors(self, dimension: int) -> VectorIndex:
        # VectorIndex.optimize's temporary file goes in the index folder, not /tmp.
        if self._trained is not None:
            shared = VectorIndex.load_trained(self._trained, scratch=self._index_dir)
            if shared.dimension == dimension:
                return shared
        return VectorIndex.empty(dimension, scratch=self._index_dir)

    def commit(self, manifest: dict[str, Any], dimension: int) -> dict[str, Any]:
        """Write the new segment, then commit: this generation is live once it returns.

        Returns ``manifest`` completed with the vector index, chunk, file and segment
        counts, as committed. ``dimension``: of the vectors, used when there are none.

        Raises:
            Cancelled: ``cancel`` was set before the SQLite commit; call ``abandon``.
        """
        if self.vectors is not None and len(self.vectors):
            self._write_segment(self.vectors)
            dimension = self.vectors.dimension
        elif live_segments(self._db):  # only removals: the listed segments' dimension
            dimension = int(manifest_of(self._db, self.generation - 1).get("dimension", 0))
        set_meta(self._db, "next_chunk_id", self._next_id)
        manifest = complete_manifest(self._db, manifest, dimension)
        record_commit(self._db, self.generation, manifest)
        self._on_stage("commit")
        checkpoint(self._cancel)  # the last chance: once committed, it is the index
        self._db.execute("COMMIT")
        self._committed = True
        self._db.close()
        self._on_stage("prune")
        clean_up(self._index_dir, just_committed=True)
        return manifest

    def _write_segment(self, vectors: VectorIndex) -> None:
        name = next_segment_name(self._index_dir, self._db)
        self._temporary = self._index_dir / SEGMENTS / f".tmp-{name}"
        self._temporary.mkdir(parents=True)
        self._on_stage("bm25")
        write_bm25(
            self._temporary / BM25_DIR,
            self.table.texts_in_id_order(self._first_id),
            term_frequencies=True,
            cancel=self._cancel,
        )
        self._on_stage("vectors")
        checkpoint(self._cancel)
        vectors.optimize(cancel=self._cancel)  # flat while small, IVF-SQ8 once large
        checkpoint(self._cancel)
        vectors.save(self._temporary / VECTORS)
        if not vectors.shares_training:  # the segment it shares with keeps the file
            vectors.save_trained(self._temporary / TRAINED)
        self._on_stage("rename")
        checkpoint(self._cancel)
        final = self._index_dir / SEGMENTS / name
        publish_segment(self._temporary, final)
        self._temporary, self._published = None, final
        list_segment(self._db, name, len(vectors), self.generation, vectors.description)

    def abandon(self) -> None:
        """Roll back, and delete this writer's segment folder unless it was committed."""
        if self._committed:
            return
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # already rolled back or closed: nothing to undo
        self._db.close()
        for folder in (self._temporary, self._published):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _open_for_writing(index_dir: Path, *, full: bool) -> sqlite3.Connection:
    """The commit point, opened to write. A full rebuild starts a new one in place of a
    database too damaged to open (it answered nothing anyway)."""
    try:
        db = connect(index_dir, write=True)
        try:
            if full:
                _check_format(db)  # an older one's tables lack columns: start anew
            ChunkTable(db, write=True)
            latest_generation(db)
        except BaseException:
            db.close()
            raise
        return db
    except IndexCorruptError:
        if not full:
            raise
    for suffix in ("", "-wal", "-shm", "-journal"):
        (index_dir / f"{INDEX_DB}{suffix}").unlink(missing_ok=True)
    remove_segment_folders(index_dir)
    db = connect(index_dir, write=True)
    ChunkTable(db, write=True)
    return db


def _check_format(db: sqlite3.Connection) -> None:
    """Raise IndexCorruptError if the latest commit is of another format than this one."""
    generation = latest_generation(db)
    if generation:
        manifest_of(db, generation)


def list_segment(db: Any, name: str, rows: int, generation: int, description: str) -> None:
    """Add a published segment to the list of the commit being written."""
    db.execute(
        "INSERT INTO segments VALUES (?, ?, ?, NULL, ?)", (name, rows, generation, description)
    )
    set_meta(db, "next_segment", int(name.removeprefix("seg-")) + 1)


def complete_manifest(db: Any, manifest: dict[str, Any], dimension: int) -> dict[str, Any]:
    """``manifest`` with the counts and vector index of what the transaction now lists."""
    segments = live_segments(db)
    kinds = sorted({s.vector_index for s in segments}, key=lambda k: (k != "Flat", k))
    return {
        **manifest,
        "format": FORMAT_VERSION,
        "dimension": dimension,
        "vector_index": kinds[-1] if kinds else "Flat",
        "segments": len(segments),
        "chunks": ChunkTable(db).total_chunks(),
        "files": ChunkTable(db).file_count(),
        "languages": ChunkTable(db).languages(),  # documents per language
    }


def record_commit(db: Any, generation: int, manifest: dict[str, Any]) -> None:
    db.execute("INSERT INTO commits VALUES (?, ?)", (generation, json.dumps(manifest)))
