"""A torch-free query encoder: the model's transformer exported to ONNX, kept with the index.

Importing torch and sentence-transformers costs 7-11 s on a small machine, more than a
whole question should take. After an index update, the model's transformer is exported
once to ``index/encoder-<key>/`` and its vectors are checked against the
sentence-transformers ones; questions are then encoded with onnxruntime and the model's
fast tokenizer, with the same pooling and normalization. If the export or the check
fails, questions fall back to sentence-transformers. Must not import textual or torch
(the export imports torch lazily; it runs only where the model is already loaded).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import SentenceTransformerEmbedder, Vectors

_CHECK_TEXTS = [
    "When was Castillo removed from office?",
    "The protesters are demanding new elections and a constituent assembly.",
    "Mount Kilimanjaro is the highest mountain in Africa, 5,895 metres above sea level.",
    "x",
]
_MIN_COSINE = 0.999  # the export must reproduce the model's vectors this closely
_INFO = "encoder.json"


def encoder_dir(index_dir: Path, model: str) -> Path:
    """Where the ONNX encoder of ``model`` lives in an index folder."""
    key = hashlib.sha256(model.encode()).hexdigest()[:12]
    return index_dir / f"encoder-{key}"


def has_encoder(index_dir: Path, model: str) -> bool:
    return (encoder_dir(index_dir, model) / _INFO).is_file()


QUANTIZED = "model.int8.onnx"
_MIN_QUANTIZED_COSINE = 0.95  # measured 0.994 on sentences, 0.972 on "x"


def quantize_encoder(folder: Path) -> bool:
    """Write an int8 copy of the encoder for scoring answer sentences; True if it's there.

    Sentence scoring tolerates the small error (cosine ~0.99 to the full model) and runs
    about 1.5x faster; retrieval keeps the full-precision encoder.
    """
    target = folder / QUANTIZED
    if target.is_file():
        return True
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        work = folder / f".{QUANTIZED}.tmp"
        logging.disable(logging.WARNING)  # the quantizer logs advice to the root logger
        try:
            quantize_dynamic(
                str(folder / "model.onnx"),
                str(work),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            logging.disable(logging.NOTSET)
        full = OnnxEmbedder(folder).embed_queries(_CHECK_TEXTS)
        quick = OnnxEmbedder(folder, model_file=work.name).embed_queries(_CHECK_TEXTS)
        if float(np.min(np.sum(full * quick, axis=1))) < _MIN_QUANTIZED_COSINE:
            work.unlink(missing_ok=True)
            return False
        os.replace(work, target)
        return True
    except (ImportError, OSError, RuntimeError, ValueError):
        return False  # only a speed-up is lost


def export_encoder(index_dir: Path, embedder: SentenceTransformerEmbedder) -> bool:
    """Export the model to ONNX next to the index; True when a checked export is in place.

    Loads the model (and torch) if it isn't loaded yet, so call it where it is.
    """
    target = encoder_dir(index_dir, embedder.name)
    if (target / _INFO).is_file():
        return True
    try:
        import onnxruntime  # noqa: F401  (without it the export would be useless)
    except ImportError:
        return False
    work = Path(tempfile.mkdtemp(prefix=".encoder-", dir=index_dir))
    try:
        _export(embedder, work)
        reference = embedder.embed_queries(_CHECK_TEXTS)
        candidate = OnnxEmbedder(work).embed_queries(_CHECK_TEXTS)
        agreement = float(np.min(np.sum(reference * candidate, axis=1)))
        if agreement < _MIN_COSINE:
            return False
        info = json.loads((work / _INFO).read_text())
        info["checked_cosine"] = round(agreement, 6)
        (work / _INFO).write_text(json.dumps(info, indent=2))
        os.replace(work, target)
        return True
    except (OSError, RuntimeError, ValueError, ImportError):
        # An export that fails (an unusual architecture, no `onnx` package) only costs
        # speed: questions use sentence-transformers instead.
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export(embedder: SentenceTransformerEmbedder, folder: Path) -> None:
    import torch  # deferred: only here, where the model is loaded anyway

    model = embedder.loaded_model()
    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(_CHECK_TEXTS[:2], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    # The exporter explains its own internals in warnings; users can't act on them.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(transformer),
            tuple(sample[n] for n in names),
            str(folder / "model.onnx"),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(embedder.path / "tokenizer.json", folder / "tokenizer.json")
    pooling = _pooling_mode(embedder.path)
    info = {
        "model": embedder.name,
        "inputs": names,
        "pooling": pooling,
        "max_tokens": embedder.max_tokens,
        "dimension": embedder.dimension(),
    }
    (folder / _INFO).write_text(json.dumps(info, indent=2))


def _pooling_mode(model_dir: Path) -> str:
    try:
        config = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config.get("pooling_mode_max_tokens"):
        return "max"
    return "mean"


class OnnxEmbedder:
    """Encodes texts with an exported model: onnxruntime + the fast tokenizer, no torch."""

    def __init__(
        self, folder: Path, *, batch_size: int = 32, model_file: str = "model.onnx"
    ) -> None:
        import onnxruntime as ort  # deferred: only the query path needs it
        from tokenizers import Tokenizer

        self._info = json.loads((folder / _INFO).read_text())
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(folder / model_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(self._info["max_tokens"]) + 2)
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._batch_size = batch_size
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self._info["model"])

    @property
    def max_tokens(self) -> int:
        return int(self._info["max_tokens"])

    def dimension(self) -> int:
        return int(self._info["dimension"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        encoded = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        # Sorting by length keeps padding small within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension()), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        with self._lock:  # the tokenizer's padding state is shared
            self._tokenizer.enable_padding()
            encoded = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        inputs = {n: feeds[n] for n in self._info["inputs"]}
        hidden = self._session.run(None, inputs)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooling = self._info["pooling"]
        if pooling == "cls":
            pooled = hidden[:, 0]
        elif pooling == "max":
            pooled = np.where(mask > 0, hidden, -np.inf).max(axis=1)
        else:
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return vectors
