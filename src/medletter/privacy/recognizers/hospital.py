"""Hospitals and practices (``LOCATION_HOSPITAL``): a hospital word with a proper name, practices, and
hospitals' abbreviations.

Forms (invented examples): "Klinikum Seestadt", "St.-Marien-Krankenhaus", "Städtisches Klinikum
Auental", "Asklepios Klinik Nord", "Kantonsspital Aarau", "Krankenhaus der Barmherzigen Brüder",
"Praxis Dr. med. Anna Muster", an abbreviation defined after the name ("Universitätsklinikum
Seestadt (UKS)") or of a hospital's form after a preposition of place ("im KSA", "ans USZ").

Validity: a generic hospital word alone ("Klinik", "Universitätsklinikum", "Kinderklinik") is not
a name; the word before it must be a name ("Asklepios", "Aarauer"), not an adjective ("Medizinische",
"Zuweisende") or a determiner; the words after it must be a place or a name ("Hirslanden Aarau"),
not a clinical noun ("Aarau Nachsorge"); "Medizinische Klinik II": the numeral is a department's (an
``ID``); a defined abbreviation is no common one ("CT", "MRT").

Scores: a hospital word with a name before or after it, or a practice with its doctor's name (0.85);
a defined abbreviation (0.8) and its other occurrences (0.75); a specific hospital word alone
("Charité", "Sanatorium") 0.6.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.recognizers.base import ARTICLES, FLAGS, NON_NAME_CAPS, make_result, name_like_city

HOSP_CORE = (
    r"(?:[\w.-]*(?:[Kk]linik(?:um|en)?|[Kk]rankenhaus|[Ss]pital|[Hh]ospital|KLINIK(?:UM|EN)?|KRANKENHAUS|SPITAL|"
    r"Krankenanstalt(?:en)?(?:verbund)?|[Uu]niklinik\w*|UNIKLINIK\w*|Reha(?:bilitations)?[-\s]?[Zz]entrum|Charité|"
    r"[Kk]linikverbund|Heilstätte|Sanatorium|Lazarett|Medizinisches\sVersorgungszentrum|MVZ|KH|"
    r"[\w-]*\w{3}zentrum|[\w-]+-Zentrum|Ambulatorium|Ärztehaus)\b)"
)
# abbreviations of hospitals by their form: Universitätsklinikum (UKE, UKM, UKGM), Kantonsspital (KSA,
# KSBL), Universitätsspital (USZ, USB), Universitätsmedizin (UMG), Medizinische Hochschule Hannover, and
# Landes-/Allgemeines/Bezirks-/Städtisches Krankenhaus (LKH, AKH, BKH, SKH); only after a preposition of
# place ("im KSA", "ans USZ"), and not the echocardiography "UKG"
HOSP_ABBR = r"(?:UK(?!G\b)[A-Z]{1,3}|KS[A-Z]{1,3}|US[BZ]|UM[A-Z]{1,2}|MHH|[ALBS]KH)"
HOSP_ABBR_CUE = r"(?:\b(?:im|am|ins|ans|vom|zum|beim|aus\sdem|in\sdas|an\sdas|in\sdem|an\sdem|in\sder|an\sder|nach|des|dem|das)\s)"
GENERIC_HOSP = frozenset(
    w.lower() for w in (
        "Klinik Klinikum Kliniken Krankenhaus Spital Hospital KH Uniklinik Uniklinikum Universitätsklinik "
        "Universitätsklinikum Universitätskliniken Kreiskrankenhaus Kreisklinik Kreisklinikum Landeskrankenhaus "
        "Landesklinikum Bezirkskrankenhaus Stadtklinik Stadtkrankenhaus Kinderklinik Frauenklinik Augenklinik "
        "Hautklinik Tagesklinik Privatklinik Fachklinik Akutklinik Rehaklinik Rehabilitationsklinik Lehrkrankenhaus "
        "Akutkrankenhaus Krankenhäuser Kliniken Poliklinik Spitäler Reha-Zentrum Rehazentrum Rehabilitationszentrum "
        "Fachkrankenhaus Notfallklinik Tagesklinik Klinikverbund Krankenanstalt Krankenanstalten MVZ Heimatklinik "
        "Partnerklinik Belegklinik Nachbarklinik Spezialklinik Schwerpunktkrankenhaus Allgemeinkrankenhaus "
        "Zentralklinik Zentralkrankenhaus Herzklinik Kinderkrankenhaus Hochschulklinik Hochschulambulanz "
        "Frauenklinikum Kinderspital Landesklinik Bezirksklinik Bezirksklinikum Kreisspital Landesspital Stadtspital"
    ).split()
)


# stems of German adjectives, participles and ordinals before an ending ("medizinisch-e", "universitär-e",
# "städtisch-en", "zuweisend-e", "spezialisiert-e", "erst-e")
_ADJ_STEMS = ("isch", "lich", "ig", "al", "ell", "iv", "är", "ar", "ös", "ent", "ant", "end", "ern", "at", "ior", "sch",
              "t", "neu", "groß", "klein", "frei", "gut", "ganz")
_NOT_BRAND = frozenset("dieser diese diesem diesen jeder jede jedem jeden welcher welche welchem beide beiden alle allen "
                       "unserer ihrer seiner seine seinen seinem meine meiner meinen deren dessen jener jene keine keiner "
                       "kein".split())


class GermanHospitalRecognizer(EntityRecognizer):
    """Hospitals, practices and rehabilitation centres: a hospital word with a proper name."""

    _core = re.compile(rf"(?<![\w-]){HOSP_CORE}", FLAGS)
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
    _abbr_form = re.compile(rf"(?<={HOSP_ABBR_CUE}){HOSP_ABBR}(?![\w-])", FLAGS)
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
        if word in nd.NOT_NAME or word.capitalize() in nd.NOT_NAME or word.lower() in ARTICLES:
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
        return name_like_city(tail.strip(" ,\t")) and all(
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
                if first and not roman and first not in nd.NOT_NAME and first.lower() not in ("für", "fur") and name_like_city(tail):
                    e = t.end()
                    extended = True
            generic = word.lower() in GENERIC_HOSP or word.lower().endswith("zentrum") or word in ("Ambulatorium", "Ärztehaus") or re.fullmatch(r"(?i)[\w-]*(?:klinik|klinikum|krankenhaus|spital|hospital)", word) and word.lower().startswith(("universitäts", "landes", "hals-nasen", "hno", "psychiatrische", "kreis", "bezirks", "stadt", "kinder", "frauen", "augen", "haut", "tages", "privat", "fach", "akut", "reha", "lehr", "uni"))
            if generic and not extended:
                continue
            while e > s and text[e - 1] in " \t\n,;:.":
                e -= 1
            out.append(make_result(self, "LOCATION_HOSPITAL", s, e, 0.85 if extended else 0.6, "hospital"))
        for m in self._praxis.finditer(text):
            out.append(make_result(self, "LOCATION_HOSPITAL", *m.span(), 0.85, "praxis"))
        # abbreviations: defined right after a hospital name ("Universitätsklinikum Hamburg-Eppendorf (UKE)")
        # or of a hospital's form after a preposition of place ("im KSA"); then everywhere in the text
        abbrs: set[str] = set()
        for r in list(out):
            d = self._abbr_def.match(text, r.end)
            if d and d.group("a") not in NON_NAME_CAPS and d.group("a") not in nd.NOT_NAME:
                out.append(make_result(self, "LOCATION_HOSPITAL", *d.span("a"), 0.8, "hospital_abbr"))
                abbrs.add(d.group("a"))
        abbrs.update(m.group(0) for m in self._abbr_form.finditer(text))
        for a in abbrs:
            for m in re.finditer(rf"(?<![\w-]){re.escape(a)}(?![\w-])", text):
                out.append(make_result(self, "LOCATION_HOSPITAL", *m.span(), 0.75, "hospital_abbr"))
        return out
