"""Extractive answers: the sentence(s) of the retrieved passages that best answer.

Each candidate sentence is scored by its embedding similarity to the question, the
share of the question's content words it contains, and the rank of its passage. The
best become numbered citations with an excerpt of context around them. When even the
best sentence is a weak match, the answer abstains instead of citing something
unrelated. Must not import textual or torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .abstention import Abstention, CosineScale, Evidence
from .answer_kinds import answer_kinds
from .records import Answer, Citation, Hit
from .text.analysers import CJK_CHARS
from .text.language import UNKNOWN, question_language
from .text.reflow import LEADER, join_lines
from .text.sentences import sentence_spans
from .text.terms import tokenize

_PASSAGES = 5  # passages whose sentences compete for the answer
_EMBEDDED = 10  # of their sentences, how many (the likeliest by words and rank) are embedded
_MIN_WORDS = 3  # shorter "sentences" are headings and bylines, not answers
_CONTEXT_CHARS = 220  # at most this much context on each side of a cited sentence
# Question words found only in the previous sentence ("Castillo" for "He was charged")
# count this much.
_CONTEXT_SHARE = 0.5
# The languages a question may be asked in across its documents' (of the multilingual
# model's tuning data): the question's is told among these and the first passage's.
ACROSS_LANGUAGES = frozenset({"en", "de", "fr", "es", "zh", "ar", "ja"})
_CITE_SHARE = 0.6  # a further citation scores at least this share of the best one
_LIST_CHARS = 600  # a sentence that introduces a list ("demanding:") takes the list along
# Question words say what kind of answer is wanted, but are not words to match.
_QUESTION_WORDS = frozenset(
    "who whom whose what when where which why how mani much long old did do doe".split()
)


@dataclass(frozen=True)
class AnswerPolicy:
    """Weights of the sentence score and the abstention thresholds."""

    cosine_weight: float = 0.55
    overlap_weight: float = 0.30
    passage_weight: float = 0.15
    # Bonus for a sentence holding the kind of answer asked for (a date for "when").
    answer_type_bonus: float = 0.2
    # Abstain when the calibrated confidence that the answer is supported is below this.
    abstain_below: float = 0.5
    max_citations: int = 3
    # Weight of a reader's support for a sentence (0 to 1: how sure it is that the answer
    # phrase is in it), where a reader read the passages. Tuned on the held-out tuning
    # articles (training/tune_reading.py): 0.25 to 3 score alike, 0 loses 5 points of hits.
    reader_weight: float = 0.75
    # Where a reader reads, the scorer abstains only below this (no match to speak of):
    # above it the reader's "no answer" decides, which tells near misses apart. Tuned
    # there too: at 0 a question whose article is missing is answered 19% of the time,
    # at 0.3 8% (the scorer alone: 9%), at 0.5 the answerable ones fall to 87%.
    read_abstain_below: float = 0.3
    # The embedding model's cosines mapped onto the default's scale, and the abstention
    # model fitted with them (abstention.py).
    cosine_scale: CosineScale = CosineScale()
    abstention: Abstention = Abstention()


Support = Callable[[Hit, int, int], float]
"""How strongly a reader backs the sentence at ``start:end`` of a hit's passage text
(with the list it introduces), from 0 to 1."""


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    rank: int
    start: int  # offsets inside hit.chunk.text
    end: int
    text: str  # as it reads: wrapped lines joined, hyphenation undone
    context: str  # the sentence before it and the sentence: "He was charged" needs its "he"


def compose_answer(
    question: str,
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    sentence_vectors: np.ndarray,
    policy: AnswerPolicy = AnswerPolicy(),
    support: Support | None = None,
) -> Answer:
    """Pick the answer sentence(s) from ``hits`` and cite them.

    Args:
        sentence_vectors: one row per sentence of ``sentences_to_embed(question, hits,
            policy, support)``, in that order, embedded as documents.
        support: a reader's backing of each sentence, weighed in by
            ``policy.reader_weight``.
    """
    ranked = _rank(question, query_vector, hits, sentence_vectors, policy, support)
    if ranked is None:
        return Answer(question, "", True)
    confidence = policy.abstention.confidence(ranked.evidence)
    if confidence < policy.abstain_below:
        return Answer(question, "", True, confidence=confidence)
    scores, order = ranked.scores, ranked.order
    top = order[0]
    # Further citations must be near the best one: a weak match adds noise, not support.
    kept = [i for i in order[: policy.max_citations] if scores[i] >= _CITE_SHARE * scores[top]]
    citations = tuple(_cite(n, ranked.candidates[i], scores[i]) for n, i in enumerate(kept, 1))
    return Answer(
        question,
        f"{citations[0].sentence} [1]",
        False,
        citations,
        confidence=confidence,
    )


def answer_evidence(
    question: str,
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    sentence_vectors: np.ndarray,
    policy: AnswerPolicy = AnswerPolicy(),
    support: Support | None = None,
) -> Evidence | None:
    """What the abstention model weighs for the sentence ``compose_answer`` would cite
    first, given the same arguments (None: no candidate sentence, which abstains)."""
    ranked = _rank(question, query_vector, hits, sentence_vectors, policy, support)
    return None if ranked is None else ranked.evidence


@dataclass(frozen=True)
class _Ranked:
    candidates: list[_Candidate]
    scores: list[float]
    order: list[int]  # candidates, best first
    evidence: Evidence  # of the best


def _rank(
    question: str,
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    sentence_vectors: np.ndarray,
    policy: AnswerPolicy,
    support: Support | None,
) -> _Ranked | None:
    found = _shortlist(question, hits, policy, support)
    if found is None:
        return None
    candidates = found.candidates
    if len(sentence_vectors) != len(found.embedded):
        raise ValueError("sentence_vectors must match sentences_to_embed")
    cosines = np.full(len(candidates), -1.0, dtype=np.float32)
    if found.embedded:
        scale = policy.cosine_scale
        cosines[found.embedded] = scale.factor * (sentence_vectors @ query_vector) + scale.shift
    terms, words, partial = found.terms, found.words, found.partial
    scores = [
        policy.cosine_weight * float(cos) + rest for cos, rest in zip(cosines, partial, strict=True)
    ]
    order = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)
    top = order[0]
    dense = hits[0].dense_score
    evidence = Evidence(
        sentence_cosine=float(cosines[top]),
        sentence_overlap=_share(terms, words[top]),
        passage_overlap=_share(terms, set(tokenize([hits[0].chunk.text], found.language)[0])),
        passage_cosine=0.0 if dense is None else policy.cosine_scale(dense),
        **_across(question, hits[0], float(cosines[top]), policy.abstention),
    )
    return _Ranked(candidates, scores, order, evidence)


def weighs_across(abstention: Abstention) -> bool:
    """Whether the abstention model weighs a question asked across languages."""
    return bool({name for name, _ in abstention.weights} & {"across", "across_cosine"})


def asked_across(question: str, passage_language: str) -> bool:
    """Whether ``question`` is in another language than ``passage_language`` (told among
    ``ACROSS_LANGUAGES`` and it; the language model loads on first need)."""
    known = ACROSS_LANGUAGES | {passage_language}
    return passage_language != UNKNOWN and question_language(question, known) != passage_language


def _across(question: str, first: Hit, cosine: float, abstention: Abstention) -> dict[str, float]:
    """Whether the question is asked in another language than the first passage's, and
    the best sentence's cosine where it is. Only for an abstention model that weighs them:
    telling a question's language apart from every other loads the language model."""
    if not weighs_across(abstention):
        return {}
    across = float(asked_across(question, first.chunk.language))
    return {"across": across, "across_cosine": across * cosine}


