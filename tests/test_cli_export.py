"""`medletter export`: the model export (`--run …`) and the letters' FHIR export (`fhir …`) share the command.

The model form must work exactly as before the `fhir` subcommand came; tests/app/test_isik.py covers `fhir`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medletter.cli import app

runner = CliRunner()


def test_help_shows_both_forms():
    r = runner.invoke(app, ["export", "--help"])
    assert r.exit_code == 0 and "--run" in r.output and "--format" in r.output and "fhir" in r.output
    r = runner.invoke(app, ["export", "fhir", "--help"])
    assert r.exit_code == 0 and "--letter" in r.output and "--approved" in r.output and "--server" in r.output


def test_model_export_errors_as_before(tmp_path):
    r = runner.invoke(app, ["export"])
    assert r.exit_code == 2 and "--run" in r.output, r.output
    r = runner.invoke(app, ["export", "--run", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "nope" in r.output, r.output
    r = runner.invoke(app, ["export", "--run", str(tmp_path), "fhir", "--approved", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "belong to the model export" in r.output, r.output


def test_model_export_hf_through_the_cli(memorising_run, tmp_path):
    """The real merge through the old command line: a Hugging Face folder with the run's tokenizer and stop tokens."""
    out = tmp_path / "hf"
    r = runner.invoke(app, ["export", "--run", str(memorising_run), "--format", "hf", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"exported {memorising_run} as hf -> {out}" in r.output.replace("\n", "")
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert json.loads((out / "medletter.json").read_text())["run"] == str(memorising_run)
    assert not any(p.name.startswith("adapter") for p in out.iterdir()), "merged: no separate adapter"
    r = runner.invoke(app, ["export", "--run", str(memorising_run), "--format", "onnx", "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "--format must be one of" in r.output
