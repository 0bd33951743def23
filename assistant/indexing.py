"""Build and update the index: embed only new and changed files, drop deleted ones.

An update is planned by comparing the corpus with the file table of the live index
(size and mtime first, then SHA-256 of the content), then written as a new generation
that becomes live only when complete (see store/). Progress, including each stage of the
write ("embed", "bm25", "vectors", "commit", "swap", "prune"), goes to a callback, and a
``threading.Event`` cancels; the core never prints. Must not import textual or torch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .chunk_embedder import ChunkEmbedder
from .config import Settings
from .documents.chunking import chunk_document
from .documents.loaders import load_document
from .documents.scan import SourceFile, scan_corpus
from .embedding import Encoders
from .embedding.encoders import in_background
from .errors import Cancelled, CorpusError, IndexLockedError, IndexUnusableError, LoaderError
from .records import IndexReport, Skipped
from .store.bm25 import LexicalIndex
from .store.chunk_table import ChunkTable, FileRecord
from .store.generations import (
    CHUNKS_DB,
    FORMAT_VERSION,
    current_generation,
    generation_is_complete,
    read_manifest,
)
from .store.writer import GenerationWriter
from .text.bpe import get_encoding

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) during long work. Stages of an update, in
order: "embed" (once per file, then with done == total), "bm25", "vectors", "commit",
"swap" and "prune" (each once, with 0 of 1)."""

WRITE_STAGES = ("bm25", "vectors", "commit", "swap", "prune")


def shown_progress(stage: str, done: int, total: int) -> tuple[str, int, int]:
    """What a progress display shows: "embedding" file n of m, then "writing" step k of 5."""
    if stage in WRITE_STAGES:
        return "writing", WRITE_STAGES.index(stage), len(WRITE_STAGES)
    return ("embedding" if stage == "embed" else stage), done, total


ENCODER_CHANGED = "documents were embedded with another encoder"


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


def plan_update(
    settings: Settings, *, full: bool = False, encoder: str | None = None
) -> UpdatePlan:
    """Compare the corpus with the live index.

    ``encoder`` labels what will embed the documents (``Encoders.label``); an index whose
    vectors came from another is rebuilt whole rather than mixed. None: not checked.
    """
    plan = UpdatePlan(full=full, reason="--full" if full else "")
    previous: dict[str, FileRecord] = {}
    skipped_before: dict[str, tuple[FileRecord, str]] = {}
    try:
        manifest = read_manifest(settings.index)
        plan.has_index = True
        plan.reason = plan.reason or mismatch_reason(manifest, settings)
        if not plan.reason and encoder is not None and manifest.get("document_encoder") != encoder:
            plan.reason = ENCODER_CHANGED
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
        plan.has_index = _has_index(settings.index)
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


