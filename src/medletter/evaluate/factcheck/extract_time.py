"""Reading dates and dose statements in their context: which event word a date stands with, which dates
form a range, which course a statement's words name, which numbers a dose statement ties together.

Everything here reads the letter (with the case's words, :class:`~medletter.evaluate.factcheck.lexicon.Lexicon`)
and returns facts (:mod:`~medletter.evaluate.factcheck.model`); nothing compares a value with the case.
"""

from __future__ import annotations

import datetime as dt
import re

from medletter.evaluate.factcheck.lexicon import Lexicon
from medletter.evaluate.factcheck.model import Cue, Date, DateRange, DoseStatement
from medletter.evaluate.factcheck.text import NUMBER_WORD_RE, NUMBER_WORDS, sentence_bounds, similar, words

CUES: list[tuple[str, str | None, str, int]] = [
    # (event type, endpoint, pattern, flags); endpoint None: either
    ("birth", None, r"\bgeb\.|\bgeboren\b|\bborn\b|\bDOB\b|date of birth|Geburtsdatum|\bb\.(?=\s*\d)", re.I),
    ("birth", None, r"\*", 0),
    ("diagnosis", None, r"\bED\b|\b[Dd]x(?: date)?\b", 0),
    ("diagnosis", None, r"Erstdiagnose|erstdiagnostiziert|Erstdiagnostik|Diagnosestellung|diagnostiziert|diagnosed|first diagnos\w*|initial diagnos\w*|date of diagnosis|\bdiagnosis (?:was|is) (?:made|established|confirmed)|Diagnose wurde|\bgesichert\b|festgestellt|histologically confirmed|Erstnachweis|\bNachweis|\bnachgewiesen\b|\bdetected\b|\bconfirmed on\b|Diagnosesicherung|Diagnosestellung|\bDiagnose(?:datum)?\b(?: (?:der|des) \w+)?\s*:", re.I),
    ("surgery", None, r"\bOP\b|\bOperation\w*|\boperiert\w*|\bResektion\w*|reseziert|\w+ektomie\b|\w+ectomy\b|\bsurgery\b|\bsurgical\w*|\bresect\w*|\bexcision\b|Exstirpation|Biopsie|biopsy|\w+skopie\b|\w+scopy\b|\bAnlage\b|placement|\bplaced\b|\binserted\b|\bStaging\b", re.I),
    ("systemic", None, r"Chemo(?!radio)\w*|\bZyklen\b|\bZyklus\b|\bcycles?\b|\bADT\b|Hormontherap\w*|endokrin\w*|endocrine|Immuntherap\w*|immunotherap\w*|Systemtherap\w*|systemic", re.I),
    ("rt", None, r"Bestrahlung\w*|bestrahlt|Strahlentherap\w*|Radiotherap\w*|Radiatio\b|radiation therapy|irradiat\w*|\bRT\b|\bRCT\b|\bCRT\b|Radiochemo\w*|chemoradio\w*|\bBoost\w*|Fraktion\w*|fraction\w*", re.I),
    ("rt", "final", r"Abschlussuntersuchung|final examination", re.I),
    ("followup", None, r"Nachsorge\w*|Kontrolle\w*|Wiedervorstellung|Vorstellung|\bTermin\w*|follow[- ]?up|\bcheck\w*|\bvisit\w*|\breview\w*|\bAmbulanz\b|\bclinic\b", re.I),
]
END_STRONG = re.compile(r"Abschlu(?:ss|ß)\w*|abgeschlossen|beendet|beendigt|\bendete\b|\bEnde\b(?!\s*(?:\d{1,2}/\d{2,4}\b|[A-ZÄÖÜ][a-zäöü]+\s+\d{4}))|Therapieende|"
                        r"completed|completion|finished|\bended\b|\bend of\b|\bEnd(?: date)?\s*:", re.I)
