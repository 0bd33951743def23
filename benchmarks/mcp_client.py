"""Drive `excerpta mcp` with the MCP SDK's own client, as an MCP client would.

    python benchmarks/mcp_client.py [--question Q ...] [-- server options]

Starts the server over stdio, lists its tools, asks each question (the sample corpus's
by default, and one it can't answer) and prints each answer's text, whether it abstained,
and the time from the server's start to the first answer, then to each later one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

QUESTIONS = [
    "What are the protesters demanding?",
    "When was Castillo removed from office?",
    "Who heads the U.S. Southern Command?",
    "What is the boiling point of liquid nitrogen?",
]


async def drive(questions: list[str], server_args: list[str]) -> None:
    command = shutil.which("excerpta") or str(Path(sys.executable).parent / "excerpta")
    # An MCP client passes the server only a few variables (HOME, PATH, ...): pass on
    # the ones that choose Excerpta's settings and config folders.
    env = {k: v for k, v in os.environ.items() if k.startswith(("EXCERPTA_", "XDG_"))}
    params = StdioServerParameters(command=command, args=["mcp", *server_args], env=env)
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        print(f"tools: {', '.join(t.name for t in tools.tools)}")
        for i, question in enumerate(questions):
            begun = time.perf_counter()
            result = await session.call_tool("ask", {"question": question})
            done = time.perf_counter()
            data = result.structured_content or {}
            label = "first answer, from server start" if i == 0 else "answer"
            since = done - (started if i == 0 else begun)
            print(f"\nQ: {question}\n{result.content[0].text}")  # type: ignore[union-attr]
            print(f"abstained: {data.get('abstained')}; {label}: {since:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", action="append", help="ask this (repeatable)")
    parser.add_argument("server_args", nargs="*", help="options for `excerpta mcp`")
    args = parser.parse_args()
    anyio.run(drive, args.question or QUESTIONS, args.server_args)


if __name__ == "__main__":
    main()
