"""Fuzzing ``excerpta mcp`` through the MCP SDK's own client over stdio, as a client
would: ask, search and status (and tools that don't exist) with arguments of every kind
(wrong types, huge strings, k of any size, any globs in ``in``, JSON text nested deep,
missing and unknown fields).

The property: a tool result or a tool error (docs/mcp.md), and
after each call the server still answers a plain question. The server runs in a
subprocess (``tests/fake_model_cli.py``: the fake embedder) with a tiny reader read by
the real code, so a hang is cut by the guard and the server started anew.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import given
from hypothesis import strategies as st
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from assistant.config import MAX_K, MODES
from tests.fuzzing import (
    ANSWER_KEYS,
    BACKTRACKING,
    DEPTHS,
    HANG_GUARD_S,
    JSON_VALUES,
    LETTERS,
    MAX_GLOB,
    NOT_WHOLE,
    PROFILES,
    QUESTION,
    ROOT,
    SEARCH_KEYS,
    XYLOPHONE,
    Hung,
    Library,
    build_library,
    fuzz,
    globs,
    shown,
    texts,
)

pytestmark = pytest.mark.usefixtures("isolated")

HOOK = ROOT / "tests" / "fake_model_cli.py"


@asynccontextmanager
async def _session(library: Library) -> AsyncIterator[ClientSession]:
    environment = {
        "EXCERPTA_READER_DIR": str(library.reader),  # the tiny reader, read by the real code
        "EXCERPTA_CACHE_DIR": str(library.root / "cache"),
        "XDG_CONFIG_HOME": str(library.root / "config"),
        "XDG_DATA_HOME": str(library.root / "data"),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(HOOK), "mcp", *library.where],
        env=environment,
        cwd=str(library.root),
    )
    with open(library.root / "mcp.log", "a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


class Served:
    """``excerpta mcp`` and a client session to it, on the event loop of ``portal`` (a
    thread of its own, so that hypothesis's plain functions can call it)."""

    def __init__(self, library: Library, portal: BlockingPortal) -> None:
        self._library = library
        self._portal = portal
        self._running = ExitStack()
        self.restart()

    def restart(self) -> None:
        """Stop the server, if one runs, and start another (after a hang, a crash)."""
        with suppress(Exception):  # one that hung or died leaves broken pipes to close
            self._running.close()
        self._running = ExitStack()
        self._session = self._running.enter_context(
            self._portal.wrap_async_context_manager(_session(self._library))
        )

    def call(self, tool: str, arguments: dict[str, Any] | None) -> CallToolResult:
        """One tool call; TimeoutError past the hang guard."""

        async def guarded() -> CallToolResult:
            with anyio.fail_after(HANG_GUARD_S):
                return await self._session.call_tool(tool, arguments)

        return self._portal.call(guarded)

    def close(self) -> None:
        self._running.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    library = build_library(tmp_path_factory.mktemp("fuzz-mcp"))
    with start_blocking_portal() as portal:
        server = Served(library, portal)
        try:
            yield server
        finally:
            server.close()


@dataclass(frozen=True)
class ToolCall:
    tool: str
    arguments: dict[str, Any] | None
    expect: str  # "result", "error" or "either"

    def __str__(self) -> str:
        return f"{self.tool}({shown(self.arguments)}) -> {self.expect}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


_SHORT_GLOBS = globs().filter(lambda g: 0 < len(g) <= MAX_GLOB)
_PLAIN_GLOBS = _SHORT_GLOBS.filter(lambda g: "[" not in g and g.strip()[:1] not in "0123456789")
# JSON text nested deep, closed or not: read leniently, it must not overflow the stack.
_DEEP_TEXT = st.builds(
    lambda depth, closed: "[" * depth + "]" * depth * closed, DEPTHS, st.booleans()
)
# Each optional argument: values to take, values to refuse, and values either way.
ARGUMENTS = {
    "k": (
        st.integers(1, MAX_K),
        st.integers(max_value=0) | st.integers(min_value=MAX_K + 1) | st.booleans()
        | NOT_WHOLE | st.lists(st.integers(), max_size=2) | LETTERS | _DEEP_TEXT,
        JSON_VALUES | st.integers(1, MAX_K).map(lambda k: f" {k}"),  # JSON text of a number
    ),
    "mode": (
        st.sampled_from(MODES),
        st.text(max_size=10).filter(lambda m: m not in MODES) | st.integers() | st.lists(st.none()),
        JSON_VALUES,
    ),
    "in": (  # a list of globs, or one glob alone, or JSON text of a list (docs/mcp.md)
        st.lists(_PLAIN_GLOBS, max_size=3) | _PLAIN_GLOBS,
        st.lists(st.integers(), min_size=1) | st.just(["x" * (MAX_GLOB + 1)]) | st.just([""]),
        JSON_VALUES | _SHORT_GLOBS | st.lists(_SHORT_GLOBS, max_size=3) | _DEEP_TEXT,
    ),
}  # fmt: skip
FAULTS = ["none", "text", "unknown", "all", *ARGUMENTS]


@st.composite
def tool_calls(draw: st.DrawFn) -> ToolCall:
    """ask, search or status (or no such tool) with good arguments and at most one
    fault, or ("all") anything in every argument."""
    tool = draw(st.sampled_from(["ask", "search", "status"]) | st.text(max_size=8))
    if tool == "status":
        extra = draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2))
        return ToolCall(tool, extra or None, "either" if extra else "result")
    field = "question" if tool == "ask" else "query"
    text = draw(texts())
    arguments: dict[str, Any] = {field: text}
    verdicts: list[bool | None] = [bool(text.strip())]  # True fine, False refused, None either
    for name, (good, _, _) in ARGUMENTS.items():
        if (value := draw(st.none() | good)) is not None:
            arguments[name] = value
    fault = draw(st.sampled_from(FAULTS))
    if fault == "text":
        del arguments[field]
        if (value := draw(st.none() | JSON_VALUES)) is not None:
            arguments[field] = value
        verdicts = [isinstance(value, str) and bool(value.strip())]
    elif fault == "unknown":
        name = draw(st.text(max_size=8).filter(lambda n: n not in (field, *ARGUMENTS)))
        arguments[name] = draw(JSON_VALUES)
        verdicts.append(False)
    elif fault in ARGUMENTS:
        _, bad, either = ARGUMENTS[fault]
        refused = draw(st.booleans())
        arguments[fault] = draw(bad if refused else either)
        verdicts.append(False if refused else None)
    elif fault == "all":
        arguments = draw(st.dictionaries(st.sampled_from([field, *ARGUMENTS]), JSON_VALUES))
        verdicts = [None]
    if tool not in ("ask", "search") or False in verdicts:
        expect = "error"
    else:
        expect = "either" if None in verdicts else "result"
    return ToolCall(tool, arguments, expect)


