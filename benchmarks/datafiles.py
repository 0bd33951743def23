"""The data folder the quality and speed benchmarks read (../shared/data, or --data).

A missing folder or file ends the run with one line and exit code 2, before any work.
"""

from __future__ import annotations

import sys
from pathlib import Path

SQUAD = "squad-v1.1-dev/dev-v1.1.json"
SCIFACT_CORPUS = "scifact/corpus.jsonl"
SCIFACT_QUERIES = "scifact/queries.jsonl"
SCIFACT_QRELS = "scifact/qrels/train.tsv"


def require(data: Path, *files: str) -> None:
    """Exit with ``data not found: <path>`` if ``data`` or one of ``files`` in it is missing."""
    for path in (data, *(data / name for name in files)):
        if not path.exists():
            print(f"data not found: {path} (pass DATA=... to make, or --data)", file=sys.stderr)
            raise SystemExit(2)
