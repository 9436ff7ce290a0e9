"""A self-contained HTML report: table, chart (inline SVG), side-by-side letters, extra sections."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, select_autoescape

from medletter.records import Record

METRIC_LABELS = {
    "rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum",
    "section_coverage": "Section coverage", "all_sections": "All sections present",
    "fact_recall": "Fact recall", "unsupported_facts_per_letter": "Unsupported facts / letter",
}
CHART_METRICS = ("rougeL", "section_coverage", "fact_recall")
COLORS = ("#8c8c8c", "#1f6fb2", "#d9822b", "#3a9a5b", "#a23b72", "#6b4c9a")

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1rem 0} td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left} .ci{color:#777;font-size:.85em}
.ok{color:#17803d;font-weight:600} .bad{color:#b3261e;font-weight:600}
.letters{display:grid;grid-template-columns:repeat({{ 1 + systems|length }},1fr);gap:.8rem}
.letters pre{white-space:pre-wrap;font-size:.8rem;background:#f7f7f7;border:1px solid #e3e3e3;padding:.6rem;margin:0;max-height:36rem;overflow:auto}
.meta{color:#555;font-size:.9rem}
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">{{ n }} held-out test cases{% if subtitle %} · {{ subtitle }}{% endif %}</p>

<h2>Results</h2>
<table><tr><th>Metric</th>{% for s in systems %}<th>{{ s }}</th>{% endfor %}</tr>
{% for m, label in metrics %}<tr><td>{{ label }}</td>{% for s in systems %}{% set v = ev.systems[s][m] %}
<td>{% if v.mean is not none %}{{ "%.3f"|format(v.mean) }} <span class="ci">[{{ "%.3f"|format(v.ci_low) }}–{{ "%.3f"|format(v.ci_high) }}]</span>{% else %}–{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="meta">Mean over letters with 95% bootstrap interval. ROUGE F1 with a tokenizer that keeps German words whole.</p>

{{ chart|safe }}

{% if checks %}<h2>Quality bar</h2><table><tr><th>Check</th><th>Target</th><th>Measured</th><th></th></tr>
{% for c in checks %}<tr><td>{{ c.name }}</td><td>{{ c.target }}</td><td>{{ c.value }}</td><td class="{{ 'ok' if c.passed else 'bad' }}">{{ 'pass' if c.passed else 'FAIL' }}</td></tr>{% endfor %}
</table>{% endif %}

{% for sec in extra %}<h2>{{ sec.title }}</h2>{{ sec.html|safe }}{% endfor %}

<h2>Letters side by side</h2>
{% for ex in examples %}<h3>Case {{ loop.index }} <span class="meta">({{ ex.entity }})</span></h3>
<div class="letters"><div><b>Reference</b><pre>{{ ex.reference }}</pre></div>
{% for s in systems %}<div><b>{{ s }}</b> <span class="meta">ROUGE-L {{ "%.2f"|format(ex.scores[s]) }}</span><pre>{{ ex.letters[s] }}</pre></div>{% endfor %}</div>
{% endfor %}
</body></html>
"""


