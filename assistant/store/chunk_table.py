"""The SQLite chunk and file tables: what each chunk says and where.

They live in the commit point's database (commits.py); a ``ChunkTable`` reads and
writes them through a connection it is given, inside its owner's transaction.

Must not import textual or torch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

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
    chunks INTEGER NOT NULL,
    lang TEXT NOT NULL DEFAULT ''
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
    ocr INTEGER NOT NULL DEFAULT 0,
    lang TEXT NOT NULL DEFAULT ''
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
    language: str = ""  # ISO 639-1, or "" when unknown


class ChunkTable:
    """The SQLite chunk and file tables, through one connection."""

    def __init__(self, db: sqlite3.Connection, *, write: bool = False) -> None:
        self._db = db
        try:
            if write:
                db.executescript(_SCHEMA)
            else:
                # A readable table, not a count: counting reads a whole index at 1M rows.
                db.execute("SELECT id FROM chunks LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chunk table unreadable: {exc}", REBUILD_HINT) from exc

    def files(self) -> dict[str, FileRecord]:
        rows = self._db.execute(
            "SELECT path, content_hash, size, mtime_ns, chunks, lang FROM files"
        )
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
        # A file's language is its chunks' (they are all detected as one document).
        language = chunks[0].language if chunks else record.language
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.path,
                record.content_hash,
                record.size,
                record.mtime_ns,
                record.chunks,
                language,
            ),
        )
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    c.language,
                )
                for c, h in zip(chunks, hashes, strict=True)
            ],
        )

    def count(self) -> int:
        """Chunk rows, counted (at a million chunks SQLite reads a whole index for it)."""
        return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def languages(self) -> dict[str, int]:
        """Documents per language ("" for those too short to tell), most first."""
        rows = self._db.execute(
            "SELECT lang, count(*) FROM files GROUP BY lang ORDER BY count(*) DESC, lang"
        )
        return {row[0]: int(row[1]) for row in rows}

    def file_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM files").fetchone()[0])

    def total_chunks(self) -> int:
        """Chunks as the file rows record them: one row per file to read, not per chunk."""
        return int(self._db.execute("SELECT total(chunks) FROM files").fetchone()[0])

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
                f"heading, col, ocr, lang FROM chunks WHERE id IN ({marks})",
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
                    language=row[11],
                )
        return found

    def texts_in_id_order(self, first: int = 0) -> Iterator[tuple[int, str, str]]:
        """Each chunk's text as it is searched (``passage_text``) and its language, in id
        order, from id ``first`` on."""
        rows = self._db.execute(
            "SELECT id, heading, text, col, lang FROM chunks WHERE id >= ? ORDER BY id", (first,)
        )
        for chunk_id, heading, text, column, language in rows:
            yield chunk_id, passage_text(heading, text, column), language

    def texts_of(self, ids: np.ndarray) -> Iterator[tuple[int, str, str]]:
        """``texts_in_id_order`` for the rows among ``ids`` (sorted) that still exist."""
        if len(ids) == 0:
            return
        for chunk_id, text, language in self.texts_in_id_order(int(ids[0])):
            if chunk_id > ids[-1]:
                break
            at = int(np.searchsorted(ids, chunk_id))
            if at < len(ids) and ids[at] == chunk_id:
                yield chunk_id, text, language
