"""Follow-up questions borrow the names of the last question that stood on its own."""

from __future__ import annotations

from assistant.conversation import carried_context, retrieval_query


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
