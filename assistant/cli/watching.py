"""`excerpta index --watch`: the CLI side of a ``Watcher`` (one stderr line per update).

SIGINT (Ctrl-C) ends it through KeyboardInterrupt, exit 130; SIGTERM sets the stop
event, which an update or merge checks between batches, exit 0. Either way an update or
merge in progress is abandoned and the index stays whole.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click

from ..core import Assistant
from ..errors import AssistantError
from ..records import IndexReport
from .text import safe_path


def update_line(report: IndexReport) -> str:
    """One line for one update: when, what changed, what it cost."""
    parts = [
        f"{len(report.added)} added",
        f"{len(report.changed)} changed",
        f"{len(report.removed)} removed",
    ]
    line = f"{time.strftime('%H:%M:%S')} indexed: {', '.join(parts)};"
    line += f" {report.chunks_embedded} chunks embedded, {report.chunks_total} in the index"
    if report.skipped:
        line += f"; {len(report.skipped)} skipped"
    if report.segments_merged:
        line += f"; {report.segments_merged} segments merged"
    return f"{line} ({report.seconds:.1f}s)"


def watch(assistant: Assistant) -> None:
    """Update the index, then keep it up to date until SIGINT or SIGTERM."""
    stop = threading.Event()

    def terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def updated(report: IndexReport) -> None:
        if report.added or report.changed or report.removed or report.rebuilt_because:
            if report.rebuilt_because:
                click.echo(f"rebuilt the whole index: {report.rebuilt_because}", err=True)
            click.echo(update_line(report), err=True)

    def failed(error: AssistantError) -> None:
        click.echo(f"excerpta: {safe_path(error.message)}", err=True)

    previous = signal.signal(signal.SIGTERM, terminate)
    # Started in the background by a non-interactive shell, SIGINT arrives ignored; a
    # watcher is meant to be stopped by it, so restore Python's KeyboardInterrupt.
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        watcher = assistant.watcher(on_update=updated, on_error=failed, stop=stop)
        corpus = safe_path(str(assistant.settings.corpus))
        click.echo(f"watching {corpus} for changes (Ctrl-C to stop)", err=True)
        watcher.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, interrupt)
