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
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"(<!-- figures: (\S+) -->\n)(.*?)(<!-- /figures -->)", re.DOTALL)

Records = Callable[[str], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report tables that differ")
    args = parser.parse_args(argv)
    stale = []
    for page in sorted(DOCS.glob("*.md")):
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


TABLES: dict[str, Callable[[Records], str]] = {
    "speed": speed_table,
    "reader": reader_table,
    "memory": memory_table,
}


if __name__ == "__main__":
    sys.exit(main())
