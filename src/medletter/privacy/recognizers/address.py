"""Addresses (``LOCATION_STREET``, ``LOCATION_ZIP``, ``LOCATION_CITY``): streets, postcodes and
cities, from address patterns and from a list of places.

Forms (invented examples): "Lindenallee 7", "Am Hang 12a", "Innsbrucker Landstraße 3", "68167
Mannheim", "CH-4031 Basel", "D-79106 Freiburg im Breisgau", a street before or after the postcode
line, "wohnhaft in Talheim", "Seestadt, den 04.04.2029" (a place-and-date line), "Aarau (AG)",
"Freising (BY)", "aus Bad Kissingen", "nach Stuttgart" (a listed city after a cue), and listed
cities anywhere ("Leipzig").

Validity: a city is no common noun or month and has no noun's ending ("-ung", "-itis"); a postcode
that reads as a year (1900-2049) only with a listed city; a street's words are no common nouns, and
"Tel", "Fax", "Nr" do not start one; "TG", "HE" in parentheses after a word they abbreviate are no
canton. Cities found in an address, a place-and-date line or with a region code are then searched for
elsewhere in the same text.

Scores: a postcode with its city, a street with its house number, a place with a region code (0.8);
the forms that need their neighbour (street next to a postcode line, 0.7; a place after "wohnhaft" or
before a date, 0.75; a listed city after "in", "aus", "Klinikum", 0.7); a street without a number and
a "Bad ..."/"Sankt ..." place 0.6, a city found again 0.6, and a listed city with no cue lowest (0.55:
many places are also surnames or words; listed for review).
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.patterns import LC, UC, alt
from medletter.privacy.recognizers.base import FLAGS, make_result, name_like_city

STREET_SUFFIX = (
    r"(?:straße|strasse|strße|str\.|Straße|Strasse|Str\.|gasse|Gasse|weg|Weg|allee|Allee|platz|Platz|ring|"
    r"damm|ufer|Ufer|pfad|steig|kamp|chaussee|Chaussee|markt|Markt|graben|stieg|wall|twiete|"
    r"landstraße|Landstraße|promenade|Promenade|hof|berg|garten|anger|"
    r"siedlung|Siedlung|park|Park|brücke|Brücke|street|Street|road|Road|avenue|Avenue)"
)
HOUSE_NO = r"\d{1,4}(?:[ ]?[a-zA-Z](?![\w-]))?(?:[ ]?[-/][ ]?\d{1,4}[a-z]?)?"
STREET_HEAD = (
    rf"(?:(?:Am|An\s(?:der|dem|den)|Im|In\s(?:der|den)|Auf\s(?:dem|der)|Zum|Zur|Unter\s(?:den|der)|"
    rf"Hinter\s(?:der|dem)|Vor\s(?:dem|der)|Alte[rn]?|Neue[rn]?|Große[rn]?|Kleine[rn]?|Obere[rn]?|Untere[rn]?|"
    rf"[{UC}][{LC}]+(?:er|e|sche|ische|ner))[ ])?"
)
STREET_NAME = (
    rf"(?:{STREET_HEAD}[{UC}][{LC}{UC}-]*{STREET_SUFFIX}(?![{LC}])|"
    rf"[{UC}][{LC}]+(?:er|e|sche|ische|ner)[ ](?:Str\.|Straße|Strasse|Gasse|Weg|Allee|Platz|Ring|Damm|Chaussee|Landstraße|Steig)(?![{LC}]))"
)
ZIP = r"(?:(?:D|A|CH|DE|AT)\s?-\s?)?\d{4,5}"
# the places of the list (names_data.CITIES)
CITY_LIST_RE = alt(nd.CITIES)


def _initialism(code: str, word: str) -> bool:
    """The letters of ``code`` appear in order in ``word``: "TG" for "Triglyceride", "HE" for
    "Hämatoxylin-Eosin" (an abbreviation of the word, not a canton after a place)."""
    it = iter(word.lower())
    return all(ch in it for ch in code.lower())


_STREET_HEAD_WORDS = frozenset("Am An Im In Auf Zum Zur Unter Hinter Vor der dem den".split())


class GermanAddressRecognizer(EntityRecognizer):
    """Streets, postcodes and cities, from address patterns and from a list of places.

    Cities found in an address or in a place-and-date line are also searched for elsewhere in the
    same text.
    """

    ENTITIES = ["LOCATION_STREET", "LOCATION_ZIP", "LOCATION_CITY"]

    def __init__(self, supported_language: str = "de"):
        super().__init__(supported_entities=self.ENTITIES, supported_language=supported_language,
                         name="GermanAddressRecognizer")

    def load(self) -> None:
        c = lambda p: re.compile(p, FLAGS)  # noqa: E731
        self.zip_city = c(rf"(?<![\d.,/:+\w-])(?P<zip>{ZIP})[ \t]*[-–]?[ \t]*(?P<city>{P.CITY_NAME})")
        self.street = c(rf"(?<![\w-])(?P<street>{STREET_NAME}\s?\.?[ \t]*{HOUSE_NO})(?![\d])")
        self.street_before_zip = c(
            rf"(?<![\w-])(?P<street>(?:{STREET_HEAD})?[{P.UC}][\w.äöüß-]+(?:[ ][{P.UC}][\w.äöüß-]+)?[ ]{HOUSE_NO})(?!\d)"
            rf"(?=[ \t]*,?[ \t]*\n?[ \t]*{ZIP}[ \t]*-?[ \t]*[{P.UC}])"
        )
        self.street_after_city = c(
            rf"(?<={ZIP}[ \t]*-?[ \t]*{P.CITY_NAME}[ \t]*(?:,[ \t]*|\n[ \t]*))"
            rf"(?P<street>(?:{STREET_HEAD})?[{P.UC}][\w.äöüß-]+(?:[ ][{P.UC}][\w.äöüß-]+)?[ ]{HOUSE_NO})(?![\w.])"
        )
        self.street_no_number = c(rf"(?<![\w-])(?P<street>{STREET_NAME})(?=,?[ \t]*{ZIP}[ \t]+[{P.UC}])")
        self.lives_in = c(
            rf"(?<=(?i:wohnhaft|wh\.|wohnt|Wohnort|lebt|resident)\s?:?\s{{1,2}}(?:in\s)?)(?P<city>{P.CITY_NAME})(?![\w]|\s\d)"
        )
        self.place_date = c(
            rf"^[ \t]*(?P<city>{P.CITY_NAME})[ \t]*,[ \t]*(?:(?:den|am|im)[ \t]+)?(?=\d{{1,2}}\.\s?(?:\d{{1,2}}\.|{P.MONTH_RE}|\s))"
        )
        self.city_list = c(rf"(?<![\w-]){CITY_LIST_RE}(?![\w-])")
        self.bad_city = c(rf"(?<![\w-])(?:Bad|Sankt)[ ][{P.UC}][{P.LC}]+(?:[ ](?:am|an[ ]der|im)[ ][{P.UC}][{P.LC}]+)?(?![\w-])")
        # a place and a canton's or state's code in parentheses: "Aarau (AG)", "Freising (BY)"
        self.region_city = c(rf"(?<![\w-])(?P<city>(?:(?:Bad|St\.|Sankt)[ ])?{P.CAPWORD})[ ]?\((?P<code>{P.REGION_CODE})\)")
        self.cued_city = c(
            rf"(?<=\b(?:in|aus|nach|Patho(?:logie)?|Klinikum|Krankenhaus|Spital)\s)(?P<city>{P.CITY_NAME})(?=\s|[,.;:)])"
        )

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        out: list[RecognizerResult] = []

        def add(ent, s, e, score, rule):
            while e > s and text[e - 1] in " \t\n,;:.":
                if text[e - 1] == "." and ent == "LOCATION_STREET" and re.search(r"str\.$", text[s:e]):
                    break
                e -= 1
            if e > s:
                out.append(make_result(self, ent, s, e, score, rule))

        strong_cities: set[str] = set()
        for m in self.zip_city.finditer(text):
            z, city = m.group("zip"), m.group("city")
            digits = re.sub(r"\D", "", z)
            is_year = len(digits) == 4 and 1900 <= int(digits) <= 2049 and not re.match(r"[A-Z]", z)
            if not name_like_city(city) or city in P.MONTHS_DE or city in P.MONTHS_EN:
                continue
            if is_year and city not in nd.CITIES:
                continue
            add("LOCATION_ZIP", *m.span("zip"), 0.8, "zip")
            add("LOCATION_CITY", *m.span("city"), 0.8, "zip_city")
            strong_cities.add(city)
        for rx, rule, score in ((self.street, "street", 0.8), (self.street_before_zip, "street_zip", 0.7),
                                (self.street_after_city, "street_after_city", 0.7),
                                (self.street_no_number, "street_no_number", 0.6)):
            for m in rx.finditer(text):
                st = m.group("street")
                words = [w.rstrip(".,") for w in st.split() if w not in _STREET_HEAD_WORDS and w[:1].isalpha()]
                if any(w in nd.NOT_NAME for w in words) or re.match(r"(?:Tel|Fax|Nr|Zi)\b", st):
                    continue
                add("LOCATION_STREET", *m.span("street"), score, rule)
        for rx, rule, score in ((self.lives_in, "lives_in", 0.75), (self.place_date, "place_date", 0.75)):
            for m in rx.finditer(text):
                city = m.group("city")
                if name_like_city(city):
                    add("LOCATION_CITY", *m.span("city"), score, rule)
                    strong_cities.add(city)
        for m in self.region_city.finditer(text):
            city, code = m.group("city"), m.group("code")
            if city in nd.CITIES or (not _initialism(code, city) and name_like_city(city)
                                     and city not in nd.COMMON_NOUNS and city not in P.MONTHS_DE):
                add("LOCATION_CITY", *m.span(), 0.8, "region_city")
                strong_cities.add(city)
        for m in self.cued_city.finditer(text):
            city = m.group("city")
            if city in nd.CITIES and city not in nd.AMBIGUOUS_CITIES:
                add("LOCATION_CITY", *m.span("city"), 0.7, "cued_city")
        for m in self.bad_city.finditer(text):
            if m.group(0).split()[1] not in nd.NOT_NAME:
                add("LOCATION_CITY", *m.span(), 0.6, "bad_city")
        for m in self.city_list.finditer(text):
            if m.group(0) not in nd.AMBIGUOUS_CITIES:
                add("LOCATION_CITY", *m.span(), 0.55, "city_list")
        for city in strong_cities:
            for m in re.finditer(rf"(?<![\w-]){re.escape(city)}(?![\w])", text):
                add("LOCATION_CITY", *m.span(), 0.6, "city_propagated")
        return out
