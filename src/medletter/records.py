"""Case records and letters of a radiation-oncology department.

A *case* is what the department knows about one treatment episode of one patient: who the
patient is, the diagnosis (ICD-10, TNM, histology), what was done before, the radiotherapy
course(s), the side effects, the findings at the end of treatment and what comes next.
A *letter* is the physician letter (Arztbrief) written for that case, as sections.

One line of a corpus file is a :class:`Record`: ``{"case": {...}, "letter": {...}}``; the letter
is optional (a case for which a draft is wanted has none yet).

Validation encodes domain sense: dose arithmetic, plausible dose per fraction, CTCAE grades,
dates in order, ICD-10 format. Error messages name the field and never echo the value, so that
patient data cannot leak into logs.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

ICD10_RE = re.compile(r"^[A-TV-Z][0-9]{2}(\.[0-9]{1,2})?[+*!]?( ?[GVZALRB])?$")
"""ICD-10(-GM) code: letter, two digits, optional subcode, optional dagger/star and
certainty/side marker (G, V, Z, A; L, R, B for laterality)."""

TNM_RE = re.compile(
    r"^(?:(?:y|r|a|yp|yc|p|c)?T(?:[0-4][a-d]?\d?|is|x|X)(?:\s*\(m\))?)?"
    r"(?:\s*(?:y|yp|p|c)?N(?:[0-3][a-c]?|x|X)(?:\s*\(\d+/\d+\))?)?"
    r"(?:\s*(?:p|c)?M(?:[01][a-c]?|x|X)(?:\s*\([A-Z]{3}\))?)?"
    r"(?:\s*(?:L[01X]|V[0-2X]|Pn[01X]|R[0-2X]|G[1-4X]))*$"
)

DOSE_TOLERANCE_GY = 0.05
"""How far total dose may be from dose per fraction × fractions (rounding of stated doses)."""

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldProblem(ValueError):
    """A cross-field check failed; ``field`` names the field (relative to the model checked)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Sex(str, Enum):
    female = "female"
    male = "male"
    diverse = "diverse"


class Laterality(str, Enum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    midline = "midline"
    not_applicable = "not_applicable"


class Technique(str, Enum):
    conv_3d = "3D-CRT"
    imrt = "IMRT"
    vmat = "VMAT"
    sbrt = "SBRT"
    srs = "SRS"
    fsrt = "FSRT"
    brachy = "brachytherapy"
    electrons = "electrons"


class Address(_Model):
    street: NonEmpty
    postcode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z -]{3,10}$")]
    city: NonEmpty
    country: str = "DE"


class Patient(_Model):
    first_name: NonEmpty
    last_name: NonEmpty
    sex: Sex
    birth_date: dt.date
    address: Address | None = None
    """Required unless the case lists ``patient.address`` in ``missing`` (so for the fields below)."""
    phone: str | None = None
    patient_id: NonEmpty | None = None
    case_id: NonEmpty
    insurance_number: NonEmpty | None = None


class Physician(_Model):
    title: str = "Dr. med."
    first_name: NonEmpty
    last_name: NonEmpty
    sex: Sex | None = None
    role: str | None = None
    institution: str | None = None
    address: Address | None = None
    phone: str | None = None
    fax: str | None = None


class Diagnosis(_Model):
    text: NonEmpty
    icd10: str | None = None
    """Required unless the case lists ``main_diagnosis.icd10`` in ``missing`` (so is a side, below)."""
    laterality: Laterality | None = Laterality.not_applicable
    histology: str | None = None
    grading: str | None = None
    tnm: str | None = None
    uicc_stage: str | None = None
    date_of_diagnosis: dt.date | None = None

    @model_validator(mode="after")
    def _codes(self) -> "Diagnosis":
        if self.icd10 is not None and not ICD10_RE.match(self.icd10):
            raise FieldProblem("icd10", "not an ICD-10 code (expected e.g. C50.4 or C61)")
        if self.tnm is not None and self.tnm and not TNM_RE.match(self.tnm):
            raise FieldProblem("tnm", "not a TNM classification (expected e.g. pT2 pN1a cM0)")
        if self.uicc_stage is not None and not re.match(r"^(0|I{1,3}V?|IV)[A-C]?[0-9]?$", self.uicc_stage):
            raise FieldProblem("uicc_stage", "not a UICC stage (expected 0, I–IV with optional A–C)")
        return self


