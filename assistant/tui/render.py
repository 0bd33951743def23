"""Rich ``Text`` for answers, citations and sources, built without markup.

Document text and file names are data: they go into ``Text`` as plain strings, so a
file named ``[red]x[/red].txt`` shows as it is named. Must not import Textual.
"""

from __future__ import annotations

import re

from rich.text import Text

from ..records import NOT_FOUND, Answer, Citation

_MARKER = re.compile(r"\[(\d+)\]")
_MARKER_STYLE = "bold cyan"
_SENTENCE_STYLE = "bold reverse"
_PHRASE_STYLE = "bold underline reverse"
_CONTEXT_WIDTH = 60


def answer_text(answer: Answer) -> Text:
    """The answer sentence(s) with their citation markers set off and the answer phrase
    (when a reader marked one) highlighted."""
    if answer.abstained:
        return Text(NOT_FOUND, style="italic")
    body = answer.text
    if answer.citations and not _MARKER.search(body):
        # The core normally writes the markers; add them if a future format doesn't.
        body += " " + "".join(f"[{c.n}]" for c in answer.citations)
    text = Text(body)
    for match in _MARKER.finditer(body):
        text.stylize(_MARKER_STYLE, match.start(), match.end())
    span = answer.span_in_answer()
    if span is not None:
        text.stylize(_PHRASE_STYLE, *span)
    return text


def citation_text(citation: Citation) -> Text:
    """One citation: number, location, score, then the excerpt with its sentence marked."""
    text = citation_heading(citation)
    text.append("\n")
    text.append_text(excerpt_text(citation))
    return text


def citation_heading(citation: Citation, *, folded: bool = False) -> Text:
    """A citation's first line: number, location and score (and, folded, a hint)."""
    text = Text()
    text.append(f"[{citation.n}] ", style=_MARKER_STYLE)
    text.append(citation.location, style="bold")
    text.append(f"  score {citation.score:.2f}", style="dim")
    if citation.ocr:  # quoted from pixels: the words may hold recognition errors
        text.append("  OCR", style="bold yellow")
    if folded:
        text.append("  …", style="dim")
    return text


# A line break not followed by a blank line, a bullet or a numbered item.
_JOINED_LINE = re.compile(r"\n(?!\s*(?:\n|[•\-*–·▪◦]\s|\d{1,3}[.)]\s))")


def excerpt_text(citation: Citation) -> Text:
    """The excerpt with the cited sentence highlighted: lines rejoined as prose, except
    where a list item or a new paragraph starts (each "\n" stays one character, so the
    sentence's offsets hold)."""
    excerpt = _JOINED_LINE.sub(" ", citation.excerpt)
    text = Text(excerpt)
    start, end = sentence_span(citation)
    if end > start:
        text.stylize(_SENTENCE_STYLE, start, end)
    return text


def sentence_span(citation: Citation) -> tuple[int, int]:
    """The cited sentence's span inside the excerpt, or (0, 0) if it can't be found."""
    start = citation.sentence_offset
    end = start + len(citation.sentence)
    if citation.excerpt[start:end] == citation.sentence:
        return start, end
    # The offset disagrees with the excerpt; fall back to searching for the sentence.
    found = citation.excerpt.find(citation.sentence) if citation.sentence else -1
    return (found, found + len(citation.sentence)) if found >= 0 else (0, 0)


def file_lines_text(lines: list[str], first: int, citation: Citation) -> Text:
    """Numbered lines of the file starting at line ``first``, the cited ones marked."""
    text = Text()
    width = len(str(first + len(lines) - 1))
    for number, line in enumerate(lines, first):
        cited = citation.start_line <= number <= citation.end_line
        text.append(f"{number:>{width}} ", style="bold cyan" if cited else "dim")
        text.append("▌ " if cited else "│ ", style="cyan" if cited else "dim")
        if not cited and len(line) > _CONTEXT_WIDTH:
            # Context is there to orient; a long paragraph would push the cited line away.
            line = line[: _CONTEXT_WIDTH - 1] + "…"
        text.append(line, style="bold" if cited else "")
        text.append("\n")
    text.rstrip()
    return text


def answer_plain(answer: Answer) -> str:
    """The answer and its sources as plain text, for the clipboard."""
    if answer.abstained:
        return NOT_FOUND
    parts = [answer.text, ""]
    parts += [f"[{c.n}] {c.location}: {c.sentence}" for c in answer.citations]
    return "\n".join(parts)
