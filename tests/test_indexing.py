"""Tests for building and updating the index: what gets embedded, and failure safety."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import (
    Cancelled,
    CorpusError,
    ExitCode,
    IndexLockedError,
    IndexMismatchError,
)
from assistant.indexing import WRITE_STAGES, shown_progress, update_index
from assistant.records import IndexReport
from assistant.store import open_index
from assistant.store.commits import read_manifest
from assistant.text.reflow import passage_text
from tests.fakes import FakeEmbedder
from tests.index_state import committed, orphans

FIXTURE_FILES = ["notes/garden.md", "peru-coup-government-us-troops.txt", "recipes.txt"]
TOMATO_QUESTION = "When were the tomatoes planted?"


def _chunk_texts(index: Path, path: str | None = None) -> list[str]:
    """The stored chunks of the live generation (of one file, if given), by id, as they
    are embedded: under their heading path, wrapped lines joined."""
    db = sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True)
    columns = "heading, text, col"
    try:
        if path is None:
            rows = db.execute(f"SELECT {columns} FROM chunks ORDER BY id")
        else:
            rows = db.execute(f"SELECT {columns} FROM chunks WHERE path = ? ORDER BY id", (path,))
        return [passage_text(*row) for row in rows]
    finally:
        db.close()


def _stored_paths(index: Path) -> set[str]:
    db = sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True)
    try:
        chunks = {row[0] for row in db.execute("SELECT path FROM chunks")}
        files = {row[0] for row in db.execute("SELECT path FROM files")}
    finally:
        db.close()
    assert chunks == files
    return files


def _bump_mtime(path: Path) -> None:
    """Change the mtime for sure, whatever the file system's timestamp resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def first(settings: Settings) -> IndexReport:
    """The report of a first build of the fixture corpus."""
    return update_index(settings, Encoders.single(FakeEmbedder()))


# --- first build ---------------------------------------------------------------------


def test_first_build_report(settings: Settings, embedder: FakeEmbedder) -> None:
    report = update_index(settings, Encoders.single(embedder))
    assert sorted(report.added) == FIXTURE_FILES
    assert report.changed == [] and report.removed == [] and report.skipped == []
    assert report.unchanged == 0
    assert report.chunks_total == len(_chunk_texts(settings.index)) > 3
    assert report.chunks_embedded == len(embedder.embedded) == report.chunks_total
    assert sorted(embedder.embedded) == sorted(_chunk_texts(settings.index))
    assert report.seconds > 0
    assert not report.dry_run
    assert committed(settings.index) == 1


def test_identical_passages_are_embedded_once(settings: Settings) -> None:
    text = "Owls hunt at night and sleep during the day."
    (settings.corpus / "owls.txt").write_text(text + "\n")
    (settings.corpus / "owls-copy.txt").write_text(text + "\n")
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert embedder.embedded.count(text) == 1
    assert report.chunks_embedded == len(embedder.embedded) == report.chunks_total - 1
    assert _chunk_texts(settings.index, "owls-copy.txt") == [text]


def test_empty_corpus_without_index_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    settings = Settings(corpus=tmp_path / "empty", index=tmp_path / "index")
    with pytest.raises(CorpusError) as info:
        update_index(settings, Encoders.single(FakeEmbedder()))
    assert info.value.hint
    assert committed(tmp_path / "index") == 0


def test_missing_corpus_is_an_error(tmp_path: Path) -> None:
    settings = Settings(corpus=tmp_path / "nowhere", index=tmp_path / "index")
    with pytest.raises(CorpusError) as info:
        update_index(settings, Encoders.single(FakeEmbedder()))
    assert info.value.exit_code == ExitCode.FAILURE
    assert "--corpus" in info.value.hint


# --- incremental updates -------------------------------------------------------------


def test_no_change_embeds_nothing_and_writes_no_generation(
    settings: Settings, first: IndexReport
) -> None:
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert embedder.embedded == []
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert report.unchanged == 3
    assert report.chunks_embedded == 0
    assert report.chunks_total == first.chunks_total
    assert committed(settings.index) == 1 and not orphans(settings.index)
    assert committed(settings.index) == 1


