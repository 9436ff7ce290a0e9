"""Security of the review app, tested: CSRF, escaping, cookies, lock-out, expiry, roles, secrets at
rest, headers, no patient data in the log; the database file and schema."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import stat

import pytest
from fastapi.testclient import TestClient

from .util import PASSWORD, bearer, wait_job

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS_1 = "<script>alert(1)</script>"
XSS_2 = '"><img src=x onerror=alert(2)>'


@pytest.fixture
def plain_app(tmp_path):
    """The app without a model (no worker): pages, roles and storage only."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    from .util import add_users

    app = create_app(Settings(db=str(tmp_path / "sec.db"), max_failed_logins=3))
    add_users(app.state.db)
    return app


def login(client: TestClient, name: str, password: str = PASSWORD):
    page = client.get("/login")
    token = CSRF_RE.search(page.text).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": ""},
                       follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/cases") -> str:
    return CSRF_RE.search(client.get(path).text).group(1)


def _import_xss(app, client) -> int:
    from conftest import GOOD_CASE

    c = json.loads(json.dumps(GOOD_CASE))
    c["main_diagnosis"]["text"] = XSS_1
    c["findings_at_end"] = [XSS_2]
    c["patient"]["last_name"] = XSS_2
    r = client.post("/api/v1/cases", content=json.dumps({"case": c}).encode(),
                    headers={**bearer(app.state.db, "doc"), "Content-Type": "application/x-ndjson"})
    assert r.status_code == 201, r.text
    return r.json()["ids"][0]


def test_every_state_change_needs_the_csrf_token(plain_app):
    client = TestClient(plain_app)
    # the login form itself
    assert client.post("/login", data={"username": "doc", "password": PASSWORD}).status_code == 403
    assert login(client, "doc").status_code == 303
    case_id = _import_xss(plain_app, client)
    posts = [("/logout", {}), (f"/cases/{case_id}/drafts", {}), ("/letters/1", {"text": "x", "base_version": "1"}),
             ("/letters/1/approve", {"version": "1"}), ("/jobs/1/retry", {})]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    r = client.post("/cases/import", files={"file": ("c.jsonl", b"{}")})
    assert r.status_code == 403
    # still logged in, nothing was queued
    assert client.get(f"/cases/{case_id}").status_code == 200
    from medletter.app.models import Job

    with plain_app.state.db.session() as s:
        assert s.query(Job).count() == 0
    # with the token it works
    assert client.post(f"/cases/{case_id}/drafts", data={"csrf_token": csrf_of(client)}, follow_redirects=False).status_code == 303
    for path, data in (("/settings", {"lang": "en"}), ("/admin/users/doc/lang", {"lang": "en"})):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    admin = TestClient(plain_app)
    login(admin, "root")
    assert admin.post("/admin/users", data={"name": "x1", "role": "rater", "password": PASSWORD}).status_code == 403
    assert admin.post("/admin/users/doc/lang", data={"lang": "en"}).status_code == 403
    with plain_app.state.db.session() as s:
        from medletter.app.models import User

        assert s.query(User).filter_by(name="doc").one().lang is None, "no language was set without the token"


def test_pages_escape_what_they_show(plain_app):
    client = TestClient(plain_app)
    login(client, "doc")
    case_id = _import_xss(plain_app, client)
    for path in ("/cases", f"/cases/{case_id}", "/cases?q=script"):
        html = client.get(path).text
        assert XSS_1 not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&#34;&gt;&lt;img" in html, path


def test_cookies_headers_and_secrets_at_rest(plain_app, tmp_path):
    client = TestClient(plain_app)
    r = login(client, "doc")
    cookie = r.headers["set-cookie"]
    assert "medletter_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    tls = TestClient(plain_app, base_url="https://testserver")
    r = login(tls, "doc")
    assert "Secure" in r.headers["set-cookie"]
    page = client.get("/cases")
    h = page.headers
    assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff" and h["cache-control"] == "no-store"
    assert "<script" not in page.text, "no script at all, inline or not"
    assert client.get("/static/style.css").status_code == 200

    token = bearer(plain_app.state.db, "doc")["Authorization"].split()[1]
    db_file = tmp_path / "sec.db"
    assert stat.S_IMODE(os.stat(db_file).st_mode) == 0o600
    from sqlalchemy import text

    with plain_app.state.db.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        hashes = [row[0] for row in c.execute(text("SELECT password_hash FROM users"))]
        assert all(h.startswith("$argon2id$") for h in hashes)
        c.execute(text("PRAGMA wal_checkpoint(FULL)"))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("sec.db*"))
    assert PASSWORD.encode() not in raw and token.encode() not in raw
    session_cookie = client.cookies.get("medletter_session")
    assert session_cookie and session_cookie.encode() not in raw


