"""Dates (``DATE``): a day, a month or a year in any of the forms letters write them.

Forms (invented examples): "04.04.2029", "4.4.97", "23.04 2029", "21/06/1967", "2029-04-04", "19.3."
(day and month), "27. März 2025", "13.Juli 2025", "March 4, 2029", "04/2029", "11/28", "07.2025",
"4-7/18"; years: a bare "2011", after a history cue ("ED 2011", "Z.n. Appendektomie 2057", "im Jahr
1998"), in lists ("1998 und 2003"), a year and the next ("2003/04"), "’98"; the first day of a range
("vom 4. bis 18.10.21", "3. – 17. März 2021"); abbreviated months ("am 4. Okt", "12.Dez", "Okt 2021").

Validity (:meth:`GermanDateRecognizer.valid`): a year after "Tel", "Nr", "Zi", "Station" is a number,
not a date; a season and a year ("im Frühjahr 2023") is too coarse to identify anyone and stays; the
two years of a pair follow each other; "2.1. Befund" at the start of a line is a section number.

Scores: a full date with a four-digit year, or ISO, can hardly be anything else (0.95); the forms that
numbers of other kinds share score lower, so that where they overlap another rule's span the other
wins: a day and month without a year (0.7: also an enumeration "1.2."), a month and a two-digit year
(0.75: also a count "2/15"; lymph-node counts, scores and blood pressure are ruled out by the
look-behinds), and a bare year lowest (0.6: also an amount or a code; alone it is listed for review
in the residual-risk report). A year that a history cue or another year supports is surer (0.75-0.8).
"""

from __future__ import annotations

import regex as re

from medletter.privacy.patterns import LC, MONTH_ABBR, MONTH_ABBR_RE, MONTH_RE, MONTH_WORD_RE, UC
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

D = r"(?:0?[1-9]|[12]\d|3[01])"
M = r"(?:0?[1-9]|1[0-2])"
Y4 = r"(?:1[89]\d\d|20\d\d)"
Y2 = r"\d\d"
NB = r"(?<![\d.,:])(?<![A-Za-z]-)"  # not inside a longer number
NA = r"(?!\d|,\d|\.\d|/\d)"  # not followed by more number
# what may not follow a year: more digits, a decimal part, a unit or a count ("2000 mg", "1998 g")
YEAR_TAIL = (
    r"(?!\d|,\d|\.\d|\s?(?:mg|ml|µg|mcg|g\b|kg|IE|I\.E\.|E\b|Gy|cGy|mm|cm|ccm|m\b|%|x\b|mal\b|Stück|U/|/µl|/mm|/nl|ms\b|Hz|"
    r"kcal|Zyklen|Einheiten|Punkte))"
)
# words after which a year is a date of the history: first diagnosis, "status post", since, in the year
HISTORY_CUE = (
    r"(?:\b(?:ED|EM|Erstdiagnose|Erstdiag\.|Diagnose|Z\.\s?n\.|Zn\.|St\.\s?p\.|s\.\s?p\.|seit|Seit|"
    r"im\sJahre?|Jahrgang|Jg\.|Rezidiv|Progress|Progression|Zweitdiagnose|Erstmanifestation|diagnostiziert|"
    r"operiert|bestrahlt|Radiatio|Chemotherapie|OP|Op\.|Operation)|\bZ\.n\.)"
)
YEAR_JOIN = r"(?:[,;/&–-]|und|u\.|sowie|bzw\.|oder)"
# the abbreviated months that stand before a year without their period ("Okt 2021"), longest first;
# not "Jan", which is also a first name
_ABBR_BEFORE_YEAR = "|".join(a for a in sorted(MONTH_ABBR, key=len, reverse=True) if a != "Jan")