"""The end of a therapy ("abgeschlossen", "Ende", "End:"); not "Ende 05/2029", the end of a month."""
START_STRONG = re.compile(r"\bBeginn\w*|begonnen|\bbegann\b|\bstarted\b|\bstart\b|\bbegan\b|commenced|\bseit\b|\bsince\b", re.I)
_END_WEAK = re.compile(r"(?:\bbis(?: zum)?|\bto|\buntil|\btill)\s*$", re.I)
_START_WEAK = re.compile(r"(?:\bab|\bvom|\bfrom)\s*$", re.I)
_RANGE_SEP = re.compile(r"^\s*(?:–|-|—|bis(?: zum)?|to|until|till|and)\s*$", re.I)
_SLASH_RANGE_LABEL = re.compile(r"\b(?:Start|Beginn|von|from|Anfang)\s*/\s*(?:Ende?|bis|to|Abschluss)\b", re.I)
CONNECTOR = re.compile(r"\b(?:und|and|sowie|plus|gefolgt|followed|anschließend|danach|then|zusätzlich|additionally|sequenziell\w*|sequential\w*)\b|\+", re.I)
REGION_SPLIT = re.compile(CONNECTOR.pattern + r"|;", re.I)
_CLAUSE_AFTER = re.compile(r"\b(?:und|and|sowie|plus|gefolgt|followed|anschließend|danach|then|zusätzlich|additionally)\b|\+|;|:\s", re.I)
"""Where the clause after a value ends ("…, danach Boost"; not "sequenzielle Boost-Bestrahlung", which describes it)."""
BOOST = re.compile(r"\bBoost\w*|\bAufsättigung\w*|\bboost\w*", re.I)
EPISODE = re.compile(r"\b(?:Frau|Herrn?|Mrs|Mr|Ms|Patient\w*|wir|we|our|unser\w*|uns|us)\b", re.I)
"""Words of a sentence about the patient's treatment as a whole (not about one course)."""
SIB = re.compile(r"integriert\w*\s+Boost|integrated\s+boost|\bSIB\b", re.I)
_DPF_BEFORE = re.compile(r"(?:[x×]|\bà|\ba|\bzu(?:\s+je)?|\bje|\bof|\bED|Einzeldosis|Einzel-Dosis|single dose|dose per fraction|fraction dose|Fraktionsdosis)\s*:?\s*$", re.I)
_TOTAL_BEFORE = re.compile(r"(?:\bbis|\bto|=|\bad|\bauf|\bGD|Gesamtdosis|Gesamt-Dosis|total dose(?:\s+of)?|\btotal(?:\s+of)?|in total|insgesamt|kumulativ\w*|cumulative(?:\s+dose)?(?:\s+of)?|Gesamtdosis von)\s*:?\s*$", re.I)
# a label after a dose names it ("40,05 Gy Gesamtdosis"), unless a number follows the label: then it names that number
# ("8 x 2,0 Gy (GD 16,0 Gy)")
_LABEL_NOT_OF_NEXT = r"(?![\s:]*(?:dose\s+)?(?:of\s+)?\d)"
_DPF_AFTER = re.compile(r"^\s*(?:pro|per|/|je)\s*(?:Fraktion|fraction|Fx|Sitzung|session)|^\s*\(?(?:ED|Einzeldosis)\b" + _LABEL_NOT_OF_NEXT, re.I)
_TOTAL_AFTER = re.compile(r"^\s*(?:in|mit|über|over|/|at|with)\s*\d{1,2}\s*(?:Fraktionen|Fraktion|fractions|fraction|Fx|Sitzungen|sessions)|^\s*\(?(?:GD|Gesamtdosis|total)\b" + _LABEL_NOT_OF_NEXT, re.I)


def _overlaps(a: int, b: int, spans) -> bool:
    return any(a < y and x < b for x, y in spans)


# ---------------------------------------------------------------- event words

