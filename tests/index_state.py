"""Test helpers that read the index on disk: its commit generation and segment folders."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from assistant.store.commits import INDEX_DB, SEGMENTS


def rows(index: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of a query on the commit point, read-only."""
    db = sqlite3.connect(f"file:{index / INDEX_DB}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def committed(index: Path) -> int:
    """The latest commit generation; 0 when none (or no index at all)."""
    if not (index / INDEX_DB).exists():
        return 0
    return int(rows(index, "SELECT coalesce(max(generation), 0) FROM commits")[0][0])


def live_segments(index: Path) -> list[str]:
    return [r[0] for r in rows(index, "SELECT name FROM segments WHERE dropped IS NULL")]


def on_disk(index: Path) -> list[str]:
    folder = index / SEGMENTS
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def orphans(index: Path) -> list[str]:
    """Segment folders no commit lists, half-written ones, and old-format leftovers."""
    listed = (
        {r[0] for r in rows(index, "SELECT name FROM segments")}
        if (index / INDEX_DB).exists()
        else set()
    )
    stray = [n for n in on_disk(index) if n not in listed]
    old = [p.name for p in index.iterdir() if p.name.startswith("gen-") or p.name == "CURRENT"]
    return stray + old if index.is_dir() else stray
