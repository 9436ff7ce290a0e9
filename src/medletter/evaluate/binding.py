"""Fact checks that bind each value of a letter to what it describes.

:func:`medletter.evaluate.facts.check_letter` checks every value against the *set* of the case's
values of its kind; a letter that gives one toxicity another's grade, or writes the surgery date
where the diagnosis date belongs, passes that check. The checks here read the letter's local
context (the clause, sentence, list item or labelled block a value stands in) and compare each
value with the case's value *for that thing*:

``grade_mismatch``
    a CTCAE grade and the toxicity term of its clause ("Dermatitis Grad 2", "grade 2 dermatitis",
    "Fatigue G1"); a grade with only "max." / "Toxizität" beside it is the case's highest grade.
``grading_mismatch``
    a tumour grade "G1"–"G4" outside any toxicity clause and the diagnosis' grading.
``date_event_mismatch``
    a date and the event word nearest to it (birth, first diagnosis, surgery/procedure, systemic
    therapy, radiotherapy start/end, follow-up); a date range "vom … bis …" / "1.3.–21.3.2029" and
    the periods of the case (courses, the whole radiotherapy, systemic therapies).
``dose_arithmetic``
    a statement with fractions, dose per fraction and total dose ("15 × 2,67 Gy = 40,05 Gy",
    "40,05 Gy in 15 Fraktionen à 2,67 Gy", "ED 2,67 Gy, GD 40,05 Gy (15 Fraktionen)") whose numbers
    do not multiply out: ``|n·d − D| > max(DOSE_TOLERANCE_GY, 0.005·n)``. 0.05 Gy is what a case
    record itself may differ by (:data:`medletter.records.DOSE_TOLERANCE_GY`); 0.005·n is the most a
    dose per fraction rounded to two decimals (how letters write it) can move the product.
``dose_course_mismatch``
    numbers of one statement that belong to different courses ("5 × 2,67 Gy" where 5 fractions are
    the boost's), or a course's numbers written beside another course's target region, "Boost"
    or period.
``laterality_mismatch``
    "links/rechts/left/right" and the anatomical words next to it, against the side the case gives
    those words (diagnosis, target regions, procedures, secondary diagnoses); an ICD-10 side marker
    ("C50.4 R") against the diagnosis' side.
``tnm_mismatch``
    a TNM component whose value the case has but with another explicit prefix ("cN1" for "pN1").
``invalid_code``
    what looks like a diagnosis code but is not a valid one: "ICD-12", "ICD-10 C9.3", "(C504)",
    "C50.412".
``code_mismatch``
    an ICD-10 code of the case written after another of the case's diagnoses ("Arterielle
    Hypertonie (E11.9)").

A binding flag is only raised where the value check has not flagged the same text already, so each
wrong statement is highlighted once. Flags are :class:`medletter.evaluate.facts.Flag` with their
character offsets in the letter, like the value check's. Everything here describes forms, not the
synthetic generator's sentences: a value binds to the nearest thing its clause names, and where
nothing names it, nothing is flagged.

:func:`expected_facts` adds facts a letter is expected to carry beyond the value checks: histology,
grading, date of first diagnosis, concurrent systemic therapy with its dose, secondary diagnoses
with their codes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from medletter.evaluate.facts import Flag, _close, _find_icd10, _norm_tnm_parts, _tnm_core
from medletter.records import DOSE_TOLERANCE_GY, Case, Laterality

# ---------------------------------------------------------------- text pieces

_ABBREV = r"(?:max|min|ca|geb|Dr|Prof|med|Nr|bzw|z|n|St|vs|approx|Tel|inkl|evtl|ggf|sog|li|re|Z|v|ca|Pat|Hr|Fr|Mrs|Mr|Ms|e\.g|i\.e|d\.h|u\.a|s\.c|i\.v|p\.o)"
_SENT_END = re.compile(r"[.!?](?=\s+[A-ZÄÖÜ(\-–•]|\s*$)")


def _norm(w: str) -> str:
    """A spelling-tolerant form of a word: lower case, umlauts spelled out, k/z -> c, oe -> e."""
    w = w.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    w = w.replace("oe", "e").replace("ae", "e").replace("k", "c").replace("z", "c").replace("ph", "f")
    return w


def _words(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """Words of text[start:end] as (start, end, normalised word)."""
    end = len(text) if end is None else end
    return [(m.start(), m.end(), _norm(m.group())) for m in re.finditer(r"[^\W\d_]+(?:-[^\W\d_]+)*", text[:end]) if m.start() >= start]


def _similar(a: str, b: str) -> bool:
    """Two normalised words are the same term: equal, one contains the other (≥ 6 letters), or they
    share all but their last two letters and at least seven (inflection, de/en spelling:
    'dysphagie'/'dysphagia'; not 'becken'/'becker')."""
    if a == b:
        return True
    if min(len(a), len(b)) >= 6 and (a in b or b in a):
        return True
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= 7 and n >= min(len(a), len(b)) - 2


def _sentence_bounds(text: str, i: int, semicolon: bool = True) -> tuple[int, int]:
    """The sentence, line or ';'-clause around position i (with ``semicolon=False`` a ';' does not
    end it: 'RT 2 (Boost): Tumorbett; 5 × 2 Gy; 23.10.–27.10.2023' is one statement)."""
    seps = ("\n", ";") if semicolon else ("\n",)
    a = max(text.rfind(x, 0, i) for x in seps) + 1
    for m in _SENT_END.finditer(text, a, i):
        if not _is_abbrev(text, m.start()):
            a = m.end()
    b_candidates = [x for x in (text.find(x, i) for x in seps) if x >= 0]
    b = min(b_candidates) if b_candidates else len(text)
    for m in _SENT_END.finditer(text, i, b):
        if not _is_abbrev(text, m.start()):
            b = m.start()
            break
    return a, b


def _is_abbrev(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    before = text[max(0, dot - 6) : dot]
    if re.search(rf"(?<![\w.]){_ABBREV}$", before) or re.search(r"\d$", before) and re.match(r"\.\s*\d", text[dot:]):
        return True
    # a date's or a number's dot: "21.03.2029. Danach" ends a sentence, "12. März" does not
    return bool(re.search(r"(?<!\d)\d{1,2}$", before)) and bool(re.match(r"\.\s+(?:[A-ZÄÖÜ][a-zäöü]+)\s+\d{4}", text[dot:]))


_CLAUSE_SPLIT = re.compile(r",\s|\s(?:und|and|sowie|as well as|bzw\.|or|oder)\s|\s[–-]\s|:\s*\n")


def _clause_bounds(text: str, a: int, b: int) -> tuple[int, int]:
    """The clause around text[a:b] inside its sentence: split at ', ', 'und', 'and', ' – '."""
    sa, sb = _sentence_bounds(text, a)
    lo, hi = sa, sb
    for m in _CLAUSE_SPLIT.finditer(text, sa, sb):
        if m.end() <= a:
            lo = m.end()
        elif m.start() >= b and hi == sb:
            hi = m.start()
    return lo, hi


def _overlaps(a: int, b: int, spans) -> bool:
    return any(a < y and x < b for x, y in spans)


# ---------------------------------------------------------------- CTCAE grades

_GENERIC_TOX = {_norm(w) for w in ("decreased", "count", "nicht", "infektiös", "noninfective", "radiation", "syndrom", "syndrome",
                                    "increased", "acute", "akute", "chronic", "white", "blood", "cell", "oral", "orale", "perianal",
                                    "vaginal", "vaginale")}
_MAX_WORDS = re.compile(r"\b(?:max\.?|maximal\w*|höchst\w*|highest|worst|bis zu|up to)\b|\bmax\b", re.I)
_GENERIC_TOX_WORDS = re.compile(r"toxizität|toxicity|toxicities|nebenwirkung|side effect|\bNW\b", re.I)
_G_FORM = re.compile(r"^G\s?[0-5]$")
_EACH = re.compile(r"\b(?:jeweils|each|both|beide|all)\b", re.I)


def _tox_keys(case: Case) -> list[list[str]]:
    """Per toxicity the normalised words that name it (≥ 5 letters, not generic)."""
    keys = []
    for t in case.toxicities:
        ws = [w for _, _, w in _words(t.term) if len(w) >= 5 and w not in _GENERIC_TOX]
        if not ws:
            ws = [w for _, _, w in _words(t.term) if len(w) >= 4]
        keys.append(ws)
    return keys


def _tox_mentions(case: Case, text: str, a: int, b: int, keys) -> list[tuple[int, int, set[int]]]:
    """Toxicity terms of the case named in text[a:b]: (start, end, indices of the toxicities)."""
    out = []
    for s, e, w in _words(text, a, b):
        idx = {i for i, ks in enumerate(keys) if any(_similar(w, k) for k in ks)}
        if idx:
            out.append((s, e, idx))
    if not out:
        return out
    # a word shared by several toxicities ('breast' of 'breast pain' and 'breast oedema') is decided
    # by the full term when it is there
    full = []
    for i, t in enumerate(case.toxicities):
        for m in re.finditer(r"\s+".join(re.escape(x) for x in t.term.split()), text[a:b], re.I):
            full.append((a + m.start(), a + m.end(), {i}))
    if full:
        out = [o for o in out if not _overlaps(o[0], o[1], [(x, y) for x, y, _ in full])] + full
    return out


def _grade_first(case: Case, text: str, a: int, keys, grade_hits) -> bool:
    """The sentence around position a writes the grade before the term ('Grad 2 Dermatitis')."""
    sa, sb = _sentence_bounds(text, a)
    mentions = _tox_mentions(case, text, sa, sb, keys)
    grades = [g for g in grade_hits if sa <= g[0] < sb]
    return bool(mentions and grades) and grades[0][1] <= min(m[0] for m in mentions)


def grade_flags(case: Case, text: str, grade_hits) -> list[Flag]:
    keys = _tox_keys(case)
    grades = [t.grade for t in case.toxicities]
    gm = re.match(r"^G([1-4])$", (case.main_diagnosis.grading or "").strip())
    out = []
    range_ends = set()
    for a, b, g in grade_hits:
        if a in range_ends:
            continue
        # 'Grad 1–2', 'grade 1-2', 'G1/2': either grade
        rng = re.match(r"\s*(?:[–/-]|bis|to)\s*(?:G|Grad|grade|°)?\s*([0-5])(?!\d)", text[b : b + 14])
        gs = {g, int(rng.group(1))} if rng else {g}
        if rng:
            range_ends |= {x for x, _, _ in grade_hits if b <= x < b + rng.end()}
        lo, hi = _clause_bounds(text, a, b)
        mentions = _tox_mentions(case, text, lo, hi, keys)
        surface = text[a:b]
        if mentions:
            if _EACH.search(text[lo:hi]):
                sa, sb = _sentence_bounds(text, a)
                idx = set().union(*(m[2] for m in _tox_mentions(case, text, sa, sb, keys)))
            else:
                # the term on the side the sentence puts its terms ('Dermatitis Grad 2, …' or
                # 'Grad 2 Dermatitis, …'), else the nearest
                before = [m for m in mentions if m[1] <= a]
                after = [m for m in mentions if m[0] >= b]
                side = after if _grade_first(case, text, a, keys, grade_hits) else before
                near = min(side or mentions, key=lambda m: a - m[1] if m[1] <= a else m[0] - b)
                idx = near[2]
            if not gs & {grades[i] for i in idx}:
                term = case.toxicities[min(idx)].term
                out.append(Flag(a, b, "grade_mismatch", f"{term}:{g}"))
            continue
        clause = text[lo:hi]
        if _G_FORM.match(surface) and not _GENERIC_TOX_WORDS.search(clause):
            # "G2" beside the histology: the tumour's grading
            if gm is None or int(gm.group(1)) != g:
                out.append(Flag(a, b, "grading_mismatch", f"G{g}"))
            continue
        if grades and (_MAX_WORDS.search(clause) or _GENERIC_TOX_WORDS.search(clause)) and max(grades) not in gs:
            out.append(Flag(a, b, "grade_mismatch", f"max:{g}"))
    return out


# ---------------------------------------------------------------- dates and events

_CUES: list[tuple[str, str | None, str, int]] = [
    # (event type, endpoint, pattern, flags); endpoint None: either
    ("birth", None, r"\bgeb\.|\bgeboren\b|\bborn\b|\bDOB\b|date of birth|Geburtsdatum", re.I),
    ("birth", None, r"\*", 0),
    ("diagnosis", None, r"\bED\b|\bdx\b", 0),
    ("diagnosis", None, r"Erstdiagnose|erstdiagnostiziert|Erstdiagnostik|Diagnosestellung|diagnostiziert|diagnosed|first diagnos\w*|initial diagnos\w*|date of diagnosis", re.I),
    ("surgery", None, r"\bOP\b|\bOperation\w*|\boperiert\w*|\bResektion\w*|reseziert|\w+ektomie\b|\w+ectomy\b|\bsurgery\b|\bsurgical\w*|\bresect\w*|\bexcision\b|Exstirpation|Biopsie|biopsy|\w+skopie\b|\w+scopy\b|\bAnlage\b|placement|\bplaced\b|\binserted\b|\bStaging\b", re.I),
    ("systemic", None, r"Chemo(?!radio)\w*|\bZyklen\b|\bZyklus\b|\bcycles?\b|\bADT\b|Hormontherap\w*|endokrin\w*|endocrine|Immuntherap\w*|immunotherap\w*|Systemtherap\w*|systemic", re.I),
    ("rt", None, r"Bestrahlung\w*|bestrahlt|Strahlentherap\w*|Radiotherap\w*|Radiatio\b|radiation therapy|irradiat\w*|\bRT\b|\bRCT\b|\bCRT\b|Radiochemo\w*|chemoradio\w*|\bBoost\w*|Fraktion\w*|fraction\w*", re.I),
    ("rt", "final", r"Abschlussuntersuchung|final examination", re.I),
    ("followup", None, r"Nachsorge\w*|Kontrolle\w*|Wiedervorstellung|Vorstellung|\bTermin\w*|follow[- ]?up|\bcheck\w*|\bvisit\w*|\breview\w*|\bAmbulanz\b|\bclinic\b", re.I),
]
_END_STRONG = re.compile(r"Abschlu(?:ss|ß)\w*|abgeschlossen|beendet|beendigt|\bendete\b|\bEnde\b|Therapieende|completed|completion|finished|\bended\b|\bend of\b", re.I)
_START_STRONG = re.compile(r"\bBeginn\w*|begonnen|\bbegann\b|\bstarted\b|\bstart\b|\bbegan\b|commenced|\bseit\b|\bsince\b", re.I)
_END_WEAK = re.compile(r"(?:\bbis(?: zum)?|\bto|\buntil|\btill)\s*$", re.I)
_START_WEAK = re.compile(r"(?:\bab|\bvom|\bfrom)\s*$", re.I)
_RANGE_SEP = re.compile(r"^\s*(?:–|-|—|bis(?: zum)?|to|until|till|and)\s*$", re.I)


def _events(case: Case) -> dict:
    """Dates of the case by event type: {type: {'all': set, 'start': set, 'end': set}}."""
    ev: dict[str, dict[str, set]] = {k: {"all": set(), "start": set(), "end": set()} for k in ("birth", "diagnosis", "surgery", "systemic", "rt", "followup")}

    def add(kind, d, endpoint=None):
        if d is None:
            return
        ev[kind]["all"].add(d)
        if endpoint:
            ev[kind][endpoint].add(d)

    add("birth", case.patient.birth_date)
    add("diagnosis", case.main_diagnosis.date_of_diagnosis)
    for s in case.prior_treatments.surgeries:
        add("surgery", s.date)
    for s in case.prior_treatments.systemic:
        add("systemic", s.start_date, "start")
        add("systemic", s.end_date, "end")
    for c in case.radiotherapy_courses:
        add("rt", c.start_date, "start")
        add("rt", c.end_date, "end")
    end = case.rt_end
    for v in case.follow_up.visits:
        add("followup", end + dt.timedelta(weeks=v.after_weeks))
    add("followup", end + dt.timedelta(weeks=case.follow_up.first_visit_weeks))
    return ev


def _periods(case: Case) -> list[tuple[dt.date, dt.date, str]]:
    out = [(c.start_date, c.end_date, "rt") for c in case.radiotherapy_courses]
    out.append((case.rt_start, case.rt_end, "rt"))
    cs = sorted(case.radiotherapy_courses, key=lambda c: c.start_date)
    for i in range(len(cs)):
        for j in range(i + 1, len(cs)):
            out.append((cs[i].start_date, cs[j].end_date, "rt"))
    out += [(s.start_date, s.end_date, "systemic") for s in case.prior_treatments.systemic if s.end_date]
    return out


def _same(v, d: dt.date) -> bool:
    """A letter's date value (a date or (year, month)) names the date d."""
    if isinstance(v, dt.date):
        return v == d
    return isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int) and (v[0], v[1]) == (d.year, d.month)