def test_touched_file_is_unchanged(settings: Settings, first: IndexReport) -> None:
    _bump_mtime(settings.corpus / "recipes.txt")
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert embedder.embedded == []
    assert report.changed == [] and report.unchanged == 3
    assert committed(settings.index) == 1 and not orphans(settings.index)


def test_changed_file_alone_is_re_embedded(settings: Settings, first: IndexReport) -> None:
    before = {p: _chunk_texts(settings.index, p) for p in FIXTURE_FILES}
    (settings.corpus / "recipes.txt").write_text(
        "Rye bread needs a longer proof than wheat bread.\n\nSlice it only when cool.\n"
    )
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))

    assert report.changed == ["recipes.txt"]
    assert report.added == [] and report.removed == []
    assert report.unchanged == 2
    after = _chunk_texts(settings.index, "recipes.txt")
    assert "Rye bread" in "".join(after) and "Sourdough" not in "".join(after)
    assert sorted(embedder.embedded) == sorted(after)
    assert report.chunks_embedded == len(after)
    for other in ("notes/garden.md", "peru-coup-government-us-troops.txt"):
        assert _chunk_texts(settings.index, other) == before[other]
    assert report.chunks_total == first.chunks_total - len(before["recipes.txt"]) + len(after)
    assert committed(settings.index) == 2

    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    answer = assistant.ask("What does rye bread need?")
    assert answer.citations and answer.citations[0].path == "recipes.txt"
    assert "longer proof" in answer.text
    hits = assistant.search("sourdough starter flour", mode="lexical").hits
    assert all("Sourdough" not in h.chunk.text for h in hits)


def test_added_file_alone_is_embedded(settings: Settings, first: IndexReport) -> None:
    text = "Barn owls swallow their prey whole."
    (settings.corpus / "notes" / "owls.txt").write_text(text + "\n")
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert report.added == ["notes/owls.txt"]
    assert report.changed == [] and report.unchanged == 3
    assert embedder.embedded == [text]
    assert report.chunks_embedded == 1
    assert report.chunks_total == first.chunks_total + 1
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search("owls prey").hits
    assert hits[0].chunk.path == "notes/owls.txt"


def test_deleted_file_is_gone_from_sqlite_and_search(
    settings: Settings, first: IndexReport
) -> None:
    embedder = FakeEmbedder()
    assistant = Assistant(settings, encoders=Encoders.single(embedder))
    hits = assistant.search("tomatoes planted basil garden", k=20).hits
    assert "notes/garden.md" in {h.chunk.path for h in hits}
    garden_chunks = len(_chunk_texts(settings.index, "notes/garden.md"))

    (settings.corpus / "notes" / "garden.md").unlink()
    report = assistant.update_index()
    assert report.removed == ["notes/garden.md"]
    assert report.to_json()["removed"] == 1
    assert report.added == [] and report.changed == [] and report.unchanged == 2
    assert embedder.embedded == []
    assert report.chunks_total == first.chunks_total - garden_chunks
    assert _stored_paths(settings.index) == {"peru-coup-government-us-troops.txt", "recipes.txt"}
    for mode in ("dense", "lexical", "hybrid"):
        hits = assistant.search("tomatoes planted basil garden", k=50, mode=mode).hits
        assert "notes/garden.md" not in {h.chunk.path for h in hits}, mode
    citations = assistant.ask(TOMATO_QUESTION).citations
    assert all(c.path != "notes/garden.md" for c in citations)


def test_renamed_file_is_removed_and_added(settings: Settings, first: IndexReport) -> None:
    (settings.corpus / "recipes.txt").rename(settings.corpus / "baking.txt")
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert report.removed == ["recipes.txt"]
    assert report.added == ["baking.txt"]
    assert sorted(embedder.embedded) == sorted(_chunk_texts(settings.index, "baking.txt"))
    assert "recipes.txt" not in _stored_paths(settings.index)


