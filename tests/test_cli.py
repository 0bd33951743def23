"""Tests for the `excerpta` command: exit codes, JSON on stdout, hints on stderr, stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from filelock import FileLock

from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from tests.fakes import FakeEmbedder, FakeReader
from tests.index_state import committed, live_segments

pytestmark = pytest.mark.usefixtures("isolated")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_FILES = ["notes/garden.md", "peru-coup-government-us-troops.txt", "recipes.txt"]
TOMATO_QUESTION = "When were the tomatoes planted?"
TOMATO_ANSWER = "The tomatoes were planted in May."

INDEX_KEYS = {
    "added",
    "changed",
    "removed",
    "unchanged",
    "skipped",
    "chunks_embedded",
    "segments_merged",
    "chunks_total",
    "seconds",
    "rebuilt_because",
    "running_lines_dropped",
    "truncated",
    "formats",
    "no_text",
    "chunks_per_second",
    "workers",
    "languages",
}
ANSWER_KEYS = {
    "question",
    "answer",
    "abstained",
    "citations",
    "answer_span",
    "question_truncated",
    "elapsed_ms",
}
CITATION_KEYS = {
    "n",
    "path",
    "start_line",
    "end_line",
    "page",
    "char_start",
    "char_end",
    "score",
    "excerpt",
    "ocr",
    "collection",  # null unless the answer came from a named collection
}
SEARCH_KEYS = {"query", "hits", "query_truncated"}
HIT_KEYS = {
    "path",
    "start_line",
    "end_line",
    "page",
    "char_start",
    "char_end",
    "score",
    "text",
    "ocr",
    "collection",
}
STATUS_KEYS = {
    "index_ready",
    "problem",
    "model",
    "model_automatic",
    "files",
    "chunks",
    "built_at",
    "stale",
    "changes",
    "skipped",
    "formats",
    "no_text",
    "languages",
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    """The embedder every command's Assistant gets (no model is ever loaded)."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(
        "assistant.cli.make_assistant", lambda s: Assistant(s, encoders=Encoders.single(embedder))
    )
    return embedder


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def where(settings: Settings) -> list[str]:
    """The location flags for the fixture corpus and its (not yet built) index."""
    return ["--corpus", str(settings.corpus), "--index", str(settings.index)]


@pytest.fixture
def indexed(runner: CliRunner, fake: FakeEmbedder, where: list[str]) -> list[str]:
    """Location flags of an index built through the CLI; the fake's record is cleared."""
    result = runner.invoke(main, ["index", *where])
    assert result.exit_code == 0, result.stderr
    fake.embedded.clear()
    return where


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def _json(result: Result) -> Any:
    return json.loads(_ok(result).stdout)


def _json_lines(result: Result) -> list[Any]:
    lines = _ok(result).stdout.splitlines()
    return [json.loads(line) for line in lines]


def _failed(result: Result, code: int) -> Result:
    """A clean failure: the exit code, a message (and hint) on stderr, no data, no trace."""
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.stdout}{result.stderr}"
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit) or result.exception is None
    return result


# --- index ---------------------------------------------------------------------------


def test_index_json_report(runner: CliRunner, fake: FakeEmbedder, where: list[str]) -> None:
    report = _json(runner.invoke(main, ["index", "--json", *where]))
    assert set(report) == INDEX_KEYS
    assert report["added"] == 3
    assert (report["changed"], report["removed"], report["unchanged"]) == (0, 0, 0)
    assert report["skipped"] == []
    assert report["chunks_embedded"] == len(fake.embedded) == report["chunks_total"] > 0
    assert isinstance(report["seconds"], float)
    assert report["rebuilt_because"] == ""
    assert report["formats"] == {"md": 1, "txt": 2}
    assert report["languages"] == {"en": 3}
    assert (report["no_text"], report["truncated"]) == ([], [])


