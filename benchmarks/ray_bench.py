"""Ray against the local path: chunks/s, agreement, start-up time and memory.

    python benchmarks/ray_bench.py [--data ../shared/data] [--count 400] [--queries 40]

Writes ``--count`` SciFact abstracts as files, then builds the index three times with the
real model (the int8 ONNX export, cached after the first export): in this process, then
with ``--ray local`` and 1 worker, then 2 workers (each a private local cluster). Prints
the embedding rate of each (chunks embedded / embedding time, cluster start excluded),
the scaling 1 -> 2 workers, the top-10 agreement of ``--queries`` SciFact claims between
the Ray-built index and the local one (hybrid mode), the largest difference between
their vectors, the local cluster's start-up time (connect + actors with their sessions
built) and the memory of its processes: their PSS (shared pages split between the
processes that map them), how far the system's MemAvailable fell, and the sum of their
RSS (shared pages counted in each process: an upper bound). Also the driver alone: the
chunks/s of an update whose embedding costs nothing, the most one driver can feed.

Writes a stamped record (see record.py) to ``benchmarks/results/ray.json``, or ``--json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import record  # noqa: E402
from datafiles import SCIFACT_CORPUS, SCIFACT_QUERIES, require  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.embedding import Encoders, open_encoders  # noqa: E402
from assistant.indexing import update_index  # noqa: E402
from assistant.records import IndexReport  # noqa: E402

GOALS = {
    "ray2_over_local": ">= 0.8",
    "scaling": ">= 1.7",
    "top10_agreement": ">= 0.95",
    "max_vector_difference": "<= 1e-5",
    "start_up_s": "<= 15",
    "memory_pss_mb": "<= 1024",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "ray")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--json", type=Path, help="write the record here (default: benchmarks/results/ray.json)"
    )
    args = parser.parse_args()
    require(args.data, SCIFACT_CORPUS, SCIFACT_QUERIES)
    options = {"count": args.count, "queries": args.queries, "rounds": args.rounds}
    facts = record.start("ray", args.data, [SCIFACT_CORPUS, SCIFACT_QUERIES], options)
    began = time.perf_counter()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    shutil.rmtree(args.work, ignore_errors=True)
    corpus = args.work / "corpus"
    write_abstracts(args.data / SCIFACT_CORPUS, corpus, args.count)
    local = Settings(corpus=corpus, index=args.work / "local")
    Assistant(local).update_index()  # the export, cached once; not measured
    shutil.rmtree(local.index)

    runs: dict[str, IndexReport] = {}
    rounds: list[dict[str, float]] = []
    settings: dict[str, Settings] = {}
    for round_ in range(args.rounds):  # interleaved: the machine's load drifts
        rounds.append({})
        for name, workers in (("local", 0), ("ray-1", 1), ("ray-2", 2)):
            settings[name] = dataclasses.replace(
                local, index=args.work / name, ray="local" if workers else "", workers=workers
            )
            shutil.rmtree(settings[name].index, ignore_errors=True)
            report = build(settings[name])
            print(
                f"round {round_ + 1} {name:6} {report.chunks_embedded} chunks,"
                f" {report.chunks_per_second:6.1f} chunks/s embedding, {report.seconds:5.1f} s",
                flush=True,
            )
            rounds[-1][name] = report.chunks_per_second
            if name not in runs or report.chunks_per_second > runs[name].chunks_per_second:
                runs[name] = report
    rate = {name: report.chunks_per_second for name, report in runs.items()}
    print(f"best of {args.rounds}: " + ", ".join(f"{n} {r:.1f} chunks/s" for n, r in rate.items()))
    print(f"ray-2 / local: {rate['ray-2'] / rate['local']:.2f} (goal >= 0.8)")
    print(f"scaling 1 -> 2 workers: {rate['ray-2'] / rate['ray-1']:.2f}x (goal >= 1.7x)")
    print(f"per-worker rate (ray-1, one core): {rate['ray-1']:.1f} chunks/s")

    ceiling = driver_ceiling(dataclasses.replace(local, index=args.work / "driver"))
    print(
        f"driver alone (scan, load, chunk, write; embedding stood in): {ceiling:.0f} chunks/s,"
        f" enough for {ceiling / rate['ray-1']:.0f} one-core workers"
    )

    claims = read_claims(args.data / SCIFACT_QUERIES, args.queries)
    agreement = top10_agreement(settings["ray-2"], settings["local"], claims)
    print(f"top-10 agreement, ray-2 vs local, {len(claims)} queries: {agreement:.1%} (goal >= 95%)")
    difference = max_difference(settings["ray-2"], settings["local"])
    print(f"max vector difference: {difference:.2e}")
    seconds, (rss, pss, fell) = start_up(local)
    print(f"local cluster start-up, 2 workers ready: {seconds:.1f} s (goal <= 15 s)")
    print(
        f"local cluster extra memory, 2 workers: {pss:.0f} MB PSS, the system's available"
        f" memory fell {fell:.0f} MB ({rss:.0f} MB summed RSS, shared pages counted in each"
        " process) (goal <= 1 GB)"
    )
    figures = {
        "chunks": runs["local"].chunks_embedded,
        "chunks_per_second": rate,
        "rounds": rounds,
        "ray2_over_local": rate["ray-2"] / rate["local"],
        "scaling": rate["ray-2"] / rate["ray-1"],
        "driver_chunks_per_second": ceiling,
        "top10_agreement": agreement,
        "max_vector_difference": difference,
        "start_up_s": seconds,
        "memory_pss_mb": pss,
        "memory_rss_mb": rss,
        "memory_available_fell_mb": fell,
        "goals": GOALS,
    }
    path = args.json or record.RESULTS / "ray.json"
    record.finish(facts, figures, time.perf_counter() - began, path)


def build(settings: Settings) -> IndexReport:
    """Index with ``settings``. One worker gets a cluster of one CPU, so that it has one
    core as each of two workers does on this 2-core machine: simulated machines of one
    core each, for the scaling figure. Two workers start their own private cluster, as
    ``excerpta index --ray local --workers 2`` does."""
    if settings.workers != 1:
        return Assistant(settings).update_index()
    import ray

    ray.init(
        address="local",
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    try:
        return Assistant(settings).update_index()
    finally:
        ray.shutdown()


class DriverOnly:
    """The real passage encoder's tokenizer (chunking counts tokens with it), with zero
    vectors in place of embedding: what the driver costs on its own."""

    def __init__(self, passages: Any) -> None:
        self._passages = passages
        self.name = passages.name
        self.max_tokens = passages.max_tokens

    def dimension(self) -> int:
        return int(self._passages.dimension())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return list(self._passages.count_tokens(texts))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension()), dtype=np.float32)
        vectors[:, 0] = 1.0
        return vectors

    embed_queries = embed_documents


def driver_ceiling(settings: Settings) -> float:
    """Chunks/s of an update whose embedding costs nothing: the most one driver feeds."""
    shutil.rmtree(settings.index, ignore_errors=True)
    passages = open_encoders(settings.named_model, settings.index, for_indexing=True).passages
    report = update_index(settings, Encoders.single(DriverOnly(passages), "driver-only"))
    return report.chunks_per_second


def write_abstracts(source: Path, corpus: Path, count: int) -> None:
    corpus.mkdir(parents=True)
    with source.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n == count:
                break
            doc = json.loads(line)
            (corpus / f"{doc['_id']}.txt").write_text(f"{doc['title']}\n\n{doc['text']}\n")


def read_claims(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(count), lines, strict=False)]


def top10_agreement(mine: Settings, theirs: Settings, queries: list[str]) -> float:
    """The share of each query's top-10 chunks (by file and text) that both indexes give."""
    results = []
    for settings in (mine, theirs):
        assistant = Assistant(settings)
        results.append(
            [
                {(h.chunk.path, h.chunk.text) for h in r.hits}
                for r in assistant.search_many(queries, k=10, mode="hybrid")
            ]
        )
    shared = sum(len(a & b) for a, b in zip(*results, strict=True))
    return shared / sum(len(b) for b in results[1])


