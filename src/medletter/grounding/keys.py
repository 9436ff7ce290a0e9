"""The numbers a letter may write for a case: its values rendered every way letters write them.

:func:`allowed_numbers` renders the case's values as text (doses "40,05 Gy" / "40.05 Gy", fraction counts,
dates in every form: "4.4.2029", "04.04.29", "4.4.", "04/2029", "2029-04-04", "4. April 2029", codes "C50.4",
TNM "pT1c pN0 cM0", grades "Grad 2" / "G2" / "°2", ages, intervals and follow-up dates the case implies) and
scans that text, and every free-text field of the case, with the same :class:`~medletter.grounding.spans.Scanner`
the gate runs over a draft. What the scan finds is allowed: a span of a class (``keys``), and a number with the
unit written after it (``typed``: "15 Gy" is not allowed because 15 is a number of the case; only the doses
are). A department's own constants (telephone numbers, "CTCAE v5.0") come from the training letters
(:mod:`medletter.grounding.constants`), never another patient's values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from medletter import months as MO
from medletter.grounding.spans import Closed, Unit, numeric, scan
from medletter.records import Case
from medletter.textfmt import age_on

UNIVERSAL = ("ICD-10", "ICD-10-GM", "CTCAE v5.0", "CTCAE v5", "CTCAE 5.0")
"""Strings every radiation-oncology letter may write (classification versions), whatever the case."""


@dataclass
class AllowedNumbers:
    """What a draft may write: ``keys`` per span class, ``typed`` per unit (the values a span followed by that
    unit may have). Built by :func:`allowed_numbers`."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    typed: dict[str, set] = field(default_factory=dict)
    _prefixes: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def add_text(self, text: str) -> None:
        """Allow every span (and every number with its unit) of ``text``."""
        for ev in scan(text):
            if isinstance(ev, Closed):
                self.add(ev.klass, ev.span)
            elif isinstance(ev, Unit) and ev.unit:
                self.typed.setdefault(ev.unit, set()).add(numeric(ev.closed.span))

    def add(self, klass: str, span: str) -> None:
        span = span.replace("–", "-")
        self.keys.setdefault(klass, set()).add(span)
        pre = self._prefixes.setdefault(klass, set())
        for i in range(1, len(span) + 1):
            pre.add(span[:i])

    def has_class(self, klass: str) -> bool:
        return bool(self.keys.get(klass))

    def _parts(self, span: str) -> list[str] | None:
        """A span of two short groups joined by '/' or '-' ("50,4/1,8", "6-8"): its groups; else None (a
        telephone number or a date is allowed whole, not as two numbers that happen to be allowed)."""
        parts = re.split(r"[/-]", span)
        return parts if len(parts) == 2 and all(len(p) <= 4 for p in parts) else None

    def prefix_ok(self, klass: str, span: str) -> bool:
        """Some allowed span of this class begins with ``span`` (an open span, maybe ending in a join)."""
        span = span.replace("–", "-")
        if span in self._prefixes.get(klass, ()):
            return True
        parts = self._parts(span)
        if parts is None:
            return False
        return parts[0] in self.keys.get(klass, ()) and (parts[1] == "" or parts[1] in self._prefixes.get(klass, ()))

    def complete_ok(self, klass: str, span: str) -> bool:
        span = span.replace("–", "-")
        ks = self.keys.get(klass, ())
        if span in ks:
            return True
        parts = self._parts(span)
        return parts is not None and all(p in ks for p in parts)

    def unit_ok(self, span: str, unit: str | None) -> bool:
        """A span followed by ``unit`` names a value the case has for that unit ("15 Gy" only if 15 Gy is a dose)."""
        if unit is None:
            return True
        vals = self.typed.get(unit, set())
        v = numeric(span)
        if isinstance(v, float):
            return any(isinstance(x, float) and abs(x - v) < 0.011 for x in vals)
        if v in vals:
            return True
        parts = self._parts(v)
        # "6–8 Wochen", "2026–20 November": the unit is the last number's
        return parts is not None and bool(parts[1]) and self.unit_ok(parts[1], unit)

    def to_dict(self) -> dict:
        return {"keys": {k: sorted(v) for k, v in sorted(self.keys.items())},
                "typed": {u: sorted(map(str, v)) for u, v in sorted(self.typed.items())}}


# ---------------------------------------------------------------- renderings

def num_forms(x: float) -> list[str]:
    """40.05 -> 40,05 / 40.05; 50.4 -> 50,4 / 50.4 / 50,40 / 50.40; 2 -> 2 / 2,0 / 2.0 / 2,00 / 2.00."""
    out = []
    for nd in (0, 1, 2):
        s = f"{x:.{nd}f}"
        if abs(float(s) - x) < 1e-9:
            out += [s, s.replace(".", ",")]
    return list(dict.fromkeys(out))


