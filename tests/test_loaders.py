"""Tests for assistant.documents.loaders: every format, every encoding, and broken files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from assistant.documents.loaders import (
    NO_TEXT_LAYER,
    SUPPORTED_SUFFIXES,
    decode_text,
    load_document,
)
from assistant.documents.loaders.ocr import ocr_available
from assistant.errors import LoaderError


def _load(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    doc = load_document(path, name)
    assert doc.path == name
    return doc.text


def _reason(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoaderError) as info:
        load_document(path, name)
    return info.value.message


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal real PDF: one Helvetica text line per string, xref offsets computed."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once the pages' numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids: list[int] = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL", *(f"({line}) Tj T*" for line in lines)]
        stream = "\n".join([*ops, "ET"]).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % len(objects)
        )
        kids.append(len(objects))
    refs = " ".join(f"{k} 0 R" for k in kids)
    objects[1] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


TWO_PAGES = [
    ["Apples grow in the orchard.", "They ripen in autumn."],
    ["Pears are the subject of page two."],
]


# --- plain text -------------------------------------------------------------------


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == {
        *(".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".docx", ".odt"),
        *(".pptx", ".xlsx", ".csv", ".tsv", ".epub", ".eml", ".mbox"),
        *(".png", ".jpg", ".jpeg", ".tif", ".tiff"),
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Grüße, 東京\nline two\n".encode(), "Grüße, 東京\nline two\n"),
        (b"\xef\xbb\xbfcaf\xc3\xa9\n", "café\n"),
        ("\ufeffUTF-16 text, café\nline 2\n".encode("utf-16-le"), "UTF-16 text, café\nline 2\n"),
        ("\ufeffUTF-16 big end\n".encode("utf-16-be"), "UTF-16 big end\n"),
        ("\ufeffUTF-32 text\n".encode("utf-32-le"), "UTF-32 text\n"),
        ("no BOM but UTF-16, café\n".encode("utf-16-le"), "no BOM but UTF-16, café\n"),
        ("Le café est très bon.\n".encode("latin-1"), "Le café est très bon.\n"),
        ("café".encode("latin-1"), "café"),
        (
            "\u201cSmart quotes\u201d \u2014 it\u2019s cp1252.\n".encode("cp1252"),
            "\u201cSmart quotes\u201d \u2014 it\u2019s cp1252.\n",
        ),
    ],
)
def test_decode_text_encodings(data: bytes, expected: str) -> None:
    assert decode_text(data) == expected


def test_other_legacy_encodings_are_guessed() -> None:
    text = "Привет мир, как дела? Сегодня хорошая погода.\n" * 5
    assert decode_text(text.encode("cp1251")) == text


def test_line_endings_normalised_and_line_count_kept(tmp_path: Path) -> None:
    text = _load(tmp_path, "crlf.txt", b"one\r\ntwo\r\n\r\nfour\rfive\n")
    assert text == "one\ntwo\n\nfour\nfive\n"
    assert text.count("\n") == 5


def test_stray_nul_bytes_are_dropped(tmp_path: Path) -> None:
    text = _load(tmp_path, "nul.txt", b"A line of perfectly ordinary text\x00 here.\nAnd more.\n")
    assert text == "A line of perfectly ordinary text here.\nAnd more.\n"


def test_markdown_is_kept_verbatim(tmp_path: Path) -> None:
    source = "# Title\n\n* item **bold**\n\n```py\nx = 1\n```\n"
    assert _load(tmp_path, "notes.md", source.encode()) == source
    assert _load(tmp_path, "notes.markdown", source.encode()) == source


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 8,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 50,
    ],
)
def test_binary_data_is_refused(tmp_path: Path, data: bytes) -> None:
    assert _reason(tmp_path, "data.txt", data) == "binary data, not text"


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  \n", "\ufeff\n".encode()])
def test_empty_text_is_refused(tmp_path: Path, data: bytes) -> None:
    assert _reason(tmp_path, "empty.txt", data) == "no text found"


def test_unsupported_suffix(tmp_path: Path) -> None:
    assert _reason(tmp_path, "image.gif", b"GIF89a") == "unsupported file type .gif"


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    assert _load(tmp_path, "LOUD.TXT", b"shouting\n") == "shouting\n"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="cannot read file"):
        load_document(tmp_path / "gone.txt", "gone.txt")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_decode_text_never_crashes(data: bytes) -> None:
    try:
        text = decode_text(data)
    except LoaderError as exc:
        assert exc.message == "binary data, not text"
    else:
        assert "\r" not in text and "\x00" not in text


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=200))
def test_utf8_text_round_trips(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == text


# --- HTML -------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Fruit &amp; Veg</title>
<style>body { color: red; } .secret-style { display: none }</style>
<script>var secretScript = "%s";</script>
</head>
<body>
<!-- a comment that must not show -->
<h1>Orchard   news</h1>
<p>Apples &amp; pears are <b>ripe</b>&nbsp;now &lt;today&gt;.</p>
<p>Second
   paragraph.</p>
<ul><li>one</li><li>two</li></ul>
<noscript>enable javascript</noscript>
<template><p>template text</p></template>
<svg><text>svg text</text></svg>
<table><tr><th>Fruit</th><th>Price</th></tr><tr><td>Apple</td><td>3</td></tr></table>
<script>console.log("more secret script");</script>
</body></html>
""" % ("x" * 5000)


