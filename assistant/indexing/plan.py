"""Planning an update: compare the corpus with the live index's file table.

Size and mtime first, then SHA-256 of the content; a changed model, chunking or document
encoder, or a damaged index, means a full rebuild. Reads only. Must not import textual
or torch.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..documents.loaders import NO_TEXT_REASONS, normalise_suffixes
from ..documents.scan import SourceFile, scan_corpus, suffix_of
from ..errors import IndexUnusableError
from ..records import Skipped
from ..store.chunk_table import ChunkTable, FileRecord
from ..store.commits import (
    INDEX_DB,
    OLD_FORMAT,
    connect,
    is_old_format,
    read_manifest,
    segments_complete,
)

ENCODER_CHANGED = "documents were embedded with another encoder"


@dataclass
class UpdatePlan:
    """What an update will do, before it does it."""

    to_embed: list[tuple[SourceFile, str]] = field(default_factory=list)  # (file, hash)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # the unchanged files
    skipped: list[Skipped] = field(default_factory=list)
    full: bool = False
    reason: str = ""  # why a full rebuild was chosen
    previous_chunks: int = 0
    has_index: bool = False  # a previous generation exists (usable or not)


def index_fingerprint(settings: Settings) -> dict[str, Any]:
    """The settings an index is tied to; a mismatch means it must be rebuilt."""
    chunking = settings.chunking
    return {
        "model": settings.named_model,
        "language": settings.language,
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
        return f"index was built with model {manifest.get('model')!r}, not {settings.named_model!r}"
    if manifest.get("chunking") != wanted["chunking"]:
        return "index was built with other chunking settings"
    if manifest.get("language", "") != wanted["language"]:
        built = manifest.get("language") or "detected per document"
        return f"index was built with language {built!r}, not {settings.language or 'detected'!r}"
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
        if is_old_format(settings.index):
            plan.has_index = True
            plan.reason = plan.reason or OLD_FORMAT
        manifest = read_manifest(settings.index)
        plan.has_index = True
        plan.reason = plan.reason or mismatch_reason(manifest, settings)
        if not plan.reason and encoder is not None and manifest.get("document_encoder") != encoder:
            plan.reason = ENCODER_CHANGED
        if not plan.reason:
            db = connect(settings.index, write=False)
            try:
                db.execute("BEGIN")  # one commit's tables
                table = ChunkTable(db)
                previous = table.files()
                skipped_before = table.skipped()
                plan.previous_chunks = table.total_chunks()
                if not segments_complete(settings.index, db):
                    plan.reason = "index files are missing"
                    previous, skipped_before = {}, {}
            finally:
                db.close()
    except IndexUnusableError as exc:
        plan.has_index = plan.has_index or _has_index(settings.index)
        plan.reason = plan.reason or str(exc)
    except sqlite3.DatabaseError as exc:
        plan.has_index = True
        plan.reason = plan.reason or f"index database unreadable: {exc}"
    plan.full = bool(plan.reason)
    files, plan.skipped = _scan(settings)
    for source in files:
        record = previous.get(source.relpath)
        if record and _same_stat(record, source):
            plan.unchanged += 1
            plan.kept.append(source.relpath)
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
            plan.kept.append(source.relpath)
            continue
        if failed and failed[0].content_hash == digest:
            plan.skipped.append(Skipped(source.relpath, failed[1]))
            continue
        (plan.added if record is None else plan.changed).append(source.relpath)
        plan.to_embed.append((source, digest))
    seen = {f.relpath for f in files}
    plan.removed = sorted(p for p in previous if p not in seen)
    return plan


def format_counts(paths: list[str]) -> dict[str, int]:
    """How many of ``paths`` there are of each format (suffix, lower case, no dot)."""
    counts: dict[str, int] = {}
    for path in paths:
        suffix = suffix_of(path).lstrip(".") or "(none)"
        counts[suffix] = counts.get(suffix, 0) + 1
    return dict(sorted(counts.items()))


def no_text(skipped: list[Skipped]) -> list[str]:
    """The skipped files that were read but gave no text (empty, or scanned without OCR)."""
    return [s.path for s in skipped if s.reason.startswith(NO_TEXT_REASONS)]


def _same_stat(record: FileRecord, source: SourceFile) -> bool:
    return record.size == source.size and record.mtime_ns == source.mtime_ns


def _has_index(index_dir: Path) -> bool:
    """Whether any index was committed there, usable or not."""
    return (index_dir / INDEX_DB).exists() or is_old_format(index_dir)


def _scan(settings: Settings) -> tuple[list[SourceFile], list[Skipped]]:
    files, skipped = scan_corpus(
        settings.corpus,
        exclude=[settings.index],
        max_file_bytes=int(settings.max_file_mb * 1_000_000),
        text_suffixes=normalise_suffixes(settings.text_extensions),
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
