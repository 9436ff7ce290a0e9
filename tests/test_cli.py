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


def test_whole_pipeline_through_the_cli(tmp_path, tiny_llama):
    """synth -> deid -> train (QLoRA, tiny Llama-3) -> generate (base, fine-tuned) -> evaluate -> audit."""
    import yaml

    corpus, deid, key = tmp_path / "corpus.jsonl", tmp_path / "deid.jsonl", tmp_path / "deid.key"
    assert runner.invoke(app, ["synth", "--n", "14", "--seed", "5", "--style", "praxis", "--out", str(corpus)]).exit_code == 0
    assert runner.invoke(app, ["deid", "keygen", str(key)]).exit_code == 0
    r = runner.invoke(app, ["deid", "run", "--in", str(corpus), "--out", str(deid), "--key-file", str(key)])
    assert r.exit_code == 0, r.output
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(dict(model=str(tiny_llama), dtype="fp32", max_steps=3, batch_size=2, gradient_accumulation_steps=1,
                                       max_length=2048, n_test=3, n_validation=2, report_to=[], save_steps=100, warmup_steps=0)))
    run = tmp_path / "runs" / "tiny"
    r = runner.invoke(app, ["train", "--data", str(deid), "--run", str(run), "--config", str(cfg), "--no-deid"])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load((run / "config.yaml").read_text())["deid"] is False, "--no-deid is recorded"
    test_cases = run / "data" / "test.jsonl"
    for name, extra in (("base", ["--base-only"]), ("finetuned", [])):
        r = runner.invoke(app, ["generate", "--run", str(run), "--cases", str(test_cases), "--out", str(tmp_path / f"{name}.jsonl"),
                                "--max-new-tokens", "12", *extra])
        assert r.exit_code == 0, r.output
        rows = [json.loads(l) for l in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) >= 3 and all(0 < x["new_tokens"] <= 12 and x["latency_s"] > 0 for x in rows)
    out = tmp_path / "eval"
    r = runner.invoke(app, ["evaluate", "--cases", str(test_cases), "--system", f"base={tmp_path / 'base.jsonl'}",
                            "--system", f"finetuned={tmp_path / 'finetuned.jsonl'}", "--out-dir", str(out)])
    assert r.exit_code == 0, r.output
    ev = json.loads((out / "eval.json").read_text())
    assert set(ev["systems"]) == {"base", "finetuned"} and ev["n_test_cases"] >= 3
    assert (out / "report.html").read_text().count("<pre>") >= 3
    r = runner.invoke(app, ["audit", "--run", str(run), "--letters", str(tmp_path / "finetuned.jsonl")])
    assert r.exit_code in (0, 3), r.output
    assert json.loads((run / "audit.json").read_text())["letters_checked"] >= 3


def test_train_pseudonymises_by_default(tmp_path, tiny_llama, monkeypatch):
    """`medletter train` on raw letters: no training patient's name reaches the run's data; recorded."""
    import base64

    import yaml

    from medletter.jsonl import load_records

    corpus, key = tmp_path / "corpus.jsonl", tmp_path / "deid.key"
    assert runner.invoke(app, ["synth", "--n", "12", "--seed", "9", "--style", "praxis", "--out", str(corpus)]).exit_code == 0
    key.write_bytes(base64.urlsafe_b64encode(b"fixed test key, 32 bytes long!!!") + b"\n")  # fixed: the same surrogates every run
    key.chmod(0o600)
    monkeypatch.setenv("MEDLETTER_DEID_KEY_FILE", str(key))
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(dict(model=str(tiny_llama), dtype="fp32", max_steps=1, batch_size=2, gradient_accumulation_steps=1,
                                       max_length=2048, n_test=2, n_validation=2, report_to=[], save_steps=100, warmup_steps=0)))
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", str(corpus), "--run", str(run), "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load((run / "config.yaml").read_text())["deid"] is True
    originals = {rec.case.case_id: rec for rec in load_records(corpus)}
    trained = load_records(run / "data" / "train.jsonl") + load_records(run / "data" / "validation.jsonl")
    text = (run / "data" / "train.jsonl").read_text() + (run / "data" / "validation.jsonl").read_text()
    for rec in originals.values():
        held_out = {t.case.patient.patient_id for t in load_records(run / "data" / "test.jsonl")}
        if rec.case.patient.patient_id in held_out:
            continue
        p = rec.case.patient  # (a surrogate may share a last name with another patient; the full name may not)
        assert f"{p.first_name} {p.last_name}" not in text and p.patient_id not in text, "a training patient reached the run"
    assert len(trained) >= 6
    test = load_records(run / "data" / "test.jsonl")
    assert all(t.case.case_id in originals for t in test), "the held-out cases stay real"
