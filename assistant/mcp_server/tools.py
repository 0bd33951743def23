"""The MCP tools' schemas, their arguments checked, and their results as text.

No SDK here: plain data, so the checks and renderings can be tested on their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import MAX_K, MODES
from ..errors import UsageError
from ..globs import check_globs
from ..records import NOT_FOUND, TRUNCATED, Answer, SearchResult

_COMMON: dict[str, Any] = {
    "k": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_K,
        "description": "How many passages to consider (default 5).",
    },
    "mode": {
        "type": "string",
        "enum": list(MODES),
        "description": "Retrieval: hybrid (default), dense or lexical.",
    },
    "in": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Only documents whose corpus-relative path matches one of these globs.",
    },
}
_CITATION = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "path": {"type": "string"},
        "start_line": {"type": "integer"},
        "end_line": {"type": "integer"},
        "page": {"type": ["integer", "null"]},
        "score": {"type": "number"},
        "excerpt": {"type": "string"},
        "collection": {"type": ["string", "null"]},
    },
    "required": ["n", "path", "start_line", "end_line"],
}
_HIT = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "start_line": {"type": "integer"},
        "end_line": {"type": "integer"},
        "score": {"type": "number"},
        "text": {"type": "string"},
        "collection": {"type": ["string", "null"]},
    },
    "required": ["path", "start_line", "end_line", "text"],
}


def _input(field: str, about: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {field: {"type": "string", "description": about}, **_COMMON},
        "required": [field],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


TOOLS = (
    ToolSpec(
        "ask",
        "Answer a question from the user's documents with the sentence(s) that answer it, "
        "each cited (file, lines, page). Says abstained: true, 'Not found in your "
        "documents.', when the documents hold no answer; nothing is made up.",
        _input("question", "The question, in plain words."),
        {
            "type": "object",
            "properties": {
                "question": {"type": "string"},
                "answer": {"type": "string"},
                "abstained": {"type": "boolean"},
                "citations": {"type": "array", "items": _CITATION},
                "answer_span": {"type": ["object", "null"]},
                "question_truncated": {"type": "boolean"},
                "elapsed_ms": {"type": "number"},
            },
            "required": ["question", "answer", "abstained", "citations"],
        },
    ),
    ToolSpec(
        "search",
        "The passages of the user's documents that best match a query, ranked, each with "
        "its file and lines; no answer is composed.",
        _input("query", "What to look for."),
        {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "hits": {"type": "array", "items": _HIT},
                "query_truncated": {"type": "boolean"},
            },
            "required": ["query", "hits"],
        },
    ),
    ToolSpec(
        "status",
        "What is indexed in each collection served (files, chunks, model) and whether the "
        "documents changed since the index was built.",
        {"type": "object", "properties": {}, "additionalProperties": False},
        {
            "type": "object",
            "properties": {"collections": {"type": "array", "items": {"type": "object"}}},
            "required": ["collections"],
        },
    ),
)


@dataclass(frozen=True)
class Query:
    """A checked ask or search call."""

    text: str
    k: int | None
    mode: str | None
    scope: tuple[str, ...]


def checked(tool: str, arguments: Mapping[str, Any]) -> Query:
    """The arguments of ``ask`` (``question``) or ``search`` (``query``), checked.

    Raises:
        UsageError: an argument is missing, unknown or of the wrong kind.
    """
    field = "question" if tool == "ask" else "query"
    unknown = sorted(set(arguments) - {field, *_COMMON})
    if unknown:
        raise UsageError(
            f"unknown argument {unknown[0]!r} for {tool}",
            hint=f"{tool} takes: {field}, k, mode, in",
        )
    text = arguments.get(field)
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{field} must be a non-empty string", hint=f'{{"{field}": "..."}}')
    k = _lenient(arguments.get("k"))
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K):
        raise UsageError(f"k must be a whole number from 1 to {MAX_K}", hint="for example 5")
    mode = arguments.get("mode")
    if mode is not None and mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
    scope = _lenient(arguments.get("in"))
    if isinstance(scope, str):
        scope = [scope]  # one glob
    if scope is not None and (
        not isinstance(scope, list) or not all(isinstance(g, str) and g for g in scope)
    ):
        raise UsageError("in must be a list of globs", hint='for example ["reports/*.pdf"]')
    return Query(text.strip(), k, mode, check_globs(scope or ()))


def _lenient(value: Any) -> Any:
    """Some clients send numbers and lists as JSON text ("5", '["a/*"]'): read them."""
    if isinstance(value, str) and value.strip()[:1] in ("[", *"0123456789"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # not JSON, or nested thousands deep
            return value
    return value


def answer_text(answer: Answer) -> str:
    """The answer and its numbered citations, as a client shows a tool's text."""
    note = [TRUNCATED, ""] if answer.question_truncated else []
    if answer.abstained:
        return "\n".join([*note, NOT_FOUND])
    lines = [*note, answer.text, ""]
    for c in answer.citations:
        lines.append(f"[{c.n}] {_where(c.collection, c.path, c.start_line, c.end_line, c.page)}")
    return "\n".join(lines)


def hits_text(result: SearchResult) -> str:
    """The ranked passages, each under its location."""
    if not result.hits:
        return "No matching passages."
    blocks = []
    for rank, hit in enumerate(result.hits, 1):
        c = hit.chunk
        where = _where(hit.collection, c.path, c.start_line, c.end_line, c.page)
        blocks.append(f"{rank}. {where}\n{c.text}")
    return "\n\n".join(blocks)


def _where(collection: str | None, path: str, start: int, end: int, page: int | None) -> str:
    lines = f"line {start}" if start == end else f"lines {start}-{end}"
    if page is not None:
        lines = f"page {page}, {lines}"
    prefix = f"{collection}: " if collection else ""
    return f"{prefix}{path}, {lines}"
