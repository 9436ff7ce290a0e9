"""Evaluation: German-aware ROUGE, fact checks against the case, eval.json layout, report."""

from __future__ import annotations

import json
import re

import pytest
from rouge_score import rouge_scorer

from medletter.evaluate import evaluate_systems
from medletter.evaluate.facts import check_letter, extract_dates, extract_doses, extract_fractions
from medletter.evaluate.report import write_report
from medletter.evaluate.rouge import GermanTokenizer, rouge_f1
from medletter.synth import generate_corpus


def test_default_rouge_tokenizer_mangles_german_ours_does_not():
    default = rouge_scorer.RougeScorer(["rouge1"]).score("Übelkeit", "belkeit")["rouge1"].fmeasure
    assert default == 1.0, "rouge-score's default tokenizer turns Übelkeit into belkeit"
    assert GermanTokenizer().tokenize("Übelkeit Grad 2, Ödem") == ["übelkeit", "grad", "2", "ödem"]
    assert rouge_f1("Übelkeit", "belkeit")["rouge1"] == 0.0
    assert rouge_f1("Übelkeit und Müdigkeit", "Übelkeit und Müdigkeit")["rougeL"] == 1.0


def test_extractors_read_german_and_english_forms():
    t = "15 x 2,67 Gy bis 40,05 Gy vom 4.4.2029 bis 23.04.2029, Boost 16 Gy in 8 Fraktionen; März 2029; 3 April 2029"
    assert extract_doses(t) == [2.67, 40.05, 16.0]
    assert sorted(extract_fractions(t)) == [8, 15]
    vals = [v for _, v in extract_dates(t)]
    assert (2029, 3) in vals and any(getattr(v, "day", None) == 3 and v.month == 4 for v in vals)
    assert len([v for v in vals if hasattr(v, "year")]) == 3
    import datetime as dt

    ranges = [v for _, v in extract_dates("EC 22.8.–9.1.2027, RT 12.6.–9.7.2024")]
    assert ranges.count(dt.date(2026, 8, 22)) == 1 and dt.date(2027, 1, 9) in ranges
    assert dt.date(2024, 6, 12) in ranges and dt.date(2024, 7, 9) in ranges


@pytest.mark.parametrize("lang", ["de", "en"])
def test_reference_letters_carry_their_facts(lang):
    recs = generate_corpus(60, seed=21, lang=lang)
    reps = [check_letter(r.case, r.letter.text) for r in recs]
    assert sum(r.recall for r in reps) / len(reps) >= 0.97
    assert sum(len(r.unsupported) for r in reps) == 0, [r.unsupported for r in reps if r.unsupported][:3]


def test_wrong_facts_are_caught():
    r = generate_corpus(5, seed=2, style="kreisklinikum")[0]
    c = r.case.radiotherapy_courses[0]
    text = r.letter.text
    total = f"{c.total_dose_gy:.2f}".rstrip("0").rstrip(".").replace(".", ",") + " Gy"
    assert total in text
    bad = text.replace(total, "99,9 Gy").replace(r.case.main_diagnosis.icd10.split()[0], "Z99.9")
    rep = check_letter(r.case, bad)
    assert ("dose_gy", "99.9") in rep.unsupported and ("icd10", "Z99.9") in rep.unsupported
    assert rep.recall < check_letter(r.case, text).recall
    empty = check_letter(r.case, "")
    assert empty.recall == 0.0 and not empty.unsupported


def test_eval_json_layout_and_report(tmp_path):
    recs = generate_corpus(8, seed=4, style="praxis")
    systems = {
        "base": {r.case.case_id: "Sehr geehrte Damen und Herren, der Patient wurde bestrahlt." for r in recs},
        "finetuned": {r.case.case_id: r.letter.text for r in recs},
    }
    ev, rows = evaluate_systems(recs, systems, n_boot=200)
    assert ev["n_test_cases"] == 8 and set(ev["systems"]) == {"base", "finetuned"}
    for name in ("base", "finetuned"):
        for m in ("rougeL", "rouge1", "rouge2", "rougeLsum", "section_coverage", "fact_recall", "unsupported_facts_per_letter"):
            v = ev["systems"][name][m]
            assert v["ci_low"] <= v["mean"] <= v["ci_high"]
    ft, base = ev["systems"]["finetuned"], ev["systems"]["base"]
    assert ft["rougeL"]["mean"] == pytest.approx(1.0) and ft["section_coverage"]["mean"] == 1.0
    assert base["rougeL"]["mean"] < 0.2 and base["fact_recall"]["mean"] < 0.2
    json.dumps(ev)
    html = write_report(tmp_path / "report.html", ev, rows, recs, systems).read_text()
    assert "<svg" in html and "ROUGE-L" in html and "Quality bar" in html
    assert not re.search(r"<(script|link)\b[^>]*(src|href)=\"http", html), "self-contained"
