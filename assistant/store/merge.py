"""Merging segments: several become one, with deleted chunks dropped.

A tiered policy, as Lucene's: segments are grouped by size (powers of ``MERGE_FACTOR``
rows), and once ``MERGE_FACTOR`` segments share a tier they are merged into one, which
lands in the next tier; so each chunk is rewritten about once per tier, log(N) times in
all. ``compact`` merges every segment into one. A merge writes its segment like an
update (temporary folder, fsync, rename) and commits a new generation that lists it,
drops the merged ones and forgets their tombstones; the chunk ids and rows don't
change. A crash at any instant leaves the commit before or after, and the next writer
deletes the half-written folder; running it again is safe. A set ``cancel`` event stops
it the same way, at its next check (between vector blocks and BM25 batches, before
publishing, before committing): ``Cancelled``, the temporary folder deleted, the previous
commit live. Stages reported: "merge", "merge-rename", "merge-commit", "merge-prune".
Must not import textual or torch.
"""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .bm25_write import write_bm25
from .cancel import checkpoint
from .chunk_table import ChunkTable
from .commits import (
    BM25_DIR,
    SEGMENTS,
    TRAINED,
    VECTORS,
    SegmentRow,
    clean_up,
    connect,
    latest_generation,
    live_segments,
    manifest_of,
    next_segment_name,
    publish_segment,
    segment_folder,
    tombstoned,
    trained_vectors,
)
from .segments import Segment
from .vector_build import outgrows
from .vectors import VectorIndex
from .writer import complete_manifest, list_segment, record_commit

MERGE_FACTOR = 10
_BLOCK = 16_384  # vectors copied at a time


def tier(rows: int) -> int:
    """A segment's size class: 0 below ``MERGE_FACTOR`` rows, 1 below its square, ..."""
    return int(math.log(max(rows, 1), MERGE_FACTOR))


def merge_candidates(segments: list[SegmentRow]) -> list[str]:
    """The segments the tiered policy merges now (the smallest full tier), or none."""
    tiers: dict[int, list[str]] = {}
    for segment in segments:
        tiers.setdefault(tier(segment.rows), []).append(segment.name)
    for _, names in sorted(tiers.items()):
        if len(names) >= MERGE_FACTOR:
            return names
    return []


def outgrown_training(index_dir: Path) -> str:
    """Why every segment's vectors must be merged and trained again, or "": the live
    chunks call for twice the lists of the IVF training the segments share (~4x growth)."""
    db = connect(index_dir, write=False)
    try:
        db.execute("BEGIN")  # one commit's tables
        path = trained_vectors(index_dir, db)
        total = ChunkTable(db).total_chunks()
    finally:
        db.close()
    if path is None:
        return ""
    lists = VectorIndex.load_trained(path).lists
    if not outgrows(lists, total):
        return ""
    return (
        f"the index outgrew its vector training ({total:,} chunks for {lists} IVF lists):"
        " every segment merged and trained again, nothing re-embedded"
    )


def merge_segments(
    index_dir: Path,
    *,
    compact: bool = False,
    on_stage: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Merge what the policy picks (``compact``: every segment, if more than one or any
    holds deleted chunks). Call it holding the index lock. Returns segments merged.

    Raises:
        Cancelled: ``cancel`` was set before the merge committed; the index keeps its
            previous commit and the merge's folder is deleted.
    """
    report = on_stage or (lambda stage: None)
    db = connect(index_dir, write=True)
    try:
        segments = live_segments(db)
        dead = tombstoned(db)
        if compact:
            names = [s.name for s in segments] if len(segments) > 1 or len(dead) else []
        else:
            names = merge_candidates(segments)
        if not names:
            return 0
        name = next_segment_name(index_dir, db)
    finally:
        db.close()
    report("merge")
    temporary = index_dir / SEGMENTS / f".tmp-{name}"
    final = index_dir / SEGMENTS / name
    committed = False
    try:
        checkpoint(cancel)
        loaded = [Segment.load(segment_folder(index_dir, n)) for n in names]
        rows = _write_merged(index_dir, temporary, loaded, dead, cancel)
        report("merge-rename")
        checkpoint(cancel)
        publish_segment(temporary, final)
        db = connect(index_dir, write=True)
        try:
            db.execute("BEGIN IMMEDIATE")
            generation = latest_generation(db) + 1
            marks = ",".join("?" * len(names))
            db.execute(
                f"UPDATE segments SET dropped = ? WHERE name IN ({marks})", (generation, *names)
            )
            description = VectorIndex.load(final / VECTORS).description
            list_segment(db, name, rows, generation, description)
            merged_ids = np.concatenate([s.ids for s in loaded])
            gone = np.intersect1d(dead, merged_ids)
            db.executemany("DELETE FROM tombstones WHERE chunk_id = ?", [(int(i),) for i in gone])
            previous = manifest_of(db, generation - 1)
            manifest = complete_manifest(db, previous, int(previous.get("dimension", 0)))
            record_commit(db, generation, manifest)
            report("merge-commit")
            checkpoint(cancel)  # the last chance: once committed, it is the index
            db.execute("COMMIT")
            committed = True
        finally:
            db.close()
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        if not committed:
            shutil.rmtree(final, ignore_errors=True)
    report("merge-prune")
    clean_up(index_dir, just_committed=True)
    return len(names)


def _write_merged(
    index_dir: Path,
    folder: Path,
    segments: list[Segment],
    dead: np.ndarray,
    cancel: threading.Event | None = None,
) -> int:
    """Write the merged segment's files into ``folder``; returns its rows. ``cancel`` is
    checked between blocks of vectors and batches of BM25, before and after optimizing."""
    folder.mkdir(parents=True)
    # The largest segment's training (IVF, once trained) is kept: no k-means here.
    largest = max(segments, key=lambda s: len(s.vectors)).vectors
    vectors = VectorIndex.trained_like(largest, scratch=index_dir)
    for segment in segments:
        live = np.setdiff1d(segment.ids, dead, assume_unique=True)
        for start in range(0, len(live), _BLOCK):
            checkpoint(cancel)
            block = live[start : start + _BLOCK]
            vectors.add(block, segment.vectors.reconstruct(block))
    live_ids = np.sort(
        np.concatenate([np.setdiff1d(s.ids, dead, assume_unique=True) for s in segments])
    )
    checkpoint(cancel)
    db = connect(index_dir, write=False)
    try:
        db.execute("BEGIN")
        texts = ChunkTable(db).texts_of(live_ids)
        write_bm25(folder / BM25_DIR, texts, term_frequencies=True, cancel=cancel)
    finally:
        db.close()
    vectors.optimize(cancel=cancel)
    checkpoint(cancel)
    vectors.save(folder / VECTORS)
    vectors.save_trained(folder / TRAINED)
    return len(vectors)
