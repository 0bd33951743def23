"""Scoring the reader: span decoding as the runtime does it, SQuAD EM/F1, abstention.

A prediction is the best span start[i] + end[j] (i <= j, both in the passage, at most
``MAX_SPAN`` tokens) against the no-answer score start[0] + end[0] (the [CLS] position).
Its ``margin`` is no-answer minus best span: the reader abstains when the margin exceeds
the calibrated ``no_answer_margin``. EM and F1 are the product's own (``excerpta eval``'s,
from ``assistant.evaluation``), so the reader's figures and the product's agree. Plain
numpy; no torch here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Re-exported: training code has imported them from here.
from assistant.evaluation import exact_match as exact_match
from assistant.evaluation import f1 as f1

from .reader_data import Example

MAX_SPAN = 30


@dataclass(frozen=True)
class Encoded:
    """Model inputs of a list of examples, with what is needed to map spans back."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    offsets: list[list[tuple[int, int]]]
    passage: list[list[bool]]
    starts: list[int]
    ends: list[int]


def encode(tokenizer: Any, examples: Sequence[Example], max_tokens: int) -> Encoded:
    """Tokenize the pairs; the gold span's token positions, (0, 0) when it has none.

    A gold span cut off by truncation also targets (0, 0); training drops such examples.
    """
    batch = tokenizer(
        [e.question for e in examples],
        [e.context for e in examples],
        truncation="only_second",
        max_length=max_tokens,
        return_offsets_mapping=True,
        return_token_type_ids=True,
    )
    encoded = Encoded([], [], [], [], [], [])
    for n, example in enumerate(examples):
        offsets = [tuple(o) for o in batch["offset_mapping"][n]]
        passage = [s == 1 for s in batch.sequence_ids(n)]
        start = end = 0
        if example.answer_start >= 0:
            first = example.answer_start
            last = first + len(example.answer_text)
            inside = [
                i for i, (a, b) in enumerate(offsets) if passage[i] and a < last and b > first
            ]
            if inside and offsets[inside[0]][0] <= first + 1 and offsets[inside[-1]][1] >= last - 1:
                start, end = inside[0], inside[-1]
        encoded.input_ids.append(batch["input_ids"][n])
        encoded.token_type_ids.append(batch["token_type_ids"][n])
        encoded.offsets.append(offsets)
        encoded.passage.append(passage)
        encoded.starts.append(start)
        encoded.ends.append(end)
    return encoded


def length_batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (less padding), in a fixed order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i : i + size] for i in range(0, len(order), size)]


def pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows padded with zeros to the longest, and their attention mask."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for n, row in enumerate(rows):
        ids[n, : len(row)] = row
        mask[n, : len(row)] = 1
    return ids, mask


Logits = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def predict_logits(
    run: Logits, encoded: Encoded, batch_size: int = 32
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Start and end logits of each example (unpadded), by a model given as a function."""
    result: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(
        encoded.input_ids
    )
    lengths = [len(r) for r in encoded.input_ids]
    for batch in length_batches(lengths, batch_size):
        ids, mask = pad([encoded.input_ids[i] for i in batch])
        types, _ = pad([encoded.token_type_ids[i] for i in batch])
        start, end = run(ids, mask, types)
        for row, i in enumerate(batch):
            result[i] = (start[row, : lengths[i]], end[row, : lengths[i]])
    return result


@dataclass(frozen=True)
class Prediction:
    start: int
    end: int
    margin: float
    """No-answer score minus the best span's score."""


def decode(start: np.ndarray, end: np.ndarray, passage: Sequence[bool]) -> Prediction:
    """The best span within the passage, as the runtime chooses it."""
    inside = np.asarray(passage, dtype=bool)
    s = np.where(inside, start, -np.inf)
    e = np.where(inside, end, -np.inf)
    scores = s[:, None] + e[None, :]
    n = len(start)
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j - i < MAX_SPAN), scores, -np.inf)
    best = int(np.argmax(scores))
    bi, bj = divmod(best, n)
    null = float(start[0] + end[0])
    return Prediction(bi, bj, null - float(scores[bi, bj]))


def span_text(example: Example, offsets: Sequence[tuple[int, int]], p: Prediction) -> str:
    return example.context[offsets[p.start][0] : offsets[p.end][1]]


def margin_for(margins: Sequence[float], answered: float) -> float:
    """The smallest no-answer margin that still answers ``answered`` of these questions."""
    ordered = sorted(margins)
    k = max(0, int(np.ceil(answered * len(ordered))) - 1)
    return float(ordered[k])