def _text(result: CallToolResult) -> str:
    block = result.content[0] if result.content else None
    return block.text if isinstance(block, TextContent) else ""


def check_tool_call(served: Served, call: ToolCall) -> None:
    """A tool result or a tool error, as expected; then the server still answers."""
    try:
        result = served.call(call.tool, call.arguments)
    except TimeoutError:
        served.restart()
        raise Hung(f"no reply within {HANG_GUARD_S:.0f} s: {call}") from None
    except Exception as exc:
        served.restart()
        raise AssertionError(f"{call}: no tool result but {exc!r}") from exc
    text = _text(result)
    assert text and "Traceback" not in text, f"{call}: {shown(text, 400)}"
    if result.is_error:
        assert call.expect != "result", f"{call}: error {text!r}"
    else:
        assert call.expect != "error", f"{call}: answered {shown(text)}"
        keys = {"ask": ANSWER_KEYS, "search": SEARCH_KEYS}.get(call.tool, {"collections"})
        data = result.structured_content
        assert data is not None and set(data) >= keys, f"{call}: {shown(data)}"
    try:
        after = served.call("ask", {"question": QUESTION})
    except Exception as exc:
        served.restart()
        raise AssertionError(f"the server stopped serving after {call}: {exc!r}") from exc
    assert not after.is_error and after.structured_content, f"after {call}: {_text(after)}"
    assert not after.structured_content["abstained"], f"after {call}: abstained"


@pytest.mark.parametrize("scale", PROFILES)
def test_mcp_tools_take_any_arguments(served: Served, scale: int) -> None:
    @fuzz(scale, 200)
    @given(call=tool_calls())
    def property_(call: ToolCall) -> None:
        check_tool_call(served, call)

    property_()


@BACKTRACKING
def test_a_backtracking_glob_still_answers_over_mcp(
    served: Served, glob: str, cited: str | None
) -> None:
    check_tool_call(served, ToolCall("ask", {"question": XYLOPHONE, "in": [glob]}, "result"))
    asked = served.call("ask", {"question": XYLOPHONE, "in": [glob]}).structured_content
    assert asked is not None
    assert [c["path"] for c in asked["citations"]][:1] == ([cited] if cited else [])


@pytest.mark.parametrize(
    "call",
    [
        ToolCall("ask", {"question": QUESTION, "k": "[" * 5_000}, "error"),
        ToolCall("search", {"query": QUESTION, "in": "[" * 5_000 + "]" * 5_000}, "error"),
        ToolCall("ask", {"question": QUESTION, "in": ["x" * 1_001]}, "error"),
        ToolCall("ask", {"question": "tomatoes " * 400}, "result"),
    ],
    ids=["k-deep-json-text", "in-deep-json-text", "glob-1001", "400-pieces"],
)
def test_mcp_edges(served: Served, call: ToolCall) -> None:
    check_tool_call(served, call)
