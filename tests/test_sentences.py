"""Sentence spans: abbreviations, paragraphs, line breaks and exact offsets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assistant.text.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = (
        "It exploded again following the coup that removed Castillo on Dec. 7, 2022. "
        "Gen. Laura Richardson, head of the U.S. Southern Command, spoke on Jan. 19."
    )
    assert sentences(text) == [
        "It exploded again following the coup that removed Castillo on Dec. 7, 2022.",
        "Gen. Laura Richardson, head of the U.S. Southern Command, spoke on Jan. 19.",
    ]


def test_titles_and_list_items_are_separate_from_the_next_line() -> None:
    text = (
        "Peru coup government opens the door\n"
        "Soldiers attack protesters outside the airport in Arequipa, Peru, on a Friday in "
        "January, and protesters are seeking immediate elections.\n\n"
        "The protesters are demanding:\n\n  • the resignation,\n  • the liberation,\n"
    )
    assert sentences(text) == [
        "Peru coup government opens the door",
        "Soldiers attack protesters outside the airport in Arequipa, Peru, on a Friday in "
        "January, and protesters are seeking immediate elections.",
        "The protesters are demanding:",
        "• the resignation,",
        "• the liberation,",
    ]


def test_hard_wrapped_prose_is_joined() -> None:
    text = (
        "This is a wrapped paragraph of prose that goes on and on for a while\n"
        "and continues on the next line with more words. Then another sentence\n"
        "ends here."
    )
    assert sentences(text) == [
        "This is a wrapped paragraph of prose that goes on and on for a while\n"
        "and continues on the next line with more words.",
        "Then another sentence\nends here.",
    ]


def test_spans_are_relative_to_the_whole_text() -> None:
    text = "Skip me. Keep this one. And this one."
    start = text.index("Keep")
    spans = sentence_spans(text, start)
    assert [text[s:e] for s, e in spans] == ["Keep this one.", "And this one."]


@given(st.text(alphabet=st.sampled_from(list("ab .\n!?:•-1")), max_size=300))
def test_spans_are_ordered_trimmed_and_inside(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end
    covered = "".join(text[s:e] for s, e in sentence_spans(text))
    assert covered.replace(" ", "").replace("\n", "") == "".join(text.split())
