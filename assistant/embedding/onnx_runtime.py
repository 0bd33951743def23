"""Encoding with an exported model: onnxruntime and the model's fast tokenizer, no torch.

An export folder (see export.py) holds ``model.onnx`` (full precision), ``model.int8.onnx``
(quantized), ``tokenizer.json`` and ``encoder.json`` (inputs, pooling, sizes; for a model
that wants them, the prefixes of questions and passages and a codepoint map applied before
tokenizing, see e5_export.py). Pooling and normalization are the model's own, so vectors
match sentence-transformers'. Must not import textual or torch; onnxruntime is imported
when an encoder is opened.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import model_errors
from .protocol import Vectors

_REEXPORT = "if it fails again, reinstall Excerpta (make setup) and rebuild: excerpta index --full"

# How making or opening an export can fail: no onnxruntime (or onnx), a damaged or partial
# file, an export of an incompatible version. Each only costs speed: the model serves.
EXPORT_ERRORS = (ImportError, OSError, RuntimeError, ValueError, KeyError)
INFO = "encoder.json"
FULL = "model.onnx"
QUANTIZED = "model.int8.onnx"


class OnnxEmbedder:
    """Encodes texts with an exported model: onnxruntime + the fast tokenizer, no torch.

    Args:
        tokenizer_of: an embedder of the same export whose tokenizer this one shares
            (multilingual-e5's takes ~0.9 s to load: questions and passages load it once).
    """

    def __init__(
        self,
        folder: Path,
        *,
        batch_size: int = 32,
        model_file: str = FULL,
        threads: int = 0,
        tokenizer_of: OnnxEmbedder | None = None,
    ) -> None:
        import onnxruntime as ort  # deferred: only the query path needs it
        from tokenizers import Tokenizer

        self._info = json.loads((folder / INFO).read_text())
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:  # a Ray worker's CPU share; 0: onnxruntime's default (every core)
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(
                str(folder / model_file), options, providers=["CPUExecutionProvider"]
            )
        # onnxruntime's own errors (NoSuchFile, InvalidProtobuf, Fail) derive from
        # Exception alone: a missing or damaged file becomes the OSError callers expect.
        except Exception as exc:
            raise OSError(f"cannot load {folder / model_file}: {exc}") from exc
        self._tokenizer: Tokenizer
        self._lock: threading.Lock
        if tokenizer_of is not None:
            self._tokenizer, self._lock = tokenizer_of._tokenizer, tokenizer_of._lock
        else:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._lock = threading.Lock()  # its padding and truncation are shared state
        self._longest = int(self._info.get("max_input_tokens", int(self._info["max_tokens"]) + 2))
        self._prefixes: dict[str, str] = dict(self._info.get("prefixes", {}))
        self._table = str.maketrans(self._info.get("normalization", {}))
        self._batch_size = batch_size
        self.model_file = model_file
        self.folder = folder

    @property
    def name(self) -> str:
        return str(self._info["model"])

    @property
    def max_tokens(self) -> int:
        return int(self._info["max_tokens"])

    def dimension(self) -> int:
        return int(self._info["dimension"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        texts = [t.translate(self._table) for t in texts] if self._table else list(texts)
        with self._lock, model_errors("the encoder's tokenizer", _REEXPORT):
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
            encoded = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(self._prepared(texts, "passage"))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(self._prepared(texts, "query"))

    def _prepared(self, texts: Sequence[str], kind: str) -> Sequence[str]:
        """The texts as the model wants them: its prefix, its codepoint map."""
        prefix = self._prefixes.get(kind, "")
        if not prefix and not self._table:
            return texts
        return [(prefix + t).translate(self._table) for t in texts]

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
        with self._lock, model_errors("the encoder's tokenizer", _REEXPORT):
            self._tokenizer.enable_truncation(self._longest)
            self._tokenizer.enable_padding()
            encoded = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        inputs = {n: feeds[n] for n in self._info["inputs"]}
        with model_errors("the encoder model", _REEXPORT):
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
