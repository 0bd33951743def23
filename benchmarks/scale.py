"""Scale: load time, search latency, recall, memory and disk at 100k and 1M chunks, and
search scoped to 10% of the files (``--in``) against unscoped.

    python benchmarks/scale.py                          # 100,000 and 1,000,000 chunks
    python benchmarks/scale.py --sizes 200000 --data uniform

Synthetic data, written through the real code: 384-dim unit vectors go through
``VectorIndex`` (add, ``optimize()``, save), ~600-character chunks of Zipf-distributed
pseudo-words through ``ChunkTable``, and BM25 postings through ``write_bm25``; the
segments are listed in one commit that ``open_index`` opens. ``--segments K`` splits
the chunks into K segments shaped as the tiered merge policy leaves them (one large
segment and K-1 of 1% each, sharing its IVF training as an update's segments do;
``--equal``: K of the same size), measures hybrid search
across them, then merges them into one (``merge_segments(compact=True)``) and measures
again: the ratio of the p95s is the cost of unmerged segments. Vectors are clustered by default
(256 topics, 50-chunk documents around each topic, chunks around each document), as
embeddings of a real corpus are; ``--data uniform`` is the worst case for IVF: no
structure, every neighbour almost as far as any other. Queries are stored vectors moved
away from themselves (cosine 0.6 with their source, a little further out than the
queries ``optimize()`` calibrates on); recall@10 is against exact search over the float
vectors. Every build and measurement runs in its own process, so load times are cold in
Python and RSS is that of one purpose. Nothing is timed while another process is
building; still, check ``uptime``: timings on a busy machine run long.

Each run writes a stamped record (see record.py): ``benchmarks/results/scale.json`` for
the default run (``make bench-scale``), ``scale-segments.json`` for ``--sizes 1000000
--segments 10`` (``make bench-segments``); other options are spelled out in the name
(``scale-uniform-200000.json``), so no run overwrites another kind's record.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import record  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from assistant.store.commits import (  # noqa: E402
    BM25_DIR,
    FORMAT_VERSION,
    INDEX_DB,
    SEGMENTS,
    TRAINED,
    VECTORS,
    connect,
)

DIM = 384
CHUNKS_PER_FILE = 50
QUERIES = 200
DEPTH = 50  # what retrieval asks FAISS and BM25 for (retrieval._CANDIDATES)
QUERY_NOISE = 1.33  # cosine 1/sqrt(1 + 1.33^2) = 0.6 between a query and its source
GOALS = {
    "p50_ms": 50.0,
    "recall": 0.95,
    "rss_mb": 1024.0,
    "bm25_p50_ms": 50.0,
    "scoped_ratio": 1.5,
}
SCOPE_GLOB = "docs/file??????0.txt"  # 10% of the files: those whose number ends in 0
SEGMENTS_GOAL = 1.3  # hybrid p95 in unmerged segments / merged into one
# The options of each kind of run as its make target gives them: its record's plain name.
KINDS = {
    "scale": {"sizes": [100_000, 1_000_000], "data": "clustered", "segments": 1, "equal": False},
    "scale-segments": {
        "sizes": [1_000_000],
        "data": "clustered",
        "segments": 10,
        "equal": False,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", choices=["clustered", "uniform"], default="clustered")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "scale")
    parser.add_argument(
        "--json", type=Path, help="write the record here (default: benchmarks/results/)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--segments", type=int, default=1, help="segments to split into")
    parser.add_argument("--equal", action="store_true", help="segments of equal size")
    args = parser.parse_args()
    global SHAPE
    SHAPE = (args.segments, args.equal)
    if args.child:
        figures = CHILDREN[args.child](args.work, args.size, args.data)
        figures["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(figures))
        return
    options = {"sizes": args.sizes, "data": args.data, "segments": args.segments}
    options["equal"] = args.equal
    facts = record.start("scale", ROOT, [], options)
    started = time.perf_counter()
    results = []
    for size in args.sizes:
        print(f"-- {size:,} chunks ({args.data}) in {args.work}", file=sys.stderr)
        results.append(run_size(args.work / f"{args.data}-{size}", size, args.data))
        if not args.keep:
            shutil.rmtree(args.work / f"{args.data}-{size}", ignore_errors=True)
    print(table(results, args.data))
    for r in results:
        if "hybrid_merged" in r:
            h, m = r["hybrid"], r["hybrid_merged"]
            print(
                f"{r['size']:,} chunks: hybrid p50/p95 in {args.segments} segments "
                f"{h['p50_ms']:.1f}/{h['p95_ms']:.1f} ms, merged into one "
                f"{m['p50_ms']:.1f}/{m['p95_ms']:.1f} ms (merge {r['merge']['merge_s']:.0f} s): "
                f"p95 ratio {h['p95_ms'] / m['p95_ms']:.2f} (goal <= {SEGMENTS_GOAL})"
            )
    figures = {"results": results, "goals": {**GOALS, "segments_p95_ratio": SEGMENTS_GOAL}}
    figures["depth"], figures["queries"] = DEPTH, QUERIES
    path = args.json or record.RESULTS / f"{record_name(options)}.json"
    record.finish(facts, figures, time.perf_counter() - started, path)


def record_name(options: dict[str, Any]) -> str:
    """``scale`` or ``scale-segments`` for a make target's run; otherwise that kind's
    name followed by the options that differ from it."""
    kind = "scale-segments" if options["segments"] > 1 else "scale"
    usual = KINDS[kind]
    parts = [kind]
    if options["data"] != usual["data"]:
        parts.append(options["data"])
    if options["sizes"] != usual["sizes"]:
        parts.extend(str(size) for size in options["sizes"])
    if options["segments"] != usual["segments"]:
        parts.append(str(options["segments"]))
    if options["equal"]:
        parts.append("equal")
    return "-".join(parts)


def run_size(folder: Path, size: int, data: str) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    figures: dict[str, Any] = {"size": size, "data": data, "load_average": os.getloadavg()[0]}
    figures["build_vectors"] = _child("build_vectors", folder, size, data)
    figures["build_text"] = _child("build_text", folder, size, data)
    _commit(folder / "index", size, figures["build_vectors"]["descriptions"])
    segments = folder / "index" / SEGMENTS
    figures["disk_mb"] = {
        VECTORS: sum(_size_mb(p / VECTORS) for p in segments.iterdir()),
        INDEX_DB: _size_mb(folder / "index" / INDEX_DB),
        BM25_DIR: sum(_size_mb(p / BM25_DIR) for p in segments.iterdir()),
    }
    for name in ("dense", "bm25", "hybrid", "scoped"):
        figures[name] = _child(name, folder, size, data)
    if SHAPE[0] > 1:
        figures["merge"] = _child("merge", folder, size, data)
        figures["hybrid_merged"] = _child("hybrid", folder, size, data)
    figures["load_average_at_end"] = os.getloadavg()[0]
    return figures


def bounds(size: int) -> list[int]:
    """Where each segment's chunk ids start, and the end: see ``--segments``."""
    count, equal = SHAPE
    if count <= 1:
        return [0, size]
    if equal:
        return [size * i // count for i in range(count + 1)]
    small = max(1, size // 100)
    return [0] + [size - small * (count - 1 - i) for i in range(count)]


def _commit(index: Path, size: int, descriptions: list[str]) -> None:
    """List the segments the children wrote in one commit, as an update would."""
    from assistant.store.writer import complete_manifest, list_segment, record_commit

    db = connect(index, write=True)
    db.execute("BEGIN IMMEDIATE")
    edges = bounds(size)
    for i, description in enumerate(descriptions):
        list_segment(db, f"seg-{i + 1:06d}", edges[i + 1] - edges[i], 1, description)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('next_chunk_id', ?)", (str(size),))
    manifest = {"format": FORMAT_VERSION, "model": "synthetic"}
    record_commit(db, 1, complete_manifest(db, manifest, DIM))
    db.execute("COMMIT")
    db.close()


def _segment(folder: Path, i: int) -> Path:
    path = folder / "index" / SEGMENTS / f"seg-{i + 1:06d}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _child(name: str, folder: Path, size: int, data: str) -> dict[str, Any]:
    started = time.perf_counter()
    command = [sys.executable, __file__, "--child", name, "--work", str(folder)]
    command += ["--size", str(size), "--data", data, "--segments", str(SHAPE[0])]
    command += ["--equal"] if SHAPE[1] else []
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(out.splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    print(f"   {name}: {figures['wall_s']:.0f} s", file=sys.stderr)
    return figures


# --- building (child processes) ----------------------------------------------------------


def unit(rows: np.ndarray) -> np.ndarray:
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def synthetic_vectors(size: int, data: str, rng: np.random.Generator) -> Any:
    """Yield (first id, block of unit vectors); chunk i belongs to document i // 50."""
    documents = (size + CHUNKS_PER_FILE - 1) // CHUNKS_PER_FILE
    topics = unit(rng.standard_normal((256, DIM), dtype=np.float32))
    centers = unit(
        topics[rng.integers(0, 256, documents)]
        + unit(rng.standard_normal((documents, DIM), dtype=np.float32))
    )
    for start in range(0, size, 100_000):
        count = min(100_000, size - start)
        block = unit(rng.standard_normal((count, DIM), dtype=np.float32))
        if data == "clustered":
            block = unit(block + centers[np.arange(start, start + count) // CHUNKS_PER_FILE])
        yield start, block


def build_vectors(folder: Path, size: int, data: str) -> dict[str, Any]:
    from assistant.store.recall import ExactTopK
    from assistant.store.vectors import VectorIndex

    rng = np.random.default_rng(size)
    query_rng = np.random.default_rng(size + 1)
    started = time.perf_counter()
    edges = bounds(size)
    indexes = [VectorIndex.empty(DIM) for _ in edges[1:]]
    sources = np.sort(query_rng.choice(size, QUERIES, replace=False))
    queries = np.empty((QUERIES, DIM), dtype=np.float32)
    for start, block in synthetic_vectors(size, data, rng):
        ids = np.arange(start, start + len(block))
        for index, lo, hi in zip(indexes, edges, edges[1:], strict=False):
            part = (ids >= lo) & (ids < hi)
            if part.any():
                index.add(ids[part], block[part])
        mine = sources[(sources >= start) & (sources < start + len(block))]
        queries[np.searchsorted(sources, mine)] = block[mine - start]
    noise = unit(query_rng.standard_normal(queries.shape, dtype=np.float32))
    queries = unit(queries + QUERY_NOISE * noise)
    generated = time.perf_counter()
    # The exact ground truth over the float vectors, generated again block by block from
    # the same seed: keeping them all would cost the benchmark 1.5 GB at a million.
    truth = ExactTopK(queries, k=10)
    for start, block in synthetic_vectors(size, data, np.random.default_rng(size)):
        truth.update(np.arange(start, start + len(block)), block)
    order = np.argsort(-truth.scores, axis=1)
    np.save(folder / "queries.npy", queries)
    np.save(folder / "truth.npy", np.take_along_axis(truth.ids, order, axis=1))
    exact = time.perf_counter()
    indexes[0].optimize()
    # Later segments share the first one's IVF training, as an update's and a merge's do.
    for i, index in enumerate(indexes[1:], start=1):
        shared = VectorIndex.trained_like(indexes[0])
        ids = np.sort(index.ids())
        for start in range(0, len(ids), 100_000):
            shared.add(
                ids[start : start + 100_000], index.reconstruct(ids[start : start + 100_000])
            )
        shared.optimize()
        indexes[i] = shared
    optimized = time.perf_counter()
    for i, index in enumerate(indexes):
        index.save(_segment(folder, i) / VECTORS)
        index.save_trained(_segment(folder, i) / TRAINED)
    return {
        "description": "; ".join(sorted({index.description for index in indexes})),
        "descriptions": [index.description for index in indexes],
        "generate_add_s": generated - started,
        "ground_truth_s": exact - generated,
        "optimize_s": optimized - exact,
        "save_s": time.perf_counter() - optimized,
    }


def vocabulary(rng: np.random.Generator, words: int = 50_000) -> tuple[list[str], np.ndarray]:
    """Pseudo-words and their Zipf (s=1.1) probabilities, like a natural language's."""
    letters = np.array(list("bcdfghjklmnprstvwz")), np.array(list("aeiou"))
    vocab: dict[str, None] = {}
    while len(vocab) < words:
        syllables = rng.integers(1, 4)
        word = "".join(rng.choice(letters[0]) + rng.choice(letters[1]) for _ in range(syllables))
        vocab[word + str(rng.choice(letters[0]))] = None
    weights = 1.0 / np.arange(1, words + 1) ** 1.1
    return list(vocab), np.cumsum(weights / weights.sum())


def synthetic_texts(size: int, rng: np.random.Generator) -> Any:
    """Yield blocks of ~600-character texts."""
    vocab, cumulative = vocabulary(rng)
    for start in range(0, size, 50_000):
        count = min(50_000, size - start)
        picks = np.searchsorted(cumulative, rng.random((count, 110))).tolist()
        yield [" ".join(vocab[w] for w in row)[:600] for row in picks]


def build_text(folder: Path, size: int, data: str) -> dict[str, Any]:
    from assistant.records import Chunk
    from assistant.store.bm25_write import write_bm25
    from assistant.store.chunk_table import ChunkTable, FileRecord

    started = time.perf_counter()
    db = connect(folder / "index", write=True)
    table = ChunkTable(db, write=True)
    db.execute("BEGIN")
    next_id = 0
    for texts in synthetic_texts(size, np.random.default_rng(size + 2)):
        for first in range(0, len(texts), CHUNKS_PER_FILE):
            path = f"docs/file{next_id // CHUNKS_PER_FILE:07d}.txt"
            chunks, offset = [], 0
            for text in texts[first : first + CHUNKS_PER_FILE]:
                chunks.append(Chunk(path, text, offset, offset + len(text), 1, 1, None, next_id))
                offset += len(text) + 1
                next_id += 1
            record = FileRecord(path, f"{next_id:064x}", offset, 0, len(chunks))
            table.add_file(record, chunks, [f"{c.id:016x}" for c in chunks])
    db.execute("COMMIT")
    written = time.perf_counter()
    edges = bounds(size)
    texts = table.texts_in_id_order()
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        rows = (next(texts) for _ in range(hi - lo))
        write_bm25(_segment(folder, i) / BM25_DIR, rows, term_frequencies=True)
    db.close()
    return {
        "sqlite_s": written - started,
        "bm25_build_s": time.perf_counter() - written,  # written to disk as it is built
    }


# --- measuring (child processes) ---------------------------------------------------------


def measure_dense(folder: Path, size: int, data: str) -> dict[str, Any]:
    import faiss  # noqa: F401  (loaded before the baseline: the library isn't the index)

    from assistant.store.segments import Segment, SegmentedVectors
    from assistant.store.vectors import VectorIndex

    queries, truth = np.load(folder / "queries.npy"), np.load(folder / "truth.npy")
    baseline = _rss_mb()
    started = time.perf_counter()
    loaded = []
    for path in sorted((folder / "index" / SEGMENTS).iterdir()):
        vectors = VectorIndex.load(path / VECTORS)  # the vectors alone: no BM25 postings
        loaded.append(Segment(path.name, vectors, None, np.sort(vectors.ids())))  # type: ignore[arg-type]
    index = SegmentedVectors(loaded, [np.zeros(0, np.int64) for _ in loaded])
    load_s = time.perf_counter() - started
    for query in queries[:20]:  # warm up
        index.search(query[None], DEPTH)
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query[None], DEPTH)
        latencies.append(time.perf_counter() - started)
        found.append(ids[0, :10])
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    return {
        "description": index.description,
        "load_s": load_s,
        **_percentiles(latencies),
        "recall_at_10": float(recall),
        "rss_mb": _rss_mb(),
        "index_rss_mb": _rss_mb() - baseline,
    }


def bm25_queries(size: int, count: int = QUERIES) -> list[str]:
    """3-5 words each, drawn like the texts but skipping the 100 commonest."""
    rng = np.random.default_rng(size + 2)
    vocab, cumulative = vocabulary(rng)
    queries = []
    for _ in range(count):
        picks = np.searchsorted(cumulative, rng.uniform(cumulative[99], 1.0, rng.integers(3, 6)))
        queries.append(" ".join(vocab[min(int(p), len(vocab) - 1)] for p in picks))
    return queries


def measure_bm25(folder: Path, size: int, data: str) -> dict[str, Any]:
    import bm25s  # noqa: F401  (loaded before the baseline)

    from assistant.store.postings import Postings, SegmentedLexical
    from assistant.text.terms import tokenize

    tokenize(["warm the stemmer"])
    queries = bm25_queries(size)
    baseline = _rss_mb()
    started = time.perf_counter()
    folders = sorted((folder / "index" / SEGMENTS).iterdir())
    lexical = SegmentedLexical(
        [Postings.load(p / BM25_DIR) for p in folders], [None] * len(folders)
    )
    load_s = time.perf_counter() - started
    for query in queries[:20]:
        lexical.search([query], DEPTH)
    latencies, empty = [], 0
    for query in queries:
        started = time.perf_counter()
        hits = lexical.search([query], DEPTH)
        latencies.append(time.perf_counter() - started)
        empty += not hits[0]
    return {
        "load_s": load_s,
        **_percentiles(latencies),
        "no_hits": empty,
        "rss_mb": _rss_mb(),
        "index_rss_mb": _rss_mb() - baseline,
    }


class _NoEmbedder:
    """Retrieval is handed the query vectors, so it never embeds."""

    def embed_queries(self, texts: Any) -> Any:
        raise AssertionError("the benchmark passes query vectors")


def measure_hybrid(folder: Path, size: int, data: str) -> dict[str, Any]:
    """The whole retrieval path of one question: FAISS + BM25 + fusion + SQLite rows."""
    from assistant.retrieval import Retriever
    from assistant.store import open_index

    queries, texts = np.load(folder / "queries.npy"), bm25_queries(size)
    started = time.perf_counter()
    index = open_index(folder / "index")
    open_s = time.perf_counter() - started
    retriever = Retriever(index, _NoEmbedder())  # type: ignore[arg-type]
    for i in range(20):
        retriever.search([texts[i]], 5, "hybrid", vectors=queries[i : i + 1])
    latencies = []
    for i in range(QUERIES):
        started = time.perf_counter()
        retriever.search([texts[i]], 5, "hybrid", vectors=queries[i : i + 1])
        latencies.append(time.perf_counter() - started)
    index.close()
    return {"open_s": open_s, **_percentiles(latencies), "rss_mb": _rss_mb()}


def merge(folder: Path, size: int, data: str) -> dict[str, Any]:
    from assistant.store.merge import merge_segments

    started = time.perf_counter()
    merged = merge_segments(folder / "index", compact=True)
    return {"merge_s": time.perf_counter() - started, "merged": merged}


SHAPE = (1, False)  # --segments, --equal


def measure_scoped(folder: Path, size: int, data: str) -> dict[str, Any]:
    """Hybrid retrieval scoped to 10% of the files (those whose number ends in 0, by a
    glob), against the same questions unscoped, interleaved so both see the same load."""
    from assistant.retrieval import Retriever
    from assistant.store import open_index
    from assistant.store.scope import select_scope

    queries, texts = np.load(folder / "queries.npy"), bm25_queries(size)
    index = open_index(folder / "index")
    started = time.perf_counter()
    selection = select_scope(index.table.files(), index.table.chunk_ids_of, [SCOPE_GLOB])
    select_s = time.perf_counter() - started
    everything = Retriever(index, _NoEmbedder())  # type: ignore[arg-type]
    scoped = Retriever(index, _NoEmbedder(), selection)  # type: ignore[arg-type]
    started = time.perf_counter()
    scoped.search([texts[0]], 5, "hybrid", vectors=queries[:1])  # derives mask and selector
    first_s = time.perf_counter() - started
    for i in range(1, 20):
        everything.search([texts[i]], 5, "hybrid", vectors=queries[i : i + 1])
        scoped.search([texts[i]], 5, "hybrid", vectors=queries[i : i + 1])
    times: dict[str, list[float]] = {"all": [], "scoped": []}
    short = 0
    for i in range(QUERIES):
        for name, retriever in (("all", everything), ("scoped", scoped)):
            started = time.perf_counter()
            hits = retriever.search([texts[i]], 5, "hybrid", vectors=queries[i : i + 1])[0]
            times[name].append(time.perf_counter() - started)
            if name == "scoped":
                short += len(hits) < 5
                assert all(h.chunk.path.endswith("0.txt") for h in hits)
    index.close()
    return {
        "files": len(selection.paths),
        "chunks": len(selection),
        "select_s": select_s,
        "first_s": first_s,
        "all": _percentiles(times["all"]),
        "scoped": _percentiles(times["scoped"]),
        "short": short,
        "rss_mb": _rss_mb(),
    }


CHILDREN = {
    "merge": merge,
    "build_vectors": build_vectors,
    "build_text": build_text,
    "dense": measure_dense,
    "bm25": measure_bm25,
    "hybrid": measure_hybrid,
    "scoped": measure_scoped,
}


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


# --- report ------------------------------------------------------------------------------


def table(results: list[dict[str, Any]], data: str) -> str:
    rows: list[tuple[str, str, str, str]] = [("", "measured", "goal", "")]
    for r in results:
        bv, bt, d, b, h = (r[k] for k in ("build_vectors", "build_text", "dense", "bm25", "hybrid"))
        sc = r["scoped"]
        ratio = sc["scoped"]["p50_ms"] / sc["all"]["p50_ms"]
        wall = bv["wall_s"] + bt["wall_s"]
        peak = max(bv["peak_rss_mb"], bt["peak_rss_mb"]) / 1024
        disk = r["disk_mb"]
        rows += [
            (f"{r['size']:,} chunks", d["description"], f"load avg {r['load_average']:.1f}", ""),
            (
                "  build vectors: make+add/truth/optimize/save",
                "/".join(
                    f"{bv[k]:.0f}"
                    for k in ("generate_add_s", "ground_truth_s", "optimize_s", "save_s")
                )
                + " s",
                "",
                "",
            ),
            (
                "  build text: sqlite/BM25",
                "/".join(f"{bt[k]:.0f}" for k in ("sqlite_s", "bm25_build_s")) + " s",
                "",
                "",
            ),
            (
                "  build: wall time, peak RSS",
                f"{wall:.0f} s, {peak:.1f} GB",
                "<= 600 s",
                _mark(wall <= 600),
            ),
            ("  vectors: load", f"{d['load_s']:.2f} s", "", ""),
            (
                f"  vectors: search p50/p95 (k={DEPTH})",
                f"{d['p50_ms']:.1f}/{d['p95_ms']:.1f} ms",
                "p50 <= 50 ms",
                _mark(d["p50_ms"] <= GOALS["p50_ms"]),
            ),
            (
                "  vectors: recall@10 vs exact",
                f"{d['recall_at_10']:.3f}",
                ">= 0.95",
                _mark(d["recall_at_10"] >= GOALS["recall"]),
            ),
            (
                "  vectors: RSS process (index alone)",
                f"{d['rss_mb']:.0f} ({d['index_rss_mb']:.0f}) MB",
                "<= 1024 MB",
                _mark(d["rss_mb"] <= GOALS["rss_mb"]),
            ),
            ("  BM25: load", f"{b['load_s']:.2f} s", "", ""),
            (
                f"  BM25: search p50/p95 (k={DEPTH})",
                f"{b['p50_ms']:.1f}/{b['p95_ms']:.1f} ms",
                "p50 <= 50 ms",
                _mark(b["p50_ms"] <= GOALS["bm25_p50_ms"]),
            ),
            (
                "  BM25: RSS process (index alone)",
                f"{b['rss_mb']:.0f} ({b['index_rss_mb']:.0f}) MB",
                "",
                "",
            ),
            (
                "  hybrid retrieval: open_index; p50/p95",
                f"{h['open_s']:.2f} s; {h['p50_ms']:.1f}/{h['p95_ms']:.1f} ms",
                "",
                "",
            ),
            ("  hybrid retrieval: RSS", f"{h['rss_mb']:.0f} MB", "", ""),
            (
                f"  scoped ({sc['files']:,} files, {sc['chunks']:,} chunks): select; first",
                f"{sc['select_s'] * 1000:.0f} ms; {sc['first_s'] * 1000:.0f} ms",
                "",
                "",
            ),
            (
                "  scoped vs all: hybrid p50 (p95)",
                f"{sc['scoped']['p50_ms']:.1f} ({sc['scoped']['p95_ms']:.1f}) vs"
                f" {sc['all']['p50_ms']:.1f} ({sc['all']['p95_ms']:.1f}) ms = {ratio:.2f}x,"
                f" {sc['short']} short of k",
                "<= 1.5x",
                _mark(ratio <= GOALS["scoped_ratio"]),
            ),
            (
                "  disk: vectors.faiss/index.sqlite/bm25",
                "/".join(f"{disk[k]:.0f}" for k in (VECTORS, INDEX_DB, BM25_DIR)) + " MB",
                "",
                "",
            ),
        ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    title = (
        f"Scale: synthetic {data} 384-dim unit vectors, ~600-char chunks, {os.cpu_count()} cores"
    )
    body = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join([title, *body])


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
