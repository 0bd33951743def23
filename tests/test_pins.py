"""An index swap never closes an index a question is reading: the commit-poll worker and
the watcher refresh the index while an ask worker reads it outside the lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders, Vectors
from assistant.store import StoredIndex
from assistant.store.pins import IndexPins
from tests.fakes import FakeEmbedder, FakeReader

TOMATOES = "When were the tomatoes planted?"


class Interrupting(FakeEmbedder):
    """Runs ``during`` once, in the middle of the next question (as it is embedded,
    before its search reads the index): where another thread's refresh can land."""

    def __init__(self) -> None:
        super().__init__()
        self.during: Callable[[], None] | None = None

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        during, self.during = self.during, None
        if during is not None:
            during()
        return super().embed_queries(texts)


@pytest.fixture
def interrupting() -> Interrupting:
    return Interrupting()


@pytest.fixture(params=[False, True], ids=["scorer", "reader"])
def built(
    request: pytest.FixtureRequest, settings: Settings, interrupting: Interrupting
) -> Assistant:
    reader = FakeReader() if request.param else None
    assistant = Assistant(settings, encoders=Encoders.single(interrupting), reader=reader)
    assistant.update_index()
    return assistant


def test_a_refresh_during_a_question_leaves_its_index_open(
    built: Assistant, interrupting: Interrupting
) -> None:
    """Today's failure: ``sqlite3.ProgrammingError: closed database``."""
    assert built.ask(TOMATOES).citations  # an index is open
    first = built.opened_generation()
    interrupting.during = built.refresh_index
    answer = built.ask(TOMATOES)
    assert answer.text.startswith("The tomatoes were planted in May.")
    assert built.ask(TOMATOES).citations and built.opened_generation() == first


def test_a_refresh_during_a_scoped_question_drops_the_selection(
    built: Assistant, interrupting: Interrupting
) -> None:
    built.set_scope(["notes/**"])
    before = built.selection()
    interrupting.during = built.refresh_index
    assert built.ask(TOMATOES).citations[0].path == "notes/garden.md"
    after = built.selection()
    assert after is not None and after is not before
    assert after.paths == ("notes/garden.md",)


def test_a_search_survives_an_update_that_commits_meanwhile(
    built: Assistant, interrupting: Interrupting, settings: Settings
) -> None:
    built.search("tomatoes")
    (settings.corpus / "birds.txt").write_text("The heron nests by the river in April.\n")
    interrupting.during = built.update_index  # commits, then refreshes, mid-search
    assert built.search("tomatoes").hits
    assert built.search("heron nests").hits[0].chunk.path == "birds.txt"


class Opened:
    """A stand-in index that records whether it was closed."""

    generation = 1

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_the_retired_index_closes_when_its_last_reader_is_done() -> None:
    opened: list[Opened] = []

    def open_one() -> StoredIndex:
        opened.append(Opened())
        return opened[-1]  # type: ignore[return-value]

    pins = IndexPins(open_one)
    with pins.pinned() as first, pins.pinned() as same:
        assert first is same
        pins.retire()
        with pins.pinned() as second:
            assert second is not first
        assert not opened[0].closed  # two questions still read it
    assert opened[0].closed and not opened[1].closed
    pins.retire()  # nobody reads the live one: it closes now
    assert opened[1].closed
