"""Follow-up questions borrow the names of the last question that stood on its own; a
``Conversation`` keeps the exchanges and writes them out as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from assistant.conversation import (
    Conversation,
    carried_context,
    looks_like_follow_up,
    retrieval_query,
)
from assistant.records import NOT_FOUND, Answer, Citation


def test_a_follow_up_keeps_its_words_first_and_borrows_names() -> None:
    previous = "Who did Castillo defeat in the election?"
    assert retrieval_query("When was he removed?", previous) == "When was he removed? Castillo"


def test_possessives_and_question_words_are_not_carried() -> None:
    assert carried_context("What did Gen. Laura Richardson say about Peru’s lithium?") == (
        "Gen Laura Richardson Peru"
    )


def test_without_names_the_longer_words_are_carried() -> None:
    assert retrieval_query("Why?", "how do protesters block the highways?") == (
        "Why? protesters block highways"
    )


def test_a_question_that_stands_alone_is_left_as_is() -> None:
    previous = "When was Castillo removed from office?"
    assert retrieval_query("Who is Dina Boluarte, the president?", previous) == (
        "Who is Dina Boluarte, the president?"
    )
    assert retrieval_query("Why?", None) == "Why?"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was Castillo removed from office?", False),
        ("Who defeated Pedro Castillo in the election?", False),
        ("What did he do next?", True),
        ("Why was that?", True),
        ("And Boluarte?", True),
        ("What were their demands?", True),
        ("", False),
    ],
)
def test_looks_like_follow_up(question: str, expected: bool) -> None:
    assert looks_like_follow_up(question) is expected


CITATION = Citation(
    n=1,
    path="peru.txt",
    start_line=7,
    end_line=8,
    page=None,
    char_start=0,
    char_end=10,
    score=0.875,
    excerpt="Castillo was removed.\nBoluarte took office.",
    sentence="Castillo was removed.",
)


class Answerer:
    """Answers every query with one cited sentence, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        return self.ask_many([question], k=k, mode=mode)[0]

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        self.asked.extend(questions)
        return [Answer(q, "Castillo was removed. [1]", False, (CITATION,)) for q in questions]


def test_a_follow_up_borrows_the_names_of_its_topic() -> None:
    answerer = Answerer()
    conversation = Conversation(answerer)
    conversation.ask("Who did Castillo defeat?")
    answer = conversation.ask("What was he charged with?")
    assert answerer.asked == ["Who did Castillo defeat?", "What was he charged with? Castillo"]
    assert answer.question == "What was he charged with?"  # as typed, not as searched


def test_a_question_that_stands_alone_becomes_the_topic() -> None:
    conversation = Conversation(Answerer())
    assert conversation.query_for("Who did Castillo defeat?") == "Who did Castillo defeat?"
    assert conversation.query_for("Who is Dina Boluarte?") == "Who is Dina Boluarte?"
    assert conversation.topic == "Who is Dina Boluarte?"
    assert conversation.query_for("Why was she chosen?") == "Why was she chosen? Dina Boluarte"
    assert conversation.topic == "Who is Dina Boluarte?"  # a follow-up never replaces it


def test_ask_many_is_asking_one_by_one_in_one_batch() -> None:
    answerer = Answerer()
    questions = ["Who did Castillo defeat?", "What was he charged with?", "Why?"]
    conversation = Conversation(answerer)
    answers = conversation.ask_many(questions)
    assert [a.question for a in answers] == questions
    assert answerer.asked[1:] == ["What was he charged with? Castillo", "Why? Castillo"]
    assert [(e.question, e.answer) for e in conversation.exchanges] == list(
        zip(questions, answers, strict=True)
    )


def test_record_keeps_the_exchanges_in_order() -> None:
    conversation = Conversation(Answerer())
    answer = conversation.ask("Who did Castillo defeat?")
    conversation.record("What was he charged with?", error="the index is locked")
    assert [(e.question, e.answer, e.error) for e in conversation.exchanges] == [
        ("Who did Castillo defeat?", answer, ""),
        ("What was he charged with?", None, "the index is locked"),
    ]


def test_to_markdown_shows_answers_abstentions_and_errors(tmp_path: Path) -> None:
    conversation = Conversation(Answerer())
    conversation.ask("When was Castillo removed?")
    conversation.record("What is the weather?", Answer("What is the weather?", "", True))
    conversation.record("Why?", error="the index is locked")
    expected = "\n".join(
        [
            "# Excerpta conversation",
            "",
            "## When was Castillo removed?",
            "",
            "Castillo was removed. [1]",
            "",
            "1. `peru.txt · lines 7–8` (score 0.88)",
            "   > Castillo was removed.",
            "   > Boluarte took office.",
            "",
            "## What is the weather?",
            "",
            NOT_FOUND,
            "",
            "## Why?",
            "",
            "*Error: the index is locked*",
            "",
        ]
    )
    assert conversation.to_markdown() == expected
    now = datetime(2024, 5, 1, 12, 30, 0)
    first = conversation.export_markdown(tmp_path, now=now)
    second = conversation.export_markdown(tmp_path, now=now)
    assert first.name == "excerpta-20240501-123000.md"
    assert second.name == "excerpta-20240501-123000-1.md"  # never overwritten
    assert first.read_text(encoding="utf-8") == expected