def max_difference(mine: Settings, theirs: Settings) -> float:
    """The largest difference between the vectors the two indexes hold for one chunk id
    (both number chunks in the same order)."""
    import sqlite3

    import numpy as np

    from assistant.store import open_index

    db = sqlite3.connect(f"file:{mine.index / 'index.sqlite'}?mode=ro", uri=True)
    ids = [row[0] for row in db.execute("SELECT id FROM chunks ORDER BY id")]
    db.close()
    first, second = open_index(mine.index), open_index(theirs.index)
    try:
        return float(np.abs(first.vectors.reconstruct(ids) - second.vectors.reconstruct(ids)).max())
    finally:
        first.close()
        second.close()


def start_up(settings: Settings) -> tuple[float, tuple[float, float, float]]:
    """Seconds to start a private local cluster with 2 actors ready, and its processes'
    RSS and PSS in MB (every process descended from this one, which Ray started), and how
    far the system's available memory (MemAvailable) fell meanwhile."""
    from assistant.indexing.ray_embed import RayCluster

    encoders = open_encoders(settings.named_model, settings.index, for_indexing=True)
    available = _available_mb()
    started = time.perf_counter()
    with RayCluster.open("local", 2, encoders):
        seconds = time.perf_counter() - started
        time.sleep(1)  # Ray's helper processes settle
        memory = (*descendants_memory(os.getpid()), available - _available_mb())
    return seconds, memory


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descendants_memory(root: int) -> tuple[float, float]:
    """MB resident (RSS) and proportional (PSS) in every process below ``root``."""
    parents: dict[int, int] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            rollup = (entry / "smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        kb = {line.split()[0]: int(line.split()[1]) for line in rollup[1:] if line.split()}
        sizes[int(entry.name)] = (kb.get("Rss:", 0), kb.get("Pss:", 0))
    rss = pss = 0
    for pid, (r, p) in sizes.items():
        walk = parents.get(pid)
        while walk and walk != root:
            walk = parents.get(walk)
        if walk == root:
            rss, pss = rss + r, pss + p
    return rss / 1024, pss / 1024


if __name__ == "__main__":
    main()
