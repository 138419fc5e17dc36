"""Parts of the study page that stay readable for hundreds of scenarios: cost against CO2 with the
Pareto front, response curves of a KPI against each swept parameter with intervals, and a table
of the scenarios sortable by any column.

The swept parameters are the override paths of the study, with each scenario's value as its
resolved plant holds it (``parameters`` in ``study.json``, :func:`twin.study_runs.
parameter_values`): hand-written scenarios and generated ones (a sweep) are read the same way.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from twin.dashboard import theme
from twin.dashboard.figures import esc
from twin.dashboard.plot import Figure, trace
from twin.i18n import tr
from twin.study import format_interval

if TYPE_CHECKING:
    from twin.dashboard.study import StudyData

LARGE_STUDY = 24
"""More scenarios than this: the page leaves out the per-scenario bar charts, the scenario list
and the wide KPI table, and draws hourly profiles for the base and a few best scenarios only."""
PROFILE_SCENARIOS = 5
"""Scenarios besides the base whose hourly profiles a large study's page draws (lowest cost)."""
MAX_RESPONSE_PARAMETERS = 6
"""Swept parameters with a response-curve figure at most (the first ones of the study)."""

PARETO_FIGURE_ID = "fig-study-pareto"
RESPONSE_FIGURE_PREFIX = "fig-study-response-"
SORTABLE_TABLE_ID = "study-sortable"
RESPONSE_KPIS = ("cost_total", "co2_total_location_kg", "co2_total_market_kg",
                 "electricity_kwh", "grid_import_kwh", "peak_demand_kw", "units_completed")
"""KPIs a response-curve figure can show (a menu), those the study has."""


def co2_kpi(data: StudyData) -> str:
    """The CO2 KPI the study's economics use (scope 1 + 2, its ``co2_basis``)."""
    return f"co2_total_{data.manifest.get('co2_basis', 'location')}_kg"


def _mean(data: StudyData, s: str, kpi: str) -> tuple[float, float]:
    """(mean, half-width of its interval; NaN without one) of ``kpi`` for scenario ``s``."""
    r = data.row(s, kpi)
    if r is None:
        return math.nan, math.nan
    m, hi = float(r["mean"]), float(r["ci_high"])
    return m, hi - m if math.isfinite(hi) else math.nan


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """The scenarios no other scenario beats on both objectives (both minimised): no other has a
    lower or equal value in both and a lower one in at least one. Ordered by the first
    objective. NaN points are left out."""
    items = sorted(((x, y, s) for s, (x, y) in points.items()
                    if math.isfinite(x) and math.isfinite(y)), key=lambda t: (t[0], t[1]))
    front: list[str] = []
    best_y = math.inf
    for _, y, s in items:
        if y < best_y:
            front.append(s)
            best_y = y
    return front


