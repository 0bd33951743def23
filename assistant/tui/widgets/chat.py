"""The chat log: questions, answers with their citations, and notices.

A new answer is shown from its question down, so the answer sentence stays in view; the
excerpts beyond the first fold to one line where the whole answer would not fit.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Static

from ...errors import AssistantError, IndexUnusableError
from ...records import TRUNCATED, Answer, Citation, IndexReport
from ..messages import CitationSelected
from ..render import answer_text, citation_heading, citation_text
from .question import QuestionInput


class QuestionEntry(Static):
    """A question as the user typed it; a pasted page shows its beginning only, so that
    the answer stays on screen."""

    SHOWN_CHARS = 200

    def __init__(self, question: str) -> None:
        # A str would be parsed as markup; the user's text is data.
        text = Text(question[: self.SHOWN_CHARS])
        if len(question) > self.SHOWN_CHARS:
            text.append(f" … ({len(question.split()):,} words in all)", style="italic")
        super().__init__(text)
        self.question = question


class CitationView(Static, can_focus=True):
    """One citation; enter or a click opens it in the source pane."""

    BINDINGS = [Binding("enter", "select", "Open source", show=False)]

    folded: reactive[bool] = reactive(False, init=False)
    """Only the citation's heading shows (the answer needed the room); focus unfolds it."""

    def __init__(self, citation: Citation, corpus: Path | None = None) -> None:
        super().__init__(citation_text(citation))
        self.citation = citation
        self.corpus = corpus

    def watch_folded(self, folded: bool) -> None:
        self.set_class(folded, "folded")
        citation = self.citation
        self.update(citation_heading(citation, folded=True) if folded else citation_text(citation))

    def on_focus(self) -> None:
        self.folded = False

    def action_select(self) -> None:
        self.post_message(CitationSelected(self.citation, self.corpus))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_select()


class AnswerEntry(Vertical):
    """An answer, then each of its citations."""

    def __init__(self, answer: Answer, corpus: Path | None = None) -> None:
        super().__init__(classes="abstained" if answer.abstained else "")
        self.answer = answer
        self.corpus = corpus  # where its citations' files are

    def compose(self) -> ComposeResult:
        yield Static(answer_text(self.answer), classes="answer-text")
        for citation in self.answer.citations:
            yield CitationView(citation, self.corpus)


class Notice(Static):
    """Something the app tells the user: an error with its hint, a progress report."""

    def __init__(self, message: str, hint: str = "", *, kind: str = "info") -> None:
        text = Text(message)
        if hint:
            text.append("\n" + hint, style="italic")
        super().__init__(text, classes=kind)


class BuildOffer(Vertical):
    """The offer to build (or rebuild) the index when there is none to use."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(classes="build-offer")
        self._message = message
        self._hint = hint

    def compose(self) -> ComposeResult:
        yield Notice(self._message, self._hint, kind="warning")
        yield Button("Build index (ctrl+r)", id="build-index", variant="primary")

    @on(Button.Pressed, "#build-index")
    async def _build(self, event: Button.Pressed) -> None:
        event.stop()
        await self.app.run_action("update_index")


class ChatLog(VerticalScroll):
    """The scrolling conversation; number keys open the citations of an answer."""

    BINDINGS = [
        *(Binding(str(n), f"cite({n})", f"Source {n}", show=False) for n in range(1, 10)),
        Binding("question_mark", "app.help", "Help", show=False),
    ]

    def on_key(self, event: events.Key) -> None:
        """Typing while a citation has focus goes to the question, not into the void."""
        bound = {str(n) for n in range(1, 10)} | {"?"}
        if event.is_printable and event.character and event.character not in bound:
            entry = self.app.query_one(QuestionInput)
            if not entry.disabled:
                event.stop()
                entry.focus()
                entry.insert_text_at_cursor(event.character)

    async def add(self, entry: Static | Vertical) -> None:
        """Append an entry and keep the newest in view: an answer from its question on."""
        await self.mount(entry)
        if isinstance(entry, AnswerEntry):
            self.call_after_refresh(self._show_answer, entry)
        else:
            self.scroll_end(animate=False)

    async def add_error(self, error: AssistantError, kind: str = "error") -> None:
        """Append an error and its hint."""
        await self.add(Notice(error.message, error.hint, kind=kind))

    async def advise(self, advice: tuple[str, str] | None) -> None:
        """Show advice (message, hint) as a warning, once however often it is given."""
        if advice is not None and advice != getattr(self, "_advised", None):
            self._advised = advice
            await self.add(Notice(*advice, kind="warning"))

    async def offer_build(self, problem: str) -> None:
        """Append an offer to build the index, saying why there is none to use."""
        await self.add(BuildOffer(problem, "Build it now to start asking questions."))

    async def add_answer(self, answer: Answer, corpus: Path | None) -> None:
        """Append an answer, and a warning if its question was cut short."""
        await self.add(AnswerEntry(answer, corpus))
        if answer.question_truncated:
            await self.add(Notice(TRUNCATED, kind="warning"))

    async def add_failure(self, error: AssistantError) -> None:
        """Append why a question failed: an offer to build the index where none is usable."""
        if isinstance(error, IndexUnusableError):
            await self.add(BuildOffer(error.message, error.hint))
        else:
            await self.add_error(error)

    async def add_report(self, report: IndexReport) -> None:
        """Append an index update's counts; the offers to build the index go."""
        await self.add(
            Notice(
                f"Index updated: {len(report.added)} added, {len(report.changed)} changed, "
                f"{len(report.removed)} removed; {report.chunks_total} chunks.",
                kind="success",
            )
        )
        await self.query(BuildOffer).remove()

    def _show_answer(self, entry: AnswerEntry) -> None:
        """Fold the excerpts beyond the first until question and answer fit, then show
        them from the question down."""
        questions = [w for w in self.children if isinstance(w, QuestionEntry)]
        top: Widget = questions[-1] if questions else entry
        room = self.scrollable_content_region.height
        needed = entry.virtual_region.bottom - top.virtual_region.y
        for view in reversed(list(entry.query(CitationView))[1:]):
            if needed <= room:
                break
            needed -= view.outer_size.height - 1
            view.folded = True
        self.call_after_refresh(self.scroll_to_widget, top, animate=False, top=True)

    def action_cite(self, n: int) -> None:
        """Open citation ``n`` of the focused answer, or of the latest one."""
        focused = self.screen.focused
        answers = list(self.query(AnswerEntry))
        chosen = next((a for a in answers if focused in a.walk_children()), None)
        answer = chosen or (answers[-1] if answers else None)
        if answer is None:
            return
        for citation in answer.answer.citations:
            if citation.n == n:
                self.post_message(CitationSelected(citation, answer.corpus))
                return
        self.app.bell()
