"""The MCP server: the tools of ``calls.py`` over stdio, on the SDK's low-level Server.

The low-level Server because a tool parameter is named ``in`` (a Python keyword, which
the decorator-based MCPServer can't take as an argument name); the schemas are written
out in ``tools.py``. Blocking calls run in a worker thread. Only protocol messages go
to stdout.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)

from ..records import VERSION
from .calls import Reply, Tools
from .tools import TOOLS


def build_server(tools: Tools) -> Server[Any]:
    """The low-level MCP server over ``tools``."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(
            tools=[
                Tool(
                    name=spec.name,
                    description=spec.description,
                    input_schema=spec.input_schema,
                    output_schema=spec.output_schema,
                )
                for spec in TOOLS
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        reply = await anyio.to_thread.run_sync(tools.call, params.name, params.arguments or {})
        return _result(reply)

    return Server(
        "excerpta",
        version=VERSION,
        instructions="Answers from the user's own documents, with citations; it says "
        "'Not found in your documents.' rather than guess.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _result(reply: Reply) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=reply.text)],
        structured_content=reply.data,
        is_error=reply.is_error,
    )


def run_stdio(tools: Tools) -> None:
    """Serve ``tools`` over stdin/stdout until the client closes the connection."""
    server = build_server(tools)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)