def cues(lex: Lexicon, text: str, a: int, b: int):
    """Event cues in text[a:b]: (start, end, type, endpoint, surgery index or None)."""
    out = []
    for kind, endpoint, pat, fl in CUES:
        for m in re.finditer(pat, text[a:b], fl):
            out.append((a + m.start(), a + m.end(), kind, endpoint, None))
    ws = words(text, a, b)
    named = []
    for keys, idx in lex.procedures:
        for s, e, w in ws:
            if any(similar(w, k) for k in keys):
                named.append((s, e, "surgery", None, idx))
    # a word that names one of the case's procedures binds to that procedure's date only; a word of a course's
    # target ("Resektionshöhle", "Tumorbett nach Lumpektomie") names no event
    targets = [(m.start(), m.end()) for m in re.finditer(r"\w*(?:höhle|bett|cavity|bed)\b|\w+\s+(?:cavity|bed)\b", text[a:b], re.I)]
    targets = [(a + x, a + y) for x, y in targets]
    named = [c for c in named if not _overlaps(c[0], c[1], targets)]
    out = [c for c in out if not (c[2] == "surgery" and _overlaps(c[0], c[1], [(x[0], x[1]) for x in named] + targets))] + named
    for s, e, w in ws:
        if any(similar(w, k) for k in lex.systemic):
            out.append((s, e, "systemic", None, None))
    return out


_LETTER_LABEL = re.compile(r"(?:^|\|\s*|\s{2,})[ \t]*(?:Datum|Date|Printed|Gedruckt|Erstellt|Briefdatum|Letter date|Dated|"
                           r"(?:Brief|Schreiben|Anmeldung|Bericht|Befund) vom)\s*:?\s*$", re.I)
_PLACE_COMMA = re.compile(r"(?:^|\s{2,})[ \t]*[A-ZÄÖÜ][A-Za-zÄÖÜäöüß.-]+(?: [A-Za-zÄÖÜäöüß.-]+){0,3},\s*(?:den\s+)?$")
RELATIVE = re.compile(
    rf"(?:\b(?:in|nach|after|within|innerhalb von)\s+)?\b(\d{{1,3}}|{NUMBER_WORD_RE})(?:\s*[-–]\s*(\d{{1,2}}))?\s*"
    r"(Wochen|Woche|Wo\.?|weeks?|wks?|Monaten|Monate|Mon\.?|months?)(\s+(?:nach|after|post|following)\b)?", re.I)
"""A time from the end of radiotherapy: "8 Wochen nach RT-Ende", "in sechs Wochen (…)", "7 weeks after completion"."""


def letter_cue(text: str, a: int) -> bool:
    """A date written as the letter's date: after "Datum:" / "Printed:", after the place ("Lörrach, 27.1.2025"), or
    alone on a line at the top of the letter."""
    line_start = text.rfind("\n", 0, a) + 1
    before = text[line_start:a]
    if _LETTER_LABEL.search(before) or _PLACE_COMMA.search(before):
        return True
    line_end = text.find("\n", a)
    line = text[line_start: len(text) if line_end < 0 else line_end]
    return text.count("\n", 0, a) < 15 and bool(re.fullmatch(r"[\s|]*\S{6,12}[\s|]*", line))


def relative_weeks(text: str, sa: int, sb: int, a: int, b: int) -> tuple[float, float] | None:
    """Weeks after the end of radiotherapy that a time expression within 80 characters of the date in its sentence
    gives ("… 8 Wochen nach RT-Ende (DATE)", "am DATE, d. h. 7 Wochen nach …", "8–12 Wochen nach RT"), nearest
    first, as (fewest, most); None if none."""
    best = None
    for m in RELATIVE.finditer(text, max(sa, a - 80), min(sb, b + 80)):
        if m.start() < b and m.end() > a:
            continue
        lead = m.group(0)[: m.start(1) - m.start()].strip()
        if not lead and not m.group(4) or re.search(r"\b(?:alle|every|q|jeweils)\s*$", text[max(0, m.start() - 8) : m.start()], re.I):
            continue  # "alle 3 Monate" is a rhythm, not a time from the end of radiotherapy
        ks = [int(n) if n.isdigit() else NUMBER_WORDS.get(n.lower()) for n in (m.group(1), m.group(2) or m.group(1))]
        if None in ks:
            continue
        per = 1.0 if not m.group(3).lower().startswith("mo") else 4.345
        # one before the date is its own ("6 Wochen nach Therapieende am DATE, PET-CT nach 12 Wochen"); one after it
        # only where none stands before ("on DATE, seven weeks after …")
        d = a - m.end() if m.end() <= a else 1000 + m.start() - b
        if best is None or d < best[0]:
            best = (d, (ks[0] * per, ks[1] * per))
    return best[1] if best else None


