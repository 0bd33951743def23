"""Stopping store work between its steps: ``checkpoint`` raises ``Cancelled`` once the
caller's ``threading.Event`` is set.

Writers and merges call it between batches (BM25, vector blocks, before publishing and
before committing), so a stop takes effect within about a second; what raised is
discarded as a crash would be, and the previous commit stays live. The event comes
from above (indexing, the watcher); must not import from indexing, textual or torch.
"""

from __future__ import annotations

import threading

from ..errors import Cancelled


def checkpoint(cancel: threading.Event | None) -> None:
    """Raise ``Cancelled`` if ``cancel`` is set (None: never cancelled)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("indexing cancelled; the index keeps its last commit")
