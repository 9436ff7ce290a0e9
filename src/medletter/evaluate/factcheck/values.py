"""Values in letter text, each with its span: doses, fraction counts, dates, TNM components, ICD-10 codes,
techniques, CTCAE grades, intervals. Both languages and the usual number and date forms ("40,05 Gy",
"15 x 2,67 Gy", "04.04.2029", "4.4.29", "4. April 2029", "April 2029", "2029-04-04").

Each ``find_*`` returns (start, end, value) with ``text[start:end]`` the statement's surface. Nothing here
knows a case.
"""

from __future__ import annotations

import datetime as dt
import re

from medletter.evaluate.factcheck.text import MONTH_RE as _MONTH_RE
from medletter.evaluate.factcheck.text import MONTHS, NUM, NUMBER_WORD_RE, NUMBER_WORDS
from medletter.evaluate.factcheck.text import num as _num

TECHNIQUES = {
    "3D-CRT": [r"3D-?CRT", r"3D-konformal\w*", r"3D[- ]conformal", r"dreidimensional\w* konformal\w*"],
    "IMRT": [r"IMRT", r"intensitätsmodulier\w*", r"intensity[- ]modulated"],
    "VMAT": [r"VMAT", r"Rapid\s?Arc", r"volumetric\w* modulated arc", r"volumenmodulier\w*"],
    "SBRT": [r"SBRT", r"SABR", r"stereotaktisch\w* Körperstamm\w*", r"stereotactic body"],
    "SRS": [r"SRS", r"Radiochirurgie", r"radiosurgery", r"radiochirurgisch\w*"],
    "FSRT": [r"FSRT", r"fraktioniert\w* stereotakt\w*", r"fractionated stereotactic"],
    "brachytherapy": [r"Brachy\w*", r"Afterloading", r"HDR"],
    "electrons": [r"Elektronen\w*", r"electrons?"],
}
_STEREO_ANY = r"stereotakt\w*|stereotactic\w*"


def norm_tnm_parts(tnm: str) -> set[str]:
    """'pT1c pN0 (0/12) cM0 L0 V0' -> {'pt1c', 'pn0', 'cm0', 'l0', 'v0'} (prefix letters kept, lower-case)."""
    parts = set()
    for m in re.finditer(r"(?<![A-Za-z])((?:y|r|a|yp|yc|p|c)?[TNM](?:is|[0-4x][a-d]?\d?|X)|L[01]|V[0-2]|Pn[01]|R[0-2X])(?![A-Za-z0-9])", tnm):
        parts.add(m.group(1).lower())
    return parts


def tnm_core(part: str) -> str:
    """'pt1c' -> 't1c' (prefix-insensitive comparison: a letter may drop the p/c)."""
    m = re.match(r"^(?:y|r|a|yp|yc|p|c)?([tnm].*)$", part)
    return m.group(1) if m else part


def find_doses(text: str) -> list[tuple[int, int, float]]:
    """'40,05 Gy' -> (start, end, 40.05)."""
    out = [(m.start(), m.end(), _num(m.group(1))) for m in re.finditer(rf"({NUM})\s*Gy\b", text)]
    # "ED/GD 1,8/50,4 Gy", "50,4/1,8 Gy": the number before the slash is a dose too
    out += [(m.start(1), m.end(1), _num(m.group(1))) for m in re.finditer(rf"(?<![\d.,/])({NUM})\s*/\s*(?={NUM}\s*Gy\b)", text)]
    return sorted(out)


def extract_doses(text: str) -> list[float]:
    return [v for _, _, v in find_doses(text)]


