"""Tests for the index on disk: layout, manifest, stored chunks, no pickle, corruption."""

from __future__ import annotations

import json
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
    IndexCorruptError,
    IndexMissingError,
    IndexUnusableError,
)
from assistant.indexing import update_index
from assistant.store import open_index
from assistant.store.generations import current_generation, read_manifest
from assistant.text.reflow import passage_text
from tests.fakes import DIMENSION, FakeEmbedder

FIXTURE_FILES = ["notes/garden.md", "peru-coup-government-us-troops.txt", "recipes.txt"]


def _generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))


def _rows(generation: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{generation / 'chunks.sqlite'}?mode=ro", uri=True)
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def _count(generation: Path, path: str | None = None) -> int:
    if path is None:
        return int(_rows(generation, "SELECT count(*) FROM chunks")[0][0])
    return int(_rows(generation, "SELECT count(*) FROM chunks WHERE path = ?", path)[0][0])


@pytest.fixture
def built(settings: Settings) -> Path:
    """The live generation folder of an index built from the fixture corpus."""
    update_index(settings, Encoders.single(FakeEmbedder()))
    generation = current_generation(settings.index)
    assert generation is not None
    return generation


# --- layout and manifest -------------------------------------------------------------


def test_first_build_writes_one_generation_and_current(settings: Settings, built: Path) -> None:
    assert (settings.index / "CURRENT").read_text(encoding="utf-8").strip() == "gen-000001"
    assert built == settings.index / "gen-000001"
    assert _generations(settings.index) == ["gen-000001"]
    assert sorted(p.name for p in built.iterdir()) == [
        "bm25",
        "chunks.sqlite",
        "manifest.json",
        "vectors.faiss",
    ]
    assert (built / "bm25").is_dir()
    assert (built / "bm25" / "chunk_ids.npy").is_file()
    assert not (settings.index / "CURRENT.tmp").exists()


def test_manifest_records_what_the_index_is_tied_to(settings: Settings, built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == settings.model == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == DIMENSION
    assert manifest["chunking"] == {
        "chunk_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.overlap_tokens,
        "encoding": settings.encoding,
    }
    assert manifest["tiktoken_encoding"] == "cl100k_base"
    assert manifest["package_version"] == __version__
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    assert manifest["files"] == 3
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


def test_old_generations_are_pruned_to_live_and_predecessor(
    settings: Settings, built: Path
) -> None:
    for n in range(2):
        (settings.corpus / f"extra{n}.txt").write_text(f"Extra note number {n} about owls.\n")
        update_index(settings, Encoders.single(FakeEmbedder()))
    assert _generations(settings.index) == ["gen-000002", "gen-000003"]
    assert current_generation(settings.index) == settings.index / "gen-000003"


# --- nothing is pickled --------------------------------------------------------------


def test_no_stored_file_is_a_pickle(settings: Settings, built: Path) -> None:
    files = [p for p in settings.index.rglob("*") if p.is_file()]
    assert len(files) >= 6
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
    for path in [built / "manifest.json", *(built / "bm25").glob("*.json")]:
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


def _current(data: bytes) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        (index / "CURRENT").write_bytes(data)

    return corrupt


def _delete(relpath: str) -> Callable[[Path, Path], None]:
    def corrupt(index: Path, generation: Path) -> None:
        (generation / relpath).unlink()

    return corrupt


def _drop_one_chunk(index: Path, generation: Path) -> None:
    db = sqlite3.connect(generation / "chunks.sqlite")
    db.execute("DELETE FROM chunks WHERE id = 0")
    db.commit()
    db.close()


CORRUPTIONS = {
    "vectors empty": _truncate("vectors.faiss", 0),
    "vectors truncated": _truncate("vectors.faiss", 100),
    "vectors garbled": _garble("vectors.faiss"),
    "vectors deleted": _delete("vectors.faiss"),
    "sqlite empty": _truncate("chunks.sqlite", 0),
    "sqlite truncated": _truncate("chunks.sqlite", 4096),
    "sqlite garbled": _garble("chunks.sqlite"),
    "sqlite deleted": _delete("chunks.sqlite"),
    "sqlite disagrees with vectors": _drop_one_chunk,
    "manifest empty": _truncate("manifest.json", 0),
    "manifest truncated": _truncate("manifest.json", 20),
    "manifest not an object": _replace("manifest.json", b"[1, 2]"),
    "manifest other format": _replace("manifest.json", b'{"format": 99}'),
    "manifest not utf-8": _replace("manifest.json", b"\xff\xfe{}"),
    "bm25 ids garbled": _replace("bm25/chunk_ids.npy", b"junk"),
    "bm25 params truncated": _replace("bm25/params.index.json", b"{"),
    "CURRENT empty": _current(b""),
    "CURRENT damaged": _current(b"gen-1; rm -rf /"),
    "CURRENT dangling": _current(b"gen-000042"),
    "CURRENT not utf-8": _current(b"\xff\xfegen"),
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
