"""`excerpta index` and `excerpta status`: building the index, with a progress bar on
stderr, and saying what it holds; registered on ``main`` when the package imports this
module."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .. import shown_progress
from . import _handled, _location_options, _settings, main
from .report import print_report, print_status


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
    from . import make_assistant  # looked up now: tests replace it

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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_handled
def status(ctx: click.Context, /, as_json: bool, **flags: Any) -> None:
    """Show what is indexed, with which model, and whether the corpus changed since."""
    from . import make_assistant  # looked up now: tests replace it

    state = make_assistant(_settings(ctx, **flags)).status()
    if as_json:
        click.echo(json.dumps(state.to_json()))
        return
    print_status(state)


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
