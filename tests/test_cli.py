"""The command line as a newcomer uses it: synth, validate, schema, --help everywhere."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from medletter.cli import app

runner = CliRunner()


def test_synth_then_validate_then_broken_copy(tmp_path):
    c = tmp_path / "c.jsonl"
    r = runner.invoke(app, ["synth", "--n", "40", "--seed", "7", "--out", str(c)])
    assert r.exit_code == 0, r.output
    assert len(c.read_text().splitlines()) == 40
    r = runner.invoke(app, ["validate", str(c)])
    assert r.exit_code == 0, r.output

    lines = c.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["case"]["radiotherapy_courses"][0]["fractions"] = -5
    lines[1] = json.dumps(rec, ensure_ascii=False)
    lines[2] = lines[2][: len(lines[2]) // 2]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:2: case.radiotherapy_courses.0.fractions:" in r.output
    assert f"{bad}:3: (json): invalid JSON" in r.output
    first = rec["case"]["patient"]["last_name"]
    assert first not in r.output


def test_same_seed_same_file(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert runner.invoke(app, ["synth", "--n", "12", "--seed", "3", "--lang", "en", "--style", "praxis", "--out", str(p)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_processing_command_stops_before_writing(tmp_path, good_record):
    bad = json.loads(json.dumps(good_record))
    bad["case"]["toxicities"][0]["grade"] = 8
    f = tmp_path / "cases.jsonl"
    f.write_text(json.dumps(good_record) + "\n" + json.dumps(bad) + "\n")
    out = tmp_path / "deid.jsonl"
    key = tmp_path / "deid.key"
    assert runner.invoke(app, ["deid", "keygen", str(key)]).exit_code == 0
    r = runner.invoke(app, ["deid", "run", "--in", str(f), "--out", str(out), "--key-file", str(key)])
    assert r.exit_code != 0 and not out.exists()
    assert "case.toxicities.0.grade" in r.output


def test_schema_is_json_schema():
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0
    s = json.loads(r.output)
    assert "$defs" in s and "RadiotherapyCourse" in s["$defs"]


@pytest.mark.parametrize("cmd", [[], ["schema"], ["validate"], ["synth"], ["train"], ["generate"], ["evaluate"], ["demo"], ["audit"], ["deid"], ["deid", "eval"], ["deid", "run"]])
def test_every_command_has_help(cmd):
    r = runner.invoke(app, [*cmd, "--help"])
    assert r.exit_code == 0 and "Usage" in r.output
