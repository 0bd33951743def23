"""Hostile documents: every bad file is skipped or read as well as it can be, with a reason;
the good files beside them are indexed and answerable; no traceback, no hang, bounded memory.

The corpus is generated here (see ``build_hostile_corpus``) and indexed by the real CLI in
a subprocess (``tests/fake_model_cli.py``: FakeEmbedder, no torch) under a timeout.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from assistant.cli import main
from assistant.config import Settings
from assistant.core import Assistant
from assistant.documents.loaders import NO_TEXT_LAYER, SUPPORTED_SUFFIXES, load_document
from assistant.documents.loaders.ocr import ocr_available
from assistant.embedding import Encoders
from assistant.errors import LoaderError
from assistant.indexing import update_index
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

pytestmark = pytest.mark.usefixtures("isolated")

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "tests" / "fake_model_cli.py"
# Generous: a benchmark may share the CPU. Nothing here asserts on speed.
INDEX_TIMEOUT = 240
# Peak memory of the indexing process; the corpus holds ~6 MB of text. Measured ~250 MB.
MAX_RSS_MB = 1500
MB = 1_000_000


# --- building the corpus ----------------------------------------------------------------


@dataclass
class Hostile:
    """What a generated corpus holds and what indexing it must give."""

    root: Path
    # Skipped files: relpath -> a piece of the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    # Files that must be indexed: relpath -> (question, a sentence the answer must hold).
    answerable: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Indexed, and the best passage for the query: relpath -> query.
    searchable: dict[str, str] = field(default_factory=dict)
    # Indexed, perhaps with damage (bad bytes, no sentences), but not skipped.
    indexed: set[str] = field(default_factory=set)
    # Text that must never reach the index.
    secrets: list[str] = field(default_factory=list)

    def write(self, relpath: str, data: bytes) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def good(self, relpath: str, sentence: str, question: str, data: bytes | None = None) -> None:
        self.write(relpath, data if data is not None else f"{sentence}\n".encode())
        self.answerable[relpath] = (question, sentence)

    def bad(self, relpath: str, data: bytes, reason: str) -> None:
        self.write(relpath, data)
        self.skipped[relpath] = reason


def _with_macros(book: bytes) -> bytes:
    """A workbook carrying a VBA project that would run a command if anything ran it."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("xl/vbaProject.bin", b'Sub Auto_Open()\nShell "touch pwned"\nEnd Sub\n')
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf([["Locked treasure map sentence."]])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_bytes(body: str) -> bytes:
    return f"<html><head><title>Page</title></head><body>{body}</body></html>".encode()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inside.txt", "Archived sentences are not read.")
    return out.getvalue()


