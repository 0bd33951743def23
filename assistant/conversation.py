"""A conversation: the exchanges so far, and follow-ups given the context they lean on.

"When was he removed?" after "Who did Castillo defeat?" is searched as "When was he
removed? Castillo": the follow-up keeps its own words first (so its question word still
says what kind of answer is wanted) and borrows only the names of the last question that
stood on its own, not its other words, which would pull the answer back to the old topic.
``Conversation`` keeps the exchanges and the last question that stood on its own, and
writes them out as Markdown; every face (the TUI, ``batch --conversation``) asks through
it. Must not import textual, click or torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .records import NOT_FOUND, Answer

# Words that point back at something named earlier in the conversation.
_BACK_REFERENCES = frozenset(
    {"he", "she", "it", "they", "that", "this", "his", "her", "their", "him", "them", "its"}
)
# Questions this short ("And Boluarte?", "Why?") rarely stand on their own.
_SHORT_WORDS = 3
_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")
_NAME = re.compile(r"\b[A-Z][\w’'.-]*[\w]")
_NOT_NAMES = frozenset(
    "who whom whose what when where which why how is are was were do does did can could "
    "will would should the a an and or in on of to for with".split()
)


def looks_like_follow_up(question: str) -> bool:
    """Whether ``question`` seems to depend on the one asked before it."""
    words = _WORD.findall(question.lower())
    if not words:
        return False
    return len(words) <= _SHORT_WORDS or any(word in _BACK_REFERENCES for word in words)


def retrieval_query(question: str, previous: str | None) -> str:
    """The text to search with: ``question``, led by ``previous`` when it is a follow-up.

    Args:
        question: what the user typed (and what the chat shows).
        previous: the last question that stood on its own, or None at the start.
    """
    question = question.strip()
    if previous and looks_like_follow_up(question):
        context = carried_context(previous)
        return f"{question} {context}" if context else question
    return question


def carried_context(previous: str) -> str:
    """The names in ``previous`` (capitalized words that aren't question words), or, when
    it has none, its longer words."""
    names = [w.rstrip("’'s") for w in _NAME.findall(previous) if w.lower() not in _NOT_NAMES]
    if not names:
        names = [w for w in _WORD.findall(previous.lower()) if len(w) > 3 and w not in _NOT_NAMES]
    return " ".join(dict.fromkeys(names))


class Answerer(Protocol):
    """What a conversation needs from the core: ``Assistant`` is one."""

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer: ...

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]: ...

    def ask_all(
        self, questions: Iterable[str], *, k: int | None = None, mode: str | None = None
    ) -> Iterator[Answer]: ...


@dataclass(frozen=True)
class Exchange:
    """One question as the user typed it, and its answer or the error it met."""

    question: str
    answer: Answer | None = None
    error: str = ""


@dataclass
class Conversation:
    """Questions asked one after another; each follow-up borrows its topic's names."""

    answerer: Answerer
    exchanges: list[Exchange] = field(default_factory=list)
    topic: str | None = None  # the last question that stood on its own

    def query_for(self, question: str) -> str:
        """The text to search for ``question``; a question that stands on its own
        becomes the topic that later follow-ups lean on."""
        query = retrieval_query(question, self.topic)
        if not looks_like_follow_up(question):
            self.topic = question.strip()
        return query

    def record(self, question: str, answer: Answer | None = None, error: str = "") -> None:
        """Add an exchange: ``question`` as typed, with its answer or error."""
        self.exchanges.append(Exchange(question, answer, error))

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        """Answer ``question`` in the context of the conversation, and remember it."""
        searched = self.answerer.ask(self.query_for(question), k=k, mode=mode)
        answer = replace(searched, question=question)  # as typed, not as searched
        self.record(question, answer)
        return answer

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        """Answer ``questions`` in order, as if asked one by one, embedding them together.

        Which topic a follow-up borrows depends only on the questions before it, never
        on their answers, so the queries can be worked out first and searched in a batch.
        """
        queries = [self.query_for(question) for question in questions]
        searched = self.answerer.ask_many(queries, k=k, mode=mode)
        answers = [replace(a, question=q) for q, a in zip(questions, searched, strict=True)]
        for question, answer in zip(questions, answers, strict=True):
            self.record(question, answer)
        return answers

    def ask_all(
        self, questions: Iterable[str], *, k: int | None = None, mode: str | None = None
    ) -> Iterator[Answer]:
        """Answer a stream of questions in order, searched in the answerer's batches."""
        typed: list[str] = []

        def queries() -> Iterator[str]:
            for question in questions:
                typed.append(question)
                yield self.query_for(question)

        for n, searched in enumerate(self.answerer.ask_all(queries(), k=k, mode=mode)):
            answer = replace(searched, question=typed[n])
            self.record(typed[n], answer)
            yield answer

    def to_markdown(self) -> str:
        """The conversation as Markdown: each question, its answer and its sources."""
        out = ["# Excerpta conversation", ""]
        for exchange in self.exchanges:
            out += [f"## {exchange.question}", ""]
            answer = exchange.answer
            if answer is None:
                out += [f"*Error: {exchange.error}*", ""]
            elif answer.abstained:
                out += [NOT_FOUND, ""]
            else:
                out += [answer.text, ""]
                for c in answer.citations:
                    out.append(f"{c.n}. `{c.location}` (score {c.score:.2f})")
                    out += ["   > " + line for line in c.excerpt.splitlines() or [""]]
                out.append("")
        return "\n".join(out)

    def export_markdown(self, folder: Path, now: datetime | None = None) -> Path:
        """Write the conversation to a new Markdown file in ``folder``; return its path.

        Raises:
            OSError: the file could not be written.
        """
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        text = self.to_markdown()
        for attempt in range(100):
            suffix = f"-{attempt}" if attempt else ""
            path = folder / f"excerpta-{stamp}{suffix}.md"
            try:
                # "x" never overwrites a file that is already there.
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(text)
            except FileExistsError:
                continue
            return path
        raise FileExistsError(f"too many exports named excerpta-{stamp}*.md in {folder}")
