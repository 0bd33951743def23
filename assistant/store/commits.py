"""The commit point of the index: one SQLite database (WAL, synchronous=FULL).

Layout: ``index/index.sqlite`` holds the chunk, file and skipped tables, the segment
list, the tombstones (chunks of a segment that a later update replaced or deleted) and
one row per commit generation with its manifest. ``index/segments/seg-NNNNNN/`` holds
one immutable segment's vectors (``vectors.faiss``) and BM25 postings (``bm25/``).

A writer builds a segment in ``segments/.tmp-seg-NNNNNN``, fsyncs its files, renames it
into place and fsyncs the folder; only then does one SQLite transaction list it, add or
delete rows and tombstones and insert the commit row. A crash at any instant leaves the
last committed generation or the new one; a folder no commit lists is an orphan, deleted
by the next writer (``clean_up``). Readers pin one commit: they hold a read transaction,
so WAL shows them that commit whatever is committed after. Segments a commit drops are
kept until the commit after it, for a reader that pinned the one before and is still
loading their files. Nothing here is pickled or executed. Must not import textual or
torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import REBUILD_HINT, IndexCorruptError, IndexMissingError, UsageError

INDEX_DB = "index.sqlite"
SEGMENTS = "segments"
VECTORS = "vectors.faiss"
TRAINED = "ivf-trained.faiss"  # an IVF segment's training, shared by later segments
BM25_DIR = "bm25"
# 2 and 3: generations (gen-NNNNNN folders named by CURRENT; 3 added the chunks' ocr
# column); 4: segments and one SQLite commit point, chunk rows with the ocr column. (An
# early segmented index said 3 too, without the ocr column: it is rebuilt as older.)
FORMAT_VERSION = 5  # 5: each file's and chunk's language
OLD_FORMAT = "the index is in an older format (whole generations); it is rebuilt as segments"
OLDER_SEGMENTS = "the index is in an older format (of an earlier version); it is rebuilt"
_SEGMENT = re.compile(r"^seg-(\d{6})$")
_SEGMENT_FOLDER = re.compile(r"^(?:\.tmp-)?seg-\d{6}$")  # what cleanup may delete in segments/
# What a folder holds before its first commit: the index/ folder's .gitignore, the update
# lock, the encoder export made on a first update (embedding/export.py).
_BEFORE_FIRST_COMMIT = re.compile(r"^(?:\.gitignore|\.lock|encoder-.+)$")
_OLD_GENERATION = re.compile(r"^gen-\d{6}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
    generation INTEGER PRIMARY KEY,
    manifest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY,
    rows INTEGER NOT NULL,
    added INTEGER NOT NULL,      -- the generation that listed it
    dropped INTEGER,             -- the generation that merged or replaced it away
    vector_index TEXT NOT NULL   -- "Flat" or "IVF1024,SQ8 nprobe=8"
);
CREATE TABLE IF NOT EXISTS tombstones (
    chunk_id INTEGER PRIMARY KEY,  -- a deleted chunk still in a listed segment
    generation INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class SegmentRow:
    """One listed segment: its folder name, rows written, generations, vector index."""

    name: str
    rows: int
    added: int
    dropped: int | None
    vector_index: str


def connect(index_dir: Path, *, write: bool) -> sqlite3.Connection:
    """A connection to the commit point, in autocommit mode (transactions are explicit).

    Raises:
        IndexMissingError: reading, and no index was built (or only an old-format one,
            reported as IndexCorruptError so that it is rebuilt, never misread).
    """
    path = index_dir / INDEX_DB
    if not write and not path.exists():
        if is_old_format(index_dir):
            raise IndexCorruptError(OLD_FORMAT, "rebuild it: excerpta index")
        raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        if write:
            db.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"index database {path} unreadable: {exc}", REBUILD_HINT) from exc
    return db


def is_old_format(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index of generations (formats 2 and 3: CURRENT and
    gen-* folders)."""
    return (index_dir / "CURRENT").exists() and not (index_dir / INDEX_DB).exists()


