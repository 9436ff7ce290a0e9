"""`medletter demo --styles A,B`: one adapter per department style on the same base, and whether each adapter writes
its own department's letters.

Each style gets a full demo run of its own (``OUT/STYLE/``: its corpus, de-identification, QLoRA adapter, base and
fine-tuned drafts, report). Then every fine-tuned draft is put beside the reference letters of *the same case* written
in each of the styles (the synthetic corpus renders any case in any style): the style whose letter it is closest to
(ROUGE-L F1) is the style it writes. ``style_fidelity`` is the share of an adapter's drafts closest to its own style;
the matrix shows where the others went. Section coverage per style comes from each run's evaluation (headings and
salutation of its own style).
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

from medletter.jsonl import atomic_writer, read_jsonl


def closest_styles(records, drafts: dict[str, str], styles: list[str], lang: str = "de", seed: int = 0) -> dict[str, str]:
    """case_id -> the style whose reference letter of that case the draft is closest to (ROUGE-L F1); "none" for a
    draft that shares nothing with any of them or is equally close to two."""
    from medletter.evaluate.rouge import rouge_f1, scorer
    from medletter.synth import render_letter

    sc = scorer()
    out = {}
    for r in records:
        text = drafts.get(r.case.case_id)
        if text is None:
            continue
        scores = {}
        for st in styles:
            ref = render_letter(r.case, st, lang, random.Random(f"{seed}:{r.case.case_id}:{st}")).text
            scores[st] = rouge_f1(ref, text, sc)["rougeL"]
        best = max(scores.values())
        winners = [st for st in styles if scores[st] == best]
        out[r.case.case_id] = winners[0] if best > 0 and len(winners) == 1 else "none"  # an empty or undecided draft is no style
    return out


def fidelity(per_style: dict[str, tuple[list, dict[str, str]]], styles: list[str]) -> dict:
    """``per_style``: style -> (its test records, its adapter's drafts {case_id: text}).

    Returns ``{"matrix": {adapter_style: {closest_style: n}}, "style_fidelity": {adapter_style: share}, "n": {...}}``."""
    matrix, share, n = {}, {}, {}
    for st, (records, drafts) in per_style.items():
        closest = closest_styles(records, drafts, styles)
        counts = {s: sum(1 for c in closest.values() if c == s) for s in styles}
        matrix[st] = counts
        n[st] = len(closest)
        share[st] = round(counts[st] / len(closest), 3) if closest else None
    return {"matrix": matrix, "style_fidelity": share, "n": n}


def run_styles_demo(out: Path, styles: list[str], console=None, **demo_kwargs) -> Path:
    """One demo run per style under ``out/STYLE``, then the cross-style report ``out/report.html`` and ``out/eval.json``."""
    from medletter.demo import run_demo
    from medletter.records import Record
    from medletter.synth import style_names

    unknown = [s for s in styles if s not in style_names()]
    if unknown or len(set(styles)) != len(styles) or len(styles) < 2:
        raise ValueError(f"--styles takes two or more different styles of: {', '.join(style_names())} (got {','.join(styles)})")
    out.mkdir(parents=True, exist_ok=True)
    per_style, evals = {}, {}
    for st in styles:
        if console:
            console.print(f"\n[bold]style {st}[/bold]: its own corpus and adapter -> {out / st}", highlight=False)
        run_demo(out / st, style=st, console=console, **demo_kwargs)
        records = [Record.model_validate(r) for r in read_jsonl(out / st / "data" / "test.jsonl")]
        drafts = {r["case_id"]: r["text"] for r in read_jsonl(out / st / "letters.jsonl")}
        per_style[st] = (records, drafts)
        evals[st] = json.loads((out / st / "eval.json").read_text())
    fid = fidelity(per_style, styles)
    summary = {
        st: {
            "section_coverage": evals[st]["systems"]["finetuned"]["section_coverage"]["mean"],
            "all_sections": evals[st]["systems"]["finetuned"]["all_sections"]["mean"],
            "rougeL": evals[st]["systems"]["finetuned"]["rougeL"]["mean"],
            "base_rougeL": evals[st]["systems"]["base"]["rougeL"]["mean"],
            "style_fidelity": fid["style_fidelity"][st],
            "adapter": str(out / st / "adapter"),
        }
        for st in styles
    }
    result = {"styles": styles, "per_style": summary, "fidelity": fid}
    with atomic_writer(out / "eval.json") as f:
        json.dump(result, f, indent=2)
    report = out / "report.html"
    report.write_text(styles_html(result), encoding="utf-8")
    if console:
        for st in styles:
            s = summary[st]
            console.print(f"  {st}: section coverage {s['section_coverage']:.3f}, ROUGE-L {s['rougeL']:.3f}, "
                          f"style fidelity {s['style_fidelity']}", highlight=False)
    return report


def styles_html(result: dict) -> str:
    """A self-contained page: per style its adapter's section coverage, ROUGE-L and style fidelity, and the matrix."""
    e = html.escape
    styles = result["styles"]
    rows = "".join(
        f"<tr><td><a href='{e(st)}/report.html'>{e(st)}</a></td><td>{s['base_rougeL']:.3f}</td><td>{s['rougeL']:.3f}</td>"
        f"<td>{s['section_coverage']:.3f}</td><td>{s['all_sections']:.3f}</td><td id='fidelity-{e(st)}'>{s['style_fidelity']}</td></tr>"
        for st, s in result["per_style"].items()
    )
    mat = result["fidelity"]["matrix"]
    mrows = "".join(f"<tr><th>{e(a)}</th>" + "".join(f"<td>{mat[a][b]}</td>" for b in styles) + "</tr>" for a in styles)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medletter: one adapter per department</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}</style>
</head><body><h1>One base model, one adapter per department style</h1>
<p>Each style trained its own QLoRA adapter on its own letters (same base, same settings). Section coverage is measured
against the style's own headings and salutation. Style fidelity: the share of an adapter's drafts whose closest reference
letter (ROUGE-L, the same case written in every style) is in its own style.</p>
<table><tr><th>style (adapter)</th><th>base ROUGE-L</th><th>fine-tuned ROUGE-L</th><th>section coverage</th><th>all sections</th><th>style fidelity</th></tr>{rows}</table>
<h2>Whose style the drafts are closest to</h2>
<table><tr><th>adapter \\ closest</th>{''.join(f'<th>{e(s)}</th>' for s in styles)}</tr>{mrows}</table>
</body></html>
"""
