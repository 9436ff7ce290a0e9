"""The grounding A/B (evaluate/grounding_ab.py): gated vs ungated letters of the same cases, scored side by side."""

from __future__ import annotations

import re

from medletter.evaluate.grounding_ab import grounding_ab, grounding_ab_html, main
from medletter.jsonl import write_jsonl
from medletter.synth import generate_corpus


def _drafts(records, edit=lambda t: t, seconds=2.0, grounding=None):
    return [{"case_id": r.case.case_id, "text": edit(r.letter.text), "new_tokens": 400, "latency_s": seconds, "batch_size": 1,
             "grounding": grounding} for r in records]


def test_ab_counts_numbers_the_case_lacks_and_what_the_gate_did(tmp_path):
    records = generate_corpus(6, seed=5, lang="de")
    # the ungated letters invent a total dose (a number no case has); the gated ones are the reference letters
    wrong = lambda t: re.sub(r"\b(\d+(?:,\d+)?) Gy\b", "93,7 Gy", t, count=1)  # noqa: E731
    gated = _drafts(records, grounding={"on": True, "mode": "gate", "interventions": [{"start": 5, "kind": "held", "class": "plain",
                                                                                       "blocked": "9", "written": "5"}]})
    ungated = _drafts(records, wrong, seconds=1.9)
    ab = grounding_ab(records, gated, ungated)
    on, off = ab["gated"], ab["ungated"]
    assert on["unsupported_numeric"] == 0 and off["unsupported_numeric"] >= len(records), (on, off)
    assert off["flag_kinds"].get("dose_gy", 0) >= len(records)
    assert on["fact_recall"] >= off["fact_recall"] and on["interventions"] == {"held": len(records)}
    assert on["letters_with_interventions"] == len(records)
    assert ab["tokens_per_s_ratio"] == round((400 / 2.0) / (400 / 1.9), 3) and ab["goals"]["speed_within_10pct"]
    assert ab["goals"]["no_unsupported_numbers"] and ab["goals"]["recall_not_lower"]
    html = grounding_ab_html(ab)
    assert 'id="grounding-ab"' in html and "NOT met" not in html
    # swapped, the goals fail and the section says so
    assert "no unsupported numbers: NOT met" in grounding_ab_html(grounding_ab(records, ungated, gated))
    # the command line holdout.sh runs
    write_jsonl(tmp_path / "cases.jsonl", [r.model_dump(mode="json") for r in records])
    write_jsonl(tmp_path / "on.jsonl", gated)
    write_jsonl(tmp_path / "off.jsonl", ungated)
    assert main([str(tmp_path / "cases.jsonl"), str(tmp_path / "on.jsonl"), str(tmp_path / "off.jsonl"),
                 "--out", str(tmp_path / "ab.json"), "--html", str(tmp_path / "ab.html")]) == 0
    assert (tmp_path / "ab.json").is_file() and 'id="grounding-ab"' in (tmp_path / "ab.html").read_text()
