"""Excerpta: offline question answering over your own documents.

The library API. Importing it loads no UI toolkit, no torch and no FAISS; those are
imported at the point of use.
"""

from __future__ import annotations

from .config import ChunkingSettings, Settings, load_settings
from .core import Assistant, Status
from .errors import AssistantError, ExitCode
from .records import VERSION as __version__
from .records import Answer, Chunk, Citation, Document, Hit, IndexReport, SearchResult

__all__ = [
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
    "SearchResult",
    "Settings",
    "Status",
    "__version__",
    "load_settings",
]
