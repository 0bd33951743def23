"""Tune how answering uses the reader, and calibrate its "not found", on tuning data only.

Two parts, each through the real pipeline (retrieval, the runtime reader, the scorer):

- plans: SQuAD v1.1 dev's tuning split (even articles; the odd ones are for reporting
  and never read here) asked over the whole dev index that ``make bench-quality``
  builds. Each ``ReadingPlan`` in ``PLANS`` (passages read, the window, reranking) is
  printed with answer-hit@1, R@1, the share answered, span EM/F1 and the word pieces
  read per question (what reading costs), the reader off beside them.
- margin: the 10 articles that open SQuAD 2.0 train (held out of the reader's training)
  asked over an index of their paragraphs: for each share of answerable questions
  answered, the pipeline's no-answer margin and the share of their real unanswerable
  questions abstained, for each floor of the sentence scorer's confidence under the
  reader. ``--write`` stores the margin that abstains most while answering ``ANSWERED``
  in the reader's reader.json (the gold-paragraph margin training set stays beside it).

    python -m training.tune_reading [--reader DIR] [--data ../shared/data] [--write]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpora import build, split_of, squad_cases  # type: ignore[import-not-found]  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant.answer import AnswerPolicy  # noqa: E402
from assistant.embedding.cache import VectorCache  # noqa: E402
from assistant.evaluation import EvalCase, contains_answer, exact_match, f1, source_rank  # noqa: E402
from assistant.reader import OnnxReader, Reading, open_reader, reader_folder  # noqa: E402
from assistant.reading import ReadingPlan, read_passages, read_questions  # noqa: E402
from assistant.records import Answer, Hit  # noqa: E402

from .reader_data import CALIBRATION_FILE  # noqa: E402

PLANS = (
    ReadingPlan(passages=10, when_sure=10, window_chars=100_000, rerank_above=-1e9),
    ReadingPlan(passages=5, when_sure=5, window_chars=100_000),
    ReadingPlan(),
    ReadingPlan(window_chars=360),
    ReadingPlan(window_chars=100_000),
    ReadingPlan(passages=3, when_sure=2),
    ReadingPlan(sure_gap=0.04),
    ReadingPlan(rerank_above=-2.0),
    ReadingPlan(rerank_above=2.0),
)
"""The first reads as before (10 whole passages, all reranked); then one change each."""
ANSWERED = 0.90
SHARES = (0.85, 0.88, 0.90, 0.92, 0.94, 0.96)
FLOORS = (0.0, 0.1, 0.2, 0.3)
"""The sentence scorer's floor under the reader (AnswerPolicy.read_abstain_below)."""


@dataclass
class Asked:
    """Questions with their retrieved passages and query vectors."""

    cases: list[EvalCase]
    hits: list[list[Hit]]
    vectors: np.ndarray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument("--reader", type=Path, help="reader folder (default: the installed one)")
    parser.add_argument("--questions", type=int, default=600, help="sampled per part")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--skip", choices=["plans", "margin"], action="append", default=[])
    parser.add_argument("--write", action="store_true", help="store the margin in reader.json")
    args = parser.parse_args()
    folder = args.reader or reader_folder()
    reader = open_reader(folder)
    if reader is None:
        sys.exit(f"no reader model in {folder}")
    if "plans" not in args.skip:
        tune_plans(args, reader)
    if "margin" not in args.skip:
        margin = calibrate_margin(args, reader)
        if args.write:
            _write_margin(folder, margin)


def tune_plans(args: argparse.Namespace, reader: OnnxReader) -> None:
    work = args.work / "squad"
    cases = [c for c in squad_cases(args.data, work / "corpus") if split_of(c) == "tune"]
    cases = random.Random(7).sample(cases, min(args.questions, len(cases)))
    assistant = build(work, "SQuAD v1.1 dev", reader=False)
    asked = _ask(assistant, cases, args.k)
    sentences = _sentences(assistant)
    off = assistant.answer_with_hits([c.question for c in cases], k=args.k)
    _row("reader off", cases, off, 0)
    print(f"{len(cases)} tuning-split questions; reader margin {reader.no_answer_margin:.3f}")
    for plan in PLANS:
        began = time.perf_counter()
        answers, pieces = _answer(asked, reader, sentences, plan, reader.no_answer_margin)
        seconds = time.perf_counter() - began
        _row(str(plan).removeprefix("ReadingPlan"), cases, answers, pieces)
        print(f"    {seconds / len(cases) * 1000:.0f} ms per question to read and answer")


