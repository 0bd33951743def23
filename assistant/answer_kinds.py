"""What kind of answer a question asks for, and whether a sentence holds one.

"When" wants a date, "how many" a number, "who" a name, "where" a place. English reads
all four from its question words. Other languages read dates and quantities, the kinds
that need no words to recognize: a question word ("wann", "combien", "多少", "いつ",
"متى", "когда"; German, French, Spanish, Chinese, Japanese, Arabic, Russian, Italian,
Portuguese and Dutch) says which is wanted, and a sentence holds one by its digits, a
year, or CJK numerals and date characters. Names and places are left to the other
signals there: capitals mark German nouns, and Chinese has no case at all. Must not
import textual or torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .text.language import ENGLISH, UNKNOWN

Holds = Callable[[str, str], bool]
"""Whether ``sentence`` holds the kind of answer ``question`` asks for."""

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE = re.compile(rf"\b(1[5-9]\d\d|20\d\d|({_MONTHS})[a-z]*\.? \d{{1,2}})\b", re.I)
_QUANTITY = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|"
    r"millions?|billions?)\b",
    re.I,
)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)+)")
_PLACE = re.compile(r"\b(in|at|to|near|into|across|throughout)\s+(?:[a-z]+\s+)?[A-Z]")
_TITLES = frozenset("President Gen General Mr Mrs Ms Dr Minister Sen Rep The".split())

# Without words: a year (no \b: "於1961年" has none between 於 and 1), a day or month
# written the CJK way, any digit (full-width ones too), CJK numerals.
_ANY_DATE = re.compile(
    r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)|\d\s*[年月日]|[〇一二三四五六七八九十]+[年月日]"
)
_ANY_QUANTITY = re.compile(r"\d|[〇一二三四五六七八九十百千万萬亿億兆]")


def _has_new_name(sentence: str, question: str) -> bool:
    """A multi-word proper name that the question does not already hold."""
    asked = set(re.findall(r"[\w’'-]+", question.lower()))
    for match in _NAME.finditer(sentence):
        words = [w for w in match.group(1).split() if w.rstrip(".") not in _TITLES]
        if len(words) >= 2 and any(w.lower() not in asked for w in words):
            return True
    return False


def _dated(sentence: str, _: str) -> bool:
    return bool(_ANY_DATE.search(sentence))


def _counted(sentence: str, _: str) -> bool:
    return bool(_ANY_QUANTITY.search(sentence))


_ENGLISH: tuple[tuple[re.Pattern[str], Holds], ...] = (
    (
        re.compile(r"^\s*(when|what (year|date|day|month|time))\b", re.I),
        lambda sentence, _: bool(_DATE.search(sentence)),
    ),
    (
        re.compile(r"\bhow (many|much|long|old|far|often)\b|\bwhat (number|percent)", re.I),
        lambda sentence, _: bool(_QUANTITY.search(sentence)),
    ),
    (re.compile(r"^\s*(who|whom|whose)\b", re.I), _has_new_name),
    (re.compile(r"^\s*where\b", re.I), lambda sentence, _: bool(_PLACE.search(sentence))),
)
# Question words asking for a date, then for a quantity, by language.
_ASKING = {
    "de": (
        r"\bwann\b|\b(welche[mnrs]?|in welchem) (jahr|datum|tag|monat|jahrhundert)",
        r"\bwie (viele?|lange|alt|weit|oft|hoch|gro(ß|ss)|schwer|tief)\b|\bwieviele?\b",
    ),
    "fr": (
        r"\bquand\b|\b(quelle|en quelle) (année|date)|\bquel (jour|mois|siècle)",
        r"\bcombien\b|\bquel (âge|nombre|pourcentage)|\bquelle (taille|distance|superficie)",
    ),
    "es": (
        r"\bcu[aá]ndo\b|\b(en )?qu[eé] (año|fecha|d[ií]a|mes|siglo)",
        r"\bcu[aá]nt[oa]s?\b|\bqu[eé] (edad|n[uú]mero|porcentaje)",
    ),
    "zh": (
        r"何時|何时|什麼時候|什么时候|哪一?年|幾年|几年|何年|哪一?天|幾月|几月",
        r"多少|幾|几|多長|多长|多久|多大|多高|多遠|多远",
    ),
    "ja": (
        r"いつ|何年|何月|何日|何世紀",
        r"いくつ|いくら|何人|何個|何回|何歳|何キロ|何メートル|どのくらい|どれくらい|どれほど",
    ),
    "ar": (r"\bمتى\b|في (أي|اي) (عام|سنة|تاريخ)", r"\bكم\b"),
    "ru": (
        r"\bкогда\b|\b(в )?(каком|какой|котором) (году|год|веке|месяце|день)|какого числа",
        r"\bсколько\b|\bкак (долго|далеко|часто)\b|\bкакой (возраст|процент)",
    ),
    "it": (
        r"\bquando\b|\b(in )?(quale|che) (anno|data|giorno|mese|secolo)",
        r"\bquant[ieoa]\b|\bquale (età|numero|percentuale)",
    ),
    "pt": (
        r"\bquando\b|\b(em )?(que|qual) (ano|data|dia|mês|século)",
        r"\bquant[oa]s?\b|\bqual (a )?(idade|número|percentagem|porcentagem)",
    ),
    "nl": (
        r"\bwanneer\b|\b(in )?welk(e)? (jaar|datum|dag|maand|eeuw)",
        r"\bhoeveel\b|\bhoe (lang|oud|ver|vaak|groot|hoog)\b",
    ),
}
_OTHER = {
    code: ((re.compile(date, re.I), _dated), (re.compile(count, re.I), _counted))
    for code, (date, count) in _ASKING.items()
}


_CHINESE = {"yue": "zh", "wuu": "zh"}  # Cantonese and Wu are written with Han characters


def answer_kinds(question: str, language: str) -> list[Holds]:
    """For each kind of answer ``question`` asks for, the test of a sentence holding one."""
    if language in (ENGLISH, UNKNOWN):
        cues = _ENGLISH
    else:
        cues = _OTHER.get(_CHINESE.get(language, language), ())
    return [holds for asked, holds in cues if asked.search(question)]
