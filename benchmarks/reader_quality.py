"""What the reader changes, reader on against reader off: the quality benchmark's sections
``scifact-cite``, ``squad2``, ``latency`` and ``gold`` (see quality.py).

- scifact-cite: SciFact train claims asked over the SciFact index, one at a time; the
  share whose answer's first citation is one of the claim's relevant abstracts (an
  abstention is a miss), beside retrieval's recall@1.
- squad2: the first 10 articles of SQuAD 2.0 train, a file per paragraph; a seeded sample
  of the answerable questions and all the unanswerable ones. These articles are the
  reader's calibration data: tuning figures, not held-out results.
- latency: SQuAD v1.1 dev reporting-split questions asked one at a time in a warm
  process, each ``Assistant.ask`` timed on its own (``batch`` reports its batch's average).
- gold: the reader alone, given each SQuAD v1.1 dev question's own paragraph.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from corpora import build, scifact_corpus, split_of, squad_cases
from datafiles import SQUAD, SQUAD2_FIRST10, as_question
from record import percentiles

from assistant import Answer, Assistant
from assistant.evaluation import (
    CaseResult,
    EvalCase,
    contains_answer,
    exact_match,
    f1,
    run_cases,
    summarize,
)
from assistant.reader import open_reader

SEED = 25
SQUAD2_ANSWERABLE = 1000  # sampled unless --full
LATENCY_GOAL_MS = {"p50_ms": 80.0, "p95_ms": 200.0}  # with the reader (issue 25)
WARM_UP = "What is this collection about?"


def time_each(assistant: Assistant, questions: Sequence[str]) -> tuple[list[Answer], list[float]]:
    """Ask each question on its own after a warm-up question, from empty caches; return
    the answers and each ``ask``'s wall time in milliseconds."""
    assistant.clear_caches()
    assistant.ask(WARM_UP)
    answers: list[Answer] = []
    times: list[float] = []
    for question in questions:
        started = time.perf_counter()
        answers.append(assistant.ask(question))
        times.append((time.perf_counter() - started) * 1000)
    return answers, times


def seeded_sample(items: Sequence[EvalCase], count: int) -> list[EvalCase]:
    """``count`` of ``items`` (all if fewer) drawn with a fixed seed, in their order."""
    if count >= len(items):
        return list(items)
    chosen = sorted(random.Random(SEED).sample(range(len(items)), count))
    return [items[i] for i in chosen]


# --- SciFact, first citation ----------------------------------------------------------------


def scifact_citations(args: argparse.Namespace) -> dict[str, Any]:
    scifact = scifact_corpus(args.data, args.work, quick=args.quick)
    questions = [scifact.claims[c] for c in scifact.ids]
    if args.claims_as_questions:  # claims are not read; asked as questions, they are
        questions = [as_question(q) for q in questions]
    on = build(scifact.work, f"SciFact, {scifact.abstracts} abstracts")
    searched = on.search_many(questions)
    recall = sum(
        bool(r.hits) and scifact.relevant(c, r.hits[0].chunk.path)
        for c, r in zip(scifact.ids, searched, strict=True)
    ) / len(questions)
    table: dict[str, Any] = {
        "claims": len(questions),
        "abstracts": scifact.abstracts,
        "k": on.settings.k,
        "retrieval_recall@1": recall,
    }
    off = build(scifact.work, "SciFact, reader off", reader=False)
    for label, assistant in (("on", on), ("off", off)):
        answers, times = time_each(assistant, questions)
        cited = [
            not a.abstained and bool(a.citations) and scifact.relevant(c, a.citations[0].path)
            for c, a in zip(scifact.ids, answers, strict=True)
        ]
        table[f"reader {label}"] = {
            "first_citation_relevant": sum(cited) / len(cited),
            "abstained": sum(a.abstained for a in answers) / len(answers),
            "seconds": round(sum(times) / 1000, 1),
            "latency": percentiles(times),
        }
    reader = "" if on.reader is not None else ", NO READER INSTALLED"
    print(
        f"\nSciFact train claims, first citation one of the claim's relevant abstracts "
        f"({len(questions)} claims asked one at a time over {scifact.abstracts} abstracts"
        + (', as "Is it true that ...?"' if args.claims_as_questions else "")
        + f"{reader}; an abstention is a miss)"
    )
    print(f"  retrieval recall@1 (hybrid search, for reference): {recall:.3f}")
    print("  reader  first-citation  abstained  seconds  p50 ms  p95 ms")
    for label in ("on", "off"):
        row = table[f"reader {label}"]
        print(
            f"  {label:<6}  {row['first_citation_relevant']:14.3f}  {row['abstained']:9.3f}"
            f"  {row['seconds']:7.1f}  {row['latency']['p50_ms']:6.1f}"
            f"  {row['latency']['p95_ms']:6.1f}"
        )
    on_share = table["reader on"]["first_citation_relevant"]
    off_share = table["reader off"]["first_citation_relevant"]
    print(f"  goal reader on >= reader off: {'met' if on_share >= off_share else 'MISSED'}")
    return table


