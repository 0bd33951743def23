"""Tests for the index on disk: the commit point, segments, manifest, stored chunks, no
pickle, corruption, and an old-format index."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import __version__
from assistant.config import Settings
from assistant.core import Assistant
from assistant.documents.loaders import load_document
from assistant.embedding import Encoders
from assistant.errors import (
    ExitCode,
    IndexChangedError,
    IndexCorruptError,
    IndexMissingError,
    IndexUnusableError,
    UsageError,
)
from assistant.indexing import update_index
from assistant.store import open_index
from assistant.store.commits import (
    FORMAT_VERSION,
    INDEX_DB,
    committed_generation,
    read_manifest,
)
from assistant.store.segments import Segment
from assistant.text.reflow import passage_text
from tests.fakes import DIMENSION, FakeEmbedder
from tests.index_state import committed, live_segments, on_disk, orphans

FIXTURE_FILES = ["notes/garden.md", "peru-coup-government-us-troops.txt", "recipes.txt"]


def _rows(segment: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of the commit point of the index that holds ``segment``."""
    db = sqlite3.connect(f"file:{segment.parent.parent / INDEX_DB}?mode=ro", uri=True)
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def _count(segment: Path, path: str | None = None) -> int:
    if path is None:
        return int(_rows(segment, "SELECT count(*) FROM chunks")[0][0])
    return int(_rows(segment, "SELECT count(*) FROM chunks WHERE path = ?", path)[0][0])


@pytest.fixture
def built(settings: Settings) -> Path:
    """The one segment folder of an index built from the fixture corpus."""
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert live_segments(settings.index) == ["seg-000001"]
    return settings.index / "segments" / "seg-000001"


# --- layout and manifest -------------------------------------------------------------