def test_index_and_status_list_files_that_gave_no_text(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, where: list[str]
) -> None:
    (settings.corpus / "blank.md").write_text("  \n\n")
    (settings.corpus / "deck.pptx").write_bytes(b"not a deck")
    report = _json(runner.invoke(main, ["index", "--json", *where]))
    assert report["no_text"] == ["blank.md"]
    assert report["formats"] == {"md": 1, "txt": 2}
    state = _json(runner.invoke(main, ["status", "--json", *where]))
    assert (state["no_text"], state["formats"]) == (["blank.md"], {"md": 1, "txt": 2})
    shown = _ok(runner.invoke(main, ["status", *where])).stdout
    assert "files by format: 2 txt, 1 md" in shown
    assert "no text in 1 files:\n  blank.md" in shown


def test_a_full_rebuild_says_why(runner: CliRunner, indexed: list[str]) -> None:
    result = runner.invoke(main, ["index", "--full", *indexed])
    assert result.exit_code == 0
    assert "rebuilding the whole index: --full" in result.stderr


def test_index_again_embeds_nothing(
    runner: CliRunner, fake: FakeEmbedder, indexed: list[str]
) -> None:
    report = _json(runner.invoke(main, ["index", "--json", *indexed]))
    assert (report["added"], report["changed"], report["unchanged"]) == (0, 0, 3)
    assert report["chunks_embedded"] == 0
    assert fake.embedded == []


def test_index_full_re_embeds(runner: CliRunner, fake: FakeEmbedder, indexed: list[str]) -> None:
    report = _json(runner.invoke(main, ["index", "--full", "--json", *indexed]))
    assert report["added"] == 3
    assert report["chunks_embedded"] == len(fake.embedded) == report["chunks_total"]


def test_index_human_output(runner: CliRunner, fake: FakeEmbedder, where: list[str]) -> None:
    result = _ok(runner.invoke(main, ["index", *where]))
    n = len(fake.embedded)
    assert result.stdout.startswith(
        f"3 added, 0 changed, 0 removed, 0 unchanged; embedded {n} chunks, {n} in the index ("
    )
    assert len(result.stdout.splitlines()) == 1


def test_index_dry_run_lists_and_writes_nothing(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, indexed: list[str]
) -> None:
    (settings.corpus / "recipes.txt").write_text("Flatbread needs no yeast.\n")
    (settings.corpus / "kites.md").write_text("Kites fly in steady wind.\n")
    (settings.corpus / "notes" / "garden.md").unlink()

    result = _ok(runner.invoke(main, ["index", "--dry-run", *indexed]))
    lines = result.stdout.splitlines()
    assert lines[0] == "would index: 1 added, 1 changed, 1 removed, 1 unchanged"
    assert lines[1:] == ["  add: kites.md", "  change: recipes.txt", "  remove: notes/garden.md"]

    report = _json(runner.invoke(main, ["index", "--dry-run", "--json", *indexed]))
    assert (report["added"], report["changed"], report["removed"]) == (1, 1, 1)
    assert report["chunks_embedded"] == 0
    assert fake.embedded == []
    assert committed(settings.index) == 1 and live_segments(settings.index) == ["seg-000001"]


def test_index_reports_skipped_files_on_stderr(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, where: list[str]
) -> None:
    (settings.corpus / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)))
    result = _ok(runner.invoke(main, ["index", *where]))
    assert "skipped clip.mp4: unsupported file type .mp4" in result.stderr
    assert "clip.mp4" not in result.stdout

    report = _json(runner.invoke(main, ["index", "--json", "--full", *where]))
    assert report["skipped"] == [{"path": "clip.mp4", "reason": "unsupported file type .mp4"}]
    assert report["added"] == 3


def test_index_missing_corpus_is_exit_1_with_hint(
    runner: CliRunner, fake: FakeEmbedder, tmp_path: Path
) -> None:
    args = ["index", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "ix")]
    result = _failed(runner.invoke(main, args), 1)
    assert "excerpta: error: corpus folder not found" in result.stderr
    assert "hint:" in result.stderr


