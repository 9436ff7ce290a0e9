"""Presidio recognisers for patient information in German (and English) clinical letters.

Each recogniser is a Presidio :class:`~presidio_analyzer.EntityRecognizer`; together they form the
registry that :mod:`medletter.privacy.detect` hands to Presidio's ``AnalyzerEngine``. They are
rule-based (no NER model is available offline): regular expressions with German context cues
(``Fallnummer:``, ``Tel.``, ``geb.``, ``Frau``/``Herrn``/``Dr. med.``), word lists, and — for
names — document-level propagation of names found next to a strong cue.

Recognisers never log text; only counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P

logger = logging.getLogger(__name__)

FLAGS = re.MULTILINE  # case-sensitive on purpose: capitalisation is evidence


def _result(rec: EntityRecognizer, entity: str, start: int, end: int, score: float, rule: str) -> RecognizerResult:
    expl = AnalysisExplanation(recognizer=rec.name, original_score=score, pattern_name=rule)
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=expl,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


class MedletterRegexRecognizer(EntityRecognizer):
    """Rules of one entity type: ``(rule name, pattern, score)``; the whole match is the entity.

    Patterns carry their context as look-behind/look-ahead; matching is case-sensitive.
    Subclasses may override :meth:`valid` to reject a match.
    """

    ENTITY = ""
    RULES: list[tuple[str, str, float]] = []

    def __init__(self, supported_language: str = "de", context: list[str] | None = None):
        self._compiled: list[tuple[str, re.Pattern, float]] = []
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name=f"{type(self).__name__}",
            context=context,
        )

    def load(self) -> None:
        self._compiled = [(n, re.compile(p, FLAGS), s) for n, p, s in self.RULES]

    def valid(self, text: str, start: int, end: int, rule: str) -> bool:
        return True

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        out = []
        for name, rx, score in self._compiled:
            for m in rx.finditer(text):
                s, e = m.span()
                while e > s and text[e - 1] in " \t\n,;:":
                    e -= 1
                if e > s and self.valid(text, s, e, name):
                    out.append(_result(self, self.ENTITY, s, e, score, name))
        return out


class GermanDateRecognizer(MedletterRegexRecognizer):
    ENTITY = "DATE"
    RULES = P.DATE_PATTERNS

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


_JAEHRIG_FORMS = ("jährig", "jährige", "jähriger", "jähriges", "jährigen", "jährigem")
_ARTICLE_BEFORE = re.compile(r"(?i:\b(?:der|die|den|dem|des|ein|eine|einen|einem|einer|eines|unsere[rmn]?|unser)\s+)$")


def age_word(word: str) -> int | None:
    """The value of a German number word as written in an age, tolerating typos: exact
    ("einundsiebzig"), or one edit in words of 6+ letters and two in words of 12+ ("einundsiebzg")."""
    from rapidfuzz.distance import Levenshtein

    w = word.lower()
    if w in P.AGE_WORDS:
        return P.AGE_WORDS[w]
    limit = 2 if len(w) >= 12 else 1 if len(w) >= 6 else 0
    if not limit:
        return None
    best = min(P.AGE_WORDS, key=lambda k: Levenshtein.distance(w, k, score_cutoff=limit + 1))
    return P.AGE_WORDS[best] if Levenshtein.distance(w, best, score_cutoff=limit + 1) <= limit else None


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
    RULES = P.AGE_PATTERNS
    _jword = re.compile(rf"[ \t]?[-–]?[ \t]?(?P<j>{P.AGE_JWORD})")
    _time_span = re.compile(rf"^[ \t,]*(?:[{P.LC}][\w-]*[ \t]+){{0,2}}{P.TIME_SPAN_NOUN}")
    _person = re.compile(rf"^[ \t,]*(?:[\w.-]+[ \t,]+){{0,2}}?{P.PERSON_NOUN}")

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


class GermanIdRecognizer(MedletterRegexRecognizer):
    ENTITY = "ID"
    RULES = P.ID_PATTERNS
    _date = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")

    def valid(self, text, start, end, rule):
        frag = text[start:end]
        if self._date.match(frag):
            return False
        if rule == "cued" and len(frag) < 2 and not frag.isdigit():
            return False
        if rule in ("ward", "ward_auf") and re.fullmatch(r"[CDT]\d{1,2}|[LSTC]\d", frag):
            return False  # ICD-like codes, vertebrae
        return True


class GermanPhoneRecognizer(MedletterRegexRecognizer):
    ENTITY = "CONTACT_PHONE"
    RULES = P.PHONE_PATTERNS

    def valid(self, text, start, end, rule):
        frag = text[start:end]
        digits = sum(c.isdigit() for c in frag)
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{2,4}", frag):
            return False
        if rule == "cued":
            return digits >= 5 and not re.fullmatch(r"(?:19|20)\d\d", frag)
        return digits >= 7


class GermanFaxRecognizer(GermanPhoneRecognizer):
    ENTITY = "CONTACT_FAX"
    RULES = P.FAX_PATTERNS


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser, label CONTACT_EMAIL, validating with the offline tldextract."""

    def __init__(self, supported_language: str = "de"):
        super().__init__(supported_language=supported_language, supported_entity="CONTACT_EMAIL",
                         name="OfflineEmailRecognizer")

    def validate_result(self, pattern_text: str):  # noqa: D102
        from medletter.privacy.nlp import offline_tldextract

        return offline_tldextract()(pattern_text).fqdn != ""


