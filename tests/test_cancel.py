"""Cancel means now: an update and a merge stop at their next check once the stop event
is set (between embedding slices, BM25 batches, vector blocks and write steps), raise
``Cancelled``, and leave the previous commit live, searchable and free of half-written
segments; a watcher stopped during a merge returns without finishing it.

A ``CountingEvent`` reads as set from a given check on, so a test can stop the work at
every check in turn, deterministically (no timing, no module attribute replaced)."""

from __future__ import annotations

import random
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders, Vectors
from assistant.errors import Cancelled, ExitCode
from assistant.indexing import WRITE_STAGES, Watcher, update_index
from assistant.indexing.update import index_lock
from assistant.records import IndexReport
from assistant.store.bm25_write import write_bm25
from assistant.store.merge import MERGE_FACTOR, merge_segments
from assistant.store.vectors import VectorIndex
from tests.fakes import FakeEmbedder
from tests.index_state import committed, live_segments, on_disk, orphans

WORDS = (
    "harbour lantern owl basil tomato zeppelin granite river orchard copper violin meadow "
    "falcon lichen quartz saffron tundra walrus beacon cedar ember fjord glacier hazel ivory"
).split()
TOMATO_QUESTION = "When were the tomatoes planted?"


class CountingEvent(threading.Event):
    """A stop event that counts the checks made of it and reads as set from check
    ``set_at`` on (None: only once ``set``); ``stages`` holds the stage last reported
    (through ``progress``) at each check."""

    def __init__(self, set_at: int | None = None) -> None:
        super().__init__()
        self.set_at = set_at
        self.stage = ""
        self.stages: list[str] = []

    @property
    def checks(self) -> int:
        return len(self.stages)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage = stage

    def is_set(self) -> bool:
        self.stages.append(self.stage)
        return super().is_set() or (self.set_at is not None and self.checks >= self.set_at)


