"""The real model, real tiktoken and real FAISS on the sample article.

Marked `model`: loading torch and MiniLM takes ~10 s, so the index is built once per
session. Deselect with -m "not model".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import Assistant, Settings
from assistant.cli import main
from tests.conftest import SAMPLE

pytestmark = pytest.mark.model

# (question, a phrase of the sentence that must be cited first)
QUESTIONS = [
    ("What are the protesters demanding?", "The protesters are demanding:"),
    ("When was Castillo removed from office?", "removed Castillo on Dec. 7, 2022"),
    ("How many protesters have been killed?", "They have killed over 60 of them"),
    ("Who heads the U.S. Southern Command?", "Gen. Laura Richardson, head of the U.S. Southern"),
    ("What was Castillo charged with?", "He was charged with “rebellion and conspiracy”"),
    ("Who did Castillo defeat in the election?", "The candidate he defeated was Keiko Fujimori"),
    ("Who is Castillo's lawyer?", "Wilfredo Robles Rivera, the deposed president’s lawyer"),
    ("When did protesters occupy Lima?", "protesters on Jan. 19 occupied Lima"),
    ("How many police were in the streets of Lima on Jan. 21?", "almost 12,000 police"),
    ("Where does Peru's liquified natural gas go?", "natural gas produced in Peru goes to Europe"),
    ("Who is Lisa Kenna?", "U.S. ambassador Lisa Kenna, a CIA veteran"),
    ("Where does W.T. Whitney Jr. live?", "lives in rural Maine"),
]
# Harder: the answer's words differ from the question's ("win" / "victory"). These must
# be among the citations, not necessarily first.
HARD = [
    ("When did Castillo win the presidential election?", "second-round election victory on June 6"),
    ("What party was Castillo affiliated with?", "Marxist-oriented Peru Libre"),
    ("What did Castillo do before politics?", "a primary school teacher"),
]
# The sentence scorer alone (--reader off) is not sure enough of these two: its abstention
# model, fitted on tuning data only (training/fit_abstention.py, issue 25), gives them
# 0.37 and 0.45, under 0.5. The reader answers them. Strict: a fix shows up as a failure.
SCORER_UNSURE = {"Who did Castillo defeat in the election?", "Who is Castillo's lawyer?"}
# With the reader, this one cites the sentence on "the day prior to Castillo's removal
# from office" (the reader reads "Lisa Kenna" there with more confidence than "Dec. 7,
# 2022" in its passage): the reader trained on SQuAD train alone (issue 25) misses what
# the one trained on SQuAD dev read. Spans filtered to dates for "when" questions fixed
# it here but lost 1.4 points of answer-hit@1 on the tuning split, so it was not kept.
READER_MISSES = {"When was Castillo removed from office?"}
UNANSWERABLE = [
    "What is the boiling point of mercury?",
    "How do I bake sourdough bread?",
]


PACKAGED_READER = Path(__file__).resolve().parent.parent / "assistant" / "reader" / "model"


@pytest.fixture(scope="module", params=["reader", "no reader"])
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The sample article answered as shipped (with the packaged reader) and without it."""
    root = tmp_path_factory.mktemp("real")
    (root / "corpus").mkdir()
    shutil.copy(SAMPLE, root / "corpus" / SAMPLE.name)
    settings = Settings(corpus=root / "corpus", index=root / "index")
    if request.param == "reader":
        from assistant.reader import open_reader

        reader = open_reader(PACKAGED_READER)
        if reader is None:
            pytest.skip("no packaged reader in assistant/reader/model/")
        assistant = Assistant(settings, reader=reader)
    else:
        assistant = Assistant(settings)
    report = assistant.update_index()
    assert report.chunks_total == report.chunks_embedded > 5
    return assistant


