"""Shared machinery of the letter renderers: PHI pieces, numbers, dates, wording helpers.

A renderer writes one section at a time into a :class:`~medletter.synth.text.Builder`; every
piece of patient information goes in as a :class:`~medletter.synth.text.Phi`, so the spans of the
letter are exact by construction.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from medletter.records import Case, Physician, RadiotherapyCourse, Sex, Technique

from medletter.textfmt import age_on, fmt_date, fmt_gy

from .text import Builder, Phi, join

if TYPE_CHECKING:  # pragma: no cover
    from .styles import Style

TECH_NAMES = {
    "de": {Technique.brachy: "Brachytherapie", Technique.electrons: "Elektronen"},
    "en": {Technique.brachy: "brachytherapy", Technique.electrons: "electrons"},
}

INTENT_ADJ = {
    "de": {"adjuvant": "adjuvante", "definitive": "definitive", "neoadjuvant": "neoadjuvante", "palliative": "palliative",
           "consolidating": "konsolidierende", "stereotactic": "stereotaktische", "postoperative": "postoperative"},
    "en": {"adjuvant": "adjuvant", "definitive": "definitive", "neoadjuvant": "neoadjuvant", "palliative": "palliative",
           "consolidating": "consolidative", "stereotactic": "stereotactic", "postoperative": "postoperative"},
}

SYSTEMIC_INTENT = {
    "de": {"adjuvant": "adjuvant", "neoadjuvant": "neoadjuvant", "concurrent": "simultan", "palliative": "palliativ",
           "maintenance": "Erhaltung", "induction": "Induktion"},
    "en": {"adjuvant": "adjuvant", "neoadjuvant": "neoadjuvant", "concurrent": "concurrent", "palliative": "palliative",
           "maintenance": "maintenance", "induction": "induction"},
}


def rt_intent(case: Case) -> str:
    e = case.entity or ""
    techs = {c.technique for c in case.radiotherapy_courses}
    if e in ("bone_mets", "brain_mets"):
        return "stereotactic" if techs & {Technique.srs, Technique.fsrt} else "palliative"
    if e == "breast":
        return "adjuvant"
    if e == "glioblastoma":
        return "postoperative"
    if e == "lymphoma":
        return "consolidating"
    if e == "rectum":
        return "neoadjuvant"
    if e == "oesophagus":
        return "neoadjuvant" if case.radiotherapy_courses[0].fractions == 23 else "definitive"
    if e == "nsclc" and Technique.sbrt in techs:
        return "stereotactic"
    return "definitive"


class Renderer:
    """Base class: one instance renders one letter of one case."""

    def __init__(self, case: Case, style: "Style", lang: str, rng: random.Random):
        self.case = case
        self.style = style
        self.lang = lang
        self.rng = rng
        self.de = lang == "de"
        self.female = case.patient.sex == Sex.female

    # --- choices ------------------------------------------------------------------------------
    def L(self, de: str, en: str) -> str:
        return de if self.de else en

    def v(self, *pairs: tuple[str, str]) -> str:
        """One of several (German, English) variants."""
        de, en = self.rng.choice(pairs)
        return de if self.de else en

    def g(self, f: str, m: str) -> str:
        """The patient's grammatical gender form."""
        return f if self.female else m

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- PHI pieces ---------------------------------------------------------------------------
    def date(self, d: dt.date, fmt: str | None = None) -> Phi:
        return Phi(fmt_date(d, fmt or self.style.date_format[self.lang], self.lang), "DATE")

    def dx_date(self, d: dt.date) -> Phi:
        fmt = self.style.coarse_date_format.get(self.lang) if self.style.coarse_date_format else None
        return self.date(d, fmt)

    def period(self, a: dt.date, b: dt.date, *, coarse: bool = False) -> list:
        if a == b:
            return [self.dx_date(a) if coarse else self.date(a)]
        d = self.dx_date if coarse else self.date
        return [d(a), "–", d(b)]

    def from_to(self, a: dt.date, b: dt.date) -> list:
        """"vom 03.01.2029 bis 21.01.2029" / "from 3 January 2029 to 21 January 2029"."""
        if a == b:
            return [self.L("am ", "on "), self.date(a)]
        return [self.L("vom ", "from "), self.date(a), self.L(" bis ", " to "), self.date(b)]

    def pat_full(self) -> Phi:
        p = self.case.patient
        return Phi(f"{p.first_name} {p.last_name}", "NAME_PATIENT")

    def pat_last(self) -> Phi:
        return Phi(self.case.patient.last_name, "NAME_PATIENT")

    def mrs(self, case: str = "nom") -> str:
        """Frau/Herr (nom), Frau/Herrn (acc/dat); Mrs/Mr."""
        if not self.de:
            return "Mrs" if self.female else "Mr"
        return "Frau" if self.female else ("Herr" if case == "nom" else "Herrn")

    def pat(self, full: bool | None = None, case: str = "nom") -> list:
        if full is None:
            full = self.chance(0.5)
        return [self.mrs(case), " ", self.pat_full() if full else self.pat_last()]

    def dob(self) -> Phi:
        return self.date(self.case.patient.birth_date)

    def age(self) -> Phi:
        return Phi(str(age_on(self.case.patient.birth_date, self.case.letter_date)), "AGE")

    def doc_name(self, ph: Physician) -> Phi:
        return Phi(f"{ph.first_name} {ph.last_name}", "NAME_DOCTOR")

    def doc_last(self, ph: Physician) -> Phi:
        return Phi(ph.last_name, "NAME_DOCTOR")

    def signed(self, ph: Physician, with_role: bool = True, sep: str = ", ") -> list:
        out: list = []
        if ph.title:
            out.append(ph.title + " ")
        out.append(self.doc_name(ph))
        if with_role and ph.role:
            out.append(f"{sep}{ph.role}")
        return out

    def colleague_salutation(self) -> list:
        """"Sehr geehrte Frau Kollegin Dr. Meier," / "Dear Dr Meier,"."""
        ph = self.case.referring_physician
        short = "Prof. Dr." if "Prof" in ph.title else ("Dr." if "Dr" in ph.title else "")
        if self.de:
            fem = ph.sex == Sex.female
            head = ("Sehr geehrte Frau Kollegin" if fem else "Sehr geehrter Herr Kollege") if self.chance(0.6) else \
                   ("Sehr geehrte Frau" if fem else "Sehr geehrter Herr")
            return [head, " ", (short + " ") if short else "", self.doc_last(ph), ","]
        short_en = "Professor" if "Prof" in ph.title else ("Dr" if "Dr" in ph.title else ("Ms" if ph.sex == Sex.female else "Mr"))
        return ["Dear ", short_en, " ", self.doc_last(ph), ","]

    # --- case facts ---------------------------------------------------------------------------
    def gy(self, x: float) -> str:
        return fmt_gy(x, self.lang)

    def dose(self, c: RadiotherapyCourse, de: str, en: str) -> str:
        """Dose statement from a template with {fx}, {dpf}, {total}; a single fraction reads "einmalig 8 Gy"."""
        if c.fractions == 1:
            return self.L(f"einmalig {self.gy(c.total_dose_gy)}", f"single fraction of {self.gy(c.total_dose_gy)}")
        return (de if self.de else en).format(fx=c.fractions, dpf=self.gy(c.dose_per_fraction_gy), total=self.gy(c.total_dose_gy))

    def tech(self, c: RadiotherapyCourse) -> str:
        return TECH_NAMES[self.lang].get(c.technique, c.technique.value)

    def main_courses(self) -> list[RadiotherapyCourse]:
        return [c for c in self.case.radiotherapy_courses if not c.is_boost]

    def boosts(self) -> list[RadiotherapyCourse]:
        return [c for c in self.case.radiotherapy_courses if c.is_boost]

    def has_chemo(self) -> bool:
        return any(c.concurrent_chemotherapy for c in self.case.radiotherapy_courses)

    def modality(self) -> str:
        if self.has_chemo():
            return self.L("Radiochemotherapie", "chemoradiotherapy")
        return self.v(("Radiotherapie", "radiotherapy"), ("Strahlentherapie", "radiotherapy"))

    def intent_adj(self) -> str:
        return INTENT_ADJ[self.lang][rt_intent(self.case)]

    def tox_list(self, fmt: str = "{term} Grad {grade}", fmt_en: str = "{term} grade {grade}") -> list[str]:
        f = fmt if self.de else fmt_en
        return [f.format(term=t.term, grade=t.grade) for t in self.case.toxicities]

    def max_grade(self) -> int:
        return max((t.grade for t in self.case.toxicities), default=0)

    def icd_dx(self) -> str:
        return self.case.main_diagnosis.icd10

    def stage(self) -> str:
        dx = self.case.main_diagnosis
        parts = []
        if dx.tnm:
            parts.append(dx.tnm)
        if dx.uicc_stage and not (dx.text.endswith(dx.uicc_stage) and ("FIGO" in dx.text or "Ann Arbor" in dx.text)):
            parts.append(f"UICC {dx.uicc_stage}")
        return ", ".join(parts)

    def histo(self) -> str:
        dx = self.case.main_diagnosis
        return ", ".join(x for x in (dx.histology, dx.grading) if x)

    def systemic_text(self, s) -> str:
        """"EC → Paclitaxel (Epirubicin, …), 8 Zyklen, adjuvant"."""
        regimen = s.regimen
        missing = [a for a in s.agents if a.lower() not in regimen.lower()]
        if missing and len(missing) <= 2:
            regimen += self.L(" mit ", " with ") + ", ".join(missing)
        parts = [regimen]
        if s.cycles and str(s.cycles) not in s.regimen:
            parts.append(self.L(f"{s.cycles} Zyklen", f"{s.cycles} cycles"))
        parts.append(SYSTEMIC_INTENT[self.lang][s.intent])
        return ", ".join(parts)

    def prior_systemic(self):
        return [s for s in self.case.prior_treatments.systemic if s.intent != "concurrent"]

    def first_visit_date(self) -> dt.date:
        return self.case.rt_end + dt.timedelta(weeks=self.case.follow_up.first_visit_weeks)


def sentence_list(items: list[str], lang: str) -> str:
    """"A, B und C" / "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + (" und " if lang == "de" else " and ") + items[-1]


def short_dx(case: Case) -> str:
    """The diagnosis text up to its first comma ("Rektumkarzinom, 8 cm ab ano" -> "Rektumkarzinom")."""
    return case.main_diagnosis.text.split(",")[0]


def lower_first(s: str) -> str:
    """Lower-case the first letter unless the word looks like an abbreviation or a German noun is kept."""
    if len(s) > 1 and s[1].isupper():
        return s
    return s[:1].lower() + s[1:]


__all__ = ["Builder", "Phi", "Renderer", "join", "rt_intent", "sentence_list", "lower_first", "short_dx"]
