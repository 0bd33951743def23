"""``--in GLOB``: questions and searches limited to some files of the corpus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..core import Assistant
from ..errors import UsageError
from ..federation import Federation
from ..globs import check_globs
from .text import safe_path

F = TypeVar("F", bound=Callable[..., Any])


def _given(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> Any:
    try:
        check_globs(value)
    except UsageError as exc:  # raised while click parses: its own error, exit 2
        raise click.BadParameter(f"{exc.message} ({exc.hint})") from exc
    return value or None  # not given: the TOML file's scope, if any, holds


def scope_option(command: F) -> F:
    """--in GLOB (repeatable): search only the files matching a glob."""
    return click.option(
        "--in",
        "scope",
        multiple=True,
        metavar="GLOB",
        callback=_given,
        help="Search only files matching GLOB, relative to the corpus; ** spans folders"
        " (e.g. 'notes/**', '*.pdf'). Repeatable [TOML: scope].",
    )(command)


def warn_unmatched(answerer: Assistant | Federation) -> None:
    """One line on stderr for each glob of the scope that matches no indexed file (in no
    collection, when several are asked)."""
    members = [a for _, a in answerer.members] if isinstance(answerer, Federation) else [answerer]
    scope = answerer.settings.scope
    if not scope:
        return  # no scope: nothing to match, and no reason to open the index yet
    unmatched = set(scope)
    for assistant in members:
        selection = assistant.selection()
        unmatched &= set(selection.unmatched if selection is not None else ())
    for glob in (g for g in scope if g in unmatched):
        click.echo(f"excerpta: warning: --in {safe_path(glob)!r} matches no indexed file", err=True)
