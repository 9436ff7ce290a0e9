"""What the fact check works with: typed facts read from a letter (with their spans and what the text binds
them to), and the report of comparing them with the case (flags with character offsets, expected facts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NUMERIC_KINDS = frozenset({"dose_gy", "fractions", "date", "month", "tnm", "icd10", "ctcae_grade", "interval"})
"""Flag kinds of the value check that are numbers the case has nowhere (what grounded decoding holds to the case)."""
VALUE_KINDS = NUMERIC_KINDS | {"technique"}
"""Flag kinds of the value check: what a letter states that the case has nowhere. Every other kind is a binding
flag (a value the case has, bound to the wrong thing) or a diagnosis-list flag."""


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


# ---------------------------------------------------------------- facts of a letter

@dataclass
class Grade:
    """A CTCAE-style grade ("Grad 2", "G1", "°II", "2°") and what its clause binds it to."""

    start: int
    end: int
    value: int
    values: set[int]
    """The grade, or both ends of a range ("Grad 1–2")."""
    toxicities: set[int] | None = None
    """The case's toxicities (indices) its clause names; None: none."""
    scope: str | None = None
    """Without a toxicity: "grading" (a tumour grade "G2" beside the histology), "max" (the highest grade:
    "Toxizität max. Grad 2") or None (nothing to bind it to)."""
    g_form: bool = False


@dataclass
class Cue:
    """A word that names an event near a date: (kind, endpoint, surgery index); kind is birth, diagnosis,
    surgery, systemic, rt, followup or letter; endpoint start/end/final or None."""

    kind: str
    endpoint: str | None = None
    surgery: int | None = None
    weeks: float | None = None
    """A follow-up date said relative to the end of radiotherapy ("8 Wochen nach RT-Ende (DATE)"): that many weeks
    (``weeks_to``: the most, where a range is said: "8–12 Wochen")."""
    weeks_to: float | None = None


@dataclass
class Date:
    start: int
    end: int
    value: object
    """A date, (year, month) for "April 2029", or ("invalid", surface)."""
    cues: list[Cue] = field(default_factory=list)
    """The event words the date is bound to (empty: none)."""
    strong_endpoint: str | None = None
    """Without a cue: "end"/"start" where the sentence says the (radiotherapy's) end or start ("abgeschlossen")."""
    courses: list[set[int]] = field(default_factory=list)
    """Courses its clause names (target words, "Boost")."""
    episode: bool = False
    """Its sentence speaks of the patient's whole treatment ("Frau X hat die Strahlentherapie … beendet")."""
    in_range: bool = False
    near: set[str] = field(default_factory=set)
    """Kinds of the event words within 40 characters in its sentence (whether it is written for the diagnosis)."""


@dataclass
class DateRange:
    first: int
    last: int
    """Indices into the letter's dates."""
    start: int
    end: int
    courses: list[set[int]] = field(default_factory=list)
    numbers: list[tuple[str, float]] = field(default_factory=list)
    """Doses ("d") and fraction counts ("n") in its stretch (which course, where no word names one)."""
    episode: bool = False
    boost: bool = False
    cue_kinds: set[str] = field(default_factory=set)
    lead: Cue | None = None
    """An event word right before the first date ("ED 10.2.–27.10.2023")."""


@dataclass
class DoseStatement:
    """Fractions, dose per fraction and total dose said together ("15 × 2,67 Gy = 40,05 Gy")."""

    start: int
    end: int
    fractions: int | None
    dpf: float | None
    total: float | None
    unknown: list[float]
    courses: list[set[int]] = field(default_factory=list)
    """Courses its context names (target words, "Boost")."""
    ranges: list[tuple[int, int, object, object, bool]] = field(default_factory=list)
    """Date ranges in its context: (start, end of the first date's span, x, y, in its own sentence)."""
    range_spans: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class Side:
    start: int
    end: int
    side: str  # L or R
    neighbours: list[str]
    """Normalised content words of its phrase, nearest first."""
    of_diagnosis: bool = False
    """Written alone in a side field ("Seite: links"): the main diagnosis' side."""


@dataclass
class CodeUse:
    """An ICD-10 code and the diagnosis of the case written right before (or after) it."""

    start: int
    end: int
    code: str
    after_dx: int | None = None
    side_marker: tuple[int, int, str] | None = None


@dataclass
class LetterFacts:
    """Everything the extractor read from one letter."""

    text: str
    doses: list[tuple[int, int, float]] = field(default_factory=list)
    fractions: list[tuple[int, int, int]] = field(default_factory=list)
    dates: list[Date] = field(default_factory=list)
    ranges: list[DateRange] = field(default_factory=list)
    tnm: list[tuple[int, int, str]] = field(default_factory=list)
    codes: list[CodeUse] = field(default_factory=list)
    invalid_codes: list[tuple[int, int, str]] = field(default_factory=list)
    techniques: list[tuple[int, int, str]] = field(default_factory=list)
    grades: list[Grade] = field(default_factory=list)
    intervals: list[tuple[int, int, tuple[int, str]]] = field(default_factory=list)
    statements: list[DoseStatement] = field(default_factory=list)
    sides: list[Side] = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    """The items of the letter's diagnosis lists (:class:`~medletter.evaluate.factcheck.diagnoses.DxItem`)."""
    words: set[str] = field(default_factory=set)
    """Normalised tokens of the letter (for the facts a letter is expected to name)."""
    long_words: list[str] = field(default_factory=list)
    lower: str = ""
    flat: str = ""
    """The text in lower case without spaces (doses of systemic therapy: "40mg/m²")."""
    extra: dict = field(default_factory=dict)

    def date_values(self) -> set[dt.date]:
        return {d.value for d in self.dates if isinstance(d.value, dt.date)}
