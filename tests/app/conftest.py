"""Fixtures of the review-app tests: an app on a fresh SQLite file with its worker drafting with the
memorising run (tests/conftest.py), and users of each role."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def case_lines(good_case):
    """Three valid case records as JSONL text (the conftest case, and two variants)."""
    out = []
    for i in range(3):
        c = json.loads(json.dumps(good_case))
        c["case_id"] = c["patient"]["case_id"] = f"F-2029-00012{i}"
        c["patient"]["patient_id"] = f"P-77881{i}"
        if i == 1:
            c["patient"]["first_name"], c["patient"]["last_name"] = "Jonas", "Berger"
            c["patient"]["sex"] = "male"
        out.append(json.dumps({"case": c}, ensure_ascii=False))
    return "\n".join(out) + "\n"


@pytest.fixture
def app_env(tmp_path, memorising_run):
    """(app, TestClient, db): the app on a fresh SQLite file, drafting with the memorising run."""
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from .util import add_users

    settings = Settings(db=str(tmp_path / "app.db"), run=memorising_run, max_new_tokens=48, grounding="off")
    app = create_app(settings)
    add_users(app.state.db)
    with TestClient(app) as client:
        yield app, client, app.state.db
