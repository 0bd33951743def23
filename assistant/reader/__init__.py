"""The reader: a model that reads a question with a passage and marks the answer in it.

``open_reader()`` opens the one that ships inside the package (or the folder that
``EXCERPTA_READER_DIR`` names) and returns None where there is none. Must not import
textual, click or torch.
"""

from .onnx_reader import OnnxReader, open_reader, reader_folder
from .protocol import Reader, Reading, Span

__all__ = ["OnnxReader", "Reader", "Reading", "Span", "open_reader", "reader_folder"]
