"""The BM25 files' names and parameters, shared by the writer and the reader.

A segment's ``bm25/`` folder holds the files ``bm25s.BM25.save`` writes (the CSC matrix
as .npy, loaded without pickle; the vocabulary and parameters as JSON), a side array
mapping BM25 row numbers to chunk ids and, for segments, each chunk's length in tokens.
``bm25_write.py`` writes them in bounded memory; ``postings.py`` reads and scores them.
Must not import textual or torch.
"""

from __future__ import annotations

IDS_FILE = "chunk_ids.npy"  # BM25 row number -> chunk id
LENGTHS_FILE = "lengths.npy"  # BM25 row number -> tokens (segments: postings.py)
K1 = 0.9
B = 0.4