def sentences_to_embed(
    question: str,
    hits: Sequence[Hit],
    policy: AnswerPolicy = AnswerPolicy(),
    support: Support | None = None,
) -> list[str]:
    """The sentences ``compose_answer`` will embed for this question, so a batch of
    questions can embed all of theirs in one call."""
    found = _shortlist(question, hits, policy, support)
    return [] if found is None else [found.candidates[i].text for i in found.embedded]


@dataclass(frozen=True)
class _Shortlist:
    """The candidate sentences, scored short of their embedding."""

    candidates: list[_Candidate]
    terms: set[str]  # the question's content words
    words: list[set[str]]  # each candidate's words
    partial: list[float]  # each candidate's score without its cosine
    embedded: list[int]  # the likeliest candidates: only these are embedded
    language: str  # the question's, among its passages' languages


def _shortlist(
    question: str, hits: Sequence[Hit], policy: AnswerPolicy, support: Support | None
) -> _Shortlist | None:
    """Candidates with their scores short of the embedding, and the likeliest to embed."""
    candidates = _candidates(hits[:_PASSAGES])
    if not candidates:
        return None
    language = question_language(question, {h.chunk.language for h in hits[:_PASSAGES]})
    terms = set(tokenize([question], language)[0]) - _QUESTION_WORDS
    languages = [c.hit.chunk.language for c in candidates]
    texts = [c.text for c in candidates] + [c.context for c in candidates]
    words = [set(w) for w in tokenize(texts, languages * 2)]
    overlaps = [
        own + _CONTEXT_SHARE * (with_context - own)
        for own, with_context in zip(
            _overlaps(terms, words[: len(candidates)]),
            _overlaps(terms, words[len(candidates) :]),
            strict=True,
        )
    ]
    best_passage = max(h.score for h in hits) or 1.0
    wanted = answer_kinds(question, language)
    partial = [
        policy.overlap_weight * overlap
        + policy.passage_weight * max(0.0, c.hit.score / best_passage)
        + policy.answer_type_bonus * sum(holds(c.text, question) for holds in wanted)
        + (0.0 if support is None else policy.reader_weight * support(c.hit, *_extent(c)))
        for c, overlap in zip(candidates, overlaps, strict=True)
    ]
    # Embedding sentences is most of a question's cost: only the likeliest are embedded.
    shortlist = sorted(range(len(candidates)), key=lambda i: partial[i], reverse=True)
    return _Shortlist(candidates, terms, words, partial, shortlist[:_EMBEDDED], language)


