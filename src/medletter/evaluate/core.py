"""Score letters of several systems against reference letters and their cases."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

import numpy as np

from medletter.evaluate.facts import check_letter
from medletter.evaluate.rouge import ROUGE_TYPES, rouge_f1, scorer
from medletter.jsonl import read_jsonl
from medletter.records import REQUIRED_SECTIONS, Record

log = logging.getLogger(__name__)

METRICS = (*ROUGE_TYPES, "section_coverage", "fact_recall", "unsupported_facts_per_letter")


def bootstrap(values: list[float], n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean with a 95% percentile-bootstrap interval over letters."""
    a = np.asarray(values, dtype=float)
    if len(a) == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    return {"mean": float(a.mean()), "ci_low": float(np.percentile(means, 2.5)), "ci_high": float(np.percentile(means, 97.5)), "n": int(len(a))}


def section_coverage(text: str, style: str, lang: str) -> tuple[float | None, list[str]]:
    """Share of the style's required sections found in ``text``, and the missing ones.

    Section headings are known for the synthetic institution styles; for another style the
    coverage is not measured (None), never guessed.
    """
    from medletter.synth import STYLES, section_patterns

    if style not in STYLES:
        return None, []
    pats = section_patterns(style, lang)
    missing = [k for k in REQUIRED_SECTIONS if k in pats and not pats[k].search(text)]
    n = sum(1 for k in REQUIRED_SECTIONS if k in pats)
    return (1 - len(missing) / n if n else 1.0), missing


def split_sections(text: str, style: str, lang: str) -> dict[str, str] | None:
    """``text`` cut at the style's section headings (found as :func:`section_coverage` finds them):
    {section key: its text from its heading up to the next heading}, in the letter's order; what
    comes before the first heading is "header" (left out when empty). A section found more than
    once starts at its first heading. None for a style whose headings are unknown."""
    from medletter.synth import STYLES, section_patterns

    if style not in STYLES:
        return None
    starts = sorted((m.start(), k) for k, p in section_patterns(style, lang).items() if (m := p.search(text)))
    bounds = [(0, "header"), *starts, (len(text), "")]
    out = {key: text[a:b] for (a, key), (b, _) in zip(bounds, bounds[1:])}
    if not out["header"].strip():
        del out["header"]
    return out


def load_drafts(path: str | Path) -> dict[str, str]:
    """letters.jsonl of `medletter generate` -> {case_id: text}."""
    return {row["case_id"]: row["text"] for row in read_jsonl(path)}


def evaluate_systems(records: list[Record], systems: dict[str, dict[str, str]], n_boot: int = 1000, seed: int = 0) -> tuple[dict, list[dict]]:
    """Score every system's letters; returns (eval.json content, per-letter rows).

    ``records`` are the test cases with their reference letters; ``systems`` maps a system name to
    {case_id: generated text}. A case a system has no letter for counts as an empty letter.
    """
    refs = [r for r in records if r.letter is not None]
    if not refs:
        raise ValueError("no test case has a reference letter to compare against")
    sc = scorer()
    out: dict = {"n_test_cases": len(refs), "systems": {}}
    rows: list[dict] = []
    for name, letters in systems.items():
        per: dict[str, list[float]] = defaultdict(list)
        missing_letters = 0
        for r in refs:
            text = letters.get(r.case.case_id)
            if text is None:
                missing_letters += 1
                text = ""
            rf = rouge_f1(r.letter.text, text, sc)
            cov, miss_sec = section_coverage(text, r.letter.style, r.letter.language)
            facts = check_letter(r.case, text)
            for k, v in rf.items():
                per[k].append(v)
            if cov is not None:
                per["section_coverage"].append(cov)
                per["all_sections"].append(1.0 if not miss_sec else 0.0)
            per["fact_recall"].append(facts.recall)
            per["unsupported_facts_per_letter"].append(len(facts.unsupported))
            rows.append({
                "system": name, "case_id": r.case.case_id, **{k: round(v, 4) for k, v in rf.items()},
                "section_coverage": cov, "missing_sections": miss_sec, **{f"facts_{k}": v for k, v in facts.to_dict().items()},
            })
        out["systems"][name] = {k: bootstrap(per[k], n_boot, seed) for k in (*METRICS, "all_sections")}
        out["systems"][name]["letters_missing"] = missing_letters
    return out, rows
