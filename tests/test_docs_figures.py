"""The figure tables in docs/ are what the benchmark records give (make docs-figures)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    path = ROOT / "benchmarks" / "docs_figures.py"
    spec = importlib.util.spec_from_file_location("bench_docs_figures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_table_matches_its_records() -> None:
    generator = _generator()
    marked = [p for p in generator.pages() if "<!-- figures: " in p.read_text(encoding="utf-8")]
    assert {p.name for p in marked} >= {"README.md", "reader.md", "performance.md"}
    for page in marked:
        text = page.read_text(encoding="utf-8")
        assert generator.render_page(text, generator.read_record) == text, (
            f"{page.name}: a table differs from its records; run make docs-figures"
        )


def test_a_table_edited_by_hand_is_caught() -> None:
    generator = _generator()
    text = (ROOT / "docs" / "reader.md").read_text(encoding="utf-8")
    edited = text.replace("| 0.", "| 0.9", 1)
    assert edited != text
    assert generator.render_page(edited, generator.read_record) == text


def test_an_unknown_table_name_is_an_error() -> None:
    generator = _generator()
    with pytest.raises(SystemExit, match="no table named"):
        generator.render_page("<!-- figures: nosuch -->\n<!-- /figures -->", generator.read_record)


PERFORMANCE_TABLES = (
    "speed",
    "memory",
    "scale",
    "segments",
    "ray",
    "projection",
    "quality",
    "scifact",
    "abstention",
)


@pytest.mark.parametrize("name", PERFORMANCE_TABLES)
def test_each_performance_table_is_generated_and_a_hand_edit_is_caught(name: str) -> None:
    generator = _generator()
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    opening = f"<!-- figures: {name} -->\n"
    assert opening in text, f"performance.md has no generated {name} table"
    start = text.index(opening) + len(opening)
    end = text.index("<!-- /figures -->", start)
    block = text[start:end]
    rows = [line for line in block.splitlines() if line.startswith("| ") and "---" not in line]
    with_figures = [line for line in rows if any(c.isdigit() for c in line)]
    assert with_figures, f"the {name} table shows no figures"
    for line in {with_figures[0], with_figures[-1]}:
        digit = next(i for i, c in enumerate(line) if c.isdigit())
        edited_line = line[:digit] + str((int(line[digit]) + 1) % 10) + line[digit + 1 :]
        edited = text[:start] + block.replace(line, edited_line, 1) + text[end:]
        assert generator.render_page(edited, generator.read_record) == text


def _segments_record(unmerged_p95: float, merged_p95: float) -> dict[str, object]:
    result = {
        "size": 1_000_000,
        "hybrid": {"p50_ms": 7.0, "p95_ms": unmerged_p95},
        "hybrid_merged": {"p50_ms": 6.0, "p95_ms": merged_p95},
        "merge": {"merge_s": 130.0},
    }
    return {
        "date": "2026-12-07T14:00:00+00:00",
        "machine": {"cpu_count": 2, "cpu": "AMD EPYC", "load_average": [1.0, 1.0, 1.0]},
        "load_average_at_end": [1.0, 1.0, 1.0],
        "options": {"sizes": [1_000_000], "segments": 10, "equal": False},
        "figures": {"results": [result], "goals": {"segments_p95_ratio": 1.3}},
    }


def test_a_missed_goal_says_missed() -> None:
    generator = _generator()
    missed = generator.segments_table(lambda name: _segments_record(16.0, 10.0))
    assert "| 1.60 | <= 1.3: missed |" in missed
    assert "one of 910k and 9 of 10k" in missed
    met = generator.segments_table(lambda name: _segments_record(9.0, 10.0))
    assert "| 0.90 | <= 1.3: met |" in met


def test_the_projection_follows_the_measured_rates() -> None:
    generator = _generator()
    record = {
        "date": "2026-12-07T14:00:00+00:00",
        "machine": {"cpu_count": 2, "cpu": "AMD EPYC", "load_average": [1.0, 1.0, 1.0]},
        "load_average_at_end": [1.0, 1.0, 1.0],
        "figures": {
            "chunks_per_second": {"local": 50.0, "ray-1": 40.0, "ray-2": 70.0},
            "driver_chunks_per_second": 1000.0,
        },
    }
    table = generator.projection_table(lambda name: record)
    assert "| Ray, this 2-core machine (measured) | 2 | 70.0 | 40 h |" in table
    assert "| 10 machines of 2 cores (projected) | 20 | 800 | 3.5 h |" in table
    assert "| 1 machine of 16 cores (projected) | 16 | 640 | 4.3 h |" in table
    assert "| 2 machines of 16 cores" not in table  # past the driver's ceiling
    assert "| 2 or more machines of 16 cores (projected) | 25 used | 1,000 (the driver) |" in table


def test_the_quality_goals_are_those_the_benchmark_prints() -> None:
    generator = _generator()
    source = (ROOT / "benchmarks" / "quality.py").read_text(encoding="utf-8")
    constants = {
        target.id: node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert ast.literal_eval(constants["GOALS"]) == generator.SQUAD_GOALS
    assert ast.literal_eval(constants["READER_GOALS"]) == generator.READER_GOALS
    assert f'["ndcg@10"] >= {generator.SCIFACT_GOAL:.2f}' in source
    assert 'on["abstained"] >= 0.6 and on["answered"] >= 0.9' in source  # near misses
    assert '["answerable_answered"] >= 0.9 and rates["unanswerable_abstained"] >= 0.9' in source
