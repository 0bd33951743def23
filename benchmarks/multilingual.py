"""Answer quality per language: German, French, Spanish, Chinese, Arabic, Japanese, English.

    python benchmarks/multilingual.py                       # every language, the default model
    python benchmarks/multilingual.py --model multilingual-e5-small
    python benchmarks/multilingual.py --languages de,zh --quick

For each language a fixed, seeded sample of paragraphs (250; 60 with ``--quick``) of its
SQuAD-style file under ``../shared/data/multilingual-qa/`` (see its README) is written as
one UTF-8 .txt file per paragraph (``a012/p003.txt``) under
``benchmarks/.work/languages/<language>/corpus``, and indexed with the code users run
(``Assistant.update_index``, default settings but ``--model``; the document language is
the settings' default) into a new index folder per model beside it. A seeded
sample of the questions about those paragraphs (up to 400; 80 with ``--quick``) is then
asked in the paragraphs' language, each ``ask`` timed on its own in a warm process.
English is SQuAD v1.1 dev's tuning split (its even articles: ``corpora.split_of``); the
reporting split's odd articles are never read here.

Figures per language, over the answerable questions:

- right paragraph first: the answer's first citation is in the question's paragraph (an
  abstention has no citation: a miss);
- first sentence holds the answer: a gold answer string appears in the first cited
  sentence. English uses SQuAD's normalization (``assistant.evaluation.contains_answer``,
  as bench-quality's answer-hit@1); other languages a Unicode one (NFKC, case folded,
  every punctuation character a space) matched on word boundaries, and Chinese and
  Japanese, written without spaces, as a plain substring with spaces dropped;
- abstained: the share answered "not found". Spanish (SQuAD-es v2.0) also has questions
  written to have no answer in their paragraph: the share of those abstained on is
  reported apart;
- beside them: retrieval's own first hit (``search``, the question's paragraph ranked
  first), the share of questions whose own paragraph holds a gold answer under the same
  matching (the ceiling of the answer figure: it checks the matching), index time per
  chunk (the whole update: wall time / chunks; and the embedding alone) and question
  time p50 / p95.

Across languages (``--across``, with English, Spanish and German in the run): MLQA's
parallel questions are not among the files (the German set is de-de only), but
SQuAD-es's questions are SQuAD dev's translated, with the same ids. So, over the indexes
just built: English questions (dev's even articles only) about the Spanish paragraphs
and Spanish questions about the English ones, each whose twin's paragraph is in that
corpus (right paragraph first, first sentence holds the answer, in the paragraph's
language, and abstained, as above, beside search's first hit); and unrelated questions
(English ones over the German paragraphs, German ones over the English paragraphs:
none has its answer there), of which the share abstained on. Up to ``ACROSS`` questions
each (a third with ``--quick``), seeded.

Each run prints a table and writes a stamped record (see record.py):
``benchmarks/results/languages.json`` for the default model, ``languages-<model>.json``
for another, with ``-quick`` and the languages run in the name when it was not all of
them (or ``--json``). languages_figures.py renders the docs' table from the records.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import time
import traceback
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# benchmarks/ is on sys.path when run as a script
import record  # noqa: E402
from corpora import write_if_changed  # noqa: E402
from datafiles import SQUAD, require  # noqa: E402

from assistant import Answer, Assistant, Settings  # noqa: E402
from assistant.config import DEFAULT_MODEL  # noqa: E402
from assistant.evaluation import contains_answer  # noqa: E402

SEED = 27  # issue 27
PARAGRAPHS = 250
QUESTIONS = 400
QUICK_PARAGRAPHS = 60
QUICK_QUESTIONS = 80
EXAMPLES = 4  # misses of each kind kept in the record
ACROSS = 240  # questions of each cross-language set
WARM_UP = "What is this collection about?"
UNSPACED = ("zh", "ja")  # written without spaces between words


@dataclass(frozen=True)
class Dataset:
    """A language's SQuAD-style file under the data folder."""

    name: str
    file: str
    even_articles_only: bool = False  # SQuAD v1.1 dev: its tuning split


DATASETS: dict[str, Dataset] = {
    "en": Dataset("English", SQUAD, even_articles_only=True),
    "de": Dataset("German", "multilingual-qa/mlqa-de-dev.json.gz"),
    "fr": Dataset("French", "multilingual-qa/piaf-fr-v1.1.json.gz"),
    "es": Dataset("Spanish", "multilingual-qa/squad-es-v2.0-dev-small.json.gz"),
    "zh": Dataset("Chinese (Traditional)", "multilingual-qa/drcd-zh-hant-dev.json.gz"),
    "ar": Dataset("Arabic", "multilingual-qa/arcd-ar.json.gz"),
    "ja": Dataset("Japanese", "multilingual-qa/jaquad-ja-dev.json.gz"),
}


