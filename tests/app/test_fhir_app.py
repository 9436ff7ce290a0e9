"""FHIR in the review app: the API (application/fhir+json) and the page import; an incomplete case is
refused for drafting (409 with the missing fields; the page says so) until a physician completes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .test_security import csrf_of, login
from .util import bearer, wait_job

DATA = Path(__file__).resolve().parent.parent / "data" / "fhir"
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def no_model_env(tmp_path):
    """The app without a model (drafts are queued, never run): imports, refusals and completion only."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    from .util import add_users

    app = create_app(Settings(db=str(tmp_path / "fhir.db")))
    add_users(app.state.db)
    with TestClient(app) as client:
        yield app, client, app.state.db


def test_api_fhir_import_refuse_incomplete_complete_then_queue(no_model_env):
    _import_refuse_complete(*no_model_env)


def test_api_fhir_import_to_approved_letter(app_env):
    """The whole way a newcomer goes: FHIR bundle → incomplete case → completed → drafted → approved
    (needs the memorising model, trained once per session)."""
    app, client, db = app_env
    doc = bearer(db, "doc")
    case_id = _import_refuse_complete(app, client, db)
    r = client.post(f"/api/v1/cases/{case_id}/drafts", headers=doc)
    assert r.status_code == 202, r.text
    job = wait_job(client, doc, r.json()["job_id"])
    assert job["status"] == "done", job
    lt = client.get(f"/api/v1/letters/{job['letter_id']}", headers=doc).json()
    r = client.get(f"/api/v1/letters/{lt['id']}/export?format=fhir", headers=doc)
    assert r.status_code == 409, "a draft is not exported"
    r = client.post(f"/api/v1/letters/{lt['id']}/approve", json={"version": lt["version"]}, headers=doc)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # ... and back into the hospital system: an ISiK DocumentReference that fhir.resources validates, the PDF inside
    import base64

    from fhir.resources.R4B.documentreference import DocumentReference

    r = client.get(f"/api/v1/letters/{lt['id']}/export?format=fhir", headers=doc)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json"), r.text
    ref = DocumentReference.model_validate_json(r.content)
    assert ref.status == "current" and ref.docStatus == "final"
    assert ref.content[0].attachment.data.startswith(b"%PDF")  # fhir.resources decodes the base64
    assert base64.b64decode(r.json()["content"][0]["attachment"]["data"]) == ref.content[0].attachment.data


def _import_refuse_complete(app, client, db) -> int:
    doc = bearer(db, "doc")
    r = client.post("/api/v1/cases", content=(DATA / "mii" / "01-prostate.json").read_bytes(), headers={**doc, **FHIR})
    assert r.status_code == 201, r.text
    (case_id,) = r.json()["ids"]
    assert r.json()["incomplete"] == [case_id]
    again = client.post("/api/v1/cases", content=(DATA / "mii" / "01-prostate.json").read_bytes(), headers={**doc, **FHIR})
    assert again.status_code == 201 and again.json()["ids"] == [case_id], "the same bundle again is a no-op"
    got = client.get(f"/api/v1/cases/{case_id}", headers=doc).json()
    assert got["incomplete"] and set(got["missing"]) == {"letter_date", "follow_up"}
    assert got["case"]["radiotherapy_courses"][0]["fractions"] and "radiotherapy_courses.0.fractions" in got["case"]["derived"]

    r = client.post(f"/api/v1/cases/{case_id}/drafts", headers=doc)
    assert r.status_code == 409
    assert set(r.json()["missing"]) == {"letter_date", "follow_up"} and "incomplete" in r.json()["detail"]

    r = client.post(f"/api/v1/cases/{case_id}/complete", json={"values": {"letter_date": "2001-01-01"}}, headers=doc)
    assert r.status_code == 422 and any("letter_date" in e for e in r.json()["errors"]), "before the birth date"
    r = client.post(f"/api/v1/cases/{case_id}/complete", json={"values": {"case_id": "X"}}, headers=doc)
    assert r.status_code == 422 and r.json()["errors"] == ["case_id: is not missing (only missing fields can be completed here)"]
    end = got["case"]["radiotherapy_courses"][-1]["end_date"]
    r = client.post(f"/api/v1/cases/{case_id}/complete", headers=doc,
                    json={"values": {"letter_date": end, "follow_up": {"first_visit_weeks": 6, "interval_text": "alle 3 Monate"}}})
    assert r.status_code == 200, r.text
    assert r.json()["incomplete"] is False
    r = client.post(f"/api/v1/cases/{case_id}/drafts", headers=doc)
    assert r.status_code == 202, r.text
    return case_id


def test_api_bad_bundle_is_422_naming_resource_and_element(no_model_env):
    app, client, db = no_model_env
    doc = bearer(db, "doc")
    r = client.post("/api/v1/cases", content=(DATA / "bad" / "bad-bundle.json").read_bytes(), headers={**doc, **FHIR})
    assert r.status_code == 422
    errs = r.json()["errors"]
    assert any(e.startswith("Procedure/bad-00-rt0: performedPeriod.start: ") for e in errs), errs
    assert "Patient/bad-00: favouriteColour: unknown element" in errs
    assert client.get("/api/v1/cases", headers=doc).json()["total"] == 0, "nothing stored"
    r = client.post("/api/v1/cases", content=b"{}", headers={**doc, "Content-Type": "application/xml"})
    assert r.status_code == 422


def test_page_import_of_fhir_incomplete_case_and_completion(no_model_env):
    app, client, db = no_model_env
    login(client, "doc")
    token = csrf_of(client)
    raw = (DATA / "mcode" / "example-two-volumes.json").read_bytes()
    r = client.post("/cases/import", data={"csrf_token": token}, files={"file": ("bundle.json", raw, "application/fhir+json")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    listing = client.get("/cases").text
    assert "unvollständig" in listing  # the pages are German by default (the API's texts stay English)
    case_id = int(listing.split('href="/cases/')[1].split('"')[0])
    page = client.get(f"/cases/{case_id}").text
    assert "Unvollständiger Fall" in page and "radiotherapy_courses.0.technique" in page and 'name="letter_date"' in page
    r = client.post(f"/cases/{case_id}/drafts", data={"csrf_token": token})
    assert r.status_code == 409 and "unvollständig" in r.text and "vor dem Entwurf ergänzen" in r.text
    form = {"csrf_token": token, "letter_date": "26.10.2018", "radiotherapy_courses.0.technique": "VMAT",
            "radiotherapy_courses.1.technique": "nonsense"}
    r = client.post(f"/cases/{case_id}/complete", data=form)
    assert r.status_code == 422 and "radiotherapy_courses.1.technique" in r.text, "a bad value: nothing changes"
    form["radiotherapy_courses.1.technique"] = "electrons"
    r = client.post(f"/cases/{case_id}/complete", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/cases/{case_id}").text
    assert 'name="letter_date"' not in page and 'name="radiotherapy_courses.0.technique"' not in page
    assert "Unvollständiger Fall" in page, "other fields are still missing"

    bad = (DATA / "bad" / "bad-bundle.json").read_bytes()
    r = client.post("/cases/import", data={"csrf_token": token}, files={"file": ("bad.json", bad, "application/json")})
    assert r.status_code == 422 and "Procedure/bad-00-rt0: performedPeriod.start" in r.text
