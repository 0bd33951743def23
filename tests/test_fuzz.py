"""Fuzzing the CLI: hypothesis over what users send it (questions of any Unicode, ``-k``,
``--mode``, ``--in``, ``--corpus``/``--index``, ``batch`` and ``search -`` lines of text
and JSON, TOML settings, collection names), through ``CliRunner``.

The property: an answer, an abstention or a one-line error with a documented exit code
(docs/json-and-exit-codes.md, "Exit codes"), never a traceback, never a hang. Where
docs/promises.md says what an input must give (k outside 1-50, a glob over 1,000
characters, a blank question: usage errors, exit 2), the case says so too. Each case
runs under a hang guard, a generous one: a guard, not a speed test. The default run
takes few examples, derandomized (CI sees the same cases each time); ``-m slow`` runs 25
times as many, random ones.

The index is built once for the module with the fake embedder; answers are read by the
real ONNX reader code over a tiny model, so long questions reach the real tokenizer.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from assistant.cli import main
from assistant.config import AUTO_MODEL, DEFAULT_MODEL, MAX_K, MODES, Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.reader import open_reader
from tests.fakes import FakeEmbedder
from tests.fuzzing import (
    ANSWER_KEYS,
    BACKTRACKING,
    DEPTHS,
    DOCUMENTED,
    JSON_VALUES,
    LETTERS,
    MAX_GLOB,
    NO_HOME,
    NOT_WHOLE,
    PROFILES,
    QUESTION,
    SEARCH_KEYS,
    TOML_VALUES,
    XYLOPHONE,
    Hung,
    Library,
    build_library,
    fuzz,
    globs,
    hang_guard,
    shown,
    texts,
    toml_value,
)

pytestmark = pytest.mark.usefixtures("isolated")

# C0 and C1 controls but tab and newline: never raw on a terminal (docs/promises.md).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_DIAGNOSTICS = ("excerpta: warning: ", "excerpta: note: ")
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The library; every command's Assistant gets the fake embedder and the tiny reader."""
    library = build_library(tmp_path_factory.mktemp("fuzz-cli"))
    embedder = FakeEmbedder()
    reader = open_reader(library.reader)

    def make(settings: Settings) -> Assistant:
        embedder.queries.clear()  # questions of 100,000 characters add up
        return Assistant(settings, encoders=Encoders.single(embedder), reader=reader)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("assistant.cli.make_assistant", make)
        yield library


# --- what a run of the CLI must give ----------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A command line after the location flags, its stdin, the exit codes allowed, and,
    at exit 0, how many JSON lines stdout holds (None: plain text) with which keys."""

    args: tuple[str, ...]
    stdin: str | None = None
    allowed: frozenset[int] = frozenset({0})
    json_lines: int | None = None
    keys: frozenset[str] = ANSWER_KEYS
    questions: tuple[str, ...] | None = None  # what each JSON line's "question" holds

    def __str__(self) -> str:
        stdin = f" < {shown(self.stdin)}" if self.stdin is not None else ""
        return f"excerpta {shown(list(self.args))}{stdin}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"{self} (exit {sorted(self.allowed)})")  # hypothesis shows this


def invoke(args: list[str], what: object, stdin: str | None = None) -> Result:
    with hang_guard(str(what)):
        try:
            return CliRunner().invoke(main, args, input=stdin)
        except (Hung, KeyboardInterrupt):
            raise
        except BaseException as exc:  # pyo3's PanicException, say, is no Exception
            raise AssertionError(f"{what}: {_tail(exc)}") from exc


def run_case(location: list[str], case: Case) -> Result:
    result = invoke([*location, *case.args], case, case.stdin)
    check(result, case)
    return result


def check(result: Result, case: Case) -> None:
    """An answer, an abstention or a one-line error with a documented code; no trace."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{case}: {_tail(result.exception)}")
    code = result.exit_code
    assert code in DOCUMENTED, f"{case}: exit {code}\n{result.stderr}"
    assert "Traceback" not in result.output, f"{case}:\n{result.output[-2000:]}"
    _check_stderr(result.stderr, code, case)
    assert code in case.allowed, f"{case}: exit {code}, not {sorted(case.allowed)}\n{result.stderr}"
    if code != 0:
        assert result.stdout == "", f"{case}: exit {code} with data on stdout"
    elif case.json_lines is None:
        assert not _RAW_CONTROL.search(result.stdout), f"{case}: raw control in {result.stdout!r}"
    else:
        _check_json_lines(result.stdout, case)


