"""Measure retrieval and answers on questions with known answers, no model as judge.

Cases are JSON Lines: ``{"question", "answers": [...], "source": "path"}`` with answers
and source optional. Retrieval is scored by where the source file ranks among the
distinct files of the retrieved passages (recall@1/5/10, MRR@10); answers by whether a
gold answer string, normalized as SQuAD does, appears in the first cited sentence(s)
(answer-hit@1) or any of the first three (answer-hit@3); where a reader marked answer
phrases, by SQuAD's exact match and token F1 of the phrase against the gold answers.
``read_questions`` reads the plainer input of ``excerpta batch`` with the same checks.
Must not import textual, click or torch.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import QUESTION_BATCH, Assistant
from .errors import UsageError
from .records import Answer, Hit

# The columns both `excerpta eval` and the quality benchmark print, in order.
METRIC_COLUMNS = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "answer_hit@1",
    "answer_hit@3",
)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’")


@dataclass(frozen=True)
class EvalCase:
    """One question, with the answers and the source file it should find, if known."""

    question: str
    answers: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class CaseResult:
    """How one case went."""

    case: EvalCase
    answer: Answer
    rank: int | None  # 1-based rank of the source among retrieved files, None if absent
    hit1: bool
    hit3: bool


def read_questions(lines: Iterable[str]) -> list[str]:
    """Parse questions, one a line: plain text, or a JSON object with a "question" field.

    Raises:
        UsageError: a line that starts with ``{`` isn't JSON or has no question.
    """
    records = _records(lines, plain_text=True, hint=_QUESTIONS_FORMAT)
    return [record["question"].strip() for _, record in records]


def read_cases(lines: Iterable[str]) -> list[EvalCase]:
    """Parse JSON Lines of cases.

    Raises:
        UsageError: a line isn't JSON, or has no question, or fields of the wrong type.
    """
    cases: list[EvalCase] = []
    for number, record in _records(lines, plain_text=False, hint=_CASES_FORMAT):
        answers = record.get("answers", [])
        source = record.get("source")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise UsageError(
                f'line {number}: "answers" must be a list of strings', hint=_CASES_FORMAT
            )
        if source is not None and not isinstance(source, str):
            raise UsageError(f'line {number}: "source" must be a path string', hint=_CASES_FORMAT)
        cases.append(EvalCase(record["question"].strip(), tuple(answers), source))
    return cases


_QUESTIONS_FORMAT = 'each line: a question, or {"question": "..."}'
_CASES_FORMAT = 'each line: {"question": "...", "answers": ["..."], "source": "path/in/corpus"}'


def _records(
    lines: Iterable[str], *, plain_text: bool, hint: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line's number and JSON object, checked to hold a non-blank
    "question" string. With ``plain_text``, a line not starting with ``{`` is a question."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        if plain_text and not text.startswith("{"):
            yield number, {"question": text}
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"line {number}: not valid JSON ({exc.msg})", hint=hint) from exc
        except RecursionError as exc:  # "[" nested thousands deep
            raise UsageError(f"line {number}: JSON nested too deep", hint=hint) from exc
        question = record.get("question") if isinstance(record, dict) else None
        if not isinstance(question, str) or not question.strip():
            raise UsageError(f'line {number}: no "question" string', hint=hint)
        yield number, record


def normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, no punctuation, articles or extra spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    haystack = f" {normalize(text)} "
    return any(f" {normalize(a)} " in haystack for a in answers if normalize(a))


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """SQuAD's exact match: the normalized phrase equals a normalized gold answer."""
    return any(normalize(prediction) == normalize(a) for a in answers)


def f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD's token F1 of the phrase against the best-matching gold answer."""
    predicted = normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize(answer).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def source_rank(hits: Sequence[Hit], source: str) -> int | None:
    """Rank of ``source`` among the distinct files of ``hits`` (1-based)."""
    seen: list[str] = []
    for hit in hits:
        if hit.chunk.path not in seen:
            seen.append(hit.chunk.path)
            if hit.chunk.path == source:
                return len(seen)
    return None


def run_cases(
    assistant: Assistant, cases: Sequence[EvalCase], *, mode: str, k: int = 10
) -> list[CaseResult]:
    """Ask every case's question and score what came back."""
    results: list[CaseResult] = []
    for start in range(0, len(cases), QUESTION_BATCH):
        group = cases[start : start + QUESTION_BATCH]
        answered = assistant.answer_with_hits([c.question for c in group], k=k, mode=mode)
        for case, (answer, hits) in zip(group, answered, strict=True):
            sentences = [c.sentence for c in answer.citations]
            results.append(
                CaseResult(
                    case=case,
                    answer=answer,
                    rank=source_rank(hits, case.source) if case.source else None,
                    hit1=bool(sentences) and contains_answer(sentences[0], case.answers),
                    hit3=any(contains_answer(s, case.answers) for s in sentences[:3]),
                )
            )
    return results


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Recall@1/5/10, MRR@10, answer-hit@1/3, abstention rate and latency."""
    with_source = [r for r in results if r.case.source]
    with_answers = [r for r in results if r.case.answers]
    latencies = np.array([r.answer.elapsed_ms for r in results] or [0.0])

    # Phrases are scored where a reader marked any; a question without one scores 0.
    phrases = [r.answer.span.text if r.answer.span else "" for r in with_answers]
    read = any(phrases)

    def recall(k: int) -> float | None:
        if not with_source:
            return None
        return sum(r.rank is not None and r.rank <= k for r in with_source) / len(with_source)

    return {
        "questions": len(results),
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        "mrr@10": (
            sum(1 / r.rank for r in with_source if r.rank and r.rank <= 10) / len(with_source)
            if with_source
            else None
        ),
        "answer_hit@1": (
            sum(r.hit1 for r in with_answers) / len(with_answers) if with_answers else None
        ),
        "answer_hit@3": (
            sum(r.hit3 for r in with_answers) / len(with_answers) if with_answers else None
        ),
        "span_em": (
            sum(exact_match(p, r.case.answers) for p, r in zip(phrases, with_answers, strict=True))
            / len(with_answers)
            if read
            else None
        ),
        "span_f1": (
            sum(f1(p, r.case.answers) for p, r in zip(phrases, with_answers, strict=True))
            / len(with_answers)
            if read
            else None
        ),
        "abstained": sum(r.answer.abstained for r in results) / max(1, len(results)),
        "latency_ms_p50": float(np.percentile(latencies, 50)),
        "latency_ms_p95": float(np.percentile(latencies, 95)),
    }
