"""Train Excerpta's reader, export it to int8 ONNX, and print its figures.

The reader is all-MiniLM-L6-v2 (the bundled weights) with a linear start/end head over
"[CLS] question [SEP] passage [SEP]"; [CLS] (position 0) stands for "no answer". It is
trained only on SQuAD v1.1 dev's tuning split (even articles; see reader_data.py), with
a fixed seed and data order, on 2 CPU threads. Then: export (opset 17, eager
attention), dynamic int8 quantization, a check of the int8 logits against torch,
calibration of the no-answer margin on the held-out tuning articles, and the figures on
the reporting split (odd articles), written with the file's SHA-256 into reader.json.

    python -m training.train_reader [--data ../shared/data] [--skip-train]
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
from pathlib import Path
from typing import Any

import numpy as np

from .reader_data import crop, load_articles, split_articles, training_examples
from .reader_figures import measure

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "assistant" / "reader" / "model"
WORK_DIR = ROOT / "training" / ".work"
MAX_TOKENS = 256


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    began = time.monotonic()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel, AutoTokenizer

    from assistant.embedding.model_files import resolve_model_path

    torch.set_num_threads(args.threads)
    _seed(args.seed)
    base = resolve_model_path("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    articles = load_articles(args.data / "squad-v1.1-dev" / "dev-v1.1.json")
    splits = split_articles(len(articles))
    if args.articles:
        splits = {name: ids[: args.articles] for name, ids in splits.items()}
    model = Reader(AutoModel.from_pretrained(str(base), local_files_only=True))
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "reader.pt"
    if args.skip_train:
        model.load_state_dict(torch.load(checkpoint))
        steps = 0
    else:
        examples = training_examples(articles, splits["train"], args.seed)
        steps = train(model, tokenizer, examples, args)
        torch.save(model.state_dict(), checkpoint)
        if args.max_steps:
            print(f"stopped after {steps} steps ({time.monotonic() - began:.0f} s)")
            return 0
    trained = time.monotonic() - began
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    full = args.work / "reader.onnx"
    export(model, tokenizer, full)
    quantized = args.out / "reader.int8.onnx"
    quantize(full, quantized)
    shutil.copy(base / "tokenizer.json", args.out / "tokenizer.json")
    figures, margin = measure(model, quantized, tokenizer, articles, splits, args.seed)
    elapsed = time.monotonic() - began
    info = {
        "max_tokens": MAX_TOKENS,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": ["start_logits", "end_logits"],
        "tokenizer": (
            "tokenizer.json as bundled (it pads and truncates to 128): encode the pair with "
            "no padding and truncation only_second at max_tokens"
        ),
        "sha256": {quantized.name: _sha256(quantized)},
        "no_answer_margin": round(margin, 4),
        "no_answer_rule": "abstain when start[0]+end[0] - best span score > no_answer_margin",
        "trained_on": (
            "SQuAD v1.1 dev, tuning split (even articles "
            f"{splits['train']}; validation {splits['validation']}), from all-MiniLM-L6-v2"
        ),
        "seed": args.seed,
        "training": {
            "steps": steps,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "threads": args.threads,
            "crop_chars": args.crop_chars,
            "frozen": "embeddings"
            + (f" and layers 0-{args.frozen_layers - 1}" if args.frozen_layers else ""),
        },
        "figures": figures,
        "run_time_s": {"training": round(trained), "total": round(elapsed)},
    }
    (args.out / "reader.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps({"figures": figures, "no_answer_margin": round(margin, 4)}, indent=2))
    print(f"run time: training {trained / 60:.1f} min, total {elapsed / 60:.1f} min")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--work", type=Path, default=WORK_DIR, help="checkpoint, fp32 ONNX")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1.5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--crop-chars", type=int, default=1000, help="passage window to train on")
    parser.add_argument("--frozen-layers", type=int, default=0, help="lowest layers kept fixed")
    parser.add_argument("--max-steps", type=int, default=0, help="stop early (to time steps)")
    parser.add_argument("--articles", type=int, default=0, help="only the first N per split")
    parser.add_argument("--skip-train", action="store_true", help="reuse the checkpoint")
    return parser.parse_args(argv)


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


def train(model: Any, tokenizer: Any, examples: list[Any], args: argparse.Namespace) -> int:
    """Fine-tune in place; returns the number of optimizer steps taken."""
    import torch

    from .reader_eval import encode, pad

    crops = random.Random(args.seed + 3)
    examples = [crop(e, args.crop_chars, crops) for e in examples]
    encoded = encode(tokenizer, examples, MAX_TOKENS)
    keep = [
        i for i, e in enumerate(examples) if e.answer_start < 0 or encoded.starts[i] > 0
    ]  # answerable pairs whose span was cut off by truncation are dropped
    kinds: dict[str, int] = {}
    for i in keep:
        kinds[examples[i].kind] = kinds.get(examples[i].kind, 0) + 1
    print(f"training examples: {len(keep)} {kinds}", flush=True)
    lengths = [len(encoded.input_ids[i]) for i in keep]
    rng = random.Random(args.seed)
    per_epoch = -(-len(keep) // args.batch_size)
    total = args.max_steps or int(np.ceil(args.epochs * per_epoch))
    # The embeddings (half the weights) and the lowest --frozen-layers stay fixed: backward
    # stops short of them, and over a few thousand pairs they barely move anyway.
    frozen = [model.encoder.embeddings, *model.encoder.encoder.layer[: args.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup)))
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    step, began, running = 0, time.monotonic(), 0.0
    while step < total:
        for batch in batches(lengths, args.batch_size, rng):
            if step >= total:
                break
            rows = [keep[i] for i in batch]
            ids, mask = pad([encoded.input_ids[i] for i in rows])
            types, _ = pad([encoded.token_type_ids[i] for i in rows])
            start, end = model(
                torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)
            )
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
            if step % 10 == 0 or step == total:
                spent = time.monotonic() - began
                print(
                    f"step {step}/{total} loss {running / 10:.3f} "
                    f"{spent / step:.2f} s/step, {spent / 60:.1f} min",
                    flush=True,
                )
                running = 0.0
    return step


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
