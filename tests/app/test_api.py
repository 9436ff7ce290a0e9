"""The JSON API as a hospital system drives it: paths, bodies and status codes (401/403/409/422)."""

from __future__ import annotations

import io
import json

import docx

from .util import PLANTED_LETTER, bearer, wait_job

ND = {"Content-Type": "application/x-ndjson"}


def _import(client, h, lines: str):
    return client.post("/api/v1/cases", content=lines.encode(), headers={**h, **ND})


def test_whole_path_import_draft_check_edit_conflict_approve_export(app_env, case_lines):
    app, client, db = app_env
    doc = bearer(db, "doc")
    r = _import(client, doc, case_lines)
    assert r.status_code == 201, r.text
    ids = r.json()["ids"]
    assert len(ids) == 3
    listed = client.get("/api/v1/cases", headers=doc).json()["cases"]
    assert {c["id"] for c in listed} == set(ids)

    r = client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=doc)
    assert r.status_code == 202
    job = wait_job(client, doc, r.json()["job_id"])
    assert job["status"] == "done", job
    letter_id = job["letter_id"]

    r = client.get(f"/api/v1/letters/{letter_id}", headers=doc)
    assert r.status_code == 200
    lt = r.json()
    assert set(lt) >= {"id", "case_id", "version", "status", "text", "facts"}
    assert lt["version"] == 1 and lt["status"] == "draft" and lt["case_id"] == ids[0]
    assert lt["text"] == PLANTED_LETTER, "the memorising model writes its letter"
    flags = lt["facts"]["unsupported"]
    assert [lt["text"][f["start"]:f["end"]] for f in flags] == ["12 Gy"]
    assert flags[0]["kind"] == "dose_gy" and flags[0]["value"] == "12"
    assert any("total_dose_gy" in m for m in lt["facts"]["missing"])

    # not approved yet: no export
    assert client.get(f"/api/v1/letters/{letter_id}/export?format=docx", headers=doc).status_code == 409

    fixed = lt["text"].replace("12 Gy", "40,05 Gy")
    r = client.put(f"/api/v1/letters/{letter_id}", json={"text": fixed}, headers={**doc, "If-Match": "1"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["facts"]["unsupported"] == []

    # a second physician saves from the stale version 1: refused, nothing changes
    doc2 = bearer(db, "doc2")
    r = client.put(f"/api/v1/letters/{letter_id}", json={"text": "overwritten"}, headers={**doc2, "If-Match": "1"})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2
    now = client.get(f"/api/v1/letters/{letter_id}", headers=doc).json()
    assert now["version"] == 2 and now["text"] == fixed

    # approve: physician only
    assert client.post(f"/api/v1/letters/{letter_id}/approve", headers=bearer(db, "root")).status_code == 403
    assert client.post(f"/api/v1/letters/{letter_id}/approve", headers=bearer(db, "rita")).status_code == 403
    r = client.post(f"/api/v1/letters/{letter_id}/approve", headers=doc)
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["approved_version"] == 2

    r = client.get(f"/api/v1/letters/{letter_id}/export?format=docx", headers=doc)
    assert r.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert "40,05 Gy" in text and "Albers" in text
    r = client.get(f"/api/v1/letters/{letter_id}/export?format=pdf", headers=doc)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/letters/{letter_id}/export?format=rtf", headers=doc).status_code == 422

    # editing an approved letter makes a new draft that needs approval again
    r = client.put(f"/api/v1/letters/{letter_id}", json={"text": fixed + "\nPS"}, headers={**doc, "If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["version"] == 3
    assert client.get(f"/api/v1/letters/{letter_id}/export?format=pdf", headers=doc).status_code == 409
    versions = client.get(f"/api/v1/letters/{letter_id}/versions", headers=doc).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3] and versions[0]["origin"] == "model"

    # the audit trail has every step
    from medletter.app.services import audit

    with db.session() as s:
        rows, _ = audit.events(s, per_page=500)
        acts = {e.action for e in rows}
    assert {"case_import", "draft_request", "draft_done", "letter_view", "letter_save", "letter_approve", "letter_export"} <= acts


def test_401_403_and_422(app_env, case_lines):
    app, client, db = app_env
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer mlt_wrong"}).status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Basic abc"}).status_code == 401
    rater = bearer(db, "rita")
    assert client.get("/api/v1/cases", headers=rater).status_code == 403
    assert _import(client, rater, case_lines).status_code == 403
    doc = bearer(db, "doc")
    ids = _import(client, doc, case_lines).json()["ids"]
    assert client.get(f"/api/v1/cases/{ids[0]}", headers=rater).status_code == 403
    assert client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=rater).status_code == 403
    assert client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=bearer(db, "root")).status_code == 403
    assert client.get("/api/v1/cases/99999", headers=doc).status_code == 404

    # a bad file: every bad line listed without its value, nothing stored
    lines = case_lines.splitlines()
    bad = json.loads(lines[1])
    bad["case"]["radiotherapy_courses"][0]["fractions"] = -5
    bad["case"]["patient"]["last_name"] = "Geheimname"
    other = json.loads(lines[2])
    other["case"]["case_id"] = "F-NEW-1"
    body = "\n".join([json.dumps(other), json.dumps(bad), "{not json", json.dumps({"case": {"case_id": "x"}})])
    r = _import(client, doc, body)
    assert r.status_code == 422
    errs = r.json()["errors"]
    assert "2: case.radiotherapy_courses.0.fractions: Input should be greater than or equal to 1" in errs
    assert any(e.startswith("3: (json): invalid JSON") for e in errs)
    assert any(e.startswith("4: case.") for e in errs)
    assert "Geheimname" not in r.text and "-5" not in r.text
    total = client.get("/api/v1/cases", headers=doc).json()["total"]
    assert total == 3, "nothing of the bad file was stored (line 1 was good)"
    assert client.post("/api/v1/cases", content=b"", headers={**doc, **ND}).status_code == 422
    assert client.post("/api/v1/cases", content=case_lines.encode(), headers={**doc, "Content-Type": "text/html"}).status_code == 422

    # the same file again is idempotent; a changed case under a known number is refused
    assert _import(client, doc, case_lines).json()["ids"] == ids
    changed = json.loads(lines[0])
    changed["case"]["main_diagnosis"]["text"] = "Anderes"
    assert _import(client, doc, json.dumps(changed)).status_code == 422

    # If-Match missing or junk
    r = client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=doc)
    job = wait_job(client, doc, r.json()["job_id"])
    lid = job["letter_id"]
    assert client.put(f"/api/v1/letters/{lid}", json={"text": "x"}, headers=doc).status_code == 422
    assert client.put(f"/api/v1/letters/{lid}", json={"text": "x"}, headers={**doc, "If-Match": "abc"}).status_code == 422
    assert client.put(f"/api/v1/letters/{lid}", json={"text": "  "}, headers={**doc, "If-Match": "1"}).status_code == 422
    assert client.get(f"/api/v1/letters/{lid}", headers=rater).status_code == 403
    assert client.get(f"/api/v1/letters/{lid}/export?format=pdf", headers=rater).status_code == 403


