"""The demo's backend-parity line (issue 10, point 6): scored on the same cases, reported in the report."""

from medletter.demo import backend_parity, drafting_html
from medletter.generate import Draft


def _drafts(records, texts):
    return [Draft(case_id=r.case.case_id, patient_id=r.case.patient.patient_id, system="finetuned", style="x", lang="de",
                  text=t, new_tokens=10, stopped=True, latency_s=1.0, tokens_per_s=10.0, batch_size=2)
            for r, t in zip(records, texts)]


def test_parity_of_identical_and_of_worse_letters(corpus_records):
    recs = corpus_records[:4]
    refs = [r.letter.text for r in recs]
    same = backend_parity(recs, _drafts(recs, refs), _drafts(recs, refs))
    assert same["within_tolerance"] and same["no_drop"] and same["identical_letters"] == 4
    assert same["rougeL"]["difference"] == 0 and same["fact_recall"]["hf"] > 0.9
    worse = backend_parity(recs, _drafts(recs, refs[:3] + ["Liebe Kollegen, <b>kurz</b>."]), _drafts(recs, refs))
    assert not worse["within_tolerance"] and not worse["no_drop"] and worse["rougeL"]["difference"] < -0.1
    better = backend_parity(recs, _drafts(recs, refs), _drafts(recs, refs[:3] + ["Liebe Kollegen."]))
    assert better["no_drop"] and not better["within_tolerance"]
    html = drafting_html({"finetuned": {"backend": "llamacpp", "tokens_per_s": 100.0, "stopped_by_model": 4, "letters": 4}}, worse)
    assert 'id="parity"' in html and "a DROP of more than 0.01" in html and "NOT within ±0.01" in html
    assert "llama.cpp (GGUF" in html
    assert "<b>" not in html
    worse["teacher_forced"] = {"quant": "q8_0", "letters": 4, "positions": 1800, "agreement": 0.9931, "lowest_letter": 0.987}
    html = drafting_html({"finetuned": {"backend": "llamacpp", "tokens_per_s": 100.0, "stopped_by_model": 4, "letters": 4}}, worse)
    assert 'id="agreement"' in html and "at 99.3% of 1800 letter positions" in html and "lowest letter 98.7%" in html
