"""Memory: peak RSS of the real indexing pipeline as the corpus grows (goal: <= 1.5 GB, flat).

    python benchmarks/memory.py                         # 10,000, 100,000 and 1,000,000 chunks
    python benchmarks/memory.py --sizes 10000 100000 --keep

For each size a synthetic corpus of .txt files (~50 chunks each: paragraphs of sentences
of Zipf-distributed pseudo-words, from ``scale.py``'s vocabulary) is written under
``benchmarks/.work/memory/`` (not timed, not measured), then a fresh child process runs
``assistant.indexing.update_index`` on it, a full build, and reports its peak RSS. At the
largest size one file is then changed and a second fresh child runs the incremental
update. The folders are deleted after each size unless ``--keep``.

THE MODEL IS STOOD IN FOR. all-MiniLM-L6-v2 embeds about 20 chunks a second on two cores
(a million chunks would take 14 hours), so the pipeline is handed ``StandInEmbedder``:
384-dim unit vectors clustered around 256 directions, derived from a hash of each text
(reproducible, no cost), and a cheap token count (words x 1.3). Everything else is the
real code: scanning, hashing, loading, chunking (tiktoken, sentence splitting), SQLite,
FAISS (flat, then IVF-SQ8 past ``FLAT_LIMIT``), BM25, the segment and its commit. The model's
own memory (~0.3-0.8 GB, measured by ``benchmarks/speed.py``) comes on top of these peaks.

Peak RSS is the process's high-water mark (VmHWM, as ``ru_maxrss``), read at each stage
boundary of the build and reset after it (``/proc/self/clear_refs``), so each stage gets
its own peak; the whole run's peak is the largest of them. Stages are the ones the
update reports to its progress callback (embed, bm25, vectors, rename, commit, prune).
Each child also reports the bytes it wrote (``wchar`` of /proc/self/io: every write
call, SQLite's WAL and the segment files included) and the index's size on disk.
Timings on a busy machine run long: check ``uptime``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import record  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from scale import vocabulary  # noqa: E402

DIM = 384
CHUNKS_PER_FILE = 50
WORDS_PER_PARAGRAPH = 56  # ~130 tiktoken tokens of pseudo-words: one 160-token chunk each
GOAL_MB = 1500.0
MEASURED = (
    "assistant/indexing/update.py",
    "assistant/store/writer.py",
    "assistant/store/bm25_write.py",
    "assistant/store/vectors.py",
    "assistant/store/vector_build.py",
)
STAGES = {  # event that starts a stage -> what runs until the next event
    "start": "clean up, plan (scan, stat), load tools",
    "embed": "load, chunk, embed, SQLite rows, FAISS add",
    "bm25": "BM25 postings of the new segment",
    "vectors": "VectorIndex.optimize + save",
    "rename": "fsync, rename the segment",
    "commit": "SQLite commit (WAL, synchronous=FULL)",
    "prune": "dropped segments deleted; a merge may follow",
}


class StandInEmbedder:
    """Stands in for the model: clustered unit vectors from a hash of each text, at no cost.

    Not a model: similar texts get unrelated vectors. It only gives FAISS vectors shaped
    like embeddings (384 dims, unit length, in clusters) so that memory and time of
    everything but the model can be measured at a million chunks.
    """

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._topics = _unit(rng.standard_normal((256, DIM)).astype(np.float32))
        self._noise = _unit(rng.standard_normal((4096, DIM)).astype(np.float32))

    @property
    def name(self) -> str:
        return "stand-in-hash-384"

    @property
    def max_tokens(self) -> int:
        return 256

    def dimension(self) -> int:
        return DIM

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [int(len(t.split()) * 1.3) for t in texts]  # about WordPiece's count

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        keys = np.array(
            [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest()) for t in texts],
            dtype=np.uint64,
        ).reshape(-1)
        topic, a, b = keys % 256, (keys >> 8) % 4096, (keys >> 20) % 4096
        vectors = self._topics[topic] + 0.7 * (self._noise[a] + self._noise[b])
        return _unit(vectors.astype(np.float32))


def _unit(rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


# --- the parent: corpus, children, table ---------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "memory")
    parser.add_argument(
        "--json", type=Path, help="write the record here (default: benchmarks/results/)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the corpora and indexes")
    parser.add_argument("--child", choices=["build", "update"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.work, full=args.child == "build")))
        return
    versions = {name: _digest(ROOT / name) for name in MEASURED}
    print("code measured: " + ", ".join(f"{k} {v}" for k, v in versions.items()), file=sys.stderr)
    facts = record.start("memory", ROOT, [], {"sizes": args.sizes})
    started = time.perf_counter()
    results = []
    for size in args.sizes:
        folder = args.work / str(size)
        print(f"-- {size:,} chunks in {folder}", file=sys.stderr)
        results.append(run_size(folder, size, update=size == max(args.sizes)))
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(table(results, versions))
    path = args.json or record.RESULTS / "memory.json"
    figures = {"code": versions, "results": results, "goal_mb": GOAL_MB}
    record.finish(facts, figures, time.perf_counter() - started, path)


def run_size(folder: Path, size: int, *, update: bool) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    files = write_corpus(folder / "corpus", size)
    figures: dict[str, Any] = {
        "size": size,
        "files": len(files),
        "corpus_mb": sum(f.stat().st_size for f in files) / 1e6,
        "generate_s": time.perf_counter() - started,
        "load_average": os.getloadavg()[0],
    }
    print(f"   corpus: {figures['generate_s']:.0f} s", file=sys.stderr)
    figures["build"] = _child("build", folder)
    if update:
        changed = files[len(files) // 2]
        changed.write_text(changed.read_text() + "\n\nOne more paragraph, and it is new.\n")
        figures["update"] = _child("update", folder)
    return figures


def write_corpus(folder: Path, size: int) -> list[Path]:
    """~``size`` chunks of pseudo-words in files of ``CHUNKS_PER_FILE`` paragraphs."""
    vocab, cumulative = vocabulary(np.random.default_rng(0))  # one language for all sizes
    rng = np.random.default_rng(size)
    capitals = [w.capitalize() for w in vocab]
    paths = []
    for number in range((size + CHUNKS_PER_FILE - 1) // CHUNKS_PER_FILE):
        paragraphs = min(CHUNKS_PER_FILE, size - number * CHUNKS_PER_FILE)
        picks = np.searchsorted(cumulative, rng.random(paragraphs * WORDS_PER_PARAGRAPH))
        picks = np.minimum(picks, len(vocab) - 1).reshape(paragraphs, -1).tolist()
        lengths = rng.integers(8, 17, paragraphs * 8).tolist()  # sentence lengths in words
        text = []
        for row in picks:
            sentences, at = [], 0
            while at < len(row):
                n = lengths.pop()
                sentences.append(
                    " ".join([capitals[row[at]], *(vocab[w] for w in row[at + 1 : at + n])]) + "."
                )
                at += n
            text.append(" ".join(sentences))
        path = folder / f"part{number // 1000:03d}" / f"doc{number:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(text) + "\n")
        paths.append(path)
    return paths


def _child(kind: str, folder: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--work", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"the {kind} child failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    print(
        f"   {kind}: {figures['seconds']:.0f} s, peak {figures['peak_rss_mb']:.0f} MB",
        file=sys.stderr,
    )
    return figures


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


# --- the child: one update_index, measured -------------------------------------------------


class _Stages:
    """Time and peak RSS of each stage; the peak is reset at every boundary."""

    def __init__(self) -> None:
        self.stages: list[dict[str, Any]] = []
        self._name = "start"
        self._seen = {"start"}
        self._started = time.perf_counter()
        self._resettable = _reset_peak()

    def enter(self, name: str) -> None:
        if name in self._seen:  # progress repeats a stage (embed: once per file)
            return
        self._seen.add(name)
        now = time.perf_counter()
        self.stages.append(
            {
                "stage": self._name,
                "seconds": now - self._started,
                "peak_rss_mb": _status_mb("VmHWM"),
                "end_rss_mb": _status_mb("VmRSS"),
            }
        )
        self._name, self._started = name, now
        if self._resettable:
            _reset_peak()

    def peak_mb(self) -> float:
        if self._resettable:
            return max(s["peak_rss_mb"] for s in self.stages)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_child(folder: Path, *, full: bool) -> dict[str, Any]:
    import faiss  # noqa: F401  (loaded up front, as a build needs it: the baseline includes it)

    from assistant.config import Settings
    from assistant.embedding import Encoders
    from assistant.indexing import update_index

    embedder = StandInEmbedder()
    settings = Settings(corpus=folder / "corpus", index=folder / "index", model=embedder.name)
    stages = _Stages()
    baseline = _status_mb("VmRSS")
    written = _io("wchar")
    started = time.perf_counter()
    report = update_index(
        settings,
        Encoders.single(embedder),
        full=full,
        progress=lambda stage, done, total: stages.enter(stage),
    )
    seconds = time.perf_counter() - started
    written = _io("wchar") - written
    stages.enter("done")
    from assistant.store.commits import read_manifest

    index_bytes = sum(p.stat().st_size for p in settings.index.rglob("*") if p.is_file())
    return {
        "seconds": seconds,
        "peak_rss_mb": stages.peak_mb(),
        "baseline_rss_mb": baseline,
        "stages": stages.stages,
        "chunks_total": report.chunks_total,
        "chunks_embedded": report.chunks_embedded,
        "vector_index": read_manifest(settings.index)["vector_index"],
        "bytes_written": written,
        "index_bytes": index_bytes,
    }


def _io(key: str) -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset VmHWM (Linux >= 4.0); False where that isn't allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- report --------------------------------------------------------------------------------


def table(results: list[dict[str, Any]], versions: dict[str, str]) -> str:
    rows: list[tuple[str, ...]] = [
        ("chunks", "files", "corpus (written in)", "index", "chunks/s", "peak RSS", "goal", ""),
    ]
    for r in results:
        b = r["build"]
        rows.append(
            (
                f"{b['chunks_total']:,}",
                f"{r['files']:,}",
                f"{r['corpus_mb']:.0f} MB ({r['generate_s']:.0f} s)",
                f"{b['seconds']:.0f} s",
                f"{b['chunks_total'] / b['seconds']:,.0f}",
                f"{b['peak_rss_mb']:.0f} MB",
                f"<= {GOAL_MB:.0f} MB",
                _mark(b["peak_rss_mb"] <= GOAL_MB),
            )
        )
        if "update" in r:
            u = r["update"]
            rows.append(
                (
                    "  one file changed",
                    "",
                    f"wrote {u['bytes_written'] / 1e6:.2f} MB of {u['index_bytes'] / 1e6:.0f} MB",
                    f"{u['seconds']:.2f} s",
                    "",
                    f"{u['peak_rss_mb']:.0f} MB",
                    f"<= {GOAL_MB:.0f} MB",
                    _mark(u["peak_rss_mb"] <= GOAL_MB),
                )
            )
    lines = [
        "Memory: full index build of a synthetic .txt corpus, real pipeline, "
        f"{os.cpu_count()} cores",
        "THE MODEL IS STOOD IN FOR (hashed vectors): add its own ~0.3-0.8 GB (benchmarks/speed.py)",
        "code: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "",
        *_columns(rows),
    ]
    if len(results) > 1:
        first, last = results[0]["build"], results[-1]["build"]
        grew = last["peak_rss_mb"] - first["peak_rss_mb"]
        per = grew / max(1, last["chunks_total"] - first["chunks_total"]) * 100_000
        lines += [
            "",
            f"peak growth {first['chunks_total']:,} -> {last['chunks_total']:,} chunks: "
            f"{grew:+.0f} MB ({per:+.0f} MB per 100k chunks)",
        ]
    for r in results:
        for kind in ("build", "update"):
            if kind in r:
                lines += [
                    "",
                    f"{r['size']:,} chunks, {kind} (load average {r['load_average']:.1f}):",
                ]
                lines += _columns(
                    [("  stage", "time", "peak RSS", "RSS after")]
                    + [
                        (
                            f"  {STAGES.get(s['stage'], s['stage'])}",
                            f"{s['seconds']:.1f} s",
                            f"{s['peak_rss_mb']:.0f} MB",
                            f"{s['end_rss_mb']:.0f} MB",
                        )
                        for s in r[kind]["stages"]
                    ]
                )
                lines.append(f"  vectors: {r[kind]['vector_index']}")
    return "\n".join(lines)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
