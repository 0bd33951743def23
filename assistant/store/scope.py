"""Scoped search: the chunks that globs over corpus-relative paths select.

``select_scope`` turns globs into a ``Selection`` of chunk ids, once per index and scope;
searches take it as ``allowed`` and filter before their top-k (FAISS through an
IDSelector in ``SearchParameters``, BM25 through a row mask), so a scoped question still
gets k passages. A selection caches what each search derives from it (the FAISS
parameters, the BM25 mask), so repeated questions in one scope pay for that once.

Globs: ``*`` and ``?`` stay inside one folder, ``**`` spans folders (``notes/**``,
``**/draft-*.md``), ``[abc]`` is a character class. A glob without ``/`` matches a
file's name in any folder (``*.pdf``); one with ``/`` is anchored at the corpus root; a
glob ending in ``/`` means everything under that folder. Matching is case-sensitive, as
paths are, and takes time linear in the path whatever the glob; a glob is at most
``MAX_GLOB_CHARS`` long.

Must not import textual or torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from ..errors import UsageError

T = TypeVar("T")


@dataclass(eq=False)
class Selection:
    """The chunks of the files some globs match.

    ``chunk_ids`` is sorted; ``paths`` are the matched files; ``unmatched`` names the
    globs that match no indexed file (a face warns about each).
    """

    globs: tuple[str, ...]
    chunk_ids: np.ndarray
    paths: tuple[str, ...]
    unmatched: tuple[str, ...]
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """What a search derives from the selection (a mask, a FAISS selector), made once."""
        if key not in self._derived:
            self._derived[key] = make()
        value: T = self._derived[key]
        return value


MAX_GLOB_CHARS = 1000
"""Longer globs are a usage error: no path needs one, and each costs its length to match."""
_ANY_SEGMENTS = "(?:[^/]*/)*"  # zero or more whole folders, each with its "/"


def check_globs(globs: Iterable[str]) -> tuple[str, ...]:
    """``globs`` as given, once each is known to compile.

    Raises:
        UsageError: a glob over ``MAX_GLOB_CHARS`` characters, or one that is malformed
            (a character class such as ``[z-a]``).
    """
    checked = tuple(globs)
    for glob in checked:
        glob_pattern(glob)
    return checked


@lru_cache(maxsize=256)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """The regular expression a glob stands for, matched against ``path + "/"``.

    Matching takes time linear in the path for any glob (no backtracking blow-up from
    ``**/**/**`` or forty ``*``): a run of ``*`` is one ``*``, repeated ``**/`` are one,
    and each piece between wildcards is matched at its first place, in an atomic group
    (Python 3.11's ``(?>...)``), which is where any match of the glob can put it: the
    pieces are of fixed length, so the first place leaves the most room for the rest.

    Raises:
        UsageError: the glob is too long or malformed (see ``check_globs``).
    """
    if len(glob) > MAX_GLOB_CHARS:
        raise UsageError(
            f"a glob of {len(glob):,} characters is over the limit of {MAX_GLOB_CHARS:,}",
            hint="scope with a shorter glob, such as notes/** or *.pdf",
        )
    segments = _segments(glob)
    runs: list[list[str]] = [[]]  # folder patterns between globstars
    for segment in segments:
        if segment == "**":
            if runs[-1] or len(runs) == 1:
                runs.append([])
        else:
            runs[-1].append(_segment_regex(segment))
    body = "".join(runs[0])
    for n, run in enumerate(runs[1:], start=1):
        if n == len(runs) - 1 and not run:
            body += "[^/].*"  # a glob ending in ** : anything under the folder
        elif n == len(runs) - 1:
            body += _ANY_SEGMENTS + "".join(run)
        else:
            body += f"(?>{_ANY_SEGMENTS}?{''.join(run)})"  # lazy: the first place
    try:
        return re.compile(body, re.DOTALL)
    except re.error as exc:
        raise UsageError(f"bad glob {glob!r}: {exc}", hint="check its [...] classes") from exc


def _segments(glob: str) -> list[str]:
    """The glob's folder patterns, "**" for a globstar: anchored at the root when it
    holds a "/", else under any folder; "dir/" is everything under dir."""
    glob = glob.strip()
    if glob in ("", "/"):
        return ["**"]
    glob = glob.lstrip("/")
    if glob.startswith("./"):
        glob = glob[2:]
    if glob.endswith("/"):
        glob += "**"
    segments = [s for s in glob.split("/") if s]
    return segments if "/" in glob else ["**", *segments]


def _segment_regex(segment: str) -> str:
    """One folder or file name pattern, with its "/": the pieces between its ``*``s
    found each at its first place (atomic), the last one against the "/"."""
    pieces = [_piece_regex(piece) for piece in segment.split("*")]
    if len(pieces) == 1:
        return pieces[0] + "/"
    middle = "".join(f"(?>[^/]*?{piece})" for piece in pieces[1:-1] if piece)
    return f"{pieces[0]}{middle}[^/]*{pieces[-1]}/"


def _piece_regex(piece: str) -> str:
    """Literal characters, ``?`` and ``[...]`` classes: each matches one character."""
    out: list[str] = []
    i = 0
    while i < len(piece):
        c = piece[i]
        if c == "?":
            out.append("[^/]")
        elif c == "[" and (end := piece.find("]", i + 2)) > 0:
            body = piece[i + 1 : end]
            negated = body.startswith("!")
            body = re.escape(body[1:] if negated else body).replace("\\-", "-")
            out.append(f"[^/{body}]" if negated else f"[{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def matching(paths: Iterable[str], globs: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    """The paths any glob matches, and the globs that match none of them."""
    patterns = [(glob, glob_pattern(glob)) for glob in globs]
    matched: list[str] = []
    used: set[str] = set()
    for path in paths:
        hits = [glob for glob, pattern in patterns if pattern.fullmatch(path + "/")]
        if hits:
            matched.append(path)
            used.update(hits)
    return matched, tuple(glob for glob in globs if glob not in used)


def select_scope(
    paths: Iterable[str], chunk_ids_of: Callable[[list[str]], np.ndarray], globs: Sequence[str]
) -> Selection:
    """The selection of ``globs`` among ``paths`` (the indexed files), with their chunk ids
    from ``chunk_ids_of`` (the chunk table's)."""
    matched, unmatched = matching(paths, globs)
    ids = np.sort(np.asarray(chunk_ids_of(matched), dtype=np.int64)) if matched else _NONE
    return Selection(tuple(globs), ids, tuple(matched), unmatched)


def exact_top_k(
    queries: np.ndarray, stored: np.ndarray, chunk_ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the ``k`` best of ``stored`` (the vectors of ``chunk_ids``) for
    each query, padded with -1 ids as FAISS pads."""
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if len(chunk_ids) == 0:
        return scores, ids
    products = queries @ stored.T
    top = min(k, len(chunk_ids))
    best = np.argsort(-products, axis=1, kind="stable")[:, :top]
    scores[:, :top] = np.take_along_axis(products, best, axis=1)
    ids[:, :top] = chunk_ids[best]
    return scores, ids


def id_bitmap(chunk_ids: np.ndarray) -> np.ndarray:
    """A bit per id up to the largest (FAISS's IDSelectorBitmap: 125 kB a million ids),
    cheaper for a search to test than a hash set of the ids."""
    mask = np.zeros(int(chunk_ids[-1]) + 1 if len(chunk_ids) else 0, dtype=bool)
    mask[chunk_ids] = True
    bits: np.ndarray = np.packbits(mask, bitorder="little")
    return bits


_NONE = np.empty(0, dtype=np.int64)
