"""Named collections: the user config, settings precedence, and the CLI with several.

Every test runs with temporary XDG_CONFIG_HOME / XDG_DATA_HOME (conftest) and the fake
embedder; the CLI runs in-process through CliRunner.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.collections import collection_settings, read_user_config, resolve
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import ConfigError, UsageError
from tests.fakes import FakeEmbedder
from tests.test_cli import _json, _ok

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    embedder = FakeEmbedder()
    monkeypatch.setattr(
        "assistant.cli.make_assistant", lambda s: Assistant(s, encoders=Encoders.single(embedder))
    )
    return embedder


def _config_file() -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "excerpta" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def two(corpus: Path, tmp_path: Path) -> dict[str, Path]:
    """alpha: the fixture corpus; beta: a corpus of its own, with tomatoes of its own."""
    beta = tmp_path / "beta-docs"
    beta.mkdir()
    (beta / "airships.md").write_text(
        "# Airships\n\nThe zeppelin lands beside the harbour.\n\n"
        "The tomatoes were planted on the zeppelin in June.\n"
    )
    _config_file().write_text(
        f'k = 4\n\n[collections.alpha]\ncorpus = "{corpus}"\n\n'
        f'[collections.beta]\ncorpus = "{beta}"\nk = 3\nmode = "lexical"\n'
    )
    return {"alpha": corpus, "beta": beta}


def _index_both(runner: CliRunner) -> None:
    _ok(runner.invoke(main, ["-C", "alpha", "index"]))
    _ok(runner.invoke(main, ["index", "--collection", "beta"]))


def test_collection_settings_and_default_index(two: dict[str, Path]) -> None:
    beta = collection_settings("beta")
    data = Path(os.environ["XDG_DATA_HOME"])
    assert (beta.corpus, beta.index) == (two["beta"], data / "excerpta" / "beta")
    assert (beta.k, beta.mode) == (3, "lexical")  # the collection's own settings
    alpha = collection_settings("alpha")
    assert (alpha.k, alpha.mode) == (4, "hybrid")  # the user config's, then the default


def test_precedence_flags_env_project_toml_over_user_config(
    two: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project = tmp_path / "excerpta.toml"
    project.write_text('mode = "dense"\nk = 7\ncorpus = "elsewhere"\n')
    beta = collection_settings("beta", config_file=project)
    # The project file beats the user config and the collection's table, but the
    # collection chosen still says where the documents are.
    assert (beta.k, beta.mode, beta.corpus) == (7, "dense", two["beta"])
    monkeypatch.setenv("EXCERPTA_MODEL", "other-model")
    assert collection_settings("beta", {"k": 9}, config_file=project).k == 9
    assert collection_settings("beta").model == "other-model"
    # No collection named: the user config's settings still apply, below the project's.
    assert collection_settings(None).k == 4
    assert collection_settings(None, config_file=project).k == 7


def test_environment_chooses_a_collection_and_corpus_flags_beat_it(
    two: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EXCERPTA_COLLECTION", "beta")
    ((name, settings),) = resolve([])
    assert (name, settings.corpus) == ("beta", two["beta"])
    ((name, settings),) = resolve([], {"corpus": tmp_path / "mine"})
    assert (name, settings.corpus) == (None, tmp_path / "mine")
    ((name, _),) = resolve(["alpha"])  # a flag beats the environment
    assert name == "alpha"


def test_unknown_collection_lists_the_known_ones(two: dict[str, Path]) -> None:
    with pytest.raises(UsageError) as raised:
        collection_settings("gamma")
    assert raised.value.hint == "known collections: alpha, beta"
    with pytest.raises(UsageError, match="both say where"):
        collection_settings("beta", {"corpus": Path("x")})


def test_user_config_paths_relative_to_it_and_bad_tables(tmp_path: Path) -> None:
    path = _config_file()
    path.write_text('[collections.rel]\ncorpus = "docs"\nindex = "~/idx"\n')
    config = read_user_config()
    assert config.collections["rel"]["corpus"] == path.parent / "docs"
    assert config.collections["rel"]["index"] == Path.home() / "idx"
    path.write_text("[collections.broken]\nindex = 'x'\n")
    with pytest.raises(ConfigError, match="has no corpus"):
        read_user_config()
    path.unlink()
    assert read_user_config().names == []  # no file: no collections, no error


def test_cli_collection_answers_from_that_collection_only(
    two: dict[str, Path], fake: FakeEmbedder
) -> None:
    runner = CliRunner()
    _index_both(runner)
    answer = _json(
        # The words of its sentence: the fake embedder's cosines need them to answer.
        runner.invoke(
            main,
            ["ask", "Where does the zeppelin land beside the harbour?", "-C", "beta", "--json"],
        )
    )
    assert answer["abstained"] is False
    assert {c["collection"] for c in answer["citations"]} == {"beta"}
    assert answer["citations"][0]["path"] == "airships.md"
    tomatoes = _json(
        runner.invoke(main, ["-C", "beta", "ask", "When were the tomatoes planted?", "--json"])
    )
    assert all(c["collection"] == "beta" for c in tomatoes["citations"])
    assert not any(c["path"] == "notes/garden.md" for c in tomatoes["citations"])


def test_cli_two_collections_cite_both(two: dict[str, Path], fake: FakeEmbedder) -> None:
    runner = CliRunner()
    _index_both(runner)
    question = "When were the tomatoes planted?"
    answer = _json(runner.invoke(main, ["-C", "alpha", "-C", "beta", "ask", question, "--json"]))
    assert answer["abstained"] is False
    assert {c["collection"] for c in answer["citations"]} == {"alpha", "beta"}
    assert [c["n"] for c in answer["citations"]] == list(range(1, len(answer["citations"]) + 1))
    found = _json(
        runner.invoke(main, ["search", "zeppelin tomatoes", "-C", "alpha", "-C", "beta", "--json"])
    )
    assert {h["collection"] for h in found["hits"]} == {"alpha", "beta"}
    lines = _ok(
        runner.invoke(main, ["batch", "-", "-C", "alpha", "-C", "beta"], input=f"{question}\n")
    ).stdout.splitlines()
    assert json.loads(lines[0])["citations"] == answer["citations"]


def test_cli_collections_lists_their_state(two: dict[str, Path], fake: FakeEmbedder) -> None:
    runner = CliRunner()
    listed = _json(runner.invoke(main, ["collections", "--json"]))
    assert [c["name"] for c in listed["collections"]] == ["alpha", "beta"]
    assert not any(c["index_ready"] for c in listed["collections"])
    _index_both(runner)
    (two["beta"] / "new.txt").write_text("A new note about airships.\n")
    rows = {
        c["name"]: c for c in _json(runner.invoke(main, ["collections", "--json"]))["collections"]
    }
    assert (rows["alpha"]["files"], rows["alpha"]["stale"]) == (3, False)
    assert (rows["beta"]["files"], rows["beta"]["chunks"], rows["beta"]["stale"]) == (1, 1, True)
    text = _ok(runner.invoke(main, ["collections"])).stdout
    assert "alpha: " in text and "3 files" in text and "changed since indexed" in text


def test_cli_collections_reads_the_groups_config_like_the_other_commands(
    two: dict[str, Path], fake: FakeEmbedder, tmp_path: Path
) -> None:
    """`--config` on the group: its settings apply to every collection listed, and a bad
    file is exit 2 (it was ignored: the listing used ./excerpta.toml's settings)."""
    runner = CliRunner()
    _index_both(runner)
    project = tmp_path / "project.toml"
    project.write_text("chunk_tokens = 100\n")
    listed = _json(runner.invoke(main, ["--config", str(project), "collections", "--json"]))
    for row in listed["collections"]:
        assert not row["index_ready"]
        assert row["problem"] == "index was built with other chunking settings"
    status = _json(
        runner.invoke(main, ["--config", str(project), "-C", "alpha", "status", "--json"])
    )
    assert status["problem"] == "index was built with other chunking settings"  # the same
    project.write_text("no_such_setting = 1\n")
    result = runner.invoke(main, ["--config", str(project), "collections"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "no_such_setting" in result.stderr


def test_cli_unknown_or_misused_collection_is_usage_error(
    two: dict[str, Path], fake: FakeEmbedder, corpus: Path
) -> None:
    runner = CliRunner()
    for args in (
        ["-C", "gamma", "status"],
        ["ask", "q", "--collection", "gamma"],
        ["-C", "alpha", "-C", "beta", "status"],
        ["-C", "alpha", "status", "--corpus", str(corpus)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    result = runner.invoke(main, ["-C", "gamma", "status"])
    assert "unknown collection 'gamma'" in result.stderr
    assert "known collections: alpha, beta" in result.stderr


def test_no_collections_defined_says_where_to_define_them(fake: FakeEmbedder) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["-C", "work", "status"])
    assert result.exit_code == 2
    assert "no collections are defined in" in result.stderr
    assert "no collections" in _ok(runner.invoke(main, ["collections"])).stdout
    shutil.rmtree(Path(os.environ["XDG_CONFIG_HOME"]), ignore_errors=True)


# --- names that can't climb out of the data folder -----------------------------------


def _victim() -> Path:
    """A file of the user's own where `-C ../victim index` used to clean up."""
    mine = Path(os.environ["XDG_DATA_HOME"]) / "victim" / "segments" / "mine.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("not Excerpta's\n")
    return mine


@pytest.mark.parametrize("name", ["..", ".", "../victim", "a/b", "-dash", "", "x" * 65, "é"])
def test_a_bad_collection_name_in_the_config_is_exit_2_and_touches_nothing(
    fake: FakeEmbedder, corpus: Path, name: str
) -> None:
    mine = _victim()
    _config_file().write_text(f'[collections."{name}"]\ncorpus = "{corpus}"\n')
    before = sorted(Path(os.environ["XDG_DATA_HOME"]).rglob("*"))
    result = CliRunner().invoke(main, ["-C", name, "index"])
    assert result.exit_code == 2, result.stderr
    assert "bad collection name" in result.stderr and "a letter or digit" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(Path(os.environ["XDG_DATA_HOME"]).rglob("*")) == before
    assert mine.read_text() == "not Excerpta's\n"


def test_a_bad_name_given_with_C_is_exit_2(fake: FakeEmbedder, two: dict[str, Path]) -> None:
    result = CliRunner().invoke(main, ["-C", "..", "status"])
    assert result.exit_code == 2 and "bad collection name '..'" in result.stderr


@pytest.mark.parametrize("name", ["notes", "Work-2026", "a.b_c", "x" * 64])
def test_good_collection_names(corpus: Path, name: str) -> None:
    _config_file().write_text(f'[collections."{name}"]\ncorpus = "{corpus}"\n')
    assert read_user_config().names == [name]
