"""Scoped questions: globs over corpus paths select chunk ids, and every search filters by
them before its top-k (FAISS IDSelector, exact for small scopes, BM25 row mask)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.store import vectors as vectors_module
from assistant.store.scope import glob_pattern, matching, select_scope
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
    assert [p for p in PATHS if glob_pattern(glob).fullmatch(p)] == expected


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