# --- SQuAD 2.0, the 10 calibration articles -------------------------------------------------


def squad2(args: argparse.Namespace) -> dict[str, Any]:
    work = args.work / "squad2-first10"
    cases = squad_cases(args.data, work / "corpus", dataset=SQUAD2_FIRST10)
    paragraphs = len({c.source for c in cases})
    every = [c for c in cases if c.answers]
    unanswerable = [c for c in cases if not c.answers]
    wanted = len(every) if args.full else 300 if args.quick else SQUAD2_ANSWERABLE
    answerable = seeded_sample(every, wanted)
    if args.quick:
        unanswerable = unanswerable[::2]
    table: dict[str, Any] = {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "paragraphs": paragraphs,
        "k": 10,
    }
    for label, reader in (("on", True), ("off", False)):
        assistant = build(work, f"SQuAD 2.0 train first 10, reader {label}", reader=reader)
        assistant.clear_caches()
        started = time.perf_counter()
        answered = run_cases(assistant, answerable, mode=assistant.settings.mode, k=10)
        unanswered = run_cases(assistant, unanswerable, mode=assistant.settings.mode, k=10)
        figures = summarize(answered)
        table[f"reader {label}"] = {
            "unanswerable_abstained": share(unanswered, abstained=True),
            "answerable_answered": share(answered, abstained=False),
            "answer_hit@1": figures["answer_hit@1"],
            "span_em": figures["span_em"],
            "span_f1": figures["span_f1"],
            "recall@1": figures["recall@1"],
            "seconds": round(time.perf_counter() - started, 1),
        }
    sampled = "all" if len(answerable) == len(every) else f"a seeded sample of {len(every)}"
    print(
        f"\nSQuAD 2.0 train, first 10 articles: TUNING DATA (the reader's calibration set), "
        f"not a held-out result; {len(answerable)} answerable ({sampled}), "
        f"{len(unanswerable)} unanswerable, {paragraphs} paragraphs indexed"
    )
    print("  reader  unanswerable-abstained  answerable-answered  answer-hit@1  span-EM  span-F1")
    for label in ("on", "off"):
        row = table[f"reader {label}"]
        em, f1 = (_cell(row[key]) for key in ("span_em", "span_f1"))
        print(
            f"  {label:<6}  {row['unanswerable_abstained']:22.3f}  "
            f"{row['answerable_answered']:19.3f}  {row['answer_hit@1']:12.3f}  {em}  {f1}"
            f"   ({row['seconds']:.0f}s)"
        )
    on = table["reader on"]
    ok = on["unanswerable_abstained"] >= 0.6 and on["answerable_answered"] >= 0.9
    print(
        "  goal (reader on): abstain >= 0.60 on unanswerable while answering >= 0.90: "
        f"{'met' if ok else 'MISSED'} (on tuning data)"
    )
    return table


def _cell(value: float | None) -> str:
    return f"{'-':>7}" if value is None else f"{value:7.3f}"


def share(results: Sequence[CaseResult], *, abstained: bool) -> float:
    return sum(r.answer.abstained is abstained for r in results) / max(1, len(results))


# --- Per-question latency -------------------------------------------------------------------


