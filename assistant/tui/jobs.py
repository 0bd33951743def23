"""The app's blocking work: loading the model, reading the status, answering, scoping,
indexing.

The app's thread workers call these with the assistant and the app's ``post_message``;
they report only through the messages in ``messages.py`` and never touch a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.message import Message

from .. import shown_progress
from ..errors import AssistantError
from . import messages as m
from .protocol import AppAssistant

Post = Callable[[Message], object]


def load_model(assistant: AppAssistant, post: Post) -> None:
    """Load the embedding model (and the reader) before the first question needs them."""
    try:
        assistant.warm_up()
    except AssistantError as exc:
        post(m.ModelFailed(exc))
    else:
        post(m.ModelLoaded())


def read_status(assistant: AppAssistant, post: Post) -> None:
    """What is indexed, and whether the corpus changed since."""
    try:
        post(m.StatusRead(assistant.status()))
    except AssistantError as exc:
        post(m.StatusFailed(exc))


def ask(assistant: AppAssistant, post: Post, ticket: int, question: str, query: str) -> None:
    """Answer ``query`` (``question`` with the conversation's topic, if it borrows one)."""
    try:
        answer = assistant.ask(query)
    except AssistantError as exc:
        post(m.AskFailed(ticket, question, exc))
    else:
        post(m.AnswerReady(ticket, question, answer))


def set_scope(assistant: AppAssistant, post: Post, globs: tuple[str, ...]) -> None:
    """Limit questions to the files matching ``globs``, and say how many match."""
    try:
        assistant.set_scope(globs)
    except AssistantError as exc:
        post(m.ScopeFailed(exc))
        return
    try:
        chosen = assistant.selection()
    except AssistantError:  # no usable index yet: the scope applies once there is one
        chosen = None
    found = (len(chosen.paths), chosen.unmatched) if chosen is not None else (-1, ())
    post(m.ScopeSet(globs, *found))


def update_index(assistant: AppAssistant, post: Post, cancel: threading.Event) -> None:
    """Bring the index up to date, reporting each stage, until done or ``cancel`` is set."""

    def progress(stage: str, done: int, total: int) -> None:
        post(m.IndexProgressed(*shown_progress(stage, done, total)))

    try:
        report = assistant.update_index(progress=progress, cancel=cancel)
    except AssistantError as exc:
        post(m.IndexFailed(exc))
    else:
        post(m.IndexUpdated(report))