def _in(v, ds) -> bool:
    return any(_same(v, d) for d in ds)


def _value_str(v) -> str:
    return v.isoformat() if isinstance(v, dt.date) else f"{v[0]}-{v[1]:02d}"


def _ranges(text: str, hits) -> list[tuple[int, int]]:
    """Index pairs (i, j) of date hits that form a range ('vom X bis Y', 'X–Y', 'from X to Y')."""
    out = []
    for i in range(len(hits) - 1):
        a, b, v = hits[i]
        c, d, w = hits[i + 1]
        between = text[b:c]
        if _RANGE_SEP.match(between):
            if re.match(r"^\s*and\s*$", between, re.I) and not re.search(r"(?:between|zwischen)\s*$", text[max(0, a - 12) : a], re.I):
                continue
            out.append((i, i + 1))
    return out


_PROC_GENERIC = {_norm(w) for w in ("Therapie", "therapy", "Behandlung", "treatment", "Operation", "surgery", "Eingriff", "procedure",
                                      "links", "rechts", "left", "right", "beidseits", "bilateral")}


def _procedure_keys(case: Case) -> list[tuple[list[str], dt.date]]:
    """Per surgery/procedure the (up to two) words that name it and its date."""
    out = []
    for s in case.prior_treatments.surgeries:
        ws = [w for _, _, w in _words(s.procedure) if len(w) >= 6 and w not in _PROC_GENERIC][:2]
        if ws:
            out.append((ws, s.date))
    return out


