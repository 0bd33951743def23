"""Reading reStructuredText (.rst) line for line, with its section titles as headings.

The text is the file's own (so lines match the file, as for Markdown); a section
title is a line underlined (and perhaps overlined) with one repeated punctuation
character at least as long as the title. Levels follow the order in which each
adornment style first appears, as docutils assigns them. No rst parser is needed for
that, and none runs directives.

Must not import textual, torch or click.
"""

from __future__ import annotations

import re

from assistant.records import Document, Heading

_ADORNMENT = re.compile(r"""([!-/:-@\[-`{-~])\1{2,}\s*$""")


def rst_document(text: str) -> Document:
    """``text`` (a decoded .rst file) with its section titles recorded as headings."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    styles: list[tuple[str, bool]] = []
    headings: list[Heading] = []
    for i in range(1, len(lines)):
        under = _ADORNMENT.match(lines[i])
        title = lines[i - 1].strip()
        if not under or not title or _ADORNMENT.match(lines[i - 1]):
            continue
        if len(lines[i].rstrip()) < len(title) or lines[i - 1].startswith((" ", "\t")):
            continue
        over = i >= 2 and lines[i - 2].rstrip() == lines[i].rstrip()
        style = (under.group(1), over)
        if style not in styles:
            styles.append(style)
        level = min(styles.index(style) + 1, 9)
        start = starts[i - 1]
        headings.append(Heading(start, start + len(lines[i - 1]), level, title))
    return Document(path="", text=text, headings=tuple(headings))
