"""Radiotherapy courses from the MII Kerndatensatz Onkologie (oBDS): one course per Bestrahlung procedure
(Zielgebiet with Seitenlokalisation, Gesamtdosis, Einzeldosis, Boost, Applikationsart, Strahlenart, period),
part of a Strahlentherapie bracket.

The oBDS has no fraction count: it is derived as Gesamtdosis ÷ Einzeldosis where that is a whole number
(the Einzeldosis is the one dose of every fraction: uniform fractionation) and marked derived; otherwise
(a boost inside the total, a changed dose) it is left missing. The technique is not in the oBDS beyond
stereotactic/brachytherapy/electrons: IMRT comes from OPS 8-522.9, any other only from a SNOMED CT
technique coding the source adds (mCODE's value set); else it is missing.
"""

from __future__ import annotations

from medletter.fhir import codes as C
from medletter.fhir.build import (
    Builder,
    Unmapped,
    coding_in,
    codings,
    ext,
    original_code,
    period,
    quantity_gy,
)
from medletter.fhir.clinical import systemic_name, systemic_part_of
from medletter.fhir.read import Res


def is_bestrahlung(r: Res) -> bool:
    if r.type != "Procedure":
        return False
    return r.has_profile(C.MII_PR_BESTRAHLUNG, C.MII_PR_BESTRAHLUNG_NUK) or ext(r.model, C.EX_MII_GESAMTDOSIS, C.EX_MII_EINZELDOSIS) is not None


def is_bracket(r: Res) -> bool:
    return r.type == "Procedure" and r.has_profile(C.MII_PR_STRAHLENTHERAPIE)


def _applikationsart(m) -> object | None:
    e = ext(m, C.EX_PROCEDURE_METHOD)
    c = coding_in(getattr(e, "valueCodeableConcept", None), C.MII_APPLIKATIONSART) if e is not None else None
    if c is None:
        c = next((coding_in(u, C.MII_APPLIKATIONSART) for u in (m.usedCode or []) if coding_in(u, C.MII_APPLIKATIONSART)), None)
    return c


def _technique(b: Builder, path: str, r: Res, zielgebiet: str | None, fractions: int | None) -> None:
    m = r.model
    for cc in [m.code, *(m.usedCode or [])]:
        sct = coding_in(cc, C.SNOMED)
        if sct is not None and str(sct.code) in C.SNOMED_TECHNIQUE:
            b.put(path, C.SNOMED_TECHNIQUE[str(sct.code)], r, "Procedure.code/usedCode (SNOMED CT technique)", original=original_code(sct))
            return
    art = _applikationsart(m)
    code = str(art.code) if art is not None else ""
    if code in C.MII_STEREOTACTIC:
        if zielgebiet in C.MII_CRANIAL_ZIELGEBIET:
            if fractions is None:
                b.miss(path, "stereotactic to the brain, but SRS or FSRT depends on the fraction count, which is missing", r)
                return
            b.put(path, "SRS" if fractions == 1 else "FSRT", r, "extension[Applikationsart] (stereotactic) + Zielgebiet (brain) + fractions",
                  original=original_code(art), derived="stereotactic to the brain: one fraction SRS, more FSRT")
            return
        b.put(path, "SBRT", r, "extension[Applikationsart] (stereotactic, not the brain)", original=original_code(art))
        return
    if code.startswith(C.MII_BRACHY_PREFIX):
        b.put(path, "brachytherapy", r, "extension[Applikationsart] (endocavitary/interstitial)", original=original_code(art))
        return
    art_ = next((coding_in(u, C.MII_STRAHLENART) for u in (m.usedCode or []) if coding_in(u, C.MII_STRAHLENART)), None)
    if art_ is not None and art_.code == "EL":
        b.put(path, "electrons", r, "usedCode[Strahlenart] (EL)", original=original_code(art_))
        return
    ops = next((c for c in codings(m.code) if str(c.system) == C.OPS and str(c.code).startswith(C.OPS_IMRT_PREFIX)), None)
    if ops is not None:
        b.put(path, "IMRT", r, "Procedure.code (OPS 8-522.9: intensity-modulated)", original=original_code(ops))
        return
    b.miss(path, "the oBDS does not say 3D-CRT, IMRT or VMAT, and no OPS 8-522.9 or SNOMED CT technique code is given", r)


