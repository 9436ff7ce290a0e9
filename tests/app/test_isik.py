"""ISiK export of approved letters: the DocumentReference (services/isik.py), the API (format=fhir) and
`medletter export fhir` (files, and --server against a real HTTP server run by the test).

The letters are written through the services on a real SQLite app database (a model draft, a physician's
edit, an approval), as in test_effort.py. The PDF inside the DocumentReference is compared byte for byte
with the PDF of the approved version (WeasyPrint renders the same input to the same bytes) and must differ
from the draft's.

No FHIR server can be had on this machine (HAPI FHIR and the other full servers come from Maven Central or
Docker images; nothing on PyPI, npm or Debian runs one offline): the --server path is tested against a
small real HTTP server (http.server in a thread) that answers the patient search and the POST as a FHIR
server does (Bundle; 201 with Location; 422 with an OperationOutcome). It is not a FHIR server: it checks
no profile, it only records what medletter sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fhir.resources.R4B.documentreference import DocumentReference
from sqlalchemy import select
from typer.testing import CliRunner

from medletter.app.services import isik
from medletter.cli import app as cli

from .util import bearer

runner = CliRunner()
DRAFT = "Sehr geehrter Herr Kollege Hausmann,\n\nDiagnose:\nMammakarzinom links (C50.4)\n\nBestrahlung bis 42 Gy.\n\nMit freundlichen Grüßen"
APPROVED = DRAFT.replace("bis 42 Gy.", "bis 40,05 Gy.")
PATIENT_NUMBER = "P-778812"  # GOOD_CASE's patient_id
SECRETS = (PATIENT_NUMBER, "Albers", "Beate", "F-2029-000123")  # never in a message, a log line or the audit trail


@pytest.fixture
def env(tmp_path, good_case):
    """(app, db path, ids): an app without a model; letter ids['approved'] (draft v1, edit v2 approved),
    ids['draft'] (v1 only), ids['edited'] (approved, then edited again: its newest version is a draft)."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.models import CaseRow, User
    from medletter.app.services import cases, review
    from medletter.app.services.auth import Principal

    from .util import add_users

    db_path = tmp_path / "isik.db"
    app = create_app(Settings(db=str(db_path), worker=False))
    add_users(app.state.db)
    ids = {}
    with app.state.db.session() as s:
        [case_id] = cases.import_jsonl(s, Principal.system(), json.dumps({"case": good_case}).encode())
        doc = Principal(s.scalar(select(User.id).where(User.name == "doc")), "doc", "physician")
        for name in ("approved", "draft", "edited"):
            lt = review.create_letter(s, s.get(CaseRow, case_id), DRAFT, "uniklinik", "de", "test-run", None)
            s.flush()
            if name != "draft":
                review.save(s, doc, lt.id, 1, APPROVED)
                review.approve(s, doc, lt.id)
            if name == "edited":
                review.save(s, doc, lt.id, 2, APPROVED + "\nPS")
            ids[name] = lt.id
    return app, db_path, ids


def _pdf_of(app, letter_id: int, text: str) -> bytes:
    from medletter.app.services import review
    from medletter.app.services.auth import Principal
    from medletter.app.services.export import to_pdf

    with app.state.db.session() as s:
        view, version = review.approved_text(s, Principal.system("physician"), letter_id)
        return to_pdf(text, review._export_meta(s, view, version))


def _coding(cc: dict, system: str) -> dict:
    [c] = [c for c in cc["coding"] if c["system"] == system]
    return c


