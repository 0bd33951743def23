"""The reader's training never reads SQuAD dev: the real entry point, on a planted fixture.

A tiny data folder shaped like ../shared/data holds a SQuAD dev file with a planted
article, and a train file that carries an article under a dev article's title. The
real ``training.train_reader.main`` trains one step on it under an audit hook that
records every file opened; the dev file must never be opened, and no training example
may come from the dev-titled article or the held-out calibration articles.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from training.reader_data import DEV_TITLES, split_train

PLANTED = "Zorblaxian"  # a word no real article holds


def _article(
    title: str, facts: list[tuple[str, str, str]], *, impossible: int = 0
) -> dict[str, Any]:
    """One article of one paragraph; each fact is (sentence, question, answer)."""
    context = " ".join(sentence for sentence, _, _ in facts)
    qas: list[dict[str, Any]] = [
        {
            "id": f"{title}-{n}",
            "question": question,
            "answers": [{"text": answer, "answer_start": context.index(answer)}],
        }
        for n, (_, question, answer) in enumerate(facts)
    ]
    qas += [
        {"id": f"{title}-x{n}", "question": "Who painted the harbour?", "answers": [],
         "is_impossible": True}
        for n in range(impossible)
    ]  # fmt: skip
    return {"title": title, "paragraphs": [{"context": context, "qas": qas}]}


FACTS = [
    ("The harbour was founded by Anna Berg in 1850.", "Who founded the harbour?", "Anna Berg"),
    ("Its lighthouse stands 40 metres tall.", "How tall is the lighthouse?", "40 metres"),
    ("Ferries leave for Oslo every morning.", "Where do the ferries go?", "Oslo"),
]


def _data_folder(root: Path) -> Path:
    dev_title = sorted(DEV_TITLES)[0]
    planted = [(f"The {PLANTED} harbour opened in 1901.", f"When did {PLANTED} open?", "1901")]
    train = {
        "data": [
            _article("Harbour_A", FACTS),
            _article("Harbour_B", FACTS),
            _article(dev_title, planted * 3),  # a dev article, slipped into train
            _article("Held_out", FACTS),
        ]
    }
    (root / "squad-v1.1-train").mkdir(parents=True)
    (root / "squad-v1.1-train" / "train-v1.1.json.gz").write_bytes(
        gzip.compress(json.dumps(train).encode())
    )
    (root / "squad-v2.0-train-first10").mkdir()
    calibration = {"data": [_article("Held_out", FACTS, impossible=2)]}
    (root / "squad-v2.0-train-first10" / "train-v2.0-first10.json").write_text(
        json.dumps(calibration)
    )
    (root / "squad-v1.1-dev").mkdir()
    dev = {"data": [_article(dev_title, planted)]}
    (root / "squad-v1.1-dev" / "dev-v1.1.json").write_text(json.dumps(dev))
    return root


def test_split_train_holds_out_calibration_articles_and_drops_dev_titles() -> None:
    titles = ["A", "Held_out", sorted(DEV_TITLES)[0], *[f"T{n}" for n in range(80)]]
    splits = split_train([{"title": t} for t in titles], {"Held_out"}, every=40)
    assert splits["calibration"] == [1]
    assert splits["dev_titled"] == [2]
    assert len(splits["validation"]) == 2  # every 40th of the 81 others
    named = [
        i for name in ("train", "validation", "calibration", "dev_titled") for i in splits[name]
    ]
    assert sorted(named) == list(range(len(titles)))  # each article in exactly one split


@pytest.mark.model
def test_training_entry_point_never_reads_dev(tmp_path: Path) -> None:
    from training import train_reader

    data = _data_folder(tmp_path / "data")
    opened: list[str] = []
    watching = [True]

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if watching[0] and event == "open" and isinstance(args[0], str | Path):
            opened.append(str(args[0]))

    sys.addaudithook(audit)  # hooks cannot be removed: this one stops watching below
    try:
        work = tmp_path / "work"
        code = train_reader.main(
            ["--data", str(data), "--work", str(work), "--max-steps", "1", "--batch-size", "2"]
        )
    finally:
        watching[0] = False
    assert code == 0
    assert any("train-v1.1.json.gz" in path for path in opened)  # the hook saw the reads
    assert not [path for path in opened if "squad-v1.1-dev" in path]
    rows = [json.loads(line) for line in (work / "examples.jsonl").read_text().splitlines()]
    assert rows, "no training examples were written"
    assert {row["title"] for row in rows} <= {"Harbour_A", "Harbour_B"}
    assert (work / "checkpoint.pt").is_file()