def endpoint(text: str, sa: int, sb: int, a: int, b: int, strong_only: bool = False) -> str | None:
    """'end' / 'start' when the sentence says which end of a therapy the date is ('bis', 'ab'
    right before it; 'abgeschlossen', 'Beginn' in the sentence), else None."""
    before = text[max(sa, a - 14) : a]
    if not strong_only and _END_WEAK.search(before):
        return "end"
    if not strong_only and _START_WEAK.search(before):
        return "start"
    best = None
    for pat, ep in ((END_STRONG, "end"), (START_STRONG, "start")):
        for m in pat.finditer(text, sa, sb):
            d = a - m.end() if m.end() <= a else (m.start() - b if m.start() >= b else 0)
            if 0 <= d <= 40 and (best is None or d < best[0]):
                best = (d, ep)
    if best:
        return best[1]
    seg = text[sa:sb]
    ends, starts = bool(END_STRONG.search(seg)), bool(START_STRONG.search(seg))
    return "end" if ends and not starts else "start" if starts and not ends else None


def _dist(hit, cue, text: str = "") -> float:
    a, b, _ = hit
    s, e = cue[0], cue[1]
    if e <= a:
        return a - e
    if s >= b:
        # a cue before its date is the usual order; one in a parenthesis after it is an aside
        return (s - b) * 1.5 + 1 + (10 if "(" in text[b:s] else 0)
    return 0.0


# ---------------------------------------------------------------- which course a stretch names

def evidence_in(lex: Lexicon, text: str, a: int, b: int) -> list[set[int]]:
    """Courses named in text[a:b]: one set of course indices per target word only that course's target has,
    and one for 'Boost' (the boost courses)."""
    out = []
    if b <= a:
        return out
    for _, _, w in words(text, a, b):
        # 'Brust' names the 'Restbrust': a target word may also stand inside a longer one
        hit = {i for i, ws in enumerate(lex.course_words) if any(similar(w, x) or (min(len(w), len(x)) >= 5 and (w in x or x in w)) for x in ws)}
        if hit:
            out.append(hit)
    seg = text[a:b]
    if BOOST.search(seg) and not SIB.search(seg):
        out.append(set(lex.boost_courses))
    return out


def block_above(text: str, sa: int, dose_hits) -> tuple[int, int]:
    """Labelled lines right above a line ('Zielvolumen: …', 'Technik: …') up to a blank line or a
    line that states a dose itself."""
    start = text.rfind("\n", 0, sa)
    if start < 0:
        return (sa, sa)
    lo = sa
    pos = start
    for _ in range(4):
        prev = text.rfind("\n", 0, pos)
        line = text[prev + 1 : pos]
        if not line.strip() or any(prev + 1 <= a < pos for a, _, _ in dose_hits) or not re.match(r"^\s*[\w -]{2,30}:", line):
            break
        lo = prev + 1
        pos = prev
        if prev < 0:
            break
    return (lo, sa)


def continuation_below(text: str, sb: int, dose_hits) -> tuple[int, int]:
    """Indented lines right below a list item ('- Restbrust: 15 × …\\n  1.3.–21.3.2029')."""
    hi = sb
    pos = text.find("\n", sb)
    if pos < 0 or text[sb:pos].strip():
        return (sb, sb)
    while pos >= 0:
        nxt = text.find("\n", pos + 1)
        line = text[pos + 1 : nxt if nxt >= 0 else len(text)]
        if not re.match(r"^[ \t]+\S", line) or any(pos + 1 <= a < (nxt if nxt >= 0 else len(text)) for a, _, _ in dose_hits):
            break
        hi = nxt if nxt >= 0 else len(text)
        pos = nxt
    return (sb, hi)