def test_index_while_locked_is_exit_1_with_hint(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, where: list[str]
) -> None:
    settings.index.mkdir()
    with FileLock(str(settings.index / ".lock")):
        result = _failed(runner.invoke(main, ["index", "--json", *where]), 1)
    assert "another excerpta process" in result.stderr
    assert "hint:" in result.stderr
    assert fake.embedded == []


def test_index_flags_on_the_group(runner: CliRunner, fake: FakeEmbedder, where: list[str]) -> None:
    report = _json(runner.invoke(main, [*where, "index", "--json"]))
    assert report["added"] == 3


# --- ask -----------------------------------------------------------------------------


def test_ask_json_schema_and_values(
    runner: CliRunner, settings: Settings, indexed: list[str]
) -> None:
    answer = _json(runner.invoke(main, ["ask", TOMATO_QUESTION, "--json", *indexed]))
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == TOMATO_QUESTION
    assert answer["abstained"] is False
    assert TOMATO_ANSWER in answer["answer"]
    assert isinstance(answer["elapsed_ms"], float) and answer["elapsed_ms"] >= 0
    assert answer["citations"]
    for n, citation in enumerate(answer["citations"], 1):
        assert set(citation) == CITATION_KEYS
        assert citation["n"] == n
    assert answer["answer_span"] is None  # no reader here
    first = answer["citations"][0]
    assert first["path"] == "notes/garden.md"
    assert (first["start_line"], first["end_line"], first["page"]) == (3, 3, None)
    document = (settings.corpus / "notes" / "garden.md").read_text()
    assert document[first["char_start"] : first["char_end"]] == TOMATO_ANSWER
    assert TOMATO_ANSWER in first["excerpt"]


def test_ask_human_output(runner: CliRunner, indexed: list[str]) -> None:
    lines = _ok(runner.invoke(main, ["ask", TOMATO_QUESTION, *indexed])).stdout.splitlines()
    assert lines[0] == f"{TOMATO_ANSWER} [1]"
    assert lines[1] == ""
    assert lines[2].startswith("[1] notes/garden.md:3  score ")
    assert f"    {TOMATO_ANSWER}" in lines[3:]  # the excerpt, indented
    assert all(line.startswith("    ") or line.startswith("[") for line in lines[2:])


def test_ask_abstains_when_nothing_matches(runner: CliRunner, indexed: list[str]) -> None:
    question = "quantum chromodynamics lattice"
    result = _ok(runner.invoke(main, ["ask", question, *indexed]))
    assert result.stdout == "Not found in your documents.\n"
    answer = _json(runner.invoke(main, ["ask", question, "--json", *indexed]))
    assert answer["abstained"] is True
    assert answer["citations"] == []


def test_ask_empty_question_is_usage_error(runner: CliRunner, indexed: list[str]) -> None:
    result = _failed(runner.invoke(main, ["ask", "   ", *indexed]), 2)
    assert "the question is empty" in result.stderr


def test_ask_without_index_is_exit_3_with_hint(
    runner: CliRunner, fake: FakeEmbedder, where: list[str]
) -> None:
    result = _failed(runner.invoke(main, ["ask", TOMATO_QUESTION, "--json", *where]), 3)
    assert "excerpta: error: no index in" in result.stderr
    assert "hint: build it: excerpta index" in result.stderr


@pytest.mark.parametrize("command", ["ask", "search"])
def test_corrupt_index_is_exit_3(
    runner: CliRunner, settings: Settings, indexed: list[str], command: str
) -> None:
    (settings.index / "segments" / "seg-000001" / "vectors.faiss").write_bytes(b"garbage")
    result = _failed(runner.invoke(main, [command, TOMATO_QUESTION, "--json", *indexed]), 3)
    assert "hint: rebuild it: excerpta index --full" in result.stderr
    _ok(runner.invoke(main, ["index", "--full", *indexed]))
    assert _json(runner.invoke(main, [command, TOMATO_QUESTION, "--json", *indexed]))


