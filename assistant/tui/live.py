"""Keeping the app's index live: noticing new commits, and running the watcher.

The app's thread workers call these; they post messages and never touch a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.message import Message

from ..errors import AssistantError
from . import messages as m
from .protocol import AppAssistant

COMMIT_POLL_S = 1.0  # how often the app looks for a new commit of the index


class LiveIndex:
    """The commit generation last seen, and the watcher's stop event, for one assistant."""

    def __init__(self) -> None:
        self.seen = -1  # none yet: the first poll only notes the generation
        self.stop = threading.Event()

    def restart(self) -> threading.Event:
        """Another assistant: stop its watcher, forget its commits; the new stop event."""
        self.stop.set()
        self.seen, self.stop = -1, threading.Event()
        return self.stop

    def poll(self, assistant: AppAssistant, post: Callable[[Message], object]) -> None:
        """Post ``CommitNoticed`` when the index has a commit since the last poll (the
        next question then opens it)."""
        generation = assistant.committed()
        if generation != self.seen:
            first, self.seen = self.seen < 0, generation
            if not first:
                assistant.refresh_index()
                post(m.CommitNoticed(generation))

    def watch(self, assistant: AppAssistant, post: Callable[[Message], object]) -> None:
        """Keep the index up to date as files change (the ``watch = true`` setting) until
        ``stop`` is set; each commit is noticed by ``poll``."""

        def failed(error: AssistantError) -> None:
            post(m.IndexFailed(error))

        try:
            assistant.watcher(on_update=lambda _: None, on_error=failed, stop=self.stop).run()
        except AssistantError as exc:
            failed(exc)