def _check_stderr(stderr: str, code: int, case: Case) -> None:
    """Diagnostics (``excerpta: warning: ...``, ``excerpta: note: ...``) and, at an
    error, ``excerpta: error: ...`` and perhaps ``  hint: ...`` (click's usage errors
    included)."""
    assert not _RAW_CONTROL.search(stderr), f"{case}: raw control in stderr {stderr!r}"
    # Real line ends only: a U+2028 in a message starts no new line on a terminal.
    lines = stderr.removesuffix("\n").split("\n") if stderr else []
    lines = [line for line in lines if not line.startswith(_DIAGNOSTICS)]
    if code == 0:
        assert lines == [], f"{case}: exit 0 with {stderr!r}"
        return
    ours = (
        1 <= len(lines) <= 2
        and lines[0].startswith("excerpta: error: ")
        and (len(lines) == 1 or lines[1].startswith("  hint: "))
    )
    assert ours, f"{case}: exit {code} with stderr {stderr!r}"


def _check_json_lines(stdout: str, case: Case) -> None:
    records = [json.loads(line) for line in stdout.split("\n") if line]
    assert len(records) == case.json_lines, f"{case}: {len(records)} JSON lines"
    for record in records:
        assert set(record) >= case.keys, f"{case}: keys {sorted(record)}"
        if case.keys == ANSWER_KEYS and record["abstained"]:
            assert (record["answer"], record["citations"]) == ("", []), f"{case}: {record}"
    if case.questions is not None:
        field = "question" if case.keys == ANSWER_KEYS else "query"
        assert [r[field] for r in records] == list(case.questions), str(case)


def _tail(exc: BaseException) -> str:
    lines = traceback.format_exception(exc)
    return "".join(lines[-4:]).rstrip()


# --- strategies --------------------------------------------------------------------

K_TEXTS = st.one_of(
    st.integers(-3, MAX_K + 3).map(str),
    st.integers().map(str),
    st.sampled_from(["", " 5 ", "5x", "0x10", "1e3", "5.0", "+7", "1_0", "\u0663", "-0"]),
    st.text(max_size=5).map(lambda k: k.replace("\x00", "")),
)
MODE_TEXTS = st.text(max_size=10).map(lambda m: m.replace("\x00", ""))


def _k_ok(text: str) -> bool:
    try:
        return 1 <= int(text) <= MAX_K  # click's INT is int(): " 5 ", "1_0" and "٣" pass
    except ValueError:
        return False


@st.composite
def options(draw: st.DrawFn, *, reader: bool) -> tuple[list[str], bool, bool]:
    """-k, --mode, --in (and --reader): the args, whether they must be refused (exit 2),
    and whether the product may go either way (a blank or malformed glob)."""
    args: list[str] = []
    bad = either = False
    junk = draw(st.integers(0, 3)) == 3  # else k and mode are good ones
    k = draw(st.none() | (K_TEXTS if junk else st.integers(1, MAX_K).map(str)))
    if k is not None:
        args.append("-k" + k)
        bad |= not _k_ok(k)
    mode = draw(st.none() | st.sampled_from(MODES) | (MODE_TEXTS if junk else st.nothing()))
    if mode is not None:
        args.append("--mode=" + mode)
        bad |= mode not in MODES
    for glob in draw(st.lists(globs(), max_size=3)):
        args.append("--in=" + glob)
        bad |= len(glob) > MAX_GLOB
        either |= not glob.strip() or "[" in glob  # a blank glob, a class like [z-a]
    if reader and (flag := draw(st.sampled_from([None, "on", "off"]))):
        args.append("--reader=" + flag)
    return args, bad, either


def _allowed(bad: bool, either: bool) -> frozenset[int]:
    return frozenset({2}) if bad else frozenset({0, 2}) if either else frozenset({0})


@st.composite
def questions_asked(draw: st.DrawFn) -> Case:
    """``ask`` or ``search`` with one question and random options."""
    command = draw(st.sampled_from(["ask", "search"]))
    question = draw(texts(argv=True))
    flags, bad, either = draw(options(reader=command == "ask"))
    as_json = draw(st.booleans())
    args = (command, *flags, *(["--json"] if as_json else []), "--", question)
    keys = ANSWER_KEYS if command == "ask" else SEARCH_KEYS
    allowed = _allowed(bad or not question.strip(), either)
    return Case(args, allowed=allowed, json_lines=1 if as_json else None, keys=keys)


