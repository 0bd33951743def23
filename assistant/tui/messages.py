"""Messages the workers post to the app; posting is thread-safe, touching widgets isn't.

Named in the past tense: each reports something that has happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from ..core import Status
from ..errors import AssistantError
from ..records import Answer, Citation, IndexReport


@dataclass
class ModelLoaded(Message):
    """The embedding model is in memory; questions are answered at full speed."""


@dataclass
class ModelFailed(Message):
    """The model could not be loaded."""

    error: AssistantError


@dataclass
class StatusRead(Message):
    """The index status was read and the corpus compared with it."""

    status: Status


@dataclass
class CommitNoticed(Message):
    """The index has a newer commit (another process, the watcher or ctrl+r made it)."""

    generation: int


@dataclass
class ScopeFailed(Message):
    """A ``/in`` command's globs were refused (too long, malformed)."""

    error: AssistantError


@dataclass
class ScopeSet(Message):
    """Questions now search only the files the globs match (() : every file).

    ``files`` is how many indexed files they match, or -1 when there is no index yet.
    """

    globs: tuple[str, ...]
    files: int
    unmatched: tuple[str, ...]


@dataclass
class StatusFailed(Message):
    """The status could not be read (for example, the corpus folder is missing)."""

    error: AssistantError


@dataclass
class AnswerReady(Message):
    """An answer arrived for the question with this ticket."""

    ticket: int
    question: str
    answer: Answer


@dataclass
class AskFailed(Message):
    """Asking the question with this ticket raised an expected error."""

    ticket: int
    question: str
    error: AssistantError


@dataclass
class IndexProgressed(Message):
    """The index update reached ``done`` of ``total`` in ``stage``."""

    stage: str
    done: int
    total: int


@dataclass
class IndexUpdated(Message):
    """The index update finished; new questions use the new index."""

    report: IndexReport


@dataclass
class IndexFailed(Message):
    """The index update failed or was cancelled; the previous index is unchanged."""

    error: AssistantError


@dataclass
class CitationSelected(Message):
    """The user picked a citation (click, enter, or its number key)."""

    citation: Citation
    corpus: Path | None = None
    """The corpus the answer came from (the TUI may have switched collection since)."""
