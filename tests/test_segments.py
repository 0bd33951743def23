"""Segments searched together rank as one index; tombstones and an allowed set are
honoured inside the search; the tiered merge and --compact keep every answer."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import assistant.store.merge as merge_module
from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.indexing import update_index
from assistant.retrieval import Retriever
from assistant.store import open_index
from assistant.store.commits import SegmentRow
from assistant.store.merge import MERGE_FACTOR, merge_candidates, tier
from assistant.store.scope import select_scope
from tests.fakes import FakeEmbedder
from tests.index_state import committed, live_segments, orphans, rows

WORDS = (
    "harbour lantern owl basil tomato zeppelin granite river orchard copper violin meadow "
    "falcon lichen quartz saffron tundra walrus beacon cedar ember fjord glacier hazel ivory "
    "juniper kelp lagoon marble nectar onyx pepper quill raven sorrel thistle umber velvet"
).split()
QUERIES = [
    "harbour lantern",
    "owl basil tomato",
    "zeppelin over the granite river",
    "copper violin in the meadow",
    "falcon and lichen",
    "quartz saffron tundra walrus",
    "beacon cedar ember",
    "fjord glacier hazel ivory juniper",
    "kelp lagoon",
    "marble nectar onyx pepper",
    "quill raven sorrel",
    "thistle umber velvet harbour",
]


def _write_notes(corpus: Path, first: int, count: int, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(first, first + count):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30))).capitalize() + "."
            for _ in range(rng.randint(1, 3))
        ]
        (corpus / f"note-{n:03d}.txt").write_text("\n\n".join(paragraphs) + "\n")


Ranked = list[list[tuple[str, int, float]]]


def _ranked(settings: Settings, mode: str) -> Ranked:
    """Top 10 per query as (path, char_start, score): ids differ between builds."""
    index = open_index(settings.index)
    try:
        hits = Retriever(index, FakeEmbedder()).search(QUERIES, 10, mode)
    finally:
        index.close()
    return [[(h.chunk.path, h.chunk.char_start, round(h.score, 5)) for h in q] for q in hits]


def _assert_same_ranking(mine: Ranked, theirs: Ranked, *, exact: bool) -> None:
    if exact:
        assert mine == theirs
        return
    # The fake embedder gives equal cosines to texts of equal word counts: ties at the
    # 10th place may be cut differently.
    for one, other in zip(mine, theirs, strict=True):
        assert [h[2] for h in one] == [h[2] for h in other]
        last = one[-1][2]
        assert {h for h in one if h[2] > last} == {h for h in other if h[2] > last}


@pytest.fixture
def ten_segments(tmp_path: Path) -> Settings:
    """An index written by ten updates of 8 new files each: ten segments, no tombstones."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    for batch in range(MERGE_FACTOR - 1):
        _write_notes(corpus, 8 * batch, 8, seed=batch)
        update_index(settings, Encoders.single(FakeEmbedder()))
    _write_notes(corpus, 8 * (MERGE_FACTOR - 1), 8, seed=99)
    return settings


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_segments_rank_exactly_as_one_rebuilt_index(
    ten_segments: Settings, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ten_segments
    monkeypatch.setattr(merge_module, "MERGE_FACTOR", 100)  # keep the ten segments
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert len(live_segments(settings.index)) == MERGE_FACTOR
    segmented = _ranked(settings, mode)

    rebuilt = Settings(corpus=settings.corpus, index=tmp_path / "rebuilt")
    update_index(rebuilt, Encoders.single(FakeEmbedder()))
    assert len(live_segments(rebuilt.index)) == 1
    assert all(len(q) == 10 for q in segmented)
    _assert_same_ranking(segmented, _ranked(rebuilt, mode), exact=mode == "lexical")


def test_tombstoned_and_unallowed_chunks_are_never_returned(
    ten_segments: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ten_segments
    monkeypatch.setattr(merge_module, "MERGE_FACTOR", 100)  # tombstones stay in segments
    update_index(settings, Encoders.single(FakeEmbedder()))
    for n in (0, 9, 17, 40):
        (settings.corpus / f"note-{n:03d}.txt").write_text("Only walrus now.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    dead = {r[0] for r in rows(settings.index, "SELECT chunk_id FROM tombstones")}
    assert dead
    index = open_index(settings.index)
    try:
        retriever = Retriever(index, FakeEmbedder())
        for mode in ("lexical", "dense", "hybrid"):
            for hits in retriever.search(QUERIES, 20, mode):
                assert dead.isdisjoint(h.chunk.id for h in hits)
        allowed = np.asarray(sorted(index.table.chunk_ids("note-003.txt")), dtype=np.int64)
        for mode in ("lexical", "dense", "hybrid"):
            for hits in retriever.search(QUERIES, 5, mode, allowed=allowed):
                assert {h.chunk.path for h in hits} <= {"note-003.txt"}
        scores, ids = index.vectors.search(FakeEmbedder().embed_queries(["walrus"]), 50)
        assert dead.isdisjoint(ids[0].tolist())
    finally:
        index.close()


def test_a_scope_over_segments_with_tombstones_gets_k_passages_all_in_scope(
    ten_segments: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ten_segments
    monkeypatch.setattr(merge_module, "MERGE_FACTOR", 100)  # tombstones stay in segments
    update_index(settings, Encoders.single(FakeEmbedder()))
    for n in (1, 21, 41):  # rewritten: old chunks tombstoned in their first segments
        (settings.corpus / f"note-{n:03d}.txt").write_text("Only walrus now.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    index = open_index(settings.index)
    try:
        files = index.table.files()
        selection = select_scope(files, index.table.chunk_ids_of, ["note-0[0-4]1.txt"])
        assert len(selection.paths) == 5 and len(live_segments(settings.index)) > 2
        in_scope = set(selection.paths)
        scoped = Retriever(index, FakeEmbedder(), selection)
        everything = Retriever(index, FakeEmbedder())
        for mode in ("lexical", "dense", "hybrid"):
            wanted = min(5, len(selection)) if mode != "lexical" else 0
            for query in QUERIES:
                hits = scoped.search([query], 5, mode)[0]
                assert {h.chunk.path for h in hits} <= in_scope
                assert len(hits) >= wanted  # filtered before the top k, not after
                raw = everything.search([query], 5, mode, allowed=selection.chunk_ids)[0]
                # The same passages as the chunk ids give (ties may come in either order).
                assert sorted(h.chunk.id for h in raw) == sorted(h.chunk.id for h in hits)
                assert [h.score for h in raw] == pytest.approx([h.score for h in hits])
    finally:
        index.close()


def test_the_tiered_policy_merges_ten_similar_segments() -> None:
    def row(name: str, size: int) -> SegmentRow:
        return SegmentRow(name, size, 1, None, "Flat")

    small = [row(f"seg-{i:06d}", 20 + i) for i in range(MERGE_FACTOR)]
    assert merge_candidates(small[:-1]) == []
    assert merge_candidates([row("seg-000100", 50_000), *small]) == [r.name for r in small]
    assert tier(9) == 0 and tier(10) == 1 and tier(99) == 1 and tier(100) == 2


def test_an_update_that_makes_ten_similar_segments_merges_them(ten_segments: Settings) -> None:
    settings = ten_segments
    assert len(live_segments(settings.index)) == MERGE_FACTOR - 1
    before = committed(settings.index)
    stages: list[str] = []
    report = update_index(
        settings, Encoders.single(FakeEmbedder()), progress=lambda s, d, t: stages.append(s)
    )
    # The update commits a tenth segment of the same tier; the merge commits once more.
    assert report.segments_merged == MERGE_FACTOR
    assert stages[-4:] == ["merge", "merge-rename", "merge-commit", "merge-prune"]
    assert committed(settings.index) == before + 2
    assert len(live_segments(settings.index)) == 1
    assert orphans(settings.index) == []
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search("walrus").hits
    assert hits and "walrus" in hits[0].chunk.text.lower()


def test_index_compact_drops_deleted_rows_and_keeps_the_ranking(
    ten_segments: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = ten_segments
    monkeypatch.setattr(merge_module, "MERGE_FACTOR", 100)  # only --compact merges
    for n in (1, 2, 30):
        (settings.corpus / f"note-{n:03d}.txt").unlink()
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert rows(settings.index, "SELECT count(*) FROM tombstones") != [(0,)]
    before = _ranked(settings, "dense")
    generation = committed(settings.index)
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder())),
    )
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    result = CliRunner().invoke(main, ["index", "--compact", "--json", *where])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["segments_merged"] >= 2
    assert committed(settings.index) == generation + 1
    assert len(live_segments(settings.index)) == 1
    assert rows(settings.index, "SELECT count(*) FROM tombstones") == [(0,)]
    assert orphans(settings.index) == []
    _assert_same_ranking(_ranked(settings, "dense"), before, exact=False)
    # Deleted chunks counted in BM25's statistics until the merge dropped them; now the
    # scores are those of an index built from the files that are left.
    rebuilt = Settings(corpus=settings.corpus, index=tmp_path / "rebuilt")
    update_index(rebuilt, Encoders.single(FakeEmbedder()))
    _assert_same_ranking(_ranked(settings, "lexical"), _ranked(rebuilt, "lexical"), exact=True)
