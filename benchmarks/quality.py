"""Answer quality on SQuAD v1.1 dev and BEIR SciFact: lexical, dense and hybrid side by side.

    python benchmarks/quality.py            # full run (first run builds the indexes)
    python benchmarks/quality.py --quick    # a fixed subset, a few minutes
    python benchmarks/quality.py --only latency   # one section (or --skip some)

Sections: ``squad`` (SQuAD v1.1 dev, each mode, reader on and off), ``scifact`` (nDCG@10
per mode), ``abstain`` (half the articles indexed, and near misses), and the reader's
on/off sections of reader_quality.py: ``scifact-cite`` (SciFact train claims, is the
first citation a relevant abstract), ``squad2`` (the 10 SQuAD 2.0 train articles: tuning
data) and ``latency`` (per-question p50/p95, each ``ask`` timed alone).

Answers are read by the installed reader (``EXCERPTA_READER_DIR`` names another reader
folder), and compared with the reader off; span EM / F1 use SQuAD's normalization. The
abstention part adds near-miss questions (reporting-split questions with one fact
changed, by training/near_miss.py as the reader learns them) beside the half-articles set.

Indexes are built with the same code users run (`Assistant.update_index`) under
`benchmarks/.work/` and reused by later runs. SQuAD dev articles alternate between a
tuning split (even) and a reporting split (odd): weights were tuned on the first only;
the table shows both. Data is read from `../shared/data` (see its README); never copied.
Each run prints its figures and writes them as a JSON record (see record.py) to
benchmarks/results/quality.json (a partial run: quality-<sections>.json), or to --json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# benchmarks/ is on sys.path when run as a script
import record  # noqa: E402
from corpora import build, scifact_corpus, split_of, squad_cases  # noqa: E402
from datafiles import (  # noqa: E402
    SCIFACT_CORPUS,
    SCIFACT_QRELS,
    SCIFACT_QUERIES,
    SQUAD,
    SQUAD2_FIRST10,
    require,
)
from reader_quality import gold_paragraph, latency, scifact_citations, share, squad2  # noqa: E402

from assistant.evaluation import (  # noqa: E402
    METRIC_COLUMNS,
    EvalCase,
    run_cases,
    summarize,
)
from training.near_miss import entity_inventory, perturb  # noqa: E402

MODES = ("lexical", "dense", "hybrid")
GOALS = {"recall@1": 0.80, "recall@5": 0.95, "mrr@10": 0.87, "answer_hit@1": 0.75}
# With the reader (issue 12), hybrid mode on the reporting split.
READER_GOALS = {"answer_hit@1": 0.85, "span_em": 0.60, "span_f1": 0.70, "recall@1": 0.88}
NO_READER = "hybrid, reader off"
SCIFACT = (SCIFACT_QRELS, SCIFACT_QUERIES, SCIFACT_CORPUS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 10th question; SciFact subset")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument(
        "--json", type=Path, help="write the record here (default: benchmarks/results/)"
    )
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--skip", choices=SECTIONS, action="append", default=[])
    chosen.add_argument("--only", choices=SECTIONS, action="append", help="run only these")
    parser.add_argument(
        "--full", action="store_true", help="squad2: every answerable question, not a sample"
    )
    parser.add_argument(
        "--latency-questions", type=int, default=200, help="latency: questions sampled"
    )
    parser.add_argument(
        "--claims-as-questions",
        action="store_true",
        help='scifact-cite: ask each claim as "Is it true that ...?" (the reader reads questions)',
    )
    args = parser.parse_args()
    ran = [s for s in SECTIONS if s not in args.skip and (not args.only or s in args.only)]
    needed = list(dict.fromkeys(f for s in ran for f in SECTIONS[s][2]))
    require(args.data, *needed)
    options = {
        "quick": args.quick,
        "full": args.full,
        "latency_questions": args.latency_questions,
        "claims_as_questions": args.claims_as_questions,
    }
    facts = record.start("quality", args.data, needed, {**options, "sections": ran})
    started = time.perf_counter()
    figures: dict[str, Any] = {"quick": args.quick}
    for section in ran:
        key, run, _ = SECTIONS[section]
        figures[key] = run(args)
    path = args.json or record.record_path("quality", ran, list(SECTIONS), quick=args.quick)
    record.finish(facts, figures, time.perf_counter() - started, path)


# --- SQuAD -------------------------------------------------------------------------------


def squad(args: argparse.Namespace) -> dict[str, Any]:
    work = args.work / "squad"
    cases = squad_cases(args.data, work / "corpus")
    if args.quick:
        cases = cases[::10]
    assistant = build(work, "SQuAD v1.1 dev, 2,067 paragraphs")
    without = build(work, "SQuAD, reader off", reader=False)
    table: dict[str, dict[str, Any]] = {}
    runs = [(mode, assistant, mode) for mode in MODES] + [(NO_READER, without, "hybrid")]
    for name, answering, mode in runs:
        answering.clear_caches()  # each mode starts cold: sentences recur across questions
        started = time.perf_counter()
        results = run_cases(answering, cases, mode=mode, k=10)
        for split in ("report", "tune"):
            table[f"{name}/{split}"] = summarize([r for r in results if split_of(r.case) == split])
        table[f"{name}/all"] = summarize(results)
        table[f"{name}/all"]["seconds"] = time.perf_counter() - started
    read = "with the reader" if assistant.reader is not None else "NO READER INSTALLED"
    print_table(f"SQuAD v1.1 dev: {len(cases)} questions, {read}", table)
    report = {m: table[f"{m}/report"] for m in (*MODES, NO_READER)}
    for metric, goal in GOALS.items():
        best_single = max(report["lexical"][metric], report["dense"][metric])
        ok = report["hybrid"][metric] >= goal and report["hybrid"][metric] > best_single
        print(
            f"  goal {metric} >= {goal} and above both single modes: "
            f"{'met' if ok else 'MISSED'} ({report['hybrid'][metric]:.3f})"
        )
    for metric, goal in READER_GOALS.items():
        value = report["hybrid"][metric] or 0.0
        before = report[NO_READER][metric]
        was = "-" if before is None else f"{before:.3f}"
        print(
            f"  goal {metric} >= {goal} with the reader: {'met' if value >= goal else 'MISSED'}"
            f" ({value:.3f}; reader off {was})"
        )
    return table


# --- SciFact -----------------------------------------------------------------------------


def scifact(args: argparse.Namespace) -> dict[str, Any]:
    corpus = scifact_corpus(args.data, args.work, quick=args.quick)
    ids, queries, qrels = corpus.ids, corpus.claims, corpus.qrels
    assistant = build(corpus.work, f"SciFact, {corpus.abstracts} abstracts")
    table: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        started = time.perf_counter()
        results = assistant.search_many([queries[q] for q in ids], k=40, mode=mode)
        gains = []
        for query, result in zip(ids, results, strict=True):
            ranked = list(dict.fromkeys(h.chunk.path.removesuffix(".txt") for h in result.hits))
            gains.append(ndcg(ranked[:10], qrels[query]))
        elapsed = time.perf_counter() - started
        table[mode] = {
            "queries": len(ids),
            "ndcg@10": sum(gains) / len(gains),
            "ms_per_query": 1000 * elapsed / len(ids),
        }
    print(
        f"\nSciFact train: {len(ids)} queries, nDCG@10 (published test: BM25 0.679, "
        "MiniLM 0.645, bge-small 0.713)"
    )
    for mode, row in table.items():
        print(f"  {mode:<8} nDCG@10 {row['ndcg@10']:.3f}   {row['ms_per_query']:.1f} ms/query")
    best_single = max(table["lexical"]["ndcg@10"], table["dense"]["ndcg@10"])
    ok = table["hybrid"]["ndcg@10"] >= 0.70 and table["hybrid"]["ndcg@10"] > best_single
    print(f"  goal nDCG@10 >= 0.70 and above both single modes: {'met' if ok else 'MISSED'}")
    return table


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


# --- Abstention --------------------------------------------------------------------------


def abstention(args: argparse.Namespace) -> dict[str, Any]:
    """Index the even articles only; odd articles' questions have no answer there."""
    work = args.work / "squad-half"
    data_articles = json.loads((args.data / SQUAD).read_text())["data"]
    even = {a for a in range(len(data_articles)) if a % 2 == 0}
    cases = squad_cases(args.data, work / "corpus", even)
    cases = cases[1::20] if args.quick else cases[1::4]  # a fixed sample of each article
    assistant = build(work, "SQuAD, even articles only")
    results = run_cases(assistant, cases, mode=assistant.settings.mode, k=10)
    answerable = [r for r in results if split_of(r.case) == "tune"]
    unanswerable = [r for r in results if split_of(r.case) == "report"]
    rates = {
        "answerable_answered": sum(not r.answer.abstained for r in answerable) / len(answerable),
        "unanswerable_abstained": sum(r.answer.abstained for r in unanswerable) / len(unanswerable),
    }
    print(
        f"\nAbstention, even articles indexed ({len(answerable)} answerable questions of the "
        f"tuning split, {len(unanswerable)} unanswerable of the reporting split)"
    )
    print(
        f"  at the default threshold: answers {rates['answerable_answered']:.3f} of answerable,"
        f" abstains on {rates['unanswerable_abstained']:.3f} of unanswerable"
    )
    print("  threshold  answers-answerable  abstains-unanswerable")
    curve = []
    for step in range(30, 71, 2):
        t = step / 100
        answered = sum(r.answer.confidence >= t for r in answerable) / len(answerable)
        abstained = sum(r.answer.confidence < t for r in unanswerable) / len(unanswerable)
        curve.append({"threshold": t, "answered": answered, "abstained": abstained})
        print(f"  {t:9.2f}  {answered:18.3f}  {abstained:21.3f}")
    ok = rates["answerable_answered"] >= 0.9 and rates["unanswerable_abstained"] >= 0.9
    print(
        f"  goal: abstain >= 0.90 on unanswerable while answering >= 0.90: "
        f"{'met' if ok else 'MISSED'}"
    )
    return {**rates, "curve": curve, "near_miss": near_miss(args)}


