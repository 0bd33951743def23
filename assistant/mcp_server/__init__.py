"""The MCP face of Excerpta: ``excerpta mcp`` serves ask, search and status over stdio.

A thin face over ``Federation`` (one corpus, or named collections), like the CLI and the
TUI; only this package imports the MCP SDK. An abstention is a normal result; bad
arguments and expected errors are tool errors with their hint. Logs go to stderr.
"""

from __future__ import annotations

import logging
import sys

from ..federation import Federation
from .calls import Reply, Tools

__all__ = ["Reply", "Tools", "serve"]


def serve(served: Federation) -> None:
    """Serve ``served`` over stdio. The model starts loading first, while the SDK is
    imported, so the first answer comes soon after the server starts."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("excerpta.mcp")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    tools = Tools(served)
    tools.start_warm_up()
    from .server import run_stdio  # the SDK takes ~1 s to import: after the model starts

    run_stdio(tools)
