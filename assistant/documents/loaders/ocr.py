"""Reading text that exists only as pixels: images, and PDF pages without a text layer.

Optional: it needs the ``ocr`` extra (rapidocr-onnxruntime, whose detection and
recognition models ship inside its package and run offline on onnxruntime, and
pypdfium2, which renders PDF pages). Without it, such files are skipped with
``NO_TEXT_LAYER``. Recognised text is a line per detected text line, top to bottom,
and the document records its span as OCR'd so that citations can say their quote may
hold recognition errors.

Must not import textual, torch or click; the OCR engine is imported only when used.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from functools import cache
from typing import Any

from assistant.documents.loaders.text import describe
from assistant.errors import LoaderError
from assistant.records import Document

NO_TEXT_LAYER = "no text layer (install excerpta[ocr] to read scanned pages)"
_RENDER_SCALE = 3.0  # 216 dpi: at 144 the recogniser drops spaces between words
_MAX_PIXELS = 40_000_000  # an image bigger than this is refused, not decoded
_MIN_SCORE = 0.5  # recognised lines less sure than this are left out


def ocr_available() -> bool:
    """Whether the ``ocr`` extra is installed (checked without importing it)."""
    return all(importlib.util.find_spec(name) for name in ("rapidocr_onnxruntime", "pypdfium2"))


@cache
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def image_lines(image: Any) -> list[str]:
    """The text lines recognised in ``image`` (a PIL image), top to bottom."""
    import numpy as np

    result, _ = _engine()(np.asarray(image.convert("RGB")))
    boxes: list[tuple[float, float, float, str]] = []
    for box, text, score in result or []:
        if float(score) < _MIN_SCORE or not str(text).strip():
            continue
        ys = [point[1] for point in box]
        xs = [point[0] for point in box]
        boxes.append((min(ys), max(ys), min(xs), str(text).strip()))
    return _rows(boxes)


def _rows(boxes: list[tuple[float, float, float, str]]) -> list[str]:
    """Group boxes whose vertical middles fall inside one another into lines."""
    lines: list[list[tuple[float, float, float, str]]] = []
    for box in sorted(boxes):
        middle = (box[0] + box[1]) / 2
        if lines and lines[-1][0][0] <= middle <= lines[-1][0][1]:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [" ".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines]


def load_image(data: bytes) -> Document:
    """Read the text of an image file by OCR.

    Raises:
        LoaderError: the ``ocr`` extra is missing, or the image can't be decoded.
    """
    if not ocr_available():
        raise LoaderError(NO_TEXT_LAYER)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            width, height = image.size
            if width * height > _MAX_PIXELS:
                raise LoaderError(f"image larger than {_MAX_PIXELS // 1_000_000} megapixels")
            image.load()
            lines = image_lines(image)
    except UnidentifiedImageError as exc:
        raise LoaderError("not a readable image") from exc
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        # Pillow reports a damaged image as any of these ("Truncated File Read").
        raise LoaderError(f"not a readable image ({describe(exc)})") from exc
    text = "\n".join(lines)
    return Document(path="", text=text, ocr=((0, len(text)),) if text else ())


def pdf_page_lines(data: bytes, numbers: Sequence[int]) -> dict[int, list[str]]:
    """OCR the given 1-based pages of a PDF, rendered by pypdfium2."""
    import pypdfium2

    found: dict[int, list[str]] = {}
    pdf = pypdfium2.PdfDocument(data)
    try:
        for number in numbers:
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = min(_RENDER_SCALE, (_MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
                bitmap = page.render(scale=scale)
                found[number] = image_lines(bitmap.to_pil())
            finally:
                page.close()
    finally:
        pdf.close()
    return found
