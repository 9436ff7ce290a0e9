"""Synthetic cases: a patient, an entity episode, the department, dates in order, the follow-up plan."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from medletter.records import Case, FollowUpPlan, FollowUpVisit, Patient, PriorTreatments, SecondaryDiagnosis, Sex

from .entities import ENTITIES, PRIMARIES, PRIMARY_OF, SECONDARY_DIAGNOSES, Ctx
from .people import make_patient, make_referrer, treating_physicians

FIRST_DX = dt.date(2023, 1, 2)
LAST_DX = dt.date(2029, 6, 30)


@dataclass
class Department:
    """The institution that writes the letters (one per style)."""

    institution: str
    phone: str
    fax: str
    roster: list = field(default_factory=list)
    with_chief: bool = False


@dataclass
class Ids:
    """Unique patient and case numbers within one corpus."""

    used: set[str] = field(default_factory=set)

    def new(self, rng: random.Random, make) -> str:
        while True:
            value = make(rng)
            if value not in self.used:
                self.used.add(value)
                return value


def _patient_id(rng: random.Random) -> str:
    return str(rng.randint(10_000_000, 99_999_999))


def _case_id(year: int):
    return lambda rng: f"{year}-{rng.randint(100000, 999999)}"


def _weekday(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def make_case(
    rng: random.Random,
    entity: str,
    lang: str,
    dept: Department,
    ids: Ids,
    *,
    patient: Patient | None = None,
    not_before: dt.date | None = None,
    previous: Case | None = None,
) -> Case:
    """One case of ``entity``. With ``patient`` (and ``previous``), a later case of the same patient."""
    spec = ENTITIES[entity]
    if not_before is not None:
        dx_date = not_before + dt.timedelta(days=rng.randint(200, 1300))
    else:
        dx_date = FIRST_DX + dt.timedelta(days=rng.randint(0, (LAST_DX - FIRST_DX).days))
    dx_date = _weekday(dx_date)
    if patient is None:
        sex = Sex.female if spec.sex == "f" else Sex.male if spec.sex == "m" else (Sex.female if rng.random() < 0.5 else Sex.male)
        age = rng.randint(*spec.age)
        birth = dx_date - dt.timedelta(days=int(age * 365.25) + rng.randint(0, 364))
        patient_id = ids.new(rng, _patient_id)
    else:
        sex, birth, patient_id = patient.sex, patient.birth_date, patient.patient_id
    age = dx_date.year - birth.year - ((dx_date.month, dx_date.day) < (birth.month, birth.day))
    primary = None
    if previous is not None:
        primary = PRIMARY_OF.get(previous.entity or "")
        if primary is None:  # a metastasis case before: its primary is its first secondary diagnosis
            icds = [s.icd10 for s in previous.secondary_diagnoses if s.icd10]
            primary = next((k for k, (_, icd) in PRIMARIES.items() if icd in icds), None)
    ctx = Ctx(rng=rng, lang=lang, sex=sex, dx_date=dx_date, age=age, primary=primary)
    ep = spec.build(ctx)
    case_id = ids.new(rng, _case_id(dx_date.year))
    if patient is None:
        patient = make_patient(rng, sex, birth, patient_id, case_id)
    else:
        patient = patient.model_copy(update={"case_id": case_id})

    secondary: list[SecondaryDiagnosis] = []
    if previous is not None:
        prev = previous.main_diagnosis
        secondary.append(SecondaryDiagnosis(text=prev.text, icd10=prev.icd10))
        secondary.extend(s for s in previous.secondary_diagnoses if s.icd10 and s.icd10.startswith("C"))
    else:
        secondary.extend(ep.secondary)
    for i in sorted(rng.sample(range(len(SECONDARY_DIAGNOSES)), rng.choice((0, 1, 1, 2, 2, 3)))):
        name, icd = SECONDARY_DIAGNOSES[i]
        secondary.append(SecondaryDiagnosis(text=ctx.L(name), icd10=icd))

    prior = PriorTreatments(surgeries=list(ep.surgeries), systemic=list(ep.systemic))
    if previous is not None:
        prior = PriorTreatments(
            surgeries=[s for s in previous.prior_treatments.surgeries] + prior.surgeries,
            systemic=[s for s in previous.prior_treatments.systemic if s.intent != "concurrent"] + prior.systemic,
        )
    rt_end = max(c.end_date for c in ep.courses)
    letter_date = _weekday(rt_end + dt.timedelta(days=rng.randint(0, 5)))
    first = rng.randint(6, 8)
    visits = [FollowUpVisit(after_weeks=first, what=ctx.L(("Erste Nachsorge in der Strahlentherapie", "First follow-up in radiation oncology")),
                            where=ctx.L(("Ambulanz Strahlentherapie", "Radiation oncology clinic")))]
    for weeks, what in ep.extra_visits:
        visits.append(FollowUpVisit(after_weeks=max(weeks, first + 1) if weeks <= first else weeks, what=what))
    return Case(
        case_id=case_id,
        letter_date=letter_date,
        letter_type="end_of_treatment",
        patient=patient,
        referring_physician=make_referrer(rng, ep.referrer, lang),
        treating_physicians=treating_physicians(rng, dept.roster, dept.institution, dept.phone, dept.fax, lang, dept.with_chief and rng.random() < 0.3),
        main_diagnosis=ep.diagnosis,
        secondary_diagnoses=secondary,
        prior_treatments=prior,
        radiotherapy_courses=ep.courses,
        toxicities=ep.toxicities,
        findings_at_end=ep.findings,
        recommendations=ep.recommendations,
        follow_up=FollowUpPlan(first_visit_weeks=first, visits=visits, interval_text=ep.interval_text or None),
        entity=entity,
    )


__all__ = ["Department", "Ids", "make_case", "PRIMARIES"]
