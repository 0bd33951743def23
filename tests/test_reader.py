"""The ONNX reader runtime, with a tiny model of the real one's interface: spans mapped
back to characters, long passages read in windows, the SHA-256 check; and the packaged
reader, where the trained model is installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.errors import ModelError
from assistant.reader import onnx_reader, open_reader, reader_folder
from assistant.reader.onnx_reader import _PACKAGED, MODEL
from tests.fakes import write_onnx_reader

PASSAGE = "Castillo was removed from office on Dec. 7, 2022, after a vote in Congress."


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reader that starts answers at "dec" and ends them at "7"; [CLS] scores 1."""
    return write_onnx_reader(tmp_path_factory.mktemp("reader"), ["dec"], ["7"], no_answer=1.0)


def test_spans_map_back_to_the_passage_characters(folder: Path) -> None:
    reader = open_reader(folder)
    assert reader is not None and reader.no_answer_margin == 0.0
    nothing = "The capital was calm all week."
    first, second = reader.read([("When was he removed?", PASSAGE), ("When?", nothing)])
    assert PASSAGE[first.start : first.end] == "Dec. 7"
    assert (first.span_score, first.no_answer_score) == (10.0, 1.0)
    assert first.answers(reader.no_answer_margin)
    assert second.span_score == 0.0 and not second.answers(reader.no_answer_margin)


def test_each_sentence_gets_its_best_span(tmp_path: Path) -> None:
    """Besides the best span, the reader keeps the best of other starts that overlap it
    not, so a sentence that is not the best still shows how well it reads."""
    folder = write_onnx_reader(tmp_path / "r", ["dec", "vote"], ["7", "congress"], no_answer=1.0)
    reader = open_reader(folder)
    assert reader is not None
    passage = "He left on Dec. 7 at noon. The vote was in Congress."
    (reading,) = reader.read([("When?", passage)])
    assert [passage[s.start : s.end] for s in reading.spans[:2]] == [
        "Dec. 7",
        "vote was in Congress",
    ]
    assert (reading.start, reading.end, reading.span_score) == (
        reading.spans[0].start,
        reading.spans[0].end,
        reading.spans[0].score,
    )
    spans = reading.spans
    assert all(a.end <= b.start or b.end <= a.start for a in spans for b in spans if a != b)
    second = passage.index("The vote")
    within = reading.best_within(second, len(passage))
    assert within is not None and passage[within.start : within.end] == "vote was in Congress"
    assert reading.best_within(0, 3) is None  # "He " holds no span start


def test_a_passage_longer_than_the_model_is_read_in_windows(folder: Path) -> None:
    reader = open_reader(folder)
    assert reader is not None
    long = "Nothing of note happened. " * 80 + PASSAGE  # ~400 tokens
    short = "He left on Dec. 7 at noon."
    readings = reader.read([("When?", long), ("When?", short), ("When?", long)])
    assert [p[r.start : r.end] for p, r in zip([long, short, long], readings, strict=True)] == [
        "Dec. 7"
    ] * 3


def test_a_model_that_fails_its_sha256_is_a_model_error(tmp_path: Path) -> None:
    folder = write_onnx_reader(tmp_path / "reader", ["dec"], ["7"], sha256="0" * 64)
    with pytest.raises(ModelError) as raised:
        open_reader(folder)
    assert "SHA-256" in raised.value.message and raised.value.hint


def test_an_altered_tokenizer_is_a_model_error(tmp_path: Path) -> None:
    folder = write_onnx_reader(tmp_path / "reader", ["dec"], ["7"])
    with (folder / "tokenizer.json").open("a") as handle:
        handle.write(" ")
    with pytest.raises(ModelError) as raised:
        open_reader(folder)
    assert "tokenizer.json" in raised.value.message


def test_the_packaged_reader_is_checked_against_the_sha256_pinned_in_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever alters the packaged model can rewrite reader.json beside it too: the
    packaged files are checked against shipped.py's hashes, not reader.json's."""
    folder = write_onnx_reader(tmp_path / "reader", ["dec"], ["7"])
    monkeypatch.setattr(onnx_reader, "_PACKAGED", folder.resolve())
    with pytest.raises(ModelError) as raised:
        open_reader(folder)  # reader.json's hashes match; the pinned ones do not
    assert "ships" in raised.value.message
    info = json.loads((folder / "reader.json").read_text())
    monkeypatch.setattr(onnx_reader, "SHIPPED_SHA256", info["sha256"])
    assert open_reader(folder) is not None


def test_reader_json_without_a_sha256_is_a_model_error(folder: Path, tmp_path: Path) -> None:
    copy = write_onnx_reader(tmp_path / "reader", ["dec"], ["7"])
    info = json.loads((copy / "reader.json").read_text())
    del info["sha256"]
    (copy / "reader.json").write_text(json.dumps(info))
    with pytest.raises(ModelError):
        open_reader(copy)


def test_no_model_file_means_no_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_reader(tmp_path) is None
    monkeypatch.setenv("EXCERPTA_READER_DIR", str(tmp_path))
    assert reader_folder() == tmp_path
    monkeypatch.delenv("EXCERPTA_READER_DIR")
    assert reader_folder() == _PACKAGED


def test_the_assistant_opens_the_reader_folder_by_default(
    folder: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.embedding import Encoders
    from tests.fakes import FakeEmbedder

    monkeypatch.setenv("EXCERPTA_READER_DIR", str(folder))
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    answer = assistant.ask("When was Castillo removed on Dec. 7?")
    assert answer.span is not None and answer.span.text == "Dec. 7"
    assert "removed Castillo on Dec. 7, 2022" in answer.citations[0].sentence


@pytest.mark.model
def test_the_packaged_reader_finds_the_answer_phrase(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (_PACKAGED / MODEL).is_file():
        pytest.skip(f"no trained reader in {_PACKAGED} yet (make train-reader ships it)")
    monkeypatch.delenv("EXCERPTA_READER_DIR", raising=False)
    reader = open_reader()
    assert reader is not None
    passage = (
        "Gen. Laura Richardson, head of the U.S. Southern Command, spoke to the "
        "establishment-oriented Atlantic Council on Jan. 19. In regard to Latin America, "
        "she mentioned rare earth elements."
    )
    heads, when, missing = reader.read(
        [
            ("Who heads the U.S. Southern Command?", passage),
            ("When did Richardson speak to the Atlantic Council?", passage),
            ("What is the capital of Norway?", passage),
        ]
    )
    margin = reader.no_answer_margin
    assert "Laura Richardson" in passage[heads.start : heads.end] and heads.answers(margin)
    assert "Jan. 19" in passage[when.start : when.end] and when.answers(margin)
    assert not missing.answers(margin)
