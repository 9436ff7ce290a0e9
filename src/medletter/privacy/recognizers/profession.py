"""Professions (``PROFESSION``): what the patient works or worked as.

Forms (invented examples): after a cue ("gelernter Maurer", "arbeitet als Lehrerin", "pensionierter
Lokführer", "Beruf: Floristin"), a listed profession after "als", "ist", "war" ("war Bäcker"), and
"Elektriker von Beruf".

Validity (:meth:`GermanProfessionRecognizer.valid`): a word after a cue is a listed profession or has
a profession's ending ("-techniker", "-kraft", "-in") and is not a common noun.

Scores: a word after a cue or before "von Beruf" (0.7); a listed profession after a verb is the
weakest (0.55: "ist Lehrerin" is said of relatives and colleagues too; listed for review).
"""

from __future__ import annotations

import regex as re

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.patterns import alt
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

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
PROFESSION_RE = alt(PROFESSIONS)


class GermanProfessionRecognizer(MedletterRegexRecognizer):
    ENTITY = "PROFESSION"
    RULES = [
        ("cued", rf"(?<=\b{PROFESSION_CUE}\s)[{P.UC}][\wäöüß-]+", 0.7),
        ("listed", rf"(?<=\b(?:als|ist|war|wird|sei)\s(?:\w+\s)?){PROFESSION_RE}(?![\wäöü])", 0.55),
        ("von_beruf", rf"[{P.UC}][\wäöüß-]+(?=\svon\sBeruf)", 0.7),
    ]
    _suffix = re.compile(r"(?:er|erin|eur|eurin|ant|antin|ent|entin|ist|istin|iker|ikerin|mann|frau|kraft|"
                         r"helfer|helferin|arbeiter|arbeiterin|ingenieur|ingenieurin|meister|meisterin|"
                         r"techniker|technikerin|wirt|wirtin|beamter|beamtin|e|in)$")

    def valid(self, text, start, end, rule):
        w = text[start:end]
        if rule == "cued":
            return w in PROFESSIONS or (bool(self._suffix.search(w)) and w not in nd.NOT_NAME)
        return True
