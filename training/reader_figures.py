"""The trained reader's figures: calibration on validation, measurement on the report split.

- validation (held-out tuning articles): the int8 model's no-answer margin is set so
  that 90% of answerable questions are answered; the int8 logits are compared with
  torch's (argmax of start and end equal, same decoded span).
- report (odd articles, never trained or tuned on): SQuAD EM / F1 of the best span with
  the gold paragraph given, the share of answerable questions answered at that margin,
  and the share of near misses (and of hard negatives) abstained.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from .reader_data import answerable, hard_negatives, near_misses
from .reader_eval import (
    Encoded,
    Prediction,
    decode,
    encode,
    exact_match,
    f1,
    margin_for,
    predict_logits,
    span_text,
)

MAX_TOKENS = 256
ANSWERED = 0.90
# Seeded samples, sized so measuring takes minutes on a busy 2-core machine.
REPORT_QUESTION_SHARE = 0.1
REPORT_NEAR_MISS_SHARE = 0.1
REPORT_HARD_NEGATIVE_SHARE = 0.05
VALIDATION_NEAR_MISS_SHARE = 0.4
AGREEMENT_ITEMS = 150


def onnx_runner(path: Path, threads: int = 2) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> tuple[Any, Any]:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        start, end = session.run(["start_logits", "end_logits"], feed)
        return start, end

    return run


def torch_runner(model: Any) -> Any:
    import torch

    def run(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> tuple[Any, Any]:
        with torch.no_grad():
            start, end = model(
                torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)
            )
        return start.numpy(), end.numpy()

    return run


def _predict(run: Any, encoded: Encoded) -> list[Prediction]:
    logits = predict_logits(run, encoded)
    return [decode(s, e, p) for (s, e), p in zip(logits, encoded.passage, strict=True)]


def measure(
    model: Any,
    quantized: Path,
    tokenizer: Any,
    articles: list[dict[str, Any]],
    splits: dict[str, list[int]],
    seed: int,
) -> tuple[dict[str, Any], float]:
    """The figures for reader.json, and the calibrated no-answer margin."""
    began = time.monotonic()
    int8 = onnx_runner(quantized)
    valid = answerable(articles, splits["validation"])
    valid_enc = encode(tokenizer, valid, MAX_TOKENS)
    valid_int8 = _predict(int8, valid_enc)
    margin = margin_for([p.margin for p in valid_int8], ANSWERED)
    valid_misses = near_misses(
        articles, splits["validation"], VALIDATION_NEAR_MISS_SHARE, seed=seed + 100
    )
    valid_miss_pred = _predict(int8, encode(tokenizer, valid_misses, MAX_TOKENS))
    agreement = _agreement(model, int8, valid_enc, valid_int8)
    print(f"validation done ({time.monotonic() - began:.0f} s)", flush=True)

    sample = random.Random(seed + 400)
    report = [
        e for e in answerable(articles, splits["report"]) if sample.random() < REPORT_QUESTION_SHARE
    ]
    report_enc = encode(tokenizer, report, MAX_TOKENS)
    report_pred = _predict(int8, report_enc)
    texts = [
        span_text(e, o, p) for e, o, p in zip(report, report_enc.offsets, report_pred, strict=True)
    ]
    misses = near_misses(articles, splits["report"], REPORT_NEAR_MISS_SHARE, seed + 200)
    miss_pred = _predict(int8, encode(tokenizer, misses, MAX_TOKENS))
    others = hard_negatives(articles, splits["report"], REPORT_HARD_NEGATIVE_SHARE, seed + 300)
    other_pred = _predict(int8, encode(tokenizer, others, MAX_TOKENS))
    print(f"report done ({time.monotonic() - began:.0f} s)", flush=True)

    figures = {
        "report": {
            "articles": len(splits["report"]),
            "questions": len(report),
            "sampled_share": REPORT_QUESTION_SHARE,
            "exact_match": _mean(
                exact_match(t, e.gold) for t, e in zip(texts, report, strict=True)
            ),
            "f1": _mean(f1(t, e.gold) for t, e in zip(texts, report, strict=True)),
            "answered": _share(report_pred, margin, abstained=False),
            "near_misses": len(misses),
            "near_miss_abstained": _share(miss_pred, margin, abstained=True),
            "hard_negatives": len(others),
            "hard_negative_abstained": _share(other_pred, margin, abstained=True),
        },
        "validation": {
            "articles": len(splits["validation"]),
            "questions": len(valid),
            "exact_match": _mean(
                exact_match(span_text(e, o, p), e.gold)
                for e, o, p in zip(valid, valid_enc.offsets, valid_int8, strict=True)
            ),
            "answered": _share(valid_int8, margin, abstained=False),
            "near_misses": len(valid_misses),
            "near_miss_abstained": _share(valid_miss_pred, margin, abstained=True),
            "agreement_items": min(AGREEMENT_ITEMS, len(valid)),
            **agreement,
        },
    }
    return figures, margin


def _agreement(
    model: Any, int8: Any, encoded: Encoded, int8_pred: list[Prediction]
) -> dict[str, float]:
    """How often the int8 model picks what torch (fp32) picks on the validation items."""
    encoded = Encoded(*(getattr(encoded, f)[:AGREEMENT_ITEMS] for f in Encoded.__annotations__))
    int8_pred = int8_pred[:AGREEMENT_ITEMS]
    torch_logits = predict_logits(torch_runner(model), encoded)
    int8_logits = predict_logits(int8, encoded)
    argmax = [
        int(np.argmax(a[0]) == np.argmax(b[0]) and np.argmax(a[1]) == np.argmax(b[1]))
        for a, b in zip(torch_logits, int8_logits, strict=True)
    ]
    torch_pred = [decode(s, e, p) for (s, e), p in zip(torch_logits, encoded.passage, strict=True)]
    spans = [
        int((a.start, a.end) == (b.start, b.end))
        for a, b in zip(torch_pred, int8_pred, strict=True)
    ]
    return {"int8_vs_fp32_argmax_agree": _mean(argmax), "int8_vs_fp32_span_agree": _mean(spans)}


def _share(predictions: list[Prediction], margin: float, abstained: bool) -> float:
    return _mean((p.margin > margin) == abstained for p in predictions)


def _mean(values: Any) -> float:
    items = [float(v) for v in values]
    return round(sum(items) / len(items), 4) if items else 0.0