def _systemic_keys(case: Case) -> list[str]:
    ws = set()
    for s in case.prior_treatments.systemic:
        for x in [s.regimen, *s.agents]:
            ws |= {w for _, _, w in _words(x) if len(w) >= 4}
    for c in case.radiotherapy_courses:
        if c.concurrent_chemotherapy:
            ws |= {w for _, _, w in _words(c.concurrent_chemotherapy) if len(w) >= 6}
    return sorted(ws)


def _cues(case: Case, text: str, a: int, b: int):
    """Event cues in text[a:b]: (start, end, type, endpoint, allowed dates or None)."""
    out = []
    for kind, endpoint, pat, fl in _CUES:
        for m in re.finditer(pat, text[a:b], fl):
            out.append((a + m.start(), a + m.end(), kind, endpoint, None))
    words = _words(text, a, b)
    named = []
    for keys, d in _procedure_keys(case):
        for s, e, w in words:
            if any(_similar(w, k) for k in keys):
                named.append((s, e, "surgery", None, {d}))
    # a word that names one of the case's procedures binds to that procedure's date only
    out = [c for c in out if not (c[2] == "surgery" and _overlaps(c[0], c[1], [(x[0], x[1]) for x in named]))] + named
    sys_keys = _systemic_keys(case)
    for s, e, w in words:
        if any(_similar(w, k) for k in sys_keys):
            out.append((s, e, "systemic", None, None))
    return out


def date_flags(case: Case, text: str, date_hits, ok_dates: set, ok_months: set, dose_hits=(), frac_hits=()) -> list[Flag]:
    """Dates bound to their events: ranges to the case's periods, single dates to the event word
    nearest to them. Only dates the case has somewhere are flagged (others are the value check's)."""
    hits = sorted((a, b, v) for a, b, v in date_hits if isinstance(v, dt.date) or (isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int)))

    def backed(v) -> bool:
        return v in ok_dates if isinstance(v, dt.date) else (v[0], v[1]) in ok_months

    pairs = _ranges(text, hits)
    out = _range_flags(case, text, hits, pairs, backed, _course_numbers(case, dose_hits, frac_hits))
    in_range = {i for pair in pairs for i in pair}
    return out + _single_date_flags(case, text, hits, in_range, backed)


def _range_flags(case: Case, text: str, hits, pairs, backed, numbers) -> list[Flag]:
    ev = _events(case)
    periods = _periods(case)
    courses = case.radiotherapy_courses
    out: list[Flag] = []

    def flag(i):
        a, b, v = hits[i]
        if backed(v):
            out.append(Flag(a, b, "date_event_mismatch", _value_str(v)))

    for i, j in pairs:
        x, y = hits[i][2], hits[j][2]
        if any(_same(x, p) and _same(y, q) for p, q, _ in periods):
            # one course's period: its context must not name another course only (a boost's dates
            # stand beside the word boost or the boost's target)
            K = {ci for ci, c in enumerate(courses) if _same(x, c.start_date) and _same(y, c.end_date)}
            if len(courses) > 1 and K and not _in_any_period(x, y, periods, exclude=K, courses=courses):
                evidence = _context_evidence(case, text, hits[i][0], hits[j][1], numbers=numbers)
                sentence = text[slice(*_sentence_bounds(text, hits[i][0], semicolon=False))]
                if evidence:
                    wrong = not any(e & K for e in evidence)
                else:
                    # nothing names a course: a boost's dates, or one course's dates given for the
                    # patient's whole treatment ('die vom … bis … durchgeführte Strahlentherapie')
                    wrong = all(courses[ci].is_boost for ci in K) or (_EPISODE.search(sentence) and not _BOOST.search(sentence))
                if wrong:
                    out.append(Flag(hits[i][0], hits[j][1], "date_event_mismatch", f"{_value_str(x)}/{_value_str(y)}"))
            continue
        sa, sb = _sentence_bounds(text, hits[i][0])
        cues = _cues(case, text, sa, sb)
        kinds = {k for _, _, k, _, _ in cues}
        cand = [p for p in periods if p[2] in kinds] or periods
        starts, ends = any(_same(x, p) for p, _, _ in cand), any(_same(y, q) for _, q, _ in cand)
        lead = [c for c in cues if 0 <= hits[i][0] - c[1] <= 4 and re.fullmatch(r"[\s:(]*", text[c[1] : hits[i][0]])]
        if lead and lead[0][2] not in ("rt", "systemic"):
            # 'ED 10.2.2023–27.10.2023': the first date is the diagnosis' (or not); the second is
            # no end of a diagnosis
            kind, specific = lead[0][2], lead[0][4]
            flag(i if not _in(x, specific or ev[kind]["all"]) else j)
            continue
        if starts != ends:
            flag(j if starts else i)
        elif backed(x) and backed(y):
            # both ends are the case's, of different periods (or neither is): the range as a whole
            out.append(Flag(hits[i][0], hits[j][1], "date_event_mismatch", f"{_value_str(x)}/{_value_str(y)}"))
        else:
            flag(i)
            flag(j)
    return out


