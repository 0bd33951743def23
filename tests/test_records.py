"""The records' own formatting: where a citation points, as every face shows it."""

from __future__ import annotations

import pytest

from assistant.records import Citation


@pytest.mark.parametrize(
    ("lines", "page", "expected"),
    [
        ((7, 7), None, "notes/a.md · line 7"),
        ((3, 4), None, "notes/a.md · lines 3–4"),
        ((2, 2), 5, "notes/a.md · page 5, line 2"),
    ],
)
def test_citation_location(lines: tuple[int, int], page: int | None, expected: str) -> None:
    citation = Citation(1, "notes/a.md", *lines, page, 0, 9, 0.5, "A sentence.", "A sentence.")
    assert citation.location == expected
