"""Scoped questions: globs over corpus paths select chunk ids, and every search filters by
them before its top-k (FAISS IDSelector, exact for small scopes, BM25 row mask)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import UsageError
from assistant.globs import check_globs, glob_pattern
from assistant.store import vectors as vectors_module
from assistant.store.scope import matching, select_scope
from tests.fakes import FakeEmbedder
from tests.test_vectors import LIMIT, build

pytestmark = pytest.mark.usefixtures("isolated")

PATHS = ["a.pdf", "notes/garden.md", "notes/deep/plan.md", "notes.txt", "x/notes/y.md"]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("notes/**", ["notes/garden.md", "notes/deep/plan.md"]),
        ("notes/", ["notes/garden.md", "notes/deep/plan.md"]),
        ("notes/*", ["notes/garden.md"]),
        ("*.md", ["notes/garden.md", "notes/deep/plan.md", "x/notes/y.md"]),  # any folder
        ("**/notes/*.md", ["notes/garden.md", "x/notes/y.md"]),
        ("*.pdf", ["a.pdf"]),
        ("notes.[tx]xt", ["notes.txt"]),
        ("notes/?arden.md", ["notes/garden.md"]),
        ("/a.pdf", ["a.pdf"]),
        ("A.pdf", []),  # paths are case-sensitive
    ],
)
def test_globs(glob: str, expected: list[str]) -> None:
    assert [p for p in PATHS if glob_pattern(glob).fullmatch(p + "/")] == expected


def test_matching_names_the_globs_that_match_nothing() -> None:
    matched, unmatched = matching(PATHS, ["*.pdf", "nope/**", "*.docx"])
    assert (matched, unmatched) == (["a.pdf"], ("nope/**", "*.docx"))


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("share", [0.01, 0.2])
def test_vector_search_in_a_scope_gets_k_of_its_own(
    kind: str, share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "_EXACT_SCOPE", 100)  # 0.01 exact, 0.2 by IDSelector
    index, data = build(5_000, first_id=0)
    if kind == "ivf":
        assert index.optimize(flat_limit=LIMIT)
    rng = np.random.default_rng(1)
    allowed_ids = np.sort(rng.choice(5_000, int(5_000 * share), replace=False))
    selection = select_scope(["f"], lambda _: allowed_ids, ["f"])
    queries = data[rng.choice(5_000, 20)]
    scores, ids = index.search(queries, 10, selection)
    assert (ids >= 0).all() and np.isin(ids, allowed_ids).all()  # k found, all in scope
    if kind == "flat":  # exact: the same as scoring the scope's vectors by hand
        expected = allowed_ids[np.argsort(-(queries @ data[allowed_ids].T), axis=1)[:, :10]]
        assert (ids == expected).all()


@pytest.fixture
def scoped(settings: Settings) -> Assistant:
    notes = settings.corpus / "notes"
    for i in range(8):
        (notes / f"extra{i}.md").write_text(
            f"The tomatoes in bed {i} were planted by the bread oven in June.\n"
        )
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    return assistant


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_a_scoped_question_gets_k_passages_from_its_scope(scoped: Assistant, mode: str) -> None:
    query = "tomatoes planted bread"
    unscoped = scoped.search(query, k=3, mode=mode)
    assert not any(h.chunk.path.endswith(".txt") for h in unscoped.hits)
    scoped.set_scope(["*.txt"])
    hits = scoped.search(query, k=3, mode=mode).hits
    # Filtered before the top k: the scope's own passages, k of them where the search
    # scores every chunk (BM25 returns only chunks that hold a word of the query).
    assert len(hits) == 3 if mode != "lexical" else len(hits) >= 1
    assert {h.chunk.path for h in hits} <= {"recipes.txt", "peru-coup-government-us-troops.txt"}
    scoped.set_scope([])
    assert scoped.selection() is None


def test_a_scope_matching_nothing_gives_no_citations(scoped: Assistant) -> None:
    scoped.set_scope(["nowhere/**"])
    answer = scoped.ask("When were the tomatoes planted?")
    assert answer.abstained and answer.citations == ()
    selection = scoped.selection()
    assert selection is not None and selection.unmatched == ("nowhere/**",)


def test_the_selection_is_made_once_per_index_and_scope(scoped: Assistant) -> None:
    scoped.set_scope(["notes/**"])
    first = scoped.selection()
    assert first is scoped.selection()
    assert first is not None and len(first.paths) == 9
    scoped.reload()
    assert scoped.selection() is not first


def test_cli_in_is_repeatable_and_warns_about_globs_matching_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = FakeEmbedder()
    monkeypatch.setattr(
        "assistant.cli.make_assistant", lambda s: Assistant(s, encoders=Encoders.single(embedder))
    )
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    runner = CliRunner()
    assert runner.invoke(main, ["index", *where]).exit_code == 0
    question = "When were the tomatoes planted?"

    flags = ["--json", "--in", "notes/*", "--in", "x/**", *where]
    result = runner.invoke(main, ["ask", question, *flags])
    assert result.exit_code == 0
    assert result.stderr == "excerpta: warning: --in 'x/**' matches no indexed file\n"
    assert {c["path"] for c in json.loads(result.stdout)["citations"]} == {"notes/garden.md"}
    bread = "What does sourdough bread need?"
    result = runner.invoke(main, ["ask", bread, "--json", "--in", "notes/**", *where])
    assert "recipes.txt" not in {c["path"] for c in json.loads(result.stdout)["citations"]}

    result = runner.invoke(main, ["ask", question, "--json", "--in", "nowhere/**", *where])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["citations"] == []
    assert "'nowhere/**' matches no indexed file" in result.stderr

    result = runner.invoke(main, ["search", "tomatoes", "--json", "--in", "notes/**", *where])
    assert {h["path"] for h in json.loads(result.stdout)["hits"]} == {"notes/garden.md"}

    lines = "\n".join([question, "Where does basil grow best?"])
    result = runner.invoke(main, ["batch", "-", "--in", "notes/*", *where], input=lines)
    cited = {
        c["path"] for line in result.stdout.splitlines() for c in json.loads(line)["citations"]
    }
    assert cited == {"notes/garden.md"}


def test_scope_from_the_toml_file(settings: Settings, tmp_path: Path) -> None:
    config = tmp_path / "excerpta.toml"
    config.write_text(
        f'corpus = "{settings.corpus}"\nindex = "{settings.index}"\nscope = ["*.md"]\n'
    )
    from assistant.config import load_settings

    loaded = load_settings(config_file=config)
    assistant = Assistant(loaded, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    hits = assistant.search("tomatoes planted sourdough bread").hits
    assert {h.chunk.path for h in hits} == {"notes/garden.md"}


def test_with_several_collections_a_glob_warns_only_if_it_matches_in_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli.scope import warn_unmatched
    from assistant.federation import Federation

    members = []
    for name, file in (("work", "notes/plan.md"), ("home", "list.txt")):
        corpus = tmp_path / name
        (corpus / file).parent.mkdir(parents=True)
        (corpus / file).write_text("The plan is to paint the shed.\n")
        settings = Settings(corpus=corpus, index=tmp_path / f"{name}-index")
        assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
        assistant.update_index()
        assistant.set_scope(["notes/**", "*.txt", "zzz/**"])
        members.append((name, assistant))
    warn_unmatched(Federation(members))
    assert capsys.readouterr().err == "excerpta: warning: --in 'zzz/**' matches no indexed file\n"


# --- globs of any shape, in linear time ----------------------------------------------


def _reference(glob: str, path: str) -> bool:
    """What a glob means, by plain recursion over folders (slow on purpose, never
    used by the product): "**" spans whole folders, fnmatch matches one name."""
    glob = glob.strip().lstrip("/")
    if glob.endswith("/"):
        glob += "**"
    parts = [p for p in glob.split("/") if p]
    if "/" not in glob:
        parts = ["**", *parts]
    names = path.split("/")

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(parts):
            return j == len(names)
        if parts[i] == "**":
            if i == len(parts) - 1:  # a trailing ** : one folder or more below
                return j < len(names)
            return any(match(i + 1, n) for n in range(j, len(names) + 1))
        name = re.sub(r"\*+", "*", parts[i])
        return j < len(names) and fnmatchcase(names[j], name) and match(i + 1, j + 1)

    return match(0, 0)


_NAMES = st.lists(st.sampled_from(["a", "b", "*", "?", "[ab]", "[!a]"]), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    glob=st.lists(st.one_of(_NAMES.map("".join), st.just("**")), min_size=1, max_size=5).map(
        "/".join
    ),
    path=st.lists(st.text("ab", min_size=1, max_size=4), min_size=1, max_size=6).map("/".join),
)
def test_glob_matching_agrees_with_plain_recursion(glob: str, path: str) -> None:
    assert bool(glob_pattern(glob).fullmatch(path + "/")) == _reference(glob, path)


DEEP = "/".join(f"d{n}" for n in range(30))
GLOB_PROBE = """
import json, sys
from assistant.store.scope import matching
glob, paths = json.loads(sys.stdin.read())
print(json.dumps(matching(paths, [glob])[0]))
"""


@pytest.mark.parametrize(
    ("glob", "matches"),
    [
        ("**/" * 12 + "x*.txt", [f"{DEEP}/xa.txt"]),  # hung: ** backtracked over folders
        ("*" * 40 + "z", []),
        ("**/d/" * 150 + "x", []),
        (("*a" * 500)[:1000], []),
        ("**/d29/*a*a*a*a*a*a*a*a*a*a*b", []),
    ],
)
def test_pathological_globs_answer_at_once(glob: str, matches: list[str]) -> None:
    """In a process of its own: a regular expression that backtracks holds the GIL, so
    no thread of this one could stop it. The timeout is a hang guard, not a speed goal."""
    paths = [f"{DEEP}/xa.txt", f"{DEEP}/ya.txt", "a" * 60 + ".txt", f"{'a' * 200}/b.txt"]
    done = subprocess.run(
        [sys.executable, "-c", GLOB_PROBE],
        input=json.dumps([glob, paths]),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == matches


def test_a_glob_over_1000_characters_is_a_usage_error() -> None:
    glob_pattern("a" * 1000)
    with pytest.raises(UsageError) as raised:
        check_globs(["*.md", "a" * 1001])
    assert "1,001 characters" in raised.value.message and raised.value.hint


def test_a_malformed_class_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        check_globs(["notes/[z-a].md"])


def test_the_cli_refuses_a_glob_over_the_limit(settings: Settings) -> None:
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    result = CliRunner().invoke(main, ["search", "basil", "--in", "*" * 1001, *where])
    assert result.exit_code == 2 and "over the limit of 1,000" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_scope_keeps_the_one_before(scoped: Assistant) -> None:
    scoped.set_scope(["notes/**"])
    with pytest.raises(UsageError):
        scoped.set_scope(["x" * 1001])
    assert scoped.settings.scope == ("notes/**",)
