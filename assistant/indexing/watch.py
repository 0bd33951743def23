"""Keeping the index live: update it, then apply each settled batch of corpus changes.

A ``Watcher`` holds the index lock for as long as it runs (another ``excerpta index``
refuses with the usual message), loads the encoders once, and waits on the corpus with
``watchfiles`` (MIT): a batch is applied once no change has come for ``settle_ms``
(~0.5 s). Each update's report goes to a callback; setting ``stop`` ends it within
about ``settle_ms``, and an update or merge in progress is cancelled at its next check
(between embedding slices, BM25 batches, vector blocks and steps), so the index stays
the last commit. Must not import textual or torch; watchfiles is imported when it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..config import Settings
from ..embedding import Encoders
from ..errors import AssistantError, Cancelled
from ..records import IndexReport
from .update import ProgressCallback, index_lock, update_locked

SETTLE_MS = 500  # a batch is applied once the corpus has been quiet this long
MAX_BATCH_MS = 5_000  # ... or after this long, however busy the corpus
CATCH_UP_MS = 1_000  # quiet this long after the watch starts: update once more


class Watcher:
    """Updates the index whenever the corpus changes, until ``stop`` is set.

    Args:
        encoders: what embeds documents; a function is called once, when first needed.
        on_update: told each update's report (the first one too).
        on_error: told an expected error of one update (a file vanished mid-read...);
            the watcher keeps going. Unset: the error ends it.
        progress: the stages of each update, as ``update_index`` reports them.
    """

    def __init__(
        self,
        settings: Settings,
        encoders: Encoders | Callable[[], Encoders],
        *,
        on_update: Callable[[IndexReport], None],
        on_error: Callable[[AssistantError], None] | None = None,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
        settle_ms: int = SETTLE_MS,
    ) -> None:
        # Each settled batch is small: starting a Ray cluster for it would cost more
        # than it saves, so a watcher embeds here whatever ``ray`` says.
        self._settings = replace(settings, ray="")
        self._factory = encoders
        self._loaded: Encoders | None = encoders if isinstance(encoders, Encoders) else None
        self._on_update = on_update
        self._on_error = on_error
        self._progress = progress
        self.stop = stop or threading.Event()
        self._settle_ms = settle_ms

    def _encoders(self) -> Encoders:
        if self._loaded is None:
            assert not isinstance(self._factory, Encoders)
            self._loaded = self._factory()
        return self._loaded

    def run(self) -> None:
        """Update now, then after every settled batch of changes, until ``stop``.

        Raises:
            IndexLockedError: another process is updating the index.
            CorpusError: the corpus is missing.
        """
        import watchfiles

        with index_lock(self._settings.index, self._settings.corpus):
            self._update()
            if self.stop.is_set():  # stopped during the first update: nothing to watch
                return
            caught_up = False
            for changes in watchfiles.watch(
                self._settings.corpus.resolve(),
                watch_filter=self._wanted,
                debounce=MAX_BATCH_MS,
                step=self._settle_ms,
                stop_event=self.stop,
                rust_timeout=CATCH_UP_MS,
                yield_on_timeout=True,
            ):
                if self.stop.is_set():
                    break
                if changes or not caught_up:
                    # The first quiet spell means the watch is set up: files saved while
                    # it was being set up (after the first update) are picked up now.
                    caught_up = True
                    self._update()

    def _update(self) -> None:
        try:
            report = update_locked(
                self._settings, self._encoders, progress=self._progress, cancel=self.stop
            )
        except Cancelled:
            return  # stopping: the index is the last commit
        except AssistantError as exc:
            if self._on_error is None:
                raise
            self._on_error(exc)
            return
        self._on_update(report)

    def _wanted(self, change: object, path: str) -> bool:
        """Changes to documents, not to the index (when it lies inside the corpus) or to
        hidden files (editors' swap files), which a scan skips anyway."""
        target = Path(path)
        index = self._settings.index.resolve()
        if target == index or index in target.parents:
            return False
        try:
            relative = target.relative_to(self._settings.corpus.resolve())
        except ValueError:  # reported under another spelling of the corpus path
            return True
        return not any(part.startswith(".") for part in relative.parts)
