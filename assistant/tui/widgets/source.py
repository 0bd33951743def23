"""The source pane: the cited passage, its sentence highlighted, and the file around it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ... import TEXT_SUFFIXES
from ...conversation import Exchange
from ...records import Citation
from ..render import excerpt_text, file_lines_text
from .question import QuestionInput

_CONTEXT_LINES = 3
_MAX_BYTES = 5_000_000


def inside(corpus: Path, relative: str) -> Path | None:
    """``corpus / relative`` resolved, or None if it leaves the corpus folder."""
    root = corpus.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


def read_cited_lines(corpus: Path, citation: Citation) -> tuple[int, list[str]] | None:
    """The cited lines with some context, as (first line number, lines), if readable."""
    if citation.page is not None:
        return None
    path = inside(corpus, citation.path)
    # Only plain-text formats: the others (PDF, DOCX, HTML) are converted to text first,
    # so their raw lines would not match the cited line numbers.
    if path is None or path.suffix.lower() not in TEXT_SUFFIXES:
        return None
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    first = max(1, citation.start_line - _CONTEXT_LINES)
    last = min(len(lines), citation.end_line + _CONTEXT_LINES)
    if first > last:
        return None
    return first, lines[first - 1 : last]


class SourcePane(VerticalScroll):
    """Shows one citation; hidden until a citation is selected."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.citation: Citation | None = None
        self.corpus: Path | None = None  # the folder the shown citation's file is in

    def compose(self) -> ComposeResult:
        yield Static(id="source-title")
        yield Static(id="source-excerpt")
        yield Static(id="source-lines")

    def cited(
        self, exchanges: Sequence[Exchange], corpus: Path | None
    ) -> tuple[Path | None, Citation | None]:
        """What ctrl+o opens: the citation shown here and its folder (perhaps another
        collection's, asked before a switch), else the first of the last answer in
        ``corpus``."""
        if self.display and self.corpus is not None:
            corpus = self.corpus
        if self.display and self.citation is not None:
            return corpus, self.citation
        answers = [e.answer for e in exchanges if e.answer and e.answer.citations]
        return corpus, answers[-1].citations[0] if answers else None

    def close(self) -> None:
        """Hide the pane and give the keys back to the question."""
        self.display = False
        self.app.query_one(QuestionInput).focus()

    def show(self, citation: Citation, corpus: Path) -> None:
        """Show ``citation``, reading its lines from the file in ``corpus`` if it can."""
        self.citation, self.corpus = citation, corpus
        title = Text(citation.location, style="bold")
        title.append(f"\nscore {citation.score:.2f} · ctrl+o opens it in your editor", "dim")
        self.query_one("#source-title", Static).update(title)
        self.query_one("#source-excerpt", Static).update(excerpt_text(citation))
        found = read_cited_lines(corpus, citation)
        lines = self.query_one("#source-lines", Static)
        lines.display = found is not None
        if found is not None:
            lines.update(file_lines_text(found[1], found[0], citation))
        self.display = True
        self.scroll_home(animate=False)