def _has_index(index_dir: Path) -> bool:
    """Whether any index was committed there, usable or not."""
    try:
        return current_generation(index_dir) is not None
    except IndexUnusableError:
        return True  # something is there, even if damaged


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
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def update_index(
    settings: Settings,
    encoders: Encoders | Callable[[], Encoders],
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """Bring the index up to date with the corpus.

    ``encoders`` embed the documents; given as a function, it is called (in the
    background, while chunking tools load) only if something needs embedding. Their
    label is recorded in the manifest, and a different label means a full rebuild.

    Raises:
        CorpusError: the corpus is missing, or empty with no index to keep.
        IndexLockedError: another process is updating this index.
        Cancelled: ``cancel`` was set; the previous index is untouched.
    """
    started = time.perf_counter()
    if dry_run:  # planning only reads: no lock, nothing created
        return _report(plan_update(settings, full=full), dry_run=True, started=started)
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
        plan = plan_update(settings, full=full)
        if not plan.to_embed and not plan.unchanged and not plan.has_index:
            found = f" ({len(plan.skipped)} files skipped)" if plan.skipped else ""
            raise CorpusError(
                f"no documents to index in {settings.corpus}{found}",
                hint="add .txt, .md, .html, .pdf or .docx files",
            )
        chosen: Encoders | None = None
        if plan.to_embed or plan.full:
            chosen = _load_tools(settings, encoders)
            if not plan.full and _encoder_of(settings) != chosen.label:
                plan = plan_update(settings, full=full, encoder=chosen.label)
        report = _report(plan, dry_run=False, started=started)
        if plan.to_embed or plan.full or plan.removed:
            _write_generation(settings, chosen, plan, report, progress, cancel)
        report.seconds = time.perf_counter() - started
        return report
    finally:
        lock.release()


def _encoder_of(settings: Settings) -> str | None:
    """The label of the encoder that embedded the live index's documents."""
    try:
        label = read_manifest(settings.index).get("document_encoder")
    except IndexUnusableError:
        return None
    return str(label) if label is not None else None


def _load_tools(settings: Settings, encoders: Encoders | Callable[[], Encoders]) -> Encoders:
    """Load what chunking and BM25 need while the model loads in the background: on a
    small update, loading is most of the time."""
    if isinstance(encoders, Encoders):
        loaded = encoders
        encoders = lambda: loaded  # noqa: E731
    loading = in_background(encoders)
    get_encoding(settings.chunking.encoding)
    LexicalIndex.load_library()
    return loading.result()


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
    encoders: Encoders | None,
    plan: UpdatePlan,
    report: IndexReport,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    def stage(name: str) -> None:
        if progress is not None:
            progress(name, 0, 1)

    previous = None if plan.full else current_generation(settings.index)
    writer = GenerationWriter(settings.index, previous, on_stage=stage)
    try:
        for path in plan.removed + plan.changed:
            writer.remove_file(path)
        embedder = ChunkEmbedder(writer, encoders)
        total = len(plan.to_embed)
        for done, (source, digest) in enumerate(plan.to_embed):
            if cancel is not None and cancel.is_set():
                raise Cancelled("indexing cancelled; the previous index is unchanged")
            if progress is not None:
                progress("embed", done, total)
            record = FileRecord(source.relpath, digest, source.size, source.mtime_ns, 0)
            try:
                document = load_document(source.abspath, source.relpath)
            except LoaderError as exc:
                _note_skipped(report, writer.table, record, exc.message)
                continue
            assert encoders is not None  # there was something to embed
            passages = encoders.passages
            chunks = chunk_document(
                document,
                settings.chunking,
                model_max_tokens=passages.max_tokens,
                count_model_tokens=passages.count_tokens,
            )
            report.running_lines_dropped += len(document.furniture)
            embedder.add(record, chunks)
        embedder.flush()
        if progress is not None:
            progress("embed", total, total)
        report.chunks_embedded = embedder.embedded
        dimension = encoders.passages.dimension() if encoders is not None else 0
        manifest = writer.commit(_manifest(settings, encoders), dimension)
        report.chunks_total = int(manifest["chunks"])
    except BaseException:
        writer.abandon()
        raise


def _note_skipped(report: IndexReport, table: ChunkTable, record: FileRecord, reason: str) -> None:
    """A file that can't be read: remembered, so it isn't retried until it changes."""
    report.skipped.append(Skipped(record.path, reason))
    table.set_skipped(record, reason)
    if record.path in report.added:
        report.added.remove(record.path)
    elif record.path in report.changed:  # its old chunks are gone: it left the index
        report.changed.remove(record.path)
        report.removed.append(record.path)


def _manifest(settings: Settings, encoders: Encoders | None) -> dict[str, Any]:
    manifest = {
        "format": FORMAT_VERSION,
        **index_fingerprint(settings),
        "tiktoken_encoding": settings.encoding,
        "package_version": __version__,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    label = encoders.label if encoders is not None else _encoder_of(settings)
    if label is not None:
        manifest["document_encoder"] = label
    return manifest
