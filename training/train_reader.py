"""Train Excerpta's reader on SQuAD v1.1 train, export it to int8 ONNX, and measure it.

The reader is all-MiniLM-L6-v2 (the bundled weights) with a linear start/end head over
"[CLS] question [SEP] passage [SEP]"; [CLS] (position 0) stands for "no answer". It
learns from SQuAD v1.1 train only (reader_data.split_train: the 10 articles that open
SQuAD 2.0 train and every 40th other article are held out), with a fixed seed and data
order, on 2 CPU threads, in passages cropped to ~``--crop-chars`` around the answer and
at most ``--train-tokens`` word pieces. It checkpoints every ``--checkpoint-every`` steps
and resumes from the last checkpoint. Then: export (opset 17, eager attention), dynamic
int8 quantization, calibration of the no-answer margin on the held-out articles, and
reader.json with the figures and the provenance (data SHA-256s, package versions, seed,
steps, run time). Everything goes to ``--work`` (training/.work/); shipping the result
into the package is a separate step: ``python -m training.ship_reader``.

    python -m training.train_reader [--data ../shared/data] [--questions N] [--skip-train]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .reader_data import (
    CALIBRATION_FILE,
    TRAIN_FILE,
    crop,
    load_articles,
    split_train,
    training_examples,
)
from .reader_figures import measure

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / "training" / ".work"
MAX_TOKENS = 256
"""The window the runtime reads (reader.json's max_tokens)."""
BASE_MODEL = "all-MiniLM-L6-v2"
PACKAGES = ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    began = time.monotonic()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel, AutoTokenizer

    from assistant.embedding.model_files import resolve_model_path

    torch.set_num_threads(args.threads)
    _seed(args.seed)
    base = resolve_model_path(BASE_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    data_files = {"train": args.data / TRAIN_FILE, "calibration": args.data / CALIBRATION_FILE}
    articles = load_articles(data_files["train"])
    calibration = load_articles(data_files["calibration"])
    splits = split_train(articles, {a["title"] for a in calibration})
    if args.articles:
        splits = {name: ids[: args.articles] for name, ids in splits.items()}
    args.work.mkdir(parents=True, exist_ok=True)
    examples = training_examples(articles, splits["train"], args.seed, args.questions)
    _write_manifest(args.work / "examples.jsonl", examples, articles)
    model = Reader(AutoModel.from_pretrained(str(base), local_files_only=True))
    final = args.work / "reader.pt"
    if args.skip_train:
        state = torch.load(final)
        model.load_state_dict(state["model"])
        steps, trained = state["step"], state["seconds"]
    else:
        steps, trained = train(model, tokenizer, examples, args)
        if args.max_steps:
            print(f"stopped after {steps} steps ({time.monotonic() - began:.0f} s)")
            return 0
        torch.save({"model": model.state_dict(), "step": steps, "seconds": trained}, final)
    model.eval()
    out = args.work / "reader"
    out.mkdir(parents=True, exist_ok=True)
    full = args.work / "reader.onnx"
    export(model, tokenizer, full)
    quantized = out / "reader.int8.onnx"
    quantize(full, quantized)
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
    info: dict[str, Any] = {
        "max_tokens": MAX_TOKENS,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": ["start_logits", "end_logits"],
        "tokenizer": (
            "tokenizer.json as bundled (it pads and truncates to 128): encode the pair with "
            "no padding and truncation only_second at max_tokens"
        ),
        "sha256": {name: _sha256(out / name) for name in ("reader.int8.onnx", "tokenizer.json")},
        "no_answer_margin": 0.0,
        "no_answer_rule": "abstain when start[0]+end[0] - best span score > no_answer_margin",
        "base_model": BASE_MODEL,
        "data": {
            name: {"file": str(path.relative_to(args.data)), "sha256": _sha256(path)}
            for name, path in data_files.items()
        },
        "splits": {
            "train_articles": len(splits["train"]),
            "validation_articles": len(splits["validation"]),
            "calibration_articles": len(splits["calibration"]),
            "dev_titled_articles_dropped": len(splits["dev_titled"]),
        },
        "examples_built": _kinds(examples),
        "packages": {name: _version(name) for name in PACKAGES},
        "seed": args.seed,
        "training": {
            "questions": args.questions or "all",
            "steps": steps,
            "stopped_at_step": args.stop_at or None,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "threads": args.threads,
            "crop_chars": args.crop_chars,
            "train_tokens": args.train_tokens,
            "frozen": "embeddings"
            + (f" and layers 0-{args.frozen_layers - 1}" if args.frozen_layers else ""),
        },
    }
    # A provisional reader.json lets the runtime reader (its windows, its span decoder)
    # read the held-out questions; then the calibrated margin and the figures go in.
    (out / "reader.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    figures, margin = measure(model, out, tokenizer, articles, calibration, splits, args.seed)
    info["no_answer_margin"] = round(margin, 4)
    info["figures"] = figures
    info["run_time_s"] = {"training": round(trained), "total": round(time.monotonic() - began)}
    (out / "reader.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({"figures": figures, "no_answer_margin": round(margin, 4)}, indent=2))
    print(f"wrote {out}; ship it with: python -m training.ship_reader")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=WORK_DIR, help="checkpoints and the model")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--questions", type=int, default=40000, help="answerable (0: all)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--crop-chars", type=int, default=500, help="passage window (the runtime reads ~480)"
    )
    parser.add_argument("--train-tokens", type=int, default=160, help="longest training pair")
    parser.add_argument("--frozen-layers", type=int, default=2, help="lowest layers kept fixed")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps")
    parser.add_argument("--max-steps", type=int, default=0, help="stop early (to time steps)")
    parser.add_argument(
        "--stop-at", type=int, default=0, help="end at this step; the schedule spans the pass"
    )
    parser.add_argument("--articles", type=int, default=0, help="only the first N per split")
    parser.add_argument("--skip-train", action="store_true", help="reuse work/reader.pt")
    return parser.parse_args(argv)


def _write_manifest(path: Path, examples: list[Any], articles: list[dict[str, Any]]) -> None:
    """Which question and article each training example came from (for leak checks)."""
    with path.open("w", encoding="utf-8") as handle:
        for e in examples:
            row = {"qid": e.qid, "title": articles[e.article]["title"], "kind": e.kind}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _kinds(examples: list[Any]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    return kinds


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def _reader_class() -> Any:
    import torch

    class _Reader(torch.nn.Module):
        """A BERT encoder with a linear start/end head; padding scores -10000."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
            start, end = self.head(hidden).unbind(-1)
            padding = attention_mask == 0
            return start.masked_fill(padding, -1e4), end.masked_fill(padding, -1e4)

    return _Reader


def Reader(encoder: Any) -> Any:  # noqa: N802  (reads as the class it builds)
    """The reader module around a loaded BertModel (torch imported only when called)."""
    return _reader_class()(encoder)


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within pools of 50, shuffle."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = size * 50
    result: list[list[int]] = []
    for first in range(0, len(order), pool):
        chunk = sorted(order[first : first + pool], key=lambda i: lengths[i])
        result.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(result)
    return result


def train(
    model: Any, tokenizer: Any, examples: list[Any], args: argparse.Namespace
) -> tuple[int, float]:
    """Fine-tune in place, resuming from work/checkpoint.pt when one is there; returns
    the optimizer steps taken and the seconds spent training (across resumes)."""
    import torch

    from .reader_eval import encode, pad

    crops = random.Random(args.seed + 3)
    examples = [crop(e, args.crop_chars, crops) for e in examples]
    encoded = encode(tokenizer, examples, args.train_tokens)
    keep = [
        i for i, e in enumerate(examples) if e.answer_start < 0 or encoded.starts[i] > 0
    ]  # answerable pairs whose span was cut off by truncation are dropped
    print(f"training examples: {len(keep)} {_kinds([examples[i] for i in keep])}", flush=True)
    lengths = [len(encoded.input_ids[i]) for i in keep]
    rng = random.Random(args.seed)
    per_epoch = -(-len(keep) // args.batch_size)
    total = args.max_steps or int(np.ceil(args.epochs * per_epoch))
    plan: list[list[int]] = []  # every step's batch, fixed by the seed (so a run resumes)
    while len(plan) < total:
        plan.extend(batches(lengths, args.batch_size, rng))
    # The embeddings (half the weights) and the lowest --frozen-layers stay fixed: backward
    # stops short of them.
    frozen = [model.encoder.embeddings, *model.encoder.encoder.layer[: args.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    checkpoint = args.work / "checkpoint.pt"
    step, spent_before = 0, 0.0
    if checkpoint.is_file():
        state = torch.load(checkpoint)
        if state["total"] == total:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            step, spent_before = state["step"], state["seconds"]
            print(f"resuming at step {step}/{total}", flush=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    began, running = time.monotonic(), 0.0
    first = step
    last = min(total, args.stop_at or total)
    while step < last:
        rows = [keep[i] for i in plan[step]]
        ids, mask = pad([encoded.input_ids[i] for i in rows])
        types, _ = pad([encoded.token_type_ids[i] for i in rows])
        start, end = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
        gold_start = torch.tensor([encoded.starts[i] for i in rows])
        gold_end = torch.tensor([encoded.ends[i] for i in rows])
        loss = (loss_fn(start, gold_start) + loss_fn(end, gold_end)) / 2
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        running += float(loss.detach())
        spent = time.monotonic() - began
        if step % 10 == 0 or step == last:
            print(
                f"step {step}/{total} loss {running / 10:.3f} "
                f"{spent / (step - first):.2f} s/step, {(spent_before + spent) / 60:.1f} min",
                flush=True,
            )
            running = 0.0
        if step % args.checkpoint_every == 0 or step == last:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "step": step,
                "total": total,
                "seconds": spent_before + spent,
            }
            torch.save(state, checkpoint.with_suffix(".tmp"))
            checkpoint.with_suffix(".tmp").replace(checkpoint)
    return step, spent_before + time.monotonic() - began


def export(model: Any, tokenizer: Any, path: Path) -> None:
    """The fp32 ONNX graph: int64 [batch, seq] inputs, float32 [batch, seq] logits."""
    import torch

    sample = tokenizer(["Who?"], ["Someone did."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "start_logits", "end_logits"]}
    # Plain attention: onnxruntime runs it faster than the exported fused attention.
    model.encoder.set_attn_implementation("eager")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(path),
            input_names=names,
            output_names=["start_logits", "end_logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def quantize(full: Path, quantized: Path) -> None:
    """Dynamic int8: MatMul weights per channel, and the embedding table (Gather)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # the quantizer's advice is not for this script
    try:
        quantize_dynamic(
            str(full),
            str(quantized),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gather"],
        )
    finally:
        logging.disable(logging.NOTSET)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


if __name__ == "__main__":
    sys.exit(main())
