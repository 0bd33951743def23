"""PDF reading speed: load and chunk a generated 50-page report, pages per second.

Run: .venv/bin/python benchmarks/pdf_speed.py [pages]. Measures what changes with the
PDF reader (extraction, layout, chunking with real tiktoken); embedding is per chunk
and the same for every format, so it is left out.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import ChunkingSettings  # noqa: E402
from assistant.documents.chunking import chunk_document  # noqa: E402
from assistant.documents.loaders import load_document  # noqa: E402
from tests.layout_docs import PdfPage, report_pdf  # noqa: E402

_PROSE = (
    "The harbour authority handled more cargo this year than in any year before, and the "
    "new quay on the eastern side opened two months ahead of schedule. Fees for berthing "
    "rose slightly while the number of cruise calls doubled, which brought visitors to "
    "the old town throughout the summer. "
)


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    lines = textwrap.wrap(_PROSE * 3, 95)
    doc = [
        PdfPage([("h1", f"{n}. Section {n}"), ("p", lines), ("p", lines), ("p", lines[:8])])
        for n in range(1, pages + 1)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(report_pdf(doc))
        settings = ChunkingSettings()
        chunk_document(
            load_document(path, "warm.pdf"),
            settings,
            model_max_tokens=256,
            count_model_tokens=lambda ts: [len(t.split()) for t in ts],
        )
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            document = load_document(path, "report.pdf")
            chunks = chunk_document(
                document,
                settings,
                model_max_tokens=256,
                count_model_tokens=lambda ts: [len(t.split()) for t in ts],
            )
            best = min(best, time.perf_counter() - started)
    print(
        f"{pages} pages, {len(chunks)} chunks: {best:.3f} s, {pages / best:.0f} pages/s "
        f"({1000 * best / pages:.1f} ms/page)"
    )


if __name__ == "__main__":
    main()
