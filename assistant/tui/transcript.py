"""The conversation as a list of exchanges, and its Markdown export. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..records import NOT_FOUND, Answer
from .render import location


@dataclass(frozen=True)
class Exchange:
    """One question as the user typed it, and its answer or the error it met."""

    question: str
    answer: Answer | None = None
    error: str = ""


def to_markdown(exchanges: list[Exchange]) -> str:
    """The conversation as Markdown: each question, its answer and its sources."""
    out = ["# Excerpta conversation", ""]
    for exchange in exchanges:
        out += [f"## {exchange.question}", ""]
        answer = exchange.answer
        if answer is None:
            out += [f"*Error: {exchange.error}*", ""]
        elif answer.abstained:
            out += [NOT_FOUND, ""]
        else:
            out += [answer.text, ""]
            for c in answer.citations:
                out.append(f"{c.n}. `{location(c)}` (score {c.score:.2f})")
                out += ["   > " + line for line in c.excerpt.splitlines() or [""]]
            out.append("")
    return "\n".join(out)


def export(exchanges: list[Exchange], folder: Path, now: datetime | None = None) -> Path:
    """Write the conversation to a new Markdown file in ``folder`` and return its path."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    text = to_markdown(exchanges)
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        path = folder / f"excerpta-{stamp}{suffix}.md"
        try:
            # "x" never overwrites a file that is already there.
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"too many exports named excerpta-{stamp}*.md in {folder}")
