"""Text pieces the extractor reads with: words (spelling-tolerant), sentences and clauses, number words.

Nothing here knows a case; :mod:`~medletter.evaluate.factcheck.lexicon` adds the case's vocabulary.
"""

from __future__ import annotations

import os
import re

from medletter import months as MO

NUM = r"\d+(?:[.,]\d+)?"
# month words (lower case) -> number: the names, the abbreviations and "Jänner" (not "Feber", "Maerz", "Mrz")
MONTHS = {w.lower(): n for w, n in MO.NUMBER.items() if w not in ("Feber", "Maerz", "Mrz")}
MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

NUMBER_WORDS = {
    **{w: i for i, w in enumerate(("null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn",
                                   "elf", "zwölf"))},
    "eine": 1, "einer": 1, "einem": 1, "einen": 1, "eins": 1, "sechzehn": 16, "achtzehn": 18, "zwanzig": 20,
    "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "dreißig": 30, "fünfundzwanzig": 25, "achtundzwanzig": 28,
    "dreiunddreißig": 33, "fünfunddreißig": 35, "neununddreißig": 39,
    **{w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                   "eleven", "twelve"))},
    "a": 1, "an": 1, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20,
    "twenty-five": 25, "twenty-eight": 28, "thirty": 30, "thirty-five": 35, "thirty-nine": 39,
}
"""Small numbers as letters write them in words ("in sechs Wochen", "five fractions", "acht Zyklen")."""
NUMBER_WORD_RE = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS if len(w) > 2), key=len, reverse=True))
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}

_ABBREV = r"(?:max|min|ca|geb|Dr|Prof|med|Nr|bzw|z|n|St|vs|approx|Tel|inkl|evtl|ggf|sog|li|re|Z|v|ca|Pat|Hr|Fr|Mrs|Mr|Ms|e\.g|i\.e|d\.h|u\.a|s\.c|i\.v|p\.o)"
_SENT_END = re.compile(r"[.!?](?=\s+[A-ZÄÖÜ0-9(\-–•]|\s*$)")
CLAUSE_SPLIT = re.compile(r",\s|\s(?:und|and|sowie|as well as|bzw\.|or|oder)\s"
                          # a dash before a grade joins it to its term ("Orale Mukositis – Grad 2")
                          r"|\s[–-]\s(?!(?:CTCAE[\s-]*)?(?:Grad|grade|Grade|G\s?\d|°|[IV]{1,3}°|\d°))"
                          r"|:\s*\n|\s[|·•]\s")


def num(s: str) -> float:
    return float(s.replace(",", "."))


def close(a: float, b: float) -> bool:
    return abs(a - b) < 0.011


def norm(w: str) -> str:
    """A spelling-tolerant form of a word: lower case, umlauts spelled out, k/z -> c, oe -> e."""
    w = w.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    w = w.replace("oe", "e").replace("ae", "e").replace("k", "c").replace("z", "c").replace("ph", "f")
    return w


def words(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Words of text[start:end] as (start, end, normalised word)."""
    end = len(text) if end is None else end
    return [(m.start(), m.end(), norm(m.group())) for m in re.finditer(r"[^\W\d_]+(?:-[^\W\d_]+)*", text[:end]) if m.start() >= start]


def similar(a: str, b: str) -> bool:
    """Two normalised words are the same term: equal, one contains the other (≥ 6 letters), or they
    share all but their last two letters and at least seven (inflection, de/en spelling:
    'dysphagie'/'dysphagia'; not 'becken'/'becker')."""
    if a == b:
        return True
    if min(len(a), len(b)) >= 6 and (a in b or b in a):
        return True
    n = len(os.path.commonprefix([a, b]))  # letters the two share from the start
    return n >= 7 and n >= min(len(a), len(b)) - 2


def is_abbrev(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    if dot > 0 and text[dot - 1] == ".":
        return True  # leader dots ("Fatigue ........ Grad 2") and ellipses end no sentence
    before = text[max(0, dot - 6) : dot]
    if re.search(rf"(?<![\w.]){_ABBREV}$", before) or re.search(r"\d$", before) and re.match(r"\.\s*\d", text[dot:]):
        return True
    if re.search(r"(?<![\w.])[a-zäöü]{1,3}$", before) and re.match(r"\.\s*\d", text[dot:]):
        return True  # "b. 22/04/24", "tgl. 2 x": a short word's dot before a number
    # a date's or a number's dot: "21.03.2029. Danach" ends a sentence, "12. März" does not
    return bool(re.search(r"(?<!\d)\d{1,2}$", before)) and bool(re.match(r"\.\s+(?:[A-ZÄÖÜ][a-zäöü]+)\s+\d{4}", text[dot:])
                                                               or re.match(rf"\.\s+(?:{MONTH_RE})\b", text[dot:], re.I))


def sentence_bounds(text: str, i: int, semicolon: bool = True) -> tuple[int, int]:
    """The sentence, line or ';'-clause around position i (with ``semicolon=False`` a ';' does not
    end it: 'RT 2 (Boost): Tumorbett; 5 × 2 Gy; 23.10.–27.10.2023' is one statement)."""
    seps = ("\n", ";") if semicolon else ("\n",)
    a = max(text.rfind(x, 0, i) for x in seps) + 1
    for m in _SENT_END.finditer(text, a, i):
        if not is_abbrev(text, m.start()):
            a = m.end()
    b_candidates = [x for x in (text.find(x, i) for x in seps) if x >= 0]
    b = min(b_candidates) if b_candidates else len(text)
    for m in _SENT_END.finditer(text, i, b):
        if not is_abbrev(text, m.start()):
            b = m.start()
            break
    return a, b


def clause_bounds(text: str, a: int, b: int) -> tuple[int, int]:
    """The clause around text[a:b] inside its sentence: split at ', ', 'und', 'and', ' – ', ' | ', ' · '."""
    sa, sb = sentence_bounds(text, a)
    lo, hi = sa, sb
    for m in CLAUSE_SPLIT.finditer(text, sa, sb):
        if m.end() <= a:
            lo = m.end()
        elif m.start() >= b and hi == sb:
            hi = m.start()
    return lo, hi


def overlaps(a: int, b: int, spans) -> bool:
    return any(a < y and x < b for x, y in spans)