def context_regions(text: str, a: int, b: int, clause_only: bool = False) -> list[tuple[int, int]]:
    """Where to look for the course text[a:b] belongs to: its clause (from a connector or ';' before it up to
    one or a ':' after it); else (unless ``clause_only``) up to the connector words around it, the line above an
    indented continuation line, or the labelled lines above."""
    sa, sb = sentence_bounds(text, a, semicolon=False)
    cuts_before = list(REGION_SPLIT.finditer(text, sa, a))
    cut_after = _CLAUSE_AFTER.search(text, b, sb)
    regions = [(cuts_before[-1].start() if cuts_before else sa, cut_after.start() if cut_after else sb)]
    if not clause_only:
        words_before = list(CONNECTOR.finditer(text, sa, a))
        word_after = CONNECTOR.search(text, b, sb)
        regions.append((words_before[-1].start() if words_before else sa, word_after.start() if word_after else sb))
        line_start = text.rfind("\n", 0, a) + 1
        if re.match(r"[ \t]+\S", text[line_start:a + 1]) and line_start > 0:
            regions.append((text.rfind("\n", 0, line_start - 1) + 1, line_start - 1))
            regions.append(block_above(text, line_start, []))
        elif sa == line_start:
            regions.append(block_above(text, sa, []))
    return regions


def context_courses(lex: Lexicon, text: str, a: int, b: int, clause_only: bool = False) -> tuple[list[set[int]], tuple[int, int]]:
    """Courses named around text[a:b] (see :func:`context_regions`), and the stretch where, with no word naming
    a course, a course's own numbers would decide."""
    regions = context_regions(text, a, b, clause_only)
    found = evidence_in(lex, text, *regions[0])
    if not found:
        found = [e for lo, hi in regions[1:] for e in evidence_in(lex, text, lo, hi)]
    # with no word naming a course, the numbers of the stretch decide: its sentence, and the labelled lines above
    stretch = regions[1] if len(regions) > 1 else regions[0]
    if len(regions) > 2:
        stretch = (min(stretch[0], *(lo for lo, _ in regions[2:])), max(stretch[1], *(hi for _, hi in regions[2:])))
    return found, stretch


# ---------------------------------------------------------------- dates

def date_ranges(text: str, hits) -> list[tuple[int, int]]:
    """Index pairs (i, j) of date hits that form a range ('vom X bis Y', 'X–Y', 'from X to Y')."""
    out = []
    for i in range(len(hits) - 1):
        a, b, _ = hits[i]
        c, _, _ = hits[i + 1]
        between = text[b:c]
        if _RANGE_SEP.match(between):
            if re.match(r"^\s*and\s*$", between, re.I) and not re.search(r"(?:between|zwischen)\s*$", text[max(0, a - 12) : a], re.I):
                continue
            out.append((i, i + 1))
        elif re.fullmatch(r"\s+/\s+", between) and _SLASH_RANGE_LABEL.search(text[text.rfind("\n", 0, a) + 1 : a]):
            # "Start / End ...... 04/06/2024 / 15/07/2024": the label says the two are a range
            out.append((i, i + 1))
    return out


def _sentence_flags(text: str, a: int) -> tuple[bool, bool]:
    sa, sb = sentence_bounds(text, a, semicolon=False)
    seg = text[sa:sb]
    return bool(EPISODE.search(seg)), bool(BOOST.search(seg))