def map_courses(b: Builder, resources: list[Res]) -> tuple[list[Res], dict[str, int]]:
    """The courses into ``b``; returns the procedures (brackets and Bestrahlungen) and course index by ref."""
    beams = sorted((r for r in resources if is_bestrahlung(r)), key=lambda r: (period(r)[0] or _MIN, r.id or ""))
    brackets = [r for r in resources if is_bracket(r)]
    for br in brackets:
        b.use(br)
    if not beams:
        raise Unmapped("no MII Bestrahlung procedure (mii-pr-onko-strahlentherapie-bestrahlung-*)")
    therapies = [r for r in resources if r.type in ("Procedure", "MedicationStatement", "MedicationAdministration", "MedicationRequest")
                 and r not in beams and r not in brackets]
    course_of: dict[str, int] = {}
    for i, r in enumerate(beams):
        m = r.model
        p = f"radiotherapy_courses.{i}"
        course_of[r.ref] = i
        b.use(r)
        site = (m.bodySite or [None])[0]
        zg = coding_in(site, C.MII_ZIELGEBIET) if site is not None else None
        name = (site.text if site is not None and site.text else None) or (zg.display if zg is not None and zg.display else None) \
            or (C.MII_ZIELGEBIET_NAMES.get(str(zg.code)) if zg is not None else None)
        if name:
            side = ext(site, C.EX_MII_SEITE_BESTRAHLUNG)
            sc = coding_in(getattr(side, "valueCodeableConcept", None), C.MII_SEITE) if side is not None else None
            if not (site.text) and sc is not None and sc.code in ("L", "R", "B"):
                name = f"{name} {dict(L='links', R='rechts', B='beidseits')[sc.code]}"
            b.put(f"{p}.target_region", str(name), r, "Procedure.bodySite (Zielgebiet, Seitenlokalisation)", original=original_code(zg))
        else:
            b.miss(f"{p}.target_region", "Procedure.bodySite: no Zielgebiet", r)
        total = dpf = None
        for key, url, label in (("total_dose_gy", C.EX_MII_GESAMTDOSIS, "Gesamtdosis"), ("dose_per_fraction_gy", C.EX_MII_EINZELDOSIS, "Einzeldosis")):
            e = ext(m, url)
            if e is None:
                b.miss(f"{p}.{key}", f"no extension {label}", r)
                continue
            try:
                gy, orig = quantity_gy(getattr(e, "valueQuantity", None))
            except Unmapped as why:
                b.miss(f"{p}.{key}", f"extension {label}: {why}", r)
                continue
            b.put(f"{p}.{key}", gy, r, f"extension[{label}].valueQuantity", original=orig)
            total, dpf = (gy, dpf) if key == "total_dose_gy" else (total, gy)
        fractions = None
        if total is not None and dpf is not None:
            q = total / dpf
            if abs(q - round(q)) < 1e-6 and round(q) >= 1:
                fractions = int(round(q))
                b.put(f"{p}.fractions", fractions, r, "Gesamtdosis ÷ Einzeldosis",
                      derived="the oBDS has no fraction count: Gesamtdosis ÷ Einzeldosis is a whole number (uniform fractionation)")
            else:
                b.miss(f"{p}.fractions", "the oBDS has no fraction count, and Gesamtdosis ÷ Einzeldosis is not a whole number "
                                        "(a boost in the total, or the dose changed)", r)
        else:
            b.miss(f"{p}.fractions", "the oBDS has no fraction count, and Gesamtdosis or Einzeldosis is missing", r)
        boost = coding_in(getattr(ext(m, C.EX_MII_BOOST), "valueCodeableConcept", None), C.MII_BOOST) if ext(m, C.EX_MII_BOOST) else None
        if boost is not None:
            b.put(f"{p}.is_boost", boost.code == "SEQ", r, "extension[Boost] (SEQ: this is a sequential boost)", original=original_code(boost))
            if boost.code in ("SIB", "KON", "J"):
                b.notes.append(f"{r.ref}: boost {boost.code}: the Gesamtdosis includes it (the Einzeldosis is the most common dose)")
        else:
            b.default(f"{p}.is_boost", "no Boost extension: false")
        _technique(b, f"{p}.technique", r, str(zg.code) if zg is not None else None, fractions)
        start, end = period(r)
        for key, val, el in (("start_date", start, "performedPeriod.start"), ("end_date", end, "performedPeriod.end")):
            if val is not None:
                b.put(f"{p}.{key}", val.isoformat(), r, el)
            else:
                b.miss(f"{p}.{key}", f"Procedure.{el} is not given", r)
        parents = {x.ref for x in (b.resolve(y) for y in (m.partOf or [])) if x is not None}
        chemo = [t for t in therapies if any(x.ref in parents | {r.ref} for x in systemic_part_of(b, t))]
        art = _applikationsart(m)
        if chemo:
            names = [systemic_name(t) for t in chemo if systemic_name(t)]
            b.put(f"{p}.concurrent_chemotherapy", " + ".join(names), chemo, "systemic therapy with partOf → this radiotherapy")
        elif art is not None and art.code in C.MII_WITH_CHEMO:
            b.miss(f"{p}.concurrent_chemotherapy", f"Applikationsart {art.code} says with chemotherapy/sensitizer, but no systemic "
                                                   "therapy is linked (partOf) to this radiotherapy", r)
        b.default(f"{p}.fractions_per_week", "not in the oBDS: the schema's default (5)")
    return brackets + beams, course_of


_MIN = __import__("datetime").date.min
