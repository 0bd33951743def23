"""The corpora the quality benchmark asks questions over, and the Assistants that index them.

SQuAD-style data is written one file per paragraph (``a07/p012.txt``); SciFact one file
per abstract (``<id>.txt``), under ``benchmarks/.work/``. Indexes are built with the
code users run (``Assistant.update_index``) and reused by later runs: files are rewritten
only when their text changed, so a rerun's update finds nothing to do.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from datafiles import SCIFACT_CORPUS, SQUAD, scifact_train

from assistant import Assistant, Settings
from assistant.evaluation import EvalCase


def squad_cases(
    data: Path, corpus: Path, articles: set[int] | None = None, *, dataset: str = SQUAD
) -> list[EvalCase]:
    """Write one file per paragraph (a07/p012.txt) of ``articles`` (default all) and
    return the questions about all of them. An unanswerable SQuAD 2.0 question
    (``is_impossible``) has no answers."""
    articles_data = json.loads((data / dataset).read_text())["data"]
    cases: list[EvalCase] = []
    for a, article in enumerate(articles_data):
        for p, paragraph in enumerate(article["paragraphs"]):
            path = f"a{a:02d}/p{p:03d}.txt"
            if articles is None or a in articles:
                write_if_changed(corpus / path, paragraph["context"])
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"]))
                cases.append(EvalCase(qa["question"], answers, path))
    return cases


def split_of(case: EvalCase) -> str:
    """SQuAD dev's articles alternate: even ones tune, odd ones report."""
    assert case.source is not None
    return "tune" if int(case.source[1:3]) % 2 == 0 else "report"


@dataclass(frozen=True)
class SciFact:
    """SciFact train claims (those qrels/train.tsv judges) over an indexed corpus."""

    work: Path
    ids: list[str]  # the claims asked, in id order
    claims: dict[str, str]
    qrels: dict[str, dict[str, int]]
    abstracts: int

    def relevant(self, claim: str, path: str) -> bool:
        """Whether the file at ``path`` (``<id>.txt``) is one of the claim's abstracts."""
        return path.removesuffix(".txt") in self.qrels[claim]


def scifact_corpus(data: Path, work: Path, *, quick: bool) -> SciFact:
    """Write the SciFact corpus (quick: 200 claims over their relevant abstracts and
    1,300 others) and return its claims."""
    claims, qrels = scifact_train(data)
    ids = sorted(claims, key=int)
    docs = [json.loads(line) for line in (data / SCIFACT_CORPUS).read_text().splitlines()]
    if quick:
        ids = ids[::4][:200]
        wanted = {d for q in ids for d in qrels[q]}
        docs = [d for d in docs if d["_id"] in wanted] + [
            d for d in docs[:1500] if d["_id"] not in wanted
        ][: 1500 - len(wanted)]
    work = work / ("scifact-quick" if quick else "scifact")
    for doc in docs:
        write_if_changed(work / "corpus" / f"{doc['_id']}.txt", f"{doc['title']}\n\n{doc['text']}")
    return SciFact(work, ids, claims, qrels, len(docs))


def build(work: Path, label: str, *, reader: bool = True) -> Assistant:
    """An Assistant over ``work/corpus``, its index in ``work/index`` brought up to date,
    its models loaded."""
    settings = Settings(corpus=work / "corpus", index=work / "index", reader=reader)
    assistant = Assistant(settings)
    started = time.perf_counter()
    report = assistant.update_index()
    print(
        f"[{label}] index: {report.chunks_total} chunks, {report.chunks_embedded} embedded "
        f"now, {time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    assistant.warm_up()
    return assistant


def write_if_changed(path: Path, text: str) -> None:
    """Keep mtimes stable so a rerun's index update finds nothing to do."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
