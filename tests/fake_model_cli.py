"""Test-only hook: run the `excerpta` CLI with FakeEmbedder instead of the real model.

    python tests/fake_model_cli.py index --corpus C --index I

Subprocess tests (SIGKILL, SIGINT, two processes at once, network blocked) use it so
they need neither torch nor the model. The environment steers it:

- ``EXCERPTA_FAKE_SLEEP``: seconds to sleep per chunk embedded, so a kill can land
  mid-embedding.
- ``EXCERPTA_FAKE_PAUSE``: ``STAGE:SECONDS``, a stage of the update (as its progress
  callback reports them) at which to stop, so a test can kill the process exactly
  there: ``embed`` (before the first file), ``bm25`` (before the BM25 files are
  written), ``vectors`` (before the FAISS file is written), ``commit`` (before the
  manifest and CURRENT are written), ``swap`` (CURRENT.tmp written, not yet renamed)
  or ``prune`` (CURRENT switched, old generations not yet deleted).
- ``EXCERPTA_FAKE_READY``: a file created when the pause begins (without a pause: when
  the first embedding begins).
- ``EXCERPTA_FAKE_MAXRSS``: a file to write the peak resident memory (kB) to at exit.
- ``EXCERPTA_FAKE_NO_NETWORK=1``: every socket connection or name lookup fails and is
  logged to stderr as ``NETWORK ATTEMPT``.
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant.cli  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.embedding import Encoders, Vectors  # noqa: E402
from assistant.indexing import ProgressCallback  # noqa: E402
from assistant.records import IndexReport  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402

_PAUSE_SECONDS = 60.0


def _ready() -> None:
    marker = os.environ.get("EXCERPTA_FAKE_READY")
    if marker and not os.path.exists(marker):
        Path(marker).touch()


def _pause(stage: str) -> None:
    wanted, _, seconds = os.environ.get("EXCERPTA_FAKE_PAUSE", "").partition(":")
    if wanted == stage:
        _ready()
        time.sleep(float(seconds or _PAUSE_SECONDS))


class SlowFakeEmbedder(FakeEmbedder):
    """FakeEmbedder that can sleep per chunk and signal that embedding began."""

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not os.environ.get("EXCERPTA_FAKE_PAUSE"):
            _ready()
        delay = float(os.environ.get("EXCERPTA_FAKE_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay * len(texts))
        return super().embed_documents(texts)


class PausingAssistant(Assistant):
    """Pauses at the stage named by EXCERPTA_FAKE_PAUSE, through the progress callback
    every update reports its stages to (no module attribute is replaced)."""

    def update_index(
        self, *, progress: ProgressCallback | None = None, **options: Any
    ) -> IndexReport:
        def pausing(stage: str, done: int, total: int) -> None:
            if stage != "embed" or done == 0:
                _pause(stage)
            if progress is not None:
                progress(stage, done, total)

        return super().update_index(progress=pausing, **options)


def _block_network() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        print(f"NETWORK ATTEMPT {args!r}", file=sys.stderr, flush=True)
        raise OSError("network blocked by the test")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def _report_memory() -> None:
    target = os.environ.get("EXCERPTA_FAKE_MAXRSS")
    if target:
        Path(target).write_text(str(_peak_rss_kb()))


def _peak_rss_kb() -> int:
    """This process's peak resident memory, in kB.

    Linux carries ``ru_maxrss`` over exec, so a child of a large pytest process would
    report pytest's peak; VmHWM belongs to this process's own address space.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run() -> None:
    # A child started from a non-interactive shell may inherit SIGINT ignored; a user's
    # terminal delivers it, so restore Python's handler (KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("EXCERPTA_FAKE_NO_NETWORK") == "1":
        _block_network()
    atexit.register(_report_memory)
    encoders = Encoders.single(SlowFakeEmbedder())
    assistant.cli.make_assistant = lambda settings: PausingAssistant(settings, encoders=encoders)
    assistant.cli.main(prog_name="excerpta")


if __name__ == "__main__":
    run()