def near_miss(args: argparse.Namespace) -> dict[str, Any]:
    """Reporting-split questions over the whole SQuAD index, each beside a near miss of
    itself (one fact swapped for another of the article's, or negated): the near misses
    should be abstained on while the originals are answered."""
    work = args.work / "squad"
    dataset = json.loads((args.data / SQUAD).read_text())["data"]
    cases = squad_cases(args.data, work / "corpus")
    texts = {}
    for a, article in enumerate(dataset):
        inventory = entity_inventory(" ".join(p["context"] for p in article["paragraphs"]))
        for p, paragraph in enumerate(article["paragraphs"]):
            texts[f"a{a:02d}/p{p:03d}.txt"] = (paragraph["context"], inventory)
    reporting = [c for c in cases if split_of(c) == "report"]
    reporting = reporting[::20] if args.quick else reporting[::4]
    assert all(c.source for c in reporting)
    rng = random.Random(12)  # seeded: the same near misses on every run
    changed: list[tuple[int, str]] = []
    for i, case in enumerate(reporting):
        miss = perturb(case.question.strip(), *texts[case.source or ""], rng)
        if miss is not None:
            changed.append((i, miss))
    originals = [reporting[i] for i, _ in changed]
    misses = [EvalCase(question, (), reporting[i].source) for i, question in changed]
    table: dict[str, Any] = {"questions": len(changed)}
    print(f"\nNear misses ({len(changed)} reporting-split questions, each also asked as is)")
    print("  reader  answers-originals  abstains-near-misses")
    for label, reader in (("on", True), ("off", False)):
        assistant = build(work, f"SQuAD, near misses, reader {label}", reader=reader)
        answered = run_cases(assistant, originals, mode=assistant.settings.mode, k=10)
        missed = run_cases(assistant, misses, mode=assistant.settings.mode, k=10)
        row = {
            "answered": share(answered, abstained=False),
            "abstained": share(missed, abstained=True),
        }
        table[f"reader {label}"] = row
        print(f"  {label:<6}  {row['answered']:17.3f}  {row['abstained']:20.3f}")
    on = table["reader on"]
    ok = on["abstained"] >= 0.6 and on["answered"] >= 0.9
    print(
        f"  goal: abstain >= 0.60 on near misses while answering >= 0.90: "
        f"{'met' if ok else 'MISSED'}"
    )
    return table