def find_fractions(text: str) -> list[tuple[int, int, int]]:
    """'15 Fraktionen', '15 x' (of '15 x 2,67 Gy'), and single-fraction words ('einmalig', 'once') as 1."""
    # not a rhythm ("3 Fx/Woche", "5 fractions per week")
    out = [(m.start(), m.end(), int(m.group(1))) for m in re.finditer(r"\b(\d{1,2})\s*(?:Fraktionen|Fraktion|fractions|fraction|Fx|fx|Sitzungen|sessions)\b(?!\s*(?:/|pro|per|je|a|each|in der|a)\s*(?:Woche|week|wk|Wo\.|w\b))", text)]
    out += [(m.start(1), m.end(1), int(m.group(2))) for m in re.finditer(rf"\b((\d{{1,2}})\s*[x×])\s*{NUM}\s*Gy", text)]
    # "2,67 Gy × 15", "Fraktionen: 30", "acht Sitzungen", "five fractions", "zehnmal"
    out += [(m.start(1), m.end(1), int(m.group(1))) for m in re.finditer(rf"{NUM}\s*Gy\s*[x×]\s*(\d{{1,2}})\b(?!\s*(?:Gy|[.,]\d))", text)]
    out += [(m.start(1), m.end(1), int(m.group(1))) for m in re.finditer(r"\b(?:Fraktionen|Fractions|Fx|Anzahl Fraktionen|No\. of fractions)\s*:\s*(\d{1,2})\b", text)]
    out += [(m.start(), m.end(), NUMBER_WORDS[m.group(1).lower()]) for m in re.finditer(
        rf"\b({NUMBER_WORD_RE})\s+(?:Fraktionen|Fraktion|fractions|fraction|Sitzungen|sessions|Bestrahlungen|treatments)\b(?!\s*(?:/|pro|per|je|a|each|in der|a)\s*(?:Woche|week|wk|Wo\.|w\b))", text, re.I)]
    out += [(m.start(), m.end(), NUMBER_WORDS[m.group(1).lower()]) for m in re.finditer(rf"\b({NUMBER_WORD_RE})mal\b(?!\s*(?:wöchentl|tägl|pro\b|je\b|im\b))", text, re.I)
            if re.search(r"\bGy\b", text[m.end(): m.end() + 20])]
    seen, uniq = set(), []
    for h in out:  # one hit per place
        if not any(a <= h[0] < b or h[0] <= a < h[1] for a, b in seen):
            seen.add((h[0], h[1]))
            uniq.append(h)
    out = uniq
    # ("once weekly", "once more", "once a year" count no fractions)
    out += [(m.start(), m.end(), 1) for m in re.finditer(r"\b(?:einmalig\w*|Einzeit\w*|Einzelfraktion|single[- ](?:fraction|dose)|once(?!\s+(?:more|again|a\b|an\b|per|weekly|daily|yearly|monthly|every)))\b", text, re.IGNORECASE)]
    return out


def extract_fractions(text: str) -> list[int]:
    return [v for _, _, v in find_fractions(text)]


def _century(y: int, late: int) -> int:
    """A two-digit year: this century unless it lies after the letter's own latest year ("geb. 17.06.45" in a
    letter of 2028 is 1945)."""
    return 2000 + y if 2000 + y <= late + 1 else 1900 + y


