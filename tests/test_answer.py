"""Answer composition, with the fake embedder (fusion itself: test_retrieval.py)."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer import AnswerPolicy, compose_answer, sentences_to_embed
from assistant.records import Answer, Chunk, Hit
from tests.fakes import FakeEmbedder


def hit(text: str, score: float = 1.0, start_line: int = 1, path: str = "a.txt") -> Hit:
    return Hit(
        Chunk(path, text, 100, 100 + len(text), start_line, start_line + text.count("\n")), score
    )


def ask(question: str, hits: list[Hit], policy: AnswerPolicy | None = None) -> Answer:
    """Answer from ``hits``, giving each the passage cosine that retrieval would have."""
    fake = FakeEmbedder()
    query = fake.embed_queries([question])[0]
    scored = [
        replace(h, dense_score=float(fake.embed_documents([h.chunk.text])[0] @ query)) for h in hits
    ]
    sentences = fake.embed_documents(sentences_to_embed(question, scored))
    return compose_answer(question, query, scored, sentences, policy or AnswerPolicy())


def test_the_best_sentence_is_the_answer_with_its_position() -> None:
    text = (
        "The harbour opened in spring.\nShips from the north arrived daily.\n"
        "The lighthouse keeper was named Ada Brown."
    )
    answer = ask("Who was the lighthouse keeper?", [hit(text, start_line=10)])
    assert not answer.abstained
    first = answer.citations[0]
    assert first.sentence == "The lighthouse keeper was named Ada Brown."
    assert answer.text == "The lighthouse keeper was named Ada Brown. [1]"
    assert first.start_line == first.end_line == 12
    assert first.char_start == 100 + text.index("The lighthouse")
    assert first.char_end == first.char_start + len(first.sentence)
    # The excerpt gives context around the sentence, which sits at sentence_offset.
    assert first.excerpt.startswith("Ships from the north")
    assert first.excerpt[first.sentence_offset :].startswith(first.sentence)


def test_unrelated_passages_abstain() -> None:
    answer = ask("quantum chromodynamics lattice gauge", [hit("The cat sat on the warm mat.")])
    assert answer.abstained and answer.text == "" and answer.citations == ()


def test_no_hits_abstain() -> None:
    assert ask("anything at all?", []).abstained


def test_a_when_question_prefers_the_sentence_with_a_date() -> None:
    text = (
        "Castillo was removed from office by Congress amid protest.\n"
        "The coup removed Castillo on Dec. 7, 2022."
    )
    answer = ask("When was Castillo removed?", [hit(text)])
    assert "Dec. 7, 2022" in answer.citations[0].sentence


def test_a_sentence_ending_in_a_colon_takes_its_list() -> None:
    text = "The protesters are demanding:\n\n  • new elections,\n  • a new constitution.\n\nOther."
    answer = ask("What are the protesters demanding?", [hit(text)])
    sentence = answer.citations[0].sentence
    assert sentence.startswith("The protesters are demanding:")
    assert sentence.endswith("• a new constitution.")
    assert answer.citations[0].end_line == answer.citations[0].start_line + 3


def test_overlapping_chunks_cite_a_sentence_once() -> None:
    text = "Basil grows best in full sun. Water it every morning."
    twin = Hit(Chunk("a.txt", text, 100, 100 + len(text), 1, 1), 0.9)
    answer = ask("Where does basil grow best?", [hit(text), twin])
    assert not answer.abstained
    assert answer.citations[0].sentence == "Basil grows best in full sun."
    starts = [(c.path, c.char_start) for c in answer.citations]
    assert len(starts) == len(set(starts))


def test_headings_and_bylines_are_not_answers() -> None:
    text = "CONTRIBUTOR\n\nW. T. Whitney Jr.\n\nWhitney lives in rural Maine and writes often."
    # Which sentence is cited, not whether to abstain: the fake embedder finds "lives"
    # unlike "live" (cosine 0.2), which the abstention model weighs as a weak match.
    answer = ask("Where does W. T. Whitney Jr. live?", [hit(text)], AnswerPolicy(abstain_below=0))
    assert answer.citations[0].sentence == "Whitney lives in rural Maine and writes often."
    assert all("Jr." not in c.sentence for c in answer.citations)


# A PDF page's text: a sentence wrapped over printed lines with a word hyphenated at a
# line end, beside a contents line and an index line that share its words.
PRINTED = (
    "Contents\n"
    "Harbour fees and pilotage charges . . . . . . . . . . . 4\n"
    "harbour fees, 4, 12-14\n"
    "In 2024 the authority raised the harbour fees for container ships to pay for the\n"
    "new quay, after a long consul-\n"
    "tation with the shipping lines. Cruise calls doubled in the same year, and the\n"
    "old town saw more visitors than ever."
)


def test_a_wrapped_sentence_is_cited_whole_as_it_reads_with_exact_offsets() -> None:
    answer = ask("Why were the harbour fees raised?", [hit(PRINTED, start_line=3)])
    first = answer.citations[0]
    assert first.sentence == (
        "In 2024 the authority raised the harbour fees for container ships to pay for the "
        "new quay, after a long consultation with the shipping lines."
    )
    printed_start = PRINTED.index("In 2024")
    assert first.char_start == 100 + printed_start
    assert first.char_end == 100 + PRINTED.index("lines.") + len("lines.")
    assert (first.start_line, first.end_line) == (6, 8)
    assert first.excerpt[first.sentence_offset :].startswith(first.sentence)


def test_contents_and_index_lines_are_never_answers() -> None:
    contents = "Harbour fees and pilotage charges . . . . . . . . . . . 4"
    for text in (contents, "harbour fees and pilotage charges, 4, 12-14", "Page 4 of 12"):
        answer = ask("What are the harbour fees and pilotage charges?", [hit(text)])
        assert answer.abstained, text
