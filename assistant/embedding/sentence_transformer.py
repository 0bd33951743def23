"""Embedding with a sentence-transformers model (torch), loaded on first use.

Importing sentence-transformers and torch costs seconds, so they are imported only when
a text is first embedded: counting tokens uses the model's fast tokenizer alone. Serves
when no ONNX export of the model can be had (see encoders.py). Must not import textual.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import ModelError
from .model_files import is_bundled, resolve_model_path, verify_bundled_weights
from .protocol import Vectors

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and thread-safely."""

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        self._name = name
        self._path = resolve_model_path(name)
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Tokenizer | None = None
        self._max_tokens = self._read_max_tokens()

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> Path:
        return self._path

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def _read_max_tokens(self) -> int:
        # Two places are kept for the special tokens ([CLS] and [SEP]).
        config = self._path / "sentence_bert_config.json"
        try:
            return int(json.loads(config.read_text())["max_seq_length"]) - 2
        except (OSError, KeyError, ValueError):
            return 254

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count word pieces with the model's fast tokenizer, without loading torch."""
        tokenizer = self._fast_tokenizer()
        if tokenizer is None:
            model_tokenizer = self._load().tokenizer
            return [len(model_tokenizer.tokenize(t)) for t in texts]
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def _fast_tokenizer(self) -> Tokenizer | None:
        if self._tokenizer is None:
            path = self._path / "tokenizer.json"
            if not path.exists():
                return None
            from tokenizers import Tokenizer  # deferred: small, but not needed to search

            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._tokenizer

    def dimension(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        method = getattr(model, "get_embedding_dimension", None)
        return int(method() if method else model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def loaded_model(self) -> Any:
        """The sentence-transformers model, loading it (and torch) if needed."""
        return self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def _load_model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # Library progress bars and notices would land in the terminal (or under the TUI).
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TQDM_DISABLE", "1")
        if is_bundled(self._name):
            verify_bundled_weights(self._path)
        # Deferred: importing sentence-transformers (and torch) takes seconds.
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load model from {self._path}: {exc}",
                hint="check the model folder, or set model = PATH in excerpta.toml",
            ) from exc