def test_first_build_writes_one_commit_and_one_segment(settings: Settings, built: Path) -> None:
    assert committed(settings.index) == 1
    assert on_disk(settings.index) == ["seg-000001"]
    assert sorted(p.name for p in settings.index.iterdir() if not p.name.startswith(".")) == [
        "encoder-onnx",
        "index.sqlite",
        "index.sqlite-shm",
        "index.sqlite-wal",
        "segments",
    ] or "index.sqlite" in {p.name for p in settings.index.iterdir()}
    assert sorted(p.name for p in built.iterdir()) == ["bm25", "vectors.faiss"]
    assert (built / "bm25" / "chunk_ids.npy").is_file()
    assert (built / "bm25" / "lengths.npy").is_file()
    mode = _rows(built, "PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_manifest_records_what_the_index_is_tied_to(settings: Settings, built: Path) -> None:
    (text,) = _rows(built, "SELECT manifest FROM commits WHERE generation = 1")[0]
    manifest = json.loads(text)
    assert settings.model == "auto"  # the default, which the library object resolves
    assert manifest["model"] == settings.named_model == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == DIMENSION
    assert manifest["language"] == settings.language == ""  # detected per document
    assert manifest["chunking"] == {
        "chunk_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.overlap_tokens,
        "encoding": settings.encoding,
    }
    assert manifest["tiktoken_encoding"] == "cl100k_base"
    assert manifest["package_version"] == __version__
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    assert manifest["files"] == 3
    assert manifest["format"] == FORMAT_VERSION and manifest["segments"] == 1
    assert manifest["chunks"] == _count(built) > 0
    assert read_manifest(settings.index) == manifest


def test_files_table_lists_every_indexed_file(settings: Settings, built: Path) -> None:
    rows = _rows(built, "SELECT path, size, chunks FROM files ORDER BY path")
    assert [r[0] for r in rows] == FIXTURE_FILES
    for path, size, chunks in rows:
        assert size == (settings.corpus / path).stat().st_size
        assert chunks == _count(built, path) > 0


def test_stored_chunks_reproduce_the_document_text(settings: Settings, built: Path) -> None:
    rows = _rows(
        built, "SELECT path, char_start, char_end, start_line, end_line, page, text FROM chunks"
    )
    assert {r[0] for r in rows} == set(FIXTURE_FILES)
    for path, start, end, start_line, end_line, page, text in rows:
        document = (settings.corpus / path).read_bytes().decode("utf-8")
        assert isinstance(start, int) and isinstance(end, int)
        assert 0 <= start < end <= len(document)
        assert document[start:end] == text
        assert start_line == document.count("\n", 0, start) + 1
        assert end_line == start_line + text.count("\n")
        assert page is None


def test_stored_chunks_cover_every_word(settings: Settings, built: Path) -> None:
    for path in FIXTURE_FILES:
        document = (settings.corpus / path).read_text(encoding="utf-8")
        covered = [False] * len(document)
        # Headings are not chunked: they are the heading path of the chunks below them.
        for heading in load_document(settings.corpus / path, path).headings:
            covered[heading.start : heading.end] = [True] * (heading.end - heading.start)
        for start, end in _rows(
            built, "SELECT char_start, char_end FROM chunks WHERE path = ?", path
        ):
            covered[start:end] = [True] * (end - start)
        missed = [i for i, ch in enumerate(document) if not ch.isspace() and not covered[i]]
        assert missed == [], (path, document[missed[0] : missed[0] + 40] if missed else "")


def test_opened_index_agrees_with_its_parts(settings: Settings, built: Path) -> None:
    index = open_index(settings.index)
    try:
        assert len(index.vectors) == index.table.count()
        assert index.vectors.dimension == DIMENSION
        chunks = index.table.get(range(index.table.count()))
        assert set(chunks) == set(range(index.table.count()))  # ids 0..n-1 on a first build
        # Every stored vector is the embedding of its chunk's text.
        ids = sorted(chunks)
        read = [passage_text(chunks[i].heading, chunks[i].text, chunks[i].column) for i in ids]
        expected = FakeEmbedder().embed_documents(read)
        np.testing.assert_allclose(index.vectors.reconstruct(ids), expected, atol=1e-6)
    finally:
        index.close()


def test_each_update_adds_a_segment_and_keeps_no_orphans(settings: Settings, built: Path) -> None:
    for n in range(2):
        (settings.corpus / f"extra{n}.txt").write_text(f"Extra note number {n} about owls.\n")
        update_index(settings, Encoders.single(FakeEmbedder()))
    assert committed(settings.index) == 3
    assert live_segments(settings.index) == ["seg-000001", "seg-000002", "seg-000003"]
    assert orphans(settings.index) == []


def test_a_changed_file_is_tombstoned_in_its_old_segment(settings: Settings, built: Path) -> None:
    before = _rows(built, "SELECT id FROM chunks WHERE path = 'recipes.txt'")
    with (settings.corpus / "recipes.txt").open("a") as handle:
        handle.write("\nRye bread keeps for a week.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    dead = _rows(built, "SELECT chunk_id FROM tombstones ORDER BY chunk_id")
    assert dead == before and dead
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search("rye bread").hits
    assert hits and hits[0].chunk.path == "recipes.txt"
    assert {h.chunk.id for h in hits}.isdisjoint({d for (d,) in dead})


@pytest.mark.parametrize("generation_format", [2, 3])  # 3: main's, with the ocr column
def test_an_old_format_index_is_never_read_and_is_rebuilt(
    settings: Settings, generation_format: int
) -> None:
    old = settings.index / "gen-000001"
    old.mkdir(parents=True)
    (settings.index / "CURRENT").write_text("gen-000001")
    (old / "manifest.json").write_text(json.dumps({"format": generation_format}))
    with pytest.raises(IndexCorruptError, match="older format") as info:
        open_index(settings.index)
    assert info.value.exit_code == ExitCode.INDEX_UNUSABLE
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert "older format" in report.rebuilt_because
    assert sorted(report.added) == FIXTURE_FILES
    assert committed(settings.index) == 1 and orphans(settings.index) == []
    assert not (settings.index / "CURRENT").exists() and not old.exists()


def test_an_early_segmented_index_without_the_ocr_column_is_rebuilt(
    settings: Settings, built: Path
) -> None:
    db = sqlite3.connect(settings.index / INDEX_DB)
    db.execute("ALTER TABLE chunks DROP COLUMN ocr")  # as segments' format 3 wrote them
    manifest = json.loads(db.execute("SELECT manifest FROM commits").fetchone()[0])
    db.execute("UPDATE commits SET manifest = ?", (json.dumps({**manifest, "format": 3}),))
    db.commit()
    db.close()
    with pytest.raises(IndexCorruptError, match="older format"):
        open_index(settings.index)
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert "older format" in report.rebuilt_because
    assert sorted(report.added) == FIXTURE_FILES
    assert read_manifest(settings.index)["format"] == FORMAT_VERSION
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search("rye bread").hits
    assert hits and hits[0].chunk.path == "recipes.txt" and not hits[0].chunk.ocr


# --- nothing is pickled --------------------------------------------------------------


def test_no_stored_file_is_a_pickle(settings: Settings, built: Path) -> None:
    files = [p for p in settings.index.rglob("*") if p.is_file()]
    assert len(files) >= 8
    for path in files:
        head = path.read_bytes()[:2]
        assert not (len(head) == 2 and head[0] == 0x80 and 1 <= head[1] <= 5), path


def test_numpy_files_load_without_pickle(built: Path) -> None:
    npy = sorted((built / "bm25").glob("*.npy"))
    assert {p.name for p in npy} >= {"chunk_ids.npy"}
    for path in npy:
        array = np.load(path, allow_pickle=False)
        assert array.dtype != object, path
    ids = np.load(built / "bm25" / "chunk_ids.npy", allow_pickle=False)
    assert sorted(ids.tolist()) == list(range(_count(built)))


def test_json_parts_are_plain_json(built: Path) -> None:
    for path in (built / "bm25").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


# --- missing and corrupt indexes -----------------------------------------------------


def test_missing_index_raises_index_missing(settings: Settings) -> None:
    with pytest.raises(IndexMissingError) as info:
        Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(
            "When were the tomatoes planted?"
        )
    assert info.value.exit_code == ExitCode.INDEX_UNUSABLE == 3
    assert "excerpta index" in info.value.hint


def _truncate(relpath: str, size: int) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        path = generation / relpath
        path.write_bytes(path.read_bytes()[:size])

    return corrupt


def _garble(relpath: str) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        path = generation / relpath
        data = bytearray(path.read_bytes())
        for i in range(0, len(data), 7):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))

    return corrupt