def _candidates(hits: Sequence[Hit]) -> list[_Candidate]:
    """Sentences of the passages, each once even where chunks overlap."""
    seen: set[tuple[str, int]] = set()
    found: list[_Candidate] = []
    for rank, hit in enumerate(hits):
        text = hit.chunk.text
        previous_start: int | None = None
        for start, end in sentence_spans(text, lead=hit.chunk.column, language=hit.chunk.language):
            key = (hit.chunk.path, hit.chunk.char_start + start)
            sentence = text[start:end]
            context_start = start if previous_start is None else previous_start
            previous_start = start
            if key in seen or not _is_prose(sentence):
                continue
            seen.add(key)
            context = join_lines(text[context_start:end])
            found.append(_Candidate(hit, rank, start, end, join_lines(sentence), context))
    return found


def _share(terms: set[str], words: set[str]) -> float:
    return len(terms & words) / len(terms) if terms else 0.0


# An index entry ("harbour fees, 12, 45-47") or a page label ("Page 4", "4 of 12").
_INDEX_ENTRY = re.compile(r"(?:,\s+\d+(?:\s*[-–]\s*\d+)?)+\s*$")
_TABLE_ROW = re.compile(r"[^:\n]{2,80}: [^\n]*\d[^\n]*$")
# A row of named cells ("Harbour master: Name Tiberius Vance; Office North Pier"), as
# text/tables.row_line writes spreadsheet and table rows, answers without figures too.
_NAMED_ROW = re.compile(r"[^:;\n]{2,80}: [^;\n]+(?:; [^;\n]+)+$")
_CJK = re.compile(f"[{CJK_CHARS}]")
_PAGE_LABEL = re.compile(r"^\W*(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?\W*$", re.I)


def _is_prose(sentence: str) -> bool:
    """Headings, bylines and labels ("W. T. Whitney Jr.", "CONTRIBUTOR") are not answers,
    nor are the lines of a contents page (dot leaders, page numbers) or of an index."""
    lines = [line for line in sentence.split("\n") if line.strip()]
    if any(LEADER.search(line) or _PAGE_LABEL.match(line) for line in lines):
        return False
    if sum(bool(_INDEX_ENTRY.search(line)) for line in lines) * 2 >= len(lines):
        return False
    # Han, kana and hangul characters count as words, and as words of no case (as do
    # Arabic ones): such a sentence has no lower-case words to show it is prose.
    words = sentence.split() + _CJK.findall(sentence)
    lower = sum(1 for w in words if w[:1].islower() or (w[:1].isalpha() and not w[:1].isupper()))
    # A table row ("Harbour fees: 2023 120,000; 2024 135,500") answers with its figures.
    row = bool(_TABLE_ROW.match(sentence) or _NAMED_ROW.match(sentence))
    return len(words) >= _MIN_WORDS and (lower >= 2 or row)


