"""The comparison: a letter's facts (:class:`~medletter.evaluate.factcheck.model.LetterFacts`) against its case.

Two kinds of flags, each with its offsets in the letter:

* value flags: a statement of a checkable kind whose value the case has nowhere (``dose_gy``, ``fractions``,
  ``date``, ``month``, ``tnm``, ``icd10``, ``technique``, ``ctcae_grade``, ``interval``);
* binding flags: a value the case has, bound to the wrong thing (``grade_mismatch``, ``grading_mismatch``,
  ``date_event_mismatch``, ``dose_arithmetic``, ``dose_course_mismatch``, ``laterality_mismatch``,
  ``tnm_mismatch``, ``code_mismatch``), and codes that are none (``invalid_code``); a binding flag is only raised
  where no value flag covers the same text, so each wrong statement is highlighted once.

Nothing here reads the letter's text: the extractor has read it.
"""

from __future__ import annotations

import datetime as dt

from medletter.evaluate.factcheck.casefacts import CaseFacts
from medletter.evaluate.factcheck.model import Flag, LetterFacts
from medletter.evaluate.factcheck.text import close
from medletter.evaluate.factcheck.values import tnm_core
from medletter.evaluate.factcheck.vocab import variants
from medletter.records import DOSE_TOLERANCE_GY


def value_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out = []
    for a, b, x in f.doses:
        if not any(close(x, y) for y in cf.ok_doses):
            out.append(Flag(a, b, "dose_gy", f"{x:g}"))
    for a, b, n in f.fractions:
        if n not in cf.ok_fractions:
            out.append(Flag(a, b, "fractions", str(n)))
    for a, b, v in f.extra["date_hits"]:
        if isinstance(v, dt.date):
            if v not in cf.dates:
                out.append(Flag(a, b, "date", v.isoformat()))
        elif v and v[0] == "invalid":
            out.append(Flag(a, b, "date", "invalid"))
        elif v not in cf.months:
            out.append(Flag(a, b, "month", f"{v[0]}-{v[1]:02d}"))
    for a, b, p in f.tnm:
        if tnm_core(p) not in cf.tnm_cores:
            out.append(Flag(a, b, "tnm", p))
    for a, b, code in f.extra["icd"]:
        if code not in cf.codes and code.split(".")[0] not in cf.code_categories:
            out.append(Flag(a, b, "icd10", code))
    for a, b, t in f.techniques:
        if t == "stereotactic":
            if not cf.techniques & {"SBRT", "SRS", "FSRT"}:
                out.append(Flag(a, b, "technique", t))
        elif t not in cf.techniques and t not in cf.text_techniques:
            out.append(Flag(a, b, "technique", t))
    for a, b, g in f.extra["grade_hits"]:
        if g not in cf.ok_grades:
            out.append(Flag(a, b, "ctcae_grade", str(g)))
    for a, b, (n, unit) in f.intervals:
        if (n, unit) not in cf.ok_intervals:
            out.append(Flag(a, b, "interval", f"{n}{unit}"))
    return out


# ---------------------------------------------------------------- binding

def grade_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out = []
    grades = cf.tox_grades
    for g in f.grades:
        if g.scope == "range_end":
            continue
        if g.toxicities:
            if not g.values & {grades[i] for i in g.toxicities}:
                out.append(Flag(g.start, g.end, "grade_mismatch", f"{cf.tox_terms[min(g.toxicities)]}:{g.value}"))
        elif g.scope == "grading":
            if cf.grading_g is None or cf.grading_g != g.value:
                out.append(Flag(g.start, g.end, "grading_mismatch", f"G{g.value}"))
        elif g.scope == "max" and grades and max(grades) not in g.values:
            out.append(Flag(g.start, g.end, "grade_mismatch", f"max:{g.value}"))
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


def _backed(v, cf: CaseFacts) -> bool:
    if isinstance(v, dt.date):
        return v in cf.dates
    return isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int) and (v[0], v[1]) in cf.months


