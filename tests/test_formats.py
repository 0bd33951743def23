"""Slides, sheets, e-books, OpenDocument, mail and reStructuredText: each read with its
citation form (slide, sheet and row, message), broken ones refused with a reason, and a
corpus of one fact per file answered and cited with the right file and page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from assistant.config import Settings
from assistant.core import Assistant
from assistant.documents.loaders import load_document, sheets
from assistant.documents.scan import scan_corpus
from assistant.embedding import Encoders
from assistant.errors import LoaderError
from assistant.records import Document
from tests.fakes import FakeEmbedder
from tests.formats_docs import (
    eml_bytes,
    epub_bytes,
    mbox_bytes,
    odt_bytes,
    pptx_bytes,
    xlsx_bytes,
    zip_bomb,
)
from tests.test_loaders import make_pdf


def _doc(tmp_path: Path, name: str, data: bytes, **kwargs: frozenset[str]) -> Document:
    path = tmp_path / name
    path.write_bytes(data)
    return load_document(path, name, **kwargs)


def _reason(tmp_path: Path, name: str, data: bytes) -> str:
    with pytest.raises(LoaderError) as info:
        _doc(tmp_path, name, data)
    return info.value.message


def _page_text(doc: Document, number: int) -> str:
    page = doc.pages[number - 1]
    return doc.text[page.start : page.end]


# --- each format --------------------------------------------------------------------


def test_pptx_a_page_per_slide_title_as_heading_and_notes(tmp_path: Path) -> None:
    data = pptx_bytes([("Welcome", "Intro."), ("Lighthouse", "The keeper is Ada.")], "Say hi.")
    doc = _doc(tmp_path, "deck.pptx", data)
    assert [p.number for p in doc.pages] == [1, 2]
    assert _page_text(doc, 2) == "Lighthouse\nThe keeper is Ada.\n\nSay hi."
    assert [h.title for h in doc.headings] == ["Welcome", "Lighthouse"]


def test_xlsx_a_page_per_sheet_a_line_per_row_header_names_carried(tmp_path: Path) -> None:
    data = xlsx_bytes(
        {
            "Budget": [["Item", "Cost"], ["Paint", 300]],
            "Staff": [["Role", "Name"], [None, None], ["Harbour master", "Tiberius Vance"]],
        }
    )
    doc = _doc(tmp_path, "book.xlsx", data)
    assert _page_text(doc, 2).split("\n") == [
        "Role | Name",
        "",
        "Harbour master: Name Tiberius Vance",
    ]
    assert [h.title for h in doc.headings] == ["Budget", "Staff"]  # the sheet names
    assert doc.note == ""


def test_xlsx_formulas_are_read_as_saved_never_evaluated(tmp_path: Path) -> None:
    data = xlsx_bytes({"S": [["Item", "Total"], ["Fees", "=1+1"]]})
    # openpyxl saves no cached value for a formula: nothing computes it on reading.
    assert "Fees" in _doc(tmp_path, "f.xlsx", data).text
    assert "2" not in _doc(tmp_path, "f.xlsx", data).text.split("\n")[1]


def test_xlsx_with_a_macro_project_is_read_as_data(tmp_path: Path) -> None:
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes({"S": [["Name", "Role"], ["Bo", "Clerk"]]})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("xl/vbaProject.bin", b'Sub AutoOpen()\nShell "touch pwned"\nEnd Sub')
    assert "Bo: Role Clerk" in _doc(tmp_path, "m.xlsx", out.getvalue()).text


def test_huge_sheet_is_cut_at_the_row_limit_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "MAX_ROWS", 50)
    rows: list[list[object]] = [["N", "Square"]] + [[i, i * i] for i in range(1, 200)]
    doc = _doc(tmp_path, "big.xlsx", xlsx_bytes({"S": rows}))
    assert len(doc.text.split("\n")) == 50
    assert "first 50 rows" in doc.note
    csv_doc = _doc(tmp_path, "big.csv", "\n".join(f"{i},{i * i}" for i in range(200)).encode())
    assert "first 50 rows" in csv_doc.note


def test_csv_and_tsv_lines_are_rows(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "crops.csv", b'Crop,Yield\nWheat,3 t\n"Saffron, dried",12 kg\n')
    assert doc.text.split("\n") == [
        "Crop | Yield",
        "Wheat: Yield 3 t",
        "Saffron, dried: Yield 12 kg",
    ]
    assert doc.pages == ()
    tsv = _doc(tmp_path, "birds.tsv", b"Bird\tColour\nRobin\tred\n")
    assert tsv.text.split("\n") == ["Bird | Colour", "Robin: Colour red"]
    semicolons = _doc(tmp_path, "eu.csv", b"Name;Town\nAda;Ghent\nBo;Lille\n")
    assert semicolons.text.split("\n")[1] == "Ada: Town Ghent"


def test_epub_chapters_in_spine_order(tmp_path: Path) -> None:
    data = epub_bytes([("Two", "The dragon slept."), ("One", "A miller lived.")], order=[1, 0])
    doc = _doc(tmp_path, "tale.epub", data)
    assert doc.text == "One\n\nA miller lived.\n\nTwo\n\nThe dragon slept."
    assert [h.title for h in doc.headings] == ["One", "Two"]


def test_odt_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    data = odt_bytes("Minutes", "Priya was elected.", table=[["Role", "Name"], ["Chair", "Bo"]])
    doc = _doc(tmp_path, "m.odt", data)
    assert doc.text == "Minutes\n\nPriya was elected.\n\nRole | Name\nChair: Name Bo"
    assert [(h.title, h.level) for h in doc.headings] == [("Minutes", 1)]


def test_eml_subject_from_date_body_and_readable_attachments(tmp_path: Path) -> None:
    attachments = {
        "quote.pdf": make_pdf([["The quote is 4,200 euros."]]),
        "tool.exe": b"MZ\x90\x00 not read",
    }
    doc = _doc(tmp_path, "roof.eml", eml_bytes("Roof repair", "He comes Thursday.", attachments))
    lines = doc.text.split("\n")
    assert lines[:4] == [
        "Roof repair",
        "From: Ann Example <ann@example.org>",
        "Date: Mon, 02 Mar 2026 10:00:00 +0000",
        "",
    ]
    assert "He comes Thursday." in lines
    assert "The quote is 4,200 euros." in lines
    assert "MZ" not in doc.text
    assert [h.title for h in doc.headings] == ["Roof repair", "Attachment: quote.pdf"]


def test_mbox_a_page_per_message(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "in.mbox", mbox_bytes([("Lunch", "At noon."), ("Keys", "In the drawer.")]))
    assert [p.number for p in doc.pages] == [1, 2]
    assert _page_text(doc, 2).split("\n")[0] == "Keys"
    assert "In the drawer." in _page_text(doc, 2)


def test_rst_lines_as_in_the_file_and_section_titles(tmp_path: Path) -> None:
    text = "=====\nGuide\n=====\n\nIntro.\n\nFerries\n-------\n\nThe ferry leaves at 11.\n"
    doc = _doc(tmp_path, "guide.rst", text.encode())
    assert doc.text == text
    assert [(h.title, h.level) for h in doc.headings] == [("Guide", 1), ("Ferries", 2)]


def test_text_extensions_are_read_as_text_and_scanned(tmp_path: Path) -> None:
    assert (
        "Hollowpine"
        in _doc(
            tmp_path, "n.log", b"The server is Hollowpine.\n", text_suffixes=frozenset({".log"})
        ).text
    )
    assert _reason(tmp_path, "n.log", b"x") == "unsupported file type .log"
    files, skipped = scan_corpus(tmp_path, text_suffixes=frozenset({".log"}))
    assert "n.log" in [f.relpath for f in files]


# --- broken files -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".pptx", ".xlsx", ".epub", ".odt"])
def test_zip_formats_refuse_a_bomb_before_unpacking(tmp_path: Path, suffix: str) -> None:
    assert "over the 200 MB limit" in _reason(tmp_path, f"bomb{suffix}", zip_bomb())


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("fake.pptx", b"plain text", "not valid PPTX: not a zip file"),
        ("fake.xlsx", b"plain text", "not valid XLSX: not a zip file"),
        ("fake.epub", b"plain text", "not valid EPUB: not a zip file"),
        ("fake.odt", b"plain text", "not valid ODT: not a zip file"),
        ("fake.mbox", b"Subject: hi\n\nno From line", "not valid MBOX"),
        ("fake.eml", b"\x00\x01\x02" * 100, "not valid EML: no message headers"),
    ],
    ids=["pptx", "xlsx", "epub", "odt", "mbox", "eml"],
)
def test_broken_files_are_refused_with_a_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    assert reason in _reason(tmp_path, name, data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.pptx", pptx_bytes([("A", "B")])),
        ("cut.xlsx", xlsx_bytes({"S": [["a", "b"]]})),
        ("cut.epub", epub_bytes([("A", "B")])),
        ("cut.odt", odt_bytes("A", "B")),
    ],
)
def test_truncated_archives_are_refused(tmp_path: Path, name: str, data: bytes) -> None:
    assert _reason(tmp_path, name, data[: len(data) // 2]).startswith("not valid")


def test_epub_without_chapters_and_odt_without_content(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    assert "container.xml" in _reason(tmp_path, "empty.epub", out.getvalue())
    assert "content.xml" in _reason(tmp_path, "empty.odt", out.getvalue())


def test_a_workbook_saved_by_openpyxl_without_rows_has_no_text(tmp_path: Path) -> None:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    assert _reason(tmp_path, "empty.xlsx", out.getvalue()) == "no text found"


# --- one fact per file, answered and cited ---------------------------------------------

FACTS = {
    # file: (question, the cited sentence, page, line)
    "deck.pptx": ("Who is the lighthouse keeper?", "The lighthouse keeper is Marguerite.", 2, 2),
    "book.xlsx": (
        "Who is the harbour master?",
        "Harbour master: Name Tiberius Vance; Office North Pier",
        2,
        3,
    ),
    "crops.csv": ("What is the saffron yield?", "Saffron: Yield 12 kilograms", None, 3),
    "birds.tsv": (
        "What colour is the kingfisher?",
        "Kingfisher: Colour blue and orange; Length 16 cm",
        None,
        2,
    ),
    "tale.epub": (
        "Which dragon slept under the mill for seven winters?",
        "The green dragon slept under the mill for seven winters.",
        None,
        3,
    ),
    "minutes.odt": ("Who was elected treasurer?", "Priya Raman was elected treasurer.", None, 3),
    "roof.eml": ("How much is the roofer's quote?", "The roofer's quote is 4,200 euros.", None, 8),
    "inbox.mbox": ("Where are the spare keys?", "The spare keys are in the blue drawer.", 2, 5),
    "guide.rst": ("When does the last ferry leave?", "The last ferry leaves at midnight.", None, 4),
    "server.log": (
        "What is the backup server called?",
        "The backup server is Hollowpine.",
        None,
        2,
    ),
}


def _one_fact_corpus(root: Path) -> None:
    root.mkdir()
    f = {name: fact[1] for name, fact in FACTS.items()}
    (root / "deck.pptx").write_bytes(pptx_bytes([("Welcome", "Hello."), ("Light", f["deck.pptx"])]))
    (root / "book.xlsx").write_bytes(
        xlsx_bytes(
            {
                "Budget": [["Item", "Cost"], ["Paint", 300]],
                "Staff": [
                    ["Role", "Name", "Office"],
                    ["Clerk", "Bo Ng", "Town hall"],
                    ["Harbour master", "Tiberius Vance", "North Pier"],
                ],
            }
        )
    )
    (root / "crops.csv").write_bytes(b"Crop,Yield\nWheat,3 tonnes\nSaffron,12 kilograms\n")
    (root / "birds.tsv").write_bytes(b"Bird\tColour\tLength\nKingfisher\tblue and orange\t16 cm\n")
    (root / "tale.epub").write_bytes(epub_bytes([("Mill", f["tale.epub"])]))
    (root / "minutes.odt").write_bytes(odt_bytes("Minutes", f["minutes.odt"]))
    (root / "roof.eml").write_bytes(
        eml_bytes("Roof", "Hi.", {"quote.txt": f["roof.eml"].encode() + b"\n"})
    )
    (root / "inbox.mbox").write_bytes(mbox_bytes([("Lunch", "Noon."), ("Keys", f["inbox.mbox"])]))
    (root / "guide.rst").write_bytes(f"Guide\n=====\n\n{f['guide.rst']}\n".encode())
    (root / "server.log").write_bytes(f"boot ok\n{f['server.log']}\n".encode())


def test_one_fact_per_format_is_answered_and_cited(tmp_path: Path) -> None:
    _one_fact_corpus(tmp_path / "corpus")
    settings = Settings(
        corpus=tmp_path / "corpus", index=tmp_path / "index", text_extensions=("log",)
    )
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    report = assistant.update_index()
    assert report.skipped == []
    assert report.formats == {s: 1 for s in sorted(n.split(".")[1] for n in FACTS)}
    for name, (question, sentence, page, line) in FACTS.items():
        answer = assistant.ask(question)
        assert answer.citations, question
        cited = answer.citations[0]
        assert (cited.path, cited.sentence, cited.page, cited.start_line) == (
            name,
            sentence,
            page,
            line,
        ), question
