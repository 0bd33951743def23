"""The JSON record each benchmark run writes under benchmarks/results/, beside what it prints.

A record holds the figures and what they depend on: the date, the commit (and whether the
work tree had changes), the machine (cores, CPU, load average at the start and end), the
reader (its folder and the SHA-256 of its reader.json) and the SHA-256 of each data file
read. One file per run: ``quality.json`` for a whole run, a longer name for part of one
(``quality-quick.json``, ``quality-latency.json``), so a partial run never overwrites a
whole one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def record_path(bench: str, ran: Sequence[str], every: Sequence[str], *, quick: bool) -> Path:
    """Where a run's record goes: ``results/<bench>.json`` for a whole run, with
    ``-quick`` and the sections that ran in the name when it was not one."""
    parts = [bench]
    if quick:
        parts.append("quick")
    if list(ran) != list(every):
        parts.extend(ran)
    return RESULTS / ("-".join(parts) + ".json")


def percentiles(milliseconds: Sequence[float]) -> dict[str, float | int]:
    """p50, p95, mean and max of per-question times (numpy's linear percentile)."""
    if not milliseconds:
        raise ValueError("no times to summarize")
    values = np.asarray(milliseconds, dtype=float)
    return {
        "questions": len(values),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "mean_ms": round(float(values.mean()), 1),
        "max_ms": round(float(values.max()), 1),
    }


def machine() -> dict[str, Any]:
    """The facts about this machine that the figures depend on."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model() or platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else ""


def commit() -> dict[str, Any]:
    """The commit checked out, and whether tracked files differ from it."""

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {"sha": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "-uno"))}


def reader() -> dict[str, Any]:
    """The reader Assistant opens (``EXCERPTA_READER_DIR`` or the packaged one)."""
    from assistant.reader import reader_folder

    folder = reader_folder()
    info = folder / "reader.json"
    if not info.is_file():
        return {"folder": str(folder), "reader_json_sha256": None}
    facts = json.loads(info.read_text(encoding="utf-8"))
    return {
        "folder": str(folder),
        "reader_json_sha256": sha256(info),
        "model_sha256": facts.get("sha256"),
        "trained_on": facts.get("trained_on"),
    }


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def start(bench: str, data: Path, files: Iterable[str], options: dict[str, Any]) -> dict[str, Any]:
    """The record's facts from before the run; ``finish`` adds the figures."""
    return {
        "benchmark": bench,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "options": options,
        "commit": commit(),
        "machine": machine(),
        "reader": reader(),
        "data": {name: sha256(data / name) for name in files},
    }


def finish(record: dict[str, Any], figures: dict[str, Any], seconds: float, path: Path) -> None:
    """Add the figures, the run's time and the load average at its end; write to ``path``."""
    record["seconds"] = round(seconds, 1)
    record["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    record["figures"] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"\nrecord: {_shown(path)}", file=sys.stderr)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
