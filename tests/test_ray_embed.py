"""Tests for embedding on a Ray cluster (indexing/ray_embed.py), on one real local
cluster per session (conftest's ``ray_cluster``); skipped where Ray isn't installed,
except what must hold without it."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from assistant.errors import ClusterError, ExitCode
from assistant.indexing import Watcher, update_index
from assistant.records import IndexReport
from assistant.store import open_index
from tests.fakes import FakeEmbedder
from tests.index_state import committed, orphans, rows
from tests.test_rolling_writer import Killed, chunk_texts, kill_at_commit, write_notes

QUERIES = ["ferry island 7", "lighthouse keeper", "tomatoes planted", "protesters demanding"]


def ranked(settings: Settings) -> list[list[tuple[str, float]]]:
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    return [
        [(h.chunk.text, round(h.score, 5)) for h in assistant.search(q, k=10, mode="dense").hits]
        for q in QUERIES
    ]


def max_difference(mine: Path, theirs: Path) -> float:
    """The largest difference between two indexes' vectors of the same chunk ids."""
    ids = [row[0] for row in rows(mine, "SELECT id FROM chunks ORDER BY id")]
    assert ids == [row[0] for row in rows(theirs, "SELECT id FROM chunks ORDER BY id")]
    first, second = open_index(mine), open_index(theirs)
    try:
        return float(np.abs(first.vectors.reconstruct(ids) - second.vectors.reconstruct(ids)).max())
    finally:
        first.close()
        second.close()


@pytest.fixture
def many(settings: Settings) -> Settings:
    write_notes(settings.corpus, 30)
    return dataclasses.replace(settings, ray="local", workers=2, commit_every=8)


def test_without_ray_the_run_fails_with_the_install_hint(
    many: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(ClusterError) as caught:
        update_index(many, Encoders.single(FakeEmbedder()))
    assert caught.value.hint == "pip install 'excerpta[ray]'"
    assert committed(many.index) == 0


def test_cli_without_ray_exits_1_with_the_hint(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, isolated: None
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder())),
    )
    monkeypatch.setenv("EXCERPTA_RAY", "local")
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    result = CliRunner().invoke(main, ["index", *where])
    assert result.exit_code == ExitCode.FAILURE
    assert "hint: pip install 'excerpta[ray]'" in result.stderr
    assert "Traceback" not in result.output


def test_the_local_path_never_imports_ray(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # any import of ray would raise
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert report.chunks_total > 0 and report.workers == 0


@pytest.mark.usefixtures("ray_cluster")
def test_a_ray_built_index_searches_as_a_local_one(many: Settings) -> None:
    report = update_index(many, Encoders.single(FakeEmbedder()))
    assert report.workers == 2 and report.chunks_per_second > 0
    local = dataclasses.replace(many, index=many.index.parent / "local", ray="")
    update_index(local, Encoders.single(FakeEmbedder()))
    assert chunk_texts(many.index) == chunk_texts(local.index)  # same ids, same order
    assert max_difference(many.index, local.index) < 1e-5
    assert ranked(many) == ranked(local)


@pytest.mark.usefixtures("ray_cluster")
def test_a_killed_ray_run_resumes_embedding_only_the_missing_chunks(many: Settings) -> None:
    with pytest.raises(Killed):
        update_index(many, Encoders.single(FakeEmbedder()), progress=kill_at_commit(2))
    kept = chunk_texts(many.index)
    assert committed(many.index) == 2 and kept
    report = update_index(many, Encoders.single(FakeEmbedder()))
    assert report.chunks_embedded == len(set(chunk_texts(many.index)) - set(kept))
    assert report.chunks_embedded < report.chunks_total
    assert orphans(many.index) == []


@pytest.mark.usefixtures("ray_cluster")
def test_a_worker_that_raises_fails_the_run_in_one_line_and_keeps_the_index(
    many: Settings,
) -> None:
    update_index(many, Encoders.single(FakeEmbedder()))
    before = ranked(many)
    generation = committed(many.index)
    (many.corpus / "new.txt").write_text("A brand new note about comets.\n")
    broken = dataclasses.replace(many, commit_every=50_000)
    with pytest.raises(ClusterError) as caught:
        update_index(broken, Encoders.single(FakeEmbedder(fail_after=0)))
    assert caught.value.message == (
        "a Ray worker failed: RuntimeError: simulated crash while embedding"
    )
    assert "\n" not in caught.value.message and "run excerpta index" in caught.value.hint
    assert committed(many.index) == generation and orphans(many.index) == []
    assert ranked(many) == before


@pytest.mark.usefixtures("ray_cluster")
def test_index_ray_json_reports_workers_and_rate(
    many: Settings, monkeypatch: pytest.MonkeyPatch, isolated: None
) -> None:
    monkeypatch.setattr(
        "assistant.cli.make_assistant",
        lambda s: Assistant(s, encoders=Encoders.single(FakeEmbedder())),
    )
    where = ["--corpus", str(many.corpus), "--index", str(many.index)]
    result = CliRunner().invoke(
        main, ["index", *where, "--ray", "local", "--workers", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["workers"] == 2 and report["chunks_per_second"] > 0
    assert "chunks/s on 2 Ray workers" in result.stderr


@pytest.mark.model
@pytest.mark.usefixtures("ray_cluster")
def test_workers_build_the_int8_export_and_match_the_local_vectors(
    settings: Settings, tmp_path: Path
) -> None:
    """The real encoder travels as its export's files; each worker opens its session."""
    ray = dataclasses.replace(settings, ray="local", workers=2)
    Assistant(ray).update_index()
    local = dataclasses.replace(settings, index=tmp_path / "local")
    Assistant(local).update_index()
    assert chunk_texts(ray.index) == chunk_texts(local.index)
    assert max_difference(ray.index, local.index) < 1e-5


def test_the_watcher_embeds_here_whatever_ray_says(
    many: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # any import of ray would raise
    reports: list[IndexReport] = []
    stop = threading.Event()

    def updated(report: IndexReport) -> None:
        reports.append(report)
        stop.set()

    Watcher(many, Encoders.single(FakeEmbedder()), on_update=updated, stop=stop).run()
    assert reports[0].chunks_total > 0 and reports[0].workers == 0