def _single_date_flags(case: Case, text: str, hits, in_range: set[int], backed) -> list[Flag]:
    """Each date takes the event cue nearest to it in its sentence; a cue right beside a date
    ("geb. 4.4.1957", "ED 03/2029") is that date's alone."""
    ev = _events(case)
    out: list[Flag] = []
    by_sentence: dict[tuple[int, int], list[int]] = {}
    for i in range(len(hits)):
        by_sentence.setdefault(_sentence_bounds(text, hits[i][0]), []).append(i)
    for (sa, sb), idx in by_sentence.items():
        cues = _cues(case, text, sa, sb)
        cues = [c for c in cues if not any(hits[k][0] <= c[0] < hits[k][1] for k in idx)]
        claimed: dict[int, list] = {}
        free = []
        for c in cues:
            imm = [k for k in idx if 0 <= hits[k][0] - c[1] <= 4 and re.fullmatch(r"[\s:(]*", text[c[1] : hits[k][0]])]
            imm += [k for k in idx if 0 <= c[0] - hits[k][1] <= 3 and re.fullmatch(r"[\s:)]*", text[hits[k][1] : c[0]]) and c[2] != "birth"]
            if c[2] == "birth" and text[c[0]:c[1]] == "*" and not imm:
                continue
            if c[2] == "diagnosis" and text[c[0]:c[1]] in ("ED", "dx") and not imm:
                continue  # 'ED' is also the dose per fraction
            if imm:
                claimed.setdefault(imm[0], []).append((0, c))
            else:
                free.append(c)
        for c in free:
            k = min(idx, key=lambda k: _dist(hits[k], c, text))
            if k in claimed and any(d == 0 for d, _ in claimed[k]):
                # the nearest date has its own cue: give this one to the next nearest without one
                rest = [k2 for k2 in idx if not (k2 in claimed and any(d == 0 for d, _ in claimed[k2]))]
                if not rest:
                    continue
                k = min(rest, key=lambda k2: _dist(hits[k2], c, text))
            claimed.setdefault(k, []).append((_dist(hits[k], c, text), c))
        for k in idx:
            if k in in_range:
                continue
            a, b, v = hits[k]
            if not backed(v):
                continue
            if k not in claimed:
                # no event word, but 'abgeschlossen' / 'Beginn': the radiotherapy's end / start
                ep = _endpoint(text, sa, sb, a, b, strong_only=True)
                if ep and not _in(v, _rt_endpoint_dates(case, text, a, b, ep)):
                    out.append(Flag(a, b, "date_event_mismatch", _value_str(v)))
                continue
            ranked = sorted(claimed[k], key=lambda t: t[0])
            best = ranked[0][0]
            chosen = [c for d, c in ranked if d <= best + 3]
            allowed: set = set()
            for _, _, kind, endpoint, specific in chosen:
                ep = endpoint or _endpoint(text, sa, sb, a, b)
                if specific is not None:
                    allowed |= specific
                elif kind == "rt" and ep:
                    allowed |= _rt_endpoint_dates(case, text, a, b, ep)
                elif ep and ev[kind].get(ep):
                    allowed |= ev[kind][ep]
                else:
                    allowed |= ev[kind]["all"]
            if allowed and not _in(v, allowed):
                out.append(Flag(a, b, "date_event_mismatch", _value_str(v)))
    return out


def _rt_endpoint_dates(case: Case, text: str, a: int, b: int, ep: str) -> set[dt.date]:
    """Dates a radiotherapy 'end' / 'start' ('final': the final examination) at text[a:b] may be:
    those of the courses its clause names; with none named, the whole radiotherapy's where the
    sentence speaks of the patient's treatment ('Frau X hat die Strahlentherapie am … beendet',
    'who completed radiotherapy in our department on …'), else any course's."""
    courses = case.radiotherapy_courses
    if ep == "final":
        return {case.rt_end}
    key = "end_date" if ep == "end" else "start_date"
    evidence = _context_evidence(case, text, a, b, clause_only=True)
    if evidence:
        named = set().union(*evidence)
        return {getattr(courses[i], key) for i in named}
    sa, sb = _sentence_bounds(text, a, semicolon=False)
    if _EPISODE.search(text[sa:sb]) and not _BOOST.search(text[sa:sb]):
        return {case.rt_end if ep == "end" else case.rt_start}
    return {getattr(c, key) for c in courses}


def _in_any_period(x, y, periods, exclude: set[int], courses) -> bool:
    """x–y is also a period of the case other than the courses in ``exclude`` (the whole
    radiotherapy, a systemic therapy)."""
    own = {(courses[i].start_date, courses[i].end_date) for i in exclude}
    return any(_same(x, p) and _same(y, q) and (p, q) not in own for p, q, _ in periods)


def _evidence_in(case: Case, uniq: list[set[str]], text: str, a: int, b: int) -> list[set[int]]:
    """Courses named in text[a:b]: one set of course indices per target word only that course's
    target has, and one for 'Boost' (the boost courses)."""
    out = []
    if b <= a:
        return out
    for _, _, w in _words(text, a, b):
        # 'Brust' names the 'Restbrust': a target word may also stand inside a longer one
        hit = {i for i, ws in enumerate(uniq) if any(_similar(w, x) or (min(len(w), len(x)) >= 5 and (w in x or x in w)) for x in ws)}
        if hit:
            out.append(hit)
    seg = text[a:b]
    if _BOOST.search(seg) and not _SIB.search(seg):
        out.append({i for i, c in enumerate(case.radiotherapy_courses) if c.is_boost})
    return out


def _course_numbers(case: Case, dose_hits, frac_hits) -> list[tuple[int, int, set[int]]]:
    """Doses and fraction counts of the letter that belong to some of the case's courses only:
    (start, end, those courses)."""
    cs = case.radiotherapy_courses
    out = []
    for a, b, v in dose_hits:
        k = {i for i, c in enumerate(cs) if _close(v, c.dose_per_fraction_gy) or _close(v, c.total_dose_gy)}
        if k and len(k) < len(cs):
            out.append((a, b, k))
    for a, b, n in frac_hits:
        k = {i for i, c in enumerate(cs) if c.fractions == n}
        if k and len(k) < len(cs):
            out.append((a, b, k))
    return out


def _context_evidence(case: Case, text: str, a: int, b: int, clause_only: bool = False, numbers=()) -> list[set[int]]:
    """Courses named around text[a:b] by target words or 'Boost': in its clause (from a connector
    or ';' before it up to one or a ':' after it: '…, danach Boost …', 'Abschlussuntersuchung am
    …: Ödem der Brust'); else (unless ``clause_only``) up to the connector words around it ('RT 2
    (Boost): Tumorbett; …; 23.10.–27.10.2023'), the line above an indented continuation line, or
    the labelled lines above. Only where no word names a course, a course's own doses or fraction
    count in that stretch do (``numbers``, see :func:`_course_numbers`)."""
    uniq = _course_words(case)
    sa, sb = _sentence_bounds(text, a, semicolon=False)
    cuts_before = list(_REGION_SPLIT.finditer(text, sa, a))
    cut_after = _CLAUSE_AFTER.search(text, b, sb)
    clause = (cuts_before[-1].start() if cuts_before else sa, cut_after.start() if cut_after else sb)
    regions = [clause]
    if not clause_only:
        words_before = list(_CONNECTOR.finditer(text, sa, a))
        word_after = _CONNECTOR.search(text, b, sb)
        regions.append((words_before[-1].start() if words_before else sa, word_after.start() if word_after else sb))
        line_start = text.rfind("\n", 0, a) + 1
        if re.match(r"[ \t]+\S", text[line_start:a + 1]) and line_start > 0:
            regions.append((text.rfind("\n", 0, line_start - 1) + 1, line_start - 1))
        elif sa == line_start:
            regions.append(_block_above(text, sa, []))
    found = _evidence_in(case, uniq, text, *regions[0])
    if not found:
        found = [e for lo, hi in regions[1:] for e in _evidence_in(case, uniq, text, lo, hi)]
    if found:
        return found
    lo, hi = regions[1] if len(regions) > 1 else regions[0]
    return [k for x, y, k in numbers if lo <= x and y <= hi]


