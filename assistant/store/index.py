"""One generation opened for searching: its manifest, chunk table, vectors and BM25.

Must not import textual or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import REBUILD_HINT, IndexCorruptError, IndexMissingError
from .bm25 import LexicalIndex
from .chunk_table import ChunkTable
from .generations import BM25_DIR, CHUNKS_DB, VECTORS, current_generation, read_generation_manifest
from .vectors import VectorIndex


@dataclass
class StoredIndex:
    """One generation opened for reading."""

    manifest: dict[str, Any]
    table: ChunkTable
    vectors: VectorIndex
    lexical: LexicalIndex

    def close(self) -> None:
        self.table.close()


def open_index(index_dir: Path) -> StoredIndex:
    """Open the live generation for searching.

    Raises:
        IndexMissingError / IndexCorruptError: with a hint to (re)build.
    """
    # CURRENT is read once: an update switching it meanwhile can't mix two generations.
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir}", hint="build it: excerpta index")
    manifest = read_generation_manifest(generation)
    table = ChunkTable(generation / CHUNKS_DB, read_only=True)
    try:
        vectors = VectorIndex.load(generation / VECTORS)
        lexical = LexicalIndex.load(generation / BM25_DIR)
        if len(vectors) != table.count() or vectors.dimension != manifest.get("dimension"):
            raise IndexCorruptError("index files disagree with each other", REBUILD_HINT)
    except BaseException:
        table.close()
        raise
    return StoredIndex(manifest, table, vectors, lexical)
