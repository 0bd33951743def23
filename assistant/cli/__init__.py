"""The `excerpta` command: a thin click face over `Assistant`.

The only place that prints for the CLI: data to stdout, progress and diagnostics to
stderr. Expected errors become one line and a hint, with the exit codes of
`errors.ExitCode`; no traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from .. import __version__, shown_progress
from ..config import MAX_K, MODES, Settings
from ..core import Assistant
from ..errors import AssistantError, ExitCode
from ..records import TRUNCATED
from .group import ExcerptaGroup, fail
from .report import print_report, print_status
from .scope import scope_option, warn_unmatched
from .selection import answerer, collection_option, one_settings, tui_choices
from .text import answer_text, hits_text, metrics_table

F = TypeVar("F", bound=Callable[..., Any])
K_RANGE = click.IntRange(1, MAX_K)  # the same range as the TOML file's k and MCP's


def make_assistant(settings: Settings) -> Assistant:
    """The one factory the commands use; tests replace it to inject a fake embedder."""
    return Assistant(settings)


def _location_options(command: F) -> F:
    """--corpus, --index, --config and --collection, on the group and every subcommand."""
    options = [
        click.option(
            "--corpus",
            type=click.Path(path_type=Path),
            default=None,
            help="Documents folder [env EXCERPTA_CORPUS; default ./corpus].",
        ),
        click.option(
            "--index",
            "index_dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Index folder [env EXCERPTA_INDEX; default ./index].",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path),
            default=None,
            help="TOML settings file [env EXCERPTA_CONFIG; default ./excerpta.toml].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return collection_option(command)


def _reader_option(command: F) -> F:
    """--reader on|off: read the passages with the trained reader, or answer as before."""
    return click.option(
        "--reader",
        type=click.Choice(["on", "off"]),
        default=None,
        help="Find the answer phrase with the trained reader [default on, where installed].",
    )(command)


def _reader(flag: str | None) -> bool | None:
    return None if flag is None else flag == "on"


def _handled(command: F) -> F:
    """Run a command, turning expected errors and Ctrl-C into exit codes."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AssistantError as exc:
            fail(exc.message, exc.hint, int(exc.exit_code))
        except KeyboardInterrupt:
            fail("interrupted", "", int(ExitCode.INTERRUPTED))
        except BrokenPipeError:  # e.g. `excerpta batch … | head`
            sys.stderr.close()
            sys.exit(int(ExitCode.OK))
        except OSError as exc:  # the machine's: a name too long, a folder unreadable
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}", "check the path", int(ExitCode.FAILURE))

    return wrapper  # type: ignore[return-value]


def run() -> None:
    """The `excerpta` command: ``main``, then a quick exit.

    Python's shutdown would tear down onnxruntime, faiss, scipy and tiktoken's tables:
    ~0.1 s added to every command after its work is done and its files are closed (and
    a wait for a model still loading after the TUI quits). Output is flushed, then the
    process leaves with the command's exit code.
    """
    try:
        main(prog_name="excerpta")  # click's standalone mode ends in SystemExit
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    if isinstance(code, str):  # sys.exit("message") prints it and fails
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(code if isinstance(code, int) else 0)


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    return one_settings(ctx, **flags)[1]


@click.group(
    cls=ExcerptaGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@_location_options
@click.version_option(__version__, prog_name="excerpta")
@click.pass_context
@_handled
def main(
    ctx: click.Context,
    corpus: Path | None,
    index_dir: Path | None,
    config_file: Path | None,
    collections: tuple[str, ...],
) -> None:
    """Ask questions of your own documents, offline.

    With no command, opens the terminal UI on the corpus.
    """
    if ctx.invoked_subcommand is None:
        from ..tui import run_tui  # deferred: textual is only needed here

        sys.exit(run_tui(*tui_choices(ctx)))


@main.command()
@_location_options
@click.option("--full", is_flag=True, help="Re-embed every document.")
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@click.option("--compact", is_flag=True, help="Then merge the index into one segment.")
@click.option(
    "--watch", is_flag=True, help="Then keep the index up to date as files change (Ctrl-C stops)."
)
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    default=None,
    help="Embed on a Ray cluster: local, auto or ray://host:port [env EXCERPTA_RAY].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Ray workers (actors) that embed [default: one per CPU of the cluster].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@_handled
def index(
    ctx: click.Context,
    /,
    full: bool,
    dry_run: bool,
    compact: bool,
    watch: bool,
    ray_address: str | None,
    workers: int | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Build or update the index (only new and changed files are embedded)."""
    assistant = make_assistant(_settings(ctx, ray=ray_address, workers=workers, **flags))
    if watch:
        if full or dry_run or compact or as_json or ray_address or workers:
            raise click.UsageError(
                "--watch takes none of --full, --dry-run, --compact, --json, --ray, --workers"
            )
        from .watching import watch as watch_corpus

        watch_corpus(assistant)
        return
    with _progress() as progress:
        report = assistant.update_index(
            full=full, dry_run=dry_run, compact=compact, progress=progress
        )
    if report.workers:
        click.echo(
            f"embedded {report.chunks_embedded} chunks at {report.chunks_per_second:.1f}"
            f" chunks/s on {report.workers} Ray workers",
            err=True,
        )
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        print_report(report)


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


@main.command()
@_location_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_handled
def status(ctx: click.Context, /, as_json: bool, **flags: Any) -> None:
    """Show what is indexed, with which model, and whether the corpus changed since."""
    state = make_assistant(_settings(ctx, **flags)).status()
    if as_json:
        click.echo(json.dumps(state.to_json()))
        return
    print_status(state)


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


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr while indexing (rich, which textual already brings)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    tasks: dict[str, TaskID] = {}

    started = time.perf_counter()

    def update(stage: str, done: int, total: int) -> None:
        if stage == "chunks":  # chunks embedded so far, by ``total`` Ray workers
            rate = done / max(time.perf_counter() - started, 1e-9)
            label = f"{done} chunks, {rate:.0f}/s, {total} workers"
            if "chunks" not in tasks:
                tasks["chunks"] = bar.add_task(label, total=None)
            bar.update(tasks["chunks"], description=label)
            return
        stage, done, total = shown_progress(stage, done, total)
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update


# Commands in modules of their own, registered on ``main`` when imported.
from . import commands as _commands  # noqa: E402,F401
