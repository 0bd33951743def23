"""Reading wrapped text: soft and hard line breaks, hyphenation, sentence spans."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assistant.text.reflow import joins_as_word, passage_text, reading_text, soft_breaks
from assistant.text.sentences import sentence_spans

# Justified prose as a PDF gives it: one line per printed line, a sentence ending and
# another starting mid-line, a word hyphenated at a line end, a compound split at its
# own hyphen, and a short last line.
WRAPPED = (
    "Each application that wishes to contribute to the MIME database will install\n"
    "a single XML file, named after the package. The files are kept in one folder so\n"
    "that the update program can read every piece of infor-\n"
    "mation at once, which is a well-\n"
    "known design. It then writes the caches.\n"
    "Installing a new package\n"
    "• copies the file,\n"
    "• runs the update program."
)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_sentence_wrapped_over_printed_lines_is_one_sentence() -> None:
    found = _sentences(WRAPPED)
    assert found[0] == (
        "Each application that wishes to contribute to the MIME database will install\n"
        "a single XML file, named after the package."
    )
    assert found[1].startswith("The files are kept") and found[1].endswith("well-\nknown design.")
    assert found[2] == "It then writes the caches."


def test_headings_and_list_items_keep_their_hard_breaks() -> None:
    found = _sentences(WRAPPED)
    assert found[3:] == [
        "Installing a new package",
        "• copies the file,",
        "• runs the update program.",
    ]


def test_reading_text_joins_wrapped_lines_and_undoes_hyphenation() -> None:
    text = reading_text(WRAPPED)
    assert "install a single XML file" in text
    assert "every piece of information at once" in text
    assert "a well-known design" in text
    assert "caches.\nInstalling a new package\n• copies" in text


def test_joins_as_word() -> None:
    assert joins_as_word("infor", "mation")
    assert joins_as_word("re", "port")
    assert not joins_as_word("well", "known")
    assert not joins_as_word("long", "term")


def test_contents_lines_and_table_rows_are_never_joined() -> None:
    contents = [
        "Operations of the harbour authority . . . . . . . . 4",
        "Finances and fees . . . . . . . . . 9",
    ]
    assert soft_breaks(contents) == [False]
    rows = ["Harbour fees: 2023 120,000; 2024 135,500", "Pilotage fees: 2023 80,000; 2024 91,000"]
    assert soft_breaks(rows) == [False]


def test_a_passage_cut_mid_line_knows_its_printed_width() -> None:
    # The chunk starts mid-line: its first line is short only because of the cut.
    text = (
        "The harbour\n"
        "Master said the fees would rise in the spring of next year, and they did.\nFine."
    )
    assert soft_breaks(text.split("\n"), lead=60)[0] is True
    assert soft_breaks(text.split("\n"), lead=0)[0] is False
    assert sentence_spans(text, lead=60)[0] == (0, text.index("did.") + 4)


def test_text_without_line_breaks_reads_unchanged() -> None:
    text = "One paragraph. Two sentences, no line breaks."
    assert reading_text(text) == text
    assert passage_text("", text) == text
    assert passage_text("Finances > Fees", text) == "Finances > Fees\n" + text


@given(st.lists(st.text(alphabet="ab -.\n", max_size=40), max_size=6))
def test_spans_index_the_original_text(pieces: list[str]) -> None:
    text = "\n".join(pieces)
    previous = 0
    for start, end in sentence_spans(text):
        assert previous <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous = end
