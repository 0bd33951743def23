"""The data folder the quality and speed benchmarks read (../shared/data, or --data).

A missing folder or file ends the run with one line and exit code 2, before any work.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

SQUAD = "squad-v1.1-dev/dev-v1.1.json"
SQUAD2_FIRST10 = "squad-v2.0-train-first10/train-v2.0-first10.json"
SCIFACT_CORPUS = "scifact/corpus.jsonl"
SCIFACT_QUERIES = "scifact/queries.jsonl"
SCIFACT_QRELS = "scifact/qrels/train.tsv"


def require(data: Path, *files: str) -> None:
    """Exit with ``data not found: <path>`` if ``data`` or one of ``files`` in it is missing."""
    for path in (data, *(data / name for name in files)):
        if not path.exists():
            print(f"data not found: {path} (pass DATA=... to make, or --data)", file=sys.stderr)
            raise SystemExit(2)


def read_qrels(lines: Iterable[str]) -> dict[str, dict[str, int]]:
    """BEIR relevance judgements (a header, then ``query-id, corpus-id, score`` tab-separated
    lines): each query's judged documents and their scores."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in list(lines)[1:]:
        if line.strip():
            query, doc, score = line.split("\t")
            qrels[query][doc] = int(score)
    return dict(qrels)


def judged_claims(lines: Iterable[str], qrels: dict[str, dict[str, int]]) -> dict[str, str]:
    """The queries (BEIR JSON Lines, ``_id`` and ``text``) that ``qrels`` judges, by id:
    SciFact's queries.jsonl restricted to the claims of qrels/train.tsv."""
    claims = (json.loads(line) for line in lines if line.strip())
    return {c["_id"]: c["text"] for c in claims if c["_id"] in qrels}


def scifact_train(data: Path) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """SciFact's train claims by id, and their relevant abstracts (qrels/train.tsv)."""
    qrels = read_qrels((data / SCIFACT_QRELS).read_text().splitlines())
    return judged_claims((data / SCIFACT_QUERIES).read_text().splitlines(), qrels), qrels


def as_question(claim: str) -> str:
    """A SciFact claim asked as a yes/no question ("Is it true that ...?"), for runs that
    need the reader to read it: the reader reads questions only."""
    claim = claim.strip().rstrip(".")
    return f"Is it true that {claim[:1].lower()}{claim[1:]}?"