BAD_LINES = ["{", '{"question": "unterminated', '{"id": 3}', '{"question": null}', "{}",
             '{"question": "  "}', '{"question": ["a"]}', '{"question": "a", "question": 5}',
             "[1, 2]", '"just a string"', "null", "{'question': 'single quotes'}"]  # fmt: skip


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    """A JSON object line: a question (or not), and other fields."""
    record = draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3))
    record["question"] = draw(texts() | JSON_VALUES)
    return json.dumps(record, ensure_ascii=draw(st.booleans()))


# A question with a field nested past the stack's limit, or just open brackets.
DEEP_LINES = st.builds(
    lambda depth, closed: '{"question": "q", "deep": ' + "[" * depth + ("]" * depth + "}") * closed,
    DEPTHS,
    st.booleans(),
)


def expected_question(line: str) -> str | None:
    """What a batch line asks (docs/using.md, "batch": a question, or a JSON object with a
    "question" field), None for a blank line; ValueError for a line to refuse."""
    text = line.strip()
    if not text:
        return None
    if not text.startswith("{"):
        return text
    try:
        record = json.loads(text)
    except RecursionError as exc:
        raise ValueError("too deep") from exc
    question = record.get("question") if isinstance(record, dict) else None
    if not isinstance(question, str) or not question.strip():
        raise ValueError("no question")
    return question.strip()


@st.composite
def batches(draw: st.DrawFn) -> Case:
    """``batch -`` or ``search -`` with lines of text and JSON on stdin."""
    command = draw(st.sampled_from(["batch", "search"]))
    line = st.one_of(texts(line=True), json_lines(), st.sampled_from(BAD_LINES), DEEP_LINES)
    lines = draw(st.lists(line, max_size=8))
    flags, bad, either = draw(options(reader=command == "batch"))
    if command == "batch" and draw(st.booleans()):
        flags.append("--conversation")
    if command == "search":  # queries, one a line, as they are
        asked: list[str] = [t.strip() for t in lines if t.strip()]
    else:
        asked = []
        for text in lines:
            try:
                question = expected_question(text)
            except ValueError:
                bad = True
                continue
            if question is not None:
                asked.append(question)
    stdin = "\n".join(lines) + draw(st.sampled_from(["", "\n"]))
    keys = ANSWER_KEYS if command == "batch" else SEARCH_KEYS
    return Case(
        (command, *flags, "-"),
        stdin=stdin,
        allowed=_allowed(bad, either),
        json_lines=len(asked),
        keys=keys,
        questions=tuple(asked),
    )


# --- the fuzz tests ------------------------------------------------------------------


@pytest.mark.parametrize("scale", PROFILES)
def test_ask_and_search_take_any_question_and_options(cli: Library, scale: int) -> None:
    @fuzz(scale, 150)
    @given(case=questions_asked())
    def property_(case: Case) -> None:
        run_case(cli.where, case)

    property_()


@pytest.mark.parametrize("scale", PROFILES)
def test_batch_and_search_take_any_lines(cli: Library, scale: int) -> None:
    @fuzz(scale, 60)
    @given(case=batches())
    def property_(case: Case) -> None:
        run_case(cli.where, case)

    property_()


# --- TOML settings, collection names, locations ----------------------------------------


