"""`excerpta eval` and the metrics behind it, with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.embedding import Encoders
from assistant.errors import UsageError
from assistant.evaluation import (
    contains_answer,
    exact_match,
    f1,
    normalize,
    read_cases,
    read_questions,
    run_cases,
    summarize,
)
from tests.fakes import FakeEmbedder, FakeReader


def test_normalize_follows_squad() -> None:
    assert normalize("The  U.S. Southern-Command!") == "us southerncommand"
    assert contains_answer("It was built in 1889, by them.", ["1889"])
    assert not contains_answer("It was built in 18890.", ["1889"])


def test_read_cases_checks_each_line() -> None:
    cases = read_cases(
        ['{"question": "Q?", "answers": ["a"], "source": "x.txt"}', "", '{"question": "R"}']
    )
    assert [c.question for c in cases] == ["Q?", "R"]
    assert cases[0].answers == ("a",) and cases[1].source is None
    with pytest.raises(UsageError, match="line 1"):
        read_cases(['{"answers": []}'])
    with pytest.raises(UsageError, match="line 2"):
        read_cases(['{"question": "ok"}', "not json"])


def test_read_questions_takes_text_or_json_lines() -> None:
    lines = ["  Where? \n", "\n", '{"question": " Who? ", "id": 3}\n', "{plain} braces?"]
    with pytest.raises(UsageError, match="line 4: not valid JSON"):
        read_questions(lines)
    assert read_questions(lines[:3]) == ["Where?", "Who?"]
    with pytest.raises(UsageError, match='line 2: no "question" string') as raised:
        read_questions(["Why?", '{"question": 5}'])
    assert "a question, or" in raised.value.hint


@pytest.fixture
def built(settings: Settings) -> Assistant:
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    return assistant


def test_metrics_count_ranks_and_answers(built: Assistant) -> None:
    cases = read_cases(
        [
            json.dumps(
                {
                    "question": "When were the tomatoes planted?",
                    "answers": ["May"],
                    "source": "notes/garden.md",
                }
            ),
            json.dumps(
                {
                    "question": "How hot should I bake the loaf?",
                    "answers": ["230 degrees"],
                    "source": "recipes.txt",
                }
            ),
            json.dumps(
                {
                    "question": "Where do penguins live?",
                    "answers": ["Antarctica"],
                    "source": "missing.txt",
                }
            ),
        ]
    )
    results = run_cases(built, cases, mode="hybrid")
    assert [r.rank for r in results][:2] == [1, 1]
    assert results[2].rank is None
    summary = summarize(results)
    assert summary["recall@1"] == pytest.approx(2 / 3)
    assert summary["mrr@10"] == pytest.approx(2 / 3)
    assert summary["answer_hit@1"] == pytest.approx(2 / 3)
    assert summary["questions"] == 3


def test_eval_command_prints_all_modes(built: Assistant, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder())),
    )
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"question": "basil sun", "source": "notes/garden.md"}) + "\n")
    where = ["--corpus", str(built.settings.corpus), "--index", str(built.settings.index)]
    result = CliRunner().invoke(main, ["eval", str(cases), "--json", *where])
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert set(table) == {"hybrid", "dense", "lexical"}
    assert table["hybrid"]["recall@1"] == 1.0 and table["hybrid"]["answer_hit@1"] is None
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = CliRunner().invoke(main, ["eval", str(bad), *where])
    assert result.exit_code == 2 and "line 1" in result.stderr and "hint:" in result.stderr


def test_squad_exact_match_and_f1() -> None:
    assert exact_match("the Denver Broncos", ["Denver Broncos"])
    assert not exact_match("Broncos", ["Denver Broncos"])
    assert f1("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert f1("Carolina Panthers", ["Denver Broncos", "Panthers"]) == pytest.approx(2 / 3)
    assert f1("", ["Denver Broncos"]) == 0.0


def test_eval_scores_the_reader_phrase_and_reader_off_leaves_it_out(
    built: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = FakeReader("full sun")
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder()), reader=reader),
    )
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"question": "Where does basil grow best?", "answers": ["full sun"]},
        {"question": "Where does basil grow?", "answers": ["in full sun and shade"]},
    ]
    cases.write_text("".join(json.dumps(line) + "\n" for line in lines))
    where = ["--corpus", str(built.settings.corpus), "--index", str(built.settings.index)]
    on = CliRunner().invoke(main, ["eval", str(cases), "--json", "--mode", "hybrid", *where])
    assert on.exit_code == 0, on.stderr
    row = json.loads(on.stdout)["hybrid"]
    assert row["span_em"] == pytest.approx(0.5)
    assert row["span_f1"] == pytest.approx((1 + 2 * (2 / 5) / (1 + 2 / 5)) / 2)
    shown = CliRunner().invoke(main, ["eval", str(cases), "--mode", "hybrid", *where])
    assert "span_em" in shown.stdout.splitlines()[0]
    args = ["eval", str(cases), "--json", "--mode", "hybrid", "--reader", "off", *where]
    off = CliRunner().invoke(main, args)
    assert json.loads(off.stdout)["hybrid"]["span_em"] is None
