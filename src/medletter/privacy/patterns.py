"""Regular-expression building blocks for German (and English) clinical letters.

Only patterns live here; the recognisers that use them are in :mod:`medletter.privacy.recognizers`.
All patterns are for the ``regex`` module (variable-width look-behind) and are compiled *without*
IGNORECASE: capitalisation is evidence in German text. Case-insensitive parts use ``(?i:...)``.
"""

from __future__ import annotations

import regex as re

from medletter.privacy import names_data as nd

UC = r"A-ZÄÖÜÀ-ÖØ-ÞŠŽČĆĐŁŚŹŻŇŘĚ"
LC = r"a-zäöüßà-öø-ÿšžčćđłśźżńęąřěůıç"
CAPWORD = rf"[{UC}][{LC}]+(?:['’][{LC}]+)?(?:-[{UC}]?[{LC}]+)*"
ALLCAPS = rf"[{UC}]{{2,}}(?:-[{UC}]{{2,}})*"
INITIAL = rf"[{UC}][{LC}]?\."
PARTICLE = r"(?i:von|van|de|der|den|zur|zu|di|da|del|della|le|la|du|ten|ter|vom|dos|das|bin|ibn|el|al|y)"
NAMETOK = rf"(?:{CAPWORD}|{ALLCAPS}|{INITIAL})"
PARTICLE_LEAD = r"(?:von|van|de|De|DE|di|da|del|della|du|ten|ter|VON|VAN)"

# --- months -------------------------------------------------------------------------------------
MONTHS_DE = (
    "Januar", "Jänner", "Februar", "Feber", "März", "Maerz", "April", "Mai", "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember",
)
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)
MONTH_ABBR = ("Jan", "Feb", "Mär", "Mrz", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Okt", "Oct", "Nov", "Dez", "Dec")
MONTH_NUM = {
    **{m.lower(): i for i, m in enumerate(
        ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
         "november", "dezember"), start=1)},
    "jänner": 1, "feber": 2, "maerz": 3,
    **{m.lower(): i for i, m in enumerate(MONTHS_EN, start=1)},
    "jan": 1, "feb": 2, "mär": 3, "mrz": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "okt": 10, "oct": 10, "nov": 11, "dez": 12, "dec": 12,
}
MONTH_RE = "(?:" + "|".join(sorted(set(MONTHS_DE + MONTHS_EN), key=len, reverse=True)) + "|" + \
    "(?:" + "|".join(MONTH_ABBR) + r")\.)"
# an abbreviated month with or without its period ("Okt", "Okt.", "Sept"); "Jan" only where a day
# stands before it (it is also a first name)
MONTH_ABBR_RE = "(?:" + "|".join(sorted(MONTH_ABBR, key=len, reverse=True)) + r")\.?(?![\w])"
MONTH_WORD_RE = "(?:" + "|".join(sorted(set(MONTHS_DE + MONTHS_EN), key=len, reverse=True)) + "|" + MONTH_ABBR_RE + ")"

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
    ("month_abbr_year", r"(?<![\w.])(?:Sept|Feb|Mär|Mrz|Apr|Jun|Jul|Aug|Sep|Okt|Oct|Nov|Dez|Dec)\s?(?:1[89]\d\d|20\d\d)(?!\d)", 0.8),
]

# --- age ---------------------------------------------------------------------------------------
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
    ("jährig", rf"(?<![\d.,])\d{{1,3}}(?=\s?[-–]?\s?(?:(?i:j\.|jährig|jahrig|jähr\.|jahre?\salt|jahren?\salt|-?jähr)|J\.|yo\b|-?year-old|\syears?\sold|\s?Lebensjahr))", 0.9),
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

# --- identifiers -------------------------------------------------------------------------------
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
UNIT_WING = r"(?:Nord|Süd|Ost|West|Mitte|Nordost|Nordwest|Südost|Südwest)"
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
    ("ward_auf", rf"(?<=\b(?:auf|nach|von|zuvor\sauf)\s)(?=[A-Z]{{2,6}}-?\d)[A-Z]{{2,6}}-?\d{{1,3}}\b", 0.6),
    ("longnum", r"(?<![\d.,/+-])(?<!\+\d{1,3}\s?)\d{7,}(?!\d|,\d|\.\d)", 0.6),
    ("kvnr", r"\b[A-Z]\d{9}\b", 0.7),
    ("journal", r"(?<![\d.,/])\d{4,6}[a-z]?/(?:19|20)?\d\d(?![\d/])", 0.6),
    ("alnum", r"\b[A-Z]{1,3}-\d{6,}\b", 0.7),
]

