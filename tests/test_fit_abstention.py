"""The abstention model's fit (training/fit_abstention.py) and answer.py's copy of it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assistant import abstention
from assistant.answer import AnswerPolicy, answer_evidence, compose_answer, sentences_to_embed
from tests.fakes import FakeEmbedder
from tests.test_answer import hit
from training.fit_abstention import RECORD, class_weights, fit_logistic, probability, shares


def test_fit_recovers_the_signs_and_order_of_separable_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(600, 4))
    truth = np.array([3.0, 1.0, -2.0, 0.0])
    y = (x @ truth > 1.0).astype(float)  # separable: the ridge keeps the fit finite
    beta = fit_logistic(x, y)
    assert np.all(np.isfinite(beta))
    weights = beta[1:]
    assert weights[0] > weights[1] > 0 > weights[2]
    assert abs(weights[3]) < 0.2 * weights[1]  # a feature that plays no part stays near 0
    got = shares(probability(beta, x) >= 0.5, y)
    assert got["answerable_answered"] > 0.95 and got["unanswerable_abstained"] > 0.95


def test_weighing_up_the_answerable_answers_more_of_them() -> None:
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=800) < 0.5).astype(float)
    x = rng.normal(y[:, None] * [1.0, 0.5], 1.0)  # overlapping classes
    balanced = fit_logistic(x, y, class_weights(y, 1.0))
    favoured = fit_logistic(x, y, class_weights(y, 4.0))
    answered = [float((probability(b, x)[y == 1] >= 0.5).mean()) for b in (balanced, favoured)]
    assert answered[1] > answered[0] + 0.05


def test_answer_py_holds_the_recorded_fit() -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert abstention.ABSTENTION_INTERCEPT == record["intercept"]
    assert dict(abstention.ABSTENTION_WEIGHTS) == record["weights"]
    assert [name for name, _ in abstention.ABSTENTION_WEIGHTS] == list(record["weights"])
    assert record["script"] == "training/fit_abstention.py"


def test_the_evidence_is_what_the_confidence_weighs() -> None:
    """The script fits on ``answer_evidence``: it must be what ``compose_answer`` scores."""
    embedder = FakeEmbedder()
    question = "Who collects the harbour fees?"
    vector = embedder.embed_queries([question])[0]
    hits = [
        replace(
            hit("The harbour master collects the fees. Ships pay them at the pier."),
            dense_score=0.6,
        ),
        replace(hit("The keeper lives beside the old pier.", 0.5, path="b.txt"), dense_score=0.2),
    ]
    sentences = embedder.embed_documents(sentences_to_embed(question, hits))
    found = answer_evidence(question, vector, hits, sentences)
    assert found is not None and found.passage_cosine == 0.6 and found.sentence_overlap > 0
    weights = dict(abstention.ABSTENTION_WEIGHTS)
    logit = abstention.ABSTENTION_INTERCEPT + sum(
        weights.get(name, 0.0) * value for name, value in vars(found).items()
    )
    expected = 1 / (1 + np.exp(-logit))
    got = compose_answer(question, vector, hits, sentences).confidence
    assert abs(got - expected) < 1e-9


def test_each_models_cosine_scale_and_fit_are_their_records() -> None:
    results = RECORD.parent
    for model, scale in abstention.SCALES.items():
        record = json.loads((results / f"cosine_scale-{model}.json").read_text(encoding="utf-8"))
        assert (scale.factor, scale.shift) == (record["factor"], record["shift"])
        assert record["script"] == "training/calibrate_cosines.py"
    for model, fitted in abstention.FITTED.items():
        if model == abstention.DEFAULT_MODEL:
            continue  # the record above
        record = json.loads((results / f"abstention_fit-{model}.json").read_text(encoding="utf-8"))
        assert record["model"] == model and fitted.intercept == record["intercept"]
        assert dict(fitted.weights) == record["weights"]


def test_a_scaled_models_cosines_are_mapped_before_they_are_weighed() -> None:
    embedder = FakeEmbedder()
    question = "Who collects the harbour fees?"
    vector = embedder.embed_queries([question])[0]
    hits = [replace(hit("The harbour master collects the fees at the pier."), dense_score=0.9)]
    sentences = embedder.embed_documents(sentences_to_embed(question, hits))
    scale = abstention.CosineScale(4.0, -2.8)
    policy = AnswerPolicy(cosine_scale=scale)
    plain = answer_evidence(question, vector, hits, sentences)
    mapped = answer_evidence(question, vector, hits, sentences, policy)
    assert plain is not None and mapped is not None
    assert mapped.passage_cosine == pytest.approx(scale(0.9))
    assert mapped.sentence_cosine == pytest.approx(scale(plain.sentence_cosine))
    lexical = [replace(hits[0], dense_score=None)]
    found = answer_evidence(question, vector, lexical, sentences, policy)
    assert found is not None and found.passage_cosine == 0.0  # no dense score: none mapped


def test_the_across_weight_is_lowered_until_unrelated_questions_across_abstain() -> None:
    from training.fit_abstention import ACROSS_ABSTAINED, across_shift

    rng = np.random.default_rng(2)
    features = ["sentence_cosine", "across"]
    x = np.column_stack([rng.uniform(0.2, 0.6, 200), np.ones(200)])  # all asked across
    y = np.zeros(200)
    groups = np.array(["across absent"] * 200)
    beta = np.array([-3.0, 4.0, 2.0])  # answers most of them
    shift = across_shift(beta, x, y, groups, features)
    assert shift < 0
    moved = beta.copy()
    moved[2] += shift
    assert (probability(moved, x) < 0.5).mean() >= ACROSS_ABSTAINED
    assert across_shift(beta[:2], x[:, :1], y, groups, features[:1]) == 0.0
