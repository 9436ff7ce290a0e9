"""Write FHIR R4 test bundles from synthetic cases: MII Kerndatensatz Onkologie and mCODE, a Bulk Data
NDJSON export, a bundle with the structure of mCODE's published example patient (one course summary, two
volumes, sessions ≠ fractions) and a deliberately bad bundle.

    python tools/fhir_testdata.py [--out tests/data/fhir]

The bundles are what a hospital's FHIR server would send, written from ``medletter.synth`` cases, so that
tests can import them and compare with the cases (tests/test_fhir_import.py). ``case_to_mii`` and
``case_to_mcode`` are the writers; the files under tests/data/fhir are committed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from medletter.fhir import codes as C
from medletter.records import Case

SEED, N_CASES = 29, 60
ENTITIES_MII = ("breast", "prostate", "head_neck", "rectum", "nsclc", "cervix", "brain_mets", "glioblastoma")
ENTITIES_MCODE = ("breast", "prostate", "head_neck", "oesophagus", "bone_mets")
BRAIN = {"brain_mets", "glioblastoma"}


def ref(rtype: str, rid: str) -> dict:
    return {"reference": f"{rtype}/{rid}"}


def entry(res: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{res['resourceType'].lower()}-{res['id']}", "resource": res}


def _tnm_parts(tnm: str) -> list[tuple[str, str, str]]:
    """'ypT2 pN1a cM0' -> [('yp', 'T', 'T2'), ('p', 'N', 'N1a'), ('c', 'M', 'M0')]."""
    out = []
    for tok in tnm.split():
        m = re.match(r"^([yrcpa]*)([TNM])(.*)$", tok)
        if m:
            out.append((m.group(1), m.group(2), m.group(2) + m.group(3)))
    return out


def _people(c: Case, pid: str, with_kvnr: bool) -> list[dict]:
    p = c.patient
    ids = [{"type": {"coding": [{"system": C.V2_0203, "code": "MR"}]}, "system": "urn:oid:1.2.276.0.76.4.8", "value": p.patient_id}]
    if with_kvnr:
        ids.append({"type": {"coding": [{"system": "http://fhir.de/CodeSystem/identifier-type-de-basis", "code": "KVZ10"}]},
                    "system": C.KVID[0], "value": p.insurance_number})
    pat = {"resourceType": "Patient", "id": pid, "identifier": ids,
           "name": [{"use": "official", "family": p.last_name, "given": p.first_name.split()}],
           "gender": {"female": "female", "male": "male", "diverse": "other"}[p.sex.value], "birthDate": p.birth_date.isoformat(),
           "address": [{"type": "both", "line": [p.address.street], "postalCode": p.address.postcode, "city": p.address.city,
                        "country": p.address.country}]}
    if p.phone:
        pat["telecom"] = [{"system": "phone", "value": p.phone}]
    out = [pat, {"resourceType": "Encounter", "id": f"{pid}-enc", "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                 "identifier": [{"type": {"coding": [{"system": C.V2_0203, "code": "VN"}]}, "system": "urn:oid:1.2.276.0.76.4.9",
                                 "value": c.case_id}], "subject": ref("Patient", pid)}]
    for i, d in enumerate(c.treating_physicians):
        out.append({"resourceType": "Practitioner", "id": f"{pid}-doc{i}", "name": [{"family": d.last_name, "given": d.first_name.split(),
                                                                                      **({"prefix": [d.title]} if d.title else {})}]})
    r = c.referring_physician
    out.append({"resourceType": "Practitioner", "id": f"{pid}-ref", "name": [{"family": r.last_name, "given": r.first_name.split(),
                                                                               **({"prefix": [r.title]} if r.title else {})}]})
    out.append({"resourceType": "ServiceRequest", "id": f"{pid}-referral", "status": "completed", "intent": "order",
                "subject": ref("Patient", pid), "requester": ref("Practitioner", f"{pid}-ref"),
                "code": {"coding": [{"system": C.SNOMED, "code": "108290001"}], "text": "Radiotherapy referral"}})
    return out


def _performers(c: Case, pid: str) -> list[dict]:
    return [{"actor": ref("Practitioner", f"{pid}-doc{i}")} for i in range(len(c.treating_physicians))]


def _secondary_and_history(c: Case, pid: str, mcode: bool) -> list[dict]:
    out = []
    for i, s in enumerate(c.secondary_diagnoses):
        code = {"text": s.text}
        if s.icd10:
            code["coding"] = [{"system": C.ICD10_WHO[0] if mcode else C.ICD10_GM[0], "code": s.icd10}]
        out.append({"resourceType": "Condition", "id": f"{pid}-sec{i}", "subject": ref("Patient", pid), "code": code,
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}})
    for i, s in enumerate(c.prior_treatments.surgeries):
        res = {"resourceType": "Procedure", "id": f"{pid}-op{i}", "status": "completed", "subject": ref("Patient", pid),
               "meta": {"profile": [C.MCODE_PR_SURGERY if mcode else C.MII_PR_OPERATION]},
               "code": {"text": s.procedure}, "performedDateTime": s.date.isoformat()}
        if s.resection_status:
            res["outcome"] = {"text": s.resection_status} if mcode else {"coding": [{"system": C.MII_RESIDUAL, "code": s.resection_status}]}
        out.append(res)
    for i, s in enumerate(x for x in c.prior_treatments.systemic if x.intent != "concurrent"):
        per = {"start": s.start_date.isoformat(), **({"end": s.end_date.isoformat()} if s.end_date else {})}
        if mcode:
            res = {"resourceType": "MedicationStatement", "id": f"{pid}-sys{i}", "status": "completed", "subject": ref("Patient", pid),
                   "medicationCodeableConcept": {"text": s.regimen, "coding": [{"display": a} for a in s.agents]}, "effectivePeriod": per}
            if s.intent == "palliative":
                res["extension"] = [{"url": C.EX_MCODE_INTENT, "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": C.SNOMED_INTENT_PALLIATIVE}]}}]
        else:
            stellung = {"adjuvant": "A", "neoadjuvant": "N"}.get(s.intent, "S")
            res = {"resourceType": "Procedure", "id": f"{pid}-sys{i}", "status": "completed", "subject": ref("Patient", pid),
                   "meta": {"profile": [C.MII_PR_SYSTEMISCH]}, "code": {"text": s.regimen}, "usedCode": [{"text": a} for a in s.agents],
                   "performedPeriod": per,
                   "extension": [{"url": C.MII_SD + "mii-ex-onko-systemische-therapie-stellungzurop",
                                  "valueCodeableConcept": {"coding": [{"system": C.MII_STELLUNG_OP[0], "code": stellung}]}}]}
            if s.intent == "palliative":
                res["extension"].append({"url": C.MII_SD + "mii-ex-onko-systemische-therapie-intention",
                                         "valueCodeableConcept": {"coding": [{"system": C.MII_INTENTION, "code": "P"}]}})
        out.append(res)
    return out


def _toxicities(c: Case, pid: str, course_ids: list[str], mcode: bool) -> list[dict]:
    out = []
    for i, t in enumerate(c.toxicities):
        ae = {"resourceType": "AdverseEvent", "id": f"{pid}-ae{i}", "actuality": "actual", "subject": ref("Patient", pid),
              "event": {"text": t.term}, "suspectEntity": [{"instance": ref("Procedure", course_ids[t.course_index])}]}
        if mcode:
            ae["extension"] = [{"url": C.EX_CTCAE_GRADE[0], "valueCodeableConcept": {"coding": [{"code": str(t.grade)}]}}]
        else:
            ae["meta"] = {"profile": [C.MII_PR_NEBENWIRKUNG]}
            ae["seriousness"] = {"coding": [{"system": C.MII_CTCAE_GRAD, "code": str(t.grade)}]}
        out.append(ae)
    return out


def _diagnosis_extras(c: Case, pid: str, cond_id: str, mcode: bool) -> list[dict]:
    dx, out = c.main_diagnosis, []
    if dx.grading and not mcode:
        g = {"text": dx.grading}
        if re.fullmatch(r"G[1-4]", dx.grading):
            g = {"coding": [{"system": C.MII_GRADING, "code": dx.grading[1]}]}
        out.append({"resourceType": "Observation", "id": f"{pid}-grading", "status": "final", "meta": {"profile": [C.MII_PR_GRADING]},
                    "code": {"coding": [{"system": C.LOINC, "code": "59542-1"}]}, "subject": ref("Patient", pid),
                    "focus": [ref("Condition", cond_id)], "valueCodeableConcept": g})
    if dx.tnm or dx.uicc_stage:
        parts = _tnm_parts(dx.tnm or "")
        pathological = any("p" in pre for pre, _, _ in parts)
        members = []
        for pre, cat, core in parts:
            mid = f"{pid}-tnm-{cat.lower()}"
            if mcode:
                value = {"coding": [{"system": C.AJCC[0], "code": pre + core}]}
                code = {"coding": [{"system": C.LOINC, "code": {"T": "21899-0", "N": "21900-6", "M": "21901-4"}[cat]}]}
            else:
                value = {"coding": [{"system": C.UICC[0], "code": core}]}
                exts = [{"url": C.EX_MII_CP_PRAEFIX, "valueCodeableConcept": {"coding": [{"system": C.UICC[0], "code": pre[-1]}]}}] if pre else []
                if "y" in pre:
                    exts.append({"url": C.EX_MII_Y_PRAEFIX, "valueCodeableConcept": {"coding": [{"code": "y"}]}})
                code = {"coding": [{"system": C.SNOMED, "code": {"T": "399504009", "N": "399534004", "M": "399387003"}[cat]}],
                        **({"extension": exts} if exts else {})}
            members.append({"resourceType": "Observation", "id": mid, "status": "final", "code": code,
                            "subject": ref("Patient", pid), "valueCodeableConcept": value})
        stage = None
        if dx.uicc_stage:
            stage = {"coding": [{"system": C.AJCC[0] if mcode else C.UICC[0], "code": dx.uicc_stage}]}
        grouper = {"resourceType": "Observation", "id": f"{pid}-tnm", "status": "final",
                   "meta": {"profile": [C.MCODE_PR_STAGE if mcode else C.MII_PR_TNM]},
                   "code": {"coding": [{"system": C.LOINC, "code": "21902-2" if pathological else "21908-9"}] if mcode
                            else [{"system": C.SNOMED, "code": "399588009" if pathological else "399537006"}]},
                   "subject": ref("Patient", pid), "focus": [ref("Condition", cond_id)],
                   "effectiveDateTime": (dx.date_of_diagnosis or c.rt_start).isoformat(),
                   **({"hasMember": [ref("Observation", m["id"]) for m in members]} if members else {}),
                   **({"valueCodeableConcept": stage} if stage else {})}
        out += [grouper, *members]
    return out


def _condition(c: Case, pid: str, mcode: bool) -> dict:
    dx = c.main_diagnosis
    coding = {"system": C.ICD10_WHO[0] if mcode else C.ICD10_GM[0], "code": dx.icd10}
    side = {"left": "L", "right": "R", "bilateral": "B", "midline": "M", "not_applicable": "T"}[dx.laterality.value]
    cond = {"resourceType": "Condition", "id": f"{pid}-dx", "subject": ref("Patient", pid), "code": {"coding": [coding], "text": dx.text},
            "meta": {"profile": [C.MCODE_PR_PRIMARY if mcode else C.MII_PR_DIAGNOSE]},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}}
    if mcode:
        if side in "LRB":
            sct = {"L": "7771000", "R": "24028007", "B": "51440002"}[side]
            cond["bodySite"] = [{"text": dx.text, "extension": [{"url": C.EX_MCODE_LATERALITY, "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": sct}]}}]}]
    elif side in "LRB":
        coding["extension"] = [{"url": C.EX_KBV_SEITE, "valueCoding": {"system": C.KBV_SEITE, "code": side}}]
    else:
        cond["bodySite"] = [{"extension": [{"url": C.MII_SD + "mii-ex-onko-seitenlokalisation",
                                            "valueCodeableConcept": {"coding": [{"system": C.MII_SEITE, "code": side}]}}]}]
    exts = []
    if dx.histology:
        exts.append({"url": C.EX_MCODE_HISTOLOGY if mcode else C.EX_MII_HISTOLOGY, "valueCodeableConcept": {"text": dx.histology}})
    if dx.date_of_diagnosis:
        exts.append({"url": C.EX_ASSERTED_DATE, "valueDateTime": dx.date_of_diagnosis.isoformat()})
    if exts:
        cond["extension"] = exts
    return cond


_MII_TECH = {"IMRT": ({"system": C.OPS, "code": "8-522.91"}, None), "VMAT": ({"system": C.OPS, "code": "8-522.91"}, "1156530009"),
             "3D-CRT": ({"system": C.OPS, "code": "8-522.d1"}, "1162782007")}


def case_to_mii(c: Case, pid: str) -> dict:
    res = _people(c, pid, with_kvnr=True)
    cond = _condition(c, pid, mcode=False)
    res.append(cond)
    res += _diagnosis_extras(c, pid, cond["id"], mcode=False)
    bracket = {"resourceType": "Procedure", "id": f"{pid}-rt", "status": "completed", "subject": ref("Patient", pid),
               "meta": {"profile": [C.MII_PR_STRAHLENTHERAPIE]}, "category": {"coding": [{"system": C.SNOMED, "code": "1287742003"}]},
               "code": {"coding": [{"system": C.OPS, "code": "8-52"}]}, "performedPeriod": {"start": c.rt_start.isoformat(), "end": c.rt_end.isoformat()},
               "extension": [{"url": C.MII_SD + "mii-ex-onko-strahlentherapie-intention",
                              "valueCodeableConcept": {"coding": [{"system": C.MII_INTENTION, "code": "P" if c.entity in ("bone_mets", "brain_mets") else "K"}]}}]}
    res.append(bracket)
    ids = []
    for i, rt in enumerate(c.radiotherapy_courses):
        rid = f"{pid}-rt{i}"
        ids.append(rid)
        t = rt.technique.value
        ops, sct = _MII_TECH.get(t, ({"system": C.OPS, "code": "8-52"}, None))
        code = {"coding": [ops] + ([{"system": C.SNOMED, "code": sct}] if sct else [])}
        art = "PRCJ" if rt.concurrent_chemotherapy else "P"
        if t in ("SBRT", "SRS", "FSRT"):
            art = "P-ST"
        elif t == "brachytherapy":
            art = "KHDR"
        used = [{"coding": [{"system": C.MII_STRAHLENART, "code": "EL" if t == "electrons" else "UH"}]}]
        zg = "1.2" if c.entity in BRAIN and t != "3D-CRT" else ("1.1" if c.entity in BRAIN else "10.3")
        proc = {"resourceType": "Procedure", "id": rid, "status": "completed", "subject": ref("Patient", pid),
                "meta": {"profile": [C.MII_PR_BESTRAHLUNG]}, "partOf": [ref("Procedure", bracket["id"])],
                "category": {"coding": [{"system": C.SNOMED, "code": "1287742003"}]}, "code": code, "usedCode": used,
                "bodySite": [{"coding": [{"system": C.MII_ZIELGEBIET, "code": zg}], "text": rt.target_region}],
                "performedPeriod": {"start": rt.start_date.isoformat(), "end": rt.end_date.isoformat()},
                "performer": _performers(c, pid), "reasonReference": [ref("Condition", cond["id"])],
                "extension": [
                    {"url": C.EX_MII_GESAMTDOSIS, "valueQuantity": {"value": rt.total_dose_gy, "unit": "Gy", "system": C.UCUM, "code": "Gy"}},
                    {"url": C.EX_MII_EINZELDOSIS, "valueQuantity": {"value": rt.dose_per_fraction_gy, "unit": "Gy", "system": C.UCUM, "code": "Gy"}},
                    {"url": C.EX_MII_BOOST, "valueCodeableConcept": {"coding": [{"system": C.MII_BOOST, "code": "SEQ" if rt.is_boost else "N"}]}},
                    {"url": C.EX_PROCEDURE_METHOD, "valueCodeableConcept": {"coding": [{"system": C.MII_APPLIKATIONSART, "code": art}]}}]}
        res.append(proc)
        if rt.concurrent_chemotherapy:
            res.append({"resourceType": "Procedure", "id": f"{rid}-chemo", "status": "completed", "subject": ref("Patient", pid),
                        "meta": {"profile": [C.MII_PR_SYSTEMISCH]}, "partOf": [ref("Procedure", rid)],
                        "code": {"text": rt.concurrent_chemotherapy},
                        "performedPeriod": {"start": rt.start_date.isoformat(), "end": rt.end_date.isoformat()}})
    res += _toxicities(c, pid, ids, mcode=False)
    res += _secondary_and_history(c, pid, mcode=False)
    return {"resourceType": "Bundle", "id": f"{pid}-bundle", "type": "collection", "entry": [entry(r) for r in res]}


_MCODE_MOD = {"IMRT": (C.SNOMED_MODALITY_PHOTONS, "441799006"), "VMAT": (C.SNOMED_MODALITY_PHOTONS, "1156530009"),
              "3D-CRT": (C.SNOMED_MODALITY_PHOTONS, "1162782007"), "electrons": (C.SNOMED_MODALITY_ELECTRONS, None),
              "brachytherapy": ("394902000", "384692006"), "SBRT": (C.SNOMED_MODALITY_PHOTONS, None),
              "SRS": (C.SNOMED_MODALITY_PHOTONS, None), "FSRT": (C.SNOMED_MODALITY_PHOTONS, None)}


def course_summary(pid: str, sid: str, volumes: list[tuple[str, float, int]], pairs: list[tuple[str, str | None]],
                   start: str, end: str, sessions: int, reason: str, performers: list[dict]) -> list[dict]:
    """A RadiotherapyCourseSummary with its RadiotherapyVolume body structures."""
    out, exts = [], [{"url": C.EX_MCODE_SESSIONS, "valueUnsignedInt": sessions}]
    for mod, tech in pairs:
        parts = [{"url": "modality", "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": mod}]}}]
        if tech:
            parts.append({"url": "technique", "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": tech}]}})
        exts.append({"url": C.EX_MCODE_MOD_TECH, "extension": parts})
    for j, (desc, gy, fx) in enumerate(volumes):
        vid = f"{sid}-vol{j}"
        out.append({"resourceType": "BodyStructure", "id": vid, "meta": {"profile": [C.MCODE_PR_VOLUME]}, "patient": ref("Patient", pid),
                    "description": desc, "identifier": [{"use": "usual", "value": f"volume {j + 1}"}]})
        exts.append({"url": C.EX_MCODE_DOSE_VOLUME, "extension": [
            {"url": "volume", "valueReference": ref("BodyStructure", vid)},
            {"url": "totalDoseDelivered", "valueQuantity": {"value": round(gy * 100, 4), "unit": "cGy", "system": C.UCUM, "code": "cGy"}},
            {"url": "fractionsDelivered", "valueUnsignedInt": fx}]})
    out.insert(0, {"resourceType": "Procedure", "id": sid, "status": "completed", "subject": ref("Patient", pid),
                   "meta": {"profile": [C.MCODE_PR_COURSE]}, "extension": exts,
                   "category": {"coding": [{"system": C.SNOMED, "code": "108290001"}]},
                   "code": {"coding": [{"system": "http://hl7.org/fhir/us/mcode/CodeSystem/mcode-resource-identifier-cs",
                                        "code": "mcode-radiotherapy-course-summary"}]},
                   "performedPeriod": {"start": start, "end": end}, "reasonReference": [ref("Condition", reason)], "performer": performers})
    return out


def case_to_mcode(c: Case, pid: str) -> dict:
    res = _people(c, pid, with_kvnr=False)
    cond = _condition(c, pid, mcode=True)
    res.append(cond)
    res += _diagnosis_extras(c, pid, cond["id"], mcode=True)
    ids = []
    for i, rt in enumerate(c.radiotherapy_courses):
        sid = f"{pid}-rt{i}"
        ids.append(sid)
        res += course_summary(pid, sid, [(rt.target_region, rt.total_dose_gy, rt.fractions)], [_MCODE_MOD[rt.technique.value]],
                              rt.start_date.isoformat(), rt.end_date.isoformat(), rt.fractions, cond["id"], _performers(c, pid))
        if rt.concurrent_chemotherapy:
            res.append({"resourceType": "MedicationStatement", "id": f"{sid}-chemo", "status": "completed", "subject": ref("Patient", pid),
                        "partOf": [ref("Procedure", sid)], "medicationCodeableConcept": {"text": rt.concurrent_chemotherapy},
                        "effectivePeriod": {"start": rt.start_date.isoformat(), "end": rt.end_date.isoformat()}})
    res += _toxicities(c, pid, ids, mcode=True)
    res += _secondary_and_history(c, pid, mcode=True)
    return {"resourceType": "Bundle", "id": f"{pid}-bundle", "type": "collection", "entry": [entry(r) for r in res]}


def mcode_example_two_volumes() -> dict:
    """The structure of mCODE's published example patient's radiotherapy: one course summary over two volumes
    (chest wall 6000 cGy/30 fractions, chest wall lymph nodes 5000 cGy/25), 31 sessions, two modality/technique
    pairs (photons VMAT, electrons 3D), a SNOMED-coded primary cancer (no ICD-10-GM) and an AJCC stage group.
    Names and ids are our own (a made-up patient)."""
    pid = "mcode-example"
    pat = {"resourceType": "Patient", "id": pid, "name": [{"family": "Beispiel", "given": ["Erika"]}], "gender": "female",
           "birthDate": "1955-08-10", "identifier": [{"type": {"coding": [{"system": C.V2_0203, "code": "MR"}]}, "value": "MCODE-0001"}],
           "address": [{"line": ["Musterweg 1"], "postalCode": "12345", "city": "Musterstadt", "country": "DE"}]}
    doc = {"resourceType": "Practitioner", "id": "mcode-example-doc", "name": [{"family": "Anydoc", "given": ["Kyle"], "prefix": ["Dr."]}]}
    cond = {"resourceType": "Condition", "id": "mcode-example-dx", "meta": {"profile": [C.MCODE_PR_PRIMARY]}, "subject": ref("Patient", pid),
            "code": {"coding": [{"system": C.SNOMED, "code": "353431000119107", "display": "Primary malignant neoplasm of female left breast"}]},
            "extension": [{"url": C.EX_MCODE_HISTOLOGY, "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": "413448000",
                           "display": "Adenocarcinoma, no subtype, intermediate grade"}]}}], "onsetDateTime": "2018-03-16"}
    stage = {"resourceType": "Observation", "id": "mcode-example-stage", "status": "final", "meta": {"profile": [C.MCODE_PR_STAGE]},
             "code": {"coding": [{"system": C.LOINC, "code": "21902-2"}]}, "subject": ref("Patient", pid), "effectiveDateTime": "2018-04-05",
             "valueCodeableConcept": {"coding": [{"system": C.AJCC[0], "code": "2B", "display": "IIB"}]},
             "hasMember": [ref("Observation", f"mcode-example-{k}") for k in "tnm"]}
    members = [{"resourceType": "Observation", "id": f"mcode-example-{k}", "status": "final", "subject": ref("Patient", pid),
                "code": {"coding": [{"system": C.LOINC, "code": code}]}, "valueCodeableConcept": {"coding": [{"system": C.AJCC[0], "code": v}]}}
               for k, code, v in (("t", "21899-0", "pT3"), ("n", "21900-6", "pN0"), ("m", "21901-4", "pM0"))]
    course = course_summary(pid, "mcode-example-rt", [("Chest Wall", 60.0, 30), ("Chest Wall Lymph Nodes", 50.0, 25)],
                            [(C.SNOMED_MODALITY_PHOTONS, "1156530009"), (C.SNOMED_MODALITY_ELECTRONS, "1162782007")],
                            "2018-08-15", "2018-10-25", 31, cond["id"], [])
    course[0]["asserter"] = ref("Practitioner", doc["id"])
    course[0]["reasonCode"] = [{"coding": [{"system": C.ICD10_CM, "code": "C50.811"}]}]
    course[0]["extension"].append({"url": C.EX_MCODE_INTENT, "valueCodeableConcept": {"coding": [{"system": C.SNOMED, "code": "373808002"}]}})
    org = {"resourceType": "Organization", "id": "mcode-example-org", "name": "Example Radiation Oncology"}
    return {"resourceType": "Bundle", "id": "mcode-example-bundle", "type": "collection",
            "entry": [entry(r) for r in [pat, doc, cond, stage, *members, *course, org]]}


def bad_bundle(good: dict) -> dict:
    """A copy of a good bundle with two broken elements: a date that is no date and an element FHIR lacks."""
    bad = json.loads(json.dumps(good))
    for e in bad["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Procedure" and "performedPeriod" in r and r["id"].endswith("-rt0"):
            r["performedPeriod"]["start"] = "2028-13-45"
        if r["resourceType"] == "Patient":
            r["favouriteColour"] = "blue"
    return bad


def pick_cases(entities: tuple[str, ...], n_each: int, offset: int = 0) -> list[Case]:
    from medletter.synth import generate_corpus

    corpus = generate_corpus(N_CASES * 3, seed=SEED, lang="de")
    out = []
    for ent in entities:
        found = [r.case for r in corpus if r.case.entity == ent]
        out += found[offset:offset + n_each]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests" / "data" / "fhir")
    a = ap.parse_args(argv)
    for sub in ("mii", "mcode", "bulk", "bad"):
        (a.out / sub).mkdir(parents=True, exist_ok=True)
    mii_cases = pick_cases(ENTITIES_MII, 1)
    for i, c in enumerate(mii_cases):
        b = case_to_mii(c, f"mii-{i:02d}")
        (a.out / "mii" / f"{i:02d}-{c.entity}.json").write_text(json.dumps(b, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    mcode_cases = pick_cases(ENTITIES_MCODE, 1, offset=1)
    for i, c in enumerate(mcode_cases):
        b = case_to_mcode(c, f"mcode-{i:02d}")
        (a.out / "mcode" / f"{i:02d}-{c.entity}.json").write_text(json.dumps(b, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (a.out / "mcode" / "example-two-volumes.json").write_text(json.dumps(mcode_example_two_volumes(), ensure_ascii=False, indent=1) + "\n",
                                                              encoding="utf-8")
    by_type: dict[str, list[dict]] = {}
    for i, c in enumerate(pick_cases(("breast", "prostate", "rectum"), 1, offset=2)):
        for e in case_to_mii(c, f"bulk-{i:02d}")["entry"]:
            by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    for rtype, rs in by_type.items():
        (a.out / "bulk" / f"{rtype}.ndjson").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs), encoding="utf-8")
    (a.out / "bad" / "bad-bundle.json").write_text(json.dumps(bad_bundle(case_to_mii(mii_cases[0], "bad-00")), ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
    print(f"wrote {len(mii_cases)} MII and {len(mcode_cases) + 1} mCODE bundles, {len(by_type)} NDJSON files and a bad bundle to {a.out}")


if __name__ == "__main__":
    main()