# --- phone / fax -------------------------------------------------------------------------------
PHONE_NUM = (
    r"(?:\+\s?\d{1,3}\s?(?:\(0\)\s?)?)?(?:\(\s?0?\d{1,6}\s?\)|\d{2,6})"
    r"(?:(?:\s?[/-]\s?|\s)\d{1,8}){0,4}(?:\s?(?:-|o\.|oder|/)\s?\d{2,5})?"
)
PHONE_CUE = r"(?i:\bTel(?:efon)?(?:\.?\s?-?Nr)?|\bFon|\bPhone|\bMobil(?:telefon)?|\bHandy|\bDurchwahl|\bNummer|\bRückruf(?:\sunter)?|\berreichbar\sunter|\bunter|\bInfo|\bSekretariat|\bPforte|\bZentrale|\bTelefonnummer|\bcall|\bT)"
FAX_CUE = r"(?i:\bFax|\bTelefax|\bFaxnummer|\bF)"
PHONE_PATTERNS: list[tuple[str, str, float]] = [
    ("cued", rf"(?<={PHONE_CUE}\.?:?\s{{0,3}})(?<!{FAX_CUE}\.?:?\s{{0,3}}){PHONE_NUM}(?<=\d)", 0.85),
    ("intl", rf"(?<![\w+])\+\s?\d{{1,3}}\s?(?:\(0\)\s?)?(?:\(\d{{1,6}}\)|\d{{1,6}})(?:(?:\s?[/-]\s?|\s)\d{{1,8}}){{1,4}}", 0.75),
    ("trunk", r"(?<![\w.,/+-])\(?0\d{2,5}\)?\s?[/-]?\s?\d{3,}(?:[\s-]\d{2,})*(?![\d.,])", 0.5),
]
FAX_PATTERNS: list[tuple[str, str, float]] = [
    ("cued", rf"(?<={FAX_CUE}\.?:?\s{{0,3}}){PHONE_NUM}(?<=\d)", 0.9),
]

# --- address -----------------------------------------------------------------------------------
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
POST_TITLE = r"(?:MD|PhD|MBA|M\.?Sc\.?|Msc|B\.?Sc\.?|MPH|FEBU|FACS|FRCS|Dr\.(?:\s?med\.)?)"

ROLE = (
    r"(?:OA|OÄ|Oberarzt|Oberärztin|Chefarzt|Chefärztin|Assistenzarzt|Assistenzärztin|Stationsarzt|Stationsärztin|"
    r"Stationsärztin|Facharzt|Fachärztin|FA|FÄ|FÄ\.|Hausarzt|Hausärztin|Konsiliararzt|Konsil|DGKS|DGKP|Schwester|"
    r"Pfleger|Psychologin|Psychologe|Physiotherapeutin|Physiotherapeut|Ergotherapeutin|Ergotherapeut|Logopädin|"
    r"Logopäde|Sozialarbeiterin|Sozialarbeiter|Orthoptistin|Orthoptist|OT|Untersucher|Untersucherin|"
    r"Geschrieben\svon|[Dd]iktiert\svon|dikt\.\sArzt|gez\.|Arzt|Ärztin|Vorstand|Direktorin|Direktor|Leiterin|Leiter|"
    r"Klinikdirektorin|Klinikdirektor|Klinikvorstand|Primaria|Primarius|Primar|Ltd\.\s?OA|Ltd\.\s?OÄ|Assistenz|"
    r"Befundet\svon|Befunder|Supervisor|Consultant|Registrar|Attending|Resident|Kollegin|Kollege|Kollegen|"
    r"Mitbeurteilung|Anwesend|Vidiert|Freigegeben\svon|freigegeben\svon)"
)
RELATIVE = (
    r"(?:Ehemann|Ehefrau|Ehemannes|Ehepartner|Ehepartnerin|Lebensgefährte|Lebensgefährtin|Partner|Partnerin|"
    r"Tochter|Sohn|Sohnes|Mutter|Vater|Bruder|Schwester|Enkel|Enkelin|Onkel|Tante|Nichte|Neffe|Schwiegersohn|"
    r"Schwiegertochter|Schwiegermutter|Schwiegervater|Betreuer|Betreuerin|Vormund|husband|wife|daughter|son|"
    r"mother|father|brother|sister)"
)
SALUTE = r"(?:Frau|Fr\.|Herrn|Herr|Hr\.|Hrn\.|Mrs\.?|Mr\.?|Ms\.?|Mx\.?|Miss|Fräulein)"
BIRTH_CUE = r"(?:\(?\s?\*|(?i:geb\.|geboren|geb\.\s?am|geb\.?:|born|DOB|d\.o\.b\.|date\sof\sbirth|Geburtsdatum))"

