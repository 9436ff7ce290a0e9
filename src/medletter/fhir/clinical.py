"""Diagnosis (ICD-10-GM, side, histology, grading, TNM/UICC), secondary diagnoses, toxicities and the
treatment history, from Condition, Observation, AdverseEvent, Procedure and Medication* resources.
MII and mCODE differ in profiles and code systems, not in structure, so one mapper reads both."""

from __future__ import annotations

import re

from medletter.fhir import codes as C
from medletter.fhir.build import (
    Builder,
    Unmapped,
    as_date,
    coding_in,
    codings,
    ext,
    ext_ending,
    exts,
    original_cc,
    original_code,
    period,
    text_of,
)
from medletter.fhir.read import Res
from medletter.records import ICD10_RE, TNM_RE

CANCER_PROFILES = (C.MII_PR_DIAGNOSE, C.MCODE_PR_PRIMARY, C.MCODE_PR_SECONDARY)


def _icd10(cc):
    """(code, coding, kind) of an ICD-10-GM (or WHO ICD-10) coding; ICD-10-CM is not ICD-10-GM."""
    c = coding_in(cc, C.ICD10_GM) or coding_in(cc, C.ICD10_WHO)
    return (str(c.code), c) if c is not None and c.code else (None, None)


def pick_main_condition(b: Builder, conditions: list[Res], rt: list[Res]) -> Res | None:
    for proc in rt:  # the radiotherapy's own reason is the surest link
        for ref in getattr(proc.model, "reasonReference", None) or []:
            target = b.resolve(ref)
            if target is not None and target.type == "Condition":
                return target
    cancer = [c for c in conditions if c.has_profile(*CANCER_PROFILES)]
    if cancer:
        return cancer[0]
    coded = [c for c in conditions if (_icd10(c.model.code)[0] or "").startswith(("C", "D0"))]
    return coded[0] if coded else None


def _laterality(b: Builder, cond: Res) -> None:
    m = cond.model
    for c in codings(m.code):  # ICD-10-GM coding with the KBV/MII Seitenlokalisation extension
        for e in c.extension or []:
            vc = getattr(e, "valueCoding", None) or next(iter(codings(getattr(e, "valueCodeableConcept", None))), None)
            if vc is not None and str(vc.system) in (C.KBV_SEITE, C.MII_SEITE) and vc.code in C.MII_SEITE_LATERALITY:
                b.put("main_diagnosis.laterality", C.MII_SEITE_LATERALITY[vc.code], cond, "Condition.code.coding.extension (Seitenlokalisation)",
                      original=original_code(vc))
                return
    for site in m.bodySite or []:
        for e in exts(site, C.EX_MCODE_LATERALITY) + [x for x in (site.extension or []) if str(x.url).endswith("seitenlokalisation")]:
            vc = next(iter(codings(getattr(e, "valueCodeableConcept", None))), None) or getattr(e, "valueCoding", None)
            if vc is None:
                continue
            side = C.SNOMED_LATERALITY.get(str(vc.code)) if str(vc.system) == C.SNOMED else C.MII_SEITE_LATERALITY.get(str(vc.code))
            if side:
                b.put("main_diagnosis.laterality", side, cond, "Condition.bodySite.extension (laterality)", original=original_code(vc))
                return
    b.miss("main_diagnosis.laterality", "the diagnosis names no side (and not that no side applies)")