def test_vectors_stay_aligned_with_chunks_across_updates(
    settings: Settings, first: IndexReport
) -> None:
    corpus = settings.corpus
    (corpus / "recipes.txt").write_text("Rye bread needs a longer proof.\n\nSlice it cool.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    (corpus / "kites.md").write_text("Kites fly best in steady wind.\n")
    (corpus / "notes" / "garden.md").unlink()
    update_index(settings, Encoders.single(FakeEmbedder()))
    (corpus / "recipes.txt").write_text("Flatbread needs no yeast.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))

    index = open_index(settings.index)
    try:
        count = index.table.count()
        chunks = index.table.get(range(-1, 10_000))
        assert len(chunks) == count == len(index.vectors)
        ids = sorted(chunks)
        expected = FakeEmbedder().embed_documents([chunks[i].text for i in ids])
        np.testing.assert_allclose(index.vectors.reconstruct(ids), expected, atol=1e-6)
        assert {c.path for c in chunks.values()} == {
            "kites.md",
            "peru-coup-government-us-troops.txt",
            "recipes.txt",
        }
    finally:
        index.close()
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    for query, path in [("kites steady wind", "kites.md"), ("flatbread yeast", "recipes.txt")]:
        for mode in ("dense", "lexical", "hybrid"):
            hits = assistant.search(query, mode=mode).hits
            assert hits and hits[0].chunk.path == path, (query, mode)


def test_full_re_embeds_everything(settings: Settings, first: IndexReport) -> None:
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder), full=True)
    assert sorted(report.added) == FIXTURE_FILES
    assert report.chunks_embedded == len(embedder.embedded) == first.chunks_total
    assert report.chunks_total == first.chunks_total
    assert committed(settings.index) == 2


# --- dry run -------------------------------------------------------------------------


def test_dry_run_lists_changes_and_writes_nothing(settings: Settings, first: IndexReport) -> None:
    (settings.corpus / "recipes.txt").write_text("Flatbread needs no yeast at all.\n")
    (settings.corpus / "new.md").write_text("A brand new note about kites.\n")
    (settings.corpus / "notes" / "garden.md").unlink()
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder), dry_run=True)
    assert report.dry_run
    assert report.added == ["new.md"]
    assert report.changed == ["recipes.txt"]
    assert report.removed == ["notes/garden.md"]
    assert report.unchanged == 1
    assert report.chunks_embedded == 0
    assert embedder.embedded == []
    assert committed(settings.index) == 1 and not orphans(settings.index)
    assert committed(settings.index) == 1
    assert "notes/garden.md" in _stored_paths(settings.index)

    # The real update afterwards does what the dry run announced.
    real = update_index(settings, Encoders.single(embedder))
    assert (real.added, real.changed, real.removed) == (
        report.added,
        report.changed,
        report.removed,
    )


def test_dry_run_before_first_build_writes_no_index(settings: Settings) -> None:
    report = update_index(settings, Encoders.single(FakeEmbedder()), dry_run=True)
    assert sorted(report.added) == FIXTURE_FILES
    assert committed(settings.index) == 0
    assert not settings.index.exists() or committed(settings.index) == 0


# --- failure safety ------------------------------------------------------------------


def test_crash_mid_update_keeps_previous_index(settings: Settings, first: IndexReport) -> None:
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    old_answer = assistant.ask(TOMATO_QUESTION)
    assert "tomatoes were planted in May" in old_answer.text

    (settings.corpus / "notes" / "garden.md").write_text("# Garden\n\nThe roses died in June.\n")
    failing = FakeEmbedder(fail_after=0)
    with pytest.raises(RuntimeError, match="simulated crash"):
        update_index(settings, Encoders.single(failing))
    assert failing.embedded == []
    assert committed(settings.index) == 1
    assert committed(settings.index) == 1 and not orphans(settings.index)

    # Both an already-open assistant and a fresh one answer from the old index.
    assert assistant.ask(TOMATO_QUESTION).text == old_answer.text
    fresh = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)
    assert fresh.text == old_answer.text

    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    assert report.changed == ["notes/garden.md"]
    assert sorted(embedder.embedded) == sorted(_chunk_texts(settings.index, "notes/garden.md"))
    assert committed(settings.index) == 2
    assistant.reload()
    assert "tomatoes" not in assistant.ask(TOMATO_QUESTION).text


