"""What the app needs from the assistant: ``Assistant`` is one, and so are the tests' fakes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from ..config import Settings
from ..conversation import Conversation
from ..core import Status
from ..indexing import ProgressCallback
from ..records import Answer, IndexReport
from ..store.scope import Selection


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

    def set_scope(self, globs: Sequence[str]) -> None: ...

    def selection(self) -> Selection | None: ...