DATE_PATTERNS: list[tuple[str, str, float]] = [
    # 04.04.2029, 4.4.1997, 23.04 2029, 10. 03. 2043, 21/06/1967, 26 09.2033
    ("dmy4", rf"{NB}{D}\s?[./]\s?{M}\s?[./ ]\s?{Y4}(?!\d)", 0.95),
    ("dmy4x", rf"{NB}\d{{1,2}}\.\d{{1,2}}\.{Y4}(?!\d)", 0.8),
    ("dmy4b", rf"{NB}{D} {M}\.{Y4}(?!\d)", 0.9),
    ("dmy4-", rf"{NB}{D}-{M}-{Y4}(?!\d)", 0.9),
    # 04.04.97, 5.7.54
    ("dmy2", rf"{NB}{D}\.{M}\.{Y2}{NA}", 0.9),
    ("dmy2/", rf"{NB}{D}/{M}/{Y2}{NA}", 0.8),
    # ISO 2029-04-04
    ("iso", rf"{NB}{Y4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)", 0.95),
    # 19.3. (day and month, no year); not a time ("um 9.30.")
    ("dm.", rf"{NB}(?<!\b(?:um|ab|bis|gegen|ca\.)\s){D}\.{M}\.(?![\d])(?!\s?-?\s?\d{{2,4}}\b)", 0.7),
    # 27. März 2025, 13.Juli 2025, März 2029, Oktober\n2012, 4 March 2029, March 4, 2029
    ("month", rf"(?<![{LC}{UC}])(?:{D}\.?\s?)?{MONTH_RE}(?:\s+{D}(?![\d.]),?)?(?:\s*{Y4}|\s+'?{Y2}(?!\d))?(?![{LC}{UC}])", 0.85),
    # 04/2029, 8/2023, 02-04/2021, 07.2025
    ("my4", rf"{NB}(?:{M}\s?[-–]\s?)?{M}\s?/\s?{Y4}(?!\d)", 0.9),
    ("my4.", rf"{NB}(?:0[1-9]|1[0-2])\.{Y4}(?!\d)", 0.85),
    # 11/28, 1/26 (month/2-digit year), not lymph-node counts "pN1 (2/15)" nor blood pressure
    # and a range of months of one year, "4-7/18", "04–09/21"
    ("my2", rf"{NB}(?<![\d,]/)(?<!N\d[a-c]?\s?\(\s?)(?<!(?:NRS|VAS|NAS|Score|Punkte|ECOG|Grad|Visus)\s?:?\s?\(?\s?)(?<!RR\s?)(?:{M}\s?[-–]\s?)?{M}/{Y2}(?![\d/.]|\s?(?:mmHg|mg|µg|ml|g\b|cm|mm|LK|Lymph|[Kk]noten|%))", 0.75),
    # bare years 1900-2049 (not amounts, not parts of codes)
    ("year", rf"(?<![\w.,/:#-])(?<!(?:ISO|DIN|EN|Nr\.?|No\.?|ICD|Tel\.?|Fax)\s?)(?:19\d\d|20[0-4]\d){YEAR_TAIL}", 0.6),
    # a year after a history cue (up to three words between), 1900-2099 (date-shifted letters reach
    # past 2049), also glued to the cue: "ED 2011", "(ED:2011)", "Z.n. Appendektomie 2057", "im Jahr 1998"
    ("year_cued", rf"(?<={HISTORY_CUE}(?:[ \t]+[{UC}{LC}][\w./-]*){{0,3}}?[ \t]?:?[ \t]{{0,2}})(?:19\d\d|20\d\d){YEAR_TAIL}", 0.8),
    # years in a list, each joined to another year: "1998 und 2003", "1998/2003", "1998,2003", "2001-2004"
    ("year_list", rf"(?<![\w.,:#-])(?:19\d\d|20\d\d)(?=\s?{YEAR_JOIN}\s?(?:19\d\d|20\d\d){YEAR_TAIL})", 0.75),
    ("year_list", rf"(?<=(?:19\d\d|20\d\d)\s?{YEAR_JOIN}\s?)(?:19\d\d|20\d\d){YEAR_TAIL}", 0.75),
    # a year and the next one: "2003/04", "1999/2000" (checked by the recogniser: consecutive)
    ("year_pair", r"(?<![\w.,/:#-])(?:19\d\d|20\d\d)/(?:\d\d|19\d\d|20\d\d)(?![\d/]|[.,]\d|\s?(?:mg|ml|µg|g\b|IE|Gy|%))", 0.85),
    # a two-digit year with an apostrophe: "Appendektomie ’98"
    ("year_apos", r"(?<=[\s(])['’]\d\d(?![\w'’])", 0.7),
    # the first day of a range: "vom 4. bis 18.10.21", "06-07.11.2024", "10 und 11.10.2033", "05.11-18.11.2024",
    # and with the month (and year) only at the end: "vom 3. – 17. März 2021", "3. bis 17. Okt. 2021"
    ("range", rf"{NB}(?:{D}\.{M}\.?|{D}\.?)(?=\s{{0,2}}(?:[-–/]|bis(?:\szum)?|und|u\.|&)\s{{0,2}}{D}\.\s?(?:{M}\.|{MONTH_WORD_RE}))", 0.75),
    # a day and an abbreviated month without its period or year: "am 4. Okt", "12.Dez", "4. Sept 21"
    ("day_month_abbr", rf"{NB}{D}\.\s?{MONTH_ABBR_RE}(?:\s*{Y4}(?!\d)|\s+'?{Y2}(?![\d.,]))?", 0.8),
    # an abbreviated month and a year, no period: "Okt 2021" ("Jan" is a first name: left out)
    ("month_abbr_year", rf"(?<![\w.])(?:{_ABBR_BEFORE_YEAR})\s?(?:1[89]\d\d|20\d\d)(?!\d)", 0.8),
]


class GermanDateRecognizer(MedletterRegexRecognizer):
    ENTITY = "DATE"
    RULES = DATE_PATTERNS

    def valid(self, text, start, end, rule):
        frag = text[start:end]
        if rule.startswith("year"):
            before = text[max(0, start - 12):start]
            # "Stadium IV (AJCC 2009)" is a date by GraSCCo's rules; "Tel 2033" is not
            if re.search(r"\b(?i:tel\.?|fax|nr\.?|no\.?|zi\.?|station|pos\.?)\s*:?\s*$", before):
                return False
            # a season and a year ("im Frühjahr 2023") is too coarse to identify anyone: it stays
            if re.search(r"\b(?i:frühjahr|frühling|sommer|herbst|winter|spring|summer|autumn|fall)\s*$", before):
                return False
        if rule == "year_pair":
            # "2003/04", "1999/2000": the second year follows the first (else a journal number, an ID)
            a, b = frag.split("/")
            return int(b) % 100 == (int(a) + 1) % 100 and (len(b) == 2 or int(b) == int(a) + 1)
        if rule in ("dm.",):
            # "1.2." inside an enumeration like "1.2.3" was excluded by the look-arounds; also skip
            # section numbers at line start ("2.1. Befund")
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip() == "" and re.match(r"\d+\.\d+\.\s+[A-ZÄÖÜ]", text[start:start + 40]):
                return False
        return True