def test_garbage_commit_point_is_exit_3_and_full_index_recovers(
    runner: CliRunner, settings: Settings, indexed: list[str]
) -> None:
    for suffix in ("-wal", "-shm"):
        (settings.index / f"index.sqlite{suffix}").unlink(missing_ok=True)
    (settings.index / "index.sqlite").write_bytes(b"\xff\xfe" * 3000)
    result = _failed(runner.invoke(main, ["ask", TOMATO_QUESTION, *indexed]), 3)
    assert "hint:" in result.stderr
    _ok(runner.invoke(main, ["index", "--full", *indexed]))


def test_ask_with_other_model_is_exit_3(
    runner: CliRunner, indexed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCERPTA_MODEL", "other-model")
    result = _failed(runner.invoke(main, ["ask", TOMATO_QUESTION, *indexed]), 3)
    assert "other-model" in result.stderr
    assert "hint:" in result.stderr


def test_interrupt_is_exit_130(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted:
        settings = Settings()

        def ask(self, question: str) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr("assistant.cli.make_assistant", lambda s: Interrupted())
    result = _failed(runner.invoke(main, ["ask", "anything"]), 130)
    assert "interrupted" in result.stderr


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_ask_and_search_each_mode(runner: CliRunner, indexed: list[str], mode: str) -> None:
    answer = _json(
        runner.invoke(main, ["ask", TOMATO_QUESTION, "--json", "--mode", mode, *indexed])
    )
    assert answer["citations"][0]["path"] == "notes/garden.md"
    result = _json(
        runner.invoke(main, ["search", "tomatoes planted", "--json", "--mode", mode, *indexed])
    )
    assert result["hits"][0]["path"] == "notes/garden.md"


@pytest.mark.parametrize("command", ["ask", "search", "batch"])
def test_bad_mode_is_exit_2(runner: CliRunner, indexed: list[str], command: str) -> None:
    result = _failed(runner.invoke(main, [command, "x", "--mode", "fuzzy", *indexed]), 2)
    assert "--mode" in result.stderr and "fuzzy" in result.stderr


@pytest.mark.parametrize("k", ["0", "-5", "51"])
@pytest.mark.parametrize("command", ["ask", "search", "batch"])
def test_k_outside_1_to_50_is_exit_2(
    runner: CliRunner, indexed: list[str], command: str, k: str
) -> None:
    given = "-" if command == "batch" else TOMATO_QUESTION
    result = runner.invoke(main, [command, given, "-k", k, *indexed], input=TOMATO_QUESTION)
    _failed(result, 2)
    assert "1<=x<=50" in result.stderr


@pytest.mark.parametrize("k", ["0", "51"])
def test_k_outside_1_to_50_in_the_toml_file_is_exit_2(
    runner: CliRunner, indexed: list[str], tmp_path: Path, k: str
) -> None:
    config = tmp_path / "k.toml"
    config.write_text(f"k = {k}\n")
    result = runner.invoke(main, ["ask", TOMATO_QUESTION, "--config", str(config), *indexed])
    _failed(result, 2)
    assert "k must be from 1 to 50" in result.stderr and "hint:" in result.stderr


# --- batch ---------------------------------------------------------------------------

BATCH_INPUT = (
    "When were the tomatoes planted?\n"
    "\n"
    '{"question": "What temperature to bake the loaf?"}\n'
    "   \n"
    '{"question": "  Where does basil grow best?  ", "id": 7}\n'
    "quantum chromodynamics lattice\n"
)
BATCH_QUESTIONS = [
    "When were the tomatoes planted?",
    "What temperature to bake the loaf?",
    "Where does basil grow best?",
    "quantum chromodynamics lattice",
]


def _check_batch(answers: list[Any]) -> None:
    assert [a["question"] for a in answers] == BATCH_QUESTIONS
    assert all(set(a) == ANSWER_KEYS for a in answers)
    assert TOMATO_ANSWER in answers[0]["answer"]
    assert "230 degrees" in answers[1]["answer"]
    assert answers[1]["citations"][0]["path"] == "recipes.txt"
    assert "Basil grows best in full sun." in answers[2]["answer"]
    assert answers[3]["abstained"] is True


def test_batch_file(runner: CliRunner, indexed: list[str], tmp_path: Path) -> None:
    source = tmp_path / "questions.txt"
    source.write_text(BATCH_INPUT, encoding="utf-8")
    _check_batch(_json_lines(runner.invoke(main, ["batch", str(source), *indexed])))


def test_batch_stdin(runner: CliRunner, indexed: list[str]) -> None:
    _check_batch(_json_lines(runner.invoke(main, ["batch", "-", *indexed], input=BATCH_INPUT)))


def test_batch_more_questions_than_one_embedding_batch(
    runner: CliRunner, indexed: list[str]
) -> None:
    questions = [f"When were the tomatoes planted? ({n})" for n in range(70)]
    answers = _json_lines(
        runner.invoke(main, ["batch", "-", *indexed], input="\n".join(questions) + "\n")
    )
    assert [a["question"] for a in answers] == questions


def test_batch_empty_input_prints_nothing(runner: CliRunner, indexed: list[str]) -> None:
    result = _ok(runner.invoke(main, ["batch", "-", *indexed], input="\n  \n"))
    assert result.stdout == ""


@pytest.mark.parametrize("conversation", [True, False])
def test_batch_conversation_lets_a_follow_up_borrow_the_topic(
    runner: CliRunner, fake: FakeEmbedder, indexed: list[str], conversation: bool
) -> None:
    questions = ["Who did Castillo defeat?", "What was he charged with?"]
    flags = ["--conversation"] if conversation else []
    answers = _json_lines(
        runner.invoke(main, ["batch", "-", *flags, *indexed], input="\n".join(questions))
    )
    assert [a["question"] for a in answers] == questions  # as typed
    borrowed = "What was he charged with? Castillo"
    assert (borrowed in fake.queries) is conversation
    assert (questions[1] in fake.queries) is not conversation


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "unterminated', "line 2: not valid JSON"),
        ('{"id": 3}', 'line 2: no "question" string'),
        ('{"question": 5}', 'line 2: no "question" string'),
        ('{"question": "   "}', 'line 2: no "question" string'),
    ],
)
def test_batch_bad_json_line_is_exit_2(
    runner: CliRunner, fake: FakeEmbedder, indexed: list[str], line: str, message: str
) -> None:
    source = f"{TOMATO_QUESTION}\n{line}\nWhere does basil grow best?\n"
    result = _failed(runner.invoke(main, ["batch", "-", *indexed], input=source), 2)
    error, hint = result.stderr.splitlines()  # one line, and a hint
    assert error.startswith("excerpta: error: ") and message in error
    assert hint.startswith("  hint: ")
    assert fake.queries == []  # nothing was answered before the input was checked