def read_dates(lex: Lexicon, text: str, date_hits, dose_hits, frac_hits, rows=()) -> tuple[list[Date], list[DateRange]]:
    """Every date with the event words it stands with, and the ranges dates form (in text, or a table row's start
    and end columns)."""
    hits = sorted((a, b, v) for a, b, v in date_hits)
    dates = [Date(a, b, v) for a, b, v in hits]
    usable = [i for i, (_, _, v) in enumerate(hits) if isinstance(v, dt.date) or (isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int))]
    sub = [hits[i] for i in usable]
    pairs = [(usable[i], usable[j]) for i, j in date_ranges(text, sub)]
    ranges = []
    at = {hits[i][0]: i for i in usable}
    for row in rows:
        if "start" in row.cells and "end" in row.cells:
            i = next((at[x] for x in at if row.cells["start"][0] <= x < row.cells["start"][1]), None)
            j = next((at[x] for x in at if row.cells["end"][0] <= x < row.cells["end"][1]), None)
            if i is not None and j is not None and (i, j) not in pairs:
                dates[i].in_range = dates[j].in_range = True
                tgt = row.cells.get("target")
                courses = evidence_in(lex, text, tgt[0], tgt[1]) if tgt else []
                numbers = [("d", v) for x, y, v in dose_hits if row.start <= x < row.end] + [("n", v) for x, y, v in frac_hits if row.start <= x < row.end]
                ranges.append(DateRange(i, j, hits[i][0], hits[j][1], courses, numbers, False, bool(BOOST.search(text[row.start:row.end])), {"rt"}))
    for i, j in pairs:
        dates[i].in_range = dates[j].in_range = True
        a, b = hits[i][0], hits[j][1]
        courses, (lo, hi) = context_courses(lex, text, a, b)
        numbers = [("d", v) for x, y, v in dose_hits if lo <= x and y <= hi] + [("n", v) for x, y, v in frac_hits if lo <= x and y <= hi]
        episode, boost = _sentence_flags(text, a)
        sa, sb = sentence_bounds(text, a)
        cs = cues(lex, text, sa, sb)
        lead = [c for c in cs if 0 <= a - c[1] <= 4 and re.fullmatch(r"[\s:(]*", text[c[1] : a])]
        ranges.append(DateRange(i, j, a, b, courses, numbers, episode, boost, {c[2] for c in cs},
                                Cue(lead[0][2], None, lead[0][4]) if lead else None))
    _bind_single(lex, text, hits, dates, usable)
    return dates, ranges


def _bind_single(lex: Lexicon, text: str, hits, dates: list[Date], usable: list[int]) -> None:
    """Each date takes the event cue nearest to it in its sentence; a cue right beside a date
    ("geb. 4.4.1957", "ED 03/2029") is that date's alone."""
    by_sentence: dict[tuple[int, int], list[int]] = {}
    for i in usable:
        by_sentence.setdefault(sentence_bounds(text, hits[i][0]), []).append(i)
    for (sa, sb), idx in by_sentence.items():
        cs = [c for c in cues(lex, text, sa, sb) if not any(hits[k][0] <= c[0] < hits[k][1] for k in idx)]
        claimed: dict[int, list] = {}
        free = []
        for c in cs:
            imm = [k for k in idx if 0 <= hits[k][0] - c[1] <= 4 and re.fullmatch(r"[\s:(]*", text[c[1] : hits[k][0]])]
            imm += [k for k in idx if 0 <= c[0] - hits[k][1] <= 3 and re.fullmatch(r"[\s:)]*", text[hits[k][1] : c[0]]) and c[2] != "birth"]
            if c[2] == "birth" and text[c[0]:c[1]] == "*" and not imm:
                continue
            if c[2] == "diagnosis" and text[c[0]:c[1]] in ("ED", "dx", "Dx") and not imm:  # not "Dx date"
                continue  # 'ED' is also the dose per fraction
            if imm:
                claimed.setdefault(imm[0], []).append((0, c))
            else:
                free.append(c)
        for c in free:
            k = min(idx, key=lambda k: _dist(hits[k], c, text))
            if k in claimed and any(d == 0 for d, _ in claimed[k]):
                rest = [k2 for k2 in idx if not (k2 in claimed and any(d == 0 for d, _ in claimed[k2]))]
                if not rest:
                    continue
                k = min(rest, key=lambda k2: _dist(hits[k2], c, text))
            claimed.setdefault(k, []).append((_dist(hits[k], c, text), c))
        for k in sorted(idx):
            a, b, _ = hits[k]
            d = dates[k]
            d.near = {c[2] for c in cues(lex, text, max(sa, a - 40), min(sb, b + 40))}
            prev = [j for j in idx if j < k and re.fullmatch(r"\s*\(\s*", text[hits[j][1]:a])]
            if prev and dates[prev[-1]].cues:
                # "Erstnachweis Ende 05/2029 (24.05.29)": the date in brackets says the one before it again
                d.cues = list(dates[prev[-1]].cues)
                continue
            if letter_cue(text, a) or (text.count("\n", 0, a) < 5 and not any(d0 == 0 for d0, _ in claimed.get(k, []))
                                       and re.search(r"(?:\|\s*|\s{3,})$", text[max(0, a - 6):a]) and re.match(r"[ \t]*(?:\n|$)", text[b:])):
                # a date closing one of the letter's first lines, set apart from its words, with no event word beside
                # it ("Praxis … | Arztbrief | 2025-09-22"): the letter's date
                d.cues.append(Cue("letter"))
                continue
            weeks = relative_weeks(text, sa, sb, a, b)
            if weeks is not None and not any(d0 == 0 and c[2] not in ("rt", "followup") for d0, c in claimed.get(k, [])):
                d.cues.append(Cue("followup", None, None, weeks[0], weeks[1]))
                continue
            d.courses = context_courses(lex, text, a, b, clause_only=True)[0]
            episode, boost = _sentence_flags(text, a)
            d.episode = episode and not boost
            if k not in claimed:
                d.strong_endpoint = endpoint(text, sa, sb, a, b, strong_only=True)
                continue
            ranked = sorted(claimed[k], key=lambda t: t[0])
            best = ranked[0][0]
            for dist, (_, _, kind, ep, surgery) in ranked:
                if dist <= best + 3:
                    d.cues.append(Cue(kind, ep or endpoint(text, sa, sb, a, b), surgery))