class SecondaryDiagnosis(_Model):
    text: NonEmpty
    icd10: str | None = None

    @model_validator(mode="after")
    def _code(self) -> "SecondaryDiagnosis":
        if self.icd10 is not None and not ICD10_RE.match(self.icd10):
            raise FieldProblem("icd10", "not an ICD-10 code (expected e.g. I10)")
        return self


class Surgery(_Model):
    date: dt.date
    procedure: NonEmpty
    resection_status: str | None = None
    surgeon_institution: str | None = None


class SystemicTherapy(_Model):
    regimen: NonEmpty
    agents: list[NonEmpty] = Field(min_length=1)
    intent: Literal["neoadjuvant", "adjuvant", "concurrent", "palliative", "maintenance", "induction"]
    start_date: dt.date
    end_date: dt.date | None = None
    cycles: int | None = Field(default=None, ge=1, le=60)

    @model_validator(mode="after")
    def _dates(self) -> "SystemicTherapy":
        if self.end_date is not None and self.end_date < self.start_date:
            raise FieldProblem("end_date", "is before start_date")
        return self


class PriorTreatments(_Model):
    surgeries: list[Surgery] = Field(default_factory=list)
    systemic: list[SystemicTherapy] = Field(default_factory=list)


class Interruption(_Model):
    days: int = Field(ge=1, le=120)
    reason: NonEmpty


class RadiotherapyCourse(_Model):
    """Technique, doses, fractions and dates are required unless the case lists them in ``missing``
    (``radiotherapy_courses.N.FIELD``): an import from a hospital system that lacks them."""

    target_region: NonEmpty | None = None
    technique: Technique | None = None
    igrt: str | None = None
    energy: str | None = None
    dose_per_fraction_gy: float | None = Field(default=None, ge=0.5, le=25)
    fractions: int | None = Field(default=None, ge=1, le=60)
    total_dose_gy: float | None = Field(default=None, gt=0, le=120)
    fractions_per_week: int = Field(default=5, ge=1, le=10)
    is_boost: bool = False
    dose_stated_as_sum: bool = False
    """True when total_dose_gy is a cumulative/equivalent dose stated explicitly (e.g. a sum over
    a course plus a boost) and therefore need not equal dose per fraction × fractions."""
    concurrent_chemotherapy: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    interruptions: list[Interruption] = Field(default_factory=list)

    @model_validator(mode="after")
    def _arithmetic(self) -> "RadiotherapyCourse":
        if self.dose_per_fraction_gy is None or self.fractions is None or self.total_dose_gy is None:
            expected = None  # an incomplete course (see Case.missing): nothing to compare
        else:
            expected = self.dose_per_fraction_gy * self.fractions
        if expected is not None and not self.dose_stated_as_sum and abs(expected - self.total_dose_gy) > DOSE_TOLERANCE_GY + 1e-9:
            raise FieldProblem(
                "total_dose_gy",
                f"{self.total_dose_gy:g} Gy does not equal dose per fraction × fractions "
                f"({self.dose_per_fraction_gy:g} Gy × {self.fractions} = {expected:g} Gy); "
                "set dose_stated_as_sum if the total is a stated sum",
            )
        if self.end_date is not None and self.start_date is not None and self.end_date < self.start_date:
            raise FieldProblem("end_date", "is before start_date")
        return self


class Toxicity(_Model):
    term: NonEmpty
    grade: int = Field(ge=0, le=5)
    """CTCAE v5.0 grade."""
    course_index: int = Field(default=0, ge=0)


class FollowUpVisit(_Model):
    after_weeks: int = Field(ge=1, le=520)
    """Weeks after the end of radiotherapy."""
    what: NonEmpty
    where: str | None = None


class FollowUpPlan(_Model):
    first_visit_weeks: int = Field(ge=1, le=52)
    visits: list[FollowUpVisit] = Field(default_factory=list)
    interval_text: str | None = None
    """The rhythm afterwards as departments write it (e.g. "every 3 months for 2 years, then every 6 months")."""


COMPLETABLE_CASE_FIELDS = ("letter_date", "referring_physician", "treating_physicians", "follow_up")
COMPLETABLE_PATIENT_FIELDS = ("address", "patient_id", "insurance_number")
COMPLETABLE_COURSE_FIELDS = ("target_region", "technique", "dose_per_fraction_gy", "fractions", "total_dose_gy", "start_date", "end_date")
"""Required fields that an imported case may leave empty as long as it lists them in ``Case.missing``."""


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, list) and not value)


