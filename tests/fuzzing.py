"""What the fuzz tests share: a small library (corpus, index, tiny reader) built once
per module, the hang guard, hypothesis's settings for the default and the slow run, and
strategies for what users type: Unicode with controls, escape codes and bidi marks,
questions up to 100,000 characters, globs, JSON and TOML values.
"""

from __future__ import annotations

import re
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import ExitCode
from assistant.globs import MAX_GLOB_CHARS
from tests.fakes import FakeEmbedder, write_onnx_reader
from tests.test_cli import ANSWER_KEYS as CLI_ANSWER_KEYS
from tests.test_cli import SEARCH_KEYS as CLI_SEARCH_KEYS

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD_S = 30.0  # per case; answers here take milliseconds
DOCUMENTED = frozenset(int(code) for code in ExitCode)
MAX_GLOB, LONGEST = MAX_GLOB_CHARS, 100_000
QUESTION = "When were the tomatoes planted?"
XYLOPHONE = "When do the xylophone lessons start?"
DEEP = "/".join(f"d{n:02}" for n in range(1, 31))  # a file 30 folders deep
ANSWER_KEYS = frozenset(CLI_ANSWER_KEYS)  # the documented JSON schema, one list of it
SEARCH_KEYS = frozenset(CLI_SEARCH_KEYS)


# --- the hang guard ---------------------------------------------------------------------


class Hung(BaseException):
    """A case ran past the guard. Not an Exception, so hypothesis stops at once rather than
    shrinking: each shrink of a hang would wait out the guard again."""


@contextmanager
def hang_guard(what: str) -> Iterator[None]:
    """Raise ``Hung`` in this (the main) thread after ``HANG_GUARD_S``; Python's regex
    engine and bytecode both check for signals, so a backtracking glob is interrupted."""

    def expired(signum: int, frame: object) -> None:
        raise Hung(f"no answer within {HANG_GUARD_S:.0f} s: {what}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, HANG_GUARD_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def shown(value: object, limit: int = 80) -> str:
    """``value`` for a failure message, long strings cut with their length."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}...({len(value)} chars)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v, limit) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{shown(k, limit)}: {shown(v, limit)}" for k, v in value.items()) + "}"
        )
    return repr(value)


# --- the library: a corpus, its index, a tiny reader -------------------------------------


@dataclass(frozen=True)
class Library:
    root: Path
    corpus: Path
    index: Path
    reader: Path

    @property
    def where(self) -> list[str]:
        return ["--corpus", str(self.corpus), "--index", str(self.index)]


def build_library(root: Path) -> Library:
    """Under ``root``: a corpus (a file 30 folders deep, a name with an escape code), its
    index made with the fake embedder, and a tiny reader that answers "May", "Tuesday"."""
    corpus = root / "corpus"
    files = {
        "notes/garden.md": "# Garden\n\nThe tomatoes were planted in May.\n\nBasil grows in sun.\n",
        "recipes.txt": "Sourdough bread needs a starter.\n\nBake the loaf at 230 degrees.\n",
        "notes/esc\x1b[31mred.md": "Red peppers ripen in August.\n",  # a name to escape
        f"{DEEP}/xylophone.txt": "The xylophone lessons start on Tuesday.\n",
        f"{DEEP}/lessons.txt": "Lessons cost ten dollars.\n",
    }
    for relpath, text in files.items():
        (corpus / relpath).parent.mkdir(parents=True, exist_ok=True)
        (corpus / relpath).write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "corpus" / "peru-coup-government-us-troops.txt", corpus)
    index = root / "index"
    Assistant(
        Settings(corpus=corpus, index=index), encoders=Encoders.single(FakeEmbedder())
    ).update_index()
    reader = write_onnx_reader(root / "reader", ["may", "tuesday"], ["may", "tuesday"], no_answer=1)
    return Library(root, corpus, index, reader)


# --- hypothesis: settings and strategies ---------------------------------------------

PROFILES = [pytest.param(1, id="default"), pytest.param(25, id="slow", marks=pytest.mark.slow)]


def fuzz(scale: int, examples: int) -> Callable[[Any], Any]:
    """``examples`` derandomized cases by default; ``scale`` times as many random ones."""
    return settings(
        max_examples=examples * scale,
        deadline=None,
        derandomize=scale == 1,
        database=None,
        print_blob=scale > 1,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


NASTY = ["\x1b[31m", "\x1b]0;title\x07", "\u200f", "\u202e", "\u2066", "\ufeff", "\x85",
         "\u2028", "\x7f", "\x9b", "\t", "\x0b", "   ", "\u3000", "e\u0301", "\U0001f345",
         "\x00", "\r\n", "{", '"']  # fmt: skip
WORDS = ["tomatoes", "planted", "May", "basil", "Castillo", "xylophone", "lessons", "the"]
_unicode = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_piece = st.one_of(st.sampled_from(WORDS), _unicode, st.sampled_from(NASTY))


@st.composite
def texts(draw: st.DrawFn, *, argv: bool = False, line: bool = False) -> str:
    """Random Unicode with controls, escape codes and bidi marks; now and then a word
    repeated up to ``LONGEST`` characters. ``argv``: no NUL (argv can't hold one);
    ``line``: no line ends."""
    text = "".join(draw(st.lists(_piece, max_size=8)))
    if draw(st.integers(0, 7)) == 7:
        word = draw(st.sampled_from(WORDS) | _unicode.filter(bool)) + " "
        text += word * draw(st.integers(1, LONGEST // len(word)))
        text = text[:LONGEST]
    if argv:
        text = text.replace("\x00", "")
    if line:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


GLOB_PARTS = ["*", "**", "/", "?", "[", "]", "!", "-", ".", "a", "x", "z", "notes", "md",
              "txt", "d01", "\\", " ", "\x1b[31m", "\u202e", "é", "[!", "z-a", "[]"]  # fmt: skip


@st.composite
def globs(draw: st.DrawFn) -> str:
    """Globs of '*', '**', '/', '?', '[', ']', '!' and letters, some near 1,000 characters."""
    parts = draw(st.lists(st.sampled_from(GLOB_PARTS) | _unicode, max_size=24))
    glob = "".join(parts).replace("\x00", "")
    if draw(st.integers(0, 5)) == 5:
        size = draw(st.integers(MAX_GLOB - 10, 1_200))
        glob = ((glob or "a") * size)[:size]
    return glob


DEPTHS = st.integers(1, 100_000) | st.sampled_from([2_000, 100_000])  # past the stack's limit
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
    max_size=4),
    max_leaves=8,
)  # fmt: skip


def toml_value(value: Any) -> str:
    """``value`` written as TOML: strings escaped as a basic string needs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


TOML_VALUES = st.recursive(
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
    max_size=3),
    max_leaves=8,
)  # fmt: skip
LETTERS = st.text("abcxyz ", min_size=1, max_size=8)
NOT_WHOLE = st.floats(0.1, 49.9).filter(lambda x: not x.is_integer())
NO_HOME = st.sampled_from(["~nosuchuser", "~0/x", "~no such user/corpus"])
BACKTRACKING = pytest.mark.parametrize(
    ("glob", "cited"),
    [("**/" * 12 + "x*.txt", f"{DEEP}/xylophone.txt"), ("*" * 40 + "z", None)],
    ids=["twelve-globstars-30-folders-deep", "forty-stars"],
)
