"""Tests for assistant.documents.scan: walking the corpus folder and what it leaves out."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.documents.scan import SourceFile, scan_corpus
from assistant.errors import CorpusError
from assistant.records import Skipped


def _write(root: Path, relpath: str, data: bytes = b"some text\n") -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _scan(root: Path, **kwargs: object) -> tuple[list[str], dict[str, str]]:
    files, skipped = scan_corpus(root, **kwargs)  # type: ignore[arg-type]
    return [f.relpath for f in files], {s.path: s.reason for s in skipped}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    return root


def test_walks_subfolders_in_sorted_order(corpus: Path) -> None:
    for rel in ["b.txt", "a/z.md", "a/deeper/x.pdf", "a/b.html", "c.docx", "C.HTM"]:
        _write(corpus, rel)
    files, skipped = _scan(corpus)
    assert files == ["C.HTM", "a/b.html", "a/deeper/x.pdf", "a/z.md", "b.txt", "c.docx"]
    assert skipped == {}


def test_source_file_fields(corpus: Path) -> None:
    path = _write(corpus, "sub/doc.txt", b"12345")
    os.utime(path, ns=(1_000_000_000, 2_000_000_000))
    files, _ = scan_corpus(corpus)
    assert files == [SourceFile("sub/doc.txt", str(path), 5, 2_000_000_000)]
    assert files[0].abspath == path
    assert files[0].abspath.is_absolute()


def test_hidden_files_and_folders_are_skipped_silently(corpus: Path) -> None:
    _write(corpus, ".hidden.txt")
    _write(corpus, ".git/notes.txt")
    _write(corpus, "docs/.cache/page.html")
    _write(corpus, "docs/visible.txt")
    assert _scan(corpus) == (["docs/visible.txt"], {})


def test_index_folder_is_excluded(corpus: Path) -> None:
    _write(corpus, "index/chunks.txt")
    _write(corpus, "index/manifest.json")
    _write(corpus, "doc.txt")
    assert _scan(corpus, exclude=[corpus / "index"]) == (["doc.txt"], {})
    # Given as an unnormalised path, it is still the same folder.
    assert _scan(corpus, exclude=[corpus / "x" / ".." / "index"])[0] == ["doc.txt"]


def test_unsupported_types_are_reported(corpus: Path) -> None:
    _write(corpus, "movie.MP4")
    _write(corpus, "Makefile")
    _write(corpus, "archive.tar.gz")
    _write(corpus, "ok.md")
    files, skipped = _scan(corpus)
    assert files == ["ok.md"]
    assert skipped == {
        "movie.MP4": "unsupported file type .mp4",
        "Makefile": "unsupported file type (no extension)",
        "archive.tar.gz": "unsupported file type .gz",
    }


def test_size_limit(corpus: Path) -> None:
    _write(corpus, "big.txt", b"x" * 2001)
    _write(corpus, "fits.txt", b"x" * 2000)
    assert _scan(corpus, max_file_bytes=2000) == (
        ["fits.txt"],
        {"big.txt": "larger than the 2 kB limit"},
    )


def test_default_size_limit_message(corpus: Path) -> None:
    with open(corpus / "huge.pdf", "wb") as f:
        f.truncate(50_000_001)  # sparse: takes no disk space
    assert _scan(corpus)[1] == {"huge.pdf": "larger than the 50 MB limit"}


def test_names_with_spaces_and_other_scripts(corpus: Path) -> None:
    names = ["my notes.txt", "Ünïcödé/北京 报告.md", "Ελληνικά.html", "файл.docx"]
    for name in names:
        _write(corpus, name)
    assert _scan(corpus)[0] == sorted(names)


def test_missing_corpus(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as info:
        scan_corpus(tmp_path / "nope")
    assert info.value.message == f"corpus folder not found: {tmp_path / 'nope'}"
    assert "--corpus" in info.value.hint


def test_corpus_that_is_a_file(tmp_path: Path) -> None:
    _write(tmp_path, "file.txt")
    with pytest.raises(CorpusError, match="corpus folder not found"):
        scan_corpus(tmp_path / "file.txt")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_and_folder(corpus: Path) -> None:
    _write(corpus, "secret.txt").chmod(0)
    _write(corpus, "locked/inside.txt")
    (corpus / "locked").chmod(0)
    try:
        assert _scan(corpus) == (
            [],
            {"secret.txt": "permission denied", "locked": "permission denied"},
        )
    finally:
        (corpus / "locked").chmod(0o755)


def test_unreadable_file_and_folder_when_running_as_root(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads everything, so fake the permission errors the test above provokes.
    _write(corpus, "secret.txt")
    _write(corpus, "locked/inside.txt")
    real_access, real_scandir = os.access, os.scandir

    def access(path: Path, mode: int) -> bool:
        return Path(path).name != "secret.txt" and real_access(path, mode)

    def scandir(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "scandir", scandir)
    assert _scan(corpus) == (
        [],
        {"secret.txt": "permission denied", "locked": "permission denied"},
    )


def test_file_name_that_is_not_utf8(corpus: Path) -> None:
    try:
        fd = os.open(os.fsencode(corpus) + b"/bad\xff.txt", os.O_CREAT | os.O_WRONLY)
    except OSError:
        pytest.skip("the file system refuses non-UTF-8 names")
    os.close(fd)
    _write(corpus, "good.txt")
    assert _scan(corpus) == (["good.txt"], {"bad\ufffd.txt": "file name is not valid UTF-8"})


def test_special_files_are_reported(corpus: Path) -> None:
    os.mkfifo(corpus / "pipe.txt")
    assert _scan(corpus) == ([], {"pipe.txt": "not a regular file"})


# --- symlinks ---------------------------------------------------------------------


def test_dangling_symlink(corpus: Path) -> None:
    (corpus / "gone.txt").symlink_to(corpus / "missing.txt")
    assert _scan(corpus) == ([], {"gone.txt": "broken link: its target does not exist"})


def test_symlink_chain_loop(corpus: Path) -> None:
    (corpus / "a.txt").symlink_to(corpus / "b.txt")
    (corpus / "b.txt").symlink_to(corpus / "a.txt")
    assert _scan(corpus) == ([], {"a.txt": "symlink loop", "b.txt": "symlink loop"})


def test_symlink_to_ancestor_folder_does_not_hang(corpus: Path) -> None:
    _write(corpus, "sub/doc.txt")
    (corpus / "sub" / "up").symlink_to(corpus, target_is_directory=True)
    (corpus / "sub" / "self").symlink_to(corpus / "sub", target_is_directory=True)
    # A daemon thread, so a regression fails this test instead of hanging the run.
    results: list[tuple[list[str], dict[str, str]]] = []
    worker = threading.Thread(target=lambda: results.append(_scan(corpus)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "scan_corpus loops on a symlinked ancestor"
    assert results[0] == (
        ["sub/doc.txt"],
        {"sub/self": "symlink loop", "sub/up": "symlink loop"},
    )


def test_symlink_outside_corpus(tmp_path: Path, corpus: Path) -> None:
    outside = _write(tmp_path, "elsewhere/private.txt")
    (corpus / "leak.txt").symlink_to(outside)
    (corpus / "leakdir").symlink_to(outside.parent, target_is_directory=True)
    (corpus / "relative.txt").symlink_to(Path("..") / "elsewhere" / "private.txt")
    assert _scan(corpus) == (
        [],
        {
            "leak.txt": "links outside the corpus",
            "leakdir": "links outside the corpus",
            "relative.txt": "links outside the corpus",
        },
    )


def test_symlinked_folder_inside_corpus_is_followed_once(corpus: Path) -> None:
    _write(corpus, ".archive/old.txt")
    _write(corpus, "real/doc.txt")
    # Sorts before "real", yet the files keep their real paths.
    (corpus / "alias").symlink_to(corpus / "real", target_is_directory=True)
    (corpus / "old").symlink_to(corpus / ".archive", target_is_directory=True)
    (corpus / "copy.txt").symlink_to(corpus / "real" / "doc.txt")
    assert _scan(corpus) == (
        ["old/old.txt", "real/doc.txt"],
        {"alias": "same folder as real", "copy.txt": "same file as real/doc.txt"},
    )


def test_symlink_into_index_folder_is_excluded(corpus: Path) -> None:
    _write(corpus, "index/chunks.txt")
    (corpus / "peek.txt").symlink_to(corpus / "index" / "chunks.txt")
    assert _scan(corpus, exclude=[corpus / "index"]) == ([], {})


def test_corpus_reached_through_a_symlink(tmp_path: Path, corpus: Path) -> None:
    _write(corpus, "doc.txt")
    (corpus / "inner.txt").symlink_to(corpus / "doc.txt")
    link = tmp_path / "link-to-corpus"
    link.symlink_to(corpus, target_is_directory=True)
    files, skipped = scan_corpus(link)
    assert [f.relpath for f in files] == ["doc.txt"]
    assert files[0].abspath == link / "doc.txt"
    assert skipped == [Skipped("inner.txt", "same file as doc.txt")]


def test_core_modules_import_no_ui_or_format_libraries() -> None:
    # Format libraries load lazily when a file is read; UI and torch never load here.
    code = (
        "import sys, assistant.documents.scan, assistant.documents.loaders\n"
        "heavy = ('textual', 'torch', 'click', 'pypdf', 'docx', 'selectolax')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"
