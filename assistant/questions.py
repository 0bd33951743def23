"""Questions of any length: each is cut to what the models read, and says whether it was.

A pasted page is answered from its first part: retrieval and the sentence scorer read
what fits the query encoder's window, the reader its first word pieces (see
``Reader.fit_question``). Cutting here, rather than letting each model truncate on its
own, keeps a long question from costing more than a short one, and lets the answer say
it was cut (``Answer.question_truncated``). Must not import textual, click or torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .embedding import Embedder
from .reader import Reader

_CHARS_PER_TOKEN = 100  # a word piece longer than this is one [UNK]: no token spans more
_WORD_END = re.compile(r"\S(?=\s|$)")
# Terminal escape sequences (CSI, OSC) and other control characters a paste can carry:
# the models would read "[31m" as words.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class FittedQuestion:
    """One question as asked, as searched and as read."""

    asked: str
    cleaned: str
    """Without terminal escape sequences and control characters."""
    searched: str
    """Cut to the query encoder's window: what retrieval and the sentence scorer read."""
    read: str
    """Cut further to the reader's limit (``searched`` when there is no reader)."""

    @property
    def truncated(self) -> bool:
        return self.read != self.cleaned or self.searched != self.cleaned


def fit_question(question: str, encoder: Embedder, reader: Reader | None) -> FittedQuestion:
    """``question`` cleaned of control characters, then cut to ``encoder.max_tokens``
    for searching and, where a reader reads it, to the reader's limit."""
    cleaned = clean_question(question)
    searched = cut_to_tokens(cleaned, encoder.max_tokens, encoder.count_tokens)
    read = reader.fit_question(searched) if reader is not None else searched
    return FittedQuestion(question, cleaned, searched, read)


def clean_question(question: str) -> str:
    """``question`` without escape sequences, its other control characters as spaces."""
    return _CONTROLS.sub(" ", _ESCAPES.sub("", question)).strip()


def cut_to_tokens(text: str, limit: int, count: Callable[[Sequence[str]], list[int]]) -> str:
    """``text``, or its longest prefix ending a word with at most ``limit`` tokens as
    ``count`` counts them (a word longer than that alone is cut inside)."""
    head = text[: (limit + 1) * _CHARS_PER_TOKEN]
    if head == text and count([text])[0] <= limit:
        return text
    ends = [m.end() for m in _WORD_END.finditer(head)]
    fits = _longest(len(ends), lambda n: count([head[: ends[n - 1]]])[0] <= limit)
    if fits:
        return head[: ends[fits - 1]]
    first = head[: ends[0]] if ends else head  # one word over the limit: cut inside it
    return first[: _longest(len(first), lambda n: count([first[:n]])[0] <= limit)]


def _longest(most: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..most with ``fits(n)`` (n = 0 always fits), by bisection:
    ``fits`` holds up to some n and fails beyond, as a prefix's token count only grows."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
