"""The one library object every face uses: ``Assistant(settings).ask(question)``.

It owns the settings, the encoders and the reader (opened on first use: loading a model
takes time) and the opened index, and swaps in a new index after an update while
searches keep using the old one until then. Must not import textual, click or torch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from .answer import AnswerPolicy, compose_answer, sentences_to_embed
from .config import Settings
from .conversation import Conversation
from .embedding import Encoders, Vectors, open_encoders
from .embedding.cache import VectorCache
from .embedding.encoders import in_background
from .errors import AssistantError, IndexMismatchError, IndexUnusableError
from .globs import check_globs
from .indexing import (
    ProgressCallback,
    Watcher,
    format_counts,
    mismatch_reason,
    no_text,
    plan_update,
    update_index,
)
from .questions import FittedQuestion, fit_question
from .reader import Reader, open_reader
from .reading import asks_for_a_phrase, read_passages, read_questions
from .records import Answer, Hit, IndexReport, SearchResult
from .retrieval import Retriever
from .store import StoredIndex, open_index
from .store.commits import committed_generation, read_manifest
from .store.pins import IndexPins
from .store.scope import Selection, select_scope

QUESTION_BATCH = 64
"""Questions embedded and searched together by ``ask_all`` and ``search_all``."""


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
    formats: dict[str, int] = field(default_factory=dict)  # files per format in the corpus
    no_text: tuple[str, ...] = ()  # files read that gave no text

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
            "formats": dict(self.formats),
            "no_text": list(self.no_text),
        }


class Answering:
    """The one-question, streamed and conversational forms of ``search_many`` and
    ``ask_many``, which a subclass defines (``Assistant``, ``Federation``)."""

    def search_many(
        self, queries: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[SearchResult]:
        raise NotImplementedError

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        raise NotImplementedError

    def search(self, query: str, *, k: int | None = None, mode: str | None = None) -> SearchResult:
        return self.search_many([query], k=k, mode=mode)[0]

    def search_all(
        self, queries: Iterable[str], *, k: int | None = None, mode: str | None = None
    ) -> Iterator[SearchResult]:
        """Search a stream of queries, ``QUESTION_BATCH`` at a time."""
        for group in batched(queries):
            yield from self.search_many(group, k=k, mode=mode)

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        return self.ask_many([question], k=k, mode=mode)[0]

    def ask_all(
        self, questions: Iterable[str], *, k: int | None = None, mode: str | None = None
    ) -> Iterator[Answer]:
        """Answer a stream of questions, ``QUESTION_BATCH`` at a time."""
        for group in batched(questions):
            yield from self.ask_many(group, k=k, mode=mode)

    def conversation(self) -> Conversation:
        """A new conversation: follow-up questions lean on the ones before them."""
        return Conversation(self)


class Assistant(Answering):
    """Question answering over one corpus and its index.

    Args:
        settings: where the corpus and index are, and how to search.
        encoders: what embeds; by default ``open_encoders`` picks them for the
            configured model (tests pass fakes here).
        policy: answer scoring weights and thresholds.
        reader: what reads the retrieved passages to find the answer in them; by default
            the reader that ships in the package, where it does (tests pass fakes here).
            ``settings.reader = False`` answers without one.
    """

    def __init__(
        self,
        settings: Settings,
        encoders: Encoders | None = None,
        policy: AnswerPolicy | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings
        self._policy = policy or AnswerPolicy()
        self._lock = threading.RLock()
        self._pins = IndexPins(self._open_index)
        # Called with True by updates (documents only); what a test injects serves both.
        self._open_encoders: Callable[[bool], Encoders] = (
            self._open_model_encoders if encoders is None else lambda for_indexing: encoders
        )
        self._encoders: Future[Encoders] | None = None
        self._open_reader: Callable[[], Reader | None] = (
            open_reader if reader is None else lambda: reader
        )
        self._reader: Future[Reader | None] | None = None
        self._sentence_vectors: VectorCache | None = None
        self._selection: tuple[StoredIndex, Selection] | None = None

    def sharing_models(self, settings: Settings) -> Assistant:
        """An assistant over other settings (another collection) that shares this one's
        question encoder and reader, so the model loads once; for the same model only."""
        other = Assistant(settings, policy=self._policy)
        if settings.model == self.settings.model:
            own = other._open_encoders
            other._open_encoders = lambda for_indexing: own(True) if for_indexing else self.encoders
            other._open_reader = lambda: self.reader
        return other

    def _open_model_encoders(self, for_indexing: bool) -> Encoders:
        return open_encoders(
            self.settings.model,
            self.settings.index,
            for_indexing=for_indexing,
            batch_size=self.settings.batch_size,
        )

    # Encoders: opened once, in the background where that overlaps other work.

    def start_loading(self) -> Future[Encoders]:
        """Begin opening the encoders (and the reader) in the background, or return the
        opening begun."""
        with self._lock:
            if self._reader is None and self.settings.reader:
                self._reader = in_background(self._open_reader, "load-reader")
            if self._encoders is None:
                self._encoders = in_background(partial(self._open_encoders, False))
            return self._encoders

    @property
    def reader(self) -> Reader | None:
        """The reader, waiting for it to open if needed; None when answering without."""
        if not self.settings.reader:
            return None
        self.start_loading()
        assert self._reader is not None
        return self._reader.result()

    @property
    def encoders(self) -> Encoders:
        """The encoders, waiting for them to open if needed."""
        return self.start_loading().result()

    def warm_up(self) -> None:
        """Load the question encoder and the reader now (else loaded on first use)."""
        self.encoders.queries.embed_queries(["warm up"])
        reader = self.reader
        if reader is not None:
            reader.read([("warm up", "warm up")])

    def _sentences(self) -> VectorCache:
        """Answer sentences' vectors, remembered by text: sentences recur across questions."""
        with self._lock:
            if self._sentence_vectors is None:
                passages = self.encoders.passages
                self._sentence_vectors = VectorCache(passages.embed_documents, passages.dimension())
            return self._sentence_vectors

    def clear_caches(self) -> None:
        """Forget remembered sentence vectors (benchmarks measure cold answers)."""
        with self._lock:
            self._sentence_vectors = None

    # The index.

    def _open_index(self) -> StoredIndex:
        index = open_index(self.settings.index)
        reason = mismatch_reason(index.manifest, self.settings)
        if reason:
            index.close()
            raise IndexMismatchError(reason, hint="rebuild it: excerpta index")
        return index

    def reload(self) -> None:
        """Drop the opened index and encoders so the next query opens the live generation
        (and the encoder export an update may have made)."""
        with self._lock:
            self.refresh_index()
            self._encoders = None
            self._sentence_vectors = None

    # The scope: which files questions search.

    def set_scope(self, globs: Sequence[str]) -> None:
        """Search only the files these globs match (``settings.scope``); () clears it.

        Raises:
            UsageError: a glob is too long or malformed; the scope stays as it was.
        """
        chosen = check_globs(g for g in globs if g.strip())
        with self._lock:
            self.settings = replace(self.settings, scope=chosen)

    def selection(self) -> Selection | None:
        """The chunks the scope selects in the live index (None: no scope, search all).

        Made once per index and scope; its ``unmatched`` names globs matching no file.
        """
        if not self.settings.scope:
            return None
        with self._pins.pinned() as index:
            return self._selection_in(index)

    def _selection_in(self, index: StoredIndex) -> Selection | None:
        with self._lock:
            scope = self.settings.scope
            cached = self._selection
        if not scope:
            return None
        if cached is None or cached[0] is not index or cached[1].globs != scope:
            chosen = select_scope(index.table.files(), index.table.chunk_ids_of, scope)
            with self._lock:
                self._selection = cached = (index, chosen)
        return cached[1]

    @contextmanager
    def _retriever(self) -> Iterator[Retriever]:
        """A retriever over the live index, pinned until the block ends."""
        with self._pins.pinned() as index:
            yield Retriever(index, self.encoders.queries, self._selection_in(index))

    # Searching and answering.

    def search_many(
        self, queries: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[SearchResult]:
        fitted = [fit_question(q, self.encoders.queries, None) for q in queries]
        searched = [f.searched for f in fitted]
        with self._retriever() as retriever:
            hits = retriever.search(searched, k or self.settings.k, mode or self.settings.mode)
        return [
            SearchResult(f.asked, tuple(h), f.truncated) for f, h in zip(fitted, hits, strict=True)
        ]

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        """Answer several questions, embedding them in one batch."""
        return [answer for answer, _ in self.answer_with_hits(questions, k=k, mode=mode)]

    def answer_with_hits(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[tuple[Answer, list[Hit]]]:
        """Answers together with the ranked passages they were drawn from. A question
        longer than the models read is answered from its first part, and says so."""
        if not questions:
            return []
        started = time.perf_counter()
        reader = self.reader
        fitted = [fit_question(q, self.encoders.queries, reader) for q in questions]
        searched = [f.searched for f in fitted]
        with self._retriever() as retriever:  # the index stays open until answered
            vectors = retriever.embed(searched)
            passages = max(k or self.settings.k, 5)
            all_hits = retriever.search(searched, passages, mode or self.settings.mode, vectors)
            if reader is not None:
                answered = self._read(fitted, vectors, all_hits, reader)
            else:
                answered = self._score(searched, vectors, all_hits)
        each_ms = (time.perf_counter() - started) * 1000 / len(questions)
        return [
            (replace(a, question=f.asked, question_truncated=f.truncated, elapsed_ms=each_ms), h)
            for f, (a, h) in zip(fitted, answered, strict=True)
        ]

    def _score(
        self, questions: Sequence[str], vectors: Vectors, all_hits: Sequence[list[Hit]]
    ) -> list[tuple[Answer, list[Hit]]]:
        """Answers by the sentence scorer alone."""
        wanted = [
            sentences_to_embed(q, h, self._policy) for q, h in zip(questions, all_hits, strict=True)
        ]
        embedded = self._embed_each(wanted)
        return [
            (compose_answer(question, vector, hits, sentences, self._policy), hits)
            for question, vector, hits, sentences in zip(
                questions, vectors, all_hits, embedded, strict=True
            )
        ]

    def _read(
        self,
        fitted: Sequence[FittedQuestion],
        vectors: Vectors,
        all_hits: Sequence[list[Hit]],
        reader: Reader,
    ) -> list[tuple[Answer, list[Hit]]]:
        """Answers with the reader's support for questions (in the order it ranks the
        passages); claims and keywords, which hold no question to read, by the scorer."""
        asking = [n for n, f in enumerate(fitted) if asks_for_a_phrase(f.searched)]
        answered: list[tuple[Answer, list[Hit]] | None] = [None] * len(fitted)
        readings = read_questions(
            reader, [fitted[n].read for n in asking], [all_hits[n] for n in asking]
        )
        read = [
            read_passages(
                fitted[n].searched, all_hits[n], mine, reader.no_answer_margin, self._policy
            )
            for n, mine in zip(asking, readings, strict=True)
        ]
        embedded = self._embed_each([r.sentences_to_embed() for r in read])
        for n, passages, sentences in zip(asking, read, embedded, strict=True):
            answered[n] = (passages.answer(vectors[n], sentences), passages.hits)
        rest = [n for n in range(len(fitted)) if answered[n] is None]
        if rest:
            searched = [fitted[n].searched for n in rest]
            scored = self._score(searched, vectors[rest], [all_hits[n] for n in rest])
            for n, pair in zip(rest, scored, strict=True):
                answered[n] = pair
        return [pair for pair in answered if pair is not None]

    def _embed_each(self, wanted: Sequence[list[str]]) -> list[Vectors]:
        """Each question's candidate sentences embedded, in one call for all of them:
        batches sorted by length pad less than one small batch per question."""
        flat = self._sentences()([s for sentences in wanted for s in sentences])
        embedded, offset = [], 0
        for sentences in wanted:
            embedded.append(flat[offset : offset + len(sentences)])
            offset += len(sentences)
        return embedded

    # Indexing and status.

    def update_index(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        compact: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Update the index from the corpus; searches use the new one afterwards.
        ``compact``: then merge all segments into one.

        Documents are embedded with the int8 ONNX export of the model (see
        embedding/export.py), made on the machine's first update and cached: later
        updates never wait for torch. The encoders open only if something needs embedding.
        """
        report = update_index(
            self.settings,
            partial(self._open_encoders, True),
            full=full,
            dry_run=dry_run,
            compact=compact,
            progress=progress,
            cancel=cancel,
        )
        if not dry_run:
            self.reload()
        return report

    def watcher(
        self,
        *,
        on_update: Callable[[IndexReport], None],
        on_error: Callable[[AssistantError], None] | None = None,
        progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> Watcher:
        """A ``Watcher`` that keeps this corpus's index live (call its ``run``), the
        document encoder opened once; searches use each new commit once it reports."""

        def updated(report: IndexReport) -> None:
            self.refresh_index()  # the next question opens the new commit
            on_update(report)

        return Watcher(
            self.settings,
            partial(self._open_encoders, True),
            on_update=updated,
            on_error=on_error,
            progress=progress,
            stop=stop,
        )

    def refresh_index(self) -> None:
        """Let the next question open the latest commit (the encoders stay loaded); the
        open one closes once no question reads it."""
        with self._lock:
            self._selection = None
        self._pins.retire()

    def committed(self) -> int:
        """The index's latest commit generation (0: none); cheap enough to poll."""
        return committed_generation(self.settings.index)

    def opened_generation(self) -> int:
        """The commit the open index pinned (0 when none is open)."""
        index = self._pins.current()
        return index.generation if index is not None else 0

    def status(self) -> Status:
        """Read the manifest and compare the corpus with it; loads no model."""
        manifest: dict[str, Any] = {}
        problem = ""
        try:
            manifest = read_manifest(self.settings.index)
            problem = mismatch_reason(manifest, self.settings)
        except IndexUnusableError as exc:
            problem = exc.message
        plan = plan_update(self.settings)
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
            formats=format_counts(plan.kept + plan.added + plan.changed),
            no_text=tuple(no_text(plan.skipped)),
        )


def batched(items: Iterable[str]) -> Iterator[list[str]]:
    """``items`` in lists of ``QUESTION_BATCH`` (embedded together), streaming."""
    group: list[str] = []
    for item in items:
        group.append(item)
        if len(group) == QUESTION_BATCH:
            yield group
            group = []
    if group:
        yield group
