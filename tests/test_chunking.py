"""Chunks: exact spans, lines and pages, token budgets, and the model's window."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import ChunkingSettings
from assistant.documents.chunking import chunk_document
from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder
from assistant.records import Document, Page
from assistant.text.bpe import get_encoding
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

FAKE = FakeEmbedder()


def chunk(doc: Document, chunking: ChunkingSettings | None = None, limit: int = 254) -> list:
    return chunk_document(
        doc,
        chunking or ChunkingSettings(),
        model_max_tokens=limit,
        count_model_tokens=FAKE.count_tokens,
    )


def assert_exact(doc: Document, chunks: list) -> None:
    for c in chunks:
        assert doc.text[c.char_start : c.char_end] == c.text
        if not doc.pages:
            # The chunk's first and last lines are the lines its text starts and ends on
            # (a chunk may start mid-line, after a sentence that ended the one before).
            assert c.start_line == doc.text.count("\n", 0, c.char_start) + 1
            assert c.end_line - c.start_line == c.text.count("\n")


def test_sample_article_chunks_are_exact_and_within_budget() -> None:
    doc = Document("peru.txt", SAMPLE.read_text(encoding="utf-8"))
    chunks = chunk(doc)
    assert len(chunks) > 5
    assert_exact(doc, chunks)
    encoding = get_encoding()
    # Sentences are never cut here: every chunk starts and ends at a sentence boundary.
    assert all(len(encoding.encode_ordinary(c.text)) <= 160 + 40 for c in chunks)
    assert all(
        c.text[-1] in '.:,”"?!)' or c.text.endswith("AP") or c.text[-1].isalpha() for c in chunks
    )
    # Together the chunks cover every non-blank line of the article.
    covered = {line for c in chunks for line in range(c.start_line, c.end_line + 1)}
    wanted = {n for n, line in enumerate(doc.text.split("\n"), 1) if line.strip()}
    assert wanted <= covered


def test_overlap_repeats_sentences_within_a_long_paragraph() -> None:
    sentences = [
        f"Sentence number {i} talks about topic {i} at some length here." for i in range(40)
    ]
    doc = Document("long.txt", " ".join(sentences))
    chunks = chunk(doc, ChunkingSettings(chunk_tokens=60, overlap_tokens=20))
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.char_start < before.char_end  # overlapping spans


def test_paragraphs_start_fresh_chunks_when_they_fit() -> None:
    para = "A sentence about apples and pears in the orchard. " * 6
    doc = Document("p.txt", (para.strip() + "\n\n") * 4)
    chunks = chunk(doc, ChunkingSettings(chunk_tokens=100, overlap_tokens=20))
    assert all(c.text.count("\n\n") <= 1 for c in chunks)
    assert all(doc.text[c.char_start - 2 : c.char_start] in ("", "\n\n") for c in chunks)


def test_pdf_pages_are_kept_and_lines_count_within_the_page() -> None:
    page1 = "First page title\nThe first page says hello."
    page2 = "Second page\nline two of page two\nThe second page says goodbye."
    text = page1 + "\n\n" + page2
    pages = (Page(1, 0, len(page1)), Page(2, len(page1) + 2, len(text)))
    doc = Document("doc.pdf", text, pages)
    chunks = chunk(doc)
    assert {c.page for c in chunks} == {1, 2}
    assert_exact(doc, chunks)
    last = [c for c in chunks if c.page == 2][-1]
    assert last.end_line == 3  # line 3 of page 2, not of the whole text


def test_a_huge_line_without_spaces_is_cut_to_fit() -> None:
    doc = Document("blob.txt", "x" * 200_000)
    chunks = chunk(doc, limit=100)
    assert_exact(doc, chunks)
    assert "".join(c.text for c in chunks) == doc.text
    assert max(FAKE.count_tokens([c.text for c in chunks])) <= 100


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    # Only the model's fast tokenizer is used here: no torch is loaded.
    return SentenceTransformerEmbedder()


def table_text() -> str:
    header = (
        "| id | sku | price_eur | qty | warehouse_code | last_audit |\n|---|---|---|---|---|---|\n"
    )
    rows = "".join(
        f"| {i} | XK-{i * 7919 % 100000:05d}-B | {i * 3.17:.2f} | {i % 13} | WH{i % 7}-EU | "
        f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d} |\n"
        for i in range(400)
    )
    return header + rows


@pytest.mark.parametrize("name", ["prose", "table"])
def test_no_chunk_exceeds_the_real_model_window(
    minilm: SentenceTransformerEmbedder, name: str
) -> None:
    text = SAMPLE.read_text(encoding="utf-8") if name == "prose" else table_text()
    doc = Document(f"{name}.txt", text)
    chunks = chunk_document(
        doc,
        ChunkingSettings(chunk_tokens=240, overlap_tokens=32),
        model_max_tokens=minilm.max_tokens,
        count_model_tokens=minilm.count_tokens,
    )
    assert_exact(doc, chunks)
    counts = minilm.count_tokens([c.text for c in chunks])
    assert minilm.max_tokens == 254
    assert max(counts) <= 254
    if name == "table":
        # Tables cost far more word pieces than cl100k tokens: the window check did the work.
        encoding = get_encoding()
        assert any(
            m > len(encoding.encode_ordinary(c.text)) for m, c in zip(counts, chunks, strict=True)
        )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("abc xyz.\n!?:;,é—\t") + ["Dec. ", "U.S. ", "word ", "\n\n"]),
        max_size=600,
    ).map("".join),
    st.integers(min_value=16, max_value=80),
)
def test_any_text_chunks_exactly_and_within_limits(text: str, budget: int) -> None:
    doc = Document("any.txt", text)
    chunks = chunk(doc, ChunkingSettings(chunk_tokens=budget, overlap_tokens=budget // 4), limit=60)
    assert_exact(doc, chunks)
    assert all(n <= 60 for n in FAKE.count_tokens([c.text for c in chunks]))
    # Coverage: every non-space character of the text is in some chunk.
    covered = [False] * len(text)
    for c in chunks:
        covered[c.char_start : c.char_end] = [True] * (c.char_end - c.char_start)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


def test_a_long_sentence_is_cut_after_a_clause_mark() -> None:
    """Chinese writes long sentences without spaces: one too long for a chunk is cut
    after a comma, not mid-word; in English after ", " rather than at any space."""
    clause = "神明管轄村莊的範圍稱為境，信徒認為神明的社會如同人類社會，"
    doc = Document("zh.txt", clause * 12 + "焚化元寶給神明使用。")
    chunks = chunk(doc, ChunkingSettings(chunk_tokens=60, overlap_tokens=0))
    assert_exact(doc, chunks)
    assert len(chunks) > 2 and all(c.text[-1] in "，。" for c in chunks)
    english = Document("en.txt", "the tide rose over the pier, " * 30 + "and then it fell.")
    parts = chunk(english, ChunkingSettings(chunk_tokens=40, overlap_tokens=0))
    assert len(parts) > 2 and all(p.text.endswith((",", ".")) for p in parts)
