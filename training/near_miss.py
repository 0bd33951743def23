"""Near misses: answerable questions changed so that their own paragraph no longer answers.

A near miss keeps the gold paragraph and changes the question by one fact: an entity,
number, year or month swapped for another of the same kind that the same article
mentions but the paragraph doesn't, or, when nothing can be swapped, the question
negated ("When was X built?" -> "When was not X built?"). The words still overlap the
paragraph almost entirely, which is the point: SQuAD 2.0 (Rajpurkar et al., 2018) showed
that a reader trained only on answerable pairs answers such questions with confidence by
matching words, so its unanswerable questions were written to look like this. The reader
learns "not found" from these pairs (``reader_data.near_misses``), and the quality
benchmark measures abstention on them.

Plain functions on strings, seeded by the caller's ``random.Random``: the same seed gives
the same near misses, which the trained reader's recipe relies on. Imports nothing of
the product or of torch.
"""

from __future__ import annotations

import random
import re

# Kinds of swappable things; a swap replaces one with another of the same kind.
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_NAME = re.compile(r"\b[A-Z][\w'\-]+(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'\-]+)*")
_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_NOT_NAMES = {
    "The", "A", "An", "In", "On", "At", "Of", "For", "By", "What", "Who", "Whom", "Whose",
    "When", "Where", "Which", "Why", "How", "Is", "Was", "Are", "Were", "Did", "Do", "Does",
    "It", "He", "She", "They", "This", "That", "These", "Those", "After", "Before", "During",
    "As", "If", "Since", "Although", "While", "Many", "Some", "Most", "Other", "Its", "His",
    "Her", "Their", "There", "Name", "According", "January", "February", "March", "April",
    "May", "June", "July", "August", "September", "October", "November", "December",
}  # fmt: skip
_KINDS = (("month", _MONTH), ("year", _YEAR), ("number", _NUMBER), ("name", _NAME))
_BE_AUX = re.compile(
    r"^((?:what|who|which|when|where|why|how)(?:\s+\w+)?\s+"
    r"(?:is|was|are|were|can|could|will|would|has|have|had|should|must))\s",
    re.IGNORECASE,
)


def _names(text: str) -> list[str]:
    """Capitalized phrases; a lone word that opens a sentence is not taken for a name."""
    found = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        opens = not text[: match.start()].strip() or text[: match.start()].rstrip()[-1] in ".!?"
        while words and words[0] in _NOT_NAMES:
            words, opens = words[1:], False
        if words and not (opens and len(words) == 1):
            found.append(" ".join(words))
    return found


def entity_inventory(text: str) -> dict[str, list[str]]:
    """Swappable strings of each kind in an article, in order of first appearance."""
    inventory: dict[str, list[str]] = {}
    for kind, pattern in _KINDS:
        matches = _names(text) if kind == "name" else pattern.findall(text)
        if kind == "number":
            matches = [m for m in matches if not _YEAR.fullmatch(m)]
        inventory[kind] = list(dict.fromkeys(matches))
    return inventory


def perturb(
    question: str, context: str, inventory: dict[str, list[str]], rng: random.Random
) -> str | None:
    """The question with one entity, number or year swapped (or negated), else None.

    The replacement is of the same kind, from the same article, and absent from the gold
    paragraph, so the changed question asks about something the paragraph doesn't say.
    """
    lowered = context.lower()
    spots: list[tuple[str, str]] = []
    for kind, pattern in _KINDS:
        found = _names(question) if kind == "name" else pattern.findall(question)
        if kind == "number":
            found = [m for m in found if not _YEAR.fullmatch(m)]
        spots.extend((kind, f) for f in dict.fromkeys(found))
    rng.shuffle(spots)
    for kind, original in spots:
        choices = [
            c
            for c in inventory.get(kind, [])
            if c.lower() != original.lower()
            and c.lower() not in lowered
            and original.lower() not in c.lower()
            and c.lower() not in question.lower()
        ]
        if choices:
            return question.replace(original, rng.choice(choices), 1)
    match = _BE_AUX.match(question)
    if match and " not " not in question:
        return f"{match.group(1)} not {question[match.end() :]}"
    return None
