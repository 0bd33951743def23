"""Decoding bytes into text: plain-text loading and the helpers the other loaders share.

Turns the bytes of a text file of unknown encoding into ``str`` without crashing, and
refuses binary data. Line breaks are normalised to ``\\n`` and nothing else is changed,
so line numbers still match the file.

Must not import textual, torch or click.
"""

from __future__ import annotations

import codecs
import re
import struct
import zlib

from assistant.errors import LoaderError

# Third-party parsers fed hostile or broken files fail in ways they don't document:
# a truncated zip gives zlib.error, a malformed object table gives KeyError or
# IndexError, a cyclic structure gives RecursionError. One bad file must only be
# skipped, never stop indexing, so callers catch this tuple around a parser call.
# It deliberately leaves out MemoryError, KeyboardInterrupt and SystemExit.
PARSER_ERRORS: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    EOFError,
    LookupError,
    OSError,
    RuntimeError,  # includes RecursionError and NotImplementedError
    TypeError,
    ValueError,  # includes UnicodeError
    struct.error,
    zlib.error,
)

# Checked longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# How much of the start of a file the binary and UTF-16 sniffing look at.
_SNIFF_BYTES = 8192
# Control characters that never occur in text (tab, newlines, form feed, vertical
# tab and escape do, so they are not counted).
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# More than this share of control characters means binary data; a few stray NULs
# in a long text don't.
_BINARY_SHARE = 0.05


def decode_text(data: bytes, *, declared: str | None = None) -> str:
    """Decode the bytes of a text file, whatever its encoding.

    Tries, in order: a byte-order mark, UTF-16 without a BOM, the ``declared``
    encoding (an HTML meta charset), strict UTF-8, charset-normalizer's guess and
    finally cp1252 or Latin-1, which cannot fail. ``\\r\\n`` and lone ``\\r`` become
    ``\\n`` and NUL characters are dropped; everything else is kept as it is.

    Raises:
        LoaderError: the data looks binary rather than text.
    """
    text = _decode(data, declared)
    if _looks_binary(text[:_SNIFF_BYTES]):
        raise LoaderError("binary data, not text", hint="only text files can be indexed")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _decode(data: bytes, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    utf16 = _sniff_utf16(data[:_SNIFF_BYTES])
    if utf16:
        return data.decode(utf16, errors="replace")
    # Cheap check before the expensive guessing: control bytes mean the same in every
    # ASCII-compatible encoding, so binary data can be refused without decoding it.
    if _looks_binary(data[:_SNIFF_BYTES].decode("latin-1")):
        raise LoaderError("binary data, not text", hint="only text files can be indexed")
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration is wrong; guess as if there were none
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    guessed = _guess(data)
    if guessed is not None:
        return guessed
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def _guess(data: bytes) -> str | None:
    """Return charset-normalizer's decoding, preferring cp1252 when it fits as well.

    On short Western text charset-normalizer often ranks cp1250 or an old DOS code
    page first ("très" becomes "trčs"), while cp1252 fits equally well and is far
    more common, so a tie goes to cp1252.
    """
    # Imported here because it costs more to import than most files cost to decode.
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if "cp1252" in match.could_be_from_charset:
            if match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01:
                try:
                    return data.decode("cp1252")
                except UnicodeDecodeError:
                    break
            break
    return str(best)


def _sniff_utf16(sample: bytes) -> str | None:
    """Recognise UTF-16 without a BOM: mostly-ASCII text has a NUL in every pair."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    nul_even = sample[0 : pairs * 2 : 2].count(0)
    nul_odd = sample[1 : pairs * 2 : 2].count(0)
    if nul_odd > 0.3 * pairs and nul_even < 0.05 * pairs:
        return "utf-16-le"
    if nul_even > 0.3 * pairs and nul_odd < 0.05 * pairs:
        return "utf-16-be"
    return None


def _looks_binary(sample: str) -> bool:
    if not sample:
        return False
    controls = len(_CONTROL_RE.findall(sample))
    # A couple of stray control characters in a tiny file are noise, not binary data.
    return controls > 2 and controls > _BINARY_SHARE * len(sample)


def describe(exc: BaseException) -> str:
    """An exception's message as a short single line, for a skip reason."""
    detail = " ".join(str(exc).split())
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return detail or type(exc).__name__


def load_text(data: bytes) -> str:
    """Read a plain-text or Markdown file verbatim, so lines match the file."""
    return decode_text(data)