def tar_gz_bytes() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        data = b"Tarred sentences are not read."
        info = tarfile.TarInfo("inside.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(4000)


def build_hostile_corpus(root: Path, outside: Path) -> Hostile:
    """Write the hostile corpus into ``root`` (and a secret into ``outside``)."""
    h = Hostile(root)
    noise = random.Random(0)

    # Good files, some with names that are hard to print or to store.
    h.good("good.txt", "The lighthouse keeper's cat is named Marmalade.", "What is the cat named?")
    h.good(
        "with spaces/file name with spaces.md",
        "The spaceship departs from platform nine.",
        "Which platform does the spaceship depart from?",
    )
    h.good(
        "new\nline.txt",
        "The ferry to the island leaves at dawn.",
        "When does the ferry to the island leave?",
    )
    h.good(
        "Ελληνικά/日本語のノート.md",
        "The volcano observatory records tremors hourly.",
        "How often does the volcano observatory record tremors?",
    )
    h.good(
        "[bold red]markup[link=x].txt",
        "The bakery sells rhubarb pies on Fridays.",
        "What does the bakery sell on Fridays?",
    )
    h.good(
        "\x1b[31mred\x1b[0m.txt",
        "The tram depot repaints carriages in winter.",
        "When does the tram depot repaint carriages?",
    )
    h.good(
        "deep/" + "level/" * 100 + "bottom.txt",
        "The deepest folder stores the glacier survey.",
        "What does the deepest folder store?",
    )
    # Text in other encodings: read as well as it can be.
    h.good(
        "utf16.txt",
        "The museum of clocks opens on Sundays.",
        "When does the museum of clocks open?",
        data="\ufeffThe museum of clocks opens on Sundays.\n".encode("utf-16-le"),
    )
    h.good(
        "latin1.txt",
        "The café sells crêpes with chestnut cream.",
        "What does the café sell?",
        data="The café sells crêpes with chestnut cream.\n".encode("latin-1"),
    )
    h.good(
        "invalid-utf8.txt",
        "The orchestra rehearses in the granary.",
        "Where does the orchestra rehearse?",
        data=b"Broken \xff\xfe\xc3 bytes here.\nThe orchestra rehearses in the granary.\n",
    )
    h.good(
        "nul-bytes.txt",
        "The beekeeper harvests honey in August.",
        "When does the beekeeper harvest honey?",
        data=b"The beekeeper harvests honey\x00 in August.\n" + b"Plain filler text. " * 50,
    )
    # Huge inputs: a multi-megabyte single line, and runs with no spaces at all.
    # (A sentence inside a 2.6 MB run-on "sentence" is found, but too diluted to answer.)
    h.write(
        "long-line.txt",
        (b"filler words go on and on " * 100_000)
        + b"The submarine captain collects seashells. "
        + b"more filler words " * 20_000,
    )
    h.searchable["long-line.txt"] = "submarine captain seashells"
    h.write("no-spaces.txt", b"a" * 2 * MB)
    h.indexed.add("no-spaces.txt")
    h.write("base64-blob.md", b"![img](data:image/png;base64," + b"iVBORw0KGgo" * 20_000 + b")\n")
    h.indexed.add("base64-blob.md")
    # HTML: deep nesting, and a script far larger than the text.
    h.good(
        "deep.html",
        "The deepest div hides the penguin census.",
        "What does the deepest div hide?",
        data=html_bytes(
            "<div>" * 10_000 + "The deepest div hides the penguin census." + "</div>" * 10_000
        ),
    )
    h.good(
        "script-heavy.html",
        "The aquarium feeds the octopus at noon.",
        "When does the aquarium feed the octopus?",
        data=html_bytes(
            "<script>" + "var hidden_script_token = 1;\n" * 50_000 + "</script>"
            "<p>The aquarium feeds the octopus at noon.</p>"
        ),
    )
    h.secrets.append("hidden_script_token")
    # A DOCX and a PDF that are fine.
    h.good(
        "report.docx",
        "The harvest report praises the pear trees.",
        "What does the harvest report praise?",
        data=docx_bytes("The harvest report praises the pear trees."),
    )
    h.good(
        "pages.pdf",
        "The atlas shows the hidden lagoon.",
        "What does the atlas show?",
        data=make_pdf([["Intro page."], ["The atlas shows the hidden lagoon."]]),
    )

    # Bad files: skipped, each with its reason.
    h.bad("binary.txt", noise.randbytes(8192), "binary data")
    h.bad("image-named.md", PNG, "binary data")
    h.bad("empty.txt", b"", "no text found")
    h.bad("whitespace.md", b" \n\t\n   \r\n\n", "no text found")
    h.bad("only-script.html", b"<html><script>var a = 1;</script> </html>", "no text found")
    pdf = make_pdf([["Truncated sentence about walruses."]])
    h.bad("truncated.pdf", pdf[: len(pdf) // 2], "not valid PDF")
    h.bad("fake.pdf", b"Just text pretending to be a PDF.\n", "no PDF header")
    h.bad("encrypted.pdf", encrypted_pdf(), "encrypted PDF")
    h.bad("fake.docx", b"plain text pretending to be Word", "not valid DOCX")
    good_docx = docx_bytes("A broken document about otters.")
    h.bad("broken.docx", good_docx[: len(good_docx) // 2], "not valid DOCX")
    h.bad("\x1b]0;pwned\x07title.pdf", b"not a pdf", "no PDF header")
    # Images are read by OCR with the ocr extra; without it they are reported.
    h.bad("photo.png", PNG, "not a readable image" if ocr_available() else NO_TEXT_LAYER)
    h.bad(
        "photo.JPG",
        b"\xff\xd8\xff\xe0" + noise.randbytes(2000),
        "not a readable image" if ocr_available() else NO_TEXT_LAYER,
    )
    # The newer formats: broken archives, zip bombs, fakes, and a sheet past the row limit.
    deck = pptx_bytes([("Deck", "A broken deck about walruses.")])
    h.bad("broken.pptx", deck[: len(deck) // 2], "not valid PPTX")
    h.bad("bomb.xlsx", zip_bomb(), "over the 200 MB limit")
    h.bad("fake.xlsx", b"Name,Role\nnot,a workbook\n", "not valid XLSX")
    book = xlsx_bytes({"S": [["Name", "Role"], ["Walrus", "Keeper"]]})
    h.bad("broken.xlsx", book[: len(book) // 3], "not valid XLSX")
    h.bad("bomb.epub", zip_bomb(), "over the 200 MB limit")
    h.bad("fake.epub", zip_bytes(), "container.xml")
    h.bad("broken.odt", odt_bytes("Walruses", "Broken.")[:300], "not valid ODT")
    h.bad("fake.mbox", b"\x00\x01 not a mailbox", "not valid MBOX")
    h.bad("fake.eml", b"\x00" * 50, "not valid EML")
    h.bad("empty.csv", b"\n\n\n", "no text found")
    h.good(
        "macros.xlsx",
        "Lighthouse: Keeper Marguerite Okafor; Since 1987",
        "Who keeps the lighthouse since 1987?",
        data=_with_macros(
            xlsx_bytes(
                {"S": [["Post", "Keeper", "Since"], ["Lighthouse", "Marguerite Okafor", 1987]]}
            )
        ),
    )
    h.good(
        "huge-sheet.csv",
        "Row 3: Value the seal colony counts 412 pups",
        "How many pups does the seal colony count?",
        data=b"Row,Value\n"
        + b"Row 2,filler\nRow 3,the seal colony counts 412 pups\n"
        + b"".join(b"Row %d,x\n" % i for i in range(4, 250_000)),
    )
    h.bad("archive.zip", zip_bytes(), "unsupported file type .zip")
    h.bad("bundle.tar.gz", tar_gz_bytes(), "unsupported file type .gz")

    # Links: a loop, a chain loop, a dangling link, and links leading out of the corpus.
    (root / "loop").symlink_to(".")
    h.skipped["loop"] = "symlink loop"
    (root / "chain-a.txt").symlink_to("chain-b.txt")
    (root / "chain-b.txt").symlink_to("chain-a.txt")
    h.skipped["chain-a.txt"] = h.skipped["chain-b.txt"] = "symlink loop"
    (root / "dangling.txt").symlink_to("nowhere.txt")
    h.skipped["dangling.txt"] = "broken link"
    outside.mkdir()
    (outside / "secret.txt").write_text("The vault combination is swordfish.\n")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape-dir").symlink_to(outside)
    h.skipped["escape.txt"] = h.skipped["escape-dir"] = "links outside the corpus"
    h.secrets.append("swordfish")
    return h


# --- indexing it --------------------------------------------------------------------------


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = INDEX_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the fake model in a subprocess."""
    return subprocess.run(
        [sys.executable, str(HOOK), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _query(index: Path, sql: str) -> list[Any]:
    db = sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute(sql)]
    finally:
        db.close()


def test_hostile_corpus_indexes_good_files_and_skips_bad_ones(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    hostile = build_hostile_corpus(corpus, tmp_path / "outside")
    unreadable = corpus / "unreadable.txt"
    unreadable.write_text("The unreadable file mentions a zeppelin.\n")
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads it anyway; test_file_unreadable_... simulates it
        hostile.skipped["unreadable.txt"] = "permission denied"
    rss_file = tmp_path / "rss"

    result = run_cli(
        "index",
        "--json",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        env={"EXCERPTA_FAKE_MAXRSS": str(rss_file)},
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    for path, reason in hostile.skipped.items():
        assert reason in reasons.get(path, ""), f"{path!r}: {reasons.get(path)!r}"
    indexed = set(_query(index, "SELECT path FROM files"))
    assert report["added"] == len(indexed)
    assert set(hostile.answerable) | set(hostile.searchable) | hostile.indexed <= indexed
    assert not indexed & set(hostile.skipped)
    truncated = {t["path"]: t["reason"] for t in report["truncated"]}
    assert "first 200,000 rows only" in truncated["huge-sheet.csv"]
    assert not (ROOT / "pwned").exists() and not (corpus / "pwned").exists()
    peak_mb = int(rss_file.read_text()) / 1024
    assert peak_mb < MAX_RSS_MB

    texts = "\n".join(_query(index, "SELECT text FROM chunks"))
    for secret in hostile.secrets:
        assert secret not in texts
    embedder = FakeEmbedder()
    assistant = Assistant(Settings(corpus=corpus, index=index), Encoders.single(embedder))
    for path, (question, sentence) in hostile.answerable.items():
        answer = assistant.ask(question, mode="lexical")
        assert sentence in answer.text, (path, answer.text)
        assert path in {c.path for c in answer.citations}, path
    for path, query in hostile.searchable.items():
        assert assistant.search(query, mode="lexical").hits[0].chunk.path == path


def test_hostile_corpus_human_output_has_no_control_characters(tmp_path: Path) -> None:
    """File names with escape sequences or newlines are shown escaped, one line each."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    hostile = build_hostile_corpus(corpus, tmp_path / "outside")
    for big in ("no-spaces.txt", "base64-blob.md", "long-line.txt", "deep.html"):
        (corpus / big).unlink()  # the other test reads them; keep this one quick
    # Escape sequences in a document's text must not reach the terminal either.
    (corpus / "clown.txt").write_bytes(b"The clown juggles \x1b[5mflaming\x1b[0m torches.\n")
    runner = CliRunner()
    embedder = FakeEmbedder()
    where = ["--corpus", str(corpus), "--index", str(index)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "assistant.cli.make_assistant",
            lambda s: Assistant(s, encoders=Encoders.single(embedder)),
        )
        indexed = runner.invoke(main, ["index", *where])
        question, _ = hostile.answerable["\x1b[31mred\x1b[0m.txt"]
        asked = runner.invoke(main, ["ask", question, "--mode", "lexical", *where])
        question, _ = hostile.answerable["new\nline.txt"]
        asked_newline = runner.invoke(main, ["ask", question, "--mode", "lexical", *where])
        clown = runner.invoke(main, ["ask", "What does the clown juggle?", *where])
        searched = runner.invoke(main, ["search", "clown juggles torches", *where])
    assert indexed.exit_code == 0, indexed.stderr
    for result in (indexed, asked, asked_newline, clown, searched):
        assert result.exit_code == 0
        for stream in (result.stdout, result.stderr):
            assert "\x1b" not in stream and "\x07" not in stream
    skipped_lines = [line for line in indexed.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped_lines) == len(hostile.skipped)
    assert any("title.pdf" in line and "no PDF header" in line for line in skipped_lines)
    assert "red" in asked.stdout and "tram depot" in asked.stdout
    assert "new\\nline.txt:1" in asked_newline.stdout
    assert "juggles \\x1b[5mflaming" in clown.stdout
    assert "clown.txt:1" in searched.stdout and "\\x1b[0m torches" in searched.stdout


def test_file_unreadable_after_scan_is_skipped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that can't be read (permission denied) is skipped with the reason.

    Root reads any file whatever its mode, so the denial is simulated at the point of
    reading, for both the hashing and the loading.
    """
    locked = settings.corpus / "locked.txt"
    locked.write_text("The locked file mentions a zeppelin.\n")
    real_open, real_read_bytes = Path.open, Path.read_bytes

    def denied(path: Path) -> bool:
        return path.name == "locked.txt"

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def read_bytes(self: Path) -> bytes:
        if denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    reasons = {s.path: s.reason for s in report.skipped}
    assert "Permission denied" in reasons["locked.txt"]
    assert "notes/garden.md" in report.added
    answer = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(
        "When were the tomatoes planted?"
    )
    assert "planted in May" in answer.text

    # Readable but refused by the loader (e.g. the mode changed between scan and read).
    monkeypatch.setattr(Path, "open", real_open)
    with pytest.raises(LoaderError, match="Permission denied"):
        load_document(locked, "locked.txt")


# --- size limits from a TOML config --------------------------------------------------------


def _config(tmp_path: Path, corpus: Path, index: Path, **limits: float) -> Path:
    lines = [f'corpus = "{corpus}"', f'index = "{index}"']
    lines += [f"{key} = {value}" for key, value in limits.items()]
    path = tmp_path / "excerpta.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _index_with_config(config: Path, *extra: str) -> Any:
    embedder = FakeEmbedder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "assistant.cli.make_assistant",
            lambda s: Assistant(s, encoders=Encoders.single(embedder)),
        )
        return CliRunner().invoke(main, ["index", "--config", str(config), *extra])


def test_max_file_mb_from_config_skips_and_reports(tmp_path: Path, corpus: Path) -> None:
    (corpus / "big.txt").write_text("The big file talks about whales. " * 400)  # ~13 kB
    config = _config(tmp_path, corpus, tmp_path / "index", max_file_mb=0.01)
    human = _index_with_config(config)
    assert human.exit_code == 0, human.stderr
    assert "skipped big.txt: larger than the 10 kB limit" in human.stderr
    again = _index_with_config(config, "--full", "--json")
    report = json.loads(again.stdout)
    assert {"path": "big.txt", "reason": "larger than the 10 kB limit"} in report["skipped"]
    assert report["added"] == 3  # the fixture's files


def test_max_corpus_mb_from_config_skips_and_reports(tmp_path: Path, corpus: Path) -> None:
    # Files are taken in path order; the article (~9 kB) fits, the 30 kB file does not,
    # and the small notes after it still fit in what is left.
    (corpus / "q-big.txt").write_text("Filler about quarries. " * 1300)
    config = _config(tmp_path, corpus, tmp_path / "index", max_corpus_mb=0.02)
    result = _index_with_config(config, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"path": "q-big.txt", "reason": "corpus size limit of 0.02 MB reached"} in report[
        "skipped"
    ]
    assert "recipes.txt" in _query(tmp_path / "index", "SELECT path FROM files")
    human = _index_with_config(config, "--full")
    assert "skipped q-big.txt: corpus size limit of 0.02 MB reached" in human.stderr


# --- loaders on arbitrary and mutated bytes (hypothesis) -----------------------------------


def _load_or_loader_error(data: bytes, suffix: str, folder: Path) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        document = load_document(path, path.name)
    except LoaderError as exc:
        assert exc.message
        return
    assert document.text.strip()
    for page in document.pages:
        assert 0 <= page.start <= page.end <= len(document.text)


SUFFIXES = sorted(SUPPORTED_SUFFIXES)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_loaders_raise_only_loader_error_on_arbitrary_bytes(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    _load_or_loader_error(data, suffix, tmp_path)


SEEDS = {
    ".pdf": make_pdf([["Apples grow in the orchard.", "They ripen."], ["Page two text."]]),
    ".docx": docx_bytes("First paragraph of the letter.", "Second paragraph, signed."),
    ".html": html_bytes("<h1>Title</h1><p>Some <b>bold</b> text.</p><table><tr><td>x</td></tr>"),
    ".pptx": pptx_bytes([("Title", "Body of the slide.")], notes="Speaker notes."),
    ".xlsx": xlsx_bytes({"S": [["Name", "Role"], ["Ada", "Keeper"]], "T": [["x"]]}),
    ".epub": epub_bytes([("One", "A chapter."), ("Two", "Another.")]),
    ".odt": odt_bytes("Heading", "A paragraph.", table=[["a", "b"], ["c", "d"]]),
    ".eml": eml_bytes("Subject", "Body.", {"a.csv": b"x,y\n1,2\n"}),
    ".mbox": mbox_bytes([("One", "First."), ("Two", "Second.")]),
    ".csv": b'Name,Role\nAda,"Keeper, lead"\nBo,Clerk\n',
}
_ZIPPED = (".docx", ".pptx", ".xlsx", ".epub", ".odt")


def _mutate(draw: st.DrawFn, data: bytearray) -> bytearray:
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif kind == "cut":
            data = data[at:]
        else:
            data = data[:at]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid PDF, DOCX or HTML file with bytes flipped, cut, inserted or deleted.

    For a DOCX, either the zip itself or one part inside an intact zip is mutated (a
    damaged zip alone would never reach the XML parser).
    """
    suffix = draw(st.sampled_from([*SEEDS, *(f"{z}-part" for z in _ZIPPED)]))
    if not suffix.endswith("-part"):
        return suffix, bytes(_mutate(draw, bytearray(SEEDS[suffix])))
    suffix = suffix.removesuffix("-part")
    source = zipfile.ZipFile(io.BytesIO(SEEDS[suffix]))
    names = source.namelist()
    victim = draw(
        st.sampled_from(sorted(n for n in names if n.endswith((".xml", ".rels", ".opf", ".xhtml"))))
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in names:
            part = source.read(name)
            zf.writestr(name, bytes(_mutate(draw, bytearray(part))) if name == victim else part)
    return suffix, out.getvalue()


@FUZZ
@given(case=mutated())
def test_loaders_raise_only_loader_error_on_mutated_files(
    tmp_path: Path, case: tuple[str, bytes]
) -> None:
    suffix, data = case
    _load_or_loader_error(data, suffix, tmp_path)
