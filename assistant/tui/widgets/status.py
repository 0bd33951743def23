"""The status bar (what is indexed, whether it is current) and the indexing progress row,
which runs the index update it shows."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ...core import Status
from .. import jobs
from .. import messages as m
from ..protocol import AppAssistant


def status_text(
    status: Status | None,
    model_state: str,
    collection: str | None = None,
    scope: tuple[str, ...] = (),
    note: str = "",
) -> Text:
    """One line: the collection, the scope questions are limited to, documents, chunks,
    model and its state, and whether the index is current (``note``: news of the index,
    such as a commit made by a watcher, before the counts). The scope comes first: it
    changes every answer, so it must not be cut off in a narrow terminal."""
    text = Text()
    if collection:
        text.append(collection, style="bold")
        text.append(" · ")
    if scope:
        text.append("scope: ")
        text.append(" ".join(scope), style="bold cyan")
        text.append(" · ")
    return _index_text(text, status, model_state, note)


def _index_text(text: Text, status: Status | None, model_state: str, note: str) -> Text:
    if note:
        text.append(f"{note} · ", style="bold cyan")
    if status is None:
        return text.append(f"Reading the index… · model {model_state}")
    if status.index_ready:
        text.append(f"{_count(status.files, 'document')} · {_count(status.chunks, 'chunk')} · ")
    text.append(status.model)
    text.append(f" ({model_state}) · ")
    if not status.index_ready:
        text.append(status.problem or "no index", style="bold yellow")
        text.append(f" — ctrl+r indexes {_count(status.added + status.changed, 'file')}")
    elif status.stale:
        changes = f"+{status.added} ~{status.changed} -{status.removed} files"
        text.append(f"corpus changed since indexing ({changes})", style="yellow")
        text.append(" — ctrl+r updates")
    else:
        text.append("index up to date", style="green")
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class StatusBar(Static):
    """The status line at the top."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(status_text(None, "loading"), id=id)
        self.status: Status | None = None
        self.model_state = "loading"
        self.collection: str | None = None
        self.scope: tuple[str, ...] = ()
        self.note = ""

    def show(
        self,
        status: Status | None = None,
        model_state: str | None = None,
        collection: str | None = None,
        scope: tuple[str, ...] | None = None,
        note: str | None = None,
    ) -> None:
        """Update the parts given; keep the others."""
        self.status = status or self.status
        self.model_state = model_state or self.model_state
        self.collection = collection or self.collection
        self.scope = self.scope if scope is None else scope
        self.note = self.note if note is None else note
        self._render_line()

    def restart(self, collection: str, scope: tuple[str, ...] = ()) -> None:
        """Another collection: its status unread, its model loading, its own scope."""
        self.status, self.model_state, self.collection = None, "loading", collection
        self.scope, self.note = scope, ""
        self._render_line()

    def _render_line(self) -> None:
        self.update(
            status_text(self.status, self.model_state, self.collection, self.scope, self.note)
        )


class IndexProgress(Horizontal):
    """Shown while the index is updated: the stage, a progress bar, how to cancel.

    It runs the update in a thread worker; ``IndexUpdated`` and ``IndexFailed`` bubble on
    to the app, which says how it went and sets ``running`` back."""

    running: reactive[bool] = reactive(False, init=False)
    """The index is being updated: the row is shown and the build buttons disabled."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Label("Indexing", id="index-stage")
        # No ETA: it changes every frame and would make snapshots flaky.
        yield ProgressBar(show_eta=False, id="index-bar")
        yield Label("esc cancels", id="index-cancel")

    def show(self, stage: str, done: int, total: int) -> None:
        """Move the bar to ``done`` of ``total`` in ``stage``."""
        self.query_one("#index-stage", Label).update(f"Indexing: {stage} {done}/{total}")
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def start(self, assistant: AppAssistant) -> None:
        """Bring the index up to date with the corpus, in the background."""
        if self.running:
            return
        self._cancel = threading.Event()
        self.running = True
        self.show("starting", 0, 1)
        self._update(assistant, self._cancel)

    def cancel(self) -> None:
        """Stop the update between batches; the previous index stays as it was."""
        self._cancel.set()
        self.query_one("#index-stage", Label).update("Cancelling…")

    @work(thread=True, exclusive=True, exit_on_error=False, group="index")
    def _update(self, assistant: AppAssistant, cancel: threading.Event) -> None:
        jobs.update_index(assistant, self.post_message, cancel)

    def watch_running(self, running: bool) -> None:
        self.display = running
        for button in self.app.query("#build-index"):
            button.disabled = running

    @on(m.IndexProgressed)
    def _progressed(self, message: m.IndexProgressed) -> None:
        self.show(message.stage, message.done, message.total)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected exception in the update: say so and hide the row."""
        if event.state == WorkerState.ERROR:
            self.notify(f"Unexpected error: {event.worker.error!r}", severity="error", markup=False)
            self.running = False