def _dist(hit, cue, text: str = "") -> float:
    a, b, _ = hit
    s, e = cue[0], cue[1]
    if e <= a:
        return a - e
    if s >= b:
        # a cue before its date is the usual order; one in a parenthesis after it is an aside
        return (s - b) * 1.5 + 1 + (10 if "(" in text[b:s] else 0)
    return 0.0


def _endpoint(text: str, sa: int, sb: int, a: int, b: int, strong_only: bool = False) -> str | None:
    """'end' / 'start' when the sentence says which end of a therapy the date is ('bis', 'ab'
    right before it; 'abgeschlossen', 'Beginn' in the sentence), else None."""
    before = text[max(sa, a - 14) : a]
    if not strong_only and _END_WEAK.search(before):
        return "end"
    if not strong_only and _START_WEAK.search(before):
        return "start"
    # else the nearest 'abgeschlossen' / 'Beginn' word of the sentence, within 40 characters
    best = None
    for pat, ep in ((_END_STRONG, "end"), (_START_STRONG, "start")):
        for m in pat.finditer(text, sa, sb):
            d = a - m.end() if m.end() <= a else (m.start() - b if m.start() >= b else 0)
            if 0 <= d <= 40 and (best is None or d < best[0]):
                best = (d, ep)
    if best:
        return best[1]
    seg = text[sa:sb]
    ends, starts = bool(_END_STRONG.search(seg)), bool(_START_STRONG.search(seg))
    return "end" if ends and not starts else "start" if starts and not ends else None


# ---------------------------------------------------------------- dose statements

_CONNECTOR = re.compile(r"\b(?:und|and|sowie|plus|gefolgt|followed|anschließend|danach|then|zusätzlich|additionally|sequenziell\w*|sequential\w*)\b|\+", re.I)
_REGION_SPLIT = re.compile(_CONNECTOR.pattern + r"|;", re.I)
_CLAUSE_AFTER = re.compile(_REGION_SPLIT.pattern + r"|:\s", re.I)
_DPF_BEFORE = re.compile(r"(?:[x×]|\bà|\ba|\bzu(?:\s+je)?|\bje|\bof|\bED|Einzeldosis|Einzel-Dosis|single dose|dose per fraction|fraction dose|Fraktionsdosis)\s*:?\s*$", re.I)
_TOTAL_BEFORE = re.compile(r"(?:\bbis|\bto|=|\bad|\bauf|\bGD|Gesamtdosis|Gesamt-Dosis|total dose(?:\s+of)?|\btotal(?:\s+of)?|in total|insgesamt|kumulativ\w*|cumulative(?:\s+dose)?(?:\s+of)?|Gesamtdosis von)\s*:?\s*$", re.I)
_DPF_AFTER = re.compile(r"^\s*(?:pro|per|/|je)\s*(?:Fraktion|fraction|Fx|Sitzung|session)|^\s*\(?(?:ED|Einzeldosis)\b", re.I)
_TOTAL_AFTER = re.compile(r"^\s*(?:in|mit|über|over|/|at|with)\s*\d{1,2}\s*(?:Fraktionen|Fraktion|fractions|fraction|Fx|Sitzungen|sessions)|^\s*\(?(?:GD|Gesamtdosis|total)\b", re.I)
_BOOST = re.compile(r"\bBoost\w*|\bAufsättigung\w*|\bboost\w*", re.I)
_EPISODE = re.compile(r"\b(?:Frau|Herrn?|Mrs|Mr|Ms|Patient\w*|wir|we|our|unser\w*|uns|us)\b", re.I)
"""Words of a sentence about the patient's treatment as a whole (not about one course)."""
_SIB = re.compile(r"integriert\w*\s+Boost|integrated\s+boost|\bSIB\b", re.I)


@dataclass
class _Statement:
    start: int
    end: int
    fractions: list[int]
    dpf: list[float]
    total: list[float]
    unknown: list[float]


def _dose_statements(text: str, dose_hits, frac_hits) -> list[tuple[_Statement, tuple[int, int]]]:
    toks = sorted([(a, b, "d", v) for a, b, v in dose_hits] + [(a, b, "n", v) for a, b, v in frac_hits])
    # a fraction word inside a dose ("einmalig 8 Gy": the word, then the dose) stays its own token
    out = []
    cur: list = []
    seg = None

    def close():
        if cur:
            out.append((_build(text, cur), seg))

    for t in toks:
        s = _sentence_bounds(text, t[0])
        if cur:
            prev = cur[-1]
            between = text[prev[1] : t[0]]
            has_n = any(x[2] == "n" for x in cur)
            n_doses = sum(1 for x in cur if x[2] == "d")
            if (s != seg or len(between) > 40 or _CONNECTOR.search(between) or (t[2] == "n" and has_n)
                    or (t[2] == "d" and n_doses >= 2) or re.search(r"\d{1,2}\.\d{1,2}\.|\d{4}", between)):
                close()
                cur = []
        if not cur:
            seg = s
        cur.append(t)
    close()
    return out


def _build(text: str, toks) -> _Statement:
    st = _Statement(toks[0][0], toks[-1][1], [], [], [], [])
    for i, (a, b, kind, v) in enumerate(toks):
        if kind == "n":
            st.fractions.append(v)
            continue
        before = text[max(0, a - 24) : a]
        prev_end = toks[i - 1][1] if i else None
        if prev_end is not None and prev_end > a - 24:
            before = text[prev_end:a]
        after = text[b : b + 30]
        if _TOTAL_BEFORE.search(before) or _TOTAL_AFTER.search(after):
            st.total.append(v)
        elif _DPF_BEFORE.search(before) or _DPF_AFTER.search(after):
            st.dpf.append(v)
        else:
            st.unknown.append(v)
    return st


def _course_words(case: Case) -> list[set[str]]:
    """Per course the words of its target region that no other course's target has."""
    sides = {"links", "rechts", "left", "right", "beidseits", "bilateral"}
    ws = [{w for _, _, w in _words(c.target_region) if len(w) >= 4 and w not in {_norm(x) for x in sides}}
          for c in case.radiotherapy_courses]
    out = []
    for i, s in enumerate(ws):
        others = set().union(*(ws[j] for j in range(len(ws)) if j != i)) if len(ws) > 1 else set()
        out.append({w for w in s if not any(_similar(w, o) for o in others)})
    return out


