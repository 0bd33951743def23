"""The index on disk: FAISS vectors, the SQLite chunk table, BM25 and a manifest.

Layout: ``index/CURRENT`` names the live generation folder (``gen-000007``), which holds
``manifest.json``, ``chunks.sqlite``, ``vectors.faiss`` and ``bm25/``. An update writes a
whole new generation and then replaces CURRENT atomically, so a crash or Ctrl-C at any
moment leaves the previous index loadable, and readers always see one consistent
generation. Nothing here is pickled or executed. faiss and bm25s are imported lazily.
Must not import textual or torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IndexCorruptError, IndexMissingError
from .records import Chunk
from .vectors import VectorIndex as VectorIndex  # re-exported: it lived here

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS_DB = "chunks.sqlite"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
FORMAT_VERSION = 1
_GENERATION = re.compile(r"^gen-(\d{6})$")
_REBUILD_HINT = "rebuild it: excerpta index --full"

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
    content_hash TEXT NOT NULL
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


@dataclass(frozen=True)
class FileRecord:
    """What the index remembers of one source file."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int
    chunks: int


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no index was ever committed."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: not even text
        raise IndexCorruptError(f"cannot read {index_dir / CURRENT}: {exc}", _REBUILD_HINT) from exc
    if not _GENERATION.match(name):
        raise IndexCorruptError(f"{index_dir / CURRENT} is damaged", _REBUILD_HINT)
    return index_dir / name


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the live generation.

    Raises:
        IndexMissingError: no index has been built.
        IndexCorruptError: the manifest can't be read.
    """
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
    return _read_generation_manifest(generation)


def _read_generation_manifest(generation: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest unreadable: {exc}", _REBUILD_HINT) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError("index manifest is not one this version reads", _REBUILD_HINT)
    return manifest


class ChunkTable:
    """The SQLite chunk and file tables of one generation."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        try:
            if read_only:
                if not path.exists():
                    raise IndexCorruptError(f"missing {path}", _REBUILD_HINT)
                uri = f"file:{path}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._db.execute("SELECT count(*) FROM chunks").fetchone()
            else:
                self._db = sqlite3.connect(path, check_same_thread=False)
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chunk table {path} unreadable: {exc}", _REBUILD_HINT) from exc

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

    def remove_file(self, path: str) -> None:
        self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
        self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    def add_file(self, record: FileRecord, chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (record.path, record.content_hash, record.size, record.mtime_ns, record.chunks),
        )
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                "SELECT id, path, text, char_start, char_end, start_line, end_line, page "
                f"FROM chunks WHERE id IN ({marks})",
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
                )
        return found

    def texts_in_id_order(self) -> Iterator[tuple[int, str]]:
        yield from self._db.execute("SELECT id, text FROM chunks ORDER BY id")

    def copy_to(self, path: Path) -> None:
        """Write a consistent copy of this table to ``path`` (SQLite's backup API)."""
        target = sqlite3.connect(path)
        with target:
            self._db.backup(target)
        target.close()


def generation_is_complete(generation: Path) -> bool:
    """A cheap check that no file of the generation is missing or empty."""
    needed = (MANIFEST, CHUNKS_DB, VECTORS, f"{BM25_DIR}/chunk_ids.npy")
    try:
        return all((generation / name).stat().st_size > 0 for name in needed)
    except OSError:
        return False


def new_generation(index_dir: Path) -> Path:
    """Create the folder for the next generation (not yet live)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GENERATION.match(p.name))]
    path = index_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    path.mkdir()
    return path


def commit_generation(index_dir: Path, generation: Path, manifest: dict[str, Any]) -> None:
    """Make ``generation`` live: write its manifest, sync, then swap CURRENT atomically."""
    _write_synced(generation / MANIFEST, json.dumps(manifest, indent=2).encode())
    for name in (CHUNKS_DB, VECTORS):
        _fsync_file(generation / name)
    _fsync_dir(generation)
    tmp = index_dir / f"{CURRENT}.tmp"
    _write_synced(tmp, generation.name.encode())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    prune_generations(index_dir, keep=2)


def prune_generations(index_dir: Path, *, keep: int) -> None:
    """Delete old and abandoned generations, keeping the live one and its predecessor.

    The predecessor stays because a reader may have opened it just before the swap.
    """
    live = current_generation(index_dir)
    generations = sorted(p for p in index_dir.iterdir() if _GENERATION.match(p.name))
    if live is None:
        return
    older = [p for p in generations if p.name < live.name]
    keep_older = set(older[-(keep - 1) :]) if keep > 1 else set()
    for path in generations:
        if path != live and path not in keep_older:
            shutil.rmtree(path, ignore_errors=True)


def discard_generation(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_file(path: Path) -> None:
    if path.exists():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class StoredIndex:
    """One generation opened for reading."""

    manifest: dict[str, Any]
    table: ChunkTable
    vectors: VectorIndex
    lexical: Any  # lexical.LexicalIndex; typed loosely to keep this module below it

    def close(self) -> None:
        self.table.close()


def open_index(index_dir: Path) -> StoredIndex:
    """Open the live generation for searching.

    Raises:
        IndexMissingError / IndexCorruptError: with a hint to (re)build.
    """
    from .lexical import LexicalIndex

    # CURRENT is read once: an update switching it meanwhile can't mix two generations.
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
    manifest = _read_generation_manifest(generation)
    table = ChunkTable(generation / CHUNKS_DB, read_only=True)
    try:
        vectors = VectorIndex.load(generation / VECTORS)
        lexical = LexicalIndex.load(generation / BM25_DIR)
        if len(vectors) != table.count() or vectors.dimension != manifest.get("dimension"):
            raise IndexCorruptError("index files disagree with each other", _REBUILD_HINT)
    except BaseException:
        table.close()
        raise
    return StoredIndex(manifest, table, vectors, lexical)
