"""What the app needs from the assistant: ``Assistant`` is one, and so are the tests' fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from .. import ProgressCallback, Selection, Watcher
from ..config import Settings
from ..conversation import Conversation
from ..core import Status
from ..errors import AssistantError
from ..records import Answer, IndexReport


class AppAssistant(Protocol):
    """The part of ``Assistant`` the chat app uses."""

    @property
    def settings(self) -> Settings: ...

    def warm_up(self) -> None: ...

    def status(self) -> Status: ...

    def ask(self, question: str) -> Answer: ...

    def update_index(
        self, *, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> IndexReport: ...

    def conversation(self) -> Conversation: ...

    def committed(self) -> int: ...

    def refresh_index(self) -> None: ...

    def watcher(
        self,
        *,
        on_update: Callable[[IndexReport], None],
        on_error: Callable[[AssistantError], None] | None = None,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> Watcher: ...

    def set_scope(self, globs: Sequence[str]) -> None: ...

    def selection(self) -> Selection | None: ...
