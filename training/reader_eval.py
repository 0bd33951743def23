"""The reader's training targets and raw logits: tokenized pairs, gold token positions.

Spans are decoded only by the runtime reader (assistant/reader/onnx_reader.py: windows,
span scores, the no-answer score), which reader_figures.py measures through; EM and F1 are
the product's own (``assistant.evaluation``). Plain numpy; no torch here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .reader_data import Example


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
