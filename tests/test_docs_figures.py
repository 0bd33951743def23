"""The figure tables in docs/ are what the benchmark records give (make docs-figures)."""

from __future__ import annotations

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
    pages = sorted((ROOT / "docs").glob("*.md"))
    marked = [p for p in pages if "<!-- figures: " in p.read_text(encoding="utf-8")]
    assert {p.name for p in marked} >= {"reader.md", "performance.md"}
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
