"""Words as BM25 and the answer scorer see them: lower-cased, stemmed, no stopwords.

English text goes through bm25s's tokenizer with NLTK's English stopword list and a
Snowball stemmer (PyStemmer); every other language through its own analyser
(analysers.py). Indexing, searching and answer scoring all tokenize here, each text in
its language, so their words always agree. Must not import textual or torch; bm25s is
imported at first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .analysers import analyser_for
from .language import ENGLISH

# NLTK's English stopword list (bm25s's own list misses words such as "from" and "been").
STOPWORDS = tuple(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma
    mightn mustn needn shan shouldn wasn weren won wouldn""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: fast Snowball stemming

    return Stemmer.Stemmer("english")


def bm25_tokenize(texts: Sequence[str], *, return_ids: bool) -> Any:
    """bm25s's tokenizer with Excerpta's stopwords and stemmer.

    Returns bm25s's ``Tokenized`` (ids and vocabulary) when ``return_ids``, else one list
    of words per text.
    """
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords=list(STOPWORDS),
        stemmer=_stemmer(),
        return_ids=return_ids,
        show_progress=False,
    )


def tokenize(texts: Sequence[str], languages: str | Sequence[str] = ENGLISH) -> list[list[str]]:
    """Lower-cased, stemmed words without stopwords: each text in its language (one
    language for all, or one per text; "" and languages without an analyser read as
    English)."""
    each = [languages] * len(texts) if isinstance(languages, str) else list(languages)
    if len(each) != len(texts):
        raise ValueError("one language per text")
    words: list[list[str]] = [[] for _ in texts]
    english = [i for i, code in enumerate(each) if analyser_for(code) is None]
    if english:
        tokens = bm25_tokenize([texts[i] for i in english], return_ids=False)
        for i, found in zip(english, tokens, strict=True):
            words[i] = list(found)
    for i, code in enumerate(each):
        analyse = analyser_for(code)
        if analyse is not None:
            words[i] = analyse(texts[i])
    return words
