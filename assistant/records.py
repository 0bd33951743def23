"""Plain, frozen records passed between the layers of Excerpta.

Imports nothing from the rest of the package, so every layer can use them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

VERSION = "0.1.0"
"""The package version (also ``assistant.__version__``), recorded in index manifests."""
NOT_FOUND = "Not found in your documents."
TRUNCATED = (
    "The question was long: it was answered from its first part, as much as the models read."
)
"""What every face says when the documents hold no answer."""


_PAGE_WORDS = {".pptx": "slide", ".xlsx": "sheet", ".mbox": "message"}


def page_word(path: str) -> str:
    """What a page of this file is called: "slide" in a .pptx, "sheet" in a .xlsx, ..."""
    dot = path.rfind(".")
    return _PAGE_WORDS.get(path[dot:].lower(), "page") if dot >= 0 else "page"


@dataclass(frozen=True)
class Page:
    """One page of a paginated document: its 1-based number and character span."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    """A heading line of a document: its span in the text, its level (1 is the top)
    and its title as read."""

    start: int
    end: int
    level: int
    title: str


@dataclass(frozen=True)
class Document:
    """The text of one file, as read by a loader.

    ``path`` is relative to the corpus, with forward slashes. ``pages`` is empty for
    formats without pages; for PDFs it gives each page's span in ``text``. ``headings``
    are in text order. ``furniture`` holds the spans of running heads, footers and page
    numbers: kept in the text (so lines still count as printed) but never chunked.
    Slides, sheets and mbox messages are pages too.
    """

    path: str
    text: str
    pages: tuple[Page, ...] = ()
    headings: tuple[Heading, ...] = ()
    furniture: tuple[tuple[int, int], ...] = ()
    # What the loader left out and why ("read the first 200,000 rows only"), or "".
    note: str = ""
    # Spans of text read by OCR from pixels: quotes from them may hold recognition errors.
    ocr: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, the unit that is embedded and retrieved.

    Invariant: ``document.text[char_start:char_end] == text``. Lines are 1-based and
    inclusive; for PDFs they count within the page. ``heading`` is the path of the
    headings above it ("Finances > Harbour fees"): context for retrieval, never quoted.
    ``column`` counts the characters of its first line that precede it.
    """

    path: str
    text: str
    char_start: int
    char_end: int
    start_line: int
    end_line: int
    page: int | None = None
    id: int = -1
    heading: str = ""
    column: int = 0
    ocr: bool = False  # read by OCR from pixels: its words may hold recognition errors
    language: str = ""  # its document's language (ISO 639-1), "" when unknown


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores it came from."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    collection: str | None = None  # the named collection it came from, if one was named

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "path": c.path,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "page": c.page,
            "char_start": c.char_start,
            "char_end": c.char_end,
            "score": round(self.score, 4),
            "text": c.text,
            "ocr": c.ocr,
            "collection": self.collection,
        }


@dataclass(frozen=True)
class Citation:
    """A cited sentence: where it is, how well it matched, and the excerpt around it."""

    n: int
    path: str
    start_line: int
    end_line: int
    page: int | None
    char_start: int
    char_end: int
    score: float
    excerpt: str
    sentence: str
    # Where the sentence sits inside ``excerpt``, so faces can highlight it.
    sentence_offset: int = 0
    ocr: bool = False  # quoted from OCR'd text: it may hold recognition errors
    collection: str | None = None  # the named collection it came from, if one was named

    @property
    def location(self) -> str:
        """Where the sentence is: ``path · lines 3–4`` (with the page, slide, sheet or
        message where the format has them)."""
        if self.start_line == self.end_line:
            lines = f"line {self.start_line}"
        else:
            lines = f"lines {self.start_line}–{self.end_line}"
        if self.page is not None:
            lines = f"{page_word(self.path)} {self.page}, {lines}"
        return f"{self.path} · {lines}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        del data["sentence"], data["sentence_offset"]
        return data


@dataclass(frozen=True)
class AnswerSpan:
    """The phrase that answers, inside the sentence of citation ``n``.

    ``char_start`` / ``char_end`` locate it in the document's extracted text, like a
    citation's offsets.
    """

    n: int
    text: str
    char_start: int
    char_end: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An extractive answer: the best sentence(s), or an abstention."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    elapsed_ms: float = 0.0
    confidence: float = 0.0
    span: AnswerSpan | None = None  # the phrase a reader marked, if one read the passages
    question_truncated: bool = False  # answered from its first part (see questions.py)

    def span_in_answer(self) -> tuple[int, int] | None:
        """Where the answer phrase sits in ``text`` (its sentence is the first one)."""
        if self.span is None or not self.citations or self.span.n != self.citations[0].n:
            return None
        start = self.span.char_start - self.citations[0].char_start
        end = start + len(self.span.text)
        if start < 0 or self.text[start:end] != self.span.text:
            return None
        return start, end

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "answer_span": None if self.span is None else self.span.to_json(),
            "question_truncated": self.question_truncated,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass(frozen=True)
class SearchResult:
    """Ranked passages for one query."""

    query: str
    hits: tuple[Hit, ...]
    query_truncated: bool = False  # searched by its first part (see questions.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "hits": [h.to_json() for h in self.hits],
            "query_truncated": self.query_truncated,
        }


@dataclass(frozen=True)
class Skipped:
    """A file the indexer did not index, and why."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What an index update did (or, for a dry run, would do). Counts are files."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    rebuilt_because: str = ""  # why every file was (re)embedded, when an index was there
    # Running heads, footers and page numbers left out of the chunks of the files read.
    running_lines_dropped: int = 0
    segments_merged: int = 0  # segments a merge after the update rewrote as one
    # Files whose loader left part out (a sheet past the row limit), and what.
    truncated: list[Skipped] = field(default_factory=list)
    # Files in the index after the update, per format ("pdf": 3); files read without text.
    formats: dict[str, int] = field(default_factory=dict)
    no_text: list[str] = field(default_factory=list)
    chunks_per_second: float = 0.0  # embedding rate (chunks embedded / embedding time)
    workers: int = 0  # Ray workers that embedded; 0: embedded in this process
    languages: dict[str, int] = field(default_factory=dict)  # documents per language after

    def to_json(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "chunks_embedded": self.chunks_embedded,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 3),
            "rebuilt_because": self.rebuilt_because,
            "running_lines_dropped": self.running_lines_dropped,
            "segments_merged": self.segments_merged,
            "truncated": [{"path": s.path, "reason": s.reason} for s in self.truncated],
            "formats": dict(self.formats),
            "no_text": list(self.no_text),
            "chunks_per_second": round(self.chunks_per_second, 1),
            "workers": self.workers,
            "languages": dict(self.languages),
        }
