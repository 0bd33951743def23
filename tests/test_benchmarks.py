"""The benchmarks that read ../shared/data stop with one line when it is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HINT = "(pass DATA=... to make, or --data)"


def _bench(script: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "benchmarks" / script), *arguments]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("script", ["quality.py", "speed.py"])
def test_missing_data_folder_is_one_line_and_exit_2(script: str, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    done = _bench(script, "--data", str(missing), "--work", str(tmp_path / "work"))
    assert done.returncode == 2
    assert done.stderr == f"data not found: {missing} {HINT}\n"
    assert done.stdout == ""
    assert not (tmp_path / "work").exists()  # stopped before any work


@pytest.mark.parametrize(
    ("script", "arguments", "first_missing"),
    [
        ("quality.py", [], "squad-v1.1-dev/dev-v1.1.json"),
        ("quality.py", ["--skip", "squad", "--skip", "abstain"], "scifact/qrels/train.tsv"),
        ("speed.py", [], "scifact/corpus.jsonl"),
    ],
)
def test_missing_data_file_is_named(
    script: str, arguments: list[str], first_missing: str, tmp_path: Path
) -> None:
    done = _bench(script, "--data", str(tmp_path), "--work", str(tmp_path / "work"), *arguments)
    assert done.returncode == 2
    assert done.stderr == f"data not found: {tmp_path / first_missing} {HINT}\n"