def test_batch_missing_file_is_exit_2(runner: CliRunner, indexed: list[str]) -> None:
    _failed(runner.invoke(main, ["batch", "no-such-file.txt", *indexed]), 2)


# --- search --------------------------------------------------------------------------


def test_search_json_schema_and_values(
    runner: CliRunner, settings: Settings, indexed: list[str]
) -> None:
    result = _json(runner.invoke(main, ["search", "tomatoes basil", "--json", "-k", "3", *indexed]))
    assert set(result) == SEARCH_KEYS
    assert result["query"] == "tomatoes basil"
    assert 1 <= len(result["hits"]) <= 3
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    for hit in result["hits"]:
        assert set(hit) == HIT_KEYS
        document = (settings.corpus / hit["path"]).read_text(encoding="utf-8")
        assert document[hit["char_start"] : hit["char_end"]] == hit["text"]
    assert result["hits"][0]["path"] == "notes/garden.md"


def test_search_human_output(runner: CliRunner, indexed: list[str]) -> None:
    lines = _ok(runner.invoke(main, ["search", "tomatoes basil", *indexed])).stdout.splitlines()
    # The "# Garden" heading is not quoted: it is the passage's heading path.
    assert lines[0].startswith("1. notes/garden.md:3-5  score ")
    assert "    The tomatoes were planted in May." in lines


