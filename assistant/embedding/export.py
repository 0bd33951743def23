"""The model's transformer exported to ONNX once per machine, and copied into each index.

Importing torch and sentence-transformers costs 7-11 s on a small machine, more than a
whole question should take, and torch's encoder is no faster than onnxruntime's. The
first time a model is used on a machine, its transformer is exported to ONNX (with
plain "eager" attention: onnxruntime runs that graph ~1.4x faster than the exported
fused-attention one), checked against the sentence-transformers vectors, quantized to
int8, and kept in a per-user cache (``$EXCERPTA_CACHE_DIR``, else
``$XDG_CACHE_HOME/excerpta``, else ``~/.cache/excerpta``). Each index gets a copy in
``index/encoder-<key>/`` so it stays self-contained. Documents and answer sentences are
encoded with the int8 model, questions with the full-precision one; both with the
model's fast tokenizer and the same pooling and normalization. If the export or a check
fails, sentence-transformers serves instead. The only module that imports torch (lazily,
to export); must not import textual.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .onnx_runtime import EXPORT_ERRORS, FULL, INFO, QUANTIZED, OnnxEmbedder
from .sentence_transformer import SentenceTransformerEmbedder

_CHECK_TEXTS = [
    "When was Castillo removed from office?",
    "The protesters are demanding new elections and a constituent assembly.",
    "Mount Kilimanjaro is the highest mountain in Africa, 5,895 metres above sea level.",
    "x",
]
_MIN_COSINE = 0.999  # the export must reproduce the model's vectors this closely
RECIPE = 2
"""Version of the export recipe; an export made by another version is redone."""


def encoder_dir(index_dir: Path, model: str) -> Path:
    """Where the ONNX encoder of ``model`` lives in an index folder."""
    key = hashlib.sha256(model.encode()).hexdigest()[:12]
    return index_dir / f"encoder-{key}"


def has_encoder(index_dir: Path, model: str) -> bool:
    """The index holds a checked export (of any recipe: all encode correctly)."""
    return (encoder_dir(index_dir, model) / INFO).is_file()


def _is_current(folder: Path, recipe: object = RECIPE) -> bool:
    """A complete export made by ``recipe`` (int8 copy included)."""
    try:
        info = json.loads((folder / INFO).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(info, dict)
        and info.get("recipe") == recipe
        and (folder / FULL).is_file()
        and (folder / QUANTIZED).is_file()
    )


def cache_dir() -> Path:
    """The per-user cache of exported encoders."""
    configured = os.environ.get("EXCERPTA_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "excerpta"


def cached_encoder_dir(embedder: SentenceTransformerEmbedder) -> Path:
    """The cache entry for this model: keyed by its name, folder and weight files."""
    facts = [str(RECIPE), embedder.name, str(embedder.path)]
    for path in sorted(embedder.path.glob("*")):
        if path.is_file():
            stat = path.stat()
            facts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    key = hashlib.sha256("\n".join(facts).encode()).hexdigest()[:16]
    return cache_dir() / "encoders" / key


_MIN_QUANTIZED_COSINE = 0.95  # measured 0.994 on sentences, 0.972 on "x"


def ensure_encoder(index_dir: Path, embedder: SentenceTransformerEmbedder) -> Path | None:
    """The index's checked ONNX encoder folder, exporting the model only if no cache has it.

    Returns None when the model can't be exported (then sentence-transformers serves).
    Loads the model (and torch) only to export.
    """
    return ensure_export(
        encoder_dir(index_dir, embedder.name),
        cached_encoder_dir(embedder),
        lambda work: _export_checked(embedder, work),
        RECIPE,
    )


def ensure_export(
    target: Path, cached: Path, make: Callable[[Path], bool], recipe: object
) -> Path | None:
    """``target`` holding a checked export of ``recipe``: copied from ``cached``, made
    there first by ``make`` (which writes a checked full-precision export into the
    folder it is given, or returns False) and quantized, if it isn't there yet.

    Returns None when no export can be had (then the model's own engine serves).
    """
    if _is_current(target, recipe):
        return target
    try:
        import onnxruntime  # noqa: F401  (without it an export would be useless)
    except ImportError:
        return None
    if not _is_current(cached, recipe):
        try:
            _build_into(cached, make, recipe)
        except OSError:
            cached = target  # no writable cache: export straight into the index
            try:
                _build_into(cached, make, recipe)
            except OSError:
                return None
    if cached != target and _is_current(cached, recipe):
        _install(cached, target)
    return target if _is_current(target, recipe) else None


def _build_into(folder: Path, make: Callable[[Path], bool], recipe: object) -> None:
    """Export, check and quantize into ``folder``, which appears only when complete."""
    if _is_current(folder, recipe):
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".encoder-", dir=folder.parent))
    try:
        if not make(work) or not _quantize(work):
            return
        if _is_current(folder, recipe):
            return  # another process finished the same export meanwhile: keep its copy
        shutil.rmtree(folder, ignore_errors=True)  # an export of an older recipe
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _install(source: Path, target: Path) -> None:
    """Copy a cached export into the index: hard links when on the same file system."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".encoder-", dir=target.parent))
    except OSError:
        return  # the index keeps working with sentence-transformers
    try:
        for path in source.iterdir():
            try:
                os.link(path, work / path.name)
            except OSError:
                shutil.copy2(path, work / path.name)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(work, target)
    except OSError:
        pass  # the index keeps working with sentence-transformers
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export_checked(embedder: SentenceTransformerEmbedder, folder: Path) -> bool:
    try:
        _export(embedder, folder)
        reference = embedder.embed_queries(_CHECK_TEXTS)
        candidate = OnnxEmbedder(folder).embed_queries(_CHECK_TEXTS)
        agreement = float(np.min(np.sum(reference * candidate, axis=1)))
        if agreement < _MIN_COSINE:
            return False
        info = json.loads((folder / INFO).read_text())
        info["checked_cosine"] = round(agreement, 6)
        (folder / INFO).write_text(json.dumps(info, indent=2))
        return True
    except EXPORT_ERRORS:
        # An export that fails (an unusual architecture, no `onnx` package) only costs
        # speed: sentence-transformers encodes instead.
        return False


def _quantize(folder: Path) -> bool:
    """Write the int8 copy: ~1.8x faster, cosine ~0.994 to the full model."""
    # The quantizer logs advice to the root logger, and importing it configures that
    # logger (basicConfig): both would print under the CLI and the TUI.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logging.disable(logging.WARNING)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        work = folder / f".{QUANTIZED}.tmp"
        quantize_dynamic(
            str(folder / FULL),
            str(work),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            # onnxruntime's own operators (multilingual-e5's attention) escape shape
            # inference: their outputs are float.
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
        full = OnnxEmbedder(folder).embed_queries(_CHECK_TEXTS)
        quick = OnnxEmbedder(folder, model_file=work.name).embed_queries(_CHECK_TEXTS)
        if float(np.min(np.sum(full * quick, axis=1))) < _MIN_QUANTIZED_COSINE:
            return False
        os.replace(work, folder / QUANTIZED)
        return True
    except EXPORT_ERRORS:
        return False
    finally:
        logging.disable(logging.NOTSET)
        root.handlers[:] = handlers
        root.setLevel(level)


def _export(embedder: SentenceTransformerEmbedder, folder: Path) -> None:
    import torch  # deferred: only here, where the model is loaded anyway

    model = embedder.loaded_model()
    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(_CHECK_TEXTS[:2], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    # Traced with plain attention: the fused scaled-dot-product export runs slower in
    # onnxruntime (14.2 s against 10.4 s for 553 chunks here). Restored afterwards.
    attention = getattr(transformer.config, "_attn_implementation", None)
    _set_attention(transformer, "eager")
    # The exporter explains its own internals in warnings; users can't act on them.
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(transformer),
                tuple(sample[n] for n in names),
                str(folder / FULL),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
    finally:
        if attention:
            _set_attention(transformer, attention)
    shutil.copy(embedder.path / "tokenizer.json", folder / "tokenizer.json")
    pooling = _pooling_mode(embedder.path)
    info = {
        "model": embedder.name,
        "recipe": RECIPE,
        "inputs": names,
        "pooling": pooling,
        "max_tokens": embedder.max_tokens,
        "dimension": embedder.dimension(),
    }
    (folder / INFO).write_text(json.dumps(info, indent=2))


def _set_attention(transformer: Any, implementation: str) -> None:
    setter = getattr(transformer, "set_attn_implementation", None)
    if setter is None:  # older transformers: export whatever the model uses
        return
    try:
        setter(implementation)
    except (ValueError, ImportError):
        pass  # an architecture without it: the export stays correct, only slower


def _pooling_mode(model_dir: Path) -> str:
    try:
        config = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config.get("pooling_mode_max_tokens"):
        return "max"
    return "mean"