def pareto_chart(data: StudyData) -> Figure:
    """Mean total energy cost (x) against mean CO2 (y) of every scenario, error bars = 95 %
    intervals, the Pareto front joined by a line and the base marked."""
    co2 = co2_kpi(data)
    pts = {s: (_mean(data, s, "cost_total")[0], _mean(data, s, co2)[0]) for s in data.names}
    front = pareto_front(pts)
    names = data.names
    cx = [_mean(data, s, "cost_total") for s in names]
    cy = [_mean(data, s, co2) for s in names]

    def err(v: list[tuple[float, float]]) -> dict[str, Any]:
        arr = [h if math.isfinite(h) else 0.0 for _, h in v]
        return {"type": "data", "array": arr, "visible": any(arr), "color": theme.GRID,
                "thickness": 1, "width": 0}

    hover = [f"{esc(s)}<br>cost %{{x:,.0f}} {esc(data.currency)}<br>CO₂ %{{y:,.0f}} kg"
             for s in names]
    traces = [
        trace("scatter", x=[m for m, _ in cx], y=[m for m, _ in cy], mode="markers",
              name=tr("scenario"), marker={"color": theme.SCENARIO_PALETTE[0], "size": 6,
                                           "opacity": 0.75},
              error_x=err(cx), error_y=err(cy), text=[esc(s) for s in names],
              hovertemplate=[h + "<extra></extra>" for h in hover]),
        trace("scatter", x=[pts[s][0] for s in front], y=[pts[s][1] for s in front],
              mode="lines+markers", name=tr("Pareto front"), text=[esc(s) for s in front],
              line={"color": theme.BASE_SCENARIO_COLOR, "width": 2, "shape": "hv"},
              marker={"size": 9, "symbol": "diamond"},
              hovertemplate="%{text} (" + tr("Pareto front") + ")<extra></extra>"),
    ]
    if data.base in pts:
        traces.append(trace("scatter", x=[pts[data.base][0]], y=[pts[data.base][1]],
                            mode="markers", name=tr("base: {x}", x=esc(data.base)),
                            marker={"size": 13, "symbol": "star", "color": theme.TEXT},
                            hovertemplate=f"{esc(data.base)} (base)<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        460, legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 80, "r": 30, "t": 40, "b": 60},
        xaxis={"title": {"text": tr("Total energy cost [{cur}]", cur=esc(data.currency))},
               "gridcolor": theme.GRID, "tickformat": ","},
        yaxis={"title": {"text": tr("CO₂ scope 1 + 2 [kg]")}, "gridcolor": theme.GRID,
               "tickformat": ","}))


def parameters(data: StudyData) -> dict[str, dict[str, Any]]:
    """Scenario -> override path -> value (``study.json``'s ``parameters``; empty in older
    study folders)."""
    return data.manifest.get("parameters") or {}


def swept(data: StudyData) -> list[str]:
    """Override paths with numbers in every scenario and at least two distinct values."""
    params = parameters(data)
    paths = list(dict.fromkeys(p for row in params.values() for p in row))
    out = []
    for p in paths:
        vals = [params.get(s, {}).get(p) for s in data.names]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) \
                and len(set(vals)) >= 2:
            out.append(p)
    return out


def response_chart(data: StudyData, path: str) -> Figure:
    """Mean of a KPI (menu) against the swept parameter ``path``, error bars = 95 % intervals:
    one line per combination of the other parameters' values."""
    params = parameters(data)
    others = [p for p in params.get(data.base, {}) if p != path]
    groups: dict[str, list[str]] = {}
    for s in data.names:
        row = params.get(s, {})
        label = ", ".join(f"{p}={json.dumps(row.get(p))}" for p in others) or path
        groups.setdefault(label, []).append(s)
    kpis = [k for k in RESPONSE_KPIS if data.row(data.base, k) is not None]
    traces, ys = [], {k: [] for k in kpis}
    for i, (label, members) in enumerate(groups.items()):
        members.sort(key=lambda s: params[s][path])
        for k in kpis:
            vals = [_mean(data, s, k) for s in members]
            ys[k].append(([m for m, _ in vals],
                          [h if math.isfinite(h) else 0.0 for _, h in vals]))
        y, e = ys[kpis[0]][-1]
        traces.append(trace(
            "scatter", x=[params[s][path] for s in members], y=y, mode="lines+markers",
            name=esc(label), text=[esc(s) for s in members], showlegend=len(groups) <= 12,
            line={"color": theme.SCENARIO_PALETTE[i % len(theme.SCENARIO_PALETTE)],
                  "width": 1.5},
            error_y={"type": "data", "array": e, "visible": any(e), "thickness": 1,
                     "width": 3},
            hovertemplate="%{text}: %{y:,.4g}<extra></extra>"))
    buttons = [{"label": esc(_label(data, k)), "method": "update",
                "args": [{"y": [y for y, _ in ys[k]],
                          "error_y": [{"type": "data", "array": e, "visible": any(e),
                                       "thickness": 1, "width": 3} for _, e in ys[k]]},
                         {"yaxis.title.text": esc(_label(data, k))}]} for k in kpis]
    return Figure(data=traces, layout=theme.base_layout(
        400, margin={"l": 80, "r": 30, "t": 60, "b": 60},
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left",
                      "y": 1.12, "yanchor": "bottom", "showactive": True}] if len(kpis) > 1
        else None,
        legend={"orientation": "v", "x": 1.02, "y": 1},
        xaxis={"title": {"text": esc(path)}, "gridcolor": theme.GRID},
        yaxis={"title": {"text": esc(_label(data, kpis[0]))}, "gridcolor": theme.GRID,
               "tickformat": ","}))


