"""`medletter users …` and `medletter app`: the commands a hospital IT engineer runs."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from medletter.cli import app as cli

from .util import PASSWORD

runner = CliRunner()


def test_users_add_token_disable(tmp_path):
    db = str(tmp_path / "u.db")
    r = runner.invoke(cli, ["users", "add", "dr_a", "--role", "physician", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    r = runner.invoke(cli, ["users", "add", "dr_a", "--role", "physician", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(cli, ["users", "add", "dr_b", "--role", "surgeon", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert r.exit_code == 1 and "role" in r.output
    r = runner.invoke(cli, ["users", "add", "dr_c", "--role", "rater", "--password-stdin", "--db", db], input="short\n")
    assert r.exit_code == 1 and "at least 10" in r.output
    r = runner.invoke(cli, ["users", "add", "dr_p", "--role", "admin", "--db", db], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output  # the prompt asks twice

    r = runner.invoke(cli, ["users", "token", "dr_a", "--db", db])
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("mlt_") and len(token) > 40
    assert token.encode() not in Path(db).read_bytes()

    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app

    client = TestClient(create_app(Settings(db=db)))
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = runner.invoke(cli, ["users", "disable", "dr_a", "--db", db])
    assert r.exit_code == 0
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert runner.invoke(cli, ["users", "token", "nobody", "--db", db]).exit_code == 1
    r = runner.invoke(cli, ["users", "list", "--db", db])
    assert "dr_a\tphysician\tdisabled" in r.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_command_serves_on_loopback_and_imports_cases(tmp_path, case_lines):
    db = tmp_path / "a.db"
    cases = tmp_path / "cases.jsonl"
    cases.write_text(case_lines, encoding="utf-8")
    port = _free_port()
    exe = Path(sys.executable).parent / "medletter"
    proc = subprocess.Popen([str(exe), "app", "--db", str(db), "--port", str(port), "--import-cases", str(cases), "--lang", "en"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.3)
        else:
            raise AssertionError("the app did not start")
        assert r.status_code == 200 and "Log in" in r.text and '<html lang="en">' in r.text  # --lang en
        assert r.headers["x-frame-options"] == "DENY"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "3 case(s)" in out
    assert "Albers" not in out
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    bad = tmp_path / "bad.jsonl"
    bad.write_text(case_lines.replace('"fractions": 15', '"fractions": -1', 1), encoding="utf-8")
    r = subprocess.run([str(exe), "app", "--db", str(db), "--port", str(port), "--import-cases", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert f"{bad}:1: case.radiotherapy_courses.0.fractions" in r.stderr and "nothing was imported" in " ".join(r.stderr.split())
    r = subprocess.run([str(exe), "app", "--db", str(db), "--run", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "not a training run" in r.stderr
