"""The admin page of correction effort: per model/run, per week, and a chart of the share kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from medletter.app.deps import DB, PageUser
from medletter.app.i18n import Msg, format_percent
from medletter.app.routes.pages import render, ui_lang
from medletter.app.services import effort

router = APIRouter(include_in_schema=False)

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#4b5563")


@dataclass
class Series:
    model: str
    color: str
    points: list[tuple[float, float, str]] = field(default_factory=list)
    """(x, y, tooltip) in SVG units."""

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass
class Chart:
    """Geometry of the server-rendered SVG line chart (presentation attributes only: the CSP allows no inline style)."""

    width: int = 720
    height: int = 260
    left: int = 48
    right: int = 180
    top: int = 12
    bottom: int = 40
    series: list[Series] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def share_chart(weeks: list[dict], max_labels: int = 8, lang: str = "en") -> Chart:
    """Mean share of draft words kept per ISO week, one line per model/run; its words in ``lang``."""
    c = Chart()
    names = sorted({w["week"] for w in weeks})
    span_x, span_y = c.plot_right - c.left, c.plot_bottom - c.top
    xs = {n: c.left + (span_x * i / (len(names) - 1) if len(names) > 1 else span_x / 2) for i, n in enumerate(names)}
    step = max(1, -(-len(names) // max_labels))
    c.x_labels = [(xs[n], n) for n in names[::step]]
    c.y_ticks = [(c.top + span_y * (1 - v), format_percent(v, lang, 0)) for v in (0, 0.25, 0.5, 0.75, 1)]
    by_model: dict[str, Series] = {}
    for w in weeks:
        if w["share_kept_mean"] is None:
            continue
        if w["model"] not in by_model:
            by_model[w["model"]] = Series(w["model"], PALETTE[len(by_model) % len(PALETTE)])
        y = c.top + span_y * (1 - w["share_kept_mean"])
        tip = Msg("%(model)s %(week)s: %(share)s kept, %(letters)s letter(s)", model=w["model"], week=w["week"],
                  share=format_percent(w["share_kept_mean"], lang), letters=w["letters"]).localize(lang)
        by_model[w["model"]].points.append((xs[w["week"]], y, tip))
    c.series = list(by_model.values())
    return c


@router.get("/admin/stats", response_class=HTMLResponse)
def stats_page(request: Request, s: DB, user: PageUser) -> HTMLResponse:
    user.require("admin")
    rep = effort.report(s, user)
    return render(request, "stats.html", user, rep=rep, chart=share_chart(rep["weeks"], lang=ui_lang(request, user)))
