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
from dataclasses import replace
from functools import partial

from .abstention import abstention_for, cosine_scale_for
from .answer import AnswerPolicy, weighs_across
from .composing import Composer
from .config import AUTO_MODEL, Settings
from .conversation import Conversation
from .embedding import Encoders, open_encoders
from .embedding.cache import VectorCache
from .embedding.encoders import in_background
from .embedding.warming import Warming
from .errors import AssistantError, IndexMismatchError
from .globs import check_globs
from .index_status import Status, read_status
from .indexing import ProgressCallback, Watcher, mismatch_reason, update_index
from .model_choice import resolve_model
from .questions import fit_question
from .reader import Reader, open_reader
from .records import Answer, Hit, IndexReport, SearchResult
from .retrieval import Retriever
from .store import StoredIndex, open_index
from .store.commits import committed_generation
from .store.pins import IndexPins
from .store.scope import Selection, select_scope
from .text.language import load_model as load_language_model

QUESTION_BATCH = 64
"""Questions embedded and searched together by ``ask_all`` and ``search_all``."""

__all__ = ["QUESTION_BATCH", "Answering", "Assistant", "Status", "batched"]


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
        settings: where the corpus and index are, and how to search; ``self.settings``
            holds the model ``model = "auto"`` stands for (see model_choice.py).
        encoders: what embeds; by default ``open_encoders`` picks them for the
            configured model (tests pass fakes here; "auto" is then the English model).
        policy: answer scoring weights and thresholds; by default the model's own.
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
        # "auto" is chosen anew by each update, unless the encoders are given.
        self._automatic = settings.model == AUTO_MODEL and encoders is None
        fixed = replace(settings, model=settings.named_model)
        self.settings = resolve_model(settings) if encoders is None else fixed
        self._given_policy = policy
        self._policy = policy or _policy_for(self.settings.model)
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
        other = Assistant(settings)
        own = other._open_encoders
        other._open_encoders = lambda for_indexing: (
            own(for_indexing)
            if for_indexing or other.settings.model != self.settings.model
            else self.encoders
        )
        other._open_reader = lambda: self.reader
        return other

    def _open_model_encoders(self, for_indexing: bool) -> Encoders:
        s = self.settings
        return open_encoders(s.model, s.index, for_indexing=for_indexing, batch_size=s.batch_size)

    # Encoders: opened once, in the background where that overlaps other work.

    def start_loading(self) -> Future[Encoders]:
        """Begin opening the encoders (and the reader; and the language model where the
        answer step tells a question's language) in the background, or return the opening
        begun."""
        with self._lock:
            if self._reader is None and self.settings.reader:
                self._reader = in_background(self._open_reader, "load-reader")
            if self._encoders is None:
                self._encoders = in_background(partial(self._open_encoders, False))
                if weighs_across(self._policy.abstention):
                    in_background(load_language_model, "load-language-model")
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
        if isinstance(self.encoders.queries, Warming):  # passages open with it
            self.encoders.queries.warm_up()
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
            composer = Composer(self._policy, self._sentences())
            if reader is not None:
                answered = composer.read(fitted, vectors, all_hits, reader)
            else:
                answered = composer.score(searched, vectors, all_hits)
        each_ms = (time.perf_counter() - started) * 1000 / len(questions)
        return [
            (replace(a, question=f.asked, question_truncated=f.truncated, elapsed_ms=each_ms), h)
            for f, (a, h) in zip(fitted, answered, strict=True)
        ]

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
        ``compact``: then merge all segments into one. The encoders open only if something
        needs embedding (the int8 ONNX export: see embedding/export.py)."""
        settings = self._settings_to_index(full=full, dry_run=dry_run)
        report = update_index(
            settings,
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

    def _settings_to_index(self, *, full: bool = False, dry_run: bool = False) -> Settings:
        """The settings an update builds with: "auto" chooses its model anew; a different
        choice is taken up here (not by a dry run), for the questions after the update."""
        if not self._automatic:
            return self.settings
        chosen = resolve_model(replace(self.settings, model=AUTO_MODEL), indexing=True, full=full)
        if not dry_run and chosen.model != self.settings.model:
            with self._lock:
                self.settings = chosen
                self._policy = self._given_policy or _policy_for(chosen.model)
            self.reload()  # the encoders of the model chosen
        return chosen

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
            self._settings_to_index(),
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
        return read_status(self.settings, automatic=self._automatic)


def _policy_for(model: str) -> AnswerPolicy:
    """Answer scoring for ``model``'s cosines: its scale and its abstention fit."""
    return AnswerPolicy(cosine_scale=cosine_scale_for(model), abstention=abstention_for(model))


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
