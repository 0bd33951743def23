"""A report-like PDF read as a person reads it (reportlab writes it on the fly)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.documents.loaders import load_document
from assistant.embedding import Encoders
from tests.fakes import FakeEmbedder
from tests.layout_docs import RUNNING_HEAD, PdfPage, report_pdf

pytest.importorskip("reportlab")

OPERATIONS = [
    "The harbour authority handled more cargo this year than in any year before, and",
    "the new eastern quay opened two months ahead of schedule. The dredging of the",
    "channel finished in March, after a long consul-",
    "tation with the fishing cooperatives and a well-",
    "known survey of the seabed.",
]
VISITORS = [
    "Cruise calls doubled in the summer season, and the old town welcomed more",
    "visitors than ever. Most of them arrived on Saturdays.",
]
PAGES = [
    PdfPage([("h1", "Contents"), ("toc", [("1. Dredging the channel", 2), ("2. Visitors", 3)])]),
    PdfPage(
        [
            ("h1", "1. Operations"),
            ("p", OPERATIONS),
            (
                "table",
                [
                    ["Item", "2023", "2024"],
                    ["Harbour fees", "120,000", "135,500"],
                    ["Pilotage", "80,000", "91,000"],
                ],
            ),
        ]
    ),
    PdfPage(
        [
            ("h1", "2. Visitors"),
            (
                "columns",
                (VISITORS, ["The ferry line to the islands kept its winter", "timetable."]),
            ),
        ]
    ),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(report_pdf(PAGES))
    return path


def test_running_heads_footers_and_headings_are_found(report: Path) -> None:
    doc = load_document(report, "report.pdf")
    dropped = [doc.text[s:e] for s, e in doc.furniture]
    assert dropped.count(RUNNING_HEAD) == 3
    assert {"Page 1", "Page 2", "Page 3"} <= set(dropped)
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Contents"),
        (1, "1. Operations"),
        (1, "2. Visitors"),
    ]


def test_a_table_row_is_one_line_with_its_header(report: Path) -> None:
    lines = load_document(report, "report.pdf").text.split("\n")
    assert "Harbour fees: 2023 120,000; 2024 135,500" in lines


def test_columns_read_left_then_right(report: Path) -> None:
    text = load_document(report, "report.pdf").text
    assert text.index("Most of them arrived") < text.index("The ferry line")


@pytest.fixture(scope="module")
def assistant(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("ask")
    (root / "corpus").mkdir()
    (root / "corpus" / "report.pdf").write_bytes(report.read_bytes())
    made = Assistant(
        Settings(corpus=root / "corpus", index=root / "index"),
        encoders=Encoders.single(FakeEmbedder()),
    )
    made.report = made.update_index()  # type: ignore[attr-defined]
    return made


def test_running_lines_are_counted_in_the_report(assistant: Assistant) -> None:
    assert assistant.report.running_lines_dropped == 6  # type: ignore[attr-defined]
    chunks = [h.chunk for h in assistant.search("harbour report page", k=20).hits]
    assert not any(RUNNING_HEAD in c.text or "Page 2" in c.text for c in chunks)


@pytest.mark.parametrize(
    ("question", "sentence", "page"),
    [
        (
            "When did the dredging of the channel finish?",
            "The dredging of the channel finished in March, after a long consultation with "
            "the fishing cooperatives and a well-known survey of the seabed.",
            2,
        ),
        ("How much were the harbour fees in 2024?", "Harbour fees: 2023 120,000; 2024 135,500", 2),
        (
            "How many cruise calls were there?",
            "Cruise calls doubled in the summer season, and the old town welcomed more "
            "visitors than ever.",
            3,
        ),
    ],
)
def test_answers_are_whole_sentences_on_the_right_page(
    assistant: Assistant, question: str, sentence: str, page: int
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    first = answer.citations[0]
    assert (first.sentence, first.page) == (sentence, page)
    doc = load_document(assistant.settings.corpus / "report.pdf", "report.pdf")
    printed = doc.text[first.char_start : first.char_end]
    # The offsets locate the printed sentence: the same words, as printed.
    assert printed.replace("consul-\n", "consul").replace("-\n", "-").replace("\n", " ") == sentence
    page_text = doc.text[doc.pages[page - 1].start : doc.pages[page - 1].end]
    lines = page_text.split("\n")
    assert lines[first.start_line - 1] in printed or printed.startswith(
        lines[first.start_line - 1].split(". ")[-1]
    )


def test_no_heading_contents_or_running_line_is_ever_an_answer(assistant: Assistant) -> None:
    for question in (
        "What is in the contents?",
        "Dredging the channel?",
        "Harbour Authority?",
        "What are the operations?",
        "Which page?",
    ):
        for citation in assistant.ask(question).citations:
            assert citation.sentence not in ("Contents", "1. Operations", "2. Visitors")
            assert ". . ." not in citation.sentence and RUNNING_HEAD not in citation.sentence


def test_a_huge_table_and_many_pages_stay_bounded(tmp_path: Path) -> None:
    rows = [["Item", "2023", "2024"]] + [[f"Item {n}", str(n), str(2 * n)] for n in range(50)]
    pages = [PdfPage([("table", rows)]) for _ in range(60)]
    path = tmp_path / "tables.pdf"
    path.write_bytes(report_pdf(pages))
    started = time.perf_counter()
    doc = load_document(path, "tables.pdf")
    assert time.perf_counter() - started < 120  # a guard against a hang, not a speed goal
    assert "Item 7: 2023 7; 2024 14" in doc.text.split("\n")


def test_a_five_thousand_page_pdf_loads_in_bounded_time(tmp_path: Path) -> None:
    """The hostile-file guarantee: a huge PDF is read page by page, never all at once
    (measured here: 21 s and 113 MB peak on a busy 2-core machine)."""
    pages = [PdfPage([("p", [f"Lantern {n} is lit at dusk by the keeper."])]) for n in range(5000)]
    path = tmp_path / "long.pdf"
    path.write_bytes(report_pdf(pages))
    started = time.perf_counter()
    doc = load_document(path, "long.pdf")
    assert time.perf_counter() - started < 300  # a guard against a hang, not a speed goal
    assert len(doc.pages) == 5000
    assert "Lantern 4999 is lit at dusk by the keeper." in doc.text
