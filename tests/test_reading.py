"""Answers with a reader: the sentence it backs wins, its phrase is marked, passages are
reranked, it abstains when either the reader or the scorer is unsure, and nothing
changes when the reader is off."""

from __future__ import annotations

import dataclasses

from assistant import Assistant, Settings
from assistant.answer import AnswerPolicy, compose_answer, sentences_to_embed
from assistant.documents.loaders import load_document
from assistant.embedding import Encoders
from assistant.reader import Reading
from assistant.reading import (
    asks_for_a_phrase,
    passage_order,
    passages_to_read,
    read_passages,
    read_questions,
    reading_window,
)
from assistant.records import Answer, Chunk, Hit
from tests.fakes import FakeEmbedder, FakeReader

QUESTION = "Who removed Castillo from office?"
RESTATES = "Castillo was removed from office on Wednesday, after hours of debate."
ANSWERS = "The vote was carried by a majority in Congress."
PASSAGE = f"{RESTATES}\n{ANSWERS}\nThe capital was calm."


def hit(text: str, score: float = 1.0, path: str = "a.txt", start: int = 100) -> Hit:
    return Hit(Chunk(path, text, start, start + len(text), 1, 1 + text.count("\n")), score)


def read(
    question: str,
    hits: list[Hit],
    reader: FakeReader,
    readings: list[Reading] | None = None,
    margin: float | None = None,
    order: list[int] | None = None,
    policy: AnswerPolicy | None = None,
) -> tuple[Answer, list[Hit]]:
    """Answer as the assistant does with a reader (the fake embedder scoring sentences)."""
    hits = scored(question, hits)
    if readings is None:
        readings = reader.read([(question, h.chunk.text) for h in passages_to_read(hits)])
    margin = reader.no_answer_margin if margin is None else margin
    passages = read_passages(question, hits, readings, margin, policy or AnswerPolicy(), order)
    fake = FakeEmbedder()
    query = fake.embed_queries([question])[0]
    sentences = fake.embed_documents(passages.sentences_to_embed())
    return passages.answer(query, sentences), passages.hits


def scored(question: str, hits: list[Hit]) -> list[Hit]:
    """The hits with the fake embedder's dense scores, as retrieval gives them."""
    fake = FakeEmbedder()
    query = fake.embed_queries([question])[0]
    return [
        dataclasses.replace(h, dense_score=float(fake.embed_documents([h.chunk.text])[0] @ query))
        for h in hits
    ]


def old(question: str, hits: list[Hit]) -> Answer:
    """The scorer's choice without a reader (its abstention aside: the fake embedder's
    cosines are not the model's, so the fitted confidence means nothing here)."""
    fake = FakeEmbedder()
    query = fake.embed_queries([question])[0]
    hits = scored(question, hits)
    sentences = fake.embed_documents(sentences_to_embed(question, hits))
    return compose_answer(question, query, hits, sentences, AnswerPolicy(abstain_below=0.0))


def test_the_answer_is_the_sentence_holding_the_span() -> None:
    # Without a reader the sentence that repeats the question wins; that is the failure.
    assert old(QUESTION, [hit(PASSAGE)]).citations[0].sentence == RESTATES
    no_floor = AnswerPolicy(read_abstain_below=0.0)  # fake cosines: the scorer's floor aside
    answer, _ = read(
        QUESTION, [hit(PASSAGE)], FakeReader("a majority in Congress"), policy=no_floor
    )
    first = answer.citations[0]
    assert first.sentence == ANSWERS
    assert answer.text == f"{ANSWERS} [1]"
    assert first.char_start == 100 + PASSAGE.index(ANSWERS)
    assert first.char_end == first.char_start + len(ANSWERS)
    assert (first.start_line, first.end_line) == (2, 2)
    assert answer.span is not None
    assert (answer.span.n, answer.span.text) == (1, "a majority in Congress")
    assert answer.span.char_start == 100 + PASSAGE.index("a majority")
    assert answer.span.char_end == answer.span.char_start + len("a majority in Congress")
    start, end = answer.span_in_answer() or (0, 0)
    assert answer.text[start:end] == "a majority in Congress"
    assert not answer.abstained


def test_passages_are_reranked_by_span_score_and_each_sentence_cited_once() -> None:
    plain = hit("The capital was calm on Wednesday morning.", score=2.0, path="b.txt")
    holds = hit(PASSAGE, score=1.0)
    again = hit(PASSAGE, score=0.5)  # an overlapping chunk: the same sentence again
    no_floor = AnswerPolicy(read_abstain_below=0.0)  # fake cosines: the scorer's floor aside
    reader = FakeReader("a majority in Congress")
    answer, ranked = read(QUESTION, [plain, holds, again], reader, policy=no_floor)
    assert (ranked[0].chunk, ranked[0].score) == (holds.chunk, holds.score)
    assert ranked[-1].chunk == plain.chunk
    sentences = [c.sentence for c in answer.citations]
    assert sentences[0] == ANSWERS and len(sentences) == len(set(sentences))


