"""Identifiers (``ID``): case, patient, insurance and order numbers, and the numbers of wards, rooms
and departments.

Forms (invented examples): a value after a cue ("Fallnummer: 2029-44817", "PIZ 6620193", "SV-Nr.
1234150347", "Az. K-17/29"), a ward or room ("Station 4 Nord", "Zi. 12", "OP-Saal 3", "Kreißsaal 2",
"Normalstation 12B", "auf ITS-2"), a unit's letter or numeral ("Viszeralchirurgie B /", "Intensiv II"),
a department's number ("Medizinische Klinik II"), a certificate ("DIN EN ISO 9001"), long numbers
("40028817"), a health-insurance number ("A123456789"), journal numbers ("44817/29") and codes
("AB-123456").

Validity (:meth:`GermanIdRecognizer.valid`): never a date's shape; a one-character cued value only if
it is a digit; an ICD-like code or a vertebra after "Station" ("C5", "L4") is not a ward.

Scores: a value after an identifier cue is an identifier (0.9); a ward, room or theatre number with its
word (0.75-0.8), a department's numeral and the shaped numbers (insurance number, letter-dash-digits)
0.7; uncued shapes that other numbers share (long numbers, "number/year", certificate numbers, a unit
letter, a ward code after "auf") 0.6.
"""

from __future__ import annotations

import regex as re

from medletter.privacy.patterns import UNIT_WING
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

ID_CUE = (
    r"(?:\b(?i:Fall(?:-?\s?(?:nummer|nr\.?|zahl|no\.?))|FN|PIZ|Pat(?:ienten)?\.?[-\s]?(?:ID|Nr\.?|nummer)|"
    r"Aufnahme-?\s?(?:nr\.?|nummer)|Vorgangs?-?\s?(?:nr\.?|nummer)|Auftrags-?\s?(?:nr\.?|nummer)|"
    r"Befund-?\s?(?:nr\.?|nummer)|Eingangs-?\s?(?:nr\.?|nummer)|E-?Nr\.?|H-?Nr\.?|Journal-?\s?(?:nr\.?|nummer)|"
    r"Labor-?\s?(?:nr\.?|nummer)|Proben-?\s?(?:nr\.?|nummer)|Einsende-?\s?(?:nr\.?|nummer)|"
    r"SV-?\s?Nr\.?|SVNR|SV-Nummer|Sozialversicherungs-?\s?(?:nr\.?|nummer)|Vers(?:icherten)?-?\s?(?:nr\.?|nummer)|"
    r"Versicherungs-?\s?(?:nr\.?|nummer)|KV-?\s?Nr\.?|Kassen-?\s?(?:nr\.?|nummer)|Mitglieds-?\s?(?:nr\.?|nummer)|"
    r"MRN|Case\s?(?:ID|No\.?|number)|Patient\s?(?:ID|No\.?|number)|Hospital\s?number|Aktenzeichen|Az\.?|"
    r"Kennung|Barcode)|\bID\b)"
)
ID_VALUE = r"(?=[\w/-]*\d)[A-Z]{0,5}[-/]?[\dA-Z][\w/-]*(?<![-/])"
WARD_CUE = r"(?i:Station|Stat\.|Intensivstation|IMC|Zimmer|Zi\.?|Bett|Ward|Room|Ambulanz|Raum)"
# a ward (also compounds: "Normalstation", "Wachstation") or a room, theatre or delivery room
UNIT_CUE = (
    r"(?<![\w-])(?:[A-ZÄÖÜ][a-zäöü]*station|Station|Stat\.|OP-?(?:Saal|Säle|Raum)|Saal|Zimmer|Zi\.|Raum|Bett|Box|Koje|"
    r"(?:Schock|Kreiß|Kreiss|Operations|Eingriffs|Behandlungs|Untersuchungs|Aufwach|Bestrahlungs|Sonographie|"
    r"Endoskopie|Herzkatheter|Katheter|Hybrid|Notfall|Isolier|Patienten|Einzel|Doppel|Mehrbett|Kranken|Überwachungs)"
    r"(?:saal|raum|zimmer|platz))"
)
ID_PATTERNS: list[tuple[str, str, float]] = [
    ("cued", rf"(?<={ID_CUE}\s?[:.#]?\s{{0,3}})(?:{ID_VALUE})", 0.9),
    ("ward", rf"(?<=\b{WARD_CUE}\s?:?\s{{0,3}})(?=[\w-]*\d)[A-Z]{{0,5}}-?\d{{1,5}}[A-Za-z]?\b", 0.75),
    # a unit's letter or roman numeral after a ward or department name ("Viszeralchirurgie B /", "Intensiv II")
    ("unit_suffix", r"(?<=\b(?:Station|Intensiv|Intensivstation|Normalstation|IMC|Wachstation|[A-ZÄÖÜ][a-zäöüß]+(?:chirurgie|medizin|ologie))\s)(?:[A-H]|I{1,3}|IV|V)(?=[ \t]*(?:/|,|;|$))", 0.6),
    # the number of a ward, room or operating theatre, with a wing: "Station 4 Nord", "Normalstation 12B",
    # "OP-Saal 3", "Kreißsaal 2", "Schockraum 1", "Zimmer 12" (GraSCCo labels the number, not the word, ID)
    ("unit_no", rf"(?<={UNIT_CUE}[ \t]?:?[ \t]{{0,2}}(?:{UNIT_WING}[ \t])?)\d{{1,4}}[A-Za-z]?(?:[ \t]{UNIT_WING})?"
                rf"(?![\w]|[.,]\d|[ \t]*(?:Tage|Wochen|Monate|Jahre|J\.|Stunden|Std\.|min|mg|ml|cm|mm|Gy|%|x\b))", 0.8),
    # the roman number of a department: "Medizinische Klinik II", "Klinik für Innere Medizin III",
    # "Chirurgische Klinik I" (not "Stadium II", "NYHA II", "Typ II", "Hirnnerven II-XII", "Grad III°")
    ("dept_no", r"(?<=(?<![\w-])(?:Klinik|Abteilung|Department|Medizin|Chirurgie|Poliklinik|Intensiv|"
                r"[A-ZÄÖÜ][a-zäöüß]+(?:chirurgie|medizin|ologie|klinik|iatrie|ädie))[ \t])(?:I{1,3}|IV|VI{0,3}|IX|X)"
                r"(?![\w°/-]|\.\s?[a-zäöü\d])", 0.7),
    # certification numbers in letterheads identify the institution ("Zertifiziert nach DIN EN ISO 9001")
    ("certificate", r"\b(?:DIN\s)?(?:EN\s)?ISO\s\d{4,5}(?:[-:]\d{1,4})?\b", 0.6),
    ("ward_auf", r"(?<=\b(?:auf|nach|von|zuvor\sauf)\s)(?=[A-Z]{2,6}-?\d)[A-Z]{2,6}-?\d{1,3}\b", 0.6),
    ("longnum", r"(?<![\d.,/+-])(?<!\+\d{1,3}\s?)\d{7,}(?!\d|,\d|\.\d)", 0.6),
    ("kvnr", r"\b[A-Z]\d{9}\b", 0.7),
    ("journal", r"(?<![\d.,/])\d{4,6}[a-z]?/(?:19|20)?\d\d(?![\d/])", 0.6),
    ("alnum", r"\b[A-Z]{1,3}-\d{6,}\b", 0.7),
]


class GermanIdRecognizer(MedletterRegexRecognizer):
    ENTITY = "ID"
    RULES = ID_PATTERNS
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
