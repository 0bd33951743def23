"""One commit opened for searching: its manifest, chunk table, and segments.

A ``StoredIndex`` pins the commit it opened: it holds a read transaction on the commit
point, so what it reads of the chunk table stays as of that commit, and it has loaded
the segments that commit lists. Must not import textual or torch.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import REBUILD_HINT, IndexChangedError, IndexCorruptError, IndexMissingError
from .chunk_table import ChunkTable
from .commits import (
    committed_generation,
    connect,
    latest_generation,
    live_segments,
    manifest_of,
    segment_folder,
    tombstoned,
)
from .postings import SegmentedLexical
from .segments import Segment, SegmentedVectors

_OPEN_TRIES = 3  # a commit may drop the segments of the one read while loading them


@dataclass
class StoredIndex:
    """One commit opened for reading."""

    manifest: dict[str, Any]
    generation: int
    table: ChunkTable
    vectors: SegmentedVectors
    lexical: SegmentedLexical
    segments: list[Segment]
    _db: sqlite3.Connection

    def close(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction open
        self._db.close()


def open_index(index_dir: Path) -> StoredIndex:
    """Open the latest commit for searching.

    Raises:
        IndexMissingError / IndexCorruptError: with a hint to (re)build.
        IndexChangedError: other processes' commits removed segments while each of
            ``_OPEN_TRIES`` attempts was loading them.
    """
    for attempt in range(_OPEN_TRIES):
        try:
            return _open(index_dir)
        except IndexChangedError:
            if attempt == _OPEN_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _open(index_dir: Path) -> StoredIndex:
    db = connect(index_dir, write=False)
    try:
        db.execute("BEGIN")  # the snapshot starts with the first read below
        generation = latest_generation(db)
        if generation == 0:
            raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
        manifest = manifest_of(db, generation)
        table = ChunkTable(db)
        rows = live_segments(db)
        dead = tombstoned(db)
        segments = _load_segments(index_dir, generation, [row.name for row in rows])
        dead_ids = [np.intersect1d(dead, s.ids, assume_unique=True) for s in segments]
        vectors = SegmentedVectors(segments, dead_ids)
        lexical = SegmentedLexical(
            [s.postings for s in segments],
            [_dead_rows(s, d) for s, d in zip(segments, dead_ids, strict=True)],
            table.languages(),
        )
        if len(vectors) != table.count() or (
            len(segments) and vectors.dimension != manifest.get("dimension")
        ):
            raise IndexCorruptError("index files disagree with each other", REBUILD_HINT)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise IndexCorruptError(f"index database unreadable: {exc}", REBUILD_HINT) from exc
    except BaseException:
        db.close()
        raise
    return StoredIndex(manifest, generation, table, vectors, lexical, segments, db)


def _load_segments(index_dir: Path, generation: int, names: list[str]) -> list[Segment]:
    """Load the segments of commit ``generation``; a segment that fails to load because a
    later commit dropped it and a writer deleted its files is IndexChangedError."""
    try:
        return [Segment.load(segment_folder(index_dir, name)) for name in names]
    except IndexCorruptError as exc:
        if committed_generation(index_dir) == generation:
            raise  # nothing committed since: the files are damaged
        raise IndexChangedError(
            f"the index changed while it was being opened ({exc.message})",
            hint="run it again",
        ) from exc


def _dead_rows(segment: Segment, dead: np.ndarray) -> np.ndarray | None:
    """A mask of the segment's postings rows whose chunk ids are deleted."""
    if len(dead) == 0:
        return None
    at = np.minimum(np.searchsorted(dead, segment.postings.ids), len(dead) - 1)
    return np.asarray(dead[at] == segment.postings.ids)