def date_forms(d: dt.date) -> list[str]:
    """A date in every form German and English letters write it (numbers only; names in :func:`month_forms`)."""
    ds, ms, y, yy = (str(d.day), f"{d.day:02d}"), (str(d.month), f"{d.month:02d}"), str(d.year), f"{d.year % 100:02d}"
    out = []
    for a in ds:
        for b in ms:
            out += [f"{a}.{b}.{y}", f"{a}.{b}.{yy}", f"{a}.{b}.", f"{a}/{b}/{y}", f"{a}/{b}/{yy}", f"{b}/{a}/{y}", f"{b}/{a}/{yy}"]
    for b in ms:
        out += [f"{b}/{y}", f"{b}/{yy}", f"{b}.{y}", f"{y}-{b}"]
    out += [d.isoformat(), y, str(d.day)]
    return out


def month_forms(d: dt.date) -> list[str]:
    """'4. April 2029', '4 April 2029', '4. Apr. 2029': the day with its month (typed as that month's day)."""
    words = [MO.MONTHS_DE[d.month - 1], MO.MONTHS_EN[d.month - 1]] + [k for k, v in MO.ABBREVIATIONS.items() if v == d.month]
    out = []
    for w in dict.fromkeys(words):
        out += [f"{d.day}. {w} {d.year}", f"{d.day} {w} {d.year}", f"{d.day}. {w}. {d.year}", f"{d.day} {w}. {d.year}"]
    return out


def _strings(obj) -> list[str]:
    """Every string value of a nested structure (the case as JSON), and its numbers as text (cycles, days)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, bool):
        return []
    if isinstance(obj, int):
        return [str(obj)]
    if isinstance(obj, float):
        return num_forms(obj)
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return []


def renderings(case: Case) -> list[str]:
    """The case's values as letters write them, one piece of text each."""
    out: list[str] = list(UNIVERSAL)
    courses = case.radiotherapy_courses
    doses = {c.dose_per_fraction_gy for c in courses} | {c.total_dose_gy for c in courses}
    doses.add(round(sum(c.total_dose_gy for c in courses), 2))
    for x in doses:
        out += [f"{f} Gy" for f in num_forms(x)]
    fracs = {c.fractions for c in courses} | {sum(c.fractions for c in courses)} | {c.fractions_per_week for c in courses}
    for n in fracs:
        out += [f"{n} Fraktionen", f"{n} x"]
    for d in case.all_dates():
        out += date_forms(d) + month_forms(d)
    # intervals: the follow-up (weeks, and months and years where they come out whole or nearly), the treatment's
    # length, interruptions, the patient's age (now and at diagnosis)
    fu = case.follow_up
    weeks = {fu.first_visit_weeks} | {v.after_weeks for v in fu.visits}
    for w in weeks:
        out.append(f"{w} Wochen")
        out.append(f"{round(w / 4.345)} Monate")
        if w % 4 == 0:
            out.append(f"{w // 4} Monate")
        if w % 52 == 0:
            out.append(f"{w // 52} Jahre")
    for c in courses:
        days = (c.end_date - c.start_date).days
        out += [f"{max(1, round((days + 1) / 7))} Wochen", f"{days // 7} Wochen", f"{days // 7 + 1} Wochen", f"{days + 1} Tage"]
        out += [f"{i.days} Tage" for i in c.interruptions]
    whole = (case.rt_end - case.rt_start).days
    out += [f"{max(1, round((whole + 1) / 7))} Wochen", f"{whole + 1} Tage"]
    out.append(f"{age_on(case.patient.birth_date, case.letter_date)} Jahre")
    if case.main_diagnosis.date_of_diagnosis:
        out.append(f"{age_on(case.patient.birth_date, case.main_diagnosis.date_of_diagnosis)} Jahre")
    # codes, TNM, grades
    d = case.main_diagnosis
    codes = [d.icd10.split()[0]] + [s.icd10.split()[0] for s in case.secondary_diagnoses if s.icd10]
    for code in codes:
        out += [code, code.split(".")[0]]
    grades = {t.grade for t in case.toxicities}
    if d.grading and (m := re.match(r"^G([1-4])$", d.grading.strip())):
        grades.add(int(m.group(1)))
    if d.grading and (m := re.search(r"(?:Grad|grade|Grade)\s*([1-4])\b", d.grading)):
        grades.add(int(m.group(1)))  # "CNS WHO Grad 4" is also written "G4"
    for g in grades:
        out += [f"Grad {g}", f"grade {g}", f"G{g}", f"°{g}", f"{g}°"]
    out += _strings(case.model_dump(mode="json"))
    return out


def allowed_numbers(case: Case, constants=()) -> AllowedNumbers:
    """What a draft for ``case`` may write; ``constants`` are more texts to allow (the department's, from
    :func:`medletter.grounding.constants.load_constants`)."""
    a = AllowedNumbers()
    for t in renderings(case):
        a.add_text(t)
    for t in constants:
        a.add_text(t)
    return a