def dose_flags(case: Case, text: str, dose_hits, frac_hits, date_hits) -> list[Flag]:
    courses = case.radiotherapy_courses
    rows = [(c.fractions, c.dose_per_fraction_gy, c.total_dose_gy) for c in courses]
    n_real = len(rows)
    if len(rows) > 1:
        dpfs = {round(c.dose_per_fraction_gy, 2) for c in courses}
        rows.append((sum(c.fractions for c in courses), dpfs.pop() if len(dpfs) == 1 else None, sum(c.total_dose_gy for c in courses)))
    uniq = _course_words(case)
    periods = _periods(case)
    stmts = _dose_statements(text, dose_hits, frac_hits)
    dates = sorted((a, b, v) for a, b, v in date_hits if isinstance(v, dt.date))
    out: list[Flag] = []

    def match(n=None, d=None, D=None, u=None) -> set[int]:
        got = set()
        for i, (fx, dpf, tot) in enumerate(rows):
            if n is not None and n != fx:
                continue
            if d is not None and (dpf is None or not _close(d, dpf)):
                continue
            if D is not None and not _close(D, tot):
                continue
            if u is not None and not ((dpf is not None and _close(u, dpf)) or _close(u, tot)):
                continue
            got.add(i)
        return got

    for k, (st, (sa, sb)) in enumerate(stmts):
        n = st.fractions[0] if st.fractions else None
        d = st.dpf[0] if st.dpf else None
        D = st.total[0] if st.total else None
        u = list(st.unknown)
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
        known = sum(x is not None for x in (n, d, D))
        value = f"{n if n is not None else '?'} x {d:g} Gy = {D:g} Gy" if d is not None and D is not None else ""
        if n is not None and d is not None and D is not None:
            M = match(n, d, D)
            if not M:
                if abs(n * d - D) > max(DOSE_TOLERANCE_GY, 0.005 * n) + 1e-9:
                    out.append(Flag(st.start, st.end, "dose_arithmetic", value))
                else:
                    out.append(Flag(st.start, st.end, "dose_course_mismatch", value))
                continue
        elif known >= 2:
            M = match(n, d, D)
            if not M:
                parts = [f"{n} fractions" if n is not None else "", f"{d:g} Gy/fraction" if d is not None else "", f"{D:g} Gy total" if D is not None else ""]
                out.append(Flag(st.start, st.end, "dose_course_mismatch", ", ".join(p for p in parts if p)))
                continue
        elif n is not None and u:
            M = match(n, u=u[0])
            if not M:
                out.append(Flag(st.start, st.end, "dose_course_mismatch", f"{n} fractions, {u[0]:g} Gy"))
                continue
        else:
            continue
        if any(i >= n_real for i in M) or n_real < 2:
            continue
        # which course does the statement's context name? Its sentence or line (';' does not end
        # it); text between two statements belongs to the second after a connector ('danach
        # Boost …', '; Boost …'), else to the first
        sa, sb = _sentence_bounds(text, st.start, semicolon=False)
        same = lambda j: 0 <= j < len(stmts) and _sentence_bounds(text, stmts[j][0].start, semicolon=False) == (sa, sb)  # noqa: E731
        lo, hi = sa, sb
        if same(k - 1):
            c = _REGION_SPLIT.search(text, stmts[k - 1][0].end, st.start)
            lo = c.start() if c else st.start
        if same(k + 1):
            c = _REGION_SPLIT.search(text, st.end, stmts[k + 1][0].start)
            hi = c.start() if c else stmts[k + 1][0].start
        regions = [(lo, hi, True), (*_continuation_below(text, sb, dose_hits), True)]
        if lo == sa:
            regions.append((*_block_above(text, sa, dose_hits), False))
        evidence: list[set[int]] = []
        for ra, rb, own in regions:
            if rb <= ra:
                continue
            evidence += _evidence_in(case, uniq, text, ra, rb)
            rd = [h for h in dates if ra <= h[0] < rb]
            for i, j in _ranges(text, rd):
                x, y = rd[i][2], rd[j][2]
                hit = {ci for ci, c in enumerate(courses) if c.start_date == x and c.end_date == y}
                if hit:
                    evidence.append(hit)
                elif own and len(M) == 1 and any(p == x and q == y for p, q, _ in periods):
                    # another period of the case (the whole radiotherapy) written for this one course
                    c = courses[next(iter(M))]
                    for (ha, hb, v), want in ((rd[i], c.start_date), (rd[j], c.end_date)):
                        if v != want:
                            out.append(Flag(ha, hb, "date_event_mismatch", v.isoformat()))
        if evidence and not any(e & M for e in evidence):
            out.append(Flag(st.start, st.end, "dose_course_mismatch", value or f"course {min(M) + 1}"))
    return out


def _block_above(text: str, sa: int, dose_hits) -> tuple[int, int]:
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


def _continuation_below(text: str, sb: int, dose_hits) -> tuple[int, int]:
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


# ---------------------------------------------------------------- laterality

_SIDE = re.compile(r"\b(links|rechts|linksseitig\w*|rechtsseitig\w*|linke[nmrs]?|rechte[nmrs]?|left|right|left-sided|right-sided)\b", re.I)
_SIDE_STOP = {_norm(w) for w in ("und", "and", "mit", "with", "der", "die", "das", "des", "dem", "den", "the", "of", "bei", "from", "von", "im", "in",
                                  "auf", "to", "eine", "ein", "einer", "a", "an", "sowie", "nach", "after", "for", "für", "zur", "zum", "ohne")}


_SIDE_BREAK = re.compile(r"\b(?:bei|from|nach|after|seit|since|wegen|durch|infolge|due to|secondary to|of|von)\b", re.I)


def _side_of(word: str) -> str:
    w = word.lower()
    return "L" if w.startswith(("link", "left")) else "R"


def _side_neighbours(text: str, a: int, b: int, span: int = 3) -> list[tuple[int, str]]:
    """Content words next to a side word within its phrase (not across '(', ')', ';', '.', line):
    (distance in words, normalised word)."""
    lo = max(text.rfind(ch, 0, a) for ch in "();\n.:")
    if re.search(r"\)\s*$", text[lo:a] if lo >= 0 else "") or (lo >= 0 and text[lo] == ")" and not text[lo + 1 : a].strip()):
        # 'Karzinom (Tonsille) links': the parenthesis belongs to the phrase
        open_ = text.rfind("(", 0, lo)
        if open_ >= 0:
            lo = max(text.rfind(ch, 0, open_) for ch in "();\n.:")
    hi_c = [x for x in (text.find(ch, b) for ch in "();\n.:") if x >= 0]
    hi = min(hi_c) if hi_c else len(text)
    # a preposition starts another phrase ('Metastase Os ilium rechts bei Mammakarzinom')
    brk = [m.end() for m in _SIDE_BREAK.finditer(text, lo + 1, a)]
    lo = max([lo] + [x - 1 for x in brk])
    m = _SIDE_BREAK.search(text, b, hi)
    hi = m.start() if m else hi
    # a comma ends the phrase, except right after the side word's own noun ("Breast cancer, left")
    before = [w for w in _words(text, lo + 1, a) if w[2] not in _SIDE_STOP and len(w[2]) >= 3]
    after = [w for w in _words(text, b, hi) if w[2] not in _SIDE_STOP and len(w[2]) >= 3]
    out = []
    for i, (s, e, w) in enumerate(reversed(before[-span:])):
        if "," in text[e:a] and i > 0 and not re.fullmatch(r",\s*", text[e:a]):
            break
        out.append((i + 1, w))
    for i, (s, e, w) in enumerate(after[:span]):
        if "," in text[b:s]:
            break
        out.append((i + 1, w))
    return out


def _side_map(case: Case) -> dict[str, set[str]]:
    """Normalised anatomical word -> the sides the case gives it."""
    texts = [case.main_diagnosis.text, *(c.target_region for c in case.radiotherapy_courses),
             *(s.procedure for s in case.prior_treatments.surgeries), *(s.text for s in case.secondary_diagnoses),
             *case.findings_at_end, *case.recommendations]
    m: dict[str, set[str]] = {}
    for t in texts:
        for sm in _SIDE.finditer(t):
            for _, w in _side_neighbours(t, sm.start(), sm.end()):
                m.setdefault(w, set()).add(_side_of(sm.group()))
        for bm in re.finditer(r"\b(beidseits|beidseitig\w*|bilateral\w*|both sides)\b", t, re.I):
            for _, w in _side_neighbours(t, bm.start(), bm.end()):
                m.setdefault(w, set()).update({"L", "R"})
    lat = case.main_diagnosis.laterality
    if lat in (Laterality.left, Laterality.right):
        s = "L" if lat == Laterality.left else "R"
        for _, _, w in _words(case.main_diagnosis.text):
            if len(w) >= 4 and not _SIDE.fullmatch(w):
                m.setdefault(w, set()).add(s)
    return m


