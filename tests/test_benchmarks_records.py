"""The benchmarks' pure parts: SciFact's train-claim filter, the per-question latency
summary, and where a run's record goes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    """A benchmark script's module, loaded by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


datafiles = _load("datafiles")
record = _load("record")

QRELS = ["query-id\tcorpus-id\tscore", "1\t31715818\t1", "3\t14717500\t1", "3\t13734012\t1", ""]
QUERIES = [
    '{"_id": "0", "text": "A claim with no judgement.", "metadata": {}}',
    '{"_id": "1", "text": "First judged claim.", "metadata": {}}',
    '{"_id": "3", "text": "Second judged claim.", "metadata": {}}',
    '{"_id": "5", "text": "A test-split claim.", "metadata": {}}',
]


def test_qrels_skip_the_header_and_keep_every_judged_document() -> None:
    assert datafiles.read_qrels(QRELS) == {
        "1": {"31715818": 1},
        "3": {"14717500": 1, "13734012": 1},
    }


def test_only_claims_the_train_qrels_judge_are_asked() -> None:
    claims = datafiles.judged_claims(QUERIES, datafiles.read_qrels(QRELS))
    assert claims == {"1": "First judged claim.", "3": "Second judged claim."}


def test_percentiles_are_numpys_linear_ones_over_each_question() -> None:
    figures = record.percentiles([float(ms) for ms in range(10, 101, 10)])
    assert figures == {
        "questions": 10,
        "p50_ms": 55.0,
        "p95_ms": 95.5,
        "mean_ms": 55.0,
        "max_ms": 100.0,
    }


def test_percentiles_of_nothing_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError):
        record.percentiles([])


def test_a_partial_run_never_takes_the_whole_runs_record() -> None:
    every = ["squad", "scifact", "latency"]
    assert record.record_path("quality", every, every, quick=False).name == "quality.json"
    assert record.record_path("quality", every, every, quick=True).name == "quality-quick.json"
    only = record.record_path("quality", ["latency"], every, quick=False)
    assert only.name == "quality-latency.json"
    assert only.parent == BENCHMARKS / "results"
