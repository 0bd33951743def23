"""Tune how answering weighs the reader (``assistant/reading.py``) and calibrate its margin.

Reads the validation articles of SQuAD's tuning split (never trained on: see
reader_data.split_articles) through the real pipeline, runs the reader once over every
question's passages, then prints answer-hit@1, R@1, the share answered and span EM/F1
for each weight of the reader's support in the sentence score and each floor of the
scorer's confidence under the reader's abstention, the reader off beside them. Then,
for the shipped policy, the no-answer margins that let the reader answer given shares of
these answerable questions (10 passages read, not the gold one alone), each with the
share of near misses it abstains on. ``--write MARGIN`` stores a chosen margin in the
reader's reader.json. Needs the SQuAD index that ``make bench-quality`` builds under
benchmarks/.work/squad.

    python -m training.tune_reading [--reader DIR] [--data ../shared/data] [--write M]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import squad_cases  # type: ignore[import-not-found]  # noqa: E402  (on sys.path)

from assistant import Assistant, Settings  # noqa: E402
from assistant.answer import AnswerPolicy  # noqa: E402
from assistant.embedding.cache import VectorCache  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    EvalCase,
    contains_answer,
    exact_match,
    f1,
    source_rank,
)
from assistant.reader import OnnxReader, Reading, open_reader, reader_folder  # noqa: E402
from assistant.reading import read_passages, read_questions  # noqa: E402
from assistant.records import Answer, Hit  # noqa: E402

from .reader_data import load_articles, near_misses, split_articles  # noqa: E402

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 3.0)
FLOORS = (0.0, 0.2, 0.3, 0.4, 0.5)
SHARES = (0.90, 0.92, 0.94, 0.95, 0.96)


@dataclass
class Asked:
    """Questions with their retrieved passages, query vectors and the reader's readings."""

    questions: list[str]
    hits: list[list[Hit]]
    vectors: np.ndarray
    readings: list[list[Reading]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "squad")
    parser.add_argument("--reader", type=Path, help="reader folder (default: the installed one)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--write", type=float, help="store this no-answer margin in reader.json")
    args = parser.parse_args()
    folder = args.reader or reader_folder()
    if args.write is not None:
        _write_margin(folder, args.write)
        return
    articles = set(split_articles(48)["validation"])
    cases = [
        c
        for c in squad_cases(args.data, args.work / "corpus")
        if c.source and int(c.source[1:3]) in articles
    ]
    settings = Settings(corpus=args.work / "corpus", index=args.work / "index", reader=False)
    assistant = Assistant(settings)
    reader = open_reader(folder)
    if reader is None:
        sys.exit("no reader model found")
    sentences = VectorCache(
        assistant.encoders.passages.embed_documents, assistant.encoders.passages.dimension()
    )
    off = assistant.answer_with_hits([c.question for c in cases], k=args.k, mode="hybrid")
    _row("reader off", cases, [a for a, _ in off], [h for _, h in off])
    asked = _ask(assistant, reader, [c.question for c in cases], args.k)
    without = _without_validation(args)
    off_absent = without.answer_with_hits(asked.questions, k=args.k, mode="hybrid")
    print(_abstained([a for a, _ in off_absent]), "(reader off)")
    absent = _ask(without, reader, asked.questions, args.k)
    margin = reader.no_answer_margin
    print(f"{len(cases)} validation questions; reader margin {margin:.3f}")
    for weight in WEIGHTS:
        for floor in FLOORS:
            policy = AnswerPolicy(reader_weight=weight, read_abstain_below=floor)
            got = _answer(asked, sentences, policy, margin)
            _row(f"weight {weight} scorer floor {floor}", cases, *zip(*got, strict=True))
            print(_abstained([a for a, _ in _answer(absent, sentences, policy, margin)]))
    _calibrate(args, assistant, reader, asked, absent, sentences, cases)


def _without_validation(args: argparse.Namespace) -> Assistant:
    """An assistant over the training articles alone: the validation questions have no
    answer there (as the half-articles benchmark asks, on tuning data)."""
    work = args.work.parent / "squad-train-articles"
    squad_cases(args.data, work / "corpus", set(split_articles(48)["train"]))
    assistant = Assistant(Settings(corpus=work / "corpus", index=work / "index", reader=False))
    assistant.update_index()
    return assistant


