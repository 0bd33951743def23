"""Writing a BM25 index in bounded memory, file for file what ``bm25s.BM25.save`` writes.

bm25s's own ``BM25.index`` holds every token of the corpus as Python objects (4.6 GB at a
million chunks). Here the chunks are tokenized in batches with the same bm25s tokenizer
(pass 1: vocabulary, document frequencies and lengths; each chunk's distinct terms and
counts spilled to a temporary file), scored with bm25s's Lucene formulas in its dtypes
(pass 2, into bucket files by term), and sorted into the CSC columns (pass 3), so memory
does not grow with the corpus beyond the vocabulary. ``bm25s.BM25.load`` reads the
result; the columns are bit-identical to bm25s's build (tests/test_bm25.py checks it).
Only bm25s's public API is used: its private scoring helpers may change in any release.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import chain, islice, pairwise
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..text.analysers import analyser_for
from ..text.terms import bm25_tokenize, tokenize
from .bm25 import IDS_FILE, K1, LENGTHS_FILE, B
from .cancel import checkpoint

# bm25s.BM25.save's file names (its defaults, which bm25s.BM25.load reads).
_DATA_FILE = "data.csc.index.npy"
_INDICES_FILE = "indices.csc.index.npy"
_INDPTR_FILE = "indptr.csc.index.npy"
_VOCAB_FILE = "vocab.index.json"
_PARAMS_FILE = "params.index.json"
# Records of the temporary files: one per chunk, one per distinct term of a chunk, and one
# per matrix entry on its way to its column.
_DOC = np.dtype([("id", "<i8"), ("length", "<i4"), ("pairs", "<i4")])
_PAIR = np.dtype([("term", "<i4"), ("tf", "<i4")])
_ENTRY = np.dtype([("term", "<i4"), ("doc", "<i4"), ("score", "<f4")])

Row = tuple[int, str] | tuple[int, str, str]
"""(chunk id, text) or (chunk id, text, language): text without a language is English."""


def import_bm25s() -> None:
    """Import bm25s now (~0.15 s, mostly scipy) rather than on ``write_bm25``'s first use."""
    import bm25s  # noqa: F401


def write_bm25(
    folder: Path,
    rows: Iterable[Row],
    *,
    batch_size: int = 10_000,
    bucket_entries: int = 1_000_000,
    term_frequencies: bool = False,
    cancel: threading.Event | None = None,
) -> None:
    """Build the BM25 index of ``rows`` (chunk id, text[, language]) into ``folder``,
    each text tokenized in its language (terms.py).

    The same files, scores and vocabulary as ``bm25s.BM25(k1=K1, b=B).index`` of
    ``tokenize(texts)`` followed by its ``save``, built in bounded memory: ``rows`` is
    read once, ``batch_size`` chunks at a time, and the matrix is assembled in runs of
    at most ``bucket_entries`` entries (one very common term may exceed it alone).
    Temporary files live in ``folder`` and are removed, also on error; the index files
    appear only once all are written.

    ``term_frequencies``: store each entry's term frequency instead of its score, and
    each chunk's length in tokens (``LENGTHS_FILE``), so that a segment can be scored
    with statistics summed over all segments at query time (postings.py).

    Raises:
        Cancelled: ``cancel`` was set (checked between batches and buckets); the
            temporary files are removed and no index file is written.
    """
    import bm25s

    if batch_size < 1 or bucket_entries < 1:
        raise ValueError("batch_size and bucket_entries must be positive")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".building-", dir=folder) as scratch:
        work = Path(scratch)
        with open(work / "docs", "wb") as docs, open(work / "pairs", "wb") as pairs:
            counts = _Counts.spill(rows, batch_size, docs, pairs, cancel)
        if counts.docs:
            params = bm25s.BM25(k1=K1, b=B)
            _write_matrix(
                work, counts, params, batch_size, bucket_entries, term_frequencies, cancel
            )
            _write_json(work, counts, params)
            names = [_DATA_FILE, _INDICES_FILE, _INDPTR_FILE, _VOCAB_FILE, _PARAMS_FILE]
            names += [LENGTHS_FILE] if term_frequencies else []
        else:  # like an unbuilt bm25s.BM25: nothing but the (empty) chunk ids
            np.save(work / IDS_FILE, np.zeros(0, dtype=np.int64), allow_pickle=False)
            names = []
        for name in [*names, IDS_FILE]:  # ids last: generation_is_complete checks them
            os.replace(work / name, folder / name)


