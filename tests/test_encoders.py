"""open_encoders walks the fallback chain once, and names what it built."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embedding import Encoders, open_encoders
from assistant.embedding.encoders import SENTENCE_TRANSFORMERS, in_background
from assistant.embedding.export import encoder_dir
from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder
from tests.fakes import FakeEmbedder


def test_without_an_export_the_model_itself_serves_and_says_so(tmp_path: Path) -> None:
    encoders = open_encoders("all-MiniLM-L6-v2", tmp_path / "index")
    assert encoders.label == SENTENCE_TRANSFORMERS
    assert isinstance(encoders.passages, SentenceTransformerEmbedder)
    assert encoders.queries is encoders.passages


def test_a_damaged_export_falls_back_to_the_model(tmp_path: Path) -> None:
    folder = encoder_dir(tmp_path / "index", "all-MiniLM-L6-v2")
    folder.mkdir(parents=True)
    (folder / "encoder.json").write_text('{"model": "all-MiniLM-L6-v2"}')  # no ONNX files
    encoders = open_encoders("all-MiniLM-L6-v2", tmp_path / "index")
    assert encoders.label == SENTENCE_TRANSFORMERS
    assert isinstance(encoders.passages, SentenceTransformerEmbedder)


def test_a_single_embedder_serves_both_and_is_labelled() -> None:
    fake = FakeEmbedder()
    assert Encoders.single(fake, "fake").label == "fake"
    both = Encoders.single(fake)
    assert both.queries is fake and both.passages is fake and both.label == fake.name


def test_loading_in_the_background_raises_its_error_where_used() -> None:
    def broken() -> FakeEmbedder:
        raise RuntimeError("no model here")

    future = in_background(broken)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="no model here"):
            future.result(timeout=10)
    assert in_background(FakeEmbedder).result(timeout=10).dimension() == 256


@pytest.mark.model
def test_an_update_opens_only_the_document_encoder(tmp_path: Path) -> None:
    """Indexing embeds documents only: no full-precision session for questions."""
    from assistant.embedding.onnx_runtime import QUANTIZED, OnnxEmbedder

    for_update = open_encoders("all-MiniLM-L6-v2", tmp_path / "index", for_indexing=True)
    assert isinstance(for_update.passages, OnnxEmbedder)
    assert for_update.passages.model_file == QUANTIZED
    assert for_update.queries is for_update.passages
    for_questions = open_encoders("all-MiniLM-L6-v2", tmp_path / "index")
    assert isinstance(for_questions.queries, OnnxEmbedder)
    assert for_questions.queries.model_file != QUANTIZED
    assert for_questions.label == for_update.label