def _abstained(answers: Sequence[Answer]) -> str:
    return (
        f"    asked without their articles, abstained {np.mean([a.abstained for a in answers]):.1%}"
    )


def _ask(assistant: Assistant, reader: OnnxReader, questions: list[str], k: int) -> Asked:
    vectors = assistant.encoders.queries.embed_queries(questions)
    hits = [list(r.hits) for r in assistant.search_many(questions, k=k, mode="hybrid")]
    readings = read_questions(reader, questions, hits)
    return Asked(questions, hits, vectors, readings)


def _answer(
    asked: Asked, sentences: VectorCache, policy: AnswerPolicy, margin: float
) -> list[tuple[Answer, list[Hit]]]:
    """Answers as reading.py gives them with this policy and margin."""
    results = []
    for question, hits, vector, readings in zip(
        asked.questions, asked.hits, asked.vectors, asked.readings, strict=True
    ):
        passages = read_passages(question, hits, readings, margin, policy)
        vectors = sentences(passages.sentences_to_embed())
        results.append((passages.answer(vector, vectors), passages.hits))
    return results


def _calibrate(
    args: argparse.Namespace,
    assistant: Assistant,
    reader: OnnxReader,
    asked: Asked,
    absent: Asked,
    sentences: VectorCache,
    cases: Sequence[EvalCase],
) -> None:
    """Margins that answer given shares of the answerable questions by the reader alone,
    the shipped policy's figures with each, and the near misses it abstains on."""
    articles = load_articles(args.data / "squad-v1.1-dev" / "dev-v1.1.json")
    misses = near_misses(articles, split_articles(len(articles))["validation"], 1.0, seed=113)
    missed = _ask(assistant, reader, [m.question for m in misses], args.k)
    best = [_best_margin(r) for r in asked.readings]
    policy = AnswerPolicy()
    print(f"near misses: {len(misses)}; {policy}")
    for share in SHARES:
        margin = float(np.quantile(best, share))
        got = _answer(asked, sentences, policy, margin)
        near = _answer(missed, sentences, policy, margin)
        abstained = float(np.mean([a.abstained for a, _ in near]))
        _row(f"margin {margin:.3f} ({share:.0%} by reader)", cases, *zip(*got, strict=True))
        print(f"    near misses abstained {abstained:.1%}", flush=True)
        print(_abstained([a for a, _ in _answer(absent, sentences, policy, margin)]))


def _best_margin(readings: Sequence[Reading]) -> float:
    """The lowest no-answer score less span score over a question's passages (it is
    answered when this is at most the margin)."""
    return min((r.no_answer_score - r.span_score for r in readings), default=1e9)


def _write_margin(folder: Path, margin: float) -> None:
    path = folder / "reader.json"
    info = json.loads(path.read_text())
    info.setdefault("gold_paragraph_margin", info["no_answer_margin"])
    info["no_answer_margin"] = round(margin, 4)
    info["no_answer_calibration"] = (
        "pipeline: make tune-reading on the validation articles (10 passages read)"
    )
    path.write_text(json.dumps(info, indent=2) + "\n")
    print(f"{path}: no_answer_margin {margin:.4f}")


def _row(
    name: str,
    cases: Sequence[EvalCase],
    answers: Sequence[Answer],
    rankings: Sequence[list[Hit]],
) -> None:
    """hit@1 (an abstention is a miss), R@1, the share answered, span EM/F1."""
    n = len(cases)
    firsts = [a.citations[0].sentence if a.citations else "" for a in answers]
    phrases = [a.span.text if a.span else "" for a in answers]
    hit = sum(contains_answer(s, c.answers) for s, c in zip(firsts, cases, strict=True)) / n
    ranks = [source_rank(h, c.source or "") for h, c in zip(rankings, cases, strict=True)]
    r1 = sum(r == 1 for r in ranks) / n
    answered = sum(not a.abstained for a in answers) / n
    em = sum(exact_match(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
    f = sum(f1(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
    print(
        f"{name:<36} hit@1 {hit:.3f}  R@1 {r1:.3f}  answered {answered:.3f}  "
        f"EM {em:.3f}  F1 {f:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
