"""Tests for the streaming BM25 build: the same index as bm25s's in-memory one, on disk,
and segments' postings scored as bm25s scores one index."""

from __future__ import annotations

import io
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import assistant.store.bm25_write
from assistant.store.bm25 import IDS_FILE, K1, B
from assistant.store.bm25_write import write_bm25
from assistant.store.postings import Postings, SegmentedLexical
from assistant.text.terms import STOPWORDS, tokenize

BM25_FILES = {
    "chunk_ids.npy",
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "params.index.json",
    "vocab.index.json",
}
# Stopwords, words sharing a stem, non-ASCII words, digits, one-letter words (not tokens).
WORDS = [
    "the",
    "of",
    "from",
    "been",
    "running",
    "runs",
    "runner",
    "apple",
    "apples",
    "über",
    "café",
    "naïve",
    "東京",
    "42",
    "x",
    "zebra",
    "graph",
    "graphs",
    *(f"w{i}" for i in range(40)),
]


def _reference(texts: list[str]) -> bm25s.BM25:
    """What the build must equal: bm25s's own in-memory index of the same tokens."""
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def _columns(retriever: bm25s.BM25) -> dict[str, tuple[list[int], list[float]]]:
    """Each term's (documents, scores): comparable whatever ids the vocabularies use."""
    scores = retriever.scores
    columns = {}
    for term, column in retriever.vocab_dict.items():
        if term == "":  # bm25s's empty token has no column
            continue
        start, end = scores["indptr"][column], scores["indptr"][column + 1]
        columns[term] = (
            scores["indices"][start:end].tolist(),
            scores["data"][start:end].tolist(),
        )
    return columns


Hits = list[list[tuple[int, float]]]


class Built:
    """The files ``write_bm25`` wrote, searched by bm25s itself: for each query, up to
    ``k`` (chunk id, score) pairs with a positive score, best first (ties by row)."""

    def __init__(self, folder: Path) -> None:
        self.ids = np.load(folder / IDS_FILE, allow_pickle=False)
        self.retriever = bm25s.BM25.load(str(folder)) if len(self.ids) else None

    def search(self, queries: list[str], k: int) -> Hits:
        results: Hits = []
        for tokens in tokenize(queries):
            term_ids = self.retriever.get_tokens_ids(tokens) if self.retriever else []
            if not term_ids:
                results.append([])
                continue
            scores = self.retriever.get_scores_from_ids(term_ids)
            rows = np.flatnonzero(scores > 0)
            rows = rows[np.lexsort((rows, -scores[rows]))][:k]
            results.append([(int(self.ids[r]), float(scores[r])) for r in rows])
        return results


def _build(folder: Path, texts: list[str], **tuning: int) -> Built:
    write_bm25(folder, [(100 + 3 * i, text) for i, text in enumerate(texts)], **tuning)
    return Built(folder)