def laterality_flags(case: Case, text: str, icd_hits) -> list[Flag]:
    smap = _side_map(case)
    out = []
    if smap:
        for sm in _SIDE.finditer(text):
            side = _side_of(sm.group())
            known = []
            for dist, w in sorted(_side_neighbours(text, sm.start(), sm.end())):
                sides = next((v for k, v in smap.items() if _similar(w, k)), None)
                if sides is not None:
                    known.append(sides)
            # words the case gives one side decide; words it gives both sides only count without them
            decisive = [s for s in known if len(s) == 1] or known
            if decisive and not any(side in s for s in decisive):
                out.append(Flag(sm.start(), sm.end(), "laterality_mismatch", sm.group()))
    lat = case.main_diagnosis.laterality
    parts = case.main_diagnosis.icd10.split()
    case_mark = parts[1] if len(parts) > 1 and parts[1] in "LRB" else None
    main = parts[0]
    for a, b, code in icd_hits:
        m = re.match(r"[ \t]?([LRB])\b", text[b : b + 3])
        if not m or code != main:
            continue
        want = case_mark or {Laterality.left: "L", Laterality.right: "R", Laterality.bilateral: "B"}.get(lat)
        if want and m.group(1) != want:
            out.append(Flag(b + m.start(1), b + m.end(1), "laterality_mismatch", f"{code} {m.group(1)}"))
    return out


# ---------------------------------------------------------------- codes

_ICD_LABEL = re.compile(r"\bICD(?:[- ]?(\d{1,2}))?(?:-GM|-CM|-WHO)?(?![-\w])(?:\s*(?:Code|Kode))?\s*:?\s*", re.I)
_CODEISH = re.compile(r"(?<![\w.])([A-Z])(\d{1,4})(?:\.(\d{0,4}))?(?![\w.]*\s*Gy)(?!\w)")
_VALID_ICD10 = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,2})?$")
_NOT_A_CODE_BEFORE = re.compile(r"(?:CTCAE|Version|ECOG|WHO|ISUP|FIGO|UICC|Gleason|Grad|grade|Stadium|stage|Typ|type|NRS|AUC|HWK|BWK|LWK|SWK|Segment|Level|[A-Za-z]{2,}-)\s*$", re.I)


def code_flags(case: Case, text: str) -> list[Flag]:
    out: list[Flag] = []
    taken = []
    # a code label: 'ICD-10', 'ICD-10-GM', 'ICD 10' are valid; 'ICD-12', 'ICD-8' are not
    for m in _ICD_LABEL.finditer(text):
        ver = m.group(1)
        if re.match(r"ICD-?O", text[m.start() : m.start() + 5], re.I):
            continue
        code = _CODEISH.match(text, m.end())
        end = code.end() if code else m.end()
        label_bad = ver is not None and ver not in ("9", "10", "11")
        code_bad = code is not None and not _VALID_ICD10.match(code.group(0)) and ver in (None, "10")
        if label_bad or code_bad:
            start = m.start() if label_bad else code.start()
            out.append(Flag(start, end if code else m.end() - len(m.group(0)) + len(m.group(0).rstrip(" :")), "invalid_code",
                             text[start:end].strip()))
        taken.append((m.start(), end))
    # a parenthesised code after a diagnosis '(C504)', '(C9.3)', and any 'letter digit . digit' shape
    for m in _CODEISH.finditer(text):
        if _overlaps(m.start(), m.end(), taken):
            continue
        s = m.group(0)
        if _VALID_ICD10.match(s):
            continue
        letter, digits, sub = m.group(1), m.group(2), m.group(3)
        before = text[max(0, m.start() - 12) : m.start()]
        if _NOT_A_CODE_BEFORE.search(before):
            continue
        paren = bool(re.search(r"\(\s*$", before)) and bool(re.match(r"\s*[);,]", text[m.end() : m.end() + 2]))
        dotted = sub is not None and len(digits) in (1, 3, 4) and sub != ""
        if letter in "TNMGLVRP" and sub is None:
            continue  # TNM, grading, L/V/Pn/R components
        if dotted or (paren and len(digits) >= 3 and sub is None) or (sub is not None and len(sub) > 2 and len(digits) == 2):
            out.append(Flag(m.start(), m.end(), "invalid_code", s))
    return out


def _dx_spans(case: Case, text: str) -> list[tuple[int, int, str | None]]:
    """Occurrences of the case's diagnosis texts: (start, end, their ICD-10 code)."""
    out = []
    dxs = [(case.main_diagnosis.text, case.main_diagnosis.icd10)] + [(s.text, s.icd10) for s in case.secondary_diagnoses]
    for t, code in dxs:
        for m in re.finditer(r"\s+".join(re.escape(x) for x in t.split()), text, re.I):
            out.append((m.start(), m.end(), code.split()[0] if code else None))
    return out


def code_binding_flags(case: Case, text: str, icd_hits) -> list[Flag]:
    """An ICD-10 code of the case right after another diagnosis of the case."""
    spans = _dx_spans(case, text)
    if not spans:
        return []
    case_codes = {code for _, _, code in spans if code}
    main_code = case.main_diagnosis.icd10.split()[0]
    main_words = [w for _, _, w in _words(case.main_diagnosis.text) if len(w) >= 5 and not _SIDE.fullmatch(w)]
    out = []
    for a, b, code in icd_hits:
        if code not in case_codes:
            continue
        la, _ = _sentence_bounds(text, a)
        line_start = text.rfind("\n", 0, a) + 1
        lo = max(la, line_start)
        before = [s for s in spans if lo <= s[0] and s[1] <= a and not re.search(r"\b[A-Z]\d{2}\b|[;]", text[s[1] : a])]
        if not before:
            continue
        end = max(s[1] for s in before)
        best = max((s for s in before if s[1] == end), key=lambda s: s[1] - s[0])
        # the stretch this code closes: from the previous code (or the line's start) to the code
        prev_codes = [m.end() for m in re.finditer(r"\b[A-Z]\d{2}(?:\.\d{1,2})?\b", text[lo:best[0]])]
        stretch = lo + (prev_codes[-1] if prev_codes else 0)
        phrase = max([stretch] + [text.rfind(x, stretch, best[0]) + len(x) for x in (": ", ", ", "; ") if text.rfind(x, stretch, best[0]) >= 0])
        if re.search(r"\b(?:bei|from|of|with|nach|durch|wegen|infolge|due to|secondary to)\b", text[phrase : best[0]], re.I):
            continue  # 'Metastase … bei Mammakarzinom (C79.5)': the code is the head noun's
        if best[2] != main_code and any(_similar(w, m) for _, _, w in _words(text, stretch, best[0]) for m in main_words):
            continue  # 'Bone metastasis, L3, prostate cancer (C79.5)': the main diagnosis' words lead
        if best[2] and best[2] != code and len(text[best[1] : a]) <= 60:
            out.append(Flag(a, b, "code_mismatch", code))
    return out


# ---------------------------------------------------------------- TNM