@dataclass
class _Counts:
    """What the first pass learns: the vocabulary, document frequencies and lengths."""

    vocab: dict[str, int] = field(default_factory=dict)  # stem -> term id (column)
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    docs: int = 0
    tokens: int = 0

    @classmethod
    def spill(
        cls,
        rows: Iterable[Row],
        batch_size: int,
        docs: IO[bytes],
        pairs: IO[bytes],
        cancel: threading.Event | None = None,
    ) -> _Counts:
        """Pass 1: tokenize ``rows``; a _DOC record per chunk, a _PAIR per distinct term."""
        counts = cls()
        for batch in _batches(rows, batch_size):
            checkpoint(cancel)  # a batch of 10,000 chunks: ~0.5 s
            records = np.empty(len(batch), _DOC)
            records["id"] = np.fromiter((row[0] for row in batch), np.int64, len(batch))
            languages = [row[2] if len(row) > 2 else "" for row in batch]
            counts._add([row[1] for row in batch], languages, records, pairs)
            records.tofile(docs)
        return counts

    def _add(
        self, texts: list[str], languages: list[str], records: np.ndarray, pairs: IO[bytes]
    ) -> None:
        """Count and spill one batch; fill its records' lengths and pair counts."""
        ids, vocab = _token_ids(texts, languages)
        lengths = np.fromiter(map(len, ids), np.int64, len(texts))
        local = np.fromiter(chain.from_iterable(ids), np.int32, int(lengths.sum()))
        mapping = self._term_ids(vocab, local)
        del ids  # the batch's Python lists: the largest part of its memory
        # Keys document * width + term, made unique and sorted: each document's terms, tf.
        width = max(len(self.vocab), 1)
        keys = np.repeat(np.arange(0, len(texts) * width, width, dtype=np.int64), lengths)
        keys += mapping[local]
        del local
        keys, tf = np.unique(keys, return_counts=True)
        spilled = np.empty(len(keys), _PAIR)
        spilled["term"], spilled["tf"] = keys % width, tf
        spilled.tofile(pairs)
        records["length"] = lengths
        records["pairs"] = np.bincount(keys // width, minlength=len(texts))
        self.df += np.bincount(spilled["term"], minlength=len(self.df))
        self.docs += len(texts)
        self.tokens += int(lengths.sum())

    def _term_ids(self, batch_vocab: dict[str, int], local: np.ndarray) -> np.ndarray:
        """Map a batch's token ids to corpus-wide ones; new stems are numbered in order of
        first use, so the vocabulary does not depend on hash order."""
        stems = [""] * len(batch_vocab)
        for stem, i in batch_vocab.items():
            stems[i] = stem
        used, first = np.unique(local, return_index=True)
        mapping = np.zeros(len(stems), dtype=np.int64)
        for i in used[np.argsort(first)].tolist():
            mapping[i] = self.vocab.setdefault(stems[i], len(self.vocab))
        if len(self.vocab) >= 2**31:
            raise ValueError("more than 2**31 distinct terms: bm25s stores term ids as int32")
        self.df = np.concatenate([self.df, np.zeros(len(self.vocab) - len(self.df), np.int64)])
        return mapping


def _token_ids(texts: list[str], languages: list[str]) -> tuple[list[list[int]], dict[str, int]]:
    """Each text's term ids in a batch vocabulary: bm25s's own for English text (the
    common case, and its fastest), else each text's words in its language."""
    if all(analyser_for(code) is None for code in languages):
        tokenized = bm25_tokenize(texts, return_ids=True)
        return tokenized.ids, tokenized.vocab
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in words] for words in tokenize(texts, languages)]
    return ids, vocab


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _write_matrix(
    work: Path,
    counts: _Counts,
    params: Any,
    batch_size: int,
    bucket_entries: int,
    raw: bool,
    cancel: threading.Event | None = None,
) -> None:
    """Write the CSC arrays and the chunk ids from the spilled pairs.

    bm25s's matrix is documents x terms in CSC form: column t lists the documents holding
    term t in ascending order (indices) with their scores (data), from indptr[t]. Pass 2
    scores every pair and appends it to the bucket file of its run of columns; pass 3
    sorts each bucket by term (stable, so documents stay in order) and appends it to the
    .npy files: every write is sequential and at most one bucket is in memory.
    """
    if (
        params.method != "lucene"
        or params.idf_method != "lucene"
        or np.dtype(params.dtype) != _ENTRY["score"]
        or np.dtype(params.int_dtype) != _ENTRY["doc"]
    ):
        raise ValueError("the streaming BM25 build expects bm25s's Lucene method and dtypes")
    indptr = np.zeros(len(counts.df) + 1, dtype=np.int64)  # what bm25s's numpy CSC makes
    np.cumsum(counts.df, out=indptr[1:])
    np.save(work / _INDPTR_FILE, indptr, allow_pickle=False)
    bounds = _bucket_bounds(indptr, bucket_entries)
    buckets = [work / f"bucket-{i:06d}" for i in range(len(bounds) - 1)]
    _score_into_buckets(work, counts, params, batch_size, bounds, buckets, raw, cancel)
    for spilled in ("docs", "pairs"):  # all scored into the buckets: free the disk space
        (work / spilled).unlink()
    with (
        _NpyWriter(work / _DATA_FILE, _ENTRY["score"], indptr[-1]) as data,
        _NpyWriter(work / _INDICES_FILE, _ENTRY["doc"], indptr[-1]) as indices,
    ):
        for (lo, hi), path in zip(pairwise(bounds), buckets, strict=True):
            checkpoint(cancel)
            _append_columns(path, hi - lo, bucket_entries, data, indices)
            path.unlink()


