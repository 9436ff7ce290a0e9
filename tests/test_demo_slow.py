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
    r = subprocess.run([sys.executable, "-m", "medletter.cli", "demo", "--out", str(out)], capture_output=True, text=True, timeout=2400)
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
