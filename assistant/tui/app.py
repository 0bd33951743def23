"""The Excerpta chat app: ask questions, read cited answers, open their sources.

All blocking work (loading the model, answering, indexing, reading the status) runs in
thread workers that report back through the messages in ``messages.py``; widgets are only
touched on the main thread, by the app and by the widgets that own them (the progress row
runs the index update it shows; the chat log and the source pane show what they are
given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, LoadingIndicator
from textual.worker import Worker, WorkerState

from ..conversation import Conversation, Exchange
from ..errors import AssistantError, Cancelled
from . import jobs
from . import messages as m
from .editor import open_cited
from .live import COMMIT_POLL_S, LiveIndex
from .protocol import AppAssistant
from .scope import scope_command, scope_notice
from .sharing import copy_last_answer, export_conversation
from .widgets import (
    ChatLog,
    HelpScreen,
    IndexProgress,
    Notice,
    QuestionEntry,
    QuestionInput,
    SourcePane,
    StatusBar,
)


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
            await chat.add_error(exc)
            self.query_one(QuestionInput).disabled = True
            return
        settings = self.assistant.settings
        self.query_one(StatusBar).show(collection=self.collection, scope=settings.scope)
        await self._start(f"Ask about the documents in {settings.corpus}. F1 shows the keys.")
        self.query_one(QuestionInput).focus()
        self.set_interval(COMMIT_POLL_S, self._poll_commit)

    async def _start(self, greeting: str) -> None:
        """Say what is asked; read the status, load the model, and watch if asked to."""
        await self.query_one(ChatLog).add(Notice(greeting))
        self._read_status()
        self._load_model()
        if self._assistant().settings.watch:
            self._watch()

    def on_unmount(self) -> None:
        self._live.stop.set()

    # Workers: they run in threads and only post messages.

    @work(thread=True, exclusive=True, exit_on_error=False, group="model")
    def _load_model(self) -> None:
        jobs.load_model(self._assistant(), self.post_message)

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
        jobs.read_status(self._assistant(), self.post_message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ask")
    def _ask(self, ticket: int, question: str, query: str) -> None:
        jobs.ask(self._assistant(), self.post_message, ticket, question, query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scope")
    def _set_scope(self, globs: tuple[str, ...]) -> None:
        jobs.set_scope(self._assistant(), self.post_message, globs)

    def _assistant(self) -> AppAssistant:
        assert self.assistant is not None  # workers start only once there is one
        return self.assistant

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
        await self.query_one(ChatLog).add_answer(message.answer, self._corpus)
        self.busy = False

    @on(m.AskFailed)
    async def _ask_failed(self, message: m.AskFailed) -> None:
        if message.ticket != self._ticket:
            return
        if self.conversation is not None:
            self.conversation.record(message.question, error=message.error.message)
        await self.query_one(ChatLog).add_failure(message.error)
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
        await self.query_one(ChatLog).add_error(message.error)

    @on(m.StatusRead)
    async def _status_read(self, message: m.StatusRead) -> None:
        status = message.status
        self.query_one(StatusBar).show(status)
        if not status.index_ready and not self.indexing:
            problem = status.problem or "There is no index of your documents yet."
            await self.query_one(ChatLog).offer_build(problem)
        await self.query_one(ChatLog).advise(status.language_advice())

    @on(m.CommitNoticed)
    def _commit_noticed(self, message: m.CommitNoticed) -> None:
        self.query_one(StatusBar).show(note=f"index updated (commit {message.generation})")
        self._read_status()  # ctrl+r is offered only if the corpus is still ahead

    @on(m.ScopeSet)
    async def _scope_set(self, message: m.ScopeSet) -> None:
        self.query_one(StatusBar).show(scope=message.globs)
        text = scope_notice(message.globs, message.files, message.unmatched)
        kind = "warning" if message.unmatched else "info"
        await self.query_one(ChatLog).add(Notice(text, kind=kind))

    @on(m.ScopeFailed)
    @on(m.StatusFailed)
    async def _failed(self, message: m.ScopeFailed | m.StatusFailed) -> None:
        await self.query_one(ChatLog).add_error(message.error)

    # Indexing.

    @property
    def indexing(self) -> bool:
        """The index is being updated (the progress row runs the update)."""
        return self.query_one(IndexProgress).running

    def action_update_index(self) -> None:
        """Bring the index up to date with the corpus, in the background."""
        if self.assistant is not None:
            self.query_one(IndexProgress).start(self.assistant)

    @on(m.IndexUpdated)
    async def _index_updated(self, message: m.IndexUpdated) -> None:
        self.query_one(IndexProgress).running = False
        await self.query_one(ChatLog).add_report(message.report)
        if self.focused is None and not self.busy:
            # The build button had focus; give it back to the question.
            self.query_one(QuestionInput).focus()
        self._read_status()

    @on(m.IndexFailed)
    async def _index_failed(self, message: m.IndexFailed) -> None:
        self.query_one(IndexProgress).running = False  # the update's, or the watcher's
        kind = "warning" if isinstance(message.error, Cancelled) else "error"
        await self.query_one(ChatLog).add_error(message.error, kind)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected exception in a worker: say so and give the prompt back."""
        if event.state == WorkerState.ERROR:
            self.notify(f"Unexpected error: {event.worker.error!r}", severity="error", markup=False)
            if event.worker.group == "ask":
                self.busy = False

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
        elif self.indexing:
            self.query_one(IndexProgress).cancel()
        elif self.query_one(SourcePane).display:
            self.query_one(SourcePane).close()

    @property
    def _corpus(self) -> Path | None:
        return self.assistant.settings.corpus if self.assistant is not None else None

    @on(m.CitationSelected)
    def _citation_selected(self, message: m.CitationSelected) -> None:
        corpus = message.corpus or self._corpus
        if corpus is not None:
            self.query_one(SourcePane).show(message.citation, corpus)

    def action_open_editor(self) -> None:
        """Open the cited file in $VISUAL/$EDITOR (or less) at the cited line."""
        open_cited(self, *self.query_one(SourcePane).cited(self.exchanges, self._corpus))

    def action_copy_answer(self) -> None:
        """Copy the last answer and its sources to the clipboard."""
        copy_last_answer(self, self.exchanges)

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
        if self.busy or self.indexing:
            self.notify("Wait for the question or the index update (esc cancels)")
            return
        try:
            assistant = self._collections[name]()
        except AssistantError as exc:
            await self.query_one(ChatLog).add_error(exc)
            return
        self.assistant, self.collection = assistant, name
        self._live.restart()  # the other collection's watcher stops, its commits forgotten
        self.conversation, self.model_ready = assistant.conversation(), False
        self.query_one(StatusBar).restart(name, assistant.settings.scope)
        await self._start(f"Now asking the collection {name} ({assistant.settings.corpus}).")