def bar_chart(ev: dict, systems: list[str]) -> str:
    """Grouped bars (one group a metric, one bar a system) with CI whiskers, as inline SVG."""
    w, h, pad_l, pad_b, top = 760, 280, 50, 40, 20
    groups = len(CHART_METRICS)
    gw = (w - pad_l - 20) / groups
    bw = min(48, (gw - 20) / max(1, len(systems)))
    y = lambda v: top + (h - pad_b - top) * (1 - max(0.0, min(1.0, v)))  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 30}" role="img" aria-label="metrics chart">']
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{pad_l}" x2="{w - 20}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{pad_l - 8}" y="{y(t) + 4:.1f}" font-size="11" text-anchor="end">{t:.2f}</text>')
    for gi, m in enumerate(CHART_METRICS):
        x0 = pad_l + gi * gw + (gw - bw * len(systems)) / 2
        for si, s in enumerate(systems):
            v = ev["systems"][s][m]
            if v["mean"] is None:
                continue
            x = x0 + si * bw
            parts.append(f'<rect x="{x:.1f}" y="{y(v["mean"]):.1f}" width="{bw - 4:.1f}" height="{y(0) - y(v["mean"]):.1f}" fill="{COLORS[si % len(COLORS)]}"><title>{s}: {v["mean"]:.3f}</title></rect>')
            cx = x + (bw - 4) / 2
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(v["ci_low"]):.1f}" y2="{y(v["ci_high"]):.1f}" stroke="#222"/>')
        parts.append(f'<text x="{pad_l + gi * gw + gw / 2:.1f}" y="{h - pad_b + 18}" font-size="12" text-anchor="middle">{METRIC_LABELS[m]}</text>')
    for si, s in enumerate(systems):
        parts.append(f'<rect x="{pad_l + si * 130}" y="{h + 8}" width="12" height="12" fill="{COLORS[si % len(COLORS)]}"/>')
        parts.append(f'<text x="{pad_l + si * 130 + 18}" y="{h + 18}" font-size="12">{s}</text>')
    parts.append("</svg>")
    return "".join(parts)


def summary_table(ev: dict):
    """The metrics of every system as a rich table for the terminal."""
    from rich.table import Table

    t = Table(title=f"{ev['n_test_cases']} test cases")
    t.add_column("metric")
    names = list(ev["systems"])
    for n in names:
        t.add_column(n, justify="right")
    for m, label in METRIC_LABELS.items():
        if all(ev["systems"][n].get(m, {}).get("mean") is not None for n in names):
            t.add_row(label, *[f"{ev['systems'][n][m]['mean']:.3f}" for n in names])
    return t


def quality_checks(ev: dict, base: str = "base", tuned: str = "finetuned") -> list[dict]:
    """The issue's quality bar, where both systems are present."""
    s = ev["systems"]
    if base not in s or tuned not in s:
        return []
    b, t = s[base], s[tuned]
    return [
        {"name": "ROUGE-L gain over base", "target": "≥ +0.30", "value": f"{t['rougeL']['mean'] - b['rougeL']['mean']:+.3f}", "passed": t["rougeL"]["mean"] - b["rougeL"]["mean"] >= 0.30},
        {"name": "Letters with all required sections", "target": "≥ 90%", "value": f"{t['all_sections']['mean']:.0%}", "passed": t["all_sections"]["mean"] >= 0.90},
        {"name": "Fact recall", "target": "≥ 0.90", "value": f"{t['fact_recall']['mean']:.3f}", "passed": t["fact_recall"]["mean"] >= 0.90},
        {"name": "Unsupported facts per letter", "target": "≤ 0.3", "value": f"{t['unsupported_facts_per_letter']['mean']:.2f}", "passed": t["unsupported_facts_per_letter"]["mean"] <= 0.3},
    ]


def write_report(
    path: str | Path,
    ev: dict,
    rows: list[dict],
    records: list[Record],
    systems_letters: dict[str, dict[str, str]],
    title: str = "medletter evaluation",
    subtitle: str = "",
    n_examples: int = 3,
    extra: list[dict] | None = None,
) -> Path:
    from medletter.jsonl import atomic_writer

    systems = list(ev["systems"])
    score = {(r["system"], r["case_id"]): r["rougeL"] for r in rows}
    examples = []
    for r in [r for r in records if r.letter is not None][:n_examples]:
        cid = r.case.case_id
        examples.append({
            "entity": r.case.entity or r.case.main_diagnosis.icd10,
            "reference": r.letter.text,
            "letters": {s: systems_letters[s].get(cid, "") for s in systems},
            "scores": {s: score.get((s, cid), 0.0) for s in systems},
        })
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(TEMPLATE).render(
        title=title, subtitle=subtitle, n=ev["n_test_cases"], systems=systems, ev=ev,
        metrics=[(m, METRIC_LABELS[m]) for m in METRIC_LABELS if m in ev["systems"][systems[0]]],
        chart=bar_chart(ev, systems), checks=quality_checks(ev), examples=examples, extra=extra or [],
    )
    with atomic_writer(path) as f:
        f.write(html)
    return Path(path)
