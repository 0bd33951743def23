"""The opened index that questions share, swapped for a newer commit without closing
it under a question still reading it.

Each question pins the index it reads for as long as it reads it (``pinned``). ``retire``
lets the next pin open the latest commit; the retired index closes when the last
question that pinned it is done, never while one is reading it (its SQLite connection
holds the commit's read transaction). Must not import textual or torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .index import StoredIndex


class IndexPins:
    """The live index, opened on first use by ``open_index``, with a count of readers."""

    def __init__(self, open_index: Callable[[], StoredIndex]) -> None:
        self._open_index = open_index
        self._lock = threading.Lock()
        self._current: StoredIndex | None = None
        self._readers: dict[int, int] = {}  # questions reading each index, by its id()

    @contextmanager
    def pinned(self) -> Iterator[StoredIndex]:
        """The live index, open until the block ends even if it is retired meanwhile."""
        with self._lock:
            if self._current is None:
                self._current = self._open_index()
            index = self._current
            self._readers[id(index)] = self._readers.get(id(index), 0) + 1
        try:
            yield index
        finally:
            with self._lock:
                self._readers[id(index)] -= 1
                if self._readers[id(index)] == 0 and index is not self._current:
                    self._close(index)

    def current(self) -> StoredIndex | None:
        """The live index if one is open (for what it pinned), without pinning it."""
        with self._lock:
            return self._current

    def retire(self) -> None:
        """Let the next pin open the latest commit; close the live one once unread."""
        with self._lock:
            index, self._current = self._current, None
            if index is None:
                return
            if self._readers.get(id(index), 0) == 0:
                self._close(index)
            # else its last reader closes it (``pinned``)

    def _close(self, index: StoredIndex) -> None:
        """Close an index no question reads (the lock held)."""
        self._readers.pop(id(index), None)
        index.close()
