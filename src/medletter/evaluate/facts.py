"""Fact checks of a letter against its case.

Facts a letter should carry (from the case): ICD-10 code and TNM of the main diagnosis; per
radiotherapy course the target region, technique, dose per fraction, number of fractions, total
dose, start and end date; each toxicity's CTCAE grade; the weeks until the first follow-up visit.

*Fact recall* is the share of those found in the letter. *Unsupported facts* are statements of a
checkable kind that the letter makes and the case does not back: doses in Gy, fraction counts,
dates, TNM components, ICD-10 codes, techniques, CTCAE grades and follow-up intervals.

Both languages and the usual German and English number and date forms are understood
("40,05 Gy", "15 x 2,67 Gy", "04.04.2029", "4.4.29", "4. April 2029", "April 2029", "2029-04-04").

Each unsupported fact also comes as a `Flag` with its character offsets in the letter
(``text[start:end]`` is e.g. "12 Gy", "3.4.2029", "pN1", "Grad 3", "10 Wochen"), so a reviewer's
view can highlight it in place: ``FactReport.flags`` / ``FactReport.flags_json()``.

Values are also bound to what they describe (:mod:`medletter.evaluate.binding`): a grade to its
toxicity, a date to its event, fractions × dose per fraction to the total and to its course, a side
to its target, a code to its diagnosis; invalid codes are flagged ("ICD-12", "C9.3"). Those flags
have their own kinds (``grade_mismatch``, ``date_event_mismatch``, ``dose_arithmetic``, …). The
expected facts also include histology, grading, the date of first diagnosis, concurrent systemic
therapy with its dose and the secondary diagnoses with their codes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from medletter import months as MO
from medletter.records import Case
from medletter.textfmt import age_on

# month words (lower case) -> number: the names, the abbreviations and "Jänner" (not "Feber", "Maerz", "Mrz")
MONTHS = {w.lower(): n for w, n in MO.NUMBER.items() if w not in ("Feber", "Maerz", "Mrz")}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
NUM = r"\d+(?:[.,]\d+)?"

TECHNIQUES = {
    "3D-CRT": [r"3D-?CRT", r"3D-konformal\w*", r"3D[- ]conformal", r"dreidimensional\w* konformal\w*"],
    "IMRT": [r"IMRT", r"intensitätsmodulier\w*", r"intensity[- ]modulated"],
    "VMAT": [r"VMAT", r"Rapid\s?Arc", r"volumetric\w* modulated arc", r"volumenmodulier\w*"],
    "SBRT": [r"SBRT", r"SABR", r"stereotaktisch\w* Körperstamm\w*", r"stereotactic body"],
    "SRS": [r"SRS", r"Radiochirurgie", r"radiosurgery", r"radiochirurgisch\w*"],
    "FSRT": [r"FSRT", r"fraktioniert\w* stereotakt\w*", r"fractionated stereotactic"],
    "brachytherapy": [r"Brachy\w*", r"Afterloading", r"HDR"],
    "electrons": [r"Elektronen\w*", r"electrons?"],
}
_STEREO_ANY = r"stereotakt\w*|stereotactic\w*"


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def _norm_tnm_parts(tnm: str) -> set[str]:
    """'pT1c pN0 (0/12) cM0 L0 V0' -> {'pt1c', 'pn0', 'cm0', 'l0', 'v0'} (prefix letters kept, lower-case)."""
    parts = set()
    for m in re.finditer(r"(?<![A-Za-z])((?:y|r|a|yp|yc|p|c)?[TNM](?:is|[0-4x][a-d]?\d?|X)|L[01]|V[0-2]|Pn[01]|R[0-2X])(?![A-Za-z0-9])", tnm):
        parts.add(m.group(1).lower())
    return parts


def _tnm_core(part: str) -> str:
    """'pt1c' -> 't1c' (prefix-insensitive comparison: a letter may drop the p/c)."""
    m = re.match(r"^(?:y|r|a|yp|yc|p|c)?([tnm].*)$", part)
    return m.group(1) if m else part


@dataclass(frozen=True)
class Flag:
    """An unsupported statement at ``text[start:end]`` of the letter (end exclusive)."""

    start: int
    end: int
    kind: str
    value: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "kind": self.kind, "value": self.value}


@dataclass
class FactReport:
    expected: list[tuple[str, str]] = field(default_factory=list)
    found: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # one per unsupported item, sorted by start

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.expected) if self.expected else 1.0

    def flags_json(self) -> list[dict]:
        """Unsupported statements with their character offsets, sorted by start."""
        return [f.to_dict() for f in sorted(self.flags, key=lambda f: (f.start, f.end))]

    def missing_json(self) -> list[str]:
        """Expected facts the letter lacks, as 'kind=value' strings."""
        return [f"{k}={v}" for k, v in self.missing]

    def to_dict(self) -> dict:
        return {
            "recall": self.recall,
            "n_expected": len(self.expected),
            "missing": self.missing_json(),
            "unsupported": [f"{k}={v}" for k, v in self.unsupported],
        }


# ---------------------------------------------------------------- extraction from letter text
# Each `_find_*` returns (start, end, value) with text[start:end] the statement's surface; the
# public `extract_*` return the values only.


def _find_doses(text: str) -> list[tuple[int, int, float]]:
    """'40,05 Gy' -> (start, end, 40.05)."""
    return [(m.start(), m.end(), _num(m.group(1))) for m in re.finditer(rf"({NUM})\s*Gy\b", text)]


def extract_doses(text: str) -> list[float]:
    return [v for _, _, v in _find_doses(text)]


def _find_fractions(text: str) -> list[tuple[int, int, int]]:
    """'15 Fraktionen', '15 x' (of '15 x 2,67 Gy'), and single-fraction words ('einmalig', 'once') as 1."""
    # not a rhythm ("3 Fx/Woche", "5 fractions per week")
    out = [(m.start(), m.end(), int(m.group(1))) for m in re.finditer(r"\b(\d{1,2})\s*(?:Fraktionen|Fraktion|fractions|fraction|Fx|fx|Sitzungen|sessions)\b(?!\s*(?:/|pro|per|je|a|each)\s*(?:Woche|week|wk)\b)", text)]
    out += [(m.start(1), m.end(1), int(m.group(2))) for m in re.finditer(rf"\b((\d{{1,2}})\s*[x×])\s*{NUM}\s*Gy", text)]
    out += [(m.start(), m.end(), 1) for m in re.finditer(r"\b(?:einmalig\w*|Einzeit\w*|Einzelfraktion|single[- ](?:fraction|dose)|once)\b", text, re.IGNORECASE)]
    return out


def extract_fractions(text: str) -> list[int]:
    return [v for _, _, v in _find_fractions(text)]


def _find_dates(text: str) -> list[tuple[int, int, dt.date | tuple]]:
    """Full dates as dates; 'April 2029' as (year, month); impossible dates as ('invalid', surface)."""
    out: list = []

    def add(m, value):
        if any(a <= m.start() < b for a, b, _ in out):
            return
        out.append((m.start(), m.end(), value))

    for m in re.finditer(r"\b(\d{1,2})\.(\d{1,2})\.\s*(?:–|-|bis)\s*\d{1,2}\.\d{1,2}\.(\d{4})\b", text):
        # "12.6.–9.7.2024": the first date takes the year of the second, or the year before when the
        # range crosses new year ("22.8.–9.1.2027" starts on 22.8.2026)
        start = re.match(r"\d{1,2}\.\d{1,2}\.", m.group(0))
        end_month = int(re.search(r"(\d{1,2})\.\d{4}$", m.group(0)).group(1))
        year = int(m.group(3)) - (1 if int(m.group(2)) > end_month else 0)
        _try(add, _Sub(m, 0, start.end()), year, int(m.group(2)), int(m.group(1)))
    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        _try(add, m, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in re.finditer(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)", text):
        y = int(m.group(3))
        y = y + (2000 if y < 50 else 1900) if y < 100 else y
        _try(add, m, y, int(m.group(2)), int(m.group(1)))
    for m in re.finditer(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text):
        a, b = int(m.group(1)), int(m.group(2))
        # dd/mm/yyyy (European) unless impossible, then mm/dd/yyyy
        if b <= 12:
            _try(add, m, int(m.group(3)), b, a)
        else:
            _try(add, m, int(m.group(3)), a, b)
    for m in re.finditer(rf"\b(\d{{1,2}})\.?\s+({_MONTH_RE})\.?\s+(\d{{4}})\b", text, re.IGNORECASE):
        _try(add, m, int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
    for m in re.finditer(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),\s+(\d{{4}})\b", text, re.IGNORECASE):
        _try(add, m, int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
    for m in re.finditer(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b", text, re.IGNORECASE):
        add(m, (int(m.group(2)), MONTHS[m.group(1).lower()]))
    return out


def extract_dates(text: str) -> list[tuple[str, dt.date | tuple[int, int]]]:
    """Full dates as dates; 'April 2029' as (year, month). Returns (surface, value)."""
    return [(text[a:b], v) for a, b, v in _find_dates(text)]


class _Sub:
    """A part of a regex match (start/end/group(0)) for dates found inside a range."""

    def __init__(self, m, a: int, b: int):
        self._s, self._a, self._b = m.string, m.start() + a, m.start() + b

    def start(self):
        return self._a

    def end(self):
        return self._b

    def group(self, _=0):
        return self._s[self._a : self._b]


def _try(add, m, y: int, mo: int, d: int) -> None:
    try:
        add(m, dt.date(y, mo, d))
    except ValueError:
        add(m, ("invalid", m.group(0)))


def _find_icd10(text: str) -> list[tuple[int, int, str]]:
    out = []
    # not inside a longer code-like token ("C50.412": binding.py flags that as an invalid code)
    for m in re.finditer(r"(?<![A-Za-z0-9])([A-TV-Z]\d{2}(?:\.\d{1,2})?)(?![\d.]*\s*Gy)(?![A-Za-z0-9]|\.\d)", text):
        before, after = text[max(0, m.start() - 5) : m.start()], text[m.end() : m.end() + 12]
        # vertebral levels ("T8–T10 vertebrae", "BWK 10") are not codes
        if re.search(r"[A-Z]\d{1,2}\s*[–-]\s*$", before) or re.match(r"\s*[–-]\s*[A-Z]?\d|\s*(?:vertebra|Wirbel)", after):
            continue
        out.append((m.start(1), m.end(1), m.group(1)))
    return out


def extract_icd10(text: str) -> list[str]:
    return [v for _, _, v in _find_icd10(text)]


def _find_tnm(text: str) -> list[tuple[int, int, str]]:
    """Each component of a TNM formula, lower-case, at its own span ('pN1' inside 'pT2 pN1 cM0')."""
    parts = []
    for m in re.finditer(r"(?<![A-Za-z0-9–-])((?:y|r|a|yp|yc|p|c)?T(?:is|[0-4x](?:[a-d]\d?)?|X))(?![\d–-])(?:\s*\(m\))?\s*((?:y|yp|p|c)?N(?:[0-3][a-c]?|x|X))?\s*((?:p|c)?M(?:[01][a-c]?|x|X))?(?![A-Za-z0-9])", text):
        for i, g in enumerate(m.groups(), 1):
            if g:
                parts.append((m.start(i), m.end(i), g.lower()))
    return parts


def extract_tnm(text: str) -> list[str]:
    return [v for _, _, v in _find_tnm(text)]


def _find_techniques(text: str) -> list[tuple[int, int, str]]:
    """Each technique named in the text, once, at its first mention; in text order."""
    first: dict[str, tuple[int, int, str]] = {}
    for name, pats in TECHNIQUES.items():
        for p in pats:
            flags = 0 if p.isupper() else re.IGNORECASE
            m = re.search(rf"(?<![A-Za-z0-9]){p}(?![A-Za-z0-9])", text, flags)
            if m and (name not in first or m.start() < first[name][0]):
                first[name] = (m.start(), m.end(), name)
    m = re.search(_STEREO_ANY, text, re.IGNORECASE)
    if m and not first.keys() & {"SBRT", "SRS", "FSRT"}:
        first["stereotactic"] = (m.start(), m.end(), "stereotactic")
    return sorted(first.values())


def extract_techniques(text: str) -> set[str]:
    return {v for _, _, v in _find_techniques(text)}


GRADE_EXPR = r"(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s,:-]*)?(?:Grad|grade|Grade|G|°)\s*"


def _find_grades(text: str, with_g: bool = True) -> list[tuple[int, int, int]]:
    """CTCAE grades with the span of their statement ('Grad 3', 'CTCAE grade 3', 'G3', '°3', '3°')."""
    pats = [
        r"(?<!WHO-)(?<!WHO )(?<!ISUP-)(?<!ISUP )(?<!FIGO )(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s,:-]*)?(?:Grad|grade|Grade)\s*([0-5])\b",
        r"CTCAE[\s-]*(?:v5(?:\.0)?)?\s*°\s*([0-5])\b",
        r"(?<![\d,.])°\s*([0-5])\b",
        r"\b([0-5])°(?!\s*C)",
    ]
    if with_g:
        pats.append(r"(?<![A-Za-z0-9-])G([0-5])(?![A-Za-z0-9])")
    out = []
    taken = []
    for p in pats:
        for m in re.finditer(p, text):
            if any(a <= m.start(1) < b for a, b in taken):
                continue
            taken.append((m.start(1), m.end(1)))
            out.append((m.start(), m.end(), int(m.group(1))))
    return out


def extract_grades(text: str, with_g: bool = True) -> list[int]:
    """CTCAE grades stated in the text. 'G2' is ambiguous with tumour grading; ``with_g`` includes it."""
    return [v for _, _, v in _find_grades(text, with_g)]


def _find_intervals(text: str) -> list[tuple[int, int, tuple[int, str]]]:
    """'10 Wochen' -> (start, end, (10, 'w')); units w, m, y."""
    out = []
    for m in re.finditer(r"\b(\d{1,3})\s*(Wochen|weeks|Woche|week|Monate|Monaten|months|Monat|month|Jahre|Jahren|years|Jahr|year)\b", text):
        unit = m.group(2).lower()
        unit = "w" if unit.startswith(("woche", "week")) else "m" if unit.startswith(("monat", "month")) else "y"
        out.append((m.start(), m.end(), (int(m.group(1)), unit)))
    return out


def extract_intervals(text: str) -> list[tuple[int, str]]:
    return [v for _, _, v in _find_intervals(text)]


# ---------------------------------------------------------------- what the case backs


def _all_dates(case: Case) -> set[dt.date]:
    p = case.patient
    ds = {p.birth_date, case.letter_date}
    d = case.main_diagnosis.date_of_diagnosis
    if d:
        ds.add(d)
    ds |= {s.date for s in case.prior_treatments.surgeries}
    for s in case.prior_treatments.systemic:
        ds.add(s.start_date)
        if s.end_date:
            ds.add(s.end_date)
    for c in case.radiotherapy_courses:
        ds |= {c.start_date, c.end_date}
    end = case.rt_end
    for v in case.follow_up.visits:
        ds.add(end + dt.timedelta(weeks=v.after_weeks))
    ds.add(end + dt.timedelta(weeks=case.follow_up.first_visit_weeks))
    return ds


def _case_text(case: Case) -> str:
    """Free-text fields of the case: numbers stated there back numbers in the letter."""
    bits = [case.follow_up.interval_text or ""] + case.recommendations + case.findings_at_end
    bits += [f"{v.after_weeks} {v.what} {v.where or ''}" for v in case.follow_up.visits]
    bits += [s.text for s in case.secondary_diagnoses] + [case.main_diagnosis.text, case.main_diagnosis.histology or ""]
    bits += [s.procedure for s in case.prior_treatments.surgeries]
    bits += [f"{s.regimen} {' '.join(s.agents)}" for s in case.prior_treatments.systemic]
    for c in case.radiotherapy_courses:
        bits += [c.target_region, c.igrt or "", c.concurrent_chemotherapy or "", c.energy or ""] + [i.reason for i in c.interruptions]
    bits += [t.term for t in case.toxicities]
    return "\n".join(bits)


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 0.011


def _age_years(case: Case) -> int:
    return age_on(case.patient.birth_date, case.letter_date)


def check_letter(case: Case, text: str) -> FactReport:
    rep = FactReport()
    letter_lc = text.lower()

    # --- what should be there
    d = case.main_diagnosis
    dose_hits = _find_doses(text)
    frac_hits = _find_fractions(text)
    date_hits = _find_dates(text)
    tnm_hits = _find_tnm(text)
    tech_hits = _find_techniques(text)
    grade_hits = _find_grades(text)
    interval_hits = _find_intervals(text)
    doses = [v for _, _, v in dose_hits]
    fracs = [v for _, _, v in frac_hits]
    dates = {v for _, _, v in date_hits if isinstance(v, dt.date)}
    tnm_found = {_tnm_core(v) for _, _, v in tnm_hits}
    techs = {v for _, _, v in tech_hits}
    grades = [v for _, _, v in grade_hits]
    intervals = [v for _, _, v in interval_hits]

    def expect(kind: str, value: str, present: bool) -> None:
        rep.expected.append((kind, value))
        (rep.found if present else rep.missing).append((kind, value))

    expect("icd10", d.icd10, bool(re.search(rf"(?<![A-Za-z0-9]){re.escape(d.icd10.split()[0])}(?![0-9])", text)))
    if d.tnm:
        parts = {_tnm_core(p) for p in _norm_tnm_parts(d.tnm) if p[-2:-1] in "tnm" or p[:1] in "tnm" or _tnm_core(p)[:1] in "tnm"}
        parts = {p for p in parts if p[:1] in "tnm"}
        expect("tnm", d.tnm, bool(parts) and parts <= tnm_found)
    for i, c in enumerate(case.radiotherapy_courses):
        tag = f"course{i + 1}"
        region = c.target_region.lower()
        expect(f"{tag}.target_region", c.target_region, region in letter_lc or _loose_in(region, letter_lc))
        tech_ok = c.technique.value in techs or (c.technique.value in ("SBRT", "SRS", "FSRT") and "stereotactic" in techs)
        expect(f"{tag}.technique", c.technique.value, tech_ok)
        expect(f"{tag}.dose_per_fraction_gy", f"{c.dose_per_fraction_gy:g}", any(_close(x, c.dose_per_fraction_gy) for x in doses))
        expect(f"{tag}.fractions", str(c.fractions), c.fractions in fracs)
        expect(f"{tag}.total_dose_gy", f"{c.total_dose_gy:g}", any(_close(x, c.total_dose_gy) for x in doses))
        if c.fractions > 1 or c.start_date != c.end_date:
            expect(f"{tag}.start_date", c.start_date.isoformat(), c.start_date in dates)
        expect(f"{tag}.end_date", c.end_date.isoformat(), c.end_date in dates)
    remaining = list(grades)
    for t in case.toxicities:
        near = re.search(rf"{re.escape(t.term)}\W{{0,4}}{GRADE_EXPR}{t.grade}(?!\d)", text, re.IGNORECASE)
        ok = bool(near) or t.grade in remaining
        if ok and t.grade in remaining:
            remaining.remove(t.grade)
        expect("ctcae_grade", f"{t.term}:{t.grade}", ok)
    fw = case.follow_up.first_visit_weeks
    first_date = case.rt_end + dt.timedelta(weeks=fw)
    expect("follow_up.first_visit_weeks", str(fw), (fw, "w") in intervals or first_date in dates or _in_range(fw, text))

    # --- what is stated but not backed
    def unsupported(kind: str, value: str, start: int, end: int) -> None:
        rep.unsupported.append((kind, value))
        rep.flags.append(Flag(start, end, kind, value))

    ok_doses = set()
    for c in case.radiotherapy_courses:
        ok_doses |= {round(c.dose_per_fraction_gy, 2), round(c.total_dose_gy, 2)}
    ok_doses.add(round(sum(c.total_dose_gy for c in case.radiotherapy_courses), 2))
    ctext = _case_text(case)
    ok_doses |= {round(x, 2) for x in extract_doses(ctext)}
    for a, b, x in dose_hits:
        if not any(_close(x, y) for y in ok_doses):
            unsupported("dose_gy", f"{x:g}", a, b)
    ok_fracs = {c.fractions for c in case.radiotherapy_courses} | set(extract_fractions(ctext))
    for a, b, f in frac_hits:
        if f not in ok_fracs:
            unsupported("fractions", str(f), a, b)
    case_dates = _all_dates(case)
    case_months = {(x.year, x.month) for x in case_dates}
    for a, b, v in date_hits:
        if isinstance(v, dt.date):
            if v not in case_dates:
                unsupported("date", v.isoformat(), a, b)
        elif v and v[0] == "invalid":
            unsupported("date", "invalid", a, b)
        elif v not in case_months:
            unsupported("month", f"{v[0]}-{v[1]:02d}", a, b)
    ok_tnm = {_tnm_core(p) for p in _norm_tnm_parts(d.tnm or "")}
    for a, b, p in tnm_hits:
        if _tnm_core(p) not in ok_tnm:
            unsupported("tnm", p, a, b)
    ok_icd = {d.icd10.split()[0]} | {s.icd10.split()[0] for s in case.secondary_diagnoses if s.icd10}
    for a, b, code in _find_icd10(text):
        if code not in ok_icd and code.split(".")[0] not in {c.split(".")[0] for c in ok_icd if "." not in c}:
            unsupported("icd10", code, a, b)
    ok_tech = {c.technique.value for c in case.radiotherapy_courses}
    for a, b, t in tech_hits:
        if t == "stereotactic":
            if not ok_tech & {"SBRT", "SRS", "FSRT"}:
                unsupported("technique", t, a, b)
        elif t not in ok_tech and t not in extract_techniques(ctext):
            unsupported("technique", t, a, b)
    ok_grades = {t.grade for t in case.toxicities}
    gm = re.match(r"^G([1-4])", d.grading or "")
    if gm:
        ok_grades.add(int(gm.group(1)))
    for a, b, g in grade_hits:
        if g not in ok_grades:
            unsupported("ctcae_grade", str(g), a, b)
    fu = case.follow_up
    ok_int = {(fu.first_visit_weeks, "w")} | {(v.after_weeks, "w") for v in fu.visits} | set(extract_intervals(ctext))
    ok_int |= {(v.after_weeks // 4, "m") for v in fu.visits if v.after_weeks % 4 == 0}
    ok_int |= {(round(v.after_weeks / 4.345), "m") for v in fu.visits}
    ok_int |= {(v.after_weeks // 52, "y") for v in fu.visits if v.after_weeks % 52 == 0}
    ok_int |= {(_age_years(case), "y")}
    for c in case.radiotherapy_courses:
        ok_int.add((max(1, round(((c.end_date - c.start_date).days + 1) / 7)), "w"))
        ok_int.add(((c.end_date - c.start_date).days // 7, "w"))
        ok_int.add(((c.end_date - c.start_date).days // 7 + 1, "w"))
    for a, b, (n, unit) in interval_hits:
        if (n, unit) not in ok_int:
            unsupported("interval", f"{n}{unit}", a, b)

    # --- each value bound to what it describes; the widened expected facts (evaluate/binding.py)
    from medletter.evaluate.binding import apply_binding

    apply_binding(rep, case, text, dose_hits=dose_hits, frac_hits=frac_hits, date_hits=date_hits, grade_hits=grade_hits,
                  tnm_hits=tnm_hits, ok_dates=case_dates, ok_months=case_months)
    rep.flags.sort(key=lambda f: (f.start, f.end))
    return rep


def _in_range(weeks: int, text: str) -> bool:
    """'6–8 Wochen' states a first visit after 6 (or 8) weeks."""
    for m in re.finditer(r"\b(\d{1,2})\s*[–-]\s*(\d{1,2})\s*(?:Wochen|weeks)\b", text):
        if weeks in (int(m.group(1)), int(m.group(2))):
            return True
    return False


def _loose_in(region: str, text: str) -> bool:
    """Target region found if all its content words (≥4 letters) occur in the letter."""
    words = [w for w in re.findall(r"\w+", region) if len(w) >= 4]
    return bool(words) and all(w in text for w in words)
