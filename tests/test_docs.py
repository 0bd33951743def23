"""The README and docs/: every relative link leads somewhere, the README stays short.

A relative Markdown link must name a file that exists and, with an anchor, a heading of
that file (GitHub's slugs: lower case, punctuation dropped, spaces as hyphens, a repeated
heading numbered -1, -2, ...). Links in code blocks and code spans are not links.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
README_MAX_LINES = 200

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"`+[^`]*`+")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(path: Path) -> list[tuple[int, str]]:
    """The file's lines outside fenced code blocks, with their 1-based numbers."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts as its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(path):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    """The relative link targets of a Markdown file (no scheme, no mailto)."""
    links = []
    for number, line in _prose_lines(path):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            target = match.group(1)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                links.append((number, target))
    return links


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of ``path`` that leads to no file or no heading, described."""
    broken = []
    for number, target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(root)}:{number}: {target}"
        if not linked.exists():
            broken.append(f"{where}: no such file")
        elif anchor and (linked.suffix != ".md" or unquote(anchor) not in anchors(linked)):
            broken.append(f"{where}: no heading #{anchor} in {linked.name}")
    return broken


def test_there_are_docs_pages() -> None:
    assert len(PAGES) >= 9


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


def test_readme_links_every_docs_page() -> None:
    assert relative_links(README), "the README links to nothing"
    linked = {(ROOT / target.partition("#")[0]).resolve() for _, target in relative_links(README)}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_the_checker_finds_a_broken_link_and_a_missing_anchor(tmp_path: Path) -> None:
    """Against a false pass: the checker itself flags what it should."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A page: `with code`\n\n## Twice\n\n## Twice\n\n"
        "[ok](#a-page-with-code) [ok](#twice-1) [bad](#nowhere) [gone](missing.md)\n"
        "`[not a link](nowhere.md)`\n\n```\n[not a link](nowhere.md)\n```\n"
        "[web](https://example.com/x.md)\n",
        encoding="utf-8",
    )
    assert anchors(page) == {"a-page-with-code", "twice", "twice-1"}
    assert broken_links(page, root=tmp_path) == [
        "page.md:7: #nowhere: no heading #nowhere in page.md",
        "page.md:7: missing.md: no such file",
    ]