def test_html_visible_text_only(tmp_path: Path) -> None:
    text = _load(tmp_path, "page.html", PAGE.encode())
    assert text == (
        "Fruit & Veg\n\n"
        "Orchard news\n\n"
        "Apples & pears are ripe\xa0now <today>.\n\n"
        "Second paragraph.\n\n"
        "one\ntwo\n\n"
        "Fruit | Price\nApple: Price 3"
    )
    for hidden in ("secret", "color", "comment", "javascript", "template", "svg", "<p>"):
        assert hidden not in text


def test_html_line_breaks_and_preformatted_text(tmp_path: Path) -> None:
    html = "<div>a<br>b<br><br>c</div><pre>  x = 1\n    y = 2</pre><p>end</p>"
    assert _load(tmp_path, "br.htm", html.encode()) == "a\nb\n\nc\n\n  x = 1\n    y = 2\n\nend"


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    html = '<meta charset="windows-1251"><p>Привет</p>'.encode("cp1251")
    assert _load(tmp_path, "ru.html", html) == "Привет"


def test_deeply_nested_html(tmp_path: Path) -> None:
    html = "<div>" * 10_000 + "deep <i>inside</i>" + "</div>" * 10_000
    assert _load(tmp_path, "deep.html", html.encode()) == "deep inside"


def test_html_without_visible_text(tmp_path: Path) -> None:
    html = b"<html><head><script>x()</script></head><body> <p> </p></body></html>"
    assert _reason(tmp_path, "blank.html", html) == "no text found"


# --- PDF --------------------------------------------------------------------------


def test_pdf_pages_and_spans(tmp_path: Path) -> None:
    path = tmp_path / "fruit.pdf"
    path.write_bytes(make_pdf(TWO_PAGES))
    doc = load_document(path, "docs/fruit.pdf")
    assert doc.path == "docs/fruit.pdf"
    assert [p.number for p in doc.pages] == [1, 2]
    first, second = (doc.text[p.start : p.end] for p in doc.pages)
    assert "Apples grow in the orchard." in first
    assert "They ripen in autumn." in first and "Pears" not in first
    assert "Pears are the subject of page two." in second and "Apples" not in second
    assert doc.pages[0].start == 0 and doc.pages[1].end == len(doc.text)
    assert doc.text == first + "\n\n" + second


def test_pdf_written_by_pypdf_with_blank_page(tmp_path: Path) -> None:
    # A page without text keeps its number and gets an empty span.
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf(TWO_PAGES)))
    writer.insert_blank_page(612, 792, index=1)
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "blank.pdf"
    path.write_bytes(out.getvalue())
    doc = load_document(path, "blank.pdf")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[1].start == doc.pages[1].end
    assert "Pears" in doc.text[doc.pages[2].start : doc.pages[2].end]


