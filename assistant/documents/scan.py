"""Finding the documents in the corpus folder.

``scan_corpus`` walks the folder and returns the files the loaders can read, plus a
``Skipped`` record (never an exception) for every file it leaves out and why. Symlinks
are followed only inside the corpus, and each real file or folder is taken once, so
links can neither leak outside files in nor loop forever.

Must not import textual, torch or click.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.documents.loaders import SUPPORTED_SUFFIXES, unsupported_reason
from assistant.errors import CorpusError
from assistant.records import Skipped

DEFAULT_MAX_FILE_BYTES = 50_000_000


@dataclass(frozen=True)
class SourceFile:
    """A file to index: where it is, and the size and mtime that tell if it changed."""

    relpath: str  # relative to the corpus root, with forward slashes
    location: str  # the absolute path (a string: a Path per file cost a scan ~20%)
    size: int
    mtime_ns: int

    @property
    def abspath(self) -> Path:
        return Path(self.location)


def scan_corpus(
    root: Path,
    *,
    exclude: Sequence[Path] = (),
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    text_suffixes: frozenset[str] = frozenset(),
) -> tuple[list[SourceFile], list[Skipped]]:
    """Find the supported files under ``root``, both lists sorted by path.

    Hidden files and folders (name starting with '.') and anything under an
    ``exclude`` path (the index folder) are left out silently. Unsupported, too
    large, unreadable and special files, broken links, links leading outside the
    corpus and symlink loops are returned as ``Skipped``. Files named by
    ``text_suffixes`` (read as plain text) count as supported.

    Raises:
        CorpusError: ``root`` is missing, not a folder, or can't be listed.
    """
    if not root.is_dir():
        raise CorpusError(
            f"corpus folder not found: {root}",
            hint="create it and add documents, or pass --corpus DIR",
        )
    scan = _Scan(root, exclude, max_file_bytes, SUPPORTED_SUFFIXES | text_suffixes)
    scan.run()
    files = sorted(scan.files, key=lambda f: f.relpath)
    skipped = sorted(scan.skipped, key=lambda s: s.path)
    return files, skipped


class _Scan:
    """The state of one walk: results so far, and every real path already taken.

    Paths are plain strings here: pathlib's parsing was most of a scan's time (20,000
    files took ~1 s), and a one-file update scans the whole corpus.
    """

    def __init__(
        self, root: Path, exclude: Sequence[Path], max_file_bytes: int, suffixes: frozenset[str]
    ) -> None:
        self.root = os.path.abspath(root)
        self.root_real = os.path.realpath(root)
        self.excluded = [os.path.realpath(p) for p in exclude]
        self.max_file_bytes = max_file_bytes
        self.suffixes = suffixes
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        # Real path -> the relpath it was first reached by.
        self.seen: dict[str, str] = {self.root_real: ""}
        self.folders: list[tuple[str, str, str]] = []  # (path, real path, relpath)
        self.links: deque[tuple[str, str]] = deque()

    def run(self) -> None:
        try:
            with os.scandir(self.root):
                pass
        except OSError as exc:
            raise CorpusError(
                f"cannot read corpus folder {self.root}: {exc.strerror or exc}",
                hint="check the folder's permissions",
            ) from exc
        self.folders.append((self.root, self.root_real, ""))
        # Links wait until every real folder has been walked, so a file reached both
        # directly and through a link keeps its real path.
        while self.folders or self.links:
            if self.folders:
                self._scan_folder(*self.folders.pop())
            else:
                self._follow_link(*self.links.popleft())

    def _skip(self, relpath: str, reason: str) -> None:
        self.skipped.append(Skipped(path=relpath, reason=reason))

    def _is_excluded(self, real: str) -> bool:
        return any(_is_within(real, excluded) for excluded in self.excluded)

    def _scan_folder(self, path: str, real: str, relpath: str) -> None:
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self._skip(relpath, _os_reason(exc, "cannot read folder"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child_rel = f"{relpath}/{entry.name}" if relpath else entry.name
            child = os.path.join(path, entry.name)
            try:
                entry.name.encode("utf-8")
            except UnicodeEncodeError:
                # Undecodable bytes in a name can't be stored or shown as a path.
                self._skip(_printable(child_rel), "file name is not valid UTF-8")
                continue
            try:
                if entry.is_symlink():
                    self.links.append((child, child_rel))
                    continue
                child_real = os.path.join(real, entry.name)
                if entry.is_dir(follow_symlinks=False):
                    if self._is_excluded(child_real):  # files are only reached via folders
                        continue
                    self.seen[child_real] = child_rel
                    self.folders.append((child, child_real, child_rel))
                else:
                    self._add_file(child, child_real, child_rel, entry.stat(follow_symlinks=False))
            except OSError as exc:
                self._skip(child_rel, _os_reason(exc, "cannot read file"))

    def _follow_link(self, path: str, relpath: str) -> None:
        try:
            real = os.path.realpath(path, strict=True)
            info = os.stat(real)
        except FileNotFoundError:
            self._skip(relpath, "broken link: its target does not exist")
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._skip(relpath, "symlink loop")
            else:
                self._skip(relpath, _os_reason(exc, "cannot follow link"))
            return
        if not _is_within(real, self.root_real):
            self._skip(relpath, "links outside the corpus")
            return
        if self._is_excluded(real):
            return
        if not stat.S_ISDIR(info.st_mode):
            self._add_file(path, real, relpath, info)
            return
        first = self.seen.get(real)
        if first is None:
            self.seen[real] = relpath
            self.folders.append((path, real, relpath))
        elif first == "" or relpath.startswith(first + "/"):
            self._skip(relpath, "symlink loop")
        else:
            self._skip(relpath, f"same folder as {first}")

    def _add_file(self, path: str, real: str, relpath: str, info: os.stat_result) -> None:
        suffix = suffix_of(relpath)
        if not stat.S_ISREG(info.st_mode):
            # FIFOs and devices would block or never end when read.
            self._skip(relpath, "not a regular file")
        elif suffix not in self.suffixes:
            self._skip(relpath, unsupported_reason(suffix))
        elif real in self.seen:
            self._skip(relpath, f"same file as {self.seen[real]}")
        elif info.st_size > self.max_file_bytes:
            self._skip(relpath, f"larger than the {_format_size(self.max_file_bytes)} limit")
        elif not os.access(path, os.R_OK):
            self._skip(relpath, "permission denied")
        else:
            self.seen[real] = relpath
            self.files.append(SourceFile(relpath, path, info.st_size, info.st_mtime_ns))


def _is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or under it (both absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def suffix_of(relpath: str) -> str:
    """The lower-case suffix as ``PurePath.suffix`` gives it ("" for "notes." or "x")."""
    name = relpath.rpartition("/")[2]
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[dot:].lower()
    return ""


def _os_reason(exc: OSError, what: str) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"{what}: {exc.strerror or exc}"


def _printable(relpath: str) -> str:
    return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _format_size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"
