"""The `excerpta` group: click's own usage errors shown as Excerpta shows every error.

A bad option, a value out of range or a missing argument is one line on stderr and a
hint (``excerpta: error: ...`` / ``  hint: see excerpta ask --help``), exit code 2,
rather than click's four-line usage block.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from .text import safe_path


class ExcerptaGroup(click.Group):
    """A click group whose standalone errors are one line and a hint."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        given: dict[str, Any] = {"prog_name": prog_name, "complete_var": complete_var, **extra}
        if not standalone_mode:
            return super().main(args, standalone_mode=False, **given)
        try:
            code = super().main(args, standalone_mode=False, **given)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "excerpta"
            fail(exc.format_message(), f"see {where} --help", exc.exit_code)
        except click.ClickException as exc:  # a file argument that can't be opened
            fail(exc.format_message(), "", exc.exit_code)
        except click.Abort:
            fail("aborted", "", 1)
        sys.exit(code if isinstance(code, int) else 0)


def fail(message: str, hint: str, code: int) -> None:
    """Print an error and its hint on stderr, one line each, and exit with ``code``."""
    click.echo(f"excerpta: error: {safe_path(message)}", err=True)
    if hint:
        click.echo(f"  hint: {safe_path(hint)}", err=True)
    sys.exit(code)