def _rt_dates(cf: CaseFacts, ep: str, courses: list[set[int]], episode: bool) -> set[dt.date]:
    """Dates a radiotherapy 'end' / 'start' ('final': the final examination) may be: those of the courses the
    clause names; with none named, the whole radiotherapy's where the sentence speaks of the patient's treatment,
    else any course's."""
    if ep == "final":
        return {cf.rt_end}
    key = 1 if ep == "end" else 0
    if courses:
        named = set().union(*courses)
        # "die Strahlentherapie der linken Brust … abgeschlossen": the patient's treatment ended with its last course
        whole = {cf.rt_end if ep == "end" else cf.rt_start} if episode else set()
        return {cf.course_dates[i][key] for i in named} | whole
    if episode:
        return {cf.rt_end if ep == "end" else cf.rt_start}
    return {c[key] for c in cf.course_dates}


def _course_sets(numbers, cf: CaseFacts) -> list[set[int]]:
    """Doses and fraction counts that belong to some of the case's courses only: those courses."""
    out = []
    n = len(cf.course_rows)
    for kind, v in numbers:
        if kind == "d":
            k = {i for i, (fx, dpf, tot) in enumerate(cf.course_rows) if close(v, dpf) or close(v, tot)}
        else:
            k = {i for i, (fx, _, _) in enumerate(cf.course_rows) if fx == v}
        if k and len(k) < n:
            out.append(k)
    return out


def date_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out: list[Flag] = []
    dates, ev, periods = f.dates, cf.events, cf.periods
    n_courses = len(cf.course_dates)

    def flag(i):
        d = dates[i]
        if _backed(d.value, cf):
            out.append(Flag(d.start, d.end, "date_event_mismatch", _value_str(d.value)))

    for r in f.ranges:
        x, y = dates[r.first].value, dates[r.last].value
        if isinstance(x, dt.date) and isinstance(y, dt.date) and y < x:
            # a range that ends before it begins ('from 25/06/2029 to 20/06/2029'): one of its dates is another event's
            out.append(Flag(r.start, r.end, "date_event_mismatch", f"{_value_str(x)}/{_value_str(y)}"))
            continue
        if any(_same(x, p) and _same(y, q) for p, q, _ in periods):
            K = {ci for ci, (s, e) in enumerate(cf.course_dates) if _same(x, s) and _same(y, e)}
            own = {cf.course_dates[i] for i in K}
            other_period = any(_same(x, p) and _same(y, q) and (p, q) not in own for p, q, _ in periods)
            if n_courses > 1 and K and not other_period:
                evidence = r.courses or _course_sets(r.numbers, cf)
                if evidence:
                    wrong = not any(e & K for e in evidence)
                else:
                    # nothing names a course: a boost's dates, or one course's dates given for the patient's whole
                    # treatment ('die vom … bis … durchgeführte Strahlentherapie')
                    wrong = all(i in cf.boost_courses for i in K) or (r.episode and not r.boost)
                if wrong:
                    out.append(Flag(r.start, r.end, "date_event_mismatch", f"{_value_str(x)}/{_value_str(y)}"))
            continue
        cand = [p for p in periods if p[2] in r.cue_kinds] or periods
        starts, ends = any(_same(x, p) for p, _, _ in cand), any(_same(y, q) for _, q, _ in cand)
        if r.lead is not None and r.lead.kind not in ("rt", "systemic"):
            # 'ED 10.2.2023–27.10.2023': the first date is the diagnosis' (or not); the second is no end of one
            allowed = {cf.surgery_dates[r.lead.surgery]} if r.lead.surgery is not None else ev[r.lead.kind]["all"]
            flag(r.first if not _in(x, allowed) else r.last)
            continue
        if starts != ends:
            flag(r.last if starts else r.first)
        elif _backed(x, cf) and _backed(y, cf):
            out.append(Flag(r.start, r.end, "date_event_mismatch", f"{_value_str(x)}/{_value_str(y)}"))
        else:
            flag(r.first)
            flag(r.last)
    for d in dates:
        if d.in_range or not _backed(d.value, cf):
            continue
        if not d.cues:
            ep = d.strong_endpoint
            if ep and not _in(d.value, _rt_dates(cf, ep, d.courses, d.episode)):
                out.append(Flag(d.start, d.end, "date_event_mismatch", _value_str(d.value)))
            continue
        allowed: set = set()
        for c in d.cues:
            if c.weeks is not None:
                # a follow-up date said as weeks (or months) after the end of radiotherapy: a visit of the case in
                # that time (10 days' slack for months), or the date those weeks give
                lo = cf.rt_end + dt.timedelta(weeks=c.weeks) - dt.timedelta(days=10 if c.weeks % 1 else 0)
                hi = cf.rt_end + dt.timedelta(weeks=c.weeks_to or c.weeks) + dt.timedelta(days=10 if c.weeks % 1 else 0)
                allowed |= {x for x in ev["followup"]["all"] if lo <= x <= hi} | {cf.rt_end + dt.timedelta(weeks=round(c.weeks))}
            elif c.surgery is not None:
                allowed.add(cf.surgery_dates[c.surgery])
            elif c.kind == "rt" and c.endpoint:
                allowed |= _rt_dates(cf, c.endpoint, d.courses, d.episode)
            elif c.endpoint and ev[c.kind].get(c.endpoint):
                allowed |= ev[c.kind][c.endpoint]
            else:
                allowed |= ev[c.kind]["all"]
        if allowed and not _in(d.value, allowed):
            out.append(Flag(d.start, d.end, "date_event_mismatch", _value_str(d.value)))
    return out


