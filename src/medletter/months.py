"""Month names, German and English: the one table of the package.

Letters are written (:mod:`medletter.textfmt`), checked (:mod:`medletter.evaluate.facts`) and
de-identified (:mod:`medletter.privacy`) with these words; each module derives the forms it reads
from this table instead of keeping its own list.

    MONTHS_DE[2]         -> "März"
    NUMBER["Okt"]        -> 10
"""

from __future__ import annotations

MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
# other German spellings: Austrian ("Jänner", "Feber") and without the umlaut ("Maerz")
SPELLINGS_DE = {"Jänner": 1, "Feber": 2, "Maerz": 3}
# abbreviations, German and English, in the order of the months
ABBREVIATIONS = {
    "Jan": 1, "Feb": 2, "Mär": 3, "Mrz": 3, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9,
    "Okt": 10, "Oct": 10, "Nov": 11, "Dez": 12, "Dec": 12,
}
# every month word above and its number (1-12), as written (capitalised): German names, other German
# spellings, English names, abbreviations
NUMBER: dict[str, int] = {
    **{m: i for i, m in enumerate(MONTHS_DE, start=1)},
    **SPELLINGS_DE,
    **{m: i for i, m in enumerate(MONTHS_EN, start=1)},
    **ABBREVIATIONS,
}
