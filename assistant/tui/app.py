"""The Excerpta chat app: ask questions, read cited answers, open their sources.

All blocking work (loading the model, answering, indexing, reading the status) runs in
thread workers that report back through the messages in ``messages.py``; widgets are only
touched here, on the main thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, LoadingIndicator
from textual.worker import Worker, WorkerState

from .. import shown_progress
from ..conversation import Conversation, Exchange
from ..errors import AssistantError, Cancelled, IndexUnusableError
from ..records import TRUNCATED, Citation
from . import messages as m
from .editor import open_cited
from .live import COMMIT_POLL_S, LiveIndex, export_conversation
from .protocol import AppAssistant
from .render import answer_plain
from .scope import scope_command, scope_notice
from .widgets import (
    AnswerEntry,
    ChatLog,
    HelpScreen,
    IndexProgress,
    Notice,
    QuestionEntry,
    QuestionInput,
    SourcePane,
    StatusBar,
)
from .widgets.chat import BuildOffer


class ExcerptaApp(App[int]):
    """Chat with your documents; every answer cites where it came from."""

    CSS_PATH = "app.tcss"
    TITLE = "Excerpta"
    SUB_TITLE = "answers from your documents"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "update_index", "Index"),
        Binding("ctrl+o", "open_editor", "Editor"),
        Binding("ctrl+y", "copy_answer", "Copy"),
        Binding("ctrl+s", "export", "Export"),
        Binding("f1", "help", "Help"),
    ]

    busy: reactive[bool] = reactive(False, init=False)
    """A question is being answered: the input is disabled and the busy row shown."""
    indexing: reactive[bool] = reactive(False, init=False)
    """The index is being updated: the progress row is shown."""
    model_ready: reactive[bool] = reactive(False, init=False)
    """The embedding model has been loaded."""

    def __init__(
        self,
        make_assistant: Callable[[], AppAssistant],
        *,
        collection: str | None = None,
        collections: Mapping[str, Callable[[], AppAssistant]] | None = None,
    ) -> None:
        super().__init__()
        self._make_assistant = make_assistant
        self.collection = collection  # the named collection asked, if any
        self._collections = dict(collections or {})  # the palette switches to these
        self.assistant: AppAssistant | None = None
        self.conversation: Conversation | None = None  # made with the assistant
        self._ticket = 0  # answers for an older ticket were cancelled and are dropped
        self._cancel_index: threading.Event | None = None
        self._live = LiveIndex()  # commits seen, and the watcher's stop event

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            yield ChatLog(id="chat")
            yield SourcePane(id="source")
        with Horizontal(id="busy"):
            yield LoadingIndicator()
            yield Label("Searching your documents… (esc cancels)", id="busy-label")
        yield IndexProgress(id="indexing")
        yield QuestionInput(placeholder="Ask a question about your documents", id="question")
        yield Footer()

    async def on_mount(self) -> None:
        chat = self.query_one(ChatLog)
        try:
            self.assistant = self._make_assistant()
            self.conversation = self.assistant.conversation()
        except AssistantError as exc:
            await chat.add(Notice(exc.message, exc.hint, kind="error"))
            self.query_one(QuestionInput).disabled = True
            return
        corpus = self.assistant.settings.corpus
        self.query_one(StatusBar).show(collection=self.collection)
        await chat.add(Notice(f"Ask about the documents in {corpus}. F1 shows the keys."))
        self.query_one(StatusBar).show(scope=self.assistant.settings.scope)
        self.query_one(QuestionInput).focus()
        self._read_status()
        self._load_model()
        self.set_interval(COMMIT_POLL_S, self._poll_commit)
        if self.assistant.settings.watch:
            self._watch()

    def on_unmount(self) -> None:
        self._live.stop.set()

    # Workers: they run in threads and only post messages.

    @work(thread=True, exclusive=True, exit_on_error=False, group="model")
    def _load_model(self) -> None:
        assert self.assistant is not None
        try:
            self.assistant.warm_up()
        except AssistantError as exc:
            self.post_message(m.ModelFailed(exc))
        else:
            self.post_message(m.ModelLoaded())

    @work(thread=True, exclusive=True, exit_on_error=False, group="commit")
    def _poll_commit(self) -> None:
        """Notice a new commit of the index: the next question searches it."""
        if self.assistant is not None:
            self._live.poll(self.assistant, self.post_message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch")
    def _watch(self) -> None:
        """Keep the index up to date as files change (the ``watch = true`` setting)."""
        if self.assistant is not None:
            self._live.watch(self.assistant, self.post_message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="status")
    def _read_status(self) -> None:
        assert self.assistant is not None
        try:
            self.post_message(m.StatusRead(self.assistant.status()))
        except AssistantError as exc:
            self.post_message(m.StatusFailed(exc))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ask")
    def _ask(self, ticket: int, question: str, query: str) -> None:
        assert self.assistant is not None
        try:
            answer = self.assistant.ask(query)
        except AssistantError as exc:
            self.post_message(m.AskFailed(ticket, question, exc))
        else:
            self.post_message(m.AnswerReady(ticket, question, answer))

    @work(thread=True, exclusive=True, exit_on_error=False, group="scope")
    def _set_scope(self, globs: tuple[str, ...]) -> None:
        assert self.assistant is not None
        try:
            self.assistant.set_scope(globs)
        except AssistantError as exc:
            self.post_message(m.ScopeFailed(exc))
            return
        try:
            chosen = self.assistant.selection()
        except AssistantError:  # no usable index yet: the scope applies once there is one
            chosen = None
        found = (len(chosen.paths), chosen.unmatched) if chosen is not None else (-1, ())
        self.post_message(m.ScopeSet(globs, *found))

    @work(thread=True, exclusive=True, exit_on_error=False, group="index")
    def _update_index(self, cancel: threading.Event) -> None:
        assert self.assistant is not None

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(m.IndexProgressed(*shown_progress(stage, done, total)))

        try:
            report = self.assistant.update_index(progress=progress, cancel=cancel)
        except AssistantError as exc:
            self.post_message(m.IndexFailed(exc))
        else:
            self.post_message(m.IndexUpdated(report))

    # Asking.

    @on(QuestionInput.Submitted)
    async def _submitted(self, event: QuestionInput.Submitted) -> None:
        question = event.value.strip()
        if not question or self.busy or self.assistant is None or self.conversation is None:
            return
        entry = self.query_one(QuestionInput)
        entry.remember(question)
        entry.value = ""
        globs = scope_command(question)
        if globs is not None:
            self._set_scope(globs)
            return
        query = self.conversation.query_for(question)
        await self.query_one(ChatLog).add(QuestionEntry(question))
        self._ticket += 1
        self.busy = True
        self._ask(self._ticket, question, query)

    @on(m.AnswerReady)
    async def _answered(self, message: m.AnswerReady) -> None:
        if message.ticket != self._ticket:
            return
        if self.conversation is not None:
            self.conversation.record(message.question, message.answer)
        corpus = self.assistant.settings.corpus if self.assistant is not None else None
        await self.query_one(ChatLog).add(AnswerEntry(message.answer, corpus))
        if message.answer.question_truncated:
            await self.query_one(ChatLog).add(Notice(TRUNCATED, kind="warning"))
        self.busy = False

    @on(m.AskFailed)
    async def _ask_failed(self, message: m.AskFailed) -> None:
        if message.ticket != self._ticket:
            return
        error = message.error
        if self.conversation is not None:
            self.conversation.record(message.question, error=error.message)
        if isinstance(error, IndexUnusableError):
            await self.query_one(ChatLog).add(BuildOffer(error.message, error.hint))
        else:
            await self.query_one(ChatLog).add(Notice(error.message, error.hint, kind="error"))
        self.busy = False

    def watch_busy(self, busy: bool) -> None:
        self.query_one("#busy").display = busy
        entry = self.query_one(QuestionInput)
        entry.disabled = busy
        if not busy:
            entry.focus()

    # Model and status.

    @on(m.ModelLoaded)
    def _model_loaded(self) -> None:
        self.model_ready = True
        self.query_one(StatusBar).show(model_state="ready")

    @on(m.ModelFailed)
    async def _model_failed(self, message: m.ModelFailed) -> None:
        self.query_one(StatusBar).show(model_state="failed")
        await self.query_one(ChatLog).add(
            Notice(message.error.message, message.error.hint, kind="error")
        )

    @on(m.StatusRead)
    async def _status_read(self, message: m.StatusRead) -> None:
        status = message.status
        self.query_one(StatusBar).show(status)
        if not status.index_ready and not self.indexing:
            problem = status.problem or "There is no index of your documents yet."
            await self.query_one(ChatLog).add(
                BuildOffer(problem, "Build it now to start asking questions.")
            )

    @on(m.CommitNoticed)
    def _commit_noticed(self, message: m.CommitNoticed) -> None:
        self.query_one(StatusBar).show(note=f"index updated (commit {message.generation})")
        self._read_status()  # ctrl+r is offered only if the corpus is still ahead

    @on(m.ScopeFailed)
    async def _scope_failed(self, message: m.ScopeFailed) -> None:
        error = message.error
        await self.query_one(ChatLog).add(Notice(error.message, error.hint, kind="error"))

    @on(m.ScopeSet)
    async def _scope_set(self, message: m.ScopeSet) -> None:
        self.query_one(StatusBar).show(scope=message.globs)
        text = scope_notice(message.globs, message.files, message.unmatched)
        await self.query_one(ChatLog).add(
            Notice(text, kind="warning" if message.unmatched else "info")
        )

    @on(m.StatusFailed)
    async def _status_failed(self, message: m.StatusFailed) -> None:
        error = message.error
        await self.query_one(ChatLog).add(Notice(error.message, error.hint, kind="error"))

    # Indexing.

    def action_update_index(self) -> None:
        """Bring the index up to date with the corpus, in the background."""
        if self.indexing or self.assistant is None:
            return
        self._cancel_index = threading.Event()
        self.indexing = True
        self.query_one(IndexProgress).show("starting", 0, 1)
        self._update_index(self._cancel_index)

    def watch_indexing(self, indexing: bool) -> None:
        self.query_one(IndexProgress).display = indexing
        for button in self.query("#build-index"):
            button.disabled = indexing

    @on(m.IndexProgressed)
    def _index_progressed(self, message: m.IndexProgressed) -> None:
        self.query_one(IndexProgress).show(message.stage, message.done, message.total)

    @on(m.IndexUpdated)
    async def _index_updated(self, message: m.IndexUpdated) -> None:
        self.indexing = False
        report = message.report
        await self.query_one(ChatLog).add(
            Notice(
                f"Index updated: {len(report.added)} added, {len(report.changed)} changed, "
                f"{len(report.removed)} removed; {report.chunks_total} chunks.",
                kind="success",
            )
        )
        await self.query(BuildOffer).remove()
        if self.focused is None and not self.busy:
            # The build button had focus; give it back to the question.
            self.query_one(QuestionInput).focus()
        self._read_status()

    @on(m.IndexFailed)
    async def _index_failed(self, message: m.IndexFailed) -> None:
        self.indexing = False
        error = message.error
        kind = "warning" if isinstance(error, Cancelled) else "error"
        await self.query_one(ChatLog).add(Notice(error.message, error.hint, kind=kind))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected exception in a worker: say so and give the prompt back."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(f"Unexpected error: {error!r}", severity="error", markup=False)
        if event.worker.group == "ask":
            self.busy = False
        elif event.worker.group == "index":
            self.indexing = False

    @property
    def exchanges(self) -> list[Exchange]:
        """The questions answered (or failed) so far, oldest first."""
        return self.conversation.exchanges if self.conversation is not None else []

    # Cancelling, sources, and the rest.

    def action_cancel(self) -> None:
        """Cancel the question, else the indexing, else close the source pane."""
        if self.busy:
            self._ticket += 1  # the running answer will be dropped when it arrives
            self.workers.cancel_group(self, "ask")
            self.busy = False
            self.notify("Question cancelled.")
        elif self.indexing and self._cancel_index is not None:
            self._cancel_index.set()
            self.query_one("#index-stage", Label).update("Cancelling…")
        elif self.query_one(SourcePane).display:
            self.query_one(SourcePane).display = False
            self.query_one(QuestionInput).focus()

    @on(m.CitationSelected)
    def _citation_selected(self, message: m.CitationSelected) -> None:
        corpus = message.corpus or (self.assistant.settings.corpus if self.assistant else None)
        if corpus is not None:
            self.query_one(SourcePane).show(message.citation, corpus)

    def _cited(self) -> Citation | None:
        """The citation in the source pane, else the first of the last answer."""
        shown = self.query_one(SourcePane)
        if shown.display and shown.citation is not None:
            return shown.citation
        answers = [e.answer for e in self.exchanges if e.answer and e.answer.citations]
        return answers[-1].citations[0] if answers else None

    def action_open_editor(self) -> None:
        """Open the cited file in $VISUAL/$EDITOR (or less) at the cited line."""
        shown = self.query_one(SourcePane)
        corpus = self.assistant.settings.corpus if self.assistant is not None else None
        if shown.display and shown.corpus is not None:
            corpus = shown.corpus  # perhaps another collection's, asked before a switch
        open_cited(self, corpus, self._cited())

    def action_copy_answer(self) -> None:
        """Copy the last answer and its sources to the clipboard."""
        answers = [e.answer for e in self.exchanges if e.answer is not None]
        if not answers:
            self.notify("No answer to copy yet.")
            return
        self.copy_to_clipboard(answer_plain(answers[-1]))
        self.notify("Copied the last answer.")

    def action_export(self) -> None:
        """Write the conversation to a Markdown file in the working directory."""
        export_conversation(self.conversation, self.notify)

    def action_help(self) -> None:
        """Show the keys."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Update index", "Index new and changed files", self.action_update_index)
        yield SystemCommand("Copy last answer", "Copy it with its sources", self.action_copy_answer)
        yield SystemCommand("Export conversation", "Save it as Markdown", self.action_export)
        yield SystemCommand("Open cited file", "Open it in $EDITOR", self.action_open_editor)
        yield SystemCommand("Keys", "Show the key bindings", self.action_help)
        for name in self._collections:
            if name != self.collection:
                switch = partial(self.switch_collection, name)
                yield SystemCommand(f"Collection: {name}", f"Ask {name} from now on", switch)

    async def switch_collection(self, name: str) -> None:
        """Ask the collection ``name`` from now on, in a new conversation."""
        chat = self.query_one(ChatLog)
        if self.busy or self.indexing:
            self.notify("Wait for the question or the index update (esc cancels)")
            return
        try:
            assistant = self._collections[name]()
        except AssistantError as exc:
            await chat.add(Notice(exc.message, exc.hint, kind="error"))
            return
        self.assistant, self.collection = assistant, name
        self._live.restart()  # the other collection's watcher stops, its commits forgotten
        self.conversation, self.model_ready = assistant.conversation(), False
        self.query_one(StatusBar).restart(name, assistant.settings.scope)
        corpus = assistant.settings.corpus
        await chat.add(Notice(f"Now asking the collection {name} ({corpus})."))
        self._read_status()
        self._load_model()
        if assistant.settings.watch:
            self._watch()
