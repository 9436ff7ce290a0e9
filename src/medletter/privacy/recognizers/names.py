"""Names (``NAME_PATIENT``, ``NAME_DOCTOR``, ``NAME_RELATIVE``) and the titles before them
(``NAME_TITLE``).

Forms (invented examples): after titles ("Prof. Dr. med. Anna Muster", "Drs. Leber und Krauth"),
roles ("OA Dr. Krauth", "Stationsärztin: B. Leber"), forms of address ("Frau Albers", "Sehr geehrte
Frau Kollegin Muster"), patient cues ("Patientin: Beate Albers", "Betr.: Albers, Beate", "Name:"),
birth-date cues ("Beate Albers (* 4.4.1997)", "Albers, Beate, 04.04.1997"), relatives ("Ehemann Karl
Albers"), "Liebe Anna,", name lines followed by a role line, signature blocks, names before a
post-nominal title ("Anna Muster, MD"), and common first names ("Karoline Jochum", "Jochum, Karoline").

How (:class:`GermanNameRecognizer`): the cue passes find names and give each a strength (3 a patient
cue, 2 a role or title cue, 1 a weak cue, 0 a first name from the list only); then every name token
found with a cue is searched for in the whole text (also in capitals, with a genitive "s", with one
OCR-like edit: :func:`ocr_variant`) and carries its label there; the patient's initials at the start of
a sentence follow ("M. wird vorgestellt"). Tokens that are common nouns, months, street words, role
nouns or clinical abbreviations are no names (:func:`_name_like`).

Scores: by strength, 0.9 (a patient cue: "Patientin:", a birth date), 0.85 (a role or title), 0.7 (a
weak cue: "Frau X" with nothing else) and 0.55 (a listed first name with no cue: listed for review);
a title next to a name 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.patterns import alt
from medletter.privacy.recognizers.base import ARTICLES, FLAGS, NON_NAME_CAPS, make_result

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
FIRST_NAME_RE = alt(nd.FEMALE_FIRST + nd.MALE_FIRST)

_ROLE_SUFFIX = ("arzt", "ärztin", "ärzte", "loge", "login", "pfleger", "schwester", "therapeut", "therapeutin",
                "ist", "istin", "direktor", "direktorin", "leiter", "leiterin", "assistent", "assistentin")


def _name_like(tok: str, allow_initial: bool = True) -> bool:
    t = tok.rstrip(".,;:")
    if not t:
        return False
    if re.fullmatch(rf"[{P.UC}][{P.LC}]?\.", tok) or re.fullmatch(rf"[{P.UC}][{P.LC}]?", t) and tok.endswith("."):
        return allow_initial
    if not re.fullmatch(rf"{P.CAPWORD}|{P.ALLCAPS}", t):
        return False
    if t in nd.NOT_NAME or t.capitalize() in nd.NOT_NAME or t in NON_NAME_CAPS:
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
        self.post_title = c(rf"(?<=[\w.])[ \t]{{0,2}},?[ \t]{{0,2}}(?P<t>{POST_TITLE}(?:[ \t]+{POST_TITLE})*)(?![\w])")
        self.role = c(rf"(?<![\w]){ROLE}(?![\w])\.?:?")
        self.salute = c(rf"(?<![\w]){SALUTE}(?![\w])")
        self.patient_cue = c(
            r"(?<![\w])(?:Patient(?:in|en)?|Pat\.|PATIENT(?:IN)?|Name|NAME|Betr\.|Betrifft|Betreff|BETREFF|"
            r"Versicherte[rn]?|Patient\sname|Patient|Proband(?:in)?)(?![\w])[ \t]*:?[ \t]*,?"
        )
        self.birth = c(rf"[ \t]*,?[ \t]*{BIRTH_CUE}")
        self.name_date = c(r"^[ \t]*(?P<n>[^\n,]{3,60}),[ \t]+(?:\*[ \t]*)?\d{1,2}\.\d{1,2}\.\d{2,4}")
        self.relative = c(rf"(?<![\w]){RELATIVE}(?![\w])[ \t]*[:,]?[ \t]*")
        self.first_pair = c(rf"(?<![\w-]){FIRST_NAME_RE}(?=[ ]+[{P.UC}])")
        self.comma_first = c(rf"(?<![\w-])(?P<last>{P.CAPWORD}|{P.ALLCAPS}),[ ](?P<first>{FIRST_NAME_RE})(?![\w])")
        self.greeting = c(r"(?i:mit\s(?:freundlichen|kollegialen|besten|herzlichen)|freundliche\sgrüße|mit\sfreundl|"
                          r"hochachtungsvoll|kind\sregards|best\sregards|sincerely|yours|mit\skollegialem|gez\.)")
        self.role_line = c(
            rf"^[ \t]*(?:{ROLE}|(?:Fach)?[ÄA]rzt(?:in)?\sfür|FA\sfür|[{P.UC}][{P.LC}]+(?:loge|login|arzt|ärztin|ist|istin)\b)"
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
            cued = span and re.search(rf"(?:{ROLE}|{P.TITLE})[ \t]*:?[ \t]*$", text[max(0, span[0] - 30):span[0]])
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
            elif re.search(rf"{RELATIVE}\s*,?\s*$", before):
                add(span, "NAME_RELATIVE", 2)
            else:
                nxt = text[span[1]:span[1] + 80].split("\n")
                role_next = len(nxt) > 1 and self.role_line.match(nxt[1] if nxt[0].strip() == "" else nxt[1])
                add(span, "NAME_DOCTOR" if role_next else "NAME_PATIENT", 2 if role_next else 1)
        for m in self.patient_cue.finditer(text):
            pos = m.end()
            sal = re.match(rf"[ \t\n]*{SALUTE}[ \t]+", text[pos:pos + 20])
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
            sal = re.match(rf"{SALUTE}[ \t]+", text[pos:pos + 12])
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
                lead = re.match(rf"[ ]*(?:{ROLE}[ \t]*:?[ \t]*)?(?:{P.TITLE}[ \t]*)?", segtext)
                st = s0 + (lead.end() if lead else 0)
                span = self._take(text, st)
                if not span:
                    continue
                rest = text[span[1]:s0 + len(segtext)]
                # "Anna Muster – Oberärztin", "Anna Muster, OA", "Anna Muster (Assistenzärztin)"
                role_after = re.match(rf"[ ]*(?:[–—,-][ ]*|\([ ]?)(?:{ROLE}|[{P.UC}][{P.LC}]*(?:arzt|ärztin|loge|login|ist|istin))\b", rest)
                if role_after and len(text[span[0]:span[1]].split()) >= 2:
                    add(span, "NAME_DOCTOR", 2)
                    continue
                if rest.strip(" ,") and not re.fullmatch(rf"[ ,]*(?:{POST_TITLE}[ ,]*)+", rest):
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
            out.append(make_result(self, mt.label, mt.start, mt.end, (0.55, 0.7, 0.85, 0.9)[mt.strength], f"name{mt.strength}"))
        for s, e in titles:
            if any(0 <= mt.start - e <= 3 or 0 <= s - mt.end <= 3 for mt in mentions):
                while e > s and text[e - 1] in " \t,":
                    e -= 1
                out.append(make_result(self, "NAME_TITLE", s, e, 0.8, "title"))
        return out

    # -- propagation and labels -----------------------------------------------------------------

    def _propagate(self, text: str, mentions: list[Mention], sig_zone: int) -> list[Mention]:

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
                if prev and prev.group(1).lower() in ARTICLES:
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
                            if prev and prev.group(1).lower() in ARTICLES:
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
