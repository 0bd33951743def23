"""The per-language table of ``make bench-languages`` (benchmarks/multilingual.py), for
docs_figures.py's ``TABLES``: one block per model that has a record
(``languages.json`` for the default model, ``languages-<model>.json`` for another).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Records = Callable[[str], dict[str, Any]]

# The records shown, in order: the default model's and the multilingual one's (the names
# multilingual.record_name gives a whole run of each).
NAMES = ("languages", "languages-multilingual-e5-small")


def render_languages(records: Records) -> str:
    """The Markdown table of each model's record: one row per language."""
    # Imported here: docs_figures imports this module to register the table.
    from docs_figures import stamp

    found = []
    for name in NAMES:
        try:
            found.append({**records(name), "_name": name})
        except (OSError, KeyError):
            continue  # no run of this model yet
    if not found:
        return "No records yet: run `make bench-languages`.\n"
    return stamp(*found) + "\n".join(_block(run) for run in found)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _block(run: dict[str, Any]) -> str:
    figures = run["figures"]
    model = figures["model"]
    options = run["options"]
    quick = " (`--quick`)" if figures["quick"] else ""
    rows = [
        f"Model `{model}`{quick}: {options['paragraphs']} paragraphs a language, up to "
        f"{options['questions']} of their questions (seed {options['seed']}).",
        "",
        "| language | questions | right paragraph first | first sentence holds the answer "
        "| abstained | Spanish unanswerable abstained | index ms per chunk | question p50 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures["languages"].values():
        questions = f"{f['answerable']}"
        if f["unanswerable"]:
            questions += f" + {f['unanswerable']} unanswerable"
        rows.append(
            f"| {f['language']} | {questions} | {_share(f['right_paragraph_first'])} | "
            f"{_share(f['first_sentence_holds_answer'])} | {_percent(f['abstained'])} | "
            f"{_percent(f['unanswerable_abstained'])} | {f['index']['ms_per_chunk']:.1f} | "
            f"{f['question_ms']['p50_ms']:.0f} |"
        )
    across = figures.get("across")
    if across:
        rows += [
            "",
            "Across languages (`--across`): questions asked over another language's paragraphs.",
            "",
            "| asked | questions | right paragraph first | first sentence holds the answer "
            "| abstained | search's first hit |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, f in across.items():
            rows.append(
                f"| {name} | {f['questions']} | {_share(f.get('right_paragraph_first'))} | "
                f"{_share(f.get('first_sentence_holds_answer'))} | {_percent(f['abstained'])} | "
                f"{_share(f.get('retrieved_first'))} |"
            )
    return "\n".join(rows) + "\n"
