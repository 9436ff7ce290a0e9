"""``medletter import fhir``: FHIR R4 (MII Onkologie or mCODE) → case records, with a report.

One case per Patient. Each field keeps its provenance; a value FHIR lacks is derived only where exact and
then marked derived, else left empty and listed in ``case.missing`` with the reason (an *incomplete*
case: it validates, the app imports it, and nothing drafts it until a physician completes it). A value
that FHIR gives but the schema refuses is treated as missing, with the schema's reason. Every resource
not used is reported by id and reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from medletter.fhir import clinical, mcode, mii, people
from medletter.fhir.build import Builder, Unmapped, by_patient, detect_profile
from medletter.fhir.read import Index, Res
from medletter.jsonl import validation_errors
from medletter.records import Record, lookup

PROFILES = ("mii", "mcode", "auto")
LETTER_ONLY = {
    "letter_date": "not clinical data: the letter's date is set when it is written",
    "follow_up": "neither MII Onkologie nor mCODE models a follow-up plan",
}


@dataclass
class CaseResult:
    patient: str
    profile: str
    record: Record | None
    builder: Builder
    error: str | None = None


@dataclass
class ImportResult:
    cases: list[CaseResult] = field(default_factory=list)
    unmappable: list[dict] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [c.record for c in self.cases if c.record is not None]


def _finish(b: Builder) -> Record:
    """Validate the case; a field FHIR gave but the schema refuses becomes missing (with the reason)."""
    for path, why in LETTER_ONLY.items():
        b.miss(path, why)
    for _ in range(12):
        data = dict(b.case)
        data["missing"] = sorted(b.missing)
        data["derived"] = sorted(p for p in b.derived if p not in b.missing)
        try:
            case_rec = Record.model_validate({"case": data, "provenance": {p: v for p, v in b.provenance.items() if p not in b.missing}})
        except ValidationError as e:
            errs = validation_errors("(case)", None, e)
            moved = False
            for err in errs:
                path = err.field.removeprefix("case.")
                cand = path
                while cand:
                    if cand in b.provenance and cand not in b.missing:
                        b.miss(cand, f"the value from FHIR fails the schema: {err.problem}")
                        b.provenance.pop(cand, None)
                        moved = True
                        break
                    cand = cand.rpartition(".")[0]
            if not moved:
                raise Unmapped("; ".join(f"{err.field}: {err.problem}" for err in errs[:5])) from None
            continue
        return case_rec
    raise Unmapped("the case does not validate")


def _map_patient(index: Index, pat: Res, resources: list[Res], profile: str) -> CaseResult:
    b = Builder(index, profile)
    try:
        if profile == "mii":
            rt, course_of = mii.map_courses(b, resources)
        else:
            rt, course_of = mcode.map_courses(b, resources)
        people.map_patient(b, pat)
        anchor = next((r for r in rt if r.model.identifier), rt[0] if rt else None)
        people.map_case_id(b, pat, resources, anchor)
        people.map_physicians(b, resources, rt)
        conditions = [r for r in resources if r.type == "Condition"]
        observations = [r for r in resources if r.type == "Observation"]
        main = clinical.pick_main_condition(b, conditions, rt)
        clinical.map_diagnosis(b, main, observations)
        clinical.map_secondary(b, conditions, main)
        clinical.map_toxicities(b, [r for r in resources if r.type == "AdverseEvent"], course_of)
        rt_refs = {r.ref for r in rt}
        procs = [r for r in resources if r.type == "Procedure" and r.ref not in rt_refs]
        clinical.map_surgeries(b, [p for p in procs if clinical.is_surgery(p)])
        therapies = [r for r in resources if r.type in ("MedicationStatement", "MedicationAdministration", "MedicationRequest")
                     or (r.type == "Procedure" and r.ref not in rt_refs and not clinical.is_surgery(r))]
        clinical.map_systemic(b, therapies, rt_refs)
        for t in therapies:  # a therapy part of a radiotherapy was read by the course mapper
            if any(x.ref in rt_refs for x in clinical.systemic_part_of(b, t)):
                b.use(t)
        record = _finish(b)
    except Unmapped as why:
        return CaseResult(pat.ref, profile, None, b, error=str(why))
    return CaseResult(pat.ref, profile, record, b)


def import_index(index: Index, profile: str = "auto") -> ImportResult:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
    out = ImportResult()
    used: set[str] = set()
    groups = by_patient(index)
    for pref in sorted(groups):
        pat = index.by_key[pref]
        resources = groups[pref]
        prof = profile if profile != "auto" else detect_profile([pat, *resources])
        if prof is None:
            used.add(pref)
            out.unmappable.append({"resource": pref, "source": pat.source,
                                   "reason": "no MII Onkologie or mCODE radiotherapy resources for this patient (use --profile to force one)"})
            continue
        res = _map_patient(index, pat, resources, prof)
        out.cases.append(res)
        used |= res.builder.used | {pref}
        for r, why in res.builder.unmappable:
            out.unmappable.append({"resource": r.ref, "source": r.source, "reason": why})
        if res.error:
            out.unmappable.append({"resource": pref, "source": pat.source, "reason": f"no case: {res.error}"})
    for r in index.resources:
        if r.ref not in used and not any(u["resource"] == r.ref for u in out.unmappable):
            why = f"not used: no mapping for {r.type}" + (f" ({', '.join(r.profiles)})" if r.profiles else "")
            if r.type not in ("Patient",) and not any(r.ref in c.builder.used for c in out.cases):
                out.unmappable.append({"resource": r.ref, "source": r.source, "reason": why})
    seen: dict[str, str] = {}
    for c in out.cases:
        if c.record is None:
            continue
        cid = c.record.case.case_id
        if cid in seen:
            c.error = f"the same case number as {seen[cid]}"
            out.unmappable.append({"resource": c.patient, "source": "", "reason": f"no case: {c.error}"})
            c.record = None
        else:
            seen[cid] = c.patient
    return out


# ---------------------------------------------------------------- the report


def report(result: ImportResult, inputs: list[str], profile: str) -> dict:
    cases = []
    for c in result.cases:
        b = c.builder
        entry = {"patient": c.patient, "profile": c.profile}
        if c.record is None:
            entry["error"] = c.error
        else:
            case = c.record.case
            entry.update(case_id=case.case_id, complete=not case.missing,
                         missing={p: b.missing.get(p, "") for p in case.missing},
                         derived={p: b.derived[p] for p in case.derived if p in b.derived},
                         provenance=json.loads(json.dumps({p: v.model_dump(exclude_none=True) for p, v in (c.record.provenance or {}).items()})),
                         defaults=b.defaults, notes=b.notes)
        cases.append(entry)
    return {
        "inputs": inputs, "profile": profile,
        "counts": {"cases": len(result.records), "incomplete": sum(1 for r in result.records if r.case.missing),
                   "failed": sum(1 for c in result.cases if c.record is None), "unmappable_resources": len(result.unmappable)},
        "cases": cases, "unmappable": result.unmappable,
    }


def report_markdown(rep: dict) -> str:
    lines = ["# FHIR import report", "", f"Inputs: {', '.join(rep['inputs'])}  ", f"Profile: {rep['profile']}  ",
             "Counts: " + ", ".join(f"{k} {v}" for k, v in rep["counts"].items()), ""]
    for c in rep["cases"]:
        lines += [f"## {c.get('case_id', c['patient'])} ({c['patient']}, {c['profile']})", ""]
        if "error" in c:
            lines += [f"**Not imported:** {c['error']}", ""]
            continue
        lines.append("Complete." if c["complete"] else f"**Incomplete:** {len(c['missing'])} field(s) missing; it cannot be drafted until completed.")
        lines.append("")
        for title, key in (("Missing", "missing"), ("Derived", "derived"), ("Schema defaults", "defaults")):
            if c[key]:
                lines += [f"### {title}", "", *[f"- `{p}`: {why}" for p, why in c[key].items()], ""]
        if c["notes"]:
            lines += ["### Notes", "", *[f"- {n}" for n in c["notes"]], ""]
        lines += ["### Provenance", "", "| field | resource | element | derived |", "|---|---|---|---|"]
        lines += [f"| `{p}` | {v['resource']} | {v['element']} | {'yes' if v.get('derived') else ''} |" for p, v in c["provenance"].items()]
        lines.append("")
    if rep["unmappable"]:
        lines += ["## Unmappable resources", "", *[f"- {u['resource']} ({u['source']}): {u['reason']}" for u in rep["unmappable"]], ""]
    return "\n".join(lines)


def write_report(path: Path, rep: dict) -> None:
    from medletter.jsonl import atomic_writer

    with atomic_writer(path) as f:
        f.write(report_markdown(rep) if path.suffix.lower() in (".md", ".markdown") else json.dumps(rep, ensure_ascii=False, indent=2) + "\n")


def value_at(record: Record, path: str):
    return lookup(record.case, path)