_SIZES = st.floats(0.001, 1e6) | st.integers(1, 10**6)
# A path, but not "~name" (a user that may not exist: the "no-home" fault tries that)
_PLACES = st.text(max_size=20).filter(lambda t: not t.startswith("~") or t[:2] in ("~", "~/"))
GOOD = {  # values that leave the index usable
    "k": st.integers(1, MAX_K),
    "mode": st.sampled_from(MODES),
    "reader": st.booleans() | st.sampled_from(["on", "off", "yes", "no", "1", "0", " TRUE "]),
    "watch": st.booleans(),
    "scope": st.lists(globs().filter(lambda g: len(g) <= MAX_GLOB and "[" not in g), max_size=3),
    "text_extensions": st.lists(st.text(max_size=6), max_size=3),
    "max_file_mb": _SIZES,
    "max_corpus_mb": _SIZES,
    "batch_size": st.integers(1, 512),
    "workers": st.integers(0, 64),
    "commit_every": st.integers(0, 10**9),
    "ray": st.text(max_size=20),
    "corpus": _PLACES,  # the --corpus and --index flags win
    "index": _PLACES,
    "model": st.just("all-MiniLM-L6-v2"),
    "chunk_tokens": st.just(160),
    "overlap_tokens": st.just(32),
}
BAD = {  # values docs/configuration.md refuses: exit 2
    "k": st.integers(max_value=0)
    | st.integers(min_value=MAX_K + 1)
    | LETTERS
    | st.booleans()
    | NOT_WHOLE
    | st.lists(st.integers(), min_size=1),
    "mode": TOML_VALUES.filter(lambda v: not (isinstance(v, str) and v in MODES)),
    "reader": LETTERS.filter(lambda v: v.strip() not in ("yes", "no")) | st.integers(2, 9),
    "chunk_tokens": st.integers(max_value=15) | st.integers(min_value=8193),
    "overlap_tokens": st.integers(max_value=-1) | st.integers(min_value=160),
    "max_file_mb": st.floats(max_value=0, allow_nan=False, allow_infinity=False),
    "workers": st.integers(max_value=-1),
    "commit_every": st.integers(max_value=-1),
    "scope": st.lists(st.integers(), min_size=1) | st.just(["x" * (MAX_GLOB + 1)]),
    "text_extensions": st.lists(st.integers(), min_size=1),
    "model": st.sampled_from(["", " ", "\t"]),
}
OTHER_INDEX = {  # settings of another index: exit 3
    # "auto" is the model the index was built with; a blank name is refused (exit 2)
    "model": st.text(max_size=20).filter(
        lambda m: m.strip() and m not in (AUTO_MODEL, DEFAULT_MODEL)
    ),
    "chunk_tokens": st.integers(33, 8192).filter(lambda n: n != 160),
    "overlap_tokens": st.integers(0, 159).filter(lambda n: n != 32),
}
_FIELDS = {f.replace("_", "-") for f in Settings.__dataclass_fields__} | set(
    Settings.__dataclass_fields__
)


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, frozenset[int]]:
    """A TOML file of good settings with at most one fault, and the exit codes it allows."""
    values: dict[str, Any] = draw(st.fixed_dictionaries({}, optional=GOOD))
    values = {k.replace("_", "-") if draw(st.booleans()) else k: v for k, v in values.items()}
    faults = ["none", "unknown", "bad", "other-index", "any", "garbage", "no-home"]
    fault = draw(st.sampled_from(faults))
    allowed = frozenset({0})
    if fault == "no-home":  # ~user of no user: refused, or unused (the flags win)
        values[draw(st.sampled_from(["corpus", "index"]))] = draw(NO_HOME)
        allowed = frozenset({0, 2})
    elif fault == "unknown":
        values[draw(st.text(max_size=12).filter(lambda k: k not in _FIELDS))] = draw(TOML_VALUES)
        allowed = frozenset({2})
    elif fault in ("bad", "other-index"):
        table = BAD if fault == "bad" else OTHER_INDEX
        key = draw(st.sampled_from(sorted(table)))
        values[key] = draw(table[key])
        allowed = frozenset({2 if fault == "bad" else 3})
    elif fault == "any":  # any value for any setting: whatever it gives, a documented code
        values[draw(st.sampled_from(sorted(GOOD)))] = draw(TOML_VALUES)
        allowed = DOCUMENTED
    text = "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in values.items())
    if fault == "garbage":
        text += draw(texts())
        try:
            tomllib.loads(text)
            allowed = DOCUMENTED
        except tomllib.TOMLDecodeError:
            allowed = frozenset({2})
    return text, allowed


@pytest.mark.parametrize("scale", PROFILES)
def test_any_toml_settings(cli: Library, scale: int) -> None:
    path = cli.root / "fuzz.toml"
    command = st.sampled_from([("ask", "--json"), ("search", "--json"), ("status", "--json")])

    @fuzz(scale, 120)
    @given(config=configs(), command=command)
    def property_(config: tuple[str, frozenset[int]], command: tuple[str, ...]) -> None:
        text, allowed = config
        path.write_text(text, encoding="utf-8")
        keys = {"ask": ANSWER_KEYS, "search": SEARCH_KEYS}.get(command[0], frozenset())
        if command[0] == "status":  # status reports an unusable index; it still exits 0
            allowed = frozenset({0}) if allowed == {3} else allowed
        else:
            command = (*command, "--", QUESTION)
        case = Case(("--config", str(path), *command), allowed=allowed, json_lines=1, keys=keys)
        try:
            run_case(cli.where, case)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nwith {path.name}:\n{shown(text, 400)}") from None

    property_()


_NAMES = st.one_of(
    st.from_regex(_COLLECTION_NAME, fullmatch=True),
    st.text(max_size=70),
    st.sampled_from([".", "..", "a/b", "../up", "x/..", "-x", " x", "x" * 64, "x" * 65]),
)


