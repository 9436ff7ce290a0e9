"""Measuring the fact check with planted errors: plant one error of each kind into each letter, check it, count
what is caught (:func:`measure`, used by ``benchmarks/bench_factcheck.py``)."""

from __future__ import annotations

import random

from medletter.evaluate.plant import EXPECTED_FLAGS, PLANTERS, VALUE_KINDS
from medletter.evaluate.plant_base import Planted


def detected(p: Planted, report, clean_report=None) -> tuple[bool, bool]:
    """(caught by any flag / missing entry, caught by a flag of the expected kind) for a planted
    error and the fact report of the planted letter."""
    if p.missing:
        before = {v for k, v in clean_report.missing if k == p.missing} if clean_report is not None else set()
        hit = any(k == p.missing and v not in before for k, v in report.missing)
        return hit, hit
    over = [f for f in report.flags if any(f.start < b and a < f.end for a, b in p.spans)]
    return bool(over), any(f.kind in EXPECTED_FLAGS.get(p.kind, set()) for f in over)


# ---------------------------------------------------------------- measuring

def measure(records, kinds=None, seed: int = 0) -> dict:
    """Plant one error of each kind into each record's reference letter and check it.

    Returns {"letters": n, "seconds_per_check": s, "clean": {"flags": n, "by_kind": {...},
    "missing": {kind: n}}, "kinds": {kind: {"planted", "in_set", "flagged", "by_kind",
    "value_check", "collateral"}}, "groups": {"style/lang": {"letters", "false_flags", "planted", "flagged"}}}.
    ``flagged`` counts plants caught by any flag overlapping the edit (edit kinds) or by the fact
    appearing in ``missing`` (drop kinds); ``by_kind`` those caught by the flag kind meant for
    them; ``value_check`` those the value check's own kinds catch (what the check caught before
    binding); ``collateral`` planted letters with a flag outside the edit.
    """
    import time
    from collections import Counter, defaultdict

    from medletter.evaluate.facts import check_letter

    kinds = list(kinds or PLANTERS)
    res: dict = {"letters": 0, "clean": {"flags": 0, "by_kind": Counter(), "missing": Counter()},
                 "kinds": {k: Counter() for k in kinds}, "groups": defaultdict(Counter)}
    seconds, checks = 0.0, 0
    recalls: list[float] = []
    for r in records:
        if r.letter is None:
            continue
        text, lang = r.letter.text, r.letter.language
        group = res["groups"][f"{r.letter.style}/{lang}"]
        t0 = time.perf_counter()
        clean = check_letter(r.case, text)
        seconds += time.perf_counter() - t0
        checks += 1
        res["letters"] += 1
        group["letters"] += 1
        group["false_flags"] += len(clean.flags)
        res["clean"]["flags"] += len(clean.flags)
        res["clean"]["by_kind"].update(f.kind for f in clean.flags)
        res["clean"]["missing"].update(k for k, _ in clean.missing if k in _DROP_KINDS)
        recalls.append(clean.recall)
        for kind in kinds:
            p = PLANTERS[kind](r.case, text, lang, random.Random(f"{seed}:{r.case.case_id}:{kind}"))
            if p is None:
                continue
            if p.missing:
                expected = [v for k, v in clean.expected if k == p.missing]
                if not expected or all((p.missing, v) in clean.missing for v in expected):
                    continue  # the reference letter lacks that fact already: nothing to drop
            t0 = time.perf_counter()
            rep = check_letter(r.case, p.text)
            seconds += time.perf_counter() - t0
            checks += 1
            caught, by_kind = detected(p, rep, clean)
            row = res["kinds"][kind]
            row["planted"] += 1
            row["in_set"] += p.in_set
            row["flagged"] += caught
            row["by_kind"] += by_kind
            if not p.missing:
                over = [f for f in rep.flags if any(f.start < b and a < f.end for a, b in p.spans)]
                row["value_check"] += any(f.kind in VALUE_KINDS for f in over)
                row["collateral"] += len(over) < len(rep.flags)
            group["planted"] += 1
            group["flagged"] += caught
    res["seconds_per_check"] = seconds / checks if checks else 0.0
    res["clean"]["recall"] = sum(recalls) / len(recalls) if recalls else 1.0
    res["groups"] = dict(res["groups"])
    return res


_DROP_KINDS = {"histology", "grading", "date_of_diagnosis", "concurrent_systemic", "secondary_diagnosis"}
