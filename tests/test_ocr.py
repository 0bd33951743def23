"""OCR (the optional ``ocr`` extra): scanned PDF pages and images are read where it is
installed, only pages without a text layer are OCR'd, and citations from OCR'd text say
so; without it, such files are skipped with a reason that names the extra."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter

from assistant.config import Settings
from assistant.core import Assistant
from assistant.documents.loaders import NO_TEXT_LAYER, load_document, ocr, pdf
from assistant.embedding import Encoders
from assistant.errors import LoaderError
from tests.fakes import FakeEmbedder
from tests.test_loaders import make_pdf

pytestmark = pytest.mark.usefixtures("isolated")
needs_ocr = pytest.mark.skipif(not ocr.ocr_available(), reason="the ocr extra is not installed")

SCANNED = "The harbour master is Tiberius Vance."


def scan(*lines: str) -> Image.Image:
    """A page of printed lines, as a scanner gives it (no text layer)."""
    image = Image.new("L", (1240, 600), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for i, line in enumerate(lines):
        draw.text((100, 120 + 60 * i), line, fill=0, font=font)
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def text_then_scanned_pdf() -> bytes:
    """Page 1 has a text layer; page 2 is only an image."""
    image_pdf = io.BytesIO()
    scan(SCANNED).save(image_pdf, "PDF", resolution=150)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["The harbour opens at dawn."]]))))
    writer.append(PdfReader(io.BytesIO(image_pdf.getvalue())))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def no_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    monkeypatch.setattr(pdf, "ocr_available", lambda: False)


def _load(tmp_path: Path, name: str, data: bytes) -> object:
    path = tmp_path / name
    path.write_bytes(data)
    return load_document(path, name)


@pytest.mark.usefixtures("no_ocr")
def test_without_the_extra_scans_and_images_are_skipped_naming_it(tmp_path: Path) -> None:
    for name, data in (("scan.pdf", make_pdf([[]])), ("photo.png", png_bytes(scan(SCANNED)))):
        with pytest.raises(LoaderError) as info:
            _load(tmp_path, name, data)
        assert info.value.message == NO_TEXT_LAYER


@pytest.mark.usefixtures("no_ocr")
def test_without_the_extra_the_text_pages_are_read_and_the_rest_reported(tmp_path: Path) -> None:
    document = _load(tmp_path, "mixed.pdf", text_then_scanned_pdf())
    assert "The harbour opens at dawn." in document.text  # type: ignore[attr-defined]
    assert document.note.startswith("1 pages without a text layer left out")  # type: ignore[attr-defined]
    assert document.ocr == ()  # type: ignore[attr-defined]


@needs_ocr
def test_an_image_is_read_by_ocr(tmp_path: Path) -> None:
    document = load_document(_write(tmp_path, "note.png", png_bytes(scan(SCANNED))), "note.png")
    assert document.text == SCANNED
    assert document.ocr == ((0, len(SCANNED)),)


@needs_ocr
def test_only_pages_without_text_are_ocrd_and_citations_say_so(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(corpus, "mixed.pdf", text_then_scanned_pdf())
    _write(corpus, "photo.png", png_bytes(scan("The spare keys are in the blue drawer.")))
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    assistant = Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    assert assistant.update_index().skipped == []

    cited = assistant.ask("Who is the harbour master?").citations[0]
    assert (cited.path, cited.page, cited.sentence, cited.ocr) == ("mixed.pdf", 2, SCANNED, True)
    assert cited.to_json()["ocr"] is True
    text_layer = assistant.ask("When does the harbour open at dawn?").citations[0]
    assert (text_layer.page, text_layer.ocr) == (1, False)
    keys = assistant.ask("Where are the spare keys?").citations[0]
    assert (keys.path, keys.ocr) == ("photo.png", True)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
