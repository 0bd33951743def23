"""The abstention model: how likely it is that the documents hold the answer.

A logistic over the ``Evidence`` of the best sentence: signals of how well it and the
first passage match the question. Fitted by training/fit_abstention.py (make
fit-abstention) on tuning data only, SQuAD v1.1 dev's even articles and the 10 SQuAD 2.0
train articles; its record, with the data's hashes and the shares it answers, is
benchmarks/results/abstention_fit.json, and a test keeps these figures equal to the
record's. Cosines differ in scale from one model to another (multilingual-e5-small's
sit near 0.8 even for unrelated texts), so each model the package knows has its own
fit (``FITTED``, records abstention_fit-<model>.json); any other model uses the
default's. Before either, a model's cosines are mapped onto the default model's scale
(``CosineScale``, fitted by training/calibrate_cosines.py, records
cosine_scale-<model>.json): the scorer weighs cosines against word overlap with weights
tuned on the default model's spread. The multilingual model's fit also weighs whether
a question is asked in another language than its first passage (``Evidence.across``;
fitted with --across on English questions over Spanish paragraphs and the reverse):
shared words, which the other signals weigh, are none then. Must not import textual,
click or torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .config import DEFAULT_MODEL, MULTILINGUAL_MODEL

ABSTENTION_INTERCEPT = -5.775
ABSTENTION_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("sentence_cosine", 4.939),
    ("sentence_overlap", 2.882),
    ("passage_overlap", 0.741),
    ("passage_cosine", 3.444),
)


@dataclass(frozen=True)
class Evidence:
    """What the abstention model weighs: scale-free signals of how well the best sentence
    and the first passage match the question (no raw BM25 scores, which depend on the
    corpus)."""

    sentence_cosine: float  # the best sentence's embedding similarity to the question
    sentence_overlap: float  # the share of the question's content words in it
    passage_overlap: float  # that share in the first passage
    passage_cosine: float  # the first passage's dense score (0 where none)
    # Asked across languages (1: the question's language is not the first passage's), and
    # the best sentence's cosine where so: shared words say nothing then, and a model
    # that embeds both languages alike decides by its cosines (``across_cosine``).
    across: float = 0.0
    across_cosine: float = 0.0


@dataclass(frozen=True)
class Abstention:
    """One fitted abstention model: the logistic's intercept and weights."""

    intercept: float = ABSTENTION_INTERCEPT
    weights: tuple[tuple[str, float], ...] = ABSTENTION_WEIGHTS

    def confidence(self, evidence: Evidence) -> float:
        """Probability that the documents hold the answer."""
        signals = asdict(evidence)
        logit = self.intercept + sum(w * signals[name] for name, w in self.weights)
        return 1.0 / (1.0 + math.exp(-logit))


@dataclass(frozen=True)
class CosineScale:
    """An affine map of a model's cosines onto the default model's mean and spread."""

    factor: float = 1.0
    shift: float = 0.0

    def __call__(self, cosine: float) -> float:
        return self.factor * cosine + self.shift


# Each model's map, by the model's name; the default model's is the identity.
SCALES: dict[str, CosineScale] = {
    MULTILINGUAL_MODEL: CosineScale(3.954, -2.791),
}


def cosine_scale_for(model: str) -> CosineScale:
    """How ``model``'s cosines are mapped before they are weighed (identity if unknown)."""
    return SCALES.get(model, CosineScale())


# Each model's fit, by the model's name (the ``model`` setting).
FITTED: dict[str, Abstention] = {
    DEFAULT_MODEL: Abstention(),
    MULTILINGUAL_MODEL: Abstention(
        -5.162,
        (
            ("sentence_cosine", 5.145),
            ("sentence_overlap", 1.77),
            ("passage_overlap", 1.266),
            ("passage_cosine", 2.671),
            ("across", 1.243),
            ("across_cosine", 1.346),
        ),
    ),
}


def abstention_for(model: str) -> Abstention:
    """The abstention model fitted with ``model``'s cosines, else the default model's."""
    return FITTED.get(model, FITTED[DEFAULT_MODEL])
