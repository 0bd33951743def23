"""Embedding texts: the Embedder protocol, and the Encoders chosen by ``open_encoders``.

Backends: an ONNX export run by onnxruntime (no torch), or sentence-transformers. Must
not import textual; only export.py imports torch, and only to export.
"""

from __future__ import annotations

from .encoders import Encoders, open_encoders
from .protocol import Embedder, Vectors

__all__ = ["Embedder", "Encoders", "Vectors", "open_encoders"]