class StoppingEmbedder(FakeEmbedder):
    """Sets ``stop`` once it has embedded its first batch of documents."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.stop.set()
        return super().embed_documents(texts)


def _long_document(path: Path, paragraphs: int, seed: int) -> None:
    """A file of many chunks, each one different."""
    rng = random.Random(seed)
    path.write_text(
        "\n\n".join(
            f"Part {n}. " + " ".join(rng.choice(WORDS) for _ in range(120)) + "."
            for n in range(paragraphs)
        )
        + "\n"
    )


def _assert_previous_commit(settings: Settings, generation: int, segments: list[str]) -> None:
    """The index is exactly commit ``generation``, searchable, with nothing half-written."""
    assert committed(settings.index) == generation
    assert live_segments(settings.index) == segments
    assert orphans(settings.index) == []
    assert not [name for name in on_disk(settings.index) if name.startswith(".tmp-")]
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)
    assert "tomatoes were planted in May" in answer.text


@pytest.fixture
def built(settings: Settings) -> Settings:
    update_index(settings, Encoders.single(FakeEmbedder()))
    return settings


def test_an_update_stops_between_embedding_slices_of_a_large_file(built: Settings) -> None:
    settings = built
    _long_document(settings.corpus / "long.txt", 150, seed=1)
    before, segments = committed(settings.index), live_segments(settings.index)
    stop = threading.Event()
    embedder = StoppingEmbedder(stop)
    with pytest.raises(Cancelled) as info:
        update_index(settings, Encoders.single(embedder), cancel=stop)
    assert info.value.exit_code == ExitCode.INTERRUPTED
    # The file's chunks were embedded a slice at a time: the first slice, then the stop.
    assert embedder.calls == 1 and 0 < len(embedder.embedded) <= 64
    _assert_previous_commit(settings, before, segments)

    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))  # the next writer opens
    assert report.added == ["long.txt"] and report.chunks_embedded > 100
    assert committed(settings.index) == before + 1 and orphans(settings.index) == []


@pytest.mark.parametrize("stage", WRITE_STAGES[:-1])  # "prune": committed already
def test_an_update_stops_at_each_write_stage(built: Settings, stage: str) -> None:
    settings = built
    (settings.corpus / "new.txt").write_text("Kites fly best in steady wind.\n")
    before, segments = committed(settings.index), live_segments(settings.index)
    stop = threading.Event()

    def progress(name: str, done: int, total: int) -> None:
        if name == stage:
            stop.set()

    with pytest.raises(Cancelled):
        update_index(settings, Encoders.single(FakeEmbedder()), progress=progress, cancel=stop)
    _assert_previous_commit(settings, before, segments)


def test_an_update_cancelled_at_any_check_keeps_the_previous_commit(built: Settings) -> None:
    settings = built
    _long_document(settings.corpus / "long.txt", 80, seed=2)
    (settings.corpus / "recipes.txt").unlink()
    before, segments = committed(settings.index), live_segments(settings.index)
    # A dry count on a copy: how many checks the whole update makes, and in which stages.
    copy = _copy(settings)
    counting = CountingEvent()
    update_index(copy, Encoders.single(FakeEmbedder()), progress=counting.progress, cancel=counting)
    # Every stage before the commit is checked, not only the start of each file.
    assert {"embed", *WRITE_STAGES[:-1]} <= set(counting.stages)

    for set_at in range(1, counting.checks + 1):
        with pytest.raises(Cancelled):
            update_index(settings, Encoders.single(FakeEmbedder()), cancel=CountingEvent(set_at))
        _assert_previous_commit(settings, before, segments)


@pytest.fixture
def three_segments(built: Settings) -> Settings:
    """Three segments (fewer than the tiered policy merges) and a tombstone."""
    settings = built
    _long_document(settings.corpus / "long.txt", 40, seed=3)
    update_index(settings, Encoders.single(FakeEmbedder()))
    (settings.corpus / "recipes.txt").write_text("Bake the loaf at 230 degrees.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert len(live_segments(settings.index)) == 3
    return settings


def _merge(settings: Settings, **options: object) -> int:
    with index_lock(settings.index, settings.corpus):
        return merge_segments(settings.index, compact=True, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("stage", ["merge", "merge-rename", "merge-commit"])
def test_a_merge_stops_at_each_step(three_segments: Settings, stage: str) -> None:
    settings = three_segments
    before, segments = committed(settings.index), live_segments(settings.index)
    stop = threading.Event()

    def on_stage(name: str) -> None:
        if name == stage:
            stop.set()

    with pytest.raises(Cancelled) as info:
        _merge(settings, on_stage=on_stage, cancel=stop)
    assert info.value.exit_code == ExitCode.INTERRUPTED
    _assert_previous_commit(settings, before, segments)


def test_a_merge_cancelled_at_any_check_keeps_the_previous_commit(
    three_segments: Settings,
) -> None:
    settings = three_segments
    before, segments = committed(settings.index), live_segments(settings.index)
    counting = CountingEvent()

    def on_stage(name: str) -> None:
        counting.stage = name

    # A dry count on a copy: how many checks a whole merge makes, and in which steps.
    assert _merge(_copy(settings), on_stage=on_stage, cancel=counting) == 3
    # In "merge": at the start, before each segment's block copies, before BM25, in each
    # of BM25's three passes, before saving; then before publishing and committing.
    assert counting.stages.count("merge") >= 1 + len(segments) + 1 + 3
    assert {"merge-rename", "merge-commit"} <= set(counting.stages)

    for set_at in range(1, counting.checks + 1):
        with pytest.raises(Cancelled):
            _merge(settings, cancel=CountingEvent(set_at))
        _assert_previous_commit(settings, before, segments)
    assert _merge(settings) == 3  # running it again is safe
    assert len(live_segments(settings.index)) == 1 and orphans(settings.index) == []


def _copy(settings: Settings) -> Settings:
    """The same corpus with a copy of the index."""
    copy = Settings(corpus=settings.corpus, index=settings.index.with_name("copy"))
    shutil.copytree(settings.index, copy.index, ignore=shutil.ignore_patterns(".lock"))
    return copy


def test_a_watcher_stopped_during_a_merge_returns_without_finishing_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    for n in range(MERGE_FACTOR - 1):  # nine segments: the watcher's update makes ten
        (corpus / f"note-{n}.txt").write_text(f"Note {n} is about the lantern number {n}.\n")
        update_index(settings, Encoders.single(FakeEmbedder()))
    (corpus / "zeppelin.txt").write_text("The zeppelin lands beside the harbour.\n")
    before = committed(settings.index)
    stop = threading.Event()
    stages: list[str] = []
    reports: list[IndexReport] = []

    def progress(stage: str, done: int, total: int) -> None:
        stages.append(stage)
        if stage == "merge":
            stop.set()

    watcher = Watcher(
        settings,
        Encoders.single(FakeEmbedder()),
        on_update=reports.append,
        progress=progress,
        stop=stop,
    )
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    thread.join(timeout=120)  # a hang guard, not a time bound
    assert not thread.is_alive()
    assert "merge" in stages and "merge-rename" not in stages  # the merge was abandoned
    assert reports == []  # cancelled: the watcher reports nothing and stops
    assert committed(settings.index) == before + 1  # the update's commit, not the merge's
    assert len(live_segments(settings.index)) == MERGE_FACTOR and orphans(settings.index) == []
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search("zeppelin").hits
    assert hits and hits[0].chunk.path == "zeppelin.txt"
    report = update_index(settings, Encoders.single(FakeEmbedder()), compact=True)
    assert report.segments_merged == MERGE_FACTOR


def test_writing_bm25_stops_between_batches(tmp_path: Path) -> None:
    rng = random.Random(4)
    rows = [(n, " ".join(rng.choice(WORDS) for _ in range(12))) for n in range(10)]
    counting = CountingEvent()
    write_bm25(tmp_path / "whole", rows, batch_size=3, term_frequencies=True, cancel=counting)
    assert counting.checks == 4 + 4 + 1  # each batch of passes 1 and 2, each bucket of 3
    for set_at in range(1, counting.checks + 1):
        folder = tmp_path / f"cancelled-{set_at}"
        with pytest.raises(Cancelled):
            write_bm25(folder, rows, batch_size=3, cancel=CountingEvent(set_at))
        assert list(folder.iterdir()) == []  # no index file, no scratch folder


def test_rebuilding_vectors_stops_between_blocks() -> None:
    rng = np.random.default_rng(5)
    data = rng.standard_normal((20_000, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = VectorIndex.empty(16)
    index.add(np.arange(len(data)), data)
    with pytest.raises(Cancelled):  # after the first block of two: flat -> IVF abandoned
        index.optimize(flat_limit=1_000, cancel=CountingEvent(2))
    assert index.kind == "flat" and len(index) == len(data)
    counting = CountingEvent()
    assert index.optimize(flat_limit=1_000, cancel=counting)
    assert index.kind == "ivf" and counting.checks == 2
