"""Answers composed from retrieved passages: by the sentence scorer alone, or with a
reader's readings where the request asks for a phrase (``reading.py``).

``Composer`` holds what both need (the answer policy, the sentence vectors, remembered
across questions) so that ``Assistant`` keeps one answering loop for one question and
for a batch alike. Must not import textual, click or torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .answer import AnswerPolicy, asked_across, compose_answer, sentences_to_embed, weighs_across
from .embedding import Vectors
from .questions import FittedQuestion
from .reader import Reader
from .reading import asks_for_a_phrase, passages_to_read, read_passages, read_questions
from .records import Answer, Hit
from .text.language import ENGLISH, UNKNOWN

Answered = tuple[Answer, list[Hit]]


class Composer:
    """Composes the answers of a batch of questions from their retrieved passages."""

    def __init__(self, policy: AnswerPolicy, sentences: Callable[[Sequence[str]], Vectors]) -> None:
        self._policy = policy
        self._sentences = sentences

    def score(
        self, questions: Sequence[str], vectors: Vectors, all_hits: Sequence[list[Hit]]
    ) -> list[Answered]:
        """Answers by the sentence scorer alone."""
        wanted = [
            sentences_to_embed(q, h, self._policy) for q, h in zip(questions, all_hits, strict=True)
        ]
        embedded = self._embed_each(wanted)
        return [
            (compose_answer(question, vector, hits, sentences, self._policy), hits)
            for question, vector, hits, sentences in zip(
                questions, vectors, all_hits, embedded, strict=True
            )
        ]

    def read(
        self,
        fitted: Sequence[FittedQuestion],
        vectors: Vectors,
        all_hits: Sequence[list[Hit]],
        reader: Reader,
    ) -> list[Answered]:
        """Answers with the reader's support for questions (in the order it ranks the
        passages); claims, keywords and yes/no questions, which ask for no phrase, and
        questions over passages not in English (the reader reads English), by the scorer;
        so too a question not in English, where the abstention model weighs questions
        asked across languages (the reader would find no answer to it)."""
        across = weighs_across(self._policy.abstention)
        asking = [
            n
            for n, f in enumerate(fitted)
            if asks_for_a_phrase(f.searched)
            and _in_english(all_hits[n])
            and not (across and asked_across(f.searched, ENGLISH))
        ]
        answered: list[Answered | None] = [None] * len(fitted)
        readings = read_questions(
            reader, [fitted[n].read for n in asking], [all_hits[n] for n in asking]
        )
        read = [
            read_passages(
                fitted[n].searched, all_hits[n], mine, reader.no_answer_margin, self._policy
            )
            for n, mine in zip(asking, readings, strict=True)
        ]
        embedded = self._embed_each([r.sentences_to_embed() for r in read])
        for n, passages, sentences in zip(asking, read, embedded, strict=True):
            answered[n] = (passages.answer(vectors[n], sentences), passages.hits)
        rest = [n for n in range(len(fitted)) if answered[n] is None]
        if rest:
            searched = [fitted[n].searched for n in rest]
            scored = self.score(searched, vectors[rest], [all_hits[n] for n in rest])
            for n, pair in zip(rest, scored, strict=True):
                answered[n] = pair
        return [pair for pair in answered if pair is not None]

    def _embed_each(self, wanted: Sequence[list[str]]) -> list[Vectors]:
        """Each question's candidate sentences embedded, in one call for all of them:
        batches sorted by length pad less than one small batch per question."""
        flat = self._sentences([s for sentences in wanted for s in sentences])
        embedded, offset = [], 0
        for sentences in wanted:
            embedded.append(flat[offset : offset + len(sentences)])
            offset += len(sentences)
        return embedded


def _in_english(hits: Sequence[Hit]) -> bool:
    """Whether the passages the reader would read are English (or of unknown language)."""
    return all(hit.chunk.language in (ENGLISH, UNKNOWN) for hit in passages_to_read(hits))
