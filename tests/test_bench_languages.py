"""bench-languages' answer matching and its docs table (benchmarks/multilingual.py and
languages_figures.py), without models or data."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    """The two modules, with benchmarks/ on the path as when they run (they import
    record.py, corpora.py and docs_figures.py as top-level modules)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import languages_figures
        import multilingual

        yield multilingual, languages_figures
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_answers_match_on_word_boundaries_across_punctuation(bench: Any) -> None:
    multilingual, _ = bench
    holds = multilingual.holds_answer
    assert holds("Il vit à l'Assemblée nationale.", ["Assemblée Nationale"], "fr")
    assert holds("Sie starb in Kronberg (Taunus).", ["Kronberg"], "de")
    assert not holds("Die Kronberger Burg.", ["Kronberg"], "de")
    assert not holds("Nothing here.", [""], "de")  # an empty gold answer matches nothing


def test_chinese_and_japanese_match_without_spaces(bench: Any) -> None:
    multilingual, _ = bench
    holds = multilingual.holds_answer
    assert holds("負責管理的單位為交通部觀光局。", ["交通部 觀光局"], "zh")
    assert holds("8世紀に日本の首都であった奈良", ["奈良"], "ja")
    assert not holds("8世紀に日本の首都であった奈良", ["京都"], "ja")
    # Matched on word boundaries, as for spaced languages, the same sentence misses.
    assert not holds("8世紀に日本の首都であった奈良", ["奈良"], "de")


def test_english_uses_squad_normalization(bench: Any) -> None:
    multilingual, _ = bench
    assert multilingual.holds_answer("It was the Denver Broncos.", ["Denver Broncos"], "en")


def _record(model: str, quick: bool = False) -> dict[str, Any]:
    language = {
        "language": "Spanish",
        "answerable": 3,
        "unanswerable": 2,
        "right_paragraph_first": 0.6667,
        "first_sentence_holds_answer": 0.3333,
        "abstained": 0.25,
        "unanswerable_abstained": 0.5,
        "index": {"ms_per_chunk": 12.345},
        "question_ms": {"p50_ms": 81.6},
    }
    german = {**language, "language": "German", "unanswerable": 0, "unanswerable_abstained": None}
    return {
        "date": "2026-12-07T14:00:00+00:00",
        "machine": {"cpu_count": 2, "cpu": "CPU", "load_average": [1.0, 1.0, 1.0]},
        "load_average_at_end": [2.0, 2.0, 2.0],
        "options": {"paragraphs": 250, "questions": 400, "seed": 27},
        "figures": {"model": model, "quick": quick, "languages": {"de": german, "es": language}},
    }


def test_the_table_has_a_block_per_model_with_a_record(bench: Any) -> None:
    _, figures = bench
    records = {"languages": _record("all-MiniLM-L6-v2")}
    table = figures.render_languages(lambda name: records[name])
    assert table.startswith("From `languages.json` (2026-12-07 14:00 UTC")
    assert "multilingual-e5-small" not in table
    assert "| German | 3 | 0.667 | 0.333 | 25.0% | - | 12.3 | 82 |" in table
    assert "| Spanish | 3 + 2 unanswerable | 0.667 | 0.333 | 25.0% | 50.0% | 12.3 | 82 |" in table
    records["languages-multilingual-e5-small"] = _record("multilingual-e5-small", quick=True)
    both = figures.render_languages(lambda name: records[name])
    assert both.index("Model `all-MiniLM-L6-v2`") < both.index(
        "Model `multilingual-e5-small` (`--quick`)"
    )
    assert "`languages-multilingual-e5-small.json`" in both.splitlines()[0]


def test_no_record_says_how_to_make_one(bench: Any) -> None:
    _, figures = bench
    assert "make bench-languages" in figures.render_languages(lambda name: {}[name])