def test_search_stdin_one_json_line_per_query(runner: CliRunner, indexed: list[str]) -> None:
    queries = "tomatoes planted\n\nsourdough starter\n  bake loaf  \n"
    results = _json_lines(runner.invoke(main, ["search", "-", *indexed], input=queries))
    assert [r["query"] for r in results] == ["tomatoes planted", "sourdough starter", "bake loaf"]
    assert all(set(r) == SEARCH_KEYS for r in results)
    assert [r["hits"][0]["path"] for r in results] == [
        "notes/garden.md",
        "recipes.txt",
        "recipes.txt",
    ]


# --- status --------------------------------------------------------------------------


def test_status_json(runner: CliRunner, settings: Settings, indexed: list[str]) -> None:
    state = _json(runner.invoke(main, ["status", "--json", *indexed]))
    assert set(state) == STATUS_KEYS
    assert state["index_ready"] is True and state["problem"] == ""
    assert state["model"] == "all-MiniLM-L6-v2"
    assert state["files"] == 3 and state["chunks"] > 0
    assert state["stale"] is False
    assert state["changes"] == {"added": 0, "changed": 0, "removed": 0}

    (settings.corpus / "kites.md").write_text("Kites fly in steady wind.\n")
    state = _json(runner.invoke(main, ["status", "--json", *indexed]))
    assert state["stale"] is True
    assert state["changes"] == {"added": 1, "changed": 0, "removed": 0}


def test_status_without_index(runner: CliRunner, fake: FakeEmbedder, where: list[str]) -> None:
    state = _json(runner.invoke(main, ["status", "--json", *where]))
    assert state["index_ready"] is False
    assert "no index" in state["problem"]
    assert state["stale"] is True
    assert state["changes"]["added"] == 3
    text = _ok(runner.invoke(main, ["status", *where])).stdout
    assert text.startswith("index: not usable (no index in")


def test_status_human_output(runner: CliRunner, indexed: list[str]) -> None:
    lines = _ok(runner.invoke(main, ["status", *indexed])).stdout.splitlines()
    assert lines[0].startswith("index: 3 documents, ")
    assert lines[1] == "model: all-MiniLM-L6-v2"
    assert lines[2] == "corpus: up to date (0 new, 0 changed, 0 removed; 0 skipped)"


# --- where settings come from --------------------------------------------------------