def find_dates(text: str) -> list[tuple[int, int, dt.date | tuple]]:
    """Full dates as dates; 'April 2029' as (year, month); impossible dates as ('invalid', surface)."""
    out: list = []
    years = [int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", text)]
    years += [2000 + int(y) for y in re.findall(r"\b\d{1,2}[./]\d{1,2}[./](\d{2})(?!\d)", text) if int(y) < 50]
    years = sorted(years)
    # the letter's latest year: the latest one it writes, leaving out one far beyond the rest (a birth year
    # read as this century)
    late = years[-1] if years else 2049
    if len(years) > 1 and years[-1] > years[-2] + 5:
        late = years[-2]

    def add(m, value):
        if any(a <= m.start() < b for a, b, _ in out):
            return
        out.append((m.start(), m.end(), value))

    for m in re.finditer(r"\b(\d{1,2})\.(\d{1,2})\.\s*(?:–|-|bis(?:\s+zum)?|to)\s*(?:(?:Mo|Di|Mi|Do|Fr|Sa|So|Mon|Tue|Wed|Thu|Fri)\.?,?\s+)?"
                         r"\d{1,2}\.\d{1,2}\.(\d{4}|\d{2})\b", text):
        # "12.6.–9.7.2024": the first date takes the year of the second, or the year before when the
        # range crosses new year ("22.8.–9.1.2027" starts on 22.8.2026)
        start = re.match(r"\d{1,2}\.\d{1,2}\.", m.group(0))
        end_month = int(re.search(r"(\d{1,2})\.(?:\d{4}|\d{2})$", m.group(0)).group(1))
        y3 = int(m.group(3))
        year = (_century(y3, late) if y3 < 100 else y3) - (1 if int(m.group(2)) > end_month else 0)
        _try(add, _Sub(m, 0, start.end()), year, int(m.group(2)), int(m.group(1)))
    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        _try(add, m, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in re.finditer(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)", text):
        y = int(m.group(3))
        y = _century(y, late) if y < 100 else y
        _try(add, m, y, int(m.group(2)), int(m.group(1)))
    for m in re.finditer(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])", text):
        a, b = int(m.group(1)), int(m.group(2))
        y = int(m.group(3))
        y = _century(y, late) if y < 100 else y
        # dd/mm/yyyy (European) unless impossible, then mm/dd/yyyy
        if b <= 12:
            _try(add, m, y, b, a)
        else:
            _try(add, m, y, a, b)
    # day ranges with the month and year once: "vom 2. bis 27. April 2029", "from 2 to 27 April 2029", "26 May to 15 June 2026"
    for m in re.finditer(rf"\b(\d{{1,2}})\.?(?:\s+({_MONTH_RE})\.?)?\s*(?:–|-|bis(?:\s+zum)?|to|until|and|und)\s*(\d{{1,2}})\.?\s+({_MONTH_RE})\.?\s+(\d{{4}})\b",
                         text, re.IGNORECASE):
        month = MONTHS[(m.group(2) or m.group(4)).lower()]
        year = int(m.group(5)) - (1 if month > MONTHS[m.group(4).lower()] else 0)
        _try(add, _Sub(m, 0, (m.end(2) if m.group(2) else m.end(1)) - m.start()), year, month, int(m.group(1)))
    # month and year: "ED 03/2029", "seit 11/2028", "ED 03/29" (not a dose "78/2 Gy", not "6/52")
    for m in re.finditer(r"(?<![\d/.,])(?<!NRS )(?<!VAS )(0?[1-9]|1[0-2])/(\d{4}|\d{2})(?![\d/.,])(?!\s*Gy)", text):
        y = int(m.group(2))
        if y < 100:
            y += 2000
        if not late - 30 <= y <= late + 1:
            continue  # "NRS 5/10", "6/52": no month
        add(m, (y, int(m.group(1))))
    for m in re.finditer(rf"\b(\d{{1,2}})\.?\s+({_MONTH_RE})\.?\s+(\d{{4}})\b", text, re.IGNORECASE):
        _try(add, m, int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
    for m in re.finditer(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),\s+(\d{{4}})\b", text, re.IGNORECASE):
        _try(add, m, int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
    for m in re.finditer(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b", text, re.IGNORECASE):
        add(m, (int(m.group(2)), MONTHS[m.group(1).lower()]))
    return out


def extract_dates(text: str) -> list[tuple[str, dt.date | tuple[int, int]]]:
    """Full dates as dates; 'April 2029' as (year, month). Returns (surface, value)."""
    return [(text[a:b], v) for a, b, v in find_dates(text)]


class _Sub:
    """A part of a regex match (start/end/group(0)) for dates found inside a range."""

    def __init__(self, m, a: int, b: int):
        self._s, self._a, self._b = m.string, m.start() + a, m.start() + b

    def start(self):
        return self._a

    def end(self):
        return self._b

    def group(self, _=0):
        return self._s[self._a : self._b]


def _try(add, m, y: int, mo: int, d: int) -> None:
    try:
        add(m, dt.date(y, mo, d))
    except ValueError:
        add(m, ("invalid", m.group(0)))


def find_icd10(text: str) -> list[tuple[int, int, str]]:
    out = []
    # not inside a longer code-like token ("C50.412": binding.py flags that as an invalid code)
    for m in re.finditer(r"(?<![A-Za-z0-9])([A-TV-Z]\d{2}(?:\.\d{1,2})?)(?![\d.]*\s*Gy)(?![A-Za-z0-9]|\.\d)", text):
        before, after = text[max(0, m.start() - 5) : m.start()], text[m.end() : m.end() + 12]
        # vertebral levels ("T8–T10 vertebrae", "BWK 10") are not codes
        if re.search(r"[A-Z]\d{1,2}\s*[–-]\s*$", before) or re.match(r"\s*[–-]\s*[A-Z]?\d|\s*(?:vertebra|Wirbel)", after):
            continue
        out.append((m.start(1), m.end(1), m.group(1)))
    return out


def extract_icd10(text: str) -> list[str]:
    return [v for _, _, v in find_icd10(text)]


def find_tnm(text: str) -> list[tuple[int, int, str]]:
    """Each component of a TNM formula, lower-case, at its own span ('pN1' inside 'pT2 pN1 cM0')."""
    parts = []
    for m in re.finditer(r"(?<![A-Za-z0-9–-])((?:y|r|a|yp|yc|p|c)?T(?:is|[0-4x](?:[a-d]\d?)?|X))(?![\d–-])(?:\s*\(m\))?\s*((?:y|yp|p|c)?N(?:[0-3][a-c]?|x|X))?\s*((?:p|c)?M(?:[01][a-c]?|x|X))?(?![A-Za-z0-9])", text):
        if m.group(1) == "Tx" and not (m.group(2) or m.group(3)):
            continue  # "Tx: chemoradiation": the therapy, not an unknown T category
        for i, g in enumerate(m.groups(), 1):
            if g:
                parts.append((m.start(i), m.end(i), g.lower()))
    return parts


def extract_tnm(text: str) -> list[str]:
    return [v for _, _, v in find_tnm(text)]


def find_techniques(text: str) -> list[tuple[int, int, str]]:
    """Each technique named in the text, once, at its first mention; in text order."""
    first: dict[str, tuple[int, int, str]] = {}
    for name, pats in TECHNIQUES.items():
        for p in pats:
            flags = 0 if p.isupper() else re.IGNORECASE
            m = re.search(rf"(?<![A-Za-z0-9]){p}(?![A-Za-z0-9])", text, flags)
            if m and (name not in first or m.start() < first[name][0]):
                first[name] = (m.start(), m.end(), name)
    m = re.search(_STEREO_ANY, text, re.IGNORECASE)
    if m and not first.keys() & {"SBRT", "SRS", "FSRT"}:
        first["stereotactic"] = (m.start(), m.end(), "stereotactic")
    return sorted(first.values())


def extract_techniques(text: str) -> set[str]:
    return {v for _, _, v in find_techniques(text)}


GRADE_EXPR = r"(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s,:-]*)?(?:Grad|grade|Grade|G|°)\s*"


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def _int_grade(g: str) -> int:
    return _ROMAN[g] if g in _ROMAN else int(g)


def find_grades(text: str, with_g: bool = True) -> list[tuple[int, int, int]]:
    """CTCAE grades with the span of their statement ('Grad 3', 'CTCAE grade 3', 'G3', '°3', '3°', Roman numerals:
    'Grad II', '°II', 'II°'). A table's grade column: :mod:`~medletter.evaluate.factcheck.tables`."""
    pats = [
        r"(?<!WHO-)(?<!WHO )(?<!ISUP-)(?<!ISUP )(?<!FIGO )(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s,:-]*)?(?:Grad|grade|Grade)\s*([0-5])\b",
        r"CTCAE[\s-]*(?:v5(?:\.0)?)?\s*°\s*([0-5])\b",
        r"\(\s*CTCAE[\s:-]*([0-5])(?![.\d])\s*\)",
        r"(?<![\d,.])°\s*([0-5])\b",
        r"\b([0-5])°(?!\s*C)",
        r"(?<!WHO-)(?<!WHO )(?<!FIGO )(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s,:-]*)?(?:Grad|grade|Grade)\s*(IV|I{1,3})\b",
        r"°\s*(IV|I{1,3})\b",
        r"\b(IV|I{1,3})°",
    ]
    if with_g:
        pats.append(r"(?<![A-Za-z0-9-])G([0-5])(?![A-Za-z0-9])")
    out = []
    taken = []
    for p in pats:
        for m in re.finditer(p, text):
            if any(a <= m.start(1) < b for a, b in taken):
                continue
            taken.append((m.start(1), m.end(1)))
            out.append((m.start(), m.end(), _int_grade(m.group(1))))
    return out


def extract_grades(text: str, with_g: bool = True) -> list[int]:
    """CTCAE grades stated in the text. 'G2' is ambiguous with tumour grading; ``with_g`` includes it."""
    return [v for _, _, v in find_grades(text, with_g)]


def find_intervals(text: str) -> list[tuple[int, int, tuple[int, str]]]:
    """'10 Wochen' -> (start, end, (10, 'w')); units w, m, y."""
    out = []
    for m in re.finditer(r"\b(\d{1,3})\s*(Wochen|weeks|Woche|week|Monate|Monaten|months|Monat|month|Jahre|Jahren|years|Jahr|year)\b", text):
        unit = m.group(2).lower()
        unit = "w" if unit.startswith(("woche", "week")) else "m" if unit.startswith(("monat", "month")) else "y"
        out.append((m.start(), m.end(), (int(m.group(1)), unit)))
    return out


def extract_intervals(text: str) -> list[tuple[int, str]]:
    return [v for _, _, v in find_intervals(text)]


def in_range(weeks: int, text: str) -> bool:
    """'6–8 Wochen' states a first visit after 6 (or 8) weeks."""
    for m in re.finditer(r"\b(\d{1,2})\s*[–-]\s*(\d{1,2})\s*(?:Wochen|weeks)\b", text):
        if weeks in (int(m.group(1)), int(m.group(2))):
            return True
    return False


def loose_in(region: str, text: str) -> bool:
    """Target region found if all its content words (≥4 letters) occur in the letter."""
    words = [w for w in re.findall(r"\w+", region) if len(w) >= 4]
    return bool(words) and all(w in text for w in words)
