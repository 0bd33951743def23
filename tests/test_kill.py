"""SIGKILL at injected points of an update and of the merge that follows it.

Each run copies one prepared index (nine small segments: the update about to run makes
the tenth, so the tiered policy merges right after it), runs ``excerpta index`` through
``tests/fake_model_cli.py``, and kills it: paused at a stage of the update or the merge
(reported through the progress callback), or after a random delay. After each kill the
index must open as exactly one of the commits the run could make (G before it, G+1 the
update, G+2 the merge, with the same contents as G+1), and once a writer has opened it
(``clean_up`` under the lock) no orphan file may be left. The default run kills once at
each stage and twice at random; ``-m slow`` runs 200 kills.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.config import Settings
from assistant.embedding import Encoders
from assistant.indexing import update_index
from assistant.retrieval import Retriever
from assistant.store import open_index
from assistant.store.commits import clean_up
from assistant.store.merge import MERGE_FACTOR
from tests.fakes import FakeEmbedder
from tests.index_state import committed, live_segments, orphans, rows

pytestmark = pytest.mark.usefixtures("isolated")

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "tests" / "fake_model_cli.py"
TIMEOUT = 120
UPDATE_STAGES = ["embed", "bm25", "vectors", "rename", "commit", "prune"]
MERGE_STAGES = ["merge", "merge-rename", "merge-commit", "merge-prune"]
ZEPPELIN = "The zeppelin lands beside the harbour."


@dataclass(frozen=True)
class Template:
    """A prepared corpus and index (commit G), and what G and G+1 hold."""

    folder: Path
    generation: int
    files: dict[int, list[tuple[str, str]]]  # (path, content hash) by commit


def _files(index: Path) -> list[tuple[str, str]]:
    return [(p, h) for p, h in rows(index, "SELECT path, content_hash FROM files ORDER BY path")]


def _prepare(folder: Path) -> Settings:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    settings = Settings(corpus=corpus, index=folder / "index")
    for n in range(MERGE_FACTOR - 1):
        (corpus / f"note-{n}.txt").write_text(f"Note {n} is about the lantern number {n}.\n")
        update_index(settings, Encoders.single(FakeEmbedder()))
    return settings


def _change(settings: Settings) -> None:
    """The update the kills interrupt: a new file, an edited one, a deleted one."""
    (settings.corpus / "zeppelin.txt").write_text(ZEPPELIN + "\n")
    (settings.corpus / "note-3.txt").write_text("Note three now speaks of owls.\n")
    (settings.corpus / "note-5.txt").unlink()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("kill-template")
    settings = _prepare(folder)
    generation = committed(settings.index)
    assert len(live_segments(settings.index)) == MERGE_FACTOR - 1
    before = _files(settings.index)
    _change(settings)
    reference = tmp_path_factory.mktemp("kill-reference")
    shutil.copytree(folder, reference, dirs_exist_ok=True)
    after = Settings(corpus=reference / "corpus", index=reference / "index")
    report = update_index(after, Encoders.single(FakeEmbedder()))
    assert report.segments_merged == MERGE_FACTOR  # the run below really merges
    assert committed(after.index) == generation + 2
    files = {generation: before, generation + 1: _files(after.index)}
    files[generation + 2] = files[generation + 1]
    return Template(folder, generation, files)


def _kill_once(template: Template, run: Path, *, stage: str | None, delay: float) -> int:
    """Copy the template, start an update, SIGKILL it; check the index; its generation."""
    shutil.copytree(template.folder, run)
    settings = Settings(corpus=run / "corpus", index=run / "index")
    ready = run / "ready"
    env = {**os.environ, "EXCERPTA_FAKE_READY": str(ready)}
    if stage is not None:
        env["EXCERPTA_FAKE_PAUSE"] = f"{stage}:60"
    else:
        env["EXCERPTA_FAKE_SLEEP"] = "0.05"
    args = ["index", "--corpus", str(settings.corpus), "--index", str(settings.index)]
    process = subprocess.Popen(
        [sys.executable, str(HOOK), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        if stage is not None:
            deadline = time.monotonic() + TIMEOUT
            while not ready.exists():
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, f"never reached {stage}"
                time.sleep(0.01)
        else:
            time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=TIMEOUT)
    return _check(template, settings)


def _check(template: Template, settings: Settings) -> int:
    generation = committed(settings.index)
    assert generation in template.files, f"commit {generation} after the kill"
    index = open_index(settings.index)  # a reader, without the lock
    try:
        assert len(index.vectors) == index.table.count() > 0
        hits = Retriever(index, FakeEmbedder()).search(
            ["Where does the zeppelin land?"], 3, "hybrid"
        )
        found = any(h.chunk.path == "zeppelin.txt" for h in hits[0])
        assert found == (generation > template.generation)
    finally:
        index.close()
    assert _files(settings.index) == template.files[generation]
    with FileLock(str(settings.index / ".lock")):  # the next writer's open
        clean_up(settings.index)
    assert orphans(settings.index) == [], f"orphans at commit {generation}"
    return generation


STAGES = UPDATE_STAGES + MERGE_STAGES


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_at_each_stage_leaves_commit_g_or_the_next(
    template: Template, tmp_path: Path, stage: str
) -> None:
    generation = _kill_once(template, tmp_path / "run", stage=stage, delay=0)
    expected = {"prune": 1, "merge": 1, "merge-rename": 1, "merge-commit": 1, "merge-prune": 2}
    assert generation == template.generation + expected.get(stage, 0)


@pytest.mark.parametrize("seed", range(2))
def test_sigkill_after_a_random_delay_leaves_a_whole_commit(
    template: Template, tmp_path: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.2, 2.5)
    _kill_once(template, tmp_path / "run", stage=None, delay=delay)


@pytest.mark.slow
def test_two_hundred_kills(template: Template, tmp_path: Path) -> None:
    """10 stages x 12 runs, then 80 kills after random delays: 200 in all."""
    rng = random.Random(200)
    seen: dict[int, int] = {}
    plan: list[tuple[str | None, float]] = [(s, 0.0) for s in STAGES for _ in range(12)]
    plan += [(None, rng.uniform(0.1, 3.0)) for _ in range(80)]
    for n, (stage, delay) in enumerate(plan):
        generation = _kill_once(template, tmp_path / f"run-{n}", stage=stage, delay=delay)
        seen[generation] = seen.get(generation, 0) + 1
        shutil.rmtree(tmp_path / f"run-{n}")
    assert sum(seen.values()) == 200
    print(f"\n200 kills: reopened at commit G+i: {dict(sorted(seen.items()))}")
