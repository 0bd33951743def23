"""The shipped reader model (assistant/reader/model/) and the data it was trained on.

The `model` tests load the real int8 ONNX file with onnxruntime; the `slow` test builds
training data from SQuAD v1.1 dev (../shared/data) and checks the reporting split's
articles stay out of it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "assistant" / "reader" / "model"
SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json"
shipped = pytest.mark.skipif(
    not (MODEL / "reader.int8.onnx").is_file(),
    reason="no trained reader in assistant/reader/model/ (make train-reader writes one)",
)


def _info() -> dict[str, object]:
    info: dict[str, object] = json.loads((MODEL / "reader.json").read_text())
    return info


@pytest.mark.model
@shipped
def test_shipped_reader_matches_its_sha256() -> None:
    expected = _info()["sha256"]
    assert isinstance(expected, dict)
    with (MODEL / "reader.int8.onnx").open("rb") as handle:
        assert hashlib.file_digest(handle, "sha256").hexdigest() == expected["reader.int8.onnx"]


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
def test_training_data_holds_no_reporting_article() -> None:
    from training.reader_data import load_articles, split_articles, training_examples

    if not SQUAD.is_file():
        pytest.skip(f"no SQuAD data at {SQUAD}")
    articles = load_articles(SQUAD)
    splits = split_articles(len(articles))
    assert not set(splits["train"]) & set(splits["report"])
    assert not set(splits["validation"]) & set(splits["train"])
    assert all(a % 2 == 0 for a in splits["train"] + splits["validation"])
    examples = training_examples(articles, splits["train"][:3], seed=13)
    kinds = {e.kind for e in examples}
    assert kinds == {"answer", "other_paragraph", "near_miss"}
    reporting = {p["context"] for a in splits["report"] for p in articles[a]["paragraphs"]} | {
        q["id"] for a in splits["report"] for p in articles[a]["paragraphs"] for q in p["qas"]
    }
    assert all(e.article in splits["train"][:3] for e in examples)
    assert not any(e.context in reporting for e in examples)
    assert not any(e.qid.removesuffix("-nm") in reporting for e in examples)
