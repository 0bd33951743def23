"""Generations: the commit point of the index on disk.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import REBUILD_HINT, IndexCorruptError, IndexMissingError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS_DB = "chunks.sqlite"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
# 2: chunks carry their heading path and first column; BM25 indexes the reading text.
# 3: chunks say whether their text was read by OCR.
FORMAT_VERSION = 3
_GENERATION = re.compile(r"^gen-(\d{6})$")


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when no index was ever committed."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: not even text
        raise IndexCorruptError(f"cannot read {index_dir / CURRENT}: {exc}", REBUILD_HINT) from exc
    if not _GENERATION.match(name):
        raise IndexCorruptError(f"{index_dir / CURRENT} is damaged", REBUILD_HINT)
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
    return read_generation_manifest(generation)


def read_generation_manifest(generation: Path) -> dict[str, Any]:
    """The manifest of one generation folder (see ``read_manifest``)."""
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest unreadable: {exc}", REBUILD_HINT) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError("index manifest is not one this version reads", REBUILD_HINT)
    return manifest


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


def commit_generation(
    index_dir: Path,
    generation: Path,
    manifest: dict[str, Any],
    *,
    on_stage: Callable[[str], None] | None = None,
) -> None:
    """Make ``generation`` live: write its manifest, sync, then swap CURRENT atomically.

    ``on_stage`` is told "swap" (CURRENT.tmp written, not yet renamed) and "prune" (the
    new generation live, old ones not yet deleted).
    """
    report = on_stage or (lambda stage: None)
    _write_synced(generation / MANIFEST, json.dumps(manifest, indent=2).encode())
    for name in (CHUNKS_DB, VECTORS):
        _fsync_file(generation / name)
    _fsync_dir(generation)
    tmp = index_dir / f"{CURRENT}.tmp"
    _write_synced(tmp, generation.name.encode())
    report("swap")
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    report("prune")
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
