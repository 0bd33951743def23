"""The trained reader: a cross-encoder with start/end heads, run by onnxruntime (no torch).

A reader folder holds ``reader.int8.onnx``, ``tokenizer.json`` (MiniLM's) and
``reader.json`` (``max_tokens``, ``inputs``, ``outputs``, ``sha256``,
``no_answer_margin``). The model and tokenizer files are checked against their SHA-256
before first use (pinned in ``shipped.py`` for the packaged reader).
Each (question, passage) pair is encoded as "[CLS] question [SEP] passage [SEP]"; a
passage longer than ``max_tokens`` is read in overlapping windows; a question is read up
to its first ``max_tokens // 4`` word pieces, so the passage always keeps most of each
window (``fit_question``). Tokenizer and onnxruntime failures are ``ModelError``s. Must not import
textual, click or torch; onnxruntime is imported when a reader is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, model_errors
from .protocol import Reading, Span
from .shipped import SHIPPED_SHA256

MODEL = "reader.int8.onnx"
TOKENIZER = "tokenizer.json"
INFO = "reader.json"
_PACKAGED = Path(__file__).resolve().parent / "model"
_MAX_ANSWER_TOKENS = 30  # a span is at most this many tokens, unless reader.json says
_SPANS = 12  # spans kept per passage: enough for one in most of its sentences
_STRIDE = 64  # tokens shared by consecutive windows of a long passage
_BATCH = 16
_CHARS_PER_PIECE = 100  # WordPiece reads a longer word as one [UNK]
_RETRAIN = "reinstall Excerpta, or rebuild the reader: make train-reader"


def reader_folder() -> Path:
    """Where the reader's files are: ``EXCERPTA_READER_DIR``, else inside the package."""
    chosen = os.environ.get("EXCERPTA_READER_DIR")
    return Path(chosen).expanduser() if chosen else _PACKAGED


def open_reader(folder: Path | None = None) -> OnnxReader | None:
    """The reader in ``folder`` (default ``reader_folder()``), or None when it has no model.

    Raises:
        ModelError: the files are there but damaged, or fail their SHA-256 check.
    """
    folder = folder or reader_folder()
    if not (folder / MODEL).is_file():
        return None
    return OnnxReader(folder)


def verify_model(folder: Path, info: dict[str, Any]) -> None:
    """Check the model and tokenizer files against their SHA-256: the ones pinned in
    ``shipped.py`` for the packaged reader, else the ones its ``reader.json`` gives."""
    pinned = folder.resolve() == _PACKAGED
    recorded = info.get("sha256")
    given: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    for name in (MODEL, TOKENIZER):
        expected = SHIPPED_SHA256.get(name) if pinned else given.get(name)
        if not isinstance(expected, str):
            if name == TOKENIZER:  # readers trained before tokenizer.json was hashed
                continue
            raise ModelError(f"{folder / INFO} gives no SHA-256 for {name}", hint=_RETRAIN)
        path = folder / name
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise ModelError(f"cannot read the reader's {path}: {exc}", hint=_RETRAIN) from exc
        if digest != expected.lower():
            where = "the SHA-256 Excerpta ships for it" if pinned else f"its SHA-256 in {INFO}"
            raise ModelError(
                f"the reader's {path} does not match {where}",
                hint=f"{_RETRAIN}; the file was altered or is incomplete",
            )