def map_diagnosis(b: Builder, cond: Res | None, observations: list[Res]) -> None:
    if cond is None:
        raise Unmapped("no Condition for the tumour (linked from the radiotherapy or with an oncology profile)")
    m = cond.model
    b.use(cond)
    code, coding = _icd10(m.code)
    text = text_of(m.code) if m.code is not None and m.code.text else (coding.display if coding is not None and coding.display else text_of(m.code))
    if code is not None and ICD10_RE.match(code):
        b.put("main_diagnosis.icd10", code, cond, "Condition.code.coding (ICD-10-GM)", original=original_code(coding))
    else:
        others = ", ".join(f"{c.system}|{c.code}" for c in codings(m.code))
        b.miss("main_diagnosis.icd10", "no ICD-10-GM code" + (f" (the Condition has {others}; ICD-10-CM and SNOMED are not mapped)" if others else ""), cond)
    if text:
        b.put("main_diagnosis.text", str(text), cond, "Condition.code.text or display")
    elif code:
        b.put("main_diagnosis.text", code, cond, "Condition.code (ICD-10-GM)", derived="the Condition has no text: its code")
    _laterality(b, cond)
    asserted = ext(m, C.EX_ASSERTED_DATE) or ext_ending(m, "feststellungsdatum")
    d = as_date(getattr(asserted, "valueDateTime", None)) if asserted is not None else None
    if d is not None:
        b.put("main_diagnosis.date_of_diagnosis", d.isoformat(), cond, "Condition.extension (assertedDate / Feststellungsdatum)")
    elif as_date(m.onsetDateTime) is not None:
        b.put("main_diagnosis.date_of_diagnosis", as_date(m.onsetDateTime).isoformat(), cond, "Condition.onsetDateTime")
    hist = ext(m, C.EX_MII_HISTOLOGY, C.EX_MCODE_HISTOLOGY) or ext_ending(m, "histology-morphology-behavior")
    if hist is not None and text_of(getattr(hist, "valueCodeableConcept", None)):
        cc = hist.valueCodeableConcept
        b.put("main_diagnosis.histology", text_of(cc), cond, "Condition.extension (histology-morphology-behavior)", original=original_cc(cc))
    for obs in observations:
        if obs.has_profile(C.MII_PR_HISTOLOGIE) and "main_diagnosis.histology" not in b.provenance and text_of(obs.model.valueCodeableConcept):
            b.put("main_diagnosis.histology", text_of(obs.model.valueCodeableConcept), obs, "Observation.valueCodeableConcept (Histologie)",
                  original=original_cc(obs.model.valueCodeableConcept))
        if obs.has_profile(C.MII_PR_GRADING) or any("grading" in p or "tumor-grade" in p for p in obs.profiles):
            g = obs.model.valueCodeableConcept
            mg = coding_in(g, C.MII_GRADING)
            value = (g.text if g is not None else None) or (f"G{mg.code}" if mg is not None and str(mg.code) in ("1", "2", "3", "4") else text_of(g))
            if value:
                b.put("main_diagnosis.grading", str(value), obs, "Observation.valueCodeableConcept (Grading)", original=original_cc(g))
            else:
                b.unmappable_resource(obs, "grading: no value")
    map_tnm(b, observations)


def _grouper_kind(obs: Res) -> str | None:
    for c in codings(obs.model.code):
        if str(c.system) == C.SNOMED and str(c.code) in C.SNOMED_TNM_GROUPER:
            return C.SNOMED_TNM_GROUPER[str(c.code)]
        if str(c.system) == C.LOINC and str(c.code) in C.LOINC_STAGE_GROUP:
            return C.LOINC_STAGE_GROUP[str(c.code)]
    return "clinical" if obs.has_profile(C.MII_PR_TNM, C.MCODE_PR_STAGE) else None


def _category(b: Builder, member: Res) -> tuple[str, str] | None:
    """('T', 'cT2') from a T/N/M observation: its UICC/AJCC value with the c/p, y and r prefixes."""
    v = member.model.valueCodeableConcept
    c = coding_in(v, C.UICC) or coding_in(v, C.AJCC) or next(iter(codings(v)), None)
    value = str(c.code) if c is not None and c.code else (text_of(v) or "")
    m = re.match(r"^([cpyra]*)([TNM].*)$", value)
    if not m:
        return None
    prefix, core = m.groups()
    if not prefix:
        for url, letter in ((C.EX_MII_Y_PRAEFIX, "y"), (C.EX_MII_R_PRAEFIX, "r")):
            e = ext(member.model.code, url) or ext(member.model, url)
            if e is not None:
                prefix += letter
        cp = ext(member.model.code, C.EX_MII_CP_PRAEFIX) or ext(member.model, C.EX_MII_CP_PRAEFIX)
        if cp is not None:
            cc = getattr(cp, "valueCodeableConcept", None)
            letter = next((str(x.code) for x in codings(cc) if x.code), None) or text_of(cc)
            if letter in ("c", "p", "u", "a"):
                prefix += letter
    return core[0], prefix + core


