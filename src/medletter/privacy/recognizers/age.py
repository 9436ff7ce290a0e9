"""Ages (``AGE``): a number with "-jährig", "Jahre alt", "Lj." or "Alter von", and ages written as
words.

Forms (invented examples): "71-jährige Patientin", "65 Jahre alt", "im 58. Lj.", "im Alter von 44",
"Frau Maier, 57 Jahre,", "(57 J.)", "mit 63 an", a typo in "jährig" ("71-jähirge", "65-jhrige"), and
the number as a word, also misspelt ("einundsiebzigjährige Patientin", "siebzig Jahre alt", "Der
Einundsiebzigjährige", "einundsiebzg-jährige").

Validity (:meth:`GermanAgeRecognizer.valid`): the number is 0-125; a misspelt "jährig" is within two
edits of one of its forms (:func:`jaehrig_like`), a number word is one (:func:`age_word`); a number and
"-jährig" before a time span is not an age ("5-jährige Überlebensrate", "dreijährige
Erhaltungstherapie"), nor "2-jährlich"; an age adjective in words counts only where a person follows
or it is a noun after an article.

Scores: a number with "-jährig" or "Jahre alt" is an age (0.9); "Lj." and "Alter von" nearly so (0.85);
the forms that need the validity check to tell them from other numbers and words (typos, number words,
"57 Jahre," after a comma) 0.8, and "mit 63 an" (an age only by the sentence around it) 0.75.
"""

from __future__ import annotations

import regex as re

from medletter.privacy import patterns as P
from medletter.privacy.patterns import LC, UC
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

