"""Helpers shared by the app tests (plain functions, importable from tests/app)."""

from __future__ import annotations

import time

from tiny_llama import PLANTED_LETTER  # noqa: F401  (the memorising run's letter; tests/conftest.py)
PASSWORD = "correct horse battery"
USERS = {"doc": "physician", "doc2": "physician", "rita": "rater", "root": "admin"}


def add_users(db) -> None:
    from medletter.app.services import auth

    with db.session() as s:
        for name, role in USERS.items():
            auth.add_user(s, name, role, PASSWORD)


def token(db, name: str) -> str:
    from medletter.app.services import auth

    with db.session() as s:
        return auth.new_api_token(s, name)


def bearer(db, name: str) -> dict:
    return {"Authorization": f"Bearer {token(db, name)}"}


def wait_job(client, headers, job_id: int, timeout: float = 120) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