# --- helpers -----------------------------------------------------------------------------


def print_table(title: str, table: dict[str, dict[str, Any]]) -> None:
    keys = [*METRIC_COLUMNS, "span_em", "span_f1", "latency_ms_p50", "latency_ms_p95"]
    print(f"\n{title}")
    print(f"  {'mode/split':<26}{'n':>6}" + "".join(f"{k:>15}" for k in keys))
    for name, row in table.items():
        cells = "".join(
            f"{'-':>15}"
            if row[k] is None
            else f"{row[k]:>15.3f}"
            if "latency" not in k
            else f"{row[k]:>15.1f}"
            for k in keys
        )
        print(f"  {name:<26}{row['questions']:>6}{cells}")


Section = Callable[[argparse.Namespace], dict[str, Any]]
# name: (key in the record's figures, what runs it, the data files it reads)
SECTIONS: dict[str, tuple[str, Section, tuple[str, ...]]] = {
    "squad": ("squad", squad, (SQUAD,)),
    "scifact": ("scifact", scifact, SCIFACT),
    "abstain": ("abstention", abstention, (SQUAD,)),
    "scifact-cite": ("scifact_first_citation", scifact_citations, SCIFACT),
    "squad2": ("squad2_first10_tuning", squad2, (SQUAD2_FIRST10,)),
    "latency": ("latency", latency, (SQUAD,)),
    "gold": ("gold_paragraph", gold_paragraph, (SQUAD,)),
}


if __name__ == "__main__":
    main()
