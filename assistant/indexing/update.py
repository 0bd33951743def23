"""Carrying out an update: embed what the plan says into a new segment, and commit.

The new commit becomes live only when complete (see store/); then the tiered policy may
merge segments (store/merge.py). Progress, including each stage of the write ("embed",
"bm25", "vectors", "rename", "commit", "prune", and for a merge "merge",
"merge-rename", "merge-commit", "merge-prune"), goes to a callback, and a
``threading.Event`` cancels; the core never prints. Must not import textual or torch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..documents.chunking import chunk_document
from ..documents.loaders import load_document, normalise_suffixes
from ..documents.scan import scan_corpus
from ..embedding import Encoders
from ..embedding.encoders import in_background
from ..errors import CorpusError, IndexLockedError, IndexUnusableError, LoaderError
from ..records import VERSION, IndexReport, Skipped
from ..store.bm25_write import import_bm25s
from ..store.cancel import checkpoint
from ..store.chunk_table import ChunkTable, FileRecord
from ..store.commits import FORMAT_VERSION, claim_index_folder, clean_up, read_manifest
from ..store.merge import merge_segments, outgrown_training
from ..text.bpe import get_encoding
from ..text.language import detect
from .chunk_embedder import ChunkEmbedder
from .plan import UpdatePlan, format_counts, index_fingerprint, no_text, plan_update
from .rolling_writer import RollingWriter

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) during long work. Stages of an update, in
order: "embed" (once per file, then with done == total), "bm25", "vectors", "rename",
"commit" and "prune" (each once, with 0 of 1); a merge that follows reports "merge",
"merge-rename", "merge-commit" and "merge-prune"."""

WRITE_STAGES = ("bm25", "vectors", "rename", "commit", "prune")


def shown_progress(stage: str, done: int, total: int) -> tuple[str, int, int]:
    """What a progress display shows: "embedding" file n of m, then "writing" step k of 5."""
    if stage in WRITE_STAGES:
        return "writing", WRITE_STAGES.index(stage), len(WRITE_STAGES)
    return ("embedding" if stage == "embed" else stage), done, total


