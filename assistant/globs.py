"""Globs over corpus-relative paths: their syntax, checked, and matched in linear time.

``*`` and ``?`` stay inside one folder, ``**`` spans folders (``notes/**``,
``**/draft-*.md``), ``[abc]`` / ``[!abc]`` are character classes. A glob without ``/``
matches a file's name in any folder (``*.pdf``); one with ``/`` is anchored at the corpus
root; a glob ending in ``/`` means everything under that folder. Matching is
case-sensitive, as paths are. The settings check globs when they are loaded, and
store/scope.py selects the chunks of the files they match. Must not import textual,
click or torch.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from functools import lru_cache

from .errors import UsageError

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
        with warnings.catch_warnings():  # "[a--z]": re warns of set syntax to come
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(body, re.DOTALL)
    except re.error as exc:  # its message may quote control characters: not shown
        raise UsageError(
            f"bad glob {glob!r}: a malformed [...] class", hint="for example [a-z] or [!0-9]"
        ) from exc


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
