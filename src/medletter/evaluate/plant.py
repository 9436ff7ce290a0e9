"""Plant one error of a known kind into a letter, the way a model errs, for measuring the fact check.

Each planter takes a case, the letter text, its language and a ``random.Random`` and returns a
:class:`Planted` (the edited text and where the edit is) or None where the letter offers no place
for that error (a case with one course has no other course's numbers to swap in). Planters edit
what the letter says, found by the case's values, not by the synthetic generator's sentences.

Two sorts of kinds:

* *edit* kinds change a value in place; the check should flag text that overlaps the edit
  (``spans``). ``in_set`` tells whether every value the edit writes is one the case has somewhere
  (the value check cannot see such an edit; only binding can).
* *drop* kinds remove a fact; the check should list it in ``missing`` (``missing`` names the kind).

``PLANTERS`` maps kind -> planter; ``EXPECTED_FLAGS`` the flag kinds that count as catching an
edit kind; :func:`detected` decides.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from medletter import months as MO
from medletter.evaluate.factcheck.model import VALUE_KINDS
from medletter.evaluate.plant_base import Planted, _replace
from medletter.evaluate.plant_more import (plant_drop_concurrent_dose, plant_drop_dx_date, plant_drop_grading, plant_drop_histology,
                                           plant_drop_secondary_code, plant_invented_diagnosis, plant_repeated_diagnosis)
from medletter.records import Case
from medletter.textfmt import fmt_gy, fmt_num

__all__ = ["Planted", "PLANTERS", "EXPECTED_FLAGS", "VALUE_KINDS", "reformat_date"]


# ---------------------------------------------------------------- CTCAE grades

_GRADE_AFTER = (r"(?:[^\n.;]|\.(?=[.\s]))*?(?:CTCAE[\s-]*(?:v5(?:\.0)?)?\s*)?(?:(?:Grad|grade|Grade|G|°)\s*(?P<g>[0-5]|IV|I{1,3})(?![\dA-Za-z])"
                r"|(?P<d>[0-5]|IV|I{1,3})°)")
_GRADE_TABLE = r"[ \t]*(?:[|;–:-]|\s{2,})[ \t|]*(?P<g>[0-5]|IV|I{1,3})(?=[ \t|;]|$)"
_GRADE_BEFORE = r"(?:Grad|grade|Grade)[ \t]*(?P<g>[0-5]|IV|I{1,3})[ \t]+(?:\w+[ \t]+){0,2}?"
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_ROMAN_OF = {v: k for k, v in _ROMAN.items()}


def _grade_value(s: str) -> int:
    return _ROMAN[s] if s in _ROMAN else int(s)


def _written_as(g: int, like: str) -> str:
    """Grade g in the notation of ``like`` (Roman numerals stay Roman)."""
    return _ROMAN_OF.get(g, str(g)) if like in _ROMAN else str(g)


def _tox_grades(case: Case, text: str) -> list[tuple[int, int, int, str]]:
    """(toxicity index, position of the grade, grade, how it is written) for each toxicity stated with its grade:
    after the term ("Dermatitis Grad 2", "Mukositis °II", "Fatigue 1°"), before it ("grade 2 dermatitis"), or in a
    table's row ("Xerostomie      1")."""
    out = []
    for i, t in enumerate(case.toxicities):
        pat = r"\s+".join(re.escape(x) for x in t.term.split())
        for form in (pat + _GRADE_AFTER, _GRADE_BEFORE + pat, pat + _GRADE_TABLE):
            m = re.search(form, text, re.I | re.M)
            if not m:
                continue
            key = "g" if m.group("g") else "d"
            if _grade_value(m.group(key)) == t.grade:
                out.append((i, m.start(key), t.grade, m.group(key)))
                break
    return out