def _overlaps(question_terms: set[str], sentences: list[set[str]]) -> list[float]:
    """The share of the question's words each sentence holds, weighted by rarity.

    Rarity (IDF) is counted over the candidate sentences, so a name that every passage
    mentions weighs little and the one distinctive word ("lawyer") weighs much.
    """
    if not question_terms:
        return [0.0] * len(sentences)
    count = len(sentences)
    weight = {
        t: math.log(1 + (count + 1) / (1 + sum(t in s for s in sentences))) for t in question_terms
    }
    total = sum(weight.values())
    return [sum(weight[t] for t in question_terms & s) / total for s in sentences]


def _cite(n: int, candidate: _Candidate, score: float) -> Citation:
    chunk = candidate.hit.chunk
    text = chunk.text
    spans = sentence_spans(text, lead=chunk.column, language=chunk.language)
    first = next(i for i, span in enumerate(spans) if span[0] == candidate.start)
    last = _list_end(candidate, spans, first)
    start, end = candidate.start, spans[last][1]
    printed = text[start:end]
    before, after = first, last + 1
    if first > 0 and start - spans[first - 1][0] <= _CONTEXT_CHARS:
        before = first - 1
    if last + 1 < len(spans) and spans[last + 1][1] - end <= _CONTEXT_CHARS:
        after = last + 2
    # Shown as it reads; the offsets and lines still point at the printed text.
    excerpt, offset = _as_read(text, spans[before:after], first - before)
    sentence, _ = _as_read(text, spans[first : last + 1], 0)
    first_line = chunk.start_line + text.count("\n", 0, candidate.start)
    return Citation(
        n=n,
        path=chunk.path,
        start_line=first_line,
        end_line=first_line + printed.count("\n"),
        page=chunk.page,
        char_start=chunk.char_start + candidate.start,
        char_end=chunk.char_start + candidate.start + len(printed),
        score=score,
        excerpt=excerpt,
        sentence=sentence,
        sentence_offset=offset,
        ocr=chunk.ocr,
    )


def _extent(candidate: _Candidate) -> tuple[int, int]:
    """Where the candidate's cited text is in its passage: the sentence, with the list
    it introduces when it ends in ":"."""
    if not candidate.text.endswith(":"):
        return candidate.start, candidate.end
    chunk = candidate.hit.chunk
    spans = sentence_spans(chunk.text, lead=chunk.column, language=chunk.language)
    first = next(i for i, span in enumerate(spans) if span[0] == candidate.start)
    return candidate.start, spans[_list_end(candidate, spans, first)][1]


def _list_end(candidate: _Candidate, spans: Sequence[tuple[int, int]], first: int) -> int:
    """The last sentence cited with sentence ``first``: itself, or the end of the list
    it introduces ("demanding:")."""
    last = first
    if candidate.text.endswith(":"):
        text = candidate.hit.chunk.text
        while (
            last + 1 < len(spans)
            and spans[last + 1][1] - candidate.start <= _LIST_CHARS
            and (last == first or "\n\n" not in text[spans[last][1] : spans[last + 1][0]])
        ):
            last += 1
    return last


def _as_read(text: str, spans: Sequence[tuple[int, int]], mark: int) -> tuple[str, int]:
    """The sentences at ``spans`` as they read (wrapped lines joined), with the line
    breaks between them as in the text (else a space); and where sentence ``mark``
    starts in it."""
    out, offset = "", 0
    for i, (s, e) in enumerate(spans):
        if i:
            gap = text[spans[i - 1][1] : s]
            out += gap if "\n" in gap else " "  # a list keeps its line breaks and indents
        if i == mark:
            offset = len(out)
        out += join_lines(text[s:e])
    return out, offset
