"""The Assistant: answering in batches, reloading after updates, opening encoders once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant import core
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders, Vectors
from assistant.errors import IndexMismatchError
from assistant.indexing import update_index
from tests.fakes import FakeEmbedder

# Questions of the fixture corpus, and the sentence that answers each.
ANSWERS = {
    "When were the tomatoes planted?": "The tomatoes were planted in May.",
    "Where does basil grow best?": "Basil grows best in full sun.",
    "What does sourdough bread need?": "Sourdough bread needs a starter fed with flour and water.",
}
HERON = "The grey heron nests beside the river every April."


class BatchEmbedder(FakeEmbedder):
    """Also records the size of each batch of queries."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(len(texts))
        return super().embed_queries(texts)


@pytest.fixture
def embedder() -> BatchEmbedder:
    return BatchEmbedder()


@pytest.fixture
def built(settings: Settings, embedder: BatchEmbedder) -> Assistant:
    """An assistant over the indexed fixture corpus; the embedder's records are cleared."""
    assistant = Assistant(settings, encoders=Encoders.single(embedder))
    assistant.update_index()
    embedder.embedded.clear()
    embedder.queries.clear()
    return assistant


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each opening of the default encoders (its ``for_indexing`` flag); they embed with a
    fake."""
    calls: list[bool] = []

    def counting(
        model: str, index_dir: Path, *, for_indexing: bool = False, **_: object
    ) -> Encoders:
        calls.append(for_indexing)
        return Encoders.single(FakeEmbedder())

    monkeypatch.setattr(core, "open_encoders", counting)
    return calls


def _add_heron(settings: Settings) -> None:
    (settings.corpus / "birds.txt").write_text(f"{HERON}\n")


# --- asking --------------------------------------------------------------------------


def test_ask_cites_the_sentence_that_answers(built: Assistant) -> None:
    answer = built.ask("When were the tomatoes planted?")
    assert not answer.abstained
    assert answer.citations[0].sentence == "The tomatoes were planted in May."
    assert answer.citations[0].path == "notes/garden.md"


def test_ask_many_answers_each_question_in_order(built: Assistant) -> None:
    questions = list(ANSWERS)
    answers = built.ask_many(questions)
    assert [a.question for a in answers] == questions
    assert [a.citations[0].sentence for a in answers] == list(ANSWERS.values())
    assert built.ask_many([]) == []


def test_ask_all_batches_a_stream_and_keeps_order_and_count(
    built: Assistant, embedder: BatchEmbedder
) -> None:
    questions = [list(ANSWERS)[i % len(ANSWERS)] for i in range(core.QUESTION_BATCH + 5)]
    answers = list(built.ask_all(iter(questions)))
    assert [a.question for a in answers] == questions
    assert [a.citations[0].sentence for a in answers] == [ANSWERS[q] for q in questions]
    assert embedder.batches == [core.QUESTION_BATCH, 5]


def test_search_all_batches_a_stream_and_keeps_order_and_count(
    built: Assistant, embedder: BatchEmbedder
) -> None:
    queries = ["tomatoes planted", "sourdough flour", "basil sun"] * core.QUESTION_BATCH
    results = list(built.search_all(iter(queries), k=2))
    assert [r.query for r in results] == queries
    expected = {"tomatoes planted": "notes/garden.md", "sourdough flour": "recipes.txt"}
    expected["basil sun"] = "notes/garden.md"
    assert [r.hits[0].chunk.path for r in results] == [expected[q] for q in queries]
    assert all(len(r.hits) == 2 for r in results)
    assert embedder.batches == [core.QUESTION_BATCH] * 3


def test_a_repeated_sentence_is_embedded_once_across_questions(
    built: Assistant, embedder: BatchEmbedder
) -> None:
    built.ask("When were the tomatoes planted?")
    first = list(embedder.embedded)
    assert "The tomatoes were planted in May." in first
    answer = built.ask("In which month were the tomatoes planted?")
    assert answer.citations[0].sentence == "The tomatoes were planted in May."
    assert embedder.embedded.count("The tomatoes were planted in May.") == 1
    assert len(embedder.embedded) == len(set(embedder.embedded))
    built.ask("When were the tomatoes planted?")
    assert len(embedder.embedded) == len(set(embedder.embedded))  # nothing embedded again


# --- the index -----------------------------------------------------------------------


def test_update_index_then_ask_answers_from_the_new_file(
    built: Assistant, settings: Settings
) -> None:
    assert built.ask("Where does the heron nest?").abstained
    _add_heron(settings)
    report = built.update_index()
    assert report.added == ["birds.txt"]
    answer = built.ask("Where does the heron nest?")
    assert not answer.abstained
    assert answer.citations[0].path == "birds.txt"
    assert answer.citations[0].sentence == HERON


def test_reload_picks_up_an_update_made_elsewhere(built: Assistant, settings: Settings) -> None:
    assert built.search("heron nests river").hits  # opens the index
    _add_heron(settings)
    update_index(settings, Encoders.single(FakeEmbedder()))  # another process, say
    paths = {h.chunk.path for h in built.search("heron nests river", k=10).hits}
    assert "birds.txt" not in paths  # the opened index is kept until reload
    built.reload()
    assert built.search("heron nests river", k=10).hits[0].chunk.path == "birds.txt"


def test_an_index_built_with_other_settings_raises_with_a_hint(
    built: Assistant, settings: Settings, embedder: BatchEmbedder
) -> None:
    other = dataclasses.replace(settings, chunk_tokens=settings.chunk_tokens * 2)
    with pytest.raises(IndexMismatchError) as info:
        Assistant(other, encoders=Encoders.single(embedder)).ask("Where does basil grow best?")
    assert "chunking" in info.value.message
    assert "excerpta index" in info.value.hint


# --- opening the encoders ------------------------------------------------------------


def test_encoders_are_opened_once_however_many_questions(
    settings: Settings, opened: list[bool]
) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    assistant = Assistant(settings)
    assert opened == []  # not at construction
    threads = [
        threading.Thread(target=assistant.ask, args=("Where does basil grow best?",))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assistant.ask_many(list(ANSWERS))
    assistant.search("sourdough")
    assert opened == [False]


def test_status_and_an_update_with_nothing_to_embed_open_no_encoders(
    settings: Settings, opened: list[bool]
) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    assistant = Assistant(settings)
    state = assistant.status()
    assert state.index_ready and not state.stale
    report = assistant.update_index()
    assert report.unchanged == 3 and not report.added
    assert opened == []
    _add_heron(settings)
    assert assistant.status().added == 1
    assert opened == []
    assistant.update_index()
    assert opened == [True]  # an update with something to embed opens them, to export
