"""Near-miss questions: answerable ones changed so that the indexed text no longer answers.

SQuAD 2.0 showed that a reader which only matches words answers these with confidence.
Each question has one entity, number or date swapped for another of the same kind from
the same article (one that its paragraph doesn't hold), or, when it has none, is negated
("When was X removed?" -> "When wasn't X removed?"). The swaps are seeded: the set is
the same on every run. Used by the abstention part of quality.py.
"""

from __future__ import annotations

import random
import re

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Kinds, most specific first: a date is not also swapped as a number.
KINDS = {
    "date": re.compile(rf"\b(?:{_MONTHS}) \d{{1,2}}(?:, \d{{4}})?\b|\b\d{{1,2}} (?:{_MONTHS})\b"),
    "year": re.compile(r"\b1[0-9]{3}\b|\b20[0-9]{2}\b"),
    "number": re.compile(r"\b\d+(?:[.,]\d+)*\b"),
    # Capitalized words not at the start of a sentence: names of people, places, bodies.
    "name": re.compile(r"(?<![.?!] )(?<!^)\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+)*"),
}
_AUXILIARIES = {
    "was": "wasn't",
    "were": "weren't",
    "is": "isn't",
    "are": "aren't",
    "did": "didn't",
    "does": "doesn't",
    "do": "don't",
    "has": "hasn't",
    "have": "haven't",
    "had": "hadn't",
    "can": "can't",
    "could": "couldn't",
    "will": "won't",
    "would": "wouldn't",
}
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b")
_AUXILIARY = re.compile(r"\b(" + "|".join(_AUXILIARIES) + r")\b", re.I)


def perturb(question: str, paragraph: str, article: str, rng: random.Random) -> str | None:
    """A near miss of ``question`` (asked of ``paragraph``, part of ``article``), or None."""
    texts = [question, paragraph, article]
    for kind, pattern in KINDS.items():
        asked = list(pattern.finditer(texts[0]))
        held = {m.group() for m in pattern.finditer(texts[1])}
        others = sorted({m.group() for m in pattern.finditer(texts[2])} - held)
        # Not the asked thing itself, nor a longer name holding it ("Grand Duchy of Warsaw").
        others = [o for o in others if not any(m.group() in o for m in asked)]
        if kind == "name":  # a month is a date's part, not a name
            others = [o for o in others if not _MONTH.search(o)]
        if asked and others:
            if kind == "name":  # prefer a name the paragraph holds: that is the near miss
                asked = [m for m in asked if m.group() in held] or asked
            match = rng.choice(asked)
            return question[: match.start()] + rng.choice(others) + question[match.end() :]
        # What this kind matched is not matched again as a later one (a date's year).
        texts = [pattern.sub(lambda m: " " * len(m.group()), t) for t in texts]
    negated = _AUXILIARY.search(question)
    if negated is None:
        return None
    word = negated.group()
    replacement = _AUXILIARIES[word.lower()]
    if word[0].isupper():
        replacement = replacement.capitalize()
    return question[: negated.start()] + replacement + question[negated.end() :]


def near_misses(questions: list[tuple[str, str, str]], seed: int = 12) -> list[tuple[int, str]]:
    """(index, near miss) for each (question, paragraph, article) that can be changed."""
    rng = random.Random(seed)
    changed = []
    for i, (question, paragraph, article) in enumerate(questions):
        miss = perturb(question, paragraph, article, rng)
        if miss is not None and miss != question:
            changed.append((i, miss))
    return changed
