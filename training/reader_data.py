"""The reader's training and evaluation examples, built from SQuAD v1.1 dev only.

SQuAD v1.1 dev's articles at even index in its ``data`` list are the tuning split (the
reader may learn from them); those at odd index are the reporting split, used here only
to measure. A few tuning articles are held out again as this script's own validation
split (calibration of the no-answer margin). Besides each question with its gold span,
two kinds of unanswerable pairs teach "not found" (target: the [CLS] position):

- hard negatives: the question with another paragraph of the same article that does not
  contain its answer;
- near misses: the question perturbed (an entity, number or year swapped for another of
  the same kind from the same article that the gold paragraph does not mention, or the
  question negated) with its gold paragraph, SQuAD 2.0 style.

Plain functions on dicts and strings; no torch here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .near_miss import entity_inventory, perturb

VALIDATION_EVERY = 8
"""Every 8th tuning article (by position among the tuning articles) is held out."""

ANSWER, OTHER_PARAGRAPH, NEAR_MISS = "answer", "other_paragraph", "near_miss"


@dataclass(frozen=True)
class Example:
    """A question paired with a passage; ``answer_start`` is -1 when it has no answer."""

    qid: str
    article: int
    question: str
    context: str
    answer_start: int
    answer_text: str
    kind: str
    gold: tuple[str, ...] = ()
    """All gold answer strings (for EM/F1); empty for unanswerable pairs."""
    anchor: int = -1
    """Where a near miss's original question was answered (for cropping the passage)."""


def load_articles(path: Path) -> list[dict[str, Any]]:
    """The ``data`` list of a SQuAD json file."""
    articles: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["data"]
    return articles


def split_articles(count: int) -> dict[str, list[int]]:
    """Article indices of the train, validation (both tuning) and report splits."""
    tuning = list(range(0, count, 2))
    validation = [a for n, a in enumerate(tuning) if n % VALIDATION_EVERY == VALIDATION_EVERY - 1]
    return {
        "train": [a for a in tuning if a not in validation],
        "validation": validation,
        "report": list(range(1, count, 2)),
    }


def answerable(articles: list[dict[str, Any]], indices: list[int]) -> list[Example]:
    """Each question of the given articles with its gold paragraph and first gold span."""
    examples = []
    for a in indices:
        for paragraph in articles[a]["paragraphs"]:
            for qa in paragraph["qas"]:
                first = qa["answers"][0]
                examples.append(
                    Example(
                        qid=qa["id"],
                        article=a,
                        question=qa["question"].strip(),
                        context=paragraph["context"],
                        answer_start=first["answer_start"],
                        answer_text=first["text"],
                        kind=ANSWER,
                        gold=tuple(x["text"] for x in qa["answers"]),
                    )
                )
    return examples


def hard_negatives(
    articles: list[dict[str, Any]], indices: list[int], share: float, seed: int
) -> list[Example]:
    """For ``share`` of the questions, another paragraph of the article without the answer."""
    rng = random.Random(seed)
    examples = []
    for a in indices:
        contexts = [p["context"] for p in articles[a]["paragraphs"]]
        for paragraph in articles[a]["paragraphs"]:
            for qa in paragraph["qas"]:
                if rng.random() >= share:
                    continue
                answers = [x["text"].lower() for x in qa["answers"]]
                others = [
                    c
                    for c in contexts
                    if c != paragraph["context"] and not any(t in c.lower() for t in answers)
                ]
                if others:
                    examples.append(
                        _unanswerable(
                            qa["id"], a, qa["question"], rng.choice(others), OTHER_PARAGRAPH
                        )
                    )
    return examples


def near_misses(
    articles: list[dict[str, Any]], indices: list[int], share: float, seed: int
) -> list[Example]:
    """For ``share`` of the questions, a perturbed copy paired with its gold paragraph."""
    rng = random.Random(seed)
    examples = []
    for a in indices:
        inventory = entity_inventory(" ".join(p["context"] for p in articles[a]["paragraphs"]))
        for paragraph in articles[a]["paragraphs"]:
            for qa in paragraph["qas"]:
                if rng.random() >= share:
                    continue
                changed = perturb(qa["question"].strip(), paragraph["context"], inventory, rng)
                if changed is not None:
                    example = _unanswerable(
                        qa["id"] + "-nm", a, changed, paragraph["context"], NEAR_MISS
                    )
                    examples.append(replace(example, anchor=qa["answers"][0]["answer_start"]))
    return examples


def _unanswerable(qid: str, article: int, question: str, context: str, kind: str) -> Example:
    return Example(qid, article, question.strip(), context, -1, "", kind=kind)


ANSWERABLE_SHARE, HARD_NEGATIVE_SHARE, NEAR_MISS_SHARE = 1.0, 0.12, 0.25
"""Sized to the CPU budget of a shared 2-core machine: ~6,400 pairs, one pass."""


def training_examples(
    articles: list[dict[str, Any]], indices: list[int], seed: int
) -> list[Example]:
    """A seeded sample of answerable questions, hard negatives and near misses."""
    rng = random.Random(seed)
    questions = [e for e in answerable(articles, indices) if rng.random() < ANSWERABLE_SHARE]
    return (
        questions
        + hard_negatives(articles, indices, HARD_NEGATIVE_SHARE, seed=seed + 1)
        + near_misses(articles, indices, NEAR_MISS_SHARE, seed=seed + 2)
    )


def crop(example: Example, chars: int, rng: random.Random) -> Example:
    """The example with its passage cut to about ``chars`` characters at word boundaries.

    The window holds the answer (or a near miss's original answer) at a random place;
    training on short windows costs less than half as much per pair on a CPU.
    """
    text = example.context
    if len(text) <= chars:
        return example
    anchor = example.answer_start if example.answer_start >= 0 else example.anchor
    if anchor >= 0:
        length = len(example.answer_text)
        low, high = max(0, anchor + length - chars), min(anchor, len(text) - chars)
        first = rng.randint(low, max(low, high))
    else:
        first = rng.randint(0, len(text) - chars)
    while first > 0 and not text[first - 1].isspace():
        first -= 1
    last = min(len(text), first + chars)
    while last < len(text) and not text[last].isspace():
        last += 1
    if example.answer_start >= 0:
        return replace(example, context=text[first:last], answer_start=anchor - first)
    return replace(example, context=text[first:last])
