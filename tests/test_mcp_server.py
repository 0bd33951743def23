"""`excerpta mcp` driven by the MCP SDK's own client over stdio, as an MCP client would.

The server runs in a subprocess through ``tests/fake_model_cli.py`` (FakeEmbedder), so
these tests need neither torch nor the model; one ``model`` test uses the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from assistant.errors import UsageError
from assistant.mcp_server.tools import checked
from tests.test_cli import ANSWER_KEYS

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "tests" / "fake_model_cli.py"
TIMEOUT = 120  # seconds; a hang guard, never a speed goal

pytestmark = pytest.mark.usefixtures("isolated")


def _environment() -> dict[str, str]:
    """What the server needs from this test's environment (the SDK passes little on)."""
    return {k: v for k, v in os.environ.items() if k.startswith(("EXCERPTA_", "XDG_"))}


def _index(corpus: Path, index: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(HOOK), "index", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


@asynccontextmanager
async def _session(
    args: list[str], command: list[str] | None = None
) -> AsyncIterator[ClientSession]:
    command = command or [sys.executable, str(HOOK)]
    params = StdioServerParameters(
        command=command[0], args=[*command[1:], "mcp", *args], env=_environment(), cwd=ROOT
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def _run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    async def guarded() -> None:
        with anyio.fail_after(TIMEOUT):
            await test()

    anyio.run(guarded)


def _text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.fixture
def where(corpus: Path, tmp_path: Path) -> list[str]:
    index = tmp_path / "index"
    _index(corpus, index)
    return ["--corpus", str(corpus), "--index", str(index)]


def test_tools_answers_abstentions_and_search(where: list[str]) -> None:
    async def test() -> None:
        async with _session(where) as session:
            listed = await session.list_tools()
            tools = {tool.name: tool for tool in listed.tools}
            assert set(tools) == {"ask", "search", "status"}
            assert set(tools["ask"].input_schema["properties"]) == {"question", "k", "mode", "in"}
            assert tools["ask"].input_schema["required"] == ["question"]
            assert tools["search"].input_schema["required"] == ["query"]

            asked = await session.call_tool("ask", {"question": "When were the tomatoes planted?"})
            assert not asked.is_error
            data = asked.structured_content
            assert data is not None and set(data) == ANSWER_KEYS
            assert data["abstained"] is False
            assert data["answer"] == "The tomatoes were planted in May. [1]"
            first = data["citations"][0]
            assert (first["path"], first["start_line"], first["collection"]) == (
                "notes/garden.md",
                3,
                None,
            )
            assert _text(asked).startswith("The tomatoes were planted in May. [1]\n\n[1] ")
            assert "notes/garden.md, line 3" in _text(asked)

            nothing = await session.call_tool("ask", {"question": "quantum chromodynamics lattice"})
            assert not nothing.is_error  # an abstention is an answer, not a failure
            assert nothing.structured_content is not None
            assert nothing.structured_content["abstained"] is True
            assert nothing.structured_content["citations"] == []
            assert _text(nothing) == "Not found in your documents."

            found = await session.call_tool("search", {"query": "sourdough starter", "k": 2})
            assert not found.is_error and found.structured_content is not None
            hits = found.structured_content["hits"]
            assert len(hits) == 2 and hits[0]["path"] == "recipes.txt"
            assert _text(found).startswith("1. recipes.txt, line")

            scoped = await session.call_tool("search", {"query": "sourdough", "in": "notes/*"})
            assert scoped.structured_content is not None
            assert {h["path"] for h in scoped.structured_content["hits"]} <= {"notes/garden.md"}
            unscoped = await session.call_tool("search", {"query": "sourdough starter", "k": 2})
            assert unscoped.structured_content is not None  # the scope was one call's
            assert unscoped.structured_content["hits"][0]["path"] == "recipes.txt"

            state = await session.call_tool("status", {})
            assert state.structured_content is not None
            (entry,) = state.structured_content["collections"]
            assert entry["index_ready"] is True and entry["files"] == 3

    _run(test)


def test_a_question_after_an_update_reads_the_new_commit(corpus: Path, where: list[str]) -> None:
    async def test() -> None:
        async with _session(where) as session:
            question = {"question": "When does the night ferry to Isla Verde leave?"}
            before = await session.call_tool("ask", question)
            assert before.structured_content is not None
            assert before.structured_content["abstained"] is True
            (corpus / "ferry.md").write_text("The night ferry to Isla Verde leaves at 23:40.\n")
            _index(corpus, Path(where[-1]))  # another process commits, as a watcher would
            after = await session.call_tool("ask", question)
            assert after.structured_content is not None
            assert after.structured_content["citations"][0]["path"] == "ferry.md"

    _run(test)


def test_bad_arguments_are_tool_errors(where: list[str]) -> None:
    async def test() -> None:
        async with _session(where) as session:
            for arguments, message in (
                ({}, "question must be a non-empty string"),
                ({"question": "   "}, "question must be a non-empty string"),
                ({"question": "tomatoes", "k": 0}, "k must be a whole number from 1 to 50"),
                ({"question": "tomatoes", "mode": "fuzzy"}, "unknown mode 'fuzzy'"),
                ({"question": "tomatoes", "colour": "red"}, "unknown argument 'colour'"),
                ({"question": "tomatoes", "in": [3]}, "in must be a list of globs"),
                ({"question": "tomatoes", "k": "5x"}, "k must be a whole number"),
                ({"question": "tomatoes", "in": "*" * 1001}, "a glob of 1,001 characters"),
                ({"question": "tomatoes", "in": ["[z-a]"]}, "bad glob '[z-a]'"),
            ):
                result = await session.call_tool("ask", arguments)
                assert result.is_error, arguments
                assert _text(result).startswith(message), _text(result)
            # The server is still there after them.
            ok = await session.call_tool("ask", {"question": "When were the tomatoes planted?"})
            assert not ok.is_error

    _run(test)


def test_a_pasted_page_and_a_pathological_glob_are_answered(where: list[str]) -> None:
    """A page of text as the question is answered from its first part and says so; a
    12-``**`` glob answers at once, and the server keeps serving after both."""
    page = " ".join(["When were the tomatoes planted?"] * 80)  # 400 words

    async def test() -> None:
        async with _session(where) as session:
            asked = await session.call_tool("ask", {"question": page})
            assert not asked.is_error and asked.structured_content is not None
            assert asked.structured_content["question_truncated"] is True
            assert asked.structured_content["question"] == page
            assert _text(asked).startswith("The question was long")
            deep = await session.call_tool(
                "search", {"query": "tomatoes", "in": "**/" * 12 + "x*.txt"}
            )
            assert not deep.is_error and deep.structured_content is not None
            assert deep.structured_content["hits"] == []
            ok = await session.call_tool("ask", {"question": "When were the tomatoes planted?"})
            assert ok.structured_content is not None
            assert ok.structured_content["question_truncated"] is False

    _run(test)


def test_missing_index_is_a_tool_error_with_its_hint(corpus: Path, tmp_path: Path) -> None:
    async def test() -> None:
        args = ["--corpus", str(corpus), "--index", str(tmp_path / "none")]
        async with _session(args) as session:
            result = await session.call_tool("ask", {"question": "tomatoes?"})
            assert result.is_error
            assert "no index" in _text(result) and "excerpta index" in _text(result)

    _run(test)


def test_stdout_carries_only_protocol_messages(where: list[str]) -> None:
    """Every line the server writes to stdout is a JSON-RPC message."""
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "ask", "arguments": {"question": "When were the tomatoes planted?"}}},
    ]  # fmt: skip
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    process = subprocess.Popen(
        [sys.executable, str(HOOK), "mcp", *where],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.flush()
    lines = [process.stdout.readline() for _ in range(2)]  # the two responses
    process.stdin.close()
    process.wait(timeout=TIMEOUT)
    rest = process.stdout.read()
    messages = [json.loads(line) for line in [*lines, *rest.splitlines()] if line.strip()]
    assert [m.get("id") for m in messages] == [1, 2]
    assert messages[1]["result"]["structuredContent"]["abstained"] is False
    assert "ready" in process.stderr.read()


def test_checked_arguments() -> None:
    query = checked("search", {"query": " basil ", "k": 3, "mode": "lexical", "in": ["a/*"]})
    assert (query.text, query.k, query.mode, query.scope) == ("basil", 3, "lexical", ("a/*",))
    with pytest.raises(UsageError, match="k must be"):
        checked("ask", {"question": "q", "k": True})  # a boolean is not a number
    # JSON text for a number or a list, as some clients send them; one glob alone.
    assert checked("ask", {"question": "q", "k": "3", "in": '["a/*"]'}).k == 3
    assert checked("ask", {"question": "q", "in": '["a/*"]'}).scope == ("a/*",)
    assert checked("ask", {"question": "q", "in": "notes/*"}).scope == ("notes/*",)
    with pytest.raises(UsageError, match="query must be"):
        checked("search", {"k": 2})


@pytest.mark.model
def test_real_model_answers_the_sample_article(tmp_path: Path) -> None:
    """The real server on the sample corpus: a cited answer, an abstention, and the time
    from the server's start to the first answer (printed: a figure, not a goal)."""
    excerpta = Path(sys.executable).parent / "excerpta"
    index = tmp_path / "index"
    built = subprocess.run(
        [str(excerpta), "index", "--corpus", str(ROOT / "corpus"), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    args = ["--corpus", str(ROOT / "corpus"), "--index", str(index)]

    async def test() -> None:
        started = time.perf_counter()
        async with _session(args, command=[str(excerpta)]) as session:
            asked = await session.call_tool(
                "ask", {"question": "Who heads the U.S. Southern Command?"}
            )
            print(f"first answer {time.perf_counter() - started:.2f} s after the server started")
            assert asked.structured_content is not None
            assert "Laura Richardson" in asked.structured_content["answer"]
            assert asked.structured_content["citations"][0]["start_line"] == 44
            nothing = await session.call_tool(
                "ask", {"question": "What is the boiling point of liquid nitrogen?"}
            )
            assert nothing.structured_content is not None
            assert nothing.structured_content["abstained"] is True

    _run(test)


def test_collections_served_together(corpus: Path, tmp_path: Path) -> None:
    """``mcp -C alpha -C beta``: answers cite both, named; status lists both."""
    beta = tmp_path / "beta"
    beta.mkdir()
    (beta / "ship.md").write_text("The tomatoes were planted on the zeppelin in June.\n")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "excerpta" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[collections.alpha]\ncorpus = "{corpus}"\n[collections.beta]\ncorpus = "{beta}"\n'
    )
    data = Path(os.environ["XDG_DATA_HOME"]) / "excerpta"
    _index(corpus, data / "alpha")
    _index(beta, data / "beta")

    async def test() -> None:
        async with _session(["-C", "alpha", "-C", "beta"]) as session:
            asked = await session.call_tool("ask", {"question": "When were the tomatoes planted?"})
            assert asked.structured_content is not None
            named = {(c["collection"], c["path"]) for c in asked.structured_content["citations"]}
            assert {("alpha", "notes/garden.md"), ("beta", "ship.md")} <= named
            assert "beta: ship.md, line 1" in _text(asked)
            state = await session.call_tool("status", {})
            assert state.structured_content is not None
            entries = state.structured_content["collections"]
            assert [e["collection"] for e in entries] == ["alpha", "beta"]

    _run(test)
