"""Tests for committing a long build as it goes (commit_every): a run killed after a
commit leaves a usable index, and the next run embeds only what is missing."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.indexing import update_index
from assistant.text.reflow import passage_text
from tests.fakes import FakeEmbedder
from tests.index_state import committed, orphans


class Killed(BaseException):
    """Stands for the process dying at a stage (nothing after it runs)."""


def write_notes(corpus: Path, count: int) -> None:
    for n in range(count):
        (corpus / f"note-{n:02d}.txt").write_text(
            f"Note {n} tells of harbour {n} and lighthouse keeper number {n}.\n\n"
            f"The ferry to island {n} leaves at {n % 12 + 1} o'clock.\n"
        )


def chunk_texts(index: Path) -> list[str]:
    db = sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return [
            passage_text(*r)
            for r in db.execute("SELECT heading, text, col FROM chunks ORDER BY id")
        ]
    finally:
        db.close()


def kill_at_commit(number: int) -> object:
    """A progress callback that kills the run right after its ``number``-th commit."""
    seen = 0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal seen
        if stage == "prune":  # the commit before it is durable
            seen += 1
            if seen == number:
                raise Killed

    return progress


@pytest.fixture
def many(settings: Settings) -> Settings:
    write_notes(settings.corpus, 30)
    return dataclasses.replace(settings, commit_every=8)


def test_a_build_commits_every_commit_every_chunks(many: Settings) -> None:
    report = update_index(many, Encoders.single(FakeEmbedder()))
    assert committed(many.index) >= report.chunks_total // many.commit_every
    single = dataclasses.replace(many, index=many.index.parent / "single", commit_every=50_000)
    update_index(single, Encoders.single(FakeEmbedder()))
    assert committed(single.index) == 1
    assert sorted(chunk_texts(many.index)) == sorted(chunk_texts(single.index))


def test_killed_after_a_commit_the_next_run_embeds_only_what_is_missing(many: Settings) -> None:
    with pytest.raises(Killed):
        update_index(many, Encoders.single(FakeEmbedder()), progress=kill_at_commit(2))
    assert committed(many.index) == 2 and orphans(many.index) == []
    kept = chunk_texts(many.index)
    assert 0 < len(kept)
    found = Assistant(many, encoders=Encoders.single(FakeEmbedder())).search("ferry island")
    assert found.hits  # the interrupted build serves what it committed
    again = FakeEmbedder()
    report = update_index(many, Encoders.single(again))
    assert sorted(again.embedded) == sorted(set(chunk_texts(many.index)) - set(kept))
    assert report.chunks_embedded == len(again.embedded) > 0
    fresh = dataclasses.replace(many, index=many.index.parent / "fresh")
    update_index(fresh, Encoders.single(FakeEmbedder()))
    assert sorted(chunk_texts(many.index)) == sorted(chunk_texts(fresh.index))
