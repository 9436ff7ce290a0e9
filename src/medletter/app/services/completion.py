"""The form that completes an incomplete case: inputs for each missing field path, and the values back.

A missing field is a scalar (one input) or a part of the case (an address, a physician, the follow-up plan:
one input per field of it). A physician may fill some and leave others; only filled ones are completed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from medletter.records import Laterality, Technique
from medletter.app.i18n import Msg

PHYSICIAN = [("title", Msg("Title"), "text", False), ("first_name", Msg("First name"), "text", True),
             ("last_name", Msg("Last name"), "text", True), ("role", Msg("Role"), "text", False), ("institution", Msg("Institution"), "text", False)]
PARTS = {
    "follow_up": [("first_visit_weeks", Msg("First visit (weeks after the end of radiotherapy)"), "int", True),
                  ("interval_text", Msg("Afterwards (e.g. every 3 months for 2 years)"), "text", False)],
    "referring_physician": PHYSICIAN,
    "treating_physicians": PHYSICIAN,
    "patient.address": [("street", Msg("Street"), "text", True), ("postcode", Msg("Postcode"), "text", True), ("city", Msg("City"), "text", True),
                        ("country", Msg("Country"), "text", False)],
}
SCALARS = {
    "letter_date": ("date", None), "start_date": ("date", None), "end_date": ("date", None), "date_of_diagnosis": ("date", None),
    "fractions": ("int", None), "dose_per_fraction_gy": ("float", None), "total_dose_gy": ("float", None),
    "technique": ("select", [t.value for t in Technique]), "laterality": ("select", [x.value for x in Laterality]),
}
LABELS = {"letter_date": Msg("Letter date"), "dose_per_fraction_gy": Msg("Dose per fraction (Gy)"), "total_dose_gy": Msg("Total dose (Gy)"),
          "concurrent_chemotherapy": Msg("Concurrent systemic therapy"), "target_region": Msg("Target region"), "icd10": Msg("ICD-10-GM code"),
          "patient_id": Msg("Patient number"), "insurance_number": Msg("Insurance number")}


@dataclass
class Input:
    name: str
    label: str
    kind: str
    required: bool
    choices: list[str] | None = None
    value: str = ""


def _label(path: str) -> str:
    parts = path.split(".")
    label = LABELS.get(parts[-1], parts[-1].replace("_", " ").capitalize())
    if parts[0] == "radiotherapy_courses" and len(parts) > 2:
        return Msg("Course %(n)s: %(label)s", n=int(parts[1]) + 1, label=label)
    return label


def form(missing: list[str], given: dict[str, str] | None = None) -> list[tuple[str, str, list[Input]]]:
    """(path, label, inputs) per missing field, with values already typed (``given``) kept."""
    given = given or {}
    out = []
    for path in missing:
        if path in PARTS:
            inputs = [Input(f"{path}.{k}", lab, kind, req) for k, lab, kind, req in PARTS[path]]
        else:
            kind, choices = SCALARS.get(path.split(".")[-1], ("text", None))
            inputs = [Input(path, _label(path), kind, True, choices)]
        for i in inputs:
            i.value = given.get(i.name, "")
        out.append((path, _label(path) if path not in PARTS else path.split(".")[-1].replace("_", " ").capitalize(), inputs))
    return out


def values(missing: list[str], posted: dict[str, str]) -> dict:
    """The posted form as field path → value for the fields filled in (every required input of a part)."""
    out: dict = {}
    for path, _label_, inputs in form(missing, posted):
        vals = {i.name: i.value.strip() for i in inputs}
        if not any(vals.values()) or any(i.required and not vals[i.name] for i in inputs):
            continue
        conv = {i.name: _convert(i.kind, vals[i.name]) for i in inputs if vals[i.name]}
        if path in PARTS:
            obj = {name.rsplit(".", 1)[1]: v for name, v in conv.items()}
            out[path] = [obj] if path == "treating_physicians" else obj
        else:
            out[path] = conv[path]
    return out


def _convert(kind: str, v: str):
    if kind in ("float", "int"):
        v = v.replace(",", ".")
    if kind == "date" and len(v) == 10 and v[2] == "." and v[5] == ".":  # 31.12.2029
        try:
            return dt.datetime.strptime(v, "%d.%m.%Y").date().isoformat()
        except ValueError:
            return v
    return v
