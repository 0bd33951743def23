"""tiktoken encodings loaded from files on disk, never downloaded.

tiktoken fetches its BPE ranks over the network on first use. Excerpta instead reads
them from the `bpe-openai` package (MIT), which ships the official files, and checks
their SHA-256 before building the encoding. Must not import textual or torch.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError

if TYPE_CHECKING:
    import tiktoken

# The published hashes of the official BPE files (the ones tiktoken itself checks).
_KNOWN = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
# The split patterns and special tokens, as in tiktoken_ext/openai_public.py; kept here
# because tiktoken only exposes them through its downloading constructor.
_PATTERNS = {
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
}
_SPECIAL = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
}


def _bpe_file(name: str) -> Path:
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the tiktoken BPE files are not installed",
            hint="install the bpe-openai package (pip install bpe-openai)",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """Return the named tiktoken encoding, built offline from the packaged BPE file.

    Raises:
        ModelError: the encoding is unknown, or its file is missing or altered.
    """
    import tiktoken  # deferred: only indexing needs it

    if name not in _KNOWN:
        raise ModelError(
            f"unknown tiktoken encoding {name!r}",
            hint=f"use one of: {', '.join(sorted(_KNOWN))}",
        )
    path = _bpe_file(name)
    try:
        raw = gzip.decompress(path.read_bytes())
    except OSError as exc:
        raise ModelError(
            f"cannot read tiktoken file {path}: {exc}", hint="reinstall bpe-openai"
        ) from exc
    if hashlib.sha256(raw).hexdigest() != _KNOWN[name]:
        raise ModelError(
            f"tiktoken file {path} does not match its known SHA-256",
            hint="reinstall bpe-openai",
        )
    # Lines of "<base64 token> <rank>" (the file is hash-checked above): one split of the
    # whole file is ~1.6x faster than splitting line by line.
    fields = raw.split()
    ranks = dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))
    return tiktoken.Encoding(
        name=name,
        pat_str=_PATTERNS[name],
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL[name],
    )
