"""Test doubles: a deterministic bag-of-words embedder that records what it embedded, a
deterministic reader, and a tiny ONNX reader model with the real one's interface."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.embedding import Vectors
from assistant.reader import Reading
from assistant.text.terms import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
DIMENSION = 256


class FakeEmbedder:
    """Hashes words into a small vector; texts sharing words are similar.

    ``embedded`` lists every document text it was asked to embed, so tests can assert
    what an index update re-embedded. ``fail_after`` makes it raise after that many
    document texts, to simulate a crash mid-update.
    """

    def __init__(
        self, name: str = "all-MiniLM-L6-v2", max_tokens: int = 254, fail_after: int | None = None
    ) -> None:
        self._name = name
        self._max_tokens = max_tokens
        self.fail_after = fail_after
        self.embedded: list[str] = []
        self.queries: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def dimension(self) -> int:
        return DIMENSION

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # Roughly word pieces: words plus punctuation marks.
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if self.fail_after is not None and len(self.embedded) + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.embedded.extend(texts)
        return self._vectors(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._vectors(texts)

    @staticmethod
    def _vectors(texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word not in STOPWORDS:  # content words only, so related texts score high
                    out[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


QUESTION_WORDS = 64
"""The most words of a question ``FakeReader`` reads."""


class FakeReader:
    """A deterministic reader: the answer is ``phrase`` wherever a passage holds it.

    Without a phrase, the answer is the word after the first of the question's content
    words found in the passage. The span score counts the question's content words in
    the passage, so passages that share more words rank higher; a passage without an
    answer scores ``-1`` against a no-answer score of ``1``. ``no_answer=True`` makes
    it find no answer anywhere. ``pairs`` records what it read.
    """

    def __init__(self, phrase: str | None = None, *, no_answer: bool = False) -> None:
        self.phrase = phrase
        self.no_answer = no_answer
        self.pairs: list[tuple[str, str]] = []

    @property
    def no_answer_margin(self) -> float:
        return 0.0

    def fit_question(self, question: str) -> str:
        """The first ``QUESTION_WORDS`` words, as the real reader keeps its first word pieces."""
        words = list(re.finditer(r"\S+", question))
        if len(words) <= QUESTION_WORDS:
            return question
        return question[: words[QUESTION_WORDS - 1].end()]

    def read(self, pairs: Sequence[tuple[str, str]]) -> list[Reading]:
        pairs = [(self.fit_question(q), p) for q, p in pairs]
        self.pairs.extend(pairs)
        return [self._read(question, passage) for question, passage in pairs]

    def _read(self, question: str, passage: str) -> Reading:
        keywords = [w for w in _WORD.findall(question.lower()) if w not in STOPWORDS]
        words = list(re.finditer(r"[\w’'.,-]*\w", passage))
        shared = len({w.group().lower() for w in words} & set(keywords))
        span = self._span(passage, keywords, words)
        if span is None or self.no_answer:
            return Reading(0, 0, -1.0, 1.0)
        return Reading(span[0], span[1], 2.0 + shared, 1.0)

    def _span(
        self, passage: str, keywords: list[str], words: list[re.Match[str]]
    ) -> tuple[int, int] | None:
        if self.phrase is not None:
            found = passage.find(self.phrase)
            return None if found < 0 else (found, found + len(self.phrase))
        for before, word in zip(words, words[1:], strict=False):
            if before.group().lower() in keywords:
                return word.start(), word.end()
        return None


def write_onnx_reader(
    folder: Path,
    starts: Sequence[str],
    ends: Sequence[str],
    *,
    no_answer: float = 0.0,
    margin: float = 0.0,
    sha256: str | None = None,
) -> Path:
    """A reader folder with a tiny ONNX model of the real interface: each token's start
    (end) logit is 5 for the words in ``starts`` (``ends``), 0 for others, and
    ``no_answer / 2`` for [CLS]. The tokenizer is the bundled MiniLM's."""
    import onnx
    from onnx import TensorProto, helper
    from tokenizers import Tokenizer

    from assistant.embedding.model_files import resolve_model_path

    folder.mkdir(parents=True, exist_ok=True)
    source = resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json"
    shutil.copy(source, folder / "tokenizer.json")
    tokenizer = Tokenizer.from_file(str(source))
    size = tokenizer.get_vocab_size()
    tables = {}
    for name, words in (("start", starts), ("end", ends)):
        table = np.zeros(size, dtype=np.float32)
        for word in words:
            token = tokenizer.token_to_id(word)
            assert token is not None, f"{word!r} is not one token"
            table[token] = 5.0
        table[tokenizer.token_to_id("[CLS]")] = no_answer / 2
        tables[name] = helper.make_tensor(f"{name}_table", TensorProto.FLOAT, [size], table)
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "seq"])
        for n in ("start_logits", "end_logits")
    ]
    nodes = [
        helper.make_node("Gather", ["start_table", "input_ids"], ["start_logits"]),
        helper.make_node("Gather", ["end_table", "input_ids"], ["end_logits"]),
    ]
    graph = helper.make_graph(nodes, "fake-reader", inputs, outputs, list(tables.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "reader.int8.onnx")
    digest = hashlib.sha256((folder / "reader.int8.onnx").read_bytes()).hexdigest()
    tokens = hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest()
    info = {
        "max_tokens": 256,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": ["start_logits", "end_logits"],
        "sha256": {"reader.int8.onnx": sha256 or digest, "tokenizer.json": tokens},
        "no_answer_margin": margin,
    }
    (folder / "reader.json").write_text(json.dumps(info))
    return folder