def claim_index_folder(index_dir: Path) -> None:
    """Check that an update may write (and clean up) in ``index_dir``: it is missing,
    empty, or already an Excerpta index. A writer deletes what no commit lists, so a
    folder of someone's own files is never taken for an index.

    Raises:
        UsageError: the folder holds files and no Excerpta index.
    """
    if index_dir.exists() and not index_dir.is_dir():
        raise UsageError(
            f"the index folder {index_dir} is a file", hint="give --index a folder's path"
        )
    if not index_dir.is_dir() or (index_dir / INDEX_DB).exists() or is_old_format(index_dir):
        return
    foreign = sorted(p.name for p in index_dir.iterdir() if not _BEFORE_FIRST_COMMIT.match(p.name))
    if foreign:
        raise UsageError(
            f"{index_dir} is not an Excerpta index and holds other files ({foreign[0]}, ...)",
            hint="give --index an empty or new folder, or one Excerpta made",
        )


def latest_generation(db: sqlite3.Connection) -> int:
    """The newest commit generation, 0 when nothing was committed."""
    try:
        value = db.execute("SELECT max(generation) FROM commits").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"index database unreadable: {exc}", REBUILD_HINT) from exc
    return int(value or 0)


def manifest_of(db: sqlite3.Connection, generation: int) -> dict[str, Any]:
    """The manifest a commit recorded (see ``read_manifest``)."""
    row = db.execute("SELECT manifest FROM commits WHERE generation = ?", (generation,))
    found = row.fetchone()
    try:
        manifest = json.loads(found[0]) if found else None
    except ValueError as exc:
        raise IndexCorruptError(f"index manifest unreadable: {exc}", REBUILD_HINT) from exc
    found_format = manifest.get("format") if isinstance(manifest, dict) else None
    if isinstance(found_format, int) and found_format < FORMAT_VERSION:
        raise IndexCorruptError(OLDER_SEGMENTS, REBUILD_HINT)
    if not isinstance(manifest, dict) or found_format != FORMAT_VERSION:
        raise IndexCorruptError("index manifest is not one this version reads", REBUILD_HINT)
    return manifest


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the latest commit.

    Raises:
        IndexMissingError: no index has been built.
        IndexCorruptError: the commit point can't be read, or is of another format.
    """
    db = connect(index_dir, write=False)
    try:
        generation = latest_generation(db)
        if generation == 0:
            raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
        return manifest_of(db, generation)
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"index database unreadable: {exc}", REBUILD_HINT) from exc
    finally:
        db.close()


def committed_generation(index_dir: Path) -> int:
    """The latest commit generation (0 for none); cheap enough to poll."""
    if not (index_dir / INDEX_DB).exists():
        return 0
    try:
        db = connect(index_dir, write=False)
    except IndexCorruptError:
        return 0
    try:
        return latest_generation(db)
    except IndexCorruptError:
        return 0
    finally:
        db.close()


def live_segments(db: sqlite3.Connection) -> list[SegmentRow]:
    """The segments of the commit this connection sees, oldest first."""
    rows = db.execute(
        "SELECT name, rows, added, dropped, vector_index FROM segments"
        " WHERE dropped IS NULL ORDER BY name"
    )
    return [SegmentRow(*row) for row in rows]


def segments_complete(index_dir: Path, db: sqlite3.Connection) -> bool:
    """A cheap check that no file of a listed segment is missing or empty."""
    needed = (VECTORS, f"{BM25_DIR}/chunk_ids.npy")
    try:
        return all(
            (segment_folder(index_dir, s.name) / name).stat().st_size > 0
            for s in live_segments(db)
            for name in needed
        )
    except OSError:
        return False


def trained_vectors(index_dir: Path, db: sqlite3.Connection) -> Path | None:
    """The saved IVF training of the largest listed segment that has one, if any."""
    for segment in sorted(live_segments(db), key=lambda s: -s.rows):
        path = segment_folder(index_dir, segment.name) / TRAINED
        if path.is_file():
            return path
    return None


def segment_folder(index_dir: Path, name: str) -> Path:
    return index_dir / SEGMENTS / name


def next_segment_name(index_dir: Path, db: sqlite3.Connection) -> str:
    """A name no listed segment and no folder has used (numbers only grow)."""
    numbers = [
        int(m.group(1))
        for (n,) in db.execute("SELECT name FROM segments")
        if (m := _SEGMENT.match(n))
    ]
    folder = index_dir / SEGMENTS
    if folder.is_dir():
        numbers += [
            int(m.group(1))
            for p in folder.iterdir()
            if (m := _SEGMENT.match(p.name.removeprefix(".tmp-")))
        ]
    start = max(max(numbers, default=0) + 1, meta_int(db, "next_segment", 1))
    return f"seg-{start:06d}"


def meta_int(db: sqlite3.Connection, key: str, default: int) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else default


def set_meta(db: sqlite3.Connection, key: str, value: int) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))


def tombstoned(db: sqlite3.Connection) -> np.ndarray:
    """Every deleted chunk id still held by a listed segment, sorted."""
    rows = db.execute("SELECT chunk_id FROM tombstones ORDER BY chunk_id").fetchall()
    return np.asarray([r[0] for r in rows], dtype=np.int64)


def publish_segment(temporary: Path, final: Path) -> None:
    """Sync a segment written in ``temporary`` and rename it to ``final`` (not yet listed)."""
    for path in sorted(temporary.rglob("*"), reverse=True):
        fsync_path(path)
    fsync_path(temporary)
    os.replace(temporary, final)
    fsync_path(final.parent)


def clean_up(index_dir: Path, *, just_committed: bool = False) -> list[str]:
    """Delete what no commit needs: orphan and half-written segment folders, segments
    the latest commit no longer lists, and an old-format index's folders once a new one
    is committed. Call it only holding the index lock. Returns the names deleted.

    ``just_committed``: called right after a commit, so keep the segments that commit
    dropped, for a reader that pinned the one before and may still be loading them; the
    next writer's open deletes them (open readers have them in memory by then, and one
    still opening retries).
    """
    if not (index_dir / INDEX_DB).exists():
        return []
    db = connect(index_dir, write=True)
    try:
        latest = latest_generation(db)
        expiry = latest if just_committed else latest + 1
        db.execute("BEGIN IMMEDIATE")
        expired = [
            n
            for (n,) in db.execute(
                "SELECT name FROM segments WHERE dropped IS NOT NULL AND dropped < ?", (expiry,)
            )
        ]
        db.execute("DELETE FROM segments WHERE dropped IS NOT NULL AND dropped < ?", (expiry,))
        db.execute("DELETE FROM commits WHERE generation < ?", (latest - 1,))
        db.execute("COMMIT")
        listed = {n for (n,) in db.execute("SELECT name FROM segments")}
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"index database unreadable: {exc}", REBUILD_HINT) from exc
    finally:
        db.close()
    deleted: list[str] = []
    folder = index_dir / SEGMENTS
    if folder.is_dir():
        for path in folder.iterdir():
            if not _SEGMENT_FOLDER.match(path.name):
                continue  # not a name Excerpta writes: never delete it
            if path.name not in listed or path.name in expired:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
                deleted.append(path.name)
    if latest:
        for path in index_dir.iterdir():
            if _OLD_GENERATION.match(path.name):
                shutil.rmtree(path, ignore_errors=True)
                deleted.append(path.name)
            elif path.name in ("CURRENT", "CURRENT.tmp"):
                path.unlink()
                deleted.append(path.name)
    return deleted


def remove_segment_folders(index_dir: Path) -> None:
    """Delete every segment folder (a full rebuild of an unreadable index), and nothing
    else in ``segments/``."""
    folder = index_dir / SEGMENTS
    if folder.is_dir():
        for path in folder.iterdir():
            if _SEGMENT_FOLDER.match(path.name):
                shutil.rmtree(path, ignore_errors=True)


def fsync_path(path: Path) -> None:
    """fsync a file or a folder."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
