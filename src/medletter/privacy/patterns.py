"""Regular-expression building blocks for German (and English) clinical letters, shared by several
recognisers (:mod:`medletter.privacy.recognizers`) and by detection and pseudonymisation.

A pattern that one recogniser alone uses lives in that recogniser's module. All patterns are for the
``regex`` module (variable-width look-behind) and are compiled *without* IGNORECASE: capitalisation is
evidence in German text. Case-insensitive parts use ``(?i:...)``.
"""

from __future__ import annotations

import regex as re

from medletter import months as MO

UC = r"A-ZÄÖÜÀ-ÖØ-ÞŠŽČĆĐŁŚŹŻŇŘĚ"
LC = r"a-zäöüßà-öø-ÿšžčćđłśźżńęąřěůıç"
CAPWORD = rf"[{UC}][{LC}]+(?:['’][{LC}]+)?(?:-[{UC}]?[{LC}]+)*"
ALLCAPS = rf"[{UC}]{{2,}}(?:-[{UC}]{{2,}})*"
INITIAL = rf"[{UC}][{LC}]?\."
PARTICLE = r"(?i:von|van|de|der|den|zur|zu|di|da|del|della|le|la|du|ten|ter|vom|dos|das|bin|ibn|el|al|y)"
NAMETOK = rf"(?:{CAPWORD}|{ALLCAPS}|{INITIAL})"
PARTICLE_LEAD = r"(?:von|van|de|De|DE|di|da|del|della|du|ten|ter|VON|VAN)"

# --- months (the words and their numbers: medletter.months) ---------------------------------------
# German names with their other spellings, each after its month: "Januar", "Jänner", "Februar", "Feber", ...
MONTHS_DE = tuple(sorted((*MO.MONTHS_DE, *MO.SPELLINGS_DE), key=MO.NUMBER.__getitem__))
MONTHS_EN = MO.MONTHS_EN
# the rules read every abbreviation but the English "Mar"
MONTH_ABBR = tuple(a for a in MO.ABBREVIATIONS if a != "Mar")
MONTH_NUM = {w.lower(): n for w, n in MO.NUMBER.items() if w != "Mar"}
MONTH_RE = "(?:" + "|".join(sorted(set(MONTHS_DE + MONTHS_EN), key=len, reverse=True)) + "|" + \
    "(?:" + "|".join(MONTH_ABBR) + r")\.)"
# an abbreviated month with or without its period ("Okt", "Okt.", "Sept"); "Jan" only where a day
# stands before it (it is also a first name)
MONTH_ABBR_RE = "(?:" + "|".join(sorted(MONTH_ABBR, key=len, reverse=True)) + r")\.?(?![\w])"
MONTH_WORD_RE = "(?:" + "|".join(sorted(set(MONTHS_DE + MONTHS_EN), key=len, reverse=True)) + "|" + MONTH_ABBR_RE + ")"

# --- places ----------------------------------------------------------------------------------------
# the wing of a ward after its name or number ("Station 4 Nord"), also a hospital's part ("Klinikum Nord")
UNIT_WING = r"(?:Nord|Süd|Ost|West|Mitte|Nordost|Nordwest|Südost|Südwest)"
# the code of a Swiss canton, a German or an Austrian state, as written in parentheses after a place
# ("Aarau (AG)", "Freising (BY)"): a closed set, like the months
REGION_CODE = (
    r"(?:AG|AI|AR|BE|BL|BS|FR|GE|GL|GR|JU|LU|NE|NW|OW|SG|SH|SO|SZ|TG|TI|UR|VD|VS|ZG|ZH|"
    r"BW|BY|BB|HB|HH|HE|MV|NI|NRW|RP|SL|SN|ST|TH|NÖ|OÖ)"
)
CITY_NAME = (
    rf"(?:(?:Bad|St\.|Sankt|Neu|Groß|Klein|Markt|Hansestadt|Lutherstadt)\s)?(?:{CAPWORD}|{ALLCAPS})"
    rf"(?:\s(?:am|an\sder|im|in\sder|ob\sder|bei|vor\sder|a\.\s?d\.|an\sder)\s(?:{CAPWORD}))?(?:\s?\((?:{CAPWORD}|{REGION_CODE})\))?"
    rf"(?:-(?:{CAPWORD}|{ALLCAPS}))?"
)

# --- titles ------------------------------------------------------------------------------------
_TITLE_HEAD = (
    r"(?:(?i:o\.\s?)?(?i:Univ\.?)\s?-?\s?(?i:Prof\.)|(?i:Prof\.)|PD|(?i:Priv\.?\s?-?\s?Doz\.)|(?i:Univ\.?-?Doz\.)|"
    r"(?i:Doz\.)|DDr\.|(?i:Dr\.?[ªa]?(?:-?in)?(?=[\s.,]|$)\.?)|Drs\.|Prim\.|Mag\.(?:\s?(?i:rer\.\s?nat\.|pharm\.|phil\.))?|"
    r"Dipl\.\s?-?\s?(?:Ing|Psych|Päd|Med|Kfm)\.|Ass\.\s?(?=Dr)|MUDr\.|Prof(?=\s)|DGKS|DGKP|"
    r"Dr(?=\s[A-ZÄÖÜ])|Professor(?:in)?(?=\s[A-ZÄÖÜ]))"
)
_TITLE_TAIL = (
    r"(?:(?i:med\.?(?:\s?univ(?:ers?)?\.)?|dent\.|vet\.|rer\.\s?nat\.|rer\.\s?medic\.|phil\.|mult\.|univ(?:ers)?\.|"
    r"habil\.|sc\.\s?hum\.)|(?i:univ(?:ers?)?\.)|Dr\.?[ªa]?(?:-?in)?(?=[\s.,]|$)\.?|DDr\.|Prof\.|PD)"
)
TITLE = rf"{_TITLE_HEAD}(?:\s{{0,2}}{_TITLE_TAIL})*"


def alt(words) -> str:
    """An alternation of literal words, longest first."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"

