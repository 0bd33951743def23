"""Build and update the index: embed only new and changed files, drop deleted ones.

An update is planned (plan.py) by comparing the corpus with the file table of the live
index, then written as a new generation that becomes live only when complete
(update.py, store/). Progress, including each stage of the write, goes to a callback and
a ``threading.Event`` cancels; the core never prints. Must not import textual or torch.
"""

from __future__ import annotations

from .plan import (
    UpdatePlan,
    format_counts,
    index_fingerprint,
    mismatch_reason,
    no_text,
    plan_update,
)
from .update import WRITE_STAGES, ProgressCallback, shown_progress, update_index
from .watch import Watcher

__all__ = [
    "format_counts",
    "no_text",
    "WRITE_STAGES",
    "ProgressCallback",
    "UpdatePlan",
    "Watcher",
    "index_fingerprint",
    "mismatch_reason",
    "plan_update",
    "shown_progress",
    "update_index",
]