# ---------------------------------------------------------------- dose statements

def _statements(text: str, dose_hits, frac_hits):
    toks = sorted([(a, b, "d", v) for a, b, v in dose_hits] + [(a, b, "n", v) for a, b, v in frac_hits])
    out = []
    cur: list = []
    seg = None
    for t in toks:
        s = sentence_bounds(text, t[0])
        if cur:
            prev = cur[-1]
            between = text[prev[1] : t[0]]
            has_n = any(x[2] == "n" for x in cur)
            n_doses = sum(1 for x in cur if x[2] == "d")
            if (s != seg or len(between) > 40 or CONNECTOR.search(between) or (t[2] == "n" and has_n)
                    or (t[2] == "d" and n_doses >= 2) or re.search(r"\d{1,2}\.\d{1,2}\.|\d{4}", between)):
                out.append(cur)
                cur = []
        if not cur:
            seg = s
        cur.append(t)
    if cur:
        out.append(cur)
    return out


_PAIR_LABEL = re.compile(r"(?P<a>ED|EZD|Einzeldosis|GD|Gesamtdosis)\s*/\s*(?P<b>ED|EZD|Einzeldosis|GD|Gesamtdosis)\s*:?\s*$", re.I)


def _role_of(label: str) -> str:
    return "tot" if label.upper().startswith("G") else "dpf"


def _roles(text: str, toks) -> tuple[list[int], list[float], list[float], list[float]]:
    fr, dpf, tot, unk = [], [], [], []
    pending = None  # the role "ED/GD 2/60 Gy" gives the number after the slash
    for i, (a, b, kind, v) in enumerate(toks):
        if kind == "n":
            fr.append(v)
            continue
        before = text[max(0, a - 24) : a]
        prev_end = toks[i - 1][1] if i else None
        if prev_end is not None and prev_end > a - 24:
            before = text[prev_end:a]
        after = text[b : b + 30]
        if pending and re.fullmatch(r"\s*/\s*", before):
            (dpf if pending == "dpf" else tot).append(v)
            pending = None
            continue
        if m := _PAIR_LABEL.search(before):
            (dpf if _role_of(m.group("a")) == "dpf" else tot).append(v)
            pending = _role_of(m.group("b"))
            continue
        # "78 Gy à 2 Gy in 39 Fx": a dose after "à"/"je"/"×" is the dose per fraction, whatever follows it
        if _DPF_BEFORE.search(before) and not _TOTAL_BEFORE.search(before):
            dpf.append(v)
        elif _TOTAL_BEFORE.search(before) or _TOTAL_AFTER.search(after):
            tot.append(v)
        elif _DPF_BEFORE.search(before) or _DPF_AFTER.search(after):
            dpf.append(v)
        else:
            unk.append(v)
    return fr, dpf, tot, unk


