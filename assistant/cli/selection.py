"""Which corpus a command runs on: --corpus/--index/--config, or named collections.

``--collection NAME`` (``-C``, repeatable where a command can merge several) is read on
the group and on each command, like the other location options.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import click

from ..collections import collection_settings, read_user_config, resolve
from ..config import Settings
from ..core import Assistant
from ..errors import UsageError
from ..federation import Federation

F = TypeVar("F", bound=Callable[..., Any])


def collection_option(command: F) -> F:
    """--collection / -C NAME, repeatable."""
    return click.option(
        "--collection",
        "-C",
        "collections",
        multiple=True,
        metavar="NAME",
        help="A named collection of your config (repeat to ask several) [env EXCERPTA_COLLECTION].",
    )(command)


def all_settings(ctx: click.Context, **flags: Any) -> list[tuple[str | None, Settings]]:
    """Every collection named (on the group, the command or the environment) with its
    settings; ``[(None, settings)]`` when none is."""
    parent = ctx.find_root().params
    names = (*parent.get("collections", ()), *flags.pop("collections", ()))
    merged = {
        "corpus": flags.pop("corpus", None) or parent.get("corpus"),
        "index": flags.pop("index_dir", None) or parent.get("index_dir"),
        **flags,
    }
    config_file = merged.pop("config_file", None) or parent.get("config_file")
    return resolve(names, merged, config_file=config_file)


def one_settings(ctx: click.Context, **flags: Any) -> tuple[str | None, Settings]:
    """The one collection (or plain corpus) a command runs on.

    Raises:
        UsageError: several collections were named.
    """
    chosen = all_settings(ctx, **flags)
    if len(chosen) > 1:
        raise UsageError(
            f"{ctx.info_name} works on one collection at a time",
            hint="name one with --collection (ask, search and batch take several)",
        )
    return chosen[0]


def answerer(ctx: click.Context, **flags: Any) -> Assistant | Federation:
    """What answers for ask, search and batch: the plain corpus's assistant, or the
    named collections merged, sharing one model."""
    from . import make_assistant  # looked up now: tests replace it

    chosen = all_settings(ctx, **flags)
    if chosen[0][0] is None:
        return make_assistant(chosen[0][1])
    first = make_assistant(chosen[0][1])
    members: list[tuple[str | None, Assistant]] = [(chosen[0][0], first)]
    members += [(name, first.sharing_models(settings)) for name, settings in chosen[1:]]
    return Federation(members)


def tui_choices(
    ctx: click.Context,
) -> tuple[Settings, str | None, dict[str, Callable[[], Settings]]]:
    """What the terminal UI opens (its settings and collection name) and the settings of
    every collection its command palette can switch to."""
    name, settings = one_settings(ctx)
    user = read_user_config()
    config_file = ctx.find_root().params.get("config_file")
    choices: dict[str, Callable[[], Settings]] = {
        other: partial(collection_settings, other, config_file=config_file, user=user)
        for other in user.names
    }
    return settings, name, choices
