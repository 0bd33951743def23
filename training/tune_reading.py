"""Tune how answering ranks the passages the reader read (``assistant/reading.py``).

The reader scores each passage on its own; ranking them by that score alone throws away
what retrieval knew. This reads the validation articles of SQuAD's tuning split (never
trained on: see reader_data.split_articles) through the real pipeline, runs the reader
once over every question's passages, then prints answer-hit@1, R@1 and span EM/F1 for
each way of ordering the passages, the reader off beside them. Needs the SQuAD index
that ``make bench-quality`` builds under benchmarks/.work/squad.

    python -m training.tune_reading [--reader DIR] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import squad_cases  # noqa: E402  (benchmarks/ is on sys.path)

from assistant import Assistant, Settings  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    EvalCase,
    contains_answer,
    exact_match,
    f1,
    source_rank,
)
from assistant.reader import Reading, open_reader  # noqa: E402
from assistant.reading import compose_read_answer, passages_to_read  # noqa: E402
from assistant.records import Hit  # noqa: E402

from .reader_data import load_articles, near_misses, split_articles  # noqa: E402

Order = Callable[[Sequence[Reading]], list[int]]


def blended(weight: float, relative: bool) -> Order:
    """Span score (less the no-answer score when ``relative``) less weight*log2(rank+1)."""

    def order(readings: Sequence[Reading]) -> list[int]:
        def key(i: int) -> float:
            r = readings[i]
            own = r.span_score - (r.no_answer_score if relative else 0.0)
            return own - weight * math.log2(i + 2)

        return sorted(range(len(readings)), key=key, reverse=True)

    return order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "squad")
    parser.add_argument("--reader", type=Path, help="reader folder (default: the installed one)")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    articles = set(split_articles(48)["validation"])
    cases = [
        c
        for c in squad_cases(args.data, args.work / "corpus")
        if c.source and int(c.source[1:3]) in articles
    ]
    settings = Settings(corpus=args.work / "corpus", index=args.work / "index", reader=False)
    assistant = Assistant(settings)
    questions = [c.question for c in cases]
    answered = assistant.answer_with_hits(questions, k=args.k, mode="hybrid")
    reader = open_reader(args.reader)
    if reader is None:
        sys.exit("no reader model found")
    all_hits = [hits for _, hits in answered]
    pairs = [
        (c.question, h.chunk.text)
        for c, hits in zip(cases, all_hits, strict=True)
        for h in passages_to_read(hits)
    ]
    readings = reader.read(pairs)
    print(f"{len(cases)} validation questions, {len(pairs)} passages read")
    scorer = [
        (a.citations[0].sentence if a.citations else "", source_rank(h, c.source or ""))
        for c, (a, h) in zip(cases, answered, strict=True)
    ]
    _row("reader off", cases, [s for s, _ in scorer], [r for _, r in scorer], None)
    orders: list[tuple[str, Order]] = [("span score (was)", blended(0.0, False))]
    for relative in (False, True):
        for weight in (0.5, 1.0, 2.0, 3.0, 4.0, 6.0):
            name = f"{'span-noans' if relative else 'span'} - {weight}*log2(rank+1)"
            orders.append((name, blended(weight, relative)))
    orders.append(("span-noans", blended(0.0, True)))
    for name, order in orders:
        sentences, ranks, phrases = [], [], []
        offset = 0
        for case, hits in zip(cases, all_hits, strict=True):
            count = len(passages_to_read(hits))
            mine = readings[offset : offset + count]
            offset += count
            answer, ranked = compose_read_answer(
                case.question, hits, mine, reader.no_answer_margin, order=order(mine)
            )
            sentences.append(answer.citations[0].sentence if answer.citations else "")
            ranks.append(source_rank(ranked, case.source or ""))
            phrases.append(answer.span.text if answer.span else "")
        _row(name, cases, sentences, ranks, phrases)
    _calibrate(args, assistant, reader, _best_margins(readings, all_hits))


def _best_margins(readings: Sequence[Reading], all_hits: Sequence[list[Hit]]) -> list[float]:
    """Per question: the lowest no-answer score less span score over its passages (the
    question is answered when this is at most the margin)."""
    best, offset = [], 0
    for hits in all_hits:
        count = len(passages_to_read(hits))
        mine = readings[offset : offset + count]
        offset += count
        best.append(min((r.no_answer_score - r.span_score for r in mine), default=1e9))
    return best


def _calibrate(
    args: argparse.Namespace, assistant: Assistant, reader: Any, answerable: list[float]
) -> None:
    """The margin that answers 90% of answerable questions in the pipeline (10 passages
    read, not the gold one alone), and the near misses it abstains on."""
    articles = load_articles(args.data / "squad-v1.1-dev" / "dev-v1.1.json")
    misses = near_misses(articles, split_articles(len(articles))["validation"], 1.0, seed=113)
    questions = [m.question for m in misses]
    hits = assistant.search_many(questions, k=args.k, mode="hybrid")
    pairs = [
        (q, h.chunk.text)
        for q, r in zip(questions, hits, strict=True)
        for h in passages_to_read(list(r.hits))
    ]
    missed = _best_margins(reader.read(pairs), [list(r.hits) for r in hits])
    shipped = reader.no_answer_margin
    for answered_share in (0.88, 0.90, 0.92, 0.94):
        margin = float(np.quantile(answerable, answered_share))
        abstained = float(np.mean([m > margin for m in missed]))
        print(
            f"pipeline margin for {answered_share:.0%} answered: {margin:.3f}, "
            f"near misses abstained {abstained:.1%} (of {len(missed)})"
        )
    answered = float(np.mean([m <= shipped for m in answerable]))
    abstained = float(np.mean([m > shipped for m in missed]))
    print(
        f"shipped margin {shipped:.3f}: answered {answered:.1%}, "
        f"near misses abstained {abstained:.1%}"
    )


def _row(
    name: str,
    cases: Sequence[EvalCase],
    sentences: Sequence[str],
    ranks: Sequence[int | None],
    phrases: Sequence[str] | None,
) -> None:
    n = len(cases)
    hit = sum(contains_answer(s, c.answers) for s, c in zip(sentences, cases, strict=True)) / n
    r1 = sum(r == 1 for r in ranks) / n
    answered = sum(bool(s) for s in sentences) / n
    line = f"{name:<32} hit@1 {hit:.3f}  R@1 {r1:.3f}  answered {answered:.3f}"
    if phrases is not None:
        em = sum(exact_match(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
        f = sum(f1(p, c.answers) for p, c in zip(phrases, cases, strict=True)) / n
        line += f"  EM {em:.3f}  F1 {f:.3f}"
    print(line, flush=True)


if __name__ == "__main__":
    main()
