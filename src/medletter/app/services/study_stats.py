"""Results of a rating study: means with bootstrap intervals, distributions, paired differences between
systems, inter-rater agreement (Krippendorff's α, ordinal) and a CSV of every rating.

Intervals resample *cases* (a case's ratings stay together: ratings of one case are not independent);
paired differences compare two systems on the cases both were rated on.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from itertools import combinations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medletter.app.i18n import Msg, format_number
from medletter.app.models import Study, StudyItem, StudyRating, StudySystem, User
from medletter.app.services.studies import SCALE, dimensions

N_BOOT = 2000


def _boot_cases(per_case: list[tuple[float, int]], seed: int) -> tuple[float | None, float | None]:
    """95% percentile interval of the mean over ratings, resampling cases (sum, count per case)."""
    if not per_case:
        return None, None
    sums = np.array([p[0] for p in per_case], dtype=float)
    cnts = np.array([p[1] for p in per_case], dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_case), size=(N_BOOT, len(per_case)))
    means = sums[idx].sum(axis=1) / cnts[idx].sum(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _boot_mean(values: list[float], seed: int) -> tuple[float | None, float | None]:
    return _boot_cases([(v, 1) for v in values], seed)


def krippendorff_alpha(matrix: list[list[float]]) -> float | None:
    """Ordinal α of a raters × units matrix (NaN = not rated) with the ``krippendorff`` package; None
    where it is undefined (fewer than two units, or one value only: no variation to agree on)."""
    import krippendorff

    a = np.asarray(matrix, dtype=float)
    if a.size == 0 or a.shape[1] < 2:
        return None
    vals = a[~np.isnan(a)]
    if len(np.unique(vals)) < 2:
        return None
    try:
        alpha = float(krippendorff.alpha(reliability_data=a, level_of_measurement="ordinal",
                                         value_domain=[float(v) for v in SCALE]))
    except (ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(alpha) else alpha


def _rows(s: Session, study: Study):
    q = (select(StudyRating, StudyItem, StudySystem.name, User.name)
         .join(StudyItem, StudyItem.id == StudyRating.item_id)
         .join(StudySystem, StudySystem.id == StudyItem.system_id)
         .join(User, User.id == StudyRating.rater_id)
         .where(StudyRating.study_id == study.id).order_by(StudyRating.id))
    return s.execute(q).all()


def results(s: Session, study: Study, seed: int = 0, lang: str = "en") -> dict:
    """The study's figures; the layout of ``medletter study results --json``; the dimensions' labels in ``lang``."""
    dims = [d["key"] for d in dimensions(study)]
    systems = list(s.scalars(select(StudySystem.name).where(StudySystem.study_id == study.id).order_by(StudySystem.name)))
    n_items = len(list(s.scalars(select(StudyItem.id).where(StudyItem.study_id == study.id))))
    rows = _rows(s, study)
    # value[dim][system][case] -> list of values ; per item: rater -> value
    by: dict = {d: {sy: defaultdict(list) for sy in systems} for d in dims}
    item_ratings: dict = {d: defaultdict(dict) for d in dims}
    raters = sorted({r[3] for r in rows})
    sign: dict = {sy: {"yes": 0, "no": 0, "unanswered": 0} for sy in systems}
    seconds: dict = {sy: [] for sy in systems}
    for rating, item, sysname, rater in rows:
        sc = json.loads(rating.scores)
        for d in dims:
            if d in sc:
                by[d][sysname][item.case_key].append(float(sc[d]))
                item_ratings[d][item.id][rater] = float(sc[d])
        sign[sysname]["unanswered" if rating.would_sign is None else ("yes" if rating.would_sign else "no")] += 1
        if rating.seconds_spent is not None:
            seconds[sysname].append(rating.seconds_spent)

    out_sys: dict = {sy: {} for sy in systems}
    dist: dict = {sy: {} for sy in systems}
    for di, d in enumerate(dims):
        for si, sy in enumerate(systems):
            cases = by[d][sy]
            vals = [v for vs in cases.values() for v in vs]
            lo, hi = _boot_cases([(sum(vs), len(vs)) for vs in cases.values() if vs], seed + 1000 * di + si)
            out_sys[sy][d] = {"mean": float(np.mean(vals)) if vals else None, "ci_low": lo, "ci_high": hi, "n": len(vals)}
            dist[sy][d] = {p: sum(1 for v in vals if v == float(p)) for p in SCALE}

    pairwise = []
    for a, b in combinations(systems, 2):
        entry = {"a": a, "b": b, "dimensions": {}}
        for di, d in enumerate(dims):
            common = sorted(set(k for k, v in by[d][a].items() if v) & set(k for k, v in by[d][b].items() if v))
            diffs = [float(np.mean(by[d][a][c]) - np.mean(by[d][b][c])) for c in common]
            lo, hi = _boot_mean(diffs, seed + 7919 + di)
            entry["dimensions"][d] = {"mean_diff": float(np.mean(diffs)) if diffs else None, "ci_low": lo, "ci_high": hi,
                                      "n_cases": len(diffs)}
        pairwise.append(entry)

    agreement = {}
    for d in dims:
        rated = item_ratings[d]
        used = [it for it, rs in rated.items() if len(rs) >= 2]
        matrix = [[rated[it].get(r, math.nan) for it in used] for r in raters]
        agreement[d] = {"krippendorff_alpha": krippendorff_alpha(matrix), "n_items": len(used),
                        "n_excluded": len(rated) - len(used)}

    return {
        "study": study.name,
        "n_items": n_items,
        "n_ratings": len(rows),
        "systems": out_sys,
        "agreement": agreement,
        "dimensions": [{"key": x["key"], "label": x["label"]} for x in dimensions(study, lang)],
        "distribution": dist,
        "pairwise": pairwise,
        "would_sign": {sy: {**v, "share_yes": (v["yes"] / (v["yes"] + v["no"])) if v["yes"] + v["no"] else None}
                       for sy, v in sign.items()},
        "median_seconds_per_rating": {sy: (float(np.median(v)) if v else None) for sy, v in seconds.items()},
        "raters": raters,
        "status": study.status,
        "method": "means over ratings; 95% intervals: percentile bootstrap over cases (2000 resamples); pairwise: "
                  "per case, mean of system a minus mean of system b, over cases both were rated on; agreement: "
                  "Krippendorff's alpha (ordinal) over items with at least two ratings (n_excluded: rated items "
                  "with fewer); None where undefined",
    }


def ratings_csv(s: Session, study: Study) -> str:
    """Every rating, one row each (admins only: it names systems and raters)."""
    dims = [d["key"] for d in dimensions(study)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["study", "item_id", "case", "system", "rater", "rated_at", "seconds_spent", *dims, "would_sign", "comment"])
    for rating, item, sysname, rater in _rows(s, study):
        sc = json.loads(rating.scores)
        w.writerow([_cell(study.name), item.public_id, _cell(item.case_key), _cell(sysname), _cell(rater),
                    rating.created_at.isoformat(timespec="seconds") + "Z",
                    "" if rating.seconds_spent is None else f"{rating.seconds_spent:.1f}",
                    *[sc.get(d, "") for d in dims],
                    "" if rating.would_sign is None else ("yes" if rating.would_sign else "no"), _cell(rating.comment)])
    return buf.getvalue()


def _cell(v) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    v = "" if v is None else str(v)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def chart_svg(res: dict, dim: str, lang: str = "en") -> str:
    """One dimension's means (bars, scale 1–4) with their 95% intervals (whiskers), per system, as inline
    SVG (presentation attributes only: the CSP allows no inline styles or scripts); its words in ``lang``."""
    from html import escape

    from markupsafe import Markup

    systems = list(res["systems"])
    left, width, row = 150, 330, 26
    h = row * len(systems) + 30

    def x(v: float) -> float:
        return left + (v - 1.0) / 3.0 * width

    label = next((d["label"] for d in res["dimensions"] if d["key"] == dim), dim)
    none = Msg("no ratings").localize(lang)
    aria = Msg("%(dimension)s: mean per system with 95%% interval", dimension=label).localize(lang)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(aria)}" '
             f'width="{left + width + 60}" height="{h}" viewBox="0 0 {left + width + 60} {h}" xmlns="http://www.w3.org/2000/svg">']
    for tick in (1, 2, 3, 4):
        parts.append(f'<line x1="{x(tick):.1f}" y1="4" x2="{x(tick):.1f}" y2="{h - 22}" stroke="#ccc" stroke-width="1"/>'
                     f'<text x="{x(tick):.1f}" y="{h - 8}" font-size="11" text-anchor="middle" fill="#555">{tick}</text>')
    for i, sy in enumerate(systems):
        v = res["systems"][sy][dim]
        y = 6 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 14}" font-size="12" text-anchor="end" fill="#222">{escape(sy)}</text>')
        if v["mean"] is None:
            parts.append(f'<text x="{left + 4}" y="{y + 14}" font-size="11" fill="#777">{escape(none)}</text>')
            continue
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{x(v["mean"]) - left:.1f}" height="14" fill="#4a78a8"/>')
        if v["ci_low"] is not None:
            parts.append(f'<line x1="{x(v["ci_low"]):.1f}" y1="{y + 10}" x2="{x(v["ci_high"]):.1f}" y2="{y + 10}" '
                         f'stroke="#111" stroke-width="1.5"/>'
                         f'<line x1="{x(v["ci_low"]):.1f}" y1="{y + 5}" x2="{x(v["ci_low"]):.1f}" y2="{y + 15}" stroke="#111"/>'
                         f'<line x1="{x(v["ci_high"]):.1f}" y1="{y + 5}" x2="{x(v["ci_high"]):.1f}" y2="{y + 15}" stroke="#111"/>')
        parts.append(f'<text x="{left + width + 6}" y="{y + 14}" font-size="11" fill="#222">{format_number(v["mean"], lang)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