def calibrate_margin(args: argparse.Namespace, reader: OnnxReader) -> float:
    """The pipeline margin that answers ``ANSWERED`` of the held-out articles' answerable
    questions, and what each share abstains on among their unanswerable ones."""
    work = args.work / "squad2-first10"
    every = squad_cases(args.data, work / "corpus", dataset=str(CALIBRATION_FILE))
    answerable = [c for c in every if c.answers]
    impossible = [c for c in every if not c.answers]
    answerable = random.Random(11).sample(answerable, min(args.questions, len(answerable)))
    assistant = build(work, "SQuAD 2.0 train, first 10 articles", reader=False)
    sentences = _sentences(assistant)
    plan = ReadingPlan()
    read = {}
    for name, cases in (("answerable", answerable), ("unanswerable", impossible)):
        asked = _ask(assistant, cases, args.k)
        read[name] = (asked, read_questions(reader, [c.question for c in cases], asked.hits, plan))
    print(
        f"{len(answerable)} answerable, {len(impossible)} unanswerable questions "
        "(SQuAD 2.0 train, first 10 articles)"
    )
    best = [_best_margin(r) for r in read["answerable"][1]]
    chosen = (0.0, float(np.quantile(best, ANSWERED)), 0.0)  # abstained, margin, floor
    for floor in FLOORS:
        policy = AnswerPolicy(read_abstain_below=floor)
        print(f"scorer floor {floor}:")
        for share in SHARES:
            margin = float(np.quantile(best, share))
            answered, kept = (
                _answered(_answers(*read[name], sentences, plan, margin, policy))
                for name in ("answerable", "unanswerable")
            )
            print(
                f"  margin {margin:7.3f}: reader alone answers {share:.0%}; the pipeline "
                f"answers {answered:.1%} of answerable, abstains on {1 - kept:.1%} of "
                "unanswerable",
                flush=True,
            )
            if answered >= ANSWERED and 1 - kept > chosen[0]:
                chosen = (1 - kept, margin, floor)
    print(
        f"chosen: margin {chosen[1]:.4f} with scorer floor {chosen[2]} (the most unanswerable "
        f"abstained, {chosen[0]:.1%}, while answering >= {ANSWERED:.0%})"
    )
    return chosen[1]


def _answers(
    asked: Asked,
    readings: list[list[Reading]],
    sentences: VectorCache,
    plan: ReadingPlan,
    margin: float,
    policy: AnswerPolicy,
) -> list[tuple[Answer, list[Hit]]]:
    """Each question's answer with its passages as the reader ranked them."""
    answers = []
    for case, hits, vector, mine in zip(
        asked.cases, asked.hits, asked.vectors, readings, strict=True
    ):
        passages = read_passages(case.question, hits, mine, margin, policy, plan=plan)
        vectors = sentences(passages.sentences_to_embed())
        answers.append((passages.answer(vector, vectors), passages.hits))
    return answers


def _answered(results: Sequence[tuple[Answer, list[Hit]]]) -> float:
    return float(np.mean([not answer.abstained for answer, _ in results]))


def _sentences(assistant: Assistant) -> VectorCache:
    passages = assistant.encoders.passages
    return VectorCache(passages.embed_documents, passages.dimension())


def _ask(assistant: Assistant, cases: list[EvalCase], k: int) -> Asked:
    questions = [c.question for c in cases]
    vectors = assistant.encoders.queries.embed_queries(questions)
    hits = [list(r.hits) for r in assistant.search_many(questions, k=k, mode="hybrid")]
    return Asked(cases, hits, vectors)


def _answer(
    asked: Asked, reader: OnnxReader, sentences: VectorCache, plan: ReadingPlan, margin: float
) -> tuple[list[tuple[Answer, list[Hit]]], float]:
    """Answers as the pipeline gives them with this plan, and word pieces read each."""
    counting = _Counting(reader)
    readings = read_questions(counting, [c.question for c in asked.cases], asked.hits, plan)
    answers = _answers(asked, readings, sentences, plan, margin, AnswerPolicy())
    return answers, counting.characters / 4.3 / len(asked.cases)


class _Counting:
    """A reader that counts what it reads (characters; ~4.3 per word piece in SQuAD)."""

    def __init__(self, reader: OnnxReader) -> None:
        self._reader = reader
        self.characters = 0
        self.no_answer_margin = reader.no_answer_margin

    def fit_question(self, question: str) -> str:
        return self._reader.fit_question(question)

    def read(self, pairs: Sequence[tuple[str, str]]) -> list[Reading]:
        self.characters += sum(len(q) + len(p) for q, p in pairs)
        return self._reader.read(pairs)


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
        "pipeline (make tune-reading --write): of the margins and scorer floors tried, the "
        f"one that abstains on most unanswerable questions of the 10 held-out SQuAD 2.0 "
        f"train articles while answering >= {ANSWERED:.0%} of their answerable ones"
    )
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    print(f"{path}: no_answer_margin {margin:.4f}")


def _row(
    name: str,
    cases: Sequence[EvalCase],
    results: Sequence[tuple[Answer, list[Hit]]],
    pieces: float,
) -> None:
    """hit@1 (an abstention is a miss), R@1, the share answered, span EM/F1, cost."""
    n = len(cases)
    answers = [answer for answer, _ in results]
    rankings = [hits for _, hits in results]
    firsts = [a.citations[0].sentence if a.citations else "" for a in answers]
    phrases = [a.span.text if a.span else "" for a in answers]
    hit = sum(contains_answer(s, c.answers) for s, c in zip(firsts, cases, strict=True)) / n
    ranks = [source_rank(h, c.source or "") for h, c in zip(rankings, cases, strict=True)]
    r1 = sum(r == 1 for r in ranks) / n
    answered = sum(not a.abstained for a in answers) / n
    em = sum(exact_match(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
    f = sum(f1(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
    print(
        f"{name}\n    hit@1 {hit:.3f}  R@1 {r1:.3f}  answered {answered:.3f}  "
        f"EM {em:.3f}  F1 {f:.3f}  ~{pieces:.0f} word pieces read",
        flush=True,
    )


if __name__ == "__main__":
    main()