class OnnxReader:
    """Reads (question, passage) pairs with the ONNX reader model."""

    def __init__(self, folder: Path, *, batch_size: int = _BATCH) -> None:
        try:
            info = json.loads((folder / INFO).read_text(encoding="utf-8"))
            self._max_tokens = int(info["max_tokens"])
            self._inputs = [str(name) for name in info["inputs"]]
            self._margin = float(info["no_answer_margin"])
            self._longest = int(info.get("max_answer_tokens", _MAX_ANSWER_TOKENS))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot read {folder / INFO}: {exc}", hint=_RETRAIN) from exc
        verify_model(folder, info)
        import onnxruntime as ort  # deferred: only answering with the reader needs it
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(folder / MODEL), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
            self._counter = Tokenizer.from_file(str(folder / TOKENIZER))
        # onnxruntime's and tokenizers' own errors derive from Exception alone.
        except Exception as exc:
            raise ModelError(f"cannot load the reader in {folder}: {exc}", hint=_RETRAIN) from exc
        names = [str(o) for o in info.get("outputs", ["start_logits", "end_logits"])]
        self._outputs = names
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(
            self._max_tokens,
            stride=min(_STRIDE, self._max_tokens // 4),
            strategy="only_second",
        )
        self._counter.no_padding()
        self._counter.no_truncation()
        self._batch_size = batch_size

    @property
    def no_answer_margin(self) -> float:
        return self._margin

    @property
    def max_question_tokens(self) -> int:
        """The most word pieces of a question read: a quarter of the window, so that
        with the stride a window keeps over half its tokens for the passage."""
        return self._max_tokens // 4

    def fit_question(self, question: str) -> str:
        """``question`` cut after its first ``max_question_tokens`` word pieces."""
        limit = self.max_question_tokens
        head = question[: limit * _CHARS_PER_PIECE]
        with model_errors("the reader's tokenizer", _RETRAIN):
            offsets = self._counter.encode(head, add_special_tokens=False).offsets
        if len(offsets) <= limit and len(head) == len(question):
            return question
        return head[: offsets[limit - 1][1]] if len(offsets) >= limit else head

    def read(self, pairs: Sequence[tuple[str, str]]) -> list[Reading]:
        if not pairs:
            return []
        # Each question is read with up to 10 passages: cut it once.
        cut = {q: self.fit_question(q) for q in dict.fromkeys(q for q, _ in pairs)}
        fitted = [(cut[q], p) for q, p in pairs]
        with model_errors("the reader's tokenizer", _RETRAIN):
            encoded = self._tokenizer.encode_batch(fitted)
        # Every window of every pair, remembered by the pair it reads.
        windows = [(i, w) for i, e in enumerate(encoded) for w in (e, *e.overflowing)]
        found: list[Reading | None] = [None] * len(pairs)
        order = sorted(range(len(windows)), key=lambda n: len(windows[n][1].ids))
        for begin in range(0, len(order), self._batch_size):
            batch = [windows[n] for n in order[begin : begin + self._batch_size]]
            starts, ends = self._run([w for _, w in batch])
            for row, (pair, window) in enumerate(batch):
                reading = _best_span(window, starts[row], ends[row], self._longest)
                found[pair] = _better(found[pair], reading)
        return [r if r is not None else Reading(0, 0, -1e9, 0.0) for r in found]

    def _run(self, windows: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(w.ids) for w in windows)
        feeds = {
            name: np.zeros((len(windows), width), dtype=np.int64)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        }
        for row, window in enumerate(windows):
            size = len(window.ids)
            feeds["input_ids"][row, :size] = window.ids
            feeds["attention_mask"][row, :size] = window.attention_mask
            feeds["token_type_ids"][row, :size] = window.type_ids
        with model_errors("the reader model", _RETRAIN):
            outputs = self._session.run(self._outputs, {n: feeds[n] for n in self._inputs})
        return np.asarray(outputs[0], np.float32), np.asarray(outputs[1], np.float32)


def _best_span(window: Any, start: np.ndarray, end: np.ndarray, longest: int) -> Reading:
    """The best spans of one window: start[i] + end[j] over passage tokens, i <= j <
    i + longest; the best first, then the best of each other start that overlaps none
    before it (up to ``_SPANS``). The no-answer score is start[0] + end[0] ([CLS])."""
    no_answer = float(start[0] + end[0])
    passage = np.array([s == 1 for s in window.sequence_ids], dtype=bool)
    tokens = np.flatnonzero(passage)
    if tokens.size == 0:
        return Reading(0, 0, -1e9, no_answer)
    scores = start[tokens][:, None] + end[tokens][None, :]
    i, j = np.indices(scores.shape)
    scores = np.where((j >= i) & (j < i + longest), scores, -np.inf)
    offsets = window.offsets
    ends = scores.argmax(axis=1)  # each start token's best end
    best_from = scores[np.arange(tokens.size), ends]
    spans: list[Span] = []
    taken = np.zeros(tokens.size, dtype=bool)
    for first in np.argsort(-best_from, kind="stable"):
        last = int(ends[first])
        if len(spans) == _SPANS or not np.isfinite(best_from[first]):
            break
        if taken[first : last + 1].any():
            continue
        taken[first : last + 1] = True
        begin, finish = int(offsets[tokens[first]][0]), int(offsets[tokens[last]][1])
        spans.append(Span(begin, finish, float(best_from[first])))
    best = spans[0]
    return Reading(best.start, best.end, best.score, no_answer, tuple(spans))


def _better(kept: Reading | None, new: Reading) -> Reading:
    """Across the windows of one passage: the best span, every window's spans (a span
    read in two windows once, at its better score), and the lowest no-answer score."""
    if kept is None:
        return new
    best = new if new.span_score > kept.span_score else kept
    no_answer = min(kept.no_answer_score, new.no_answer_score)
    scores: dict[tuple[int, int], float] = {}
    for span in (*kept.spans, *new.spans):
        where = (span.start, span.end)
        scores[where] = max(span.score, scores.get(where, -np.inf))
    spans = sorted((Span(a, b, x) for (a, b), x in scores.items()), key=lambda s: -s.score)
    return Reading(best.start, best.end, best.span_score, no_answer, tuple(spans))