def test_the_reader_finding_no_answer_anywhere_abstains() -> None:
    answer, ranked = read(QUESTION, [hit(PASSAGE), hit(ANSWERS)], FakeReader(no_answer=True))
    assert answer.abstained and answer.text == "" and answer.citations == ()
    assert answer.span is None and answer.confidence < 0.5
    assert len(ranked) == 2


def test_no_answer_must_win_by_more_than_the_margin() -> None:
    readings = [Reading(0, 6, span_score=1.0, no_answer_score=2.5)]
    hits = [hit(PASSAGE)]
    reader = FakeReader()
    assert read(QUESTION, hits, reader, readings, margin=1.0)[0].abstained
    assert not read(QUESTION, hits, reader, readings, margin=2.0)[0].abstained


def test_the_scorer_finding_no_match_abstains_though_the_reader_answers() -> None:
    unrelated = hit("Basil grows best in full sun and well-drained soil.")
    reader = FakeReader("full sun")  # it finds "an answer" in whatever it reads
    answer, _ = read("What is the boiling point of mercury in kelvin?", [unrelated], reader)
    assert answer.abstained and answer.citations == ()


def test_the_phrase_is_marked_only_inside_the_answer_sentence() -> None:
    # The reader's only span is in a sentence its support does not lift to the top.
    policy = AnswerPolicy(reader_weight=0.0)
    answer, _ = read(QUESTION, [hit(PASSAGE)], FakeReader("The capital"), policy=policy)
    assert answer.citations[0].sentence != "The capital was calm."
    assert answer.span is None


def test_a_list_item_is_cited_with_the_sentence_that_introduces_the_list() -> None:
    text = "The protesters are demanding:\n\n  • new elections,\n  • a new constitution.\n\nOther."
    answer, _ = read("What are they demanding?", [hit(text)], FakeReader("new elections"))
    sentence = answer.citations[0].sentence
    assert sentence.startswith("The protesters are demanding:")
    assert sentence.endswith("• a new constitution.")
    assert answer.span is not None and answer.span.text == "new elections"
    assert answer.span_in_answer() is not None


def test_answer_span_offsets_index_the_document_text(settings: Settings) -> None:
    reader = FakeReader("Dec. 7, 2022")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()), reader=reader)
    assistant.update_index()
    answer = assistant.ask("When was Castillo removed from office by the coup?")
    assert answer.span is not None, answer
    first = answer.citations[0]
    document = load_document(settings.corpus / first.path, first.path).text
    assert document[answer.span.char_start : answer.span.char_end] == "Dec. 7, 2022"
    assert document[first.char_start : first.char_end] == first.sentence
    assert first.char_start <= answer.span.char_start < answer.span.char_end <= first.char_end
    assert answer.to_json()["answer_span"] == {
        "n": 1,
        "text": "Dec. 7, 2022",
        "char_start": answer.span.char_start,
        "char_end": answer.span.char_end,
    }
    assert reader.pairs and all(q.startswith("When was Castillo") for q, _ in reader.pairs)


def test_with_the_reader_off_answers_are_exactly_as_without_one(settings: Settings) -> None:
    embedder = FakeEmbedder()
    without = Assistant(settings, encoders=Encoders.single(embedder))
    without.update_index()
    reader = FakeReader("Dec. 7, 2022")
    off = Assistant(
        dataclasses.replace(settings, reader=False),
        encoders=Encoders.single(embedder),
        reader=reader,
    )
    on = Assistant(settings, encoders=Encoders.single(embedder), reader=reader)
    questions = ["When was Castillo removed from office by the coup?", "basil sun", "quantum"]

    def shown(assistant: Assistant) -> list[dict[str, object]]:
        return [{**a.to_json(), "elapsed_ms": 0} for a in assistant.ask_many(questions)]

    assert shown(off) == shown(without)
    assert reader.pairs == []  # off means never read
    assert shown(on) != shown(without)


def test_retrieval_order_counts_beside_the_reader_when_weighted() -> None:
    # The second passage reads a little better; retrieval ranked the first higher.
    readings = [Reading(0, 5, 10.0, 0.0), Reading(0, 5, 10.5, 0.0), Reading(0, 5, 4.0, 0.0)]
    assert passage_order(readings, rank_weight=0.0) == [1, 0, 2]
    # log2(3) - log2(2) = 0.58 of rank weighs more than 0.5 of span score.
    assert passage_order(readings, rank_weight=1.0) == [0, 1, 2]
    hits = [hit("First passage.", start=0), hit("Second passage.", start=50), hit("Third.")]
    _, ranked = read(QUESTION, hits, FakeReader(), readings, margin=100.0, order=[2, 0, 1])
    assert [h.chunk.text for h in ranked] == ["Third.", "First passage.", "Second passage."]