def check_isik(r: dict, letter_id: int, patient_system: str = isik.DEFAULT_PATIENT_SYSTEM) -> bytes:
    """Assert every element the export promises, with its code; return the decoded PDF."""
    DocumentReference.model_validate(r)  # the FHIR R4B model accepts it
    assert isik.profile_problems(r) == []
    assert r["resourceType"] == "DocumentReference" and r["meta"]["profile"] == [isik.PROFILE]
    assert r["masterIdentifier"]["system"] == "urn:ietf:rfc:3986"
    oid = r["masterIdentifier"]["value"]
    assert oid.startswith("urn:oid:2.25.") and oid[len("urn:oid:2.25."):].isdigit()
    assert r["identifier"][0]["value"].startswith("urn:uuid:")
    assert r["status"] == "current" and r["docStatus"] == "final"
    assert _coding(r["type"], isik.KDL) == {"system": isik.KDL, "code": "AD010104", "display": "Entlassungsbericht extern"}
    assert _coding(r["type"], isik.XDS_TYPE) == {"system": "http://ihe-d.de/CodeSystems/IHEXDStypeCode", "code": "BERI",
                                                "display": "Arztberichte"}
    assert _coding(r["category"][0], isik.XDS_CLASS) == {"system": "http://ihe-d.de/CodeSystems/IHEXDSclassCode", "code": "BRI",
                                                         "display": "Brief"}
    subject = r["subject"]
    assert subject["identifier"]["system"] == patient_system and subject["identifier"]["value"] == PATIENT_NUMBER
    assert subject["identifier"]["type"]["coding"][0]["code"] == "MR"
    query = urllib.parse.parse_qs(subject["reference"].split("?", 1)[1])
    assert subject["reference"].startswith("Patient?") and query == {"identifier": [f"{patient_system}|{PATIENT_NUMBER}"]}
    assert r["author"] == [{"type": "Practitioner", "display": "doc"}]
    assert r["date"].endswith("+00:00")
    assert r["description"].startswith("Abschlussbericht Strahlentherapie vom 10.05.2029")
    assert not any(s in r["description"] for s in SECRETS)
    assert r["securityLabel"] == [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N",
                                               "display": "normal"}]}]
    [content] = r["content"]
    att = content["attachment"]
    assert att["contentType"] == "application/pdf" and att["language"] == "de" and att["creation"] == r["date"]
    assert att["title"]
    assert content["format"]["system"] == "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
    assert content["format"]["code"] == "urn:ihe:iti:xds:2017:mimeTypeSufficient"
    assert _coding(r["context"]["facilityType"], isik.FACILITY_TYPE)["code"] == "KHS"
    assert _coding(r["context"]["practiceSetting"], "http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen") == {
        "system": "http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen", "code": "STRA", "display": "Strahlentherapie"}
    pdf = base64.b64decode(att["data"], validate=True)
    assert pdf.startswith(b"%PDF") and att["size"] == len(pdf)
    assert att["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    return pdf


def _audit(app, action: str) -> list[str]:
    from medletter.app.services import audit

    with app.state.db.session() as s:
        return [f"{e.object_id} {e.detail}" for e in audit.events(s, action=action, per_page=100)[0]]


# ---------------------------------------------------------------------------------------------- the resource


def test_document_reference_of_the_approved_version(env):
    from medletter.app.services import review
    from medletter.app.services.auth import Principal

    app, _, ids = env
    lid = ids["approved"]
    with app.state.db.session() as s:
        r, version = review.export_fhir(s, Principal.system("physician"), lid)
    assert version == 2
    pdf = check_isik(r, lid)
    assert pdf == _pdf_of(app, lid, APPROVED), "the PDF is the approved version's"
    assert pdf != _pdf_of(app, lid, DRAFT)
    with app.state.db.session() as s:  # the same approved version: the same document identifiers
        again, _ = review.export_fhir(s, Principal.system("physician"), lid)
    assert again["masterIdentifier"] == r["masterIdentifier"] and again["identifier"] == r["identifier"]
    assert f"{lid} version=2 format=fhir" in _audit(app, "letter_export")


def test_profile_problems_name_the_resource_and_field_never_a_value(env):
    from medletter.app.services import review
    from medletter.app.services.auth import Principal

    app, _, ids = env
    with app.state.db.session() as s:
        r, _ = review.export_fhir(s, Principal.system("physician"), ids["approved"])
    bad = json.loads(json.dumps(r))
    del bad["securityLabel"]
    bad["type"]["coding"] = bad["type"]["coding"][1:]  # no KDL code
    bad["context"]["practiceSetting"] = {"coding": [{"system": "http://example.org/x", "code": "X"}]}
    bad["content"][0]["attachment"]["creation"] = PATIENT_NUMBER  # not a dateTime
    bad["subject"]["identifier"]["value"] = 12
    with pytest.raises(isik.IsikError) as e:
        isik.validate(bad, "DocumentReference-7")
    errors = e.value.errors
    assert all(err.startswith("DocumentReference-7: ") for err in errors)
    fields = {err.split(": ")[1] for err in errors}
    assert {"securityLabel", "type.coding:KDL", "context.practiceSetting", "content.0.attachment.creation",
            "subject.identifier.value"} <= fields, errors
    assert not any(sec in err for err in errors for sec in SECRETS)


def test_letter_types_and_patient_system():
    doc = isik.LetterDocument(letter_id=5, version=1, lang="en", letter_type="follow_up", letter_date=dt.date(2030, 1, 2),
                              case_number="F-1", patient_number="A&B=1|2", approved_by="dr.x",
                              approved_at=dt.datetime(2030, 1, 2, 8, 30), text="x")
    r = isik.document_reference(doc, b"%PDF-1.7 test", patient_system="urn:oid:1.2.276.0.76.3.1.99")
    assert _coding(r["type"], isik.KDL)["code"] == "AD010111" and "Nachsorge" in r["description"]
    assert r["content"][0]["attachment"]["language"] == "en" and r["date"] == "2030-01-02T08:30:00+00:00"
    query = urllib.parse.parse_qs(r["subject"]["reference"].split("?", 1)[1])
    assert query == {"identifier": ["urn:oid:1.2.276.0.76.3.1.99|A&B=1|2"]}, "a patient number with & and = stays one value"


# ---------------------------------------------------------------------------------------------- the API


def test_api_format_fhir(env):
    from fastapi.testclient import TestClient

    app, _, ids = env
    with TestClient(app) as client:
        doc = bearer(app.state.db, "doc")
        r = client.get(f"/api/v1/letters/{ids['approved']}/export?format=fhir", headers=doc)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/fhir+json")
        assert f'filename="DocumentReference-{ids["approved"]}.json"' in r.headers["content-disposition"]
        check_isik(r.json(), ids["approved"])
        for lid in (ids["draft"], ids["edited"]):  # no approved newest version
            r = client.get(f"/api/v1/letters/{lid}/export?format=fhir", headers=doc)
            assert r.status_code == 409 and "not approved" in r.json()["detail"]
        assert client.get("/api/v1/letters/999/export?format=fhir", headers=doc).status_code == 404
        assert client.get(f"/api/v1/letters/{ids['approved']}/export?format=fhir", headers=bearer(app.state.db, "rita")).status_code == 403
        assert client.get(f"/api/v1/letters/{ids['approved']}/export?format=fhir").status_code == 401
        assert client.get(f"/api/v1/letters/{ids['approved']}/export?format=xml", headers=doc).status_code == 422
        r = client.get(f"/api/v1/letters/{ids['approved']}/export?format=pdf", headers=doc)  # the other formats still work
        assert r.status_code == 200 and r.content == _pdf_of(app, ids["approved"], APPROVED)
    assert sum(d.endswith("format=fhir") for d in _audit(app, "letter_export")) == 1


def test_api_patient_system_setting(env, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app

    _, db_path, ids = env
    monkeypatch.setenv("MEDLETTER_FHIR_PATIENT_SYSTEM", "urn:oid:1.2.276.0.76.3.1.99")
    app = create_app(Settings(db=str(db_path), worker=False))
    with TestClient(app) as client:
        r = client.get(f"/api/v1/letters/{ids['approved']}/export?format=fhir", headers=bearer(app.state.db, "doc"))
    check_isik(r.json(), ids["approved"], "urn:oid:1.2.276.0.76.3.1.99")


# ---------------------------------------------------------------------------------------------- the CLI: files


def test_cli_writes_one_file_per_approved_letter(env, tmp_path):
    app, db_path, ids = env
    out = tmp_path / "out"
    r = runner.invoke(cli, ["export", "fhir", "--letter", str(ids["approved"]), "--db", str(db_path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    path = out / f"DocumentReference-{ids['approved']}.json"
    check_isik(json.loads(path.read_text(encoding="utf-8")), ids["approved"])
    assert [p.name for p in out.iterdir()] == [path.name], "no temporary file is left"

    out2 = tmp_path / "all"
    r = runner.invoke(cli, ["export", "fhir", "--approved", "--db", str(db_path), "--out", str(out2)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out2.iterdir()) == [path.name], "only letters whose newest version is approved"
    assert not any(s in r.output for s in SECRETS)


def test_cli_refuses_a_letter_that_is_not_approved(env, tmp_path):
    app, db_path, ids = env
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.json").write_text("{}")
    for lid in (ids["draft"], ids["edited"]):
        r = runner.invoke(cli, ["export", "fhir", "--letter", str(lid), "--db", str(db_path), "--out", str(out)])
        assert r.exit_code == 1 and "not approved" in r.output and "nothing was written" in r.output, r.output
    r = runner.invoke(cli, ["export", "fhir", "--letter", "999", "--db", str(db_path), "--out", str(out)])
    assert r.exit_code == 1 and "no letter 999" in r.output
    assert [p.name for p in out.iterdir()] == ["keep.json"]
    assert not any(d.endswith("format=fhir") for d in _audit(app, "letter_export")), "a refused export is no export"
    for args in ([], ["--letter", "1", "--approved"]):
        r = runner.invoke(cli, ["export", "fhir", *args, "--db", str(db_path), "--out", str(out)])
        assert r.exit_code == 2 and "either --letter ID or --approved" in r.output


# ---------------------------------------------------------------------------------------------- the CLI: --server


class _Server:
    """A real HTTP server on loopback that answers like a FHIR server and records what it got (not a FHIR server)."""

    def __init__(self, post_status: int = 201, patients: int = 1):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def _answer(self, status: int, body: dict | None, headers: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in {"Content-Type": "application/fhir+json", **(headers or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                outer.requests.append({"method": "GET", "path": u.path, "query": urllib.parse.parse_qs(u.query)})
                entries = [{"resource": {"resourceType": "Patient", "id": f"pat-{i}"}} for i in range(patients)]
                self._answer(200, {"resourceType": "Bundle", "type": "searchset", "total": patients, "entry": entries})

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
                if post_status == 201:
                    n = sum(r["method"] == "POST" for r in outer.requests)
                    loc = f"http://127.0.0.1:{outer.port}/fhir/DocumentReference/{4710 + n}/_history/1"
                    self._answer(201, None, {"Location": loc})
                else:  # a server that quotes the resource in its diagnostics
                    self._answer(post_status, {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "invalid", "diagnostics": f"Patient {PATIENT_NUMBER} Albers unknown"}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def test_cli_server_posts_and_audits_the_answer(env, tmp_path):
    app, db_path, ids = env
    out = tmp_path / "out"
    with _Server() as srv:
        r = runner.invoke(cli, ["export", "fhir", "--approved", "--db", str(db_path), "--out", str(out), "--server", srv.url + "/",
                                "--server-token", "t0ken"])
    assert r.exit_code == 0, r.output
    search, post = srv.requests
    assert search["method"] == "GET" and search["path"] == "/fhir/Patient"
    assert search["query"] == {"identifier": [f"{isik.DEFAULT_PATIENT_SYSTEM}|{PATIENT_NUMBER}"]}
    assert post["path"] == "/fhir/DocumentReference"
    assert post["headers"]["Content-Type"].startswith("application/fhir+json")
    assert post["headers"]["Authorization"] == "Bearer t0ken"
    sent = json.loads(post["body"])
    assert sent["subject"]["reference"] == "Patient/pat-0", "the conditional reference is resolved on the server"
    pdf = check_isik({**sent, "subject": json.loads((out / f"DocumentReference-{ids['approved']}.json").read_text())["subject"]},
                     ids["approved"])
    assert pdf == _pdf_of(app, ids["approved"], APPROVED)
    [row] = _audit(app, "letter_fhir_post")
    assert row == f"{ids['approved']} version=2 server={srv.url} status=201 id=4711 vid=1"
    assert "DocumentReference/4711" in r.output and "t0ken" not in row


@pytest.mark.parametrize("post_status, patients, expect", [
    (422, 1, "the server answered 422 (error/invalid)"),
    (201, 0, "the server has 0 patients with this patient number, not 1"),
    (201, 2, "the server has 2 patients with this patient number, not 1"),
])
def test_cli_server_failure_is_a_clear_error_and_audited(env, tmp_path, post_status, patients, expect):
    app, db_path, ids = env
    out = tmp_path / "out"
    with _Server(post_status, patients) as srv:
        r = runner.invoke(cli, ["export", "fhir", "--letter", str(ids["approved"]), "--db", str(db_path), "--out", str(out),
                                "--server", srv.url])
    assert r.exit_code == 1, r.output
    assert expect in r.output and "recorded in the audit trail" in r.output
    assert (out / f"DocumentReference-{ids['approved']}.json").is_file(), "the file stays"
    [row] = _audit(app, "letter_fhir_post")
    assert row.startswith(f"{ids['approved']} version=2 server={srv.url} ") and expect in row
    assert not any(s in r.output or s in row for s in SECRETS), "the server's diagnostics (patient data) are not repeated"


def test_cli_server_unreachable(env, tmp_path):
    import socket

    app, db_path, ids = env
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(cli, ["export", "fhir", "--letter", str(ids["approved"]), "--db", str(db_path), "--out", str(tmp_path / "o"),
                            "--server", f"http://127.0.0.1:{port}/fhir", "--timeout", "5"])
    assert r.exit_code == 1 and "no answer from the server (ConnectError)" in r.output, r.output
    [row] = _audit(app, "letter_fhir_post")
    assert "error=no answer from the server (ConnectError)" in row
    for bad in ("ftp://host/fhir", "fhir.example", "http://host/fhir?x=1"):
        r = runner.invoke(cli, ["export", "fhir", "--letter", "1", "--db", str(db_path), "--out", str(tmp_path / "o"), "--server", bad])
        assert r.exit_code == 2 and "--server must be" in r.output