def plant_grade_swap(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """Two toxicities' grades swapped; with one toxicity (or equal grades), its grade changed (in the letter's own
    notation: "°II" stays Roman)."""
    found = _tox_grades(case, text)
    pairs = [(x, y) for x in found for y in found if x[0] < y[0] and x[2] != y[2]]
    if pairs:
        x, y = rng.choice(pairs)
        new, spans = _replace(text, [(x[1], x[1] + len(x[3]), _written_as(y[2], x[3])), (y[1], y[1] + len(y[3]), _written_as(x[2], y[3]))])
        return Planted("grade_swap", new, spans, in_set=True, note=f"{case.toxicities[x[0]].term}<->{case.toxicities[y[0]].term}")
    if not found:
        return None
    i, pos, g, like = rng.choice(found)
    ok = {t.grade for t in case.toxicities}
    gm = re.match(r"^G([1-4])$", case.main_diagnosis.grading or "")
    if gm:
        ok.add(int(gm.group(1)))
    other = sorted(ok - {g})
    new_g = rng.choice(other) if other else (g + 1 if g < 3 else g - 1)
    new, spans = _replace(text, [(pos, pos + len(like), _written_as(new_g, like))])
    return Planted("grade_swap", new, spans, in_set=bool(other), note=f"{case.toxicities[i].term}:{g}->{new_g}")


def plant_grading(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The tumour's grading (G1–G4 beside the histology) changed."""
    d = case.main_diagnosis
    m = re.match(r"^G([1-4])$", d.grading or "")
    if not m or not d.histology or d.histology not in text:
        return None
    at = text.index(d.histology) + len(d.histology)
    g = re.compile(r"(?<![A-Za-z0-9-])G([1-4])(?![A-Za-z0-9])").search(text, at, at + 24)
    if not g:
        return None
    old = int(g.group(1))
    tox = sorted({t.grade for t in case.toxicities} - {old} - {0})
    new_g = rng.choice(tox) if tox else (old + 1 if old < 3 else old - 1)
    new, spans = _replace(text, [(g.start(1), g.end(1), str(new_g))])
    return Planted("grading", new, spans, in_set=bool(tox), note=f"G{old}->G{new_g}")


# ---------------------------------------------------------------- dates

def _events(case: Case) -> list[tuple[dt.date, str]]:
    ev = [(case.patient.birth_date, "birth")]
    if case.main_diagnosis.date_of_diagnosis:
        ev.append((case.main_diagnosis.date_of_diagnosis, "diagnosis"))
    ev += [(s.date, f"surgery{i}") for i, s in enumerate(case.prior_treatments.surgeries)]
    for i, s in enumerate(case.prior_treatments.systemic):
        ev.append((s.start_date, f"systemic{i}.start"))
        if s.end_date:
            ev.append((s.end_date, f"systemic{i}.end"))
    for i, c in enumerate(case.radiotherapy_courses):
        ev += [(c.start_date, f"course{i}.start"), (c.end_date, f"course{i}.end")]
    ev.append((case.rt_end + dt.timedelta(weeks=case.follow_up.first_visit_weeks), "followup"))
    return ev


_MONTH_WORDS = {w.lower(): n for w, n in MO.NUMBER.items()}


def reformat_date(surface: str, d: dt.date, lang: str = "de") -> str | None:
    """``d`` written the way ``surface`` writes its date ('04.04.2029', '4.4.2029', '04/04/2029',
    '4 April 2029', '4. April 2029', 'April 2029', '2029-04-04'); None for a form not known."""
    s = surface
    m = re.fullmatch(r"(\d{1,2})([./])(\d{1,2})\2(\d{2}|\d{4})", s)
    if m:
        dd = f"{d.day:02d}" if len(m.group(1)) == 2 else str(d.day)
        mm = f"{d.month:02d}" if len(m.group(3)) == 2 else str(d.month)
        yy = str(d.year) if len(m.group(4)) == 4 else f"{d.year % 100:02d}"
        return f"{dd}{m.group(2)}{mm}{m.group(2)}{yy}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return d.isoformat()
    m = re.fullmatch(r"(\d{1,2})(\.?\s+)([^\W\d_]+)(\.?\s+)(\d{4})", s)
    if m and m.group(3).lower() in _MONTH_WORDS:
        return f"{d.day}{m.group(2)}{_month_like(m.group(3), d.month, lang)}{m.group(4)}{d.year}"
    m = re.fullmatch(r"([^\W\d_]+)(\.?\s+)(\d{4})", s)
    if m and m.group(1).lower() in _MONTH_WORDS:
        return f"{_month_like(m.group(1), d.month, lang)}{m.group(2)}{d.year}"
    return None


def _month_like(word: str, month: int, lang: str) -> str:
    names = (MO.MONTHS_DE, MO.MONTHS_EN) if lang == "de" else (MO.MONTHS_EN, MO.MONTHS_DE)
    for table in names:  # 'April', 'August' are both languages' words: the letter's language decides
        if word in table:
            return table[month - 1]
    abbrev = [k for k, v in MO.ABBREVIATIONS.items() if v == month]
    return abbrev[0] if abbrev else MO.MONTHS_EN[month - 1]


def plant_date_move(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """A date of one event written where another event's date belongs (the other date is the
    case's, so only binding sees it)."""
    from medletter.evaluate.factcheck.values import find_dates as _find_dates

    ev = _events(case)
    cands = []
    for a, b, v in _find_dates(text):
        if re.search(r"\d{1,2}\.\d{1,2}\.\s*[–-]\s*$", text[max(0, a - 9) : a]):
            continue  # the end of '20.4.–8.5.2026' also dates its start: not one date's edit
        if isinstance(v, dt.date):
            types = {t for d, t in ev if d == v}
            month = False
        elif isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int):
            types = {t for d, t in ev if (d.year, d.month) == v}
            month = True
        else:
            continue
        if len(types) != 1 or reformat_date(text[a:b], dt.date(2000, 1, 1), lang) is None:
            continue
        own = next(iter(types))
        same_kind = {d for d, t in ev if t == own}
        others = [d for d, t in ev if t != own and d not in same_kind
                  and (not month or (d.year, d.month) not in {(x.year, x.month) for x in same_kind})]
        if others:
            cands.append((a, b, others, own))
    if not cands:
        return None
    a, b, others, own = rng.choice(cands)
    d = rng.choice(sorted(set(others)))
    new_surface = reformat_date(text[a:b], d, lang)
    new, spans = _replace(text, [(a, b, new_surface)])
    return Planted("date_move", new, spans, in_set=True, note=f"{own}: {text[a:b]} -> {new_surface}")


# ---------------------------------------------------------------- doses

def _triples(case: Case, text: str, lang: str) -> list[tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]]:
    """Per course stated with all three numbers: (course index, span of the fraction count, of the
    dose per fraction, of the total dose), the three within one line and 80 characters."""
    out = []
    for i, c in enumerate(case.radiotherapy_courses):
        if c.fractions < 2:
            continue
        for m in re.finditer(rf"(?<![\d,.]){c.fractions}(?=\s*(?:[x×]|Fraktion|fraction|Fx))", text):
            line_a = text.rfind("\n", 0, m.start()) + 1
            line_b = text.find("\n", m.end())
            line_b = len(text) if line_b < 0 else line_b
            lo, hi = max(line_a, m.start() - 80), min(line_b, m.end() + 80)

            def find(x):
                pat = rf"(?<![\d,.]){re.escape(fmt_num(x, lang))}(?=\s*Gy)"
                hits = [h for h in re.finditer(pat, text[lo:hi])]
                return min(((lo + h.start(), lo + h.end()) for h in hits), key=lambda s: abs(s[0] - m.start()), default=None)

            dp, tot = find(c.dose_per_fraction_gy), find(c.total_dose_gy)
            if dp and tot and dp != tot:
                out.append((i, (m.start(), m.end()), dp, tot))
    return out


def plant_dose_arithmetic(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The fraction count of a 'n × d = D' statement changed so that the numbers no longer multiply
    out (to another course's count where there is one)."""
    tr = _triples(case, text, lang)
    if not tr:
        return None
    i, fx, dp, tot = rng.choice(tr)
    c = case.radiotherapy_courses[i]
    others = sorted({o.fractions for o in case.radiotherapy_courses if o.fractions > 1} - {c.fractions})
    others = [n for n in others if abs(n * c.dose_per_fraction_gy - c.total_dose_gy) > 0.5]
    n = rng.choice(others) if others else max(2, c.fractions + rng.choice((-3, -2, -1, 1, 2, 3)))
    new, spans = _replace(text, [(fx[0], fx[1], str(n))])
    return Planted("dose_arithmetic", new, spans, in_set=bool(others), note=f"{c.fractions}->{n}")


def plant_dose_course(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """One course's statement given another course's three numbers (they multiply out, and each is
    the case's: only the course they are written for is wrong)."""
    tr = _triples(case, text, lang)
    cs = case.radiotherapy_courses
    opts = [(t, j) for t in tr for j in range(len(cs)) if j != t[0] and cs[j].fractions > 1
            and (cs[j].fractions, round(cs[j].dose_per_fraction_gy, 2), round(cs[j].total_dose_gy, 2))
            != (cs[t[0]].fractions, round(cs[t[0]].dose_per_fraction_gy, 2), round(cs[t[0]].total_dose_gy, 2))]
    if not opts:
        return None
    (i, fx, dp, tot), j = rng.choice(opts)
    b = cs[j]
    edits = [(fx[0], fx[1], str(b.fractions)), (dp[0], dp[1], fmt_num(b.dose_per_fraction_gy, lang)),
             (tot[0], tot[1], fmt_num(b.total_dose_gy, lang))]
    new, spans = _replace(text, edits)
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    return Planted("dose_course", new, [(lo, hi)], in_set=True, note=f"course{i + 1} <- course{j + 1} ({fmt_gy(b.total_dose_gy, lang)})")


# ---------------------------------------------------------------- laterality, TNM, codes

_SIDES = {"links": "rechts", "rechts": "links", "left": "right", "right": "left", "li.": "re.", "re.": "li.",
          "linksseitig": "rechtsseitig", "rechtsseitig": "linksseitig", "left-sided": "right-sided", "right-sided": "left-sided",
          "(l)": "(R)", "(r)": "(L)", "l": "R", "r": "L"}
_SIDE_HIT = re.compile(r"\b(?:links|rechts|left|right|linksseitig|rechtsseitig|left-sided|right-sided)\b|\b(?:li|re)\.|\((?:L|R)\)"
                       r"|\b[LR](?=\s+[a-z]{4,})", re.I)


def plant_laterality(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """One side word turned to the other side, in the letter's own form ('links', 'li.', '(L)', 'R breast')."""
    hits = [m for m in _SIDE_HIT.finditer(text) if m.group().lower() in _SIDES and not (len(m.group()) == 1 and m.group().islower())]
    if not hits:
        return None
    m = rng.choice(hits)
    w = m.group()
    other = _SIDES[w.lower()]
    if len(w) > 3:
        other = other[0].upper() + other[1:] if w[0].isupper() else other
    new, spans = _replace(text, [(m.start(), m.end(), other)])
    return Planted("laterality", new, spans, in_set=True, note=f"{w}->{other}")


def plant_tnm_stage(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The T category of the diagnosis' TNM changed."""
    tnm = case.main_diagnosis.tnm or ""
    m = re.search(r"(?<![A-Za-z])((?:y|r|a|yp|yc|p|c)?)T([0-4]|is)([a-d]?\d?)", tnm)
    if not m or m.group(0) not in text:
        return None
    at = re.search(rf"(?<![A-Za-z0-9]){re.escape(m.group(0))}(?![A-Za-z0-9])", text)
    if not at:
        return None
    cur = m.group(2)
    choices = [x for x in ("1", "2", "3", "4") if x != cur]
    new_t = f"{m.group(1)}T{rng.choice(choices)}"
    new, spans = _replace(text, [(at.start(), at.end(), new_t)])
    return Planted("tnm_stage", new, spans, note=f"{m.group(0)}->{new_t}")


def plant_tnm_prefix(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """A TNM component given another prefix (clinical 'c' for pathological 'p', or the reverse)."""
    tnm = case.main_diagnosis.tnm or ""
    comps = [m for m in re.finditer(r"(?<![A-Za-z])([pc])([TNM](?:is|[0-4x][a-d]?\d?))", tnm)]
    comps = [m for m in comps if re.search(rf"(?<![A-Za-z0-9]){re.escape(m.group(0))}(?![A-Za-z0-9])", text)]
    if not comps:
        return None
    m = rng.choice(comps)
    at = re.search(rf"(?<![A-Za-z0-9]){re.escape(m.group(0))}(?![A-Za-z0-9])", text)
    new_c = ("c" if m.group(1) == "p" else "p") + m.group(2)
    new, spans = _replace(text, [(at.start(), at.end(), new_c)])
    return Planted("tnm_prefix", new, spans, in_set=True, note=f"{m.group(0)}->{new_c}")


def plant_invalid_code(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The main ICD-10 code corrupted to something that is not a valid code ('ICD-12', 'C9.3',
    'C504', 'C50.412')."""
    code = case.main_diagnosis.icd10.split()[0]
    at = re.search(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![0-9])", text)
    if not at:
        return None
    label = re.search(r"ICD-10\s*$", text[max(0, at.start() - 10) : at.start()])
    variants = ["short", "long"] + (["label"] if label else [])
    v = rng.choice(variants)
    letter, rest = code[0], code[1:]
    cat, _, sub = rest.partition(".")
    if v == "label":
        a = text.rfind("ICD-10", 0, at.start())
        edits = [(a, a + 6, "ICD-12")]
    elif v == "short":
        bad = f"{letter}{cat[0]}.{sub or cat[1]}"
        edits = [(at.start(), at.end(), bad)]
    else:
        bad = f"{letter}{cat}.{(sub or '') + '12'}" if sub else f"{letter}{cat}1"
        edits = [(at.start(), at.end(), bad)]
    new, spans = _replace(text, edits)
    return Planted("invalid_code", new, spans, note=f"{v}: {new[spans[0][0]:spans[0][1]]}")


def plant_code_swap(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """Two of the case's diagnosis codes swapped in the letter (each stays a code of the case)."""
    codes = [case.main_diagnosis.icd10.split()[0]] + [s.icd10.split()[0] for s in case.secondary_diagnoses if s.icd10]
    found = {}
    for c in dict.fromkeys(codes):
        m = re.search(rf"(?<![A-Za-z0-9]){re.escape(c)}(?![0-9])", text)
        if m:
            found[c] = m
    keys = list(found)
    pairs = [(x, y) for i, x in enumerate(keys) for y in keys[i + 1 :] if x.split(".")[0] != y.split(".")[0]]
    if not pairs:
        return None
    x, y = rng.choice(pairs)
    mx, my = found[x], found[y]
    new, spans = _replace(text, [(mx.start(), mx.end(), y), (my.start(), my.end(), x)])
    return Planted("code_swap", new, spans, in_set=True, note=f"{x}<->{y}")


PLANTERS = {
    "grade_swap": plant_grade_swap,
    "grading": plant_grading,
    "date_move": plant_date_move,
    "dose_arithmetic": plant_dose_arithmetic,
    "dose_course": plant_dose_course,
    "laterality": plant_laterality,
    "tnm_stage": plant_tnm_stage,
    "tnm_prefix": plant_tnm_prefix,
    "invalid_code": plant_invalid_code,
    "code_swap": plant_code_swap,
    "invented_diagnosis": plant_invented_diagnosis,
    "repeated_diagnosis": plant_repeated_diagnosis,
    "drop_histology": plant_drop_histology,
    "drop_grading": plant_drop_grading,
    "drop_dx_date": plant_drop_dx_date,
    "drop_concurrent_dose": plant_drop_concurrent_dose,
    "drop_secondary_code": plant_drop_secondary_code,
}

EXPECTED_FLAGS = {
    "grade_swap": {"grade_mismatch", "ctcae_grade"},
    "grading": {"grading_mismatch", "ctcae_grade"},
    "date_move": {"date_event_mismatch"},
    "dose_arithmetic": {"dose_arithmetic", "fractions"},
    "dose_course": {"dose_course_mismatch"},
    "laterality": {"laterality_mismatch"},
    "tnm_stage": {"tnm", "tnm_mismatch"},
    "tnm_prefix": {"tnm_mismatch"},
    "invalid_code": {"invalid_code"},
    "code_swap": {"code_mismatch"},
    "invented_diagnosis": {"invented_diagnosis"},
    "repeated_diagnosis": {"repeated_diagnosis"},
}
"""Flag kinds that catch each edit kind (the value check's own kind where the edit writes a value
the case does not have)."""

