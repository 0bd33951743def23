"""The index on disk: the commit point (SQLite), the chunk table, segments of vectors and
BM25 postings, and merging.

``open_index`` opens the latest commit for searching; indexing writes segments with
``SegmentWriter`` and merges them with ``merge_segments``. Must not import textual or
torch.
"""

from __future__ import annotations

from .index import StoredIndex, open_index

__all__ = ["StoredIndex", "open_index"]