def read_statements(lex: Lexicon, text: str, dose_hits, frac_hits, date_hits, rows=()) -> list[DoseStatement]:
    """Dose statements with the role of each number (fractions, dose per fraction, total; where the words do not
    say, the smaller of two doses is taken per fraction) and the courses their context names; a table's row is a
    statement of its own, its roles from its columns, its course from its target cell (or "Boost")."""
    out = []
    spans = [(r.start, r.end) for r in rows]
    for row in rows:
        c = row.cells

        def val(name, cast):
            if name not in c:
                return None
            m = re.search(r"\d+(?:[.,]\d+)?", c[name][2])
            return cast(m.group().replace(",", ".")) if m else None

        st = DoseStatement(row.start, row.end, val("fx", lambda x: int(float(x))), val("dpf", float), val("total", float), [])
        tgt = c.get("target")
        st.courses = evidence_in(lex, text, row.start, row.end) if tgt is None else evidence_in(lex, text, tgt[0], tgt[1])
        if tgt is not None and BOOST.search(text[row.start:row.end]) and not SIB.search(text[row.start:row.end]):
            st.courses.append(set(lex.boost_courses))
        out.append(st)
    inside = lambda h: any(a <= h[0] < b for a, b in spans)  # noqa: E731
    dose_hits = [h for h in dose_hits if not inside(h)]
    frac_hits = [h for h in frac_hits if not inside(h)]
    groups = _statements(text, dose_hits, frac_hits)
    dates = sorted((a, b, v) for a, b, v in date_hits if isinstance(v, dt.date))
    bounds = [(g[0][0], g[-1][1]) for g in groups]
    for k, g in enumerate(groups):
        fr, dpf, tot, u = _roles(text, g)
        n = fr[0] if fr else None
        d = dpf[0] if dpf else None
        D = tot[0] if tot else None
        if n is not None and u:
            if n == 1:
                d = d if d is not None else u[0]
                D = D if D is not None else u[0]
                u = []
            elif d is None and D is None and len(u) >= 2:
                d, D, u = min(u[:2]), max(u[:2]), u[2:]
            elif d is not None and D is None:
                D, u = u[0], u[1:]
            elif D is not None and d is None:
                d, u = u[0], u[1:]
        st = DoseStatement(bounds[k][0], bounds[k][1], n, d, D, u)
        # which course the context names: its sentence or line (';' does not end it); text between two statements
        # belongs to the second after a connector ('danach Boost …', '; Boost …'), else to the first
        sa, sb = sentence_bounds(text, st.start, semicolon=False)
        same = lambda j: 0 <= j < len(groups) and sentence_bounds(text, bounds[j][0], semicolon=False) == (sa, sb)  # noqa: E731
        lo, hi = sa, sb
        if same(k - 1):
            c = REGION_SPLIT.search(text, bounds[k - 1][1], st.start)
            lo = c.start() if c else st.start
        if same(k + 1):
            c = REGION_SPLIT.search(text, st.end, bounds[k + 1][0])
            hi = c.start() if c else bounds[k + 1][0]
        regions = [(lo, hi, True), (*continuation_below(text, sb, dose_hits), True)]
        if lo == sa:
            regions.append((*block_above(text, sa, dose_hits), False))
        for ra, rb, own in regions:
            if rb <= ra:
                continue
            st.courses += evidence_in(lex, text, ra, rb)
            rd = [h for h in dates if ra <= h[0] < rb]
            for i, j in date_ranges(text, rd):
                st.ranges.append((rd[i][0], rd[j][1], rd[i][2], rd[j][2], own))
                st.range_spans.append(((rd[i][0], rd[i][1]), (rd[j][0], rd[j][1])))
        out.append(st)
    return out
