"""Tests for languages as data: detection, per-language analysers, sentences, answer
kinds, and a corpus of several languages indexed and searched (fake embedder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer_kinds import answer_kinds
from assistant.config import LANGUAGES, Settings, load_settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import ConfigError
from assistant.text import language
from assistant.text.analysers import analyser_for, bigrams
from assistant.text.language import detect, question_language
from assistant.text.sentences import sentence_spans
from assistant.text.terms import bm25_tokenize, tokenize

from .fakes import FakeEmbedder

GERMAN = (
    "Die Berliner Mauer wurde im August 1961 von der Regierung der DDR gebaut. Sie trennte "
    "West-Berlin von Ost-Berlin und dem Umland, bis sie im November 1989 geöffnet wurde."
)
CHINESE = "柏林圍牆是德意志民主共和國政府於1961年建造的圍牆。它在1989年11月倒塌，東西德隨後統一。"
JAPANESE = (
    "ベルリンの壁は1961年に東ドイツ政府によって建設された。"
    "1989年11月に崩壊し、翌年ドイツは統一された。"
)
ARABIC = (
    "بُني جدار برلين في عام 1961 من قبل حكومة ألمانيا الشرقية. "
    "وسقط الجدار في عام 1989 وتوحدت ألمانيا بعد ذلك."
)
ENGLISH = (
    "The harbour master keeps the tide tables for the northern pier and publishes them every "
    "spring, together with the fees for mooring and the rules for pilots."
)


def test_the_languages_setting_list_is_py3langids() -> None:
    assert language._model().labels and set(language._model().labels) == LANGUAGES


@pytest.mark.parametrize(
    ("text", "code"),
    [(GERMAN, "de"), (CHINESE, "zh"), (JAPANESE, "ja"), (ARABIC, "ar"), (ENGLISH, "en")],
)
def test_documents_are_detected(text: str, code: str) -> None:
    assert detect(text) == code


def test_too_little_text_has_no_language() -> None:
    assert detect("Q3 2024: 1,200") == "" and detect("") == ""


def test_a_question_is_read_in_one_of_the_indexed_languages() -> None:
    assert question_language("Who?", []) == "en"
    assert question_language("Wer ist das?", ["de"]) == "de"  # one language: no model
    assert question_language("柏林圍牆是什麼時候建的？", ["de", "zh", "en"]) == "zh"
    assert question_language("ベルリンの壁はいつ建てられましたか", ["ja", "zh"]) == "ja"
    assert question_language("Wann wurde die Mauer gebaut?", ["en", "de"]) == "de"
    assert question_language("When was the wall built?", ["en", "de"]) == "en"
    # Never a language nobody indexed, however the question reads.
    assert question_language("¿Cuándo se construyó el muro?", ["en", "de"]) in ("en", "de")


def test_english_text_keeps_bm25s_tokens() -> None:
    texts = ["The cats were running", "Dogs ran"]
    expected = [list(t) for t in bm25_tokenize(texts, return_ids=False)]
    assert tokenize(texts) == tokenize(texts, "en") == tokenize(texts, "") == expected


def test_german_is_stemmed_without_its_stopwords() -> None:
    assert tokenize(["Die Städte und die Mauern"], "de") == [["stadt", "mau"]]
    assert tokenize(["Mauer"], "de") == tokenize(["Mauern"], "de")


def test_cjk_text_becomes_character_bigrams() -> None:
    assert bigrams("柏林圍牆") == ["柏林", "林圍", "圍牆"] and bigrams("壁") == ["壁"]
    assert tokenize(["柏林圍牆於1961年"], "zh") == [["柏林", "林圍", "圍牆", "牆於", "1961", "年"]]
    # Han in a German document is bigrams too, in the text's order.
    assert tokenize(["Die Mauer 柏林圍牆 fiel"], "de") == [["mau", "柏林", "林圍", "圍牆", "fiel"]]


def test_arabic_is_normalized_before_stemming() -> None:
    analyse = analyser_for("ar")
    assert analyse is not None
    assert analyse("أحمد") == analyse("احمد")  # one alef
    assert analyse("مَدْرَسَة") == analyse("مدرسه")  # no diacritics, ta marbuta folded


def test_languages_without_a_stemmer_keep_their_words() -> None:
    assert tokenize(["Привет мир"], "uk") == [["привет", "мир"]]


def test_one_language_per_text_or_none() -> None:
    with pytest.raises(ValueError, match="one language per text"):
        tokenize(["a", "b"], ["de"])


def test_sentences_end_at_cjk_full_stops() -> None:
    spans = sentence_spans(JAPANESE, language="ja")
    assert [JAPANESE[a:b] for a, b in spans] == [
        "ベルリンの壁は1961年に東ドイツ政府によって建設された。",
        "1989年11月に崩壊し、翌年ドイツは統一された。",
    ]
    spans = sentence_spans(CHINESE, language="zh")
    assert len(spans) == 2


@pytest.mark.parametrize(
    ("question", "code", "holds", "lacks"),
    [
        ("Wann wurde die Mauer gebaut?", "de", "Sie wurde 1961 gebaut.", "Sie war lang."),
        ("Wie viele Menschen starben?", "de", "Es waren 140 Menschen.", "Es waren viele."),
        ("柏林圍牆是什麼時候建的？", "zh", "於1961年建造。", "它很長。"),
        ("ベルリンの壁はいつ建てられましたか", "ja", "1961年に建設された。", "長い壁だった。"),
        ("متى بني جدار برلين؟", "ar", "في عام 1961.", "كان طويلا."),
        ("When was it built?", "en", "It was built in 1961.", "It was long."),
        ("Когда была построена стена?", "ru", "Её построили в 1961 году.", "Она была длинной."),
        ("Сколько лет стояла стена?", "ru", "Она стояла 28 лет.", "Она стояла долго."),
        ("In che anno fu costruito il muro?", "it", "Nel 1961.", "Era lungo."),
        ("Quantos anos durou o muro?", "pt", "Durou 28 anos.", "Durou muito."),
        ("Wanneer werd de muur gebouwd?", "nl", "In 1961.", "Hij was lang."),
    ],
)
def test_answer_kinds_in_each_language(question: str, code: str, holds: str, lacks: str) -> None:
    kinds = answer_kinds(question, code)
    assert kinds and all(k(holds, question) for k in kinds)
    assert not any(k(lacks, question) for k in kinds)


def test_a_language_setting_must_be_known(tmp_path: Path) -> None:
    assert load_settings({"language": "de"}).language == "de"
    with pytest.raises(ConfigError, match="unknown language 'german'") as caught:
        load_settings({"language": "german"})
    assert "ISO 639-1" in caught.value.hint


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "mauer.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "qiang.txt").write_text(CHINESE, encoding="utf-8")
    (folder / "kabe.txt").write_text(JAPANESE, encoding="utf-8")
    (folder / "harbour.txt").write_text(ENGLISH, encoding="utf-8")
    return folder


def test_a_corpus_of_several_languages_is_searched_in_each(tmp_path: Path) -> None:
    settings = Settings(corpus=_corpus(tmp_path / "corpus"), index=tmp_path / "index")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    report = assistant.update_index()
    assert report.languages == {"de": 1, "en": 1, "ja": 1, "zh": 1}
    status = assistant.status()
    assert status.languages == report.languages and status.to_json()["languages"]
    asked = {
        "Wann wurde die Berliner Mauer gebaut?": ("mauer.txt", "de"),
        "柏林圍牆是什麼時候倒塌的？": ("qiang.txt", "zh"),
        "ベルリンの壁はいつ崩壊しましたか": ("kabe.txt", "ja"),
        "Who publishes the tide tables?": ("harbour.txt", "en"),
    }
    for question, (path, code) in asked.items():
        hits = assistant.search(question, mode="lexical").hits
        assert hits and hits[0].chunk.path == path, question
        assert hits[0].chunk.language == code


def test_the_language_setting_overrides_detection_and_rebuilds(tmp_path: Path) -> None:
    settings = Settings(corpus=_corpus(tmp_path / "corpus"), index=tmp_path / "index")
    Assistant(settings, encoders=Encoders.single(FakeEmbedder())).update_index()
    forced = replace(settings, language="de")
    assistant = Assistant(forced, encoders=Encoders.single(FakeEmbedder()))
    assert "language" in assistant.status().problem
    report = assistant.update_index()
    assert report.rebuilt_because and report.languages == {"de": 4}


def test_mostly_foreign_documents_get_advice(tmp_path: Path) -> None:
    settings = Settings(corpus=_corpus(tmp_path / "corpus"), index=tmp_path / "index")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    advice = assistant.status().language_advice()
    assert advice is not None and "3 of 4 documents are not in English, which is all" in advice[0]
    assert 'set model = "auto"' in advice[1]  # the model was given: fake encoders
    english = replace(assistant.status(), languages={"en": 9, "de": 1})
    assert english.language_advice() is None


def test_plain_english_needs_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model() -> None:
        raise AssertionError("the language model was loaded")

    monkeypatch.setattr(language, "_model", no_model)
    assert detect(ENGLISH * 3) == "en"
    with pytest.raises(AssertionError, match="was loaded"):
        detect(GERMAN * 3)  # other languages are the model's to tell


RUSSIAN = (
    "Берлинская стена была построена в августе 1961 года правительством ГДР. Она "
    "разделяла Западный и Восточный Берлин двадцать восемь лет, пока не пала в ноябре "
    "1989 года."
)


def test_russian_is_detected_stemmed_and_split(tmp_path: Path) -> None:
    """No Russian tuning set is at hand: the pipeline is checked on its parts."""
    assert detect(RUSSIAN * 2) == "ru"
    assert tokenize(["Когда построили Берлинскую стену?"], "ru")[0][:3] == [
        "постро",
        "берлинск",
        "стен",
    ]
    assert len(sentence_spans(RUSSIAN, 0, len(RUSSIAN), language="ru")) == 2
    corpus = _corpus(tmp_path / "corpus")
    (corpus / "stena.txt").write_text(RUSSIAN * 2, encoding="utf-8")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assert assistant.update_index().languages["ru"] == 1
    hits = assistant.search("Когда построили Берлинскую стену?", mode="lexical").hits
    assert hits[0].chunk.path == "stena.txt" and hits[0].chunk.language == "ru"