@dataclass(frozen=True)
class Question:
    """A question about one indexed paragraph; no answers: written to have none."""

    text: str
    answers: tuple[str, ...]
    source: str  # the paragraph's file, corpus-relative
    paragraph: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the model setting")
    parser.add_argument(
        "--languages",
        default=",".join(DATASETS),
        help=f"comma-separated, of {','.join(DATASETS)} (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_PARAGRAPHS} paragraphs and {QUICK_QUESTIONS} questions a language",
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument("--json", type=Path, help="write the record here")
    parser.add_argument(
        "--across",
        action="store_true",
        help="also ask across languages (English, Spanish and German must be in the run)",
    )
    args = parser.parse_args()
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    unknown = [code for code in languages if code not in DATASETS]
    if unknown or not languages:
        parser.error(f"unknown languages {unknown}: use some of {','.join(DATASETS)}")
    if args.across and not {"en", "es", "de"} <= set(languages):
        parser.error("--across asks over the English, Spanish and German corpora: run en,es,de")
    files = [DATASETS[code].file for code in languages]
    require(args.data, *files)
    paragraphs, questions = (
        (QUICK_PARAGRAPHS, QUICK_QUESTIONS) if args.quick else (PARAGRAPHS, QUESTIONS)
    )
    options = {
        "model": args.model,
        "languages": languages,
        "quick": args.quick,
        "paragraphs": paragraphs,
        "questions": questions,
        "seed": SEED,
        "across": args.across,
    }
    facts = record.start("languages", args.data, files, options)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for code in languages:
        results[code] = measure(code, args, paragraphs, questions)
    print_table(args.model, results)
    figures: dict[str, Any] = {"model": args.model, "quick": args.quick, "languages": results}
    if args.across:
        figures["across"] = measure_across(args, ACROSS // 3 if args.quick else ACROSS)
        print_across(figures["across"])
    name = record_name(args.model, languages, args.quick, args.across)
    path = args.json or record.RESULTS / f"{name}.json"
    record.finish(facts, figures, time.perf_counter() - started, path)


def record_name(model: str, languages: Sequence[str], quick: bool, across: bool = False) -> str:
    """``languages``, then the model unless it is the default, ``quick``, the languages
    run unless they were all, and ``across`` when asked."""
    parts = ["languages"]
    if model != DEFAULT_MODEL:
        parts.append(Path(model).name)  # a folder's name, for a model given as a folder
    if quick:
        parts.append("quick")
    if list(languages) != list(DATASETS):
        parts.extend(languages)
    if across:
        parts.append("across")
    return "-".join(parts)


# --- The corpus and its questions --------------------------------------------------------


def read_dataset(path: Path) -> list[dict[str, Any]]:
    """The articles of a SQuAD-style JSON file, gzip'd or not."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    articles: list[dict[str, Any]] = json.loads(raw.decode("utf-8"))["data"]
    return articles


def write_corpus(
    data: Path, code: str, corpus: Path, paragraphs: int, questions: int
) -> list[Question]:
    """Write a seeded sample of ``paragraphs`` of the language's file, one file each (and
    remove any other .txt file there), and return a seeded sample of up to ``questions``
    of their questions, in file order. Fewer than ``PARAGRAPHS`` are the first of the
    sample of ``PARAGRAPHS``."""
    dataset = DATASETS[code]
    everything = []
    for a, article in enumerate(read_dataset(data / dataset.file)):
        if dataset.even_articles_only and a % 2:
            continue  # SQuAD dev's reporting split (odd articles): never read here
        for p, paragraph in enumerate(article["paragraphs"]):
            everything.append((f"a{a:03d}/p{p:03d}.txt", paragraph))
    rng = random.Random(SEED)
    # The whole run's sample, of which a quick run takes the first part: its paragraphs are
    # the whole run's (training/fit_abstention.py leaves those out of its fit).
    drawn = rng.sample(range(len(everything)), min(max(paragraphs, PARAGRAPHS), len(everything)))
    chosen = [everything[i] for i in sorted(drawn[:paragraphs])]
    wanted = {path for path, _ in chosen}
    for stale in corpus.rglob("*.txt"):
        if stale.relative_to(corpus).as_posix() not in wanted:
            stale.unlink()
    asked: list[Question] = []
    for path, paragraph in chosen:
        write_if_changed(corpus / path, paragraph["context"])
        for qa in paragraph["qas"]:
            answers = () if qa.get("is_impossible") else tuple(a["text"] for a in qa["answers"])
            text = qa["question"].strip()
            if text:
                asked.append(
                    Question(text, tuple(dict.fromkeys(answers)), path, paragraph["context"])
                )
    if len(asked) > questions:
        asked = [asked[i] for i in sorted(rng.sample(range(len(asked)), questions))]
    return asked


# --- Matching answers ----------------------------------------------------------------------


def plain(text: str) -> str:
    """NFKC, case folded, each punctuation character a space, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def holds_answer(text: str, answers: Sequence[str], code: str) -> bool:
    """Whether a gold answer appears in ``text`` (see the module's docstring)."""
    if code == "en":
        return contains_answer(text, answers)
    if code in UNSPACED:
        haystack = plain(text).replace(" ", "")
        return any(g in haystack for g in (plain(a).replace(" ", "") for a in answers) if g)
    padded = f" {plain(text)} "
    return any(f" {g} " in padded for g in (plain(a) for a in answers) if g)


# --- Measuring one language ----------------------------------------------------------------


def measure(code: str, args: argparse.Namespace, paragraphs: int, questions: int) -> dict[str, Any]:
    dataset = DATASETS[code]
    work = args.work / ("languages-quick" if args.quick else "languages") / code
    asked = write_corpus(args.data, code, work / "corpus", paragraphs, questions)
    index = work / f"index-{Path(args.model).name}"
    shutil.rmtree(index, ignore_errors=True)  # built afresh: the time of a first index
    settings = Settings(corpus=work / "corpus", index=index, model=args.model)
    assistant = Assistant(settings)
    started = time.perf_counter()
    report = assistant.update_index()
    index_s = time.perf_counter() - started
    print(
        f"[{dataset.name}] index: {report.chunks_total} chunks of {paragraphs} paragraphs, "
        f"{index_s:.1f}s",
        file=sys.stderr,
    )
    assistant.warm_up()
    searched = assistant.search_many([q.text for q in asked], k=10)
    retrieved = [
        bool(r.hits) and r.hits[0].chunk.path == q.source
        for q, r in zip(asked, searched, strict=True)
    ]
    answers, times, errors = ask_each(assistant, asked)
    answerable = [i for i, q in enumerate(asked) if q.answers]
    unanswerable = [i for i, q in enumerate(asked) if not q.answers]

    def first_file(i: int) -> bool:
        answer = answers[i]
        return (
            answer is not None
            and bool(answer.citations)
            and (answer.citations[0].path == asked[i].source)
        )

    def first_sentence(i: int) -> bool:
        answer = answers[i]
        return (
            answer is not None
            and bool(answer.citations)
            and holds_answer(answer.citations[0].sentence, asked[i].answers, code)
        )

    def abstained(i: int) -> bool:
        answer = answers[i]
        return answer is not None and answer.abstained

    def share(chosen: Sequence[int], test: Any) -> float | None:
        return round(sum(bool(test(i)) for i in chosen) / len(chosen), 4) if chosen else None

    figures: dict[str, Any] = {
        "language": dataset.name,
        "file": dataset.file,
        "paragraphs": paragraphs,
        "questions": len(asked),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "right_paragraph_first": share(answerable, first_file),
        "first_sentence_holds_answer": share(answerable, first_sentence),
        "abstained": share(answerable, abstained),
        "unanswerable_abstained": share(unanswerable, abstained),
        "retrieved_first": share(answerable, lambda i: retrieved[i]),
        "paragraph_holds_answer": share(
            answerable, lambda i: holds_answer(asked[i].paragraph, asked[i].answers, code)
        ),
        "index": {
            "chunks": report.chunks_total,
            "seconds": round(index_s, 2),
            "ms_per_chunk": round(1000 * index_s / max(1, report.chunks_total), 2),
            "embedding_ms_per_chunk": (
                round(1000 / report.chunks_per_second, 2) if report.chunks_per_second else None
            ),
            "encoder": assistant.encoders.label,
        },
        "question_ms": record.percentiles(times),
        "errors": len(errors),
        "error_examples": errors[:EXAMPLES],
        "examples": examples(asked, answers, answerable, first_file, first_sentence, code),
    }
    print_language(figures)
    return figures


def ask_each(
    assistant: Assistant, asked: Sequence[Question]
) -> tuple[list[Answer | None], list[float], list[dict[str, str]]]:
    """Ask each question alone after a warm-up question, from empty caches: the answers
    (None where ``ask`` raised), each ``ask``'s milliseconds, and what was raised."""
    assistant.clear_caches()
    assistant.ask(WARM_UP)
    answers: list[Answer | None] = []
    times: list[float] = []
    errors: list[dict[str, str]] = []
    for question in asked:
        started = time.perf_counter()
        try:
            answers.append(assistant.ask(question.text))
        except Exception as exc:  # noqa: BLE001 - counted, kept in the record and printed
            answers.append(None)
            errors.append(
                {
                    "question": question.text,
                    "error": f"{type(exc).__name__}: {exc}",
                    "where": traceback.format_exc(limit=-3),
                }
            )
            print(f"  ask raised {type(exc).__name__}: {exc} ({question.text!r})", file=sys.stderr)
        times.append((time.perf_counter() - started) * 1000)
    return answers, times, errors


def examples(
    asked: Sequence[Question],
    answers: Sequence[Answer | None],
    answerable: Sequence[int],
    first_file: Any,
    first_sentence: Any,
    code: str,
) -> dict[str, list[dict[str, Any]]]:
    """The first few answerable questions abstained on, cited from another paragraph,
    and cited from their paragraph but by a sentence without the answer."""
    kept: dict[str, list[dict[str, Any]]] = {
        "abstained": [],
        "other_paragraph": [],
        "sentence_without_answer": [],
    }
    for i in answerable:
        answer = answers[i]
        if answer is None:
            continue
        if answer.abstained:
            kind = "abstained"
        elif not first_file(i):
            kind = "other_paragraph"
        elif not first_sentence(i):
            kind = "sentence_without_answer"
        else:
            continue
        if len(kept[kind]) < EXAMPLES:
            kept[kind].append(
                {
                    "question": asked[i].text,
                    "answers": list(asked[i].answers),
                    "source": asked[i].source,
                    "cited": answer.citations[0].path if answer.citations else None,
                    "sentence": answer.citations[0].sentence if answer.citations else None,
                    "confidence": round(answer.confidence, 3),
                }
            )
    return kept


# --- Across languages ----------------------------------------------------------------------


def twins(data: Path, corpus: Path, code: str) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """The answerable questions of a language's file whose paragraph is in ``corpus`` (as
    ``write_corpus`` names them), by id: (paragraph file, question, answers). English:
    the tuning split's only."""
    dataset = DATASETS[code]
    found = {}
    for a, article in enumerate(read_dataset(data / dataset.file)):
        if dataset.even_articles_only and a % 2:
            continue  # SQuAD dev's reporting split (odd articles): never read here
        for p, paragraph in enumerate(article["paragraphs"]):
            path = f"a{a:03d}/p{p:03d}.txt"
            for qa in paragraph["qas"]:
                if not qa.get("is_impossible") and qa["question"].strip():
                    answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"]))
                    found[qa["id"]] = (path, qa["question"].strip(), answers)
    return found


def measure_across(args: argparse.Namespace, size: int) -> dict[str, Any]:
    """Questions asked over another language's corpus of this run (see the docstring)."""
    work = args.work / ("languages-quick" if args.quick else "languages")
    english = twins(args.data, work / "en" / "corpus", "en")
    spanish = twins(args.data, work / "es" / "corpus", "es")
    on_disk = {
        code: {
            p.relative_to(work / code / "corpus").as_posix()
            for p in (work / code / "corpus").rglob("*.txt")
        }
        for code in ("en", "es")
    }
    rng = random.Random(SEED)

    def drawn(items: list[Any]) -> list[Any]:
        return [items[i] for i in sorted(rng.sample(range(len(items)), min(size, len(items))))]

    both = sorted(set(english) & set(spanish))
    german = [
        q.text for q in write_corpus(args.data, "de", work / "de" / "corpus", PARAGRAPHS, QUESTIONS)
    ]
    sets = {
        # name: (the corpus asked over, its language, questions (text, answers, paragraph))
        "en>es": (
            "es",
            [
                Question(english[i][1], spanish[i][2], spanish[i][0], "")
                for i in both
                if spanish[i][0] in on_disk["es"]
            ],
        ),
        "es>en": (
            "en",
            [
                Question(spanish[i][1], english[i][2], english[i][0], "")
                for i in both
                if english[i][0] in on_disk["en"]
            ],
        ),
        "en>de unrelated": ("de", [Question(q[1], (), "", "") for q in english.values()]),
        "de>en unrelated": ("en", [Question(text, (), "", "") for text in german]),
    }
    figures: dict[str, Any] = {}
    for name, (code, questions) in sets.items():
        settings = Settings(
            corpus=work / code / "corpus",
            index=work / code / f"index-{Path(args.model).name}",
            model=args.model,
        )
        figures[name] = ask_across(Assistant(settings), drawn(questions), code)
        shown = ", ".join(f"{k} {v}" for k, v in figures[name].items())
        print(f"[across {name}] {shown}", file=sys.stderr)
    return figures


def ask_across(assistant: Assistant, asked: Sequence[Question], code: str) -> dict[str, Any]:
    """The figures of questions asked over a corpus in language ``code``: the share
    abstained on and, where they are answerable, the others as for one language."""
    answered = assistant.answer_with_hits([q.text for q in asked])

    def share(test: Any) -> float:
        hits = sum(bool(test(q, a, h)) for q, (a, h) in zip(asked, answered, strict=True))
        return round(hits / max(1, len(asked)), 4)

    figures: dict[str, Any] = {
        "questions": len(asked),
        "abstained": share(lambda q, a, h: a.abstained),
    }
    if asked and asked[0].answers:
        figures["retrieved_first"] = share(lambda q, a, h: h and h[0].chunk.path == q.source)
        figures["right_paragraph_first"] = share(
            lambda q, a, h: a.citations and a.citations[0].path == q.source
        )
        figures["first_sentence_holds_answer"] = share(
            lambda q, a, h: a.citations and holds_answer(a.citations[0].sentence, q.answers, code)
        )
    return figures


# --- Printing ------------------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_language(f: dict[str, Any]) -> None:
    print(
        f"[{f['language']}] {f['answerable']} answerable questions: right paragraph first "
        f"{_cell(f['right_paragraph_first'])}, first sentence holds the answer "
        f"{_cell(f['first_sentence_holds_answer'])}, abstained {_cell(f['abstained'])}"
        + (
            f"; {f['unanswerable']} unanswerable abstained {_cell(f['unanswerable_abstained'])}"
            if f["unanswerable"]
            else ""
        ),
        file=sys.stderr,
    )


def print_table(model: str, results: dict[str, dict[str, Any]]) -> None:
    print(f"\nAnswers per language, model {model}")
    header = (
        f"  {'language':<22}{'n':>5}{'para@1':>8}{'sent@1':>8}{'abst':>7}{'unans':>7}"
        f"{'ret@1':>7}{'ceil':>7}{'ms/chunk':>10}{'emb ms':>8}{'q p50':>8}{'q p95':>8}{'err':>5}"
    )
    print(header)
    for f in results.values():
        index, times = f["index"], f["question_ms"]
        emb = index["embedding_ms_per_chunk"]
        print(
            f"  {f['language']:<22}{f['questions']:>5}{_cell(f['right_paragraph_first']):>8}"
            f"{_cell(f['first_sentence_holds_answer']):>8}{_cell(f['abstained']):>7}"
            f"{_cell(f['unanswerable_abstained']):>7}{_cell(f['retrieved_first']):>7}"
            f"{_cell(f['paragraph_holds_answer']):>7}{index['ms_per_chunk']:>10.1f}"
            f"{'-' if emb is None else f'{emb:.1f}':>8}{times['p50_ms']:>8.1f}"
            f"{times['p95_ms']:>8.1f}{f['errors']:>5}"
        )
    print(
        "  para@1: first citation in the question's paragraph; sent@1: first cited sentence "
        "holds a gold answer; abst: answerable questions abstained on; unans: unanswerable "
        "abstained on; ret@1: search's first hit; ceil: the paragraph holds a gold answer "
        "(matching check); ms/chunk: whole update; emb ms: embedding alone; q: each ask (ms)"
    )


def print_across(across: dict[str, dict[str, Any]]) -> None:
    print("\nAcross languages (question>documents)")
    print(f"  {'asked':<18}{'n':>5}{'para@1':>8}{'sent@1':>8}{'abst':>7}{'ret@1':>7}")
    for name, f in across.items():
        print(
            f"  {name:<18}{f['questions']:>5}{_cell(f.get('right_paragraph_first')):>8}"
            f"{_cell(f.get('first_sentence_holds_answer')):>8}{_cell(f['abstained']):>7}"
            f"{_cell(f.get('retrieved_first')):>7}"
        )
    print("  unrelated: no question has its answer there (abst is the share to raise)")


if __name__ == "__main__":
    main()
