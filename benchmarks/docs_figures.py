"""Write the figure tables in docs/ from the benchmark records: ``make docs-figures``.

A generated table sits in a docs page between ``<!-- figures: NAME -->`` and
``<!-- /figures -->``; NAME picks the function of ``TABLES`` that renders it from the
records in benchmarks/results/ (each run writes one: see record.py). Every table is
stamped with its records' dates, CPUs and load averages, and a goal it misses says
"missed". ``--check`` changes nothing and exits 1 naming each table that differs from
what its records give (a table edited by hand, or a record rerun without regenerating);
tests/test_docs_figures.py runs the same check.

    python benchmarks/docs_figures.py [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"
README = ROOT / "README.md"
_BLOCK = re.compile(r"(<!-- figures: (\S+) -->\n)(.*?)(<!-- /figures -->)", re.DOTALL)

Records = Callable[[str], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report tables that differ")
    args = parser.parse_args(argv)
    stale = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        fresh = render_page(text, read_record)
        if fresh != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(fresh, encoding="utf-8")
    verb = "differ from their records" if args.check else "rewritten"
    for path in stale:
        print(f"{path}: tables {verb}", file=sys.stderr)
    return 1 if args.check and stale else 0


def pages() -> list[Path]:
    """The pages that may hold generated tables: the README and docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def read_record(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
    return record


def render_page(text: str, records: Records) -> str:
    """``text`` with each generated table rendered afresh from ``records``."""

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in TABLES:
            raise SystemExit(f"no table named {name!r} (known: {', '.join(TABLES)})")
        return match.group(1) + TABLES[name](records) + match.group(4)

    return _BLOCK.sub(table, text)


def stamp(*records: dict[str, Any]) -> str:
    """Where the figures come from: each record's file, date, CPU and load."""
    parts = []
    for record in records:
        machine = record["machine"]
        load = machine["load_average"][0], record["load_average_at_end"][0]
        parts.append(
            f"`{record['_name']}.json` ({record['date'][:16].replace('T', ' ')} UTC, "
            f"{machine['cpu_count']} cores {machine['cpu']}, load {load[0]:.1f} before, "
            f"{load[1]:.1f} after)"
        )
    return "From " + "; ".join(parts) + ".\n\n"


def _named(records: Records, name: str) -> dict[str, Any]:
    return {**records(name), "_name": name}


def _goal(met: bool, goal: str) -> str:
    return f"{goal}: {'met' if met else 'missed'}"


def _met(value: float, goal: str) -> bool:
    sign, bound = goal.split()
    return value <= float(bound) if sign == "<=" else value >= float(bound)


def speed_table(records: Records) -> str:
    speed = _named(records, "speed")
    rows = ["| measure | value | goal |", "| --- | --- | --- |"]
    for goal in speed["figures"]["goals"]:
        value, bound = goal["value"], goal["goal"]
        shown = f"{value:.0f}" if "MB" in goal["measure"] else f"{value:.3g}"
        rows.append(f"| {goal['measure']} | {shown} | {_goal(_met(value, bound), bound)} |")
    return stamp(speed) + "\n".join(rows) + "\n"


def reader_table(records: Records) -> str:
    gold = _named(records, "quality-gold")
    quick = _named(records, "quality-quick-squad-scifact-abstain-scifact-cite-squad2")
    latency = _named(records, "quality-latency")
    questions = _named(records, "quality-quick-scifact-cite-as-questions")
    speed = _named(records, "speed")
    g = gold["figures"]["gold_paragraph"]["all"]
    squad = quick["figures"]["squad"]
    on, off = squad["hybrid/report"], squad["hybrid, reader off/report"]
    near = quick["figures"]["abstention"]["near_miss"]
    s2 = quick["figures"]["squad2_first10_tuning"]
    cite = quick["figures"]["scifact_first_citation"]
    cite_q = questions["figures"]["scifact_first_citation"]
    lat = latency["figures"]["latency"]
    figures = speed["figures"]
    ratio = figures["cold_ask_s"] * 200 / figures["batch_200_s"]

    def share(x: float) -> str:
        return f"{x:.1%}"

    rows = [
        "| measure | reader | reader off | goal (issue 25) |",
        "| --- | --- | --- | --- |",
        f"| gold paragraph given, all {g['questions']:,} SQuAD v1.1 dev questions: EM / F1 "
        f"| {g['exact_match']:.3f} / {g['f1']:.3f} | | "
        f"{_goal(g['exact_match'] >= 0.72 and g['f1'] >= 0.82, '≥ 0.72 / ≥ 0.82')} |",
        f"| SQuAD v1.1 dev reporting split, whole pipeline ({on['questions']} questions): "
        f"answer-hit@1 / span F1 | {on['answer_hit@1']:.3f} / {on['span_f1']:.3f} | "
        f"{off['answer_hit@1']:.3f} / - | "
        f"{_goal(on['answer_hit@1'] >= 0.88 and on['span_f1'] >= 0.75, '≥ 0.88 / ≥ 0.75')} |",
        f"| same: span EM / R@1 of the gold paragraph | {on['span_em']:.3f} / "
        f"{on['recall@1']:.3f} | - / {off['recall@1']:.3f} | |",
        f"| near misses of {near['questions']} reporting-split questions abstained / the "
        f"originals answered | {share(near['reader on']['abstained'])} / "
        f"{share(near['reader on']['answered'])} | {share(near['reader off']['abstained'])} / "
        f"{share(near['reader off']['answered'])} | "
        + _goal(
            near["reader on"]["abstained"] >= 0.70 and near["reader on"]["answered"] >= 0.90,
            "≥ 70% while answering ≥ 90%",
        )
        + " |",
        f"| real unanswerable questions of the 10 held-out SQuAD 2.0 articles abstained / "
        f"answerable answered (tuning data; {s2['unanswerable']} and {s2['answerable']}) | "
        f"{share(s2['reader on']['unanswerable_abstained'])} / "
        f"{share(s2['reader on']['answerable_answered'])} | "
        f"{share(s2['reader off']['unanswerable_abstained'])} / "
        f"{share(s2['reader off']['answerable_answered'])} | "
        + _goal(
            s2["reader on"]["unanswerable_abstained"] >= 0.60
            and s2["reader on"]["answerable_answered"] >= 0.90,
            "≥ 60% while answering ≥ 90%",
        )
        + " |",
        f"| SciFact train claims, first citation a relevant abstract ({cite['claims']} claims; "
        f'as "Is it true that ...?") | {cite["reader on"]["first_citation_relevant"]:.3f} '
        f"({cite_q['reader on']['first_citation_relevant']:.3f}) | "
        f"{cite['reader off']['first_citation_relevant']:.3f} "
        f"({cite_q['reader off']['first_citation_relevant']:.3f}) | "
        + _goal(
            cite["reader on"]["first_citation_relevant"]
            >= cite["reader off"]["first_citation_relevant"]
            and cite_q["reader on"]["first_citation_relevant"]
            >= cite_q["reader off"]["first_citation_relevant"],
            "on ≥ off",
        )
        + " |",
        f"| per-question latency, p50 / p95, {lat['questions']} reporting-split questions "
        f"asked one at a time | {lat['reader on']['p50_ms']:.1f} / "
        f"{lat['reader on']['p95_ms']:.1f} ms | {lat['reader off']['p50_ms']:.1f} / "
        f"{lat['reader off']['p95_ms']:.1f} ms | "
        + _goal(
            lat["reader on"]["p50_ms"] <= 80 and lat["reader on"]["p95_ms"] <= 200,
            "≤ 80 / ≤ 200 ms",
        )
        + " |",
        f"| `batch` of 200 questions vs one `ask` process each (`make bench-speed`) | "
        f"{figures['batch_200_s']:.2f} s vs 200 x {figures['cold_ask_s']:.2f} s "
        f"({ratio:.1f}x) | | {_goal(ratio >= 20, '≥ 20x')} |",
    ]
    return stamp(gold, quick, latency, questions, speed) + "\n".join(rows) + "\n"


def memory_table(records: Records) -> str:
    memory = _named(records, "memory")
    results = memory["figures"]["results"]
    goal = memory["figures"]["goal_mb"]
    columns = [(f"{r['build']['chunks_total']:,}", r["build"]) for r in results]
    columns += [
        (f"{r['build']['chunks_total']:,}, one file changed", r["update"])
        for r in results
        if "update" in r
    ]
    worst = max(run["peak_rss_mb"] for _, run in columns)
    rows = [
        "| chunks | " + " | ".join(name for name, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
        "| peak memory of `index` | "
        + " | ".join(f"{run['peak_rss_mb']:.0f} MB" for _, run in columns)
        + " |",
        "| time | " + " | ".join(f"{run['seconds']:.1f} s" for _, run in columns) + " |",
    ]
    verdict = f"Goal: at most {goal:.0f} MB at every size: {'met' if worst <= goal else 'missed'}."
    return stamp(memory) + "\n".join(rows) + "\n\n" + verdict + "\n"


def _size(chunks: int) -> str:
    return f"{chunks // 1_000_000}M" if chunks % 1_000_000 == 0 else f"{chunks // 1000}k"


def _pair(figures: dict[str, Any], unit: str = "ms") -> str:
    return f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} {unit}"


def scale_table(records: Records) -> str:
    """``make bench-scale``: the stored index at each size, one column each."""
    scale = _named(records, "scale")
    results = scale["figures"]["results"]
    goals = scale["figures"]["goals"]

    def row(name: str, cell: Callable[[dict[str, Any]], str]) -> str:
        return f"| {name} | " + " | ".join(cell(r) for r in results) + " |"

    def scoped(r: dict[str, Any]) -> str:
        sc = r["scoped"]
        ratio = sc["scoped"]["p50_ms"] / sc["all"]["p50_ms"]
        return f"{sc['scoped']['p50_ms']:.1f} vs {sc['all']['p50_ms']:.1f} ms ({ratio:.2f}x)"

    def build(r: dict[str, Any]) -> str:
        bv, bt = r["build_vectors"], r["build_text"]
        peak = max(bv["peak_rss_mb"], bt["peak_rss_mb"]) / 1024
        return f"{bv['wall_s'] + bt['wall_s']:.0f} s, {peak:.1f} GB"

    rows = [
        "| synthetic chunks | " + " | ".join(_size(r["size"]) for r in results) + " |",
        "| --- |" + " --- |" * len(results),
        row("load average before / after", lambda r: _loads(r)),
        row("vector index", lambda r: r["dense"]["description"]),
        row("dense search p50 / p95", lambda r: _pair(r["dense"])),
        row("recall@10 vs exact search", lambda r: f"{r['dense']['recall_at_10']:.3f}"),
        row(
            "memory of the dense search process (its loaded vectors)",
            lambda r: f"{r['dense']['rss_mb']:.0f} MB ({r['dense']['index_rss_mb']:.0f} MB)",
        ),
        row("BM25 search p50 / p95", lambda r: _pair(r["bm25"])),
        row("hybrid search p50 / p95", lambda r: _pair(r["hybrid"])),
        row("open the index", lambda r: f"{r['hybrid']['open_s']:.2f} s"),
        row(
            "scoped to 10% of the files (`--in`): hybrid p50 scoped vs unscoped, interleaved",
            scoped,
        ),
        row(
            "scoped: making the selection; first scoped search",
            lambda r: (
                f"{r['scoped']['select_s'] * 1000:.0f} ms; {r['scoped']['first_s'] * 1000:.0f} ms"
            ),
        ),
        row(
            "disk: vectors / chunk table / BM25",
            lambda r: (
                " / ".join(
                    f"{r['disk_mb'][k]:.0f}" for k in ("vectors.faiss", "index.sqlite", "bm25")
                )
                + " MB"
            ),
        ),
        row("build time, peak memory", build),
    ]
    checks = [
        ("dense search p50", "p50_ms", "dense", f"<= {goals['p50_ms']:g} ms"),
        ("BM25 search p50", "p50_ms", "bm25", f"<= {goals['bm25_p50_ms']:g} ms"),
        ("recall@10", "recall_at_10", "dense", f">= {goals['recall']:g}"),
        ("dense search process", "rss_mb", "dense", f"<= {goals['rss_mb']:g} MB"),
    ]
    verdicts = []
    for name, key, part, goal in checks:
        met = all(_met(r[part][key], goal.removesuffix(" ms").removesuffix(" MB")) for r in results)
        verdicts.append(f"{name} {_goal(met, goal)}")
    ratios = [r["scoped"]["scoped"]["p50_ms"] / r["scoped"]["all"]["p50_ms"] for r in results]
    bound = f"<= {goals['scoped_ratio']:g}"
    verdicts.append(f"scoped / unscoped {_goal(_met(max(ratios), bound), bound + 'x')}")
    verdict = "Goals at every size: " + "; ".join(verdicts) + "."
    return stamp(scale) + "\n".join(rows) + "\n\n" + verdict + "\n"


def _loads(result: dict[str, Any]) -> str:
    return f"{result['load_average']:.1f} / {result['load_average_at_end']:.1f}"


def segments_table(records: Records) -> str:
    """``make bench-segments``: hybrid search in unmerged segments against merged."""
    run = _named(records, "scale-segments")
    options = run["options"]
    goal = f"<= {run['figures']['goals']['segments_p95_ratio']:g}"
    rows = [
        "| chunks | segments | hybrid p50 / p95, unmerged | merged into one | merge "
        "| p95 unmerged / merged | goal |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in run["figures"]["results"]:
        size, count = r["size"], options["segments"]
        small = size // 100
        shape = (
            f"{count} of {_size(size // count)}"
            if options["equal"]
            else f"one of {_size(size - small * (count - 1))} and {count - 1} of {_size(small)}"
        )
        ratio = r["hybrid"]["p95_ms"] / r["hybrid_merged"]["p95_ms"]
        rows.append(
            f"| {_size(size)} | {shape} | {_pair(r['hybrid'])} | {_pair(r['hybrid_merged'])} "
            f"| {r['merge']['merge_s']:.0f} s | {ratio:.2f} | {_goal(_met(ratio, goal), goal)} |"
        )
    return stamp(run) + "\n".join(rows) + "\n"


def _rate(rate: float) -> str:
    return f"{rate:,.1f}" if rate < 100 else f"{rate:,.0f}"


def ray_table(records: Records) -> str:
    """``make bench-ray``: Ray against the local path, one row per measure."""
    ray = _named(records, "ray")
    f = ray["figures"]
    goals = f["goals"]
    rate = f["chunks_per_second"]
    rounds = "; ".join(
        " / ".join(_rate(r[name]) for name in ("local", "ray-1", "ray-2")) for r in f["rounds"]
    )

    def goal(key: str, value: float, shown: str | None = None) -> str:
        return _goal(_met(value, goals[key]), shown or goals[key])

    rows = [
        "| measure | measured | goal |",
        "| --- | --- | --- |",
        f"| chunks/s: local path / Ray 1 worker (a 1-CPU cluster: one core) / Ray 2 workers "
        f"(`--ray local --workers 2`), best of {len(f['rounds'])} rounds | "
        f"{_rate(rate['local'])} / {_rate(rate['ray-1'])} / {_rate(rate['ray-2'])} | |",
        f"| the same, each round | {rounds} | |",
        f"| Ray 2 workers / local path | {f['ray2_over_local']:.2f} | "
        f"{goal('ray2_over_local', f['ray2_over_local'])} |",
        f"| scaling 1 → 2 workers (each one core) | {f['scaling']:.2f}x | "
        f"{goal('scaling', f['scaling'], goals['scaling'] + 'x')} |",
        f"| top-10 of the queries, Ray-built vs local index (hybrid) | "
        f"{f['top10_agreement']:.1%} the same | "
        f"{goal('top10_agreement', f['top10_agreement'], '>= 95%')} |",
        f"| largest vector difference, Ray-built vs local | {f['max_vector_difference']:.2g} | "
        f"{goal('max_vector_difference', f['max_vector_difference'])} |",
        f"| local cluster start-up, 2 actors with their sessions built | "
        f"{f['start_up_s']:.1f} s | {goal('start_up_s', f['start_up_s'], '<= 15 s')} |",
        f"| extra memory of the local cluster with 2 actors: PSS (available memory fell; "
        f"summed RSS) | {f['memory_pss_mb']:.0f} MB ({f['memory_available_fell_mb']:.0f} MB; "
        f"{f['memory_rss_mb']:,.0f} MB) | "
        f"{goal('memory_pss_mb', f['memory_pss_mb'], '<= 1 GB')} |",
        f"| the driver alone (scan, load, chunk, write; embedding stood in) | "
        f"{_rate(f['driver_chunks_per_second'])} chunks/s | |",
    ]
    return stamp(ray) + "\n".join(rows) + "\n"


PROJECTED = 10_000_000
# (machines, cores each), one worker a core; those past the driver's ceiling are left out
MACHINES = ((1, 4), (1, 8), (10, 2), (1, 16), (2, 16), (4, 16))


def projection_table(records: Records) -> str:
    """Ten million chunks, projected from ``ray.json``'s one-worker rate and driver."""
    ray = _named(records, "ray")
    f = ray["figures"]
    rates = f["chunks_per_second"]
    worker, driver = rates["ray-1"], f["driver_chunks_per_second"]
    saturated = math.ceil(driver / worker)
    cores = ray["machine"]["cpu_count"]

    def hours(rate: float) -> str:
        h = PROJECTED / rate / 3600
        return f"{h:.0f} h" if h >= 10 else f"{h:.1f} h"

    rows = [
        "| where | workers | chunks/s | 10M chunks |",
        "| --- | --- | --- | --- |",
        f"| the local path, this {cores}-core machine (measured) | ({cores} threads) "
        f"| {_rate(rates['local'])} | {hours(rates['local'])} |",
        f"| Ray, this {cores}-core machine (measured) | 2 | {_rate(rates['ray-2'])} "
        f"| {hours(rates['ray-2'])} |",
    ]
    for machines, each in MACHINES:
        workers = machines * each
        if workers >= saturated:
            continue
        plural = "s" if machines > 1 else ""
        rows.append(
            f"| {machines} machine{plural} of {each} cores (projected) | {workers} | "
            f"{_rate(workers * worker)} | {hours(workers * worker)} |"
        )
    enough = math.ceil(saturated / 16)
    rows.append(
        f"| {enough} or more machines of 16 cores (projected) | "
        f"{saturated} used | {_rate(driver)} (the driver) | {hours(driver)} |"
    )
    intro = (
        f"Projected from the measured {_rate(worker)} chunks/s of one one-core Ray worker, "
        f"one worker a core on machines of their own (which this shared machine can't "
        f"show: its own two workers share two cores with the driver and other work), capped "
        f"by the driver's measured {_rate(driver)} chunks/s (reached at {saturated} one-core "
        f"workers):\n\n"
    )
    return stamp(ray) + intro + "\n".join(rows) + "\n"


QUALITY = "quality"  # the whole run of make bench-quality
# benchmarks/quality.py's goals (its GOALS, READER_GOALS and SciFact's; a test compares):
# hybrid on the reporting split, and above both single modes where ``above`` says so.
SQUAD_GOALS = {"recall@1": 0.80, "recall@5": 0.95, "mrr@10": 0.87, "answer_hit@1": 0.75}
READER_GOALS = {"answer_hit@1": 0.85, "span_em": 0.60, "span_f1": 0.70, "recall@1": 0.88}
SCIFACT_GOAL = 0.70
_SHOWN = {
    "recall@1": "R@1",
    "recall@5": "R@5",
    "mrr@10": "MRR@10",
    "answer_hit@1": "answer-hit@1",
    "span_em": "span EM",
    "span_f1": "span F1",
}


def quality_table(records: Records) -> str:
    """``make bench-quality``: SQuAD v1.1 dev retrieval and answers, each mode."""
    quality = _named(records, QUALITY)
    squad = quality["figures"]["squad"]
    metrics = ("recall@1", "recall@5", "recall@10", "mrr@10", "answer_hit@1", "answer_hit@3")
    rows = [
        "| SQuAD v1.1 dev | questions | R@1 | R@5 | R@10 | MRR@10 | answer-hit@1 | "
        "answer-hit@3 | span F1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    shown = (
        ("lexical (BM25), reporting split", "lexical/report", False),
        ("dense, reporting split", "dense/report", False),
        ("hybrid (default), reporting split", "hybrid/report", True),
        ("hybrid, reader off, reporting split", "hybrid, reader off/report", False),
        ("hybrid, all questions", "hybrid/all", False),
        ("hybrid, reader off, all questions", "hybrid, reader off/all", False),
    )
    for name, key, bold in shown:
        r = squad[key]
        cells = [f"{r[m]:.3f}" for m in metrics]
        cells.append("-" if r["span_f1"] is None else f"{r['span_f1']:.3f}")
        if bold:
            name, cells = f"**{name}**", [f"**{c}**" for c in cells]
        rows.append(f"| {name} | {r['questions']:,} | " + " | ".join(cells) + " |")
    report = {mode: squad[f"{mode}/report"] for mode in ("lexical", "dense", "hybrid")}
    single = [
        f"{_SHOWN[m]} {_goal(_above(report, m, goal), f'>= {goal:.2f}')}"
        for m, goal in SQUAD_GOALS.items()
    ]
    reader = [
        f"{_SHOWN[m]} {_goal((report['hybrid'][m] or 0.0) >= goal, f'>= {goal:.2f}')}"
        for m, goal in READER_GOALS.items()
    ]
    goals = (
        "Goals, hybrid on the reporting split, above both single modes: "
        + "; ".join(single)
        + ". With the reader: "
        + "; ".join(reader)
        + ".\n"
    )
    return stamp(quality) + _quick(quality) + "\n".join(rows) + "\n\n" + goals


def _above(report: dict[str, dict[str, Any]], metric: str, goal: float) -> bool:
    best_single = max(report["lexical"][metric], report["dense"][metric])
    value: float = report["hybrid"][metric]
    return value >= goal and value > best_single


def _quick(quality: dict[str, Any]) -> str:
    if not quality["figures"]["quick"]:
        return ""
    return "The quick run (`make bench-quality-quick`: every 10th question, a SciFact subset).\n\n"


def scifact_table(records: Records) -> str:
    """``make bench-quality``: SciFact train claims, nDCG@10 per mode."""
    quality = _named(records, QUALITY)
    scifact = quality["figures"]["scifact"]
    queries = scifact["hybrid"]["queries"]
    rows = [f"| SciFact ({queries} train queries) | nDCG@10 |", "| --- | --- |"]
    for mode, name in (("lexical", "lexical (BM25)"), ("dense", "dense")):
        rows.append(f"| {name} | {scifact[mode]['ndcg@10']:.3f} |")
    rows.append(f"| **hybrid (default)** | **{scifact['hybrid']['ndcg@10']:.3f}** |")
    ndcg = {mode: {"ndcg@10": row["ndcg@10"]} for mode, row in scifact.items()}
    met = _above(ndcg, "ndcg@10", SCIFACT_GOAL)
    goal = f"Goal: hybrid {_goal(met, f'>= {SCIFACT_GOAL:.2f} and above both single modes')}.\n"
    return stamp(quality) + _quick(quality) + "\n".join(rows) + "\n\n" + goal


def abstention_table(records: Records) -> str:
    """``make bench-quality``: answering and abstaining, with the reader."""
    quality = _named(records, QUALITY)
    a = quality["figures"]["abstention"]
    near = a["near_miss"]
    both = a["answerable_answered"] >= 0.9 and a["unanswerable_abstained"] >= 0.9
    rows = [
        "| measure | reader | reader off | goal |",
        "| --- | --- | --- | --- |",
        f"| even SQuAD articles indexed: tuning-split questions answered / reporting-split "
        f"questions (articles not indexed) abstained | {a['answerable_answered']:.1%} / "
        f"{a['unanswerable_abstained']:.1%} | | {_goal(both, '>= 90% / >= 90%')} |",
        f"| near misses of {near['questions']} reporting-split questions abstained / the "
        f"originals answered | {near['reader on']['abstained']:.1%} / "
        f"{near['reader on']['answered']:.1%} | {near['reader off']['abstained']:.1%} / "
        f"{near['reader off']['answered']:.1%} | "
        + _goal(
            near["reader on"]["abstained"] >= 0.6 and near["reader on"]["answered"] >= 0.9,
            ">= 60% / >= 90%",
        )
        + " |",
    ]
    return stamp(quality) + _quick(quality) + "\n".join(rows) + "\n"


def languages_table(records: Records) -> str:
    """bench-languages' table, one block per model (languages_figures.py)."""
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import languages_figures

    table: str = languages_figures.render_languages(records)
    return table


TABLES: dict[str, Callable[[Records], str]] = {
    "speed": speed_table,
    "reader": reader_table,
    "memory": memory_table,
    "scale": scale_table,
    "segments": segments_table,
    "ray": ray_table,
    "projection": projection_table,
    "quality": quality_table,
    "scifact": scifact_table,
    "abstention": abstention_table,
    "languages": languages_table,
}


if __name__ == "__main__":
    sys.exit(main())
