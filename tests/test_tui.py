"""The Textual app driven by Pilot, with a fake assistant: no model, no torch, no index."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Button, ProgressBar

from assistant.config import Settings
from assistant.conversation import Conversation
from assistant.core import Status
from assistant.errors import AssistantError, Cancelled, IndexMissingError
from assistant.globs import check_globs
from assistant.records import TRUNCATED, Answer, AnswerSpan, Citation, IndexReport
from assistant.store.scope import Selection, select_scope
from assistant.tui import ExcerptaApp
from assistant.tui.widgets import (
    AnswerEntry,
    ChatLog,
    CitationView,
    HelpScreen,
    IndexProgress,
    Notice,
    QuestionEntry,
    QuestionInput,
    SourcePane,
    StatusBar,
)
from assistant.tui.widgets.chat import BuildOffer
from assistant.tui.widgets.source import inside, read_cited_lines

MARKUP_NAME = "[red]x[/red].txt"
LINES = [f"Line {n} of the article." for n in range(1, 13)]
LINES[6] = "Castillo was removed from office on Dec. 7, 2022."  # line 7


def citation(n: int, path: str, line: int, sentence: str) -> Citation:
    before = "Some context before. "
    return Citation(
        n=n,
        path=path,
        start_line=line,
        end_line=line,
        page=None,
        char_start=0,
        char_end=len(sentence),
        score=0.9 - n / 10,
        excerpt=before + sentence + " Some context after.",
        sentence=sentence,
        sentence_offset=len(before),
    )


ANSWER = Answer(
    question="When was Castillo removed from office?",
    text=f"{LINES[6]} [1]",
    abstained=False,
    citations=(
        citation(1, "peru.txt", 7, LINES[6]),
        citation(2, MARKUP_NAME, 2, "A [bold]second[/bold] sentence about it."),
    ),
)


CONTEXT = (
    "Protests spread from the southern regions to Lima within days, and the government "
    "answered with a state of emergency. "
)


def long_citation(n: int, sentence: str) -> Citation:
    """A citation with a long excerpt, as real documents give."""
    return Citation(
        n=n,
        path="peru.txt",
        start_line=n + 6,
        end_line=n + 6,
        page=None,
        char_start=1000 * n,
        char_end=1000 * n + len(sentence),
        score=0.9 - n / 10,
        excerpt=CONTEXT + sentence + " " + CONTEXT,
        sentence=sentence,
        sentence_offset=len(CONTEXT),
    )


REMOVED = "The coup that removed Castillo came on Dec. 7, 2022, after a vote in Congress."
READ_ANSWER = Answer(
    question="When was Castillo removed?",
    text=f"{REMOVED} [1]",
    abstained=False,
    citations=(
        long_citation(1, REMOVED),
        long_citation(2, "Castillo had won the presidency in a surprise victory in 2021."),
        long_citation(3, "Boluarte, his vice president, was sworn in the same day."),
    ),
    span=AnswerSpan(1, "Dec. 7, 2022", 1000 + REMOVED.index("Dec."), 1000 + REMOVED.index(",")),
)


class FakeAssistant:
    """Stands in for ``Assistant``; records what it was asked."""

    def __init__(self, corpus: Path, *, index_ready: bool = True) -> None:
        self.settings = Settings(corpus=corpus, index=corpus.parent / "index")
        self.index_ready = index_ready
        self.asked: list[str] = []
        self.error: Exception | None = None
        self.hold_ask: threading.Event | None = None  # set it to let ask return
        self.hold_index: threading.Event | None = None
        self.progress_sent = threading.Event()
        self.reply = ANSWER  # what a question that isn't about the weather gets
        self.generation = 1  # the index's commit; a test bumps it as a watcher would
        self.refreshed = 0

    def warm_up(self) -> None:
        pass

    def committed(self) -> int:
        return self.generation

    def refresh_index(self) -> None:
        self.refreshed += 1

    def watcher(self, **callbacks: Any) -> Any:
        raise AssertionError("watch = true is not set in these tests")

    def status(self) -> Status:
        ready = self.index_ready
        return Status(
            ready, "", "fake-model", 2 if ready else 0, 40 if ready else 0, "", 0, 0, 0, 0
        )

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        self.asked.append(question)
        if self.hold_ask is not None:
            self.hold_ask.wait(5)
        if self.error is not None:
            raise self.error
        if not self.index_ready:
            raise IndexMissingError("no index in index", hint="build it: excerpta index")
        if "weather" in question:
            return Answer(question, "", True)
        return self.reply

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        return [self.ask(question, k=k, mode=mode) for question in questions]

    def conversation(self) -> Conversation:
        return Conversation(self)

    def set_scope(self, globs: Sequence[str]) -> None:
        self.settings = dataclasses.replace(self.settings, scope=check_globs(globs))

    def selection(self) -> Selection | None:
        if not self.settings.scope:
            return None
        files = ["peru.txt", MARKUP_NAME]
        return select_scope(files, lambda paths: np.arange(len(paths)), self.settings.scope)

    def update_index(
        self,
        *,
        full: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        assert progress is not None and cancel is not None
        for done in range(3):
            progress("embedding", done, 4)
        self.progress_sent.set()
        if self.hold_index is not None:
            self.hold_index.wait(5)
        if cancel.is_set():
            raise Cancelled("indexing cancelled; the previous index is unchanged")
        progress("writing", 1, 1)
        self.index_ready = True
        return IndexReport(added=["peru.txt", MARKUP_NAME], chunks_total=40)


@pytest.fixture
def fake(tmp_path: Path) -> FakeAssistant:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "peru.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    # The "/" in the name makes it a file in a folder named "[red]x[", both taken literally.
    marked = corpus / MARKUP_NAME
    marked.parent.mkdir()
    marked.write_text("One.\nA [bold]second[/bold] sentence about it.\n", encoding="utf-8")
    return FakeAssistant(corpus)


Scenario = Callable[[ExcerptaApp, Pilot[int]], Awaitable[None]]


def drive(fake: FakeAssistant, scenario: Scenario, size: tuple[int, int] = (100, 30)) -> None:
    """Run ``scenario`` against a fresh app once the first status has been read."""

    async def main() -> None:
        app = ExcerptaApp(make_assistant=lambda: fake)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await scenario(app, pilot)

    asyncio.run(main())


async def settle(app: ExcerptaApp, pilot: Pilot[int]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def ask(app: ExcerptaApp, pilot: Pilot[int], question: str) -> None:
    app.query_one(QuestionInput).value = question
    await pilot.press("enter")
    await settle(app, pilot)


def plain(widget: Any) -> str:
    """The text a widget shows, after any markup was (wrongly) interpreted."""
    visual = widget.visual
    assert isinstance(visual, Content)
    return visual.plain


def chat_text(app: ExcerptaApp) -> str:
    chat = app.query_one(ChatLog)
    return "\n".join(plain(w) for w in chat.query("Static") if not isinstance(w, Button))


def test_answer_shows_sentence_markers_and_citations(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        assert "fake-model (ready)" in plain(app.query_one(StatusBar))
        assert "2 documents · 40 chunks" in plain(app.query_one(StatusBar))
        await ask(app, pilot, "When was Castillo removed from office?")
        assert [plain(q) for q in app.query(QuestionEntry)] == [
            "When was Castillo removed from office?"
        ]
        entry = app.query_one(AnswerEntry)
        assert plain(entry.query_one(".answer-text")) == f"{LINES[6]} [1]"
        views = list(entry.query(CitationView))
        assert len(views) == 2
        first = plain(views[0])
        assert first.startswith("[1] peru.txt · line 7  score 0.80")
        assert "Some context before. Castillo was removed" in first
        assert app.query_one(QuestionInput).disabled is False
        assert app.focused is app.query_one(QuestionInput)

    drive(fake, scenario)


def test_a_new_answer_shows_from_its_question_with_the_phrase_marked(
    fake: FakeAssistant,
) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        for _ in range(3):  # history enough that the end of the chat is far below
            await ask(app, pilot, "When was Castillo removed from office?")
        fake.reply = READ_ANSWER
        await ask(app, pilot, "When was Castillo removed?")
        await pilot.pause()
        chat = app.query_one(ChatLog)
        question = list(app.query(QuestionEntry))[-1]
        entry = list(app.query(AnswerEntry))[-1]
        shown = chat.content_region
        # The question and all of its answer are in view (the chat ends below them).
        assert shown.y <= question.region.y and entry.region.bottom <= shown.bottom
        answer = entry.query_one(".answer-text")
        assert answer.region.y == question.region.y + 1
        # The phrase is marked inside the answer sentence.
        content = answer.visual
        assert isinstance(content, Content)
        marked = [content.plain[s.start : s.end] for s in content.spans if "underline" in str(s)]
        assert marked == ["Dec. 7, 2022"]
        # The first excerpt shows whole; the others fold to a line, and fit.
        first, *others = entry.query(CitationView)
        assert not first.folded and "Protests spread" in plain(first)
        assert others and all(v.folded for v in others)
        assert plain(others[0]) == "[2] peru.txt · line 8  score 0.70  …"
        # Focus unfolds a folded citation.
        others[0].focus()
        await pilot.pause()
        assert not others[0].folded and "surprise victory" in plain(others[0])

    drive(fake, scenario, size=(80, 24))


def test_an_answer_with_room_to_spare_folds_nothing(fake: FakeAssistant) -> None:
    fake.reply = READ_ANSWER

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed?")
        await pilot.pause()
        assert not [v for v in app.query(CitationView) if v.folded]

    drive(fake, scenario, size=(100, 60))


def test_abstained_answer_says_not_found(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "What is the weather tomorrow in Lima?")
        entry = app.query_one(AnswerEntry)
        assert plain(entry.query_one(".answer-text")) == "Not found in your documents."
        assert not entry.query(CitationView)

    drive(fake, scenario)


def test_error_shows_message_and_hint_and_gives_prompt_back(fake: FakeAssistant) -> None:
    fake.error = AssistantError("the model could not be loaded", hint="check the model name")

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed?")
        notices = [plain(n) for n in app.query(Notice) if n.has_class("error")]
        assert notices == ["the model could not be loaded\ncheck the model name"]
        assert not app.query(AnswerEntry)
        assert app.query_one(QuestionInput).disabled is False
        assert app.busy is False

    drive(fake, scenario)


def test_unexpected_exception_gives_prompt_back(fake: FakeAssistant) -> None:
    fake.error = RuntimeError("boom")

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed?")
        assert app.busy is False
        assert app.query_one(QuestionInput).disabled is False

    drive(fake, scenario)


def test_busy_while_answering_and_escape_drops_the_answer(fake: FakeAssistant) -> None:
    fake.hold_ask = threading.Event()

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        app.query_one(QuestionInput).value = "When was Castillo removed?"
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(QuestionInput).disabled is True
        assert app.query_one("#busy").display is True
        await pilot.press("escape")
        assert fake.hold_ask is not None
        fake.hold_ask.set()
        await settle(app, pilot)
        assert not app.query(AnswerEntry)
        assert app.exchanges == []  # the cancelled answer is not part of the conversation
        assert app.query_one(QuestionInput).disabled is False
        assert app.query_one("#busy").display is False

    drive(fake, scenario)


def test_no_index_offers_to_build_and_building_completes(fake: FakeAssistant) -> None:
    fake.index_ready = False

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        assert "no index" in plain(app.query_one(StatusBar))
        assert app.query_one(BuildOffer)
        await pilot.click("#build-index")
        await settle(app, pilot)
        assert fake.index_ready
        assert not app.query(BuildOffer)
        assert "Index updated: 2 added" in chat_text(app)
        assert "index up to date" in plain(app.query_one(StatusBar))
        await ask(app, pilot, "When was Castillo removed?")
        assert app.query_one(AnswerEntry)

    drive(fake, scenario)


def test_missing_index_on_ask_offers_to_build(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        fake.index_ready = False  # the index vanished after the status was read
        await ask(app, pilot, "When was Castillo removed?")
        offer = app.query_one(BuildOffer)
        assert "build it: excerpta index" in plain(offer.query_one(Notice))
        assert [(e.question, e.error) for e in app.exchanges] == [
            ("When was Castillo removed?", "no index in index")
        ]

    drive(fake, scenario)


def test_rebuild_shows_progress_then_completes(fake: FakeAssistant) -> None:
    fake.hold_index = threading.Event()

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+r")
        await asyncio.to_thread(fake.progress_sent.wait, 5)
        await pilot.pause()
        assert app.query_one(IndexProgress).display is True
        bar = app.query_one(ProgressBar)
        assert (bar.progress, bar.total) == (2, 4)
        # The chat stays usable on the old index meanwhile.
        assert app.query_one(QuestionInput).disabled is False
        assert fake.hold_index is not None
        fake.hold_index.set()
        await settle(app, pilot)
        assert app.query_one(IndexProgress).display is False
        assert "Index updated" in chat_text(app)

    drive(fake, scenario)


def test_an_unexpected_error_in_the_update_is_shown_and_hides_the_progress(
    fake: FakeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> IndexReport:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(fake, "update_index", broken)

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert app.indexing is False
        assert app.query_one(IndexProgress).display is False
        shown = [n.message for n in app._notifications]
        assert any("Unexpected error" in text and "disk on fire" in text for text in shown)
        await pilot.press("ctrl+r")  # and the next update can start
        await settle(app, pilot)
        assert len(app._notifications) == 2

    drive(fake, scenario)


def test_escape_cancels_rebuild(fake: FakeAssistant) -> None:
    fake.hold_index = threading.Event()

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+r")
        await asyncio.to_thread(fake.progress_sent.wait, 5)
        await pilot.press("escape")
        assert fake.hold_index is not None
        fake.hold_index.set()
        await settle(app, pilot)
        assert app.indexing is False
        assert "indexing cancelled" in chat_text(app)
        assert "Index updated" not in chat_text(app)

    drive(fake, scenario)


def test_selecting_a_citation_opens_the_source_at_its_line(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed from office?")
        pane = app.query_one(SourcePane)
        assert pane.display is False
        await pilot.click(CitationView)  # the first one
        await pilot.pause()
        assert pane.display is True
        assert plain(pane.query_one("#source-title")).startswith("peru.txt · line 7")
        excerpt = pane.query_one("#source-excerpt").content
        highlighted = [excerpt.plain[s.start : s.end] for s in excerpt.spans]
        assert highlighted == [LINES[6]]
        lines = plain(pane.query_one("#source-lines")).splitlines()
        assert lines[0] == " 4 │ Line 4 of the article."
        assert lines[3] == f" 7 ▌ {LINES[6]}"
        await pilot.press("escape")
        assert pane.display is False

    drive(fake, scenario)


def test_keyboard_opens_citations(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed from office?")
        await pilot.press("shift+tab")  # from the input back to the last citation
        assert isinstance(app.focused, CitationView) and app.focused.citation.n == 2
        await pilot.press("1")
        pane = app.query_one(SourcePane)
        assert pane.citation is not None and pane.citation.n == 1
        await pilot.press("enter")
        assert pane.citation.n == 2
        await pilot.press("w", "h", "y")  # typing while a citation has focus
        entry = app.query_one(QuestionInput)
        assert app.focused is entry and entry.value == "why"

    drive(fake, scenario)


def test_file_names_and_text_with_markup_render_literally(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "[b]When[/b] was Castillo removed from office?")
        assert plain(app.query_one(QuestionEntry)).startswith("[b]When[/b]")
        second = app.query(CitationView)[1]
        assert f"[2] {MARKUP_NAME} · line 2" in plain(second)
        assert "A [bold]second[/bold] sentence" in plain(second)
        await pilot.click(second)
        lines = plain(app.query_one("#source-lines"))
        assert "2 ▌ A [bold]second[/bold] sentence about it." in lines

    drive(fake, scenario)


def test_follow_up_is_searched_with_the_previous_question(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed from office?")
        await ask(app, pilot, "What did he do before that?")
        assert fake.asked[1] == "What did he do before that? Castillo"
        shown = [plain(q) for q in app.query(QuestionEntry)]
        assert shown[1] == "What did he do before that?"
        assert [e.question for e in app.exchanges] == [
            "When was Castillo removed from office?",
            "What did he do before that?",
        ]

    drive(fake, scenario)


def test_history_up_and_down(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "first question about Castillo")
        await ask(app, pilot, "second question about Boluarte")
        entry = app.query_one(QuestionInput)
        entry.value = "draft"
        await pilot.press("up")
        assert entry.value == "second question about Boluarte"
        await pilot.press("up", "up")
        assert entry.value == "first question about Castillo"
        await pilot.press("down", "down")
        assert entry.value == "draft"

    drive(fake, scenario)


def test_copy_export_and_help(
    fake: FakeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was Castillo removed from office?")
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith(f"{LINES[6]} [1]")
        assert "[1] peru.txt · line 7" in app.clipboard
        await pilot.press("ctrl+s")
        exported = list(tmp_path.glob("excerpta-*.md"))
        assert len(exported) == 1
        text = exported[0].read_text(encoding="utf-8")
        assert "## When was Castillo removed from office?" in text
        assert f"2. `{MARKUP_NAME} · line 2`" in text
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(fake, scenario)


def test_source_lines_never_leave_the_corpus(fake: FakeAssistant) -> None:
    corpus = fake.settings.corpus
    (corpus.parent / "secret.txt").write_text("secret\n" * 10, encoding="utf-8")
    outside = citation(1, "../secret.txt", 2, "secret")
    assert inside(corpus, "../secret.txt") is None
    assert read_cited_lines(corpus, outside) is None
    assert read_cited_lines(corpus, citation(1, "peru.txt", 7, LINES[6])) == (4, LINES[3:10])


# Snapshots: the same fake, run from its folder so no temporary path shows on screen.


@pytest.fixture
def here(fake: FakeAssistant, monkeypatch: pytest.MonkeyPatch) -> FakeAssistant:
    monkeypatch.chdir(fake.settings.corpus.parent)
    fake.settings = Settings(corpus=Path("corpus"), index=Path("index"))
    return fake


async def steady(pilot: Pilot[int]) -> None:
    """Settle, with the cursor shown steadily: a blink could be caught either way."""
    pilot.app.query_one(QuestionInput).cursor_blink = False
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


async def answered(pilot: Pilot[int]) -> None:
    app = pilot.app
    await steady(pilot)
    await ask(app, pilot, "When was Castillo removed from office?")  # type: ignore[arg-type]


def snapshot_app(fake: FakeAssistant) -> ExcerptaApp:
    return ExcerptaApp(make_assistant=lambda: fake)


def test_snapshot_empty(here: FakeAssistant, snap_compare: Any) -> None:
    assert snap_compare(snapshot_app(here), terminal_size=(100, 30), run_before=steady)


def test_snapshot_answered(here: FakeAssistant, snap_compare: Any) -> None:
    assert snap_compare(snapshot_app(here), terminal_size=(100, 30), run_before=answered)


def test_snapshot_source_pane(here: FakeAssistant, snap_compare: Any) -> None:
    async def opened(pilot: Pilot[int]) -> None:
        await answered(pilot)
        await pilot.click(CitationView)
        await pilot.pause()

    assert snap_compare(snapshot_app(here), terminal_size=(100, 30), run_before=opened)


def test_snapshot_narrow_answered(here: FakeAssistant, snap_compare: Any) -> None:
    async def read(pilot: Pilot[int]) -> None:
        await answered(pilot)
        here.reply = READ_ANSWER
        await ask(pilot.app, pilot, "When was Castillo removed?")  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(snapshot_app(here), terminal_size=(80, 24), run_before=read)


def test_snapshot_narrow_error(here: FakeAssistant, snap_compare: Any) -> None:
    here.error = AssistantError("the index is locked", hint="wait for the other update")
    assert snap_compare(snapshot_app(here), terminal_size=(80, 24), run_before=answered)


def test_a_new_commit_is_noticed_in_the_status_bar(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        bar = app.query_one(StatusBar)
        app._poll_commit()  # what the 1-second timer runs; the first look is remembered
        await settle(app, pilot)
        assert "index updated" not in plain(bar) and fake.refreshed == 0
        fake.generation = 2  # a watcher (or another process) committed
        app._poll_commit()
        await settle(app, pilot)
        assert "index updated (commit 2)" in plain(bar)
        assert fake.refreshed == 1  # the next question searches the new commit
        assert "ctrl+r" not in plain(bar)  # the corpus is not ahead of the index

    drive(fake, scenario)


def test_in_sets_the_scope_shows_it_and_in_alone_clears_it(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "/in *.txt")
        assert fake.settings.scope == ("*.txt",) and fake.asked == []
        # first in the bar, so an 80-column terminal doesn't cut it off
        assert plain(app.query_one(StatusBar)).startswith("scope: *.txt · ")
        assert "Questions now search only *.txt (2 files)" in chat_text(app)
        await ask(app, pilot, "/in 'notes/**'")
        assert "No indexed file matches 'notes/**'" in chat_text(app)
        await ask(app, pilot, "/in")
        assert fake.settings.scope == ()
        assert "scope:" not in plain(app.query_one(StatusBar))
        assert "Scope cleared" in chat_text(app)
        await ask(app, pilot, "When was Castillo removed from office?")
        assert fake.asked == ["When was Castillo removed from office?"]

    drive(fake, scenario)


class _RecordingWatcher:
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.running = threading.Event()

    def run(self) -> None:
        self.running.set()
        self.stop.wait(5)


def test_watch_setting_runs_the_watcher_until_the_app_quits(fake: FakeAssistant) -> None:
    fake.settings = replace(fake.settings, watch=True)
    made: list[_RecordingWatcher] = []

    def watcher(*, stop: threading.Event, **callbacks: Any) -> _RecordingWatcher:
        made.append(_RecordingWatcher(stop))
        return made[-1]

    fake.watcher = watcher  # type: ignore[method-assign]

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        assert made and made[0].running.wait(5)
        assert not made[0].stop.is_set()

    drive(fake, scenario)
    assert made[0].stop.is_set()  # unmounting stopped it


def test_a_citation_of_ocrd_text_is_marked(fake: FakeAssistant) -> None:
    scanned = dataclasses.replace(citation(1, "scan.pdf", 3, "The quay was rebuilt."), ocr=True)
    fake.reply = Answer(
        "When was the quay rebuilt?", "The quay was rebuilt. [1]", False, (scanned,)
    )

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "When was the quay rebuilt?")
        view = app.query_one(AnswerEntry).query_one(CitationView)
        assert plain(view).startswith("[1] scan.pdf · line 3  score 0.80  OCR")

    drive(fake, scenario)


def test_an_excerpt_keeps_its_list_items_on_their_own_lines_and_rejoins_prose() -> None:
    from assistant.tui.render import excerpt_text

    excerpt = (
        "It rained.\nThe protesters are demanding:\n\n  • the resignation of X,\n  • and a vote."
    )
    sentence = "The protesters are demanding:"
    citation = Citation(
        1, "a.txt", 1, 5, None, 0, 0, 0.9, excerpt, sentence, excerpt.index(sentence)
    )
    text = excerpt_text(citation)
    assert text.plain == (
        "It rained. The protesters are demanding:\n\n  • the resignation of X,\n  • and a vote."
    )
    highlighted = [text.plain[s.start : s.end] for s in text.spans]
    assert highlighted == [sentence]


def test_a_pasted_page_shows_its_beginning_and_says_it_was_cut(fake: FakeAssistant) -> None:
    fake.reply = replace(ANSWER, question_truncated=True)
    page = "When was Castillo removed? " + "And more words of the page. " * 200

    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, page)
        shown = plain(app.query_one(QuestionEntry))
        assert shown.startswith("When was Castillo removed?") and len(shown) < 300
        assert shown.endswith("(1,204 words in all)")
        assert TRUNCATED in chat_text(app) and fake.asked == [page.strip()]
        assert len(app.query("AnswerEntry")) == 1

    drive(fake, scenario, size=(80, 24))


def test_a_glob_over_the_limit_is_refused_with_a_message(fake: FakeAssistant) -> None:
    async def scenario(app: ExcerptaApp, pilot: Pilot[int]) -> None:
        await ask(app, pilot, "/in notes/**")
        await ask(app, pilot, "/in " + "*" * 1001)
        assert "over the limit of 1,000" in chat_text(app)
        assert fake.settings.scope == ("notes/**",)  # the scope it had

    drive(fake, scenario)
