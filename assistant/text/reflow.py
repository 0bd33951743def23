"""Wrapped text read as a person reads it: which line breaks only end a printed line.

Extracted text (PDF above all) keeps one line per printed line. ``soft_breaks`` tells,
for the lines of a paragraph, which breaks are soft (the sentence goes on: the line was
wrapped) and which are hard (a heading, a list item, a table row, a contents line, the
short last line of a paragraph). ``reading_text`` rewrites a text as it reads: soft
breaks become spaces, and a word hyphenated at a line end is joined when the joined word
is a word ("infor-\\nmation"), while a compound keeps its hyphen ("well-\\nknown").

The original text is never changed by this module: offsets and line numbers always
index it, and the reading text is only what is embedded, searched and shown.
Must not import textual or torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
BULLET = re.compile(r"\s*(?:[-*•·▪◦–]|\d{1,3}[.)]|\(?[a-z]\))\s")
# A contents line: a dot leader (". . . ." or "....") or a wide gap before a page number.
LEADER = re.compile(r"(?:\.\s?){4,}\s*[\divxlc]*\s*$|\S\s{4,}\d{1,4}\s*$")
# A "Label: value" line, as table rows and key-value lists are written.
_LABEL = re.compile(r"\s*[A-Z0-9][^\s:.]*(?: [^\s:.]+){0,5}: \S")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_HYPHENATED = re.compile(r"([A-Za-z]+)-$")
_CONTINUATION = re.compile(r"[a-z]+")
_MIN_WRAPPED = 25  # a shorter line is not a wrapped line of prose
_MAX_WRAPPED = 120  # a longer line is an unwrapped paragraph, not a printed line
_FULL = 0.75  # a wrapped line fills at least this share of the paragraph's width


def soft_breaks(lines: Sequence[str], *, lead: int = 0) -> list[bool]:
    """For each break between ``lines[i]`` and ``lines[i + 1]``: True when it only wraps.

    Args:
        lines: the lines of one paragraph (no blank lines among them).
        lead: how many characters of the first printed line come before ``lines[0]``
            (a passage that starts mid-line), so its printed width is known.
    """
    if len(lines) < 2:
        return []
    widths = [len(line.rstrip()) for line in lines]
    widths[0] += lead
    ranked = sorted(widths)
    width = ranked[(len(ranked) * 3) // 4]
    return [_is_soft(lines[i], lines[i + 1], widths[i], width) for i in range(len(lines) - 1)]


def _is_soft(line: str, following: str, length: int, width: int) -> bool:
    body, next_body = line.strip(), following.lstrip()
    if not body or not next_body:
        return False
    if BULLET.match(following) or _LABEL.match(following) or LEADER.search(line):
        return False
    if LEADER.search(following) or _LABEL.match(line):
        return False
    indent, next_indent = len(line) - len(line.lstrip()), len(following) - len(next_body)
    if next_indent > indent + 1 and not BULLET.match(line):
        return False  # an indented first line starts a paragraph
    ends_sentence = bool(_SENTENCE_END.search(body))
    if not ends_sentence and _CONTINUATION.match(next_body):
        return True  # the sentence goes on in lower case
    if length > _MAX_WRAPPED:
        return False
    return length >= _MIN_WRAPPED and length >= _FULL * width


def reading_text(text: str, *, lead: int = 0) -> str:
    """``text`` as it reads: wrapped lines joined, end-of-line hyphenation undone.

    Paragraph breaks (blank lines) become one blank line; hard line breaks stay. Text
    without line breaks is returned unchanged. ``lead``: see ``soft_breaks``.
    """
    if "\n" not in text:
        return text
    paragraphs = []
    for number, paragraph in enumerate(BLANK_LINE.split(text)):
        lines = paragraph.split("\n")
        paragraphs.append(_reflow(lines, soft_breaks(lines, lead=lead if number == 0 else 0)))
    return "\n\n".join(paragraphs)


def join_lines(sentence: str) -> str:
    """One sentence as it reads: every line break in it is soft (a hard one ends it)."""
    if "\n" not in sentence:
        return sentence
    lines = sentence.split("\n")
    return _reflow(lines, [True] * (len(lines) - 1))


def _reflow(lines: list[str], soft: list[bool]) -> str:
    parts = [lines[0]]
    for line, is_soft in zip(lines[1:], soft, strict=True):
        if not is_soft:
            parts.append("\n" + line)
            continue
        parts[-1] = parts[-1].rstrip()
        right = line.lstrip()
        left = _HYPHENATED.search(parts[-1])
        word = _CONTINUATION.match(right)
        if left and word:  # a hyphen at the line end: a broken word or a compound
            if joins_as_word(left.group(1), word.group(0)):
                parts[-1] = parts[-1][:-1]
            parts.append(right)
        else:
            parts.append(" " + right)
    return "".join(parts)


@lru_cache(maxsize=4096)
def joins_as_word(left: str, right: str) -> bool:
    """Whether "left-" at a line end and "right" on the next line are one word.

    cl100k knows common words as single tokens: a joined word that is one is a word
    ("information", "report"); two halves that are words on their own while the joined
    form is not one are a compound ("well-known", "long-term"). Anything else (a long
    word broken in two pieces of no meaning) is joined.
    """
    from .bpe import get_encoding  # tiktoken loads in ~0.1 s: only when a hyphen asks

    encode = get_encoding().encode_ordinary
    joined = " " + (left + right).lower()
    if len(encode(joined)) == 1:
        return True
    both_words = len(encode(" " + left.lower())) == 1 and len(encode(" " + right.lower())) == 1
    return not both_words


def passage_text(heading: str, text: str, lead: int = 0) -> str:
    """What is embedded and searched for a passage: its heading path, then its reading text."""
    body = reading_text(text, lead=lead)
    return f"{heading}\n{body}" if heading else body
