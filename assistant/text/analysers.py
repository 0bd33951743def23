"""How a language's text becomes search terms, for every language but English.

Words are NFKC-normalized and lower-cased, then, as Lucene's analysers do:
- languages with a Snowball stemmer (PyStemmer: German, French, Spanish, Russian, Arabic
  and ~25 more) lose their stopwords (bm25s's lists, where it has one) and are stemmed;
- Chinese, Japanese and Korean, written without spaces, become overlapping character
  bigrams ("柏林圍牆" -> 柏林 林圍 圍牆), as Lucene's CJKAnalyzer does, in any language's
  text: a run of Han or kana in a German document is bigrams too;
- Arabic (and Persian) is normalized first: no diacritics or tatweel, one alef, final
  ya and ta marbuta folded (Lucene's ArabicNormalizer);
- other languages keep their lower-cased words.
English keeps its own tokenizer (terms.py). Must not import textual or torch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .language import ENGLISH, UNKNOWN

Analyser = Callable[[str], list[str]]

# ISO 639-1 -> PyStemmer's algorithm
SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
# bm25s's stopword lists (bm25s.stopwords), by language
_STOPWORDS = {
    "da": "STOPWORDS_DANISH",
    "de": "STOPWORDS_GERMAN",
    "es": "STOPWORDS_SPANISH",
    "fr": "STOPWORDS_FRENCH",
    "it": "STOPWORDS_ITALIAN",
    "nl": "STOPWORDS_DUTCH",
    "no": "STOPWORDS_NORWEGIAN",
    "nb": "STOPWORDS_NORWEGIAN",
    "pt": "STOPWORDS_PORTUGUESE",
    "ru": "STOPWORDS_RUSSIAN",
    "sv": "STOPWORDS_SWEDISH",
    "tr": "STOPWORDS_TURKISH",
}
# Han (with extension A and compatibility ideographs), kana, half-width kana, hangul
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
_TOKEN = re.compile(rf"[{CJK_CHARS}]+|(?:(?![{CJK_CHARS}])\w)+")
_CJK_RUN = re.compile(rf"[{CJK_CHARS}]")
_ARABIC_MARKS = re.compile("[\u0640\u064b-\u065f\u0670]")  # tatweel, harakat, dagger alef
_ARABIC_FOLDS = str.maketrans({"آ": "ا", "أ": "ا", "إ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def analyser_for(language: str) -> Analyser | None:
    """The analyser of ``language`` (ISO 639-1); None for English and for text whose
    language is unknown, which terms.py reads as English."""
    if language in (ENGLISH, UNKNOWN):
        return None
    return _analyser(language)


@lru_cache(maxsize=64)
def _analyser(language: str) -> Analyser:
    stemmer = _stemmer(SNOWBALL[language]) if language in SNOWBALL else None
    stopwords = _stopwords(language)
    arabic = language in ("ar", "fa", "ur")

    def analyse(text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        if arabic:
            text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLDS)
        words: list[str] = []
        terms: list[str] = []
        for match in _TOKEN.finditer(text):
            token = match.group()
            if _CJK_RUN.match(token):
                if words:  # keep the text's order: words before this run first
                    terms.extend(_stem(words, stopwords, stemmer))
                    words = []
                terms.extend(bigrams(token))
            elif len(token) > 1:
                words.append(token)
        terms.extend(_stem(words, stopwords, stemmer))
        return terms

    return analyse


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a run of CJK characters; a lone one stays."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _stem(words: list[str], stopwords: frozenset[str], stemmer: Any) -> list[str]:
    kept = [w for w in words if w not in stopwords]
    return list(stemmer.stemWords(kept)) if stemmer is not None else kept


@lru_cache(maxsize=64)
def _stemmer(algorithm: str) -> Any:
    import Stemmer  # PyStemmer: Snowball stemmers in C

    return Stemmer.Stemmer(algorithm)


@lru_cache(maxsize=64)
def _stopwords(language: str) -> frozenset[str]:
    name = _STOPWORDS.get(language)
    if name is None:
        return frozenset()
    import bm25s.stopwords

    return frozenset(getattr(bm25s.stopwords, name))
