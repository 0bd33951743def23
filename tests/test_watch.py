"""`excerpta index --watch` through the real CLI (tests/fake_model_cli.py): a saved file
is answerable and a deleted one uncited within seconds; another `index` refuses; SIGINT
exits 130 and SIGTERM 0, quickly, with the index whole, also in the middle of embedding
a large file. Time bounds are generous hang guards (the machine is shared); the measured
times are printed with -s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.embedding import Encoders
from tests.fakes import FakeEmbedder
from tests.index_state import orphans, rows

pytestmark = pytest.mark.usefixtures("isolated")

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "tests" / "fake_model_cli.py"
BOUND = 30.0  # seconds: a hang guard, not the goal (3 s; see the printed figures)
QUESTION = "Who keeps the lighthouse on Skerry Island?"
ANSWER = "Marta Olsen keeps the lighthouse on Skerry Island."


def _wait(condition: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > BOUND:
            pytest.fail(f"{what} did not happen within {BOUND:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def _cited(settings: Settings) -> bool:
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(QUESTION)
    return any(c.path == "lighthouse.txt" for c in answer.citations)


def _start(settings: Settings, log: Path, **env: str) -> subprocess.Popen[str]:
    """`excerpta index --watch` with the fake model, its stderr to ``log``."""
    with log.open("w") as err:
        return subprocess.Popen(
            [
                sys.executable,
                str(HOOK),
                "index",
                "--watch",
                "--corpus",
                str(settings.corpus),
                "--index",
                str(settings.index),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=dict(os.environ, **env),
            cwd=ROOT,
        )


@pytest.fixture
def watching(settings: Settings, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    log = tmp_path / "stderr.log"
    process = _start(settings, log)
    try:
        _wait(lambda: "indexed:" in log.read_text(), "the first update")
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_saved_file_is_answerable_and_a_deleted_one_uncited(
    settings: Settings, watching: tuple[subprocess.Popen[str], Path]
) -> None:
    process, log = watching
    (settings.corpus / "lighthouse.txt").write_text(ANSWER + "\n")
    added = _wait(lambda: _cited(settings), "answering about the saved file")
    (settings.corpus / "lighthouse.txt").unlink()
    removed = _wait(lambda: not _cited(settings), "dropping the deleted file")
    print(f"\nsaved -> answerable {added:.2f} s; deleted -> uncited {removed:.2f} s")
    lines = [line for line in log.read_text().splitlines() if "indexed:" in line]
    assert len(lines) == 3, lines  # the first update, the save, the deletion
    assert "1 added" in lines[1] and "1 removed" in lines[2]

    other = subprocess.run(
        [
            sys.executable,
            str(HOOK),
            "index",
            "--corpus",
            str(settings.corpus),
            "--index",
            str(settings.index),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert other.returncode == 1 and "another excerpta process" in other.stderr

    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, _ = process.communicate(timeout=BOUND)
    print(f"SIGINT -> exit {process.returncode} in {time.monotonic() - started:.2f} s")
    assert process.returncode == 130 and out == ""
    assert "excerpta: error: interrupted" in log.read_text()
    assert orphans(settings.index) == []
    assert not _cited(settings)


def test_sigterm_exits_0_with_the_index_whole(
    settings: Settings, watching: tuple[subprocess.Popen[str], Path]
) -> None:
    process, log = watching
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    process.communicate(timeout=BOUND)
    print(f"\nSIGTERM -> exit {process.returncode} in {time.monotonic() - started:.2f} s")
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(
        "When were the tomatoes planted?"
    )
    assert "May" in answer.text


def test_sigterm_stops_the_embedding_of_a_large_file(settings: Settings, tmp_path: Path) -> None:
    log, ready = tmp_path / "stderr.log", tmp_path / "embedding"
    # 20 ms a chunk: the large file's ~340 chunks take ~7 s, a slice of 32 well under 1 s.
    process = _start(settings, log, EXCERPTA_FAKE_SLEEP="0.02", EXCERPTA_FAKE_READY=str(ready))
    try:
        _wait(lambda: "indexed:" in log.read_text(), "the first update")
        ready.unlink()  # the marker is made again when the next embedding begins
        words = "lantern harbour granite orchard copper violin meadow falcon".split()
        (settings.corpus / "large.txt").write_text(
            "\n\n".join(
                f"Part {n}: " + " ".join(words[(n + i) % 8] for i in range(120)) for n in range(300)
            )
        )
        _wait(ready.exists, "embedding the large file")
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        process.communicate(timeout=BOUND)
        print(
            f"\nSIGTERM mid-embedding -> exit {process.returncode}"
            f" in {time.monotonic() - started:.2f} s"
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    # Stopped between slices: the file never reached a commit, and nothing is left over.
    assert ("large.txt",) not in rows(settings.index, "SELECT path FROM files")
    assert orphans(settings.index) == []
