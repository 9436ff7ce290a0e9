"""`medletter compare`: paired differences with bootstrap intervals, and the comparison end to end on two tiny models."""

from __future__ import annotations

import json
import shutil

from medletter.compare import paired_differences


def _rows(system, values):
    return [{"system": system, "case_id": f"c{i}", "rougeL": v, "facts_recall": v, "section_coverage": 1.0} for i, v in enumerate(values)]


def test_paired_difference_sees_a_consistent_gap_and_not_noise():
    a = [0.80, 0.82, 0.79, 0.85, 0.81, 0.83, 0.80, 0.84]
    b = [x - 0.05 for x in a]  # the same letters, 0.05 worse each
    res = paired_differences(_rows("A", a) + _rows("B", b), "A", "B")
    assert abs(res["rougeL"]["mean"] - 0.05) < 1e-9 and res["rougeL"]["excludes_zero"]
    noise = [x + (0.03 if i % 2 else -0.03) for i, x in enumerate(a)]  # better on half, worse on half
    res = paired_differences(_rows("A", a) + _rows("C", noise), "A", "C")
    assert not res["rougeL"]["excludes_zero"] and res["rougeL"]["ci_low"] < 0 < res["rougeL"]["ci_high"]
    assert res["section_coverage"]["mean"] == 0 and not res["section_coverage"]["excludes_zero"]


def test_compare_runs_every_model_on_the_same_cases(tmp_path, tiny_llama):
    from medletter.compare import run_compare

    other = tmp_path / "tiny-b"
    shutil.copytree(tiny_llama, other)
    out = tmp_path / "cmp"
    report = run_compare(out, [str(tiny_llama), str(other)], n_train=6, n_test=2, n_validation=2, seed=3, max_steps=1,
                         backend="hf", config="cpu-demo", style="uniklinik")
    ev = json.loads((out / "eval.json").read_text())
    names = {f"{tiny_llama.name}/base", f"{tiny_llama.name}/finetuned", "tiny-b/base", "tiny-b/finetuned"}
    assert set(ev["systems"]) == names and ev["n_test_cases"] == 2
    info = ev["compare"]["models"]
    assert all(i["peak_rss_mib"] > 100 and i["steps"] == 1 for i in info.values())
    (pair,) = ev["compare"]["paired"]
    assert ev["compare"]["paired"][pair]["rougeL"]["n"] == 2
    html = report.read_text()
    assert "Paired differences" in html and "medletter study create --name compare --from" in html
    from medletter.app.studyfile import read_study_file

    cases, systems, reference = read_study_file(out / "study" / "study.json")
    assert reference and cases.is_file() and set(systems) == {tiny_llama.name, "tiny-b"}
    assert systems["tiny-b"].resolve() == (out / "tiny-b" / "letters.jsonl").resolve()
    from typer.testing import CliRunner

    from medletter.cli import app as cli

    db = str(tmp_path / "study.db")
    r = CliRunner().invoke(cli, ["users", "add", "rita", "--role", "rater", "--password-stdin", "--db", db], input="a-long-password-1\n")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["study", "create", "--name", "compare", "--from", str(out / "study" / "study.json"), "--raters", "rita",
                                 "--db", db])
    assert r.exit_code == 0, r.output
    assert "from 3 systems" in r.output.replace("\n", " ")  # both fine-tuned models and the reference
