"""Questions of any length: cut to what the models read, answered, and said so; a model
runtime's failure is a ModelError with a hint, never a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.embedding import Encoders
from assistant.errors import AssistantError, ModelError, model_errors
from assistant.questions import cut_to_tokens, fit_question
from assistant.reader import open_reader
from assistant.records import TRUNCATED
from tests.fakes import QUESTION_WORDS, FakeEmbedder, FakeReader, write_onnx_reader

TOMATOES = "When were the tomatoes planted?"
# A pasted page of 350 words, more than the models read, that asks about tomatoes.
PASTED = " ".join([TOMATOES] * 70)


def _words(texts: Sequence[str]) -> list[int]:
    return [len(text.split()) for text in texts]


# --- cutting -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.sampled_from("ab \n\u200f\t"), max_size=300),
    limit=st.integers(min_value=1, max_value=40),
)
def test_a_cut_is_the_longest_prefix_that_fits(text: str, limit: int) -> None:
    cut = cut_to_tokens(text, limit, _words)
    assert text.startswith(cut)
    assert _words([cut])[0] <= limit
    if cut != text:  # nothing longer that ends a word fits
        ends = [m.end() for m in re.finditer(r"\S(?=\s|$)", text)]
        assert all(end <= len(cut) or _words([text[:end]])[0] > limit for end in ends)


def test_a_single_word_over_the_limit_is_cut_inside_it() -> None:
    def letters(texts: Sequence[str]) -> list[int]:
        return [len(text) for text in texts]

    assert cut_to_tokens("x" * 100_000, 7, letters) == "x" * 7


def test_a_short_question_is_left_as_it_is() -> None:
    fitted = fit_question(TOMATOES, FakeEmbedder(), FakeReader())
    assert (fitted.searched, fitted.read, fitted.truncated) == (TOMATOES, TOMATOES, False)


def test_a_long_question_is_cut_for_search_and_further_for_the_reader() -> None:
    question = " ".join(["word"] * 1000)
    fitted = fit_question(question, FakeEmbedder(max_tokens=254), FakeReader())
    assert len(fitted.searched.split()) == 254 and len(fitted.read.split()) == QUESTION_WORDS
    assert fitted.truncated and fitted.asked == question


# --- answering -----------------------------------------------------------------------


@pytest.fixture
def reading(settings: Settings) -> tuple[Assistant, FakeReader]:
    reader = FakeReader()
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()), reader=reader)
    assistant.update_index()
    return assistant, reader


def test_a_pasted_page_is_answered_from_its_first_part_and_says_so(
    reading: tuple[Assistant, FakeReader],
) -> None:
    assistant, reader = reading
    answer = assistant.ask(PASTED)
    assert answer.question_truncated and answer.question == PASTED
    assert answer.to_json()["question_truncated"] is True
    assert "The tomatoes were planted in May." in answer.text
    assert all(len(q.split()) <= QUESTION_WORDS for q, _ in reader.pairs)
    assert assistant.ask(TOMATOES).question_truncated is False


def test_a_search_query_is_cut_and_says_so(reading: tuple[Assistant, FakeReader]) -> None:
    result = reading[0].search(" ".join(["sourdough"] * 400))
    assert result.query_truncated and result.to_json()["query_truncated"] is True
    assert result.hits[0].chunk.path == "recipes.txt"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> list[str]:
    """Location flags of an indexed corpus whose commands read with ``FakeReader``."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(embedder), reader=FakeReader()),
    )
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    assert CliRunner().invoke(main, ["index", *where]).exit_code == 0
    return where


