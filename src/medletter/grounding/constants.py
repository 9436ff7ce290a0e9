"""A department's own numbers, mined from its training letters: what letters write that no case explains.

Letters carry numbers that are not the patient's: the department's telephone extension, "UICC 8. Auflage",
a version string. A number with a unit after it (a dose, a fraction count, an interval) is a clinical fact and
never a constant, however many letters write it. The gate allows them only if they come from this list. A span (with its class) goes on the list when the letters of at least ``min_patients`` different patients
(and ``min_share`` of all patients) write it although their own case does not allow it: a value many
patients' letters share is the department's, and a value of one patient never is.

The list is written into the run (``runs/NAME/grounding/constants.json``) when a model is trained, for the
department to review: each entry names its text and how many patients' letters wrote it; an entry set to
``"reviewed": false`` by hand (or deleted) is not used. Nothing of a patient is in it.
"""

from __future__ import annotations

import json
from pathlib import Path

from medletter.grounding.keys import allowed_numbers
from medletter.grounding.spans import Closed, scan

FILE = Path("grounding") / "constants.json"
_CLASS_LEAD = {"grade": "Grad ", "plain": ""}


def _text_of(klass: str, span: str) -> str:
    """A text that scans back to (klass, span)."""
    for pre in ("tnm:", "code:", "word:"):
        if klass.startswith(pre):
            return f"{klass[len(pre):]}{span}"
    return f"{_CLASS_LEAD.get(klass, '')}{span}"


def mine(records, min_patients: int = 3, min_share: float = 0.05) -> list[dict]:
    """Department constants of training ``records`` (with letters): [{"text", "patients", "reviewed"}]."""
    seen: dict[tuple, set[str]] = {}
    patients = set()
    for r in records:
        if r.letter is None:
            continue
        pid = r.case.patient.patient_id
        patients.add(pid)
        allowed = allowed_numbers(r.case)
        for ev in scan(r.letter.text):
            # a number with a unit (a dose, a count, an interval) is a clinical fact: never a constant
            if isinstance(ev, Closed) and not allowed.complete_ok(ev.klass, ev.span):
                seen.setdefault((ev.klass, ev.span), set()).add(pid)
    need = max(min_patients, int(min_share * len(patients) + 0.999))
    out = []
    for (klass, span), who in sorted(seen.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(who) >= need:
            out.append({"text": _text_of(klass, span), "class": klass, "value": span, "patients": len(who), "reviewed": True})
    return out


def write_constants(run: Path, records, **kw) -> Path:
    path = Path(run) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    items = mine(records, **kw)
    n = len({r.case.patient.patient_id for r in records if r.letter is not None})
    doc = {"note": "numbers the department's letters write that no case explains, each from the letters of at least "
                   "the given number of patients; set reviewed to false (or delete the entry) to keep the gate from "
                   "allowing it", "training_patients": n, "constants": items}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_constants(run: Path | None) -> list[str]:
    """The reviewed constants of a run as texts for :func:`medletter.grounding.keys.allowed_numbers` ([] if
    the run has none)."""
    if run is None:
        return []
    path = Path(run) / FILE
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [c["text"] for c in doc.get("constants", []) if c.get("reviewed", True)]


def constants_for(run: Path, train_file: Path | None = None) -> list[str]:
    """The run's constants, mined first from its training split (``runs/NAME/data/train.jsonl``) if the run has
    no list yet (runs trained before grounding existed)."""
    path = Path(run) / FILE
    if not path.is_file():
        src = train_file or Path(run) / "data" / "train.jsonl"
        if src.is_file():
            from medletter.jsonl import read_records

            write_constants(run, read_records(src).records)
    return load_constants(run)