def test_crash_through_assistant_keeps_old_index_live(
    settings: Settings, first: IndexReport
) -> None:
    embedder = FakeEmbedder()
    assistant = Assistant(settings, encoders=Encoders.single(embedder))
    (settings.corpus / "new.txt").write_text("Kites fly best in steady wind.\n")
    embedder.fail_after = 0
    with pytest.raises(RuntimeError):
        assistant.update_index()
    embedder.fail_after = None
    assert committed(settings.index) == 1 and not orphans(settings.index)
    answer = assistant.ask(TOMATO_QUESTION)
    assert answer.citations[0].path == "notes/garden.md"


def test_crash_on_first_build_leaves_no_index(settings: Settings) -> None:
    with pytest.raises(RuntimeError):
        update_index(settings, Encoders.single(FakeEmbedder(fail_after=0)))
    assert committed(settings.index) == 0
    assert committed(settings.index) == 0
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert sorted(report.added) == FIXTURE_FILES
    assert committed(settings.index) == 1


def test_cancel_raises_and_keeps_previous_index(settings: Settings, first: IndexReport) -> None:
    (settings.corpus / "new.txt").write_text("Kites fly best in steady wind.\n")
    cancel = threading.Event()
    cancel.set()
    embedder = FakeEmbedder()
    assistant = Assistant(settings, encoders=Encoders.single(embedder))
    with pytest.raises(Cancelled) as info:
        assistant.update_index(cancel=cancel)
    assert info.value.exit_code == ExitCode.INTERRUPTED
    assert embedder.embedded == []
    assert committed(settings.index) == 1
    assert committed(settings.index) == 1 and not orphans(settings.index)
    assert "new.txt" not in _stored_paths(settings.index)
    assert "tomatoes were planted in May" in assistant.ask(TOMATO_QUESTION).text

    report = assistant.update_index(cancel=threading.Event())
    assert report.added == ["new.txt"]


def test_progress_reports_every_stage_in_order(settings: Settings) -> None:
    calls: list[tuple[str, int, int]] = []
    update_index(settings, Encoders.single(FakeEmbedder()), progress=lambda *a: calls.append(a))
    assert [c for c in calls if c[0] == "embed"] == [("embed", n, 3) for n in range(4)]
    assert [c for c in calls if c[0] != "embed"] == [(s, 0, 1) for s in WRITE_STAGES]
    shown = [shown_progress(*c) for c in calls]
    assert shown[0] == ("embedding", 0, 3) and shown[-1] == ("writing", 4, 5)


# --- settings the index is tied to ---------------------------------------------------


@pytest.mark.parametrize(
    "change", [{"model": "other-model"}, {"chunk_tokens": 100}, {"overlap_tokens": 8}]
)
def test_mismatched_settings_refuse_then_rebuild(
    settings: Settings, first: IndexReport, change: dict[str, object]
) -> None:
    other = dataclasses.replace(settings, **change)  # type: ignore[arg-type]
    with pytest.raises(IndexMismatchError) as info:
        Assistant(other, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)
    assert info.value.exit_code == ExitCode.INDEX_UNUSABLE == 3
    assert "excerpta index" in info.value.hint

    embedder = FakeEmbedder()
    report = update_index(other, Encoders.single(embedder))
    assert sorted(report.added) == FIXTURE_FILES
    assert report.chunks_embedded == len(embedder.embedded) == report.chunks_total > 0
    assert sorted(embedder.embedded) == sorted(_chunk_texts(settings.index))
    answer = Assistant(other, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)
    assert "tomatoes were planted in May" in answer.text
    with pytest.raises(IndexMismatchError):
        Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)


def test_status_reports_mismatch_without_loading(settings: Settings, first: IndexReport) -> None:
    state = Assistant(dataclasses.replace(settings, model="other-model")).status()
    assert not state.index_ready
    assert "other-model" in state.problem
    assert state.stale


# --- lock ----------------------------------------------------------------------------


def test_update_while_locked_raises_with_hint(settings: Settings) -> None:
    settings.index.mkdir(parents=True)
    embedder = FakeEmbedder()
    with FileLock(str(settings.index / ".lock")):
        with pytest.raises(IndexLockedError) as info:
            update_index(settings, Encoders.single(embedder))
    assert info.value.hint
    assert info.value.exit_code == ExitCode.FAILURE
    assert embedder.embedded == []
    assert committed(settings.index) == 0
    # Released: the update now goes through.
    assert sorted(update_index(settings, Encoders.single(embedder)).added) == FIXTURE_FILES