def test_environment_variables_locate_corpus_and_index(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCERPTA_CORPUS", str(settings.corpus))
    monkeypatch.setenv("EXCERPTA_INDEX", str(settings.index))
    assert _json(runner.invoke(main, ["index", "--json"]))["added"] == 3
    assert (settings.index / "index.sqlite").is_file()
    answer = _json(runner.invoke(main, ["ask", TOMATO_QUESTION, "--json"]))
    assert TOMATO_ANSWER in answer["answer"]


def test_flags_win_over_environment(
    runner: CliRunner, fake: FakeEmbedder, where: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCERPTA_CORPUS", "/nonexistent/corpus")
    assert _json(runner.invoke(main, ["index", "--json", *where]))["added"] == 3


def _write_config(path: Path, **values: str) -> Path:
    path.write_text("".join(f'{k} = "{v}"\n' for k, v in values.items()), encoding="utf-8")
    return path


def test_config_file_paths_are_relative_to_it(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, tmp_path: Path
) -> None:
    config = _write_config(tmp_path / "excerpta.toml", corpus="corpus", index="index")
    report = _json(runner.invoke(main, ["index", "--json", "--config", str(config)]))
    assert report["added"] == 3
    assert (settings.index / "index.sqlite").is_file()
    answer = _json(runner.invoke(main, ["--config", str(config), "ask", TOMATO_QUESTION, "--json"]))
    assert TOMATO_ANSWER in answer["answer"]


def test_config_file_from_environment_and_cwd(
    runner: CliRunner,
    fake: FakeEmbedder,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _write_config(tmp_path / "cfg.toml", corpus="corpus", index="index")
    monkeypatch.setenv("EXCERPTA_CONFIG", str(config))
    assert _json(runner.invoke(main, ["index", "--json"]))["added"] == 3
    monkeypatch.delenv("EXCERPTA_CONFIG")
    _write_config(Path("excerpta.toml"), corpus=str(settings.corpus), index=str(settings.index))
    assert _json(runner.invoke(main, ["index", "--json"]))["unchanged"] == 3


def test_flags_win_over_config_file(
    runner: CliRunner, fake: FakeEmbedder, settings: Settings, where: list[str], tmp_path: Path
) -> None:
    config = _write_config(
        tmp_path / "excerpta.toml", corpus="missing-corpus", index="other-index", mode="dense"
    )
    report = _json(runner.invoke(main, ["index", "--json", "--config", str(config), *where]))
    assert report["added"] == 3
    assert (settings.index / "index.sqlite").is_file()
    assert not (tmp_path / "other-index").exists()


def test_config_unknown_key_is_exit_2_with_hint(
    runner: CliRunner, fake: FakeEmbedder, where: list[str], tmp_path: Path
) -> None:
    config = _write_config(tmp_path / "excerpta.toml", modle="all-MiniLM-L6-v2")
    result = _failed(runner.invoke(main, ["index", "--config", str(config), *where]), 2)
    assert "unknown setting 'modle'" in result.stderr
    assert "hint: known settings:" in result.stderr and "model" in result.stderr
    assert fake.embedded == []


@pytest.mark.parametrize(
    ("content", "message"),
    [("k = ", "cannot read config file"), ('mode = "fuzzy"\n', "unknown mode 'fuzzy'")],
)
def test_config_bad_content_is_exit_2(
    runner: CliRunner,
    fake: FakeEmbedder,
    where: list[str],
    tmp_path: Path,
    content: str,
    message: str,
) -> None:
    config = tmp_path / "excerpta.toml"
    config.write_text(content, encoding="utf-8")
    result = _failed(runner.invoke(main, ["status", "--config", str(config), *where]), 2)
    assert message in result.stderr
    assert "hint:" in result.stderr


def test_missing_config_file_is_exit_2(
    runner: CliRunner, fake: FakeEmbedder, where: list[str]
) -> None:
    result = _failed(runner.invoke(main, ["status", "--config", "nope.toml", *where]), 2)
    assert "config file not found" in result.stderr


# --- the reader ----------------------------------------------------------------------


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch, fake: FakeEmbedder) -> FakeReader:
    """Every command's Assistant reads with a fake reader that answers "in May"."""
    found = FakeReader("in May")
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(fake), reader=found),
    )
    return found


def test_ask_json_has_the_answer_span(
    runner: CliRunner, settings: Settings, indexed: list[str], reader: FakeReader
) -> None:
    answer = _json(runner.invoke(main, ["ask", TOMATO_QUESTION, "--json", *indexed]))
    assert set(answer) == ANSWER_KEYS
    assert answer["answer"] == f"{TOMATO_ANSWER} [1]"
    span = answer["answer_span"]
    assert set(span) == {"n", "text", "char_start", "char_end"}
    assert (span["n"], span["text"]) == (1, "in May")
    document = (settings.corpus / "notes" / "garden.md").read_text()
    assert document[span["char_start"] : span["char_end"]] == "in May"
    lines = _json_lines(runner.invoke(main, ["batch", "-", *indexed], input=BATCH_INPUT))
    assert lines[0]["answer_span"] == span