def _label(data: StudyData, kpi: str) -> str:
    from twin.dashboard.study import _label_unit

    label, unit = _label_unit(data, kpi)
    return f"{label} [{unit}]"


TABLE_KPIS = ("cost_total", "co2_total_location_kg", "co2_total_market_kg", "electricity_kwh",
              "grid_import_kwh", "peak_demand_kw", "units_completed")
"""KPI columns of the sortable table (means ± 95 % half-width; those the study has)."""

SORT_SCRIPT = """<script>
(function(){var t=document.getElementById('TABLE_ID');if(!t)return;
t.querySelectorAll('th').forEach(function(th,i){th.style.cursor='pointer';
th.addEventListener('click',function(){var b=t.tBodies[0],r=[].slice.call(b.rows),
d=th.dataset.dir==='asc'?-1:1;th.dataset.dir=d>0?'asc':'desc';
r.sort(function(a,c){var x=a.cells[i].dataset.v,y=c.cells[i].dataset.v,
nx=parseFloat(x),ny=parseFloat(y);if(!isNaN(nx)&&!isNaN(ny))return d*(nx-ny);
return d*String(x).localeCompare(String(y));});r.forEach(function(x){b.appendChild(x);});});});
})();</script>""".replace("TABLE_ID", SORTABLE_TABLE_ID)


def sortable_table(data: StudyData) -> str:
    """One row per scenario: its parameter values, the means of :data:`TABLE_KPIS` with their
    intervals, and whether it is on the cost-CO2 Pareto front; click a heading to sort."""
    params = parameters(data)
    paths = list(dict.fromkeys(p for row in params.values() for p in row))
    kpis = [k for k in TABLE_KPIS if data.row(data.base, k) is not None]
    co2 = co2_kpi(data)
    front = set(pareto_front({s: (_mean(data, s, "cost_total")[0], _mean(data, s, co2)[0])
                              for s in data.names}))
    head = ("<thead><tr><th>" + tr("Scenario") + "</th>"
            + "".join(f"<th><code>{esc(p)}</code></th>" for p in paths)
            + "".join(f"<th>{esc(_label(data, k))}</th>" for k in kpis)
            + "<th>" + tr("Pareto") + "</th></tr></thead>")
    rows = []
    for s in data.names:
        cells = [f'<td data-v="{esc(s)}">{esc(s)}{" *" if s == data.base else ""}</td>']
        for p in paths:
            v = params.get(s, {}).get(p)
            text = "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
            cells.append(f'<td data-v="{esc(text)}">{esc(text)}</td>')
        for k in kpis:
            r = data.row(s, k)
            m = float(r["mean"])
            unit = str(r["unit"])
            text = format_interval(m, float(r["ci_low"]), unit, int(r["n"]))
            cells.append(f'<td data-v="{m!r}">{esc(text)}</td>')
        on = s in front
        cells.append(f'<td data-v="{int(on)}">{"✓" if on else ""}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div style="overflow:auto;max-height:640px"><table class="stations" '
            f'id="{SORTABLE_TABLE_ID}">{head}<tbody>{"".join(rows)}</tbody></table></div>'
            + SORT_SCRIPT)
