"""Taking answers out of the app: copying the last one (ctrl+y) and exporting the
conversation as Markdown (ctrl+s)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App

from ..conversation import Conversation, Exchange
from .render import answer_plain


def copy_last_answer(app: App[Any], exchanges: Sequence[Exchange]) -> None:
    """Copy the last answer and its sources to the clipboard."""
    answers = [e.answer for e in exchanges if e.answer is not None]
    if not answers:
        app.notify("No answer to copy yet.")
        return
    app.copy_to_clipboard(answer_plain(answers[-1]))
    app.notify("Copied the last answer.")


def export_conversation(conversation: Conversation | None, notify: Callable[..., None]) -> None:
    """Write the conversation to a Markdown file in the working directory."""
    if conversation is None or not conversation.exchanges:
        notify("Nothing to export yet.")
        return
    try:
        path = conversation.export_markdown(Path.cwd())
    except OSError as exc:
        notify(f"Export failed: {exc}", severity="error", markup=False)
        return
    notify(f"Conversation saved to {path}", markup=False, timeout=10)
