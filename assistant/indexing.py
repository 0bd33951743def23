"""Build and update the index: embed only new and changed files, drop deleted ones.

An update is planned by comparing the corpus with the file table of the live index
(size and mtime first, then SHA-256 of the content), then written as a new generation
that becomes live only when complete (see store.py). Progress goes to a callback and a
``threading.Event`` cancels; the core never prints. Must not import textual or torch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .chunking import chunk_document
from .config import Settings
from .corpus import SourceFile, scan_corpus
from .embedding import Embedder, LazyEmbedder
from .errors import Cancelled, CorpusError, IndexLockedError, IndexUnusableError, LoaderError
from .lexical import LexicalIndex
from .loaders import load_document
from .records import Chunk, IndexReport, Skipped
from .store import (
    BM25_DIR,
    CHUNKS_DB,
    FORMAT_VERSION,
    VECTORS,
    ChunkTable,
    FileRecord,
    VectorIndex,
    commit_generation,
    current_generation,
    discard_generation,
    generation_is_complete,
    new_generation,
    read_manifest,
)
from .tokens import get_encoding

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) during long work."""

_EMBED_BATCH = 256  # chunks embedded per call: bounds memory, keeps batches full


@dataclass
class UpdatePlan:
    """What an update will do, before it does it."""

    to_embed: list[tuple[SourceFile, str]] = field(default_factory=list)  # (file, hash)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    full: bool = False
    reason: str = ""  # why a full rebuild was chosen
    previous_chunks: int = 0
    has_index: bool = False  # a previous generation exists (usable or not)


def index_fingerprint(settings: Settings) -> dict[str, Any]:
    """The settings an index is tied to; a mismatch means it must be rebuilt."""
    chunking = settings.chunking
    return {
        "model": settings.model,
        "chunking": {
            "chunk_tokens": chunking.chunk_tokens,
            "overlap_tokens": chunking.overlap_tokens,
            "encoding": chunking.encoding,
        },
    }


def mismatch_reason(manifest: dict[str, Any], settings: Settings) -> str:
    """Why an index can't serve these settings, or "" when it can."""
    wanted = index_fingerprint(settings)
    if manifest.get("model") != wanted["model"]:
        return f"index was built with model {manifest.get('model')!r}, not {settings.model!r}"
    if manifest.get("chunking") != wanted["chunking"]:
        return "index was built with other chunking settings"
    return ""


def plan_update(settings: Settings, *, full: bool = False, encoder: str = "") -> UpdatePlan:
    """Compare the corpus with the live index.

    ``encoder`` names what embeds the documents (see ``update_index``); an index whose
    vectors came from another is rebuilt whole rather than mixed.
    """
    plan = UpdatePlan(full=full, reason="--full" if full else "")
    previous: dict[str, FileRecord] = {}
    skipped_before: dict[str, tuple[FileRecord, str]] = {}
    try:
        manifest = read_manifest(settings.index)
        plan.has_index = True
        plan.reason = plan.reason or mismatch_reason(manifest, settings)
        if not plan.reason and manifest.get("document_encoder", "") != encoder:
            plan.reason = "documents were embedded with another encoder"
        generation = current_generation(settings.index)
        assert generation is not None
        if not plan.reason and not generation_is_complete(generation):
            plan.reason = "index files are missing"
        if not plan.reason:
            table = ChunkTable(generation / CHUNKS_DB, read_only=True)
            try:
                previous = table.files()
                skipped_before = table.skipped()
                plan.previous_chunks = table.count()
            finally:
                table.close()
    except IndexUnusableError as exc:
        plan.has_index = current_generation_or_none(settings.index) is not None
        plan.reason = plan.reason or str(exc)
    plan.full = bool(plan.reason)
    files, plan.skipped = _scan(settings)
    for source in files:
        record = previous.get(source.relpath)
        if record and _same_stat(record, source):
            plan.unchanged += 1
            continue
        failed = skipped_before.get(source.relpath)
        if failed and _same_stat(failed[0], source):
            plan.skipped.append(Skipped(source.relpath, failed[1]))
            continue
        try:
            digest = _hash_file(source.abspath)
        except OSError as exc:
            plan.skipped.append(Skipped(source.relpath, f"unreadable: {exc.strerror}"))
            continue
        if record is not None and record.content_hash == digest:
            plan.unchanged += 1
            continue
        if failed and failed[0].content_hash == digest:
            plan.skipped.append(Skipped(source.relpath, failed[1]))
            continue
        (plan.added if record is None else plan.changed).append(source.relpath)
        plan.to_embed.append((source, digest))
    seen = {f.relpath for f in files}
    plan.removed = sorted(p for p in previous if p not in seen)
    return plan