corpora = st.lists(
    st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join), min_size=1, max_size=60
)
queries = st.lists(st.sampled_from([*WORDS, "unseen", "zzz"]), min_size=1, max_size=4).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    texts=corpora,
    questions=st.lists(queries, min_size=1, max_size=8),
    batch_size=st.integers(1, 9),
    bucket_entries=st.integers(1, 40),
)
def test_build_matches_bm25s_in_memory_index(
    texts: list[str], questions: list[str], batch_size: int, bucket_entries: int
) -> None:
    if not any(tokenize(texts)):
        return  # bm25s itself cannot index a corpus without a single term (tested below)
    expected = _reference(texts)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "bm25"
        built = _build(folder, texts, batch_size=batch_size, bucket_entries=bucket_entries)
        loaded = bm25s.BM25.load(str(folder))

        assert _columns(loaded) == _columns(expected)  # scores equal bit for bit
        assert set(loaded.vocab_dict) == set(expected.vocab_dict)
        assert loaded.vocab_dict[""] == len(loaded.vocab_dict) - 1
        assert loaded.scores["num_docs"] == len(texts)
        for name in ("data", "indices", "indptr"):
            assert loaded.scores[name].dtype == expected.scores[name].dtype, name
        for question in questions:
            want = expected.get_scores_from_ids(expected.get_tokens_ids(tokenize([question])[0]))
            hits = built.search([question], 5)[0]
            rows = [(chunk_id - 100) // 3 for chunk_id, _ in hits]
            scores = [score for _, score in hits]
            assert len(hits) == min(5, int(np.count_nonzero(want > 0)))
            assert len(set(rows)) == len(rows)
            assert scores == pytest.approx(want[rows].tolist())  # each hit's own score
            assert scores == pytest.approx(np.sort(want)[::-1][: len(hits)].tolist())  # the best


def test_bm25s_loads_the_files_and_retrieves_like_the_reference(tmp_path: Path) -> None:
    rng = random.Random(7)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(0, 25))) for _ in range(300)]
    _build(tmp_path / "bm25", texts, batch_size=32, bucket_entries=64)
    expected = _reference(texts)
    expected.save(tmp_path / "reference")

    loaded = bm25s.BM25.load(str(tmp_path / "bm25"))
    params = json.loads((tmp_path / "bm25" / "params.index.json").read_text())
    assert params == json.loads((tmp_path / "reference" / "params.index.json").read_text())
    assert {p.name for p in (tmp_path / "bm25").iterdir()} == BM25_FILES
    for question in ("apple runner", "graphs zebra w3", "東京 café"):
        tokens = tokenize([question])
        got = loaded.retrieve(tokens, k=10, show_progress=False)
        want = expected.retrieve(tokens, k=10, show_progress=False)
        np.testing.assert_allclose(got.scores, want.scores, rtol=1e-6)
        assert got.scores[0, 0] > 0
    # The .npy files are what np.save writes (same header), loadable without pickle.
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        path = tmp_path / "bm25" / name
        buffer = io.BytesIO()
        np.save(buffer, np.load(path, allow_pickle=False), allow_pickle=False)
        assert path.read_bytes() == buffer.getvalue()


def test_files_do_not_depend_on_batching(tmp_path: Path) -> None:
    rng = random.Random(3)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(0, 20))) for _ in range(200)]
    _build(tmp_path / "small", texts, batch_size=1, bucket_entries=1)
    _build(tmp_path / "large", texts)
    for name in BM25_FILES:
        small, large = (tmp_path / "small" / name).read_bytes(), (tmp_path / "large" / name)
        assert small == large.read_bytes(), name


def test_search_maps_rows_to_chunk_ids_and_ranks_by_score(tmp_path: Path) -> None:
    texts = ["zebra graph", "apple apple apple pie", "apple tart", "Über café, naïve 東京"]
    index = _build(tmp_path, texts, batch_size=2)

    assert [c for c, _ in index.search(["apple"], 10)[0]] == [103, 106]
    assert [c for c, _ in index.search(["cafe café"], 10)[0]] == [109]  # only "café" exists
    assert index.search(["東京"], 10)[0][0][0] == 109
    assert index.search(["unseen words"], 10) == [[]]  # tokens, none in the vocabulary
    assert index.search(["the of from"], 10) == [[]]  # stopwords only
    assert [len(hits) for hits in index.search(["apple", "zebra", "nothing"], 1)] == [1, 1, 0]


def test_one_document(tmp_path: Path) -> None:
    index = _build(tmp_path, ["A single chunk about sourdough starters."])
    assert [c for c, _ in index.search(["sourdough starter"], 5)[0]] == [100]


def test_empty_corpus_writes_only_the_chunk_ids(tmp_path: Path) -> None:
    index = _build(tmp_path / "bm25", [])
    assert [p.name for p in (tmp_path / "bm25").iterdir()] == ["chunk_ids.npy"]
    assert len(np.load(tmp_path / "bm25" / "chunk_ids.npy", allow_pickle=False)) == 0
    assert index.search(["anything", "the"], 5) == [[], []]