def test_reader_off_gives_exactly_the_output_without_a_reader(
    runner: CliRunner, indexed: list[str], reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outputs(*flags: str) -> list[Any]:
        asked = _json(runner.invoke(main, ["ask", TOMATO_QUESTION, "--json", *flags, *indexed]))
        batch = runner.invoke(main, ["batch", "-", *flags, *indexed], input=BATCH_INPUT)
        plain = _ok(runner.invoke(main, ["ask", TOMATO_QUESTION, *flags, *indexed])).stdout
        return [{**a, "elapsed_ms": 0} for a in [asked, *_json_lines(batch)]] + [plain]

    with_reader = outputs()
    reader.pairs.clear()
    off = outputs("--reader", "off")
    assert with_reader != off
    config = _write_config(Path.cwd() / "excerpta.toml")
    config.write_text("reader = false\n", encoding="utf-8")
    from_config = outputs()
    config.unlink()
    assert reader.pairs == []  # off: nothing was read
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder())),
    )
    assert off == from_config == outputs()


def test_plain_output_marks_the_phrase_only_on_a_terminal(
    runner: CliRunner, indexed: list[str], reader: FakeReader
) -> None:
    piped = _ok(runner.invoke(main, ["ask", TOMATO_QUESTION, *indexed])).stdout
    assert piped.splitlines()[0] == f"{TOMATO_ANSWER} [1]"
    assert "\x1b" not in piped
    shown = _ok(runner.invoke(main, ["ask", TOMATO_QUESTION, *indexed], color=True)).stdout
    first = shown.splitlines()[0]
    assert click.unstyle(first) == f"{TOMATO_ANSWER} [1]"
    assert first.startswith("The tomatoes were planted \x1b[1m\x1b[4min May\x1b[0m.")


def test_reader_flag_takes_on_or_off(runner: CliRunner, indexed: list[str]) -> None:
    result = _failed(
        runner.invoke(main, ["ask", TOMATO_QUESTION, "--reader", "maybe", *indexed]), 2
    )
    assert "--reader" in result.stderr


# --- help ----------------------------------------------------------------------------


def test_top_level_help(runner: CliRunner) -> None:
    result = _ok(runner.invoke(main, ["--help"]))
    assert "Ask questions of your own documents, offline." in result.stdout
    for name in ("index", "ask", "batch", "search", "status"):
        assert name in result.stdout
    assert _ok(runner.invoke(main, ["-h"])).stdout == result.stdout


def test_version(runner: CliRunner) -> None:
    from assistant import __version__

    assert _ok(runner.invoke(main, ["--version"])).stdout == f"excerpta, version {__version__}\n"


def test_every_subcommand_has_help(runner: CliRunner) -> None:
    assert isinstance(main, click.Group)
    assert set(main.commands) >= {"index", "ask", "batch", "search", "status"}
    for name, command in main.commands.items():
        result = _ok(runner.invoke(main, [name, "--help"]))
        assert result.stdout.startswith(f"Usage: main {name} ") or result.stdout.startswith(
            f"Usage: excerpta {name} "
        ), name
        summary = (command.help or "").split("\n")[0].strip()
        assert summary and summary in " ".join(result.stdout.split()), name
        if name != "collections":  # lists the user config's collections, whatever the corpus
            assert "--corpus" in result.stdout and "--index" in result.stdout, name


def test_python_dash_m_help() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCERPTA_")}
    completed = subprocess.run(
        [sys.executable, "-m", "assistant", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Usage: excerpta ")
    assert "Ask questions of your own documents, offline." in completed.stdout


@pytest.mark.parametrize(
    "arguments",
    [["ask", "x", "--mode", "fuzzy"], ["ask", "x", "-k", "many"], ["ask"], ["ask", "x", "--nope"]],
)
def test_clicks_usage_errors_are_one_line_and_a_hint(
    runner: CliRunner, where: list[str], arguments: list[str]
) -> None:
    result = runner.invoke(main, [*arguments, *where])
    _failed(result, 2)
    error, hint = result.stderr.splitlines()
    assert error.startswith("excerpta: error: ") and hint == "  hint: see main ask --help"