def _score_into_buckets(
    work: Path,
    counts: _Counts,
    params: Any,
    batch_size: int,
    bounds: list[int],
    buckets: list[Path],
    raw: bool,
    cancel: threading.Event | None = None,
) -> None:
    """Pass 2: score the spilled pairs (``raw``: keep their term frequencies and write the
    chunks' lengths), append them to their buckets, copy the chunk ids."""
    idf = _lucene_idf(counts.df, counts.docs, params.dtype)
    avg_length = np.float64(counts.tokens) / counts.docs  # a float64 scalar, as in bm25s
    # A small key sorts in linear time (numpy's stable sort is a radix sort up to 16 bits).
    key = np.uint16 if len(buckets) <= 2**16 else np.int32
    bucket_of = np.repeat(np.arange(len(buckets), dtype=key), np.diff(bounds))
    with ExitStack() as stack:
        docs = stack.enter_context(open(work / "docs", "rb"))
        pairs = stack.enter_context(open(work / "pairs", "rb"))
        outs = [stack.enter_context(open(path, "wb")) for path in buckets]
        ids = stack.enter_context(_NpyWriter(work / IDS_FILE, np.int64, counts.docs))
        lengths_out = (
            stack.enter_context(_NpyWriter(work / LENGTHS_FILE, np.int32, counts.docs))
            if raw
            else None
        )
        first = 0
        while len(doc := np.fromfile(docs, _DOC, batch_size)):
            checkpoint(cancel)
            doc["id"].tofile(ids)
            if lengths_out is not None:
                doc["length"].tofile(lengths_out)
            pair = np.fromfile(pairs, _PAIR, int(doc["pairs"].sum()))
            entries = np.empty(len(pair), _ENTRY)
            entries["term"] = pair["term"]
            entries["doc"] = np.repeat(np.arange(first, first + len(doc)), doc["pairs"])
            lengths = np.repeat(doc["length"], doc["pairs"])
            entries["score"] = (
                pair["tf"] if raw else _scores(pair, lengths, idf, avg_length, params)
            )
            bucket = bucket_of[pair["term"]]
            entries = entries[np.argsort(bucket, kind="stable")]
            sizes = np.bincount(bucket, minlength=len(buckets))
            for out, end, size in zip(outs, np.cumsum(sizes), sizes, strict=True):
                entries[end - size : end].tofile(out)
            first += len(doc)