def test_documents_of_only_stopwords_still_make_a_loadable_index(tmp_path: Path) -> None:
    # bm25s.BM25.index raises on such a corpus (no term at all); the build must not.
    texts = [" ".join(STOPWORDS[:20]), "", "!!! ... x y z", "The of and."]
    index = _build(tmp_path / "bm25", texts, batch_size=3)

    loaded = bm25s.BM25.load(str(tmp_path / "bm25"))
    assert loaded.vocab_dict == {"": 0}
    assert loaded.scores["num_docs"] == 4
    assert index.search(["the", "apple", "x"], 5) == [[], [], []]


def test_empty_and_stopword_documents_among_others_count_in_the_average_length(
    tmp_path: Path,
) -> None:
    texts = ["graph zebra", "", "the of and", "graph graph runner", "zebra"]
    index = _build(tmp_path, texts, batch_size=2, bucket_entries=1)
    expected = _reference(texts)
    want = expected.get_scores(tokenize(["graph"])[0])
    assert [s for _, s in index.search(["graph"], 5)[0]] == pytest.approx(
        sorted(want[want > 0], reverse=True)
    )


def _failing_rows(texts: list[str], after: int) -> Iterator[tuple[int, str]]:
    for i, text in enumerate(texts):
        if i == after:
            raise OSError("disk read failed")
        yield i, text


def test_an_error_while_reading_rows_leaves_no_files(tmp_path: Path) -> None:
    texts = [f"graph w{i} zebra" for i in range(50)]
    with pytest.raises(OSError, match="disk read failed"):
        write_bm25(tmp_path / "bm25", _failing_rows(texts, 30), batch_size=8)
    assert list((tmp_path / "bm25").iterdir()) == []


def test_an_error_while_writing_leaves_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(assistant.store.bm25_write, "_write_json", disk_full)
    with pytest.raises(OSError, match="no space"):
        write_bm25(tmp_path / "bm25", enumerate(["graph zebra", "apple"]))
    assert list((tmp_path / "bm25").iterdir()) == []


def test_rebuilding_into_the_same_folder_replaces_the_index(tmp_path: Path) -> None:
    _build(tmp_path, ["graph zebra", "apple"])
    index = _build(tmp_path, ["runner"])
    assert {p.name for p in tmp_path.iterdir()} == BM25_FILES
    assert index.search(["graph"], 5) == [[]]
    assert [c for c, _ in index.search(["runners"], 5)[0]] == [100]


def test_query_tokenization_drops_stopwords_and_stems() -> None:
    assert tokenize(["The runners were running from the apples", "of the"]) == [
        ["runner", "run", "appl"],
        [],
    ]


@settings(max_examples=40, deadline=None)
@given(texts=corpora, questions=st.lists(queries, min_size=1, max_size=8), cut=st.integers(0, 60))
def test_segments_score_as_bm25s_does(texts: list[str], questions: list[str], cut: int) -> None:
    """Postings scored with global statistics, split in two segments or not, give bm25s's
    own scores (bit for bit: the same formulas and dtypes)."""
    if not any(tokenize(texts)):
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        rows = [(100 + 3 * i, text) for i, text in enumerate(texts)]
        bm25s_index = _build(folder / "scores", texts)
        parts = [rows[:cut], rows[cut:]] if 0 < cut < len(rows) else [rows]
        postings = []
        for n, part in enumerate(parts):
            write_bm25(folder / f"seg{n}", part, term_frequencies=True)
            postings.append(Postings.load(folder / f"seg{n}"))
        segmented = SegmentedLexical(postings, [None] * len(postings))
        k = len(texts)
        for expected, found in zip(
            bm25s_index.search(questions, k), segmented.search(questions, k), strict=True
        ):
            assert sorted(expected, key=lambda h: (-h[1], h[0])) == found
