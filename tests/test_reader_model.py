"""The shipped reader model (assistant/reader/model/) and the data it was trained on.

The `model` tests load the real int8 ONNX file with onnxruntime; the `slow` test splits
SQuAD v1.1 train (../shared/data) as training does and checks that the held-out SQuAD
2.0 articles and every dev article stay out of what the reader learns from.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "assistant" / "reader" / "model"
DATA = ROOT.parent / "shared" / "data"
shipped = pytest.mark.skipif(
    not (MODEL / "reader.int8.onnx").is_file(),
    reason="no trained reader in assistant/reader/model/ (make train-reader writes one)",
)


def _info() -> dict[str, object]:
    info: dict[str, object] = json.loads((MODEL / "reader.json").read_text())
    return info


@pytest.mark.model
@shipped
def test_shipped_reader_matches_the_sha256_pinned_in_code() -> None:
    from assistant.reader.shipped import SHIPPED_SHA256

    for name in ("reader.int8.onnx", "tokenizer.json"):
        with (MODEL / name).open("rb") as handle:
            assert hashlib.file_digest(handle, "sha256").hexdigest() == SHIPPED_SHA256[name]


@pytest.mark.model
@shipped
def test_shipped_reader_answers_a_trivial_question() -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    info = _info()
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(int(str(info["max_tokens"])), strategy="only_second")
    passage = "The harbour was founded by Anna Berg in 1850."
    encoding = tokenizer.encode("Who founded the harbour?", passage)
    session = ort.InferenceSession(str(MODEL / "reader.int8.onnx"))
    feed = {
        "input_ids": np.array([encoding.ids], dtype=np.int64),
        "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
        "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
    }
    start, end = (x[0] for x in session.run(["start_logits", "end_logits"], feed))
    in_passage = [i for i, s in enumerate(encoding.sequence_ids) if s == 1]
    best = max(
        ((i, j) for i in in_passage for j in in_passage if i <= j < i + 30),
        key=lambda ij: start[ij[0]] + end[ij[1]],
    )
    first, last = encoding.offsets[best[0]][0], encoding.offsets[best[1]][1]
    assert "Anna Berg" in passage[first:last]
    margin = float(start[0] + end[0]) - float(start[best[0]] + end[best[1]])
    assert margin <= float(str(info["no_answer_margin"]))  # answered, not abstained


@pytest.mark.slow
def test_training_data_holds_no_held_out_or_dev_article() -> None:
    from training.reader_data import (
        CALIBRATION_FILE,
        DEV_TITLES,
        TRAIN_FILE,
        load_articles,
        split_train,
        training_examples,
    )

    if not (DATA / TRAIN_FILE).is_file():
        pytest.skip(f"no SQuAD train data at {DATA / TRAIN_FILE}")
    articles = load_articles(DATA / TRAIN_FILE)
    held_out = {a["title"] for a in load_articles(DATA / CALIBRATION_FILE)}
    splits = split_train(articles, held_out)
    assert {articles[a]["title"] for a in splits["calibration"]} == held_out
    assert len(held_out) == 10 and not splits["dev_titled"]
    learned = splits["train"]
    assert not set(learned) & set(splits["validation"] + splits["calibration"])
    assert not {articles[a]["title"] for a in learned} & (DEV_TITLES | held_out)
    examples = training_examples(articles, learned[:3], seed=13)
    assert {e.kind for e in examples} == {"answer", "other_paragraph", "near_miss"}
    assert {e.article for e in examples} <= set(learned[:3])
