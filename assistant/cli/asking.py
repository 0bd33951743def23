"""`excerpta ask`, `batch`, `search` and `eval`: the commands that answer questions and
find passages, registered on ``main`` when the package imports this module."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import click

from ..config import MAX_K, MODES
from ..records import TRUNCATED
from . import _handled, _location_options, _reader, _reader_option, _settings, main
from .scope import scope_option, warn_unmatched
from .selection import answerer
from .text import answer_text, hits_text, metrics_table

K_RANGE = click.IntRange(1, MAX_K)  # the same range as the TOML file's k and MCP's


@main.command()
@_location_options
@click.argument("question")
@click.option("-k", type=K_RANGE, default=None, help="How many passages to consider [default 5].")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@_reader_option
@scope_option
@click.pass_context
@_handled
def ask(
    ctx: click.Context,
    /,
    question: str,
    k: int | None,
    mode: str | None,
    as_json: bool,
    reader: str | None,
    **flags: Any,
) -> None:
    """Answer QUESTION from the documents, with citations."""
    if not question.strip():
        raise click.UsageError("the question is empty")
    assistant = answerer(ctx, k=k, mode=mode, reader=_reader(reader), **flags)
    warn_unmatched(assistant)
    answer = assistant.ask(question)
    if answer.question_truncated:
        _note(TRUNCATED)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:  # click.echo drops the style when stdout is not a terminal
        click.echo(answer_text(answer, mark=_bold))


@main.command()
@_location_options
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("-k", type=K_RANGE, default=None, help="How many passages to consider [default 5].")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option(
    "--conversation",
    "as_conversation",
    is_flag=True,
    help="Ask the questions in order as one conversation: follow-ups borrow the topic.",
)
@_reader_option
@scope_option
@click.pass_context
@_handled
def batch(
    ctx: click.Context,
    /,
    source: TextIO,
    k: int | None,
    mode: str | None,
    as_conversation: bool,
    reader: str | None,
    **flags: Any,
) -> None:
    """Answer questions from SOURCE (a file, or - for stdin), one JSON line each.

    Each input line is a question, or a JSON object with a "question" field.
    """
    from ..evaluation import read_questions

    questions = read_questions(source)  # every line checked before any is answered
    assistant = answerer(ctx, k=k, mode=mode, reader=_reader(reader), **flags)
    warn_unmatched(assistant)
    answers = (
        assistant.conversation().ask_all(questions)
        if as_conversation
        else assistant.ask_all(questions)
    )
    for number, answer in enumerate(answers, 1):
        if answer.question_truncated:
            _note(f"question {number}: {TRUNCATED}")
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))


@main.command()
@_location_options
@click.argument("query")
@click.option("-k", type=K_RANGE, default=None, help="How many passages [default 5].")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (always, when QUERY is -).")
@scope_option
@click.pass_context
@_handled
def search(
    ctx: click.Context, /, query: str, k: int | None, mode: str | None, as_json: bool, **flags: Any
) -> None:
    """Show the passages that best match QUERY (- reads one query per line from stdin)."""
    assistant = answerer(ctx, k=k, mode=mode, **flags)
    warn_unmatched(assistant)
    if query == "-":
        queries = [line.strip() for line in sys.stdin if line.strip()]
        for number, result in enumerate(assistant.search_all(queries), 1):
            if result.query_truncated:
                _note(f"query {number}: {QUERY_TRUNCATED}")
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if not query.strip():
        raise click.UsageError("the query is empty")
    result = assistant.search(query)
    if result.query_truncated:
        _note(QUERY_TRUNCATED)
    click.echo(json.dumps(result.to_json(), ensure_ascii=False) if as_json else hits_text(result))


@main.command(name="eval")
@_location_options
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option(
    "--mode",
    "modes",
    type=click.Choice(MODES),
    multiple=True,
    help="Retrieval mode(s) to measure [default: all three, side by side].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@_reader_option
@scope_option
@click.pass_context
@_handled
def evaluate(
    ctx: click.Context,
    /,
    source: TextIO,
    modes: tuple[str, ...],
    as_json: bool,
    reader: str | None,
    **flags: Any,
) -> None:
    """Measure answers on SOURCE: JSON Lines of {"question", "answers", "source"}.

    Reports recall@1/5/10 and MRR@10 of the source file among the retrieved passages and
    answer-hit@1/@3 (a gold answer appears in the first / first three cited sentences).
    """
    from ..evaluation import read_cases, run_cases, summarize
    from . import make_assistant  # looked up now: tests replace it

    cases = read_cases(source)
    if not cases:
        raise click.UsageError("no questions in the input")
    assistant = make_assistant(_settings(ctx, reader=_reader(reader), **flags))
    warn_unmatched(assistant)
    assistant.warm_up()  # latency is per question, not the one-time model load
    table = {mode: summarize(run_cases(assistant, cases, mode=mode)) for mode in modes or MODES}
    if as_json:
        click.echo(json.dumps(table))
        return
    click.echo(metrics_table(table))


QUERY_TRUNCATED = "The query was long: passages were found for its first part."


def _note(message: str) -> None:
    """One line on stderr that qualifies the output without failing the command."""
    click.echo(f"excerpta: note: {message}", err=True)


def _bold(text: str) -> str:
    return click.style(text, bold=True, underline=True)