# a word that may be a (misspelt) form of "jährig" after an age: lowercase j, 3-10 letters
AGE_JWORD = r"j[a-zäöü]{2,9}(?![\w])"
_UNITS = ("ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_TEENS = ("zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn")
_TENS = ("zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig")


def _number_words() -> dict[str, int]:
    """German number words 1-119 as written in ages ("einundsiebzig", "hundertzwei"), with "ss" for "ß"."""
    w: dict[str, int] = {"eins": 1}
    w.update({u: i for i, u in enumerate(_UNITS, start=1)})
    w.update({t: i for i, t in enumerate(_TEENS, start=10)})
    for i, t in enumerate(_TENS, start=2):
        w[t] = 10 * i
        for j, u in enumerate(_UNITS, start=1):
            w[f"{u}und{t}"] = 10 * i + j
    for k, v in list(w.items()):
        if v < 20:
            for h in ("hundert", "einhundert"):
                w[h + k] = 100 + v
                w[h + "und" + k] = 100 + v
    w["hundert"] = w["einhundert"] = 100
    w.update({k.replace("ß", "ss"): v for k, v in list(w.items()) if "ß" in k})
    return w


AGE_WORDS = _number_words()
# the person an age adjective describes ("einundsiebzigjährige Patientin")
PERSON_NOUN = (
    r"(?:Patient(?:in|en)?|Pat\.|Mann|Frau|Herr|Dame|Junge|Jungen|Mädchen|Kind|Kleinkind|Säugling|Jugendliche[rn]?|"
    r"Rentner(?:in)?|Schüler(?:in)?|Student(?:in)?|Sohn|Tochter|Enkel(?:in)?|Bruder|Schwester|Mutter|Vater|"
    r"Ehemann|Ehefrau|Gatte|Gattin|Witwe[r]?|Raucher(?:in)?|Person|Proband(?:in)?|Bewohner(?:in)?|Zwilling|"
    r"Erstgebärende|Frühgeborene[sn]?|Großmutter|Großvater|Nichte|Neffe)(?![\w])"
)
# what a number and "-jährig" describe when they are not an age: a time span ("5-jährige Überlebensrate")
TIME_SPAN_NOUN = (
    r"(?:[\w-]*(?i:überleben|überlebens\w*|nachsorge|nachbeobachtung|follow-?up|verlauf|therapie|behandlung|"
    r"erhaltung|intervall|zeitr(?:aum|äume)|dauer|beobachtung|kontrolle[n]?|freiheit|studie[n]?|erfahrung|tätigkeit|"
    r"geschichte|zeit|pause|phase|periode|latenz|remission|ergebnis(?:se)?|rate|risiko|anamnese)|OS|PFS|DFS|EFS)(?![\w])"
)
AGE_PATTERNS: list[tuple[str, str, float]] = [
    ("jährig", r"(?<![\d.,])\d{1,3}(?=\s?[-–]?\s?(?:(?i:j\.|jährig|jahrig|jähr\.|jahre?\salt|jahren?\salt|-?jähr)|J\.|yo\b|-?year-old|\syears?\sold|\s?Lebensjahr))", 0.9),
    ("lj", r"(?<![\d.,])\d{1,3}(?=\.\s?(?:Lj|LJ|Lebensjahr))", 0.85),
    ("alter", r"(?<=(?i:\bAlter\s(?:von\s)?|\bim\sAlter\svon\s|\baged?\s|Alter:\s?))\d{1,3}(?![\d.,])", 0.85),
    ("mit_an", r"(?<=\b(?:mit|im\sAlter\svon)\s)\d{1,3}(?=\s(?:an|J\.|Jahren)\b)", 0.75),
    # "Frau Maier, 57 Jahre, ..." and "(57 J.)"
    ("komma", r"(?<=[\w.],\s{1,2}|\(\s?)\d{1,3}(?=\s?(?:Jahre|J\.|jährig|years?|y/o)(?:\s?alt)?\s*[,;.)])", 0.8),
    # a typo in "-jährige(r)": "71-jähirge", "65-jhrige", "58-järige" (the recogniser checks the word
    # against the forms of "jährig" with up to two edits)
    ("jährig_typo", rf"(?<![\d.,])\d{{1,3}}(?=[ \t]?[-–]?[ \t]?{AGE_JWORD})", 0.8),
    # the age as a word (also misspelt): "einundsiebzigjährige", "zweiundachtzig-jährige", "Dreiundsechzigjährige"
    # (the recogniser checks the number word and, for the adjective, that a person follows)
    ("word_jährig", rf"(?<![\w-])[{UC}{LC}][{LC}]{{2,23}}?(?=[ \t]?[-–]?[ \t]?{AGE_JWORD})", 0.8),
    # "siebzig Jahre alt", "im Alter von dreiundfünfzig Jahren"
    ("word_alt", rf"(?<![\w-])[{LC}][{LC}]{{2,23}}(?=\s+Jahre?\s+alt\b)", 0.8),
    ("word_alter", rf"(?<=\b[Aa]lter\s(?:von\s)?)[{LC}][{LC}]{{2,23}}(?=\s+(?:Jahren|J\.)(?![\w]))", 0.8),
]


_JAEHRIG_FORMS = ("jährig", "jährige", "jähriger", "jähriges", "jährigen", "jährigem")
_ARTICLE_BEFORE = re.compile(r"(?i:\b(?:der|die|den|dem|des|ein|eine|einen|einem|einer|eines|unsere[rmn]?|unser)\s+)$")


def age_word(word: str) -> int | None:
    """The value of a German number word as written in an age, tolerating typos: exact
    ("einundsiebzig"), or one edit in words of 6+ letters and two in words of 12+ ("einundsiebzg")."""
    from rapidfuzz.distance import Levenshtein

    w = word.lower()
    if w in AGE_WORDS:
        return AGE_WORDS[w]
    limit = 2 if len(w) >= 12 else 1 if len(w) >= 6 else 0
    if not limit:
        return None
    best = min(AGE_WORDS, key=lambda k: Levenshtein.distance(w, k, score_cutoff=limit + 1))
    return AGE_WORDS[best] if Levenshtein.distance(w, best, score_cutoff=limit + 1) <= limit else None


def jaehrig_like(word: str) -> bool:
    """``word`` is a form of "jährig" with up to two edits ("jähirge", "jhrige", "jäjriger"), and not
    "jährlich" (yearly) nor "Jahre"."""
    from rapidfuzz.distance import Levenshtein

    w = word.lower()
    if w.startswith(("jährl", "jahrl")) or w in ("jahre", "jahren", "jahres", "jahr"):
        return False
    return any(Levenshtein.distance(w, f, score_cutoff=2) <= 2 for f in _JAEHRIG_FORMS)


class GermanAgeRecognizer(MedletterRegexRecognizer):
    """Ages: a number and "-jährig"/"Jahre alt"/"Lj." (also with a typo in "jährig"), and ages written
    as words ("einundsiebzigjährige Patientin", "siebzig Jahre alt", misspelt by an edit or two).

    An age adjective in words counts only where a person follows or the word is a noun ("Der
    Einundsiebzigjährige"); a number and "-jährig" before a time span ("5-jährige Überlebensrate",
    "dreijährige Erhaltungstherapie") or "2-jährlich" is not an age.
    """

    ENTITY = "AGE"
    RULES = AGE_PATTERNS
    _jword = re.compile(rf"[ \t]?[-–]?[ \t]?(?P<j>{AGE_JWORD})")
    _time_span = re.compile(rf"^[ \t,]*(?:[{P.LC}][\w-]*[ \t]+){{0,2}}{TIME_SPAN_NOUN}")
    _person = re.compile(rf"^[ \t,]*(?:[\w.-]+[ \t,]+){{0,2}}?{PERSON_NOUN}")

    def valid(self, text, start, end, rule):
        frag = text[start:end]
        j = self._jword.match(text, end)
        if rule in ("jährig_typo", "word_jährig") and not (j and jaehrig_like(j.group("j"))):
            return False
        if rule in ("word_jährig", "word_alt", "word_alter"):
            if age_word(frag) is None:
                return False
        else:
            try:
                if not 0 <= int(frag) <= 125:
                    return False
            except ValueError:
                return False
        if rule not in ("jährig", "jährig_typo", "word_jährig"):
            return True
        if rule == "jährig" and re.match(r"[ \t]?[-–]?[ \t]?(?i:jährl|jahrl)", text[end:end + 8]):
            return False  # "2-jährlich": every two years
        after = text[j.end():j.end() + 60] if j else text[end:end + 60]
        if self._time_span.match(after):
            return False
        if rule == "word_jährig":
            noun = frag[0].isupper() and bool(_ARTICLE_BEFORE.search(text[max(0, start - 12):start]))
            return noun or bool(self._person.match(after))
        return True