# --- skipped files -------------------------------------------------------------------


@pytest.fixture
def messy_corpus(settings: Settings) -> Settings:
    (settings.corpus / "clip.mp4").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (settings.corpus / "notes" / "blob.txt").write_bytes(bytes(range(256)) * 8)
    return settings


def test_unreadable_files_are_skipped_with_reasons(messy_corpus: Settings) -> None:
    settings = messy_corpus
    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder))
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"clip.mp4", "notes/blob.txt"}
    assert "unsupported" in reasons["clip.mp4"] and ".mp4" in reasons["clip.mp4"]
    assert "binary" in reasons["notes/blob.txt"]
    assert _stored_paths(settings.index) == set(FIXTURE_FILES)
    assert report.chunks_embedded == len(embedder.embedded) == report.chunks_total
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(TOMATO_QUESTION)
    assert "tomatoes were planted in May" in answer.text
    json_skipped = report.to_json()["skipped"]
    assert {"path": "clip.mp4", "reason": reasons["clip.mp4"]} in json_skipped


def test_skipped_files_are_not_added_and_cause_no_churn(messy_corpus: Settings) -> None:
    settings = messy_corpus
    first = update_index(settings, Encoders.single(FakeEmbedder()))
    assert sorted(first.added) == FIXTURE_FILES
    second = update_index(settings, Encoders.single(FakeEmbedder()))
    assert (second.added, second.changed, second.removed) == ([], [], [])
    assert committed(settings.index) == 1 and not orphans(settings.index)
    assert not Assistant(settings, encoders=Encoders.single(FakeEmbedder())).status().stale


def test_a_plain_update_rebuilds_when_index_files_are_missing(settings: Settings) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    (settings.index / "segments" / "seg-000001" / "vectors.faiss").unlink()
    again = FakeEmbedder()
    report = update_index(settings, Encoders.single(again))
    assert sorted(report.added) == FIXTURE_FILES and again.embedded
    assert Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask("basil sun").citations


def test_a_first_dry_run_creates_nothing(settings: Settings) -> None:
    report = update_index(settings, Encoders.single(FakeEmbedder()), dry_run=True)
    assert sorted(report.added) == FIXTURE_FILES
    assert not settings.index.exists()


def test_a_new_document_encoder_rebuilds_the_whole_index(
    settings: Settings, embedder: FakeEmbedder
) -> None:
    update_index(settings, Encoders.single(embedder, "onnx-int8 r1"))
    assert read_manifest(settings.index)["document_encoder"] == "onnx-int8 r1"
    again = update_index(settings, Encoders.single(embedder, "onnx-int8 r1"))
    assert again.chunks_embedded == 0
    # Nothing to embed: the vectors stay as they are, whatever embeds next.
    unchanged = update_index(settings, Encoders.single(embedder, "onnx-int8 r2"))
    assert unchanged.chunks_embedded == 0 and unchanged.rebuilt_because == ""
    assert read_manifest(settings.index)["document_encoder"] == "onnx-int8 r1"
    # A new file would mix encoders' vectors: everything is embedded again.
    (settings.corpus / "new.txt").write_text("The lighthouse keeper rows ashore at noon.\n")
    changed = update_index(settings, Encoders.single(embedder, "onnx-int8 r2"))
    assert len(changed.added) == 4 and changed.chunks_embedded == changed.chunks_total
    assert read_manifest(settings.index)["document_encoder"] == "onnx-int8 r2"


def test_the_report_says_why_the_whole_index_was_rebuilt(
    settings: Settings, embedder: FakeEmbedder
) -> None:
    assert update_index(settings, Encoders.single(embedder)).rebuilt_because == ""  # a first build
    assert update_index(settings, Encoders.single(embedder), full=True).rebuilt_because == "--full"
    (settings.corpus / "new.txt").write_text("The lighthouse keeper rows ashore at noon.\n")
    report = update_index(settings, Encoders.single(embedder, "another"))
    assert report.rebuilt_because == "documents were embedded with another encoder"
    assert update_index(settings, Encoders.single(embedder, "another")).rebuilt_because == ""
