"""Map another model's cosines onto the default model's scale (assistant/abstention.py).

    python -m training.calibrate_cosines [--model multilingual-e5-small] [--data ../shared/data]

The answer scorer weighs a sentence's cosine to the question against its share of the
question's words, and the abstention model reads cosines as evidence; both were tuned
with all-MiniLM-L6-v2, whose question-sentence cosines spread widely (mean ~0.43, sd
~0.20). multilingual-e5-small's sit near 0.8 with a quarter of that spread, so its
cosines would hardly tell sentences apart. This fits the affine map that gives the
other model's cosines the default model's mean and standard deviation, over the same
pairs: each sampled question of SQuAD v1.1 dev's tuning split (even articles; never the
odd ones) against every sentence of its paragraph. Writes the factor and shift, the
correlation between the two models' cosines and the data's SHA-256 to
benchmarks/results/cosine_scale-<model>.json; abstention.SCALES must equal it (a test
checks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from assistant.embedding import Encoders, open_encoders
from assistant.text.sentences import sentence_spans

ROOT = Path(__file__).resolve().parent.parent
DEV = "squad-v1.1-dev/dev-v1.1.json"
QUESTIONS = 300
SEED = 27


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MULTILINGUAL_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "training" / ".work" / "calibrate")
    args = parser.parse_args()
    path = args.data / DEV
    if not path.exists():
        print(f"data not found: {path} (pass --data)", file=sys.stderr)
        raise SystemExit(2)
    pairs = sample_pairs(json.loads(path.read_text(encoding="utf-8"))["data"])
    default = cosines(open_encoders(DEFAULT_MODEL, args.work), pairs)
    other = cosines(open_encoders(args.model, args.work), pairs)
    factor = float(default.std() / other.std())
    shift = float(default.mean() - factor * other.mean())
    record = {
        "script": "training/calibrate_cosines.py",
        "model": args.model,
        "factor": round(factor, 3),
        "shift": round(shift, 3),
        "pairs": len(default),
        "questions": len(pairs),
        "default_mean_sd": [round(float(default.mean()), 4), round(float(default.std()), 4)],
        "model_mean_sd": [round(float(other.mean()), 4), round(float(other.std()), 4)],
        "correlation": round(float(np.corrcoef(default, other)[0, 1]), 4),
        "seed": SEED,
        "data_sha256": {DEV: hashlib.sha256(path.read_bytes()).hexdigest()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = ROOT / "benchmarks" / "results" / f"cosine_scale-{args.model}.json"
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


def sample_pairs(articles: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """``QUESTIONS`` (question, its paragraph's sentences) of the even articles."""
    found = []
    for article in articles[::2]:  # the tuning split
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentences = [context[a:b] for a, b in sentence_spans(context)]
            found += [(qa["question"], sentences) for qa in paragraph["qas"][:1]]
    return random.Random(SEED).sample(found, QUESTIONS)


def cosines(encoders: Encoders, pairs: list[tuple[str, list[str]]]) -> np.ndarray:
    """Every question's cosine to each sentence of its paragraph, as answering embeds
    them (questions as queries, sentences as documents)."""
    vectors = encoders.queries.embed_queries([question for question, _ in pairs])
    found: list[float] = []
    for vector, (_, sentences) in zip(vectors, pairs, strict=True):
        found += (encoders.passages.embed_documents(sentences) @ vector).tolist()
    return np.asarray(found)


if __name__ == "__main__":
    main()