def map_tnm(b: Builder, observations: list[Res]) -> None:
    groupers = [o for o in observations if _grouper_kind(o) and (o.model.hasMember or o.model.valueCodeableConcept)]
    if not groupers:
        return
    groupers.sort(key=lambda o: (as_date(o.model.effectiveDateTime) or as_date(getattr(o.model, "issued", None)) or _MIN), reverse=True)
    g = groupers[0]
    b.use(g)
    for other in groupers[1:]:
        b.use(other)
        b.notes.append(f"{other.ref}: an older TNM classification; the newest ({g.ref}) is used")
    parts: dict[str, str] = {}
    members = []
    for ref in g.model.hasMember or []:
        mem = b.resolve(ref)
        if mem is None:
            continue
        cat = _category(b, mem)
        if cat is None:
            b.unmappable_resource(mem, "valueCodeableConcept: not a T, N or M category")
            continue
        members.append(mem)
        parts.setdefault(cat[0], cat[1])
    tnm = " ".join(parts[k] for k in "TNM" if k in parts)
    if tnm and TNM_RE.match(tnm):
        b.put("main_diagnosis.tnm", tnm, [g, *members], "Observation.hasMember → T/N/M valueCodeableConcept (+ prefix extensions)")
    elif tnm:
        b.miss("main_diagnosis.tnm", "the T/N/M values do not form a TNM classification the schema knows", g)
    v = g.model.valueCodeableConcept
    stage = coding_in(v, C.UICC)
    if stage is not None and stage.code and re.match(r"^(0|I{1,3}V?|IV)[A-C]?[0-9]?$", str(stage.code)):
        b.put("main_diagnosis.uicc_stage", str(stage.code), g, "Observation.valueCodeableConcept (UICC)", original=original_code(stage))
    elif v is not None and codings(v):
        b.notes.append(f"{g.ref}: stage group {', '.join(f'{c.system}|{c.code}' for c in codings(v))} is not a UICC stage: not mapped")


_MIN = __import__("datetime").date.min


def map_secondary(b: Builder, conditions: list[Res], main: Res | None) -> None:
    out = []
    for c in conditions:
        if c is main or c.has_profile(*CANCER_PROFILES):
            continue
        code, coding = _icd10(c.model.code)
        text = text_of(c.model.code)
        if not text:
            b.unmappable_resource(c, "Condition.code: no text or display")
            continue
        item = {"text": text}
        if code and ICD10_RE.match(code):
            item["icd10"] = code
        out.append((item, c))
    if out:
        b.put("secondary_diagnoses", [i for i, _ in out], [c for _, c in out], "Condition.code (other conditions)")


def _grade(ae) -> str | None:
    for cc in (getattr(ae, "seriousness", None), getattr(ae, "severity", None)):
        c = coding_in(cc, C.MII_CTCAE_GRAD) if cc is not None else None
        if c is not None and str(c.code) in "012345":
            return str(c.code)
    e = ext(ae, *C.EX_CTCAE_GRADE) or ext_ending(ae, "grade")
    if e is not None:
        cc = getattr(e, "valueCodeableConcept", None)
        val = next((str(x.code) for x in codings(cc) if x.code), None) or (cc.text if cc is not None else None)
        m = re.search(r"[0-5]", str(val or ""))
        return m.group(0) if m else None
    return None


def map_toxicities(b: Builder, events: list[Res], course_of: dict[str, int]) -> None:
    out, srcs = [], []
    for ae in events:
        m = ae.model
        term = text_of(m.event)
        grade = _grade(m)
        if not term or grade is None:
            b.unmappable_resource(ae, "AdverseEvent: no event term" if not term else "AdverseEvent: no CTCAE grade (0–5)")
            continue
        idx = 0
        for s in m.suspectEntity or []:
            target = b.resolve(s.instance)
            if target is not None and target.ref in course_of:
                idx = course_of[target.ref]
                break
        out.append({"term": term, "grade": int(grade), "course_index": idx})
        srcs.append(ae)
    if out:
        b.put("toxicities", out, srcs, "AdverseEvent.event / CTCAE grade / suspectEntity → course")


