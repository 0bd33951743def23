"""The one library object both faces use: ``Assistant(settings).ask(question)``.

It owns the settings, the embedder (created lazily: loading torch takes seconds) and the
opened index, and swaps in a new index after an update while searches keep using the
old one until then. Must not import textual, click or torch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .answer import AnswerPolicy, compose_answer, sentences_to_embed
from .config import Settings
from .embedding import CachedEmbedder, Embedder, LazyEmbedder
from .errors import IndexMismatchError, IndexUnusableError
from .indexing import ProgressCallback, mismatch_reason, plan_update, update_index
from .records import Answer, Hit, IndexReport, SearchResult
from .retrieval import Retriever
from .store import StoredIndex, open_index, read_manifest


@dataclass(frozen=True)
class Status:
    """What is indexed, and whether the corpus changed since."""

    index_ready: bool
    problem: str  # why the index can't be used as it is, or ""
    model: str
    files: int
    chunks: int
    built_at: str
    added: int
    changed: int
    removed: int
    skipped: int

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.problem)

    def to_json(self) -> dict[str, Any]:
        return {
            "index_ready": self.index_ready,
            "problem": self.problem,
            "model": self.model,
            "files": self.files,
            "chunks": self.chunks,
            "built_at": self.built_at,
            "stale": self.stale,
            "changes": {"added": self.added, "changed": self.changed, "removed": self.removed},
            "skipped": self.skipped,
        }


class Assistant:
    """Question answering over one corpus and its index."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        policy: AnswerPolicy | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._injected = embedder is not None  # an injected embedder serves questions too
        self._query_embedder: Embedder | None = embedder
        self._policy = policy or AnswerPolicy()
        self._lock = threading.RLock()
        self._index: StoredIndex | None = None
        self._sentence_cache: CachedEmbedder | None = None

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from .embedding import SentenceTransformerEmbedder

                self._embedder = SentenceTransformerEmbedder(
                    self.settings.model, batch_size=self.settings.batch_size
                )
            return self._embedder

    @property
    def query_embedder(self) -> Embedder:
        """Encodes questions and answer sentences: the ONNX export kept with the index
        when there is one (no torch to import), else the model itself."""
        with self._lock:
            if self._query_embedder is None:
                self._query_embedder = self._open_query_encoder() or self.embedder
            return self._query_embedder

    def _open_query_encoder(self) -> Embedder | None:
        from .encoder import OnnxEmbedder, encoder_dir, has_encoder

        if not has_encoder(self.settings.index, self.settings.model):
            return None
        try:
            return OnnxEmbedder(encoder_dir(self.settings.index, self.settings.model))
        except (ImportError, OSError, RuntimeError, ValueError, KeyError):
            return None  # a damaged export only costs speed

    def warm_up(self) -> None:
        """Load the question encoder now (it is otherwise loaded on first use)."""
        self.query_embedder.embed_queries(["warm up"])

    def _opened(self) -> StoredIndex:
        with self._lock:
            if self._index is None:
                index = open_index(self.settings.index)
                reason = mismatch_reason(index.manifest, self.settings)
                if reason:
                    index.close()
                    raise IndexMismatchError(reason, hint="rebuild it: excerpta index")
                self._index = index
            return self._index

    def clear_caches(self) -> None:
        """Forget remembered sentence vectors (benchmarks measure cold answers)."""
        with self._lock:
            self._sentence_cache = None

    def reload(self) -> None:
        """Drop the opened index so the next query opens the live generation."""
        with self._lock:
            if self._index is not None:
                self._index.close()
            self._index = None
            if not self._injected:
                self._query_embedder = None  # a new export may be there now
                self._sentence_cache = None

    def search_many(
        self, queries: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[SearchResult]:
        retriever = Retriever(self._opened(), self.query_embedder)
        hits = retriever.search(queries, k or self.settings.k, mode or self.settings.mode)
        return [SearchResult(q, tuple(h)) for q, h in zip(queries, hits, strict=True)]

    def search(self, query: str, *, k: int | None = None, mode: str | None = None) -> SearchResult:
        return self.search_many([query], k=k, mode=mode)[0]

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        """Answer several questions, embedding them in one batch."""
        return [answer for answer, _ in self.answer_with_hits(questions, k=k, mode=mode)]

    def answer_with_hits(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[tuple[Answer, list[Hit]]]:
        """Answers together with the ranked passages they were drawn from."""
        if not questions:
            return []
        started = time.perf_counter()
        retriever = Retriever(self._opened(), self.query_embedder)
        vectors = retriever.embed(questions)
        passages = max(k or self.settings.k, 5)
        all_hits = retriever.search(questions, passages, mode or self.settings.mode, vectors)
        # One call for every question's candidate sentences: batches sorted by length
        # pad less than one small batch per question.
        self._sentences.embed_documents(
            [
                s
                for q, h in zip(questions, all_hits, strict=True)
                for s in sentences_to_embed(q, h, self._policy)
            ]
        )
        each_ms = (time.perf_counter() - started) * 1000 / len(questions)
        results: list[tuple[Answer, list[Hit]]] = []
        for question, vector, hits in zip(questions, vectors, all_hits, strict=True):
            begun = time.perf_counter()
            answer = compose_answer(question, vector, hits, self._sentences, self._policy)
            elapsed = each_ms + (time.perf_counter() - begun) * 1000
            results.append((_with_elapsed(answer, elapsed), hits))
        return results

    @property
    def _sentences(self) -> Embedder:
        """Encodes answer sentences: the int8 encoder when there is one, cached by text."""
        with self._lock:
            if self._sentence_cache is None:
                self._sentence_cache = CachedEmbedder(self._open_sentence_encoder())
            return self._sentence_cache

    def _open_sentence_encoder(self) -> Embedder:
        from .encoder import QUANTIZED, OnnxEmbedder, encoder_dir

        folder = encoder_dir(self.settings.index, self.settings.model)
        if not self._injected and (folder / QUANTIZED).is_file():
            try:
                return OnnxEmbedder(folder, model_file=QUANTIZED)
            except (ImportError, OSError, RuntimeError, ValueError, KeyError):
                pass  # the full-precision encoder serves
        return self.query_embedder

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        return self.ask_many([question], k=k, mode=mode)[0]

    def update_index(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Update the index from the corpus; searches use the new one afterwards.

        Documents are embedded with the int8 ONNX export of the model (see encoder.py),
        made on the machine's first update and cached: later updates never wait for torch.
        """
        documents = self.embedder if self._injected else LazyEmbedder(self._document_encoder)
        report = update_index(
            self.settings,
            documents,
            full=full,
            dry_run=dry_run,
            progress=progress,
            cancel=cancel,
            encoder=self._document_encoder_label(),
        )
        if not dry_run:
            if not self._injected:
                from .encoder import has_encoder

                if not has_encoder(self.settings.index, self.settings.model):
                    self._prepare_encoder()  # questions then need no torch either
            self.reload()
        return report

    def _document_encoder(self) -> Embedder:
        """The int8 encoder (exported first if no cache has it), else the model itself."""
        from .encoder import QUANTIZED, OnnxEmbedder

        folder = self._prepare_encoder()
        if folder is not None:
            try:
                encoder = OnnxEmbedder(folder, model_file=QUANTIZED)
                # onnxruntime's first run of a chunk-sized input sets up memory and threads
                # (~0.05 s); run here, in the loading thread, it overlaps tiktoken and bm25s.
                encoder.embed_documents([" ".join(["warm"] * 200)])
                return encoder
            except (ImportError, OSError, RuntimeError, ValueError, KeyError):
                pass  # a damaged export only costs speed
        return self.embedder

    def _document_encoder_label(self) -> str:
        """Names what embeds documents, for the manifest: a change means a full rebuild."""
        if self._injected:
            return ""
        from .encoder import RECIPE

        return f"onnx-int8 r{RECIPE}" if find_spec("onnxruntime") else "sentence-transformers"

    def _prepare_encoder(self) -> Path | None:
        from .embedding import SentenceTransformerEmbedder
        from .encoder import ensure_encoder

        embedder = self.embedder
        if not isinstance(embedder, SentenceTransformerEmbedder):
            return None
        return ensure_encoder(self.settings.index, embedder)

    def status(self) -> Status:
        """Read the manifest and compare the corpus with it; loads no model."""
        manifest: dict[str, Any] = {}
        problem = ""
        try:
            manifest = read_manifest(self.settings.index)
            problem = mismatch_reason(manifest, self.settings)
        except IndexUnusableError as exc:
            problem = exc.message
        plan = plan_update(self.settings, encoder=self._document_encoder_label())
        return Status(
            index_ready=bool(manifest) and not problem,
            problem=problem,
            model=str(manifest.get("model", self.settings.model)),
            files=int(manifest.get("files", 0)),
            chunks=int(manifest.get("chunks", 0)),
            built_at=str(manifest.get("built_at", "")),
            added=len(plan.added) if not plan.full else len(plan.to_embed),
            changed=len(plan.changed),
            removed=len(plan.removed),
            skipped=len(plan.skipped),
        )


def _with_elapsed(answer: Answer, elapsed_ms: float) -> Answer:
    return replace(answer, elapsed_ms=elapsed_ms)