def test_lockout_after_repeated_failures_and_session_expiry(plain_app):
    from medletter.app.models import User, WebSession

    client = TestClient(plain_app)
    for _ in range(3):
        r = login(client, "doc", "wrong password!")
        assert r.status_code == 401 and "falscher Benutzername oder falsches Passwort" in r.text
    assert login(client, "doc").status_code == 401, "locked: even the right password is refused"
    with plain_app.state.db.session() as s:
        u = s.query(User).filter_by(name="doc").one()
        assert u.locked_until is not None
        u.locked_until = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    assert login(client, "doc").status_code == 303, "the lock ends"
    assert client.get("/cases", follow_redirects=False).status_code == 200
    with plain_app.state.db.session() as s:
        for ws in s.query(WebSession).all():
            ws.last_seen_at -= dt.timedelta(minutes=31)
    r = client.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), "an idle session expires"
    # unknown users get the same answer
    r = login(TestClient(plain_app), "nobody")
    assert r.status_code == 401 and "falscher Benutzername oder falsches Passwort" in r.text


def test_roles_on_pages(plain_app):
    doc = TestClient(plain_app)
    login(doc, "doc")
    case_id = _import_xss(plain_app, doc)
    rater = TestClient(plain_app)
    assert login(rater, "rita").headers["location"] == "/rater"
    for path in ("/cases", f"/cases/{case_id}", "/letters/1", "/letters/1/export?format=pdf", "/admin/audit", "/admin/users"):
        r = rater.get(path)
        assert r.status_code == 403, path
        assert "Albers" not in r.text
    assert rater.post(f"/cases/{case_id}/drafts", data={"csrf_token": csrf_of(rater, "/rater")}).status_code == 403
    assert doc.get("/admin/audit").status_code == 403
    admin = TestClient(plain_app)
    login(admin, "root")
    r = admin.get("/admin/audit?action=case_import")
    assert r.status_code == 200 and "case_import" in r.text
    assert admin.get("/admin/audit?since=2000-01-01&until=2999-01-01&page=1").status_code == 200
    assert admin.get("/admin/audit?since=yesterday").status_code == 422
    r = admin.post("/admin/users", data={"name": "nurse1", "role": "rater", "password": PASSWORD, "csrf_token": csrf_of(admin, "/admin/users")},
                   follow_redirects=False)
    assert r.status_code == 303
    r = admin.post("/admin/users/nurse1/disable", data={"csrf_token": csrf_of(admin, "/admin/users")}, follow_redirects=False)
    assert r.status_code == 303
    assert login(TestClient(plain_app), "nurse1").status_code == 401


def test_no_patient_data_in_the_log(app_env, case_lines, caplog):
    app, client, db = app_env
    caplog.set_level(logging.DEBUG)
    doc = bearer(db, "doc")
    ids = client.post("/api/v1/cases", content=case_lines.encode(), headers={**doc, "Content-Type": "application/x-ndjson"}).json()["ids"]
    job = wait_job(client, doc, client.post(f"/api/v1/cases/{ids[1]}/drafts", headers=doc).json()["job_id"])
    client.get(f"/api/v1/letters/{job['letter_id']}", headers=doc)
    bad = case_lines.replace('"fractions": 15', '"fractions": -1', 1)
    client.post("/api/v1/cases", content=bad.encode(), headers={**doc, "Content-Type": "application/x-ndjson"})
    logged = caplog.text
    for secret in ("Albers", "Berger", "Beate", "Jonas", "P-77881", "1957-04-04", "Lindenweg", "F-2029-00012"):
        assert secret not in logged, secret


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from medletter.app.db import Base, Database

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert diff == [], diff
    Database(f"sqlite:///{tmp_path / 'm.db'}")  # running them again is a no-op
