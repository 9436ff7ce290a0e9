"""What a case backs, in the forms the comparison needs: the values of each kind, the dates of each event,
the periods, each course's numbers, the side the case gives each anatomical word."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from medletter.evaluate.factcheck import values as V
from medletter.evaluate.factcheck.lexicon import SIDE_WORD
from medletter.evaluate.factcheck.text import words
from medletter.evaluate.factcheck.vocab import variants
from medletter.records import Case, Laterality
from medletter.textfmt import age_on


def case_text(case: Case) -> str:
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


def events(case: Case) -> dict:
    """Dates of the case by event type: {type: {'all': set, 'start': set, 'end': set}}."""
    ev: dict[str, dict[str, set]] = {k: {"all": set(), "start": set(), "end": set()}
                                     for k in ("birth", "diagnosis", "surgery", "systemic", "rt", "followup", "letter")}

    def add(kind, d, endpoint=None):
        if d is None:
            return
        ev[kind]["all"].add(d)
        if endpoint:
            ev[kind][endpoint].add(d)

    add("birth", case.patient.birth_date)
    add("letter", case.letter_date)
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


def periods(case: Case) -> list[tuple[dt.date, dt.date, str]]:
    out = [(c.start_date, c.end_date, "rt") for c in case.radiotherapy_courses]
    out.append((case.rt_start, case.rt_end, "rt"))
    cs = sorted(case.radiotherapy_courses, key=lambda c: c.start_date)
    for i in range(len(cs)):
        for j in range(i + 1, len(cs)):
            out.append((cs[i].start_date, cs[j].end_date, "rt"))
    out += [(s.start_date, s.end_date, "systemic") for s in case.prior_treatments.systemic if s.end_date]
    return out


def side_map(case: Case) -> dict[str, set[str]]:
    """Normalised anatomical word -> the sides the case gives it."""
    from medletter.evaluate.factcheck.extract import side_neighbours, side_of

    texts = [case.main_diagnosis.text, *(c.target_region for c in case.radiotherapy_courses),
             *(s.procedure for s in case.prior_treatments.surgeries), *(s.text for s in case.secondary_diagnoses),
             *case.findings_at_end, *case.recommendations]
    m: dict[str, set[str]] = {}
    for t in texts:
        for sm in SIDE_WORD.finditer(t):
            for _, w in side_neighbours(t, sm.start(), sm.end()):
                m.setdefault(w, set()).add(side_of(sm.group()))
        for bm in re.finditer(r"\b(beidseits|beidseitig\w*|bilateral\w*|both sides)\b", t, re.I):
            for _, w in side_neighbours(t, bm.start(), bm.end()):
                m.setdefault(w, set()).update({"L", "R"})
    lat = case.main_diagnosis.laterality
    if lat in (Laterality.left, Laterality.right):
        s = "L" if lat == Laterality.left else "R"
        for _, _, w in words(case.main_diagnosis.text):
            if len(w) >= 4 and not SIDE_WORD.fullmatch(w):
                m.setdefault(w, set()).add(s)
                # the organ ("Mammakarzinom" -> "Mamma", and its other names: "Brust", "breast")
                stem = re.sub(r"-?(?:carcinom|carcinoma|cancer|ca|tumor|tumour)$", "", w)
                if stem != w and len(stem) >= 4:
                    for x in {stem} | set(variants(stem)):
                        m.setdefault(x, set()).add(s)
    return m


_GRADING_NUMBER = {"I": 1, "II": 2, "III": 3, "IV": 4}


@dataclass
class CaseFacts:
    case: Case
    ok_doses: set = field(default_factory=set)
    ok_fractions: set = field(default_factory=set)
    dates: set = field(default_factory=set)
    months: set = field(default_factory=set)
    tnm_cores: set = field(default_factory=set)
    tnm_prefixes: dict = field(default_factory=dict)
    codes: set = field(default_factory=set)
    code_categories: set = field(default_factory=set)
    techniques: set = field(default_factory=set)
    text_techniques: set = field(default_factory=set)
    ok_grades: set = field(default_factory=set)
    ok_intervals: set = field(default_factory=set)
    tox_grades: list = field(default_factory=list)
    tox_terms: list = field(default_factory=list)
    grading_g: int | None = None
    events: dict = field(default_factory=dict)
    periods: list = field(default_factory=list)
    course_dates: list = field(default_factory=list)
    course_rows: list = field(default_factory=list)
    boost_courses: set = field(default_factory=set)
    surgery_dates: list = field(default_factory=list)
    rt_start: dt.date | None = None
    rt_end: dt.date | None = None
    side_map: dict = field(default_factory=dict)
    main_code: str = ""
    main_side_mark: str | None = None
    dx_codes: list = field(default_factory=list)
    case_dx_texts: list = field(default_factory=list)


def case_facts(case: Case) -> CaseFacts:
    cf = CaseFacts(case)
    courses = case.radiotherapy_courses
    ctext = case_text(case)
    for c in courses:
        cf.ok_doses |= {round(c.dose_per_fraction_gy, 2), round(c.total_dose_gy, 2)}
    cf.ok_doses.add(round(sum(c.total_dose_gy for c in courses), 2))
    cf.ok_doses |= {round(x, 2) for x in V.extract_doses(ctext)}
    cf.ok_fractions = {c.fractions for c in courses} | set(V.extract_fractions(ctext))
    cf.dates = case.all_dates()
    cf.months = {(x.year, x.month) for x in cf.dates}
    d = case.main_diagnosis
    cf.tnm_cores = {V.tnm_core(p) for p in V.norm_tnm_parts(d.tnm or "")}
    for p in V.norm_tnm_parts(d.tnm or ""):
        core = V.tnm_core(p)
        cf.tnm_prefixes.setdefault(core, set()).add(p[: len(p) - len(core)])
    cf.codes = {d.icd10.split()[0]} | {s.icd10.split()[0] for s in case.secondary_diagnoses if s.icd10}
    cf.code_categories = {c.split(".")[0] for c in cf.codes if "." not in c}
    cf.techniques = {c.technique.value for c in courses}
    cf.text_techniques = V.extract_techniques(ctext)
    cf.tox_grades = [t.grade for t in case.toxicities]
    cf.tox_terms = [t.term for t in case.toxicities]
    cf.ok_grades = set(cf.tox_grades)
    # the grading's own number, however it is written ('G3', 'CNS WHO Grad 4', 'WHO-Grad II'): 'CNS WHO G4' is no CTCAE grade
    for gm in re.finditer(r"(?:^|\b)(?:G|Grad|grade)[\s-]*([1-4]|IV|I{1,3})\b", d.grading or ""):
        cf.ok_grades.add(_GRADING_NUMBER.get(gm.group(1)) or int(gm.group(1)))
    gm = re.match(r"^(?:G|(?:CNS\s+)?WHO[\s-]*(?:Grad|grade)?)\s*([1-4]|IV|I{1,3})$", (d.grading or "").strip())
    cf.grading_g = (_GRADING_NUMBER.get(gm.group(1)) or int(gm.group(1))) if gm else None
    fu = case.follow_up
    ok = {(fu.first_visit_weeks, "w")} | {(v.after_weeks, "w") for v in fu.visits} | set(V.extract_intervals(ctext))
    ok |= {(v.after_weeks // 4, "m") for v in fu.visits if v.after_weeks % 4 == 0}
    ok |= {(round(v.after_weeks / 4.345), "m") for v in fu.visits}
    ok |= {(v.after_weeks // 52, "y") for v in fu.visits if v.after_weeks % 52 == 0}
    ok |= {(age_on(case.patient.birth_date, case.letter_date), "y")}
    for c in courses:
        ok.add((max(1, round(((c.end_date - c.start_date).days + 1) / 7)), "w"))
        ok.add(((c.end_date - c.start_date).days // 7, "w"))
        ok.add(((c.end_date - c.start_date).days // 7 + 1, "w"))
    cf.ok_intervals = ok
    cf.events = events(case)
    cf.periods = periods(case)
    cf.course_dates = [(c.start_date, c.end_date) for c in courses]
    cf.course_rows = [(c.fractions, c.dose_per_fraction_gy, c.total_dose_gy) for c in courses]
    cf.boost_courses = {i for i, c in enumerate(courses) if c.is_boost}
    cf.surgery_dates = [s.date for s in case.prior_treatments.surgeries]
    cf.rt_start, cf.rt_end = case.rt_start, case.rt_end
    cf.side_map = side_map(case)
    parts = d.icd10.split()
    cf.main_code = parts[0]
    case_mark = parts[1] if len(parts) > 1 and parts[1] in "LRB" else None
    cf.main_side_mark = case_mark or {Laterality.left: "L", Laterality.right: "R", Laterality.bilateral: "B"}.get(d.laterality)
    cf.case_dx_texts = [d.text] + [s.text for s in case.secondary_diagnoses]
    cf.dx_codes = [parts[0]] + [s.icd10.split()[0] if s.icd10 else None for s in case.secondary_diagnoses]
    return cf