def is_surgery(r: Res) -> bool:
    if r.type != "Procedure":
        return False
    if r.has_profile(C.MII_PR_OPERATION, C.MCODE_PR_SURGERY):
        return True
    if any(str(c.system) == C.SNOMED and c.code == C.SNOMED_SURGICAL_CATEGORY for c in codings(r.model.category)):
        return True
    return any(str(c.system) == C.OPS and str(c.code).startswith("5-") for c in codings(r.model.code))


def map_surgeries(b: Builder, procedures: list[Res]) -> None:
    out, srcs = [], []
    for p in procedures:
        start, _ = period(p)
        text = text_of(p.model.code)
        if start is None or not text:
            b.unmappable_resource(p, "surgery without a date or a name")
            continue
        item = {"date": start.isoformat(), "procedure": text}
        res = coding_in(p.model.outcome, C.MII_RESIDUAL) if p.model.outcome is not None else None
        rs = str(res.code) if res is not None else (text_of(p.model.outcome) if p.model.outcome is not None else None)
        if rs:
            item["resection_status"] = rs
        out.append(item)
        srcs.append(p)
    if out:
        out_sorted = sorted(zip(out, srcs), key=lambda x: x[0]["date"])
        b.put("prior_treatments.surgeries", [i for i, _ in out_sorted], [s for _, s in out_sorted], "Procedure (surgery): performed, code, outcome")


def systemic_name(r: Res) -> str | None:
    m = r.model
    cc = getattr(m, "medicationCodeableConcept", None) or (m.code if r.type == "Procedure" else None)
    return text_of(cc)


def systemic_part_of(b: Builder, r: Res) -> list[Res]:
    return [t for t in (b.resolve(x) for x in (getattr(r.model, "partOf", None) or [])) if t is not None]


def map_systemic(b: Builder, therapies: list[Res], rt_refs: set[str]) -> None:
    """Prior systemic therapies; those part of a radiotherapy are its concurrent therapy (see the course mappers)."""
    out, srcs = [], []
    for r in therapies:
        if any(t.ref in rt_refs for t in systemic_part_of(b, r)):
            continue
        m = r.model
        name = systemic_name(r)
        start, end = period(r)
        intent = None
        stellung = ext_ending(m, "stellungzurop")
        if stellung is not None:
            c = next(iter(codings(getattr(stellung, "valueCodeableConcept", None))), None)
            intent = C.MII_STELLUNG_INTENT.get(str(c.code)) if c is not None else None
        intention = ext_ending(m, "-intention") or ext(m, C.EX_MCODE_INTENT)
        if intent is None and intention is not None:
            c = next(iter(codings(getattr(intention, "valueCodeableConcept", None))), None)
            if c is not None and ((str(c.system) == C.MII_INTENTION and c.code == "P") or str(c.code) == C.SNOMED_INTENT_PALLIATIVE):
                intent = "palliative"
        if not name or start is None or intent is None:
            why = "no name" if not name else "no start date" if start is None else "its timing (neoadjuvant, adjuvant, palliative) is not given"
            b.unmappable_resource(r, f"systemic therapy: {why}")
            continue
        agents = [str(c.display) for c in codings(getattr(m, "medicationCodeableConcept", None)) if c.display]
        agents += [t for t in (text_of(u) for u in (getattr(m, "usedCode", None) or [])) if t]
        item = {"regimen": name, "agents": agents or [name], "intent": intent, "start_date": start.isoformat()}
        if end is not None and end != start:
            item["end_date"] = end.isoformat()
        out.append(item)
        srcs.append(r)
    if out:
        b.put("prior_treatments.systemic", out, srcs, "Procedure/Medication* (systemic therapy): name, agents, timing, period")
