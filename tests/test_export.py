"""The ONNX encoder: exported once per machine into a cache, copied into each index.

The tests that export are marked `model` (the export loads torch: ~10 s once per test
session; the session has its own cache, see conftest.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.embedding import Encoders
from assistant.embedding.export import (
    RECIPE,
    cache_dir,
    cached_encoder_dir,
    encoder_dir,
    ensure_encoder,
    has_encoder,
)
from assistant.embedding.onnx_runtime import QUANTIZED, OnnxEmbedder
from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder
from assistant.indexing import update_index
from assistant.store.commits import read_manifest
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

TEXTS = ["When was Castillo removed from office?", "Basil grows best in full sun."]


def test_the_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCERPTA_CACHE_DIR", "/somewhere/else")
    assert cache_dir() == Path("/somewhere/else")
    monkeypatch.delenv("EXCERPTA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cache_dir() == Path("/xdg/excerpta")


def test_an_update_with_nothing_to_embed_opens_no_encoder(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(settings, Encoders.single(FakeEmbedder(), f"onnx-int8 r{RECIPE}"))
    opened: list[bool] = []

    def spy(*args: object, **kwargs: object) -> Encoders:
        opened.append(True)
        return Encoders.single(FakeEmbedder())

    monkeypatch.setattr("assistant.core.open_encoders", spy)
    report = Assistant(settings).update_index()  # the real default: nothing changed
    assert report.unchanged == 3 and opened == []


@pytest.mark.model
def test_the_export_is_made_once_and_reused_without_the_model(tmp_path: Path) -> None:
    first = SentenceTransformerEmbedder()
    folder = ensure_encoder(tmp_path / "index-a", first)
    assert folder == encoder_dir(tmp_path / "index-a", first.name)
    assert (folder / QUANTIZED).is_file()
    assert json.loads((folder / "encoder.json").read_text())["recipe"] == RECIPE
    assert (cached_encoder_dir(first) / QUANTIZED).is_file()
    # A second index on the same machine copies the cached export: no model, no torch.
    second = SentenceTransformerEmbedder()
    (tmp_path / "index-b").mkdir()
    copied = ensure_encoder(tmp_path / "index-b", second)
    assert copied is not None and has_encoder(tmp_path / "index-b", second.name)
    assert second._model is None
    full = OnnxEmbedder(copied).embed_queries(TEXTS)
    quick = OnnxEmbedder(copied, model_file=QUANTIZED).embed_queries(TEXTS)
    reference = first.embed_queries(TEXTS)
    assert np.min(np.sum(full * reference, axis=1)) > 0.999
    assert np.min(np.sum(quick * reference, axis=1)) > 0.98


@pytest.mark.model
def test_an_export_of_an_older_recipe_is_replaced(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder()
    folder = ensure_encoder(tmp_path / "index", embedder)
    assert folder is not None
    info = json.loads((folder / "encoder.json").read_text())
    info["recipe"] = RECIPE - 1
    (folder / "encoder.json").write_text(json.dumps(info))
    (folder / QUANTIZED).unlink()
    assert ensure_encoder(tmp_path / "index", embedder) == folder
    assert json.loads((folder / "encoder.json").read_text())["recipe"] == RECIPE
    assert (folder / QUANTIZED).is_file()


@pytest.mark.model
def test_without_a_writable_cache_the_export_goes_into_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("EXCERPTA_CACHE_DIR", str(blocker))
    (tmp_path / "index").mkdir()
    folder = ensure_encoder(tmp_path / "index", SentenceTransformerEmbedder())
    assert folder is not None and (folder / QUANTIZED).is_file()
    assert blocker.read_text().startswith("a file")


@pytest.mark.model
def test_documents_are_embedded_with_the_int8_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[str] = []
    original = OnnxEmbedder.embed_documents

    def spy(self: OnnxEmbedder, texts: list[str]) -> np.ndarray:
        used.append(self.model_file)
        return original(self, texts)

    monkeypatch.setattr(OnnxEmbedder, "embed_documents", spy)
    (tmp_path / "corpus").mkdir()
    shutil.copy(SAMPLE, tmp_path / "corpus" / SAMPLE.name)
    assistant = Assistant(Settings(corpus=tmp_path / "corpus", index=tmp_path / "index"))
    report = assistant.update_index()
    assert report.chunks_embedded > 5
    assert used and set(used) == {QUANTIZED}


@pytest.mark.model
def test_the_manifest_names_the_encoder_that_really_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that fails leaves sentence-transformers embedding the documents: the
    manifest must say so, and a later export that works must rebuild, not mix vectors."""
    monkeypatch.setenv("EXCERPTA_CACHE_DIR", str(tmp_path / "cache"))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the export failed")

    monkeypatch.setattr("assistant.embedding.export._export", broken)
    (tmp_path / "corpus").mkdir()
    shutil.copy(SAMPLE, tmp_path / "corpus" / SAMPLE.name)
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    Assistant(settings).update_index()
    assert read_manifest(settings.index)["document_encoder"] == "sentence-transformers"

    monkeypatch.undo()
    monkeypatch.setenv("EXCERPTA_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "corpus" / "note.txt").write_text("The harbour opens at dawn.\n")
    report = Assistant(settings).update_index()
    assert "encoder" in report.rebuilt_because
    assert read_manifest(settings.index)["document_encoder"] == f"onnx-int8 r{RECIPE}"