def dose_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    rows = list(cf.course_rows)
    n_real = len(rows)
    if n_real > 1:
        dpfs = {round(r[1], 2) for r in rows}
        rows.append((sum(r[0] for r in rows), dpfs.pop() if len(dpfs) == 1 else None, sum(r[2] for r in rows)))
    out: list[Flag] = []

    def match(n=None, d=None, D=None, u=None) -> set[int]:
        got = set()
        for i, (fx, dpf, tot) in enumerate(rows):
            if n is not None and n != fx:
                continue
            if d is not None and (dpf is None or not close(d, dpf)):
                continue
            if D is not None and not close(D, tot):
                continue
            if u is not None and not ((dpf is not None and close(u, dpf)) or close(u, tot)):
                continue
            got.add(i)
        return got

    for st in f.statements:
        n, d, D, u = st.fractions, st.dpf, st.total, st.unknown
        known = sum(x is not None for x in (n, d, D))
        value = f"{n if n is not None else '?'} x {d:g} Gy = {D:g} Gy" if d is not None and D is not None else ""
        if n is not None and d is not None and D is not None:
            M = match(n, d, D)
            if not M:
                kind = "dose_arithmetic" if abs(n * d - D) > max(DOSE_TOLERANCE_GY, 0.005 * n) + 1e-9 else "dose_course_mismatch"
                out.append(Flag(st.start, st.end, kind, value))
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
        evidence = list(st.courses)
        for (x_start, y_end, x, y, own), (span_x, span_y) in zip(st.ranges, st.range_spans):
            hit = {ci for ci, (s, e) in enumerate(cf.course_dates) if s == x and e == y}
            if hit:
                evidence.append(hit)
            elif own and len(M) == 1 and any(p == x and q == y for p, q, _ in cf.periods):
                # another period of the case (the whole radiotherapy) written for this one course
                s, e = cf.course_dates[next(iter(M))]
                for (ha, hb), v, want in ((span_x, x, s), (span_y, y, e)):
                    if v != want:
                        out.append(Flag(ha, hb, "date_event_mismatch", v.isoformat()))
        if evidence and not any(e & M for e in evidence):
            out.append(Flag(st.start, st.end, "dose_course_mismatch", value or f"course {min(M) + 1}"))
    return out


