"""Words as BM25 and the answer scorer see them: lower-cased, stemmed, no stopwords.

bm25s's tokenizer with NLTK's English stopword list and a Snowball stemmer (PyStemmer).
Indexing, searching and answer scoring all tokenize here, so their words always agree.
Must not import textual or torch; bm25s is imported at first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

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


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed words without English stopwords."""
    return [list(t) for t in bm25_tokenize(texts, return_ids=False)]