class SchemeUrlRecognizer(UrlRecognizer):
    """Presidio's URL recogniser restricted to URLs with a scheme or ``www.`` (label CONTACT_URL)."""

    def __init__(self, supported_language: str = "de"):
        pats = [p for p in UrlRecognizer.PATTERNS if p.name in ("Standard Url", "Quoted URL")]
        from presidio_analyzer import Pattern

        pats.append(Pattern("www", r"(?i)\bwww\d{0,3}\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s()<>\"']*)?", 0.6))
        super().__init__(patterns=pats, supported_language=supported_language, supported_entity="CONTACT_URL",
                         name="SchemeUrlRecognizer")


class GermanCountryRecognizer(MedletterRegexRecognizer):
    ENTITY = "LOCATION_COUNTRY"
    RULES = [("country", rf"(?<![\w-]){P.COUNTRY_RE}(?![\w-])", 0.6)]


class GermanProfessionRecognizer(MedletterRegexRecognizer):
    ENTITY = "PROFESSION"
    RULES = [
        ("cued", rf"(?<=\b{P.PROFESSION_CUE}\s)[{P.UC}][\wäöüß-]+", 0.7),
        ("listed", rf"(?<=\b(?:als|ist|war|wird|sei)\s(?:\w+\s)?){P.PROFESSION_RE}(?![\wäöü])", 0.55),
        ("von_beruf", rf"[{P.UC}][\wäöüß-]+(?=\svon\sBeruf)", 0.7),
    ]
    _suffix = re.compile(r"(?:er|erin|eur|eurin|ant|antin|ent|entin|ist|istin|iker|ikerin|mann|frau|kraft|"
                         r"helfer|helferin|arbeiter|arbeiterin|ingenieur|ingenieurin|meister|meisterin|"
                         r"techniker|technikerin|wirt|wirtin|beamter|beamtin|e|in)$")

    def valid(self, text, start, end, rule):
        w = text[start:end]
        if rule == "cued":
            return w in P.PROFESSIONS or (bool(self._suffix.search(w)) and w not in nd.NOT_NAME)
        return True


class GermanOrganizationRecognizer(MedletterRegexRecognizer):
    ENTITY = "LOCATION_ORGANIZATION"
    RULES = [
        ("insurer", rf"(?<![\w-]){P.ORG_INSURERS}(?![\w-])", 0.6),
        ("cued", rf"(?<=\b{P.ORG_CUE}\s?:\s{{0,3}})[{P.UC}][\w.&-]+(?:[ ][{P.UC}][\w.&-]+){{0,3}}", 0.7),
        ("university", rf"(?:[{P.UC}][\w]*-)*[{P.UC}]?[\w-]*(?:Universität|Hochschule|University|Fachhochschule)"
                       rf"(?:[ ](?:zu[ ]|of[ ])?[{P.UC}][\w-]+){{1,2}}", 0.65),
        ("company", rf"[{P.UC}][\w&.-]+(?:[ ][{P.UC}][\w&.-]+){{0,3}}[ ](?:GmbH|AG|e\.\s?V\.|Ltd\.?|Inc\.?)(?![\w])", 0.6),
    ]


# --- addresses ---------------------------------------------------------------------------------