def latency(args: argparse.Namespace) -> dict[str, Any]:
    work = args.work / "squad"
    reporting = [c for c in squad_cases(args.data, work / "corpus") if split_of(c) == "report"]
    cases = seeded_sample(reporting, 50 if args.quick else args.latency_questions)
    table: dict[str, Any] = {"questions": len(cases)}
    for label, reader in (("on", True), ("off", False)):
        assistant = build(work, f"SQuAD, latency, reader {label}", reader=reader)
        table["k"] = assistant.settings.k
        answers, times = time_each(assistant, [c.question for c in cases])
        hits = [
            bool(a.citations) and contains_answer(a.citations[0].sentence, c.answers)
            for c, a in zip(cases, answers, strict=True)
        ]
        table[f"reader {label}"] = {**percentiles(times), "answer_hit@1": sum(hits) / len(hits)}
    print(
        f"\nPer-question latency: {len(cases)} SQuAD v1.1 dev reporting-split questions "
        "(seeded sample), each `ask` timed alone in a warm process"
    )
    print("  reader  p50 ms  p95 ms  mean ms  max ms  answer-hit@1")
    for label in ("on", "off"):
        row = table[f"reader {label}"]
        print(
            f"  {label:<6}  {row['p50_ms']:6.1f}  {row['p95_ms']:6.1f}  {row['mean_ms']:7.1f}"
            f"  {row['max_ms']:6.1f}  {row['answer_hit@1']:12.3f}"
        )
    on = table["reader on"]
    ok = all(on[key] <= goal for key, goal in LATENCY_GOAL_MS.items())
    print(
        f"  goal with the reader p50 <= {LATENCY_GOAL_MS['p50_ms']:g} ms, p95 <= "
        f"{LATENCY_GOAL_MS['p95_ms']:g} ms: {'met' if ok else 'MISSED'}"
    )
    return table


# --- The reader alone, gold paragraph given ------------------------------------------------


def gold_paragraph(args: argparse.Namespace) -> dict[str, Any]:
    """The installed reader given each SQuAD v1.1 dev question's own paragraph (all of
    dev, or every 10th question with --quick): SQuAD EM / F1 of its best span, read as
    the runtime reads (windows, its span decoder), and the share it answers at its
    margin. Dev is never trained or calibrated on, so every row is held out."""
    reader = open_reader()
    if reader is None:
        print("\nGold paragraph given: no reader installed")
        return {}
    rows = [
        (a, qa["question"], paragraph["context"], [x["text"] for x in qa["answers"]])
        for a, article in enumerate(json.loads((args.data / SQUAD).read_text())["data"])
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    if args.quick:
        rows = rows[::10]
    started = time.perf_counter()
    readings = reader.read([(question, context) for _, question, context, _ in rows])
    seconds = time.perf_counter() - started
    table: dict[str, Any] = {"seconds": round(seconds, 1)}
    print(f"\nGold paragraph given (SQuAD v1.1 dev, {len(rows)} questions, {seconds:.0f} s)")
    print("  split        questions     EM     F1  answered")
    for split, wanted in (("all", {0, 1}), ("reporting", {1}), ("tuning", {0})):
        chosen = [(r, g) for r, g in zip(rows, readings, strict=True) if r[0] % 2 in wanted]
        spans = [(g, r[2][g.start : g.end], r[3]) for r, g in chosen]
        figures = {
            "questions": len(spans),
            "exact_match": sum(exact_match(t, gold) for _, t, gold in spans) / len(spans),
            "f1": sum(f1(t, gold) for _, t, gold in spans) / len(spans),
            "answered": sum(g.answers(reader.no_answer_margin) for g, _, _ in spans) / len(spans),
        }
        table[split] = figures
        print(
            f"  {split:<11}  {figures['questions']:9d}  {figures['exact_match']:.3f}"
            f"  {figures['f1']:.3f}  {figures['answered']:8.3f}"
        )
    met = table["all"]["exact_match"] >= 0.72 and table["all"]["f1"] >= 0.82
    print(f"  goal EM >= 0.72 and F1 >= 0.82 (all of dev): {'met' if met else 'MISSED'}")
    return table