def _same_stat(record: FileRecord, source: SourceFile) -> bool:
    return record.size == source.size and record.mtime_ns == source.mtime_ns


def current_generation_or_none(index_dir: Path) -> Path | None:
    try:
        return current_generation(index_dir)
    except IndexUnusableError:
        return index_dir  # something is there, even if damaged


def _scan(settings: Settings) -> tuple[list[SourceFile], list[Skipped]]:
    files, skipped = scan_corpus(
        settings.corpus,
        exclude=[settings.index],
        max_file_bytes=int(settings.max_file_mb * 1_000_000),
    )
    budget = int(settings.max_corpus_mb * 1_000_000)
    kept: list[SourceFile] = []
    for source in files:
        if source.size > budget:
            skipped.append(
                Skipped(
                    source.relpath, f"corpus size limit of {settings.max_corpus_mb:g} MB reached"
                )
            )
            continue
        budget -= source.size
        kept.append(source)
    return kept, skipped


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def update_index(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    encoder: str = "",
) -> IndexReport:
    """Bring the index up to date with the corpus.

    ``encoder`` labels how ``embedder`` embeds documents (e.g. "onnx-int8 r2"); it is
    recorded in the manifest, and a different label means a full rebuild.

    Raises:
        CorpusError: the corpus is missing, or empty with no index to keep.
        IndexLockedError: another process is updating this index.
        Cancelled: ``cancel`` was set; the previous index is untouched.
    """
    started = time.perf_counter()
    if dry_run:  # planning only reads: no lock, nothing created
        plan = plan_update(settings, full=full, encoder=encoder)
        return _report(plan, dry_run=True, started=started)
    if not settings.corpus.is_dir():  # before creating the index folder for nothing
        scan_corpus(settings.corpus)  # raises the CorpusError with its hint
    settings.index.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout  # a real OS lock, portable

    lock = FileLock(str(settings.index / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise IndexLockedError(
            f"another excerpta process is updating {settings.index}",
            hint="wait for it to finish, then run excerpta index again",
        ) from exc
    try:
        plan = plan_update(settings, full=full, encoder=encoder)
        if not plan.to_embed and not plan.unchanged and not plan.has_index:
            found = f" ({len(plan.skipped)} files skipped)" if plan.skipped else ""
            raise CorpusError(
                f"no documents to index in {settings.corpus}{found}",
                hint="add .txt, .md, .html, .pdf or .docx files",
            )
        report = _report(plan, dry_run=False, started=started)
        if plan.to_embed:
            _load_tools(settings, embedder)
        if plan.to_embed or plan.full or plan.removed:
            _write_generation(settings, embedder, plan, report, progress, cancel, encoder)
        report.seconds = time.perf_counter() - started
        return report
    finally:
        lock.release()


def _load_tools(settings: Settings, embedder: Embedder) -> None:
    """Load what chunking and BM25 need while the model loads in the background: on a
    small update, loading is most of the time."""
    if isinstance(embedder, LazyEmbedder):
        embedder.start()
    get_encoding(settings.chunking.encoding)
    LexicalIndex.load_library()


def _report(plan: UpdatePlan, *, dry_run: bool, started: float) -> IndexReport:
    return IndexReport(
        added=list(plan.added),
        changed=list(plan.changed),
        removed=list(plan.removed),
        unchanged=plan.unchanged,
        skipped=list(plan.skipped),
        chunks_total=plan.previous_chunks,
        dry_run=dry_run,
        seconds=time.perf_counter() - started,
        rebuilt_because=plan.reason if plan.full and plan.has_index else "",
    )


def _write_generation(
    settings: Settings,
    embedder: Embedder,
    plan: UpdatePlan,
    report: IndexReport,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    encoder: str,
) -> None:
    previous = None if plan.full else current_generation(settings.index)
    generation = new_generation(settings.index)
    table: ChunkTable | None = None
    try:
        if previous is not None:
            source_table = ChunkTable(previous / CHUNKS_DB, read_only=True)
            try:
                source_table.copy_to(generation / CHUNKS_DB)
            finally:
                source_table.close()
        table = ChunkTable(generation / CHUNKS_DB, read_only=False)
        vectors = VectorIndex.load(previous / VECTORS) if previous is not None else None
        for path in plan.removed + plan.changed:
            if vectors is not None:
                vectors.remove(table.chunk_ids(path))
            table.remove_file(path)
            table.clear_skipped(path)
        writer = _ChunkWriter(settings, embedder, table, vectors)
        total = len(plan.to_embed)
        for done, (source, digest) in enumerate(plan.to_embed):
            if cancel is not None and cancel.is_set():
                raise Cancelled("indexing cancelled; the previous index is unchanged")
            if progress is not None:
                progress("embedding", done, total)
            record = FileRecord(source.relpath, digest, source.size, source.mtime_ns, 0)
            try:
                document = load_document(source.abspath, source.relpath)
            except LoaderError as exc:
                _note_skipped(report, table, record, exc.message)
                continue
            table.clear_skipped(source.relpath)
            chunks = chunk_document(
                document,
                settings.chunking,
                model_max_tokens=embedder.max_tokens,
                count_model_tokens=embedder.count_tokens,
            )
            writer.add(replace(record, chunks=len(chunks)), chunks)
        writer.flush()
        if progress is not None:
            progress("embedding", total, total)
            progress("writing", 0, 1)
        table.commit()
        LexicalIndex.save(generation / BM25_DIR, table.texts_in_id_order())
        final_vectors = writer.vectors
        if final_vectors is None:  # nothing was ever embedded into this generation
            final_vectors = VectorIndex.empty(embedder.dimension())
        final_vectors.optimize()  # flat while small, IVF-SQ8 once large (see vectors.py)
        final_vectors.save(generation / VECTORS)
        report.chunks_embedded = writer.embedded
        report.chunks_total = table.count()
        manifest = _manifest(settings, final_vectors, table, report)
        manifest["document_encoder"] = encoder
        table.close()
        table = None
        commit_generation(settings.index, generation, manifest)
        if progress is not None:
            progress("writing", 1, 1)
    except BaseException:
        if table is not None:
            table.close()
        # A Ctrl-C or error after CURRENT was switched (while syncing or pruning) must
        # not delete what is now the live index.
        if not _is_live(settings.index, generation):
            discard_generation(generation)
        raise


def _is_live(index_dir: Path, generation: Path) -> bool:
    try:
        return current_generation(index_dir) == generation
    except IndexUnusableError:
        return False


def _note_skipped(report: IndexReport, table: ChunkTable, record: FileRecord, reason: str) -> None:
    """A file that can't be read: remembered, so it isn't retried until it changes."""
    report.skipped.append(Skipped(record.path, reason))
    table.set_skipped(record, reason)
    if record.path in report.added:
        report.added.remove(record.path)
    elif record.path in report.changed:  # its old chunks are gone: it left the index
        report.changed.remove(record.path)
        report.removed.append(record.path)


def _manifest(
    settings: Settings, vectors: VectorIndex, table: ChunkTable, report: IndexReport
) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        **index_fingerprint(settings),
        "dimension": vectors.dimension,
        "tiktoken_encoding": settings.encoding,
        "vector_index": vectors.description,
        "chunks": report.chunks_total,
        "files": len(table.files()),
        "package_version": __version__,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class _ChunkWriter:
    """Buffers chunks across files so the model sees full batches; assigns ids."""

    def __init__(
        self, settings: Settings, embedder: Embedder, table: ChunkTable, vectors: VectorIndex | None
    ) -> None:
        self._embedder = embedder
        self._table = table
        self.vectors = vectors
        self._scratch = settings.index  # VectorIndex.optimize's temporary file: not /tmp
        self._next_id = table.max_id() + 1
        self._pending: list[tuple[FileRecord, list[Chunk]]] = []
        self._pending_chunks = 0
        self.embedded = 0

    def add(self, record: FileRecord, chunks: list[Chunk]) -> None:
        self._pending.append((record, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= _EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        texts = [c.text for _, chunks in self._pending for c in chunks]
        # Identical passages (boilerplate, repeated files) are embedded once.
        unique = list(dict.fromkeys(texts))
        if unique:
            vectors = self._embedder.embed_documents(unique)
            self.embedded += len(unique)
            by_text = dict(zip(unique, vectors, strict=True))
            if self.vectors is None:
                self.vectors = VectorIndex.empty(int(vectors.shape[1]), scratch=self._scratch)
        for record, chunks in self._pending:
            numbered = [_with_id(c, self._next_id + i) for i, c in enumerate(chunks)]
            self._next_id += len(chunks)
            hashes = [hashlib.sha256(c.text.encode()).hexdigest()[:16] for c in numbered]
            self._table.add_file(record, numbered, hashes)
            if numbered:
                assert self.vectors is not None
                self.vectors.add(
                    [c.id for c in numbered], np.stack([by_text[c.text] for c in numbered])
                )
        self._pending, self._pending_chunks = [], 0


def _with_id(chunk: Chunk, chunk_id: int) -> Chunk:
    return replace(chunk, id=chunk_id)
