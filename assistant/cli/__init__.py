"""The `excerpta` command: a thin click face over `Assistant`.

This package is the only place that prints for the CLI: data to stdout, progress and
diagnostics to stderr. Expected errors become one line and a hint, with the exit codes of
`errors.ExitCode`; no traceback. Here: the group, the options every command shares and
the error handling; the commands live in ``asking`` (ask, batch, search, eval),
``building`` (index, status) and ``commands`` (collections, mcp).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..config import Settings
from ..core import Assistant
from ..errors import AssistantError, ExitCode
from .group import ExcerptaGroup, fail
from .selection import collection_option, one_settings, tui_choices

F = TypeVar("F", bound=Callable[..., Any])


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


# Commands in modules of their own, registered on ``main`` when imported.
from . import asking as _asking  # noqa: E402,F401
from . import building as _building  # noqa: E402,F401
from . import commands as _commands  # noqa: E402,F401
