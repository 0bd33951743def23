"""The index on disk: generations (the commit point), the chunk table, vectors and BM25.

``open_index`` opens the live generation for searching; indexing writes new ones with
``new_generation`` and ``commit_generation``. Must not import textual or torch.
"""

from __future__ import annotations

from .index import StoredIndex, open_index

__all__ = ["StoredIndex", "open_index"]
