"""Near misses (training/near_miss.py): one fact changed, or the question negated."""

from __future__ import annotations

import random
from typing import Any

import pytest

from training.near_miss import entity_inventory, perturb
from training.reader_data import near_misses

PARAGRAPH = "Castillo was removed from office on December 7, 2022, by the Congress of Peru."
ARTICLE = (
    PARAGRAPH + " Boluarte took office the same day. In 2021 Castillo defeated Keiko Fujimori. "
    "Protests began in January in Puno, and 48 people died."
)
INVENTORY = entity_inventory(ARTICLE)


def test_the_inventory_holds_each_kind_once_in_order_of_appearance() -> None:
    assert INVENTORY == {
        "month": ["December", "January"],
        "year": ["2022", "2021"],
        "number": ["7", "48"],  # years are not numbers too
        # A lone capitalized word that opens a sentence is not taken for a name.
        "name": ["Congress of Peru", "Castillo", "Keiko Fujimori", "Puno"],
    }


@pytest.mark.parametrize(
    ("question", "changed"),
    [
        ("What happened in 2022?", "What happened in 2021?"),
        ("Were 7 people removed?", "Were 48 people removed?"),
        ("What happened in December?", "What happened in January?"),
    ],
)
def test_a_year_number_or_month_is_swapped_for_one_the_paragraph_lacks(
    question: str, changed: str
) -> None:
    assert perturb(question, PARAGRAPH, INVENTORY, random.Random(0)) == changed


def test_a_name_is_swapped_for_another_name_of_the_article_absent_from_the_paragraph() -> None:
    names = set()
    for seed in range(20):
        changed = perturb(
            "When did the Congress of Peru act?", PARAGRAPH, INVENTORY, random.Random(seed)
        )
        assert changed is not None
        names.add(changed.removeprefix("When did the ").removesuffix(" act?"))
    assert names == {"Keiko Fujimori", "Puno"}  # Castillo is in the paragraph


def test_one_thing_is_swapped_at_a_time() -> None:
    question = "Who was removed from office on December 7, 2022?"
    changes = {perturb(question, PARAGRAPH, INVENTORY, random.Random(s)) for s in range(30)}
    assert changes == {
        "Who was removed from office on January 7, 2022?",
        "Who was removed from office on December 48, 2022?",
        "Who was removed from office on December 7, 2021?",
    }


def test_without_a_swap_the_question_is_negated() -> None:
    paragraph = "The vote was held in the hall."
    inventory = entity_inventory(paragraph)
    changed = perturb("When was the vote held?", paragraph, inventory, random.Random(0))
    assert changed == "When was not the vote held?"


def test_none_when_nothing_can_change() -> None:
    rng = random.Random(0)
    assert perturb("Why so?", "So.", entity_inventory("So."), rng) is None
    # The only year is the paragraph's own, and the question is already negated.
    paragraph = "It was not known in 2022."
    assert (
        perturb("What is not known in 2022?", paragraph, entity_inventory(paragraph), rng) is None
    )


def _articles() -> list[dict[str, Any]]:
    questions = [
        "Who was removed from office on December 7, 2022?",
        "When did the Congress of Peru act?",
        "Why so?",
    ]
    qas = [
        {"id": f"q{n}", "question": q, "answers": [{"text": "Castillo", "answer_start": 0}]}
        for n, q in enumerate(questions)
    ]
    rest = ARTICLE.removeprefix(PARAGRAPH + " ")
    paragraphs = [{"context": PARAGRAPH, "qas": qas}, {"context": rest, "qas": []}]
    return [{"title": "Peru", "paragraphs": paragraphs}]


def test_near_misses_are_seeded() -> None:
    articles = _articles()
    runs = {
        seed: [(e.qid, e.question) for e in near_misses(articles, [0], 1.0, seed)]
        for seed in range(8)
    }
    again = [(e.qid, e.question) for e in near_misses(articles, [0], 1.0, 3)]
    assert again == runs[3]
    assert [qid for qid, _ in runs[3]] == ["q0-nm", "q1-nm"]  # "Why so?" can't change
    assert len({tuple(r) for r in runs.values()}) > 1  # the seed is used: others swap otherwise
