"""medletter import fhir: MII Onkologie and mCODE bundles, NDJSON, the mCODE example structure, a bad bundle;
synthetic case → FHIR → import gives back every field FHIR carries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medletter.fhir.importer import import_index
from medletter.fhir.read import FhirInputError, read_index
from medletter.jsonl import read_records
from medletter.records import Record

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "fhir"
sys.path.insert(0, str(ROOT / "tools"))
import fhir_testdata as W

# the fields each profile carries (everything else is missing, derived or a schema default, and reported)
COMMON = ["case_id", "patient.first_name", "patient.last_name", "patient.sex", "patient.birth_date", "patient.address",
          "patient.patient_id", "patient.case_id", "patient.phone", "main_diagnosis.text", "main_diagnosis.icd10",
          "main_diagnosis.histology", "main_diagnosis.tnm", "main_diagnosis.date_of_diagnosis", "secondary_diagnoses",
          "prior_treatments.surgeries", "toxicities"]
COURSE = ["target_region", "total_dose_gy", "fractions", "dose_per_fraction_gy", "start_date", "end_date", "concurrent_chemotherapy"]


def _get(obj, path):
    for p in path.split("."):
        obj = obj[int(p)] if isinstance(obj, list) else obj.get(p) if isinstance(obj, dict) else None
    return obj


def _compare(orig: dict, got: dict, paths: list[str]) -> list[str]:
    return [f"{p}: {_get(orig, p)!r} != {_get(got, p)!r}" for p in paths if _get(orig, p) != _get(got, p)]


def _import(bundle: dict, tmp_path: Path, name: str = "b.json") -> Record:
    f = tmp_path / name
    f.write_text(json.dumps(bundle), encoding="utf-8")
    res = import_index(read_index(f))
    assert len(res.records) == 1, res.unmappable
    return res.records[0]


def _names_ref(case: dict) -> str:
    return f"{case['referring_physician']['first_name']} {case['referring_physician']['last_name']}"


def _names(case: dict) -> list[str]:
    return [f"{d['first_name']} {d['last_name']}" for d in case["treating_physicians"]]


@pytest.mark.parametrize("entity", W.ENTITIES_MII)
def test_roundtrip_mii(tmp_path, entity):
    case = W.pick_cases((entity,), 1, offset=3)[0]
    rec = _import(W.case_to_mii(case, "p1"), tmp_path)
    orig, got = json.loads(case.model_dump_json()), json.loads(rec.case.model_dump_json())
    paths = COMMON + ["patient.insurance_number", "main_diagnosis.laterality", "main_diagnosis.uicc_stage", "main_diagnosis.grading"]
    for i, c in enumerate(case.radiotherapy_courses):
        paths += [f"radiotherapy_courses.{i}.{k}" for k in COURSE + ["is_boost", "technique"]]
    assert _compare(orig, got, paths) == []
    assert _names(orig) == _names(got)
    assert _names_ref(orig) == _names_ref(got)
    timed = [{k: v for k, v in s.items() if k != "cycles"} for s in orig["prior_treatments"]["systemic"]
             if s["intent"] in ("adjuvant", "neoadjuvant", "palliative")]  # MII gives no cycles; concurrent ones are the course's
    assert timed == [{k: v for k, v in s.items() if k != "cycles"} for s in got["prior_treatments"]["systemic"]]
    assert set(rec.case.missing) == {"letter_date", "follow_up"}
    assert all(p.endswith(".fractions") or p.endswith(".technique") for p in rec.case.derived)
    assert rec.provenance["radiotherapy_courses.0.fractions"].derived


@pytest.mark.parametrize("entity", W.ENTITIES_MCODE)
def test_roundtrip_mcode(tmp_path, entity):
    case = W.pick_cases((entity,), 1, offset=3)[0]
    rec = _import(W.case_to_mcode(case, "p1"), tmp_path)
    orig, got = json.loads(case.model_dump_json()), json.loads(rec.case.model_dump_json())
    paths = list(COMMON)
    if case.main_diagnosis.laterality.value in ("left", "right", "bilateral"):
        paths.append("main_diagnosis.laterality")
    for i, c in enumerate(case.radiotherapy_courses):
        paths += [f"radiotherapy_courses.{i}.{k}" for k in COURSE]
        if c.technique.value not in ("SBRT", "SRS", "FSRT"):
            paths.append(f"radiotherapy_courses.{i}.technique")
    assert _compare(orig, got, paths) == []
    assert "patient.insurance_number" in rec.case.missing  # mCODE carries no German KVNR
    assert rec.case.main_diagnosis.uicc_stage is None  # an AJCC stage group is not a UICC stage


def test_mcode_example_two_volumes_sessions_are_not_fractions(tmp_path):
    res = import_index(read_index(DATA / "mcode" / "example-two-volumes.json"))
    rec = res.records[0]
    c = rec.case
    assert [(x.target_region, x.total_dose_gy, x.fractions, x.dose_per_fraction_gy) for x in c.radiotherapy_courses] == \
        [("Chest Wall", 60.0, 30, 2.0), ("Chest Wall Lymph Nodes", 50.0, 25, 2.0)]
    assert rec.provenance["radiotherapy_courses.0.total_dose_gy"].original == {"value": 6000.0, "unit": "cGy", "system": "http://unitsofmeasure.org"}
    assert {"radiotherapy_courses.0.dose_per_fraction_gy", "radiotherapy_courses.1.dose_per_fraction_gy"} <= set(c.derived)
    # two modality/technique pairs for two volumes: which is which is not stated, so neither is guessed
    assert {"radiotherapy_courses.0.technique", "radiotherapy_courses.1.technique", "main_diagnosis.icd10"} <= set(c.missing)
    notes = res.cases[0].builder.notes
    assert any("31 sessions, 55 fractions" in n for n in notes)
    assert {"resource": "Organization/mcode-example-org", "source": str(DATA / "mcode" / "example-two-volumes.json"),
            "reason": "not used: no mapping for Organization"} in res.unmappable


def test_mii_fraction_count_left_missing_where_not_exact_and_cgy_converted(tmp_path):
    case = W.pick_cases(("prostate",), 1)[0]
    bundle = W.case_to_mii(case, "p1")
    rt = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "p1-rt0")
    for e in rt["extension"]:
        if e["url"].endswith("gesamtdosis"):
            e["valueQuantity"] = {"value": round(case.radiotherapy_courses[0].total_dose_gy * 100 + 150), "unit": "cGy",
                                  "system": "http://unitsofmeasure.org", "code": "cGy"}
        if e["url"].endswith("boost"):
            e["valueCodeableConcept"]["coding"][0]["code"] = "SIB"
    rec = _import(bundle, tmp_path)
    c0 = rec.case.radiotherapy_courses[0]
    assert c0.total_dose_gy == pytest.approx(case.radiotherapy_courses[0].total_dose_gy + 1.5)
    assert c0.fractions is None and "radiotherapy_courses.0.fractions" in rec.case.missing
    assert c0.is_boost is False
    assert rec.provenance["radiotherapy_courses.0.total_dose_gy"].original["unit"] == "cGy"


def test_bulk_ndjson_folder(tmp_path):
    res = import_index(read_index(DATA / "bulk"))
    assert len(res.records) == 3 and not res.unmappable
    assert {r.case.entity for r in res.records} == {None}
    assert all(r.case.radiotherapy_courses and r.case.main_diagnosis.icd10 for r in res.records)


def test_every_test_bundle_imports_and_validates(tmp_path):
    out = tmp_path / "cases.jsonl"
    rep = tmp_path / "report.md"
    cmd = [sys.executable, "-m", "medletter.cli", "import", "fhir", str(DATA / "mii"), str(DATA / "mcode"), "--out", str(out), "--report", str(rep)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    res = read_records(out, allow_incomplete=True)
    assert not res.errors and len(res.good) == 14
    assert "# FHIR import report" in rep.read_text() and "Unmappable resources" in rep.read_text()
    v = subprocess.run([sys.executable, "-m", "medletter.cli", "validate", str(out)], capture_output=True, text=True, timeout=300)
    assert v.returncode == 0 and "14 incomplete" in " ".join(v.stderr.split())
    # a command that processes records refuses incomplete cases, naming the field
    assert all(e.field == "case.missing" and "incomplete" in e.problem for e in read_records(out).errors)


def test_bad_bundle_names_resource_and_element_and_writes_nothing(tmp_path):
    out = tmp_path / "cases.jsonl"
    out.write_text("old content\n")
    p = subprocess.run([sys.executable, "-m", "medletter.cli", "import", "fhir", str(DATA / "bad" / "bad-bundle.json"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1
    assert "Procedure/bad-00-rt0: performedPeriod.start:" in p.stderr
    assert "Patient/bad-00: favouriteColour: unknown element" in p.stderr
    assert "nothing was written" in p.stderr
    assert out.read_text() == "old content\n"
    with pytest.raises(FhirInputError) as e:
        read_index(DATA / "bad" / "bad-bundle.json")
    assert len(e.value.problems) == 2
    surname = json.loads((DATA / "bad" / "bad-bundle.json").read_text())["entry"][0]["resource"]["name"][0]["family"]
    assert surname not in p.stderr  # no patient data in messages


def test_patient_without_radiotherapy_is_reported(tmp_path):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "lonely", "gender": "male", "birthDate": "1950-01-01", "name": [{"family": "X", "given": ["Y"]}]}}]}
    f = tmp_path / "b.json"
    f.write_text(json.dumps(bundle))
    res = import_index(read_index(f))
    assert not res.records and res.unmappable[0]["resource"] == "Patient/lonely"
    res = import_index(read_index(f), profile="mii")
    assert not res.records and "no MII Bestrahlung" in res.unmappable[-1]["reason"]