def tnm_flags(case: Case, tnm_hits) -> list[Flag]:
    case_parts = _norm_tnm_parts(case.main_diagnosis.tnm or "")
    prefixes: dict[str, set[str]] = {}
    for p in case_parts:
        core = _tnm_core(p)
        prefixes.setdefault(core, set()).add(p[: len(p) - len(core)])
    out = []
    for a, b, p in tnm_hits:
        core = _tnm_core(p)
        if core not in prefixes:
            continue
        pre = p[: len(p) - len(core)]
        if pre and all(x for x in prefixes[core]) and pre not in prefixes[core]:
            out.append(Flag(a, b, "tnm_mismatch", p))
    return out


# ---------------------------------------------------------------- all binding checks

def binding_flags(case: Case, text: str, *, dose_hits, frac_hits, date_hits, grade_hits, tnm_hits, icd_hits,
                  ok_dates: set, ok_months: set) -> list[Flag]:
    """Every binding flag of the letter (before de-duplication against the value flags)."""
    out = []
    out += grade_flags(case, text, grade_hits)
    out += date_flags(case, text, date_hits, ok_dates, ok_months, dose_hits, frac_hits)
    out += dose_flags(case, text, dose_hits, frac_hits, date_hits)
    out += laterality_flags(case, text, icd_hits)
    out += tnm_flags(case, tnm_hits)
    out += code_flags(case, text)
    out += code_binding_flags(case, text, icd_hits)
    return out


# ---------------------------------------------------------------- expected facts

_HIST_STOP = {"und", "and", "mit", "with", "der", "die", "das", "the", "of", "von", "nst"}


def _tokens(s: str) -> list[str]:
    return [_norm(t) for t in re.findall(r"[^\W_]+", s) if t.lower() not in _HIST_STOP]


def _has_tokens(text_tokens: set[str], text_words: list[str], part: str) -> bool:
    toks = _tokens(part)
    if not toks:
        return True
    for t in toks:
        if t in text_tokens:
            continue
        if len(t) >= 5 and any(_similar(t, w) for w in text_words):
            continue
        return False
    return True


def expected_facts(case: Case, text: str, *, date_hits, grade_hits) -> list[tuple[str, str, bool]]:
    """(kind, value, present) for the facts beyond the value checks: histology (every comma part
    of it, e.g. receptor status), grading, date of first diagnosis (a date of the diagnosis not
    written for another event of that day), each concurrent chemotherapy with its agents and doses,
    each secondary diagnosis with its code."""
    d = case.main_diagnosis
    toks = set(_tokens(text))
    long_words = sorted({t for t in toks if len(t) >= 5})
    out = []
    if d.histology:
        parts = [p for p in re.split(r",\s*", d.histology) if p.strip()]
        out.append(("histology", d.histology, all(_has_tokens(toks, long_words, p) for p in parts)))
    if d.grading:
        out.append(("grading", d.grading, _grading_present(case, text, grade_hits)))
    if d.date_of_diagnosis:
        out.append(("date_of_diagnosis", d.date_of_diagnosis.isoformat(), _dx_date_present(case, text, date_hits)))
    seen = set()
    for c in case.radiotherapy_courses:
        chemo = c.concurrent_chemotherapy
        if chemo and chemo not in seen:
            seen.add(chemo)
            out.append(("concurrent_systemic", chemo, _chemo_present(case, chemo, text, toks, long_words)))
    for s in case.secondary_diagnoses:
        name_ok = _has_tokens(toks, long_words, s.text)
        code_ok = True
        if s.icd10:
            code = s.icd10.split()[0]
            code_ok = bool(re.search(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![0-9])", text))
        out.append(("secondary_diagnosis", f"{s.text} ({s.icd10})" if s.icd10 else s.text, name_ok and code_ok))
    return out


def _grading_present(case: Case, text: str, grade_hits) -> bool:
    """'G2' outside a toxicity's clause ('Fatigue G2' is a CTCAE grade); other gradings by their
    words and numbers."""
    g = (case.main_diagnosis.grading or "").strip()
    m = re.match(r"^G([1-4X])$", g)
    if m:
        keys = _tox_keys(case)
        for a, b, v in grade_hits:
            if _G_FORM.match(text[a:b]) and str(v) == m.group(1):
                lo, hi = _clause_bounds(text, a, b)
                if not _tox_mentions(case, text, lo, hi, keys):
                    return True
        return bool(re.search(rf"\bGrading:?\s*G?\s?{m.group(1)}\b|\bG\s{m.group(1)}\b", text, re.I))
    # other gradings ('Gleason 3+4=7 (ISUP 2)', 'CNS WHO Grad 4'): all their numbers and words
    flat = re.sub(r"\s+", "", text.lower()).replace("grade", "grad")
    want = re.sub(r"\s+", "", g.lower()).replace("grade", "grad")
    if want in flat:
        return True
    nums = re.findall(r"\d\+\d|\d+", g)
    return bool(nums) and all(re.search(rf"(?<![\d+]){re.escape(n)}(?![\d+])", text) for n in nums) and _has_tokens(set(_tokens(text)), [], re.sub(r"[\d+=()]", " ", g))


def _dx_date_present(case: Case, text: str, date_hits) -> bool:
    dx = case.main_diagnosis.date_of_diagnosis
    other = _events(case)
    for a, b, v in date_hits:
        if not _same(v, dx):
            continue
        # the date stands for the diagnosis unless its clause names another event of that date
        sa, sb = _sentence_bounds(text, a)
        cues = _cues(case, text, max(sa, a - 40), min(sb, b + 40))
        kinds = {k for _, _, k, _, _ in cues}
        if "diagnosis" in kinds or not kinds or not any(_in(v, other[k]["all"]) for k in kinds if k != "diagnosis"):
            return True
    return False


def _chemo_present(case: Case, chemo: str, text: str, toks: set[str], long_words: list[str]) -> bool:
    agents = []
    for s in case.prior_treatments.systemic:
        if s.intent == "concurrent" and any(_norm(a)[:5] in _norm(chemo) for a in s.agents):
            agents += s.agents
    if not agents:
        agents = [w for w in re.findall(r"[^\W\d_]{5,}", chemo) if _norm(w) not in {_norm(x) for x in ("täglich", "wöchentlich", "weekly", "daily", "twice", "CROSS")}]
    if not all(_has_tokens(toks, long_words, a) for a in agents):
        return False
    flat = re.sub(r"\s+", "", text.lower()).replace("m2", "m²")
    for dose in re.findall(r"\d+(?:[.,]\d+)?\s*(?:mg/m²|mg/m2|mg/kg|mg|AUC)|AUC\s*\d+(?:[.,]\d+)?", chemo):
        if re.sub(r"\s+", "", dose.lower()).replace("m2", "m²") not in flat:
            return False
    return True


def apply_binding(rep, case: Case, text: str, *, dose_hits, frac_hits, date_hits, grade_hits, tnm_hits, ok_dates: set, ok_months: set) -> None:
    """Add the binding flags (where the value checks left the text unflagged) and the widened
    expected facts to ``rep`` (a :class:`medletter.evaluate.facts.FactReport`)."""
    icd_hits = _find_icd10(text)
    bound = binding_flags(case, text, dose_hits=dose_hits, frac_hits=frac_hits, date_hits=date_hits, grade_hits=grade_hits,
                          tnm_hits=tnm_hits, icd_hits=icd_hits, ok_dates=ok_dates, ok_months=ok_months)
    taken = [(f.start, f.end) for f in rep.flags]
    for f in sorted(bound, key=lambda f: (f.start, f.end)):
        if _overlaps(f.start, f.end, taken):
            continue
        taken.append((f.start, f.end))
        rep.unsupported.append((f.kind, f.value))
        rep.flags.append(f)
    for kind, value, present in expected_facts(case, text, date_hits=date_hits, grade_hits=grade_hits):
        rep.expected.append((kind, value))
        (rep.found if present else rep.missing).append((kind, value))