def lookup(obj, path: str):
    """The value at a dotted field path (``radiotherapy_courses.0.fractions``); KeyError if there is none."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, list):
            if not part.isdigit() or int(part) >= len(cur):
                raise KeyError(path)
            cur = cur[int(part)]
        elif isinstance(cur, BaseModel):
            if part not in type(cur).model_fields:
                raise KeyError(path)
            cur = getattr(cur, part)
        else:
            raise KeyError(path)
    return cur


class Case(_Model):
    case_id: NonEmpty
    letter_date: dt.date | None = None
    letter_type: Literal["end_of_treatment", "consultation", "follow_up"] = "end_of_treatment"
    patient: Patient
    referring_physician: Physician | None = None
    treating_physicians: list[Physician] = Field(default_factory=list)
    main_diagnosis: Diagnosis
    secondary_diagnoses: list[SecondaryDiagnosis] = Field(default_factory=list)
    prior_treatments: PriorTreatments = Field(default_factory=PriorTreatments)
    radiotherapy_courses: list[RadiotherapyCourse] = Field(min_length=1)
    toxicities: list[Toxicity] = Field(default_factory=list)
    findings_at_end: list[NonEmpty] = Field(default_factory=list)
    recommendations: list[NonEmpty] = Field(default_factory=list)
    follow_up: FollowUpPlan | None = None
    entity: str | None = None
    """Tumour entity key of the synthetic generator (e.g. "breast"); informational."""
    missing: list[NonEmpty] = Field(default_factory=list)
    """Field paths (``letter_date``, ``radiotherapy_courses.0.fractions``) the source of the case did not
    give: an *incomplete* case, imported from a hospital system. Its required fields listed here may be
    empty; nothing may draft a letter for it until it is completed (the list is empty)."""
    derived: list[NonEmpty] = Field(default_factory=list)
    """Field paths whose value an importer computed from others (e.g. fractions = total ÷ dose per
    fraction) rather than read; to be checked by a physician."""

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)

    def empty_required(self) -> list[str]:
        """Paths of required fields that are empty (each must be listed in ``missing``)."""
        out = [f for f in COMPLETABLE_CASE_FIELDS if _is_empty(getattr(self, f))]
        out += [f"patient.{f}" for f in COMPLETABLE_PATIENT_FIELDS if _is_empty(getattr(self.patient, f))]
        out += [f"main_diagnosis.{f}" for f in ("icd10", "laterality") if getattr(self.main_diagnosis, f) is None]
        for i, c in enumerate(self.radiotherapy_courses):
            out += [f"radiotherapy_courses.{i}.{f}" for f in COMPLETABLE_COURSE_FIELDS if getattr(c, f) is None]
        return out

    @model_validator(mode="after")
    def _complete(self) -> "Case":
        listed = set(self.missing)
        for path in self.empty_required():
            if path not in listed:
                raise FieldProblem(path, "missing")
        for i, path in enumerate(self.missing):
            try:
                value = lookup(self, path)
            except KeyError:
                raise FieldProblem(f"missing.{i}", "names no field of the case") from None
            if not _is_empty(value):
                raise FieldProblem(f"missing.{i}", "names a field that has a value")
        for i, path in enumerate(self.derived):
            try:
                lookup(self, path)
            except KeyError:
                raise FieldProblem(f"derived.{i}", "names no field of the case") from None
        return self

    @model_validator(mode="after")
    def _order(self) -> "Case":
        birth = self.patient.birth_date
        if self.letter_date is not None and birth >= self.letter_date:
            raise FieldProblem("patient.birth_date", "is not before letter_date")
        dx = self.main_diagnosis.date_of_diagnosis
        if dx is not None and dx < birth:
            raise FieldProblem("main_diagnosis.date_of_diagnosis", "is before the patient's birth date")
        for i, s in enumerate(self.prior_treatments.surgeries):
            if s.date < birth:
                raise FieldProblem(f"prior_treatments.surgeries.{i}.date", "is before the patient's birth date")
            if self.letter_date is not None and s.date > self.letter_date:
                raise FieldProblem(f"prior_treatments.surgeries.{i}.date", "is after letter_date")
        for i, s in enumerate(self.prior_treatments.systemic):
            if s.start_date < birth:
                raise FieldProblem(f"prior_treatments.systemic.{i}.start_date", "is before the patient's birth date")
            if self.letter_date is not None and s.start_date > self.letter_date:
                raise FieldProblem(f"prior_treatments.systemic.{i}.start_date", "is after letter_date")
        for i, c in enumerate(self.radiotherapy_courses):
            if dx is not None and c.start_date is not None and c.start_date < dx:
                raise FieldProblem(f"radiotherapy_courses.{i}.start_date", "is before the date of diagnosis")
            if c.end_date is not None and self.letter_date is not None and c.end_date > self.letter_date:
                raise FieldProblem(f"radiotherapy_courses.{i}.end_date", "is after letter_date")
        n = len(self.radiotherapy_courses)
        for i, t in enumerate(self.toxicities):
            if t.course_index >= n:
                raise FieldProblem(f"toxicities.{i}.course_index", f"refers to course {t.course_index}, but the case has {n}")
        return self

    @property
    def rt_start(self) -> dt.date:
        return min((c.start_date for c in self.radiotherapy_courses if c.start_date is not None), default=None)  # type: ignore[return-value]

    @property
    def rt_end(self) -> dt.date:
        return max((c.end_date for c in self.radiotherapy_courses if c.end_date is not None), default=None)  # type: ignore[return-value]

    def all_dates(self) -> set[dt.date]:
        """Every date of the case, and the follow-up dates it implies (end of radiotherapy + the visits' weeks):
        what a letter may write (the fact check's dates, the grounding gate's allowed dates)."""
        ds = {self.patient.birth_date, self.letter_date}
        if self.main_diagnosis.date_of_diagnosis:
            ds.add(self.main_diagnosis.date_of_diagnosis)
        ds |= {s.date for s in self.prior_treatments.surgeries}
        for s in self.prior_treatments.systemic:
            ds.add(s.start_date)
            if s.end_date:
                ds.add(s.end_date)
        for c in self.radiotherapy_courses:
            ds |= {c.start_date, c.end_date}
        end = self.rt_end
        ds |= {end + dt.timedelta(weeks=v.after_weeks) for v in self.follow_up.visits}
        ds.add(end + dt.timedelta(weeks=self.follow_up.first_visit_weeks))
        return ds


SectionKey = Literal[
    "header",
    "salutation",
    "diagnosis",
    "history",
    "radiotherapy",
    "course",
    "findings",
    "assessment",
    "recommendations",
    "follow_up",
    "closing",
]
SECTION_KEYS: tuple[str, ...] = SectionKey.__args__  # type: ignore[attr-defined]
REQUIRED_SECTIONS: tuple[str, ...] = (
    "salutation",
    "diagnosis",
    "history",
    "radiotherapy",
    "course",
    "findings",
    "assessment",
    "recommendations",
    "follow_up",
    "closing",
)
"""Sections every radiation-oncology letter must have (the header is optional)."""

PHI_LABELS = (
    "NAME_PATIENT",
    "NAME_DOCTOR",
    "NAME_RELATIVE",
    "DATE",
    "AGE",
    "ID",
    "LOCATION_STREET",
    "LOCATION_ZIP",
    "LOCATION_CITY",
    "LOCATION_HOSPITAL",
    "CONTACT_PHONE",
    "CONTACT_FAX",
    "CONTACT_EMAIL",
)
"""Labels of patient-information spans; the names follow the GraSCCo PHI annotation."""


class Span(_Model):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: str
    text: str

    @model_validator(mode="after")
    def _range(self) -> "Span":
        if self.end <= self.start:
            raise FieldProblem("end", "is not after start")
        return self


class Section(_Model):
    key: SectionKey
    heading: str | None = None
    text: str


class Letter(_Model):
    style: NonEmpty
    language: Literal["de", "en"]
    sections: list[Section] = Field(min_length=1)
    text: str
    """The full letter as sent (sections joined with their headings)."""
    spans: list[Span] = Field(default_factory=list)
    """Ground-truth patient-information spans in ``text`` (character offsets)."""

    @model_validator(mode="after")
    def _spans_match(self) -> "Letter":
        for i, s in enumerate(self.spans):
            if s.end > len(self.text) or self.text[s.start : s.end] != s.text:
                raise FieldProblem(f"spans.{i}", "does not point at the text it claims")
        return self

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


class FieldSource(_Model):
    """Where one field of an imported case came from (see ``medletter import fhir``)."""

    resource: str
    """The source resource (``Procedure/rt-1``), or several joined by ``+``."""
    element: str
    """The element read (``extension[Gesamtdosis].valueQuantity``), or how the value was derived."""
    derived: bool = False
    original: dict | None = None
    """The value as the source gave it, where it was converted (a unit, a code and its system)."""


class Record(_Model):
    """One line of a corpus or case file."""

    case: Case
    letter: Letter | None = None
    split: Literal["train", "validation", "test"] | None = None
    provenance: dict[str, FieldSource] | None = None
    """Per field path, where an imported case's value came from (absent for cases made here)."""
