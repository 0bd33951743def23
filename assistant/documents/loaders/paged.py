"""Building a ``Document`` from pages of lines: slides, sheets, mail messages, chapters.

Loaders that read structure rather than a text file hand over each page as its lines
and the indexes of its heading lines; ``paged_document`` joins them, records each
page's span (so citations name the slide, sheet or message) and each heading's span.

Must not import textual, torch or click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.records import Document, Heading, Page

PAGE_SEPARATOR = "\n\n"


@dataclass
class PageText:
    """One page as lines; ``headings`` maps a line's index to (level, title)."""

    lines: list[str] = field(default_factory=list)
    headings: dict[int, tuple[int, str]] = field(default_factory=dict)

    def add_heading(self, title: str, level: int = 1) -> None:
        self.headings[len(self.lines)] = (level, title)
        self.lines.append(title)


def paged_document(pages: Sequence[PageText], *, numbered: bool = True, note: str = "") -> Document:
    """Join ``pages`` into one document; with ``numbered`` each is a ``Page`` (1, 2, ...).

    Lines are cleaned of carriage returns so that a page's line N is ``lines[N - 1]``.
    """
    texts: list[str] = []
    spans: list[Page] = []
    headings: list[Heading] = []
    start = 0
    for number, page in enumerate(pages, start=1):
        lines = [_one_line(line) for line in page.lines]
        pos = start
        for i, line in enumerate(lines):
            if i in page.headings and line.strip():
                level, title = page.headings[i]
                headings.append(Heading(pos, pos + len(line), level, " ".join(title.split())))
            pos += len(line) + 1
        text = "\n".join(lines)
        spans.append(Page(number=number, start=start, end=start + len(text)))
        texts.append(text)
        start += len(text) + len(PAGE_SEPARATOR)
    return Document(
        path="",
        text=PAGE_SEPARATOR.join(texts),
        pages=tuple(spans) if numbered else (),
        headings=tuple(headings),
        note=note,
    )


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\x00", "")


def split_lines(text: str) -> list[str]:
    """A block of text as lines, line breaks normalised."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