def _append_columns(
    bucket: Path, columns: int, chunk: int, data: IO[bytes], indices: IO[bytes]
) -> None:
    """Pass 3: append a bucket's entries to the matrix, sorted by column."""
    # Several columns hold at most ``chunk`` entries (see _bucket_bounds): sorted in memory.
    # One column is already in document order: streamed, however common its term.
    with open(bucket, "rb") as f:
        while len(entries := np.fromfile(f, _ENTRY, chunk if columns == 1 else -1)):
            if columns > 1:
                entries = entries[np.argsort(entries["term"], kind="stable")]
            entries["score"].tofile(data)
            entries["doc"].tofile(indices)


def _lucene_idf(df: np.ndarray, docs: int, dtype: Any) -> np.ndarray:
    """Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), computed as bm25s computes it:
    with math.log on Python floats, one term at a time, stored in ``dtype``."""
    idf = np.zeros(len(df), dtype=dtype)
    for term, count in enumerate(df.tolist()):
        if count:
            idf[term] = math.log(1 + (docs - count + 0.5) / (count + 0.5))
    return idf


def _scores(
    pair: np.ndarray, lengths: np.ndarray, idf: np.ndarray, avg_length: Any, params: Any
) -> np.ndarray:
    """Each pair's BM25 score: Lucene's term-frequency component tf / (k1 (1 - b + b
    l_d / l_avg) + tf) in bm25s's dtypes (float32 tf, float64 lengths and average, float32
    idf), so the scores match bm25s's bit for bit."""
    tf = pair["tf"].astype(params.dtype)
    tfc = tf / (params.k1 * ((1 - params.b) + params.b * lengths / avg_length) + tf)
    scores: np.ndarray = (idf[pair["term"]] * tfc).astype(params.dtype)
    return scores


def _bucket_bounds(indptr: np.ndarray, entries: int) -> list[int]:
    """Cut the columns into runs of at most ``entries`` entries (one column may exceed it)."""
    bounds = [0]
    while bounds[-1] < len(indptr) - 1:
        start = bounds[-1]
        end = int(np.searchsorted(indptr, indptr[start] + entries, side="right")) - 1
        bounds.append(max(end, start + 1))
    return bounds


class _NpyWriter:
    """A 1-D .npy file written piece by piece; the length is known up front."""

    def __init__(self, path: Path, dtype: Any, length: int) -> None:
        self._dtype = np.dtype(dtype)
        self._length = int(length)
        self._file = open(path, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype), "fortran_order": False}
        np.lib.format.write_array_header_1_0(self._file, {**header, "shape": (self._length,)})
        self._start = self._file.tell()

    def __enter__(self) -> IO[bytes]:
        return self._file

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        written = self._file.tell() - self._start
        self._file.close()
        if kind is None and written != self._length * self._dtype.itemsize:
            raise RuntimeError(f"BM25 build: {self._file.name} got {written} bytes")


def _write_json(work: Path, counts: _Counts, params: Any) -> None:
    """The vocabulary and parameters, as bm25s.BM25.save writes them."""
    import bm25s

    vocab = counts.vocab
    if "" not in vocab:  # bm25s.BM25.index(create_empty_token=True) adds it after the terms
        vocab[""] = len(vocab)
    with open(work / _VOCAB_FILE, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    settings = dict(
        k1=params.k1,
        b=params.b,
        delta=params.delta,
        method=params.method,
        idf_method=params.idf_method,
        dtype=params.dtype,
        int_dtype=params.int_dtype,
        num_docs=counts.docs,
        version=bm25s.__version__,
        backend=params.backend,
    )
    with open(work / _PARAMS_FILE, "w") as f:
        json.dump(settings, f, indent=4)