def update_index(
    settings: Settings,
    encoders: Encoders | Callable[[], Encoders],
    *,
    full: bool = False,
    dry_run: bool = False,
    compact: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """Bring the index up to date with the corpus (``compact``: then merge every
    segment into one).

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
        plan = plan_update(settings, full=full)
        report = _report(plan, dry_run=True, started=started)
        _count_formats(report, plan)
        return report
    with index_lock(settings.index, settings.corpus):
        return update_locked(
            settings, encoders, full=full, compact=compact, progress=progress, cancel=cancel
        )


@contextmanager
def index_lock(index_dir: Path, corpus: Path) -> Iterator[None]:
    """Hold the index's update lock (an OS lock, released if the process dies).

    Raises:
        CorpusError: the corpus folder is missing (checked before creating the index).
        IndexLockedError: another process holds it.
    """
    if not corpus.is_dir():  # before creating the index folder for nothing
        scan_corpus(corpus)  # raises the CorpusError with its hint
    claim_index_folder(index_dir)  # never an update (and its cleanup) in someone's folder
    index_dir.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout  # a real OS lock, portable

    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise IndexLockedError(
            f"another excerpta process is updating {index_dir}",
            hint="wait for it to finish, then run excerpta index again",
        ) from exc
    try:
        yield
    finally:
        lock.release()


def update_locked(
    settings: Settings,
    encoders: Encoders | Callable[[], Encoders],
    *,
    full: bool = False,
    compact: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """``update_index`` for a caller that holds ``index_lock`` (the watcher)."""
    started = time.perf_counter()
    try:
        clean_up(settings.index)  # what a crash left behind
    except IndexUnusableError:
        pass  # a damaged index: the plan below says why, and rebuilds it
    plan = plan_update(settings, full=full)
    if not plan.to_embed and not plan.unchanged and not plan.has_index:
        found = f" ({len(plan.skipped)} files skipped)" if plan.skipped else ""
        raise CorpusError(
            f"no documents to index in {settings.corpus}{found}",
            hint="add documents (.txt, .md, .pdf, .docx, .pptx, .xlsx, .epub, .eml, ...)",
        )
    chosen: Encoders | None = None
    if plan.to_embed or plan.full:
        chosen = _load_tools(settings, encoders)
        if not plan.full and _encoder_of(settings) != chosen.label:
            plan = plan_update(settings, full=full, encoder=chosen.label)
    report = _report(plan, dry_run=False, started=started)
    if plan.to_embed or plan.full or plan.removed:
        _write_segment(settings, chosen, plan, report, progress, cancel)
        retrain = "" if plan.full else outgrown_training(settings.index)
        if retrain:  # IVF is trained once; past 4x growth, the whole index again
            compact, report.rebuilt_because = True, retrain
    if plan.to_embed or plan.full or plan.removed or compact:
        stage = _stage_reporter(progress)
        report.segments_merged = merge_segments(
            settings.index, compact=compact, on_stage=stage, cancel=cancel
        )
    _count_formats(report, plan)
    report.languages = _languages_of(settings)
    report.seconds = time.perf_counter() - started
    return report


def _stage_reporter(progress: ProgressCallback | None) -> Callable[[str], None]:
    def stage(name: str) -> None:
        if progress is not None:
            progress(name, 0, 1)

    return stage


def _encoder_of(settings: Settings) -> str | None:
    """The label of the encoder that embedded the live index's documents."""
    try:
        label = read_manifest(settings.index).get("document_encoder")
    except IndexUnusableError:
        return None
    return str(label) if label is not None else None


def _languages_of(settings: Settings) -> dict[str, int]:
    """Documents per language in the live index ("" for those too short to tell)."""
    try:
        languages = read_manifest(settings.index).get("languages", {})
    except IndexUnusableError:
        return {}
    return {str(code): int(count) for code, count in languages.items()}


def _load_tools(settings: Settings, encoders: Encoders | Callable[[], Encoders]) -> Encoders:
    """Load what chunking and BM25 need while the model loads in the background: on a
    small update, loading is most of the time."""
    if isinstance(encoders, Encoders):
        loaded = encoders
        encoders = lambda: loaded  # noqa: E731
    loading = in_background(encoders)
    get_encoding(settings.chunking.encoding)
    import_bm25s()
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


def _write_segment(
    settings: Settings,
    encoders: Encoders | None,
    plan: UpdatePlan,
    report: IndexReport,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    writer = RollingWriter(
        settings.index,
        full=plan.full,
        commit_every=settings.commit_interval,
        manifest=lambda: _manifest(settings, encoders),
        dimension=lambda: encoders.passages.dimension() if encoders is not None else 0,
        on_stage=_stage_reporter(progress),
        cancel=cancel,
    )
    try:
        for path in plan.removed + plan.changed:
            writer.remove_file(path)
        with _chunk_embedder(settings, writer, encoders, plan, cancel) as embedder:
            started = time.perf_counter()
            _embed_files(settings, encoders, plan, report, writer, embedder, progress, cancel)
            seconds = time.perf_counter() - started
        report.chunks_embedded = embedder.embedded
        report.chunks_per_second = embedder.embedded / seconds if seconds > 0 else 0.0
        report.workers = getattr(embedder, "workers", 0)
        dimension = encoders.passages.dimension() if encoders is not None else 0
        manifest = writer.commit(_manifest(settings, encoders), dimension)
        report.chunks_total = int(manifest["chunks"])
    except BaseException:
        writer.abandon()
        raise


@contextmanager
def _chunk_embedder(
    settings: Settings,
    writer: RollingWriter,
    encoders: Encoders | None,
    plan: UpdatePlan,
    cancel: threading.Event | None,
) -> Iterator[ChunkEmbedder]:
    """What embeds the chunks: this process, or a Ray cluster's workers (``settings.ray``)."""
    if not settings.ray or not plan.to_embed or encoders is None:
        yield ChunkEmbedder(writer, encoders, cancel)
        return
    from .ray_embed import RayChunkEmbedder, RayCluster  # Ray: an optional extra

    with RayCluster.open(settings.ray, settings.workers, encoders) as cluster:
        yield RayChunkEmbedder(writer, cluster, cancel)


def _embed_files(
    settings: Settings,
    encoders: Encoders | None,
    plan: UpdatePlan,
    report: IndexReport,
    writer: RollingWriter,
    embedder: ChunkEmbedder,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    """Load and chunk each file to embed, and hand its chunks to ``embedder``."""
    total = len(plan.to_embed)
    workers = getattr(embedder, "workers", 0)
    suffixes = normalise_suffixes(settings.text_extensions)
    for done, (source, digest) in enumerate(plan.to_embed):
        checkpoint(cancel)
        if progress is not None:
            progress("embed", done, total)
            if workers:
                progress("chunks", embedder.embedded, workers)
        record = FileRecord(source.relpath, digest, source.size, source.mtime_ns, 0)
        try:
            document = load_document(source.abspath, source.relpath, text_suffixes=suffixes)
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
            language=settings.language or detect(document.text),
        )
        report.running_lines_dropped += len(document.furniture)
        if document.note:
            report.truncated.append(Skipped(record.path, document.note))
        embedder.add(record, chunks)
    embedder.finish()
    if progress is not None:
        progress("embed", total, total)


def _count_formats(report: IndexReport, plan: UpdatePlan) -> None:
    report.formats = format_counts(plan.kept + report.added + report.changed)
    report.no_text = no_text(report.skipped)


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
        "package_version": VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    label = encoders.label if encoders is not None else _encoder_of(settings)
    if label is not None:
        manifest["document_encoder"] = label
    return manifest
