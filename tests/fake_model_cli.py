"""Test-only hook: run the `excerpta` CLI with FakeEmbedder instead of the real model.

    python tests/fake_model_cli.py index --corpus C --index I

Subprocess tests (SIGKILL, SIGINT, two processes at once, network blocked) use it so
they need neither torch nor the model. The environment steers it:

- ``EXCERPTA_FAKE_SLEEP``: seconds to sleep per chunk embedded, so a kill can land
  mid-embedding.
- ``EXCERPTA_FAKE_PAUSE``: a stage at which to stop for a long time, so a test can kill
  the process exactly there: ``embed`` (first embedding call), ``bm25`` (before the BM25
  files are written), ``vectors`` (before the FAISS file is written), ``commit`` (before
  the manifest and CURRENT are written), ``swap`` (CURRENT.tmp written, not yet renamed)
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant.cli  # noqa: E402  (needs the path above)
import assistant.indexing  # noqa: E402
import assistant.lexical  # noqa: E402
import assistant.store  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.embedding import Vectors  # noqa: E402
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
        _pause("embed")
        if not os.environ.get("EXCERPTA_FAKE_PAUSE"):
            _ready()
        delay = float(os.environ.get("EXCERPTA_FAKE_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay * len(texts))
        return super().embed_documents(texts)


def _before(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _pause(stage)
        return function(*args, **kwargs)

    return wrapper


def _install_pauses() -> None:
    lexical = assistant.lexical.LexicalIndex
    lexical.save = _before("bm25", lexical.save)  # type: ignore[method-assign]
    vectors = assistant.store.VectorIndex
    vectors.save = _before("vectors", vectors.save)  # type: ignore[method-assign]
    assistant.indexing.commit_generation = _before("commit", assistant.indexing.commit_generation)
    assistant.store.prune_generations = _before("prune", assistant.store.prune_generations)
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.fspath(dst).endswith("CURRENT"):
            _pause("swap")
        real_replace(src, dst, *args, **kwargs)

    os.replace = replace


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
        Path(target).write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def run() -> None:
    # A child started from a non-interactive shell may inherit SIGINT ignored; a user's
    # terminal delivers it, so restore Python's handler (KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("EXCERPTA_FAKE_NO_NETWORK") == "1":
        _block_network()
    _install_pauses()
    atexit.register(_report_memory)
    embedder = SlowFakeEmbedder()
    assistant.cli.make_assistant = lambda settings: Assistant(settings, embedder=embedder)
    assistant.cli.main(prog_name="excerpta")


if __name__ == "__main__":
    run()
