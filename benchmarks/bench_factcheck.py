"""Benchmark: planted errors in reference letters, and false flags on the clean ones.

For every style and language of the synthetic corpus, ``--n`` reference letters (default 60 per
style × language) are checked as they are (every flag on a clean reference letter is a false
flag), then once per error kind with one error planted (``medletter.evaluate.plant``: a grade
swapped between two toxicities, a date moved to another event, a fraction count that no longer
multiplies out, another course's numbers, links/rechts swapped, a corrupted ICD-10 code, a changed
T stage or TNM prefix, two diagnoses' codes swapped, histology / grading / date of first
diagnosis / concurrent dose / a secondary code dropped). An edit counts as flagged when a flag
overlaps the edited text; a drop when the fact appears in ``missing``. "value check alone" is the
share the value-set checks of facts.py catch by themselves (what the check caught before binding).

``--set paraphrase`` measures the same on the hand-written letters of ``tests/data/phrasing/dev`` (five phrasing
families a department writes in, German and English, written by hand, not by the synthetic renderer), and
``--set paraphrase-holdout`` on the third of them held out of development (``--set paraphrase-extra``: a second set
written after the first round of development, in two more families); there the table adds fact recall
on the clean letters and false flags per 100 clean letters.

Prints a per-kind table, a per style × language table and check seconds per letter; ``--json``
prints the figures as JSON instead. No letter text is printed.

    .venv/bin/python benchmarks/bench_factcheck.py [--set synthetic|paraphrase|paraphrase-holdout] [--n 60] [--seed 11] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def phrasing_set(part: str = "dev") -> list:
    """The hand-written letters of ``tests/data/phrasing/{dev,holdout}`` as records."""
    from medletter.jsonl import read_records

    return [r for f in sorted((ROOT / "tests" / "data" / "phrasing" / part).glob("*.jsonl")) for r in read_records(f).records]


def main(argv: list[str] | None = None) -> None:
    from medletter.evaluate.plant import EXPECTED_FLAGS, PLANTERS
    from medletter.evaluate.plant_measure import measure
    from medletter.synth import generate_corpus, style_names

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="reference letters per style and language")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--set", dest="which", choices=("synthetic", "paraphrase", "paraphrase-extra", "paraphrase-holdout", "paraphrase-holdout2"), default="synthetic",
                    help="the synthetic corpus's reference letters, or the hand-written letters (dev or held-out part)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    if args.which == "synthetic":
        records = [r for lang in ("de", "en") for style in style_names() for r in generate_corpus(args.n, seed=args.seed, lang=lang, style=style)]
        what = f"reference letters: {{}} ({args.n} per style × language, seed {args.seed})"
    else:
        records = phrasing_set({"paraphrase": "dev", "paraphrase-extra": "extra", "paraphrase-holdout": "holdout", "paraphrase-holdout2": "holdout2"}[args.which])
        what = f"hand-written letters ({args.which}): {{}}"
    res = measure(records, seed=args.seed)
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps({**res, "wall_seconds": wall, "n_per_group": args.n, "seed": args.seed, "set": args.which}, default=dict, indent=1))
        return

    planted = sum(r["planted"] for r in res["kinds"].values())
    flagged = sum(r["flagged"] for r in res["kinds"].values())
    print(what.format(res["letters"]) + f"; check: {1000 * res['seconds_per_check']:.1f} ms per letter; wall {wall:.0f} s")
    print(f"planted errors flagged: {flagged}/{planted} = {flagged / max(1, planted):.1%}; false flags per 100 clean letters: "
          f"{100 * res['clean']['flags'] / max(1, res['letters']):.1f}; fact recall on the clean letters: {res['clean']['recall']:.3f}")
    print(f"false flags on clean reference letters: {res['clean']['flags']}"
          + (f" {dict(res['clean']['by_kind'])}" if res["clean"]["flags"] else ""))
    print(f"clean reference letters already lacking a widened fact: {dict(res['clean']['missing']) or 'none'}\n")
    print("| kind | caught by | planted | in the case's value set | flagged | by that kind | value check alone | letters with other flags |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for kind in PLANTERS:
        row = res["kinds"][kind]
        n = row["planted"]
        if not n:
            print(f"| {kind} | – | 0 | – | – | – | – | – |")
            continue
        by = ", ".join(sorted(EXPECTED_FLAGS.get(kind, ()))) or "missing"
        drop = kind.startswith("drop_")
        coll = "–" if drop else str(row["collateral"])
        alone = "0% (not expected before)" if drop else f"{row['value_check'] / n:.1%}"
        print(f"| {kind} | {by} | {n} | {row['in_set']} | {row['flagged'] / n:.1%} | {row['by_kind'] / n:.1%} | {alone} | {coll} |")
    print("\n| style / language | letters | false flags | planted | flagged |")
    print("|---|---:|---:|---:|---:|")
    for group, g in sorted(res["groups"].items()):
        print(f"| {group} | {g['letters']} | {g['false_flags']} | {g['planted']} | {g['flagged'] / g['planted']:.1%} |")


if __name__ == "__main__":
    main()
