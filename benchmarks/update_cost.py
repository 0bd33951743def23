"""Update cost: bytes a one-file update writes, against the size of the index (goal <= 5%).

    python benchmarks/update_cost.py [--data ../shared/data] [--count 5183]

The SciFact abstracts (5,183; ``../shared/data/scifact``) are written as files, indexed
in a fresh child process, then one abstract is edited and a second fresh child runs the
incremental update. Each child reports what it wrote: ``wchar`` of /proc/self/io (every
byte passed to write(): SQLite's WAL and database, the segment's files) and
``write_bytes`` (what reached the block layer, after the page cache). The index size is
every file under index/ after the update.

THE MODEL IS STOOD IN FOR (``memory.StandInEmbedder``: 384-dim hashed unit vectors, what
all-MiniLM-L6-v2 gives in size but not in meaning), so the figure is the store's alone;
the model's own encoder copy in index/encoder-*/ is not written by updates either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

GOAL = 0.05
SCIFACT = Path("scifact") / "corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "update")
    parser.add_argument("--count", type=int, default=5183)
    parser.add_argument("--child", choices=["build", "update"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.work, full=args.child == "build")))
        return
    if not (args.data / SCIFACT).is_file():
        print(f"data not found: {args.data / SCIFACT}", file=sys.stderr)
        sys.exit(2)
    shutil.rmtree(args.work, ignore_errors=True)
    corpus = args.work / "corpus"
    corpus.mkdir(parents=True)
    lines = (args.data / SCIFACT).read_text().splitlines()[: args.count]
    for line in lines:
        doc = json.loads(line)
        (corpus / f"{doc['_id']}.txt").write_text(f"{doc['title']}\n\n{doc['text']}\n")
    build = run("build", args.work)
    files = sorted(corpus.glob("*.txt"))
    edited = files[len(files) // 2]
    edited.write_text(edited.read_text() + "\nAn added closing sentence.\n")
    update = run("update", args.work)
    size = update["index_bytes"]
    print(
        f"Update cost: {len(lines):,} SciFact abstracts, stand-in embedder, {os.cpu_count()} cores"
    )
    print(f"  full build: {build['seconds']:.1f} s, wrote {build['wchar'] / 1e6:.1f} MB")
    print(f"  one-file update: {update['seconds']:.2f} s, {update['segments']} segments after it")
    for key, what in (("wchar", "written (write calls)"), ("write_bytes", "to the disk")):
        share = update[key] / size
        print(
            f"  bytes {what}: {update[key] / 1e6:.2f} MB of {size / 1e6:.1f} MB = {share:.2%}"
            f"   goal <= {GOAL:.0%} {'met' if share <= GOAL else 'MISSED'}"
        )


def run(kind: str, work: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--work", str(work)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the {kind} child failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def child(work: Path, *, full: bool) -> dict[str, Any]:
    from memory import StandInEmbedder

    from assistant.config import Settings
    from assistant.embedding import Encoders
    from assistant.indexing import update_index
    from assistant.store.commits import read_manifest

    embedder = StandInEmbedder()
    settings = Settings(corpus=work / "corpus", index=work / "index", model=embedder.name)
    before = _io()
    started = time.perf_counter()
    update_index(settings, Encoders.single(embedder), full=full)
    seconds = time.perf_counter() - started
    after = _io()
    return {
        "seconds": seconds,
        "wchar": after["wchar"] - before["wchar"],
        "write_bytes": after["write_bytes"] - before["write_bytes"],
        "index_bytes": sum(p.stat().st_size for p in settings.index.rglob("*") if p.is_file()),
        "segments": read_manifest(settings.index)["segments"],
    }


def _io() -> dict[str, int]:
    pairs = (line.split(":") for line in Path("/proc/self/io").read_text().splitlines())
    return {key: int(value) for key, value in pairs}


if __name__ == "__main__":
    main()