def _name_like_city(tok: str) -> bool:
    base = tok.split()[-1].split("-")[0]
    return base not in nd.NOT_NAME and base.capitalize() not in nd.NOT_NAME and not base.lower().endswith(
        ("ung", "heit", "keit", "tion", "itis", "ose", "ie", "mg", "ml")
    )


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
        self.zip_city = c(rf"(?<![\d.,/:+\w-])(?P<zip>{P.ZIP})[ \t]*[-–]?[ \t]*(?P<city>{P.CITY_NAME})")
        self.street = c(rf"(?<![\w-])(?P<street>{P.STREET_NAME}\s?\.?[ \t]*{P.HOUSE_NO})(?![\d])")
        self.street_before_zip = c(
            rf"(?<![\w-])(?P<street>(?:{P.STREET_HEAD})?[{P.UC}][\w.äöüß-]+(?:[ ][{P.UC}][\w.äöüß-]+)?[ ]{P.HOUSE_NO})(?!\d)"
            rf"(?=[ \t]*,?[ \t]*\n?[ \t]*{P.ZIP}[ \t]*-?[ \t]*[{P.UC}])"
        )
        self.street_after_city = c(
            rf"(?<={P.ZIP}[ \t]*-?[ \t]*{P.CITY_NAME}[ \t]*(?:,[ \t]*|\n[ \t]*))"
            rf"(?P<street>(?:{P.STREET_HEAD})?[{P.UC}][\w.äöüß-]+(?:[ ][{P.UC}][\w.äöüß-]+)?[ ]{P.HOUSE_NO})(?![\w.])"
        )
        self.street_no_number = c(rf"(?<![\w-])(?P<street>{P.STREET_NAME})(?=,?[ \t]*{P.ZIP}[ \t]+[{P.UC}])")
        self.lives_in = c(
            rf"(?<=(?i:wohnhaft|wh\.|wohnt|Wohnort|lebt|resident)\s?:?\s{{1,2}}(?:in\s)?)(?P<city>{P.CITY_NAME})(?![\w]|\s\d)"
        )
        self.place_date = c(
            rf"^[ \t]*(?P<city>{P.CITY_NAME})[ \t]*,[ \t]*(?:(?:den|am|im)[ \t]+)?(?=\d{{1,2}}\.\s?(?:\d{{1,2}}\.|{P.MONTH_RE}|\s))"
        )
        self.city_list = c(rf"(?<![\w-]){P.CITY_LIST_RE}(?![\w-])")
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
                out.append(_result(self, ent, s, e, score, rule))

        strong_cities: set[str] = set()
        for m in self.zip_city.finditer(text):
            z, city = m.group("zip"), m.group("city")
            digits = re.sub(r"\D", "", z)
            is_year = len(digits) == 4 and 1900 <= int(digits) <= 2049 and not re.match(r"[A-Z]", z)
            if not _name_like_city(city) or city in P.MONTHS_DE or city in P.MONTHS_EN:
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
                if _name_like_city(city):
                    add("LOCATION_CITY", *m.span("city"), score, rule)
                    strong_cities.add(city)
        for m in self.region_city.finditer(text):
            city, code = m.group("city"), m.group("code")
            if city in nd.CITIES or (not _initialism(code, city) and _name_like_city(city)
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


# stems of German adjectives, participles and ordinals before an ending ("medizinisch-e", "universitär-e",
# "städtisch-en", "zuweisend-e", "spezialisiert-e", "erst-e")
_ADJ_STEMS = ("isch", "lich", "ig", "al", "ell", "iv", "är", "ar", "ös", "ent", "ant", "end", "ern", "at", "ior", "sch",
              "t", "neu", "groß", "klein", "frei", "gut", "ganz")
_NOT_BRAND = frozenset("dieser diese diesem diesen jeder jede jedem jeden welcher welche welchem beide beiden alle allen "
                       "unserer ihrer seiner seine seinen seinem meine meiner meinen deren dessen jener jene keine keiner "
                       "kein".split())


class GermanHospitalRecognizer(EntityRecognizer):
    """Hospitals, practices and rehabilitation centres: a hospital word with a proper name."""

    _core = re.compile(rf"(?<![\w-]){P.HOSP_CORE}", FLAGS)
    _prefix = re.compile(
        r"(?:(?:Städt\.|Städtisches|Städtische[ns]?|Evangelisches|Evang\.|Ev\.|Katholisches|Kath\.|Allgemeines|"
        r"Akademisches|Akademische[ns]?|Kreis|St\.|Sankt|Universitäres|Klinisches)\s)$"
    )
    _tail_assoc = re.compile(
        rf"\G[ \t]?(?:der|des|vom|zum|zur|am|an[ ]der|im|St\.|Sankt|St\.-)[ \t](?:(?:{P.CAPWORD}|{P.ALLCAPS}|St\.|der|des|barmherzigen)[ \t]?){{1,5}}"
    )
    _tail_name = re.compile(rf"\G(?:(?:[ ]?,?[ ]?)(?:{P.CITY_NAME}|{P.ALLCAPS})(?:[ ](?:{P.UNIT_WING}|{P.CAPWORD}|{P.ALLCAPS}))?(?=[ \t]*(?:[^\w\s]|\n|$)|[ ][{P.LC}\d-])|[ ]*\n[ \t]*(?:{P.CITY_NAME}|{P.ALLCAPS})(?=[ \t]*(?:,|\n|$)))")
    _tail_word = re.compile(rf"\G[ ]?,?[ ]?{P.CAPWORD}(?=[ \t]*(?:[^\w\s]|\n|$)|[ ][{P.LC}\d-])")
    # a name right before the hospital word, on its line: "Asklepios Klinik", "Aarauer Kantonsspital"
    _brand = re.compile(rf"(?:^|(?<=[\s(„\"/]))(?P<b>[{P.UC}][{P.LC}]+(?:-[{P.UC}][{P.LC}]+)?)[ ]$")
    _abbr_def = re.compile(r"[ \t]?\((?P<a>[A-ZÄÖÜ][A-ZÄÖÜ]{1,5})\)")
    _abbr_form = re.compile(rf"(?<={P.HOSP_ABBR_CUE}){P.HOSP_ABBR}(?![\w-])", FLAGS)
    _praxis = re.compile(rf"(?<![\w-])(?:Praxis|Ordination|Gemeinschaftspraxis|Praxisgemeinschaft)[ \t]+(?:{P.TITLE}[ \t]*)?(?:{P.NAMETOK})(?:[ \t]+{P.NAMETOK})?", FLAGS)

    def __init__(self, supported_language: str = "de"):
        super().__init__(supported_entities=["LOCATION_HOSPITAL"], supported_language=supported_language,
                         name="GermanHospitalRecognizer")

    def load(self) -> None:
        pass

    @staticmethod
    def _brand_like(word: str) -> bool:
        """A capitalised word before a hospital word that is a name ("Asklepios", "Hirslanden", the
        place adjective "Aarauer"), not an adjective ("Medizinische", "Psychiatrischen", "Innere",
        "Zuweisende"), a determiner ("Unserer") or a clinical noun ("Radioonkologie")."""
        if word in nd.NOT_NAME or word.capitalize() in nd.NOT_NAME or word.lower() in _ARTICLES:
            return False
        low = word.lower()
        if low.endswith(nd.NON_NAME_SUFFIXES) or low in _NOT_BRAND:
            return False
        m = re.fullmatch(r"(.+?)(e|en|em|es|er)", low)
        if m and m.group(2) != "er" and m.group(1).endswith((*_ADJ_STEMS, "er")):
            return False  # "Psychiatrischen", "Universitäre", "Zuweisende", "Innere", "Andere"
        return not low.endswith(("erer", "ischer", "licher"))  # but "Leipziger", "Aarauer"

    @staticmethod
    def _place_words(tail: str) -> bool:
        """Every word of a hospital's tail may be part of a place or a name ("Hirslanden Aarau",
        "Nürnberg Nord"), none a clinical noun ("Aarau Nachsorge", "Biel am Montag")."""
        words = [w for w in re.split(r"[\s,()]+", tail) if w[:1].isupper()]
        return _name_like_city(tail.strip(" ,\t")) and all(
            w not in nd.NOT_NAME and w not in nd.COMMON_NOUNS and not w.lower().endswith(nd.NON_NAME_SUFFIXES)
            and not w.lower().endswith(("sorge", "kontrolle", "therapie", "behandlung", "aufnahme")) for w in words)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        out = []
        for m in self._core.finditer(text):
            s, e = m.span()
            word = m.group(0)
            extended = False
            pm = self._prefix.search(text, max(0, s - 30), s)
            if pm:
                s = pm.start()
                extended = True
            else:
                bm = self._brand.search(text, max(0, s - 40), s)
                if bm and "\n" not in bm.group(0) and self._brand_like(bm.group("b")):
                    s = bm.start("b")
                    extended = True
            t = self._tail_assoc.match(text, e)
            if t and any(w in nd.NOT_NAME for w in t.group(0).split()[1:]):
                t = None
            if t and t.end() > e:
                e = t.end()
                extended = True
            t = self._tail_name.match(text, e)
            if t and not self._place_words(t.group(0)):
                t = self._tail_word.match(text, e)  # "Spitalzentrum Biel am Montag": the place alone
            if t:
                tail = t.group(0).strip(" ,\t")
                first = tail.split()[0] if tail else ""
                roman = re.fullmatch(r"[IVX]+", first)  # "Medizinische Klinik II": a department's number (ID)
                if first and not roman and first not in nd.NOT_NAME and first.lower() not in ("für", "fur") and _name_like_city(tail):
                    e = t.end()
                    extended = True
            generic = word.lower() in P.GENERIC_HOSP or word.lower().endswith("zentrum") or word in ("Ambulatorium", "Ärztehaus") or re.fullmatch(r"(?i)[\w-]*(?:klinik|klinikum|krankenhaus|spital|hospital)", word) and word.lower().startswith(("universitäts", "landes", "hals-nasen", "hno", "psychiatrische", "kreis", "bezirks", "stadt", "kinder", "frauen", "augen", "haut", "tages", "privat", "fach", "akut", "reha", "lehr", "uni"))
            if generic and not extended:
                continue
            while e > s and text[e - 1] in " \t\n,;:.":
                e -= 1
            out.append(_result(self, "LOCATION_HOSPITAL", s, e, 0.85 if extended else 0.6, "hospital"))
        for m in self._praxis.finditer(text):
            out.append(_result(self, "LOCATION_HOSPITAL", *m.span(), 0.85, "praxis"))
        # abbreviations: defined right after a hospital name ("Universitätsklinikum Hamburg-Eppendorf (UKE)")
        # or of a hospital's form after a preposition of place ("im KSA"); then everywhere in the text
        abbrs: set[str] = set()
        for r in list(out):
            d = self._abbr_def.match(text, r.end)
            if d and d.group("a") not in _NON_NAME_CAPS and d.group("a") not in nd.NOT_NAME:
                out.append(_result(self, "LOCATION_HOSPITAL", *d.span("a"), 0.8, "hospital_abbr"))
                abbrs.add(d.group("a"))
        abbrs.update(m.group(0) for m in self._abbr_form.finditer(text))
        for a in abbrs:
            for m in re.finditer(rf"(?<![\w-]){re.escape(a)}(?![\w-])", text):
                out.append(_result(self, "LOCATION_HOSPITAL", *m.span(), 0.75, "hospital_abbr"))
        return out


# --- names -------------------------------------------------------------------------------------

_ARTICLES = frozenset(
    "der die das den dem des ein eine einen einem einer eines im am vom zum zur beim ins kein keine keinen keiner "
    "seine seiner seinem seinen ihre ihrer ihrem ihren unsere unserer unserem diese dieser diesem diesen the a an".split()
)
_ROLE_SUFFIX = ("arzt", "ärztin", "ärzte", "loge", "login", "pfleger", "schwester", "therapeut", "therapeutin",
                "ist", "istin", "direktor", "direktorin", "leiter", "leiterin", "assistent", "assistentin")
_NON_NAME_CAPS = frozenset("CT MRT MRI PET EKG EEG EMG OP KG AZ EZ RR HF BZ ED DD NaCl PCR CRP HIV HCV HBV ICD TNM "
                           "UICC AJCC WHO ECOG KPS IMRT VMAT SBRT IGRT CTV PTV GTV OAR DVH ZVK PICC PEG PORT USA DIN ISO "
                           "EN II III IV VI VII VIII IX XI XII".split())


def _name_like(tok: str, allow_initial: bool = True) -> bool:
    t = tok.rstrip(".,;:")
    if not t:
        return False
    if re.fullmatch(rf"[{P.UC}][{P.LC}]?\.", tok) or re.fullmatch(rf"[{P.UC}][{P.LC}]?", t) and tok.endswith("."):
        return allow_initial
    if not re.fullmatch(rf"{P.CAPWORD}|{P.ALLCAPS}", t):
        return False
    if t in nd.NOT_NAME or t.capitalize() in nd.NOT_NAME or t in _NON_NAME_CAPS:
        return False
    low = t.lower()
    if len(low) > 4 and low.endswith(nd.NON_NAME_SUFFIXES):
        return False
    if low.endswith(_ROLE_SUFFIX) and len(low) > 6 and t not in nd.SURNAMES:
        return False
    if re.search(r"(?:straße|strasse|str|gasse|weg|platz|allee)$", low):
        return False
    if t in P.MONTHS_DE or t in P.MONTHS_EN:
        return False
    if t.isupper() and len(t) <= 3:
        return False
    return True


_CONFUSABLE = {frozenset(p) for p in ("ce", "il", "l1", "i1", "o0", "uü", "aä", "oö", "nh", "nu", "rn", "ij", "ec", "bh",
                                      "vu", "yv", "sß", "ft", "tf", "ao", "ei", "ie")}


def ocr_variant(a: str, b: str) -> bool:
    """``a`` differs from ``b`` by one inserted or deleted letter ("Maria"/"Marija") or one
    OCR-confusable substitution ("Albcrs"/"Albers"), and both are at least 5 letters long."""
    from rapidfuzz.distance import Levenshtein

    a, b = a.lower(), b.lower()
    if a == b or min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if Levenshtein.distance(a, b, score_cutoff=1) > 1:
        return False
    if len(a) != len(b):
        return True
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    return len(diff) == 1 and frozenset(diff[0]) in _CONFUSABLE


@dataclass
class Mention:
    start: int
    end: int
    label: str  # NAME_PATIENT, NAME_DOCTOR, NAME_RELATIVE or "" (unknown)
    strength: int  # 0 unknown, 1 weak cue, 2 role/title cue, 3 patient cue


_TOK = re.compile(rf"{P.NAMETOK}|{P.PARTICLE}(?=[ ]+{P.NAMETOK})|[{P.UC}][{P.LC}]+(?:['’]s?)?", FLAGS)


class GermanNameRecognizer(EntityRecognizer):
    """Names of patients, relatives and staff, and the titles before them.

    1. Cues: titles (``Prof. Dr. med.``), roles (``OA``, ``Stationsärztin``), forms of address
       (``Frau``, ``Herrn``), patient cues (``Patientin``, ``Betr.:``, ``Name:``), birth-date cues
       (``Beate Albers (* 4.4.1997)``), relatives (``Ehemann``), signature blocks and name lines
       followed by a role line.
    2. A list of common first names (``Karoline Jochum``).
    3. Names found with a cue are searched for in the whole text (also in capitals, with a
       genitive ``s``, with one OCR-like edit), and their label is carried over.
    """

    ENTITIES = ["NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE", "NAME_TITLE"]

    def __init__(self, supported_language: str = "de"):
        super().__init__(supported_entities=self.ENTITIES, supported_language=supported_language,
                         name="GermanNameRecognizer")

    def load(self) -> None:
        c = lambda p: re.compile(p, FLAGS)  # noqa: E731
        self.title = c(rf"(?<![\w.]){P.TITLE}")
        self.post_title = c(rf"(?<=[\w.])[ \t]{{0,2}},?[ \t]{{0,2}}(?P<t>{P.POST_TITLE}(?:[ \t]+{P.POST_TITLE})*)(?![\w])")
        self.role = c(rf"(?<![\w]){P.ROLE}(?![\w])\.?:?")
        self.salute = c(rf"(?<![\w]){P.SALUTE}(?![\w])")
        self.patient_cue = c(
            r"(?<![\w])(?:Patient(?:in|en)?|Pat\.|PATIENT(?:IN)?|Name|NAME|Betr\.|Betrifft|Betreff|BETREFF|"
            r"Versicherte[rn]?|Patient\sname|Patient|Proband(?:in)?)(?![\w])[ \t]*:?[ \t]*,?"
        )
        self.birth = c(rf"[ \t]*,?[ \t]*{P.BIRTH_CUE}")
        self.name_date = c(r"^[ \t]*(?P<n>[^\n,]{3,60}),[ \t]+(?:\*[ \t]*)?\d{1,2}\.\d{1,2}\.\d{2,4}")
        self.relative = c(rf"(?<![\w]){P.RELATIVE}(?![\w])[ \t]*[:,]?[ \t]*")
        self.first_pair = c(rf"(?<![\w-]){P.FIRST_NAME_RE}(?=[ ]+[{P.UC}])")
        self.comma_first = c(rf"(?<![\w-])(?P<last>{P.CAPWORD}|{P.ALLCAPS}),[ ](?P<first>{P.FIRST_NAME_RE})(?![\w])")
        self.greeting = c(r"(?i:mit\s(?:freundlichen|kollegialen|besten|herzlichen)|freundliche\sgrüße|mit\sfreundl|"
                          r"hochachtungsvoll|kind\sregards|best\sregards|sincerely|yours|mit\skollegialem|gez\.)")
        self.role_line = c(
            rf"^[ \t]*(?:{P.ROLE}|(?:Fach)?[ÄA]rzt(?:in)?\sfür|FA\sfür|[{P.UC}][{P.LC}]+(?:loge|login|arzt|ärztin|ist|istin)\b)"
        )
        self.dear = c(r"(?<![\w])(?:[Ll]iebe[r]?|Dear|Hallo|Hi)[ \t]+(?!Frau|Herr|Kolleg|Patient)")
        self.geehrt = c(r"(?i:geehrte[rn]?|liebe[rn]?|werte[rn]?|hallo|dear)[ \t]+$")

    # -- helpers --------------------------------------------------------------------------------

    def _take(self, text: str, pos: int, newline: bool = False, comma: bool = False, max_tokens: int = 4):
        """The name starting at ``pos`` (after spaces): (start, end) or None."""
        i = pos
        n = len(text)
        while i < n and text[i] in " \t":
            i += 1
        if newline and i < n and text[i] == "\n":
            i += 1
            while i < n and text[i] in " \t\n" and text[i - 1] != "\n" or (i < n and text[i] in " \t"):
                i += 1
        toks: list[tuple[int, int]] = []
        j = i
        while len(toks) < max_tokens + 2:
            m = _TOK.match(text, j)
            if not m:
                break
            tok = m.group(0)
            lead_ok = P.PARTICLE_LEAD if not toks else P.PARTICLE
            is_particle = bool(re.fullmatch(lead_ok, tok)) and (not tok[0].isupper() or tok in ("DE", "VON", "VAN", "De"))
            if not is_particle and not _name_like(tok.rstrip("'’s") if tok.endswith(("'s", "’s")) else tok):
                if toks and re.search(r"(?:stra(?:ß|ss)e|str\.|strße|gasse|weg|platz|allee)$", tok, re.IGNORECASE) \
                        and re.search(r"(?:er|e|sche|ner)$", text[toks[-1][0]:toks[-1][1]]):
                    toks.pop()  # "Innsbrucker Landstraße": the adjective belongs to the street
                break
            if toks and re.match(r"[ \t]{1,2}\d{1,4}\s?[a-z]?\b(?![.,]\d)", text[m.end():m.end() + 8]):
                break  # "Öhler Kaiserstrße 33": a word before a house number is a street
            toks.append(m.span())
            j = m.end()
            k = j
            while k < n and text[k] == " " and k - j < 2:
                k += 1
            if k == j:
                if comma and k + 1 < n and text[k] == "," and text[k + 1] == " " and len(toks) <= 2:
                    nxt = _TOK.match(text, k + 2)
                    if nxt and _name_like(nxt.group(0), allow_initial=False):
                        toks.append(nxt.span())
                        j = nxt.end()
                break
            j = k
        # drop trailing particles and leading particles
        while toks and re.fullmatch(P.PARTICLE, text[toks[-1][0]:toks[-1][1]]):
            toks.pop()
        if not toks or len(toks) > max_tokens + 1:
            return None
        toks = toks[:max_tokens]
        s, e = toks[0][0], toks[-1][1]
        if e > s and text[e - 1] == "." and not re.fullmatch(rf"[{P.UC}][{P.LC}]?\.", text[toks[-1][0]:e]):
            e -= 1
        return (s, e) if e > s else None

    def _take_before(self, text: str, pos: int, max_tokens: int = 4):
        """The name that ends right before ``pos`` on the same line."""
        line_start = text.rfind("\n", 0, pos) + 1
        seg = text[line_start:pos]
        toks = list(_TOK.finditer(seg))
        kept: list = []
        for m in reversed(toks):
            between = seg[m.end(): kept[-1].start()] if kept else seg[m.end():]
            if kept and not re.fullmatch(r"[ ]{1,2}|,[ ]", between):
                break
            if not kept and between.strip(" \t,") != "":
                break
            tok = m.group(0)
            if not (_name_like(tok) or (kept and re.fullmatch(P.PARTICLE, tok))):
                break
            kept.append(m)
            if len(kept) >= max_tokens:
                break
        while kept and re.fullmatch(P.PARTICLE, kept[-1].group(0)):
            kept.pop()
        if not kept:
            return None
        s = line_start + kept[-1].start()
        e = line_start + kept[0].end()
        return (s, e)

    @staticmethod
    def _has_full_token(text: str, span) -> bool:
        return any(len(t) > 2 and not t.endswith(".") for t in text[span[0]:span[1]].replace(",", " ").split())

    # -- cue passes -----------------------------------------------------------------------------

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        mentions: list[Mention] = []
        titles: list[tuple[int, int]] = []
        greet = None
        for m in self.greeting.finditer(text):
            greet = m.start()
        sig_zone = greet if greet is not None else len(text)

        def add(span, label, strength):
            if span and span[1] > span[0]:
                mentions.append(Mention(span[0], span[1], label, strength))

        def birth_after(end):
            return bool(self.birth.match(text, end)) or bool(
                re.match(r"[ \t]*\n[ \t]*(?i:geb|geboren|\*)", text[end:end + 20]))

        # titles (and the name after them)
        for m in self.title.finditer(text):
            if not m.group(0).endswith(".") and not text[m.end():m.end() + 1].isspace():
                continue
            span = self._take(text, m.end(), newline=True)
            if not span or text[m.end():span[0]].count("\n") > 1:
                continue
            before = text[max(0, m.start() - 40):m.start()]
            label, strength = "NAME_DOCTOR", 2
            if birth_after(span[1]) or re.search(r"(?i:patient(?:in)?|pat\.|betr\.?|betrifft|name)\s*:?\s*(?:frau|herrn?|fr\.|hr\.)?\s*$", before):
                label, strength = "NAME_PATIENT", 3
            add(span, label, strength)
            titles.append(m.span())
            # "Drs. Leber und Krauth", "Dr. A und Dr. B"
            co = re.match(r"[ \t]*(?:und|u\.|&)[ \t]+", text[span[1]:span[1] + 8])
            if co:
                add(self._take(text, span[1] + co.end()), label, strength)
        for m in self.post_title.finditer(text):
            span = self._take_before(text, m.start())
            cued = span and re.search(rf"(?:{P.ROLE}|{P.TITLE})[ \t]*:?[ \t]*$", text[max(0, span[0] - 30):span[0]])
            if span and (len(text[span[0]:span[1]].split()) >= 2 or text[span[0]:span[1]].isupper() or cued):
                add(span, "NAME_DOCTOR", 2)
                titles.append(m.span("t"))
        for m in self.role.finditer(text):
            pos = m.end()
            t = self.title.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip(" \t")))
            if t:
                continue  # handled by the title pass
            span = self._take(text, pos, newline=m.group(0).rstrip(":").endswith(("Direktor", "Direktorin", "Vorstand")))
            if span and text[pos:span[0]].count("\n") == 0:
                add(span, "NAME_DOCTOR", 2)
        for m in self.salute.finditer(text):
            pos = m.end()
            k = re.match(r"[ \t]+(?:Kolleg(?:e|in|en)|Kollegin|Doktor)[ \t]+", text[pos:pos + 20])
            if k:
                pos += k.end()
            t = self.title.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip(" \t\n")))
            if t:
                continue
            span = self._take(text, pos, newline=True, comma=True)
            if not span or text[pos:span[0]].count("\n") > 1:
                continue
            before = text[max(0, m.start() - 30):m.start()]
            if birth_after(span[1]):
                add(span, "NAME_PATIENT", 3)
            elif k or self.geehrt.search(before) or re.search(r"(?i:kolleg|dr\.)\s*$", before):
                add(span, "NAME_DOCTOR", 2)
            elif re.search(rf"{P.RELATIVE}\s*,?\s*$", before):
                add(span, "NAME_RELATIVE", 2)
            else:
                nxt = text[span[1]:span[1] + 80].split("\n")
                role_next = len(nxt) > 1 and self.role_line.match(nxt[1] if nxt[0].strip() == "" else nxt[1])
                add(span, "NAME_DOCTOR" if role_next else "NAME_PATIENT", 2 if role_next else 1)
        for m in self.patient_cue.finditer(text):
            pos = m.end()
            sal = re.match(rf"[ \t\n]*{P.SALUTE}[ \t]+", text[pos:pos + 20])
            if sal:
                pos += sal.end()
            t = self.title.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip(" \t\n")))
            if t:
                pos = t.end()
            span = self._take(text, pos, newline=True, comma=True)
            if span and text[m.end():span[0]].count("\n") <= 2:
                add(span, "NAME_PATIENT", 3)
        for m in self.birth.finditer(text):
            if not re.search(r"\d", text[m.end():m.end() + 20]):
                continue
            span = self._take_before(text, m.start())
            if not span:
                # the name may stand alone on the line above ("Dr. Pierre JOUBERT\nGeboren am: ...")
                line_start = text.rfind("\n", 0, m.start()) + 1
                if text[line_start:m.start()].strip() == "" and line_start > 0:
                    prev_end = line_start - 1
                    while prev_end > 0 and text[prev_end - 1] in " \t":
                        prev_end -= 1
                    span = self._take_before(text, prev_end)
            if span and self._has_full_token(text, span):
                add(span, "NAME_PATIENT", 3)
        for m in self.name_date.finditer(text):
            span = self._take_before(text, m.end("n"))
            if span and span[0] == m.start("n") + len(m.group("n")) - len(m.group("n").lstrip()):
                words = text[span[0]:span[1]].split()
                if len(words) >= 2 and not any(w in nd.CITIES for w in words):
                    add(span, "NAME_PATIENT", 3)
        for m in self.dear.finditer(text):
            span = self._take(text, m.end(), max_tokens=2)
            if span and re.match(r"[ \t]*[,!]", text[span[1]:span[1] + 3]):
                add(span, "NAME_DOCTOR", 2)
        for m in self.relative.finditer(text):
            pos = m.end()
            sal = re.match(rf"{P.SALUTE}[ \t]+", text[pos:pos + 12])
            if sal:
                pos += sal.end()
            span = self._take(text, pos)
            if span and self._has_full_token(text, span) and (sal or not any(
                    w in nd.COMMON_NOUNS for w in text[span[0]:span[1]].split())):
                add(span, "NAME_RELATIVE", 2)
        # name lines followed by a role line, and the signature block
        lines = [(mm.start(), mm.end()) for mm in re.finditer(r"[^\n]*", text) if mm.end() > mm.start()]
        for idx, (ls, le) in enumerate(lines):
            for seg in re.finditer(r"[^\t]+?(?=\t|[ ]{3,}|$)", text[ls:le]):
                s0 = ls + seg.start()
                segtext = seg.group(0)
                lead = re.match(rf"[ ]*(?:{P.ROLE}[ \t]*:?[ \t]*)?(?:{P.TITLE}[ \t]*)?", segtext)
                st = s0 + (lead.end() if lead else 0)
                span = self._take(text, st)
                if not span:
                    continue
                rest = text[span[1]:s0 + len(segtext)]
                # "Anna Muster – Oberärztin", "Anna Muster, OA", "Anna Muster (Assistenzärztin)"
                role_after = re.match(rf"[ ]*(?:[–—,-][ ]*|\([ ]?)(?:{P.ROLE}|[{P.UC}][{P.LC}]*(?:arzt|ärztin|loge|login|ist|istin))\b", rest)
                if role_after and len(text[span[0]:span[1]].split()) >= 2:
                    add(span, "NAME_DOCTOR", 2)
                    continue
                if rest.strip(" ,") and not re.fullmatch(rf"[ ,]*(?:{P.POST_TITLE}[ ,]*)+", rest):
                    continue
                ntok = len(text[span[0]:span[1]].split())
                nxt = next((text[a:b] for a, b in lines[idx + 1: idx + 3] if text[a:b].strip()), "")
                if ntok >= 2 and self.role_line.match(nxt):
                    add(span, "NAME_DOCTOR", 2)
                elif ls >= sig_zone and (ntok >= 2 or lead and lead.group(0).strip()) and self._has_full_token(text, span):
                    add(span, "NAME_DOCTOR", 2 if ntok >= 2 else 1)
        # common first names
        for m in self.first_pair.finditer(text):
            span = self._take(text, m.start())
            if span and span[1] > m.end() + 1 and self._has_full_token(text, (m.end(), span[1])):
                if not any(w in nd.COMMON_NOUNS for w in text[m.end():span[1]].split()):
                    add(span, "", 0)
        for m in self.comma_first.finditer(text):
            if _name_like(m.group("last"), allow_initial=False):
                add((m.start(), m.end()), "", 0)

        mentions = self._propagate(text, mentions, sig_zone)
        out: list[RecognizerResult] = []
        for mt in mentions:
            out.append(_result(self, mt.label, mt.start, mt.end, (0.55, 0.7, 0.85, 0.9)[mt.strength], f"name{mt.strength}"))
        for s, e in titles:
            if any(0 <= mt.start - e <= 3 or 0 <= s - mt.end <= 3 for mt in mentions):
                while e > s and text[e - 1] in " \t,":
                    e -= 1
                out.append(_result(self, "NAME_TITLE", s, e, 0.8, "title"))
        return out

    # -- propagation and labels -----------------------------------------------------------------

    def _propagate(self, text: str, mentions: list[Mention], sig_zone: int) -> list[Mention]:
        from rapidfuzz.distance import Levenshtein

        known: dict[str, tuple[int, str]] = {}  # token (lower) -> (strength, label)
        for mt in mentions:
            if mt.strength == 0:
                continue
            for tok in re.findall(rf"{P.CAPWORD}|{P.ALLCAPS}", text[mt.start:mt.end]):
                if len(tok) < 3 or re.fullmatch(P.PARTICLE, tok) or tok.capitalize() in nd.COMMON_NOUNS:
                    continue
                key = tok.lower()
                cur = known.get(key)
                if cur is None or mt.strength > cur[0]:
                    known[key] = (mt.strength, mt.label)
        # unknown mentions take the label of a known token, else a default by position
        resolved: list[Mention] = []
        for mt in mentions:
            toks = [t.lower() for t in re.findall(rf"{P.CAPWORD}|{P.ALLCAPS}", text[mt.start:mt.end])]
            best = max((known[t] for t in toks if t in known), default=None)
            if best and best[0] > mt.strength and best[1] != mt.label:
                mt = Mention(mt.start, mt.end, best[1], best[0])
            elif not mt.label:
                mt = Mention(mt.start, mt.end, best[1] if best else ("NAME_DOCTOR" if mt.start >= sig_zone else "NAME_PATIENT"), best[0] if best else 0)
            resolved.append(mt)
        for mt in resolved:
            if mt.strength == 0:
                for tok in re.findall(rf"{P.CAPWORD}", text[mt.start:mt.end]):
                    if len(tok) >= 3 and tok.lower() not in known and tok not in nd.COMMON_NOUNS:
                        known[tok.lower()] = (0, mt.label)
        covered = [(mt.start, mt.end) for mt in resolved]

        def free(s, e):
            return not any(a < e and s < b for a, b in covered)

        if known:
            keys = sorted(known, key=len, reverse=True)
            rx = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys) + r")(?:s|'s|'|’s|’)?(?![\w])", re.IGNORECASE)
            for m in rx.finditer(text):
                s, e = m.span()
                tok = m.group(1)
                if not tok[0].isupper() or not free(s, e):
                    continue
                prev = re.search(r"(\w+)\W*$", text[max(0, s - 25):s])
                if prev and prev.group(1).lower() in _ARTICLES:
                    continue
                if text[e:e + 1] == "-" and not (re.match(r"-(\w+)", text[e:]) and re.match(r"-(\w+)", text[e:]).group(1).lower() in known):
                    continue
                strength, label = known[tok.lower()]
                resolved.append(Mention(s, e, label, strength))
                covered.append((s, e))
            # one OCR-like edit ("Maria" for "Marija", "Albcrs" for "Albers")
            long_keys = [k for k in keys if len(k) >= 5 and known[k][0] >= 1]
            if long_keys:
                for m in re.finditer(rf"(?<![\w-])[{P.UC}][{P.LC}]{{3,}}(?![\w-])", text):
                    w = m.group(0)
                    lw = w.lower()
                    if lw in known or not free(*m.span()) or w in nd.NOT_NAME:
                        continue
                    for k in long_keys:
                        if lw[0] == k[0] and ocr_variant(lw, k):
                            prev = re.search(r"(\w+)\W*$", text[max(0, m.start() - 25):m.start()])
                            if prev and prev.group(1).lower() in _ARTICLES:
                                break
                            strength, label = known[k]
                            resolved.append(Mention(m.start(), m.end(), label, max(strength - 1, 0)))
                            covered.append(m.span())
                            break
        # the patient's initials at the start of a sentence ("M. wird vorgestellt")
        initials = {t[0].upper() for t, (st, lab) in known.items() if lab == "NAME_PATIENT" and st >= 2}
        if initials:
            for m in re.finditer(r"(?:(?<=^[ \t]*)|(?<=[.!?:][ \t]+))([A-ZÄÖÜ])\.(?=[ \t]+[a-zäöü]{2,})", text, re.MULTILINE):
                if m.group(1) in initials and free(*m.span(0)):
                    resolved.append(Mention(m.start(), m.end(), "NAME_PATIENT", 1))
        return resolved
