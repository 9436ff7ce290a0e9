"""Grounded number decoding, measured: the same cases drafted with the gate on and off (``--grounding on|off``),
scored side by side: unsupported facts per letter (all, and the numeric ones the gate is for), binding flags
(a value bound to the wrong thing), fact recall, ROUGE-L, tokens/s and what the gate did.

    python -m medletter.evaluate.grounding_ab CASES GATED UNGATED [--out ab.json] [--html ab.html]

``medletter demo`` and ``make holdout`` write it (report section "Grounding")."""

from __future__ import annotations

import json
import sys
from collections import Counter
from html import escape
from pathlib import Path

from medletter.evaluate.facts import check_letter
from medletter.evaluate.factcheck.model import NUMERIC_KINDS, VALUE_KINDS
from medletter.evaluate.rouge import rouge_f1, scorer



def _tokens_per_s(drafts: list[dict]) -> float | None:
    wall = sum(d["latency_s"] / max(1, d["batch_size"]) for d in drafts)
    return round(sum(d["new_tokens"] for d in drafts) / wall, 1) if wall > 0 else None


def score_system(records, drafts: list[dict], seconds: float | None = None) -> dict:
    """One system's letters against their cases. ``seconds``: the wall time of drafting them all, where known
    (else tokens/s from the drafts' own batch times)."""
    by_case = {d["case_id"]: d for d in drafts}
    sc = scorer()
    n, unsupported, numeric, binding, recall, rouge_l = 0, 0, 0, 0, 0.0, 0.0
    kinds: Counter = Counter()
    interventions: Counter = Counter()
    for r in records:
        if r.letter is None:
            continue
        d = by_case.get(r.case.case_id)
        text = d["text"] if d else ""
        rep = check_letter(r.case, text)
        n += 1
        recall += rep.recall
        rouge_l += rouge_f1(r.letter.text, text, sc)["rougeL"]
        for f in rep.flags:
            kinds[f.kind] += 1
            unsupported += 1
            numeric += f.kind in NUMERIC_KINDS
            binding += f.kind not in VALUE_KINDS
        for i in ((d or {}).get("grounding") or {}).get("interventions", []):
            interventions[i["kind"]] += 1
    new_tokens = sum(d["new_tokens"] for d in drafts)
    tps = round(new_tokens / seconds, 1) if seconds else _tokens_per_s(drafts)
    n = max(1, n)
    return {
        "letters": n, "unsupported_per_letter": round(unsupported / n, 4), "unsupported_numeric_per_letter": round(numeric / n, 4),
        "unsupported_numeric": numeric, "binding_flags_per_letter": round(binding / n, 4), "fact_recall": round(recall / n, 4),
        "rougeL": round(rouge_l / n, 4), "tokens_per_s": tps, "new_tokens": new_tokens, "flag_kinds": dict(sorted(kinds.items())),
        "interventions": dict(sorted(interventions.items())),
        "letters_with_interventions": sum(bool(((d.get("grounding") or {}).get("interventions"))) for d in drafts),
    }


def grounding_ab(records, gated: list[dict], ungated: list[dict], seconds: dict | None = None) -> dict:
    """Gated vs ungated on the same cases; ``seconds``: {"gated": s, "ungated": s} wall times where measured."""
    seconds = seconds or {}
    on, off = score_system(records, gated, seconds.get("gated")), score_system(records, ungated, seconds.get("ungated"))
    res = {"gated": on, "ungated": off}
    tps = (on["tokens_per_s"] / off["tokens_per_s"]) if on["tokens_per_s"] and off["tokens_per_s"] else None
    res["tokens_per_s_ratio"] = round(tps, 3) if tps else None
    # the goals: no unsupported number, recall not lower, speed within 10 %
    res["goals"] = {
        "no_unsupported_numbers": on["unsupported_numeric"] == 0,
        "recall_not_lower": on["fact_recall"] >= off["fact_recall"] - 1e-9,
        "speed_within_10pct": tps is not None and tps >= 0.9,
    }
    return res


_ROWS = [("unsupported_per_letter", "unsupported facts per letter", "{:.3f}"),
         ("unsupported_numeric_per_letter", "of them numbers the case lacks", "{:.3f}"),
         ("binding_flags_per_letter", "binding flags per letter (a value bound to the wrong thing)", "{:.3f}"),
         ("fact_recall", "fact recall", "{:.3f}"), ("rougeL", "ROUGE-L", "{:.3f}"), ("tokens_per_s", "tokens/s", "{}")]


def grounding_ab_html(ab: dict) -> str:
    on, off = ab["gated"], ab["ungated"]
    rows = "".join(f"<tr><td>{escape(label)}</td><td>{fmt.format(on[k]) if on[k] is not None else '–'}</td>"
                   f"<td>{fmt.format(off[k]) if off[k] is not None else '–'}</td></tr>" for k, label, fmt in _ROWS)
    iv = ", ".join(f"{v} {escape(k)}" for k, v in on["interventions"].items()) or "none"
    kinds = lambda s: ", ".join(f"{escape(k)} {v}" for k, v in s["flag_kinds"].items()) or "none"  # noqa: E731
    ratio = f"{ab['tokens_per_s_ratio']:.3f}" if ab["tokens_per_s_ratio"] else "–"
    goals = ab["goals"]
    verdict = "; ".join(f"{escape(g.replace('_', ' '))}: {'met' if ok else 'NOT met'}" for g, ok in goals.items())
    return (
        "<p id=\"grounding-ab\">The fine-tuned model's letters drafted twice on the same cases: with grounded number decoding "
        "(every number must continue one the case backs, <code>--grounding on</code>, the default) and without it. "
        f"The gate stepped in {sum(on['interventions'].values())} times in {on['letters_with_interventions']} of {on['letters']} "
        f"letters ({iv}): <em>held</em> = a number the model wanted was replaced by the case's, <em>missing</em> = the case "
        "lacks the value and the draft says so.</p>"
        "<table><thead><tr><th></th><th>grounding on</th><th>grounding off</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p>tokens/s gated / ungated: {ratio}. Goals: {verdict}.</p>"
        f"<p>Flags, gated: {kinds(on)}; ungated: {kinds(off)}.</p>"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    from medletter.jsonl import read_jsonl
    from medletter.records import Record

    ap = argparse.ArgumentParser(prog="python -m medletter.evaluate.grounding_ab", description=__doc__.split("\n\n")[0])
    ap.add_argument("cases")
    ap.add_argument("gated")
    ap.add_argument("ungated")
    ap.add_argument("--out")
    ap.add_argument("--html")
    a = ap.parse_args(argv)
    records = [Record.model_validate(r) for r in read_jsonl(a.cases)]
    ab = grounding_ab(records, list(read_jsonl(a.gated)), list(read_jsonl(a.ungated)))
    if a.out:
        Path(a.out).write_text(json.dumps(ab, indent=2), encoding="utf-8")
    if a.html:
        Path(a.html).write_text(f"<!doctype html><meta charset=utf-8><title>grounding A/B</title>{grounding_ab_html(ab)}",
                                encoding="utf-8")
    print(f"{'':<34}{'on':>10}{'off':>10}")
    for k, label, fmt in _ROWS:
        print(f"{k:<34}{fmt.format(ab['gated'][k]):>10}{fmt.format(ab['ungated'][k]):>10}")
    print(f"tokens/s ratio {ab['tokens_per_s_ratio']}; interventions {ab['gated']['interventions']}; goals {ab['goals']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
