"""Radiotherapy courses from mCODE / CodeX Radiation Therapy: one course per dose-delivered-to-volume of
each RadiotherapyCourseSummary (the volume's body structure, total dose in cGy, fractions), with the
course's modality and technique, period and the systemic therapy that is part of it.

mCODE gives sessions, which are not fractions (a session may treat several volumes): they are reported,
never used as a fraction count. The dose per fraction is derived as total ÷ fractions only where that is
whole in cGy (uniform fractionation assumed, marked derived); a technique is set only where the course
has one modality/technique and it is not ambiguous which volume it treated.
"""

from __future__ import annotations

from medletter.fhir import codes as C
from medletter.fhir.build import (
    Builder,
    Unmapped,
    coding_in,
    exts,
    original_code,
    period,
    quantity_gy,
    text_of,
)
from medletter.fhir.clinical import systemic_name, systemic_part_of
from medletter.fhir.read import Res


def is_course_summary(r: Res) -> bool:
    if r.type != "Procedure":
        return False
    return r.has_profile(C.MCODE_PR_COURSE, C.CODEX_RT + "codexrt-radiotherapy-course-summary") \
        or bool(exts(r.model, C.EX_MCODE_DOSE_VOLUME))


def _techniques(r: Res) -> list[tuple[str | None, str | None, dict]]:
    """(modality code, technique code, original) per modality-and-technique extension."""
    out = []
    for mt in exts(r.model, C.EX_MCODE_MOD_TECH):
        mod = next((e for e in (mt.extension or []) if str(e.url) in ("modality", C.EX_MCODE_MODALITY)), None)
        techs = [e for e in (mt.extension or []) if str(e.url) in ("technique", C.EX_MCODE_TECHNIQUE)]
        mc = coding_in(getattr(mod, "valueCodeableConcept", None), C.SNOMED) if mod is not None else None
        tcs = [coding_in(getattr(t, "valueCodeableConcept", None), C.SNOMED) for t in techs] or [None]
        for tc in tcs:
            out.append((str(mc.code) if mc is not None else None, str(tc.code) if tc is not None else None,
                        {"modality": original_code(mc), "technique": original_code(tc)}))
    return out


def _technique_of(mod: str | None, tech: str | None) -> str | None:
    if tech in C.SNOMED_TECHNIQUE and mod in (None, C.SNOMED_MODALITY_PHOTONS):
        return C.SNOMED_TECHNIQUE[tech]
    if mod == C.SNOMED_MODALITY_ELECTRONS and tech in (None, "1162782007"):
        return "electrons"
    if mod in C.SNOMED_BRACHY_MODALITIES:
        return "brachytherapy"
    return None