def test_pdf_without_text(tmp_path: Path) -> None:
    expected = "no text found" if ocr_available() else NO_TEXT_LAYER  # an empty page, OCR'd
    assert _reason(tmp_path, "scan.pdf", make_pdf([[]])) == expected


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf(TWO_PAGES)
    reason = _reason(tmp_path, "cut.pdf", data[: len(data) // 2])
    assert reason.startswith("not valid PDF")


def test_fake_pdf(tmp_path: Path) -> None:
    reason = _reason(tmp_path, "fake.pdf", b"This is just text with a .pdf name.\n")
    assert reason == "not valid PDF: no PDF header"


def test_empty_pdf(tmp_path: Path) -> None:
    assert _reason(tmp_path, "empty.pdf", b"").startswith("not valid PDF")


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf(TWO_PAGES)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_encrypted_pdf(tmp_path: Path) -> None:
    assert _reason(tmp_path, "locked.pdf", _encrypted("secret")) == "encrypted PDF"


def test_pdf_encrypted_with_empty_password_is_read(tmp_path: Path) -> None:
    assert "Pears" in _load(tmp_path, "open.pdf", _encrypted(""))


# --- DOCX -------------------------------------------------------------------------


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Harvest report", level=1)
    document.add_paragraph("Apples did well this year.")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Fruit"
    table.cell(0, 1).text = "Tonnes"
    table.cell(1, 0).text = "Apple"
    table.cell(1, 1).text = "12"
    document.add_paragraph("Pears come after the table.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    text = _load(tmp_path, "report.docx", _docx_bytes())
    assert text == (
        "Harvest report\n\n"
        "Apples did well this year.\n\n"
        "Fruit | Tonnes\nApple: Tonnes 12\n\n"
        "Pears come after the table."
    )


def test_docx_nested_table_is_read_once(tmp_path: Path) -> None:
    document = docx.Document()
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Outer"
    inner = outer.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "inner A"
    inner.cell(0, 1).text = "inner B"
    out = io.BytesIO()
    document.save(out)
    assert _load(tmp_path, "nested.docx", out.getvalue()) == "Outer | inner A inner B"


def test_fake_docx(tmp_path: Path) -> None:
    assert _reason(tmp_path, "fake.docx", b"plain text pretending") == (
        "not valid DOCX: not a zip file"
    )


def test_docx_missing_parts(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("hello.txt", "a zip, but not a Word document")
    assert _reason(tmp_path, "zip.docx", out.getvalue()) == (
        "not valid DOCX: There is no item named '[Content_Types].xml' in the archive"
    )


def test_old_doc_format_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    with pytest.raises(LoaderError) as info:
        load_document(path, "old.docx")
    assert info.value.message == "not valid DOCX: not a zip file"
    assert "save it as .docx" in info.value.hint


def test_spreadsheet_named_docx(tmp_path: Path) -> None:
    source = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in source.namelist():
            data = source.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main", b"spreadsheetml.sheet.main")
            zf.writestr(name, data)
    assert _reason(tmp_path, "sheet.docx", out.getvalue()) == "not valid DOCX: not a Word document"


def test_docx_with_broken_part(tmp_path: Path) -> None:
    source = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in source.namelist():
            data = source.read(name)
            zf.writestr(name, data[:100] if name == "word/document.xml" else data)
    assert _reason(tmp_path, "broken.docx", out.getvalue()).startswith("not valid DOCX: broken XML")


def test_empty_docx(tmp_path: Path) -> None:
    out = io.BytesIO()
    docx.Document().save(out)
    assert _reason(tmp_path, "empty.docx", out.getvalue()) == "no text found"


def test_a_docx_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w>" + " " * 210_000_000 + "</w>")
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 1_000_000
    with pytest.raises(LoaderError, match="over the 200 MB limit"):
        load_document(path, "bomb.docx")