# --- hospitals / organisations -------------------------------------------------------------------
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
ORG_INSURERS = (
    r"(?:AOK(?:\s(?:Bayern|Plus|Nordost|Nordwest|Niedersachsen|Rheinland(?:/Hamburg)?|Hessen|Baden-Württemberg|"
    r"Bremen(?:/Bremerhaven)?|Sachsen-Anhalt))?|Barmer(?:\sGEK)?|DAK(?:-Gesundheit)?|Techniker\sKrankenkasse|"
    r"IKK(?:\s\w+)?|BKK(?:\s\w+)?|KKH|HEK|hkk|HUK-COBURG|ÖGK|BVAEB|BVA|SVS|SVA|[WNOST]GKK|GKK|Debeka|DKV|"
    r"Allianz|AXA|Signal\sIduna|Knappschaft|Continentale|Gothaer|Generali|Helvetia|CSS|Helsana|Sanitas|SWICA)"
)
ORG_CUE = r"(?i:Versicherung|Krankenkasse|Kasse|Kostenträger|Versicherungsträger|Krankenversicherung|insurance|Arbeitgeber|Employer)"

# --- professions -------------------------------------------------------------------------------
PROFESSION_CUE = (
    r"(?:gelernte[rs]?|ausgebildete[rs]?|arbeitet(?:e)?(?:\s\w+)?\sals|tätig\sals|war\sals|Beruf:?|von\sBeruf|"
    r"Tätigkeit\sals|Ausbildung\s(?:zum|zur|als)|beschäftigt\sals|ehemalige[rs]?|pensionierte[rs]?|"
    r"berentete[rs]?|selbstständige[rs]?|selbständige[rs]?|angestellte[rs]?|works\sas\san?|worked\sas\san?|"
    r"occupation:?|profession:?)"
)
PROFESSIONS = (
    "Lehrer Lehrerin Maurer Bäcker Bäckerin Metzger Schreiner Tischler Elektriker Installateur Mechaniker "
    "Kfz-Mechaniker Schlosser Landwirt Landwirtin Bauer Bäuerin Verkäufer Verkäuferin Kaufmann Kauffrau "
    "Bürokaufmann Bürokauffrau Industriekaufmann Bankkaufmann Sekretärin Buchhalter Buchhalterin Ingenieur "
    "Ingenieurin Informatiker Informatikerin Programmierer Architekt Architektin Anwalt Anwältin Rechtsanwalt "
    "Rechtsanwältin Richter Richterin Polizist Polizistin Polizeibeamter Soldat Soldatin Feuerwehrmann "
    "Krankenschwester Krankenpfleger Altenpfleger Altenpflegerin Pflegekraft Erzieher Erzieherin Friseur "
    "Friseurin Koch Köchin Kellner Kellnerin Busfahrer Taxifahrer Lkw-Fahrer Berufskraftfahrer Fahrer "
    "Postbote Briefträger Hausfrau Hausmann Rentner Rentnerin Pensionist Pensionistin Student Studentin "
    "Schüler Schülerin Beamter Beamtin Lehrling Azubi Journalist Journalistin Musiker Musikerin Künstler "
    "Künstlerin Schauspieler Schauspielerin Apotheker Apothekerin Zahnarzt Zahnärztin Tierarzt Tierärztin "
    "Physiotherapeut Physiotherapeutin Steuerberater Steuerberaterin Unternehmer Unternehmerin Hausmeister "
    "Gärtner Gärtnerin Maler Malerin Lackierer Dachdecker Zimmermann Fliesenleger Klempner Schneider "
    "Schneiderin Reinigungskraft Putzfrau Lagerarbeiter Lagerist Fabrikarbeiter Bauarbeiter Arbeiter "
    "Arbeiterin Angestellter Angestellte Bankangestellter Bankangestellte Verwaltungsangestellte "
    "Pfarrer Pastor Pastorin Sozialarbeiter Sozialarbeiterin Psychologe Psychologin Chemiker Chemikerin "
    "Physiker Physikerin Biologe Biologin Winzer Winzerin Förster Fischer Bergmann Bergarbeiter Pilot "
    "Pilotin Stewardess Flugbegleiterin Zugführer Lokführer Kassiererin Kassierer Florist Floristin "
    "Optiker Optikerin Goldschmied Uhrmacher Juwelier Dolmetscher Dolmetscherin Übersetzer Übersetzerin "
    "teacher nurse engineer farmer driver lawyer accountant mechanic electrician carpenter plumber"
).split()


def alt(words) -> str:
    """An alternation of literal words, longest first."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


CITY_LIST_RE = alt(nd.CITIES)
COUNTRY_RE = alt(nd.COUNTRIES)
FIRST_NAME_RE = alt(nd.FEMALE_FIRST + nd.MALE_FIRST)
PROFESSION_RE = alt(PROFESSIONS)