@pytest.mark.parametrize(("question", "phrase"), QUESTIONS)
def test_the_right_sentence_is_cited_first(
    real: Assistant, question: str, phrase: str, request: pytest.FixtureRequest
) -> None:
    if real.reader is None and question in SCORER_UNSURE:
        request.applymarker(pytest.mark.xfail(strict=True, reason="the scorer alone abstains"))
    if real.reader is not None and question in READER_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="the reader reranks a miss"))
    answer = real.ask(question)
    assert not answer.abstained
    first = answer.citations[0]
    assert phrase in first.sentence and phrase in answer.text
    # The citation points at the line of the file where the sentence is.
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    assert phrase.split("\n")[0] in "\n".join(lines[first.start_line - 1 : first.end_line])
    text = SAMPLE.read_text(encoding="utf-8")
    assert text[first.char_start : first.char_end] == first.sentence


@pytest.mark.parametrize(("question", "phrase"), HARD)
def test_harder_questions_cite_the_right_sentence(
    real: Assistant, question: str, phrase: str
) -> None:
    answer = real.ask(question)
    assert any(phrase in c.sentence for c in answer.citations)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_abstain(real: Assistant, question: str) -> None:
    answer = real.ask(question)
    assert answer.abstained and answer.text == "" and not answer.citations


def test_the_list_after_a_colon_is_part_of_the_answer(real: Assistant) -> None:
    answer = real.ask("What are the protesters demanding?")
    assert "the liberation of the imprisoned Pedro Castillo" in answer.citations[0].sentence


def test_batch_through_the_cli_matches_ask(real: Assistant, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    lines = [json.dumps({"question": q}) for q, _ in QUESTIONS[:4]] + [UNANSWERABLE[0]]
    questions.write_text("\n".join(lines) + "\n")
    settings = real.settings
    result = CliRunner().invoke(
        main,
        ["batch", str(questions), "--corpus", str(settings.corpus), "--index", str(settings.index)],
    )
    assert result.exit_code == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [q for q, _ in QUESTIONS[:4]] + [UNANSWERABLE[0]]
    for (_, phrase), got in zip(QUESTIONS[:4], answers, strict=False):
        assert phrase in got["answer"]
    assert answers[-1]["abstained"] is True


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_the_passage(real: Assistant, mode: str) -> None:
    result = real.search("Gen. Laura Richardson Southern Command", k=3, mode=mode)
    assert any("Laura Richardson" in hit.chunk.text for hit in result.hits)


def test_a_follow_up_uses_the_previous_question(
    real: Assistant, request: pytest.FixtureRequest
) -> None:
    from assistant.conversation import retrieval_query

    if real.reader is not None:  # the same question as READER_MISSES, with "Castillo" added
        request.applymarker(pytest.mark.xfail(strict=True, reason="the reader reranks a miss"))
    query = retrieval_query("When was he removed from office?", "Who did Castillo defeat?")
    answer = real.ask(query)
    assert "removed Castillo on Dec. 7, 2022" in answer.citations[0].sentence


def test_questions_are_encoded_without_torch(real: Assistant) -> None:
    """The index carries an ONNX export of the model; a new process answers from it."""
    import subprocess
    import sys

    from assistant.embedding.export import encoder_dir, has_encoder
    from assistant.embedding.onnx_runtime import FULL, QUANTIZED, OnnxEmbedder
    from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder

    assert has_encoder(real.settings.index, real.settings.model)
    # Answer sentences are scored with an int8 copy, checked against the full encoder.
    assert (encoder_dir(real.settings.index, real.settings.model) / QUANTIZED).is_file()
    encoders = real.encoders
    assert encoders.label.startswith("onnx-int8")
    assert isinstance(encoders.queries, OnnxEmbedder) and encoders.queries.model_file == FULL
    assert isinstance(encoders.passages, OnnxEmbedder)
    assert encoders.passages.model_file == QUANTIZED
    texts = ["When was Castillo removed from office?", "Peru's liquified natural gas"]
    model = SentenceTransformerEmbedder(real.settings.model)
    agreement = (encoders.queries.embed_queries(texts) * model.embed_queries(texts)).sum(1)
    assert agreement.min() > 0.999
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant import Assistant, Settings\n"
        f"a = Assistant(Settings(corpus=Path({str(real.settings.corpus)!r}),"
        f" index=Path({str(real.settings.index)!r})))\n"
        "answer = a.ask('Who heads the U.S. Southern Command?')\n"
        "print(answer.text)\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "Laura Richardson" in out[0]
    assert out[1] == "False False"
