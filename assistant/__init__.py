"""Excerpta: offline question answering over your own documents.

The library API. Importing it loads no UI toolkit, no torch and no FAISS; those are
imported at the point of use. The faces (cli, tui, mcp_server) take what they need of
the layers below the core from here, never from store, documents or indexing directly
(an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

from .config import ChunkingSettings, Settings, load_settings
from .core import Assistant, Status
from .documents.loaders import TEXT_SUFFIXES
from .errors import AssistantError, ExitCode
from .indexing import ProgressCallback, Watcher, shown_progress
from .records import VERSION as __version__
from .records import Answer, Chunk, Citation, Document, Hit, IndexReport, SearchResult
from .store.scope import Selection

__all__ = [
    "TEXT_SUFFIXES",
    "Answer",
    "Assistant",
    "AssistantError",
    "Chunk",
    "ChunkingSettings",
    "Citation",
    "Document",
    "ExitCode",
    "Hit",
    "IndexReport",
    "ProgressCallback",
    "SearchResult",
    "Selection",
    "Settings",
    "Status",
    "Watcher",
    "__version__",
    "load_settings",
    "shown_progress",
]
