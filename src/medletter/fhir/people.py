"""The patient, the case number and the physicians of a case, from Patient, Encounter, Practitioner and
ServiceRequest resources (the same in both profiles: MII Person/Fall and US Core/mCODE)."""

from __future__ import annotations

from medletter.fhir import codes as C
from medletter.fhir.build import Builder, Unmapped, as_date, codings
from medletter.fhir.read import Res

_SEX = {"female": "female", "male": "male", "other": "diverse"}


def _name(names):
    names = list(names or [])
    official = [n for n in names if getattr(n, "use", None) == "official"]
    return (official or names or [None])[0]


def _identifier(ids, type_code: str | None = None, systems: tuple[str, ...] = ()):
    for i in ids or []:
        if not i.value:
            continue
        if systems and i.system and str(i.system) in systems:
            return i
        if type_code and any(c.code == type_code for c in codings(getattr(i, "type", None))):
            return i
    return None


def map_patient(b: Builder, pat: Res) -> None:
    """Names, sex and birth date are required (a letter cannot do without them): Unmapped if absent."""
    m = pat.model
    b.use(pat)
    n = _name(m.name)
    given = " ".join(str(g) for g in (getattr(n, "given", None) or [])) if n else ""
    family = str(n.family) if n is not None and n.family else ""
    if not given or not family:
        raise Unmapped("Patient.name: no given and family name (a letter needs the patient's name)")
    b.put("patient.first_name", given, pat, "Patient.name.given")
    b.put("patient.last_name", family, pat, "Patient.name.family")
    sex = _SEX.get(str(m.gender or ""))
    if sex is None:
        raise Unmapped("Patient.gender: missing or unknown (the schema needs female, male or diverse)")
    b.put("patient.sex", sex, pat, "Patient.gender", original={"code": str(m.gender)})
    birth = as_date(m.birthDate)
    if birth is None or isinstance(m.birthDate, str):
        raise Unmapped("Patient.birthDate: missing or not a full date")
    b.put("patient.birth_date", birth.isoformat(), pat, "Patient.birthDate")
    adr = next((a for a in (m.address or []) if getattr(a, "type", None) != "postal"), None) or (m.address or [None])[0]
    if adr is not None and adr.line and adr.postalCode and adr.city:
        b.put("patient.address", {"street": str(adr.line[0]), "postcode": str(adr.postalCode), "city": str(adr.city),
                                  "country": str(adr.country or "DE")}, pat, "Patient.address")
    else:
        b.miss("patient.address", "Patient.address: no street, postal code and city")
    pid = _identifier(m.identifier, type_code="MR")
    if pid is not None:
        b.put("patient.patient_id", str(pid.value), pat, "Patient.identifier (type MR)")
    else:
        b.miss("patient.patient_id", "Patient.identifier: none of type MR (the hospital's patient number)")
    kv = _identifier(m.identifier, systems=C.KVID) or _identifier(m.identifier, type_code="KVZ10") \
        or _identifier(m.identifier, type_code="GKV") or _identifier(m.identifier, type_code="PKV")
    if kv is not None:
        b.put("patient.insurance_number", str(kv.value), pat, "Patient.identifier (KVNR, fhir.de/sid/gkv|pkv/kvid-10)")
    else:
        b.miss("patient.insurance_number", "Patient.identifier: no health insurance number (KVNR)")
    phone = next((t for t in (m.telecom or []) if t.system == "phone" and t.value), None)
    if phone is not None:
        b.put("patient.phone", str(phone.value), pat, "Patient.telecom (phone)")


def map_case_id(b: Builder, pat: Res, resources: list[Res], anchor: Res | None) -> None:
    """The hospital's case number: an Encounter's visit number (MII Fall: identifier type VN), else the
    radiotherapy procedure's identifier; else one made from resource ids (marked derived)."""
    for enc in (r for r in resources if r.type == "Encounter"):
        vn = _identifier(enc.model.identifier, type_code="VN") or next(iter(enc.model.identifier or []), None)
        if vn is not None and vn.value:
            b.put("case_id", str(vn.value), enc, "Encounter.identifier (type VN)")
            b.put("patient.case_id", str(vn.value), enc, "Encounter.identifier (type VN)")
            return
    if anchor is not None and anchor.model.identifier and anchor.model.identifier[0].value:
        v = str(anchor.model.identifier[0].value)
        b.put("case_id", v, anchor, f"{anchor.type}.identifier")
        b.put("patient.case_id", v, anchor, f"{anchor.type}.identifier")
        return
    made = f"FHIR-{pat.id or 'patient'}" + (f"-{anchor.id}" if anchor is not None and anchor.id else "")
    why = "no case number (Encounter or procedure identifier) in the input: made from the resource ids"
    b.put("case_id", made, pat, "Patient.id", derived=why)
    b.put("patient.case_id", made, pat, "Patient.id", derived=why)


def physician(b: Builder, res: Res) -> dict | None:
    m = res.model
    if res.type == "PractitionerRole":
        b.use(res)
        target = b.resolve(m.practitioner) if m.practitioner else None
        return physician(b, target) if target is not None and target.type == "Practitioner" else None
    if res.type != "Practitioner":
        return None
    n = _name(m.name)
    if n is None or not n.family or not n.given:
        b.unmappable_resource(res, "Practitioner.name: no given and family name")
        return None
    b.use(res)
    out = {"first_name": " ".join(str(g) for g in n.given), "last_name": str(n.family)}
    if n.prefix:
        out["title"] = " ".join(str(p) for p in n.prefix)
    if m.gender in _SEX:
        out["sex"] = _SEX[m.gender]
    return out


def map_physicians(b: Builder, resources: list[Res], rt_procedures: list[Res]) -> None:
    treating, sources = [], []
    for proc in rt_procedures:
        for perf in proc.model.performer or []:
            who = b.resolve(perf.actor) if perf.actor else None
            doc = physician(b, who) if who is not None else None
            if doc is not None and doc not in treating:
                treating.append(doc)
                sources.append(who)
        asserter = getattr(proc.model, "asserter", None)
        who = b.resolve(asserter) if asserter is not None else None
        doc = physician(b, who) if who is not None else None
        if doc is not None and doc not in treating:
            treating.append(doc)
            sources.append(who)
    if treating:
        b.put("treating_physicians", treating, sources, "Procedure.performer.actor / Procedure.asserter → Practitioner")
    else:
        b.miss("treating_physicians", "no Practitioner is named as performer of the radiotherapy")
    for sr in (r for r in resources if r.type == "ServiceRequest"):
        who = b.resolve(sr.model.requester) if sr.model.requester else None
        doc = physician(b, who) if who is not None else None
        if doc is not None:
            b.use(sr)
            b.put("referring_physician", doc, [sr, who], "ServiceRequest.requester → Practitioner")
            return
    b.miss("referring_physician", "no ServiceRequest with a requesting Practitioner (the referral)")
