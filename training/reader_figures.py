"""The trained reader's figures, read by the runtime reader (its windows and span decoder).

Everything here comes from SQuAD's training side; SQuAD v1.1 dev is measured elsewhere
(benchmarks/quality.py), never here.

- calibration (the 10 articles that open SQuAD 2.0 train, held out of training): the
  no-answer margin is set so that ``ANSWERED`` of their answerable questions are
  answered, each read with its whole paragraph; reported beside it, the share of their
  real unanswerable questions (written to look answerable) abstained at that margin.
- validation (every 40th other train article, held out): SQuAD EM / F1 of the best span,
  the share answered at the margin, near misses and hard negatives abstained.
- int8 against fp32: how often the quantized model's start and end argmax agree with
  torch's on validation pairs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evaluation import exact_match, f1
from assistant.reader import Reading
from assistant.reader.onnx_reader import OnnxReader

from .reader_data import (
    Example,
    answerable,
    hard_negatives,
    near_misses,
    unanswerable_questions,
)
from .reader_eval import encode, predict_logits

ANSWERED = 0.90
# Seeded samples, sized so measuring takes minutes on a busy 2-core machine.
CALIBRATION_QUESTIONS = 1500
VALIDATION_QUESTIONS = 800
NEGATIVE_SHARE = 0.15
AGREEMENT_ITEMS = 150


def measure(
    model: Any,
    folder: Path,
    tokenizer: Any,
    articles: list[dict[str, Any]],
    calibration: list[dict[str, Any]],
    splits: dict[str, list[int]],
    seed: int,
) -> tuple[dict[str, Any], float]:
    """The figures for reader.json, and the calibrated no-answer margin.

    ``folder`` holds the exported reader with a provisional reader.json (any margin).
    """
    began = time.monotonic()
    reader = OnnxReader(folder)
    rng = random.Random(seed + 100)
    asked = _sample(
        answerable(calibration, list(range(len(calibration)))), CALIBRATION_QUESTIONS, rng
    )
    impossible = unanswerable_questions(calibration)
    asked_read, impossible_read = _read(reader, asked), _read(reader, impossible)
    margin = margin_for([_margin(r) for r in asked_read], ANSWERED)
    print(f"calibration done ({time.monotonic() - began:.0f} s)", flush=True)

    held = splits["validation"]
    valid = _sample(answerable(articles, held), VALIDATION_QUESTIONS, rng)
    misses = near_misses(articles, held, NEGATIVE_SHARE, seed + 200)
    others = hard_negatives(articles, held, NEGATIVE_SHARE, seed + 300)
    valid_read, miss_read, other_read = (_read(reader, e) for e in (valid, misses, others))
    print(f"validation done ({time.monotonic() - began:.0f} s)", flush=True)
    figures = {
        "calibration": {
            "articles": len(calibration),
            "questions": len(asked),
            **_spans(asked, asked_read),
            "answered": _share(asked_read, margin, abstained=False),
            "unanswerable": len(impossible),
            "unanswerable_abstained": _share(impossible_read, margin, abstained=True),
        },
        "validation": {
            "articles": len(held),
            "questions": len(valid),
            **_spans(valid, valid_read),
            "answered": _share(valid_read, margin, abstained=False),
            "near_misses": len(misses),
            "near_miss_abstained": _share(miss_read, margin, abstained=True),
            "hard_negatives": len(others),
            "hard_negative_abstained": _share(other_read, margin, abstained=True),
            "int8_vs_fp32_argmax_agree": _agreement(model, folder, tokenizer, valid),
        },
        "seconds": round(time.monotonic() - began),
    }
    return figures, margin


def margin_for(margins: Sequence[float], answered: float) -> float:
    """The smallest no-answer margin that still answers ``answered`` of these questions."""
    ordered = sorted(margins)
    k = max(0, int(np.ceil(answered * len(ordered))) - 1)
    return float(ordered[k])


def _sample(examples: list[Example], size: int, rng: random.Random) -> list[Example]:
    return rng.sample(examples, size) if len(examples) > size else examples


def _read(reader: OnnxReader, examples: Sequence[Example]) -> list[Reading]:
    return reader.read([(e.question, e.context) for e in examples])


def _margin(reading: Reading) -> float:
    """No-answer score less the best span's: the reader abstains above its margin."""
    return reading.no_answer_score - reading.span_score


def _spans(examples: Sequence[Example], readings: Sequence[Reading]) -> dict[str, float]:
    texts = [e.context[r.start : r.end] for e, r in zip(examples, readings, strict=True)]
    return {
        "exact_match": _mean(exact_match(t, e.gold) for t, e in zip(texts, examples, strict=True)),
        "f1": _mean(f1(t, e.gold) for t, e in zip(texts, examples, strict=True)),
    }


def _share(readings: Sequence[Reading], margin: float, abstained: bool) -> float:
    return _mean((_margin(r) > margin) == abstained for r in readings)


def _agreement(model: Any, folder: Path, tokenizer: Any, examples: list[Example]) -> float:
    """How often the int8 model's start and end argmax are torch's (fp32)."""
    import onnxruntime as ort
    import torch

    encoded = encode(tokenizer, examples[:AGREEMENT_ITEMS], 256)
    session = ort.InferenceSession(str(folder / "reader.int8.onnx"))

    def int8(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> tuple[Any, Any]:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        start, end = session.run(["start_logits", "end_logits"], feed)
        return start, end

    def fp32(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> tuple[Any, Any]:
        with torch.no_grad():
            start, end = model(*(torch.from_numpy(x) for x in (ids, mask, types)))
        return start.numpy(), end.numpy()

    pairs = zip(predict_logits(fp32, encoded), predict_logits(int8, encoded), strict=True)
    return _mean(
        np.argmax(a[0]) == np.argmax(b[0]) and np.argmax(a[1]) == np.argmax(b[1]) for a, b in pairs
    )


def _mean(values: Any) -> float:
    items = [float(v) for v in values]
    return round(sum(items) / len(items), 4) if items else 0.0