def laterality_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    from medletter.evaluate.factcheck.text import similar

    out = []
    for s in f.sides:
        if s.of_diagnosis and cf.main_side_mark in ("L", "R") and s.side != cf.main_side_mark:
            out.append(Flag(s.start, s.end, "laterality_mismatch", f.text[s.start:s.end]))
    if cf.side_map:
        for s in f.sides:
            if s.of_diagnosis:
                continue
            known = []
            for w in s.neighbours:
                vs = variants(w)
                # the same word, or a compound that begins with one the case names ("brusterhaltend" with "Brust")
                sides = next((v for k, v in cf.side_map.items() if any(similar(x, k) or (len(k) >= 5 and x.startswith(k)) for x in vs)), None)
                if sides is not None:
                    known.append(sides)
            # words the case gives one side decide; words it gives both sides only count without them
            decisive = [x for x in known if len(x) == 1] or known
            if decisive and not any(s.side in x for x in decisive):
                out.append(Flag(s.start, s.end, "laterality_mismatch", f.text[s.start:s.end]))
    for cu in f.codes:
        if cu.side_marker is None or cu.code != cf.main_code:
            continue
        a, b, mark = cu.side_marker
        if cf.main_side_mark and mark != cf.main_side_mark:
            out.append(Flag(a, b, "laterality_mismatch", f"{cu.code} {mark}"))
    return out


def tnm_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out = []
    for a, b, p in f.tnm:
        core = tnm_core(p)
        if core not in cf.tnm_prefixes:
            continue
        pre = p[: len(p) - len(core)]
        if pre and all(x for x in cf.tnm_prefixes[core]) and pre not in cf.tnm_prefixes[core]:
            out.append(Flag(a, b, "tnm_mismatch", p))
    return out


def code_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out = [Flag(a, b, "invalid_code", v) for a, b, v in f.invalid_codes]
    for cu in f.codes:
        if cu.after_dx is None or cu.code not in cf.codes:
            continue
        want = cf.dx_codes[cu.after_dx]
        if want and want != cu.code:
            out.append(Flag(cu.start, cu.end, "code_mismatch", cu.code))
    return out


def diagnosis_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    """An item of the diagnosis list that names no diagnosis of the case and gives no detail of one (a diagnosis the
    case does not have, or another statement put there), and a diagnosis listed again as a new item."""
    out = []
    seen: set[int] = set()
    before: list[frozenset] = []
    for it in f.diagnoses:
        again = len(it.words) >= 4 and any(len(it.words & w) >= 0.9 * len(it.words) for w in before)
        if again or (it.diagnosis is not None and it.whole and it.diagnosis in seen):
            what = cf.case_dx_texts[it.diagnosis] if it.diagnosis is not None else f.text[it.start:it.end].strip()
            out.append(Flag(it.start, it.end, "repeated_diagnosis", what[:60]))
        elif it.diagnosis is None and not it.detail:
            out.append(Flag(it.start, it.end, "invented_diagnosis", f.text[it.start:it.end].strip()[:60]))
        if it.diagnosis is not None and it.whole:
            seen.add(it.diagnosis)
        before.append(it.words)
    # one flag for one line ("NSCLC …, cT4 cN2 cM0; UICC IIIB (…)" written again is one repeat, not three)
    merged: list[Flag] = []
    for fl in out:
        prev = merged[-1] if merged else None
        if prev and prev.kind == fl.kind and "\n" not in f.text[prev.end:fl.start]:
            merged[-1] = Flag(prev.start, fl.end, fl.kind, prev.value)
        else:
            merged.append(fl)
    return merged


def binding_flags(f: LetterFacts, cf: CaseFacts) -> list[Flag]:
    out = []
    for fn in (grade_flags, date_flags, dose_flags, laterality_flags, tnm_flags, code_flags, diagnosis_flags):
        out += fn(f, cf)
    return out

