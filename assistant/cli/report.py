"""What ``excerpta index`` and ``excerpta status`` print for a person: counts, files per
format, files that gave no text, and skips (the skips on stderr, as diagnostics)."""

from __future__ import annotations

import click

from ..config import AUTO_MODEL
from ..core import Status
from ..records import IndexReport
from .text import safe_path


def print_report(report: IndexReport) -> None:
    """An index update's summary on stdout, its skips on stderr."""
    if report.rebuilt_because:
        click.echo(f"rebuilding the whole index: {report.rebuilt_because}", err=True)
    counts = (
        f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed,"
        f" {report.unchanged} unchanged"
    )
    if report.dry_run:
        click.echo(f"would index: {counts}")
    else:
        click.echo(
            f"{counts}; embedded {report.chunks_embedded} chunks,"
            f" {report.chunks_total} in the index ({report.seconds:.1f}s)"
        )
        if report.running_lines_dropped:
            click.echo(
                f"left out {report.running_lines_dropped} running heads, footers and page numbers"
            )
    if report.dry_run:
        for label, paths in (
            ("add", report.added),
            ("change", report.changed),
            ("remove", report.removed),
        ):
            for path in paths:
                click.echo(f"  {label}: {safe_path(path)}")
    for cut in report.truncated:
        click.echo(f"read part of {safe_path(cut.path)}: {safe_path(cut.reason)}", err=True)
    for skipped in report.skipped:
        click.echo(f"skipped {safe_path(skipped.path)}: {safe_path(skipped.reason)}", err=True)


def print_status(state: Status) -> None:
    """``excerpta status`` for a person."""
    if state.problem:
        click.echo(f"index: not usable ({safe_path(state.problem)})")
    else:
        documents = "document" if state.files == 1 else "documents"
        click.echo(
            f"index: {state.files} {documents}, {state.chunks} chunks, built {state.built_at}"
        )
    click.echo(f"model: {state.model}{_chosen(state)}")
    changes = f"{state.added} new, {state.changed} changed, {state.removed} removed"
    click.echo(
        f"corpus: {'changed since the index was built' if state.stale else 'up to date'}"
        f" ({changes}; {state.skipped} skipped)"
    )
    if state.formats:
        click.echo(f"files by format: {formats_text(state.formats)}")
    if state.languages:
        named = {code or "unknown": count for code, count in state.languages.items()}
        click.echo(f"documents by language: {formats_text(named)}")
    advice = state.language_advice()
    if advice is not None:
        click.echo(f"note: {advice[0]}; {advice[1]}")
    if state.no_text:
        click.echo(f"no text in {len(state.no_text)} files:")
        for path in state.no_text:
            click.echo(f"  {safe_path(path)}")


def _chosen(state: Status) -> str:
    if not state.automatic:
        return ""
    if state.model == AUTO_MODEL:
        return " (chosen by the documents' languages when the index is built)"
    return " (chosen by model = auto)"


def formats_text(formats: dict[str, int]) -> str:
    """``{"pdf": 3, "md": 1}`` as "3 pdf, 1 md", most first."""
    ranked = sorted(formats.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count} {suffix}" for suffix, count in ranked)
