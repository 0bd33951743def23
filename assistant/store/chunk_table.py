"""The SQLite chunk and file tables of one generation: what each chunk says and where.

Must not import textual or torch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError
from ..records import Chunk
from ..text.reflow import passage_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    chunks INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    page INTEGER,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    heading TEXT NOT NULL DEFAULT '',
    col INTEGER NOT NULL DEFAULT 0,
    ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks(path);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""


_IDS_OF_PATH = "SELECT id FROM chunks WHERE path = ?"


@dataclass(frozen=True)
class FileRecord:
    """What the index remembers of one source file."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int
    chunks: int


class ChunkTable:
    """The SQLite chunk and file tables of one generation."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        try:
            if read_only:
                if not path.exists():
                    raise IndexCorruptError(f"missing {path}", REBUILD_HINT)
                uri = f"file:{path}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._db.execute("SELECT count(*) FROM chunks").fetchone()
            else:
                self._db = sqlite3.connect(path, check_same_thread=False)
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chunk table {path} unreadable: {exc}", REBUILD_HINT) from exc

    def close(self) -> None:
        self._db.close()

    def files(self) -> dict[str, FileRecord]:
        rows = self._db.execute("SELECT path, content_hash, size, mtime_ns, chunks FROM files")
        return {row[0]: FileRecord(*row) for row in rows}

    def skipped(self) -> dict[str, tuple[FileRecord, str]]:
        """Files that could not be read last time, so unchanged ones aren't retried."""
        try:
            rows = self._db.execute(
                "SELECT path, content_hash, size, mtime_ns, reason FROM skipped"
            ).fetchall()
        except sqlite3.OperationalError:  # an index from before this table existed
            return {}
        return {row[0]: (FileRecord(row[0], row[1], row[2], row[3], 0), row[4]) for row in rows}

    def set_skipped(self, record: FileRecord, reason: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?, ?)",
            (record.path, record.content_hash, record.size, record.mtime_ns, reason),
        )

    def clear_skipped(self, path: str) -> None:
        self._db.execute("DELETE FROM skipped WHERE path = ?", (path,))

    def chunk_ids(self, path: str) -> list[int]:
        rows = self._db.execute("SELECT id FROM chunks WHERE path = ?", (path,))
        return [row[0] for row in rows]

    def chunk_ids_of(self, paths: Iterable[str]) -> np.ndarray:
        """The chunk ids of these files, as one int64 array (for a scope's selection)."""
        found: list[int] = []
        for path in paths:
            found.extend(row[0] for row in self._db.execute(_IDS_OF_PATH, (path,)))
        return np.asarray(found, dtype=np.int64)

    def remove_file(self, path: str) -> None:
        self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
        self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    def add_file(self, record: FileRecord, chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (record.path, record.content_hash, record.size, record.mtime_ns, record.chunks),
        )
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    c.id,
                    c.path,
                    c.char_start,
                    c.char_end,
                    c.start_line,
                    c.end_line,
                    c.page,
                    c.text,
                    h,
                    c.heading,
                    c.column,
                    int(c.ocr),
                )
                for c, h in zip(chunks, hashes, strict=True)
            ],
        )

    def commit(self) -> None:
        self._db.commit()

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def max_id(self) -> int:
        value = self._db.execute("SELECT max(id) FROM chunks").fetchone()[0]
        return -1 if value is None else int(value)

    def get(self, ids: Iterable[int]) -> dict[int, Chunk]:
        wanted = list(ids)
        found: dict[int, Chunk] = {}
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                "SELECT id, path, text, char_start, char_end, start_line, end_line, page, "
                f"heading, col, ocr FROM chunks WHERE id IN ({marks})",
                batch,
            )
            for row in rows:
                found[row[0]] = Chunk(
                    id=row[0],
                    path=row[1],
                    text=row[2],
                    char_start=row[3],
                    char_end=row[4],
                    start_line=row[5],
                    end_line=row[6],
                    page=row[7],
                    heading=row[8],
                    column=row[9],
                    ocr=bool(row[10]),
                )
        return found

    def texts_in_id_order(self) -> Iterator[tuple[int, str]]:
        """Each chunk's text as it is searched (``passage_text``), in id order."""
        rows = self._db.execute("SELECT id, heading, text, col FROM chunks ORDER BY id")
        for chunk_id, heading, text, column in rows:
            yield chunk_id, passage_text(heading, text, column)

    def copy_to(self, path: Path) -> None:
        """Write a consistent copy of this table to ``path`` (SQLite's backup API)."""
        target = sqlite3.connect(path)
        with target:
            self._db.backup(target)
        target.close()