def test_failed_job_shows_message_and_can_be_retried(app_env, case_lines):
    """A drafting failure (here: the model breaks once) fails the job with a clear message; retry works."""
    app, client, db = app_env
    doc = bearer(db, "doc")
    ids = _import(client, doc, case_lines).json()["ids"]
    gen = app.state.generator
    real = gen.draft
    calls = {"n": 0}

    def flaky(case, on_token=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("CUDA error: device-side assert (patient Albers)")
        return real(case, on_token=on_token)

    gen.draft = flaky
    try:
        job = wait_job(client, doc, client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=doc).json()["job_id"])
        assert job["status"] == "failed" and "retried" in job["error"] and "Albers" not in job["error"]
        assert client.post(f"/api/v1/jobs/{job['id']}/retry", headers=doc).status_code == 202
        job = wait_job(client, doc, job["id"])
        assert job["status"] == "done" and job["letter_id"] and job["attempts"] == 2
        assert client.post(f"/api/v1/jobs/{job['id']}/retry", headers=doc).status_code == 409
    finally:
        gen.draft = real


def test_a_grounded_draft_says_which_numbers_were_held(tmp_path, memorising_run, case_lines):
    """With grounding on (the app's default) the memorising model's "12 Gy" (no dose of the case) cannot be
    written: the API's letter carries the grounding record, and the letter page says where the model was held."""
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.grounding import allowed_numbers, audit
    from medletter.records import Case

    from .util import PASSWORD, add_users

    app = create_app(Settings(db=str(tmp_path / "g.db"), run=memorising_run, max_new_tokens=48))
    assert app.state.generator.grounding == "on"
    add_users(app.state.db)
    with TestClient(app) as client:
        doc = bearer(app.state.db, "doc")
        ids = _import(client, doc, case_lines).json()["ids"]
        job = wait_job(client, doc, client.post(f"/api/v1/cases/{ids[0]}/drafts", headers=doc).json()["job_id"])
        lt = client.get(f"/api/v1/letters/{job['letter_id']}", headers=doc).json()
        assert "12 Gy" not in lt["text"] and lt["grounding"]["on"] and lt["grounding"]["interventions"]
        case = Case.model_validate(json.loads(case_lines.splitlines()[0])["case"])
        assert audit(lt["text"], allowed_numbers(case)) == []
        assert not [f for f in lt["facts"]["unsupported"] if f["kind"] in ("dose_gy", "fractions")]
        from .test_security import login

        assert login(client, "doc", PASSWORD).status_code == 303
        page = client.get(f"/letters/{job['letter_id']}").text
        assert 'id="grounding"' in page and "wollte „12" in page
