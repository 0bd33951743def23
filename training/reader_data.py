"""The reader's training and calibration examples, from SQuAD's training side only.

The reader learns from SQuAD v1.1 train; all of SQuAD v1.1 dev is kept for measuring, and
no dev article is ever read here (``DEV_TITLES`` also drops any train article that
carries a dev article's title). ``split_train`` sets aside the 10 articles that open SQuAD
2.0 train (their real unanswerable questions calibrate "not found") and every 40th other
article (validation). Besides each question with its gold span, two kinds of unanswerable
pairs teach "not found" (target: the [CLS] position):

- hard negatives: the question with another paragraph of the same article that does not
  contain its answer;
- near misses: the question perturbed (an entity, number or year swapped for another of
  the same kind from the same article that the gold paragraph does not mention, or the
  question negated) with its gold paragraph, SQuAD 2.0 style (``perturb``).

Plain functions on dicts and strings; no torch here.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .near_miss import entity_inventory, perturb

TRAIN_FILE = Path("squad-v1.1-train") / "train-v1.1.json.gz"
CALIBRATION_FILE = Path("squad-v2.0-train-first10") / "train-v2.0-first10.json"
VALIDATION_EVERY = 40
"""Every 40th training article (after the calibration ones) is held out for validation."""

DEV_TITLES = frozenset({
    "Super_Bowl_50", "Warsaw", "Normans", "Nikola_Tesla", "Computational_complexity_theory",
    "Teacher", "Martin_Luther", "Southern_California", "Sky_(United_Kingdom)",
    "Victoria_(Australia)", "Huguenot", "Steam_engine", "Oxygen", "1973_oil_crisis",
    "Apollo_program", "European_Union_law", "Amazon_rainforest", "Ctenophora",
    "Fresno,_California", "Packet_switching", "Black_Death", "Geology",
    "Newcastle_upon_Tyne", "Victoria_and_Albert_Museum", "American_Broadcasting_Company",
    "Genghis_Khan", "Pharmacy", "Immune_system", "Civil_disobedience", "Construction",
    "Private_school", "Harvard_University", "Jacksonville,_Florida", "Economic_inequality",
    "Doctor_Who", "University_of_Chicago", "Yuan_dynasty", "Kenya",
    "Intergovernmental_Panel_on_Climate_Change", "Chloroplast", "Prime_number", "Rhine",
    "Scottish_Parliament", "Islamism", "Imperialism", "United_Methodist_Church",
    "French_and_Indian_War", "Force",
})  # fmt: skip
"""The 48 article titles of SQuAD v1.1 dev: never trained or calibrated on."""

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
    """The ``data`` list of a SQuAD json file (gzip'd when its name ends in .gz)."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    articles: list[dict[str, Any]] = json.loads(raw.decode("utf-8"))["data"]
    return articles


def split_train(
    articles: list[dict[str, Any]], held_out_titles: set[str], every: int = VALIDATION_EVERY
) -> dict[str, list[int]]:
    """Article indices of SQuAD train: ``train``, ``validation`` (every ``every``-th of
    the rest), ``calibration`` (titles in ``held_out_titles``) and ``dev_titled``
    (articles named like a dev article: in no split, expected empty)."""
    splits: dict[str, list[int]] = {"train": [], "validation": [], "calibration": []}
    splits["dev_titled"] = []
    rest = 0
    for index, article in enumerate(articles):
        title = article.get("title", "")
        if title in DEV_TITLES:
            splits["dev_titled"].append(index)
        elif title in held_out_titles:
            splits["calibration"].append(index)
        else:
            rest += 1
            splits["validation" if rest % every == 0 else "train"].append(index)
    return splits


def unanswerable_questions(articles: list[dict[str, Any]]) -> list[Example]:
    """SQuAD 2.0's real unanswerable questions (``is_impossible``), with their paragraph."""
    return [
        _unanswerable(qa["id"], a, qa["question"], paragraph["context"], "impossible")
        for a, article in enumerate(articles)
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
        if qa.get("is_impossible")
    ]


def answerable(articles: list[dict[str, Any]], indices: list[int]) -> list[Example]:
    """Each question of the given articles with its gold paragraph and first gold span."""
    examples = []
    for a in indices:
        for paragraph in articles[a]["paragraphs"]:
            for qa in paragraph["qas"]:
                if not qa["answers"]:  # SQuAD 2.0's unanswerable questions
                    continue
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
                if rng.random() >= share or not qa["answers"]:
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
                if rng.random() >= share or not qa["answers"]:
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


HARD_NEGATIVE_SHARE, NEAR_MISS_SHARE = 0.12, 0.2
"""Unanswerable pairs per answerable question: enough to teach "not found", few enough
that a 2-core machine trains on most of SQuAD in two hours."""


def training_examples(
    articles: list[dict[str, Any]], indices: list[int], seed: int, questions: int = 0
) -> list[Example]:
    """A seeded sample of ``questions`` answerable questions (0: all), hard negatives and
    near misses, in a seeded order."""
    rng = random.Random(seed)
    found = answerable(articles, indices)
    share = 1.0
    if 0 < questions < len(found):
        share = questions / len(found)
        found = rng.sample(found, questions)
    examples = (
        found
        + hard_negatives(articles, indices, HARD_NEGATIVE_SHARE * share, seed=seed + 1)
        + near_misses(articles, indices, NEAR_MISS_SHARE * share, seed=seed + 2)
    )
    rng.shuffle(examples)
    return examples


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