def map_courses(b: Builder, resources: list[Res]) -> tuple[list[Res], dict[str, int]]:
    summaries = sorted((r for r in resources if is_course_summary(r)), key=lambda r: (period(r)[0] or _MIN, r.id or ""))
    if not summaries:
        raise Unmapped("no mCODE RadiotherapyCourseSummary procedure")
    therapies = [r for r in resources if r.type in ("Procedure", "MedicationStatement", "MedicationAdministration", "MedicationRequest")
                 and r not in summaries]
    course_of: dict[str, int] = {}
    i = 0
    for r in summaries:
        m = r.model
        b.use(r)
        volumes = exts(m, C.EX_MCODE_DOSE_VOLUME) or [None]
        techs = _techniques(r)
        start, end = period(r)
        sessions = next((e.valueUnsignedInt for e in exts(m, C.EX_MCODE_SESSIONS)), None)
        chemo = [t for t in therapies if any(x.ref == r.ref for x in systemic_part_of(b, t))]
        total_fx = 0
        course_of[r.ref] = i
        for vol in volumes:
            p = f"radiotherapy_courses.{i}"
            parts = {str(e.url): e for e in (vol.extension or [])} if vol is not None else {}
            body = b.resolve(parts["volume"].valueReference) if "volume" in parts and parts["volume"].valueReference else None
            name = None
            if body is not None:
                b.use(body)
                bm = body.model
                loc = text_of(bm.location)
                quals = [text_of(q) for q in (bm.locationQualifier or []) if text_of(q)]
                name = bm.description or (" ".join([loc, *quals]) if loc else None)
            name = name or text_of((m.bodySite or [None])[0])
            if name:
                b.put(f"{p}.target_region", str(name), [r] + ([body] if body else []),
                      "RadiotherapyVolume.description (or location) / Procedure.bodySite")
            else:
                b.miss(f"{p}.target_region", "no volume body structure and no bodySite", r)
            total = fx = None
            if "totalDoseDelivered" in parts:
                try:
                    total, orig = quantity_gy(parts["totalDoseDelivered"].valueQuantity)
                    b.put(f"{p}.total_dose_gy", total, r, "extension[doseDeliveredToVolume].totalDoseDelivered", original=orig)
                except Unmapped as why:
                    b.miss(f"{p}.total_dose_gy", f"totalDoseDelivered: {why}", r)
            else:
                b.miss(f"{p}.total_dose_gy", "no totalDoseDelivered for this volume", r)
            if "fractionsDelivered" in parts and parts["fractionsDelivered"].valueUnsignedInt:
                fx = int(parts["fractionsDelivered"].valueUnsignedInt)
                total_fx += fx
                b.put(f"{p}.fractions", fx, r, "extension[doseDeliveredToVolume].fractionsDelivered")
            else:
                b.miss(f"{p}.fractions", "no fractionsDelivered for this volume (sessions are not fractions)", r)
            if total is not None and fx:
                cgy = round(total * 100, 6)
                if abs(cgy / fx - round(cgy / fx)) < 1e-6:
                    b.put(f"{p}.dose_per_fraction_gy", round(cgy / fx) / 100, r, "totalDoseDelivered ÷ fractionsDelivered",
                          derived="mCODE gives no dose per fraction: total ÷ fractions, whole in cGy (uniform fractionation assumed)")
                else:
                    b.miss(f"{p}.dose_per_fraction_gy", "mCODE gives no dose per fraction, and total ÷ fractions is not whole in cGy "
                                                        "(the fractionation was not uniform)", r)
            else:
                b.miss(f"{p}.dose_per_fraction_gy", "mCODE gives no dose per fraction (and total or fractions is missing)", r)
            mapped = {_technique_of(mo, te) for mo, te, _ in techs}
            if len(techs) == 1 and None not in mapped:
                b.put(f"{p}.technique", mapped.pop(), r, "extension[modalityAndTechnique]", original=techs[0][2])
            elif len(mapped) == 1 and None not in mapped:
                b.put(f"{p}.technique", mapped.pop(), r, "extension[modalityAndTechnique] (all the same)", original={"pairs": [t[2] for t in techs]})
            elif techs:
                b.miss(f"{p}.technique", f"{len(techs)} modality/technique pairs for {len(volumes)} volume(s): which treated this "
                                         "volume is not stated, or a technique is not one the schema knows", r)
            else:
                b.miss(f"{p}.technique", "no modalityAndTechnique extension", r)
            for key, val, el in (("start_date", start, "performedPeriod.start"), ("end_date", end, "performedPeriod.end")):
                if val is not None:
                    b.put(f"{p}.{key}", val.isoformat(), r, el)
                else:
                    b.miss(f"{p}.{key}", f"Procedure.{el} is not given", r)
            if chemo:
                names = [systemic_name(t) for t in chemo if systemic_name(t)]
                b.put(f"{p}.concurrent_chemotherapy", " + ".join(names), chemo, "systemic therapy with partOf → this course")
            b.default(f"{p}.is_boost", "mCODE has no boost marker: false")
            b.default(f"{p}.fractions_per_week", "not in mCODE: the schema's default (5)")
            i += 1
        if sessions is not None:
            b.notes.append(f"{r.ref}: {sessions} sessions, {total_fx} fractions over {len(volumes)} volume(s): "
                           "sessions are reported, not used as fractions")
    return summaries, course_of


_MIN = __import__("datetime").date.min
