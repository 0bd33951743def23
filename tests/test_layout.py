"""Structure in every format: headings as context, never as answers; tables as rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from assistant import Assistant, Settings
from assistant.config import ChunkingSettings
from assistant.documents.chunking import chunk_document
from assistant.documents.loaders import load_document
from assistant.embedding import Encoders
from assistant.store.commits import INDEX_DB
from tests.fakes import FakeEmbedder
from tests.layout_docs import docx_bytes

MARKDOWN = """# Annual report

## Finances

The harbour fees rose this year because the new quay had to be paid for.

| Item | 2023 | 2024 |
|------|------|------|
| Harbour fees | 120,000 | 135,500 |
| Pilotage | 80,000 | 91,000 |

## Visitors

Cruise calls doubled, and the old town was busy all summer long.
"""
HTML = (
    "<html><body><h1>Annual report</h1><h2>Finances</h2>"
    "<p>The harbour fees rose this year because the new quay had to be paid for.</p>"
    "<table><tr><th>Item</th><th>2023</th><th>2024</th></tr>"
    "<tr><td>Harbour fees</td><td>120,000</td><td>135,500</td></tr>"
    "<tr><td>Pilotage</td><td>80,000</td><td>91,000</td></tr></table>"
    "<h2>Visitors</h2><p>Cruise calls doubled, and the old town was busy all summer long.</p>"
    "</body></html>"
)
DOCX = docx_bytes(
    [
        ("h1", "Annual report"),
        ("h2", "Finances"),
        ("p", "The harbour fees rose this year because the new quay had to be paid for."),
        (
            "table",
            [
                ["Item", "2023", "2024"],
                ["Harbour fees", "120,000", "135,500"],
                ["Pilotage", "80,000", "91,000"],
            ],
        ),
        ("h2", "Visitors"),
        ("p", "Cruise calls doubled, and the old town was busy all summer long."),
    ]
)
FILES = {"report.md": MARKDOWN.encode(), "report.html": HTML.encode(), "report.docx": DOCX}
ROW = "Harbour fees: 2023 120,000; 2024 135,500"


def _load(tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(FILES[name])
    return load_document(path, name)


def _chunks(tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    return chunk_document(
        _load(tmp_path, name),
        ChunkingSettings(chunk_tokens=40, overlap_tokens=0),
        model_max_tokens=256,
        count_model_tokens=lambda texts: [len(t.split()) for t in texts],
    )


def test_every_format_finds_its_headings_and_levels(tmp_path: Path) -> None:
    for name in FILES:
        doc = _load(tmp_path, name)
        found = [(h.level, h.title) for h in doc.headings]
        assert found == [(1, "Annual report"), (2, "Finances"), (2, "Visitors")], name
        for h in doc.headings:
            assert h.title in doc.text[h.start : h.end]


def test_tables_become_rows_with_their_header_names(tmp_path: Path) -> None:
    for name in FILES:
        lines = _load(tmp_path, name).text.split("\n")
        assert ROW in lines, name
        assert "Pilotage: 2023 80,000; 2024 91,000" in lines, name


def test_markdown_keeps_its_lines_where_the_file_has_them(tmp_path: Path) -> None:
    assert _load(tmp_path, "report.md").text.count("\n") == MARKDOWN.count("\n")


def test_chunks_carry_their_heading_path_and_never_quote_a_heading(tmp_path: Path) -> None:
    for name in FILES:
        chunks = _chunks(tmp_path, name)
        by_text = {c.text.split("\n")[0][:20]: c for c in chunks}
        assert by_text["The harbour fees ros"].heading == "Annual report > Finances", name
        assert by_text["Cruise calls doubled"].heading == "Annual report > Visitors", name
        assert not any(c.text.startswith(("#", "Finances", "Visitors")) for c in chunks), name


def test_heading_path_is_embedded_and_searched_but_not_quoted(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.md").write_bytes(FILES["report.md"])
    fake = FakeEmbedder()
    assistant = Assistant(
        Settings(corpus=corpus, index=tmp_path / "index"), encoders=Encoders.single(fake)
    )
    assistant.update_index()
    assert any(t.startswith("Annual report > Visitors\n") for t in fake.embedded)
    # "Visitors" is only in the heading: lexical search finds the section by it.
    hits = assistant.search("visitors", mode="lexical").hits
    assert hits and hits[0].chunk.text.startswith("Cruise calls doubled")
    answer = assistant.ask("What did the harbour fees cost in 2024?")
    assert not answer.abstained
    assert answer.citations[0].sentence == ROW


def test_an_index_of_the_old_format_is_rebuilt_with_a_reason(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.md").write_bytes(FILES["report.md"])
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assistant.update_index()
    db = sqlite3.connect(settings.index / INDEX_DB)
    (text,) = db.execute("SELECT manifest FROM commits").fetchone()
    db.execute("UPDATE commits SET manifest = ?", (json.dumps({**json.loads(text), "format": 1}),))
    db.commit()
    db.close()
    report = assistant.update_index()
    assert report.rebuilt_because and "version" in report.rebuilt_because
    assert report.chunks_embedded == report.chunks_total > 0
