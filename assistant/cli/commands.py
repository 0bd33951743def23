"""`excerpta collections` and `excerpta mcp`: commands kept out of the package's top
module, registered on ``main`` when the package imports this one."""

from __future__ import annotations

import json
from typing import Any

import click

from ..collections import collection_settings, read_user_config
from ..core import Assistant
from ..errors import AssistantError
from ..federation import Federation
from . import _handled, _location_options, main
from .selection import answerer
from .text import safe_path


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@_handled
def collections(ctx: click.Context, as_json: bool) -> None:
    """List the named collections of your config, with what each has indexed."""
    from . import make_assistant  # looked up now: tests replace it

    user = read_user_config()
    config_file = ctx.find_root().params.get("config_file")  # the group's --config
    rows = []
    for name in user.names:
        settings = collection_settings(name, config_file=config_file, user=user)
        row: dict[str, Any] = {
            "name": name,
            "corpus": str(settings.corpus),
            "index": str(settings.index),
        }
        try:
            state = make_assistant(settings).status()
            row.update(
                index_ready=state.index_ready,
                files=state.files,
                chunks=state.chunks,
                stale=state.stale,
                problem=state.problem,
            )
        except AssistantError as exc:  # e.g. a corpus folder that is gone
            row.update(index_ready=False, files=0, chunks=0, stale=True, problem=exc.message)
        rows.append(row)
    if as_json:
        click.echo(json.dumps({"config": str(user.path), "collections": rows}))
        return
    if not rows:
        click.echo(f"no collections ({user.known()})")
    for row in rows:
        if row["problem"] and not row["index_ready"]:
            state_text = f"not usable: {safe_path(row['problem'])}"
        else:
            fresh = "changed since indexed" if row["stale"] else "up to date"
            state_text = f"{row['files']} files, {row['chunks']} chunks, {fresh}"
        click.echo(f"{row['name']}: {safe_path(row['corpus'])} ({state_text})")


@main.command()
@_location_options
@click.pass_context
@_handled
def mcp(ctx: click.Context, /, **flags: Any) -> None:
    """Serve ask, search and status to an MCP client over stdio (logs on stderr).

    With several --collection options, answers merge them.
    """
    from ..mcp_server import serve  # deferred: only this command needs the MCP SDK

    served = answerer(ctx, **flags)
    serve(served if isinstance(served, Federation) else _alone(served))


def _alone(assistant: Assistant) -> Federation:
    return Federation([(None, assistant)])