def _replace(relpath: str, data: bytes) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        (generation / relpath).write_bytes(data)

    return corrupt


def _database(sql: str, *params: object) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, segment: Path) -> None:
        db = sqlite3.connect(index / INDEX_DB)
        db.execute(sql, params)
        db.commit()
        db.close()

    return corrupt


def _in_index(corruption: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    """Apply a file corruption to the commit point instead of a segment file."""

    def corrupt(index: Path, segment: Path) -> None:
        db = sqlite3.connect(index / INDEX_DB)  # fold the WAL into the file first
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        for suffix in ("-wal", "-shm"):
            (index / f"{INDEX_DB}{suffix}").unlink(missing_ok=True)
        corruption(index, index)

    return corrupt


def _delete(relpath: str) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        (generation / relpath).unlink()

    return corrupt


CORRUPTIONS = {
    "vectors empty": _truncate("vectors.faiss", 0),
    "vectors truncated": _truncate("vectors.faiss", 100),
    "vectors garbled": _garble("vectors.faiss"),
    "vectors deleted": _delete("vectors.faiss"),
    "sqlite empty": _in_index(_truncate(INDEX_DB, 0)),
    "sqlite truncated": _in_index(_truncate(INDEX_DB, 4096)),
    "sqlite garbled": _in_index(_garble(INDEX_DB)),
    "sqlite disagrees with vectors": _database("DELETE FROM chunks WHERE id = 0"),
    "manifest empty": _database("UPDATE commits SET manifest = ''"),
    "manifest truncated": _database("UPDATE commits SET manifest = substr(manifest, 1, 20)"),
    "manifest not an object": _database("UPDATE commits SET manifest = '[1, 2]'"),
    "manifest other format": _database("""UPDATE commits SET manifest = '{"format": 99}'"""),
    "manifest not utf-8": _database("UPDATE commits SET manifest = ?", b"\xff\xfe{}"),
    "segment unlisted": _database("DELETE FROM segments"),
    "segment listed twice": _database(
        "INSERT INTO segments VALUES ('seg-000009', 3, 1, NULL, 'Flat')"
    ),
    "bm25 ids garbled": _replace("bm25/chunk_ids.npy", b"junk"),
    "bm25 lengths deleted": _delete("bm25/lengths.npy"),
    "bm25 data garbled": _replace("bm25/data.csc.index.npy", b"junk"),
    "bm25 vocab wrong shape": _replace("bm25/vocab.index.json", b"[1]"),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_corrupt_index_is_unusable_and_full_update_recovers(
    settings: Settings, built: Path, corrupt: Callable[[Path, Path], None]
) -> None:
    corrupt(settings.index, built)
    try:
        Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(
            "When were the tomatoes planted?"
        )
    except IndexUnusableError as exc:
        assert exc.exit_code == ExitCode.INDEX_UNUSABLE
        assert "excerpta index" in exc.hint
    except Exception as exc:  # any other type is the failure being tested
        pytest.fail(f"raised {type(exc).__name__}: {exc}, not an IndexUnusableError")
    else:
        pytest.fail("a corrupt index was used without error")

    embedder = FakeEmbedder()
    report = update_index(settings, Encoders.single(embedder), full=True)
    assert sorted(report.added) == FIXTURE_FILES
    assert report.chunks_embedded == len(embedder.embedded) > 0
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(
        "When were the tomatoes planted?"
    )
    assert not answer.abstained
    assert "tomatoes were planted in May" in answer.text
    assert answer.citations[0].path == "notes/garden.md"


def test_corrupt_vectors_raise_index_corrupt(settings: Settings, built: Path) -> None:
    (built / "vectors.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexCorruptError, match="vector index"):
        open_index(settings.index)


# --- another process commits while the index is being opened -------------------------


def _racing(settings: Settings, monkeypatch: pytest.MonkeyPatch, races: int) -> list[str]:
    """Make the first ``races`` segment loads lose a race: as each starts, another
    writer's full rebuild commits and its clean-up deletes the segment being loaded.
    Returns the names of the segments loaded, in order."""
    loaded: list[str] = []
    load = Segment.load

    def racing_load(folder: Path) -> Segment:
        loaded.append(folder.name)
        if len(loaded) <= races:
            update_index(settings, Encoders.single(FakeEmbedder()), full=True)
            shutil.rmtree(folder)
        return load(folder)

    monkeypatch.setattr(Segment, "load", staticmethod(racing_load))
    return loaded


def test_a_segment_removed_by_a_newer_commit_is_retried_on_that_commit(
    settings: Settings, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _racing(settings, monkeypatch, races=1)
    index = open_index(settings.index)
    assert loaded == ["seg-000001", "seg-000002"]
    assert index.generation == committed_generation(settings.index) == 2
    index.close()


def test_losing_every_race_is_index_changed_not_corrupt(
    settings: Settings, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's failure: "... unreadable, rebuild it: excerpta index --full" (exit 3)
    for an index that is whole: only newer than the one being opened."""
    loaded = _racing(settings, monkeypatch, races=3)
    with pytest.raises(IndexChangedError, match="changed while it was being opened") as caught:
        open_index(settings.index)
    assert len(loaded) == 3
    assert caught.value.exit_code == ExitCode.FAILURE and caught.value.hint == "run it again"


def test_a_damaged_segment_with_no_newer_commit_is_corrupt_at_once(
    settings: Settings, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (built / "vectors.faiss").unlink()
    loaded = _racing(settings, monkeypatch, races=0)
    with pytest.raises(IndexCorruptError, match="missing"):
        open_index(settings.index)
    assert loaded == ["seg-000001"]  # not retried: no commit will mend it


# --- a folder that is not Excerpta's -------------------------------------------------


def _own_files(folder: Path) -> list[Path]:
    """A folder of someone's own: a report, and a file in a folder named segments."""
    (folder / "segments").mkdir(parents=True)
    (folder / "segments" / "mine.txt").write_text("mine\n")
    (folder / "report.txt").write_text("report\n")
    return sorted(folder.rglob("*"))


def test_an_update_refuses_a_folder_of_other_files(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "userdocs"
    before = _own_files(folder)
    chosen = dataclasses.replace(settings, index=folder)
    with pytest.raises(UsageError) as raised:
        update_index(chosen, Encoders.single(FakeEmbedder()))
    assert "is not an Excerpta index" in raised.value.message and raised.value.hint
    assert sorted(folder.rglob("*")) == before  # not even a lock file


def test_the_cli_refuses_it_with_exit_2(settings: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from assistant.cli import main

    folder = tmp_path / "userdocs"
    before = _own_files(folder)
    result = CliRunner().invoke(
        main, ["index", "--corpus", str(settings.corpus), "--index", str(folder)]
    )
    assert result.exit_code == 2 and "not an Excerpta index" in result.stderr
    assert sorted(folder.rglob("*")) == before


@pytest.mark.parametrize("present", [[], [".gitignore"], [".lock", "encoder-abc123"]])
def test_an_empty_folder_or_one_before_its_first_commit_is_indexed(
    settings: Settings, tmp_path: Path, present: list[str]
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    for name in present:
        (folder / name).mkdir() if name.startswith("encoder-") else (folder / name).touch()
    chosen = dataclasses.replace(settings, index=folder)
    report = update_index(chosen, Encoders.single(FakeEmbedder()))
    assert report.chunks_total > 0 and (folder / INDEX_DB).exists()


def test_cleanup_leaves_names_excerpta_does_not_write(settings: Settings) -> None:
    embedder = FakeEmbedder()
    update_index(settings, Encoders.single(embedder))
    stray = settings.index / "segments" / "mine.txt"
    stray.write_text("mine\n")
    (settings.index / "segments" / "seg-notmine").mkdir()
    (settings.corpus / "more.txt").write_text("Herons nest by the river.\n")
    update_index(settings, Encoders.single(embedder))
    update_index(settings, Encoders.single(embedder), full=True, compact=True)
    assert stray.read_text() == "mine\n" and (settings.index / "segments" / "seg-notmine").is_dir()


def test_a_full_rebuild_of_a_damaged_index_keeps_foreign_files(settings: Settings) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    stray = settings.index / "segments" / "mine.txt"
    stray.write_text("mine\n")
    (settings.index / INDEX_DB).write_bytes(b"not a database" * 100)
    update_index(settings, Encoders.single(FakeEmbedder()), full=True)
    assert stray.read_text() == "mine\n" and open_index(settings.index).generation > 0
