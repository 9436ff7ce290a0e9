"""The demo on the real demo model, Gemma-3-270M (minutes on 2 cores): `make test-slow`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_demo_on_gemma(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "medletter.cli", "demo", "--out", str(out), "--parity"], capture_output=True, text=True,
                       timeout=2400)
    assert r.returncode == 0, r.stderr[-3000:]
    ev = json.loads((out / "eval.json").read_text())
    base, ft = ev["systems"]["base"], ev["systems"]["finetuned"]
    assert ev["n_test_cases"] >= 20
    assert ft["rougeL"]["mean"] >= base["rougeL"]["mean"] + 0.30
    assert ft["all_sections"]["mean"] >= 0.9
    assert ft["fact_recall"]["mean"] >= 0.9
    assert ft["unsupported_facts_per_letter"]["mean"] <= 0.3
    html = (out / "report.html").read_text()
    assert "Leak audit" in html and "Quality bar" in html
    assert f"app --run {out}" in " ".join(r.stderr.split()), "the closing message says how to open the run in the app"
    assert "Physician study" in html
    # the fast backend wrote the letters, and quantising for llama.cpp cost no quality (issue 10, point 6)
    gen = ev["demo"]["generation"]
    assert gen["finetuned"]["backend"] == "llamacpp" and gen["base"]["backend"] == "llamacpp", gen
    # Free greedy letters of the two engines part at the first nearly tied token: measured differences of
    # ROUGE-L -0.030 .. +0.013 and fact recall -0.018 .. +0.017 in five demo runs (benchmarks/RESULTS.md), so the
    # issue's ±0.01 is reported (id="parity") but not asserted; what the export changes is measured without
    # that divergence: both engines read the same letters token by token (99.4% agreement on 24 letters)
    parity = ev["demo"]["backend_parity"]
    assert abs(parity["rougeL"]["difference"]) <= 0.05 and abs(parity["fact_recall"]["difference"]) <= 0.05, parity
    tf = parity["teacher_forced"]
    assert tf["letters"] == ev["n_test_cases"] and tf["agreement"] >= 0.98, tf
    assert 'id="parity"' in html and 'id="agreement"' in html
    # grounded number decoding (issue 28): on by default, its A/B in the report; the gate writes no number the case lacks
    ab = ev["demo"]["grounding"]["ab"]
    assert ev["demo"]["grounding"]["setting"] == "on" and 'id="grounding-ab"' in html
    assert ab["gated"]["unsupported_numeric"] == 0, ab["gated"]["flag_kinds"]
    assert ab["gated"]["fact_recall"] >= ab["ungated"]["fact_recall"] - 0.01 and ab["tokens_per_s_ratio"] >= 0.8, ab
    _review_app_drafts_with_the_demo_model(tmp_path, out)
    _demo_study_file_makes_a_study(tmp_path, out)


def _demo_study_file_makes_a_study(tmp_path, out):
    """The demo's study file: base, fine-tuned and reference letters of its test cases, for two raters."""
    db = str(tmp_path / "study.db")
    for name in ("rater1", "rater2"):
        r = subprocess.run([sys.executable, "-m", "medletter.cli", "users", "add", name, "--role", "rater", "--password-stdin",
                            "--db", db], input="correct horse battery\n", capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "medletter.cli", "study", "create", "--name", "demo", "--from",
                        str(out / "study" / "study.json"), "--raters", "rater1,rater2", "--db", db], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "from 3 systems" in " ".join(r.stderr.split())


def _review_app_drafts_with_the_demo_model(tmp_path, out):
    """`medletter app --run runs/demo`: the demo's test cases, drafted by the fine-tuned Gemma in the app."""
    import time

    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import auth

    app = create_app(Settings(db=str(tmp_path / "app.db"), run=out))
    with app.state.db.session() as s:
        auth.add_user(s, "doctor", "physician", "correct horse battery")
        token = auth.new_api_token(s, "doctor")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        r = client.post("/api/v1/cases", content=(out / "data" / "test.jsonl").read_bytes(), headers={**h, "Content-Type": "application/x-ndjson"})
        assert r.status_code == 201, r.text
        case_id = r.json()["ids"][0]
        job_id = client.post(f"/api/v1/cases/{case_id}/drafts", headers=h).json()["job_id"]
        t0 = time.time()
        while (job := client.get(f"/api/v1/jobs/{job_id}", headers=h).json())["status"] in ("queued", "running"):
            assert time.time() - t0 < 600
            time.sleep(1)
        assert job["status"] == "done", job
        letter = client.get(f"/api/v1/letters/{job['letter_id']}", headers=h).json()
        assert len(letter["text"]) > 200 and letter["facts"]["recall"] >= 0.8, letter["facts"]