@pytest.mark.parametrize("scale", PROFILES)
def test_any_collection_name(cli: Library, scale: int) -> None:
    """A collection's index lives in a folder of its name: names that could leave the data
    folder ("..", "a/b") are refused (exit 2); plain ones work."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "excerpta" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)

    @fuzz(scale, 30)
    @given(name=_NAMES)
    def property_(name: str) -> None:
        table = f"corpus = {toml_value(str(cli.corpus))}\nindex = {toml_value(str(cli.index))}\n"
        config.write_text(f"[collections.{toml_value(name)}]\n{table}", encoding="utf-8")
        if "/" in name or name.strip() in ("", ".", ".."):
            allowed = frozenset({2})
        else:
            allowed = frozenset({0}) if _COLLECTION_NAME.fullmatch(name) else frozenset({0, 2})
        args = ("-C", name, "ask", "--json", "--", QUESTION)
        run_case([], Case(args, allowed=allowed, json_lines=1))

    property_()


@pytest.mark.parametrize("scale", PROFILES)
def test_any_corpus_and_index_flags(cli: Library, scale: int) -> None:
    """--corpus and --index of any text: a missing folder, a file, a name too long for
    the file system, a ~user of no user. Read-only commands only: nothing is written."""
    paths = st.one_of(
        texts(argv=True).map(lambda t: t.lstrip("/")),  # under the cwd, a temp folder
        NO_HOME | st.sampled_from(["~", ".", "..", "", "/dev/null"]),
        st.text("ab", min_size=256, max_size=300),  # past NAME_MAX
        st.sampled_from([cli.corpus / "recipes.txt", cli.corpus, cli.index]).map(str),
    )
    commands = st.sampled_from([("status",), ("ask", "--", QUESTION), ("search", "--", QUESTION)])

    @fuzz(scale, 40)
    @given(corpus=paths, index=paths, command=commands)
    def property_(corpus: str, index: str, command: tuple[str, ...]) -> None:
        keys = {"ask": ANSWER_KEYS, "search": SEARCH_KEYS}.get(command[0], frozenset())
        args = ("--corpus", corpus, "--index", index, command[0], "--json", *command[1:])
        run_case([], Case(args, allowed=DOCUMENTED - {130}, json_lines=1, keys=keys))

    property_()


# --- the hangs and edges issue 24 names, case by case ----------------------------------


@BACKTRACKING
def test_a_backtracking_glob_still_answers(cli: Library, glob: str, cited: str | None) -> None:
    args = ("ask", "--json", "--in", glob, "--", XYLOPHONE)
    result = run_case(cli.where, Case(args, json_lines=1))
    paths = [c["path"] for c in json.loads(result.stdout)["citations"]]
    assert paths[:1] == ([cited] if cited else [])


DEEP_JSON = '{"question": "q", "deep": ' + "[" * 5_000 + "]" * 5_000 + "}"
REFUSED = {1, 2, 3}  # a failure, a usage error or no index: anything but a traceback


@pytest.mark.parametrize(
    ("args", "stdin", "codes"),
    [
        pytest.param(("ask", "-k", "51", "--", QUESTION), None, {2}, id="k-51"),
        pytest.param(("ask", "-k", "-5", "--", QUESTION), None, {2}, id="k-minus-5"),
        pytest.param(("search", "-k", "1000000000000", "--", QUESTION), None, {2}, id="k-huge"),
        pytest.param(("ask", "--in", "x" * 1_001, "--", QUESTION), None, {2}, id="glob-1001"),
        pytest.param(("ask", "--", " \t\u3000\x0b "), None, {2}, id="blank-question"),
        pytest.param(("search", "--", "\u2028 \x85"), None, {2}, id="blank-query"),
        pytest.param(("ask", "--json", "--", "tomatoes " * 400), None, {0}, id="400-pieces"),
        pytest.param(("ask", "--json", "--", "x" * 150 + " planted"), None, {0}, id="long-word"),
        pytest.param(("batch", "-"), DEEP_JSON, {2}, id="batch-deep-json"),
        pytest.param(("ask", "--index", "a" * 300, "--", QUESTION), None, REFUSED, id="long-name"),
        pytest.param(("status", "--corpus", "~nosuchuser"), None, REFUSED, id="no-such-home"),
    ],
)
def test_edges(cli: Library, args: tuple[str, ...], stdin: str | None, codes: set[int]) -> None:
    json_lines = 1 if "--json" in args else None
    run_case(cli.where, Case(args, stdin, frozenset(codes), json_lines=json_lines))