def test_only_passages_the_reader_reads_with_confidence_are_reranked() -> None:
    """Out of its domain the reader's spans lose to "no answer": retrieval's order stands."""
    unsure = [Reading(0, 5, 1.0, 4.0), Reading(0, 5, 3.0, 4.0), Reading(0, 5, 2.0, 4.0)]
    assert passage_order(unsure, margin=0.0) == [0, 1, 2]
    # With a margin of 2.5 the second and third read with confidence and go ahead of
    # the first, ranked among themselves; the first keeps its place behind them.
    assert passage_order(unsure, margin=2.5) == [1, 2, 0]
    confident_third = [Reading(0, 5, 1.0, 4.0), Reading(0, 5, 2.0, 4.0), Reading(0, 5, 9.0, 4.0)]
    assert passage_order(confident_third, margin=0.0) == [2, 0, 1]
    no_span = [Reading(0, 0, -1e9, 0.0), Reading(0, 5, 9.0, 0.0)]
    assert passage_order(no_span, margin=5.0) == [1, 0]


def test_asks_for_a_phrase_tells_questions_from_claims_keywords_and_yes_no() -> None:
    asked = [
        "Who removed Castillo?",
        "when was it built",
        "How many ships",
        "Name the harbour master",
        "In which year was it built",
        "Castillo's lawyer?",
        "Quién ganó？",
        "¿Dónde?",
    ]
    told = [
        "0-dimensional biomaterials show inductive properties.",
        "harbour fees",
        "",
        "Is it true that 0-dimensional biomaterials show inductive properties?",
        "Did the vote pass?",
        "Patients who receive statins have fewer strokes.",
        "The drug, which was approved in 2010, lowers blood pressure",
    ]
    assert all(asks_for_a_phrase(q) for q in asked)
    assert not any(asks_for_a_phrase(q) for q in told)


def test_the_reader_reads_fewer_passages_when_retrieval_is_sure() -> None:
    hits = [hit(f"Passage {n}.", start=n * 50) for n in range(8)]
    close = [dataclasses.replace(h, dense_score=0.8 - n * 0.01) for n, h in enumerate(hits)]
    apart = [dataclasses.replace(h, dense_score=0.9 if n == 0 else 0.5) for n, h in enumerate(hits)]
    assert len(passages_to_read(close)) == 3
    assert len(passages_to_read(apart)) == 2
    assert len(passages_to_read(hits)) == 3  # no dense scores (lexical mode): not sure


def test_the_reader_reads_a_window_around_the_best_matching_sentence() -> None:
    filler = " ".join(f"Filler sentence number {n} says nothing at all." for n in range(20))
    text = f"{filler} Castillo was removed from office by Congress. {filler}"
    start, end = reading_window(QUESTION, text, 200)
    assert "Castillo was removed from office by Congress." in text[start:end]
    assert end - start <= 200 and text[start:end].strip()
    assert reading_window(QUESTION, "Short passage.", 200) == (0, len("Short passage."))


def test_window_readings_come_back_in_the_passage_offsets() -> None:
    filler = " ".join(f"Filler sentence number {n} says nothing." for n in range(30))
    text = f"{filler} Castillo was removed from office by Congress in Lima. {filler}"
    reader = FakeReader()
    [[reading]] = read_questions(reader, ["Where was Castillo removed from office?"], [[hit(text)]])
    read_text = reader.pairs[-1][1]
    assert len(read_text) < len(text) and read_text in text
    for span in reading.spans:
        assert (
            text[span.start : span.end]
            == read_text[span.start - text.index(read_text) : span.end - text.index(read_text)]
        )


def test_claims_and_keywords_are_answered_by_the_scorer_without_reading(
    settings: Settings,
) -> None:
    embedder = FakeEmbedder()
    without = Assistant(settings, encoders=Encoders.single(embedder))
    without.update_index()
    reader = FakeReader("Dec. 7, 2022")
    on = Assistant(settings, encoders=Encoders.single(embedder), reader=reader)
    told = ["Castillo was removed from office by the coup.", "basil sun"]
    asked = "When was Castillo removed from office by the coup?"

    def shown(answers: list[Answer]) -> list[dict[str, object]]:
        return [{**a.to_json(), "elapsed_ms": 0} for a in answers]

    mixed = on.ask_many([told[0], asked, told[1]])
    assert shown([mixed[0], mixed[2]]) == shown(without.ask_many(told))
    assert [q for q, _ in reader.pairs] and all(q == asked for q, _ in reader.pairs)
    assert mixed[1].span is not None and mixed[1].span.text == "Dec. 7, 2022"