def test_cli_ask_and_batch_say_a_question_was_cut(cli: list[str]) -> None:
    runner = CliRunner()
    asked = runner.invoke(main, ["ask", PASTED, "--json", *cli])
    assert asked.exit_code == 0, asked.stderr
    assert json.loads(asked.stdout)["question_truncated"] is True
    assert asked.stderr == f"excerpta: note: {TRUNCATED}\n"

    lines = f"{TOMATOES}\n{json.dumps({'question': PASTED})}\n"
    batch = runner.invoke(main, ["batch", "-", *cli], input=lines)
    assert batch.exit_code == 0, batch.stderr
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["question_truncated"] for a in answers] == [False, True]
    assert batch.stderr == f"excerpta: note: question 2: {TRUNCATED}\n"


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_is_still_a_usage_error(cli: list[str], question: str) -> None:
    result = CliRunner().invoke(main, ["ask", question, *cli])
    assert result.exit_code == 2 and "Traceback" not in result.stderr


# --- the real tokenizer --------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_onnx_reader(tmp_path_factory.mktemp("reader"), ["may"], ["may"], no_answer=1.0)


@pytest.mark.parametrize("words", [190, 230, 5_000])
def test_the_onnx_reader_reads_a_question_of_any_length(onnx_folder: Path, words: int) -> None:
    """~190 word pieces made the tokenizer panic, ~230 raised a truncation error: the
    question left the passage no room beside the stride."""
    reader = open_reader(onnx_folder)
    assert reader is not None
    question = "When were they planted? " + "tomato " * words
    fitted = reader.fit_question(question)
    assert question.startswith(fitted) and len(fitted.split()) <= 64
    passage = "The tomatoes were planted in May. " * 20
    (reading,) = reader.read([(question, passage)])
    assert passage[reading.start : reading.end] == "May"


def test_a_question_of_exactly_the_limit_is_not_cut(onnx_folder: Path) -> None:
    reader = open_reader(onnx_folder)
    assert reader is not None
    question = " ".join(["tomato"] * 64)  # one word piece each
    assert reader.fit_question(question) == question
    assert reader.fit_question(question + " tomato") == question


def test_a_model_runtime_failure_is_a_model_error(onnx_folder: Path, tmp_path: Path) -> None:
    """A model whose inputs don't match reader.json fails inside onnxruntime."""
    folder = write_onnx_reader(tmp_path / "reader", ["may"], ["may"])
    info = json.loads((folder / "reader.json").read_text())
    info["inputs"] = ["input_ids", "attention_mask", "token_type_ids", "position_ids"]
    (folder / "reader.json").write_text(json.dumps(info))
    reader = open_reader(folder)
    assert reader is not None
    with pytest.raises(ModelError) as raised:
        reader.read([("When?", "In May.")])
    assert "the reader model failed" in raised.value.message and raised.value.hint


class Panic(BaseException):
    """What pyo3 raises for a panic in Rust code: a BaseException, not an Exception."""


@pytest.mark.parametrize("raised", [Panic("index out of bounds"), RuntimeError("boom"), Panic()])
def test_model_errors_become_model_errors_with_a_hint(raised: BaseException) -> None:
    with pytest.raises(ModelError) as caught, model_errors("the tokenizer", "reinstall"):
        raise raised
    assert caught.value.message.startswith("the tokenizer failed: ")
    assert caught.value.hint == "reinstall" and caught.value.__cause__ is raised


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), AssistantError("mine")])
def test_model_errors_let_interrupts_and_own_errors_through(raised: BaseException) -> None:
    with pytest.raises(type(raised)), model_errors("the tokenizer", "reinstall"):
        raise raised


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("\x1b[31mWhen were the tomatoes planted?\x1b[0m", "When were the tomatoes planted?"),
        ("\x1b]0;title\x07When?", "When?"),
        ("When\x00were\x08the\x7ftomatoes\x9bplanted?", "When were the tomatoes planted?"),
        ("When?\u200f\n", "When?\u200f"),  # a right-to-left mark is text: kept
    ],
)
def test_escape_codes_and_control_characters_are_not_read(typed: str, read: str) -> None:
    fitted = fit_question(typed, FakeEmbedder(), FakeReader())
    assert (fitted.searched, fitted.read, fitted.truncated) == (read, read, False)
