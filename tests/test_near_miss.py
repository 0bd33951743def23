"""The quality benchmark's near-miss questions: one fact changed, or the question negated."""

from __future__ import annotations

import random

from benchmarks.near_miss import near_misses, perturb

PARAGRAPH = "Castillo was removed from office on December 7, 2022, by the Congress of Peru."
ARTICLE = (
    PARAGRAPH + " Boluarte took office the same day. In 2021 Castillo defeated Keiko Fujimori. "
    "Protests began on January 4 in Puno, and 48 people died."
)


def test_a_date_is_swapped_for_another_from_the_article() -> None:
    question = "Who was removed from office on December 7, 2022?"
    assert perturb(question, PARAGRAPH, ARTICLE, random.Random(0)) == (
        "Who was removed from office on January 4?"
    )


def test_a_year_or_a_number_is_swapped_for_one_the_paragraph_lacks() -> None:
    assert perturb("What happened in 2022?", PARAGRAPH, ARTICLE, random.Random(0)) == (
        "What happened in 2021?"
    )
    changed = perturb("Were 7 people removed?", PARAGRAPH, ARTICLE, random.Random(0))
    assert changed == "Were 48 people removed?"


def test_a_name_is_swapped_for_another_name_of_the_article() -> None:
    changed = perturb("When was Castillo removed?", PARAGRAPH, ARTICLE, random.Random(0))
    assert changed is not None and changed != "When was Castillo removed?"
    name = changed.removeprefix("When was ").removesuffix(" removed?")
    assert name in ARTICLE and name not in PARAGRAPH


def test_without_a_swap_the_question_is_negated() -> None:
    changed = perturb(
        "What did the vote decide?", "The vote decided.", "The vote decided.", random.Random(0)
    )
    assert changed == "What didn't the vote decide?"
    assert perturb("Why so?", "So.", "So.", random.Random(0)) is None


def test_near_misses_are_seeded() -> None:
    rows = [("When was Castillo removed?", PARAGRAPH, ARTICLE), ("Why so?", "So.", "So.")]
    assert near_misses(rows) == near_misses(rows)
    assert [i for i, _ in near_misses(rows)] == [0]
